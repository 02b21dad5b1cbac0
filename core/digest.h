// SHA-256 as lower-case hex: migration checksums, request digests.
#ifndef SHOP_CORE_DIGEST_H_
#define SHOP_CORE_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shop {

std::string Sha256Hex(absl::string_view bytes);

}  // namespace shop

#endif  // SHOP_CORE_DIGEST_H_

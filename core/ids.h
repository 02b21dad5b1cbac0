// Random identifiers from OpenSSL's CSPRNG.
#ifndef SHOP_CORE_IDS_H_
#define SHOP_CORE_IDS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shop {

// "<prefix>_" followed by 26 lower-case base32 characters (130 random bits).
std::string NewId(absl::string_view prefix);
// An RFC 4122 version 4 UUID in its canonical text form.
std::string NewUuid();
// An RFC 9562 version 7 UUID in its canonical text form: 48 bits of Unix
// milliseconds, then 74 random bits. Ids made later sort later (to the
// millisecond), so a B-tree that indexes them grows at its right edge
// instead of touching a random page per insert: the audit log's event ids.
std::string NewTimeOrderedUuid();
// `bytes` random bytes as lower-case hex.
std::string RandomHex(size_t bytes);

}  // namespace shop

#endif  // SHOP_CORE_IDS_H_

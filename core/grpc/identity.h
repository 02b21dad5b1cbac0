// Workload identities: SPIFFE ids read from verified peer certificates.
#ifndef SHOP_CORE_IDENTITY_H_
#define SHOP_CORE_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "core/spiffe.h"  // IWYU pragma: export

namespace grpc {
class ServerContextBase;
}

namespace shop {

// The SPIFFE id in the verified client certificate of this call, or "" when
// there is none (which mTLS servers never let through).
std::string PeerSpiffeId(const grpc::ServerContextBase& ctx);

}  // namespace shop

#endif  // SHOP_CORE_IDENTITY_H_

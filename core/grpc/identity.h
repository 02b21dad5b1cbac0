// Workload identities: SPIFFE ids read from verified peer certificates.
#ifndef SHOP_CORE_IDENTITY_H_
#define SHOP_CORE_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace grpc {
class ServerContextBase;
}

namespace shop {

inline constexpr char kTrustDomain[] = "shop.local";

// "spiffe://shop.local/ns/shop/sa/<service_account>".
std::string SpiffeIdFor(absl::string_view service_account);

// The SPIFFE id in the verified client certificate of this call, or "" when
// there is none (which mTLS servers never let through).
std::string PeerSpiffeId(const grpc::ServerContextBase& ctx);

}  // namespace shop

#endif  // SHOP_CORE_IDENTITY_H_

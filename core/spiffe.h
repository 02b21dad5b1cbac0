// SPIFFE ids of the mesh's workloads, as plain strings: what domain code may
// know of identities (core/grpc/identity.h reads them from certificates).
#ifndef SHOP_CORE_SPIFFE_H_
#define SHOP_CORE_SPIFFE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shop {

inline constexpr char kTrustDomain[] = "shop.local";
// Every workload identity of the mesh starts with this.
inline constexpr char kWorkloadIdPrefix[] = "spiffe://shop.local/ns/shop/sa/";

// "spiffe://shop.local/ns/shop/sa/<service_account>".
std::string SpiffeIdFor(absl::string_view service_account);

// The service account named by a workload id of this trust domain ("ops" for
// "spiffe://shop.local/ns/shop/sa/ops"); nullopt for anything else (another
// trust domain or namespace, a path with more segments, an empty name).
std::optional<std::string> ServiceAccountOf(absl::string_view spiffe_id);

}  // namespace shop

#endif  // SHOP_CORE_SPIFFE_H_

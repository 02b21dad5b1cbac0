// Who an edge call acts for: the subject of a verified end-user JWT, or the
// x-shop-customer-id header from an internal tool trusted to assert it.
#ifndef SHOP_SERVICES_ECP_END_USER_H_
#define SHOP_SERVICES_ECP_END_USER_H_

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/jwt.h"

namespace shop::ecp {

struct EndUser {
  std::string customer_id;
  bool staff = false;
};

// What a call brings: its Authorization and x-shop-customer-id metadata and
// the caller's SPIFFE id (from mTLS).
struct CallCredentials {
  absl::string_view authorization;
  absl::string_view customer_header;
  absl::string_view caller;
};

class EndUserAuthenticator {
 public:
  // `jwks` null: tokens are refused (only trusted callers' headers work).
  // `header_callers`: SPIFFE ids whose x-shop-customer-id is believed (tools
  // such as shopctl; never the public bridge, which strips the header).
  EndUserAuthenticator(std::unique_ptr<JwksFile> jwks, JwtPolicy policy,
                       std::set<std::string> header_callers);

  // A Bearer token wins when present: it is verified (UNAUTHENTICATED with
  // the reason when it does not verify). Without one, the header counts only
  // from a trusted caller. UNAUTHENTICATED when nobody is named.
  absl::StatusOr<EndUser> Authenticate(const CallCredentials& call, absl::Time now) const;

 private:
  std::unique_ptr<JwksFile> jwks_;
  JwtPolicy policy_;
  std::set<std::string> header_callers_;
};

}  // namespace shop::ecp

#endif  // SHOP_SERVICES_ECP_END_USER_H_

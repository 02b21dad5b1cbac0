#include "services/ecp/end_user.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/status.h"
#include "core/validation.h"

namespace shop::ecp {

EndUserAuthenticator::EndUserAuthenticator(std::unique_ptr<JwksFile> jwks, JwtPolicy policy,
                                           std::set<std::string> header_callers)
    : jwks_(std::move(jwks)),
      policy_(std::move(policy)),
      header_callers_(std::move(header_callers)) {}

absl::StatusOr<EndUser> EndUserAuthenticator::Authenticate(const CallCredentials& call,
                                                           absl::Time now) const {
  if (!call.authorization.empty()) {
    absl::string_view value = absl::StripAsciiWhitespace(call.authorization);
    if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
      return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                             "the Authorization header must be \"Bearer <token>\"", kJwtMalformed);
    }
    if (jwks_ == nullptr) {
      return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                             "end-user tokens are not accepted here (no JWKS configured)",
                             kJwtUnknownKey);
    }
    absl::string_view token = absl::StripAsciiWhitespace(value.substr(7));
    SHOP_ASSIGN_OR_RETURN(JwtClaims claims, VerifyJwt(token, *jwks_->keys(), policy_, now));
    return EndUser{claims.subject, claims.HasRole("staff")};
  }
  if (!call.customer_header.empty() && header_callers_.count(std::string(call.caller)) > 0) {
    if (!IsValidId(call.customer_header)) {
      return absl::InvalidArgumentError("x-shop-customer-id must be 1-128 printable characters");
    }
    return EndUser{std::string(call.customer_header), false};
  }
  return ErrorWithReason(absl::StatusCode::kUnauthenticated,
                         "sign in first: send Authorization: Bearer <token>",
                         shop::v1::NOT_SIGNED_IN);
}

}  // namespace shop::ecp

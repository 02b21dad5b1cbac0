#include "core/grpc/identity.h"

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shop {

std::string PeerSpiffeId(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  for (const auto& san : auth->FindPropertyValues("x509_subject_alternative_name")) {
    std::string value(san.data(), san.size());
    if (absl::StartsWith(value, "spiffe://")) return value;
  }
  return "";
}

}  // namespace shop

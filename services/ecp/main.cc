// ecp: the E-commerce Platform edge server.
#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/grpc/service_main.h"
#include "core/jwt.h"
#include "core/log.h"
#include "ecp_policy.h"
#include "services/ecp/clients.h"
#include "services/ecp/ecp_grpc.h"
#include "services/ecp/storefront.h"

ABSL_FLAG(std::string, ops_addr, "", "Address of the order processing service (host:port).");
ABSL_FLAG(std::string, ims_addr, "", "Address of the inventory service (host:port).");
ABSL_FLAG(std::string, jwks_file, "",
          "JWKS of the identity provider that signs end-user tokens (RS256/ES256); reloaded "
          "when it changes. Empty: no end-user tokens (only trusted tools' header).");
ABSL_FLAG(std::string, jwt_issuer, "https://id.shopmesh.local",
          "Required `iss` of end-user tokens.");
ABSL_FLAG(std::string, jwt_audience, "shopmesh", "Required `aud` of end-user tokens.");
ABSL_FLAG(std::vector<std::string>, header_callers,
          std::vector<std::string>({"spiffe://shop.local/ns/shop/sa/shopctl"}),
          "Workloads whose x-shop-customer-id header names the end user: the support tool "
          "only (never the public JSON bridge, whose callers prove who they are with a JWT).");

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "ecp", "ecp: customer-facing edge service of shopmesh");
  shop::ServiceRuntime runtime = shop::PrepareService("ecp", shop::ecp::DefaultAuthzPolicy());
  if (auto s = shop::RequireFlags({"ops_addr", "ims_addr"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto ops_channel = shop::MakeChannel(absl::GetFlag(FLAGS_ops_addr), "ops", runtime.server.tls);
  if (!ops_channel.ok()) shop::ExitOnStartupError("bad --ops_addr", ops_channel.status());
  auto ims_channel = shop::MakeChannel(absl::GetFlag(FLAGS_ims_addr), "ims", runtime.server.tls);
  if (!ims_channel.ok()) shop::ExitOnStartupError("bad --ims_addr", ims_channel.status());
  shop::ecp::GrpcOrdersClient orders(*ops_channel);
  shop::ecp::GrpcCatalogClient catalog(*ims_channel);
  shop::ecp::Storefront storefront(&orders, &catalog);
  std::unique_ptr<shop::JwksFile> jwks;
  if (const std::string path = absl::GetFlag(FLAGS_jwks_file); !path.empty()) {
    auto opened = shop::JwksFile::Open(path);
    if (!opened.ok()) shop::ExitOnStartupError("bad --jwks_file", opened.status());
    jwks = std::move(*opened);
  } else {
    shop::log::Warn("no --jwks_file: end-user tokens are refused", {});
  }
  const std::vector<std::string> callers = absl::GetFlag(FLAGS_header_callers);
  shop::ecp::EndUserAuthenticator users(
      std::move(jwks),
      shop::JwtPolicy{absl::GetFlag(FLAGS_jwt_issuer), absl::GetFlag(FLAGS_jwt_audience)},
      std::set<std::string>(callers.begin(), callers.end()));
  shop::ecp::CustomerGrpcService customers(&storefront, &users);
  shop::ecp::FulfilmentGrpcService fulfilment(&storefront, &users);
  shop::ServeUntilSignal(runtime, {&customers, &fulfilment});
  return 0;
}

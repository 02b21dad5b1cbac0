// ecp: the E-commerce Platform edge server.
#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/service_main.h"
#include "services/ecp/backends.h"
#include "services/ecp/ecp_grpc.h"
#include "services/ecp/storefront.h"

ABSL_FLAG(std::string, ops_addr, "", "Address of the order processing service (host:port).");
ABSL_FLAG(std::string, ims_addr, "", "Address of the inventory service (host:port).");

namespace shop::ecp {
absl::string_view DefaultAuthzPolicy();
}

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "ecp", "ecp: customer-facing edge service of shopmesh");
  shop::ServiceRuntime runtime = shop::PrepareService("ecp", shop::ecp::DefaultAuthzPolicy());
  if (auto s = shop::RequireFlags({"ops_addr", "ims_addr"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto ops_channel = shop::MakeChannel(absl::GetFlag(FLAGS_ops_addr), runtime.server.tls);
  if (!ops_channel.ok()) shop::ExitOnStartupError("bad --ops_addr", ops_channel.status());
  auto ims_channel = shop::MakeChannel(absl::GetFlag(FLAGS_ims_addr), runtime.server.tls);
  if (!ims_channel.ok()) shop::ExitOnStartupError("bad --ims_addr", ims_channel.status());
  shop::ecp::GrpcOrdersBackend orders(*ops_channel);
  shop::ecp::GrpcCatalogBackend catalog(*ims_channel);
  shop::ecp::Storefront storefront(&orders, &catalog);
  shop::ecp::CustomerGrpcService service(&storefront);
  shop::ServeUntilSignal(runtime, {&service});
  return 0;
}

// mTLS and start-up checks: who may connect, who may call what, and how a
// misconfigured service fails.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/trace.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "shop/v1/ims.grpc.pb.h"
#include "tests/harness.h"

namespace shop::testing {
namespace {

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(mesh_.ok()) << mesh_.error(); }

  grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&ctx, {}, &response);
  }

  Mesh& mesh_ = SharedMesh();
};

TEST_F(SecurityTest, MeshClientWithCertificateIsServed) {
  for (const char* service : {"ecp", "ops", "ims", "pg-adapter", "logging"}) {
    EXPECT_TRUE(CheckHealth(mesh_.Channel(service)).ok()) << service;
  }
}

TEST_F(SecurityTest, PlaintextClientIsRefused) {
  auto channel = grpc::CreateChannel(mesh_.address("ecp"), grpc::InsecureChannelCredentials());
  EXPECT_EQ(CheckHealth(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, ClientWithoutCertificateIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(mesh_.pki() + "/ca.crt");
  auto channel = grpc::CreateChannel(mesh_.address("ecp"), grpc::SslCredentials(options));
  EXPECT_EQ(CheckHealth(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, ClientFromAnotherCaIsRefused) {
  const std::string rogue = mesh_.root() + "/rogue-pki";
  ASSERT_TRUE(RunCommand(absl::StrCat(SourceDir(), "/scripts/dev-pki ", rogue, " >/dev/null")));
  grpc::SslCredentialsOptions options;
  // It trusts the real CA (so only our side can refuse) but presents a
  // certificate of a CA the mesh does not know.
  options.pem_root_certs = ReadFile(mesh_.pki() + "/ca.crt");
  options.pem_cert_chain = ReadFile(rogue + "/shopctl.crt");
  options.pem_private_key = ReadFile(rogue + "/shopctl.key");
  auto channel = grpc::CreateChannel(mesh_.address("ecp"), grpc::SslCredentials(options));
  EXPECT_EQ(CheckHealth(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, ServerFromAnotherCaIsNotTrusted) {
  const std::string rogue = mesh_.root() + "/rogue-pki-2";
  ASSERT_TRUE(RunCommand(absl::StrCat(SourceDir(), "/scripts/dev-pki ", rogue, " >/dev/null")));
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(rogue + "/ca.crt");
  options.pem_cert_chain = ReadFile(mesh_.pki() + "/shopctl.crt");
  options.pem_private_key = ReadFile(mesh_.pki() + "/shopctl.key");
  auto channel = grpc::CreateChannel(mesh_.address("ecp"), grpc::SslCredentials(options));
  EXPECT_EQ(CheckHealth(channel).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, PolicyRefusesCallersOutsideTheirRole) {
  // shopctl may read stock but not reserve it; only ops may.
  auto ims = shop::v1::InventoryService::NewStub(mesh_.Channel("ims", "shopctl"));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  shop::v1::ReserveRequest request;
  request.set_order_id("ord_x");
  auto* line = request.add_lines();
  line->set_sku("MUG-CLASSIC");
  line->set_quantity(1);
  shop::v1::ReserveResponse response;
  grpc::Status status = ims->Reserve(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Nor may one service impersonate the edge's clients.
  auto ecp = shop::v1::CustomerService::NewStub(mesh_.Channel("ecp", "ims"));
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ctx2.AddMetadata(kCustomerHeader, "cust_1");
  ctx2.AddMetadata(kAuthzHeader, kAuthzAllow);  // a forged verdict is dropped
  shop::v1::ListOrdersResponse orders;
  EXPECT_EQ(ecp->ListOrders(&ctx2, {}, &orders).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SecurityTest, WrongDatabaseUrlExitsWithAClearMessage) {
  const int closed_port = FreePort();
  auto ims =
      mesh_.Launch("ims",
                   {absl::StrCat("--db_url=postgresql://ims@127.0.0.1:", closed_port, "/ims"),
                    "--listen=127.0.0.1:0"},
                   "ims-wrong-db");
  auto status = ims->WaitExit(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "ims kept running with a wrong database URL";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 1);
  std::string log = ims->Log();
  EXPECT_NE(log.find("database unavailable: cannot connect to PostgreSQL at "
                     "postgresql://ims@127.0.0.1:"),
            std::string::npos)
      << log;
}

TEST_F(SecurityTest, WrongCertificateExitsWithAClearMessage) {
  // ims presenting ops's key with its own certificate.
  auto ims = mesh_.Launch("ims", {"--tls_key=" + mesh_.pki() + "/ops.key", "--listen=127.0.0.1:0"},
                          "ims-wrong-key");
  auto status = ims->WaitExit(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 1);
  EXPECT_NE(ims->Log().find("does not match certificate"), std::string::npos) << ims->Log();
}

TEST_F(SecurityTest, MissingConfigurationIsNamed) {
  std::vector<std::string> argv = {BuildDir() + "/services/ops/ops"};
  Process ops("ops-no-config", argv, mesh_.root() + "/logs/ops-no-config.log");
  auto status = ops.WaitExit(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 1);
  EXPECT_NE(ops.Log().find("missing required configuration: --tls_ca (or SHOP_TLS_CA)"),
            std::string::npos)
      << ops.Log();
}

TEST_F(SecurityTest, SigtermDrainsAndExitsCleanly) {
  auto ims = mesh_.Launch(
      "ims", {"--listen=127.0.0.1:0", "--port_file=" + mesh_.root() + "/ims2.port"}, "ims-sigterm");
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(mesh_.root() + "/ims2.port").empty(); },
                      std::chrono::seconds(30)))
      << ims->Log();
  ims->Signal(SIGTERM);
  auto status = ims->WaitExit(std::chrono::seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status)) << ims->Log();
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_NE(ims->Log().find("\"msg\":\"draining\",\"signal\":\"SIGTERM\""), std::string::npos);
}

}  // namespace
}  // namespace shop::testing

// mTLS and start-up checks: who may connect, who may call what, and how a
// misconfigured service fails.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/grpc/tls.h"
#include "core/trace.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "shop/v1/ims.grpc.pb.h"
#include "tests/client.h"
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

// A gRPC server on a free loopback port presenting `name`'s certificate of the
// mesh's own CA, serving only health.
std::unique_ptr<grpc::Server> ServeAs(const Mesh& mesh, const std::string& name, int* port) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ReadFile(mesh.pki() + "/ca.crt");
  options.pem_key_cert_pairs.push_back(
      {ReadFile(mesh.pki() + "/" + name + ".key"), ReadFile(mesh.pki() + "/" + name + ".crt")});
  grpc::EnableDefaultHealthCheckService(true);
  // A sync service (every method unimplemented) so that the health service
  // is served.
  static auto* placeholder = new shop::v1::InventoryService::Service();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), port);
  builder.RegisterService(placeholder);
  return builder.BuildAndStart();
}

// Security review #8: any mesh key could answer as any service (a fake
// pg-adapter confirming payments). The client now checks the server's
// SPIFFE id, not only that the CA signed it.
TEST_F(SecurityTest, AServerWithAnotherMeshIdentityIsRefused) {
  for (const char* impostor : {"ims", "shopctl", "logging"}) {
    int port = 0;
    auto server = ServeAs(mesh_, impostor, &port);
    ASSERT_NE(server, nullptr) << impostor;
    const std::string address = absl::StrCat("127.0.0.1:", port);
    auto as_pg_adapter = MakeChannel(address, "pg-adapter", mesh_.Identity("ops"));
    ASSERT_TRUE(as_pg_adapter.ok());
    EXPECT_EQ(CheckHealth(*as_pg_adapter).error_code(), grpc::StatusCode::UNAVAILABLE) << impostor;
    if (std::string(impostor) != "shopctl") {
      // The same server is accepted by a channel that expects it: what
      // refused it above is its identity, nothing else.
      auto as_itself = MakeChannel(address, impostor, mesh_.Identity("ops"));
      ASSERT_TRUE(as_itself.ok());
      EXPECT_TRUE(CheckHealth(*as_itself).ok()) << impostor;
    }
    server->Shutdown();
  }
}

TEST(ServerIdentityTest, TheRefusalNamesBothIds) {
  absl::Status refused = CheckServerIdentity("spiffe://shop.local/ns/shop/sa/pg-adapter",
                                             {"spiffe://shop.local/ns/shop/sa/shopctl"});
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.message().find("sa/pg-adapter"), absl::string_view::npos);
  EXPECT_NE(refused.message().find("sa/shopctl"), absl::string_view::npos);
  EXPECT_FALSE(CheckServerIdentity("spiffe://shop.local/ns/shop/sa/ims", {}).ok());
  EXPECT_FALSE(CheckServerIdentity(
                   "spiffe://shop.local/ns/shop/sa/ims",
                   {"spiffe://shop.local/ns/shop/sa/ims", "spiffe://shop.local/ns/shop/sa/ops"})
                   .ok());
  EXPECT_TRUE(CheckServerIdentity("spiffe://shop.local/ns/shop/sa/ims",
                                  {"spiffe://shop.local/ns/shop/sa/ims"})
                  .ok());
}

// A client tool's certificate cannot serve: the server refuses to start.
TEST_F(SecurityTest, AClientCertificateCannotServe) {
  auto ims = mesh_.Launch("ims",
                          {"--tls_cert=" + mesh_.pki() + "/shopctl.crt",
                           "--tls_key=" + mesh_.pki() + "/shopctl.key", "--listen=127.0.0.1:0"},
                          "ims-client-cert");
  auto status = ims->WaitExit(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 1);
  EXPECT_NE(ims->Log().find("lacks the serverAuth usage"), std::string::npos) << ims->Log();
}

// The serial number of the certificate the service at `address` presents.
std::string PresentedSerial(const Mesh& mesh, const std::string& address) {
  const std::string out = mesh.root() + "/presented-serial";
  RunCommand(absl::StrCat("openssl s_client -connect ", address, " -alpn h2 -cert ", mesh.pki(),
                          "/sre.crt -key ", mesh.pki(), "/sre.key -CAfile ", mesh.pki(),
                          "/ca.crt </dev/null 2>/dev/null | openssl x509 -noout -serial > ", out,
                          " 2>/dev/null"));
  return ReadFile(out);
}

std::string FileSerial(const std::string& cert) {
  const std::string out = cert + ".serial";
  RunCommand(absl::StrCat("openssl x509 -noout -serial -in ", cert, " > ", out));
  return ReadFile(out);
}

// cert-manager rotates certificates every hour or less: every service must
// pick up new files without a restart, and orders keep flowing meanwhile.
TEST_F(SecurityTest, ZRotatedCertificatesAreServedWithoutARestartWhileOrdersFlow) {
  auto ecp = shop::v1::CustomerService::NewStub(mesh_.Channel("ecp"));
  const std::string sku = CreateSku(mesh_, 1000);
  const std::string card = Tokenize(mesh_, "4242424242424242");
  std::atomic<bool> stop{false};
  std::atomic<int> confirmed{0};
  std::vector<std::string> failures;
  std::thread orders([&] {
    while (!stop) {
      grpc::ClientContext ctx;
      PrepareCall(ctx, "rotation-customer", "", 30);
      shop::v1::PlaceOrderResponse response;
      grpc::Status status = ecp->PlaceOrder(&ctx, MakeOrder({{sku, 1}}, card), &response);
      if (status.ok() && response.order().status() == shop::v1::ORDER_STATUS_CONFIRMED) {
        ++confirmed;
      } else {
        failures.push_back(status.error_message());
      }
    }
  });
  ASSERT_TRUE(WaitFor([&] { return confirmed > 0; }, std::chrono::seconds(30)));
  const std::map<std::string, pid_t> pids_before = mesh_.pids();
  const std::string old_serial = PresentedSerial(mesh_, mesh_.address("ims"));
  ASSERT_NE(old_serial, "");
  ASSERT_TRUE(mesh_.RotateCertificates());
  const int confirmed_at_rotation = confirmed;
  for (const char* service : {"ecp", "ops", "ims", "pg-adapter", "logging"}) {
    const std::string expected = FileSerial(mesh_.live_tls_dir() + "/" + service + ".crt");
    ASSERT_NE(expected, "");
    EXPECT_TRUE(WaitFor([&] { return PresentedSerial(mesh_, mesh_.address(service)) == expected; },
                        std::chrono::seconds(30)))
        << service << " still presents " << PresentedSerial(mesh_, mesh_.address(service))
        << " instead of " << expected;
  }
  EXPECT_NE(PresentedSerial(mesh_, mesh_.address("ims")), old_serial);
  // Orders placed after every service serves its new certificate.
  EXPECT_TRUE(
      WaitFor([&] { return confirmed >= confirmed_at_rotation + 5; }, std::chrono::seconds(60)));
  stop = true;
  orders.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " orders failed, first: " << failures[0];
  EXPECT_EQ(mesh_.pids(), pids_before) << "no service was restarted";
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

// Whether the server at `address` answers gRPC reflection: one empty request
// on the bidirectional stream, through a generic stub.
bool AnswersReflection(const std::string& address, const Mesh& mesh, grpc::Status* status) {
  auto channel = MakeChannel(address, "ims", mesh.Identity("ops"), {.typed_messages = false});
  if (!channel.ok()) return false;
  grpc::GenericStub stub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  void* tag = &ctx;
  auto next = [&cq] {
    void* got = nullptr;
    bool ok = false;
    return cq.Next(&got, &ok) && ok;
  };
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  call->StartCall(tag);
  bool answered = false;
  if (next()) {
    grpc::Slice nothing;
    call->Write(grpc::ByteBuffer(&nothing, 1), tag);
    if (next()) {
      call->WritesDone(tag);
      if (next()) {
        grpc::ByteBuffer response;
        call->Read(&response, tag);
        answered = next();
      }
    }
  }
  call->Finish(status, tag);
  next();
  cq.Shutdown();
  while (next()) {
  }
  return answered;
}

// A second ims, serving under `policy` (JSON); its address is `*address`.
std::unique_ptr<Process> ImsWithPolicy(Mesh& mesh, const std::string& name,
                                       const std::string& policy, std::string* address) {
  const std::string policy_file = mesh.root() + "/" + name + ".json";
  const std::string port_file = mesh.root() + "/" + name + ".port";
  {
    std::ofstream out(policy_file);
    out << policy;
  }
  auto ims = mesh.Launch(
      "ims",
      {"--listen=127.0.0.1:0", "--port_file=" + port_file, "--authz_policy_file=" + policy_file},
      name);
  EXPECT_TRUE(WaitFor([&] { return !ReadFile(port_file).empty(); }, std::chrono::seconds(30)))
      << ims->Log();
  const std::string port = ReadFile(port_file);
  *address = "127.0.0.1:" + (port.empty() ? std::string("0") : std::to_string(std::stoi(port)));
  return ims;
}

void Stop(Process& process) {
  process.Signal(SIGTERM);
  EXPECT_TRUE(process.WaitExit(std::chrono::seconds(20)).has_value());
}

// Reflection is gRPC's own service and never reads the verdict: the
// interceptor ends a denied call itself.
TEST_F(SecurityTest, ReflectionIsUnderThePolicyToo) {
  grpc::Status status;
  EXPECT_TRUE(AnswersReflection(mesh_.address("ims"), mesh_, &status)) << status.error_message();
  std::string address;
  auto ims = ImsWithPolicy(mesh_, "ims-no-reflection", R"({"name": "ims", "allow_rules": [
      {"name": "health_only", "source": {"principals": ["*"]},
       "request": {"paths": ["/grpc.health.v1.Health/*"]}}]})",
                           &address);
  EXPECT_FALSE(AnswersReflection(address, mesh_, &status));
  EXPECT_FALSE(status.ok());
  Stop(*ims);
}

// gRPC's built-in health service answered before any policy was consulted,
// so a policy could not restrict it; the mesh's own one is under the policy.
TEST_F(SecurityTest, HealthIsUnderThePolicyLikeEveryMethod) {
  std::string address;
  auto ims = ImsWithPolicy(mesh_, "ims-health-policy", R"({"name": "ims", "allow_rules": [
      {"name": "only_ops_checks_health",
       "source": {"principals": ["spiffe://shop.local/ns/shop/sa/ops"]},
       "request": {"paths": ["/grpc.health.v1.Health/*"]}}]})",
                           &address);
  auto as_ops = MakeChannel(address, "ims", mesh_.Identity("ops"));
  auto as_shopctl = MakeChannel(address, "ims", mesh_.Identity("shopctl"));
  ASSERT_TRUE(as_ops.ok() && as_shopctl.ok());
  EXPECT_TRUE(CheckHealth(*as_ops).ok());
  grpc::Status refused = CheckHealth(*as_shopctl);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  Stop(*ims);
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

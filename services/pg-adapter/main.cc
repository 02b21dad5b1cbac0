// pg-adapter: the mesh's adapter to the external payment gateway.
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/strip.h"
#include "core/config.h"
#include "core/grpc/service_main.h"
#include "core/postgres/pool.h"
#include "pg_adapter_policy.h"
#include "services/pg-adapter/curl_gateway_client.h"
#include "services/pg-adapter/payments.h"
#include "services/pg-adapter/payments_grpc.h"
#include "services/pg-adapter/store.h"
#include "services/pg-adapter/webhook_server.h"

ABSL_FLAG(std::string, db_url, "", "PostgreSQL URL of the payments database.");
ABSL_FLAG(int32_t, db_pool_size, 8, "PostgreSQL connections.");
ABSL_FLAG(std::string, gateway_url, "", "Base URL of the payment gateway (https://...).");
ABSL_FLAG(std::string, gateway_ca, "", "PEM CA that signs the gateway's certificate.");
ABSL_FLAG(std::string, gateway_api_key, "",
          "Secret API key for the gateway; from SHOP_GATEWAY_API_KEY only (refused on the "
          "command line).");
ABSL_FLAG(int32_t, gateway_max_tries, 3, "Tries per gateway call (retryable failures only).");
ABSL_FLAG(int32_t, gateway_timeout_ms, 5000, "Time limit of one try at the gateway.");
ABSL_FLAG(int32_t, breaker_failures, 5,
          "Consecutive failed tries that open the circuit to the gateway.");
ABSL_FLAG(int32_t, breaker_cool_down_seconds, 10, "How long an open circuit fails fast.");
ABSL_FLAG(std::string, webhook_listen, "",
          "HTTPS address for the gateway's webhooks (host:port); empty: no webhooks.");
ABSL_FLAG(std::string, webhook_secret, "",
          "Signing secret of the webhook endpoint; from SHOP_WEBHOOK_SECRET only (refused on "
          "the command line).");
ABSL_FLAG(int32_t, webhook_tolerance_seconds, 300, "Accepted age of a webhook signature.");
ABSL_FLAG(std::string, webhook_port_file, "", "Write the webhook port here once listening.");
ABSL_FLAG(std::string, ops_addr, "", "Address of ops, where webhook outcomes are forwarded.");

int main(int argc, char** argv) {
  // The gateway's API key and the webhook secret come from the environment.
  shop::RefuseSecretsOnCommandLine(argc, argv, "pg-adapter", {"gateway_api_key", "webhook_secret"},
                                   1);
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "pg-adapter", "pg-adapter: payment gateway adapter of shopmesh");
  shop::ServiceRuntime runtime =
      shop::PrepareService("pg-adapter", shop::payments::DefaultAuthzPolicy());
  if (auto s = shop::RequireFlags({"db_url", "gateway_url", "gateway_ca", "gateway_api_key"});
      !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto transport = shop::payments::CurlGatewayClient::Create(
      {absl::GetFlag(FLAGS_gateway_url), absl::GetFlag(FLAGS_gateway_ca),
       absl::GetFlag(FLAGS_gateway_api_key)});
  if (!transport.ok()) shop::ExitOnStartupError("bad gateway configuration", transport.status());
  auto pool =
      shop::PostgresPool::Connect(absl::GetFlag(FLAGS_db_url), absl::GetFlag(FLAGS_db_pool_size));
  if (!pool.ok()) shop::ExitOnStartupError("database unavailable", pool.status());
  shop::payments::PostgresPaymentStore store(pool->get());
  if (auto s = store.Prepare(); !s.ok()) shop::ExitOnStartupError("cannot prepare database", s);
  shop::payments::PaymentServiceOptions options;
  options.max_tries = absl::GetFlag(FLAGS_gateway_max_tries);
  options.per_try_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_gateway_timeout_ms));
  shop::payments::CircuitBreaker breaker(
      {absl::GetFlag(FLAGS_breaker_failures),
       absl::Seconds(absl::GetFlag(FLAGS_breaker_cool_down_seconds))});
  shop::payments::PaymentService payments(&store, transport->get(), options, &breaker);
  shop::payments::PaymentGatewayGrpcService service(&payments);
  std::unique_ptr<shop::payments::WebhookServer> webhooks;
  if (!absl::GetFlag(FLAGS_webhook_listen).empty()) {
    if (auto s = shop::RequireFlags({"webhook_secret", "ops_addr"}); !s.ok()) {
      shop::ExitOnStartupError("bad configuration", s);
    }
    shop::payments::WebhookServerOptions webhook_options;
    webhook_options.listen = absl::GetFlag(FLAGS_webhook_listen);
    webhook_options.cert_file = runtime.server.tls.cert_file;
    webhook_options.key_file = runtime.server.tls.key_file;
    webhook_options.secret = absl::GetFlag(FLAGS_webhook_secret);
    webhook_options.tolerance = absl::Seconds(absl::GetFlag(FLAGS_webhook_tolerance_seconds));
    webhook_options.ops_address = absl::GetFlag(FLAGS_ops_addr);
    webhook_options.tls = runtime.server.tls;
    webhook_options.port_file = absl::GetFlag(FLAGS_webhook_port_file);
    auto started = shop::payments::WebhookServer::Start(webhook_options, &store);
    if (!started.ok())
      shop::ExitOnStartupError("cannot start the webhook endpoint", started.status());
    webhooks = std::move(*started);
  }
  // The breaker's state is the health of shop.v1.PaymentGatewayService (the
  // process itself stays SERVING: restarting it would not bring the gateway back).
  std::atomic<shop::ServiceHost*> host{nullptr};
  breaker.SetListener([&host](shop::payments::CircuitBreaker::State state) {
    if (shop::ServiceHost* h = host.load()) {
      h->SetServiceServing("shop.v1.PaymentGatewayService",
                           state != shop::payments::CircuitBreaker::State::kOpen);
    }
  });
  shop::ServeUntilSignal(runtime, {&service}, [&host](shop::ServiceHost& started) {
    started.SetServiceServing("shop.v1.PaymentGatewayService", true);
    host.store(&started);
  });
  host.store(nullptr);
  return 0;
}

// ops: the Order Processing System server (runs the order saga).
#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/grpc/service_main.h"
#include "core/log.h"
#include "core/periodic.h"
#include "core/postgres/pool.h"
#include "ops_policy.h"
#include "services/ops/clients.h"
#include "services/ops/ops_grpc.h"
#include "services/ops/order_processor.h"
#include "services/ops/store.h"

ABSL_FLAG(std::string, db_url, "", "PostgreSQL URL of the orders database.");
ABSL_FLAG(int32_t, db_pool_size, 8, "PostgreSQL connections.");
ABSL_FLAG(std::string, ims_addr, "", "Address of the inventory service (host:port).");
ABSL_FLAG(std::string, payments_addr, "", "Address of the payment adapter (host:port).");
ABSL_FLAG(int64_t, tax_basis_points, 800, "Sales tax in basis points (800 = 8%).");
ABSL_FLAG(int32_t, saga_lease_seconds, 30,
          "How long a saga's owner may stay silent before recovery takes the order over.");
ABSL_FLAG(int32_t, recovery_interval_seconds, 5,
          "How often abandoned sagas are looked for (also once at start).");

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "ops", "ops: order processing service of shopmesh");
  shop::ServiceRuntime runtime = shop::PrepareService("ops", shop::ops::DefaultAuthzPolicy());
  if (auto s = shop::RequireFlags({"db_url", "ims_addr", "payments_addr"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto ims_channel = shop::MakeChannel(absl::GetFlag(FLAGS_ims_addr), "ims", runtime.server.tls);
  if (!ims_channel.ok()) shop::ExitOnStartupError("bad --ims_addr", ims_channel.status());
  auto payments_channel =
      shop::MakeChannel(absl::GetFlag(FLAGS_payments_addr), "pg-adapter", runtime.server.tls);
  if (!payments_channel.ok()) {
    shop::ExitOnStartupError("bad --payments_addr", payments_channel.status());
  }
  auto pool =
      shop::PostgresPool::Connect(absl::GetFlag(FLAGS_db_url), absl::GetFlag(FLAGS_db_pool_size));
  if (!pool.ok()) shop::ExitOnStartupError("database unavailable", pool.status());
  shop::ops::PostgresOrderStore store(pool->get(),
                                      absl::Seconds(absl::GetFlag(FLAGS_saga_lease_seconds)));
  if (auto s = store.Prepare(); !s.ok()) shop::ExitOnStartupError("cannot prepare database", s);

  shop::ops::GrpcInventoryClient inventory(*ims_channel);
  shop::ops::GrpcPaymentClient payments(*payments_channel);
  shop::ops::PricingPolicy pricing;
  pricing.tax_basis_points = absl::GetFlag(FLAGS_tax_basis_points);
  shop::ops::OrderProcessor processor(&store, &inventory, &payments, runtime.server.audit, pricing);
  shop::PeriodicTask recovery(absl::Seconds(absl::GetFlag(FLAGS_recovery_interval_seconds)), [&] {
    int finished = processor.RecoverAbandoned();
    if (finished > 0) {
      shop::log::Info("recovered orders", {{"count", finished}});
    }
  });
  shop::ops::OrderProcessingGrpcService service(&processor);
  shop::ServeUntilSignal(runtime, {&service});
  return 0;
}

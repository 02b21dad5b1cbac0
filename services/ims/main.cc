// ims: the Inventory Management System server.
#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/grpc/service_main.h"
#include "core/log.h"
#include "core/periodic.h"
#include "core/postgres/pool.h"
#include "ims_policy.h"
#include "services/ims/ims_grpc.h"
#include "services/ims/inventory.h"
#include "services/ims/store.h"

ABSL_FLAG(std::string, db_url, "", "PostgreSQL URL of the inventory database.");
ABSL_FLAG(int32_t, db_pool_size, 8, "PostgreSQL connections.");
ABSL_FLAG(bool, seed_demo_catalog, true, "Seed the demo catalog into an empty database.");
ABSL_FLAG(int32_t, reservation_ttl_seconds, 900, "Default lifetime of a stock reservation.");
ABSL_FLAG(int32_t, expiry_interval_seconds, 5,
          "How often expired reservations are released back to stock.");

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "ims", "ims: inventory management service of shopmesh");
  shop::ServiceRuntime runtime = shop::PrepareService("ims", shop::ims::DefaultAuthzPolicy());
  if (auto s = shop::RequireFlags({"db_url"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto pool =
      shop::PostgresPool::Connect(absl::GetFlag(FLAGS_db_url), absl::GetFlag(FLAGS_db_pool_size));
  if (!pool.ok()) shop::ExitOnStartupError("database unavailable", pool.status());
  shop::ims::PostgresInventoryStore store(pool->get());
  if (auto s = store.Prepare(absl::GetFlag(FLAGS_seed_demo_catalog)); !s.ok()) {
    shop::ExitOnStartupError("cannot prepare database", s);
  }
  shop::ims::Inventory inventory(
      &store, {absl::Seconds(absl::GetFlag(FLAGS_reservation_ttl_seconds)), absl::Hours(24)},
      runtime.server.audit);
  shop::PeriodicTask expiry(absl::Seconds(absl::GetFlag(FLAGS_expiry_interval_seconds)), [&] {
    absl::StatusOr<int> released = inventory.ExpireDue();
    if (!released.ok()) {
      shop::log::Warn("reservation expiry failed",
                      {{"error", std::string(released.status().message())}});
    } else if (*released > 0) {
      shop::log::Info("expired reservations released", {{"count", *released}});
    }
  });
  shop::ims::InventoryGrpcService service(&inventory);
  shop::ServeUntilSignal(runtime, {&service});
  return 0;
}

// logging: the central audit-log server.
#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/pg.h"
#include "core/service_main.h"
#include "services/logging/audit_log.h"
#include "services/logging/logging_grpc.h"
#include "services/logging/store.h"

ABSL_FLAG(std::string, db_url, "", "PostgreSQL URL of the audit database.");
ABSL_FLAG(int32_t, db_pool_size, 8, "PostgreSQL connections.");

namespace shop::logging {
absl::string_view DefaultAuthzPolicy();
}

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "logging", "logging: central audit log of shopmesh");
  if (auto s = shop::RequireFlags({"db_url"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto pool = shop::PgPool::Connect(absl::GetFlag(FLAGS_db_url), absl::GetFlag(FLAGS_db_pool_size));
  if (!pool.ok()) shop::ExitOnStartupError("database unavailable", pool.status());
  shop::logging::PgAuditStore store(pool->get());
  if (auto s = store.Prepare(); !s.ok()) shop::ExitOnStartupError("cannot prepare database", s);
  shop::logging::LocalAuditSink own_events(&store);
  shop::ServiceRuntime runtime =
      shop::PrepareService("logging", shop::logging::DefaultAuthzPolicy(), &own_events);
  shop::logging::AuditLog log(&store);
  shop::logging::AuditLogGrpcService service(&log);
  shop::ServeUntilSignal(runtime, {&service});
  return 0;
}

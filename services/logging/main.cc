// logging: the central audit-log server.
#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/grpc/service_main.h"
#include "core/log.h"
#include "core/postgres/pool.h"
#include "logging_policy.h"
#include "services/logging/audit_log.h"
#include "services/logging/logging_grpc.h"
#include "services/logging/store.h"
#include "services/logging/tree_head.h"

ABSL_FLAG(std::string, db_url, "",
          "PostgreSQL URL the service runs with. Its role should only SELECT and INSERT.");
ABSL_FLAG(std::string, db_admin_url, "",
          "PostgreSQL URL of the tables' owner, used only to apply migrations and grant the "
          "service role; default: --db_url (then the service role owns the tables).");
ABSL_FLAG(int32_t, db_pool_size, 8, "PostgreSQL connections.");
ABSL_FLAG(std::string, tree_head_key, "",
          "PEM Ed25519 private key that signs tree heads (scripts/dev-pki makes one).");
ABSL_FLAG(std::string, checkpoint_file, "",
          "File outside the database where the latest signed checkpoint is kept; at start the "
          "stored log must extend it (a truncated tail is reported). Empty: none.");
ABSL_FLAG(int32_t, tree_head_interval_ms, 1000, "How often a new tree head is signed.");

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "logging", "logging: central audit log of shopmesh");
  if (auto s = shop::RequireFlags({"db_url", "tree_head_key"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  auto signer = shop::logging::TreeHeadSigner::FromPemFile(absl::GetFlag(FLAGS_tree_head_key));
  if (!signer.ok()) shop::ExitOnStartupError("bad tree head key", signer.status());

  const std::string url = absl::GetFlag(FLAGS_db_url);
  auto pool = shop::PostgresPool::Connect(url, absl::GetFlag(FLAGS_db_pool_size));
  if (!pool.ok()) shop::ExitOnStartupError("database unavailable", pool.status());
  {
    std::string admin_url = absl::GetFlag(FLAGS_db_admin_url);
    auto admin = admin_url.empty() ? absl::StatusOr<std::unique_ptr<shop::PostgresPool>>(nullptr)
                                   : shop::PostgresPool::Connect(admin_url, 1);
    if (!admin.ok()) shop::ExitOnStartupError("admin database URL unusable", admin.status());
    if (*admin == nullptr) {
      shop::log::Warn("no --db_admin_url: the service role owns the audit tables", {});
    }
    // The role the service runs as, as the server sees it.
    auto role = shop::logging::PostgresAuditStore::CurrentRole(pool->get());
    if (!role.ok()) shop::ExitOnStartupError("database unavailable", role.status());
    shop::PostgresPool* owner = *admin != nullptr ? admin->get() : pool->get();
    if (auto s = shop::logging::PostgresAuditStore::Migrate(owner, *role); !s.ok()) {
      shop::ExitOnStartupError("cannot prepare database", s);
    }
  }
  shop::logging::PostgresAuditStore store(pool->get());
  if (auto s = store.LockAsSoleWriter(url); !s.ok()) {
    shop::ExitOnStartupError("cannot own the audit log", s);
  }
  shop::logging::AuditLogOptions options;
  options.tree_head_interval = absl::Milliseconds(absl::GetFlag(FLAGS_tree_head_interval_ms));
  options.checkpoint_file = absl::GetFlag(FLAGS_checkpoint_file);
  if (options.checkpoint_file.empty()) {
    shop::log::Warn(
        "no --checkpoint_file: a tail truncated with its tree heads is detected "
        "only by an auditor's kept checkpoint",
        {});
  }
  shop::logging::AuditLog log(&store, signer->get(), options);
  if (auto s = log.Start(); !s.ok()) shop::ExitOnStartupError("cannot load the audit log", s);
  shop::logging::LocalAuditSink own_events(&log);
  shop::ServiceRuntime runtime =
      shop::PrepareService("logging", shop::logging::DefaultAuthzPolicy(), &own_events);
  shop::logging::AuditLogGrpcService service(&log);
  shop::ServeUntilSignal(runtime, {&service});
  return 0;
}

#include "core/grpc/service_main.h"

#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/grpc/audit_exporter.h"
#include "core/log.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "Address to serve gRPC on (host:port).");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of the mesh CA (verifies peers).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (chain) of this workload.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of this workload.");
ABSL_FLAG(int32_t, tls_refresh_seconds, 60,
          "How often the TLS files are re-read; a rotated certificate is used from then on "
          "without a restart.");
ABSL_FLAG(std::string, authz_policy_file, "",
          "gRPC authorization policy JSON, reloaded on change; default: the built-in policy.");
ABSL_FLAG(std::string, audit_addr, "", "Address of the audit log service (host:port).");
ABSL_FLAG(std::string, audit_spool, "",
          "Append-only file that holds audit events while the audit log is unreachable "
          "(replayed in order when it returns, also after a restart). Empty: memory only.");
ABSL_FLAG(bool, tracing, true,
          "Record spans and audit events. Off only to measure their cost (scripts/bench).");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once serving.");
ABSL_FLAG(int32_t, drain_seconds, 10, "How long running calls may finish after SIGTERM.");

namespace shop {

ServiceRuntime PrepareService(absl::string_view service, absl::string_view default_policy,
                              AuditSink* local_audit) {
  std::vector<absl::string_view> required = {"tls_ca", "tls_cert", "tls_key"};
  const bool tracing = absl::GetFlag(FLAGS_tracing);
  if (local_audit == nullptr && tracing) required.push_back("audit_addr");
  if (absl::Status s = RequireFlags(required); !s.ok()) ExitOnStartupError("bad configuration", s);

  ServiceRuntime runtime;
  ServerConfig& server = runtime.server;
  server.service = std::string(service);
  server.listen = absl::GetFlag(FLAGS_listen);
  server.tls = TlsFiles{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                        absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_refresh_seconds)};
  server.authz_policy = std::string(default_policy);
  server.authz_policy_file = absl::GetFlag(FLAGS_authz_policy_file);
  server.port_file = absl::GetFlag(FLAGS_port_file);

  auto identity = ValidateTlsFiles(server.tls);
  if (!identity.ok()) ExitOnStartupError("bad TLS configuration", identity.status());
  log::Info("workload identity", {{"spiffe_id", identity->spiffe_id}});
  SetProcessIdentity(service, identity->spiffe_id);

  if (!tracing) {
    log::Warn("tracing is off: no spans or audit events are recorded", {});
  } else if (local_audit != nullptr) {
    server.audit = local_audit;
  } else {
    AuditExporterOptions options;
    options.service = std::string(service);
    options.target = absl::GetFlag(FLAGS_audit_addr);
    options.tls = server.tls;
    options.spool_path = absl::GetFlag(FLAGS_audit_spool);
    if (options.spool_path.empty()) {
      log::Warn("no --audit_spool: audit events wait in memory while the log is away", {});
    }
    auto exporter = AuditExporter::Start(options);
    if (!exporter.ok()) ExitOnStartupError("cannot start audit exporter", exporter.status());
    runtime.exporter = std::move(*exporter);
    server.audit = runtime.exporter.get();
  }
  SetProcessAuditSink(server.audit);
  return runtime;
}

void ServeUntilSignal(ServiceRuntime& runtime, const std::vector<grpc::Service*>& services,
                      const std::function<void(ServiceHost&)>& on_started) {
  auto host = ServiceHost::Start(runtime.server, services);
  if (!host.ok()) ExitOnStartupError("cannot start server", host.status());
  if (on_started) on_started(**host);
  (*host)->RunUntilSignal(std::chrono::seconds(absl::GetFlag(FLAGS_drain_seconds)));
  if (runtime.exporter != nullptr && !runtime.exporter->Flush(std::chrono::seconds(5))) {
    AuditExporterStats stats = runtime.exporter->stats();
    log::Warn("audit events left unsent at exit (kept in the spool when there is one)",
              {{"queued", stats.queued}, {"spool_pending", stats.spool_pending}});
  }
  SetProcessAuditSink(nullptr);
}

}  // namespace shop

#include "core/service_main.h"

#include "absl/flags/flag.h"
#include "core/config.h"
#include "core/log.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "Address to serve gRPC on (host:port).");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of the mesh CA (verifies peers).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (chain) of this workload.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of this workload.");
ABSL_FLAG(std::string, authz_policy_file, "",
          "gRPC authorization policy JSON, reloaded on change; default: the built-in policy.");
ABSL_FLAG(std::string, audit_addr, "", "Address of the audit log service (host:port).");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once serving.");
ABSL_FLAG(int32_t, drain_seconds, 10, "How long running calls may finish after SIGTERM.");

namespace shop {

ServiceRuntime PrepareService(absl::string_view service, absl::string_view default_policy,
                              AuditSink* local_audit) {
  std::vector<absl::string_view> required = {"tls_ca", "tls_cert", "tls_key"};
  if (local_audit == nullptr) required.push_back("audit_addr");
  if (absl::Status s = RequireFlags(required); !s.ok()) ExitOnStartupError("bad configuration", s);

  ServiceRuntime runtime;
  ServerConfig& server = runtime.server;
  server.service = std::string(service);
  server.listen = absl::GetFlag(FLAGS_listen);
  server.tls = TlsFiles{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                        absl::GetFlag(FLAGS_tls_key)};
  server.authz_policy = std::string(default_policy);
  server.authz_policy_file = absl::GetFlag(FLAGS_authz_policy_file);
  server.port_file = absl::GetFlag(FLAGS_port_file);

  auto identity = ValidateTlsFiles(server.tls);
  if (!identity.ok()) ExitOnStartupError("bad TLS configuration", identity.status());
  log::Info("workload identity", {{"spiffe_id", identity->spiffe_id}});

  if (local_audit != nullptr) {
    server.audit = local_audit;
  } else {
    AuditExporterOptions options;
    options.service = std::string(service);
    options.target = absl::GetFlag(FLAGS_audit_addr);
    options.tls = server.tls;
    auto exporter = AuditExporter::Start(options);
    if (!exporter.ok()) ExitOnStartupError("cannot start audit exporter", exporter.status());
    runtime.exporter = std::move(*exporter);
    server.audit = runtime.exporter.get();
  }
  return runtime;
}

void ServeUntilSignal(ServiceRuntime& runtime, const std::vector<grpc::Service*>& services,
                      const std::function<void(ServiceHost&)>& on_started) {
  auto host = ServiceHost::Start(runtime.server, services);
  if (!host.ok()) ExitOnStartupError("cannot start server", host.status());
  if (on_started) on_started(**host);
  (*host)->RunUntilSignal(std::chrono::seconds(absl::GetFlag(FLAGS_drain_seconds)));
  if (runtime.exporter != nullptr && !runtime.exporter->Flush(std::chrono::seconds(5))) {
    log::Warn("audit events left unsent at exit",
              {{"unsent", runtime.exporter->stats().queued}});
  }
}

}  // namespace shop

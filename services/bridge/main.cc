// bridge: the JSON bridge for frontend teams (HTTP/JSON → gRPC over mTLS).
#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "core/grpc/audit_exporter.h"
#include "core/grpc/server.h"
#include "core/grpc/tls.h"
#include "core/log.h"
#include "core/span.h"
#include "services/bridge/backends.h"
#include "services/bridge/bridge_server.h"
#include "services/bridge/routes.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7080",
          "HTTP address to serve on (host:port; port 0 picks one).");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of the mesh CA (verifies the backends).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (chain) of the bridge's mesh identity.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of the bridge's mesh identity.");
ABSL_FLAG(std::vector<std::string>, backend, {},
          "Backend per gRPC service, comma-separated Service=host:port entries, e.g. "
          "shop.v1.CustomerService=localhost:7001.");
ABSL_FLAG(std::string, default_backend, "", "Backend (host:port) of services without --backend.");
ABSL_FLAG(std::vector<std::string>, cors_origins, {},
          "Browser origins allowed to call the bridge (https://a.example,...); '*' for any "
          "(then without credentials). Empty: no CORS.");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20, "Largest accepted request body (larger: 413).");
ABSL_FLAG(int64_t, max_header_bytes, 32 << 10,
          "Largest accepted request headers, all lines (431).");
ABSL_FLAG(absl::Duration, default_timeout, absl::Seconds(10),
          "Deadline of a backend call without Grpc-Timeout.");
ABSL_FLAG(absl::Duration, max_timeout, absl::Seconds(30), "Cap on Grpc-Timeout.");
ABSL_FLAG(absl::Duration, io_timeout, absl::Seconds(10), "HTTP read and write timeout.");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "How long running requests may finish after SIGTERM.");
ABSL_FLAG(std::string, port_file, "", "Write the bound port here once serving.");
ABSL_FLAG(int32_t, threads, 16, "HTTP worker threads (one per open connection).");
// Named as in core/service_main.cc, which this binary does not link (it would
// clash with --listen above).
ABSL_FLAG(int32_t, tls_refresh_seconds, 60,
          "How often the TLS files are re-read (a rotated certificate is used without a restart).");
ABSL_FLAG(std::string, backend_account, "ecp",
          "Service account whose SPIFFE id the backends' certificates must carry; any other "
          "server is refused.");
ABSL_FLAG(std::string, audit_addr, "",
          "Address of the audit log service (host:port). Empty: spans are not exported.");
ABSL_FLAG(std::string, audit_spool, "",
          "Append-only file that holds audit events while the audit log is unreachable "
          "(replayed in order when it returns, also after a restart). Empty: memory only.");
ABSL_FLAG(bool, tracing, true, "Record spans. Off only to measure their cost (scripts/bench).");

namespace {

// The exporter of the bridge's spans (its own and the backend calls'), or
// null when tracing is off or has nowhere to go.
std::unique_ptr<shop::AuditExporter> StartAuditExporter(const shop::TlsFiles& tls) {
  if (!absl::GetFlag(FLAGS_tracing)) {
    shop::log::Warn("tracing is off: no spans are recorded");
    return nullptr;
  }
  shop::AuditExporterOptions options;
  options.service = "bridge";
  options.target = absl::GetFlag(FLAGS_audit_addr);
  options.tls = tls;
  options.spool_path = absl::GetFlag(FLAGS_audit_spool);
  options.stop_flush_timeout = std::chrono::seconds(5);
  if (options.target.empty()) {
    shop::log::Warn("no --audit_addr: the bridge's spans are not exported");
    return nullptr;
  }
  if (options.spool_path.empty()) {
    shop::log::Warn("no --audit_spool: spans wait in memory while the audit log is away");
  }
  auto exporter = shop::AuditExporter::Start(options);
  if (!exporter.ok()) shop::ExitOnStartupError("cannot start audit exporter", exporter.status());
  return *std::move(exporter);
}

}  // namespace

int main(int argc, char** argv) {
  shop::BlockTerminationSignals();
  shop::InitProcess(argc, argv, "bridge",
                    "bridge: the JSON bridge (HTTP/JSON to gRPC) of shopmesh");
  if (auto s = shop::RequireFlags({"tls_ca", "tls_cert", "tls_key"}); !s.ok()) {
    shop::ExitOnStartupError("bad configuration", s);
  }
  const shop::TlsFiles tls{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                           absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_refresh_seconds)};
  auto identity = shop::ValidateTlsFiles(tls);
  if (!identity.ok()) shop::ExitOnStartupError("bad TLS configuration", identity.status());
  shop::log::Info("workload identity", {{"spiffe_id", identity->spiffe_id}});
  shop::SetProcessIdentity("bridge", identity->spiffe_id);
  std::unique_ptr<shop::AuditExporter> exporter = StartAuditExporter(tls);
  shop::SetProcessAuditSink(exporter.get());

  shop::bridge::RouteTable::Options route_options;
  route_options.reserved_paths = {shop::bridge::kHealthPath, shop::bridge::kOpenApiPath};
  auto routes =
      shop::bridge::RouteTable::Build(shop::bridge::RouteTable::GeneratedFiles(), route_options);
  if (!routes.ok()) shop::ExitOnStartupError("bad google.api.http rules", routes.status());
  std::shared_ptr<const shop::bridge::RouteTable> table = *std::move(routes);

  auto spec = shop::bridge::ParseBackendSpec(absl::GetFlag(FLAGS_backend),
                                             absl::GetFlag(FLAGS_default_backend));
  if (!spec.ok()) shop::ExitOnStartupError("bad --backend", spec.status());
  auto backends =
      shop::bridge::Backends::Create(*spec, table->services(), [&tls](const std::string& address) {
        // Generic stubs: the channel's tracing must not read messages as protobuf.
        return shop::MakeChannel(address, absl::GetFlag(FLAGS_backend_account), tls,
                                 shop::ChannelOptions{.typed_messages = false});
      });
  if (!backends.ok()) shop::ExitOnStartupError("bad backends", backends.status());
  for (const auto& [service, address] : spec->by_service) {
    const auto services = table->services();
    if (std::find(services.begin(), services.end(), service) == services.end()) {
      shop::log::Warn("--backend names a service without HTTP routes", {{"service", service}});
    }
  }

  shop::bridge::BridgeOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.max_body_bytes =
      static_cast<size_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_max_body_bytes)));
  options.max_header_bytes =
      static_cast<size_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_max_header_bytes)));
  options.read_timeout = absl::GetFlag(FLAGS_io_timeout);
  options.write_timeout = absl::GetFlag(FLAGS_io_timeout);
  options.forwarding.default_timeout = absl::GetFlag(FLAGS_default_timeout);
  options.forwarding.max_timeout = absl::GetFlag(FLAGS_max_timeout);
  options.cors_origins = absl::GetFlag(FLAGS_cors_origins);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  auto server = shop::bridge::BridgeServer::Start(options, table, *std::move(backends));
  if (!server.ok()) shop::ExitOnStartupError("cannot start the JSON bridge", server.status());

  shop::log::Info("stopping", {{"signal", shop::WaitForTerminationSignal()}});
  (*server)->Shutdown(absl::GetFlag(FLAGS_drain_timeout));
  // No request runs any more: the exporter can go (it flushes, then spools).
  shop::SetProcessAuditSink(nullptr);
  exporter.reset();
  shop::log::Info("stopped");
  return 0;
}

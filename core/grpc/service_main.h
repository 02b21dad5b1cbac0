// What every service's main() does: common flags (listen address, mTLS files,
// authorization policy, audit log address), start-up checks that exit with a
// clear message, serving until SIGTERM, and a final audit flush.
#ifndef SHOP_CORE_SERVICE_MAIN_H_
#define SHOP_CORE_SERVICE_MAIN_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/grpc/audit_exporter.h"
#include "core/grpc/server.h"
#include "core/span.h"

namespace shop {

struct ServiceRuntime {
  ServerConfig server;
  std::unique_ptr<AuditExporter> exporter;  // null when `audit` is set by the caller
};

// Reads the common flags, checks the TLS files (exit 1 with the reason when
// they are wrong) and starts the audit exporter (unless `local_audit` is
// given: the logging service writes its own events directly).
ServiceRuntime PrepareService(absl::string_view service, absl::string_view default_policy,
                              AuditSink* local_audit = nullptr);

// Serves until SIGTERM/SIGINT, drains, flushes the audit queue. Exits 1 when
// the server cannot start.
// `on_started` (optional) runs once the server is up, before waiting.
void ServeUntilSignal(ServiceRuntime& runtime, const std::vector<grpc::Service*>& services,
                      const std::function<void(ServiceHost&)>& on_started = nullptr);

}  // namespace shop

#endif  // SHOP_CORE_SERVICE_MAIN_H_

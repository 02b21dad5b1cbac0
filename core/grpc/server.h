// Server bootstrap shared by every service: mTLS, per-method authorization
// policy, health and reflection, the audit interceptor, graceful drain on
// SIGTERM.
#ifndef SHOP_CORE_SERVER_H_
#define SHOP_CORE_SERVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/grpc/tls.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace shop {

class AuditSink;
class AuthzPolicyHolder;
class HealthService;

struct ServerConfig {
  std::string service;  // "ims"
  std::string listen;   // "127.0.0.1:7003"; port 0 picks a free port
  TlsFiles tls;
  // gRPC authorization policy (JSON). When `authz_policy_file` is set it is
  // read from there and reloaded on change; otherwise `authz_policy` is used.
  std::string authz_policy;
  std::string authz_policy_file;
  AuditSink* audit = nullptr;
  // After binding, the chosen port is written here (atomically), so that
  // whoever started the process can find it.
  std::string port_file;
};

class ServiceHost {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const ServerConfig& config, const std::vector<grpc::Service*>& services);
  ~ServiceHost();

  int port() const { return port_; }
  // The health status of one named service (grpc.health.v1 with `service`
  // set), e.g. a dependency that is down; the server itself stays SERVING.
  void SetServiceServing(const std::string& service, bool serving);
  // Marks the server NOT_SERVING, stops accepting calls and lets running
  // calls finish for up to `drain`.
  void Shutdown(std::chrono::seconds drain);
  // Blocks until SIGTERM or SIGINT (see BlockTerminationSignals), then
  // Shutdown(drain).
  void RunUntilSignal(std::chrono::seconds drain = std::chrono::seconds(10));

 private:
  ServiceHost() = default;
  std::shared_ptr<AuthzPolicyHolder> policy_;  // outlives server_
  std::unique_ptr<HealthService> health_;      // outlives server_
  std::unique_ptr<grpc::Server> server_;
  std::string service_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Writes `port` to `path` atomically (temporary file, then rename), for
// whoever started the process with port 0.
absl::Status WritePortFile(const std::string& path, int port);

// Blocks SIGTERM/SIGINT in this thread and every thread started after it, so
// that RunUntilSignal can wait for them synchronously. Call first in main().
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT (blocked by BlockTerminationSignals) and
// returns which one came.
int WaitForTerminationSignal();

}  // namespace shop

#endif  // SHOP_CORE_SERVER_H_

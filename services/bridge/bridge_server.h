// The HTTP/1.1 server of the JSON bridge (cpp-httplib, thread pool): where a
// request enters. It routes (routes.h), transcodes (transcoder.h), calls the
// backend (backends.h) and renders the answer or the error (http_errors.h).
//
// Besides the annotated routes it serves GET /healthz (no backend call) and
// GET /openapi.json, and answers CORS preflights. Server-streaming methods
// answer application/x-ndjson, one message per line as they arrive (chunked);
// a stream that fails after its first message ends with a line
// {"error": {...}}, one that fails before it is an ordinary error response.
#ifndef SHOP_SERVICES_BRIDGE_BRIDGE_SERVER_H_
#define SHOP_SERVICES_BRIDGE_BRIDGE_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/bridge/backends.h"
#include "services/bridge/forwarding.h"
#include "services/bridge/routes.h"

namespace shop::bridge {

inline constexpr char kHealthPath[] = "/healthz";
inline constexpr char kOpenApiPath[] = "/openapi.json";

struct BridgeOptions {
  std::string listen = "127.0.0.1:7080";  // port 0 picks a free port
  int threads = 16;
  size_t max_body_bytes = 1 << 20;     // larger bodies: 413
  size_t max_header_bytes = 32 << 10;  // all header lines together: 431
  absl::Duration read_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(10);
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  ForwardingOptions forwarding;
  std::vector<std::string> cors_origins;
  std::string port_file;  // the bound port is written here once listening
};

class BridgeServer {
 public:
  // Binds and serves on a background thread. INVALID_ARGUMENT for bad
  // options, UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<BridgeServer>> Start(
      const BridgeOptions& options, std::shared_ptr<const RouteTable> routes,
      std::unique_ptr<Backends> backends);
  ~BridgeServer();

  int port() const { return port_; }

  // Stops accepting, answers new requests 503, lets running ones finish for
  // up to `drain`, then cancels the backend calls still running and joins.
  void Shutdown(absl::Duration drain);

 private:
  BridgeServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace shop::bridge

#endif  // SHOP_SERVICES_BRIDGE_BRIDGE_SERVER_H_

// The HTTPS endpoint the gateway calls back: POST /webhooks/gateway.
#ifndef SHOP_SERVICES_PG_ADAPTER_WEBHOOK_SERVER_H_
#define SHOP_SERVICES_PG_ADAPTER_WEBHOOK_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/grpc/tls.h"

namespace shop::payments {

class PostgresPaymentStore;

struct WebhookServerOptions {
  std::string listen;     // "127.0.0.1:7444"; port 0 picks one
  std::string cert_file;  // the adapter's own certificate and key
  std::string key_file;
  std::string secret;  // the endpoint's signing secret
  absl::Duration tolerance = absl::Minutes(5);
  std::string ops_address;  // where outcomes are forwarded (mTLS)
  TlsFiles tls;             // the adapter's mesh identity, for ops
  std::string port_file;
};

class WebhookServer {
 public:
  static absl::StatusOr<std::unique_ptr<WebhookServer>> Start(const WebhookServerOptions& options,
                                                              PostgresPaymentStore* store);
  ~WebhookServer();
  int port() const { return port_; }

 private:
  WebhookServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_WEBHOOK_SERVER_H_

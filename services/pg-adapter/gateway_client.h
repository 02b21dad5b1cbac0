// HTTPS transport to the external payment gateway (a Stripe-like REST API).
#ifndef SHOP_SERVICES_PG_ADAPTER_GATEWAY_CLIENT_H_
#define SHOP_SERVICES_PG_ADAPTER_GATEWAY_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shop::payments {

struct GatewayRequest {
  std::string method = "POST";  // POST or GET
  std::string path;             // "/v1/payment_intents"
  std::vector<std::pair<std::string, std::string>> form;
  std::string idempotency_key;
  // Instead of `form`: a raw JSON body (webhook deliveries, tests).
  std::string json_body;
  std::vector<std::string> extra_headers;  // "Name: value"
};

struct GatewayResponse {
  int http_status = 0;          // 0: no HTTP answer (see transport_error)
  std::string body;
  std::string transport_error;  // connect/TLS/timeout failure
  int64_t retry_after_seconds = -1;
  // The request certainly never reached the gateway (no connection).
  bool not_sent = false;
};

class GatewayTransport {
 public:
  virtual ~GatewayTransport() = default;
  virtual GatewayResponse Send(const GatewayRequest& request, absl::Duration timeout) = 0;
};

struct CurlTransportOptions {
  std::string base_url;  // "https://127.0.0.1:8443"
  std::string ca_file;   // the CA that signs the gateway's certificate
  std::string api_key;   // bearer secret
  absl::Duration connect_timeout = absl::Seconds(2);
};

// libcurl with certificate verification on, connections reused (one easy
// handle per idle slot), every request bounded by the given timeout.
class CurlTransport final : public GatewayTransport {
 public:
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(CurlTransportOptions options);
  ~CurlTransport() override;
  GatewayResponse Send(const GatewayRequest& request, absl::Duration timeout) override;

 private:
  explicit CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {}
  void* Acquire();
  void Release(void* handle);

  const CurlTransportOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_GATEWAY_CLIENT_H_

// The port through which the payment domain reaches the external payment
// gateway (a Stripe-like REST API); curl_gateway_client.h is the HTTPS
// implementation, tests use fakes.
#ifndef SHOP_SERVICES_PG_ADAPTER_GATEWAY_CLIENT_H_
#define SHOP_SERVICES_PG_ADAPTER_GATEWAY_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

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
  int http_status = 0;  // 0: no HTTP answer (see transport_error)
  std::string body;
  std::string transport_error;  // connect/TLS/timeout failure
  int64_t retry_after_seconds = -1;
  // The request certainly never reached the gateway (no connection).
  bool not_sent = false;
};

class GatewayClient {
 public:
  virtual ~GatewayClient() = default;
  virtual GatewayResponse Send(const GatewayRequest& request, absl::Duration timeout) = 0;
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_GATEWAY_CLIENT_H_

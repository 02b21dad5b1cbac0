// The HTTPS client of the external payment gateway, on libcurl.
#ifndef SHOP_SERVICES_PG_ADAPTER_CURL_GATEWAY_CLIENT_H_
#define SHOP_SERVICES_PG_ADAPTER_CURL_GATEWAY_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/pg-adapter/gateway_client.h"

namespace shop::payments {

struct CurlGatewayClientOptions {
  std::string base_url;  // "https://127.0.0.1:8443"
  std::string ca_file;   // the CA that signs the gateway's certificate
  std::string api_key;   // bearer secret
  absl::Duration connect_timeout = absl::Seconds(2);
};

// libcurl with certificate verification on, connections reused (one easy
// handle per idle slot), every request bounded by the given timeout.
class CurlGatewayClient final : public GatewayClient {
 public:
  static absl::StatusOr<std::unique_ptr<CurlGatewayClient>> Create(
      CurlGatewayClientOptions options);
  ~CurlGatewayClient() override;
  GatewayResponse Send(const GatewayRequest& request, absl::Duration timeout) override;

 private:
  explicit CurlGatewayClient(CurlGatewayClientOptions options) : options_(std::move(options)) {}
  void* Acquire();
  void Release(void* handle);

  const CurlGatewayClientOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shop::payments

#endif  // SHOP_SERVICES_PG_ADAPTER_CURL_GATEWAY_CLIENT_H_

// What integration tests do as a client of the mesh: build orders, call with
// an end user and a trace, read stock, tokenize cards at the gateway.
#ifndef SHOP_TESTS_CLIENT_H_
#define SHOP_TESTS_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <utility>
#include <vector>

#include "services/pg-adapter/curl_gateway_client.h"
#include "shop/v1/ecp.pb.h"
#include "shop/v1/ims.pb.h"
#include "tests/harness.h"

namespace shop::testing {

shop::v1::PlaceOrderRequest MakeOrder(const std::vector<std::pair<std::string, int>>& items,
                                      const std::string& payment_method,
                                      const std::string& idempotency_key = "");
// Deadline, end user (x-shop-customer-id) and a traceparent.
void PrepareCall(grpc::ClientContext& ctx, const std::string& customer,
                 const std::string& trace_id = "", int seconds = 60);
// An HTTPS client of the gateway stand-in with the harness's API key.
std::unique_ptr<payments::CurlGatewayClient> GatewayClient(const Mesh& mesh);
// A payment-method token for a test card, made at the gateway stand-in.
std::string Tokenize(const Mesh& mesh, const std::string& card_number);
shop::v1::StockLevel Stock(const Mesh& mesh, const std::string& sku);
// A new SKU priced 10.00 with `units` in stock, seeded as IMS seeds (with a
// SEED movement, so the stock invariant holds for it).
std::string CreateSku(const Mesh& mesh, int units);
// One value from the ops database ("" when no row).
std::string QueryOps(const Mesh& mesh, const std::string& sql, const std::string& param);
// ErrorInfo.metadata.order_id of a failed call ("" when absent).
std::string OrderIdOf(const grpc::Status& status);
std::string ReasonOf(const grpc::Status& status);

}  // namespace shop::testing

#endif  // SHOP_TESTS_CLIENT_H_

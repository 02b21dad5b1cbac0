#include "tests/client.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/grpc/grpc_status.h"
#include "core/ids.h"
#include "core/status.h"
#include "core/trace.h"
#include "google/rpc/error_details.pb.h"
#include "services/pg-adapter/curl_gateway_client.h"
#include "shop/v1/ims.grpc.pb.h"

namespace shop::testing {

shop::v1::PlaceOrderRequest MakeOrder(const std::vector<std::pair<std::string, int>>& items,
                                      const std::string& payment_method,
                                      const std::string& idempotency_key) {
  shop::v1::PlaceOrderRequest request;
  for (const auto& [sku, quantity] : items) {
    auto* line = request.add_lines();
    line->set_sku(sku);
    line->set_quantity(quantity);
  }
  auto* address = request.mutable_shipping_address();
  address->set_name("Ada Lovelace");
  address->set_line1("123 Main St");
  address->set_city("New York");
  address->set_region("NY");
  address->set_postal_code("10001");
  address->set_country_code("US");
  request.set_payment_method_token(payment_method);
  request.set_idempotency_key(idempotency_key.empty() ? NewId("key") : idempotency_key);
  return request;
}

void PrepareCall(grpc::ClientContext& ctx, const std::string& customer, const std::string& trace_id,
                 int seconds) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  if (!customer.empty()) ctx.AddMetadata(kCustomerHeader, customer);
  ctx.AddMetadata(kTraceparentHeader,
                  FormatTraceparent(trace_id.empty() ? NewTraceId() : trace_id, NewSpanId()));
}

std::unique_ptr<payments::CurlGatewayClient> GatewayClient(const Mesh& mesh) {
  auto transport = payments::CurlGatewayClient::Create(
      {mesh.gateway_url(), mesh.pki() + "/external-ca.crt", mesh.gateway_api_key()});
  return transport.ok() ? std::move(*transport) : nullptr;
}

std::string Tokenize(const Mesh& mesh, const std::string& card_number) {
  auto transport = GatewayClient(mesh);
  if (transport == nullptr) return "";
  payments::GatewayRequest request;
  request.path = "/v1/payment_methods";
  request.form = {{"type", "card"},
                  {"card[number]", card_number},
                  {"card[exp_month]", "12"},
                  {"card[exp_year]", "2034"},
                  {"card[cvc]", "123"}};
  payments::GatewayResponse response = transport->Send(request, absl::Seconds(10));
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  return json.is_object() ? json.value("id", "") : "";
}

shop::v1::StockLevel Stock(const Mesh& mesh, const std::string& sku) {
  auto stub = shop::v1::InventoryService::NewStub(mesh.Channel("ims"));
  grpc::ClientContext ctx;
  PrepareCall(ctx, "", "", 10);
  shop::v1::GetStockRequest request;
  request.set_sku(sku);
  shop::v1::GetStockResponse response;
  grpc::Status status = stub->GetStock(&ctx, request, &response);
  return status.ok() ? response.stock() : shop::v1::StockLevel();
}

std::string CreateSku(const Mesh& mesh, int units) {
  std::string sku = "TEST-" + RandomHex(5);
  for (auto& c : sku) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  pqxx::connection connection(mesh.db_url("ims"));
  pqxx::work w(connection);
  w.exec_params(
      "INSERT INTO products (sku, name, currency, unit_price_units, unit_price_nanos) "
      "VALUES ($1, 'Limited edition', 'USD', 10, 0)",
      sku);
  w.exec_params("INSERT INTO stock_levels (sku, available) VALUES ($1, $2)", sku, units);
  w.exec_params(
      "INSERT INTO stock_movements (sku, kind, quantity, actor, reason) "
      "VALUES ($1, 'SEED', $2, 'test', 'test stock')",
      sku, units);
  w.commit();
  return sku;
}

std::string QueryOps(const Mesh& mesh, const std::string& sql, const std::string& param) {
  pqxx::connection connection(mesh.db_url("ops"));
  pqxx::work w(connection);
  pqxx::result rows = w.exec_params(sql, param);
  return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].as<std::string>();
}

std::string OrderIdOf(const grpc::Status& status) {
  google::rpc::ErrorInfo info;
  if (!GetDetail(FromGrpcStatus(status), info)) return "";
  auto it = info.metadata().find("order_id");
  return it == info.metadata().end() ? "" : it->second;
}

std::string ReasonOf(const grpc::Status& status) { return ErrorReason(FromGrpcStatus(status)); }

}  // namespace shop::testing

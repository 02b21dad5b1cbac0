// shopctl: the command-line client of shopmesh, with its own mTLS identity.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "core/config.h"
#include "core/grpc/audit_exporter.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/tls.h"
#include "core/ids.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/span.h"
#include "core/trace.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/logging/checkpoint.h"
#include "services/logging/merkle.h"
#include "services/logging/tree_head.h"
#include "services/pg-adapter/curl_gateway_client.h"
#include "shop/ops/v1/ops.grpc.pb.h"
#include "shop/v1/audit.grpc.pb.h"
#include "shop/v1/ecp.grpc.pb.h"
#include "shop/v1/ims.grpc.pb.h"
#include "tools/shopctl/render.h"

ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_FLAG(std::string, ecp_addr, "", "Address of the ECP edge (host:port).");
ABSL_FLAG(std::string, ims_addr, "", "Address of the inventory service (stock get).");
ABSL_FLAG(std::string, ops_addr, "", "Address of OPS (health only).");
ABSL_FLAG(std::string, payments_addr, "", "Address of the payment adapter (health only).");
ABSL_FLAG(std::string, logging_addr, "", "Address of the audit log (audit query, health).");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA of the mesh.");
ABSL_FLAG(std::string, tls_cert, "", "shopctl's client certificate.");
ABSL_FLAG(std::string, tls_key, "", "shopctl's private key.");
ABSL_FLAG(std::string, customer, "demo-customer", "The end user to act for.");
ABSL_FLAG(bool, json, false, "Print the response as proto JSON.");
ABSL_FLAG(int32_t, timeout_seconds, 30, "Deadline of each call.");
ABSL_FLAG(std::string, items, "", "order place: SKU:QTY[,SKU:QTY...]");
ABSL_FLAG(std::string, payment_method, "", "order place: a payment-method token (pm_...).");
ABSL_FLAG(std::string, card, "",
          "order place: a test card number, tokenized with the gateway first (it never "
          "reaches the mesh).");
ABSL_FLAG(std::string, key, "", "order place: idempotency key (default: a new one).");
ABSL_FLAG(std::string, ship_to, "Ada Lovelace;123 Main St;New York;NY;10001;US",
          "order place: name;line1;city;region;postal code;country code");
ABSL_FLAG(std::string, status, "", "order list: only orders in this status (e.g. CONFIRMED).");
ABSL_FLAG(int32_t, page_size, 0, "order list / products: page size.");
ABSL_FLAG(std::string, page_token, "", "order list / products: page token.");
ABSL_FLAG(std::string, reason, "", "order cancel: why (kept in the status history).");
ABSL_FLAG(std::string, carrier, "", "fulfil ship: the carrier (e.g. UPS).");
ABSL_FLAG(std::string, tracking, "", "fulfil ship: the tracking number.");
ABSL_FLAG(std::string, staff_cert, "", "fulfil: the staff client certificate.");
ABSL_FLAG(std::string, staff_key, "", "fulfil: the staff private key.");
ABSL_FLAG(std::string, audit_checkpoint, "",
          "audit verify: file holding the log's checkpoint from the last verification; the log "
          "must extend it (else it was truncated or rewritten), then it is replaced.");
ABSL_FLAG(std::string, sre_cert, "",
          "trace and audit: the SRE client certificate (the audit log is read by SREs only; "
          "without it, --tls_cert is used).");
ABSL_FLAG(std::string, sre_key, "", "trace and audit: the SRE private key.");
ABSL_FLAG(std::string, gateway_url, "", "Payment gateway URL (card tokenization).");
ABSL_FLAG(std::string, gateway_ca, "", "PEM CA of the payment gateway.");
ABSL_FLAG(std::string, gateway_api_key, "",
          "Payment gateway API key; from SHOP_GATEWAY_API_KEY only (refused on the command "
          "line).");
ABSL_FLAG(std::string, trace, "", "audit query/tail: only this trace id.");
ABSL_FLAG(std::string, order, "", "audit query/tail: only this order id.");
ABSL_FLAG(std::string, service, "", "audit query/tail: only events of this service (e.g. ops).");
ABSL_FLAG(std::string, method, "",
          "audit query/tail: only this span name "
          "(e.g. shop.v1.InventoryService/Reserve).");
ABSL_FLAG(std::string, caller, "", "audit query/tail: only calls from this SPIFFE id.");
ABSL_FLAG(bool, errors_only, false, "audit query/tail: only records with a non-OK status.");
ABSL_FLAG(std::string, sub, "", "token: the subject (customer id) of the dev token.");
ABSL_FLAG(std::vector<std::string>, role, {}, "token: roles (e.g. staff), comma-separated.");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(1), "token: how long the token is valid.");
ABSL_FLAG(std::string, jwt_key, "", "token: PEM private key of the dev identity provider.");
ABSL_FLAG(std::string, jwt_kid, "dev-es256-1", "token: key id (as in the JWKS).");
ABSL_FLAG(std::string, jwt_issuer, "https://id.shopmesh.local", "token: issuer.");
ABSL_FLAG(std::string, jwt_audience, "shopmesh", "token: audience.");
ABSL_FLAG(std::string, token, "",
          "End-user token: sent as Authorization: Bearer (instead of --customer); from "
          "SHOP_TOKEN only (refused on the command line).");
ABSL_FLAG(std::string, audit_public_key, "",
          "audit proof: PEM public key that signs the audit log's tree heads.");

namespace {

constexpr int kExitRpcError = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] = R"(shopctl: command-line client of shopmesh

usage: shopctl [flags] <command>

commands:
  products                         the catalog with prices and stock
  order place --items=SKU:QTY,...  place an order (--payment_method=pm_... or --card=NUMBER)
  order get ORDER_ID               one of your orders
  order list [--status=S]          your orders, newest first
  order cancel ORDER_ID [--reason=...]  cancel: refund and restock
  fulfil processing ORDER_ID       staff: start preparing a confirmed order
  fulfil ship ORDER_ID --carrier=C --tracking=T   staff: hand it to a carrier
  fulfil deliver ORDER_ID          staff: mark it delivered
  stock get SKU                    stock level of one SKU (from IMS)
  trace TRACE_ID|ORDER_ID           waterfall of a trace (or of every trace of an order)
  audit query [--trace= --order= --service= --method= --caller= --errors_only]
  audit tail [same filters]        follow the audit log live (Ctrl-C to stop)
  audit verify                     recompute the whole log and its signed tree heads
  audit proof SEQUENCE|EVENT_ID    prove a record is in the log, checked here
                                   against the signed tree head (--audit_public_key)
  audit head                       the latest signed tree head
  token --sub=ID [--role=staff] [--ttl=1h]   mint a dev end-user token (ES256)
  health                           health of every service whose address is set

Addresses and certificates come from flags or SHOP_* variables (source .run/mesh.env,
or use scripts/shopctl which does). --json prints responses as proto JSON.
Exit status: 0 ok, 1 the call failed (code, message and details are printed), 2 usage.)";

shop::TlsFiles Tls() {
  return {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key)};
}

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr, "shopctl: %s\n\n%s\n", problem.c_str(), kUsage);
  std::exit(kExitUsage);
}

// A channel to the workload whose service account is `server`.
std::shared_ptr<grpc::Channel> Channel(const std::string& flag_name, const std::string& server,
                                       const std::string& address) {
  if (address.empty()) {
    Usage(absl::StrCat("--", flag_name, " (or ", shop::EnvNameForFlag(flag_name),
                       ") is not set; source .run/mesh.env or use scripts/shopctl"));
  }
  auto channel = shop::MakeChannel(address, server, Tls());
  if (!channel.ok()) Usage(std::string(channel.status().message()));
  return *channel;
}

// Sets the deadline and the end user; returns the trace id (the command's
// root span is current, and the channel's interceptor passes it on).
std::string Prepare(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(absl::GetFlag(FLAGS_timeout_seconds)));
  if (const std::string token = absl::GetFlag(FLAGS_token); !token.empty()) {
    ctx.AddMetadata("authorization", "Bearer " + token);
  } else {
    ctx.AddMetadata(shop::kCustomerHeader, absl::GetFlag(FLAGS_customer));
  }
  const shop::TraceContext* trace = shop::CurrentTrace();
  return trace != nullptr ? trace->trace_id : "";
}

int Fail(const grpc::Status& status) {
  std::fputs(shop::cli::DescribeError(shop::FromGrpcStatus(status)).c_str(), stderr);
  return kExitRpcError;
}

int Print(const google::protobuf::Message& message, const std::string& human) {
  std::fputs((absl::GetFlag(FLAGS_json) ? shop::cli::ToJson(message) : human).c_str(), stdout);
  return 0;
}

// Tokenizes a test card with the gateway, as a browser would with the
// gateway's own script: the number goes to the gateway, never to the mesh.
std::string TokenizeCard(const std::string& number) {
  auto transport = shop::payments::CurlGatewayClient::Create(
      {absl::GetFlag(FLAGS_gateway_url), absl::GetFlag(FLAGS_gateway_ca),
       absl::GetFlag(FLAGS_gateway_api_key)});
  if (!transport.ok())
    Usage(absl::StrCat("--card needs the gateway: ", transport.status().message()));
  shop::payments::GatewayRequest request;
  request.path = "/v1/payment_methods";
  request.form = {{"type", "card"},
                  {"card[number]", number},
                  {"card[exp_month]", "12"},
                  {"card[exp_year]", "2034"},
                  {"card[cvc]", "123"}};
  shop::payments::GatewayResponse response = (*transport)->Send(request, absl::Seconds(10));
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  if (response.http_status != 200 || !json.is_object() || !json.contains("id")) {
    std::string message = response.transport_error;
    if (json.is_object() && json.contains("error") && json["error"].contains("message")) {
      message = json["error"]["message"].get<std::string>();
    }
    std::fprintf(stderr, "error: the gateway refused the card (HTTP %d): %s\n",
                 response.http_status, message.c_str());
    std::exit(kExitRpcError);
  }
  return json["id"].get<std::string>();
}

int Products() {
  auto stub =
      shop::v1::CustomerService::NewStub(Channel("ecp_addr", "ecp", absl::GetFlag(FLAGS_ecp_addr)));
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::BrowseCatalogRequest request;
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  shop::v1::BrowseCatalogResponse response;
  grpc::Status status = stub->BrowseCatalog(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  std::string human;
  for (const auto& p : response.products()) {
    absl::StrAppend(&human, p.sku(), "\t", shop::cli::FormatMoneyProto(p.unit_price()), "\t",
                    p.available_quantity(), " available\t", p.name(), "\n");
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&human, "(more: --page_token=", response.next_page_token(), ")\n");
  }
  return Print(response, human);
}

int PlaceOrder() {
  shop::v1::PlaceOrderRequest request;
  std::string items = absl::GetFlag(FLAGS_items);
  if (items.empty()) Usage("order place needs --items=SKU:QTY[,SKU:QTY...]");
  for (absl::string_view item : absl::StrSplit(items, ',')) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    int quantity = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &quantity)) {
      Usage(absl::StrCat("bad item \"", item, "\": want SKU:QTY"));
    }
    auto* line = request.add_lines();
    line->set_sku(parts[0]);
    line->set_quantity(quantity);
  }
  std::vector<std::string> ship = absl::StrSplit(absl::GetFlag(FLAGS_ship_to), ';');
  if (ship.size() != 6) Usage("--ship_to wants name;line1;city;region;postal code;country code");
  auto* address = request.mutable_shipping_address();
  address->set_name(ship[0]);
  address->set_line1(ship[1]);
  address->set_city(ship[2]);
  address->set_region(ship[3]);
  address->set_postal_code(ship[4]);
  address->set_country_code(ship[5]);
  std::string token = absl::GetFlag(FLAGS_payment_method);
  if (!absl::GetFlag(FLAGS_card).empty()) token = TokenizeCard(absl::GetFlag(FLAGS_card));
  if (token.empty()) Usage("order place needs --payment_method=pm_... or --card=NUMBER");
  request.set_payment_method_token(token);
  std::string key = absl::GetFlag(FLAGS_key);
  request.set_idempotency_key(key.empty() ? shop::NewId("cli") : key);

  auto stub =
      shop::v1::CustomerService::NewStub(Channel("ecp_addr", "ecp", absl::GetFlag(FLAGS_ecp_addr)));
  grpc::ClientContext ctx;
  std::string trace_id = Prepare(ctx);
  shop::v1::PlaceOrderResponse response;
  grpc::Status status = stub->PlaceOrder(&ctx, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "trace %s\n", trace_id.c_str());
    return Fail(status);
  }
  return Print(response, absl::StrCat(shop::cli::DescribeOrder(response.order()), "  trace ",
                                      trace_id, "\n"));
}

int GetOrder(const std::string& order_id) {
  auto stub =
      shop::v1::CustomerService::NewStub(Channel("ecp_addr", "ecp", absl::GetFlag(FLAGS_ecp_addr)));
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::GetOrderRequest request;
  request.set_order_id(order_id);
  shop::v1::GetOrderResponse response;
  grpc::Status status = stub->GetOrder(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  return Print(response, shop::cli::DescribeOrder(response.order()));
}

int ListOrders() {
  auto stub =
      shop::v1::CustomerService::NewStub(Channel("ecp_addr", "ecp", absl::GetFlag(FLAGS_ecp_addr)));
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::ListOrdersRequest request;
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  if (std::string s = absl::GetFlag(FLAGS_status); !s.empty()) {
    shop::v1::OrderStatus status;
    if (!shop::v1::OrderStatus_Parse("ORDER_STATUS_" + s, &status)) Usage("unknown --status " + s);
    request.set_status(status);
  }
  shop::v1::ListOrdersResponse response;
  grpc::Status status = stub->ListOrders(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  std::string human;
  for (const auto& order : response.orders()) {
    absl::StrAppend(&human, order.order_id(), "\t", shop::cli::StatusName(order.status()), "\t",
                    order.has_totals() && !order.totals().grand_total().currency_code().empty()
                        ? shop::cli::FormatMoneyProto(order.totals().grand_total())
                        : "-",
                    "\n");
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&human, "(more: --page_token=", response.next_page_token(), ")\n");
  }
  return Print(response, human);
}

int CancelOrder(const std::string& order_id) {
  auto stub =
      shop::v1::CustomerService::NewStub(Channel("ecp_addr", "ecp", absl::GetFlag(FLAGS_ecp_addr)));
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::CancelOrderRequest request;
  request.set_order_id(order_id);
  request.set_reason(absl::GetFlag(FLAGS_reason));
  shop::v1::CancelOrderResponse response;
  grpc::Status status = stub->CancelOrder(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  return Print(response, shop::cli::DescribeOrder(response.order()));
}

// A channel to `server` at `address` with another identity than shopctl's
// own (`role`'s certificate and key flags); a usage error when unusable.
std::shared_ptr<grpc::Channel> ChannelAs(const std::string& address, const std::string& server,
                                         const std::string& role,
                                         const absl::Flag<std::string>& cert_flag,
                                         const absl::Flag<std::string>& key_flag) {
  shop::TlsFiles files{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(cert_flag),
                       absl::GetFlag(key_flag)};
  auto channel = shop::MakeChannel(address, server, files);
  if (!channel.ok()) {
    Usage(absl::StrCat("the ", role, " identity (--", role, "_cert/--", role, "_key or ",
                       shop::EnvNameForFlag(role + "_cert"), "/",
                       shop::EnvNameForFlag(role + "_key"),
                       ") is unusable: ", channel.status().message()));
  }
  return *channel;
}

// Fulfilment goes straight to OPS with the staff identity.
int Fulfil(const std::string& step, const std::string& order_id) {
  const std::string address = absl::GetFlag(FLAGS_ops_addr);
  if (address.empty()) Usage("fulfil needs --ops_addr (or SHOP_OPS_ADDR)");
  auto stub = shop::ops::v1::OrderProcessingService::NewStub(
      ChannelAs(address, "ops", "staff", FLAGS_staff_cert, FLAGS_staff_key));
  grpc::ClientContext ctx;
  Prepare(ctx);
  grpc::Status status;
  shop::v1::Order order;
  if (step == "processing") {
    shop::ops::v1::StartProcessingRequest request;
    request.set_order_id(order_id);
    shop::ops::v1::StartProcessingResponse response;
    status = stub->StartProcessing(&ctx, request, &response);
    order = response.order();
  } else if (step == "ship") {
    shop::ops::v1::ShipOrderRequest request;
    request.set_order_id(order_id);
    request.set_carrier(absl::GetFlag(FLAGS_carrier));
    request.set_tracking_number(absl::GetFlag(FLAGS_tracking));
    shop::ops::v1::ShipOrderResponse response;
    status = stub->ShipOrder(&ctx, request, &response);
    order = response.order();
  } else if (step == "deliver") {
    shop::ops::v1::DeliverOrderRequest request;
    request.set_order_id(order_id);
    shop::ops::v1::DeliverOrderResponse response;
    status = stub->DeliverOrder(&ctx, request, &response);
    order = response.order();
  } else {
    Usage("fulfil processing|ship|deliver ORDER_ID");
  }
  if (!status.ok()) return Fail(status);
  return Print(order, shop::cli::DescribeOrder(order));
}

int GetStock(const std::string& sku) {
  auto stub = shop::v1::InventoryService::NewStub(
      Channel("ims_addr", "ims", absl::GetFlag(FLAGS_ims_addr)));
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::GetStockRequest request;
  request.set_sku(sku);
  shop::v1::GetStockResponse response;
  grpc::Status status = stub->GetStock(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  const auto& s = response.stock();
  return Print(response, absl::StrCat(s.sku(), "\tavailable ", s.available(), "\treserved ",
                                      s.reserved(), "\tsold ", s.sold(), "\n"));
}

// The audit log holds every customer id and client address of the mesh, so
// only SREs read it (services/logging/authz_policy.json): trace and audit
// commands call it with the SRE identity when one is given.
std::unique_ptr<shop::v1::AuditLogService::Stub> AuditStub() {
  const std::string address = absl::GetFlag(FLAGS_logging_addr);
  if (address.empty() || absl::GetFlag(FLAGS_sre_cert).empty()) {
    return shop::v1::AuditLogService::NewStub(Channel("logging_addr", "logging", address));
  }
  return shop::v1::AuditLogService::NewStub(
      ChannelAs(address, "logging", "sre", FLAGS_sre_cert, FLAGS_sre_key));
}

shop::v1::AuditFilter FilterFromFlags() {
  shop::v1::AuditFilter filter;
  filter.set_trace_id(absl::GetFlag(FLAGS_trace));
  filter.set_order_id(absl::GetFlag(FLAGS_order));
  filter.set_service(absl::GetFlag(FLAGS_service));
  filter.set_method(absl::GetFlag(FLAGS_method));
  filter.set_caller(absl::GetFlag(FLAGS_caller));
  filter.set_errors_only(absl::GetFlag(FLAGS_errors_only));
  return filter;
}

int AuditQuery(shop::v1::AuditFilter filter) {
  auto stub = AuditStub();
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::QueryRequest request;
  *request.mutable_filter() = std::move(filter);
  request.set_page_size(absl::GetFlag(FLAGS_page_size) == 0 ? 1000
                                                            : absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  shop::v1::QueryResponse response;
  grpc::Status status = stub->Query(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  std::string human;
  for (const auto& r : response.records()) human += shop::cli::DescribeRecord(r);
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&human, "(more: --page_token=", response.next_page_token(), ")\n");
  }
  return Print(response, human);
}

int AuditTail() {
  auto stub = AuditStub();
  grpc::ClientContext ctx;  // no deadline: follows until interrupted
  shop::v1::TailRequest request;
  *request.mutable_filter() = FilterFromFlags();
  auto reader = stub->Tail(&ctx, request);
  shop::v1::AuditRecord record;
  while (reader->Read(&record)) {
    std::fputs(
        (absl::GetFlag(FLAGS_json) ? shop::cli::ToJson(record) : shop::cli::DescribeRecord(record))
            .c_str(),
        stdout);
    std::fflush(stdout);
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(status);
}

int ShowTrace(const std::string& id) {
  auto stub = AuditStub();
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::GetTraceRequest request;
  bool is_trace_id =
      id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (is_trace_id) {
    request.set_trace_id(id);
  } else {
    request.set_order_id(id);
  }
  shop::v1::GetTraceResponse response;
  grpc::Status status = stub->GetTrace(&ctx, request, &response);
  if (!status.ok()) return Fail(status);
  return Print(response, shop::cli::DescribeTrace(response));
}

std::string ReadFileOrDie(const std::string& path, const std::string& what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Usage(absl::StrCat("cannot read ", what, " ", path));
  std::string data;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) data.append(buffer, n);
  std::fclose(f);
  return data;
}

// The auditor's side of the checkpoint protocol (services/logging/checkpoint.h):
// the log's latest checkpoint must verify under its public key and extend the
// checkpoint kept in `path` from the last run; then it replaces it. Returns
// "" when all is well, else what is wrong.
std::string CheckAndKeepCheckpoint(shop::v1::AuditLogService::Stub& stub, const std::string& path,
                                   bool* had_one) {
  const std::string key_path = absl::GetFlag(FLAGS_audit_public_key);
  if (key_path.empty()) {
    Usage("audit verify --audit_checkpoint needs --audit_public_key (or SHOP_AUDIT_PUBLIC_KEY)");
  }
  const std::string public_key = ReadFileOrDie(key_path, "audit public key");
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::SignedTreeHead head;
  grpc::Status status = stub.GetTreeHead(&ctx, {}, &head);
  if (!status.ok()) return absl::StrCat("cannot read the tree head: ", status.error_message());
  auto latest = shop::logging::OpenCheckpoint(public_key, head.checkpoint());
  if (!latest.ok()) return absl::StrCat("the log's checkpoint: ", latest.status().message());
  std::FILE* f = std::fopen(path.c_str(), "rb");
  *had_one = f != nullptr;
  if (f != nullptr) {
    std::fclose(f);
    auto kept = shop::logging::OpenCheckpoint(public_key, ReadFileOrDie(path, "checkpoint"));
    if (!kept.ok())
      return absl::StrCat("the kept checkpoint ", path, ": ", kept.status().message());
    std::vector<shop::logging::Hash> proof;
    if (kept->tree_size > 0 && kept->tree_size < latest->tree_size) {
      grpc::ClientContext proof_ctx;
      Prepare(proof_ctx);
      shop::v1::GetConsistencyProofRequest request;
      request.set_first_size(static_cast<int64_t>(kept->tree_size));
      request.set_second_size(static_cast<int64_t>(latest->tree_size));
      shop::v1::GetConsistencyProofResponse response;
      status = stub.GetConsistencyProof(&proof_ctx, request, &response);
      if (!status.ok()) {
        return absl::StrCat("no consistency proof from the kept checkpoint (", kept->tree_size,
                            " records): ", status.error_message());
      }
      for (const std::string& node : response.proof()) {
        auto hash = shop::logging::HashFromBytes(node);
        if (!hash) return "the consistency proof holds a hash that is not 32 bytes";
        proof.push_back(*hash);
      }
    }
    if (absl::Status s = shop::logging::CheckCheckpointFollows(*kept, *latest, proof); !s.ok()) {
      return absl::StrCat(s.message(), " (checkpoint kept in ", path, ")");
    }
  }
  const std::string temp = path + ".new";
  std::FILE* out = std::fopen(temp.c_str(), "wb");
  if (out == nullptr || std::fwrite(head.checkpoint().data(), 1, head.checkpoint().size(), out) !=
                            head.checkpoint().size()) {
    if (out != nullptr) std::fclose(out);
    return absl::StrCat("cannot save the checkpoint to ", temp);
  }
  std::fclose(out);
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::StrCat("cannot save the checkpoint to ", path);
  }
  return "";
}

int AuditVerify() {
  auto stub = AuditStub();
  grpc::ClientContext ctx;
  Prepare(ctx);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  shop::v1::VerifyLogResponse response;
  grpc::Status status = stub->VerifyLog(&ctx, {}, &response);
  if (!status.ok()) return Fail(status);
  std::string human =
      absl::StrCat(response.ok() ? "OK: " : "TAMPERED: ", response.rows_checked(), " records and ",
                   response.tree_heads_checked(), " signed tree heads checked; tree size ",
                   response.tree_size(), "\n");
  if (!response.ok()) {
    absl::StrAppend(&human, "first bad leaf index: ", response.first_bad_index(), "\n");
    for (const auto& problem : response.problems()) absl::StrAppend(&human, "  ", problem, "\n");
  }
  // The log checks itself against what its own database holds; only a
  // checkpoint kept by the auditor catches a tail removed with its heads.
  const std::string checkpoint = absl::GetFlag(FLAGS_audit_checkpoint);
  std::string refused;
  if (response.ok() && !checkpoint.empty()) {
    bool had_one = false;
    refused = CheckAndKeepCheckpoint(*stub, checkpoint, &had_one);
    if (!refused.empty()) {
      human = absl::StrCat("TAMPERED: ", refused, "\n");
      response.set_ok(false);
      response.add_problems(refused);
    } else if (had_one) {
      absl::StrAppend(&human, "the log extends the checkpoint kept in ", checkpoint,
                      " (now replaced by the new one)\n");
    } else {
      absl::StrAppend(&human, "no checkpoint was kept before; the log's is now kept in ",
                      checkpoint, "\n");
    }
  }
  Print(response, human);
  return response.ok() ? 0 : kExitRpcError;
}

int AuditHead() {
  auto stub = AuditStub();
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::SignedTreeHead head;
  grpc::Status status = stub->GetTreeHead(&ctx, {}, &head);
  if (!status.ok()) return Fail(status);
  return Print(head, absl::StrCat("tree size ", head.tree_size(), "\nroot      ",
                                  absl::BytesToHexString(head.root_hash()), "\nsigned at ",
                                  absl::FormatTime(absl::FromUnixMillis(head.timestamp_unix_ms())),
                                  " by key ", head.key_id(), "\n"));
}

int AuditProof(const std::string& which) {
  const std::string key_path = absl::GetFlag(FLAGS_audit_public_key);
  if (key_path.empty()) {
    Usage("audit proof needs --audit_public_key (or SHOP_AUDIT_PUBLIC_KEY): the log's public key");
  }
  const std::string public_key = ReadFileOrDie(key_path, "audit public key");
  auto stub = AuditStub();
  grpc::ClientContext ctx;
  Prepare(ctx);
  shop::v1::GetInclusionProofRequest request;
  int64_t sequence = 0;
  if (absl::SimpleAtoi(which, &sequence)) {
    request.set_sequence(sequence);
  } else {
    request.set_event_id(which);
  }
  shop::v1::GetInclusionProofResponse proof;
  grpc::Status status = stub->GetInclusionProof(&ctx, request, &proof);
  if (!status.ok()) return Fail(status);
  using namespace shop::logging;
  const auto& head = proof.tree_head();
  std::optional<Hash> root = HashFromBytes(head.root_hash());
  std::vector<Hash> path;
  bool well_formed = root.has_value();
  for (const auto& h : proof.audit_path()) {
    auto hash = HashFromBytes(h);
    well_formed = well_formed && hash.has_value();
    if (hash) path.push_back(*hash);
  }
  bool included =
      well_formed &&
      VerifyInclusion(LeafHash(proof.record()), static_cast<uint64_t>(proof.leaf_index()),
                      static_cast<uint64_t>(head.tree_size()), path, *root);
  absl::Status signature = well_formed
                               ? VerifyTreeHead(public_key,
                                                TreeHead{static_cast<uint64_t>(head.tree_size()),
                                                         *root, head.timestamp_unix_ms()},
                                                head.signature())
                               : absl::DataLossError("malformed proof");
  shop::v1::AuditRecord record;
  record.ParseFromString(proof.record());
  std::string human = absl::StrCat(
      shop::cli::DescribeRecord(record), "leaf ", proof.leaf_index(), " of tree size ",
      head.tree_size(), " (", proof.audit_path_size(), " hashes)\n",
      "inclusion: ", included ? "VERIFIED" : "FAILED", "\ntree head signature: ",
      signature.ok() ? "VERIFIED (key " + head.key_id() + ")" : std::string(signature.message()),
      "\n");
  Print(proof, human);
  return included && signature.ok() ? 0 : kExitRpcError;
}

// A dev end-user token, signed with the dev identity provider's key
// (scripts/dev-pki makes it; ECP trusts it through the JWKS beside it).
int MintToken() {
  const std::string subject = absl::GetFlag(FLAGS_sub);
  if (subject.empty()) Usage("token needs --sub=CUSTOMER_ID");
  const std::string key_path = absl::GetFlag(FLAGS_jwt_key);
  if (key_path.empty()) Usage("token needs --jwt_key (or SHOP_JWT_KEY): the dev signing key");
  auto key = shop::JwtSigningKey::FromPemFile(key_path, absl::GetFlag(FLAGS_jwt_kid));
  if (!key.ok()) Usage(std::string(key.status().message()));
  shop::JwtMintRequest request;
  request.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  request.audience = absl::GetFlag(FLAGS_jwt_audience);
  request.subject = subject;
  request.roles = absl::GetFlag(FLAGS_role);
  request.issued_at = absl::Now();
  request.expires_at = absl::Now() + absl::GetFlag(FLAGS_ttl);
  auto token = shop::MintJwt(*key, request);
  if (!token.ok()) return Fail(shop::ToGrpcStatus(token.status()));
  std::printf("%s\n", token->c_str());
  return 0;
}

std::unique_ptr<shop::AuditExporter> StartTracing() {
  const std::string address = absl::GetFlag(FLAGS_logging_addr);
  auto identity = shop::ValidateTlsFiles(Tls());
  if (address.empty() || !identity.ok()) return nullptr;
  shop::SetProcessIdentity("shopctl", identity->spiffe_id);
  shop::AuditExporterOptions options;
  options.service = "shopctl";
  options.target = address;
  options.tls = Tls();
  options.stop_flush_timeout = std::chrono::seconds(2);
  auto exporter = shop::AuditExporter::Start(options);
  if (!exporter.ok()) return nullptr;
  shop::SetProcessAuditSink(exporter->get());
  return std::move(*exporter);
}

int Health() {
  const std::pair<const char*, std::string> targets[] = {
      {"ecp", absl::GetFlag(FLAGS_ecp_addr)},
      {"ops", absl::GetFlag(FLAGS_ops_addr)},
      {"ims", absl::GetFlag(FLAGS_ims_addr)},
      {"pg-adapter", absl::GetFlag(FLAGS_payments_addr)},
      {"logging", absl::GetFlag(FLAGS_logging_addr)}};
  int failures = 0, checked = 0;
  for (const auto& [name, address] : targets) {
    if (address.empty()) continue;
    ++checked;
    auto stub = grpc::health::v1::Health::NewStub(Channel("addr", name, address));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&ctx, {}, &response);
    std::string state =
        status.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status())
                    : absl::StrCat("UNREACHABLE (", status.error_message(), ")");
    if (!status.ok() || response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      ++failures;
    }
    std::printf("%-11s %-22s %s\n", name, address.c_str(), state.c_str());
  }
  if (checked == 0) Usage("no service address is set; source .run/mesh.env");
  return failures == 0 ? 0 : kExitRpcError;
}

}  // namespace

int Run(const std::vector<std::string>& words);

int main(int argc, char** argv) {
  // scripts/shopctl and .run/mesh.env set SHOP_GATEWAY_API_KEY.
  shop::RefuseSecretsOnCommandLine(argc, argv, "shopctl", {"gateway_api_key", "token"}, kExitUsage);
  std::vector<char*> args = shop::InitProcess(argc, argv, "shopctl", kUsage);
  std::vector<std::string> words(args.begin() + 1, args.end());
  // A command-line tool's own log lines are noise unless something is wrong.
  if (absl::GetFlag(FLAGS_log_level) == "info") shop::log::Init("shopctl", "warn");
  // shopctl's own spans go to the audit log too (when its address is known),
  // under one root span per command.
  std::unique_ptr<shop::AuditExporter> exporter = StartTracing();
  int code;
  {
    shop::Span root("shopctl " + absl::StrJoin(words.begin(),
                                               words.begin() + std::min<size_t>(words.size(), 2),
                                               " "));
    code = Run(words);
    if (code != 0) root.SetStatus(absl::UnknownError("command failed"));
  }
  return code;
}

int Run(const std::vector<std::string>& words) {
  auto is = [&](std::initializer_list<const char*> expected) {
    if (words.size() != expected.size()) return false;
    size_t i = 0;
    for (const char* w : expected) {
      if (w[0] != '*' && words[i] != w) return false;
      ++i;
    }
    return true;
  };
  if (is({"products"})) return Products();
  if (is({"order", "place"})) return PlaceOrder();
  if (is({"order", "get", "*"})) return GetOrder(words[2]);
  if (is({"order", "list"})) return ListOrders();
  if (is({"order", "cancel", "*"})) return CancelOrder(words[2]);
  if (is({"fulfil", "*", "*"})) return Fulfil(words[1], words[2]);
  if (is({"stock", "get", "*"})) return GetStock(words[2]);
  if (is({"audit", "query", "*", "*"})) {  // the older form: audit query trace|order|service ID
    shop::v1::AuditFilter filter;
    if (words[2] == "trace")
      filter.set_trace_id(words[3]);
    else if (words[2] == "order")
      filter.set_order_id(words[3]);
    else if (words[2] == "service")
      filter.set_service(words[3]);
    else
      Usage("audit query trace|order|service ID");
    return AuditQuery(filter);
  }
  if (is({"audit", "query"})) return AuditQuery(FilterFromFlags());
  if (is({"audit", "tail"})) return AuditTail();
  if (is({"audit", "verify"})) return AuditVerify();
  if (is({"audit", "head"})) return AuditHead();
  if (is({"audit", "proof", "*"})) return AuditProof(words[2]);
  if (is({"trace", "*"})) return ShowTrace(words[1]);
  if (is({"health"})) return Health();
  if (is({"token"})) return MintToken();
  Usage(words.empty() ? "no command" : "unknown command: " + words[0]);
}

#include "services/pg-adapter/webhook_server.h"

#include <grpcpp/channel.h>
#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/grpc/client_call.h"
#include "core/grpc/server.h"
#include "core/listen_address.h"
#include "core/log.h"
#include "core/status.h"
#include "services/pg-adapter/store.h"
#include "services/pg-adapter/webhooks.h"
#include "shop/ops/v1/ops.grpc.pb.h"

namespace shop::payments {
namespace {

class Sink final : public WebhookSink {
 public:
  Sink(PostgresPaymentStore* store,
       std::unique_ptr<shop::ops::v1::OrderProcessingService::Stub> ops)
      : store_(store), ops_(std::move(ops)) {}

  absl::StatusOr<bool> RecordOnce(const WebhookEvent& event, absl::string_view body) override {
    return store_->RecordWebhook(event.event_id, event.type, event.order_id, std::string(body));
  }
  absl::Status Forward(const WebhookEvent& event) override {
    shop::ops::v1::RecordPaymentEventRequest request;
    request.set_order_id(event.order_id);
    request.set_gateway_event_id(event.event_id);
    request.set_event_type(event.type);
    request.set_detail(event.detail.substr(0, 200));
    return CallUnary<shop::ops::v1::RecordPaymentEventResponse>(
               std::chrono::seconds(5),
               [&](grpc::ClientContext* ctx, shop::ops::v1::RecordPaymentEventResponse* out) {
                 return ops_->RecordPaymentEvent(ctx, request, out);
               })
        .status();
  }
  absl::Status MarkForwarded(const std::string& event_id) override {
    return store_->MarkWebhookForwarded(event_id);
  }

 private:
  PostgresPaymentStore* store_;
  std::unique_ptr<shop::ops::v1::OrderProcessingService::Stub> ops_;
};

}  // namespace

struct WebhookServer::Impl {
  explicit Impl(const WebhookServerOptions& o)
      : options(o), server(o.cert_file.c_str(), o.key_file.c_str()) {}
  WebhookServerOptions options;
  httplib::SSLServer server;
  std::unique_ptr<Sink> sink;
};

absl::StatusOr<std::unique_ptr<WebhookServer>> WebhookServer::Start(
    const WebhookServerOptions& options, PostgresPaymentStore* store) {
  if (options.secret.size() < 16) {
    return absl::InvalidArgumentError("the webhook secret must have at least 16 characters");
  }
  auto channel = MakeChannel(options.ops_address, "ops", options.tls);
  if (!channel.ok()) return channel.status();
  std::unique_ptr<WebhookServer> server(new WebhookServer);
  server->impl_ = std::make_unique<Impl>(options);
  Impl& impl = *server->impl_;
  if (!impl.server.is_valid()) {
    return absl::InvalidArgumentError("webhook server: cannot use the TLS certificate and key");
  }
  impl.sink =
      std::make_unique<Sink>(store, shop::ops::v1::OrderProcessingService::NewStub(*channel));
  impl.server.set_payload_max_length(size_t{64} * 1024);
  impl.server.Post("/webhooks/gateway", [&impl](const httplib::Request& request,
                                                httplib::Response& response) {
    WebhookResult result =
        HandleWebhook(*impl.sink, impl.options.secret, request.get_header_value("Stripe-Signature"),
                      request.body, absl::Now(), impl.options.tolerance);
    response.status = result.http_status;
    response.set_content(absl::StrCat("{\"message\":\"", log::JsonEscape(result.message), "\"}"),
                         "application/json");
  });
  SHOP_ASSIGN_OR_RETURN(ListenAddress listen,
                        ParseListenAddress(options.listen, "--webhook_listen"));
  const std::string& host = listen.host;
  const int port = listen.port;
  server->port_ = port == 0 ? impl.server.bind_to_any_port(host) : port;
  if (port != 0 && !impl.server.bind_to_port(host, port)) server->port_ = -1;
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("webhook server cannot listen on ", options.listen));
  }
  if (!options.port_file.empty()) {
    if (absl::Status s = WritePortFile(options.port_file, server->port_); !s.ok()) return s;
  }
  server->thread_ = std::thread([&impl] { impl.server.listen_after_bind(); });
  log::Info("webhook endpoint serving", {{"port", server->port_}});
  return server;
}

WebhookServer::~WebhookServer() {
  if (impl_) impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace shop::payments

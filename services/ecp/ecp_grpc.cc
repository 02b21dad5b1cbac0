#include "services/ecp/ecp_grpc.h"

#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"
#include "absl/time/clock.h"
#include "core/trace.h"

namespace shop::ecp {
namespace {

absl::string_view Metadata(const grpc::ServerContext& ctx, const char* key) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(key);
  return it == metadata.end() ? absl::string_view()
                              : absl::string_view(it->second.data(), it->second.size());
}

// The end user of the call (see end_user.h). It is also handed to the audit
// interceptor, which records it on this call's span.
absl::StatusOr<EndUser> UserOf(grpc::ServerContext& ctx, const EndUserAuthenticator& users) {
  absl::StatusOr<EndUser> user = users.Authenticate(
      {Metadata(ctx, "authorization"), Metadata(ctx, kCustomerHeader), PeerSpiffeId(ctx)},
      absl::Now());
  if (user.ok()) ctx.AddTrailingMetadata(kEndUserTrailer, user->customer_id);
  return user;
}

template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CustomerGrpcService::PlaceOrder(grpc::ServerContext* ctx,
                                             const shop::v1::PlaceOrderRequest* request,
                                             shop::v1::PlaceOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->PlaceOrder(user->customer_id, *request), response);
}

grpc::Status CustomerGrpcService::GetOrder(grpc::ServerContext* ctx,
                                           const shop::v1::GetOrderRequest* request,
                                           shop::v1::GetOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->GetOrder(user->customer_id, *request), response);
}

grpc::Status CustomerGrpcService::ListOrders(grpc::ServerContext* ctx,
                                             const shop::v1::ListOrdersRequest* request,
                                             shop::v1::ListOrdersResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->ListOrders(user->customer_id, *request), response);
}

grpc::Status CustomerGrpcService::WatchOrder(
    grpc::ServerContext* ctx, const shop::v1::WatchOrderRequest* request,
    grpc::ServerWriter<shop::v1::WatchOrderResponse>* writer) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  shop::v1::GetOrderRequest get;
  get.set_order_id(request->order_id());
  // OPS has no change feed yet: the order is read at a steady interval and
  // sent when its status changed (see docs/api.md).
  shop::v1::OrderStatus last = shop::v1::ORDER_STATUS_UNSPECIFIED;
  while (true) {
    absl::StatusOr<shop::v1::GetOrderResponse> now = storefront_->GetOrder(user->customer_id, get);
    if (!now.ok()) return ToGrpcStatus(now.status());
    if (now->order().status() != last) {
      last = now->order().status();
      shop::v1::WatchOrderResponse update;
      *update.mutable_order() = std::move(*now->mutable_order());
      if (!writer->Write(update)) return grpc::Status::OK;  // the watcher left
      if (IsFinalStatus(last)) return grpc::Status::OK;
    }
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
    if (std::chrono::system_clock::now() + absl::ToChronoMilliseconds(watch_interval_) >
        ctx->deadline()) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "the order is not final yet; watch again");
    }
    absl::SleepFor(watch_interval_);  // the polling interval (no change feed yet)
  }
}

grpc::Status CustomerGrpcService::CancelOrder(grpc::ServerContext* ctx,
                                              const shop::v1::CancelOrderRequest* request,
                                              shop::v1::CancelOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->CancelOrder(user->customer_id, *request), response);
}

grpc::Status CustomerGrpcService::BrowseCatalog(grpc::ServerContext* ctx,
                                                const shop::v1::BrowseCatalogRequest* request,
                                                shop::v1::BrowseCatalogResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->BrowseCatalog(*request), response);
}

grpc::Status FulfilmentGrpcService::StartProcessing(grpc::ServerContext* ctx,
                                                   const shop::v1::StartProcessingRequest* request,
                                                   shop::v1::FulfilmentResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->StartProcessing(user->customer_id, user->staff, *request), response);
}

grpc::Status FulfilmentGrpcService::ShipOrder(grpc::ServerContext* ctx,
                                             const shop::v1::ShipOrderRequest* request,
                                             shop::v1::FulfilmentResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->ShipOrder(user->customer_id, user->staff, *request), response);
}

grpc::Status FulfilmentGrpcService::DeliverOrder(grpc::ServerContext* ctx,
                                                const shop::v1::DeliverOrderRequest* request,
                                                shop::v1::FulfilmentResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->DeliverOrder(user->customer_id, user->staff, *request), response);
}

}  // namespace shop::ecp

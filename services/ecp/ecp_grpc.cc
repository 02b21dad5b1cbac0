#include "services/ecp/ecp_grpc.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"
#include "core/trace.h"

namespace shop::ecp {
namespace {

using shop::v1::Order;

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

}  // namespace

grpc::Status CustomerGrpcService::PlaceOrder(grpc::ServerContext* ctx,
                                             const shop::v1::PlaceOrderRequest* request,
                                             shop::v1::PlaceOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ReplyInto(storefront_->PlaceOrder(user->customer_id, OrderRequestFromWire(*request)),
                   response, &shop::v1::PlaceOrderResponse::mutable_order);
}

grpc::Status CustomerGrpcService::GetOrder(grpc::ServerContext* ctx,
                                           const shop::v1::GetOrderRequest* request,
                                           shop::v1::GetOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ReplyInto(storefront_->GetOrder(user->customer_id, request->order_id()), response,
                   &shop::v1::GetOrderResponse::mutable_order);
}

grpc::Status CustomerGrpcService::ListOrders(grpc::ServerContext* ctx,
                                             const shop::v1::ListOrdersRequest* request,
                                             shop::v1::ListOrdersResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return Reply(storefront_->ListOrders(user->customer_id, request->page_size(),
                                       request->page_token(), request->status()),
               [&](OrderPage page) {
                 for (auto& order : page.orders) *response->add_orders() = std::move(order);
                 response->set_next_page_token(page.next_page_token);
               });
}

grpc::Status CustomerGrpcService::WatchOrder(
    grpc::ServerContext* ctx, const shop::v1::WatchOrderRequest* request,
    grpc::ServerWriter<shop::v1::WatchOrderResponse>* writer) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ToGrpcStatus(storefront_->WatchOrder(
      user->customer_id, request->order_id(), absl::FromChrono(ctx->deadline()),
      [writer](const Order& order) {
        shop::v1::WatchOrderResponse update;
        *update.mutable_order() = order;
        return writer->Write(update);
      },
      [ctx] { return ctx->IsCancelled(); }));
}

grpc::Status CustomerGrpcService::CancelOrder(grpc::ServerContext* ctx,
                                              const shop::v1::CancelOrderRequest* request,
                                              shop::v1::CancelOrderResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ReplyInto(
      storefront_->CancelOrder(user->customer_id, request->order_id(), request->reason()), response,
      &shop::v1::CancelOrderResponse::mutable_order);
}

grpc::Status CustomerGrpcService::BrowseCatalog(grpc::ServerContext* ctx,
                                                const shop::v1::BrowseCatalogRequest* request,
                                                shop::v1::BrowseCatalogResponse* response) {
  SHOP_RPC_ENTER(ctx);
  return Reply(storefront_->BrowseCatalog(request->page_size(), request->page_token()),
               [&](ProductPage page) {
                 for (auto& product : page.products) {
                   *response->add_products() = std::move(product);
                 }
                 response->set_next_page_token(page.next_page_token);
               });
}

grpc::Status FulfilmentGrpcService::StartProcessing(grpc::ServerContext* ctx,
                                                    const shop::v1::StartProcessingRequest* request,
                                                    shop::v1::FulfilmentResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ReplyInto(storefront_->StartProcessing({user->customer_id, user->staff},
                                                request->order_id(), request->note()),
                   response, &shop::v1::FulfilmentResponse::mutable_order);
}

grpc::Status FulfilmentGrpcService::ShipOrder(grpc::ServerContext* ctx,
                                              const shop::v1::ShipOrderRequest* request,
                                              shop::v1::FulfilmentResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ReplyInto(storefront_->ShipOrder({user->customer_id, user->staff}, request->order_id(),
                                          request->carrier(), request->tracking_number()),
                   response, &shop::v1::FulfilmentResponse::mutable_order);
}

grpc::Status FulfilmentGrpcService::DeliverOrder(grpc::ServerContext* ctx,
                                                 const shop::v1::DeliverOrderRequest* request,
                                                 shop::v1::FulfilmentResponse* response) {
  SHOP_RPC_ENTER(ctx);
  absl::StatusOr<EndUser> user = UserOf(*ctx, *users_);
  if (!user.ok()) return ToGrpcStatus(user.status());
  return ReplyInto(storefront_->DeliverOrder({user->customer_id, user->staff}, request->order_id(),
                                             request->note()),
                   response, &shop::v1::FulfilmentResponse::mutable_order);
}

}  // namespace shop::ecp

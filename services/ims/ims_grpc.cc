#include "services/ims/ims_grpc.h"

#include <google/protobuf/util/time_util.h>

#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/grpc/identity.h"
#include "core/trace.h"

namespace shop::ims {
namespace {

std::vector<LineRequest> ToLines(
    const google::protobuf::RepeatedPtrField<shop::v1::LineItem>& items) {
  std::vector<LineRequest> lines;
  lines.reserve(items.size());
  for (const auto& item : items) lines.push_back(LineRequest{item.sku(), item.quantity()});
  return lines;
}

shop::v1::ReservationStatus ToProto(ReservationStatus status) {
  switch (status) {
    case ReservationStatus::kReserved:
      return shop::v1::RESERVATION_STATUS_RESERVED;
    case ReservationStatus::kCommitted:
      return shop::v1::RESERVATION_STATUS_COMMITTED;
    case ReservationStatus::kReleased:
      return shop::v1::RESERVATION_STATUS_RELEASED;
    case ReservationStatus::kRestocked:
      return shop::v1::RESERVATION_STATUS_RESTOCKED;
  }
  return shop::v1::RESERVATION_STATUS_UNSPECIFIED;
}

void ToProto(const Reservation& reservation, shop::v1::Reservation* proto) {
  proto->set_reservation_id(reservation.reservation_id);
  proto->set_order_id(reservation.order_id);
  proto->set_status(ToProto(reservation.status));
  for (const ReservedLine& line : reservation.lines) {
    auto* out = proto->add_lines();
    out->set_sku(line.sku);
    out->set_name(line.name);
    out->set_quantity(line.quantity);
    MoneyToProto(line.unit_price, out->mutable_unit_price());
  }
  *proto->mutable_expire_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(reservation.expires_at));
}

void ToProto(const Product& product, shop::v1::Product* proto) {
  proto->set_sku(product.sku);
  proto->set_name(product.name);
  proto->set_description(product.description);
  MoneyToProto(product.unit_price, proto->mutable_unit_price());
  proto->set_available_quantity(product.available);
}

}  // namespace

grpc::Status InventoryGrpcService::CheckAvailability(
    grpc::ServerContext* ctx, const shop::v1::CheckAvailabilityRequest* request,
    shop::v1::CheckAvailabilityResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = inventory_->CheckAvailability(ToLines(request->lines()));
  if (!result.ok()) return ToGrpcStatus(result.status());
  bool all = true;
  for (const Availability& a : *result) {
    auto* item = response->add_items();
    item->set_sku(a.sku);
    item->set_requested_quantity(a.requested);
    item->set_available_quantity(a.available);
    item->set_sufficient(a.available >= a.requested);
    all = all && item->sufficient();
  }
  response->set_all_available(all);
  return grpc::Status::OK;
}

grpc::Status InventoryGrpcService::Reserve(grpc::ServerContext* ctx,
                                           const shop::v1::ReserveRequest* request,
                                           shop::v1::ReserveResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = inventory_->Reserve(request->order_id(), ToLines(request->lines()),
                                    request->ttl_seconds(), PeerSpiffeId(*ctx));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response->mutable_reservation());
  return grpc::Status::OK;
}

grpc::Status InventoryGrpcService::Commit(grpc::ServerContext* ctx,
                                          const shop::v1::CommitRequest* request,
                                          shop::v1::CommitResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = inventory_->Commit(request->reservation_id(), PeerSpiffeId(*ctx));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response->mutable_reservation());
  return grpc::Status::OK;
}

grpc::Status InventoryGrpcService::Release(grpc::ServerContext* ctx,
                                           const shop::v1::ReleaseRequest* request,
                                           shop::v1::ReleaseResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = inventory_->Release(request->reservation_id(), request->order_id(),
                                    request->reason(), PeerSpiffeId(*ctx));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response->mutable_reservation());
  return grpc::Status::OK;
}

grpc::Status InventoryGrpcService::Restock(grpc::ServerContext* ctx,
                                           const shop::v1::RestockRequest* request,
                                           shop::v1::RestockResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result =
      inventory_->Restock(request->reservation_id(), request->reason(), PeerSpiffeId(*ctx));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response->mutable_reservation());
  return grpc::Status::OK;
}

grpc::Status InventoryGrpcService::GetStock(grpc::ServerContext* ctx,
                                            const shop::v1::GetStockRequest* request,
                                            shop::v1::GetStockResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = inventory_->GetStock(request->sku());
  if (!result.ok()) return ToGrpcStatus(result.status());
  auto* stock = response->mutable_stock();
  stock->set_sku(result->sku);
  stock->set_available(result->available);
  stock->set_reserved(result->reserved);
  stock->set_sold(result->sold);
  return grpc::Status::OK;
}

grpc::Status InventoryGrpcService::ListProducts(grpc::ServerContext* ctx,
                                                const shop::v1::ListProductsRequest* request,
                                                shop::v1::ListProductsResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto result = inventory_->ListProducts(request->page_size(), request->page_token());
  if (!result.ok()) return ToGrpcStatus(result.status());
  for (const Product& product : result->products) ToProto(product, response->add_products());
  response->set_next_page_token(result->next_page_token);
  return grpc::Status::OK;
}

}  // namespace shop::ims

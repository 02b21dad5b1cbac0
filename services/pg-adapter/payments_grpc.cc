#include "services/pg-adapter/payments_grpc.h"

#include "core/grpc/call_context.h"
#include "core/grpc/grpc_status.h"
#include "core/status.h"
#include "core/trace.h"

namespace shop::payments {
namespace {

shop::v1::PaymentStatus ToProto(PaymentState state) {
  switch (state) {
    case PaymentState::kAuthorized:
      return shop::v1::PAYMENT_STATUS_AUTHORIZED;
    case PaymentState::kCaptured:
      return shop::v1::PAYMENT_STATUS_CAPTURED;
    case PaymentState::kVoided:
      return shop::v1::PAYMENT_STATUS_VOIDED;
    case PaymentState::kRefunded:
      return shop::v1::PAYMENT_STATUS_REFUNDED;
    case PaymentState::kPartiallyRefunded:
      return shop::v1::PAYMENT_STATUS_PARTIALLY_REFUNDED;
    case PaymentState::kDeclined:
      return shop::v1::PAYMENT_STATUS_DECLINED;
    case PaymentState::kFailed:
    case PaymentState::kUnknown:
      return shop::v1::PAYMENT_STATUS_FAILED;
    case PaymentState::kPending:
      break;
  }
  return shop::v1::PAYMENT_STATUS_UNSPECIFIED;
}

void SetMoney(const std::string& currency, int64_t minor, shop::v1::Money* out) {
  auto money = FromMinorUnits(currency, minor);
  if (money.ok()) MoneyToProto(*money, out);
}

void ToProto(const Payment& p, shop::v1::Payment* out) {
  out->set_payment_id(p.payment_id);
  out->set_order_id(p.order_id);
  out->set_status(ToProto(p.state));
  SetMoney(p.currency, p.amount_minor, out->mutable_amount());
  SetMoney(p.currency, p.captured_minor, out->mutable_captured());
  SetMoney(p.currency, p.refunded_minor, out->mutable_refunded());
  out->set_gateway_reference(p.gateway_intent_id);
  out->set_decline_code(p.decline_code);
}

absl::Time Deadline(const grpc::ServerContext& ctx) {
  auto deadline = ctx.deadline();
  // No deadline from the caller: bound the work anyway.
  auto cap = std::chrono::system_clock::now() + std::chrono::seconds(30);
  return absl::FromChrono(std::min(deadline, cap));
}

}  // namespace

grpc::Status PaymentGatewayGrpcService::Authorize(grpc::ServerContext* ctx,
                                                  const shop::v1::AuthorizeRequest* request,
                                                  shop::v1::AuthorizeResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto amount = MoneyFromProto(request->amount());
  if (!amount.ok()) {
    FieldViolations violations;
    violations.Add("amount", std::string(amount.status().message()));
    return ToGrpcStatus(violations.ToStatus());
  }
  auto payment = payments_->Authorize(request->order_id(), *amount, request->payment_method_token(),
                                      request->idempotency_key(), Deadline(*ctx));
  if (!payment.ok()) return ToGrpcStatus(payment.status());
  ToProto(*payment, response->mutable_payment());
  return grpc::Status::OK;
}

grpc::Status PaymentGatewayGrpcService::Capture(grpc::ServerContext* ctx,
                                                const shop::v1::CaptureRequest* request,
                                                shop::v1::CaptureResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto payment =
      payments_->Capture(request->payment_id(), request->idempotency_key(), Deadline(*ctx));
  if (!payment.ok()) return ToGrpcStatus(payment.status());
  ToProto(*payment, response->mutable_payment());
  return grpc::Status::OK;
}

grpc::Status PaymentGatewayGrpcService::Void(grpc::ServerContext* ctx,
                                             const shop::v1::VoidRequest* request,
                                             shop::v1::VoidResponse* response) {
  SHOP_RPC_ENTER(ctx);
  auto payment = payments_->Void(request->payment_id(), request->authorization_key(),
                                 request->idempotency_key(), Deadline(*ctx));
  if (!payment.ok()) return ToGrpcStatus(payment.status());
  ToProto(*payment, response->mutable_payment());
  return grpc::Status::OK;
}

grpc::Status PaymentGatewayGrpcService::Refund(grpc::ServerContext* ctx,
                                               const shop::v1::RefundRequest* request,
                                               shop::v1::RefundResponse* response) {
  SHOP_RPC_ENTER(ctx);
  std::optional<Money> amount;
  if (request->has_amount()) {
    auto parsed = MoneyFromProto(request->amount());
    if (!parsed.ok()) {
      FieldViolations violations;
      violations.Add("amount", std::string(parsed.status().message()));
      return ToGrpcStatus(violations.ToStatus());
    }
    amount = *parsed;
  }
  auto result =
      payments_->Refund(request->payment_id(), amount, request->idempotency_key(), Deadline(*ctx));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(result->payment, response->mutable_payment());
  response->set_refund_id(result->refund_id);
  return grpc::Status::OK;
}

}  // namespace shop::payments

#include "services/ops/order_processor.h"

#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/span.h"
#include "core/status.h"
#include "core/validation.h"
#include "google/rpc/error_details.pb.h"
#include "services/ops/lifecycle.h"

namespace shop::ops {
namespace {

using shop::v1::Order;

// Adds order_id to the error's ErrorInfo (or adds an ErrorInfo).
absl::Status WithOrderId(absl::Status error, const std::string& order_id) {
  google::rpc::ErrorInfo info;
  if (!GetDetail(error, info)) {
    info.set_domain(std::string(kErrorDomain));
    info.set_reason(ReasonName(shop::v1::ORDER_FAILED));
  }
  (*info.mutable_metadata())["order_id"] = order_id;
  AddDetail(error, info);
  return error;
}

absl::Status InProgress(const std::string& order_id) {
  absl::Status status = ErrorWithReason(absl::StatusCode::kAborted,
                                        "this order is still being processed; retry shortly",
                                        shop::v1::ORDER_IN_PROGRESS, {{"order_id", order_id}});
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(1);
  AddDetail(status, retry);
  return status;
}

// Failures that say nothing about the outcome: the step may still succeed.
bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kAborted ||
         status.code() == absl::StatusCode::kCancelled;
}

bool IsDecline(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

// A failed order stays failed: replaying a retryable code (UNAVAILABLE...)
// would invite retries of the same key forever. The same reason and message
// come back as FAILED_PRECONDITION; a new attempt needs a new key.
absl::Status AsFinal(const absl::Status& failure) {
  switch (failure.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown: {
      absl::Status final_status(absl::StatusCode::kFailedPrecondition,
                                absl::StrCat("order failed: ", failure.message()));
      failure.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
        final_status.SetPayload(url, payload);
      });
      return final_status;
    }
    default:
      return failure;
  }
}

absl::Status ValidateOrderAndNote(const std::string& order_id, const std::string& note) {
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  CheckText("note", note, violations);
  return violations.ToStatus();
}

std::string AuthorizeKey(const std::string& order_id) { return order_id + ":authorize"; }

// The reason `status` carries as it travels (kept as sent, even one this
// build does not know), or `fallback`.
std::string ReasonOr(const absl::Status& status, shop::v1::ErrorReason fallback) {
  std::string reason = ErrorReason(status);
  return reason.empty() ? ReasonName(fallback) : reason;
}

// One run of a saga step: its internal span (current on this thread while
// it lives, so the step's calls and transactions nest inside) and its journal
// rows (STARTED, then DONE or FAILED), each of which renews the lease.
class StepRun {
 public:
  StepRun(OrderStore* store, const std::string& order_id, SagaStep step)
      : store_(store),
        order_id_(order_id),
        step_(step),
        span_(absl::StrCat("saga.", SagaStepName(step)), order_id) {}

  absl::Status Start() { return store_->RecordStep(order_id_, step_, StepState::kStarted, ""); }
  absl::Status Done(const std::string& detail = "") {
    return store_->RecordStep(order_id_, step_, StepState::kDone, detail);
  }
  // Marks the span failed and journals the error's message.
  absl::Status Failed(const absl::Status& error) {
    span_.SetStatus(error);
    return store_->RecordStep(order_id_, step_, StepState::kFailed, std::string(error.message()));
  }

 private:
  OrderStore* store_;
  const std::string order_id_;
  const SagaStep step_;
  Span span_;
};

}  // namespace

absl::StatusOr<Order> OrderProcessor::PlaceOrder(const OrderRequest& request,
                                                 const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateOrderRequest(request));
  Order order;
  order.set_order_id(NewId("ord"));
  order.set_customer_id(request.customer_id);
  order.set_status(shop::v1::ORDER_STATUS_PENDING);
  for (const auto& item : request.lines) {
    auto* line = order.add_lines();
    line->set_sku(item.sku());
    line->set_quantity(item.quantity());
  }
  *order.mutable_shipping_address() = *request.shipping_address;
  *order.mutable_billing_address() = request.billing_address.value_or(*request.shipping_address);

  const std::string hash = OrderRequestDigest(request);
  // An unknown SKU is bad input: refuse it before anything is written.
  SHOP_RETURN_IF_ERROR(inventory_->CheckSkusExist(request.lines));
  SHOP_ASSIGN_OR_RETURN(OrderStore::Created created,
                        store_->CreatePending(order, request.idempotency_key, hash,
                                              request.payment_method_token, actor));
  if (!created.created) {
    const OrderRecord& existing = created.record;
    const std::string& id = existing.order.order_id();
    if (existing.request_hash != hash) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                             "idempotency key was already used for a different order",
                             shop::v1::IDEMPOTENCY_KEY_REUSED, {{"order_id", id}});
    }
    if (existing.saga != SagaState::kDone) return InProgress(id);
    if (!existing.failure_status.ok()) return AsFinal(existing.failure_status);
    Order first;
    if (!existing.placement_response.empty() &&
        first.ParseFromString(existing.placement_response)) {
      return first;
    }
    return store_->Get(id);
  }
  Emit("order.placed", created.record.order);
  return RunForward(std::move(created.record), actor);
}

absl::StatusOr<Order> OrderProcessor::RunForward(OrderRecord record, const std::string& actor) {
  Order& order = record.order;
  const std::string order_id = order.order_id();
  // One step at a time: its span (its calls and transactions nest inside)
  // and its journal rows.
  std::optional<StepRun> step;
  auto begin = [&](SagaStep name) {
    step.reset();
    step.emplace(store_, order_id, name);
    return step->Start();
  };

  // Step 1: hold the stock (one reservation per order, so this may find the
  // one a previous run made). The reservation fixes the prices.
  SHOP_RETURN_IF_ERROR(begin(SagaStep::kReserve));
  google::protobuf::RepeatedPtrField<shop::v1::LineItem> items;
  for (const auto& line : order.lines()) {
    auto* item = items.Add();
    item->set_sku(line.sku());
    item->set_quantity(line.quantity());
  }
  absl::StatusOr<shop::v1::Reservation> reservation = inventory_->Reserve(order_id, items);
  if (reservation.ok() && reservation->status() != shop::v1::RESERVATION_STATUS_RESERVED &&
      reservation->status() != shop::v1::RESERVATION_STATUS_COMMITTED) {
    reservation = ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                  "the stock reservation expired before the order completed",
                                  shop::v1::RESERVATION_EXPIRED);
  }
  if (!reservation.ok()) {
    SHOP_RETURN_IF_ERROR(step->Failed(reservation.status()));
    order.set_failure_reason(ReasonOr(reservation.status(), shop::v1::INVENTORY_UNAVAILABLE));
    return Fail(record, shop::v1::ORDER_STATUS_FAILED, reservation.status(), actor);
  }
  order.set_reservation_id(reservation->reservation_id());
  for (auto& line : *order.mutable_lines()) {
    for (const auto& held : reservation->lines()) {
      if (held.sku() != line.sku()) continue;
      line.set_name(held.name());
      *line.mutable_unit_price() = held.unit_price();
    }
  }
  absl::Status priced = PriceOrder(pricing_, order);
  SHOP_RETURN_IF_ERROR(step->Done(reservation->reservation_id()));
  if (!priced.ok()) {
    order.set_failure_reason(ReasonName(shop::v1::PRICING_FAILED));
    return Fail(record, shop::v1::ORDER_STATUS_FAILED, priced, actor);
  }
  SHOP_RETURN_IF_ERROR(store_->SaveProgress(order));

  // Step 2: authorize the grand total (the key makes a repeat a replay).
  SHOP_RETURN_IF_ERROR(begin(SagaStep::kAuthorize));
  absl::StatusOr<shop::v1::Payment> payment = payments_->Authorize(
      order_id, order.totals().grand_total(), record.payment_method_token, AuthorizeKey(order_id));
  if (!payment.ok()) {
    SHOP_RETURN_IF_ERROR(step->Failed(payment.status()));
    order.set_failure_reason(ReasonOr(payment.status(), shop::v1::PAYMENT_FAILED));
    order.set_payment_status(IsDecline(payment.status()) ? shop::v1::PAYMENT_STATUS_DECLINED
                                                         : shop::v1::PAYMENT_STATUS_FAILED);
    return Fail(record, shop::v1::ORDER_STATUS_PAYMENT_FAILED, payment.status(), actor);
  }
  order.set_payment_id(payment->payment_id());
  order.set_payment_status(shop::v1::PAYMENT_STATUS_AUTHORIZED);
  SHOP_RETURN_IF_ERROR(step->Done(payment->payment_id()));
  SHOP_RETURN_IF_ERROR(store_->SaveProgress(order));

  // Step 3: reduce the inventory level, only now that payment is authorized.
  // From here on the customer is paid up (authorized): a transient failure
  // is finished forward by recovery, not unwound.
  SHOP_RETURN_IF_ERROR(begin(SagaStep::kCommitStock));
  absl::StatusOr<shop::v1::Reservation> committed = inventory_->Commit(order.reservation_id());
  if (!committed.ok()) {
    SHOP_RETURN_IF_ERROR(step->Failed(committed.status()));
    if (IsTransient(committed.status())) return LeaveForRecovery(order_id, SagaStep::kCommitStock);
    order.set_failure_reason(
        ReasonName(ReasonOf(committed.status()) == shop::v1::RESERVATION_RELEASED
                       ? shop::v1::RESERVATION_EXPIRED
                       : shop::v1::INVENTORY_UNAVAILABLE));
    return Fail(record, shop::v1::ORDER_STATUS_FAILED, committed.status(), actor);
  }
  SHOP_RETURN_IF_ERROR(step->Done());

  // Step 4: take the money.
  SHOP_RETURN_IF_ERROR(begin(SagaStep::kCapture));
  absl::StatusOr<shop::v1::Payment> captured =
      payments_->Capture(order.payment_id(), order_id + ":capture");
  if (!captured.ok()) {
    SHOP_RETURN_IF_ERROR(step->Failed(captured.status()));
    if (IsTransient(captured.status())) return LeaveForRecovery(order_id, SagaStep::kCapture);
    order.set_failure_reason(ReasonOr(captured.status(), shop::v1::CAPTURE_FAILED));
    return Fail(record, shop::v1::ORDER_STATUS_PAYMENT_FAILED, captured.status(), actor);
  }
  order.set_payment_status(shop::v1::PAYMENT_STATUS_CAPTURED);
  SHOP_RETURN_IF_ERROR(step->Done());
  step.reset();

  order.set_status(shop::v1::ORDER_STATUS_CONFIRMED);
  absl::Status confirmed = store_->Transition(order, shop::v1::ORDER_STATUS_PENDING, actor,
                                              "payment captured", "ORDER_CONFIRMATION");
  if (!confirmed.ok()) {
    // Someone else (recovery) finished it first: answer with what it became.
    log::Warn("order finished elsewhere",
              {{"order_id", order_id}, {"error", std::string(confirmed.message())}});
    return store_->Get(order_id);
  }
  Emit("order.confirmed", order, {{"payment_id", order.payment_id()}});
  SHOP_ASSIGN_OR_RETURN(Order full, store_->Get(order_id));
  SHOP_RETURN_IF_ERROR(store_->SavePlacementResponse(order_id, full.SerializeAsString()));
  return full;
}

absl::Status OrderProcessor::LeaveForRecovery(const std::string& order_id, SagaStep step) {
  // The recovery loop retries the step (all steps are idempotent); the
  // caller retries with its key and gets the final answer.
  SHOP_RETURN_IF_ERROR(store_->DropLease(order_id));
  log::Warn("step failed; left to recovery",
            {{"order_id", order_id}, {"step", std::string(SagaStepName(step))}});
  return InProgress(order_id);
}

absl::Status OrderProcessor::Fail(OrderRecord& record, shop::v1::OrderStatus target,
                                  absl::Status error, const std::string& actor) {
  const std::string& order_id = record.order.order_id();
  error = WithOrderId(std::move(error), order_id);
  SHOP_RETURN_IF_ERROR(store_->SaveProgress(record.order));
  SHOP_RETURN_IF_ERROR(store_->BeginCompensation(order_id, target, error));
  record.saga = SagaState::kCompensating;
  record.target = target;
  record.failure_status = error;
  absl::Status compensated = Compensate(record, actor, "");
  if (!compensated.ok()) {
    // The order stays PENDING/COMPENSATING; the recovery loop finishes it.
    log::Warn("compensation incomplete; recovery will retry",
              {{"order_id", order_id}, {"error", std::string(compensated.message())}});
  }
  return error;
}

absl::Status OrderProcessor::Compensate(OrderRecord& record, const std::string& actor,
                                        const std::string& note) {
  Order& order = record.order;
  const std::string& order_id = order.order_id();
  const bool cancelling = record.target == shop::v1::ORDER_STATUS_CANCELLED;
  StepRun step(store_, order_id, cancelling ? SagaStep::kCancel : SagaStep::kCompensate);
  SHOP_RETURN_IF_ERROR(step.Start());
  absl::Status unwound = Unwind(order, cancelling ? "cancelled" : order.failure_reason());
  if (!unwound.ok()) {
    SHOP_RETURN_IF_ERROR(step.Failed(unwound));
    return unwound;
  }
  const shop::v1::OrderStatus from = order.status();
  order.set_status(record.target);
  std::string history_note = note;
  if (history_note.empty()) history_note = cancelling ? "cancelled" : order.failure_reason();
  SHOP_RETURN_IF_ERROR(
      store_->Transition(order, from, actor, history_note, cancelling ? "ORDER_CANCELLATION" : ""));
  SHOP_RETURN_IF_ERROR(step.Done(order.refund_id()));
  if (cancelling) {
    Emit("order.cancelled", order, {{"refund_id", order.refund_id()}});
  } else {
    Emit(record.target == shop::v1::ORDER_STATUS_PAYMENT_FAILED ? "order.payment_failed"
                                                                : "order.failed",
         order, {{"reason", order.failure_reason()}});
  }
  return absl::OkStatus();
}

absl::Status OrderProcessor::Unwind(Order& order, const std::string& reason) {
  const std::string& order_id = order.order_id();
  // Stock: release what is held, restock what was sold.
  absl::StatusOr<shop::v1::Reservation> released = inventory_->Release(
      order.reservation_id(), order.reservation_id().empty() ? order_id : "", reason);
  if (!released.ok()) {
    if (ReasonOf(released.status()) == shop::v1::RESERVATION_COMMITTED &&
        !order.reservation_id().empty()) {
      absl::StatusOr<shop::v1::Reservation> restocked =
          inventory_->Restock(order.reservation_id(), reason);
      if (!restocked.ok()) return restocked.status();
    } else if (released.status().code() != absl::StatusCode::kNotFound) {
      return released.status();
    }
  }
  // Money: void what is authorized, refund what was captured.
  absl::StatusOr<shop::v1::Payment> voided =
      payments_->Void(order.payment_id(), order.payment_id().empty() ? AuthorizeKey(order_id) : "",
                      order_id + ":void");
  if (voided.ok()) {
    if (voided->status() == shop::v1::PAYMENT_STATUS_VOIDED) {
      order.set_payment_status(shop::v1::PAYMENT_STATUS_VOIDED);
    }
    return absl::OkStatus();
  }
  if (voided.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (ReasonOf(voided.status()) != shop::v1::PAYMENT_CAPTURED || order.payment_id().empty()) {
    return voided.status();
  }
  absl::StatusOr<shop::v1::RefundResponse> refunded =
      payments_->Refund(order.payment_id(), order_id + ":refund", reason);
  if (!refunded.ok()) return refunded.status();
  order.set_refund_id(refunded->refund_id());
  order.set_payment_status(shop::v1::PAYMENT_STATUS_REFUNDED);
  return absl::OkStatus();
}

absl::StatusOr<Order> OrderProcessor::Resume(OrderRecord record, const std::string& actor) {
  if (record.saga == SagaState::kCompensating) {
    SHOP_RETURN_IF_ERROR(Compensate(record, actor, ""));
    return store_->Get(record.order.order_id());
  }
  return RunForward(std::move(record), actor);
}

int OrderProcessor::RecoverAbandoned() {
  // After an outage many sagas wait: drain them in batches, a few at a time,
  // for at most a while per call (the next tick continues).
  constexpr int kBatch = 32;
  constexpr int kWorkers = 4;
  const absl::Time until = clock_->Now() + absl::Seconds(20);
  std::atomic<int> finished{0};
  while (clock_->Now() < until) {
    absl::StatusOr<std::vector<OrderRecord>> claimed = store_->ClaimAbandoned(kBatch);
    if (!claimed.ok()) {
      log::Warn("recovery could not claim orders",
                {{"error", std::string(claimed.status().message())}});
      break;
    }
    std::vector<OrderRecord>& batch = *claimed;
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < batch.size(); i = next++) {
        const std::string order_id = batch[i].order.order_id();
        Span span("saga.recover", order_id);
        span.SetAttribute("saga.compensating",
                          batch[i].saga == SagaState::kCompensating ? "true" : "false");
        log::Info(
            "recovering order",
            {{"order_id", order_id}, {"compensating", batch[i].saga == SagaState::kCompensating}});
        Emit("order.recovery", batch[i].order);
        absl::StatusOr<Order> result = Resume(std::move(batch[i]), "ops-recovery");
        absl::StatusOr<OrderRecord> after = store_->GetRecord(order_id);
        if (after.ok() && after->saga == SagaState::kDone) {
          ++finished;
        } else {
          log::Warn("order not finished yet",
                    {{"order_id", order_id}, {"error", std::string(result.status().message())}});
        }
      }
    };
    std::vector<std::thread> workers;
    // Short-lived threads per batch, not a pool: recovery runs every few
    // seconds and only after an outage has work; four threads per batch of
    // 32 sagas cost nothing next to the RPCs they make.
    for (int w = 0; w < kWorkers; ++w) workers.emplace_back(work);
    for (auto& t : workers) t.join();
    if (batch.size() < static_cast<size_t>(kBatch)) break;
  }
  return finished.load();
}

absl::StatusOr<Order> OrderProcessor::CancelOrder(const std::string& order_id,
                                                  const std::string& customer_id,
                                                  const std::string& reason,
                                                  const std::string& actor) {
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  RequireId("customer_id", customer_id, violations);
  CheckText("reason", reason, violations);
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  absl::StatusOr<OrderRecord> record = store_->GetRecord(order_id);
  if (!record.ok() || record->order.customer_id() != customer_id) {
    if (record.ok() || record.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
    }
    return record.status();
  }
  if (record->order.status() == shop::v1::ORDER_STATUS_CANCELLED) return store_->Get(order_id);

  if (record->order.status() == shop::v1::ORDER_STATUS_PENDING) {
    // Finish the placement first (it may be abandoned), then cancel what it became.
    SHOP_ASSIGN_OR_RETURN(bool leased, store_->TryLease(order_id));
    if (!leased) return InProgress(order_id);
    // Its outcome is read back just below: whatever the placement became
    // (confirmed, failed, or still running elsewhere) decides the cancel.
    (void)Resume(*record, actor);
    SHOP_ASSIGN_OR_RETURN(record, store_->GetRecord(order_id));
    if (record->saga != SagaState::kDone) return InProgress(order_id);
  }
  const shop::v1::OrderStatus current = record->order.status();
  if (!CanTransition(current, shop::v1::ORDER_STATUS_CANCELLED)) {
    return IllegalTransition(order_id, current, shop::v1::ORDER_STATUS_CANCELLED);
  }
  SHOP_ASSIGN_OR_RETURN(bool leased, store_->TryLease(order_id));
  if (!leased) return InProgress(order_id);
  // The decision is recorded before anything is undone: if this process
  // dies half-way, the recovery loop finishes the cancellation.
  SHOP_RETURN_IF_ERROR(
      store_->BeginCompensation(order_id, shop::v1::ORDER_STATUS_CANCELLED, absl::OkStatus()));
  record->saga = SagaState::kCompensating;
  record->target = shop::v1::ORDER_STATUS_CANCELLED;
  absl::Status cancelled = Compensate(
      *record, actor, reason.empty() ? "cancelled" : absl::StrCat("cancelled: ", reason));
  if (!cancelled.ok()) {
    SHOP_RETURN_IF_ERROR(store_->DropLease(order_id));  // recovery takes it from here
    return WithOrderId(cancelled, order_id);
  }
  return store_->Get(order_id);
}

absl::StatusOr<Order> OrderProcessor::Fulfil(const std::string& order_id,
                                             shop::v1::OrderStatus from, shop::v1::OrderStatus to,
                                             const std::string& actor, const std::string& note,
                                             const std::function<void(Order&)>& change) {
  SHOP_ASSIGN_OR_RETURN(OrderRecord record, store_->GetRecord(order_id));
  if (record.saga != SagaState::kDone) return InProgress(order_id);  // e.g. being cancelled
  if (record.order.status() != from) {
    return IllegalTransition(order_id, record.order.status(), to);
  }
  SHOP_ASSIGN_OR_RETURN(bool leased, store_->TryLease(order_id));
  if (!leased) return InProgress(order_id);
  Order order = record.order;
  change(order);
  order.set_status(to);
  SHOP_RETURN_IF_ERROR(store_->Transition(order, from, actor, note, /*notification=*/""));
  Emit(absl::StrCat("order.", absl::AsciiStrToLower(ShortName(to))), order);
  return store_->Get(order_id);
}

absl::StatusOr<Order> OrderProcessor::StartProcessing(const std::string& order_id,
                                                      const std::string& note,
                                                      const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateOrderAndNote(order_id, note));
  return Fulfil(order_id, shop::v1::ORDER_STATUS_CONFIRMED, shop::v1::ORDER_STATUS_PROCESSING,
                actor, note, [](Order&) {});
}

absl::StatusOr<Order> OrderProcessor::ShipOrder(const std::string& order_id,
                                                const std::string& carrier,
                                                const std::string& tracking_number,
                                                const std::string& actor) {
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  if (carrier.empty() || carrier.size() > 64 || !IsValidUtf8(carrier)) {
    violations.Add("carrier", "is required: valid UTF-8 of at most 64 bytes");
  }
  if (!IsValidId(tracking_number) || tracking_number.size() > 64) {
    violations.Add("tracking_number", "is required: 1-64 printable characters");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return Fulfil(order_id, shop::v1::ORDER_STATUS_PROCESSING, shop::v1::ORDER_STATUS_SHIPPED, actor,
                absl::StrCat(carrier, " ", tracking_number), [&](Order& order) {
                  order.mutable_tracking()->set_carrier(carrier);
                  order.mutable_tracking()->set_tracking_number(tracking_number);
                });
}

absl::StatusOr<Order> OrderProcessor::DeliverOrder(const std::string& order_id,
                                                   const std::string& note,
                                                   const std::string& actor) {
  SHOP_RETURN_IF_ERROR(ValidateOrderAndNote(order_id, note));
  return Fulfil(order_id, shop::v1::ORDER_STATUS_SHIPPED, shop::v1::ORDER_STATUS_DELIVERED, actor,
                note, [](Order&) {});
}

absl::StatusOr<bool> OrderProcessor::RecordPaymentEvent(const PaymentEvent& event) {
  FieldViolations violations;
  RequireId("order_id", event.order_id, violations);
  RequireId("gateway_event_id", event.gateway_event_id, violations);
  RequireId("event_type", event.event_type, violations);
  CheckText("detail", event.detail, violations);
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  SHOP_ASSIGN_OR_RETURN(bool recorded, store_->RecordPaymentEvent(event));
  if (recorded) {
    Order order;
    order.set_order_id(event.order_id);
    Emit("order.payment_event", order,
         {{"event_type", event.event_type}, {"gateway_event_id", event.gateway_event_id}});
    log::Warn("payment event for order",
              {{"order_id", event.order_id}, {"event_type", event.event_type}});
  }
  return recorded;
}

void OrderProcessor::Emit(const std::string& name, const Order& order,
                          const std::map<std::string, std::string>& attributes) {
  if (audit_ == nullptr) return;
  shop::v1::AuditEvent event = NewBusinessEvent(name, order.order_id(), attributes);
  event.set_customer_id(order.customer_id());
  audit_->Emit(std::move(event));
}

absl::StatusOr<Order> OrderProcessor::GetOrder(const std::string& order_id,
                                               const std::string& customer_id) {
  FieldViolations violations;
  RequireId("order_id", order_id, violations);
  RequireId("customer_id", customer_id, violations);
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  absl::StatusOr<Order> order = store_->Get(order_id);
  // Another customer's order does not exist, as far as this caller knows.
  if (!order.ok() || order->customer_id() != customer_id) {
    if (order.ok() || order.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("order ", order_id, " not found"));
    }
    return order.status();
  }
  return order;
}

absl::StatusOr<OrderPage> OrderProcessor::ListOrders(const std::string& customer_id,
                                                     int32_t page_size,
                                                     const std::string& page_token,
                                                     shop::v1::OrderStatus status) {
  FieldViolations violations;
  RequireId("customer_id", customer_id, violations);
  if (page_size < 0 || page_size > 100) violations.Add("page_size", "must be between 0 and 100");
  if (!shop::v1::OrderStatus_IsValid(status)) violations.Add("status", "unknown order status");
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  return store_->List(customer_id, page_size == 0 ? 20 : page_size, page_token, status);
}

}  // namespace shop::ops

#include "services/pg-adapter/store.h"

#include "absl/strings/str_cat.h"
#include "core/postgres/pool.h"
#include "pg_adapter_migrations.h"

namespace shop::payments {
namespace {

constexpr char kColumns[] =
    "payment_id, order_id, idempotency_key, status, currency, amount_minor, captured_minor, "
    "refunded_minor, payment_method_token, coalesce(gateway_intent_id, ''), "
    "coalesce(decline_code, ''), coalesce(failure_body, '')";

Payment FromRow(const pqxx::row& row) {
  Payment p;
  p.payment_id = row[0].as<std::string>();
  p.order_id = row[1].as<std::string>();
  p.idempotency_key = row[2].as<std::string>();
  p.state = ParsePaymentState(row[3].as<std::string>()).value_or(PaymentState::kFailed);
  p.currency = row[4].as<std::string>();
  p.amount_minor = row[5].as<int64_t>();
  p.captured_minor = row[6].as<int64_t>();
  p.refunded_minor = row[7].as<int64_t>();
  p.payment_method_token = row[8].as<std::string>();
  p.gateway_intent_id = row[9].as<std::string>();
  p.decline_code = row[10].as<std::string>();
  p.failure_body = row[11].as<std::string>();
  return p;
}

const char* OperationText(Operation op) {
  switch (op) {
    case Operation::kAuthorize:
      return "AUTHORIZE";
    case Operation::kCapture:
      return "CAPTURE";
    case Operation::kVoid:
      return "VOID";
    case Operation::kRefund:
      return "REFUND";
    case Operation::kReconcile:
      return "RECONCILE";
  }
  return "AUTHORIZE";
}

}  // namespace

absl::Status PostgresPaymentStore::Prepare() { return pool_->Migrate("payments", Migrations()); }

absl::StatusOr<Payment> PostgresPaymentStore::CreateOrGet(const Payment& payment) {
  return pool_->Transact<Payment>([&](pqxx::work& w) -> absl::StatusOr<Payment> {
    w.exec_params(
        "INSERT INTO payments (payment_id, order_id, idempotency_key, status, currency, "
        "amount_minor, payment_method_token) VALUES ($1, $2, $3, 'PENDING', $4, $5, $6) "
        "ON CONFLICT (idempotency_key) DO NOTHING",
        payment.payment_id, payment.order_id, payment.idempotency_key, payment.currency,
        payment.amount_minor, payment.payment_method_token);
    pqxx::result row = w.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM payments WHERE idempotency_key = $1"),
        payment.idempotency_key);
    return FromRow(row[0]);
  });
}

absl::StatusOr<Payment> PostgresPaymentStore::Get(const std::string& payment_id) {
  return pool_->Transact<Payment>([&](pqxx::work& w) -> absl::StatusOr<Payment> {
    pqxx::result row = w.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM payments WHERE payment_id = $1"), payment_id);
    if (row.empty()) return absl::NotFoundError(absl::StrCat("payment ", payment_id, " not found"));
    return FromRow(row[0]);
  });
}

absl::StatusOr<Payment> PostgresPaymentStore::GetByKey(const std::string& idempotency_key) {
  return pool_->Transact<Payment>([&](pqxx::work& w) -> absl::StatusOr<Payment> {
    pqxx::result row = w.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM payments WHERE idempotency_key = $1"),
        idempotency_key);
    if (row.empty()) {
      return absl::NotFoundError(
          absl::StrCat("no payment was authorized with key ", idempotency_key));
    }
    return FromRow(row[0]);
  });
}

absl::Status PostgresPaymentStore::Update(const Payment& p) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "UPDATE payments SET status = $2, captured_minor = $3, refunded_minor = $4, "
        "gateway_intent_id = NULLIF($5, ''), decline_code = NULLIF($6, ''), "
        "failure_body = NULLIF($7, ''), updated_at = now() WHERE payment_id = $1",
        p.payment_id, PaymentStateName(p.state), p.captured_minor, p.refunded_minor,
        p.gateway_intent_id, p.decline_code, p.failure_body);
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PostgresPaymentStore::BeginAttempt(const std::string& payment_id,
                                                           Operation op,
                                                           const std::string& gateway_key,
                                                           int try_number) {
  return pool_->Transact<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    pqxx::result row = w.exec_params(
        "INSERT INTO payment_attempts (payment_id, operation, gateway_idempotency_key, "
        "try_number) VALUES ($1, $2, $3, $4) RETURNING attempt_id",
        payment_id, OperationText(op), gateway_key, try_number);
    return row[0][0].as<int64_t>();
  });
}

absl::Status PostgresPaymentStore::FinishAttempt(int64_t attempt_id, int http_status,
                                                 const std::string& outcome,
                                                 const std::string& detail) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "UPDATE payment_attempts SET finished_at = now(), http_status = NULLIF($2, 0), "
        "outcome = $3, detail = NULLIF($4, '') WHERE attempt_id = $1",
        attempt_id, http_status, outcome, detail);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<RecordedRefund>> PostgresPaymentStore::FindRefund(
    const std::string& idempotency_key) {
  using Found = std::optional<RecordedRefund>;
  return pool_->Transact<Found>([&](pqxx::work& w) -> absl::StatusOr<Found> {
    pqxx::result row = w.exec_params(
        "SELECT refund_id, amount_minor FROM refunds WHERE idempotency_key = $1", idempotency_key);
    if (row.empty()) return Found();
    return Found(RecordedRefund{row[0][0].as<std::string>(), row[0][1].as<int64_t>()});
  });
}

absl::Status PostgresPaymentStore::RecordRefund(const Payment& p, const std::string& refund_id,
                                                const std::string& idempotency_key,
                                                int64_t amount_minor,
                                                const std::string& gateway_refund_id) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result inserted = w.exec_params(
        "INSERT INTO refunds (refund_id, payment_id, idempotency_key, amount_minor, "
        "gateway_refund_id) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING refund_id",
        refund_id, p.payment_id, idempotency_key, amount_minor, gateway_refund_id);
    if (inserted.empty()) return absl::OkStatus();  // a concurrent twin recorded it
    // Relative update: concurrent refunds add up instead of overwriting.
    pqxx::result updated = w.exec_params(
        "UPDATE payments SET refunded_minor = refunded_minor + $2, "
        "status = CASE WHEN refunded_minor + $2 = captured_minor THEN 'REFUNDED' "
        "ELSE 'PARTIALLY_REFUNDED' END, updated_at = now() "
        "WHERE payment_id = $1 AND refunded_minor + $2 <= captured_minor RETURNING payment_id",
        p.payment_id, amount_minor);
    if (updated.empty()) {
      return absl::InternalError("refund exceeds the captured amount; refund not recorded");
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> PostgresPaymentStore::RecordWebhook(const std::string& event_id,
                                                         const std::string& type,
                                                         const std::string& order_id,
                                                         const std::string& body) {
  return pool_->Transact<bool>([&](pqxx::work& w) -> absl::StatusOr<bool> {
    w.exec_params(
        "INSERT INTO webhook_events (event_id, type, order_id, body) "
        "VALUES ($1, $2, NULLIF($3, ''), $4) ON CONFLICT (event_id) DO NOTHING",
        event_id, type, order_id, body);
    return !w.exec_params(
                 "SELECT 1 FROM webhook_events WHERE event_id = $1 AND forwarded_at IS NULL",
                 event_id)
                .empty();
  });
}

absl::Status PostgresPaymentStore::MarkWebhookForwarded(const std::string& event_id) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params("UPDATE webhook_events SET forwarded_at = now() WHERE event_id = $1", event_id);
    return absl::OkStatus();
  });
}

}  // namespace shop::payments

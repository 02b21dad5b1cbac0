#include "services/logging/store.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "core/pg.h"

namespace shop::logging {
const std::vector<Migration>& Migrations();  // generated from migrations/*.sql

namespace {
using google::protobuf::util::TimeUtil;
}  // namespace

absl::Status PgAuditStore::Prepare() { return pool_->Migrate("logging", Migrations()); }

absl::StatusOr<AppendResult> PgAuditStore::Append(
    const std::vector<shop::v1::AuditEvent>& events) {
  AppendResult result;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    result = AppendResult{};
    for (const auto& event : events) {
      pqxx::binarystring bytes(event.SerializeAsString());
      pqxx::result inserted = w.exec_params(
          "INSERT INTO audit_events (event_id, kind, service, name, trace_id, order_id, caller, "
          "status_code, event_time, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
          "to_timestamp($9::double precision / 1000000), $10) "
          "ON CONFLICT (event_id) DO NOTHING RETURNING sequence",
          event.event_id(), shop::v1::EventKind_Name(event.kind()), event.service(),
          event.name(), event.trace_id(), event.order_id(), event.caller(), event.status_code(),
          TimeUtil::TimestampToMicroseconds(event.start_time()), bytes);
      if (inserted.empty()) {
        ++result.duplicates;
      } else {
        ++result.accepted;
      }
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<shop::v1::AuditRecord>> PgAuditStore::Query(
    const QueryFilter& filter) {
  std::vector<shop::v1::AuditRecord> records;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    records.clear();
    pqxx::result rows = w.exec_params(
        "SELECT sequence, event, (extract(epoch from received_at) * 1000000)::bigint "
        "FROM audit_events WHERE sequence > $1 "
        "AND ($2 = '' OR trace_id = $2) AND ($3 = '' OR order_id = $3) "
        "AND ($4 = '' OR service = $4) ORDER BY sequence LIMIT $5",
        filter.after_sequence, filter.trace_id, filter.order_id, filter.service,
        filter.limit + 1);
    for (const auto& row : rows) {
      shop::v1::AuditRecord record;
      record.set_sequence(row[0].as<int64_t>());
      pqxx::binarystring bytes(row[1]);
      record.mutable_event()->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
      *record.mutable_receive_time() = TimeUtil::MicrosecondsToTimestamp(row[2].as<int64_t>());
      records.push_back(std::move(record));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return records;
}

}  // namespace shop::logging

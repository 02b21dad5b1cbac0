// What the audit log stores, and the port through which it stores it;
// store.h is the PostgreSQL implementation (binary COPY).
#ifndef SHOP_SERVICES_LOGGING_AUDIT_STORE_H_
#define SHOP_SERVICES_LOGGING_AUDIT_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/logging/merkle.h"
#include "shop/v1/audit.pb.h"

namespace shop::logging {

struct AppendResult {
  int64_t accepted = 0;
  int64_t duplicates = 0;
};

// One row as the writer stores it.
struct StoredRow {
  int64_t sequence = 0;
  const shop::v1::AuditEvent* event = nullptr;  // for the lookup columns
  std::string record;                           // serialized AuditRecord: the leaf data
  Hash leaf_hash{};
  int64_t receive_unix_micros = 0;
};

// One row as storage holds it (for verification).
struct LeafRow {
  int64_t sequence = 0;
  std::string record;
  std::string leaf_hash;
};

struct QueryFilter {
  shop::v1::AuditFilter filter;
  int64_t after_sequence = 0;  // exclusive
  int64_t up_to_sequence = 0;  // inclusive; 0 = no bound
  int limit = 100;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  // The ids among `ids` that are already stored.
  virtual absl::StatusOr<std::vector<std::string>> ExistingEventIds(
      const std::vector<std::string>& ids) = 0;
  // All rows or none (one transaction); ALREADY_EXISTS when an event id is
  // already stored (nothing is written then).
  virtual absl::Status Append(const std::vector<StoredRow>& rows) = 0;
  // Matching records in sequence order, at most filter.limit.
  virtual absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& filter) = 0;
  // Every row in sequence order (all of them, whatever their sequence);
  // `fn` returns false to stop early.
  virtual absl::Status Scan(const std::function<bool(const LeafRow&)>& fn) = 0;
  virtual absl::StatusOr<int64_t> SequenceOf(const std::string& event_id) = 0;  // NOT_FOUND
  virtual absl::StatusOr<std::string> RecordAt(int64_t sequence) = 0;           // NOT_FOUND
  virtual absl::Status SaveTreeHead(const shop::v1::SignedTreeHead& head) = 0;
  virtual absl::StatusOr<std::vector<shop::v1::SignedTreeHead>> TreeHeads() = 0;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_AUDIT_STORE_H_

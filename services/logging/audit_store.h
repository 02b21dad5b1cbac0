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

// A complete subtree of the Merkle tree at a level that is a multiple of
// kStoredNodeLevels (8, 16, ...): with the leaf hashes, these give any node
// of the tree in at most 2^7 reads, so the log keeps only the tree's right
// edge in memory.
inline constexpr int kStoredNodeLevels = 8;
struct StoredNode {
  int level = 0;
  int64_t index = 0;
  Hash hash{};
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
  // All rows and the tree nodes they complete, or nothing (one
  // transaction); ALREADY_EXISTS when an event id is already stored (nothing
  // is written then).
  virtual absl::Status Append(const std::vector<StoredRow>& rows,
                              const std::vector<StoredNode>& nodes) = 0;
  // Stores nodes computed after the fact (a log from before nodes were kept);
  // nodes already stored are left as they are.
  virtual absl::Status AddNodes(const std::vector<StoredNode>& nodes) = 0;
  // The highest sequence stored (0 when the log is empty).
  virtual absl::StatusOr<int64_t> LastSequence() = 0;
  // How many nodes of `level` are stored.
  virtual absl::StatusOr<int64_t> NodeCount(int level) = 0;
  // The hashes of `count` consecutive complete subtrees of `level`, from
  // number `first`: for level 0 the stored leaf hashes of the records
  // first + 1 .. first + count, otherwise stored nodes. DATA_LOSS when one is
  // missing or malformed.
  virtual absl::StatusOr<std::vector<Hash>> Subtrees(int level, int64_t first, int count) = 0;
  // Matching records in sequence order, at most filter.limit.
  virtual absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& filter) = 0;
  // Every row in sequence order (all of them, whatever their sequence);
  // `fn` returns false to stop early.
  virtual absl::Status Scan(const std::function<bool(const LeafRow&)>& fn) = 0;
  virtual absl::StatusOr<int64_t> SequenceOf(const std::string& event_id) = 0;  // NOT_FOUND
  virtual absl::StatusOr<std::string> RecordAt(int64_t sequence) = 0;           // NOT_FOUND
  virtual absl::Status SaveTreeHead(const shop::v1::SignedTreeHead& head) = 0;
  // The head with the largest tree size; NOT_FOUND when none.
  virtual absl::StatusOr<shop::v1::SignedTreeHead> LatestTreeHead() = 0;
  // The head signed for exactly `tree_size`; NOT_FOUND when none.
  virtual absl::StatusOr<shop::v1::SignedTreeHead> TreeHeadAt(int64_t tree_size) = 0;
  // At most `limit` heads with tree_size > after_size, smallest first.
  virtual absl::StatusOr<std::vector<shop::v1::SignedTreeHead>> TreeHeadsAfter(int64_t after_size,
                                                                               int limit) = 0;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_AUDIT_STORE_H_

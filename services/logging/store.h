// PostgreSQL persistence of the audit log: append-only tables written with
// binary COPY by the single writer, read with keyset paging.
#ifndef SHOP_SERVICES_LOGGING_STORE_H_
#define SHOP_SERVICES_LOGGING_STORE_H_

#include <memory>
#include <string>

#include "services/logging/audit_store.h"

namespace shop {
class PostgresPool;
}

namespace shop::logging {

class PostgresAuditStore final : public AuditStore {
 public:
  explicit PostgresAuditStore(PostgresPool* pool);
  ~PostgresAuditStore() override;

  // Applies the migrations (with the owner's pool) and lets `writer_role`
  // (the role the service runs as) insert and read, and nothing else.
  static absl::Status Migrate(PostgresPool* owner_pool, const std::string& writer_role);
  // The role a pool's sessions run as.
  static absl::StatusOr<std::string> CurrentRole(PostgresPool* pool);
  // Holds a session advisory lock for the life of the store, so that only one
  // process numbers the leaves (FAILED_PRECONDITION when another one does).
  // From then on appends use binary COPY on a session of their own.
  absl::Status LockAsSoleWriter(const std::string& url);

  absl::StatusOr<std::vector<std::string>> ExistingEventIds(
      const std::vector<std::string>& ids) override;
  absl::Status Append(const std::vector<StoredRow>& rows,
                      const std::vector<StoredNode>& nodes) override;
  absl::Status AddNodes(const std::vector<StoredNode>& nodes) override;
  absl::StatusOr<int64_t> LastSequence() override;
  absl::StatusOr<int64_t> NodeCount(int level) override;
  absl::StatusOr<std::vector<Hash>> Subtrees(int level, int64_t first, int count) override;
  absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& filter) override;
  absl::Status Scan(const std::function<bool(const LeafRow&)>& fn) override;
  absl::StatusOr<int64_t> SequenceOf(const std::string& event_id) override;
  absl::StatusOr<std::string> RecordAt(int64_t sequence) override;
  absl::Status SaveTreeHead(const shop::v1::SignedTreeHead& head) override;
  absl::StatusOr<shop::v1::SignedTreeHead> LatestTreeHead() override;
  absl::StatusOr<shop::v1::SignedTreeHead> TreeHeadAt(int64_t tree_size) override;
  absl::StatusOr<std::vector<shop::v1::SignedTreeHead>> TreeHeadsAfter(int64_t after_size,
                                                                       int limit) override;

 private:
  struct WriterLock;  // the session that holds the advisory lock
  PostgresPool* pool_;
  std::unique_ptr<WriterLock> writer_lock_;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_STORE_H_

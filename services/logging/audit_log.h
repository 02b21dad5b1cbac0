// The central audit log: validates events and their writer, stores them
// exactly once (by event_id) through a single group-committing writer, keeps
// every record as a leaf of an RFC 6962 Merkle tree (its right edge in
// memory, its complete subtrees in storage), signs tree heads at a steady
// interval, serves proofs, and re-verifies the whole log from storage on
// request (one verification at a time, in bounded memory).
#ifndef SHOP_SERVICES_LOGGING_AUDIT_LOG_H_
#define SHOP_SERVICES_LOGGING_AUDIT_LOG_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/span.h"
#include "services/logging/audit_store.h"
#include "services/logging/merkle.h"
#include "shop/v1/audit.pb.h"

namespace shop::logging {

class TreeHeadSigner;

struct AuditLogOptions {
  absl::Duration tree_head_interval = absl::Seconds(1);
  // Events per group commit.
  size_t max_group_events = 20000;
  // Receive times of records and timestamps of tree heads.
  Clock* clock = Clock::Real();
  // Where the latest checkpoint is written at every new tree head, outside
  // the database (replaced atomically). At start the stored log must extend
  // it: a tail truncated together with its tree heads is reported as damage.
  // Empty: none.
  std::string checkpoint_file;
};

class AuditLog {
 public:
  // `signer` signs tree heads; both must outlive the log.
  AuditLog(AuditStore* store, const TreeHeadSigner* signer, AuditLogOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Rebuilds the tree from storage, checks it against the last signed head,
  // and starts the writer and the tree-head publisher. A damaged log is
  // reported (log line; VerifyLog) but does not stop the service: refusing
  // new events would lose them.
  absl::Status Start();

  // Stores `events` as written by `writer`, the SPIFFE id of the caller's
  // verified certificate, which every record carries (AuditRecord.writer).
  // A writer writes only its own service's events: PERMISSION_DENIED
  // (AUDIT_WRITER_MISMATCH) when an event's `service` is not the writer's
  // service account, or when the writer is not a workload of the mesh.
  // INVALID_ARGUMENT when any event is malformed. Nothing of the message is
  // stored then. Otherwise returns once the events are durable.
  absl::StatusOr<AppendResult> Ingest(const std::string& writer,
                                      std::vector<shop::v1::AuditEvent> events);
  absl::StatusOr<shop::v1::QueryResponse> Query(const shop::v1::QueryRequest& request);

  // Live follow: checks the filter, then returns matching records after
  // `*after` (advanced past everything examined), waiting up to `wait` for
  // new ones. `*after` < 0 means "from the current end of the log".
  absl::Status CheckTailRequest(const shop::v1::TailRequest& request);
  absl::StatusOr<std::vector<shop::v1::AuditRecord>> TailBatch(const shop::v1::AuditFilter& filter,
                                                               int64_t* after, absl::Duration wait);

  absl::StatusOr<shop::v1::GetTraceResponse> GetTrace(const shop::v1::GetTraceRequest& request);
  absl::StatusOr<shop::v1::ExportTraceResponse> ExportTrace(
      const shop::v1::ExportTraceRequest& request);

  // Signs and stores a head for the current tree if it grew since the last
  // one (the publisher thread calls this every interval).
  absl::Status PublishTreeHead();
  absl::StatusOr<shop::v1::SignedTreeHead> LatestTreeHead();
  absl::StatusOr<shop::v1::GetInclusionProofResponse> InclusionProof(
      const shop::v1::GetInclusionProofRequest& request);
  absl::StatusOr<shop::v1::GetConsistencyProofResponse> ConsistencyProof(
      const shop::v1::GetConsistencyProofRequest& request);
  // RESOURCE_EXHAUSTED while another verification runs.
  absl::StatusOr<shop::v1::VerifyLogResponse> Verify();

  int64_t size() const;

 private:
  struct PendingIngest;
  void WriterLoop();
  void PublisherLoop();
  void WriteGroup(std::vector<PendingIngest*>& group);
  // Stores the events of `group`; with `taken`, only those whose ids are not
  // in it (adding them), so that stored ids and repeats are left out.
  absl::Status WriteNew(std::vector<PendingIngest*>& group, std::set<std::string>* taken);
  // The signed head of that size, or the unsigned one (size and root).
  absl::StatusOr<shop::v1::SignedTreeHead> HeadForSize(int64_t tree_size);
  // What is wrong with the first `stored` records against
  // options_.checkpoint_file ("" when nothing, or when there is no such file
  // yet).
  std::string CheckAgainstCheckpointFile(int64_t stored);
  // A complete subtree of the first records, from storage: at most 2^7
  // hashes read and combined (audit_store.h, StoredNode).
  absl::StatusOr<Hash> StoredSubtree(int level, uint64_t index);
  SubtreeSource Source();
  // Stores the tree nodes of the first `stored` records where storage lacks
  // them (a log written before nodes were kept): one pass over the leaf
  // hashes.
  absl::Status FillMissingNodes(int64_t stored);
  // The right edge of the tree of every record, rebuilt by reading all leaf
  // hashes (for a log that storage cannot give by nodes, e.g. with a gap).
  // With `store_nodes`, the nodes it completes are stored too.
  absl::StatusOr<MerkleFrontier> ScanFrontier(std::string* damage, bool store_nodes);
  absl::StatusOr<std::vector<shop::v1::AuditEvent>> EventsOfTrace(const std::string& trace_id);

  AuditStore* store_;
  const TreeHeadSigner* signer_;
  const AuditLogOptions options_;

  mutable absl::Mutex tree_mu_;
  // Only the right edge of the tree is in memory (at most 64 hashes): the
  // complete subtrees behind it are read from storage when a proof needs
  // them, so memory does not grow with the log.
  MerkleFrontier frontier_ ABSL_GUARDED_BY(tree_mu_);
  int64_t next_sequence_ ABSL_GUARDED_BY(tree_mu_) = 1;
  std::optional<shop::v1::SignedTreeHead> latest_head_ ABSL_GUARDED_BY(tree_mu_);
  std::string damage_ ABSL_GUARDED_BY(tree_mu_);  // what Start found wrong
  std::atomic<bool> verifying_{false};  // one VerifyLog at a time: each reads the whole log

  absl::Mutex queue_mu_;
  std::deque<PendingIngest*> pending_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  absl::Mutex publish_mu_;  // one PublishTreeHead at a time
  std::thread writer_;
  std::thread publisher_;
};

// The logging service's own events (its served RPCs) go into the log through
// Ingest, from a background thread, so serving never waits on them.
class LocalAuditSink final : public AuditSink {
 public:
  // The writer of these events is the process's own identity
  // (ProcessSpiffeId(), set from its certificate before it serves).
  explicit LocalAuditSink(AuditLog* log);
  ~LocalAuditSink() override;
  void Emit(shop::v1::AuditEvent event) override;

 private:
  void Run();
  AuditLog* log_;
  absl::Mutex mu_;
  std::deque<shop::v1::AuditEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shop::logging

#endif  // SHOP_SERVICES_LOGGING_AUDIT_LOG_H_

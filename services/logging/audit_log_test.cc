#include "services/logging/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/notification.h"
#include "core/spiffe.h"
#include "core/status.h"
#include "core/test_keys.h"
#include "google/rpc/error_details.pb.h"
#include "services/logging/tree_head.h"

namespace shop::logging {
namespace {

// Storage as a fake behind the AuditStore interface; tests tamper with
// `rows` directly, as an attacker with database access would.
class MemoryStore final : public AuditStore {
 public:
  absl::StatusOr<std::vector<std::string>> ExistingEventIds(
      const std::vector<std::string>& ids) override {
    std::vector<std::string> out;
    for (const auto& id : ids) {
      if (stored_ids.count(id) > 0) out.push_back(id);
    }
    return out;
  }
  absl::Status Append(const std::vector<StoredRow>& stored,
                      const std::vector<StoredNode>& new_nodes) override {
    if (fail_appends) return absl::UnavailableError("database down");
    std::set<std::string> ids;  // the unique index on event_id: stored rows and this batch
    for (const auto& row : stored) {
      if (!ExistingEventIds({row.event->event_id()})->empty() ||
          !ids.insert(row.event->event_id()).second) {
        return absl::AlreadyExistsError("duplicate event_id");
      }
    }
    for (const auto& row : stored) {
      rows.push_back(LeafRow{row.sequence, row.record, HashToBytes(row.leaf_hash)});
      stored_ids.insert(row.event->event_id());
    }
    return AddNodes(new_nodes);
  }
  absl::Status AddNodes(const std::vector<StoredNode>& new_nodes) override {
    for (const auto& node : new_nodes)
      nodes.emplace(std::make_pair(node.level, node.index), node.hash);
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> LastSequence() override {
    int64_t last = 0;
    for (const auto& row : rows) last = std::max(last, row.sequence);
    return last;
  }
  absl::StatusOr<int64_t> NodeCount(int level) override {
    int64_t count = 0;
    for (const auto& [key, hash] : nodes) count += key.first == level ? 1 : 0;
    return count;
  }
  absl::StatusOr<std::vector<Hash>> Subtrees(int level, int64_t first, int count) override {
    ++subtree_reads;
    std::vector<Hash> out;
    for (int64_t i = first; i < first + count; ++i) {
      if (level == 0 && i < static_cast<int64_t>(rows.size()) && rows[i].sequence == i + 1) {
        if (auto hash = HashFromBytes(rows[i].leaf_hash)) out.push_back(*hash);
      } else if (level == 0) {
        for (const auto& row : rows) {
          if (row.sequence == i + 1) {
            if (auto hash = HashFromBytes(row.leaf_hash)) out.push_back(*hash);
            break;
          }
        }
      } else if (auto it = nodes.find({level, i}); it != nodes.end()) {
        out.push_back(it->second);
      }
    }
    if (static_cast<int>(out.size()) != count) return absl::DataLossError("missing tree nodes");
    return out;
  }
  absl::StatusOr<std::vector<shop::v1::AuditRecord>> Query(const QueryFilter& q) override {
    std::vector<shop::v1::AuditRecord> out;
    for (const auto& row : rows) {
      shop::v1::AuditRecord r;
      r.ParseFromString(row.record);
      if (row.sequence <= q.after_sequence) continue;
      if (q.up_to_sequence > 0 && row.sequence > q.up_to_sequence) continue;
      if (!q.filter.trace_id().empty() && r.event().trace_id() != q.filter.trace_id()) continue;
      if (!q.filter.service().empty() && r.event().service() != q.filter.service()) continue;
      if (q.filter.errors_only() && r.event().status_code() == 0) continue;
      if (static_cast<int>(out.size()) == q.limit) break;
      out.push_back(r);
    }
    return out;
  }
  absl::Status Scan(const std::function<bool(const LeafRow&)>& fn) override {
    if (on_scan) on_scan();
    std::vector<LeafRow> sorted = rows;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const LeafRow& a, const LeafRow& b) { return a.sequence < b.sequence; });
    for (const auto& row : sorted) {
      if (!fn(row)) break;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> SequenceOf(const std::string& event_id) override {
    for (const auto& row : rows) {
      shop::v1::AuditRecord r;
      r.ParseFromString(row.record);
      if (r.event().event_id() == event_id) return row.sequence;
    }
    return absl::NotFoundError("no such event");
  }
  absl::StatusOr<std::string> RecordAt(int64_t sequence) override {
    for (const auto& row : rows) {
      if (row.sequence == sequence) return row.record;
    }
    return absl::NotFoundError("no such record");
  }
  absl::Status SaveTreeHead(const shop::v1::SignedTreeHead& head) override {
    heads.push_back(head);
    return absl::OkStatus();
  }
  absl::StatusOr<shop::v1::SignedTreeHead> LatestTreeHead() override {
    const shop::v1::SignedTreeHead* latest = nullptr;
    for (const auto& head : heads) {
      if (latest == nullptr || head.tree_size() > latest->tree_size()) latest = &head;
    }
    if (latest == nullptr) return absl::NotFoundError("no head");
    return *latest;
  }
  absl::StatusOr<shop::v1::SignedTreeHead> TreeHeadAt(int64_t tree_size) override {
    for (const auto& head : heads) {
      if (head.tree_size() == tree_size) return head;
    }
    return absl::NotFoundError("no head of that size");
  }
  absl::StatusOr<std::vector<shop::v1::SignedTreeHead>> TreeHeadsAfter(int64_t after_size,
                                                                       int limit) override {
    std::vector<shop::v1::SignedTreeHead> out;
    for (const auto& head : heads) {
      if (head.tree_size() > after_size) out.push_back(head);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.tree_size() < b.tree_size(); });
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }

  std::vector<LeafRow> rows;
  std::set<std::string> stored_ids;  // the unique index on event_id
  std::map<std::pair<int, int64_t>, Hash> nodes;
  int subtree_reads = 0;
  std::function<void()> on_scan;  // runs as a Scan begins
  std::vector<shop::v1::SignedTreeHead> heads;
  bool fail_appends = false;
};

// The verified identity of the writer in most tests: ops, writing ops' events.
const std::string kOps = SpiffeIdFor("ops");

std::unique_ptr<TreeHeadSigner> TestSigner() {
  auto signer = TreeHeadSigner::FromPem(shop::testing::NewEd25519KeyPem());
  EXPECT_TRUE(signer.ok()) << signer.status();
  return std::move(*signer);
}

shop::v1::AuditEvent Event(const std::string& id,
                           const std::string& trace = "0123456789abcdef0123456789abcdef") {
  shop::v1::AuditEvent event;
  event.set_event_id(id);
  event.set_kind(shop::v1::EVENT_KIND_SERVER_SPAN);
  event.set_service("ops");
  event.set_name("shop.ops.v1.OrderProcessingService/PlaceOrder");
  event.set_trace_id(trace);
  event.set_span_id("00000000000000a1");
  return event;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = TestSigner();
    Open();
  }
  void Open() {
    log_.reset();
    log_ = std::make_unique<AuditLog>(&store_, signer_.get(), options_);
    ASSERT_TRUE(log_->Start().ok());
  }
  // n records, with a signed head after each (as a log that signs every
  // second would have), so that verification can place a change exactly.
  void FillWithHeads(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log_->Ingest(kOps, {Event("e" + std::to_string(i))}).ok());
      ASSERT_TRUE(log_->PublishTreeHead().ok());
    }
  }
  void Fill(int n) {
    std::vector<shop::v1::AuditEvent> events;
    for (int i = 0; i < n; ++i) events.push_back(Event("e" + std::to_string(i)));
    ASSERT_TRUE(log_->Ingest(kOps, events).ok());
    ASSERT_TRUE(log_->PublishTreeHead().ok());
  }
  int64_t FirstBad() {
    auto verified = log_->Verify();
    EXPECT_TRUE(verified.ok());
    EXPECT_FALSE(verified->ok());
    return verified->first_bad_index();
  }

  MemoryStore store_;
  AuditLogOptions options_;
  std::unique_ptr<TreeHeadSigner> signer_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, IngestIsIdempotentByEventIdAndNumbersLeavesWithoutGaps) {
  auto first = log_->Ingest(kOps, {Event("e1"), Event("e2"), Event("e1")});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->accepted, 2);
  EXPECT_EQ(first->duplicates, 1);
  auto again = log_->Ingest(kOps, {Event("e2"), Event("e3")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->accepted, 1);
  EXPECT_EQ(again->duplicates, 1);
  ASSERT_EQ(store_.rows.size(), 3u);
  for (size_t i = 0; i < store_.rows.size(); ++i) EXPECT_EQ(store_.rows[i].sequence, i + 1);
  EXPECT_EQ(log_->size(), 3);
}

TEST_F(AuditLogTest, StoredRecordIsTheAuditRecordOfTheEvent) {
  shop::v1::AuditEvent event = Event("e1");
  (*event.mutable_attributes())["rpc.system"] = "grpc";
  ASSERT_TRUE(log_->Ingest(kOps, {event}).ok());
  shop::v1::AuditRecord record;
  ASSERT_TRUE(record.ParseFromString(store_.rows[0].record));
  EXPECT_EQ(record.sequence(), 1);
  EXPECT_EQ(record.event().SerializeAsString(), event.SerializeAsString());
  EXPECT_GT(record.receive_time().seconds(), 1700000000);
  EXPECT_EQ(store_.rows[0].leaf_hash, HashToBytes(LeafHash(store_.rows[0].record)));
}

TEST_F(AuditLogTest, EveryRecordCarriesItsVerifiedWriterUnderTheLeafHash) {
  ASSERT_TRUE(log_->Ingest(kOps, {Event("e1")}).ok());
  shop::v1::AuditRecord record;
  ASSERT_TRUE(record.ParseFromString(store_.rows[0].record));
  EXPECT_EQ(record.writer(), kOps);
  EXPECT_EQ(store_.rows[0].leaf_hash, HashToBytes(LeafHash(store_.rows[0].record)));
  auto page = log_->Query({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 1);
  EXPECT_EQ(page->records(0).writer(), kOps);
}

// Security review #5: shopctl's key wrote "a Refund served by pg-adapter for
// ops", and the log signed it.
TEST_F(AuditLogTest, AWriterCannotWriteAnotherServicesEvents) {
  shop::v1::AuditEvent forged = Event("forged-0001");
  forged.set_service("pg-adapter");
  forged.set_name("shop.v1.PaymentGatewayService/Refund");
  forged.set_caller(SpiffeIdFor("ops"));
  for (const std::string& writer : {SpiffeIdFor("shopctl"), SpiffeIdFor("bridge"), kOps}) {
    auto result = log_->Ingest(writer, {forged});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied) << writer;
    EXPECT_EQ(ReasonOf(result.status()), shop::v1::AUDIT_WRITER_MISMATCH) << writer;
  }
  // One foreign event spoils its whole message: nothing of it is stored.
  auto mixed = log_->Ingest(kOps, {Event("own-1"), forged});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_.rows.empty());
  EXPECT_EQ(log_->size(), 0);
  // The true writer is accepted.
  EXPECT_TRUE(log_->Ingest(SpiffeIdFor("pg-adapter"), {forged}).ok());
}

TEST_F(AuditLogTest, AWriterWithoutAWorkloadIdWritesNothing) {
  for (const std::string& writer :
       {std::string(), std::string("spiffe://evil.local/ns/shop/sa/ops"),
        std::string("spiffe://shop.local/ns/shop/sa/ops/extra")}) {
    auto result = log_->Ingest(writer, {Event("e1")});
    EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied) << writer;
  }
  EXPECT_TRUE(store_.rows.empty());
}

TEST_F(AuditLogTest, MalformedBatchStoresNothing) {
  shop::v1::AuditEvent bad = Event("");
  shop::v1::AuditEvent nul = Event("e9");
  nul.set_name(std::string("a\0b", 3));
  auto result = log_->Ingest(kOps, {Event("e1"), bad, nul});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(result.status(), bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "events[1].event_id");
  EXPECT_EQ(bad_request.field_violations(1).field(), "events[2]");
  EXPECT_TRUE(store_.rows.empty());
}

TEST_F(AuditLogTest, FailedWriteLeavesTheTreeUnchangedAndTheEventsRetryable) {
  store_.fail_appends = true;
  EXPECT_EQ(log_->Ingest(kOps, {Event("e1")}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(log_->size(), 0);
  store_.fail_appends = false;
  auto retried = log_->Ingest(kOps, {Event("e1")});
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->accepted, 1);
  EXPECT_EQ(store_.rows[0].sequence, 1);
}

TEST_F(AuditLogTest, QueryPagesInOrder) {
  Fill(5);
  shop::v1::QueryRequest request;
  request.set_page_size(2);
  auto page = log_->Query(request);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records_size(), 2);
  EXPECT_EQ(page->records(0).sequence(), 1);
  request.set_page_token(page->next_page_token());
  request.set_page_size(10);
  auto rest = log_->Query(request);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->records_size(), 3);
  EXPECT_EQ(rest->next_page_token(), "");
}

TEST_F(AuditLogTest, QueryRejectsBadFiltersAndTokens) {
  shop::v1::QueryRequest request;
  request.set_page_token("not-a-token");
  EXPECT_EQ(log_->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.Clear();
  request.mutable_filter()->set_trace_id("XYZ");
  EXPECT_EQ(log_->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.Clear();
  request.mutable_filter()->set_status_code(99);
  EXPECT_EQ(log_->Query(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, ProofsVerifyAgainstSignedHeads) {
  Fill(7);
  auto head = log_->LatestTreeHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->tree_size(), 7);
  TreeHead plain{7, *HashFromBytes(head->root_hash()), head->timestamp_unix_ms()};
  EXPECT_TRUE(VerifyTreeHead(signer_->public_key_pem(), plain, head->signature()).ok());
  for (int64_t seq = 1; seq <= 7; ++seq) {
    shop::v1::GetInclusionProofRequest request;
    request.set_sequence(seq);
    auto proof = log_->InclusionProof(request);
    ASSERT_TRUE(proof.ok()) << proof.status();
    std::vector<Hash> path;
    for (const auto& h : proof->audit_path()) path.push_back(*HashFromBytes(h));
    EXPECT_TRUE(
        VerifyInclusion(LeafHash(proof->record()), proof->leaf_index(), 7, path, plain.root));
  }
  Fill(0);
  ASSERT_TRUE(log_->Ingest(kOps, {Event("late1"), Event("late2")}).ok());
  ASSERT_TRUE(log_->PublishTreeHead().ok());
  shop::v1::GetConsistencyProofRequest request;
  request.set_first_size(7);
  auto consistency = log_->ConsistencyProof(request);
  ASSERT_TRUE(consistency.ok()) << consistency.status();
  EXPECT_EQ(consistency->second().tree_size(), 9);
  std::vector<Hash> proof;
  for (const auto& h : consistency->proof()) proof.push_back(*HashFromBytes(h));
  EXPECT_TRUE(VerifyConsistency(7, 9, plain.root, *HashFromBytes(consistency->second().root_hash()),
                                proof));
}

TEST_F(AuditLogTest, ProofRequestsOutsideTheTreeAreRefused) {
  Fill(3);
  shop::v1::GetInclusionProofRequest request;
  request.set_sequence(4);
  EXPECT_EQ(log_->InclusionProof(request).status().code(), absl::StatusCode::kOutOfRange);
  request.set_sequence(0);
  EXPECT_EQ(log_->InclusionProof(request).status().code(), absl::StatusCode::kInvalidArgument);
  shop::v1::GetConsistencyProofRequest consistency;
  consistency.set_first_size(5);
  consistency.set_second_size(3);
  EXPECT_EQ(log_->ConsistencyProof(consistency).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditLogTest, UntouchedLogVerifies) {
  Fill(10);
  auto verified = log_->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << (verified->problems_size() ? verified->problems(0) : "");
  EXPECT_EQ(verified->rows_checked(), 10);
  EXPECT_EQ(verified->first_bad_index(), -1);
  EXPECT_GE(verified->tree_heads_checked(), 1);
}

TEST_F(AuditLogTest, EditIsDetectedAtItsIndex) {
  FillWithHeads(10);
  shop::v1::AuditRecord record;
  record.ParseFromString(store_.rows[6].record);
  record.mutable_event()->set_status_code(0);
  record.mutable_event()->set_name("edited");
  store_.rows[6].record = record.SerializeAsString();
  EXPECT_EQ(FirstBad(), 6);
}

// Nothing in memory remembers the leaves: an edit whose stored hash was
// recomputed is caught by the signed heads, and placed between the last head
// that still verifies and the first that does not (heads come every second).
TEST_F(AuditLogTest, EditWithRecomputedLeafHashIsStillDetected) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log_->Ingest(kOps, {Event("h" + std::to_string(i))}).ok());
    ASSERT_TRUE(log_->PublishTreeHead().ok());
  }
  shop::v1::AuditRecord record;
  record.ParseFromString(store_.rows[3].record);
  record.mutable_event()->set_name("edited");
  store_.rows[3].record = record.SerializeAsString();
  store_.rows[3].leaf_hash = HashToBytes(LeafHash(store_.rows[3].record));
  EXPECT_EQ(FirstBad(), 3);
  // And after a restart: the last signed head no longer matches.
  Open();
  auto verified = log_->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->ok());
  EXPECT_EQ(verified->first_bad_index(), 3);
}

// Security review #13: the whole tree lived in memory and grew for ever.
// Now only its right edge does; proofs read stored subtrees, so a log
// reopened over a large store answers proofs that verify, with a few reads.
TEST_F(AuditLogTest, ProofsComeFromStoredSubtreesWithFewReads) {
  std::vector<shop::v1::AuditEvent> events;
  for (int i = 0; i < 70000; ++i) events.push_back(Event("n" + std::to_string(i)));
  for (size_t at = 0; at < events.size(); at += 10000) {
    ASSERT_TRUE(log_->Ingest(kOps, std::vector<shop::v1::AuditEvent>(events.begin() + at,
                                                                     events.begin() + at + 10000))
                    .ok());
  }
  ASSERT_TRUE(log_->PublishTreeHead().ok());
  // Complete subtrees of 256 and 65,536 leaves were stored with the records.
  EXPECT_EQ(*store_.NodeCount(8), 70000 / 256);
  EXPECT_EQ(*store_.NodeCount(16), 1);
  Open();
  ASSERT_EQ(log_->size(), 70000);
  auto head = log_->LatestTreeHead();
  ASSERT_TRUE(head.ok());
  store_.subtree_reads = 0;
  shop::v1::GetInclusionProofRequest request;
  request.set_sequence(12345);
  auto proof = log_->InclusionProof(request);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_LE(store_.subtree_reads, 2 * 17) << "one read per subtree of the path, at most";
  std::vector<Hash> path;
  for (const auto& h : proof->audit_path()) path.push_back(*HashFromBytes(h));
  EXPECT_TRUE(VerifyInclusion(LeafHash(proof->record()), 12344, 70000, path,
                              *HashFromBytes(head->root_hash())));
  shop::v1::GetConsistencyProofRequest consistency;
  consistency.set_first_size(40000);
  auto cproof = log_->ConsistencyProof(consistency);
  ASSERT_TRUE(cproof.ok()) << cproof.status();
  std::vector<Hash> nodes;
  for (const auto& h : cproof->proof()) nodes.push_back(*HashFromBytes(h));
  EXPECT_TRUE(VerifyConsistency(40000, 70000, *HashFromBytes(cproof->first().root_hash()),
                                *HashFromBytes(head->root_hash()), nodes));
  auto verified = log_->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problems(0);
}

// Security review #13: every VerifyLog read the whole log into a second
// tree, and any number could run at once.
TEST_F(AuditLogTest, OneVerificationAtATime) {
  Fill(5);
  absl::Notification scanning, release;
  std::atomic<int> scans{0};
  store_.on_scan = [&] {
    if (scans++ > 0) return;  // only the first verification is held
    scanning.Notify();
    release.WaitForNotification();
  };
  std::thread first([&] {
    auto verified = log_->Verify();
    EXPECT_TRUE(verified.ok() && verified->ok());
  });
  scanning.WaitForNotification();
  EXPECT_EQ(log_->Verify().status().code(), absl::StatusCode::kResourceExhausted);
  release.Notify();
  first.join();
  auto again = log_->Verify();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ok());
}

// A log stored before tree nodes were kept gets them at start, once.
TEST_F(AuditLogTest, NodesMissingFromAnOlderLogAreComputedAtStart) {
  Fill(600);
  store_.nodes.clear();
  Open();
  EXPECT_EQ(*store_.NodeCount(8), 2);
  auto verified = log_->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok());
}

TEST_F(AuditLogTest, AStoredNodeThatIsNotItsLeavesHashIsReported) {
  Fill(600);
  store_.nodes[{8, 1}][0] ^= 1;
  auto verified = log_->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->ok());
  EXPECT_EQ(verified->first_bad_index(), 256);
}

// Security review #11: whoever owns the database deletes the last records
// together with the tree heads that cover them, and restarts the log. The
// checkpoint the log keeps outside the database gives it away.
TEST_F(AuditLogTest, TailTruncatedWithItsTreeHeadsIsDetectedAgainstTheCheckpointFile) {
  char dir[] = "/tmp/audit-checkpoint-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  options_.checkpoint_file = std::string(dir) + "/checkpoint";
  Open();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log_->Ingest(kOps, {Event("t" + std::to_string(i))}).ok());
    ASSERT_TRUE(log_->PublishTreeHead().ok());
  }
  ASSERT_EQ(log_->size(), 10);
  log_.reset();
  store_.rows.resize(7);
  store_.heads.erase(std::remove_if(store_.heads.begin(), store_.heads.end(),
                                    [](const auto& h) { return h.tree_size() > 7; }),
                     store_.heads.end());
  Open();
  auto verified = log_->Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->ok());
  ASSERT_GT(verified->problems_size(), 0);
  EXPECT_NE(verified->problems(0).find("truncated"), std::string::npos) << verified->problems(0);
  std::remove(options_.checkpoint_file.c_str());
  rmdir(dir);
}

TEST_F(AuditLogTest, DeleteIsDetectedAtItsIndex) {
  FillWithHeads(10);
  store_.rows.erase(store_.rows.begin() + 4);
  EXPECT_EQ(FirstBad(), 4);
}

TEST_F(AuditLogTest, ReorderIsDetectedAtTheFirstMovedIndex) {
  FillWithHeads(10);
  std::swap(store_.rows[2].sequence, store_.rows[8].sequence);
  EXPECT_EQ(FirstBad(), 2);
}

TEST_F(AuditLogTest, InsertIsDetectedAtItsIndex) {
  FillWithHeads(10);
  // Renumber to make room, then slip a forged record in at leaf 5.
  for (auto& row : store_.rows) {
    if (row.sequence >= 6) ++row.sequence;
  }
  shop::v1::AuditRecord forged;
  forged.set_sequence(6);
  *forged.mutable_event() = Event("forged");
  LeafRow row{6, forged.SerializeAsString(), ""};
  row.leaf_hash = HashToBytes(LeafHash(row.record));
  store_.rows.push_back(row);
  EXPECT_EQ(FirstBad(), 5);
}

TEST_F(AuditLogTest, TailFollowsNewRecordsWithTheFilter) {
  Fill(2);
  int64_t after = -1;  // from the end
  auto none = log_->TailBatch({}, &after, absl::Milliseconds(1));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(after, 2);
  shop::v1::AuditEvent error = Event("err");
  error.set_status_code(14);
  ASSERT_TRUE(log_->Ingest(kOps, {Event("ok1"), error}).ok());
  shop::v1::AuditFilter errors;
  errors.set_errors_only(true);
  auto batch = log_->TailBatch(errors, &after, absl::Seconds(5));
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ((*batch)[0].event().event_id(), "err");
  EXPECT_EQ(after, 4);
}

}  // namespace
}  // namespace shop::logging

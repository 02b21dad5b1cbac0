#include "services/logging/audit_log.h"

#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/log.h"
#include "core/spiffe.h"
#include "core/status.h"
#include "core/validation.h"
#include "services/logging/checkpoint.h"
#include "services/logging/trace_view.h"
#include "services/logging/tree_head.h"

namespace shop::logging {

struct AuditLog::PendingIngest {
  std::string writer;  // AuditRecord.writer of every event
  std::vector<shop::v1::AuditEvent> events;
  // Each event's wire bytes, made by the caller's thread (in parallel with
  // other callers and with the writer) rather than on the writer's path.
  std::vector<std::string> serialized;
  int64_t repeats = 0;  // events left out as repeats within the message
  absl::StatusOr<AppendResult> result;
  absl::Notification done;
};

namespace {

using google::protobuf::util::TimeUtil;
using shop::v1::AuditEvent;

constexpr size_t kMaxEventsPerRequest = 10000;
constexpr int kMaxTraceSpans = 10000;

bool IsValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= TimeUtil::kTimestampMinSeconds &&
         t.seconds() <= TimeUtil::kTimestampMaxSeconds && t.nanos() >= 0 && t.nanos() <= 999999999;
}

bool HasNul(const std::string& text) { return text.find('\0') != std::string::npos; }

bool IsHex(const std::string& s, size_t len) {
  if (s.size() != len) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void ValidateEvent(const AuditEvent& event, int index, FieldViolations& violations) {
  std::string prefix = absl::StrCat("events[", index, "]");
  if (!IsValidId(event.event_id())) {
    violations.Add(prefix + ".event_id", "must be 1-128 printable characters");
  }
  if (event.service().empty() || event.service().size() > 64) {
    violations.Add(prefix + ".service", "must be 1-64 characters");
  }
  if (event.name().empty() || event.name().size() > 256) {
    violations.Add(prefix + ".name", "must be 1-256 characters");
  }
  if (!shop::v1::EventKind_IsValid(event.kind())) {
    violations.Add(prefix + ".kind", "unknown event kind");
  }
  if (!event.trace_id().empty() && !IsHex(event.trace_id(), 32)) {
    violations.Add(prefix + ".trace_id", "must be 32 lower-case hex digits");
  }
  // PostgreSQL text cannot hold NUL; these columns are indexed text.
  for (const std::string* text : {&event.service(), &event.name(), &event.trace_id(),
                                  &event.order_id(), &event.customer_id(), &event.caller()}) {
    if (HasNul(*text) || text->size() > 1024 || !IsValidUtf8(*text)) {
      violations.Add(prefix, "text fields must be NUL-free UTF-8 of at most 1024 bytes");
      break;
    }
  }
  if (event.has_start_time() && !IsValidTimestamp(event.start_time())) {
    violations.Add(prefix + ".start_time", "is not a valid timestamp");
  }
  if (event.has_end_time() && !IsValidTimestamp(event.end_time())) {
    violations.Add(prefix + ".end_time", "is not a valid timestamp");
  }
}

void ValidateFilter(const shop::v1::AuditFilter& filter, FieldViolations& violations) {
  for (const std::string* text : {&filter.trace_id(), &filter.order_id(), &filter.service(),
                                  &filter.method(), &filter.caller(), &filter.customer_id()}) {
    if (HasNul(*text) || text->size() > 256 || !IsValidUtf8(*text)) {
      violations.Add("filter", "filters must be NUL-free UTF-8 of at most 256 bytes");
      break;
    }
  }
  if (!filter.trace_id().empty() && !IsHex(filter.trace_id(), 32)) {
    violations.Add("filter.trace_id", "must be 32 lower-case hex digits");
  }
  if (filter.has_status_code() && (filter.status_code() < 0 || filter.status_code() > 16)) {
    violations.Add("filter.status_code", "must be a gRPC status code (0-16)");
  }
  if (!shop::v1::EventKind_IsValid(filter.kind())) {
    violations.Add("filter.kind", "unknown event kind");
  }
  if (filter.has_since() && !IsValidTimestamp(filter.since())) {
    violations.Add("filter.since", "is not a valid timestamp");
  }
  if (filter.has_until() && !IsValidTimestamp(filter.until())) {
    violations.Add("filter.until", "is not a valid timestamp");
  }
}

void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// A serialized shop.v1.AuditRecord{sequence, event, receive_time, writer}.
std::string EncodeRecord(int64_t sequence, const std::string& event, const std::string& received,
                         const std::string& writer) {
  std::string out;
  out.reserve(event.size() + received.size() + writer.size() + 32);
  out.push_back(0x08);  // field 1, varint
  AppendVarint(out, static_cast<uint64_t>(sequence));
  out.push_back(0x12);  // field 2, length-delimited
  AppendVarint(out, event.size());
  out += event;
  out.push_back(0x1a);  // field 3, length-delimited
  AppendVarint(out, received.size());
  out += received;
  out.push_back(0x22);  // field 4, length-delimited
  AppendVarint(out, writer.size());
  out += writer;
  return out;
}

// Replaces `path` with `text`, durably: a new file, fsync, rename, fsync of
// the directory.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".new";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

shop::v1::SignedTreeHead UnsignedHead(int64_t size, const Hash& root) {
  shop::v1::SignedTreeHead head;
  head.set_tree_size(size);
  head.set_root_hash(HashToBytes(root));
  return head;
}

absl::Status CheckSignedHead(const TreeHeadSigner& signer, const shop::v1::SignedTreeHead& head,
                             const Hash& expected_root) {
  std::optional<Hash> root = HashFromBytes(head.root_hash());
  if (!root) return absl::DataLossError("root hash is not 32 bytes");
  TreeHead plain{static_cast<uint64_t>(head.tree_size()), *root, head.timestamp_unix_ms()};
  SHOP_RETURN_IF_ERROR(VerifyTreeHead(signer.public_key_pem(), plain, head.signature()));
  if (*root != expected_root) {
    return absl::DataLossError("its root does not match the leaves in storage");
  }
  return absl::OkStatus();
}

}  // namespace

AuditLog::AuditLog(AuditStore* store, const TreeHeadSigner* signer, AuditLogOptions options)
    : store_(store), signer_(signer), options_(std::move(options)) {}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (!writer_.joinable()) return;  // never started
  writer_.join();
  publisher_.join();
  if (absl::Status s = PublishTreeHead(); !s.ok()) {
    log::Warn("final tree head not published", {{"error", std::string(s.message())}});
  }
}

absl::Status AuditLog::Start() {
  SHOP_ASSIGN_OR_RETURN(int64_t stored, store_->LastSequence());
  SHOP_RETURN_IF_ERROR(FillMissingNodes(stored));
  std::string damage;
  absl::StatusOr<MerkleFrontier> frontier =
      MerkleFrontier::Load(Source(), static_cast<uint64_t>(stored));
  if (!frontier.ok()) {
    // Storage cannot give the tree by its nodes (a record is missing): take
    // what is there, leaf by leaf, and report the damage.
    damage = absl::StrCat("the stored tree does not load: ", frontier.status().message());
    frontier = ScanFrontier(&damage, /*store_nodes=*/false);
    if (!frontier.ok()) return frontier.status();
  }
  absl::StatusOr<shop::v1::SignedTreeHead> latest = store_->LatestTreeHead();
  if (!latest.ok() && latest.status().code() != absl::StatusCode::kNotFound) {
    return latest.status();
  }
  if (latest.ok() && damage.empty()) {
    if (latest->tree_size() > stored) {
      damage = absl::StrCat("the last signed tree head covers ", latest->tree_size(),
                            " records but storage holds ", stored, " (deleted?)");
    } else {
      absl::StatusOr<Hash> root = RootFrom(Source(), static_cast<uint64_t>(latest->tree_size()));
      absl::Status check = root.ok() ? CheckSignedHead(*signer_, *latest, *root) : root.status();
      if (!check.ok()) {
        damage = absl::StrCat("the last signed tree head (size ", latest->tree_size(),
                              ") does not verify: ", check.message());
      }
    }
  }
  if (damage.empty() && !options_.checkpoint_file.empty()) {
    damage = CheckAgainstCheckpointFile(stored);
  }
  {
    absl::MutexLock lock(&tree_mu_);
    frontier_ = *std::move(frontier);
    next_sequence_ = static_cast<int64_t>(frontier_.size()) + 1;
    if (latest.ok()) latest_head_ = *latest;
    damage_ = damage;
    log::Info("audit log loaded", {{"tree_size", static_cast<int64_t>(frontier_.size())}});
  }
  if (!damage.empty()) {
    log::Error("AUDIT LOG DAMAGED: storage does not match what was logged; run VerifyLog",
               {{"problem", damage}});
  }
  SHOP_RETURN_IF_ERROR(PublishTreeHead());
  writer_ = std::thread([this] { WriterLoop(); });
  publisher_ = std::thread([this] { PublisherLoop(); });
  return absl::OkStatus();
}

absl::StatusOr<Hash> AuditLog::StoredSubtree(int level, uint64_t index) {
  const int base = level - level % kStoredNodeLevels;
  const int span = level - base;
  SHOP_ASSIGN_OR_RETURN(std::vector<Hash> hashes,
                        store_->Subtrees(base, static_cast<int64_t>(index << span), 1 << span));
  for (size_t width = hashes.size(); width > 1; width /= 2) {
    for (size_t k = 0; k < width / 2; ++k) hashes[k] = NodeHash(hashes[2 * k], hashes[2 * k + 1]);
  }
  return hashes[0];
}

SubtreeSource AuditLog::Source() {
  return [this](int level, uint64_t index) { return StoredSubtree(level, index); };
}

absl::Status AuditLog::FillMissingNodes(int64_t stored) {
  bool complete = true;
  for (int level = kStoredNodeLevels; (int64_t{1} << level) <= stored; level += kStoredNodeLevels) {
    SHOP_ASSIGN_OR_RETURN(int64_t count, store_->NodeCount(level));
    if (count != (stored >> level)) complete = false;
  }
  if (complete) return absl::OkStatus();
  log::Info("computing the stored tree nodes of records written before they were kept",
            {{"records", stored}});
  std::string damage;
  return ScanFrontier(&damage, /*store_nodes=*/true).status();
}

absl::StatusOr<MerkleFrontier> AuditLog::ScanFrontier(std::string* damage, bool store_nodes) {
  MerkleFrontier frontier;
  std::vector<MerkleFrontier::Node> completed;
  absl::Status added = absl::OkStatus();
  auto flush = [&] {
    std::vector<StoredNode> nodes;
    for (const auto& node : completed) {
      nodes.push_back(StoredNode{node.level, static_cast<int64_t>(node.index), node.hash});
    }
    completed.clear();
    if (added.ok()) added = store_->AddNodes(nodes);
  };
  int64_t expected = 1;
  SHOP_RETURN_IF_ERROR(store_->Scan([&](const LeafRow& row) {
    std::optional<Hash> hash = HashFromBytes(row.leaf_hash);
    if (damage->empty() && (row.sequence != expected || !hash)) {
      *damage = absl::StrCat("storage does not hold leaf ", expected - 1, " where expected (row ",
                             row.sequence, ")");
    }
    frontier.Append(hash ? *hash : LeafHash(row.record), store_nodes ? kStoredNodeLevels : 0,
                    &completed);
    if (completed.size() >= 1000) flush();
    expected = row.sequence + 1;
    return added.ok();
  }));
  flush();
  SHOP_RETURN_IF_ERROR(added);
  return frontier;
}

std::string AuditLog::CheckAgainstCheckpointFile(int64_t stored) {
  std::ifstream in(options_.checkpoint_file, std::ios::binary);
  if (!in) return "";  // none written yet: the first start
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Checkpoint> kept = OpenCheckpoint(signer_->public_key_pem(), text.str());
  if (!kept.ok()) {
    return absl::StrCat("the checkpoint in ", options_.checkpoint_file,
                        " does not verify: ", kept.status().message());
  }
  if (kept->tree_size > static_cast<uint64_t>(stored)) {
    return absl::StrCat("storage holds ", stored, " records but the checkpoint in ",
                        options_.checkpoint_file, " shows ", kept->tree_size,
                        ": the tail of the log was truncated");
  }
  absl::StatusOr<Hash> root = RootFrom(Source(), kept->tree_size);
  if (!root.ok() || *root != kept->root) {
    return absl::StrCat("the first ", kept->tree_size, " records in storage are not those of the ",
                        "checkpoint in ", options_.checkpoint_file, ": the log was rewritten");
  }
  return "";
}

int64_t AuditLog::size() const {
  absl::MutexLock lock(&tree_mu_);
  return static_cast<int64_t>(frontier_.size());
}

absl::StatusOr<AppendResult> AuditLog::Ingest(const std::string& writer,
                                              std::vector<AuditEvent> events) {
  // Who wrote an event is what makes it evidence: a workload writes its own
  // service's events and nothing else, so a forged "pg-adapter refunded"
  // needs pg-adapter's key, and the record names the key that wrote it.
  std::optional<std::string> account = ServiceAccountOf(writer);
  if (!account) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied,
                           absl::StrCat("audit events must be written by a workload of the mesh, "
                                        "not by \"",
                                        writer, "\""),
                           shop::v1::AUDIT_WRITER_MISMATCH);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].service() != *account) {
      return ErrorWithReason(
          absl::StatusCode::kPermissionDenied,
          absl::StrCat("events[", i, "] names service \"", events[i].service().substr(0, 64),
                       "\" but its writer ", writer, " may only write events of \"", *account,
                       "\"; nothing of this message is stored"),
          shop::v1::AUDIT_WRITER_MISMATCH);
    }
  }
  FieldViolations violations;
  if (events.size() > kMaxEventsPerRequest) {
    violations.Add("events", absl::StrCat("at most ", kMaxEventsPerRequest, " per message"));
  }
  for (size_t i = 0; i < events.size() && violations.size() < 20; ++i) {
    ValidateEvent(events[i], static_cast<int>(i), violations);
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus("malformed audit events"));
  if (events.empty()) return AppendResult{};
  PendingIngest pending;
  pending.writer = writer;
  // An id repeated within this message is left out here, on the caller's
  // thread: otherwise its group's optimistic write would fail and be redone
  // for every caller in it.
  absl::flat_hash_set<std::string> ids;
  ids.reserve(events.size());
  pending.events.reserve(events.size());
  for (AuditEvent& event : events) {
    if (ids.insert(event.event_id()).second) {
      pending.events.push_back(std::move(event));
    } else {
      ++pending.repeats;
    }
  }
  pending.serialized.reserve(pending.events.size());
  for (const AuditEvent& event : pending.events) {
    pending.serialized.push_back(event.SerializeAsString());
  }
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) return absl::UnavailableError("the audit log is shutting down");
    pending_.push_back(&pending);
  }
  pending.done.WaitForNotification();
  return pending.result;
}

void AuditLog::WriterLoop() {
  while (true) {
    std::vector<PendingIngest*> group;
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return stopping_ || !pending_.empty();
      };
      queue_mu_.Await(absl::Condition(&ready));
      if (pending_.empty() && stopping_) return;
      size_t events = 0;
      while (!pending_.empty() && (group.empty() || events < options_.max_group_events)) {
        events += pending_.front()->events.size();
        group.push_back(pending_.front());
        pending_.pop_front();
      }
    }
    WriteGroup(group);
  }
}

void AuditLog::WriteGroup(std::vector<PendingIngest*>& group) {
  // Optimistic: exporters rarely resend, so the group is written as is and
  // the unique index on event_id catches a resend (ALREADY_EXISTS, nothing
  // written); only then are the stored ids looked up and left out, along
  // with repeats inside the group.
  absl::Status stored = WriteNew(group, nullptr);
  if (stored.code() == absl::StatusCode::kAlreadyExists) {
    std::vector<std::string> ids;
    for (PendingIngest* p : group) {
      for (const AuditEvent& e : p->events) ids.push_back(e.event_id());
    }
    absl::StatusOr<std::vector<std::string>> existing = store_->ExistingEventIds(ids);
    stored = existing.status();
    if (existing.ok()) {
      std::set<std::string> taken(existing->begin(), existing->end());
      stored = WriteNew(group, &taken);
    }
  }
  if (!stored.ok()) {
    log::Error("audit events not stored", {{"error", std::string(stored.message())}});
  }
  for (PendingIngest* p : group) {
    if (!stored.ok()) {
      p->result =
          absl::UnavailableError(absl::StrCat("audit events not stored: ", stored.message()));
    }
    p->done.Notify();
  }
}

absl::Status AuditLog::WriteNew(std::vector<PendingIngest*>& group, std::set<std::string>* taken) {
  std::vector<AppendResult> results(group.size());
  std::vector<StoredRow> rows;
  int64_t sequence;
  MerkleFrontier next;  // the tree once these rows are in, and the nodes they complete
  {
    absl::MutexLock lock(&tree_mu_);
    sequence = next_sequence_;
    next = frontier_;
  }
  std::vector<MerkleFrontier::Node> completed;
  const int64_t first_sequence = sequence;
  const absl::Time now = options_.clock->Now();
  // The record is composed from the event's own bytes rather than by
  // copying the event into an AuditRecord: the same wire format (fields 1,
  // 2, 3 in order), without a deep copy of every event on the hot path.
  const int64_t now_micros = absl::ToUnixMicros(now);
  std::string received;
  TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now)).SerializeToString(&received);
  for (size_t g = 0; g < group.size(); ++g) {
    const std::vector<AuditEvent>& events = group[g]->events;
    for (size_t i = 0; i < events.size(); ++i) {
      if (taken != nullptr && !taken->insert(events[i].event_id()).second) {
        ++results[g].duplicates;
        continue;
      }
      ++results[g].accepted;
      StoredRow row;
      row.sequence = sequence++;
      row.event = &events[i];
      row.record = EncodeRecord(row.sequence, group[g]->serialized[i], received, group[g]->writer);
      row.leaf_hash = LeafHash(row.record);
      next.Append(row.leaf_hash, kStoredNodeLevels, &completed);
      row.receive_unix_micros = now_micros;
      rows.push_back(std::move(row));
    }
  }
  if (!rows.empty()) {
    std::vector<StoredNode> nodes;
    nodes.reserve(completed.size());
    for (const auto& node : completed) {
      nodes.push_back(StoredNode{node.level, static_cast<int64_t>(node.index), node.hash});
    }
    SHOP_RETURN_IF_ERROR(store_->Append(rows, nodes));
    absl::MutexLock lock(&tree_mu_);
    if (next_sequence_ != first_sequence) {
      return absl::InternalError("the log was written by someone else meanwhile");
    }
    frontier_ = std::move(next);
    next_sequence_ = sequence;
  }
  for (size_t g = 0; g < group.size(); ++g) {
    results[g].duplicates += group[g]->repeats;
    group[g]->result = results[g];
  }
  return absl::OkStatus();
}

void AuditLog::PublisherLoop() {
  while (true) {
    {
      absl::MutexLock lock(&queue_mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) { return stopping_; };
      if (queue_mu_.AwaitWithTimeout(absl::Condition(&stop), options_.tree_head_interval)) return;
    }
    if (absl::Status s = PublishTreeHead(); !s.ok()) {
      log::Warn("tree head not published", {{"error", std::string(s.message())}});
    }
  }
}

absl::Status AuditLog::PublishTreeHead() {
  absl::MutexLock publishing(&publish_mu_);
  TreeHead head;
  {
    absl::MutexLock lock(&tree_mu_);
    head.tree_size = frontier_.size();
    if (latest_head_ && latest_head_->tree_size() == static_cast<int64_t>(head.tree_size)) {
      return absl::OkStatus();  // nothing new to sign
    }
    head.root = frontier_.Root();
  }
  head.timestamp_unix_ms = absl::ToUnixMillis(options_.clock->Now());
  shop::v1::SignedTreeHead signed_head =
      UnsignedHead(static_cast<int64_t>(head.tree_size), head.root);
  signed_head.set_timestamp_unix_ms(head.timestamp_unix_ms);
  signed_head.set_signature(signer_->Sign(head));
  signed_head.set_key_id(signer_->key_id());
  SHOP_RETURN_IF_ERROR(store_->SaveTreeHead(signed_head));
  if (!options_.checkpoint_file.empty()) {
    SHOP_RETURN_IF_ERROR(WriteFileAtomically(
        options_.checkpoint_file, SignCheckpoint(*signer_, {head.tree_size, head.root})));
  }
  absl::MutexLock lock(&tree_mu_);
  latest_head_ = signed_head;
  return absl::OkStatus();
}

absl::StatusOr<shop::v1::SignedTreeHead> AuditLog::LatestTreeHead() {
  absl::MutexLock lock(&tree_mu_);
  if (!latest_head_) return absl::UnavailableError("no tree head published yet");
  shop::v1::SignedTreeHead head = *latest_head_;
  std::optional<Hash> root = HashFromBytes(head.root_hash());
  if (root) {
    head.set_checkpoint(SignCheckpoint(*signer_, {static_cast<uint64_t>(head.tree_size()), *root}));
  }
  return head;
}

absl::StatusOr<shop::v1::SignedTreeHead> AuditLog::HeadForSize(int64_t tree_size) {
  absl::StatusOr<shop::v1::SignedTreeHead> head = store_->TreeHeadAt(tree_size);
  if (head.ok() || head.status().code() != absl::StatusCode::kNotFound) return head;
  SHOP_ASSIGN_OR_RETURN(Hash root, RootFrom(Source(), static_cast<uint64_t>(tree_size)));
  return UnsignedHead(tree_size, root);
}

absl::StatusOr<shop::v1::GetInclusionProofResponse> AuditLog::InclusionProof(
    const shop::v1::GetInclusionProofRequest& request) {
  FieldViolations violations;
  if ((request.sequence() > 0) == !request.event_id().empty()) {
    violations.Add("sequence", "give either sequence (from 1) or event_id");
  }
  if (request.sequence() < 0) violations.Add("sequence", "must be positive");
  if (request.tree_size() < 0) violations.Add("tree_size", "must not be negative");
  if (!request.event_id().empty() && !IsValidId(request.event_id())) {
    violations.Add("event_id", "must be 1-128 printable characters");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  int64_t sequence = request.sequence();
  if (sequence == 0) {
    SHOP_ASSIGN_OR_RETURN(sequence, store_->SequenceOf(request.event_id()));
  }
  shop::v1::GetInclusionProofResponse response;
  int64_t tree_size = request.tree_size();
  {
    absl::MutexLock lock(&tree_mu_);
    if (tree_size == 0) {
      if (!latest_head_) return absl::UnavailableError("no tree head published yet");
      tree_size = latest_head_->tree_size();
    }
    if (tree_size > static_cast<int64_t>(frontier_.size())) {
      return absl::OutOfRangeError(
          absl::StrCat("tree_size ", tree_size, " is beyond the log (", frontier_.size(), ")"));
    }
  }
  if (sequence > tree_size) {
    return absl::OutOfRangeError(absl::StrCat("record ", sequence, " is not in the tree of size ",
                                              tree_size,
                                              " yet; ask again after the next tree head"));
  }
  // The nodes come from storage, outside the lock: everything below
  // tree_size is stored and never changes.
  SHOP_ASSIGN_OR_RETURN(std::vector<Hash> path,
                        InclusionProofFrom(Source(), static_cast<uint64_t>(sequence - 1),
                                           static_cast<uint64_t>(tree_size)));
  for (const Hash& h : path) response.add_audit_path(HashToBytes(h));
  SHOP_ASSIGN_OR_RETURN(*response.mutable_tree_head(), HeadForSize(tree_size));
  response.set_leaf_index(sequence - 1);
  SHOP_ASSIGN_OR_RETURN(*response.mutable_record(), store_->RecordAt(sequence));
  return response;
}

absl::StatusOr<shop::v1::GetConsistencyProofResponse> AuditLog::ConsistencyProof(
    const shop::v1::GetConsistencyProofRequest& request) {
  FieldViolations violations;
  if (request.first_size() < 0) violations.Add("first_size", "must not be negative");
  if (request.second_size() < 0) violations.Add("second_size", "must not be negative");
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  int64_t second = request.second_size();
  {
    absl::MutexLock lock(&tree_mu_);
    if (second == 0) {
      if (!latest_head_) return absl::UnavailableError("no tree head published yet");
      second = latest_head_->tree_size();
    }
    if (second > static_cast<int64_t>(frontier_.size())) {
      return absl::OutOfRangeError(
          absl::StrCat("second_size ", second, " is beyond the log (", frontier_.size(), ")"));
    }
  }
  if (request.first_size() > second) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_size ", request.first_size(), " is larger than second_size ", second));
  }
  SHOP_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                        ConsistencyProofFrom(Source(), static_cast<uint64_t>(request.first_size()),
                                             static_cast<uint64_t>(second)));
  shop::v1::GetConsistencyProofResponse response;
  for (const Hash& h : proof) response.add_proof(HashToBytes(h));
  SHOP_ASSIGN_OR_RETURN(*response.mutable_first(), HeadForSize(request.first_size()));
  SHOP_ASSIGN_OR_RETURN(*response.mutable_second(), HeadForSize(second));
  return response;
}

absl::StatusOr<shop::v1::VerifyLogResponse> AuditLog::Verify() {
  // Each verification reads the whole log: one at a time.
  bool idle = false;
  if (!verifying_.compare_exchange_strong(idle, true)) {
    return absl::ResourceExhaustedError(
        "a verification of the log is already running; ask again when it has finished");
  }
  struct Done {
    std::atomic<bool>* verifying;
    ~Done() { verifying->store(false); }
  } done{&verifying_};

  shop::v1::VerifyLogResponse response;
  int64_t first_bad = -1;
  auto problem = [&](int64_t index, std::string text) {
    if (first_bad < 0 || index < first_bad) first_bad = index;
    if (response.problems_size() < 20) response.add_problems(std::move(text));
  };
  int64_t logged_size;
  {
    absl::MutexLock lock(&tree_mu_);
    logged_size = static_cast<int64_t>(frontier_.size());
    if (!damage_.empty()) response.add_problems("at start-up: " + damage_);
  }
  // Memory stays bounded: the recomputed tree is its right edge, the signed
  // heads are read a page at a time, stored nodes one at a time.
  MerkleFrontier recomputed;
  std::vector<MerkleFrontier::Node> completed;
  std::deque<shop::v1::SignedTreeHead> heads;
  int64_t heads_after = -1;
  bool heads_done = false;
  absl::Status failure = absl::OkStatus();
  auto next_head = [&]() -> const shop::v1::SignedTreeHead* {
    if (heads.empty() && !heads_done && failure.ok()) {
      absl::StatusOr<std::vector<shop::v1::SignedTreeHead>> page =
          store_->TreeHeadsAfter(heads_after, 1000);
      if (!page.ok()) {
        failure = page.status();
        return nullptr;
      }
      if (page->empty()) heads_done = true;
      for (auto& head : *page) heads.push_back(std::move(head));
      if (!heads.empty()) heads_after = heads.back().tree_size();
    }
    return heads.empty() ? nullptr : &heads.front();
  };
  int64_t verified_size = 0;  // leaves covered by the last head that verified
  // Checks every signed head of exactly the recomputed size.
  auto check_heads = [&] {
    const int64_t size = static_cast<int64_t>(recomputed.size());
    for (const shop::v1::SignedTreeHead* head = next_head();
         head != nullptr && head->tree_size() <= size; head = next_head()) {
      if (head->tree_size() == size) {
        response.set_tree_heads_checked(response.tree_heads_checked() + 1);
        absl::Status check = CheckSignedHead(*signer_, *head, recomputed.Root());
        if (check.ok()) {
          verified_size = size;
        } else {
          // The change lies among the leaves this head covers beyond the
          // last head that verified: a leaf found bad there is the place,
          // otherwise the first of them.
          problem(first_bad >= verified_size ? first_bad : verified_size,
                  absl::StrCat("tree head of size ", size, " does not verify: ", check.message(),
                               "; leaves ", verified_size, " to ", size - 1,
                               " differ from what was logged"));
        }
      }
      heads.pop_front();
    }
  };
  check_heads();      // the head of the empty tree
  int64_t index = 0;  // leaf index the next row should hold
  absl::Status scanned = store_->Scan([&](const LeafRow& row) {
    if (row.sequence > logged_size && row.sequence == index + 1) {
      return false;  // written after this check began
    }
    response.set_rows_checked(response.rows_checked() + 1);
    if (row.sequence != index + 1) {
      if (row.sequence > index + 1) {
        problem(index, absl::StrCat("leaf ", index,
                                    " is missing from storage (deleted?); next "
                                    "row has sequence ",
                                    row.sequence));
      } else {
        problem(index, absl::StrCat("row with sequence ", row.sequence, " found where leaf ", index,
                                    " belongs (inserted or renumbered?)"));
      }
    }
    Hash leaf = LeafHash(row.record);
    shop::v1::AuditRecord record;
    if (!record.ParseFromString(row.record)) {
      problem(index, absl::StrCat("leaf ", index, ": record does not parse (edited?)"));
    } else if (record.sequence() != index + 1) {
      problem(index, absl::StrCat("leaf ", index, ": record says sequence ", record.sequence(),
                                  " (moved or reordered?)"));
    }
    if (HashToBytes(leaf) != row.leaf_hash) {
      problem(index, absl::StrCat("leaf ", index,
                                  ": record does not match its stored hash "
                                  "(edited?)"));
    }
    recomputed.Append(leaf, kStoredNodeLevels, &completed);
    for (const auto& node : completed) {
      absl::StatusOr<std::vector<Hash>> stored =
          store_->Subtrees(node.level, static_cast<int64_t>(node.index), 1);
      if (!stored.ok() || (*stored)[0] != node.hash) {
        const int64_t begin = static_cast<int64_t>(node.index << node.level);
        problem(begin,
                absl::StrCat("stored tree node ", node.level, "/", node.index, " (leaves from ",
                             begin, ") is not the hash of the stored leaves"));
      }
    }
    completed.clear();
    ++index;
    check_heads();
    return failure.ok();
  });
  SHOP_RETURN_IF_ERROR(scanned);
  SHOP_RETURN_IF_ERROR(failure);
  if (index < logged_size) {
    problem(index, absl::StrCat("storage ends at leaf ", index, " but the log has ", logged_size,
                                " leaves (deleted?)"));
  }
  // Heads beyond what storage holds.
  for (const shop::v1::SignedTreeHead* head = next_head();
       head != nullptr && head->tree_size() <= logged_size; head = next_head()) {
    response.add_problems(absl::StrCat("tree head of size ", head->tree_size(),
                                       " covers leaves storage no longer has"));
    heads.pop_front();
    if (response.problems_size() >= 20) break;
  }
  SHOP_RETURN_IF_ERROR(failure);
  response.set_tree_size(logged_size);
  response.set_first_bad_index(first_bad);
  response.set_ok(response.problems_size() == 0);
  if (!response.ok()) {
    log::Error("audit log verification failed",
               {{"first_bad_index", first_bad}, {"problem", response.problems(0)}});
  }
  return response;
}

absl::StatusOr<shop::v1::QueryResponse> AuditLog::Query(const shop::v1::QueryRequest& request) {
  FieldViolations violations;
  ValidateFilter(request.filter(), violations);
  if (request.page_size() < 0 || request.page_size() > 1000) {
    violations.Add("page_size", "must be between 0 and 1000");
  }
  QueryFilter filter;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &filter.after_sequence) ||
       filter.after_sequence < 0)) {
    violations.Add("page_token", "is not a token this service issued");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  filter.filter = request.filter();
  filter.limit = request.page_size() == 0 ? 100 : request.page_size();
  int limit = filter.limit;
  filter.limit = limit + 1;  // one more tells whether there is a next page
  SHOP_ASSIGN_OR_RETURN(std::vector<shop::v1::AuditRecord> records, store_->Query(filter));
  shop::v1::QueryResponse response;
  if (static_cast<int>(records.size()) > limit) {
    records.resize(limit);
    response.set_next_page_token(std::to_string(records.back().sequence()));
  }
  for (auto& record : records) *response.add_records() = std::move(record);
  return response;
}

absl::Status AuditLog::CheckTailRequest(const shop::v1::TailRequest& request) {
  FieldViolations violations;
  ValidateFilter(request.filter(), violations);
  if (request.after_sequence() < 0) violations.Add("after_sequence", "must not be negative");
  return violations.ToStatus();
}

absl::StatusOr<std::vector<shop::v1::AuditRecord>> AuditLog::TailBatch(
    const shop::v1::AuditFilter& filter, int64_t* after, absl::Duration wait) {
  int64_t end;
  {
    absl::MutexLock lock(&tree_mu_);
    if (*after < 0) *after = static_cast<int64_t>(frontier_.size());
    auto grown = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tree_mu_) {
      return static_cast<int64_t>(frontier_.size()) > *after;
    };
    tree_mu_.AwaitWithTimeout(absl::Condition(&grown), wait);
    end = static_cast<int64_t>(frontier_.size());
  }
  if (end <= *after) return std::vector<shop::v1::AuditRecord>{};
  QueryFilter query;
  query.filter = filter;
  query.after_sequence = *after;
  query.up_to_sequence = end;
  query.limit = 500;
  SHOP_ASSIGN_OR_RETURN(std::vector<shop::v1::AuditRecord> records, store_->Query(query));
  *after = static_cast<int>(records.size()) < query.limit ? end : records.back().sequence();
  return records;
}

absl::StatusOr<std::vector<AuditEvent>> AuditLog::EventsOfTrace(const std::string& trace_id) {
  std::vector<AuditEvent> events;
  QueryFilter query;
  query.filter.set_trace_id(trace_id);
  query.limit = 1000;
  while (static_cast<int>(events.size()) < kMaxTraceSpans) {
    SHOP_ASSIGN_OR_RETURN(std::vector<shop::v1::AuditRecord> records, store_->Query(query));
    for (auto& record : records) events.push_back(std::move(*record.mutable_event()));
    if (static_cast<int>(records.size()) < query.limit) break;
    query.after_sequence = records.back().sequence();
  }
  return events;
}

absl::StatusOr<shop::v1::GetTraceResponse> AuditLog::GetTrace(
    const shop::v1::GetTraceRequest& request) {
  FieldViolations violations;
  if (request.trace_id().empty() == request.order_id().empty()) {
    violations.Add("trace_id", "give either trace_id or order_id");
  }
  if (!request.trace_id().empty() && !IsHex(request.trace_id(), 32)) {
    violations.Add("trace_id", "must be 32 lower-case hex digits");
  }
  if (!request.order_id().empty() && !IsValidId(request.order_id())) {
    violations.Add("order_id", "must be 1-128 printable characters");
  }
  SHOP_RETURN_IF_ERROR(violations.ToStatus());
  std::vector<std::string> trace_ids;
  if (!request.trace_id().empty()) {
    trace_ids.push_back(request.trace_id());
  } else {
    QueryFilter query;
    query.filter.set_order_id(request.order_id());
    query.limit = 1000;
    std::set<std::string> seen;
    while (true) {
      SHOP_ASSIGN_OR_RETURN(std::vector<shop::v1::AuditRecord> records, store_->Query(query));
      for (const auto& r : records) {
        if (!r.event().trace_id().empty() && seen.insert(r.event().trace_id()).second) {
          trace_ids.push_back(r.event().trace_id());
        }
      }
      if (static_cast<int>(records.size()) < query.limit || trace_ids.size() > 100) break;
      query.after_sequence = records.back().sequence();
    }
  }
  std::vector<AuditEvent> events;
  for (const std::string& id : trace_ids) {
    SHOP_ASSIGN_OR_RETURN(std::vector<AuditEvent> some, EventsOfTrace(id));
    for (auto& e : some) events.push_back(std::move(e));
  }
  if (events.empty()) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "no spans recorded for this trace or order",
                           shop::v1::TRACE_NOT_FOUND);
  }
  return BuildTraceTrees(std::move(events));
}

absl::StatusOr<shop::v1::ExportTraceResponse> AuditLog::ExportTrace(
    const shop::v1::ExportTraceRequest& request) {
  if (!IsHex(request.trace_id(), 32)) {
    FieldViolations violations;
    violations.Add("trace_id", "must be 32 lower-case hex digits");
    return violations.ToStatus();
  }
  SHOP_ASSIGN_OR_RETURN(std::vector<AuditEvent> events, EventsOfTrace(request.trace_id()));
  if (events.empty()) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "no spans recorded for this trace",
                           shop::v1::TRACE_NOT_FOUND);
  }
  shop::v1::ExportTraceResponse response;
  response.set_otlp_json(ToOtlpJson(events));
  return response;
}

LocalAuditSink::LocalAuditSink(AuditLog* log) : log_(log) {
  thread_ = std::thread([this] { Run(); });
}

LocalAuditSink::~LocalAuditSink() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void LocalAuditSink::Emit(AuditEvent event) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= 100000) return;  // the database is away: keep memory bounded
  queue_.push_back(std::move(event));
}

void LocalAuditSink::Run() {
  while (true) {
    std::vector<AuditEvent> batch;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      while (!queue_.empty() && batch.size() < 500) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stopping = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      absl::StatusOr<AppendResult> result = log_->Ingest(ProcessSpiffeId(), batch);
      if (!result.ok() && result.status().code() != absl::StatusCode::kInvalidArgument) {
        log::Error("cannot store own audit events",
                   {{"error", std::string(result.status().message())},
                    {"events", static_cast<int64_t>(batch.size())}});
        absl::MutexLock lock(&mu_);
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(*it);
        if (stopping_) return;
        auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&stop), absl::Seconds(1));
        continue;
      }
    }
    if (stopping) return;
  }
}

}  // namespace shop::logging

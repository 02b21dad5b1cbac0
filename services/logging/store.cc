#include "services/logging/store.h"

#include <google/protobuf/util/time_util.h>
#include <libpq-fe.h>

#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/postgres/pool.h"
#include "core/status.h"
#include "logging_migrations.h"

namespace shop::logging {
namespace {

using google::protobuf::util::TimeUtil;

// A text[] literal of `values`, each double-quoted.
std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"";
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += "\\";
      out.push_back(c);
    }
    out += "\"";
  }
  return out + "}";
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return TimeUtil::TimestampToMicroseconds(t);
}

// COPY's binary format (PostgreSQL docs, "Binary Format"): no text to
// escape and no hex to decode on either side, which is most of the
// database's work per row on the ingest path.
void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutField(std::string& out, absl::string_view bytes) {
  PutBigEndian(out, static_cast<uint32_t>(bytes.size()), 4);
  out.append(bytes.data(), bytes.size());
}

void PutInt(std::string& out, uint64_t v, int bytes) {
  PutBigEndian(out, static_cast<uint32_t>(bytes), 4);
  PutBigEndian(out, v, bytes);
}

// timestamptz: microseconds since 2000-01-01 00:00:00 UTC.
void PutTime(std::string& out, int64_t unix_micros) {
  constexpr int64_t kPostgresEpochUnixMicros = 946684800LL * 1000000;
  PutInt(out, static_cast<uint64_t>(unix_micros - kPostgresEpochUnixMicros), 8);
}

// PostgreSQL's binary COPY format: a header, one tuple per row, a trailer.
std::string BinaryCopyHeader() {
  std::string out("PGCOPY\n\377\r\n\0", 11);
  PutBigEndian(out, 0, 4);  // flags
  PutBigEndian(out, 0, 4);  // header extension
  return out;
}

void PutBinaryCopyRows(std::string& out, const StoredRow* begin, const StoredRow* end) {
  for (const StoredRow* row = begin; row != end; ++row) {
    const shop::v1::AuditEvent& e = *row->event;
    PutBigEndian(out, 14, 2);  // fields
    PutInt(out, static_cast<uint64_t>(row->sequence), 8);
    PutField(out, e.event_id());
    PutInt(out, static_cast<uint64_t>(e.kind()), 2);
    for (const std::string* text :
         {&e.service(), &e.name(), &e.trace_id(), &e.order_id(), &e.customer_id(), &e.caller()}) {
      PutField(out, *text);
    }
    PutInt(out, static_cast<uint32_t>(e.status_code()), 4);
    PutTime(out, e.has_start_time() ? Micros(e.start_time()) : row->receive_unix_micros);
    PutTime(out, row->receive_unix_micros);
    PutField(out, row->record);
    PutField(out, HashToBytes(row->leaf_hash));
  }
}

std::string ResultError(PGresult* result, PGconn* connection) {
  const char* message =
      result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection);
  return message != nullptr ? message : "unknown error";
}

}  // namespace

struct PostgresAuditStore::WriterLock {
  explicit WriterLock(const std::string& url) : connection(url), url(url) {}
  ~WriterLock() {
    if (copy != nullptr) PQfinish(copy);
  }
  pqxx::connection connection;  // holds the advisory lock
  std::string url;
  PGconn* copy = nullptr;  // the writer's own session for binary COPY
};

PostgresAuditStore::PostgresAuditStore(PostgresPool* pool) : pool_(pool) {}
PostgresAuditStore::~PostgresAuditStore() = default;

absl::Status PostgresAuditStore::Migrate(PostgresPool* owner_pool, const std::string& writer_role) {
  if (absl::Status s = owner_pool->Migrate("logging", Migrations()); !s.ok()) return s;
  return owner_pool->Transact([&](pqxx::work& w) -> absl::Status {
    std::string owner = w.exec1("SELECT current_user")[0].as<std::string>();
    if (writer_role == owner) return absl::OkStatus();  // dev setup: one role
    std::string role = w.quote_name(writer_role);
    w.exec(
        absl::StrCat("GRANT CONNECT ON DATABASE ", w.quote_name(w.conn().dbname()), " TO ", role));
    w.exec(absl::StrCat("GRANT USAGE ON SCHEMA public TO ", role));
    w.exec(absl::StrCat(
        "REVOKE ALL ON audit_records, tree_heads, merkle_nodes, audit_events_v0 FROM ", role));
    w.exec(
        absl::StrCat("GRANT SELECT, INSERT ON audit_records, tree_heads, merkle_nodes TO ", role));
    w.exec(absl::StrCat("GRANT SELECT ON audit_events_v0, schema_migrations TO ", role));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> PostgresAuditStore::CurrentRole(PostgresPool* pool) {
  std::string role;
  absl::Status status = pool->Transact([&](pqxx::work& w) -> absl::Status {
    role = w.exec1("SELECT current_user")[0].as<std::string>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return role;
}

absl::Status PostgresAuditStore::LockAsSoleWriter(const std::string& url) {
  try {
    writer_lock_ = std::make_unique<WriterLock>(url);
    pqxx::nontransaction n(writer_lock_->connection);
    bool locked =
        n.exec1("SELECT pg_try_advisory_lock(hashtext('shopmesh audit log writer'))")[0].as<bool>();
    if (!locked) {
      return absl::FailedPreconditionError(
          "another logging process is writing this audit log (only one may number its leaves)");
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot take the writer lock: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PostgresAuditStore::ExistingEventIds(
    const std::vector<std::string>& ids) {
  std::vector<std::string> existing;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    existing.clear();
    pqxx::result rows = w.exec_params(
        "SELECT event_id FROM audit_records WHERE event_id = ANY($1::text[])", TextArray(ids));
    for (const auto& row : rows) existing.push_back(row[0].as<std::string>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return existing;
}

namespace {

// INSERT of tree nodes: every value is a number or the hex of a hash this
// process computed, so the statement is built from server-side constants.
std::string InsertNodesSql(const std::vector<StoredNode>& nodes) {
  std::string sql = "INSERT INTO merkle_nodes (level, idx, hash) VALUES ";
  for (size_t i = 0; i < nodes.size(); ++i) {
    absl::StrAppend(&sql, i == 0 ? "" : ",", "(", nodes[i].level, ",", nodes[i].index, ",'\\x",
                    HashToHex(nodes[i].hash), "'::bytea)");
  }
  return sql + " ON CONFLICT (level, idx) DO NOTHING";
}

shop::v1::SignedTreeHead HeadOf(const pqxx::row& row) {
  shop::v1::SignedTreeHead head;
  head.set_tree_size(row[0].as<int64_t>());
  head.set_root_hash(pqxx::binarystring(row[1]).str());
  head.set_timestamp_unix_ms(row[2].as<int64_t>());
  head.set_signature(pqxx::binarystring(row[3]).str());
  head.set_key_id(row[4].as<std::string>());
  return head;
}

constexpr char kHeadColumns[] = "SELECT tree_size, root_hash, timestamp_ms, signature, key_id ";

}  // namespace

absl::Status PostgresAuditStore::AddNodes(const std::vector<StoredNode>& nodes) {
  if (nodes.empty()) return absl::OkStatus();
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec(InsertNodesSql(nodes));
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PostgresAuditStore::LastSequence() {
  int64_t last = 0;
  SHOP_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& w) -> absl::Status {
    last = w.exec1("SELECT coalesce(max(sequence), 0) FROM audit_records")[0].as<int64_t>();
    return absl::OkStatus();
  }));
  return last;
}

absl::StatusOr<int64_t> PostgresAuditStore::NodeCount(int level) {
  int64_t count = 0;
  SHOP_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& w) -> absl::Status {
    count = w.exec_params1("SELECT count(*) FROM merkle_nodes WHERE level = $1", level)[0]
                .as<int64_t>();
    return absl::OkStatus();
  }));
  return count;
}

absl::StatusOr<std::vector<Hash>> PostgresAuditStore::Subtrees(int level, int64_t first,
                                                               int count) {
  std::vector<Hash> hashes;
  SHOP_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& w) -> absl::Status {
    hashes.clear();
    pqxx::result rows =
        level == 0 ? w.exec_params(
                         "SELECT leaf_hash FROM audit_records WHERE sequence > $1 AND "
                         "sequence <= $2 ORDER BY sequence",
                         first, first + count)
                   : w.exec_params(
                         "SELECT hash FROM merkle_nodes WHERE level = $1 AND idx >= $2 AND "
                         "idx < $3 ORDER BY idx",
                         level, first, first + count);
    for (const auto& row : rows) {
      std::optional<Hash> hash = HashFromBytes(pqxx::binarystring(row[0]).str());
      if (!hash) return absl::DataLossError("a stored tree hash is not 32 bytes");
      hashes.push_back(*hash);
    }
    return absl::OkStatus();
  }));
  if (static_cast<int>(hashes.size()) != count) {
    return absl::DataLossError(absl::StrCat("storage holds ", hashes.size(), " of the ", count,
                                            " tree nodes of level ", level, " from ", first));
  }
  return hashes;
}

absl::Status PostgresAuditStore::Append(const std::vector<StoredRow>& rows,
                                        const std::vector<StoredNode>& nodes) {
  if (writer_lock_ == nullptr) {
    return absl::FailedPreconditionError("only the sole writer appends (LockAsSoleWriter first)");
  }
  if (rows.empty()) return absl::OkStatus();
  WriterLock& w = *writer_lock_;
  if (w.copy == nullptr || PQstatus(w.copy) != CONNECTION_OK) {
    if (w.copy != nullptr) PQfinish(w.copy);
    w.copy = PQconnectdb(w.url.c_str());
    if (PQstatus(w.copy) != CONNECTION_OK) {
      std::string error = PQerrorMessage(w.copy);
      PQfinish(w.copy);
      w.copy = nullptr;
      return absl::UnavailableError(absl::StrCat("cannot connect for COPY: ", error));
    }
  }
  PGconn* c = w.copy;
  auto run = [c](const char* sql, ExecStatusType expected) -> absl::Status {
    PGresult* result = PQexec(c, sql);
    absl::Status status = PQresultStatus(result) == expected
                              ? absl::OkStatus()
                              : absl::UnavailableError(ResultError(result, c));
    PQclear(result);
    return status;
  };
  SHOP_RETURN_IF_ERROR(run("BEGIN", PGRES_COMMAND_OK));
  absl::Status copied =
      run("COPY audit_records (sequence, event_id, kind, service, name, trace_id, order_id, "
          "customer_id, caller, status_code, event_time, received_at, record, leaf_hash) "
          "FROM STDIN (FORMAT binary)",
          PGRES_COPY_IN);
  if (copied.ok()) {
    // Sent in slices as they are encoded, so the server is already storing
    // the first rows while the last are being encoded.
    constexpr size_t kSliceRows = 256;
    std::string data = BinaryCopyHeader();
    for (size_t at = 0; at < rows.size() && copied.ok(); at += kSliceRows) {
      const size_t end = std::min(rows.size(), at + kSliceRows);
      PutBinaryCopyRows(data, rows.data() + at, rows.data() + end);
      if (end == rows.size()) PutBigEndian(data, 0xffff, 2);  // trailer
      if (PQputCopyData(c, data.data(), static_cast<int>(data.size())) != 1) {
        copied = absl::UnavailableError(PQerrorMessage(c));
      }
      data.clear();
    }
    if (PQputCopyEnd(c, copied.ok() ? nullptr : "client gave up") != 1) {
      copied = absl::UnavailableError(PQerrorMessage(c));
    }
    while (PGresult* result = PQgetResult(c)) {
      if (PQresultStatus(result) != PGRES_COMMAND_OK && copied.ok()) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        copied = state != nullptr && std::string(state) == "23505"  // unique_violation
                     ? absl::AlreadyExistsError(ResultError(result, c))
                     : absl::UnavailableError(ResultError(result, c));
      }
      PQclear(result);
    }
  }
  if (copied.ok() && !nodes.empty()) {
    copied = run(InsertNodesSql(nodes).c_str(), PGRES_COMMAND_OK);
  }
  if (!copied.ok()) {
    run("ROLLBACK", PGRES_COMMAND_OK).IgnoreError();  // nothing half-written stays
    return copied;
  }
  // A failed COMMIT rolls back: the caller keeps its tree as it was.
  return run("COMMIT", PGRES_COMMAND_OK);
}

absl::StatusOr<std::vector<shop::v1::AuditRecord>> PostgresAuditStore::Query(const QueryFilter& q) {
  std::vector<shop::v1::AuditRecord> records;
  const auto& f = q.filter;
  int64_t up_to = q.up_to_sequence > 0 ? q.up_to_sequence : std::numeric_limits<int64_t>::max();
  int64_t since = f.has_since() ? Micros(f.since()) : 0;
  int64_t until = f.has_until() ? Micros(f.until()) : 0;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    records.clear();
    pqxx::result rows = w.exec_params(
        "SELECT record FROM audit_records WHERE sequence > $1 AND sequence <= $2 "
        "AND ($3 = '' OR trace_id = $3) AND ($4 = '' OR order_id = $4) "
        "AND ($5 = '' OR service = $5) AND ($6 = '' OR name = $6) "
        "AND ($7 = '' OR caller = $7) AND ($8 = '' OR customer_id = $8) "
        "AND ($9 < 0 OR status_code = $9) AND (NOT $10 OR status_code <> 0) "
        "AND ($11 = 0 OR kind = $11) "
        "AND ($12::bigint = 0 OR event_time >= 'epoch'::timestamptz + $12::bigint * "
        "interval '1 microsecond') "
        "AND ($13::bigint = 0 OR event_time < 'epoch'::timestamptz + $13::bigint * "
        "interval '1 microsecond') "
        "ORDER BY sequence LIMIT $14",
        q.after_sequence, up_to, f.trace_id(), f.order_id(), f.service(), f.method(), f.caller(),
        f.customer_id(), f.has_status_code() ? f.status_code() : -1, f.errors_only(),
        static_cast<int>(f.kind()), since, until, q.limit);
    for (const auto& row : rows) {
      pqxx::binarystring bytes(row[0]);
      shop::v1::AuditRecord record;
      if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        return absl::DataLossError("a stored audit record does not parse; run VerifyLog");
      }
      records.push_back(std::move(record));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return records;
}

absl::Status PostgresAuditStore::Scan(const std::function<bool(const LeafRow&)>& fn) {
  int64_t after = std::numeric_limits<int64_t>::min();
  while (true) {
    std::vector<LeafRow> chunk;
    absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
      chunk.clear();
      pqxx::result rows = w.exec_params(
          "SELECT sequence, record, leaf_hash FROM audit_records WHERE sequence > $1 "
          "ORDER BY sequence LIMIT 5000",
          after);
      for (const auto& row : rows) {
        LeafRow leaf;
        leaf.sequence = row[0].as<int64_t>();
        leaf.record = pqxx::binarystring(row[1]).str();
        leaf.leaf_hash = pqxx::binarystring(row[2]).str();
        chunk.push_back(std::move(leaf));
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    for (const LeafRow& row : chunk) {
      if (!fn(row)) return absl::OkStatus();
    }
    if (chunk.size() < 5000) return absl::OkStatus();
    after = chunk.back().sequence;
  }
}

absl::StatusOr<int64_t> PostgresAuditStore::SequenceOf(const std::string& event_id) {
  int64_t sequence = 0;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result rows =
        w.exec_params("SELECT sequence FROM audit_records WHERE event_id = $1", event_id);
    if (rows.empty()) return absl::NotFoundError("no record with this event id");
    sequence = rows[0][0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return sequence;
}

absl::StatusOr<std::string> PostgresAuditStore::RecordAt(int64_t sequence) {
  std::string record;
  absl::Status status = pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result rows =
        w.exec_params("SELECT record FROM audit_records WHERE sequence = $1", sequence);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("no record ", sequence));
    record = pqxx::binarystring(rows[0][0]).str();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return record;
}

absl::Status PostgresAuditStore::SaveTreeHead(const shop::v1::SignedTreeHead& head) {
  return pool_->Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "INSERT INTO tree_heads (tree_size, root_hash, timestamp_ms, signature, key_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
        head.tree_size(), pqxx::binarystring(head.root_hash()), head.timestamp_unix_ms(),
        pqxx::binarystring(head.signature()), head.key_id());
    return absl::OkStatus();
  });
}

absl::StatusOr<shop::v1::SignedTreeHead> PostgresAuditStore::LatestTreeHead() {
  shop::v1::SignedTreeHead head;
  SHOP_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result rows =
        w.exec(absl::StrCat(kHeadColumns, "FROM tree_heads ORDER BY tree_size DESC LIMIT 1"));
    if (rows.empty()) return absl::NotFoundError("no tree head stored");
    head = HeadOf(rows[0]);
    return absl::OkStatus();
  }));
  return head;
}

absl::StatusOr<shop::v1::SignedTreeHead> PostgresAuditStore::TreeHeadAt(int64_t tree_size) {
  shop::v1::SignedTreeHead head;
  SHOP_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result rows = w.exec_params(
        absl::StrCat(kHeadColumns, "FROM tree_heads WHERE tree_size = $1"), tree_size);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("no tree head of size ", tree_size));
    head = HeadOf(rows[0]);
    return absl::OkStatus();
  }));
  return head;
}

absl::StatusOr<std::vector<shop::v1::SignedTreeHead>> PostgresAuditStore::TreeHeadsAfter(
    int64_t after_size, int limit) {
  std::vector<shop::v1::SignedTreeHead> heads;
  SHOP_RETURN_IF_ERROR(pool_->Transact([&](pqxx::work& w) -> absl::Status {
    heads.clear();
    pqxx::result rows = w.exec_params(
        absl::StrCat(kHeadColumns,
                     "FROM tree_heads WHERE tree_size > $1 ORDER BY tree_size LIMIT $2"),
        after_size, limit);
    for (const auto& row : rows) heads.push_back(HeadOf(row));
    return absl::OkStatus();
  }));
  return heads;
}

}  // namespace shop::logging

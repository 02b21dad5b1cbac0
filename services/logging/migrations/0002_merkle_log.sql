-- The log becomes a Merkle tree (RFC 6962): each row is one leaf, numbered
-- by the single writer without gaps (sequence = leaf index + 1). `record` is
-- the exact leaf data (a serialized shop.v1.AuditRecord) and `leaf_hash` its
-- hash as computed at ingest; the other columns exist only for lookups.
-- Rows stored before this migration are not part of the tree; they stay,
-- read-only, in audit_events_v0.
ALTER TABLE audit_events RENAME TO audit_events_v0;

CREATE TABLE audit_records (
  sequence     bigint PRIMARY KEY CHECK (sequence > 0),
  event_id     text NOT NULL UNIQUE,
  kind         smallint NOT NULL,
  service      text NOT NULL,
  name         text NOT NULL,
  trace_id     text NOT NULL DEFAULT '',
  order_id     text NOT NULL DEFAULT '',
  customer_id  text NOT NULL DEFAULT '',
  caller       text NOT NULL DEFAULT '',
  status_code  integer NOT NULL DEFAULT 0,
  event_time   timestamptz NOT NULL,
  received_at  timestamptz NOT NULL,
  record       bytea NOT NULL,
  leaf_hash    bytea NOT NULL CHECK (length(leaf_hash) = 32)
);
-- Few indexes, so that ingest keeps up: lookups by trace, order and service
-- use them; other filters (method, caller, status, time) narrow those or
-- walk the log in sequence order. Event times follow the sequence closely,
-- which is what a BRIN index needs.
CREATE INDEX audit_records_by_trace ON audit_records (trace_id, sequence) WHERE trace_id <> '';
CREATE INDEX audit_records_by_order ON audit_records (order_id, sequence) WHERE order_id <> '';
CREATE INDEX audit_records_by_service ON audit_records (service, sequence);
CREATE INDEX audit_records_by_time ON audit_records USING brin (event_time);

-- Signed tree heads, as published.
CREATE TABLE tree_heads (
  tree_size     bigint PRIMARY KEY CHECK (tree_size >= 0),
  root_hash     bytea NOT NULL CHECK (length(root_hash) = 32),
  timestamp_ms  bigint NOT NULL,
  signature     bytea NOT NULL,
  key_id        text NOT NULL
);

CREATE TRIGGER audit_records_no_update BEFORE UPDATE OR DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER tree_heads_no_update BEFORE UPDATE OR DELETE ON tree_heads
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER tree_heads_no_truncate BEFORE TRUNCATE ON tree_heads
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Complete subtrees of the Merkle tree at every 8th level (8, 16, 24, ...).
-- With the leaf hashes of audit_records they give any node of the tree in at
-- most 128 reads, so the service keeps only the tree's right edge in memory
-- (it no longer grows with the log). The single writer stores them in the
-- same transaction as the records that complete them; for a log from before
-- this table, the service computes them once at start. Append-only, as the
-- records are; VerifyLog recomputes and compares them.
CREATE TABLE merkle_nodes (
  level  smallint NOT NULL CHECK (level > 0 AND level % 8 = 0),
  idx    bigint NOT NULL CHECK (idx >= 0),
  hash   bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE OR DELETE ON merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Ids are compared byte by byte: "C" collation keeps index maintenance on
-- the ingest path cheap (no locale-aware comparison of random hex strings).
ALTER TABLE audit_records
  ALTER COLUMN event_id TYPE text COLLATE "C",
  ALTER COLUMN service TYPE text COLLATE "C",
  ALTER COLUMN name TYPE text COLLATE "C",
  ALTER COLUMN trace_id TYPE text COLLATE "C",
  ALTER COLUMN order_id TYPE text COLLATE "C",
  ALTER COLUMN customer_id TYPE text COLLATE "C",
  ALTER COLUMN caller TYPE text COLLATE "C";

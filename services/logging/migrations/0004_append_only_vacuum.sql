-- The log only grows: vacuum has nothing to clean, only pages to mark
-- all-visible and to freeze. Insert-triggered autovacuum after every 20% of
-- new rows would compete with ingest for CPU; do it after every 5 million
-- rows instead (anti-wraparound vacuum is unaffected).
ALTER TABLE audit_records SET (
  autovacuum_vacuum_insert_threshold = 5000000,
  autovacuum_vacuum_insert_scale_factor = 0,
  autovacuum_analyze_scale_factor = 0.5
);

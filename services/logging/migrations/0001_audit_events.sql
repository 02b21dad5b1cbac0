-- The audit log: append-only. The serialized event is kept whole; the
-- columns beside it are for lookups.
CREATE TABLE audit_events (
  sequence       bigserial PRIMARY KEY,
  event_id       text NOT NULL UNIQUE,
  kind           text NOT NULL,
  service        text NOT NULL,
  name           text NOT NULL,
  trace_id       text NOT NULL DEFAULT '',
  order_id       text NOT NULL DEFAULT '',
  caller         text NOT NULL DEFAULT '',
  status_code    integer NOT NULL DEFAULT 0,
  event_time     timestamptz,
  received_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  event          bytea NOT NULL
);
CREATE INDEX audit_events_by_trace ON audit_events (trace_id, sequence) WHERE trace_id <> '';
CREATE INDEX audit_events_by_order ON audit_events (order_id, sequence) WHERE order_id <> '';
CREATE INDEX audit_events_by_service ON audit_events (service, sequence);

-- Even the owning role cannot rewrite history through SQL: the table only grows.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

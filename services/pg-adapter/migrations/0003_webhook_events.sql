-- Gateway webhook events, each stored once (deduplicated by the gateway's
-- event id); forwarded_at is set once ops has been told.
CREATE TABLE webhook_events (
  event_id     text PRIMARY KEY,
  type         text NOT NULL,
  order_id     text,
  body         text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  forwarded_at timestamptz
);

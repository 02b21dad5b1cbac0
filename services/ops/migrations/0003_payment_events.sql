-- What the payment gateway told us about an order after the fact (late
-- capture failure, dispute, refund), by its event id.
CREATE TABLE payment_events (
  gateway_event_id text PRIMARY KEY,
  order_id         text NOT NULL REFERENCES orders (order_id),
  event_type       text NOT NULL,
  detail           text,
  received_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX payment_events_by_order ON payment_events (order_id, received_at);

-- Orders, their lines, their status history and the saga journal.
CREATE TABLE orders (
  order_id          text PRIMARY KEY,
  customer_id       text NOT NULL,
  idempotency_key   text NOT NULL,
  request_hash      text NOT NULL,
  status            text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'PROCESSING', 'SHIPPED',
                      'DELIVERED', 'FAILED', 'PAYMENT_FAILED', 'CANCELLED')),
  currency          char(3),
  subtotal_units    bigint NOT NULL DEFAULT 0,
  subtotal_nanos    integer NOT NULL DEFAULT 0,
  tax_units         bigint NOT NULL DEFAULT 0,
  tax_nanos         integer NOT NULL DEFAULT 0,
  shipping_units    bigint NOT NULL DEFAULT 0,
  shipping_nanos    integer NOT NULL DEFAULT 0,
  total_units       bigint NOT NULL DEFAULT 0,
  total_nanos       integer NOT NULL DEFAULT 0,
  shipping_address  jsonb NOT NULL,
  billing_address   jsonb NOT NULL,
  -- A payment-method token (pm_...), never a card number.
  payment_method    text NOT NULL,
  payment_status    text,
  payment_id        text,
  reservation_id    text,
  failure_reason    text,
  -- The error the caller got (serialized google.rpc.Status), replayed on retry.
  failure_status    bytea,
  created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, order_id DESC);
CREATE INDEX orders_in_flight ON orders (updated_at) WHERE status = 'PENDING';

CREATE TABLE order_lines (
  order_id         text NOT NULL REFERENCES orders (order_id),
  line_number      integer NOT NULL,
  sku              text NOT NULL,
  name             text NOT NULL DEFAULT '',
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_units bigint NOT NULL DEFAULT 0,
  unit_price_nanos integer NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, line_number)
);

CREATE TABLE order_status_history (
  order_id    text NOT NULL REFERENCES orders (order_id),
  seq         bigserial,
  status      text NOT NULL,
  actor       text NOT NULL,
  note        text,
  changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (order_id, seq)
);

-- Each saga step, recorded before (STARTED) and after (DONE/FAILED) it is taken.
CREATE TABLE saga_steps (
  order_id    text NOT NULL REFERENCES orders (order_id),
  seq         bigserial,
  step        text NOT NULL,
  state       text NOT NULL CHECK (state IN ('STARTED', 'DONE', 'FAILED')),
  detail      text,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (order_id, seq)
);

-- Notifications waiting for the notification service (confirmation e-mails).
CREATE TABLE notification_outbox (
  notification_id bigserial PRIMARY KEY,
  order_id        text NOT NULL REFERENCES orders (order_id),
  kind            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  sent_at         timestamptz
);

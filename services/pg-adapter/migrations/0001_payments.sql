-- Payments as the adapter knows them, and every attempt at the gateway.
-- Only payment-method tokens are stored: never a card number.
CREATE TABLE payments (
  payment_id        text PRIMARY KEY,
  order_id          text NOT NULL,
  idempotency_key   text NOT NULL UNIQUE,
  status            text NOT NULL CHECK (status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'VOIDED',
                      'REFUNDED', 'PARTIALLY_REFUNDED', 'DECLINED', 'FAILED')),
  currency          char(3) NOT NULL,
  amount_minor      bigint NOT NULL CHECK (amount_minor > 0),
  captured_minor    bigint NOT NULL DEFAULT 0 CHECK (captured_minor >= 0),
  refunded_minor    bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  payment_method    text NOT NULL,
  gateway_intent_id text,
  decline_code      text,
  -- The gateway's error object of a decline, replayed to a retried call.
  failure_body      text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (refunded_minor <= captured_minor AND captured_minor <= amount_minor)
);
CREATE INDEX payments_by_order ON payments (order_id);

CREATE TABLE payment_attempts (
  attempt_id              bigserial PRIMARY KEY,
  payment_id              text NOT NULL REFERENCES payments (payment_id),
  operation               text NOT NULL CHECK (operation IN ('AUTHORIZE', 'CAPTURE', 'VOID', 'REFUND')),
  gateway_idempotency_key text NOT NULL,
  try_number              integer NOT NULL,
  started_at              timestamptz NOT NULL DEFAULT now(),
  finished_at             timestamptz,
  http_status             integer,
  outcome                 text CHECK (outcome IN ('SUCCEEDED', 'DECLINED', 'REJECTED', 'ERROR')),
  detail                  text
);
CREATE INDEX payment_attempts_by_payment ON payment_attempts (payment_id, attempt_id);

CREATE TABLE refunds (
  refund_id         text PRIMARY KEY,
  payment_id        text NOT NULL REFERENCES payments (payment_id),
  idempotency_key   text NOT NULL UNIQUE,
  amount_minor      bigint NOT NULL CHECK (amount_minor > 0),
  gateway_refund_id text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

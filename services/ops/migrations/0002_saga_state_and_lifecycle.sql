-- Saga ownership and compensation, stored answers, cancellation, tracking.
ALTER TABLE orders
  -- RUNNING: going forward; COMPENSATING: undoing towards target_status; DONE.
  ADD COLUMN saga_state text NOT NULL DEFAULT 'RUNNING'
    CHECK (saga_state IN ('RUNNING', 'COMPENSATING', 'DONE')),
  ADD COLUMN target_status text,
  -- Whoever holds an unexpired lease is working on the order (a live saga,
  -- the recovery loop, a cancellation); others keep off.
  ADD COLUMN lease_until timestamptz,
  -- The serialized Order first returned to PlaceOrder, replayed on retries.
  ADD COLUMN placement_response bytea,
  ADD COLUMN refund_id text,
  ADD COLUMN carrier text,
  ADD COLUMN tracking_number text,
  ADD COLUMN shipped_at timestamptz,
  ADD COLUMN delivered_at timestamptz;
UPDATE orders SET saga_state = 'DONE' WHERE status <> 'PENDING';
CREATE INDEX orders_unfinished ON orders (lease_until) WHERE saga_state <> 'DONE';

-- UNKNOWN: the gateway may or may not have acted on the authorization (a
-- timeout or reset after the request was sent); it is resolved by replaying
-- the request under its Idempotency-Key. FAILED now means nothing is held.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED',
                    'PARTIALLY_REFUNDED', 'DECLINED', 'FAILED', 'UNKNOWN'));

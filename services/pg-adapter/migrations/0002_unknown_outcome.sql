-- UNKNOWN: the gateway may or may not have acted on the authorization (a
-- timeout or reset after the request was sent); it is resolved by replaying
-- the request under its Idempotency-Key. FAILED now means nothing is held.
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'VOIDED', 'REFUNDED',
                    'PARTIALLY_REFUNDED', 'DECLINED', 'FAILED', 'UNKNOWN'));

-- Reading an intent back to reconcile our record with the gateway.
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_operation_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_operation_check
  CHECK (operation IN ('AUTHORIZE', 'CAPTURE', 'VOID', 'REFUND', 'RECONCILE'));

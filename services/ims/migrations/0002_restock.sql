-- Committed stock can go back (cancelled orders): RESTOCKED reservations and
-- RESTOCK movements.
ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check
  CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED', 'RESTOCKED'));
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_kind_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_kind_check
  CHECK (kind IN ('SEED', 'RESERVE', 'COMMIT', 'RELEASE', 'RESTOCK'));

-- Products, stock levels, reservations and the movement journal.
-- Invariant: for every SKU, seeded stock = available + reserved + sold.
CREATE TABLE products (
  sku              text PRIMARY KEY CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
  name             text NOT NULL,
  description      text NOT NULL DEFAULT '',
  currency         char(3) NOT NULL,
  unit_price_units bigint NOT NULL CHECK (unit_price_units >= 0),
  unit_price_nanos integer NOT NULL CHECK (unit_price_nanos >= 0 AND unit_price_nanos < 1000000000),
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock_levels (
  sku        text PRIMARY KEY REFERENCES products (sku),
  available  integer NOT NULL CHECK (available >= 0),
  reserved   integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold       integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
  reservation_id text PRIMARY KEY,
  order_id       text NOT NULL UNIQUE,
  status         text NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED')),
  expires_at     timestamptz NOT NULL,
  release_reason text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reservations_open_by_expiry ON reservations (expires_at) WHERE status = 'RESERVED';

CREATE TABLE reservation_lines (
  reservation_id   text NOT NULL REFERENCES reservations (reservation_id),
  sku              text NOT NULL REFERENCES products (sku),
  name             text NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  currency         char(3) NOT NULL,
  unit_price_units bigint NOT NULL,
  unit_price_nanos integer NOT NULL,
  PRIMARY KEY (reservation_id, sku)
);

-- Every change of stock: who, why, for which order, how many.
CREATE TABLE stock_movements (
  movement_id    bigserial PRIMARY KEY,
  sku            text NOT NULL REFERENCES products (sku),
  kind           text NOT NULL CHECK (kind IN ('SEED', 'RESERVE', 'COMMIT', 'RELEASE')),
  quantity       integer NOT NULL,
  order_id       text,
  reservation_id text,
  actor          text NOT NULL,
  reason         text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_by_sku ON stock_movements (sku, movement_id);

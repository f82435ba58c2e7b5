-- Device sync (DESIGN.md "Sync between the app and the core"): paired
-- devices and the last mutation each had applied, carry-out sales, and the
-- tasks store staff must look at.

-- Set for tokens issued to a paired device.
ALTER TABLE api_tokens ADD COLUMN device_id TEXT;

CREATE TABLE devices (
    device_id        TEXT PRIMARY KEY NOT NULL,
    store_id         TEXT NOT NULL,
    label            TEXT NOT NULL,
    -- Mutations are numbered gaplessly per device from 1; the answer of each
    -- is kept in idempotency_keys under the scope 'device:<id>'.
    last_mutation_id BIGINT NOT NULL DEFAULT 0 CHECK (last_mutation_id >= 0),
    created_at_ms    BIGINT NOT NULL
);

-- A carry-out sale: the customer took the items and paid at the till.
CREATE TABLE sales (
    id          TEXT PRIMARY KEY NOT NULL,
    location_id TEXT NOT NULL,
    sold_at_ms  BIGINT NOT NULL,
    document    TEXT NOT NULL
);

CREATE TABLE store_tasks (
    id            TEXT PRIMARY KEY NOT NULL,
    location_id   TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('stock_discrepancy', 'offline_order_refused', 'offline_order_changed')),
    sku           TEXT,
    order_id      TEXT,
    message       TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    change_seq    BIGINT NOT NULL
);
CREATE INDEX store_tasks_by_change ON store_tasks (change_seq, id);
CREATE INDEX store_tasks_by_location ON store_tasks (location_id, created_at_ms);

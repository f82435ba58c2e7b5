-- The Aisle app's offline cache: what the core sent (pull) and what the
-- device queued (the outbox). Nothing secret: the token is in the keyring.

-- Where this device stands in the core's change sequence.
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    -- Opaque position for GET /v1/changes; NULL: never pulled (full sync).
    cursor TEXT,
    -- The core's last applied mutation of this device, as of the last pull.
    last_mutation_id INTEGER NOT NULL DEFAULT 0,
    -- When a pull last caught up (RFC 3339).
    last_pull_at TEXT,
    -- When a push was last answered (RFC 3339).
    last_push_at TEXT
);
INSERT INTO sync_state (id) VALUES (1);

-- The device this cache belongs to (from pairing / GET /v1/me).
CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT NOT NULL,
    device_id TEXT NOT NULL,
    store TEXT,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    paired_at TEXT NOT NULL
);

CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    brand TEXT NOT NULL,
    product_type TEXT NOT NULL,
    -- JSON array of strings (also indexed by product_fts).
    barcodes TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    seq INTEGER NOT NULL
);

-- Full-text search over name, brand, SKU and barcodes, kept in step with
-- products by the triggers below (external content: no second copy).
CREATE VIRTUAL TABLE product_fts USING fts5(
    sku, name, brand, barcodes,
    content = 'products',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
    INSERT INTO product_fts (rowid, sku, name, brand, barcodes)
    VALUES (new.rowid, new.sku, new.name, new.brand, new.barcodes);
END;

CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
    INSERT INTO product_fts (product_fts, rowid, sku, name, brand, barcodes)
    VALUES ('delete', old.rowid, old.sku, old.name, old.brand, old.barcodes);
END;

CREATE TRIGGER products_au AFTER UPDATE OF sku, name, brand, barcodes ON products BEGIN
    INSERT INTO product_fts (product_fts, rowid, sku, name, brand, barcodes)
    VALUES ('delete', old.rowid, old.sku, old.name, old.brand, old.barcodes);
    INSERT INTO product_fts (rowid, sku, name, brand, barcodes)
    VALUES (new.rowid, new.sku, new.name, new.brand, new.barcodes);
END;

CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    document TEXT NOT NULL,
    seq INTEGER NOT NULL
);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    seq INTEGER NOT NULL
);

-- The store's stock as the core last sent it.
CREATE TABLE stock (
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    on_hand INTEGER NOT NULL,
    reserved INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (sku, location)
) WITHOUT ROWID;

-- Optimistic stock effects of queued mutations, shown on top of `stock`
-- until a pull brings the core's state including them (or the core refuses
-- the mutation).
CREATE TABLE stock_pending (
    mutation_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    on_hand_delta INTEGER NOT NULL
);
CREATE INDEX stock_pending_by_key ON stock_pending (sku, location);
CREATE INDEX stock_pending_by_mutation ON stock_pending (mutation_id);

-- Orders involving the store (summaries), and orders queued on this device
-- (`pending_mutation_id` set, status `pending_sync`) until the core answers.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    pending_mutation_id INTEGER
);

-- Fulfilments at the store; `pending_step` is a step queued on this device.
CREATE TABLE fulfilments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    location TEXT NOT NULL,
    status TEXT NOT NULL,
    due_at TEXT NOT NULL,
    document TEXT NOT NULL,
    seq INTEGER NOT NULL,
    pending_step TEXT,
    pending_mutation_id INTEGER
);
CREATE INDEX fulfilments_queue ON fulfilments (location, due_at);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    kind TEXT NOT NULL,
    sku TEXT,
    order_id TEXT,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seq INTEGER NOT NULL
);

-- The last mutation id handed out per device (the outbox keeps applied rows
-- only as long as it wants; ids never restart).
CREATE TABLE outbox_devices (
    device_id TEXT PRIMARY KEY,
    last_mutation_id INTEGER NOT NULL
);

-- Intents queued on this device, pushed in id order with the same ids on
-- every retry.
CREATE TABLE outbox (
    device_id TEXT NOT NULL,
    mutation_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    intent TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'refused')),
    result_status INTEGER,
    result TEXT,
    created_at TEXT NOT NULL,
    answered_at TEXT,
    -- Staff saw a refusal and dismissed it.
    dismissed_at TEXT,
    PRIMARY KEY (device_id, mutation_id)
);
CREATE INDEX outbox_by_status ON outbox (status, device_id, mutation_id);

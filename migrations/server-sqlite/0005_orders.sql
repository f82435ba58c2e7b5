-- Orders, fulfilments, their event log, rule sets, the transactional outbox,
-- payments, idempotency keys and daily order counts per location.
--
-- Orders and fulfilments are domain documents (JSON) plus the columns that
-- are searched or sorted on. Everything an order step changes is written in
-- one transaction: stock, order, fulfilments, events, outbox and payments.

-- Orchestration rule sets, versioned; at most one active per channel.
CREATE TABLE rule_sets (
    channel_id    TEXT NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    document      TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    PRIMARY KEY (channel_id, version)
) STRICT;
CREATE UNIQUE INDEX rule_sets_one_active ON rule_sets (channel_id) WHERE active = 1;

CREATE TABLE orders (
    id             TEXT PRIMARY KEY NOT NULL,
    channel_id     TEXT NOT NULL,
    status         TEXT NOT NULL,
    customer_name  TEXT NOT NULL,
    customer_email TEXT,
    customer_phone TEXT,
    placed_at_ms   INTEGER NOT NULL,
    document       TEXT NOT NULL,
    change_seq     INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_by_change ON orders (change_seq, id);
CREATE INDEX orders_by_email ON orders (customer_email);
CREATE INDEX orders_by_phone ON orders (customer_phone);
CREATE INDEX orders_by_name ON orders (lower(customer_name));

CREATE TABLE fulfilments (
    id          TEXT PRIMARY KEY NOT NULL,
    order_id    TEXT NOT NULL REFERENCES orders (id),
    location_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    -- When it should be ready (click & collect) or leave (shipping), for the
    -- store's queue.
    due_at_ms   INTEGER NOT NULL,
    document    TEXT NOT NULL,
    change_seq  INTEGER NOT NULL
) STRICT;
CREATE INDEX fulfilments_by_order ON fulfilments (order_id);
CREATE INDEX fulfilments_queue ON fulfilments (location_id, status, due_at_ms);
CREATE INDEX fulfilments_by_change ON fulfilments (change_seq, id);

-- Append-only: never updated, never deleted.
CREATE TABLE order_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id       TEXT NOT NULL REFERENCES orders (id),
    fulfilment_id  TEXT,
    kind           TEXT NOT NULL,
    at_ms          INTEGER NOT NULL,
    document       TEXT NOT NULL
) STRICT;
CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- Messages to deliver after commit: webhooks and customer notifications.
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    topic              TEXT NOT NULL CHECK (topic IN ('webhook', 'notification')),
    order_id           TEXT,
    payload            TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    delivered_at_ms    INTEGER,
    dead_at_ms         INTEGER,
    last_error         TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at_ms) WHERE delivered_at_ms IS NULL AND dead_at_ms IS NULL;
CREATE INDEX outbox_by_order ON outbox (order_id, id);

-- Payment instructions from the domain's effects, executed after commit by
-- the payment worker, each with its own idempotency key.
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    kind               TEXT NOT NULL CHECK (kind IN ('authorise', 'capture', 'void', 'refund')),
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT NOT NULL,
    reference          TEXT,
    idempotency_key    TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'failed')),
    provider_reference TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    last_error         TEXT,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX payments_by_order ON payments (order_id, id);
CREATE INDEX payments_pending ON payments (next_attempt_at_ms) WHERE status = 'pending';

-- The stored answer of each idempotent request, per caller.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    response      TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;

-- Orders each location took on its local date (daily caps).
CREATE TABLE location_daily_orders (
    location_id TEXT NOT NULL,
    local_date  TEXT NOT NULL,
    orders      INTEGER NOT NULL,
    PRIMARY KEY (location_id, local_date)
) STRICT;

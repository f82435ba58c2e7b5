-- The network (locations, channels, periods, settings), stock levels, channel
-- prices and the change sequence.
--
-- Change sequence: every synced row carries `change_seq`, the sequence number
-- of the transaction that last changed it. Numbers come from the single row of
-- `change_counter`, taken at the end of each writing transaction, so they are
-- handed out in commit order (see ARCHITECTURE.md "Change sequence").
CREATE TABLE change_counter (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, last_seq) VALUES (1, 0);

ALTER TABLE products ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX products_by_change ON products (change_seq, sku);

-- Domain documents (oms_domain::model), validated by the domain on the way in.
CREATE TABLE locations (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    document   TEXT NOT NULL,
    change_seq BIGINT NOT NULL
);
CREATE INDEX locations_by_change ON locations (change_seq, id);

CREATE TABLE channels (
    id         TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    change_seq BIGINT NOT NULL
);
CREATE INDEX channels_by_change ON channels (change_seq, id);

CREATE TABLE periods (
    name       TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    change_seq BIGINT NOT NULL
);

-- `safety_stock`, `transit`, `product_rules`.
CREATE TABLE network_settings (
    name       TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    change_seq BIGINT NOT NULL
);

CREATE TABLE channel_prices (
    sku          TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    channel_id   TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    change_seq   BIGINT NOT NULL,
    PRIMARY KEY (sku, channel_id)
);
CREATE INDEX channel_prices_by_change ON channel_prices (change_seq);

-- on_hand may go negative (a carry-out sale is always accepted); reserved never.
CREATE TABLE stock_levels (
    sku         TEXT NOT NULL REFERENCES products (sku),
    location_id TEXT NOT NULL REFERENCES locations (id),
    on_hand     BIGINT NOT NULL,
    reserved    BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    change_seq  BIGINT NOT NULL,
    PRIMARY KEY (sku, location_id)
);
CREATE INDEX stock_levels_by_location ON stock_levels (location_id, sku);
CREATE INDEX stock_levels_by_change ON stock_levels (change_seq, sku, location_id);

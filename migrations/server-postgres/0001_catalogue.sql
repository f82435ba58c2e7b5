-- The catalogue: products, their barcodes and their prices.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE products (
    sku          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    brand        TEXT NOT NULL,
    product_type TEXT NOT NULL CHECK (product_type IN ('standard', 'bulky', 'fragile'))
);

CREATE TABLE product_barcodes (
    barcode TEXT PRIMARY KEY,
    sku     TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE
);
CREATE INDEX product_barcodes_by_sku ON product_barcodes (sku);

CREATE TABLE product_prices (
    sku          TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    currency     TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (sku, currency)
);

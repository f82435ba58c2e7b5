-- Returns taken at a store without a receipt (the order cannot be found),
-- each approved by a store manager whose PIN the core checked. The refund
-- (cash or store credit at the store channel's price) is recorded here; the
-- document is the answer the API gave (`UnreceiptedReturnView`).
CREATE TABLE store_returns (
    id              TEXT PRIMARY KEY NOT NULL,
    location_id     TEXT NOT NULL,
    approved_by     TEXT NOT NULL,
    taken_by        TEXT,
    refund_method   TEXT NOT NULL CHECK (refund_method IN ('cash', 'store_credit')),
    refund_minor    BIGINT NOT NULL CHECK (refund_minor >= 0),
    currency        TEXT NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    document        TEXT NOT NULL
);
CREATE INDEX store_returns_by_location ON store_returns (location_id, received_at_ms);

-- The customer register: customers a store created on purpose (find or
-- create at the checkout). Orders keep their own copy of the contact details
-- and link to a customer by id inside their document. E-mail addresses are
-- stored lower-case and unique, so one address is one customer; the name is
-- also kept lower-case (`name_lower`) for prefix search on both databases.
CREATE TABLE customers (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    name_lower    TEXT NOT NULL,
    email         TEXT UNIQUE,
    phone         TEXT,
    language      TEXT NOT NULL CHECK (language IN ('en', 'fr', 'de')),
    created_at_ms BIGINT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX customers_by_name ON customers (name_lower text_pattern_ops);
CREATE INDEX customers_by_phone ON customers (phone);

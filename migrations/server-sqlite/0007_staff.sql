-- Store staff who sign in on a paired device with a personal PIN. Only an
-- Argon2id hash of the PIN is stored (PHC string, salted); repeated wrong
-- PINs lock the member out for a while.
CREATE TABLE staff (
    id              TEXT PRIMARY KEY NOT NULL,
    store_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('store_manager', 'store_associate')),
    pin_hash        TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER,
    created_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_by_store ON staff (store_id, name);

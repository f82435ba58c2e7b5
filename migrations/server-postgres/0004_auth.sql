-- API tokens and device pairing codes. Only SHA-256 hashes are stored: a
-- leaked database gives no usable token.
CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'integration', 'store_manager', 'store_associate')),
    -- The store a store role is scoped to; NULL for admin and integration.
    store_id      TEXT,
    label         TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    CHECK ((role IN ('store_manager', 'store_associate')) = (store_id IS NOT NULL))
);

CREATE TABLE pairing_codes (
    code_hash     TEXT PRIMARY KEY,
    store_id      TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('store_manager', 'store_associate')),
    created_by    TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT
);

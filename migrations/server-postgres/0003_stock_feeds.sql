-- Stock feeds: a staging table for the rows of the feed being imported, and
-- the jobs table that keeps each import's final report.
--
-- Staged rows live only inside the importing transaction: a feed inserts its
-- rows, applies them set-based and deletes them before it commits, and a
-- rejected or failed feed rolls them back. Another transaction never sees
-- them (uncommitted rows are invisible), so the table needs no job column, and
-- it is UNLOGGED: nothing in it ever needs to survive a crash. The primary key
-- orders rows like `stock_levels` (SKU, then location) for the duplicate
-- check and the apply join.
CREATE UNLOGGED TABLE stock_feed_rows (
    location_id TEXT NOT NULL,
    sku         TEXT NOT NULL,
    line        BIGINT NOT NULL,
    quantity    BIGINT NOT NULL,
    PRIMARY KEY (sku, location_id, line)
);

-- Finished jobs (a running job's progress is in the serving instance's memory).
-- `report` is the JSON of oms_api::wire::FeedReport.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'rejected', 'failed')),
    rows_done   BIGINT NOT NULL,
    bytes_done  BIGINT NOT NULL,
    bytes_total BIGINT,
    report      TEXT,
    detail      TEXT,
    finished_at TEXT NOT NULL
);

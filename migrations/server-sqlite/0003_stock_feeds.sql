-- Stock feeds: a staging table for the rows of the feed being imported, and
-- the jobs table that keeps each import's final report.
--
-- Staged rows live only inside the importing transaction: a feed inserts its
-- rows, applies them set-based and deletes them before it commits, and a
-- rejected or failed feed rolls them back. Another transaction never sees
-- them (SQLite: one writer at a time; PostgreSQL: uncommitted rows are
-- invisible), so the table needs no job column. The primary key orders rows
-- like `stock_levels` (SKU, then location): the duplicate check reads it in
-- order, and the apply join walks `stock_levels` in its own order, touching
-- each page once.
CREATE TABLE stock_feed_rows (
    location_id TEXT NOT NULL,
    sku         TEXT NOT NULL,
    line        INTEGER NOT NULL,
    quantity    INTEGER NOT NULL,
    PRIMARY KEY (sku, location_id, line)
) STRICT, WITHOUT ROWID;

-- Finished jobs (a running job's progress is in the serving instance's memory).
-- `report` is the JSON of oms_api::wire::FeedReport.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'rejected', 'failed')),
    rows_done   INTEGER NOT NULL,
    bytes_done  INTEGER NOT NULL,
    bytes_total INTEGER,
    report      TEXT,
    detail      TEXT,
    finished_at TEXT NOT NULL
) STRICT;

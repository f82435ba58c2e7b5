//! Stock feeds in the database: staging, the duplicate check, the set-based
//! apply, and the `jobs` table of finished imports.
//!
//! A feed runs in one write transaction ([`FeedWriter`]): rows are staged in
//! `stock_feed_rows` in multi-row INSERT batches as the body streams in, then
//! either applied with a few set-based statements and committed, or rolled
//! back. Only stock rows whose on-hand value changes get the feed's change
//! sequence number, taken last so that PostgreSQL writers are not held up by
//! the counter row while the body uploads.

use super::sql::Sql;
use super::{Backend, Storage, StorageError};
use crate::feed::FeedRow;
use oms_api::wire::FeedMode;
use sqlx::any::Any;
use sqlx::{Row, Transaction};

/// Rows per staging INSERT (4 parameters each, well under both databases'
/// limits; big statements amortise the per-statement cost).
pub const STAGE_CHUNK: usize = 2_000;

/// Locations per `IN (…)` list when zeroing a snapshot's absent rows.
const LOCATION_CHUNK: usize = 500;

/// A duplicated (location, SKU) line and the line it repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub line: u64,
    pub first_line: u64,
    pub location: String,
    pub sku: String,
}

/// A finished job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: String,
    pub kind: String,
    /// `applied`, `rejected` or `failed`.
    pub status: String,
    pub rows_done: i64,
    pub bytes_done: i64,
    pub bytes_total: Option<i64>,
    /// JSON of the report.
    pub report: Option<String>,
    pub detail: Option<String>,
    pub finished_at: String,
}

/// SQLite page cache of a feed's connection, in KiB (SQLite's default is
/// 2,000): a large feed's staging B-tree and the stock pages it rewrites stay
/// in memory instead of spilling to the WAL again and again mid-transaction.
const FEED_CACHE_KIB: i64 = 128 * 1024;

/// What applying a feed did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedFeed {
    /// Stock rows whose on-hand value changed.
    pub changed: u64,
    /// Whether rows of a snapshot's locations that it does not name were set
    /// to 0 (they are not among the feed's rows).
    pub zeroed_absent: bool,
}

/// One feed's open write transaction.
pub struct FeedWriter {
    tx: super::WriteTx,
    backend: Backend,
    /// The writer's own page cache, which it goes back to afterwards.
    writer_cache_kib: i64,
}

impl Storage {
    /// Opens the transaction a feed is staged and applied in.
    pub async fn begin_feed(&self) -> Result<FeedWriter, StorageError> {
        let mut writer = FeedWriter {
            tx: self.begin_write().await?,
            backend: self.backend(),
            writer_cache_kib: i64::from(self.footprint.writer_cache_kib()),
        };
        writer.cache_size(FEED_CACHE_KIB).await?;
        Ok(writer)
    }

    /// Stores a finished job (its own transaction).
    pub async fn record_job(&self, job: &JobRecord) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        insert_job(&mut tx, job).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A finished job.
    pub async fn job(&self, id: &str) -> Result<Option<JobRecord>, StorageError> {
        let mut sql = Sql::new(
            "SELECT id, kind, status, rows_done, bytes_done, bytes_total, report, detail, finished_at \
             FROM jobs WHERE id = ",
        );
        sql.bind(id.to_owned());
        let Some(row) = sql.fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        Ok(Some(JobRecord {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            status: row.try_get("status")?,
            rows_done: row.try_get("rows_done")?,
            bytes_done: row.try_get("bytes_done")?,
            bytes_total: row.try_get("bytes_total")?,
            report: row.try_get("report")?,
            detail: row.try_get("detail")?,
            finished_at: row.try_get("finished_at")?,
        }))
    }
}

async fn insert_job(
    tx: &mut Transaction<'static, Any>,
    job: &JobRecord,
) -> Result<(), StorageError> {
    let mut sql = Sql::new(
        "INSERT INTO jobs (id, kind, status, rows_done, bytes_done, bytes_total, report, detail, finished_at)",
    );
    sql.values([job], |row, job| {
        row.bind(job.id.clone())
            .bind(job.kind.clone())
            .bind(job.status.clone())
            .bind(job.rows_done)
            .bind(job.bytes_done)
            .bind(job.bytes_total)
            .bind(job.report.clone())
            .bind(job.detail.clone())
            .bind(job.finished_at.clone());
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

impl FeedWriter {
    /// Sizes SQLite's page cache for this connection (a no-op on PostgreSQL,
    /// whose buffers are shared). The default comes back before the
    /// connection returns to the pool; pages beyond it are freed as soon as
    /// the transaction ends.
    async fn cache_size(&mut self, kib: i64) -> Result<(), StorageError> {
        if self.backend == Backend::Sqlite {
            // PRAGMA takes no placeholders; `kib` is one of the constants.
            Sql::new(&format!("PRAGMA cache_size = -{kib}"))
                .execute(&mut **self.tx)
                .await?;
        }
        Ok(())
    }

    /// Stages valid rows (any number; inserted in chunks).
    pub async fn stage(&mut self, rows: &[FeedRow]) -> Result<(), StorageError> {
        for chunk in rows.chunks(STAGE_CHUNK) {
            let mut sql = Sql::anonymous(
                "INSERT INTO stock_feed_rows (location_id, sku, line, quantity)",
                self.backend,
            );
            sql.values(chunk, |tuple, row| {
                tuple
                    .bind(row.location.clone())
                    .bind(row.sku.clone())
                    // Lines fit: a body is at most 512 MiB.
                    .bind(row.line as i64)
                    .bind(row.quantity);
            });
            sql.execute(&mut **self.tx).await?;
        }
        Ok(())
    }

    /// Staged rows repeating an earlier line's (location, SKU): the first
    /// `limit` in line order, and how many there are in all.
    pub async fn duplicates(
        &mut self,
        limit: usize,
    ) -> Result<(Vec<Duplicate>, u64), StorageError> {
        // One grouped scan of the primary key answers the common case (none).
        let count = Sql::new(
            "SELECT CAST(COALESCE(sum(n - 1), 0) AS BIGINT) AS extra FROM (\
             SELECT count(*) AS n FROM stock_feed_rows GROUP BY sku, location_id \
             HAVING count(*) > 1) AS repeated",
        )
        .fetch_one(&mut **self.tx)
        .await?;
        let total: i64 = count.try_get("extra")?;
        if total == 0 {
            return Ok((Vec::new(), 0));
        }
        let mut sql = Sql::new(
            "SELECT f.line AS line, d.first_line AS first_line, f.location_id AS location_id, f.sku AS sku \
             FROM stock_feed_rows f JOIN (\
             SELECT location_id, sku, min(line) AS first_line FROM stock_feed_rows \
             GROUP BY sku, location_id HAVING count(*) > 1) d \
             ON f.location_id = d.location_id AND f.sku = d.sku \
             WHERE f.line > d.first_line ORDER BY f.line LIMIT ",
        );
        sql.bind(limit as i64);
        let rows = sql.fetch_all(&mut **self.tx).await?;
        let duplicates = rows
            .iter()
            .map(|row| {
                Ok(Duplicate {
                    line: u64::try_from(row.try_get::<i64, _>("line")?).unwrap_or(0),
                    first_line: u64::try_from(row.try_get::<i64, _>("first_line")?).unwrap_or(0),
                    location: row.try_get("location_id")?,
                    sku: row.try_get("sku")?,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok((duplicates, total as u64))
    }

    /// Drops everything staged.
    pub async fn rollback(mut self) -> Result<(), StorageError> {
        self.cache_size(self.writer_cache_kib).await?;
        self.tx.rollback().await?;
        Ok(())
    }

    /// Takes the feed's change sequence number: last, once the feed is
    /// staged and checked, so that PostgreSQL writers are not queued behind
    /// the upload. Until commit no other stock change can commit.
    pub async fn change_seq(&mut self) -> Result<i64, StorageError> {
        super::next_change_seqs(&mut self.tx, 1).await
    }

    /// Applies the staged feed under `seq` (from [`FeedWriter::change_seq`]),
    /// records the job (its record is made once the number of changed rows
    /// is known) and commits. `locations` are the locations the feed lists
    /// (a snapshot's scope).
    pub async fn apply(
        mut self,
        seq: i64,
        mode: FeedMode,
        locations: &[String],
        job: impl FnOnce(u64) -> Result<JobRecord, StorageError>,
    ) -> Result<AppliedFeed, StorageError> {
        let started = std::time::Instant::now();
        let tx: &mut Transaction<'static, Any> = &mut self.tx;
        let mut changed = 0u64;
        let mut zeroed_absent = false;

        // One pass over the staged rows: insert what is missing, update what
        // changes. A missing row reads as 0 on hand, so a zero quantity is
        // never inserted (that would be a row without a change).
        let mut upsert = Sql::new(
            "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, change_seq) \
             SELECT f.sku, f.location_id, f.quantity, 0, ",
        );
        upsert
            .bind(seq)
            .push(
                " FROM stock_feed_rows f WHERE f.quantity <> 0 \
                 ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = ",
            )
            .push(match mode {
                FeedMode::Snapshot => {
                    "excluded.on_hand, change_seq = excluded.change_seq \
                     WHERE stock_levels.on_hand <> excluded.on_hand"
                }
                FeedMode::Delta => {
                    "stock_levels.on_hand + excluded.on_hand, change_seq = excluded.change_seq"
                }
            });
        changed += upsert.execute(&mut **tx).await?.rows_affected();
        let upserted = started.elapsed();

        if mode == FeedMode::Snapshot {
            // Existing rows a snapshot sets to 0.
            let mut zero = Sql::new("UPDATE stock_levels SET on_hand = 0, change_seq = ");
            zero.bind(seq).push(
                " FROM stock_feed_rows f WHERE f.quantity = 0 AND stock_levels.sku = f.sku \
                 AND stock_levels.location_id = f.location_id AND stock_levels.on_hand <> 0",
            );
            changed += zero.execute(&mut **tx).await?.rows_affected();
        }
        let zeroed_listed = started.elapsed();

        // Rows of the listed locations that the snapshot does not name go to 0.
        // A full snapshot names them all, and finding them is a probe per
        // row of those locations (~3 s for a million): count first, exactly.
        if mode == FeedMode::Snapshot && absent_rows(tx, locations).await? > 0 {
            for chunk in locations.chunks(LOCATION_CHUNK) {
                let mut zero = Sql::new("UPDATE stock_levels SET on_hand = 0, change_seq = ");
                zero.bind(seq)
                    .push(" WHERE on_hand <> 0 AND location_id IN (");
                push_locations(&mut zero, chunk);
                zero.push(
                    ") AND NOT EXISTS (SELECT 1 FROM stock_feed_rows f \
                     WHERE f.location_id = stock_levels.location_id AND f.sku = stock_levels.sku)",
                );
                let zeroed = zero.execute(&mut **tx).await?.rows_affected();
                zeroed_absent |= zeroed > 0;
                changed += zeroed;
            }
        }

        let zeroed_absent_at = started.elapsed();
        Sql::new("DELETE FROM stock_feed_rows")
            .execute(&mut **tx)
            .await?;
        insert_job(tx, &job(changed)?).await?;
        self.cache_size(self.writer_cache_kib).await?;
        let deleted = started.elapsed();
        self.tx.commit().await?;
        tracing::debug!(
            upsert_ms = upserted.as_millis() as u64,
            zero_listed_ms = (zeroed_listed - upserted).as_millis() as u64,
            zero_absent_ms = (zeroed_absent_at - zeroed_listed).as_millis() as u64,
            delete_ms = (deleted - zeroed_absent_at).as_millis() as u64,
            commit_ms = (started.elapsed() - deleted).as_millis() as u64,
            "stock feed applied"
        );
        Ok(AppliedFeed {
            changed,
            zeroed_absent,
        })
    }
}

fn push_locations(sql: &mut Sql, locations: &[String]) {
    for (i, location) in locations.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(location.clone());
    }
}

/// After the upsert: how many stock rows of the `listed` locations the staged
/// snapshot does not name. Staged rows are distinct (the duplicate check
/// passed) and all at listed locations; every staged row with a quantity now
/// has a stock row (the upsert inserted the missing ones), and a staged zero
/// has one if it existed before. So the named rows are those two counts, and
/// the rest of the listed locations' rows are absent.
async fn absent_rows(
    tx: &mut Transaction<'static, Any>,
    listed: &[String],
) -> Result<i64, StorageError> {
    let mut at_listed = 0i64;
    for chunk in listed.chunks(LOCATION_CHUNK) {
        let mut count = Sql::new(
            "SELECT CAST(count(*) AS BIGINT) AS n FROM stock_levels WHERE location_id IN (",
        );
        push_locations(&mut count, chunk);
        count.push(")");
        at_listed += count.fetch_one(&mut **tx).await?.try_get::<i64, _>("n")?;
    }
    let named = Sql::new(
        "SELECT CAST(count(*) AS BIGINT) AS n FROM stock_feed_rows f WHERE f.quantity <> 0 \
         OR EXISTS (SELECT 1 FROM stock_levels s WHERE s.sku = f.sku AND s.location_id = f.location_id)",
    )
    .fetch_one(&mut **tx)
    .await?
    .try_get::<i64, _>("n")?;
    Ok(at_listed - named)
}

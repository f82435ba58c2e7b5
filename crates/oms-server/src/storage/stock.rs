//! Stock levels per (SKU, location).

use super::catalogue::INSERT_CHUNK;
use super::sql::Sql;
use super::{Backend, Storage, StorageError};
use futures_util::TryStreamExt;
use oms_domain::demo::DemoNetwork;
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::stock::StockRow;
use sqlx::any::{Any, AnyRow};
use sqlx::{ConnectOptions, Row, Transaction};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// A stored stock level with its change sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub sku: String,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub change_seq: i64,
}

pub(crate) async fn seed_stock(
    tx: &mut Transaction<'static, Any>,
    demo: &DemoNetwork,
    seq: i64,
    backend: Backend,
) -> Result<(), StorageError> {
    let mut batch: Vec<StockRow> = Vec::with_capacity(INSERT_CHUNK);
    for row in demo.stock_rows() {
        batch.push(row);
        if batch.len() == INSERT_CHUNK {
            insert_rows(tx, &batch, seq, backend).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert_rows(tx, &batch, seq, backend).await?;
    }
    Ok(())
}

async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    rows: &[StockRow],
    seq: i64,
    backend: Backend,
) -> Result<(), StorageError> {
    let mut sql = Sql::anonymous(
        "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, change_seq)",
        backend,
    );
    sql.values(rows, |tuple, row| {
        tuple
            .bind(row.sku.as_str().to_owned())
            .bind(row.location.as_str().to_owned())
            .bind(row.on_hand)
            .bind(i64::from(row.reserved.get()))
            .bind(seq);
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

impl Storage {
    /// The stock of one SKU at every location that holds a row for it.
    pub async fn stock_of_sku(&self, sku: &str) -> Result<Vec<StockLevel>, StorageError> {
        let mut sql = Sql::new(
            "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels WHERE sku = ",
        );
        sql.bind(sku.to_owned()).push(" ORDER BY location_id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(level_from_row)
            .collect()
    }

    /// One location's stock, in SKU order after `after`.
    pub async fn stock_at_location(
        &self,
        location: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StockLevel>, StorageError> {
        let mut sql = Sql::new(
            "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels WHERE location_id = ",
        );
        sql.bind(location.to_owned());
        if let Some(after) = after {
            sql.push(" AND sku > ").bind(after.to_owned());
        }
        sql.push(" ORDER BY sku LIMIT ").bind(i64::from(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(level_from_row)
            .collect()
    }
}

pub(super) fn level_from_row(row: &AnyRow) -> Result<StockLevel, StorageError> {
    Ok(StockLevel {
        sku: row.try_get("sku")?,
        location: row.try_get("location_id")?,
        on_hand: row.try_get("on_hand")?,
        reserved: row.try_get("reserved")?,
        change_seq: row.try_get("change_seq")?,
    })
}

/// A stored level as the domain's stock row.
pub fn stock_row(level: &StockLevel) -> Result<StockRow, StorageError> {
    owned_stock_row(level.clone())
}

/// [`stock_row`] without copying the texts.
fn owned_stock_row(level: StockLevel) -> Result<StockRow, StorageError> {
    let corrupt = |what: String| StorageError::Corrupt(what);
    Ok(StockRow {
        sku: Sku::parse(level.sku).map_err(|e| corrupt(e.to_string()))?,
        location: LocationId::parse(level.location).map_err(|e| corrupt(e.to_string()))?,
        on_hand: level.on_hand,
        reserved: Quantity::new(
            u32::try_from(level.reserved)
                .map_err(|_| corrupt(format!("reserved {} out of range", level.reserved)))?,
        ),
    })
}

impl Storage {
    /// Sets stock rows (on hand and reserved) in one transaction, inserting
    /// rows that do not exist yet. Returns the change sequence number.
    pub async fn set_stock_levels(&self, rows: &[StockRow]) -> Result<i64, StorageError> {
        let mut tx = self.begin_write().await?;
        let seq = super::next_change_seqs(&mut tx, 1).await?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut sql = Sql::new(
                "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, change_seq)",
            );
            sql.values(chunk, |tuple, row| {
                tuple
                    .bind(row.sku.as_str().to_owned())
                    .bind(row.location.as_str().to_owned())
                    .bind(row.on_hand)
                    .bind(i64::from(row.reserved.get()))
                    .bind(seq);
            });
            sql.push(
                " ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
                 reserved = excluded.reserved, change_seq = excluded.change_seq",
            );
            sql.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        Ok(seq)
    }
}

/// The stock index's bulk reads (the whole table at start, every row changed
/// since a sequence number after a feed) through sqlx's native drivers,
/// streamed. Through `Any` each row is converted twice and the large demo's
/// 4.94 M rows took ~45 s to read (≈ 9 µs a row); typed, a few seconds. One
/// lazily opened connection that closes when idle, so the app's sidecar does
/// not keep it.
#[derive(Debug, Clone)]
pub(crate) enum BulkReader {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
    /// An in-memory SQLite database is private to its connection: read it
    /// through the main pool.
    Any,
}

/// How long the bulk connection stays open after its last read.
const BULK_IDLE: Duration = Duration::from_secs(30);

/// The columns a bulk read yields, in order.
type LevelTuple = (String, String, i64, i64, i64);

impl BulkReader {
    /// `cache_kib`: the SQLite connection's page cache.
    pub(crate) fn new(
        url: &str,
        backend: super::Backend,
        cache_kib: u32,
    ) -> Result<Self, sqlx::Error> {
        Ok(match backend {
            super::Backend::Sqlite if url.contains(":memory:") || url.contains("mode=memory") => {
                BulkReader::Any
            }
            super::Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("cache_size", format!("-{cache_kib}"))
                    // These reads are long by nature: no slow-statement warning.
                    .disable_statement_logging();
                BulkReader::Sqlite(
                    sqlx::sqlite::SqlitePoolOptions::new()
                        .max_connections(1)
                        .min_connections(0)
                        .idle_timeout(BULK_IDLE)
                        .acquire_timeout(Duration::from_secs(30))
                        .connect_lazy_with(options),
                )
            }
            super::Backend::Postgres => BulkReader::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .min_connections(0)
                    .idle_timeout(BULK_IDLE)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy_with(
                        sqlx::postgres::PgConnectOptions::from_str(url)?
                            .disable_statement_logging(),
                    ),
            ),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            BulkReader::Sqlite(pool) => pool.close().await,
            BulkReader::Postgres(pool) => pool.close().await,
            BulkReader::Any => {}
        }
    }
}

/// Every stock row in (SKU, location) order.
const ALL_LEVELS: &str = "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels \
     ORDER BY sku, location_id";
/// [`ALL_LEVELS`] on SQLite, one row per SKU: its levels as
/// `location on_hand reserved` triples joined by spaces (identifiers hold no
/// spaces), and the highest change sequence number among them.
const ALL_LEVELS_BY_SKU: &str = "SELECT sku, \
     group_concat(location_id || ' ' || on_hand || ' ' || reserved, ' '), \
     max(change_seq) FROM stock_levels GROUP BY sku ORDER BY sku";
/// [`LEVELS_CHANGED_SINCE`] on SQLite, grouped like [`ALL_LEVELS_BY_SKU`]
/// (every row is a current value, so the order of applying them does not
/// matter). `INDEXED BY`: for the GROUP BY, SQLite would otherwise walk the
/// whole table in primary-key order to find a few changed rows.
const LEVELS_CHANGED_SINCE_BY_SKU: &str = "SELECT sku, \
     group_concat(location_id || ' ' || on_hand || ' ' || reserved, ' '), \
     max(change_seq) FROM stock_levels INDEXED BY stock_levels_by_change \
     WHERE change_seq > $1 GROUP BY sku";
/// Stock rows changed after `$1`, in change order.
const LEVELS_CHANGED_SINCE: &str = "SELECT sku, location_id, on_hand, reserved, change_seq \
     FROM stock_levels WHERE change_seq > $1 ORDER BY change_seq";

impl Storage {
    /// Streams every stock row (`changed_after: None`, in (SKU, location)
    /// order) or the rows changed after a sequence number (in change order)
    /// to `each`, with its change sequence number. Rows are not collected:
    /// the large demo's five million never sit in memory twice.
    pub async fn for_each_stock_row<E>(
        &self,
        changed_after: Option<i64>,
        mut each: impl FnMut(StockRow, i64) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StorageError>,
    {
        let text = match changed_after {
            None => ALL_LEVELS,
            Some(_) => LEVELS_CHANGED_SINCE,
        };
        match &self.bulk {
            BulkReader::Sqlite(pool) => {
                // One row per SKU: sqlx hands each row from its SQLite thread
                // to the task through a channel (a thread wake-up each,
                // ~6 µs), so 4.94 M rows took 32 s even typed; 100,000 take
                // a fraction of that, and the SKU is parsed once per row.
                let text = match changed_after {
                    None => ALL_LEVELS_BY_SKU,
                    Some(_) => LEVELS_CHANGED_SINCE_BY_SKU,
                };
                let mut query = sqlx::query_as::<sqlx::Sqlite, (String, String, i64)>(text);
                if let Some(seq) = changed_after {
                    query = query.bind(seq);
                }
                let mut rows = query.fetch(pool);
                let mut locations: HashMap<String, LocationId> = HashMap::new();
                while let Some((sku, levels, seq)) =
                    rows.try_next().await.map_err(StorageError::from)?
                {
                    let corrupt = |what: &str| {
                        StorageError::Corrupt(format!("stock levels of `{sku}`: {what}"))
                    };
                    let parsed = Sku::parse(sku.as_str()).map_err(|e| corrupt(&e.to_string()))?;
                    let mut parts = levels.split(' ');
                    while let Some(location) = parts.next() {
                        let (Some(on_hand), Some(reserved)) = (parts.next(), parts.next()) else {
                            return Err(corrupt("incomplete level").into());
                        };
                        let location = match locations.get(location) {
                            Some(id) => id.clone(),
                            None => {
                                let id = LocationId::parse(location)
                                    .map_err(|e| corrupt(&e.to_string()))?;
                                locations.insert(location.to_owned(), id.clone());
                                id
                            }
                        };
                        let row = StockRow {
                            sku: parsed.clone(),
                            location,
                            on_hand: on_hand.parse().map_err(|_| corrupt("on hand"))?,
                            reserved: Quantity::new(
                                reserved.parse().map_err(|_| corrupt("reserved"))?,
                            ),
                        };
                        each(row, seq)?;
                    }
                }
            }
            BulkReader::Postgres(pool) => {
                let mut query = sqlx::query_as::<sqlx::Postgres, LevelTuple>(text);
                if let Some(seq) = changed_after {
                    query = query.bind(seq);
                }
                let mut rows = query.fetch(pool);
                while let Some(row) = rows.try_next().await.map_err(StorageError::from)? {
                    let (row, seq) = tuple_row(row)?;
                    each(row, seq)?;
                }
            }
            BulkReader::Any => {
                let mut query = sqlx::query::<Any>(text);
                if let Some(seq) = changed_after {
                    query = query.bind(seq);
                }
                let mut rows = query.fetch(self.pool());
                while let Some(row) = rows.try_next().await.map_err(StorageError::from)? {
                    let level = level_from_row(&row)?;
                    let seq = level.change_seq;
                    each(owned_stock_row(level)?, seq)?;
                }
            }
        }
        Ok(())
    }
}

fn tuple_row(
    (sku, location, on_hand, reserved, change_seq): LevelTuple,
) -> Result<(StockRow, i64), StorageError> {
    let row = owned_stock_row(StockLevel {
        sku,
        location,
        on_hand,
        reserved,
        change_seq,
    })?;
    Ok((row, change_seq))
}

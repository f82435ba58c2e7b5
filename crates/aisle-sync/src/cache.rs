//! The app's local SQLite cache: what the core sent through `GET /v1/changes`
//! (products and prices, locations, channels, the store's stock, orders,
//! fulfilments, tasks), the cursor, and the outbox (see [`crate::outbox`]).
//!
//! - Every page of changes is applied in one transaction together with the
//!   new cursor ([`Cache::apply_page`]), so a crash or an interrupted pull
//!   leaves the cache at a page boundary and the next pull resumes there.
//! - Products are searchable with SQLite FTS5 over name, brand, SKU and
//!   barcodes ([`Cache::search_products`]).
//! - Stock shows the core's last value plus the optimistic effects of queued
//!   mutations (`stock_pending`), which a pull drops once the core's state
//!   includes them.
//! - Nothing secret is stored here: the device token lives in the OS keyring.
//!
//! Writes are serialised in-process (one writer at a time, like SQLite
//! itself), so a transaction never fails on the write lock halfway.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use oms_api::wire::{
    Change, ChangePage, ChangedEntity, Currency, FulfilmentView, Money, Product, Role,
    StockLevelChange, StoreTask,
};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::error::SyncError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/app-cache");

/// Largest number of search results.
pub const MAX_SEARCH_RESULTS: u32 = 200;

/// The local cache. Cheap to clone (a pool and a lock).
#[derive(Clone)]
pub struct Cache {
    pool: SqlitePool,
    writer: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

/// The device a cache belongs to (no token: that is in the keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub server_url: String,
    pub device_id: String,
    pub store: Option<String>,
    pub role: Role,
    pub label: String,
    pub paired_at: String,
}

/// Where the cache stands in the change sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncPosition {
    /// `None`: never pulled.
    pub cursor: Option<String>,
    /// The core's last applied mutation of this device, as of the last pull.
    pub last_mutation_id: u64,
    /// When a pull last caught up with the core (RFC 3339): the age of the
    /// cached stock.
    pub last_pull_at: Option<String>,
    /// When a push was last answered (RFC 3339).
    pub last_push_at: Option<String>,
}

/// A stock level as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedStock {
    pub sku: String,
    pub location: String,
    /// The core's value plus the effect of actions still queued here.
    pub on_hand: i64,
    pub reserved: i64,
    /// What the core last said.
    pub server_on_hand: i64,
    /// The optimistic change from queued actions (e.g. −2 after a sale).
    pub pending_delta: i64,
}

/// An order as the cache knows it: a summary from the core, or an order
/// queued on this device (`pending_mutation_id` set, status `pending_sync`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedOrder {
    pub id: String,
    pub status: String,
    pub channel: String,
    pub customer_name: String,
    pub placed_at: String,
    /// A queued action of this device concerns this order.
    pub pending_mutation_id: Option<u64>,
}

/// A fulfilment at the store, with the step queued on this device if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CachedFulfilment {
    pub fulfilment: FulfilmentView,
    /// The step queued on this device and not yet answered (e.g.
    /// `mark_ready`).
    pub pending_step: Option<String>,
}

/// How many rows each part of the cache holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    pub products: u64,
    pub locations: u64,
    pub channels: u64,
    pub stock_rows: u64,
    pub orders: u64,
    pub fulfilments: u64,
    pub tasks: u64,
    pub outbox_pending: u64,
    pub outbox_refused: u64,
}

/// What a product search keeps (every field set must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProductFilter {
    /// Exactly this brand.
    pub brand: Option<String>,
    /// Exactly this product type (`standard`, `bulky`, `fragile`).
    pub product_type: Option<String>,
    /// Only products with available units at this location: the core's
    /// on-hand plus the effect of actions queued here, minus reserved.
    pub in_stock_at: Option<String>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSearchPage {
    pub items: Vec<Product>,
    /// Pass as `offset` for the next page; `None` on the last page.
    pub next_offset: Option<u32>,
}

/// The values the search filters offer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProductFacets {
    pub brands: Vec<String>,
    pub product_types: Vec<String>,
}

const SEARCH_COLUMNS: &str =
    "p.sku, p.name, p.brand, p.product_type, p.barcodes, p.price_minor, p.currency";

/// Appends `filter`'s conditions (`AND …`) to a query over `products p`.
fn push_filter(sql: &mut QueryBuilder<'_, Sqlite>, filter: &ProductFilter) {
    if let Some(brand) = &filter.brand {
        sql.push(" AND p.brand = ").push_bind(brand.clone());
    }
    if let Some(product_type) = &filter.product_type {
        sql.push(" AND p.product_type = ")
            .push_bind(product_type.clone());
    }
    if let Some(location) = &filter.in_stock_at {
        sql.push(
            " AND (COALESCE((SELECT s.on_hand - s.reserved FROM stock s \
             WHERE s.sku = p.sku AND s.location = ",
        )
        .push_bind(location.clone())
        .push(
            "), 0) + COALESCE((SELECT SUM(sp.on_hand_delta) FROM stock_pending sp \
             WHERE sp.sku = p.sku AND sp.location = ",
        )
        .push_bind(location.clone())
        .push("), 0)) > 0");
    }
}

/// The page from `found` (up to `limit` + 1 rows, the extra one meaning
/// "there is more").
fn page_of(mut found: Vec<Product>, offset: u32, limit: u32) -> ProductSearchPage {
    let limit_len = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = found.len() > limit_len;
    found.truncate(limit_len);
    let next_offset = more.then(|| offset.saturating_add(limit));
    ProductSearchPage {
        items: found,
        next_offset,
    }
}

impl Cache {
    /// Opens (creating if needed) the cache at `path` and brings its schema
    /// up to date.
    pub async fn open(path: &Path) -> Result<Self, SyncError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-16384");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| SyncError::Open {
                path: path.to_owned(),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            writer: Arc::new(Mutex::new(())),
        })
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction; the guard keeps other writers of this process
    /// waiting until it is dropped (after commit or rollback).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<(MutexGuard<'_, ()>, Transaction<'static, Sqlite>), SyncError> {
        let guard = self.writer.lock().await;
        let tx = self.pool.begin().await?;
        Ok((guard, tx))
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ----- device -------------------------------------------------------

    /// The paired device, if any.
    pub async fn device(&self) -> Result<Option<DeviceInfo>, SyncError> {
        let row = sqlx::query(
            "SELECT server_url, device_id, store, role, label, paired_at FROM device WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        Ok(Some(DeviceInfo {
            server_url: row.try_get("server_url")?,
            device_id: row.try_get("device_id")?,
            store: row.try_get("store")?,
            role: Role::parse(&role).ok_or_else(|| {
                SyncError::Data(serde::de::Error::custom(format!("unknown role `{role}`")))
            })?,
            label: row.try_get("label")?,
            paired_at: row.try_get("paired_at")?,
        }))
    }

    /// Records the device this cache belongs to. Pairing to another server
    /// or store starts the cache afresh (cursor and cached data dropped); the
    /// outbox is kept — its rows carry their device id.
    pub async fn set_device(&self, device: &DeviceInfo) -> Result<(), SyncError> {
        let (_guard, mut tx) = self.begin_write().await?;
        let previous = sqlx::query("SELECT server_url, store FROM device WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?;
        let same_source = match previous {
            Some(row) => {
                let url: String = row.try_get("server_url")?;
                let store: Option<String> = row.try_get("store")?;
                url == device.server_url && store == device.store
            }
            None => false,
        };
        if !same_source {
            for table in [
                "products",
                "locations",
                "channels",
                "stock",
                "stock_pending",
                "orders",
                "fulfilments",
                "tasks",
            ] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE sync_state SET cursor = NULL, last_mutation_id = 0, last_pull_at = NULL WHERE id = 1",
            )
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO device (id, server_url, device_id, store, role, label, paired_at) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, \
             device_id = excluded.device_id, store = excluded.store, role = excluded.role, \
             label = excluded.label, paired_at = excluded.paired_at",
        )
        .bind(&device.server_url)
        .bind(&device.device_id)
        .bind(&device.store)
        .bind(device.role.as_str())
        .bind(&device.label)
        .bind(&device.paired_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The paired device's server answers at another URL (the embedded
    /// sidecar listens on a new port at each start) but it is the same
    /// server and database: records the URL and keeps the cache.
    pub async fn set_server_url(&self, server_url: &str) -> Result<(), SyncError> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query("UPDATE device SET server_url = ?1 WHERE id = 1")
            .bind(server_url)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- pull ---------------------------------------------------------

    /// Where the cache stands in the change sequence.
    pub async fn position(&self) -> Result<SyncPosition, SyncError> {
        let row = sqlx::query(
            "SELECT cursor, last_mutation_id, last_pull_at, last_push_at FROM sync_state WHERE id = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        let last: i64 = row.try_get("last_mutation_id")?;
        Ok(SyncPosition {
            cursor: row.try_get("cursor")?,
            last_mutation_id: u64::try_from(last).unwrap_or(0),
            last_pull_at: row.try_get("last_pull_at")?,
            last_push_at: row.try_get("last_push_at")?,
        })
    }

    /// Applies one page of changes and its cursor in one transaction. On the
    /// last page (`has_more` false) the optimistic stock effects of
    /// mutations the core has applied are dropped: the core's state, now in
    /// the cache, includes them.
    pub async fn apply_page(&self, page: &ChangePage) -> Result<(), SyncError> {
        let (_guard, mut tx) = self.begin_write().await?;
        for change in &page.changes {
            apply_change(&mut tx, change).await?;
        }
        let now = now();
        sqlx::query(
            "UPDATE sync_state SET cursor = ?1, \
             last_mutation_id = MAX(last_mutation_id, COALESCE(?2, last_mutation_id)), \
             last_pull_at = CASE WHEN ?3 THEN ?4 ELSE last_pull_at END WHERE id = 1",
        )
        .bind(&page.cursor)
        .bind(page.last_mutation_id.and_then(|id| i64::try_from(id).ok()))
        .bind(!page.has_more)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if let (false, Some(last)) = (page.has_more, page.last_mutation_id) {
            let last = i64::try_from(last).unwrap_or(i64::MAX);
            sqlx::query("DELETE FROM stock_pending WHERE mutation_id <= ?1")
                .bind(last)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // ----- reads --------------------------------------------------------

    /// How many rows each part of the cache holds.
    pub async fn counts(&self) -> Result<CacheCounts, SyncError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM products) AS products, \
             (SELECT COUNT(*) FROM locations) AS locations, \
             (SELECT COUNT(*) FROM channels) AS channels, \
             (SELECT COUNT(*) FROM stock) AS stock_rows, \
             (SELECT COUNT(*) FROM orders) AS orders, \
             (SELECT COUNT(*) FROM fulfilments) AS fulfilments, \
             (SELECT COUNT(*) FROM tasks) AS tasks, \
             (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS outbox_pending, \
             (SELECT COUNT(*) FROM outbox WHERE status = 'refused' AND dismissed_at IS NULL) AS outbox_refused",
        )
        .fetch_one(&self.pool)
        .await?;
        let get = |name: &str| -> Result<u64, SyncError> {
            let value: i64 = row.try_get(name)?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        Ok(CacheCounts {
            products: get("products")?,
            locations: get("locations")?,
            channels: get("channels")?,
            stock_rows: get("stock_rows")?,
            orders: get("orders")?,
            fulfilments: get("fulfilments")?,
            tasks: get("tasks")?,
            outbox_pending: get("outbox_pending")?,
            outbox_refused: get("outbox_refused")?,
        })
    }

    /// One product by SKU.
    pub async fn product(&self, sku: &str) -> Result<Option<Product>, SyncError> {
        let row = sqlx::query(
            "SELECT sku, name, brand, product_type, barcodes, price_minor, currency \
             FROM products WHERE sku = ?1",
        )
        .bind(sku)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(product_from_row).transpose()
    }

    /// Searches products as the user types: every word of `query` must
    /// start a word of the name, brand, SKU or a barcode (case and accents
    /// ignored). A SKU or barcode typed whole comes first. An empty query
    /// lists products by SKU. At most `limit` (≤ 200) results.
    pub async fn search_products(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Product>, SyncError> {
        Ok(self
            .search_page(query, &ProductFilter::default(), 0, limit)
            .await?
            .items)
    }

    /// One page of a filtered search: like [`Cache::search_products`], only
    /// products passing `filter`, skipping the first `offset` results. The
    /// order is stable from page to page (exact SKU/barcode matches, then
    /// the catalogue's order), so `next_offset` continues where this page
    /// ended. At most `limit` (≤ 200) results per page.
    pub async fn search_page(
        &self,
        query: &str,
        filter: &ProductFilter,
        offset: u32,
        limit: u32,
    ) -> Result<ProductSearchPage, SyncError> {
        let limit = limit.clamp(1, MAX_SEARCH_RESULTS);
        let query = query.trim();
        // One more row than asked tells whether a next page exists.
        let wanted = i64::from(limit) + 1;
        let mut found: Vec<Product> = Vec::new();
        let mut exact_skus: Vec<String> = Vec::new();
        if !query.is_empty() {
            // Exact SKU (as typed, or upper-cased) or barcode, first.
            let mut sql = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {SEARCH_COLUMNS} FROM products p WHERE (p.sku = "
            ));
            sql.push_bind(query)
                .push(" OR p.sku = upper(")
                .push_bind(query)
                .push("))");
            push_filter(&mut sql, filter);
            let mut rows = sql.build().fetch_all(&self.pool).await?;
            if let Some(barcode) = barcode_match(query) {
                let mut sql = QueryBuilder::<Sqlite>::new(format!(
                    "SELECT {SEARCH_COLUMNS} FROM product_fts f JOIN products p ON p.rowid = f.rowid \
                     WHERE product_fts MATCH "
                ));
                sql.push_bind(barcode);
                push_filter(&mut sql, filter);
                sql.push(" ORDER BY f.rowid LIMIT ").push_bind(wanted);
                rows.extend(sql.build().fetch_all(&self.pool).await?);
            }
            for row in &rows {
                let product = product_from_row(row)?;
                if !exact_skus.contains(&product.sku) {
                    exact_skus.push(product.sku.clone());
                    found.push(product);
                }
            }
        }
        // The exact matches are the first results of every page's count.
        let skip_exact = usize::try_from(offset).unwrap_or(usize::MAX);
        let exact_count = found.len();
        found.drain(..skip_exact.min(exact_count));
        let rest_offset = i64::from(offset).saturating_sub(exact_count as i64).max(0);
        let rest_wanted = wanted - found.len() as i64;
        let expression = if query.is_empty() {
            None
        } else {
            match prefix_match(query) {
                Some(expression) => Some(expression),
                // Nothing searchable beyond the exact matches.
                None => return Ok(page_of(found, offset, limit)),
            }
        };
        if rest_wanted > 0 {
            let mut sql = match &expression {
                Some(expression) => {
                    let mut sql = QueryBuilder::<Sqlite>::new(format!(
                        "SELECT {SEARCH_COLUMNS} FROM product_fts f JOIN products p ON p.rowid = f.rowid \
                         WHERE product_fts MATCH "
                    ));
                    sql.push_bind(expression.clone());
                    sql
                }
                None => QueryBuilder::<Sqlite>::new(format!(
                    "SELECT {SEARCH_COLUMNS} FROM products p WHERE 1 = 1"
                )),
            };
            push_filter(&mut sql, filter);
            if !exact_skus.is_empty() {
                sql.push(" AND p.sku NOT IN (");
                let mut list = sql.separated(", ");
                for sku in &exact_skus {
                    list.push_bind(sku.clone());
                }
                sql.push(")");
            }
            sql.push(if expression.is_some() {
                " ORDER BY f.rowid"
            } else {
                " ORDER BY p.sku"
            });
            sql.push(" LIMIT ")
                .push_bind(rest_wanted)
                .push(" OFFSET ")
                .push_bind(rest_offset);
            for row in sql.build().fetch_all(&self.pool).await? {
                found.push(product_from_row(&row)?);
            }
        }
        Ok(page_of(found, offset, limit))
    }

    /// The brands and product types of the cached catalogue, sorted, for
    /// the search filters.
    pub async fn product_facets(&self) -> Result<ProductFacets, SyncError> {
        let brands = sqlx::query_scalar("SELECT DISTINCT brand FROM products ORDER BY brand")
            .fetch_all(&self.pool)
            .await?;
        let product_types =
            sqlx::query_scalar("SELECT DISTINCT product_type FROM products ORDER BY product_type")
                .fetch_all(&self.pool)
                .await?;
        Ok(ProductFacets {
            brands,
            product_types,
        })
    }

    /// The stock of `sku` at `location` as the app shows it (queued actions
    /// included); `None` if the core never sent that row and nothing is
    /// queued for it.
    pub async fn stock(&self, sku: &str, location: &str) -> Result<Option<CachedStock>, SyncError> {
        let row = sqlx::query(
            "SELECT s.on_hand AS server_on_hand, s.reserved AS reserved, \
             (SELECT COALESCE(SUM(on_hand_delta), 0) FROM stock_pending p \
              WHERE p.sku = ?1 AND p.location = ?2) AS pending, \
             s.sku IS NOT NULL AS known \
             FROM (SELECT 1) LEFT JOIN stock s ON s.sku = ?1 AND s.location = ?2",
        )
        .bind(sku)
        .bind(location)
        .fetch_one(&self.pool)
        .await?;
        let known: bool = row.try_get("known")?;
        let pending: i64 = row.try_get("pending")?;
        if !known && pending == 0 {
            return Ok(None);
        }
        let server_on_hand: i64 = row
            .try_get::<Option<i64>, _>("server_on_hand")?
            .unwrap_or(0);
        Ok(Some(CachedStock {
            sku: sku.to_owned(),
            location: location.to_owned(),
            on_hand: server_on_hand + pending,
            reserved: row.try_get::<Option<i64>, _>("reserved")?.unwrap_or(0),
            server_on_hand,
            pending_delta: pending,
        }))
    }

    /// The cached stock rows at `location` (queued actions included), by
    /// SKU, at most `limit`.
    pub async fn stock_at(
        &self,
        location: &str,
        limit: u32,
    ) -> Result<Vec<CachedStock>, SyncError> {
        let rows = sqlx::query(
            "SELECT s.sku, s.on_hand, s.reserved, \
             (SELECT COALESCE(SUM(on_hand_delta), 0) FROM stock_pending p \
              WHERE p.sku = s.sku AND p.location = s.location) AS pending \
             FROM stock s WHERE s.location = ?1 ORDER BY s.sku LIMIT ?2",
        )
        .bind(location)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let server_on_hand: i64 = row.try_get("on_hand")?;
                let pending: i64 = row.try_get("pending")?;
                Ok(CachedStock {
                    sku: row.try_get("sku")?,
                    location: location.to_owned(),
                    on_hand: server_on_hand + pending,
                    reserved: row.try_get("reserved")?,
                    server_on_hand,
                    pending_delta: pending,
                })
            })
            .collect()
    }

    /// Orders involving the store and orders queued here, newest first.
    pub async fn orders(&self, limit: u32) -> Result<Vec<CachedOrder>, SyncError> {
        let rows = sqlx::query(
            "SELECT id, status, channel, customer_name, placed_at, pending_mutation_id \
             FROM orders ORDER BY placed_at DESC, id LIMIT ?1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CachedOrder {
                    id: row.try_get("id")?,
                    status: row.try_get("status")?,
                    channel: row.try_get("channel")?,
                    customer_name: row.try_get("customer_name")?,
                    placed_at: row.try_get("placed_at")?,
                    pending_mutation_id: row
                        .try_get::<Option<i64>, _>("pending_mutation_id")?
                        .and_then(|id| u64::try_from(id).ok()),
                })
            })
            .collect()
    }

    /// The fulfilments at `location`, by due time.
    pub async fn fulfilments(&self, location: &str) -> Result<Vec<CachedFulfilment>, SyncError> {
        let rows = sqlx::query(
            "SELECT document, pending_step FROM fulfilments WHERE location = ?1 ORDER BY due_at, id",
        )
        .bind(location)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let document: String = row.try_get("document")?;
                Ok(CachedFulfilment {
                    fulfilment: serde_json::from_str(&document)?,
                    pending_step: row.try_get("pending_step")?,
                })
            })
            .collect()
    }

    /// The store's tasks, newest first.
    pub async fn tasks(&self) -> Result<Vec<StoreTask>, SyncError> {
        let rows = sqlx::query(
            "SELECT id, location, kind, sku, order_id, message, created_at FROM tasks \
             ORDER BY created_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let value = serde_json::json!({
                    "id": row.try_get::<String, _>("id")?,
                    "location": row.try_get::<String, _>("location")?,
                    "kind": row.try_get::<String, _>("kind")?,
                    "sku": row.try_get::<Option<String>, _>("sku")?,
                    "order": row.try_get::<Option<String>, _>("order_id")?,
                    "message": row.try_get::<String, _>("message")?,
                    "created_at": row.try_get::<String, _>("created_at")?,
                });
                Ok(serde_json::from_value(value)?)
            })
            .collect()
    }
}

/// The text form of a serde enum or id (`"in_preparation"` → `in_preparation`).
pub(crate) fn text_of<T: Serialize>(value: &T) -> Result<String, SyncError> {
    Ok(match serde_json::to_value(value)? {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    })
}

pub(crate) fn now() -> String {
    jiff::Timestamp::now().to_string()
}

async fn apply_change(
    tx: &mut Transaction<'static, Sqlite>,
    change: &Change,
) -> Result<(), SyncError> {
    let seq = change.seq;
    match &change.entity {
        ChangedEntity::Product(product) => {
            sqlx::query(
                "INSERT INTO products (sku, name, brand, product_type, barcodes, price_minor, currency, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (sku) DO UPDATE SET name = excluded.name, brand = excluded.brand, \
                 product_type = excluded.product_type, barcodes = excluded.barcodes, \
                 price_minor = excluded.price_minor, currency = excluded.currency, seq = excluded.seq",
            )
            .bind(&product.sku)
            .bind(&product.name)
            .bind(&product.brand)
            .bind(&product.product_type)
            .bind(serde_json::to_string(&product.barcodes)?)
            .bind(product.price.amount_minor)
            .bind(product.price.currency.as_str())
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
        ChangedEntity::Location(location) => {
            sqlx::query(
                "INSERT INTO locations (id, name, kind, document, seq) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 document = excluded.document, seq = excluded.seq",
            )
            .bind(location.id.as_str())
            .bind(&location.name)
            .bind(text_of(&location.kind)?)
            .bind(serde_json::to_string(location)?)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
        ChangedEntity::Channel(channel) => {
            sqlx::query(
                "INSERT INTO channels (id, document, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (id) DO UPDATE SET document = excluded.document, seq = excluded.seq",
            )
            .bind(channel.id.as_str())
            .bind(serde_json::to_string(channel)?)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
        ChangedEntity::Stock(StockLevelChange {
            sku,
            location,
            on_hand,
            reserved,
        }) => {
            sqlx::query(
                "INSERT INTO stock (sku, location, on_hand, reserved, seq) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (sku, location) DO UPDATE SET on_hand = excluded.on_hand, \
                 reserved = excluded.reserved, seq = excluded.seq",
            )
            .bind(sku)
            .bind(location)
            .bind(on_hand)
            .bind(reserved)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
        ChangedEntity::Order(order) => {
            // A summary from the core replaces any local view of the order,
            // but keeps the marker of an action still queued here.
            sqlx::query(
                "INSERT INTO orders (id, status, channel, customer_name, placed_at, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, channel = excluded.channel, \
                 customer_name = excluded.customer_name, placed_at = excluded.placed_at, seq = excluded.seq",
            )
            .bind(text_of(&order.id)?)
            .bind(text_of(&order.status)?)
            .bind(order.channel.as_str())
            .bind(&order.customer_name)
            .bind(&order.placed_at)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
        ChangedEntity::Fulfilment(fulfilment) => {
            upsert_fulfilment(tx, fulfilment, seq).await?;
        }
        ChangedEntity::Task(task) => {
            sqlx::query(
                "INSERT INTO tasks (id, location, kind, sku, order_id, message, created_at, seq) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (id) DO UPDATE SET location = excluded.location, kind = excluded.kind, \
                 sku = excluded.sku, order_id = excluded.order_id, message = excluded.message, \
                 created_at = excluded.created_at, seq = excluded.seq",
            )
            .bind(&task.id)
            .bind(task.location.as_str())
            .bind(text_of(&task.kind)?)
            .bind(task.sku.as_ref().map(|s| s.as_str().to_owned()))
            .bind(task.order.as_ref().map(text_of).transpose()?)
            .bind(&task.message)
            .bind(&task.created_at)
            .bind(seq)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn upsert_fulfilment(
    tx: &mut Transaction<'static, Sqlite>,
    fulfilment: &FulfilmentView,
    seq: i64,
) -> Result<(), SyncError> {
    sqlx::query(
        "INSERT INTO fulfilments (id, order_id, location, status, due_at, document, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (id) DO UPDATE SET order_id = excluded.order_id, location = excluded.location, \
         status = excluded.status, due_at = excluded.due_at, document = excluded.document, \
         seq = MAX(seq, excluded.seq)",
    )
    .bind(text_of(&fulfilment.id)?)
    .bind(text_of(&fulfilment.order)?)
    // Filed where it is handled now, as on the core (a ship-to-store parcel
    // is in the pickup store's queue once it left).
    .bind(
        oms_domain::lifecycle::handled_at(
            &fulfilment.location,
            fulfilment.ship_to.as_ref(),
            fulfilment.status,
        )
        .as_str(),
    )
    .bind(text_of(&fulfilment.status)?)
    .bind(&fulfilment.due_at)
    .bind(serde_json::to_string(fulfilment)?)
    .bind(seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn product_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Product, SyncError> {
    let barcodes: String = row.try_get("barcodes")?;
    let currency: String = row.try_get("currency")?;
    Ok(Product {
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        brand: row.try_get("brand")?,
        product_type: row.try_get("product_type")?,
        barcodes: serde_json::from_str(&barcodes)?,
        price: Money {
            amount_minor: row.try_get("price_minor")?,
            currency: Currency::try_from(currency)
                .map_err(|e| SyncError::Data(serde::de::Error::custom(e)))?,
        },
    })
}

/// The FTS5 expression "every word is the start of an indexed word":
/// `"word"*` per word (quoted, so no user input is FTS syntax). `None` when
/// the query has no searchable characters.
pub(crate) fn prefix_match(query: &str) -> Option<String> {
    let terms: Vec<String> = query
        .split_whitespace()
        .map(|word| word.replace('"', ""))
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{word}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// A barcode typed whole (digits only, 8 to 14 of them) as an exact match on
/// the barcodes column.
fn barcode_match(query: &str) -> Option<String> {
    let digits = query.len();
    ((8..=14).contains(&digits) && query.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("barcodes : \"{query}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_expressions_quote_user_input() {
        assert_eq!(
            prefix_match("oak tab").as_deref(),
            Some("\"oak\"* \"tab\"*")
        );
        assert_eq!(prefix_match("SKU-0001").as_deref(), Some("\"SKU-0001\"*"));
        assert_eq!(prefix_match("a\"b OR").as_deref(), Some("\"ab\"* \"OR\"*"));
        assert_eq!(prefix_match("  - * "), None);
        assert_eq!(
            barcode_match("2000000000008").as_deref(),
            Some("barcodes : \"2000000000008\"")
        );
        assert_eq!(barcode_match("SKU-1"), None);
    }
}

//! The in-memory stock index that answers ATP, kept in step with the database.
//!
//! The database is the authority. The index follows it through the change
//! sequence: [`StockCache::refresh`] reads the stock rows whose `change_seq`
//! is above the last one applied — their *current* values — and applies
//! them (in any order: each row is distinct and current). Applying a
//! current value is idempotent, and because sequence numbers are handed out
//! in commit order (see `storage`), following them never skips a commit,
//! whichever server instance made it.
//!
//! Who calls `refresh`: the writer, right after its own commit (so a client
//! reads its own writes), and a background follower every
//! [`FOLLOW_INTERVAL`] (so changes committed by other instances on the same
//! PostgreSQL arrive within that interval). One refresh runs at a time.
//!
//! A stock feed changes up to millions of rows under one sequence number;
//! reading them back took seconds. Instead ([`StockCache::before_feed`]) it
//! brings the index up to the commit just before its own once it holds its
//! number (nothing else can commit stock until it does), keeps other
//! refreshes out, commits, and applies its own rows from a compact list
//! ([`FeedChanges`]) exactly as its SQL did, keeping what is reserved.

use crate::storage::{Storage, StorageError};
use oms_domain::model::{ProductType, Sku};
use oms_domain::stock::{IndexError, OnHandChange, ProductRow, RowKey, StockIndex};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

/// How often the follower looks for changes made by other instances.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);

/// Why the index could not be built or refreshed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("stock index: {0}")]
    Index(#[from] IndexError),
    #[error("stored product data is invalid: {0}")]
    Invalid(String),
}

/// The index and the catalogue's SKUs (ATP of a SKU the catalogue does not
/// know is an error, not "zero in stock").
#[derive(Debug)]
pub struct Indexed {
    pub index: StockIndex,
    pub known_skus: HashSet<Sku>,
    /// Which build this is: a rebuild renumbers SKUs and locations, so keys
    /// taken from an older build ([`RowKey`]) must not be applied.
    pub generation: u64,
}

/// Numbers successive builds of the index.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// Largest number of rows a feed keeps in its [`FeedChanges`] (12 bytes
/// each, 48 MiB at most); a larger feed has its rows read back instead.
pub const MAX_FEED_CHANGES: usize = 4_000_000;

/// A feed's rows as the index numbers them, collected while it is read so
/// that the index can be updated without reading them back. `None` once it
/// cannot be used (too many rows, a SKU or location the index lacks).
#[derive(Debug)]
pub struct FeedChanges {
    generation: u64,
    delta: bool,
    rows: Option<Vec<(RowKey, i32)>>,
}

impl FeedChanges {
    pub fn new(generation: u64, delta: bool) -> Self {
        Self {
            generation,
            delta,
            rows: Some(Vec::new()),
        }
    }

    /// Notes one valid row (its quantity already checked to be within
    /// ±1,000,000,000, so it fits an `i32`).
    pub fn push(&mut self, index: &Indexed, sku: &str, location: &str, quantity: i64) {
        let Some(rows) = &mut self.rows else {
            return;
        };
        let key = if index.generation == self.generation {
            index.index.row_key(sku, location)
        } else {
            None
        };
        match (key, i32::try_from(quantity)) {
            (Some(key), Ok(quantity)) if rows.len() < MAX_FEED_CHANGES => {
                rows.push((key, quantity))
            }
            _ => self.rows = None,
        }
    }

    /// Gives up on the list (the index will read the rows back).
    pub fn discard(&mut self) {
        self.rows = None;
    }
}

/// Holds the index's refreshes while a feed commits: see
/// [`StockCache::before_feed`].
pub struct FeedRefresh<'a> {
    cache: &'a StockCache,
    applied: tokio::sync::MutexGuard<'a, Applied>,
}

/// The shared index plus the change sequence number it reflects.
#[derive(Debug)]
pub struct StockCache {
    index: RwLock<Indexed>,
    /// Highest stock `change_seq` applied, and the network's at build time.
    applied: tokio::sync::Mutex<Applied>,
}

#[derive(Debug, Clone, Copy)]
struct Applied {
    stock_seq: i64,
    network_seq: i64,
    product_seq: i64,
}

impl StockCache {
    /// Builds the index from the database.
    pub async fn load(storage: &Storage) -> Result<Arc<Self>, CacheError> {
        let (index, applied) = build(storage).await?;
        Ok(Arc::new(Self {
            index: RwLock::new(index),
            applied: tokio::sync::Mutex::new(applied),
        }))
    }

    /// Read access for answering questions. Never held across an await.
    pub fn read(&self) -> RwLockReadGuard<'_, Indexed> {
        // A panic while holding the write lock cannot leave the index half
        // updated in a way readers could observe (each apply is one row), so
        // a poisoned lock is still usable.
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access, for applying rows read inside a writing transaction
    /// (orders) before orchestrating on them. Never held across an await.
    pub fn write(&self) -> RwLockWriteGuard<'_, Indexed> {
        self.index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies every change committed since the last refresh. Returns how
    /// many stock rows were applied.
    pub async fn refresh(&self, storage: &Storage) -> Result<usize, CacheError> {
        let mut applied = self.applied.lock().await;
        self.refresh_locked(storage, &mut applied).await
    }

    /// For a stock feed that holds its change sequence number `seq` (so every
    /// earlier number is committed and no later one can commit before it):
    /// applies everything committed so far, and keeps other refreshes out
    /// until [`FeedRefresh::after_commit`] (or until dropped, if the feed
    /// fails), so that none of them reads the feed's rows back.
    pub async fn before_feed(&self, storage: &Storage) -> Result<FeedRefresh<'_>, CacheError> {
        let mut applied = self.applied.lock().await;
        self.refresh_locked(storage, &mut applied).await?;
        Ok(FeedRefresh {
            cache: self,
            applied,
        })
    }

    async fn refresh_locked(
        &self,
        storage: &Storage,
        applied: &mut Applied,
    ) -> Result<usize, CacheError> {
        let network_seq = storage.network_change_seq().await?;
        if network_seq > applied.network_seq {
            // Locations, channels, periods or settings changed: rebuild, which
            // is rare and keeps the incremental path simple.
            let (index, fresh) = build(storage).await?;
            *self.index.write().unwrap_or_else(|p| p.into_inner()) = index;
            *applied = fresh;
            return Ok(0);
        }
        let product_seq = storage.product_change_seq().await?;
        if product_seq > applied.product_seq {
            let products = product_rows(storage).await?;
            let mut cache = self.index.write().unwrap_or_else(|p| p.into_inner());
            for product in products {
                cache
                    .index
                    .set_product_type(&product.sku, product.product_type);
                cache.known_skus.insert(product.sku);
            }
            applied.product_seq = product_seq;
        }
        let mut rows = Vec::new();
        let mut highest = applied.stock_seq;
        storage
            .for_each_stock_row(Some(applied.stock_seq), |row, seq| {
                rows.push(row);
                highest = highest.max(seq);
                Ok::<_, CacheError>(())
            })
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        {
            let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
            for row in &rows {
                index.index.apply(row)?;
            }
        }
        applied.stock_seq = highest;
        Ok(rows.len())
    }

    /// Follows the database until the returned task is aborted.
    pub fn follow(self: &Arc<Self>, storage: Storage) -> tokio::task::JoinHandle<()> {
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(FOLLOW_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(error) = cache.refresh(&storage).await {
                    tracing::warn!(%error, "stock index refresh failed; retrying");
                }
            }
        })
    }
}

impl FeedRefresh<'_> {
    /// After the feed committed under `seq`: applies its rows from `changes`
    /// when they are all it changed (`complete`: no row of a snapshot's
    /// locations was zeroed for being absent) and the index was not rebuilt
    /// since they were noted; otherwise reads the changed rows back. Every
    /// commit before `seq` is already applied (see
    /// [`StockCache::before_feed`]), so each row's reserved and, for a
    /// delta, its previous on-hand are the database's. Returns the number of
    /// rows applied.
    pub async fn after_commit(
        mut self,
        storage: &Storage,
        seq: i64,
        changes: FeedChanges,
        complete: bool,
    ) -> Result<usize, CacheError> {
        let applied = match changes.rows {
            Some(rows) if complete => {
                let mut cache = self.cache.write();
                if cache.generation == changes.generation {
                    for (key, quantity) in &rows {
                        let quantity = i64::from(*quantity);
                        cache.index.change_on_hand(
                            *key,
                            if changes.delta {
                                OnHandChange::Add(quantity)
                            } else {
                                OnHandChange::Set(quantity)
                            },
                        );
                    }
                    Some(rows.len())
                } else {
                    None
                }
            }
            _ => None,
        };
        match applied {
            Some(rows) => {
                self.applied.stock_seq = self.applied.stock_seq.max(seq);
                Ok(rows)
            }
            None => self.cache.refresh_locked(storage, &mut self.applied).await,
        }
    }
}

async fn build(storage: &Storage) -> Result<(Indexed, Applied), CacheError> {
    let started = std::time::Instant::now();
    // Read the sequence first: anything committed after it is picked up by
    // the next refresh (re-applying a current value is harmless).
    let network_seq = storage.network_change_seq().await?;
    let stock_seq = storage.last_change_seq().await?;
    let product_seq = storage.product_change_seq().await?;
    let network = storage.load_network().await?;
    let products = product_rows(storage).await?;
    let known_skus: HashSet<Sku> = products.iter().map(|p| p.sku.clone()).collect();
    let mut index = StockIndex::build(&network, products, std::iter::empty())?;
    // Streamed in (SKU, location) order, so each apply appends.
    let mut row_count = 0;
    storage
        .for_each_stock_row(None, |row, _seq| {
            row_count += 1;
            index.apply(&row).map_err(CacheError::from)
        })
        .await?;
    // Orders already taken today count towards the daily caps.
    for (location, date, orders) in storage.latest_location_loads().await? {
        let (Ok(location), Ok(date)) = (
            oms_domain::model::LocationId::parse(location),
            date.parse::<jiff::civil::Date>(),
        ) else {
            continue;
        };
        if index.location(&location).is_some() {
            index.set_location_load(&oms_domain::stock::LocationLoad {
                location,
                date,
                orders: u32::try_from(orders).unwrap_or(u32::MAX),
            })?;
        }
    }
    tracing::info!(
        rows = row_count,
        elapsed_ms = started.elapsed().as_millis() as u64,
        memory_mb = index.memory_bytes() / (1024 * 1024),
        "stock index built"
    );
    Ok((
        Indexed {
            index,
            known_skus,
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
        },
        Applied {
            stock_seq,
            network_seq,
            product_seq,
        },
    ))
}

async fn product_rows(storage: &Storage) -> Result<Vec<ProductRow>, CacheError> {
    storage
        .product_types()
        .await?
        .into_iter()
        .map(|(sku, product_type)| {
            Ok(ProductRow {
                sku: Sku::parse(sku).map_err(|e| CacheError::Invalid(e.to_string()))?,
                product_type: product_type
                    .parse::<ProductType>()
                    .map_err(|e| CacheError::Invalid(e.to_string()))?,
            })
        })
        .collect()
}

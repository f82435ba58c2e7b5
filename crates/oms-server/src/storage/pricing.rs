//! A cache of what every placement reads before its transaction: unit prices
//! (catalogue price, or the channel's own) and each channel's active rule
//! set. They change rarely, and only through a few writes of this module
//! (`upsert_product`, `set_channel_price`, `activate_rule_set`, the seeds),
//! which empty the cache after their commit; another instance's writes on
//! the same PostgreSQL are noticed by a follower within [`FOLLOW_INTERVAL`]
//! (the products' change number moves with every price change, and the
//! active versions are compared), like the stock index.
//!
//! A read that missed fills the cache only if no write emptied it since the
//! read began (the generation below), so a value read before a write's
//! commit can never outlive it here. Prices and rules are read before the
//! placement's transaction anyway: the cache does not change what a
//! placement may see, only how often it asks the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::{AnyPool, Row};

use super::StorageError;
use super::orders::RuleSetRecord;
use super::sql::Sql;

/// How often the follower looks for price or rule changes made by other
/// instances (the stock index follows at the same pace).
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);

/// (channel, currency) → SKU → price in minor units (`None`: no price).
type Prices = HashMap<(String, String), HashMap<String, Option<i64>>>;

#[derive(Debug, Default)]
pub(crate) struct PricingCache {
    /// Moves whenever a write may have changed prices or rule sets.
    generation: AtomicU64,
    cached: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    /// The generation these entries were read under.
    generation: u64,
    prices: Prices,
    rules: HashMap<String, Option<RuleSetRecord>>,
}

/// What the follower compares: the products' change number and the active
/// rule set versions.
#[derive(Debug, Default, PartialEq, Eq)]
struct Signature {
    product_seq: i64,
    active_rules: Vec<(String, i64)>,
}

impl PricingCache {
    /// Starts the follower (it stops once only it holds the cache).
    pub(crate) fn start(pool: AnyPool) -> Arc<Self> {
        let cache = Arc::new(Self::default());
        tokio::spawn(follow(Arc::clone(&cache), pool));
        cache
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything: called after a committed write of prices or rules.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut cached = self.lock();
        cached.prices.clear();
        cached.rules.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Cached> {
        // Entries are whole values: a poisoned lock holds nothing half-made.
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached prices of `skus`, and the SKUs not cached.
    pub(crate) fn prices(
        &self,
        channel: &str,
        currency: &str,
        skus: &[String],
    ) -> (HashMap<String, i64>, Vec<String>) {
        let mut found = HashMap::with_capacity(skus.len());
        let mut missing = Vec::new();
        let cached = self.lock();
        let generation = self.generation();
        let table = (cached.generation == generation)
            .then(|| {
                cached
                    .prices
                    .get(&(channel.to_owned(), currency.to_owned()))
            })
            .flatten();
        for sku in skus {
            match table.and_then(|t| t.get(sku)) {
                Some(Some(price)) => {
                    found.insert(sku.clone(), *price);
                }
                Some(None) => {}
                None => missing.push(sku.clone()),
            }
        }
        (found, missing)
    }

    /// Keeps prices read from the database under `generation` (taken before
    /// the read): dropped if a write came in between.
    pub(crate) fn keep_prices(
        &self,
        generation: u64,
        channel: &str,
        currency: &str,
        read: impl IntoIterator<Item = (String, Option<i64>)>,
    ) {
        let mut cached = self.lock();
        if !self.reset_to(&mut cached, generation) {
            return;
        }
        cached
            .prices
            .entry((channel.to_owned(), currency.to_owned()))
            .or_default()
            .extend(read);
    }

    /// The cached active rule set of a channel (outer `None`: not cached).
    pub(crate) fn rules(&self, channel: &str) -> Option<Option<RuleSetRecord>> {
        let cached = self.lock();
        if cached.generation != self.generation() {
            return None;
        }
        cached.rules.get(channel).cloned()
    }

    pub(crate) fn keep_rules(&self, generation: u64, channel: &str, rules: Option<RuleSetRecord>) {
        let mut cached = self.lock();
        if self.reset_to(&mut cached, generation) {
            cached.rules.insert(channel.to_owned(), rules);
        }
    }

    /// Empties entries of an older generation; false if `generation` is not
    /// the current one (the read it came with may be stale).
    fn reset_to(&self, cached: &mut Cached, generation: u64) -> bool {
        if generation != self.generation() {
            return false;
        }
        if cached.generation != generation {
            cached.prices.clear();
            cached.rules.clear();
            cached.generation = generation;
        }
        true
    }
}

async fn signature(pool: &AnyPool) -> Result<Signature, StorageError> {
    let product_seq = super::product_change_seq(pool).await?;
    let rows =
        Sql::new("SELECT channel_id, version FROM rule_sets WHERE active = 1 ORDER BY channel_id")
            .fetch_all(pool)
            .await?;
    let active_rules = rows
        .iter()
        .map(|row| Ok((row.try_get("channel_id")?, row.try_get("version")?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(Signature {
        product_seq,
        active_rules,
    })
}

/// Empties the cache when another instance changed prices or rules.
async fn follow(cache: Arc<PricingCache>, pool: AnyPool) {
    let mut ticker = tokio::time::interval(FOLLOW_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<Signature> = None;
    loop {
        ticker.tick().await;
        if Arc::strong_count(&cache) == 1 || pool.is_closed() {
            return;
        }
        match signature(&pool).await {
            Ok(now) => {
                // The first signature too: entries may predate it.
                if last.as_ref() != Some(&now) {
                    cache.invalidate();
                }
                last = Some(now);
            }
            Err(error) => tracing::warn!(%error, "price cache follower: read failed; retrying"),
        }
    }
}

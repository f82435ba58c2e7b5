//! A seeded simulation of app ↔ core sync (DESIGN.md "Sync between the app
//! and the core"; issue 7).
//!
//! Three devices in two stores live through a day of store work — carry-out
//! sales, endless-aisle orders (click & collect to their store, home
//! delivery), fulfilment steps on their store's queue, returns and
//! cancellations — through a fault-injecting proxy ([`proxy`]) in front of
//! the real `oms-server` binary ([`server`]), which is killed with SIGKILL
//! and restarted on the same SQLite file during the day. Devices crash too:
//! their sync loop is aborted mid-flight and their cache dropped without
//! closing, then the same cache file is reopened by a new engine (in-process
//! crash, not a child process). When the day is over the faults stop, every
//! device syncs to quiescence and [`invariants`] are checked against the
//! server.
//!
//! **Determinism.** The seed fixes the schedule: each device's actions and
//! their parameters, where the server is killed and for how long, where
//! devices crash, and the stream of fault decisions the proxy draws from.
//! Thread timing is not deterministic — which request draws which fault,
//! and how pushes interleave, vary from run to run — so the invariants are
//! properties that must hold for *any* interleaving; a seed replays the same
//! schedule and fault stream, which is what makes a failure reproducible in
//! practice (`cargo xtask soak --seed <seed>`).

pub mod invariants;
pub mod proxy;
pub mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aisle_sync::{
    Cache, MemoryTokenStore, SyncConfig, SyncEngine, SyncError, SyncLoop, TokenStore,
};
use anyhow::{Context, bail};
use oms_api::OmsClient;
use oms_api::wire::{FulfilmentStatus, Intent, NewPairingCode, Role};
use oms_domain::demo::DemoSize;
use oms_domain::model::LocationKind;
use oms_domain::rng::SplitMix64;
use serde_json::json;

use crate::proxy::Proxy;
use crate::server::{DEMO_SEED, Server};

/// What one run does.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// Actions per device (3 devices).
    pub actions_per_device: usize,
    /// Times the server is killed with SIGKILL and restarted during the day.
    pub server_kills: usize,
    /// Chance (per thousand) that a device crashes before an action.
    pub device_crash_per_mille: u64,
}

impl SimConfig {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            actions_per_device: 180,
            server_kills: 2,
            device_crash_per_mille: 12,
        }
    }
}

/// What a run did, for the report.
#[derive(Debug, Default, Clone)]
pub struct SimReport {
    pub seed: u64,
    pub actions: usize,
    pub by_kind: std::collections::BTreeMap<String, usize>,
    pub applied: usize,
    pub refused: usize,
    /// Orders placed (applied), fulfilments of theirs at the two stores,
    /// fulfilment steps and returns applied.
    pub orders: usize,
    pub fulfilments_in_stores: usize,
    pub steps: usize,
    pub returns: usize,
    /// (location, SKU) rows whose ledger was checked.
    pub ledger_rows: usize,
    pub server_kills: usize,
    pub device_crashes: usize,
    /// Refusals by kind and reason (the core's words, shortened).
    pub refusals: std::collections::BTreeMap<String, usize>,
    pub faults: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for SimReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {}: {} actions {:?}, {} applied, {} refused ({} orders, {} of their fulfilments in the stores, {} steps, {} returns; {} ledger rows); {} server kills, {} device crashes; proxy: {}; {:.1?}; refusals: {:?}",
            self.seed,
            self.actions,
            self.by_kind,
            self.applied,
            self.refused,
            self.orders,
            self.fulfilments_in_stores,
            self.steps,
            self.returns,
            self.ledger_rows,
            self.server_kills,
            self.device_crashes,
            self.faults,
            self.elapsed,
            self.refusals
        )
    }
}

/// How to replay a seed.
pub fn replay_hint(seed: u64) -> String {
    format!(
        "replay with: cargo xtask soak --seed {seed} (or AISLE_SIM_SEED={seed} cargo test -p sync-simulation --test simulation)"
    )
}

/// The simulation's view of one device.
pub struct Device {
    pub index: usize,
    pub label: String,
    pub store: String,
    pub device_id: String,
    cache_path: PathBuf,
    tokens: Arc<dyn TokenStore>,
    config: SyncConfig,
    engine: Option<SyncEngine>,
    running: Option<SyncLoop>,
    pub crashes: usize,
}

impl Device {
    pub fn engine(&self) -> anyhow::Result<&SyncEngine> {
        self.engine.as_ref().context("device engine not open")
    }

    pub fn cache_path(&self) -> &Path {
        &self.cache_path
    }

    /// Opens the cache file and starts a sync loop on it.
    async fn open(&mut self) -> anyhow::Result<()> {
        let cache = Cache::open(&self.cache_path).await?;
        let (_, client) = aisle_sync::device_client(&cache, &self.tokens).await?;
        let engine = SyncEngine::new(cache, client, self.config.clone()).await?;
        self.running = Some(engine.start()?);
        self.engine = Some(engine);
        Ok(())
    }

    /// The device process dies: its sync loop is aborted wherever it is
    /// (maybe between a push and the recording of its answer, or inside a
    /// pull), and the cache is dropped without being closed.
    async fn crash_and_restart(&mut self) -> anyhow::Result<()> {
        drop(self.running.take());
        drop(self.engine.take());
        self.crashes += 1;
        self.open().await
    }

    async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

/// The two stores of the day and the SKUs their customers favour.
struct Shop {
    stores: [String; 2],
    /// Per store: SKUs with stock there (the "hot" shelf of the day).
    hot: [Vec<String>; 2],
    /// The delta feed that makes the first hot SKUs exclusive to a store.
    feed: String,
}

/// Hot SKUs per store, of which the first `EXCLUSIVE` only it holds.
const HOT_SKUS: usize = 12;
const EXCLUSIVE: usize = 6;

fn shop(seed: u64) -> anyhow::Result<Shop> {
    let demo = oms_domain::demo::network(DEMO_SEED, DemoSize::Small);
    let stores: Vec<String> = demo
        .network
        .locations
        .iter()
        .filter(|l| {
            l.kind == LocationKind::Store
                && l.capabilities.express_click_and_collect
                && l.capabilities.ship_from_store
                && l.capabilities.accept_returns
        })
        .map(|l| l.id.as_str().to_owned())
        .collect();
    if stores.len() < 2 {
        bail!("the demo has fewer than two stores that ship and prepare express orders");
    }
    let mut rng = SplitMix64::new(seed ^ 0x5709E);
    let first = rng.below(stores.len() as u64) as usize;
    let second = (first + 1 + rng.below(stores.len() as u64 - 1) as usize) % stores.len();
    let chosen = [stores[first].clone(), stores[second].clone()];
    let mut hot: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for (i, store) in chosen.iter().enumerate() {
        let mut held: Vec<String> = demo
            .stock_rows()
            .filter(|r| r.location.as_str() == store && r.on_hand > 0)
            .map(|r| r.sku.as_str().to_owned())
            .filter(|sku| !hot[0].contains(sku))
            .collect();
        held.sort();
        for _ in 0..HOT_SKUS.min(held.len()) {
            let at = rng.below(held.len() as u64) as usize;
            hot[i].push(held.swap_remove(at));
        }
    }
    // The first EXCLUSIVE hot SKUs of each store are stocked nowhere else
    // (a delta feed before the day): their home deliveries ship from the
    // store's shelf, so its queue has work at any hour (express click &
    // collect only while the store is open).
    let mut feed = String::from("location,sku,delta\n");
    for (i, store) in chosen.iter().enumerate() {
        for sku in hot[i].iter().take(EXCLUSIVE) {
            for row in demo.stock_rows().filter(|r| r.sku.as_str() == sku) {
                if row.location.as_str() != store && row.on_hand > 0 {
                    feed.push_str(&format!("{},{sku},-{}\n", row.location, row.on_hand));
                }
            }
            feed.push_str(&format!("{store},{sku},25\n"));
        }
    }
    if std::env::var_os("AISLE_SIM_VERBOSE").is_some() {
        println!("stores {chosen:?} hot {hot:?}");
    }
    Ok(Shop {
        stores: chosen,
        hot,
        feed,
    })
}

/// Runs one seed end to end and checks the invariants. `Err` carries every
/// violation found, with the replay line.
pub async fn run(config: &SimConfig) -> anyhow::Result<SimReport> {
    let started = Instant::now();
    let seed = config.seed;
    let dir = tempfile::tempdir()?;
    let binary = server::server_binary()?;
    let database = dir.path().join("oms.sqlite");
    let admin_token = format!("sim-admin-{seed:016x}-0123456789abcdef");
    let mut server = Server::start(&binary, &database, &admin_token).await?;
    let proxy = Proxy::start(seed).await?;
    proxy.set_upstream(Some(server.url.clone()));
    let admin = OmsClient::new(&proxy.url)?.with_token(admin_token.clone());
    let shop = shop(seed)?;
    let fed = admin
        .stock_feed(
            &oms_api::wire::FeedQuery {
                format: oms_api::wire::FeedFormat::Csv,
                mode: oms_api::wire::FeedMode::Delta,
                job: None,
            },
            shop.feed.clone(),
        )
        .await?;
    if fed.status != oms_api::wire::FeedStatus::Applied {
        bail!("the start-of-day stock feed was not applied: {fed:?}");
    }
    // The ledger starts from the server's stock after that feed.
    let mut initial = HashMap::new();
    for sku in shop.hot.iter().flatten() {
        for level in admin.sku_stock(sku).await?.levels {
            initial.insert((level.location, level.sku), (level.on_hand, level.reserved));
        }
    }

    // Three devices: two tills in the first store, one in the second.
    let mut devices = Vec::new();
    for index in 0..3 {
        let store = shop.stores[usize::from(index == 2)].clone();
        let label = format!("sim{index}");
        let code = admin
            .create_pairing_code(&NewPairingCode {
                store: store.clone(),
                role: Role::StoreAssociate,
            })
            .await?;
        let cache_path = dir.path().join(format!("{label}.sqlite"));
        let cache = Cache::open(&cache_path).await?;
        let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
        let info = aisle_sync::pair(&proxy.url, &code.code, &label, &cache, &tokens).await?;
        cache.close().await;
        let mut rng = SplitMix64::new(seed.wrapping_add(index as u64 * 7919));
        let mut device = Device {
            index,
            label,
            store,
            device_id: info.device_id,
            cache_path,
            tokens,
            config: SyncConfig {
                page_size: 5_000,
                push_batch: rng.between(1, 25) as usize,
                interval: Duration::from_millis(150),
                backoff_base: Duration::from_millis(20),
                backoff_max: Duration::from_millis(400),
            },
            engine: None,
            running: None,
            crashes: 0,
        };
        device.open().await?;
        // The first full pull, before the day starts.
        device.engine()?.sync_once().await?;
        devices.push(device);
    }

    // The day: faults on, devices act, the server dies now and then.
    proxy.set_faults(true);
    let done = Arc::new(AtomicUsize::new(0));
    let total = config.actions_per_device * devices.len();
    let mut tasks = Vec::new();
    let shop = Arc::new(shop);
    for device in devices {
        let done = Arc::clone(&done);
        let admin = admin.clone();
        let shop = Arc::clone(&shop);
        let config = config.clone();
        tasks.push(tokio::spawn(async move {
            day(device, &config, &shop, &admin, &done).await
        }));
    }
    let mut kill_rng = SplitMix64::new(seed ^ 0x000D_EAD9);
    let mut kill_points: Vec<(usize, u64)> = (0..config.server_kills)
        .map(|_| {
            (
                total * kill_rng.between(10, 90) as usize / 100,
                kill_rng.between(100, 900),
            )
        })
        .collect();
    kill_points.sort_unstable();
    let mut kills = 0;
    for (at, down_ms) in kill_points {
        while done.load(Ordering::SeqCst) < at && !tasks.iter().all(|t| t.is_finished()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        proxy.set_upstream(None);
        server.kill9().await;
        kills += 1;
        tokio::time::sleep(Duration::from_millis(down_ms)).await;
        server = Server::start(&binary, &database, &admin_token)
            .await
            .context("restarting the server after kill -9")?;
        proxy.set_upstream(Some(server.url.clone()));
    }
    let mut devices = Vec::new();
    let mut by_kind: std::collections::BTreeMap<String, usize> = Default::default();
    for task in tasks {
        let (device, kinds) = task.await.context("a device task panicked")??;
        for (kind, n) in kinds {
            *by_kind.entry(kind).or_default() += n;
        }
        devices.push(device);
    }

    // Quiescence: no more faults; every device pushes all and pulls all.
    proxy.set_faults(false);
    for device in &mut devices {
        device.stop().await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    for _round in 0..2 {
        for device in &devices {
            let engine = device.engine()?;
            loop {
                match engine.sync_once().await {
                    Ok(_) if engine.cache().counts().await?.outbox_pending == 0 => break,
                    Ok(_) => {}
                    Err(error @ SyncError::MutationGap { .. }) => bail!(
                        "BUG: device {} got a mutation gap after faults stopped: {error}\n{}",
                        device.label,
                        replay_hint(seed)
                    ),
                    Err(error) if Instant::now() > deadline => bail!(
                        "device {} did not reach quiescence: {error}\n{}",
                        device.label,
                        replay_hint(seed)
                    ),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
    }

    let mut report = SimReport {
        seed,
        actions: done.load(Ordering::SeqCst),
        by_kind,
        server_kills: kills,
        device_crashes: devices.iter().map(|d| d.crashes).sum(),
        faults: proxy.stats().summary(),
        ..SimReport::default()
    };
    let raw = RawClient::new(&proxy.url, &admin_token)?;
    let violations =
        invariants::check(&devices, &admin, &raw, &shop.stores, &initial, &mut report).await?;
    report.elapsed = started.elapsed();
    server.kill9().await;
    if !violations.is_empty() {
        bail!(
            "{} invariant violation(s) for seed {seed}:\n- {}\n{report}\n{}",
            violations.len(),
            violations.join("\n- "),
            replay_hint(seed),
        );
    }
    Ok(report)
}

/// GETs the typed client has no method for, with the admin token.
pub struct RawClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl RawClient {
    fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            base: base.to_owned(),
            token: token.to_owned(),
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        if !status.is_success() {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }
}

/// One device's day: `actions_per_device` actions, each enqueued (durable
/// at once) while the sync loop pushes and pulls through the faulty proxy.
async fn day(
    mut device: Device,
    config: &SimConfig,
    shop: &Shop,
    admin: &OmsClient,
    done: &AtomicUsize,
) -> anyhow::Result<(Device, HashMap<String, usize>)> {
    let mut rng = SplitMix64::new(
        config
            .seed
            .wrapping_mul(0x9E37)
            .wrapping_add(device.index as u64),
    );
    let store_at = usize::from(device.store != shop.stores[0]);
    let hot = &shop.hot[store_at];
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for action in 0..config.actions_per_device {
        // A fixed number of draws per action, so the schedule (crash
        // points, what each action means to do, pacing) is the seed's alone;
        // only its resolution against the cache depends on timing.
        let crash = rng.below(1000) < config.device_crash_per_mille;
        let draw = Draw {
            roll: rng.below(100),
            pick: rng.next_u64(),
            second: rng.next_u64(),
            third: rng.next_u64(),
        };
        let pause = rng.between(20, 100);
        if crash {
            device.crash_and_restart().await?;
        }
        let intent = choose(&device, &draw, hot, admin, action).await?;
        let kind = serde_json::to_value(&intent)?["kind"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        device.engine()?.enqueue(intent).await?;
        *kinds.entry(kind).or_default() += 1;
        done.fetch_add(1, Ordering::SeqCst);
        // Store staff take a moment between two actions.
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    Ok((device, kinds))
}

/// The random values one action may use.
struct Draw {
    roll: u64,
    pick: u64,
    second: u64,
    third: u64,
}

fn nth<T>(items: &[T], value: u64) -> &T {
    &items[(value % items.len() as u64) as usize]
}

fn sale(draw: &Draw, hot: &[String]) -> anyhow::Result<Intent> {
    let sku = nth(hot, draw.third);
    Ok(serde_json::from_value(
        json!({"kind": "carry_out_sale", "args": {
            "lines": [{"sku": sku, "quantity": 1 + (draw.second >> 8) % 3}]
        }}),
    )?)
}

/// The next action of a device, resolved against what its cache shows
/// (possibly stale: the core may refuse it, which is part of the test).
async fn choose(
    device: &Device,
    draw: &Draw,
    hot: &[String],
    admin: &OmsClient,
    action: usize,
) -> anyhow::Result<Intent> {
    let cache = device.engine()?.cache();
    let (roll, pick, second) = (draw.roll, draw.pick, draw.second);
    if roll < 35 {
        return sale(draw, hot);
    }
    if roll < 60 {
        // Home delivery favours the SKUs only this store holds (first in
        // the hot list).
        let sku = if pick % 10 >= 5 {
            nth(&hot[..hot.len().min(EXCLUSIVE)], draw.third)
        } else {
            nth(hot, draw.third)
        };
        // One order in ten asks for more than exists anywhere: refused
        // when it reaches the core, with a task for the store.
        let quantity = if second.is_multiple_of(10) {
            5_000
        } else {
            1 + second % 2
        };
        let customer = format!("Sim {} {} {action}", device.label, pick % 100_000);
        // Express click & collect is prepared from the store's own shelf
        // (its queue); click & collect is sent from elsewhere; home
        // delivery may ship from a store.
        let destination = if pick % 10 < 3 {
            json!({"delivery": "express_click_and_collect", "destination": {"pickup_store": device.store}})
        } else if pick % 10 < 5 {
            json!({"delivery": "click_and_collect", "destination": {"pickup_store": device.store}})
        } else {
            let address = if device.store.starts_with("ST-DE") {
                json!({"coordinates": {"lat": 52.52, "lon": 13.405},
                    "postal_code": "10117", "country": "DE", "carrier_zone": "DE-E"})
            } else {
                json!({"coordinates": {"lat": 48.857, "lon": 2.372},
                    "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"})
            };
            json!({"delivery": "home_delivery", "destination": {"address": address}})
        };
        let mut args = json!({
            "channel": "stores",
            "customer": {"name": customer, "email": format!("{}-{action}@example.com", device.label)},
            "lines": [{"sku": sku, "quantity": quantity}],
            "payment": "in_store",
        });
        if let (Some(args), Some(more)) = (args.as_object_mut(), destination.as_object()) {
            args.extend(more.clone());
        }
        return Ok(serde_json::from_value(
            json!({"kind": "place_order", "args": args}),
        )?);
    }
    let fulfilments = cache.fulfilments(&device.store).await?;
    if roll < 88 {
        let open: Vec<_> = fulfilments
            .iter()
            .filter(|f| f.pending_step.is_none())
            .filter(|f| {
                matches!(
                    f.fulfilment.status,
                    FulfilmentStatus::AwaitingPreparation
                        | FulfilmentStatus::InPreparation
                        | FulfilmentStatus::ReadyForPickup
                        | FulfilmentStatus::ReadyToShip
                        | FulfilmentStatus::InTransitToStore
                )
            })
            .collect();
        if open.is_empty() {
            return sale(draw, hot);
        }
        let f = &open[(pick % open.len() as u64) as usize].fulfilment;
        let step = match f.status {
            FulfilmentStatus::AwaitingPreparation => json!({"type": "start_preparation"}),
            FulfilmentStatus::InPreparation => json!({"type": "mark_ready"}),
            FulfilmentStatus::ReadyToShip => json!({"type": "ship"}),
            FulfilmentStatus::InTransitToStore => json!({"type": "receive_at_store"}),
            _ => {
                // The customer shows the code they were sent; one in ten
                // mistypes it (refused, nothing handed over).
                let code = if second.is_multiple_of(10) {
                    Some("000000".to_owned())
                } else {
                    pickup_code(admin, f.order.as_str()).await
                };
                match code {
                    Some(code) => json!({"type": "hand_over", "pickup_code": code}),
                    None => return sale(draw, hot),
                }
            }
        };
        return Ok(serde_json::from_value(
            json!({"kind": "fulfilment_step", "args": {
                "fulfilment": f.id, "step": step
            }}),
        )?);
    }
    if roll < 96 {
        let done: Vec<_> = fulfilments
            .iter()
            .filter(|f| {
                matches!(
                    f.fulfilment.status,
                    FulfilmentStatus::PickedUp | FulfilmentStatus::Shipped
                )
            })
            .collect();
        if done.is_empty() {
            return sale(draw, hot);
        }
        let f = &done[(pick % done.len() as u64) as usize].fulfilment;
        let Some(line) = f.lines.first() else {
            return sale(draw, hot);
        };
        let condition = if second.is_multiple_of(4) {
            "damaged"
        } else {
            "resaleable"
        };
        return Ok(serde_json::from_value(
            json!({"kind": "receive_return", "args": {
                "order": f.order,
                "receive": {"location": device.store, "lines": [{
                    "line": line.line, "quantity": 1, "reason": "changed_mind", "condition": condition
                }]}
            }}),
        )?);
    }
    let orders: Vec<_> = cache
        .orders(500)
        .await?
        .into_iter()
        .filter(|o| !o.id.starts_with("pending-") && o.pending_mutation_id.is_none())
        .collect();
    if orders.is_empty() {
        return sale(draw, hot);
    }
    let order = &orders[(pick % orders.len() as u64) as usize];
    Ok(serde_json::from_value(
        json!({"kind": "cancel_order", "args": {
            "order": order.id, "cancel": {"reason": "customer changed their mind"}
        }}),
    )?)
}

/// The pickup code the customer was sent (from the order's notifications;
/// the simulation plays the customer). Retries through the faulty proxy.
async fn pickup_code(admin: &OmsClient, order: &str) -> Option<String> {
    for _ in 0..40 {
        if let Ok(notifications) = admin.order_notifications(order).await {
            return notifications
                .iter()
                .rev()
                .filter(|n| n.status == Some(oms_api::wire::CustomerStatus::ReadyToPickUp))
                .find_map(|n| six_digits(&n.body).or_else(|| six_digits(&n.subject)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn six_digits(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .map(str::to_owned)
}

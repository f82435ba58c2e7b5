//! oms-server: the Aisle OMS core as a library.
//!
//! [`open`] prepares the state (database, migrations, demo seed, stock
//! index); [`serve`] runs the HTTP API on any listener until a shutdown
//! future resolves. The binary, the app's sidecar and the tests all start the
//! server this way.

pub mod auth;
pub mod customers;
pub mod demo_template;
pub mod feed;
pub mod http;
pub mod jobs;
pub mod label;
pub mod notify;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod receipt;
pub mod stock_cache;
pub mod storage;
pub mod store_returns;
pub mod sync;

use oms_domain::demo::{self, DemoSize};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use uuid::Uuid;

pub use outbox::OutboxConfig;
pub use stock_cache::{CacheError, StockCache};
pub use storage::{Backend, DatabaseLocation, Footprint, SeedRecord, Storage, StorageError};

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseLocation,
    /// Seed the demo retailer into an empty database.
    pub demo: Option<DemoSpec>,
    /// A pre-seeded copy of that demo to start from when the database does
    /// not exist yet (see [`demo_template`]).
    pub demo_template: Option<demo_template::DemoTemplate>,
    /// A token registered as an admin token at start (idempotent). How the
    /// app authenticates to its sidecar, and how an operator gets the first
    /// token of a new server. Never logged.
    pub bootstrap_admin_token: Option<String>,
    /// Where and how the outbox (webhooks, notifications, payments) is
    /// delivered; the default delivers nothing but keeps it all pending.
    pub outbox: OutboxConfig,
    /// How much memory the database connections may keep.
    pub footprint: Footprint,
}

/// Which demo retailer to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSpec {
    pub size: DemoSize,
    pub seed: u64,
}

/// Shared by every request.
#[derive(Debug, Clone)]
pub struct AppState {
    pub storage: Storage,
    /// The in-memory stock index that answers ATP.
    pub stock: Arc<StockCache>,
    /// Progress of the jobs (stock feeds) running in this instance.
    pub jobs: Arc<jobs::JobRegistry>,
    /// New at every start; `/health` reports it.
    pub instance_id: Uuid,
    /// Recently verified API tokens.
    pub tokens: Arc<http::TokenCache>,
    /// The outbox's delivery setup; `serve` runs its workers.
    pub outbox: Arc<outbox::Outbox>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    StockIndex(#[from] CacheError),
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxSetupError),
    #[error("cannot hash the demo staff's PINs: {0}")]
    DemoStaff(String),
    #[error("demo template: {0}")]
    DemoTemplate(String),
    #[error(
        "the database was seeded with the {existing} demo (seed {existing_seed}); refusing to mix in the {requested} demo (seed {requested_seed}): use another database"
    )]
    DemoMismatch {
        existing: String,
        existing_seed: u64,
        requested: String,
        requested_seed: u64,
    },
}

/// Opens the database, migrates it, seeds the demo retailer if asked and not
/// done yet, and builds the stock index.
pub async fn open(config: &Config) -> Result<AppState, StartError> {
    let outbox = Arc::new(outbox::Outbox::new(config.outbox.clone())?);
    if let (Some(spec), Some(template), DatabaseLocation::SqliteFile(path)) =
        (config.demo, &config.demo_template, &config.database)
    {
        let started = Instant::now();
        if demo_template::install(path, spec, template).await? {
            tracing::info!(
                template = %template.path.display(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "demo database copied from its template"
            );
        }
    }
    let storage = Storage::open_with(&config.database, config.footprint).await?;
    if let Some(spec) = config.demo {
        seed_demo(&storage, spec).await?;
    }
    if let Some(token) = &config.bootstrap_admin_token {
        let caller = auth::Caller {
            role: auth::Role::Admin,
            store: None,
            label: "bootstrap admin".to_owned(),
            device: None,
        };
        let now = jiff::Timestamp::now().as_millisecond();
        storage
            .insert_token(&auth::hash_secret(token), &caller, now)
            .await?;
    }
    let stock = StockCache::load(&storage).await?;
    Ok(AppState {
        storage,
        stock,
        jobs: Arc::default(),
        instance_id: Uuid::new_v4(),
        tokens: Arc::default(),
        outbox,
    })
}

async fn seed_demo(storage: &Storage, spec: DemoSpec) -> Result<(), StartError> {
    let requested = SeedRecord {
        size: size_name(spec.size).to_owned(),
        seed: spec.seed,
    };
    match storage.seed_record().await? {
        Some(existing) if existing == requested => {
            tracing::info!(size = %existing.size, seed = existing.seed, "demo data already present");
            seed_demo_rule_sets(storage).await?;
            seed_demo_staff(storage, spec).await
        }
        Some(existing) => Err(StartError::DemoMismatch {
            existing: existing.size,
            existing_seed: existing.seed,
            requested: requested.size,
            requested_seed: requested.seed,
        }),
        None => {
            let started = Instant::now();
            let products = demo::catalogue(spec.seed, spec.size);
            let network = demo::network(spec.seed, spec.size);
            storage
                .seed_catalogue(&products, &network, &requested)
                .await?;
            tracing::info!(
                products = products.len(),
                locations = network.network.locations.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "demo data seeded"
            );
            seed_demo_rule_sets(storage).await?;
            seed_demo_staff(storage, spec).await
        }
    }
}

/// The demo's rule sets, active, for channels that have none (also on
/// databases seeded before rule sets existed).
async fn seed_demo_rule_sets(storage: &Storage) -> Result<(), StartError> {
    let sets = demo::rule_sets()
        .iter()
        .map(|set| {
            serde_json::to_string(set)
                .map(|document| (set.channel.as_str().to_owned(), document))
                .map_err(StorageError::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    storage
        .ensure_rule_sets(&sets, jiff::Timestamp::now().as_millisecond())
        .await?;
    Ok(())
}

/// The demo stores' staff PIN of a manager (README "Demo staff").
pub const DEMO_MANAGER_PIN: &str = "1234";
/// The demo stores' staff PIN of an associate.
pub const DEMO_ASSOCIATE_PIN: &str = "4321";

const DEMO_MANAGERS: [&str; 6] = [
    "Camille Laurent",
    "Julia Becker",
    "Marc Dubois",
    "Lena Hoffmann",
    "Hugo Martin",
    "Sophie Weber",
];
const DEMO_ASSOCIATES: [&str; 6] = [
    "Inès Moreau",
    "Noah Schmidt",
    "Léa Bernard",
    "Paul Fischer",
    "Chloé Petit",
    "Max Wagner",
];

/// A manager and an associate for each demo store, so that the embedded
/// demo can sign in out of the box: ids `STAFF-<store>-M` and `-A`, PINs
/// [`DEMO_MANAGER_PIN`] and [`DEMO_ASSOCIATE_PIN`]. Only when no staff exist
/// yet (also on databases seeded before staff existed). The demo PINs are
/// public, so one salted hash per PIN serves every store (two Argon2id
/// hashes instead of one per member).
async fn seed_demo_staff(storage: &Storage, spec: DemoSpec) -> Result<(), StartError> {
    use oms_api::wire::{Role, StaffMember};
    if storage.has_staff().await? {
        return Ok(());
    }
    let hash = |pin: &'static str| async move {
        tokio::task::spawn_blocking(move || auth::hash_pin(pin))
            .await
            .map_err(|e| StartError::DemoStaff(e.to_string()))?
            .map_err(StartError::DemoStaff)
    };
    let manager_hash = hash(DEMO_MANAGER_PIN).await?;
    let associate_hash = hash(DEMO_ASSOCIATE_PIN).await?;
    let network = demo::network(spec.seed, spec.size);
    let stores = network
        .network
        .locations
        .iter()
        .filter(|l| l.kind == oms_domain::model::LocationKind::Store);
    let mut members = Vec::new();
    for (i, store) in stores.enumerate() {
        let id = store.id.as_str();
        members.push((
            StaffMember {
                id: format!("STAFF-{id}-M"),
                store: id.to_owned(),
                name: DEMO_MANAGERS[i % DEMO_MANAGERS.len()].to_owned(),
                role: Role::StoreManager,
            },
            manager_hash.clone(),
        ));
        members.push((
            StaffMember {
                id: format!("STAFF-{id}-A"),
                store: id.to_owned(),
                name: DEMO_ASSOCIATES[i % DEMO_ASSOCIATES.len()].to_owned(),
                role: Role::StoreAssociate,
            },
            associate_hash.clone(),
        ));
    }
    storage
        .insert_staff_batch(&members, jiff::Timestamp::now().as_millisecond())
        .await?;
    tracing::info!(members = members.len(), "demo staff seeded");
    Ok(())
}

fn size_name(size: DemoSize) -> &'static str {
    match size {
        DemoSize::Small => "small",
        DemoSize::Large => "large",
    }
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes the
/// requests in flight. Also follows the database's stock changes and runs
/// the outbox workers meanwhile.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let follower = state.stock.follow(state.storage.clone());
    let workers = outbox::start(state.storage.clone(), state.outbox.clone());
    let result = axum::serve(listener, http::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    follower.abort();
    workers.stop(std::time::Duration::from_secs(5)).await;
    result
}

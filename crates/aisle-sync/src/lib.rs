//! The Aisle app's side of the system, without any window.
//!
//! - [`sidecar`]: finding and starting the OMS core the app talks to — the
//!   bundled sidecar or a central server — and checking that the server
//!   answering is the one we started.
//! - [`cache`]: the local SQLite cache (catalogue with full-text search,
//!   network, the store's stock, orders, fulfilments, tasks, the cursor).
//! - [`outbox`]: intents queued on the device with their optimistic effect.
//! - [`pull`] and [`push`]: the two halves of the sync protocol (DESIGN.md
//!   "Sync between the app and the core").
//! - [`engine`]: the one background loop, its state as a `watch`.
//! - [`secrets`]: pairing, and the device token in the OS keyring.
//!
//! Typical use by the app:
//! ```no_run
//! # async fn demo(code: &str) -> Result<(), aisle_sync::SyncError> {
//! use std::sync::Arc;
//! use aisle_sync::{Cache, KeyringTokenStore, SyncConfig, SyncEngine, TokenStore};
//! let cache = Cache::open("cache.sqlite".as_ref()).await?;
//! let tokens: Arc<dyn TokenStore> = Arc::new(KeyringTokenStore::new());
//! aisle_sync::pair("http://127.0.0.1:8080", code, "Till 2", &cache, &tokens).await?;
//! let (_device, client) = aisle_sync::device_client(&cache, &tokens).await?;
//! let engine = SyncEngine::new(cache, client, SyncConfig::default()).await?;
//! let running = engine.start()?; // keep it: dropping it stops the loop
//! let status = engine.status(); // watch::Receiver<SyncStatus>
//! # drop((running, status)); Ok(()) }
//! ```

pub mod cache;
pub mod engine;
pub mod error;
pub mod outbox;
pub mod pull;
pub mod push;
pub mod secrets;
pub mod sidecar;

pub use cache::{
    Cache, CacheCounts, CachedFulfilment, CachedOrder, CachedStock, DeviceInfo, ProductFacets,
    ProductFilter, ProductSearchPage, SyncPosition,
};
pub use engine::{Connectivity, SyncConfig, SyncEngine, SyncLoop, SyncStatus, SyncSummary};
pub use error::SyncError;
pub use outbox::{OutboxEntry, OutboxStatus};
pub use pull::{PullOutcome, PullProgress, pull};
pub use push::{PushReport, push};
pub use secrets::{
    DeviceToken, KeyringTokenStore, MemoryTokenStore, TokenStore, TokenStoreError, device_client,
    pair, rebind,
};
pub use sidecar::{Sidecar, SidecarError, SidecarOptions};

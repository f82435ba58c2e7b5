//! Shared by the sync integration tests: the real `oms-server` binary with
//! the small demo, and a device paired to one of its stores.

#![allow(clippy::unwrap_used, dead_code)] // test helpers panic on purpose

use aisle_sync::{Cache, DeviceInfo, MemoryTokenStore, Sidecar, SidecarOptions, TokenStore};
use oms_api::OmsClient;
use oms_api::wire::{NewPairingCode, Role};
use oms_domain::demo::DemoSize;
use oms_domain::model::LocationKind;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const SEED: u64 = 5;

pub fn server_binary() -> PathBuf {
    // target/debug/deps/<this test> → target/debug/oms-server
    let exe = std::env::current_exe().unwrap();
    let binary = exe.parent().unwrap().parent().unwrap().join("oms-server");
    assert!(
        binary.is_file(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        binary.display()
    );
    binary
}

/// The real server with the small demo, in `dir`.
pub async fn start_server(dir: &tempfile::TempDir) -> Sidecar {
    Sidecar::start(&SidecarOptions {
        binary: server_binary(),
        database: dir.path().join("oms.sqlite"),
        demo: Some("small".to_owned()),
        seed: SEED,
        start_timeout: Duration::from_secs(120),
    })
    .await
    .unwrap()
}

/// The demo's first store and how many stock rows it has.
pub fn demo_store() -> (String, usize) {
    let demo = oms_domain::demo::network(SEED, DemoSize::Small);
    let store = demo
        .network
        .locations
        .iter()
        .find(|l| l.kind == LocationKind::Store)
        .unwrap()
        .id
        .clone();
    let rows = demo.stock_rows().filter(|r| r.location == store).count();
    (store.as_str().to_owned(), rows)
}

pub fn demo_counts() -> (usize, usize, usize) {
    let demo = oms_domain::demo::network(SEED, DemoSize::Small);
    (
        demo.products.len(),
        demo.network.locations.len(),
        demo.network.channels.len(),
    )
}

pub struct Device {
    pub cache: Cache,
    pub tokens: Arc<dyn TokenStore>,
    pub info: DeviceInfo,
    pub client: OmsClient,
}

/// A new cache in `dir/name`, paired as an associate device of `store`.
pub async fn paired_device(
    admin: &OmsClient,
    store: &str,
    dir: &tempfile::TempDir,
    name: &str,
) -> Device {
    let code = admin
        .create_pairing_code(&NewPairingCode {
            store: store.to_owned(),
            role: Role::StoreAssociate,
        })
        .await
        .unwrap();
    let cache = Cache::open(&dir.path().join(name)).await.unwrap();
    let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let url = admin.base_url().as_str().to_owned();
    let info = aisle_sync::pair(&url, &code.code, name, &cache, &tokens)
        .await
        .unwrap();
    let (_, client) = aisle_sync::device_client(&cache, &tokens).await.unwrap();
    Device {
        cache,
        tokens,
        info,
        client,
    }
}

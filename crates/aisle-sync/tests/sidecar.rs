//! Starting the real `oms-server` binary as the app's sidecar.
//!
//! Needs the workspace built (`cargo xtask test` builds it before testing):
//! the binary is looked up in the same target directory as this test.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use aisle_sync::{Sidecar, SidecarError, SidecarOptions};
use oms_api::wire::ProductQuery;
use std::path::PathBuf;
use std::time::Duration;

fn server_binary() -> PathBuf {
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

fn options(dir: &tempfile::TempDir) -> SidecarOptions {
    SidecarOptions {
        binary: server_binary(),
        database: dir.path().join("oms.sqlite"),
        demo: Some("small".to_owned()),
        seed: 5,
        start_timeout: Duration::from_secs(60),
    }
}

fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn starts_a_healthy_seeded_server_and_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = Sidecar::start(&options(&dir)).await.unwrap();
    let pid = sidecar.pid().unwrap();
    assert!(is_running(pid));

    let health = sidecar.client().health().await.unwrap();
    assert_eq!(health.instance_id, sidecar.instance_id());
    let page = sidecar
        .client()
        .products(&ProductQuery {
            q: Some("SKU-000001".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    sidecar.stop(Duration::from_secs(5)).await;
    assert!(!is_running(pid), "the sidecar exited");
}

#[tokio::test]
async fn two_sidecars_never_share_a_port() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Sidecar::start(&options(&a)).await.unwrap();
    let second = Sidecar::start(&options(&b)).await.unwrap();
    assert_ne!(first.client().base_url(), second.client().base_url());
    assert_ne!(first.instance_id(), second.instance_id());
}

#[tokio::test]
async fn a_missing_binary_is_reported_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = options(&dir);
    options.binary = dir.path().join("no-such-server");
    let error = Sidecar::start(&options).await.unwrap_err();
    assert!(matches!(error, SidecarError::NotFound(_)), "{error}");
}

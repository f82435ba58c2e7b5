//! The embedded sidecar answers at another URL, or dies and is started
//! again on the same port and database: the device keeps its pairing, its
//! cache and its outbox (`aisle_sync::rebind`, `Sidecar::start_on`).
//!
//! Needs the workspace built (`cargo xtask test` builds it before testing).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use aisle_sync::secrets::account_for;
use aisle_sync::{Sidecar, SidecarOptions};
use oms_api::wire::{CarryOutSale, Intent, PlaceOrderLine, Sku};
use oms_domain::model::Quantity;

#[tokio::test]
async fn a_device_follows_its_sidecar_to_another_url_and_through_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = common::start_server(&dir).await;
    let (store, _) = common::demo_store();
    let device = common::paired_device(server.client(), &store, &dir, "till.sqlite").await;
    aisle_sync::pull(&device.client, &device.cache, 5_000, |_| {
        std::ops::ControlFlow::Continue(())
    })
    .await
    .unwrap();
    let cursor = device.cache.position().await.unwrap().cursor;
    assert!(cursor.is_some());
    let queued = device
        .cache
        .enqueue(Intent::CarryOutSale(CarryOutSale {
            lines: vec![PlaceOrderLine {
                sku: Sku::parse("SKU-000001").unwrap(),
                quantity: Quantity::new(1),
            }],
            sold_at: None,
        }))
        .await
        .unwrap();

    // Same server, another URL: the token moves, the cache stays.
    let url = server.client().base_url().clone();
    let port = url.port().unwrap();
    let other = format!("http://localhost:{port}");
    let moved = aisle_sync::rebind(&other, &device.cache, &device.tokens)
        .await
        .unwrap()
        .expect("rebound");
    assert_eq!(moved.device_id, device.info.device_id);
    assert_eq!(moved.server_url, account_for(&other));
    assert!(device.tokens.load(&account_for(&other)).unwrap().is_some());
    assert!(
        device
            .tokens
            .load(&device.info.server_url)
            .unwrap()
            .is_none()
    );
    assert_eq!(device.cache.position().await.unwrap().cursor, cursor);
    assert_eq!(device.cache.counts().await.unwrap().outbox_pending, 1);
    let (_, client) = aisle_sync::device_client(&device.cache, &device.tokens)
        .await
        .unwrap();
    assert_eq!(
        client.me().await.unwrap().device_id.as_deref(),
        Some(device.info.device_id.as_str())
    );

    // Killed, then started again on the same port and database.
    assert!(!server.exited());
    let options = SidecarOptions {
        binary: common::server_binary(),
        database: dir.path().join("oms.sqlite"),
        demo: Some("small".to_owned()),
        seed: common::SEED,
        start_timeout: Duration::from_secs(120),
    };
    server.stop(Duration::from_secs(10)).await;
    let restarted = Sidecar::start_on(&options, &format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(restarted.client().base_url(), &url);
    let same = aisle_sync::rebind(&other, &device.cache, &device.tokens)
        .await
        .unwrap()
        .expect("still paired");
    assert_eq!(same.device_id, device.info.device_id);
    aisle_sync::push(&client, &device.cache, &device.info.device_id, 500)
        .await
        .unwrap();
    assert_eq!(queued, 1);
    assert_eq!(device.cache.counts().await.unwrap().outbox_pending, 0);

    // A cache whose token is gone has nothing to rebind: pair again.
    device.tokens.delete(&account_for(&other)).unwrap();
    assert!(
        aisle_sync::rebind(&other, &device.cache, &device.tokens)
            .await
            .unwrap()
            .is_none()
    );
}

//! Local writes and push against the real `oms-server` binary with the small
//! demo: a carry-out sale queued offline, pushed, retried (applied once), a
//! refusal kept for staff, a mutation gap surfaced, and the sync engine's
//! loop and status (one server for the whole file).
//!
//! Needs the workspace built (`cargo xtask test` builds it before testing).

#![allow(clippy::unwrap_used)]

mod common;

use std::ops::ControlFlow;
use std::time::Duration;

use aisle_sync::{Connectivity, OutboxStatus, SyncConfig, SyncEngine, SyncError, pull, push};
use oms_api::OmsClient;
use oms_api::wire::{
    CarryOutSale, FulfilmentStep, Intent, PlaceOrderLine, PushRequest, Quantity, Sku,
};

fn sale(sku: &str, units: u32) -> Intent {
    Intent::CarryOutSale(CarryOutSale {
        lines: vec![PlaceOrderLine {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::new(units),
        }],
        sold_at: None,
    })
}

async fn pull_all(device: &common::Device) {
    pull(&device.client, &device.cache, 5_000, |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn queued_actions_reach_the_core_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_server(&dir).await;
    let admin = server.client();
    let (store, _) = common::demo_store();
    let device = common::paired_device(admin, &store, &dir, "till-1.sqlite").await;
    pull_all(&device).await;

    // A SKU the store holds.
    let mut sku = None;
    for product in device.cache.search_products("", 200).await.unwrap() {
        if let Some(stock) = device.cache.stock(&product.sku, &store).await.unwrap()
            && stock.on_hand - stock.reserved >= 5
        {
            sku = Some((product.sku, stock.on_hand));
            break;
        }
    }
    let (sku, on_hand) = sku.unwrap();

    // Offline: the sale is durable and shows at once.
    let id = device.cache.enqueue(sale(&sku, 2)).await.unwrap();
    assert_eq!(id, 1);
    let shown = device.cache.stock(&sku, &store).await.unwrap().unwrap();
    assert_eq!((shown.on_hand, shown.pending_delta), (on_hand - 2, -2));
    assert_eq!(device.cache.counts().await.unwrap().outbox_pending, 1);

    // A pull before the push keeps the optimistic effect on top.
    pull_all(&device).await;
    let shown = device.cache.stock(&sku, &store).await.unwrap().unwrap();
    assert_eq!(shown.on_hand, on_hand - 2);

    // Push: applied, recorded.
    let report = push(&device.client, &device.cache, &device.info.device_id, 500)
        .await
        .unwrap();
    assert_eq!(
        (report.applied, report.refused, report.last_applied),
        (1, 0, 1)
    );
    let entry = device.cache.outbox(10).await.unwrap().remove(0);
    assert_eq!(entry.status, OutboxStatus::Applied);
    assert!(entry.result_status.unwrap() < 400);

    // The same batch again (as after a lost answer): the same result, and
    // nothing applied twice.
    let again = device
        .client
        .push(&PushRequest {
            device_id: device.info.device_id.clone(),
            mutations: vec![oms_api::wire::Mutation {
                id: 1,
                intent: entry.intent.clone(),
            }],
        })
        .await
        .unwrap();
    assert_eq!(again.last_applied, 1);
    assert_eq!(again.results.len(), 1);
    assert_eq!(Some(again.results[0].status), entry.result_status);
    assert_eq!(Some(&again.results[0].body), entry.result.as_ref());

    pull_all(&device).await;
    let shown = device.cache.stock(&sku, &store).await.unwrap().unwrap();
    assert_eq!(
        (shown.on_hand, shown.server_on_hand, shown.pending_delta),
        (on_hand - 2, on_hand - 2, 0),
        "the core took the sale once, the cache dropped its optimistic copy"
    );
    assert_eq!(device.cache.position().await.unwrap().last_mutation_id, 1);

    // Selling more than the record holds is accepted; the store gets a
    // discrepancy task through the change feed.
    let shown = device.cache.stock(&sku, &store).await.unwrap().unwrap();
    let free = u32::try_from(shown.on_hand - shown.reserved).unwrap();
    device.cache.enqueue(sale(&sku, free + 1)).await.unwrap();
    let report = push(&device.client, &device.cache, &device.info.device_id, 500)
        .await
        .unwrap();
    assert_eq!((report.applied, report.refused), (1, 0));
    pull_all(&device).await;
    let tasks = device.cache.tasks().await.unwrap();
    assert!(
        tasks
            .iter()
            .any(|t| t.sku.as_ref().map(|s| s.as_str()) == Some(sku.as_str())),
        "a discrepancy task for {sku}: {tasks:?}"
    );
    let shown = device.cache.stock(&sku, &store).await.unwrap().unwrap();
    assert_eq!(shown.pending_delta, 0);

    // A business refusal is kept for staff, with the core's words.
    let id = device
        .cache
        .enqueue(Intent::FulfilmentStep {
            fulfilment: serde_json::from_value(serde_json::json!("F-NO-SUCH")).unwrap(),
            step: FulfilmentStep::StartPreparation,
        })
        .await
        .unwrap();
    assert_eq!(id, 3);
    let report = push(&device.client, &device.cache, &device.info.device_id, 500)
        .await
        .unwrap();
    assert_eq!((report.applied, report.refused), (0, 1));
    let refused = device.cache.refused().await.unwrap();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].result_status.unwrap() >= 400);
    let message = refused[0].refusal_message().unwrap();
    assert!(!message.is_empty());
    assert_eq!(device.cache.counts().await.unwrap().outbox_refused, 1);
    device
        .cache
        .dismiss_refusal(&device.info.device_id, 3)
        .await
        .unwrap();
    assert_eq!(device.cache.counts().await.unwrap().outbox_refused, 0);

    // The sync engine: one loop, status for the app, sync now.
    let engine = SyncEngine::new(
        device.cache.clone(),
        device.client.clone(),
        SyncConfig {
            interval: Duration::from_secs(3600),
            ..SyncConfig::default()
        },
    )
    .await
    .unwrap();
    let mut status = engine.status();
    let running = engine.start().unwrap();
    assert!(matches!(engine.start(), Err(SyncError::AlreadyRunning)));
    let id = engine.enqueue(sale(&sku, 1)).await.unwrap();
    assert_eq!(id, 4);
    let settled = tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.connectivity == Connectivity::Online && s.pending == 0),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    assert!(settled.last_sync_at.is_some());
    assert_eq!(settled.refused, 0);
    running.stop().await;
    // Stopped: it may start again.
    let running = engine.start().unwrap();
    drop(running);

    // A gap between the core's record and the outbox is surfaced plainly.
    set_last_id(
        &dir.path().join("till-1.sqlite"),
        &device.info.device_id,
        50,
    )
    .await;
    let id = device.cache.enqueue(sale(&sku, 1)).await.unwrap();
    assert_eq!(id, 51);
    let error = push(&device.client, &device.cache, &device.info.device_id, 500)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SyncError::MutationGap { first_sent: 51, .. }),
        "{error}"
    );
    assert_eq!(device.cache.counts().await.unwrap().outbox_pending, 1);

    // Offline: the engine says so, and the queue stays.
    let offline = SyncEngine::new(
        device.cache.clone(),
        OmsClient::new("http://127.0.0.1:9").unwrap(),
        SyncConfig::default(),
    )
    .await
    .unwrap();
    let error = offline.sync_once().await.unwrap_err();
    assert!(error.is_offline(), "{error}");
    let status = offline.status().borrow().clone();
    assert_eq!(status.connectivity, Connectivity::Offline);
    assert_eq!(status.pending, 1);
}

/// Moves the device's mutation counter on, as if ids had been used on a
/// core that no longer remembers them.
async fn set_last_id(path: &std::path::Path, device_id: &str, last: i64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE outbox_devices SET last_mutation_id = ?1 WHERE device_id = ?2")
        .bind(last)
        .bind(device_id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

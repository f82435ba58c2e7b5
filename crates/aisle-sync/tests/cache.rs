//! The cache alone (no server): pages applied with their cursor, optimistic
//! stock on top of the core's value until a caught-up pull includes the
//! mutation, refusals undo it, and mutation ids stay gapless.

#![allow(clippy::unwrap_used)]

use aisle_sync::{Cache, DeviceInfo, OutboxStatus};
use oms_api::wire::{
    CarryOutSale, ChangePage, Intent, MutationResult, PlaceOrderLine, Quantity, Role, Sku,
};

const STORE: &str = "ST-FR-001";

async fn cache(dir: &tempfile::TempDir) -> Cache {
    let cache = Cache::open(&dir.path().join("cache.sqlite")).await.unwrap();
    cache
        .set_device(&DeviceInfo {
            server_url: "http://127.0.0.1:1".into(),
            device_id: "dev-1".into(),
            store: Some(STORE.into()),
            role: Role::StoreAssociate,
            label: "Till".into(),
            paired_at: "2026-11-26T00:00:00Z".into(),
        })
        .await
        .unwrap();
    cache
}

fn page(cursor: &str, has_more: bool, last_mutation_id: u64, on_hand: i64) -> ChangePage {
    serde_json::from_value(serde_json::json!({
        "changes": [
            {"seq": 3, "entity": "product", "data": {
                "sku": "SKU-1", "name": "Oak Table Sand", "brand": "Nordlys",
                "product_type": "standard", "barcodes": ["2000000000008"],
                "price": {"amount_minor": 1999, "currency": "EUR"}}},
            {"seq": 3, "entity": "stock", "data": {
                "sku": "SKU-1", "location": STORE, "on_hand": on_hand, "reserved": 1}}
        ],
        "cursor": cursor,
        "has_more": has_more,
        "last_mutation_id": last_mutation_id,
    }))
    .unwrap()
}

fn sale(units: u32) -> Intent {
    Intent::CarryOutSale(CarryOutSale {
        lines: vec![PlaceOrderLine {
            sku: Sku::parse("SKU-1").unwrap(),
            quantity: Quantity::new(units),
        }],
        sold_at: None,
    })
}

#[tokio::test]
async fn optimistic_stock_stays_on_top_until_the_core_includes_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = cache(&dir).await;
    cache.apply_page(&page("c1", false, 0, 10)).await.unwrap();
    assert_eq!(
        cache.position().await.unwrap().cursor.as_deref(),
        Some("c1")
    );

    assert_eq!(cache.enqueue(sale(2)).await.unwrap(), 1);
    assert_eq!(cache.enqueue(sale(1)).await.unwrap(), 2);
    let stock = cache.stock("SKU-1", STORE).await.unwrap().unwrap();
    assert_eq!(
        (stock.on_hand, stock.server_on_hand, stock.pending_delta),
        (7, 10, -3)
    );

    // A page that is not the last one: the core's mutation 1 may be in a
    // later page, so the optimistic effects stay.
    cache.apply_page(&page("c2", true, 1, 8)).await.unwrap();
    let stock = cache.stock("SKU-1", STORE).await.unwrap().unwrap();
    assert_eq!((stock.on_hand, stock.pending_delta), (5, -3));

    // Caught up with mutation 1 applied: its effect is in the core's value;
    // mutation 2's stays on top.
    cache.apply_page(&page("c3", false, 1, 8)).await.unwrap();
    let stock = cache.stock("SKU-1", STORE).await.unwrap().unwrap();
    assert_eq!((stock.on_hand, stock.pending_delta), (7, -1));
    assert_eq!(cache.position().await.unwrap().last_mutation_id, 1);

    // The core refuses mutation 2: its effect goes, the refusal stays.
    cache
        .record_results(
            "dev-1",
            &[
                MutationResult {
                    id: 1,
                    status: 201,
                    body: serde_json::json!({}),
                },
                MutationResult {
                    id: 2,
                    status: 422,
                    body: serde_json::json!({"type": "invalid-body", "title": "Invalid body", "status": 422, "detail": "no"}),
                },
            ],
        )
        .await
        .unwrap();
    let stock = cache.stock("SKU-1", STORE).await.unwrap().unwrap();
    assert_eq!((stock.on_hand, stock.pending_delta), (8, 0));
    let outbox = cache.outbox(10).await.unwrap();
    assert_eq!(outbox[0].status, OutboxStatus::Refused);
    assert_eq!(outbox[0].refusal_message().as_deref(), Some("no"));
    assert_eq!(outbox[1].status, OutboxStatus::Applied);
    assert!(
        cache
            .pending_mutations("dev-1", 500)
            .await
            .unwrap()
            .is_empty()
    );

    // Ids go on from the last one handed out, never reused.
    assert_eq!(cache.enqueue(sale(1)).await.unwrap(), 3);
    let pending = cache.pending_mutations("dev-1", 500).await.unwrap();
    assert_eq!(pending.iter().map(|m| m.id).collect::<Vec<_>>(), vec![3]);
    let Intent::CarryOutSale(queued) = &pending[0].intent else {
        panic!("a sale");
    };
    assert!(queued.sold_at.is_some(), "dated when taken");

    // Search finds the product by name prefix, SKU and barcode.
    for query in ["oak ta", "nord", "SKU-1", "2000000000008", "200000"] {
        let found = cache.search_products(query, 10).await.unwrap();
        assert_eq!(found.len(), 1, "{query}");
    }
}

#[tokio::test]
async fn answered_mutations_are_pruned_but_ids_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let cache = cache(&dir).await;
    cache.apply_page(&page("c1", false, 0, 10)).await.unwrap();
    for units in [1, 2, 3] {
        cache.enqueue(sale(units)).await.unwrap();
    }
    // 1 applied and shown by a caught-up pull, 2 refused, 3 still pending.
    cache
        .record_results(
            "dev-1",
            &[
                MutationResult {
                    id: 1,
                    status: 201,
                    body: serde_json::json!({}),
                },
                MutationResult {
                    id: 2,
                    status: 422,
                    body: serde_json::json!({"type": "invalid-body", "title": "Invalid body", "status": 422, "detail": "no"}),
                },
            ],
        )
        .await
        .unwrap();
    cache.apply_page(&page("c2", false, 1, 9)).await.unwrap();
    let later = "2999-01-01T00:00:00Z";
    let earlier = "2000-01-01T00:00:00Z";

    // Nothing answered before the cut-off: nothing goes.
    assert_eq!(cache.prune_outbox(earlier, earlier).await.unwrap(), 0);
    // The applied one goes; the undismissed refusal and the pending one stay.
    assert_eq!(cache.prune_outbox(later, later).await.unwrap(), 1);
    let left: Vec<u64> = cache
        .outbox(10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.mutation_id)
        .collect();
    assert_eq!(left, vec![3, 2]);
    // Once staff dismissed the refusal it goes too.
    cache.dismiss_refusal("dev-1", 2).await.unwrap();
    assert_eq!(cache.prune_outbox(later, later).await.unwrap(), 1);
    assert_eq!(cache.counts().await.unwrap().outbox_pending, 1);
    // Stock still counts the pending sale; ids are never reused.
    let stock = cache.stock("SKU-1", STORE).await.unwrap().unwrap();
    assert_eq!((stock.on_hand, stock.pending_delta), (6, -3));
    assert_eq!(cache.enqueue(sale(1)).await.unwrap(), 4);
}

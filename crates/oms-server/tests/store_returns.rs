//! Returns without a receipt, on SQLite and PostgreSQL: a paired device of a
//! store records products brought back, approved by a store manager whose
//! PIN the core checks (an associate's approval is refused, wrong PINs are
//! counted and lock the manager out); resaleable units go back on hand at
//! the store, the refund is the store channel's price, and a replay of the
//! same Idempotency-Key records nothing twice. Also: the demo seeds a manager
//! and an associate per store, and a store device reads an order of another
//! store (a web order brought back to this counter).

#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use oms_api::wire::{
    ItemCondition, ManagerApproval, RefundMethod, ReturnReason, Role, UnreceiptedReturn,
    UnreceiptedReturnLine,
};
use oms_api::{ClientError, OmsClient};
use oms_domain::model::Sku;
use serde_json::{Value, json};

/// Pairs a store associate's device with `store`: its typed client and token.
async fn pair(server: &TestServer, store: &str, label: &str) -> (OmsClient, String) {
    let device = common::pair_device(server, store, "store_associate", label).await;
    let client = OmsClient::new(&server.base)
        .unwrap()
        .with_token(device.token.clone());
    (client, device.token)
}

async fn on_hand(server: &TestServer, sku: &str, location: &str) -> i64 {
    let levels = server.state.storage.stock_of_sku(sku).await.unwrap();
    levels
        .iter()
        .find(|l| l.location == location)
        .map_or(0, |l| l.on_hand)
}

fn request(lines: &[(&str, u32, ItemCondition)], approver: &str, pin: &str) -> UnreceiptedReturn {
    UnreceiptedReturn {
        lines: lines
            .iter()
            .map(|(sku, quantity, condition)| UnreceiptedReturnLine {
                sku: Sku::parse(*sku).unwrap(),
                quantity: *quantity,
                reason: ReturnReason::DoesNotFit,
                condition: *condition,
            })
            .collect(),
        refund_method: RefundMethod::Cash,
        approval: ManagerApproval {
            staff_id: approver.to_owned(),
            pin: pin.to_owned(),
        },
        taken_by: None,
    }
}

fn problem(error: ClientError) -> (u16, String, String) {
    match error {
        ClientError::Problem(p) => (p.status, p.kind, p.detail.unwrap_or_default()),
        other => panic!("expected a problem, got {other}"),
    }
}

async fn returns_without_receipt(db: common::Db) {
    let server = common::start(db).await;
    let (_, _, locations) = server.get_json("/v1/locations?limit=200").await;
    let stores: Vec<String> = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "store")
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .take(2)
        .collect();
    let (a, b) = (stores[0].clone(), stores[1].clone());
    let (_, _, products) = server.get_json("/v1/products?limit=5").await;
    let skus: Vec<String> = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect();
    let (kept, damaged) = (skus[0].clone(), skus[1].clone());

    let (till, till_token) = pair(&server, &a, "Counter A").await;
    // The demo's staff of store A: a manager and an associate.
    let staff = till.staff(&a).await.unwrap();
    let manager = staff
        .iter()
        .find(|m| m.role == Role::StoreManager)
        .unwrap()
        .clone();
    let associate = staff
        .iter()
        .find(|m| m.role == Role::StoreAssociate)
        .unwrap()
        .clone();
    assert_eq!(manager.id, format!("STAFF-{a}-M"));
    assert_eq!(associate.id, format!("STAFF-{a}-A"));
    let (kept_before, damaged_before) = (
        on_hand(&server, &kept, &a).await,
        on_hand(&server, &damaged, &a).await,
    );
    let lines = [
        (kept.as_str(), 2, ItemCondition::Resaleable),
        (damaged.as_str(), 1, ItemCondition::Damaged),
    ];

    // An associate cannot approve, even with their own right PIN.
    let refused = till
        .return_without_receipt(&a, &request(&lines, &associate.id, "4321"), "k-assoc")
        .await
        .unwrap_err();
    let (status, kind, detail) = problem(refused);
    assert_eq!((status, kind.as_str()), (403, "forbidden"));
    assert!(detail.contains("manager"), "{detail}");

    // A wrong manager PIN is counted and says what is left.
    let refused = till
        .return_without_receipt(&a, &request(&lines, &manager.id, "0000"), "k-wrong")
        .await
        .unwrap_err();
    let (status, _, detail) = problem(refused);
    assert_eq!(status, 403);
    assert!(detail.contains("4 attempt(s) left"), "{detail}");
    assert_eq!(on_hand(&server, &kept, &a).await, kept_before);

    // The manager's PIN approves: stock back, refund at the store price.
    let approved = request(&lines, &manager.id, "1234");
    let view = till
        .return_without_receipt(&a, &approved, "k-ok")
        .await
        .unwrap();
    assert_eq!(view.approved_by.id, manager.id);
    assert_eq!(view.location.as_str(), a);
    assert_eq!(view.refund_method, RefundMethod::Cash);
    let currency = view.total_refund.currency();
    let prices = server
        .state
        .storage
        .prices(
            "stores",
            currency.as_str(),
            &[kept.clone(), damaged.clone()],
        )
        .await
        .unwrap();
    let expected = prices[&kept] * 2 + prices[&damaged];
    assert_eq!(view.total_refund.minor(), expected);
    assert!(view.lines[0].restocked && !view.lines[1].restocked);
    assert_eq!(on_hand(&server, &kept, &a).await, kept_before + 2);
    assert_eq!(on_hand(&server, &damaged, &a).await, damaged_before);

    // A replay of the same key (the answer was lost) records nothing twice,
    // whatever PIN it carries; the same key with another body is refused.
    let replay = till
        .return_without_receipt(&a, &request(&lines, &manager.id, "9999"), "k-ok")
        .await
        .unwrap();
    assert_eq!(replay.id, view.id);
    assert_eq!(on_hand(&server, &kept, &a).await, kept_before + 2);
    let other = request(&lines[..1], &manager.id, "1234");
    let (status, kind, _) = problem(
        till.return_without_receipt(&a, &other, "k-ok")
            .await
            .unwrap_err(),
    );
    assert_eq!((status, kind.as_str()), (422, "idempotency-key-reused"));
    // Two identical requests at once (a double tap, a retry racing the
    // first): one return, both answered with it.
    let twice = request(&lines[..1], &manager.id, "1234");
    let (first, second) = tokio::join!(
        till.return_without_receipt(&a, &twice, "k-race"),
        till.return_without_receipt(&a, &twice, "k-race"),
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.id, second.id);
    assert_eq!(on_hand(&server, &kept, &a).await, kept_before + 4);
    let recorded = server.state.storage.store_returns_of(&a).await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert!(recorded[0].contains(&view.id) && !recorded[0].contains("\"pin\""));

    // Five wrong PINs in a row lock the manager out, right PIN or not.
    for left in (1..=4).rev() {
        let key = format!("k-lock-{left}");
        let (status, _, detail) = problem(
            till.return_without_receipt(&a, &request(&lines, &manager.id, "0000"), &key)
                .await
                .unwrap_err(),
        );
        assert_eq!(status, 403);
        assert!(
            detail.contains(&format!("{left} attempt(s) left")),
            "{detail}"
        );
    }
    let (status, kind, _) = problem(
        till.return_without_receipt(&a, &request(&lines, &manager.id, "0000"), "k-lock-0")
            .await
            .unwrap_err(),
    );
    assert_eq!((status, kind.as_str()), (429, "locked-out"));
    let (status, kind, detail) = problem(
        till.return_without_receipt(&a, &approved, "k-after-lock")
            .await
            .unwrap_err(),
    );
    assert_eq!((status, kind.as_str()), (429, "locked-out"));
    assert!(detail.contains("minute"), "{detail}");
    // Signing in is locked too: it is the same count.
    let (status, _, _) = problem(
        till.staff_sign_in(&oms_api::wire::StaffSignIn {
            staff_id: manager.id.clone(),
            pin: "1234".into(),
        })
        .await
        .unwrap_err(),
    );
    assert_eq!(status, 429);
    assert_eq!(on_hand(&server, &kept, &a).await, kept_before + 4);

    // Bad requests never cost an attempt: no lines, no key.
    let (status, _, _) = problem(
        till.return_without_receipt(&a, &request(&[], &associate.id, "0000"), "k-empty")
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 422);
    let no_key = common::authorized_client(&till_token)
        .post(format!("{}/v1/locations/{a}/returns", server.base))
        .json(&request(&lines, &associate.id, "0000"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 422);
    assert_eq!(
        till.staff_sign_in(&oms_api::wire::StaffSignIn {
            staff_id: associate.id.clone(),
            pin: "4321".into(),
        })
        .await
        .unwrap()
        .id,
        associate.id
    );

    // Another store's device cannot take returns for A, nor be approved by
    // A's manager at its own store.
    let (other_till, _) = pair(&server, &b, "Counter B").await;
    let (status, _, _) = problem(
        other_till
            .return_without_receipt(&a, &approved, "k-b")
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);
    let (status, _, detail) = problem(
        other_till
            .return_without_receipt(&b, &approved, "k-b2")
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);
    assert!(detail.contains("unknown member"), "{detail}");

    // Omnichannel: a web order collected at store A can be read (to take
    // its return) from store B's counter.
    let order: Value = server
        .http
        .post(format!("{}/v1/orders", server.base))
        .header("Idempotency-Key", "web-order-1")
        .json(&json!({"channel": "web-fr", "delivery": "click_and_collect",
            "destination": {"pickup_store": a}, "customer": {"name": "Ana", "email": "ana@example.com"},
            "lines": [{"sku": kept, "quantity": 1}], "payment": "in_store", "accept_partial": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    let read = other_till.order(id, None).await.unwrap();
    assert_eq!(read.id.as_str(), id);
}

on_both_databases! {
    return_without_receipt_needs_a_managers_pin => returns_without_receipt,
}

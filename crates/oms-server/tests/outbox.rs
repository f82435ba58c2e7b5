//! The outbox delivered for real, on SQLite and PostgreSQL: signed webhooks
//! and notifications to a loopback receiver that can fail, retries with
//! backoff, the dead letter and its replay, payments authorised and
//! captured at a loopback gateway, and messages written before a restart
//! delivered after it.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::{Db, TestServer};
use hmac::{Hmac, Mac};
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::stock::StockRow;
use oms_server::OutboxConfig;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

const SECRET: &str = "whsec_test_0123456789";

// ---- a webhook receiver ----------------------------------------------------

#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: i64,
    timestamp: i64,
    signature: String,
    topic: String,
    body: String,
    accepted: bool,
}

#[derive(Default)]
struct Receiver {
    /// Answer this many next requests with 500.
    fail_next: u32,
    /// Answer every request with 500.
    fail_all: bool,
    got: Vec<Received>,
}

type SharedReceiver = Arc<Mutex<Receiver>>;

async fn receive(
    State(receiver): State<SharedReceiver>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let mut r = receiver.lock().unwrap();
    let accepted = if r.fail_all {
        false
    } else if r.fail_next > 0 {
        r.fail_next -= 1;
        false
    } else {
        true
    };
    r.got.push(Received {
        path: uri.path().to_owned(),
        id: header("aisle-webhook-id").parse().unwrap(),
        timestamp: header("aisle-webhook-timestamp").parse().unwrap(),
        signature: header("aisle-webhook-signature"),
        topic: header("aisle-webhook-topic"),
        body,
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// A receiver on 127.0.0.1:0 taking `/hook` and `/notify`; its base URL.
async fn start_receiver() -> (SharedReceiver, String) {
    let state: SharedReceiver = Arc::default();
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .route("/notify", post(receive))
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (state, format!("http://{address}"))
}

/// What an integrator does: recompute the signature over "{timestamp}.{body}".
fn verify(got: &Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.{}", got.timestamp, got.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got.signature, format!("v1={expected}"), "{got:?}");
    let now = jiff::Timestamp::now().as_second();
    assert!((now - got.timestamp).abs() < 60, "a fresh timestamp");
    let _: Value = serde_json::from_str(&got.body).unwrap();
}

// ---- a payment gateway -----------------------------------------------------

#[derive(Default)]
struct Gateway {
    fail_next: u32,
    answers: HashMap<String, Value>,
    /// (operation, key, body) of each operation done.
    ledger: Vec<(String, String, Value)>,
}

type SharedGateway = Arc<Mutex<Gateway>>;

async fn operate(
    State(gateway): State<SharedGateway>,
    Path(operation): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut g = gateway.lock().unwrap();
    if g.fail_next > 0 {
        g.fail_next -= 1;
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let key = headers["idempotency-key"].to_str().unwrap().to_owned();
    if let Some(answer) = g.answers.get(&key) {
        return Json(answer.clone()).into_response();
    }
    g.ledger.push((operation.clone(), key.clone(), body));
    let answer = json!({"reference": format!("gw-{operation}-{}", g.ledger.len())});
    g.answers.insert(key, answer.clone());
    Json(answer).into_response()
}

async fn start_gateway() -> (SharedGateway, String) {
    let state: SharedGateway = Arc::default();
    let app = axum::Router::new()
        .route("/v1/payments/{operation}", post(operate))
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (state, format!("http://{address}"))
}

// ---- helpers ---------------------------------------------------------------

/// Fast polls and small backoffs, so that the tests take seconds.
fn fast(receiver: Option<&str>, gateway: Option<&str>, max_attempts: u32) -> OutboxConfig {
    OutboxConfig {
        webhook_url: receiver.map(|base| format!("{base}/hook")),
        webhook_secret: Some(SECRET.to_owned()),
        notification_url: receiver.map(|base| format!("{base}/notify")),
        payment_gateway_url: gateway.map(str::to_owned),
        payment_gateway_key: None,
        poll_interval: Duration::from_millis(50),
        max_attempts,
        initial_backoff: Duration::from_millis(40),
        max_backoff: Duration::from_millis(200),
        lease: Duration::from_secs(5),
        request_timeout: Duration::from_secs(2),
        batch_size: 4,
    }
}

/// Waits until `check` holds (at most 30 s).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Places a gateway-paid home delivery of one unit shipped from WH-PARIS;
/// returns the order.
async fn place_order(server: &TestServer, email: &str) -> Value {
    let (_, _, page) = server.get_json("/v1/products?limit=200").await;
    let sku = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_type"] == "standard")
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .unwrap();
    let row = StockRow {
        sku: Sku::parse(&sku).unwrap(),
        location: LocationId::parse("WH-PARIS").unwrap(),
        on_hand: 500,
        reserved: Quantity::new(0),
    };
    server.state.storage.set_stock_levels(&[row]).await.unwrap();
    server
        .state
        .stock
        .refresh(&server.state.storage)
        .await
        .unwrap();
    let body = json!({
        "channel": "web-fr",
        "delivery": "home_delivery",
        "destination": {"address": {"coordinates": {"lat": 48.857, "lon": 2.372},
            "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"}},
        "customer": {"name": "Camille Martin", "email": email, "language": "fr"},
        "lines": [{"sku": sku, "quantity": 1}],
        "payment": "gateway",
        "accept_partial": false,
    });
    let response = server
        .http
        .post(format!("{}/v1/orders", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn post_json(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let response = server
        .http
        .post(format!("{}{path}", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn all_delivered(server: &TestServer, order: &str, topic: &str) -> bool {
    let rows = server.state.storage.outbox_of(order, topic).await.unwrap();
    !rows.is_empty() && rows.iter().all(|m| m.delivered)
}

// ---- scenarios ---------------------------------------------------------------

/// Events and notifications arrive signed; failed deliveries are retried
/// and then delivered, each message under its own stable id.
async fn signed_and_retried(db: Db) {
    let (receiver, base) = start_receiver().await;
    receiver.lock().unwrap().fail_next = 3;
    let server = common::start_with_config(db, fast(Some(&base), None, 10)).await;
    let order = place_order(&server, "hooks@example.com").await;
    let id = order["id"].as_str().unwrap().to_owned();
    eventually("webhooks delivered", || {
        all_delivered(&server, &id, "webhook")
    })
    .await;
    eventually("notifications delivered", || {
        all_delivered(&server, &id, "notification")
    })
    .await;

    let webhooks = server
        .state
        .storage
        .outbox_of(&id, "webhook")
        .await
        .unwrap();
    let notifications = server
        .state
        .storage
        .outbox_of(&id, "notification")
        .await
        .unwrap();
    let got = receiver.lock().unwrap().got.clone();
    for request in &got {
        verify(request);
    }
    // Three failed requests, then every message once.
    assert_eq!(got.iter().filter(|r| !r.accepted).count(), 3);
    let accepted: Vec<&Received> = got.iter().filter(|r| r.accepted).collect();
    let accepted_ids: HashSet<i64> = accepted.iter().map(|r| r.id).collect();
    assert_eq!(
        accepted_ids.len(),
        accepted.len(),
        "each message delivered once"
    );
    for message in webhooks.iter().chain(&notifications) {
        assert!(accepted_ids.contains(&message.id), "{message:?}");
        let request = accepted.iter().find(|r| r.id == message.id).unwrap();
        assert_eq!(request.body, message.payload);
        assert_eq!(request.topic, message.topic);
        let path = if message.topic == "webhook" {
            "/hook"
        } else {
            "/notify"
        };
        assert_eq!(request.path, path);
    }
    let attempts: i64 = webhooks
        .iter()
        .chain(&notifications)
        .map(|m| m.attempts)
        .sum();
    assert_eq!(attempts as usize, got.len(), "every request counted");
    let event: Value = serde_json::from_str(&webhooks[0].payload).unwrap();
    assert_eq!(event["order"], id.as_str(), "{event}");

    // The admin's view.
    let (status, _, listed) = server
        .get_json("/v1/outbox?state=delivered&topic=webhook&limit=1000")
        .await;
    assert_eq!(status, 200);
    let listed = listed.as_array().unwrap();
    for message in &webhooks {
        let item = listed.iter().find(|m| m["id"] == message.id).unwrap();
        assert_eq!(item["state"], "delivered");
        assert_eq!(item["attempts"], message.attempts);
        assert_eq!(item["order"], id.as_str());
    }
    let (status, content_type, problem) = server.get_json("/v1/outbox?state=lost").await;
    assert_eq!(status, 400);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["type"], "invalid-query");

    // Without a gateway, the authorisation waits, pending.
    let payments = server.state.storage.payments_of(&id).await.unwrap();
    assert!(
        payments.iter().all(|p| p.status == "pending"),
        "{payments:?}"
    );
}

/// A receiver that keeps failing: each message is dead after `max_attempts`;
/// replayed once the receiver works again, it is delivered.
async fn dead_letter_then_replay(db: Db) {
    let (receiver, base) = start_receiver().await;
    receiver.lock().unwrap().fail_all = true;
    let server = common::start_with_config(db, fast(Some(&base), None, 3)).await;
    let order = place_order(&server, "dead@example.com").await;
    let id = order["id"].as_str().unwrap().to_owned();
    for topic in ["webhook", "notification"] {
        eventually("messages dead", || async {
            let rows = server.state.storage.outbox_of(&id, topic).await.unwrap();
            !rows.is_empty() && rows.iter().all(|m| m.dead)
        })
        .await;
    }
    let webhooks = server
        .state
        .storage
        .outbox_of(&id, "webhook")
        .await
        .unwrap();
    for message in &webhooks {
        assert_eq!(message.attempts, 3, "{message:?}");
        assert!(!message.delivered);
        assert_eq!(
            message.last_error.as_deref(),
            Some("answered 500 Internal Server Error")
        );
    }
    let (status, _, dead) = server.get_json("/v1/outbox?state=dead&topic=webhook").await;
    assert_eq!(status, 200);
    let first = webhooks[0].id;
    let listed = dead
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == first)
        .unwrap();
    assert_eq!(listed["attempts"], 3);
    assert_eq!(listed["last_error"], "answered 500 Internal Server Error");
    let requests_before = receiver.lock().unwrap().got.len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.lock().unwrap().got.len(),
        requests_before,
        "dead messages are not retried"
    );

    receiver.lock().unwrap().fail_all = false;
    let (status, replayed) =
        post_json(&server, &format!("/v1/outbox/{first}/replay"), json!({})).await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["state"], "pending");
    assert_eq!(replayed["attempts"], 0);
    eventually("the replayed message delivered", || async {
        let rows = server
            .state
            .storage
            .outbox_of(&id, "webhook")
            .await
            .unwrap();
        rows.iter().any(|m| m.id == first && m.delivered)
    })
    .await;
    let got = receiver.lock().unwrap().got.clone();
    let delivered: Vec<&Received> = got.iter().filter(|r| r.accepted).collect();
    assert_eq!(delivered.len(), 1, "only the replayed message");
    assert_eq!(delivered[0].id, first);
    verify(delivered[0]);
    let rows = server
        .state
        .storage
        .outbox_of(&id, "webhook")
        .await
        .unwrap();
    assert!(rows.iter().filter(|m| m.id != first).all(|m| m.dead));

    // Delivered messages may be replayed too; unknown ones are not found.
    let (status, _) = post_json(&server, &format!("/v1/outbox/{first}/replay"), json!({})).await;
    assert_eq!(status, 200);
    let (status, problem) = post_json(&server, "/v1/outbox/999999999/replay", json!({})).await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["type"], "not-found");
    let (status, _) = post_json(&server, "/v1/outbox/abc/replay", json!({})).await;
    assert_eq!(status, 404);
}

/// The authorisation is done after placement, the capture after shipping,
/// on the authorisation's reference; each operation once at the gateway.
async fn payments_at_the_gateway(db: Db) {
    let (gateway, gateway_base) = start_gateway().await;
    // One 503 first: the adapter retries with the same key.
    gateway.lock().unwrap().fail_next = 1;
    let server = common::start_with_config(db, fast(None, Some(&gateway_base), 10)).await;
    let order = place_order(&server, "pay@example.com").await;
    let id = order["id"].as_str().unwrap().to_owned();
    eventually("authorised", || async {
        let payments = server.state.storage.payments_of(&id).await.unwrap();
        payments
            .iter()
            .any(|p| p.kind == "authorise" && p.status == "succeeded")
    })
    .await;
    let payments = server.state.storage.payments_of(&id).await.unwrap();
    let authorise = payments.iter().find(|p| p.kind == "authorise").unwrap();
    let authorisation = authorise.provider_reference.clone().unwrap();
    assert!(
        authorisation.starts_with("gw-authorise-"),
        "{authorisation}"
    );

    let fulfilment = order["fulfilments"][0]["id"].as_str().unwrap().to_owned();
    for step in ["start_preparation", "mark_ready", "ship"] {
        let (status, body) = post_json(
            &server,
            &format!("/v1/fulfilments/{fulfilment}/steps"),
            json!({"type": step}),
        )
        .await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    // Both captures (the fulfilment's goods, then the shipping fee when the
    // order completes) go through; wait for every instruction, not the first.
    eventually("captured", || async {
        let payments = server.state.storage.payments_of(&id).await.unwrap();
        payments.iter().filter(|p| p.kind == "capture").count() >= 2
            && payments.iter().all(|p| p.status == "succeeded")
    })
    .await;
    let payments = server.state.storage.payments_of(&id).await.unwrap();
    assert!(
        payments.iter().all(|p| p.status == "succeeded"),
        "{payments:?}"
    );
    let ledger = gateway.lock().unwrap().ledger.clone();
    let keys: HashSet<&str> = ledger.iter().map(|(_, key, _)| key.as_str()).collect();
    assert_eq!(keys.len(), ledger.len(), "each operation once: {ledger:?}");
    let capture = ledger.iter().find(|(op, _, _)| op == "capture").unwrap();
    assert_eq!(capture.2["authorisation"], authorisation.as_str());
    assert_eq!(capture.2["order"], id.as_str());
    let capture_row = payments.iter().find(|p| p.kind == "capture").unwrap();
    assert_eq!(capture.1, capture_row.idempotency_key);
    assert_eq!(capture.2["amount_minor"], capture_row.amount_minor);
}

/// Messages written before a restart (and failing then) are delivered by
/// the next server on the same database.
async fn delivered_after_restart(db: Db) {
    let (receiver, base) = start_receiver().await;
    receiver.lock().unwrap().fail_all = true;
    let config = fast(Some(&base), None, 10);
    let server = common::start_with_config(db, config.clone()).await;
    let order = place_order(&server, "restart@example.com").await;
    let id = order["id"].as_str().unwrap().to_owned();
    eventually("a failed attempt", || async {
        let rows = server
            .state
            .storage
            .outbox_of(&id, "webhook")
            .await
            .unwrap();
        rows.iter().all(|m| m.attempts >= 1)
    })
    .await;
    let database = server.stop().await;
    let failed_before = receiver.lock().unwrap().got.len();
    assert!(failed_before > 0);

    receiver.lock().unwrap().fail_all = false;
    let server = common::restart_on(database, config).await;
    eventually("webhooks delivered after the restart", || {
        all_delivered(&server, &id, "webhook")
    })
    .await;
    eventually("notifications delivered after the restart", || {
        all_delivered(&server, &id, "notification")
    })
    .await;
    let got = receiver.lock().unwrap().got.clone();
    let webhooks = server
        .state
        .storage
        .outbox_of(&id, "webhook")
        .await
        .unwrap();
    for message in &webhooks {
        assert_eq!(
            got.iter()
                .filter(|r| r.accepted && r.id == message.id)
                .count(),
            1
        );
    }
}

on_both_databases! {
    webhooks_signed_and_retried => signed_and_retried,
    dead_letter_and_replay => dead_letter_then_replay,
    payments_authorised_and_captured => payments_at_the_gateway,
    crash_safety => delivered_after_restart,
}

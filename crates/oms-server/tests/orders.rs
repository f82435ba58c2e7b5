//! Orders end to end over HTTP on a real server, on SQLite and PostgreSQL:
//! no oversell under concurrency (two server instances on one PostgreSQL),
//! idempotent placement, the fulfilment lifecycle with a missing item
//! re-orchestrated elsewhere and handed over with its pickup code, illegal
//! steps refused without change, and cancellation releasing stock.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Db, TestServer};
use futures_util::future::join_all;
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::rng::SplitMix64;
use oms_domain::stock::StockRow;
use serde_json::{Value, json};

const PARIS: &str = r#"{"address": {"coordinates": {"lat": 48.857, "lon": 2.372},
    "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"}}"#;

fn paris() -> Value {
    serde_json::from_str(PARIS).unwrap()
}

/// `n` standard products of the demo catalogue.
async fn standard_skus(server: &TestServer, n: usize) -> Vec<String> {
    let (status, _, page) = server.get_json("/v1/products?limit=200").await;
    assert_eq!(status, 200);
    let skus: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["product_type"] == "standard")
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .take(n)
        .collect();
    assert_eq!(skus.len(), n, "the demo has {n} standard products");
    skus
}

/// Sets a SKU's stock so that each listed location has exactly `units`
/// *available* (on hand = units + that location's safety stock) and every
/// other location none.
async fn set_stock(server: &TestServer, sku: &str, at: &[(&str, i64)]) {
    write_stock(server, sku, at, &std::collections::HashMap::new()).await;
    let (_, _, levels) = server.get_json(&format!("/v1/stock/{sku}")).await;
    let safety: std::collections::HashMap<String, i64> = levels["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().to_owned(),
                l["safety"].as_i64().unwrap(),
            )
        })
        .collect();
    write_stock(server, sku, at, &safety).await;
    let (_, _, levels) = server.get_json(&format!("/v1/stock/{sku}")).await;
    for (location, units) in at {
        let level = levels["levels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["location"] == *location)
            .unwrap();
        assert_eq!(level["available"].as_i64().unwrap(), *units, "{level}");
    }
}

async fn write_stock(
    server: &TestServer,
    sku: &str,
    at: &[(&str, i64)],
    safety: &std::collections::HashMap<String, i64>,
) {
    let (_, _, current) = server.get_json(&format!("/v1/stock/{sku}")).await;
    let mut rows: Vec<StockRow> = current["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| StockRow {
            sku: Sku::parse(sku).unwrap(),
            location: LocationId::parse(l["location"].as_str().unwrap()).unwrap(),
            on_hand: 0,
            reserved: Quantity::new(0),
        })
        .collect();
    for (location, units) in at {
        rows.retain(|r| r.location.as_str() != *location);
        rows.push(StockRow {
            sku: Sku::parse(sku).unwrap(),
            location: LocationId::parse(*location).unwrap(),
            on_hand: *units + safety.get(*location).copied().unwrap_or(0),
            reserved: Quantity::new(0),
        });
    }
    server.state.storage.set_stock_levels(&rows).await.unwrap();
    server
        .state
        .stock
        .refresh(&server.state.storage)
        .await
        .unwrap();
}

/// Five French locations that ship to homes: the two warehouses and three
/// stores that ship.
async fn french_shippers(server: &TestServer) -> Vec<String> {
    let (_, _, locations) = server.get_json("/v1/locations?limit=200").await;
    let items = locations["items"].as_array().unwrap();
    let mut out: Vec<String> = items
        .iter()
        .filter(|l| l["id"] == "WH-PARIS" || l["id"] == "WH-LYON")
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    out.extend(
        items
            .iter()
            .filter(|l| {
                l["kind"] == "store"
                    && l["capabilities"]["ship_from_store"] == true
                    && l["time_zone"] == "Europe/Paris"
            })
            .take(3)
            .map(|l| l["id"].as_str().unwrap().to_owned()),
    );
    assert_eq!(out.len(), 5, "{locations}");
    // Stores have daily order caps (20–60): lift them on these three, so the
    // rounds below measure stock alone (a cap would rightly leave units
    // unallocated).
    let (_, _, mut network) = server.get_json("/v1/network").await;
    for location in network["locations"].as_array_mut().unwrap() {
        if out.iter().any(|id| location["id"] == id.as_str()) {
            location["daily_order_cap"] = Value::Null;
        }
    }
    let response = server
        .http
        .put(format!("{}/v1/network", server.base))
        .json(&network)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    out
}

fn order_body(sku: &str, quantity: u32, email: &str, accept_partial: bool) -> Value {
    json!({
        "channel": "web-fr",
        "delivery": "home_delivery",
        "destination": paris(),
        "customer": {"name": "Camille Martin", "email": email, "language": "fr"},
        "lines": [{"sku": sku, "quantity": quantity}],
        "payment": "gateway",
        "accept_partial": accept_partial,
    })
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, Value, String) {
    let mut request = http.post(url).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, response.json().await.unwrap(), content_type)
}

/// Σ reserved and Σ on_hand of a SKU, read from the database.
async fn stock_totals(server: &TestServer, sku: &str) -> (i64, i64, Vec<(String, i64, i64)>) {
    let levels = server.state.storage.stock_of_sku(sku).await.unwrap();
    let reserved = levels.iter().map(|l| l.reserved).sum();
    let on_hand = levels.iter().map(|l| l.on_hand).sum();
    let rows = levels
        .into_iter()
        .map(|l| (l.location, l.on_hand, l.reserved))
        .collect();
    (on_hand, reserved, rows)
}

fn units_in(order: &Value) -> i64 {
    order["fulfilments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["lines"].as_array().unwrap())
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum()
}

/// 200 concurrent orders for 50 units over 5 locations, three rounds with
/// different order sizes: exactly 50 units allocated each time, every other
/// order refused with `cannot-be-served`; on PostgreSQL the orders alternate
/// between this server and a second `oms-server` process on one database.
async fn no_oversell(db: Db) {
    let server = common::start(db).await;
    let skus = standard_skus(&server, 3).await;
    let shippers = french_shippers(&server).await;
    // Started after the network edit above, so its index has it from the
    // start; stock it reads inside each order's transaction anyway.
    let second = match db {
        Db::Postgres => Some(second_process(&server)),
        Db::Sqlite => None,
    };
    for (round, sku) in skus.iter().enumerate() {
        let at: Vec<(&str, i64)> = shippers.iter().map(|l| (l.as_str(), 10)).collect();
        set_stock(&server, sku, &at).await;
        let mut rng = SplitMix64::new(round as u64 + 1);
        // Round 0: one unit per order, all or nothing. Later rounds: 1–3
        // units, partial orders accepted (so the last units are taken too).
        let orders: Vec<(u32, bool)> = (0..200)
            .map(|_| {
                if round == 0 {
                    (1, false)
                } else {
                    (1 + rng.below(3) as u32, true)
                }
            })
            .collect();
        let requests = orders.iter().enumerate().map(|(i, (quantity, partial))| {
            let base = match &second {
                Some(other) if i % 2 == 1 => other.base.clone(),
                _ => server.base.clone(),
            };
            let body = order_body(
                sku,
                *quantity,
                &format!("c{round}-{i}@example.com"),
                *partial,
            );
            let http = server.http.clone();
            async move { post(&http, &format!("{base}/v1/orders"), &body, None).await }
        });
        let answers = join_all(requests).await;
        let mut allocated = 0;
        let mut accepted = 0;
        for (status, body, content_type) in &answers {
            match status {
                201 => {
                    accepted += 1;
                    allocated += units_in(body);
                }
                409 => {
                    assert_eq!(body["type"], "cannot-be-served", "{body}");
                    assert_eq!(content_type, "application/problem+json");
                    assert!(!body["unservable"].as_array().unwrap().is_empty());
                }
                other => panic!("unexpected answer {other}: {body}"),
            }
        }
        let (_, reserved, rows) = stock_totals(&server, sku).await;
        assert_eq!(allocated, 50, "round {round}: units allocated");
        assert_eq!(
            reserved, 50,
            "round {round}: units reserved in the database"
        );
        for (location, on_hand, reserved) in rows {
            assert!(reserved <= on_hand, "{location} over-reserved");
        }
        if round == 0 {
            assert_eq!(accepted, 50);
        }
    }
}

/// A second `oms-server` process on the same database (stopped on drop:
/// its stdin closes).
struct OtherProcess {
    child: std::process::Child,
    base: String,
}

impl Drop for OtherProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn second_process(server: &TestServer) -> OtherProcess {
    use std::io::BufRead;
    let oms_server::DatabaseLocation::Url(url) = &server.db.location else {
        panic!("a second process needs a database URL")
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oms-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--exit-on-stdin-eof",
            "--database",
        ])
        .arg(url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.split_whitespace().nth(1).unwrap().to_owned();
    OtherProcess { child, base }
}

/// Concurrent replays of one Idempotency-Key create one order; the same key
/// with another body is refused.
async fn idempotent_placement(db: Db) {
    let server = common::start(db).await;
    let sku = standard_skus(&server, 1).await.remove(0);
    set_stock(&server, &sku, &[("WH-PARIS", 100)]).await;
    let body = order_body(&sku, 2, "idem@example.com", false);
    let url = format!("{}/v1/orders", server.base);
    let answers =
        join_all((0..20).map(|_| post(&server.http, &url, &body, Some("checkout-7f3a")))).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|(status, body, _)| {
            assert_eq!(*status, 201, "{body}");
            body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one order for one key");
    let (_, _, found) = server.get_json("/v1/orders?q=idem@example.com").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    let (_, reserved, _) = stock_totals(&server, &sku).await;
    assert_eq!(reserved, 2);

    let other = order_body(&sku, 3, "idem@example.com", false);
    let (status, problem, _) = post(&server.http, &url, &other, Some("checkout-7f3a")).await;
    assert_eq!(status, 422);
    assert_eq!(problem["type"], "idempotency-key-reused");
    let (_, reserved, _) = stock_totals(&server, &sku).await;
    assert_eq!(reserved, 2, "the refused replay reserved nothing");
}

/// A refusal is a kept answer too: an order that cannot be served, sent
/// with a key (and replayed at once, concurrently) is refused once; once
/// stock has come in, a replay of that key still gets the refusal and
/// reserves nothing, while a new key is served.
async fn kept_refusal(db: Db) {
    let server = common::start(db).await;
    let sku = standard_skus(&server, 1).await.remove(0);
    let everywhere: Vec<String> = french_shippers(&server).await;
    let none: Vec<(&str, i64)> = everywhere.iter().map(|l| (l.as_str(), 0)).collect();
    set_stock(&server, &sku, &none).await;
    let body = order_body(&sku, 1, "refused@example.com", false);
    let url = format!("{}/v1/orders", server.base);
    let answers =
        join_all((0..8).map(|_| post(&server.http, &url, &body, Some("checkout-none")))).await;
    for (status, problem, _) in &answers {
        assert_eq!(*status, 409, "{problem}");
        assert_eq!(problem["type"], "cannot-be-served");
    }
    assert!(
        answers
            .iter()
            .all(|(_, problem, _)| problem == &answers[0].1),
        "one kept answer"
    );

    set_stock(&server, &sku, &[("WH-PARIS", 5)]).await;
    let (status, replayed, _) = post(&server.http, &url, &body, Some("checkout-none")).await;
    assert_eq!(status, 409, "{replayed}");
    assert_eq!(
        replayed, answers[0].1,
        "the kept refusal, not a new decision"
    );
    let (_, reserved, _) = stock_totals(&server, &sku).await;
    assert_eq!(reserved, 0, "the replay reserved nothing");
    let (status, order, _) = post(&server.http, &url, &body, Some("checkout-new")).await;
    assert_eq!(status, 201, "{order}");
    let (_, reserved, _) = stock_totals(&server, &sku).await;
    assert_eq!(reserved, 1);
}

/// A paired store associate's device of `store`.
async fn store_device(server: &TestServer, store: &str) -> reqwest::Client {
    common::pair_device(server, store, "store_associate", "counter")
        .await
        .http
}

/// The pickup code of the order's newest "ready to pick up" message (German).
async fn latest_pickup_code(server: &TestServer, order_id: &str) -> String {
    let (_, _, notes) = server
        .get_json(&format!("/v1/orders/{order_id}/notifications"))
        .await;
    let body = notes
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|n| n["status"] == "ready_to_pick_up")
        .map(|n| n["body"].as_str().unwrap().to_owned())
        .unwrap();
    body.split("Abholcode: ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect()
}

async fn step(server: &TestServer, fulfilment: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/v1/fulfilments/{fulfilment}/steps", server.base);
    let (status, body, _) = post(&server.http, &url, &body, None).await;
    (status, body)
}

/// Click & collect at a store: the first location finds one unit of two,
/// the missing unit is re-orchestrated elsewhere (never again there), both
/// parcels are prepared and shipped to the pickup store (ship-to-store),
/// received there and handed over with the code; the order completes, stock
/// leaves the shelves, payments are captured at the handover.
async fn missing_item_rerouted_then_handed_over(db: Db) {
    let server = common::start(db).await;
    let sku = standard_skus(&server, 1).await.remove(0);
    set_stock(&server, &sku, &[("WH-PARIS", 2), ("WH-LYON", 5)]).await;
    let (on_hand_before, _, _) = stock_totals(&server, &sku).await;
    let (_, _, locations) = server.get_json("/v1/locations?limit=200").await;
    let store = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "store" && l["capabilities"]["receive_ship_to_store"] == true)
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .unwrap();
    let body = json!({
        "channel": "web-fr",
        "delivery": "click_and_collect",
        "destination": {"pickup_store": store},
        "customer": {"name": "Jonas Weber", "phone": "+33 6 12 34 56 78", "language": "de"},
        "lines": [{"sku": sku, "quantity": 2}],
        "payment": "gateway",
    });
    let url = format!("{}/v1/orders", server.base);
    let (status, order, _) = post(&server.http, &url, &body, None).await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(order["status"], "allocated");
    assert!(
        order.get("traces").is_none(),
        "the placement answer stays small"
    );
    let (_, _, full) = server.get_json(&format!("/v1/orders/{order_id}")).await;
    assert_eq!(full["traces"].as_array().unwrap().len(), 1);
    assert!(!full["explanation"].as_array().unwrap().is_empty());
    let first = order["fulfilments"][0].clone();
    let first_id = first["id"].as_str().unwrap().to_owned();
    let first_location = first["location"].as_str().unwrap().to_owned();

    // Illegal: ship before preparing. 409, nothing changes.
    let (status, problem) = step(&server, &first_id, json!({"type": "ship"})).await;
    assert_eq!(status, 409, "{problem}");
    let (_, _, unchanged) = server
        .get_json(&format!("/v1/fulfilments/{first_id}"))
        .await;
    assert_eq!(unchanged["status"], "awaiting_preparation");

    let (status, _) = step(&server, &first_id, json!({"type": "start_preparation"})).await;
    assert_eq!(status, 200);
    // Staff read the explanation in their language (the customer's is German).
    let (status, result, _) = post(
        &server.http,
        &format!("{}/v1/fulfilments/{first_id}/steps?lang=en", server.base),
        &json!({"type": "report_missing", "lines": [{"line": 1, "found": 1}]}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert!(
        result["explanation"][0]
            .as_str()
            .unwrap()
            .starts_with("Order "),
        "{result}"
    );
    let rerouted = result["rerouted"].as_array().unwrap();
    assert_eq!(rerouted.len(), 1, "{result}");
    assert_ne!(rerouted[0]["location"], first_location.as_str());
    assert_eq!(rerouted[0]["lines"][0]["quantity"], 1);
    assert_eq!(result["fulfilment"]["lines"][0]["quantity"], 1);
    assert!(!result["explanation"].as_array().unwrap().is_empty());
    // The shelf count was corrected where the unit was missing.
    let (_, _, rows) = stock_totals(&server, &sku).await;
    let at_first = rows.iter().find(|r| r.0 == first_location).unwrap();
    assert_eq!(at_first.2, 1, "the found unit stays reserved");
    let (on_hand_corrected, _, _) = stock_totals(&server, &sku).await;
    assert!(
        on_hand_corrected < on_hand_before,
        "the shelf count went down"
    );

    // Prepare and finish both fulfilments.
    let (_, _, order) = server.get_json(&format!("/v1/orders/{order_id}")).await;
    let fulfilments: Vec<Value> = order["fulfilments"].as_array().unwrap().clone();
    assert_eq!(fulfilments.len(), 2);
    let at_store = store_device(&server, &store).await;
    for f in &fulfilments {
        let id = f["id"].as_str().unwrap();
        if f["status"] == "awaiting_preparation" {
            let (status, _) = step(&server, id, json!({"type": "start_preparation"})).await;
            assert_eq!(status, 200);
        }
        let (status, ready) = step(&server, id, json!({"type": "mark_ready"})).await;
        assert_eq!(status, 200, "{ready}");
        if f["handover"] == true {
            let (status, _) = step(
                &server,
                id,
                json!({"type": "hand_over", "pickup_code": "000000x"}),
            )
            .await;
            assert_eq!(status, 409, "a wrong code hands nothing over");
            let code = latest_pickup_code(&server, &order_id).await;
            let (status, done) = step(
                &server,
                id,
                json!({"type": "hand_over", "pickup_code": code}),
            )
            .await;
            assert_eq!(status, 200, "{done}");
            assert_eq!(done["fulfilment"]["status"], "picked_up");
        } else {
            assert!(ready["fulfilment"]["tracking"].is_string());
            let label = server
                .http
                .get(format!("{}/v1/fulfilments/{id}/label", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(label.status(), 200);
            assert_eq!(label.headers()["content-type"], "application/pdf");
            assert!(label.bytes().await.unwrap().starts_with(b"%PDF-"));
            // The pickup store's device may not ship the warehouse's parcel.
            let steps_url = format!("{}/v1/fulfilments/{id}/steps", server.base);
            let (status, problem, _) =
                post(&at_store, &steps_url, &json!({"type": "ship"}), None).await;
            assert_eq!(status, 403, "{problem}");
            // Shipped to the pickup store: on its way, in the store's queue.
            let (status, done) = step(&server, id, json!({"type": "ship"})).await;
            assert_eq!(status, 200, "{done}");
            assert_eq!(done["fulfilment"]["status"], "in_transit_to_store");
            assert_eq!(done["fulfilment"]["ship_to"], store.as_str());
            assert_eq!(done["order_status"], "allocated", "not complete yet");
            let (_, _, queue) = server
                .get_json(&format!("/v1/locations/{store}/fulfilments"))
                .await;
            // (A page's `items`, or a plain list.)
            let queued = queue["items"].as_array().or(queue.as_array()).unwrap();
            assert!(queued.iter().any(|f| f["id"] == id), "{queue}");
            // Not collectable before the store has it; not cancellable on the road.
            for early in [
                json!({"type": "hand_over", "pickup_code": "000000"}),
                json!({"type": "cancel"}),
            ] {
                let (status, problem) = step(&server, id, early).await;
                assert_eq!(status, 409, "{problem}");
            }
            // From now on it is the pickup store's: its device receives it
            // and hands it over.
            let (status, received, _) = post(
                &at_store,
                &steps_url,
                &json!({"type": "receive_at_store"}),
                None,
            )
            .await;
            assert_eq!(status, 200, "{received}");
            assert_eq!(received["fulfilment"]["status"], "ready_for_pickup");
            let (status, problem, _) = post(
                &at_store,
                &steps_url,
                &json!({"type": "hand_over", "pickup_code": "000000x"}),
                None,
            )
            .await;
            assert_eq!(status, 409, "a wrong code hands nothing over");
            assert_eq!(problem["type"], "pickup-code-mismatch", "{problem}");
            let code = latest_pickup_code(&server, &order_id).await;
            let (status, done, _) = post(
                &at_store,
                &steps_url,
                &json!({"type": "hand_over", "pickup_code": code}),
                None,
            )
            .await;
            assert_eq!(status, 200, "{done}");
            assert_eq!(done["fulfilment"]["status"], "picked_up");
        }
    }
    let (_, _, order) = server.get_json(&format!("/v1/orders/{order_id}")).await;
    assert_eq!(order["status"], "completed", "{order}");
    assert_eq!(order["traces"].as_array().unwrap().len(), 2);
    let (on_hand, reserved, _) = stock_totals(&server, &sku).await;
    assert_eq!(reserved, 0, "no reservation left");
    // After the correction, the two units handed over or shipped left.
    assert_eq!(on_hand, on_hand_corrected - 2);
    let kinds: Vec<&str> = order["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "authorise").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "capture").count(), 2);
    let (_, _, timeline) = server
        .get_json(&format!("/v1/orders/{order_id}/timeline"))
        .await;
    let events: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for expected in [
        "order_placed",
        "order_allocated",
        "preparation_started",
        "items_missing",
        "received_at_store",
        "order_completed",
    ] {
        assert!(events.contains(&expected), "{expected} in {events:?}");
    }

    // A return of one unit at a warehouse: refunded, back on its shelf.
    let (on_hand_before_return, _, _) = stock_totals(&server, &sku).await;
    let returns = format!("{}/v1/orders/{order_id}/returns", server.base);
    let body = json!({"location": "WH-PARIS", "lines": [
        {"line": 1, "quantity": 1, "reason": "does_not_fit", "condition": "resaleable"}]});
    let (status, received, _) = post(&server.http, &returns, &body, None).await;
    assert_eq!(status, 201, "{received}");
    assert!(
        received["total_refund"]["minor"].as_i64().unwrap() > 0,
        "{received}"
    );
    assert_eq!(
        stock_totals(&server, &sku).await.0,
        on_hand_before_return + 1
    );
    // Two more units than are left to return: refused, nothing changes.
    let body = json!({"location": "WH-PARIS", "lines": [
        {"line": 1, "quantity": 2, "reason": "does_not_fit", "condition": "damaged"}]});
    let (status, problem, _) = post(&server.http, &returns, &body, None).await;
    assert_eq!(status, 409, "{problem}");
    let (_, _, order) = server.get_json(&format!("/v1/orders/{order_id}")).await;
    assert_eq!(order["returns"].as_array().unwrap().len(), 1);
    assert!(
        order["payments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "refund" && p["amount"] == received["total_refund"])
    );

    let (_, _, notes) = server
        .get_json(&format!("/v1/orders/{order_id}/notifications"))
        .await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["status"] == "refunded")
    );
    // Customer service re-sends the last message: same words, a new message.
    let last = notes.as_array().unwrap().last().unwrap().clone();
    let resend = format!(
        "{}/v1/orders/{order_id}/notifications/{}/resend",
        server.base, last["id"]
    );
    let (status, again, _) = post(&server.http, &resend, &json!(null), None).await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], last["id"]);
    assert_eq!(again["body"], last["body"]);
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["language"] == "de")
    );
}

/// Cancelling an order releases its reservations and voids the payment;
/// a cancelled order cannot be cancelled again.
async fn cancel_releases_stock(db: Db) {
    let server = common::start(db).await;
    let sku = standard_skus(&server, 1).await.remove(0);
    set_stock(&server, &sku, &[("WH-PARIS", 4)]).await;
    let url = format!("{}/v1/orders", server.base);
    let (status, order, _) = post(
        &server.http,
        &url,
        &order_body(&sku, 3, "cancel@example.com", false),
        None,
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap();
    assert_eq!(stock_totals(&server, &sku).await.1, 3);
    let cancel = format!("{}/v1/orders/{id}/cancel", server.base);
    let (status, cancelled, _) = post(
        &server.http,
        &cancel,
        &json!({"reason": "customer asked"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["fulfilments"][0]["status"], "cancelled");
    assert_eq!(stock_totals(&server, &sku).await.1, 0);
    assert!(
        cancelled["payments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "void")
    );
    let (status, problem, _) = post(&server.http, &cancel, &json!({}), None).await;
    assert_eq!(status, 409, "{problem}");

    // The order and its fulfilment are in the change sequence, last state.
    let mut cursor: Option<String> = None;
    let mut seen = (None, None);
    loop {
        let path = match &cursor {
            None => "/v1/changes?limit=1000".to_owned(),
            Some(c) => format!("/v1/changes?limit=1000&cursor={c}"),
        };
        let (_, _, page) = server.get_json(&path).await;
        for change in page["changes"].as_array().unwrap() {
            if change["data"]["id"] == id {
                seen.0 = Some(change["data"]["status"].clone());
            }
            if change["entity"] == "fulfilment" && change["data"]["order"] == id {
                seen.1 = Some(change["data"]["status"].clone());
            }
        }
        cursor = Some(page["cursor"].as_str().unwrap().to_owned());
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(seen.0, Some(json!("cancelled")));
    assert_eq!(seen.1, Some(json!("cancelled")));

    // Bad input: a clear error and no write.
    let mut bad = order_body(&sku, 1, "not-an-email", false);
    let (status, problem, _) = post(&server.http, &url, &bad, None).await;
    assert_eq!(status, 422, "{problem}");
    bad = order_body("NO-SUCH-SKU", 1, "a@example.com", false);
    let (status, _, _) = post(&server.http, &url, &bad, None).await;
    assert_eq!(status, 404);
    assert_eq!(stock_totals(&server, &sku).await.1, 0);
}

/// Customer service cancels one line of a two-line order: its units go
/// back on the shelf, the other line ships and only it is captured; a line
/// cannot be cancelled twice, nor one the order does not have.
async fn cancel_one_line(db: Db) {
    let server = common::start(db).await;
    let skus = standard_skus(&server, 2).await;
    set_stock(&server, &skus[0], &[("WH-PARIS", 5)]).await;
    set_stock(&server, &skus[1], &[("WH-PARIS", 5)]).await;
    let mut body = order_body(&skus[0], 2, "lines@example.com", false);
    body["lines"] = json!([{"sku": skus[0], "quantity": 2}, {"sku": skus[1], "quantity": 1}]);
    let (status, order, _) = post(
        &server.http,
        &format!("{}/v1/orders", server.base),
        &body,
        None,
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap();
    assert_eq!(stock_totals(&server, &skus[0]).await.1, 2);
    assert_eq!(stock_totals(&server, &skus[1]).await.1, 1);

    let cancel = format!("{}/v1/orders/{id}/cancel", server.base);
    let (status, after, _) = post(&server.http, &cancel, &json!({"lines": [1]}), None).await;
    assert_eq!(status, 200, "{after}");
    assert_ne!(after["status"], "cancelled");
    assert_eq!(
        stock_totals(&server, &skus[0]).await.1,
        0,
        "line 1 released"
    );
    assert_eq!(
        stock_totals(&server, &skus[1]).await.1,
        1,
        "line 2 still reserved"
    );
    let fulfilment = after["fulfilments"][0].clone();
    assert_eq!(
        fulfilment["lines"].as_array().unwrap().len(),
        1,
        "{fulfilment}"
    );
    assert_eq!(fulfilment["lines"][0]["line"], 2);
    for (lines, want) in [(json!([1]), 409), (json!([9]), 422)] {
        let (status, problem, _) =
            post(&server.http, &cancel, &json!({"lines": lines}), None).await;
        assert_eq!(status, want, "{problem}");
    }
    assert_eq!(stock_totals(&server, &skus[1]).await.1, 1);

    let steps = format!(
        "{}/v1/fulfilments/{}/steps",
        server.base,
        fulfilment["id"].as_str().unwrap()
    );
    for step in ["start_preparation", "mark_ready", "ship"] {
        let (status, result, _) = post(&server.http, &steps, &json!({"type": step}), None).await;
        assert_eq!(status, 200, "{step}: {result}");
    }
    let (_, _, done) = server.get_json(&format!("/v1/orders/{id}")).await;
    assert_eq!(done["status"], "completed", "{done}");
    let line_2 = done["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == 2)
        .unwrap()["unit_price"]["minor"]
        .as_i64()
        .unwrap();
    let captured_for_fulfilment: i64 = done["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "capture" && p["reference"] == fulfilment["id"])
        .map(|p| p["amount"]["minor"].as_i64().unwrap())
        .sum();
    assert_eq!(captured_for_fulfilment, line_2, "{done}");
}

on_both_databases! {
    cancel_lines => cancel_one_line,
    no_oversell_under_concurrency => no_oversell,
    idempotency => idempotent_placement,
    refusal_kept_for_its_key => kept_refusal,
    missing_item_lifecycle => missing_item_rerouted_then_handed_over,
    cancellation => cancel_releases_stock,
}

//! kill -9 of the real `oms-server` binary in the middle of an order load,
//! then a restart on the same SQLite file: every order answered 201 exists
//! exactly once (a replay of its Idempotency-Key returns it, not a new one),
//! the reservations equal the units of the open fulfilments, and every order
//! has its outbox messages (written in the same transaction).

#![allow(clippy::unwrap_used)]

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const SEED: u64 = 5;

fn start(database: &std::path::Path, token: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms-server"))
        .args(["--listen", "127.0.0.1:0", "--demo", "small", "--seed"])
        .arg(SEED.to_string())
        .arg("--database")
        .arg(database)
        .arg("--exit-on-stdin-eof")
        .env("OMS_BOOTSTRAP_ADMIN_TOKEN", token)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.split_whitespace().nth(1).unwrap().to_owned();
    (child, base)
}

fn body(i: usize, skus: &[String]) -> Value {
    let lines: Vec<Value> = (0..1 + i % 3)
        .map(|k| json!({"sku": skus[(i * 7 + k * 13) % skus.len()], "quantity": 1 + (i + k) % 2}))
        .collect();
    json!({
        "channel": "web-fr",
        "delivery": "home_delivery",
        "destination": {"address": {"coordinates": {"lat": 48.857, "lon": 2.372},
            "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"}},
        "customer": {"name": format!("Crash {i}"), "email": format!("crash{i}@example.com")},
        "lines": lines,
        "payment": "gateway",
        "accept_partial": true,
    })
}

async fn db_totals(url: &str) -> (i64, i64, Vec<String>) {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let reserved: i64 = sqlx::query("SELECT COALESCE(SUM(reserved), 0) AS r FROM stock_levels")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("r");
    let mut open_units = 0;
    for row in sqlx::query(
        "SELECT document FROM fulfilments WHERE status IN \
         ('awaiting_preparation', 'in_preparation', 'ready_for_pickup', 'ready_to_ship')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    {
        let doc: Value = serde_json::from_str(row.get::<&str, _>("document")).unwrap();
        for line in doc["fulfilment"]["lines"].as_array().unwrap() {
            open_units += line["quantity"].as_i64().unwrap();
        }
    }
    let without_outbox: Vec<String> = sqlx::query(
        "SELECT id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM outbox m WHERE m.order_id = o.id)",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("id"))
    .collect();
    (reserved, open_units, without_outbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_an_order_load_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("oms.sqlite");
    let url = format!("sqlite://{}", database.display());
    let token = oms_api::token::new_token();
    let (mut server, base) = start(&database, &token);
    let http = reqwest::Client::new();
    let products: Value = http
        .get(format!("{base}/v1/products?limit=200"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let skus: Vec<String> = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["product_type"] == "standard")
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect();
    let (reserved_before, open_before, _) = db_totals(&url).await;
    assert_eq!(open_before, 0);

    // 600 orders, 16 in flight; the server is killed after the 150th answer.
    let total = 600;
    let mut answered: HashMap<usize, String> = HashMap::new();
    let mut in_flight = FuturesUnordered::new();
    let mut next = 0;
    let mut killed = false;
    let send = |i: usize| {
        let request = http
            .post(format!("{base}/v1/orders"))
            .bearer_auth(&token)
            .header("idempotency-key", format!("crash-{i}"))
            .json(&body(i, &skus));
        async move { (i, request.send().await) }
    };
    while next < 16 {
        in_flight.push(send(next));
        next += 1;
    }
    while let Some((i, result)) = in_flight.next().await {
        if let Ok(response) = result
            && response.status().as_u16() == 201
            && let Ok(order) = response.json::<Value>().await
        {
            answered.insert(i, order["id"].as_str().unwrap().to_owned());
        }
        if !killed && answered.len() >= 150 {
            server.kill().unwrap(); // SIGKILL
            server.wait().unwrap();
            killed = true;
        }
        if next < total && !killed {
            in_flight.push(send(next));
            next += 1;
        }
    }
    assert!(killed, "the load finished before the kill");

    let (mut server, base) = start(&database, &token);
    // Every answered order exists once, and replaying its key returns it.
    for (i, id) in &answered {
        let response = http
            .post(format!("{base}/v1/orders"))
            .bearer_auth(&token)
            .header("idempotency-key", format!("crash-{i}"))
            .json(&body(*i, &skus))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let replay: Value = response.json().await.unwrap();
        assert_eq!(replay["id"], id.as_str(), "order {i} was placed twice");
    }
    let (reserved_after, open_units, without_outbox) = db_totals(&url).await;
    assert_eq!(
        reserved_after - reserved_before,
        open_units,
        "reservations equal the open fulfilments' units"
    );
    assert!(open_units > 0);
    assert!(
        without_outbox.is_empty(),
        "orders without outbox: {without_outbox:?}"
    );
    drop(server.stdin.take());
    server.wait().unwrap();
}

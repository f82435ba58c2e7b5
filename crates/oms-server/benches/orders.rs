//! `cargo xtask bench orders`: orders of 1–5 lines placed over HTTP on
//! loopback against the real `oms-server` binary (release), seeded with the
//! small demo retailer:
//!
//! 1. one instance on a SQLite file;
//! 2. two instances on one PostgreSQL database, requests alternating between
//!    them (when `AISLE_TEST_POSTGRES_URL` names a role that may create
//!    databases; `cargo xtask bench orders` sets it).
//!
//! A bounded load: `ORDERS_REQUESTS` orders (default 20,000) from
//! `ORDERS_CONNECTIONS` concurrent keep-alive connections (default 32), each
//! with its own `Idempotency-Key`, after a warm-up. Reports orders/s and
//! latency percentiles measured per request by the client (closed loop: a
//! connection sends its next order when the last is answered).
//!
//! Then a second, open-loop measure: `ORDERS_PACED` orders (default 10,000;
//! 0 skips it) sent on a fixed schedule at the target rate (SQLite 2,000/s,
//! PostgreSQL 1,000/s; `ORDERS_RATE` overrides both), whatever the answers
//! do, on as many connections as that takes (at most 512 in flight). Each
//! latency runs from the order's scheduled send time, so a server that
//! falls behind is charged for the queue it builds (no coordinated
//! omission). Finally the bench reads the
//! stock levels back from the database to prove nothing was oversold: the
//! reserved units grew by exactly the units the accepted orders were given,
//! and no stock row holds more reserved than on hand (beyond rows that
//! already did before, none in the demo).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness: fail loudly

use oms_domain::demo::{self, DemoSize};
use oms_domain::rng::SplitMix64;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SEED: u64 = 42;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A running `oms-server` process (stopped when dropped: its stdin closes).
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn start_server(database: &str, token: &str) -> Server {
    // ORDERS_SERVER_BIN: another build of the server (A/B runs of two
    // builds with one load generator); by default the one cargo built.
    let binary = std::env::var("ORDERS_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_oms-server").into());
    let mut child = Command::new(binary)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "small",
            "--seed",
            &SEED.to_string(),
            "--exit-on-stdin-eof",
            "--database",
            database,
        ])
        .env("OMS_BOOTSTRAP_ADMIN_TOKEN", token)
        // ORDERS_SERVER_LOG: the servers' log filter (default warn), e.g. to
        // count placements that went the locked way.
        .env(
            "RUST_LOG",
            std::env::var("ORDERS_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .nth(1)
        .expect("ready line")
        .to_owned();
    Server { child, base }
}

/// Σ reserved, and the rows whose reservations exceed what is on hand.
async fn stock_check(url: &str) -> (i64, i64) {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) AS reserved, \
         CAST(COALESCE(SUM(CASE WHEN reserved > on_hand THEN 1 ELSE 0 END), 0) AS BIGINT) AS over \
         FROM stock_levels",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    (row.get("reserved"), row.get("over"))
}

fn main() {
    sqlx::any::install_default_drivers();
    let requests = env_number("ORDERS_REQUESTS", 20_000);
    let connections = env_number("ORDERS_CONNECTIONS", 32);
    let bodies = Arc::new(order_bodies(5_000));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let token = format!("aisle_bench_{}", uuid::Uuid::new_v4().simple());
    let path = dir.path().join("oms.sqlite");
    let server = start_server(path.to_str().unwrap(), &token);
    let url = format!("sqlite://{}", path.display());
    runtime.block_on(measure(
        "SQLite, one instance",
        std::slice::from_ref(&server.base),
        &url,
        &token,
        &bodies,
        Shape {
            requests,
            connections,
            paced_rate: 2_000,
        },
    ));
    drop(server);
    // Deleted now, not at the end: the SQLite run leaves a GiB or more of
    // its files' pages dirty in the OS's cache, and their write-back slowed
    // the PostgreSQL run that followed (PostgreSQL, two instances: 864
    // orders/s after it, 1,164–1,179 alone). Unlinked, they are dropped.
    drop(dir);

    match std::env::var("AISLE_TEST_POSTGRES_URL") {
        Err(_) => println!("orders: AISLE_TEST_POSTGRES_URL is not set; PostgreSQL skipped"),
        Ok(admin) => {
            let name = format!("aisle_bench_{}", uuid::Uuid::new_v4().simple());
            runtime.block_on(async {
                let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            });
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            // One at a time: the first seeds, the second finds the seed.
            let first = start_server(&url, &token);
            let second = start_server(&url, &token);
            runtime.block_on(measure(
                "PostgreSQL, two instances",
                &[first.base.clone(), second.base.clone()],
                &url,
                &token,
                &bodies,
                Shape {
                    requests: requests / 2,
                    connections,
                    paced_rate: 1_000,
                },
            ));
            drop(first);
            drop(second);
            runtime.block_on(async {
                let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            });
        }
    }
}

/// The load of one measure: the closed loop's orders and connections, the
/// open loop's default rate (orders/s).
struct Shape {
    requests: usize,
    connections: usize,
    paced_rate: usize,
}

async fn measure(
    label: &str,
    bases: &[String],
    database_url: &str,
    token: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    shape: Shape,
) {
    let Shape {
        requests,
        connections,
        paced_rate,
    } = shape;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let urls: Vec<String> = bases.iter().map(|b| format!("{b}/v1/orders")).collect();
    let (reserved_before, over_before) = stock_check(database_url).await;
    let warm_up = run_load(&client, &urls, token, bodies, 0, 500, connections).await;
    let began = Instant::now();
    let load = run_load(&client, &urls, token, bodies, 500, requests, connections).await;
    let elapsed = began.elapsed();
    let paced_requests = env_number("ORDERS_PACED", 10_000);
    let paced = if paced_requests > 0 {
        let rate = env_number("ORDERS_RATE", paced_rate);
        let paced = run_paced(&urls, token, bodies, 500 + requests, paced_requests, rate).await;
        Some((rate, paced))
    } else {
        None
    };
    let (reserved_after, over_after) = stock_check(database_url).await;
    let mut latencies = load.latencies;
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "orders [{label}]: {requests} orders, {connections} connections, {:.2} s: {:.0} orders/s; \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} placed, {} refused (cannot be served), \
         {} failed",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap()),
        load.placed,
        load.refused,
        load.failed,
    );
    if let Some((rate, paced)) = &paced {
        report_paced(label, *rate, paced);
    }
    let paced = paced.map(|(_, paced)| paced).unwrap_or_default();
    let allocated = warm_up.units + load.units + paced.load.units;
    println!(
        "orders [{label}]: stock read back: Σ reserved {reserved_before} → {reserved_after} \
         (+{}), units given to accepted orders {allocated}; rows with reserved > on hand: \
         {over_before} → {over_after}",
        reserved_after - reserved_before,
    );
    assert_eq!(
        load.failed + warm_up.failed + paced.load.failed,
        0,
        "every order must be answered 201 or 409"
    );
    assert_eq!(
        reserved_after - reserved_before,
        allocated,
        "reservations must equal the units allocated"
    );
    assert_eq!(over_after, over_before, "oversold rows");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Load {
    latencies: Vec<Duration>,
    placed: usize,
    refused: usize,
    failed: usize,
    units: i64,
}

async fn run_load(
    client: &reqwest::Client,
    urls: &[String],
    token: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    first: usize,
    requests: usize,
    connections: usize,
) -> Load {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let run = uuid::Uuid::new_v4().simple().to_string();
    for _ in 0..connections {
        let (client, urls, token, bodies, next, run) = (
            client.clone(),
            urls.to_vec(),
            token.to_owned(),
            bodies.clone(),
            next.clone(),
            run.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut load = Load::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return load;
                }
                let n = first + i;
                let sent = Instant::now();
                let url = &urls[i % urls.len()];
                place_one(&client, url, &token, &bodies, &run, n, &mut load).await;
                load.latencies.push(sent.elapsed());
            }
        }));
    }
    let mut all = Load::default();
    for task in tasks {
        all.add(task.await.unwrap());
    }
    all
}

/// Sends order `n` and counts its answer into `load`.
async fn place_one(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    bodies: &[Vec<u8>],
    run: &str,
    n: usize,
    load: &mut Load,
) {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("idempotency-key", format!("bench-{run}-{n}"))
        .body(bodies[n % bodies.len()].clone())
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            match status {
                201 => {
                    load.placed += 1;
                    load.units += units_in(&body);
                }
                409 => load.refused += 1,
                _ => {
                    if load.failed == 0 {
                        eprintln!("orders: unexpected {status}: {body}");
                    }
                    load.failed += 1
                }
            }
        }
        Err(_) => load.failed += 1,
    }
}

impl Load {
    fn add(&mut self, other: Load) {
        self.latencies.extend(other.latencies);
        self.placed += other.placed;
        self.refused += other.refused;
        self.failed += other.failed;
        self.units += other.units;
    }
}

/// What the open-loop run saw.
#[derive(Default)]
struct Paced {
    load: Load,
    /// From the first scheduled send to the last answer.
    elapsed: Duration,
    /// The most orders in flight at once.
    most_in_flight: usize,
}

/// Most orders in flight in the open-loop run (beyond it, an order waits
/// for a free slot, and its wait counts in its latency).
const PACED_IN_FLIGHT: usize = 512;

/// The open-loop run: order `first + i` is due at `start + i / rate`,
/// whatever the earlier ones' answers; its latency runs from that time.
async fn run_paced(
    urls: &[String],
    token: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    first: usize,
    requests: usize,
    rate: usize,
) -> Paced {
    // Its own pool: keeps every connection it opened for the next orders.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(PACED_IN_FLIGHT)
        .build()
        .unwrap();
    let run = Arc::new(uuid::Uuid::new_v4().simple().to_string());
    let slots = Arc::new(tokio::sync::Semaphore::new(PACED_IN_FLIGHT));
    let token: Arc<str> = token.into();
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(requests);
    let mut most_in_flight = 0;
    for i in 0..requests {
        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due).await;
        let slot = slots.clone().acquire_owned().await.unwrap();
        most_in_flight = most_in_flight.max(PACED_IN_FLIGHT - slots.available_permits());
        let (client, url, token, bodies, run) = (
            client.clone(),
            urls[i % urls.len()].clone(),
            token.clone(),
            bodies.clone(),
            run.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut load = Load::default();
            place_one(&client, &url, &token, &bodies, &run, first + i, &mut load).await;
            drop(slot);
            load.latencies.push(due.elapsed());
            load
        }));
    }
    let mut load = Load::default();
    for task in tasks {
        load.add(task.await.unwrap());
    }
    Paced {
        load,
        elapsed: start.elapsed(),
        most_in_flight,
    }
}

fn report_paced(label: &str, rate: usize, paced: &Paced) {
    // When the slow answers were due: latencies are in due order (order i
    // due at i / rate), so each window of a quarter second is a slice.
    let window = (rate / 4).max(1);
    let slow: Vec<String> = paced
        .load
        .latencies
        .chunks(window)
        .enumerate()
        .filter_map(|(w, chunk)| {
            let worst = chunk.iter().max()?;
            let over = chunk.iter().filter(|l| ms(**l) > 20.0).count();
            (over > 0).then(|| {
                format!(
                    "{:.2}–{:.2} s: {over} over 20 ms, worst {:.0} ms",
                    (w * window) as f64 / rate as f64,
                    ((w + 1) * window) as f64 / rate as f64,
                    ms(*worst)
                )
            })
        })
        .collect();
    let mut latencies = paced.load.latencies.clone();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let requests = latencies.len();
    println!(
        "orders [{label}], open loop paced at {rate}/s: {requests} orders in {:.2} s \
         ({:.0} answered/s); latency from each order's scheduled send p50 {:.2} ms, \
         p99 {:.2} ms, max {:.2} ms; most in flight {}; {} placed, {} refused, {} failed",
        paced.elapsed.as_secs_f64(),
        requests as f64 / paced.elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(*latencies.last().unwrap()),
        paced.most_in_flight,
        paced.load.placed,
        paced.load.refused,
        paced.load.failed,
    );
    if !slow.is_empty() {
        println!(
            "orders [{label}], open loop: quarter seconds (by scheduled send) with answers over 20 ms: {}",
            slow.join("; ")
        );
    }
}

fn units_in(order: &Value) -> i64 {
    order["fulfilments"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .flat_map(|f| f["lines"].as_array().cloned().unwrap_or_default())
                .map(|l| l["quantity"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// Web orders like a French web shop takes: 1–5 lines of 1–2 units of
/// standard products, home delivery to French cities, some click & collect.
fn order_bodies(count: usize) -> Vec<Vec<u8>> {
    let catalogue = demo::catalogue(SEED, DemoSize::Small);
    let skus: Vec<&str> = catalogue
        .iter()
        .filter(|p| p.product_type == "standard")
        .map(|p| p.sku.as_str())
        .collect();
    let addresses = [
        ("75011", 48.857, 2.380, "FR-IDF"),
        ("69003", 45.760, 4.860, "FR-SE"),
        ("33000", 44.837, -0.579, "FR-W"),
        ("59000", 50.630, 3.060, "FR-N"),
        ("13001", 43.300, 5.380, "FR-S"),
    ];
    let mut rng = SplitMix64::new(SEED);
    (0..count)
        .map(|i| {
            let (postal, lat, lon, zone) = *rng.pick(&addresses);
            let lines: Vec<Value> = (0..1 + rng.below(5))
                .map(|_| {
                    json!({"sku": skus[rng.below(skus.len() as u64) as usize],
                           "quantity": 1 + rng.below(2)})
                })
                .collect();
            serde_json::to_vec(&json!({
                "channel": "web-fr",
                "delivery": "home_delivery",
                "destination": {"address": {"coordinates": {"lat": lat, "lon": lon},
                    "postal_code": postal, "country": "FR", "carrier_zone": zone}},
                "customer": {"name": format!("Client {i}"), "email": format!("client{i}@example.com")},
                "lines": lines,
                "payment": "gateway",
                "accept_partial": true,
            }))
            .unwrap()
        })
        .collect()
}

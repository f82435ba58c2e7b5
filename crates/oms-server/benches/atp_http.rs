//! `cargo xtask bench atp-http`: product ATP over HTTP on loopback, against
//! the real `oms-server` binary (release) on a SQLite file seeded with the
//! large demo (100,000 SKUs, 500 locations, ~5 million stock rows).
//!
//! A bounded load: `ATP_HTTP_REQUESTS` requests (default 200,000) from
//! `ATP_HTTP_CONNECTIONS` concurrent keep-alive connections (default 64),
//! after a warm-up. Reports throughput and latency percentiles measured per
//! request by the client. Both processes share this machine's cores, as they
//! would on a store's counter PC.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness: fail loudly

use oms_domain::demo::{self, DemoSize, carrier_zone};
use oms_domain::model::{CountryCode, LocationKind};
use oms_domain::rng::SplitMix64;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let requests = env_number("ATP_HTTP_REQUESTS", 200_000);
    let connections = env_number("ATP_HTTP_CONNECTIONS", 64);
    let dir = tempfile::tempdir().unwrap();
    let token = format!("aisle_bench_{}", uuid::Uuid::new_v4().simple());

    println!("atp-http: seeding the large demo into SQLite and starting oms-server (release)…");
    let started = Instant::now();
    let mut server = Command::new(env!("CARGO_BIN_EXE_oms-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "large",
            "--seed",
            &SEED.to_string(),
            "--exit-on-stdin-eof",
        ])
        .arg("--database")
        .arg(dir.path().join("oms.sqlite"))
        .env("OMS_BOOTSTRAP_ADMIN_TOKEN", &token)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .nth(1)
        .expect("ready line")
        .to_owned();
    println!(
        "atp-http: server ready at {base} after {:.1} s (seed + index build)",
        started.elapsed().as_secs_f64()
    );

    let bodies = Arc::new(request_bodies(2_000));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()
            .unwrap();
        let url = format!("{base}/v1/atp/product");
        // Warm-up: connections, caches, the token cache.
        run_load(&client, &url, &token, &bodies, 5_000, connections).await;
        let began = Instant::now();
        let (mut latencies, failures) =
            run_load(&client, &url, &token, &bodies, requests, connections).await;
        let elapsed = began.elapsed();
        latencies.sort_unstable();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "atp-http: {requests} requests, {connections} connections, {:.2} s: {:.0} requests/s; \
             latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failures} non-200 answers",
            elapsed.as_secs_f64(),
            requests as f64 / elapsed.as_secs_f64(),
            ms(pct(0.50)),
            ms(pct(0.99)),
            ms(*latencies.last().unwrap()),
        );
        assert_eq!(failures, 0, "every ATP request must succeed");
    });
    drop(server.stdin.take());
    let _ = server.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run_load(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    requests: usize,
    connections: usize,
) -> (Vec<Duration>, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, token, bodies, next) = (
            client.clone(),
            url.to_owned(),
            token.to_owned(),
            bodies.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return (latencies, failures);
                }
                let body = bodies[i % bodies.len()].clone();
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let _ = response.bytes().await;
                        if !ok {
                            failures += 1;
                        }
                    }
                    Err(_) => failures += 1,
                }
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(requests);
    let mut failures = 0;
    for task in tasks {
        let (latencies, failed) = task.await.unwrap();
        all.extend(latencies);
        failures += failed;
    }
    (all, failures)
}

/// Product ATP questions like a web shop's product pages ask: random SKUs,
/// French and German addresses, sometimes a pickup store.
fn request_bodies(count: usize) -> Vec<Vec<u8>> {
    let network = demo::network(SEED, DemoSize::Large);
    let stores: Vec<String> = network
        .network
        .locations
        .iter()
        .filter(|l| l.kind == LocationKind::Store)
        .map(|l| l.id.as_str().to_owned())
        .collect();
    let addresses = [
        ("FR", "75011", 48.857, 2.380, "web-fr"),
        ("FR", "69003", 45.760, 4.860, "web-fr"),
        ("FR", "33000", 44.837, -0.579, "web-fr"),
        ("DE", "10115", 52.532, 13.384, "web-de"),
        ("DE", "80331", 48.137, 11.575, "web-de"),
    ];
    let mut rng = SplitMix64::new(SEED);
    (0..count)
        .map(|_| {
            let sku = network.products[rng.below(network.products.len() as u64) as usize]
                .sku
                .as_str()
                .to_owned();
            let (country, postal, lat, lon, channel) = *rng.pick(&addresses);
            let zone = carrier_zone(CountryCode::parse(country).unwrap(), postal).unwrap();
            let mut destination = json!({
                "address": {"coordinates": {"lat": lat, "lon": lon}, "postal_code": postal,
                            "country": country, "carrier_zone": zone.as_str()}
            });
            if rng.chance(30) {
                destination["pickup_store"] = Value::String(rng.pick(&stores).clone());
            }
            serde_json::to_vec(&json!({"channel": channel, "sku": sku, "destination": destination}))
                .unwrap()
        })
        .collect()
}

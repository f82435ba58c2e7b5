//! `cargo xtask bench atp-http`: product ATP over HTTP on loopback, against
//! the real `oms-server` binary (release) on a SQLite file holding the large
//! demo (seed 1: 100,000 SKUs, 500 locations, 4.94 million stock rows; a copy
//! of the template the feed bench keeps in `<target>/bench-feed/`).
//!
//! A bounded load: `ATP_HTTP_REQUESTS` requests (default 200,000) per shape,
//! after a warm-up. A shape is a number of concurrent keep-alive connections
//! (`ATP_HTTP_CONNECTIONS`, a comma-separated list, default `64,16`). The
//! client (`ATP_HTTP_CLIENT`) is either `raw` (the default: HTTP/1.1 written
//! and parsed by hand on tokio sockets, one client thread — the cheapest
//! client, so most of the two cores go to the server) or `reqwest` (the first
//! version's client, two threads). Throughput and latency percentiles are
//! measured per request by the client; every answer's status is checked, and
//! the warm-up's answers are parsed in full (four delivery methods each).
//! Both processes share this machine's cores, as they would on a store's
//! counter PC.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark harness: fail loudly

#[path = "common/template.rs"]
mod template;

use oms_domain::demo::{self, DemoSize, carrier_zone};
use oms_domain::model::{CountryCode, LocationKind};
use oms_domain::rng::SplitMix64;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The template's seed (the feed bench's).
const SEED: u64 = 1;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Client {
    Raw,
    Reqwest,
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let requests = env_number("ATP_HTTP_REQUESTS", 200_000);
    let shapes: Vec<usize> = std::env::var("ATP_HTTP_CONNECTIONS")
        .unwrap_or_else(|_| "64,16".to_owned())
        .split(',')
        .map(|n| n.trim().parse().expect("ATP_HTTP_CONNECTIONS: numbers"))
        .collect();
    let client = match std::env::var("ATP_HTTP_CLIENT").as_deref() {
        Ok("reqwest") => Client::Reqwest,
        Ok("raw") | Err(_) => Client::Raw,
        Ok(other) => panic!("ATP_HTTP_CLIENT: `raw` or `reqwest`, not `{other}`"),
    };
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("oms.sqlite");
    let token = format!("aisle_bench_{}", uuid::Uuid::new_v4().simple());

    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let copied = Instant::now();
    setup.block_on(template::sqlite_copy_of_seeded_template(SEED, &database));
    drop(setup);
    println!(
        "atp-http: copied the large demo template in {:.1} s; starting oms-server (release)…",
        copied.elapsed().as_secs_f64()
    );
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
        .arg(&database)
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
        "atp-http: server ready at {base} after {:.1} s (open + stock index build); pid {}",
        started.elapsed().as_secs_f64(),
        server.id()
    );
    let address = base.trim_start_matches("http://").to_owned();

    let bodies = Arc::new(request_bodies(2_000));
    let runtime = match client {
        Client::Raw => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        Client::Reqwest => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    };
    runtime.block_on(async {
        let raw = Arc::new(RawRequests::new(&address, &token, &bodies));
        let load = Load {
            client,
            raw,
            url: format!("{base}/v1/atp/product"),
            token: token.clone(),
            bodies: bodies.clone(),
        };
        // Warm-up: connections, caches, the token cache; every answer parsed.
        let (_, failures) = load.run(5_000, 16, true).await;
        assert_eq!(failures, 0, "every warm-up ATP request must succeed");
        for &connections in &shapes {
            let began = Instant::now();
            let (mut latencies, failures) = load.run(requests, connections, false).await;
            let elapsed = began.elapsed();
            latencies.sort_unstable();
            let pct = |p: f64| {
                latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)]
            };
            println!(
                "atp-http ({client:?} client): {requests} requests, {connections} connections, \
                 {:.2} s: {:.0} requests/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
                 {failures} non-200 answers",
                elapsed.as_secs_f64(),
                requests as f64 / elapsed.as_secs_f64(),
                ms(pct(0.50)),
                ms(pct(0.99)),
                ms(*latencies.last().unwrap()),
            );
            assert_eq!(failures, 0, "every ATP request must succeed");
        }
    });
    drop(server.stdin.take());
    let _ = server.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Load {
    client: Client,
    raw: Arc<RawRequests>,
    url: String,
    token: String,
    bodies: Arc<Vec<Vec<u8>>>,
}

impl Load {
    /// `requests` requests from `connections` connections; with `check`,
    /// every answer is parsed and must cover the four delivery methods.
    async fn run(
        &self,
        requests: usize,
        connections: usize,
        check: bool,
    ) -> (Vec<Duration>, usize) {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        let reqwest = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()
            .unwrap();
        for _ in 0..connections {
            let next = next.clone();
            let task = match self.client {
                Client::Raw => {
                    tokio::spawn(raw_connection(self.raw.clone(), next, requests, check))
                }
                Client::Reqwest => tokio::spawn(reqwest_connection(
                    reqwest.clone(),
                    self.url.clone(),
                    self.token.clone(),
                    self.bodies.clone(),
                    next,
                    requests,
                    check,
                )),
            };
            tasks.push(task);
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
}

/// An answer must be a product ATP over the four delivery methods.
fn check_answer(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["methods"].as_array().map(|m| m.len() == 4))
        .unwrap_or(false)
}

async fn reqwest_connection(
    client: reqwest::Client,
    url: String,
    token: String,
    bodies: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
    requests: usize,
    check: bool,
) -> (Vec<Duration>, usize) {
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
                let body = response.bytes().await;
                let ok = ok && body.as_ref().is_ok_and(|body| !check || check_answer(body));
                if !ok {
                    failures += 1;
                }
            }
            Err(_) => failures += 1,
        }
        latencies.push(sent.elapsed());
    }
}

/// Every request's bytes, written once: head and body.
struct RawRequests {
    address: String,
    requests: Vec<Vec<u8>>,
}

impl RawRequests {
    fn new(address: &str, token: &str, bodies: &[Vec<u8>]) -> Self {
        let requests = bodies
            .iter()
            .map(|body| {
                let mut request = format!(
                    "POST /v1/atp/product HTTP/1.1\r\nHost: {address}\r\n\
                     Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                request.extend_from_slice(body);
                request
            })
            .collect();
        Self {
            address: address.to_owned(),
            requests,
        }
    }
}

/// One keep-alive HTTP/1.1 connection: a request, its whole answer, the
/// next. Fails loudly on anything but a `Content-Length` answer.
async fn raw_connection(
    raw: Arc<RawRequests>,
    next: Arc<AtomicUsize>,
    requests: usize,
    check: bool,
) -> (Vec<Duration>, usize) {
    let mut stream = tokio::net::TcpStream::connect(&raw.address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut latencies = Vec::new();
    let mut failures = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= requests {
            return (latencies, failures);
        }
        let sent = Instant::now();
        stream
            .write_all(&raw.requests[i % raw.requests.len()])
            .await
            .unwrap();
        // The head, then the body it announces.
        buffer.clear();
        let head_end = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break end + 4;
            }
            read_more(&mut stream, &mut buffer).await;
        };
        let head = std::str::from_utf8(&buffer[..head_end]).expect("an ASCII head");
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .expect("a Content-Length answer");
        while buffer.len() < head_end + length {
            read_more(&mut stream, &mut buffer).await;
        }
        assert_eq!(buffer.len(), head_end + length, "one answer per request");
        latencies.push(sent.elapsed());
        if status != 200 || (check && !check_answer(&buffer[head_end..])) {
            failures += 1;
        }
    }
}

async fn read_more(stream: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>) {
    buffer.reserve(16 * 1024);
    let read = stream.read_buf(buffer).await.unwrap();
    assert!(read > 0, "the server closed the connection");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

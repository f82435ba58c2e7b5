//! `cargo xtask bench feed`: a 1,000,000-row stock snapshot posted to a real
//! server on loopback, streamed, on SQLite (and on PostgreSQL when
//! `AISLE_TEST_POSTGRES_URL` is set). Not a timed test: it prints figures for
//! BENCHMARKS.md.
//!
//! Shape: the large demo retailer (100,000 SKUs, 500 locations, ≈ 5 million
//! stock rows); the feed is a full snapshot of 10 locations × 100,000 SKUs,
//! location by location, as a WMS or store system would export it. Timing
//! runs from the first byte sent to the last byte of the answer, so it covers
//! upload, parsing, staging, the set-based apply, commit and the stock index
//! refresh. The seeded databases are templates made once (SQLite: a file in
//! `<target>/bench-feed/`; PostgreSQL: a template database) and copied for
//! each run; seeding is not timed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark program: failing loudly is the point

#[path = "common/template.rs"]
mod template;

use oms_domain::demo::DemoSize;
use oms_server::{Config, DatabaseLocation, DemoSpec};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SEED: u64 = 1;
const LOCATIONS: usize = 10;
const CHUNK_BYTES: usize = 256 * 1024;

fn main() {
    // The server's own log shows each phase (seed, index build, feed).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("oms_server=info,oms_server::http::feeds=debug,oms_server::storage::feeds=debug")
            }),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("bench.sqlite");
        template::sqlite_copy_of_seeded_template(SEED, &database).await;
        run("SQLite", DatabaseLocation::SqliteFile(database)).await;
        match std::env::var("AISLE_TEST_POSTGRES_URL") {
            Ok(admin) => {
                let (url, name) = create_pg_database(&admin).await;
                run("PostgreSQL", DatabaseLocation::Url(url)).await;
                drop_pg_database(&admin, &name).await;
            }
            Err(_) => println!("\nPostgreSQL: skipped (AISLE_TEST_POSTGRES_URL is not set)"),
        }
    });
}

async fn run(label: &str, database: DatabaseLocation) {
    println!("\n== {label}");
    let started = Instant::now();
    let state = oms_server::open(&Config {
        database,
        demo: Some(DemoSpec {
            size: DemoSize::Large,
            seed: SEED,
        }),
        demo_template: None,
        bootstrap_admin_token: Some(TOKEN.to_owned()),
        outbox: Default::default(),
        footprint: Default::default(),
    })
    .await
    .expect("open the server");
    println!(
        "server opened (stock index built) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (mut skus, mut locations) = {
        let cache = state.stock.read();
        let skus: Vec<String> = cache
            .known_skus
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        let locations: Vec<String> = cache
            .index
            .locations()
            .iter()
            .map(|l| l.id.as_str().to_owned())
            .collect();
        (skus, locations)
    };
    skus.sort();
    locations.sort();
    locations.truncate(LOCATIONS);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(oms_server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));

    let feed = Feed {
        skus: &skus,
        locations: &locations,
    };
    let rows = skus.len() * locations.len();
    let length = feed.length();
    println!(
        "feed: {rows} rows ({} SKUs × {} locations), {:.1} MiB of CSV",
        skus.len(),
        locations.len(),
        length as f64 / (1024.0 * 1024.0)
    );

    let started = Instant::now();
    let (status, body) = feed.post(&address.to_string(), length).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(status, 200, "the feed was not applied: {body}");
    let report: serde_json::Value = serde_json::from_str(&body).expect("a JSON report");
    assert_eq!(report["rows_applied"], rows as u64);
    println!(
        "{label}: {rows} rows in {seconds:.2} s = {:.0} rows/s (rows changed: {})",
        rows as f64 / seconds,
        report["rows_changed"]
    );

    let _ = stop.send(());
    let _ = server.await;
    state.storage.close().await;
}

/// The admin token this benchmark registers with its own server.
const TOKEN: &str = "aisle_feed_benchmark_token";

/// The snapshot feed, generated on the fly (twice: once to measure it for
/// `Content-Length`, once to send it).
struct Feed<'a> {
    skus: &'a [String],
    locations: &'a [String],
}

impl<'a> Feed<'a> {
    /// Successive pieces of the CSV body, generated as they are asked for.
    fn pieces(&self) -> Pieces<'a> {
        Pieces {
            skus: self.skus,
            locations: self.locations,
            next: 0,
            header: true,
        }
    }

    fn length(&self) -> usize {
        self.pieces().map(|piece| piece.len()).sum()
    }

    /// Sends the feed over a raw HTTP/1.1 connection, piece by piece as it
    /// is generated (the client never holds the feed either).
    async fn post(&self, address: &str, length: usize) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let head = format!(
            "POST /v1/stock/feeds?format=csv&mode=snapshot HTTP/1.1\r\nHost: {address}\r\n\
             Content-Type: text/csv\r\nContent-Length: {length}\r\nConnection: close\r\n\
             Authorization: Bearer {TOKEN}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        for piece in self.pieces() {
            stream.write_all(&piece).await.unwrap();
        }
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let response = String::from_utf8(response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

/// Rows in location order, then SKU order.
struct Pieces<'a> {
    skus: &'a [String],
    locations: &'a [String],
    /// Index of the next row.
    next: usize,
    header: bool,
}

impl Iterator for Pieces<'_> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        use std::io::Write as _;
        let total = self.skus.len() * self.locations.len();
        if self.next >= total && !self.header {
            return None;
        }
        let mut piece = Vec::with_capacity(CHUNK_BYTES + 64);
        if std::mem::take(&mut self.header) {
            piece.extend_from_slice(b"location,sku,on_hand\n");
        }
        while self.next < total && piece.len() < CHUNK_BYTES {
            let (l, s) = (self.next / self.skus.len(), self.next % self.skus.len());
            let _ = writeln!(
                piece,
                "{},{},{}",
                self.locations[l],
                self.skus[s],
                (s * 7 + l * 3) % 41
            );
            self.next += 1;
        }
        Some(piece)
    }
}

/// A fresh PostgreSQL database holding the seeded large demo: a copy
/// (`CREATE DATABASE … TEMPLATE`, a file copy) of a template database seeded
/// once, like the SQLite template (seeding 4.94 M stock rows takes minutes).
async fn create_pg_database(admin: &str) -> (String, String) {
    use sqlx::Connection;
    let (base, _) = admin
        .rsplit_once('/')
        .expect("AISLE_TEST_POSTGRES_URL ends with /<database>");
    let template = format!("aisle_bench_large_seed_{SEED}");
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    if exists.is_none() {
        let seeding = format!("{template}_partial");
        for statement in [
            format!("DROP DATABASE IF EXISTS {seeding} WITH (FORCE)"),
            format!("CREATE DATABASE {seeding}"),
        ] {
            sqlx::query(&statement).execute(&mut conn).await.unwrap();
        }
        let started = Instant::now();
        let state = oms_server::open(&Config {
            database: DatabaseLocation::Url(format!("{base}/{seeding}")),
            demo: Some(DemoSpec {
                size: DemoSize::Large,
                seed: SEED,
            }),
            // The template is for SQLite files; this seeds PostgreSQL.
            demo_template: None,
            // Each run registers its own token in its copy.
            bootstrap_admin_token: None,
            outbox: Default::default(),
            footprint: Default::default(),
        })
        .await
        .expect("seed the PostgreSQL template");
        state.storage.close().await;
        println!(
            "seeded the large demo into PostgreSQL (template {template}) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        // Renaming needs every other session gone; a closed pool's last
        // connections (or a psql looking on) may take a moment to leave.
        let rename = format!("ALTER DATABASE {seeding} RENAME TO {template}");
        let mut tries = 0;
        while let Err(error) = sqlx::query(&rename).execute(&mut conn).await {
            tries += 1;
            assert!(tries < 60, "keep the PostgreSQL template: {error}");
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    let name = format!("aisle_bench_{}", uuid::Uuid::new_v4().simple());
    let started = Instant::now();
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .await
        .unwrap();
    println!(
        "copied the PostgreSQL template in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (format!("{base}/{name}"), name)
}

async fn drop_pg_database(admin: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await;
}

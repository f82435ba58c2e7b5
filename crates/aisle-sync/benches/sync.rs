//! `cargo xtask bench sync`: the app's sync against the real `oms-server`
//! binary (release) seeded with the large demo (seed 1: 100,000 SKUs, 500
//! locations), a device paired to its first store:
//!
//! 1. first full pull into an empty cache (target ≤ 30 s);
//! 2. cache search over the 100,000 SKUs (target ≤ 20 ms);
//! 3. an incremental pull of 100 changes (target ≤ 100 ms);
//! 4. 1,000 queued actions (carry-out sales) pushed and acknowledged
//!    (target ≤ 2 s).
//!
//! A plain program (no criterion): each figure is one real operation, the
//! search figures the median and maximum of 30 runs per query. The seeded
//! database is kept as a template in `<target>/bench-sync/` (seeding the
//! large demo takes minutes); set `AISLE_OMS_SERVER` to use another binary.

#![allow(clippy::unwrap_used)] // a benchmark program: any failure aborts it

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aisle_sync::{
    Cache, MemoryTokenStore, PullOutcome, Sidecar, SidecarOptions, TokenStore, pull, push,
};
use oms_api::wire::{
    CarryOutSale, FeedFormat, FeedMode, FeedQuery, Intent, NewPairingCode, PlaceOrderLine,
    Quantity, Role, Sku,
};
use oms_domain::demo::DemoSize;
use oms_domain::model::LocationKind;

const SEED: u64 = 1;

fn target_dir() -> PathBuf {
    // <target>/release/deps/sync-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("AISLE_OMS_SERVER") {
        return PathBuf::from(path);
    }
    target_dir().join("release").join("oms-server")
}

fn options(database: &Path, demo: Option<&str>) -> SidecarOptions {
    SidecarOptions {
        binary: server_binary(),
        database: database.to_owned(),
        demo: demo.map(str::to_owned),
        seed: SEED,
        start_timeout: Duration::from_secs(1_800),
    }
}

/// A copy of the seeded large demo in `dir`.
async fn large_demo_database(dir: &Path) -> PathBuf {
    let templates = target_dir().join("bench-sync");
    std::fs::create_dir_all(&templates).unwrap();
    let template = templates.join(format!("large-seed-{SEED}.sqlite"));
    // The stock feed bench seeds the same large demo (seed 1): reuse it.
    let feed_template = target_dir()
        .join("bench-feed")
        .join(format!("large-seed-{SEED}.sqlite"));
    if !template.is_file() && feed_template.is_file() {
        std::fs::copy(&feed_template, &template).unwrap();
    }
    if !template.is_file() {
        eprintln!("seeding the large demo (once; takes minutes)…");
        let seeding = templates.join("seeding.sqlite");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", seeding.display()));
        }
        let started = Instant::now();
        let server = Sidecar::start(&options(&seeding, Some("large")))
            .await
            .unwrap();
        server.stop(Duration::from_secs(60)).await;
        // Fold the WAL into the file so that the file alone is the template.
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", seeding.display()))
            .await
            .unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        eprintln!("seeded in {:.0} s", started.elapsed().as_secs_f64());
        std::fs::rename(&seeding, &template).unwrap();
    }
    let database = dir.join("oms.sqlite");
    std::fs::copy(&template, &database).unwrap();
    database
}

fn sale(sku: &str) -> Intent {
    Intent::CarryOutSale(CarryOutSale {
        lines: vec![PlaceOrderLine {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::new(1),
        }],
        sold_at: None,
    })
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1_000.0)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let demo = oms_domain::demo::network(SEED, DemoSize::Large);
    let store = demo
        .network
        .locations
        .iter()
        .find(|l| l.kind == LocationKind::Store)
        .unwrap()
        .id
        .as_str()
        .to_owned();
    let store_rows = demo
        .stock_rows()
        .filter(|r| r.location.as_str() == store)
        .count();
    let sku_count = demo.products.len();
    drop(demo);

    let database = large_demo_database(dir.path()).await;
    let started = Instant::now();
    let server = Sidecar::start(&options(&database, None)).await.unwrap();
    eprintln!(
        "server ready in {:.0} s (index build)",
        started.elapsed().as_secs_f64()
    );
    let admin = server.client().clone();
    let url = admin.base_url().as_str().to_owned();
    let code = admin
        .create_pairing_code(&NewPairingCode {
            store: store.clone(),
            role: Role::StoreAssociate,
        })
        .await
        .unwrap();
    let cache = Cache::open(&dir.path().join("cache.sqlite")).await.unwrap();
    let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let device = aisle_sync::pair(&url, &code.code, "bench till", &cache, &tokens)
        .await
        .unwrap();
    let (_, client) = aisle_sync::device_client(&cache, &tokens).await.unwrap();

    // 1. First full pull into an empty cache.
    let started = Instant::now();
    let outcome = pull(&client, &cache, 5_000, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let full_pull = started.elapsed();
    let PullOutcome::CaughtUp(progress) = outcome else {
        panic!("not caught up");
    };
    let counts = cache.counts().await.unwrap();
    assert_eq!(counts.products as usize, sku_count);
    assert_eq!(counts.stock_rows as usize, store_rows);
    eprintln!(
        "full pull: {} changes in {} pages, {:.2} s ({} products, {} stock rows of {store})",
        progress.changes,
        progress.pages,
        full_pull.as_secs_f64(),
        counts.products,
        counts.stock_rows
    );

    // 2. Search.
    let sample = cache.product("SKU-054321").await.unwrap().unwrap();
    let name_words: Vec<String> = sample
        .name
        .split_whitespace()
        .map(|w| w.chars().take(3).collect())
        .collect();
    let queries = vec![
        "s".to_owned(),
        "oak".to_owned(),
        name_words.join(" "),
        "SKU-0543".to_owned(),
        "SKU-054321".to_owned(),
        sample.barcodes[0].clone(),
        sample.barcodes[0][..8].to_owned(),
        "zzzz".to_owned(),
    ];
    let mut search_rows = Vec::new();
    let mut worst_median = Duration::ZERO;
    for query in &queries {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..30 {
            let started = Instant::now();
            hits = cache.search_products(query, 50).await.unwrap().len();
            times.push(started.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        worst_median = worst_median.max(median);
        search_rows.push(format!(
            "| `{query}` | {hits} | {} | {} |",
            ms(median),
            ms(*times.last().unwrap())
        ));
    }

    // 3. Incremental pull of 100 changes (a delta feed at the store).
    let skus: Vec<String> = cache
        .stock_at(&store, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sku)
        .collect();
    assert_eq!(skus.len(), 100);
    let mut feed = String::from("location,sku,delta\n");
    for sku in &skus {
        feed.push_str(&format!("{store},{sku},3\n"));
    }
    let report = admin
        .stock_feed(
            &FeedQuery {
                format: FeedFormat::Csv,
                mode: FeedMode::Delta,
                job: None,
            },
            feed,
        )
        .await
        .unwrap();
    assert_eq!(report.rows_changed, 100);
    let started = Instant::now();
    let outcome = pull(&client, &cache, 5_000, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let incremental = started.elapsed();
    let incremental_changes = outcome.progress().changes;

    // 4. 1,000 queued actions pushed and acknowledged.
    let started = Instant::now();
    for i in 0..1_000 {
        cache.enqueue(sale(&skus[i % skus.len()])).await.unwrap();
    }
    let enqueue = started.elapsed();
    let started = Instant::now();
    let pushed = push(&client, &cache, &device.device_id, 500).await.unwrap();
    let push_time = started.elapsed();
    assert_eq!((pushed.applied, pushed.refused), (1_000, 0));
    assert_eq!(cache.counts().await.unwrap().outbox_pending, 0);
    let started = Instant::now();
    let outcome = pull(&client, &cache, 5_000, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    let after_push_pull = started.elapsed();

    println!();
    println!("| What | Result | Target |");
    println!("| --- | --- | --- |");
    println!(
        "| First full pull, empty cache | {:.2} s ({} changes, {} pages of 5,000: {} products, {} locations, {} channels, {} stock rows) | ≤ 30 s |",
        full_pull.as_secs_f64(),
        progress.changes,
        progress.pages,
        counts.products,
        counts.locations,
        counts.channels,
        counts.stock_rows
    );
    println!(
        "| Cache search, 100,000 SKUs (worst median of {} queries) | {} | ≤ 20 ms |",
        queries.len(),
        ms(worst_median)
    );
    println!(
        "| Incremental pull | {} ({incremental_changes} changes) | ≤ 100 ms for 100 |",
        ms(incremental)
    );
    println!(
        "| 1,000 queued carry-out sales pushed and acknowledged | {} ({} batches; enqueueing them took {}) | ≤ 2 s |",
        ms(push_time),
        pushed.batches,
        ms(enqueue)
    );
    println!(
        "| Pull after that push | {} ({} changes) | — |",
        ms(after_push_pull),
        outcome.progress().changes
    );
    println!();
    println!("| Search query | Results | Median | Max |");
    println!("| --- | --- | --- | --- |");
    for row in search_rows {
        println!("{row}");
    }
    server.stop(Duration::from_secs(30)).await;
}

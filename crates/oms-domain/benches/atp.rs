//! ATP benchmarks on the large demo network (100,000 SKUs, 500 locations,
//! ≈ 5 million stock rows): product ATP across all delivery methods, a
//! 10-line cart, one incremental stock update, and the index build.
//!
//! Criterion reports means; before it runs, a plain loop records every
//! call's latency with `Instant` and prints p50/p99/max, and the build's time
//! and memory (the index's own estimate and the process's resident-set
//! growth from /proc/self/statm). Run with `cargo bench -p oms-domain --bench atp`.

// A benchmark, not library code: failing loudly on a broken setup is right.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use jiff::Timestamp;
use oms_domain::atp::{Address, AtpRequest, CartLine, Destination, cart_atp, product_atp};
use oms_domain::demo::{self, DemoSize};
use oms_domain::model::{ChannelId, Coordinates, CountryCode, LocationKind, Quantity, Sku};
use oms_domain::rng::SplitMix64;
use oms_domain::stock::{StockIndex, StockRow};

const SEED: u64 = 42;

/// Resident set size in bytes (Linux), or 0 where /proc is not available.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>, target: Duration) {
    samples.sort_unstable();
    let p99 = percentile(&samples, 0.99);
    println!(
        "{name}: n={} p50={:.1?} p99={:.1?} max={:.1?} (target p99 ≤ {target:?}: {})",
        samples.len(),
        percentile(&samples, 0.50),
        p99,
        samples[samples.len() - 1],
        if p99 <= target { "met" } else { "MISSED" }
    );
}

struct Setup {
    index: StockIndex,
    requests: Vec<(AtpRequest, Sku)>,
    carts: Vec<(AtpRequest, Vec<CartLine>)>,
    updates: Vec<StockRow>,
}

fn setup() -> Setup {
    let started = Instant::now();
    let demo = demo::network(SEED, DemoSize::Large);
    let generated = started.elapsed();
    println!(
        "demo network (large): {} locations, {} SKUs, {} stock rows, generated in {generated:.2?}",
        demo.network.locations.len(),
        demo.products.len(),
        demo.stock_row_count()
    );

    let before = resident_bytes();
    let started = Instant::now();
    let index = demo.stock_index().unwrap();
    let built = started.elapsed();
    let after = resident_bytes();
    println!(
        "index build: {built:.2?} (target ≤ 5s: {}); {} rows; memory: estimate {:.1} MiB, resident growth {:.1} MiB",
        if built <= Duration::from_secs(5) {
            "met"
        } else {
            "MISSED"
        },
        index.row_count(),
        index.memory_bytes() as f64 / 1_048_576.0,
        after.saturating_sub(before) as f64 / 1_048_576.0,
    );

    // A realistic mix: French and German customers, a pickup store of their
    // channel, weekday and weekend instants around the cut-offs.
    let mut rng = SplitMix64::new(SEED);
    let channel = |code: &str| ChannelId::parse(code).unwrap();
    let stores = |tz: &str| -> Vec<_> {
        demo.network
            .locations
            .iter()
            .filter(|l| l.kind == LocationKind::Store && l.time_zone.as_str() == tz)
            .map(|l| l.id.clone())
            .collect()
    };
    let (fr_stores, de_stores) = (stores("Europe/Paris"), stores("Europe/Berlin"));
    let week_start: i64 = "2025-06-02T00:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    let request = |rng: &mut SplitMix64| {
        let german = rng.chance(30);
        let (code, country, postal, lat, lon, stores) = if german {
            (
                demo::WEB_DE,
                "DE",
                *rng.pick(&["10115", "20095", "50667", "80331"]),
                52.52,
                13.40,
                &de_stores,
            )
        } else {
            (
                demo::WEB_FR,
                "FR",
                *rng.pick(&["75001", "69002", "13001", "44000", "59000"]),
                48.85,
                2.35,
                &fr_stores,
            )
        };
        let country = CountryCode::parse(country).unwrap();
        AtpRequest {
            channel: channel(code),
            destination: Destination {
                address: Some(Address {
                    coordinates: Coordinates::new(lat, lon).unwrap(),
                    postal_code: postal.to_owned(),
                    country,
                    carrier_zone: demo::carrier_zone(country, postal).unwrap(),
                }),
                pickup_store: Some(rng.pick(stores).clone()),
            },
            at: Timestamp::from_second(week_start + rng.below(7 * 86_400) as i64).unwrap(),
        }
    };
    let sku = |rng: &mut SplitMix64| {
        demo.products[rng.below(demo.products.len() as u64) as usize]
            .sku
            .clone()
    };
    let requests = (0..20_000)
        .map(|_| (request(&mut rng), sku(&mut rng)))
        .collect();
    let carts = (0..2_000)
        .map(|_| {
            let lines = (0..10)
                .map(|_| CartLine {
                    sku: sku(&mut rng),
                    quantity: Quantity::new(rng.between(1, 2) as u32),
                })
                .collect();
            (request(&mut rng), lines)
        })
        .collect();
    // Committed stock changes: existing rows with a new on-hand.
    let rows: Vec<StockRow> = demo.stock_rows().step_by(997).collect();
    let updates = (0..100_000)
        .map(|i| {
            let mut row = rows[i % rows.len()].clone();
            row.on_hand = rng.below(50) as i64;
            row
        })
        .collect();
    Setup {
        index,
        requests,
        carts,
        updates,
    }
}

fn latencies(setup: &mut Setup) {
    let mut possible = 0;
    let samples = setup
        .requests
        .iter()
        .map(|(request, sku)| {
            let started = Instant::now();
            let answer = product_atp(&setup.index, request, sku, Quantity::new(1)).unwrap();
            let elapsed = started.elapsed();
            possible += answer.methods.iter().filter(|m| m.possible).count();
            black_box(answer);
            elapsed
        })
        .collect();
    report(
        "product ATP, 4 methods",
        samples,
        Duration::from_micros(100),
    );
    println!(
        "  ({:.2} possible methods per product on average)",
        possible as f64 / setup.requests.len() as f64
    );

    let mut shipments = 0;
    let samples = setup
        .carts
        .iter()
        .map(|(request, lines)| {
            let started = Instant::now();
            let answer = cart_atp(&setup.index, request, lines).unwrap();
            let elapsed = started.elapsed();
            shipments += answer.methods[0].shipments.len();
            black_box(answer);
            elapsed
        })
        .collect();
    report("cart ATP, 10 lines", samples, Duration::from_millis(1));
    println!(
        "  ({:.2} home-delivery shipments per cart on average)",
        shipments as f64 / setup.carts.len() as f64
    );

    let samples = setup
        .updates
        .iter()
        .map(|row| {
            let started = Instant::now();
            setup.index.apply(row).unwrap();
            started.elapsed()
        })
        .collect();
    report(
        "incremental stock update",
        samples,
        Duration::from_micros(5),
    );
}

fn main() {
    let mut setup = setup();
    latencies(&mut setup);

    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    let mut i = 0;
    criterion.bench_function("product_atp_all_methods", |b| {
        b.iter(|| {
            let (request, sku) = &setup.requests[i % setup.requests.len()];
            i += 1;
            black_box(product_atp(&setup.index, request, sku, Quantity::new(1)).unwrap())
        })
    });
    let mut i = 0;
    criterion.bench_function("cart_atp_10_lines", |b| {
        b.iter(|| {
            let (request, lines) = &setup.carts[i % setup.carts.len()];
            i += 1;
            black_box(cart_atp(&setup.index, request, lines).unwrap())
        })
    });
    let mut i = 0;
    criterion.bench_function("stock_update", |b| {
        b.iter_batched_ref(
            || {
                i += 1;
                setup.updates[i % setup.updates.len()].clone()
            },
            |row| setup.index.apply(row).unwrap(),
            BatchSize::SmallInput,
        )
    });
    criterion.final_summary();
}

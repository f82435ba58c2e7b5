//! Orchestration throughput on the large demo retailer (100,000 SKUs, 500
//! locations): 10,000 orders of 1–5 lines with decision traces, and a
//! simulation of 100,000 orders (each orchestrated and committed to a copy
//! of the stock). Targets: ≥ 50,000 orders/s on one core; the simulation in
//! ≤ 5 s. Run: `cargo bench -p oms-domain --bench orchestrate`.

#![allow(clippy::unwrap_used)]

#[path = "../tests/support/orders.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use oms_domain::demo::{self, DemoSize, WEB_FR};
use oms_domain::orchestration::{orchestrate, simulate};

fn bench(c: &mut Criterion) {
    let started = Instant::now();
    let demo = demo::network(7, DemoSize::Large);
    let catalogue = demo::catalogue(7, DemoSize::Large);
    let index = demo.stock_index().unwrap();
    eprintln!(
        "large demo: {} locations, {} SKUs, {} stock rows, built in {:.1?}",
        index.locations().len(),
        index.sku_count(),
        index.row_count(),
        started.elapsed()
    );
    let start: Timestamp = "2025-03-03T07:00:00Z".parse().unwrap();
    let rules = support::web_fr_rules();
    let orders = support::bench_orders(&demo, &catalogue);

    let mut group = c.benchmark_group("orchestrate");
    group.throughput(Throughput::Elements(orders.len() as u64));
    group.sample_size(20);
    group.bench_function("10k_orders_with_traces", |b| {
        b.iter(|| {
            for order in &orders {
                black_box(orchestrate(order, &index, &rules, order.placed_at).unwrap());
            }
        })
    });
    group.finish();

    let many = support::orders(
        &demo,
        &catalogue,
        WEB_FR,
        2,
        100_000,
        start,
        SignedDuration::from_secs(20),
    );
    let cost = support::yardstick_cost();
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(many.len() as u64));
    group.bench_function("100k_orders", |b| {
        b.iter(|| black_box(simulate(&many, &index, &rules, &cost).unwrap()))
    });
    group.finish();
    for rules in [support::web_fr_rules(), support::web_fr_nearest_rules()] {
        let started = Instant::now();
        let report = simulate(&many, &index, &rules, &cost).unwrap();
        eprintln!(
            "rule set v{}: simulated in {:.2?}: {}",
            rules.version,
            started.elapsed(),
            serde_json::to_string(&report).unwrap()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

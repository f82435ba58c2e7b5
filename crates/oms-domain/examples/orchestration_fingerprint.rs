//! A fingerprint of orchestration results, to show that a change to the
//! engine leaves plans, traces and simulation reports byte-identical.
//!
//! On the large demo (the bench's shape): the JSON of every plan for 10,000
//! orders under nine rule-set variants (every criterion, every split policy,
//! every stock requirement, filters in different orders), re-orchestrations
//! after a reported missing line, and two 30,000-order simulations. Prints
//! one FNV-1a hash per part; run before and after a change and compare:
//! `cargo run --profile bench -p oms-domain --example orchestration_fingerprint`.
//! With `AISLE_FINGERPRINT_DUMP=<dir>` it also writes each part's JSON
//! lines there (several hundred MB), to find the first difference.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/orders.rs"]
mod support;

use std::io::Write;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use oms_domain::demo::{self, DemoSize, WEB_FR};
use oms_domain::model::Quantity;
use oms_domain::orchestration::{
    FoundLine, MissingReport, PlannedFulfilment, RuleSet, orchestrate, reorchestrate, simulate,
};

struct Part {
    name: String,
    hash: u64,
    bytes: u64,
    dump: Option<std::io::BufWriter<std::fs::File>>,
}

impl Part {
    fn new(name: &str) -> Self {
        let dump = std::env::var_os("AISLE_FINGERPRINT_DUMP").map(|dir| {
            let path = std::path::Path::new(&dir).join(format!("{name}.jsonl"));
            std::io::BufWriter::new(std::fs::File::create(path).unwrap())
        });
        Self {
            name: name.to_owned(),
            hash: 0xcbf2_9ce4_8422_2325,
            bytes: 0,
            dump,
        }
    }

    fn add(&mut self, json: &str) {
        for b in json.bytes().chain(std::iter::once(b'\n')) {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.bytes += json.len() as u64 + 1;
        if let Some(out) = &mut self.dump {
            writeln!(out, "{json}").unwrap();
        }
    }

    fn finish(self) {
        println!(
            "{:<28} {:016x} {:>12} bytes",
            self.name, self.hash, self.bytes
        );
    }
}

fn variant(mut base: RuleSet, version: u32, json: serde_json::Value) -> RuleSet {
    base.version = version;
    if let Some(filters) = json.get("filters") {
        base.filters = serde_json::from_value(filters.clone()).unwrap();
    }
    if let Some(ordering) = json.get("ordering") {
        base.ordering = serde_json::from_value(ordering.clone()).unwrap();
    }
    if let Some(split) = json.get("split_policy") {
        base.split_policy = serde_json::from_value(split.clone()).unwrap();
    }
    base.validate().unwrap();
    base
}

fn variants() -> Vec<RuleSet> {
    use serde_json::json;
    let base = support::web_fr_rules();
    let cost = json!({"type": "cost", "per_shipment": {"minor": 600, "currency": "EUR"},
        "per_km": {"minor": 1, "currency": "EUR"},
        "per_shipment_by_kind": [{"kind": "store", "per_shipment": {"minor": 900, "currency": "EUR"}}]});
    let filters = |requirement: &str| {
        json!([
            {"type": "active_period"},
            {"type": "capability"},
            {"type": "product_type"},
            {"type": "stock", "requirement": requirement},
            {"type": "daily_cap"},
            {"type": "order_amount", "at_least": {"minor": 100000, "currency": "EUR"},
             "location_kinds": ["warehouse", "distribution_centre"]},
            {"type": "delivery_zone", "max_transit_days": 2, "location_kinds": ["store"]},
            {"type": "express_opening", "max_wait_minutes": 0}
        ])
    };
    vec![
        base.clone(),
        support::web_fr_nearest_rules(),
        variant(
            base.clone(),
            3,
            json!({
            "filters": filters("full_line"),
            "ordering": [{"type": "priority"}, {"type": "distance"}],
            "split_policy": {"type": "never"}}),
        ),
        variant(
            base.clone(),
            4,
            json!({
            "ordering": [cost.clone(), {"type": "distance"}],
            "split_policy": {"type": "up_to", "max_shipments": 2}}),
        ),
        variant(
            base.clone(),
            5,
            json!({
            "filters": filters("full_line"),
            "ordering": [{"type": "earliest_delivery"}, {"type": "distance"}],
            "split_policy": {"type": "up_to", "max_shipments": 3}}),
        ),
        variant(
            base.clone(),
            6,
            json!({
            "filters": filters("whole_order"),
            "ordering": [{"type": "stock_depth"}, cost.clone()],
            "split_policy": {"type": "when_needed"}}),
        ),
        variant(
            base.clone(),
            7,
            json!({
            "ordering": [{"type": "distance"}],
            "split_policy": {"type": "up_to", "max_shipments": 1}}),
        ),
        // Every criterion; the stock filter before a line-excluding one.
        variant(
            base.clone(),
            8,
            json!({
            "filters": [
                {"type": "stock", "requirement": "any_unit"},
                {"type": "daily_cap"},
                {"type": "active_period"},
                {"type": "product_type", "restrictions": [
                    {"product_type": "bulky", "location_kinds": ["warehouse"]}]},
                {"type": "capability"},
                {"type": "express_opening", "max_wait_minutes": 30}
            ],
            "ordering": [{"type": "fewest_shipments"}, {"type": "earliest_delivery"}, cost,
                {"type": "stock_depth"}, {"type": "priority"}, {"type": "distance"}],
            "split_policy": {"type": "up_to", "max_shipments": 5}}),
        ),
        variant(
            base,
            9,
            json!({
            "filters": [
                {"type": "daily_cap"},
                {"type": "delivery_zone", "max_transit_days": 1},
                {"type": "stock", "requirement": "whole_order"},
                {"type": "capability"},
                {"type": "product_type"},
                {"type": "active_period"},
                {"type": "order_amount", "at_least": {"minor": 30000, "currency": "EUR"},
                 "location_kinds": ["warehouse"]}
            ],
            "ordering": [{"type": "priority"}],
            "split_policy": {"type": "never"}}),
        ),
    ]
}

/// A store's report that the first line it was given is missing (all its
/// units).
fn first_line_missing(fulfilment: &PlannedFulfilment) -> MissingReport {
    let line = &fulfilment.lines[0];
    MissingReport {
        location: fulfilment.location.clone(),
        lines: vec![FoundLine {
            line: line.line,
            first_unit: line.first_unit,
            planned: line.quantity,
            found: Quantity::new(0),
        }],
        set_aside: Vec::new(),
    }
}

fn main() {
    let started = Instant::now();
    let demo = demo::network(7, DemoSize::Large);
    let catalogue = demo::catalogue(7, DemoSize::Large);
    let index = demo.stock_index().unwrap();
    let start: Timestamp = "2025-03-03T07:00:00Z".parse().unwrap();
    let orders = support::bench_orders(&demo, &catalogue);
    eprintln!("large demo and orders ready in {:.1?}", started.elapsed());

    for rules in variants() {
        let mut part = Part::new(&format!("plans-v{}", rules.version));
        let mut again = Part::new(&format!("reorchestrate-v{}", rules.version));
        for (i, order) in orders.iter().enumerate() {
            let plan = orchestrate(order, &index, &rules, order.placed_at).unwrap();
            part.add(&serde_json::to_string(&plan).unwrap());
            // Every tenth served order: its first shipment's first line
            // reported missing (all units), then the same for the new plan
            // with the first report in the history.
            if i % 10 != 0 {
                continue;
            }
            let Some(first) = plan.fulfilments.first() else {
                continue;
            };
            let report = first_line_missing(first);
            let later = order.placed_at + SignedDuration::from_mins(45);
            let redo = reorchestrate(order, &report, &[], &index, &rules, later).unwrap();
            again.add(&serde_json::to_string(&redo).unwrap());
            if let Some(next) = redo.plan.fulfilments.first() {
                let second = first_line_missing(next);
                let history = [report];
                let redo = reorchestrate(order, &second, &history, &index, &rules, later).unwrap();
                again.add(&serde_json::to_string(&redo).unwrap());
            }
        }
        part.finish();
        again.finish();
    }

    let many = support::orders(
        &demo,
        &catalogue,
        WEB_FR,
        2,
        30_000,
        start,
        SignedDuration::from_secs(20),
    );
    let cost = support::yardstick_cost();
    for rules in [support::web_fr_rules(), support::web_fr_nearest_rules()] {
        let mut part = Part::new(&format!("simulation-v{}", rules.version));
        let report = simulate(&many, &index, &rules, &cost).unwrap();
        part.add(&serde_json::to_string(&report).unwrap());
        part.finish();
    }
    eprintln!("done in {:.1?}", started.elapsed());
}

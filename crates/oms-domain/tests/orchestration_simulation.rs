//! Simulation: replaying orders against two rule sets on the demo retailer
//! and on a small network where a daily cap bites.

#![allow(clippy::unwrap_used)]

#[path = "support/orders.rs"]
mod support;

use jiff::{SignedDuration, Timestamp};
use oms_domain::demo::{self, DemoSize, WEB_FR};
use oms_domain::model::LocationKind;
use oms_domain::orchestration::{CostModel, Order, simulate};
use oms_domain::stock::{ProductRow, StockIndex, StockRow};

fn cost() -> CostModel {
    support::yardstick_cost()
}

#[test]
fn two_rule_sets_compared_on_the_same_orders() {
    let demo = demo::network(11, DemoSize::Small);
    let catalogue = demo::catalogue(11, DemoSize::Small);
    let index = demo.stock_index().unwrap();
    let start: Timestamp = "2025-03-03T08:00:00Z".parse().unwrap();
    let orders = support::orders(
        &demo,
        &catalogue,
        WEB_FR,
        5,
        400,
        start,
        SignedDuration::from_mins(3),
    );
    let before = index.rows();
    let a = simulate(&orders, &index, &support::web_fr_rules(), &cost()).unwrap();
    let b = simulate(&orders, &index, &support::web_fr_nearest_rules(), &cost()).unwrap();
    // The input index is left alone.
    assert_eq!(index.rows(), before);
    for report in [&a, &b] {
        assert_eq!(report.orders, 400);
        assert_eq!(
            report.fully_served_orders + report.partially_served_orders + report.unserved_orders,
            400
        );
        assert!(report.fully_served_orders > 200, "{report:?}");
        assert!(report.shipments >= report.fully_served_orders + report.partially_served_orders);
        assert!((0.0..=1.0).contains(&report.split_rate));
        assert!(report.mean_lead_time_days >= 0.0);
        let by_kind: u64 = report.shipments_by_kind.iter().map(|k| k.shipments).sum();
        assert_eq!(by_kind, report.shipments);
        let by_reason: u64 = report.unservable_by_reason.iter().map(|r| r.lines).sum();
        assert_eq!(by_reason, report.unservable_lines);
        assert!(report.cost.minor() >= 600 * report.shipments as i64);
    }
    // Nearest first ships from closer to the customer than fewest
    // shipments then priority.
    assert!(
        b.mean_distance_km < a.mean_distance_km,
        "{} vs {}",
        b.mean_distance_km,
        a.mean_distance_km
    );
    let stores = |r: &oms_domain::orchestration::SimulationReport| {
        r.shipments_by_kind
            .iter()
            .find(|k| k.kind == LocationKind::Store)
            .map_or(0, |k| k.shipments)
    };
    assert!(stores(&b) > stores(&a));
    // Same orders, same result: the simulation is deterministic.
    assert_eq!(
        simulate(&orders, &index, &support::web_fr_rules(), &cost()).unwrap(),
        a
    );
}

#[test]
fn caps_bite_as_orders_use_them() {
    let scenario: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/scenarios/orchestration/capped_store_skipped.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let network = serde_json::from_value(scenario["network"].clone()).unwrap();
    let rows: Vec<StockRow> = serde_json::from_value(scenario["stock"].clone()).unwrap();
    let index = StockIndex::build(&network, Vec::<ProductRow>::new(), rows).unwrap();
    let rules = serde_json::from_value(scenario["rule_set"].clone()).unwrap();
    let first: Order =
        serde_json::from_value(scenario["checks"][0]["query"]["orchestrate"]["order"].clone())
            .unwrap();
    // Five orders on Tuesday 4 March: ST-NEAR (cap 2) takes two, WH the rest.
    let orders: Vec<Order> = (0..5)
        .map(|i| {
            let mut o = first.clone();
            o.id = oms_domain::orchestration::OrderId::parse(format!("O-{i}")).unwrap();
            o.placed_at =
                "2025-03-04T09:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(i);
            o
        })
        .collect();
    let report = simulate(&orders, &index, &rules, &cost()).unwrap();
    assert_eq!(report.fully_served_orders, 5);
    assert_eq!(report.shipments, 5);
    assert_eq!(report.cap_hits, 3);
    assert_eq!(report.locations_capped, 1);
    let kinds: Vec<(LocationKind, u64)> = report
        .shipments_by_kind
        .iter()
        .map(|k| (k.kind, k.shipments))
        .collect();
    assert_eq!(
        kinds,
        [(LocationKind::Warehouse, 3), (LocationKind::Store, 2)]
    );
    assert_eq!(report.split_rate, 0.0);
    // Delivered the next business day from both (same zone, before cut-off).
    assert_eq!(report.mean_lead_time_days, 1.0);
}

//! Property tests of orchestration on small random networks: plans stay
//! within available stock, every line is either planned or reported, split
//! limits and daily caps hold over sequences of orders, and re-orchestration
//! never returns to a location that reported the line missing.
//!
//! Each case draws a network, stock, orders and a rule set from a seed (with
//! the crate's deterministic generator), so a failing seed reproduces the
//! whole case.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::time;
use oms_domain::atp::{Address, Destination};
use oms_domain::model::ProductType;
use oms_domain::model::{
    Capabilities, CarrierZone, Channel, ChannelId, ChannelKind, Coordinates, CountryCode, Currency,
    DeliveryMethod, Location, LocationId, LocationKind, Money, Network, OpeningInterval, Quantity,
    SafetyStock, Sku, TimeZoneName, TransitRoute, TransitTable, WeeklyHours,
};
use oms_domain::orchestration::{
    Criterion, Filter, Lang, LineId, Order, OrderId, OrderLine, Plan, RuleSet, SplitPolicy,
    StockRequirement, commit, explain, orchestrate, reorchestrate,
};
use oms_domain::rng::SplitMix64;
use oms_domain::stock::{ProductRow, StockIndex, StockRow};
use proptest::prelude::*;

const SKUS: usize = 4;

fn sku(i: usize) -> Sku {
    Sku::parse(format!("SKU-{i}")).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

struct Case {
    network: Network,
    index: StockIndex,
    stores: Vec<LocationId>,
}

fn network(rng: &mut SplitMix64) -> Case {
    let hours = WeeklyHours::on_days(
        &[
            jiff::civil::Weekday::Monday,
            jiff::civil::Weekday::Tuesday,
            jiff::civil::Weekday::Wednesday,
            jiff::civil::Weekday::Thursday,
            jiff::civil::Weekday::Friday,
            jiff::civil::Weekday::Saturday,
        ],
        &[OpeningInterval::new(time(8, 0, 0, 0), time(20, 0, 0, 0)).unwrap()],
    )
    .unwrap();
    let count = rng.between(2, 7) as usize;
    let mut locations = Vec::with_capacity(count);
    for i in 0..count {
        let kind = *rng.pick(&[
            LocationKind::Store,
            LocationKind::Store,
            LocationKind::Warehouse,
            LocationKind::DropShipper,
        ]);
        let store = kind == LocationKind::Store;
        locations.push(Location {
            id: LocationId::parse(format!("L-{i}")).unwrap(),
            name: format!("L-{i}"),
            kind,
            coordinates: Coordinates::new(
                48.0 + rng.below(200) as f64 / 100.0,
                2.0 + rng.below(200) as f64 / 100.0,
            )
            .unwrap(),
            time_zone: TimeZoneName::parse("Europe/Paris").unwrap(),
            opening_hours: if rng.chance(5) {
                WeeklyHours::default()
            } else {
                hours.clone()
            },
            closed_dates: Vec::new(),
            preparation_minutes: *rng.pick(&[30, 60, 120]),
            cut_off: time(14, 0, 0, 0),
            capabilities: Capabilities {
                ship_to_home: !store && rng.chance(90),
                ship_from_store: store && rng.chance(70),
                express_click_and_collect: store && rng.chance(70),
                receive_ship_to_store: store && rng.chance(80),
                accept_returns: true,
            },
            priority: rng.between(0, 3) as u32,
            daily_order_cap: rng.chance(50).then(|| rng.between(0, 3) as u32),
            carrier_zone: CarrierZone::parse(if rng.chance(80) { "Z1" } else { "Z2" }).unwrap(),
        });
    }
    let stores = locations
        .iter()
        .filter(|l| l.kind == LocationKind::Store)
        .map(|l| l.id.clone())
        .collect();
    let members = locations
        .iter()
        .filter(|_| rng.chance(90))
        .map(|l| l.id.clone())
        .collect();
    let zone = |z: &str| CarrierZone::parse(z).unwrap();
    let network = Network {
        channels: vec![Channel {
            id: ChannelId::parse("web").unwrap(),
            name: "web".into(),
            kind: ChannelKind::WebShop,
            currency: Currency::parse("EUR").unwrap(),
            country: CountryCode::parse("FR").unwrap(),
            locations: members,
            delivery_methods: DeliveryMethod::ALL.to_vec(),
        }],
        locations,
        periods: Vec::new(),
        safety_stock: SafetyStock {
            global: Quantity::new(rng.below(2) as u32),
            ..SafetyStock::default()
        },
        transit: TransitTable {
            routes: vec![
                TransitRoute {
                    from: zone("Z1"),
                    to: zone("Z1"),
                    business_days: 1,
                },
                TransitRoute {
                    from: zone("Z2"),
                    to: zone("Z1"),
                    business_days: 2,
                },
            ],
            pickup_point_extra_days: 1,
        },
        product_rules: Default::default(),
    };
    let products: Vec<ProductRow> = (0..SKUS)
        .map(|i| ProductRow {
            sku: sku(i),
            product_type: *rng.pick(&[
                ProductType::Standard,
                ProductType::Standard,
                ProductType::Bulky,
                ProductType::Fragile,
            ]),
        })
        .collect();
    let mut rows = Vec::new();
    for location in &network.locations {
        for i in 0..SKUS {
            if rng.chance(60) {
                rows.push(StockRow {
                    sku: sku(i),
                    location: location.id.clone(),
                    on_hand: rng.between(0, 6) as i64 - i64::from(rng.chance(5)),
                    reserved: Quantity::new(rng.below(3) as u32),
                });
            }
        }
    }
    let index = StockIndex::build(&network, products, rows).unwrap();
    Case {
        network,
        index,
        stores,
    }
}

fn rule_set(rng: &mut SplitMix64, policy: SplitPolicy, requirement: StockRequirement) -> RuleSet {
    let mut filters = vec![
        Filter::ActivePeriod,
        Filter::Capability,
        Filter::ProductType {
            restrictions: Vec::new(),
        },
        Filter::Stock { requirement },
        Filter::DailyCap,
    ];
    if rng.chance(30) {
        filters.push(Filter::OrderAmount {
            at_least: eur(5_000),
            location_kinds: vec![LocationKind::Warehouse],
        });
    }
    if rng.chance(30) {
        filters.push(Filter::ExpressOpening {
            max_wait_minutes: 0,
        });
    }
    // Shuffle so that rule order does not matter for the properties.
    for i in (1..filters.len()).rev() {
        filters.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut ordering = vec![
        Criterion::Priority,
        Criterion::Distance,
        Criterion::FewestShipments,
        Criterion::StockDepth,
        Criterion::EarliestDelivery,
    ];
    for i in (1..ordering.len()).rev() {
        ordering.swap(i, rng.below(i as u64 + 1) as usize);
    }
    ordering.truncate(rng.between(0, 4) as usize);
    RuleSet {
        channel: ChannelId::parse("web").unwrap(),
        version: 1,
        filters,
        ordering,
        split_policy: policy,
    }
}

fn order(rng: &mut SplitMix64, case: &Case, n: usize, at: Timestamp) -> Order {
    let delivery = *rng.pick(&DeliveryMethod::ALL);
    let address = Address {
        coordinates: Coordinates::new(48.85, 2.35).unwrap(),
        postal_code: "75001".into(),
        country: CountryCode::parse("FR").unwrap(),
        carrier_zone: CarrierZone::parse("Z1").unwrap(),
    };
    let destination = match delivery {
        DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => Destination::address(address),
        _ if case.stores.is_empty() => Destination::default(),
        _ => Destination::pickup_store(rng.pick(&case.stores).clone()),
    };
    let lines = (0..rng.between(1, 4))
        .map(|i| OrderLine {
            id: LineId(i as u32 + 1),
            // Repeats allowed: two lines may name the same product.
            sku: sku(rng.below(SKUS as u64) as usize),
            quantity: Quantity::new(rng.between(1, 4) as u32),
            unit_price: eur(rng.between(100, 3_000) as i64),
        })
        .collect();
    Order {
        id: OrderId::parse(format!("O-{n}")).unwrap(),
        channel: ChannelId::parse("web").unwrap(),
        delivery,
        destination,
        currency: Currency::parse("EUR").unwrap(),
        lines,
        discounts: Vec::new(),
        shipping_fee: eur(0),
        placed_at: at,
    }
}

/// Available units per (location, SKU), as the index computes them.
fn available(index: &StockIndex) -> HashMap<(LocationId, Sku), u32> {
    (0..SKUS)
        .flat_map(|i| {
            index
                .stock_of(&sku(i))
                .into_iter()
                .map(move |s| ((s.location, sku(i)), s.available))
        })
        .collect()
}

/// The invariants of one plan against the index it was made on.
fn check_plan(order: &Order, plan: &Plan, index: &StockIndex, rules: &RuleSet) {
    let available = available(index);
    let mut taken: HashMap<(LocationId, Sku), u32> = HashMap::new();
    for f in &plan.fulfilments {
        for line in &f.lines {
            assert!(!line.quantity.is_zero());
            *taken
                .entry((f.location.clone(), line.sku.clone()))
                .or_default() += line.quantity.get();
        }
    }
    for (key, units) in &taken {
        let have = available.get(key).copied().unwrap_or(0);
        assert!(*units <= have, "{key:?}: planned {units}, available {have}");
    }
    for line in &order.lines {
        let planned = plan.planned_units(line.id);
        let reported: Vec<_> = plan
            .unservable
            .iter()
            .filter(|u| u.line == line.id)
            .collect();
        match reported.as_slice() {
            [] => assert_eq!(
                planned,
                line.quantity.get(),
                "line {} not fully planned",
                line.id
            ),
            [u] => {
                assert_eq!(u.planned, planned);
                assert_eq!(u.planned + u.missing, line.quantity.get());
                assert!(u.missing > 0);
            }
            _ => panic!("line {} reported twice", line.id),
        }
        // Units of a line are consecutive ranges from 0.
        let mut ranges: Vec<(u32, u32)> = plan
            .fulfilments
            .iter()
            .flat_map(|f| &f.lines)
            .filter(|l| l.line == line.id)
            .map(|l| (l.first_unit, l.quantity.get()))
            .collect();
        ranges.sort_unstable();
        let mut next = 0;
        for (first, quantity) in ranges {
            assert_eq!(first, next);
            next += quantity;
        }
    }
    let limit = match rules.split_policy {
        SplitPolicy::Never => 1,
        SplitPolicy::UpTo { max_shipments } => max_shipments as usize,
        SplitPolicy::WhenNeeded => usize::MAX,
    };
    assert!(plan.fulfilments.len() <= limit);
    // One fulfilment per location, each a kept candidate and a decision.
    assert_eq!(plan.trace.decisions.len(), plan.fulfilments.len());
    for (f, d) in plan.fulfilments.iter().zip(&plan.trace.decisions) {
        assert_eq!(f.location, d.location);
        assert_eq!(
            plan.fulfilments
                .iter()
                .filter(|g| g.location == f.location)
                .count(),
            1
        );
        let candidate = plan
            .trace
            .candidates
            .iter()
            .find(|c| c.location == f.location)
            .unwrap();
        assert!(matches!(
            candidate.verdict,
            oms_domain::orchestration::Verdict::Kept { .. }
        ));
    }
    if rules.stock_requirement() != StockRequirement::AnyUnit {
        // Lines are never split between locations.
        for line in &order.lines {
            let parts = plan
                .fulfilments
                .iter()
                .filter(|f| f.lines.iter().any(|l| l.line == line.id))
                .count();
            assert!(parts <= 1);
        }
    }
    for lang in [Lang::En, Lang::Fr, Lang::De] {
        assert!(!explain(&plan.trace, lang).is_empty());
    }
    let json = serde_json::to_string(plan).unwrap();
    assert_eq!(&serde_json::from_str::<Plan>(&json).unwrap(), plan);
}

fn policy() -> impl Strategy<Value = SplitPolicy> {
    prop_oneof![
        Just(SplitPolicy::Never),
        (1_u32..4).prop_map(|max_shipments| SplitPolicy::UpTo { max_shipments }),
        Just(SplitPolicy::WhenNeeded),
    ]
}

fn requirement() -> impl Strategy<Value = StockRequirement> {
    prop_oneof![
        Just(StockRequirement::AnyUnit),
        Just(StockRequirement::FullLine),
        Just(StockRequirement::WholeOrder),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Within stock, every line planned or reported, shipments within the
    /// limit — and over a sequence of committed orders, never more orders
    /// a day at a location than its cap nor more units than it had.
    #[test]
    fn plans_respect_stock_lines_splits_and_caps(
        seed in any::<u64>(),
        policy in policy(),
        requirement in requirement(),
        hour in 6_i64..22,
    ) {
        let mut rng = SplitMix64::new(seed);
        let mut case = network(&mut rng);
        let rules = rule_set(&mut rng, policy, requirement);
        let at: Timestamp = "2025-03-03T00:00:00Z".parse::<Timestamp>().unwrap()
            + jiff::SignedDuration::from_hours(hour);
        let initial = available(&case.index);
        let mut orders_at: HashMap<LocationId, u32> = HashMap::new();
        let mut units_at: HashMap<(LocationId, Sku), u32> = HashMap::new();
        for n in 0..6 {
            let order = order(&mut rng, &case, n, at);
            let plan = orchestrate(&order, &case.index, &rules, at).unwrap();
            check_plan(&order, &plan, &case.index, &rules);
            commit(&mut case.index, &plan, at).unwrap();
            for f in &plan.fulfilments {
                *orders_at.entry(f.location.clone()).or_default() += 1;
                for line in &f.lines {
                    *units_at.entry((f.location.clone(), line.sku.clone())).or_default() +=
                        line.quantity.get();
                }
            }
        }
        for (location, orders) in &orders_at {
            let cap = case.network.locations.iter().find(|l| &l.id == location).unwrap().daily_order_cap;
            if let Some(cap) = cap {
                prop_assert!(*orders <= cap, "{location}: {orders} orders, cap {cap}");
            }
        }
        for (key, units) in &units_at {
            let had = initial.get(key).copied().unwrap_or(0);
            prop_assert!(*units <= had, "{key:?}: {units} units over the sequence, {had} available");
        }
    }

    /// Re-orchestration plans only the missing units and never returns a
    /// line to a location that reported it missing for this order.
    #[test]
    fn reorchestration_never_returns_to_a_reporting_location(
        seed in any::<u64>(),
        policy in policy(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let mut case = network(&mut rng);
        let rules = rule_set(&mut rng, policy, StockRequirement::AnyUnit);
        let at: Timestamp = "2025-03-03T09:00:00Z".parse().unwrap();
        let order = order(&mut rng, &case, 0, at);
        let mut plan = orchestrate(&order, &case.index, &rules, at).unwrap();
        commit(&mut case.index, &plan, at).unwrap();
        let mut history = Vec::new();
        for _ in 0..4 {
            let Some(fulfilment) = plan.fulfilments.first().cloned() else { break };
            // Some lines of the first fulfilment come up short.
            let lines: Vec<_> = fulfilment.lines.iter().map(|l| oms_domain::orchestration::FoundLine {
                line: l.line,
                first_unit: l.first_unit,
                planned: l.quantity,
                found: Quantity::new(if rng.chance(50) { rng.below(u64::from(l.quantity.get())) as u32 } else { l.quantity.get() }),
            }).collect();
            if lines.iter().all(|l| l.found == l.planned) {
                break;
            }
            let report = oms_domain::orchestration::MissingReport {
                location: fulfilment.location.clone(),
                lines,
                set_aside: Vec::new(),
            };
            let outcome = reorchestrate(&order, &report, &history, &case.index, &rules, at).unwrap();
            history.push(report);
            for f in &outcome.plan.fulfilments {
                for line in &f.lines {
                    prop_assert!(
                        !history.iter().any(|r| r.location == f.location
                            && r.lines.iter().any(|l| l.line == line.line && l.found < l.planned)),
                        "line {} went back to {}", line.line, f.location
                    );
                }
            }
            // Exactly the missing units were asked for, from the right unit on.
            let report = history.last().unwrap();
            for found in &report.lines {
                let missing = found.planned.get() - found.found.get();
                let planned = outcome.plan.planned_units(found.line);
                let unservable: u32 = outcome.plan.unservable.iter()
                    .filter(|u| u.line == found.line).map(|u| u.missing).sum();
                prop_assert_eq!(planned + unservable, missing);
                for f in &outcome.plan.fulfilments {
                    for line in f.lines.iter().filter(|l| l.line == found.line) {
                        prop_assert!(line.first_unit >= found.first_unit + found.found.get());
                        prop_assert!(line.first_unit + line.quantity.get() <= found.first_unit + found.planned.get());
                    }
                }
            }
            for correction in &outcome.corrections {
                case.index.apply(&correction.row()).unwrap();
            }
            commit(&mut case.index, &outcome.plan, at).unwrap();
            plan = outcome.plan;
        }
    }
}

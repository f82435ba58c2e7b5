//! Deterministic demo orders and rule sets for orchestration tests and the
//! orchestration bench (included with `#[path]`; not a test target itself).

#![allow(dead_code, clippy::unwrap_used)]

use jiff::{SignedDuration, Timestamp};
use oms_domain::atp::{Address, Destination};
use oms_domain::demo::{DemoNetwork, DemoProduct, carrier_zone};
use oms_domain::model::{
    ChannelId, Coordinates, CountryCode, Currency, DeliveryMethod, LocationId, LocationKind, Money,
    Quantity, Sku,
};
use oms_domain::orchestration::{CostModel, LineId, Order, OrderId, OrderLine, RuleSet};
use oms_domain::rng::SplitMix64;

/// French customer addresses: (postal code, latitude, longitude).
const ADDRESSES: &[(&str, f64, f64)] = &[
    ("75001", 48.8566, 2.3522),
    ("69001", 45.7640, 4.8357),
    ("13001", 43.2965, 5.3698),
    ("59000", 50.6292, 3.0573),
    ("33000", 44.8378, -0.5792),
    ("44000", 47.2184, -1.5536),
    ("31000", 43.6047, 1.4442),
    ("67000", 48.5734, 7.7521),
    ("35000", 48.1173, -1.6778),
    ("06000", 43.7102, 7.2620),
];

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

/// The cost yardstick of the simulation reports (BENCHMARKS.md): 6.00 EUR
/// per shipment and 0.01 EUR per km.
pub fn yardstick_cost() -> CostModel {
    CostModel {
        per_shipment: eur(600),
        per_km: eur(1),
        per_shipment_by_kind: Vec::new(),
    }
}

pub fn address(rng: &mut SplitMix64) -> Address {
    let (postal, lat, lon) = *rng.pick(ADDRESSES);
    let jitter = |rng: &mut SplitMix64| (rng.below(2001) as f64 - 1000.0) / 10_000.0;
    let country = CountryCode::parse("FR").unwrap();
    Address {
        coordinates: Coordinates::new(lat + jitter(rng), lon + jitter(rng)).unwrap(),
        postal_code: postal.to_owned(),
        country,
        carrier_zone: carrier_zone(country, postal).unwrap(),
    }
}

/// The orchestration bench's load, which the fingerprint example hashes:
/// 10,000 web-fr orders (seed 1), one every 30 s from 2025-03-03 07:00 UTC.
pub fn bench_orders(demo: &DemoNetwork, catalogue: &[DemoProduct]) -> Vec<Order> {
    let start: Timestamp = "2025-03-03T07:00:00Z".parse().unwrap();
    orders(
        demo,
        catalogue,
        "web-fr",
        1,
        10_000,
        start,
        SignedDuration::from_secs(30),
    )
}

/// `n` orders of 1–5 lines in `channel`, one every `every` from `start`:
/// 70 % home delivery, 10 % pickup point, 10 % click & collect, 10 %
/// express click & collect (at a store of the channel offering it).
pub fn orders(
    demo: &DemoNetwork,
    catalogue: &[DemoProduct],
    channel: &str,
    seed: u64,
    n: usize,
    start: Timestamp,
    every: SignedDuration,
) -> Vec<Order> {
    let mut rng = SplitMix64::new(seed);
    let channel_id = ChannelId::parse(channel).unwrap();
    let members = &demo
        .network
        .channels
        .iter()
        .find(|c| c.id == channel_id)
        .unwrap()
        .locations;
    let stores: Vec<LocationId> = demo
        .network
        .locations
        .iter()
        .filter(|l| {
            l.kind == LocationKind::Store
                && l.capabilities.express_click_and_collect
                && members.contains(&l.id)
        })
        .map(|l| l.id.clone())
        .collect();
    let eur = Currency::parse("EUR").unwrap();
    (0..n)
        .map(|i| {
            let roll = rng.below(100);
            let delivery = match roll {
                0..70 => DeliveryMethod::HomeDelivery,
                70..80 => DeliveryMethod::PickupPoint,
                80..90 => DeliveryMethod::ClickAndCollect,
                _ => DeliveryMethod::ExpressClickAndCollect,
            };
            let destination = match delivery {
                DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => {
                    Destination::address(address(&mut rng))
                }
                _ => Destination::pickup_store(rng.pick(&stores).clone()),
            };
            let count = rng.between(1, 5) as usize;
            let mut lines: Vec<OrderLine> = Vec::with_capacity(count);
            while lines.len() < count {
                let product = &catalogue[rng.below(catalogue.len() as u64) as usize];
                let sku = Sku::parse(product.sku.clone()).unwrap();
                if lines.iter().any(|l| l.sku == sku) {
                    continue;
                }
                lines.push(OrderLine {
                    id: LineId(lines.len() as u32 + 1),
                    sku,
                    quantity: Quantity::new(if rng.chance(80) {
                        1
                    } else {
                        rng.between(2, 3) as u32
                    }),
                    unit_price: Money::new(product.price_eur_minor, eur),
                });
            }
            Order {
                id: OrderId::parse(format!("O-{seed}-{i}")).unwrap(),
                channel: channel_id.clone(),
                delivery,
                destination,
                currency: eur,
                lines,
                discounts: Vec::new(),
                shipping_fee: Money::new(
                    if delivery == DeliveryMethod::HomeDelivery {
                        490
                    } else {
                        0
                    },
                    eur,
                ),
                placed_at: start + every * i as i32,
            }
        })
        .collect()
}

/// A rule set for the demo's French web shop: stores ship within two carrier
/// days, orders of 1,000 EUR or more leave from warehouses and distribution
/// centres, fewest shipments then priority then distance, up to 3 shipments.
pub fn web_fr_rules() -> RuleSet {
    serde_json::from_value(serde_json::json!({
        "channel": "web-fr",
        "version": 1,
        "filters": [
            {"type": "active_period"},
            {"type": "capability"},
            {"type": "product_type"},
            {"type": "stock", "requirement": "any_unit"},
            {"type": "daily_cap"},
            {"type": "order_amount", "at_least": {"minor": 100000, "currency": "EUR"},
             "location_kinds": ["warehouse", "distribution_centre"]},
            {"type": "delivery_zone", "max_transit_days": 2, "location_kinds": ["store"]},
            {"type": "express_opening", "max_wait_minutes": 0}
        ],
        "ordering": [
            {"type": "fewest_shipments"},
            {"type": "priority"},
            {"type": "distance"}
        ],
        "split_policy": {"type": "up_to", "max_shipments": 3}
    }))
    .unwrap()
}

/// The same network served nearest-first with stock depth and splits when
/// needed (a second rule set to compare against).
pub fn web_fr_nearest_rules() -> RuleSet {
    let mut rules = web_fr_rules();
    rules.version = 2;
    rules.ordering = serde_json::from_value(serde_json::json!([
        {"type": "distance"},
        {"type": "stock_depth"}
    ]))
    .unwrap();
    rules.split_policy =
        serde_json::from_value(serde_json::json!({"type": "when_needed"})).unwrap();
    rules
}

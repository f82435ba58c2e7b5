//! Property tests for unified stock, ATP and the incremental stock index, on
//! a small hand-made network (two time zones plus Stockholm, every location
//! kind, caps, periods and missing carrier routes) with random stock, safety
//! settings, loads, instants and destinations.

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests
// does not reach them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use jiff::civil::{Time, Weekday};
use jiff::{SignedDuration, Timestamp};
use oms_domain::atp::{Address, AtpRequest, CartLine, Destination, cart_atp, product_atp};
use oms_domain::model::{
    Capabilities, CarrierZone, Channel, ChannelId, ChannelKind, Coordinates, CountryCode, Currency,
    DeliveryMethod, Location, LocationId, LocationKind, LocationSafety, LocationSkuSafety, Network,
    OpeningInterval, Period, PeriodEffect, PeriodTarget, ProductRules, ProductType, Quantity,
    SafetyStock, Sku, TimeZoneName, TransitRoute, TransitTable, WeeklyHours,
};
use oms_domain::stock::{LocationLoad, ProductRow, StockIndex, StockRow};
use proptest::prelude::*;

const SKUS: usize = 4;
const ZONES: [&str; 4] = ["FR", "DE", "SE", "XX"];
/// 2025-01-01T00:00:00Z.
const YEAR_START: i64 = 1_735_689_600;

fn t(hh: i8, mm: i8) -> Time {
    Time::new(hh, mm, 0, 0).unwrap()
}

fn hours(days: &[Weekday], intervals: &[(Time, Time)]) -> WeeklyHours {
    let intervals: Vec<_> = intervals
        .iter()
        .map(|(o, c)| OpeningInterval::new(*o, *c).unwrap())
        .collect();
    WeeklyHours::on_days(days, &intervals).unwrap()
}

const MON_FRI: [Weekday; 5] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
];
const MON_SAT: [Weekday; 6] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
];
const EVERY_DAY: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

#[allow(clippy::too_many_arguments)]
fn location(
    id: &str,
    kind: LocationKind,
    tz: &str,
    zone: &str,
    (lat, lon): (f64, f64),
    opening_hours: WeeklyHours,
    lead: u32,
    cut_off: Time,
    capabilities: Capabilities,
    cap: Option<u32>,
    closed: &[&str],
) -> Location {
    Location {
        id: LocationId::parse(id).unwrap(),
        name: id.to_owned(),
        kind,
        coordinates: Coordinates::new(lat, lon).unwrap(),
        time_zone: TimeZoneName::parse(tz).unwrap(),
        opening_hours,
        closed_dates: closed.iter().map(|d| d.parse().unwrap()).collect(),
        preparation_minutes: lead,
        cut_off,
        capabilities,
        priority: 0,
        daily_order_cap: cap,
        carrier_zone: CarrierZone::parse(zone).unwrap(),
    }
}

fn locations() -> Vec<Location> {
    let ship = Capabilities {
        ship_to_home: true,
        ..Capabilities::default()
    };
    let full_store = Capabilities {
        ship_from_store: true,
        express_click_and_collect: true,
        receive_ship_to_store: true,
        accept_returns: true,
        ..Capabilities::default()
    };
    use LocationKind::*;
    vec![
        location(
            "WH-P",
            Warehouse,
            "Europe/Paris",
            "FR",
            (48.63, 2.55),
            hours(&MON_FRI, &[(t(8, 0), t(18, 0))]),
            120,
            t(15, 0),
            ship,
            None,
            &[],
        ),
        location(
            "WH-B",
            Warehouse,
            "Europe/Berlin",
            "DE",
            (52.4, 13.1),
            hours(&MON_SAT, &[(t(6, 0), t(22, 0))]),
            60,
            t(14, 0),
            ship,
            Some(3),
            &[],
        ),
        location(
            "ST-P1",
            Store,
            "Europe/Paris",
            "FR",
            (48.86, 2.34),
            hours(&MON_SAT, &[(t(10, 0), t(12, 30)), (t(14, 0), t(19, 0))]),
            30,
            t(12, 0),
            full_store,
            Some(4),
            &["2025-05-01", "2025-07-14", "2025-12-25"],
        ),
        location(
            "ST-P2",
            Store,
            "Europe/Paris",
            "FR",
            (48.80, 2.13),
            hours(&EVERY_DAY, &[(t(9, 30), t(20, 0))]),
            60,
            t(16, 0),
            Capabilities {
                express_click_and_collect: false,
                ..full_store
            },
            Some(2),
            &[],
        ),
        location(
            "ST-B1",
            Store,
            "Europe/Berlin",
            "DE",
            (52.52, 13.40),
            hours(&MON_SAT, &[(t(10, 0), t(20, 0))]),
            45,
            t(13, 0),
            Capabilities {
                ship_from_store: false,
                ..full_store
            },
            None,
            &["2025-10-03"],
        ),
        location(
            "DS",
            DropShipper,
            "Europe/Stockholm",
            "SE",
            (57.78, 14.16),
            hours(&MON_FRI, &[(t(8, 0), t(17, 0))]),
            240,
            t(11, 0),
            ship,
            None,
            &[],
        ),
        location(
            "DC",
            DistributionCentre,
            "Europe/Paris",
            "FR",
            (47.2, -1.6),
            hours(&MON_FRI, &[(t(7, 0), t(21, 0))]),
            90,
            t(17, 0),
            ship,
            Some(10),
            &[],
        ),
    ]
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn network(
    global: u32,
    per_location: &[(usize, u32)],
    per_sku: &BTreeMap<(usize, usize), u32>,
) -> Network {
    let locations = locations();
    let id = |i: usize| locations[i].id.clone();
    let channel = |name: &str, members: &[usize], methods: &[DeliveryMethod]| Channel {
        id: ChannelId::parse(name).unwrap(),
        name: name.to_owned(),
        kind: ChannelKind::WebShop,
        currency: Currency::parse("EUR").unwrap(),
        country: CountryCode::parse("FR").unwrap(),
        locations: members.iter().map(|i| id(*i)).collect(),
        delivery_methods: methods.to_vec(),
    };
    let mut routes = Vec::new();
    for (from, to, days) in [
        ("FR", "FR", 1),
        ("FR", "DE", 2),
        ("DE", "DE", 1),
        ("DE", "FR", 2),
        ("SE", "FR", 3),
        ("SE", "DE", 3),
    ] {
        routes.push(TransitRoute {
            from: CarrierZone::parse(from).unwrap(),
            to: CarrierZone::parse(to).unwrap(),
            business_days: days,
        });
    }
    let store = PeriodTarget::LocationKind {
        kind: LocationKind::Store,
    };
    Network {
        channels: vec![
            channel("all", &[0, 1, 2, 3, 4, 5, 6], &DeliveryMethod::ALL),
            channel("web", &[0, 2, 3, 5, 6], &DeliveryMethod::ALL[..3]),
        ],
        periods: vec![
            Period::new(
                "christmas",
                ts("2025-12-15T00:00:00Z"),
                ts("2025-12-25T00:00:00Z"),
                store.clone(),
                PeriodEffect::LeaveChannel {
                    channel: ChannelId::parse("web").unwrap(),
                },
            )
            .unwrap(),
            Period::new(
                "short-staffed",
                ts("2025-06-01T00:00:00Z"),
                ts("2025-06-15T00:00:00Z"),
                store,
                PeriodEffect::DailyCap { cap: 1 },
            )
            .unwrap(),
            Period::new(
                "sales",
                ts("2025-09-01T00:00:00Z"),
                ts("2025-10-01T00:00:00Z"),
                PeriodTarget::Location { location: id(1) },
                PeriodEffect::DailyCapPercent { percent: 50 },
            )
            .unwrap(),
        ],
        safety_stock: SafetyStock {
            global: Quantity::new(global),
            per_location: per_location
                .iter()
                .map(|(l, q)| LocationSafety {
                    location: id(*l),
                    quantity: Quantity::new(*q),
                })
                .collect(),
            per_location_sku: per_sku
                .iter()
                .map(|((l, s), q)| LocationSkuSafety {
                    location: id(*l),
                    sku: sku(*s),
                    quantity: Quantity::new(*q),
                })
                .collect(),
        },
        transit: TransitTable {
            routes,
            pickup_point_extra_days: 1,
        },
        product_rules: ProductRules::default(),
        locations,
    }
}

fn sku(i: usize) -> Sku {
    Sku::parse(format!("SKU-{i}")).unwrap()
}

fn location_id(i: usize) -> LocationId {
    locations()[i].id.clone()
}

/// Everything random about one case.
#[derive(Debug, Clone)]
struct World {
    global: u32,
    per_location: Vec<(usize, u32)>,
    per_sku: BTreeMap<(usize, usize), u32>,
    types: Vec<ProductType>,
    /// (sku, location) → (on_hand, reserved); later duplicates win.
    rows: BTreeMap<(usize, usize), (i64, u32)>,
    loads: Vec<(usize, u32)>,
    at: Timestamp,
    channel: &'static str,
    zone: Option<usize>,
    store: Option<usize>,
}

impl World {
    fn network(&self) -> Network {
        network(self.global, &self.per_location, &self.per_sku)
    }

    fn stock_rows(&self) -> Vec<StockRow> {
        self.rows
            .iter()
            .map(|(&(s, l), &(on_hand, reserved))| StockRow {
                sku: sku(s),
                location: location_id(l),
                on_hand,
                reserved: Quantity::new(reserved),
            })
            .collect()
    }

    fn index(&self) -> StockIndex {
        let products = self.types.iter().enumerate().map(|(s, t)| ProductRow {
            sku: sku(s),
            product_type: *t,
        });
        let mut index = StockIndex::build(&self.network(), products, self.stock_rows()).unwrap();
        let date = self.at.to_zoned(jiff::tz::TimeZone::UTC).date();
        for (l, orders) in &self.loads {
            index
                .set_location_load(&LocationLoad {
                    location: location_id(*l),
                    date,
                    orders: *orders,
                })
                .unwrap();
        }
        index
    }

    fn request(&self) -> AtpRequest {
        let locations = locations();
        AtpRequest {
            channel: ChannelId::parse(self.channel).unwrap(),
            destination: Destination {
                address: self.zone.map(|z| Address {
                    coordinates: Coordinates::new(48.85, 2.35).unwrap(),
                    postal_code: "75001".into(),
                    country: CountryCode::parse("FR").unwrap(),
                    carrier_zone: CarrierZone::parse(ZONES[z]).unwrap(),
                }),
                pickup_store: self.store.map(|s| locations[s].id.clone()),
            },
            at: self.at,
        }
    }
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // Mostly any second of 2025, sometimes inside a period.
    prop_oneof![
        3 => 0_i64..365 * 86_400,
        1 => (348 * 86_400_i64)..(358 * 86_400),
        1 => (151 * 86_400_i64)..(165 * 86_400),
    ]
    .prop_map(|s| Timestamp::from_second(YEAR_START + s).unwrap())
}

fn world() -> impl Strategy<Value = World> {
    let product_type = prop_oneof![
        Just(ProductType::Standard),
        Just(ProductType::Bulky),
        Just(ProductType::Fragile)
    ];
    (
        0_u32..3,
        prop::collection::vec((0_usize..7, 0_u32..3), 0..3),
        prop::collection::btree_map((0_usize..7, 0..SKUS), 0_u32..4, 0..4),
        prop::collection::vec(product_type, SKUS),
        prop::collection::btree_map((0..SKUS, 0_usize..7), (-3_i64..25, 0_u32..6), 0..24),
        prop::collection::vec((0_usize..7, 0_u32..5), 0..4),
        instant(),
        prop_oneof![Just("all"), Just("web")],
        prop::option::weighted(0.8, 0_usize..ZONES.len()),
        prop::option::weighted(0.8, prop_oneof![Just(0_usize), Just(2), Just(3), Just(4)]),
    )
        .prop_map(
            |(global, per_location, per_sku, types, rows, loads, at, channel, zone, store)| World {
                global,
                per_location,
                per_sku,
                types,
                rows,
                loads,
                at,
                channel,
                zone,
                store,
            },
        )
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn unified_stock_is_bounded_by_on_hand(world in world()) {
        let index = world.index();
        for s in 0..SKUS {
            let positive_on_hand: i64 = world
                .rows
                .iter()
                .filter(|((row_sku, _), _)| *row_sku == s)
                .map(|(_, (on_hand, _))| (*on_hand).max(0))
                .sum();
            for channel in ["all", "web"] {
                let unified = index
                    .unified_stock(&ChannelId::parse(channel).unwrap(), &sku(s), world.at)
                    .unwrap();
                prop_assert!(unified as i64 <= positive_on_hand, "{unified} > {positive_on_hand}");
            }
            for level in index.stock_of(&sku(s)) {
                prop_assert!(i64::from(level.available) <= level.on_hand.max(0));
                prop_assert!(i64::from(level.available) + i64::from(level.reserved.get()) + i64::from(level.safety.get()) >= level.on_hand || level.available == 0);
            }
        }
    }

    #[test]
    fn atp_never_promises_more_than_unified_stock_nor_too_early(world in world(), quantity in 1_u32..6) {
        let index = world.index();
        let request = world.request();
        for s in 0..SKUS {
            let answer = product_atp(&index, &request, &sku(s), Quantity::new(quantity)).unwrap();
            let unified = index.unified_stock(&request.channel, &sku(s), world.at).unwrap();
            prop_assert_eq!(answer.unified_stock, unified);
            for method in &answer.methods {
                prop_assert!(method.quantity <= unified, "{:?}: {} > {}", method.method, method.quantity, unified);
                prop_assert_eq!(method.possible, method.reason.is_none());
                prop_assert_eq!(method.possible, !method.shipments.is_empty());
                if method.possible {
                    let shipped: u64 = method.shipments.iter().flat_map(|s| &s.lines).map(|l| l.quantity).sum();
                    prop_assert_eq!(shipped, u64::from(quantity));
                }
                for shipment in &method.shipments {
                    let location = index.location(&shipment.location).unwrap();
                    let earliest = world.at + SignedDuration::from_mins(i64::from(location.preparation_minutes));
                    let earliest_date = location.time_zone.zone().to_datetime(earliest).date();
                    prop_assert!(shipment.expected_date >= earliest_date, "{:?} {:?}: {} < {}", method.method, shipment.location, shipment.expected_date, earliest_date);
                    if let Some(ready) = shipment.ready_at {
                        prop_assert!(ready >= earliest);
                    }
                }
            }
        }
    }

    #[test]
    fn adding_stock_never_makes_an_answer_worse(
        world in world(),
        added in (0..SKUS, 0_usize..7, 1_i64..10),
        quantity in 1_u32..6,
    ) {
        let before_index = world.index();
        let mut more = world.clone();
        more.rows.entry((added.0, added.1)).or_insert((0, 0)).0 += added.2;
        let after_index = more.index();
        let request = world.request();
        for s in 0..SKUS {
            let before = product_atp(&before_index, &request, &sku(s), Quantity::new(quantity)).unwrap();
            let after = product_atp(&after_index, &request, &sku(s), Quantity::new(quantity)).unwrap();
            prop_assert!(after.unified_stock >= before.unified_stock);
            for (b, a) in before.methods.iter().zip(&after.methods) {
                prop_assert!(a.quantity >= b.quantity, "{:?}", b.method);
                if b.possible {
                    prop_assert!(a.possible, "{:?} became impossible", b.method);
                    let key = |m: &oms_domain::atp::MethodAnswer| (m.shipments.len(), m.expected_date, m.ready_at);
                    prop_assert!(key(a) <= key(b), "{:?}: {:?} worse than {:?}", b.method, key(a), key(b));
                }
            }
        }
        let cart: Vec<CartLine> = (0..SKUS).map(|s| CartLine { sku: sku(s), quantity: Quantity::new(1) }).collect();
        let before = cart_atp(&before_index, &request, &cart).unwrap();
        let after = cart_atp(&after_index, &request, &cart).unwrap();
        for (b, a) in before.methods.iter().zip(&after.methods) {
            for (bl, al) in b.lines.iter().zip(&a.lines) {
                prop_assert!(al.available >= bl.available);
            }
            if b.possible {
                prop_assert!(a.possible, "cart {:?} became impossible", b.method);
            }
            if b.single_shipment {
                prop_assert!(a.single_shipment, "cart {:?} lost its single shipment", b.method);
            }
        }
    }

    #[test]
    fn the_incremental_index_equals_a_rebuilt_one(
        world in world(),
        changes in prop::collection::vec(
            prop_oneof![
                3 => (0..SKUS + 2, 0_usize..7, -3_i64..25, 0_u32..6).prop_map(|(s, l, o, r)| (s, l, Some((o, r)), None)),
                1 => (0..SKUS + 2, 0_usize..7, prop::option::of(0_u32..4)).prop_map(|(s, l, q)| (s, l, None, Some(q))),
            ],
            1..12,
        ),
    ) {
        let mut incremental = world.index();
        let mut end = world.clone();
        for (s, l, row, safety) in changes {
            if let Some((on_hand, reserved)) = row {
                incremental
                    .apply(&StockRow { sku: sku(s), location: location_id(l), on_hand, reserved: Quantity::new(reserved) })
                    .unwrap();
                end.rows.insert((s, l), (on_hand, reserved));
            }
            if let Some(quantity) = safety {
                incremental.set_sku_safety(&location_id(l), &sku(s), quantity.map(Quantity::new)).unwrap();
                match quantity {
                    Some(q) => end.per_sku.insert((l, s), q),
                    None => end.per_sku.remove(&(l, s)),
                };
            }
        }
        let rebuilt = end.index();
        let request = world.request();
        for s in 0..SKUS + 2 {
            // A row set to zero and a missing row mean the same.
            let levels = |index: &StockIndex| {
                let mut levels = index.stock_of(&sku(s));
                levels.retain(|l| l.on_hand != 0 || l.reserved.get() != 0);
                levels
            };
            prop_assert_eq!(levels(&incremental), levels(&rebuilt));
            prop_assert_eq!(
                product_atp(&incremental, &request, &sku(s), Quantity::new(1)).unwrap(),
                product_atp(&rebuilt, &request, &sku(s), Quantity::new(1)).unwrap()
            );
        }
    }
}

#[test]
fn the_index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StockIndex>();
}

#[test]
fn unknown_channel_and_pickup_store_are_errors_not_answers() {
    let world = World {
        global: 0,
        per_location: vec![],
        per_sku: BTreeMap::new(),
        types: vec![ProductType::Standard; SKUS],
        rows: BTreeMap::new(),
        loads: vec![],
        at: ts("2025-03-04T09:00:00Z"),
        channel: "all",
        zone: Some(0),
        store: None,
    };
    let index = world.index();
    let mut request = world.request();
    request.channel = ChannelId::parse("nope").unwrap();
    assert!(product_atp(&index, &request, &sku(0), Quantity::new(1)).is_err());
    let mut request = world.request();
    request.destination.pickup_store = Some(LocationId::parse("NOPE").unwrap());
    assert!(product_atp(&index, &request, &sku(0), Quantity::new(1)).is_err());
    assert!(product_atp(&index, &world.request(), &sku(0), Quantity::ZERO).is_err());
    assert!(cart_atp(&index, &world.request(), &[]).is_err());
}

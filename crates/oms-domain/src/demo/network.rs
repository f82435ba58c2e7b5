//! The demo retailer's network: channels, warehouses, stores, a
//! drop-shipper, stock, periods, safety stock and carrier transit times.
//!
//! Small: 3 warehouses, 30 stores in French and German cities and a
//! drop-shipper (34 locations), about 13 stock rows per SKU. Large: the same
//! plus 4 distribution centres and 462 more stores (500 locations), about 50
//! stock rows per SKU (≈ 5 million rows over 100,000 SKUs).

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday, date, time};

use super::{DemoSize, catalogue};
use crate::model::{
    Capabilities, CarrierZone, Channel, ChannelId, ChannelKind, Coordinates, CountryCode, Currency,
    DeliveryMethod, Location, LocationId, LocationKind, LocationSafety, LocationSkuSafety,
    ModelError, Network, OpeningInterval, Period, PeriodEffect, PeriodTarget, ProductRules,
    ProductType, Quantity, SafetyStock, Sku, TimeZoneName, TransitRoute, TransitTable, WeeklyHours,
};
use crate::rng::SplitMix64;
use crate::stock::{IndexError, ProductRow, StockIndex, StockRow};

/// The demo's channel ids.
pub const WEB_FR: &str = "web-fr";
pub const WEB_DE: &str = "web-de";
pub const STORES: &str = "stores";

/// Years the demo's holidays and periods cover.
const YEARS: std::ops::RangeInclusive<i16> = 2024..=2030;

/// The demo network with its stock, kept compact: stock rows are produced on
/// demand by [`DemoNetwork::stock_rows`].
#[derive(Debug, Clone)]
pub struct DemoNetwork {
    pub network: Network,
    /// One per catalogue product, in catalogue order.
    pub products: Vec<ProductRow>,
    stock: Vec<CompactRow>,
}

#[derive(Debug, Clone, Copy)]
struct CompactRow {
    sku: u32,
    location: u16,
    reserved: u16,
    on_hand: i32,
}

impl DemoNetwork {
    /// Every stock row, grouped by SKU (catalogue order), then by location.
    pub fn stock_rows(&self) -> impl Iterator<Item = StockRow> + '_ {
        self.stock.iter().map(|row| StockRow {
            sku: self.products[row.sku as usize].sku.clone(),
            location: self.network.locations[usize::from(row.location)].id.clone(),
            on_hand: i64::from(row.on_hand),
            reserved: Quantity::new(u32::from(row.reserved)),
        })
    }

    pub fn stock_row_count(&self) -> usize {
        self.stock.len()
    }

    /// The stock index of this network.
    pub fn stock_index(&self) -> Result<StockIndex, IndexError> {
        StockIndex::build(
            &self.network,
            self.products.iter().cloned(),
            self.stock_rows(),
        )
    }
}

/// The demo network for a seed and size. Same inputs, same output. Its SKUs
/// and product types are those of [`catalogue`] for the same seed and size.
pub fn network(seed: u64, size: DemoSize) -> DemoNetwork {
    // Every value below is a literal known to be valid; a failure would be a
    // bug in this file, caught by its tests.
    build(seed, size).unwrap_or_else(|error| panic!("demo network: {error}"))
}

struct City {
    name: &'static str,
    lat: f64,
    lon: f64,
    zone: &'static str,
    /// Paris stores open on Sundays.
    sunday: bool,
}

const fn city(name: &'static str, lat: f64, lon: f64, zone: &'static str, sunday: bool) -> City {
    City {
        name,
        lat,
        lon,
        zone,
        sunday,
    }
}

const FRENCH_CITIES: &[City] = &[
    city("Paris Rivoli", 48.8606, 2.3376, "FR-IDF", true),
    city("Paris Montparnasse", 48.8421, 2.3219, "FR-IDF", true),
    city("Boulogne-Billancourt", 48.8397, 2.2399, "FR-IDF", false),
    city("Versailles", 48.8049, 2.1204, "FR-IDF", false),
    city("Lille", 50.6292, 3.0573, "FR-N", false),
    city("Rouen", 49.4432, 1.0999, "FR-N", false),
    city("Nantes", 47.2184, -1.5536, "FR-W", false),
    city("Rennes", 48.1173, -1.6778, "FR-W", false),
    city("Bordeaux", 44.8378, -0.5792, "FR-W", false),
    city("Tours", 47.3941, 0.6848, "FR-W", false),
    city("Toulouse", 43.6047, 1.4442, "FR-S", false),
    city("Montpellier", 43.6108, 3.8767, "FR-S", false),
    city("Marseille", 43.2965, 5.3698, "FR-S", false),
    city("Nice", 43.7102, 7.2620, "FR-S", false),
    city("Lyon Part-Dieu", 45.7606, 4.8590, "FR-SE", false),
    city("Grenoble", 45.1885, 5.7245, "FR-SE", false),
    city("Dijon", 47.3220, 5.0415, "FR-SE", false),
    city("Strasbourg", 48.5734, 7.7521, "FR-E", false),
];

const GERMAN_CITIES: &[City] = &[
    city("Berlin Mitte", 52.5200, 13.4050, "DE-E", false),
    city("Berlin Charlottenburg", 52.5050, 13.3040, "DE-E", false),
    city("Hamburg", 53.5511, 9.9937, "DE-N", false),
    city("Hannover", 52.3759, 9.7320, "DE-N", false),
    city("Leipzig", 51.3397, 12.3731, "DE-E", false),
    city("Dresden", 51.0504, 13.7373, "DE-E", false),
    city("Köln", 50.9375, 6.9603, "DE-W", false),
    city("Düsseldorf", 51.2277, 6.7735, "DE-W", false),
    city("Frankfurt am Main", 50.1109, 8.6821, "DE-W", false),
    city("München", 48.1351, 11.5820, "DE-S", false),
    city("Stuttgart", 48.7758, 9.1829, "DE-S", false),
    city("Nürnberg", 49.4521, 11.0767, "DE-S", false),
];

const ZONES: &[&str] = &[
    "FR-IDF", "FR-N", "FR-W", "FR-S", "FR-SE", "FR-E", "DE-N", "DE-E", "DE-W", "DE-S", "SE",
];

/// The carrier zone of a French or German postal code in the demo's carrier
/// table (French départements, German leading postcode digits).
pub fn carrier_zone(country: CountryCode, postal_code: &str) -> Option<CarrierZone> {
    let digits: String = postal_code
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let zone = match country.as_str() {
        "FR" if digits.len() == 5 => match digits[..2].parse::<u8>().ok()? {
            75 | 77 | 78 | 91..=95 => "FR-IDF",
            2 | 8 | 14 | 27 | 50 | 59 | 60 | 61 | 62 | 76 | 80 => "FR-N",
            16 | 17 | 22 | 29 | 33 | 35 | 37 | 40 | 41 | 44 | 49 | 53 | 56 | 72 | 79 | 85 | 86 => {
                "FR-W"
            }
            9 | 11 | 12 | 13 | 20 | 30..=32 | 34 | 46 | 47 | 64..=66 | 81..=84 | 4..=6 => "FR-S",
            1 | 3 | 7 | 21 | 26 | 38 | 39 | 42 | 43 | 63 | 69 | 71 | 73 | 74 => "FR-SE",
            10 | 25 | 51..=52 | 54 | 55 | 57 | 67 | 68 | 70 | 88 | 90 => "FR-E",
            _ => "FR-SE",
        },
        "DE" if digits.len() == 5 => match digits.as_bytes()[0] {
            b'0' | b'1' => "DE-E",
            b'2' | b'3' => "DE-N",
            b'4' | b'5' | b'6' => "DE-W",
            _ => "DE-S",
        },
        "SE" => "SE",
        _ => return None,
    };
    CarrierZone::parse(zone).ok()
}

fn interval(opens: Time, closes: Time) -> Result<OpeningInterval, ModelError> {
    OpeningInterval::new(opens, closes)
}

const MON_SAT: [Weekday; 6] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
];

fn holidays(country: &str) -> Vec<Date> {
    let days: &[(i8, i8)] = match country {
        "FR" => &[
            (1, 1),
            (5, 1),
            (5, 8),
            (7, 14),
            (8, 15),
            (11, 1),
            (11, 11),
            (12, 25),
        ],
        "DE" => &[(1, 1), (5, 1), (10, 3), (12, 25), (12, 26)],
        _ => &[(1, 1), (12, 25)],
    };
    YEARS
        .flat_map(|year| days.iter().map(move |&(m, d)| date(year, m, d)))
        .collect()
}

struct Template {
    kind: LocationKind,
    time_zone: &'static str,
    country: &'static str,
}

fn store_hours(country: &str, sunday: bool, lunch_break: bool) -> Result<WeeklyHours, ModelError> {
    let day = if country == "DE" {
        vec![interval(time(10, 0, 0, 0), time(20, 0, 0, 0))?]
    } else if lunch_break {
        vec![
            interval(time(10, 0, 0, 0), time(12, 30, 0, 0))?,
            interval(time(14, 0, 0, 0), time(19, 0, 0, 0))?,
        ]
    } else {
        vec![interval(time(10, 0, 0, 0), time(19, 30, 0, 0))?]
    };
    let mut days: [Vec<OpeningInterval>; 7] = Default::default();
    for weekday in MON_SAT {
        days[weekday.to_monday_zero_offset().unsigned_abs() as usize] = day.clone();
    }
    if sunday {
        days[6] = vec![interval(time(11, 0, 0, 0), time(18, 0, 0, 0))?];
    }
    WeeklyHours::new(days)
}

#[allow(clippy::too_many_arguments)]
fn location(
    id: &str,
    name: &str,
    template: &Template,
    (lat, lon): (f64, f64),
    zone: &str,
    opening_hours: WeeklyHours,
    preparation_minutes: u32,
    cut_off: Time,
    capabilities: Capabilities,
    priority: u32,
    daily_order_cap: Option<u32>,
) -> Result<Location, ModelError> {
    Ok(Location {
        id: LocationId::parse(id)?,
        name: name.to_owned(),
        kind: template.kind,
        coordinates: Coordinates::new(lat, lon)?,
        time_zone: TimeZoneName::parse(template.time_zone)?,
        opening_hours,
        closed_dates: holidays(template.country),
        preparation_minutes,
        cut_off,
        capabilities,
        priority,
        daily_order_cap,
        carrier_zone: CarrierZone::parse(zone)?,
    })
}

fn build(seed: u64, size: DemoSize) -> Result<DemoNetwork, ModelError> {
    let mut rng = SplitMix64::new(seed ^ 0x0E7_3C0DE);
    let products: Vec<ProductRow> = catalogue(seed, size)
        .into_iter()
        .map(|p| {
            Ok(ProductRow {
                product_type: p.product_type.parse().unwrap_or(ProductType::Standard),
                sku: Sku::parse(p.sku)?,
            })
        })
        .collect::<Result<_, ModelError>>()?;

    let warehouse_hours = {
        let week = interval(time(6, 0, 0, 0), time(22, 0, 0, 0))?;
        let saturday = interval(time(7, 0, 0, 0), time(13, 0, 0, 0))?;
        let mut days: [Vec<OpeningInterval>; 7] = Default::default();
        for day in days.iter_mut().take(5) {
            *day = vec![week];
        }
        days[5] = vec![saturday];
        WeeklyHours::new(days)?
    };
    let shipping = Capabilities {
        ship_to_home: true,
        accept_returns: true,
        ..Capabilities::default()
    };
    let paris = Template {
        kind: LocationKind::Warehouse,
        time_zone: "Europe/Paris",
        country: "FR",
    };
    let berlin = Template {
        kind: LocationKind::Warehouse,
        time_zone: "Europe/Berlin",
        country: "DE",
    };

    let mut locations = vec![
        location(
            "WH-PARIS",
            "Warehouse Paris-Sud (Lieusaint)",
            &paris,
            (48.6333, 2.5500),
            "FR-IDF",
            warehouse_hours.clone(),
            120,
            time(15, 0, 0, 0),
            shipping,
            1,
            None,
        )?,
        location(
            "WH-LYON",
            "Warehouse Lyon (Saint-Priest)",
            &paris,
            (45.6960, 4.9440),
            "FR-SE",
            warehouse_hours.clone(),
            120,
            time(15, 0, 0, 0),
            shipping,
            1,
            None,
        )?,
        location(
            "WH-KOELN",
            "Warehouse Köln",
            &berlin,
            (50.9375, 6.9603),
            "DE-W",
            warehouse_hours.clone(),
            120,
            time(15, 0, 0, 0),
            shipping,
            1,
            None,
        )?,
    ];
    if size == DemoSize::Large {
        let centres = [
            (
                "DC-NORD",
                "Distribution centre Nord (Lille)",
                &paris,
                (50.6000, 3.1000),
                "FR-N",
            ),
            (
                "DC-OUEST",
                "Distribution centre Ouest (Nantes)",
                &paris,
                (47.2000, -1.6000),
                "FR-W",
            ),
            (
                "DC-SUD",
                "Distribution centre Sud (Marseille)",
                &paris,
                (43.3500, 5.4000),
                "FR-S",
            ),
            (
                "DC-OST",
                "Distribution centre Ost (Leipzig)",
                &berlin,
                (51.3000, 12.4000),
                "DE-E",
            ),
        ];
        for (id, name, template, at, zone) in centres {
            let template = Template {
                kind: LocationKind::DistributionCentre,
                ..*template
            };
            locations.push(location(
                id,
                name,
                &template,
                at,
                zone,
                warehouse_hours.clone(),
                90,
                time(16, 0, 0, 0),
                shipping,
                2,
                Some(5_000),
            )?);
        }
    }
    let drop_shipper = Template {
        kind: LocationKind::DropShipper,
        time_zone: "Europe/Stockholm",
        country: "SE",
    };
    let office = WeeklyHours::on_days(
        &MON_SAT[..5],
        &[interval(time(8, 0, 0, 0), time(17, 0, 0, 0))?],
    )?;
    locations.push(location(
        "DS-NORDVIK",
        "Nordvik Furniture (drop-shipper)",
        &drop_shipper,
        (57.7826, 14.1618),
        "SE",
        office,
        240,
        time(12, 0, 0, 0),
        Capabilities {
            ship_to_home: true,
            ..Capabilities::default()
        },
        5,
        Some(500),
    )?);

    // Stores: the 30 named ones, then (large) more around the same cities.
    let store_count = match size {
        DemoSize::Small => 30,
        DemoSize::Large => 500 - locations.len(),
    };
    let mut numbers = [0_u32; 2];
    for n in 0..store_count {
        let (country, cities, time_zone) = if n < FRENCH_CITIES.len() {
            ("FR", FRENCH_CITIES, "Europe/Paris")
        } else if n < FRENCH_CITIES.len() + GERMAN_CITIES.len() {
            ("DE", GERMAN_CITIES, "Europe/Berlin")
        } else if rng.chance(60) {
            ("FR", FRENCH_CITIES, "Europe/Paris")
        } else {
            ("DE", GERMAN_CITIES, "Europe/Berlin")
        };
        let named = n < FRENCH_CITIES.len() + GERMAN_CITIES.len();
        let counter = &mut numbers[usize::from(country == "DE")];
        *counter += 1;
        let (city, lat, lon, name) = if named {
            let c = if country == "FR" {
                &FRENCH_CITIES[n]
            } else {
                &GERMAN_CITIES[n - FRENCH_CITIES.len()]
            };
            (c, c.lat, c.lon, format!("Aisle {}", c.name))
        } else {
            let c = rng.pick(cities);
            // Within about 30 km of the city.
            let lat = c.lat + (rng.below(6_001) as f64 - 3_000.0) / 10_000.0;
            let lon = c.lon + (rng.below(6_001) as f64 - 3_000.0) / 10_000.0;
            (c, lat, lon, format!("Aisle {} #{}", c.name, counter))
        };
        let template = Template {
            kind: LocationKind::Store,
            time_zone,
            country,
        };
        let id = format!("ST-{country}-{counter:03}");
        let lunch_break = country == "FR" && !city.sunday && rng.chance(30);
        let capabilities = Capabilities {
            ship_to_home: false,
            ship_from_store: rng.chance(85),
            express_click_and_collect: rng.chance(90),
            receive_ship_to_store: true,
            accept_returns: true,
        };
        let mut store = location(
            &id,
            &name,
            &template,
            (lat, lon),
            city.zone,
            store_hours(country, city.sunday, lunch_break)?,
            if rng.chance(50) { 30 } else { 60 },
            time(12, 0, 0, 0),
            capabilities,
            3,
            Some(rng.between(20, 60) as u32),
        )?;
        // A few stores close for a day's works each year.
        if rng.chance(15) {
            let month = rng.between(2, 11) as i8;
            let day = rng.between(1, 28) as i8;
            store
                .closed_dates
                .extend(YEARS.map(|year| date(year, month, day)));
        }
        locations.push(store);
    }

    let ids = |filter: &dyn Fn(&Location) -> bool| -> Vec<LocationId> {
        locations
            .iter()
            .filter(|l| filter(l))
            .map(|l| l.id.clone())
            .collect()
    };
    let in_country =
        |l: &Location, tz: &str| l.kind != LocationKind::Store || l.time_zone.as_str() == tz;
    let eur = Currency::parse("EUR")?;
    let channels = vec![
        Channel {
            id: ChannelId::parse(WEB_FR)?,
            name: "Web shop France".into(),
            kind: ChannelKind::WebShop,
            currency: eur,
            country: CountryCode::parse("FR")?,
            locations: ids(&|l| in_country(l, "Europe/Paris")),
            delivery_methods: DeliveryMethod::ALL.to_vec(),
        },
        Channel {
            id: ChannelId::parse(WEB_DE)?,
            name: "Webshop Deutschland".into(),
            kind: ChannelKind::WebShop,
            currency: eur,
            country: CountryCode::parse("DE")?,
            locations: ids(&|l| in_country(l, "Europe/Berlin")),
            delivery_methods: DeliveryMethod::ALL.to_vec(),
        },
        Channel {
            id: ChannelId::parse(STORES)?,
            name: "Store network (endless aisle)".into(),
            kind: ChannelKind::StoreNetwork,
            currency: eur,
            country: CountryCode::parse("FR")?,
            locations: ids(&|_| true),
            delivery_methods: DeliveryMethod::ALL.to_vec(),
        },
    ];

    let periods = periods()?;

    let zero_safety: Vec<LocationSafety> = locations
        .iter()
        .filter(|l| l.kind != LocationKind::Store)
        .map(|l| LocationSafety {
            location: l.id.clone(),
            quantity: Quantity::ZERO,
        })
        .collect();

    // Stock, SKU by SKU, locations in index order.
    let store_percent = match size {
        DemoSize::Small => 35,
        DemoSize::Large => 9,
    };
    let mut stock =
        Vec::with_capacity(products.len() * if size == DemoSize::Large { 51 } else { 14 });
    let mut per_location_sku = Vec::new();
    for (sku, product) in products.iter().enumerate() {
        for (index, location) in locations.iter().enumerate() {
            let (percent, max_units) = match location.kind {
                LocationKind::Warehouse => (85, 300),
                LocationKind::DistributionCentre => (60, 120),
                LocationKind::DropShipper if product.product_type == ProductType::Bulky => (60, 50),
                LocationKind::DropShipper => (10, 50),
                LocationKind::Store => (store_percent, 12),
            };
            if !rng.chance(percent) {
                continue;
            }
            let on_hand = if rng.chance(20) {
                0
            } else {
                rng.between(1, max_units)
            };
            let reserved = if on_hand > 0 && rng.chance(30) {
                rng.between(0, on_hand.min(5))
            } else {
                0
            };
            stock.push(CompactRow {
                sku: sku as u32,
                location: index as u16,
                reserved: reserved as u16,
                on_hand: on_hand as i32,
            });
            // Fast movers keep a buffer in warehouses.
            if location.kind == LocationKind::Warehouse && sku % 97 == 0 {
                per_location_sku.push(LocationSkuSafety {
                    location: location.id.clone(),
                    sku: product.sku.clone(),
                    quantity: Quantity::new(5),
                });
            }
        }
    }

    let network = Network {
        locations,
        channels,
        periods,
        safety_stock: SafetyStock {
            global: Quantity::new(1),
            per_location: zero_safety,
            per_location_sku,
        },
        transit: transit_table()?,
        product_rules: ProductRules::default(),
    };
    Ok(DemoNetwork {
        network,
        products,
        stock,
    })
}

fn local_midnight(zone: &TimeZoneName, day: Date) -> Result<Timestamp, ModelError> {
    zone.zone()
        .to_timestamp(day.to_datetime(Time::midnight()))
        .map_err(|_| ModelError::InvalidPeriod(format!("no midnight on {day}")))
}

/// Christmas: stores stop shipping for the web shops from 15 to 24 December;
/// winter sales: store caps halve.
fn periods() -> Result<Vec<Period>, ModelError> {
    let mut periods = Vec::new();
    for year in YEARS {
        for (channel, zone) in [(WEB_FR, "Europe/Paris"), (WEB_DE, "Europe/Berlin")] {
            let zone = TimeZoneName::parse(zone)?;
            periods.push(Period::new(
                format!("Christmas {year}: stores stop shipping for {channel}"),
                local_midnight(&zone, date(year, 12, 15))?,
                local_midnight(&zone, date(year, 12, 25))?,
                PeriodTarget::LocationKind {
                    kind: LocationKind::Store,
                },
                PeriodEffect::LeaveChannel {
                    channel: ChannelId::parse(channel)?,
                },
            )?);
        }
        let paris = TimeZoneName::parse("Europe/Paris")?;
        periods.push(Period::new(
            format!("Winter sales {year}: store caps halve"),
            local_midnight(&paris, date(year, 1, 8))?,
            local_midnight(&paris, date(year, 2, 5))?,
            PeriodTarget::LocationKind {
                kind: LocationKind::Store,
            },
            PeriodEffect::DailyCapPercent { percent: 50 },
        )?);
    }
    Ok(periods)
}

/// Business days between zones: 1 within a zone, 2 within a country (and
/// between neighbouring French and German zones), 3 across the border, 4 to
/// or from Sweden. A relay adds one day.
fn transit_table() -> Result<TransitTable, ModelError> {
    let country = |zone: &str| zone.split('-').next().unwrap_or(zone).to_owned();
    let neighbours = |a: &str, b: &str| {
        matches!(
            (a, b),
            ("FR-E", "DE-W") | ("DE-W", "FR-E") | ("FR-E", "DE-S") | ("DE-S", "FR-E")
        )
    };
    let mut routes = Vec::with_capacity(ZONES.len() * ZONES.len());
    for from in ZONES {
        for to in ZONES {
            let business_days = if from == to {
                1
            } else if *from == "SE" || *to == "SE" {
                4
            } else if country(from) == country(to) || neighbours(from, to) {
                2
            } else {
                3
            };
            routes.push(TransitRoute {
                from: CarrierZone::parse(*from)?,
                to: CarrierZone::parse(*to)?,
                business_days,
            });
        }
    }
    Ok(TransitTable {
        routes,
        pickup_point_extra_days: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn small_network_has_the_designed_shape() {
        let demo = network(1, DemoSize::Small);
        let kinds = |kind| {
            demo.network
                .locations
                .iter()
                .filter(|l| l.kind == kind)
                .count()
        };
        assert_eq!(kinds(LocationKind::Warehouse), 3);
        assert_eq!(kinds(LocationKind::Store), 30);
        assert_eq!(kinds(LocationKind::DropShipper), 1);
        assert_eq!(demo.network.locations.len(), 34);
        assert_eq!(demo.products.len(), 10_000);
        let ids: HashSet<_> = demo.network.locations.iter().map(|l| &l.id).collect();
        assert_eq!(ids.len(), 34);
        let channels: Vec<_> = demo
            .network
            .channels
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(channels, [WEB_FR, WEB_DE, STORES]);
        let zones: HashSet<_> = demo
            .network
            .locations
            .iter()
            .map(|l| l.time_zone.as_str())
            .collect();
        assert!(zones.contains("Europe/Paris") && zones.contains("Europe/Berlin"));
        let per_sku = demo.stock_row_count() as f64 / demo.products.len() as f64;
        assert!((10.0..16.0).contains(&per_sku), "{per_sku}");
        // The catalogue and the network agree on SKUs and product types.
        let products = catalogue(1, DemoSize::Small);
        for (row, product) in demo.products.iter().zip(&products) {
            assert_eq!(row.sku.as_str(), product.sku);
            assert_eq!(row.product_type.as_str(), product.product_type);
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a: Vec<_> = network(3, DemoSize::Small)
            .stock_rows()
            .take(2_000)
            .collect();
        let b: Vec<_> = network(3, DemoSize::Small)
            .stock_rows()
            .take(2_000)
            .collect();
        let c: Vec<_> = network(4, DemoSize::Small)
            .stock_rows()
            .take(2_000)
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_index_builds_and_channels_see_different_stock() {
        let demo = network(5, DemoSize::Small);
        let index = demo.stock_index().unwrap();
        assert_eq!(index.row_count(), demo.stock_row_count());
        let at: Timestamp = "2025-06-02T10:00:00Z".parse().unwrap();
        let fr = ChannelId::parse(WEB_FR).unwrap();
        let de = ChannelId::parse(WEB_DE).unwrap();
        let differs = demo.products.iter().take(200).any(|p| {
            index.unified_stock(&fr, &p.sku, at).unwrap()
                != index.unified_stock(&de, &p.sku, at).unwrap()
        });
        assert!(differs);
    }

    #[test]
    fn postal_codes_map_to_carrier_zones() {
        let fr = CountryCode::parse("FR").unwrap();
        let de = CountryCode::parse("DE").unwrap();
        assert_eq!(carrier_zone(fr, "75001").unwrap().as_str(), "FR-IDF");
        assert_eq!(carrier_zone(fr, "13001").unwrap().as_str(), "FR-S");
        assert_eq!(carrier_zone(de, "10115").unwrap().as_str(), "DE-E");
        assert_eq!(carrier_zone(de, "80331").unwrap().as_str(), "DE-S");
        assert!(carrier_zone(fr, "7500").is_none());
        assert!(carrier_zone(CountryCode::parse("IT").unwrap(), "00100").is_none());
    }
}

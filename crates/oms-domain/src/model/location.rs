//! Stock points (locations): what they are, where, when they work and what
//! they can do.

use std::fmt;
use std::sync::LazyLock;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::{Deserialize, Serialize};

use super::{CarrierZone, LocationId, ModelError};

/// What a stock point is; rules (product types, periods) target kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Warehouse,
    Store,
    DistributionCentre,
    DropShipper,
}

impl LocationKind {
    pub const ALL: [LocationKind; 4] = [
        LocationKind::Warehouse,
        LocationKind::Store,
        LocationKind::DistributionCentre,
        LocationKind::DropShipper,
    ];
}

/// What a location is able to do. Everything defaults to "no".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// Ships parcels to customers (warehouses, distribution centres, drop-shippers).
    pub ship_to_home: bool,
    /// A store that ships parcels (the store counterpart of `ship_to_home`).
    pub ship_from_store: bool,
    /// Prepares orders from its own shelf for pickup the same day.
    pub express_click_and_collect: bool,
    /// Receives parcels sent from elsewhere for customer pickup.
    pub receive_ship_to_store: bool,
    pub accept_returns: bool,
}

/// A point on Earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCoordinates")]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct RawCoordinates {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawCoordinates> for Coordinates {
    type Error = ModelError;
    fn try_from(raw: RawCoordinates) -> Result<Self, Self::Error> {
        Coordinates::new(raw.lat, raw.lon)
    }
}

impl Coordinates {
    pub fn new(lat: f64, lon: f64) -> Result<Self, ModelError> {
        if lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
        {
            Ok(Self { lat, lon })
        } else {
            Err(ModelError::InvalidCoordinates { lat, lon })
        }
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle distance in kilometres (haversine). Used to rank
    /// candidates, never for money or stock.
    pub fn distance_km(self, other: Coordinates) -> f64 {
        const EARTH_RADIUS_KM: f64 = 6371.0;
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// The IANA database is bundled into the binary: every machine applies the
/// same rules, and parsing a zone never touches the file system.
static TIME_ZONES: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// An IANA time zone (`Europe/Paris`), resolved once when parsed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName {
    name: String,
    zone: TimeZone,
}

impl TimeZoneName {
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        let zone = TIME_ZONES
            .get(name)
            .map_err(|_| ModelError::UnknownTimeZone(name.to_owned()))?;
        Ok(Self {
            name: zone.iana_name().unwrap_or(name).to_owned(),
            zone,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

impl std::hash::Hash for TimeZoneName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZoneName> for String {
    fn from(value: TimeZoneName) -> String {
        value.name
    }
}

impl fmt::Debug for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZoneName({})", self.name)
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// One opening period of a day, in local wall-clock time; `opens < closes`
/// (no period runs past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawInterval")]
pub struct OpeningInterval {
    opens: Time,
    closes: Time,
}

#[derive(Deserialize)]
struct RawInterval {
    opens: Time,
    closes: Time,
}

impl TryFrom<RawInterval> for OpeningInterval {
    type Error = ModelError;
    fn try_from(raw: RawInterval) -> Result<Self, Self::Error> {
        OpeningInterval::new(raw.opens, raw.closes)
    }
}

impl OpeningInterval {
    pub fn new(opens: Time, closes: Time) -> Result<Self, ModelError> {
        if opens < closes {
            Ok(Self { opens, closes })
        } else {
            Err(ModelError::InvalidOpeningHours(format!(
                "an interval must open before it closes ({opens} – {closes})"
            )))
        }
    }

    pub fn opens(self) -> Time {
        self.opens
    }

    pub fn closes(self) -> Time {
        self.closes
    }
}

/// Opening hours for each weekday: zero or more sorted, non-overlapping
/// intervals (a French store often closes for lunch). A weekday without
/// intervals is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWeek", into = "RawWeek")]
pub struct WeeklyHours {
    /// Monday first.
    days: [Vec<OpeningInterval>; 7],
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct RawWeek {
    monday: Vec<OpeningInterval>,
    tuesday: Vec<OpeningInterval>,
    wednesday: Vec<OpeningInterval>,
    thursday: Vec<OpeningInterval>,
    friday: Vec<OpeningInterval>,
    saturday: Vec<OpeningInterval>,
    sunday: Vec<OpeningInterval>,
}

impl TryFrom<RawWeek> for WeeklyHours {
    type Error = ModelError;
    fn try_from(raw: RawWeek) -> Result<Self, Self::Error> {
        WeeklyHours::new([
            raw.monday,
            raw.tuesday,
            raw.wednesday,
            raw.thursday,
            raw.friday,
            raw.saturday,
            raw.sunday,
        ])
    }
}

impl From<WeeklyHours> for RawWeek {
    fn from(week: WeeklyHours) -> RawWeek {
        let [
            monday,
            tuesday,
            wednesday,
            thursday,
            friday,
            saturday,
            sunday,
        ] = week.days;
        RawWeek {
            monday,
            tuesday,
            wednesday,
            thursday,
            friday,
            saturday,
            sunday,
        }
    }
}

impl WeeklyHours {
    /// From seven days of intervals, Monday first. Each day's intervals must
    /// be sorted and must not overlap.
    pub fn new(days: [Vec<OpeningInterval>; 7]) -> Result<Self, ModelError> {
        for day in &days {
            for pair in day.windows(2) {
                if pair[0].closes > pair[1].opens {
                    return Err(ModelError::InvalidOpeningHours(format!(
                        "intervals must be sorted and must not overlap ({} – {} then {} – {})",
                        pair[0].opens, pair[0].closes, pair[1].opens, pair[1].closes
                    )));
                }
            }
        }
        Ok(Self { days })
    }

    /// The same intervals on each of the given weekdays, closed otherwise.
    pub fn on_days(
        weekdays: &[Weekday],
        intervals: &[OpeningInterval],
    ) -> Result<Self, ModelError> {
        let mut days: [Vec<OpeningInterval>; 7] = Default::default();
        for weekday in weekdays {
            days[weekday_index(*weekday)] = intervals.to_vec();
        }
        Self::new(days)
    }

    pub fn on(&self, weekday: Weekday) -> &[OpeningInterval] {
        &self.days[weekday_index(weekday)]
    }

    pub fn is_never_open(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }
}

fn weekday_index(weekday: Weekday) -> usize {
    // 0..=6 by construction.
    weekday.to_monday_zero_offset().unsigned_abs() as usize
}

/// A stock point with everything ATP needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub coordinates: Coordinates,
    pub time_zone: TimeZoneName,
    pub opening_hours: WeeklyHours,
    /// Local dates on which the location does not work at all (public
    /// holidays, inventory days).
    #[serde(default)]
    pub closed_dates: Vec<Date>,
    /// Working time, within opening hours, to prepare an order.
    pub preparation_minutes: u32,
    /// Local time of day: orders placed before it on a working day are
    /// dispatched that day (if they can be prepared by then).
    pub cut_off: Time,
    pub capabilities: Capabilities,
    /// Lower is preferred when candidates are otherwise equal.
    #[serde(default)]
    pub priority: u32,
    /// How many orders it may accept per local day; `None`: no limit.
    #[serde(default)]
    pub daily_order_cap: Option<u32>,
    pub carrier_zone: CarrierZone,
}

impl Location {
    /// Whether this location sends parcels (to customers, relays or stores).
    pub fn can_ship(&self) -> bool {
        match self.kind {
            LocationKind::Store => self.capabilities.ship_from_store,
            _ => self.capabilities.ship_to_home,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::time;

    #[test]
    fn coordinates_are_checked_and_distances_are_plausible() {
        assert!(Coordinates::new(91.0, 0.0).is_err());
        assert!(Coordinates::new(0.0, f64::NAN).is_err());
        let paris = Coordinates::new(48.8566, 2.3522).unwrap();
        let berlin = Coordinates::new(52.52, 13.405).unwrap();
        let km = paris.distance_km(berlin);
        assert!((870.0..890.0).contains(&km), "{km}");
        assert_eq!(paris.distance_km(paris), 0.0);
    }

    #[test]
    fn time_zones_come_from_the_bundled_database() {
        let tz = TimeZoneName::parse("Europe/Paris").unwrap();
        assert_eq!(tz.as_str(), "Europe/Paris");
        assert!(TimeZoneName::parse("Europe/Atlantis").is_err());
        let json = serde_json::to_string(&tz).unwrap();
        assert_eq!(json, "\"Europe/Paris\"");
    }

    #[test]
    fn opening_hours_reject_inverted_or_overlapping_intervals() {
        assert!(OpeningInterval::new(time(19, 0, 0, 0), time(10, 0, 0, 0)).is_err());
        let morning = OpeningInterval::new(time(9, 0, 0, 0), time(12, 30, 0, 0)).unwrap();
        let overlapping = OpeningInterval::new(time(12, 0, 0, 0), time(18, 0, 0, 0)).unwrap();
        assert!(WeeklyHours::on_days(&[Weekday::Monday], &[morning, overlapping]).is_err());
        let week: WeeklyHours = serde_json::from_str(
            r#"{"monday":[{"opens":"10:00","closes":"12:30"},{"opens":"14:00","closes":"19:00"}]}"#,
        )
        .unwrap();
        assert_eq!(week.on(Weekday::Monday).len(), 2);
        assert!(week.on(Weekday::Sunday).is_empty());
        let bad =
            r#"{"monday":[{"opens":"14:00","closes":"19:00"},{"opens":"10:00","closes":"12:30"}]}"#;
        assert!(serde_json::from_str::<WeeklyHours>(bad).is_err());
    }
}

//! Working-time arithmetic in a location's own time zone: when an order can
//! be ready, on which day it leaves, and carrier business days.
//!
//! All calendar and time-zone maths is jiff's; this module only states the
//! business rules on top of it:
//!
//! - **Preparation** happens within one opening interval of an open day: it
//!   starts when the order arrives (or when the location next opens) and
//!   must finish by that interval's close, otherwise it starts at the next
//!   interval. `ready = start + lead` (elapsed time, so a DST change in the
//!   night is accounted for).
//! - **Dispatch**: an order placed before the cut-off (local wall-clock time)
//!   on the day it is prepared leaves that day; otherwise it leaves on the
//!   next working day after it is ready.
//! - **Carrier transit** counts business days, Monday to Friday.
//!
//! Searches look at most [`HORIZON_DAYS`] ahead: a location closed for longer
//! than that cannot promise anything.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::model::{Location, WeeklyHours};

/// How far ahead (in days) we look for an opening.
pub const HORIZON_DAYS: u32 = 60;

/// The working calendar of a location. Locations that share one (same zone,
/// hours, closed dates, lead time and cut-off) share one `Schedule` in the
/// stock index, so ATP computes each timing once per request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Schedule {
    tz: TimeZone,
    hours: WeeklyHours,
    /// Sorted, without duplicates.
    closed: Vec<Date>,
    lead: SignedDuration,
    cut_off: Time,
}

/// What identifies a schedule (`TimeZone` has no `Hash`, its name does).
pub(crate) type ScheduleKey = (String, WeeklyHours, Vec<Date>, u32, Time);

impl Schedule {
    pub(crate) fn key(location: &Location) -> ScheduleKey {
        let mut closed = location.closed_dates.clone();
        closed.sort_unstable();
        closed.dedup();
        (
            location.time_zone.as_str().to_owned(),
            location.opening_hours.clone(),
            closed,
            location.preparation_minutes,
            location.cut_off,
        )
    }

    pub(crate) fn of(location: &Location) -> Self {
        let (_, hours, closed, minutes, cut_off) = Self::key(location);
        Self {
            tz: location.time_zone.zone().clone(),
            hours,
            closed,
            lead: SignedDuration::from_mins(i64::from(minutes)),
            cut_off,
        }
    }

    pub(crate) fn local_date(&self, at: Timestamp) -> Date {
        self.tz.to_datetime(at).date()
    }

    fn is_closed(&self, date: Date) -> bool {
        self.closed.binary_search(&date).is_ok()
    }

    fn is_working_day(&self, date: Date) -> bool {
        !self.is_closed(date) && !self.hours.on(date.weekday()).is_empty()
    }

    /// The first local midnight of `date` (or the first instant of the day if
    /// midnight falls in a DST gap).
    pub(crate) fn start_of_day(&self, date: Date) -> Option<Timestamp> {
        self.tz
            .to_timestamp(date.to_datetime(Time::midnight()))
            .ok()
    }

    /// When an order that arrives at `from` is prepared, if the location opens
    /// long enough within the horizon.
    pub(crate) fn ready_at(&self, from: Timestamp) -> Option<Timestamp> {
        let mut date = self.local_date(from);
        for _ in 0..HORIZON_DAYS {
            if !self.is_closed(date) {
                for interval in self.hours.on(date.weekday()) {
                    let closes = self
                        .tz
                        .to_timestamp(date.to_datetime(interval.closes()))
                        .ok()?;
                    if closes <= from {
                        continue;
                    }
                    let opens = self
                        .tz
                        .to_timestamp(date.to_datetime(interval.opens()))
                        .ok()?;
                    let ready = opens.max(from).checked_add(self.lead).ok()?;
                    if ready <= closes {
                        return Some(ready);
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The local date an order placed at `ordered_at` and ready at `ready`
    /// leaves the location.
    pub(crate) fn dispatch_date(&self, ordered_at: Timestamp, ready: Timestamp) -> Option<Date> {
        let ordered = self.tz.to_datetime(ordered_at);
        let ready_date = self.local_date(ready);
        if ready_date != ordered.date() || ordered.time() < self.cut_off {
            return Some(ready_date);
        }
        let mut date = ready_date;
        for _ in 0..HORIZON_DAYS {
            date = date.tomorrow().ok()?;
            if self.is_working_day(date) {
                return Some(date);
            }
        }
        None
    }
}

/// `date` plus `days` carrier business days (Monday to Friday).
pub(crate) fn add_business_days(date: Date, days: u32) -> Option<Date> {
    let mut date = date;
    let mut left = days;
    while left > 0 {
        date = date.tomorrow().ok()?;
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    Some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Capabilities, CarrierZone, Coordinates, LocationId, LocationKind, OpeningInterval,
        TimeZoneName,
    };
    use jiff::civil::{date, time};

    fn store(minutes: u32, closed: Vec<Date>) -> Schedule {
        let hours = WeeklyHours::on_days(
            &[
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
                Weekday::Saturday,
            ],
            &[
                OpeningInterval::new(time(10, 0, 0, 0), time(12, 30, 0, 0)).unwrap(),
                OpeningInterval::new(time(14, 0, 0, 0), time(19, 0, 0, 0)).unwrap(),
            ],
        )
        .unwrap();
        let location = Location {
            id: LocationId::parse("S").unwrap(),
            name: "S".into(),
            kind: LocationKind::Store,
            coordinates: Coordinates::new(48.0, 2.0).unwrap(),
            time_zone: TimeZoneName::parse("Europe/Paris").unwrap(),
            opening_hours: hours,
            closed_dates: closed,
            preparation_minutes: minutes,
            cut_off: time(12, 0, 0, 0),
            capabilities: Capabilities::default(),
            priority: 0,
            daily_order_cap: None,
            carrier_zone: CarrierZone::parse("Z").unwrap(),
        };
        Schedule::of(&location)
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn preparation_waits_for_opening_and_skips_lunch_and_closed_days() {
        let s = store(60, vec![date(2025, 3, 4)]);
        // Monday 08:00 Paris (UTC+1): ready at 11:00.
        assert_eq!(
            s.ready_at(ts("2025-03-03T07:00:00Z")),
            Some(ts("2025-03-03T10:00:00Z"))
        );
        // Monday 12:00: the morning slot is too short, ready 15:00.
        assert_eq!(
            s.ready_at(ts("2025-03-03T11:00:00Z")),
            Some(ts("2025-03-03T14:00:00Z"))
        );
        // Monday 18:30: Tuesday is closed, ready Wednesday 11:00.
        assert_eq!(
            s.ready_at(ts("2025-03-03T17:30:00Z")),
            Some(ts("2025-03-05T10:00:00Z"))
        );
    }

    #[test]
    fn dispatch_respects_the_cut_off() {
        let s = store(30, vec![]);
        let before = ts("2025-03-03T10:59:00Z"); // 11:59 local
        let after = ts("2025-03-03T11:00:00Z"); // 12:00 local
        let r1 = s.ready_at(before).unwrap();
        let r2 = s.ready_at(after).unwrap();
        assert_eq!(s.dispatch_date(before, r1), Some(date(2025, 3, 3)));
        assert_eq!(s.dispatch_date(after, r2), Some(date(2025, 3, 4)));
    }

    #[test]
    fn business_days_skip_weekends() {
        // Friday + 1 business day = Monday.
        assert_eq!(
            add_business_days(date(2025, 3, 7), 1),
            Some(date(2025, 3, 10))
        );
        // Saturday + 0 = Saturday.
        assert_eq!(
            add_business_days(date(2025, 3, 8), 0),
            Some(date(2025, 3, 8))
        );
        assert_eq!(
            add_business_days(date(2025, 3, 3), 5),
            Some(date(2025, 3, 10))
        );
    }

    #[test]
    fn a_location_that_never_opens_promises_nothing() {
        let closed: Vec<Date> = (0..70)
            .map(|d| date(2025, 3, 1) + jiff::Span::new().days(d))
            .collect();
        let s = store(30, closed);
        assert_eq!(s.ready_at(ts("2025-03-01T09:00:00Z")), None);
    }
}

//! Periods: rules that hold between two instants and make stock and capacity
//! time-driven (stores stop shipping before Christmas, caps halve in the sales).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{ChannelId, LocationId, LocationKind, ModelError};

/// Which locations a period applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PeriodTarget {
    /// Every location of a kind.
    LocationKind { kind: LocationKind },
    /// One location.
    Location { location: LocationId },
}

impl PeriodTarget {
    pub fn matches(&self, id: &LocationId, kind: LocationKind) -> bool {
        match self {
            PeriodTarget::LocationKind { kind: k } => *k == kind,
            PeriodTarget::Location { location } => location == id,
        }
    }
}

/// What a period does to its target locations while it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PeriodEffect {
    /// The locations' stock is not sold by this channel.
    LeaveChannel { channel: ChannelId },
    /// The daily order cap becomes this many orders.
    DailyCap { cap: u32 },
    /// The daily order cap becomes this percentage of the location's own cap
    /// (rounded down; no effect on a location without a cap).
    DailyCapPercent { percent: u32 },
}

/// A rule in force from `starts_at` (inclusive) to `ends_at` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPeriod")]
pub struct Period {
    name: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    target: PeriodTarget,
    effect: PeriodEffect,
}

#[derive(Deserialize)]
struct RawPeriod {
    name: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    target: PeriodTarget,
    effect: PeriodEffect,
}

impl TryFrom<RawPeriod> for Period {
    type Error = ModelError;
    fn try_from(raw: RawPeriod) -> Result<Self, Self::Error> {
        Period::new(raw.name, raw.starts_at, raw.ends_at, raw.target, raw.effect)
    }
}

impl Period {
    pub fn new(
        name: impl Into<String>,
        starts_at: Timestamp,
        ends_at: Timestamp,
        target: PeriodTarget,
        effect: PeriodEffect,
    ) -> Result<Self, ModelError> {
        let name = name.into();
        if starts_at >= ends_at {
            return Err(ModelError::InvalidPeriod(name));
        }
        Ok(Self {
            name,
            starts_at,
            ends_at,
            target,
            effect,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn starts_at(&self) -> Timestamp {
        self.starts_at
    }

    pub fn ends_at(&self) -> Timestamp {
        self.ends_at
    }

    pub fn target(&self) -> &PeriodTarget {
        &self.target
    }

    pub fn effect(&self) -> &PeriodEffect {
        &self.effect
    }

    pub fn is_in_force_at(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_must_end_after_it_starts() {
        let t: Timestamp = "2025-12-15T00:00:00Z".parse().unwrap();
        let target = PeriodTarget::LocationKind {
            kind: LocationKind::Store,
        };
        let effect = PeriodEffect::DailyCap { cap: 1 };
        assert!(Period::new("x", t, t, target.clone(), effect.clone()).is_err());
        let p = Period::new(
            "x",
            t,
            "2025-12-25T00:00:00Z".parse().unwrap(),
            target,
            effect,
        )
        .unwrap();
        assert!(p.is_in_force_at(t));
        assert!(!p.is_in_force_at(p.ends_at()));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["target"]["type"], "location_kind");
        assert_eq!(json["effect"]["type"], "daily_cap");
        let back: Period = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }
}

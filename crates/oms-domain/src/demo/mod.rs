//! The demo retailer: deterministic, fictional data for tests, benchmarks and
//! the embedded default (DESIGN.md "Demo data"): [`catalogue`] (products)
//! and [`network()`] (channels, locations, stock, periods, settings), and
//! [`rule_sets`] (one orchestration rule set per channel).
//!
//! Everything here is a pure function of a seed and a size, so two machines
//! (or a test and a benchmark) seeded alike see exactly the same retailer.

mod catalogue;
mod network;
mod rules;

pub use catalogue::{DemoProduct, catalogue, ean13_check_digit};
pub use network::{DemoNetwork, STORES, WEB_DE, WEB_FR, carrier_zone, network};
pub use rules::rule_sets;

use serde::{Deserialize, Serialize};

/// How big a demo retailer to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemoSize {
    /// 10,000 SKUs: the embedded default and most tests.
    Small,
    /// 100,000 SKUs: benchmarks.
    Large,
}

impl DemoSize {
    pub fn sku_count(self) -> usize {
        match self {
            DemoSize::Small => 10_000,
            DemoSize::Large => 100_000,
        }
    }
}

impl std::str::FromStr for DemoSize {
    type Err = UnknownDemoSize;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(DemoSize::Small),
            "large" => Ok(DemoSize::Large),
            other => Err(UnknownDemoSize(other.to_owned())),
        }
    }
}

/// A demo size that is neither `small` nor `large`.
#[derive(Debug, thiserror::Error)]
#[error("unknown demo size `{0}`: expected `small` or `large`")]
pub struct UnknownDemoSize(pub String);

//! The demo retailer's orchestration rule sets, one per channel.
//!
//! The web shops ship nearest-first among warehouses and stores within two
//! carrier days, keep orders of 1,000 EUR or more in warehouses, and split
//! into at most three shipments. The store network (endless aisle) prefers
//! one shipment, then priority, then distance.

use crate::model::{ChannelId, Currency, LocationKind, Money};
use crate::orchestration::{Criterion, Filter, RuleSet, SplitPolicy, StockRequirement};

use super::{STORES, WEB_DE, WEB_FR};

/// The five filters every rule set must list (see [`RuleSet::validate`]).
fn mandatory(requirement: StockRequirement) -> Vec<Filter> {
    vec![
        Filter::ActivePeriod,
        Filter::Capability,
        Filter::ProductType {
            restrictions: Vec::new(),
        },
        Filter::Stock { requirement },
        Filter::DailyCap,
    ]
}

fn web_shop(channel: &str) -> RuleSet {
    let mut filters = mandatory(StockRequirement::AnyUnit);
    if let Ok(eur) = Currency::parse("EUR") {
        filters.push(Filter::OrderAmount {
            at_least: Money::new(100_000, eur),
            location_kinds: vec![LocationKind::Warehouse, LocationKind::DistributionCentre],
        });
    }
    filters.push(Filter::DeliveryZone {
        max_transit_days: 2,
        location_kinds: vec![LocationKind::Store],
    });
    filters.push(Filter::ExpressOpening {
        max_wait_minutes: 0,
    });
    RuleSet {
        channel: channel_id(channel),
        version: 1,
        filters,
        ordering: vec![
            Criterion::FewestShipments,
            Criterion::Priority,
            Criterion::Distance,
        ],
        split_policy: SplitPolicy::UpTo { max_shipments: 3 },
    }
}

fn channel_id(channel: &str) -> ChannelId {
    // The demo's channel ids are constants known to be valid.
    ChannelId::parse(channel).unwrap_or_else(|_| unreachable!("demo channel id {channel}"))
}

/// The demo's rule sets: `web-fr`, `web-de` and `stores`, each version 1.
pub fn rule_sets() -> Vec<RuleSet> {
    let mut stores = web_shop(STORES);
    stores
        .filters
        .retain(|f| !matches!(f, Filter::DeliveryZone { .. }));
    vec![web_shop(WEB_FR), web_shop(WEB_DE), stores]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_rule_sets_are_valid() {
        let sets = rule_sets();
        assert_eq!(sets.len(), 3);
        for set in sets {
            set.validate().unwrap();
        }
    }
}

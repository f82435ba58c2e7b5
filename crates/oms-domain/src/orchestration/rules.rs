//! Rule sets: a channel's orchestration rules as versioned data.
//!
//! A rule set is `{channel, version, filters, ordering, split_policy}`, stored
//! and edited as JSON. Orchestration first runs the **filters**, in the order
//! listed, on every candidate location (the first filter that fails drops the
//! candidate and is recorded in the trace), then ranks the kept candidates by
//! the **ordering** (criteria compared one after the other, the location id
//! breaking a complete tie), and builds shipments under the **split policy**.
//!
//! Five filters protect stock and physical limits and must be listed in every
//! rule set ([`RuleSet::validate`] refuses one without them):
//! `active_period`, `capability`, `product_type`, `stock` and `daily_cap`.
//! The others are optional business rules.

use serde::{Deserialize, Serialize};

use crate::model::{ChannelId, LocationKind, Money, ProductType};

/// A channel's orchestration rules, one version of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub channel: ChannelId,
    /// Starts at 1; each edit makes a new version.
    pub version: u32,
    pub filters: Vec<Filter>,
    pub ordering: Vec<Criterion>,
    pub split_policy: SplitPolicy,
}

/// How much of the order a location must hold to stay a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockRequirement {
    /// At least one unit of some line; lines may be split between locations.
    AnyUnit,
    /// At least one line in full; a line is never split between locations.
    FullLine,
    /// Every line in full (one shipment for the whole order).
    WholeOrder,
}

/// A product type that only some kinds of location may serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductTypeRestriction {
    pub product_type: ProductType,
    pub location_kinds: Vec<LocationKind>,
}

/// A filter: a rule a candidate location must pass to be kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Filter {
    /// The location sells for the channel at this instant (periods may take
    /// a kind of location out of a channel). Mandatory.
    ActivePeriod,
    /// The location can serve the delivery method to the destination: it
    /// ships (home delivery, pickup point, ship-to-store from elsewhere), or
    /// it is the pickup store (express; click & collect from its own shelf);
    /// a carrier serves the route; it opens within the horizon. Mandatory.
    Capability,
    /// The network's product-type rules (which kinds may ship a bulky item),
    /// plus optional restrictions of the rule set's own. A line the location
    /// may not serve is excluded there; a location left with no line is
    /// dropped. Mandatory.
    ProductType {
        #[serde(default)]
        restrictions: Vec<ProductTypeRestriction>,
    },
    /// Enough available stock (`max(0, on_hand − reserved − safety)`).
    /// Mandatory.
    Stock { requirement: StockRequirement },
    /// The location is under its daily order cap (periods may change the
    /// cap) on its local date. Mandatory.
    DailyCap,
    /// Orders whose goods (after discounts) reach `at_least` are served only
    /// by these kinds of location (e.g. above 1,000 EUR only warehouses).
    OrderAmount {
        at_least: Money,
        location_kinds: Vec<LocationKind>,
    },
    /// Locations of these kinds (all kinds if empty) only ship to
    /// destinations within `max_transit_days` carrier business days.
    DeliveryZone {
        max_transit_days: u8,
        #[serde(default)]
        location_kinds: Vec<LocationKind>,
    },
    /// Express click & collect only while the store is open: the order must
    /// be ready within the preparation time plus `max_wait_minutes` of now.
    ExpressOpening {
        #[serde(default)]
        max_wait_minutes: u32,
    },
}

/// The name of a rule, as recorded in traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    ActivePeriod,
    Capability,
    ProductType,
    Stock,
    DailyCap,
    OrderAmount,
    DeliveryZone,
    ExpressOpening,
    /// Not a rule set's filter: the location reported the line missing for
    /// this order earlier, so it is never asked again.
    ReportedMissing,
}

impl Filter {
    pub fn rule(&self) -> Rule {
        match self {
            Filter::ActivePeriod => Rule::ActivePeriod,
            Filter::Capability => Rule::Capability,
            Filter::ProductType { .. } => Rule::ProductType,
            Filter::Stock { .. } => Rule::Stock,
            Filter::DailyCap => Rule::DailyCap,
            Filter::OrderAmount { .. } => Rule::OrderAmount,
            Filter::DeliveryZone { .. } => Rule::DeliveryZone,
            Filter::ExpressOpening { .. } => Rule::ExpressOpening,
        }
    }
}

/// A shipment cost per kind of location (picking in a store costs more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindCost {
    pub kind: LocationKind,
    pub per_shipment: Money,
}

/// The cost model: a cost per shipment (per kind of location if listed) plus
/// a cost per kilometre to the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostModel {
    pub per_shipment: Money,
    pub per_km: Money,
    #[serde(default)]
    pub per_shipment_by_kind: Vec<KindCost>,
}

impl CostModel {
    /// The cost of one shipment from a location of `kind`, `distance_m`
    /// metres from the destination, rounded to the nearest minor unit.
    pub fn shipment_cost(&self, kind: LocationKind, distance_m: u32) -> Money {
        let fixed = self
            .per_shipment_by_kind
            .iter()
            .find(|k| k.kind == kind)
            .map_or(self.per_shipment, |k| k.per_shipment);
        let per_km = i128::from(self.per_km.minor());
        let variable = (per_km * i128::from(distance_m) + 500) / 1000;
        let minor = i128::from(fixed.minor()) + variable;
        Money::new(
            i64::try_from(minor).unwrap_or(i64::MAX),
            self.per_shipment.currency(),
        )
    }
}

/// One criterion of the ordering. Criteria are compared in the order listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Criterion {
    /// Lower location priority first (e.g. integrated stores first).
    Priority,
    /// Nearest to the destination first (the address, or the pickup store).
    Distance,
    /// The location that covers the most of what is left to serve (lines in
    /// full, then units) first: the fewest shipments.
    FewestShipments,
    /// The location left with the most units after taking the order first
    /// (avoid taking a store's last unit).
    StockDepth,
    /// The cheapest shipment first.
    Cost(CostModel),
    /// The earliest delivery (or ready-for-pickup) first.
    EarliestDelivery,
}

/// A criterion's name, as recorded in traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    Priority,
    Distance,
    FewestShipments,
    StockDepth,
    Cost,
    EarliestDelivery,
}

impl Criterion {
    pub fn kind(&self) -> CriterionKind {
        match self {
            Criterion::Priority => CriterionKind::Priority,
            Criterion::Distance => CriterionKind::Distance,
            Criterion::FewestShipments => CriterionKind::FewestShipments,
            Criterion::StockDepth => CriterionKind::StockDepth,
            Criterion::Cost(_) => CriterionKind::Cost,
            Criterion::EarliestDelivery => CriterionKind::EarliestDelivery,
        }
    }
}

/// Whether and how an order may be served by several locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SplitPolicy {
    /// One shipment. If no location can serve the whole order, the location
    /// that covers the most of it serves that part; the rest is unservable.
    Never,
    /// At most `max_shipments` shipments, built greedily: each step takes the
    /// best-ranked location (by the ordering) that can supply what is left.
    /// If that leaves lines unserved, a fewest-shipments plan is tried too
    /// and the plan serving more units wins.
    UpTo { max_shipments: u32 },
    /// One shipment whenever one location can serve the whole order (the
    /// best-ranked such); otherwise split, fewest shipments first.
    WhenNeeded,
}

/// A rule set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("the version must be at least 1")]
    ZeroVersion,
    #[error("the mandatory filter `{0:?}` is missing")]
    MissingFilter(Rule),
    #[error("the filter `{0:?}` is listed twice")]
    DuplicateFilter(Rule),
    #[error("the criterion `{0:?}` is listed twice")]
    DuplicateCriterion(CriterionKind),
    #[error("a split policy must allow at least one shipment")]
    ZeroShipments,
    #[error("amounts in a rule set must not be negative")]
    NegativeAmount,
    #[error("amounts in a cost model must share one currency")]
    MixedCurrencies,
}

/// Filters every rule set must list.
pub const MANDATORY_FILTERS: [Rule; 5] = [
    Rule::ActivePeriod,
    Rule::Capability,
    Rule::ProductType,
    Rule::Stock,
    Rule::DailyCap,
];

impl RuleSet {
    /// Checks that the rule set can be used: version ≥ 1, the mandatory
    /// filters present, no filter or criterion twice, sane amounts and split
    /// limit.
    pub fn validate(&self) -> Result<(), RuleSetError> {
        if self.version == 0 {
            return Err(RuleSetError::ZeroVersion);
        }
        // Sets as bit masks: every run validates its rule set, so no
        // allocation here.
        let bit = |rule: Rule| 1_u32 << (rule as u32);
        let mut seen = 0_u32;
        for filter in &self.filters {
            let rule = filter.rule();
            if seen & bit(rule) != 0 {
                return Err(RuleSetError::DuplicateFilter(rule));
            }
            seen |= bit(rule);
            if let Filter::OrderAmount { at_least, .. } = filter
                && at_least.minor() < 0
            {
                return Err(RuleSetError::NegativeAmount);
            }
        }
        if let Some(missing) = MANDATORY_FILTERS.iter().find(|r| seen & bit(**r) == 0) {
            return Err(RuleSetError::MissingFilter(*missing));
        }
        let mut criteria = 0_u32;
        for criterion in &self.ordering {
            let kind = criterion.kind();
            if criteria & (1 << (kind as u32)) != 0 {
                return Err(RuleSetError::DuplicateCriterion(kind));
            }
            criteria |= 1 << (kind as u32);
            if let Criterion::Cost(model) = criterion {
                let currency = model.per_shipment.currency();
                let amounts = std::iter::once(model.per_shipment)
                    .chain(std::iter::once(model.per_km))
                    .chain(model.per_shipment_by_kind.iter().map(|k| k.per_shipment));
                for amount in amounts {
                    if amount.minor() < 0 {
                        return Err(RuleSetError::NegativeAmount);
                    }
                    if amount.currency() != currency {
                        return Err(RuleSetError::MixedCurrencies);
                    }
                }
            }
        }
        if let SplitPolicy::UpTo { max_shipments: 0 } = self.split_policy {
            return Err(RuleSetError::ZeroShipments);
        }
        Ok(())
    }

    /// The stock requirement of the rule set's `stock` filter.
    pub fn stock_requirement(&self) -> StockRequirement {
        self.filters
            .iter()
            .find_map(|f| match f {
                Filter::Stock { requirement } => Some(*requirement),
                _ => None,
            })
            .unwrap_or(StockRequirement::AnyUnit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RuleSet {
        serde_json::from_value(serde_json::json!({
            "channel": "web-fr",
            "version": 3,
            "filters": [
                {"type": "active_period"},
                {"type": "capability"},
                {"type": "product_type", "restrictions": [
                    {"product_type": "bulky", "location_kinds": ["warehouse"]}
                ]},
                {"type": "stock", "requirement": "full_line"},
                {"type": "daily_cap"},
                {"type": "order_amount",
                 "at_least": {"minor": 100000, "currency": "EUR"},
                 "location_kinds": ["warehouse"]},
                {"type": "delivery_zone", "max_transit_days": 1, "location_kinds": ["store"]},
                {"type": "express_opening"}
            ],
            "ordering": [
                {"type": "priority"},
                {"type": "cost", "per_shipment": {"minor": 500, "currency": "EUR"},
                 "per_km": {"minor": 2, "currency": "EUR"}},
                {"type": "distance"}
            ],
            "split_policy": {"type": "up_to", "max_shipments": 2}
        }))
        .unwrap()
    }

    #[test]
    fn rule_sets_round_trip_through_json() {
        let rules = base();
        assert_eq!(rules.validate(), Ok(()));
        assert_eq!(rules.stock_requirement(), StockRequirement::FullLine);
        let json = serde_json::to_value(&rules).unwrap();
        assert_eq!(json["filters"][3]["requirement"], "full_line");
        assert_eq!(json["split_policy"]["type"], "up_to");
        let back: RuleSet = serde_json::from_value(json).unwrap();
        assert_eq!(back, rules);
    }

    #[test]
    fn validation_refuses_unsafe_rule_sets() {
        let mut r = base();
        r.filters.retain(|f| f.rule() != Rule::DailyCap);
        assert_eq!(
            r.validate(),
            Err(RuleSetError::MissingFilter(Rule::DailyCap))
        );
        let mut r = base();
        r.filters.push(Filter::DailyCap);
        assert_eq!(
            r.validate(),
            Err(RuleSetError::DuplicateFilter(Rule::DailyCap))
        );
        let mut r = base();
        r.ordering.push(Criterion::Priority);
        assert!(matches!(
            r.validate(),
            Err(RuleSetError::DuplicateCriterion(_))
        ));
        let mut r = base();
        r.split_policy = SplitPolicy::UpTo { max_shipments: 0 };
        assert_eq!(r.validate(), Err(RuleSetError::ZeroShipments));
        let mut r = base();
        r.version = 0;
        assert_eq!(r.validate(), Err(RuleSetError::ZeroVersion));
        let unknown = serde_json::json!({"type": "moon_phase"});
        assert!(serde_json::from_value::<Filter>(unknown).is_err());
    }

    #[test]
    fn the_cost_model_rounds_to_the_nearest_cent() {
        let eur = crate::model::Currency::parse("EUR").unwrap();
        let model = CostModel {
            per_shipment: Money::new(500, eur),
            per_km: Money::new(3, eur),
            per_shipment_by_kind: vec![KindCost {
                kind: LocationKind::Store,
                per_shipment: Money::new(800, eur),
            }],
        };
        // 12.5 km × 3 = 37.5 → 38.
        assert_eq!(
            model.shipment_cost(LocationKind::Warehouse, 12_500).minor(),
            538
        );
        assert_eq!(model.shipment_cost(LocationKind::Store, 0).minor(), 800);
    }
}

//! Plans and decision traces: what orchestration decided, and why.
//!
//! Every reason is a closed enum serialised as `snake_case`, so the server,
//! the app and tests match codes, never sentences; [`super::explain`] turns a
//! trace into sentences for people.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::order::{LineId, OrderId};
use super::rules::{CriterionKind, Rule, SplitPolicy};
use crate::model::{
    ChannelId, DeliveryMethod, LocationId, LocationKind, Money, ProductType, Quantity, Sku,
};

/// The outcome of orchestrating an order (or the missing part of one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub order: OrderId,
    /// One per location, in the order they were chosen.
    pub fulfilments: Vec<PlannedFulfilment>,
    /// Lines (or parts of lines) no location may serve, with the reason.
    pub unservable: Vec<UnservableLine>,
    pub trace: Trace,
}

/// A location and the units of each line it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFulfilment {
    pub location: LocationId,
    pub lines: Vec<PlannedLine>,
    /// Delivered (home, pickup point) or ready for pickup (click & collect).
    pub expected_date: Date,
    /// For click & collect: the instant the order is ready at the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
    /// Great-circle distance to the destination, in metres.
    pub distance_m: u32,
}

/// Units of one order line planned at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedLine {
    pub line: LineId,
    pub sku: Sku,
    pub quantity: Quantity,
    /// The first of the line's units this covers (0-based): fulfilments of
    /// one line cover consecutive ranges, which fixes what each is worth
    /// (see [`super::Order::units_amount`]).
    pub first_unit: u32,
}

/// Units of a line that cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnservableLine {
    pub line: LineId,
    pub sku: Sku,
    /// Units asked for in this run.
    pub requested: u32,
    /// Units planned anyway (a partly served line).
    pub planned: u32,
    /// `requested − planned`.
    pub missing: u32,
    pub reason: UnservableReason,
    /// Locations holding the line's product that rules dropped, per rule.
    pub dropped: Vec<DropCount>,
}

/// How many candidates holding a line's product a rule dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropCount {
    pub rule: Rule,
    pub locations: u32,
}

/// Why (part of) a line cannot be served. A closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnservableReason {
    /// The channel does not sell with the order's delivery method.
    MethodNotOffered,
    /// Home delivery or pickup point without an address.
    NoAddress,
    /// Click & collect without a pickup store.
    NoPickupStore,
    /// The pickup location is not a store.
    PickupStoreNotAStore,
    /// The pickup store does not receive ship-to-store parcels.
    PickupStoreCannotReceive,
    /// The pickup store does not offer express click & collect.
    PickupStoreNoExpress,
    /// The pickup store is not part of the channel at this instant.
    PickupStoreNotInChannel,
    /// The product type may not be sold with this delivery method.
    ProductTypeNotAllowed,
    /// No location of the channel holds an available unit.
    OutOfStock,
    /// Locations hold stock, but the rules dropped every one of them.
    NoEligibleLocation,
    /// The eligible locations hold fewer units than asked for.
    InsufficientStock,
    /// Another shipment would be needed and the rule set forbids splitting.
    SplitNotAllowed,
    /// Another shipment would be needed beyond the rule set's limit.
    SplitLimitReached,
}

/// The full decision record of one orchestration run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub order: OrderId,
    pub channel: ChannelId,
    pub rule_set_version: u32,
    pub delivery: DeliveryMethod,
    pub at: Timestamp,
    pub split_policy: SplitPolicy,
    /// Set when the request itself rules out every location (no address, a
    /// pickup store that cannot take the method…); no candidate is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<UnservableReason>,
    /// Every location of the channel that holds an available unit of some
    /// line (and, for click & collect, the pickup store), in location order.
    pub candidates: Vec<CandidateTrace>,
    /// The choices, in order: each winner and why it won.
    pub decisions: Vec<Decision>,
    /// Set when the ordering's greedy plan left lines unserved and a
    /// fewest-shipments plan served more.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fell_back_to_fewest_shipments: bool,
    pub unservable: Vec<UnservableLine>,
}

/// One candidate location and what the rules made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateTrace {
    pub location: LocationId,
    pub kind: LocationKind,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Kept (with its score) or dropped (with the rule and the reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Kept {
        /// Against the whole order, before any choice.
        score: Score,
        /// Lines this location may not serve although it holds them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        excluded_lines: Vec<LineExclusion>,
    },
    Dropped {
        rule: Rule,
        reason: DropReason,
    },
}

/// A line a kept location holds but may not serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineExclusion {
    pub line: LineId,
    pub rule: Rule,
    pub reason: DropReason,
}

/// Why a rule dropped a candidate (or excluded a line). A closed set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DropReason {
    /// A period takes the location out of the channel now.
    LeftChannelForPeriod,
    /// The method needs a parcel and the location does not ship.
    CannotShip,
    /// Express click & collect is served from the pickup store's shelf only.
    NotThePickupStore,
    /// The carrier has no route from the location to the destination.
    NoCarrierRoute,
    /// The location does not open within the horizon (60 days).
    NotOpenSoon,
    /// The network's rules do not let this kind of location ship the product.
    ProductTypeCannotShipFrom { product_type: ProductType },
    /// The rule set keeps the product to other kinds of location.
    ProductTypeRestricted { product_type: ProductType },
    /// Not one available unit of any line it may serve.
    NoStock,
    /// No line it may serve in full (lines are not split).
    NoFullLine,
    /// Not every line in full (the rule set wants one shipment).
    CannotServeWholeOrder,
    /// It has taken its daily cap of orders on its local date.
    DailyCapReached { orders: u32, cap: u32 },
    /// The order's goods reach the threshold above which this kind of
    /// location does not serve.
    OrderAmountAboveThreshold { amount: Money, threshold: Money },
    /// The destination is further than the rule set allows for this kind.
    OutsideDeliveryZone {
        transit_days: u8,
        max_transit_days: u8,
    },
    /// Express: the store is closed or cannot prepare in time now.
    StoreClosedForExpress { ready_at: Timestamp },
    /// It reported this line missing for this order before.
    ReportedMissing,
}

/// A kept candidate's score parts (what every criterion looks at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub priority: u32,
    pub distance_m: u32,
    /// Lines it can serve in full (of those left to serve).
    pub lines_covered: u32,
    /// Units it can supply (of those left to serve).
    pub units_covered: u32,
    /// The fewest units left of any product it would supply, after taking
    /// them (0: it would take a last unit).
    pub stock_left: u32,
    /// The shipment's cost, when the ordering has a cost model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    /// Delivered or ready for pickup. Dates cost time to compute, so they
    /// are computed for the chosen locations, and for every candidate only
    /// when the ordering ranks by earliest delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
}

/// Which candidates a choice was made among.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Locations able to serve everything left in one shipment.
    WholeOrder,
    /// Locations able to supply some of what is left (a split step).
    RemainingLines,
    /// No single location can serve everything and splitting is not
    /// allowed: the one covering the most was taken.
    MostOfOrder,
}

/// One choice: the winner, what it serves, and why it beat the runner-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub location: LocationId,
    pub pool: Pool,
    /// How many candidates were in the pool.
    pub contenders: u32,
    pub lines: Vec<PlannedLine>,
    pub score: Score,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<RunnerUp>,
    /// The first criterion on which the winner beat the runner-up; `None`
    /// with a runner-up: a complete tie, broken by location id; `None`
    /// without: it was the only contender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<CriterionKind>,
}

/// The best of the rest in a decision's pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunnerUp {
    pub location: LocationId,
    pub score: Score,
}

impl Plan {
    /// Whether every unit of every line asked for is planned.
    pub fn is_complete(&self) -> bool {
        self.unservable.is_empty()
    }

    /// The reservations the plan needs: `(location, sku, units)`, one per
    /// planned line.
    pub fn reservations(&self) -> impl Iterator<Item = (&LocationId, &Sku, Quantity)> + '_ {
        self.fulfilments.iter().flat_map(|f| {
            f.lines
                .iter()
                .map(move |l| (&f.location, &l.sku, l.quantity))
        })
    }

    /// Units planned for a line, over all fulfilments.
    pub fn planned_units(&self, line: LineId) -> u32 {
        self.fulfilments
            .iter()
            .flat_map(|f| &f.lines)
            .filter(|l| l.line == line)
            .map(|l| l.quantity.get())
            .sum()
    }
}

//! Simulation: replay orders against a rule set on a copy of the stock, so a
//! merchandiser can compare two rule sets on the same orders.
//!
//! Orders are replayed in `placed_at` order (stable), each orchestrated at
//! its `placed_at` and committed to the copy (reservations and daily-cap
//! counts), so later orders see the stock and caps earlier ones used. Every
//! shipment is costed with one cost model given by the caller, so two rule
//! sets are measured with the same yardstick whatever their own ordering.

use std::collections::HashSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::OrchestrateError;
use super::order::Order;
use super::rules::{CostModel, Rule, RuleSet};
use super::trace::{Plan, UnservableReason, Verdict};
use crate::model::{ChannelId, LocationKind, Money, Quantity};
use crate::stock::{IndexError, LocationLoad, StockIndex, StockRow};

/// Applies a plan to an index as the server's reservation does: each planned
/// line's units are added to `reserved` at its location, and each
/// fulfilment counts one order towards its location's daily cap on the
/// location's local date at `now`.
pub fn commit(index: &mut StockIndex, plan: &Plan, now: Timestamp) -> Result<(), IndexError> {
    for fulfilment in &plan.fulfilments {
        let location = index.location_index(&fulfilment.location)?;
        let site = &index.sites[location as usize];
        let today = index.schedules[site.schedule as usize].local_date(now);
        let orders = match index.load(location) {
            Some((date, orders)) if date == today => orders.saturating_add(1),
            _ => 1,
        };
        index.set_location_load(&LocationLoad {
            location: fulfilment.location.clone(),
            date: today,
            orders,
        })?;
        for line in &fulfilment.lines {
            let entries = index.entries(&line.sku);
            let (on_hand, reserved) = entries
                .binary_search_by_key(&location, |e| e.location)
                .map_or((0, 0), |at| (entries[at].on_hand, entries[at].reserved));
            index.apply(&StockRow {
                sku: line.sku.clone(),
                location: fulfilment.location.clone(),
                on_hand,
                reserved: Quantity::new(reserved.saturating_add(line.quantity.get())),
            })?;
        }
    }
    Ok(())
}

/// Lines that could not be served, per reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: UnservableReason,
    pub lines: u64,
}

/// Shipments per kind of location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: LocationKind,
    pub shipments: u64,
}

/// What a rule set did to a list of orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationReport {
    pub channel: ChannelId,
    pub rule_set_version: u32,
    pub orders: u64,
    /// Every unit planned.
    pub fully_served_orders: u64,
    /// Some units planned, some not.
    pub partially_served_orders: u64,
    /// Nothing planned.
    pub unserved_orders: u64,
    pub shipments: u64,
    /// Orders served by two or more shipments.
    pub split_orders: u64,
    /// `split_orders` over orders with at least one shipment (0 if none).
    pub split_rate: f64,
    /// Mean great-circle distance of a shipment to its destination.
    pub mean_distance_km: f64,
    /// Mean, over orders with a shipment, of the days from the order's date
    /// (at the shipping location) to its latest expected date.
    pub mean_lead_time_days: f64,
    /// Candidates holding stock that were dropped because their daily cap
    /// was reached (one per order and location).
    pub cap_hits: u64,
    /// Distinct locations that dropped a candidate for their cap.
    pub locations_capped: u64,
    pub unservable_lines: u64,
    pub unservable_units: u64,
    pub unservable_by_reason: Vec<ReasonCount>,
    pub shipments_by_kind: Vec<KindCount>,
    /// Σ shipment costs under the caller's cost model.
    pub cost: Money,
}

/// Replays `orders` against `rules` on a copy of `index` (see the module
/// documentation). Orders must all be in the rule set's channel.
pub fn simulate(
    orders: &[Order],
    index: &StockIndex,
    rules: &RuleSet,
    cost_model: &CostModel,
) -> Result<SimulationReport, OrchestrateError> {
    let mut index = index.clone();
    let mut sorted: Vec<&Order> = orders.iter().collect();
    sorted.sort_by_key(|o| o.placed_at);

    let mut report = SimulationReport {
        channel: rules.channel.clone(),
        rule_set_version: rules.version,
        orders: sorted.len() as u64,
        fully_served_orders: 0,
        partially_served_orders: 0,
        unserved_orders: 0,
        shipments: 0,
        split_orders: 0,
        split_rate: 0.0,
        mean_distance_km: 0.0,
        mean_lead_time_days: 0.0,
        cap_hits: 0,
        locations_capped: 0,
        unservable_lines: 0,
        unservable_units: 0,
        unservable_by_reason: Vec::new(),
        shipments_by_kind: Vec::new(),
        cost: Money::zero(cost_model.per_shipment.currency()),
    };
    let mut capped = HashSet::new();
    let mut distance_m: u64 = 0;
    let mut lead_days: i64 = 0;
    let mut served_orders: u64 = 0;
    let mut cost: i128 = 0;
    for order in sorted {
        let now = order.placed_at;
        let plan = super::orchestrate(order, &index, rules, now)?;
        commit(&mut index, &plan, now)?;

        let shipments = plan.fulfilments.len() as u64;
        report.shipments += shipments;
        if shipments > 1 {
            report.split_orders += 1;
        }
        match (shipments, plan.is_complete()) {
            (0, _) => report.unserved_orders += 1,
            (_, true) => report.fully_served_orders += 1,
            (_, false) => report.partially_served_orders += 1,
        }
        for candidate in &plan.trace.candidates {
            if let Verdict::Dropped {
                rule: Rule::DailyCap,
                ..
            } = candidate.verdict
            {
                report.cap_hits += 1;
                capped.insert(candidate.location.clone());
            }
        }
        for line in &plan.unservable {
            report.unservable_lines += 1;
            report.unservable_units += u64::from(line.missing);
            match report
                .unservable_by_reason
                .iter_mut()
                .find(|r| r.reason == line.reason)
            {
                Some(count) => count.lines += 1,
                None => report.unservable_by_reason.push(ReasonCount {
                    reason: line.reason,
                    lines: 1,
                }),
            }
        }
        let mut latest: Option<i64> = None;
        for fulfilment in &plan.fulfilments {
            let location = index.location_index(&fulfilment.location)?;
            let site = &index.sites[location as usize];
            distance_m += u64::from(fulfilment.distance_m);
            cost += i128::from(
                cost_model
                    .shipment_cost(site.kind, fulfilment.distance_m)
                    .minor(),
            );
            match report
                .shipments_by_kind
                .iter_mut()
                .find(|k| k.kind == site.kind)
            {
                Some(count) => count.shipments += 1,
                None => report.shipments_by_kind.push(KindCount {
                    kind: site.kind,
                    shipments: 1,
                }),
            }
            let today = index.schedules[site.schedule as usize].local_date(now);
            let days = fulfilment
                .expected_date
                .since(today)
                .map_or(0, |span| i64::from(span.get_days()));
            latest = Some(latest.map_or(days, |l: i64| l.max(days)));
        }
        if let Some(days) = latest {
            served_orders += 1;
            lead_days += days;
        }
    }
    report.locations_capped = capped.len() as u64;
    if served_orders > 0 {
        report.split_rate = report.split_orders as f64 / served_orders as f64;
        report.mean_lead_time_days = lead_days as f64 / served_orders as f64;
    }
    if report.shipments > 0 {
        report.mean_distance_km = distance_m as f64 / 1000.0 / report.shipments as f64;
    }
    report.unservable_by_reason.sort_by_key(|r| r.reason);
    report
        .shipments_by_kind
        .sort_by_key(|k| LocationKind::ALL.iter().position(|x| *x == k.kind));
    report.cost = Money::new(
        i64::try_from(cost).unwrap_or(i64::MAX),
        cost_model.per_shipment.currency(),
    );
    Ok(report)
}

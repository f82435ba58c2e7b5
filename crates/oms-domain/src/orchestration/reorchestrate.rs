//! Re-orchestration after a picker finds items missing.
//!
//! A store (or warehouse) preparing a fulfilment reports, for some of its
//! lines, how many units it actually found. Two things follow:
//!
//! **The stock correction**, per product of the report, at that location:
//!
//! - `on_hand := found + set_aside`, where `found` is the units of the
//!   product the picker found for this fulfilment (Σ over its lines of that
//!   product) and `set_aside` the units of the product already picked for
//!   *other* fulfilments and waiting there for handover or shipping (the
//!   server knows them; the picker does not count them). A picker only
//!   reports a shortage after searching the whole location, so what was
//!   found is everything on the shelves: the location holds exactly
//!   `found + set_aside` units.
//! - `reserved := max(0, reserved − missing)`, `missing = planned − found`:
//!   the order's reservation for the missing units is released; the units
//!   found stay reserved for this fulfilment. Other orders' reservations are
//!   left as they are (their pickers will report if their units are gone too).
//!
//! **A new plan for the missing units only** (units `first_unit + found ..
//! first_unit + planned` of each line, so amounts stay consistent), under the
//! channel's rule set, never at a location that reported the same line
//! missing for this order — this one or any earlier one (`history`).
//!
//! The new plan is computed on the index *before* the correction: the
//! correction only changes the reporting location's rows for the reported
//! products, and that location is excluded for exactly those lines, so the
//! plan is the same either way. The server applies the corrections and the
//! plan's reservations in one transaction.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::OrchestrateError;
use super::engine::{self, Want};
use super::order::{LineId, Order};
use super::rules::RuleSet;
use super::trace::Plan;
use crate::model::{LocationId, Quantity, Sku};
use crate::stock::{IndexError, StockIndex, StockRow};

/// A line of a fulfilment as the picker found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundLine {
    pub line: LineId,
    /// The first of the line's units the fulfilment covers.
    pub first_unit: u32,
    /// Units of the line planned at this location.
    pub planned: Quantity,
    /// Units actually found (at most `planned`).
    pub found: Quantity,
}

/// Units of a product already picked at the location for other fulfilments
/// and waiting there (still counted in `on_hand`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// A location's report that lines of a fulfilment are (partly) missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingReport {
    pub location: LocationId,
    pub lines: Vec<FoundLine>,
    #[serde(default)]
    pub set_aside: Vec<SetAside>,
}

/// The new stock row of one product at the reporting location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCorrection {
    pub location: LocationId,
    pub sku: Sku,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
    pub reserved_before: Quantity,
    pub reserved_after: Quantity,
    /// Units of this order's reservation released (the missing units).
    pub released: Quantity,
}

impl StockCorrection {
    /// The corrected stock row (for [`StockIndex::apply`]).
    pub fn row(&self) -> StockRow {
        StockRow {
            sku: self.sku.clone(),
            location: self.location.clone(),
            on_hand: self.on_hand_after,
            reserved: self.reserved_after,
        }
    }
}

/// The outcome of a missing-items report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reorchestration {
    pub corrections: Vec<StockCorrection>,
    /// The plan for the missing units only.
    pub plan: Plan,
}

/// A report that cannot be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReorchestrateError {
    #[error(transparent)]
    Orchestrate(#[from] OrchestrateError),
    #[error("line {0} is reported twice")]
    DuplicateLine(LineId),
    #[error("line {0}: found more units than were planned")]
    FoundMoreThanPlanned(LineId),
    #[error("line {line}: units {first_unit}..{end} are outside the line")]
    UnitsOutOfRange {
        line: LineId,
        first_unit: u32,
        end: u64,
    },
    #[error("the report names no missing unit")]
    NothingMissing,
}

impl From<IndexError> for ReorchestrateError {
    fn from(error: IndexError) -> Self {
        Self::Orchestrate(OrchestrateError::Index(error))
    }
}

/// Processes a missing-items report: the stock correction and a plan for
/// the missing units (see the module documentation). `history` holds this
/// order's earlier reports.
pub fn reorchestrate(
    order: &Order,
    report: &MissingReport,
    history: &[MissingReport],
    index: &StockIndex,
    rules: &RuleSet,
    now: Timestamp,
) -> Result<Reorchestration, ReorchestrateError> {
    order.validate().map_err(OrchestrateError::from)?;
    let location = index.location_index(&report.location)?;
    let mut wants: Vec<Want> = Vec::with_capacity(report.lines.len());
    for (i, found) in report.lines.iter().enumerate() {
        if report.lines[..i].iter().any(|f| f.line == found.line) {
            return Err(ReorchestrateError::DuplicateLine(found.line));
        }
        let line = order
            .line_index(found.line)
            .map_err(OrchestrateError::from)?;
        if found.found > found.planned {
            return Err(ReorchestrateError::FoundMoreThanPlanned(found.line));
        }
        let end = u64::from(found.first_unit) + u64::from(found.planned.get());
        if end > u64::from(order.lines[line].quantity.get()) {
            return Err(ReorchestrateError::UnitsOutOfRange {
                line: found.line,
                first_unit: found.first_unit,
                end,
            });
        }
        let missing = found.planned.get() - found.found.get();
        if missing > 0 {
            wants.push(Want {
                line,
                quantity: missing,
                first_unit: found.first_unit + found.found.get(),
            });
        }
    }
    if wants.is_empty() {
        return Err(ReorchestrateError::NothingMissing);
    }

    // Corrections, one per product, in first-reported order.
    let mut corrections: Vec<StockCorrection> = Vec::new();
    for found in &report.lines {
        let sku = &order.line(found.line).map_err(OrchestrateError::from)?.sku;
        if corrections.iter().any(|c| &c.sku == sku) {
            continue;
        }
        let (found_units, missing): (u64, u64) = report
            .lines
            .iter()
            .filter(|f| order.line(f.line).is_ok_and(|l| &l.sku == sku))
            .fold((0, 0), |(found, missing), f| {
                (
                    found + u64::from(f.found.get()),
                    missing + u64::from(f.planned.get() - f.found.get()),
                )
            });
        if missing == 0 {
            continue;
        }
        let set_aside: u64 = report
            .set_aside
            .iter()
            .filter(|s| &s.sku == sku)
            .map(|s| u64::from(s.quantity.get()))
            .sum();
        let entry = index
            .entries(sku)
            .binary_search_by_key(&location, |e| e.location)
            .ok()
            .map(|at| index.entries(sku)[at]);
        let (on_hand_before, reserved_before) = entry.map_or((0, 0), |e| (e.on_hand, e.reserved));
        let reserved_after = u64::from(reserved_before).saturating_sub(missing);
        corrections.push(StockCorrection {
            location: report.location.clone(),
            sku: sku.clone(),
            on_hand_before,
            on_hand_after: i64::try_from(found_units + set_aside).unwrap_or(i64::MAX),
            reserved_before: Quantity::new(reserved_before),
            reserved_after: Quantity::new(u32::try_from(reserved_after).unwrap_or(u32::MAX)),
            released: Quantity::new(
                u32::try_from(u64::from(reserved_before) - reserved_after).unwrap_or(u32::MAX),
            ),
        });
    }

    // Every (line, location) ever reported missing for this order.
    let excluded: Vec<(LineId, LocationId)> = history
        .iter()
        .chain(std::iter::once(report))
        .flat_map(|r| {
            r.lines
                .iter()
                .filter(|f| f.found < f.planned)
                .map(move |f| (f.line, r.location.clone()))
        })
        .collect();
    let plan = engine::run(order, &wants, &excluded, index, rules, now)?;
    Ok(Reorchestration { corrections, plan })
}

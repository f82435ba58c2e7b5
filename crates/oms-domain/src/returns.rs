//! Returns and refunds.
//!
//! A customer returns some units of some lines of an order, through any
//! channel, to any location that accepts returns (capability
//! `accept_returns`), each line with a reason and a condition.
//! [`process_return`] checks the request and computes:
//!
//! - **The refund of each line**: the value of the units returned, after
//!   the line's share of order discounts ([`Order::units_amount`]). Returns
//!   take the line's delivered units (shipped or handed over) in unit order,
//!   skipping those already returned, so a refund is always the value of
//!   units that were captured, and all the returns of a line together never
//!   exceed what its delivered units were paid.
//! - **The shipping refund**, under a [`ShippingRefundPolicy`], at most once
//!   per order.
//! - **The restock decision**: a resaleable item goes back to the sellable
//!   stock of the location that took it back (`on_hand + quantity`), a
//!   damaged one to quarantine there (not sellable, `on_hand` unchanged).
//! - **Effects**: the events to record, the customer's `refunded`
//!   notification and the refund for the payment provider.

use serde::{Deserialize, Serialize};

use crate::lifecycle::{
    CustomerStatus, Effects, EventContext, EventKind, Notification, PaymentAction, PaymentKind,
    RecordedEvent,
};
use crate::model::{ChannelId, Location, LocationId, Money, Quantity, Sku};
use crate::orchestration::{LineId, Order, OrderError, OrderId, identifier};

identifier!(
    /// A return's id.
    ReturnId,
    "return id"
);

/// Why the customer returns an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    ChangedMind,
    DoesNotFit,
    Defective,
    DamagedInTransit,
    NotAsDescribed,
    WrongItem,
    ArrivedLate,
    Other,
}

impl ReturnReason {
    /// Reasons for which the retailer, not the customer, is at fault.
    pub fn is_retailer_fault(self) -> bool {
        matches!(
            self,
            ReturnReason::Defective
                | ReturnReason::DamagedInTransit
                | ReturnReason::NotAsDescribed
                | ReturnReason::WrongItem
                | ReturnReason::ArrivedLate
        )
    }
}

/// The state of a returned item, as the location that took it back judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemCondition {
    /// Can be sold again as new.
    Resaleable,
    /// Cannot be sold as new: quarantined for inspection, repair or disposal.
    Damaged,
}

/// When the shipping fee is refunded (at most once per order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingRefundPolicy {
    Never,
    /// With the return that brings back every delivered unit of the order.
    WhenFullyReturned,
    /// With a return of which some line is the retailer's fault.
    WhenRetailerAtFault,
    /// With the first return.
    Always,
}

/// One line of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub line: LineId,
    pub quantity: Quantity,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
}

/// A return, as the customer brings it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRequest {
    pub id: ReturnId,
    pub order: OrderId,
    /// Where the return was registered (any channel).
    pub channel: ChannelId,
    /// The location that takes the items back.
    pub location: LocationId,
    pub lines: Vec<ReturnLine>,
}

/// A range of a line's units (`first_unit .. first_unit + quantity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRange {
    pub line: LineId,
    pub first_unit: u32,
    pub quantity: Quantity,
}

/// What happened to an order before this return.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnHistory {
    /// Units shipped or handed over: the lines of shipped and picked-up
    /// fulfilments.
    pub delivered: Vec<UnitRange>,
    /// Units returned before (the `units` of earlier refund lines).
    #[serde(default)]
    pub returned: Vec<UnitRange>,
    #[serde(default)]
    pub shipping_refunded: bool,
}

/// Where a returned item goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restock {
    /// Back to the location's sellable stock (`on_hand + quantity`).
    Sellable,
    /// To the location's quarantine (not sellable).
    Quarantine,
}

/// A stock movement the server applies at the return location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockMovement {
    pub location: LocationId,
    pub sku: Sku,
    pub quantity: Quantity,
    pub to: Restock,
}

/// One line of a processed return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub line: LineId,
    pub sku: Sku,
    pub quantity: Quantity,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
    /// The units taken back (record them in [`ReturnHistory::returned`]).
    pub units: Vec<UnitRange>,
    pub refund: Money,
    pub restock: Restock,
}

/// A processed return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnOutcome {
    pub id: ReturnId,
    pub order: OrderId,
    pub lines: Vec<RefundLine>,
    pub shipping_refund: Money,
    /// Σ line refunds + shipping refund.
    pub total_refund: Money,
    pub stock_movements: Vec<StockMovement>,
    pub effects: Effects,
}

/// A return that cannot be accepted as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the return is for order `{request}`, not `{order}`")]
    WrongOrder { request: OrderId, order: OrderId },
    #[error("the return is for location `{request}`, not `{location}`")]
    WrongLocation {
        request: LocationId,
        location: LocationId,
    },
    #[error("location `{0}` does not accept returns")]
    LocationDoesNotAcceptReturns(LocationId),
    #[error("the return has no lines")]
    NoLines,
    #[error("line {0} is listed twice")]
    DuplicateLine(LineId),
    #[error("line {0}: the quantity is zero")]
    ZeroQuantity(LineId),
    #[error("line {line}: {requested} units returned, {returnable} can be")]
    TooManyUnits {
        line: LineId,
        requested: u32,
        returnable: u32,
    },
    #[error(transparent)]
    Order(#[from] OrderError),
}

/// Sorted, merged `[start, end)` ranges of one line.
fn ranges(of: &[UnitRange], line: LineId) -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = of
        .iter()
        .filter(|r| r.line == line && !r.quantity.is_zero())
        .map(|r| (r.first_unit, r.first_unit.saturating_add(r.quantity.get())))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// `a − b` for sorted, merged range lists.
fn subtract(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &(mut start, end) in a {
        for &(b_start, b_end) in b {
            if b_end <= start || b_start >= end {
                continue;
            }
            if b_start > start {
                out.push((start, b_start));
            }
            start = start.max(b_end);
            if start >= end {
                break;
            }
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}

fn units(ranges: &[(u32, u32)]) -> u32 {
    ranges.iter().map(|(s, e)| e - s).sum()
}

/// Checks a return and computes its refund, restock and effects (see the
/// module documentation). `location` is the location named by the request.
pub fn process_return(
    order: &Order,
    request: &ReturnRequest,
    location: &Location,
    history: &ReturnHistory,
    policy: ShippingRefundPolicy,
    ctx: &EventContext,
) -> Result<ReturnOutcome, ReturnError> {
    order.validate()?;
    if request.order != order.id {
        return Err(ReturnError::WrongOrder {
            request: request.order.clone(),
            order: order.id.clone(),
        });
    }
    if request.location != location.id {
        return Err(ReturnError::WrongLocation {
            request: request.location.clone(),
            location: location.id.clone(),
        });
    }
    if !location.capabilities.accept_returns {
        return Err(ReturnError::LocationDoesNotAcceptReturns(
            location.id.clone(),
        ));
    }
    if request.lines.is_empty() {
        return Err(ReturnError::NoLines);
    }
    let nets = order.line_nets()?;
    let zero = Money::zero(order.currency);
    let mut lines = Vec::with_capacity(request.lines.len());
    let mut movements: Vec<StockMovement> = Vec::new();
    let mut total = zero;
    for (i, asked) in request.lines.iter().enumerate() {
        if request.lines[..i].iter().any(|l| l.line == asked.line) {
            return Err(ReturnError::DuplicateLine(asked.line));
        }
        if asked.quantity.is_zero() {
            return Err(ReturnError::ZeroQuantity(asked.line));
        }
        let index = order.line_index(asked.line)?;
        let returnable = subtract(
            &ranges(&history.delivered, asked.line),
            &ranges(&history.returned, asked.line),
        );
        let available = units(&returnable);
        if asked.quantity.get() > available {
            return Err(ReturnError::TooManyUnits {
                line: asked.line,
                requested: asked.quantity.get(),
                returnable: available,
            });
        }
        // The lowest returnable units first.
        let mut left = asked.quantity.get();
        let mut taken = Vec::new();
        let mut refund = zero;
        for (start, end) in returnable {
            if left == 0 {
                break;
            }
            let count = (end - start).min(left);
            left -= count;
            refund = refund
                .checked_add(order.units_amount_with(&nets, index, start, count)?)
                .map_err(OrderError::from)?;
            taken.push(UnitRange {
                line: asked.line,
                first_unit: start,
                quantity: Quantity::new(count),
            });
        }
        let sku = order.lines[index].sku.clone();
        let restock = match asked.condition {
            ItemCondition::Resaleable => Restock::Sellable,
            ItemCondition::Damaged => Restock::Quarantine,
        };
        match movements
            .iter_mut()
            .find(|m| m.sku == sku && m.to == restock)
        {
            Some(m) => m.quantity = Quantity::new(m.quantity.get() + asked.quantity.get()),
            None => movements.push(StockMovement {
                location: location.id.clone(),
                sku: sku.clone(),
                quantity: asked.quantity,
                to: restock,
            }),
        }
        total = total.checked_add(refund).map_err(OrderError::from)?;
        lines.push(RefundLine {
            line: asked.line,
            sku,
            quantity: asked.quantity,
            reason: asked.reason,
            condition: asked.condition,
            units: taken,
            refund,
            restock,
        });
    }

    let refund_shipping = !history.shipping_refunded
        && match policy {
            ShippingRefundPolicy::Never => false,
            ShippingRefundPolicy::Always => true,
            ShippingRefundPolicy::WhenRetailerAtFault => {
                request.lines.iter().any(|l| l.reason.is_retailer_fault())
            }
            ShippingRefundPolicy::WhenFullyReturned => {
                // Every delivered unit of every line returned after this.
                order.lines.iter().all(|line| {
                    let mut returned = history.returned.clone();
                    returned.extend(
                        lines
                            .iter()
                            .filter(|l| l.line == line.id)
                            .flat_map(|l| l.units.iter().cloned()),
                    );
                    subtract(
                        &ranges(&history.delivered, line.id),
                        &ranges(&returned, line.id),
                    )
                    .is_empty()
                })
            }
        };
    let shipping_refund = if refund_shipping {
        order.shipping_fee
    } else {
        zero
    };
    total = total
        .checked_add(shipping_refund)
        .map_err(OrderError::from)?;

    let mut effects = Effects::default();
    for kind in [EventKind::ReturnReceived, EventKind::Refunded] {
        if kind == EventKind::Refunded && total.minor() == 0 {
            continue;
        }
        effects.events.push(RecordedEvent {
            kind,
            order: order.id.clone(),
            fulfilment: None,
            change: None,
            actor: ctx.actor.clone(),
            at: ctx.at,
        });
    }
    if total.minor() > 0 {
        effects.notifications.push(Notification {
            order: order.id.clone(),
            fulfilment: None,
            status: CustomerStatus::Refunded,
        });
        effects.payments.push(PaymentAction {
            kind: PaymentKind::Refund,
            order: order.id.clone(),
            amount: total,
            reference: Some(request.id.as_str().to_owned()),
        });
    }
    Ok(ReturnOutcome {
        id: request.id.clone(),
        order: order.id.clone(),
        lines,
        shipping_refund,
        total_refund: total,
        stock_movements: movements,
        effects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_arithmetic() {
        let r = |v: &[(u32, u32)]| v.to_vec();
        assert_eq!(
            subtract(&r(&[(0, 5)]), &r(&[(1, 2), (3, 4)])),
            r(&[(0, 1), (2, 3), (4, 5)])
        );
        assert_eq!(subtract(&r(&[(0, 5)]), &r(&[(0, 5)])), r(&[]));
        assert_eq!(
            subtract(&r(&[(0, 2), (4, 6)]), &r(&[(1, 5)])),
            r(&[(0, 1), (5, 6)])
        );
        let line = LineId(1);
        let of = [
            UnitRange {
                line,
                first_unit: 3,
                quantity: Quantity::new(2),
            },
            UnitRange {
                line,
                first_unit: 0,
                quantity: Quantity::new(3),
            },
            UnitRange {
                line: LineId(2),
                first_unit: 0,
                quantity: Quantity::new(9),
            },
        ];
        assert_eq!(ranges(&of, line), r(&[(0, 5)]));
    }
}

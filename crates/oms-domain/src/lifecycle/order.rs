//! The order state machine.
//!
//! | from                           | event                     | to                    | payments                                   |
//! |--------------------------------|---------------------------|-----------------------|--------------------------------------------|
//! | (new)                          | [`place_order`]           | `placed`              | authorise the total                        |
//! | placed, partially_allocated, allocated | allocate (complete)  | `allocated`           | —                                          |
//! | placed, partially_allocated, allocated | allocate (partial)   | `partially_allocated` | —                                          |
//! | partially_allocated, allocated | complete                  | `completed`           | capture the shipping fee, void the rest    |
//! | placed, partially_allocated, allocated | cancel (nothing captured) | `cancelled`   | void the authorisation                     |
//!
//! `allocate` is sent after each orchestration or re-orchestration with
//! whether every unit is now allocated (a rejected fulfilment takes an
//! allocated order back to partially allocated until its units are placed
//! again). `complete` is sent when every fulfilment has finished (picked up,
//! shipped or cancelled) and carries what the fulfilments captured.

use serde::{Deserialize, Serialize};

use super::{
    CustomerStatus, Effects, EventContext, EventKind, Notification, PaymentAction, PaymentKind,
    RecordedEvent, StateChange, TransitionError,
};
use crate::model::Money;
use crate::orchestration::{Order, OrderError};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    PartiallyAllocated,
    Allocated,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Placed,
        OrderStatus::PartiallyAllocated,
        OrderStatus::Allocated,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }
}

/// What can happen to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderEvent {
    /// Orchestration placed units; `complete`: every unit is allocated.
    Allocate { complete: bool },
    /// Every fulfilment has finished; `captured` is what they captured.
    Complete { captured: Money },
    /// The customer or the retailer cancels; `captured` must be zero.
    Cancel { captured: Money },
}

/// An order event's name (for errors and exhaustive tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEventKind {
    Allocate,
    Complete,
    Cancel,
}

impl OrderEvent {
    pub fn kind(&self) -> OrderEventKind {
        match self {
            OrderEvent::Allocate { .. } => OrderEventKind::Allocate,
            OrderEvent::Complete { .. } => OrderEventKind::Complete,
            OrderEvent::Cancel { .. } => OrderEventKind::Cancel,
        }
    }
}

/// An accepted order transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub effects: Effects,
}

impl OrderStatus {
    /// The transition table. Guards that need amounts live in
    /// [`order_transition`].
    pub fn next(self, event: &OrderEvent) -> Result<OrderStatus, TransitionError> {
        use OrderEvent as E;
        use OrderStatus as S;
        match (self, event) {
            (S::Placed | S::PartiallyAllocated | S::Allocated, E::Allocate { complete: true }) => {
                Ok(S::Allocated)
            }
            (S::Placed | S::PartiallyAllocated | S::Allocated, E::Allocate { complete: false }) => {
                Ok(S::PartiallyAllocated)
            }
            (S::PartiallyAllocated | S::Allocated, E::Complete { .. }) => Ok(S::Completed),
            (S::Placed | S::PartiallyAllocated | S::Allocated, E::Cancel { .. }) => {
                Ok(S::Cancelled)
            }
            (S::Placed, E::Complete { .. })
            | (S::Completed | S::Cancelled, E::Allocate { .. })
            | (S::Completed | S::Cancelled, E::Complete { .. })
            | (S::Completed | S::Cancelled, E::Cancel { .. }) => {
                Err(TransitionError::IllegalOrderTransition {
                    from: self,
                    event: event.kind(),
                })
            }
        }
    }
}

fn event(order: &Order, kind: EventKind, change: StateChange, ctx: &EventContext) -> RecordedEvent {
    RecordedEvent {
        kind,
        order: order.id.clone(),
        fulfilment: None,
        change: Some(change),
        actor: ctx.actor.clone(),
        at: ctx.at,
    }
}

fn payment(order: &Order, kind: PaymentKind, amount: Money) -> PaymentAction {
    PaymentAction {
        kind,
        order: order.id.clone(),
        amount,
        reference: None,
    }
}

/// A new order: status `placed`, the order total authorised, the customer
/// told it is waiting.
pub fn place_order(
    order: &Order,
    ctx: &EventContext,
) -> Result<(OrderStatus, Effects), TransitionError> {
    order.validate()?;
    let total = order.total()?;
    let mut effects = Effects::default();
    effects.events.push(event(
        order,
        EventKind::OrderPlaced,
        StateChange::Order {
            from: None,
            to: OrderStatus::Placed,
        },
        ctx,
    ));
    effects.notifications.push(Notification {
        order: order.id.clone(),
        fulfilment: None,
        status: CustomerStatus::Waiting,
    });
    if total.minor() > 0 {
        effects
            .payments
            .push(payment(order, PaymentKind::Authorise, total));
    }
    Ok((OrderStatus::Placed, effects))
}

/// Applies `event` to an order in status `from`: the next status and the
/// effects, or an error (nothing changes).
pub fn order_transition(
    order: &Order,
    from: OrderStatus,
    event_: &OrderEvent,
    ctx: &EventContext,
) -> Result<OrderTransition, TransitionError> {
    let to = from.next(event_)?;
    let total = order.total()?;
    let mut effects = Effects::default();
    let change = StateChange::Order {
        from: Some(from),
        to,
    };
    match event_ {
        OrderEvent::Allocate { complete } => {
            let kind = if *complete {
                EventKind::OrderAllocated
            } else {
                EventKind::OrderPartiallyAllocated
            };
            effects.events.push(event(order, kind, change, ctx));
        }
        OrderEvent::Complete { captured } => {
            let shipping = order.shipping_fee;
            let rest = total
                .checked_sub(*captured)
                .and_then(|r| r.checked_sub(shipping))
                .map_err(OrderError::from)?;
            effects
                .events
                .push(event(order, EventKind::OrderCompleted, change, ctx));
            if shipping.minor() > 0 {
                effects
                    .payments
                    .push(payment(order, PaymentKind::Capture, shipping));
            }
            if rest.minor() > 0 {
                effects
                    .payments
                    .push(payment(order, PaymentKind::Void, rest));
            }
        }
        OrderEvent::Cancel { captured } => {
            if captured.minor() != 0 {
                return Err(TransitionError::AlreadyCaptured);
            }
            effects
                .events
                .push(event(order, EventKind::OrderCancelled, change, ctx));
            effects.notifications.push(Notification {
                order: order.id.clone(),
                fulfilment: None,
                status: CustomerStatus::Cancelled,
            });
            if total.minor() > 0 {
                effects
                    .payments
                    .push(payment(order, PaymentKind::Void, total));
            }
        }
    }
    Ok(OrderTransition { from, to, effects })
}

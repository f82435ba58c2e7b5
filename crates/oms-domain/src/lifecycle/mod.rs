//! The order and fulfilment lifecycles as explicit state machines.
//!
//! Each machine is one transition table, a `match (state, event)`, that
//! returns the next state or an error; an illegal transition is an error and
//! changes nothing. Every accepted transition returns its **effects** as
//! data, for the server to write to its event log and outbox in the same
//! transaction as the new state:
//!
//! - [`RecordedEvent`]s (append-only, with actor and time), also sent as
//!   webhooks;
//! - customer [`Notification`]s (waiting, in preparation, ready to pick up,
//!   ready to ship, picked up, shipped, cancelled, refunded), sent only when
//!   what the customer sees changes;
//! - [`PaymentAction`]s in integer minor units: authorise the order total at
//!   placement, capture what a fulfilment ships or hands over, capture the
//!   shipping fee and void the rest when the order completes, void the
//!   authorisation on cancel, refund on return ([`crate::returns`]).
//!
//! **Order** ([`OrderStatus`], [`order_transition`]): `placed →
//! partially_allocated | allocated → completed`, or `cancelled` before
//! anything is captured.
//!
//! **Fulfilment** ([`FulfilmentStatus`], [`Fulfilment::apply`]):
//! `awaiting_preparation → in_preparation → ready_for_pickup |
//! ready_to_ship → picked_up | shipped`, plus `cancelled`, and `rejected`
//! when the location cannot serve it (its units are then re-orchestrated).
//! A fulfilment is handed over at its location (`ready_for_pickup`) when it
//! is served from the pickup store's own shelf; otherwise it ships.

mod fulfilment;
mod order;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use fulfilment::{
    Fulfilment, FulfilmentEvent, FulfilmentEventKind, FulfilmentId, FulfilmentStatus,
    FulfilmentTransition, LineFound, fulfilment_transition, handled_at,
};
pub use order::{
    OrderEvent, OrderEventKind, OrderStatus, OrderTransition, order_transition, place_order,
};

use crate::model::Money;
use crate::orchestration::{LineId, OrderError, OrderId};

/// Who caused a transition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// The OMS itself (orchestration, timers).
    System,
    Customer,
    /// A store or warehouse associate.
    Staff {
        id: String,
    },
    /// An external system (web shop, WMS, carrier).
    Integration {
        id: String,
    },
}

/// When and by whom: every transition takes it ("now" is a parameter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventContext {
    pub at: Timestamp,
    pub actor: Actor,
}

/// What happened, as recorded in the append-only event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    OrderPlaced,
    OrderAllocated,
    OrderPartiallyAllocated,
    OrderCompleted,
    OrderCancelled,
    PreparationStarted,
    ReadyForPickup,
    ReadyToShip,
    PickedUp,
    Shipped,
    /// A ship-to-store parcel arrived at the pickup store.
    ReceivedAtStore,
    FulfilmentCancelled,
    FulfilmentRejected,
    ItemsMissing,
    LinesCancelled,
    ReturnReceived,
    Refunded,
}

/// A state change, when the event made one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum StateChange {
    Order {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<OrderStatus>,
        to: OrderStatus,
    },
    Fulfilment {
        from: FulfilmentStatus,
        to: FulfilmentStatus,
    },
}

/// One entry of the event log (and one webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub kind: EventKind,
    pub order: OrderId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<FulfilmentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<StateChange>,
    pub actor: Actor,
    pub at: Timestamp,
}

/// What the customer is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Waiting,
    InPreparation,
    ReadyToPickUp,
    ReadyToShip,
    PickedUp,
    Shipped,
    Cancelled,
    Refunded,
}

/// A message to send to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub order: OrderId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<FulfilmentId>,
    pub status: CustomerStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    Authorise,
    Capture,
    Void,
    Refund,
}

/// An instruction for the payment provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentAction {
    pub kind: PaymentKind,
    pub order: OrderId,
    /// Positive, in the order's currency.
    pub amount: Money,
    /// What it is for: a fulfilment or return id (the idempotency key's
    /// second half), none for the order itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Everything a transition asks the server to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    pub events: Vec<RecordedEvent>,
    pub notifications: Vec<Notification>,
    pub payments: Vec<PaymentAction>,
}

/// A transition that is refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an order that is {from:?} cannot take `{event:?}`")]
    IllegalOrderTransition {
        from: OrderStatus,
        event: OrderEventKind,
    },
    #[error("a fulfilment that is {from:?} cannot take `{event:?}`")]
    IllegalFulfilmentTransition {
        from: FulfilmentStatus,
        event: FulfilmentEventKind,
    },
    #[error("the order has captured payments: complete it instead of cancelling it")]
    AlreadyCaptured,
    #[error("the fulfilment has no line {0}")]
    UnknownLine(LineId),
    #[error("line {0} is reported twice")]
    DuplicateLine(LineId),
    #[error("line {0}: found more units than were planned")]
    FoundMoreThanPlanned(LineId),
    #[error("the report names no missing unit")]
    NothingMissing,
    #[error("no line is named")]
    NoLineNamed,
    #[error("the fulfilment belongs to another order")]
    WrongOrder,
    #[error(transparent)]
    Order(#[from] OrderError),
}

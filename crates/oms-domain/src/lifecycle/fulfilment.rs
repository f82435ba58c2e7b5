//! The fulfilment state machine.
//!
//! | from                                   | event            | to                                    | customer          | payment |
//! |----------------------------------------|------------------|---------------------------------------|-------------------|---------|
//! | awaiting_preparation                   | start_preparation| in_preparation                        | in_preparation    | —       |
//! | in_preparation                         | mark_ready       | ready_for_pickup (handover) / ready_to_ship | ready_to_pick_up / ready_to_ship | — |
//! | ready_for_pickup                       | hand_over        | picked_up                             | picked_up         | capture |
//! | ready_to_ship                          | ship             | shipped                               | shipped           | capture |
//! | ready_to_ship (ship-to-store)          | ship             | in_transit_to_store                   | shipped           | —       |
//! | in_transit_to_store                    | receive_at_store | ready_for_pickup (at the pickup store) | ready_to_pick_up | —       |
//! | in_transit_to_store, ready_for_pickup (ship-to-store) | cancel, cancel_lines | refused (the units left their location) | — | — |
//! | awaiting_preparation … ready_to_ship   | cancel           | cancelled                             | cancelled         | —       |
//! | awaiting_preparation, in_preparation   | reject           | rejected                              | waiting           | —       |
//! | awaiting_preparation, in_preparation   | report_missing (some found) | in_preparation, lines reduced | —        | —       |
//! | awaiting_preparation, in_preparation   | report_missing (none found) | rejected                      | waiting           | —       |
//! | awaiting_preparation … ready_to_ship   | cancel_lines (some left) | unchanged, lines removed       | —                 | —       |
//! | awaiting_preparation … ready_to_ship   | cancel_lines (none left) | cancelled                      | cancelled         | —       |
//!
//! A click & collect fulfilment served by another location than the pickup
//! store (`ship_to`) is shipped to that store, received there, and handed
//! over there; it is captured at the handover (a parcel the customer never
//! collects is not paid). Everything else is an error. A capture is the value of the fulfilment's
//! units ([`crate::orchestration::Order::units_amount`] over its unit
//! ranges); cancelling a fulfilment captures nothing (the order voids what
//! is left when it completes or is cancelled). The units of a rejected
//! fulfilment, or the missing units of a reduced one, are re-orchestrated
//! ([`crate::orchestration::reorchestrate`], with
//! [`Fulfilment::missing_report`]).

use serde::{Deserialize, Serialize};

use super::{
    CustomerStatus, Effects, EventContext, EventKind, Notification, PaymentAction, PaymentKind,
    RecordedEvent, StateChange, TransitionError,
};
use crate::model::{DeliveryMethod, LocationId, Money, Quantity};
use crate::orchestration::{
    FoundLine, LineId, MissingReport, Order, OrderError, OrderId, PlannedFulfilment, PlannedLine,
    identifier,
};

identifier!(
    /// A fulfilment's id.
    FulfilmentId,
    "fulfilment id"
);

/// Where a fulfilment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentStatus {
    AwaitingPreparation,
    InPreparation,
    ReadyForPickup,
    ReadyToShip,
    /// Shipped to the pickup store (ship-to-store), not yet received there.
    InTransitToStore,
    PickedUp,
    Shipped,
    Cancelled,
    /// The location could not serve it; its units were re-orchestrated.
    Rejected,
}

impl FulfilmentStatus {
    pub const ALL: [FulfilmentStatus; 9] = [
        FulfilmentStatus::AwaitingPreparation,
        FulfilmentStatus::InPreparation,
        FulfilmentStatus::ReadyForPickup,
        FulfilmentStatus::ReadyToShip,
        FulfilmentStatus::InTransitToStore,
        FulfilmentStatus::PickedUp,
        FulfilmentStatus::Shipped,
        FulfilmentStatus::Cancelled,
        FulfilmentStatus::Rejected,
    ];

    pub fn is_final(self) -> bool {
        matches!(
            self,
            FulfilmentStatus::PickedUp
                | FulfilmentStatus::Shipped
                | FulfilmentStatus::Cancelled
                | FulfilmentStatus::Rejected
        )
    }
}

/// How many units of a line the picker found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFound {
    pub line: LineId,
    pub found: Quantity,
}

/// What can happen to a fulfilment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FulfilmentEvent {
    StartPreparation,
    MarkReady,
    /// The customer collected it at the location.
    HandOver,
    /// The carrier took it.
    Ship {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<String>,
    },
    /// The pickup store received the parcel shipped to it.
    ReceiveAtStore,
    Cancel,
    /// The location cannot serve it at all.
    Reject,
    /// The picker found fewer units than planned for these lines.
    ReportMissing {
        lines: Vec<LineFound>,
    },
    /// The customer or customer service cancels these lines of the order
    /// (their units here are released; the rest goes on).
    CancelLines {
        lines: Vec<LineId>,
    },
}

/// A fulfilment event's name (for errors and exhaustive tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentEventKind {
    StartPreparation,
    MarkReady,
    HandOver,
    Ship,
    ReceiveAtStore,
    Cancel,
    Reject,
    ReportMissing,
    CancelLines,
}

impl FulfilmentEvent {
    pub fn kind(&self) -> FulfilmentEventKind {
        match self {
            FulfilmentEvent::StartPreparation => FulfilmentEventKind::StartPreparation,
            FulfilmentEvent::MarkReady => FulfilmentEventKind::MarkReady,
            FulfilmentEvent::HandOver => FulfilmentEventKind::HandOver,
            FulfilmentEvent::Ship { .. } => FulfilmentEventKind::Ship,
            FulfilmentEvent::ReceiveAtStore => FulfilmentEventKind::ReceiveAtStore,
            FulfilmentEvent::Cancel => FulfilmentEventKind::Cancel,
            FulfilmentEvent::Reject => FulfilmentEventKind::Reject,
            FulfilmentEvent::ReportMissing { .. } => FulfilmentEventKind::ReportMissing,
            FulfilmentEvent::CancelLines { .. } => FulfilmentEventKind::CancelLines,
        }
    }
}

/// Where a fulfilment in `status` is handled: the pickup store `ship_to`
/// once a ship-to-store parcel left `location` (and after its handover
/// there, so the store's devices see it collected), else `location`. The
/// core files its row there; a device's cache files its copy the same way.
pub fn handled_at<'a>(
    location: &'a LocationId,
    ship_to: Option<&'a LocationId>,
    status: FulfilmentStatus,
) -> &'a LocationId {
    match (ship_to, status) {
        (
            Some(store),
            FulfilmentStatus::InTransitToStore
            | FulfilmentStatus::ReadyForPickup
            | FulfilmentStatus::PickedUp,
        ) => store,
        _ => location,
    }
}

/// One location's part of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fulfilment {
    pub id: FulfilmentId,
    pub order: OrderId,
    pub location: LocationId,
    pub delivery: DeliveryMethod,
    /// Handed over to the customer at this location (served from the
    /// pickup store's own shelf) rather than shipped.
    pub handover: bool,
    /// Click & collect served by another location: the pickup store the
    /// parcel is shipped to, received at and handed over at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<LocationId>,
    pub lines: Vec<PlannedLine>,
    pub status: FulfilmentStatus,
}

/// An accepted fulfilment transition: the new status and lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfilmentTransition {
    pub from: FulfilmentStatus,
    pub to: FulfilmentStatus,
    /// The lines after the transition (reduced by a missing-items report).
    pub lines: Vec<PlannedLine>,
    pub effects: Effects,
}

impl Fulfilment {
    /// A new fulfilment (awaiting preparation) from a planned one.
    pub fn from_plan(id: FulfilmentId, order: &Order, planned: &PlannedFulfilment) -> Self {
        let collected = matches!(
            order.delivery,
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect
        );
        let pickup_store = order.destination.pickup_store.as_ref();
        let handover = collected && pickup_store == Some(&planned.location);
        let ship_to = pickup_store.filter(|_| collected && !handover).cloned();
        Self {
            id,
            order: order.id.clone(),
            location: planned.location.clone(),
            delivery: order.delivery,
            handover,
            ship_to,
            lines: planned.lines.clone(),
            status: FulfilmentStatus::AwaitingPreparation,
        }
    }

    /// What the fulfilment's units are worth (what shipping or handing it
    /// over captures).
    pub fn amount(&self, order: &Order) -> Result<Money, OrderError> {
        let nets = order.line_nets()?;
        let mut total = Money::zero(order.currency);
        for line in &self.lines {
            let index = order.line_index(line.line)?;
            let amount =
                order.units_amount_with(&nets, index, line.first_unit, line.quantity.get())?;
            total = total.checked_add(amount)?;
        }
        Ok(total)
    }

    /// Where the fulfilment is at now: the pickup store once a ship-to-store
    /// parcel left its location, else its location. Steps are taken there.
    pub fn current_location(&self) -> &LocationId {
        handled_at(&self.location, self.ship_to.as_ref(), self.status)
    }

    /// Whether its units are still reserved at its location (they leave it
    /// when shipped or handed over).
    pub fn holds_units(&self) -> bool {
        match self.status {
            FulfilmentStatus::AwaitingPreparation
            | FulfilmentStatus::InPreparation
            | FulfilmentStatus::ReadyToShip => true,
            FulfilmentStatus::ReadyForPickup => self.ship_to.is_none(),
            _ => false,
        }
    }

    /// The report [`crate::orchestration::reorchestrate`] needs when the
    /// picker found fewer units than planned (lines not named: all found).
    pub fn missing_report(&self, found: &[LineFound]) -> MissingReport {
        MissingReport {
            location: self.location.clone(),
            lines: self
                .lines
                .iter()
                .map(|l| FoundLine {
                    line: l.line,
                    first_unit: l.first_unit,
                    planned: l.quantity,
                    found: found
                        .iter()
                        .find(|f| f.line == l.line)
                        .map_or(l.quantity, |f| f.found),
                })
                .collect(),
            set_aside: Vec::new(),
        }
    }

    /// Applies an event: on success the fulfilment takes its new status
    /// and lines and the effects are returned; on error nothing changes.
    pub fn apply(
        &mut self,
        order: &Order,
        event: &FulfilmentEvent,
        ctx: &EventContext,
    ) -> Result<Effects, TransitionError> {
        let transition = fulfilment_transition(order, self, event, ctx)?;
        self.status = transition.to;
        self.lines = transition.lines;
        Ok(transition.effects)
    }
}

impl FulfilmentStatus {
    /// The transition table. `handover`: the fulfilment is collected at its
    /// location rather than shipped; `to_store`: it is shipped to the pickup
    /// store (ship-to-store); `nothing_left`: the event leaves it
    /// without units (a missing-items report that found none, or every
    /// line cancelled).
    pub fn next(
        self,
        event: &FulfilmentEvent,
        handover: bool,
        to_store: bool,
        nothing_left: bool,
    ) -> Result<FulfilmentStatus, TransitionError> {
        use FulfilmentEvent as E;
        use FulfilmentStatus as S;
        let illegal = || {
            Err(TransitionError::IllegalFulfilmentTransition {
                from: self,
                event: event.kind(),
            })
        };
        match (self, event) {
            (S::AwaitingPreparation, E::StartPreparation) => Ok(S::InPreparation),
            (S::InPreparation, E::MarkReady) if handover => Ok(S::ReadyForPickup),
            (S::InPreparation, E::MarkReady) => Ok(S::ReadyToShip),
            (S::ReadyForPickup, E::HandOver) => Ok(S::PickedUp),
            (S::ReadyToShip, E::Ship { .. }) if to_store => Ok(S::InTransitToStore),
            (S::ReadyToShip, E::Ship { .. }) => Ok(S::Shipped),
            (S::InTransitToStore, E::ReceiveAtStore) => Ok(S::ReadyForPickup),
            // A parcel received from elsewhere is handed over; its units
            // already left their location's stock.
            (S::ReadyForPickup, E::Cancel | E::CancelLines { .. }) if to_store => illegal(),
            (
                S::AwaitingPreparation | S::InPreparation | S::ReadyForPickup | S::ReadyToShip,
                E::Cancel,
            ) => Ok(S::Cancelled),
            (S::AwaitingPreparation | S::InPreparation, E::Reject) => Ok(S::Rejected),
            (S::AwaitingPreparation | S::InPreparation, E::ReportMissing { .. })
                if nothing_left =>
            {
                Ok(S::Rejected)
            }
            (S::AwaitingPreparation | S::InPreparation, E::ReportMissing { .. }) => {
                Ok(S::InPreparation)
            }
            (
                S::AwaitingPreparation | S::InPreparation | S::ReadyForPickup | S::ReadyToShip,
                E::CancelLines { .. },
            ) if nothing_left => Ok(S::Cancelled),
            (
                S::AwaitingPreparation | S::InPreparation | S::ReadyForPickup | S::ReadyToShip,
                E::CancelLines { .. },
            ) => Ok(self),
            (
                S::InPreparation
                | S::ReadyForPickup
                | S::ReadyToShip
                | S::InTransitToStore
                | S::PickedUp
                | S::Shipped
                | S::Cancelled
                | S::Rejected,
                E::StartPreparation,
            )
            | (
                S::AwaitingPreparation
                | S::ReadyForPickup
                | S::ReadyToShip
                | S::InTransitToStore
                | S::PickedUp
                | S::Shipped
                | S::Cancelled
                | S::Rejected,
                E::MarkReady,
            )
            | (
                S::AwaitingPreparation
                | S::InPreparation
                | S::ReadyToShip
                | S::InTransitToStore
                | S::PickedUp
                | S::Shipped
                | S::Cancelled
                | S::Rejected,
                E::HandOver,
            )
            | (
                S::AwaitingPreparation
                | S::InPreparation
                | S::ReadyForPickup
                | S::InTransitToStore
                | S::PickedUp
                | S::Shipped
                | S::Cancelled
                | S::Rejected,
                E::Ship { .. },
            )
            | (
                S::AwaitingPreparation
                | S::InPreparation
                | S::ReadyForPickup
                | S::ReadyToShip
                | S::PickedUp
                | S::Shipped
                | S::Cancelled
                | S::Rejected,
                E::ReceiveAtStore,
            )
            // A parcel on the road is received first, then cancelled.
            | (
                S::InTransitToStore | S::PickedUp | S::Shipped | S::Cancelled | S::Rejected,
                E::Cancel | E::CancelLines { .. },
            )
            | (
                S::ReadyForPickup
                | S::ReadyToShip
                | S::InTransitToStore
                | S::PickedUp
                | S::Shipped
                | S::Cancelled
                | S::Rejected,
                E::Reject | E::ReportMissing { .. },
            ) => illegal(),
        }
    }
}

/// Applies `event` to `fulfilment`: the new status, lines and effects, or
/// an error (nothing changes).
pub fn fulfilment_transition(
    order: &Order,
    fulfilment: &Fulfilment,
    event: &FulfilmentEvent,
    ctx: &EventContext,
) -> Result<FulfilmentTransition, TransitionError> {
    if fulfilment.order != order.id {
        return Err(TransitionError::WrongOrder);
    }
    let from = fulfilment.status;
    // Refuse an illegal event before looking at its content.
    let to_store = fulfilment.ship_to.is_some();
    from.next(event, fulfilment.handover, to_store, false)?;
    // A missing-items report's outcome (reduced or rejected) depends on
    // what was found.
    let mut lines = fulfilment.lines.clone();
    let mut nothing_left = false;
    if let FulfilmentEvent::ReportMissing { lines: found } = event {
        let mut missing = 0_u64;
        for (i, f) in found.iter().enumerate() {
            if found[..i].iter().any(|g| g.line == f.line) {
                return Err(TransitionError::DuplicateLine(f.line));
            }
            let line = lines
                .iter_mut()
                .find(|l| l.line == f.line)
                .ok_or(TransitionError::UnknownLine(f.line))?;
            if f.found > line.quantity {
                return Err(TransitionError::FoundMoreThanPlanned(f.line));
            }
            missing += u64::from(line.quantity.get() - f.found.get());
            // The units found are the first of the range; the rest go to
            // the re-orchestration.
            line.quantity = f.found;
        }
        if missing == 0 {
            return Err(TransitionError::NothingMissing);
        }
        lines.retain(|l| !l.quantity.is_zero());
        nothing_left = lines.is_empty();
    }
    if let FulfilmentEvent::CancelLines { lines: cancelled } = event {
        if cancelled.is_empty() {
            return Err(TransitionError::NoLineNamed);
        }
        for (i, line) in cancelled.iter().enumerate() {
            if cancelled[..i].contains(line) {
                return Err(TransitionError::DuplicateLine(*line));
            }
            if !lines.iter().any(|l| l.line == *line) {
                return Err(TransitionError::UnknownLine(*line));
            }
        }
        lines.retain(|l| !cancelled.contains(&l.line));
        nothing_left = lines.is_empty();
    }
    let to = from.next(event, fulfilment.handover, to_store, nothing_left)?;
    if to == FulfilmentStatus::Rejected {
        // Every unit goes back to orchestration; the lines stay as they
        // were planned, for the record.
        lines = fulfilment.lines.clone();
    }

    let mut effects = Effects::default();
    let kind = match event {
        FulfilmentEvent::StartPreparation => EventKind::PreparationStarted,
        FulfilmentEvent::MarkReady if to == FulfilmentStatus::ReadyForPickup => {
            EventKind::ReadyForPickup
        }
        FulfilmentEvent::MarkReady => EventKind::ReadyToShip,
        FulfilmentEvent::HandOver => EventKind::PickedUp,
        FulfilmentEvent::Ship { .. } => EventKind::Shipped,
        FulfilmentEvent::ReceiveAtStore => EventKind::ReceivedAtStore,
        FulfilmentEvent::Cancel => EventKind::FulfilmentCancelled,
        FulfilmentEvent::Reject => EventKind::FulfilmentRejected,
        FulfilmentEvent::ReportMissing { .. } => EventKind::ItemsMissing,
        FulfilmentEvent::CancelLines { .. } => EventKind::LinesCancelled,
    };
    effects.events.push(RecordedEvent {
        kind,
        order: order.id.clone(),
        fulfilment: Some(fulfilment.id.clone()),
        change: Some(StateChange::Fulfilment { from, to }),
        actor: ctx.actor.clone(),
        at: ctx.at,
    });
    // A report during preparation changes nothing the customer sees.
    let status = match to {
        _ if from == to || kind == EventKind::ItemsMissing && to != FulfilmentStatus::Rejected => {
            None
        }
        FulfilmentStatus::InPreparation => Some(CustomerStatus::InPreparation),
        FulfilmentStatus::ReadyForPickup => Some(CustomerStatus::ReadyToPickUp),
        FulfilmentStatus::ReadyToShip => Some(CustomerStatus::ReadyToShip),
        FulfilmentStatus::PickedUp => Some(CustomerStatus::PickedUp),
        FulfilmentStatus::Shipped => Some(CustomerStatus::Shipped),
        // On its way to the store; "ready to pick up" follows its arrival.
        FulfilmentStatus::InTransitToStore => Some(CustomerStatus::Shipped),
        FulfilmentStatus::Cancelled => Some(CustomerStatus::Cancelled),
        // Re-sourced elsewhere: the customer waits a little longer.
        FulfilmentStatus::Rejected => Some(CustomerStatus::Waiting),
        FulfilmentStatus::AwaitingPreparation => None,
    };
    if let Some(status) = status {
        effects.notifications.push(Notification {
            order: order.id.clone(),
            fulfilment: Some(fulfilment.id.clone()),
            status,
        });
    }
    if matches!(to, FulfilmentStatus::PickedUp | FulfilmentStatus::Shipped) {
        let amount = fulfilment.amount(order)?;
        if amount.minor() > 0 {
            effects.payments.push(PaymentAction {
                kind: PaymentKind::Capture,
                order: order.id.clone(),
                amount,
                reference: Some(fulfilment.id.as_str().to_owned()),
            });
        }
    }
    Ok(FulfilmentTransition {
        from,
        to,
        lines,
        effects,
    })
}

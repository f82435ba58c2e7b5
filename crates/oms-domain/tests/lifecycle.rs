//! The order and fulfilment state machines: every (state, event) pair either
//! has the next state the table below (written from DESIGN.md, apart from
//! the code) expects, or is refused and changes nothing; and the effects of
//! a whole order's life add up (payments in integer minor units).

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use oms_domain::atp::Destination;
use oms_domain::lifecycle::{
    Actor, CustomerStatus, EventContext, EventKind, Fulfilment, FulfilmentEvent, FulfilmentId,
    FulfilmentStatus, LineFound, OrderEvent, OrderStatus, PaymentKind, StateChange,
    TransitionError, order_transition, place_order,
};
use oms_domain::model::{ChannelId, Currency, DeliveryMethod, LocationId, Money, Quantity, Sku};
use oms_domain::orchestration::{
    Discount, LineId, Order, OrderId, OrderLine, PlannedFulfilment, PlannedLine,
};

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

fn ctx() -> EventContext {
    EventContext {
        at: "2025-03-03T10:00:00Z".parse::<Timestamp>().unwrap(),
        actor: Actor::Staff { id: "anna".into() },
    }
}

/// Two lines (3 × 10.00 and 1 × 25.00), a 5.00 voucher, 4.90 shipping.
fn order(delivery: DeliveryMethod) -> Order {
    Order {
        id: OrderId::parse("O-1").unwrap(),
        channel: ChannelId::parse("web-fr").unwrap(),
        delivery,
        destination: Destination::pickup_store(LocationId::parse("ST-1").unwrap()),
        currency: Currency::parse("EUR").unwrap(),
        lines: vec![
            OrderLine {
                id: LineId(1),
                sku: Sku::parse("SKU-A").unwrap(),
                quantity: Quantity::new(3),
                unit_price: eur(1000),
            },
            OrderLine {
                id: LineId(2),
                sku: Sku::parse("SKU-B").unwrap(),
                quantity: Quantity::new(1),
                unit_price: eur(2500),
            },
        ],
        discounts: vec![Discount {
            code: "SPRING".into(),
            amount: eur(500),
        }],
        shipping_fee: eur(490),
        placed_at: "2025-03-03T09:00:00Z".parse().unwrap(),
    }
}

fn planned(location: &str, lines: &[(u32, &str, u32, u32)]) -> PlannedFulfilment {
    PlannedFulfilment {
        location: LocationId::parse(location).unwrap(),
        lines: lines
            .iter()
            .map(|(line, sku, quantity, first_unit)| PlannedLine {
                line: LineId(*line),
                sku: Sku::parse(*sku).unwrap(),
                quantity: Quantity::new(*quantity),
                first_unit: *first_unit,
            })
            .collect(),
        expected_date: "2025-03-04".parse().unwrap(),
        ready_at: None,
        distance_m: 0,
    }
}

fn fulfilment(order: &Order, location: &str, status: FulfilmentStatus) -> Fulfilment {
    let mut f = Fulfilment::from_plan(
        FulfilmentId::parse("F-1").unwrap(),
        order,
        &planned(location, &[(1, "SKU-A", 2, 0), (2, "SKU-B", 1, 0)]),
    );
    f.status = status;
    f
}

#[test]
fn every_order_state_and_event_is_either_defined_or_refused() {
    use OrderStatus as S;
    let events = [
        OrderEvent::Allocate { complete: true },
        OrderEvent::Allocate { complete: false },
        OrderEvent::Complete {
            captured: eur(3000),
        },
        OrderEvent::Cancel { captured: eur(0) },
    ];
    // The expected table, one row per event in the order above.
    let expected = |from: S, event: usize| -> Option<S> {
        let open = matches!(from, S::Placed | S::PartiallyAllocated | S::Allocated);
        match event {
            0 if open => Some(S::Allocated),
            1 if open => Some(S::PartiallyAllocated),
            2 if matches!(from, S::PartiallyAllocated | S::Allocated) => Some(S::Completed),
            3 if open => Some(S::Cancelled),
            _ => None,
        }
    };
    let order = order(DeliveryMethod::HomeDelivery);
    let mut defined = 0;
    for from in OrderStatus::ALL {
        for (i, event) in events.iter().enumerate() {
            let status = from;
            let result = order_transition(&order, status, event, &ctx());
            match (expected(from, i), result) {
                (Some(to), Ok(transition)) => {
                    defined += 1;
                    assert_eq!((transition.from, transition.to), (from, to));
                    assert_eq!(from.next(event).unwrap(), to);
                    let recorded = &transition.effects.events[0];
                    assert_eq!(
                        recorded.change,
                        Some(StateChange::Order {
                            from: Some(from),
                            to
                        })
                    );
                    assert_eq!(recorded.actor, ctx().actor);
                }
                (None, Err(TransitionError::IllegalOrderTransition { from: f, event: e })) => {
                    assert_eq!((f, e), (from, event.kind()));
                    assert!(from.next(event).is_err());
                }
                (want, got) => panic!("{from:?} + {event:?}: expected {want:?}, got {got:?}"),
            }
            // A refused (or accepted) pure transition never touches the
            // caller's state.
            assert_eq!(status, from);
        }
    }
    assert_eq!(defined, 11);
    assert!(OrderStatus::ALL.iter().filter(|s| s.is_final()).all(|s| {
        events
            .iter()
            .all(|e| order_transition(&order, *s, e, &ctx()).is_err())
    }));
}

#[test]
fn every_fulfilment_state_and_event_is_either_defined_or_refused() {
    use FulfilmentStatus as S;
    let some_found = FulfilmentEvent::ReportMissing {
        lines: vec![LineFound {
            line: LineId(1),
            found: Quantity::new(1),
        }],
    };
    let none_found = FulfilmentEvent::ReportMissing {
        lines: vec![
            LineFound {
                line: LineId(1),
                found: Quantity::new(0),
            },
            LineFound {
                line: LineId(2),
                found: Quantity::new(0),
            },
        ],
    };
    let events = [
        FulfilmentEvent::StartPreparation,
        FulfilmentEvent::MarkReady,
        FulfilmentEvent::HandOver,
        FulfilmentEvent::Ship {
            tracking: Some("TRK-1".into()),
        },
        FulfilmentEvent::Cancel,
        FulfilmentEvent::Reject,
        some_found,
        none_found,
        FulfilmentEvent::CancelLines {
            lines: vec![LineId(1)],
        },
        FulfilmentEvent::CancelLines {
            lines: vec![LineId(2), LineId(1)],
        },
        FulfilmentEvent::ReceiveAtStore,
    ];
    let expected = |from: S, event: usize, handover: bool, to_store: bool| -> Option<S> {
        let before_ready = matches!(from, S::AwaitingPreparation | S::InPreparation);
        match event {
            0 if from == S::AwaitingPreparation => Some(S::InPreparation),
            1 if from == S::InPreparation && handover => Some(S::ReadyForPickup),
            1 if from == S::InPreparation => Some(S::ReadyToShip),
            2 if from == S::ReadyForPickup => Some(S::PickedUp),
            3 if from == S::ReadyToShip && to_store => Some(S::InTransitToStore),
            3 if from == S::ReadyToShip => Some(S::Shipped),
            10 if from == S::InTransitToStore => Some(S::ReadyForPickup),
            // A parcel received from elsewhere is not cancelled.
            4 | 8 | 9 if to_store && from == S::ReadyForPickup => None,
            4 if before_ready || matches!(from, S::ReadyForPickup | S::ReadyToShip) => {
                Some(S::Cancelled)
            }
            5 if before_ready => Some(S::Rejected),
            6 if before_ready => Some(S::InPreparation),
            7 if before_ready => Some(S::Rejected),
            8 if before_ready || matches!(from, S::ReadyForPickup | S::ReadyToShip) => Some(from),
            9 if before_ready || matches!(from, S::ReadyForPickup | S::ReadyToShip) => {
                Some(S::Cancelled)
            }
            _ => None,
        }
    };
    let mut defined = 0;
    for (delivery, location, handover, to_store) in [
        (DeliveryMethod::ExpressClickAndCollect, "ST-1", true, false),
        (DeliveryMethod::HomeDelivery, "WH", false, false),
        // Click & collect at ST-1 served by WH: shipped to the store.
        (DeliveryMethod::ClickAndCollect, "WH", false, true),
    ] {
        let order = order(delivery);
        for from in FulfilmentStatus::ALL {
            for (i, event) in events.iter().enumerate() {
                let mut f = fulfilment(&order, location, from);
                assert_eq!(f.handover, handover);
                assert_eq!(f.ship_to.is_some(), to_store);
                let before = f.clone();
                match (
                    expected(from, i, handover, to_store),
                    f.apply(&order, event, &ctx()),
                ) {
                    (Some(to), Ok(effects)) => {
                        defined += 1;
                        assert_eq!(f.status, to, "{from:?} + {event:?}");
                        assert_eq!(
                            effects.events[0].change,
                            Some(StateChange::Fulfilment { from, to })
                        );
                        assert_eq!(effects.events[0].fulfilment, Some(before.id.clone()));
                    }
                    (None, Err(error)) => {
                        assert!(
                            matches!(error, TransitionError::IllegalFulfilmentTransition { .. }),
                            "{from:?} + {event:?}: {error}"
                        );
                        assert_eq!(f, before, "a refused event changed the fulfilment");
                    }
                    (want, got) => panic!("{from:?} + {event:?}: expected {want:?}, got {got:?}"),
                }
            }
        }
    }
    // 23 transitions (22 + receiving at the store, which only a parcel in
    // transit can be) for a handover and a shipping fulfilment; 20 for a
    // ship-to-store one (not cancelled once received).
    assert_eq!(defined, 23 + 23 + 20);
}

#[test]
fn cancelling_lines_keeps_the_others_and_refuses_unknown_or_repeated_lines() {
    let order = order(DeliveryMethod::HomeDelivery);
    let mut f = fulfilment(&order, "WH", FulfilmentStatus::InPreparation);
    let before = f.clone();
    for (lines, want) in [
        (vec![], TransitionError::NoLineNamed),
        (vec![LineId(9)], TransitionError::UnknownLine(LineId(9))),
        (
            vec![LineId(1), LineId(1)],
            TransitionError::DuplicateLine(LineId(1)),
        ),
    ] {
        let error = f
            .apply(&order, &FulfilmentEvent::CancelLines { lines }, &ctx())
            .unwrap_err();
        assert_eq!(error, want);
        assert_eq!(f, before);
    }
    let effects = f
        .apply(
            &order,
            &FulfilmentEvent::CancelLines {
                lines: vec![LineId(1)],
            },
            &ctx(),
        )
        .unwrap();
    assert_eq!(f.status, FulfilmentStatus::InPreparation);
    assert!(f.lines.iter().all(|l| l.line != LineId(1)));
    assert_eq!(f.lines.len(), before.lines.len() - 1);
    assert_eq!(effects.events[0].kind, EventKind::LinesCancelled);
    assert!(effects.notifications.is_empty() && effects.payments.is_empty());
    // Shipping it now captures only the lines left.
    let left = f.amount(&order).unwrap();
    assert!(left.minor() < before.amount(&order).unwrap().minor());
}

#[test]
fn placing_authorises_the_total_and_tells_the_customer_to_wait() {
    let order = order(DeliveryMethod::HomeDelivery);
    let (status, effects) = place_order(&order, &ctx()).unwrap();
    assert_eq!(status, OrderStatus::Placed);
    // 3 × 10.00 + 25.00 − 5.00 + 4.90.
    assert_eq!(effects.payments.len(), 1);
    assert_eq!(effects.payments[0].kind, PaymentKind::Authorise);
    assert_eq!(effects.payments[0].amount, eur(5490));
    assert_eq!(effects.notifications[0].status, CustomerStatus::Waiting);
    assert_eq!(effects.events[0].kind, EventKind::OrderPlaced);
    let mut bad = order.clone();
    bad.lines.clear();
    assert!(place_order(&bad, &ctx()).is_err());
}

#[test]
fn a_whole_life_captures_what_ships_and_voids_the_rest() {
    let order = order(DeliveryMethod::HomeDelivery);
    let ctx = ctx();
    let (mut status, placed) = place_order(&order, &ctx).unwrap();
    let authorised = placed.payments[0].amount;
    // Line nets: the 5.00 voucher over 30.00 and 25.00 → 2.73 and 2.27:
    // line 1 is 27.27 (units 9.09, 9.09, 9.09), line 2 22.73.
    let nets = order.line_nets().unwrap();
    assert_eq!(nets, vec![eur(2727), eur(2273)]);
    status = order_transition(
        &order,
        status,
        &OrderEvent::Allocate { complete: true },
        &ctx,
    )
    .unwrap()
    .to;
    // Two fulfilments: units 0-1 of line 1 and line 2 from WH, unit 2 of
    // line 1 from ST-2.
    let mut wh = Fulfilment::from_plan(
        FulfilmentId::parse("F-1").unwrap(),
        &order,
        &planned("WH", &[(1, "SKU-A", 2, 0), (2, "SKU-B", 1, 0)]),
    );
    let mut st = Fulfilment::from_plan(
        FulfilmentId::parse("F-2").unwrap(),
        &order,
        &planned("ST-2", &[(1, "SKU-A", 1, 2)]),
    );
    assert!(!wh.handover && !st.handover);
    let mut captured = eur(0);
    let mut notified = Vec::new();
    for f in [&mut wh, &mut st] {
        for event in [
            FulfilmentEvent::StartPreparation,
            FulfilmentEvent::MarkReady,
            FulfilmentEvent::Ship { tracking: None },
        ] {
            let effects = f.apply(&order, &event, &ctx).unwrap();
            notified.extend(effects.notifications.iter().map(|n| n.status));
            for p in effects.payments {
                assert_eq!(p.kind, PaymentKind::Capture);
                assert_eq!(p.reference.as_deref(), Some(f.id.as_str()));
                captured = captured.checked_add(p.amount).unwrap();
            }
        }
        assert_eq!(f.status, FulfilmentStatus::Shipped);
    }
    assert_eq!(
        notified,
        [
            CustomerStatus::InPreparation,
            CustomerStatus::ReadyToShip,
            CustomerStatus::Shipped
        ]
        .repeat(2)
    );
    // 9.09 + 9.09 + 22.73 from WH, 9.09 from ST-2: the goods after discount.
    assert_eq!(wh.amount(&order).unwrap(), eur(4091));
    assert_eq!(st.amount(&order).unwrap(), eur(909));
    assert_eq!(captured, order.merchandise_total().unwrap());
    let done = order_transition(&order, status, &OrderEvent::Complete { captured }, &ctx).unwrap();
    assert_eq!(done.to, OrderStatus::Completed);
    let shipping: Vec<_> = done.effects.payments.iter().collect();
    assert_eq!(shipping.len(), 1);
    assert_eq!(shipping[0].kind, PaymentKind::Capture);
    assert_eq!(shipping[0].amount, eur(490));
    assert_eq!(captured.checked_add(eur(490)).unwrap(), authorised);
}

#[test]
fn completing_with_lines_left_voids_the_rest_and_cancelling_voids_everything() {
    let order = order(DeliveryMethod::HomeDelivery);
    let ctx = ctx();
    let partial = order_transition(
        &order,
        OrderStatus::PartiallyAllocated,
        &OrderEvent::Complete {
            captured: eur(2000),
        },
        &ctx,
    )
    .unwrap();
    let kinds: Vec<_> = partial
        .effects
        .payments
        .iter()
        .map(|p| (p.kind, p.amount))
        .collect();
    assert_eq!(
        kinds,
        [
            (PaymentKind::Capture, eur(490)),
            (PaymentKind::Void, eur(5490 - 2000 - 490))
        ]
    );
    let cancelled = order_transition(
        &order,
        OrderStatus::Allocated,
        &OrderEvent::Cancel { captured: eur(0) },
        &ctx,
    )
    .unwrap();
    assert_eq!(cancelled.to, OrderStatus::Cancelled);
    assert_eq!(cancelled.effects.payments[0].kind, PaymentKind::Void);
    assert_eq!(cancelled.effects.payments[0].amount, eur(5490));
    assert_eq!(
        cancelled.effects.notifications[0].status,
        CustomerStatus::Cancelled
    );
    assert_eq!(
        order_transition(
            &order,
            OrderStatus::Allocated,
            &OrderEvent::Cancel { captured: eur(909) },
            &ctx,
        ),
        Err(TransitionError::AlreadyCaptured)
    );
}

#[test]
fn click_and_collect_from_the_pickup_store_is_handed_over_and_captured() {
    let order = order(DeliveryMethod::ClickAndCollect);
    let mut f = fulfilment(&order, "ST-1", FulfilmentStatus::AwaitingPreparation);
    assert!(f.handover);
    let ctx = ctx();
    f.apply(&order, &FulfilmentEvent::StartPreparation, &ctx)
        .unwrap();
    let ready = f.apply(&order, &FulfilmentEvent::MarkReady, &ctx).unwrap();
    assert_eq!(f.status, FulfilmentStatus::ReadyForPickup);
    assert_eq!(ready.notifications[0].status, CustomerStatus::ReadyToPickUp);
    assert!(
        f.apply(&order, &FulfilmentEvent::Ship { tracking: None }, &ctx)
            .is_err()
    );
    let handed = f.apply(&order, &FulfilmentEvent::HandOver, &ctx).unwrap();
    assert_eq!(handed.notifications[0].status, CustomerStatus::PickedUp);
    assert_eq!(handed.payments[0].kind, PaymentKind::Capture);
    assert_eq!(handed.payments[0].amount, eur(909 + 909 + 2273));
}

#[test]
fn missing_items_reduce_the_fulfilment_or_reject_it() {
    let order = order(DeliveryMethod::HomeDelivery);
    let ctx = ctx();
    let mut f = fulfilment(&order, "WH", FulfilmentStatus::InPreparation);
    let found = [LineFound {
        line: LineId(1),
        found: Quantity::new(1),
    }];
    let report = f.missing_report(&found);
    assert_eq!(report.location.as_str(), "WH");
    assert_eq!(report.lines.len(), 2);
    assert_eq!(
        (report.lines[0].planned, report.lines[0].found),
        (Quantity::new(2), Quantity::new(1))
    );
    assert_eq!(report.lines[1].found, Quantity::new(1));
    let effects = f
        .apply(
            &order,
            &FulfilmentEvent::ReportMissing {
                lines: found.to_vec(),
            },
            &ctx,
        )
        .unwrap();
    assert_eq!(f.status, FulfilmentStatus::InPreparation);
    assert_eq!(f.lines[0].quantity, Quantity::new(1));
    assert_eq!(f.lines[0].first_unit, 0);
    assert_eq!(effects.events[0].kind, EventKind::ItemsMissing);
    assert!(effects.notifications.is_empty() && effects.payments.is_empty());

    // Bad reports change nothing.
    let before = f.clone();
    for (lines, error) in [
        (
            vec![LineFound {
                line: LineId(9),
                found: Quantity::new(0),
            }],
            TransitionError::UnknownLine(LineId(9)),
        ),
        (
            vec![LineFound {
                line: LineId(2),
                found: Quantity::new(2),
            }],
            TransitionError::FoundMoreThanPlanned(LineId(2)),
        ),
        (
            vec![LineFound {
                line: LineId(2),
                found: Quantity::new(1),
            }],
            TransitionError::NothingMissing,
        ),
    ] {
        assert_eq!(
            f.apply(&order, &FulfilmentEvent::ReportMissing { lines }, &ctx),
            Err(error)
        );
        assert_eq!(f, before);
    }

    let nothing = f
        .apply(
            &order,
            &FulfilmentEvent::ReportMissing {
                lines: vec![
                    LineFound {
                        line: LineId(1),
                        found: Quantity::new(0),
                    },
                    LineFound {
                        line: LineId(2),
                        found: Quantity::new(0),
                    },
                ],
            },
            &ctx,
        )
        .unwrap();
    assert_eq!(f.status, FulfilmentStatus::Rejected);
    assert_eq!(nothing.notifications[0].status, CustomerStatus::Waiting);
    // A rejected fulfilment keeps its lines for the record.
    assert_eq!(f.lines.len(), 2);
}

#[test]
fn events_and_effects_serialise_as_snake_case() {
    let order = order(DeliveryMethod::HomeDelivery);
    let (_, effects) = place_order(&order, &ctx()).unwrap();
    let json = serde_json::to_value(&effects).unwrap();
    assert_eq!(json["events"][0]["kind"], "order_placed");
    assert_eq!(json["events"][0]["change"]["entity"], "order");
    assert_eq!(json["events"][0]["change"]["to"], "placed");
    assert_eq!(json["events"][0]["actor"]["type"], "staff");
    assert_eq!(json["payments"][0]["kind"], "authorise");
    assert_eq!(json["notifications"][0]["status"], "waiting");
    let event: FulfilmentEvent =
        serde_json::from_value(serde_json::json!({"type": "ship", "tracking": "X"})).unwrap();
    assert_eq!(
        event,
        FulfilmentEvent::Ship {
            tracking: Some("X".into())
        }
    );
}

#[test]
fn a_parcel_shipped_to_the_pickup_store_is_received_there_and_captured_at_handover() {
    let order = order(DeliveryMethod::ClickAndCollect);
    let store = LocationId::parse("ST-1").unwrap();
    let mut f = fulfilment(&order, "WH", FulfilmentStatus::ReadyToShip);
    assert_eq!(f.ship_to.as_ref(), Some(&store));
    assert!(!f.handover);
    assert!(f.holds_units());
    assert_eq!(f.current_location().as_str(), "WH");

    let shipped = f
        .apply(&order, &FulfilmentEvent::Ship { tracking: None }, &ctx())
        .unwrap();
    assert_eq!(f.status, FulfilmentStatus::InTransitToStore);
    // Nothing is captured before the customer has it.
    assert!(shipped.payments.is_empty());
    assert_eq!(shipped.notifications[0].status, CustomerStatus::Shipped);
    assert!(!f.holds_units(), "the units left the warehouse");
    assert_eq!(f.current_location(), &store);
    // On the road it can be neither cancelled nor handed over.
    for refused in [FulfilmentEvent::Cancel, FulfilmentEvent::HandOver] {
        assert!(f.clone().apply(&order, &refused, &ctx()).is_err());
    }
    assert!(
        f.clone()
            .apply(&order, &FulfilmentEvent::ReceiveAtStore, &ctx())
            .is_ok()
    );

    let received = f
        .apply(&order, &FulfilmentEvent::ReceiveAtStore, &ctx())
        .unwrap();
    assert_eq!(f.status, FulfilmentStatus::ReadyForPickup);
    assert_eq!(received.events[0].kind, EventKind::ReceivedAtStore);
    assert_eq!(
        received.notifications[0].status,
        CustomerStatus::ReadyToPickUp
    );
    assert!(received.payments.is_empty());
    assert!(!f.holds_units());
    assert_eq!(f.current_location(), &store);

    let handed = f.apply(&order, &FulfilmentEvent::HandOver, &ctx()).unwrap();
    assert_eq!(f.status, FulfilmentStatus::PickedUp);
    assert_eq!(
        f.current_location(),
        &store,
        "collected at the pickup store"
    );
    assert_eq!(handed.payments.len(), 1);
    assert_eq!(handed.payments[0].kind, PaymentKind::Capture);
    assert_eq!(handed.payments[0].amount, f.amount(&order).unwrap());
}

//! Returns: refunds after discounts with deterministic rounding, the
//! shipping refund policy, restock decisions, refusals — and a property:
//! however an order is returned, in however many parts, the refunds never
//! exceed what was paid, and returning everything refunds exactly that.

#![allow(clippy::unwrap_used)]

use jiff::civil::time;
use oms_domain::atp::Destination;
use oms_domain::lifecycle::{Actor, CustomerStatus, EventContext, EventKind, PaymentKind};
use oms_domain::model::{
    Capabilities, CarrierZone, ChannelId, Coordinates, Currency, DeliveryMethod, Location,
    LocationId, LocationKind, Money, Quantity, Sku, TimeZoneName, WeeklyHours,
};
use oms_domain::orchestration::{Discount, LineId, Order, OrderId, OrderLine};
use oms_domain::returns::{
    ItemCondition, Restock, ReturnError, ReturnHistory, ReturnId, ReturnLine, ReturnReason,
    ReturnRequest, ShippingRefundPolicy, UnitRange, process_return,
};
use proptest::prelude::*;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

fn ctx() -> EventContext {
    EventContext {
        at: "2025-03-20T15:00:00Z".parse().unwrap(),
        actor: Actor::Staff { id: "marc".into() },
    }
}

fn store(id: &str, accept_returns: bool) -> Location {
    Location {
        id: LocationId::parse(id).unwrap(),
        name: id.into(),
        kind: LocationKind::Store,
        coordinates: Coordinates::new(48.85, 2.35).unwrap(),
        time_zone: TimeZoneName::parse("Europe/Paris").unwrap(),
        opening_hours: WeeklyHours::default(),
        closed_dates: Vec::new(),
        preparation_minutes: 30,
        cut_off: time(12, 0, 0, 0),
        capabilities: Capabilities {
            accept_returns,
            ..Capabilities::default()
        },
        priority: 3,
        daily_order_cap: None,
        carrier_zone: CarrierZone::parse("FR-IDF").unwrap(),
    }
}

fn order(lines: &[(u32, i64)], discount: i64, shipping: i64) -> Order {
    Order {
        id: OrderId::parse("O-7").unwrap(),
        channel: ChannelId::parse("web-fr").unwrap(),
        delivery: DeliveryMethod::HomeDelivery,
        destination: Destination::default(),
        currency: Currency::parse("EUR").unwrap(),
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (quantity, price))| OrderLine {
                id: LineId(i as u32 + 1),
                sku: Sku::parse(format!("SKU-{i}")).unwrap(),
                quantity: Quantity::new(*quantity),
                unit_price: eur(*price),
            })
            .collect(),
        discounts: if discount > 0 {
            vec![Discount {
                code: "VIP".into(),
                amount: eur(discount),
            }]
        } else {
            Vec::new()
        },
        shipping_fee: eur(shipping),
        placed_at: "2025-03-03T09:00:00Z".parse().unwrap(),
    }
}

/// Every unit of every line delivered.
fn all_delivered(order: &Order) -> ReturnHistory {
    ReturnHistory {
        delivered: order
            .lines
            .iter()
            .map(|l| UnitRange {
                line: l.id,
                first_unit: 0,
                quantity: l.quantity,
            })
            .collect(),
        ..ReturnHistory::default()
    }
}

fn request(lines: &[(u32, u32, ReturnReason, ItemCondition)]) -> ReturnRequest {
    ReturnRequest {
        id: ReturnId::parse("R-1").unwrap(),
        order: OrderId::parse("O-7").unwrap(),
        channel: ChannelId::parse("stores").unwrap(),
        location: LocationId::parse("ST-1").unwrap(),
        lines: lines
            .iter()
            .map(|(line, quantity, reason, condition)| ReturnLine {
                line: LineId(*line),
                quantity: Quantity::new(*quantity),
                reason: *reason,
                condition: *condition,
            })
            .collect(),
    }
}

#[test]
fn a_partial_return_refunds_the_units_after_their_share_of_the_discount() {
    // 3 × 10.00 and 1 × 25.00, a 5.00 voucher: line nets 27.27 and 22.73;
    // line 1's units are worth 9.09 each.
    let order = order(&[(3, 1000), (1, 2500)], 500, 490);
    let outcome = process_return(
        &order,
        &request(&[(1, 2, ReturnReason::DoesNotFit, ItemCondition::Resaleable)]),
        &store("ST-1", true),
        &all_delivered(&order),
        ShippingRefundPolicy::WhenFullyReturned,
        &ctx(),
    )
    .unwrap();
    assert_eq!(outcome.lines[0].refund, eur(1818));
    assert_eq!(
        outcome.lines[0].units,
        [UnitRange {
            line: LineId(1),
            first_unit: 0,
            quantity: Quantity::new(2)
        }]
    );
    assert_eq!(outcome.shipping_refund, eur(0));
    assert_eq!(outcome.total_refund, eur(1818));
    assert_eq!(outcome.stock_movements.len(), 1);
    assert_eq!(outcome.stock_movements[0].to, Restock::Sellable);
    assert_eq!(outcome.stock_movements[0].location.as_str(), "ST-1");
    assert_eq!(outcome.stock_movements[0].quantity, Quantity::new(2));
    let payment = &outcome.effects.payments[0];
    assert_eq!(
        (payment.kind, payment.amount, payment.reference.as_deref()),
        (PaymentKind::Refund, eur(1818), Some("R-1"))
    );
    assert_eq!(
        outcome.effects.notifications[0].status,
        CustomerStatus::Refunded
    );
    let kinds: Vec<_> = outcome.effects.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::ReturnReceived, EventKind::Refunded]);
}

#[test]
fn returning_the_rest_refunds_exactly_what_was_paid_including_shipping() {
    let order = order(&[(3, 1000), (1, 2500)], 500, 490);
    let location = store("ST-1", true);
    let mut history = all_delivered(&order);
    let first = process_return(
        &order,
        &request(&[(1, 2, ReturnReason::DoesNotFit, ItemCondition::Resaleable)]),
        &location,
        &history,
        ShippingRefundPolicy::WhenFullyReturned,
        &ctx(),
    )
    .unwrap();
    history
        .returned
        .extend(first.lines.iter().flat_map(|l| l.units.clone()));
    let second = process_return(
        &order,
        &request(&[
            (1, 1, ReturnReason::ChangedMind, ItemCondition::Damaged),
            (2, 1, ReturnReason::ChangedMind, ItemCondition::Resaleable),
        ]),
        &location,
        &history,
        ShippingRefundPolicy::WhenFullyReturned,
        &ctx(),
    )
    .unwrap();
    assert_eq!(second.lines[0].units[0].first_unit, 2);
    assert_eq!(second.lines[0].refund, eur(909));
    assert_eq!(second.lines[0].restock, Restock::Quarantine);
    assert_eq!(second.lines[1].refund, eur(2273));
    assert_eq!(second.shipping_refund, eur(490));
    let total = first.total_refund.checked_add(second.total_refund).unwrap();
    assert_eq!(total, order.total().unwrap());
    // Nothing left to return.
    history
        .returned
        .extend(second.lines.iter().flat_map(|l| l.units.clone()));
    assert!(matches!(
        process_return(
            &order,
            &request(&[(2, 1, ReturnReason::ChangedMind, ItemCondition::Resaleable)]),
            &location,
            &history,
            ShippingRefundPolicy::WhenFullyReturned,
            &ctx(),
        ),
        Err(ReturnError::TooManyUnits { returnable: 0, .. })
    ));
}

#[test]
fn the_shipping_refund_follows_the_policy_and_happens_once() {
    let order = order(&[(2, 1500)], 0, 590);
    let location = store("ST-1", true);
    let history = all_delivered(&order);
    let one = |reason, policy, history: &ReturnHistory| {
        process_return(
            &order,
            &request(&[(1, 1, reason, ItemCondition::Resaleable)]),
            &location,
            history,
            policy,
            &ctx(),
        )
        .unwrap()
        .shipping_refund
    };
    use ReturnReason::*;
    use ShippingRefundPolicy::*;
    assert_eq!(one(Defective, Never, &history), eur(0));
    assert_eq!(one(ChangedMind, Always, &history), eur(590));
    assert_eq!(one(ChangedMind, WhenRetailerAtFault, &history), eur(0));
    assert_eq!(one(WrongItem, WhenRetailerAtFault, &history), eur(590));
    assert_eq!(one(Defective, WhenFullyReturned, &history), eur(0));
    let refunded = ReturnHistory {
        shipping_refunded: true,
        ..history.clone()
    };
    assert_eq!(one(ChangedMind, Always, &refunded), eur(0));
}

#[test]
fn returns_are_refused_when_they_cannot_be_taken() {
    let order = order(&[(2, 1500), (1, 800)], 0, 0);
    let line = |l, q| request(&[(l, q, ReturnReason::ChangedMind, ItemCondition::Resaleable)]);
    // Only unit 0 of line 1 was delivered (the rest is still on its way).
    let history = ReturnHistory {
        delivered: vec![UnitRange {
            line: LineId(1),
            first_unit: 0,
            quantity: Quantity::new(1),
        }],
        ..ReturnHistory::default()
    };
    let attempt = |request: &ReturnRequest, location: &Location| {
        process_return(
            &order,
            request,
            location,
            &history,
            ShippingRefundPolicy::Never,
            &ctx(),
        )
    };
    let st = store("ST-1", true);
    assert!(matches!(
        attempt(&line(1, 2), &st),
        Err(ReturnError::TooManyUnits {
            requested: 2,
            returnable: 1,
            ..
        })
    ));
    assert!(matches!(
        attempt(&line(2, 1), &st),
        Err(ReturnError::TooManyUnits { returnable: 0, .. })
    ));
    assert!(matches!(
        attempt(&line(9, 1), &st),
        Err(ReturnError::Order(_))
    ));
    assert!(matches!(
        attempt(&line(1, 0), &st),
        Err(ReturnError::ZeroQuantity(_))
    ));
    let mut twice = line(1, 1);
    twice.lines.push(twice.lines[0].clone());
    assert!(matches!(
        attempt(&twice, &st),
        Err(ReturnError::DuplicateLine(_))
    ));
    let mut other = line(1, 1);
    other.order = OrderId::parse("O-8").unwrap();
    assert!(matches!(
        attempt(&other, &st),
        Err(ReturnError::WrongOrder { .. })
    ));
    let mut no_returns = store("ST-1", false);
    assert!(matches!(
        attempt(&line(1, 1), &no_returns),
        Err(ReturnError::LocationDoesNotAcceptReturns(_))
    ));
    no_returns.capabilities.accept_returns = true;
    no_returns.id = LocationId::parse("ST-2").unwrap();
    assert!(matches!(
        attempt(&line(1, 1), &no_returns),
        Err(ReturnError::WrongLocation { .. })
    ));
    assert_eq!(attempt(&line(1, 1), &st).unwrap().total_refund, eur(1500));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn refunds_never_exceed_what_was_paid(
        lines in prop::collection::vec((1_u32..6, 1_i64..20_000), 1..5),
        discount_percent in 0_i64..100,
        shipping in 0_i64..1_000,
        // Which delivered units come back in which return (0: never).
        returns in prop::collection::vec(0_u8..4, 0..30),
        policy in prop_oneof![
            Just(ShippingRefundPolicy::Never),
            Just(ShippingRefundPolicy::WhenFullyReturned),
            Just(ShippingRefundPolicy::WhenRetailerAtFault),
            Just(ShippingRefundPolicy::Always),
        ],
        partly_delivered in any::<bool>(),
    ) {
        let gross: i64 = lines.iter().map(|(q, p)| i64::from(*q) * p).sum();
        let order = order(&lines, gross * discount_percent / 100, shipping);
        order.validate().unwrap();
        let location = store("ST-1", true);
        // Delivered: every unit, or every other unit of each line.
        let mut history = ReturnHistory::default();
        for line in &order.lines {
            for unit in 0..line.quantity.get() {
                if !partly_delivered || unit % 2 == 0 {
                    history.delivered.push(UnitRange { line: line.id, first_unit: unit, quantity: Quantity::new(1) });
                }
            }
        }
        let delivered_value: i64 = history
            .delivered
            .iter()
            .map(|r| order.units_amount(r.line, r.first_unit, r.quantity.get()).unwrap().minor())
            .sum();
        // Returns 1, 2, 3: each takes, per line, as many units as the draw
        // assigns it (in draw order, cycling over lines).
        let mut refunded = 0_i64;
        for round in 1..=3_u8 {
            let mut counts = vec![0_u32; order.lines.len()];
            for (i, r) in returns.iter().enumerate() {
                if *r == round {
                    counts[i % order.lines.len()] += 1;
                }
            }
            let asked: Vec<_> = order.lines.iter().zip(&counts)
                .filter(|(_, c)| **c > 0)
                .map(|(l, c)| (l.id.0, *c, ReturnReason::Defective, ItemCondition::Resaleable))
                .collect();
            if asked.is_empty() {
                continue;
            }
            match process_return(&order, &request(&asked), &location, &history, policy, &ctx()) {
                Ok(outcome) => {
                    refunded += outcome.total_refund.minor();
                    history.returned.extend(outcome.lines.iter().flat_map(|l| l.units.clone()));
                    history.shipping_refunded |= outcome.shipping_refund.minor() > 0;
                }
                Err(ReturnError::TooManyUnits { .. }) => {}
                Err(other) => panic!("{other}"),
            }
        }
        prop_assert!(refunded <= delivered_value + shipping);
        prop_assert!(refunded <= order.total().unwrap().minor());
        // Return whatever is left: everything delivered comes back.
        let left: Vec<_> = order.lines.iter().filter_map(|l| {
            let delivered: u32 = history.delivered.iter().filter(|r| r.line == l.id).map(|r| r.quantity.get()).sum();
            let returned: u32 = history.returned.iter().filter(|r| r.line == l.id).map(|r| r.quantity.get()).sum();
            (delivered > returned).then(|| (l.id.0, delivered - returned, ReturnReason::ChangedMind, ItemCondition::Damaged))
        }).collect();
        if !left.is_empty() {
            let outcome = process_return(&order, &request(&left), &location, &history, policy, &ctx()).unwrap();
            refunded += outcome.total_refund.minor();
            history.shipping_refunded |= outcome.shipping_refund.minor() > 0;
        }
        let shipping_back = if history.shipping_refunded { shipping } else { 0 };
        prop_assert_eq!(refunded, delivered_value + shipping_back);
        // Once everything delivered is back, these policies have refunded
        // the shipping fee (with the first return, or the last).
        if !partly_delivered
            && shipping > 0
            && matches!(policy, ShippingRefundPolicy::Always | ShippingRefundPolicy::WhenFullyReturned)
        {
            prop_assert!(history.shipping_refunded);
        }
        if !partly_delivered && history.shipping_refunded {
            prop_assert_eq!(refunded, order.total().unwrap().minor());
        }
    }
}

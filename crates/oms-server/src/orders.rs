//! Orders end to end, over the domain's orchestration and state machines.
//!
//! **Placement** ([`place`]) checks and prices the order outside any
//! transaction; a stored answer for its `Idempotency-Key` is returned as is.
//! It then plans (see [`Planning`]): first *optimistically* on the in-memory
//! index, outside the transaction; refusals, partial plans and lost races on
//! *fresh* stock, the SKUs' committed rows read in one statement, still
//! outside any transaction (a refusal is decided only on such a read, never
//! on the index alone); and a placement that keeps losing races *locked*,
//! on the rows read inside the write transaction (`FOR UPDATE` on
//! PostgreSQL; SQLite's write transaction already excludes other writers),
//! where it cannot lose again. Everything the transaction writes (documents, events,
//! outbox messages, payment instructions, the stored answer) is built before
//! it starts; inside, one conditional statement reserves every planned unit
//! (`on_hand − reserved − safety ≥ quantity`) or none, and the rest is
//! inserted. Optimistic and fresh placements are group committed
//! (`storage::group_commit`): on SQLite each is one statement batch, on
//! PostgreSQL one statement. No in-process
//! lock decides anything: instances on one PostgreSQL cannot oversell,
//! because the updates are conditional. A reservation that finds its units
//! gone rolls the placement back and it starts again (bounded).
//!
//! **Fulfilment steps** ([`step`]) lock the order and its fulfilments, run
//! the domain's transition (an illegal step changes nothing), and move stock:
//! shipped or handed over → on_hand and reserved go down; cancelled →
//! reserved goes down; items missing → the domain's stock correction and a
//! re-orchestration of the missing units, reserved the same way as at
//! placement. When every fulfilment is final the order completes (or is
//! cancelled), which captures the shipping fee and voids the rest.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use oms_api::wire::{
    CancelOrder, Customer, FulfilmentStep, FulfilmentView, Language, MAX_ORDER_LINES,
    OrderLineView, OrderView, PaymentMethod, PaymentView, PlaceOrder, ReceiveReturn, ReturnView,
    StepResult,
};
use oms_domain::lifecycle::{
    Actor, Effects, EventContext, Fulfilment, FulfilmentEvent, FulfilmentId, FulfilmentStatus,
    OrderEvent, OrderStatus, PaymentKind, TransitionError, order_transition, place_order,
};
use oms_domain::model::{Currency, DeliveryMethod, LocationId, Money, Quantity, Sku};
use oms_domain::orchestration::{
    Lang, LineId, MissingReport, Order, OrderId, OrderLine, Plan, PlannedFulfilment, RuleSet,
    SetAside, Trace, UnservableLine, explain, orchestrate, reorchestrate,
};
use oms_domain::returns::{
    Restock, ReturnError, ReturnHistory, ReturnId, ReturnRequest, ShippingRefundPolicy, UnitRange,
    process_return,
};
use oms_domain::stock::{LocationLoad, StockRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::{Caller, Role, hash_secret};
use crate::notify::{self, Details, RenderedNotification};
use crate::storage::orders::{
    self as store, FulfilmentRecord, NewMessages, NewPayment, OrderColumns, StoredAnswer, Tx,
};
use crate::storage::{StockLevel, StorageError, stock_row};

/// How many times a placement or step starts again after losing a race.
const MAX_ATTEMPTS: usize = 8;
/// Placement attempts after the first planned on freshly read committed
/// stock ([`Planning::Fresh`]) before the rest are made locked.
const FRESH_ATTEMPTS: usize = 2;
/// Orders may be dated this far ahead of the server's clock (clock skew).
const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Why an order request failed.
#[derive(Debug, thiserror::Error)]
pub enum OrderFailure {
    #[error("{0}")]
    Invalid(String),
    #[error("{kind} `{id}` does not exist")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts the order's state (an illegal step…).
    #[error("{0}")]
    Conflict(String),
    /// A handover with a code other than the one the customer was sent.
    #[error("the pickup code does not match: nothing was handed over")]
    PickupCodeMismatch,
    /// The same Idempotency-Key came with another body.
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyMismatch,
    #[error("the order could not be placed: too much contention on its stock, try again")]
    Contention,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Internal(String),
}

impl From<TransitionError> for OrderFailure {
    fn from(error: TransitionError) -> Self {
        match error {
            TransitionError::Order(e) => OrderFailure::Invalid(e.to_string()),
            other => OrderFailure::Conflict(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for OrderFailure {
    fn from(error: sqlx::Error) -> Self {
        OrderFailure::Storage(StorageError::Database(error))
    }
}

pub(crate) fn internal(error: impl std::fmt::Display) -> OrderFailure {
    OrderFailure::Internal(error.to_string())
}

/// The answer to a placement, stored for its Idempotency-Key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// JSON: an [`OrderView`], or a problem for a refusal.
    pub body: String,
}

/// Where a mutating call keeps its answer, inside its own transaction, so a
/// retry of the same request gets the same answer and applies nothing twice
/// (`Idempotency-Key`, device mutations: DESIGN.md "Sync").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerSlot {
    pub scope: String,
    pub key: String,
    /// SHA-256 of the request: the same key with another request is refused.
    pub request_hash: String,
}

impl AnswerSlot {
    /// Stores `body` as the answer, in `tx`.
    pub(crate) async fn keep(
        &self,
        tx: &mut Tx,
        status: u16,
        body: &str,
        now_ms: i64,
    ) -> Result<(), OrderFailure> {
        let answer = StoredAnswer {
            request_hash: self.request_hash.clone(),
            status,
            response: body.to_owned(),
        };
        store::store_answer(tx, &self.scope, &self.key, &answer, now_ms).await?;
        Ok(())
    }
}

/// SHA-256 of a request's JSON, in hex.
pub(crate) fn request_hash(request: &impl Serialize) -> Result<String, OrderFailure> {
    Ok(hex(&Sha256::digest(
        serde_json::to_vec(request).map_err(internal)?,
    )))
}

/// An order taken on a store device (maybe offline): if it cannot be served
/// when it reaches the core, the store gets a task and the customer a
/// message, in the transaction that records the refusal.
#[derive(Debug, Clone)]
pub struct DeviceOrigin {
    pub store: LocationId,
    /// What the customer was given on the device's receipt.
    pub reference: String,
}

/// A refused placement, as problem+json with the reasons per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub unservable: Vec<UnservableLine>,
    pub explanation: Vec<String>,
}

/// An order as stored (the `document` column).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderDoc {
    pub order: Order,
    pub status: OrderStatus,
    pub customer: Customer,
    pub payment: PaymentMethod,
    pub unservable: Vec<UnservableLine>,
    pub traces: Vec<Trace>,
    /// Earlier missing-items reports (re-orchestration never asks those
    /// locations again for those lines).
    pub missing_reports: Vec<MissingReport>,
    /// Fulfilments created so far (numbers the next one).
    pub fulfilment_count: u32,
    /// Returns received, oldest first.
    #[serde(default)]
    pub returns: Vec<ReturnView>,
}

/// A fulfilment as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FulfilmentDoc {
    pub fulfilment: Fulfilment,
    pub expected_date: jiff::civil::Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
    /// SHA-256 of the code the customer shows at pickup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code_hash: Option<String>,
}

/// Who did it, as the event log records it.
pub fn actor(caller: &Caller) -> Actor {
    match caller.role {
        Role::Admin | Role::Integration => Actor::Integration {
            id: caller.label.clone(),
        },
        Role::StoreManager | Role::StoreAssociate => Actor::Staff {
            id: caller.label.clone(),
        },
    }
}

/// The shipping fee the customer pays per delivery method, in minor units.
pub fn shipping_fee(delivery: DeliveryMethod) -> i64 {
    match delivery {
        DeliveryMethod::HomeDelivery => 490,
        DeliveryMethod::PickupPoint => 390,
        DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect => 0,
    }
}

fn lang(language: Language) -> Lang {
    match language {
        Language::En => Lang::En,
        Language::Fr => Lang::Fr,
        Language::De => Lang::De,
    }
}

/// A readable order number (see [`order_number`]).
fn new_order_id() -> Result<OrderId, OrderFailure> {
    OrderId::parse(order_number(
        Timestamp::now(),
        &crate::auth::readable_code(3),
    ))
    .map_err(internal)
}

/// 2026-01-01T00:00:00Z, in milliseconds since the Unix epoch.
const ORDER_NUMBER_EPOCH_MS: i64 = 1_767_225_600_000;

/// Milliseconds the 8 time characters of an order number count (31⁸, about
/// 27 years); later numbers start again from the lowest time characters.
const ORDER_NUMBER_SPAN_MS: i64 = 31_i64.pow(8);

/// `O-`, the placement's time in milliseconds since 2026 as 8 characters
/// without look-alikes (most significant first, so numbers sort by time),
/// then `suffix` (3 random ones): e.g. `O-4E8MQ2XA7KP`.
///
/// Why by time: every index keyed by order (orders, fulfilments, events,
/// outbox, payments) then grows at its end, where a group commit's orders
/// share pages, instead of each order writing a page of its own at a
/// random place in each. Measured against 8 random characters (orders
/// bench, BENCHMARKS.md 28 Nov): SQLite's WAL took 24 % fewer pages per
/// order (18.8 against 24.7); the closed loop placed ≈ 10 % more orders/s
/// on SQLite and ≈ 4 % more on PostgreSQL, with a lower p99.
/// Two placements in one millisecond draw the same number once in ≈ 30,000
/// pairs; the second then draws another ([`place_prepared`]).
fn order_number(at: Timestamp, suffix: &str) -> String {
    let mut ms = (at.as_millisecond() - ORDER_NUMBER_EPOCH_MS).rem_euclid(ORDER_NUMBER_SPAN_MS);
    let alphabet = crate::auth::READABLE_ALPHABET;
    let base = alphabet.len() as i64;
    let mut time = [b'2'; 8];
    for slot in time.iter_mut().rev() {
        *slot = alphabet[(ms % base) as usize];
        ms /= base;
    }
    let time: String = time.iter().map(|&b| char::from(b)).collect();
    format!("O-{time}{suffix}")
}

/// A six-digit pickup code.
fn new_pickup_code() -> String {
    let random = uuid::Uuid::new_v4();
    let n = u32::from_le_bytes([
        random.as_bytes()[0],
        random.as_bytes()[1],
        random.as_bytes()[2],
        random.as_bytes()[3],
    ]);
    format!("{:06}", n % 1_000_000)
}

pub(crate) fn check_customer(customer: &Customer) -> Result<Customer, OrderFailure> {
    let name = customer.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(OrderFailure::Invalid(
            "customer.name must have 1 to 200 characters".into(),
        ));
    }
    let email = match &customer.email {
        Some(email) => {
            let email = email.trim().to_lowercase();
            let valid = email.len() <= 254
                && email
                    .split_once('@')
                    .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
                && !email.chars().any(char::is_whitespace);
            if !valid {
                return Err(OrderFailure::Invalid(format!(
                    "customer.email `{email}` is not an e-mail address"
                )));
            }
            Some(email)
        }
        None => None,
    };
    let phone = match &customer.phone {
        Some(phone) => {
            let normalised = store::normalise_phone(phone);
            let digits = normalised.trim_start_matches('+').len();
            if !(6..=15).contains(&digits) {
                return Err(OrderFailure::Invalid(format!(
                    "customer.phone `{phone}` is not a phone number"
                )));
            }
            Some(normalised)
        }
        None => None,
    };
    let id = match &customer.id {
        Some(id) => Some(crate::customers::check_id(id).map_err(OrderFailure::Invalid)?),
        None => None,
    };
    Ok(Customer {
        id,
        name: name.to_owned(),
        email,
        phone,
        language: customer.language,
    })
}

/// Parses a stored rule set document.
fn rule_set(document: &str) -> Result<RuleSet, OrderFailure> {
    serde_json::from_str(document).map_err(|e| internal(format!("stored rule set: {e}")))
}

async fn active_rules(state: &AppState, channel: &str) -> Result<RuleSet, OrderFailure> {
    let record = state
        .storage
        .active_rule_set(channel)
        .await?
        .ok_or_else(|| {
            OrderFailure::Conflict(format!(
                "channel `{channel}` has no active rule set: create and activate one first"
            ))
        })?;
    rule_set(&record.document)
}

fn problem_answer(refusal: &Refusal) -> Result<Answer, OrderFailure> {
    Ok(Answer {
        status: refusal.status,
        body: serde_json::to_string(refusal).map_err(internal)?,
    })
}

/// Stock rows of the order's SKUs, read inside the transaction, applied to
/// the in-memory index so orchestration sees exactly the committed stock.
async fn fresh_stock(
    state: &AppState,
    tx: &mut Tx,
    skus: &[String],
) -> Result<Vec<StockRow>, OrderFailure> {
    let levels = store::lock_stock_of(tx, state.storage.backend(), skus).await?;
    stock_rows(&levels)
}

fn stock_rows(levels: &[StockLevel]) -> Result<Vec<StockRow>, OrderFailure> {
    levels
        .iter()
        .map(|l| stock_row(l).map_err(OrderFailure::from))
        .collect()
}

/// Applies stock rows just read from the database to the shared index, then
/// plans on it: what fresh and locked attempts share.
fn plan_on_rows(
    state: &AppState,
    prepared: &Prepared,
    rows: &[StockRow],
) -> Result<(Plan, Vec<store::Reserve>), OrderFailure> {
    let mut cache = state.stock.write();
    for row in rows {
        cache.index.apply(row).map_err(internal)?;
    }
    let order = &prepared.order;
    let plan = orchestrate(order, &cache.index, &prepared.rules, order.placed_at)
        .map_err(|e| OrderFailure::Invalid(e.to_string()))?;
    let reservations = reservations_of(&plan, &cache.index);
    Ok((plan, reservations))
}

/// The conditional reservations a plan needs, one per (SKU, location), with
/// the safety stock that applies there.
fn reservations_of(plan: &Plan, index: &oms_domain::stock::StockIndex) -> Vec<store::Reserve> {
    let mut out: Vec<store::Reserve> = Vec::new();
    for (location, sku, quantity) in plan.reservations() {
        match out
            .iter_mut()
            .find(|r| r.sku == sku.as_str() && r.location == location.as_str())
        {
            Some(existing) => existing.quantity += i64::from(quantity.get()),
            None => {
                let safety = index
                    .stock_of(sku)
                    .iter()
                    .find(|s| &s.location == location)
                    .map_or(0, |s| s.safety.get());
                out.push(store::Reserve {
                    sku: sku.as_str().to_owned(),
                    location: location.as_str().to_owned(),
                    quantity: i64::from(quantity.get()),
                    safety: i64::from(safety),
                });
            }
        }
    }
    out
}

/// The rows a reservation returned, for the index.
fn reserved_rows(reserved: Vec<(String, String, i64, i64)>) -> Result<Vec<StockRow>, OrderFailure> {
    reserved
        .into_iter()
        .map(|(sku, location, on_hand, reserved)| {
            stock_row_of(
                &Sku::parse(sku).map_err(internal)?,
                &LocationId::parse(location).map_err(internal)?,
                on_hand,
                reserved,
            )
        })
        .collect()
}

pub(crate) fn stock_row_of(
    sku: &Sku,
    location: &LocationId,
    on_hand: i64,
    reserved: i64,
) -> Result<StockRow, OrderFailure> {
    Ok(StockRow {
        sku: sku.clone(),
        location: location.clone(),
        on_hand,
        reserved: Quantity::new(u32::try_from(reserved).map_err(internal)?),
    })
}

/// Fulfilments, with their due time and daily-cap count, for a plan.
fn new_fulfilments(
    state: &AppState,
    doc: &mut OrderDoc,
    plan: &Plan,
) -> Vec<(FulfilmentDoc, Option<jiff::civil::Date>)> {
    let cache = state.stock.read();
    plan.fulfilments
        .iter()
        .map(|planned: &PlannedFulfilment| {
            doc.fulfilment_count += 1;
            let id = FulfilmentId::parse(format!("{}-{}", doc.order.id, doc.fulfilment_count))
                .unwrap_or_else(|_| unreachable!("an order id plus a number is a valid id"));
            let location = cache.index.location(&planned.location);
            let preparation = location.map_or(0, |l| i64::from(l.preparation_minutes));
            let due_at = planned.ready_at.unwrap_or_else(|| {
                doc.order
                    .placed_at
                    .saturating_add(SignedDuration::from_mins(preparation))
                    .unwrap_or(doc.order.placed_at)
            });
            let local_date = location.map(|l| {
                doc.order
                    .placed_at
                    .to_zoned(l.time_zone.zone().clone())
                    .date()
            });
            (
                FulfilmentDoc {
                    fulfilment: Fulfilment::from_plan(id, &doc.order, planned),
                    expected_date: planned.expected_date,
                    ready_at: planned.ready_at,
                    due_at,
                    tracking: None,
                    pickup_code_hash: None,
                },
                local_date,
            )
        })
        .collect()
}

fn location_name(state: &AppState, location: &LocationId) -> String {
    state
        .stock
        .read()
        .index
        .location(location)
        .map_or_else(|| location.as_str().to_owned(), |l| l.name.clone())
}

/// Turns a transition's effects into rows: events (and a webhook for each),
/// customer notifications, payment instructions.
fn messages_from(
    doc: &OrderDoc,
    effects: &Effects,
    extra: &NotificationExtra<'_>,
    out: &mut NewMessages,
) -> Result<(), OrderFailure> {
    for event in &effects.events {
        let document = serde_json::to_string(event).map_err(internal)?;
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.events.push((
            event.fulfilment.as_ref().map(|f| f.as_str().to_owned()),
            kind,
            event.at.as_millisecond(),
            document.clone(),
        ));
        out.outbox.push(("webhook", document));
    }
    for notification in &effects.notifications {
        let location = extra.location.clone();
        let details = Details {
            customer_name: &doc.customer.name,
            location: location.as_deref(),
            pickup_code: extra.pickup_code,
            tracking: extra.tracking,
            amount: extra.amount,
        };
        let (subject, body) = notify::render(
            notification.status,
            doc.customer.language,
            doc.order.id.as_str(),
            &details,
        );
        let rendered = RenderedNotification {
            order: doc.order.id.as_str().to_owned(),
            fulfilment: notification
                .fulfilment
                .as_ref()
                .map(|f| f.as_str().to_owned()),
            kind: oms_api::wire::NotificationKind::Status,
            status: Some(notification.status),
            language: doc.customer.language,
            to_email: doc.customer.email.clone(),
            to_phone: doc.customer.phone.clone(),
            subject,
            body,
            attachments: Vec::new(),
        };
        out.outbox.push((
            "notification",
            serde_json::to_string(&rendered).map_err(internal)?,
        ));
    }
    for payment in &effects.payments {
        let in_store = doc.payment == PaymentMethod::InStore;
        out.payments.push(NewPayment {
            kind: crate::payments::kind_name(payment.kind),
            amount_minor: payment.amount.minor(),
            currency: payment.amount.currency().as_str().to_owned(),
            reference: payment.reference.clone(),
            idempotency_key: crate::payments::idempotency_key(payment),
            status: if in_store { "succeeded" } else { "pending" },
            provider_reference: in_store.then(|| "in-store".to_owned()),
        });
    }
    Ok(())
}

/// What notification templates may mention for a step.
#[derive(Debug, Default)]
struct NotificationExtra<'a> {
    location: Option<String>,
    pickup_code: Option<&'a str>,
    tracking: Option<&'a str>,
    amount: Option<&'a str>,
}

// ---- placement ----------------------------------------------------------------

/// Everything checked and priced before the transaction.
pub(crate) struct Prepared {
    pub(crate) order: Order,
    pub(crate) customer: Customer,
    payment: PaymentMethod,
    accept_partial: bool,
    rules: RuleSet,
    skus: Vec<String>,
    request_hash: String,
}

async fn prepare(state: &AppState, request: &PlaceOrder) -> Result<Prepared, OrderFailure> {
    if request.lines.is_empty() || request.lines.len() > MAX_ORDER_LINES {
        return Err(OrderFailure::Invalid(format!(
            "an order has 1 to {MAX_ORDER_LINES} lines"
        )));
    }
    if let Some(line) = request.lines.iter().find(|l| l.quantity.get() == 0) {
        return Err(OrderFailure::Invalid(format!(
            "line for `{}` has a zero quantity",
            line.sku
        )));
    }
    if request.lines.iter().any(|l| l.quantity.get() > 10_000) {
        return Err(OrderFailure::Invalid(
            "a line holds at most 10,000 units".into(),
        ));
    }
    let customer = check_customer(&request.customer)?;
    let customer = crate::customers::link(state, customer).await?;
    let now = Timestamp::now();
    let placed_at = match &request.placed_at {
        None => now,
        Some(text) => {
            let at: Timestamp = text
                .parse()
                .map_err(|e| OrderFailure::Invalid(format!("placed_at `{text}`: {e}")))?;
            if at > now.saturating_add(MAX_CLOCK_SKEW).unwrap_or(now) {
                return Err(OrderFailure::Invalid(format!(
                    "placed_at `{text}` is in the future"
                )));
            }
            at
        }
    };
    let (currency, known): (Currency, Vec<bool>) = {
        let cache = state.stock.read();
        let channel = cache
            .index
            .channels()
            .iter()
            .find(|c| c.id == request.channel)
            .ok_or_else(|| OrderFailure::NotFound {
                kind: "channel",
                id: request.channel.as_str().to_owned(),
            })?;
        if !channel.delivery_methods.contains(&request.delivery) {
            return Err(OrderFailure::Invalid(format!(
                "channel `{}` does not offer {:?}",
                channel.id, request.delivery
            )));
        }
        let known = request
            .lines
            .iter()
            .map(|l| cache.known_skus.contains(&l.sku))
            .collect();
        (channel.currency, known)
    };
    if let Some((line, _)) = request.lines.iter().zip(&known).find(|(_, k)| !**k) {
        return Err(OrderFailure::NotFound {
            kind: "product",
            id: line.sku.as_str().to_owned(),
        });
    }
    let mut skus: Vec<String> = request
        .lines
        .iter()
        .map(|l| l.sku.as_str().to_owned())
        .collect();
    skus.sort();
    skus.dedup();
    let prices = state
        .storage
        .prices(request.channel.as_str(), currency.as_str(), &skus)
        .await?;
    let mut lines = Vec::with_capacity(request.lines.len());
    for (i, line) in request.lines.iter().enumerate() {
        let price = prices.get(line.sku.as_str()).ok_or_else(|| {
            OrderFailure::Invalid(format!(
                "`{}` has no price in {currency} for channel `{}`",
                line.sku, request.channel
            ))
        })?;
        lines.push(OrderLine {
            id: LineId(u32::try_from(i + 1).map_err(internal)?),
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: Money::new(*price, currency),
        });
    }
    let order = Order {
        id: new_order_id()?,
        channel: request.channel.clone(),
        delivery: request.delivery,
        destination: request.destination.clone(),
        currency,
        lines,
        discounts: request.discounts.clone(),
        shipping_fee: Money::new(shipping_fee(request.delivery), currency),
        placed_at,
    };
    order
        .validate()
        .map_err(|e| OrderFailure::Invalid(e.to_string()))?;
    let rules = active_rules(state, request.channel.as_str()).await?;
    let request_hash = request_hash(request)?;
    Ok(Prepared {
        order,
        customer,
        payment: request.payment,
        accept_partial: request.accept_partial,
        rules,
        skus,
        request_hash,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The scope of a caller's idempotency keys.
fn key_scope(caller: &Caller) -> String {
    format!(
        "{}:{}:{}",
        caller.role.as_str(),
        caller.store.as_ref().map_or("", |s| s.as_str()),
        caller.label
    )
}

/// Checks an `Idempotency-Key` (1 to 200 visible ASCII characters).
fn check_idempotency_key(key: &str) -> Result<(), OrderFailure> {
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(OrderFailure::Invalid(
            "Idempotency-Key must be 1 to 200 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

/// Where the answer to `request` is kept for the caller's `Idempotency-Key`.
pub fn idempotency_slot(
    caller: &Caller,
    key: Option<&str>,
    request: &impl Serialize,
) -> Result<Option<AnswerSlot>, OrderFailure> {
    let Some(key) = key else {
        return Ok(None);
    };
    check_idempotency_key(key)?;
    Ok(Some(AnswerSlot {
        scope: key_scope(caller),
        key: key.to_owned(),
        request_hash: request_hash(request)?,
    }))
}

/// Places an order (see the module documentation).
pub async fn place(
    state: &AppState,
    caller: &Caller,
    idempotency_key: Option<&str>,
    request: &PlaceOrder,
) -> Result<Answer, OrderFailure> {
    if let Some(key) = idempotency_key {
        check_idempotency_key(key)?;
    }
    let scope = key_scope(caller);
    place_keyed(
        state,
        caller,
        idempotency_key.map(|key| (scope.as_str(), key)),
        None,
        request,
    )
    .await
}

/// Places an order whose answer is kept under `(scope, key)`; `origin` is
/// set for orders pushed by a store device.
pub(crate) async fn place_keyed(
    state: &AppState,
    caller: &Caller,
    key: Option<(&str, &str)>,
    origin: Option<&DeviceOrigin>,
    request: &PlaceOrder,
) -> Result<Answer, OrderFailure> {
    let prepared = prepare(state, request).await?;
    place_prepared(state, caller, key, origin, prepared).await
}

/// [`place_keyed`] once the request is checked and priced.
async fn place_prepared(
    state: &AppState,
    caller: &Caller,
    key: Option<(&str, &str)>,
    origin: Option<&DeviceOrigin>,
    mut prepared: Prepared,
) -> Result<Answer, OrderFailure> {
    let (scope, idempotency_key) = match key {
        Some((scope, key)) => (scope, Some(key)),
        None => ("", None),
    };
    for attempt in 0..MAX_ATTEMPTS {
        let planning = match attempt {
            0 => Planning::Optimistic,
            n if n <= FRESH_ATTEMPTS => Planning::Fresh,
            _ => Planning::Locked,
        };
        let attempt_result = try_place(
            state,
            caller,
            idempotency_key,
            scope,
            origin,
            &prepared,
            planning,
        )
        .await;
        match attempt_result {
            Ok(Some(answer)) => return Ok(answer),
            Ok(None) => {
                tracing::debug!(attempt, "placement lost a race for stock; starting again");
            }
            Err(OrderFailure::Storage(error)) if store::is_conflict(&error) => {
                // A concurrent request with the same Idempotency-Key
                // committed first (the next attempt finds its answer), or
                // the order number was taken (two placements in one
                // millisecond drew the same random end, see `order_number`):
                // the next attempt takes another one, else it would meet the
                // same number until the attempts ran out (a 503).
                tracing::debug!(
                    attempt,
                    "placement conflicted on a unique key; starting again"
                );
                prepared.order.id = new_order_id()?;
            }
            Err(other) => return Err(other),
        }
    }
    Err(OrderFailure::Contention)
}

/// How a placement attempt reads the stock it plans on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planning {
    /// On the in-memory index as it is, outside the transaction: the common
    /// case costs no stock read and the shortest write transaction. Only a
    /// plan that serves every unit is written this way; the conditional
    /// reservation refuses it if the index was behind.
    Optimistic,
    /// On the committed rows of the order's SKUs, read in one statement
    /// outside any transaction and applied to the index first. A refusal
    /// (or a partial plan) decided on them is exact as of that read; a plan
    /// is written like an optimistic one, in the next group commit, and its
    /// conditional reservation refuses it if stock moved since. So no
    /// writer waits while this attempt reads and plans.
    Fresh,
    /// On the rows read (and locked, on PostgreSQL) inside the transaction,
    /// applied to the index first: exact, and it cannot lose a race, so the
    /// last attempts are made this way (a SKU a crowd is buying).
    Locked,
}

async fn try_place(
    state: &AppState,
    caller: &Caller,
    idempotency_key: Option<&str>,
    scope: &str,
    origin: Option<&DeviceOrigin>,
    prepared: &Prepared,
    planning: Planning,
) -> Result<Option<Answer>, OrderFailure> {
    let backend = state.storage.backend();
    // A replay answers from storage. The first, optimistic attempt does not
    // ask: a new key is the common case, and a replay (or a concurrent
    // duplicate) fails on the key's primary key when it writes, which rolls
    // its placement back, and comes back here, fresh, to read the answer.
    if planning != Planning::Optimistic
        && let Some(key) = idempotency_key
        && let Some(stored) = state.storage.stored_answer_of(scope, key).await?
    {
        if stored.request_hash != prepared.request_hash {
            return Err(OrderFailure::IdempotencyMismatch);
        }
        return Ok(Some(Answer {
            status: stored.status,
            body: stored.response,
        }));
    }
    let order = &prepared.order;
    let mut locked_tx = None;
    let mut seq = None;
    let (plan, reservations) = match planning {
        Planning::Optimistic => {
            let cache = state.stock.read();
            // An error is decided locked too (after the replay check).
            let Ok(plan) = orchestrate(order, &cache.index, &prepared.rules, order.placed_at)
            else {
                return Ok(None);
            };
            if !plan.is_complete() {
                // Maybe the index is behind: decide on exact stock.
                return Ok(None);
            }
            let reservations = reservations_of(&plan, &cache.index);
            (plan, reservations)
        }
        Planning::Fresh => {
            let levels = state.storage.committed_stock_of(&prepared.skus).await?;
            plan_on_rows(state, prepared, &stock_rows(&levels)?)?
        }
        Planning::Locked => {
            let mut tx = state.storage.begin_write().await?;
            // PostgreSQL: the change counter first, as every writer takes it
            // before any stock row (one lock order, no deadlock with
            // optimistic writers). SQLite has one writer at a time.
            if backend == crate::storage::Backend::Postgres {
                seq = Some(crate::storage::next_change_seqs(&mut tx, 1).await?);
            }
            let rows = fresh_stock(state, &mut tx, &prepared.skus).await?;
            locked_tx = Some(tx);
            plan_on_rows(state, prepared, &rows)?
        }
    };
    let now_ms = Timestamp::now().as_millisecond();
    if plan.fulfilments.is_empty() || (!plan.is_complete() && !prepared.accept_partial) {
        let refusal = Refusal {
            kind: "cannot-be-served".into(),
            title: "Order cannot be served".into(),
            status: 409,
            detail: if plan.fulfilments.is_empty() {
                "no location can serve this order; nothing was reserved".into()
            } else {
                "some units cannot be served and accept_partial is false; nothing was reserved"
                    .into()
            },
            explanation: explain(&plan.trace, lang(prepared.customer.language)),
            unservable: plan.unservable.clone(),
        };
        let answer = problem_answer(&refusal)?;
        if let Some(key) = idempotency_key {
            let stored = StoredAnswer {
                request_hash: prepared.request_hash.clone(),
                status: answer.status,
                response: answer.body.clone(),
            };
            if locked_tx.is_none() && origin.is_none() {
                // One statement: no transaction held across round trips.
                state
                    .storage
                    .store_answer_alone(scope, key, &stored, now_ms)
                    .await?;
                return Ok(Some(answer));
            }
            let mut tx = match locked_tx {
                Some(tx) => tx,
                None => state.storage.begin_write().await?,
            };
            store::store_answer(&mut tx, scope, key, &stored, now_ms).await?;
            if let Some(origin) = origin {
                let seq = match seq {
                    Some(seq) => seq,
                    None => crate::storage::next_change_seqs(&mut tx, 1).await?,
                };
                crate::sync::record_refused_device_order(
                    &mut tx, origin, prepared, &refusal, seq, now_ms,
                )
                .await?;
            }
            tx.commit().await?;
        } else if let Some(tx) = locked_tx {
            tx.rollback().await?;
        }
        return Ok(Some(answer));
    }

    // Everything the transaction writes is built before it starts (on
    // SQLite writers queue for one connection: keep its turn short).
    let ctx = EventContext {
        at: order.placed_at,
        actor: actor(caller),
    };
    let (placed, mut effects) = place_order(order, &ctx)?;
    let allocation = order_transition(
        order,
        placed,
        &OrderEvent::Allocate {
            complete: plan.is_complete(),
        },
        &ctx,
    )?;
    effects.events.extend(allocation.effects.events);
    effects
        .notifications
        .extend(allocation.effects.notifications);
    effects.payments.extend(allocation.effects.payments);
    let mut doc = OrderDoc {
        order: order.clone(),
        status: allocation.to,
        customer: prepared.customer.clone(),
        payment: prepared.payment,
        unservable: plan.unservable.clone(),
        traces: vec![plan.trace.clone()],
        missing_reports: Vec::new(),
        fulfilment_count: 0,
        returns: Vec::new(),
    };
    let fulfilments = new_fulfilments(state, &mut doc, &plan);
    let mut messages = NewMessages::default();
    messages_from(&doc, &effects, &NotificationExtra::default(), &mut messages)?;
    let document = serde_json::to_string(&doc).map_err(internal)?;
    let fulfilment_rows = fulfilments
        .iter()
        .map(|(f, _)| Ok((fulfilment_record(f)?, f.due_at.as_millisecond())))
        .collect::<Result<Vec<_>, OrderFailure>>()?;
    let days: Vec<(String, String)> = fulfilments
        .iter()
        .filter_map(|(f, date)| {
            date.map(|d| (f.fulfilment.location.as_str().to_owned(), d.to_string()))
        })
        .collect();
    let payments: Vec<PaymentView> = messages.payments.iter().map(payment_view_new).collect();
    // The answer stays small (it is also stored for the Idempotency-Key):
    // the trace and its explanation are read with GET /v1/orders/{id}.
    let view = order_view(
        &doc,
        fulfilments.iter().map(|(f, _)| f),
        payments,
        None,
        Detail::Summary,
    );
    let body = serde_json::to_string(&view).map_err(internal)?;

    let changed_task = match origin {
        Some(origin) => crate::sync::changed_device_order_task(origin, &doc, &plan, now_ms),
        None => None,
    };
    let stored = idempotency_key.map(|key| {
        (
            key,
            StoredAnswer {
                request_hash: prepared.request_hash.clone(),
                status: 201,
                response: body.clone(),
            },
        )
    });
    let write = store::PlacementWrite {
        order: OrderColumns {
            id: order.id.as_str(),
            channel_id: order.channel.as_str(),
            status: status_name(doc.status),
            customer_name: &doc.customer.name,
            customer_email: doc.customer.email.as_deref(),
            customer_phone: doc.customer.phone.as_deref(),
            placed_at_ms: order.placed_at.as_millisecond(),
        },
        document: &document,
        reserve: &reservations,
        fulfilments: &fulfilment_rows,
        days: &days,
        messages: &messages,
        answer: stored.as_ref().map(|(key, answer)| (scope, *key, answer)),
        task: changed_task.as_ref(),
        now_ms,
    };
    let written = match locked_tx {
        // Optimistic: in the next group commit (storage::group_commit).
        None => match state.storage.write_in_group(&write).await? {
            Some(written) => written,
            None => return Ok(None),
        },
        // Locked: in the transaction that read the stock.
        Some(mut tx) => {
            let Some(written) = store::write_placement(&mut tx, backend, &write, seq).await? else {
                tx.rollback().await?;
                return Ok(None);
            };
            tx.commit().await?;
            written
        }
    };
    let (reserved, counts) = (written.reserved, written.counts);

    let reserved_rows = reserved_rows(reserved)?;
    let loads: Vec<LocationLoad> = counts
        .into_iter()
        .filter_map(|(location, date, orders)| {
            Some(LocationLoad {
                location: LocationId::parse(location).ok()?,
                date: date.parse().ok()?,
                orders: u32::try_from(orders).unwrap_or(u32::MAX),
            })
        })
        .collect();
    apply_to_index(state, &reserved_rows, &loads);
    Ok(Some(Answer { status: 201, body }))
}

fn fulfilment_record(fulfilment: &FulfilmentDoc) -> Result<FulfilmentRecord, OrderFailure> {
    Ok(FulfilmentRecord {
        id: fulfilment.fulfilment.id.as_str().to_owned(),
        order_id: fulfilment.fulfilment.order.as_str().to_owned(),
        location_id: fulfilment.fulfilment.location.as_str().to_owned(),
        status: fulfilment_status_name(fulfilment.fulfilment.status).to_owned(),
        document: serde_json::to_string(fulfilment).map_err(internal)?,
    })
}

async fn write_new_fulfilment(
    tx: &mut Tx,
    fulfilment: &FulfilmentDoc,
    seq: i64,
) -> Result<(), OrderFailure> {
    let record = fulfilment_record(fulfilment)?;
    store::insert_fulfilment(tx, &record, fulfilment.due_at.as_millisecond(), seq).await?;
    Ok(())
}

/// Applies rows this instance just committed, so its next reads see them
/// (other instances get them from the follower).
pub(crate) fn apply_to_index(state: &AppState, rows: &[StockRow], loads: &[LocationLoad]) {
    let mut cache = state.stock.write();
    for row in rows {
        if let Err(error) = cache.index.apply(row) {
            tracing::warn!(%error, "stock index apply after commit failed");
        }
    }
    for load in loads {
        if let Err(error) = cache.index.set_location_load(load) {
            tracing::warn!(%error, "location load apply after commit failed");
        }
    }
}

pub fn status_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => "placed",
        OrderStatus::PartiallyAllocated => "partially_allocated",
        OrderStatus::Allocated => "allocated",
        OrderStatus::Completed => "completed",
        OrderStatus::Cancelled => "cancelled",
    }
}

pub fn fulfilment_status_name(status: FulfilmentStatus) -> &'static str {
    match status {
        FulfilmentStatus::AwaitingPreparation => "awaiting_preparation",
        FulfilmentStatus::InPreparation => "in_preparation",
        FulfilmentStatus::ReadyForPickup => "ready_for_pickup",
        FulfilmentStatus::ReadyToShip => "ready_to_ship",
        FulfilmentStatus::InTransitToStore => "in_transit_to_store",
        FulfilmentStatus::PickedUp => "picked_up",
        FulfilmentStatus::Shipped => "shipped",
        FulfilmentStatus::Cancelled => "cancelled",
        FulfilmentStatus::Rejected => "rejected",
    }
}

/// Statuses of fulfilments still in a location's queue (a pickup store's
/// queue also holds the parcels shipped to it: a fulfilment's row is at its
/// current location, see [`Fulfilment::current_location`]).
pub const OPEN_FULFILMENT_STATUSES: [&str; 5] = [
    "awaiting_preparation",
    "in_preparation",
    "ready_for_pickup",
    "ready_to_ship",
    "in_transit_to_store",
];

fn payment_view_new(payment: &NewPayment) -> PaymentView {
    PaymentView {
        kind: payment_kind(payment.kind),
        amount: money(payment.amount_minor, &payment.currency),
        reference: payment.reference.clone(),
        status: payment.status.to_owned(),
        provider_reference: payment.provider_reference.clone(),
        link: None,
        last_error: None,
    }
}

fn payment_kind(kind: &str) -> PaymentKind {
    // Stored rows only hold the four names the CHECK constraint allows.
    crate::payments::kind_from_name(kind).unwrap_or(PaymentKind::Refund)
}

fn money(minor: i64, currency: &str) -> Money {
    Money::new(
        minor,
        Currency::parse(currency).unwrap_or_else(|_| {
            Currency::parse("XXX").unwrap_or_else(|_| unreachable!("XXX is a currency code"))
        }),
    )
}

/// The API view of a fulfilment.
pub fn fulfilment_view(doc: &FulfilmentDoc) -> FulfilmentView {
    let f = &doc.fulfilment;
    FulfilmentView {
        id: f.id.clone(),
        order: f.order.clone(),
        location: f.location.clone(),
        delivery: f.delivery,
        handover: f.handover,
        ship_to: f.ship_to.clone(),
        status: f.status,
        lines: f.lines.clone(),
        expected_date: doc.expected_date.to_string(),
        ready_at: doc.ready_at.map(|t| t.to_string()),
        due_at: doc.due_at.to_string(),
        tracking: doc.tracking.clone(),
    }
}

/// How much of an order a view carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything, traces and their explanation included.
    Full,
    /// Without the traces (the answer to a placement, which is also stored
    /// for its Idempotency-Key, stays small).
    Summary,
}

/// The API view of an order.
pub fn order_view<'a>(
    doc: &OrderDoc,
    fulfilments: impl IntoIterator<Item = &'a FulfilmentDoc>,
    payments: Vec<PaymentView>,
    language: Option<Language>,
    detail: Detail,
) -> OrderView {
    let order = &doc.order;
    let language = language.unwrap_or(doc.customer.language);
    let (traces, explanation) = match detail {
        Detail::Full => (
            doc.traces.clone(),
            doc.traces
                .iter()
                .flat_map(|t| explain(t, lang(language)))
                .collect(),
        ),
        Detail::Summary => (Vec::new(), Vec::new()),
    };
    OrderView {
        id: order.id.clone(),
        status: doc.status,
        channel: order.channel.clone(),
        delivery: order.delivery,
        destination: order.destination.clone(),
        customer: doc.customer.clone(),
        payment: doc.payment,
        currency: order.currency,
        lines: order
            .lines
            .iter()
            .map(|l| OrderLineView {
                id: l.id,
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
            })
            .collect(),
        discounts: order.discounts.clone(),
        shipping_fee: order.shipping_fee,
        total: order.total().unwrap_or(Money::zero(order.currency)),
        placed_at: order.placed_at.to_string(),
        fulfilments: fulfilments.into_iter().map(fulfilment_view).collect(),
        unservable: doc.unservable.clone(),
        traces,
        explanation,
        payments,
        returns: doc.returns.clone(),
    }
}

pub(crate) fn parse_order(document: &str) -> Result<OrderDoc, OrderFailure> {
    serde_json::from_str(document).map_err(|e| internal(format!("stored order: {e}")))
}

pub(crate) fn parse_fulfilment(document: &str) -> Result<FulfilmentDoc, OrderFailure> {
    serde_json::from_str(document).map_err(|e| internal(format!("stored fulfilment: {e}")))
}

/// Which orders a store role may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAccess {
    /// Any order of the chain: the counter finds and reads any channel's
    /// order to take its return (a web order returned in a store), like
    /// `GET /v1/orders?q=`.
    ChainWide,
    /// Only orders involving the caller's store (its actions on the order).
    Involved,
}

/// An order with its fulfilments and payments, for reading; store roles see
/// the orders involving their store.
pub async fn load_view(
    state: &AppState,
    caller: &Caller,
    id: &str,
    language: Option<Language>,
) -> Result<OrderView, OrderFailure> {
    load_view_with(state, caller, id, language, OrderAccess::Involved).await
}

/// An order with its fulfilments and payments, for reading with `access`.
pub async fn load_view_with(
    state: &AppState,
    caller: &Caller,
    id: &str,
    language: Option<Language>,
    access: OrderAccess,
) -> Result<OrderView, OrderFailure> {
    let record = state
        .storage
        .order(id)
        .await?
        .ok_or_else(|| OrderFailure::NotFound {
            kind: "order",
            id: id.to_owned(),
        })?;
    let doc = parse_order(&record.document)?;
    let fulfilments: Vec<FulfilmentDoc> = state
        .storage
        .fulfilments_of(id)
        .await?
        .iter()
        .map(|f| parse_fulfilment(&f.document))
        .collect::<Result<_, _>>()?;
    if access == OrderAccess::Involved {
        check_order_access(caller, &doc, &fulfilments)?;
    }
    let payments = state
        .storage
        .payments_of(id)
        .await?
        .iter()
        .map(|p| PaymentView {
            kind: payment_kind(&p.kind),
            amount: money(p.amount_minor, &p.currency),
            reference: p.reference.clone(),
            status: p.status.clone(),
            provider_reference: p.provider_reference.clone(),
            link: p.payment_url.clone(),
            // Only while it is not done: why it waits. Without a gateway
            // nothing ever tries, so the server says so itself.
            last_error: (p.status == "pending")
                .then(|| {
                    p.last_error.clone().or_else(|| {
                        (!state.outbox.has_payment_provider())
                            .then(|| crate::outbox::NO_GATEWAY.to_owned())
                    })
                })
                .flatten(),
        })
        .collect();
    Ok(order_view(
        &doc,
        &fulfilments,
        payments,
        language,
        Detail::Full,
    ))
}

/// Store roles see orders that involve their store (a fulfilment there, or
/// collected there); other roles see every order.
pub fn check_order_access(
    caller: &Caller,
    doc: &OrderDoc,
    fulfilments: &[FulfilmentDoc],
) -> Result<(), OrderFailure> {
    let Some(store) = &caller.store else {
        return Ok(());
    };
    let involved = fulfilments.iter().any(|f| &f.fulfilment.location == store)
        || doc.order.destination.pickup_store.as_ref() == Some(store);
    if involved {
        Ok(())
    } else {
        Err(OrderFailure::Forbidden(
            "this order does not involve this device's store".into(),
        ))
    }
}

// ---- fulfilment steps --------------------------------------------------------

/// A fulfilment step and everything it changes (see the module documentation).
pub async fn step(
    state: &AppState,
    caller: &Caller,
    fulfilment_id: &str,
    step: &FulfilmentStep,
    slot: Option<&AnswerSlot>,
    language: Option<Language>,
) -> Result<StepResult, OrderFailure> {
    for attempt in 0..MAX_ATTEMPTS {
        match try_step(state, caller, fulfilment_id, step, slot, language).await? {
            Some(result) => return Ok(result),
            None => tracing::debug!(attempt, "re-orchestration lost a race for stock"),
        }
    }
    Err(OrderFailure::Contention)
}

/// An order and its fulfilments, locked for a step.
struct Locked {
    doc: OrderDoc,
    fulfilments: Vec<FulfilmentDoc>,
}

async fn lock_order_of(
    state: &AppState,
    tx: &mut Tx,
    order_id: &str,
) -> Result<Locked, OrderFailure> {
    let backend = state.storage.backend();
    let record = store::lock_order(tx, backend, order_id)
        .await?
        .ok_or_else(|| OrderFailure::NotFound {
            kind: "order",
            id: order_id.to_owned(),
        })?;
    let doc = parse_order(&record.document)?;
    let fulfilments = store::lock_fulfilments_of(tx, backend, order_id)
        .await?
        .iter()
        .map(|f| parse_fulfilment(&f.document))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Locked { doc, fulfilments })
}

async fn try_step(
    state: &AppState,
    caller: &Caller,
    fulfilment_id: &str,
    step: &FulfilmentStep,
    slot: Option<&AnswerSlot>,
    language: Option<Language>,
) -> Result<Option<StepResult>, OrderFailure> {
    let backend = state.storage.backend();
    let mut tx = state.storage.begin_write().await?;
    let not_found = || OrderFailure::NotFound {
        kind: "fulfilment",
        id: fulfilment_id.to_owned(),
    };
    let order_id = store::order_of_fulfilment(&mut tx, fulfilment_id)
        .await?
        .ok_or_else(not_found)?;
    let Locked {
        mut doc,
        mut fulfilments,
    } = lock_order_of(state, &mut tx, &order_id).await?;
    let at = fulfilments
        .iter()
        .position(|f| f.fulfilment.id.as_str() == fulfilment_id)
        .ok_or_else(not_found)?;
    // A ship-to-store parcel is the pickup store's once it left.
    let location = fulfilments[at].fulfilment.current_location().clone();
    if !caller.may_access_store(location.as_str()) {
        return Err(OrderFailure::Forbidden(format!(
            "fulfilment `{fulfilment_id}` is handled by another store (`{location}`)"
        )));
    }
    let now = Timestamp::now();
    let ctx = EventContext {
        at: now,
        actor: actor(caller),
    };
    let now_ms = now.as_millisecond();
    let seq = crate::storage::next_change_seqs(&mut tx, 1).await?;
    let mut messages = NewMessages::default();
    let mut index_rows: Vec<StockRow> = Vec::new();
    let mut rerouted: Vec<FulfilmentDoc> = Vec::new();
    let mut unservable: Vec<UnservableLine> = Vec::new();
    let mut explanation: Vec<String> = Vec::new();
    let mut pickup_code: Option<String> = None;
    let location_label = location_name(state, &location);

    let event = match step {
        FulfilmentStep::StartPreparation => FulfilmentEvent::StartPreparation,
        FulfilmentStep::MarkReady => FulfilmentEvent::MarkReady,
        FulfilmentStep::Ship { tracking } => {
            if let Some(t) = tracking
                && (t.is_empty() || t.len() > 64 || !t.chars().all(|c| c.is_ascii_graphic()))
            {
                return Err(OrderFailure::Invalid(
                    "tracking must be 1 to 64 visible ASCII characters".into(),
                ));
            }
            FulfilmentEvent::Ship {
                tracking: tracking.clone(),
            }
        }
        FulfilmentStep::HandOver { pickup_code: code } => {
            let expected = fulfilments[at].pickup_code_hash.as_deref();
            // Only checked when the fulfilment is waiting for pickup; the
            // state machine refuses the step otherwise.
            if fulfilments[at].fulfilment.status == FulfilmentStatus::ReadyForPickup
                && expected != Some(hash_secret(code).as_str())
            {
                return Err(OrderFailure::PickupCodeMismatch);
            }
            FulfilmentEvent::HandOver
        }
        FulfilmentStep::Cancel => FulfilmentEvent::Cancel,
        FulfilmentStep::ReportMissing { lines } => FulfilmentEvent::ReportMissing {
            lines: lines.clone(),
        },
        FulfilmentStep::ReceiveAtStore => FulfilmentEvent::ReceiveAtStore,
    };

    let before = fulfilments[at].fulfilment.clone();
    let effects = fulfilments[at].fulfilment.apply(&doc.order, &event, &ctx)?;
    let mut extra = NotificationExtra {
        location: Some(location_label),
        ..NotificationExtra::default()
    };
    match step {
        FulfilmentStep::MarkReady => {
            if before.handover {
                let code = new_pickup_code();
                fulfilments[at].pickup_code_hash = Some(hash_secret(&code));
                pickup_code = Some(code);
            } else {
                fulfilments[at].tracking = Some(crate::label::tracking_number(fulfilment_id));
            }
        }
        FulfilmentStep::Ship { tracking } => {
            if let Some(t) = tracking {
                fulfilments[at].tracking = Some(t.clone());
            } else if fulfilments[at].tracking.is_none() {
                fulfilments[at].tracking = Some(crate::label::tracking_number(fulfilment_id));
            }
            // Shipped: the units leave the location.
            index_rows.extend(move_units(&mut tx, &before, UnitsGo::Out, seq).await?);
        }
        FulfilmentStep::ReceiveAtStore => {
            let code = new_pickup_code();
            fulfilments[at].pickup_code_hash = Some(hash_secret(&code));
            pickup_code = Some(code);
        }
        FulfilmentStep::HandOver { .. } => {
            index_rows.extend(move_units(&mut tx, &before, UnitsGo::Out, seq).await?);
        }
        FulfilmentStep::Cancel => {
            index_rows.extend(move_units(&mut tx, &before, UnitsGo::BackToShelf, seq).await?);
        }
        FulfilmentStep::ReportMissing { lines } => {
            let outcome =
                report_missing(state, &mut tx, &mut doc, &before, lines, now, seq).await?;
            let Some(outcome) = outcome else {
                tx.rollback().await?;
                return Ok(None);
            };
            index_rows.extend(outcome.rows);
            // In the reader's language if asked (staff), else the customer's.
            let language = language.unwrap_or(doc.customer.language);
            explanation = explain(&outcome.plan.trace, lang(language));
            unservable = outcome.plan.unservable.clone();
            doc.unservable
                .extend(outcome.plan.unservable.iter().cloned());
            doc.traces.push(outcome.plan.trace.clone());
            for (fulfilment, _) in new_fulfilments(state, &mut doc, &outcome.plan) {
                rerouted.push(fulfilment);
            }
            for fulfilment in &rerouted {
                write_new_fulfilment(&mut tx, fulfilment, seq).await?;
            }
        }
        FulfilmentStep::StartPreparation => {}
    }
    let tracking_text = fulfilments[at].tracking.clone();
    extra.pickup_code = pickup_code.as_deref();
    extra.tracking = tracking_text.as_deref();
    messages_from(&doc, &effects, &extra, &mut messages)?;

    // Re-orchestrated units: the order is allocated again (fully or not).
    if !rerouted.is_empty() || !unservable.is_empty() {
        let transition = order_transition(
            &doc.order,
            doc.status,
            &OrderEvent::Allocate {
                complete: doc.unservable.is_empty(),
            },
            &ctx,
        )?;
        doc.status = transition.to;
        messages_from(
            &doc,
            &transition.effects,
            &NotificationExtra::default(),
            &mut messages,
        )?;
    }
    fulfilments.extend(rerouted.iter().cloned());
    store::insert_messages(&mut tx, backend, &order_id, &messages, now_ms).await?;
    messages = NewMessages::default();
    finish_order_if_done(&mut tx, &mut doc, &fulfilments, &ctx, &mut messages).await?;
    store::insert_messages(&mut tx, backend, &order_id, &messages, now_ms).await?;

    let fulfilment = &fulfilments[at];
    store::update_fulfilment(
        &mut tx,
        fulfilment_id,
        fulfilment_status_name(fulfilment.fulfilment.status),
        fulfilment.fulfilment.current_location().as_str(),
        &serde_json::to_string(fulfilment).map_err(internal)?,
        seq,
    )
    .await?;
    store::update_order(
        &mut tx,
        &order_id,
        status_name(doc.status),
        &serde_json::to_string(&doc).map_err(internal)?,
        seq,
    )
    .await?;
    let result = StepResult {
        fulfilment: fulfilment_view(fulfilment),
        order_status: doc.status,
        rerouted: rerouted.iter().map(fulfilment_view).collect(),
        unservable,
        explanation,
    };
    if let Some(slot) = slot {
        let body = serde_json::to_string(&result).map_err(internal)?;
        slot.keep(&mut tx, 200, &body, now_ms).await?;
    }
    tx.commit().await?;
    apply_to_index(state, &index_rows, &[]);
    Ok(Some(result))
}

/// Ends an order change (cancellation, return): its messages and new
/// document are written, the transaction committed, the moved stock
/// applied to the index.
async fn commit_order_change(
    state: &AppState,
    mut tx: crate::storage::WriteTx,
    doc: &OrderDoc,
    messages: &NewMessages,
    index_rows: &[StockRow],
    seq: i64,
    now: Timestamp,
) -> Result<(), OrderFailure> {
    let order_id = doc.order.id.as_str();
    let backend = state.storage.backend();
    store::insert_messages(&mut tx, backend, order_id, messages, now.as_millisecond()).await?;
    store::update_order(
        &mut tx,
        order_id,
        status_name(doc.status),
        &serde_json::to_string(doc).map_err(internal)?,
        seq,
    )
    .await?;
    tx.commit().await?;
    apply_to_index(state, index_rows, &[]);
    Ok(())
}

/// Where a fulfilment's units go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitsGo {
    /// Shipped or handed over: on hand and reserved go down.
    Out,
    /// Cancelled: the reservation is released, the units stay.
    BackToShelf,
}

/// Moves a fulfilment's units (as they were before the step) at its
/// location; returns the new rows. A ship-to-store parcel's units left
/// their location when it shipped (the domain refuses to cancel it after):
/// handing it over at the pickup store moves nothing.
async fn move_units(
    tx: &mut Tx,
    fulfilment: &Fulfilment,
    go: UnitsGo,
    seq: i64,
) -> Result<Vec<StockRow>, OrderFailure> {
    if !fulfilment.holds_units() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::with_capacity(fulfilment.lines.len());
    for line in &fulfilment.lines {
        let q = i64::from(line.quantity.get());
        let on_hand_delta = match go {
            UnitsGo::Out => -q,
            UnitsGo::BackToShelf => 0,
        };
        let (on_hand, reserved) = store::adjust_stock(
            tx,
            line.sku.as_str(),
            fulfilment.location.as_str(),
            on_hand_delta,
            -q,
            seq,
        )
        .await?;
        rows.push(stock_row_of(
            &line.sku,
            &fulfilment.location,
            on_hand,
            reserved,
        )?);
    }
    Ok(rows)
}

/// When every fulfilment is final, the order completes (something was
/// handed over or shipped: the shipping fee is captured, the rest voided)
/// or is cancelled (nothing was).
async fn finish_order_if_done(
    tx: &mut Tx,
    doc: &mut OrderDoc,
    fulfilments: &[FulfilmentDoc],
    ctx: &EventContext,
    messages: &mut NewMessages,
) -> Result<(), OrderFailure> {
    if doc.status.is_final() || !fulfilments.iter().all(|f| f.fulfilment.status.is_final()) {
        return Ok(());
    }
    let delivered = fulfilments.iter().any(|f| {
        matches!(
            f.fulfilment.status,
            FulfilmentStatus::Shipped | FulfilmentStatus::PickedUp
        )
    });
    let captured = Money::new(
        store::captured_minor(tx, doc.order.id.as_str()).await?,
        doc.order.currency,
    );
    let event = if delivered {
        OrderEvent::Complete { captured }
    } else {
        OrderEvent::Cancel { captured }
    };
    let transition = order_transition(&doc.order, doc.status, &event, ctx)?;
    doc.status = transition.to;
    let mut effects = transition.effects;
    // The customer heard about the fulfilments already; completion adds
    // payments and an event, not another message.
    if delivered {
        effects.notifications.clear();
    }
    messages_from(doc, &effects, &NotificationExtra::default(), messages)
}

/// What a missing-items report changed.
struct MissingOutcome {
    plan: Plan,
    rows: Vec<StockRow>,
}

#[allow(clippy::too_many_arguments)]
async fn report_missing(
    state: &AppState,
    tx: &mut Tx,
    doc: &mut OrderDoc,
    before: &Fulfilment,
    found: &[oms_domain::lifecycle::LineFound],
    now: Timestamp,
    seq: i64,
) -> Result<Option<MissingOutcome>, OrderFailure> {
    let mut report = before.missing_report(found);
    // Units of the same products already picked here for other fulfilments
    // are still on the shelf count (see the domain's stock correction).
    let waiting = store::fulfilments_at(
        tx,
        before.location.as_str(),
        &["ready_for_pickup", "ready_to_ship"],
    )
    .await?;
    let mut set_aside: HashMap<Sku, u32> = HashMap::new();
    for record in waiting.iter().filter(|r| r.id != before.id.as_str()) {
        let other = parse_fulfilment(&record.document)?;
        // A parcel received from elsewhere is not on this shelf's count.
        if !other.fulfilment.holds_units() {
            continue;
        }
        for line in &other.fulfilment.lines {
            if report
                .lines
                .iter()
                .any(|l| doc.order.line(l.line).is_ok_and(|ol| ol.sku == line.sku))
            {
                *set_aside.entry(line.sku.clone()).or_default() += line.quantity.get();
            }
        }
    }
    report.set_aside = set_aside
        .into_iter()
        .map(|(sku, quantity)| SetAside {
            sku,
            quantity: Quantity::new(quantity),
        })
        .collect();
    let rules = active_rules(state, doc.order.channel.as_str()).await?;
    let mut skus: Vec<String> = doc
        .order
        .lines
        .iter()
        .map(|l| l.sku.as_str().to_owned())
        .collect();
    skus.sort();
    skus.dedup();
    let rows = fresh_stock(state, tx, &skus).await?;
    let (outcome, reservations) = {
        let mut cache = state.stock.write();
        for row in &rows {
            cache.index.apply(row).map_err(internal)?;
        }
        let outcome = reorchestrate(
            &doc.order,
            &report,
            &doc.missing_reports,
            &cache.index,
            &rules,
            now,
        )
        .map_err(|e| OrderFailure::Invalid(e.to_string()))?;
        let reservations = reservations_of(&outcome.plan, &cache.index);
        (outcome, reservations)
    };
    let mut index_rows = Vec::new();
    for correction in &outcome.corrections {
        store::set_stock(
            tx,
            correction.sku.as_str(),
            correction.location.as_str(),
            correction.on_hand_after,
            i64::from(correction.reserved_after.get()),
            seq,
        )
        .await?;
        index_rows.push(correction.row());
    }
    let Some(reserved) = store::reserve_many(tx, &reservations, seq).await? else {
        return Ok(None);
    };
    index_rows.extend(reserved_rows(reserved)?);
    doc.missing_reports.push(report);
    Ok(Some(MissingOutcome {
        plan: outcome.plan,
        rows: index_rows,
    }))
}

// ---- cancellation ---------------------------------------------------------------

/// Cancels an order: every open fulfilment is cancelled (its reservation
/// released) and the authorisation voided. Refused once anything was
/// captured.
pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
    request: &CancelOrder,
    slot: Option<&AnswerSlot>,
) -> Result<OrderView, OrderFailure> {
    if let Some(reason) = &request.reason
        && reason.chars().count() > 500
    {
        return Err(OrderFailure::Invalid(
            "reason has at most 500 characters".into(),
        ));
    }
    if request.lines.len() > MAX_ORDER_LINES {
        return Err(OrderFailure::Invalid(format!(
            "an order has at most {MAX_ORDER_LINES} lines"
        )));
    }
    let mut tx = state.storage.begin_write().await?;
    let Locked {
        mut doc,
        mut fulfilments,
    } = lock_order_of(state, &mut tx, order_id).await?;
    check_order_access(caller, &doc, &fulfilments)?;
    let now = Timestamp::now();
    let ctx = EventContext {
        at: now,
        actor: actor(caller),
    };
    let seq = crate::storage::next_change_seqs(&mut tx, 1).await?;
    let mut messages = NewMessages::default();
    let mut index_rows = Vec::new();
    if !request.lines.is_empty() {
        let (messages, index_rows) = cancel_lines(
            &mut tx,
            &mut doc,
            &mut fulfilments,
            &request.lines,
            &ctx,
            seq,
        )
        .await?;
        if let Some(slot) = slot {
            let view = order_view(&doc, &fulfilments, Vec::new(), None, Detail::Summary);
            let body = serde_json::to_string(&view).map_err(internal)?;
            slot.keep(&mut tx, 200, &body, now.as_millisecond()).await?;
        }
        commit_order_change(state, tx, &doc, &messages, &index_rows, seq, now).await?;
        return load_view(state, caller, order_id, None).await;
    }
    let captured = Money::new(
        store::captured_minor(&mut tx, order_id).await?,
        doc.order.currency,
    );
    if doc.status.is_final() {
        return Err(OrderFailure::Conflict(format!(
            "the order is already {}",
            status_name(doc.status)
        )));
    }
    if captured.minor() > 0 {
        return Err(OrderFailure::Conflict(
            "part of the order was already shipped or handed over: cancel its open fulfilments instead"
                .into(),
        ));
    }
    for fulfilment in fulfilments.iter_mut() {
        if fulfilment.fulfilment.status.is_final() {
            continue;
        }
        let before = fulfilment.fulfilment.clone();
        let mut effects =
            fulfilment
                .fulfilment
                .apply(&doc.order, &FulfilmentEvent::Cancel, &ctx)?;
        // One "cancelled" message for the order, not one per fulfilment.
        effects.notifications.clear();
        messages_from(&doc, &effects, &NotificationExtra::default(), &mut messages)?;
        index_rows.extend(move_units(&mut tx, &before, UnitsGo::BackToShelf, seq).await?);
        store::update_fulfilment(
            &mut tx,
            before.id.as_str(),
            fulfilment_status_name(fulfilment.fulfilment.status),
            fulfilment.fulfilment.current_location().as_str(),
            &serde_json::to_string(&*fulfilment).map_err(internal)?,
            seq,
        )
        .await?;
    }
    let transition = order_transition(
        &doc.order,
        doc.status,
        &OrderEvent::Cancel { captured },
        &ctx,
    )?;
    doc.status = transition.to;
    messages_from(
        &doc,
        &transition.effects,
        &NotificationExtra::default(),
        &mut messages,
    )?;
    if let Some(slot) = slot {
        // Kept inside the transaction: the view without payments (they are
        // read after commit).
        let view = order_view(&doc, &fulfilments, Vec::new(), None, Detail::Summary);
        let body = serde_json::to_string(&view).map_err(internal)?;
        slot.keep(&mut tx, 200, &body, now.as_millisecond()).await?;
    }
    commit_order_change(state, tx, &doc, &messages, &index_rows, seq, now).await?;
    load_view(state, caller, order_id, None).await
}

/// Cancels some lines of an order: each open fulfilment holding them drops
/// them (the domain's `cancel_lines`; cancelled when nothing is left) and
/// their reserved units go back on the shelf. A line with no open
/// fulfilment (shipped, handed over, or cancelled already) is a conflict:
/// nothing changes. The order finishes when its last fulfilment does.
async fn cancel_lines(
    tx: &mut Tx,
    doc: &mut OrderDoc,
    fulfilments: &mut [FulfilmentDoc],
    lines: &[LineId],
    ctx: &EventContext,
    seq: i64,
) -> Result<(NewMessages, Vec<StockRow>), OrderFailure> {
    let mut messages = NewMessages::default();
    let mut index_rows = Vec::new();
    if doc.status.is_final() {
        return Err(OrderFailure::Conflict(format!(
            "the order is already {}",
            status_name(doc.status)
        )));
    }
    for (i, line) in lines.iter().enumerate() {
        if lines[..i].contains(line) {
            return Err(OrderFailure::Invalid(format!("line {line} is named twice")));
        }
        if !doc.order.lines.iter().any(|l| l.id == *line) {
            return Err(OrderFailure::Invalid(format!(
                "the order has no line {line}"
            )));
        }
        let open = fulfilments.iter().any(|f| {
            !f.fulfilment.status.is_final() && f.fulfilment.lines.iter().any(|l| l.line == *line)
        });
        if !open {
            return Err(OrderFailure::Conflict(format!(
                "line {line} has no unit left to cancel (shipped, handed over or cancelled already)"
            )));
        }
    }
    for fulfilment in fulfilments.iter_mut() {
        if fulfilment.fulfilment.status.is_final() {
            continue;
        }
        let here: Vec<LineId> = lines
            .iter()
            .copied()
            .filter(|line| fulfilment.fulfilment.lines.iter().any(|l| l.line == *line))
            .collect();
        if here.is_empty() {
            continue;
        }
        let before = fulfilment.fulfilment.clone();
        let effects = fulfilment.fulfilment.apply(
            &doc.order,
            &FulfilmentEvent::CancelLines {
                lines: here.clone(),
            },
            ctx,
        )?;
        messages_from(doc, &effects, &NotificationExtra::default(), &mut messages)?;
        // Only the cancelled lines' units leave the reservation.
        let mut released = before.clone();
        released.lines.retain(|l| here.contains(&l.line));
        index_rows.extend(move_units(tx, &released, UnitsGo::BackToShelf, seq).await?);
        store::update_fulfilment(
            tx,
            before.id.as_str(),
            fulfilment_status_name(fulfilment.fulfilment.status),
            fulfilment.fulfilment.current_location().as_str(),
            &serde_json::to_string(&*fulfilment).map_err(internal)?,
            seq,
        )
        .await?;
    }
    // Units of these lines nobody could serve are not owed any more.
    doc.unservable.retain(|u| !lines.contains(&u.line));
    finish_order_if_done(tx, doc, fulfilments, ctx, &mut messages).await?;
    Ok((messages, index_rows))
}

// ---- returns --------------------------------------------------------------------

/// How much of the shipping fee a return refunds: all of it with the return
/// that brings everything back.
const SHIPPING_REFUND: ShippingRefundPolicy = ShippingRefundPolicy::WhenFullyReturned;

/// Receives a return at a location: the domain computes the refund and the
/// restock; the refund instruction, events, the customer's "refunded"
/// message and the stock movement are written in one transaction.
pub async fn receive_return(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
    request: &ReceiveReturn,
    slot: Option<&AnswerSlot>,
) -> Result<ReturnView, OrderFailure> {
    if !caller.may_access_store(request.location.as_str()) {
        return Err(OrderFailure::Forbidden(format!(
            "this device may not take returns for `{}`",
            request.location
        )));
    }
    let location = state
        .stock
        .read()
        .index
        .location(&request.location)
        .cloned()
        .ok_or_else(|| OrderFailure::NotFound {
            kind: "location",
            id: request.location.as_str().to_owned(),
        })?;
    let mut tx = state.storage.begin_write().await?;
    let Locked {
        mut doc,
        fulfilments,
    } = lock_order_of(state, &mut tx, order_id).await?;
    let delivered: Vec<UnitRange> = fulfilments
        .iter()
        .filter(|f| {
            matches!(
                f.fulfilment.status,
                FulfilmentStatus::Shipped | FulfilmentStatus::PickedUp
            )
        })
        .flat_map(|f| {
            f.fulfilment.lines.iter().map(|l| UnitRange {
                line: l.line,
                first_unit: l.first_unit,
                quantity: l.quantity,
            })
        })
        .collect();
    let history = ReturnHistory {
        delivered,
        returned: doc
            .returns
            .iter()
            .flat_map(|r| r.lines.iter().flat_map(|l| l.units.iter().cloned()))
            .collect(),
        shipping_refunded: doc.returns.iter().any(|r| r.shipping_refund.minor() > 0),
    };
    let id = ReturnId::parse(format!("{}-R{}", doc.order.id, doc.returns.len() + 1))
        .map_err(internal)?;
    let now = Timestamp::now();
    let ctx = EventContext {
        at: now,
        actor: actor(caller),
    };
    let return_request = ReturnRequest {
        id: id.clone(),
        order: doc.order.id.clone(),
        channel: doc.order.channel.clone(),
        location: request.location.clone(),
        lines: request.lines.clone(),
    };
    let outcome = process_return(
        &doc.order,
        &return_request,
        &location,
        &history,
        SHIPPING_REFUND,
        &ctx,
    )
    .map_err(|e| match e {
        ReturnError::TooManyUnits { .. } | ReturnError::LocationDoesNotAcceptReturns(_) => {
            OrderFailure::Conflict(e.to_string())
        }
        other => OrderFailure::Invalid(other.to_string()),
    })?;
    let seq = crate::storage::next_change_seqs(&mut tx, 1).await?;
    let mut index_rows = Vec::new();
    for movement in &outcome.stock_movements {
        // Quarantined items stay out of the sellable stock.
        if movement.to == Restock::Sellable {
            let (on_hand, reserved) = store::adjust_stock(
                &mut tx,
                movement.sku.as_str(),
                movement.location.as_str(),
                i64::from(movement.quantity.get()),
                0,
                seq,
            )
            .await?;
            index_rows.push(stock_row_of(
                &movement.sku,
                &movement.location,
                on_hand,
                reserved,
            )?);
        }
    }
    let amount_text = outcome.total_refund.to_string();
    let mut messages = NewMessages::default();
    messages_from(
        &doc,
        &outcome.effects,
        &NotificationExtra {
            location: Some(location.name.clone()),
            amount: Some(&amount_text),
            ..NotificationExtra::default()
        },
        &mut messages,
    )?;
    let view = ReturnView {
        id: outcome.id.clone(),
        order: outcome.order.clone(),
        location: request.location.clone(),
        lines: outcome.lines.clone(),
        shipping_refund: outcome.shipping_refund,
        total_refund: outcome.total_refund,
        stock_movements: outcome.stock_movements.clone(),
        received_at: now.to_string(),
    };
    doc.returns.push(view.clone());
    if let Some(slot) = slot {
        let body = serde_json::to_string(&view).map_err(internal)?;
        slot.keep(&mut tx, 201, &body, now.as_millisecond()).await?;
    }
    commit_order_change(state, tx, &doc, &messages, &index_rows, seq, now).await?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oms_domain::demo::{self, DemoSize};
    use serde_json::json;

    async fn demo_state(dir: &std::path::Path) -> AppState {
        crate::open(&crate::Config {
            database: crate::DatabaseLocation::SqliteFile(dir.join("oms.sqlite")),
            demo: Some(crate::DemoSpec {
                size: DemoSize::Small,
                seed: 42,
            }),
            demo_template: None,
            bootstrap_admin_token: None,
            outbox: crate::OutboxConfig::default(),
            footprint: crate::Footprint::Server,
        })
        .await
        .expect("a demo server")
    }

    fn web_order(customer: &str, sku: &str) -> PlaceOrder {
        serde_json::from_value(json!({
            "channel": "web-fr",
            "delivery": "home_delivery",
            "destination": {"address": {"coordinates": {"lat": 48.857, "lon": 2.380},
                "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"}},
            "customer": {"name": customer, "email": "client@example.com"},
            "lines": [{"sku": sku, "quantity": 1}],
            "payment": "gateway",
            "accept_partial": true,
        }))
        .expect("an order request")
    }

    #[test]
    fn order_numbers_sort_by_their_time() {
        let at = |ms: i64| Timestamp::from_millisecond(ms).expect("a time");
        let epoch = ORDER_NUMBER_EPOCH_MS;
        let times = [
            epoch,
            epoch + 1,
            epoch + 30,
            epoch + 31,
            epoch + 86_400_000,
            epoch + 365 * 86_400_000,
            epoch + ORDER_NUMBER_SPAN_MS - 1,
        ];
        let numbers: Vec<String> = times
            .iter()
            .map(|&ms| order_number(at(ms), "ZZZ"))
            .collect();
        for pair in numbers.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
        // The suffix decides only within one millisecond.
        assert!(order_number(at(epoch + 5), "ZZZ") < order_number(at(epoch + 6), "222"));
        for number in &numbers {
            assert_eq!(number.len(), 2 + 8 + 3, "{number}");
            assert!(
                number[2..]
                    .bytes()
                    .all(|b| crate::auth::READABLE_ALPHABET.contains(&b))
            );
            assert!(OrderId::parse(number.clone()).is_ok(), "{number}");
        }
        assert_eq!(order_number(at(epoch), "222"), "O-22222222222");
        // After 31⁸ ms the time characters start over; before 2026 they
        // count back from the top: never a panic or a longer number.
        assert_eq!(
            order_number(at(epoch + ORDER_NUMBER_SPAN_MS), "222"),
            "O-22222222222"
        );
        assert_eq!(order_number(at(epoch - 1), "222"), "O-ZZZZZZZZ222");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_taken_order_number_is_replaced_before_the_next_attempt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = demo_state(dir.path()).await;
        let caller = Caller {
            role: Role::Integration,
            store: None,
            label: "test".into(),
            device: None,
        };
        // The first SKU of the demo that can be served twice.
        let catalogue = demo::catalogue(42, DemoSize::Small);
        let mut placed = None;
        for product in catalogue.iter().filter(|p| p.product_type == "standard") {
            let answer = place(&state, &caller, None, &web_order("First", &product.sku))
                .await
                .expect("an answer");
            if answer.status == 201 {
                placed = Some((product.sku.clone(), answer));
                break;
            }
        }
        let (sku, first) = placed.expect("a demo SKU in stock");
        let first: OrderView = serde_json::from_str(&first.body).expect("an order");

        // A second order drawn with the first one's number, as two random
        // numbers can be.
        let mut prepared = prepare(&state, &web_order("Second", &sku))
            .await
            .expect("a checked order");
        prepared.order.id = first.id.clone();
        let second = place_prepared(&state, &caller, None, None, prepared)
            .await
            .expect("placed under another number");
        assert_eq!(second.status, 201, "{}", second.body);
        let second: OrderView = serde_json::from_str(&second.body).expect("an order");
        assert_ne!(second.id, first.id);
        assert_eq!(second.customer.name, "Second");
        let kept = load_view(&state, &caller, first.id.as_str(), None)
            .await
            .expect("the first order");
        assert_eq!(kept.customer.name, "First");
        state.storage.close().await;
    }
}

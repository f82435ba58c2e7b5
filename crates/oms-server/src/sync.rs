//! The core's side of device sync (DESIGN.md "Sync between the app and the
//! core"): exactly-once application of device mutations, carry-out sales and
//! the store tasks they may open.
//!
//! **Exactly once.** A device numbers its mutations gaplessly from 1. Each is
//! applied by the same code as the HTTP endpoint, which keeps its answer
//! (applied or refused) under `("device:<id>", "<mutation id>")` in the
//! idempotency table **in the transaction of its effect**; only then is the
//! device's `last_mutation_id` moved on. A retry, a duplicate or a crash
//! between the two finds the kept answer and applies nothing twice; two
//! pushes racing with the same mutation collide on the table's primary key
//! and the loser reads the winner's answer. A business refusal is an answer
//! like any other, kept and given back on every retry. A mutation whose
//! predecessor was never applied is a gap: the whole push is refused.

use std::collections::BTreeMap;

use jiff::Timestamp;
use oms_api::wire::{
    CarryOutSale, Discrepancy, Intent, MAX_ORDER_LINES, MAX_PUSH_MUTATIONS, MutationResult,
    Problem, PushRequest, PushResponse, SaleLineView, SaleView, StoreTask, TaskKind,
};
use oms_domain::model::{ChannelKind, LocationId, LocationKind, Money, Sku};

use crate::AppState;
use crate::auth::Caller;
use crate::notify::{self, Details, RenderedNotification};
use crate::orders::{
    self, AnswerSlot, DeviceOrigin, OrderFailure, Prepared, Refusal, apply_to_index, internal,
    stock_row_of,
};
use crate::storage;
use crate::storage::orders::{self as store, Tx};

/// How far in the past a sale rung up offline may be dated.
const MAX_SALE_AGE_DAYS: i64 = 30;

/// Why a push was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum PushFailure {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    /// The first new mutation does not follow the last applied one.
    #[error(
        "mutation {got} does not follow the last applied mutation {last_applied}: push from {} on",
        last_applied + 1
    )]
    Gap { last_applied: u64, got: u64 },
    /// Applying a mutation failed for a reason that is not the request's
    /// (storage, contention): retry the push later.
    #[error(transparent)]
    Order(OrderFailure),
}

/// Turns a business refusal into the problem+json body kept for it; gives
/// back the failures that must not be kept (storage, contention, bugs: the
/// device retries). Passed in by the HTTP layer, which owns the mapping.
pub type RefusalProblem = fn(OrderFailure) -> Result<Problem, OrderFailure>;

/// Applies a device's mutations in order (see the module documentation).
pub async fn push(
    state: &AppState,
    caller: &Caller,
    request: &PushRequest,
    refusal_problem: RefusalProblem,
) -> Result<PushResponse, PushFailure> {
    check_batch(request)?;
    let device = match (&caller.device, &caller.store) {
        (Some(device), Some(store)) if *device == request.device_id => {
            (device.clone(), store.clone())
        }
        (Some(_), _) => {
            return Err(PushFailure::Forbidden(
                "device_id is not the id this token was paired with".into(),
            ));
        }
        _ => {
            return Err(PushFailure::Forbidden(
                "only a paired store device pushes mutations (pair it with a pairing code)".into(),
            ));
        }
    };
    let (device_id, store) = device;
    let mut last_applied = state
        .storage
        .last_mutation_id(&device_id)
        .await
        .map_err(|e| PushFailure::Order(e.into()))?;
    if let Some(first) = request.mutations.first()
        && first.id > last_applied + 1
    {
        return Err(PushFailure::Gap {
            last_applied,
            got: first.id,
        });
    }
    let scope = format!("device:{device_id}");
    let mut results = Vec::with_capacity(request.mutations.len());
    for mutation in &request.mutations {
        let slot = AnswerSlot {
            scope: scope.clone(),
            key: mutation.id.to_string(),
            request_hash: intent_hash(&mutation.intent).map_err(PushFailure::Order)?,
        };
        let answer = match kept_answer(state, &slot).await {
            Ok(Some(answer)) => answer,
            Ok(None) if mutation.id <= last_applied => {
                return Err(PushFailure::Order(OrderFailure::Internal(format!(
                    "mutation {} of device {device_id} is applied but its answer is missing",
                    mutation.id
                ))));
            }
            Ok(None) => {
                let origin = DeviceOrigin {
                    store: store.clone(),
                    reference: format!("{}-{}", caller.label, mutation.id),
                };
                match apply(
                    state,
                    caller,
                    &mutation.intent,
                    &slot,
                    &origin,
                    refusal_problem,
                )
                .await
                {
                    Ok(answer) => answer,
                    // Maybe a concurrent push of the same mutation won.
                    Err(OrderFailure::Storage(e)) if store::is_conflict(&e) => {
                        match kept_answer(state, &slot).await {
                            Ok(Some(answer)) => answer,
                            Ok(None) => return Err(PushFailure::Order(OrderFailure::Storage(e))),
                            Err(other) => return Err(PushFailure::Order(other)),
                        }
                    }
                    Err(other) => return Err(PushFailure::Order(other)),
                }
            }
            Err(OrderFailure::IdempotencyMismatch) => {
                return Err(PushFailure::Invalid(format!(
                    "mutation {} was pushed before with a different intent: mutation ids are never reused",
                    mutation.id
                )));
            }
            Err(other) => return Err(PushFailure::Order(other)),
        };
        if mutation.id > last_applied {
            state
                .storage
                .advance_last_mutation(&device_id, mutation.id)
                .await
                .map_err(|e| PushFailure::Order(e.into()))?;
            last_applied = mutation.id;
        }
        results.push(MutationResult {
            id: mutation.id,
            status: answer.0,
            body: answer.1,
        });
    }
    Ok(PushResponse {
        device_id,
        last_applied,
        results,
    })
}

fn check_batch(request: &PushRequest) -> Result<(), PushFailure> {
    if request.mutations.is_empty() || request.mutations.len() > MAX_PUSH_MUTATIONS {
        return Err(PushFailure::Invalid(format!(
            "a push carries 1 to {MAX_PUSH_MUTATIONS} mutations"
        )));
    }
    // Ids are stored as SQL BIGINT.
    let max_id = i64::MAX.unsigned_abs();
    if request.mutations.iter().any(|m| m.id == 0 || m.id > max_id) {
        return Err(PushFailure::Invalid(format!(
            "mutation ids run from 1 to {max_id}"
        )));
    }
    if request
        .mutations
        .windows(2)
        .any(|pair| pair[0].id.checked_add(1) != Some(pair[1].id))
    {
        return Err(PushFailure::Invalid(
            "mutation ids in a push must be consecutive and ascending".into(),
        ));
    }
    Ok(())
}

/// The hash a mutation's answer is kept with. A placement hashes the order
/// request alone, as `POST /v1/orders` does.
fn intent_hash(intent: &Intent) -> Result<String, OrderFailure> {
    match intent {
        Intent::PlaceOrder(order) => orders::request_hash(order),
        other => orders::request_hash(other),
    }
}

/// The kept answer of a slot: `(status, body)`.
async fn kept_answer(
    state: &AppState,
    slot: &AnswerSlot,
) -> Result<Option<(u16, serde_json::Value)>, OrderFailure> {
    let Some(stored) = state
        .storage
        .stored_answer_of(&slot.scope, &slot.key)
        .await?
    else {
        return Ok(None);
    };
    if stored.request_hash != slot.request_hash {
        return Err(OrderFailure::IdempotencyMismatch);
    }
    let body = serde_json::from_str(&stored.response).map_err(internal)?;
    Ok(Some((stored.status, body)))
}

/// Applies one intent through the code of its HTTP endpoint; a business
/// refusal is kept as the answer (nothing else was written).
async fn apply(
    state: &AppState,
    caller: &Caller,
    intent: &Intent,
    slot: &AnswerSlot,
    origin: &DeviceOrigin,
    refusal_problem: RefusalProblem,
) -> Result<(u16, serde_json::Value), OrderFailure> {
    // On success the status; the body is the one kept by the effect's
    // transaction (read back below, so every retry answers the same bytes).
    let outcome: Result<u16, OrderFailure> = match intent {
        Intent::PlaceOrder(order) => {
            let key = Some((slot.scope.as_str(), slot.key.as_str()));
            match orders::place_keyed(state, caller, key, Some(origin), order).await {
                // Kept by the placement itself (answers and refusals alike).
                Ok(answer) => {
                    let body = serde_json::from_str(&answer.body).map_err(internal)?;
                    return Ok((answer.status, body));
                }
                Err(failure) => Err(failure),
            }
        }
        Intent::CarryOutSale(sale) => record_sale(state, caller, &origin.store, sale, Some(slot))
            .await
            .map(|_| 201),
        Intent::FulfilmentStep { fulfilment, step } => {
            orders::step(state, caller, fulfilment.as_str(), step, Some(slot), None)
                .await
                .map(|_| 200)
        }
        Intent::ReceiveReturn { order, receive } => {
            orders::receive_return(state, caller, order.as_str(), receive, Some(slot))
                .await
                .map(|_| 201)
        }
        Intent::CancelOrder { order, cancel } => {
            orders::cancel(state, caller, order.as_str(), cancel, Some(slot))
                .await
                .map(|_| 200)
        }
    };
    match outcome {
        Ok(status) => {
            let (_, body) = kept_answer(state, slot)
                .await?
                .ok_or_else(|| internal("an applied mutation kept no answer"))?;
            Ok((status, body))
        }
        Err(failure) => {
            let problem = refusal_problem(failure)?;
            let body = serde_json::to_string(&problem).map_err(internal)?;
            let mut tx = state.storage.begin_write().await?;
            slot.keep(
                &mut tx,
                problem.status,
                &body,
                Timestamp::now().as_millisecond(),
            )
            .await?;
            tx.commit().await?;
            let body = serde_json::from_str(&body).map_err(internal)?;
            Ok((problem.status, body))
        }
    }
}

// ---- carry-out sales ------------------------------------------------------------

/// Records a carry-out sale at a store: stock leaves the shelf at once, even
/// below what the record says is free (the goods are gone); every line that
/// went short opens a discrepancy task. One transaction, like every step.
pub async fn record_sale(
    state: &AppState,
    caller: &Caller,
    location: &LocationId,
    sale: &CarryOutSale,
    slot: Option<&AnswerSlot>,
) -> Result<SaleView, OrderFailure> {
    if !caller.may_access_store(location.as_str()) {
        return Err(OrderFailure::Forbidden(format!(
            "this device may not sell for `{location}`"
        )));
    }
    if sale.lines.is_empty() || sale.lines.len() > MAX_ORDER_LINES {
        return Err(OrderFailure::Invalid(format!(
            "a sale has 1 to {MAX_ORDER_LINES} lines"
        )));
    }
    let now = Timestamp::now();
    let sold_at = match &sale.sold_at {
        None => now,
        Some(text) => {
            let at: Timestamp = text
                .parse()
                .map_err(|e| OrderFailure::Invalid(format!("sold_at `{text}`: {e}")))?;
            let oldest = now
                .checked_sub(jiff::SignedDuration::from_hours(24 * MAX_SALE_AGE_DAYS))
                .unwrap_or(now);
            let newest = now
                .checked_add(jiff::SignedDuration::from_mins(5))
                .unwrap_or(now);
            if at > newest {
                return Err(OrderFailure::Invalid(format!(
                    "sold_at `{text}` is in the future (check the device's clock)"
                )));
            }
            if at < oldest {
                return Err(OrderFailure::Invalid(format!(
                    "sold_at `{text}` is more than {MAX_SALE_AGE_DAYS} days old"
                )));
            }
            at
        }
    };
    // Quantities per SKU (a till may scan the same item twice).
    let mut quantities: BTreeMap<Sku, u32> = BTreeMap::new();
    for line in &sale.lines {
        let quantity = line.quantity.get();
        if quantity == 0 || quantity > 10_000 {
            return Err(OrderFailure::Invalid(format!(
                "line for `{}` must hold 1 to 10,000 units",
                line.sku
            )));
        }
        *quantities.entry(line.sku.clone()).or_default() += quantity;
    }
    let (channel, currency) = {
        let cache = state.stock.read();
        let place = cache
            .index
            .location(location)
            .ok_or_else(|| OrderFailure::NotFound {
                kind: "location",
                id: location.as_str().to_owned(),
            })?;
        if place.kind != LocationKind::Store {
            return Err(OrderFailure::Invalid(format!(
                "`{location}` is not a store: carry-out sales happen at a till"
            )));
        }
        if let Some(sku) = quantities.keys().find(|s| !cache.known_skus.contains(*s)) {
            return Err(OrderFailure::NotFound {
                kind: "product",
                id: sku.as_str().to_owned(),
            });
        }
        // The store network's prices (in its currency).
        let channel = cache
            .index
            .channels()
            .iter()
            .find(|c| c.kind == ChannelKind::StoreNetwork && c.locations.contains(location))
            .ok_or_else(|| {
                OrderFailure::Invalid(format!("no store channel sells from `{location}`"))
            })?;
        (channel.id.as_str().to_owned(), channel.currency)
    };
    let skus: Vec<String> = quantities.keys().map(|s| s.as_str().to_owned()).collect();
    let prices = state
        .storage
        .prices(&channel, currency.as_str(), &skus)
        .await?;
    let mut lines = Vec::with_capacity(quantities.len());
    let mut total = 0_i64;
    for (sku, quantity) in &quantities {
        let price = *prices
            .get(sku.as_str())
            .ok_or_else(|| OrderFailure::Invalid(format!("`{sku}` has no price in {currency}")))?;
        total += price * i64::from(*quantity);
        lines.push(SaleLineView {
            sku: sku.clone(),
            quantity: *quantity,
            unit_price: Money::new(price, currency),
        });
    }
    let id = format!("SALE-{}", uuid::Uuid::new_v4().simple());

    let mut tx = state.storage.begin_write().await?;
    let seq = storage::next_change_seqs(&mut tx, 1).await?;
    let now_ms = now.as_millisecond();
    let mut index_rows = Vec::with_capacity(lines.len());
    let mut discrepancies = Vec::new();
    for line in &lines {
        let quantity = i64::from(line.quantity);
        let (on_hand, reserved) = store::adjust_stock(
            &mut tx,
            line.sku.as_str(),
            location.as_str(),
            -quantity,
            0,
            seq,
        )
        .await?;
        index_rows.push(stock_row_of(&line.sku, location, on_hand, reserved)?);
        let short_by = (reserved - on_hand).clamp(0, quantity);
        if short_by > 0 {
            discrepancies.push(Discrepancy {
                sku: line.sku.clone(),
                short_by,
            });
        }
    }
    let view = SaleView {
        id: id.clone(),
        location: location.clone(),
        lines,
        total: Money::new(total, currency),
        sold_at: sold_at.to_string(),
        discrepancies,
    };
    for discrepancy in &view.discrepancies {
        let message = format!(
            "Sale {id} took {} unit(s) of {} more than the stock record had free here: count the shelf and correct the stock.",
            discrepancy.short_by, discrepancy.sku
        );
        let task = StoreTask {
            sku: Some(discrepancy.sku.clone()),
            ..new_task(location, TaskKind::StockDiscrepancy, message, now_ms)
        };
        storage::insert_task(&mut tx, &task, seq, now_ms).await?;
    }
    let document = serde_json::to_string(&view).map_err(internal)?;
    storage::insert_sale(
        &mut tx,
        &view.id,
        location.as_str(),
        sold_at.as_millisecond(),
        &document,
    )
    .await?;
    if let Some(slot) = slot {
        slot.keep(&mut tx, 201, &document, now_ms).await?;
    }
    tx.commit().await?;
    apply_to_index(state, &index_rows, &[]);
    tracing::info!(sale = %id, location = %location, by = %caller.label, short = view.discrepancies.len(), "carry-out sale recorded");
    Ok(view)
}

// ---- orders refused when they reached the core ----------------------------------

/// In the transaction that keeps a device order's refusal: a task for the
/// store and a "cancelled" message to the customer, who was given a receipt.
pub(crate) async fn record_refused_device_order(
    tx: &mut Tx,
    origin: &DeviceOrigin,
    prepared: &Prepared,
    refusal: &Refusal,
    seq: i64,
    now_ms: i64,
) -> Result<(), OrderFailure> {
    let reasons = if refusal.explanation.is_empty() {
        refusal.detail.clone()
    } else {
        refusal.explanation.join(" ")
    };
    let message = format!(
        "Order {} for {} could not be served when it reached the core: {reasons} Contact the customer.",
        origin.reference, prepared.customer.name
    );
    let task = new_task(
        &origin.store,
        TaskKind::OfflineOrderRefused,
        message,
        now_ms,
    );
    storage::insert_task(tx, &task, seq, now_ms).await?;
    let customer = &prepared.customer;
    if customer.email.is_some() || customer.phone.is_some() {
        let (subject, body) = notify::render(
            oms_api::wire::CustomerStatus::Cancelled,
            customer.language,
            &origin.reference,
            &Details {
                customer_name: &customer.name,
                ..Details::default()
            },
        );
        let rendered = RenderedNotification {
            order: origin.reference.clone(),
            fulfilment: None,
            kind: oms_api::wire::NotificationKind::Status,
            status: Some(oms_api::wire::CustomerStatus::Cancelled),
            language: customer.language,
            to_email: customer.email.clone(),
            to_phone: customer.phone.clone(),
            subject,
            body,
            attachments: Vec::new(),
        };
        let payload = serde_json::to_string(&rendered).map_err(internal)?;
        storage::insert_notification(tx, &origin.reference, &payload, now_ms).await?;
    }
    Ok(())
}

/// A task when a device's order is served otherwise than the store could
/// promise: partly unservable, or — collected at this store — brought in
/// (partly) from elsewhere, so the customer waits for a transfer. (An
/// endless-aisle order shipped from a warehouse is the normal case.)
pub(crate) fn changed_device_order_task(
    origin: &DeviceOrigin,
    doc: &orders::OrderDoc,
    plan: &oms_domain::orchestration::Plan,
    now_ms: i64,
) -> Option<StoreTask> {
    let collected_here = doc.order.destination.pickup_store.as_ref() == Some(&origin.store);
    let elsewhere: Vec<&str> = plan
        .fulfilments
        .iter()
        .map(|f| f.location.as_str())
        .filter(|location| collected_here && *location != origin.store.as_str())
        .collect();
    let missing: u32 = plan.unservable.iter().map(|u| u.missing).sum();
    if elsewhere.is_empty() && missing == 0 {
        return None;
    }
    let mut message = format!(
        "Order {} ({}) for {}:",
        doc.order.id, origin.reference, doc.customer.name
    );
    if !elsewhere.is_empty() {
        message.push_str(&format!(
            " brought in from {} for collection here, not taken from this shelf.",
            elsewhere.join(", ")
        ));
    }
    if missing > 0 {
        message.push_str(&format!(
            " {missing} unit(s) could not be served; tell the customer."
        ));
    }
    Some(StoreTask {
        order: Some(doc.order.id.clone()),
        ..new_task(
            &origin.store,
            TaskKind::OfflineOrderChanged,
            message,
            now_ms,
        )
    })
}

/// A new task for a store's staff, about no SKU or order yet.
fn new_task(location: &LocationId, kind: TaskKind, message: String, now_ms: i64) -> StoreTask {
    StoreTask {
        id: format!("T-{}", uuid::Uuid::new_v4().simple()),
        location: location.clone(),
        kind,
        sku: None,
        order: None,
        message,
        created_at: Timestamp::from_millisecond(now_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    }
}

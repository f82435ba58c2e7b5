//! Returns without a receipt (`POST /v1/locations/{id}/returns`): the
//! customer brings products back to a store but the order cannot be found.
//! A store manager approves with their PIN (checked by the HTTP layer with
//! the sign-in's counting and lock-out before this runs); the refund is the
//! store channel's price, paid in cash or as store credit at the counter.
//! Resaleable units go back on hand at the store, damaged ones are
//! quarantined (not counted), in the transaction that records the return
//! and keeps its answer under the `Idempotency-Key`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use oms_api::wire::{
    ItemCondition, MAX_ORDER_LINES, StaffMember, UnreceiptedReturn, UnreceiptedReturnLineView,
    UnreceiptedReturnView,
};
use oms_domain::model::{ChannelKind, LocationId, LocationKind, Money};

use crate::AppState;
use crate::auth::Caller;
use crate::orders::{AnswerSlot, OrderFailure, apply_to_index, internal, stock_row_of};
use crate::storage::orders::{self as store};
use crate::storage::{self, StoreReturnRow};

/// Most units of one line (a counter return, not a pallet).
pub const MAX_RETURN_UNITS: u32 = 999;

/// Checks what can be checked without the database: lines, quantities,
/// the member who took it. Called before the manager's PIN is tried, so a
/// bad request never costs the manager an attempt.
pub fn validate(request: &UnreceiptedReturn) -> Result<(), OrderFailure> {
    if request.lines.is_empty() || request.lines.len() > MAX_ORDER_LINES {
        return Err(OrderFailure::Invalid(format!(
            "a return has 1 to {MAX_ORDER_LINES} lines"
        )));
    }
    if let Some(line) = request
        .lines
        .iter()
        .find(|l| l.quantity == 0 || l.quantity > MAX_RETURN_UNITS)
    {
        return Err(OrderFailure::Invalid(format!(
            "the line for `{}` must hold 1 to {MAX_RETURN_UNITS} units",
            line.sku
        )));
    }
    if let Some(taken_by) = &request.taken_by
        && (taken_by.trim().is_empty() || taken_by.len() > 100)
    {
        return Err(OrderFailure::Invalid(
            "taken_by is a member of staff's id".to_owned(),
        ));
    }
    Ok(())
}

/// The store channel selling from `location`, with its currency; checks the
/// location is a store that accepts returns and the SKUs exist.
fn store_channel(
    state: &AppState,
    location: &LocationId,
    request: &UnreceiptedReturn,
) -> Result<(String, oms_domain::model::Currency), OrderFailure> {
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
            "`{location}` is not a store: returns without receipt are taken at a counter"
        )));
    }
    if !place.capabilities.accept_returns {
        return Err(OrderFailure::Conflict(format!(
            "location `{location}` does not accept returns"
        )));
    }
    if let Some(line) = request
        .lines
        .iter()
        .find(|l| !cache.known_skus.contains(&l.sku))
    {
        return Err(OrderFailure::NotFound {
            kind: "product",
            id: line.sku.as_str().to_owned(),
        });
    }
    let channel = cache
        .index
        .channels()
        .iter()
        .find(|c| c.kind == ChannelKind::StoreNetwork && c.locations.contains(location))
        .ok_or_else(|| {
            OrderFailure::Invalid(format!("no store channel sells from `{location}`"))
        })?;
    Ok((channel.id.as_str().to_owned(), channel.currency))
}

/// Checks the store, the products and their prices before the manager's PIN
/// is tried (a request that cannot be recorded never costs an attempt).
pub fn precheck(
    state: &AppState,
    caller: &Caller,
    location: &LocationId,
    request: &UnreceiptedReturn,
) -> Result<(), OrderFailure> {
    if !caller.may_access_store(location.as_str()) {
        return Err(OrderFailure::Forbidden(format!(
            "this device may not take returns for `{location}`"
        )));
    }
    validate(request)?;
    store_channel(state, location, request).map(|_| ())
}

/// Records an approved return without receipt (see the module
/// documentation). `approved_by` is a store manager of `location` whose PIN
/// the caller has verified.
pub async fn record(
    state: &AppState,
    caller: &Caller,
    location: &LocationId,
    request: &UnreceiptedReturn,
    approved_by: StaffMember,
    slot: Option<&AnswerSlot>,
) -> Result<UnreceiptedReturnView, OrderFailure> {
    precheck(state, caller, location, request)?;
    if approved_by.store != location.as_str()
        || approved_by.role != oms_api::wire::Role::StoreManager
    {
        return Err(OrderFailure::Forbidden(
            "a return without receipt needs the approval of a manager of this store".to_owned(),
        ));
    }
    let (channel, currency) = store_channel(state, location, request)?;
    let skus: Vec<String> = request
        .lines
        .iter()
        .map(|l| l.sku.as_str().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let prices = state
        .storage
        .prices(&channel, currency.as_str(), &skus)
        .await?;
    let mut lines = Vec::with_capacity(request.lines.len());
    let mut total = 0_i64;
    for line in &request.lines {
        let price = *prices.get(line.sku.as_str()).ok_or_else(|| {
            OrderFailure::Invalid(format!("`{}` has no price in {currency}", line.sku))
        })?;
        let refund = price * i64::from(line.quantity);
        total += refund;
        lines.push(UnreceiptedReturnLineView {
            sku: line.sku.clone(),
            quantity: line.quantity,
            reason: line.reason,
            condition: line.condition,
            unit_price: Money::new(price, currency),
            refund: Money::new(refund, currency),
            restocked: line.condition == ItemCondition::Resaleable,
        });
    }
    let now = Timestamp::now();
    let now_ms = now.as_millisecond();
    let id = format!("RET-{}", crate::auth::readable_code(10));
    let view = UnreceiptedReturnView {
        id: id.clone(),
        location: location.clone(),
        lines,
        total_refund: Money::new(total, currency),
        refund_method: request.refund_method,
        approved_by,
        taken_by: request.taken_by.as_ref().map(|t| t.trim().to_owned()),
        received_at: now.to_string(),
    };
    let document = serde_json::to_string(&view).map_err(internal)?;
    let method = match request.refund_method {
        oms_api::wire::RefundMethod::Cash => "cash",
        oms_api::wire::RefundMethod::StoreCredit => "store_credit",
    };

    let mut tx = state.storage.begin_write().await?;
    let seq = storage::next_change_seqs(&mut tx, 1).await?;
    let mut index_rows = Vec::new();
    for line in view.lines.iter().filter(|l| l.restocked) {
        let (on_hand, reserved) = store::adjust_stock(
            &mut tx,
            line.sku.as_str(),
            location.as_str(),
            i64::from(line.quantity),
            0,
            seq,
        )
        .await?;
        index_rows.push(stock_row_of(&line.sku, location, on_hand, reserved)?);
    }
    storage::insert_store_return(
        &mut tx,
        &StoreReturnRow {
            id: &id,
            location: location.as_str(),
            approved_by: &view.approved_by.id,
            taken_by: view.taken_by.as_deref(),
            refund_method: method,
            refund_minor: total,
            currency: currency.as_str(),
            received_at_ms: now_ms,
            document: &document,
        },
    )
    .await?;
    if let Some(slot) = slot {
        slot.keep(&mut tx, 201, &document, now_ms).await?;
    }
    tx.commit().await?;
    apply_to_index(state, &index_rows, &[]);
    tracing::info!(
        return_id = %id,
        location = %location,
        approved_by = %view.approved_by.id,
        taken_by = view.taken_by.as_deref().unwrap_or("-"),
        refund_minor = total,
        by = %caller.label,
        "return without receipt recorded"
    );
    Ok(view)
}

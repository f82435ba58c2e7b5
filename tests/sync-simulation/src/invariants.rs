//! What must hold once the faults have stopped and every device has synced
//! to quiescence, whatever the interleaving was:
//!
//! 1. every outbox is empty (nothing pending);
//! 2. every action was applied exactly once or refused once: each applied
//!    order exists once on the server (found by its unique customer name),
//!    a refused one does not exist; each order has as many returns as were
//!    applied for it; no fulfilment step was applied twice;
//! 3. every refusal is visible on its device with the core's reason, and a
//!    device order refused on arrival left a task for its store;
//! 4. the stock ledger balances for every (location, SKU) the day touched:
//!    initial − carry-out sales − units shipped or handed over + units
//!    returned as resaleable = final on hand, and reserved = initial + units
//!    of open fulfilments; every sale that went short opened a discrepancy
//!    task, and every negative shelf has one;
//! 5. every device's cache equals the server's view of its store: stock
//!    rows, fulfilments and tasks, with no optimistic effect left over.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aisle_sync::{OutboxEntry, OutboxStatus};
use oms_api::OmsClient;
use oms_api::wire::{
    FulfilmentStatus, FulfilmentStep, FulfilmentView, Intent, OrderQuery, OrderView, SaleView,
    StoreTask, TaskKind,
};
use oms_domain::returns::Restock;
use sqlx::Row;

use crate::{Device, RawClient, SimReport};

pub type Key = (String, String); // (location, sku)

/// Checks everything; returns the violations found (empty: all good).
pub async fn check(
    devices: &[Device],
    admin: &OmsClient,
    raw: &RawClient,
    stores: &[String; 2],
    initial: &HashMap<Key, (i64, i64)>,
    report: &mut SimReport,
) -> anyhow::Result<Vec<String>> {
    let mut violations = Vec::new();
    let mut server_tasks: HashMap<String, Vec<StoreTask>> = HashMap::new();
    for store in stores {
        let tasks: Vec<StoreTask> = serde_json::from_value(
            raw.get(&format!("/v1/locations/{store}/tasks?limit=500"))
                .await?,
        )?;
        if tasks.len() >= 500 {
            violations.push(format!(
                "{store} has 500 tasks or more: the check cannot see them all"
            ));
        }
        server_tasks.insert(store.clone(), tasks);
    }

    let mut sold: HashMap<Key, i64> = HashMap::new();
    let mut touched_skus: BTreeSet<String> = BTreeSet::new();
    let mut orders: BTreeMap<String, OrderView> = BTreeMap::new();
    let mut applied_returns: HashMap<String, usize> = HashMap::new();
    let mut applied_steps: HashMap<(String, String), usize> = HashMap::new();

    for device in devices {
        let cache = device.engine()?.cache();
        let counts = cache.counts().await?;
        if counts.outbox_pending != 0 {
            violations.push(format!(
                "{}: {} action(s) still pending after quiescence",
                device.label, counts.outbox_pending
            ));
        }
        let entries: Vec<OutboxEntry> = cache.outbox(100_000).await?;
        let ids: BTreeSet<u64> = entries.iter().map(|e| e.mutation_id).collect();
        if ids.len() != entries.len()
            || ids.first() != Some(&1)
            || ids.last() != Some(&(ids.len() as u64))
        {
            violations.push(format!("{}: outbox ids are not 1..=n", device.label));
        }
        let cached_tasks = cache.tasks().await?;
        for entry in &entries {
            match entry.status {
                OutboxStatus::Pending => continue,
                OutboxStatus::Applied => report.applied += 1,
                OutboxStatus::Refused => {
                    report.refused += 1;
                    let reason: String = entry
                        .refusal_message()
                        .unwrap_or_default()
                        .chars()
                        .take(70)
                        .collect();
                    *report
                        .refusals
                        .entry(format!("{}: {reason}", entry.kind))
                        .or_default() += 1;
                    if entry.refusal_message().is_none_or(|m| m.trim().is_empty())
                        || entry.result_status.is_none_or(|s| s < 400)
                    {
                        violations.push(format!(
                            "{} mutation {}: refused without a reason for staff: {:?}",
                            device.label, entry.mutation_id, entry.result
                        ));
                    }
                }
            }
            let applied = entry.status == OutboxStatus::Applied;
            let body = entry.result.clone().unwrap_or_default();
            match &entry.intent {
                Intent::CarryOutSale(sale) => {
                    for line in &sale.lines {
                        touched_skus.insert(line.sku.as_str().to_owned());
                    }
                    if !applied {
                        violations.push(format!(
                            "{} mutation {}: a carry-out sale was refused ({body})",
                            device.label, entry.mutation_id
                        ));
                        continue;
                    }
                    for line in &sale.lines {
                        *sold
                            .entry((device.store.clone(), line.sku.as_str().to_owned()))
                            .or_default() += i64::from(line.quantity.get());
                    }
                    let view: SaleView = serde_json::from_value(body)?;
                    for short in &view.discrepancies {
                        let explained = |tasks: &[StoreTask]| {
                            tasks.iter().any(|t| {
                                t.kind == TaskKind::StockDiscrepancy
                                    && t.sku.as_ref() == Some(&short.sku)
                                    && t.message.contains(&view.id)
                            })
                        };
                        if !explained(&server_tasks[&device.store]) {
                            violations.push(format!(
                                "sale {} went short of {} by {} but the server has no discrepancy task",
                                view.id, short.sku, short.short_by
                            ));
                        }
                        if !explained(&cached_tasks) {
                            violations.push(format!(
                                "{}: the discrepancy task of sale {} is not in the cache",
                                device.label, view.id
                            ));
                        }
                    }
                }
                Intent::PlaceOrder(order) => {
                    for line in &order.lines {
                        touched_skus.insert(line.sku.as_str().to_owned());
                    }
                    let found = admin
                        .search_orders(&OrderQuery {
                            q: Some(order.customer.name.clone()),
                            limit: Some(50),
                            cursor: None,
                        })
                        .await?;
                    let found: Vec<_> = found
                        .items
                        .iter()
                        .filter(|o| o.customer_name == order.customer.name)
                        .collect();
                    if applied {
                        let view: OrderView = serde_json::from_value(body)?;
                        if found.len() != 1 || found[0].id != view.id {
                            violations.push(format!(
                                "{} mutation {}: applied as order {} but the server has {} order(s) for {:?}",
                                device.label,
                                entry.mutation_id,
                                view.id,
                                found.len(),
                                order.customer.name
                            ));
                        }
                        let full = admin.order(view.id.as_str(), None).await?;
                        orders.insert(view.id.as_str().to_owned(), full);
                    } else {
                        if !found.is_empty() {
                            violations.push(format!(
                                "{} mutation {}: refused, yet the server has {} order(s) for {:?}",
                                device.label,
                                entry.mutation_id,
                                found.len(),
                                order.customer.name
                            ));
                        }
                        let reference = format!("Order {}-{} ", device.label, entry.mutation_id);
                        let has_task = |tasks: &[StoreTask]| {
                            tasks.iter().any(|t| {
                                t.kind == TaskKind::OfflineOrderRefused
                                    && t.message.contains(&reference)
                            })
                        };
                        if !has_task(&server_tasks[&device.store]) {
                            violations.push(format!(
                                "{} mutation {}: order refused on arrival ({}) without an offline_order_refused task",
                                device.label,
                                entry.mutation_id,
                                entry.refusal_message().unwrap_or_default()
                            ));
                        } else if !has_task(&cached_tasks) {
                            violations.push(format!(
                                "{} mutation {}: the refused order's task is not in the cache",
                                device.label, entry.mutation_id
                            ));
                        }
                    }
                }
                Intent::ReceiveReturn { order, .. } => {
                    if applied {
                        *applied_returns
                            .entry(order.as_str().to_owned())
                            .or_default() += 1;
                    }
                }
                Intent::FulfilmentStep { fulfilment, step } => {
                    if applied {
                        let name = serde_json::to_value(step)?["type"]
                            .as_str()
                            .unwrap_or("?")
                            .to_owned();
                        *applied_steps
                            .entry((fulfilment.as_str().to_owned(), name))
                            .or_default() += 1;
                        if let Ok(view) = serde_json::from_value::<oms_api::wire::StepResult>(body)
                        {
                            let expected = match step {
                                FulfilmentStep::Ship { .. }
                                    if view.fulfilment.ship_to.is_some() =>
                                {
                                    Some(FulfilmentStatus::InTransitToStore)
                                }
                                FulfilmentStep::Ship { .. } => Some(FulfilmentStatus::Shipped),
                                FulfilmentStep::ReceiveAtStore => {
                                    Some(FulfilmentStatus::ReadyForPickup)
                                }
                                FulfilmentStep::HandOver { .. } => Some(FulfilmentStatus::PickedUp),
                                _ => None,
                            };
                            if expected.is_some_and(|s| s != view.fulfilment.status) {
                                violations.push(format!(
                                    "{} mutation {}: {step:?} answered status {:?}",
                                    device.label, entry.mutation_id, view.fulfilment.status
                                ));
                            }
                        }
                    }
                }
                Intent::CancelOrder { .. } => {}
            }
        }
    }

    // Orders: returns exactly once, steps at most once each.
    report.orders = orders.len();
    report.steps = applied_steps.values().sum();
    report.returns = applied_returns.values().sum();
    report.fulfilments_in_stores = orders
        .values()
        .flat_map(|o| &o.fulfilments)
        .filter(|f| stores.iter().any(|s| s == f.location.as_str()))
        .count();
    for ((fulfilment, step), n) in &applied_steps {
        if *n > 1 {
            violations.push(format!("step {step} applied {n} times to {fulfilment}"));
        }
    }
    let mut fulfilments: BTreeMap<String, FulfilmentView> = BTreeMap::new();
    for (id, order) in &orders {
        let returns = applied_returns.get(id).copied().unwrap_or(0);
        if order.returns.len() != returns {
            violations.push(format!(
                "order {id}: {} return(s) on the server, {returns} applied by devices",
                order.returns.len()
            ));
        }
        for f in &order.fulfilments {
            fulfilments.insert(f.id.as_str().to_owned(), f.clone());
        }
    }
    for (fulfilment, step) in applied_steps.keys() {
        let Some(f) = fulfilments.get(fulfilment) else {
            violations.push(format!(
                "step {step} applied to {fulfilment}, not an order of the day"
            ));
            continue;
        };
        let final_ok = match step.as_str() {
            "ship" => f.status == FulfilmentStatus::Shipped,
            "hand_over" => f.status == FulfilmentStatus::PickedUp,
            "mark_ready" => !matches!(
                f.status,
                FulfilmentStatus::AwaitingPreparation | FulfilmentStatus::InPreparation
            ),
            "start_preparation" => f.status != FulfilmentStatus::AwaitingPreparation,
            _ => true,
        };
        if !final_ok {
            violations.push(format!(
                "{fulfilment}: step {step} applied but the server says {:?}",
                f.status
            ));
        }
    }

    // The stock ledger.
    let mut out: HashMap<Key, i64> = HashMap::new();
    let mut open: HashMap<Key, i64> = HashMap::new();
    let mut back: HashMap<Key, i64> = HashMap::new();
    for f in fulfilments.values() {
        for line in &f.lines {
            let key = (f.location.as_str().to_owned(), line.sku.as_str().to_owned());
            let units = i64::from(line.quantity.get());
            // A ship-to-store parcel's units left its location at shipping.
            let parcel_left = f.ship_to.is_some()
                && matches!(
                    f.status,
                    FulfilmentStatus::InTransitToStore | FulfilmentStatus::ReadyForPickup
                );
            match f.status {
                FulfilmentStatus::Shipped | FulfilmentStatus::PickedUp => {
                    *out.entry(key).or_default() += units
                }
                _ if parcel_left => *out.entry(key).or_default() += units,
                FulfilmentStatus::AwaitingPreparation
                | FulfilmentStatus::InPreparation
                | FulfilmentStatus::ReadyForPickup
                | FulfilmentStatus::ReadyToShip => *open.entry(key).or_default() += units,
                FulfilmentStatus::InTransitToStore
                | FulfilmentStatus::Cancelled
                | FulfilmentStatus::Rejected => {}
            }
        }
    }
    for order in orders.values() {
        for r in &order.returns {
            for m in &r.stock_movements {
                if m.to == Restock::Sellable {
                    *back
                        .entry((m.location.as_str().to_owned(), m.sku.as_str().to_owned()))
                        .or_default() += i64::from(m.quantity.get());
                }
            }
        }
    }
    let mut final_levels: HashMap<Key, (i64, i64)> = HashMap::new();
    for sku in &touched_skus {
        for level in admin.sku_stock(sku).await?.levels {
            final_levels.insert((level.location, level.sku), (level.on_hand, level.reserved));
        }
    }
    let keys: BTreeSet<&Key> = initial
        .keys()
        .chain(final_levels.keys())
        .chain(sold.keys())
        .chain(out.keys())
        .chain(open.keys())
        .chain(back.keys())
        .collect();
    report.ledger_rows = keys.len();
    for key in keys {
        let get = |m: &HashMap<Key, i64>| m.get(key).copied().unwrap_or(0);
        let (on_hand0, reserved0) = initial.get(key).copied().unwrap_or((0, 0));
        let expected_on_hand = on_hand0 - get(&sold) - get(&out) + get(&back);
        let expected_reserved = reserved0 + get(&open);
        let actual = final_levels.get(key).copied().unwrap_or((0, 0));
        if actual != (expected_on_hand, expected_reserved) {
            violations.push(format!(
                "ledger {}/{}: (on_hand, reserved) is {actual:?}, expected ({expected_on_hand}, {expected_reserved}) = initial ({on_hand0}, {reserved0}), sold {}, shipped/handed over {}, returned {}, open {}",
                key.0,
                key.1,
                get(&sold),
                get(&out),
                get(&back),
                get(&open)
            ));
        }
        if actual.0 < 0 && stores.contains(&key.0) {
            let explained = server_tasks[&key.0].iter().any(|t| {
                t.kind == TaskKind::StockDiscrepancy
                    && t.sku.as_ref().map(|s| s.as_str()) == Some(key.1.as_str())
            });
            if !explained {
                violations.push(format!(
                    "{}/{} is negative ({}) with no discrepancy task",
                    key.0, key.1, actual.0
                ));
            }
        }
    }

    // Every cache equals the server's view of its store.
    for device in devices {
        let store = &device.store;
        let mut server_stock: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!(
                "/v1/locations/{store}/stock?limit={}",
                oms_api::wire::MAX_PAGE_LIMIT
            );
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = raw.get(&path).await?;
            for item in page["items"].as_array().into_iter().flatten() {
                server_stock.insert(
                    item["sku"].as_str().unwrap_or_default().to_owned(),
                    (
                        item["on_hand"].as_i64().unwrap_or_default(),
                        item["reserved"].as_i64().unwrap_or_default(),
                    ),
                );
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let pool = sqlx::SqlitePool::connect(&format!(
            "sqlite://{}?mode=ro",
            device.cache_path().display()
        ))
        .await?;
        let rows = sqlx::query("SELECT sku, on_hand, reserved FROM stock WHERE location = ?1")
            .bind(store)
            .fetch_all(&pool)
            .await?;
        let mut cached_stock: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for row in rows {
            cached_stock.insert(
                row.try_get("sku")?,
                (row.try_get("on_hand")?, row.try_get("reserved")?),
            );
        }
        let leftover: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stock_pending")
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        if leftover != 0 {
            violations.push(format!(
                "{}: {leftover} optimistic stock effect(s) left after quiescence",
                device.label
            ));
        }
        if cached_stock != server_stock {
            let differ: Vec<String> = server_stock
                .iter()
                .filter(|(sku, level)| cached_stock.get(*sku) != Some(level))
                .map(|(sku, level)| {
                    format!("{sku}: server {level:?}, cache {:?}", cached_stock.get(sku))
                })
                .chain(
                    cached_stock
                        .keys()
                        .filter(|sku| !server_stock.contains_key(*sku))
                        .map(|sku| format!("{sku}: only in the cache")),
                )
                .take(10)
                .collect();
            violations.push(format!(
                "{}: cached stock of {store} differs from the server ({} vs {} rows): {}",
                device.label,
                cached_stock.len(),
                server_stock.len(),
                differ.join("; ")
            ));
        }

        let cache = device.engine()?.cache();
        let all_statuses: Vec<String> = FulfilmentStatus::ALL
            .iter()
            .map(|s| {
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        // Every page of the queue.
        let mut server_queue = Vec::new();
        let mut cursor = None;
        loop {
            let page = admin
                .location_fulfilments(
                    store,
                    &oms_api::wire::QueueQuery {
                        status: Some(all_statuses.join(",")),
                        limit: Some(500),
                        cursor: cursor.take(),
                    },
                )
                .await?;
            server_queue.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let server_queue: BTreeMap<String, FulfilmentView> = server_queue
            .into_iter()
            .map(|f| (f.id.as_str().to_owned(), f))
            .collect();
        let cached_queue: BTreeMap<String, FulfilmentView> = cache
            .fulfilments(store)
            .await?
            .into_iter()
            .map(|f| {
                if let Some(step) = &f.pending_step {
                    violations.push(format!(
                        "{}: fulfilment {} still shows a pending {step}",
                        device.label, f.fulfilment.id
                    ));
                }
                (f.fulfilment.id.as_str().to_owned(), f.fulfilment)
            })
            .collect();
        // The orders' own view is the ground truth for the day's
        // fulfilments at this store.
        for f in fulfilments
            .values()
            .filter(|f| f.location.as_str() == store)
        {
            if server_queue.get(f.id.as_str()) != Some(f) {
                violations.push(format!(
                    "{store}: fulfilment {} ({:?}) of order {} is not in the store's queue as the order shows it",
                    f.id, f.status, f.order
                ));
            }
            if cached_queue.get(f.id.as_str()) != Some(f) {
                violations.push(format!(
                    "{}: fulfilment {} ({:?}) of order {} is missing or stale in the cache (cache: {:?})",
                    device.label,
                    f.id,
                    f.status,
                    f.order,
                    cached_queue.get(f.id.as_str()).map(|c| c.status)
                ));
            }
        }
        if server_queue.len() >= 500 {
            violations.push(format!(
                "{store}: 500 fulfilments or more, the check cannot see them all"
            ));
        } else if cached_queue != server_queue {
            let differ: Vec<String> = server_queue
                .iter()
                .filter(|(id, f)| cached_queue.get(*id) != Some(f))
                .map(|(id, f)| {
                    format!(
                        "{id}: server {:?}, cache {:?}",
                        f.status,
                        cached_queue.get(id).map(|c| c.status)
                    )
                })
                .chain(
                    cached_queue
                        .keys()
                        .filter(|id| !server_queue.contains_key(*id))
                        .map(|id| format!("{id}: only in the cache")),
                )
                .take(10)
                .collect();
            violations.push(format!(
                "{}: cached fulfilments of {store} differ from the server: {}",
                device.label,
                differ.join("; ")
            ));
        }

        let server_ids: BTreeSet<&str> =
            server_tasks[store].iter().map(|t| t.id.as_str()).collect();
        let cached = cache.tasks().await?;
        let cached_ids: BTreeSet<&str> = cached.iter().map(|t| t.id.as_str()).collect();
        if server_ids != cached_ids {
            violations.push(format!(
                "{}: {} task(s) in the cache, {} on the server for {store}",
                device.label,
                cached_ids.len(),
                server_ids.len()
            ));
        }
        let queued: Vec<String> = cache
            .orders(10_000)
            .await?
            .into_iter()
            .filter(|o| o.id.starts_with("pending-") || o.pending_mutation_id.is_some())
            .map(|o| o.id)
            .collect();
        if !queued.is_empty() {
            violations.push(format!(
                "{}: orders still marked as queued after quiescence: {queued:?}",
                device.label
            ));
        }
    }
    Ok(violations)
}

//! The outbox: intents queued on this device (DESIGN.md "Local write").
//!
//! [`Cache::enqueue`] writes the optimistic local effect and the outbox row,
//! with the device's next mutation id, in one transaction. Ids are gapless
//! per device and never reused (`outbox_devices` keeps the last one handed
//! out). Push sends pending rows in id order with the same ids on every
//! retry and records each [`MutationResult`] here.

use oms_api::wire::{Intent, Mutation, MutationResult, OrderView, StepResult};
use serde::Serialize;
use sqlx::Row;

use crate::cache::{Cache, now, text_of, upsert_fulfilment};
use crate::error::SyncError;

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not answered by the core yet.
    Pending,
    /// The core applied it.
    Applied,
    /// The core refused it (a business refusal, the same on every retry):
    /// show it to staff.
    Refused,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub device_id: String,
    pub mutation_id: u64,
    /// `place_order`, `carry_out_sale`, `fulfilment_step`, `receive_return`
    /// or `cancel_order`.
    pub kind: String,
    pub intent: Intent,
    pub status: OutboxStatus,
    pub created_at: String,
    /// The core's answer: HTTP-like status and body (a problem+json object
    /// for a refusal).
    pub result_status: Option<u16>,
    pub result: Option<serde_json::Value>,
    pub answered_at: Option<String>,
}

impl OutboxEntry {
    /// For a refusal: the problem's `detail` (or its `title`), for staff.
    pub fn refusal_message(&self) -> Option<String> {
        if self.status != OutboxStatus::Refused {
            return None;
        }
        let body = self.result.as_ref()?;
        body.get("detail")
            .or_else(|| body.get("title"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }
}

/// The placeholder id of an order queued on this device.
pub fn pending_order_id(mutation_id: u64) -> String {
    format!("pending-{mutation_id}")
}

impl Cache {
    /// Queues `intent` for the paired device: the optimistic local effect
    /// and the outbox row with the next mutation id, in one transaction.
    /// Returns the mutation id; once this returns, the action is durable
    /// (a receipt may be shown).
    ///
    /// A sale or an order without a date is dated now (the core accepts a
    /// sale up to 30 days old, and neither more than a few minutes ahead of
    /// its clock).
    ///
    /// Local effects: a carry-out sale lowers the store's cached on-hand
    /// stock; an order appears as `pending-<id>` with status `pending_sync`;
    /// a fulfilment step marks the fulfilment's `pending_step`; a
    /// cancellation or return marks the order as having a queued action.
    pub async fn enqueue(&self, mut intent: Intent) -> Result<u64, SyncError> {
        let device = self.device().await?.ok_or(SyncError::NotPaired)?;
        // An action taken offline is dated when it was taken, not when it
        // reaches the core (the same date on every retry).
        match &mut intent {
            Intent::CarryOutSale(sale) if sale.sold_at.is_none() => sale.sold_at = Some(now()),
            Intent::PlaceOrder(order) if order.placed_at.is_none() => order.placed_at = Some(now()),
            _ => {}
        }
        let (_guard, mut tx) = self.begin_write().await?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT last_mutation_id FROM outbox_devices WHERE device_id = ?1")
                .bind(&device.device_id)
                .fetch_optional(&mut *tx)
                .await?;
        let id = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO outbox_devices (device_id, last_mutation_id) VALUES (?1, ?2) \
             ON CONFLICT (device_id) DO UPDATE SET last_mutation_id = excluded.last_mutation_id",
        )
        .bind(&device.device_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let intent_json = serde_json::to_value(&intent)?;
        let kind = intent_json
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("unknown")
            .to_owned();
        let created_at = now();
        sqlx::query(
            "INSERT INTO outbox (device_id, mutation_id, kind, intent, status, created_at) \
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
        )
        .bind(&device.device_id)
        .bind(id)
        .bind(&kind)
        .bind(intent_json.to_string())
        .bind(&created_at)
        .execute(&mut *tx)
        .await?;

        match &intent {
            Intent::CarryOutSale(sale) => {
                let store = device.store.as_deref().ok_or(SyncError::NoStore)?;
                for line in &sale.lines {
                    sqlx::query(
                        "INSERT INTO stock_pending (mutation_id, sku, location, on_hand_delta) \
                         VALUES (?1, ?2, ?3, ?4)",
                    )
                    .bind(id)
                    .bind(line.sku.as_str())
                    .bind(store)
                    .bind(-i64::from(line.quantity.get()))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            Intent::PlaceOrder(order) => {
                sqlx::query(
                    "INSERT INTO orders (id, status, channel, customer_name, placed_at, seq, pending_mutation_id) \
                     VALUES (?1, 'pending_sync', ?2, ?3, ?4, 0, ?5)",
                )
                .bind(pending_order_id(id as u64))
                .bind(order.channel.as_str())
                .bind(&order.customer.name)
                .bind(order.placed_at.clone().unwrap_or_else(|| created_at.clone()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            Intent::FulfilmentStep { fulfilment, step } => {
                sqlx::query(
                    "UPDATE fulfilments SET pending_step = ?1, pending_mutation_id = ?2 WHERE id = ?3",
                )
                .bind(step_name(step)?)
                .bind(id)
                .bind(text_of(fulfilment)?)
                .execute(&mut *tx)
                .await?;
            }
            Intent::ReceiveReturn { order, .. } | Intent::CancelOrder { order, .. } => {
                sqlx::query("UPDATE orders SET pending_mutation_id = ?1 WHERE id = ?2")
                    .bind(id)
                    .bind(text_of(order)?)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(id as u64)
    }

    /// Up to `limit` pending mutations of `device_id`, in id order.
    pub async fn pending_mutations(
        &self,
        device_id: &str,
        limit: usize,
    ) -> Result<Vec<Mutation>, SyncError> {
        let rows = sqlx::query(
            "SELECT mutation_id, intent FROM outbox WHERE status = 'pending' AND device_id = ?1 \
             ORDER BY mutation_id LIMIT ?2",
        )
        .bind(device_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get("mutation_id")?;
                let intent: String = row.try_get("intent")?;
                Ok(Mutation {
                    id: id as u64,
                    intent: serde_json::from_str(&intent)?,
                })
            })
            .collect()
    }

    /// Records the core's answers to a push, in one transaction: applied
    /// rows are marked applied, refused ones keep their problem for staff
    /// (and lose their optimistic effect), and queued orders are replaced by
    /// the core's view.
    pub async fn record_results(
        &self,
        device_id: &str,
        results: &[MutationResult],
    ) -> Result<(), SyncError> {
        let (_guard, mut tx) = self.begin_write().await?;
        let answered_at = now();
        for result in results {
            let id = i64::try_from(result.id)
                .map_err(|_| SyncError::BadPushAnswer(format!("mutation id {}", result.id)))?;
            let status = if result.applied() {
                "applied"
            } else {
                "refused"
            };
            let updated = sqlx::query(
                "UPDATE outbox SET status = ?1, result_status = ?2, result = ?3, answered_at = ?4 \
                 WHERE device_id = ?5 AND mutation_id = ?6 AND status = 'pending'",
            )
            .bind(status)
            .bind(i64::from(result.status))
            .bind(result.body.to_string())
            .bind(&answered_at)
            .bind(device_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                // Already recorded by an earlier answer to the same batch.
                continue;
            }
            let kind: String = sqlx::query_scalar(
                "SELECT kind FROM outbox WHERE device_id = ?1 AND mutation_id = ?2",
            )
            .bind(device_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if !result.applied() {
                sqlx::query("DELETE FROM stock_pending WHERE mutation_id = ?1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            match kind.as_str() {
                "place_order" => {
                    sqlx::query("DELETE FROM orders WHERE id = ?1")
                        .bind(pending_order_id(result.id))
                        .execute(&mut *tx)
                        .await?;
                    if let Ok(order) = serde_json::from_value::<OrderView>(result.body.clone()) {
                        sqlx::query(
                            "INSERT INTO orders (id, status, channel, customer_name, placed_at, seq) \
                             VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT (id) DO NOTHING",
                        )
                        .bind(text_of(&order.id)?)
                        .bind(text_of(&order.status)?)
                        .bind(order.channel.as_str())
                        .bind(&order.customer.name)
                        .bind(&order.placed_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                "fulfilment_step" => {
                    sqlx::query(
                        "UPDATE fulfilments SET pending_step = NULL, pending_mutation_id = NULL \
                         WHERE pending_mutation_id = ?1",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    if let Ok(step) = serde_json::from_value::<StepResult>(result.body.clone()) {
                        upsert_fulfilment(&mut tx, &step.fulfilment, 0).await?;
                    }
                }
                _ => {
                    sqlx::query(
                        "UPDATE orders SET pending_mutation_id = NULL WHERE pending_mutation_id = ?1 \
                         AND status <> 'pending_sync'",
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        sqlx::query("UPDATE sync_state SET last_push_at = ?1 WHERE id = 1")
            .bind(&answered_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets answered mutations this device no longer needs, so that the
    /// outbox of a busy store (hundreds of actions a day) does not grow for
    /// ever: applied ones answered before `applied_before` whose optimistic
    /// stock effect is gone (a pull showed it), and refusals staff dismissed
    /// before `dismissed_before`. Pending rows and refusals nobody looked at
    /// stay; mutation ids go on counting (`outbox_devices`). Instants are
    /// RFC 3339 in UTC, as the outbox stores them. Returns the rows removed.
    pub async fn prune_outbox(
        &self,
        applied_before: &str,
        dismissed_before: &str,
    ) -> Result<u64, SyncError> {
        let (_guard, mut tx) = self.begin_write().await?;
        let removed = sqlx::query(
            "DELETE FROM outbox WHERE              (status = 'applied' AND answered_at < ?1               AND NOT EXISTS (SELECT 1 FROM stock_pending p WHERE p.mutation_id = outbox.mutation_id))              OR (status = 'refused' AND dismissed_at IS NOT NULL AND dismissed_at < ?2)",
        )
        .bind(applied_before)
        .bind(dismissed_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(removed)
    }

    /// The outbox, newest first (at most `limit` rows), e.g. for a "queued
    /// actions" screen.
    pub async fn outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>, SyncError> {
        self.outbox_where("1 = 1", limit).await
    }

    /// Refusals staff have not dismissed yet, newest first.
    pub async fn refused(&self) -> Result<Vec<OutboxEntry>, SyncError> {
        self.outbox_where("status = 'refused' AND dismissed_at IS NULL", 1000)
            .await
    }

    /// Staff saw a refusal: it no longer counts as one to look at.
    pub async fn dismiss_refusal(
        &self,
        device_id: &str,
        mutation_id: u64,
    ) -> Result<(), SyncError> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET dismissed_at = ?1 WHERE device_id = ?2 AND mutation_id = ?3 \
             AND status = 'refused'",
        )
        .bind(now())
        .bind(device_id)
        .bind(i64::try_from(mutation_id).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_where(
        &self,
        condition: &str,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, SyncError> {
        let rows = sqlx::query(&format!(
            "SELECT device_id, mutation_id, kind, intent, status, result_status, result, \
             created_at, answered_at FROM outbox WHERE {condition} \
             ORDER BY mutation_id DESC LIMIT ?1"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let intent: String = row.try_get("intent")?;
                let status: String = row.try_get("status")?;
                let result: Option<String> = row.try_get("result")?;
                let id: i64 = row.try_get("mutation_id")?;
                Ok(OutboxEntry {
                    device_id: row.try_get("device_id")?,
                    mutation_id: id as u64,
                    kind: row.try_get("kind")?,
                    intent: serde_json::from_str(&intent)?,
                    status: match status.as_str() {
                        "applied" => OutboxStatus::Applied,
                        "refused" => OutboxStatus::Refused,
                        _ => OutboxStatus::Pending,
                    },
                    created_at: row.try_get("created_at")?,
                    result_status: row
                        .try_get::<Option<i64>, _>("result_status")?
                        .and_then(|s| u16::try_from(s).ok()),
                    result: result.as_deref().map(serde_json::from_str).transpose()?,
                    answered_at: row.try_get("answered_at")?,
                })
            })
            .collect()
    }
}

fn step_name(step: &oms_api::wire::FulfilmentStep) -> Result<String, SyncError> {
    let value = serde_json::to_value(step)?;
    Ok(value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("step")
        .to_owned())
}

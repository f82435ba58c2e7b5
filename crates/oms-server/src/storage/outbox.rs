//! The delivery side of the transactional outbox: claiming due `outbox` and
//! `payments` rows under a lease, recording what delivery did, and the
//! admin's list and replay.
//!
//! A claim is a short write transaction: select the due rows (on PostgreSQL
//! `FOR UPDATE SKIP LOCKED`, so concurrent instances take disjoint rows
//! without waiting), move their `next_attempt_at_ms` to the end of a lease,
//! commit. Delivery then happens outside any transaction, and its result is
//! recorded only if the row still carries that lease (`next_attempt_at_ms =
//! lease`): a worker whose lease expired and was taken over (or replayed by
//! an admin) writes nothing.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::Sql;
use super::{Backend, Storage, StorageError};

/// An outbox message claimed for delivery.
#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// The lease: `next_attempt_at_ms` as set by the claim.
    pub lease_until_ms: i64,
}

/// A payment instruction claimed for execution.
#[derive(Debug, Clone)]
pub struct ClaimedPayment {
    pub id: i64,
    pub order_id: String,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reference: Option<String>,
    pub idempotency_key: String,
    pub attempts: i64,
    pub lease_until_ms: i64,
}

/// An order's authorisation as recorded.
#[derive(Debug, Clone)]
pub struct Authorisation {
    pub status: String,
    pub provider_reference: Option<String>,
}

/// Where an outbox message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    Pending,
    Delivered,
    Dead,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Pending => "pending",
            MessageState::Delivered => "delivered",
            MessageState::Dead => "dead",
        }
    }
}

/// An outbox message as the admin sees it.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub topic: String,
    pub order_id: Option<String>,
    pub payload: String,
    pub state: MessageState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub next_attempt_at_ms: i64,
    pub delivered_at_ms: Option<i64>,
    pub dead_at_ms: Option<i64>,
}

/// What a replay did.
#[derive(Debug, Clone)]
pub enum Replay {
    Replayed(OutboxItem),
    /// The message is still pending: nothing to replay.
    StillPending(OutboxItem),
    NotFound,
}

/// What a payment attempt ended with.
#[derive(Debug, Clone)]
pub enum PaymentResult {
    Succeeded {
        provider_reference: String,
        /// A pay-by-link gateway's page for the customer, with the rendered
        /// notification that sends it (queued in the same transaction).
        link: Option<(String, String)>,
    },
    /// A final refusal: `declined` (the provider said no) or `failed`.
    Refused { status: &'static str, error: String },
    /// Try again at `next_attempt_at_ms`.
    Retry {
        error: String,
        next_attempt_at_ms: i64,
        /// Whether this counts as an attempt (a call was made).
        counted: bool,
    },
}

const ITEM_COLUMNS: &str = "id, topic, order_id, payload, attempts, last_error, created_at_ms, \
     next_attempt_at_ms, delivered_at_ms, dead_at_ms";

fn item_from_row(row: &AnyRow) -> Result<OutboxItem, StorageError> {
    let delivered_at_ms: Option<i64> = row.try_get("delivered_at_ms")?;
    let dead_at_ms: Option<i64> = row.try_get("dead_at_ms")?;
    let state = match (delivered_at_ms, dead_at_ms) {
        (Some(_), _) => MessageState::Delivered,
        (None, Some(_)) => MessageState::Dead,
        (None, None) => MessageState::Pending,
    };
    Ok(OutboxItem {
        id: row.try_get("id")?,
        topic: row.try_get("topic")?,
        order_id: row.try_get("order_id")?,
        payload: row.try_get("payload")?,
        state,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at_ms: row.try_get("created_at_ms")?,
        next_attempt_at_ms: row.try_get("next_attempt_at_ms")?,
        delivered_at_ms,
        dead_at_ms,
    })
}

/// Appends `(id1, id2, …)`.
fn push_ids(sql: &mut Sql, ids: &[i64]) {
    sql.push("(");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
}

/// Keeps error texts stored in rows short.
fn clip(error: &str) -> String {
    const MAX: usize = 1000;
    if error.len() <= MAX {
        return error.to_owned();
    }
    let mut end = MAX;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

impl Storage {
    /// Claims up to `limit` due messages of `topic` until `lease_until_ms`.
    pub async fn claim_outbox(
        &self,
        topic: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedMessage>, StorageError> {
        // A plain read first: most polls find nothing, and need no write lock.
        let mut probe = Sql::new(
            "SELECT id FROM outbox WHERE delivered_at_ms IS NULL AND dead_at_ms IS NULL \
             AND topic = ",
        );
        probe
            .bind(topic.to_owned())
            .push(" AND next_attempt_at_ms <= ")
            .bind(now_ms)
            .push(" LIMIT 1");
        if probe.fetch_optional(self.pool()).await?.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "SELECT id, topic, payload, attempts FROM outbox WHERE delivered_at_ms IS NULL \
             AND dead_at_ms IS NULL AND topic = ",
        );
        sql.bind(topic.to_owned())
            .push(" AND next_attempt_at_ms <= ")
            .bind(now_ms)
            .push(" ORDER BY next_attempt_at_ms, id LIMIT ")
            .bind(limit);
        if self.backend() == Backend::Postgres {
            sql.push(" FOR UPDATE SKIP LOCKED");
        }
        let rows = sql.fetch_all(&mut **tx).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            claimed.push(ClaimedMessage {
                id: row.try_get("id")?,
                topic: row.try_get("topic")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
                lease_until_ms,
            });
        }
        if !claimed.is_empty() {
            let ids: Vec<i64> = claimed.iter().map(|m| m.id).collect();
            let mut update = Sql::new("UPDATE outbox SET next_attempt_at_ms = ");
            update.bind(lease_until_ms).push(" WHERE id IN ");
            push_ids(&mut update, &ids);
            update.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records a delivery. False if the lease was lost meanwhile.
    pub async fn outbox_delivered(
        &self,
        message: &ClaimedMessage,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let mut sql = Sql::new("UPDATE outbox SET delivered_at_ms = ");
        sql.bind(now_ms)
            .push(", attempts = attempts + 1, last_error = NULL WHERE id = ")
            .bind(message.id)
            .push(" AND next_attempt_at_ms = ")
            .bind(message.lease_until_ms)
            .push(" AND delivered_at_ms IS NULL AND dead_at_ms IS NULL");
        Ok(self.execute_write(sql).await? == 1)
    }

    /// Records a failed attempt: retried at `next_attempt_at_ms`, or dead
    /// (dead letter) when `dead`. False if the lease was lost meanwhile.
    pub async fn outbox_failed(
        &self,
        message: &ClaimedMessage,
        error: &str,
        next_attempt_at_ms: i64,
        dead: bool,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let mut sql = Sql::new("UPDATE outbox SET attempts = attempts + 1, last_error = ");
        sql.bind(clip(error))
            .push(", next_attempt_at_ms = ")
            .bind(next_attempt_at_ms)
            .push(", dead_at_ms = ")
            .bind(dead.then_some(now_ms))
            .push(" WHERE id = ")
            .bind(message.id)
            .push(" AND next_attempt_at_ms = ")
            .bind(message.lease_until_ms)
            .push(" AND delivered_at_ms IS NULL AND dead_at_ms IS NULL");
        Ok(self.execute_write(sql).await? == 1)
    }

    /// Messages in a state, optionally of one topic: pending ones by next
    /// attempt, the others newest first.
    pub async fn outbox_messages(
        &self,
        state: MessageState,
        topic: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StorageError> {
        let mut sql = Sql::new(&format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE "));
        sql.push(match state {
            MessageState::Pending => "delivered_at_ms IS NULL AND dead_at_ms IS NULL",
            MessageState::Delivered => "delivered_at_ms IS NOT NULL",
            MessageState::Dead => "delivered_at_ms IS NULL AND dead_at_ms IS NOT NULL",
        });
        if let Some(topic) = topic {
            sql.push(" AND topic = ").bind(topic.to_owned());
        }
        sql.push(match state {
            MessageState::Pending => " ORDER BY next_attempt_at_ms, id",
            _ => " ORDER BY id DESC",
        });
        sql.push(" LIMIT ").bind(limit);
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(item_from_row)
            .collect()
    }

    /// Makes a delivered or dead message pending again, due now, with its
    /// attempts reset.
    pub async fn replay_outbox(&self, id: i64, now_ms: i64) -> Result<Replay, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut select = Sql::new(&format!("SELECT {ITEM_COLUMNS} FROM outbox WHERE id = "));
        select.bind(id);
        if self.backend() == Backend::Postgres {
            select.push(" FOR UPDATE");
        }
        let Some(row) = select.fetch_optional(&mut **tx).await? else {
            return Ok(Replay::NotFound);
        };
        let item = item_from_row(&row)?;
        if item.state == MessageState::Pending {
            return Ok(Replay::StillPending(item));
        }
        let mut update = Sql::new(
            "UPDATE outbox SET delivered_at_ms = NULL, dead_at_ms = NULL, attempts = 0, \
             last_error = NULL, next_attempt_at_ms = ",
        );
        update.bind(now_ms).push(" WHERE id = ").bind(id);
        update.execute(&mut **tx).await?;
        tx.commit().await?;
        Ok(Replay::Replayed(OutboxItem {
            state: MessageState::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at_ms: now_ms,
            delivered_at_ms: None,
            dead_at_ms: None,
            ..item
        }))
    }

    /// Claims up to `limit` due pending payment instructions until
    /// `lease_until_ms`. A capture, void or refund is not due while its
    /// order's authorisation is still pending.
    pub async fn claim_payments(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedPayment>, StorageError> {
        // A plain read first: most polls find nothing, and need no write lock.
        let mut probe =
            Sql::new("SELECT id FROM payments WHERE status = 'pending' AND next_attempt_at_ms <= ");
        probe.bind(now_ms).push(" LIMIT 1");
        if probe.fetch_optional(self.pool()).await?.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "SELECT p.id, p.order_id, p.kind, p.amount_minor, p.currency, p.reference, \
             p.idempotency_key, p.attempts FROM payments p WHERE p.status = 'pending' \
             AND p.next_attempt_at_ms <= ",
        );
        sql.bind(now_ms).push(
            " AND (p.kind = 'authorise' OR NOT EXISTS (SELECT 1 FROM payments a \
             WHERE a.order_id = p.order_id AND a.kind = 'authorise' AND a.status = 'pending')) \
             ORDER BY p.next_attempt_at_ms, p.id LIMIT ",
        );
        sql.bind(limit);
        if self.backend() == Backend::Postgres {
            sql.push(" FOR UPDATE OF p SKIP LOCKED");
        }
        let rows = sql.fetch_all(&mut **tx).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            claimed.push(ClaimedPayment {
                id: row.try_get("id")?,
                order_id: row.try_get("order_id")?,
                kind: row.try_get("kind")?,
                amount_minor: row.try_get("amount_minor")?,
                currency: row.try_get("currency")?,
                reference: row.try_get("reference")?,
                idempotency_key: row.try_get("idempotency_key")?,
                attempts: row.try_get("attempts")?,
                lease_until_ms,
            });
        }
        if !claimed.is_empty() {
            let ids: Vec<i64> = claimed.iter().map(|p| p.id).collect();
            let mut update = Sql::new("UPDATE payments SET next_attempt_at_ms = ");
            update.bind(lease_until_ms).push(" WHERE id IN ");
            push_ids(&mut update, &ids);
            update.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// The order's authorisation (the latest, if several).
    pub async fn authorisation_of(
        &self,
        order_id: &str,
    ) -> Result<Option<Authorisation>, StorageError> {
        let mut sql = Sql::new(
            "SELECT status, provider_reference FROM payments WHERE kind = 'authorise' \
             AND order_id = ",
        );
        sql.bind(order_id.to_owned())
            .push(" ORDER BY id DESC LIMIT 1");
        sql.fetch_optional(self.pool())
            .await?
            .map(|row| {
                Ok(Authorisation {
                    status: row.try_get("status")?,
                    provider_reference: row.try_get("provider_reference")?,
                })
            })
            .transpose()
    }

    /// Records what a payment attempt did. False if the lease was lost
    /// meanwhile.
    pub async fn record_payment(
        &self,
        payment: &ClaimedPayment,
        result: &PaymentResult,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let mut sql = Sql::new("UPDATE payments SET updated_at_ms = ");
        sql.bind(now_ms);
        match result {
            PaymentResult::Succeeded {
                provider_reference,
                link,
            } => {
                sql.push(
                    ", status = 'succeeded', attempts = attempts + 1, last_error = NULL, \
                     provider_reference = ",
                )
                .bind(provider_reference.clone());
                if let Some((url, _)) = link {
                    sql.push(", payment_url = ").bind(url.clone());
                }
            }
            PaymentResult::Refused { status, error } => {
                sql.push(", attempts = attempts + 1, status = ")
                    .bind((*status).to_owned())
                    .push(", last_error = ")
                    .bind(clip(error));
            }
            PaymentResult::Retry {
                error,
                next_attempt_at_ms,
                counted,
            } => {
                if *counted {
                    sql.push(", attempts = attempts + 1");
                }
                sql.push(", last_error = ")
                    .bind(clip(error))
                    .push(", next_attempt_at_ms = ")
                    .bind(*next_attempt_at_ms);
            }
        }
        sql.push(" WHERE id = ")
            .bind(payment.id)
            .push(" AND status = 'pending' AND next_attempt_at_ms = ")
            .bind(payment.lease_until_ms);
        let Some(message) = (match result {
            PaymentResult::Succeeded {
                link: Some((_, message)),
                ..
            } => Some(message),
            _ => None,
        }) else {
            return Ok(self.execute_write(sql).await? == 1);
        };
        // The link and the message that sends it, together: a crash between
        // them would lose the customer's way to pay.
        let mut tx = self.begin_write().await?;
        if sql.execute(&mut **tx).await?.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let mut insert = Sql::new("");
        super::orders::push_insert_outbox(
            &mut insert,
            &payment.order_id,
            &[("notification", message.clone())],
            now_ms,
        );
        insert.execute(&mut **tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}

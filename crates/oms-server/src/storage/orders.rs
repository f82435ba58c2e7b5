//! Orders, fulfilments, their events, rule sets, the outbox, payments,
//! idempotency keys and daily order counts.
//!
//! Writes are free functions over an open transaction: an order step writes
//! stock, documents, events, outbox and payments in one transaction that the
//! caller (`crate::orders`) commits. Reads that stand alone are methods of
//! [`Storage`].

use sqlx::any::{Any, AnyRow};
use sqlx::{Column, Row, Transaction};

use super::sql::Sql;
use super::{Backend, Storage, StorageError};

pub(crate) type Tx = Transaction<'static, Any>;

/// A stored order: its document and change sequence number.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub id: String,
    pub status: String,
    pub document: String,
}

/// A stored fulfilment.
#[derive(Debug, Clone)]
pub struct FulfilmentRecord {
    pub id: String,
    pub order_id: String,
    pub location_id: String,
    pub status: String,
    pub document: String,
}

/// A row of the order search.
#[derive(Debug, Clone)]
pub struct OrderSummaryRecord {
    pub id: String,
    pub status: String,
    pub channel_id: String,
    pub customer_name: String,
    pub placed_at_ms: i64,
}

/// A stored event of an order's timeline.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub seq: i64,
    pub document: String,
}

/// A stored outbox message.
#[derive(Debug, Clone)]
pub struct OutboxRecord {
    pub id: i64,
    pub topic: String,
    pub payload: String,
    pub attempts: i64,
    pub delivered: bool,
    pub dead: bool,
    pub last_error: Option<String>,
}

/// A stored payment instruction.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    pub id: i64,
    pub order_id: String,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reference: Option<String>,
    pub idempotency_key: String,
    pub status: String,
    pub provider_reference: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// A pay-by-link gateway's page for the customer (authorisations).
    pub payment_url: Option<String>,
}

/// A rule set version as stored.
#[derive(Debug, Clone)]
pub struct RuleSetRecord {
    pub channel_id: String,
    pub version: i64,
    pub document: String,
    pub active: bool,
    pub created_at_ms: i64,
    pub created_by: String,
}

/// A stored idempotent answer.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

/// New rows of an order step, written together.
#[derive(Debug, Default)]
pub struct NewMessages {
    /// (fulfilment id, kind, at ms, document)
    pub events: Vec<(Option<String>, String, i64, String)>,
    /// (topic, payload)
    pub outbox: Vec<(&'static str, String)>,
    pub payments: Vec<NewPayment>,
}

/// A payment instruction to record.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub kind: &'static str,
    pub amount_minor: i64,
    pub currency: String,
    pub reference: Option<String>,
    pub idempotency_key: String,
    /// `pending` for the gateway, `succeeded` when paid in store.
    pub status: &'static str,
    pub provider_reference: Option<String>,
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.code().as_deref() == Some("23505")
                || db.code().as_deref() == Some("2067")
                || db.code().as_deref() == Some("1555")
        }
        _ => false,
    }
}

/// [`is_unique_violation`] on the group commit's own SQLite connection.
pub(crate) fn is_unique_violation_native(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if matches!(failure.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// Whether an error is a conflict with a concurrent writer that a retry
/// resolves: a unique key another writer took first (the retry sees its
/// row), or a deadlock or serialisation failure PostgreSQL broke.
pub fn is_conflict(error: &StorageError) -> bool {
    match error {
        StorageError::Database(e) => {
            is_unique_violation(e)
                || matches!(e, sqlx::Error::Database(db)
                    if matches!(db.code().as_deref(), Some("40P01" | "40001")))
        }
        StorageError::Sqlite(e) => is_unique_violation_native(e),
        _ => false,
    }
}

// ---- idempotency ---------------------------------------------------------

pub(crate) async fn store_answer(
    tx: &mut Tx,
    scope: &str,
    key: &str,
    answer: &StoredAnswer,
    now_ms: i64,
) -> Result<(), StorageError> {
    store_answer_sql(scope, key, answer, now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Storage {
    /// [`store_answer`] as a statement of its own, outside any transaction
    /// (a refusal writes nothing else).
    pub(crate) async fn store_answer_alone(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        self.execute_write(store_answer_sql(scope, key, answer, now_ms))
            .await
            .map(|_| ())
    }
}

fn store_answer_sql(scope: &str, key: &str, answer: &StoredAnswer, now_ms: i64) -> Sql {
    let mut sql = Sql::new("");
    push_store_answer(&mut sql, scope, key, answer, now_ms);
    sql
}

// ---- stock ---------------------------------------------------------------

/// The current stock rows of these SKUs at every location, locked until
/// commit on PostgreSQL (on SQLite the write transaction already excludes
/// every other writer).
pub(crate) async fn lock_stock_of(
    tx: &mut Tx,
    backend: Backend,
    skus: &[String],
) -> Result<Vec<super::StockLevel>, StorageError> {
    let sql = stock_of_sql(skus, backend == Backend::Postgres);
    levels_of(&sql.fetch_all(&mut **tx).await?)
}

impl Storage {
    /// The committed stock rows of these SKUs at every location, read in one
    /// statement (one snapshot) outside any write transaction: no lock, no
    /// write turn.
    pub(crate) async fn committed_stock_of(
        &self,
        skus: &[String],
    ) -> Result<Vec<super::StockLevel>, StorageError> {
        levels_of(&stock_of_sql(skus, false).fetch_all(&self.pool).await?)
    }
}

fn stock_of_sql(skus: &[String], for_update: bool) -> Sql {
    let mut sql = Sql::new(
        "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels WHERE sku IN (",
    );
    for (i, sku) in skus.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(sku.clone());
    }
    sql.push(") ORDER BY sku, location_id");
    if for_update {
        sql.push(" FOR UPDATE");
    }
    sql
}

fn levels_of(rows: &[AnyRow]) -> Result<Vec<super::StockLevel>, StorageError> {
    rows.iter().map(super::stock::level_from_row).collect()
}

/// Adds to on_hand and reserved (negative to take away). Reserved never goes
/// below zero. Returns the new (on_hand, reserved).
pub(crate) async fn adjust_stock(
    tx: &mut Tx,
    sku: &str,
    location: &str,
    on_hand_delta: i64,
    reserved_delta: i64,
    seq: i64,
) -> Result<(i64, i64), StorageError> {
    let mut sql = Sql::new("UPDATE stock_levels SET on_hand = on_hand + ");
    sql.bind(on_hand_delta)
        .push(", reserved = CASE WHEN reserved + ")
        .bind(reserved_delta)
        .push(" < 0 THEN 0 ELSE reserved + ")
        .bind(reserved_delta)
        .push(" END, change_seq = ")
        .bind(seq)
        .push(" WHERE sku = ")
        .bind(sku.to_owned())
        .push(" AND location_id = ")
        .bind(location.to_owned())
        .push(" RETURNING on_hand, reserved");
    match sql.fetch_optional(&mut **tx).await? {
        Some(row) => Ok((row.try_get("on_hand")?, row.try_get("reserved")?)),
        None => {
            // No row yet (a return to a location that never held the SKU).
            let mut insert = Sql::new(
                "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, change_seq)",
            );
            insert.values([()], |row, ()| {
                row.bind(sku.to_owned())
                    .bind(location.to_owned())
                    .bind(on_hand_delta)
                    .bind(0_i64)
                    .bind(seq);
            });
            insert.execute(&mut **tx).await?;
            Ok((on_hand_delta, 0))
        }
    }
}

/// Sets a stock row to exact values (a picker's stock correction).
pub(crate) async fn set_stock(
    tx: &mut Tx,
    sku: &str,
    location: &str,
    on_hand: i64,
    reserved: i64,
    seq: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new("UPDATE stock_levels SET on_hand = ");
    sql.bind(on_hand)
        .push(", reserved = ")
        .bind(reserved)
        .push(", change_seq = ")
        .bind(seq)
        .push(" WHERE sku = ")
        .bind(sku.to_owned())
        .push(" AND location_id = ")
        .bind(location.to_owned());
    sql.execute(&mut **tx).await?;
    Ok(())
}

// ---- orders and fulfilments ---------------------------------------------

/// Customer columns of an order, for search.
#[derive(Debug, Clone)]
pub struct OrderColumns<'a> {
    pub id: &'a str,
    pub channel_id: &'a str,
    pub status: &'a str,
    pub customer_name: &'a str,
    pub customer_email: Option<&'a str>,
    pub customer_phone: Option<&'a str>,
    pub placed_at_ms: i64,
}

pub(crate) async fn update_order(
    tx: &mut Tx,
    id: &str,
    status: &str,
    document: &str,
    seq: i64,
) -> Result<(), StorageError> {
    update_document(tx, "orders", id, status, document, seq).await
}

/// Sets the status, document and change number of an order or fulfilment.
async fn update_document(
    tx: &mut Tx,
    table: &'static str,
    id: &str,
    status: &str,
    document: &str,
    seq: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new(&format!("UPDATE {table} SET status = "));
    sql.bind(status.to_owned())
        .push(", document = ")
        .bind(document.to_owned())
        .push(", change_seq = ")
        .bind(seq)
        .push(" WHERE id = ")
        .bind(id.to_owned());
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// Reads an order inside a writing transaction, locking it on PostgreSQL.
pub(crate) async fn lock_order(
    tx: &mut Tx,
    backend: Backend,
    id: &str,
) -> Result<Option<OrderRecord>, StorageError> {
    let mut sql = Sql::new("SELECT id, status, document FROM orders WHERE id = ");
    sql.bind(id.to_owned());
    if backend == Backend::Postgres {
        sql.push(" FOR UPDATE");
    }
    sql.fetch_optional(&mut **tx)
        .await?
        .map(|row| order_from_row(&row))
        .transpose()
}

fn order_from_row(row: &AnyRow) -> Result<OrderRecord, StorageError> {
    Ok(OrderRecord {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        document: row.try_get("document")?,
    })
}

pub(crate) async fn insert_fulfilment(
    tx: &mut Tx,
    record: &FulfilmentRecord,
    due_at_ms: i64,
    seq: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new(
        "INSERT INTO fulfilments (id, order_id, location_id, status, due_at_ms, document, change_seq)",
    );
    sql.values([()], |row, ()| {
        row.bind(record.id.clone())
            .bind(record.order_id.clone())
            .bind(record.location_id.clone())
            .bind(record.status.clone())
            .bind(due_at_ms)
            .bind(record.document.clone())
            .bind(seq);
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// Writes a fulfilment's new state; `location` is where it is handled now
/// (the pickup store once a ship-to-store parcel left), which the queue,
/// store scope and store-scoped changes read.
pub(crate) async fn update_fulfilment(
    tx: &mut Tx,
    id: &str,
    status: &str,
    location: &str,
    document: &str,
    seq: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new("UPDATE fulfilments SET status = ");
    sql.bind(status.to_owned())
        .push(", location_id = ")
        .bind(location.to_owned())
        .push(", document = ")
        .bind(document.to_owned())
        .push(", change_seq = ")
        .bind(seq)
        .push(" WHERE id = ")
        .bind(id.to_owned());
    sql.execute(&mut **tx).await?;
    Ok(())
}

const FULFILMENT_COLUMNS: &str =
    "SELECT id, order_id, location_id, status, document FROM fulfilments";

fn fulfilment_from_row(row: &AnyRow) -> Result<FulfilmentRecord, StorageError> {
    Ok(FulfilmentRecord {
        id: row.try_get("id")?,
        order_id: row.try_get("order_id")?,
        location_id: row.try_get("location_id")?,
        status: row.try_get("status")?,
        document: row.try_get("document")?,
    })
}

/// The fulfilments of an order, in creation order, inside a transaction
/// (locked on PostgreSQL).
pub(crate) async fn lock_fulfilments_of(
    tx: &mut Tx,
    backend: Backend,
    order_id: &str,
) -> Result<Vec<FulfilmentRecord>, StorageError> {
    let mut sql = Sql::new(FULFILMENT_COLUMNS);
    sql.push(" WHERE order_id = ")
        .bind(order_id.to_owned())
        .push(" ORDER BY id");
    if backend == Backend::Postgres {
        sql.push(" FOR UPDATE");
    }
    sql.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(fulfilment_from_row)
        .collect()
}

/// The order a fulfilment belongs to.
pub(crate) async fn order_of_fulfilment(
    tx: &mut Tx,
    fulfilment_id: &str,
) -> Result<Option<String>, StorageError> {
    let mut sql = Sql::new("SELECT order_id FROM fulfilments WHERE id = ");
    sql.bind(fulfilment_id.to_owned());
    sql.fetch_optional(&mut **tx)
        .await?
        .map(|row| Ok(row.try_get("order_id")?))
        .transpose()
}

/// Fulfilments at a location in these statuses (the units they hold are set
/// aside there).
pub(crate) async fn fulfilments_at(
    tx: &mut Tx,
    location: &str,
    statuses: &[&str],
) -> Result<Vec<FulfilmentRecord>, StorageError> {
    let mut sql = Sql::new(FULFILMENT_COLUMNS);
    sql.push(" WHERE location_id = ")
        .bind(location.to_owned())
        .push(" AND status IN (");
    for (i, status) in statuses.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind((*status).to_owned());
    }
    sql.push(")");
    sql.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(fulfilment_from_row)
        .collect()
}

/// Appends events, outbox messages and payment instructions.
pub(crate) async fn insert_messages(
    tx: &mut Tx,
    backend: Backend,
    order_id: &str,
    messages: &NewMessages,
    now_ms: i64,
) -> Result<(), StorageError> {
    if !messages.events.is_empty() {
        let mut sql = Sql::anonymous("", backend);
        push_insert_events(&mut sql, order_id, &messages.events);
        sql.execute(&mut **tx).await?;
    }
    if !messages.outbox.is_empty() {
        let mut sql = Sql::anonymous("", backend);
        push_insert_outbox(&mut sql, order_id, &messages.outbox, now_ms);
        sql.execute(&mut **tx).await?;
    }
    if !messages.payments.is_empty() {
        let mut sql = Sql::anonymous("", backend);
        push_insert_payments(&mut sql, order_id, &messages.payments, now_ms);
        sql.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Σ captured minus Σ refunded for an order so far (succeeded or pending:
/// an instruction once written will be carried out).
pub(crate) async fn captured_minor(tx: &mut Tx, order_id: &str) -> Result<i64, StorageError> {
    let mut sql = Sql::new(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total FROM payments \
         WHERE kind = 'capture' AND status IN ('pending', 'succeeded') AND order_id = ",
    );
    sql.bind(order_id.to_owned());
    let row = sql.fetch_one(&mut **tx).await?;
    Ok(row.try_get("total")?)
}

// ---- rule sets -----------------------------------------------------------

pub(crate) async fn insert_rule_set(
    tx: &mut Tx,
    channel_id: &str,
    version: i64,
    document: &str,
    active: bool,
    created_by: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new(
        "INSERT INTO rule_sets (channel_id, version, document, active, created_at_ms, created_by)",
    );
    sql.values([()], |row, ()| {
        row.bind(channel_id.to_owned())
            .bind(version)
            .bind(document.to_owned())
            .bind(i64::from(active))
            .bind(now_ms)
            .bind(created_by.to_owned());
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

fn rule_set_from_row(row: &AnyRow) -> Result<RuleSetRecord, StorageError> {
    let active: i64 = row.try_get("active")?;
    Ok(RuleSetRecord {
        channel_id: row.try_get("channel_id")?,
        version: row.try_get("version")?,
        document: row.try_get("document")?,
        active: active == 1,
        created_at_ms: row.try_get("created_at_ms")?,
        created_by: row.try_get("created_by")?,
    })
}

const RULE_SET_COLUMNS: &str =
    "SELECT channel_id, version, document, active, created_at_ms, created_by FROM rule_sets";

impl Storage {
    /// Writes the given rule sets (active) for channels that have none yet.
    pub async fn ensure_rule_sets(
        &self,
        sets: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        for (channel, document) in sets {
            let mut sql = Sql::new("SELECT 1 AS one FROM rule_sets WHERE channel_id = ");
            sql.bind(channel.clone());
            if sql.fetch_optional(&mut **tx).await?.is_none() {
                insert_rule_set(&mut tx, channel, 1, document, true, "demo", now_ms).await?;
            }
        }
        tx.commit().await?;
        self.pricing.invalidate();
        Ok(())
    }

    /// The active rule set of a channel.
    pub async fn active_rule_set(
        &self,
        channel_id: &str,
    ) -> Result<Option<RuleSetRecord>, StorageError> {
        if let Some(cached) = self.pricing.rules(channel_id) {
            return Ok(cached);
        }
        let generation = self.pricing.generation();
        let read = self.read_active_rule_set(channel_id).await?;
        self.pricing
            .keep_rules(generation, channel_id, read.clone());
        Ok(read)
    }

    async fn read_active_rule_set(
        &self,
        channel_id: &str,
    ) -> Result<Option<RuleSetRecord>, StorageError> {
        let mut sql = Sql::new(RULE_SET_COLUMNS);
        sql.push(" WHERE active = 1 AND channel_id = ")
            .bind(channel_id.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .map(|row| rule_set_from_row(&row))
            .transpose()
    }

    /// Every version of a channel's rule sets, newest first.
    pub async fn rule_sets_of(&self, channel_id: &str) -> Result<Vec<RuleSetRecord>, StorageError> {
        let mut sql = Sql::new(RULE_SET_COLUMNS);
        sql.push(" WHERE channel_id = ")
            .bind(channel_id.to_owned())
            .push(" ORDER BY version DESC");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(rule_set_from_row)
            .collect()
    }

    /// Stores a new version (inactive); returns its number.
    pub async fn add_rule_set_version(
        &self,
        channel_id: &str,
        document_for: impl Fn(i64) -> Result<String, StorageError>,
        created_by: &str,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) AS v FROM rule_sets WHERE channel_id = ",
        );
        sql.bind(channel_id.to_owned());
        let last: i64 = sql.fetch_one(&mut **tx).await?.try_get("v")?;
        let version = last + 1;
        let document = document_for(version)?;
        insert_rule_set(
            &mut tx, channel_id, version, &document, false, created_by, now_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Makes a version the channel's active one. `false` if it does not exist.
    pub async fn activate_rule_set(
        &self,
        channel_id: &str,
        version: i64,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut exists = Sql::new("SELECT 1 AS one FROM rule_sets WHERE channel_id = ");
        exists
            .bind(channel_id.to_owned())
            .push(" AND version = ")
            .bind(version);
        if exists.fetch_optional(&mut **tx).await?.is_none() {
            return Ok(false);
        }
        let mut off =
            Sql::new("UPDATE rule_sets SET active = 0 WHERE active = 1 AND channel_id = ");
        off.bind(channel_id.to_owned());
        off.execute(&mut **tx).await?;
        let mut on = Sql::new("UPDATE rule_sets SET active = 1 WHERE channel_id = ");
        on.bind(channel_id.to_owned())
            .push(" AND version = ")
            .bind(version);
        on.execute(&mut **tx).await?;
        tx.commit().await?;
        self.pricing.invalidate();
        Ok(true)
    }

    // ---- reads ------------------------------------------------------------

    pub async fn order(&self, id: &str) -> Result<Option<OrderRecord>, StorageError> {
        let mut sql = Sql::new("SELECT id, status, document FROM orders WHERE id = ");
        sql.bind(id.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .map(|row| order_from_row(&row))
            .transpose()
    }

    pub async fn fulfilments_of(
        &self,
        order_id: &str,
    ) -> Result<Vec<FulfilmentRecord>, StorageError> {
        let mut sql = Sql::new(FULFILMENT_COLUMNS);
        sql.push(" WHERE order_id = ")
            .bind(order_id.to_owned())
            .push(" ORDER BY id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(fulfilment_from_row)
            .collect()
    }

    pub async fn fulfilment(&self, id: &str) -> Result<Option<FulfilmentRecord>, StorageError> {
        let mut sql = Sql::new(FULFILMENT_COLUMNS);
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .map(|row| fulfilment_from_row(&row))
            .transpose()
    }

    /// A location's fulfilments in these statuses, by due time then id,
    /// after the key `(due_at_ms, id)` of the previous page's last row, with
    /// each row's due time (the next page's key).
    pub async fn fulfilment_queue(
        &self,
        location: &str,
        statuses: &[String],
        limit: u32,
        after: Option<(i64, String)>,
    ) -> Result<Vec<(i64, FulfilmentRecord)>, StorageError> {
        let mut sql = Sql::new(
            "SELECT id, order_id, location_id, status, document, due_at_ms FROM fulfilments",
        );
        sql.push(" WHERE location_id = ")
            .bind(location.to_owned())
            .push(" AND status IN (");
        for (i, status) in statuses.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(status.clone());
        }
        sql.push(")");
        if let Some((due_at_ms, id)) = after {
            sql.push(" AND (due_at_ms > ")
                .bind(due_at_ms)
                .push(" OR (due_at_ms = ")
                .bind(due_at_ms)
                .push(" AND id > ")
                .bind(id)
                .push("))");
        }
        sql.push(" ORDER BY due_at_ms, id LIMIT ")
            .bind(i64::from(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| Ok((row.try_get("due_at_ms")?, fulfilment_from_row(row)?)))
            .collect()
    }

    /// Orders whose number, e-mail or phone is `q`, or whose customer name
    /// starts with it (case-insensitive), newest first (then by number),
    /// after the key `(placed_at_ms, id)` of the previous page's last row.
    pub async fn search_orders(
        &self,
        q: &str,
        limit: u32,
        after: Option<(i64, String)>,
    ) -> Result<Vec<OrderSummaryRecord>, StorageError> {
        let mut sql = Sql::new(
            "SELECT id, status, channel_id, customer_name, placed_at_ms FROM orders WHERE (id = ",
        );
        sql.bind(q.to_owned())
            .push(" OR customer_email = ")
            .bind(q.to_lowercase())
            .push(" OR customer_phone = ")
            .bind(normalise_phone(q))
            .push(" OR lower(customer_name) LIKE ")
            .bind(format!("{}%", escape_like(&q.to_lowercase())))
            .push(" ESCAPE '\\')");
        if let Some((placed_at_ms, id)) = after {
            sql.push(" AND (placed_at_ms < ")
                .bind(placed_at_ms)
                .push(" OR (placed_at_ms = ")
                .bind(placed_at_ms)
                .push(" AND id > ")
                .bind(id)
                .push("))");
        }
        sql.push(" ORDER BY placed_at_ms DESC, id LIMIT ")
            .bind(i64::from(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(OrderSummaryRecord {
                    id: row.try_get("id")?,
                    status: row.try_get("status")?,
                    channel_id: row.try_get("channel_id")?,
                    customer_name: row.try_get("customer_name")?,
                    placed_at_ms: row.try_get("placed_at_ms")?,
                })
            })
            .collect()
    }

    /// An order's events in the order they were written.
    pub async fn order_events(&self, order_id: &str) -> Result<Vec<EventRecord>, StorageError> {
        let mut sql = Sql::new("SELECT id, document FROM order_events WHERE order_id = ");
        sql.bind(order_id.to_owned()).push(" ORDER BY id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(EventRecord {
                    seq: row.try_get("id")?,
                    document: row.try_get("document")?,
                })
            })
            .collect()
    }

    /// An order's payment instructions, oldest first.
    pub async fn payments_of(&self, order_id: &str) -> Result<Vec<PaymentRecord>, StorageError> {
        let mut sql = Sql::new(
            "SELECT id, order_id, kind, amount_minor, currency, reference, idempotency_key, \
             status, provider_reference, attempts, last_error, payment_url FROM payments \
             WHERE order_id = ",
        );
        sql.bind(order_id.to_owned()).push(" ORDER BY id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(payment_from_row)
            .collect()
    }

    /// An order's outbox messages of a topic, oldest first.
    pub async fn outbox_of(
        &self,
        order_id: &str,
        topic: &str,
    ) -> Result<Vec<OutboxRecord>, StorageError> {
        let mut sql = Sql::new(
            "SELECT id, topic, payload, attempts, delivered_at_ms, dead_at_ms, last_error \
             FROM outbox WHERE order_id = ",
        );
        sql.bind(order_id.to_owned())
            .push(" AND topic = ")
            .bind(topic.to_owned())
            .push(" ORDER BY id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(outbox_from_row)
            .collect()
    }

    /// Σ reserved over every stock row, and Σ of the units the open
    /// fulfilments hold (they must be equal: a check for tests and ops).
    pub async fn reserved_total(&self) -> Result<i64, StorageError> {
        let row = Sql::new(
            "SELECT CAST(COALESCE(SUM(reserved), 0) AS BIGINT) AS total FROM stock_levels",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("total")?)
    }
}

pub(crate) fn payment_from_row(row: &AnyRow) -> Result<PaymentRecord, StorageError> {
    Ok(PaymentRecord {
        id: row.try_get("id")?,
        order_id: row.try_get("order_id")?,
        kind: row.try_get("kind")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        reference: row.try_get("reference")?,
        idempotency_key: row.try_get("idempotency_key")?,
        status: row.try_get("status")?,
        provider_reference: row.try_get("provider_reference")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        payment_url: row.try_get("payment_url")?,
    })
}

pub(crate) fn outbox_from_row(row: &AnyRow) -> Result<OutboxRecord, StorageError> {
    let delivered: Option<i64> = row.try_get("delivered_at_ms")?;
    let dead: Option<i64> = row.try_get("dead_at_ms")?;
    Ok(OutboxRecord {
        id: row.try_get("id")?,
        topic: row.try_get("topic")?,
        payload: row.try_get("payload")?,
        attempts: row.try_get("attempts")?,
        delivered: delivered.is_some(),
        dead: dead.is_some(),
        last_error: row.try_get("last_error")?,
    })
}

/// Phone numbers are stored and searched with digits and a leading `+` only.
pub fn normalise_phone(phone: &str) -> String {
    let trimmed = phone.trim();
    let mut out: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.starts_with('+') {
        out.insert(0, '+');
    }
    out
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Storage {
    /// Unit prices of these SKUs for a channel in its currency: the channel's
    /// own price when it has one, else the catalogue price in that currency.
    pub async fn prices(
        &self,
        channel_id: &str,
        currency: &str,
        skus: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StorageError> {
        // Taken before the read (see storage::pricing).
        let generation = self.pricing.generation();
        let (mut found, missing) = self.pricing.prices(channel_id, currency, skus);
        if missing.is_empty() {
            return Ok(found);
        }
        let read = self.read_prices(channel_id, currency, &missing).await?;
        self.pricing.keep_prices(
            generation,
            channel_id,
            currency,
            missing
                .iter()
                .map(|sku| (sku.clone(), read.get(sku).copied())),
        );
        found.extend(read);
        Ok(found)
    }

    async fn read_prices(
        &self,
        channel_id: &str,
        currency: &str,
        skus: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StorageError> {
        let mut found = std::collections::HashMap::new();
        if skus.is_empty() {
            return Ok(found);
        }
        let list = |sql: &mut Sql| {
            sql.push(" AND sku IN (");
            for (i, sku) in skus.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(sku.clone());
            }
            sql.push(")");
        };
        let mut catalogue =
            Sql::new("SELECT sku, amount_minor FROM product_prices WHERE currency = ");
        catalogue.bind(currency.to_owned());
        list(&mut catalogue);
        for row in catalogue.fetch_all(self.pool()).await? {
            found.insert(row.try_get("sku")?, row.try_get("amount_minor")?);
        }
        let mut channel =
            Sql::new("SELECT sku, amount_minor FROM channel_prices WHERE channel_id = ");
        channel
            .bind(channel_id.to_owned())
            .push(" AND currency = ")
            .bind(currency.to_owned());
        list(&mut channel);
        for row in channel.fetch_all(self.pool()).await? {
            found.insert(row.try_get("sku")?, row.try_get("amount_minor")?);
        }
        Ok(found)
    }
}

impl Storage {
    /// Queues a notification of an order again (customer service's
    /// "re-send"): a new outbox message with the same words. Returns its id,
    /// or `None` when the order has no such notification.
    pub async fn resend_notification(
        &self,
        order_id: &str,
        notification_id: i64,
        now_ms: i64,
    ) -> Result<Option<i64>, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO outbox (topic, order_id, payload, created_at_ms, next_attempt_at_ms) \
             SELECT topic, order_id, payload, ",
        );
        sql.bind(now_ms)
            .push(", ")
            .bind(now_ms)
            .push(" FROM outbox WHERE topic = 'notification' AND id = ")
            .bind(notification_id)
            .push(" AND order_id = ")
            .bind(order_id.to_owned())
            .push(" RETURNING id");
        let row = sql.fetch_optional(&mut **tx).await?;
        tx.commit().await?;
        row.map(|row| Ok(row.try_get("id")?)).transpose()
    }
}

impl Storage {
    /// Each location's order count on its latest local date (daily caps),
    /// for the stock index.
    pub async fn latest_location_loads(&self) -> Result<Vec<(String, String, i64)>, StorageError> {
        let rows = Sql::new(
            "SELECT d.location_id, d.local_date, d.orders FROM location_daily_orders d \
             WHERE d.local_date = (SELECT MAX(e.local_date) FROM location_daily_orders e \
             WHERE e.location_id = d.location_id)",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("location_id")?,
                    row.try_get("local_date")?,
                    row.try_get("orders")?,
                ))
            })
            .collect()
    }
}

impl Storage {
    /// The stored answer of an idempotent request, read outside any
    /// transaction (a concurrent duplicate is caught by the key's primary key
    /// when it is written).
    pub async fn stored_answer_of(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<StoredAnswer>, StorageError> {
        let mut sql =
            Sql::new("SELECT request_hash, status, response FROM idempotency_keys WHERE scope = ");
        sql.bind(scope.to_owned())
            .push(" AND key = ")
            .bind(key.to_owned());
        let Some(row) = sql.fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let status: i64 = row.try_get("status")?;
        Ok(Some(StoredAnswer {
            request_hash: row.try_get("request_hash")?,
            status: u16::try_from(status)
                .map_err(|_| StorageError::Corrupt(format!("stored status {status}")))?,
            response: row.try_get("response")?,
        }))
    }
}

/// One conditional reservation: `quantity` units of `sku` at `location`, if
/// `on_hand − reserved − safety ≥ quantity` there.
#[derive(Debug, Clone)]
pub struct Reserve {
    pub sku: String,
    pub location: String,
    pub quantity: i64,
    pub safety: i64,
}

/// Makes every reservation in one statement, or none: `None` when some row
/// no longer has the units (the caller rolls back). Otherwise the new
/// (sku, location, on_hand, reserved) of each row.
pub(crate) async fn reserve_many(
    tx: &mut Tx,
    reservations: &[Reserve],
    seq: i64,
) -> Result<Option<Vec<(String, String, i64, i64)>>, StorageError> {
    if reservations.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut sql = Sql::new("");
    push_reserve(&mut sql, reservations, SeqValue::Bound(seq));
    let rows = sql.fetch_all(&mut **tx).await?;
    if rows.len() != reservations.len() {
        return Ok(None);
    }
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("sku")?,
                row.try_get("location_id")?,
                row.try_get("on_hand")?,
                row.try_get("reserved")?,
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()
        .map(Some)
}

/// Everything a placement writes once its plan is known.
#[derive(Debug)]
pub struct PlacementWrite<'a> {
    pub order: OrderColumns<'a>,
    pub document: &'a str,
    pub reserve: &'a [Reserve],
    /// New fulfilments and their due times.
    pub fulfilments: &'a [(FulfilmentRecord, i64)],
    /// (location, local date) counted towards daily caps.
    pub days: &'a [(String, String)],
    pub messages: &'a NewMessages,
    /// The answer stored for the Idempotency-Key: (scope, key, answer).
    pub answer: Option<(&'a str, &'a str, &'a StoredAnswer)>,
    /// A task for the store whose device took the order, when the core
    /// served it otherwise than the device could promise.
    pub task: Option<&'a oms_api::wire::StoreTask>,
    pub now_ms: i64,
}

/// What a placement's write returned.
#[derive(Debug)]
pub struct PlacementWritten {
    /// New (sku, location, on_hand, reserved) of the reserved rows.
    pub reserved: Vec<(String, String, i64, i64)>,
    /// New (location, local date, orders) counts.
    pub counts: Vec<(String, String, i64)>,
}

/// Writes a placement in its transaction; `None` when a reservation found
/// its units gone (the caller rolls back: the batch or statement below has
/// written the rest already, which the rollback undoes).
///
/// On SQLite the whole write is **one batch of statements** sent in one
/// round trip to the connection's thread (sqlx binds anonymous parameters
/// across the statements of a batch in order), the change number read back
/// from the counter row by each statement: the write turn then costs three
/// hops (BEGIN, batch, COMMIT) instead of one per statement. On PostgreSQL
/// it is the group commit's one statement of data-modifying CTEs with
/// `seq`, the number the caller took (the counter stays locked until this
/// transaction commits): one round trip instead of nine while the counter
/// is held.
pub(crate) async fn write_placement(
    tx: &mut Tx,
    backend: Backend,
    write: &PlacementWrite<'_>,
    seq: Option<i64>,
) -> Result<Option<PlacementWritten>, StorageError> {
    match backend {
        Backend::Sqlite => write_placement_batch(tx, write).await,
        Backend::Postgres => {
            let seq = match seq {
                Some(seq) => seq,
                None => super::next_change_seqs(tx, 1).await?,
            };
            // Short of units, the statement has still written the rest: the
            // caller rolls the transaction back.
            let rows = placement_statement_pg_as(write, SeqValue::Bound(seq))
                .fetch_all(&mut **tx)
                .await?;
            placement_written_pg(&rows, write.reserve.len())
        }
    }
}

/// SQLite: the placement as one batch (see [`write_placement`]).
async fn write_placement_batch(
    tx: &mut Tx,
    write: &PlacementWrite<'_>,
) -> Result<Option<PlacementWritten>, StorageError> {
    let sql = placement_batch(write);
    let rows = sql.fetch_all(&mut **tx).await?;
    placement_written(&rows, write.reserve.len())
}

/// The SQLite statement batch of a placement: sent as one batch through
/// sqlx (the locked path), or run statement by statement on the group
/// commit's own connection ([`placement_written_native`]).
pub(crate) fn placement_batch(write: &PlacementWrite<'_>) -> Sql {
    let mut sql = Sql::anonymous(
        "UPDATE change_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
        Backend::Sqlite,
    );
    sql.end_statement();
    if !write.reserve.is_empty() {
        push_reserve(&mut sql, write.reserve, SeqValue::Counter);
        sql.end_statement();
    }
    let o = &write.order;
    push_insert_order(&mut sql, o, write.document, SeqValue::Counter);
    sql.end_statement();
    if !write.fulfilments.is_empty() {
        push_insert_fulfilments(&mut sql, write.fulfilments, SeqValue::Counter);
        sql.end_statement();
    }
    if !write.days.is_empty() {
        push_count_days(&mut sql, write.days);
        sql.end_statement();
    }
    let m = write.messages;
    if !m.events.is_empty() {
        push_insert_events(&mut sql, o.id, &m.events);
        sql.end_statement();
    }
    if !m.outbox.is_empty() {
        push_insert_outbox(&mut sql, o.id, &m.outbox, write.now_ms);
        sql.end_statement();
    }
    if !m.payments.is_empty() {
        push_insert_payments(&mut sql, o.id, &m.payments, write.now_ms);
        sql.end_statement();
    }
    if let Some((scope, key, answer)) = write.answer {
        push_store_answer(&mut sql, scope, key, answer, write.now_ms);
        sql.end_statement();
    }
    if let Some(task) = write.task {
        super::sync::push_insert_task(&mut sql, task, SeqValue::Counter, write.now_ms);
        sql.end_statement();
    }
    sql
}

/// Which rows of a placement batch are which, told apart by their columns
/// (`has`: whether the row has a column of that name).
fn placement_row(has: impl Fn(&str) -> bool) -> Option<PlacementRow> {
    if has("on_hand") {
        Some(PlacementRow::Reserved)
    } else if has("orders") {
        Some(PlacementRow::DailyCount)
    } else {
        None
    }
}

/// What a placement batch returned: `None` if some reservation found its
/// units gone (`expected` rows should have been reserved).
pub(crate) fn placement_written(
    rows: &[AnyRow],
    expected: usize,
) -> Result<Option<PlacementWritten>, StorageError> {
    collect_placement(rows, expected, |row| {
        Ok(placement_row(|name| {
            row.columns().iter().any(|c| c.name() == name)
        }))
    })
}

/// Runs a placement batch ([`placement_batch`]) on the group commit's own
/// SQLite connection, inside its open transaction: `None` if some
/// reservation found its units gone (the caller rolls back to the
/// placement's savepoint).
pub(crate) fn placement_written_native(
    connection: &rusqlite::Connection,
    batch: &Sql,
    expected: usize,
) -> rusqlite::Result<Option<PlacementWritten>> {
    let mut collected = PlacementRows::with_capacity(expected);
    batch.run_native(connection, |row| {
        let statement: &rusqlite::Statement<'_> = row.as_ref();
        collected.add(
            placement_row(|name| statement.column_index(name).is_ok()),
            |name| row.get(name),
            |name| row.get(name),
        )
    })?;
    Ok(collected.written(expected))
}

/// A row a placement's write returns.
enum PlacementRow {
    /// A stock row it reserved (`sku, location_id, on_hand, reserved`).
    Reserved,
    /// A location's new daily order count (`location_id, local_date, orders`).
    DailyCount,
}

/// The reserved rows and daily counts among `rows`, as `kind` tells them
/// apart (`None`: neither); `None` if fewer than `expected` were reserved.
fn collect_placement(
    rows: &[AnyRow],
    expected: usize,
    kind: impl Fn(&AnyRow) -> Result<Option<PlacementRow>, StorageError>,
) -> Result<Option<PlacementWritten>, StorageError> {
    let mut collected = PlacementRows::with_capacity(expected);
    for row in rows {
        collected.add(
            kind(row)?,
            |name| row.try_get(name).map_err(StorageError::from),
            |name| row.try_get(name).map_err(StorageError::from),
        )?;
    }
    Ok(collected.written(expected))
}

/// The rows a placement's write returned, by kind, whatever driver read
/// them (sqlx's `Any` rows or rusqlite's).
struct PlacementRows(PlacementWritten);

impl PlacementRows {
    fn with_capacity(expected: usize) -> Self {
        Self(PlacementWritten {
            reserved: Vec::with_capacity(expected),
            counts: Vec::new(),
        })
    }

    /// Keeps a row of `kind` (`None`: neither kind), its columns read by
    /// name with `text` and `number`.
    fn add<E>(
        &mut self,
        kind: Option<PlacementRow>,
        text: impl Fn(&str) -> Result<String, E>,
        number: impl Fn(&str) -> Result<i64, E>,
    ) -> Result<(), E> {
        match kind {
            Some(PlacementRow::Reserved) => self.0.reserved.push((
                text("sku")?,
                text("location_id")?,
                number("on_hand")?,
                number("reserved")?,
            )),
            Some(PlacementRow::DailyCount) => {
                self.0
                    .counts
                    .push((text("location_id")?, text("local_date")?, number("orders")?))
            }
            None => {}
        }
        Ok(())
    }

    /// `None` if fewer than `expected` rows were reserved.
    fn written(self, expected: usize) -> Option<PlacementWritten> {
        (self.0.reserved.len() == expected).then_some(self.0)
    }
}

/// PostgreSQL: the placement as **one statement** (data-modifying CTEs, one
/// round trip instead of one per table), for group commit, and **all or
/// nothing by itself**, so the group needs no savepoint per placement:
///
/// - `ok` checks, read-only, that every wanted row has its units (and that
///   no row is wanted twice); `k` stores the Idempotency-Key's answer only
///   if `ok`, and `ON CONFLICT DO NOTHING` (a replay, a concurrent
///   duplicate): no error that would abort the group's transaction; `g` is
///   the gate: `k` wrote (or, without a key, `ok`).
/// - Every write — the counter (`c`), the reservation (`r`), the order,
///   fulfilments, daily counts, events, outbox, payments, task — happens
///   only under `g`; closed, the statement writes nothing.
/// - `ok` and `r` read the same rows with the same conditions. The group
///   took the change counter before its first statement (see
///   `group_commit`), and every writer takes the counter before any stock
///   row, so no other transaction changes stock while the group runs and
///   both see the rows as they are. Should `r` still reserve fewer rows than
///   wanted with the gate open, the caller gives the group up (rollback,
///   then the same statements each under a savepoint): a partial
///   reservation is never committed.
///
/// Rows: the reserved stock rows (`kind` 'r'), the new daily counts ('d')
/// and, when the gate was open, one 'g'.
pub(crate) fn placement_statement_pg(write: &PlacementWrite<'_>) -> Sql {
    const GATE: &str = "EXISTS (SELECT 1 FROM g)";
    let mut sql = Sql::new("WITH ");
    let wanted = write.reserve.len();
    if wanted == 0 {
        sql.push("ok AS (SELECT 1)");
    } else {
        sql.push("w (w_sku, w_location, w_quantity, w_safety) AS (VALUES ");
        push_wanted_rows(&mut sql, write.reserve);
        sql.push(
            "), ok AS (SELECT 1 FROM w JOIN stock_levels ON sku = w_sku AND location_id = w_location \
             WHERE on_hand - reserved - w_safety >= w_quantity HAVING count(*) = ",
        )
        .push(&wanted.to_string())
        .push(" AND count(DISTINCT (w_sku, w_location)) = ")
        .push(&wanted.to_string())
        .push(")");
    }
    match write.answer {
        Some((scope, key, answer)) => {
            sql.push(", k AS (").gate(Some("EXISTS (SELECT 1 FROM ok)"));
            push_store_answer(&mut sql, scope, key, answer, write.now_ms);
            sql.push(" ON CONFLICT (scope, key) DO NOTHING RETURNING 1), g AS (SELECT 1 FROM k)");
        }
        None => {
            sql.push(", g AS (SELECT 1 FROM ok)");
        }
    }
    sql.gate(Some(GATE));
    sql.push(", c AS (UPDATE change_counter SET last_seq = last_seq + 1 WHERE id = 1 AND ")
        .push(GATE)
        .push(" RETURNING last_seq), r AS (");
    let seq = SeqValue::Cte;
    if wanted == 0 {
        sql.push("SELECT sku, location_id, on_hand, reserved FROM stock_levels WHERE false");
    } else {
        sql.push("UPDATE stock_levels SET reserved = reserved + w_quantity, change_seq = ");
        seq.push(&mut sql);
        sql.push(
            " FROM w WHERE sku = w_sku AND location_id = w_location \
             AND on_hand - reserved - w_safety >= w_quantity AND ",
        )
        .push(GATE)
        .push(" RETURNING sku, location_id, on_hand, reserved");
    }
    sql.push("), o AS (");
    push_insert_order(&mut sql, &write.order, write.document, seq);
    sql.push(")");
    push_placement_rest(&mut sql, write, seq, false);
    sql.push(
        " UNION ALL SELECT 'g', CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
         CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT) FROM g",
    );
    sql
}

/// The locked placement's statement on PostgreSQL: like
/// [`placement_statement_pg`] but writing `seq`, the number its transaction
/// took before it read (and locked) its stock rows, and not gated: short of
/// units it shows fewer 'r' rows, and the caller rolls the transaction back.
fn placement_statement_pg_as(write: &PlacementWrite<'_>, seq: SeqValue) -> Sql {
    let mut sql = Sql::new("WITH r AS (");
    if write.reserve.is_empty() {
        // No row to reserve: an empty set of the same shape.
        sql.push("SELECT sku, location_id, on_hand, reserved FROM stock_levels WHERE false");
    } else {
        push_reserve(&mut sql, write.reserve, seq);
    }
    sql.push("), o AS (");
    push_insert_order(&mut sql, &write.order, write.document, seq);
    sql.push(")");
    push_placement_rest(&mut sql, write, seq, true);
    sql
}

/// The CTEs after the order's (fulfilments to task) and the statement's
/// SELECT of the 'r' and 'd' rows; `with_answer`: the answer's INSERT too.
fn push_placement_rest(
    sql: &mut Sql,
    write: &PlacementWrite<'_>,
    seq: SeqValue,
    with_answer: bool,
) {
    if !write.fulfilments.is_empty() {
        sql.push(", f AS (");
        push_insert_fulfilments(sql, write.fulfilments, seq);
        sql.push(")");
    }
    if write.days.is_empty() {
        sql.push(
            ", d AS (SELECT location_id, local_date, orders FROM location_daily_orders \
             WHERE false)",
        );
    } else {
        sql.push(", d AS (");
        push_count_days(sql, write.days);
        sql.push(")");
    }
    let m = write.messages;
    if !m.events.is_empty() {
        sql.push(", e AS (");
        push_insert_events(sql, write.order.id, &m.events);
        sql.push(")");
    }
    if !m.outbox.is_empty() {
        sql.push(", x AS (");
        push_insert_outbox(sql, write.order.id, &m.outbox, write.now_ms);
        sql.push(")");
    }
    if !m.payments.is_empty() {
        sql.push(", p AS (");
        push_insert_payments(sql, write.order.id, &m.payments, write.now_ms);
        sql.push(")");
    }
    if with_answer && let Some((scope, key, answer)) = write.answer {
        sql.push(", k AS (");
        push_store_answer(sql, scope, key, answer, write.now_ms);
        sql.push(")");
    }
    if let Some(task) = write.task {
        sql.push(", t AS (");
        super::sync::push_insert_task(sql, task, seq, write.now_ms);
        sql.push(")");
    }
    sql.push(
        " SELECT 'r' AS kind, sku, location_id, on_hand, reserved, \
         CAST(NULL AS TEXT) AS local_date, CAST(NULL AS BIGINT) AS orders FROM r \
         UNION ALL SELECT 'd', CAST(NULL AS TEXT), location_id, CAST(NULL AS BIGINT), \
         CAST(NULL AS BIGINT), local_date, orders FROM d",
    );
}

/// What [`placement_statement_pg`] returned.
#[derive(Debug)]
pub(crate) enum GatedPlacement {
    /// Written: every wanted row reserved.
    Written(PlacementWritten),
    /// The gate was closed (units gone, or the key's answer already
    /// stored): nothing was written.
    Refused,
    /// The gate was open but fewer rows were reserved than wanted: the
    /// statement wrote part of the placement; its transaction (or savepoint)
    /// must be rolled back.
    Partial,
}

/// Reads [`placement_statement_pg`]'s rows (`expected` reserved rows wanted).
pub(crate) fn placement_gated_pg(
    rows: &[AnyRow],
    expected: usize,
) -> Result<GatedPlacement, StorageError> {
    let mut open = false;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        open |= kind == "g";
    }
    if !open {
        // Nothing is written with the gate closed; rows anyway would mean
        // the statement is not what it claims: treat as partial.
        return Ok(if rows.is_empty() {
            GatedPlacement::Refused
        } else {
            GatedPlacement::Partial
        });
    }
    Ok(match placement_written_pg(rows, expected)? {
        Some(written) => GatedPlacement::Written(written),
        None => GatedPlacement::Partial,
    })
}

/// What a PostgreSQL placement statement returned: `None` if some
/// reservation found its units gone. Its rows say their `kind`: 'r', 'd'
/// (or the gate's 'g', skipped).
pub(crate) fn placement_written_pg(
    rows: &[AnyRow],
    expected: usize,
) -> Result<Option<PlacementWritten>, StorageError> {
    collect_placement(rows, expected, |row| {
        let kind: String = row.try_get("kind")?;
        Ok(match kind.as_str() {
            "r" => Some(PlacementRow::Reserved),
            "d" => Some(PlacementRow::DailyCount),
            _ => None,
        })
    })
}

// ---- statement pieces ----------------------------------------------------
//
// Each placement table's INSERT is written once, as a piece appended to a
// `Sql`: alone (PostgreSQL, and the other order steps) or in the SQLite
// placement batch, where the change number is read back from the counter.

/// The change number a piece writes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SeqValue {
    Bound(i64),
    /// The counter row's current value (inside the batch that bumped it).
    Counter,
    /// PostgreSQL: the number the statement's `c` CTE took (a CTE's
    /// sub-statements all see the snapshot from before it bumped the row).
    Cte,
}

impl SeqValue {
    pub(crate) fn push(self, sql: &mut Sql) {
        match self {
            SeqValue::Bound(seq) => {
                sql.bind(seq);
            }
            SeqValue::Counter => {
                sql.push("(SELECT last_seq FROM change_counter WHERE id = 1)");
            }
            SeqValue::Cte => {
                sql.push("(SELECT last_seq FROM c)");
            }
        }
    }
}

fn push_insert_order(sql: &mut Sql, o: &OrderColumns<'_>, document: &str, seq: SeqValue) {
    sql.push(
        "INSERT INTO orders (id, channel_id, status, customer_name, customer_email, \
         customer_phone, placed_at_ms, document, change_seq)",
    )
    .open_values()
    .push("(")
    .bind(o.id.to_owned())
    .push(", ")
    .bind(o.channel_id.to_owned())
    .push(", ")
    .bind(o.status.to_owned())
    .push(", ")
    .bind(o.customer_name.to_owned())
    .push(", ")
    .bind(o.customer_email.map(str::to_owned))
    .push(", ")
    .bind(o.customer_phone.map(str::to_owned))
    .push(", ")
    .bind(o.placed_at_ms)
    .push(", ")
    .bind(document.to_owned())
    .push(", ");
    seq.push(sql);
    sql.push(")").close_values();
}

fn push_insert_fulfilments(sql: &mut Sql, fulfilments: &[(FulfilmentRecord, i64)], seq: SeqValue) {
    sql.push(
        "INSERT INTO fulfilments (id, order_id, location_id, status, due_at_ms, document, \
         change_seq)",
    )
    .open_values();
    for (i, (record, due)) in fulfilments.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .bind(record.id.clone())
            .push(", ")
            .bind(record.order_id.clone())
            .push(", ")
            .bind(record.location_id.clone())
            .push(", ")
            .bind(record.status.clone())
            .push(", ")
            .bind(*due)
            .push(", ")
            .bind(record.document.clone())
            .push(", ");
        seq.push(sql);
        sql.push(")");
    }
    sql.close_values();
}

fn push_count_days(sql: &mut Sql, days: &[(String, String)]) {
    sql.push("INSERT INTO location_daily_orders (location_id, local_date, orders)");
    sql.values(days, |row, (location, date)| {
        row.bind(location.clone()).bind(date.clone()).bind(1_i64);
    });
    sql.push(
        " ON CONFLICT (location_id, local_date) DO UPDATE SET \
         orders = location_daily_orders.orders + 1 RETURNING location_id, local_date, orders",
    );
}

fn push_insert_events(
    sql: &mut Sql,
    order_id: &str,
    events: &[(Option<String>, String, i64, String)],
) {
    sql.push("INSERT INTO order_events (order_id, fulfilment_id, kind, at_ms, document)");
    sql.values(events, |row, (fulfilment, kind, at, document)| {
        row.bind(order_id.to_owned())
            .bind(fulfilment.clone())
            .bind(kind.clone())
            .bind(*at)
            .bind(document.clone());
    });
}

pub(crate) fn push_insert_outbox(
    sql: &mut Sql,
    order_id: &str,
    outbox: &[(&'static str, String)],
    now_ms: i64,
) {
    sql.push("INSERT INTO outbox (topic, order_id, payload, created_at_ms, next_attempt_at_ms)");
    sql.values(outbox, |row, (topic, payload)| {
        row.bind((*topic).to_owned())
            .bind(order_id.to_owned())
            .bind(payload.clone())
            .bind(now_ms)
            .bind(now_ms);
    });
}

fn push_insert_payments(sql: &mut Sql, order_id: &str, payments: &[NewPayment], now_ms: i64) {
    sql.push(
        "INSERT INTO payments (order_id, kind, amount_minor, currency, reference, \
         idempotency_key, status, provider_reference, next_attempt_at_ms, created_at_ms, \
         updated_at_ms)",
    );
    sql.values(payments, |row, p| {
        row.bind(order_id.to_owned())
            .bind(p.kind.to_owned())
            .bind(p.amount_minor)
            .bind(p.currency.clone())
            .bind(p.reference.clone())
            .bind(p.idempotency_key.clone())
            .bind(p.status.to_owned())
            .bind(p.provider_reference.clone())
            .bind(now_ms)
            .bind(now_ms)
            .bind(now_ms);
    });
}

fn push_store_answer(sql: &mut Sql, scope: &str, key: &str, answer: &StoredAnswer, now_ms: i64) {
    sql.push(
        "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, created_at_ms)",
    );
    sql.values([()], |row, ()| {
        row.bind(scope.to_owned())
            .bind(key.to_owned())
            .bind(answer.request_hash.clone())
            .bind(i64::from(answer.status))
            .bind(answer.response.clone())
            .bind(now_ms);
    });
}

/// The conditional reservation of every wanted row: the rows as a CTE
/// (typed: PostgreSQL cannot infer VALUES parameter types), joined by
/// UPDATE … FROM; RETURNING lists the rows that had the units.
fn push_reserve(sql: &mut Sql, reservations: &[Reserve], seq: SeqValue) {
    sql.push("WITH wanted (w_sku, w_location, w_quantity, w_safety) AS (VALUES ");
    push_wanted_rows(sql, reservations);
    sql.push(") UPDATE stock_levels SET reserved = reserved + w_quantity, change_seq = ");
    seq.push(sql);
    sql.push(
        " FROM wanted WHERE sku = w_sku AND location_id = w_location \
         AND on_hand - reserved - w_safety >= w_quantity \
         RETURNING sku, location_id, on_hand, reserved",
    );
}

/// The wanted rows of a reservation, typed (PostgreSQL cannot infer VALUES
/// parameter types).
fn push_wanted_rows(sql: &mut Sql, reservations: &[Reserve]) {
    for (i, r) in reservations.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(CAST(")
            .bind(r.sku.clone())
            .push(" AS TEXT), CAST(")
            .bind(r.location.clone())
            .push(" AS TEXT), CAST(")
            .bind(r.quantity)
            .push(" AS BIGINT), CAST(")
            .bind(r.safety)
            .push(" AS BIGINT))");
    }
}

//! Devices, carry-out sales and store tasks (DESIGN.md "Sync between the app
//! and the core").

use oms_api::wire::{OrderId, StoreTask};
use oms_domain::model::{LocationId, Sku};
use sqlx::Row;

use super::orders::{SeqValue, Tx};
use super::sql::Sql;
use super::{Storage, StorageError};

impl Storage {
    /// The last mutation the core applied for `device` (0: none yet).
    pub async fn last_mutation_id(&self, device: &str) -> Result<u64, StorageError> {
        let mut sql = Sql::new("SELECT last_mutation_id FROM devices WHERE device_id = ");
        sql.bind(device.to_owned());
        let last: i64 = match sql.fetch_optional(self.pool()).await? {
            Some(row) => row.try_get("last_mutation_id")?,
            None => 0,
        };
        Ok(u64::try_from(last).unwrap_or(0))
    }
}

impl Storage {
    /// Moves a device's last applied mutation on to `id` (never back).
    pub async fn advance_last_mutation(&self, device: &str, id: u64) -> Result<(), StorageError> {
        let id = i64::try_from(id).map_err(|_| StorageError::Corrupt("mutation id".into()))?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE devices SET last_mutation_id = ");
        sql.bind(id)
            .push(" WHERE device_id = ")
            .bind(device.to_owned())
            .push(" AND last_mutation_id < ")
            .bind(id);
        sql.execute(&mut **tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A store's tasks, newest first.
    pub async fn tasks_of(
        &self,
        location: &str,
        limit: u32,
    ) -> Result<Vec<StoreTask>, StorageError> {
        let mut sql = Sql::new(
            "SELECT id, location_id, kind, sku, order_id, message, created_at_ms FROM store_tasks WHERE location_id = ",
        );
        sql.bind(location.to_owned())
            .push(" ORDER BY created_at_ms DESC, id LIMIT ")
            .bind(i64::from(limit));
        let rows = sql.fetch_all(self.pool()).await?;
        rows.iter().map(task_from_row).collect()
    }
}

pub(crate) fn task_from_row(row: &sqlx::any::AnyRow) -> Result<StoreTask, StorageError> {
    let corrupt = |e: String| StorageError::Corrupt(e);
    let kind: String = row.try_get("kind")?;
    let created_at_ms: i64 = row.try_get("created_at_ms")?;
    Ok(StoreTask {
        id: row.try_get("id")?,
        location: LocationId::parse(row.try_get::<String, _>("location_id")?)
            .map_err(|e| corrupt(e.to_string()))?,
        kind: serde_json::from_value(serde_json::Value::String(kind))
            .map_err(|e| corrupt(e.to_string()))?,
        sku: row
            .try_get::<Option<String>, _>("sku")?
            .map(Sku::parse)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
        order: row
            .try_get::<Option<String>, _>("order_id")?
            .map(OrderId::parse)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
        message: row.try_get("message")?,
        created_at: jiff::Timestamp::from_millisecond(created_at_ms)
            .map(|t| t.to_string())
            .map_err(|e| corrupt(e.to_string()))?,
    })
}

/// Records a carry-out sale.
pub(crate) async fn insert_sale(
    tx: &mut Tx,
    id: &str,
    location: &str,
    sold_at_ms: i64,
    document: &str,
) -> Result<(), StorageError> {
    let mut sql = Sql::new("INSERT INTO sales (id, location_id, sold_at_ms, document)");
    sql.values([()], |row, ()| {
        row.bind(id.to_owned())
            .bind(location.to_owned())
            .bind(sold_at_ms)
            .bind(document.to_owned());
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// A return without receipt, as recorded (see migration 0008).
#[derive(Debug, Clone)]
pub(crate) struct StoreReturnRow<'a> {
    pub id: &'a str,
    pub location: &'a str,
    pub approved_by: &'a str,
    pub taken_by: Option<&'a str>,
    pub refund_method: &'a str,
    pub refund_minor: i64,
    pub currency: &'a str,
    pub received_at_ms: i64,
    pub document: &'a str,
}

pub(crate) async fn insert_store_return(
    tx: &mut Tx,
    row: &StoreReturnRow<'_>,
) -> Result<(), StorageError> {
    let mut sql = Sql::new(
        "INSERT INTO store_returns (id, location_id, approved_by, taken_by, refund_method, refund_minor, currency, received_at_ms, document)",
    );
    sql.values([()], |values, ()| {
        values
            .bind(row.id.to_owned())
            .bind(row.location.to_owned())
            .bind(row.approved_by.to_owned())
            .bind(row.taken_by.map(str::to_owned))
            .bind(row.refund_method.to_owned())
            .bind(row.refund_minor)
            .bind(row.currency.to_owned())
            .bind(row.received_at_ms)
            .bind(row.document.to_owned());
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// Opens a task for a store's staff (in the change sequence at `seq`).
pub(crate) async fn insert_task(
    tx: &mut Tx,
    task: &StoreTask,
    seq: i64,
    now_ms: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new("");
    push_insert_task(&mut sql, task, SeqValue::Bound(seq), now_ms);
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// The INSERT of a task (also part of a placement's statement batch).
pub(crate) fn push_insert_task(sql: &mut Sql, task: &StoreTask, seq: SeqValue, now_ms: i64) {
    let kind = serde_json::to_value(task.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    sql.push(
        "INSERT INTO store_tasks (id, location_id, kind, sku, order_id, message, created_at_ms, change_seq)",
    )
    .open_values()
    .push("(")
    .bind(task.id.clone())
    .push(", ")
    .bind(task.location.as_str().to_owned())
    .push(", ")
    .bind(kind)
    .push(", ")
    .bind(task.sku.as_ref().map(|s| s.as_str().to_owned()))
    .push(", ")
    .bind(task.order.as_ref().map(|o| o.as_str().to_owned()))
    .push(", ")
    .bind(task.message.clone())
    .push(", ")
    .bind(now_ms)
    .push(", ");
    seq.push(sql);
    sql.push(")").close_values();
}

/// Queues a customer notification that belongs to no stored order (an order
/// refused when it reached the core; `reference` is the receipt's).
pub(crate) async fn insert_notification(
    tx: &mut Tx,
    reference: &str,
    payload: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let mut sql = Sql::new("");
    super::orders::push_insert_outbox(
        &mut sql,
        reference,
        &[("notification", payload.to_owned())],
        now_ms,
    );
    sql.execute(&mut **tx).await?;
    Ok(())
}

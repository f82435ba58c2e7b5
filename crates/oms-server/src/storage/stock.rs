//! Stock levels per (SKU, location).

use super::catalogue::INSERT_CHUNK;
use super::sql::Sql;
use super::{Backend, Storage, StorageError};
use oms_domain::demo::DemoNetwork;
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::stock::StockRow;
use sqlx::any::{Any, AnyRow};
use sqlx::{Row, Transaction};

/// A stored stock level with its change sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    pub sku: String,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub change_seq: i64,
}

pub(crate) async fn seed_stock(
    tx: &mut Transaction<'static, Any>,
    demo: &DemoNetwork,
    seq: i64,
    backend: Backend,
) -> Result<(), StorageError> {
    let mut batch: Vec<StockRow> = Vec::with_capacity(INSERT_CHUNK);
    for row in demo.stock_rows() {
        batch.push(row);
        if batch.len() == INSERT_CHUNK {
            insert_rows(tx, &batch, seq, backend).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert_rows(tx, &batch, seq, backend).await?;
    }
    Ok(())
}

async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    rows: &[StockRow],
    seq: i64,
    backend: Backend,
) -> Result<(), StorageError> {
    let mut sql = Sql::anonymous(
        "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, change_seq)",
        backend,
    );
    sql.values(rows, |tuple, row| {
        tuple
            .bind(row.sku.as_str().to_owned())
            .bind(row.location.as_str().to_owned())
            .bind(row.on_hand)
            .bind(i64::from(row.reserved.get()))
            .bind(seq);
    });
    sql.execute(&mut **tx).await?;
    Ok(())
}

impl Storage {
    /// A page of stock rows in (SKU, location) order, strictly after `after`.
    pub async fn stock_page(
        &self,
        after: Option<&(String, String)>,
        limit: u32,
    ) -> Result<Vec<StockLevel>, StorageError> {
        let mut sql =
            Sql::new("SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels");
        if let Some((sku, location)) = after {
            // A row-value comparison, which both databases answer with a
            // range scan of the primary key (an OR of the parts scans all).
            sql.push(" WHERE (sku, location_id) > (")
                .bind(sku.clone())
                .push(", ")
                .bind(location.clone())
                .push(")");
        }
        sql.push(" ORDER BY sku, location_id LIMIT ")
            .bind(i64::from(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(level_from_row)
            .collect()
    }

    /// Stock rows changed after `seq`, in change order.
    pub async fn stock_changed_since(&self, seq: i64) -> Result<Vec<StockLevel>, StorageError> {
        let mut sql = Sql::new(
            "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels WHERE change_seq > ",
        );
        sql.bind(seq).push(" ORDER BY change_seq");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(level_from_row)
            .collect()
    }

    /// The stock of one SKU at every location that holds a row for it.
    pub async fn stock_of_sku(&self, sku: &str) -> Result<Vec<StockLevel>, StorageError> {
        let mut sql = Sql::new(
            "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels WHERE sku = ",
        );
        sql.bind(sku.to_owned()).push(" ORDER BY location_id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(level_from_row)
            .collect()
    }

    /// One location's stock, in SKU order after `after`.
    pub async fn stock_at_location(
        &self,
        location: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StockLevel>, StorageError> {
        let mut sql = Sql::new(
            "SELECT sku, location_id, on_hand, reserved, change_seq FROM stock_levels WHERE location_id = ",
        );
        sql.bind(location.to_owned());
        if let Some(after) = after {
            sql.push(" AND sku > ").bind(after.to_owned());
        }
        sql.push(" ORDER BY sku LIMIT ").bind(i64::from(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(level_from_row)
            .collect()
    }
}

pub(super) fn level_from_row(row: &AnyRow) -> Result<StockLevel, StorageError> {
    Ok(StockLevel {
        sku: row.try_get("sku")?,
        location: row.try_get("location_id")?,
        on_hand: row.try_get("on_hand")?,
        reserved: row.try_get("reserved")?,
        change_seq: row.try_get("change_seq")?,
    })
}

/// A stored level as the domain's stock row.
pub fn stock_row(level: &StockLevel) -> Result<StockRow, StorageError> {
    let corrupt = |what: String| StorageError::Corrupt(what);
    Ok(StockRow {
        sku: Sku::parse(level.sku.clone()).map_err(|e| corrupt(e.to_string()))?,
        location: LocationId::parse(level.location.clone()).map_err(|e| corrupt(e.to_string()))?,
        on_hand: level.on_hand,
        reserved: Quantity::new(
            u32::try_from(level.reserved)
                .map_err(|_| corrupt(format!("reserved {} out of range", level.reserved)))?,
        ),
    })
}

impl Storage {
    /// Sets stock rows (on hand and reserved) in one transaction, inserting
    /// rows that do not exist yet. Returns the change sequence number.
    pub async fn set_stock_levels(&self, rows: &[StockRow]) -> Result<i64, StorageError> {
        let mut tx = self.begin_write().await?;
        let seq = super::next_change_seqs(&mut tx, 1).await?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            let mut sql = Sql::new(
                "INSERT INTO stock_levels (sku, location_id, on_hand, reserved, change_seq)",
            );
            sql.values(chunk, |tuple, row| {
                tuple
                    .bind(row.sku.as_str().to_owned())
                    .bind(row.location.as_str().to_owned())
                    .bind(row.on_hand)
                    .bind(i64::from(row.reserved.get()))
                    .bind(seq);
            });
            sql.push(
                " ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
                 reserved = excluded.reserved, change_seq = excluded.change_seq",
            );
            sql.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        Ok(seq)
    }
}

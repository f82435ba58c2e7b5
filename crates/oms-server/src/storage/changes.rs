//! The change sequence: every synced row carries the `change_seq` of the
//! transaction that last changed it. A reader's position is
//! `(seq, entity kind, key)`, because one transaction (a seed, a feed) can
//! change many rows under one sequence number.
//!
//! "What changed after position P" merges each table's rows after P in
//! `(change_seq, key)` order — indexed, so it never sorts. Each table gives
//! its first `limit + 1` rows; the merged first `limit` are the globally
//! smallest, because no table holds a smaller unread row than those it gave.

use super::sql::Sql;
use super::{Storage, StorageError};
use oms_api::wire::{Change, ChangedEntity, OrderSummary, StockLevelChange};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Which rows a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeScope {
    /// Everything (admin, integration).
    Everything,
    /// The catalogue and network, plus one store's stock rows.
    Store(String),
}

/// Entity kinds in their order within one sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Product = 0,
    Location = 1,
    Channel = 2,
    Stock = 3,
    Order = 4,
    Fulfilment = 5,
    Task = 6,
}

/// A position in the change sequence: just after this entity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub seq: i64,
    pub kind: Kind,
    /// The entity's key; stock keys are `sku`, then `location`.
    pub key: (String, String),
}

impl Position {
    /// Before everything.
    pub fn start() -> Self {
        Position {
            seq: 0,
            // The last kind: every row has a sequence number ≥ 1.
            kind: Kind::Task,
            key: (String::new(), String::new()),
        }
    }

    /// Opaque text form: `seq.kind.hex(key0).hex(key1)`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.seq,
            self.kind as u8,
            hex(&self.key.0),
            hex(&self.key.1)
        )
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let seq = parts.next()?.parse::<i64>().ok().filter(|s| *s >= 0)?;
        let kind = match parts.next()? {
            "0" => Kind::Product,
            "1" => Kind::Location,
            "2" => Kind::Channel,
            "3" => Kind::Stock,
            "4" => Kind::Order,
            "5" => Kind::Fulfilment,
            "6" => Kind::Task,
            _ => return None,
        };
        let key0 = unhex(parts.next()?)?;
        let key1 = unhex(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Position {
            seq,
            kind,
            key: (key0, key1),
        })
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) || text.len() > 512 {
        return None;
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// Appends the "after `position`" condition for a table of `kind` whose key
/// columns are `key_columns` (one or two).
fn push_after(sql: &mut Sql, position: &Position, kind: Kind, key_columns: &[&str]) {
    push_after_as(sql, position, kind, key_columns, "change_seq");
}

/// [`push_after`] with the sequence column named `seq_column` (a join).
fn push_after_as(
    sql: &mut Sql,
    position: &Position,
    kind: Kind,
    key_columns: &[&str],
    seq_column: &str,
) {
    use std::cmp::Ordering;
    match kind.cmp(&position.kind) {
        // This kind comes later within the cursor's sequence number.
        Ordering::Greater => {
            sql.push(" ")
                .push(seq_column)
                .push(" >= ")
                .bind(position.seq);
        }
        // Earlier kind: its rows at the cursor's number were all read.
        Ordering::Less => {
            sql.push(" ")
                .push(seq_column)
                .push(" > ")
                .bind(position.seq);
        }
        // Same kind: strictly after the position's key, as one row-value
        // comparison so the (change_seq, key…) index gives a range scan.
        Ordering::Equal => match key_columns {
            [one] => {
                sql.push(" (")
                    .push(seq_column)
                    .push(", ")
                    .push(one)
                    .push(") > (")
                    .bind(position.seq)
                    .push(", ")
                    .bind(position.key.0.clone())
                    .push(")");
            }
            [first, second, ..] => {
                sql.push(" (")
                    .push(seq_column)
                    .push(", ")
                    .push(first)
                    .push(", ")
                    .push(second)
                    .push(") > (")
                    .bind(position.seq)
                    .push(", ")
                    .bind(position.key.0.clone())
                    .push(", ")
                    .bind(position.key.1.clone())
                    .push(")");
            }
            [] => {
                sql.push(" 1 = 0");
            }
        },
    }
}

struct Entry {
    position: Position,
    change: Change,
}

impl Storage {
    /// Up to `limit` changes after `position`, in order, and whether more
    /// remain.
    pub async fn changes_after(
        &self,
        position: &Position,
        limit: u32,
        scope: &ChangeScope,
    ) -> Result<(Vec<(Position, Change)>, bool), StorageError> {
        let fetch = i64::from(limit) + 1;
        let mut entries: Vec<Entry> = Vec::new();
        // One snapshot for every table of the page: a write committed
        // between two of its queries would otherwise show its later kinds
        // (a task) without its earlier ones (the stock row at the same
        // number), and the cursor would skip the latter for good. SQLite:
        // a read transaction in WAL mode; PostgreSQL: REPEATABLE READ (the
        // change numbers follow commit order, so nothing commits later
        // with a smaller number than what the snapshot shows).
        let mut tx = self.pool().begin().await?;
        if self.backend() == super::Backend::Postgres {
            Sql::new("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }

        // Products in their current state, in one query (a product changed
        // again since is sent in its newest form, again at its newer number).
        let mut products = Sql::new(&format!(
            "SELECT p.change_seq, p.sku, p.name, p.brand, p.product_type, pr.amount_minor, \
             pr.currency, (SELECT {} FROM product_barcodes b WHERE b.sku = p.sku) AS barcodes \
             FROM products p JOIN product_prices pr ON pr.sku = p.sku WHERE",
            self.barcode_list()
        ));
        push_after_as(
            &mut products,
            position,
            Kind::Product,
            &["p.sku"],
            "p.change_seq",
        );
        products
            .push(" ORDER BY p.change_seq, p.sku LIMIT ")
            .bind(fetch);
        for row in products.fetch_all(&mut *tx).await? {
            let seq: i64 = row.try_get("change_seq")?;
            let product = super::catalogue::product_from_row(&row)?;
            entries.push(Entry {
                position: Position {
                    seq,
                    kind: Kind::Product,
                    key: (product.sku.as_str().to_owned(), String::new()),
                },
                change: Change {
                    seq,
                    entity: ChangedEntity::Product(product),
                },
            });
        }

        for (kind, table) in [(Kind::Location, "locations"), (Kind::Channel, "channels")] {
            let mut sql = Sql::new(&format!(
                "SELECT change_seq, id, document FROM {table} WHERE"
            ));
            push_after(&mut sql, position, kind, &["id"]);
            sql.push(" ORDER BY change_seq, id LIMIT ").bind(fetch);
            for row in sql.fetch_all(&mut *tx).await? {
                entries.push(document_entry(&row, kind)?);
            }
        }

        let mut stock = Sql::new(
            "SELECT change_seq, sku, location_id, on_hand, reserved FROM stock_levels WHERE",
        );
        push_after(&mut stock, position, Kind::Stock, &["sku", "location_id"]);
        if let ChangeScope::Store(store) = scope {
            stock.push(" AND location_id = ").bind(store.clone());
        }
        stock
            .push(" ORDER BY change_seq, sku, location_id LIMIT ")
            .bind(fetch);
        for row in stock.fetch_all(&mut *tx).await? {
            let seq: i64 = row.try_get("change_seq")?;
            let level = StockLevelChange {
                sku: row.try_get("sku")?,
                location: row.try_get("location_id")?,
                on_hand: row.try_get("on_hand")?,
                reserved: row.try_get("reserved")?,
            };
            entries.push(Entry {
                position: Position {
                    seq,
                    kind: Kind::Stock,
                    key: (level.sku.clone(), level.location.clone()),
                },
                change: Change {
                    seq,
                    entity: ChangedEntity::Stock(level),
                },
            });
        }

        // Orders (as summaries: a reader fetches the full order when it needs
        // it) and fulfilments; a store sees those involving its store.
        let mut orders = Sql::new(
            "SELECT change_seq, id, status, channel_id, customer_name, placed_at_ms FROM orders WHERE",
        );
        push_after(&mut orders, position, Kind::Order, &["id"]);
        if let ChangeScope::Store(store) = scope {
            orders
                .push(
                    " AND EXISTS (SELECT 1 FROM fulfilments f WHERE f.order_id = orders.id \
                     AND f.location_id = ",
                )
                .bind(store.clone())
                .push(")");
        }
        orders.push(" ORDER BY change_seq, id LIMIT ").bind(fetch);
        for row in orders.fetch_all(&mut *tx).await? {
            let seq: i64 = row.try_get("change_seq")?;
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let placed_at_ms: i64 = row.try_get("placed_at_ms")?;
            let summary = OrderSummary {
                id: serde_json::from_value(serde_json::Value::String(id.clone()))?,
                status: serde_json::from_value(serde_json::Value::String(status))?,
                channel: serde_json::from_value(serde_json::Value::String(
                    row.try_get("channel_id")?,
                ))?,
                customer_name: row.try_get("customer_name")?,
                placed_at: jiff::Timestamp::from_millisecond(placed_at_ms)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            };
            entries.push(Entry {
                position: Position {
                    seq,
                    kind: Kind::Order,
                    key: (id, String::new()),
                },
                change: Change {
                    seq,
                    entity: ChangedEntity::Order(summary),
                },
            });
        }

        let mut fulfilments = Sql::new("SELECT change_seq, id, document FROM fulfilments WHERE");
        push_after(&mut fulfilments, position, Kind::Fulfilment, &["id"]);
        if let ChangeScope::Store(store) = scope {
            fulfilments.push(" AND location_id = ").bind(store.clone());
        }
        fulfilments
            .push(" ORDER BY change_seq, id LIMIT ")
            .bind(fetch);
        for row in fulfilments.fetch_all(&mut *tx).await? {
            let seq: i64 = row.try_get("change_seq")?;
            let id: String = row.try_get("id")?;
            let document: String = row.try_get("document")?;
            let doc: crate::orders::FulfilmentDoc = serde_json::from_str(&document)?;
            entries.push(Entry {
                position: Position {
                    seq,
                    kind: Kind::Fulfilment,
                    key: (id, String::new()),
                },
                change: Change {
                    seq,
                    entity: ChangedEntity::Fulfilment(Box::new(crate::orders::fulfilment_view(
                        &doc,
                    ))),
                },
            });
        }

        // Store tasks: a store sees its own.
        let mut tasks = Sql::new(
            "SELECT change_seq, id, location_id, kind, sku, order_id, message, created_at_ms FROM store_tasks WHERE",
        );
        push_after(&mut tasks, position, Kind::Task, &["id"]);
        if let ChangeScope::Store(store) = scope {
            tasks.push(" AND location_id = ").bind(store.clone());
        }
        tasks.push(" ORDER BY change_seq, id LIMIT ").bind(fetch);
        for row in tasks.fetch_all(&mut *tx).await? {
            let seq: i64 = row.try_get("change_seq")?;
            let task = super::sync::task_from_row(&row)?;
            entries.push(Entry {
                position: Position {
                    seq,
                    kind: Kind::Task,
                    key: (task.id.clone(), String::new()),
                },
                change: Change {
                    seq,
                    entity: ChangedEntity::Task(task),
                },
            });
        }

        tx.commit().await?;
        entries.sort_by(|a, b| a.position.cmp(&b.position));
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok((
            entries
                .into_iter()
                .map(|e| (e.position, e.change))
                .collect(),
            more,
        ))
    }
}

fn document_entry(row: &AnyRow, kind: Kind) -> Result<Entry, StorageError> {
    let seq: i64 = row.try_get("change_seq")?;
    let id: String = row.try_get("id")?;
    let document: String = row.try_get("document")?;
    let entity = match kind {
        Kind::Location => ChangedEntity::Location(Box::new(serde_json::from_str(&document)?)),
        _ => ChangedEntity::Channel(serde_json::from_str(&document)?),
    };
    Ok(Entry {
        position: Position {
            seq,
            kind,
            key: (id, String::new()),
        },
        change: Change { seq, entity },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_order() {
        let a = Position {
            seq: 7,
            kind: Kind::Product,
            key: ("SKU-1".into(), String::new()),
        };
        let b = Position {
            seq: 7,
            kind: Kind::Stock,
            key: ("SKU-1".into(), "ST-01".into()),
        };
        assert!(a < b);
        assert!(Position::start() < a);
        for p in [a, b, Position::start()] {
            assert_eq!(Position::decode(&p.encode()), Some(p));
        }
        for bad in ["", "x", "1.9.00.00", "-1.0..", "1.0.zz.", "1.0...."] {
            assert_eq!(Position::decode(bad), None, "{bad}");
        }
    }
}

//! SQLite storage: a file in WAL mode with foreign keys and a busy timeout.

use super::{SeedRecord, StorageError};
use oms_api::wire::{Currency, Money, Product};
use oms_domain::demo::DemoProduct;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/server-sqlite");

/// The server's SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
}

/// Search terms beyond this many are ignored (a scanner or a paste can
/// produce long strings; nobody types nine words to find a cushion).
const MAX_SEARCH_TERMS: usize = 8;

impl SqliteStorage {
    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open(path: &Path) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn seed_record(&self) -> Result<Option<SeedRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT key, value FROM server_meta WHERE key IN ('demo_size', 'demo_seed')",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut size = None;
        let mut seed = None;
        for row in rows {
            let key: String = row.try_get("key")?;
            let value: String = row.try_get("value")?;
            match key.as_str() {
                "demo_size" => size = Some(value),
                _ => {
                    seed = Some(value.parse::<u64>().map_err(|_| {
                        StorageError::Corrupt(format!("demo_seed `{value}` is not a number"))
                    })?)
                }
            }
        }
        Ok(size.zip(seed).map(|(size, seed)| SeedRecord { size, seed }))
    }

    /// Writes the demo catalogue and its seed record in one transaction: a
    /// crash mid-seed leaves an empty database that the next start seeds again.
    pub async fn seed_catalogue(
        &self,
        products: &[DemoProduct],
        record: &SeedRecord,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        // Multi-row inserts: SQLite allows 32,766 bound parameters per statement.
        for chunk in products.chunks(1_000) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO products (sku, name, brand, product_type) ",
            );
            insert.push_values(chunk, |mut row, p| {
                row.push_bind(&p.sku)
                    .push_bind(&p.name)
                    .push_bind(&p.brand)
                    .push_bind(p.product_type);
            });
            insert.build().execute(&mut *tx).await?;

            let mut prices = QueryBuilder::<Sqlite>::new(
                "INSERT INTO product_prices (sku, currency, amount_minor) ",
            );
            prices.push_values(chunk, |mut row, p| {
                row.push_bind(&p.sku)
                    .push_bind("EUR")
                    .push_bind(p.price_eur_minor);
            });
            prices.build().execute(&mut *tx).await?;

            let barcodes: Vec<(&str, &str)> = chunk
                .iter()
                .flat_map(|p| p.barcodes.iter().map(move |b| (b.as_str(), p.sku.as_str())))
                .collect();
            let mut codes =
                QueryBuilder::<Sqlite>::new("INSERT INTO product_barcodes (barcode, sku) ");
            codes.push_values(barcodes, |mut row, (barcode, sku)| {
                row.push_bind(barcode).push_bind(sku);
            });
            codes.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO server_meta (key, value) VALUES ('demo_size', ?1), ('demo_seed', ?2)",
        )
        .bind(&record.size)
        .bind(record.seed.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn product_count(&self) -> Result<u64, StorageError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM products")
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }

    /// Products matching every term of `query` (in name, brand, SKU or an
    /// exact barcode), in SKU order, strictly after the SKU `after`.
    pub async fn search_products(
        &self,
        query: Option<&str>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Vec<Product>, StorageError> {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "SELECT p.sku, p.name, p.brand, p.product_type, pr.amount_minor, pr.currency, \
             (SELECT group_concat(barcode, ' ') FROM product_barcodes b WHERE b.sku = p.sku) AS barcodes \
             FROM products p JOIN product_prices pr ON pr.sku = p.sku AND pr.currency = 'EUR' WHERE 1 = 1",
        );
        for term in query
            .unwrap_or_default()
            .split_whitespace()
            .take(MAX_SEARCH_TERMS)
        {
            let pattern = format!("%{}%", escape_like(term));
            sql.push(" AND (p.name LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR p.brand LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR p.sku LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM product_barcodes b WHERE b.sku = p.sku AND b.barcode = ")
                .push_bind(term.to_owned())
                .push("))");
        }
        if let Some(after) = after {
            sql.push(" AND p.sku > ").push_bind(after.to_owned());
        }
        sql.push(" ORDER BY p.sku LIMIT ")
            .push_bind(i64::from(limit));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.into_iter().map(product_from_row).collect()
    }
}

fn product_from_row(row: sqlx::sqlite::SqliteRow) -> Result<Product, StorageError> {
    let currency: String = row.try_get("currency")?;
    let currency = Currency::try_from(currency).map_err(StorageError::Corrupt)?;
    let barcodes: Option<String> = row.try_get("barcodes")?;
    Ok(Product {
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        brand: row.try_get("brand")?,
        product_type: row.try_get("product_type")?,
        barcodes: barcodes
            .unwrap_or_default()
            .split(' ')
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .collect(),
        price: Money {
            amount_minor: row.try_get("amount_minor")?,
            currency,
        },
    })
}

/// Escapes LIKE's wildcards so a search for `50%` means the characters.
fn escape_like(term: &str) -> String {
    let mut escaped = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(escape_like("oak"), "oak");
    }
}

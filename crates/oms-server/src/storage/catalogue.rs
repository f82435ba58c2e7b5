//! Products, barcodes and prices.

use super::sql::Sql;
use super::{Backend, SeedRecord, Storage, StorageError, next_change_seqs, write_seed_record};
use oms_api::wire::{Currency, Money, Product, ProductFacets};
use oms_domain::demo::DemoProduct;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Search terms beyond this many are ignored (a scanner or a paste can
/// produce long strings; nobody types nine words to find a cushion).
const MAX_SEARCH_TERMS: usize = 8;

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
pub(crate) const INSERT_CHUNK: usize = 1_000;

/// What a product search keeps, checked by the handler.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    pub brand: Option<String>,
    pub product_type: Option<String>,
    /// Only products with `on_hand - reserved > 0` at this location.
    pub in_stock_at: Option<String>,
}

/// A product with its change sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub product: Product,
    pub change_seq: i64,
}

impl Storage {
    /// Writes the demo catalogue and its seed record in one transaction: a
    /// crash mid-seed leaves an empty database that the next start seeds again.
    pub async fn seed_catalogue(
        &self,
        products: &[DemoProduct],
        network: &oms_domain::demo::DemoNetwork,
        record: &SeedRecord,
    ) -> Result<(), StorageError> {
        // Anonymous placeholders: binding 5,000 `$N` parameters per statement
        // is quadratic on SQLite (see `Sql::anonymous`), most of a first
        // start's seeding time.
        let backend = self.backend();
        let mut tx = self.begin_write().await?;
        let seq = next_change_seqs(&mut tx, 1).await?;
        for chunk in products.chunks(INSERT_CHUNK) {
            let mut insert = Sql::anonymous(
                "INSERT INTO products (sku, name, brand, product_type, change_seq)",
                backend,
            );
            insert.values(chunk, |row, p| {
                row.bind(p.sku.clone())
                    .bind(p.name.clone())
                    .bind(p.brand.clone())
                    .bind(p.product_type.to_owned())
                    .bind(seq);
            });
            insert.execute(&mut **tx).await?;

            let mut prices = Sql::anonymous(
                "INSERT INTO product_prices (sku, currency, amount_minor)",
                backend,
            );
            prices.values(chunk, |row, p| {
                row.bind(p.sku.clone()).bind("EUR").bind(p.price_eur_minor);
            });
            prices.execute(&mut **tx).await?;

            let barcodes: Vec<(String, String)> = chunk
                .iter()
                .flat_map(|p| p.barcodes.iter().map(move |b| (b.clone(), p.sku.clone())))
                .collect();
            let mut codes = Sql::anonymous("INSERT INTO product_barcodes (barcode, sku)", backend);
            codes.values(barcodes, |row, (barcode, sku)| {
                row.bind(barcode).bind(sku);
            });
            codes.execute(&mut **tx).await?;
        }
        super::network::seed_network(&mut tx, network, seq).await?;
        super::stock::seed_stock(&mut tx, network, seq, backend).await?;
        write_seed_record(&mut tx, record).await?;
        tx.commit().await?;
        self.pricing.invalidate();
        self.analyze_seeded().await;
        Ok(())
    }

    /// PostgreSQL: statistics for the tables a seed just filled. Until
    /// autovacuum gets to them (a minute or more later), the planner has
    /// none and takes `change_seq > $1` to match a third of the rows: the
    /// stock follower (`StockCache::refresh`, every 100 ms) then scanned and
    /// sorted all of `stock_levels` each time — ≈ 10 ms for the small demo,
    /// a fifth of the machine during the orders benchmark — instead of
    /// reading the few changed rows through `stock_levels_by_change`. Only
    /// a plan is at stake, so a failure is logged, not fatal.
    async fn analyze_seeded(&self) {
        if self.backend() != Backend::Postgres {
            return;
        }
        let analyze = Sql::new(
            "ANALYZE products, product_prices, product_barcodes, locations, channels, \
             channel_prices, stock_levels",
        );
        if let Err(error) = analyze.execute(self.pool()).await {
            tracing::warn!(%error, "ANALYZE after the demo seed failed");
        }
    }

    pub async fn product_count(&self) -> Result<u64, StorageError> {
        let row = Sql::new("SELECT count(*) AS n FROM products")
            .fetch_one(self.pool())
            .await?;
        let count: i64 = row.try_get("n")?;
        Ok(count as u64)
    }

    /// Products matching every term of `query` (in name, brand, SKU or an
    /// exact barcode), in SKU order, strictly after the SKU `after`.
    pub async fn search_products(
        &self,
        query: Option<&str>,
        filter: &ProductFilter,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Vec<Product>, StorageError> {
        let mut sql = Sql::new(&format!(
            "SELECT p.sku, p.name, p.brand, p.product_type, pr.amount_minor, pr.currency, \
             (SELECT {} FROM product_barcodes b WHERE b.sku = p.sku) AS barcodes \
             FROM products p JOIN product_prices pr ON pr.sku = p.sku WHERE 1 = 1",
            self.barcode_list()
        ));
        for term in query
            .unwrap_or_default()
            .split_whitespace()
            .take(MAX_SEARCH_TERMS)
        {
            let pattern = format!("%{}%", escape_like(&term.to_lowercase()));
            sql.push(" AND (lower(p.name) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR lower(p.brand) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR lower(p.sku) LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM product_barcodes b WHERE b.sku = p.sku AND b.barcode = ")
                .bind(term.to_owned())
                .push("))");
        }
        if let Some(brand) = &filter.brand {
            sql.push(" AND p.brand = ").bind(brand.clone());
        }
        if let Some(product_type) = &filter.product_type {
            sql.push(" AND p.product_type = ")
                .bind(product_type.clone());
        }
        if let Some(location) = &filter.in_stock_at {
            sql.push(
                " AND EXISTS (SELECT 1 FROM stock_levels s WHERE s.sku = p.sku AND s.location_id = ",
            )
            .bind(location.clone())
            .push(" AND s.on_hand - s.reserved > 0)");
        }
        if let Some(after) = after {
            sql.push(" AND p.sku > ").bind(after.to_owned());
        }
        sql.push(" ORDER BY p.sku LIMIT ").bind(i64::from(limit));
        let rows = sql.fetch_all(self.pool()).await?;
        rows.iter().map(product_from_row).collect()
    }

    /// The catalogue's brands and product types, each sorted.
    pub async fn product_facets(&self) -> Result<ProductFacets, StorageError> {
        let mut facets = ProductFacets::default();
        for row in Sql::new("SELECT DISTINCT brand FROM products ORDER BY brand")
            .fetch_all(self.pool())
            .await?
        {
            facets.brands.push(row.try_get("brand")?);
        }
        for row in Sql::new("SELECT DISTINCT product_type FROM products ORDER BY product_type")
            .fetch_all(self.pool())
            .await?
        {
            facets.product_types.push(row.try_get("product_type")?);
        }
        Ok(facets)
    }

    /// One product by SKU.
    pub async fn product(&self, sku: &str) -> Result<Option<Product>, StorageError> {
        let mut sql = Sql::new(&format!(
            "SELECT p.sku, p.name, p.brand, p.product_type, pr.amount_minor, pr.currency, \
             (SELECT {} FROM product_barcodes b WHERE b.sku = p.sku) AS barcodes \
             FROM products p JOIN product_prices pr ON pr.sku = p.sku WHERE p.sku = ",
            self.barcode_list()
        ));
        sql.bind(sku.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(product_from_row)
            .transpose()
    }

    /// Every (SKU, product type), for building the stock index.
    pub async fn product_types(&self) -> Result<Vec<(String, String)>, StorageError> {
        let rows = Sql::new("SELECT sku, product_type FROM products")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("sku")?, row.try_get("product_type")?)))
            .collect()
    }

    /// Which of `skus` exist in the catalogue.
    pub async fn existing_skus(&self, skus: &[String]) -> Result<Vec<String>, StorageError> {
        let mut found = Vec::new();
        for chunk in skus.chunks(INSERT_CHUNK) {
            let mut sql = Sql::new("SELECT sku FROM products WHERE sku IN (");
            for (i, sku) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(sku.clone());
            }
            sql.push(")");
            for row in sql.fetch_all(self.pool()).await? {
                found.push(row.try_get("sku")?);
            }
        }
        Ok(found)
    }

    /// The aggregate that lists a product's barcodes in one column.
    pub(crate) fn barcode_list(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "group_concat(barcode, ' ')",
            Backend::Postgres => "string_agg(barcode, ' ' ORDER BY barcode)",
        }
    }
}

pub(crate) fn product_from_row(row: &AnyRow) -> Result<Product, StorageError> {
    let currency: String = row.try_get("currency")?;
    let currency = Currency::try_from(currency).map_err(StorageError::Corrupt)?;
    let barcodes: Option<String> = row.try_get("barcodes")?;
    let mut barcodes: Vec<String> = barcodes
        .unwrap_or_default()
        .split(' ')
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    barcodes.sort();
    Ok(Product {
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        brand: row.try_get("brand")?,
        product_type: row.try_get("product_type")?,
        barcodes,
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

/// Why a product could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ProductWriteError {
    #[error("barcode `{barcode}` already belongs to `{owner}`")]
    BarcodeTaken { barcode: String, owner: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for ProductWriteError {
    fn from(error: sqlx::Error) -> Self {
        ProductWriteError::Storage(error.into())
    }
}

impl Storage {
    /// Creates or replaces a product, its barcodes and its price, in one
    /// transaction. The caller validated the fields.
    pub async fn upsert_product(
        &self,
        sku: &str,
        write: &oms_api::wire::ProductWrite,
    ) -> Result<(), ProductWriteError> {
        let mut tx = self.begin_write().await?;
        for barcode in &write.barcodes {
            let mut owner = Sql::new("SELECT sku FROM product_barcodes WHERE barcode = ");
            owner.bind(barcode.clone());
            if let Some(row) = owner.fetch_optional(&mut **tx).await? {
                let owner: String = row.try_get("sku")?;
                if owner != sku {
                    return Err(ProductWriteError::BarcodeTaken {
                        barcode: barcode.clone(),
                        owner,
                    });
                }
            }
        }
        let seq = next_change_seqs(&mut tx, 1).await?;
        let mut upsert =
            Sql::new("INSERT INTO products (sku, name, brand, product_type, change_seq)");
        upsert.values([()], |row, ()| {
            row.bind(sku.to_owned())
                .bind(write.name.clone())
                .bind(write.brand.clone())
                .bind(write.product_type.clone())
                .bind(seq);
        });
        upsert.push(
            " ON CONFLICT (sku) DO UPDATE SET name = excluded.name, brand = excluded.brand, \
             product_type = excluded.product_type, change_seq = excluded.change_seq",
        );
        upsert.execute(&mut **tx).await?;
        let mut clear = Sql::new("DELETE FROM product_barcodes WHERE sku = ");
        clear.bind(sku.to_owned());
        clear.execute(&mut **tx).await?;
        if !write.barcodes.is_empty() {
            let mut codes = Sql::new("INSERT INTO product_barcodes (barcode, sku)");
            codes.values(&write.barcodes, |row, barcode| {
                row.bind(barcode.clone()).bind(sku.to_owned());
            });
            codes.execute(&mut **tx).await?;
        }
        // One price per product today (the catalogue lists EUR); a product
        // priced in another currency replaces it.
        let mut clear = Sql::new("DELETE FROM product_prices WHERE sku = ");
        clear.bind(sku.to_owned());
        clear.execute(&mut **tx).await?;
        let mut price = Sql::new("INSERT INTO product_prices (sku, currency, amount_minor)");
        price.values([()], |row, ()| {
            row.bind(sku.to_owned())
                .bind(write.price.currency.as_str().to_owned())
                .bind(write.price.amount_minor);
        });
        price.execute(&mut **tx).await?;
        tx.commit().await?;
        self.pricing.invalidate();
        Ok(())
    }
}

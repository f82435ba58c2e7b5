//! The customer register (migration 0008) and receipts queued to the
//! notification outbox.

use super::sql::Sql;
use super::{Storage, StorageError};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A registered customer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub created_at_ms: i64,
}

/// A customer to insert: every field already checked and normalised.
#[derive(Debug, Clone)]
pub struct NewCustomerRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub language: &'a str,
    pub created_by: &'a str,
    pub now_ms: i64,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerInsert {
    Inserted(CustomerRecord),
    /// A customer already has this e-mail address: nothing was written.
    DuplicateEmail(CustomerRecord),
}

const COLUMNS: &str = "id, name, email, phone, language, created_at_ms";

fn customer_from_row(row: &AnyRow) -> Result<CustomerRecord, StorageError> {
    Ok(CustomerRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        language: row.try_get("language")?,
        created_at_ms: row.try_get("created_at_ms")?,
    })
}

/// Escapes LIKE's wildcards so a search for `a_b` means the characters.
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

impl Storage {
    pub async fn customer(&self, id: &str) -> Result<Option<CustomerRecord>, StorageError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM customers WHERE id = "));
        sql.bind(id.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(customer_from_row)
            .transpose()
    }

    /// The customer with this (lower-case) e-mail address.
    pub async fn customer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<CustomerRecord>, StorageError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM customers WHERE email = "));
        sql.bind(email.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(customer_from_row)
            .transpose()
    }

    /// Customers whose name (or one of its words) or e-mail address starts
    /// with `q` (lower-case), or whose phone number contains `digits` (when
    /// given), by name.
    pub async fn search_customers(
        &self,
        q: &str,
        digits: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CustomerRecord>, StorageError> {
        let prefix = format!("{}%", escape_like(q));
        let word = format!("% {}%", escape_like(q));
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM customers WHERE name_lower LIKE "
        ));
        sql.bind(prefix.clone())
            .push(" ESCAPE '\\' OR name_lower LIKE ")
            .bind(word)
            .push(" ESCAPE '\\' OR email LIKE ")
            .bind(prefix)
            .push(" ESCAPE '\\'");
        if let Some(digits) = digits {
            sql.push(" OR phone LIKE ")
                .bind(format!("%{}%", escape_like(digits)))
                .push(" ESCAPE '\\'");
        }
        sql.push(" ORDER BY name_lower, id LIMIT ")
            .bind(i64::from(limit));
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(customer_from_row)
            .collect()
    }

    /// Inserts a customer unless one already has its e-mail address (read
    /// in the same write transaction; the unique index settles a race with
    /// another instance).
    pub async fn insert_customer(
        &self,
        new: &NewCustomerRow<'_>,
    ) -> Result<CustomerInsert, StorageError> {
        let mut tx = self.begin_write().await?;
        if let Some(email) = new.email {
            let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM customers WHERE email = "));
            sql.bind(email.to_owned());
            if let Some(row) = sql.fetch_optional(&mut **tx).await? {
                tx.rollback().await?;
                return Ok(CustomerInsert::DuplicateEmail(customer_from_row(&row)?));
            }
        }
        let mut sql = Sql::new(
            "INSERT INTO customers (id, name, name_lower, email, phone, language, created_at_ms, created_by)",
        );
        sql.values([()], |row, ()| {
            row.bind(new.id.to_owned())
                .bind(new.name.to_owned())
                .bind(new.name.to_lowercase())
                .bind(new.email.map(str::to_owned))
                .bind(new.phone.map(str::to_owned))
                .bind(new.language.to_owned())
                .bind(new.now_ms)
                .bind(new.created_by.to_owned());
        });
        match sql.execute(&mut **tx).await {
            Ok(_) => {}
            Err(error) => {
                let error = StorageError::Database(error);
                if super::orders::is_conflict(&error)
                    && let Some(email) = new.email
                {
                    drop(tx);
                    if let Some(existing) = self.customer_by_email(email).await? {
                        return Ok(CustomerInsert::DuplicateEmail(existing));
                    }
                }
                return Err(error);
            }
        }
        tx.commit().await?;
        Ok(CustomerInsert::Inserted(CustomerRecord {
            id: new.id.to_owned(),
            name: new.name.to_owned(),
            email: new.email.map(str::to_owned),
            phone: new.phone.map(str::to_owned),
            language: new.language.to_owned(),
            created_at_ms: new.now_ms,
        }))
    }

    /// Queues one customer notification of an order; its outbox id.
    pub async fn queue_notification(
        &self,
        order_id: &str,
        payload: &str,
        now_ms: i64,
    ) -> Result<i64, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("");
        super::orders::push_insert_outbox(
            &mut sql,
            order_id,
            &[("notification", payload.to_owned())],
            now_ms,
        );
        sql.push(" RETURNING id");
        let row = sql.fetch_one(&mut **tx).await?;
        let id: i64 = row.try_get("id")?;
        tx.commit().await?;
        Ok(id)
    }
}

//! Devices, carry-out sales and store tasks (DESIGN.md "Sync between the app
//! and the core").

use sqlx::Row;

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

//! The storage side of demo templates (see [`crate::demo_template`]): a
//! seeded SQLite database written out as one compact file, and the
//! template's own record read without migrating or writing it.

use super::{Backend, Storage, StorageError};
use sqlx::Row;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

/// `server_meta` key: which executable wrote a demo template.
pub(crate) const TEMPLATE_MAKER_KEY: &str = "demo_template_maker";

impl Storage {
    /// Records `value` under `key` in `server_meta` (replacing it).
    pub(crate) async fn set_meta(&self, key: &str, value: &str) -> Result<(), StorageError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// SQLite only: writes the whole database, committed state, into the new
    /// file `path` as one self-contained file (no WAL beside it).
    pub(crate) async fn vacuum_into(&self, path: &Path) -> Result<(), StorageError> {
        if self.backend != Backend::Sqlite {
            return Err(StorageError::Corrupt(
                "a demo template is a SQLite file; this database is PostgreSQL".to_owned(),
            ));
        }
        let target = path.to_str().ok_or_else(|| {
            StorageError::Corrupt(format!("`{}` is not a UTF-8 path", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

/// The `server_meta` record of the SQLite file at `path`, read on one
/// read-only connection: nothing is created, migrated or written.
pub(crate) async fn read_meta_of_file(
    path: &Path,
) -> Result<HashMap<String, String>, StorageError> {
    use sqlx::ConnectOptions;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut connection = options.connect().await?;
    let rows = sqlx::query("SELECT key, value FROM server_meta")
        .fetch_all(&mut connection)
        .await;
    // Closing is best effort: the rows are what matter.
    let _ = sqlx::Connection::close(connection).await;
    rows?
        .into_iter()
        .map(|row| Ok((row.try_get("key")?, row.try_get("value")?)))
        .collect()
}

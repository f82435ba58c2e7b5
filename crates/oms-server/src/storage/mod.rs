//! Storage: the only module that speaks SQL.
//!
//! SQLite is the default (one file, WAL). PostgreSQL joins with the server
//! core issue; both will sit behind this same `Storage` type so handlers never
//! know which one they talk to.

mod sqlite;

pub use sqlite::SqliteStorage as Storage;

/// A storage failure. Input errors are caught before storage is reached, so
/// anything here is the server's problem, not the caller's.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

/// How the database was seeded, recorded so a restart does not seed twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRecord {
    pub size: String,
    pub seed: u64,
}

//! Storage: the only module that speaks SQL.
//!
//! One set of SQL statements serves SQLite (the default: one file, WAL) and
//! PostgreSQL (scale-out: several server instances on one database), through
//! sqlx's `Any` driver and `$N` placeholders ([`sql::Sql`]). The few places
//! where the dialects differ ask [`Backend`].
//!
//! Every writing transaction that changes synced rows takes its change
//! sequence numbers from the one counter row, locked until commit — through
//! [`next_change_seqs`], or inside the statement itself for PostgreSQL's
//! grouped placements (`orders.rs`) — so writers are serialised, numbers are
//! handed out in commit order and a reader following `change_seq` never
//! skips a late commit.

mod auth;
mod catalogue;
mod changes;
mod customers;
pub(crate) mod demo_template;
mod feeds;
mod group_commit;
mod network;
pub mod orders;
pub mod outbox;
mod pricing;
pub(crate) mod sql;
mod stock;
mod sync;
pub(crate) use sync::{
    StoreReturnRow, insert_notification, insert_sale, insert_store_return, insert_task,
};

pub use auth::{DeviceRow, PairingRefusal, SignInRefusal, StaffCredentials};
pub use catalogue::{ProductFilter, ProductRecord, ProductWriteError};
pub use changes::{ChangeScope, Kind, Position};
pub use customers::{CustomerInsert, CustomerRecord, NewCustomerRow};
pub use feeds::{AppliedFeed, Duplicate, FeedWriter, JobRecord, STAGE_CHUNK};
pub use network::{ChannelPrice, NetworkPart, NetworkWriteError};
pub use stock::{StockLevel, stock_row};

use sqlx::any::{Any, AnyPoolOptions};
use sqlx::{AnyPool, Row, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sql::Sql;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("../../migrations/server-sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("../../migrations/server-postgres");

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file, created if missing.
    SqliteFile(PathBuf),
    /// A `postgres://…` URL (or a `sqlite://…` one).
    Url(String),
}

impl DatabaseLocation {
    /// `postgres://` and `sqlite:` URLs are taken as URLs; anything else is a
    /// SQLite file path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://")
            || text.starts_with("postgresql://")
            || text.starts_with("sqlite:")
        {
            DatabaseLocation::Url(text.to_owned())
        } else {
            DatabaseLocation::SqliteFile(PathBuf::from(text))
        }
    }

    fn describe(&self) -> String {
        match self {
            DatabaseLocation::SqliteFile(path) => path.display().to_string(),
            // Never log a password.
            DatabaseLocation::Url(url) => match url.split_once('@') {
                Some((scheme_and_user, host)) => {
                    let scheme = scheme_and_user.split("://").next().unwrap_or("db");
                    format!("{scheme}://…@{host}")
                }
                None => url.clone(),
            },
        }
    }
}

/// A storage failure. Input errors are caught before storage is reached, so
/// anything here is the server's problem, not the caller's — except
/// [`StorageError::Conflict`].
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A grouped write failed (all placements of the group are refused).
    #[error("grouped write: {0}")]
    Batch(String),
    /// The group-commit thread could not be started.
    #[error("cannot start the group-commit thread: {0}")]
    GroupCommit(#[source] std::io::Error),
    #[error("cannot open the database {location}: {source}")]
    Open {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    /// On the group commit's own SQLite connection.
    #[error("database error (group commit): {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open the group commit's connection to {location}: {source}")]
    OpenGroupConnection {
        location: String,
        #[source]
        source: rusqlite::Error,
    },
}

impl From<serde_json::Error> for StorageError {
    fn from(error: serde_json::Error) -> Self {
        StorageError::Corrupt(format!("stored document: {error}"))
    }
}

/// How the database was seeded, recorded so a restart does not seed twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedRecord {
    pub size: String,
    pub seed: u64,
}

/// The server's database.
#[derive(Debug, Clone)]
pub struct Storage {
    pool: AnyPool,
    backend: Backend,
    /// Where writing transactions run. On SQLite, one connection of its own:
    /// SQLite admits one writer anyway, so writers queue here instead of
    /// polling the lock with the busy handler's sleeps (1, 2, 5, 10… ms), and
    /// this connection's page cache stays warm (a connection's cache is
    /// dropped whenever another connection wrote). On PostgreSQL, the same
    /// pool as reads. Correctness never depends on the queue: the database's
    /// locks and conditional updates do that.
    writer: AnyPool,
    /// Where the PostgreSQL group commit writes: one connection of its own
    /// with a big statement cache, so its placement statements (one text per
    /// shape: numbers of lines, fulfilments, …) stay prepared instead of
    /// rotating over the pool's connections. On SQLite the same as `writer`,
    /// unused: the group commit has a rusqlite connection of its own
    /// ([`group_commit`]).
    group_writer: AnyPool,
    /// SQLite: the turn to write in this process, shared by `writer` and the
    /// group commit's own connection. Taken before `BEGIN IMMEDIATE`, so the
    /// two connections never meet on SQLite's lock (whose busy handler
    /// sleeps 1, 2, 5, 10… ms and can starve the sleeper) but queue here,
    /// first come first served.
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The group-commit queue for optimistic order placements.
    group: Option<group_commit::GroupCommit>,
    /// Prices and active rule sets, as placements read them.
    pricing: std::sync::Arc<pricing::PricingCache>,
    /// The stock index's bulk reads, typed (see [`stock::BulkReader`]).
    bulk: stock::BulkReader,
    /// The memory budget it was opened with.
    footprint: Footprint,
}

/// A writing transaction (and, on SQLite, this process's turn to write).
/// Derefs to the sqlx transaction; commit or roll back to end it.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    /// SQLite: this process's turn to write, given back after `tx` ended
    /// (fields drop in order).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Storage {
    /// Connects (creating a SQLite file if needed) and migrates, with a
    /// server's memory budget.
    pub async fn open(location: &DatabaseLocation) -> Result<Self, StorageError> {
        Self::open_with(location, Footprint::Server).await
    }

    /// [`Storage::open`] within `footprint`'s memory budget.
    pub async fn open_with(
        location: &DatabaseLocation,
        footprint: Footprint,
    ) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match location {
            DatabaseLocation::SqliteFile(path) => (sqlite_url(path), Backend::Sqlite),
            DatabaseLocation::Url(url) if url.starts_with("sqlite:") => {
                (url.clone(), Backend::Sqlite)
            }
            DatabaseLocation::Url(url) => (url.clone(), Backend::Postgres),
        };
        let opened = match backend {
            Backend::Sqlite => {
                // Readers; then the single writer, with a bigger page cache.
                let caches = footprint.sqlite_caches();
                match sqlite_pool(
                    &url,
                    caches.readers,
                    caches.reader_kib,
                    Checkpoints::OnCommit,
                )
                .await
                {
                    Ok(pool) => sqlite_pool(&url, 1, caches.writer_kib, Checkpoints::InBackground)
                        .await
                        .map(|writer| (pool, writer)),
                    Err(e) => Err(e),
                }
            }
            Backend::Postgres => AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(30))
                .max_connections(16)
                .connect(&url)
                .await
                .map(|pool| (pool.clone(), pool)),
        };
        let (pool, writer) = opened.map_err(|source| StorageError::Open {
            location: location.describe(),
            source,
        })?;
        let write_turn = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let native = match backend {
            Backend::Sqlite => {
                SQLITE_MIGRATIONS.run(&writer).await?;
                checkpoint_in_background(
                    pool.clone(),
                    writer.clone(),
                    write_turn.clone(),
                    sqlite_file(&url).and_then(|file| file.parent().map(Path::to_path_buf)),
                );
                // After the migrations: it never creates or alters tables.
                let connection =
                    group_commit::open_native(&url, footprint.sqlite_caches().writer_kib).map_err(
                        |source| StorageError::OpenGroupConnection {
                            location: location.describe(),
                            source,
                        },
                    )?;
                Some(connection)
            }
            Backend::Postgres => {
                POSTGRES_MIGRATIONS.run(&pool).await?;
                None
            }
        };
        let group_writer = match backend {
            Backend::Sqlite => writer.clone(),
            Backend::Postgres => AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(30))
                .max_connections(1)
                .connect(&with_statement_cache(&url, GROUP_STATEMENT_CACHE))
                .await
                .map_err(|source| StorageError::Open {
                    location: location.describe(),
                    source,
                })?,
        };
        let pricing = pricing::PricingCache::start(pool.clone());
        let bulk = stock::BulkReader::new(&url, backend, footprint.sqlite_caches().reader_kib)
            .map_err(|source| StorageError::Open {
                location: location.describe(),
                source,
            })?;
        let mut storage = Self {
            pool,
            backend,
            writer,
            group_writer,
            group: None,
            pricing,
            bulk,
            footprint,
            write_turn,
        };
        storage.group = Some(group_commit::GroupCommit::start(storage.clone(), native)?);
        Ok(storage)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// first and writes later can fail with "database is locked" instead of
    /// waiting its turn.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StorageError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn().await;
                WriteTx {
                    tx: self.writer.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: turn,
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.writer.begin().await?,
                _turn: None,
            },
        })
    }

    /// Runs one writing statement alone (autocommit), queued like every
    /// other writer: on SQLite on the group commit's own connection between
    /// two groups ([`group_commit::GroupCommit::execute`]; in this process's
    /// write turn, never meeting the group commit on SQLite's lock, whose
    /// busy handler sleeps), or before it has started on the writer
    /// connection in the turn; never the read pool. The number of rows it
    /// changed.
    pub(crate) async fn execute_write(&self, sql: Sql) -> Result<u64, StorageError> {
        if let (Backend::Sqlite, Some(group)) = (self.backend, &self.group) {
            return group.execute(sql).await;
        }
        let _turn = self.write_turn().await;
        Ok(sql.execute(&self.writer).await?.rows_affected())
    }

    /// This process's turn to write on SQLite (see `write_turn`); `None` on
    /// PostgreSQL, whose writers need none.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// The turn itself, for the group commit's thread.
    pub(crate) fn write_turn_lock(&self) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.write_turn.clone()
    }

    /// PostgreSQL: [`Storage::begin_write`] on the group commit's
    /// connection, with its own BEGIN statement(s).
    pub(crate) async fn begin_group_write(
        &self,
        statement: &'static str,
    ) -> Result<WriteTx, StorageError> {
        Ok(WriteTx {
            tx: self.group_writer.begin_with(statement).await?,
            _turn: None,
        })
    }

    /// Writes a placement (see `storage::orders`) in the next group commit.
    /// `None` when a reservation found its units gone.
    pub(crate) async fn write_in_group(
        &self,
        write: &orders::PlacementWrite<'_>,
    ) -> Result<Option<orders::PlacementWritten>, StorageError> {
        let Some(group) = &self.group else {
            return Err(StorageError::Batch("group commit has not started".into()));
        };
        let batch = match self.backend {
            Backend::Sqlite => orders::placement_batch(write),
            Backend::Postgres => orders::placement_statement_pg(write),
        };
        group.write(batch, write.reserve.len()).await
    }

    /// Closes every connection (tests reopen the same file).
    pub async fn close(&self) {
        if let Some(group) = &self.group {
            group.close().await;
        }
        self.bulk.close().await;
        self.group_writer.close().await;
        self.writer.close().await;
        self.pool.close().await;
    }

    pub async fn seed_record(&self) -> Result<Option<SeedRecord>, StorageError> {
        let rows =
            Sql::new("SELECT key, value FROM server_meta WHERE key IN ('demo_size', 'demo_seed')")
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

    /// The highest change sequence number of the network's documents
    /// (locations, channels, periods, settings).
    pub async fn network_change_seq(&self) -> Result<i64, StorageError> {
        let row = Sql::new(
            "SELECT CAST(max(s) AS BIGINT) AS seq FROM (\
             SELECT max(change_seq) AS s FROM locations UNION ALL \
             SELECT max(change_seq) FROM channels UNION ALL \
             SELECT max(change_seq) FROM periods UNION ALL \
             SELECT max(change_seq) FROM network_settings) AS all_seqs",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("seq")?.unwrap_or(0))
    }

    /// The highest change sequence number of the catalogue's products.
    pub async fn product_change_seq(&self) -> Result<i64, StorageError> {
        product_change_seq(&self.pool).await
    }

    /// The highest change sequence number committed so far.
    pub async fn last_change_seq(&self) -> Result<i64, StorageError> {
        let row = Sql::new("SELECT last_seq FROM change_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("last_seq")?)
    }
}

pub(crate) async fn write_seed_record(
    tx: &mut Transaction<'static, Any>,
    record: &SeedRecord,
) -> Result<(), StorageError> {
    let mut sql = Sql::new("INSERT INTO server_meta (key, value)");
    sql.values(
        [
            ("demo_size", record.size.clone()),
            ("demo_seed", record.seed.to_string()),
        ],
        |row, (key, value)| {
            row.bind(key).bind(value);
        },
    );
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// Reserves `count` consecutive change sequence numbers for this transaction
/// and returns the first. The counter row stays locked until commit, so
/// concurrent writers commit in sequence order.
pub(crate) async fn next_change_seqs(
    tx: &mut Transaction<'static, Any>,
    count: i64,
) -> Result<i64, StorageError> {
    let mut sql = Sql::new("UPDATE change_counter SET last_seq = last_seq + ");
    sql.bind(count).push(" WHERE id = 1 RETURNING last_seq");
    let row = sql.fetch_one(&mut **tx).await?;
    let last: i64 = row.try_get("last_seq")?;
    Ok(last - count + 1)
}

/// [`Storage::product_change_seq`] on a pool (the price cache's follower
/// holds only the pool).
pub(crate) async fn product_change_seq(pool: &AnyPool) -> Result<i64, StorageError> {
    let row = Sql::new("SELECT CAST(max(change_seq) AS BIGINT) AS seq FROM products")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get::<Option<i64>, _>("seq")?.unwrap_or(0))
}

/// The SQLite writer connection's page cache. Bigger is not better: SQLite
/// walks the whole cache's hash table when a write transaction ends.
///
/// Why it walks it (found with a probe on `pcache1TruncateUnsafe`, 27 Nov):
/// a b-tree page split puts its new pages in order by swapping their
/// numbers through the lock-byte page's (`balance_nonroot`; page 524,289
/// with 2 KiB pages), so the cache's largest key ends past the database,
/// and every commit after a split drops pages "past the end" by scanning
/// the whole table: ≈ 20 % of the group commit thread's CPU in the orders
/// bench. Only while the database is under 1 GiB (above, the lock-byte
/// page lies inside it and the scan is short). A 4 MiB cache cut that to
/// ≈ 5 % and gained ≈ 4 % orders/s on the bench's small database, but it
/// would cost a large database its hits, where the scan does not happen;
/// not changed (BENCHMARKS.md, 27 Nov late evening).
const WRITER_CACHE_KIB: u32 = 16 * 1024;

/// How much memory the database connections may keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Footprint {
    /// A server: 8 SQLite readers with 8 MiB page caches each, a 16 MiB
    /// writer cache.
    #[default]
    Server,
    /// One store device's embedded server (the app's sidecar): 4 readers
    /// with 1 MiB page caches, a 4 MiB writer cache. A page SQLite does not
    /// keep is read again from the operating system's file cache (a copy,
    /// microseconds), which no process pays for; the app's idle memory
    /// target counts every page the sidecar keeps (`cargo xtask bench app`).
    Device,
}

/// SQLite connection counts and page caches of a [`Footprint`].
struct SqliteCaches {
    readers: u32,
    reader_kib: u32,
    writer_kib: u32,
}

impl Footprint {
    /// The SQLite writer's page cache, in KiB.
    pub(crate) fn writer_cache_kib(self) -> u32 {
        self.sqlite_caches().writer_kib
    }

    fn sqlite_caches(self) -> SqliteCaches {
        match self {
            Footprint::Server => SqliteCaches {
                readers: 8,
                reader_kib: 8 * 1024,
                writer_kib: WRITER_CACHE_KIB,
            },
            Footprint::Device => SqliteCaches {
                readers: 4,
                reader_kib: 1024,
                writer_kib: 4 * 1024,
            },
        }
    }
}

/// A pool of SQLite connections: WAL (readers never block the writer),
/// synchronous NORMAL (durable across application crashes; the WAL is
/// fsynced at checkpoints), foreign keys, a busy timeout, and a page cache
/// of `cache_kib`.
async fn sqlite_pool(
    url: &str,
    connections: u32,
    cache_kib: u32,
    checkpoints: Checkpoints,
) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(30))
        .max_connections(connections)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                for pragma in sqlite_pragmas(cache_kib, checkpoints) {
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// The settings of every SQLite connection (pools and the group commit's
/// own): WAL, synchronous NORMAL, foreign keys, a 10 s busy timeout (the
/// group commit's connection replaces it with a busy handler of its own),
/// a page cache of `cache_kib`, and who checkpoints.
pub(crate) fn sqlite_pragmas(cache_kib: u32, checkpoints: Checkpoints) -> [String; 8] {
    [
        // For a database this creates (an existing one keeps its size).
        // An order touches ≈ 20 pages at random places (its rows in nine
        // tables, their indexes by customer, order and key, the stock rows
        // of its lines), each written whole to the WAL and copied back;
        // a stock feed rewrites rows in place by the million. Measured
        // (BENCHMARKS.md, 27 Nov evening), orders/s and the 1,000,000-row
        // feed: 4 KiB (the default) 2,710–3,210 and 7.3–8.8 s; 2 KiB
        // 3,290–3,570 and 8.7–10.8 s; 1 KiB 3,170–3,600 but 10.9–13.0 s,
        // past the feed's 10 s.
        "PRAGMA page_size = 2048".to_owned(),
        "PRAGMA journal_mode = WAL".to_owned(),
        "PRAGMA synchronous = NORMAL".to_owned(),
        "PRAGMA foreign_keys = ON".to_owned(),
        "PRAGMA busy_timeout = 10000".to_owned(),
        format!("PRAGMA cache_size = -{cache_kib}"),
        match checkpoints {
            Checkpoints::OnCommit => "PRAGMA wal_autocheckpoint = 1000".to_owned(),
            Checkpoints::InBackground => "PRAGMA wal_autocheckpoint = 0".to_owned(),
        },
        // The writers: group commit opens a savepoint per order, and SQLite
        // copies each page an order first touches to the savepoint's
        // sub-journal. By default that spills to a temporary file past
        // 64 KiB and is never truncated again (≈ 14 % of the writer
        // thread's CPU in pwrites); in memory it is truncated at every
        // RELEASE. It holds only the pages one savepoint or statement
        // touched.
        match checkpoints {
            Checkpoints::OnCommit => "PRAGMA temp_store = DEFAULT".to_owned(),
            Checkpoints::InBackground => "PRAGMA temp_store = MEMORY".to_owned(),
        },
    ]
}

/// Who copies the WAL back into the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checkpoints {
    /// SQLite's default: the connection that commits past 1,000 WAL pages.
    OnCommit,
    /// Not this connection: [`checkpoint_in_background`] does it.
    InBackground,
}

/// How often the WAL is checkpointed for the SQLite writer.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// WAL size past which the background checkpoint makes the WAL start over
/// ([`restart_wal`]): reached only under a load that never pauses (≈ 10 s
/// of the orders bench at 3,000/s). Each restart stalls the writers once
/// (see there), so not much less: the stalls would touch more answers.
const WAL_RESTART_BYTES: i64 = 1 << 30;

/// Passive passes before the one in the write turn ([`restart_wal`]).
const CATCH_UP_PASSES: usize = 2;

/// At most this many rounds of a file-system flush and a passive pass
/// before the pass in the write turn ([`restart_wal`]), fewer once a pass
/// takes less than [`SHORT_PASS`].
const FLUSH_ROUNDS: usize = 4;
const SHORT_PASS: Duration = Duration::from_millis(10);

/// Checkpoints the WAL from a read connection while the writers run, so no
/// writer's turn includes copying pages back and their fsync: a PASSIVE
/// checkpoint every [`CHECKPOINT_INTERVAL`], which never blocks them. Ends
/// when the writer pool closes.
///
/// Passive checkpoints alone let the WAL grow without end under a load
/// that never pauses: SQLite starts the WAL over only in a write
/// transaction that began when every frame had been copied back, and the
/// group commit always begins with new frames behind it (measured: a
/// 2.4 GB WAL after 32,000 orders of the bench). So past
/// [`WAL_RESTART_BYTES`] one copy is made in this process's write turn
/// ([`restart_wal`]), after which the next write starts the WAL over.
fn checkpoint_in_background(
    readers: AnyPool,
    writer: AnyPool,
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    directory: Option<PathBuf>,
) {
    tokio::spawn(async move {
        let restart_frames = match page_size(&readers).await {
            Ok(bytes) => WAL_RESTART_BYTES / bytes.max(512),
            Err(error) => {
                tracing::debug!(%error, "reading the page size failed; assuming 4 KiB");
                WAL_RESTART_BYTES / 4096
            }
        };
        loop {
            tokio::time::sleep(CHECKPOINT_INTERVAL).await;
            if writer.is_closed() || readers.is_closed() {
                return;
            }
            let frames = match wal_checkpoint(&readers, "PASSIVE").await {
                Ok(frames) => frames,
                Err(error) => {
                    tracing::debug!(%error, "background WAL checkpoint failed; retrying");
                    continue;
                }
            };
            if frames >= restart_frames
                && let Err(error) = restart_wal(&readers, &turn, directory.as_deref()).await
            {
                tracing::debug!(%error, "WAL restart failed; retrying");
            }
        }
    });
}

/// The file of a SQLite URL; `None` for an in-memory database.
pub(crate) fn sqlite_file(url: &str) -> Option<PathBuf> {
    use std::str::FromStr;
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        return None;
    }
    Some(path.to_owned())
}

/// The database's page size, in bytes.
async fn page_size(
    connection: impl sqlx::Executor<'_, Database = Any>,
) -> Result<i64, sqlx::Error> {
    sqlx::query("PRAGMA page_size")
        .fetch_one(connection)
        .await?
        .try_get::<i64, _>(0)
}

/// Runs `PRAGMA wal_checkpoint(mode)`; the frames in the WAL.
async fn wal_checkpoint(
    connection: impl sqlx::Executor<'_, Database = Any>,
    mode: &str,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(&format!("PRAGMA wal_checkpoint({mode})"))
        .fetch_one(connection)
        .await?;
    row.try_get::<i64, _>(1)
}

/// Lets the next write start the WAL over: passive passes outside the turn
/// (each copies what was written during the one before), then a last one
/// inside this process's write turn, which copies every frame while no
/// writer of ours is in a transaction. Writers wait for that last pass.
///
/// That pass is the first to find the WAL fully copied, so it is the one
/// that fsyncs the database file, and by then every page the passes before
/// copied is dirty in the OS's cache (most of the file, at this load): that
/// fsync alone stalled the writers 160–260 ms. So the file system is
/// flushed first, outside the turn (`syncfs`, while the writers go on; see
/// [`flush_file_system`]), and a pass copies what came meanwhile, in up to
/// [`FLUSH_ROUNDS`] rounds until a pass is short; the pass in the turn then
/// flushes only what the last one and itself copied (31–55 ms measured).
async fn restart_wal(
    readers: &AnyPool,
    turn: &tokio::sync::Mutex<()>,
    directory: Option<&Path>,
) -> Result<(), sqlx::Error> {
    // The connection before the turn: never wait for one while holding it.
    let mut connection = readers.acquire().await?;
    for _ in 0..CATCH_UP_PASSES {
        wal_checkpoint(&mut *connection, "PASSIVE").await?;
    }
    if let Some(directory) = directory {
        for _ in 0..FLUSH_ROUNDS {
            flush_file_system(directory.to_owned()).await;
            let pass = std::time::Instant::now();
            wal_checkpoint(&mut *connection, "PASSIVE").await?;
            if pass.elapsed() < SHORT_PASS {
                break;
            }
        }
    }
    let _turn = turn.lock().await;
    wal_checkpoint(&mut *connection, "PASSIVE")
        .await
        .map(|_| ())
}

/// Writes the dirty pages of the file system holding `directory` to disk
/// (Linux: `syncfs` on the directory; elsewhere nothing, and the restart
/// pays its fsync in the turn as before). Not an fsync of the database file
/// itself: that needs a descriptor of the file, and closing one would drop
/// every POSIX lock this process's SQLite connections hold on it. Best
/// effort: a failure only leaves the work to SQLite's own fsync.
async fn flush_file_system(directory: PathBuf) {
    #[cfg(target_os = "linux")]
    {
        let flushed = tokio::task::spawn_blocking(move || {
            let handle = std::fs::File::open(&directory)?;
            rustix::fs::syncfs(&handle).map_err(std::io::Error::from)
        })
        .await;
        if let Ok(Err(error)) = flushed {
            tracing::debug!(%error, "flushing the file system before a WAL restart failed");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = directory;
}

/// PostgreSQL statements the group commit's connection keeps prepared
/// (sqlx's default is 100; placement statements come in a few hundred shapes).
const GROUP_STATEMENT_CACHE: usize = 1024;

/// A PostgreSQL URL with sqlx's `statement-cache-capacity` set.
fn with_statement_cache(url: &str, capacity: usize) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}statement-cache-capacity={capacity}")
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn cache_kib(pool: &AnyPool) -> i64 {
        let row = sqlx::query("PRAGMA cache_size")
            .fetch_one(pool)
            .await
            .expect("PRAGMA cache_size");
        // SQLite answers a size set in KiB as its negative.
        -row.try_get::<i64, _>(0).expect("an integer")
    }

    /// Frames in the WAL now, as a passive checkpoint reports them (it
    /// copies what it can back, which never starts the WAL over).
    async fn wal_frames(storage: &Storage) -> i64 {
        wal_checkpoint(&storage.pool, "PASSIVE")
            .await
            .expect("a checkpoint")
    }

    /// One write of ≈ 16 KiB (a few WAL frames), queued like any other.
    async fn write_some(storage: &Storage, n: usize) {
        let mut sql = Sql::new("INSERT INTO server_meta (key, value) VALUES (");
        sql.bind(format!("wal-test-{n}"))
            .push(", ")
            .bind("x".repeat(16 * 1024))
            .push(")");
        storage.execute_write(sql).await.expect("a write");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wal_under_writes_that_never_pause_is_started_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = Storage::open(&DatabaseLocation::SqliteFile(dir.path().join("wal.sqlite")))
            .await
            .expect("open");
        // Writes back to back, each queued behind the one before: passive
        // checkpoints copy every frame back, yet the WAL only grows.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (storage, stop) = (storage.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 5_000 {
                    write_some(&storage, n).await;
                    n += 1;
                }
            })
        };
        let mut grown = 0;
        while grown < 2_000 && !writer.is_finished() {
            grown = wal_frames(&storage).await;
        }
        assert!(grown >= 2_000, "the WAL reached only {grown} frames");
        restart_wal(&storage.pool, &storage.write_turn, Some(dir.path()))
            .await
            .expect("a restart");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.await.expect("the writer");
        write_some(&storage, 1_000_000).await;
        let after = wal_frames(&storage).await;
        assert!(
            after < grown / 2,
            "the WAL was not started over: {after} frames after, {grown} before"
        );
        storage.close().await;
    }

    #[tokio::test]
    async fn each_footprint_sizes_the_sqlite_connections_it_opens() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (footprint, readers, reader_kib, writer_kib) in [
            (Footprint::Server, 8, 8 * 1024, 16 * 1024),
            (Footprint::Device, 4, 1024, 4 * 1024),
        ] {
            let path = dir.path().join(format!("{footprint:?}.sqlite"));
            let storage = Storage::open_with(&DatabaseLocation::SqliteFile(path), footprint)
                .await
                .expect("open");
            assert_eq!(storage.pool.options().get_max_connections(), readers);
            assert_eq!(cache_kib(&storage.pool).await, reader_kib);
            assert_eq!(cache_kib(&storage.writer).await, writer_kib);
            storage.close().await;
            // The group commit's own connection: the writer's settings.
            let url = sqlite_url(&dir.path().join(format!("{footprint:?}.sqlite")));
            let native = group_commit::open_native(&url, writer_kib as u32).expect("open");
            let pragma = |name: &str| -> String {
                native
                    .query_row(&format!("PRAGMA {name}"), [], |row| {
                        row.get::<_, rusqlite::types::Value>(0)
                    })
                    .map(|value| match value {
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Text(text) => text,
                        other => format!("{other:?}"),
                    })
                    .expect("a pragma")
            };
            assert_eq!(pragma("cache_size"), (-writer_kib).to_string());
            assert_eq!(pragma("journal_mode"), "wal");
            assert_eq!(pragma("synchronous"), "1");
            assert_eq!(pragma("foreign_keys"), "1");
            assert_eq!(pragma("wal_autocheckpoint"), "0");
            assert_eq!(pragma("temp_store"), "2");
            assert_eq!(pragma("page_size"), "2048");
        }
    }
}

//! Group commit of order placements.
//!
//! Placements queue for one writer anyway: on SQLite, which admits one
//! writer; on PostgreSQL, behind the change counter row, which every writer
//! locks until its COMMIT (see [`super::next_change_seqs`]). Rather than one
//! transaction each, a single loop per server takes the placements waiting
//! in its queue and writes them in one transaction, each inside a
//! SAVEPOINT: a placement whose reservation finds its units gone (or that
//! conflicts on a unique key) is rolled back to its savepoint alone, the
//! others commit together. BEGIN/COMMIT — and on PostgreSQL the commit's
//! WAL flush, ≈ 2.4 ms on this VM, during which the counter stays locked —
//! are paid once per group; on SQLite the pages consecutive orders share
//! reach the WAL once per group. Correctness is unchanged: every placement
//! is still its own conditional write (see `orders::placement_batch` and
//! `orders::placement_statement_pg`), each takes its own change number
//! inside the group (the counter stays locked until the group's COMMIT, so
//! numbers are still handed out in commit order), and its caller hears back
//! only after the group's COMMIT.
//!
//! The loop runs on a thread of its own and is bound by the hand-offs to
//! the database, not by CPU, so it keeps them few:
//! - SQLite: the thread has **its own rusqlite connection** to the same
//!   file ([`open_native`]: the same settings as sqlx's writer) and runs
//!   each placement's statements itself, one by one, each prepared once and
//!   kept in the connection's statement cache: no hop to sqlx's worker
//!   thread, no message per statement or row. The other SQLite writes go
//!   through sqlx's writer connection; both take the process's write turn
//!   (`Storage::write_turn`) before `BEGIN IMMEDIATE`, so they queue on it
//!   in arrival order instead of on SQLite's lock (a busy handler of short
//!   steps covers the rest: a rollback sqlx finishes after the turn was
//!   given back, another process).
//! - PostgreSQL: one round trip per placement and **no savepoint**
//!   ([`commit_group_pg`]): the group's BEGIN takes the change counter, and
//!   each placement's one statement is all or nothing by itself (a gate:
//!   stock checked, key stored with `ON CONFLICT DO NOTHING`, every write
//!   under it). Only if a statement fails or reserves in part does the
//!   group start again with a savepoint per placement ([`commit_group`]:
//!   the prefix as one simple query, then the statement). That fallback
//!   opens at most [`MAX_GROUP`] (64) subtransactions, which still fit
//!   PostgreSQL's per-backend cache of 64 subtransaction ids (more would
//!   overflow it, and every snapshot in every backend would then read
//!   `pg_subtrans`). On a current-thread runtime, so its turn after each
//!   round trip never waits behind HTTP tasks on the server's tokio
//!   workers.

use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;
use std::time::Duration;

use super::orders::{
    GatedPlacement, PlacementWritten, is_unique_violation_native, placement_gated_pg,
    placement_written_native,
};
use super::sql::Sql;
use super::{Checkpoints, Storage, StorageError};

/// Most placements committed together.
const MAX_GROUP: usize = 64;

/// PostgreSQL: ends the previous placement (kept) and opens the next one's
/// savepoint.
const BATCH_PREFIX: &str = "RELEASE placement; SAVEPOINT placement; ";

/// PostgreSQL: how a group's transaction begins (the first savepoint is
/// opened with it), when written with savepoints ([`commit_group`]).
const PG_BEGIN: &str = "BEGIN; SAVEPOINT placement";

/// PostgreSQL's group BEGIN without savepoints ([`commit_group_pg`]): it
/// takes the change counter at once (as the placements' `c` would), so
/// every statement of the group runs with no other stock writer in flight
/// (see `orders::placement_statement_pg`).
const PG_BEGIN_LOCKED: &str =
    "BEGIN; SELECT last_seq FROM change_counter WHERE id = 1 FOR NO KEY UPDATE";

/// SQLite statements the group commit's connection keeps prepared: a
/// placement's statements come in a few dozen shapes (numbers of lines,
/// fulfilments, events…); rusqlite's default keeps 16.
const NATIVE_STATEMENT_CACHE: usize = 512;

/// The group commit connection's busy handler: how long it waits between
/// tries, and how many it makes (≈ 10 s, sqlx's busy timeout).
const BUSY_STEP: Duration = Duration::from_micros(100);
const BUSY_TRIES: i32 = 100_000;

type Reply = oneshot::Sender<Result<Option<PlacementWritten>, StorageError>>;

struct Job {
    batch: Sql,
    expected: usize,
    reply: Reply,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

/// One writing statement alone ([`GroupCommit::execute`]).
struct Statement {
    sql: Sql,
    reply: oneshot::Sender<Result<u64, StorageError>>,
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").finish_non_exhaustive()
    }
}

/// What the loop is asked to do.
#[derive(Debug)]
enum Message {
    Place(Job),
    /// SQLite: run a statement in a transaction of its own, between groups.
    Execute(Statement),
    /// Finish the placements before, close the connection, answer, end.
    Close(oneshot::Sender<()>),
}

/// The queue to the group-commit loop.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Message>,
}

impl GroupCommit {
    /// Starts the loop on its own thread: on SQLite over `native`, the
    /// connection [`open_native`] opened; on PostgreSQL (`None`) over the
    /// storage's group connection. It ends when every handle is dropped or
    /// at [`GroupCommit::close`].
    pub(crate) fn start(
        storage: Storage,
        native: Option<rusqlite::Connection>,
    ) -> Result<Self, StorageError> {
        let (jobs, queue) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new().name("group-commit".into());
        match native {
            Some(connection) => {
                let turn = storage.write_turn_lock();
                drop(storage);
                thread.spawn(move || run_native(connection, &turn, queue))
            }
            None => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(StorageError::GroupCommit)?;
                thread.spawn(move || runtime.block_on(run(storage, queue)))
            }
        }
        .map_err(StorageError::GroupCommit)?;
        Ok(Self { jobs })
    }

    /// Ends the loop after the placements queued so far, closing its
    /// connection (tests reopen the same file).
    pub(crate) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Message::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }

    /// Writes one placement (SQLite: `orders::placement_batch`; PostgreSQL:
    /// one statement) in the next group; answers after the group committed.
    pub(crate) async fn write(
        &self,
        batch: Sql,
        expected: usize,
    ) -> Result<Option<PlacementWritten>, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Place(Job {
                batch,
                expected,
                reply,
            }))
            .map_err(|_| StorageError::Batch("the group-commit task has stopped".into()))?;
        answer
            .await
            .map_err(|_| StorageError::Batch("the group-commit task dropped a placement".into()))?
    }

    /// SQLite: runs one writing statement alone (autocommit) on the group
    /// commit's own connection, between two groups; the rows it changed.
    /// On another connection its commit would empty this connection's page
    /// cache (SQLite drops a connection's cache when another one has
    /// committed), and the next group would read its pages again.
    pub(crate) async fn execute(&self, sql: Sql) -> Result<u64, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Execute(Statement { sql, reply }))
            .map_err(|_| StorageError::Batch("the group-commit task has stopped".into()))?;
        answer
            .await
            .map_err(|_| StorageError::Batch("the group-commit task dropped a statement".into()))?
    }
}

/// The next group: `first`, then the placements already queued behind it.
/// Any other message found while collecting (a statement, a close request)
/// ends the group and is handed back, to be handled after it.
fn next_group(
    first: Job,
    queue: &mut mpsc::UnboundedReceiver<Message>,
) -> (Vec<Job>, Option<Message>) {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(Message::Place(job)) => group.push(job),
            Ok(other) => return (group, Some(other)),
            Err(_) => break,
        }
    }
    (group, None)
}

/// Answers every placement of a group that could not be written.
fn refuse_all(group: Vec<Job>, message: &str) {
    for job in group {
        let _ = job.reply.send(Err(StorageError::Batch(message.to_owned())));
    }
}

// ---- SQLite: on the group commit's own connection --------------------------

/// Opens the group commit's own connection to the SQLite database of `url`
/// (migrated already): the settings of sqlx's writer connection
/// ([`super::sqlite_pragmas`], page cache `cache_kib`), its busy handler
/// waiting in short steps, a statement cache for every placement shape.
pub(crate) fn open_native(
    url: &str,
    cache_kib: u32,
) -> Result<rusqlite::Connection, rusqlite::Error> {
    // A file of its own is needed: an in-memory database is per connection.
    let path = super::sqlite_file(url).ok_or_else(|| rusqlite::Error::InvalidPath(url.into()))?;
    let connection = rusqlite::Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    for pragma in super::sqlite_pragmas(cache_kib, Checkpoints::InBackground) {
        // Some pragmas answer with a row (journal_mode): read them out.
        let mut statement = connection.prepare(&pragma)?;
        let mut rows = statement.query([])?;
        while rows.next()?.is_some() {}
    }
    // Replaces the busy timeout's sleeps (1, 2, 5, 10… ms): the lock this
    // connection waits for is a sqlx transaction that is about to end.
    connection.busy_handler(Some(|tries| {
        std::thread::sleep(BUSY_STEP);
        tries < BUSY_TRIES
    }))?;
    connection.set_prepared_statement_cache_capacity(NATIVE_STATEMENT_CACHE);
    Ok(connection)
}

fn run_native(
    connection: rusqlite::Connection,
    turn: &Arc<tokio::sync::Mutex<()>>,
    mut queue: mpsc::UnboundedReceiver<Message>,
) {
    let mut pending = None;
    let closing = loop {
        let Some(message) = pending.take().or_else(|| queue.blocking_recv()) else {
            break None;
        };
        match message {
            Message::Close(done) => break Some(done),
            Message::Execute(statement) => {
                let _turn = turn.blocking_lock();
                let changed = execute_alone(&connection, &statement.sql).map_err(Into::into);
                let _ = statement.reply.send(changed);
            }
            Message::Place(first) => {
                // The turn first: placements that queue meanwhile join this group.
                let _turn = turn.blocking_lock();
                let (group, after) = next_group(first, &mut queue);
                commit_group_native(&connection, group);
                pending = after;
            }
        }
    };
    // Closed before the answer: the caller may reopen the file.
    drop(connection);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Runs `sql` alone (autocommit): the rows its last statement changed.
fn execute_alone(connection: &rusqlite::Connection, sql: &Sql) -> rusqlite::Result<u64> {
    sql.run_native(connection, |_| Ok(()))?;
    Ok(connection.changes())
}

/// Runs one statement without parameters from the statement cache.
fn execute_native(connection: &rusqlite::Connection, text: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(text)?.execute([]).map(|_| ())
}

fn commit_group_native(connection: &rusqlite::Connection, group: Vec<Job>) {
    if let Err(error) = execute_native(connection, "BEGIN IMMEDIATE") {
        refuse_all(group, &format!("beginning a group: {error}"));
        return;
    }
    let mut written: Vec<(Reply, Option<PlacementWritten>)> = Vec::with_capacity(group.len());
    let mut broken: Option<String> = None;
    for job in group {
        if let Some(message) = &broken {
            let _ = job.reply.send(Err(StorageError::Batch(message.clone())));
            continue;
        }
        let outcome = execute_native(connection, "SAVEPOINT placement")
            .and_then(|()| placement_written_native(connection, &job.batch, job.expected));
        let outcome = match outcome {
            Ok(Some(placement)) => match execute_native(connection, "RELEASE placement") {
                Ok(()) => {
                    written.push((job.reply, Some(placement)));
                    continue;
                }
                Err(error) => Err(format!("releasing a placement: {error}")),
            },
            Ok(None) => Ok(None),
            // A unique key taken (a replayed Idempotency-Key, a concurrent
            // duplicate) fails one INSERT, which SQLite undid; rolling back
            // to the savepoint undoes the rest of this placement alone.
            Err(error) if is_unique_violation_native(&error) => Ok(Some(error)),
            // Anything else may have ended the transaction: give up the group.
            Err(error) => Err(format!("writing a placement: {error}")),
        };
        match outcome {
            Ok(conflict) => {
                if let Err(error) = execute_native(connection, "ROLLBACK TO placement")
                    .and_then(|()| execute_native(connection, "RELEASE placement"))
                {
                    broken = Some(format!("rolling back a placement: {error}"));
                }
                let _ = job.reply.send(match conflict {
                    Some(error) => Err(error.into()),
                    None => Ok(None),
                });
            }
            Err(message) => {
                let _ = job.reply.send(Err(StorageError::Batch(message.clone())));
                broken = Some(message);
            }
        }
    }
    let committed = match broken {
        Some(message) => Err(message),
        None => execute_native(connection, "COMMIT").map_err(|e| e.to_string()),
    };
    // Whatever failed, the connection is left outside any transaction.
    if committed.is_err() && !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    answer_written(written, committed);
}

/// Answers the placements a group wrote (`None`: refused, nothing
/// written), once its COMMIT is known.
fn answer_written(
    written: impl IntoIterator<Item = (Reply, Option<PlacementWritten>)>,
    committed: Result<(), String>,
) {
    for (reply, placement) in written {
        let _ = reply.send(match &committed {
            Ok(()) => Ok(placement),
            Err(message) => Err(StorageError::Batch(format!(
                "group commit failed: {message}"
            ))),
        });
    }
}

// ---- PostgreSQL ----------------------------------------------------------

async fn run(storage: Storage, mut queue: mpsc::UnboundedReceiver<Message>) {
    let mut pending = None;
    loop {
        let message = match pending.take() {
            Some(message) => message,
            None => match queue.recv().await {
                Some(message) => message,
                None => return,
            },
        };
        match message {
            Message::Close(done) => {
                let _ = done.send(());
                return;
            }
            // PostgreSQL's statements alone go to the writer pool
            // (`Storage::execute_write`), never here.
            Message::Execute(statement) => {
                let _ = statement.reply.send(Err(StorageError::Batch(
                    "statements alone are not group committed on PostgreSQL".into(),
                )));
            }
            Message::Place(first) => {
                let (group, after) = next_group(first, &mut queue);
                commit_group_pg(&storage, group).await;
                pending = after;
            }
        }
    }
}

/// The group in one transaction with **no savepoint**: each placement's
/// statement is all or nothing by itself (its gate), so a refused one writes
/// nothing and needs no rollback. That saves a round trip and a
/// subtransaction per placement (and, on `location_daily_orders`' upserts,
/// a MultiXact per placement, which every later visit to those rows had to
/// look up). Anything else — an error, which aborts the whole transaction,
/// or a partial reservation the gate should have prevented — rolls the
/// group back and writes it again the careful way ([`commit_group`]: the
/// same statements, each under a savepoint), so a placement still fails
/// only on its own account.
async fn commit_group_pg(storage: &Storage, group: Vec<Job>) {
    let mut tx = match storage.begin_group_write(PG_BEGIN_LOCKED).await {
        Ok(tx) => tx,
        Err(error) => {
            refuse_all(group, &error.to_string());
            return;
        }
    };
    let mut outcomes: Vec<Option<PlacementWritten>> = Vec::with_capacity(group.len());
    let mut careful = false;
    for job in &group {
        let outcome = match job.batch.duplicate().fetch_all(&mut **tx).await {
            Ok(rows) => placement_gated_pg(&rows, job.expected),
            Err(error) => Err(error.into()),
        };
        match outcome {
            Ok(GatedPlacement::Written(placement)) => outcomes.push(Some(placement)),
            Ok(GatedPlacement::Refused) => outcomes.push(None),
            Ok(GatedPlacement::Partial) => {
                tracing::debug!(
                    "group commit: a placement reserved in part; again with savepoints"
                );
                careful = true;
                break;
            }
            Err(error) => {
                tracing::debug!(%error, "group commit: a placement failed; again with savepoints");
                careful = true;
                break;
            }
        }
    }
    if careful {
        let _ = tx.rollback().await;
        return commit_group(storage, group).await;
    }
    let committed = tx.commit().await.map_err(|e| e.to_string());
    answer_written(
        group.into_iter().map(|job| job.reply).zip(outcomes),
        committed,
    );
}

/// The group with a savepoint per placement: [`commit_group_pg`]'s fallback.
async fn commit_group(storage: &Storage, group: Vec<Job>) {
    let mut tx = match storage.begin_group_write(PG_BEGIN).await {
        Ok(tx) => tx,
        Err(error) => {
            refuse_all(group, &error.to_string());
            return;
        }
    };
    let mut written: Vec<(Reply, Option<PlacementWritten>)> = Vec::with_capacity(group.len());
    let mut broken: Option<String> = None;
    // Whether the open savepoint is empty (just opened, or rolled back to):
    // the next placement can use it as it is.
    let mut savepoint_empty = true;
    for job in group {
        if let Some(message) = &broken {
            let _ = job.reply.send(Err(StorageError::Batch(message.clone())));
            continue;
        }
        if !savepoint_empty && let Err(error) = sqlx::raw_sql(BATCH_PREFIX).execute(&mut **tx).await
        {
            let message = format!("opening a placement's savepoint: {error}");
            broken = Some(message.clone());
            let _ = job.reply.send(Err(StorageError::Batch(message)));
            continue;
        }
        // The savepoint was opened apart, so whatever failed is this
        // placement's one statement.
        // A closed gate wrote nothing, a partial reservation is rolled back
        // to the savepoint below: both `None`.
        let outcome = match job.batch.fetch_all(&mut **tx).await {
            Ok(rows) => placement_gated_pg(&rows, job.expected).map(|gated| match gated {
                GatedPlacement::Written(placement) => Some(placement),
                GatedPlacement::Refused | GatedPlacement::Partial => None,
            }),
            Err(error) => Err(error.into()),
        };
        savepoint_empty = !matches!(outcome, Ok(Some(_)));
        if savepoint_empty
            && let Err(error) = sqlx::raw_sql("ROLLBACK TO placement")
                .execute(&mut **tx)
                .await
        {
            broken = Some(format!("rolling back a placement: {error}"));
        }
        match outcome {
            Ok(Some(placement)) => written.push((job.reply, Some(placement))),
            other => {
                let _ = job.reply.send(other);
            }
        }
    }
    // COMMIT releases the last placement's savepoint with the rest.
    let committed = match broken {
        Some(message) => {
            let _ = tx.rollback().await;
            Err(message)
        }
        None => tx.commit().await.map_err(|e| e.to_string()),
    };
    answer_written(written, committed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::DatabaseLocation;
    use sqlx::Connection;

    type Answer = oneshot::Receiver<Result<Option<PlacementWritten>, StorageError>>;

    /// A job whose statement is `text` (rows: only their `kind`), wanting
    /// `expected` reserved rows.
    fn job(text: &str, expected: usize) -> (Job, Answer) {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            batch: Sql::new(text),
            expected,
            reply,
        };
        (job, answer)
    }

    /// Writes `n` into the scratch table and opens the gate.
    fn gated_insert(n: i64) -> String {
        format!(
            "WITH x AS (INSERT INTO scratch VALUES ({n}) RETURNING n) SELECT 'g' AS kind FROM x"
        )
    }

    /// The PostgreSQL group commit without savepoints, when one placement
    /// fails (here a duplicate key, as a replay would hit one: the error
    /// aborts the whole transaction) and another reserves
    /// fewer rows than wanted with its gate open: the group is rolled back
    /// and written again with a savepoint each, so the failing placement
    /// fails alone, the partial one leaves nothing behind, a closed gate is
    /// answered "not written", and the others are committed exactly once.
    /// Needs `AISLE_TEST_POSTGRES_URL` (set by `cargo xtask test`), like
    /// the integration tests.
    #[tokio::test]
    async fn a_failing_or_partial_placement_sends_its_group_the_careful_way() {
        let admin = std::env::var("AISLE_TEST_POSTGRES_URL")
            .expect("AISLE_TEST_POSTGRES_URL: a PostgreSQL role that may CREATE DATABASE");
        let name = format!("aisle_test_{}", uuid::Uuid::new_v4().simple());
        let mut control = sqlx::PgConnection::connect(&admin).await.expect("connect");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut control)
            .await
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("a URL ending in /<database>");
        let storage = Storage::open(&DatabaseLocation::Url(format!("{base}/{name}")))
            .await
            .expect("open");
        sqlx::raw_sql("CREATE TABLE scratch (n BIGINT PRIMARY KEY)")
            .execute(storage.pool())
            .await
            .expect("scratch table");

        let (first, first_answer) = job(&gated_insert(1), 0);
        let (failing, failing_answer) = job(&gated_insert(1), 0);
        let (partial, partial_answer) = job(&gated_insert(2), 1);
        let (closed, closed_answer) = job("SELECT 'g' AS kind WHERE false", 0);
        let (last, last_answer) = job(&gated_insert(3), 0);
        commit_group_pg(&storage, vec![first, failing, partial, closed, last]).await;

        let written = |answer: Result<Option<PlacementWritten>, StorageError>| matches!(answer, Ok(Some(placement)) if placement.reserved.is_empty());
        assert!(written(first_answer.await.expect("answered")));
        assert!(failing_answer.await.expect("answered").is_err());
        assert!(matches!(partial_answer.await.expect("answered"), Ok(None)));
        assert!(matches!(closed_answer.await.expect("answered"), Ok(None)));
        assert!(written(last_answer.await.expect("answered")));
        let kept: Vec<i64> = sqlx::query_scalar("SELECT n FROM scratch ORDER BY n")
            .fetch_all(storage.pool())
            .await
            .expect("read back");
        assert_eq!(kept, vec![1, 3], "the first attempt rolled back, 2 undone");

        storage.close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut control)
            .await
            .expect("drop database");
    }
}

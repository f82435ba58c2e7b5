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
//! The loop is bound by round trips to the database, not by CPU, so it keeps
//! them few and short:
//! - SQLite: one round trip per placement. Each batch starts with
//!   [`BATCH_PREFIX`], which releases the previous placement's savepoint
//!   (BEGIN opens the first one) and opens its own; COMMIT releases the
//!   last. Only a placement rolled back costs a second trip (`ROLLBACK TO`).
//!   Every batch starts with the same text, so sqlx's statement cache keeps
//!   serving it.
//! - PostgreSQL: two (the prefix, as one simple query, then the placement's
//!   one statement), one for the first placement of a group.
//! - The loop runs on a thread of its own (a current-thread runtime), so its
//!   turn after each round trip never waits behind HTTP tasks on the
//!   server's tokio workers.

use tokio::sync::{mpsc, oneshot};

use super::orders::{
    PlacementWritten, is_unique_violation, placement_written, placement_written_pg,
};
use super::sql::Sql;
use super::{Backend, Storage, StorageError};

/// Most placements committed together.
const MAX_GROUP: usize = 64;

/// Ends the previous placement (kept) and opens the next one's savepoint.
/// On SQLite each placement's batch starts with it.
pub(crate) const BATCH_PREFIX: &str = "RELEASE placement; SAVEPOINT placement; ";

/// How a group's transaction begins: the first savepoint is opened with it
/// (sqlx runs a custom BEGIN as a simple query — `sqlite3_exec` on SQLite —
/// which takes several statements).
fn begin_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE; SAVEPOINT placement",
        Backend::Postgres => "BEGIN; SAVEPOINT placement",
    }
}

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

/// The queue to the group-commit loop.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the loop on its own thread; it ends when every handle is
    /// dropped.
    pub(crate) fn start(storage: Storage) -> Result<Self, StorageError> {
        let (jobs, queue) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StorageError::GroupCommit)?;
        std::thread::Builder::new()
            .name("group-commit".into())
            .spawn(move || runtime.block_on(run(storage, queue)))
            .map_err(StorageError::GroupCommit)?;
        Ok(Self { jobs })
    }

    /// Writes one placement (SQLite: a batch starting with [`BATCH_PREFIX`];
    /// PostgreSQL: one statement) in the next group; answers after the group
    /// committed.
    pub(crate) async fn write(
        &self,
        batch: Sql,
        expected: usize,
    ) -> Result<Option<PlacementWritten>, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                batch,
                expected,
                reply,
            })
            .map_err(|_| StorageError::Batch("the group-commit task has stopped".into()))?;
        answer
            .await
            .map_err(|_| StorageError::Batch("the group-commit task dropped a placement".into()))?
    }
}

async fn run(storage: Storage, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&storage, group).await;
    }
}

async fn commit_group(storage: &Storage, group: Vec<Job>) {
    let backend = storage.backend();
    let mut tx = match storage.begin_group_write(begin_statement(backend)).await {
        Ok(tx) => tx,
        Err(error) => {
            let message = error.to_string();
            for job in group {
                let _ = job.reply.send(Err(StorageError::Batch(message.clone())));
            }
            return;
        }
    };
    let mut written: Vec<(Reply, PlacementWritten)> = Vec::with_capacity(group.len());
    let mut broken: Option<String> = None;
    // Whether the open savepoint is empty (just opened, or rolled back to):
    // the next placement can use it as it is.
    let mut savepoint_empty = true;
    for job in group {
        if let Some(message) = &broken {
            let _ = job.reply.send(Err(StorageError::Batch(message.clone())));
            continue;
        }
        if backend == Backend::Postgres
            && !savepoint_empty
            && let Err(error) = sqlx::raw_sql(BATCH_PREFIX).execute(&mut **tx).await
        {
            let message = format!("opening a placement's savepoint: {error}");
            broken = Some(message.clone());
            let _ = job.reply.send(Err(StorageError::Batch(message)));
            continue;
        }
        let outcome = match job.batch.fetch_all(&mut **tx).await {
            Ok(rows) => match backend {
                Backend::Sqlite => placement_written(&rows, job.expected),
                Backend::Postgres => placement_written_pg(&rows, job.expected),
            },
            // PostgreSQL: the savepoint was opened apart, so whatever failed
            // is this placement's one statement. SQLite: a unique key taken
            // (a replayed Idempotency-Key, a concurrent duplicate) can only
            // fail one of this placement's INSERTs, after the prefix ran:
            // rolling back to the savepoint undoes this placement alone. Any
            // other error may have struck the prefix (the previous
            // placement's RELEASE), so the group is given up.
            Err(error) if backend == Backend::Postgres || is_unique_violation(&error) => {
                Err(error.into())
            }
            Err(error) => {
                let message = format!("writing a placement: {error}");
                broken = Some(message.clone());
                let _ = job.reply.send(Err(StorageError::Batch(message)));
                continue;
            }
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
            Ok(Some(placement)) => written.push((job.reply, placement)),
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
    for (reply, placement) in written {
        let _ = reply.send(match &committed {
            Ok(()) => Ok(Some(placement)),
            Err(message) => Err(StorageError::Batch(format!(
                "group commit failed: {message}"
            ))),
        });
    }
}

//! Group commit of order placements on SQLite.
//!
//! SQLite has one writer, so placements queue for it anyway. Rather than one
//! transaction each, a single task takes the placements waiting in its queue
//! and writes them in one transaction, each inside a SAVEPOINT: a placement
//! whose reservation finds its units gone (or that fails) is rolled back to
//! its savepoint alone, the others commit together. The pages consecutive
//! orders share (the tables' and indexes' last pages, the change counter)
//! reach the WAL once per group instead of once per order, and BEGIN/COMMIT
//! are paid once. Correctness is unchanged: every placement is still its own
//! conditional batch (see `orders::placement_batch`), and its caller hears
//! back only after the group's COMMIT.

use tokio::sync::{mpsc, oneshot};

use super::orders::{PlacementWritten, placement_written};
use super::sql::Sql;
use super::{Storage, StorageError};

/// Most placements committed together.
const MAX_GROUP: usize = 64;

/// The statement prefix each placement's batch starts with.
pub(crate) const SAVEPOINT: &str = "SAVEPOINT placement; ";

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

/// The queue to the group-commit task.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the task; it ends when every handle is dropped.
    pub(crate) fn start(storage: Storage) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(storage, queue));
        Self { jobs }
    }

    /// Writes one placement batch (starting with [`SAVEPOINT`]) in the next
    /// group; answers after the group committed.
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
    let mut tx = match storage.begin_write().await {
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
    for job in group {
        if let Some(message) = &broken {
            let _ = job.reply.send(Err(StorageError::Batch(message.clone())));
            continue;
        }
        let outcome = match job.batch.fetch_all(&mut **tx).await {
            Ok(rows) => placement_written(&rows, job.expected),
            Err(error) => Err(error.into()),
        };
        let end = match &outcome {
            Ok(Some(_)) => "RELEASE placement",
            _ => "ROLLBACK TO placement; RELEASE placement",
        };
        if let Err(error) = sqlx::query(end).execute(&mut **tx).await {
            broken = Some(format!("ending a placement's savepoint: {error}"));
        }
        match outcome {
            Ok(Some(placement)) if broken.is_none() => written.push((job.reply, placement)),
            Ok(Some(_)) => {
                let message = broken.clone().unwrap_or_default();
                let _ = job.reply.send(Err(StorageError::Batch(message)));
            }
            other => {
                let _ = job.reply.send(other);
            }
        }
    }
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

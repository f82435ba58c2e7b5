//! Progress of the long-running jobs this instance is executing.
//!
//! A stock feed holds one write transaction while its body streams in, and on
//! SQLite that transaction blocks every other writer, so progress cannot be
//! written to the database as it goes: it lives here, in memory, as atomic
//! counters the import bumps per chunk. When a job ends, its final state is
//! written to the `jobs` table first and only then removed from here, so a
//! reader always finds it in one place or the other.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A running job's counters.
#[derive(Debug)]
pub struct Progress {
    rows_done: AtomicU64,
    bytes_done: AtomicU64,
    pub bytes_total: Option<u64>,
}

impl Progress {
    pub fn set(&self, rows_done: u64, bytes_done: u64) {
        self.rows_done.store(rows_done, Ordering::Relaxed);
        self.bytes_done.store(bytes_done, Ordering::Relaxed);
    }

    /// `(rows_done, bytes_done)`.
    pub fn get(&self) -> (u64, u64) {
        (
            self.rows_done.load(Ordering::Relaxed),
            self.bytes_done.load(Ordering::Relaxed),
        )
    }
}

/// The jobs running in this instance.
#[derive(Debug, Default)]
pub struct JobRegistry {
    running: Mutex<HashMap<Uuid, Arc<Progress>>>,
}

impl JobRegistry {
    /// Registers a job; `None` if one with this id is already running here.
    pub fn start(self: &Arc<Self>, id: Uuid, bytes_total: Option<u64>) -> Option<RunningJob> {
        let progress = Arc::new(Progress {
            rows_done: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            bytes_total,
        });
        let mut running = self.lock();
        if running.contains_key(&id) {
            return None;
        }
        running.insert(id, Arc::clone(&progress));
        Some(RunningJob {
            registry: Arc::clone(self),
            id,
            progress,
        })
    }

    pub fn get(&self, id: &Uuid) -> Option<Arc<Progress>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Progress>>> {
        // The map stays consistent whatever panicked while it was held.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A registered job: leaves the registry when dropped (after its final
/// state was stored, or because the request was abandoned).
#[derive(Debug)]
pub struct RunningJob {
    registry: Arc<JobRegistry>,
    pub id: Uuid,
    pub progress: Arc<Progress>,
}

impl Drop for RunningJob {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

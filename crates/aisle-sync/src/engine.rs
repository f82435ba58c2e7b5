//! The sync engine: one background loop that pushes the outbox and pulls
//! changes, with its state for the app to show (DESIGN.md "Sync").
//!
//! - [`SyncEngine::status`] is a `tokio::sync::watch` of [`SyncStatus`]:
//!   online / offline / syncing, when the last sync succeeded, how many
//!   actions are queued and how many were refused, and the pull's progress.
//! - [`SyncEngine::start`] starts the loop; a second start while it runs is
//!   refused ([`SyncError::AlreadyRunning`]). Dropping or stopping the
//!   returned [`SyncLoop`] stops it (between two database transactions:
//!   every page and every batch answer is applied whole or not at all).
//! - After a failure the loop waits with exponential backoff (1 s doubling
//!   up to 60 s) and full jitter (a random wait between half and all of
//!   it); [`SyncEngine::sync_now`] wakes it at once, and
//!   [`SyncEngine::enqueue`] does too.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oms_api::OmsClient;
use oms_api::wire::Intent;
use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::cache::{Cache, DeviceInfo};
use crate::error::SyncError;
use crate::pull::{DEFAULT_PAGE_SIZE, PullOutcome, PullProgress, pull};
use crate::push::{PushReport, push};

/// Whether the core is reachable, as last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// Not tried yet.
    Unknown,
    Online,
    /// The last attempt could not reach the core; retrying with backoff.
    Offline,
    /// A push or pull is running.
    Syncing,
}

/// What the app shows about sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub connectivity: Connectivity,
    /// When a sync last succeeded (RFC 3339): the age of the cached data.
    pub last_sync_at: Option<String>,
    /// Actions queued on this device, not yet answered by the core.
    pub pending: u64,
    /// Actions the core refused that staff have not dismissed.
    pub refused: u64,
    /// The running pull's progress.
    pub pull: Option<PullProgress>,
    /// The last failure other than being offline (e.g. a mutation gap), in
    /// plain words.
    pub last_error: Option<String>,
}

/// Tuning of the loop.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Changes per pull page (≤ 5,000).
    pub page_size: u32,
    /// Mutations per push (≤ 500).
    pub push_batch: usize,
    /// Wait between two syncs when all is well.
    pub interval: Duration,
    /// First wait after a failure; doubles at each failure in a row.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            push_batch: 500,
            interval: Duration::from_secs(15),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// What one sync round did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub pushed: PushReport,
    pub pulled: PullProgress,
}

struct Inner {
    cache: Cache,
    client: OmsClient,
    device: DeviceInfo,
    config: SyncConfig,
    status: watch::Sender<SyncStatus>,
    wake: Notify,
    running: AtomicBool,
    /// One round at a time (the loop's and direct `sync_once` calls).
    round: tokio::sync::Mutex<()>,
}

/// Pushes and pulls for one paired device. Cheap to clone.
#[derive(Clone)]
pub struct SyncEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field("device", &self.inner.device.device_id)
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

/// The running loop. Dropping it stops the loop.
#[derive(Debug)]
pub struct SyncLoop {
    task: tokio::task::JoinHandle<()>,
    engine: SyncEngine,
}

impl SyncLoop {
    /// Stops the loop and waits for it to end.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for SyncLoop {
    fn drop(&mut self) {
        self.task.abort();
        self.engine.inner.running.store(false, Ordering::SeqCst);
    }
}

impl SyncEngine {
    /// An engine for the device paired in `cache`, talking through `client`
    /// (authenticated with the device's token, see
    /// [`crate::secrets::device_client`]).
    pub async fn new(
        cache: Cache,
        client: OmsClient,
        config: SyncConfig,
    ) -> Result<Self, SyncError> {
        let device = cache.device().await?.ok_or(SyncError::NotPaired)?;
        let position = cache.position().await?;
        let counts = cache.counts().await?;
        let (status, _) = watch::channel(SyncStatus {
            connectivity: Connectivity::Unknown,
            last_sync_at: position.last_pull_at,
            pending: counts.outbox_pending,
            refused: counts.outbox_refused,
            pull: None,
            last_error: None,
        });
        Ok(Self {
            inner: Arc::new(Inner {
                cache,
                client,
                device,
                config,
                status,
                wake: Notify::new(),
                running: AtomicBool::new(false),
                round: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    pub fn device(&self) -> &DeviceInfo {
        &self.inner.device
    }

    /// The client authenticated with this device's token (for online-only
    /// calls that must come from the paired device, e.g. staff sign-in).
    pub fn client(&self) -> &OmsClient {
        &self.inner.client
    }

    /// The sync state, updated as it changes.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.inner.status.subscribe()
    }

    /// Queues an intent (see [`Cache::enqueue`]) and wakes the loop to push
    /// it. Returns the mutation id.
    pub async fn enqueue(&self, intent: Intent) -> Result<u64, SyncError> {
        let id = self.inner.cache.enqueue(intent).await?;
        self.refresh_counts().await?;
        self.sync_now();
        Ok(id)
    }

    /// Wakes the loop for a sync at once (skipping any backoff wait).
    pub fn sync_now(&self) {
        self.inner.wake.notify_one();
    }

    /// Starts the background loop on the current tokio runtime. Refused
    /// while a loop of this engine runs.
    pub fn start(&self) -> Result<SyncLoop, SyncError> {
        if self.inner.running.swap(true, Ordering::SeqCst) {
            return Err(SyncError::AlreadyRunning);
        }
        let engine = self.clone();
        let task = tokio::spawn(async move { engine.run().await });
        Ok(SyncLoop {
            task,
            engine: self.clone(),
        })
    }

    /// One round: push the outbox, then pull until caught up. Updates the
    /// status on the way.
    pub async fn sync_once(&self) -> Result<SyncSummary, SyncError> {
        let _round = self.inner.round.lock().await;
        self.inner.status.send_modify(|s| {
            s.connectivity = Connectivity::Syncing;
        });
        let result = self.round().await;
        let counts = self.inner.cache.counts().await;
        let position = self.inner.cache.position().await;
        self.inner.status.send_modify(|s| {
            s.pull = None;
            if let Ok(counts) = &counts {
                s.pending = counts.outbox_pending;
                s.refused = counts.outbox_refused;
            }
            match &result {
                Ok(_) => {
                    s.connectivity = Connectivity::Online;
                    s.last_error = None;
                    if let Ok(position) = &position {
                        s.last_sync_at = position.last_pull_at.clone();
                    }
                }
                Err(error) if error.is_offline() => {
                    s.connectivity = Connectivity::Offline;
                }
                Err(error) => {
                    s.connectivity = Connectivity::Online;
                    s.last_error = Some(error.to_string());
                }
            }
        });
        result
    }

    async fn round(&self) -> Result<SyncSummary, SyncError> {
        let inner = &self.inner;
        let pushed = push(
            &inner.client,
            &inner.cache,
            &inner.device.device_id,
            inner.config.push_batch,
        )
        .await?;
        self.refresh_counts().await?;
        let status = &inner.status;
        let outcome = pull(&inner.client, &inner.cache, inner.config.page_size, |p| {
            status.send_modify(|s| s.pull = Some(p.clone()));
            ControlFlow::Continue(())
        })
        .await?;
        let pulled = match outcome {
            PullOutcome::CaughtUp(progress) | PullOutcome::Interrupted(progress) => progress,
        };
        Ok(SyncSummary { pushed, pulled })
    }

    async fn refresh_counts(&self) -> Result<(), SyncError> {
        let counts = self.inner.cache.counts().await?;
        self.inner.status.send_modify(|s| {
            s.pending = counts.outbox_pending;
            s.refused = counts.outbox_refused;
        });
        Ok(())
    }

    /// Prunes the outbox at most once an hour (applied mutations kept a
    /// week, dismissed refusals a month: enough to answer "did it go?").
    async fn prune_if_due(&self, last: &mut Option<std::time::Instant>) {
        const EVERY: Duration = Duration::from_secs(3600);
        if last.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        *last = Some(std::time::Instant::now());
        let now = jiff::Timestamp::now();
        let days_ago = |days: i64| {
            now.checked_sub(jiff::SignedDuration::from_hours(24 * days))
                .unwrap_or(now)
                .to_string()
        };
        match self
            .inner
            .cache
            .prune_outbox(&days_ago(7), &days_ago(30))
            .await
        {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "sync: old outbox rows pruned"),
            Err(error) => tracing::warn!(%error, "sync: outbox pruning failed"),
        }
    }

    async fn run(self) {
        let config = self.inner.config.clone();
        let mut failures: u32 = 0;
        let mut pruned_at = None;
        loop {
            let wait = match self.sync_once().await {
                Ok(_) => {
                    failures = 0;
                    self.prune_if_due(&mut pruned_at).await;
                    config.interval
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    if error.is_offline() {
                        tracing::info!(%error, failures, "sync: core unreachable");
                    } else {
                        tracing::warn!(%error, failures, "sync failed");
                    }
                    backoff(failures, config.backoff_base, config.backoff_max)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.inner.wake.notified() => {}
            }
        }
    }
}

/// The wait after `failures` failures in a row: `base · 2^(failures−1)`
/// capped at `max`, then a random point between half of it and all of it.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let full = base.saturating_mul(1u32 << exponent).min(max);
    let random = (uuid::Uuid::new_v4().as_u128() % 1_000_000) as f64 / 1_000_000.0;
    full.mul_f64(0.5 + 0.5 * random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for _ in 0..50 {
            let first = backoff(1, base, max);
            assert!(
                first >= Duration::from_millis(500) && first <= base,
                "{first:?}"
            );
            let fourth = backoff(4, base, max);
            assert!(fourth >= Duration::from_secs(4) && fourth <= Duration::from_secs(8));
            let many = backoff(40, base, max);
            assert!(many >= Duration::from_secs(30) && many <= max, "{many:?}");
        }
    }
}

//! Push: pending outbox rows to `POST /v1/sync/push` in batches, the same
//! ids on every retry (DESIGN.md "Push").
//!
//! A transport error is an unknown outcome: nothing is marked, and the same
//! mutations go again later; the core answers those it already applied from
//! storage. Each answer is recorded in the outbox (applied, or refused with
//! its problem for staff). A 409 `mutation-gap` means the core's record of
//! this device does not follow on from the outbox: it is surfaced as
//! [`SyncError::MutationGap`] and nothing is marked.

use oms_api::wire::{MAX_PUSH_MUTATIONS, PushRequest};
use oms_api::{ClientError, OmsClient};
use serde::Serialize;

use crate::cache::Cache;
use crate::error::SyncError;

/// What one push round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub batches: u64,
    pub applied: u64,
    pub refused: u64,
    /// The core's last applied mutation for this device.
    pub last_applied: u64,
}

/// Pushes every pending mutation of `device_id`, `batch_size` (≤ 500) at a
/// time, recording each answer.
pub async fn push(
    client: &OmsClient,
    cache: &Cache,
    device_id: &str,
    batch_size: usize,
) -> Result<PushReport, SyncError> {
    let batch_size = batch_size.clamp(1, MAX_PUSH_MUTATIONS);
    let mut report = PushReport::default();
    loop {
        let mutations = cache.pending_mutations(device_id, batch_size).await?;
        let (Some(first), Some(last)) = (mutations.first(), mutations.last()) else {
            return Ok(report);
        };
        let (first, last) = (first.id, last.id);
        let request = PushRequest {
            device_id: device_id.to_owned(),
            mutations,
        };
        let response = match client.push(&request).await {
            Ok(response) => response,
            Err(ClientError::Problem(problem))
                if problem.status == 409 && problem.kind.ends_with("mutation-gap") =>
            {
                return Err(SyncError::MutationGap {
                    first_sent: first,
                    detail: problem.detail.unwrap_or(problem.title),
                });
            }
            Err(error) => return Err(error.into()),
        };
        if response.device_id != device_id {
            return Err(SyncError::BadPushAnswer(format!(
                "answer for device {} to a push of device {device_id}",
                response.device_id
            )));
        }
        if let Some(stray) = response
            .results
            .iter()
            .find(|r| r.id < first || r.id > last)
        {
            return Err(SyncError::BadPushAnswer(format!(
                "result for mutation {} in a push of {first}..={last}",
                stray.id
            )));
        }
        cache.record_results(device_id, &response.results).await?;
        report.batches += 1;
        report.last_applied = response.last_applied;
        for result in &response.results {
            if result.applied() {
                report.applied += 1;
            } else {
                report.refused += 1;
            }
        }
        if response.results.iter().all(|r| r.id != last) {
            // The core did not answer the whole batch: try again later
            // rather than loop on the same rows.
            return Err(SyncError::BadPushAnswer(format!(
                "no result for mutation {last} (last applied {})",
                response.last_applied
            )));
        }
    }
}

//! Pull: the core's changes since the stored cursor, page by page
//! (DESIGN.md "Pull").
//!
//! Each page is applied in one SQLite transaction together with the new
//! cursor, so the pull can stop between any two pages — the progress
//! callback asks for it, or the future is dropped — and the next pull
//! resumes from the stored cursor without losing or repeating a page.
//!
//! **Progress.** `GET /v1/changes` does not say how many changes remain, and
//! sequence numbers do not help (a demo seed or a large feed puts many rows
//! under one number). So `estimated_total` is the changes received so far,
//! plus one more page while `has_more` is true: a lower bound that is exact
//! once the pull is done. The app shows "N received" with an indeterminate
//! bar while `has_more`.

use std::ops::ControlFlow;

use oms_api::OmsClient;
use oms_api::wire::ChangeQuery;
use serde::Serialize;

use crate::cache::Cache;
use crate::error::SyncError;

/// Changes per page asked of the core (its maximum is 5,000).
pub const DEFAULT_PAGE_SIZE: u32 = 5_000;

/// How far a pull has come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PullProgress {
    /// Pages applied by this pull.
    pub pages: u64,
    /// Changes applied by this pull.
    pub changes: u64,
    /// A lower bound of this pull's total (see the module documentation).
    pub estimated_total: u64,
    /// Whether the core has more after the pages applied.
    pub has_more: bool,
}

/// How a pull ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    /// The cache holds everything the core had when the last page was read.
    CaughtUp(PullProgress),
    /// Stopped between pages at the callback's request; the next pull
    /// resumes from there.
    Interrupted(PullProgress),
}

impl PullOutcome {
    pub fn progress(&self) -> &PullProgress {
        match self {
            PullOutcome::CaughtUp(progress) | PullOutcome::Interrupted(progress) => progress,
        }
    }
}

/// Pulls from the cache's cursor until caught up, calling `on_page` after
/// each applied page; `ControlFlow::Break` stops the pull there.
pub async fn pull(
    client: &OmsClient,
    cache: &Cache,
    page_size: u32,
    mut on_page: impl FnMut(&PullProgress) -> ControlFlow<()>,
) -> Result<PullOutcome, SyncError> {
    let mut progress = PullProgress {
        has_more: true,
        ..PullProgress::default()
    };
    let mut cursor = cache.position().await?.cursor;
    loop {
        let page = client
            .changes(&ChangeQuery {
                cursor: cursor.clone(),
                limit: Some(page_size),
            })
            .await?;
        cache.apply_page(&page).await?;
        progress.pages += 1;
        progress.changes += page.changes.len() as u64;
        progress.has_more = page.has_more;
        progress.estimated_total = progress.changes
            + if page.has_more {
                u64::from(page_size)
            } else {
                0
            };
        tracing::debug!(
            pages = progress.pages,
            changes = progress.changes,
            has_more = page.has_more,
            "pulled a page"
        );
        let flow = on_page(&progress);
        if !page.has_more {
            return Ok(PullOutcome::CaughtUp(progress));
        }
        if flow.is_break() {
            return Ok(PullOutcome::Interrupted(progress));
        }
        cursor = Some(page.cursor);
    }
}

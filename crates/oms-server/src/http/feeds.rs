//! Stock feeds in and out: `POST /v1/stock/feeds` (import, streamed, all or
//! nothing), `GET /v1/jobs/{id}` (its progress and report) and
//! `GET /v1/channels/{id}/unified-stock` (export, streamed).
//!
//! An import reads the body chunk by chunk, cuts it into lines and checks
//! each ([`crate::feed`]), stages the valid rows in batches inside one write
//! transaction (in a task of its own, overlapping the parsing), and at the
//! end either applies them set-based and commits, or rolls back and reports
//! the refused rows. Memory stays bounded by a few batches whatever the
//! feed's size, plus the rows as the stock index numbers them (12 bytes
//! each, at most [`crate::stock_cache::MAX_FEED_CHANGES`]), which let the
//! index take the feed's changes without reading them back.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use oms_api::wire::{
    ExportFormat, ExportQuery, FeedMode, FeedQuery, FeedReport, FeedStatus, Job, JobKind,
    JobStatus, MAX_REFUSED_LISTED, RefusalCode, RefusedRow, UnifiedStockLine,
};
use oms_domain::model::{ChannelId, Sku};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

use super::extract::ApiQuery;
use super::{ApiError, auth};
use crate::AppState;
use crate::auth::Role;
use crate::feed::{FeedParser, FeedRow, Known, Line, LineSplitter, Parsed};
use crate::jobs::Progress;
use crate::stock_cache::{FeedChanges, Indexed, StockCache};
use crate::storage::{JobRecord, STAGE_CHUNK, Storage, StorageError};

/// Largest accepted feed body: about 12 million rows.
pub const MAX_FEED_BYTES: usize = 512 * 1024 * 1024;

/// The job kind's stored name.
const STOCK_FEED: &str = "stock_feed";

/// SKUs per piece of a streamed export (the index's read lock is taken once
/// per piece, never across an await).
const EXPORT_PIECE: usize = 2_000;

/// Rows and locations a feed is checked against.
struct KnownNow<'a> {
    cache: &'a Indexed,
    locations: &'a HashSet<String>,
}

impl Known for KnownNow<'_> {
    fn location(&self, id: &str) -> bool {
        self.locations.contains(id)
    }
    fn sku(&self, sku: &str) -> bool {
        self.cache.known_skus.contains(sku)
    }
}

/// The refused rows listed so far (the first ones), and how many in all.
#[derive(Default)]
struct Refusals {
    listed: Vec<RefusedRow>,
    total: u64,
}

impl Refusals {
    fn add(&mut self, row: RefusedRow) {
        self.total += 1;
        if self.listed.len() < MAX_REFUSED_LISTED {
            self.listed.push(row);
        }
    }
}

/// Records the job as failed if the request is dropped mid-import (the
/// client went away): the transaction rolls back on its own.
struct Abandoned {
    storage: Storage,
    id: Uuid,
    progress: Arc<Progress>,
    armed: bool,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let record = failed_record(
            self.id,
            &self.progress,
            "the request was abandoned before the feed was read",
        );
        let storage = self.storage.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = storage.record_job(&record).await {
                    tracing::warn!(%error, "could not record an abandoned feed");
                }
            });
        }
    }
}

/// `POST /v1/stock/feeds?format=csv|jsonl&mode=snapshot|delta[&job=<uuid>]`.
pub async fn import(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(query): ApiQuery<FeedQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // The retailer's systems and admins: feeds and exports are not store work.
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    let id = query.job.unwrap_or_else(Uuid::new_v4);
    let bytes_total = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if bytes_total.is_some_and(|total| total > MAX_FEED_BYTES as u64) {
        return Err(ApiError::BodyTooLarge {
            limit: MAX_FEED_BYTES,
        });
    }
    let taken = || ApiError::Conflict(format!("job {id} already exists"));
    if state.storage.job(&id.to_string()).await?.is_some() {
        return Err(taken());
    }
    // Leaves the registry when dropped, after the final state is stored.
    let running = state.jobs.start(id, bytes_total).ok_or_else(taken)?;
    let mut abandoned = Abandoned {
        storage: state.storage.clone(),
        id,
        progress: Arc::clone(&running.progress),
        armed: true,
    };
    let started = std::time::Instant::now();
    let outcome = run(&state, &query, id, &running.progress, body).await;
    abandoned.armed = false;
    match outcome {
        Ok(report) => {
            tracing::info!(
                job = %id,
                rows = report.rows_read,
                changed = report.rows_changed,
                refused = report.refused_total,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "stock feed {}",
                if report.status == FeedStatus::Applied { "applied" } else { "rejected" }
            );
            drop(running);
            match report.status {
                FeedStatus::Applied => Ok(Json(report).into_response()),
                FeedStatus::Rejected => Err(ApiError::FeedRejected(Box::new(report))),
            }
        }
        Err(error) => {
            let detail = match &error {
                ApiError::Storage(_) | ApiError::StockIndex(_) | ApiError::Internal(_) => {
                    "the server failed while importing; nothing was applied".to_owned()
                }
                other => other.to_string(),
            };
            if let Err(e) = state
                .storage
                .record_job(&failed_record(id, &running.progress, &detail))
                .await
            {
                tracing::warn!(error = %e, "could not record a failed feed");
            }
            drop(running);
            Err(error)
        }
    }
}

/// Reads, checks, stages and applies (or rejects) one feed.
async fn run(
    state: &AppState,
    query: &FeedQuery,
    id: Uuid,
    progress: &Progress,
    body: Body,
) -> Result<FeedReport, ApiError> {
    let (locations, generation): (HashSet<String>, u64) = {
        let cache = state.stock.read();
        let locations = cache
            .index
            .locations()
            .iter()
            .map(|l| l.id.as_str().to_owned())
            .collect();
        (locations, cache.generation)
    };
    // The rows as the index numbers them (12 bytes each, bounded), so that
    // the index need not read a million rows back after the commit.
    let mut changes = FeedChanges::new(generation, query.mode == FeedMode::Delta);
    let writer = state.storage.begin_feed().await?;
    // Staging runs in its own task, a batch or two behind the parsing, so
    // that reading and checking the next rows overlaps the database's work.
    // The channel bounds what waits in memory to two batches.
    let (to_stager, mut staged) = tokio::sync::mpsc::channel::<Vec<FeedRow>>(2);
    let stager = tokio::spawn(async move {
        let mut writer = writer;
        while let Some(batch) = staged.recv().await {
            writer.stage(&batch).await?;
        }
        Ok::<_, StorageError>(writer)
    });
    let mut splitter = LineSplitter::default();
    let mut parser = FeedParser::new(query.format, query.mode);
    let mut batch: Vec<FeedRow> = Vec::with_capacity(STAGE_CHUNK * 2);
    let mut refusals = Refusals::default();
    let mut listed: HashSet<String> = HashSet::new();
    let mut bytes = 0usize;
    let mut stream = body.into_data_stream();
    let mut ended = false;
    while !ended {
        let chunk = match stream.next().await {
            Some(chunk) => chunk.map_err(|e| {
                ApiError::UploadInterrupted(format!("the feed's upload broke off: {e}"))
            })?,
            None => {
                ended = true;
                Bytes::new()
            }
        };
        bytes += chunk.len();
        if bytes > MAX_FEED_BYTES {
            return Err(ApiError::BodyTooLarge {
                limit: MAX_FEED_BYTES,
            });
        }
        {
            // Checked under the index's read lock, released before staging.
            let cache = state.stock.read();
            let known = KnownNow {
                cache: &cache,
                locations: &locations,
            };
            let mut take = |number: u64, line: Line<'_>| match parser.parse(number, line, &known) {
                Parsed::Row(row) => {
                    if !listed.contains(&row.location) {
                        listed.insert(row.location.clone());
                    }
                    changes.push(&cache, &row.sku, &row.location, row.quantity);
                    batch.push(row);
                }
                Parsed::Refused(refusal) => refusals.add(refusal),
                Parsed::Skip => {}
            };
            splitter.push(&chunk, &mut take);
            if ended {
                splitter.finish(&mut take);
            }
        }
        if batch.len() >= STAGE_CHUNK || (ended && !batch.is_empty()) {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(STAGE_CHUNK * 2));
            if to_stager.send(full).await.is_err() {
                // The stager stopped on an error: its answer says which.
                break;
            }
        }
        progress.set(parser.rows_read, bytes as u64);
    }
    drop(to_stager);
    let mut writer = stager
        .await
        .map_err(|e| ApiError::Internal(format!("the feed's staging task failed: {e}")))??;

    let read_at = std::time::Instant::now();
    let (duplicates, duplicate_total) = writer.duplicates(MAX_REFUSED_LISTED).await?;
    let mut refused = refusals.listed;
    refused.extend(duplicates.into_iter().map(|d| RefusedRow {
        line: d.line,
        code: RefusalCode::Duplicate,
        message: format!(
            "location `{}` and SKU `{}` already appear on line {}",
            d.location, d.sku, d.first_line
        ),
    }));
    refused.sort_by_key(|r| r.line);
    refused.truncate(MAX_REFUSED_LISTED);
    let refused_total = refusals.total + duplicate_total;

    let mut report = FeedReport {
        job: id,
        mode: query.mode,
        format: query.format,
        rows_read: parser.rows_read,
        rows_applied: 0,
        rows_changed: 0,
        refused,
        refused_total,
        status: FeedStatus::Rejected,
    };
    if refused_total > 0 {
        writer.rollback().await?;
        state
            .storage
            .record_job(&finished_record(&report, bytes as u64, progress)?)
            .await?;
        return Ok(report);
    }

    let mut listed: Vec<String> = listed.into_iter().collect();
    listed.sort();
    report.status = FeedStatus::Applied;
    report.rows_applied = report.rows_read;
    let applied = |changed| {
        let mut report = report.clone();
        report.rows_changed = changed;
        finished_record(&report, bytes as u64, progress)
    };
    let checked_at = std::time::Instant::now();
    let seq = writer.change_seq().await?;
    // Every earlier change is committed now: bring the index up to it and
    // hold other refreshes until the feed's own rows are applied.
    let before = match state.stock.before_feed(&state.storage).await {
        Ok(refresh) => Some(refresh),
        Err(error) => {
            tracing::warn!(%error, "stock index refresh before a feed failed");
            changes.discard();
            None
        }
    };
    let applied = writer.apply(seq, query.mode, &listed, applied).await?;
    report.rows_changed = applied.changed;
    let applied_at = std::time::Instant::now();
    // Read-your-writes: the index reflects the feed before the answer. Should
    // this fail, the follower catches up within its interval.
    let refreshed = match before {
        Some(before) => {
            before
                .after_commit(&state.storage, seq, changes, !applied.zeroed_absent)
                .await
        }
        None => state.stock.refresh(&state.storage).await,
    };
    if let Err(error) = refreshed {
        tracing::warn!(%error, "stock index refresh after a feed failed");
    }
    tracing::debug!(
        job = %id,
        duplicate_check_ms = (checked_at - read_at).as_millis() as u64,
        apply_ms = (applied_at - checked_at).as_millis() as u64,
        refresh_ms = applied_at.elapsed().as_millis() as u64,
        "stock feed phases after the upload"
    );
    Ok(report)
}

fn finished_record(
    report: &FeedReport,
    bytes: u64,
    progress: &Progress,
) -> Result<JobRecord, StorageError> {
    Ok(JobRecord {
        id: report.job.to_string(),
        kind: STOCK_FEED.to_owned(),
        status: match report.status {
            FeedStatus::Applied => "applied",
            FeedStatus::Rejected => "rejected",
        }
        .to_owned(),
        rows_done: to_i64(report.rows_read),
        bytes_done: to_i64(bytes),
        bytes_total: progress.bytes_total.map(to_i64),
        report: Some(serde_json::to_string(report)?),
        detail: None,
        finished_at: jiff::Timestamp::now().to_string(),
    })
}

fn failed_record(id: Uuid, progress: &Progress, detail: &str) -> JobRecord {
    let (rows, bytes) = progress.get();
    JobRecord {
        id: id.to_string(),
        kind: STOCK_FEED.to_owned(),
        status: "failed".to_owned(),
        rows_done: to_i64(rows),
        bytes_done: to_i64(bytes),
        bytes_total: progress.bytes_total.map(to_i64),
        report: None,
        detail: Some(detail.to_owned()),
        finished_at: jiff::Timestamp::now().to_string(),
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `GET /v1/jobs/{id}`: from memory while running here, else from storage.
pub async fn job(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    // The retailer's systems and admins: feeds and exports are not store work.
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    let not_found = || ApiError::NotFound {
        kind: "job",
        id: id.clone(),
    };
    let uuid = Uuid::parse_str(&id).map_err(|_| not_found())?;
    if let Some(progress) = state.jobs.get(&uuid) {
        let (rows_done, bytes_done) = progress.get();
        return Ok(Json(Job {
            id: uuid,
            kind: JobKind::StockFeed,
            status: JobStatus::Running,
            rows_done,
            bytes_done,
            bytes_total: progress.bytes_total,
            report: None,
            detail: None,
            finished_at: None,
        }));
    }
    let record = state
        .storage
        .job(&uuid.to_string())
        .await?
        .ok_or_else(not_found)?;
    let corrupt = |what: String| ApiError::Storage(StorageError::Corrupt(what));
    let status = match record.status.as_str() {
        "applied" => JobStatus::Applied,
        "rejected" => JobStatus::Rejected,
        "failed" => JobStatus::Failed,
        other => return Err(corrupt(format!("job status `{other}`"))),
    };
    if record.kind != STOCK_FEED {
        return Err(corrupt(format!("job kind `{}`", record.kind)));
    }
    let report = match &record.report {
        Some(text) => Some(serde_json::from_str(text).map_err(StorageError::from)?),
        None => None,
    };
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    Ok(Json(Job {
        id: uuid,
        kind: JobKind::StockFeed,
        status,
        rows_done: count(record.rows_done),
        bytes_done: count(record.bytes_done),
        bytes_total: record.bytes_total.map(count),
        report,
        detail: record.detail,
        finished_at: Some(record.finished_at),
    }))
}

/// `GET /v1/channels/{id}/unified-stock?format=csv|json[&at=]`: every
/// catalogue SKU's unified stock in the channel, in SKU order, streamed from
/// the in-memory index piece by piece (JSON: `oms_api::wire::UnifiedStockExport`).
pub async fn unified_stock(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(channel): Path<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    // The retailer's systems and admins: feeds and exports are not store work.
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    let not_found = || ApiError::NotFound {
        kind: "channel",
        id: channel.clone(),
    };
    let channel_id = ChannelId::parse(channel.clone()).map_err(|_| not_found())?;
    let at = match query.at.as_deref() {
        None => jiff::Timestamp::now(),
        Some(text) => text.parse().map_err(|e| {
            ApiError::InvalidQuery(format!("`at` must be an RFC 3339 instant: {e}"))
        })?,
    };
    let mut skus: Vec<Sku> = {
        let cache = state.stock.read();
        if !cache.index.channels().iter().any(|c| c.id == channel_id) {
            return Err(not_found());
        }
        cache.known_skus.iter().cloned().collect()
    };
    skus.sort_unstable();

    let (content_type, head, tail) = match query.format {
        ExportFormat::Csv => (
            "text/csv; charset=utf-8",
            "sku,unified_stock\n".to_owned(),
            "",
        ),
        ExportFormat::Json => (
            "application/json",
            format!(
                "{{\"channel\":{},\"at\":{},\"items\":[",
                serde_json::to_string(&channel).map_err(|e| ApiError::Internal(e.to_string()))?,
                serde_json::to_string(&at.to_string())
                    .map_err(|e| ApiError::Internal(e.to_string()))?
            ),
            "]}",
        ),
    };
    let export = Export {
        stock: Arc::clone(&state.stock),
        channel: channel_id,
        at,
        format: query.format,
        skus,
        next: 0,
    };
    let pieces = futures_util::stream::iter([Ok(Bytes::from(head))])
        .chain(futures_util::stream::unfold(
            export,
            |mut export| async move { export.piece().map(|piece| (piece, export)) },
        ))
        .chain(futures_util::stream::iter([Ok(Bytes::from_static(
            tail.as_bytes(),
        ))]));
    let mut response = Body::from_stream(pieces).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// Why an export stopped midway (the body then ends early: the client sees a
/// truncated transfer, never a silently short list).
#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("unified stock: {0}")]
    Index(#[from] oms_domain::stock::IndexError),
    #[error("encoding: {0}")]
    Json(#[from] serde_json::Error),
}

/// An export in progress: the SKU list taken at the start, and where it is.
struct Export {
    stock: Arc<StockCache>,
    channel: ChannelId,
    at: jiff::Timestamp,
    format: ExportFormat,
    skus: Vec<Sku>,
    next: usize,
}

impl Export {
    /// The next piece of the body, or `None` at the end.
    fn piece(&mut self) -> Option<Result<Bytes, ExportError>> {
        if self.next >= self.skus.len() {
            return None;
        }
        let end = (self.next + EXPORT_PIECE).min(self.skus.len());
        let mut out = Vec::with_capacity((end - self.next) * 48);
        let cache = self.stock.read();
        for (i, sku) in self.skus[self.next..end].iter().enumerate() {
            let unified_stock = match cache.index.unified_stock(&self.channel, sku, self.at) {
                Ok(n) => n,
                Err(e) => return Some(Err(e.into())),
            };
            match self.format {
                ExportFormat::Csv => {
                    out.extend_from_slice(sku.as_str().as_bytes());
                    out.push(b',');
                    out.extend_from_slice(unified_stock.to_string().as_bytes());
                    out.push(b'\n');
                }
                ExportFormat::Json => {
                    if self.next + i > 0 {
                        out.push(b',');
                    }
                    let line = UnifiedStockLine {
                        sku: sku.as_str().to_owned(),
                        unified_stock,
                    };
                    if let Err(e) = serde_json::to_writer(&mut out, &line) {
                        return Some(Err(e.into()));
                    }
                }
            }
        }
        self.next = end;
        Some(Ok(Bytes::from(out)))
    }
}

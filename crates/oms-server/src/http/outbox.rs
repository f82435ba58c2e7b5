//! The outbox for admins: what is pending, delivered or dead, and replay.
//!
//! - `GET /v1/outbox?state=pending|delivered|dead&topic=webhook|notification&limit=`
//! - `POST /v1/outbox/{id}/replay`: a dead or delivered message becomes
//!   pending again, due now, its attempts reset.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::auth;
use super::extract::ApiQuery;
use crate::AppState;
use crate::auth::{Caller, Role};
use crate::storage::outbox::{MessageState, OutboxItem, Replay};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// One message as listed.
#[derive(Debug, Serialize)]
pub struct OutboxMessage {
    id: i64,
    topic: String,
    order: Option<String>,
    state: &'static str,
    attempts: i64,
    last_error: Option<String>,
    created_at_ms: i64,
    next_attempt_at_ms: Option<i64>,
    delivered_at_ms: Option<i64>,
    dead_at_ms: Option<i64>,
    /// The body delivered (JSON).
    payload: serde_json::Value,
}

impl From<OutboxItem> for OutboxMessage {
    fn from(item: OutboxItem) -> Self {
        let payload =
            serde_json::from_str(&item.payload).unwrap_or(serde_json::Value::String(item.payload));
        Self {
            id: item.id,
            topic: item.topic,
            order: item.order_id,
            state: item.state.as_str(),
            attempts: item.attempts,
            last_error: item.last_error,
            created_at_ms: item.created_at_ms,
            next_attempt_at_ms: (item.state == MessageState::Pending)
                .then_some(item.next_attempt_at_ms),
            delivered_at_ms: item.delivered_at_ms,
            dead_at_ms: item.dead_at_ms,
            payload,
        }
    }
}

/// `GET /v1/outbox`
pub async fn list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Vec<OutboxMessage>>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let message_state = match query.state.as_deref().unwrap_or("pending") {
        "pending" => MessageState::Pending,
        "delivered" => MessageState::Delivered,
        "dead" => MessageState::Dead,
        other => {
            return Err(ApiError::InvalidQuery(format!(
                "state `{other}`: expected pending, delivered or dead"
            )));
        }
    };
    let topic = match query.topic.as_deref() {
        None => None,
        Some(topic @ ("webhook" | "notification")) => Some(topic),
        Some(other) => {
            return Err(ApiError::InvalidQuery(format!(
                "topic `{other}`: expected webhook or notification"
            )));
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let items = state
        .storage
        .outbox_messages(message_state, topic, limit)
        .await?;
    Ok(Json(items.into_iter().map(OutboxMessage::from).collect()))
}

/// `POST /v1/outbox/{id}/replay`
pub async fn replay(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<OutboxMessage>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let not_found = || ApiError::NotFound {
        kind: "outbox message",
        id: id.clone(),
    };
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let now = jiff::Timestamp::now().as_millisecond();
    match state.storage.replay_outbox(number, now).await? {
        Replay::Replayed(item) => {
            tracing::info!(id = number, by = %caller.label, "outbox message replayed");
            Ok(Json(item.into()))
        }
        Replay::StillPending(_) => Err(ApiError::Conflict(format!(
            "outbox message {number} is still pending: nothing to replay"
        ))),
        Replay::NotFound => Err(not_found()),
    }
}

//! `/v1/orders`, `/v1/fulfilments`, a location's fulfilment queue and the
//! channels' rule sets: thin over [`crate::orders`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use oms_api::wire::{
    CancelOrder, FulfilmentStep, FulfilmentView, Language, NotificationView, OrderQuery,
    OrderSummary, OrderView, Page, PlaceOrder, QueueQuery, ReceiveReturn, ReturnView, RuleSet,
    RuleSetVersion, StepResult, Timeline, TimelineEntry,
};
use oms_domain::lifecycle::{FulfilmentStatus, OrderStatus};
use oms_domain::model::{ChannelId, LocationId};
use oms_domain::orchestration::OrderId;
use serde::Deserialize;

use super::extract::{ApiJson, ApiQuery};
use super::{ApiError, auth, cursor};
use crate::AppState;
use crate::auth::{Caller, Role};
use crate::notify::RenderedNotification;
use crate::orders::{self, OrderFailure};

/// Customer service: who may search orders, cancel them and read their
/// notifications.
const SERVICE: &[Role] = &[Role::Admin, Role::Integration, Role::StoreManager];

/// Most results of one order search page.
const MAX_SEARCH_RESULTS: u32 = 100;
/// Most fulfilments of one queue page.
const MAX_QUEUE_PAGE: u32 = 500;

/// A page key `(time in ms, id)` as an opaque cursor.
fn time_cursor(ms: i64, id: &str) -> String {
    cursor::encode(&format!("{ms}:{id}"))
}

/// The key of a [`time_cursor`]; anything else is refused.
fn time_key(text: Option<&str>) -> Result<Option<(i64, String)>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let key = cursor::decode(text)?;
    key.split_once(':')
        .and_then(|(ms, id)| Some((ms.parse::<i64>().ok()?, id.to_owned())))
        .filter(|(_, id)| !id.is_empty())
        .map(Some)
        .ok_or_else(|| ApiError::InvalidQuery("cursor is not one this server issued".to_owned()))
}

/// Places an order. With an `Idempotency-Key`, a replay returns the stored
/// answer (201 or the refusal) and a different body under the same key is a
/// 422.
pub async fn place(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PlaceOrder>,
) -> Result<Response, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let key = idempotency_key(&headers)?;
    let answer = orders::place(&state, &caller, key, &request).await?;
    Ok(kept_answer_response(answer.status, answer.body))
}

/// A stored (or just stored) JSON answer as it is sent: a refusal is
/// problem+json.
pub(super) fn kept_answer_response(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_client_error() || status.is_server_error() {
        "application/problem+json"
    } else {
        "application/json"
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The request's `Idempotency-Key` header, if any.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|value| {
            value
                .to_str()
                .map_err(|_| ApiError::InvalidBody("Idempotency-Key must be visible ASCII".into()))
        })
        .transpose()
}

/// `?lang=en|fr|de` for explanations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangQuery {
    lang: Option<Language>,
}

pub async fn get(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LangQuery>,
) -> Result<Json<OrderView>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let id = order_id(&id)?;
    // Store roles read any channel's order: returns come from the whole chain.
    Ok(Json(
        orders::load_view_with(
            &state,
            &caller,
            id.as_str(),
            query.lang,
            orders::OrderAccess::ChainWide,
        )
        .await?,
    ))
}

fn order_id(id: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(id).map_err(|_| ApiError::NotFound {
        kind: "order",
        id: id.to_owned(),
    })
}

/// Search by order number, e-mail, phone, or the start of the name. Store
/// staff search the whole chain: a customer may bring back, at any store,
/// an order from any channel.
pub async fn search(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> Result<Json<Page<OrderSummary>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let q = cursor::search_text(query.q.as_deref())?;
    let limit = cursor::bounded_limit(query.limit, 20, MAX_SEARCH_RESULTS)?;
    let after = time_key(query.cursor.as_deref())?;
    let mut found = state.storage.search_orders(q, limit + 1, after).await?;
    let next_cursor = if found.len() > limit as usize {
        found.truncate(limit as usize);
        found.last().map(|r| time_cursor(r.placed_at_ms, &r.id))
    } else {
        None
    };
    let mut out = Vec::with_capacity(found.len());
    for record in found {
        out.push(OrderSummary {
            id: OrderId::parse(record.id).map_err(|e| ApiError::Internal(e.to_string()))?,
            status: parse_status(&record.status)?,
            channel: ChannelId::parse(record.channel_id)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            customer_name: record.customer_name,
            placed_at: Timestamp::from_millisecond(record.placed_at_ms)
                .map(|t| t.to_string())
                .unwrap_or_default(),
        });
    }
    Ok(Json(Page {
        items: out,
        next_cursor,
    }))
}

fn parse_status(text: &str) -> Result<OrderStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| ApiError::Internal(format!("stored status `{text}`: {e}")))
}

/// The order's append-only event log.
pub async fn timeline(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let id = order_id(&id)?;
    // Reading the view checks that the order exists (any channel's, like
    // the order itself).
    orders::load_view_with(
        &state,
        &caller,
        id.as_str(),
        None,
        orders::OrderAccess::ChainWide,
    )
    .await?;
    let events = state
        .storage
        .order_events(id.as_str())
        .await?
        .into_iter()
        .map(|record| {
            Ok(TimelineEntry {
                seq: record.seq,
                event: serde_json::from_str(&record.document)
                    .map_err(|e| ApiError::Internal(format!("stored event: {e}")))?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(Timeline { order: id, events }))
}

/// The customer notifications of an order, rendered, with their delivery.
pub async fn notifications(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    auth::require(&caller, SERVICE)?;
    let id = order_id(&id)?;
    orders::load_view(&state, &caller, id.as_str(), None).await?;
    let out = state
        .storage
        .outbox_of(id.as_str(), "notification")
        .await?
        .iter()
        .map(notification_view)
        .collect::<Result<_, _>>()?;
    Ok(Json(out))
}

/// Customer service: sends a notification again (same words, new message).
pub async fn resend_notification(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((id, notification)): Path<(String, i64)>,
) -> Result<(StatusCode, Json<NotificationView>), ApiError> {
    auth::require(&caller, SERVICE)?;
    let id = order_id(&id)?;
    orders::load_view(&state, &caller, id.as_str(), None).await?;
    let queued = state
        .storage
        .resend_notification(id.as_str(), notification, Timestamp::now().as_millisecond())
        .await?
        .ok_or_else(|| ApiError::NotFound {
            kind: "notification",
            id: format!("{id}/{notification}"),
        })?;
    let record = state
        .storage
        .outbox_of(id.as_str(), "notification")
        .await?
        .into_iter()
        .find(|r| r.id == queued)
        .ok_or_else(|| ApiError::Internal("re-sent notification vanished".into()))?;
    Ok((StatusCode::CREATED, Json(notification_view(&record)?)))
}

fn notification_view(
    record: &crate::storage::orders::OutboxRecord,
) -> Result<NotificationView, ApiError> {
    let rendered: RenderedNotification = serde_json::from_str(&record.payload)
        .map_err(|e| ApiError::Internal(format!("stored notification: {e}")))?;
    Ok(NotificationView {
        id: record.id,
        kind: rendered.kind,
        status: rendered.status,
        language: rendered.language,
        subject: rendered.subject,
        body: rendered.body,
        to_email: rendered.to_email,
        to_phone: rendered.to_phone,
        delivery: if record.delivered {
            "delivered"
        } else if record.dead {
            "dead"
        } else {
            "pending"
        }
        .to_owned(),
    })
}

pub async fn cancel(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CancelOrder>,
) -> Result<Json<OrderView>, ApiError> {
    auth::require(&caller, SERVICE)?;
    let id = order_id(&id)?;
    Ok(Json(
        orders::cancel(&state, &caller, id.as_str(), &request, None).await?,
    ))
}

/// Receives returned items at a location (any channel's order).
pub async fn receive_return(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReceiveReturn>,
) -> Result<(StatusCode, Json<ReturnView>), ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let id = order_id(&id)?;
    let view = orders::receive_return(&state, &caller, id.as_str(), &request, None).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn fulfilment(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<FulfilmentView>, ApiError> {
    let (_, doc) = visible_fulfilment(&state, &caller, &id).await?;
    Ok(Json(orders::fulfilment_view(&doc)))
}

/// A fulfilment the caller may see: any for admin and integration, their
/// store's for store roles.
async fn visible_fulfilment(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<
    (
        crate::storage::orders::FulfilmentRecord,
        orders::FulfilmentDoc,
    ),
    ApiError,
> {
    auth::require(caller, auth::EVERYONE)?;
    let record = state
        .storage
        .fulfilment(id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            kind: "fulfilment",
            id: id.to_owned(),
        })?;
    auth::require_store(caller, &record.location_id)?;
    let doc = orders::parse_fulfilment(&record.document)?;
    Ok((record, doc))
}

/// The shipping label of a packed parcel, as a printable 4×6 in PDF.
pub async fn label(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (record, fulfilment) = visible_fulfilment(&state, &caller, &id).await?;
    if fulfilment.fulfilment.handover {
        return Err(ApiError::Conflict(
            "this fulfilment is collected at its store: it has no shipping label".into(),
        ));
    }
    let tracking = fulfilment.tracking.clone().ok_or_else(|| {
        ApiError::Conflict("the label exists once the parcel is packed (mark_ready)".into())
    })?;
    let order = state
        .storage
        .order(&record.order_id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("order of fulfilment {id} is missing")))?;
    let order = orders::parse_order(&order.document)?;
    let input = {
        let cache = state.stock.read();
        let place = |location: &LocationId| -> crate::label::LabelAddress {
            match cache.index.location(location) {
                Some(l) => crate::label::LabelAddress {
                    name: l.name.clone(),
                    street: vec![format!("Aisle location {}", l.id)],
                    postal_code: String::new(),
                    city: l.carrier_zone.as_str().to_owned(),
                    country: l.carrier_zone.as_str().chars().take(2).collect(),
                },
                None => crate::label::LabelAddress {
                    name: location.as_str().to_owned(),
                    street: vec![location.as_str().to_owned()],
                    postal_code: String::new(),
                    city: String::new(),
                    country: String::new(),
                },
            }
        };
        let sender = place(&fulfilment.fulfilment.location);
        let recipient = match (
            &order.order.destination.pickup_store,
            &order.order.destination.address,
        ) {
            // Ship-to-store: the parcel goes to the pickup store.
            (Some(store), _) => {
                let mut to = place(store);
                to.street.insert(0, format!("For {}", order.customer.name));
                to
            }
            (None, Some(address)) => crate::label::LabelAddress {
                name: order.customer.name.clone(),
                street: vec![format!("Order {}", order.order.id)],
                postal_code: address.postal_code.clone(),
                city: address.carrier_zone.as_str().to_owned(),
                country: address.country.as_str().to_owned(),
            },
            (None, None) => {
                return Err(ApiError::Conflict("the order has no destination".into()));
            }
        };
        crate::label::LabelInput {
            sender,
            recipient,
            reference: format!("{} / {}", order.order.id, fulfilment.fulfilment.id),
            tracking_number: tracking,
        }
    };
    let pdf = crate::label::render_label(&input)
        .map_err(|e| ApiError::Internal(format!("label: {e}")))?;
    let mut response = pdf.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    Ok(response)
}

pub async fn step(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LangQuery>,
    ApiJson(step): ApiJson<FulfilmentStep>,
) -> Result<Json<StepResult>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let result = orders::step(&state, &caller, &id, &step, None, query.lang).await?;
    Ok(Json(result))
}

/// A location's fulfilments by due time: by default the open ones.
pub async fn queue(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(location): Path<String>,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Json<Page<FulfilmentView>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    auth::require_store(&caller, &location)?;
    LocationId::parse(location.clone()).map_err(|_| ApiError::NotFound {
        kind: "location",
        id: location.clone(),
    })?;
    let statuses: Vec<String> = match &query.status {
        None => orders::OPEN_FULFILMENT_STATUSES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        Some(list) => list
            .split(',')
            .map(|s| {
                let s = s.trim();
                serde_json::from_value::<FulfilmentStatus>(serde_json::Value::String(s.into()))
                    .map(|_| s.to_owned())
                    .map_err(|_| {
                        ApiError::InvalidQuery(format!("`{s}` is not a fulfilment status"))
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    let limit = cursor::bounded_limit(query.limit, 100, MAX_QUEUE_PAGE)?;
    let after = time_key(query.cursor.as_deref())?;
    let mut records = state
        .storage
        .fulfilment_queue(&location, &statuses, limit + 1, after)
        .await?;
    let next_cursor = if records.len() > limit as usize {
        records.truncate(limit as usize);
        records.last().map(|(due, r)| time_cursor(*due, &r.id))
    } else {
        None
    };
    let items = records
        .iter()
        .map(|(_, r)| orders::parse_fulfilment(&r.document).map(|d| orders::fulfilment_view(&d)))
        .collect::<Result<_, _>>()?;
    Ok(Json(Page { items, next_cursor }))
}

// ---- rule sets ------------------------------------------------------------------

fn known_channel(state: &AppState, channel: &str) -> Result<ChannelId, ApiError> {
    let not_found = || ApiError::NotFound {
        kind: "channel",
        id: channel.to_owned(),
    };
    let id = ChannelId::parse(channel).map_err(|_| not_found())?;
    let cache = state.stock.read();
    if cache.index.channels().iter().any(|c| c.id == id) {
        Ok(id)
    } else {
        Err(not_found())
    }
}

fn version_view(record: crate::storage::orders::RuleSetRecord) -> Result<RuleSetVersion, ApiError> {
    Ok(RuleSetVersion {
        rule_set: serde_json::from_str(&record.document)
            .map_err(|e| ApiError::Internal(format!("stored rule set: {e}")))?,
        active: record.active,
        created_at: Timestamp::from_millisecond(record.created_at_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        created_by: record.created_by,
    })
}

/// Every version of a channel's rule set, newest first.
pub async fn rule_sets(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(channel): Path<String>,
) -> Result<Json<Vec<RuleSetVersion>>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    let channel = known_channel(&state, &channel)?;
    let records = state.storage.rule_sets_of(channel.as_str()).await?;
    Ok(Json(
        records
            .into_iter()
            .map(version_view)
            .collect::<Result<_, _>>()?,
    ))
}

/// Stores a new version (inactive until activated). The body's `channel`
/// must be the path's; its `version` is ignored and assigned.
pub async fn add_rule_set(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(channel): Path<String>,
    ApiJson(mut rule_set): ApiJson<RuleSet>,
) -> Result<(StatusCode, Json<RuleSetVersion>), ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let channel = known_channel(&state, &channel)?;
    if rule_set.channel != channel {
        return Err(ApiError::InvalidBody(format!(
            "the rule set is for channel `{}`, the path names `{channel}`",
            rule_set.channel
        )));
    }
    rule_set.version = 1;
    rule_set
        .validate()
        .map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    let now = Timestamp::now().as_millisecond();
    let version = state
        .storage
        .add_rule_set_version(
            channel.as_str(),
            |version| {
                let mut versioned = rule_set.clone();
                versioned.version = u32::try_from(version).unwrap_or(u32::MAX);
                Ok(serde_json::to_string(&versioned)?)
            },
            &caller.label,
            now,
        )
        .await?;
    let records = state.storage.rule_sets_of(channel.as_str()).await?;
    let record = records
        .into_iter()
        .find(|r| r.version == version)
        .ok_or_else(|| ApiError::Internal("rule set vanished after its write".into()))?;
    Ok((StatusCode::CREATED, Json(version_view(record)?)))
}

/// Makes a version the active one: the explicit step before orders use it.
pub async fn activate_rule_set(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path((channel, version)): Path<(String, u32)>,
) -> Result<Json<RuleSetVersion>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let channel = known_channel(&state, &channel)?;
    if !state
        .storage
        .activate_rule_set(channel.as_str(), i64::from(version))
        .await?
    {
        return Err(ApiError::NotFound {
            kind: "rule set version",
            id: format!("{channel}/{version}"),
        });
    }
    let records = state.storage.rule_sets_of(channel.as_str()).await?;
    let record = records
        .into_iter()
        .find(|r| r.version == i64::from(version))
        .ok_or_else(|| ApiError::Internal("rule set vanished after activation".into()))?;
    Ok(Json(version_view(record)?))
}

impl From<OrderFailure> for ApiError {
    fn from(failure: OrderFailure) -> Self {
        match failure {
            OrderFailure::Invalid(message) => ApiError::InvalidBody(message),
            OrderFailure::NotFound { kind, id } => ApiError::NotFound { kind, id },
            OrderFailure::Forbidden(message) => ApiError::Forbidden(message),
            OrderFailure::Conflict(message) => ApiError::Conflict(message),
            OrderFailure::PickupCodeMismatch => {
                ApiError::PickupCodeMismatch(OrderFailure::PickupCodeMismatch.to_string())
            }
            OrderFailure::IdempotencyMismatch => ApiError::IdempotencyMismatch,
            OrderFailure::Contention => ApiError::Busy(OrderFailure::Contention.to_string()),
            OrderFailure::Storage(error) => ApiError::Storage(error),
            OrderFailure::Internal(message) => ApiError::Internal(message),
        }
    }
}

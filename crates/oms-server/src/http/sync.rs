//! Device sync and store operations: `POST /v1/sync/push`, carry-out sales
//! and a store's tasks (see `crate::sync`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use oms_api::wire::{
    CarryOutSale, ManagerApproval, Problem, PushRequest, PushResponse, StoreTask, UnreceiptedReturn,
};
use oms_domain::model::LocationId;
use serde::Deserialize;

use super::extract::{ApiJson, ApiQuery};
use super::{ApiError, auth};
use crate::AppState;
use crate::auth::{Caller, Role};
use crate::orders::{self, OrderFailure};
use crate::sync::{self, PushFailure};

/// `POST /v1/sync/push`: a paired device's mutations, applied exactly once.
pub async fn push(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    auth::require(&caller, &[Role::StoreManager, Role::StoreAssociate])?;
    let response = sync::push(&state, &caller, &request, refusal_problem)
        .await
        .map_err(|failure| match failure {
            PushFailure::Invalid(message) => ApiError::InvalidBody(message),
            PushFailure::Forbidden(message) => ApiError::Forbidden(message),
            gap @ PushFailure::Gap { .. } => ApiError::MutationGap(gap.to_string()),
            PushFailure::Order(failure) => ApiError::from(failure),
        })?;
    Ok(Json(response))
}

/// The problem+json kept as a refused mutation's answer: the same body the
/// HTTP endpoint would have answered. Server-side failures are not kept.
fn refusal_problem(failure: OrderFailure) -> Result<Problem, OrderFailure> {
    match failure {
        OrderFailure::Invalid(_)
        | OrderFailure::NotFound { .. }
        | OrderFailure::Forbidden(_)
        | OrderFailure::Conflict(_)
        | OrderFailure::PickupCodeMismatch
        | OrderFailure::IdempotencyMismatch => {
            let error = ApiError::from(failure);
            error
                .client_problem()
                .ok_or_else(|| OrderFailure::Internal(format!("`{error}` has no client problem")))
        }
        // Listed, not a catch-all: a new business refusal must be sorted
        // here, or a device would retry it for ever.
        transient @ (OrderFailure::Contention
        | OrderFailure::Storage(_)
        | OrderFailure::Internal(_)) => Err(transient),
    }
}

/// `POST /v1/locations/{id}/sales` (optional `Idempotency-Key`).
pub async fn record_sale(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(location): Path<String>,
    headers: HeaderMap,
    ApiJson(sale): ApiJson<CarryOutSale>,
) -> Result<Response, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    auth::require_store(&caller, &location)?;
    let location = LocationId::parse(location.clone()).map_err(|_| ApiError::NotFound {
        kind: "location",
        id: location,
    })?;
    let key = super::orders::idempotency_key(&headers)?;
    let slot = orders::idempotency_slot(&caller, key, &sale)?;
    if let Some(slot) = &slot
        && let Some(kept) = state
            .storage
            .stored_answer_of(&slot.scope, &slot.key)
            .await?
    {
        if kept.request_hash != slot.request_hash {
            return Err(ApiError::IdempotencyMismatch);
        }
        return Ok(super::orders::kept_answer_response(
            kept.status,
            kept.response,
        ));
    }
    let view = sync::record_sale(&state, &caller, &location, &sale, slot.as_ref()).await?;
    let body = serde_json::to_string(&view).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(super::orders::kept_answer_response(201, body))
}

/// `POST /v1/locations/{id}/returns` (`Idempotency-Key` required): a return
/// without receipt at the device's store, approved by a store manager of
/// that store whose PIN the core checks here (counted, with the sign-in's
/// lock-out). A UI flag never approves anything.
pub async fn return_without_receipt(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(location): Path<String>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<UnreceiptedReturn>,
) -> Result<Response, ApiError> {
    auth::require(&caller, &[Role::StoreManager, Role::StoreAssociate])?;
    auth::require_store(&caller, &location)?;
    let location = LocationId::parse(location.clone()).map_err(|_| ApiError::NotFound {
        kind: "location",
        id: location,
    })?;
    let key = super::orders::idempotency_key(&headers)?.ok_or_else(|| {
        ApiError::InvalidBody("a return without receipt needs an Idempotency-Key".into())
    })?;
    // The kept request hash never covers the PIN.
    let without_pin = UnreceiptedReturn {
        approval: ManagerApproval {
            staff_id: request.approval.staff_id.clone(),
            pin: String::new(),
        },
        ..request.clone()
    };
    let slot = orders::idempotency_slot(&caller, Some(key), &without_pin)?;
    if let Some(slot) = &slot
        && let Some(kept) = state
            .storage
            .stored_answer_of(&slot.scope, &slot.key)
            .await?
    {
        if kept.request_hash != slot.request_hash {
            return Err(ApiError::IdempotencyMismatch);
        }
        return Ok(super::orders::kept_answer_response(
            kept.status,
            kept.response,
        ));
    }
    // Everything that can be refused is refused before the PIN is tried.
    crate::store_returns::precheck(&state, &caller, &location, &request)?;
    let approver = state
        .storage
        .staff_member(location.as_str(), &request.approval.staff_id)
        .await?;
    match approver {
        Some(member) if member.role == Role::StoreManager => {}
        Some(_) => {
            return Err(ApiError::Forbidden(
                "a return without receipt needs the approval of a manager of this store".into(),
            ));
        }
        None => {
            return Err(ApiError::Forbidden(
                "unknown member of staff or wrong PIN".into(),
            ));
        }
    }
    let manager = auth::verify_staff_pin(
        &state,
        &caller,
        &request.approval.staff_id,
        &request.approval.pin,
    )
    .await?;
    let recorded =
        crate::store_returns::record(&state, &caller, &location, &request, manager, slot.as_ref())
            .await;
    let view = match recorded {
        Ok(view) => view,
        Err(failure) => {
            // A concurrent request with the same key committed first: its
            // kept answer is this one's (nothing of this one was written).
            if let Some(slot) = &slot
                && let Some(kept) = state
                    .storage
                    .stored_answer_of(&slot.scope, &slot.key)
                    .await?
                && kept.request_hash == slot.request_hash
            {
                return Ok(super::orders::kept_answer_response(
                    kept.status,
                    kept.response,
                ));
            }
            return Err(failure.into());
        }
    };
    let body = serde_json::to_string(&view).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(super::orders::kept_answer_response(201, body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    limit: Option<u32>,
}

/// `GET /v1/locations/{id}/tasks`: what the store's staff must look at.
pub async fn tasks(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(location): Path<String>,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<Vec<StoreTask>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    auth::require_store(&caller, &location)?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 500 {
        return Err(ApiError::InvalidQuery(
            "limit must be between 1 and 500".into(),
        ));
    }
    Ok(Json(state.storage.tasks_of(&location, limit).await?))
}

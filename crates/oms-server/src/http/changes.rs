//! `/v1/changes`: the change sequence that devices and integrations follow.

use axum::Json;
use axum::extract::State;
use oms_api::wire::{ChangePage, ChangeQuery};

use super::extract::ApiQuery;
use super::{ApiError, auth};
use crate::AppState;
use crate::storage::{ChangeScope, Position};

/// Largest page of changes.
const MAX_CHANGES: u32 = 5_000;
const DEFAULT_CHANGES: u32 = 1_000;

pub async fn list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(query): ApiQuery<ChangeQuery>,
) -> Result<Json<ChangePage>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let limit = query.limit.unwrap_or(DEFAULT_CHANGES);
    if !(1..=MAX_CHANGES).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_CHANGES}, got {limit}"
        )));
    }
    let position = match query.cursor.as_deref() {
        None | Some("") => Position::start(),
        Some(text) => Position::decode(text).ok_or_else(|| {
            ApiError::InvalidQuery("cursor is not one this server issued".to_owned())
        })?,
    };
    // A store device follows its own store's stock; the catalogue and the
    // network are the same for everyone.
    let scope = match &caller.store {
        Some(store) => ChangeScope::Store(store.as_str().to_owned()),
        None => ChangeScope::Everything,
    };
    // Read before the changes: every mutation counted here has its effects
    // in this page or the ones after it.
    let last_mutation_id = match &caller.device {
        Some(device) => Some(state.storage.last_mutation_id(device).await?),
        None => None,
    };
    let (changes, has_more) = state
        .storage
        .changes_after(&position, limit, &scope)
        .await?;
    let cursor = changes
        .last()
        .map(|(position, _)| position.encode())
        .unwrap_or_else(|| position.encode());
    Ok(Json(ChangePage {
        changes: changes.into_iter().map(|(_, change)| change).collect(),
        cursor,
        has_more,
        last_mutation_id,
    }))
}

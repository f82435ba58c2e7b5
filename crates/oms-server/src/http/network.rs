//! `/v1/locations` and `/v1/channels`: the retailer's network.

use axum::Json;
use axum::extract::{Path, State};
use oms_api::wire::{Channel, Location, Page, PageQuery};
use oms_domain::model::{Network, Period, SafetyStock, TransitTable};
use oms_domain::stock::StockIndex;

use super::extract::{ApiJson, ApiQuery};
use super::{ApiError, auth, cursor};
use crate::AppState;
use crate::auth::Role;
use crate::storage::{NetworkPart, NetworkWriteError};

pub async fn list_locations(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<Location>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let limit = cursor::limit(query.limit)?;
    let after = query.cursor.as_deref().map(cursor::decode).transpose()?;
    let items = state
        .storage
        .list_locations(after.as_deref(), limit + 1)
        .await?;
    let (items, next_cursor) = cursor::paginate(items, limit, |l| l.id.as_str());
    Ok(Json(Page { items, next_cursor }))
}

pub async fn get_location(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(id): Path<String>,
) -> Result<Json<Location>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    state
        .storage
        .location(&id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound {
            kind: "location",
            id,
        })
}

pub async fn list_channels(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Result<Json<Page<Channel>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    // A retailer has a handful of channels: one page holds them all.
    let items = state.storage.list_channels().await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// The whole network: locations, channels, periods and settings.
pub async fn get_network(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Result<Json<Network>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    Ok(Json(state.storage.load_network().await?))
}

/// Replaces the whole network in one transaction, after the domain checked
/// it (unique ids, channels naming known locations, …).
pub async fn put_network(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(network): ApiJson<Network>,
) -> Result<Json<Network>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    StockIndex::new(&network).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    state
        .storage
        .replace_network(&network)
        .await
        .map_err(|e| match e {
            NetworkWriteError::LocationInUse(_) => ApiError::Conflict(e.to_string()),
            NetworkWriteError::Storage(e) => ApiError::Storage(e),
        })?;
    state.stock.refresh(&state.storage).await?;
    Ok(Json(state.storage.load_network().await?))
}

/// Replaces one part of the network after the domain checked the network it
/// makes, then rebuilds the stock index (periods, safety stock and transit
/// times change availability and dates).
async fn replace_part(state: &AppState, part: NetworkPart) -> Result<Network, ApiError> {
    let mut network = state.storage.load_network().await?;
    match &part {
        NetworkPart::Periods(periods) => network.periods = periods.clone(),
        NetworkPart::SafetyStock(safety) => network.safety_stock = safety.clone(),
        NetworkPart::Transit(transit) => network.transit = transit.clone(),
    }
    StockIndex::new(&network).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    state.storage.replace_network_part(&part).await?;
    state.stock.refresh(&state.storage).await?;
    // What was validated is what was written (periods read back by name).
    network.periods.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(network)
}

/// `GET /v1/network/periods`.
pub async fn get_periods(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Result<Json<Vec<Period>>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    Ok(Json(state.storage.load_network().await?.periods))
}

/// `PUT /v1/network/periods`: the whole list of periods.
pub async fn put_periods(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(periods): ApiJson<Vec<Period>>,
) -> Result<Json<Vec<Period>>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let network = replace_part(&state, NetworkPart::Periods(periods)).await?;
    Ok(Json(network.periods))
}

/// `GET /v1/network/safety-stock`.
pub async fn get_safety_stock(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Result<Json<SafetyStock>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    Ok(Json(state.storage.load_network().await?.safety_stock))
}

/// `PUT /v1/network/safety-stock`: global, per location and per (location,
/// SKU) settings; the most specific wins.
pub async fn put_safety_stock(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(safety): ApiJson<SafetyStock>,
) -> Result<Json<SafetyStock>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let network = replace_part(&state, NetworkPart::SafetyStock(safety)).await?;
    Ok(Json(network.safety_stock))
}

/// `GET /v1/network/transit`: carrier transit times.
pub async fn get_transit(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Result<Json<TransitTable>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    Ok(Json(state.storage.load_network().await?.transit))
}

/// `PUT /v1/network/transit`.
pub async fn put_transit(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(transit): ApiJson<TransitTable>,
) -> Result<Json<TransitTable>, ApiError> {
    auth::require(&caller, &[Role::Admin])?;
    let network = replace_part(&state, NetworkPart::Transit(transit)).await?;
    Ok(Json(network.transit))
}

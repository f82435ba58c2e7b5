//! `/v1/stock`: stock levels, as the in-memory index sees them.

use axum::Json;
use axum::extract::{Path, State};
use oms_api::wire::{ChannelStock, Page, PageQuery, SkuStock, StockLevel};
use oms_domain::model::Sku;

use super::extract::ApiQuery;
use super::{ApiError, auth, cursor};
use crate::AppState;

/// `?at=`: the instant unified stock is computed for (default: now).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    at: Option<String>,
}

/// A SKU's stock at every location holding it, and its unified stock in
/// every channel at an instant (now unless `at` is given).
pub async fn of_sku(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(sku): Path<String>,
    ApiQuery(query): ApiQuery<AtQuery>,
) -> Result<Json<SkuStock>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let parsed = Sku::parse(sku.clone()).map_err(|_| ApiError::NotFound {
        kind: "product",
        id: sku.clone(),
    })?;
    let now = match query.at.as_deref() {
        None => jiff::Timestamp::now(),
        Some(text) => text.parse().map_err(|e| {
            ApiError::InvalidQuery(format!("`at` must be an RFC 3339 instant: {e}"))
        })?,
    };
    let cache = state.stock.read();
    if !cache.known_skus.contains(&parsed) {
        return Err(ApiError::NotFound {
            kind: "product",
            id: sku,
        });
    }
    let levels = cache
        .index
        .stock_of(&parsed)
        .into_iter()
        // A store device sees its own store's levels; the network only in
        // aggregate, through the channel figures below.
        .filter(|level| caller.may_access_store(level.location.as_str()))
        .map(|level| StockLevel {
            sku: sku.clone(),
            location: level.location.as_str().to_owned(),
            on_hand: level.on_hand,
            reserved: i64::from(level.reserved.get()),
            available: u64::from(level.available),
            safety: u64::from(level.safety.get()),
        })
        .collect();
    let mut channels = Vec::new();
    for channel in cache.index.channels() {
        let unified_stock = cache
            .index
            .unified_stock(&channel.id, &parsed, now)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        channels.push(ChannelStock {
            channel: channel.id.as_str().to_owned(),
            unified_stock,
        });
    }
    Ok(Json(SkuStock {
        sku,
        levels,
        channels,
    }))
}

/// One location's stock, in SKU order, straight from the database.
pub async fn at_location(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(location): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<StockLevel>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    auth::require_store(&caller, &location)?;
    let limit = cursor::limit(query.limit)?;
    let after = query.cursor.as_deref().map(cursor::decode).transpose()?;
    if state.storage.location(&location).await?.is_none() {
        return Err(ApiError::NotFound {
            kind: "location",
            id: location,
        });
    }
    let rows = state
        .storage
        .stock_at_location(&location, after.as_deref(), limit + 1)
        .await?;
    let cache = state.stock.read();
    let items = rows
        .into_iter()
        .map(|row| {
            // Safety stock and availability as the index computes them.
            let (available, safety) = Sku::parse(row.sku.clone())
                .ok()
                .and_then(|sku| {
                    cache
                        .index
                        .stock_of(&sku)
                        .into_iter()
                        .find(|l| l.location.as_str() == row.location)
                })
                .map(|l| (u64::from(l.available), u64::from(l.safety.get())))
                .unwrap_or((0, 0));
            StockLevel {
                sku: row.sku,
                location: row.location,
                on_hand: row.on_hand,
                reserved: row.reserved,
                available,
                safety,
            }
        })
        .collect();
    let (items, next_cursor) = cursor::paginate(items, limit, |l: &StockLevel| &l.sku);
    Ok(Json(Page { items, next_cursor }))
}

//! The HTTP API: routes and handlers, thin over storage and the domain.

mod problem;

pub use problem::ApiError;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use oms_api::wire::{DEFAULT_PAGE_LIMIT, Health, MAX_PAGE_LIMIT, Page, Product, ProductQuery};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::AppState;

/// Longest accepted search text, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Request bodies above this size are refused before they are read.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole API as an axum router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/products", get(list_products))
        .fallback(no_route)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        instance_id: state.instance_id,
    })
}

async fn list_products(
    State(state): State<AppState>,
    query: Result<Query<ProductQuery>, QueryRejection>,
) -> Result<Json<Page<Product>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::InvalidQuery(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be between 1 and {MAX_PAGE_LIMIT}, got {limit}"
        )));
    }
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(text) = text
        && text.chars().count() > MAX_QUERY_CHARS
    {
        return Err(ApiError::InvalidQuery(format!(
            "q must be at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    // One extra row tells whether a next page exists without a count query.
    let mut items = state
        .storage
        .search_products(text, limit + 1, after.as_deref())
        .await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|p| encode_cursor(&p.sku))
    } else {
        None
    };
    Ok(Json(Page { items, next_cursor }))
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

/// Cursors are opaque to clients: a version prefix plus the last key seen,
/// hex-encoded so they are URL-safe whatever the key holds.
fn encode_cursor(last_sku: &str) -> String {
    let mut cursor = String::from("c1");
    for byte in last_sku.bytes() {
        cursor.push_str(&format!("{byte:02x}"));
    }
    cursor
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::InvalidQuery("cursor is not one this server issued".to_owned());
    let hex = cursor.strip_prefix("c1").ok_or_else(invalid)?;
    if hex.len() % 2 != 0 || hex.len() > 512 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| invalid()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        for sku in ["SKU-000001", "a/b?c&d", "é"] {
            assert_eq!(decode_cursor(&encode_cursor(sku)).unwrap(), sku);
        }
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in ["", "SKU-1", "c1z", "c1abc", "c1ff"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}

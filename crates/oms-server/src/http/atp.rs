//! `/v1/atp`: available-to-promise, answered from the in-memory stock index.

use axum::Json;
use axum::extract::State;
use oms_api::wire::{
    CartAtp, CartAtpRequest, MAX_CART_LINES, ProductAtp, ProductAtpRequest, Quantity,
};
use oms_domain::atp::{AtpError, AtpRequest, cart_atp, product_atp};
use oms_domain::stock::IndexError;

use super::extract::ApiJson;
use super::{ApiError, auth};
use crate::AppState;

pub async fn product(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(request): ApiJson<ProductAtpRequest>,
) -> Result<Json<ProductAtp>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let at = instant(request.at.as_deref())?;
    let quantity = request.quantity.unwrap_or(Quantity::new(1));
    let question = AtpRequest {
        channel: request.channel,
        destination: request.destination,
        at,
    };
    let cache = state.stock.read();
    if !cache.known_skus.contains(&request.sku) {
        return Err(ApiError::NotFound {
            kind: "product",
            id: request.sku.as_str().to_owned(),
        });
    }
    product_atp(&cache.index, &question, &request.sku, quantity)
        .map(Json)
        .map_err(atp_error)
}

pub async fn cart(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiJson(request): ApiJson<CartAtpRequest>,
) -> Result<Json<CartAtp>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    if request.lines.len() > MAX_CART_LINES {
        return Err(ApiError::InvalidBody(format!(
            "a cart holds at most {MAX_CART_LINES} lines"
        )));
    }
    let at = instant(request.at.as_deref())?;
    let question = AtpRequest {
        channel: request.channel,
        destination: request.destination,
        at,
    };
    let cache = state.stock.read();
    if let Some(unknown) = request
        .lines
        .iter()
        .find(|l| !cache.known_skus.contains(&l.sku))
    {
        return Err(ApiError::NotFound {
            kind: "product",
            id: unknown.sku.as_str().to_owned(),
        });
    }
    cart_atp(&cache.index, &question, &request.lines)
        .map(Json)
        .map_err(atp_error)
}

/// The instant of the question: given (RFC 3339), or now.
fn instant(at: Option<&str>) -> Result<jiff::Timestamp, ApiError> {
    match at {
        None => Ok(jiff::Timestamp::now()),
        Some(text) => text
            .parse()
            .map_err(|e| ApiError::InvalidBody(format!("`at` must be an RFC 3339 instant: {e}"))),
    }
}

fn atp_error(error: AtpError) -> ApiError {
    match error {
        AtpError::Index(IndexError::UnknownChannel(id)) => ApiError::NotFound {
            kind: "channel",
            id: id.as_str().to_owned(),
        },
        AtpError::Index(IndexError::UnknownLocation(id)) => ApiError::NotFound {
            kind: "location",
            id: id.as_str().to_owned(),
        },
        AtpError::EmptyCart | AtpError::ZeroQuantity(_) => ApiError::InvalidBody(error.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

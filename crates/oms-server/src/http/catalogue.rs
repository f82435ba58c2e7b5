//! `/v1/products`: the catalogue.

use axum::Json;
use axum::extract::{Path, State};
use oms_api::wire::{
    ChannelPrice, Currency, Money, Page, Product, ProductFacets, ProductQuery, ProductWrite,
};
use oms_domain::model::{ProductType, Sku};

use super::extract::{ApiJson, ApiQuery};
use super::{ApiError, auth, cursor};
use crate::AppState;
use crate::auth::Role;
use crate::storage::{ProductFilter, ProductWriteError};

/// Longest accepted search text, in characters.
const MAX_QUERY_CHARS: usize = 200;

pub async fn list(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<Json<Page<Product>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let limit = cursor::limit(query.limit)?;
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(text) = text
        && text.chars().count() > MAX_QUERY_CHARS
    {
        return Err(ApiError::InvalidQuery(format!(
            "q must be at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let filter = product_filter(&caller, &query)?;
    let after = query.cursor.as_deref().map(cursor::decode).transpose()?;
    // One extra row tells whether a next page exists without a count query.
    let items = state
        .storage
        .search_products(text, &filter, limit + 1, after.as_deref())
        .await?;
    let (items, next_cursor) = cursor::paginate(items, limit, |p| &p.sku);
    Ok(Json(Page { items, next_cursor }))
}

/// The search filters of `query`, checked: a known product type, a brand
/// of sensible length, and (store roles) their own store's stock only.
fn product_filter(
    caller: &crate::auth::Caller,
    query: &ProductQuery,
) -> Result<ProductFilter, ApiError> {
    let brand = query
        .brand
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty());
    if let Some(brand) = brand
        && brand.chars().count() > MAX_TEXT_CHARS
    {
        return Err(ApiError::InvalidQuery(format!(
            "brand must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    let product_type = query
        .product_type
        .as_deref()
        .map(|t| {
            t.parse::<ProductType>().map_err(|_| {
                ApiError::InvalidQuery(format!(
                    "product_type `{t}` is not one of standard, bulky, fragile"
                ))
            })
        })
        .transpose()?;
    let in_stock_at = query.in_stock_at.as_deref().map(str::trim);
    if let Some(location) = in_stock_at {
        if location.is_empty() || location.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::InvalidQuery(
                "in_stock_at must be a location id".to_owned(),
            ));
        }
        auth::require_store(caller, location)?;
    }
    Ok(ProductFilter {
        brand: brand.map(str::to_owned),
        product_type: product_type.map(|t| t.as_str().to_owned()),
        in_stock_at: in_stock_at.map(str::to_owned),
    })
}

/// `GET /v1/product-facets`: the catalogue's brands and product types.
pub async fn facets(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
) -> Result<Json<ProductFacets>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    Ok(Json(state.storage.product_facets().await?))
}

pub async fn get(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(sku): Path<String>,
) -> Result<Json<Product>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    state
        .storage
        .product(&sku)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound {
            kind: "product",
            id: sku,
        })
}

/// Longest product name or brand, in characters.
const MAX_TEXT_CHARS: usize = 300;
/// Most barcodes one product carries.
const MAX_BARCODES: usize = 20;

/// Creates or replaces a product.
pub async fn put(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(sku): Path<String>,
    ApiJson(write): ApiJson<ProductWrite>,
) -> Result<Json<Product>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    Sku::parse(sku.clone()).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    validate(&write)?;
    state
        .storage
        .upsert_product(&sku, &write)
        .await
        .map_err(|e| match e {
            ProductWriteError::BarcodeTaken { .. } => ApiError::Conflict(e.to_string()),
            ProductWriteError::Storage(e) => ApiError::Storage(e),
        })?;
    state.stock.refresh(&state.storage).await?;
    state
        .storage
        .product(&sku)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::Internal(format!("product {sku} vanished after its write")))
}

fn validate(write: &ProductWrite) -> Result<(), ApiError> {
    let invalid = |message: String| Err(ApiError::InvalidBody(message));
    for (field, value) in [("name", &write.name), ("brand", &write.brand)] {
        let length = value.trim().chars().count();
        if length == 0 || length > MAX_TEXT_CHARS {
            return invalid(format!("{field} must be 1 to {MAX_TEXT_CHARS} characters"));
        }
    }
    if write.product_type.parse::<ProductType>().is_err() {
        return invalid(format!(
            "product_type `{}` is not standard, bulky or fragile",
            write.product_type
        ));
    }
    if write.barcodes.len() > MAX_BARCODES {
        return invalid(format!("a product carries at most {MAX_BARCODES} barcodes"));
    }
    for barcode in &write.barcodes {
        if barcode.is_empty()
            || barcode.len() > 48
            || !barcode.bytes().all(|b| b.is_ascii_graphic())
        {
            return invalid(format!(
                "barcode `{barcode}` must be 1 to 48 printable ASCII characters"
            ));
        }
    }
    if write
        .barcodes
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
        != write.barcodes.len()
    {
        return invalid("barcodes repeat".to_owned());
    }
    if write.price.amount_minor < 0 {
        return invalid("price must not be negative".to_owned());
    }
    Ok(())
}

/// `GET /v1/products/{sku}/prices`: the product's own prices per channel.
pub async fn channel_prices(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path(sku): Path<String>,
) -> Result<Json<Vec<ChannelPrice>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    if state.storage.product(&sku).await?.is_none() {
        return Err(ApiError::NotFound {
            kind: "product",
            id: sku,
        });
    }
    let prices = state
        .storage
        .channel_prices(&sku)
        .await?
        .into_iter()
        .map(|p| {
            Ok(ChannelPrice {
                channel: p.channel,
                price: Money {
                    amount_minor: p.amount_minor,
                    currency: Currency::try_from(p.currency.clone()).map_err(|e| {
                        ApiError::Internal(format!("stored currency `{}`: {e}", p.currency))
                    })?,
                },
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(prices))
}

/// `PUT /v1/products/{sku}/prices/{channel}`: the product's price on one
/// channel, in that channel's currency (it wins over the catalogue price).
pub async fn put_channel_price(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path((sku, channel)): Path<(String, String)>,
    ApiJson(price): ApiJson<Money>,
) -> Result<Json<ChannelPrice>, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    let currency = channel_currency(&state, &sku, &channel).await?;
    if price.currency.as_str() != currency {
        return Err(ApiError::InvalidBody(format!(
            "channel `{channel}` sells in {currency}, not {}",
            price.currency.as_str()
        )));
    }
    if price.amount_minor < 0 {
        return Err(ApiError::InvalidBody(
            "amount_minor must not be negative".into(),
        ));
    }
    state
        .storage
        .set_channel_price(&sku, &channel, Some((&currency, price.amount_minor)))
        .await?;
    Ok(Json(ChannelPrice { channel, price }))
}

/// `DELETE /v1/products/{sku}/prices/{channel}`: back to the catalogue price.
pub async fn delete_channel_price(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::auth::Caller>,
    Path((sku, channel)): Path<(String, String)>,
) -> Result<axum::http::StatusCode, ApiError> {
    auth::require(&caller, &[Role::Admin, Role::Integration])?;
    channel_currency(&state, &sku, &channel).await?;
    state
        .storage
        .set_channel_price(&sku, &channel, None)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The currency of `channel`, once the product and the channel exist.
async fn channel_currency(state: &AppState, sku: &str, channel: &str) -> Result<String, ApiError> {
    if state.storage.product(sku).await?.is_none() {
        return Err(ApiError::NotFound {
            kind: "product",
            id: sku.to_owned(),
        });
    }
    let channels = state.storage.list_channels().await?;
    let found = channels
        .iter()
        .find(|c| c.id.as_str() == channel)
        .ok_or_else(|| ApiError::NotFound {
            kind: "channel",
            id: channel.to_owned(),
        })?;
    Ok(found.currency.as_str().to_owned())
}

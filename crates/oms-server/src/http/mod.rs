//! The HTTP API: routes and handlers, thin over storage and the domain.
//! Every error answer is problem+json ([`problem`]); every input is checked
//! by an extractor or a handler before storage is touched.

mod atp;
mod auth;
mod catalogue;
mod changes;
mod cursor;
mod customers;
mod extract;
mod feeds;
mod network;
pub mod openapi;
mod orders;
mod outbox;
mod problem;
mod stock;
mod sync;

pub use auth::TokenCache;
pub use feeds::MAX_FEED_BYTES;
pub use problem::ApiError;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::Uri;
use axum::routing::{get, post};
use axum::{Json, Router};
use oms_api::wire::Health;
use tower_http::trace::TraceLayer;

use crate::AppState;

/// Request bodies above this size are refused (413) before they are parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The whole API as an axum router.
pub fn router(state: AppState) -> Router {
    // Every /v1 route but pairing needs a token; each handler then checks
    // the role (and store) it allows — the route × role test walks them all.
    let protected = Router::new()
        .route("/v1/me", get(auth::me).delete(auth::revoke_me))
        .route("/v1/locations/{id}/devices", get(auth::list_devices))
        .route(
            "/v1/devices/{id}",
            axum::routing::delete(auth::revoke_device),
        )
        .route("/v1/pairing-codes", post(auth::create_pairing_code))
        .route("/v1/tokens", post(auth::create_token))
        .route("/v1/products", get(catalogue::list))
        .route("/v1/product-facets", get(catalogue::facets))
        .route(
            "/v1/products/{sku}",
            get(catalogue::get).put(catalogue::put),
        )
        .route(
            "/v1/network",
            get(network::get_network).put(network::put_network),
        )
        .route(
            "/v1/network/periods",
            get(network::get_periods).put(network::put_periods),
        )
        .route(
            "/v1/network/safety-stock",
            get(network::get_safety_stock).put(network::put_safety_stock),
        )
        .route(
            "/v1/network/transit",
            get(network::get_transit).put(network::put_transit),
        )
        .route("/v1/products/{sku}/prices", get(catalogue::channel_prices))
        .route(
            "/v1/products/{sku}/prices/{channel}",
            axum::routing::put(catalogue::put_channel_price)
                .delete(catalogue::delete_channel_price),
        )
        .route("/v1/locations", get(network::list_locations))
        .route("/v1/locations/{id}", get(network::get_location))
        .route("/v1/locations/{id}/stock", get(stock::at_location))
        .route("/v1/channels", get(network::list_channels))
        .route("/v1/stock/{sku}", get(stock::of_sku))
        // Feeds are streamed and bounded by MAX_FEED_BYTES as they are read,
        // not buffered under the router's small body limit.
        .route(
            "/v1/stock/feeds",
            post(feeds::import).layer(DefaultBodyLimit::max(MAX_FEED_BYTES)),
        )
        .route("/v1/jobs/{id}", get(feeds::job))
        .route("/v1/channels/{id}/unified-stock", get(feeds::unified_stock))
        .route("/v1/atp/product", post(atp::product))
        .route("/v1/atp/cart", post(atp::cart))
        .route("/v1/changes", get(changes::list))
        .route("/v1/orders", get(orders::search).post(orders::place))
        .route("/v1/orders/{id}", get(orders::get))
        .route("/v1/orders/{id}/receipt", get(customers::receipt))
        .route(
            "/v1/orders/{id}/receipt/email",
            post(customers::email_receipt),
        )
        .route(
            "/v1/customers",
            get(customers::search).post(customers::create),
        )
        .route("/v1/customers/{id}", get(customers::get))
        .route("/v1/orders/{id}/timeline", get(orders::timeline))
        .route("/v1/orders/{id}/notifications", get(orders::notifications))
        .route(
            "/v1/orders/{id}/notifications/{notification}/resend",
            post(orders::resend_notification),
        )
        .route("/v1/orders/{id}/cancel", post(orders::cancel))
        .route("/v1/orders/{id}/returns", post(orders::receive_return))
        .route("/v1/fulfilments/{id}", get(orders::fulfilment))
        .route("/v1/fulfilments/{id}/steps", post(orders::step))
        .route("/v1/fulfilments/{id}/label", get(orders::label))
        .route("/v1/locations/{id}/fulfilments", get(orders::queue))
        .route("/v1/locations/{id}/sales", post(sync::record_sale))
        .route(
            "/v1/locations/{id}/returns",
            post(sync::return_without_receipt),
        )
        .route("/v1/locations/{id}/tasks", get(sync::tasks))
        .route("/v1/sync/push", post(sync::push))
        .route(
            "/v1/locations/{id}/staff",
            get(auth::list_staff).post(auth::add_staff),
        )
        .route("/v1/staff/sign-in", post(auth::staff_sign_in))
        .route(
            "/v1/channels/{id}/rule-sets",
            get(orders::rule_sets).post(orders::add_rule_set),
        )
        .route(
            "/v1/channels/{id}/rule-sets/{version}/activate",
            post(orders::activate_rule_set),
        )
        .route("/v1/outbox", get(outbox::list))
        .route("/v1/outbox/{id}/replay", post(outbox::replay))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_caller,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::serve))
        .route("/v1/pairing", post(auth::pair))
        .merge(protected)
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

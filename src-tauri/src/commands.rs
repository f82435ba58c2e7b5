//! IPC commands: thin adapters from the UI to the backend. Arguments are
//! checked here, before anything is sent; the payload types are in `dto.rs`
//! and the errors in `error.rs`.

use crate::backend::Backend;
use crate::dto;
use crate::error::{AppError, ErrorCode};
use oms_api::wire::{CarryOutSale, Intent, PlaceOrderLine, Sku};
use oms_domain::model::Quantity;

/// Longest search text accepted from the UI, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Most units of one line (a counter sale, not a wholesale order).
const MAX_LINE_QUANTITY: u32 = 999;
/// Most lines of a cart.
const MAX_CART_LINES: usize = 100;

type State<'a> = tauri::State<'a, Backend>;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

fn check_query(query: &str) -> Result<(), AppError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid(format!(
            "Search text is limited to {MAX_QUERY_CHARS} characters."
        )));
    }
    Ok(())
}

fn check_quantity(quantity: u32) -> Result<(), AppError> {
    if quantity == 0 || quantity > MAX_LINE_QUANTITY {
        return Err(invalid(format!("A quantity is 1 to {MAX_LINE_QUANTITY}.")));
    }
    Ok(())
}

fn check_lines(lines: &[dto::CartLineInput]) -> Result<(), AppError> {
    if lines.is_empty() || lines.len() > MAX_CART_LINES {
        return Err(invalid(format!("A cart has 1 to {MAX_CART_LINES} lines.")));
    }
    lines.iter().try_for_each(|l| check_quantity(l.quantity))
}

/// The store this device works for.
#[tauri::command]
pub async fn app_info(backend: State<'_>) -> Result<dto::AppInfo, AppError> {
    Ok(backend.remote().await?.info())
}

/// Whether this device is paired (the pairing screen's gate). Never waits.
#[tauri::command]
pub fn pairing_state(backend: State<'_>) -> dto::PairingState {
    backend.pairing_state()
}

/// Pairs this device with a central OMS server with a pairing code (token
/// into the OS keyring, `config.json` written) and starts it.
#[tauri::command]
pub async fn pair_device(
    backend: State<'_>,
    pairing: dto::PairingInput,
) -> Result<dto::AppInfo, AppError> {
    backend
        .pair_central(&pairing.server_url, &pairing.code, &pairing.device_label)
        .await
}

/// Uses the built-in demo server (the embedded default).
#[tauri::command]
pub async fn use_embedded_server(backend: State<'_>) -> Result<(), AppError> {
    backend.choose_embedded().await
}

/// Forgets this device (token, cache with its unsent actions, choice) and
/// restarts the app on the pairing screen.
#[tauri::command]
pub async fn forget_device(app: tauri::AppHandle, backend: State<'_>) -> Result<(), AppError> {
    backend.forget().await?;
    tracing::info!("this device was forgotten; restarting on the pairing screen");
    app.restart()
}

/// Online/offline, last sync, pending and refused intents. Never waits for
/// a starting backend.
#[tauri::command]
pub async fn sync_status(backend: State<'_>) -> Result<dto::SyncStatus, AppError> {
    if let Some(device) = backend.device() {
        let mut status = dto::SyncStatus::from(&*device.engine.status().borrow());
        status.notice = device.notice.clone();
        return Ok(status);
    }
    Ok(match backend.current() {
        // Sidecar mode, pairing this device: nothing is synced yet.
        Ok(Some(_)) if backend.device_starting() => dto::SyncStatus {
            connectivity: dto::Connectivity::Syncing,
            last_sync_at: None,
            pending: 0,
            refused: 0,
            last_error: None,
            notice: None,
        },
        Ok(Some(remote)) => remote.status().await,
        Ok(None) => dto::SyncStatus {
            connectivity: dto::Connectivity::Unknown,
            last_sync_at: None,
            pending: 0,
            refused: 0,
            last_error: None,
            notice: None,
        },
        Err(message) => dto::SyncStatus {
            connectivity: dto::Connectivity::Offline,
            last_sync_at: None,
            pending: 0,
            refused: 0,
            last_error: Some(message),
            notice: None,
        },
    })
}

/// Asks the sync loop to push and pull now.
#[tauri::command]
pub async fn sync_now(backend: State<'_>) -> Result<(), AppError> {
    backend.require_device()?.engine.sync_now();
    Ok(())
}

/// A carry-out sale at this store: the customer takes the items now. Queued
/// in the outbox and applied locally at once (online or not); the receipt
/// shows the local mutation id.
#[tauri::command]
pub async fn carry_out_sale(
    backend: State<'_>,
    lines: Vec<dto::CartLineInput>,
) -> Result<dto::QueuedAction, AppError> {
    check_lines(&lines)?;
    let lines = lines
        .iter()
        .map(|l| {
            Ok(PlaceOrderLine {
                sku: Sku::parse(l.sku.trim())
                    .map_err(|_| invalid(format!("`{}` is not a SKU", l.sku)))?,
                quantity: Quantity::new(l.quantity),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let device = backend.require_device()?;
    let id = device
        .engine
        .enqueue(Intent::CarryOutSale(CarryOutSale {
            lines,
            sold_at: None,
        }))
        .await?;
    Ok(dto::QueuedAction {
        mutation_id: id,
        reference: format!("sale-{id}"),
    })
}

/// Actions the core refused (not dismissed), newest first, with the reason.
#[tauri::command]
pub async fn refused_actions(backend: State<'_>) -> Result<Vec<dto::RefusedAction>, AppError> {
    let Some(device) = backend.device() else {
        return Ok(Vec::new());
    };
    let refused = device.engine.cache().refused().await?;
    Ok(refused
        .iter()
        .map(|entry| dto::RefusedAction {
            mutation_id: entry.mutation_id,
            kind: entry.kind.clone(),
            reason: entry
                .refusal_message()
                .unwrap_or_else(|| "refused by the OMS core".to_owned()),
            created_at: entry.created_at.clone(),
        })
        .collect())
}

/// Results per search page.
const SEARCH_PAGE: u32 = 50;
/// A cursor into the cache's results (an offset); the core's cursors are
/// opaque and never start so.
const CACHE_CURSOR: &str = "cache:";

/// The device's cache once its first full pull is complete (a caught-up
/// pull is recorded): from then on searches answer from it.
async fn filled_cache(backend: &Backend) -> Option<(aisle_sync::Cache, Option<String>)> {
    let device = backend.device()?;
    let cache = device.engine.cache();
    match cache.position().await {
        Ok(position) if position.last_pull_at.is_some() => {
            Some((cache.clone(), device.engine.device().store.clone()))
        }
        _ => None,
    }
}

fn check_filters(filters: &dto::SearchFilters) -> Result<(), AppError> {
    for value in [&filters.brand, &filters.product_type]
        .into_iter()
        .flatten()
    {
        check_query(value)?;
    }
    if let Some(product_type) = &filters.product_type
        && product_type
            .parse::<oms_domain::model::ProductType>()
            .is_err()
    {
        return Err(invalid(format!("`{product_type}` is not a product type.")));
    }
    Ok(())
}

/// One page from the cache; `cursor` is `cache:<offset>` or none.
async fn search_cache(
    cache: &aisle_sync::Cache,
    store: Option<String>,
    query: &str,
    cursor: Option<&str>,
    filters: &dto::SearchFilters,
) -> Result<dto::ProductPage, AppError> {
    let offset = match cursor {
        None => 0,
        Some(cursor) => cursor
            .strip_prefix(CACHE_CURSOR)
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| invalid("This list cannot be continued; search again."))?,
    };
    let filter = aisle_sync::ProductFilter {
        brand: filters.brand.clone(),
        product_type: filters.product_type.clone(),
        in_stock_at: if filters.in_stock_here {
            Some(store.ok_or_else(|| invalid("This device works for no store."))?)
        } else {
            None
        },
    };
    let page = cache
        .search_page(query, &filter, offset, SEARCH_PAGE)
        .await?;
    Ok(dto::ProductPage {
        items: page.items.into_iter().map(crate::remote::product).collect(),
        next_cursor: page.next_offset.map(|n| format!("{CACHE_CURSOR}{n}")),
    })
}

/// Searches the catalogue by name, brand, SKU or barcode, with filters,
/// one page at a time (pass `next_cursor` back for the next one).
///
/// Once this device's first full pull is complete the cache answers (about
/// a millisecond, online or not: that is what makes search instant). Before
/// that, and in central mode without a device, the OMS core answers (same
/// filters); while it is unreachable the partly filled cache does. A page
/// continues from the source that answered the first one.
#[tauri::command]
pub async fn search_products(
    backend: State<'_>,
    query: String,
    cursor: Option<String>,
    filters: Option<dto::SearchFilters>,
) -> Result<dto::ProductPage, AppError> {
    check_query(&query)?;
    let filters = filters.unwrap_or_default();
    check_filters(&filters)?;
    let from_cache = cursor
        .as_deref()
        .is_none_or(|c| c.starts_with(CACHE_CURSOR));
    if from_cache && let Some((cache, store)) = filled_cache(&backend).await {
        return search_cache(&cache, store, &query, cursor.as_deref(), &filters).await;
    }
    let remote = backend.remote().await?;
    let core_cursor = cursor.clone().filter(|c| !c.starts_with(CACHE_CURSOR));
    match remote.search(query.clone(), core_cursor, &filters).await {
        Err(error) if error.code == ErrorCode::BackendUnavailable => {
            // Offline: the cached catalogue answers, however far it got.
            let Some(device) = backend.device() else {
                return Err(error);
            };
            let store = device.engine.device().store.clone();
            let cursor = cursor.filter(|c| c.starts_with(CACHE_CURSOR));
            search_cache(
                device.engine.cache(),
                store,
                &query,
                cursor.as_deref(),
                &filters,
            )
            .await
        }
        other => other,
    }
}

/// The brands and product types the search filters offer: from the cache
/// once it is filled, from the core before that.
#[tauri::command]
pub async fn search_filter_values(backend: State<'_>) -> Result<dto::SearchFilterValues, AppError> {
    if let Some((cache, _)) = filled_cache(&backend).await {
        let facets = cache.product_facets().await?;
        return Ok(dto::SearchFilterValues {
            brands: facets.brands,
            product_types: facets.product_types,
            from_cache: true,
        });
    }
    match backend.remote().await?.product_facets().await {
        // Offline before the first full pull: what the cache has so far.
        Err(error) if error.code == ErrorCode::BackendUnavailable => {
            let Some(device) = backend.device() else {
                return Err(error);
            };
            let facets = device.engine.cache().product_facets().await?;
            Ok(dto::SearchFilterValues {
                brands: facets.brands,
                product_types: facets.product_types,
                from_cache: true,
            })
        }
        other => other,
    }
}

/// A product with its stock here, in nearby stores and in the network.
#[tauri::command]
pub async fn product_detail(
    backend: State<'_>,
    sku: String,
) -> Result<dto::ProductDetail, AppError> {
    check_query(&sku)?;
    let remote = backend.remote().await?;
    match remote.product_detail(sku.trim()).await {
        Err(error) if error.code == ErrorCode::BackendUnavailable => {
            // Offline: the cached product and this store's cached stock (with
            // the effect of actions queued here); the network is unknown.
            let Some(device) = backend.device() else {
                return Err(error);
            };
            let cache = device.engine.cache();
            let Some(product) = cache.product(sku.trim()).await? else {
                return Err(error);
            };
            let here = cache.stock(sku.trim(), remote.store_id()).await?;
            Ok(dto::ProductDetail {
                product: crate::remote::product(product),
                here: dto::StockHere {
                    on_hand: here.as_ref().map_or(0, |s| s.on_hand),
                    available: here
                        .as_ref()
                        .map_or(0, |s| u64::try_from(s.on_hand - s.reserved).unwrap_or(0)),
                },
                nearby: Vec::new(),
                network_available: 0,
                network_locations: 0,
                channels: Vec::new(),
            })
        }
        other => other,
    }
}

/// What each delivery method can promise for `quantity` units of a product.
#[tauri::command]
pub async fn product_atp(
    backend: State<'_>,
    sku: String,
    quantity: u32,
    destination: dto::DestinationInput,
) -> Result<dto::Availability, AppError> {
    check_query(&sku)?;
    check_quantity(quantity)?;
    backend
        .remote()
        .await?
        .product_atp(&sku, quantity, &destination)
        .await
}

/// What each delivery method can promise for the whole cart.
#[tauri::command]
pub async fn cart_atp(
    backend: State<'_>,
    lines: Vec<dto::CartLineInput>,
    destination: dto::DestinationInput,
) -> Result<dto::Availability, AppError> {
    check_lines(&lines)?;
    backend.remote().await?.cart_atp(&lines, &destination).await
}

/// Places the cart as an order. The UI makes one idempotency key per
/// checkout attempt, so sending it again never places a second order.
#[tauri::command]
pub async fn place_order(
    backend: State<'_>,
    checkout: dto::CheckoutInput,
) -> Result<dto::PlaceOutcome, AppError> {
    check_lines(&checkout.lines)?;
    if uuid::Uuid::parse_str(&checkout.idempotency_key).is_err() {
        return Err(invalid("The checkout attempt has no valid key."));
    }
    if let Some(id) = checkout.customer.id.as_deref().map(str::trim)
        && !id.is_empty()
        && !(id.len() <= 40
            && id.strip_prefix("C-").is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            }))
    {
        return Err(invalid(
            "The chosen customer is not a customer of the register.",
        ));
    }
    let name = checkout.customer.name.trim();
    if name.is_empty() || name.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid("The customer's name is required."));
    }
    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !has(&checkout.customer.email) && !has(&checkout.customer.phone) {
        return Err(invalid("An e-mail address or a phone number is required."));
    }
    for contact in [&checkout.customer.email, &checkout.customer.phone]
        .into_iter()
        .flatten()
    {
        check_query(contact)?;
    }
    if let Some(email) = checkout.customer.email.as_deref().map(str::trim)
        && !email.is_empty()
        && !email.contains('@')
    {
        return Err(invalid("The e-mail address is not valid."));
    }
    let remote = backend.remote().await?;
    let order = remote.order_request(&checkout)?;
    if let Some(placed) = remote.place_order(&order, &checkout).await? {
        return Ok(dto::PlaceOutcome::Placed(Box::new(placed)));
    }
    // The core is down: queue the order; it is placed when the core is back.
    let Some(device) = backend.device() else {
        return Err(AppError::new(
            ErrorCode::BackendUnavailable,
            "The OMS server is unreachable and this device cannot queue orders.",
        ));
    };
    let id = device
        .engine
        .enqueue(Intent::PlaceOrder(Box::new(order)))
        .await?;
    Ok(dto::PlaceOutcome::Queued(dto::QueuedAction {
        mutation_id: id,
        reference: aisle_sync::outbox::pending_order_id(id),
    }))
}

/// Orders by number, e-mail, phone or name.
#[tauri::command]
pub async fn search_orders(
    backend: State<'_>,
    query: String,
    cursor: Option<String>,
) -> Result<dto::OrderHitPage, AppError> {
    check_query(&query)?;
    check_cursor(cursor.as_deref())?;
    let query = query.trim();
    if query.chars().count() < 2 {
        return Err(invalid("Type at least two characters."));
    }
    backend.remote().await?.search_orders(query, cursor).await
}

/// A page cursor the UI got from us: short, plain ASCII.
fn check_cursor(cursor: Option<&str>) -> Result<(), AppError> {
    match cursor {
        Some(c) if c.is_empty() || c.len() > 600 || !c.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(invalid("This page cursor is not valid; search again."))
        }
        _ => Ok(()),
    }
}

/// An order with its explanation in `lang`.
#[tauri::command]
pub async fn order_detail(
    backend: State<'_>,
    id: String,
    lang: dto::Lang,
) -> Result<dto::OrderDetail, AppError> {
    backend.remote().await?.order(id.trim(), lang).await
}

/// Receives returned lines at this store: refund computed, items restocked
/// or quarantined.
#[tauri::command]
pub async fn receive_return(
    backend: State<'_>,
    request: dto::ReturnInput,
) -> Result<dto::ReturnReceipt, AppError> {
    if request.lines.is_empty() {
        return Err(invalid("Choose at least one line to return."));
    }
    request
        .lines
        .iter()
        .try_for_each(|l| check_quantity(l.quantity))?;
    backend.remote().await?.receive_return(&request).await
}

/// This store's open fulfilments, by due time.
#[tauri::command]
pub async fn store_queue(
    backend: State<'_>,
    cursor: Option<String>,
) -> Result<dto::QueuePage, AppError> {
    check_cursor(cursor.as_deref())?;
    backend.remote().await?.queue(cursor).await
}

/// One fulfilment with its pick list.
#[tauri::command]
pub async fn fulfilment_detail(
    backend: State<'_>,
    id: String,
) -> Result<dto::FulfilmentDetail, AppError> {
    backend.remote().await?.fulfilment(id.trim()).await
}

/// A step of a fulfilment (start, missing items, ready, ship, handover, cancel).
#[tauri::command]
pub async fn fulfilment_step(
    backend: State<'_>,
    id: String,
    step: dto::StepInput,
    lang: dto::Lang,
) -> Result<dto::StepOutcome, AppError> {
    if let dto::StepInput::ReportMissing { lines } = &step
        && lines.is_empty()
    {
        return Err(invalid("Say which line is missing."));
    }
    backend.remote().await?.step(id.trim(), &step, lang).await
}

/// Saves the shipping label PDF and opens it in the system viewer.
#[tauri::command]
pub async fn open_label(backend: State<'_>, id: String) -> Result<dto::LabelFile, AppError> {
    let open = std::env::var_os("AISLE_NO_OPEN").is_none();
    backend.remote().await?.label(id.trim(), open).await
}

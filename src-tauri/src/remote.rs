//! Everything the screens need, answered by the OMS core over HTTP (the
//! embedded sidecar or a central server). This is the one module that calls
//! the server: the offline cache and outbox (aisle-sync) will answer the same
//! questions behind the same functions.

mod receipts;

use crate::dto::{self, convert};
use crate::error::{AppError, ErrorCode};
use crate::geo;
use oms_api::OmsClient;
use oms_api::wire::{
    self, Customer, Destination, FulfilmentStep, FulfilmentView, Language, LineFound, Location,
    LocationId, OrderQuery, OrderView, PaymentMethod, PlaceOrder, PlaceOrderLine,
    ProductAtpRequest, ProductQuery, QueueQuery, ReceiveReturn, ReturnLine, Sku,
};
use oms_domain::lifecycle::FulfilmentStatus;
use oms_domain::model::{ChannelId, LocationKind, Quantity};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// Most nearby stores listed on a product.
const NEARBY_STORES: usize = 8;
/// Longest free text accepted from the UI (search, names, codes).
const MAX_TEXT: usize = 200;
/// Rows per page of the store queue and the order search.
const LIST_PAGE: u32 = 50;

/// The OMS core as the app sees it: a client, the store this device works
/// for, and small caches of what rarely changes.
#[derive(Debug)]
pub struct Remote {
    /// Swapped when the embedded sidecar restarts (new admin token).
    client: std::sync::RwLock<OmsClient>,
    kind: dto::BackendKind,
    store: Location,
    channel: ChannelId,
    /// The channel's stores: this one first, then by name.
    stores: Vec<dto::StoreRef>,
    locations: Vec<Location>,
    products: Mutex<HashMap<String, dto::ProductSummary>>,
    /// Unix ms of the last answer from the core (0: none yet).
    last_contact_ms: AtomicI64,
    labels_dir: PathBuf,
}

/// Which store and channel, from the settings (or the first store of the
/// network and the store channel).
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub store: Option<String>,
    pub channel: Option<String>,
}

impl Remote {
    /// Loads the network and resolves this device's store.
    pub async fn connect(
        client: OmsClient,
        kind: dto::BackendKind,
        placement: &Placement,
        data_dir: &std::path::Path,
    ) -> Result<Self, AppError> {
        let locations = client.locations().await?.items;
        let channels = client.channels().await?.items;
        let channel = match &placement.channel {
            Some(id) => channels
                .iter()
                .find(|c| c.id.as_str() == id)
                .ok_or_else(|| {
                    AppError::new(
                        ErrorCode::NotFound,
                        format!("channel `{id}` does not exist"),
                    )
                })?,
            None => channels
                .iter()
                .find(|c| c.id.as_str() == oms_domain::demo::STORES)
                .or_else(|| channels.first())
                .ok_or_else(|| AppError::new(ErrorCode::NotFound, "the network has no channel"))?,
        };
        let store = match &placement.store {
            Some(id) => locations.iter().find(|l| l.id.as_str() == id),
            None => channel.locations.iter().find_map(|id| {
                locations
                    .iter()
                    .find(|l| &l.id == id && l.kind == LocationKind::Store)
            }),
        }
        .cloned()
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "this device's store was not found"))?;
        tracing::info!(store = %store.id.as_str(), channel = %channel.id.as_str(), "store resolved");
        let mut stores: Vec<dto::StoreRef> = locations
            .iter()
            .filter(|l| l.kind == LocationKind::Store && channel.locations.contains(&l.id))
            .map(|l| dto::StoreRef {
                id: l.id.as_str().to_owned(),
                name: l.name.clone(),
            })
            .collect();
        stores.sort_by(|a, b| {
            (a.id != store.id.as_str(), &a.name).cmp(&(b.id != store.id.as_str(), &b.name))
        });
        let remote = Self {
            client: std::sync::RwLock::new(client),
            kind,
            store,
            channel: channel.id.clone(),
            stores,
            locations,
            products: Mutex::new(HashMap::new()),
            last_contact_ms: AtomicI64::new(0),
            labels_dir: data_dir.join("labels"),
        };
        remote.touch();
        Ok(remote)
    }

    /// The client to the core (cheap to clone).
    pub fn client(&self) -> OmsClient {
        self.client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The core answers with another client (the sidecar restarted).
    pub fn set_client(&self, client: OmsClient) {
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = client;
    }

    /// The store this device works for.
    pub fn store_id(&self) -> &str {
        self.store.id.as_str()
    }

    fn touch(&self) {
        self.last_contact_ms
            .store(jiff::Timestamp::now().as_millisecond(), Ordering::Relaxed);
    }

    /// Remembers that the core answered (for the status bar).
    fn answered<T>(&self, result: Result<T, oms_api::ClientError>) -> Result<T, AppError> {
        match result {
            Ok(value) => {
                self.touch();
                Ok(value)
            }
            Err(error) => {
                if !matches!(error, oms_api::ClientError::Transport(_)) {
                    self.touch();
                }
                Err(error.into())
            }
        }
    }

    pub fn info(&self) -> dto::AppInfo {
        dto::AppInfo {
            store: dto::StoreRef {
                id: self.store.id.as_str().to_owned(),
                name: self.store.name.clone(),
            },
            channel: self.channel.as_str().to_owned(),
            backend: self.kind,
            stores: self.stores.clone(),
        }
    }

    /// Whether the core answers now.
    pub async fn status(&self) -> dto::SyncStatus {
        let health = self.client().health().await;
        if health.is_ok() {
            self.touch();
        }
        let last = self.last_contact_ms.load(Ordering::Relaxed);
        dto::SyncStatus {
            connectivity: if health.is_ok() {
                dto::Connectivity::Online
            } else {
                dto::Connectivity::Offline
            },
            last_sync_at: jiff::Timestamp::from_millisecond(last)
                .ok()
                .filter(|_| last > 0)
                .map(|t| t.to_string()),
            pending: 0,
            refused: 0,
            last_error: health.err().map(|e| e.to_string()),
            notice: None,
        }
    }

    fn location_name(&self, id: &str) -> String {
        self.locations
            .iter()
            .find(|l| l.id.as_str() == id)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    // --- catalogue -------------------------------------------------------

    pub async fn search(
        &self,
        query: String,
        cursor: Option<String>,
        filters: &dto::SearchFilters,
    ) -> Result<dto::ProductPage, AppError> {
        let page = self.answered(
            self.client()
                .products(&ProductQuery {
                    q: Some(query),
                    limit: Some(50),
                    cursor,
                    brand: filters.brand.clone(),
                    product_type: filters.product_type.clone(),
                    in_stock_at: filters.in_stock_here.then(|| self.store_id().to_owned()),
                })
                .await,
        )?;
        let items: Vec<dto::ProductSummary> = page.items.into_iter().map(product).collect();
        if let Ok(mut cache) = self.products.lock() {
            for item in &items {
                cache.insert(item.sku.clone(), item.clone());
            }
        }
        Ok(dto::ProductPage {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// The brands and product types the core's catalogue holds.
    pub async fn product_facets(&self) -> Result<dto::SearchFilterValues, AppError> {
        let facets = self.answered(self.client().product_facets().await)?;
        Ok(dto::SearchFilterValues {
            brands: facets.brands,
            product_types: facets.product_types,
            from_cache: false,
        })
    }

    /// A product by SKU, from the cache or the core.
    pub async fn product(&self, sku: &str) -> Result<dto::ProductSummary, AppError> {
        if let Some(found) = self.products.lock().ok().and_then(|c| c.get(sku).cloned()) {
            return Ok(found);
        }
        let found = product(self.answered(self.client().product(sku).await)?);
        if let Ok(mut cache) = self.products.lock() {
            cache.insert(found.sku.clone(), found.clone());
        }
        Ok(found)
    }

    /// A product's name and barcodes for a pick list; a product that
    /// vanished from the catalogue still shows its SKU.
    async fn pick_line(&self, line: u32, sku: &str, quantity: u32) -> dto::PickLine {
        let (name, barcodes) = match self.product(sku).await {
            Ok(p) => (p.name, p.barcodes),
            Err(_) => (sku.to_owned(), Vec::new()),
        };
        dto::PickLine {
            line,
            sku: sku.to_owned(),
            name,
            barcodes,
            quantity,
        }
    }

    pub async fn product_detail(&self, sku: &str) -> Result<dto::ProductDetail, AppError> {
        let product = self.product(sku).await?;
        let stock = self.answered(self.client().sku_stock(sku).await)?;
        let here_level = stock
            .levels
            .iter()
            .find(|l| l.location == self.store.id.as_str());
        let here = dto::StockHere {
            on_hand: here_level.map_or(0, |l| l.on_hand),
            available: here_level.map_or(0, |l| l.available),
        };
        let mut nearby: Vec<dto::NearbyStock> = stock
            .levels
            .iter()
            .filter(|l| l.available > 0 && l.location != self.store.id.as_str())
            .filter_map(|level| {
                let location = self
                    .locations
                    .iter()
                    .find(|l| l.id.as_str() == level.location && l.kind == LocationKind::Store)?;
                Some(dto::NearbyStock {
                    location: level.location.clone(),
                    name: location.name.clone(),
                    distance_km: geo::distance_km(self.store.coordinates, location.coordinates),
                    available: level.available,
                })
            })
            .collect();
        nearby.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km));
        nearby.truncate(NEARBY_STORES);
        let holding: Vec<_> = stock.levels.iter().filter(|l| l.available > 0).collect();
        Ok(dto::ProductDetail {
            product,
            here,
            nearby,
            network_available: holding.iter().map(|l| l.available).sum(),
            network_locations: u32::try_from(holding.len()).unwrap_or(u32::MAX),
            channels: stock
                .channels
                .into_iter()
                .map(|c| dto::ChannelStock {
                    channel: c.channel,
                    unified_stock: c.unified_stock,
                })
                .collect(),
        })
    }

    // --- ATP ---------------------------------------------------------------

    fn destination(&self, input: &dto::DestinationInput) -> Result<Destination, AppError> {
        let address = match input.postal_code.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => Some(geo::address(
                code,
                input.country.as_deref().unwrap_or("FR"),
            )?),
            _ => None,
        };
        let pickup_store = match input.pickup_store.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => location_id(id)?,
            _ => self.store.id.clone(),
        };
        Ok(Destination {
            address,
            pickup_store: Some(pickup_store),
        })
    }

    pub async fn product_atp(
        &self,
        sku: &str,
        quantity: u32,
        destination: &dto::DestinationInput,
    ) -> Result<dto::Availability, AppError> {
        let request = ProductAtpRequest {
            channel: self.channel.clone(),
            sku: sku_id(sku)?,
            quantity: Some(Quantity::new(quantity)),
            destination: self.destination(destination)?,
            at: None,
        };
        let atp = self.answered(self.client().product_atp(&request).await)?;
        let methods = atp
            .methods
            .iter()
            .map(|m| {
                Ok(dto::MethodAvailability {
                    method: convert(&m.method)?,
                    possible: m.possible,
                    reason: m.reason.as_ref().map(convert).transpose()?,
                    requested: m.requested,
                    quantity: m.quantity,
                    expected_date: m.expected_date.map(|d| d.to_string()),
                    ready_at: m.ready_at.map(|t| t.to_string()),
                    shipments: m.shipments.iter().map(|s| self.shipment(s)).collect(),
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(dto::Availability {
            channel: atp.channel.as_str().to_owned(),
            methods,
        })
    }

    fn shipment(&self, shipment: &oms_domain::atp::Shipment) -> dto::ShipmentView {
        dto::ShipmentView {
            location: shipment.location.as_str().to_owned(),
            location_name: self.location_name(shipment.location.as_str()),
            units: shipment.lines.iter().map(|l| l.quantity).sum(),
            expected_date: shipment.expected_date.to_string(),
        }
    }

    pub async fn cart_atp(
        &self,
        lines: &[dto::CartLineInput],
        destination: &dto::DestinationInput,
    ) -> Result<dto::Availability, AppError> {
        let request = wire::CartAtpRequest {
            channel: self.channel.clone(),
            lines: lines
                .iter()
                .map(|l| {
                    Ok(wire::CartLine {
                        sku: sku_id(&l.sku)?,
                        quantity: Quantity::new(l.quantity),
                    })
                })
                .collect::<Result<_, AppError>>()?,
            destination: self.destination(destination)?,
            at: None,
        };
        let atp = self.answered(self.client().cart_atp(&request).await)?;
        let methods = atp
            .methods
            .iter()
            .map(|m| {
                Ok(dto::MethodAvailability {
                    method: convert(&m.method)?,
                    possible: m.possible,
                    reason: m.reason.as_ref().map(convert).transpose()?,
                    requested: m.lines.iter().map(|l| l.requested).sum(),
                    quantity: m.lines.iter().map(|l| l.available.min(l.requested)).sum(),
                    expected_date: m.expected_date.map(|d| d.to_string()),
                    ready_at: m.ready_at.map(|t| t.to_string()),
                    shipments: m.shipments.iter().map(|s| self.shipment(s)).collect(),
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(dto::Availability {
            channel: atp.channel.as_str().to_owned(),
            methods,
        })
    }

    // --- orders ------------------------------------------------------------

    /// The order the checkout describes, as the core takes it.
    pub fn order_request(&self, input: &dto::CheckoutInput) -> Result<PlaceOrder, AppError> {
        let (delivery, payment) = match input.delivery {
            // Carry-out becomes an express click & collect here, paid at the
            // till, until offline carry-out sales exist (aisle-sync).
            dto::CheckoutDelivery::CarryOut => (
                wire::DeliveryMethod::ExpressClickAndCollect,
                PaymentMethod::InStore,
            ),
            dto::CheckoutDelivery::HomeDelivery => {
                (wire::DeliveryMethod::HomeDelivery, payment(input.payment))
            }
            dto::CheckoutDelivery::ClickAndCollect => (
                wire::DeliveryMethod::ClickAndCollect,
                payment(input.payment),
            ),
            dto::CheckoutDelivery::ExpressClickAndCollect => (
                wire::DeliveryMethod::ExpressClickAndCollect,
                payment(input.payment),
            ),
        };
        let mut destination = self.destination(&input.destination)?;
        if delivery == wire::DeliveryMethod::HomeDelivery {
            if destination.address.is_none() {
                return Err(AppError::new(
                    ErrorCode::InvalidInput,
                    "Home delivery needs the customer's postal code.",
                ));
            }
            destination.pickup_store = None;
        } else {
            destination.address = None;
            if input.delivery == dto::CheckoutDelivery::CarryOut {
                destination.pickup_store = Some(self.store.id.clone());
            }
        }
        Ok(PlaceOrder {
            channel: self.channel.clone(),
            delivery,
            destination,
            customer: Customer {
                id: input
                    .customer
                    .id
                    .as_deref()
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned),
                name: input.customer.name.trim().to_owned(),
                email: non_empty(input.customer.email.as_deref()),
                phone: non_empty(input.customer.phone.as_deref()),
                language: language(input.customer.language),
            },
            lines: input
                .lines
                .iter()
                .map(|l| {
                    Ok(PlaceOrderLine {
                        sku: sku_id(&l.sku)?,
                        quantity: Quantity::new(l.quantity),
                    })
                })
                .collect::<Result<_, AppError>>()?,
            discounts: Vec::new(),
            payment,
            accept_partial: false,
            placed_at: None,
        })
    }

    /// Places `order` now. `None` when the request could not even be sent
    /// (the core is down): then it certainly was not placed.
    pub async fn place_order(
        &self,
        order: &PlaceOrder,
        input: &dto::CheckoutInput,
    ) -> Result<Option<dto::OrderDetail>, AppError> {
        match self
            .client()
            .place_order(order, &input.idempotency_key)
            .await
        {
            // Never sent (nothing listens): the order may be queued instead.
            Err(oms_api::ClientError::Transport(error)) if error.is_connect() => Ok(None),
            other => {
                let view = self.answered(other)?;
                Ok(Some(self.order_detail(view).await?))
            }
        }
    }

    pub async fn search_orders(
        &self,
        q: &str,
        cursor: Option<String>,
    ) -> Result<dto::OrderHitPage, AppError> {
        let found = self.answered(
            self.client()
                .search_orders(&OrderQuery {
                    q: Some(q.to_owned()),
                    limit: Some(LIST_PAGE),
                    cursor,
                })
                .await,
        )?;
        let items = found
            .items
            .into_iter()
            .map(|o| {
                Ok(dto::OrderHit {
                    id: o.id.as_str().to_owned(),
                    status: convert(&o.status)?,
                    channel: o.channel.as_str().to_owned(),
                    customer_name: o.customer_name,
                    placed_at: o.placed_at,
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(dto::OrderHitPage {
            items,
            next_cursor: found.next_cursor,
        })
    }

    pub async fn order(&self, id: &str, lang: dto::Lang) -> Result<dto::OrderDetail, AppError> {
        check_text("order number", id)?;
        let view = self.answered(self.client().order(id, Some(language(lang))).await)?;
        self.order_detail(view).await
    }

    async fn order_detail(&self, view: OrderView) -> Result<dto::OrderDetail, AppError> {
        let mut lines = Vec::with_capacity(view.lines.len());
        for line in &view.lines {
            let delivered: u32 = view
                .fulfilments
                .iter()
                .filter(|f| {
                    matches!(
                        f.status,
                        FulfilmentStatus::PickedUp | FulfilmentStatus::Shipped
                    )
                })
                .flat_map(|f| &f.lines)
                .filter(|l| l.line == line.id)
                .map(|l| l.quantity.get())
                .sum();
            let returned: u32 = view
                .returns
                .iter()
                .flat_map(|r| &r.lines)
                .filter(|l| l.line == line.id)
                .map(|l| l.quantity.get())
                .sum();
            let name = self
                .product(line.sku.as_str())
                .await
                .map(|p| p.name)
                .unwrap_or_else(|_| line.sku.as_str().to_owned());
            lines.push(dto::OrderLineDetail {
                line: line.id.0,
                sku: line.sku.as_str().to_owned(),
                name,
                quantity: line.quantity.get(),
                unit_price: money(line.unit_price),
                returnable: delivered.saturating_sub(returned),
            });
        }
        let mut fulfilments = Vec::with_capacity(view.fulfilments.len());
        for f in &view.fulfilments {
            fulfilments.push(self.fulfilment_summary(f).await?);
        }
        Ok(dto::OrderDetail {
            id: view.id.as_str().to_owned(),
            status: convert(&view.status)?,
            channel: view.channel.as_str().to_owned(),
            delivery: convert(&view.delivery)?,
            customer: dto::CustomerView {
                name: view.customer.name.clone(),
                email: view.customer.email.clone(),
                phone: view.customer.phone.clone(),
                language: convert(&view.customer.language)?,
            },
            payment: match view.payment {
                PaymentMethod::InStore => dto::PaymentChoice::InStore,
                PaymentMethod::Gateway => dto::PaymentChoice::Gateway,
            },
            placed_at: view.placed_at.clone(),
            lines,
            shipping_fee: money(view.shipping_fee),
            total: money(view.total),
            fulfilments,
            unservable: unservable(&view.unservable)?,
            explanation: view.explanation.clone(),
            payments: view
                .payments
                .iter()
                .map(|p| dto::PaymentLine {
                    kind: serde_json::to_value(p.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    amount: money(p.amount),
                    status: p.status.clone(),
                    link: p.link.clone(),
                    detail: p.last_error.clone(),
                })
                .collect(),
            returns: view
                .returns
                .iter()
                .map(return_receipt)
                .collect::<Result<_, _>>()?,
        })
    }

    pub async fn receive_return(
        &self,
        input: &dto::ReturnInput,
    ) -> Result<dto::ReturnReceipt, AppError> {
        check_text("order number", &input.order_id)?;
        let request = ReceiveReturn {
            location: self.store.id.clone(),
            lines: input
                .lines
                .iter()
                .map(|l| {
                    Ok(ReturnLine {
                        line: wire::LineId(l.line),
                        quantity: Quantity::new(l.quantity),
                        reason: convert(&l.reason)?,
                        condition: convert(&l.condition)?,
                    })
                })
                .collect::<Result<_, AppError>>()?,
        };
        let view = self.answered(
            self.client()
                .receive_return(&input.order_id, &request)
                .await,
        )?;
        return_receipt(&view)
    }

    // --- store fulfilment ----------------------------------------------------

    /// A page of the store's open fulfilments, by due time (the core's
    /// order, stable across pages).
    pub async fn queue(&self, cursor: Option<String>) -> Result<dto::QueuePage, AppError> {
        let page = self.answered(
            self.client()
                .location_fulfilments(
                    self.store.id.as_str(),
                    &QueueQuery {
                        status: None,
                        limit: Some(LIST_PAGE),
                        cursor,
                    },
                )
                .await,
        )?;
        let items = page
            .items
            .iter()
            .map(|f| {
                Ok(dto::QueueItem {
                    id: f.id.as_str().to_owned(),
                    order_id: f.order.as_str().to_owned(),
                    delivery: convert(&f.delivery)?,
                    handover: f.handover,
                    status: convert(&f.status)?,
                    due_at: f.due_at.clone(),
                    units: f.lines.iter().map(|l| l.quantity.get()).sum(),
                    lines: u32::try_from(f.lines.len()).unwrap_or(u32::MAX),
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(dto::QueuePage {
            items,
            next_cursor: page.next_cursor,
        })
    }

    pub async fn fulfilment(&self, id: &str) -> Result<dto::FulfilmentDetail, AppError> {
        check_text("fulfilment", id)?;
        let view = self.answered(self.client().fulfilment(id).await)?;
        self.fulfilment_detail(&view).await
    }

    async fn pick_lines(&self, view: &FulfilmentView) -> Vec<dto::PickLine> {
        let mut lines = Vec::with_capacity(view.lines.len());
        for l in &view.lines {
            lines.push(
                self.pick_line(l.line.0, l.sku.as_str(), l.quantity.get())
                    .await,
            );
        }
        lines
    }

    async fn fulfilment_detail(
        &self,
        view: &FulfilmentView,
    ) -> Result<dto::FulfilmentDetail, AppError> {
        Ok(dto::FulfilmentDetail {
            id: view.id.as_str().to_owned(),
            order_id: view.order.as_str().to_owned(),
            location: view.location.as_str().to_owned(),
            location_name: self.location_name(view.location.as_str()),
            delivery: convert(&view.delivery)?,
            handover: view.handover,
            ship_to: view.ship_to.as_ref().map(|s| s.as_str().to_owned()),
            ship_to_name: view
                .ship_to
                .as_ref()
                .map(|s| self.location_name(s.as_str())),
            status: convert(&view.status)?,
            due_at: view.due_at.clone(),
            expected_date: view.expected_date.clone(),
            tracking: view.tracking.clone(),
            lines: self.pick_lines(view).await,
        })
    }

    async fn fulfilment_summary(
        &self,
        view: &FulfilmentView,
    ) -> Result<dto::FulfilmentSummary, AppError> {
        Ok(dto::FulfilmentSummary {
            id: view.id.as_str().to_owned(),
            location: view.location.as_str().to_owned(),
            location_name: self.location_name(view.location.as_str()),
            delivery: convert(&view.delivery)?,
            handover: view.handover,
            status: convert(&view.status)?,
            expected_date: view.expected_date.clone(),
            lines: self.pick_lines(view).await,
        })
    }

    pub async fn step(
        &self,
        id: &str,
        step: &dto::StepInput,
        lang: dto::Lang,
    ) -> Result<dto::StepOutcome, AppError> {
        check_text("fulfilment", id)?;
        let wire_step = match step {
            dto::StepInput::StartPreparation => FulfilmentStep::StartPreparation,
            dto::StepInput::ReportMissing { lines } => FulfilmentStep::ReportMissing {
                lines: lines
                    .iter()
                    .map(|l| LineFound {
                        line: wire::LineId(l.line),
                        found: Quantity::new(l.found),
                    })
                    .collect(),
            },
            dto::StepInput::MarkReady => FulfilmentStep::MarkReady,
            dto::StepInput::Ship => FulfilmentStep::Ship { tracking: None },
            dto::StepInput::HandOver { pickup_code } => {
                check_text("pickup code", pickup_code)?;
                FulfilmentStep::HandOver {
                    pickup_code: pickup_code.trim().to_owned(),
                }
            }
            dto::StepInput::Cancel => FulfilmentStep::Cancel,
            dto::StepInput::ReceiveAtStore => FulfilmentStep::ReceiveAtStore,
        };
        // A wrong pickup code is the core's 409 `pickup-code-mismatch`
        // (error.rs maps it to its own code for the UI).
        let result = self.answered(self.client().fulfilment_step(id, &wire_step).await)?;
        let mut rerouted = Vec::with_capacity(result.rerouted.len());
        for f in &result.rerouted {
            rerouted.push(self.fulfilment_summary(f).await?);
        }
        let explanation = self
            .explanation_in(&result.fulfilment, result.explanation, lang)
            .await;
        Ok(dto::StepOutcome {
            fulfilment: self.fulfilment_detail(&result.fulfilment).await?,
            order_status: convert(&result.order_status)?,
            rerouted,
            unservable: unservable(&result.unservable)?,
            explanation,
        })
    }

    /// A step's explanation comes in the customer's language (the step takes
    /// no `lang`); the associate reads the UI's. The order's explanation in
    /// that language ends with the same re-orchestration, sentence for
    /// sentence: take its last sentences. Falls back to the step's own.
    async fn explanation_in(
        &self,
        fulfilment: &FulfilmentView,
        explanation: Vec<String>,
        lang: dto::Lang,
    ) -> Vec<String> {
        if explanation.is_empty() {
            return explanation;
        }
        match self
            .client()
            .order(fulfilment.order.as_str(), Some(language(lang)))
            .await
        {
            Ok(order) if order.explanation.len() >= explanation.len() => {
                let skip = order.explanation.len() - explanation.len();
                order.explanation.into_iter().skip(skip).collect()
            }
            _ => explanation,
        }
    }

    /// Saves the fulfilment's shipping label and opens it in the system's
    /// PDF viewer (to print from there).
    pub async fn label(&self, id: &str, open: bool) -> Result<dto::LabelFile, AppError> {
        check_text("fulfilment", id)?;
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "not a fulfilment id",
            ));
        }
        let pdf = self.answered(self.client().fulfilment_label(id).await)?;
        let io = |e: std::io::Error| {
            AppError::new(ErrorCode::Internal, format!("cannot save the label: {e}"))
        };
        tokio::fs::create_dir_all(&self.labels_dir)
            .await
            .map_err(io)?;
        let path = self.labels_dir.join(format!("{id}.pdf"));
        tokio::fs::write(&path, pdf).await.map_err(io)?;
        let opened = open && open_file(&path);
        Ok(dto::LabelFile {
            path: path.display().to_string(),
            opened,
        })
    }
}

/// Starts the desktop's viewer for a file, detached; false when there is none.
fn open_file(path: &std::path::Path) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// A catalogue product as the UI shows it.
pub fn product(p: wire::Product) -> dto::ProductSummary {
    dto::ProductSummary {
        sku: p.sku,
        name: p.name,
        brand: p.brand,
        product_type: p.product_type,
        barcodes: p.barcodes,
        price: dto::Money {
            amount_minor: p.price.amount_minor,
            currency: p.price.currency.as_str().to_owned(),
        },
    }
}

fn money(amount: wire::Amount) -> dto::Money {
    dto::Money {
        amount_minor: amount.minor(),
        currency: amount.currency().as_str().to_owned(),
    }
}

fn payment(choice: dto::PaymentChoice) -> PaymentMethod {
    match choice {
        dto::PaymentChoice::InStore => PaymentMethod::InStore,
        dto::PaymentChoice::Gateway => PaymentMethod::Gateway,
    }
}

fn language(lang: dto::Lang) -> Language {
    match lang {
        dto::Lang::En => Language::En,
        dto::Lang::Fr => Language::Fr,
        dto::Lang::De => Language::De,
    }
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

fn unservable(lines: &[wire::UnservableLine]) -> Result<Vec<dto::UnservableView>, AppError> {
    lines
        .iter()
        .map(|u| {
            Ok(dto::UnservableView {
                line: u.line.0,
                sku: u.sku.as_str().to_owned(),
                missing: u.missing,
                reason: convert(&u.reason)?,
            })
        })
        .collect()
}

fn return_receipt(view: &wire::ReturnView) -> Result<dto::ReturnReceipt, AppError> {
    Ok(dto::ReturnReceipt {
        id: view.id.as_str().to_owned(),
        order_id: view.order.as_str().to_owned(),
        location: view.location.as_str().to_owned(),
        lines: view
            .lines
            .iter()
            .map(|l| {
                Ok(dto::RefundLineView {
                    line: l.line.0,
                    sku: l.sku.as_str().to_owned(),
                    quantity: l.quantity.get(),
                    reason: convert(&l.reason)?,
                    condition: convert(&l.condition)?,
                    refund: money(l.refund),
                    restock: convert(&l.restock)?,
                })
            })
            .collect::<Result<_, AppError>>()?,
        shipping_refund: money(view.shipping_refund),
        total_refund: money(view.total_refund),
        received_at: view.received_at.clone(),
    })
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

fn check_text(what: &str, text: &str) -> Result<(), AppError> {
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT {
        return Err(invalid(format!(
            "The {what} must have 1 to {MAX_TEXT} characters."
        )));
    }
    Ok(())
}

fn sku_id(sku: &str) -> Result<Sku, AppError> {
    Sku::parse(sku.trim()).map_err(|_| invalid(format!("`{sku}` is not a SKU")))
}

fn location_id(id: &str) -> Result<LocationId, AppError> {
    LocationId::parse(id).map_err(|_| invalid(format!("`{id}` is not a location")))
}

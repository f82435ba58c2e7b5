//! The IPC contract: every payload the UI sends or receives. These are the
//! app's own view models (shaped for the screens, names resolved, distances
//! computed), not the server's wire types, so the backend behind them (the
//! server today, the offline cache later) can change without the UI noticing.
//!
//! `ui/src/generated/ipc.ts` is generated from these types by the test
//! `ipc_types_are_up_to_date` (run it with `AISLE_UPDATE_IPC_TYPES=1` to
//! rewrite the file); the test fails when the checked-in file is stale.

use serde::{Deserialize, Serialize};

#[cfg(test)]
use ts_rs::TS;

/// An amount in integer minor units of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

/// The UI's languages; also the customer's language on an order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    En,
    Fr,
    De,
}

// --- app and sync status -------------------------------------------------

/// The store this device works for, and where its data comes from.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct AppInfo {
    pub store: StoreRef,
    /// The channel orders taken in the store are placed on.
    pub channel: String,
    /// `embedded` (the bundled server) or `central`.
    pub backend: BackendKind,
    /// The channel's stores, for click & collect elsewhere (this one first,
    /// then by name).
    pub stores: Vec<StoreRef>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct StoreRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    Embedded,
    Central,
}

/// Where the device is in its setup (the pairing screen's gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum PairingPhase {
    /// First start, or the kept pairing no longer works: pair (or choose
    /// the built-in demo server).
    NeedsPairing,
    Starting,
    Ready,
    /// The OMS core could not be started or reached (`message` says why).
    Failed,
}

/// Why a device that was set up needs pairing again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum PairingReason {
    /// The server no longer accepts the device's token (revoked, or its
    /// data was reset).
    Revoked,
    /// No pairing kept for this server (not in the keyring, or paired with
    /// another server).
    NotPaired,
    /// No OS keyring to read the token from.
    NoKeyring,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct PairingState {
    pub phase: PairingPhase,
    /// Why pairing is needed again, for the UI to say in its language.
    pub reason: Option<PairingReason>,
    /// Why pairing is needed (revoked, not in the keyring…) or why it failed.
    pub message: Option<String>,
    /// The central server paired with, or to pair with (e.g. from
    /// `AISLE_SERVER_URL`); none for the built-in server.
    pub server_url: Option<String>,
    pub mode: BackendKind,
}

/// What the pairing screen sends to pair with a central server.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct PairingInput {
    pub server_url: String,
    pub code: String,
    pub device_label: String,
}

/// Connection and sync state: the sync engine's (`aisle_sync::SyncStatus`;
/// `From` below) once this device is paired, before that the OMS core's
/// reachability with nothing queued.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct SyncStatus {
    pub connectivity: Connectivity,
    /// Last successful exchange with the OMS core (RFC 3339).
    pub last_sync_at: Option<String>,
    /// Actions queued on this device, not yet answered by the core.
    pub pending: u64,
    /// Actions the core refused that staff have not dismissed.
    pub refused: u64,
    /// The last failure (why the core is unreachable), in plain words.
    pub last_error: Option<String>,
    /// Something staff should know about this device, in plain words (e.g.
    /// "No keyring: this device must pair again at next start.").
    #[serde(default)]
    pub notice: Option<String>,
}

/// Whether the core is reachable, as last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// Not known yet (the embedded server is starting).
    Unknown,
    Online,
    Offline,
    /// A push or pull is running.
    Syncing,
}

impl From<&aisle_sync::SyncStatus> for SyncStatus {
    fn from(status: &aisle_sync::SyncStatus) -> Self {
        Self {
            connectivity: match status.connectivity {
                aisle_sync::Connectivity::Unknown => Connectivity::Unknown,
                aisle_sync::Connectivity::Online => Connectivity::Online,
                aisle_sync::Connectivity::Offline => Connectivity::Offline,
                aisle_sync::Connectivity::Syncing => Connectivity::Syncing,
            },
            last_sync_at: status.last_sync_at.clone(),
            pending: status.pending,
            refused: status.refused,
            last_error: status.last_error.clone(),
            notice: None,
        }
    }
}

/// An action queued in this device's outbox (applied locally at once, sent
/// to the core when it answers).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct QueuedAction {
    /// The local mutation id (gapless on this device).
    pub mutation_id: u64,
    /// The local reference to show on the receipt (e.g. `pending-12`).
    pub reference: String,
}

/// What placing an order did: placed by the core now (its order), or queued
/// because the core is unreachable.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(untagged)]
pub enum PlaceOutcome {
    Placed(Box<OrderDetail>),
    Queued(QueuedAction),
}

/// An action the core refused, with its reason (for staff).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct RefusedAction {
    pub mutation_id: u64,
    /// `place_order`, `carry_out_sale`, …
    pub kind: String,
    pub reason: String,
    pub created_at: String,
}

// --- catalogue, stock, ATP ------------------------------------------------

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ProductSummary {
    pub sku: String,
    pub name: String,
    pub brand: String,
    /// `standard`, `bulky` or `fragile`.
    pub product_type: String,
    pub barcodes: Vec<String>,
    pub price: Money,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ProductPage {
    pub items: Vec<ProductSummary>,
    pub next_cursor: Option<String>,
}

/// What a product search keeps (every filter set must hold).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct SearchFilters {
    /// Exactly this brand.
    pub brand: Option<String>,
    /// Exactly this product type (`standard`, `bulky`, `fragile`).
    pub product_type: Option<String>,
    /// Only products with units available in this store (its cached stock
    /// with the effect of actions queued here).
    pub in_stock_here: bool,
}

/// The values the search filters offer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct SearchFilterValues {
    pub brands: Vec<String>,
    pub product_types: Vec<String>,
    /// Whether the search answers from this device's cache (filled by its
    /// first full pull); if not, from the OMS core.
    pub from_cache: bool,
}

/// A product with its stock here, nearby and in the whole network.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ProductDetail {
    pub product: ProductSummary,
    /// This store's shelf.
    pub here: StockHere,
    /// Other stores holding available units, nearest first.
    pub nearby: Vec<NearbyStock>,
    /// Available units at every location of the network.
    pub network_available: u64,
    /// Locations holding available units.
    pub network_locations: u32,
    /// Unified stock per sales channel.
    pub channels: Vec<ChannelStock>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct StockHere {
    pub on_hand: i64,
    pub available: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct NearbyStock {
    pub location: String,
    pub name: String,
    pub distance_km: f64,
    pub available: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ChannelStock {
    pub channel: String,
    pub unified_stock: u64,
}

/// Where the customer wants the goods. A postal code (with its country) for
/// home delivery; a pickup store for click & collect (default: this store).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct DestinationInput {
    pub postal_code: Option<String>,
    /// ISO 3166 alpha-2, e.g. `FR`.
    pub country: Option<String>,
    pub pickup_store: Option<String>,
}

/// How the goods reach the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    HomeDelivery,
    PickupPoint,
    ClickAndCollect,
    ExpressClickAndCollect,
}

/// Why a delivery method cannot promise (the server's closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum UnavailableReason {
    MethodNotOffered,
    ProductTypeNotAllowed,
    NoAddress,
    NoPickupStore,
    PickupStoreNotAStore,
    PickupStoreCannotReceive,
    PickupStoreNoExpress,
    PickupStoreNotInChannel,
    OutOfStock,
    NoEligibleLocation,
    CapacityReached,
    NotOpenSoon,
    NoCarrierRoute,
    InsufficientStock,
}

/// Why units of an order line cannot be served (the server's closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum UnservableReason {
    MethodNotOffered,
    NoAddress,
    NoPickupStore,
    PickupStoreNotAStore,
    PickupStoreCannotReceive,
    PickupStoreNoExpress,
    PickupStoreNotInChannel,
    ProductTypeNotAllowed,
    OutOfStock,
    NoEligibleLocation,
    InsufficientStock,
    SplitNotAllowed,
    SplitLimitReached,
}

/// ATP of a product or a cart: one answer per delivery method.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct Availability {
    pub channel: String,
    pub methods: Vec<MethodAvailability>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct MethodAvailability {
    pub method: DeliveryMethod,
    pub possible: bool,
    pub reason: Option<UnavailableReason>,
    pub requested: u64,
    /// Units this method could deliver in all (product ATP; for a cart the
    /// smallest share of a line).
    pub quantity: u64,
    /// Delivered, or ready for pickup (local date).
    pub expected_date: Option<String>,
    /// Click & collect: when it is ready at the store (RFC 3339).
    pub ready_at: Option<String>,
    pub shipments: Vec<ShipmentView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ShipmentView {
    pub location: String,
    pub location_name: String,
    pub units: u64,
    pub expected_date: String,
}

// --- checkout -------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CartLineInput {
    pub sku: String,
    pub quantity: u32,
}

/// The methods offered at the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum CheckoutDelivery {
    /// Taken home now. Until offline sales exist this is placed as an
    /// express click & collect at this store, paid in store.
    CarryOut,
    HomeDelivery,
    ClickAndCollect,
    ExpressClickAndCollect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum PaymentChoice {
    /// Paid at the till.
    InStore,
    /// A payment link through the payment gateway.
    Gateway,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CustomerInput {
    /// A customer picked from the register (`search_customers`); none for
    /// details entered for this order only (offline, or a guest).
    pub id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Lang,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CheckoutInput {
    pub lines: Vec<CartLineInput>,
    pub customer: CustomerInput,
    pub delivery: CheckoutDelivery,
    pub destination: DestinationInput,
    pub payment: PaymentChoice,
    /// Made once per checkout attempt by the UI (a UUID): sending the same
    /// checkout again after a timeout answers the same order.
    pub idempotency_key: String,
}

// --- orders and fulfilments -----------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    PartiallyAllocated,
    Allocated,
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentStatus {
    AwaitingPreparation,
    InPreparation,
    ReadyForPickup,
    ReadyToShip,
    /// Shipped to the pickup store, not received there yet.
    InTransitToStore,
    PickedUp,
    Shipped,
    Cancelled,
    Rejected,
}

/// A line of a fulfilment, with the product's name and barcodes (the pick
/// list scans them).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct PickLine {
    pub line: u32,
    pub sku: String,
    pub name: String,
    pub barcodes: Vec<String>,
    pub quantity: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct FulfilmentDetail {
    pub id: String,
    pub order_id: String,
    pub location: String,
    pub location_name: String,
    pub delivery: DeliveryMethod,
    /// Collected at this location (rather than shipped).
    pub handover: bool,
    /// Click & collect served by another location: the pickup store the
    /// parcel goes to (received and handed over there), and its name.
    pub ship_to: Option<String>,
    pub ship_to_name: Option<String>,
    pub status: FulfilmentStatus,
    pub due_at: String,
    pub expected_date: String,
    pub tracking: Option<String>,
    pub lines: Vec<PickLine>,
}

/// A page of the store's queue, most urgent first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass back to get the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// A row of the store's queue.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct QueueItem {
    pub id: String,
    pub order_id: String,
    pub delivery: DeliveryMethod,
    pub handover: bool,
    pub status: FulfilmentStatus,
    pub due_at: String,
    pub units: u32,
    pub lines: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct LineFoundInput {
    pub line: u32,
    pub found: u32,
}

/// A step of a fulfilment.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepInput {
    StartPreparation,
    ReportMissing {
        lines: Vec<LineFoundInput>,
    },
    MarkReady,
    Ship,
    HandOver {
        pickup_code: String,
    },
    /// A parcel shipped to this store arrived (ship-to-store).
    ReceiveAtStore,
    Cancel,
}

/// Units of a line that went elsewhere, or nowhere.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct UnservableView {
    pub line: u32,
    pub sku: String,
    pub missing: u32,
    pub reason: UnservableReason,
}

/// A fulfilment of an order, briefly.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct FulfilmentSummary {
    pub id: String,
    pub location: String,
    pub location_name: String,
    pub delivery: DeliveryMethod,
    pub handover: bool,
    pub status: FulfilmentStatus,
    pub expected_date: String,
    pub lines: Vec<PickLine>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct StepOutcome {
    pub fulfilment: FulfilmentDetail,
    pub order_status: OrderStatus,
    /// Fulfilments that took over missing units.
    pub rerouted: Vec<FulfilmentSummary>,
    pub unservable: Vec<UnservableView>,
    /// Plain sentences from the server: where the missing units went and why.
    pub explanation: Vec<String>,
}

/// A shipping label saved as a PDF file.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct LabelFile {
    pub path: String,
    /// Whether the system's PDF viewer was started (to print from it).
    pub opened: bool,
}

// --- customers and receipts -------------------------------------------------

/// A customer of the register, as the picker lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct CustomerHit {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Lang,
}

/// A new customer for the register: a name and an e-mail or a phone.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct NewCustomerInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Lang,
}

/// The customer to use after "save customer".
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct CustomerSaved {
    pub customer: CustomerHit,
    /// The e-mail address was registered already: this is that customer and
    /// nothing was created.
    pub existing: bool,
}

/// A receipt queued to the customer by e-mail.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ReceiptSent {
    pub to: String,
    /// `pending` (queued in the core's outbox) or `delivered`.
    pub delivery: String,
}

/// A page of order search results, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct OrderHitPage {
    pub items: Vec<OrderHit>,
    /// Pass back to get the next page; none on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct OrderHit {
    pub id: String,
    pub status: OrderStatus,
    pub channel: String,
    pub customer_name: String,
    pub placed_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct CustomerView {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Lang,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct OrderLineDetail {
    pub line: u32,
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
    /// Units delivered and not yet returned.
    pub returnable: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct PaymentLine {
    /// `authorise`, `capture`, `void`, `refund`…
    pub kind: String,
    pub amount: Money,
    pub status: String,
    /// Where the customer pays (a payment link the gateway made; the core
    /// sent it to the customer).
    pub link: Option<String>,
    /// While pending, why, in the core's words (shown as a detail only).
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    ChangedMind,
    DoesNotFit,
    Defective,
    DamagedInTransit,
    NotAsDescribed,
    WrongItem,
    ArrivedLate,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum ItemCondition {
    Resaleable,
    Damaged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum Restock {
    Sellable,
    Quarantine,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct RefundLineView {
    pub line: u32,
    pub sku: String,
    pub quantity: u32,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
    pub refund: Money,
    pub restock: Restock,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct ReturnReceipt {
    pub id: String,
    pub order_id: String,
    pub location: String,
    pub lines: Vec<RefundLineView>,
    pub shipping_refund: Money,
    pub total_refund: Money,
    pub received_at: String,
}

/// An order with what the counter needs: lines, where each part is, the
/// decision trace in plain language, payments and returns.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct OrderDetail {
    pub id: String,
    pub status: OrderStatus,
    pub channel: String,
    pub delivery: DeliveryMethod,
    pub customer: CustomerView,
    pub payment: PaymentChoice,
    pub placed_at: String,
    pub lines: Vec<OrderLineDetail>,
    pub shipping_fee: Money,
    pub total: Money,
    pub fulfilments: Vec<FulfilmentSummary>,
    pub unservable: Vec<UnservableView>,
    /// The orchestration explained: placement first, then each
    /// re-orchestration, in the language asked.
    pub explanation: Vec<String>,
    pub payments: Vec<PaymentLine>,
    pub returns: Vec<ReturnReceipt>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct ReturnLineInput {
    pub line: u32,
    pub quantity: u32,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct ReturnInput {
    pub order_id: String,
    pub lines: Vec<ReturnLineInput>,
}

/// Converts between two types with the same JSON form (the server's enums
/// and their IPC mirrors): the closed sets must agree, and the tests check
/// every variant.
pub fn convert<A: Serialize, B: serde::de::DeserializeOwned>(
    value: &A,
) -> Result<B, crate::error::AppError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| {
            crate::error::AppError::new(
                crate::error::ErrorCode::Internal,
                format!("the server sent a value this app does not know: {e}"),
            )
        })
}

// --- staff sign-in and returns without receipt --------------------------------

/// A member of this store's staff as the sign-in screen lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct StaffMemberView {
    pub id: String,
    pub name: String,
    pub role: StaffRole,
    /// Signed in on this device within the offline window, so they may sign
    /// in again while the core is unreachable.
    pub offline_ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    StoreManager,
    StoreAssociate,
}

/// The store's staff; `offline` when the list is the one kept from the last
/// time the core answered.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct StaffList {
    pub members: Vec<StaffMemberView>,
    pub offline: bool,
}

/// Who is signed in on this device.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct SignedInStaff {
    pub member: StaffMemberView,
    /// Signed in against the hash kept on this device (the core was
    /// unreachable).
    pub offline: bool,
}

/// What a PIN did: signed in, or why not.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SignInOutcome {
    SignedIn {
        staff: SignedInStaff,
    },
    /// Wrong PIN (or unknown member); attempts left before the lock-out
    /// when the core said.
    WrongPin {
        attempts_left: Option<u32>,
    },
    /// Too many wrong PINs: wait this many minutes (or ask a manager).
    LockedOut {
        minutes: Option<u32>,
    },
    /// The core is unreachable and this member has not signed in on this
    /// device recently: no offline sign-in.
    OfflineNotAllowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum RefundMethod {
    Cash,
    StoreCredit,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct NoReceiptLineInput {
    pub sku: String,
    pub quantity: u32,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
}

/// A return without receipt, with the approving manager and their PIN
/// (checked by the core, never by the app). One idempotency key per
/// attempt, kept by the UI across retries of the same attempt.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct NoReceiptInput {
    pub lines: Vec<NoReceiptLineInput>,
    pub refund_method: RefundMethod,
    pub manager_id: String,
    pub manager_pin: String,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct NoReceiptLineView {
    pub sku: String,
    pub quantity: u32,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
    pub refund: Money,
    pub restocked: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct NoReceiptReceipt {
    pub id: String,
    pub lines: Vec<NoReceiptLineView>,
    pub total_refund: Money,
    pub refund_method: RefundMethod,
    /// The manager who approved, by name.
    pub approved_by: String,
    pub received_at: String,
}

/// What the core did with a return without receipt.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum NoReceiptOutcome {
    Recorded {
        receipt: NoReceiptReceipt,
    },
    WrongPin {
        attempts_left: Option<u32>,
    },
    LockedOut {
        minutes: Option<u32>,
    },
    /// The approver is not a manager of this store.
    NotAManager,
}

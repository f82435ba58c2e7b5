//! Available-to-promise: for a channel, a destination and an instant, what
//! each delivery method can promise for one product or a whole cart — how
//! many units, from which locations, in how many shipments and by when.
//!
//! ATP is read-only and answers from a [`StockIndex`]. The rules:
//!
//! - Only stock the channel sells at that instant counts (periods may take
//!   locations out of a channel), net of reserved and safety stock.
//! - **Home delivery** and **pickup point** ship from locations that can ship
//!   (`ship_to_home`, or `ship_from_store` for a store) and whose kind the
//!   product type allows; the date is the dispatch date plus the carrier's
//!   business days from the location's zone to the address's zone (plus the
//!   relay's extra days for a pickup point).
//! - **Click & collect (ship-to-store)** ships the same way to the chosen
//!   store (which must receive parcels); the order is ready once the store,
//!   open on or after the arrival day, has prepared it.
//! - **Express click & collect** takes the chosen store's own shelf, ready
//!   after its preparation time within its opening hours.
//! - A location at its daily order cap takes no more orders that local day.
//! - Timing, in each location's own time zone: preparation takes the
//!   location's lead time within one opening interval of an open day
//!   (starting when the order arrives, or at the next opening); an order
//!   placed before the cut-off on the day it is prepared leaves that day,
//!   otherwise on the next working day; carriers count business days
//!   (Monday to Friday). A location that cannot open within 60 days
//!   promises nothing.
//!
//! A method's plan uses the fewest shipments, then the earliest latest date.
//! For one product this is exact; for a cart of several lines a single
//! shipment is found exactly when one exists, otherwise the shipments come
//! from a greedy set cover (each step takes the location that completes the
//! most lines, then supplies the most units), which may use more shipments
//! than the optimum. A cart's date is its latest shipment's date.

mod evaluate;
mod plan;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::model::{
    CarrierZone, ChannelId, Coordinates, CountryCode, DeliveryMethod, LocationId, Quantity, Sku,
};
use crate::stock::IndexError;
#[cfg(doc)]
use crate::stock::StockIndex;

pub use evaluate::{cart_atp, product_atp};

/// A customer's address, as far as delivery is concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub coordinates: Coordinates,
    pub postal_code: String,
    pub country: CountryCode,
    pub carrier_zone: CarrierZone,
}

/// Where the goods should go: an address (home delivery, pickup point), a
/// pickup store (click & collect), or both to answer every method at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub pickup_store: Option<LocationId>,
}

impl Destination {
    pub fn address(address: Address) -> Self {
        Self {
            address: Some(address),
            pickup_store: None,
        }
    }

    pub fn pickup_store(store: LocationId) -> Self {
        Self {
            address: None,
            pickup_store: Some(store),
        }
    }
}

/// The question's context: which channel sells, where to, and when the
/// customer asks ("now" is a parameter; ATP never reads a clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtpRequest {
    pub channel: ChannelId,
    pub destination: Destination,
    pub at: Timestamp,
}

/// One line of a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Why a delivery method cannot promise. A closed set, so clients match
/// codes, never strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnavailableReason {
    /// The channel does not sell with this method.
    MethodNotOffered,
    /// The product type rules out this method (a bulky item to a relay).
    ProductTypeNotAllowed,
    /// The method needs an address and the request has none.
    NoAddress,
    /// The method needs a pickup store and the request has none.
    NoPickupStore,
    /// The chosen pickup location is not a store.
    PickupStoreNotAStore,
    /// The chosen store does not receive ship-to-store parcels.
    PickupStoreCannotReceive,
    /// The chosen store does not offer express click & collect.
    PickupStoreNoExpress,
    /// The chosen store's stock is not sold by this channel at this instant.
    PickupStoreNotInChannel,
    /// No unit available at any location the channel sells at this instant.
    OutOfStock,
    /// Stock exists, but no location holding it may serve this method
    /// (capability, or a product type its kind may not ship).
    NoEligibleLocation,
    /// Every eligible location holding stock has reached its daily cap.
    CapacityReached,
    /// No eligible location holding stock opens within the horizon.
    NotOpenSoon,
    /// The carrier has no route from the eligible locations to the destination.
    NoCarrierRoute,
    /// Some units, fewer than requested.
    InsufficientStock,
}

/// A location that could serve the method, with what it has and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationOption {
    pub location: LocationId,
    pub units: u64,
    pub expected_date: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
}

/// One parcel (or one pickup preparation) from one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub location: LocationId,
    pub lines: Vec<ShipmentLine>,
    /// Delivered (home, pickup point) or ready for pickup (click & collect).
    pub expected_date: Date,
    /// For click & collect: the instant the order is ready at the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    pub sku: Sku,
    pub quantity: u64,
}

/// What one delivery method can promise for one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodAnswer {
    pub method: DeliveryMethod,
    pub possible: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UnavailableReason>,
    pub requested: u64,
    /// Units this method could deliver in all (possibly in several shipments).
    pub quantity: u64,
    /// Locations that could serve, best first (earliest, then priority, then
    /// nearest).
    pub locations: Vec<LocationOption>,
    /// The plan for the requested quantity, when possible.
    pub shipments: Vec<Shipment>,
    pub single_shipment: bool,
    /// The latest shipment's date.
    pub expected_date: Option<Date>,
    /// The latest shipment's ready instant (click & collect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
}

/// ATP for one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAtp {
    pub sku: Sku,
    pub channel: ChannelId,
    pub at: Timestamp,
    pub unified_stock: u64,
    /// One answer per delivery method, in [`DeliveryMethod::ALL`] order.
    pub methods: Vec<MethodAnswer>,
}

/// A cart line through one delivery method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAnswer {
    pub sku: Sku,
    pub requested: u64,
    /// Units this method could deliver for the line.
    pub available: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UnavailableReason>,
    pub locations: Vec<LocationId>,
}

/// What one delivery method can promise for a whole cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartMethodAnswer {
    pub method: DeliveryMethod,
    pub possible: bool,
    /// The method's own reason, or the first failing line's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UnavailableReason>,
    pub lines: Vec<LineAnswer>,
    pub shipments: Vec<Shipment>,
    pub single_shipment: bool,
    pub expected_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
}

/// A cart line's unified stock in the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineStock {
    pub sku: Sku,
    pub requested: u64,
    pub unified_stock: u64,
}

/// ATP for a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartAtp {
    pub channel: ChannelId,
    pub at: Timestamp,
    /// Lines merged by SKU, in first-seen order.
    pub lines: Vec<CartLineStock>,
    pub methods: Vec<CartMethodAnswer>,
}

/// A question ATP cannot answer (as opposed to an answer of "not possible").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtpError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("the cart is empty")]
    EmptyCart,
    #[error("requested quantity of `{0}` is zero")]
    ZeroQuantity(Sku),
}

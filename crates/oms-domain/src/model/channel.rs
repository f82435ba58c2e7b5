//! Sales channels and the delivery methods they offer.

use serde::{Deserialize, Serialize};

use super::{ChannelId, CountryCode, Currency, LocationId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    WebShop,
    Marketplace,
    StoreNetwork,
}

/// How the customer gets the goods (DESIGN.md "Delivery methods").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// A carrier delivers to the customer's address, from a warehouse (or
    /// any shipping location) or a store that ships.
    HomeDelivery,
    /// A carrier delivers to a relay point near the customer's address.
    PickupPoint,
    /// Click & collect, ship-to-store: any location sends a parcel to the
    /// chosen store, where the customer collects it.
    ClickAndCollect,
    /// Express click & collect: the chosen store prepares the order from its
    /// own shelf, ready within its preparation time, only while it is open.
    ExpressClickAndCollect,
}

impl DeliveryMethod {
    /// Every method, in the order ATP answers list them.
    pub const ALL: [DeliveryMethod; 4] = [
        DeliveryMethod::HomeDelivery,
        DeliveryMethod::PickupPoint,
        DeliveryMethod::ClickAndCollect,
        DeliveryMethod::ExpressClickAndCollect,
    ];
}

/// A channel sells the stock of its locations (channel-defined unified stock)
/// through its delivery methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub name: String,
    pub kind: ChannelKind,
    pub currency: Currency,
    pub country: CountryCode,
    pub locations: Vec<LocationId>,
    pub delivery_methods: Vec<DeliveryMethod>,
}

//! Stock and delivery settings: safety stock, product-type rules and the
//! carrier transit table.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CarrierZone, DeliveryMethod, LocationId, LocationKind, ModelError, Quantity, Sku};

/// Units held back from sale. The most specific setting wins:
/// (location, SKU), then location, then global.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SafetyStock {
    pub global: Quantity,
    pub per_location: Vec<LocationSafety>,
    pub per_location_sku: Vec<LocationSkuSafety>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationSafety {
    pub location: LocationId,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationSkuSafety {
    pub location: LocationId,
    pub sku: Sku,
    pub quantity: Quantity,
}

/// How a product travels; rules restrict locations and delivery methods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductType {
    #[default]
    Standard,
    Bulky,
    Fragile,
}

impl ProductType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductType::Standard => "standard",
            ProductType::Bulky => "bulky",
            ProductType::Fragile => "fragile",
        }
    }
}

impl FromStr for ProductType {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "standard" => Ok(ProductType::Standard),
            "bulky" => Ok(ProductType::Bulky),
            "fragile" => Ok(ProductType::Fragile),
            other => Err(ModelError::UnknownProductType(other.to_owned())),
        }
    }
}

/// What a product type allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductTypeRule {
    /// Delivery methods the product may be sold with.
    pub delivery_methods: Vec<DeliveryMethod>,
    /// Kinds of location that may send it by carrier (home delivery, pickup
    /// point, ship-to-store). Express click & collect does not ship.
    pub ship_from: Vec<LocationKind>,
}

impl ProductTypeRule {
    pub fn allows_method(&self, method: DeliveryMethod) -> bool {
        self.delivery_methods.contains(&method)
    }

    pub fn allows_shipping_from(&self, kind: LocationKind) -> bool {
        self.ship_from.contains(&kind)
    }
}

/// One rule per product type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRules {
    pub standard: ProductTypeRule,
    pub bulky: ProductTypeRule,
    pub fragile: ProductTypeRule,
}

impl ProductRules {
    pub fn rule(&self, product_type: ProductType) -> &ProductTypeRule {
        match product_type {
            ProductType::Standard => &self.standard,
            ProductType::Bulky => &self.bulky,
            ProductType::Fragile => &self.fragile,
        }
    }
}

impl Default for ProductRules {
    /// Bulky goods leave only from warehouses, distribution centres and
    /// drop-shippers (stores have no freight handling) and never go to relay
    /// points; fragile goods are not sent by drop-shippers.
    fn default() -> Self {
        use DeliveryMethod::*;
        use LocationKind::*;
        Self {
            standard: ProductTypeRule {
                delivery_methods: DeliveryMethod::ALL.to_vec(),
                ship_from: LocationKind::ALL.to_vec(),
            },
            bulky: ProductTypeRule {
                delivery_methods: vec![HomeDelivery, ClickAndCollect, ExpressClickAndCollect],
                ship_from: vec![Warehouse, DistributionCentre, DropShipper],
            },
            fragile: ProductTypeRule {
                delivery_methods: DeliveryMethod::ALL.to_vec(),
                ship_from: vec![Warehouse, DistributionCentre, Store],
            },
        }
    }
}

/// Carrier transit times between zones, in business days (Monday to Friday).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitTable {
    /// Directed routes; a missing route means the carrier does not serve it.
    pub routes: Vec<TransitRoute>,
    /// Extra business days for a relay point to make a parcel available.
    #[serde(default)]
    pub pickup_point_extra_days: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitRoute {
    pub from: CarrierZone,
    pub to: CarrierZone,
    pub business_days: u8,
}

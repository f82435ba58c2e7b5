//! The retailer's network as plain data: the input from which a stock index
//! is built.

use serde::{Deserialize, Serialize};

use super::{Channel, Location, Period, ProductRules, SafetyStock, TransitTable};

/// Locations, channels, periods and settings: everything but stock levels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub locations: Vec<Location>,
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub periods: Vec<Period>,
    #[serde(default)]
    pub safety_stock: SafetyStock,
    #[serde(default)]
    pub transit: TransitTable,
    #[serde(default)]
    pub product_rules: ProductRules,
}

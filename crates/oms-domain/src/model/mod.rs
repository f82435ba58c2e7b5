//! The OMS vocabulary as types that can only hold valid values (parse, don't
//! validate): identifiers, quantities, money, locations, channels, periods
//! and stock settings.

mod channel;
mod ids;
mod location;
mod money;
mod network;
mod period;
mod quantity;
mod settings;

pub use channel::{Channel, ChannelKind, DeliveryMethod};
pub use ids::{CarrierZone, ChannelId, CountryCode, LocationId, Sku};
pub use location::{
    Capabilities, Coordinates, Location, LocationKind, OpeningInterval, TimeZoneName, WeeklyHours,
};
pub use money::{Currency, Money, MoneyError};
pub use network::Network;
pub use period::{Period, PeriodEffect, PeriodTarget};
pub use quantity::Quantity;
pub use settings::{
    LocationSafety, LocationSkuSafety, ProductRules, ProductType, ProductTypeRule, SafetyStock,
    TransitRoute, TransitTable,
};

/// A value that does not make a valid model type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("invalid {kind} `{value}`: {reason}")]
    InvalidIdentifier {
        kind: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("invalid quantity {0}: must be between 0 and 4294967295")]
    InvalidQuantity(i64),
    #[error("invalid currency `{0}`: expected three upper-case letters (ISO 4217)")]
    InvalidCurrency(String),
    #[error("invalid country `{0}`: expected two upper-case letters (ISO 3166-1)")]
    InvalidCountry(String),
    #[error("invalid coordinates ({lat}, {lon})")]
    InvalidCoordinates { lat: f64, lon: f64 },
    #[error("unknown IANA time zone `{0}`")]
    UnknownTimeZone(String),
    #[error("invalid opening hours: {0}")]
    InvalidOpeningHours(String),
    #[error("period `{0}` must end after it starts")]
    InvalidPeriod(String),
    #[error("unknown product type `{0}`: expected standard, bulky or fragile")]
    UnknownProductType(String),
}

//! JSON shapes of the oms-server HTTP API.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: String,
    /// The server's crate version.
    pub version: String,
    /// Unique per process start: lets a client tell its own server from a
    /// stale one that kept the port.
    pub instance_id: Uuid,
}

/// An amount of money in integer minor units (cents) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: Currency,
}

/// An ISO 4217 currency code (three upper-case ASCII letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"EUR");

    pub fn as_str(&self) -> &str {
        // The constructor only admits ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_bytes() {
            [a, b, c] if value.bytes().all(|b| b.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(format!("`{value}` is not an ISO 4217 currency code")),
        }
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product as the catalogue lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub brand: String,
    /// `standard`, `bulky` or `fragile`.
    pub product_type: String,
    pub barcodes: Vec<String>,
    pub price: Money,
}

/// `PUT /v1/products/{sku}`: create or replace a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductWrite {
    pub name: String,
    pub brand: String,
    /// `standard`, `bulky` or `fragile`.
    pub product_type: String,
    #[serde(default)]
    pub barcodes: Vec<String>,
    pub price: Money,
}

/// One page of a cursor-paginated list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/products`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductQuery {
    /// Matches name, brand (case-insensitive substrings), SKU or barcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// 1..=200; the server's default is 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Largest page a list endpoint returns.
pub const MAX_PAGE_LIMIT: u32 = 200;
/// Page size when the client does not ask for one.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;

/// An RFC 9457 problem: the body of every 4xx and 5xx answer
/// (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A stable, machine-readable code such as `invalid-query` (a relative
    /// URI reference, as RFC 9457 allows).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The domain's own serde types are the wire format for the network and ATP:
/// one definition, validated on deserialisation (parse, don't validate).
pub use oms_domain::atp::{Address, CartAtp, CartLine, Destination, ProductAtp, UnavailableReason};
pub use oms_domain::model::{
    Channel, ChannelId, DeliveryMethod, Location, LocationId, Quantity, Sku,
};

/// `POST /v1/atp/product`: can `quantity` units of `sku` reach `destination`
/// through `channel`, by which methods and when?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductAtpRequest {
    pub channel: ChannelId,
    pub sku: Sku,
    /// Defaults to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Quantity>,
    #[serde(default)]
    pub destination: Destination,
    /// The instant the customer asks at (RFC 3339); defaults to now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// `POST /v1/atp/cart`: the same question for a whole cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartAtpRequest {
    pub channel: ChannelId,
    pub lines: Vec<CartLine>,
    #[serde(default)]
    pub destination: Destination,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Most lines a cart ATP request may carry.
pub const MAX_CART_LINES: usize = 100;

/// One stock level as stored, with what is left to sell there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub sku: String,
    pub location: String,
    /// May be negative after carry-out sales of stock the system did not know.
    pub on_hand: i64,
    pub reserved: i64,
    /// max(0, on_hand − reserved − safety stock).
    pub available: u64,
    pub safety: u64,
}

/// `GET /v1/stock/{sku}`: a SKU's stock everywhere, and per channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuStock {
    pub sku: String,
    pub levels: Vec<StockLevel>,
    pub channels: Vec<ChannelStock>,
}

/// Unified stock of a SKU in one channel, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStock {
    pub channel: String,
    pub unified_stock: u64,
}

/// `GET /v1/changes?cursor=&limit=`: what changed after a position in the
/// change sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// The position after this page: pass it as `cursor` next time (also
    /// when nothing changed — it is then the same as the one sent).
    pub cursor: String,
    /// Whether more changes are waiting beyond this page.
    pub has_more: bool,
}

/// One changed entity in its current state. Entities changed several times
/// appear once, at their latest sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub seq: i64,
    #[serde(flatten)]
    pub entity: ChangedEntity,
}

/// The entity kinds of the change sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entity", content = "data", rename_all = "snake_case")]
pub enum ChangedEntity {
    Product(Product),
    Location(Box<Location>),
    Channel(Channel),
    Stock(StockLevelChange),
}

/// A stock level as the change sequence carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevelChange {
    pub sku: String,
    pub location: String,
    pub on_hand: i64,
    pub reserved: i64,
}

/// Query of `GET /v1/changes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeQuery {
    /// Absent: from the beginning (a full first sync).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Query of list endpoints paginated by cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_accepts_only_iso_codes() {
        assert_eq!(Currency::try_from("EUR".to_owned()), Ok(Currency::EUR));
        for bad in ["eur", "EU", "EURO", "E1R", ""] {
            assert!(Currency::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn problem_uses_rfc_field_names() {
        let problem = Problem {
            kind: "invalid-query".into(),
            title: "Invalid query".into(),
            status: 400,
            detail: None,
        };
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "invalid-query");
        assert!(json.get("detail").is_none());
    }
}

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

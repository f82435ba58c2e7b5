//! JSON shapes of the oms-server HTTP API.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::customers::*;
pub use crate::orders::*;
pub use crate::sync::*;

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

/// A product's own price on one channel (it wins over the catalogue price
/// for orders on that channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPrice {
    pub channel: String,
    pub price: Money,
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
    /// Only this brand (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Only this product type (`standard`, `bulky`, `fragile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// Only products with units on hand beyond those reserved at this
    /// location (store roles: their own store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock_at: Option<String>,
}

/// `GET /v1/product-facets`: the values a product search can filter on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFacets {
    /// Every brand of the catalogue, sorted.
    pub brands: Vec<String>,
    /// Every product type in use, sorted.
    pub product_types: Vec<String>,
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
    /// For a paired device: the last of its mutations the core applied
    /// (outbox rows up to it can be dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_mutation_id: Option<u64>,
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
    /// An order was placed or changed (fetch `/v1/orders/{id}` for all of it).
    Order(OrderSummary),
    Fulfilment(Box<FulfilmentView>),
    /// A task for a store's staff (discrepancy, offline order outcome).
    Task(StoreTask),
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

/// Format of a stock feed's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    /// A header line `location,sku,on_hand` (snapshot) or `location,sku,delta`
    /// (delta), then one row per line.
    Csv,
    /// One JSON object per line: `{"location","sku","on_hand"}` or
    /// `{"location","sku","delta"}`.
    Jsonl,
}

/// What a stock feed's quantities mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedMode {
    /// The listed locations' on-hand stock becomes exactly the feed: their
    /// SKUs absent from the feed go to 0.
    Snapshot,
    /// Each row adds its `delta` (possibly negative) to on-hand stock.
    Delta,
}

/// Query of `POST /v1/stock/feeds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    pub format: FeedFormat,
    pub mode: FeedMode,
    /// The job id to follow at `GET /v1/jobs/{id}` while uploading; the
    /// server makes one up when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Uuid>,
}

/// Why a feed row was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalCode {
    /// A column or field this feed does not take (the CSV header line, or a
    /// JSON object).
    UnknownField,
    /// A required column or field is absent or empty.
    MissingField,
    /// The quantity is not a whole number within ±1,000,000,000.
    BadNumber,
    /// A snapshot quantity below zero.
    NegativeQuantity,
    UnknownSku,
    UnknownLocation,
    /// The (location, SKU) already appeared on an earlier line of this feed.
    Duplicate,
    /// Not a CSV row / JSON object at all, a wrong field count, invalid
    /// UTF-8, or a line longer than 4 KiB.
    Malformed,
}

/// One refused row of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRow {
    /// 1-based line in the body (a CSV header is line 1).
    pub line: u64,
    pub code: RefusalCode,
    pub message: String,
}

/// Whether a feed changed stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedStatus {
    /// Every row was valid and the whole feed was applied.
    Applied,
    /// At least one row was refused: nothing was applied.
    Rejected,
}

/// Most refused rows a report lists (`refused_total` counts them all).
pub const MAX_REFUSED_LISTED: usize = 1_000;

/// The answer to a stock feed: 200 when applied; when rejected, the same
/// fields inside a 422 `feed-rejected` problem ([`FeedRejection`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedReport {
    pub job: Uuid,
    pub mode: FeedMode,
    pub format: FeedFormat,
    /// Data rows read (blank lines and the CSV header excluded).
    pub rows_read: u64,
    /// Rows applied: `rows_read` when applied, 0 when rejected.
    pub rows_applied: u64,
    /// Stock rows whose on-hand value changed (each got the feed's change
    /// sequence number), including rows a snapshot set to 0.
    pub rows_changed: u64,
    /// The first refused rows, in line order (at most
    /// [`MAX_REFUSED_LISTED`]).
    pub refused: Vec<RefusedRow>,
    pub refused_total: u64,
    pub status: FeedStatus,
}

/// The 422 body of a rejected feed: a problem (`type: feed-rejected`) that
/// also carries the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedRejection {
    #[serde(flatten)]
    pub problem: Problem,
    pub report: FeedReport,
}

/// Kinds of long-running jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    StockFeed,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Running,
    Applied,
    Rejected,
    /// The upload broke off, was too large, or the server failed: nothing
    /// was applied (see `detail`).
    Failed,
}

/// `GET /v1/jobs/{id}`: a job's progress, and its report once finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: Uuid,
    pub kind: JobKind,
    pub status: JobStatus,
    /// Lines read so far.
    pub rows_done: u64,
    /// Body bytes read so far.
    pub bytes_done: u64,
    /// The body's size, when the upload announced it (`Content-Length`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_total: Option<u64>,
    /// Present once applied or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<FeedReport>,
    /// Why a job failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// RFC 3339; absent while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// Format of a unified stock export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `sku,unified_stock` then one line per SKU.
    Csv,
    /// A [`UnifiedStockExport`] document.
    Json,
}

/// Query of `GET /v1/channels/{id}/unified-stock`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub format: ExportFormat,
    /// The instant (RFC 3339) unified stock is computed for; default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// `GET /v1/channels/{id}/unified-stock?format=json`: every catalogue SKU's
/// unified stock in a channel, in SKU order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnifiedStockExport {
    pub channel: String,
    /// The instant the figures are for (RFC 3339).
    pub at: String,
    pub items: Vec<UnifiedStockLine>,
}

/// One SKU of a unified stock export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnifiedStockLine {
    pub sku: String,
    pub unified_stock: u64,
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

    #[test]
    fn a_feed_rejection_reads_as_a_problem_too() {
        let rejection = FeedRejection {
            problem: Problem {
                kind: "feed-rejected".into(),
                title: "Feed rejected".into(),
                status: 422,
                detail: None,
            },
            report: FeedReport {
                job: Uuid::nil(),
                mode: FeedMode::Delta,
                format: FeedFormat::Jsonl,
                rows_read: 1,
                rows_applied: 0,
                rows_changed: 0,
                refused: vec![RefusedRow {
                    line: 1,
                    code: RefusalCode::UnknownSku,
                    message: "x".into(),
                }],
                refused_total: 1,
                status: FeedStatus::Rejected,
            },
        };
        let json = serde_json::to_value(&rejection).unwrap();
        assert_eq!(json["type"], "feed-rejected");
        assert_eq!(json["report"]["refused"][0]["code"], "unknown-sku");
        let problem: Problem = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(problem.status, 422);
        assert_eq!(
            serde_json::from_value::<FeedRejection>(json).unwrap(),
            rejection
        );
    }
}

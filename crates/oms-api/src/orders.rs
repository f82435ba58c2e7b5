//! JSON shapes of orders, fulfilments, rule sets and returns (re-exported by
//! [`crate::wire`]). The domain's serde types are the wire format wherever
//! they exist (traces, plans, statuses, events).

use serde::{Deserialize, Serialize};

pub use oms_domain::lifecycle::{
    Actor, CustomerStatus, FulfilmentId, FulfilmentStatus, LineFound, OrderStatus, PaymentKind,
    RecordedEvent,
};
pub use oms_domain::model::Money as Amount;
pub use oms_domain::orchestration::{
    Discount, LineId, OrderId, PlannedLine, RuleSet, Trace, UnservableLine,
};

pub use oms_domain::returns::{
    ItemCondition, RefundLine, ReturnId, ReturnLine, ReturnReason, StockMovement,
};

use oms_domain::atp::Destination;
use oms_domain::model::{ChannelId, Currency, DeliveryMethod, LocationId, Quantity, Sku};

/// Most lines an order may carry.
pub const MAX_ORDER_LINES: usize = 100;

/// The customer's language: notifications and explanations use it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Fr,
    De,
}

/// Who ordered, and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The registered customer (`GET /v1/customers`) this order belongs to.
    /// Without it, a placement links the order to the registered customer
    /// with the same e-mail address, if any; it never creates one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default)]
    pub language: Language,
}

/// How the order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Authorised, captured, voided and refunded through the payment gateway.
    Gateway,
    /// Paid at the store's till: recorded, nothing is sent to a gateway.
    InStore,
}

/// One line of a new order: the price comes from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// `POST /v1/orders` (with an `Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub channel: ChannelId,
    pub delivery: DeliveryMethod,
    #[serde(default)]
    pub destination: Destination,
    pub customer: Customer,
    pub lines: Vec<PlaceOrderLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Discount>,
    pub payment: PaymentMethod,
    /// Accept the order when only some units can be served (the rest is
    /// listed as unservable); by default such an order is refused whole.
    #[serde(default)]
    pub accept_partial: bool,
    /// When the customer ordered (RFC 3339), for orders taken offline or
    /// imported late; defaults to now, never in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_at: Option<String>,
}

/// A line of an order as stored: priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineView {
    pub id: LineId,
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price: Amount,
}

/// A fulfilment: one location's part of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfilmentView {
    pub id: FulfilmentId,
    pub order: OrderId,
    pub location: LocationId,
    pub delivery: DeliveryMethod,
    /// Handed over at this location (click & collect from its own shelf)
    /// rather than shipped.
    pub handover: bool,
    /// Click & collect served by another location: the pickup store the
    /// parcel is shipped to (received and handed over there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<LocationId>,
    pub status: FulfilmentStatus,
    pub lines: Vec<PlannedLine>,
    /// Delivered (shipping) or ready for pickup (click & collect), local date.
    pub expected_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<String>,
    /// When the location should have it ready or gone (the queue's order).
    pub due_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
}

/// A payment instruction and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub kind: PaymentKind,
    pub amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `pending`, `succeeded`, `declined` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
    /// Where the customer pays: a pay-by-link gateway's page, sent to the
    /// customer once the gateway answered the authorisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Why it is not done yet (e.g. no payment gateway configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// An order with everything customer service needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: OrderId,
    pub status: OrderStatus,
    pub channel: ChannelId,
    pub delivery: DeliveryMethod,
    pub destination: Destination,
    pub customer: Customer,
    pub payment: PaymentMethod,
    pub currency: Currency,
    pub lines: Vec<OrderLineView>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Discount>,
    pub shipping_fee: Amount,
    pub total: Amount,
    pub placed_at: String,
    pub fulfilments: Vec<FulfilmentView>,
    /// Units no location could serve, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unservable: Vec<UnservableLine>,
    /// The decision traces: placement first, then each re-orchestration.
    /// Left out of the answer to a placement (ask `GET /v1/orders/{id}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traces: Vec<Trace>,
    /// The traces in plain sentences, in the language asked (`?lang=`) or
    /// the customer's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
    pub payments: Vec<PaymentView>,
    /// Returns received, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<ReturnView>,
}

/// An entry of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub event: RecordedEvent,
}

/// `GET /v1/orders/{id}/timeline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub order: OrderId,
    pub events: Vec<TimelineEntry>,
}

/// A step of a fulfilment, `POST /v1/fulfilments/{id}/steps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FulfilmentStep {
    StartPreparation,
    /// The picker found fewer units than planned for these lines: the stock
    /// is corrected and the missing units are re-orchestrated elsewhere.
    ReportMissing {
        lines: Vec<LineFound>,
    },
    /// Packed (shipping: a label is printed) or put aside for pickup (a
    /// pickup code is sent to the customer).
    MarkReady,
    Ship {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking: Option<String>,
    },
    /// The customer collected it; the code they were sent must match.
    HandOver {
        pickup_code: String,
    },
    /// The pickup store received a parcel shipped to it (ship-to-store): a
    /// pickup code is sent to the customer.
    ReceiveAtStore,
    Cancel,
}

/// The answer to a fulfilment step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub fulfilment: FulfilmentView,
    pub order_status: OrderStatus,
    /// New fulfilments that took over missing units (report_missing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rerouted: Vec<FulfilmentView>,
    /// Missing units no other location could serve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unservable: Vec<UnservableLine>,
    /// Plain sentences: where the missing units went and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}

/// `POST /v1/orders/{id}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Only these lines (their units not yet shipped or handed over are
    /// released; the rest of the order goes on). Empty: the whole order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineId>,
}

/// Query of `GET /v1/orders`: search by number, e-mail, phone or name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// An order in a search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: OrderId,
    pub status: OrderStatus,
    pub channel: ChannelId,
    pub customer_name: String,
    pub placed_at: String,
}

/// Query of `GET /v1/locations/{id}/fulfilments`: the store's queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueQuery {
    /// Only these statuses (comma-separated); default: the open ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A rule set version with its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSetVersion {
    pub rule_set: RuleSet,
    pub active: bool,
    pub created_at: String,
    pub created_by: String,
}

/// A notification rendered for the customer, as sent (or to be sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    #[serde(default)]
    pub kind: crate::customers::NotificationKind,
    /// The status announced (`kind: status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CustomerStatus>,
    pub language: Language,
    pub subject: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_phone: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub delivery: String,
}

/// `POST /v1/orders/{id}/returns`: items brought back to a location that
/// accepts returns, each line with its reason and condition. The return is
/// received at once: refund computed and sent, items restocked or
/// quarantined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturn {
    pub location: LocationId,
    pub lines: Vec<ReturnLine>,
}

/// A received return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnView {
    pub id: ReturnId,
    pub order: OrderId,
    pub location: LocationId,
    pub lines: Vec<RefundLine>,
    pub shipping_refund: Amount,
    pub total_refund: Amount,
    pub stock_movements: Vec<StockMovement>,
    pub received_at: String,
}

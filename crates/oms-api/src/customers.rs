//! JSON shapes of the customer register and of receipts (re-exported by
//! [`crate::wire`]).
//!
//! The register holds the customers a store created on purpose (find or
//! create at the checkout). An order keeps its own copy of the customer's
//! contact details; it links to a registered customer by `customer.id`, or —
//! when placed without one — by the e-mail address of a registered customer.
//! A placement never creates a register entry, so the same e-mail never
//! makes two customers.

use serde::{Deserialize, Serialize};

use crate::orders::Language;
use crate::wire::Problem;
use oms_domain::model::LocationId;

/// A customer of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerView {
    /// `C-` and 8 characters without look-alikes.
    pub id: String,
    pub name: String,
    /// Lower-case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Digits, with a leading `+` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub language: Language,
    pub created_at: String,
}

/// `POST /v1/customers`: a name, and an e-mail address or a phone number
/// (or both) to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default)]
    pub language: Language,
}

/// Query of `GET /v1/customers`: the start of a name (or of one of its
/// words), of an e-mail address, or a phone number's digits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The 409 `duplicate-customer` answer to `POST /v1/customers`: a customer
/// with this e-mail address exists; pick it instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateCustomer {
    #[serde(flatten)]
    pub problem: Problem,
    pub existing: CustomerView,
}

/// What `POST /v1/customers` did (client side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerCreated {
    /// A new customer (201).
    Created(CustomerView),
    /// The e-mail address belongs to this registered customer (409
    /// `duplicate-customer`): nothing was written.
    Existing(CustomerView),
}

/// Query of `GET /v1/orders/{id}/receipt`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptQuery {
    /// The receipt's language; default the customer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Language>,
    /// The store printed at the top; default the caller's store (store
    /// roles), else the order's pickup store, else the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<LocationId>,
}

/// `POST /v1/orders/{id}/receipt/email`: the receipt, queued to the
/// customer through the notification outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailReceipt {
    /// Another address than the order's (the customer asks at the till).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Language>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<LocationId>,
}

/// What a customer notification is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A change of the order's customer-visible status.
    #[default]
    Status,
    /// The receipt, sent on request (the PDF is attached).
    Receipt,
    /// The payment gateway's link where the customer pays the order.
    PaymentLink,
}

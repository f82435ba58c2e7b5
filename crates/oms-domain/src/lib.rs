//! The OMS rules, pure.
//!
//! This crate is the heart of Aisle: stock, available-to-promise,
//! orchestration, the order and fulfilment state machines, returns and money.
//! It does no I/O, reads no clock (every rule takes "now" as a parameter) and
//! depends on no async runtime, database, HTTP or UI crate — `cargo xtask test`
//! checks that with `cargo tree`.
//!
//! # Public API
//!
//! - [`model`]: the vocabulary as validated types — [`model::Sku`],
//!   [`model::LocationId`], [`model::ChannelId`], [`model::Quantity`],
//!   [`model::Money`]; [`model::Location`], [`model::Channel`],
//!   [`model::Period`], safety stock, product-type rules and the carrier
//!   transit table, gathered in a [`model::Network`].
//! - [`stock`]: [`stock::StockIndex`], built from a network, product types
//!   and [`stock::StockRow`]s, updated one row at a time with
//!   [`stock::StockIndex::apply`]; it answers
//!   [`stock::StockIndex::unified_stock`].
//! - [`atp`]: [`atp::product_atp`] and [`atp::cart_atp`] answer, for an
//!   [`atp::AtpRequest`] (channel, destination, instant), every delivery
//!   method's possibility, reason ([`atp::UnavailableReason`]), units,
//!   locations, shipments and expected date.
//! - [`orchestration`]: a channel's [`orchestration::RuleSet`] (versioned
//!   JSON: filters, ordering, split policy); [`orchestration::orchestrate`]
//!   turns an [`orchestration::Order`] into a [`orchestration::Plan`]
//!   (fulfilments within available stock, unservable lines with reasons, a
//!   decision [`orchestration::Trace`]); [`orchestration::explain`] puts a
//!   trace in sentences (EN, FR, DE); [`orchestration::reorchestrate`]
//!   handles items reported missing (stock correction and a plan for the
//!   missing units); [`orchestration::simulate`] replays orders to compare
//!   rule sets.
//! - [`lifecycle`]: the order and fulfilment state machines as transition
//!   tables ([`lifecycle::order_transition`], [`lifecycle::Fulfilment::apply`])
//!   whose transitions return their effects as data: events, customer
//!   notifications and payment actions.
//! - [`returns`]: [`returns::process_return`] checks a return and computes
//!   the refund, the shipping refund, the restock decision and the effects.
//! - [`demo`]: the deterministic demo retailer (catalogue and network).
//!
//! Every public data type derives serde, with enums as `snake_case` strings
//! and times as RFC 3339 / ISO 8601 strings.

pub mod atp;
mod calendar;
pub mod demo;
pub mod lifecycle;
pub mod model;
pub mod orchestration;
pub mod returns;
pub mod rng;
pub mod stock;

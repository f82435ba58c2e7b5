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
//! - [`demo`]: the deterministic demo retailer (catalogue and network).
//!
//! Every public data type derives serde, with enums as `snake_case` strings
//! and times as RFC 3339 / ISO 8601 strings.

pub mod atp;
mod calendar;
pub mod demo;
pub mod model;
pub mod rng;
pub mod stock;

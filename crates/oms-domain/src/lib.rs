//! The OMS rules, pure.
//!
//! This crate is the heart of Aisle: stock, available-to-promise,
//! orchestration, the order and fulfilment state machines, returns and money.
//! It does no I/O, reads no clock (every rule takes "now" as a parameter) and
//! depends on no async runtime, database, HTTP or UI crate — `cargo xtask test`
//! checks that with `cargo tree`.

pub mod demo;
pub mod rng;

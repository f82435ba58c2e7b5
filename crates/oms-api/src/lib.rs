//! The contract between oms-server and its clients.
//!
//! [`wire`] holds the JSON shapes of every endpoint; [`client`] is a typed
//! reqwest client over them. The server, the app's sync engine and the tests
//! all use these same types, so the two sides cannot drift.

pub mod client;
mod customers;
mod orders;
mod sync;
pub mod token;
pub mod wire;

pub use client::{ClientError, OmsClient};

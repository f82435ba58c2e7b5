//! The Aisle app's side of the system, without any window.
//!
//! Today: finding and starting the OMS core the app talks to — the bundled
//! sidecar ([`sidecar`]) or a central server — and checking that the server
//! answering is the one we started. The offline cache, outbox and sync engine
//! (DESIGN.md "Sync") grow here, so they stay testable headless.

pub mod sidecar;

pub use sidecar::{Sidecar, SidecarError, SidecarOptions};

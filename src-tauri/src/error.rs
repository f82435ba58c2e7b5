//! The one error type that crosses IPC: a closed `{code, message}`, so the UI
//! branches on codes and never parses English.

use serde::Serialize;

/// Closed set of error codes the UI understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The OMS core is still starting (the embedded sidecar seeds on first run).
    BackendStarting,
    /// The OMS core could not be started or reached (the UI shows "offline").
    BackendUnavailable,
    /// The input was refused as invalid (by the app or the OMS core).
    InvalidInput,
    /// The order, fulfilment, product or location does not exist (or is not
    /// visible to this device).
    NotFound,
    /// The step is not allowed in the current state, or the data changed.
    Conflict,
    /// The order cannot be served as asked; nothing was reserved.
    CannotBeServed,
    /// The pickup code does not match: nothing was handed over.
    PickupCodeMismatch,
    /// This device's role or store may not do this.
    Forbidden,
    /// This device is not paired with its server, or the server no longer
    /// accepts its token (revoked): the UI shows the pairing screen.
    NotPaired,
    /// No OS keyring to keep the device token in (central mode needs one).
    NoKeyring,
    /// Anything else: a bug or an environment problem; see the log file.
    Internal,
}

/// An error as the UI receives it.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<oms_api::ClientError> for AppError {
    fn from(error: oms_api::ClientError) -> Self {
        use oms_api::ClientError;
        let code = match &error {
            ClientError::Transport(_) => ErrorCode::BackendUnavailable,
            ClientError::Problem(problem) => match (problem.kind.as_str(), problem.status) {
                ("not-found", _) => ErrorCode::NotFound,
                ("cannot-be-served", _) => ErrorCode::CannotBeServed,
                ("pickup-code-mismatch", _) => ErrorCode::PickupCodeMismatch,
                ("conflict" | "idempotency-key-reused", _) => ErrorCode::Conflict,
                ("unauthenticated", _) | (_, 401) => ErrorCode::NotPaired,
                ("forbidden", _) => ErrorCode::Forbidden,
                ("busy", _) => ErrorCode::BackendUnavailable,
                (_, 400..=499) => ErrorCode::InvalidInput,
                _ => ErrorCode::Internal,
            },
            ClientError::Unexpected { .. } | ClientError::InvalidUrl(_) => ErrorCode::Internal,
        };
        let message = match &error {
            ClientError::Problem(problem) => problem
                .detail
                .clone()
                .unwrap_or_else(|| problem.title.clone()),
            other => other.to_string(),
        };
        AppError::new(code, message)
    }
}

//! The one error type that crosses IPC: a closed `{code, message}`, so the UI
//! branches on codes and never parses English.

use serde::Serialize;

/// Closed set of error codes the UI understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The OMS core is still starting (the embedded sidecar seeds on first run).
    BackendStarting,
    /// The OMS core could not be started or reached.
    BackendUnavailable,
    /// The OMS core refused the request as invalid.
    InvalidInput,
    /// Anything else: a bug or an environment problem; see the log file.
    Internal,
}

/// An error as the UI receives it.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
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
            ClientError::Problem(problem) if (400..500).contains(&problem.status) => {
                ErrorCode::InvalidInput
            }
            ClientError::Problem(_)
            | ClientError::Unexpected { .. }
            | ClientError::InvalidUrl(_) => ErrorCode::Internal,
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

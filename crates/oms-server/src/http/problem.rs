//! The one place where errors become HTTP answers: RFC 9457 problem+json.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_api::wire::Problem;

use crate::storage::StorageError;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The query string is malformed or out of range.
    #[error("{0}")]
    InvalidQuery(String),
    #[error("no route for {0}")]
    NoRoute(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ApiError {
    fn status_and_kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::InvalidQuery(_) => {
                (StatusCode::BAD_REQUEST, "invalid-query", "Invalid query")
            }
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Storage(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.status_and_kind();
        let detail = if status.is_server_error() {
            // The cause goes to the log, not to the caller.
            tracing::error!(error = %self, "request failed");
            None
        } else {
            Some(self.to_string())
        };
        let problem = Problem {
            kind: kind.to_owned(),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

//! The one place where errors become HTTP answers: RFC 9457 problem+json
//! with a stable `type` code per kind of failure.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_api::wire::{CustomerView, DuplicateCustomer, FeedRejection, FeedReport, Problem};

use crate::stock_cache::CacheError;
use crate::storage::StorageError;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The query string is malformed or out of range.
    #[error("{0}")]
    InvalidQuery(String),
    /// The body is not JSON at all.
    #[error("{0}")]
    MalformedJson(String),
    /// The body is JSON but not what this endpoint takes (wrong types,
    /// negative quantities, unknown fields, invalid identifiers…).
    #[error("{0}")]
    InvalidBody(String),
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("the request body must be {0}")]
    UnsupportedMediaType(&'static str),
    /// A resource the request names does not exist.
    #[error("{kind} `{id}` does not exist")]
    NotFound { kind: &'static str, id: String },
    #[error("no route for {0}")]
    NoRoute(String),
    /// No valid token: `Authorization: Bearer <token>` is missing, unknown or
    /// revoked.
    #[error("a valid API token is required (Authorization: Bearer <token>)")]
    Unauthenticated,
    /// The token is valid but its role or store may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is valid but contradicts the stored state.
    #[error("{0}")]
    Conflict(String),
    /// A handover's pickup code is not the one the customer was sent.
    #[error("{0}")]
    PickupCodeMismatch(String),
    /// A stock feed had refused rows and was not applied.
    #[error("the feed was rejected: {} refused row(s), nothing was applied", .0.refused_total)]
    FeedRejected(Box<FeedReport>),
    /// The request body stopped arriving before its end.
    #[error("{0}")]
    UploadInterrupted(String),
    /// A customer with this e-mail address is registered already.
    #[error("a customer with this e-mail address exists: {}", .0.id)]
    DuplicateCustomer(Box<CustomerView>),
    /// An `Idempotency-Key` came back with a different request body.
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyMismatch,
    /// Too many wrong PINs: the member of staff must wait.
    #[error("{0}")]
    LockedOut(String),
    /// A wrong staff PIN (counted); the detail says how many attempts are
    /// left: "wrong PIN: N attempt(s) left …".
    #[error("{0}")]
    WrongPin(String),
    /// A device pushed a mutation whose predecessor was never applied.
    #[error("{0}")]
    MutationGap(String),
    /// Too many concurrent writers on the same rows; the request may be
    /// retried as is.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    StockIndex(#[from] CacheError),
    /// A domain computation failed on data that passed validation: a bug.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    fn status_and_kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::InvalidQuery(_) => {
                (StatusCode::BAD_REQUEST, "invalid-query", "Invalid query")
            }
            ApiError::MalformedJson(_) => {
                (StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON")
            }
            ApiError::InvalidBody(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid request body",
            ),
            ApiError::BodyTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "no-route", "No such endpoint"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::PickupCodeMismatch(_) => (
                StatusCode::CONFLICT,
                "pickup-code-mismatch",
                "Pickup code does not match",
            ),
            ApiError::DuplicateCustomer(_) => (
                StatusCode::CONFLICT,
                "duplicate-customer",
                "Customer already registered",
            ),
            ApiError::IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
            ),
            ApiError::LockedOut(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "locked-out",
                "Too many wrong PINs",
            ),
            ApiError::WrongPin(_) => (StatusCode::FORBIDDEN, "wrong-pin", "Wrong PIN"),
            ApiError::MutationGap(_) => (
                StatusCode::CONFLICT,
                "mutation-gap",
                "Mutations missing before this push",
            ),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy, retry"),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::FeedRejected(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "feed-rejected",
                "Feed rejected",
            ),
            ApiError::UploadInterrupted(_) => (
                StatusCode::BAD_REQUEST,
                "upload-interrupted",
                "Upload interrupted",
            ),
            ApiError::Storage(_) | ApiError::StockIndex(_) | ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }
}

impl ApiError {
    /// The problem+json body of a client error (4xx); `None` for server
    /// errors, whose cause is not the caller's.
    pub fn client_problem(&self) -> Option<Problem> {
        let (status, kind, title) = self.status_and_kind();
        status.is_client_error().then(|| Problem {
            kind: kind.to_owned(),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: Some(self.to_string()),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.status_and_kind();
        let problem = match self.client_problem() {
            Some(problem) => problem,
            None => {
                // The cause goes to the log, not to the caller.
                tracing::error!(error = %self, "request failed");
                Problem {
                    kind: kind.to_owned(),
                    title: title.to_owned(),
                    status: status.as_u16(),
                    detail: None,
                }
            }
        };
        let mut response = match self {
            // The report travels inside the problem (RFC 9457 extension member).
            ApiError::FeedRejected(report) => (
                status,
                axum::Json(FeedRejection {
                    problem,
                    report: *report,
                }),
            )
                .into_response(),
            // The registered customer, for the caller to pick instead.
            ApiError::DuplicateCustomer(existing) => (
                status,
                axum::Json(DuplicateCustomer {
                    problem,
                    existing: *existing,
                }),
            )
                .into_response(),
            _ => (status, axum::Json(problem)).into_response(),
        };
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

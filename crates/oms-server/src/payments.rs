//! The payment provider port and its adapters.
//!
//! [`PaymentProvider`] is what the lifecycle's [`PaymentAction`]s are sent
//! to: authorise, capture, void, refund, each with an **idempotency key**
//! (the same key twice is one operation at the provider, whatever happened to
//! the first answer) and an amount in integer minor units with its currency.
//! It is dyn-compatible (`Arc<dyn PaymentProvider>`), so the server can
//! choose an adapter at start:
//!
//! - [`HttpGateway`]: JSON over HTTP to a payment gateway, with a timeout
//!   per attempt and bounded retries with exponential backoff and jitter on
//!   timeouts, connection errors, 5xx, 408, 409 and 429. A decline (other
//!   4xx) is a business answer and is never retried. Retrying is safe
//!   because every attempt carries the same `Idempotency-Key`: a capture
//!   whose answer was lost to a timeout is answered again, not done twice.
//! - [`PaidInStore`]: the customer paid at the till; every operation
//!   succeeds at once with an `in-store:` reference.
//!
//! The gateway's API key travels only in the `Authorization` header and is
//! redacted from every `Debug` output and log.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oms_domain::lifecycle::{PaymentAction, PaymentKind};
use oms_domain::model::Money;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

/// The future an adapter returns (boxed so the trait is dyn-compatible).
pub type PaymentFuture<'a> =
    Pin<Box<dyn Future<Output = Result<PaymentOutcome, PaymentError>> + Send + 'a>>;

/// One operation to run at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// Same key, same operation: see [`idempotency_key`].
    pub idempotency_key: String,
    /// The order it is for (the provider's merchant reference).
    pub order: String,
    /// Positive, in minor units with its currency.
    pub amount: Money,
    /// For capture, void and refund: the provider's reference of the
    /// authorisation they act on, as returned by `authorise`.
    pub authorisation: Option<String>,
}

impl PaymentRequest {
    /// The request for a lifecycle payment action, keyed by
    /// [`idempotency_key`].
    pub fn for_action(action: &PaymentAction, authorisation: Option<String>) -> Self {
        Self {
            idempotency_key: idempotency_key(action),
            order: action.order.to_string(),
            amount: action.amount,
            authorisation,
        }
    }
}

/// `{order}:{kind}:{reference}`, `order` standing for the reference when the
/// action is for the order itself (e.g. `O-1:capture:F-1-1`,
/// `O-1:authorise:order`). Deterministic, so an action retried after a crash
/// reuses its key.
pub fn idempotency_key(action: &PaymentAction) -> String {
    format!(
        "{}:{}:{}",
        action.order,
        kind_name(action.kind),
        action.reference.as_deref().unwrap_or("order")
    )
}

/// The operation's name in keys and URLs.
pub fn kind_name(kind: PaymentKind) -> &'static str {
    match kind {
        PaymentKind::Authorise => "authorise",
        PaymentKind::Capture => "capture",
        PaymentKind::Void => "void",
        PaymentKind::Refund => "refund",
    }
}

/// The operation named `name` (as [`kind_name`] writes it).
pub fn kind_from_name(name: &str) -> Option<PaymentKind> {
    match name {
        "authorise" => Some(PaymentKind::Authorise),
        "capture" => Some(PaymentKind::Capture),
        "void" => Some(PaymentKind::Void),
        "refund" => Some(PaymentKind::Refund),
        _ => None,
    }
}

/// A successful operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOutcome {
    pub kind: PaymentKind,
    /// The provider's reference of this operation (keep the authorisation's
    /// for the capture, void and refund that follow).
    pub provider_reference: String,
    /// The provider answered from its idempotency record: the operation had
    /// already been done (by an earlier attempt or call with the same key).
    pub replayed: bool,
    /// Where the customer pays (pay-by-link gateways, on `authorise`).
    pub payment_url: Option<String>,
}

/// Why an operation did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The provider refused it (card declined, nothing left to capture…).
    /// A business answer: retrying the same request will not change it.
    #[error("the payment provider declined the {operation}: {reason}")]
    Declined {
        operation: &'static str,
        reason: String,
    },
    /// The provider could not be reached or kept failing, after `attempts`
    /// attempts. Safe to try again later with the same idempotency key.
    #[error("the payment provider is unavailable after {attempts} attempt(s): {last_error}")]
    Unavailable { attempts: u32, last_error: String },
    /// The adapter is set up wrongly (bad URL, refused credentials, unknown
    /// route): an operator must act; retrying will not help.
    #[error("the payment provider is misconfigured: {0}")]
    Misconfigured(String),
    /// The request itself is invalid; nothing was sent.
    #[error("invalid payment request: {0}")]
    InvalidRequest(String),
}

impl PaymentError {
    /// Whether trying again later (same idempotency key) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// The port: a payment provider.
///
/// Adapters implement [`execute`](Self::execute); the four operations are
/// provided on top of it.
pub trait PaymentProvider: Send + Sync + fmt::Debug {
    /// Runs one operation.
    fn execute<'a>(&'a self, kind: PaymentKind, request: &'a PaymentRequest) -> PaymentFuture<'a>;

    /// Reserves the amount on the customer's means of payment.
    fn authorise<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a> {
        self.execute(PaymentKind::Authorise, request)
    }

    /// Takes (part of) an authorised amount.
    fn capture<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a> {
        self.execute(PaymentKind::Capture, request)
    }

    /// Releases what is left of an authorisation.
    fn void<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a> {
        self.execute(PaymentKind::Void, request)
    }

    /// Gives back (part of) a captured amount.
    fn refund<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a> {
        self.execute(PaymentKind::Refund, request)
    }
}

/// Checks what every adapter requires of a request.
fn validate(request: &PaymentRequest) -> Result<(), PaymentError> {
    let key = &request.idempotency_key;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(PaymentError::InvalidRequest(
            "the idempotency key must be 1 to 255 visible ASCII characters".to_owned(),
        ));
    }
    if request.amount.minor() <= 0 {
        return Err(PaymentError::InvalidRequest(format!(
            "the amount must be positive, not {}",
            request.amount
        )));
    }
    Ok(())
}

/// Paid at the till: every operation succeeds at once. The reference is
/// `in-store:{idempotency key}`, so it is the same for the same key.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaidInStore;

impl PaymentProvider for PaidInStore {
    fn execute<'a>(&'a self, kind: PaymentKind, request: &'a PaymentRequest) -> PaymentFuture<'a> {
        Box::pin(async move {
            validate(request)?;
            Ok(PaymentOutcome {
                kind,
                provider_reference: format!("in-store:{}", request.idempotency_key),
                replayed: false,
                payment_url: None,
            })
        })
    }
}

/// A secret for the gateway's `Authorization: Bearer` header. Its `Debug`
/// never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How to reach the gateway and how hard to try.
#[derive(Debug, Clone)]
pub struct HttpGatewayConfig {
    /// `http(s)://host[:port][/prefix]`; operations go to
    /// `{base}/v1/payments/{authorise|capture|void|refund}`.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// For one attempt, connection and answer included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles at each attempt, capped at
    /// `max_backoff`, each delay jittered down to half its value.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl HttpGatewayConfig {
    /// Defaults: 10 s per attempt, 3 s to connect, 4 attempts, backoff from
    /// 200 ms up to 5 s.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What the gateway is sent (JSON).
#[derive(Debug, Serialize)]
struct GatewayRequest<'a> {
    order: &'a str,
    amount_minor: i64,
    currency: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorisation: Option<&'a str>,
}

/// Its success answer.
#[derive(Debug, Deserialize)]
struct GatewayAnswer {
    reference: String,
    /// Pay-by-link gateways answer an authorisation with the page where the
    /// customer pays (sent to the customer through the notification outbox).
    #[serde(default)]
    payment_url: Option<String>,
}

/// The longest payment link kept.
pub const MAX_PAYMENT_URL_LEN: usize = 2000;

/// A gateway's payment link, if it is an absolute http(s) URL of a sane
/// length; anything else is dropped (with a warning), never shown.
fn payment_link(url: Option<String>) -> Option<String> {
    let url = url?;
    let parsed = Url::parse(url.trim()).ok();
    let valid = url.len() <= MAX_PAYMENT_URL_LEN
        && parsed
            .as_ref()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if valid {
        parsed.map(String::from)
    } else {
        tracing::warn!(
            "the payment gateway answered a payment link that is not an http(s) URL: ignored"
        );
        None
    }
}

/// Its refusal answer (any field may be absent).
#[derive(Debug, Default, Deserialize)]
struct GatewayRefusal {
    #[serde(default)]
    reason: Option<String>,
}

/// The header a gateway sets on an answer replayed from its idempotency
/// record.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The payment gateway over HTTP.
pub struct HttpGateway {
    client: reqwest::Client,
    /// Ends with `/v1/payments/`.
    endpoint: Url,
    api_key: Option<ApiKey>,
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpGateway")
            .field("endpoint", &self.endpoint.as_str())
            .field("api_key", &self.api_key)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// How one attempt ended, when it did not succeed.
enum AttemptError {
    /// Try again (after a backoff) if attempts remain.
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Stop here.
    Final(PaymentError),
}

impl HttpGateway {
    pub fn new(config: HttpGatewayConfig) -> Result<Self, PaymentError> {
        let mut base = Url::parse(&config.base_url).map_err(|e| {
            PaymentError::Misconfigured(format!("base URL {:?}: {e}", config.base_url))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(PaymentError::Misconfigured(format!(
                "base URL {:?} is not an http(s) URL",
                config.base_url
            )));
        }
        if !base.username().is_empty() || base.password().is_some() || base.query().is_some() {
            // Credentials belong in the API key, never in a URL (URLs get logged).
            return Err(PaymentError::Misconfigured(
                "the base URL must not carry credentials or a query".to_owned(),
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let endpoint = base
            .join("v1/payments/")
            .map_err(|e| PaymentError::Misconfigured(format!("base URL: {e}")))?;
        if config.max_attempts == 0 {
            return Err(PaymentError::Misconfigured(
                "max_attempts must be at least 1".to_owned(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| PaymentError::Misconfigured(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            endpoint,
            api_key: config.api_key,
            max_attempts: config.max_attempts,
            initial_backoff: config.initial_backoff,
            max_backoff: config.max_backoff,
        })
    }

    async fn run(
        &self,
        kind: PaymentKind,
        request: &PaymentRequest,
    ) -> Result<PaymentOutcome, PaymentError> {
        validate(request)?;
        let operation = kind_name(kind);
        let url = self
            .endpoint
            .join(operation)
            .map_err(|e| PaymentError::Misconfigured(format!("operation URL: {e}")))?;
        let currency = request.amount.currency();
        let body = GatewayRequest {
            order: &request.order,
            amount_minor: request.amount.minor(),
            currency: currency.as_str(),
            authorisation: request.authorisation.as_deref(),
        };
        let mut attempt = 1;
        loop {
            match self.attempt(kind, &url, request, &body).await {
                Ok(outcome) => return Ok(outcome),
                Err(AttemptError::Final(error)) => return Err(error),
                Err(AttemptError::Retry {
                    message,
                    retry_after,
                }) => {
                    tracing::warn!(
                        operation,
                        key = %request.idempotency_key,
                        attempt,
                        max_attempts = self.max_attempts,
                        error = %message,
                        "payment gateway attempt failed"
                    );
                    if attempt >= self.max_attempts {
                        return Err(PaymentError::Unavailable {
                            attempts: attempt,
                            last_error: message,
                        });
                    }
                    let delay = backoff(
                        self.initial_backoff,
                        self.max_backoff,
                        attempt,
                        jitter_fraction(),
                    );
                    let delay = retry_after.map_or(delay, |after| {
                        after.clamp(delay, self.max_backoff.max(delay))
                    });
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        kind: PaymentKind,
        url: &Url,
        request: &PaymentRequest,
        body: &GatewayRequest<'_>,
    ) -> Result<PaymentOutcome, AttemptError> {
        let operation = kind_name(kind);
        let mut builder = self
            .client
            .post(url.clone())
            .header("Idempotency-Key", &request.idempotency_key)
            .json(body);
        if let Some(ApiKey(key)) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = builder.send().await.map_err(|e| {
            if e.is_builder() {
                AttemptError::Final(PaymentError::Misconfigured(e.without_url().to_string()))
            } else {
                // Timeout, connection refused or reset, broken answer: the
                // same key makes a retry safe.
                AttemptError::Retry {
                    message: describe(&e),
                    retry_after: None,
                }
            }
        })?;
        let status = response.status();
        if status.is_success() {
            let replayed = response
                .headers()
                .get(REPLAYED_HEADER)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
            let answer: GatewayAnswer = response.json().await.map_err(|e| {
                // Done at the gateway (2xx) but the answer is lost or
                // unreadable: asking again with the same key gets it back.
                AttemptError::Retry {
                    message: format!("unreadable {status} answer: {}", describe(&e)),
                    retry_after: None,
                }
            })?;
            return Ok(PaymentOutcome {
                kind,
                provider_reference: answer.reference,
                replayed,
                payment_url: payment_link(answer.payment_url),
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        match status {
            StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS => {
                Err(AttemptError::Retry {
                    message: format!("answered {status}"),
                    retry_after,
                })
            }
            s if s.is_server_error() => Err(AttemptError::Retry {
                message: format!("answered {status}"),
                retry_after,
            }),
            StatusCode::UNAUTHORIZED
            | StatusCode::FORBIDDEN
            | StatusCode::NOT_FOUND
            | StatusCode::METHOD_NOT_ALLOWED => {
                Err(AttemptError::Final(PaymentError::Misconfigured(format!(
                    "the gateway answered {status} to {operation}"
                ))))
            }
            s if s.is_client_error() => {
                let refusal: GatewayRefusal = response.json().await.unwrap_or_default();
                Err(AttemptError::Final(PaymentError::Declined {
                    operation,
                    reason: refusal
                        .reason
                        .unwrap_or_else(|| format!("answered {status}")),
                }))
            }
            _ => Err(AttemptError::Final(PaymentError::Misconfigured(format!(
                "unexpected answer {status} to {operation}"
            )))),
        }
    }
}

impl PaymentProvider for HttpGateway {
    fn execute<'a>(&'a self, kind: PaymentKind, request: &'a PaymentRequest) -> PaymentFuture<'a> {
        Box::pin(self.run(kind, request))
    }
}

/// A transport error in a few words, without the URL.
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_decode() {
        "could not decode the answer"
    } else {
        "transport error"
    };
    let mut message = what.to_owned();
    let mut source = std::error::Error::source(error);
    // The innermost cause says most (e.g. "Connection refused").
    while let Some(cause) = source {
        if cause.source().is_none() {
            message = format!("{what}: {cause}");
        }
        source = cause.source();
    }
    message
}

/// The delay after failed attempt number `attempt` (1-based): `initial ×
/// 2^(attempt-1)`, capped at `max`, then scaled into `[½, 1]` of itself by
/// `jitter` (in `[0, 1]`), so that clients that failed together do not retry
/// together.
pub fn backoff(initial: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = initial.saturating_mul(1u32 << exponent).min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A random number in `[0, 1)`.
fn jitter_fraction() -> f64 {
    // 53 random bits from a v4 UUID (the OS's random source).
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use oms_domain::model::Currency;
    use oms_domain::orchestration::OrderId;

    fn action(kind: PaymentKind, reference: Option<&str>) -> PaymentAction {
        PaymentAction {
            kind,
            order: OrderId::parse("O-1").unwrap(),
            amount: Money::new(1250, Currency::parse("EUR").unwrap()),
            reference: reference.map(str::to_owned),
        }
    }

    #[test]
    fn idempotency_keys_name_order_kind_and_reference() {
        assert_eq!(
            idempotency_key(&action(PaymentKind::Capture, Some("F-1-1"))),
            "O-1:capture:F-1-1"
        );
        assert_eq!(
            idempotency_key(&action(PaymentKind::Authorise, None)),
            "O-1:authorise:order"
        );
        let request = PaymentRequest::for_action(&action(PaymentKind::Refund, Some("R-9")), None);
        assert_eq!(request.idempotency_key, "O-1:refund:R-9");
        assert_eq!(request.order, "O-1");
        assert_eq!(request.amount.minor(), 1250);
    }

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        assert_eq!(backoff(initial, max, 1, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(initial, max, 2, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(initial, max, 3, 1.0), Duration::from_millis(400));
        assert_eq!(backoff(initial, max, 5, 1.0), max);
        assert_eq!(backoff(initial, max, 40, 1.0), max);
        assert_eq!(backoff(initial, max, 2, 0.0), Duration::from_millis(100));
        for _ in 0..100 {
            let j = jitter_fraction();
            assert!((0.0..1.0).contains(&j));
        }
    }

    #[test]
    fn the_api_key_never_shows_in_debug() {
        let mut config = HttpGatewayConfig::new("http://127.0.0.1:9/pay");
        config.api_key = Some(ApiKey::new("sk_live_secret"));
        assert!(!format!("{config:?}").contains("sk_live_secret"));
        let gateway = HttpGateway::new(config).unwrap();
        let debug = format!("{gateway:?}");
        assert!(!debug.contains("sk_live_secret"));
        assert!(debug.contains("redacted"));
        assert!(
            debug.contains("http://127.0.0.1:9/pay/v1/payments/"),
            "{debug}"
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        for url in [
            "not a url",
            "ftp://gateway/",
            "https://user:pw@gateway/",
            "https://gateway/?key=1",
        ] {
            assert!(
                matches!(
                    HttpGateway::new(HttpGatewayConfig::new(url)),
                    Err(PaymentError::Misconfigured(_))
                ),
                "{url}"
            );
        }
        let mut config = HttpGatewayConfig::new("https://gateway");
        config.max_attempts = 0;
        assert!(matches!(
            HttpGateway::new(config),
            Err(PaymentError::Misconfigured(_))
        ));
    }

    #[tokio::test]
    async fn invalid_requests_are_refused_before_sending() {
        let mut request = PaymentRequest::for_action(&action(PaymentKind::Capture, None), None);
        request.amount = Money::new(0, Currency::parse("EUR").unwrap());
        assert!(matches!(
            PaidInStore.capture(&request).await,
            Err(PaymentError::InvalidRequest(_))
        ));
        request.amount = Money::new(5, Currency::parse("EUR").unwrap());
        request.idempotency_key = "has space".to_owned();
        assert!(matches!(
            PaidInStore.capture(&request).await,
            Err(PaymentError::InvalidRequest(_))
        ));
    }
}

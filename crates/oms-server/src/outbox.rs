//! The delivery side of the transactional outbox: background workers that
//! carry out, after commit, what order steps wrote in their transaction.
//!
//! - **Webhooks** (`outbox` rows of topic `webhook`, a domain event each)
//!   are POSTed to the configured webhook URL.
//! - **Notifications** (topic `notification`, a rendered customer message
//!   each) are POSTed to the configured notification sink URL, signed the
//!   same way. (An SMTP sink is not part of the server.)
//! - **Payments** (`payments` rows with status `pending`) are sent to the
//!   configured [`PaymentProvider`], each with its idempotency key.
//!
//! Each worker claims a small batch of due rows under a lease
//! (`storage::outbox`: `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! single writer on SQLite), delivers them outside any transaction, then
//! records the outcome: delivered; or another attempt later after an
//! exponential backoff with jitter; or, after `max_attempts`, the dead
//! letter (`dead_at_ms`), from which `POST /v1/outbox/{id}/replay` brings a
//! message back. Delivery is at least once: a server that dies between the
//! receiver's answer and the record delivers again once the lease expires,
//! so receivers deduplicate on `Aisle-Webhook-Id`.
//!
//! A message whose URL is not configured stays pending, untouched.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use oms_domain::lifecycle::PaymentKind;
use oms_domain::model::{Currency, Money};
use sha2::Sha256;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::payments::{
    ApiKey, HttpGateway, HttpGatewayConfig, PaymentError, PaymentProvider, PaymentRequest,
};
use crate::storage::outbox::{ClaimedMessage, ClaimedPayment, PaymentResult};
use crate::storage::{Storage, StorageError};

/// The signature header: `v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`.
pub const SIGNATURE_HEADER: &str = "Aisle-Webhook-Signature";
/// The message's outbox id: the same on every attempt (deduplicate on it).
pub const ID_HEADER: &str = "Aisle-Webhook-Id";
/// Unix seconds when the attempt was signed.
pub const TIMESTAMP_HEADER: &str = "Aisle-Webhook-Timestamp";
/// `webhook` or `notification`.
pub const TOPIC_HEADER: &str = "Aisle-Webhook-Topic";

/// The last error recorded on gateway payments when no gateway is set up.
pub const NO_GATEWAY: &str = "no payment gateway configured";

/// How and where the outbox is delivered.
#[derive(Clone)]
pub struct OutboxConfig {
    /// Where webhook events are POSTed; none: they stay pending.
    pub webhook_url: Option<String>,
    /// Signs webhooks and notifications (HMAC-SHA256). Never logged.
    pub webhook_secret: Option<String>,
    /// Where rendered notifications are POSTed; none: they stay pending.
    pub notification_url: Option<String>,
    /// The payment gateway's base URL; none: gateway payments stay pending
    /// with [`NO_GATEWAY`] as their last error.
    pub payment_gateway_url: Option<String>,
    /// The gateway's API key (Bearer). Never logged.
    pub payment_gateway_key: Option<String>,
    /// How often each worker looks for due rows.
    pub poll_interval: Duration,
    /// Failed attempts after which a message is dead (dead letter).
    pub max_attempts: u32,
    /// Backoff after the first failure; doubles at each failure, capped at
    /// `max_backoff`, jittered down to half.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long a claimed row is reserved for its worker; longer than one
    /// delivery can take (a payment: the gateway's attempts and backoffs).
    pub lease: Duration,
    /// One webhook or notification POST, answer included.
    pub request_timeout: Duration,
    /// Rows claimed at once.
    pub batch_size: u32,
}

impl Default for OutboxConfig {
    /// Nothing configured; 200 ms polls, 10 attempts, backoff 1 s to 1 h,
    /// 2-minute leases, 10 s per request, batches of 10.
    fn default() -> Self {
        Self {
            webhook_url: None,
            webhook_secret: None,
            notification_url: None,
            payment_gateway_url: None,
            payment_gateway_key: None,
            poll_interval: Duration::from_millis(200),
            max_attempts: 10,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            lease: Duration::from_secs(120),
            request_timeout: Duration::from_secs(10),
            batch_size: 10,
        }
    }
}

impl fmt::Debug for OutboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("OutboxConfig")
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &redacted(&self.webhook_secret))
            .field("notification_url", &self.notification_url)
            .field("payment_gateway_url", &self.payment_gateway_url)
            .field("payment_gateway_key", &redacted(&self.payment_gateway_key))
            .field("poll_interval", &self.poll_interval)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("lease", &self.lease)
            .field("request_timeout", &self.request_timeout)
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

/// Why the outbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OutboxSetupError {
    /// The URL itself is not repeated: it may carry a token.
    #[error("the {what} is not a valid http(s) URL")]
    BadUrl { what: &'static str },
    #[error("the payment gateway: {0}")]
    Gateway(#[from] PaymentError),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
    #[error("outbox: {0}")]
    Invalid(&'static str),
}

/// The outbox's delivery setup, built once at start.
#[derive(Debug)]
pub struct Outbox {
    config: OutboxConfig,
    http: reqwest::Client,
    payments: Option<Arc<dyn PaymentProvider>>,
}

impl Outbox {
    pub fn new(config: OutboxConfig) -> Result<Self, OutboxSetupError> {
        for (url, what) in [
            (&config.webhook_url, "webhook URL"),
            (&config.notification_url, "notification URL"),
        ] {
            if let Some(url) = url {
                let parsed =
                    reqwest::Url::parse(url).map_err(|_| OutboxSetupError::BadUrl { what })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(OutboxSetupError::BadUrl { what });
                }
            }
        }
        if config.max_attempts == 0 {
            return Err(OutboxSetupError::Invalid("max_attempts must be at least 1"));
        }
        if config.batch_size == 0 || config.poll_interval.is_zero() {
            return Err(OutboxSetupError::Invalid(
                "batch size and poll interval must be positive",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(3)))
            // A redirect is a failed delivery, not a silent change of URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OutboxSetupError::HttpClient(e.to_string()))?;
        let payments = match &config.payment_gateway_url {
            Some(url) => {
                let mut gateway = HttpGatewayConfig::new(url.clone());
                gateway.api_key = config.payment_gateway_key.clone().map(ApiKey::new);
                gateway.request_timeout = config.request_timeout;
                let provider: Arc<dyn PaymentProvider> = Arc::new(HttpGateway::new(gateway)?);
                Some(provider)
            }
            None => None,
        };
        if config.webhook_secret.is_none()
            && (config.webhook_url.is_some() || config.notification_url.is_some())
        {
            tracing::warn!("no webhook secret (OMS_WEBHOOK_SECRET): deliveries are not signed");
        }
        Ok(Self {
            config,
            http,
            payments,
        })
    }

    /// Whether gateway payments can be carried out (a gateway or provider
    /// is set up); without one they wait with [`NO_GATEWAY`].
    pub fn has_payment_provider(&self) -> bool {
        self.payments.is_some()
    }

    /// Uses `provider` for payments instead of the configured gateway.
    pub fn with_payment_provider(mut self, provider: Arc<dyn PaymentProvider>) -> Self {
        self.payments = Some(provider);
        self
    }

    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }
}

/// The running workers.
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Asks the workers to stop after their current message, waits up to
    /// `grace`, then aborts what is left (a lease covers an interrupted
    /// delivery).
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Workers {
    /// Workers never outlive the server that started them.
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts the webhook, notification and payment workers.
pub fn start(storage: Storage, outbox: Arc<Outbox>) -> Workers {
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    if let Some(url) = outbox.config.webhook_url.clone() {
        tasks.push(tokio::spawn(run_messages(
            storage.clone(),
            outbox.clone(),
            "webhook",
            url,
            stopped.clone(),
        )));
    }
    if let Some(url) = outbox.config.notification_url.clone() {
        tasks.push(tokio::spawn(run_messages(
            storage.clone(),
            outbox.clone(),
            "notification",
            url,
            stopped.clone(),
        )));
    }
    // Without a gateway there is nothing to execute: gateway payments wait,
    // untouched, for a server started with one (in-store payments are
    // recorded as done when written).
    if outbox.payments.is_some() {
        tasks.push(tokio::spawn(run_payments(storage, outbox, stopped)));
    }
    Workers { stop, tasks }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Waits one poll interval; false once stopping.
async fn wait(stopped: &mut watch::Receiver<bool>, interval: Duration) -> bool {
    if *stopped.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(interval) => !*stopped.borrow(),
        _ = stopped.changed() => false,
    }
}

/// The delay before the next attempt after `failures` failed ones.
fn retry_delay(config: &OutboxConfig, failures: u32) -> Duration {
    crate::payments::backoff(
        config.initial_backoff,
        config.max_backoff,
        failures.max(1),
        jitter(),
    )
}

/// A random number in `[0, 1)` (53 bits of a v4 UUID).
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

/// `v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + digest.len() * 2);
    out.push_str("v1=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

async fn run_messages(
    storage: Storage,
    outbox: Arc<Outbox>,
    topic: &'static str,
    url: String,
    mut stopped: watch::Receiver<bool>,
) {
    let config = &outbox.config;
    while wait(&mut stopped, config.poll_interval).await {
        // Drain what is due, batch after batch, then sleep.
        loop {
            let now = now_ms();
            let claimed = match storage
                .claim_outbox(
                    topic,
                    now,
                    now + millis(config.lease),
                    i64::from(config.batch_size),
                )
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(topic, %error, "outbox claim failed");
                    break;
                }
            };
            let full = claimed.len() >= config.batch_size as usize;
            for message in &claimed {
                if let Err(error) = deliver(&storage, &outbox, &url, message).await {
                    tracing::warn!(topic, id = message.id, %error, "outbox record failed");
                }
                if *stopped.borrow() {
                    return;
                }
            }
            if !full {
                break;
            }
        }
    }
}

/// POSTs one message and records the outcome.
async fn deliver(
    storage: &Storage,
    outbox: &Outbox,
    url: &str,
    message: &ClaimedMessage,
) -> Result<(), StorageError> {
    let config = &outbox.config;
    let timestamp = jiff::Timestamp::now().as_second();
    let mut request = outbox
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(ID_HEADER, message.id.to_string())
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(TOPIC_HEADER, message.topic.as_str());
    if let Some(secret) = &config.webhook_secret {
        request = request.header(
            SIGNATURE_HEADER,
            signature(secret, timestamp, message.payload.as_bytes()),
        );
    }
    let outcome = match request.body(message.payload.clone()).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("answered {}", response.status())),
        // Without the URL: it may carry a token.
        Err(error) => Err(error.without_url().to_string()),
    };
    let now = now_ms();
    match outcome {
        Ok(()) => {
            if !storage.outbox_delivered(message, now).await? {
                tracing::info!(id = message.id, "delivered, but the lease had been lost");
            }
        }
        Err(error) => {
            let failures = u32::try_from(message.attempts.saturating_add(1)).unwrap_or(u32::MAX);
            let dead = failures >= config.max_attempts;
            let next = now + millis(retry_delay(config, failures));
            tracing::warn!(
                topic = %message.topic,
                id = message.id,
                attempt = failures,
                dead,
                %error,
                "outbox delivery failed"
            );
            storage
                .outbox_failed(message, &error, next, dead, now)
                .await?;
        }
    }
    Ok(())
}

async fn run_payments(storage: Storage, outbox: Arc<Outbox>, mut stopped: watch::Receiver<bool>) {
    let config = &outbox.config;
    while wait(&mut stopped, config.poll_interval).await {
        loop {
            let now = now_ms();
            let claimed = match storage
                .claim_payments(
                    now,
                    now + millis(config.lease),
                    i64::from(config.batch_size),
                )
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "payment claim failed");
                    break;
                }
            };
            let full = claimed.len() >= config.batch_size as usize;
            for payment in &claimed {
                let result = execute(&storage, &outbox, payment).await;
                match storage.record_payment(payment, &result, now_ms()).await {
                    Ok(true) => {}
                    Ok(false) => tracing::info!(
                        key = %payment.idempotency_key,
                        "payment done, but the lease had been lost"
                    ),
                    Err(error) => tracing::warn!(
                        key = %payment.idempotency_key,
                        %error,
                        "payment record failed"
                    ),
                }
                if *stopped.borrow() {
                    return;
                }
            }
            if !full {
                break;
            }
        }
    }
}

/// Runs one payment instruction at the provider.
async fn execute(storage: &Storage, outbox: &Outbox, payment: &ClaimedPayment) -> PaymentResult {
    let config = &outbox.config;
    let retry_later = |error: String, counted: bool| {
        let failures = u32::try_from(payment.attempts.saturating_add(1)).unwrap_or(u32::MAX);
        PaymentResult::Retry {
            error,
            next_attempt_at_ms: now_ms() + millis(retry_delay(config, failures)),
            counted,
        }
    };
    let Some(provider) = &outbox.payments else {
        // Not counted as an attempt; looked at again after the longest
        // backoff (a restart with a gateway picks it up then).
        return PaymentResult::Retry {
            error: NO_GATEWAY.to_owned(),
            next_attempt_at_ms: now_ms() + millis(config.max_backoff.min(Duration::from_secs(60))),
            counted: false,
        };
    };
    let Some(kind) = crate::payments::kind_from_name(&payment.kind) else {
        return PaymentResult::Refused {
            status: "failed",
            error: format!("unknown payment kind `{}`", payment.kind),
        };
    };
    let authorisation = if kind == PaymentKind::Authorise {
        None
    } else {
        match storage.authorisation_of(&payment.order_id).await {
            Ok(Some(auth)) if auth.status == "succeeded" => auth.provider_reference,
            Ok(Some(auth)) if auth.status == "pending" => {
                // Claimed between the authorisation's claim and its record:
                // try again shortly.
                return PaymentResult::Retry {
                    error: "waiting for the authorisation".to_owned(),
                    next_attempt_at_ms: now_ms() + millis(config.poll_interval),
                    counted: false,
                };
            }
            Ok(Some(auth)) => {
                return PaymentResult::Refused {
                    status: "failed",
                    error: format!("the order's authorisation is {}", auth.status),
                };
            }
            Ok(None) => None,
            Err(error) => return retry_later(format!("storage: {error}"), false),
        }
    };
    let currency = match Currency::parse(&payment.currency) {
        Ok(currency) => currency,
        Err(error) => {
            return PaymentResult::Refused {
                status: "failed",
                error: format!("currency `{}`: {error}", payment.currency),
            };
        }
    };
    let request = PaymentRequest {
        idempotency_key: payment.idempotency_key.clone(),
        order: payment.order_id.clone(),
        amount: Money::new(payment.amount_minor, currency),
        authorisation,
    };
    match provider.execute(kind, &request).await {
        Ok(outcome) => {
            let link = match outcome.payment_url {
                Some(url) if kind == PaymentKind::Authorise => {
                    match payment_link_message(storage, &payment.order_id, &url).await {
                        Ok(message) => Some((url, message)),
                        // Done at the gateway: the same key answers the same
                        // link on the next attempt.
                        Err(error) => return retry_later(format!("payment link: {error}"), false),
                    }
                }
                _ => None,
            };
            PaymentResult::Succeeded {
                provider_reference: outcome.provider_reference,
                link,
            }
        }
        Err(error @ PaymentError::Declined { .. }) => PaymentResult::Refused {
            status: "declined",
            error: error.to_string(),
        },
        Err(error @ PaymentError::InvalidRequest(_)) => PaymentResult::Refused {
            status: "failed",
            error: error.to_string(),
        },
        // Unavailable: later, same key. Misconfigured: an operator must act;
        // kept pending so that the fixed setup carries it out.
        Err(error) => {
            tracing::warn!(key = %payment.idempotency_key, %error, "payment not done yet");
            retry_later(error.to_string(), true)
        }
    }
}

/// The notification that sends a payment link to the order's customer.
async fn payment_link_message(
    storage: &Storage,
    order_id: &str,
    url: &str,
) -> Result<String, String> {
    let record = storage
        .order(order_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("order {order_id} is missing"))?;
    let doc = crate::orders::parse_order(&record.document).map_err(|e| e.to_string())?;
    let customer = &doc.customer;
    let (subject, body) =
        crate::notify::render_payment_link(customer.language, order_id, &customer.name, url);
    let rendered = crate::notify::RenderedNotification {
        order: order_id.to_owned(),
        fulfilment: None,
        kind: oms_api::wire::NotificationKind::PaymentLink,
        status: None,
        language: customer.language,
        to_email: customer.email.clone(),
        to_phone: customer.phone.clone(),
        subject,
        body,
        attachments: Vec::new(),
    };
    serde_json::to_string(&rendered).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn signature_is_hex_hmac_sha256_of_timestamp_dot_body() {
        let sig = signature("Jefe", 0, b"x");
        assert!(sig.starts_with("v1="));
        assert_eq!(sig.len(), 3 + 64);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.x");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig, format!("v1={expected}"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let config = OutboxConfig {
            webhook_secret: Some("whsec_topsecret".to_owned()),
            payment_gateway_key: Some("sk_live_key".to_owned()),
            ..OutboxConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("topsecret") && !debug.contains("sk_live"),
            "{debug}"
        );
        let outbox = Outbox::new(config).unwrap();
        assert!(!format!("{outbox:?}").contains("topsecret"));
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        let config = OutboxConfig {
            webhook_url: Some("ftp://hooks.example/token123".to_owned()),
            ..OutboxConfig::default()
        };
        let error = Outbox::new(config).unwrap_err().to_string();
        assert!(!error.contains("token123"), "{error}");
    }
}

#![allow(clippy::unwrap_used)]
//! The payment adapters against a real gateway on loopback: a small axum
//! server that keeps an idempotency record and a ledger, and can be told to
//! fail, to be slow or to decline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use oms_domain::lifecycle::{PaymentAction, PaymentKind};
use oms_domain::model::{Currency, Money};
use oms_domain::orchestration::OrderId;
use oms_server::payments::{
    ApiKey, HttpGateway, HttpGatewayConfig, PaidInStore, PaymentError, PaymentProvider,
    PaymentRequest, REPLAYED_HEADER,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// What the test gateway does and has done.
#[derive(Default)]
struct Gateway {
    /// Requests received, failed ones included.
    calls: u32,
    /// Answer this many next calls with 503, before anything else.
    fail_next: u32,
    /// Process this many next operations, then sit on the answer this long.
    slow_next: u32,
    slow_for: Duration,
    /// Refuse every new operation with 402.
    decline: bool,
    /// The `Authorization` header required, if any.
    required_authorization: Option<String>,
    /// Idempotency record: key → the answer given.
    answers: HashMap<String, (StatusCode, Value)>,
    /// Operations done: (operation, key, body).
    ledger: Vec<(String, String, Value)>,
}

type Shared = Arc<Mutex<Gateway>>;

async fn operate(
    State(gateway): State<Shared>,
    Path(operation): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (answer, slow) = {
        let mut g = gateway.lock().unwrap();
        g.calls += 1;
        if g.fail_next > 0 {
            g.fail_next -= 1;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        if let Some(required) = &g.required_authorization {
            let given = headers.get("authorization").and_then(|v| v.to_str().ok());
            if given != Some(required.as_str()) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
        }
        let Some(key) = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
        else {
            return (StatusCode::BAD_REQUEST, Json(json!({"reason": "no key"}))).into_response();
        };
        if let Some((status, value)) = g.answers.get(&key) {
            let mut response = (*status, Json(value.clone())).into_response();
            response
                .headers_mut()
                .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            return response;
        }
        let answer = if g.decline {
            (
                StatusCode::PAYMENT_REQUIRED,
                json!({"reason": "insufficient funds"}),
            )
        } else {
            g.ledger.push((operation.clone(), key.clone(), body));
            let reference = format!("gw-{operation}-{}", g.ledger.len());
            (StatusCode::OK, json!({ "reference": reference }))
        };
        g.answers.insert(key, answer.clone());
        let slow = if g.slow_next > 0 {
            g.slow_next -= 1;
            Some(g.slow_for)
        } else {
            None
        };
        (answer, slow)
    };
    if let Some(delay) = slow {
        // Already recorded: the client times out on a done operation.
        tokio::time::sleep(delay).await;
    }
    (answer.0, Json(answer.1)).into_response()
}

/// Starts a gateway on 127.0.0.1:0; returns its state and base URL.
async fn start_gateway() -> (Shared, String) {
    let state: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/v1/payments/{operation}", post(operate))
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (state, format!("http://{address}"))
}

fn config(base: &str) -> HttpGatewayConfig {
    let mut config = HttpGatewayConfig::new(base);
    config.request_timeout = Duration::from_millis(300);
    config.max_attempts = 4;
    config.initial_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(50);
    config
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

fn request(kind: PaymentKind, reference: Option<&str>, minor: i64) -> PaymentRequest {
    let action = PaymentAction {
        kind,
        order: OrderId::parse("O-1042").unwrap(),
        amount: eur(minor),
        reference: reference.map(str::to_owned),
    };
    PaymentRequest::for_action(&action, Some("gw-authorise-1".to_owned()))
}

fn captures(gateway: &Shared) -> Vec<String> {
    let g = gateway.lock().unwrap();
    g.ledger
        .iter()
        .filter(|(op, _, _)| op == "capture")
        .map(|(_, key, _)| key.clone())
        .collect()
}

#[tokio::test]
async fn unavailable_gateway_is_retried_until_it_answers() {
    let (gateway, base) = start_gateway().await;
    gateway.lock().unwrap().fail_next = 2;
    let provider = HttpGateway::new(config(&base)).unwrap();

    let outcome = provider
        .authorise(&request(PaymentKind::Authorise, None, 4990))
        .await
        .unwrap();

    assert_eq!(outcome.kind, PaymentKind::Authorise);
    assert_eq!(outcome.provider_reference, "gw-authorise-1");
    assert!(!outcome.replayed);
    let g = gateway.lock().unwrap();
    assert_eq!(g.calls, 3, "two 503s, then success");
    assert_eq!(g.ledger.len(), 1);
    let (operation, key, body) = &g.ledger[0];
    assert_eq!(operation, "authorise");
    assert_eq!(key, "O-1042:authorise:order");
    assert_eq!(body["order"], "O-1042");
    assert_eq!(body["amount_minor"], 4990);
    assert_eq!(body["currency"], "EUR");
}

#[tokio::test]
async fn attempts_are_bounded() {
    let (gateway, base) = start_gateway().await;
    gateway.lock().unwrap().fail_next = 100;
    let mut config = config(&base);
    config.max_attempts = 3;
    let provider = HttpGateway::new(config).unwrap();

    let error = provider
        .capture(&request(PaymentKind::Capture, Some("F-1"), 100))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, PaymentError::Unavailable { attempts: 3, last_error } if last_error.contains("503")),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(gateway.lock().unwrap().calls, 3);
    assert!(captures(&gateway).is_empty());
}

/// The capture is done but its answer comes after the client's timeout: the
/// retry carries the same key and gets the recorded answer; the gateway
/// captured once.
#[tokio::test]
async fn a_timeout_after_the_capture_does_not_capture_twice() {
    let (gateway, base) = start_gateway().await;
    {
        let mut g = gateway.lock().unwrap();
        g.slow_next = 1;
        g.slow_for = Duration::from_secs(2);
    }
    let provider = HttpGateway::new(config(&base)).unwrap();
    let capture = request(PaymentKind::Capture, Some("F-1042-1"), 2500);

    let outcome = provider.capture(&capture).await.unwrap();

    assert_eq!(outcome.provider_reference, "gw-capture-1");
    assert!(
        outcome.replayed,
        "the second attempt was answered from the record"
    );
    assert_eq!(gateway.lock().unwrap().calls, 2);
    assert_eq!(captures(&gateway), vec!["O-1042:capture:F-1042-1"]);

    // The same action sent again later (say, after a crash) is still one capture.
    let again = provider.capture(&capture).await.unwrap();
    assert_eq!(again.provider_reference, "gw-capture-1");
    assert!(again.replayed);
    assert_eq!(captures(&gateway).len(), 1);

    // Another fulfilment's capture is another operation.
    provider
        .capture(&request(PaymentKind::Capture, Some("F-1042-2"), 700))
        .await
        .unwrap();
    assert_eq!(captures(&gateway).len(), 2);
}

#[tokio::test]
async fn declines_are_not_retried() {
    let (gateway, base) = start_gateway().await;
    gateway.lock().unwrap().decline = true;
    let provider = HttpGateway::new(config(&base)).unwrap();

    let error = provider
        .authorise(&request(PaymentKind::Authorise, None, 990_000))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        PaymentError::Declined {
            operation: "authorise",
            reason: "insufficient funds".to_owned()
        }
    );
    assert!(!error.is_retryable());
    assert_eq!(gateway.lock().unwrap().calls, 1);
}

#[tokio::test]
async fn the_api_key_goes_in_the_authorization_header_only() {
    let (gateway, base) = start_gateway().await;
    gateway.lock().unwrap().required_authorization = Some("Bearer sk_test_4242".to_owned());

    let mut good = config(&base);
    good.api_key = Some(ApiKey::new("sk_test_4242"));
    let provider = HttpGateway::new(good).unwrap();
    assert!(!format!("{provider:?}").contains("sk_test_4242"));
    provider
        .void(&request(PaymentKind::Void, None, 4990))
        .await
        .unwrap();

    let mut wrong = config(&base);
    wrong.api_key = Some(ApiKey::new("sk_test_wrong"));
    let provider = HttpGateway::new(wrong).unwrap();
    let error = provider
        .refund(&request(PaymentKind::Refund, Some("R-1"), 100))
        .await
        .unwrap_err();
    assert!(matches!(error, PaymentError::Misconfigured(_)), "{error:?}");
    assert!(!error.to_string().contains("sk_test"));
    assert_eq!(
        gateway.lock().unwrap().calls,
        2,
        "a refused key is not retried"
    );
}

#[tokio::test]
async fn an_unreachable_gateway_is_unavailable_after_the_attempts() {
    // A port nobody listens on any more.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut config = config(&format!("http://{address}"));
    config.max_attempts = 2;
    let provider = HttpGateway::new(config).unwrap();

    let error = provider
        .authorise(&request(PaymentKind::Authorise, None, 100))
        .await
        .unwrap_err();

    assert!(
        matches!(error, PaymentError::Unavailable { attempts: 2, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn paid_in_store_always_succeeds_at_once() {
    let providers: Vec<Arc<dyn PaymentProvider>> = vec![Arc::new(PaidInStore)];
    for provider in providers {
        for kind in [
            PaymentKind::Authorise,
            PaymentKind::Capture,
            PaymentKind::Void,
            PaymentKind::Refund,
        ] {
            let request = request(kind, Some("F-1042-1"), 1999);
            let outcome = provider.execute(kind, &request).await.unwrap();
            assert_eq!(outcome.kind, kind);
            assert_eq!(
                outcome.provider_reference,
                format!("in-store:{}", request.idempotency_key)
            );
        }
    }
    let outcome = PaidInStore
        .capture(&request(PaymentKind::Capture, None, 1))
        .await
        .unwrap();
    assert_eq!(outcome.provider_reference, "in-store:O-1042:capture:order");
}

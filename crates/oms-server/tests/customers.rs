//! The customer register and receipts over HTTP on a real server, on
//! SQLite and PostgreSQL: find or create with validation and one customer
//! per e-mail address, orders linked by id or by e-mail, the receipt PDF
//! (its text and its barcode, decoded with zbarimg when installed) and the
//! e-mail receipt delivered through the notification outbox.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use common::{Db, TestServer};
use oms_api::wire::{
    CustomerCreated, CustomerQuery, EmailReceipt, Language, NewCustomer, NotificationKind,
    ReceiptQuery,
};
use oms_api::{ClientError, OmsClient};
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::stock::StockRow;
use oms_server::OutboxConfig;
use serde_json::{Value, json};

const PARIS: &str = r#"{"address": {"coordinates": {"lat": 48.857, "lon": 2.372},
    "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"}}"#;

/// A standard product with plenty of stock at the Paris warehouse.
async fn stocked_sku(server: &TestServer) -> String {
    let (_, _, page) = server.get_json("/v1/products?limit=50").await;
    let sku = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_type"] == "standard")
        .unwrap()["sku"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .state
        .storage
        .set_stock_levels(&[StockRow {
            sku: Sku::parse(&sku).unwrap(),
            location: LocationId::parse("WH-PARIS").unwrap(),
            on_hand: 500,
            reserved: Quantity::new(0),
        }])
        .await
        .unwrap();
    server
        .state
        .stock
        .refresh(&server.state.storage)
        .await
        .unwrap();
    sku
}

async fn place(server: &TestServer, sku: &str, customer: Value) -> (u16, Value) {
    place_paid(server, sku, customer, "in_store").await
}

async fn place_paid(
    server: &TestServer,
    sku: &str,
    customer: Value,
    payment: &str,
) -> (u16, Value) {
    let order = json!({"channel": "web-fr", "delivery": "home_delivery",
        "destination": serde_json::from_str::<Value>(PARIS).unwrap(),
        "customer": customer, "lines": [{"sku": sku, "quantity": 2}],
        "payment": payment});
    let response = server
        .http
        .post(format!("{}/v1/orders", server.base))
        .json(&order)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn post_json(server: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let response = server
        .http
        .post(format!("{}{path}", server.base))
        .json(body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn customers_find_or_create(db: Db) {
    let server = common::start(db).await;
    let client = &server.client;

    // Created, normalised.
    let ana = NewCustomer {
        name: "  Ana Martin ".into(),
        email: Some("Ana.Martin@Example.com".into()),
        phone: Some("+33 6 12 34 56 78".into()),
        language: Language::Fr,
    };
    let CustomerCreated::Created(created) = client.create_customer(&ana).await.unwrap() else {
        panic!("a new customer");
    };
    assert!(created.id.starts_with("C-"), "{created:?}");
    assert_eq!(created.name, "Ana Martin");
    assert_eq!(created.email.as_deref(), Some("ana.martin@example.com"));
    assert_eq!(created.phone.as_deref(), Some("+33612345678"));
    assert_eq!(created.language, Language::Fr);
    assert_eq!(client.customer(&created.id).await.unwrap(), created);

    // The same e-mail address (another case): 409 with the existing one.
    let again = NewCustomer {
        name: "A. Martin".into(),
        email: Some("ANA.MARTIN@example.com".into()),
        phone: None,
        language: Language::En,
    };
    match client.create_customer(&again).await.unwrap() {
        CustomerCreated::Existing(existing) => assert_eq!(existing, created),
        other => panic!("a duplicate: {other:?}"),
    }
    let (status, body) = post_json(
        &server,
        "/v1/customers",
        &json!({"name": "Ana", "email": "ana.martin@example.com"}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["type"], "duplicate-customer");
    assert_eq!(body["existing"]["id"], created.id.as_str());

    // Invalid input: 422, nothing written.
    for bad in [
        json!({"name": " ", "email": "x@example.com"}),
        json!({"name": "Bob", "email": "not-an-address"}),
        json!({"name": "Bob", "phone": "12"}),
        json!({"name": "Bob"}),
        json!({"name": "Bob", "email": "bob@example.com", "language": "es"}),
        json!({"name": "Bob", "email": "bob@example.com", "vip": true}),
    ] {
        let (status, body) = post_json(&server, "/v1/customers", &bad).await;
        assert_eq!(status, 422, "{bad} → {body}");
    }
    // A phone-only customer is fine.
    let (status, bob) = post_json(
        &server,
        "/v1/customers",
        &json!({"name": "Bob Dupont", "phone": "06 98 76 54 32", "language": "de"}),
    )
    .await;
    assert_eq!(status, 201, "{bob}");
    assert!(bob.get("email").is_none());

    // Find: name start, a word of the name, e-mail start, phone digits.
    let find = |q: &str| {
        let q = q.to_owned();
        async move {
            client
                .customers(&CustomerQuery {
                    q: Some(q),
                    limit: None,
                })
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("an").await, vec![created.id.clone()]);
    assert_eq!(find("MARTIN").await, vec![created.id.clone()]);
    assert_eq!(find("ana.mar").await, vec![created.id.clone()]);
    assert_eq!(
        find("06 12 34").await,
        Vec::<String>::new(),
        "digits as typed"
    );
    assert_eq!(find("612 34").await, vec![created.id.clone()]);
    assert_eq!(
        find("9876").await,
        vec![bob["id"].as_str().unwrap().to_owned()]
    );
    assert!(find("zz").await.is_empty());
    assert!(find("50%").await.is_empty(), "wildcards are characters");
    for bad in [
        "/v1/customers?q=a",
        "/v1/customers",
        "/v1/customers?q=ana&limit=0",
        "/v1/customers?q=ana&limit=51",
    ] {
        let (status, _, _) = server.get_json(bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _, _) = server.get_json("/v1/customers/C-NONE0000").await;
    assert_eq!(status, 404);
    let (status, _, _) = server.get_json("/v1/customers/nope").await;
    assert_eq!(status, 404);

    // Orders link to the register: by id, by e-mail, or not at all.
    let sku = stocked_sku(&server).await;
    let (status, by_id) = place(
        &server,
        &sku,
        json!({"id": created.id, "name": "Ana Martin", "email": "ana.martin@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{by_id}");
    assert_eq!(by_id["customer"]["id"], created.id.as_str());
    let (status, by_email) = place(
        &server,
        &sku,
        json!({"name": "Ana", "email": "Ana.Martin@EXAMPLE.com"}),
    )
    .await;
    assert_eq!(status, 201, "{by_email}");
    assert_eq!(by_email["customer"]["id"], created.id.as_str());
    let (status, guest) = place(
        &server,
        &sku,
        json!({"name": "Chloé", "email": "chloe@example.com"}),
    )
    .await;
    assert_eq!(status, 201, "{guest}");
    assert!(guest["customer"].get("id").is_none(), "{guest}");
    assert!(
        find("chlo").await.is_empty(),
        "a placement registers nobody"
    );
    let (status, unknown) = place(&server, &sku, json!({"id": "C-NONE0000", "name": "X"})).await;
    assert_eq!(status, 404, "{unknown}");
    let (status, _) = place(&server, &sku, json!({"id": "bad id", "name": "X"})).await;
    assert_eq!(status, 422);
    // The link is kept with the order.
    let (_, _, stored) = server
        .get_json(&format!("/v1/orders/{}", by_email["id"].as_str().unwrap()))
        .await;
    assert_eq!(stored["customer"]["id"], created.id.as_str());
}

/// Text of a PDF with pdftotext, when installed.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipt.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    assert!(out.status.success(), "pdftotext failed on the receipt");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The barcodes zbarimg reads on the receipt's first page, when pdftoppm
/// and zbarimg are installed.
fn scanned_barcodes(pdf: &[u8]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipt.pdf");
    std::fs::write(&path, pdf).unwrap();
    let prefix = dir.path().join("page");
    let rendered = Command::new("pdftoppm")
        .args(["-r", "200", "-f", "1", "-l", "1", "-singlefile", "-png"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .ok()?;
    assert!(rendered.success(), "pdftoppm failed on the receipt");
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(dir.path().join("page.png"))
        .output()
        .ok()?;
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

type Sink = Arc<Mutex<Vec<Value>>>;

async fn sink(State(sink): State<Sink>, body: String) -> axum::http::StatusCode {
    sink.lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap());
    axum::http::StatusCode::NO_CONTENT
}

/// The retailer's e-mail service: a receiver on 127.0.0.1 for notifications.
async fn start_sink() -> (Sink, String) {
    let state: Sink = Arc::default();
    let app = axum::Router::new()
        .route("/notify", post(sink))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (state, format!("http://{address}/notify"))
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        other => panic!("not base64: {other}"),
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| value(c))
            .collect();
        let n = digits
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        for i in 0..digits.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

async fn receipts(db: Db) {
    let (delivered, url) = start_sink().await;
    let outbox = OutboxConfig {
        notification_url: Some(url),
        poll_interval: Duration::from_millis(50),
        ..OutboxConfig::default()
    };
    let server = common::start_with_config(db, outbox).await;
    let client = &server.client;
    let sku = stocked_sku(&server).await;
    let (status, order) = place(
        &server,
        &sku,
        json!({"name": "Zoë Müller", "email": "zoe@example.com", "language": "fr"}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();

    // The PDF: its text and its barcode carry the order number.
    let pdf = client
        .order_receipt(&id, &ReceiptQuery::default())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let raw = server
        .http
        .get(format!("{}/v1/orders/{id}/receipt", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["content-type"], "application/pdf");
    match pdf_text(&pdf) {
        Some(text) => {
            assert!(text.contains(&id), "{text}");
            assert!(
                text.contains("Ticket de caisse"),
                "in the customer's language: {text}"
            );
            assert!(text.contains("Zoë Müller"), "{text}");
            assert!(text.contains(&sku), "{text}");
            assert!(text.contains("Livraison à domicile"), "{text}");
            assert!(text.contains("Payé en caisse"), "{text}");
            let total = order["total"]["minor"].as_i64().unwrap();
            let total = format!("{}.{:02} EUR", total / 100, total % 100);
            assert!(text.contains(&total), "{total} in {text}");
        }
        None => {
            assert!(String::from_utf8_lossy(&pdf).contains(&format!("({id})")));
            eprintln!("pdftotext is not installed: checked the raw PDF only");
        }
    }
    match scanned_barcodes(&pdf) {
        Some(codes) => assert_eq!(
            codes,
            vec![id.clone()],
            "the barcode scans as the order number"
        ),
        None => eprintln!("pdftoppm or zbarimg is not installed: barcode not scanned"),
    }
    let german = client
        .order_receipt(
            &id,
            &ReceiptQuery {
                lang: Some(Language::De),
                store: Some(LocationId::parse("WH-PARIS").unwrap()),
            },
        )
        .await
        .unwrap();
    if let Some(text) = pdf_text(&german) {
        assert!(text.contains("Kassenbeleg"), "{text}");
    }
    let (status, _, problem) = server.get_json("/v1/orders/O-NONE/receipt").await;
    assert_eq!(status, 404, "{problem}");
    let (status, _, _) = server
        .get_json(&format!("/v1/orders/{id}/receipt?lang=es"))
        .await;
    assert_eq!(status, 400);

    // By e-mail: queued in the outbox, delivered with the PDF attached.
    let queued = client
        .email_receipt(&id, &EmailReceipt::default())
        .await
        .unwrap();
    assert_eq!(queued.kind, NotificationKind::Receipt);
    assert_eq!(queued.to_email.as_deref(), Some("zoe@example.com"));
    assert!(queued.subject.contains(&id));
    let listed = client.order_notifications(&id).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|n| n.id == queued.id && n.kind == NotificationKind::Receipt),
        "{listed:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let message = loop {
        let found = delivered
            .lock()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "receipt")
            .cloned();
        if let Some(message) = found {
            break message;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the receipt was never delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(message["order"], id.as_str());
    assert_eq!(message["to_email"], "zoe@example.com");
    let attachment = &message["attachments"][0];
    assert_eq!(attachment["content_type"], "application/pdf");
    assert_eq!(
        decode_base64(attachment["content_base64"].as_str().unwrap()),
        pdf,
        "the attached receipt is the printed one"
    );

    // Another address, checked; none at all is a 422.
    let other = client
        .email_receipt(
            &id,
            &EmailReceipt {
                to: Some(" Zoe.Work@Example.org ".into()),
                ..EmailReceipt::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(other.to_email.as_deref(), Some("zoe.work@example.org"));
    let (status, no_email) = place(&server, &sku, json!({"name": "Walk-in"})).await;
    assert_eq!(status, 201);
    let walk_in = no_email["id"].as_str().unwrap();
    for (body, expected) in [
        (json!({}), 422),
        (json!({"to": "nope"}), 422),
        (json!({"to": "x@example.com", "cc": "y"}), 422),
        (json!({"to": "walkin@example.com"}), 202),
    ] {
        let (status, answer) = post_json(
            &server,
            &format!("/v1/orders/{walk_in}/receipt/email"),
            &body,
        )
        .await;
        assert_eq!(status, expected, "{body} → {answer}");
    }
    let (status, _) = post_json(&server, "/v1/orders/O-NONE/receipt/email", &json!({})).await;
    assert_eq!(status, 404);

    // Store roles print receipts for their own store only.
    let (_, _, locations) = server.get_json("/v1/locations?limit=200").await;
    let store = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "store")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, token) = post_json(
        &server,
        "/v1/tokens",
        &json!({"role": "store_associate", "store": store, "label": "till"}),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let till = OmsClient::new(&server.base)
        .unwrap()
        .with_token(token["token"].as_str().unwrap());
    let elsewhere = ReceiptQuery {
        lang: None,
        store: Some(LocationId::parse("WH-LYON").unwrap()),
    };
    match till.order_receipt(&id, &elsewhere).await {
        Err(ClientError::Problem(problem)) => assert_eq!(problem.status, 403),
        other => panic!("a receipt for another store: {other:?}"),
    }
}

/// A pay-by-link gateway on 127.0.0.1: authorisations answer a link.
async fn start_link_gateway() -> String {
    async fn operate(
        axum::extract::Path(operation): axum::extract::Path<String>,
        headers: axum::http::HeaderMap,
    ) -> axum::Json<Value> {
        let key = headers["idempotency-key"].to_str().unwrap().to_owned();
        let order = key.split(':').next().unwrap().to_owned();
        axum::Json(if operation == "authorise" {
            json!({"reference": format!("gw-{key}"),
                   "payment_url": format!("https://pay.example.test/l/{order}")})
        } else {
            json!({"reference": format!("gw-{key}")})
        })
    }
    let app = axum::Router::new().route("/v1/payments/{operation}", post(operate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{address}")
}

/// Waits (at most 30 s) until the order's authorisation is no longer pending.
async fn authorisation(server: &TestServer, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, _, order) = server.get_json(&format!("/v1/orders/{id}")).await;
        let auth = order["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == "authorise")
            .cloned()
            .unwrap();
        if done(&auth) {
            return auth;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "authorisation stuck: {auth}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn payment_links(db: Db) {
    // Without a gateway the authorisation waits, and says why.
    let plain = common::start_with_config(
        db,
        OutboxConfig {
            poll_interval: Duration::from_millis(50),
            ..OutboxConfig::default()
        },
    )
    .await;
    let sku = stocked_sku(&plain).await;
    let (status, order) = place_paid(
        &plain,
        &sku,
        json!({"name": "Ana", "email": "ana@example.com"}),
        "gateway",
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let auth = authorisation(&plain, order["id"].as_str().unwrap(), |a| {
        a.get("last_error").is_some()
    })
    .await;
    assert_eq!(auth["status"], "pending");
    assert_eq!(auth["last_error"], "no payment gateway configured");
    assert!(auth.get("link").is_none());
    drop(plain);

    // A pay-by-link gateway: the link is kept and sent to the customer.
    let (delivered, url) = start_sink().await;
    let server = common::start_with_config(
        db,
        OutboxConfig {
            notification_url: Some(url),
            payment_gateway_url: Some(start_link_gateway().await),
            poll_interval: Duration::from_millis(50),
            ..OutboxConfig::default()
        },
    )
    .await;
    let sku = stocked_sku(&server).await;
    let (status, order) = place_paid(
        &server,
        &sku,
        json!({"name": "Zoë", "email": "zoe@example.com", "language": "de"}),
        "gateway",
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let link = format!("https://pay.example.test/l/{id}");
    let auth = authorisation(&server, &id, |a| a["status"] != "pending").await;
    assert_eq!(auth["status"], "succeeded");
    assert_eq!(auth["link"], link.as_str());
    assert!(auth.get("last_error").is_none());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let message = loop {
        let found = delivered
            .lock()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "payment_link")
            .cloned();
        if let Some(message) = found {
            break message;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the payment link was never sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(message["order"], id.as_str());
    assert_eq!(message["to_email"], "zoe@example.com");
    assert_eq!(message["language"], "de");
    assert!(
        message["body"].as_str().unwrap().contains(&link),
        "{message}"
    );
    let notifications = server.client.order_notifications(&id).await.unwrap();
    assert_eq!(
        notifications
            .iter()
            .filter(|n| n.kind == NotificationKind::PaymentLink)
            .count(),
        1,
        "sent once"
    );
}

on_both_databases! {
    customers => customers_find_or_create,
    receipt => receipts,
    payment_link => payment_links,
}

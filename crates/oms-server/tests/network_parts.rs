//! Parts of the network as resources (periods, safety stock, transit times)
//! and channel prices, on SQLite and PostgreSQL: each replaced on its own,
//! validated before anything is written, and followed by ATP and orders.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use serde_json::{Value, json};

async fn put(server: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    let response = server
        .http
        .put(format!("{}{path}", server.base))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn parts(db: common::Db) {
    let server = common::start(db).await;
    let (_, _, before) = server.get_json("/v1/network").await;

    // Safety stock: the global figure applies where nothing more specific does.
    let (status, _, mut safety) = server.get_json("/v1/network/safety-stock").await;
    assert_eq!(status, 200);
    assert_eq!(safety, before["safety_stock"]);
    safety["global"] = json!(7);
    safety["per_location"] = json!([]);
    safety["per_location_sku"] = json!([]);
    let (status, stored) = put(&server, "/v1/network/safety-stock", &safety).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["global"], 7);
    let (_, _, products) = server.get_json("/v1/products?limit=1").await;
    let sku = products["items"][0]["sku"].as_str().unwrap().to_owned();
    let (_, _, stock) = server.get_json(&format!("/v1/stock/{sku}")).await;
    assert!(
        stock["levels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["safety"] == 7),
        "{stock}"
    );

    // A bad part is refused whole: nothing changes.
    let (status, problem) = put(
        &server,
        "/v1/network/safety-stock",
        &json!({"global": -1, "per_location": [], "per_location_sku": []}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (_, _, still) = server.get_json("/v1/network/safety-stock").await;
    assert_eq!(still["global"], 7);
    let mut periods = before["periods"].clone();
    if let Some(first) = periods.as_array_mut().and_then(|p| p.first_mut()) {
        // Ends before it starts.
        first["ends_at"] = json!("2001-01-01T00:00:00Z");
    } else {
        periods = json!([{"name": "bad", "starts_at": "2030-01-02T00:00:00Z",
            "ends_at": "2030-01-01T00:00:00Z", "target": {"location_kind": {"kind": "store"}},
            "effect": "excluded"}]);
    }
    let (status, _) = put(&server, "/v1/network/periods", &periods).await;
    assert_eq!(status, 422);
    let (_, _, unchanged) = server.get_json("/v1/network/periods").await;
    assert_eq!(unchanged, before["periods"]);

    // Periods and transit round-trip, and writing one leaves the others be.
    let (status, stored) = put(&server, "/v1/network/periods", &json!([])).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored, json!([]));
    let (status, transit) = put(&server, "/v1/network/transit", &before["transit"]).await;
    assert_eq!(status, 200, "{transit}");
    assert_eq!(transit, before["transit"]);
    let (_, _, after) = server.get_json("/v1/network").await;
    assert_eq!(after["safety_stock"]["global"], 7);
    assert_eq!(after["periods"], json!([]));
    assert_eq!(after["locations"], before["locations"]);

    // Channel prices: only in the channel's currency; set, read, removed.
    let (status, problem) = put(
        &server,
        &format!("/v1/products/{sku}/prices/web-fr"),
        &json!({"amount_minor": 1234, "currency": "USD"}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, price) = put(
        &server,
        &format!("/v1/products/{sku}/prices/web-fr"),
        &json!({"amount_minor": 1234, "currency": "EUR"}),
    )
    .await;
    assert_eq!(status, 200, "{price}");
    let (_, _, prices) = server.get_json(&format!("/v1/products/{sku}/prices")).await;
    assert_eq!(
        prices,
        json!([{"channel": "web-fr", "price": {"amount_minor": 1234, "currency": "EUR"}}])
    );
    let (status, _) = put(
        &server,
        "/v1/products/NO-SUCH-SKU/prices/web-fr",
        &json!({"amount_minor": 1, "currency": "EUR"}),
    )
    .await;
    assert_eq!(status, 404);
    let deleted = server
        .http
        .delete(format!("{}/v1/products/{sku}/prices/web-fr", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (_, _, prices) = server.get_json(&format!("/v1/products/{sku}/prices")).await;
    assert_eq!(prices, json!([]));
}

on_both_databases! {
    network_parts_and_channel_prices => parts,
}

//! Cursor paging of the order search (`GET /v1/orders?q=`) and of a
//! location's fulfilment queue (`GET /v1/locations/{id}/fulfilments`) on a
//! real server, on SQLite and PostgreSQL: small pages walked with the
//! opaque cursor give exactly the one big page (same order, no row twice or
//! missing, also with rows written between two pages), and bad limits and
//! foreign cursors are refused.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Db, TestServer};
use oms_api::wire::{OrderQuery, QueueQuery};
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::stock::StockRow;
use serde_json::{Value, json};

const PARIS: &str = r#"{"address": {"coordinates": {"lat": 48.857, "lon": 2.372},
    "postal_code": "75011", "country": "FR", "carrier_zone": "FR-IDF"}}"#;
const EMAIL: &str = "pager@example.com";

/// A standard product with plenty of stock at the Paris warehouse only, so
/// that every order is served from there.
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
    let levels = server.state.storage.stock_of_sku(&sku).await.unwrap();
    let mut rows: Vec<StockRow> = levels
        .iter()
        .map(|l| StockRow {
            sku: Sku::parse(&sku).unwrap(),
            location: LocationId::parse(&l.location).unwrap(),
            on_hand: 0,
            reserved: Quantity::new(0),
        })
        .collect();
    rows.retain(|r| r.location.as_str() != "WH-PARIS");
    rows.push(StockRow {
        sku: Sku::parse(&sku).unwrap(),
        location: LocationId::parse("WH-PARIS").unwrap(),
        on_hand: 1000,
        reserved: Quantity::new(0),
    });
    server.state.storage.set_stock_levels(&rows).await.unwrap();
    server
        .state
        .stock
        .refresh(&server.state.storage)
        .await
        .unwrap();
    sku
}

async fn place(server: &TestServer, sku: &str, n: usize) {
    let body = json!({
        "channel": "web-fr",
        "delivery": "home_delivery",
        "destination": serde_json::from_str::<Value>(PARIS).unwrap(),
        "customer": {"name": format!("Pager {n}"), "email": EMAIL, "language": "fr"},
        "lines": [{"sku": sku, "quantity": 1}],
        "payment": "gateway",
        "accept_partial": false,
    });
    let response = server
        .http
        .post(format!("{}/v1/orders", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.text().await.unwrap()
    );
}

async fn search(
    server: &TestServer,
    limit: u32,
    cursor: Option<String>,
) -> (Vec<String>, Option<String>) {
    let page = server
        .client
        .search_orders(&OrderQuery {
            q: Some(EMAIL.to_owned()),
            limit: Some(limit),
            cursor,
        })
        .await
        .unwrap();
    (
        page.items
            .iter()
            .map(|o| o.id.as_str().to_owned())
            .collect(),
        page.next_cursor,
    )
}

async fn queue(
    server: &TestServer,
    limit: u32,
    cursor: Option<String>,
) -> (Vec<String>, Option<String>) {
    let page = server
        .client
        .location_fulfilments(
            "WH-PARIS",
            &QueueQuery {
                status: None,
                limit: Some(limit),
                cursor,
            },
        )
        .await
        .unwrap();
    (
        page.items
            .iter()
            .map(|f| f.id.as_str().to_owned())
            .collect(),
        page.next_cursor,
    )
}

async fn paging(db: Db) {
    let server = common::start(db).await;
    let sku = stocked_sku(&server).await;
    for n in 0..7 {
        place(&server, &sku, n).await;
    }

    // Orders: one page of everything, then pages of 3 through the cursor.
    let (all, none) = search(&server, 100, None).await;
    assert_eq!(all.len(), 7);
    assert_eq!(none, None, "one page holds them all: no cursor");
    let (first, cursor) = search(&server, 3, None).await;
    assert_eq!(first, all[..3]);
    let cursor = cursor.expect("more after the first page");
    assert!(!cursor.contains("O-"), "the cursor is opaque: {cursor}");
    // An order placed between two pages (newest: before the cursor) does not
    // shift the next pages.
    place(&server, &sku, 7).await;
    let (second, cursor) = search(&server, 3, Some(cursor)).await;
    assert_eq!(second, all[3..6]);
    let (third, cursor) = search(&server, 3, cursor).await;
    assert_eq!(third, all[6..]);
    assert_eq!(cursor, None, "the last page has no cursor");

    // The Paris warehouse's queue, the same way.
    let (all, none) = queue(&server, 500, None).await;
    assert_eq!(all.len(), 8);
    assert_eq!(none, None);
    let mut walked = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = queue(&server, 3, cursor).await;
        assert!(page.len() <= 3);
        walked.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, all, "pages of 3 give the one big page, in order");

    // Refused: a limit out of bounds, a cursor this server did not issue.
    for path in [
        format!("/v1/orders?q={EMAIL}&limit=0"),
        format!("/v1/orders?q={EMAIL}&limit=101"),
        format!("/v1/orders?q={EMAIL}&cursor=O-ABCD2345"),
        format!("/v1/orders?q={EMAIL}&cursor=c1ff"),
        "/v1/locations/WH-PARIS/fulfilments?limit=0".to_owned(),
        "/v1/locations/WH-PARIS/fulfilments?limit=501".to_owned(),
        "/v1/locations/WH-PARIS/fulfilments?cursor=c16869".to_owned(),
    ] {
        let (status, _, problem) = server.get_json(&path).await;
        assert_eq!(status, 400, "{path}: {problem}");
        assert_eq!(problem["type"], "invalid-query", "{path}");
    }
}

on_both_databases! {
    pages => paging,
}

//! The catalogue API over real HTTP on loopback, on a real SQLite file seeded
//! with the demo retailer.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use oms_api::wire::{Page, Product, ProductQuery};
use oms_api::{ClientError, OmsClient};
use oms_domain::demo::{self, DemoSize};
use oms_server::{Config, DemoSpec, StartError};
use std::collections::BTreeSet;

struct TestServer {
    client: OmsClient,
    base: String,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

const SEED: u64 = 11;

async fn start() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database_path: dir.path().join("oms.sqlite"),
        demo: Some(DemoSpec {
            size: DemoSize::Small,
            seed: SEED,
        }),
    };
    let state = oms_server::open(&config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(oms_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestServer {
        client: OmsClient::new(&base).unwrap(),
        base,
        _dir: dir,
        stop: Some(stop),
    }
}

fn query(q: &str, limit: u32, cursor: Option<String>) -> ProductQuery {
    ProductQuery {
        q: Some(q.to_owned()),
        limit: Some(limit),
        cursor,
    }
}

/// Every page of a search, following cursors.
async fn all_pages(client: &OmsClient, q: &str, limit: u32) -> Vec<Product> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page: Page<Product> = client.products(&query(q, limit, cursor)).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

#[tokio::test]
async fn health_reports_version_and_a_stable_instance_id() {
    let server = start().await;
    let first = server.client.health().await.unwrap();
    let second = server.client.health().await.unwrap();
    assert_eq!(first.status, "ok");
    assert_eq!(first.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(first.instance_id, second.instance_id);
}

#[tokio::test]
async fn search_pages_through_exactly_the_matching_demo_products() {
    let server = start().await;
    // The expected answer, computed independently from the demo catalogue.
    let expected: BTreeSet<String> = demo::catalogue(SEED, DemoSize::Small)
        .into_iter()
        .filter(|p| {
            let name = p.name.to_lowercase();
            name.contains("oak") && name.contains("lamp")
        })
        .map(|p| p.sku)
        .collect();
    assert!(
        expected.len() > 10,
        "the demo should hold several oak lamps"
    );

    let found = all_pages(&server.client, "Oak LAMP", 7).await;
    let skus: Vec<String> = found.iter().map(|p| p.sku.clone()).collect();
    let mut sorted = skus.clone();
    sorted.sort();
    assert_eq!(skus, sorted, "results come in SKU order");
    assert_eq!(skus.into_iter().collect::<BTreeSet<_>>(), expected);
    for product in &found {
        assert_eq!(product.price.currency.as_str(), "EUR");
        assert!(product.price.amount_minor > 0);
        assert!(!product.barcodes.is_empty());
    }
}

#[tokio::test]
async fn sku_and_barcode_find_the_product() {
    let server = start().await;
    let catalogue = demo::catalogue(SEED, DemoSize::Small);
    let target = &catalogue[1234];

    let by_sku = server
        .client
        .products(&query(&target.sku, 10, None))
        .await
        .unwrap();
    assert_eq!(by_sku.items.len(), 1);
    assert_eq!(by_sku.items[0].name, target.name);

    let by_barcode = server
        .client
        .products(&query(&target.barcodes[0], 10, None))
        .await
        .unwrap();
    assert_eq!(by_barcode.items.len(), 1);
    assert_eq!(by_barcode.items[0].sku, target.sku);
    assert_eq!(by_barcode.items[0].barcodes, target.barcodes);
}

#[tokio::test]
async fn like_wildcards_in_a_query_match_literally() {
    let server = start().await;
    let page = server
        .client
        .products(&query("100%", 10, None))
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let page = server.client.products(&query("_", 10, None)).await.unwrap();
    assert!(page.items.is_empty());
}

async fn problem_of(server: &TestServer, path_and_query: &str) -> (u16, String, serde_json::Value) {
    let response = reqwest::get(format!("{}{path_and_query}", server.base))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.json().await.unwrap())
}

#[tokio::test]
async fn bad_input_is_a_problem_json_error() {
    let server = start().await;
    for (path, status, kind) in [
        ("/v1/products?limit=0", 400, "invalid-query"),
        ("/v1/products?limit=201", 400, "invalid-query"),
        ("/v1/products?limit=ten", 400, "invalid-query"),
        ("/v1/products?cursor=not-ours", 400, "invalid-query"),
        ("/v1/nothing-here", 404, "not-found"),
    ] {
        let (actual, content_type, body) = problem_of(&server, path).await;
        assert_eq!(actual, status, "{path}");
        assert_eq!(content_type, "application/problem+json", "{path}");
        assert_eq!(body["type"], kind, "{path}");
        assert_eq!(body["status"], status, "{path}");
    }
    let long = "x".repeat(201);
    let error = server
        .client
        .products(&query(&long, 10, None))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Problem(p) if p.status == 400));
}

#[tokio::test]
async fn reopening_seeds_once_and_refuses_another_demo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oms.sqlite");
    let config = |seed| Config {
        database_path: path.clone(),
        demo: Some(DemoSpec {
            size: DemoSize::Small,
            seed,
        }),
    };
    let first = oms_server::open(&config(3)).await.unwrap();
    assert_eq!(first.storage.product_count().await.unwrap(), 10_000);
    let again = oms_server::open(&config(3)).await.unwrap();
    assert_eq!(again.storage.product_count().await.unwrap(), 10_000);
    assert_ne!(first.instance_id, again.instance_id);
    let other = oms_server::open(&config(4)).await.unwrap_err();
    assert!(matches!(other, StartError::DemoMismatch { .. }));
}

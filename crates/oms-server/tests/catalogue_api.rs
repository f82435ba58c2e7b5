//! The catalogue, network, stock and change-sequence API over real HTTP on
//! loopback, on SQLite and on PostgreSQL, seeded with the demo retailer.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

mod common;

use common::{Db, SEED, TestServer, start};
use oms_api::ClientError;
use oms_api::wire::{ChangePage, ChangedEntity, Page, Product, ProductQuery};
use oms_domain::demo::{self, DemoSize};
use oms_server::{Config, DemoSpec, StartError};
use std::collections::BTreeSet;

fn query(q: &str, limit: u32, cursor: Option<String>) -> ProductQuery {
    ProductQuery {
        q: Some(q.to_owned()),
        limit: Some(limit),
        cursor,
        ..ProductQuery::default()
    }
}

/// Every page of a search, following cursors.
async fn all_pages(server: &TestServer, q: &str, limit: u32) -> Vec<Product> {
    filtered_pages(server, &query(q, limit, None)).await
}

/// Every page of a search with filters, following cursors.
async fn filtered_pages(server: &TestServer, first: &ProductQuery) -> Vec<Product> {
    let limit = first.limit.unwrap_or(50);
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page: Page<Product> = server
            .client
            .products(&ProductQuery {
                cursor,
                ..first.clone()
            })
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

async fn get_json(server: &TestServer, path: &str) -> (u16, String, serde_json::Value) {
    server.get_json(path).await
}

async fn health_reports_version_and_a_stable_instance_id(db: Db) {
    let server = start(db).await;
    let first = server.client.health().await.unwrap();
    let second = server.client.health().await.unwrap();
    assert_eq!(first.status, "ok");
    assert_eq!(first.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(first.instance_id, second.instance_id);
}

async fn search_pages_through_exactly_the_matching_demo_products(db: Db) {
    let server = start(db).await;
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

    let found = all_pages(&server, "Oak LAMP", 7).await;
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

async fn sku_and_barcode_find_the_product(db: Db) {
    let server = start(db).await;
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
    let mut barcodes = target.barcodes.clone();
    barcodes.sort();
    assert_eq!(by_barcode.items[0].barcodes, barcodes);

    let (status, _, body) = get_json(&server, &format!("/v1/products/{}", target.sku)).await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], target.name);

    // Wildcards match literally.
    assert!(
        server
            .client
            .products(&query("100%", 10, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        server
            .client
            .products(&query("_", 10, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn bad_input_is_a_problem_json_error(db: Db) {
    let server = start(db).await;
    for (path, status, kind) in [
        ("/v1/products?limit=0", 400, "invalid-query"),
        ("/v1/products?limit=201", 400, "invalid-query"),
        ("/v1/products?limit=ten", 400, "invalid-query"),
        ("/v1/products?cursor=not-ours", 400, "invalid-query"),
        ("/v1/products/NO-SUCH-SKU", 404, "not-found"),
        ("/v1/locations/NOWHERE", 404, "not-found"),
        ("/v1/locations/NOWHERE/stock", 404, "not-found"),
        ("/v1/stock/NO-SUCH-SKU", 404, "not-found"),
        ("/v1/changes?cursor=12", 400, "invalid-query"),
        ("/v1/changes?limit=0", 400, "invalid-query"),
        ("/v1/nothing-here", 404, "no-route"),
    ] {
        let (actual, content_type, body) = get_json(&server, path).await;
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

async fn network_and_stock_match_the_demo(db: Db) {
    let server = start(db).await;
    let network = demo::network(SEED, DemoSize::Small);

    // Locations page through to exactly the demo's.
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/locations?limit=7&cursor={c}"),
            None => "/v1/locations?limit=7".to_owned(),
        };
        let (status, _, body) = get_json(&server, &path).await;
        assert_eq!(status, 200);
        for item in body["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<String> = network
        .network
        .locations
        .iter()
        .map(|l| l.id.as_str().to_owned())
        .collect();
    expected.sort();
    assert_eq!(ids, expected);

    // A SKU's stock equals the demo's rows for it.
    let sku = network.products[17].sku.as_str().to_owned();
    let mut expected_rows: Vec<(String, i64, i64)> = network
        .stock_rows()
        .filter(|r| r.sku.as_str() == sku)
        .map(|r| {
            (
                r.location.as_str().to_owned(),
                r.on_hand,
                i64::from(r.reserved.get()),
            )
        })
        .collect();
    expected_rows.sort();
    let (status, _, body) = get_json(&server, &format!("/v1/stock/{sku}")).await;
    assert_eq!(status, 200);
    let mut actual: Vec<(String, i64, i64)> = body["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["location"].as_str().unwrap().to_owned(),
                l["on_hand"].as_i64().unwrap(),
                l["reserved"].as_i64().unwrap(),
            )
        })
        .collect();
    actual.sort();
    // The index may also list locations with only a safety override (no row).
    actual.retain(|row| expected_rows.iter().any(|e| e.0 == row.0) || row.1 != 0 || row.2 != 0);
    assert_eq!(actual, expected_rows);
    assert_eq!(
        body["channels"].as_array().unwrap().len(),
        network.network.channels.len()
    );
}

async fn the_change_sequence_delivers_everything_once(db: Db) {
    let server = start(db).await;
    let network = demo::network(SEED, DemoSize::Small);
    let mut products = BTreeSet::new();
    let mut locations = BTreeSet::new();
    let mut stock = 0usize;
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/changes?limit=5000&cursor={c}"),
            None => "/v1/changes?limit=5000".to_owned(),
        };
        let response = server
            .http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let page: ChangePage = response.json().await.unwrap();
        pages += 1;
        for change in &page.changes {
            match &change.entity {
                ChangedEntity::Product(p) => {
                    assert!(products.insert(p.sku.clone()), "{} twice", p.sku)
                }
                ChangedEntity::Location(l) => assert!(locations.insert(l.id.as_str().to_owned())),
                ChangedEntity::Channel(_) => {}
                ChangedEntity::Stock(_) => stock += 1,
                ChangedEntity::Order(_) | ChangedEntity::Fulfilment(_) | ChangedEntity::Task(_) => {
                    panic!("no order was placed, no task opened")
                }
            }
        }
        cursor = Some(page.cursor.clone());
        if !page.has_more {
            // Caught up: the same cursor gives nothing new.
            let again: ChangePage = server
                .http
                .get(format!("{}/v1/changes?cursor={}", server.base, page.cursor))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(again.changes.is_empty());
            assert_eq!(again.cursor, page.cursor);
            break;
        }
    }
    assert!(pages > 2, "several pages were needed");
    assert_eq!(products.len(), 10_000);
    assert_eq!(locations.len(), network.network.locations.len());
    assert_eq!(stock, network.stock_rows().count());
}

async fn filters_keep_brand_type_and_stock_here_and_facets_list_them(db: Db) {
    let server = start(db).await;
    let network = demo::network(SEED, DemoSize::Small);
    let catalogue = demo::catalogue(SEED, DemoSize::Small);

    let facets = server.client.product_facets().await.unwrap();
    let brands: BTreeSet<String> = catalogue.iter().map(|p| p.brand.clone()).collect();
    let types: BTreeSet<String> = catalogue
        .iter()
        .map(|p| p.product_type.to_owned())
        .collect();
    assert_eq!(facets.brands, brands.into_iter().collect::<Vec<_>>());
    assert_eq!(facets.product_types, types.into_iter().collect::<Vec<_>>());

    // Brand and type, with a text.
    let brand = facets.brands[0].clone();
    let found = filtered_pages(
        &server,
        &ProductQuery {
            brand: Some(brand.clone()),
            product_type: Some("fragile".into()),
            ..query("lamp", 200, None)
        },
    )
    .await;
    let expected: BTreeSet<String> = catalogue
        .iter()
        .filter(|p| {
            p.brand == brand
                && p.product_type == "fragile"
                && p.name.to_lowercase().contains("lamp")
        })
        .map(|p| p.sku.clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        found.into_iter().map(|p| p.sku).collect::<BTreeSet<_>>(),
        expected
    );

    // In stock at a store: units on hand beyond those reserved.
    let store = network
        .network
        .locations
        .iter()
        .find(|l| l.id.as_str().starts_with("ST-"))
        .unwrap()
        .id
        .as_str()
        .to_owned();
    let expected: BTreeSet<String> = network
        .stock_rows()
        .filter(|r| r.location.as_str() == store && r.on_hand - i64::from(r.reserved.get()) > 0)
        .map(|r| r.sku.as_str().to_owned())
        .filter(|sku| {
            catalogue
                .iter()
                .any(|p| &p.sku == sku && p.name.to_lowercase().contains("oak"))
        })
        .collect();
    assert!(!expected.is_empty());
    let found = filtered_pages(
        &server,
        &ProductQuery {
            in_stock_at: Some(store.clone()),
            ..query("oak", 200, None)
        },
    )
    .await;
    assert_eq!(
        found.into_iter().map(|p| p.sku).collect::<BTreeSet<_>>(),
        expected
    );

    // Bad filters are refused.
    for path in [
        "/v1/products?product_type=huge",
        "/v1/products?in_stock_at=",
    ] {
        let (status, _, body) = get_json(&server, path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["type"], "invalid-query", "{path}");
    }
}

on_both_databases! {
    health => health_reports_version_and_a_stable_instance_id,
    search => search_pages_through_exactly_the_matching_demo_products,
    sku_and_barcode => sku_and_barcode_find_the_product,
    bad_input => bad_input_is_a_problem_json_error,
    network_and_stock => network_and_stock_match_the_demo,
    changes => the_change_sequence_delivers_everything_once,
    filters_and_facets => filters_keep_brand_type_and_stock_here_and_facets_list_them,
}

#[tokio::test]
async fn reopening_seeds_once_and_refuses_another_demo() {
    let db = common::TestDb::new(Db::Sqlite).await;
    let config = |seed| Config {
        database: db.location.clone(),
        demo: Some(DemoSpec {
            size: DemoSize::Small,
            seed,
        }),
        demo_template: None,
        bootstrap_admin_token: None,
        outbox: Default::default(),
        footprint: Default::default(),
    };
    let first = oms_server::open(&config(3)).await.unwrap();
    assert_eq!(first.storage.product_count().await.unwrap(), 10_000);
    first.storage.close().await;
    let again = oms_server::open(&config(3)).await.unwrap();
    assert_eq!(again.storage.product_count().await.unwrap(), 10_000);
    assert_ne!(first.instance_id, again.instance_id);
    again.storage.close().await;
    let other = oms_server::open(&config(4)).await.unwrap_err();
    assert!(matches!(other, StartError::DemoMismatch { .. }));
}

/// A first start copies the demo template its own executable wrote instead
/// of seeding, and gets the same database a seed gives; a template written
/// by another executable (a rebuilt binary) or for another demo is ignored.
#[tokio::test]
async fn a_first_start_copies_this_binarys_demo_template() {
    use oms_server::demo_template::{self, DemoTemplate};
    use oms_server::storage::DatabaseLocation;
    let dir = tempfile::tempdir().unwrap();
    // Stands for the server's executable: only its identity matters.
    let executable = dir.path().join("oms-server");
    std::fs::write(&executable, b"a build of oms-server").unwrap();
    let spec = DemoSpec {
        size: DemoSize::Small,
        seed: 3,
    };
    let template = DemoTemplate::beside(&executable, spec).unwrap();
    assert_eq!(
        template.path,
        dir.path().join("oms-demo-small-seed-3.sqlite")
    );
    let bytes = demo_template::write(spec, &template).await.unwrap();
    assert!(
        bytes > 1_000_000,
        "the template holds the demo: {bytes} bytes"
    );
    // One self-contained file: no scratch database, no WAL beside it.
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["oms-demo-small-seed-3.sqlite", "oms-server"]);

    // Not this binary's (rebuilt: another identity), or not this demo.
    let fresh = dir.path().join("stale.sqlite");
    let stale = DemoTemplate {
        maker: "another-build".to_owned(),
        ..template.clone()
    };
    assert!(!demo_template::install(&fresh, spec, &stale).await.unwrap());
    let other_seed = DemoSpec { seed: 4, ..spec };
    let renamed = DemoTemplate {
        path: template.path.clone(),
        ..DemoTemplate::beside(&executable, other_seed).unwrap()
    };
    assert!(
        !demo_template::install(&fresh, other_seed, &renamed)
            .await
            .unwrap()
    );
    assert!(
        !fresh.exists(),
        "nothing is written when the template is refused"
    );

    // This binary's template: copied on a first start, never over a database.
    let copied = dir.path().join("copied.sqlite");
    assert!(
        demo_template::install(&copied, spec, &template)
            .await
            .unwrap()
    );
    assert!(
        !demo_template::install(&copied, spec, &template)
            .await
            .unwrap()
    );
    let config = |path: &std::path::Path, template: Option<DemoTemplate>| Config {
        database: DatabaseLocation::SqliteFile(path.to_path_buf()),
        demo: Some(spec),
        demo_template: template,
        bootstrap_admin_token: None,
        outbox: Default::default(),
        footprint: Default::default(),
    };
    let from_template = oms_server::open(&config(&copied, Some(template.clone())))
        .await
        .unwrap();
    let seeded = oms_server::open(&config(&dir.path().join("seeded.sqlite"), None))
        .await
        .unwrap();
    for state in [&from_template, &seeded] {
        assert_eq!(state.storage.product_count().await.unwrap(), 10_000);
        assert!(state.storage.has_staff().await.unwrap());
        assert_eq!(state.storage.seed_record().await.unwrap().unwrap().seed, 3);
    }
    assert_eq!(
        from_template.storage.last_change_seq().await.unwrap(),
        seeded.storage.last_change_seq().await.unwrap(),
        "the template holds every change a seed makes"
    );
    for product in demo::catalogue(3, DemoSize::Small).iter().step_by(997) {
        assert_eq!(
            from_template
                .storage
                .stock_of_sku(&product.sku)
                .await
                .unwrap(),
            seeded.storage.stock_of_sku(&product.sku).await.unwrap(),
            "the same stock of {}",
            product.sku
        );
    }
    from_template.storage.close().await;
    seeded.storage.close().await;
}

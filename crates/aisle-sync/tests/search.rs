//! Filtered, paged product search over the cache (a real SQLite file, no
//! server): brand, product type and "in stock here" (the core's stock plus
//! queued actions' effects, minus reserved), pages that neither repeat nor
//! skip a product, and the filter values.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use aisle_sync::{Cache, DeviceInfo, ProductFilter};
use oms_api::wire::{CarryOutSale, ChangePage, Intent, PlaceOrderLine, Quantity, Role, Sku};

const STORE: &str = "ST-FR-001";
const BRANDS: [&str; 3] = ["Nordvik", "Maison Clair", "Holzwerk"];
const TYPES: [&str; 2] = ["standard", "fragile"];
const PRODUCTS: usize = 300;

fn sku(i: usize) -> String {
    format!("SKU-{i:06}")
}

/// 300 products: every third of one brand, every other of one type, all
/// "Table Lamp" (with a colour every fifth); stock here for even ones, with
/// `on_hand` = i % 4 and 1 reserved.
fn catalogue() -> ChangePage {
    let mut changes = Vec::new();
    for i in 1..=PRODUCTS {
        let colour = if i % 5 == 0 { "Sand" } else { "Ivory" };
        changes.push(serde_json::json!({"seq": 1, "entity": "product", "data": {
            "sku": sku(i), "name": format!("{} Table Lamp {colour}", BRANDS[i % 3]),
            "brand": BRANDS[i % 3], "product_type": TYPES[i % 2],
            "barcodes": [format!("2{i:011}0")],
            "price": {"amount_minor": 1000 + i, "currency": "EUR"}}}));
        if i % 2 == 0 {
            changes.push(serde_json::json!({"seq": 1, "entity": "stock", "data": {
                "sku": sku(i), "location": STORE, "on_hand": i % 4, "reserved": 1}}));
        }
    }
    serde_json::from_value(serde_json::json!({
        "changes": changes, "cursor": "c1", "has_more": false, "last_mutation_id": 0,
    }))
    .unwrap()
}

async fn filled_cache(dir: &tempfile::TempDir) -> Cache {
    let cache = Cache::open(&dir.path().join("cache.sqlite")).await.unwrap();
    cache
        .set_device(&DeviceInfo {
            server_url: "http://127.0.0.1:1".into(),
            device_id: "dev-1".into(),
            store: Some(STORE.into()),
            role: Role::StoreManager,
            label: "Till".into(),
            paired_at: "2026-11-27T00:00:00Z".into(),
        })
        .await
        .unwrap();
    cache.apply_page(&catalogue()).await.unwrap();
    cache
}

/// Every page of a search, in order.
async fn all_pages(cache: &Cache, query: &str, filter: &ProductFilter, limit: u32) -> Vec<String> {
    let mut skus = Vec::new();
    let mut offset = 0;
    loop {
        let page = cache
            .search_page(query, filter, offset, limit)
            .await
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        skus.extend(page.items.into_iter().map(|p| p.sku));
        match page.next_offset {
            Some(next) => {
                assert_eq!(next, offset + limit);
                offset = next;
            }
            None => return skus,
        }
    }
}

fn in_stock_here() -> ProductFilter {
    ProductFilter {
        in_stock_at: Some(STORE.into()),
        ..ProductFilter::default()
    }
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_nor_repeat_an_exact_match() {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(&dir).await;
    let filter = ProductFilter::default();

    // 300 lamps in pages of 50: six pages, each product once.
    let skus = all_pages(&cache, "table lamp", &filter, 50).await;
    assert_eq!(skus.len(), PRODUCTS);
    assert_eq!(skus.iter().collect::<HashSet<_>>().len(), PRODUCTS);

    // No query: the catalogue by SKU.
    let listed = all_pages(&cache, "", &filter, 200).await;
    assert_eq!(listed.len(), PRODUCTS);
    assert!(listed.windows(2).all(|w| w[0] < w[1]));

    // A SKU typed whole is found once (the exact match is not repeated by
    // the prefix search), and a SKU prefix finds its ten products.
    let skus = all_pages(&cache, "SKU-000010", &filter, 1).await;
    assert_eq!(skus, ["SKU-000010"]);
    let skus = all_pages(&cache, "sku-00001", &filter, 3).await;
    assert_eq!(skus, (10..=19).map(sku).collect::<Vec<_>>());

    // A barcode typed whole finds its product.
    let found = cache
        .search_page("2000000000420", &filter, 0, 10)
        .await
        .unwrap();
    assert_eq!(
        found
            .items
            .iter()
            .map(|p| p.sku.as_str())
            .collect::<Vec<_>>(),
        ["SKU-000042"]
    );
    assert_eq!(found.next_offset, None);

    // Nothing matches: an empty last page.
    let none = cache.search_page("zebra", &filter, 0, 10).await.unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.next_offset, None);
    // Past the end: empty.
    let past = cache.search_page("lamp", &filter, 5_000, 10).await.unwrap();
    assert!(past.items.is_empty());
}

#[tokio::test]
async fn brand_and_type_filters_keep_only_their_products() {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(&dir).await;

    let nordvik = ProductFilter {
        brand: Some("Nordvik".into()),
        ..ProductFilter::default()
    };
    let skus = all_pages(&cache, "lamp", &nordvik, 40).await;
    let expected: Vec<String> = (1..=PRODUCTS).filter(|i| i % 3 == 0).map(sku).collect();
    assert_eq!(skus, expected);
    // With no query too.
    assert_eq!(all_pages(&cache, "", &nordvik, 200).await, expected);

    let fragile_holzwerk_sand = ProductFilter {
        brand: Some("Holzwerk".into()),
        product_type: Some("fragile".into()),
        ..ProductFilter::default()
    };
    let skus = all_pages(&cache, "lamp sand", &fragile_holzwerk_sand, 200).await;
    let expected: Vec<String> = (1..=PRODUCTS)
        .filter(|i| i % 3 == 2 && i % 2 == 1 && i % 5 == 0)
        .map(sku)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(skus, expected);

    // An exact SKU of another brand is filtered out like any other.
    let found = cache
        .search_page("SKU-000004", &nordvik, 0, 10)
        .await
        .unwrap();
    assert!(found.items.iter().all(|p| p.brand == "Nordvik"));
    assert!(!found.items.iter().any(|p| p.sku == "SKU-000004"));

    // An unknown brand: nothing.
    let unknown = ProductFilter {
        brand: Some("Nobody".into()),
        ..ProductFilter::default()
    };
    assert!(all_pages(&cache, "", &unknown, 50).await.is_empty());
}

#[tokio::test]
async fn in_stock_here_counts_reserved_units_and_queued_sales() {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(&dir).await;

    // Stock rows exist for even SKUs, on_hand = i % 4, 1 reserved: only
    // i % 4 == 2 has one unit available.
    let expected: Vec<String> = (1..=PRODUCTS).filter(|i| i % 4 == 2).map(sku).collect();
    assert_eq!(
        all_pages(&cache, "lamp", &in_stock_here(), 30).await,
        expected
    );
    assert_eq!(all_pages(&cache, "", &in_stock_here(), 200).await, expected);

    // A sale queued here (not yet pushed) takes SKU-000002's last unit.
    cache
        .enqueue(Intent::CarryOutSale(CarryOutSale {
            lines: vec![PlaceOrderLine {
                sku: Sku::parse("SKU-000002").unwrap(),
                quantity: Quantity::new(1),
            }],
            sold_at: None,
        }))
        .await
        .unwrap();
    let after = all_pages(&cache, "lamp", &in_stock_here(), 200).await;
    assert!(!after.contains(&"SKU-000002".to_owned()));
    assert_eq!(after.len(), expected.len() - 1);

    // Another store's stock does not count.
    let elsewhere = ProductFilter {
        in_stock_at: Some("ST-FR-002".into()),
        ..ProductFilter::default()
    };
    assert!(all_pages(&cache, "lamp", &elsewhere, 50).await.is_empty());

    // Combined with brand, type and a query.
    let combined = ProductFilter {
        brand: Some("Maison Clair".into()),
        product_type: Some("standard".into()),
        in_stock_at: Some(STORE.into()),
    };
    let skus = all_pages(&cache, "lamp ivory", &combined, 200).await;
    let expected: Vec<String> = (1..=PRODUCTS)
        .filter(|i| i % 3 == 1 && i % 2 == 0 && i % 4 == 2 && i % 5 != 0 && *i != 2)
        .map(sku)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(skus, expected);
}

#[tokio::test]
async fn facets_list_the_cached_brands_and_types() {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(&dir).await;
    let facets = cache.product_facets().await.unwrap();
    assert_eq!(facets.brands, ["Holzwerk", "Maison Clair", "Nordvik"]);
    assert_eq!(facets.product_types, ["fragile", "standard"]);

    // An empty cache offers nothing.
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = Cache::open(&empty_dir.path().join("cache.sqlite"))
        .await
        .unwrap();
    let facets = empty.product_facets().await.unwrap();
    assert!(facets.brands.is_empty() && facets.product_types.is_empty());
}

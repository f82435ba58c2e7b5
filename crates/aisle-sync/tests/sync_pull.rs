//! Pairing, full and incremental pulls, interrupted pulls and the cache's
//! search, against the real `oms-server` binary with the small demo (one
//! server for the whole file: the phases run in order in one test).
//!
//! Needs the workspace built (`cargo xtask test` builds it before testing).

#![allow(clippy::unwrap_used)]

mod common;

use std::ops::ControlFlow;

use aisle_sync::{PullOutcome, pull};
use oms_api::wire::{FeedFormat, FeedMode, FeedQuery};

#[tokio::test]
async fn pair_pull_search_and_follow_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_server(&dir).await;
    let admin = server.client();
    let (store, store_rows) = common::demo_store();
    let (products, locations, channels) = common::demo_counts();

    // Pairing: the token is in the token store, never in the cache file.
    let device = common::paired_device(admin, &store, &dir, "till-1.sqlite").await;
    assert_eq!(device.info.store.as_deref(), Some(store.as_str()));
    let me = device.client.me().await.unwrap();
    assert_eq!(
        me.device_id.as_deref(),
        Some(device.info.device_id.as_str())
    );
    let account = aisle_sync::secrets::account_for(&device.info.server_url);
    let token = device.tokens.load(&account).unwrap().unwrap();
    assert!(!format!("{token:?}").contains(token.expose()));
    assert!(!format!("{:?}", device.client).contains(token.expose()));

    // An interrupted first pull keeps what it applied, page by page.
    let outcome = pull(&device.client, &device.cache, 1_000, |progress| {
        assert!(progress.has_more);
        ControlFlow::Break(())
    })
    .await
    .unwrap();
    let PullOutcome::Interrupted(progress) = outcome else {
        panic!("the pull was not interrupted: {outcome:?}");
    };
    assert_eq!((progress.pages, progress.changes), (1, 1_000));
    assert_eq!(progress.estimated_total, 2_000);
    let after_one_page = device.cache.position().await.unwrap();
    assert!(after_one_page.cursor.is_some());
    assert!(after_one_page.last_pull_at.is_none(), "not caught up yet");
    let counts = device.cache.counts().await.unwrap();
    assert_eq!(
        counts.products + counts.locations + counts.channels + counts.stock_rows,
        1_000
    );

    // Resuming continues from the stored cursor and catches up.
    let mut pages = 0;
    let outcome = pull(&device.client, &device.cache, 5_000, |_| {
        pages += 1;
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert!(matches!(outcome, PullOutcome::CaughtUp(_)), "{outcome:?}");
    assert!(pages >= 2);
    let counts = device.cache.counts().await.unwrap();
    assert_eq!(counts.products as usize, products);
    assert_eq!(counts.locations as usize, locations);
    assert_eq!(counts.channels as usize, channels);
    assert_eq!(
        counts.stock_rows as usize, store_rows,
        "the store's stock only"
    );
    let position = device.cache.position().await.unwrap();
    assert!(position.last_pull_at.is_some());

    // A second device pulling in one go ends with exactly the same cache.
    let other = common::paired_device(admin, &store, &dir, "till-2.sqlite").await;
    let outcome = pull(&other.client, &other.cache, 5_000, |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(
        outcome.progress().changes,
        outcome.progress().estimated_total
    );
    assert_eq!(other.cache.counts().await.unwrap(), counts);
    assert_eq!(
        other.cache.position().await.unwrap().cursor,
        position.cursor
    );

    // The token never reached the cache file.
    device.cache.close().await;
    let device = common::Device {
        cache: aisle_sync::Cache::open(&dir.path().join("till-1.sqlite"))
            .await
            .unwrap(),
        ..device
    };
    for file in ["till-1.sqlite", "till-1.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            let needle = token.expose().as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "token found in {file}"
            );
        }
    }

    // Search: a SKU or barcode typed whole comes first; prefixes as typed.
    let product = device.cache.product("SKU-000123").await.unwrap().unwrap();
    let found = device
        .cache
        .search_products("SKU-000123", 20)
        .await
        .unwrap();
    assert_eq!(found.first().map(|p| p.sku.as_str()), Some("SKU-000123"));
    let found = device
        .cache
        .search_products("sku-000123", 20)
        .await
        .unwrap();
    assert_eq!(found.first().map(|p| p.sku.as_str()), Some("SKU-000123"));
    let found = device
        .cache
        .search_products(&product.barcodes[0], 20)
        .await
        .unwrap();
    assert_eq!(found.first(), Some(&product));
    let found = device.cache.search_products("SKU-00012", 50).await.unwrap();
    assert_eq!(found.len(), 10, "SKU-000120 to SKU-000129");
    assert!(found.iter().all(|p| p.sku.starts_with("SKU-00012")));
    let barcode_prefix = &product.barcodes[0][..11];
    let found = device
        .cache
        .search_products(barcode_prefix, 50)
        .await
        .unwrap();
    assert!(found.contains(&product), "barcode prefix {barcode_prefix}");
    // Name: the start of every word, in any case.
    let words: Vec<&str> = product.name.split_whitespace().collect();
    let typed = words
        .iter()
        .map(|w| w.chars().take(3).collect::<String>().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let found = device.cache.search_products(&typed, 200).await.unwrap();
    assert!(found.contains(&product), "{typed} finds {}", product.name);
    for hit in &found {
        let name = hit.name.to_lowercase();
        for prefix in typed.split_whitespace() {
            assert!(
                name.split_whitespace().any(|w| w.starts_with(prefix))
                    || hit.brand.to_lowercase().starts_with(prefix),
                "{} does not match {typed}",
                hit.name
            );
        }
    }
    assert!(
        device
            .cache
            .search_products("zzzzqqq", 20)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        device
            .cache
            .search_products("\"*(", 20)
            .await
            .unwrap()
            .is_empty()
    );

    // Incremental: a stock feed on the core reaches the cache in one small pull.
    let sku = device
        .cache
        .search_products("", 200)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.sku)
        .next()
        .unwrap();
    let before = device.cache.stock(&sku, &store).await.unwrap();
    let before_on_hand = before.as_ref().map(|s| s.on_hand).unwrap_or(0);
    let report = admin
        .stock_feed(
            &FeedQuery {
                format: FeedFormat::Csv,
                mode: FeedMode::Delta,
                job: None,
            },
            format!("location,sku,delta\n{store},{sku},5\n"),
        )
        .await
        .unwrap();
    assert_eq!(report.rows_applied, 1, "{report:?}");
    let outcome = pull(&device.client, &device.cache, 5_000, |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    let progress = outcome.progress();
    assert!(matches!(outcome, PullOutcome::CaughtUp(_)));
    assert!(
        (1..=10).contains(&progress.changes),
        "a small incremental pull: {progress:?}"
    );
    let after = device.cache.stock(&sku, &store).await.unwrap().unwrap();
    assert_eq!(after.on_hand, before_on_hand + 5);
    assert_eq!(after.pending_delta, 0);

    // Nothing new: an empty page, same cursor.
    let cursor = device.cache.position().await.unwrap().cursor;
    let outcome = pull(&device.client, &device.cache, 5_000, |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(outcome.progress().changes, 0);
    assert_eq!(device.cache.position().await.unwrap().cursor, cursor);
}

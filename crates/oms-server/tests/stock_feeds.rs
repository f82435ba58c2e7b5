//! Stock feeds over real HTTP on loopback, on SQLite and PostgreSQL: imports
//! (CSV and JSON lines, snapshot and delta, all or nothing, refused rows),
//! the job resource, and the unified stock export. Expected figures come
//! from the demo data computed independently, then are read back through
//! the API.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

mod common;

use common::{Db, SEED, TestServer, start};
use oms_api::ClientError;
use oms_api::wire::{
    ChangePage, ChangedEntity, FeedFormat, FeedMode, FeedQuery, FeedReport, FeedStatus, JobStatus,
    Page, RefusalCode, SkuStock, StockLevel, UnifiedStockExport,
};
use oms_domain::demo::{self, DemoNetwork, DemoSize};
use oms_domain::stock::StockRow;
use std::collections::{BTreeMap, BTreeSet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

fn demo_network() -> DemoNetwork {
    demo::network(SEED, DemoSize::Small)
}

/// The demo's stock rows at one location, by SKU.
fn rows_at(network: &DemoNetwork, location: &str) -> BTreeMap<String, StockRow> {
    network
        .stock_rows()
        .filter(|r| r.location.as_str() == location)
        .map(|r| (r.sku.as_str().to_owned(), r))
        .collect()
}

/// A location with plenty of stock rows, and another one.
fn two_locations(network: &DemoNetwork) -> (String, String) {
    let mut ids: Vec<(usize, String)> = network
        .network
        .locations
        .iter()
        .map(|l| {
            let id = l.id.as_str().to_owned();
            (rows_at(network, &id).len(), id)
        })
        .collect();
    ids.sort();
    let busiest = ids.pop().unwrap().1;
    let next = ids.pop().unwrap().1;
    (busiest, next)
}

async fn post_feed(
    server: &TestServer,
    format: &str,
    mode: &str,
    job: Option<Uuid>,
    body: impl Into<reqwest::Body>,
) -> (u16, String, serde_json::Value) {
    let mut url = format!("{}/v1/stock/feeds?format={format}&mode={mode}", server.base);
    if let Some(job) = job {
        url.push_str(&format!("&job={job}"));
    }
    let response = server.http.post(url).body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.json().await.unwrap())
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    server
        .http
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .unwrap()
}

/// A location's whole stock through `GET /v1/locations/{id}/stock`.
async fn location_stock(server: &TestServer, location: &str) -> BTreeMap<String, (i64, i64)> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/locations/{location}/stock?limit=200&cursor={c}"),
            None => format!("/v1/locations/{location}/stock?limit=200"),
        };
        let page: Page<StockLevel> = get(server, &path).await.json().await.unwrap();
        for level in page.items {
            out.insert(level.sku, (level.on_hand, level.reserved));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

async fn sku_stock(server: &TestServer, sku: &str, at: Option<&str>) -> SkuStock {
    let path = match at {
        Some(at) => format!("/v1/stock/{sku}?at={at}"),
        None => format!("/v1/stock/{sku}"),
    };
    let response = get(server, &path).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The change sequence's current end, by following it.
async fn changes_cursor(server: &TestServer) -> String {
    let mut cursor = String::new();
    loop {
        let page: ChangePage = get(server, &format!("/v1/changes?limit=5000&cursor={cursor}"))
            .await
            .json()
            .await
            .unwrap();
        cursor = page.cursor;
        if !page.has_more {
            return cursor;
        }
    }
}

/// Stock changes after `cursor`: `(seq, sku, location, on_hand)`.
async fn stock_changes_after(server: &TestServer, cursor: &str) -> Vec<(i64, String, String, i64)> {
    let mut out = Vec::new();
    let mut cursor = cursor.to_owned();
    loop {
        let page: ChangePage = get(server, &format!("/v1/changes?limit=5000&cursor={cursor}"))
            .await
            .json()
            .await
            .unwrap();
        out.extend(page.changes.into_iter().filter_map(|c| match c.entity {
            ChangedEntity::Stock(s) => Some((c.seq, s.sku, s.location, s.on_hand)),
            _ => None,
        }));
        cursor = page.cursor;
        if !page.has_more {
            return out;
        }
    }
}

/// The server's stock index holds exactly what a fresh build from the
/// database holds (a feed applies its own rows to the index without reading
/// them back).
async fn assert_index_matches_database(server: &TestServer) {
    let fresh = oms_server::stock_cache::StockCache::load(&server.state.storage)
        .await
        .unwrap();
    let want = fresh.read().index.rows();
    let got = server.state.stock.read().index.rows();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the index differs from the database");
}

fn as_report(body: &serde_json::Value) -> FeedReport {
    serde_json::from_value(body.clone()).unwrap()
}

fn refused_codes(report: &FeedReport) -> Vec<(u64, RefusalCode)> {
    report.refused.iter().map(|r| (r.line, r.code)).collect()
}

async fn a_snapshot_sets_the_listed_locations_exactly(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, elsewhere) = two_locations(&network);
    let before_here = rows_at(&network, &here);
    let skus: Vec<&String> = before_here.keys().collect();
    let (changed_sku, same_sku) = (skus[0].clone(), skus[1].clone());
    let new_sku = network
        .products
        .iter()
        .map(|p| p.sku.as_str().to_owned())
        .find(|s| !before_here.contains_key(s))
        .unwrap();
    let changed_to = before_here[&changed_sku].on_hand + 5;
    let same_value = before_here[&same_sku].on_hand;
    let elsewhere_before = location_stock(&server, &elsewhere).await;
    let cursor = changes_cursor(&server).await;

    // Columns in any order.
    let body = format!(
        "sku,location,on_hand\n{changed_sku},{here},{changed_to}\n{same_sku},{here},{same_value}\n{new_sku},{here},7\n"
    );
    let (status, _, body) = post_feed(&server, "csv", "snapshot", None, body).await;
    assert_eq!(status, 200, "{body}");
    let report = as_report(&body);
    assert_eq!(report.status, FeedStatus::Applied);
    assert_eq!(report.mode, FeedMode::Snapshot);
    assert_eq!(report.format, FeedFormat::Csv);
    assert_eq!((report.rows_read, report.rows_applied), (3, 3));
    assert!(report.refused.is_empty());
    assert_eq!(report.refused_total, 0);

    // Expected: the three feed rows, every other row there at 0, reserved kept.
    let mut expected: BTreeMap<String, (i64, i64)> = before_here
        .iter()
        .map(|(sku, r)| (sku.clone(), (0, i64::from(r.reserved.get()))))
        .collect();
    expected.get_mut(&changed_sku).unwrap().0 = changed_to;
    expected.get_mut(&same_sku).unwrap().0 = same_value;
    expected.insert(new_sku.clone(), (7, 0));
    assert_eq!(location_stock(&server, &here).await, expected);
    assert_eq!(location_stock(&server, &elsewhere).await, elsewhere_before);

    // Only rows whose value changed carry the feed's new sequence number.
    let mut expected_changes: BTreeSet<(String, i64)> = before_here
        .iter()
        .filter(|(sku, r)| **sku != same_sku && **sku != changed_sku && r.on_hand != 0)
        .map(|(sku, _)| (sku.clone(), 0))
        .collect();
    expected_changes.insert((changed_sku.clone(), changed_to));
    expected_changes.insert((new_sku.clone(), 7));
    let changes = stock_changes_after(&server, &cursor).await;
    let seqs: BTreeSet<i64> = changes.iter().map(|c| c.0).collect();
    assert_eq!(seqs.len(), 1, "one sequence number for the whole feed");
    assert!(changes.iter().all(|c| c.2 == here));
    let got: BTreeSet<(String, i64)> = changes.iter().map(|c| (c.1.clone(), c.3)).collect();
    assert_eq!(got, expected_changes);
    assert_eq!(report.rows_changed, expected_changes.len() as u64);

    // The index answers with the new figures at once.
    let stock = sku_stock(&server, &changed_sku, None).await;
    let level = stock.levels.iter().find(|l| l.location == here).unwrap();
    assert_eq!(level.on_hand, changed_to);
    assert_index_matches_database(&server).await;
}

async fn a_delta_adds_and_may_go_negative(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, elsewhere) = two_locations(&network);
    let rows = rows_at(&network, &here);
    let mut skus = rows.keys();
    let (a, b) = (skus.next().unwrap().clone(), skus.next().unwrap().clone());
    let untouched = rows_at(&network, &elsewhere).keys().next().unwrap().clone();
    let new_sku = network
        .products
        .iter()
        .map(|p| p.sku.as_str().to_owned())
        .find(|s| !rows.contains_key(s))
        .unwrap();
    let below_zero = -(rows[&b].on_hand + 2);
    let cursor = changes_cursor(&server).await;

    // JSON lines with CRLF, a blank line, and a zero delta (no change).
    let body = format!(
        "{{\"location\":\"{here}\",\"sku\":\"{a}\",\"delta\":-3}}\r\n\
         \r\n\
         {{\"sku\":\"{b}\",\"location\":\"{here}\",\"delta\":{below_zero}}}\r\n\
         {{\"location\":\"{elsewhere}\",\"sku\":\"{untouched}\",\"delta\":0}}\r\n\
         {{\"location\":\"{here}\",\"sku\":\"{new_sku}\",\"delta\":4}}"
    );
    let (status, _, body) = post_feed(&server, "jsonl", "delta", None, body).await;
    assert_eq!(status, 200, "{body}");
    let report = as_report(&body);
    assert_eq!(report.status, FeedStatus::Applied);
    assert_eq!(report.rows_read, 4);
    assert_eq!(report.rows_changed, 3);

    let after = location_stock(&server, &here).await;
    let reserved = |sku: &str| i64::from(rows[sku].reserved.get());
    assert_eq!(after[&a], (rows[&a].on_hand - 3, reserved(&a)));
    assert_eq!(after[&b], (-2, reserved(&b)));
    assert_eq!(after[&new_sku], (4, 0));
    let stock = sku_stock(&server, &b, None).await;
    let level = stock.levels.iter().find(|l| l.location == here).unwrap();
    assert_eq!((level.on_hand, level.available), (-2, 0));

    let changed: BTreeSet<(String, String, i64)> = stock_changes_after(&server, &cursor)
        .await
        .into_iter()
        .map(|c| (c.1, c.2, c.3))
        .collect();
    let expected: BTreeSet<(String, String, i64)> = [
        (a.clone(), here.clone(), rows[&a].on_hand - 3),
        (b.clone(), here.clone(), -2),
        (new_sku.clone(), here.clone(), 4),
    ]
    .into_iter()
    .collect();
    assert_eq!(changed, expected);
    assert_index_matches_database(&server).await;
}

async fn a_full_snapshot_reaches_the_index_exactly(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, elsewhere) = two_locations(&network);
    let rows = rows_at(&network, &here);
    // Units reserved by an order beforehand stay reserved after the feed.
    let reserved_sku = rows
        .iter()
        .find(|(_, r)| r.on_hand > 2 && r.reserved.get() == 0)
        .map(|(sku, _)| sku.clone())
        .unwrap();
    let mut set = server.state.stock.read().index.rows();
    set.retain(|r| r.sku.as_str() == reserved_sku && r.location.as_str() == here);
    set[0].reserved = oms_domain::model::Quantity::new(2);
    server.state.storage.set_stock_levels(&set).await.unwrap();
    let new_skus: Vec<String> = network
        .products
        .iter()
        .map(|p| p.sku.as_str().to_owned())
        .filter(|s| !rows.contains_key(s))
        .take(2)
        .collect();
    // Every row of `here` is named (so none is zeroed for being absent):
    // changed, unchanged and zeroed values, a new row and a new zero.
    let mut body = String::from("location,sku,on_hand\n");
    for (i, (sku, row)) in rows.iter().enumerate() {
        let on_hand = match i % 3 {
            0 => row.on_hand,
            1 => 0,
            _ => row.on_hand + 3,
        };
        body.push_str(&format!("{here},{sku},{on_hand}\n"));
    }
    body.push_str(&format!(
        "{here},{},9\n{here},{},0\n",
        new_skus[0], new_skus[1]
    ));
    let untouched = rows_at(&network, &elsewhere);
    let (sku, row) = untouched.iter().next().unwrap();
    body.push_str(&format!("{elsewhere},{sku},{}\n", row.on_hand + 1));
    let (status, _, answer) = post_feed(&server, "csv", "snapshot", None, body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(as_report(&answer).rows_changed > 0);
    assert_index_matches_database(&server).await;
    let stock = sku_stock(&server, &reserved_sku, None).await;
    let level = stock.levels.iter().find(|l| l.location == here).unwrap();
    assert_eq!(level.reserved, 2);

    // A delta on top, then a snapshot that leaves rows out (read back).
    let body = format!(
        "location,sku,delta\n{here},{},-4\n{here},{},5\n{here},{},0\n",
        reserved_sku, new_skus[1], new_skus[0]
    );
    let (status, _, answer) = post_feed(&server, "csv", "delta", None, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_index_matches_database(&server).await;
    let body = format!("location,sku,on_hand\n{here},{},1\n", new_skus[1]);
    let (status, _, answer) = post_feed(&server, "csv", "snapshot", None, body).await;
    assert_eq!(status, 200, "{answer}");
    assert_index_matches_database(&server).await;
}

async fn a_bad_only_feed_changes_nothing(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, _) = two_locations(&network);
    let sku = rows_at(&network, &here).keys().next().unwrap().clone();
    let before = location_stock(&server, &here).await;
    let cursor = changes_cursor(&server).await;
    let body = format!(
        "location,sku,on_hand\n\
         {here},NO-SUCH-SKU,1\n\
         NOWHERE,{sku},1\n\
         {here},{sku},-4\n\
         {here},{sku},lots\n\
         {here},{sku}\n"
    );
    let (status, content_type, body) = post_feed(&server, "csv", "snapshot", None, body).await;
    assert_eq!(status, 422);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], "feed-rejected");
    assert_eq!(body["status"], 422);
    let report = as_report(&body["report"]);
    assert_eq!(report.status, FeedStatus::Rejected);
    assert_eq!(
        (report.rows_read, report.rows_applied, report.rows_changed),
        (5, 0, 0)
    );
    assert_eq!(report.refused_total, 5);
    assert_eq!(
        refused_codes(&report),
        vec![
            (2, RefusalCode::UnknownSku),
            (3, RefusalCode::UnknownLocation),
            (4, RefusalCode::NegativeQuantity),
            (5, RefusalCode::BadNumber),
            (6, RefusalCode::Malformed),
        ]
    );
    assert!(report.refused[0].message.contains("NO-SUCH-SKU"));
    assert_eq!(location_stock(&server, &here).await, before);
    assert!(stock_changes_after(&server, &cursor).await.is_empty());
}

async fn a_mixed_feed_is_all_or_nothing(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, elsewhere) = two_locations(&network);
    let before_here = location_stock(&server, &here).await;
    let before_elsewhere = location_stock(&server, &elsewhere).await;
    let cursor = changes_cursor(&server).await;
    // Many good rows over several staging batches, then one bad row.
    let mut body = String::from("location,sku,delta\r\n");
    let skus: Vec<String> = network
        .products
        .iter()
        .map(|p| p.sku.as_str().to_owned())
        .collect();
    for sku in &skus {
        body.push_str(&format!("{here},{sku},1\r\n{elsewhere},{sku},-1\r\n"));
    }
    body.push_str(&format!("{here},{},+2x\r\n", skus[0]));
    let (status, _, body) = post_feed(&server, "csv", "delta", None, body).await;
    assert_eq!(status, 422);
    let report = as_report(&body["report"]);
    // The same (location, SKU) twice: the bad row's line is refused once, as
    // a bad number (refused rows are not staged, so not duplicates).
    assert_eq!(report.rows_read, 2 * skus.len() as u64 + 1);
    assert_eq!(
        refused_codes(&report),
        vec![(2 * skus.len() as u64 + 2, RefusalCode::BadNumber)]
    );
    assert_eq!(location_stock(&server, &here).await, before_here);
    assert_eq!(location_stock(&server, &elsewhere).await, before_elsewhere);
    assert!(stock_changes_after(&server, &cursor).await.is_empty());
}

async fn duplicates_are_refused_with_the_line_they_repeat(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, _) = two_locations(&network);
    let mut skus = rows_at(&network, &here).into_keys();
    let (a, b) = (skus.next().unwrap(), skus.next().unwrap());
    let before = location_stock(&server, &here).await;
    let body = format!(
        "{{\"location\":\"{here}\",\"sku\":\"{a}\",\"on_hand\":1}}\n\
         {{\"location\":\"{here}\",\"sku\":\"{b}\",\"on_hand\":2}}\n\
         {{\"location\":\"{here}\",\"sku\":\"{a}\",\"on_hand\":3}}\n\
         {{\"location\":\"{here}\",\"sku\":\"{a}\",\"on_hand\":1}}\n"
    );
    let (status, _, body) = post_feed(&server, "jsonl", "snapshot", None, body).await;
    assert_eq!(status, 422);
    let report = as_report(&body["report"]);
    assert_eq!(
        refused_codes(&report),
        vec![(3, RefusalCode::Duplicate), (4, RefusalCode::Duplicate)]
    );
    assert!(
        report.refused[0].message.contains("line 1"),
        "{:?}",
        report.refused
    );
    assert_eq!(report.refused_total, 2);
    assert_eq!(location_stock(&server, &here).await, before);
}

async fn unknown_fields_are_reported(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, _) = two_locations(&network);
    let sku = rows_at(&network, &here).into_keys().next().unwrap();
    let before = location_stock(&server, &here).await;

    let csv = format!("location,sku,on_hand,price\n{here},{sku},3,9.99\n");
    let (status, _, body) = post_feed(&server, "csv", "snapshot", None, csv).await;
    assert_eq!(status, 422);
    let report = as_report(&body["report"]);
    assert_eq!(refused_codes(&report), vec![(1, RefusalCode::UnknownField)]);
    assert!(report.refused[0].message.contains("`price`"));

    let jsonl = format!(
        "{{\"location\":\"{here}\",\"sku\":\"{sku}\",\"on_hand\":3,\"colour\":\"red\"}}\n\
         {{\"location\":\"{here}\",\"sku\":\"{sku}\",\"delta\":3}}\n"
    );
    let (status, _, body) = post_feed(&server, "jsonl", "snapshot", None, jsonl).await;
    assert_eq!(status, 422);
    let report = as_report(&body["report"]);
    assert_eq!(
        refused_codes(&report),
        vec![
            (1, RefusalCode::UnknownField),
            (2, RefusalCode::UnknownField)
        ]
    );
    assert!(report.refused[0].message.contains("`colour`"));
    assert!(report.refused[1].message.contains("`delta`"));

    // A header without the mode's quantity column.
    let csv = format!("location,sku,on_hand\n{here},{sku},3\n");
    let (status, _, body) = post_feed(&server, "csv", "delta", None, csv).await;
    assert_eq!(status, 422);
    assert_eq!(
        refused_codes(&report_of(&body)),
        vec![(1, RefusalCode::MissingField)]
    );
    assert_eq!(location_stock(&server, &here).await, before);
}

fn report_of(body: &serde_json::Value) -> FeedReport {
    as_report(&body["report"])
}

async fn bad_queries_and_unknown_jobs_are_problems(db: Db) {
    let server = start(db).await;
    for path in [
        "/v1/stock/feeds?format=csv",
        "/v1/stock/feeds?format=xml&mode=delta",
        "/v1/stock/feeds?format=csv&mode=delta&job=not-a-uuid",
        "/v1/stock/feeds?format=csv&mode=delta&extra=1",
    ] {
        let response = server
            .http
            .post(format!("{}{path}", server.base))
            .body("location,sku,delta\n")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["type"], "invalid-query", "{path}");
    }
    for (path, status) in [
        (format!("/v1/jobs/{}", Uuid::new_v4()), 404),
        ("/v1/jobs/nope".to_owned(), 404),
        ("/v1/channels/nope/unified-stock?format=csv".to_owned(), 404),
        (
            "/v1/channels/web-fr/unified-stock?format=xml".to_owned(),
            400,
        ),
        (
            "/v1/channels/web-fr/unified-stock?format=csv&at=soon".to_owned(),
            400,
        ),
    ] {
        let response = get(&server, &path).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
}

/// Posts a body in two parts over a raw connection, running `between`
/// after the first part is sent. Returns the status and the JSON body.
async fn post_in_two_parts<F: std::future::Future<Output = ()>>(
    server: &TestServer,
    path: &str,
    first: &[u8],
    second: &[u8],
    between: F,
) -> (u16, serde_json::Value) {
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\r\n",
        first.len() + second.len(),
        server.admin_token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    between.await;
    stream.write_all(second).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(body).unwrap())
}

async fn a_job_shows_progress_while_uploading_and_its_report_after(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, elsewhere) = two_locations(&network);
    let skus: Vec<String> = network
        .products
        .iter()
        .map(|p| p.sku.as_str().to_owned())
        .collect();
    // A full snapshot of two locations: 20,000 rows, the first half sent,
    // then the job is watched, then the rest.
    let mut first = String::from("location,sku,on_hand\n");
    let mut second = String::new();
    for (i, sku) in skus.iter().enumerate() {
        let part = if i < skus.len() / 2 {
            &mut first
        } else {
            &mut second
        };
        part.push_str(&format!(
            "{here},{sku},{}\n{elsewhere},{sku},{}\n",
            i % 7,
            i % 3
        ));
    }
    let job = Uuid::new_v4();
    let path = format!("/v1/stock/feeds?format=csv&mode=snapshot&job={job}");
    let total = (first.len() + second.len()) as u64;
    let half_rows = skus.len() as u64;
    let watch = async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            assert!(std::time::Instant::now() < deadline, "no progress");
            let status = match server.client.job(job).await {
                Ok(status) => status,
                // The server has not read the request head yet.
                Err(ClientError::Problem(p)) if p.status == 404 => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
                Err(other) => panic!("{other}"),
            };
            assert_eq!(status.status, JobStatus::Running);
            assert_eq!(status.bytes_total, Some(total));
            if status.rows_done == half_rows {
                assert_eq!(status.bytes_done, first.len() as u64);
                assert!(status.report.is_none());
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    let (status, body) =
        post_in_two_parts(&server, &path, first.as_bytes(), second.as_bytes(), watch).await;
    assert_eq!(status, 200, "{body}");
    let report = as_report(&body);
    assert_eq!(report.job, job);
    assert_eq!(report.rows_read, 2 * skus.len() as u64);

    let done = server.client.job(job).await.unwrap();
    assert_eq!(done.status, JobStatus::Applied);
    assert_eq!((done.rows_done, done.bytes_done), (report.rows_read, total));
    assert_eq!(done.bytes_total, Some(total));
    assert_eq!(done.report.as_ref(), Some(&report));
    assert!(done.finished_at.is_some());

    // Every SKU at `here` now holds the feed's figure; a row is created only
    // for a non-zero figure (no row reads as 0).
    let existed = rows_at(&network, &here);
    let here_now = location_stock(&server, &here).await;
    for (i, sku) in skus.iter().enumerate() {
        let expected = (i % 7) as i64;
        match here_now.get(sku) {
            Some((on_hand, _)) => assert_eq!(*on_hand, expected, "{sku}"),
            None => assert!(expected == 0 && !existed.contains_key(sku), "{sku}"),
        }
    }

    // The same job id cannot run twice.
    let (status, _, body) = post_feed(
        &server,
        "csv",
        "snapshot",
        Some(job),
        "location,sku,on_hand\n",
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // A rejected feed's job keeps its report.
    let rejected = Uuid::new_v4();
    let query = FeedQuery {
        format: FeedFormat::Csv,
        mode: FeedMode::Delta,
        job: Some(rejected),
    };
    let answer = server
        .client
        .stock_feed(&query, format!("location,sku,delta\n{here},NOPE,1\n"))
        .await
        .unwrap();
    assert_eq!(answer.status, FeedStatus::Rejected);
    let job = server.client.job(rejected).await.unwrap();
    assert_eq!(job.status, JobStatus::Rejected);
    assert_eq!(job.report, Some(answer));
}

async fn the_export_matches_the_stock_endpoint(db: Db) {
    let server = start(db).await;
    let network = demo_network();
    let (here, _) = two_locations(&network);
    let at = "2026-03-10T10:00:00Z";
    // A change first: the export reads its own writes.
    let sku = rows_at(&network, &here).into_keys().nth(3).unwrap();
    let (status, _, _) = post_feed(
        &server,
        "csv",
        "delta",
        None,
        format!("location,sku,delta\n{here},{sku},25\n"),
    )
    .await;
    assert_eq!(status, 200);

    let all_skus: Vec<String> = {
        let mut s: Vec<String> = network
            .products
            .iter()
            .map(|p| p.sku.as_str().to_owned())
            .collect();
        s.sort();
        s
    };
    for channel in ["web-fr", "web-de", "stores"] {
        let response = get(
            &server,
            &format!("/v1/channels/{channel}/unified-stock?format=csv&at={at}"),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let text = response.text().await.unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("sku,unified_stock"));
        let csv: Vec<(String, u64)> = lines
            .map(|l| {
                let (sku, n) = l.split_once(',').unwrap();
                (sku.to_owned(), n.parse().unwrap())
            })
            .collect();
        assert_eq!(
            csv.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
            all_skus
        );

        let json = server
            .client
            .unified_stock(channel, Some(at))
            .await
            .unwrap();
        assert_eq!(json.channel, channel);
        assert_eq!(json.at, at);
        let from_json: Vec<(String, u64)> = json
            .items
            .iter()
            .map(|l| (l.sku.clone(), l.unified_stock))
            .collect();
        assert_eq!(from_json, csv);

        let by_sku: BTreeMap<&String, u64> = csv.iter().map(|(s, n)| (s, *n)).collect();
        let mut sample: Vec<&String> = all_skus.iter().step_by(613).collect();
        sample.push(&sku);
        for s in sample {
            let stock = sku_stock(&server, s, Some(at)).await;
            let figure = stock
                .channels
                .iter()
                .find(|c| c.channel == channel)
                .unwrap()
                .unified_stock;
            assert_eq!(by_sku[s], figure, "{channel} {s}");
        }
        assert!(csv.iter().any(|(_, n)| *n > 0));
    }
    // The JSON body is exactly the wire type.
    let raw: UnifiedStockExport = get(&server, "/v1/channels/web-de/unified-stock?format=json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(raw.items.len(), all_skus.len());
}

on_both_databases! {
    snapshot => a_snapshot_sets_the_listed_locations_exactly,
    delta => a_delta_adds_and_may_go_negative,
    full_snapshot_index => a_full_snapshot_reaches_the_index_exactly,
    bad_only => a_bad_only_feed_changes_nothing,
    mixed => a_mixed_feed_is_all_or_nothing,
    duplicates => duplicates_are_refused_with_the_line_they_repeat,
    unknown_fields => unknown_fields_are_reported,
    bad_queries => bad_queries_and_unknown_jobs_are_problems,
    job_progress => a_job_shows_progress_while_uploading_and_its_report_after,
    export => the_export_matches_the_stock_endpoint,
}

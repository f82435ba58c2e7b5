//! The ATP scenario files of oms-domain (`crates/oms-domain/tests/scenarios/atp`)
//! answered over HTTP by a real server, on SQLite and on PostgreSQL: the
//! network goes in through `PUT /v1/network`, products through
//! `PUT /v1/products/{sku}`, stock through storage (as orders and feeds
//! will), and every check is asked through `/v1/atp/*` and `/v1/stock/*`.
//!
//! Scenarios with daily order loads (`capacity_cap.json`) are skipped here:
//! loads come from placed orders, which the server does not take yet; the
//! domain runs that scenario itself.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

mod common;

use common::Db;
use oms_domain::model::{ChannelId, Network, Sku};
use oms_domain::stock::{ProductRow, StockRow};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Scenario {
    network: Network,
    #[serde(default)]
    products: Vec<ProductRow>,
    #[serde(default)]
    stock: Vec<StockRow>,
    checks: Vec<Check>,
}

#[derive(Deserialize)]
struct Check {
    name: String,
    query: Value,
    expect: Value,
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oms-domain/tests/scenarios/atp");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// `[{"method": "x", ...}]` → `{"x": {...}}`, recursively, so checks can name
/// only the methods they care about.
fn key_methods(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| match value {
                    Value::Array(items) if key == "methods" => (
                        key,
                        Value::Object(
                            items
                                .into_iter()
                                .map(|item| {
                                    (
                                        item["method"].as_str().unwrap().to_owned(),
                                        key_methods(item),
                                    )
                                })
                                .collect(),
                        ),
                    ),
                    other => (key, key_methods(other)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(key_methods).collect()),
        other => other,
    }
}

/// Whether `expected` is a subset of `actual` (`null` matches absent).
fn subset(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => want.iter().try_for_each(|(key, want)| {
            subset(
                want,
                have.get(key).unwrap_or(&Value::Null),
                &format!("{path}.{key}"),
            )
        }),
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => want
            .iter()
            .zip(have)
            .enumerate()
            .try_for_each(|(i, (want, have))| subset(want, have, &format!("{path}[{i}]"))),
        (want, have) if want == have => Ok(()),
        (want, have) => Err(format!("{path}: expected {want}, got {have}")),
    }
}

async fn post(http: &reqwest::Client, base: &str, path: &str, body: &Value) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path} {body}");
    response.json().await.unwrap()
}

async fn run_scenario(db: Db, path: &Path) -> Vec<String> {
    let scenario: Scenario = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let server = common::start_empty(db).await;
    let http = server.http.clone();

    let response = http
        .put(format!("{}/v1/network", server.base))
        .json(&scenario.network)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "{}: PUT /v1/network",
        path.display()
    );

    let mut skus: Vec<Sku> = scenario.stock.iter().map(|r| r.sku.clone()).collect();
    skus.extend(scenario.products.iter().map(|p| p.sku.clone()));
    skus.sort();
    skus.dedup();
    for sku in &skus {
        let product_type = scenario
            .products
            .iter()
            .find(|p| &p.sku == sku)
            .map(|p| p.product_type.as_str())
            .unwrap_or("standard");
        let response = http
            .put(format!("{}/v1/products/{}", server.base, sku.as_str()))
            .json(&json!({
                "name": sku.as_str(), "brand": "Scenario", "product_type": product_type,
                "price": {"amount_minor": 1000, "currency": "EUR"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "PUT product {}", sku.as_str());
    }
    server
        .state
        .storage
        .set_stock_levels(&scenario.stock)
        .await
        .unwrap();
    server
        .state
        .stock
        .refresh(&server.state.storage)
        .await
        .unwrap();

    let mut failures = Vec::new();
    for check in &scenario.checks {
        let (kind, query) = check.query.as_object().unwrap().iter().next().unwrap();
        let actual = match kind.as_str() {
            "product_atp" => {
                let request = &query["request"];
                post(
                    &http,
                    &server.base,
                    "/v1/atp/product",
                    &json!({
                        "channel": request["channel"], "sku": query["sku"], "quantity": query["quantity"],
                        "destination": request["destination"], "at": request["at"],
                    }),
                )
                .await
            }
            "cart_atp" => {
                let request = &query["request"];
                post(
                    &http,
                    &server.base,
                    "/v1/atp/cart",
                    &json!({
                        "channel": request["channel"], "lines": query["lines"],
                        "destination": request["destination"], "at": request["at"],
                    }),
                )
                .await
            }
            "unified_stock" => {
                let channel: ChannelId = serde_json::from_value(query["channel"].clone()).unwrap();
                let url = format!(
                    "{}/v1/stock/{}?at={}",
                    server.base,
                    query["sku"].as_str().unwrap(),
                    query["at"].as_str().unwrap()
                );
                let body: Value = http.get(url).send().await.unwrap().json().await.unwrap();
                body["channels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["channel"] == channel.as_str())
                    .map(|c| c["unified_stock"].clone())
                    .unwrap()
            }
            other => panic!("unknown query kind {other}"),
        };
        if let Err(difference) = subset(&check.expect, &key_methods(actual), "") {
            failures.push(format!(
                "{} / {}: {difference}",
                path.file_name().unwrap().to_string_lossy(),
                check.name
            ));
        }
    }
    failures
}

async fn every_atp_scenario_holds_over_http(db: Db) {
    let files = scenario_files();
    assert!(files.len() >= 10, "found {} scenario files", files.len());
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in &files {
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        if scenario
            .get("loads")
            .is_some_and(|l| !l.as_array().unwrap().is_empty())
        {
            continue;
        }
        failures.extend(run_scenario(db, path).await);
        ran += 1;
    }
    assert!(ran >= 9, "only {ran} scenarios ran");
    assert!(
        failures.is_empty(),
        "{} failing checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

on_both_databases! {
    atp_scenarios => every_atp_scenario_holds_over_http,
}

#[test]
fn the_matcher_can_fail() {
    let actual = key_methods(json!({"methods": [{"method": "home_delivery", "possible": true}]}));
    assert!(
        subset(
            &json!({"methods": {"home_delivery": {"possible": true}}}),
            &actual,
            ""
        )
        .is_ok()
    );
    assert!(
        subset(
            &json!({"methods": {"home_delivery": {"possible": false}}}),
            &actual,
            ""
        )
        .is_err()
    );
    assert!(
        subset(
            &json!({"methods": {"express": {"possible": true}}}),
            &actual,
            ""
        )
        .is_err()
    );
}

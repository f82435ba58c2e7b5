//! Data-driven ATP scenarios: every `tests/scenarios/atp/*.json` file holds a
//! network, stock and a list of checks, each a query and the answer expected
//! by hand from the rules. The expected answer is matched as a subset of the
//! real one (only the fields a check names are compared; `null` matches an
//! absent field), and a `methods` list is compared by method name.

// Test helpers outside #[test] functions: clippy.toml's allow-unwrap-in-tests
// does not reach them.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use oms_domain::atp::{AtpRequest, CartLine, cart_atp, product_atp};
use oms_domain::model::{ChannelId, Network, Quantity, Sku};
use oms_domain::stock::{LocationLoad, ProductRow, StockIndex, StockRow};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[allow(dead_code)] // For the reader.
    description: String,
    network: Network,
    #[serde(default)]
    products: Vec<ProductRow>,
    #[serde(default)]
    stock: Vec<StockRow>,
    #[serde(default)]
    loads: Vec<LocationLoad>,
    checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    name: String,
    query: Query,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Query {
    UnifiedStock {
        channel: ChannelId,
        sku: Sku,
        at: Timestamp,
    },
    ProductAtp {
        request: AtpRequest,
        sku: Sku,
        quantity: Quantity,
    },
    CartAtp {
        request: AtpRequest,
        lines: Vec<CartLine>,
    },
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/atp");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// Turns `[{"method": "x", ...}, ...]` into `{"x": {...}, ...}`, recursively.
fn key_methods(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = match value {
                        Value::Array(items)
                            if key == "methods"
                                && items.iter().all(|i| i.get("method").is_some()) =>
                        {
                            Value::Object(
                                items
                                    .into_iter()
                                    .map(|item| {
                                        let name = item["method"].as_str().unwrap().to_owned();
                                        (name, key_methods(item))
                                    })
                                    .collect(),
                            )
                        }
                        other => key_methods(other),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(key_methods).collect()),
        other => other,
    }
}

/// Checks that `expected` is a subset of `actual`; returns the first
/// difference as a path and both values.
fn subset(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, want) in want {
                let have = have.get(key).unwrap_or(&Value::Null);
                subset(want, have, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                return Err(format!(
                    "{path}: expected {} items, got {}: {}",
                    want.len(),
                    have.len(),
                    serde_json::to_string(have).unwrap()
                ));
            }
            for (i, (want, have)) in want.iter().zip(have).enumerate() {
                subset(want, have, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (want, have) if want == have => Ok(()),
        (want, have) => Err(format!("{path}: expected {want}, got {have}")),
    }
}

fn run(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let scenario: Scenario = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: cannot parse: {e}", path.display()));
    let mut index = StockIndex::build(&scenario.network, scenario.products, scenario.stock)
        .unwrap_or_else(|e| panic!("{}: cannot build the index: {e}", path.display()));
    for load in &scenario.loads {
        index.set_location_load(load).unwrap();
    }
    assert!(!scenario.checks.is_empty(), "{}: no checks", path.display());
    let mut failures = Vec::new();
    for check in &scenario.checks {
        let actual = match &check.query {
            Query::UnifiedStock { channel, sku, at } => {
                serde_json::to_value(index.unified_stock(channel, sku, *at).unwrap()).unwrap()
            }
            Query::ProductAtp {
                request,
                sku,
                quantity,
            } => {
                serde_json::to_value(product_atp(&index, request, sku, *quantity).unwrap()).unwrap()
            }
            Query::CartAtp { request, lines } => {
                serde_json::to_value(cart_atp(&index, request, lines).unwrap()).unwrap()
            }
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

#[test]
fn every_atp_scenario_holds() {
    let files = scenario_files();
    assert!(
        files.len() >= 10,
        "expected the ATP scenario files, found {}",
        files.len()
    );
    let failures: Vec<String> = files.iter().flat_map(|path| run(path)).collect();
    assert!(
        failures.is_empty(),
        "{} failing checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_matcher_can_fail() {
    let actual =
        serde_json::json!({"methods": [{"method": "home_delivery", "possible": true}], "n": 1});
    let actual = key_methods(actual);
    assert!(
        subset(
            &serde_json::json!({"methods": {"home_delivery": {"possible": true}}}),
            &actual,
            ""
        )
        .is_ok()
    );
    assert!(
        subset(
            &serde_json::json!({"methods": {"home_delivery": {"possible": false}}}),
            &actual,
            ""
        )
        .is_err()
    );
    assert!(subset(&serde_json::json!({"n": 2}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"missing": 1}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"missing": null}), &actual, "").is_ok());
}

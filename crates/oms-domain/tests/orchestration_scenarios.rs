//! Data-driven orchestration scenarios: every
//! `tests/scenarios/orchestration/*.json` file holds a network, stock, a rule
//! set and a list of checks, each an orchestration (or re-orchestration) and
//! the answer expected by hand from the rules. Checks run in order on one
//! stock index; a check with `"commit": true` then applies its outcome (the
//! stock corrections and the plan's reservations and cap counts), so later
//! checks see it. A check may bring its own `rule_set`, and `stock` rows to
//! apply before it runs (a delivery arrived, a count was made).
//!
//! The expected answer is matched as a subset of the real one (only the
//! fields a check names are compared; `null` matches an absent field).
//! Lists of `candidates` are keyed by location and lists of `unservable`
//! lines by line number, so a check names only the ones it cares about;
//! other lists are compared item by item.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use oms_domain::model::Network;
use oms_domain::orchestration::{
    MissingReport, Order, RuleSet, commit, orchestrate, reorchestrate,
};
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
    rule_set: RuleSet,
    checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    name: String,
    #[serde(default)]
    rule_set: Option<RuleSet>,
    #[serde(default)]
    stock: Vec<StockRow>,
    query: Query,
    #[serde(default)]
    commit: bool,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Query {
    Orchestrate {
        order: Order,
        at: Timestamp,
    },
    Reorchestrate {
        order: Order,
        report: MissingReport,
        #[serde(default)]
        history: Vec<MissingReport>,
        at: Timestamp,
    },
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/orchestration");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// Turns lists named `candidates` into objects keyed by `location`, and
/// lists named `unservable` into objects keyed by `line`, recursively.
fn keyed(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let by = match key.as_str() {
                        "candidates" => Some("location"),
                        "unservable" => Some("line"),
                        _ => None,
                    };
                    let value = match (by, value) {
                        (Some(by), Value::Array(items)) => Value::Object(
                            items
                                .into_iter()
                                .map(|item| {
                                    let name = match &item[by] {
                                        Value::String(s) => s.clone(),
                                        other => other.to_string(),
                                    };
                                    (name, keyed(item))
                                })
                                .collect(),
                        ),
                        (_, other) => keyed(other),
                    };
                    (key, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(keyed).collect()),
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
        let rules = check.rule_set.as_ref().unwrap_or(&scenario.rule_set);
        for row in &check.stock {
            index.apply(row).unwrap();
        }
        let actual = match &check.query {
            Query::Orchestrate { order, at } => {
                let plan = orchestrate(order, &index, rules, *at)
                    .unwrap_or_else(|e| panic!("{}: {e}", check.name));
                if check.commit {
                    commit(&mut index, &plan, *at).unwrap();
                }
                serde_json::to_value(plan).unwrap()
            }
            Query::Reorchestrate {
                order,
                report,
                history,
                at,
            } => {
                let outcome = reorchestrate(order, report, history, &index, rules, *at)
                    .unwrap_or_else(|e| panic!("{}: {e}", check.name));
                if check.commit {
                    for correction in &outcome.corrections {
                        index.apply(&correction.row()).unwrap();
                    }
                    commit(&mut index, &outcome.plan, *at).unwrap();
                }
                serde_json::to_value(outcome).unwrap()
            }
        };
        if let Err(difference) = subset(&check.expect, &keyed(actual), "") {
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
fn every_orchestration_scenario_holds() {
    let files = scenario_files();
    assert!(
        files.len() >= 12,
        "expected the orchestration scenario files, found {}",
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
fn the_matcher_keys_candidates_and_can_fail() {
    let actual = keyed(serde_json::json!({
        "trace": {"candidates": [
            {"location": "A", "verdict": "kept"},
            {"location": "B", "verdict": "dropped", "rule": "stock"}
        ]},
        "unservable": [{"line": 2, "reason": "out_of_stock"}]
    }));
    let ok = serde_json::json!({
        "trace": {"candidates": {"B": {"rule": "stock"}}},
        "unservable": {"2": {"reason": "out_of_stock"}}
    });
    assert!(subset(&ok, &actual, "").is_ok());
    for bad in [
        serde_json::json!({"trace": {"candidates": {"B": {"rule": "daily_cap"}}}}),
        serde_json::json!({"trace": {"candidates": {"C": {"verdict": "kept"}}}}),
        serde_json::json!({"unservable": {"1": {"reason": "out_of_stock"}}}),
    ] {
        assert!(subset(&bad, &actual, "").is_err(), "{bad}");
    }
}

/// Every reason code, rule and criterion is exercised by some scenario's
/// expected answer (a new code needs a scenario).
#[test]
fn every_reason_code_has_a_scenario() {
    let text: String = scenario_files()
        .iter()
        .map(|path| fs::read_to_string(path).unwrap())
        .collect();
    let drop_reasons = [
        "left_channel_for_period",
        "cannot_ship",
        "not_the_pickup_store",
        "no_carrier_route",
        "not_open_soon",
        "product_type_cannot_ship_from",
        "product_type_restricted",
        "no_stock",
        "no_full_line",
        "cannot_serve_whole_order",
        "daily_cap_reached",
        "order_amount_above_threshold",
        "outside_delivery_zone",
        "store_closed_for_express",
        "reported_missing",
    ];
    let unservable = [
        "method_not_offered",
        "no_address",
        "no_pickup_store",
        "pickup_store_not_a_store",
        "pickup_store_cannot_receive",
        "pickup_store_no_express",
        "pickup_store_not_in_channel",
        "product_type_not_allowed",
        "out_of_stock",
        "no_eligible_location",
        "insufficient_stock",
        "split_not_allowed",
        "split_limit_reached",
    ];
    let rules = [
        "active_period",
        "capability",
        "product_type",
        "stock",
        "daily_cap",
        "order_amount",
        "delivery_zone",
        "express_opening",
        "reported_missing",
    ];
    let criteria = [
        "priority",
        "distance",
        "fewest_shipments",
        "stock_depth",
        "cost",
        "earliest_delivery",
    ];
    let pools = ["whole_order", "remaining_lines", "most_of_order"];
    let mut missing = Vec::new();
    for code in drop_reasons {
        if !text.contains(&format!("\"code\": \"{code}\"")) {
            missing.push(format!("drop reason {code}"));
        }
    }
    for reason in unservable {
        if !text.contains(&format!("\"reason\": \"{reason}\"")) {
            missing.push(format!("unservable reason {reason}"));
        }
    }
    for rule in rules {
        if !text.contains(&format!("\"rule\": \"{rule}\"")) {
            missing.push(format!("rule {rule}"));
        }
    }
    for criterion in criteria {
        if !text.contains(&format!("\"decided_by\": \"{criterion}\"")) {
            missing.push(format!("criterion {criterion}"));
        }
    }
    for pool in pools {
        if !text.contains(&format!("\"pool\": \"{pool}\"")) {
            missing.push(format!("pool {pool}"));
        }
    }
    assert!(missing.is_empty(), "not covered: {missing:?}");
}

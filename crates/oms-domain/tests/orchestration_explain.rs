//! Explanations: a trace read back as sentences for store staff and
//! customer service, in English, French and German.

#![allow(clippy::unwrap_used)]

use oms_domain::model::Network;
use oms_domain::orchestration::{Lang, Order, RuleSet, explain, orchestrate};
use oms_domain::stock::{LocationLoad, ProductRow, StockIndex, StockRow};

/// The capped-store scenario's network and first order.
fn capped() -> (StockIndex, RuleSet, Order) {
    let scenario: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/scenarios/orchestration/capped_store_skipped.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let network: Network = serde_json::from_value(scenario["network"].clone()).unwrap();
    let rows: Vec<StockRow> = serde_json::from_value(scenario["stock"].clone()).unwrap();
    let mut index = StockIndex::build(&network, Vec::<ProductRow>::new(), rows).unwrap();
    let loads: Vec<LocationLoad> = serde_json::from_value(scenario["loads"].clone()).unwrap();
    for load in &loads {
        index.set_location_load(load).unwrap();
    }
    let rules = serde_json::from_value(scenario["rule_set"].clone()).unwrap();
    let order =
        serde_json::from_value(scenario["checks"][0]["query"]["orchestrate"]["order"].clone())
            .unwrap();
    (index, rules, order)
}

#[test]
fn a_capped_store_is_explained_in_three_languages() {
    let (index, rules, order) = capped();
    let plan = orchestrate(&order, &index, &rules, order.placed_at).unwrap();
    let en = explain(&plan.trace, Lang::En);
    assert_eq!(
        en,
        [
            "Order O-1 (home delivery, channel web-fr, rule set version 1): 2 candidate location(s) considered, 1 kept.",
            "WH serves line 1 × 1: it is the only location left that can supply these lines.",
            "ST-NEAR (store) was not used: it has reached its daily cap (2 of 2 orders today) (rule: daily cap).",
        ]
    );
    let fr = explain(&plan.trace, Lang::Fr);
    assert_eq!(fr.len(), 3);
    assert!(
        fr[2].contains("plafond journalier (2 commandes sur 2 aujourd'hui)"),
        "{fr:?}"
    );
    let de = explain(&plan.trace, Lang::De);
    assert!(de[1].starts_with("WH liefert Position 1 × 1"), "{de:?}");
    assert!(de[2].contains("Tageslimit erreicht"), "{de:?}");
}

#[test]
fn a_winner_is_explained_against_its_runner_up() {
    let (index, rules, mut order) = capped();
    // Tuesday: the store takes orders again and wins on priority.
    order.placed_at = "2025-03-04T09:00:00Z".parse().unwrap();
    let plan = orchestrate(&order, &index, &rules, order.placed_at).unwrap();
    let en = explain(&plan.trace, Lang::En);
    assert_eq!(
        en[1],
        "ST-NEAR serves line 1 × 1: among 2 locations that can supply what was left, its priority 1 comes before WH's 2."
    );
    assert!(
        en[2].starts_with("WH (warehouse) could also serve (priority 2, "),
        "{en:?}"
    );
    let fr = explain(&plan.trace, Lang::Fr);
    assert!(
        fr[1].contains("sa priorité 1 passe avant celle de WH (2)"),
        "{fr:?}"
    );
}

#[test]
fn an_unservable_line_says_why_and_which_rules_dropped_the_holders() {
    let (index, rules, mut order) = capped();
    order.lines[0].quantity = oms_domain::model::Quantity::new(50);
    let plan = orchestrate(&order, &index, &rules, order.placed_at).unwrap();
    let en = explain(&plan.trace, Lang::En);
    assert_eq!(
        en.last().unwrap(),
        "Line 1 (SKU-A): 40 of 50 unit(s) cannot be served: the locations allowed to serve it do not have enough (locations holding it and dropped: 1 × daily cap)."
    );
}

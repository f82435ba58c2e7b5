//! The OpenAPI document at `GET /openapi.json` describes exactly the router:
//! every documented route exists, every route the role walk uses is
//! documented, and `http/mod.rs` has no route the list forgot.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

mod common;

use std::collections::BTreeSet;

use oms_server::http::openapi::{self, ROUTES};
use serde_json::Value;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

#[test]
fn the_document_is_openapi_3_1_and_every_operation_is_described() {
    let doc: Value =
        serde_json::from_str(&serde_json::to_string(&openapi::document()).unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string());
    let paths = doc["paths"].as_object().unwrap();
    let mut ids = BTreeSet::new();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{method} {path}");
            operations += 1;
            let id = op["operationId"].as_str();
            assert!(id.is_some(), "{method} {path}: no operationId");
            assert!(
                ids.insert(id.unwrap().to_owned()),
                "{method} {path}: id reused"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path}: no tag"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            // Every error answer is a problem with its stable codes listed.
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = &response["content"]["application/problem+json"];
                    assert!(
                        problem.is_object(),
                        "{method} {path} {status}: not problem+json"
                    );
                }
            }
            // Path parameters are declared, and only those.
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            assert_eq!(declared, in_template, "{method} {path}");
            // Security: bearer except the public routes.
            let public = matches!(
                (method.as_str(), path.as_str()),
                ("get", "/health") | ("get", "/openapi.json") | ("post", "/v1/pairing")
            );
            if public {
                assert_eq!(op["security"], serde_json::json!([]), "{method} {path}");
                assert!(responses.get("401").is_none(), "{method} {path}");
            } else {
                assert!(op.get("security").is_none(), "{method} {path}");
                assert!(responses.contains_key("401"), "{method} {path}");
            }
        }
    }
    assert_eq!(operations, ROUTES.len());
    for (method, path) in ROUTES {
        assert!(
            doc["paths"][path][method.to_ascii_lowercase()]["operationId"].is_string(),
            "{method} {path} is listed but not described"
        );
    }
    // Every `$ref` points at a component schema.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The `type` codes a problem response schema lists (in its `enum`s).
fn problem_codes(schema: &Value) -> Vec<String> {
    let mut codes = Vec::new();
    collect_enums(schema, &mut codes);
    codes
}

fn collect_enums(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(codes)) = map.get("type").and_then(|t| t.get("enum")) {
                out.extend(codes.iter().filter_map(|c| c.as_str().map(str::to_owned)));
            }
            map.values().for_each(|v| collect_enums(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_enums(v, out)),
        _ => {}
    }
}

/// A concrete path for a template: dummy values that the handlers parse
/// (numbers where the path extractor wants one).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_exists() {
    let server = common::start(common::Db::Sqlite).await;
    let doc = openapi::document();
    let mut failures = Vec::new();
    for (method, template) in ROUTES {
        let url = format!("{}{}", server.base, concrete(template));
        let request = match *method {
            "GET" => server.http.get(url),
            "POST" => server.http.post(url),
            "PUT" => server.http.put(url),
            "DELETE" => server.http.delete(url),
            other => panic!("method {other} in ROUTES"),
        };
        // No body: handlers answer 415/400/404…, never the fallback.
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 405 || status >= 500 || body["type"] == "no-route" {
            failures.push(format!("{method} {template}: {status} {body}"));
            continue;
        }
        // The answer is one the document promises: its status, and for a
        // problem its `type` among the listed codes.
        let documented = &doc["paths"][template][method.to_ascii_lowercase()]["responses"];
        let response = &documented[status.to_string()];
        if response.is_null() {
            failures.push(format!("{method} {template}: {status} is not documented"));
        } else if let Some(kind) = body["type"].as_str() {
            let codes = problem_codes(&response["content"]["application/problem+json"]["schema"]);
            if !codes.contains(&kind.to_owned()) {
                failures.push(format!(
                    "{method} {template}: {status} `{kind}` not among {codes:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The check itself tells a missing route apart.
    let (status, _, body) = server.get_json("/v1/nothing-here").await;
    assert_eq!((status, body["type"].as_str()), (404, Some("no-route")));
}

#[test]
fn matching_follows_the_templates() {
    assert!(openapi::matches("GET", "/v1/orders/O-1/timeline"));
    assert!(openapi::matches("get", "/v1/orders?q=ana"));
    assert!(!openapi::matches("PUT", "/v1/orders/O-1"));
    assert!(!openapi::matches("GET", "/v1/orders//timeline"));
    assert!(!openapi::matches("GET", "/v1/orders/O-1/timeline/x"));
    assert!(!openapi::matches("GET", "/v1/nothing"));
}

/// The (method, path) pairs `tests/auth_roles.rs` calls, read from its
/// source: a method literal followed by a path literal (or `format!`).
fn auth_roles_calls() -> Vec<(String, String)> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/auth_roles.rs"))
            .unwrap();
    let mut calls = Vec::new();
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
        let needle = format!("\"{method}\",");
        let mut rest = source.as_str();
        while let Some(at) = rest.find(&needle) {
            rest = &rest[at + needle.len()..];
            let next = rest.trim_start();
            let next = next.strip_prefix('&').unwrap_or(next);
            let next = next.strip_prefix("format!(").unwrap_or(next);
            if let Some(literal) = next.strip_prefix('"') {
                let path = &literal[..literal.find('"').unwrap()];
                if path.starts_with('/') {
                    calls.push((method.to_owned(), path.to_owned()));
                }
            }
        }
    }
    calls
}

#[test]
fn every_route_the_role_walk_uses_is_documented() {
    let calls = auth_roles_calls();
    // The reader found the walk (about 40 routes), not nothing.
    assert!(calls.len() >= 40, "only {} calls found", calls.len());
    let undocumented: Vec<String> = calls
        .iter()
        .filter(|(method, path)| !openapi::matches(method, path))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "routes used by auth_roles.rs but missing from openapi::ROUTES:\n{}",
        undocumented.join("\n")
    );
    // And the walk covers every protected route of the list.
    let public = [
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("POST", "/v1/pairing"),
    ];
    for (method, template) in ROUTES {
        if public.contains(&(*method, *template)) {
            continue;
        }
        let walked = calls.iter().any(|(m, path)| {
            let path = path.split_once('?').map_or(path.as_str(), |(p, _)| p);
            m == method && same_shape(template, path)
        });
        assert!(walked, "{method} {template} is not walked by auth_roles.rs");
    }
}

/// Whether a concrete path fits a template (the walk's `format!` paths keep
/// their `{placeholders}`, which fit any parameter).
fn same_shape(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            if t.starts_with('{') {
                !p.is_empty()
            } else {
                t == p
            }
        })
}

#[test]
fn the_router_has_as_many_paths_as_the_list() {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/mod.rs")).unwrap();
    let route_calls = source.matches(".route(").count();
    let paths: BTreeSet<&str> = ROUTES.iter().map(|(_, path)| *path).collect();
    assert_eq!(
        route_calls,
        paths.len(),
        "http/mod.rs has {route_calls} `.route(` calls but openapi::ROUTES lists {} paths: \
         a new endpoint goes into openapi.rs too",
        paths.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_served_without_a_token() {
    let server = common::start(common::Db::Sqlite).await;
    let response = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, openapi::document());
}

/// Real answers fit the documented success schemas: required members are
/// there, and objects not marked open (`additionalProperties: true`) have
/// no member the document does not declare.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_fit_the_documented_schemas() {
    use serde_json::json;
    let server = common::start(common::Db::Sqlite).await;
    let doc = openapi::document();
    let network = demo_network();
    let (store, sku) = (network.0.as_str(), network.1.as_str());
    let order = json!({"channel": "web-fr", "delivery": "click_and_collect",
        "destination": {"pickup_store": store}, "customer": {"name": "Ana", "email": "ana@example.com"},
        "lines": [{"sku": sku, "quantity": 1}], "payment": "in_store", "accept_partial": true});
    let placed = send(&server, "POST", "/v1/orders", Some(&order)).await;
    assert_eq!(placed.0, 201, "{}", placed.1);
    let id = placed.1["id"].as_str().unwrap().to_owned();
    let fulfilment = placed.1["fulfilments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = uuid::Uuid::new_v4();
    let feed = json!({"location": store, "sku": sku, "delta": 0});
    let calls: Vec<(&str, &str, String, Option<Value>)> = vec![
        ("GET", "/health", "/health".into(), None),
        ("GET", "/v1/me", "/v1/me".into(), None),
        (
            "POST",
            "/v1/tokens",
            "/v1/tokens".into(),
            Some(json!({"role": "integration", "label": "erp"})),
        ),
        (
            "POST",
            "/v1/pairing-codes",
            "/v1/pairing-codes".into(),
            Some(json!({"store": store, "role": "store_associate"})),
        ),
        ("GET", "/v1/products", "/v1/products?limit=3".into(), None),
        (
            "GET",
            "/v1/products/{sku}",
            format!("/v1/products/{sku}"),
            None,
        ),
        ("GET", "/v1/network", "/v1/network".into(), None),
        ("GET", "/v1/locations", "/v1/locations?limit=3".into(), None),
        (
            "GET",
            "/v1/locations/{id}",
            format!("/v1/locations/{store}"),
            None,
        ),
        (
            "GET",
            "/v1/locations/{id}/stock",
            format!("/v1/locations/{store}/stock?limit=3"),
            None,
        ),
        ("GET", "/v1/channels", "/v1/channels".into(), None),
        ("GET", "/v1/stock/{sku}", format!("/v1/stock/{sku}"), None),
        (
            "POST",
            "/v1/atp/product",
            "/v1/atp/product".into(),
            Some(json!({"channel": "web-fr", "sku": sku, "destination": {"pickup_store": store}})),
        ),
        (
            "POST",
            "/v1/atp/cart",
            "/v1/atp/cart".into(),
            Some(
                json!({"channel": "web-fr", "lines": [{"sku": sku, "quantity": 1}], "destination": {"pickup_store": store}}),
            ),
        ),
        ("GET", "/v1/changes", "/v1/changes?limit=5000".into(), None),
        ("GET", "/v1/orders", "/v1/orders?q=ana".into(), None),
        ("GET", "/v1/orders/{id}", format!("/v1/orders/{id}"), None),
        (
            "GET",
            "/v1/orders/{id}/timeline",
            format!("/v1/orders/{id}/timeline"),
            None,
        ),
        (
            "GET",
            "/v1/orders/{id}/notifications",
            format!("/v1/orders/{id}/notifications"),
            None,
        ),
        (
            "GET",
            "/v1/fulfilments/{id}",
            format!("/v1/fulfilments/{fulfilment}"),
            None,
        ),
        (
            "GET",
            "/v1/locations/{id}/fulfilments",
            format!("/v1/locations/{store}/fulfilments"),
            None,
        ),
        (
            "POST",
            "/v1/fulfilments/{id}/steps",
            format!("/v1/fulfilments/{fulfilment}/steps"),
            Some(json!({"type": "start_preparation"})),
        ),
        (
            "GET",
            "/v1/channels/{id}/rule-sets",
            "/v1/channels/web-fr/rule-sets".into(),
            None,
        ),
        (
            "POST",
            "/v1/stock/feeds",
            format!("/v1/stock/feeds?format=jsonl&mode=delta&job={job}"),
            Some(feed),
        ),
        ("GET", "/v1/jobs/{id}", format!("/v1/jobs/{job}"), None),
        (
            "GET",
            "/v1/channels/{id}/unified-stock",
            "/v1/channels/web-fr/unified-stock?format=json".into(),
            None,
        ),
        ("GET", "/v1/outbox", "/v1/outbox".into(), None),
        (
            "POST",
            "/v1/orders/{id}/cancel",
            format!("/v1/orders/{id}/cancel"),
            Some(json!({"reason": "test"})),
        ),
    ];
    let mut errors = Vec::new();
    for (method, template, path, body) in &calls {
        let (status, answer) = send(&server, method, path, body.as_ref()).await;
        let response =
            &doc["paths"][template][method.to_ascii_lowercase()]["responses"][status.to_string()];
        let schema = &response["content"]["application/json"]["schema"];
        if !(200..300).contains(&status) || schema.is_null() {
            errors.push(format!("{method} {path}: {status} {answer}"));
            continue;
        }
        check(
            &doc,
            &answer,
            schema,
            &format!("{method} {path}"),
            &mut errors,
        );
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn demo_network() -> (String, String) {
    use oms_domain::demo::{self, DemoSize};
    use oms_domain::model::LocationKind;
    let network = demo::network(common::SEED, DemoSize::Small);
    let store = network
        .network
        .locations
        .iter()
        .find(|l| l.kind == LocationKind::Store)
        .unwrap()
        .id
        .as_str()
        .to_owned();
    (store, network.products[3].sku.as_str().to_owned())
}

async fn send(
    server: &common::TestServer,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", server.base);
    let mut request = match method {
        "GET" => server.http.get(url),
        "POST" => server.http.post(url),
        other => panic!("method {other}"),
    };
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(
            doc,
            &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        ),
        None => schema,
    }
}

/// Properties, required members and openness of an object schema, `allOf`
/// merged.
fn object_shape<'a>(
    doc: &'a Value,
    schema: &'a Value,
    properties: &mut serde_json::Map<String, Value>,
    required: &mut BTreeSet<String>,
    open: &mut bool,
) {
    let schema = resolve(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        object_shape(doc, part, properties, required, open);
    }
    if let Some(own) = schema["properties"].as_object() {
        for (k, v) in own {
            properties.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        required.insert(r.as_str().unwrap().to_owned());
    }
    if schema["additionalProperties"] == true || schema["additionalProperties"].is_object() {
        *open = true;
    }
}

fn check(doc: &Value, value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(branches) = schema["oneOf"].as_array() {
        let fits = branches.iter().any(|b| {
            let mut e = Vec::new();
            check(doc, value, b, at, &mut e);
            e.is_empty()
        });
        if !fits {
            errors.push(format!("{at}: fits no oneOf branch: {value}"));
        }
        return;
    }
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let fits = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    if !fits {
        errors.push(format!("{at}: {kind} where {types:?} is documented"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} not in {allowed:?}"));
    }
    match value {
        Value::Array(items) => {
            let item_schema = &schema["items"];
            if !item_schema.is_null() {
                for (i, item) in items.iter().enumerate() {
                    check(doc, item, item_schema, &format!("{at}[{i}]"), errors);
                }
            } else if let Some(parts) = schema["allOf"].as_array() {
                for part in parts {
                    check(doc, value, part, at, errors);
                }
            }
        }
        Value::Object(members) => {
            let mut properties = serde_json::Map::new();
            let mut required = BTreeSet::new();
            let mut open = false;
            object_shape(doc, schema, &mut properties, &mut required, &mut open);
            if properties.is_empty() {
                return; // members not described (`{"type": "object"}`, a map)
            }
            for name in &required {
                if !members.contains_key(name) {
                    errors.push(format!("{at}: required `{name}` is missing"));
                }
            }
            for (name, member) in members {
                match properties.get(name) {
                    Some(s) => check(doc, member, s, &format!("{at}.{name}"), errors),
                    None if open => {}
                    None => errors.push(format!("{at}: `{name}` is not documented")),
                }
            }
        }
        _ => {}
    }
}

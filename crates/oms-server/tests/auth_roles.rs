//! Every route, walked with every role: no token → 401; a role the route
//! does not allow → 403; an allowed one → neither. Also device pairing and
//! the store scope of store roles.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

mod common;

use common::{Db, TestServer, authorized_client, pair_device, start};
use oms_domain::demo::{self, DemoSize};
use oms_domain::model::LocationKind;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Admin,
    Integration,
    ManagerOfA,
    AssociateOfA,
}

const EVERYONE: &[Who] = &[
    Who::Admin,
    Who::Integration,
    Who::ManagerOfA,
    Who::AssociateOfA,
];

struct Fixture {
    server: TestServer,
    tokens: Vec<(Who, String)>,
    store_a: String,
    store_b: String,
    sku: String,
}

async fn issue(server: &TestServer, role: &str, store: Option<&str>) -> String {
    let response = server
        .http
        .post(format!("{}/v1/tokens", server.base))
        .json(&json!({"role": role, "store": store, "label": format!("test {role}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// The demo's first two stores: A, where the store roles belong, and B.
fn two_stores() -> (String, String) {
    let network = demo::network(common::SEED, DemoSize::Small);
    let mut stores = network
        .network
        .locations
        .iter()
        .filter(|l| l.kind == LocationKind::Store)
        .map(|l| l.id.as_str().to_owned());
    (stores.next().unwrap(), stores.next().unwrap())
}

async fn fixture() -> Fixture {
    let server = start(Db::Sqlite).await;
    let (store_a, store_b) = two_stores();
    let network = demo::network(common::SEED, DemoSize::Small);
    let sku = network.products[3].sku.as_str().to_owned();
    let tokens = vec![
        (Who::Admin, server.admin_token.clone()),
        (Who::Integration, issue(&server, "integration", None).await),
        (
            Who::ManagerOfA,
            issue(&server, "store_manager", Some(&store_a)).await,
        ),
        (
            Who::AssociateOfA,
            issue(&server, "store_associate", Some(&store_a)).await,
        ),
    ];
    Fixture {
        server,
        tokens,
        store_a,
        store_b,
        sku,
    }
}

async fn call(
    f: &Fixture,
    who: Who,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = match f.tokens.iter().find(|(w, _)| *w == who) {
        Some((_, token)) => authorized_client(token),
        None => reqwest::Client::new(),
    };
    let url = format!("{}{path}", f.server.base);
    let mut request = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "PUT" => client.put(url),
        "DELETE" => client.delete(url),
        other => panic!("method {other}"),
    };
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_every_role() {
    let f = fixture().await;
    let (a, b, sku) = (f.store_a.clone(), f.store_b.clone(), f.sku.clone());
    let network = f.server.get_json("/v1/network").await.2;
    let product = json!({"name": "Lamp", "brand": "Test", "product_type": "standard",
                         "barcodes": [], "price": {"amount_minor": 1999, "currency": "EUR"}});
    let atp = json!({"channel": "web-fr", "sku": sku, "destination": {"pickup_store": a}});
    let cart = json!({"channel": "web-fr", "lines": [{"sku": sku, "quantity": 1}], "destination": {"pickup_store": a}});
    let pairing = json!({"store": a, "role": "store_associate"});
    let pairing_b = json!({"store": b, "role": "store_associate"});
    let token = json!({"role": "integration", "label": "erp"});
    // One JSON-lines row: the JSON body is also a valid one-line feed.
    let feed_row = json!({"location": a, "sku": sku, "delta": 0});
    let job = uuid::Uuid::new_v4();

    let order = json!({"channel": "web-fr", "delivery": "click_and_collect",
        "destination": {"pickup_store": a}, "customer": {"name": "Ana"},
        "lines": [{"sku": sku, "quantity": 1}], "payment": "in_store", "accept_partial": true});
    let return_line =
        json!([{"line": 1, "quantity": 1, "reason": "other", "condition": "damaged"}]);
    let return_a = json!({"location": a, "lines": return_line});
    let return_b = json!({"location": b, "lines": return_line});
    let start = json!({"type": "start_preparation"});
    let sale = json!({"lines": [{"sku": sku, "quantity": 1}]});
    let empty_push = json!({"device_id": "none", "mutations": []});
    let staff = json!({"name": "Inès", "role": "store_associate", "pin": "4821"});
    // Refused as invalid (422) once the role passes: no contact.
    let customer = json!({"name": "Ana"});
    let email_receipt = json!({"to": "ana@example.com"});
    // No lines: refused as invalid (422) once the role and store pass.
    let no_receipt = json!({"lines": [], "refund_method": "cash",
        "approval": {"staff_id": "STAFF-NONE", "pin": "1234"}});
    let periods = network["periods"].clone();
    let safety = network["safety_stock"].clone();
    let transit = network["transit"].clone();
    let channel_price = json!({"amount_minor": 1999, "currency": "EUR"});
    let sign_in = json!({"staff_id": "STAFF-NONE", "pin": "x"});
    let rule_set =
        f.server.get_json("/v1/channels/web-fr/rule-sets").await.2[0]["rule_set"].clone();
    let cancel = json!({});

    use Who::*;
    let service: &[Who] = &[Admin, Integration, ManagerOfA];
    let routes: Vec<(&str, String, Option<&Value>, &[Who])> = vec![
        ("POST", "/v1/orders".into(), Some(&order), EVERYONE),
        // The counter looks orders up for returns, from any channel.
        ("GET", "/v1/orders?q=ana".into(), None, EVERYONE),
        ("GET", "/v1/orders/O-NONE".into(), None, EVERYONE),
        ("GET", "/v1/orders/O-NONE/timeline".into(), None, EVERYONE),
        ("GET", "/v1/orders/O-NONE/receipt".into(), None, EVERYONE),
        (
            "POST",
            "/v1/orders/O-NONE/receipt/email".into(),
            Some(&email_receipt),
            EVERYONE,
        ),
        ("GET", "/v1/customers?q=ana".into(), None, EVERYONE),
        ("POST", "/v1/customers".into(), Some(&customer), EVERYONE),
        ("GET", "/v1/customers/C-NONE".into(), None, EVERYONE),
        (
            "GET",
            "/v1/orders/O-NONE/notifications".into(),
            None,
            service,
        ),
        (
            "POST",
            "/v1/orders/O-NONE/cancel".into(),
            Some(&cancel),
            service,
        ),
        (
            "POST",
            "/v1/orders/O-NONE/notifications/1/resend".into(),
            None,
            service,
        ),
        (
            "POST",
            "/v1/orders/O-NONE/returns".into(),
            Some(&return_a),
            EVERYONE,
        ),
        (
            "POST",
            "/v1/orders/O-NONE/returns".into(),
            Some(&return_b),
            &[Admin, Integration],
        ),
        ("GET", "/v1/fulfilments/F-NONE".into(), None, EVERYONE),
        (
            "POST",
            "/v1/fulfilments/F-NONE/steps".into(),
            Some(&start),
            EVERYONE,
        ),
        ("GET", "/v1/fulfilments/F-NONE/label".into(), None, EVERYONE),
        (
            "GET",
            format!("/v1/locations/{a}/fulfilments"),
            None,
            EVERYONE,
        ),
        (
            "GET",
            format!("/v1/locations/{b}/fulfilments"),
            None,
            &[Admin, Integration],
        ),
        (
            "GET",
            "/v1/channels/web-fr/rule-sets".into(),
            None,
            &[Admin, Integration],
        ),
        (
            "POST",
            "/v1/channels/web-fr/rule-sets".into(),
            Some(&rule_set),
            &[Admin],
        ),
        (
            "POST",
            "/v1/channels/web-fr/rule-sets/1/activate".into(),
            None,
            &[Admin],
        ),
        ("GET", "/v1/me".into(), None, EVERYONE),
        (
            "POST",
            "/v1/pairing-codes".into(),
            Some(&pairing),
            &[Admin, ManagerOfA],
        ),
        (
            "POST",
            "/v1/pairing-codes".into(),
            Some(&pairing_b),
            &[Admin],
        ),
        ("POST", "/v1/tokens".into(), Some(&token), &[Admin]),
        ("GET", "/v1/products?q=lamp".into(), None, EVERYONE),
        (
            "GET",
            format!("/v1/products?q=lamp&in_stock_at={a}"),
            None,
            EVERYONE,
        ),
        (
            "GET",
            format!("/v1/products?q=lamp&in_stock_at={b}"),
            None,
            &[Admin, Integration],
        ),
        ("GET", "/v1/product-facets".into(), None, EVERYONE),
        ("GET", format!("/v1/products/{sku}"), None, EVERYONE),
        (
            "PUT",
            "/v1/products/SKU-NEW-1".into(),
            Some(&product),
            &[Admin, Integration],
        ),
        ("GET", "/v1/network".into(), None, &[Admin, Integration]),
        ("PUT", "/v1/network".into(), Some(&network), &[Admin]),
        ("GET", "/v1/locations".into(), None, EVERYONE),
        ("GET", format!("/v1/locations/{a}"), None, EVERYONE),
        ("GET", format!("/v1/locations/{a}/stock"), None, EVERYONE),
        (
            "GET",
            format!("/v1/locations/{b}/stock"),
            None,
            &[Admin, Integration],
        ),
        ("GET", "/v1/channels".into(), None, EVERYONE),
        ("GET", format!("/v1/stock/{sku}"), None, EVERYONE),
        ("POST", "/v1/atp/product".into(), Some(&atp), EVERYONE),
        ("POST", "/v1/atp/cart".into(), Some(&cart), EVERYONE),
        ("GET", "/v1/changes?limit=1".into(), None, EVERYONE),
        (
            "POST",
            "/v1/stock/feeds?format=jsonl&mode=delta".into(),
            Some(&feed_row),
            &[Admin, Integration],
        ),
        (
            "GET",
            format!("/v1/jobs/{job}"),
            None,
            &[Admin, Integration],
        ),
        (
            "GET",
            "/v1/channels/web-fr/unified-stock?format=json".into(),
            None,
            &[Admin, Integration],
        ),
        (
            "POST",
            format!("/v1/locations/{a}/sales"),
            Some(&sale),
            EVERYONE,
        ),
        (
            "POST",
            format!("/v1/locations/{b}/sales"),
            Some(&sale),
            &[Admin, Integration],
        ),
        (
            "POST",
            format!("/v1/locations/{a}/returns"),
            Some(&no_receipt),
            &[ManagerOfA, AssociateOfA],
        ),
        (
            "POST",
            format!("/v1/locations/{b}/returns"),
            Some(&no_receipt),
            &[],
        ),
        ("GET", format!("/v1/locations/{a}/tasks"), None, EVERYONE),
        (
            "GET",
            format!("/v1/locations/{b}/tasks"),
            None,
            &[Admin, Integration],
        ),
        ("GET", format!("/v1/locations/{a}/staff"), None, EVERYONE),
        (
            "GET",
            format!("/v1/locations/{b}/staff"),
            None,
            &[Admin, Integration],
        ),
        (
            "POST",
            format!("/v1/locations/{a}/staff"),
            Some(&staff),
            &[Admin, ManagerOfA],
        ),
        (
            "POST",
            format!("/v1/locations/{b}/staff"),
            Some(&staff),
            &[Admin],
        ),
        // A bad PIN format is a 422 once the role passes.
        (
            "POST",
            "/v1/staff/sign-in".into(),
            Some(&sign_in),
            &[ManagerOfA, AssociateOfA],
        ),
        // An empty push is refused as invalid (422) once the role passes.
        (
            "POST",
            "/v1/sync/push".into(),
            Some(&empty_push),
            &[ManagerOfA, AssociateOfA],
        ),
        (
            "GET",
            "/v1/network/periods".into(),
            None,
            &[Admin, Integration],
        ),
        (
            "PUT",
            "/v1/network/periods".into(),
            Some(&periods),
            &[Admin],
        ),
        (
            "GET",
            "/v1/network/safety-stock".into(),
            None,
            &[Admin, Integration],
        ),
        (
            "PUT",
            "/v1/network/safety-stock".into(),
            Some(&safety),
            &[Admin],
        ),
        (
            "GET",
            "/v1/network/transit".into(),
            None,
            &[Admin, Integration],
        ),
        (
            "PUT",
            "/v1/network/transit".into(),
            Some(&transit),
            &[Admin],
        ),
        ("GET", format!("/v1/products/{sku}/prices"), None, EVERYONE),
        (
            "PUT",
            format!("/v1/products/{sku}/prices/web-fr"),
            Some(&channel_price),
            &[Admin, Integration],
        ),
        (
            "DELETE",
            format!("/v1/products/{sku}/prices/web-fr"),
            None,
            &[Admin, Integration],
        ),
        (
            "GET",
            format!("/v1/locations/{a}/devices"),
            None,
            &[Admin, ManagerOfA],
        ),
        ("GET", format!("/v1/locations/{b}/devices"), None, &[Admin]),
        // An unknown device is a 404 once the role passes (the store scope
        // is checked on the device's store: see `revocation` below).
        (
            "DELETE",
            "/v1/devices/D-NONE".into(),
            None,
            &[Admin, ManagerOfA],
        ),
        ("GET", "/v1/outbox?state=dead".into(), None, &[Admin]),
        ("POST", "/v1/outbox/999999999/replay".into(), None, &[Admin]),
    ];
    let mut failures = Vec::new();
    for (method, path, body, allowed) in &routes {
        for who in [Anonymous, Admin, Integration, ManagerOfA, AssociateOfA] {
            let (status, problem) = call(&f, who, method, path, *body).await;
            let expected = if who == Anonymous {
                "401"
            } else if allowed.contains(&who) {
                "allowed"
            } else {
                "403"
            };
            let ok = match expected {
                "401" => status == 401 && problem["type"] == "unauthenticated",
                "403" => status == 403 && problem["type"] == "forbidden",
                _ => status != 401 && status != 403 && status < 500,
            };
            if !ok {
                failures.push(format!(
                    "{method} {path} as {who:?}: expected {expected}, got {status} {problem}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Public routes need no token.
    assert_eq!(call(&f, Anonymous, "GET", "/health", None).await.0, 200);
    let bad = json!({"code": "NOPE-NOPE", "device_label": "till"});
    assert_eq!(
        call(&f, Anonymous, "POST", "/v1/pairing", Some(&bad))
            .await
            .0,
        403
    );
    // A forged or malformed token is unauthenticated, never an error.
    let forged = authorized_client("aisle_0000");
    let status = forged
        .get(format!("{}/v1/me", f.server.base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_pairs_once_and_sees_only_its_store() {
    let f = fixture().await;
    let (status, code) = call(
        &f,
        Who::ManagerOfA,
        "POST",
        "/v1/pairing-codes",
        Some(&json!({"store": f.store_a, "role": "store_associate"})),
    )
    .await;
    assert_eq!(status, 200);
    let code = code["code"].as_str().unwrap().to_owned();
    // People type codes in lower case with a dash; that still works.
    let typed = format!("{}-{}", code[..5].to_lowercase(), &code[5..]);
    let (status, issued) = call(
        &f,
        Who::Anonymous,
        "POST",
        "/v1/pairing",
        Some(&json!({"code": typed, "device_label": "Till 2"})),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["role"], "store_associate");
    assert_eq!(issued["store"], f.store_a.as_str());
    let device = authorized_client(issued["token"].as_str().unwrap());

    // Single use.
    let (status, _) = call(
        &f,
        Who::Anonymous,
        "POST",
        "/v1/pairing",
        Some(&json!({"code": code, "device_label": "Till 3"})),
    )
    .await;
    assert_eq!(status, 403);

    let me: Value = device
        .get(format!("{}/v1/me", f.server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["store"], f.store_a.as_str());
    assert_eq!(me["label"], "Till 2");

    // Its store's stock in full, the network only in aggregate.
    let stock: Value = device
        .get(format!("{}/v1/stock/{}", f.server.base, f.sku))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for level in stock["levels"].as_array().unwrap() {
        assert_eq!(level["location"], f.store_a.as_str());
    }
    assert!(!stock["channels"].as_array().unwrap().is_empty());
    let (_, admin_view) = call(&f, Who::Admin, "GET", &format!("/v1/stock/{}", f.sku), None).await;
    assert!(
        admin_view["levels"].as_array().unwrap().len() > stock["levels"].as_array().unwrap().len()
    );

    // Its change feed carries only its store's stock rows.
    let mut cursor = String::new();
    loop {
        let page: Value = device
            .get(format!(
                "{}/v1/changes?limit=5000&cursor={cursor}",
                f.server.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for change in page["changes"].as_array().unwrap() {
            if change["entity"] == "stock" {
                assert_eq!(change["data"]["location"], f.store_a.as_str());
            }
        }
        cursor = page["cursor"].as_str().unwrap().to_owned();
        if page["has_more"] == false {
            break;
        }
    }
}

/// `DELETE` `path` with a device's own client; the status.
async fn delete_as(client: &reqwest::Client, base: &str, method: &str, path: &str) -> u16 {
    assert_eq!(method, "DELETE");
    client
        .delete(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Revocation: a forgotten device revokes its own token (`DELETE /v1/me`);
/// a lost one is revoked by its store's manager or an admin
/// (`DELETE /v1/devices/{id}`), never by another store's manager. A revoked
/// token is refused at once by the instance that revoked it.
async fn revocation(db: Db) {
    let server = start(db).await;
    let (store_a, store_b) = two_stores();
    let base = server.base.clone();
    let me = |client: &reqwest::Client| {
        let request = client.get(format!("{base}/v1/me"));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let devices_of_a = |client: &reqwest::Client| {
        let request = client.get(format!("{base}/v1/locations/{store_a}/devices"));
        async move {
            let listed: Vec<oms_api::wire::DeviceRecord> =
                request.send().await.unwrap().json().await.unwrap();
            listed
        }
    };

    // A forgotten till revokes its own token.
    let till = pair_device(&server, &store_a, "store_associate", "Till 1").await;
    assert_eq!(me(&till.http).await, 200);
    assert_eq!(delete_as(&till.http, &base, "DELETE", "/v1/me").await, 204);
    assert_eq!(
        me(&till.http).await,
        401,
        "refused at once, though its caller was cached"
    );
    assert_eq!(delete_as(&till.http, &base, "DELETE", "/v1/me").await, 401);

    // A lost tablet: its manager lists the store's devices and revokes it.
    let tablet = pair_device(&server, &store_a, "store_associate", "Tablet 3").await;
    let manager = pair_device(&server, &store_a, "store_manager", "Back office").await;
    let other_manager = pair_device(&server, &store_b, "store_manager", "B office").await;
    assert_eq!(me(&tablet.http).await, 200, "its token is cached now");
    let listed = devices_of_a(&manager.http).await;
    let find = |id: &str| listed.iter().find(|d| d.device_id == id).cloned();
    let listed_tablet = find(&tablet.id).unwrap();
    assert_eq!(listed_tablet.label, "Tablet 3");
    assert_eq!(listed_tablet.store, store_a);
    assert!(listed_tablet.active);
    assert!(!find(&till.id).unwrap().active, "the till revoked itself");
    assert!(
        find(&other_manager.id).is_none(),
        "only this store's devices"
    );

    let path = format!("/v1/devices/{}", tablet.id);
    let status = delete_as(&other_manager.http, &base, "DELETE", &path).await;
    assert_eq!(status, 403, "another store's manager may not");
    assert_eq!(
        me(&tablet.http).await,
        200,
        "a refused revocation changes nothing"
    );
    let status = delete_as(&manager.http, &base, "DELETE", &path).await;
    assert_eq!(status, 204);
    assert_eq!(
        me(&tablet.http).await,
        401,
        "revoked at once, cached or not"
    );
    // Again: nothing left to revoke, still fine; the device stays listed.
    assert_eq!(delete_as(&server.http, &base, "DELETE", &path).await, 204);
    let listed = devices_of_a(&server.http).await;
    let tablet_now = listed.iter().find(|d| d.device_id == tablet.id).unwrap();
    assert!(!tablet_now.active);
    assert_eq!(me(&manager.http).await, 200, "other devices keep working");
}

on_both_databases! {
    revocation_scenario => revocation,
}

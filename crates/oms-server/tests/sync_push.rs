//! Device sync on a real server, on SQLite and PostgreSQL: a paired device
//! pushes its mutations and each is applied exactly once — replays, a
//! concurrent duplicate and a retry after the answer was lost give the kept
//! answer and move nothing twice; a gap is refused whole; business refusals
//! are kept answers; carry-out sales always go through and open a
//! discrepancy task when the shelf was short; an order that cannot be served
//! when it arrives becomes a task and a customer message.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use oms_domain::model::{LocationId, Quantity, Sku};
use oms_domain::stock::StockRow;
use serde_json::{Value, json};

use common::PairedDevice as Device;

/// Pairs a store associate's device with `store` through a pairing code.
async fn pair(server: &TestServer, store: &str, label: &str) -> Device {
    common::pair_device(server, store, "store_associate", label).await
}

async fn push(server: &TestServer, device: &Device, mutations: Value) -> (u16, Value) {
    let response = device
        .http
        .post(format!("{}/v1/sync/push", server.base))
        .json(&json!({"device_id": device.id, "mutations": mutations}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// (on_hand, reserved) of a SKU at a location, from the database.
async fn level(server: &TestServer, sku: &str, location: &str) -> (i64, i64) {
    let levels = server.state.storage.stock_of_sku(sku).await.unwrap();
    levels
        .iter()
        .find(|l| l.location == location)
        .map(|l| (l.on_hand, l.reserved))
        .unwrap_or((0, 0))
}

/// Sets a SKU's on-hand stock at the listed locations; none elsewhere.
async fn set_on_hand(server: &TestServer, sku: &str, at: &[(&str, i64)]) {
    let levels = server.state.storage.stock_of_sku(sku).await.unwrap();
    let mut rows: Vec<StockRow> = levels
        .iter()
        .map(|l| StockRow {
            sku: Sku::parse(sku).unwrap(),
            location: LocationId::parse(l.location.as_str()).unwrap(),
            on_hand: at
                .iter()
                .find(|(loc, _)| *loc == l.location)
                .map_or(0, |(_, units)| *units),
            reserved: Quantity::new(0),
        })
        .collect();
    for (location, units) in at {
        if !levels.iter().any(|l| l.location == *location) {
            rows.push(StockRow {
                sku: Sku::parse(sku).unwrap(),
                location: LocationId::parse(*location).unwrap(),
                on_hand: *units,
                reserved: Quantity::new(0),
            });
        }
    }
    server.state.storage.set_stock_levels(&rows).await.unwrap();
    server
        .state
        .stock
        .refresh(&server.state.storage)
        .await
        .unwrap();
}

fn sale(sku: &str, quantity: u32) -> Value {
    json!({"kind": "carry_out_sale", "args": {"lines": [{"sku": sku, "quantity": quantity}]}})
}

fn order(sku: &str, store: &str) -> Value {
    json!({"kind": "place_order", "args": {
        "channel": "stores",
        "delivery": "click_and_collect",
        "destination": {"pickup_store": store},
        "customer": {"name": "Léa Petit", "email": "lea@example.com", "language": "fr"},
        "lines": [{"sku": sku, "quantity": 1}],
        "payment": "in_store",
        "placed_at": jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_mins(20)).unwrap().to_string()
    }})
}

async fn tasks(server: &TestServer, store: &str) -> Vec<Value> {
    let (status, _, tasks) = server
        .get_json(&format!("/v1/locations/{store}/tasks"))
        .await;
    assert_eq!(status, 200, "{tasks}");
    tasks.as_array().unwrap().clone()
}

async fn exactly_once(db: common::Db) {
    let server = common::start(db).await;
    let (_, _, locations) = server.get_json("/v1/locations?limit=200").await;
    // The demo's "stores" channel sells from every location.
    let store = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "store")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, products) = server.get_json("/v1/products?limit=50").await;
    let skus: Vec<String> = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["product_type"] == "standard")
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .take(4)
        .collect();
    let (shelf, ordered, sold_out) = (&skus[0], &skus[1], &skus[2]);
    set_on_hand(&server, shelf, &[(&store, 2)]).await;
    set_on_hand(&server, ordered, &[(&store, 50)]).await;
    set_on_hand(&server, sold_out, &[]).await;
    let till = pair(&server, &store, "Till 1").await;

    // 1: a sale of 3 from a shelf the core thinks holds 2; 2: an order.
    let batch = json!([
        {"id": 1, "intent": sale(shelf, 3)},
        {"id": 2, "intent": order(ordered, &store)},
    ]);
    let (status, first) = push(&server, &till, batch.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["last_applied"], 2);
    assert_eq!(first["results"][0]["status"], 201, "{first}");
    assert_eq!(
        first["results"][0]["body"]["discrepancies"][0]["short_by"],
        1
    );
    assert_eq!(first["results"][1]["status"], 201, "{first}");
    assert_eq!(level(&server, shelf, &store).await, (-1, 0));
    assert_eq!(level(&server, ordered, &store).await, (50, 1));
    let discrepancies: Vec<Value> = tasks(&server, &store)
        .await
        .into_iter()
        .filter(|t| t["kind"] == "stock_discrepancy")
        .collect();
    assert_eq!(discrepancies.len(), 1);
    assert_eq!(discrepancies[0]["sku"], shelf.as_str());

    // The same batch again (a timeout on the device): the kept answers,
    // nothing applied twice.
    let (status, again) = push(&server, &till, batch).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first);
    assert_eq!(level(&server, shelf, &store).await, (-1, 0));
    assert_eq!(level(&server, ordered, &store).await, (50, 1));
    assert_eq!(tasks(&server, &store).await.len(), 1);

    // A gap is refused whole.
    let (status, gap) = push(&server, &till, json!([{"id": 4, "intent": sale(shelf, 1)}])).await;
    assert_eq!(status, 409, "{gap}");
    assert_eq!(gap["type"], "mutation-gap");
    assert_eq!(level(&server, shelf, &store).await, (-1, 0));

    // 3: an order taken offline for a product sold out everywhere: a kept
    // refusal, a task for the store and a message to the customer.
    let offline_order = order(sold_out, &store);
    let (status, refused) = push(&server, &till, json!([{"id": 3, "intent": offline_order}])).await;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["results"][0]["status"], 409);
    assert_eq!(refused["results"][0]["body"]["type"], "cannot-be-served");
    let refusals: Vec<Value> = tasks(&server, &store)
        .await
        .into_iter()
        .filter(|t| t["kind"] == "offline_order_refused")
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0]["message"]
            .as_str()
            .unwrap()
            .contains("Till 1-3")
    );
    let (_, _, outbox) = server
        .get_json("/v1/outbox?topic=notification&limit=1000")
        .await;
    assert!(
        outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["payload"]["order"] == "Till 1-3" && m["payload"]["status"] == "cancelled"),
        "{outbox}"
    );
    let (_, replay) = push(&server, &till, json!([{"id": 3, "intent": offline_order}])).await;
    assert_eq!(replay["results"], refused["results"]);
    assert_eq!(tasks(&server, &store).await.len(), 2);

    // Ids out of range or not consecutive: refused whole, nothing applied.
    for bad in [
        json!([{"id": 0, "intent": sale(shelf, 1)}]),
        json!([{"id": u64::MAX, "intent": sale(shelf, 1)}]),
        json!([{"id": 4, "intent": sale(shelf, 1)}, {"id": 6, "intent": sale(shelf, 1)}]),
    ] {
        let (status, problem) = push(&server, &till, bad).await;
        assert_eq!(status, 422, "{problem}");
    }
    assert_eq!(level(&server, shelf, &store).await, (-1, 0));

    // A mutation id is never reused for another intent.
    let (status, reused) = push(&server, &till, json!([{"id": 3, "intent": sale(shelf, 1)}])).await;
    assert_eq!(status, 422, "{reused}");

    // 4, pushed twice at once (a retry racing the first attempt): applied once.
    let batch = json!([{"id": 4, "intent": sale(ordered, 2)}]);
    let (a, b) = tokio::join!(
        push(&server, &till, batch.clone()),
        push(&server, &till, batch)
    );
    assert_eq!(a.0, 200, "{}", a.1);
    assert_eq!(b.0, 200, "{}", b.1);
    assert_eq!(a.1["results"], b.1["results"]);
    assert_eq!(level(&server, ordered, &store).await, (48, 1));

    // The device's pull says what was applied; its store's tasks are in it.
    let page: Value = till
        .http
        .get(format!("{}/v1/changes?limit=5000", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["last_mutation_id"], 4);

    // Another device cannot push under this one's id; a token that is not a
    // paired device cannot push at all.
    let other = pair(&server, &till.store, "Till 2").await;
    let (status, _) = push(
        &server,
        &Device {
            http: other.http.clone(),
            token: other.token.clone(),
            id: till.id.clone(),
            store: other.store.clone(),
        },
        json!([{"id": 5, "intent": sale(shelf, 1)}]),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = push(
        &server,
        &Device {
            http: server.http.clone(),
            token: server.admin_token.clone(),
            id: till.id.clone(),
            store: store.clone(),
        },
        json!([{"id": 5, "intent": sale(shelf, 1)}]),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(level(&server, shelf, &store).await, (-1, 0));

    // 5: an order to collect here that only warehouses can serve: accepted,
    // and the store hears that it is brought in rather than taken from its
    // shelf.
    let warehouses: Vec<String> = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "warehouse")
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    let far = &skus[3];
    let stocked: Vec<(&str, i64)> = warehouses.iter().map(|w| (w.as_str(), 50)).collect();
    set_on_hand(&server, far, &stocked).await;
    let (status, brought) = push(
        &server,
        &till,
        json!([{"id": 5, "intent": order(far, &store)}]),
    )
    .await;
    assert_eq!(status, 200, "{brought}");
    assert_eq!(brought["results"][0]["status"], 201, "{brought}");
    let order_id = brought["results"][0]["body"]["id"].clone();
    let changed: Vec<Value> = tasks(&server, &store)
        .await
        .into_iter()
        .filter(|t| t["kind"] == "offline_order_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["order"], order_id);
}

on_both_databases! {
    push_applies_each_mutation_exactly_once => exactly_once,
}

/// Staff sign in on a paired device of their store with their PIN; wrong
/// PINs lock the member out after five tries; another store's device does
/// not know them.
async fn staff_pins(db: common::Db) {
    let server = common::start(db).await;
    let (_, _, locations) = server.get_json("/v1/locations?limit=200").await;
    let stores: Vec<String> = locations["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "store")
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .take(2)
        .collect();
    let add = |name: &'static str, pin: &'static str| {
        let server = &server;
        let store = stores[0].clone();
        async move {
            let response = server
                .http
                .post(format!("{}/v1/locations/{store}/staff", server.base))
                .json(&json!({"name": name, "role": "store_associate", "pin": pin}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()
        }
    };
    let ines = add("Inès", "4821").await;
    let marc = add("Marc", "1357").await;
    let (status, _, listed) = server
        .get_json(&format!("/v1/locations/{}/staff", stores[0]))
        .await;
    assert_eq!(status, 200);
    let named = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["name"] == name)
            .count()
    };
    // The demo's manager and associate, and the two added.
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
    assert_eq!(named(&listed, "Inès") + named(&listed, "Marc"), 2);
    assert!(!listed.to_string().contains("4821"), "no PIN in answers");

    let till = pair(&server, &stores[0], "Till 1").await;
    let sign_in = |device: &Device, id: &Value, pin: &str| {
        device
            .http
            .post(format!("{}/v1/staff/sign-in", server.base))
            .json(&json!({"staff_id": id, "pin": pin}))
            .send()
    };
    let ok = sign_in(&till, &ines["id"], "4821").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["name"], "Inès");
    // The same through the typed client the app uses.
    let typed = oms_api::OmsClient::new(&server.base)
        .unwrap()
        .with_token(till.token.clone());
    let listed = typed.staff(&stores[0]).await.unwrap();
    assert_eq!(listed.len(), 4);
    let member = typed
        .staff_sign_in(&oms_api::wire::StaffSignIn {
            staff_id: ines["id"].as_str().unwrap().to_owned(),
            pin: "4821".into(),
        })
        .await
        .unwrap();
    assert_eq!(member.name, "Inès");

    // Four wrong PINs, then the right one: still fine (the count restarts).
    for _ in 0..4 {
        assert_eq!(
            sign_in(&till, &marc["id"], "0000").await.unwrap().status(),
            403
        );
    }
    assert_eq!(
        sign_in(&till, &marc["id"], "1357").await.unwrap().status(),
        200
    );
    // Five wrong ones in a row lock Marc out, even with the right PIN; each
    // wrong one says how many attempts are left, the fifth the wait.
    for left in (1..=4).rev() {
        let wrong = sign_in(&till, &marc["id"], "0000").await.unwrap();
        assert_eq!(wrong.status(), 403);
        let problem = wrong.json::<Value>().await.unwrap();
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} attempt(s) left")),
            "{problem}"
        );
    }
    let fifth = sign_in(&till, &marc["id"], "0000").await.unwrap();
    assert_eq!(fifth.status(), 429);
    let problem = fifth.json::<Value>().await.unwrap();
    assert_eq!(problem["type"], "locked-out");
    assert!(
        problem["detail"].as_str().unwrap().contains("5 minute(s)"),
        "{problem}"
    );
    let locked = sign_in(&till, &marc["id"], "1357").await.unwrap();
    assert_eq!(locked.status(), 429);
    assert_eq!(locked.json::<Value>().await.unwrap()["type"], "locked-out");
    // Inès is not affected.
    assert_eq!(
        sign_in(&till, &ines["id"], "4821").await.unwrap().status(),
        200
    );

    // A device of another store does not know Inès (and cannot lock her out).
    let other = pair(&server, &stores[1], "Till 9").await;
    for _ in 0..6 {
        assert_eq!(
            sign_in(&other, &ines["id"], "4821").await.unwrap().status(),
            403
        );
    }
    assert_eq!(
        sign_in(&till, &ines["id"], "4821").await.unwrap().status(),
        200
    );
}

on_both_databases! {
    staff_sign_in_with_pins => staff_pins,
}

//! The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`.
//!
//! Written by hand as data, without a macro crate: [`ROUTES`] is the one
//! list of (method, path template) the document is built from, and
//! `tests/openapi.rs` checks it against the router both ways (every listed
//! route answers something other than `no-route`, every route the role walk
//! uses is listed, and `http/mod.rs` has as many `.route(` calls as
//! [`ROUTES`] has paths). A new endpoint goes into [`ROUTES`] and
//! [`operation`]; its shapes into [`schemas`].

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use serde_json::{Map, Value, json};

/// Every route of the router: (method, path template), in router order.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/pairing"),
    ("GET", "/v1/me"),
    ("DELETE", "/v1/me"),
    ("GET", "/v1/locations/{id}/devices"),
    ("DELETE", "/v1/devices/{id}"),
    ("POST", "/v1/pairing-codes"),
    ("POST", "/v1/tokens"),
    ("GET", "/v1/products"),
    ("GET", "/v1/product-facets"),
    ("GET", "/v1/products/{sku}"),
    ("PUT", "/v1/products/{sku}"),
    ("GET", "/v1/network"),
    ("PUT", "/v1/network"),
    ("GET", "/v1/network/periods"),
    ("PUT", "/v1/network/periods"),
    ("GET", "/v1/network/safety-stock"),
    ("PUT", "/v1/network/safety-stock"),
    ("GET", "/v1/network/transit"),
    ("PUT", "/v1/network/transit"),
    ("GET", "/v1/products/{sku}/prices"),
    ("PUT", "/v1/products/{sku}/prices/{channel}"),
    ("DELETE", "/v1/products/{sku}/prices/{channel}"),
    ("GET", "/v1/locations"),
    ("GET", "/v1/locations/{id}"),
    ("GET", "/v1/locations/{id}/stock"),
    ("GET", "/v1/channels"),
    ("GET", "/v1/stock/{sku}"),
    ("POST", "/v1/stock/feeds"),
    ("GET", "/v1/jobs/{id}"),
    ("GET", "/v1/channels/{id}/unified-stock"),
    ("POST", "/v1/atp/product"),
    ("POST", "/v1/atp/cart"),
    ("GET", "/v1/changes"),
    ("GET", "/v1/orders"),
    ("POST", "/v1/orders"),
    ("GET", "/v1/orders/{id}"),
    ("GET", "/v1/orders/{id}/timeline"),
    ("GET", "/v1/orders/{id}/receipt"),
    ("POST", "/v1/orders/{id}/receipt/email"),
    ("GET", "/v1/customers"),
    ("POST", "/v1/customers"),
    ("GET", "/v1/customers/{id}"),
    ("GET", "/v1/orders/{id}/notifications"),
    (
        "POST",
        "/v1/orders/{id}/notifications/{notification}/resend",
    ),
    ("POST", "/v1/orders/{id}/cancel"),
    ("POST", "/v1/orders/{id}/returns"),
    ("GET", "/v1/fulfilments/{id}"),
    ("POST", "/v1/fulfilments/{id}/steps"),
    ("GET", "/v1/fulfilments/{id}/label"),
    ("GET", "/v1/locations/{id}/fulfilments"),
    ("POST", "/v1/locations/{id}/sales"),
    ("POST", "/v1/locations/{id}/returns"),
    ("GET", "/v1/locations/{id}/tasks"),
    ("POST", "/v1/sync/push"),
    ("GET", "/v1/locations/{id}/staff"),
    ("POST", "/v1/locations/{id}/staff"),
    ("POST", "/v1/staff/sign-in"),
    ("GET", "/v1/channels/{id}/rule-sets"),
    ("POST", "/v1/channels/{id}/rule-sets"),
    ("POST", "/v1/channels/{id}/rule-sets/{version}/activate"),
    ("GET", "/v1/outbox"),
    ("POST", "/v1/outbox/{id}/replay"),
];

/// Whether `method` on `concrete_path` (a query string is ignored) is one of
/// [`ROUTES`]: a `{param}` segment of a template matches any non-empty
/// segment.
pub fn matches(method: &str, concrete_path: &str) -> bool {
    let path = concrete_path
        .split_once('?')
        .map_or(concrete_path, |(path, _)| path);
    ROUTES
        .iter()
        .any(|(m, template)| m.eq_ignore_ascii_case(method) && template_matches(template, path))
}

fn template_matches(template: &str, path: &str) -> bool {
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) => {
                let param = w.starts_with('{') && w.ends_with('}');
                let same = if param { !g.is_empty() } else { w == g };
                if !same {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// `GET /openapi.json`: public, like `/health`.
pub async fn serve() -> Json<Value> {
    Json(document())
}

/// The whole OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path) in ROUTES {
        let operation = operation(method, path).map_or_else(|| json!({}), |op| op.build(path));
        let item = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(method.to_ascii_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Aisle OMS API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Aisle order management API. Every error answer is \
                `application/problem+json` (RFC 9457) whose `type` is a stable code \
                (`invalid-query`, `not-found`, …); clients branch on `type`, never on \
                `detail`. Every `/v1` route but `POST /v1/pairing` needs \
                `Authorization: Bearer <token>`; each operation lists the roles it allows \
                (store roles are scoped to their store). Request bodies are limited to \
                256 KiB (stock feeds: 512 MiB)."
        },
        "tags": [
            {"name": "system", "description": "Health and this description."},
            {"name": "auth", "description": "Tokens, pairing codes, device pairing."},
            {"name": "catalogue", "description": "Products."},
            {"name": "network", "description": "Locations, channels, periods and settings."},
            {"name": "stock", "description": "Stock levels, feeds, jobs, exports."},
            {"name": "atp", "description": "Available to promise."},
            {"name": "changes", "description": "The change sequence devices follow."},
            {"name": "orders", "description": "Placement, search, cancellation, returns, notifications."},
            {"name": "fulfilments", "description": "Store and warehouse work on orders."},
            {"name": "rule-sets", "description": "Orchestration rules per channel."},
            {"name": "outbox", "description": "Webhooks and notifications waiting or delivered."},
            {"name": "sync", "description": "Store devices: carry-out sales, tasks, exactly-once push of queued mutations."},
            {"name": "staff", "description": "Store staff and their PIN sign-in on paired devices."},
            {"name": "customers", "description": "The customer register: find or create at the checkout."}
        ],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`POST /v1/tokens`, or a device's from `POST /v1/pairing`)."
                }
            },
            "schemas": schemas(),
        }
    })
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": schema(name)})
}

fn page_of(name: &str) -> Value {
    json!({
        "allOf": [schema("Page")],
        "properties": {"items": array_of(name)}
    })
}

const ADMIN: &str = "admin";
const ADMIN_INTEGRATION: &str = "admin, integration";
const EVERYONE: &str = "admin, integration, store_manager, store_associate";

/// One operation being described.
struct Op {
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: Vec<String>,
    public: bool,
    parameters: Vec<Value>,
    body: Option<Value>,
    responses: Map<String, Value>,
    errors: BTreeMap<u16, BTreeSet<&'static str>>,
}

fn op(id: &'static str, tag: &'static str, summary: &'static str) -> Op {
    Op {
        id,
        tag,
        summary,
        description: Vec::new(),
        public: false,
        parameters: Vec::new(),
        body: None,
        responses: Map::new(),
        errors: BTreeMap::new(),
    }
}

impl Op {
    fn about(mut self, text: &str) -> Self {
        self.description.push(text.to_owned());
        self
    }

    fn roles(mut self, roles: &str) -> Self {
        self.description.push(format!("Roles: {roles}."));
        self
    }

    fn public(mut self) -> Self {
        self.public = true;
        self.description.push("Public: no token needed.".to_owned());
        self
    }

    /// An optional query parameter; any query makes `invalid-query` possible
    /// (unknown parameters included).
    fn query(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "schema": schema, "description": description
        }));
        self.err(400, &["invalid-query"])
    }

    fn required_query(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.parameters.push(json!({
            "name": name, "in": "query", "required": true,
            "schema": schema, "description": description
        }));
        self.err(400, &["invalid-query"])
    }

    fn header(mut self, name: &str, description: &str) -> Self {
        self.parameters.push(json!({
            "name": name, "in": "header", "required": false,
            "schema": {"type": "string"}, "description": description
        }));
        self
    }

    /// A JSON body (`application/json`, at most 256 KiB).
    fn json_body(mut self, body: Value) -> Self {
        self.body = Some(json!({
            "required": true,
            "content": {"application/json": {"schema": body}}
        }));
        self.err(400, &["malformed-json"])
            .err(413, &["body-too-large"])
            .err(415, &["unsupported-media-type"])
            .err(422, &["invalid-body"])
    }

    fn ok(self, status: u16, description: &str, body: Value) -> Self {
        self.ok_content(
            status,
            description,
            json!({"application/json": {"schema": body}}),
        )
    }

    fn ok_content(mut self, status: u16, description: &str, content: Value) -> Self {
        self.responses.insert(
            status.to_string(),
            json!({"description": description, "content": content}),
        );
        self
    }

    fn err(mut self, status: u16, codes: &[&'static str]) -> Self {
        self.errors
            .entry(status)
            .or_default()
            .extend(codes.iter().copied());
        self
    }

    fn not_found(self) -> Self {
        self.err(404, &["not-found"])
    }

    fn build(mut self, path: &str) -> Value {
        if !self.public {
            self = self.err(401, &["unauthenticated"]).err(403, &["forbidden"]);
        }
        self = self.err(500, &["internal"]);
        let mut parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| path_parameter(path, name))
            .collect();
        parameters.append(&mut self.parameters);
        let mut responses = self.responses;
        for (status, codes) in &self.errors {
            responses.insert(status.to_string(), problem_response(codes));
        }
        let mut operation = json!({
            "operationId": self.id,
            "summary": self.summary,
            "tags": [self.tag],
            "responses": responses,
        });
        if let Value::Object(o) = &mut operation {
            if !self.description.is_empty() {
                o.insert("description".into(), self.description.join("\n\n").into());
            }
            if !parameters.is_empty() {
                o.insert("parameters".into(), parameters.into());
            }
            if let Some(body) = self.body {
                o.insert("requestBody".into(), body);
            }
            if self.public {
                o.insert("security".into(), json!([]));
            }
        }
        operation
    }
}

/// Problems whose body carries more than the problem members.
const EXTENDED_PROBLEMS: &[(&str, &str)] = &[
    ("feed-rejected", "FeedRejection"),
    ("cannot-be-served", "OrderRefusal"),
    ("duplicate-customer", "DuplicateCustomer"),
];

fn problem_response(codes: &BTreeSet<&'static str>) -> Value {
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let typed = |base: Value, codes: Vec<&str>| json!({"allOf": [base, {"properties": {"type": {"enum": codes}}}]});
    let plain: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|c| !EXTENDED_PROBLEMS.iter().any(|(code, _)| code == c))
        .collect();
    let mut variants = Vec::new();
    if !plain.is_empty() {
        variants.push(typed(schema("Problem"), plain));
    }
    for (code, name) in EXTENDED_PROBLEMS {
        if codes.contains(code) {
            variants.push(typed(schema(name), vec![*code]));
        }
    }
    let body = if variants.len() == 1 {
        variants.remove(0)
    } else {
        json!({ "oneOf": variants })
    };
    json!({
        "description": format!("Problem: {}", list.join(", ")),
        "content": {"application/problem+json": {"schema": body}}
    })
}

fn path_parameter(path: &str, name: &str) -> Value {
    let (schema, description) = match (name, path) {
        ("sku", _) => (json!({"type": "string"}), "A SKU."),
        ("notification", _) => (
            json!({"type": "integer", "format": "int64"}),
            "A notification id (from the order's notifications).",
        ),
        ("version", _) => (
            json!({"type": "integer", "minimum": 1}),
            "A rule set version.",
        ),
        ("id", p) if p.starts_with("/v1/orders/") => {
            (json!({"type": "string"}), "An order number.")
        }
        ("id", p) if p.starts_with("/v1/fulfilments/") => {
            (json!({"type": "string"}), "A fulfilment id.")
        }
        ("id", p) if p.starts_with("/v1/locations/") => {
            (json!({"type": "string"}), "A location id.")
        }
        ("id", p) if p.starts_with("/v1/channels/") => (json!({"type": "string"}), "A channel id."),
        ("id", p) if p.starts_with("/v1/jobs/") => (
            json!({"type": "string", "format": "uuid"}),
            "A job id (a feed's `job`).",
        ),
        ("id", p) if p.starts_with("/v1/outbox/") => (
            json!({"type": "integer", "format": "int64"}),
            "An outbox message id.",
        ),
        _ => (json!({"type": "string"}), ""),
    };
    json!({
        "name": name, "in": "path", "required": true,
        "schema": schema, "description": description
    })
}

fn limit(max: u32, default: u32) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": max, "default": default})
}

/// The description of one route of [`ROUTES`]; `None` for a route nobody
/// described (the document then carries an empty operation, and the tests
/// fail).
fn operation(method: &str, path: &str) -> Option<Op> {
    let string = json!({"type": "string"});
    let instant = json!({"type": "string", "format": "date-time"});
    let op = match (method, path) {
        ("GET", "/health") => op("health", "system", "Is the server up, and which one")
            .public()
            .about("The app trusts a sidecar only when `instance_id` is the one it announced.")
            .ok(200, "The server answers.", schema("Health")),
        ("GET", "/openapi.json") => op("openapi", "system", "This OpenAPI 3.1 document")
            .public()
            .ok(200, "The document.", json!({"type": "object"})),
        ("POST", "/v1/pairing") => op("pair", "auth", "Exchange a pairing code for a device token")
            .public()
            .about("The code is the credential, single use; an unknown, used or expired code is 403 `forbidden`.")
            .json_body(schema("PairingRequest"))
            .ok(200, "The device's token, shown once.", schema("IssuedToken")),
        ("GET", "/v1/me") => op("me", "auth", "Who the token says you are")
            .roles(EVERYONE)
            .ok(200, "The caller.", schema("Me")),
        ("DELETE", "/v1/me") => op("revokeMe", "auth", "Revoke the token of this request")
            .roles(EVERYONE)
            .about("For a device that is forgotten or a key that is rotated: the token is refused from then on (by other instances of the server within 30 s).")
            .ok_content(204, "Revoked.", json!({})),
        ("GET", "/v1/locations/{id}/devices") => op("listDevices", "auth", "A store's paired devices")
            .roles("admin; store_manager for their own store")
            .not_found()
            .ok(200, "Devices, the most recently paired first; `active` is false once revoked.", array_of("DeviceRecord")),
        ("DELETE", "/v1/devices/{id}") => op("revokeDevice", "auth", "Revoke a lost or retired device")
            .roles("admin; store_manager for a device of their own store")
            .about("Every token of the device is refused from then on (by other instances within 30 s); its sync history stays, and pairing it again makes a new device. Revoking it again is a no-op.")
            .not_found()
            .ok_content(204, "Revoked.", json!({})),
        ("POST", "/v1/pairing-codes") => op("createPairingCode", "auth", "Create a pairing code for a new store device")
            .roles("admin; store_manager for their own store")
            .json_body(schema("NewPairingCode"))
            .not_found()
            .ok(200, "The code, shown once.", schema("PairingCode")),
        ("POST", "/v1/tokens") => op("createToken", "auth", "Issue an API token")
            .roles(ADMIN)
            .json_body(schema("NewToken"))
            .not_found()
            .ok(200, "The token, shown once.", schema("IssuedToken")),
        ("GET", "/v1/products") => op("listProducts", "catalogue", "List or search products")
            .roles(EVERYONE)
            .query("q", string.clone(), "Matches name, brand (case-insensitive substrings), SKU or barcode.")
            .query("limit", limit(200, 50), "Page size.")
            .query("cursor", string.clone(), "`next_cursor` of the previous page.")
            .query("brand", string.clone(), "Only this brand (exact).")
            .query("product_type", json!({"type": "string", "enum": ["standard", "bulky", "fragile"]}), "Only this product type.")
            .query("in_stock_at", string.clone(), "Only products with units on hand beyond those reserved at this location; store roles: their own store (else 403).")
            .ok(200, "One page of products, in SKU order.", page_of("Product")),
        ("GET", "/v1/product-facets") => op("productFacets", "catalogue", "The brands and product types to filter products on")
            .roles(EVERYONE)
            .ok(200, "Each sorted.", schema("ProductFacets")),
        ("GET", "/v1/products/{sku}") => op("getProduct", "catalogue", "A product")
            .roles(EVERYONE)
            .not_found()
            .ok(200, "The product.", schema("Product")),
        ("PUT", "/v1/products/{sku}") => op("putProduct", "catalogue", "Create or replace a product")
            .roles(ADMIN_INTEGRATION)
            .json_body(schema("ProductWrite"))
            .err(409, &["conflict"])
            .about("409 `conflict` when a barcode belongs to another product.")
            .ok(200, "The product as stored.", schema("Product")),
        ("GET", "/v1/network") => op("getNetwork", "network", "The whole network")
            .roles(ADMIN_INTEGRATION)
            .ok(200, "Locations, channels, periods and settings.", schema("Network")),
        ("PUT", "/v1/network") => op("putNetwork", "network", "Replace the network")
            .roles(ADMIN)
            .about("Validated whole before anything is written; the stock index is rebuilt. 409 `conflict` when a removed location still holds stock or orders.")
            .json_body(schema("Network"))
            .err(409, &["conflict"])
            .ok(200, "The network as stored.", schema("Network")),
        ("GET", "/v1/network/periods") => op("getPeriods", "network", "The periods (time-driven stock rules)")
            .roles(ADMIN_INTEGRATION)
            .ok(200, "Every period.", json!({"type": "array", "items": {"type": "object", "additionalProperties": true}})),
        ("PUT", "/v1/network/periods") => op("putPeriods", "network", "Replace the periods")
            .roles(ADMIN)
            .about("The network they make is validated whole before anything is written; the stock index is rebuilt.")
            .json_body(json!({"type": "array", "items": {"type": "object", "additionalProperties": true}}))
            .ok(200, "The periods as stored.", json!({"type": "array", "items": {"type": "object", "additionalProperties": true}})),
        ("GET", "/v1/network/safety-stock") => op("getSafetyStock", "network", "Safety-stock settings")
            .roles(ADMIN_INTEGRATION)
            .ok(200, "Global, per location and per (location, SKU); the most specific wins.", json!({"type": "object", "additionalProperties": true})),
        ("PUT", "/v1/network/safety-stock") => op("putSafetyStock", "network", "Replace the safety-stock settings")
            .roles(ADMIN)
            .about("Validated with the rest of the network; the stock index is rebuilt.")
            .json_body(json!({"type": "object", "additionalProperties": true}))
            .ok(200, "The settings as stored.", json!({"type": "object", "additionalProperties": true})),
        ("GET", "/v1/network/transit") => op("getTransit", "network", "Carrier transit times")
            .roles(ADMIN_INTEGRATION)
            .ok(200, "The transit table.", json!({"type": "object", "additionalProperties": true})),
        ("PUT", "/v1/network/transit") => op("putTransit", "network", "Replace the carrier transit times")
            .roles(ADMIN)
            .about("Validated with the rest of the network; the stock index is rebuilt.")
            .json_body(json!({"type": "object", "additionalProperties": true}))
            .ok(200, "The table as stored.", json!({"type": "object", "additionalProperties": true})),
        ("GET", "/v1/products/{sku}/prices") => op("channelPrices", "catalogue", "A product's own prices per channel")
            .roles(EVERYONE)
            .not_found()
            .ok(200, "Channel prices (orders on other channels use the catalogue price).", json!({"type": "array", "items": {
                "type": "object", "required": ["channel", "price"],
                "properties": {"channel": string, "price": schema("Money")}}})),
        ("PUT", "/v1/products/{sku}/prices/{channel}") => op("putChannelPrice", "catalogue", "Set a product's price on one channel")
            .roles(ADMIN_INTEGRATION)
            .about("In the channel's currency (422 otherwise); it wins over the catalogue price for orders on that channel.")
            .json_body(schema("Money"))
            .not_found()
            .ok(200, "The channel price.", json!({"type": "object", "properties": {"channel": string, "price": schema("Money")}})),
        ("DELETE", "/v1/products/{sku}/prices/{channel}") => op("deleteChannelPrice", "catalogue", "Back to the catalogue price on one channel")
            .roles(ADMIN_INTEGRATION)
            .not_found()
            .ok_content(204, "Removed.", json!({})),
        ("GET", "/v1/locations") => op("listLocations", "network", "List locations")
            .roles(EVERYONE)
            .query("limit", limit(200, 50), "Page size.")
            .query("cursor", string.clone(), "`next_cursor` of the previous page.")
            .ok(200, "One page of locations, in id order.", page_of("Location")),
        ("GET", "/v1/locations/{id}") => op("getLocation", "network", "A location")
            .roles(EVERYONE)
            .not_found()
            .ok(200, "The location.", schema("Location")),
        ("GET", "/v1/locations/{id}/stock") => op("locationStock", "stock", "Stock levels at a location")
            .roles("admin, integration; store roles for their own store")
            .query("limit", limit(200, 50), "Page size.")
            .query("cursor", string.clone(), "`next_cursor` of the previous page.")
            .not_found()
            .ok(200, "One page of stock levels, in SKU order.", page_of("StockLevel")),
        ("GET", "/v1/channels") => op("listChannels", "network", "List channels")
            .roles(EVERYONE)
            .ok(200, "Every channel, on one page.", page_of("Channel")),
        ("GET", "/v1/stock/{sku}") => op("skuStock", "stock", "A SKU's stock everywhere, and per channel")
            .roles("everyone; store roles see their own store's levels and the network in aggregate")
            .query("at", instant.clone(), "The instant unified stock is computed for; default now.")
            .not_found()
            .ok(200, "Levels and unified stock per channel.", schema("SkuStock")),
        ("POST", "/v1/stock/feeds") => op("importStockFeed", "stock", "Import a stock feed (all or nothing)")
            .roles(ADMIN_INTEGRATION)
            .about("The body is streamed (up to 512 MiB): CSV with a header line `location,sku,on_hand` (snapshot) or `location,sku,delta` (delta), or JSON lines `{\"location\",\"sku\",\"on_hand\"|\"delta\"}`. One refused row rejects the whole feed (422 `feed-rejected`, with the report). Follow progress at `GET /v1/jobs/{id}`.")
            .required_query("format", json!({"type": "string", "enum": ["csv", "jsonl"]}), "Body format.")
            .required_query("mode", json!({"type": "string", "enum": ["snapshot", "delta"]}), "`snapshot`: the listed locations' stock becomes exactly the feed; `delta`: each row adds to on-hand.")
            .query("job", json!({"type": "string", "format": "uuid"}), "The job id to follow; made up when absent.")
            .err(400, &["upload-interrupted"])
            .err(409, &["conflict"])
            .err(413, &["body-too-large"])
            .err(422, &["feed-rejected"])
            .ok(200, "The feed was applied.", schema("FeedReport")),
        ("GET", "/v1/jobs/{id}") => op("getJob", "stock", "A job's progress, then its outcome")
            .roles(ADMIN_INTEGRATION)
            .about("A running job is visible only on the instance receiving its upload.")
            .not_found()
            .ok(200, "The job.", schema("Job")),
        ("GET", "/v1/channels/{id}/unified-stock") => op("exportUnifiedStock", "stock", "Every SKU's unified stock in a channel")
            .roles(ADMIN_INTEGRATION)
            .required_query("format", json!({"type": "string", "enum": ["csv", "json"]}), "Export format.")
            .query("at", instant.clone(), "The instant the figures are for; default now.")
            .not_found()
            .ok_content(200, "Streamed, in SKU order.", json!({
                "application/json": {"schema": schema("UnifiedStockExport")},
                "text/csv": {"schema": {"type": "string", "description": "`sku,unified_stock` then one line per SKU."}}
            })),
        ("POST", "/v1/atp/product") => op("productAtp", "atp", "Available to promise for one product")
            .roles(EVERYONE)
            .json_body(schema("ProductAtpRequest"))
            .not_found()
            .ok(200, "One answer per delivery method.", schema("ProductAtp")),
        ("POST", "/v1/atp/cart") => op("cartAtp", "atp", "Available to promise for a cart")
            .roles(EVERYONE)
            .json_body(schema("CartAtpRequest"))
            .not_found()
            .ok(200, "One answer per delivery method.", schema("CartAtp")),
        ("GET", "/v1/changes") => op("listChanges", "changes", "What changed after a position")
            .roles("everyone; store roles get the catalogue, the network and their own store's stock")
            .query("cursor", string.clone(), "The previous page's `cursor`; absent: from the beginning.")
            .query("limit", limit(5000, 1000), "Most changes in the page.")
            .ok(200, "Changes in commit order.", schema("ChangePage")),
        ("GET", "/v1/orders") => op("searchOrders", "orders", "Search orders")
            .roles("everyone; store roles search the whole chain (a return may come from any channel)")
            .required_query("q", json!({"type": "string", "minLength": 2, "maxLength": 200}), "Order number, e-mail, phone or name.")
            .query("limit", limit(100, 20), "Page size.")
            .query("cursor", string.clone(), "`next_cursor` of the previous page.")
            .ok(200, "One page of matching orders, newest first (then by number).", page_of("OrderSummary")),
        ("POST", "/v1/orders") => op("placeOrder", "orders", "Place an order")
            .roles("everyone; store roles: orders involving their store")
            .about("Stock is reserved in the same transaction; nothing is reserved when the order is refused (409 `cannot-be-served`, with the unservable lines and the explanation). With an `Idempotency-Key`, a replay returns the stored answer; the same key with a different body is 422 `idempotency-key-reused`. 503 `busy`: too much contention on the stock, retry as is.")
            .header("Idempotency-Key", "Makes the placement safe to retry (visible ASCII).")
            .json_body(schema("PlaceOrder"))
            .not_found()
            .err(409, &["cannot-be-served", "conflict"])
            .err(422, &["idempotency-key-reused"])
            .err(503, &["busy"])
            .ok(201, "The order, placed (without traces: GET it for them).", schema("OrderView")),
        ("GET", "/v1/orders/{id}") => op("getOrder", "orders", "An order with everything customer service needs")
            .roles("everyone; store roles: orders involving their store")
            .query("lang", json!({"type": "string", "enum": ["en", "fr", "de"]}), "Language of `explanation`; default the customer's.")
            .not_found()
            .ok(200, "The order, traces and explanation included.", schema("OrderView")),
        ("GET", "/v1/orders/{id}/timeline") => op("orderTimeline", "orders", "An order's events")
            .roles("everyone; store roles: orders involving their store")
            .not_found()
            .ok(200, "The events, oldest first.", schema("Timeline")),
        ("GET", "/v1/orders/{id}/receipt") => op("orderReceipt", "orders", "The order's receipt (printable A4 PDF)")
            .roles("everyone; store roles: orders involving their store")
            .about("Store, date, the order number as text and as a Code 128 barcode (scanned at returns), lines with quantities and prices, discounts, shipping, total, the delivery method with each part's expected date, and the payment. Store roles may only name their own store.")
            .query("lang", json!({"type": "string", "enum": ["en", "fr", "de"]}), "Language; default the customer's.")
            .query("store", string.clone(), "The store printed at the top; default the caller's store, else the pickup store, else the channel.")
            .not_found()
            .ok_content(200, "The receipt.", json!({
                "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}
            })),
        ("POST", "/v1/orders/{id}/receipt/email") => op("emailReceipt", "orders", "Send the receipt by e-mail")
            .roles("everyone; store roles: orders involving their store")
            .about("Queued to the customer through the notification outbox (topic `notification`, `kind: receipt`, the PDF attached base64-encoded), delivered by the retailer's e-mail service like every notification. 422 `invalid-body` when the order has no e-mail address and the body gives none in `to`, or `to` is not an e-mail address.")
            .json_body(schema("EmailReceipt"))
            .not_found()
            .ok(202, "The message, queued.", schema("NotificationView")),
        ("GET", "/v1/customers") => op("searchCustomers", "customers", "Find customers")
            .roles(EVERYONE)
            .required_query("q", json!({"type": "string", "minLength": 2, "maxLength": 200}), "The start of the name (or of a word of it), of the e-mail address, or phone digits.")
            .query("limit", limit(50, 20), "Most results.")
            .ok(200, "Matching customers, by name.", array_of("CustomerView")),
        ("POST", "/v1/customers") => op("createCustomer", "customers", "Register a customer")
            .roles(EVERYONE)
            .about("A name, and an e-mail address or a phone number (checked and normalised as an order's). An e-mail address is one customer: 409 `duplicate-customer` answers the registered customer in `existing`, nothing is written. Orders link to a customer by `customer.id`, or by the e-mail address of a registered customer; placing an order never registers one.")
            .json_body(schema("NewCustomer"))
            .err(409, &["duplicate-customer"])
            .ok(201, "The customer.", schema("CustomerView")),
        ("GET", "/v1/customers/{id}") => op("getCustomer", "customers", "A registered customer")
            .roles(EVERYONE)
            .not_found()
            .ok(200, "The customer.", schema("CustomerView")),
        ("GET", "/v1/orders/{id}/notifications") => op("orderNotifications", "orders", "Messages sent to the customer")
            .roles("admin, integration; store_manager: orders involving their store")
            .not_found()
            .ok(200, "The notifications, oldest first.", array_of("NotificationView")),
        ("POST", "/v1/orders/{id}/notifications/{notification}/resend") => op("resendNotification", "orders", "Send a notification again")
            .roles("admin, integration; store_manager: orders involving their store")
            .not_found()
            .ok(201, "The new message, queued.", schema("NotificationView")),
        ("POST", "/v1/orders/{id}/cancel") => op("cancelOrder", "orders", "Cancel an order, or some of its lines")
            .roles("admin, integration; store_manager: orders involving their store")
            .about("Releases reserved stock and voids payments. With `lines`, only those lines: open fulfilments drop them (a fulfilment left empty is cancelled) and the order goes on. 409 `conflict` when the order (or a line) can no longer be cancelled.")
            .json_body(schema("CancelOrder"))
            .not_found()
            .err(409, &["conflict"])
            .err(503, &["busy"])
            .ok(200, "The order, cancelled.", schema("OrderView")),
        ("POST", "/v1/orders/{id}/returns") => op("receiveReturn", "orders", "Receive returned items")
            .roles("everyone; store roles: returns at their own store")
            .about("Received at once: refund computed and sent, items restocked or quarantined.")
            .json_body(schema("ReceiveReturn"))
            .not_found()
            .err(409, &["conflict"])
            .err(503, &["busy"])
            .ok(201, "The return, received.", schema("ReturnView")),
        ("GET", "/v1/fulfilments/{id}") => op("getFulfilment", "fulfilments", "A fulfilment")
            .roles("admin, integration; store roles for their own store")
            .not_found()
            .ok(200, "The fulfilment.", schema("FulfilmentView")),
        ("POST", "/v1/fulfilments/{id}/steps") => op("fulfilmentStep", "fulfilments", "Move a fulfilment on")
            .roles("admin, integration; store roles for their own store")
            .about("An illegal transition is 409 `conflict` and changes nothing; a handover with another code than the customer's is 409 `pickup-code-mismatch`. `report_missing` corrects the stock and re-orchestrates the missing units.")
            .query("lang", json!({"type": "string", "enum": ["en", "fr", "de"]}), "Language of the explanation; default the customer's.")
            .json_body(schema("FulfilmentStep"))
            .not_found()
            .err(409, &["conflict", "pickup-code-mismatch"])
            .err(503, &["busy"])
            .ok(200, "The fulfilment after the step.", schema("StepResult")),
        ("GET", "/v1/fulfilments/{id}/label") => op("fulfilmentLabel", "fulfilments", "The shipping label (4×6 in PDF)")
            .roles("admin, integration; store roles for their own store")
            .about("409 `conflict` before the parcel is packed (`mark_ready`) or for a fulfilment handed over at its store.")
            .not_found()
            .err(409, &["conflict"])
            .ok_content(200, "The label.", json!({
                "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}
            })),
        ("GET", "/v1/locations/{id}/fulfilments") => op("fulfilmentQueue", "fulfilments", "A location's fulfilment queue")
            .roles("admin, integration; store roles for their own store")
            .query("status", string.clone(), "Comma-separated fulfilment statuses; default the open ones.")
            .query("limit", limit(500, 100), "Page size.")
            .query("cursor", string.clone(), "`next_cursor` of the previous page.")
            .not_found()
            .ok(200, "One page of fulfilments, most urgent first (by due time, then id).", page_of("FulfilmentView")),
        ("GET", "/v1/channels/{id}/rule-sets") => op("listRuleSets", "rule-sets", "A channel's rule set versions")
            .roles(ADMIN_INTEGRATION)
            .not_found()
            .ok(200, "Every version, newest first.", array_of("RuleSetVersion")),
        ("POST", "/v1/channels/{id}/rule-sets") => op("addRuleSet", "rule-sets", "Add a rule set version (inactive)")
            .roles(ADMIN)
            .about("The server numbers the version; activate it explicitly.")
            .json_body(schema("RuleSet"))
            .not_found()
            .ok(201, "The new version.", schema("RuleSetVersion")),
        ("POST", "/v1/channels/{id}/rule-sets/{version}/activate") => op("activateRuleSet", "rule-sets", "Make a rule set version the active one")
            .roles(ADMIN)
            .not_found()
            .ok(200, "The version, active.", schema("RuleSetVersion")),
        ("GET", "/v1/outbox") => op("listOutbox", "outbox", "Outbox messages by state")
            .roles(ADMIN)
            .query("state", json!({"type": "string", "enum": ["pending", "delivered", "dead"], "default": "pending"}), "Which messages.")
            .query("topic", json!({"type": "string", "enum": ["webhook", "notification"]}), "Only this topic.")
            .query("limit", limit(1000, 100), "Most messages.")
            .ok(200, "The messages.", array_of("OutboxMessage")),
        ("POST", "/v1/outbox/{id}/replay") => op("replayOutbox", "outbox", "Make a dead or delivered message pending again")
            .roles(ADMIN)
            .about("Due now, attempts reset. 409 `conflict` when it is still pending.")
            .not_found()
            .err(409, &["conflict"])
            .ok(200, "The message, pending.", schema("OutboxMessage")),
        ("POST", "/v1/locations/{id}/sales") => op("recordSale", "sync", "Record a carry-out sale")
            .roles("admin, integration; store roles for their own store")
            .about("Always accepted: the goods left the shelf. Stock goes down (also below zero); each line that was short opens a `stock_discrepancy` task. With `Idempotency-Key`, a replay answers the stored sale.")
            .header("Idempotency-Key", "Optional; 1 to 200 visible ASCII characters.")
            .json_body(schema("CarryOutSale"))
            .not_found()
            .err(422, &["idempotency-key-reused"])
            .ok(201, "The sale, priced, with its discrepancies.", schema("SaleView")),
        ("POST", "/v1/locations/{id}/returns") => op("returnWithoutReceipt", "staff", "Take a return without receipt, approved by a store manager")
            .roles("store roles (a paired device of the store)")
            .about("When the order cannot be found. The approving manager's PIN is checked by the core like a sign-in (403 `wrong-pin` saying the attempts left; 403 `forbidden` for an approver who is not a manager of this store; 429 `locked-out` after 5 wrong PINs). Refunded at the store channel's price (cash or store credit); resaleable units go back on hand at the store in the same transaction, damaged ones are quarantined. `Idempotency-Key` is required: a replay answers the recorded return.")
            .header("Idempotency-Key", "Required; 1 to 200 visible ASCII characters.")
            .json_body(schema("UnreceiptedReturn"))
            .not_found()
            .err(403, &["wrong-pin"])
            .err(409, &["conflict"])
            .err(422, &["idempotency-key-reused"])
            .err(429, &["locked-out"])
            .ok(201, "The return, with the refund and who approved it.", schema("UnreceiptedReturnView")),
        ("GET", "/v1/locations/{id}/tasks") => op("storeTasks", "sync", "A store's tasks")
            .roles("admin, integration; store roles for their own store")
            .query("limit", limit(500, 100), "Most tasks.")
            .ok(200, "Tasks, newest first.", array_of("StoreTask")),
        ("POST", "/v1/sync/push") => op("syncPush", "sync", "Apply a device's queued mutations exactly once")
            .roles("store roles (a paired device)")
            .about("Mutations carry consecutive ids from the device's gapless sequence. Ids already applied are answered from storage; a business refusal is a result (status ≥ 400 and a problem body), kept and answered the same on every retry. 409 `mutation-gap` when the first new id does not follow the last applied one: nothing is applied.")
            .json_body(schema("PushRequest"))
            .err(409, &["mutation-gap"])
            .err(503, &["busy"])
            .ok(200, "One result per mutation, in order.", schema("PushResponse")),
        ("GET", "/v1/locations/{id}/staff") => op("listStaff", "staff", "A store's staff (for the sign-in screen)")
            .roles("admin, integration; store roles for their own store")
            .ok(200, "Members, by name.", array_of("StaffMember")),
        ("POST", "/v1/locations/{id}/staff") => op("addStaff", "staff", "Add a member of staff with a PIN")
            .roles("admin; store manager for their own store")
            .about("The PIN (4 to 8 digits) is stored only as a salted Argon2id hash.")
            .json_body(schema("NewStaff"))
            .not_found()
            .ok(201, "The member.", schema("StaffMember")),
        ("POST", "/v1/staff/sign-in") => op("staffSignIn", "staff", "Sign in on a paired device with a PIN")
            .roles("store roles (a paired device of the member's store)")
            .about("403 `forbidden` for an unknown member; 403 `wrong-pin` for a wrong PIN, its detail starting \"wrong PIN: N attempt(s) left\"; the fifth wrong PIN in a row, and any attempt for the next 5 minutes, 429 `locked-out`, its detail \"too many wrong PINs: try again in N minute(s)…\".")
            .err(403, &["wrong-pin"])
            .json_body(schema("StaffSignIn"))
            .err(429, &["locked-out"])
            .ok(200, "The member signed in.", schema("StaffMember")),
        _ => return None,
    };
    Some(op)
}

/// Shared component schemas. Domain types that are large (the network,
/// ATP answers, traces, rule sets) are summaries: their key fields, with
/// `additionalProperties: true`.
fn schemas() -> Value {
    let string = json!({"type": "string"});
    let instant = json!({"type": "string", "format": "date-time"});
    let date = json!({"type": "string", "format": "date"});
    let quantity = json!({"type": "integer", "minimum": 1});
    let count = json!({"type": "integer", "minimum": 0});
    let mut schemas = Map::new();
    for (name, schema) in [
        (
            "Problem",
            json!({
                "type": "object",
                "description": "RFC 9457 problem: the body of every 4xx and 5xx answer.",
                "required": ["type", "title", "status"],
                "properties": {
                    "type": {"type": "string", "description": "Stable machine-readable code, e.g. `invalid-query`.",
                        "enum": ["invalid-query", "malformed-json", "invalid-body", "body-too-large",
                                 "unsupported-media-type", "not-found", "no-route", "unauthenticated",
                                 "forbidden", "conflict", "feed-rejected", "upload-interrupted",
                                 "idempotency-key-reused", "busy", "internal", "cannot-be-served",
                                 "mutation-gap", "locked-out", "wrong-pin", "pickup-code-mismatch"]},
                    "title": string,
                    "status": {"type": "integer"},
                    "detail": {"type": "string", "description": "For people; absent on 5xx."}
                }
            }),
        ),
        (
            "FeedRejection",
            json!({
                "description": "422 `feed-rejected`: a problem that also carries the report.",
                "allOf": [schema("Problem")],
                "required": ["report"],
                "properties": {"report": schema("FeedReport")}
            }),
        ),
        (
            "DuplicateCustomer",
            json!({
                "description": "409 `duplicate-customer`: the e-mail address is registered; pick `existing` instead. Nothing was written.",
                "allOf": [schema("Problem")],
                "required": ["existing"],
                "properties": {"existing": schema("CustomerView")}
            }),
        ),
        (
            "OrderRefusal",
            json!({
                "description": "409 `cannot-be-served`: nothing was reserved.",
                "allOf": [schema("Problem")],
                "required": ["unservable", "explanation"],
                "properties": {
                    "unservable": array_of("UnservableLine"),
                    "explanation": {"type": "array", "items": string}
                }
            }),
        ),
        (
            "Health",
            json!({
                "type": "object",
                "required": ["status", "version", "instance_id"],
                "properties": {
                    "status": {"const": "ok"},
                    "version": string,
                    "instance_id": {"type": "string", "format": "uuid", "description": "Unique per process start."}
                }
            }),
        ),
        (
            "Role",
            json!({"type": "string", "enum": ["admin", "integration", "store_manager", "store_associate"]}),
        ),
        (
            "Me",
            json!({
                "type": "object",
                "required": ["role", "label"],
                "properties": {"role": schema("Role"), "store": {"type": ["string", "null"]}, "label": string}
            }),
        ),
        (
            "DeviceRecord",
            json!({
                "type": "object",
                "required": ["device_id", "store", "label", "paired_at", "active"],
                "properties": {"device_id": string, "store": string, "label": string,
                    "paired_at": {"type": "string", "format": "date-time"}, "active": {"type": "boolean"}}
            }),
        ),
        (
            "NewPairingCode",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["store", "role"],
                "properties": {"store": string, "role": schema("Role")}
            }),
        ),
        (
            "PairingCode",
            json!({
                "type": "object",
                "required": ["code", "store", "role", "expires_at"],
                "properties": {"code": string, "store": string, "role": schema("Role"), "expires_at": instant}
            }),
        ),
        (
            "PairingRequest",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["code", "device_label"],
                "properties": {"code": string, "device_label": {"type": "string", "description": "e.g. \"Till 2\"."}}
            }),
        ),
        (
            "NewToken",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["role", "label"],
                "properties": {
                    "role": schema("Role"),
                    "store": {"type": ["string", "null"], "description": "Required for store roles."},
                    "label": string
                }
            }),
        ),
        (
            "IssuedToken",
            json!({
                "type": "object",
                "required": ["token", "role"],
                "properties": {"token": {"type": "string", "description": "Shown once."}, "role": schema("Role"), "store": {"type": ["string", "null"]}}
            }),
        ),
        (
            "Money",
            json!({
                "type": "object",
                "description": "Catalogue prices and payments: integer minor units.",
                "required": ["amount_minor", "currency"],
                "properties": {"amount_minor": {"type": "integer"}, "currency": schema("Currency")}
            }),
        ),
        (
            "Amount",
            json!({
                "type": "object",
                "description": "Order amounts (the domain's money): integer minor units.",
                "required": ["minor", "currency"],
                "properties": {"minor": {"type": "integer"}, "currency": schema("Currency")}
            }),
        ),
        (
            "Currency",
            json!({"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217."}),
        ),
        (
            "Product",
            json!({
                "type": "object",
                "required": ["sku", "name", "brand", "product_type", "barcodes", "price"],
                "properties": {
                    "sku": string, "name": string, "brand": string,
                    "product_type": {"type": "string", "enum": ["standard", "bulky", "fragile"]},
                    "barcodes": {"type": "array", "items": string},
                    "price": schema("Money")
                }
            }),
        ),
        (
            "ProductFacets",
            json!({
                "type": "object",
                "required": ["brands", "product_types"],
                "properties": {
                    "brands": {"type": "array", "items": string},
                    "product_types": {"type": "array", "items": string}
                }
            }),
        ),
        (
            "ProductWrite",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["name", "brand", "product_type", "price"],
                "properties": {
                    "name": string, "brand": string,
                    "product_type": {"type": "string", "enum": ["standard", "bulky", "fragile"]},
                    "barcodes": {"type": "array", "items": string, "default": []},
                    "price": schema("Money")
                }
            }),
        ),
        (
            "Page",
            json!({
                "type": "object",
                "description": "One page of a cursor-paginated list.",
                "required": ["items"],
                "properties": {
                    "items": {"type": "array"},
                    "next_cursor": {"type": "string", "description": "Pass as `cursor` for the next page; absent on the last page."}
                }
            }),
        ),
        (
            "Network",
            json!({
                "type": "object", "additionalProperties": true,
                "description": "Summary: locations, channels, periods and settings (safety stock, transit table, product rules), validated whole.",
                "required": ["locations", "channels"],
                "properties": {
                    "locations": array_of("Location"),
                    "channels": array_of("Channel"),
                    "periods": {"type": "array", "items": {"type": "object"}},
                    "safety_stock": {"type": "object"},
                    "transit": {"type": "object"},
                    "product_rules": {"type": "object"}
                }
            }),
        ),
        (
            "Location",
            json!({
                "type": "object", "additionalProperties": true,
                "description": "Summary of a stock point (opening hours, closed dates, capabilities… are also there).",
                "required": ["id", "name", "kind", "coordinates", "time_zone", "opening_hours",
                             "preparation_minutes", "cut_off", "capabilities", "carrier_zone"],
                "properties": {
                    "id": string, "name": string,
                    "kind": {"type": "string", "enum": ["warehouse", "store", "distribution_centre", "drop_shipper"]},
                    "coordinates": schema("Coordinates"),
                    "time_zone": string,
                    "opening_hours": {"type": "object"},
                    "closed_dates": {"type": "array", "items": date},
                    "preparation_minutes": count,
                    "cut_off": {"type": "string", "description": "Local time of day."},
                    "capabilities": {"type": "object", "additionalProperties": {"type": "boolean"}},
                    "priority": count,
                    "daily_order_cap": {"type": ["integer", "null"], "minimum": 0},
                    "carrier_zone": string
                }
            }),
        ),
        (
            "Coordinates",
            json!({
                "type": "object",
                "required": ["lat", "lon"],
                "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90}, "lon": {"type": "number", "minimum": -180, "maximum": 180}}
            }),
        ),
        (
            "Channel",
            json!({
                "type": "object",
                "required": ["id", "name", "kind", "currency", "country", "locations", "delivery_methods"],
                "properties": {
                    "id": string, "name": string,
                    "kind": {"type": "string", "enum": ["web_shop", "marketplace", "store_network"]},
                    "currency": schema("Currency"),
                    "country": string,
                    "locations": {"type": "array", "items": string},
                    "delivery_methods": array_of("DeliveryMethod")
                }
            }),
        ),
        (
            "DeliveryMethod",
            json!({"type": "string", "enum": ["home_delivery", "pickup_point", "click_and_collect", "express_click_and_collect"]}),
        ),
        (
            "Destination",
            json!({
                "type": "object",
                "description": "An address (home delivery, pickup point), a pickup store (click & collect), or both.",
                "properties": {
                    "address": {"oneOf": [schema("Address"), {"type": "null"}]},
                    "pickup_store": {"type": ["string", "null"]}
                }
            }),
        ),
        (
            "Address",
            json!({
                "type": "object",
                "required": ["coordinates", "postal_code", "country", "carrier_zone"],
                "properties": {"coordinates": schema("Coordinates"), "postal_code": string, "country": string, "carrier_zone": string}
            }),
        ),
        (
            "UnavailableReason",
            json!({"type": "string", "enum": [
            "method_not_offered", "product_type_not_allowed", "no_address", "no_pickup_store",
            "pickup_store_not_a_store", "pickup_store_cannot_receive", "pickup_store_no_express",
            "pickup_store_not_in_channel", "out_of_stock", "no_eligible_location", "capacity_reached",
            "not_open_soon", "no_carrier_route", "insufficient_stock"]}),
        ),
        (
            "ProductAtpRequest",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["channel", "sku"],
                "properties": {
                    "channel": string, "sku": string,
                    "quantity": {"type": "integer", "minimum": 1, "default": 1},
                    "destination": schema("Destination"),
                    "at": {"type": "string", "format": "date-time", "description": "Default now."}
                }
            }),
        ),
        (
            "ProductAtp",
            json!({
                "type": "object", "additionalProperties": true,
                "description": "Summary: one answer per delivery method (possible, reason, quantity, locations best first, shipments, expected date).",
                "required": ["sku", "channel", "at", "unified_stock", "methods"],
                "properties": {
                    "sku": string, "channel": string, "at": instant, "unified_stock": count,
                    "methods": {"type": "array", "items": {
                        "type": "object", "additionalProperties": true,
                        "required": ["method", "possible", "requested", "quantity", "locations", "shipments", "single_shipment"],
                        "properties": {
                            "method": schema("DeliveryMethod"),
                            "possible": {"type": "boolean"},
                            "reason": schema("UnavailableReason"),
                            "requested": count, "quantity": count,
                            "locations": {"type": "array", "items": {"type": "object"}},
                            "shipments": {"type": "array", "items": {"type": "object"}},
                            "single_shipment": {"type": "boolean"},
                            "expected_date": {"type": ["string", "null"], "format": "date"},
                            "ready_at": instant
                        }
                    }}
                }
            }),
        ),
        (
            "CartLine",
            json!({
                "type": "object",
                "required": ["sku", "quantity"],
                "properties": {"sku": string, "quantity": quantity}
            }),
        ),
        (
            "CartAtpRequest",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["channel", "lines"],
                "properties": {
                    "channel": string,
                    "lines": {"type": "array", "items": schema("CartLine"), "minItems": 1, "maxItems": 100},
                    "destination": schema("Destination"),
                    "at": {"type": "string", "format": "date-time", "description": "Default now."}
                }
            }),
        ),
        (
            "CartAtp",
            json!({
                "type": "object", "additionalProperties": true,
                "description": "Summary: the cart's lines with unified stock, and one answer per delivery method (per-line availability, shipments, expected date).",
                "required": ["channel", "at", "lines", "methods"],
                "properties": {
                    "channel": string, "at": instant,
                    "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": string, "requested": count, "unified_stock": count}}},
                    "methods": {"type": "array", "items": {
                        "type": "object", "additionalProperties": true,
                        "properties": {"method": schema("DeliveryMethod"), "possible": {"type": "boolean"}, "reason": schema("UnavailableReason")}
                    }}
                }
            }),
        ),
        (
            "StockLevel",
            json!({
                "type": "object",
                "required": ["sku", "location", "on_hand", "reserved", "available", "safety"],
                "properties": {
                    "sku": string, "location": string,
                    "on_hand": {"type": "integer", "description": "May be negative."},
                    "reserved": {"type": "integer"},
                    "available": {"type": "integer", "minimum": 0, "description": "max(0, on_hand − reserved − safety)."},
                    "safety": count
                }
            }),
        ),
        (
            "SkuStock",
            json!({
                "type": "object",
                "required": ["sku", "levels", "channels"],
                "properties": {
                    "sku": string,
                    "levels": array_of("StockLevel"),
                    "channels": {"type": "array", "items": {"type": "object", "required": ["channel", "unified_stock"],
                        "properties": {"channel": string, "unified_stock": count}}}
                }
            }),
        ),
        (
            "ChangePage",
            json!({
                "type": "object",
                "required": ["changes", "cursor", "has_more"],
                "properties": {
                    "changes": array_of("Change"),
                    "cursor": {"type": "string", "description": "Pass as `cursor` next time (the same one when nothing changed)."},
                    "has_more": {"type": "boolean"}
                }
            }),
        ),
        (
            "Change",
            json!({
                "type": "object",
                "description": "One entity in its current state, at its latest sequence number.",
                "required": ["seq", "entity", "data"],
                "properties": {
                    "seq": {"type": "integer"},
                    "entity": {"type": "string", "enum": ["product", "location", "channel", "stock", "order", "fulfilment"]},
                    "data": {"description": "product: Product; location: Location; channel: Channel; stock: {sku, location, on_hand, reserved}; order: OrderSummary; fulfilment: FulfilmentView.",
                        "oneOf": [schema("Product"), schema("Location"), schema("Channel"),
                            {"type": "object", "required": ["sku", "location", "on_hand", "reserved"],
                             "properties": {"sku": string, "location": string, "on_hand": {"type": "integer"}, "reserved": {"type": "integer"}}},
                            schema("OrderSummary"), schema("FulfilmentView")]}
                }
            }),
        ),
        (
            "FeedReport",
            json!({
                "type": "object",
                "required": ["job", "mode", "format", "rows_read", "rows_applied", "rows_changed", "refused", "refused_total", "status"],
                "properties": {
                    "job": {"type": "string", "format": "uuid"},
                    "mode": {"type": "string", "enum": ["snapshot", "delta"]},
                    "format": {"type": "string", "enum": ["csv", "jsonl"]},
                    "rows_read": count, "rows_applied": count, "rows_changed": count,
                    "refused": {"type": "array", "maxItems": 1000, "items": {
                        "type": "object", "required": ["line", "code", "message"],
                        "properties": {
                            "line": {"type": "integer", "minimum": 1},
                            "code": {"type": "string", "enum": ["unknown-field", "missing-field", "bad-number", "negative-quantity",
                                                              "unknown-sku", "unknown-location", "duplicate", "malformed"]},
                            "message": string
                        }}},
                    "refused_total": count,
                    "status": {"type": "string", "enum": ["applied", "rejected"]}
                }
            }),
        ),
        (
            "Job",
            json!({
                "type": "object",
                "required": ["id", "kind", "status", "rows_done", "bytes_done"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "kind": {"const": "stock_feed"},
                    "status": {"type": "string", "enum": ["running", "applied", "rejected", "failed"]},
                    "rows_done": count, "bytes_done": count, "bytes_total": count,
                    "report": schema("FeedReport"),
                    "detail": {"type": "string", "description": "Why a job failed."},
                    "finished_at": instant
                }
            }),
        ),
        (
            "UnifiedStockExport",
            json!({
                "type": "object",
                "required": ["channel", "at", "items"],
                "properties": {
                    "channel": string, "at": instant,
                    "items": {"type": "array", "items": {"type": "object", "required": ["sku", "unified_stock"],
                        "properties": {"sku": string, "unified_stock": count}}}
                }
            }),
        ),
        (
            "Customer",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "id": {"type": "string", "description": "A registered customer (GET /v1/customers). Without it the order links to the registered customer with the same e-mail address, if any."},
                    "name": string, "email": string, "phone": string,
                    "language": {"type": "string", "enum": ["en", "fr", "de"], "default": "en"}
                }
            }),
        ),
        (
            "PlaceOrder",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["channel", "delivery", "customer", "lines", "payment"],
                "properties": {
                    "channel": string,
                    "delivery": schema("DeliveryMethod"),
                    "destination": schema("Destination"),
                    "customer": schema("Customer"),
                    "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                        "type": "object", "additionalProperties": false, "required": ["sku", "quantity"],
                        "properties": {"sku": string, "quantity": quantity}}},
                    "discounts": array_of("Discount"),
                    "payment": {"type": "string", "enum": ["gateway", "in_store"]},
                    "accept_partial": {"type": "boolean", "default": false,
                        "description": "Accept the order when only some units can be served."},
                    "placed_at": {"type": "string", "format": "date-time", "description": "Default now; never in the future."}
                }
            }),
        ),
        (
            "Discount",
            json!({
                "type": "object",
                "required": ["code", "amount"],
                "properties": {"code": string, "amount": schema("Amount")}
            }),
        ),
        (
            "OrderStatus",
            json!({"type": "string", "enum": ["placed", "partially_allocated", "allocated", "completed", "cancelled"]}),
        ),
        (
            "FulfilmentStatus",
            json!({"type": "string", "enum": ["awaiting_preparation", "in_preparation", "ready_for_pickup",
            "ready_to_ship", "in_transit_to_store", "picked_up", "shipped", "cancelled", "rejected"]}),
        ),
        (
            "OrderSummary",
            json!({
                "type": "object",
                "required": ["id", "status", "channel", "customer_name", "placed_at"],
                "properties": {"id": string, "status": schema("OrderStatus"), "channel": string, "customer_name": string, "placed_at": instant}
            }),
        ),
        (
            "OrderView",
            json!({
                "type": "object",
                "required": ["id", "status", "channel", "delivery", "destination", "customer", "payment", "currency",
                             "lines", "shipping_fee", "total", "placed_at", "fulfilments", "payments"],
                "properties": {
                    "id": string,
                    "status": schema("OrderStatus"),
                    "channel": string,
                    "delivery": schema("DeliveryMethod"),
                    "destination": schema("Destination"),
                    "customer": schema("Customer"),
                    "payment": {"type": "string", "enum": ["gateway", "in_store"]},
                    "currency": schema("Currency"),
                    "lines": {"type": "array", "items": {"type": "object", "required": ["id", "sku", "quantity", "unit_price"],
                        "properties": {"id": {"type": "integer", "minimum": 1}, "sku": string, "quantity": quantity, "unit_price": schema("Amount")}}},
                    "discounts": array_of("Discount"),
                    "shipping_fee": schema("Amount"),
                    "total": schema("Amount"),
                    "placed_at": instant,
                    "fulfilments": array_of("FulfilmentView"),
                    "unservable": array_of("UnservableLine"),
                    "traces": {"type": "array", "items": {"type": "object", "additionalProperties": true,
                        "description": "A decision trace: candidates, decisions, unservable lines."}},
                    "explanation": {"type": "array", "items": string},
                    "payments": {"type": "array", "items": {"type": "object", "required": ["kind", "amount", "status"],
                        "properties": {
                            "kind": {"type": "string", "enum": ["authorise", "capture", "void", "refund"]},
                            "amount": schema("Amount"),
                            "reference": string,
                            "status": {"type": "string", "enum": ["pending", "succeeded", "declined", "failed"]},
                            "provider_reference": string,
                            "link": {"type": "string", "format": "uri", "description": "Where the customer pays: a pay-by-link gateway's page (answered with the authorisation), sent to the customer as a `payment_link` notification."},
                            "last_error": {"type": "string", "description": "While pending: why (e.g. no payment gateway configured)."}
                        }}},
                    "returns": array_of("ReturnView")
                }
            }),
        ),
        (
            "UnservableLine",
            json!({
                "type": "object", "additionalProperties": true,
                "required": ["line", "sku", "requested", "planned", "missing", "reason"],
                "properties": {
                    "line": {"type": "integer"}, "sku": string,
                    "requested": count, "planned": count, "missing": count,
                    "reason": string,
                    "dropped": {"type": "array", "items": {"type": "object"}}
                }
            }),
        ),
        (
            "FulfilmentView",
            json!({
                "type": "object",
                "required": ["id", "order", "location", "delivery", "handover", "status", "lines", "expected_date", "due_at"],
                "properties": {
                    "id": string, "order": string, "location": string,
                    "delivery": schema("DeliveryMethod"),
                    "handover": {"type": "boolean", "description": "Handed over at this location rather than shipped."},
                    "ship_to": {"type": "string", "description": "Click & collect served by another location: the pickup store the parcel is shipped to, received at and handed over at."},
                    "status": schema("FulfilmentStatus"),
                    "lines": {"type": "array", "items": {"type": "object", "required": ["line", "sku", "quantity", "first_unit"],
                        "properties": {"line": {"type": "integer"}, "sku": string, "quantity": quantity, "first_unit": count}}},
                    "expected_date": string,
                    "ready_at": string,
                    "due_at": string,
                    "tracking": string
                }
            }),
        ),
        (
            "Timeline",
            json!({
                "type": "object",
                "required": ["order", "events"],
                "properties": {
                    "order": string,
                    "events": {"type": "array", "items": {
                        "type": "object", "additionalProperties": true,
                        "required": ["seq", "kind", "order", "actor", "at"],
                        "properties": {
                            "seq": {"type": "integer"},
                            "kind": {"type": "string", "description": "e.g. order_placed, shipped, return_received."},
                            "order": string, "fulfilment": string,
                            "change": {"type": "object", "description": "{entity: order|fulfilment, from, to}."},
                            "actor": {"type": "object", "required": ["type"], "properties": {
                                "type": {"type": "string", "enum": ["system", "customer", "staff", "integration"]}, "id": string}},
                            "at": instant
                        }
                    }}
                }
            }),
        ),
        (
            "NotificationView",
            json!({
                "type": "object",
                "required": ["id", "kind", "language", "subject", "body", "delivery"],
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string", "enum": ["status", "receipt", "payment_link"], "default": "status"},
                    "status": {"type": "string", "description": "The status announced (`kind: status`).", "enum": ["waiting", "in_preparation", "ready_to_pick_up", "ready_to_ship",
                                                         "picked_up", "shipped", "cancelled", "refunded"]},
                    "language": {"type": "string", "enum": ["en", "fr", "de"]},
                    "subject": string, "body": string, "to_email": string, "to_phone": string,
                    "delivery": {"type": "string", "enum": ["pending", "delivered", "dead"]}
                }
            }),
        ),
        (
            "CustomerView",
            json!({
                "type": "object",
                "required": ["id", "name", "language", "created_at"],
                "properties": {
                    "id": string, "name": string,
                    "email": {"type": "string", "description": "Lower-case; unique in the register."},
                    "phone": {"type": "string", "description": "Digits, with a leading + when given."},
                    "language": {"type": "string", "enum": ["en", "fr", "de"]},
                    "created_at": instant
                }
            }),
        ),
        (
            "NewCustomer",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "email": string, "phone": string,
                    "language": {"type": "string", "enum": ["en", "fr", "de"], "default": "en"}
                }
            }),
        ),
        (
            "EmailReceipt",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "to": {"type": "string", "description": "Another address than the order's."},
                    "lang": {"type": "string", "enum": ["en", "fr", "de"]},
                    "store": string
                }
            }),
        ),
        (
            "CancelOrder",
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "reason": string,
                    "lines": {"type": "array", "items": {"type": "integer", "minimum": 1},
                        "description": "Only these lines; absent or empty: the whole order."}
                }
            }),
        ),
        (
            "FulfilmentStep",
            json!({
                "description": "A step, tagged by `type`.",
                "oneOf": [
                    {"type": "object", "additionalProperties": false, "required": ["type"],
                     "properties": {"type": {"const": "start_preparation"}}},
                    {"type": "object", "additionalProperties": false, "required": ["type", "lines"],
                     "description": "The picker found fewer units than planned: stock is corrected, missing units re-orchestrated.",
                     "properties": {"type": {"const": "report_missing"}, "lines": {"type": "array", "items": {
                         "type": "object", "required": ["line", "found"],
                         "properties": {"line": {"type": "integer"}, "found": count}}}}},
                    {"type": "object", "additionalProperties": false, "required": ["type"],
                     "description": "Packed (a label can be printed) or put aside for pickup (a pickup code is sent).",
                     "properties": {"type": {"const": "mark_ready"}}},
                    {"type": "object", "additionalProperties": false, "required": ["type"],
                     "properties": {"type": {"const": "ship"}, "tracking": string}},
                    {"type": "object", "additionalProperties": false, "required": ["type", "pickup_code"],
                     "properties": {"type": {"const": "hand_over"}, "pickup_code": string}},
                    {"type": "object", "additionalProperties": false, "required": ["type"],
                     "description": "The pickup store received a parcel shipped to it (ship-to-store): a pickup code is sent.",
                     "properties": {"type": {"const": "receive_at_store"}}},
                    {"type": "object", "additionalProperties": false, "required": ["type"],
                     "properties": {"type": {"const": "cancel"}}}
                ]
            }),
        ),
        (
            "CarryOutSale",
            json!({
                "type": "object", "additionalProperties": false, "required": ["lines"],
                "properties": {
                    "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                        "type": "object", "required": ["sku", "quantity"],
                        "properties": {"sku": string, "quantity": quantity}}},
                    "sold_at": instant
                }
            }),
        ),
        (
            "SaleView",
            json!({
                "type": "object",
                "required": ["id", "location", "lines", "total", "sold_at"],
                "properties": {
                    "id": string, "location": string, "sold_at": instant,
                    "lines": {"type": "array", "items": {"type": "object",
                        "properties": {"sku": string, "quantity": quantity, "unit_price": schema("Amount")}}},
                    "total": schema("Amount"),
                    "discrepancies": {"type": "array", "items": {"type": "object",
                        "properties": {"sku": string, "short_by": count}}}
                }
            }),
        ),
        (
            "StoreTask",
            json!({
                "type": "object",
                "required": ["id", "location", "kind", "message", "created_at"],
                "properties": {
                    "id": string, "location": string,
                    "kind": {"type": "string", "enum": ["stock_discrepancy", "offline_order_refused", "offline_order_changed"]},
                    "sku": string, "order": string, "message": string, "created_at": instant
                }
            }),
        ),
        (
            "NewStaff",
            json!({
                "type": "object", "additionalProperties": false, "required": ["name", "role", "pin"],
                "properties": {
                    "name": string,
                    "role": {"type": "string", "enum": ["store_manager", "store_associate"]},
                    "pin": {"type": "string", "pattern": "^[0-9]{4,8}$"}
                }
            }),
        ),
        (
            "StaffMember",
            json!({
                "type": "object", "required": ["id", "store", "name", "role"],
                "properties": {
                    "id": string, "store": string, "name": string,
                    "role": {"type": "string", "enum": ["store_manager", "store_associate"]}
                }
            }),
        ),
        (
            "StaffSignIn",
            json!({
                "type": "object", "additionalProperties": false, "required": ["staff_id", "pin"],
                "properties": {"staff_id": string, "pin": string}
            }),
        ),
        (
            "UnreceiptedReturn",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["lines", "refund_method", "approval"],
                "properties": {
                    "lines": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                        "type": "object", "additionalProperties": false,
                        "required": ["sku", "quantity", "reason", "condition"],
                        "properties": {
                            "sku": string, "quantity": {"type": "integer", "minimum": 1, "maximum": 999},
                            "reason": {"type": "string", "enum": ["changed_mind", "does_not_fit", "defective", "damaged_in_transit", "not_as_described", "wrong_item", "arrived_late", "other"]},
                            "condition": {"type": "string", "enum": ["resaleable", "damaged"]}
                        }}},
                    "refund_method": {"type": "string", "enum": ["cash", "store_credit"]},
                    "approval": {"type": "object", "additionalProperties": false, "required": ["staff_id", "pin"],
                        "properties": {"staff_id": string, "pin": {"type": "string", "pattern": "^[0-9]{4,8}$"}}},
                    "taken_by": string
                }
            }),
        ),
        (
            "UnreceiptedReturnView",
            json!({
                "type": "object",
                "required": ["id", "location", "lines", "total_refund", "refund_method", "approved_by", "received_at"],
                "properties": {
                    "id": string, "location": string, "received_at": instant,
                    "lines": {"type": "array", "items": {"type": "object",
                        "properties": {"sku": string, "quantity": quantity, "reason": string, "condition": string,
                            "unit_price": schema("Amount"), "refund": schema("Amount"), "restocked": {"type": "boolean"}}}},
                    "total_refund": schema("Amount"),
                    "refund_method": {"type": "string", "enum": ["cash", "store_credit"]},
                    "approved_by": schema("StaffMember"),
                    "taken_by": string
                }
            }),
        ),
        (
            "PushRequest",
            json!({
                "type": "object", "additionalProperties": false, "required": ["device_id", "mutations"],
                "properties": {
                    "device_id": string,
                    "mutations": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
                        "type": "object", "additionalProperties": false, "required": ["id", "intent"],
                        "properties": {
                            "id": quantity,
                            "intent": {"type": "object", "required": ["kind", "args"],
                                "properties": {
                                    "kind": {"type": "string", "enum": ["place_order", "carry_out_sale", "fulfilment_step", "receive_return", "cancel_order"]},
                                    "args": {"type": "object", "description": "PlaceOrder; CarryOutSale; {fulfilment, step: FulfilmentStep}; {order, receive: ReceiveReturn}; {order, cancel: CancelOrder}."}
                                }}
                        }}}
                }
            }),
        ),
        (
            "PushResponse",
            json!({
                "type": "object", "required": ["device_id", "last_applied", "results"],
                "properties": {
                    "device_id": string,
                    "last_applied": count,
                    "results": {"type": "array", "items": {"type": "object", "required": ["id", "status", "body"],
                        "properties": {"id": quantity, "status": {"type": "integer"},
                            "body": {"description": "The endpoint's answer: a view, or a problem for a refusal."}}}}
                }
            }),
        ),
        (
            "StepResult",
            json!({
                "type": "object",
                "required": ["fulfilment", "order_status"],
                "properties": {
                    "fulfilment": schema("FulfilmentView"),
                    "order_status": schema("OrderStatus"),
                    "rerouted": array_of("FulfilmentView"),
                    "unservable": array_of("UnservableLine"),
                    "explanation": {"type": "array", "items": string}
                }
            }),
        ),
        (
            "ReceiveReturn",
            json!({
                "type": "object", "additionalProperties": false,
                "required": ["location", "lines"],
                "properties": {
                    "location": {"type": "string", "description": "A location that accepts returns."},
                    "lines": {"type": "array", "items": {
                        "type": "object", "required": ["line", "quantity", "reason", "condition"],
                        "properties": {
                            "line": {"type": "integer"},
                            "quantity": quantity,
                            "reason": schema("ReturnReason"),
                            "condition": {"type": "string", "enum": ["resaleable", "damaged"]}
                        }}}
                }
            }),
        ),
        (
            "ReturnReason",
            json!({"type": "string", "enum": ["changed_mind", "does_not_fit", "defective", "damaged_in_transit",
                                                   "not_as_described", "wrong_item", "arrived_late", "other"]}),
        ),
        (
            "ReturnView",
            json!({
                "type": "object",
                "required": ["id", "order", "location", "lines", "shipping_refund", "total_refund", "stock_movements", "received_at"],
                "properties": {
                    "id": string, "order": string, "location": string,
                    "lines": {"type": "array", "items": {"type": "object", "additionalProperties": true,
                        "required": ["line", "sku", "quantity", "reason", "condition", "refund", "restock"],
                        "properties": {
                            "line": {"type": "integer"}, "sku": string, "quantity": quantity,
                            "reason": schema("ReturnReason"),
                            "condition": {"type": "string", "enum": ["resaleable", "damaged"]},
                            "units": {"type": "array", "items": {"type": "object"}},
                            "refund": schema("Amount"),
                            "restock": {"type": "string", "enum": ["sellable", "quarantine"]}
                        }}},
                    "shipping_refund": schema("Amount"),
                    "total_refund": schema("Amount"),
                    "stock_movements": {"type": "array", "items": {"type": "object", "required": ["location", "sku", "quantity", "to"],
                        "properties": {"location": string, "sku": string, "quantity": quantity,
                                       "to": {"type": "string", "enum": ["sellable", "quarantine"]}}}},
                    "received_at": instant
                }
            }),
        ),
        (
            "RuleSet",
            json!({
                "type": "object", "additionalProperties": true,
                "description": "Summary of a channel's orchestration rules (filters and ordering criteria are tagged objects; see DESIGN.md). The server sets `version` when adding one.",
                "required": ["channel", "version", "filters", "ordering", "split_policy"],
                "properties": {
                    "channel": string,
                    "version": {"type": "integer", "minimum": 0},
                    "filters": {"type": "array", "items": {"type": "object", "additionalProperties": true, "required": ["type"], "properties": {"type": string}}},
                    "ordering": {"type": "array", "items": {"type": "object"}},
                    "split_policy": {}
                }
            }),
        ),
        (
            "RuleSetVersion",
            json!({
                "type": "object",
                "required": ["rule_set", "active", "created_at", "created_by"],
                "properties": {"rule_set": schema("RuleSet"), "active": {"type": "boolean"}, "created_at": string, "created_by": string}
            }),
        ),
        (
            "OutboxMessage",
            json!({
                "type": "object",
                "required": ["id", "topic", "state", "attempts", "created_at_ms", "payload"],
                "properties": {
                    "id": {"type": "integer"},
                    "topic": {"type": "string", "enum": ["webhook", "notification"]},
                    "order": {"type": ["string", "null"]},
                    "state": {"type": "string", "enum": ["pending", "delivered", "dead"]},
                    "attempts": count,
                    "last_error": {"type": ["string", "null"]},
                    "created_at_ms": {"type": "integer", "description": "Unix ms."},
                    "next_attempt_at_ms": {"type": ["integer", "null"]},
                    "delivered_at_ms": {"type": ["integer", "null"]},
                    "dead_at_ms": {"type": ["integer", "null"]},
                    "payload": {"description": "The body delivered (JSON)."}
                }
            }),
        ),
    ] {
        schemas.insert(name.to_owned(), schema);
    }
    Value::Object(schemas)
}

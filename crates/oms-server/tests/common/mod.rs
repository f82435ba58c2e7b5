//! Test support: a fresh database on either backend, and a real server on
//! 127.0.0.1 over it.
//!
//! PostgreSQL tests need `AISLE_TEST_POSTGRES_URL` (a role allowed to create
//! databases); `cargo xtask test` starts a server and sets it. Each test gets
//! its own throwaway database, dropped at the end.

#![allow(dead_code, clippy::unwrap_used)]

use oms_api::OmsClient;
use oms_domain::demo::DemoSize;
use oms_server::{AppState, Config, DatabaseLocation, DemoSpec, OutboxConfig};

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database; dropped (PostgreSQL) or deleted (SQLite) on drop.
pub struct TestDb {
    pub location: DatabaseLocation,
    _dir: Option<tempfile::TempDir>,
    drop_pg: Option<(String, String)>,
}

fn postgres_admin_url() -> String {
    std::env::var("AISLE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "AISLE_TEST_POSTGRES_URL is not set: run the tests with `cargo xtask test`, \
             or point it at a PostgreSQL role that may CREATE DATABASE"
        )
    })
}

impl TestDb {
    pub async fn new(db: Db) -> TestDb {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                TestDb {
                    location: DatabaseLocation::SqliteFile(dir.path().join("oms.sqlite")),
                    _dir: Some(dir),
                    drop_pg: None,
                }
            }
            Db::Postgres => {
                use sqlx::Connection;
                let admin = postgres_admin_url();
                let name = format!("aisle_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("AISLE_TEST_POSTGRES_URL must end with /<database>"),
                };
                TestDb {
                    location: DatabaseLocation::Url(url),
                    _dir: None,
                    drop_pg: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.drop_pg.take() {
            // Best effort, on a thread of its own: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async {
                        use sqlx::Connection;
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&mut conn)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// A real server on 127.0.0.1 over a fresh database seeded with the small
/// demo retailer.
pub struct TestServer {
    /// Typed client, authenticated as admin.
    pub client: OmsClient,
    /// Raw HTTP client sending the admin token on every request.
    pub http: reqwest::Client,
    pub admin_token: String,
    pub base: String,
    pub state: AppState,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub const SEED: u64 = 11;

pub async fn start(db: Db) -> TestServer {
    start_with(
        db,
        Some(DemoSpec {
            size: DemoSize::Small,
            seed: SEED,
        }),
    )
    .await
}

/// A real server over a fresh, empty database.
pub async fn start_empty(db: Db) -> TestServer {
    start_with(db, None).await
}

async fn start_with(db: Db, demo: Option<DemoSpec>) -> TestServer {
    serve_on(TestDb::new(db).await, demo, OutboxConfig::default()).await
}

/// A real server over a fresh database seeded with the small demo retailer,
/// delivering its outbox as `outbox` says.
pub async fn start_with_config(db: Db, outbox: OutboxConfig) -> TestServer {
    serve_on(TestDb::new(db).await, Some(demo_spec()), outbox).await
}

/// A real server over an existing database (see [`TestServer::stop`]).
pub async fn restart_on(db: TestDb, outbox: OutboxConfig) -> TestServer {
    serve_on(db, Some(demo_spec()), outbox).await
}

fn demo_spec() -> DemoSpec {
    DemoSpec {
        size: DemoSize::Small,
        seed: SEED,
    }
}

async fn serve_on(db: TestDb, demo: Option<DemoSpec>, outbox: OutboxConfig) -> TestServer {
    let admin_token = oms_server::auth::new_token();
    let config = Config {
        database: db.location.clone(),
        demo,
        demo_template: None,
        bootstrap_admin_token: Some(admin_token.clone()),
        outbox,
        footprint: Default::default(),
    };
    let state = oms_server::open(&config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let served = tokio::spawn(oms_server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    TestServer {
        client: OmsClient::new(&base)
            .unwrap()
            .with_token(admin_token.clone()),
        http: authorized_client(&admin_token),
        admin_token,
        base,
        state,
        db,
        stop: Some(stop),
        served: Some(served),
    }
}

/// A reqwest client that sends `token` as a bearer token.
pub fn authorized_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A store device paired the way devices pair in the field: the admin asks
/// for a pairing code (`POST /v1/pairing-codes`), the device exchanges it
/// (`POST /v1/pairing`) for its token and id.
pub struct PairedDevice {
    /// Sends the device's token.
    pub http: reqwest::Client,
    pub token: String,
    pub id: String,
    pub store: String,
}

/// Pairs a device of `store` with `role` (`store_associate` or
/// `store_manager`) and checks it is known as itself (`GET /v1/me`).
pub async fn pair_device(
    server: &TestServer,
    store: &str,
    role: &str,
    label: &str,
) -> PairedDevice {
    let code: serde_json::Value = server
        .http
        .post(format!("{}/v1/pairing-codes", server.base))
        .json(&serde_json::json!({"store": store, "role": role}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issued: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/pairing", server.base))
        .json(&serde_json::json!({"code": code["code"], "device_label": label}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    let id = issued["device_id"].as_str().unwrap().to_owned();
    let http = authorized_client(&token);
    let me: serde_json::Value = http
        .get(format!("{}/v1/me", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["device_id"], id.as_str(), "{me}");
    PairedDevice {
        http,
        token,
        id,
        store: store.to_owned(),
    }
}

impl TestServer {
    /// Stops the server (its workers included) and gives its database back,
    /// to be reopened by [`restart_on`].
    pub async fn stop(mut self) -> TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(15), served).await;
        }
        self.state.storage.close().await;
        std::mem::replace(
            &mut self.db,
            TestDb {
                location: DatabaseLocation::SqliteFile("".into()),
                _dir: None,
                drop_pg: None,
            },
        )
    }

    /// `GET` with the admin token; returns status, content type and JSON.
    pub async fn get_json(&self, path: &str) -> (u16, String, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, content_type, response.json().await.unwrap())
    }
}

/// Runs one scenario on both backends: `both!(name, scenario_fn)` defines
/// `name::sqlite` and `name::postgres` tests calling `scenario_fn(Db)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident => $scenario:path),* $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $scenario(common::Db::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $scenario(common::Db::Postgres).await;
                }
            }
        )*
    };
}

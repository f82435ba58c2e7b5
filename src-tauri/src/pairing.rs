//! Which OMS core this device works with, as chosen on the pairing screen
//! and kept in `config.json` (app data directory), and the central-server
//! side of pairing.
//!
//! - No `config.json`: first start (or a forgotten device), the app
//!   shows the pairing screen.
//! - `{"mode": "embedded"}` (or no `server_url`): the bundled sidecar with
//!   the demo retailer (DESIGN.md "Embedded default").
//! - `{"server_url": …, "store": …}`: a central OMS server. The device token
//!   is in the OS keyring only (account: the server URL), never in this
//!   file; without a keyring, central mode refuses to pair (a token kept in
//!   memory would be lost at the next start, and the device with it).
//!
//! `AISLE_SERVER_URL` overrides the file's URL (tests, support).

use crate::device::{self, Device};
use crate::dto;
use crate::error::{AppError, ErrorCode};
use crate::remote::{Placement, Remote};
use aisle_sync::{Cache, SyncError, TokenStore, secrets};
use oms_api::OmsClient;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file the choice is kept in, in the app data directory.
pub const CONFIG_FILE: &str = "config.json";
/// The device's cache (aisle-sync) in the app data directory.
pub const CACHE_FILE: &str = "cache.sqlite";
/// Longest server URL, pairing code and device label accepted.
const MAX_URL: usize = 300;
const MAX_CODE: usize = 64;
const MAX_LABEL: usize = 100;

/// Shown on the pairing screen when the server no longer accepts the token.
pub const REVOKED: &str = "This device's pairing is no longer valid (it was revoked on the server, \
     or the server's data was reset). Ask a manager for a new pairing code and pair again.";

/// `config.json`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ConfigMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConfigMode {
    Embedded,
    Central,
}

/// What the app does at start.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Nothing chosen yet: the pairing screen.
    FirstStart,
    Embedded(Placement),
    /// A central server: its URL (validated) and the placement.
    Central(String, Placement),
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> AppError {
    AppError::new(
        ErrorCode::Internal,
        format!("cannot {what} {}: {error}", path.display()),
    )
}

/// Reads `config.json`; `None` when there is none.
pub fn read_config(data_dir: &Path) -> Result<Option<FileConfig>, AppError> {
    let path = data_dir.join(CONFIG_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("{} is not valid: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", &path, e)),
    }
}

/// Writes `config.json` whole (a temporary file renamed over it), so a
/// crash leaves the old file or the new one.
pub fn write_config(data_dir: &Path, config: &FileConfig) -> Result<(), AppError> {
    let path = data_dir.join(CONFIG_FILE);
    let temporary = data_dir.join(format!("{CONFIG_FILE}.tmp"));
    let text = serde_json::to_string_pretty(config)
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    std::fs::write(&temporary, text).map_err(|e| io_error("write", &temporary, e))?;
    std::fs::rename(&temporary, &path).map_err(|e| io_error("write", &path, e))
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// What to do at start, from `config.json`, `AISLE_SERVER_URL` and
/// `AISLE_STORE`. Without `config.json` the pairing screen asks, even when
/// the demo server's database is there (a forgotten device, or a data
/// directory from before the pairing screen: choosing the demo server again
/// finds its data).
pub fn decide(data_dir: &Path, env_url: Option<&str>) -> Result<Decision, AppError> {
    let config = read_config(data_dir)?;
    let env_url = non_blank(env_url);
    let Some(config) = config else {
        return Ok(match env_url {
            Some(url) => Decision::Central(server_url(&url)?, Placement::default()),
            None => Decision::FirstStart,
        });
    };
    let mut placement = Placement {
        store: non_blank(config.store.as_deref()),
        channel: non_blank(config.channel.as_deref()),
    };
    if let Ok(store) = std::env::var("AISLE_STORE")
        && let Some(store) = non_blank(Some(&store))
    {
        placement.store = Some(store);
    }
    if let Some(url) = env_url {
        return Ok(Decision::Central(server_url(&url)?, placement));
    }
    match (config.mode, non_blank(config.server_url.as_deref())) {
        (Some(ConfigMode::Embedded), _) | (None, None) => Ok(Decision::Embedded(placement)),
        (_, Some(url)) => Ok(Decision::Central(server_url(&url)?, placement)),
        (Some(ConfigMode::Central), None) => Ok(Decision::FirstStart),
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

/// Checks a server URL typed on the pairing screen and returns it without
/// a trailing slash. http(s) with a host, no user, query or fragment; plain
/// http only to this computer (loopback): elsewhere the device's token and
/// every order would cross the network readable by anyone on the way.
pub fn server_url(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(
            "Enter the OMS server's address, e.g. https://oms.example.com.",
        ));
    }
    if text.chars().count() > MAX_URL {
        return Err(invalid(format!(
            "A server address is at most {MAX_URL} characters."
        )));
    }
    let not_a_url = || {
        invalid(format!(
            "`{text}` is not a server address (e.g. https://oms.example.com)."
        ))
    };
    let client = OmsClient::new(text).map_err(|_| not_a_url())?;
    let url = client.base_url();
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(not_a_url)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "The server address must not contain a user name or password.",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("The server address must not contain ? or #."));
    }
    if url.scheme() == "http" && !is_loopback(host) {
        return Err(invalid(
            "Use https:// for a server on the network: with plain http the device's sign-in \
             token and every order would travel unencrypted. http:// is accepted only for this \
             computer (localhost, 127.0.0.1).",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A pairing code as typed (spaces and dashes are the server's business).
pub fn pairing_code(text: &str) -> Result<String, AppError> {
    let code = text.trim();
    if code.is_empty() {
        return Err(invalid("Enter the pairing code a manager gave you."));
    }
    if code.chars().count() > MAX_CODE || code.chars().any(char::is_control) {
        return Err(invalid("This is not a pairing code."));
    }
    Ok(code.to_owned())
}

/// The name this device is listed under on the server.
pub fn device_label(text: &str) -> Result<String, AppError> {
    let label = text.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL || label.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "Name this device with 1 to {MAX_LABEL} characters (e.g. Till 2)."
        )));
    }
    Ok(label.to_owned())
}

/// Why a central start did not give a working device.
#[derive(Debug)]
pub enum CentralFailure {
    /// The pairing screen, with why (and the same in plain words).
    NeedsPairing(dto::PairingReason, String),
    /// The server could not be used (unreachable…): not the pairing's fault.
    Failed(AppError),
}

impl From<AppError> for CentralFailure {
    fn from(error: AppError) -> Self {
        Self::Failed(error)
    }
}

/// The OS keyring, or why there is none (central mode has no fallback).
pub async fn keyring() -> Result<Arc<dyn TokenStore>, String> {
    device::keyring_store().await
}

fn unreachable(url: &str, error: &oms_api::ClientError) -> AppError {
    AppError::new(
        ErrorCode::BackendUnavailable,
        format!("Cannot reach the OMS server at {url}: {error}"),
    )
}

/// Starts the device on a central server with the pairing kept from an
/// earlier run: the token from the keyring, checked with `GET /v1/me`,
/// then the network (`Remote`) and the sync loop. `tokens`: the OS keyring
/// ([`keyring`]) or why there is none. `cache` when the caller has it open
/// already (just paired).
pub async fn start_central(
    data_dir: &Path,
    tokens: Result<Arc<dyn TokenStore>, String>,
    url: &str,
    placement: &Placement,
    cache: Option<Cache>,
) -> Result<(Remote, Device), CentralFailure> {
    let tokens =
        tokens.map_err(|why| CentralFailure::NeedsPairing(dto::PairingReason::NoKeyring, why))?;
    let cache = match cache {
        Some(cache) => cache,
        None => Cache::open(&data_dir.join(CACHE_FILE))
            .await
            .map_err(AppError::from)?,
    };
    let (paired, client) = match aisle_sync::device_client(&cache, &tokens).await {
        Ok(found) => found,
        Err(SyncError::NotPaired) => {
            return Err(CentralFailure::NeedsPairing(
                dto::PairingReason::NotPaired,
                format!(
                    "This device is not paired with {url} (no pairing in this computer's keyring). \
                 Pair it with a code from a manager."
                ),
            ));
        }
        Err(error) => return Err(CentralFailure::Failed(error.into())),
    };
    if paired.server_url != secrets::account_for(url) {
        return Err(CentralFailure::NeedsPairing(
            dto::PairingReason::NotPaired,
            format!(
                "This device is paired with {}, not {url}. Pair it again.",
                paired.server_url
            ),
        ));
    }
    match client.me().await {
        Ok(_) => {}
        Err(oms_api::ClientError::Problem(problem)) if problem.status == 401 => {
            let account = secrets::account_for(url);
            let _ = secrets::blocking(&tokens, move |store| store.delete(&account)).await;
            return Err(CentralFailure::NeedsPairing(
                dto::PairingReason::Revoked,
                REVOKED.to_owned(),
            ));
        }
        Err(error) => return Err(CentralFailure::Failed(unreachable(url, &error))),
    }
    let placement = Placement {
        store: paired.store.clone().or_else(|| placement.store.clone()),
        channel: placement.channel.clone(),
    };
    let remote = Remote::connect(
        client.clone(),
        dto::BackendKind::Central,
        &placement,
        data_dir,
    )
    .await?;
    let device = device::run(cache, client, None).await?;
    Ok((remote, device))
}

/// Pairs this device with a central server: checks the inputs and the
/// keyring, reaches the server, exchanges the code for the device token
/// (into the keyring), writes `config.json` (URL and store, never the
/// token) and starts the device.
pub async fn pair_central(
    data_dir: &Path,
    tokens: Result<Arc<dyn TokenStore>, String>,
    url: &str,
    code: &str,
    label: &str,
    placement: &Placement,
) -> Result<(Remote, Device), AppError> {
    let url = server_url(url)?;
    let code = pairing_code(code)?;
    let label = device_label(label)?;
    let tokens = tokens.map_err(|why| AppError::new(ErrorCode::NoKeyring, why))?;
    let probe = OmsClient::new(&url).map_err(AppError::from)?;
    probe.health().await.map_err(|e| unreachable(&url, &e))?;
    remove_cache(data_dir)?;
    let cache = Cache::open(&data_dir.join(CACHE_FILE)).await?;
    let paired = match aisle_sync::pair(&url, &code, &label, &cache, &tokens).await {
        Ok(paired) => paired,
        Err(SyncError::Client(oms_api::ClientError::Problem(problem)))
            if matches!(problem.status, 401 | 403 | 404) =>
        {
            // Forbidden: the code is the credential, and it was refused.
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "This pairing code is wrong, used or expired: ask a manager for a new one.",
            ));
        }
        Err(SyncError::Client(error @ oms_api::ClientError::Transport(_))) => {
            return Err(unreachable(&url, &error));
        }
        Err(error) => return Err(error.into()),
    };
    let Some(store) = paired.store.clone() else {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            "This pairing code is not for a store: ask for a store device code.",
        ));
    };
    let config = FileConfig {
        mode: Some(ConfigMode::Central),
        server_url: Some(url.clone()),
        store: Some(store.clone()),
        channel: placement.channel.clone(),
    };
    write_config(data_dir, &config)?;
    let placement = Placement {
        store: Some(store),
        channel: placement.channel.clone(),
    };
    match start_central(data_dir, Ok(tokens), &url, &placement, Some(cache)).await {
        Ok(started) => Ok(started),
        Err(CentralFailure::Failed(error)) => Err(error),
        Err(CentralFailure::NeedsPairing(_, message)) => {
            Err(AppError::new(ErrorCode::NotPaired, message))
        }
    }
}

/// Chooses the embedded default on the pairing screen.
pub fn choose_embedded(data_dir: &Path) -> Result<(), AppError> {
    write_config(
        data_dir,
        &FileConfig {
            mode: Some(ConfigMode::Embedded),
            ..FileConfig::default()
        },
    )
}

/// Forgets this device: its token leaves the keyring, the cache (with its
/// outbox) and `config.json` are deleted, so the next start shows the
/// pairing screen. The caller has asked the server to revoke the token
/// first (`Backend::forget`).
pub async fn forget(data_dir: &Path, server_url: Option<&str>) -> Result<(), AppError> {
    if let Some(url) = server_url
        && let Ok(tokens) = keyring().await
    {
        let account = secrets::account_for(url);
        secrets::blocking(&tokens, move |store| store.delete(&account))
            .await
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    }
    remove_files(data_dir, &[CONFIG_FILE])?;
    remove_cache(data_dir)
}

/// Deletes the device's cache (and its outbox): a new pairing starts from
/// an empty cache, never from another device's data, cursor or mutations.
fn remove_cache(data_dir: &Path) -> Result<(), AppError> {
    remove_files(
        data_dir,
        &[CACHE_FILE, "cache.sqlite-wal", "cache.sqlite-shm"],
    )
}

fn remove_files(data_dir: &Path, names: &[&str]) -> Result<(), AppError> {
    for name in names {
        let path: PathBuf = data_dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("delete", &path, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked() {
        assert_eq!(
            server_url(" https://oms.example.com/ ").unwrap(),
            "https://oms.example.com"
        );
        assert_eq!(
            server_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            server_url("http://localhost:9000/").unwrap(),
            "http://localhost:9000"
        );
        assert_eq!(
            server_url("http://[::1]:9000").unwrap(),
            "http://[::1]:9000"
        );
        let plain = server_url("http://oms.example.com").unwrap_err();
        assert_eq!(plain.code, ErrorCode::InvalidInput);
        assert!(plain.message.contains("https"), "{}", plain.message);
        for bad in [
            "",
            "oms.example.com",
            "ftp://oms.example.com",
            "https://user:pw@oms.example.com",
            "https://oms.example.com/?token=1",
            "http://10.0.0.5",
        ] {
            assert_eq!(
                server_url(bad).unwrap_err().code,
                ErrorCode::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn codes_and_labels_are_checked() {
        assert_eq!(pairing_code(" ABCD-1234 ").unwrap(), "ABCD-1234");
        assert!(pairing_code("  ").is_err());
        assert!(pairing_code("a\u{7}b").is_err());
        assert!(pairing_code(&"x".repeat(65)).is_err());
        assert_eq!(device_label(" Till 2 ").unwrap(), "Till 2");
        assert!(device_label("").is_err());
        assert!(device_label(&"x".repeat(101)).is_err());
    }

    #[test]
    fn the_start_follows_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            decide(dir.path(), None).unwrap(),
            Decision::FirstStart
        ));
        choose_embedded(dir.path()).unwrap();
        assert!(matches!(
            decide(dir.path(), None).unwrap(),
            Decision::Embedded(_)
        ));
        write_config(
            dir.path(),
            &FileConfig {
                mode: Some(ConfigMode::Central),
                server_url: Some("https://oms.example.com".into()),
                store: Some("ST-FR-001".into()),
                channel: None,
            },
        )
        .unwrap();
        let Decision::Central(url, placement) = decide(dir.path(), None).unwrap() else {
            panic!("central expected");
        };
        assert_eq!(url, "https://oms.example.com");
        assert_eq!(placement.store.as_deref(), Some("ST-FR-001"));
        let text = std::fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
        assert!(!text.contains("token"), "{text}");
        // The environment overrides the file (tests, support).
        let Decision::Central(url, _) = decide(dir.path(), Some("http://127.0.0.1:1")).unwrap()
        else {
            panic!("central expected");
        };
        assert_eq!(url, "http://127.0.0.1:1");
        // A central URL that is not acceptable is refused at start too.
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            r#"{"server_url": "http://oms.example.com"}"#,
        )
        .unwrap();
        assert_eq!(
            decide(dir.path(), None).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        std::fs::write(dir.path().join(CONFIG_FILE), r#"{"token": "x"}"#).unwrap();
        assert!(decide(dir.path(), None).is_err());
    }

    #[tokio::test]
    async fn a_forgotten_embedded_device_asks_again_and_keeps_the_demo_data() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("oms-embedded.sqlite"), b"demo").unwrap();
        choose_embedded(dir.path()).unwrap();
        assert!(matches!(
            decide(dir.path(), None).unwrap(),
            Decision::Embedded(_)
        ));
        forget(dir.path(), None).await.unwrap();
        assert!(matches!(
            decide(dir.path(), None).unwrap(),
            Decision::FirstStart
        ));
        assert!(dir.path().join("oms-embedded.sqlite").exists());
    }

    /// The real `oms-server` (small demo) on loopback, as aisle-sync's tests
    /// start it.
    async fn real_server(dir: &tempfile::TempDir) -> aisle_sync::Sidecar {
        // target/debug/deps/<this test> → target/debug/oms-server
        let exe = std::env::current_exe().unwrap();
        let binary = exe.parent().unwrap().parent().unwrap().join("oms-server");
        assert!(
            binary.is_file(),
            "build oms-server first: {}",
            binary.display()
        );
        aisle_sync::Sidecar::start(&aisle_sync::SidecarOptions {
            binary,
            database: dir.path().join("oms.sqlite"),
            demo: Some("small".to_owned()),
            seed: 1,
            start_timeout: std::time::Duration::from_secs(120),
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_device_pairs_with_a_central_server_and_keeps_its_pairing() {
        use aisle_sync::{DeviceToken, MemoryTokenStore};
        use oms_api::wire::{NewPairingCode, Role};
        let server_dir = tempfile::tempdir().unwrap();
        let server = real_server(&server_dir).await;
        let admin = server.client().clone();
        let url = admin.base_url().as_str().trim_end_matches('/').to_owned();
        let store = admin
            .locations()
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|l| l.kind == oms_domain::model::LocationKind::Store)
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let dir = data.path();
        let tokens: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
        let none = Placement::default();
        let new_code = || async {
            admin
                .create_pairing_code(&NewPairingCode {
                    store: store.id.as_str().to_owned(),
                    role: Role::StoreManager,
                })
                .await
                .unwrap()
                .code
        };

        // No keyring: refused before anything is sent, nothing written.
        let code = new_code().await;
        let refused = pair_central(
            dir,
            Err("no Secret Service".into()),
            &url,
            &code,
            "Till 2",
            &none,
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code, ErrorCode::NoKeyring);
        assert!(!dir.join(CONFIG_FILE).exists());
        // A wrong code, an unreachable server, plain http to another host.
        let wrong = pair_central(dir, Ok(tokens.clone()), &url, "WRONG-CODE", "Till 2", &none)
            .await
            .unwrap_err();
        assert_eq!(wrong.code, ErrorCode::Forbidden, "{}", wrong.message);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let nowhere = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let unreachable = pair_central(dir, Ok(tokens.clone()), &nowhere, &code, "Till 2", &none)
            .await
            .unwrap_err();
        assert_eq!(unreachable.code, ErrorCode::BackendUnavailable);
        let plain = pair_central(
            dir,
            Ok(tokens.clone()),
            "http://oms.example.com",
            &code,
            "T",
            &none,
        )
        .await
        .unwrap_err();
        assert_eq!(plain.code, ErrorCode::InvalidInput);
        assert!(!dir.join(CONFIG_FILE).exists());

        // The right code: the token in the keyring, URL and store in the file.
        let (remote, device) = pair_central(dir, Ok(tokens.clone()), &url, &code, "Till 2", &none)
            .await
            .unwrap();
        assert_eq!(remote.info().store.id, store.id.as_str());
        assert_eq!(remote.info().backend, dto::BackendKind::Central);
        assert_eq!(
            device.engine.device().store.as_deref(),
            Some(store.id.as_str())
        );
        let device_id = device.engine.device().device_id.clone();
        let config = read_config(dir).unwrap().unwrap();
        assert_eq!(config.server_url.as_deref(), Some(url.as_str()));
        assert_eq!(config.store.as_deref(), Some(store.id.as_str()));
        let token = tokens.load(&url).unwrap().unwrap();
        let text = std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap();
        assert!(!text.contains(token.expose()));
        // Every call the screens make runs as the store device, and its role
        // may make them: catalogue, stock, ATP, order search, its queue.
        remote.queue(None).await.unwrap();
        let found = remote
            .search("oak".into(), None, &dto::SearchFilters::default())
            .await
            .unwrap();
        let sku = found.items.first().unwrap().sku.clone();
        remote.product_detail(&sku).await.unwrap();
        let paris = dto::DestinationInput {
            postal_code: Some("75011".into()),
            country: Some("FR".into()),
            pickup_store: None,
        };
        remote.product_atp(&sku, 1, &paris).await.unwrap();
        remote.search_orders("camille", None).await.unwrap();
        // An endless-aisle order (home delivery, served by whichever
        // location), placed and read back by the store device.
        let mut stocked = None;
        for item in &found.items {
            if remote
                .product_detail(&item.sku)
                .await
                .unwrap()
                .network_available
                > 0
            {
                stocked = Some(item.sku.clone());
                break;
            }
        }
        let checkout = dto::CheckoutInput {
            lines: vec![dto::CartLineInput {
                sku: stocked.unwrap(),
                quantity: 1,
            }],
            customer: dto::CustomerInput {
                id: None,
                name: "Camille Central".into(),
                email: Some("camille.central@example.com".into()),
                phone: None,
                language: dto::Lang::Fr,
            },
            delivery: dto::CheckoutDelivery::HomeDelivery,
            destination: paris,
            payment: dto::PaymentChoice::InStore,
            idempotency_key: uuid::Uuid::new_v4().to_string(),
        };
        let order = remote.order_request(&checkout).unwrap();
        let placed = remote
            .place_order(&order, &checkout)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
            .unwrap();
        remote.order(&placed.id, dto::Lang::En).await.unwrap();
        drop((remote, device));

        // Next start: the kept pairing, no pairing screen.
        let Decision::Central(kept_url, placement) = decide(dir, None).unwrap() else {
            panic!("central expected");
        };
        let (remote, device) = start_central(dir, Ok(tokens.clone()), &kept_url, &placement, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(remote.info().store.id, store.id.as_str());
        drop((remote, device));

        // Without a keyring at the next start: the pairing screen says why.
        let Err(CentralFailure::NeedsPairing(reason, why)) = start_central(
            dir,
            Err("no Secret Service".into()),
            &kept_url,
            &placement,
            None,
        )
        .await
        else {
            panic!("needs pairing expected");
        };
        assert!(why.contains("Secret Service"), "{why}");
        assert_eq!(reason, dto::PairingReason::NoKeyring);
        // A token the server does not accept (revoked): the pairing screen,
        // and the dead token leaves the keyring.
        tokens
            .save(&url, &DeviceToken::new("revoked-token"))
            .unwrap();
        let Err(CentralFailure::NeedsPairing(reason, why)) =
            start_central(dir, Ok(tokens.clone()), &kept_url, &placement, None).await
        else {
            panic!("needs pairing expected");
        };
        assert_eq!(why, REVOKED);
        assert_eq!(reason, dto::PairingReason::Revoked);
        assert!(tokens.load(&url).unwrap().is_none());
        // No token at all: the pairing screen too.
        let Err(CentralFailure::NeedsPairing(dto::PairingReason::NotPaired, _)) =
            start_central(dir, Ok(tokens.clone()), &kept_url, &placement, None).await
        else {
            panic!("needs pairing expected");
        };
        // A used code cannot pair again; a new one pairs this device afresh
        // (a new cache: none of the old device's data, cursor or outbox).
        let again = pair_central(dir, Ok(tokens.clone()), &url, &code, "Till 3", &none)
            .await
            .unwrap_err();
        assert_eq!(again.code, ErrorCode::Forbidden);
        let (remote, device) = pair_central(
            dir,
            Ok(tokens.clone()),
            &url,
            &new_code().await,
            "Till 2",
            &none,
        )
        .await
        .unwrap();
        assert_ne!(device.engine.device().device_id, device_id);
        let counts = device.engine.cache().counts().await.unwrap();
        assert_eq!(counts.outbox_pending + counts.outbox_refused, 0);
        drop((remote, device));
        server.stop(std::time::Duration::from_secs(3)).await;
    }

    #[tokio::test]
    async fn forgetting_removes_the_choice_and_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        choose_embedded(dir.path()).unwrap();
        let cache = Cache::open(&dir.path().join(CACHE_FILE)).await.unwrap();
        drop(cache);
        forget(dir.path(), None).await.unwrap();
        assert!(!dir.path().join(CONFIG_FILE).exists());
        assert!(!dir.path().join(CACHE_FILE).exists());
        assert!(matches!(
            decide(dir.path(), None).unwrap(),
            Decision::FirstStart
        ));
    }
}

//! Which OMS core the app talks to, and its startup.
//!
//! `AISLE_SERVER_URL` (or `server_url` in `config.json` in the app data
//! directory) points the app at a central server. Without it the app starts
//! the bundled `oms-server` sidecar on loopback with a demo database in its
//! data directory (DESIGN.md "Embedded default").
//!
//! `store` (or `AISLE_STORE`) names the store this device works for (default:
//! the first store of the store channel) and `channel` the channel in-store
//! orders are placed on (default: `stores`).

use crate::device::{self, Device};
use crate::dto;
use crate::error::{AppError, ErrorCode};
use crate::remote::{Placement, Remote};
use aisle_sync::sidecar::{self, Sidecar, SidecarOptions};
use oms_api::OmsClient;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Mutex, watch};

/// How long commands wait for a starting backend before answering
/// `backend_starting`.
const READY_WAIT: Duration = Duration::from_secs(30);

/// The state of the connection to the OMS core.
#[derive(Debug, Clone)]
pub enum BackendStatus {
    Starting,
    Ready(Arc<Remote>),
    Failed(String),
}

/// Shared by every command.
#[derive(Debug, Clone)]
pub struct Backend {
    status: watch::Receiver<BackendStatus>,
    sidecar: Arc<Mutex<Option<Sidecar>>>,
    /// The paired device and its sync loop (sidecar mode), once set up.
    device: Arc<OnceLock<Device>>,
    /// Set once the device is set up, or could not be (central mode: at once).
    device_settled: Arc<std::sync::atomic::AtomicBool>,
}

/// Optional settings file in the app data directory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    server_url: Option<String>,
    store: Option<String>,
    channel: Option<String>,
}

impl Backend {
    /// Starts connecting in the background and returns at once.
    pub fn start(data_dir: PathBuf) -> Self {
        let (sender, status) = watch::channel(BackendStatus::Starting);
        let sidecar = Arc::new(Mutex::new(None));
        let device = Arc::new(OnceLock::new());
        let slot = sidecar.clone();
        let device_slot = device.clone();
        let device_settled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let settled = device_settled.clone();
        tauri::async_runtime::spawn(async move {
            let outcome = connect(&data_dir, &slot).await;
            let (status, embedded) = match outcome {
                Ok((remote, embedded)) => (BackendStatus::Ready(Arc::new(remote)), embedded),
                Err(error) => {
                    tracing::error!(%error, "OMS core unavailable");
                    (BackendStatus::Failed(error.message), None)
                }
            };
            let remote = match &status {
                BackendStatus::Ready(remote) => Some(remote.clone()),
                _ => None,
            };
            let _ = sender.send(status);
            let (Some(remote), Some(options)) = (remote, embedded) else {
                settled.store(true, std::sync::atomic::Ordering::SeqCst);
                return;
            };
            match device::start_embedded(&remote.client(), remote.store_id(), &data_dir).await {
                Ok(paired) => {
                    tracing::info!(device = %paired.engine.device().device_id, "sync started");
                    let _ = device_slot.set(paired);
                }
                Err(error) => {
                    tracing::error!(%error, "this device could not pair; no offline sync")
                }
            }
            supervise(options, data_dir, slot, remote, device_slot).await;
        });
        Self {
            status,
            sidecar,
            device,
            device_settled,
        }
    }

    /// Whether this device is still being paired and its sync started (so
    /// nothing is synced yet).
    pub fn device_starting(&self) -> bool {
        !self
            .device_settled
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The paired device with its sync engine, once set up.
    pub fn device(&self) -> Option<&Device> {
        self.device.get()
    }

    /// The paired device, or why there is none.
    pub fn require_device(&self) -> Result<&Device, AppError> {
        self.device().ok_or_else(|| {
            AppError::new(
                ErrorCode::BackendStarting,
                "This device is not paired with its store yet; try again in a moment.",
            )
        })
    }

    /// Without waiting: `None` while starting, or the failure.
    pub fn current(&self) -> Result<Option<Arc<Remote>>, String> {
        match &*self.status.borrow() {
            BackendStatus::Starting => Ok(None),
            BackendStatus::Ready(remote) => Ok(Some(remote.clone())),
            BackendStatus::Failed(message) => Err(message.clone()),
        }
    }

    /// The OMS core, once the backend is ready.
    pub async fn remote(&self) -> Result<Arc<Remote>, AppError> {
        let mut status = self.status.clone();
        let ready = tokio::time::timeout(
            READY_WAIT,
            status.wait_for(|s| !matches!(s, BackendStatus::Starting)),
        )
        .await;
        match ready {
            Err(_) => Err(AppError::new(
                ErrorCode::BackendStarting,
                "The OMS server is still starting; try again in a moment.",
            )),
            Ok(Err(_)) => Err(AppError::new(ErrorCode::Internal, "backend task ended")),
            Ok(Ok(status)) => match &*status {
                BackendStatus::Ready(remote) => Ok(remote.clone()),
                BackendStatus::Failed(message) => Err(AppError::new(
                    ErrorCode::BackendUnavailable,
                    message.clone(),
                )),
                BackendStatus::Starting => Err(AppError::new(
                    ErrorCode::BackendStarting,
                    "The OMS server is still starting.",
                )),
            },
        }
    }

    /// Stops the sidecar, if we started one. Called when the app exits.
    pub async fn shutdown(&self) {
        if let Some(sidecar) = self.sidecar.lock().await.take() {
            sidecar.stop(Duration::from_secs(3)).await;
        }
    }
}

/// Watches the sidecar: when it dies (killed, crashed) the sync engine is
/// told at once (the status bar shows offline) and the sidecar is started
/// again on the same database and port, with backoff. While the file
/// `sidecar.hold` exists in the data directory it is not restarted (tests
/// and support use it to keep the core down).
async fn supervise(
    options: SidecarOptions,
    data_dir: PathBuf,
    slot: Arc<Mutex<Option<Sidecar>>>,
    remote: Arc<Remote>,
    device: Arc<OnceLock<Device>>,
) {
    let url = remote.client().base_url().clone();
    let listen = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => return,
    };
    let mut failures: u32 = 0;
    let mut down = false;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let exited = match slot.lock().await.as_mut() {
            Some(sidecar) => sidecar.exited(),
            // Shut down.
            None => return,
        };
        if !exited {
            continue;
        }
        if !down {
            down = true;
            tracing::warn!("the bundled OMS server stopped; working offline");
            if let Some(device) = device.get() {
                device.engine.sync_now();
            }
        }
        if data_dir.join("sidecar.hold").exists() {
            continue;
        }
        if failures > 0 {
            let wait = aisle_sync::engine::backoff(
                failures,
                Duration::from_secs(1),
                Duration::from_secs(30),
            );
            tokio::time::sleep(wait).await;
        }
        tracing::info!(%listen, "restarting the bundled OMS server");
        match Sidecar::start_on(&options, &listen).await {
            Ok(started) => {
                write_sidecar_files(&data_dir, &started);
                remote.set_client(started.client().clone());
                let mut guard = slot.lock().await;
                if guard.is_none() {
                    // The app is shutting down.
                    drop(guard);
                    started.stop(Duration::from_secs(3)).await;
                    return;
                }
                *guard = Some(started);
                drop(guard);
                failures = 0;
                down = false;
                if let Some(device) = device.get() {
                    device.engine.sync_now();
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(%error, failures, "the bundled OMS server did not restart");
            }
        }
    }
}

/// Lets tests and support find the child we own (and its URL; the token
/// stays in memory).
fn write_sidecar_files(data_dir: &Path, sidecar: &Sidecar) {
    if let Some(pid) = sidecar.pid() {
        let _ = std::fs::write(data_dir.join("sidecar.pid"), pid.to_string());
        let _ = std::fs::write(
            data_dir.join("sidecar.url"),
            sidecar.client().base_url().as_str(),
        );
    }
}

/// The remote and, in sidecar mode, how the sidecar was started (to restart
/// it).
async fn connect(
    data_dir: &Path,
    slot: &Mutex<Option<Sidecar>>,
) -> Result<(Remote, Option<SidecarOptions>), AppError> {
    let config = file_config(data_dir)?;
    let mut placement = Placement {
        store: config.store.clone().filter(|s| !s.trim().is_empty()),
        channel: config.channel.clone().filter(|s| !s.trim().is_empty()),
    };
    if let Ok(store) = std::env::var("AISLE_STORE")
        && !store.trim().is_empty()
    {
        placement.store = Some(store.trim().to_owned());
    }
    if let Some(url) = central_server_url(&config) {
        tracing::info!(%url, "using the central OMS server");
        let client = OmsClient::new(&url)?;
        client.health().await?;
        let remote =
            Remote::connect(client, dto::BackendKind::Central, &placement, data_dir).await?;
        return Ok((remote, None));
    }
    let executable = std::env::current_exe()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("cannot locate the app: {e}")))?;
    let options = SidecarOptions {
        binary: sidecar::binary_beside(&executable),
        database: data_dir.join("oms-embedded.sqlite"),
        demo: Some("small".to_owned()),
        seed: 1,
        start_timeout: Duration::from_secs(60),
    };
    tracing::info!(binary = %options.binary.display(), "starting the bundled OMS server");
    let started = Sidecar::start(&options)
        .await
        .map_err(|e| AppError::new(ErrorCode::BackendUnavailable, e.to_string()))?;
    write_sidecar_files(data_dir, &started);
    let client = started.client().clone();
    *slot.lock().await = Some(started);
    let remote = Remote::connect(client, dto::BackendKind::Embedded, &placement, data_dir).await?;
    Ok((remote, Some(options)))
}

fn central_server_url(config: &FileConfig) -> Option<String> {
    if let Ok(url) = std::env::var("AISLE_SERVER_URL")
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    config
        .server_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

fn file_config(data_dir: &Path) -> Result<FileConfig, AppError> {
    let path = data_dir.join("config.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("{} is not valid: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(AppError::new(
            ErrorCode::Internal,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

//! Which OMS core the app talks to, and its startup.
//!
//! The choice is made on the pairing screen and kept in `config.json` in the
//! app data directory (`pairing.rs`): a central server (`server_url`, the
//! device token in the OS keyring; `AISLE_SERVER_URL` overrides the URL), or
//! the bundled `oms-server` sidecar on loopback with a demo database in its
//! data directory (DESIGN.md "Embedded default"). Until then the backend
//! waits in [`BackendStatus::NeedsPairing`].
//!
//! `store` (or `AISLE_STORE`) names the store this device works for (default:
//! the first store of the store channel) and `channel` the channel in-store
//! orders are placed on (default: `stores`).

use crate::device::{self, Device};
use crate::dto;
use crate::error::{AppError, ErrorCode};
use crate::pairing::{self, CentralFailure, Decision};
use crate::remote::{Placement, Remote};
use aisle_sync::sidecar::{self, Sidecar, SidecarOptions};
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
    /// Nothing chosen yet, or the kept pairing no longer works: the pairing
    /// screen, with why (and the server URL to pair with, if known).
    NeedsPairing {
        reason: Option<dto::PairingReason>,
        message: Option<String>,
        server_url: Option<String>,
    },
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
    sender: Arc<watch::Sender<BackendStatus>>,
    data_dir: PathBuf,
    /// The central server this device is paired with (none: embedded).
    central_url: Arc<std::sync::Mutex<Option<String>>>,
    /// One pairing attempt at a time.
    pairing: Arc<Mutex<()>>,
}

impl Backend {
    /// Starts connecting in the background (or waits for the pairing screen
    /// on first start) and returns at once.
    pub fn start(data_dir: PathBuf) -> Self {
        let (sender, status) = watch::channel(BackendStatus::Starting);
        let backend = Self {
            status,
            sidecar: Arc::new(Mutex::new(None)),
            device: Arc::new(OnceLock::new()),
            device_settled: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            sender: Arc::new(sender),
            data_dir: data_dir.clone(),
            central_url: Arc::new(std::sync::Mutex::new(None)),
            pairing: Arc::new(Mutex::new(())),
        };
        let env_url = std::env::var("AISLE_SERVER_URL").ok();
        match pairing::decide(&data_dir, env_url.as_deref()) {
            Ok(Decision::FirstStart) => backend.needs_pairing(None, None, None),
            Ok(Decision::Embedded(placement)) => backend.start_embedded(placement),
            Ok(Decision::Central(url, placement)) => {
                let started = backend.clone();
                tauri::async_runtime::spawn(async move {
                    started.start_central(url, placement).await;
                });
            }
            Err(error) => {
                tracing::error!(%error, "the app's configuration is not usable");
                backend.settle();
                let _ = backend.sender.send(BackendStatus::Failed(error.message));
            }
        }
        backend
    }

    fn settle(&self) {
        self.device_settled
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn needs_pairing(
        &self,
        reason: Option<dto::PairingReason>,
        message: Option<String>,
        server_url: Option<String>,
    ) {
        let _ = self.sender.send(BackendStatus::NeedsPairing {
            reason,
            message,
            server_url,
        });
    }

    /// Central mode with the kept pairing (at start). While the server
    /// cannot be reached (the till started before the network, the server
    /// is restarting) the status says so and the start is tried again, with
    /// backoff, until it answers.
    async fn start_central(&self, url: String, placement: Placement) {
        tracing::info!(%url, "using the central OMS server");
        let mut failures: u32 = 0;
        loop {
            let tokens = pairing::keyring().await;
            match pairing::start_central(&self.data_dir, tokens, &url, &placement, None).await {
                Ok((remote, device)) => return self.ready_central(url, remote, device),
                Err(CentralFailure::NeedsPairing(reason, message)) => {
                    tracing::warn!(%message, "this device needs pairing");
                    return self.needs_pairing(Some(reason), Some(message), Some(url));
                }
                Err(CentralFailure::Failed(error)) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, failures, "the OMS server cannot be used yet; trying again");
                    self.settle();
                    let _ = self.sender.send(BackendStatus::Failed(error.message));
                    let wait = aisle_sync::engine::backoff(
                        failures,
                        Duration::from_secs(1),
                        Duration::from_secs(30),
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn ready_central(&self, url: String, remote: Remote, device: Device) {
        tracing::info!(device = %device.engine.device().device_id, "sync started");
        *self.central_url.lock().unwrap_or_else(|p| p.into_inner()) = Some(url);
        let _ = self.device.set(device);
        self.settle();
        let _ = self.sender.send(BackendStatus::Ready(Arc::new(remote)));
    }

    /// The pairing screen: pairs with a central server and starts the
    /// device (only while the backend waits for pairing).
    pub async fn pair_central(
        &self,
        url: &str,
        code: &str,
        label: &str,
    ) -> Result<dto::AppInfo, AppError> {
        let _one = self.pairing.lock().await;
        self.check_waiting()?;
        let placement = match pairing::decide(&self.data_dir, None) {
            Ok(Decision::Central(_, placement) | Decision::Embedded(placement)) => placement,
            _ => Placement::default(),
        };
        let tokens = pairing::keyring().await;
        let (remote, device) =
            pairing::pair_central(&self.data_dir, tokens, url, code, label, &placement).await?;
        let info = remote.info();
        let url = pairing::server_url(url)?;
        self.ready_central(url, remote, device);
        Ok(info)
    }

    /// The pairing screen: use the bundled demo server.
    pub async fn choose_embedded(&self) -> Result<(), AppError> {
        let _one = self.pairing.lock().await;
        self.check_waiting()?;
        pairing::choose_embedded(&self.data_dir)?;
        let _ = self.sender.send(BackendStatus::Starting);
        self.start_embedded(Placement::default());
        Ok(())
    }

    fn check_waiting(&self) -> Result<(), AppError> {
        if matches!(*self.status.borrow(), BackendStatus::NeedsPairing { .. }) {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Conflict,
                "This device is already set up; forget it first to pair it again.",
            ))
        }
    }

    /// Forgets this device's pairing, cache and choice (the caller restarts
    /// the app, which then shows the pairing screen).
    pub async fn forget(&self) -> Result<(), AppError> {
        let _one = self.pairing.lock().await;
        // The keyring account of the device's token: the central server, or
        // the sidecar's URL the embedded device was last bound to.
        let url = self
            .central_url
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .or_else(|| self.device().map(|d| d.engine.device().server_url.clone()));
        // The server stops accepting this device's token: a forgotten tablet
        // is not left with a working credential. Best effort — offline, the
        // token still leaves this device, and the store's manager can revoke
        // the device (`DELETE /v1/devices/{id}`).
        if let Some(device) = self.device() {
            let revoked = tokio::time::timeout(
                Duration::from_secs(3),
                device.engine.client().revoke_own_token(),
            )
            .await;
            match revoked {
                Ok(Ok(())) => tracing::info!("this device's token was revoked on the server"),
                Ok(Err(error)) => {
                    tracing::warn!(%error, "the server did not revoke this device's token")
                }
                Err(_) => {
                    tracing::warn!("the server could not be reached to revoke this device's token")
                }
            }
        }
        self.shutdown().await;
        pairing::forget(&self.data_dir, url.as_deref()).await
    }

    /// The pairing screen's state.
    pub fn pairing_state(&self) -> dto::PairingState {
        let central_url = self
            .central_url
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (phase, reason, message, server_url) = match &*self.status.borrow() {
            BackendStatus::NeedsPairing {
                reason,
                message,
                server_url,
            } => (
                dto::PairingPhase::NeedsPairing,
                *reason,
                message.clone(),
                server_url.clone(),
            ),
            BackendStatus::Starting => (dto::PairingPhase::Starting, None, None, central_url),
            BackendStatus::Ready(_) => (dto::PairingPhase::Ready, None, None, central_url),
            BackendStatus::Failed(message) => (
                dto::PairingPhase::Failed,
                None,
                Some(message.clone()),
                central_url,
            ),
        };
        dto::PairingState {
            phase,
            reason,
            message,
            mode: if server_url.is_some() {
                dto::BackendKind::Central
            } else {
                dto::BackendKind::Embedded
            },
            server_url,
        }
    }

    /// The embedded default: starts the sidecar, pairs this device with it
    /// and supervises it, in the background.
    fn start_embedded(&self, placement: Placement) {
        let data_dir = self.data_dir.clone();
        let slot = self.sidecar.clone();
        let device_slot = self.device.clone();
        let settled = self.device_settled.clone();
        let sender = self.sender.clone();
        tauri::async_runtime::spawn(async move {
            let outcome = connect(&data_dir, &slot, &placement).await;
            let (status, embedded) = match outcome {
                Ok((remote, embedded)) => (BackendStatus::Ready(Arc::new(remote)), Some(embedded)),
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
            BackendStatus::Starting | BackendStatus::NeedsPairing { .. } => Ok(None),
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
                BackendStatus::NeedsPairing { .. } => Err(AppError::new(
                    ErrorCode::NotPaired,
                    "This device is not paired with an OMS server yet.",
                )),
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

/// Starts the sidecar: the remote and how the sidecar was started (to
/// restart it).
async fn connect(
    data_dir: &Path,
    slot: &Mutex<Option<Sidecar>>,
    placement: &Placement,
) -> Result<(Remote, SidecarOptions), AppError> {
    let executable = std::env::current_exe()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("cannot locate the app: {e}")))?;
    let demo = demo_size()?;
    let options = SidecarOptions {
        binary: sidecar::binary_beside(&executable),
        database: data_dir.join("oms-embedded.sqlite"),
        // Seeding the large demo takes minutes (BENCHMARKS.md).
        start_timeout: Duration::from_secs(if demo == "large" { 1_800 } else { 60 }),
        demo: Some(demo),
        seed: 1,
    };
    tracing::info!(binary = %options.binary.display(), "starting the bundled OMS server");
    let started = Sidecar::start(&options)
        .await
        .map_err(|e| AppError::new(ErrorCode::BackendUnavailable, e.to_string()))?;
    write_sidecar_files(data_dir, &started);
    let client = started.client().clone();
    *slot.lock().await = Some(started);
    let remote = Remote::connect(client, dto::BackendKind::Embedded, placement, data_dir).await?;
    Ok((remote, options))
}

/// The embedded demo's size: `AISLE_DEMO=small` (default: 10,000 SKUs) or
/// `large` (100,000 SKUs, for `cargo xtask bench app`).
fn demo_size() -> Result<String, AppError> {
    match std::env::var("AISLE_DEMO") {
        Err(_) => Ok("small".to_owned()),
        Ok(size) if size.trim().is_empty() => Ok("small".to_owned()),
        Ok(size) => match size.trim() {
            size @ ("small" | "large") => Ok(size.to_owned()),
            other => Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("AISLE_DEMO is `{other}`: expected `small` or `large`"),
            )),
        },
    }
}

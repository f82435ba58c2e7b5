//! This device's sync with the OMS core (aisle-sync): pairing, the local
//! cache and outbox, and the background sync loop.
//!
//! In sidecar mode the app pairs itself: with the sidecar's bootstrap admin
//! token it asks for a pairing code for its store and exchanges it for a
//! `store_manager` device token (DESIGN.md "Sync between the app and the
//! core"). The token lives in the OS keyring; when there is none (a headless
//! Linux without Secret Service) it is kept in memory for this run only and
//! the status bar says so. It is never written to SQLite, a log or a URL.

use crate::error::{AppError, ErrorCode};
use aisle_sync::{
    Cache, KeyringTokenStore, MemoryTokenStore, SyncConfig, SyncEngine, SyncError, SyncLoop,
    TokenStore, TokenStoreError,
};
use oms_api::OmsClient;
use oms_api::wire::{NewPairingCode, Role};
use std::path::Path;
use std::sync::Arc;

/// Shown when the token cannot be kept in an OS keyring.
pub const NO_KEYRING: &str = "No keyring: this device must pair again at next start.";

/// The label this device gets when it pairs itself.
const DEVICE_LABEL: &str = "Aisle (this computer)";

/// The paired device with its running sync loop. Dropping it stops the loop.
#[derive(Debug)]
pub struct Device {
    pub engine: SyncEngine,
    /// Plain words for the status bar (e.g. no keyring), if any.
    pub notice: Option<String>,
    _running: SyncLoop,
}

impl From<SyncError> for AppError {
    fn from(error: SyncError) -> Self {
        match error {
            SyncError::Client(client) => client.into(),
            SyncError::NotPaired | SyncError::NoStore => {
                AppError::new(ErrorCode::Forbidden, error.to_string())
            }
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

/// The OS keyring, or memory (sidecar mode only) when there is none.
async fn token_store() -> (Arc<dyn TokenStore>, Option<String>) {
    let keyring = KeyringTokenStore::new();
    let probe = keyring.clone();
    let checked = tokio::task::spawn_blocking(move || probe.check_available()).await;
    match checked {
        Ok(Ok(())) => (Arc::new(keyring), None),
        Ok(Err(TokenStoreError::KeyringUnavailable(why))) => {
            tracing::warn!(%why, "{NO_KEYRING}");
            (
                Arc::new(MemoryTokenStore::default()),
                Some(NO_KEYRING.to_owned()),
            )
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "{NO_KEYRING}");
            (
                Arc::new(MemoryTokenStore::default()),
                Some(NO_KEYRING.to_owned()),
            )
        }
        Err(error) => {
            tracing::warn!(%error, "{NO_KEYRING}");
            (
                Arc::new(MemoryTokenStore::default()),
                Some(NO_KEYRING.to_owned()),
            )
        }
    }
}

/// The OS keyring, or why there is none (central mode: no fallback, a token
/// in memory would be lost at the next start).
pub async fn keyring_store() -> Result<Arc<dyn TokenStore>, String> {
    let keyring = KeyringTokenStore::new();
    let probe = keyring.clone();
    match tokio::task::spawn_blocking(move || probe.check_available()).await {
        Ok(Ok(())) => Ok(Arc::new(keyring)),
        Ok(Err(error)) => Err(error.to_string()),
        Err(error) => Err(format!("the keyring check failed: {error}")),
    }
}

/// Opens the sync engine on `cache` with the device's authenticated
/// `client` and starts its loop.
pub async fn run(
    cache: Cache,
    client: OmsClient,
    notice: Option<String>,
) -> Result<Device, AppError> {
    let engine = SyncEngine::new(cache, client, SyncConfig::default()).await?;
    let running = engine.start()?;
    Ok(Device {
        engine,
        notice,
        _running: running,
    })
}

/// Sidecar mode: pairs this device with `store` through the sidecar's admin
/// client (or reuses the pairing kept from a previous run), opens the cache
/// in `data_dir` and starts the sync loop.
pub async fn start_embedded(
    admin: &OmsClient,
    store: &str,
    data_dir: &Path,
) -> Result<Device, AppError> {
    let server_url = admin.base_url().as_str().trim_end_matches('/').to_owned();
    let (tokens, notice) = token_store().await;
    let cache = Cache::open(&data_dir.join("cache.sqlite")).await?;
    let reused = match aisle_sync::rebind(&server_url, &cache, &tokens).await {
        Ok(Some(device)) if device.store.as_deref() == Some(store) => true,
        Ok(_) => false,
        Err(error) => {
            tracing::warn!(%error, "the previous pairing cannot be reused; pairing again");
            false
        }
    };
    if reused {
        tracing::info!("reusing this device's pairing");
    } else {
        let code = admin
            .create_pairing_code(&NewPairingCode {
                store: store.to_owned(),
                role: Role::StoreManager,
            })
            .await?;
        aisle_sync::pair(&server_url, &code.code, DEVICE_LABEL, &cache, &tokens).await?;
    }
    let (_device, client) = aisle_sync::device_client(&cache, &tokens).await?;
    run(cache, client, notice).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_errors_cross_ipc_as_closed_codes() {
        let not_paired: AppError = SyncError::NotPaired.into();
        assert_eq!(not_paired.code, ErrorCode::Forbidden);
        let problem = oms_api::ClientError::Problem(oms_api::wire::Problem {
            kind: "not-found".to_owned(),
            title: "Not found".to_owned(),
            status: 404,
            detail: Some("no such product".to_owned()),
        });
        let missing: AppError = SyncError::Client(problem).into();
        assert_eq!(missing.code, ErrorCode::NotFound);
        assert_eq!(missing.message, "no such product");
        let other: AppError = SyncError::Pairing("bad code".to_owned()).into();
        assert_eq!(other.code, ErrorCode::Internal);
    }

    #[test]
    fn the_no_keyring_notice_says_what_happens() {
        assert!(NO_KEYRING.contains("pair again at next start"));
    }
}

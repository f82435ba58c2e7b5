//! The device token: in the OS keyring only (DESIGN.md "Security").
//!
//! [`TokenStore`] is the small port; [`KeyringTokenStore`] keeps tokens in
//! the OS keyring (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows) and [`MemoryTokenStore`] keeps them in memory for
//! tests. When no keyring is available the error says so plainly
//! ([`TokenStoreError::KeyringUnavailable`]); there is no fallback to a file.
//!
//! The token never goes into SQLite, a log line or a URL: [`DeviceToken`]'s
//! Debug impl redacts it, and it is sent only as `Authorization: Bearer`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use oms_api::OmsClient;
use oms_api::wire::PairingRequest;

use crate::cache::{Cache, DeviceInfo, now};
use crate::error::SyncError;

/// A device's API token. Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(String);

impl DeviceToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, to hand to [`OmsClient::with_token`] only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(<redacted>)")
    }
}

/// Why a token could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    /// No OS keyring answers (on Linux: no Secret Service on the session
    /// bus, or no session bus at all).
    #[error(
        "no OS keyring is available, so this device cannot keep its sign-in safely ({0}). \
         On Linux, start a Secret Service keyring such as GNOME Keyring, then pair again."
    )]
    KeyringUnavailable(String),
    /// The keyring is there but refused or failed the operation.
    #[error("the OS keyring failed: {0}")]
    Keyring(String),
    #[error("the keyring task failed: {0}")]
    Task(String),
}

/// Where device tokens are kept, one per account (the server URL).
pub trait TokenStore: Send + Sync {
    fn save(&self, account: &str, token: &DeviceToken) -> Result<(), TokenStoreError>;
    /// `None` when no token is stored for `account`.
    fn load(&self, account: &str) -> Result<Option<DeviceToken>, TokenStoreError>;
    /// Forgets the token (no error if there was none).
    fn delete(&self, account: &str) -> Result<(), TokenStoreError>;
}

/// Tokens in the OS keyring, under one service name.
#[derive(Debug, Clone)]
pub struct KeyringTokenStore {
    service: String,
}

impl KeyringTokenStore {
    /// The app's store: service `aisle`.
    pub fn new() -> Self {
        Self::with_service("aisle")
    }

    /// Another service name (tests use their own).
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// Checks that a keyring answers, so the app can say so before pairing.
    pub fn check_available(&self) -> Result<(), TokenStoreError> {
        match self.load("aisle-availability-probe") {
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, TokenStoreError> {
        keyring::Entry::new(&self.service, account).map_err(keyring_error)
    }
}

impl Default for KeyringTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

fn keyring_error(error: keyring::Error) -> TokenStoreError {
    match error {
        keyring::Error::NoDefaultStore
        | keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_) => {
            TokenStoreError::KeyringUnavailable(error.to_string())
        }
        other => TokenStoreError::Keyring(other.to_string()),
    }
}

impl TokenStore for KeyringTokenStore {
    fn save(&self, account: &str, token: &DeviceToken) -> Result<(), TokenStoreError> {
        self.entry(account)?
            .set_password(token.expose())
            .map_err(keyring_error)
    }

    fn load(&self, account: &str) -> Result<Option<DeviceToken>, TokenStoreError> {
        match self.entry(account)?.get_password() {
            Ok(token) => Ok(Some(DeviceToken(token))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(keyring_error(error)),
        }
    }

    fn delete(&self, account: &str) -> Result<(), TokenStoreError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(keyring_error(error)),
        }
    }
}

/// Tokens in memory: for tests and headless tools that must not touch the
/// OS keyring.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, DeviceToken>>,
}

impl std::fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTokenStore").finish_non_exhaustive()
    }
}

impl TokenStore for MemoryTokenStore {
    fn save(&self, account: &str, token: &DeviceToken) -> Result<(), TokenStoreError> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.insert(account.to_owned(), token.clone());
        Ok(())
    }

    fn load(&self, account: &str) -> Result<Option<DeviceToken>, TokenStoreError> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        Ok(tokens.get(account).cloned())
    }

    fn delete(&self, account: &str) -> Result<(), TokenStoreError> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.remove(account);
        Ok(())
    }
}

/// The keyring account of a server's device token.
pub fn account_for(server_url: &str) -> String {
    server_url.trim_end_matches('/').to_owned()
}

/// Runs a (blocking) token store call off the async runtime.
pub async fn blocking<T: Send + 'static>(
    store: &Arc<dyn TokenStore>,
    call: impl FnOnce(&dyn TokenStore) -> Result<T, TokenStoreError> + Send + 'static,
) -> Result<T, TokenStoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || call(store.as_ref()))
        .await
        .map_err(|e| TokenStoreError::Task(e.to_string()))?
}

/// Pairs this device with a store: exchanges the code a manager gave for
/// the device's token (`POST /v1/pairing`), keeps the token in `tokens`
/// and records the device (not the token) in the cache.
pub async fn pair(
    server_url: &str,
    code: &str,
    label: &str,
    cache: &Cache,
    tokens: &Arc<dyn TokenStore>,
) -> Result<DeviceInfo, SyncError> {
    let client = OmsClient::new(server_url)?;
    let issued = client
        .pair(&PairingRequest {
            code: code.trim().to_owned(),
            device_label: label.to_owned(),
        })
        .await?;
    let token = DeviceToken(issued.token);
    let device_id = match issued.device_id {
        Some(id) => id,
        // An older server: ask who the token is.
        None => client
            .clone()
            .with_token(token.expose())
            .me()
            .await?
            .device_id
            .ok_or(SyncError::NotPaired)?,
    };
    let account = account_for(server_url);
    let saved = token.clone();
    blocking(tokens, move |store| store.save(&account, &saved)).await?;
    let device = DeviceInfo {
        server_url: account_for(server_url),
        device_id,
        store: issued.store,
        role: issued.role,
        label: label.to_owned(),
        paired_at: now(),
    };
    cache.set_device(&device).await?;
    tracing::info!(device = %device.device_id, store = ?device.store, "device paired");
    Ok(device)
}

/// An authenticated client for the cache's paired device, with the token
/// from `tokens`.
pub async fn device_client(
    cache: &Cache,
    tokens: &Arc<dyn TokenStore>,
) -> Result<(DeviceInfo, OmsClient), SyncError> {
    let device = cache.device().await?.ok_or(SyncError::NotPaired)?;
    let account = account_for(&device.server_url);
    let token = blocking(tokens, move |store| store.load(&account))
        .await?
        .ok_or(SyncError::NotPaired)?;
    let client = OmsClient::new(&device.server_url)?.with_token(token.expose());
    Ok((device, client))
}

/// The paired device's server now answers at `server_url` (the embedded
/// sidecar's port changes at each start): if the device's token is known
/// and that server accepts it as the same device, moves the token to the
/// new URL's account and records the URL, keeping the cache and the outbox.
/// `Ok(None)` when there is nothing to move (pair again).
pub async fn rebind(
    server_url: &str,
    cache: &Cache,
    tokens: &Arc<dyn TokenStore>,
) -> Result<Option<DeviceInfo>, SyncError> {
    let Some(mut device) = cache.device().await? else {
        return Ok(None);
    };
    let new_account = account_for(server_url);
    if device.server_url == new_account {
        let account = new_account.clone();
        let found = blocking(tokens, move |store| store.load(&account)).await?;
        return Ok(found.map(|_| device));
    }
    let old_account = account_for(&device.server_url);
    let Some(token) = blocking(tokens, move |store| store.load(&old_account)).await? else {
        return Ok(None);
    };
    let me = match OmsClient::new(server_url)?
        .with_token(token.expose())
        .me()
        .await
    {
        Ok(me) => me,
        Err(oms_api::ClientError::Problem(problem)) if problem.status == 401 => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    if me.device_id.as_deref() != Some(device.device_id.as_str()) {
        return Ok(None);
    }
    let account = new_account.clone();
    let saved = token.clone();
    blocking(tokens, move |store| store.save(&account, &saved)).await?;
    let old_account = account_for(&device.server_url);
    blocking(tokens, move |store| store.delete(&old_account)).await?;
    cache.set_server_url(&new_account).await?;
    device.server_url = new_account;
    Ok(Some(device))
}

//! Why a cache, outbox, pull, push or pairing call failed.

use std::path::PathBuf;

use crate::secrets::TokenStoreError;

/// Errors of the app's offline side.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot open the local cache at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("the local cache could not be brought up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("local cache error: {0}")]
    Cache(#[from] sqlx::Error),
    #[error("unreadable data in the local cache or from the core: {0}")]
    Data(#[from] serde_json::Error),
    /// The core could not be reached, refused the call or answered
    /// something unexpected. [`SyncError::is_offline`] tells a network
    /// failure (retry later) from the rest.
    #[error(transparent)]
    Client(#[from] oms_api::ClientError),
    #[error("this device is not paired with a store yet")]
    NotPaired,
    #[error("this action needs a device paired to a store")]
    NoStore,
    #[error("pairing failed: {0}")]
    Pairing(String),
    /// The core's record of this device's mutations does not follow on from
    /// the outbox (409 `mutation-gap`). It should never happen with a
    /// correct outbox: the core's database was replaced or the device was
    /// paired again under the same id.
    #[error(
        "the core has no record of this device's earlier actions (the outbox resumes at mutation {first_sent}): {detail}"
    )]
    MutationGap { first_sent: u64, detail: String },
    /// The core answered a push with results that do not match what was
    /// sent.
    #[error("the core answered the push inconsistently: {0}")]
    BadPushAnswer(String),
    #[error(transparent)]
    Token(#[from] TokenStoreError),
    #[error("the sync loop is already running")]
    AlreadyRunning,
    #[error("the sync engine has stopped")]
    Stopped,
}

impl SyncError {
    /// Whether this is a network failure (the core is unreachable or
    /// overloaded): the device is offline, and the call can be retried as is.
    pub fn is_offline(&self) -> bool {
        match self {
            SyncError::Client(oms_api::ClientError::Transport(_)) => true,
            SyncError::Client(oms_api::ClientError::Problem(problem)) => {
                problem.status >= 500 || problem.status == 429
            }
            SyncError::Client(oms_api::ClientError::Unexpected { status, .. }) => {
                *status >= 500 || *status == 429
            }
            _ => false,
        }
    }
}

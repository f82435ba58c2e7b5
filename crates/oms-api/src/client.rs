//! A typed client for oms-server.

use crate::wire::{Health, Page, Problem, Product, ProductQuery};
use reqwest::Url;
use std::time::Duration;

/// Why a call to oms-server did not produce its answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or the connection broke. The outcome
    /// of a write is unknown in this case.
    #[error("oms-server unreachable: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server answered with a problem+json error.
    #[error("oms-server refused the request: {} ({})", .0.title, .0.kind)]
    Problem(Problem),
    /// The server answered something this client does not understand.
    #[error("unexpected answer from oms-server (HTTP {status}): {message}")]
    Unexpected { status: u16, message: String },
    #[error("invalid oms-server URL: {0}")]
    InvalidUrl(String),
}

/// A client for one oms-server base URL, optionally with an API token.
#[derive(Clone)]
pub struct OmsClient {
    http: reqwest::Client,
    base: Url,
    /// Sent as `Authorization: Bearer`; never logged (see the Debug impl).
    token: Option<String>,
}

impl std::fmt::Debug for OmsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OmsClient")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl OmsClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let base = Url::parse(base).map_err(|e| ClientError::InvalidUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::InvalidUrl(format!("`{base}` is not http(s)")));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(ClientError::Transport)?;
        Ok(Self {
            http,
            base,
            token: None,
        })
    }

    /// The same client, authenticating with `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    fn get(&self, url: Url) -> reqwest::RequestBuilder {
        let request = self.http.get(url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url, ClientError> {
        self.base
            .join(path)
            .map_err(|e| ClientError::InvalidUrl(e.to_string()))
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        let response = self
            .get(self.url("/health")?)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/products`.
    pub async fn products(&self, query: &ProductQuery) -> Result<Page<Product>, ClientError> {
        let response = self
            .get(self.url("/v1/products")?)
            .query(query)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}

/// Turns a response into its typed body, or the server's problem.
async fn decode<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(ClientError::Transport)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
            status: status.as_u16(),
            message: e.to_string(),
        });
    }
    match serde_json::from_slice::<Problem>(&bytes) {
        Ok(problem) => Err(ClientError::Problem(problem)),
        Err(_) => Err(ClientError::Unexpected {
            status: status.as_u16(),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
        }),
    }
}

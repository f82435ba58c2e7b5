//! A typed client for oms-server.

use crate::wire::{
    FeedQuery, FeedRejection, FeedReport, Health, Job, Page, Problem, Product, ProductFacets,
    ProductQuery, UnifiedStockExport,
};
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

    fn post(&self, url: Url) -> reqwest::RequestBuilder {
        self.authorize(self.http.post(url))
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn delete(&self, url: Url) -> reqwest::RequestBuilder {
        self.authorize(self.http.delete(url))
    }

    fn get(&self, url: Url) -> reqwest::RequestBuilder {
        self.authorize(self.http.get(url))
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

    /// `GET /v1/product-facets`: the brands and product types to filter on.
    pub async fn product_facets(&self) -> Result<ProductFacets, ClientError> {
        let response = self
            .get(self.url("/v1/product-facets")?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}

impl OmsClient {
    /// `POST /v1/stock/feeds`: imports a stock feed. A rejected feed is not an
    /// error: its report comes back with `status: rejected` and the refused
    /// rows. Large feeds take a while, so this call waits up to 10 minutes.
    pub async fn stock_feed(
        &self,
        query: &FeedQuery,
        body: impl Into<reqwest::Body>,
    ) -> Result<FeedReport, ClientError> {
        let response = self
            .post(self.url("/v1/stock/feeds")?)
            .query(query)
            .timeout(Duration::from_secs(600))
            .body(body)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        if response.status() == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(ClientError::Transport)?;
            if let Ok(rejection) = serde_json::from_slice::<FeedRejection>(&bytes) {
                return Ok(rejection.report);
            }
            return Err(match serde_json::from_slice::<Problem>(&bytes) {
                Ok(problem) => ClientError::Problem(problem),
                Err(e) => ClientError::Unexpected {
                    status,
                    message: e.to_string(),
                },
            });
        }
        decode(response).await
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, id: uuid::Uuid) -> Result<Job, ClientError> {
        let response = self
            .get(self.url(&format!("/v1/jobs/{id}"))?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/channels/{id}/unified-stock?format=json`.
    pub async fn unified_stock(
        &self,
        channel: &str,
        at: Option<&str>,
    ) -> Result<UnifiedStockExport, ClientError> {
        let mut url = self.url(&format!("/v1/channels/{channel}/unified-stock"))?;
        url.query_pairs_mut().append_pair("format", "json");
        if let Some(at) = at {
            url.query_pairs_mut().append_pair("at", at);
        }
        let response = self
            .get(url)
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}

/// A success without a body (204), or the server's problem.
async fn expect_no_content(response: reqwest::Response) -> Result<(), ClientError> {
    if response.status().is_success() {
        return Ok(());
    }
    decode::<serde_json::Value>(response).await.map(drop)
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

// Endpoint groups, each an `impl OmsClient` block in its own file.
mod customers;
mod orders;
mod sync;

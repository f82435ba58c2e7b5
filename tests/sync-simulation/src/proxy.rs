//! A fault-injecting HTTP proxy on 127.0.0.1 between the devices and the
//! server. Each request draws its fate from the seeded generator, in the
//! order requests arrive: pass, drop the request (never forwarded), cut the
//! response after the server committed (the client sees the connection
//! break mid-answer), duplicate it (both copies race at the server), delay
//! it, or replay it later (a stale copy reaches the server after newer
//! requests: reordering). While the server is down (killed), every request
//! fails as a transport-level 502.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use oms_domain::rng::SplitMix64;

/// Counters of what the proxy did.
#[derive(Debug, Default)]
pub struct FaultStats {
    pub requests: AtomicU64,
    pub dropped_requests: AtomicU64,
    pub cut_responses: AtomicU64,
    pub duplicated: AtomicU64,
    pub delayed: AtomicU64,
    pub replayed_late: AtomicU64,
    pub server_down: AtomicU64,
}

impl FaultStats {
    pub fn summary(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "requests {}, dropped {}, responses cut {}, duplicated {}, delayed {}, replayed late {}, refused while the server was down {}",
            get(&self.requests),
            get(&self.dropped_requests),
            get(&self.cut_responses),
            get(&self.duplicated),
            get(&self.delayed),
            get(&self.replayed_late),
            get(&self.server_down)
        )
    }
}

struct Inner {
    upstream: RwLock<Option<String>>,
    rng: Mutex<SplitMix64>,
    faults: AtomicBool,
    http: reqwest::Client,
    stats: FaultStats,
}

/// The running proxy. Cheap to clone.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
    pub url: String,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("url", &self.url).finish()
    }
}

enum Fate {
    Pass,
    DropRequest,
    CutResponse,
    Duplicate,
    Delay(u64),
    ReplayLater(u64),
}

impl Proxy {
    /// Starts the proxy on a free loopback port; faults are off until
    /// [`Proxy::set_faults`].
    pub async fn start(seed: u64) -> anyhow::Result<Proxy> {
        let inner = Arc::new(Inner {
            upstream: RwLock::new(None),
            rng: Mutex::new(SplitMix64::new(seed ^ 0x005E_ED0F_FA17)),
            faults: AtomicBool::new(false),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            stats: FaultStats::default(),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Proxy { inner, url })
    }

    /// Where requests go; `None` while the server is down.
    pub fn set_upstream(&self, url: Option<String>) {
        *self
            .inner
            .upstream
            .write()
            .unwrap_or_else(|p| p.into_inner()) = url;
    }

    pub fn set_faults(&self, on: bool) {
        self.inner.faults.store(on, Ordering::SeqCst);
    }

    pub fn stats(&self) -> &FaultStats {
        &self.inner.stats
    }
}

fn fate(inner: &Inner) -> Fate {
    if !inner.faults.load(Ordering::SeqCst) {
        return Fate::Pass;
    }
    let mut rng = inner.rng.lock().unwrap_or_else(|p| p.into_inner());
    match rng.below(100) {
        0..=5 => Fate::DropRequest,
        6..=11 => Fate::CutResponse,
        12..=16 => Fate::Duplicate,
        17..=26 => Fate::Delay(rng.between(5, 120)),
        27..=30 => Fate::ReplayLater(rng.between(50, 600)),
        _ => Fate::Pass,
    }
}

fn problem(status: StatusCode, title: &str) -> Response {
    let body =
        serde_json::json!({"type": "proxy-fault", "title": title, "status": status.as_u16()});
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

struct Forward {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// Sends the request to the server; `None` when it cannot be reached.
async fn forward(inner: &Inner, request: &Forward) -> Option<(StatusCode, HeaderMap, Bytes)> {
    let upstream = inner
        .upstream
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()?;
    let mut builder = inner
        .http
        .request(
            request.method.clone(),
            format!("{upstream}{}", request.path),
        )
        .body(request.body.clone());
    for name in [
        header::AUTHORIZATION.as_str(),
        header::CONTENT_TYPE.as_str(),
        header::ACCEPT.as_str(),
        "idempotency-key",
    ] {
        if let Some(value) = request.headers.get(name) {
            builder = builder.header(name, value.clone());
        }
    }
    let response = builder.send().await.ok()?;
    let status = response.status();
    let mut headers = HeaderMap::new();
    if let Some(value) = response.headers().get(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, value.clone());
    }
    let body = response.bytes().await.ok()?;
    Some((status, headers, body))
}

fn respond(answer: Option<(StatusCode, HeaderMap, Bytes)>, inner: &Inner) -> Response {
    match answer {
        Some((status, headers, body)) => (status, headers, body).into_response(),
        None => {
            inner.stats.server_down.fetch_add(1, Ordering::Relaxed);
            problem(StatusCode::BAD_GATEWAY, "the server cannot be reached")
        }
    }
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    inner.stats.requests.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else {
        return problem(StatusCode::BAD_REQUEST, "unreadable request body");
    };
    let request = Arc::new(Forward {
        method: parts.method,
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned()),
        headers: parts.headers,
        body,
    });
    match fate(&inner) {
        Fate::Pass => respond(forward(&inner, &request).await, &inner),
        Fate::DropRequest => {
            inner.stats.dropped_requests.fetch_add(1, Ordering::Relaxed);
            problem(StatusCode::BAD_GATEWAY, "request lost on the way")
        }
        Fate::CutResponse => {
            let answer = forward(&inner, &request).await;
            let Some((status, headers, _)) = answer else {
                return respond(None, &inner);
            };
            inner.stats.cut_responses.fetch_add(1, Ordering::Relaxed);
            // The server has answered (and committed); the client gets the
            // head, then the connection breaks mid-body.
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection cut by the proxy"))
            });
            (status, headers, Body::from_stream(broken)).into_response()
        }
        Fate::Duplicate => {
            inner.stats.duplicated.fetch_add(1, Ordering::Relaxed);
            let (first, _second) =
                tokio::join!(forward(&inner, &request), forward(&inner, &request));
            respond(first, &inner)
        }
        Fate::Delay(ms) => {
            inner.stats.delayed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            respond(forward(&inner, &request).await, &inner)
        }
        Fate::ReplayLater(ms) => {
            inner.stats.replayed_late.fetch_add(1, Ordering::Relaxed);
            let answer = forward(&inner, &request).await;
            let late_inner = Arc::clone(&inner);
            let late = Arc::clone(&request);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = forward(&late_inner, &late).await;
            });
            respond(answer, &inner)
        }
    }
}

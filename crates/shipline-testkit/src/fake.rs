//! The machinery every fake service shares: a real HTTP server on a loopback port, a record
//! of every request (and the answer it got), injected faults, and a loud failure on any
//! request the fake does not model.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

/// A failure to inject into the next request(s).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and a JSON error body.
    Status(u16),
    /// 429 with this `Retry-After` header value (seconds, or an HTTP date).
    RateLimited(String),
    /// Wait this long before handling the request.
    Delay(Duration),
    /// Start a 200 answer and cut the connection in the middle of the body.
    Drop,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
    /// The status the fake answered with.
    pub status: u16,
    /// The answer's body (empty for injected drops).
    pub response: Bytes,
    /// Whether a fault answered instead of the service.
    pub faulted: bool,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn response_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.response).unwrap_or(serde_json::Value::Null)
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// `METHOD /path`, for assertion messages.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    latency: Mutex<Duration>,
    unexpected: Mutex<Vec<String>>,
}

/// A running fake service. Dropping it stops the server, and fails the test if any request
/// reached a route the fake does not model.
pub struct Fake {
    name: &'static str,
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fake {
    /// Serves `router` on a free loopback port, on a runtime of its own, so both process
    /// tests (no runtime) and async tests can use it.
    pub fn start(name: &'static str, router: Router) -> Fake {
        let shared = Arc::new(Shared::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router
            .fallback(unexpected)
            .layer(middleware::from_fn_with_state(shared.clone(), record))
            .with_state(());
        let app = app.layer(axum::Extension(shared.clone()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-{name}"))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
                rt.shutdown_timeout(Duration::from_millis(100));
            })
            .unwrap();
        Fake {
            name,
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests whose path is `path` (after the method), e.g. `requests_to("POST", "/v2/files")`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    /// Queues a fault for the next request (faults are used in order, one per request).
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    /// Adds this much latency to every request from now on.
    pub fn set_latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// Requests that reached no modelled route (the test fails on drop if any).
    pub fn unexpected(&self) -> Vec<String> {
        self.shared.unexpected.lock().unwrap().clone()
    }

    /// Forgets the unexpected requests (for a test that provokes one on purpose).
    pub fn clear_unexpected(&self) {
        self.shared.unexpected.lock().unwrap().clear();
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let unexpected = self.unexpected();
        if !unexpected.is_empty() && !std::thread::panicking() {
            panic!(
                "the {} fake received requests it does not model: {unexpected:?}",
                self.name
            );
        }
    }
}

async fn unexpected(
    axum::Extension(shared): axum::Extension<Arc<Shared>>,
    request: Request,
) -> Response {
    let line = format!(
        "{} {}",
        request.method(),
        request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default()
    );
    shared.unexpected.lock().unwrap().push(line.clone());
    (
        StatusCode::NOT_IMPLEMENTED,
        axum::Json(serde_json::json!({ "message": format!("the fake does not model {line}") })),
    )
        .into_response()
}

async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body: body.clone(),
        status: 0,
        response: Bytes::new(),
        faulted: false,
    };
    let latency = *shared.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut fault = shared.faults.lock().unwrap().pop_front();
    if let Some(Fault::Delay(delay)) = fault {
        tokio::time::sleep(delay).await;
        fault = None;
    }
    let response = match fault {
        Some(Fault::Status(code)) => {
            recorded.faulted = true;
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                axum::Json(serde_json::json!({ "message": "injected failure" })),
            )
                .into_response()
        }
        Some(Fault::RateLimited(after)) => {
            recorded.faulted = true;
            let mut headers = HeaderMap::new();
            headers.insert(
                "retry-after",
                HeaderValue::from_str(&after).unwrap_or(HeaderValue::from_static("1")),
            );
            (
                StatusCode::TOO_MANY_REQUESTS,
                headers,
                axum::Json(serde_json::json!({ "message": "rate limited" })),
            )
                .into_response()
        }
        Some(Fault::Drop) => {
            recorded.faulted = true;
            recorded.status = 200;
            shared.requests.lock().unwrap().push(recorded);
            return dropped_mid_body();
        }
        Some(Fault::Delay(_)) | None => {
            let request = Request::from_parts(parts, Body::from(body));
            next.run(request).await
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    recorded.status = parts.status.as_u16();
    recorded.response = bytes.clone();
    shared.requests.lock().unwrap().push(recorded);
    Response::from_parts(parts, Body::from(bytes))
}

/// A 200 whose body promises more than it sends, then errors: hyper cuts the connection,
/// which is what a client sees when a proxy or server dies mid-answer.
fn dropped_mid_body() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"partial\":")),
        Err(std::io::Error::other("injected connection drop")),
    ];
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
        .headers_mut()
        .insert("content-length", HeaderValue::from_static("1000"));
    response
}

//! The client and its retry loop.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shipline_core::{SafeUrl, Secret};

use crate::retry::{RetryPolicy, parse_retry_after};

/// Whether sending a request twice could do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// GET, PUT of the same content, an upload keyed by its digest...: retried on connect
    /// errors, dropped answers, 429 and 5xx.
    Idempotent,
    /// POST of a comment, a deployment...: retried only when the server cannot have acted
    /// (the connection was refused, or it answered 429). A 5xx or a dropped answer might
    /// mean it did, so the caller gets the failure and decides.
    Unsafe,
}

/// A request to send; its body is kept so it can be sent again.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: SafeUrl,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub safety: Safety,
}

impl Request {
    pub fn new(method: Method, url: SafeUrl) -> Self {
        let safety = if method == Method::POST || method == Method::PATCH {
            Safety::Unsafe
        } else {
            Safety::Idempotent
        };
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            safety,
        }
    }

    pub fn get(url: SafeUrl) -> Self {
        Self::new(Method::GET, url)
    }

    pub fn post(url: SafeUrl) -> Self {
        Self::new(Method::POST, url)
    }

    /// `Authorization: Bearer …`, marked sensitive so no debug output of the request shows it.
    pub fn bearer(self, token: &Secret) -> Self {
        self.authorization(&format!("Bearer {}", token.expose()))
    }

    /// A raw `Authorization` value (`token …`, `Basic …`), marked sensitive.
    pub fn authorization(mut self, value: &str) -> Self {
        if let Ok(mut value) = HeaderValue::from_str(value) {
            value.set_sensitive(true);
            self.headers.insert(AUTHORIZATION, value);
        }
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(HeaderName::from_static(name), value);
        }
        self
    }

    /// A header whose name is known only at run time (a signer's); `sensitive` keeps its
    /// value out of any debug output.
    pub fn header_named(mut self, name: &str, value: &str, sensitive: bool) -> Self {
        if let (Ok(name), Ok(mut value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            value.set_sensitive(sensitive);
            self.headers.insert(name, value);
        }
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Self {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(Bytes::from(bytes));
        self
    }

    pub fn bytes(mut self, body: Bytes, content_type: &'static str) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.body = Some(body);
        self
    }

    /// A `multipart/form-data` body.
    pub fn multipart(mut self, form: crate::Multipart) -> Self {
        let (content_type, body) = form.finish();
        if let Ok(value) = HeaderValue::from_str(&content_type) {
            self.headers.insert(CONTENT_TYPE, value);
        }
        self.body = Some(body);
        self
    }

    /// Declares that repeating this request is harmless, whatever its method.
    pub fn idempotent(mut self) -> Self {
        self.safety = Safety::Idempotent;
        self
    }
}

/// A complete answer: status, headers and the whole body, read inside the retry loop.
#[derive(Debug, Clone)]
pub struct Response {
    pub method: Method,
    pub url: SafeUrl,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many attempts it took.
    pub attempts: u32,
}

impl Response {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `rel="next"` page of a paginated answer (RFC 8288 `Link`, as GitHub sends it),
    /// only when it stays on the origin the request went to: a token is never sent elsewhere.
    pub fn next_page(&self) -> Option<SafeUrl> {
        let next = next_link(self.header("link")?)?;
        let url = SafeUrl::parse(&next).ok()?;
        let (a, b) = (url.expose(), self.url.expose());
        (a.origin() == b.origin()).then_some(url)
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| HttpError::Decode {
            request: request_line(&self.method, &self.url),
            message: e.to_string(),
        })
    }

    /// Turns an error status into an [`HttpError::Status`] carrying a short detail.
    pub fn error_for_status(self) -> Result<Response, HttpError> {
        if self.status.is_success() {
            return Ok(self);
        }
        Err(HttpError::Status {
            request: request_line(&self.method, &self.url),
            status: self.status.as_u16(),
            detail: detail(&self.body),
            body: self.body,
        })
    }
}

/// The target of the `rel="next"` entry of a `Link` header value.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

/// The service's own words from an error body: `message`, `error.message` or `error`, else
/// the start of the text.
fn detail(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        for pointer in ["/message", "/error/message", "/error_description", "/error"] {
            if let Some(text) = value.pointer(pointer).and_then(|v| v.as_str()) {
                return text.to_owned();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// `METHOD url`, the URL redacted: how every error names its request.
fn request_line(method: &Method, url: &SafeUrl) -> String {
    format!("{method} {url}")
}

/// What went wrong, with URLs redacted and never a header value.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be sent, or its answer not read.
    #[error("`{request}` failed: {message}")]
    Transport { request: String, message: String },
    /// The service answered with an error status.
    #[error("`{request}` answered {status}: {detail}")]
    Status {
        request: String,
        status: u16,
        detail: String,
        body: Bytes,
    },
    /// Still failing after the retries allowed.
    #[error("gave up on `{request}` after {attempts} attempt(s) in {elapsed_ms} ms: {last}")]
    GaveUp {
        request: String,
        attempts: u32,
        elapsed_ms: u128,
        last: String,
        /// The last status, when the last attempt got an answer.
        status: Option<u16>,
    },
    /// The answer was not the JSON expected.
    #[error("`{request}` answered with JSON shipline could not read: {message}")]
    Decode { request: String, message: String },
    /// The client itself could not be built (TLS roots).
    #[error("could not build the HTTP client: {0}")]
    Build(String),
}

impl HttpError {
    /// The HTTP status behind the error, if there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::GaveUp { status, .. } => *status,
            _ => None,
        }
    }
}

/// Timeouts and the retry rules for one client.
#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// For one attempt, answer body included.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// The shipline HTTP client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    retry: RetryPolicy,
}

enum AttemptError {
    /// The connection was never made: the server saw nothing.
    NotSent(String),
    /// Sent, but no complete answer came back.
    Lost(String),
}

impl HttpClient {
    pub fn new(options: ClientOptions) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("shipline/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .use_rustls_tls()
            .build()
            .map_err(|e| HttpError::Build(error_chain(e)))?;
        Ok(Self {
            inner,
            retry: options.retry,
        })
    }

    pub fn with_defaults() -> Result<Self, HttpError> {
        Self::new(ClientOptions::default())
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends `request`, retrying where that is safe, and returns the final answer whatever
    /// its status: a 404 or 422 is the caller's to interpret ([`Response::error_for_status`]).
    pub async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let started = Instant::now();
        let policy = self.retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            tracing::debug!(method = %request.method, url = %request.url, attempt, "http request");
            let outcome = self.attempt(&request).await;
            let (retry, hint, last, status) = match &outcome {
                Ok(response) if response.status == StatusCode::TOO_MANY_REQUESTS => (
                    true,
                    retry_after(response),
                    format!("{} {}", response.status.as_u16(), detail(&response.body)),
                    Some(response.status.as_u16()),
                ),
                Ok(response) if response.status.is_server_error() => (
                    request.safety == Safety::Idempotent,
                    retry_after(response),
                    format!("{} {}", response.status.as_u16(), detail(&response.body)),
                    Some(response.status.as_u16()),
                ),
                Ok(_) => (false, None, String::new(), None),
                Err(AttemptError::NotSent(message)) => (true, None, message.clone(), None),
                Err(AttemptError::Lost(message)) => (
                    request.safety == Safety::Idempotent,
                    None,
                    message.clone(),
                    None,
                ),
            };
            // With no retries allowed, `send` is a plain send: the caller sees the answer.
            if !retry || (policy.max_attempts <= 1 && outcome.is_ok()) {
                return match outcome {
                    Ok(mut response) => {
                        response.attempts = attempt;
                        Ok(response)
                    }
                    Err(AttemptError::NotSent(message) | AttemptError::Lost(message)) => {
                        Err(HttpError::Transport {
                            request: request_line(&request.method, &request.url),
                            message,
                        })
                    }
                };
            }
            let gave_up = |last: String| HttpError::GaveUp {
                request: request_line(&request.method, &request.url),
                attempts: attempt,
                elapsed_ms: started.elapsed().as_millis(),
                last,
                status,
            };
            if attempt >= policy.max_attempts {
                return Err(gave_up(last));
            }
            let wait = hint.unwrap_or_else(|| policy.backoff(attempt));
            let remaining = policy.budget.saturating_sub(started.elapsed());
            if wait > remaining {
                let why = match hint {
                    Some(hint) => format!(
                        "{last}; the service asked to wait {} s (`Retry-After`), more than the {} s left of the retry budget",
                        hint.as_secs_f64().ceil(),
                        remaining.as_secs()
                    ),
                    None => last,
                };
                return Err(gave_up(why));
            }
            tracing::debug!(wait_ms = wait.as_millis() as u64, %last, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends and requires a 2xx.
    pub async fn send_ok(&self, request: Request) -> Result<Response, HttpError> {
        self.send(request).await?.error_for_status()
    }

    async fn attempt(&self, request: &Request) -> Result<Response, AttemptError> {
        let mut builder = self
            .inner
            .request(request.method.clone(), request.url.expose().clone())
            .headers(request.headers.clone());
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let answer = builder.send().await.map_err(|e| {
            let not_sent = e.is_connect() && !e.is_timeout();
            let message = error_chain(e);
            if not_sent {
                AttemptError::NotSent(message)
            } else {
                AttemptError::Lost(message)
            }
        })?;
        let status = answer.status();
        let headers = answer.headers().clone();
        // The whole body is read here, inside the retry loop, so an answer cut off half-way
        // is retried like any other lost answer.
        let body = answer.bytes().await.map_err(|e| {
            AttemptError::Lost(format!("the answer was cut off: {}", error_chain(e)))
        })?;
        Ok(Response {
            method: request.method.clone(),
            url: request.url.clone(),
            status,
            headers,
            body,
            attempts: 0,
        })
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    parse_retry_after(response.header("retry-after")?, SystemTime::now())
}

/// The error and its causes in one line. reqwest's own copy of the URL is removed first (it
/// may carry a credential); the caller's message names the redacted one.
fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut parts = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(&error);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn the_next_page_is_read_from_a_link_header() {
        let github = r#"<https://api.github.com/repositories/1/deployments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/deployments?per_page=100&page=4>; rel="last""#;
        assert_eq!(
            next_link(github).as_deref(),
            Some("https://api.github.com/repositories/1/deployments?per_page=100&page=2")
        );
        assert_eq!(
            next_link(r#"<https://x/?page=1>; rel="first", <https://x/?page=3>; rel="prev""#),
            None
        );
        assert_eq!(next_link(""), None);
    }
}

//! Stateful fakes of the services shipline talks to, one module each.
//!
//! Each fake serves only the routes of its service's published description that shipline
//! uses (the conformance test checks them against `@octokit/openapi`, Netlify's
//! `swagger.json` and the `@vercel/sdk` functions), keeps the state a real service would
//! (a deployment that becomes ready, a comment list that grows), records every request, and
//! fails the test on any request it does not model.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use crate::fake::Fake;

pub mod amplify;
pub mod cloudflare;
pub mod discord;
pub mod github;
pub mod netlify;
pub mod sentry;
pub mod slack;
pub mod supabase;
pub mod vercel;
pub mod webhook;

/// A route as the service's description names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// The description's path template, e.g. `/repos/{owner}/{repo}/deployments`.
    pub path: &'static str,
}

/// Builds a router and remembers every route it registers, so the list that is checked
/// against the description is the list that is served.
pub struct Routes<S> {
    prefix: &'static str,
    methods: BTreeMap<&'static str, MethodRouter<S>>,
    list: Vec<Route>,
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// `prefix` is where the description's base path is mounted (`/api/v1` for Netlify).
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            methods: BTreeMap::new(),
            list: Vec::new(),
        }
    }

    /// Adds `method path` served by `handler` (`axum::routing::get(h)` and friends).
    pub fn add(self, method: &'static str, path: &'static str, handler: MethodRouter<S>) -> Self {
        self.add_as(method, path, path, handler)
    }

    /// Like [`Routes::add`], for a description path whose parameter may hold slashes: axum
    /// serves it as `served` (`/deploys/{deploy_id}/files/{*path}`).
    pub fn add_as(
        mut self,
        method: &'static str,
        path: &'static str,
        served: &'static str,
        handler: MethodRouter<S>,
    ) -> Self {
        let merged = match self.methods.remove(served) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        self.methods.insert(served, merged);
        self.list.push(Route { method, path });
        self
    }

    pub fn build(self, state: S) -> (Router, Vec<Route>) {
        let mut router = Router::new();
        for (path, methods) in self.methods {
            router = router.route(&format!("{}{path}", self.prefix), methods);
        }
        (router.with_state(state), self.list)
    }
}

/// A running fake with its state, for tests to arrange and inspect.
pub struct ServiceFake<S> {
    pub fake: Fake,
    state: Arc<Mutex<S>>,
    routes: Vec<Route>,
    prefix: &'static str,
}

impl<S> ServiceFake<S> {
    pub(crate) fn start(
        name: &'static str,
        prefix: &'static str,
        state: Arc<Mutex<S>>,
        router: Router,
        routes: Vec<Route>,
    ) -> Self {
        Self {
            fake: Fake::start(name, router),
            state,
            routes,
            prefix,
        }
    }

    /// The service's state: arrange a scenario, or inspect what the code under test did.
    pub fn state(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap()
    }

    /// The routes this fake serves, as the description names them.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The base URL to give the code under test (`GITHUB_API_URL`, `NETLIFY_API_URL`, ...).
    pub fn base_url(&self) -> String {
        format!("{}{}", self.fake.url(), self.prefix)
    }

    /// Where the description's base path is mounted.
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }
}

impl<S> std::ops::Deref for ServiceFake<S> {
    type Target = Fake;
    fn deref(&self) -> &Fake {
        &self.fake
    }
}

/// The token of an `Authorization: Bearer …` (or GitHub's `token …`) header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .map(str::to_owned)
}

/// A JSON answer.
pub fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Locks shared state inside a handler.
pub(crate) fn lock<S>(state: &Arc<Mutex<S>>) -> MutexGuard<'_, S> {
    state.lock().unwrap()
}

/// How a static host answers `path` of a deployment: the file, a directory's `index.html`,
/// then, when `spa` says the deployment asked for it, the root `index.html`.
pub(crate) fn serve_static(
    path: &str,
    content: impl Fn(&str) -> Option<axum::body::Bytes>,
    spa: impl FnOnce() -> bool,
    not_found: &'static str,
) -> Response {
    let path = path.trim_start_matches('/');
    let direct = if path.is_empty() || path.ends_with('/') {
        content(&format!("{path}index.html"))
    } else {
        content(path).or_else(|| content(&format!("{path}/index.html")))
    };
    match direct.or_else(|| if spa() { content("index.html") } else { None }) {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => (StatusCode::NOT_FOUND, not_found).into_response(),
    }
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// The parts of a `multipart/form-data` body, in order; `None` when it is not one.
pub fn multipart(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let content_type = headers.get("content-type")?.to_str().ok()?;
    if !content_type.starts_with("multipart/form-data") {
        return None;
    }
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}");
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    let mut parts = Vec::new();
    while !rest.starts_with(b"--") {
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        let field = |key: &str| {
            head.split(&format!("{key}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .map(str::to_owned)
        };
        let name = field("; name").or_else(|| field(" name"))?;
        let filename = field("filename");
        rest = &rest[head_end + 4..];
        let end = find(rest, format!("\r\n{delimiter}").as_bytes())?;
        parts.push(Part {
            name,
            filename,
            bytes: rest[..end].to_vec(),
        });
        rest = &rest[end + 2 + delimiter.len()..];
    }
    Some(parts)
}

/// A fixed timestamp plus `n` seconds, so answers are reproducible in snapshots.
pub fn timestamp(n: u64) -> String {
    shipline_core::time::rfc3339(1_767_225_600 + n) // 2026-01-01T00:00:00Z
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps() {
        assert_eq!(super::timestamp(0), "2026-01-01T00:00:00Z");
        assert_eq!(super::timestamp(86_400 * 59 + 3661), "2026-03-01T01:01:01Z");
    }
}

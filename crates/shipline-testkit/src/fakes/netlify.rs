//! Netlify: file-digest deploys that ask only for the files they lack, uploads checked
//! against their SHA-1, drafts, restore (publish), listing. Paths and shapes follow
//! `@netlify/open-api` (`swagger.json`, base path `/api/v1`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use sha1::Digest;

use super::{Routes, ServiceFake, bearer, lock, timestamp};

/// What the fake Netlify knows.
#[derive(Debug)]
pub struct NetlifyState {
    pub token: String,
    pub site_id: String,
    /// File contents by SHA-1, across deploys (Netlify deduplicates by digest).
    pub files: BTreeMap<String, Bytes>,
    pub deploys: Vec<Value>,
    /// The deploy the site serves.
    pub published: Option<String>,
    /// While one of these deploys is published, the site's domain answers with the status
    /// (a release that breaks on the real domain: what a post-publish check catches).
    pub broken: BTreeMap<String, u16>,
    next: u64,
}

impl NetlifyState {
    /// Creates a deploy as `POST /sites/{site_id}/deploys` does.
    #[allow(clippy::too_many_arguments)]
    fn insert_deploy(
        &mut self,
        site: &str,
        host: &str,
        files: serde_json::Map<String, Value>,
        required: BTreeSet<String>,
        draft: bool,
        body: &Value,
        title: Value,
    ) -> Value {
        self.next += 1;
        let n = self.next;
        let id = format!("{n:024x}");
        let now = timestamp(n);
        let deploy = json!({
            "id": id, "site_id": site, "user_id": "user-0001", "build_id": null,
            "state": if required.is_empty() { "ready" } else { "uploading" },
            "name": "webapp",
            // The site's domain, served by this fake (a real one: `https://webapp.netlify.app`).
            "url": format!("http://{host}/_production"), "ssl_url": format!("http://{host}/_production"),
            "admin_url": "https://app.netlify.com/sites/webapp",
            // Where this fake serves the deploy (a real one: `https://{id}--webapp.netlify.app`).
            "deploy_url": format!("http://{host}/_sites/{id}"),
            "deploy_ssl_url": format!("http://{host}/_sites/{id}"),
            "screenshot_url": null, "review_id": null, "draft": draft,
            "required": required, "required_functions": [], "error_message": null,
            "branch": body["branch"].as_str().unwrap_or("main"), "commit_ref": body["commit_ref"].clone(),
            "commit_url": null, "skipped": null, "created_at": now, "updated_at": now, "published_at": null,
            "title": title, "context": if draft { "deploy-preview" } else { "production" },
            "locked": null, "review_url": null, "framework": null, "function_schedules": [],
            "files": files,
        });
        self.deploys.push(deploy.clone());
        deploy
    }

    /// Seeds a ready deploy serving `files` (path → bytes), as if deployed before the test.
    pub fn add_ready_deploy(&mut self, host: &str, files: &[(&str, &[u8])]) -> String {
        let mut map = serde_json::Map::new();
        for (path, content) in files {
            let sha = hex::encode(sha1::Sha1::digest(content));
            self.files
                .insert(sha.clone(), Bytes::copy_from_slice(content));
            map.insert(format!("/{path}"), sha.into());
        }
        let site = self.site_id.clone();
        let d = self.insert_deploy(
            &site,
            host,
            map,
            BTreeSet::new(),
            true,
            &json!({}),
            Value::Null,
        );
        d["id"].as_str().unwrap_or_default().to_owned()
    }
}

/// The fake Netlify API.
pub type Netlify = ServiceFake<NetlifyState>;

type Shared = Arc<Mutex<NetlifyState>>;

/// Starts a fake Netlify with one site, accepting `token`.
pub fn start(token: &str) -> Netlify {
    let state = Arc::new(Mutex::new(NetlifyState {
        token: token.into(),
        site_id: "site-0001".into(),
        files: BTreeMap::new(),
        deploys: Vec::new(),
        published: None,
        broken: BTreeMap::new(),
        next: 0,
    }));
    let (router, routes) = Routes::new("/api/v1")
        .add("post", "/sites/{site_id}/deploys", post(create_deploy))
        .add("get", "/sites/{site_id}/deploys", get(list_deploys))
        .add("get", "/sites/{site_id}", get(get_site))
        .add("get", "/deploys/{deploy_id}", get(get_deploy))
        .add_as(
            "put",
            "/deploys/{deploy_id}/files/{path}",
            "/deploys/{deploy_id}/files/{*path}",
            put(upload_file),
        )
        .add(
            "post",
            "/sites/{site_id}/deploys/{deploy_id}/restore",
            post(restore),
        )
        .build(state.clone());
    // Not part of the API: each deploy's own URL (`deploy_ssl_url` points here), so a
    // verification has something real to request.
    let sites = axum::Router::new()
        .route("/_sites/{id}", get(serve_root))
        .route("/_sites/{id}/", get(serve_root))
        .route("/_sites/{id}/{*path}", get(serve_path))
        // The site's own domain: whatever deploy is published.
        .route("/_production", get(serve_production_root))
        .route("/_production/", get(serve_production_root))
        .route("/_production/{*path}", get(serve_production))
        .with_state(state.clone());
    ServiceFake::start("netlify", "/api/v1", state, router.merge(sites), routes)
}

fn error(status: StatusCode, message: &str) -> Response {
    super::json(
        status,
        json!({ "code": status.as_u16(), "message": message }),
    )
}

fn check(state: &NetlifyState, headers: &HeaderMap, site: Option<&str>) -> Result<(), Response> {
    if bearer(headers).as_deref() != Some(state.token.as_str()) {
        return Err(error(StatusCode::UNAUTHORIZED, "Access Denied"));
    }
    if site.is_some_and(|s| s != state.site_id) {
        return Err(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    Ok(())
}

async fn create_deploy(
    State(s): State<Shared>,
    Path(site): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, Some(&site)) {
        return e;
    }
    let Some(files) = body["files"].as_object() else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "files is required");
    };
    let required: BTreeSet<String> = files
        .values()
        .filter_map(Value::as_str)
        .filter(|sha| !state.files.contains_key(*sha))
        .map(str::to_owned)
        .collect();
    let draft = body["draft"].as_bool().unwrap_or(false);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let title = query
        .get("title")
        .map(|t| Value::from(t.as_str()))
        .unwrap_or(body["title"].clone());
    let deploy = state.insert_deploy(&site, &host, files.clone(), required, draft, &body, title);
    super::json(StatusCode::OK, public(&deploy))
}

/// The deploy as the API shows it: the file map is the fake's own, and fields without a
/// value are left out (the Swagger 2 description cannot say `nullable`, so a `null` string
/// would not match it).
fn public(deploy: &Value) -> Value {
    let mut d = deploy.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("files");
        o.retain(|_, v| !v.is_null());
    }
    d
}

async fn list_deploys(
    State(s): State<Shared>,
    Path(site): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, Some(&site)) {
        return e;
    }
    let production = query.get("production").map(String::as_str) == Some("true");
    let items: Vec<Value> = state
        .deploys
        .iter()
        .rev()
        .filter(|d| !production || d["draft"] == false)
        .filter(|d| {
            query
                .get("state")
                .is_none_or(|st| d["state"] == st.as_str())
        })
        .map(public)
        .collect();
    super::json(StatusCode::OK, Value::Array(items))
}

async fn get_deploy(
    State(s): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, None) {
        return e;
    }
    match state.deploys.iter().find(|d| d["id"] == id) {
        Some(d) => super::json(StatusCode::OK, public(d)),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn upload_file(
    State(s): State<Shared>,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, None) {
        return e;
    }
    let key = format!("/{}", path.trim_start_matches('/'));
    let Some(index) = state.deploys.iter().position(|d| d["id"] == id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(expected) = state.deploys[index]["files"][&key]
        .as_str()
        .map(str::to_owned)
    else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{key} is not part of this deploy"),
        );
    };
    let actual = hex::encode(sha1::Sha1::digest(&body));
    if actual != expected {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("the SHA-1 of {key} ({actual}) does not match the deploy's ({expected})"),
        );
    }
    state.files.insert(actual.clone(), body.clone());
    let deploy = &mut state.deploys[index];
    if let Some(required) = deploy["required"].as_array_mut() {
        required.retain(|sha| sha != actual.as_str());
        if required.is_empty() {
            deploy["state"] = "ready".into();
        }
    }
    super::json(
        StatusCode::OK,
        json!({ "id": key, "path": key, "sha": actual, "mime_type": "application/octet-stream", "size": body.len() }),
    )
}

async fn restore(
    State(s): State<Shared>,
    Path((site, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, Some(&site)) {
        return e;
    }
    state.next += 1;
    let now = timestamp(state.next);
    let Some(deploy) = state.deploys.iter_mut().find(|d| d["id"] == id) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if deploy["state"] != "ready" {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "the deploy is not ready");
    }
    deploy["published_at"] = now.into();
    let answer = public(deploy);
    state.published = Some(id);
    // 201, as the description has it.
    super::json(StatusCode::CREATED, answer)
}

async fn get_site(
    State(s): State<Shared>,
    Path(site): Path<String>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, Some(&site)) {
        return e;
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let url = format!("http://{host}/_production");
    let mut body = json!({
        "id": state.site_id, "state": "current", "plan": "nf_team_dev", "name": "webapp",
        "url": url, "ssl_url": url, "admin_url": "https://app.netlify.com/sites/webapp",
        "created_at": timestamp(0), "updated_at": timestamp(state.next), "user_id": "user-0001",
        "ssl": true, "force_ssl": true, "managed_dns": true, "deploy_url": url,
        "account_id": "acct-0001", "account_name": "Acme", "account_slug": "acme",
    });
    if let Some(d) = state
        .published
        .as_ref()
        .and_then(|id| state.deploys.iter().find(|d| d["id"] == id.as_str()))
    {
        body["published_deploy"] = public(d);
    }
    super::json(StatusCode::OK, body)
}

async fn serve_production_root(State(s): State<Shared>) -> Response {
    serve_production_path(&s, "")
}

async fn serve_production(State(s): State<Shared>, Path(path): Path<String>) -> Response {
    serve_production_path(&s, &path)
}

fn serve_production_path(s: &Shared, path: &str) -> Response {
    use axum::response::IntoResponse as _;
    let (published, broken) = {
        let state = lock(s);
        (
            state.published.clone(),
            state
                .published
                .as_ref()
                .and_then(|id| state.broken.get(id).copied()),
        )
    };
    if let Some(status) = broken {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return (status, "Site not found").into_response();
    }
    match published {
        Some(id) => serve(s, &id, path),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn serve_root(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    serve(&s, &id, "")
}

async fn serve_path(State(s): State<Shared>, Path((id, path)): Path<(String, String)>) -> Response {
    serve(&s, &id, &path)
}

/// Serves a deploy as Netlify's CDN would: the file, a directory's `index.html`, then a
/// `_redirects` rewrite of everything (`/* /index.html 200`, an SPA's fallback).
fn serve(s: &Shared, id: &str, path: &str) -> Response {
    use axum::response::IntoResponse as _;
    let state = lock(s);
    let Some(deploy) = state.deploys.iter().find(|d| d["id"] == id) else {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    if deploy["state"] != "ready" {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let content = |file: &str| {
        deploy["files"][format!("/{file}")]
            .as_str()
            .and_then(|sha| state.files.get(sha))
            .cloned()
    };
    let spa = || {
        content("_redirects").is_some_and(|redirects| {
            String::from_utf8_lossy(&redirects).lines().any(|l| {
                let parts: Vec<&str> = l.split_whitespace().collect();
                parts == ["/*", "/index.html", "200"]
            })
        })
    };
    super::serve_static(path, content, spa, "Not Found")
}

//! Cloudflare Pages: the Direct Upload asset store (upload token, `check-missing`, bucketed
//! uploads, `upsert-hashes`), multipart deployments that name files by hash, production by
//! branch, and rollback. Paths and shapes follow the `cloudflare` SDK (generated from
//! Cloudflare's OpenAPI description: `resources/pages/`), mounted at `/client/v4`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Routes, ServiceFake, bearer, lock, serve_static, timestamp};

/// One deployment, with what the API does not show: the files it serves.
#[derive(Debug, Clone)]
pub struct PagesDeployment {
    /// As the API shows it.
    pub json: Value,
    /// Path (with a leading `/`) → asset hash, from the form's `manifest`.
    pub manifest: BTreeMap<String, String>,
    /// The form's `_redirects`, when it had one.
    pub redirects: Option<String>,
    pub headers: Option<String>,
    /// Polls left before the `deploy` stage succeeds.
    polls: u32,
}

/// What the fake Cloudflare knows.
#[derive(Debug)]
pub struct CloudflareState {
    pub token: String,
    pub account: String,
    pub project: String,
    pub production_branch: String,
    /// Upload tokens issued, newest last; only the newest is accepted.
    pub jwts: Vec<String>,
    /// Answer the first asset call with a 401, as an expired upload token is answered.
    pub expire_first_jwt: bool,
    /// Asset contents by hash, with the content type they were sent with.
    pub assets: BTreeMap<String, (Bytes, String)>,
    /// Hashes `upsert-hashes` has marked.
    pub upserted: BTreeSet<String>,
    /// Every bucket `upload` took: its hashes.
    pub buckets: Vec<Vec<String>>,
    pub deployments: Vec<PagesDeployment>,
    /// The production deployment the project serves.
    pub canonical: Option<String>,
    /// While one of these deployments serves production, the production domain answers
    /// with the status (a release that breaks only there).
    pub broken: BTreeMap<String, u16>,
    next: u64,
}

impl CloudflareState {
    pub fn deployment(&self, id: &str) -> Option<&PagesDeployment> {
        self.deployments.iter().find(|d| d.json["id"] == id)
    }

    /// Seeds a successful deployment of `files` on `branch`, as if made before the test;
    /// a production one becomes what the project serves. Returns its id.
    pub fn seed(
        &mut self,
        host: &str,
        branch: &str,
        commit_message: &str,
        files: &[(&str, &[u8])],
    ) -> String {
        let mut manifest = BTreeMap::new();
        for (path, content) in files {
            let hash = asset_hash(content, path);
            self.assets.insert(
                hash.clone(),
                (Bytes::copy_from_slice(content), "text/html".into()),
            );
            manifest.insert(format!("/{path}"), hash);
        }
        let json = self.insert_deployment(host, branch, commit_message, None, manifest, None, None);
        let id = json["id"].as_str().unwrap_or_default().to_owned();
        if let Some(d) = self
            .deployments
            .iter_mut()
            .find(|d| d.json["id"] == id.as_str())
        {
            d.polls = 0;
        }
        advance(self, &id);
        id
    }

    /// Creates a deployment as `POST …/deployments` does; its `deploy` stage is `active`.
    #[allow(clippy::too_many_arguments)]
    fn insert_deployment(
        &mut self,
        host: &str,
        branch: &str,
        commit_message: &str,
        commit_hash: Option<String>,
        manifest: BTreeMap<String, String>,
        redirects: Option<String>,
        headers: Option<String>,
    ) -> Value {
        let production = branch == self.production_branch;
        self.next += 1;
        let n = self.next;
        let id = format!("{n:08x}-cf00-4000-8000-00000000{n:04x}");
        let short_id = id[..8].to_owned();
        let stage = json!({ "name": "deploy", "status": "active", "started_on": timestamp(n), "ended_on": null });
        let json = json!({
            "id": id,
            "aliases": if production { Value::Null } else { json!([format!("http://{host}/_alias/{branch}/")]) },
            "build_config": { "web_analytics_tag": null, "web_analytics_token": null },
            "created_on": timestamp(n),
            "deployment_trigger": {
                "type": "ad_hoc",
                "metadata": {
                    "branch": branch,
                    "commit_dirty": false,
                    "commit_hash": commit_hash.unwrap_or_default(),
                    "commit_message": commit_message,
                }
            },
            "env_vars": null,
            "environment": if production { "production" } else { "preview" },
            "is_skipped": false,
            "latest_stage": stage,
            "modified_on": timestamp(n),
            "project_id": "7b162ea7-7367-4d67-bcde-1160995d5b9c",
            "project_name": self.project,
            "short_id": short_id,
            "source": null,
            "stages": [stage],
            // A real one: `https://<short id>.webapp.pages.dev`.
            "url": format!("http://{host}/_sites/{id}/"),
        });
        self.deployments.push(PagesDeployment {
            json: json.clone(),
            manifest,
            redirects,
            headers,
            polls: 1,
        });
        json
    }

    /// The bytes `path` of deployment `id` serves (through its manifest).
    pub fn file(&self, id: &str, path: &str) -> Option<Bytes> {
        let d = self.deployment(id)?;
        let hash = d
            .manifest
            .get(&format!("/{}", path.trim_start_matches('/')))?;
        self.assets.get(hash).map(|(b, _)| b.clone())
    }
}

/// The fake Cloudflare API.
pub type Cloudflare = ServiceFake<CloudflareState>;

type Shared = Arc<Mutex<CloudflareState>>;

/// The hash wrangler's `hashFile` gives: `blake3(base64(content) + extension)`, 32 hex digits.
fn asset_hash(content: &[u8], path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let extension = match name.rfind('.') {
        Some(0) | None => "",
        Some(i) => &name[i + 1..],
    };
    let input = format!(
        "{}{extension}",
        base64::engine::general_purpose::STANDARD.encode(content)
    );
    blake3::hash(input.as_bytes()).to_hex()[..32].to_owned()
}

/// Starts a fake Cloudflare with one Pages project, `webapp`, whose production branch is
/// `main`, accepting the API token `token`.
pub fn start(token: &str, account: &str) -> Cloudflare {
    let state = Arc::new(Mutex::new(CloudflareState {
        token: token.into(),
        account: account.into(),
        project: "webapp".into(),
        production_branch: "main".into(),
        jwts: Vec::new(),
        expire_first_jwt: false,
        assets: BTreeMap::new(),
        upserted: BTreeSet::new(),
        buckets: Vec::new(),
        deployments: Vec::new(),
        canonical: None,
        broken: BTreeMap::new(),
        next: 0,
    }));
    const PROJECT: &str = "/accounts/{account_id}/pages/projects/{project_name}";
    let (router, routes) = Routes::new("/client/v4")
        .add("get", PROJECT, get(get_project))
        .add(
            "get",
            "/accounts/{account_id}/pages/projects/{project_name}/upload-token",
            get(upload_token),
        )
        .add("post", "/pages/assets/check-missing", post(check_missing))
        .add("post", "/pages/assets/upload", post(upload))
        .add("post", "/pages/assets/upsert-hashes", post(upsert_hashes))
        .add(
            "post",
            "/accounts/{account_id}/pages/projects/{project_name}/deployments",
            post(create_deployment),
        )
        .add(
            "get",
            "/accounts/{account_id}/pages/projects/{project_name}/deployments",
            get(list_deployments),
        )
        .add(
            "get",
            "/accounts/{account_id}/pages/projects/{project_name}/deployments/{deployment_id}",
            get(get_deployment),
        )
        .add(
            "post",
            "/accounts/{account_id}/pages/projects/{project_name}/deployments/{deployment_id}/rollback",
            post(rollback),
        )
        .build(state.clone());
    // Not part of the API: where this fake serves a deployment (`url`, a real one:
    // `https://<short id>.webapp.pages.dev`), a branch alias (`https://pr-7.webapp.pages.dev`)
    // and production (`https://webapp.pages.dev`).
    let sites = axum::Router::new()
        .route("/_sites/{id}", get(serve_deployment_root))
        .route("/_sites/{id}/", get(serve_deployment_root))
        .route("/_sites/{id}/{*path}", get(serve_deployment))
        .route("/_alias/{branch}/", get(serve_alias_root))
        .route("/_alias/{branch}/{*path}", get(serve_alias))
        .route("/_production/", get(serve_production_root))
        .route("/_production/{*path}", get(serve_production))
        .with_state(state.clone());
    ServiceFake::start(
        "cloudflare",
        "/client/v4",
        state,
        router.merge(sites),
        routes,
    )
}

fn envelope(status: StatusCode, result: Value) -> Response {
    super::json(
        status,
        json!({ "success": true, "errors": [], "messages": [], "result": result }),
    )
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    super::json(
        status,
        json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null }),
    )
}

fn check(
    state: &CloudflareState,
    headers: &HeaderMap,
    account: &str,
    project: &str,
) -> Result<(), Response> {
    if bearer(headers).as_deref() != Some(state.token.as_str()) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            10000,
            "Authentication error",
        ));
    }
    if account != state.account || project != state.project {
        return Err(error(StatusCode::NOT_FOUND, 8000007, "Project not found"));
    }
    Ok(())
}

/// Asset calls take the newest upload token only.
fn check_jwt(state: &mut CloudflareState, headers: &HeaderMap) -> Result<(), Response> {
    if state.expire_first_jwt {
        state.expire_first_jwt = false;
        return Err(error(StatusCode::UNAUTHORIZED, 8000013, "JWT expired"));
    }
    match (bearer(headers), state.jwts.last()) {
        (Some(sent), Some(newest)) if &sent == newest => Ok(()),
        _ => Err(error(
            StatusCode::UNAUTHORIZED,
            8000013,
            "Invalid upload token",
        )),
    }
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

fn project_json(state: &CloudflareState, host: &str) -> Value {
    let canonical = state
        .canonical
        .as_deref()
        .and_then(|id| state.deployment(id))
        .map(|d| d.json.clone());
    let latest = state.deployments.last().map(|d| d.json.clone());
    json!({
        "id": "7b162ea7-7367-4d67-bcde-1160995d5b9c",
        "canonical_deployment": canonical,
        "created_on": timestamp(0),
        "deployment_configs": { "preview": {}, "production": {} },
        "framework": "",
        "framework_version": "",
        "latest_deployment": latest,
        "name": state.project,
        "preview_script_name": "",
        "production_branch": state.production_branch,
        "production_script_name": "",
        "uses_functions": false,
        "domains": [format!("{}.pages.dev", state.project)],
        // A real one: `webapp.pages.dev`; here, where this fake serves production.
        "subdomain": format!("{host}/_production/"),
    })
}

async fn get_project(
    State(s): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, &account, &project) {
        return e;
    }
    envelope(StatusCode::OK, project_json(&state, &host(&headers)))
}

async fn upload_token(
    State(s): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &account, &project) {
        return e;
    }
    let jwt = format!("eyJhbGciOiJIUzI1NiJ9.upload-{}.sig", state.jwts.len() + 1);
    state.jwts.push(jwt.clone());
    envelope(StatusCode::OK, json!({ "jwt": jwt }))
}

async fn check_missing(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check_jwt(&mut state, &headers) {
        return e;
    }
    let Some(hashes) = body["hashes"].as_array() else {
        return error(StatusCode::BAD_REQUEST, 8000096, "hashes is required");
    };
    let missing: Vec<&Value> = hashes
        .iter()
        .filter(|h| h.as_str().is_none_or(|h| !state.assets.contains_key(h)))
        .collect();
    envelope(StatusCode::OK, json!(missing))
}

async fn upload(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check_jwt(&mut state, &headers) {
        return e;
    }
    let Some(files) = body.as_array() else {
        return error(StatusCode::BAD_REQUEST, 8000096, "expected an array");
    };
    if files.len() > 2000 {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            8000096,
            "too many files in one upload",
        );
    }
    let mut bucket = Vec::new();
    for file in files {
        let (Some(key), Some(value), true) = (
            file["key"].as_str(),
            file["value"].as_str(),
            file["base64"] == true,
        ) else {
            return error(
                StatusCode::BAD_REQUEST,
                8000096,
                "key, value and base64 are required",
            );
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(value) else {
            return error(StatusCode::BAD_REQUEST, 8000096, "value is not base64");
        };
        let content_type = file["metadata"]["contentType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_owned();
        state
            .assets
            .insert(key.to_owned(), (Bytes::from(bytes), content_type));
        bucket.push(key.to_owned());
    }
    state.buckets.push(bucket);
    envelope(
        StatusCode::OK,
        json!({ "successful_key_count": files.len(), "unsuccessful_keys": [] }),
    )
}

async fn upsert_hashes(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check_jwt(&mut state, &headers) {
        return e;
    }
    for hash in body["hashes"].as_array().into_iter().flatten() {
        if let Some(h) = hash.as_str() {
            state.upserted.insert(h.to_owned());
        }
    }
    envelope(StatusCode::OK, Value::Null)
}

/// The parts of a `multipart/form-data` body, by name.
fn parse_multipart(headers: &HeaderMap, body: &[u8]) -> Option<BTreeMap<String, Vec<u8>>> {
    Some(
        super::multipart(headers, body)?
            .into_iter()
            .map(|p| (p.name, p.bytes))
            .collect(),
    )
}

async fn create_deployment(
    State(s): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &account, &project) {
        return e;
    }
    let Some(parts) = parse_multipart(&headers, &body) else {
        return error(
            StatusCode::BAD_REQUEST,
            8000096,
            "expected multipart/form-data",
        );
    };
    let text = |name: &str| {
        parts
            .get(name)
            .map(|v| String::from_utf8_lossy(v).to_string())
    };
    let Some(manifest) =
        text("manifest").and_then(|m| serde_json::from_str::<BTreeMap<String, String>>(&m).ok())
    else {
        return error(StatusCode::BAD_REQUEST, 8000096, "manifest is required");
    };
    // Every file must be in the store, under the hash its content and extension give.
    for (path, hash) in &manifest {
        match state.assets.get(hash) {
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    8000096,
                    &format!("file {path} ({hash}) was never uploaded"),
                );
            }
            Some((bytes, _)) if asset_hash(bytes, path) != *hash => {
                return error(
                    StatusCode::BAD_REQUEST,
                    8000096,
                    &format!("file {path}: its content does not hash to {hash}"),
                );
            }
            Some(_) => {}
        }
    }
    let branch = text("branch").unwrap_or_else(|| state.production_branch.clone());
    let json = state.insert_deployment(
        &host(&headers),
        &branch,
        &text("commit_message").unwrap_or_default(),
        text("commit_hash"),
        manifest,
        text("_redirects"),
        text("_headers"),
    );
    envelope(StatusCode::OK, json)
}

/// One poll moves the `deploy` stage to `success`; a production deployment that succeeds
/// becomes what the project serves.
fn advance(state: &mut CloudflareState, id: &str) {
    let production_branch = state.production_branch.clone();
    let Some(d) = state.deployments.iter_mut().find(|d| d.json["id"] == id) else {
        return;
    };
    if d.polls > 0 {
        d.polls -= 1;
        return;
    }
    if d.json["latest_stage"]["status"] == "success" {
        return;
    }
    let n = d.json["latest_stage"]["started_on"].clone();
    let done = json!({ "name": "deploy", "status": "success", "started_on": n, "ended_on": n });
    d.json["latest_stage"] = done.clone();
    d.json["stages"] = json!([done]);
    if d.json["deployment_trigger"]["metadata"]["branch"] == production_branch.as_str() {
        state.canonical = Some(id.to_owned());
    }
}

async fn get_deployment(
    State(s): State<Shared>,
    Path((account, project, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &account, &project) {
        return e;
    }
    advance(&mut state, &id);
    match state.deployment(&id) {
        Some(d) => envelope(StatusCode::OK, d.json.clone()),
        None => error(StatusCode::NOT_FOUND, 8000009, "Deployment not found"),
    }
}

async fn list_deployments(
    State(s): State<Shared>,
    Path((account, project)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, &account, &project) {
        return e;
    }
    let all: Vec<Value> = state
        .deployments
        .iter()
        .rev()
        .map(|d| d.json.clone())
        .filter(|d| {
            query
                .get("env")
                .is_none_or(|env| d["environment"] == env.as_str())
        })
        .collect();
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(25)
        .clamp(1, 25);
    let list: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    super::json(
        StatusCode::OK,
        json!({ "success": true, "errors": [], "messages": [], "result": list,
                "result_info": { "page": page, "per_page": per_page, "count": list.len(), "total_count": all.len() } }),
    )
}

async fn rollback(
    State(s): State<Shared>,
    Path((account, project, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &account, &project) {
        return e;
    }
    let Some(d) = state.deployment(&id).map(|d| d.json.clone()) else {
        return error(StatusCode::NOT_FOUND, 8000009, "Deployment not found");
    };
    // "Rollbacks are only available to successful builds on production."
    if d["environment"] != "production" || d["latest_stage"]["status"] != "success" {
        return error(
            StatusCode::BAD_REQUEST,
            8000034,
            "You can only rollback to a successful production deployment",
        );
    }
    state.canonical = Some(id);
    envelope(StatusCode::OK, d)
}

fn serve(state: &CloudflareState, id: Option<&str>, path: &str) -> Response {
    let Some(d) = id.and_then(|id| state.deployment(id)) else {
        return serve_static(path, |_| None, || false, "no deployment");
    };
    let id = d.json["id"].as_str().unwrap_or_default();
    let spa = d.redirects.as_deref().is_some_and(|r| {
        r.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["/*", "/index.html", "200"])
    });
    serve_static(path, |p| state.file(id, p), || spa, "Not found")
}

async fn serve_deployment_root(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    serve(&lock(&s), Some(&id), "")
}

async fn serve_deployment(
    State(s): State<Shared>,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    serve(&lock(&s), Some(&id), &path)
}

fn latest_of_branch(state: &CloudflareState, branch: &str) -> Option<String> {
    state
        .deployments
        .iter()
        .rev()
        .find(|d| {
            d.json["deployment_trigger"]["metadata"]["branch"] == branch
                && d.json["latest_stage"]["status"] == "success"
        })
        .and_then(|d| d.json["id"].as_str().map(str::to_owned))
}

async fn serve_alias_root(State(s): State<Shared>, Path(branch): Path<String>) -> Response {
    let state = lock(&s);
    serve(&state, latest_of_branch(&state, &branch).as_deref(), "")
}

async fn serve_alias(
    State(s): State<Shared>,
    Path((branch, path)): Path<(String, String)>,
) -> Response {
    let state = lock(&s);
    serve(&state, latest_of_branch(&state, &branch).as_deref(), &path)
}

fn serve_canonical(state: &CloudflareState, path: &str) -> Response {
    if let Some(status) = state.canonical.as_ref().and_then(|id| state.broken.get(id)) {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return axum::response::IntoResponse::into_response((status, "broken"));
    }
    serve(state, state.canonical.as_deref(), path)
}

async fn serve_production_root(State(s): State<Shared>) -> Response {
    serve_canonical(&lock(&s), "")
}

async fn serve_production(State(s): State<Shared>, Path(path): Path<String>) -> Response {
    serve_canonical(&lock(&s), &path)
}

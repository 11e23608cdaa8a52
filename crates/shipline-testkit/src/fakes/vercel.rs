//! Vercel: prebuilt deployments with the `missing_files` protocol, SHA-1-checked uploads,
//! deployments that become READY after some polls, promote and rollback jobs seen through
//! `rollbackInfo`, aliases with the 63-character label limit, listing, and `teamId` enforced.
//! Paths and bodies follow the `@vercel/sdk` functions and models.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha1::Digest;

use super::{Routes, ServiceFake, bearer, lock};

/// What the fake Vercel knows.
#[derive(Debug)]
pub struct VercelState {
    pub token: String,
    /// When set, every call must carry `teamId=<this>`.
    pub team: Option<String>,
    pub project_id: String,
    pub project_name: String,
    /// Uploaded file contents by SHA-1.
    pub files: BTreeMap<String, Bytes>,
    pub deployments: Vec<Value>,
    /// How many `GET /v13/deployments/{id}` polls a new deployment needs before `READY`.
    pub polls_until_ready: u32,
    /// Make the next deployments end in this state instead (`ERROR`, `CANCELED`).
    pub fail_with: Option<String>,
    polls: BTreeMap<String, u32>,
    /// The last promote or rollback, as `rollbackInfo` shows it.
    pub last_alias_request: Option<Value>,
    /// Polls of `rollbackInfo` before the job succeeds.
    pub polls_until_job_done: u32,
    job_polls: u32,
    /// The deployment production traffic goes to.
    pub production: Option<String>,
    pub aliases: BTreeMap<String, String>,
    /// Uploads larger than this answer 413 (a plan's per-file limit).
    pub max_file_size: Option<usize>,
    /// The next promote or rollback job ends `failed`, with these aliases not moved.
    pub fail_next_job: Option<Vec<String>>,
    /// Aliases the last job failed to move (`GET /v1/projects/{id}/promote/aliases?failedOnly=true`).
    pub failed_aliases: Vec<String>,
    /// Deployments that production traffic has gone to (`readySubstate: PROMOTED`).
    pub promoted: BTreeSet<String>,
    /// While production is one of these deployments, its domain answers with the status (a
    /// domain or edge config broken by that release: what a post-promote check catches).
    pub broken: BTreeMap<String, u16>,
    /// Each deployment's files: path → SHA-1 (what `/_sites/{id}/…` serves).
    pub deployment_files: BTreeMap<String, BTreeMap<String, String>>,
    /// The request that created each deployment, minus nothing: an identical request
    /// gets the same deployment back, as Vercel does without `forceNew`.
    dedup: BTreeMap<String, String>,
    next: u64,
}

impl VercelState {
    /// Creates a deployment as `POST /v13/deployments` does once every file is uploaded.
    fn insert_deployment(&mut self, host: &str, body: &Value, files: &[Value]) -> Value {
        self.next += 1;
        let n = self.next;
        let id = format!("dpl_{n:04}");
        let name = body["name"]
            .as_str()
            .unwrap_or(&self.project_name)
            .to_owned();
        let target = body["target"]
            .as_str()
            .map(Value::from)
            .unwrap_or(Value::Null);
        // Where this fake serves the deployment (a real one: `{name}-{hash}-{team}.vercel.app`).
        let url = format!("{host}/_sites/{id}");
        let deployment = json!({
            "id": id, "url": url, "name": name, "version": 2, "readyState": "QUEUED", "status": "QUEUED",
            "type": "LAMBDAS", "plan": "pro", "regions": ["iad1"], "env": [], "build": { "env": [] },
            "meta": body["meta"].clone().as_object().cloned().unwrap_or_default(),
            "projectSettings": body["projectSettings"].clone().as_object().cloned().unwrap_or_default(),
            "creator": { "uid": "usr_shipline", "username": "shipline" },
            "createdAt": 1_767_225_600_000u64 + n * 1000, "createdIn": "iad1",
            "projectId": self.project_id, "ownerId": self.team.clone().unwrap_or_else(|| "usr_shipline".into()),
            "target": target, "alias": [], "aliasAssigned": false, "aliasError": null,
            "inspectorUrl": format!("https://vercel.com/acme/{name}/{id}"),
            "public": false, "routes": null, "lambdas": [], "gitMetadata": body["gitMetadata"].clone(),
            "autoAssignCustomDomains": body["autoAssignCustomDomains"].as_bool().unwrap_or(true),
            "files": files.len(),
        });
        self.deployments.push(deployment.clone());
        let map = files
            .iter()
            .filter_map(|f| {
                Some((
                    f["file"].as_str()?.to_owned(),
                    f["sha"].as_str()?.to_owned(),
                ))
            })
            .collect();
        self.deployment_files.insert(id, map);
        deployment
    }

    /// Seeds a READY production deployment serving `files` (path under the site → bytes),
    /// as if deployed (and, with `promoted`, once served production) before the test.
    pub fn add_ready_deployment(
        &mut self,
        host: &str,
        files: &[(&str, &[u8])],
        meta: Value,
        promoted: bool,
    ) -> String {
        let mut list = Vec::new();
        for (path, content) in files {
            let sha = hex::encode(sha1::Sha1::digest(content));
            self.files
                .insert(sha.clone(), Bytes::copy_from_slice(content));
            list.push(json!({ "file": format!(".vercel/output/static/{path}"), "sha": sha, "size": content.len() }));
        }
        let body = json!({ "name": self.project_name, "target": "production", "meta": meta, "autoAssignCustomDomains": false });
        let d = self.insert_deployment(host, &body, &list);
        let id = d["id"].as_str().unwrap_or_default().to_owned();
        if let Some(d) = self.deployments.iter_mut().find(|d| d["id"] == id.as_str()) {
            d["readyState"] = "READY".into();
            d["status"] = "READY".into();
            d["aliasAssigned"] = true.into();
            d["alias"] = json!([d["url"].clone()]);
            d["readySubstate"] = if promoted { "PROMOTED" } else { "STAGED" }.into();
        }
        if promoted {
            self.promoted.insert(id.clone());
        }
        id
    }
}

/// The fake Vercel API.
pub type Vercel = ServiceFake<VercelState>;

type Shared = Arc<Mutex<VercelState>>;

/// Starts a fake Vercel with one project, accepting `token`.
pub fn start(token: &str, team: Option<&str>) -> Vercel {
    let state = Arc::new(Mutex::new(VercelState {
        token: token.into(),
        team: team.map(str::to_owned),
        project_id: "prj_shipline".into(),
        project_name: "webapp".into(),
        files: BTreeMap::new(),
        deployments: Vec::new(),
        polls_until_ready: 2,
        fail_with: None,
        polls: BTreeMap::new(),
        last_alias_request: None,
        polls_until_job_done: 1,
        job_polls: 0,
        production: None,
        aliases: BTreeMap::new(),
        max_file_size: None,
        fail_next_job: None,
        failed_aliases: Vec::new(),
        promoted: BTreeSet::new(),
        broken: BTreeMap::new(),
        deployment_files: BTreeMap::new(),
        dedup: BTreeMap::new(),
        next: 0,
    }));
    let (router, routes) = Routes::new("")
        .add("post", "/v13/deployments", post(create_deployment))
        .add("post", "/v2/files", post(upload_file))
        .add("get", "/v13/deployments/{idOrUrl}", get(get_deployment))
        .add("get", "/v7/deployments", get(list_deployments))
        .add(
            "post",
            "/v10/projects/{projectId}/promote/{deploymentId}",
            post(promote),
        )
        .add(
            "post",
            "/v1/projects/{projectId}/rollback/{deploymentId}",
            post(rollback),
        )
        .add("get", "/v9/projects/{idOrName}", get(get_project))
        .add("post", "/v2/deployments/{id}/aliases", post(assign_alias))
        .add(
            "get",
            "/v1/projects/{projectId}/promote/aliases",
            get(failed_aliases),
        )
        .build(state.clone());
    // Not part of the API: each deployment's own URL, so a verification has something real
    // to request. The `url` of a deployment points here.
    let sites = axum::Router::new()
        .route("/_sites/{id}", get(serve_root))
        .route("/_sites/{id}/", get(serve_root))
        .route("/_sites/{id}/{*path}", get(serve_path))
        // The production domain: whatever deployment production traffic goes to.
        .route("/_production", get(serve_production_root))
        .route("/_production/", get(serve_production_root))
        .route("/_production/{*path}", get(serve_production))
        .with_state(state.clone());
    ServiceFake::start("vercel", "", state, router.merge(sites), routes)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    super::json(
        status,
        json!({ "error": { "code": code, "message": message } }),
    )
}

fn check(
    state: &VercelState,
    headers: &HeaderMap,
    query: &BTreeMap<String, String>,
) -> Result<(), Response> {
    if bearer(headers).as_deref() != Some(state.token.as_str()) {
        return Err(error(StatusCode::FORBIDDEN, "forbidden", "Not authorized"));
    }
    if let Some(team) = &state.team
        && query.get("teamId") != Some(team)
    {
        return Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not authorized: the request is missing the team (`teamId`)",
        ));
    }
    Ok(())
}

async fn create_deployment(
    State(s): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    let Some(files) = body["files"].as_array() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid request: missing required property `files`.",
        );
    };
    if files.len() > 15_000 {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid request: `files` should NOT have more than 15000 items.",
        );
    }
    let missing: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f["sha"].as_str())
        .filter(|sha| !state.files.contains_key(*sha))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "error": { "code": "missing_files", "message": "Missing files", "missing": missing } }),
        );
    }
    let key = serde_json::to_string(&json!([
        body["files"],
        body["target"],
        body["meta"],
        body["autoAssignCustomDomains"]
    ]))
    .unwrap_or_default();
    let force = query.get("forceNew").map(String::as_str) == Some("1");
    if !force
        && let Some(id) = state.dedup.get(&key).cloned()
        && let Some(existing) = state.deployments.iter().find(|d| d["id"] == id.as_str())
    {
        return super::json(StatusCode::OK, existing.clone());
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let deployment = state.insert_deployment(&host, &body, files);
    state.dedup.insert(
        key,
        deployment["id"].as_str().unwrap_or_default().to_owned(),
    );
    super::json(StatusCode::OK, deployment)
}

async fn serve_root(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    serve(&s, &id, "")
}

async fn serve_production_root(State(s): State<Shared>) -> Response {
    serve_production_path(&s, "")
}

async fn serve_production(State(s): State<Shared>, Path(path): Path<String>) -> Response {
    serve_production_path(&s, &path)
}

fn serve_production_path(s: &Shared, path: &str) -> Response {
    use axum::response::IntoResponse as _;
    let (production, broken) = {
        let state = lock(s);
        (
            state.production.clone(),
            state
                .production
                .as_ref()
                .and_then(|id| state.broken.get(id).copied()),
        )
    };
    if let Some(status) = broken {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return (status, "DEPLOYMENT_NOT_FOUND").into_response();
    }
    match production {
        Some(id) => serve(s, &id, path),
        None => (StatusCode::NOT_FOUND, "404: NOT_FOUND").into_response(),
    }
}

async fn serve_path(State(s): State<Shared>, Path((id, path)): Path<(String, String)>) -> Response {
    serve(&s, &id, &path)
}

/// Serves a deployment as Vercel's edge would from a Build Output v3 tree: the file, a
/// directory's `index.html`, then the routes of `config.json` (an SPA's fallback).
fn serve(s: &Shared, id: &str, path: &str) -> Response {
    use axum::response::IntoResponse as _;
    let state = lock(s);
    let Some(files) = state.deployment_files.get(id) else {
        return (
            StatusCode::NOT_FOUND,
            "The deployment could not be found on Vercel.",
        )
            .into_response();
    };
    let content = |file: &str| {
        files
            .get(&format!(".vercel/output/static/{file}"))
            .and_then(|sha| state.files.get(sha))
            .cloned()
    };
    let spa = || {
        let config: Value = files
            .get(".vercel/output/config.json")
            .and_then(|sha| state.files.get(sha))
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        config["routes"].as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r["src"] == "/(.*)" && r["dest"] == "/index.html")
        })
    };
    super::serve_static(path, content, spa, "404: NOT_FOUND")
}

async fn upload_file(
    State(s): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let Some(digest) = header("x-vercel-digest").or_else(|| header("x-now-digest")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "missing_digest",
            "Missing `x-vercel-digest` header",
        );
    };
    if state.max_file_size.is_some_and(|max| body.len() > max) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The file is larger than your plan allows",
        );
    }
    let actual = hex::encode(sha1::Sha1::digest(&body));
    if actual != digest {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_sha",
            &format!(
                "SHA1 sum of the file ({actual}) doesn't match the one in x-vercel-digest ({digest})"
            ),
        );
    }
    if let Some(size) = header("x-vercel-size").or_else(|| header("x-now-size"))
        && size.parse::<usize>().ok() != Some(body.len())
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_size",
            "File size does not match `x-vercel-size`",
        );
    }
    state.files.insert(digest, body);
    super::json(StatusCode::OK, json!({}))
}

async fn get_deployment(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    let polls = {
        let p = state.polls.entry(id.clone()).or_insert(0);
        *p += 1;
        *p
    };
    let ready_after = state.polls_until_ready;
    let fail = state.fail_with.clone();
    let production = state.production.clone();
    let promoted = state.promoted.contains(&id);
    let Some(d) = state
        .deployments
        .iter_mut()
        .find(|d| d["id"] == id || d["url"] == id)
    else {
        return error(StatusCode::NOT_FOUND, "not_found", "Deployment not found");
    };
    if d["readyState"] == "QUEUED" || d["readyState"] == "BUILDING" {
        let next = if polls >= ready_after {
            fail.unwrap_or_else(|| "READY".into())
        } else {
            "BUILDING".into()
        };
        d["readyState"] = next.clone().into();
        d["status"] = next.clone().into();
        if next == "READY" {
            d["aliasAssigned"] = true.into();
            let own = d["url"].clone();
            d["alias"] = json!([own]);
            d["readySubstate"] = if production.as_deref() == d["id"].as_str() || promoted {
                "PROMOTED"
            } else {
                "STAGED"
            }
            .into();
        }
    }
    super::json(StatusCode::OK, d.clone())
}

async fn list_deployments(
    State(s): State<Shared>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    let limit = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20usize);
    let items: Vec<Value> = state
        .deployments
        .iter()
        .rev()
        .filter(|d| query.get("target").is_none_or(|t| d["target"] == t.as_str()))
        .filter(|d| query.get("state").is_none_or(|t| d["readyState"] == t.as_str()))
        .take(limit)
        .map(|d| {
            json!({
                "uid": d["id"], "name": d["name"], "url": d["url"], "created": d["createdAt"], "createdAt": d["createdAt"],
                "state": d["readyState"], "readyState": d["readyState"], "type": "LAMBDAS", "target": d["target"],
                "meta": d["meta"], "creator": d["creator"], "inspectorUrl": d["inspectorUrl"], "source": "cli",
                "isRollbackCandidate": d["target"] == "production" && d["readyState"] == "READY",
                "projectSettings": {},
            })
        })
        .collect();
    super::json(
        StatusCode::OK,
        json!({ "deployments": items, "pagination": { "count": items.len(), "next": null, "prev": null } }),
    )
}

fn start_job(
    state: &mut VercelState,
    kind: &str,
    project: &str,
    deployment: &str,
) -> Result<(), Response> {
    if project != state.project_id && project != state.project_name {
        return Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Project not found",
        ));
    }
    let Some(d) = state.deployments.iter().find(|d| d["id"] == deployment) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Deployment not found",
        ));
    };
    if d["readyState"] != "READY" {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "deployment_not_ready",
            "The deployment is not ready",
        ));
    }
    let from = state.production.clone();
    state.failed_aliases.clear();
    state.last_alias_request = Some(json!({
        "fromDeploymentId": from, "toDeploymentId": deployment, "jobStatus": "pending",
        "requestedAt": 1_767_225_600_000u64, "type": kind,
    }));
    state.job_polls = 0;
    Ok(())
}

/// `promote` and `rollback` start the same kind of alias job, seen through `rollbackInfo`.
async fn alias_job(
    kind: &'static str,
    s: Shared,
    (project, deployment): (String, String),
    query: BTreeMap<String, String>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    match start_job(&mut state, kind, &project, &deployment) {
        Ok(()) => super::json(StatusCode::CREATED, json!({})),
        Err(e) => e,
    }
}

async fn promote(
    State(s): State<Shared>,
    Path(p): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    alias_job("promote", s, p, q, headers).await
}

async fn rollback(
    State(s): State<Shared>,
    Path(p): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    alias_job("rollback", s, p, q, headers).await
}

async fn get_project(
    State(s): State<Shared>,
    Path(project): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    if project != state.project_id && project != state.project_name {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    if query.get("rollbackInfo").map(String::as_str) == Some("true") {
        state.job_polls += 1;
        let done = state.job_polls > state.polls_until_job_done;
        let mut finished = None;
        let failing = state.fail_next_job.clone();
        if let Some(job) = state.last_alias_request.as_mut()
            && (job["jobStatus"] == "pending" || job["jobStatus"] == "in-progress")
        {
            let outcome = match (done, &failing) {
                (false, _) => "in-progress",
                (true, Some(_)) => "failed",
                (true, None) => "succeeded",
            };
            job["jobStatus"] = outcome.into();
            if outcome == "succeeded" {
                finished = job["toDeploymentId"].as_str().map(str::to_owned);
            }
        }
        if done && let Some(aliases) = failing {
            state.fail_next_job = None;
            state.failed_aliases = aliases;
        }
        if let Some(to) = finished {
            if let Some(d) = state
                .deployments
                .iter_mut()
                .find(|d| d["id"] == to.as_str())
            {
                d["readySubstate"] = "PROMOTED".into();
            }
            state.promoted.insert(to.clone());
            state.production = Some(to);
        }
    }
    // The production domain, served by this fake (a real one: `{name}.vercel.app` or a
    // custom domain).
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let domain = format!("{host}/_production");
    super::json(
        StatusCode::OK,
        json!({
            "id": state.project_id, "name": state.project_name, "accountId": state.team.clone().unwrap_or_else(|| "usr_shipline".into()),
            "alias": [], "nodeVersion": "22.x", "deploymentExpiration": {},
            "resourceConfig": { "functionDefaultRegions": ["iad1"] }, "defaultResourceConfig": { "functionDefaultRegions": ["iad1"] },
            "lastAliasRequest": state.last_alias_request.clone(),
            "targets": { "production": state.production.as_ref().map(|id| json!({ "id": id, "plan": "pro", "readyState": "READY", "type": "LAMBDAS", "alias": [domain] })) },
            "createdAt": 1_767_225_600_000u64, "updatedAt": 1_767_225_600_000u64, "live": false,
        }),
    )
}

/// A `.vercel.app` label may be at most 63 characters.
pub const LABEL_LIMIT: usize = 63;

async fn assign_alias(
    State(s): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    let Some(alias) = body["alias"].as_str().map(str::to_owned) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid request: missing required property `alias`.",
        );
    };
    if alias
        .split('.')
        .any(|label| label.is_empty() || label.len() > LABEL_LIMIT)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_alias",
            "The alias has a label longer than 63 characters",
        );
    }
    if !state.deployments.iter().any(|d| d["id"] == id) {
        return error(StatusCode::NOT_FOUND, "not_found", "Deployment not found");
    }
    let old = state.aliases.insert(alias.clone(), id.clone());
    state.next += 1;
    super::json(
        StatusCode::OK,
        json!({ "uid": format!("als_{:04}", state.next), "alias": alias, "created": "2026-01-01T00:00:00.000Z", "oldDeploymentId": old }),
    )
}

async fn failed_aliases(
    State(s): State<Shared>,
    Path(project): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, &query) {
        return e;
    }
    if project != state.project_id && project != state.project_name {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    let aliases: Vec<Value> = state
        .failed_aliases
        .iter()
        .enumerate()
        .map(|(i, alias)| json!({ "alias": alias, "id": format!("als_f{i:03}"), "status": "failed" }))
        .collect();
    super::json(
        StatusCode::OK,
        json!({ "aliases": aliases, "pagination": { "count": aliases.len(), "next": null, "prev": null } }),
    )
}

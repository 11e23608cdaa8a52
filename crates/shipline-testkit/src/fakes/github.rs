//! GitHub REST: deployments and their statuses, issue and PR comments, issues, the PRs of a
//! commit, the authenticated user. Objects start from `@octokit/openapi`'s own examples
//! (`tests/fixtures/github/`), so their shape is the description's.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, patch, post, put};
use serde_json::{Value, json};

use super::{Routes, ServiceFake, bearer, lock, timestamp};

const DEPLOYMENT: &str = include_str!("../../../../tests/fixtures/github/deployment.json");
const STATUS: &str = include_str!("../../../../tests/fixtures/github/deployment-status.json");
const COMMENT: &str = include_str!("../../../../tests/fixtures/github/issue-comment.json");
const ISSUE: &str = include_str!("../../../../tests/fixtures/github/issue.json");
const PULL: &str = include_str!("../../../../tests/fixtures/github/pull-request-simple.json");
const USER: &str = include_str!("../../../../tests/fixtures/github/user.json");

/// What the fake GitHub knows.
#[derive(Debug)]
pub struct GitHubState {
    /// The token it accepts.
    pub token: String,
    /// The login that token belongs to (a comment's author).
    pub login: String,
    /// A read-only token (a fork PR's): every write answers 403.
    pub read_only: bool,
    pub deployments: Vec<Value>,
    /// Statuses per deployment id, oldest first.
    pub statuses: BTreeMap<u64, Vec<Value>>,
    /// Comments per issue/PR number, oldest first.
    pub comments: BTreeMap<u64, Vec<Value>>,
    pub issues: Vec<Value>,
    /// Open PR numbers whose head is a commit.
    pub pulls_by_commit: BTreeMap<String, Vec<u64>>,
    /// Node ids of the comments collapsed through GraphQL `minimizeComment`.
    pub minimized: Vec<String>,
    /// Branches that exist (the contents API answers 404 for others).
    pub branches: Vec<String>,
    /// Files per `(branch, path)`: the bytes and their blob SHA.
    pub files: BTreeMap<(String, String), (Vec<u8>, String)>,
    /// Before the next `PUT` of this path, another writer appends this line to it (a
    /// concurrent run): the `PUT` then carries a stale SHA and gets 409.
    pub race: Option<(String, String)>,
    /// Repository-level Actions secrets (names only, as the API lists them).
    pub repo_secrets: Vec<String>,
    /// Environment secrets per environment name.
    pub environment_secrets: BTreeMap<String, Vec<String>>,
    /// A token that may not list secrets (`GITHUB_TOKEN` never may): 403 there.
    pub secrets_forbidden: bool,
    /// A classic PAT's scopes, sent as `X-OAuth-Scopes` on the secrets listings.
    pub oauth_scopes: Option<String>,
    clock: u64,
    next_id: u64,
}

impl GitHubState {
    fn tick(&mut self) -> (u64, String) {
        self.next_id += 1;
        self.clock += 1;
        (self.next_id, timestamp(self.clock))
    }

    fn user(&self, login: &str) -> Value {
        let mut user: Value = serde_json::from_str(USER).unwrap();
        user["login"] = login.into();
        let mut simple = json!({});
        for key in [
            "login",
            "id",
            "node_id",
            "avatar_url",
            "gravatar_id",
            "url",
            "html_url",
            "followers_url",
            "following_url",
            "gists_url",
            "starred_url",
            "subscriptions_url",
            "organizations_url",
            "repos_url",
            "events_url",
            "received_events_url",
            "type",
            "site_admin",
        ] {
            simple[key] = user[key].clone();
        }
        simple
    }

    /// Creates a deployment as `POST /repos/{owner}/{repo}/deployments` does (tests seed a
    /// history with it).
    pub fn add_deployment(
        &mut self,
        owner: &str,
        repo: &str,
        git_ref: &str,
        body: &Value,
    ) -> Value {
        let (id, now) = self.tick();
        let environment = body["environment"]
            .as_str()
            .unwrap_or("production")
            .to_owned();
        let mut d: Value = serde_json::from_str(DEPLOYMENT).unwrap();
        let base = format!("https://api.github.com/repos/{owner}/{repo}");
        d["id"] = id.into();
        d["node_id"] = format!("DE_{id}").into();
        d["ref"] = git_ref.into();
        d["sha"] = body["sha"].as_str().unwrap_or(git_ref).into();
        d["task"] = body["task"].as_str().unwrap_or("deploy").into();
        d["payload"] = match &body["payload"] {
            Value::Null => json!({}),
            Value::String(text) => serde_json::from_str(text).unwrap_or(json!({})),
            other => other.clone(),
        };
        d["environment"] = environment.clone().into();
        d["original_environment"] = environment.clone().into();
        d["description"] = body["description"].clone();
        d["creator"] = self.user(&self.login.clone());
        d["created_at"] = now.clone().into();
        d["updated_at"] = now.into();
        d["transient_environment"] = body["transient_environment"]
            .as_bool()
            .unwrap_or(false)
            .into();
        d["production_environment"] = body["production_environment"]
            .as_bool()
            .unwrap_or(environment == "production")
            .into();
        d["url"] = format!("{base}/deployments/{id}").into();
        d["statuses_url"] = format!("{base}/deployments/{id}/statuses").into();
        d["repository_url"] = base.into();
        self.deployments.push(d.clone());
        d
    }

    /// Adds a status to a deployment, as `POST …/statuses` does without `auto_inactive`.
    pub fn add_status(&mut self, id: u64, state: &str, description: &str) {
        let Some(deployment) = self.deployments.iter().find(|d| d["id"] == id).cloned() else {
            return;
        };
        let status = new_status(
            self,
            "acme",
            "webapp",
            &deployment,
            state,
            &json!({ "description": description }),
        );
        self.statuses.entry(id).or_default().push(status);
    }

    /// Adds a comment as another user (to test that only our own marker is trusted).
    pub fn add_comment_by(&mut self, number: u64, login: &str, body: &str) -> u64 {
        let comment = self.new_comment(number, login, body);
        let id = comment["id"].as_u64().unwrap();
        self.comments.entry(number).or_default().push(comment);
        id
    }

    fn new_comment(&mut self, number: u64, login: &str, body: &str) -> Value {
        let (id, now) = self.tick();
        let mut c: Value = serde_json::from_str(COMMENT).unwrap();
        c["id"] = id.into();
        c["node_id"] = format!("IC_{id}").into();
        c["body"] = body.into();
        c["user"] = self.user(login);
        c["created_at"] = now.clone().into();
        c["updated_at"] = now.into();
        c["html_url"] =
            format!("https://github.com/acme/webapp/pull/{number}#issuecomment-{id}").into();
        c["issue_url"] = format!("https://api.github.com/repos/acme/webapp/issues/{number}").into();
        c["url"] = format!("https://api.github.com/repos/acme/webapp/issues/comments/{id}").into();
        c
    }
}

/// The fake GitHub API.
pub type GitHub = ServiceFake<GitHubState>;

type Shared = Arc<Mutex<GitHubState>>;

/// Starts a fake GitHub that accepts `token`.
pub fn start(token: &str) -> GitHub {
    let state = Arc::new(Mutex::new(GitHubState {
        token: token.into(),
        login: "github-actions[bot]".into(),
        read_only: false,
        deployments: Vec::new(),
        statuses: BTreeMap::new(),
        comments: BTreeMap::new(),
        issues: Vec::new(),
        pulls_by_commit: BTreeMap::new(),
        minimized: Vec::new(),
        branches: vec!["main".into()],
        files: BTreeMap::new(),
        race: None,
        repo_secrets: Vec::new(),
        environment_secrets: BTreeMap::new(),
        secrets_forbidden: false,
        oauth_scopes: None,
        clock: 0,
        next_id: 1000,
    }));
    let (router, routes) = Routes::new("")
        .add("get", "/user", get(get_user))
        .add(
            "post",
            "/repos/{owner}/{repo}/deployments",
            post(create_deployment),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/deployments",
            get(list_deployments),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/deployments/{deployment_id}",
            get(get_deployment),
        )
        .add(
            "post",
            "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
            post(create_status),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
            get(list_statuses),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            get(list_comments),
        )
        .add(
            "post",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            post(create_comment),
        )
        .add(
            "patch",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            patch(update_comment),
        )
        .add("post", "/repos/{owner}/{repo}/issues", post(create_issue))
        .add("get", "/repos/{owner}/{repo}/issues", get(list_issues))
        .add(
            "patch",
            "/repos/{owner}/{repo}/issues/{issue_number}",
            patch(update_issue),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
            get(pulls_of_commit),
        )
        .add_as(
            "get",
            "/repos/{owner}/{repo}/contents/{path}",
            "/repos/{owner}/{repo}/contents/{*path}",
            get(get_contents),
        )
        .add_as(
            "put",
            "/repos/{owner}/{repo}/contents/{path}",
            "/repos/{owner}/{repo}/contents/{*path}",
            put(put_contents),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/actions/secrets",
            get(list_repo_secrets),
        )
        .add(
            "get",
            "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
            get(list_environment_secrets),
        )
        .build(state.clone());
    // GraphQL is one endpoint outside the REST description: the two queries notify makes.
    let graphql = axum::Router::new()
        .route("/graphql", post(graphql))
        .with_state(state.clone());
    ServiceFake::start("github", "", state, router.merge(graphql), routes)
}

/// `query { viewer { login } }` and `minimizeComment`, answered as GitHub does: 200 with
/// `errors` for a refused or unknown node, 401 for a bad token.
async fn graphql(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let query = body["query"].as_str().unwrap_or_default();
    if query.contains("minimizeComment") {
        let id = body["variables"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state.read_only {
            return super::json(
                StatusCode::OK,
                json!({ "data": { "minimizeComment": null }, "errors": [{ "type": "FORBIDDEN", "path": ["minimizeComment"], "message": "Resource not accessible by integration" }] }),
            );
        }
        let known = state
            .comments
            .values()
            .flatten()
            .any(|c| c["node_id"] == id.as_str());
        if !known {
            return super::json(
                StatusCode::OK,
                json!({ "data": { "minimizeComment": null }, "errors": [{ "type": "NOT_FOUND", "path": ["minimizeComment"], "message": format!("Could not resolve to a node with the global id of '{id}'") }] }),
            );
        }
        state.minimized.push(id);
        return super::json(
            StatusCode::OK,
            json!({ "data": { "minimizeComment": { "minimizedComment": { "isMinimized": true } } } }),
        );
    }
    if query.contains("viewer") {
        let login = state.login.trim_end_matches("[bot]").to_owned();
        return super::json(
            StatusCode::OK,
            json!({ "data": { "viewer": { "login": login } } }),
        );
    }
    super::json(
        StatusCode::OK,
        json!({ "errors": [{ "message": "the fake GitHub answers only `viewer` and `minimizeComment`" }] }),
    )
}

fn error(status: StatusCode, message: &str) -> Response {
    super::json(
        status,
        json!({ "message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string() }),
    )
}

/// 401 for a wrong token, 403 for a write with a read-only one.
fn check(state: &GitHubState, headers: &HeaderMap, write: bool) -> Result<(), Response> {
    if bearer(headers).as_deref() != Some(state.token.as_str()) {
        return Err(error(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    if write && state.read_only {
        return Err(error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        ));
    }
    Ok(())
}

fn invalid(field: &str) -> Response {
    super::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "message": "Validation Failed",
            "errors": [{ "resource": "Request", "field": field, "code": "missing_field" }],
            "documentation_url": "https://docs.github.com/rest",
            "status": "422",
        }),
    )
}

/// A page of `items` with GitHub's `Link` header (`per_page` at most 100, `page` from 1).
fn page(
    headers: &HeaderMap,
    path: &str,
    query: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> Response {
    let per_page = query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = super::json(StatusCode::OK, Value::Array(slice));
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let link = |n: usize, rel: &str| {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| *k != "page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        q.push(format!("page={n}"));
        format!("<http://{host}{path}?{}>; rel=\"{rel}\"", q.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    if let Some(value) = Some(links.join(", "))
        .filter(|l| !l.is_empty())
        .and_then(|l| HeaderValue::from_str(&l).ok())
    {
        response.headers_mut().insert("link", value);
    }
    response
}

async fn get_user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let mut user: Value = serde_json::from_str(USER).unwrap();
    user["login"] = state.login.clone().into();
    super::json(StatusCode::OK, user)
}

async fn create_deployment(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let Some(git_ref) = body["ref"].as_str() else {
        return invalid("ref");
    };
    let d = state.add_deployment(&owner, &repo, git_ref, &body);
    super::json(StatusCode::CREATED, d)
}

async fn list_deployments(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let items: Vec<Value> = state
        .deployments
        .iter()
        .rev() // newest first, as GitHub lists them
        .filter(|d| {
            ["environment", "sha", "ref", "task"]
                .iter()
                .all(|k| query.get(*k).is_none_or(|v| d[*k] == *v))
        })
        .cloned()
        .collect();
    page(
        &headers,
        &format!("/repos/{owner}/{repo}/deployments"),
        &query,
        items,
    )
}

async fn get_deployment(
    State(s): State<Shared>,
    Path((_, _, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    match state.deployments.iter().find(|d| d["id"] == id) {
        Some(d) => super::json(StatusCode::OK, d.clone()),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

async fn create_status(
    State(s): State<Shared>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let Some(deployment) = state.deployments.iter().find(|d| d["id"] == id).cloned() else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(status_state) = body["state"].as_str().filter(|s| STATES.contains(s)) else {
        return invalid("state");
    };
    let status = new_status(&mut state, &owner, &repo, &deployment, status_state, &body);
    state.statuses.entry(id).or_default().push(status.clone());
    // `auto_inactive` (default true): earlier deployments of the same environment that are
    // neither transient nor production get an `inactive` status.
    if status_state == "success" && body["auto_inactive"].as_bool().unwrap_or(true) {
        let environment = deployment["environment"].clone();
        let earlier: Vec<Value> = state
            .deployments
            .iter()
            .filter(|d| d["id"] != id && d["environment"] == environment)
            .filter(|d| d["transient_environment"] != true && d["production_environment"] != true)
            .cloned()
            .collect();
        for d in earlier {
            let did = d["id"].as_u64().unwrap_or_default();
            let latest = state
                .statuses
                .get(&did)
                .and_then(|s| s.last())
                .map(|s| s["state"].clone());
            if latest.is_some_and(|l| l != "inactive") {
                let inactive = new_status(&mut state, &owner, &repo, &d, "inactive", &json!({}));
                state.statuses.entry(did).or_default().push(inactive);
            }
        }
    }
    super::json(StatusCode::CREATED, status)
}

fn new_status(
    state: &mut GitHubState,
    owner: &str,
    repo: &str,
    deployment: &Value,
    status_state: &str,
    body: &Value,
) -> Value {
    let (sid, now) = state.tick();
    let did = deployment["id"].as_u64().unwrap_or_default();
    let base = format!("https://api.github.com/repos/{owner}/{repo}");
    let mut st: Value = serde_json::from_str(STATUS).unwrap();
    st["id"] = sid.into();
    st["node_id"] = format!("DES_{sid}").into();
    st["state"] = status_state.into();
    st["creator"] = state.user(&state.login.clone());
    st["description"] = body["description"].as_str().unwrap_or("").into();
    st["environment"] = body["environment"]
        .as_str()
        .map(Value::from)
        .unwrap_or(deployment["environment"].clone());
    st["target_url"] = body["target_url"].as_str().unwrap_or("").into();
    st["log_url"] = body["log_url"].as_str().unwrap_or("").into();
    st["environment_url"] = body["environment_url"].as_str().unwrap_or("").into();
    st["created_at"] = now.clone().into();
    st["updated_at"] = now.into();
    st["deployment_url"] = format!("{base}/deployments/{did}").into();
    st["repository_url"] = base.clone().into();
    st["url"] = format!("{base}/deployments/{did}/statuses/{sid}").into();
    st
}

async fn list_statuses(
    State(s): State<Shared>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    if !state.deployments.iter().any(|d| d["id"] == id) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let items: Vec<Value> = state
        .statuses
        .get(&id)
        .map(|s| s.iter().rev().cloned().collect())
        .unwrap_or_default();
    page(
        &headers,
        &format!("/repos/{owner}/{repo}/deployments/{id}/statuses"),
        &query,
        items,
    )
}

async fn list_comments(
    State(s): State<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let items = state.comments.get(&number).cloned().unwrap_or_default();
    page(
        &headers,
        &format!("/repos/{owner}/{repo}/issues/{number}/comments"),
        &query,
        items,
    )
}

/// GitHub's limit on a comment or issue body.
pub const BODY_LIMIT: usize = 65_536;

fn check_body(body: &Value) -> Result<String, Response> {
    let Some(text) = body["body"].as_str() else {
        return Err(invalid("body"));
    };
    if text.chars().count() > BODY_LIMIT {
        return Err(super::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "message": "Validation Failed", "errors": [{ "resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)" }], "documentation_url": "https://docs.github.com/rest", "status": "422" }),
        ));
    }
    Ok(text.to_owned())
}

async fn create_comment(
    State(s): State<Shared>,
    Path((_, _, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let text = match check_body(&body) {
        Ok(text) => text,
        Err(e) => return e,
    };
    let login = state.login.clone();
    let comment = state.new_comment(number, &login, &text);
    state
        .comments
        .entry(number)
        .or_default()
        .push(comment.clone());
    super::json(StatusCode::CREATED, comment)
}

async fn update_comment(
    State(s): State<Shared>,
    Path((_, _, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let text = match check_body(&body) {
        Ok(text) => text,
        Err(e) => return e,
    };
    let (_, now) = state.tick();
    let login = state.login.clone();
    for comment in state.comments.values_mut().flatten() {
        if comment["id"] == id {
            if comment["user"]["login"] != login.as_str() {
                return error(
                    StatusCode::FORBIDDEN,
                    "Resource not accessible by integration",
                );
            }
            comment["body"] = text.into();
            comment["updated_at"] = now.into();
            return super::json(StatusCode::OK, comment.clone());
        }
    }
    error(StatusCode::NOT_FOUND, "Not Found")
}

async fn create_issue(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let Some(title) = body["title"].as_str() else {
        return invalid("title");
    };
    let (id, now) = state.tick();
    let number = state.issues.len() as u64 + 1;
    let base = format!("https://api.github.com/repos/{owner}/{repo}");
    let mut issue: Value = serde_json::from_str(ISSUE).unwrap();
    issue["id"] = id.into();
    issue["node_id"] = format!("I_{id}").into();
    issue["number"] = number.into();
    issue["title"] = title.into();
    issue["body"] = body["body"].clone();
    issue["state"] = "open".into();
    issue["state_reason"] = Value::Null;
    issue["closed_at"] = Value::Null;
    issue["closed_by"] = Value::Null;
    issue["comments"] = 0.into();
    issue["pull_request"] = Value::Null;
    issue.as_object_mut().map(|o| o.remove("pull_request"));
    issue["user"] = state.user(&state.login.clone());
    let labels: Vec<Value> = body["labels"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str())
                .enumerate()
                .map(|(i, name)| label(i as u64 + 1, name))
                .collect()
        })
        .unwrap_or_default();
    issue["labels"] = Value::Array(labels);
    issue["created_at"] = now.clone().into();
    issue["updated_at"] = now.into();
    issue["url"] = format!("{base}/issues/{number}").into();
    issue["html_url"] = format!("https://github.com/{owner}/{repo}/issues/{number}").into();
    issue["repository_url"] = base.clone().into();
    issue["comments_url"] = format!("{base}/issues/{number}/comments").into();
    issue["events_url"] = format!("{base}/issues/{number}/events").into();
    issue["labels_url"] = format!("{base}/issues/{number}/labels{{/name}}").into();
    state.issues.push(issue.clone());
    super::json(StatusCode::CREATED, issue)
}

fn label(id: u64, name: &str) -> Value {
    json!({
        "id": id, "node_id": format!("LA_{id}"), "url": format!("https://api.github.com/repos/acme/webapp/labels/{name}"),
        "name": name, "description": null, "color": "ededed", "default": false
    })
}

async fn list_issues(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let wanted_state = query.get("state").map(String::as_str).unwrap_or("open");
    let wanted_labels: Vec<&str> = query
        .get("labels")
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    let items: Vec<Value> = state
        .issues
        .iter()
        .rev()
        .filter(|i| wanted_state == "all" || i["state"] == wanted_state)
        .filter(|i| {
            wanted_labels.iter().all(|w| {
                i["labels"]
                    .as_array()
                    .is_some_and(|ls| ls.iter().any(|l| l["name"] == *w))
            })
        })
        .cloned()
        .collect();
    page(
        &headers,
        &format!("/repos/{owner}/{repo}/issues"),
        &query,
        items,
    )
}

async fn update_issue(
    State(s): State<Shared>,
    Path((_, _, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let (_, now) = state.tick();
    let login = state.login.clone();
    let closer = state.user(&login);
    let Some(issue) = state.issues.iter_mut().find(|i| i["number"] == number) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    for key in ["title", "body"] {
        if let Some(v) = body.get(key) {
            issue[key] = v.clone();
        }
    }
    if let Some(new_state) = body["state"].as_str() {
        if new_state != "open" && new_state != "closed" {
            return invalid("state");
        }
        issue["state"] = new_state.into();
        if new_state == "closed" {
            issue["closed_at"] = now.clone().into();
            issue["closed_by"] = closer;
            issue["state_reason"] = body["state_reason"].as_str().unwrap_or("completed").into();
        } else {
            issue["closed_at"] = Value::Null;
            issue["state_reason"] = "reopened".into();
        }
    }
    issue["updated_at"] = now.into();
    super::json(StatusCode::OK, issue.clone())
}

async fn pulls_of_commit(
    State(s): State<Shared>,
    Path((_, _, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let pulls: Vec<Value> = state
        .pulls_by_commit
        .get(&sha)
        .into_iter()
        .flatten()
        .map(|number| {
            let mut pr: Value = serde_json::from_str(PULL).unwrap();
            pr["number"] = (*number).into();
            pr["state"] = "open".into();
            pr["head"]["sha"] = sha.clone().into();
            // The published example's team lacks the `type` its own schema requires.
            pr["requested_teams"] = json!([]);
            pr
        })
        .collect();
    super::json(StatusCode::OK, Value::Array(pulls))
}

fn blob_sha(bytes: &[u8]) -> String {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex::encode(h.finalize())
}

fn content_json(path: &str, bytes: &[u8], sha: &str) -> Value {
    use base64::Engine;
    // GitHub wraps the base64 at 60 characters.
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let wrapped: Vec<String> = encoded
        .as_bytes()
        .chunks(60)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    json!({
        "type": "file", "encoding": "base64", "size": bytes.len(),
        "name": path.rsplit('/').next().unwrap_or(path), "path": path,
        "sha": sha, "content": wrapped.join("\n") + "\n",
    })
}

/// `GET /repos/{owner}/{repo}/contents/{path}?ref=`: a file, or 404.
async fn get_contents(
    State(s): State<Shared>,
    Path((_, _, path)): Path<(String, String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    let branch = query.get("ref").cloned().unwrap_or_else(|| "main".into());
    if !state.branches.contains(&branch) {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No commit found for the ref {branch}"),
        );
    }
    match state.files.get(&(branch, path.clone())) {
        Some((bytes, sha)) => super::json(StatusCode::OK, content_json(&path, bytes, sha)),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// `PUT /repos/{owner}/{repo}/contents/{path}`: create (no `sha`) or update (the current
/// `sha`); a stale `sha` is 409, a missing one for an existing file 422, as GitHub answers.
async fn put_contents(
    State(s): State<Shared>,
    Path((_, _, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    use base64::Engine;
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, true) {
        return e;
    }
    let branch = body["branch"].as_str().unwrap_or("main").to_owned();
    if !state.branches.contains(&branch) {
        return error(StatusCode::NOT_FOUND, &format!("Branch {branch} not found"));
    }
    if body["message"].as_str().is_none_or(str::is_empty) {
        return invalid("message");
    }
    let Some(bytes) = body["content"]
        .as_str()
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
    else {
        return invalid("content");
    };
    let key = (branch.clone(), path.clone());
    if let Some((race_path, line)) = state.race.clone()
        && race_path == path
    {
        state.race = None;
        let mut current = state
            .files
            .get(&key)
            .map(|f| f.0.clone())
            .unwrap_or_default();
        current.extend_from_slice(line.as_bytes());
        let sha = blob_sha(&current);
        state.files.insert(key.clone(), (current, sha));
    }
    let sent_sha = body["sha"].as_str();
    let status = match (state.files.get(&key), sent_sha) {
        (Some(_), None) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid request.\n\n\"sha\" wasn't supplied.",
            );
        }
        (Some((_, current)), Some(sent)) if current != sent => {
            return error(
                StatusCode::CONFLICT,
                &format!("{path} does not match {sent}"),
            );
        }
        (Some(_), Some(_)) => StatusCode::OK,
        (None, _) => StatusCode::CREATED,
    };
    let sha = blob_sha(&bytes);
    state.files.insert(key, (bytes.clone(), sha.clone()));
    let (_, now) = state.tick();
    super::json(
        status,
        json!({
            "content": content_json(&path, &bytes, &sha),
            "commit": { "sha": blob_sha(now.as_bytes()), "message": body["message"] },
        }),
    )
}

/// `{ total_count, secrets: [{ name, created_at, updated_at }] }`, with the classic token's
/// scopes in `X-OAuth-Scopes` when set.
fn secrets_answer(state: &GitHubState, names: &[String]) -> Response {
    if state.secrets_forbidden {
        return super::json(
            StatusCode::FORBIDDEN,
            json!({ "message": "Resource not accessible by integration", "status": "403" }),
        );
    }
    let secrets: Vec<Value> = names
        .iter()
        .map(|n| json!({ "name": n, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" }))
        .collect();
    let mut response = super::json(
        StatusCode::OK,
        json!({ "total_count": secrets.len(), "secrets": secrets }),
    );
    if let Some(scopes) = state
        .oauth_scopes
        .as_deref()
        .and_then(|s| axum::http::HeaderValue::from_str(s).ok())
    {
        response.headers_mut().insert("x-oauth-scopes", scopes);
    }
    response
}

async fn list_repo_secrets(
    State(s): State<Shared>,
    Path((_owner, _repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    secrets_answer(&state, &state.repo_secrets)
}

async fn list_environment_secrets(
    State(s): State<Shared>,
    Path((_owner, _repo, environment)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, false) {
        return e;
    }
    match state.environment_secrets.get(&environment) {
        Some(names) => secrets_answer(&state, names),
        None => super::json(StatusCode::NOT_FOUND, json!({ "message": "Not Found" })),
    }
}

//! AWS Amplify Hosting (manual deployments) and the S3 bucket of `artifact-store`. Routes
//! and shapes follow `@aws-sdk/client-amplify` (generated from AWS's Smithy model). Every
//! API and S3 call must carry a valid SigV4 signature, checked here by an implementation of
//! the algorithm of our own (not the crate the code under test signs with).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post, put};
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{Routes, ServiceFake, lock, serve_static, timestamp};

/// One job of a branch.
#[derive(Debug, Clone)]
pub struct Job {
    pub summary: Value,
    /// The zip it deploys, once uploaded (or read from its `sourceUrl`).
    pub zip: Option<Bytes>,
    /// Polls left before a started job succeeds.
    polls: u32,
    started: bool,
}

/// What the fake Amplify (and S3) knows.
#[derive(Debug)]
pub struct AmplifyState {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
    pub app_id: String,
    pub production_branch: String,
    /// Branch → (its JSON, its jobs by id).
    pub branches: BTreeMap<String, (Value, BTreeMap<String, Job>)>,
    /// S3 objects by `bucket/key`.
    pub objects: BTreeMap<String, Bytes>,
    /// Requests whose signature did not verify, with why.
    pub refused: Vec<String>,
    /// The runner's OIDC token service: the bearer it takes and the token it gives.
    pub oidc_request_token: String,
    pub oidc_token: String,
    /// The role STS lets that token assume.
    pub trusted_role: String,
    /// Roles assumed, with their session names.
    pub assumed: Vec<(String, String)>,
    next_job: u64,
}

impl AmplifyState {
    /// The files the branch's active job serves.
    pub fn served(&self, branch: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let (json, jobs) = self.branches.get(branch)?;
        let job = jobs.get(json["activeJobId"].as_str()?)?;
        unzip(job.zip.as_ref()?)
    }

    /// The app as `GetApp` shows it; `host` is where this fake serves branches.
    pub fn app_json(&self, host: &str) -> Value {
        json!({
            "appId": self.app_id, "appArn": format!("arn:aws:amplify:{}:123456789012:apps/{}", self.region, self.app_id),
            "name": "webapp", "description": "", "repository": "", "platform": "WEB",
            "createTime": timestamp(0), "updateTime": timestamp(0), "environmentVariables": {},
            // A real one: `d1a2b3c4d5e6f7.amplifyapp.com`.
            "defaultDomain": host,
            "enableBranchAutoBuild": false, "enableBasicAuth": false,
            "productionBranch": { "branchName": self.production_branch, "status": "SUCCEED", "lastDeployTime": timestamp(1) },
            "customRules": [{ "source": "/<*>", "target": "/index.html", "status": "404-200" }],
        })
    }

    /// Seeds a release as `deploy` leaves it: a succeeded job on `shipline-verify`, its zip
    /// at `s3://<bucket>/<prefix>/<id>.zip`, and production started from that object.
    /// Returns the staged id (`shipline-verify-<job>`).
    pub fn seed_release(&mut self, bucket: &str, prefix: &str, files: &[(&str, &[u8])]) -> String {
        use std::io::Write as _;
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut cursor);
            for (path, content) in files {
                let _ = zip.start_file(*path, zip::write::SimpleFileOptions::default());
                let _ = zip.write_all(content);
            }
            let _ = zip.finish();
        }
        let bytes = Bytes::from(cursor.into_inner());
        if !self.branches.contains_key("shipline-verify") {
            let json = branch_json(&self.app_id, &self.region, "shipline-verify", "DEVELOPMENT");
            self.branches
                .insert("shipline-verify".into(), (json, BTreeMap::new()));
        }
        let finish = |state: &mut AmplifyState, branch: &str, job: &str, zip: Bytes| {
            if let Some((json, jobs)) = state.branches.get_mut(branch) {
                if let Some(j) = jobs.get_mut(job) {
                    j.zip = Some(zip);
                    j.started = true;
                    j.summary["status"] = "SUCCEED".into();
                }
                json["activeJobId"] = job.into();
            }
        };
        let staged_job = new_job(self, "shipline-verify", None).unwrap_or_default();
        finish(self, "shipline-verify", &staged_job, bytes.clone());
        let id = format!("shipline-verify-{staged_job}");
        let key = format!("{bucket}/{prefix}/{id}.zip");
        self.objects.insert(key.clone(), bytes.clone());
        let production = self.production_branch.clone();
        let prod_job = new_job(self, &production, Some(&format!("s3://{key}"))).unwrap_or_default();
        finish(self, &production, &prod_job, bytes);
        id
    }

    /// Seeds a branch, as if made in the console.
    pub fn add_branch(&mut self, name: &str) {
        let json = branch_json(&self.app_id, &self.region, name, "PRODUCTION");
        self.branches
            .insert(name.to_owned(), (json, BTreeMap::new()));
    }
}

/// The entries of a zip, by name.
pub fn unzip(bytes: &[u8]) -> Option<BTreeMap<String, Vec<u8>>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).ok()?;
        let mut content = Vec::new();
        entry.read_to_end(&mut content).ok()?;
        out.insert(entry.name().to_owned(), content);
    }
    Some(out)
}

/// The fake Amplify.
pub type Amplify = ServiceFake<AmplifyState>;

type Shared = Arc<Mutex<AmplifyState>>;

/// Starts a fake Amplify with one app whose production branch is `main`, accepting these
/// credentials in `eu-west-1`.
pub fn start(access_key_id: &str, secret_access_key: &str, session_token: Option<&str>) -> Amplify {
    let mut state = AmplifyState {
        access_key_id: access_key_id.into(),
        secret_access_key: secret_access_key.into(),
        session_token: session_token.map(str::to_owned),
        region: "eu-west-1".into(),
        app_id: "d1a2b3c4d5e6f7".into(),
        production_branch: "main".into(),
        branches: BTreeMap::new(),
        objects: BTreeMap::new(),
        refused: Vec::new(),
        oidc_request_token: "runner-oidc-request-token".into(),
        oidc_token: "eyJhbGciOiJSUzI1NiJ9.github-oidc.sig".into(),
        trusted_role: "arn:aws:iam::123456789012:role/shipline-deploy".into(),
        assumed: Vec::new(),
        next_job: 0,
    };
    state.add_branch("main");
    let state = Arc::new(Mutex::new(state));
    let (router, routes) = Routes::new("")
        .add("get", "/apps/{appId}", get(get_app))
        .add(
            "get",
            "/apps/{appId}/branches/{branchName}",
            get(get_branch),
        )
        .add("post", "/apps/{appId}/branches", post(create_branch))
        .add(
            "post",
            "/apps/{appId}/branches/{branchName}/deployments",
            post(create_deployment),
        )
        .add(
            "post",
            "/apps/{appId}/branches/{branchName}/deployments/start",
            post(start_deployment),
        )
        .add(
            "get",
            "/apps/{appId}/branches/{branchName}/jobs/{jobId}",
            get(get_job),
        )
        .build(state.clone());
    // Not part of the API: the presigned upload URL `zipUploadUrl` points at, the S3 bucket
    // (`AWS_ENDPOINT_URL_S3` = `<base>/_s3`), and each branch's site
    // (a real one: `https://<branch>.<defaultDomain>`).
    let others = axum::Router::new()
        .route("/_upload/{branch}/{job}", put(upload_zip))
        .route(
            "/_s3/{bucket}/{*key}",
            put(s3_put).head(s3_head).get(s3_get),
        )
        .route("/_oidc/token", get(oidc_token))
        .route("/_sts/", post(assume_role))
        .route("/_branches/{branch}/", get(serve_branch_root))
        .route("/_branches/{branch}/{*path}", get(serve_branch))
        .with_state(state.clone());
    ServiceFake::start("amplify", "", state, router.merge(others), routes)
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut response = super::json(status, json!({ "message": message }));
    if let Ok(v) = kind.parse() {
        response.headers_mut().insert("x-amzn-errortype", v);
    }
    response
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else `%XX`.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Checks the request's SigV4 signature for `service`, recomputed from what arrived.
pub fn verify_sigv4(
    state: &AmplifyState,
    service: &str,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or("no Authorization header")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let mut parts = BTreeMap::new();
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or("malformed Authorization")?;
        parts.insert(k, v);
    }
    let credential = parts.get("Credential").ok_or("no Credential")?;
    let scope_parts: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, svc, "aws4_request"] = scope_parts[..] else {
        return Err(format!("bad credential scope `{credential}`"));
    };
    if akid != state.access_key_id {
        return Err("unknown access key id".into());
    }
    if region != state.region || svc != service {
        return Err(format!("signed for {svc} in {region}"));
    }
    if let Some(token) = &state.session_token
        && header("x-amz-security-token") != Some(token.as_str())
    {
        return Err("the session token is missing or wrong".into());
    }
    let amz_date = header("x-amz-date").ok_or("no x-amz-date")?;
    if !amz_date.starts_with(date) {
        return Err("x-amz-date is not the scope's date".into());
    }
    let signed_headers = parts.get("SignedHeaders").ok_or("no SignedHeaders")?;
    if !signed_headers.split(';').any(|h| h == "host") {
        return Err("host is not signed".into());
    }
    let canonical_headers: String = signed_headers
        .split(';')
        .map(|name| {
            let value = headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(",");
            format!("{name}:{value}\n")
        })
        .collect();
    let path = uri.path();
    // S3 signs the path as sent; other services encode the sent path once more.
    let canonical_uri = if service == "s3" {
        path.to_owned()
    } else {
        uri_encode(path, true)
    };
    let mut query: Vec<(String, String)> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let payload = match header("x-amz-content-sha256") {
        Some(declared) => {
            if declared != hex::encode(Sha256::digest(body)) {
                return Err("x-amz-content-sha256 does not match the body".into());
            }
            declared.to_owned()
        }
        None if service == "s3" => return Err("S3 needs x-amz-content-sha256".into()),
        None => hex::encode(Sha256::digest(body)),
    };
    let canonical = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}"
    );
    let scope = format!("{date}/{region}/{svc}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", state.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, svc, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex::encode(hmac(&key, to_sign.as_bytes()));
    if parts.get("Signature") != Some(&expected.as_str()) {
        return Err("the signature does not match".into());
    }
    Ok(())
}

/// Verifies the signature and the app id, as the API would before anything else.
fn check(
    state: &mut AmplifyState,
    request: (&Method, &axum::http::Uri, &HeaderMap, &[u8]),
    app: &str,
) -> Result<(), Response> {
    let (method, uri, headers, body) = request;
    if let Err(why) = verify_sigv4(state, "amplify", method, uri, headers, body) {
        state
            .refused
            .push(format!("{method} {}: {why}", uri.path()));
        return Err(error(
            StatusCode::FORBIDDEN,
            "UnauthorizedException",
            &format!(
                "The request signature we calculated does not match the signature you provided: {why}"
            ),
        ));
    }
    if app != state.app_id {
        return Err(error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("App {app} not found"),
        ));
    }
    Ok(())
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

fn branch_json(app: &str, region: &str, name: &str, stage: &str) -> Value {
    json!({
        "branchArn": format!("arn:aws:amplify:{region}:123456789012:apps/{app}/branches/{name}"),
        "branchName": name, "description": "", "stage": stage, "displayName": name.replace('/', "-"),
        "enableNotification": false, "createTime": timestamp(0), "updateTime": timestamp(0),
        "environmentVariables": {}, "enableAutoBuild": false, "customDomains": [], "framework": "Web",
        "activeJobId": "", "totalNumberOfJobs": "0", "enableBasicAuth": false, "ttl": "5",
        "enablePullRequestPreview": false,
    })
}

async fn get_app(
    State(s): State<Shared>,
    Path(app): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&mut state, (&method, &uri, &headers, &body), &app) {
        return e;
    }
    super::json(
        StatusCode::OK,
        json!({ "app": state.app_json(&host(&headers)) }),
    )
}

async fn get_branch(
    State(s): State<Shared>,
    Path((app, name)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&mut state, (&method, &uri, &headers, &body), &app) {
        return e;
    }
    match state.branches.get(&name) {
        Some((json, _)) => super::json(StatusCode::OK, json!({ "branch": json })),
        None => error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Branch {name} not found"),
        ),
    }
}

async fn create_branch(
    State(s): State<Shared>,
    Path(app): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&mut state, (&method, &uri, &headers, &body), &app) {
        return e;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(name) = request["branchName"].as_str() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "branchName is required",
        );
    };
    if state.branches.contains_key(name) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Branch already exists",
        );
    }
    let json = branch_json(
        &state.app_id,
        &state.region,
        name,
        request["stage"].as_str().unwrap_or("NONE"),
    );
    state
        .branches
        .insert(name.to_owned(), (json.clone(), BTreeMap::new()));
    super::json(StatusCode::OK, json!({ "branch": json }))
}

fn new_job(state: &mut AmplifyState, branch: &str, source: Option<&str>) -> Option<String> {
    state.next_job += 1;
    let id = state.next_job.to_string();
    let (app, region) = (state.app_id.clone(), state.region.clone());
    let (_, jobs) = state.branches.get_mut(branch)?;
    let mut summary = json!({
        "jobArn": format!("arn:aws:amplify:{region}:123456789012:apps/{app}/branches/{branch}/jobs/{id:0>10}"),
        "jobId": id, "commitId": "HEAD", "commitMessage": "", "commitTime": timestamp(0),
        "startTime": timestamp(0), "status": "PENDING", "jobType": "MANUAL",
    });
    if let Some(url) = source {
        summary["sourceUrl"] = url.into();
        summary["sourceUrlType"] = "ZIP".into();
    }
    jobs.insert(
        id.clone(),
        Job {
            summary,
            zip: None,
            polls: 1,
            started: false,
        },
    );
    Some(id)
}

async fn create_deployment(
    State(s): State<Shared>,
    Path((app, branch)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&mut state, (&method, &uri, &headers, &body), &app) {
        return e;
    }
    let Some(id) = new_job(&mut state, &branch, None) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Branch {branch} not found"),
        );
    };
    let host = host(&headers);
    super::json(
        StatusCode::OK,
        json!({
            "jobId": id, "fileUploadUrls": {},
            // A real one: a presigned S3 URL.
            "zipUploadUrl": format!("http://{host}/_upload/{branch}/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=presigned"),
        }),
    )
}

async fn upload_zip(
    State(s): State<Shared>,
    Path((branch, job)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if !uri.query().unwrap_or_default().contains("X-Amz-Signature=") {
        return (StatusCode::FORBIDDEN, "not a presigned URL").into_response();
    }
    if headers.contains_key("authorization") {
        // S3 refuses a presigned URL that also carries an Authorization header.
        return (StatusCode::BAD_REQUEST, "Only one auth mechanism allowed").into_response();
    }
    if unzip(&body).is_none() {
        return (StatusCode::BAD_REQUEST, "not a zip").into_response();
    }
    match state
        .branches
        .get_mut(&branch)
        .and_then(|(_, jobs)| jobs.get_mut(&job))
    {
        Some(j) => {
            j.zip = Some(body);
            (StatusCode::OK, "").into_response()
        }
        None => (StatusCode::NOT_FOUND, "NoSuchUpload").into_response(),
    }
}

async fn start_deployment(
    State(s): State<Shared>,
    Path((app, branch)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&mut state, (&method, &uri, &headers, &body), &app) {
        return e;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = match (request["jobId"].as_str(), request["sourceUrl"].as_str()) {
        (Some(job), _) => {
            let Some(j) = state
                .branches
                .get_mut(&branch)
                .and_then(|(_, jobs)| jobs.get_mut(job))
            else {
                return error(
                    StatusCode::NOT_FOUND,
                    "NotFoundException",
                    &format!("Job {job} not found"),
                );
            };
            if j.zip.is_none() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "BadRequestException",
                    "The deployment's zip was never uploaded",
                );
            }
            job.to_owned()
        }
        (None, Some(url)) => {
            // Amplify reads the object itself (the bucket policy lets it).
            let Some(object) = url
                .strip_prefix("s3://")
                .and_then(|k| state.objects.get(k))
                .cloned()
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "BadRequestException",
                    &format!("Cannot read {url}"),
                );
            };
            let Some(id) = new_job(&mut state, &branch, Some(url)) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "NotFoundException",
                    &format!("Branch {branch} not found"),
                );
            };
            if let Some(j) = state
                .branches
                .get_mut(&branch)
                .and_then(|(_, jobs)| jobs.get_mut(&id))
            {
                j.zip = Some(object);
            }
            id
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                "jobId or sourceUrl is required",
            );
        }
    };
    let Some(j) = state
        .branches
        .get_mut(&branch)
        .and_then(|(_, jobs)| jobs.get_mut(&id))
    else {
        return error(StatusCode::NOT_FOUND, "NotFoundException", "Job not found");
    };
    j.started = true;
    j.summary["status"] = "RUNNING".into();
    super::json(StatusCode::OK, json!({ "jobSummary": j.summary }))
}

async fn get_job(
    State(s): State<Shared>,
    Path((app, branch, job)): Path<(String, String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&mut state, (&method, &uri, &headers, &body), &app) {
        return e;
    }
    let Some((branch_json, jobs)) = state.branches.get_mut(&branch) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Branch {branch} not found"),
        );
    };
    let Some(j) = jobs.get_mut(&job) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Job {job} not found"),
        );
    };
    if j.started && j.summary["status"] == "RUNNING" {
        if j.polls > 0 {
            j.polls -= 1;
        } else {
            j.summary["status"] = "SUCCEED".into();
            j.summary["endTime"] = timestamp(2).into();
            branch_json["activeJobId"] = job.clone().into();
        }
    }
    let summary = j.summary.clone();
    super::json(
        StatusCode::OK,
        json!({ "job": { "summary": summary, "steps": [{
            "stepName": "DEPLOY", "startTime": timestamp(1), "status": summary["status"], "endTime": timestamp(2),
        }] } }),
    )
}

fn s3_check(
    state: &mut AmplifyState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Response> {
    verify_sigv4(state, "s3", method, uri, headers, body).map_err(|why| {
        state
            .refused
            .push(format!("{method} {}: {why}", uri.path()));
        (
            StatusCode::FORBIDDEN,
            format!("SignatureDoesNotMatch: {why}"),
        )
            .into_response()
    })
}

async fn s3_put(
    State(s): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = s3_check(&mut state, &method, &uri, &headers, &body) {
        return e;
    }
    state.objects.insert(format!("{bucket}/{key}"), body);
    (StatusCode::OK, "").into_response()
}

async fn s3_head(
    State(s): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = s3_check(&mut state, &method, &uri, &headers, b"") {
        return e;
    }
    if state.objects.contains_key(&format!("{bucket}/{key}")) {
        StatusCode::OK.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn s3_get(
    State(s): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = s3_check(&mut state, &method, &uri, &headers, b"") {
        return e;
    }
    match state.objects.get(&format!("{bucket}/{key}")) {
        Some(b) => (StatusCode::OK, b.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The runner's token service (`ACTIONS_ID_TOKEN_REQUEST_URL`).
async fn oidc_token(
    State(s): State<Shared>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if super::bearer(&headers).as_deref() != Some(state.oidc_request_token.as_str()) {
        return (StatusCode::UNAUTHORIZED, "bad request token").into_response();
    }
    if !uri
        .query()
        .unwrap_or_default()
        .contains("audience=sts.amazonaws.com")
    {
        return (
            StatusCode::BAD_REQUEST,
            "the audience must be sts.amazonaws.com",
        )
            .into_response();
    }
    super::json(
        StatusCode::OK,
        json!({ "count": 1, "value": state.oidc_token }),
    )
}

/// STS `AssumeRoleWithWebIdentity`: the trusted role for the runner's token gives temporary
/// credentials, which are then the only ones the API accepts.
async fn assume_role(State(s): State<Shared>, body: Bytes) -> Response {
    let mut state = lock(&s);
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if field("Action") != "AssumeRoleWithWebIdentity" || field("Version") != "2011-06-15" {
        return (
            StatusCode::BAD_REQUEST,
            "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>",
        )
            .into_response();
    }
    if field("WebIdentityToken") != state.oidc_token || field("RoleArn") != state.trusted_role {
        return (
            StatusCode::FORBIDDEN,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>",
        )
            .into_response();
    }
    let n = state.assumed.len() + 1;
    state.assumed.push((
        field("RoleArn").to_owned(),
        field("RoleSessionName").to_owned(),
    ));
    state.access_key_id = format!("ASIATEMPORARY{n:07}");
    state.secret_access_key = format!("temporary/secret+{n}");
    state.session_token = Some(format!("FwoGZXIvYXdzEtemporary-session-{n}"));
    let xml = format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>2026-12-03T20:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>{}/{}</Arn></AssumedRoleUser></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        state.access_key_id,
        state.secret_access_key,
        state.session_token.clone().unwrap_or_default(),
        field("RoleArn"),
        field("RoleSessionName"),
    );
    (StatusCode::OK, [("content-type", "text/xml")], xml).into_response()
}

fn serve(state: &AmplifyState, branch: &str, path: &str) -> Response {
    let files = state.served(branch).unwrap_or_default();
    // The app's rewrite (`/<*>` → `/index.html`, 404-200) serves client routes.
    serve_static(
        path,
        |p| files.get(p).map(|b| Bytes::from(b.clone())),
        || !files.is_empty(),
        "Not found",
    )
}

async fn serve_branch_root(State(s): State<Shared>, Path(branch): Path<String>) -> Response {
    serve(&lock(&s), &branch, "")
}

async fn serve_branch(
    State(s): State<Shared>,
    Path((branch, path)): Path<(String, String)>,
) -> Response {
    serve(&lock(&s), &branch, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published example (IAM `ListUsers`, "Create a signed AWS API request",
    /// the SigV4 documentation's canonical-request walk-through): the verifier
    /// computes the signature the documentation gives.
    #[test]
    fn the_verifier_agrees_with_the_aws_documentation_example() {
        let state = AmplifyState {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            region: "us-east-1".into(),
            app_id: String::new(),
            production_branch: String::new(),
            branches: BTreeMap::new(),
            objects: BTreeMap::new(),
            refused: Vec::new(),
            oidc_request_token: String::new(),
            oidc_token: String::new(),
            trusted_role: String::new(),
            assumed: Vec::new(),
            next_job: 0,
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7".parse().unwrap());
        let uri: axum::http::Uri = "/?Action=ListUsers&Version=2010-05-08".parse().unwrap();
        assert_eq!(
            verify_sigv4(&state, "iam", &Method::GET, &uri, &headers, b""),
            Ok(())
        );
        let mut wrong = headers.clone();
        wrong.insert("x-amz-date", "20150830T123601Z".parse().unwrap());
        assert!(verify_sigv4(&state, "iam", &Method::GET, &uri, &wrong, b"").is_err());
    }
}

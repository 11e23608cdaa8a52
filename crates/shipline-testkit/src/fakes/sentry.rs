//! Sentry: create a release, record a deploy of it (`/api/0/organizations/{org}/releases/…`),
//! and take source maps as an artifact bundle: the chunk-upload options, chunks by SHA-1,
//! `artifactbundle/assemble` (what `sentry-cli sourcemaps upload` calls).

use std::sync::{Arc, Mutex};

use std::collections::BTreeMap;
use std::io::Read as _;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha1::Digest as _;

use super::{Routes, ServiceFake, bearer, lock, timestamp};

/// What the fake Sentry knows.
#[derive(Debug)]
pub struct SentryState {
    pub token: String,
    pub org: String,
    pub releases: Vec<Value>,
    pub deploys: Vec<Value>,
    /// Uploaded chunks by SHA-1.
    pub chunks: BTreeMap<String, Bytes>,
    pub bundles: Vec<ArtifactBundle>,
    /// `assemble` calls that answer `assembling` before a bundle is `ok`.
    pub assembling_polls: u32,
}

/// An artifact bundle Sentry assembled, unpacked.
#[derive(Debug, Clone)]
pub struct ArtifactBundle {
    pub checksum: String,
    pub projects: Value,
    pub version: Option<String>,
    /// `manifest.json`.
    pub manifest: Value,
    /// The zip's other entries by name (`files/_/_/assets/app.js`).
    pub files: BTreeMap<String, Vec<u8>>,
}

impl ArtifactBundle {
    /// Unpacks a bundle: the `SYSB` header, then a zip with `manifest.json`.
    fn parse(checksum: String, body: &Value, bytes: &[u8]) -> Result<ArtifactBundle, String> {
        let zip = bytes
            .strip_prefix(b"SYSB")
            .filter(|rest| rest.len() > 4 && rest[..4] == 2u32.to_le_bytes())
            .map(|rest| &rest[4..])
            .ok_or("not an artifact bundle (no SYSB version 2 header)")?;
        let mut archive =
            zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|e| e.to_string())?;
        let mut manifest = Value::Null;
        let mut files = BTreeMap::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(|e| e.to_string())?;
            if entry.name() == "manifest.json" {
                manifest = serde_json::from_slice(&content).map_err(|e| e.to_string())?;
            } else {
                files.insert(entry.name().to_owned(), content);
            }
        }
        let listed = manifest["files"]
            .as_object()
            .ok_or("manifest.json has no `files`")?;
        for name in listed.keys() {
            if !files.contains_key(name) {
                return Err(format!("the manifest lists `{name}`, which the zip lacks"));
            }
        }
        Ok(ArtifactBundle {
            checksum,
            projects: body["projects"].clone(),
            version: body["version"].as_str().map(str::to_owned),
            manifest,
            files,
        })
    }
}

/// The fake Sentry.
pub type Sentry = ServiceFake<SentryState>;

type Shared = Arc<Mutex<SentryState>>;

/// Starts a fake Sentry for organization `org`.
pub fn start(token: &str, org: &str) -> Sentry {
    let state = Arc::new(Mutex::new(SentryState {
        token: token.into(),
        org: org.into(),
        releases: Vec::new(),
        deploys: Vec::new(),
        chunks: BTreeMap::new(),
        bundles: Vec::new(),
        assembling_polls: 1,
    }));
    let (router, routes) = Routes::new("")
        .add(
            "post",
            "/api/0/organizations/{organization_id_or_slug}/releases/",
            post(create_release),
        )
        .add(
            "post",
            "/api/0/organizations/{organization_id_or_slug}/releases/{version}/deploys/",
            post(create_deploy),
        )
        .add(
            "get",
            "/api/0/organizations/{organization_id_or_slug}/chunk-upload/",
            get(chunk_options).post(upload_chunks),
        )
        .add(
            "post",
            "/api/0/organizations/{organization_id_or_slug}/artifactbundle/assemble/",
            post(assemble),
        )
        .build(state.clone());
    ServiceFake::start("sentry", "", state, router, routes)
}

fn check(state: &SentryState, headers: &HeaderMap, org: &str) -> Result<(), Response> {
    if bearer(headers).as_deref() != Some(state.token.as_str()) {
        return Err(super::json(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Invalid token" }),
        ));
    }
    if org != state.org {
        return Err(super::json(
            StatusCode::NOT_FOUND,
            json!({ "detail": "The requested resource does not exist" }),
        ));
    }
    Ok(())
}

async fn create_release(
    State(s): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &org) {
        return e;
    }
    let (Some(version), Some(projects)) = (body["version"].as_str(), body["projects"].as_array())
    else {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "version": ["This field is required."], "projects": ["This field is required."] }),
        );
    };
    if let Some(existing) = state.releases.iter().find(|r| r["version"] == version) {
        return super::json(StatusCode::OK, existing.clone());
    }
    let release = json!({
        "version": version, "shortVersion": version, "ref": body["ref"], "url": body["url"],
        "dateCreated": timestamp(state.releases.len() as u64), "dateReleased": null, "projects": projects,
    });
    state.releases.push(release.clone());
    super::json(StatusCode::CREATED, release)
}

async fn create_deploy(
    State(s): State<Shared>,
    Path((org, version)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &org) {
        return e;
    }
    if !state
        .releases
        .iter()
        .any(|r| r["version"] == version.as_str())
    {
        return super::json(
            StatusCode::NOT_FOUND,
            json!({ "detail": "The requested resource does not exist" }),
        );
    }
    let Some(environment) = body["environment"].as_str() else {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "environment": ["This field is required."] }),
        );
    };
    let deploy = json!({ "id": (state.deploys.len() + 1).to_string(), "environment": environment, "name": body["name"], "url": body["url"], "dateStarted": body["dateStarted"], "dateFinished": body["dateFinished"], "release": version });
    state.deploys.push(deploy.clone());
    super::json(StatusCode::CREATED, deploy)
}

/// Small chunks, so a test bundle spans several of them.
pub const CHUNK_SIZE: usize = 1024;

async fn chunk_options(
    State(s): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(e) = check(&state, &headers, &org) {
        return e;
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    super::json(
        StatusCode::OK,
        json!({
            "url": format!("http://{host}/api/0/organizations/{org}/chunk-upload/"),
            "chunkSize": CHUNK_SIZE, "chunksPerRequest": 4, "maxFileSize": 2_147_483_648u64,
            "maxRequestSize": 33_554_432, "concurrency": 1, "hashAlgorithm": "sha1",
            "compression": ["gzip"],
            "accept": ["debug_files", "release_files", "pdbs", "sources", "bcsymbolmaps", "il2cpp", "portablepdbs", "artifact_bundles", "proguard"],
        }),
    )
}

async fn upload_chunks(
    State(s): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &org) {
        return e;
    }
    let Some(parts) = super::multipart(&headers, &body) else {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "detail": "expected multipart/form-data" }),
        );
    };
    for part in parts {
        let hash = hex::encode(sha1::Sha1::digest(&part.bytes));
        // The part's file name is the chunk's SHA-1; a mismatch is a corrupt upload.
        if part.name != "file" || part.filename.as_deref() != Some(hash.as_str()) {
            return super::json(
                StatusCode::BAD_REQUEST,
                json!({ "detail": format!("chunk {:?} does not match its checksum", part.filename) }),
            );
        }
        state.chunks.insert(hash, Bytes::from(part.bytes));
    }
    (StatusCode::OK, "").into_response()
}

async fn assemble(
    State(s): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if let Err(e) = check(&state, &headers, &org) {
        return e;
    }
    let (Some(checksum), Some(chunks), Some(_)) = (
        body["checksum"].as_str(),
        body["chunks"].as_array(),
        body["projects"].as_array(),
    ) else {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "error": "checksum, chunks and projects are required" }),
        );
    };
    if state.bundles.iter().any(|b| b.checksum == checksum) {
        return super::json(
            StatusCode::OK,
            json!({ "state": "ok", "missingChunks": [], "detail": null }),
        );
    }
    let names: Vec<&str> = chunks.iter().filter_map(Value::as_str).collect();
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|h| !state.chunks.contains_key(*h))
        .collect();
    if !missing.is_empty() {
        return super::json(
            StatusCode::OK,
            json!({ "state": "not_found", "missingChunks": missing, "detail": null }),
        );
    }
    if state.assembling_polls > 0 {
        state.assembling_polls -= 1;
        return super::json(
            StatusCode::OK,
            json!({ "state": "assembling", "missingChunks": [], "detail": null }),
        );
    }
    let bytes: Vec<u8> = names
        .iter()
        .flat_map(|h| state.chunks[*h].to_vec())
        .collect();
    if hex::encode(sha1::Sha1::digest(&bytes)) != checksum {
        return super::json(
            StatusCode::OK,
            json!({ "state": "error", "missingChunks": [], "detail": "checksum mismatch" }),
        );
    }
    match ArtifactBundle::parse(checksum.to_owned(), &body, &bytes) {
        Ok(bundle) => {
            state.bundles.push(bundle);
            super::json(
                StatusCode::OK,
                json!({ "state": "ok", "missingChunks": [], "detail": null }),
            )
        }
        Err(detail) => super::json(
            StatusCode::OK,
            json!({ "state": "error", "missingChunks": [], "detail": detail }),
        ),
    }
}

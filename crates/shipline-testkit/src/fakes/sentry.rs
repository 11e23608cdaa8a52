//! Sentry: create a release, record a deploy of it (`/api/0/organizations/{org}/releases/…`).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use super::{Routes, ServiceFake, bearer, lock, timestamp};

/// What the fake Sentry knows.
#[derive(Debug)]
pub struct SentryState {
    pub token: String,
    pub org: String,
    pub releases: Vec<Value>,
    pub deploys: Vec<Value>,
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

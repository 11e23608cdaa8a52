//! The Supabase Management API's backup listing (`GET /v1/projects/{ref}/database/backups`),
//! shaped as `V1BackupsResponse`, and `restore-pitr`, which only the runbook's own command
//! calls: shipline never restores (the backup-check tests assert it sends one GET and nothing
//! else).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Routes, ServiceFake, bearer, lock};

/// What the fake Supabase knows.
#[derive(Debug)]
pub struct SupabaseState {
    pub token: String,
    pub project_ref: String,
    /// The whole `V1BackupsResponse` body, for tests to shape.
    pub backups: Value,
    /// The bodies of `restore-pitr` requests (the runbook's command; shipline never restores).
    pub restores: Vec<Value>,
}

/// The fake Management API.
pub type Supabase = ServiceFake<SupabaseState>;

type Shared = Arc<Mutex<SupabaseState>>;

/// Starts a fake with one project whose backups are an empty, PITR-off list.
pub fn start(token: &str, project_ref: &str) -> Supabase {
    let state = Arc::new(Mutex::new(SupabaseState {
        token: token.into(),
        project_ref: project_ref.into(),
        backups: json!({
            "region": "us-east-1", "walg_enabled": true, "pitr_enabled": false,
            "backups": [], "physical_backup_data": {},
        }),
        restores: Vec::new(),
    }));
    let (router, routes) = Routes::new("")
        .add(
            "get",
            "/v1/projects/{ref}/database/backups",
            get(list_backups),
        )
        .add(
            "post",
            "/v1/projects/{ref}/database/backups/restore-pitr",
            post(restore_pitr),
        )
        .build(state.clone());
    ServiceFake::start("supabase", "", state, router, routes)
}

/// `V1RestorePitrBody`: `recovery_time_target_unix`, an int64; 201 with no body.
async fn restore_pitr(
    State(s): State<Shared>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut state = lock(&s);
    if let Err(refused) = authorize(&state, &headers, &project) {
        return refused;
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    match parsed {
        Some(body) if body["recovery_time_target_unix"].is_i64() => {
            state.restores.push(body);
            StatusCode::CREATED.into_response()
        }
        _ => super::json(
            StatusCode::BAD_REQUEST,
            json!({ "message": "recovery_time_target_unix must be an integer" }),
        ),
    }
}

/// 401 for another token, 404 for another project, as the Management API answers.
fn authorize(state: &SupabaseState, headers: &HeaderMap, project: &str) -> Result<(), Response> {
    if bearer(headers).as_deref() != Some(state.token.as_str()) {
        return Err(super::json(
            StatusCode::UNAUTHORIZED,
            json!({ "message": "Unauthorized" }),
        ));
    }
    if project != state.project_ref {
        return Err(super::json(
            StatusCode::NOT_FOUND,
            json!({ "message": "Project not found" }),
        ));
    }
    Ok(())
}

async fn list_backups(
    State(s): State<Shared>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Response {
    let state = lock(&s);
    if let Err(refused) = authorize(&state, &headers, &project) {
        return refused;
    }
    super::json(StatusCode::OK, state.backups.clone())
}

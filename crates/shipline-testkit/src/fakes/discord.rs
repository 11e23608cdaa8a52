//! Discord webhooks: `POST /api/webhooks/{id}/{token}`, `?wait=true` returning the message.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::{Routes, ServiceFake, lock};

/// What the fake Discord knows.
#[derive(Debug, Default)]
pub struct DiscordState {
    /// The webhook token in the URL.
    pub token: String,
    pub messages: Vec<Value>,
}

/// The fake Discord.
pub type Discord = ServiceFake<DiscordState>;

type Shared = Arc<Mutex<DiscordState>>;

/// Starts a fake Discord whose webhook is `/api/webhooks/1234/<token>`.
pub fn start(token: &str) -> Discord {
    let state = Arc::new(Mutex::new(DiscordState {
        token: token.into(),
        messages: Vec::new(),
    }));
    let (router, routes) = Routes::new("")
        .add(
            "post",
            "/api/webhooks/{webhook_id}/{webhook_token}",
            post(execute),
        )
        .build(state.clone());
    ServiceFake::start("discord", "", state, router, routes)
}

async fn execute(
    State(s): State<Shared>,
    Path((_, token)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if token != state.token {
        return super::json(
            StatusCode::UNAUTHORIZED,
            json!({ "message": "Invalid Webhook Token", "code": 50027 }),
        );
    }
    let empty = body["content"].as_str().is_none_or(str::is_empty)
        && body["embeds"].as_array().is_none_or(Vec::is_empty);
    if empty {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "message": "Cannot send an empty message", "code": 50006 }),
        );
    }
    if body["embeds"].as_array().is_some_and(|e| e.len() > 10) {
        return super::json(
            StatusCode::BAD_REQUEST,
            json!({ "message": "Invalid Form Body", "code": 50035 }),
        );
    }
    let id = format!(
        "{}",
        1_100_000_000_000_000_000u64 + state.messages.len() as u64
    );
    let message = json!({ "id": id, "type": 0, "content": body["content"], "embeds": body["embeds"], "channel_id": "555" });
    state.messages.push(message.clone());
    if query.get("wait").map(String::as_str) == Some("true") {
        super::json(StatusCode::OK, message)
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

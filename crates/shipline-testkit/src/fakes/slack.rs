//! Slack: the Web API's `chat.postMessage` and `chat.update` (bot token, channels the bot
//! was invited to), and incoming webhooks. Errors as Slack gives them: HTTP 200, `ok: false`.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::{Routes, ServiceFake, bearer, lock};

/// What the fake Slack knows.
#[derive(Debug)]
pub struct SlackState {
    pub token: String,
    /// Channels the bot is in; others answer `not_in_channel`.
    pub channels: Vec<String>,
    /// Messages posted or updated: `{channel, ts, text, blocks, thread_ts}`.
    pub messages: Vec<Value>,
    /// Bodies received by the incoming webhook.
    pub webhook_posts: Vec<Value>,
    next: u64,
}

/// The fake Slack.
pub type Slack = ServiceFake<SlackState>;

type Shared = Arc<Mutex<SlackState>>;

/// Starts a fake Slack whose bot (`token`) is in `#deploys` (`C0DEPLOYS`).
pub fn start(token: &str) -> Slack {
    let state = Arc::new(Mutex::new(SlackState {
        token: token.into(),
        channels: vec!["C0DEPLOYS".into(), "deploys".into()],
        messages: Vec::new(),
        webhook_posts: Vec::new(),
        next: 0,
    }));
    let (router, routes) = Routes::new("")
        .add("post", "/chat.postMessage", post(post_message))
        .add("post", "/chat.update", post(update))
        .add_as(
            "post",
            "/services/{path}",
            "/services/{*path}",
            post(incoming_webhook),
        )
        .build(state.clone());
    ServiceFake::start("slack", "", state, router, routes)
}

fn fail(error: &str) -> Response {
    super::json(StatusCode::OK, json!({ "ok": false, "error": error }))
}

fn has_text(body: &Value) -> bool {
    body["text"].as_str().is_some_and(|t| !t.is_empty())
        || body["blocks"].is_array()
        || body["attachments"].is_array()
}

async fn post_message(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if bearer(&headers).as_deref() != Some(state.token.as_str()) {
        return fail("invalid_auth");
    }
    let Some(channel) = body["channel"].as_str().map(str::to_owned) else {
        return fail("channel_not_found");
    };
    if !state.channels.contains(&channel) {
        return fail("not_in_channel");
    }
    if !has_text(&body) {
        return fail("no_text");
    }
    state.next += 1;
    let ts = format!("1767225600.{:06}", state.next);
    let message = json!({ "channel": channel, "ts": ts, "text": body["text"], "blocks": body["blocks"], "thread_ts": body["thread_ts"] });
    state.messages.push(message.clone());
    super::json(
        StatusCode::OK,
        json!({ "ok": true, "channel": channel, "ts": ts, "message": message }),
    )
}

async fn update(
    State(s): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if bearer(&headers).as_deref() != Some(state.token.as_str()) {
        return fail("invalid_auth");
    }
    let (channel, ts) = (body["channel"].clone(), body["ts"].clone());
    let Some(message) = state
        .messages
        .iter_mut()
        .find(|m| m["channel"] == channel && m["ts"] == ts)
    else {
        return fail("message_not_found");
    };
    message["text"] = body["text"].clone();
    message["blocks"] = body["blocks"].clone();
    super::json(
        StatusCode::OK,
        json!({ "ok": true, "channel": channel, "ts": ts, "text": body["text"] }),
    )
}

async fn incoming_webhook(
    State(s): State<Shared>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut state = lock(&s);
    if !has_text(&body) {
        return (StatusCode::BAD_REQUEST, "no_text").into_response();
    }
    state.webhook_posts.push(body);
    (StatusCode::OK, "ok").into_response()
}

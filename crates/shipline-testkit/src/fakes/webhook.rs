//! A generic webhook receiver (also what Teams' Workflows URLs look like from outside): it
//! accepts any JSON POST under `/hook/…`, records it, and answers with a chosen status.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::{Routes, ServiceFake, lock};

/// What the receiver saw.
#[derive(Debug)]
pub struct WebhookState {
    /// The status to answer with (Teams' Workflows answer 202).
    pub status: u16,
    pub bodies: Vec<Value>,
}

/// The fake receiver.
pub type Webhook = ServiceFake<WebhookState>;

type Shared = Arc<Mutex<WebhookState>>;

pub fn start() -> Webhook {
    let state = Arc::new(Mutex::new(WebhookState {
        status: 200,
        bodies: Vec::new(),
    }));
    let (router, routes) = Routes::new("")
        .add_as("post", "/hook/{path}", "/hook/{*path}", post(receive))
        .build(state.clone());
    ServiceFake::start("webhook", "", state, router, routes)
}

async fn receive(State(s): State<Shared>, axum::Json(body): axum::Json<Value>) -> Response {
    let mut state = lock(&s);
    state.bodies.push(body);
    StatusCode::from_u16(state.status)
        .unwrap_or(StatusCode::OK)
        .into_response()
}

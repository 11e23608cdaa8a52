//! The client against a real loopback server with injected faults.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::routing::{get, post};
use shipline_http::{ClientOptions, HttpClient, HttpError, Request, RetryPolicy, SafeUrl, Secret};
use shipline_testkit::{Fake, Fault};

fn fake() -> Fake {
    let router = Router::new()
        .route(
            "/ok",
            get(|| async { axum::Json(serde_json::json!({ "ok": true })) }),
        )
        .route(
            "/missing",
            get(|| async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    axum::Json(serde_json::json!({ "message": "Not Found" })),
                )
            }),
        )
        .route(
            "/comments",
            post(|| async { axum::Json(serde_json::json!({ "id": 1 })) }),
        );
    Fake::start("test", router)
}

fn client(max_attempts: u32) -> HttpClient {
    HttpClient::new(ClientOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(40),
            budget: Duration::from_secs(10),
        },
    })
    .unwrap()
}

fn url(fake: &Fake, path: &str) -> SafeUrl {
    SafeUrl::parse(&format!("{}{path}", fake.url())).unwrap()
}

#[tokio::test]
async fn retries_5xx_and_dropped_answers_then_succeeds() {
    let fake = fake();
    fake.inject(Fault::Status(502));
    fake.inject(Fault::Drop);
    fake.inject(Fault::Status(503));
    let response = client(5)
        .send(Request::get(url(&fake, "/ok")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.attempts, 4);
    let seen: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(seen, [502, 200, 503, 200]);
    assert!(
        fake.requests()[1].faulted,
        "the second answer was the cut-off one"
    );
}

#[tokio::test]
async fn honours_retry_after_in_seconds_and_as_a_date() {
    let fake = fake();
    fake.inject(Fault::RateLimited("1".into()));
    let started = Instant::now();
    client(3)
        .send_ok(Request::get(url(&fake, "/ok")))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited as asked"
    );

    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    fake.inject(Fault::RateLimited(date));
    let started = Instant::now();
    client(3)
        .send_ok(Request::get(url(&fake, "/ok")))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited until the date"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once_and_says_why() {
    let fake = fake();
    fake.inject(Fault::RateLimited("3600".into()));
    let started = Instant::now();
    let err = client(5)
        .send(Request::get(url(&fake, "/ok")))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = err.to_string();
    assert!(
        text.contains("asked to wait 3600 s (`Retry-After`)"),
        "{text}"
    );
    assert_eq!(err.status(), Some(429));
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn other_4xx_are_not_retried_and_carry_the_services_words() {
    let fake = fake();
    let response = client(5)
        .send(Request::get(url(&fake, "/missing")))
        .await
        .unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(fake.requests().len(), 1);
    let err = response.error_for_status().unwrap_err();
    assert!(
        err.to_string().ends_with("answered 404: Not Found"),
        "{err}"
    );
}

#[tokio::test]
async fn unsafe_requests_are_not_repeated_when_the_server_may_have_acted() {
    let fake = fake();
    fake.inject(Fault::Status(500));
    let response = client(5)
        .send(Request::post(url(&fake, "/comments")).json(&serde_json::json!({ "body": "hi" })))
        .await
        .unwrap();
    assert_eq!(
        response.status, 500,
        "a 5xx on a POST goes back to the caller"
    );
    assert_eq!(fake.requests().len(), 1);

    fake.inject(Fault::Drop);
    let err = client(5)
        .send(Request::post(url(&fake, "/comments")))
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Transport { .. }), "{err}");
    assert_eq!(fake.requests().len(), 2);

    // 429 means the server did not act: safe to send again.
    fake.inject(Fault::RateLimited("0".into()));
    client(5)
        .send_ok(Request::post(url(&fake, "/comments")))
        .await
        .unwrap();
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let fake = fake();
    for _ in 0..10 {
        fake.inject(Fault::Status(500));
    }
    let err = client(3)
        .send(Request::get(url(&fake, "/ok")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("after 3 attempt(s)"), "{err}");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post_and_then_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let target = SafeUrl::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
    let err = client(3).send(Request::post(target)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "gave up on `POST http://127.0.0.1:{port}/x` after 3 attempt(s)"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn credentials_reach_the_server_but_never_an_error_message() {
    let fake = fake();
    let token = Secret::new("ghp_TOPSECRET123");
    client(1)
        .send_ok(Request::get(url(&fake, "/ok")).bearer(&token))
        .await
        .unwrap();
    let seen = &fake.requests()[0];
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer ghp_TOPSECRET123")
    );
    assert!(seen.header("user-agent").unwrap().starts_with("shipline/"));

    let leaky = SafeUrl::parse(&format!(
        "http://user:hunter2@127.0.0.1:{}/missing?token=ghp_TOPSECRET123",
        fake.addr().port()
    ))
    .unwrap();
    let err = client(1)
        .send_ok(Request::get(leaky).bearer(&token))
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("TOPSECRET"),
        "{text}"
    );
    assert!(
        text.contains("user:****@") && text.contains("token=****"),
        "{text}"
    );

    // A transport error (reqwest's own message names the URL) is scrubbed too.
    fake.inject(Fault::Drop);
    let leaky = SafeUrl::parse(&format!(
        "http://127.0.0.1:{}/comments?access_token=ghp_TOPSECRET123",
        fake.addr().port()
    ))
    .unwrap();
    let err = client(1).send(Request::post(leaky)).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("TOPSECRET"), "{text}");
}

#[tokio::test]
async fn with_no_retries_the_caller_gets_the_answer_itself() {
    let fake = fake();
    fake.inject(Fault::Status(503));
    let response = client(1)
        .send(Request::get(url(&fake, "/ok")))
        .await
        .unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(fake.requests().len(), 1);
}

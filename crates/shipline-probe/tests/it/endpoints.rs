//! What an API health check needs: a method, headers and a JSON body sent as given;
//! redirects followed and loops caught; a 200 error page caught by `forbid-text`; a closed
//! port; and the timings of each phase.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use shipline_testkit::{ActionsStep, Fake};

use crate::EXE;

fn server() -> Fake {
    Fake::start(
        "api",
        Router::new()
            .route(
                "/rest/v1/rpc/health",
                post(|headers: HeaderMap, body: String| async move {
                    if headers.get("apikey").and_then(|v| v.to_str().ok()) != Some("anon-key") {
                        return (StatusCode::UNAUTHORIZED, "no apikey".to_owned());
                    }
                    (StatusCode::OK, format!("{{\"ok\":true,\"echo\":{body}}}"))
                }),
            )
            .route("/old", get(|| async { Redirect::permanent("/new") }))
            .route("/new", get(|| async { "<h1>moved here</h1>" }))
            .route("/loop-a", get(|| async { Redirect::temporary("/loop-b") }))
            .route("/loop-b", get(|| async { Redirect::temporary("/loop-a") }))
            .route(
                "/maintenance",
                get(|| async { "<h1>Something went wrong</h1>".into_response() }),
            ),
    )
}

fn probe(url: &str) -> ActionsStep {
    ActionsStep::push().input("url", url).input("retries", "0")
}

#[test]
fn an_api_health_check_sends_method_headers_and_json_body() {
    let s = server();
    let url = format!("{}/rest/v1/rpc/health", s.url());
    let result = probe(&url)
        .input("method", "post")
        .input(
            "headers",
            "apikey: anon-key\nAuthorization: Bearer anon-key",
        )
        .input("body", "{\"deep\": true}")
        .input("expect-text", "\"ok\":true")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let sent = s.requests_to("POST", "/rest/v1/rpc/health");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("apikey"), Some("anon-key"));
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert_eq!(sent[0].json(), serde_json::json!({"deep": true}));
    assert!(
        result
            .summary
            .contains("| url | dns | connect | tls | first byte | total | certificate |"),
        "{}",
        result.summary
    );
    // Without the header the API refuses, and that is down.
    let result = probe(&url).input("method", "POST").run(EXE, &[]);
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("answered 401, expected `2xx`"),
        "{}",
        result.stdout
    );
}

#[test]
fn redirects_are_followed_and_loops_caught() {
    let s = server();
    let result = probe(&format!("{}/old", s.url()))
        .input("expect-text", "moved here")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result.summary.contains("after 1 redirect(s), at"),
        "{}",
        result.summary
    );

    let result = probe(&format!("{}/loop-a", s.url())).run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("redirect loop:"),
        "{}",
        result.stdout
    );
    assert_eq!(result.outputs["status"], "down");

    let result = probe(&format!("{}/old", s.url()))
        .input("max-redirects", "0")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("more than 0 redirect(s)"),
        "{}",
        result.stdout
    );
}

#[test]
fn an_error_page_that_answers_200_is_down_with_forbid_text() {
    let s = server();
    let url = format!("{}/maintenance", s.url());
    let result = probe(&url).run(EXE, &[]);
    assert_eq!(result.code, Some(0));
    let result = probe(&url)
        .input("forbid-text", "Something went wrong")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("the answer contains `Something went wrong`"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_closed_port_is_down_with_the_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = probe(&format!("http://127.0.0.1:{port}/")).run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains(&format!("could not connect to 127.0.0.1:{port}")),
        "{}",
        result.stdout
    );
}

#[test]
fn a_checks_file_names_each_check_and_takes_keys_from_the_env() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("uptime.yml");
    std::fs::write(
        &file,
        format!(
            "checks:\n  - name: home\n    url: {0}/new\n    expect-text: moved here\n  - name: api\n    url: {0}/rest/v1/rpc/health\n    method: post\n    headers:\n      apikey: \"${{ANON_KEY}}\"\n    body: {{deep: true}}\n    expect-status: 200\n    max-latency: 5s\n",
            s.url()
        ),
    )
    .unwrap();
    let run = |key: &str| {
        ActionsStep::push()
            .input("checks", &file.display().to_string())
            .input("retries", "0")
            .env("ANON_KEY", key)
            .run(EXE, &[])
    };
    let result = run("anon-key");
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let sent = s.requests_to("POST", "/rest/v1/rpc/health");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("apikey"), Some("anon-key"));
    assert_eq!(sent[0].json(), serde_json::json!({"deep": true}));
    assert!(
        result.stdout.contains("::add-mask::anon-key"),
        "{}",
        result.stdout
    );
    assert_eq!(s.requests_to("GET", "/new").len(), 1);

    // Unset, the variable is named and nothing is requested.
    let before = s.requests().len();
    let result = ActionsStep::push()
        .input("checks", &file.display().to_string())
        .without("ANON_KEY")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result.stdout.contains(
            "invalid input `checks`::check `api`, header `apikey`: `${ANON_KEY}` is not set"
        ),
        "{}",
        result.stdout
    );
    assert_eq!(s.requests().len(), before);

    std::fs::write(
        &file,
        "checks:\n  - name: x\n    url: https://x.test/\n    expected-text: typo\n",
    )
    .unwrap();
    let result = ActionsStep::push()
        .input("checks", &file.display().to_string())
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("unknown field `expected-text`"),
        "{}",
        result.stdout
    );
}

#[test]
fn headers_do_not_follow_a_redirect_to_another_origin() {
    let other = Fake::start(
        "other origin",
        Router::new().route("/landing", get(|| async { "landed" })),
    );
    let target = format!("{}/landing", other.url());
    let first = Fake::start(
        "first origin",
        Router::new().route(
            "/hop",
            get(move || {
                let target = target.clone();
                async move { Redirect::temporary(&target) }
            }),
        ),
    );
    let result = probe(&format!("{}/hop?key=s3cr3tquery", first.url()))
        .input("headers", "apikey: anon-key")
        .input("expect-text", "landed")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(first.requests()[0].header("apikey"), Some("anon-key"));
    let landed = other.requests();
    assert_eq!(landed.len(), 1);
    assert_eq!(
        landed[0].header("apikey"),
        None,
        "the key stayed with its origin"
    );
}

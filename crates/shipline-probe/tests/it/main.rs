//! `shipline-probe` as a process, against a real loopback server.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use shipline_probe::Probe;
use shipline_testkit::{ActionsStep, Fake, Fault, contract};

mod endpoints;
mod history;
mod incidents;
mod tls;

pub const EXE: &str = env!("CARGO_BIN_EXE_shipline-probe");

fn site() -> Fake {
    Fake::start(
        "site",
        Router::new()
            .route("/", get(|| async { "<h1>Acme</h1>" }))
            .route("/health", get(|| async { "ok" })),
    )
}

#[test]
fn help_and_bad_arguments() {
    contract::assert_help_documents_every_input::<Probe>(EXE);
    contract::assert_bad_arguments_exit_2::<Probe>(EXE);
}

#[test]
fn up_urls_write_outputs_and_a_summary_table() {
    let site = site();
    let result = ActionsStep::with_event("schedule", "schedule.json")
        .input("url", &format!("{0}/\n{0}/health", site.url()))
        .input("expect-text", "")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["status"], "up");
    assert!(result.outputs["latency-ms"].parse::<u64>().is_ok());
    assert!(
        result
            .summary
            .contains("| url | status | http | latency | attempts | note |"),
        "{}",
        result.summary
    );
    assert_eq!(site.requests().len(), 2);
}

#[test]
fn a_failure_is_confirmed_before_the_url_is_called_down() {
    let site = site();
    site.inject(Fault::Status(503));
    let result = ActionsStep::push()
        .input("url", &format!("{}/health", site.url()))
        .input("retry-delay", "10ms")
        .run(EXE, &[]);
    assert_eq!(
        result.code,
        Some(0),
        "a passing retry means up: {}",
        result.everything()
    );
    assert_eq!(site.requests().len(), 2);

    for _ in 0..3 {
        site.inject(Fault::Status(503));
    }
    let result = ActionsStep::push()
        .input("url", &format!("{}/health", site.url()))
        .input("retries", "2")
        .input("retry-delay", "10ms")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(result.outputs["status"], "down");
    assert!(
        result.stdout.contains("::error title=probe%3A down::"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("answered 503, expected `2xx`"),
        "{}",
        result.stdout
    );
    assert_eq!(site.requests().len(), 5);
}

#[test]
fn missing_text_is_down_and_slow_answers_are_degraded() {
    let site = site();
    let result = ActionsStep::push()
        .input("url", &site.url())
        .input("expect-text", "Welcome")
        .input("retries", "0")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("does not contain `Welcome`"),
        "{}",
        result.stdout
    );

    site.set_latency(Duration::from_millis(150));
    let result = ActionsStep::push()
        .input("url", &site.url())
        .input("max-latency", "50ms")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "degraded is a warning, not a failure");
    assert_eq!(result.outputs["status"], "degraded");
    assert!(
        result
            .stdout
            .contains("::warning title=probe%3A degraded::"),
        "{}",
        result.stdout
    );
}

#[test]
fn bad_inputs_exit_2_naming_the_input() {
    for (input, value, message) in [
        ("url", "", "is required"),
        (
            "url",
            "ftp://x.example",
            "must start with `https://` or `http://`",
        ),
        ("expect-status", "ok", "is not a status"),
        ("retries", "-1", "is not a whole number from 0 to 10"),
        (
            "incident",
            "pagerduty",
            "`pagerduty` is not one of `github-issue`",
        ),
        ("method", "GET /", "is not an HTTP method"),
        ("headers", "apikey", "write one `Name: value` per line"),
        ("body", "{nope", "is not JSON"),
        ("max-redirects", "99", "is not a whole number from 0 to 30"),
        ("ca-cert", "/nonexistent.pem", "cannot be read"),
        (
            "notify-slack-webhook-url",
            "https://hooks.slack.com/services/x",
            "needs `incident: github-issue`",
        ),
    ] {
        let mut step = ActionsStep::push().input(input, value);
        if input != "url" {
            step = step.input("url", "http://127.0.0.1:9/");
        }
        let result = step.run(EXE, &[]);
        assert_eq!(result.code, Some(2), "{input}");
        assert!(
            result
                .stdout
                .contains(&format!("::error title=invalid input `{input}`::"))
                && result.stdout.contains(message),
            "{}",
            result.stdout
        );
    }
    let result = ActionsStep::push()
        .input("url", "http://127.0.0.1:9/")
        .input("incident", "github-issue")
        .without("GITHUB_TOKEN")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("invalid input `github-token`"),
        "{}",
        result.stdout
    );
}

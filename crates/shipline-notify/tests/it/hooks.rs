//! `webhook`: the versioned, signed JSON document; and how every hook treats 429 and 4xx.

use std::process::Command;

use shipline_testkit::fakes::webhook;
use shipline_testkit::snapshot::with_filters;
use shipline_testkit::{ActionsStep, Fault};

use crate::EXE;

const SECRET: &str = "whsec_notify_s3cr3t";

fn schema_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas/notify-webhook-v1.json")
}

/// Python's own `hmac` and `jsonschema`: an implementation that shares no code with ours.
fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_document_is_signed_over_its_exact_bytes_and_fits_its_schema() {
    let w = webhook::start();
    let url = format!("{}/hook/deploys", w.base_url());
    let result = ActionsStep::pull_request()
        .input("to", "webhook")
        .input("webhook-url", &url)
        .input("webhook-secret", SECRET)
        .input("status", "success")
        .input("title", "Deploy \"acme\"\nwith <html> & `code`")
        .input("url", "https://acme.dev")
        .input("environment", "production")
        .input("fields", "Region: fra1\nVersion: 1.4.2")
        .input("mention", "@oncall")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(!result.shown().contains(SECRET));
    let request = &w.requests_to("POST", "/hook/deploys")[0];
    assert_eq!(request.header("x-shipline-event"), Some("notify"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, &request.body).unwrap();
    let expected = python(
        "import hmac, hashlib, sys\nprint('sha256=' + hmac.new(sys.argv[1].encode(), open(sys.argv[2], 'rb').read(), hashlib.sha256).hexdigest())",
        &[SECRET, body.to_str().unwrap()],
    );
    assert_eq!(
        request.header("x-shipline-signature-256"),
        Some(expected.as_str())
    );
    let valid = python(
        "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\njsonschema.Draft202012Validator.check_schema(schema)\njsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))\nprint('valid')",
        &[schema_path().to_str().unwrap(), body.to_str().unwrap()],
    );
    assert_eq!(valid, "valid");
    let document = request.json();
    assert_eq!(document["schema_version"], 1);
    assert_eq!(
        document["title"], "Deploy \"acme\"\nwith <html> & `code`",
        "sent as given: it is data"
    );
    assert_eq!(document["fields"]["Version"], "1.4.2");
    assert_eq!(
        document["mention"],
        serde_json::Value::Null,
        "no ping on success"
    );
    assert_eq!(
        document["commit"], "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "the PR's head, not the merge commit"
    );
    with_filters(|| insta::assert_json_snapshot!("webhook_document", document));
}

#[test]
fn without_a_secret_there_is_no_signature() {
    let w = webhook::start();
    let result = ActionsStep::push()
        .input("to", "webhook")
        .input("webhook-url", &format!("{}/hook/x", w.base_url()))
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(w.requests()[0].header("x-shipline-signature-256"), None);
    assert!(result.summary.contains("unsigned"), "{}", result.summary);
}

#[test]
fn a_429_is_retried_after_its_retry_after() {
    let w = webhook::start();
    w.inject(Fault::RateLimited("1".into()));
    let result = ActionsStep::push()
        .input("to", "webhook")
        .input("webhook-url", &format!("{}/hook/x", w.base_url()))
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let requests = w.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].status, 429);
    assert_eq!(w.state().bodies.len(), 1, "delivered once");
}

#[test]
fn a_4xx_is_not_retried_and_the_url_is_never_shown() {
    let w = webhook::start();
    w.state().status = 410;
    let result = ActionsStep::push()
        .input("to", "webhook")
        .input(
            "webhook-url",
            &format!("{}/hook/T0K3N/hookS3cr3t", w.base_url()),
        )
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(w.requests().len(), 1, "a 4xx is not retried");
    assert!(
        result.stdout.contains("the generic webhook answered 410"),
        "{}",
        result.stdout
    );
    assert!(!result.shown().contains("hookS3cr3t"), "{}", result.shown());
}

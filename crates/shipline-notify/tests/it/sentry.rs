//! `sentry`: the release, then its deploy.

use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::sentry;

use crate::EXE;

const TOKEN: &str = "sntrys_notify_s3cr3t";

fn step(s: &sentry::Sentry) -> ActionsStep {
    ActionsStep::push()
        .env("SENTRY_URL", &s.fake.url())
        .env("SENTRY_AUTH_TOKEN", TOKEN)
        .env("SENTRY_ORG", "acme")
        .input("to", "sentry")
        .input("sentry-project", "webapp")
        .input("url", "https://acme.dev")
}

#[test]
fn a_release_is_created_then_deployed() {
    let s = sentry::start(TOKEN, "acme");
    let result = step(&s)
        .input("started-at", "2026-12-03T10:00:00Z")
        .run(EXE, &[])
        .ok_shown();
    let sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
    let release = &s.requests_to("POST", "/api/0/organizations/acme/releases/")[0].json();
    assert_eq!(release["version"], sha);
    assert_eq!(release["projects"], serde_json::json!(["webapp"]));
    assert_eq!(
        release["refs"],
        serde_json::json!([{ "repository": "acme/webapp", "commit": sha }])
    );
    let deploy = &s.requests_to(
        "POST",
        &format!("/api/0/organizations/acme/releases/{sha}/deploys/"),
    )[0]
    .json();
    assert_eq!(deploy["environment"], "production");
    assert_eq!(deploy["url"], "https://acme.dev");
    assert_eq!(deploy["dateStarted"], "2026-12-03T10:00:00Z");
    assert!(deploy["dateFinished"].as_str().unwrap().ends_with('Z'));
    assert_eq!(s.state().deploys.len(), 1);
    assert!(!result.contains(TOKEN));
}

#[test]
fn a_release_name_with_a_slash_is_one_path_segment() {
    let s = sentry::start(TOKEN, "acme");
    step(&s)
        .input("release", "webapp@1.4/rc")
        .input("environment", "staging")
        .run(EXE, &[])
        .ok_shown();
    let deploys = s.requests_to(
        "POST",
        "/api/0/organizations/acme/releases/webapp@1.4%2Frc/deploys/",
    );
    assert_eq!(
        deploys.len(),
        1,
        "{:?}",
        s.requests().iter().map(|r| r.line()).collect::<Vec<_>>()
    );
    assert_eq!(deploys[0].json()["environment"], "staging");
}

#[test]
fn a_wrong_token_is_named_and_not_retried() {
    let s = sentry::start(TOKEN, "acme");
    let result = step(&s)
        .env("SENTRY_AUTH_TOKEN", "sntrys_wrong_s3cr3t")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("Sentry did not accept `sentry-token`"),
        "{}",
        result.stdout
    );
    assert_eq!(s.requests().len(), 1);
    assert!(!result.shown().contains("sntrys_wrong_s3cr3t"));
}

trait Succeeds {
    fn ok_shown(self) -> String;
}

impl Succeeds for shipline_testkit::actions_env::StepResult {
    /// Asserts exit 0; what was shown.
    fn ok_shown(self) -> String {
        assert_eq!(self.code, Some(0), "{}", self.everything());
        self.shown()
    }
}

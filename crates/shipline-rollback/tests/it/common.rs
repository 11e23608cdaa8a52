//! Shared setup: a production history seeded into the fakes as `shipline-deploy` leaves it
//! (host deployments, GitHub deployments with `payload.shipline` and their statuses).

use serde_json::{Value, json};
use shipline_testkit::ActionsStep;
use shipline_testkit::actions_env::StepResult;
use shipline_testkit::fakes::github::{self, GitHub};

pub const EXE: &str = env!("CARGO_BIN_EXE_shipline-rollback");
pub const GITHUB_TOKEN: &str = "ghs_rollback_token_123";

pub fn github() -> GitHub {
    github::start(GITHUB_TOKEN)
}

/// A `workflow_dispatch` step with the records on the fake GitHub.
pub fn dispatch(gh: &GitHub) -> ActionsStep {
    ActionsStep::with_event("workflow_dispatch", "workflow_dispatch.json")
        .env("GITHUB_API_URL", &gh.base_url())
        .input("github-token", GITHUB_TOKEN)
}

pub fn run(step: &ActionsStep) -> StepResult {
    step.run(EXE, &[])
}

/// The site of one release: its `index.html` names the version.
pub fn site(version: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "index.html",
            format!("<!doctype html><div id=\"root\">Welcome to webapp {version}</div>")
                .into_bytes(),
        ),
        (
            "assets/app.js",
            format!("console.log('{version}')").into_bytes(),
        ),
    ]
}

pub fn as_refs<'a>(files: &'a [(&'static str, Vec<u8>)]) -> Vec<(&'static str, &'a [u8])> {
    files.iter().map(|(p, b)| (*p, b.as_slice())).collect()
}

/// A 40-hex commit made of one repeated digit.
pub fn sha(digit: char) -> String {
    std::iter::repeat_n(digit, 40).collect()
}

/// A GitHub deployment record of `provider_id` with these statuses (oldest first).
pub fn record(
    gh: &GitHub,
    provider: &str,
    provider_id: &str,
    url: &str,
    commit: &str,
    migration_version: Option<&str>,
    states: &[&str],
) -> u64 {
    let body = json!({
        "ref": commit,
        "environment": "production",
        "production_environment": true,
        "payload": { "shipline": {
            "provider": provider, "provider_deployment_id": provider_id, "url": url,
            "environment": "production", "git_sha": commit, "migration_version": migration_version,
            "artifact_sha256": "ab".repeat(32), "created_at": "2026-12-01T10:00:00Z",
        } },
    });
    let mut state = gh.state();
    let d = state.add_deployment("acme", "webapp", commit, &body);
    let id = d["id"].as_u64().unwrap();
    for s in states {
        state.add_status(id, s, "seeded");
    }
    id
}

/// A deployment of another tool (no `payload.shipline`): readers skip it.
pub fn foreign(gh: &GitHub, commit: &str) -> u64 {
    let body =
        json!({ "ref": commit, "environment": "production", "payload": { "tool": "other" } });
    let mut state = gh.state();
    let id = state.add_deployment("acme", "webapp", commit, &body)["id"]
        .as_u64()
        .unwrap();
    state.add_status(id, "success", "not ours");
    id
}

/// The states of a GitHub deployment's statuses, oldest first.
pub fn statuses(gh: &GitHub, id: u64) -> Vec<String> {
    gh.state()
        .statuses
        .get(&id)
        .map(|s| {
            s.iter()
                .map(|st| st["state"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The newest status of a GitHub deployment.
pub fn latest(gh: &GitHub, id: u64) -> Value {
    gh.state().statuses[&id].last().unwrap().clone()
}

/// Every write the run sent to GitHub.
pub fn github_writes(gh: &GitHub) -> usize {
    gh.requests().iter().filter(|r| r.method == "POST").count()
}

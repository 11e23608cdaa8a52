//! What the notify tests share: the fake GitHub and a step pointed at it.

use serde_json::Value;
use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::github::{self, GitHub};

pub const GH_TOKEN: &str = "ghs_notify_s3cr3t_token";

/// The pull request of `ActionsStep::pull_request()`'s event.
pub const PR: u64 = 2;

pub fn github() -> GitHub {
    github::start(GH_TOKEN)
}

/// A `pull_request` step whose GitHub is `gh`.
pub fn on_pr(gh: &GitHub) -> ActionsStep {
    at(ActionsStep::pull_request(), gh)
}

pub fn at(step: ActionsStep, gh: &GitHub) -> ActionsStep {
    step.env("GITHUB_API_URL", &gh.base_url())
        .env("GITHUB_TOKEN", GH_TOKEN)
}

/// The comments on `number`, oldest first.
pub fn comments(gh: &GitHub, number: u64) -> Vec<Value> {
    gh.state()
        .comments
        .get(&number)
        .cloned()
        .unwrap_or_default()
}

/// The methods and paths of the writes GitHub received.
pub fn writes(gh: &GitHub) -> Vec<String> {
    gh.requests()
        .iter()
        .filter(|r| r.method != "GET" && r.path != "/graphql")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

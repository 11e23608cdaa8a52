//! Shared setup of the end-to-end deploy tests: a small Vite-like site, and a step wired to
//! the fakes.

use std::path::Path;

use base64::Engine as _;
use shipline_testkit::ActionsStep;
use shipline_testkit::actions_env::StepResult;
use shipline_testkit::fakes::github::{self, GitHub};

pub const EXE: &str = env!("CARGO_BIN_EXE_shipline-deploy");
pub const GITHUB_TOKEN: &str = "ghs_record_token_123";

/// `dist/` as Vite writes it: an `index.html`, hashed assets, two files with equal content.
pub fn write_site(workspace: &Path) {
    let dist = workspace.join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>webapp</title><div id=\"root\">Welcome to webapp</div><script src=\"/assets/index-1a2b.js\"></script>",
    )
    .unwrap();
    std::fs::write(
        dist.join("assets/index-1a2b.js"),
        "const url='https://prod-ref.supabase.co';console.log('app v1');",
    )
    .unwrap();
    std::fs::write(
        dist.join("assets/vendor-9f8e.js"),
        "/* vendor */".repeat(500),
    )
    .unwrap();
    std::fs::write(dist.join("assets/a.css"), "body{margin:0}").unwrap();
    std::fs::write(dist.join("assets/b.css"), "body{margin:0}").unwrap();
    std::fs::write(dist.join("robots.txt"), "User-agent: *\n").unwrap();
}

/// Changes one file: the app chunk (Vite would rename it; the content is what matters).
pub fn change_one_file(workspace: &Path) {
    std::fs::write(
        workspace.join("dist/assets/index-1a2b.js"),
        "const url='https://prod-ref.supabase.co';console.log('app v2');",
    )
    .unwrap();
}

pub fn github() -> GitHub {
    github::start(GITHUB_TOKEN)
}

/// The step's GitHub side: the record goes to the fake.
pub fn with_github(step: ActionsStep, gh: &GitHub) -> ActionsStep {
    step.env("GITHUB_API_URL", &gh.base_url())
        .input("github-token", GITHUB_TOKEN)
}

pub fn run(step: &ActionsStep) -> StepResult {
    step.run(EXE, &[])
}

/// A Supabase-style JWT with this role.
pub fn jwt(role: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"iss":"supabase","ref":"prodref","role":"{role}","iat":1700000000}}"#
        )),
        "c2lnbmF0dXJlLW9mLXRoZS1rZXk"
    )
}

/// The states of a GitHub deployment's statuses, oldest first.
pub fn statuses(gh: &GitHub, id: u64) -> Vec<String> {
    gh.state()
        .statuses
        .get(&id)
        .map(|s| {
            s.iter()
                .map(|s| s["state"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

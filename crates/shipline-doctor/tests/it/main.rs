//! `shipline-doctor` as a step: the workflows on disk, the step's env, and the fake GitHub's
//! secrets listings.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

use shipline_doctor::Doctor;
use shipline_testkit::fakes::github::{self, GitHub};
use shipline_testkit::{ActionsStep, contract};

const EXE: &str = env!("CARGO_BIN_EXE_shipline-doctor");
const TOKEN: &str = "github_pat_doctor_s3cr3t";

/// A step whose workspace has `.github/workflows/` with these files.
fn step(workflows: &[(&str, &str)]) -> ActionsStep {
    let step = ActionsStep::push();
    let dir = step.workspace().join(".github/workflows");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in workflows {
        std::fs::write(dir.join(name), text).unwrap();
    }
    step
}

const SAFE: &str = "on: pull_request\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";
const PWN: &str = "on: pull_request_target\njobs:\n  preview:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: npm ci && npm run build\n";

#[test]
fn the_binary_contract_holds() {
    contract::assert_help_documents_every_input::<Doctor>(EXE);
    contract::assert_bad_arguments_exit_2::<Doctor>(EXE);
}

#[test]
fn a_pull_request_target_checkout_of_the_head_fails_and_is_named() {
    let bad = step(&[("ci.yml", SAFE), ("preview.yml", PWN)]).run(EXE, &[]);
    assert_eq!(bad.code, Some(1), "{}", bad.everything());
    assert!(
        bad.stdout
            .contains("`preview.yml` job `preview` checks out the pull request's head under `pull_request_target`"),
        "{}",
        bad.stdout
    );
    assert_eq!(bad.outputs["errors"], "1");
    assert!(bad.summary.contains("pull_request_target"));

    let good = step(&[("ci.yml", SAFE)]).run(EXE, &[]);
    assert_eq!(good.code, Some(0), "{}", good.everything());
    assert_eq!(good.outputs["errors"], "0");
    assert!(
        good.stdout.contains("1 workflow(s): none checks out"),
        "{}",
        good.stdout
    );
}

#[test]
fn required_env_names_must_be_set_in_the_step() {
    let missing = step(&[])
        .input("require-env", "DATABASE_URL, VERCEL_TOKEN")
        .env("VERCEL_TOKEN", "tok")
        .run(EXE, &[]);
    assert_eq!(missing.code, Some(1), "{}", missing.everything());
    assert!(
        missing
            .stdout
            .contains("`DATABASE_URL` is not set or empty in this step")
    );
    assert!(!missing.shown().contains("tok\n"));
    let set = step(&[])
        .input("require-env", "DATABASE_URL")
        .env("DATABASE_URL", "postgres://x@h/db")
        .run(EXE, &[]);
    assert_eq!(set.code, Some(0), "{}", set.everything());
}

#[test]
fn production_and_preview_on_one_supabase_project_fail() {
    let same = step(&[])
        .input(
            "production-supabase",
            "https://abcdefghijklmnopqrst.supabase.co",
        )
        .input("preview-supabase", "abcdefghijklmnopqrst")
        .run(EXE, &[]);
    assert_eq!(same.code, Some(1), "{}", same.everything());
    assert!(
        same.stdout
            .contains("use the same Supabase project `abcdefghijklmnopqrst`")
    );
    let apart = step(&[])
        .input(
            "production-supabase",
            "https://abcdefghijklmnopqrst.supabase.co",
        )
        .input(
            "preview-supabase",
            "https://zyxwvutsrqponmlkjihg.supabase.co",
        )
        .run(EXE, &[]);
    assert_eq!(apart.code, Some(0), "{}", apart.everything());
}

fn gh() -> GitHub {
    github::start(TOKEN)
}

fn with_gh(step: ActionsStep, gh: &GitHub) -> ActionsStep {
    step.env("GITHUB_API_URL", &gh.base_url())
        .input("github-token", TOKEN)
}

#[test]
fn a_production_secret_at_repository_level_and_wide_token_scopes_are_warned_about() {
    let gh = gh();
    {
        let mut s = gh.state();
        s.repo_secrets = vec!["DATABASE_URL".into(), "VERCEL_TOKEN".into()];
        s.environment_secrets
            .insert("production".into(), vec!["SUPABASE_ACCESS_TOKEN".into()]);
        s.oauth_scopes = Some("repo, workflow, admin:org, delete_repo".into());
    }
    let result = with_gh(step(&[]), &gh).run(EXE, &[]);
    assert_eq!(
        result.code,
        Some(0),
        "warnings only: {}",
        result.everything()
    );
    assert_eq!(result.outputs["warnings"], "2");
    assert!(
        result
            .stdout
            .contains("`DATABASE_URL` is a repository secret: every workflow can read it"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("scopes the pipeline never needs: admin:org, delete_repo")
    );
    assert!(
        result
            .stdout
            .contains("`SUPABASE_ACCESS_TOKEN` is in the `production` environment only")
    );
    assert!(!result.shown().contains(TOKEN));
    let paths: Vec<String> = gh.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/repos/acme/webapp/actions/secrets",
            "/repos/acme/webapp/environments/production/secrets"
        ]
    );

    // A secret set nowhere is an error.
    gh.state().repo_secrets.clear();
    let result = with_gh(step(&[]), &gh).run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(result.stdout.contains(
        "`DATABASE_URL` is set neither in the `production` environment nor in the repository"
    ));
}

#[test]
fn a_token_that_may_not_list_secrets_is_said_plainly() {
    let gh = gh();
    gh.state().secrets_forbidden = true;
    let result = with_gh(step(&[]), &gh).run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("cannot tell where the secrets are: listing them answered 403"),
        "{}",
        result.stdout
    );
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let gh = gh();
    let bad = with_gh(step(&[]), &gh)
        .input("require-env", "DATABASE-URL")
        .run(EXE, &[]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stdout.contains("invalid input `require-env`"),
        "{}",
        bad.stdout
    );
    let half = step(&[])
        .input("production-supabase", "abcdefghijklmnopqrst")
        .run(EXE, &[]);
    assert_eq!(half.code, Some(2));
    assert!(
        half.stdout.contains("`preview-supabase`"),
        "{}",
        half.stdout
    );
    assert!(gh.requests().is_empty());
}

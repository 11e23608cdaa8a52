//! `shipline-deploy` as a process in a simulated Actions step.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

mod amplify;
mod cloudflare;
mod flow;
mod fs;
mod netlify;
mod observability;
mod sourcemaps;
mod vercel;

use shipline_deploy::Deploy;
use shipline_testkit::{ActionsStep, contract};

const EXE: &str = env!("CARGO_BIN_EXE_shipline-deploy");

fn vercel_step() -> ActionsStep {
    let step = ActionsStep::push()
        .input("provider", "vercel")
        .input("token", "vercel_tok_s3cr3t")
        .input("project", "prj_123");
    std::fs::create_dir_all(step.workspace().join("dist")).unwrap();
    step
}

#[test]
fn help_and_bad_arguments() {
    contract::assert_help_documents_every_input::<Deploy>(EXE);
    contract::assert_bad_arguments_exit_2::<Deploy>(EXE);
}

/// Validation passed as far as the GitHub record store, which needs a token in Actions.
fn assert_reached_the_record_store(result: &shipline_testkit::actions_env::StepResult) {
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result.stdout.contains("::error title=invalid input `github-token`::is required to write the deployment record to GitHub"),
        "{}",
        result.stdout
    );
}

#[test]
fn in_actions_the_record_needs_a_github_token() {
    let result = vercel_step().run(EXE, &[]);
    assert_reached_the_record_store(&result);
}

#[test]
fn a_missing_provider_names_the_input() {
    let step = ActionsStep::push();
    let result = step.run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("::error title=invalid input `provider`::is required; set `provider` in `with:` (env `INPUT_PROVIDER`)"),
        "{}",
        result.stdout
    );
}

#[test]
fn tokens_come_from_the_conventional_names_too() {
    let step = ActionsStep::push()
        .input("provider", "vercel")
        .env("VERCEL_TOKEN", "vercel_tok_from_env")
        .env("VERCEL_PROJECT_ID", "prj_1")
        .env("VERCEL_ORG_ID", "team_1");
    std::fs::create_dir_all(step.workspace().join("dist")).unwrap();
    let result = step.run(EXE, &[]);
    assert_reached_the_record_store(&result);
    assert!(
        result
            .stdout
            .starts_with("::add-mask::vercel_tok_from_env\n"),
        "{}",
        result.stdout
    );

    let step = ActionsStep::push()
        .input("provider", "netlify")
        .input("project", "site");
    let result = step.run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(result.stdout.contains("invalid input `token`::is required; set `token` in `with:` (env `INPUT_TOKEN`) or `NETLIFY_AUTH_TOKEN`"), "{}", result.stdout);
}

#[test]
fn a_flag_wins_over_env() {
    let result = vercel_step()
        .input("timeout", "nonsense")
        .run(EXE, &["--timeout", "5m"]);
    assert_reached_the_record_store(&result);
    let result = vercel_step()
        .input("timeout", "5m")
        .run(EXE, &["--timeout=soon"]);
    assert_eq!(result.code, Some(2));
    assert!(
        result
            .stdout
            .contains("invalid input `timeout`::`soon` is not a duration"),
        "{}",
        result.stdout
    );
}

#[test]
fn empty_inputs_count_as_unset() {
    // A composite action maps every input, so the ones a user left out arrive empty.
    let mut step = vercel_step();
    for (long, _) in contract::inputs::<Deploy>() {
        if !["provider", "token", "project"].contains(&long.as_str()) {
            step = step.input(&long, "");
        }
    }
    let result = step.run(EXE, &[]);
    assert_reached_the_record_store(&result);
}

#[test]
fn bad_values_exit_2_naming_the_input_and_change_nothing() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "provider",
            "heroku",
            "`heroku` is not one of `vercel`, `netlify`, `cloudflare-pages`, `amplify`, `fs`",
        ),
        (
            "directory",
            "build",
            "`build` does not exist; build the site first",
        ),
        (
            "environment",
            "staging",
            "`staging` is not one of `production`, `preview`",
        ),
        ("spa", "maybe", "`maybe` is not a boolean"),
        ("timeout", "5", "`5` has no unit"),
        ("smoke-path", "health", "must be a path starting with `/`"),
        ("max-concurrency", "0", "is not a whole number from 1 to 64"),
        ("migration-version", "v2", "is not a migration version"),
        ("record-store", "s3:bucket", "is not a record store"),
    ];
    for (input, value, message) in cases {
        let step = vercel_step().input(input, value);
        let result = step.run(EXE, &[]);
        assert_eq!(
            result.code,
            Some(2),
            "{input}={value}: {}",
            result.everything()
        );
        assert!(
            result
                .stdout
                .contains(&format!("::error title=invalid input `{input}`::")),
            "{input}: {}",
            result.stdout
        );
        assert!(
            result.stdout.contains(message),
            "{input}: {}",
            result.stdout
        );
        assert!(result.outputs.is_empty());
        let left: Vec<_> = std::fs::read_dir(step.workspace())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["dist"], "nothing was created");
    }
}

#[test]
fn fs_needs_a_target_dir() {
    let step = ActionsStep::push().input("provider", "fs");
    std::fs::create_dir_all(step.workspace().join("dist")).unwrap();
    let result = step.run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("invalid input `target-dir`"),
        "{}",
        result.stdout
    );
    // Valid: it runs, and refuses the empty site before touching the target.
    let target = step.dir().join("www");
    let result = step
        .input("target-dir", target.to_str().unwrap())
        .input("record-store", "fs:records")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(result.stdout.contains("is empty"), "{}", result.stdout);
    assert!(!target.exists());
}

#[test]
fn the_token_is_masked_first_and_never_shown() {
    let step = vercel_step()
        .input("github-token", "ghs_abc123\n")
        .input("timeout", "vercel_tok_s3cr3t");
    let result = step.run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], "::add-mask::vercel_tok_s3cr3t");
    assert_eq!(lines[1], "::add-mask::ghs_abc123");
    // A secret echoed in an error message is redacted at the source, runner or not.
    assert!(
        !result.shown().contains("vercel_tok_s3cr3t"),
        "{}",
        result.shown()
    );
    assert!(
        result
            .stdout
            .contains("::error title=invalid input `timeout`::`****` is not a duration"),
        "{}",
        result.stdout
    );
}

#[test]
fn outside_actions_a_person_reads_an_error_line() {
    let step = vercel_step()
        .without("GITHUB_ACTIONS")
        .input("timeout", "5x");
    let result = step.run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        !result.stdout.contains("::") && !result.stderr.contains("::"),
        "{}",
        result.everything()
    );
    assert!(
        result
            .stderr
            .contains("error: invalid input `timeout`: `5x` has an unknown unit `x`"),
        "{}",
        result.stderr
    );
    assert!(!result.everything().contains("vercel_tok_s3cr3t"));
    assert!(result.summary.is_empty());
}

#[test]
fn json_output_is_one_document() {
    let result = vercel_step().run(EXE, &["--output", "json"]);
    assert_eq!(result.code, Some(2));
    let doc: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(doc["outcome"], "invalid_input");
    assert_eq!(doc["tool"], "shipline-deploy");
    assert!(
        result.stderr.starts_with("::add-mask::"),
        "commands moved to stderr: {}",
        result.stderr
    );
}

#[test]
fn preview_is_the_default_on_pull_requests() {
    // Visible through validation: a preview needs no production-only input, and the
    // environment default follows the event. Checked at the library level.
    use shipline_cli::{Ctx, Env, Tool};
    let ctx = |event: &str| Ctx {
        rt: shipline_actions::Runtime::from_lookup(|_| None, Default::default()),
        env: Env::from_map([("GITHUB_EVENT_NAME".to_string(), event.to_string())].into()),
        github: Default::default(),
        event: shipline_actions::Event::None,
    };
    let dir = tempfile_dir();
    let args = |extra: &[&str]| {
        let mut argv = vec![
            "shipline-deploy",
            "--provider",
            "fs",
            "--target-dir",
            "/srv/x",
            "--directory",
            dir.as_str(),
        ];
        argv.extend_from_slice(extra);
        <shipline_deploy::Args as clap::Parser>::parse_from(argv)
    };
    let preview = Deploy::validate(args(&[]), &ctx("pull_request")).unwrap();
    assert_eq!(preview.environment, shipline_deploy::Environment::Preview);
    let prod = Deploy::validate(args(&[]), &ctx("push")).unwrap();
    assert_eq!(prod.environment, shipline_deploy::Environment::Production);
    let forced =
        Deploy::validate(args(&["--environment", "production"]), &ctx("pull_request")).unwrap();
    assert_eq!(forced.environment, shipline_deploy::Environment::Production);
}

fn tempfile_dir() -> String {
    let dir = std::env::temp_dir().join(format!("shipline-deploy-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

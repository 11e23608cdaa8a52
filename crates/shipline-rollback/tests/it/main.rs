//! `shipline-rollback` as a process in a simulated Actions step.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

mod amplify;
mod cloudflare;
mod common;
mod fs;
mod migrations;
mod netlify;
mod vercel;

use shipline_rollback::Rollback;
use shipline_testkit::{ActionsStep, contract};

use common::EXE;

fn step() -> ActionsStep {
    ActionsStep::with_event("workflow_dispatch", "workflow_dispatch.json")
        .input("provider", "vercel")
        .env("VERCEL_TOKEN", "vtok_123456")
        .env("VERCEL_PROJECT_ID", "prj_1")
}

#[test]
fn help_and_bad_arguments() {
    contract::assert_help_documents_every_input::<Rollback>(EXE);
    contract::assert_bad_arguments_exit_2::<Rollback>(EXE);
}

#[test]
fn in_actions_the_records_need_a_github_token() {
    let result = step().run(EXE, &[]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result.stdout.contains("::error title=invalid input `github-token`::is required to read and update the deployment records on GitHub"),
        "{}",
        result.stdout
    );
}

#[test]
fn with_migrations_needs_a_database() {
    let result = step().input("with-migrations", "true").run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains(
            "::error title=invalid input `database-url`::is required with `with-migrations: true`"
        ),
        "{}",
        result.stdout
    );
    let result = step()
        .input("with-migrations", "true")
        .env("DATABASE_URL", "postgres://u:p4ss@h/db")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::error title=invalid input `directory`::"),
        "the migrations folder is checked before anything runs: {}",
        result.stdout
    );
    assert!(!result.shown().contains("p4ss"), "{}", result.shown());
}

#[test]
fn bad_values_exit_2_naming_the_input() {
    for (input, value, message) in [
        ("provider", "render", "`render` is not one of"),
        (
            "to",
            "two back",
            "is not `previous`, a deployment id or a git SHA",
        ),
        (
            "to",
            "../../v9/projects/prj_1",
            "is not `previous`, a deployment id or a git SHA",
        ),
        ("dry-run", "sure", "is not a boolean"),
        ("timeout", "soon", "`soon`"),
        ("smoke-path", "health", "must be a path starting with `/`"),
    ] {
        let result = step().input(input, value).run(EXE, &[]);
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
}

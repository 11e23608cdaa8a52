//! `shipline-rollback` as a process in a simulated Actions step.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

use shipline_rollback::Rollback;
use shipline_testkit::{ActionsStep, contract};

const EXE: &str = env!("CARGO_BIN_EXE_shipline-rollback");

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
fn valid_inputs_reach_the_not_yet_built_rollback() {
    let result = step().run(EXE, &[]);
    contract::assert_not_implemented(&result, "shipline-rollback", 5);
    let result = step()
        .input("to", "dpl_abc")
        .input("reason", "checkout broken")
        .run(EXE, &[]);
    contract::assert_not_implemented(&result, "shipline-rollback", 5);
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
    contract::assert_not_implemented(&result, "shipline-rollback", 5);
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
        ("dry-run", "sure", "is not a boolean"),
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

//! `shipline-backup-check` as a process in a simulated Actions step.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

use shipline_backup_check::BackupCheck;
use shipline_testkit::{ActionsStep, contract};

mod archive;
mod drill;
mod supabase;

pub const EXE: &str = env!("CARGO_BIN_EXE_shipline-backup-check");

pub fn schedule() -> ActionsStep {
    ActionsStep::with_event("schedule", "schedule.json")
}

#[test]
fn help_and_bad_arguments() {
    contract::assert_help_documents_every_input::<BackupCheck>(EXE);
    contract::assert_bad_arguments_exit_2::<BackupCheck>(EXE);
}

#[test]
fn supabase_needs_a_project_and_a_token() {
    let result = schedule().input("provider", "supabase").run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(result.stdout.contains("::error title=invalid input `project-ref`::is required; set `project-ref` in `with:` (env `INPUT_PROJECT_REF`) or `SUPABASE_PROJECT_REF`"), "{}", result.stdout);
    let api = shipline_testkit::fakes::supabase::start("sbp_0123456789", "abcdefghijklmnopqrst");
    let result = schedule()
        .input("provider", "supabase")
        .env("SUPABASE_PROJECT_REF", "abcdefghijklmnopqrst")
        .env("SUPABASE_ACCESS_TOKEN", "sbp_0123456789")
        .env("SUPABASE_API_URL", &api.base_url())
        .input("require-pitr", "false")
        .run(EXE, &[]);
    // The env fallbacks are used (the fake knows this project and token; it has no backups
    // yet, so the check fails), and the token was masked before anything else was printed.
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("newest backup::none"),
        "{}",
        result.stdout
    );
    assert_eq!(api.requests().len(), 1);
    assert!(result.stdout.starts_with("::add-mask::sbp_0123456789\n"));
}

#[test]
fn postgres_and_the_drill_need_a_database_url() {
    let result = schedule().input("provider", "postgres").run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("invalid input `database-url`"),
        "{}",
        result.stdout
    );
    let result = schedule()
        .input("provider", "supabase")
        .input("project-ref", "abcdefghijklmnopqrst")
        .input("access-token", "sbp_x")
        .input("restore-drill", "true")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result
            .stdout
            .contains("is required with `restore-drill: true`"),
        "{}",
        result.stdout
    );
}

#[test]
fn bad_values_exit_2_naming_the_input() {
    let base = || {
        schedule()
            .input("provider", "postgres")
            .input("database-url", "postgres://h/db")
    };
    for (input, value, message) in [
        (
            "provider",
            "rds",
            "`rds` is not one of `supabase`, `postgres`",
        ),
        ("max-age", "1 day", "unknown unit"),
        ("require-pitr", "y", "is not a boolean"),
        (
            "scratch-database-url",
            "sqlite://x",
            "must start with `postgres://`",
        ),
    ] {
        let result = base().input(input, value).run(EXE, &[]);
        assert_eq!(result.code, Some(2), "{input}: {}", result.everything());
        assert!(
            result
                .stdout
                .contains(&format!("::error title=invalid input `{input}`::"))
                && result.stdout.contains(message),
            "{}",
            result.stdout
        );
    }
    for (input, value, message) in [
        ("tolerance", "lots", "is neither a row count"),
        ("sample-rows", "-1", "is not a whole number"),
        ("drill-from", "s3", "is not one of `dump`, `backup-dir`"),
        ("jobs", "0", ""),
    ] {
        let result = base()
            .input("restore-drill", "true")
            .input(input, value)
            .run(EXE, &[]);
        assert_eq!(result.code, Some(2), "{input}: {}", result.everything());
        assert!(
            result
                .stdout
                .contains(&format!("::error title=invalid input `{input}`::"))
                && result.stdout.contains(message),
            "{}",
            result.stdout
        );
    }
    let result = base()
        .input("restore-drill", "true")
        .input("drill-from", "backup-dir")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result
            .stdout
            .contains("invalid input `backup-dir`::is required with `drill-from: backup-dir`"),
        "{}",
        result.stdout
    );
    let result = base()
        .input("incident", "github-issue")
        .input("incident-key", "a b")
        .env("GITHUB_TOKEN", "t")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result.stdout.contains("invalid input `incident-key`"),
        "{}",
        result.stdout
    );
    let result = base().input("min-retention", "7d").run(EXE, &[]);
    assert_eq!(result.code, Some(2));
    assert!(
        result
            .stdout
            .contains("invalid input `min-retention`::is for `provider: supabase`"),
        "{}",
        result.stdout
    );
}

//! `shipline-migrate` as a process in a simulated Actions step.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

use shipline_migrate::Migrate;
use shipline_testkit::{ActionsStep, contract};

/// Inputs given, the input the error must name, and what it must say.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

const EXE: &str = env!("CARGO_BIN_EXE_shipline-migrate");

fn step() -> ActionsStep {
    let step = ActionsStep::push();
    std::fs::create_dir_all(step.workspace().join("supabase/migrations")).unwrap();
    step
}

#[test]
fn help_and_bad_arguments() {
    contract::assert_help_documents_every_input::<Migrate>(EXE);
    contract::assert_bad_arguments_exit_2::<Migrate>(EXE);
}

#[test]
fn bad_values_exit_2_naming_the_input() {
    let cases: &[Case] = &[
        (&[], "command", "is required"),
        (
            &[("command", "migrate")],
            "command",
            "`migrate` is not one of `status`, `plan`, `lint`, `up`, `down`, `repair`, `verify`",
        ),
        (&[("command", "up")], "database-url", "or `DATABASE_URL`"),
        (
            &[
                ("command", "up"),
                ("database-url", "mysql://u:hunter2@h/db"),
            ],
            "database-url",
            "`mysql://u:****@h/db` must start with `postgres://` or `postgresql://`",
        ),
        (
            &[("command", "down"), ("database-url", "postgres://h/db")],
            "to",
            "is required for `down`",
        ),
        (
            &[
                ("command", "up"),
                ("database-url", "postgres://h/db"),
                ("to", "latest"),
            ],
            "to",
            "is not a migration version",
        ),
        (
            &[
                ("command", "up"),
                ("database-url", "postgres://h/db"),
                ("lock-timeout", "5"),
            ],
            "lock-timeout",
            "has no unit",
        ),
        (
            &[
                ("command", "up"),
                ("database-url", "postgres://h/db"),
                ("directory", "db/migrations"),
            ],
            "directory",
            "does not exist",
        ),
        (
            &[
                ("command", "up"),
                ("database-url", "postgres://h/db"),
                ("dry-run", "perhaps"),
            ],
            "dry-run",
            "is not a boolean",
        ),
    ];
    for (inputs, input, message) in cases {
        let mut s = step().env("DATABASE_URL", "");
        for (k, v) in *inputs {
            s = s.input(k, v);
        }
        let result = s.run(EXE, &[]);
        assert_eq!(result.code, Some(2), "{input}: {}", result.everything());
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
        assert!(!result.shown().contains("hunter2"), "{}", result.shown());
    }
}

mod commands;
mod supabase_cli;

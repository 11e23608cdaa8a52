//! Checks every shipline binary must pass, whatever it does: its inputs documented, its
//! env values never shown, bad arguments refused with exit 2 and nothing written.

use clap::CommandFactory;
use shipline_cli::Tool;

use crate::ActionsStep;

/// Every input of `T` as `(long flag, env name)`.
pub fn inputs<T: Tool>() -> Vec<(String, String)> {
    T::Args::command()
        .get_arguments()
        .filter_map(|arg| {
            let long = arg.get_long()?.to_owned();
            let env = arg.get_env()?.to_str()?.to_owned();
            Some((long, env))
        })
        .collect()
}

/// `--help` names every flag and its env variable, and shows no env value even when set.
pub fn assert_help_documents_every_input<T: Tool>(exe: &str) {
    let mut step = ActionsStep::push();
    for (_, env) in inputs::<T>() {
        step = step.env(&env, "sentinel-value-do-not-show");
    }
    let result = step.run(exe, &["--help"]);
    assert_eq!(result.code, Some(0), "{}", result.stderr);
    // Help text is wrapped to the terminal's width: compare with white space folded.
    let help = result
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (long, env) in inputs::<T>() {
        assert!(
            help.contains(&format!("--{long} ")),
            "`--{long}` is not in --help"
        );
        assert!(
            help.contains(&format!("[env: {env}]")),
            "`{env}` is not in --help"
        );
    }
    // `::add-mask::` lines register secrets with the runner (which never shows them); any
    // other line must not carry a value.
    let shown: Vec<&str> = result
        .stdout
        .lines()
        .chain(result.stderr.lines())
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    assert!(
        !shown.join("\n").contains("sentinel-value"),
        "--help showed an env value"
    );
    for arg in T::Args::command().get_arguments() {
        if arg
            .get_long()
            .is_some_and(|l| l != "help" && l != "version")
        {
            assert!(
                arg.get_help().is_some(),
                "`--{}` has no help text",
                arg.get_long().unwrap_or_default()
            );
        }
    }
    let version = ActionsStep::push().run(exe, &["--version"]);
    assert_eq!(version.code, Some(0));
    assert!(version.stdout.starts_with(T::BIN), "{}", version.stdout);
}

/// An unknown flag and a bad `output` are refused with exit 2, an annotation, and no outputs.
pub fn assert_bad_arguments_exit_2<T: Tool>(exe: &str) {
    let step = ActionsStep::push();
    let result = step.run(exe, &["--no-such-flag", "x"]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result.stdout.contains("::error title=invalid arguments::"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("--no-such-flag"),
        "{}",
        result.stdout
    );
    assert!(result.outputs.is_empty(), "{:?}", result.outputs);

    let step = ActionsStep::push().input("output", "yaml");
    let result = step.run(exe, &[]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::error title=invalid input `output`::`yaml` is not one of `text`, `json`"),
        "{}",
        result.stdout
    );
    assert!(result.outputs.is_empty());
    assert!(
        result.summary.contains("invalid input `output`"),
        "{}",
        result.summary
    );
}

/// A valid run of a binary whose command is not built yet exits 1 and says so plainly.
pub fn assert_not_implemented(result: &crate::actions_env::StepResult, bin: &str, issue: u32) {
    assert_eq!(result.code, Some(1), "{}", result.everything());
    let expected = format!(
        "`{bin}` is not implemented yet (tracked in issue #{issue}); the inputs were valid"
    );
    assert!(result.stdout.contains(&expected), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains(&format!("::error title={bin}%3A not implemented yet::")),
        "{}",
        result.stdout
    );
    assert!(
        result.outputs.is_empty(),
        "no outputs from a run that did nothing: {:?}",
        result.outputs
    );
}

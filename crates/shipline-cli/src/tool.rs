//! The run of one binary, from argv to exit code.

use std::ffi::OsString;
use std::future::Future;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use shipline_actions::{Annotation, Event, GithubContext, Outcome, OutputFormat, Report, Runtime};
use shipline_core::secret::redact_text;
use shipline_core::{EnvVars, ExitStatus, InputError, Secret};

use crate::env::Env;
use crate::inputs::CommonArgs;

/// What the edge knows about the run, handed to validation and to the command.
pub struct Ctx {
    pub rt: Runtime,
    pub env: Env,
    pub github: GithubContext,
    pub event: Event,
}

/// One shipline binary.
pub trait Tool {
    /// The binary's name, e.g. `shipline-deploy`.
    const BIN: &'static str;
    /// Its action's folder under `actions/`, e.g. `deploy`.
    const ACTION: &'static str;
    /// Inputs whose values are secrets: masked before anything is printed.
    const SECRET_INPUTS: &'static [&'static str];
    /// Conventional env names read as fallbacks that hold secrets (`VERCEL_TOKEN`).
    const SECRET_ENV: &'static [&'static str];
    /// The step outputs it writes, with a description each (for `action.yml`).
    const OUTPUTS: &'static [(&'static str, &'static str)];

    type Args: clap::Parser;
    type Config;

    fn common(args: &Self::Args) -> &CommonArgs;

    /// Raw inputs → checked configuration. No side effects: on error nothing has been done.
    fn validate(args: Self::Args, ctx: &Ctx) -> Result<Self::Config, InputError>;

    /// The command itself.
    fn run(config: Self::Config, ctx: &mut Ctx) -> impl Future<Output = anyhow::Result<Report>>;
}

/// A part that is not built yet: exit 1, saying so, never a fake success.
#[derive(Debug, thiserror::Error)]
#[error("`{bin}`{what} is not implemented yet (tracked in issue #{issue}); the inputs were valid")]
pub struct NotImplemented {
    pub bin: &'static str,
    /// What exactly, with a leading space (` command \`down\``), or empty for the whole tool.
    pub what: String,
    pub issue: u32,
}

/// The one mapping from a result to an exit status.
pub fn classify(result: &anyhow::Result<Report>) -> ExitStatus {
    match result {
        Ok(report) => match report.outcome {
            Outcome::Success => ExitStatus::Success,
            Outcome::Failure => ExitStatus::Failure,
            Outcome::InvalidInput => ExitStatus::BadInput,
        },
        Err(error) if error.downcast_ref::<InputError>().is_some() => ExitStatus::BadInput,
        Err(_) => ExitStatus::Failure,
    }
}

/// `main` of every binary.
pub fn main<T: Tool>() -> ExitCode {
    let status = run_with::<T>(std::env::args_os().collect(), Env::process());
    ExitCode::from(status.code())
}

/// The whole run, with argv and env given.
pub fn run_with<T: Tool>(argv: Vec<OsString>, env: Env) -> ExitStatus {
    let json = wants_json(&argv, &env);
    let format = if json {
        OutputFormat::Json
    } else {
        OutputFormat::Text
    };
    let mut rt = Runtime::from_lookup(|k| env.var(k), format);

    // 1. Masks first: nothing below may print a secret the runner does not know about yet.
    let secrets = raw_secrets(T::SECRET_INPUTS, T::SECRET_ENV, &argv, &env);
    let secret_refs: Vec<&Secret> = secrets.iter().collect();
    rt.mask(&secret_refs);

    // 2. Parse: flags win over `INPUT_*`, and an empty `INPUT_*` counts as unset.
    let (command, argv) = with_env_inputs(T::Args::command(), argv, &env);
    let matches = match command.try_get_matches_from(&argv) {
        Ok(matches) => matches,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                let _ = error.print();
                return ExitStatus::Success;
            }
            let message = error.render().to_string();
            let message = message.trim().trim_start_matches("error: ").to_owned();
            let report = Report::new(T::BIN, Outcome::InvalidInput, "invalid arguments")
                .annotation(Annotation::error(message).title("invalid arguments"));
            let _ = rt.finish(&report);
            return ExitStatus::BadInput;
        }
    };
    let args = match T::Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(error) => {
            let report = Report::new(T::BIN, Outcome::InvalidInput, "invalid arguments")
                .annotation(Annotation::error(error.to_string()).title("invalid arguments"));
            let _ = rt.finish(&report);
            return ExitStatus::BadInput;
        }
    };
    init_logging(&env);

    // 3. Validate before any side effect.
    let github = GithubContext::from_lookup(|k| env.var(k));
    let event = match Event::from_env(
        env.var(EnvVars::GITHUB_EVENT_NAME).as_deref(),
        env.var(EnvVars::GITHUB_EVENT_PATH).as_deref(),
    ) {
        Ok(event) => event,
        Err(error) => {
            rt.annotate(&Annotation::warning(error.to_string()));
            Event::None
        }
    };
    let mut ctx = Ctx {
        rt,
        env,
        github,
        event,
    };
    if let Err(error) = check_output(T::common(&args)) {
        return finish_input_error::<T>(&mut ctx, &error, &secret_refs);
    }
    let config = match T::validate(args, &ctx) {
        Ok(config) => config,
        Err(error) => return finish_input_error::<T>(&mut ctx, &error, &secret_refs),
    };

    // 4. Run.
    let result = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(T::run(config, &mut ctx)),
        Err(error) => Err(anyhow::anyhow!(
            "could not start the async runtime: {error}"
        )),
    };
    let status = classify(&result);
    let report = match result {
        Ok(report) => report,
        // Bad input only the remote side could reveal (a wrong token, an unknown project)
        // reads like any other bad input.
        Err(error) if error.downcast_ref::<InputError>().is_some() => {
            if let Some(input) = error.downcast_ref::<InputError>() {
                return finish_input_error::<T>(&mut ctx, input, &secret_refs);
            }
            Report::new(T::BIN, Outcome::InvalidInput, "invalid input")
        }
        Err(error) => {
            let message = redact_text(&format!("{error:#}"), &secret_refs);
            let outcome = if status == ExitStatus::BadInput {
                Outcome::InvalidInput
            } else {
                Outcome::Failure
            };
            let title = if status == ExitStatus::BadInput {
                "invalid input"
            } else if error.downcast_ref::<NotImplemented>().is_some() {
                "not implemented yet"
            } else {
                "failed"
            };
            Report::new(T::BIN, outcome, title)
                .annotation(Annotation::error(message).title(format!("{}: {title}", T::BIN)))
        }
    };
    if let Err(error) = ctx.rt.finish(&report) {
        ctx.rt.log(&format!("error: {error}"));
        return ExitStatus::Failure;
    }
    status
}

fn finish_input_error<T: Tool>(
    ctx: &mut Ctx,
    error: &InputError,
    secrets: &[&Secret],
) -> ExitStatus {
    let message = redact_text(&error.message, secrets);
    let title = format!("invalid input `{}`", error.input);
    let report = Report::new(T::BIN, Outcome::InvalidInput, title.clone())
        .annotation(Annotation::error(message).title(title));
    let _ = ctx.rt.finish(&report);
    ExitStatus::BadInput
}

fn check_output(common: &CommonArgs) -> Result<(), InputError> {
    crate::parse_choice("output", &common.output, &["text", "json"]).map(|_| ())
}

/// Turns env inputs into flags, so `Env` (not clap reading the process env behind our back)
/// is the one source of env values: a flag given on the command line wins, an empty or unset
/// variable adds nothing. For `--help`/`--version` clap keeps its env sources, only to show
/// their names (never their values).
fn with_env_inputs(
    command: clap::Command,
    mut argv: Vec<OsString>,
    env: &Env,
) -> (clap::Command, Vec<OsString>) {
    let command = command.mut_args(|arg| arg.hide_env_values(true));
    let showing_help = argv
        .iter()
        .skip(1)
        .any(|a| matches!(a.to_str(), Some("--help" | "-h" | "--version" | "-V")));
    if showing_help {
        return (command, argv);
    }
    let given: Vec<String> = argv
        .iter()
        .skip(1)
        .take_while(|a| a.to_str() != Some("--"))
        .filter_map(|a| a.to_str())
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap_or(a).to_owned())
        .collect();
    let mut extra = Vec::new();
    for arg in command.get_arguments() {
        let (Some(long), Some(name)) = (arg.get_long(), arg.get_env().and_then(|n| n.to_str()))
        else {
            continue;
        };
        if given.iter().any(|g| g == long) {
            continue;
        }
        if let Some(value) = env.var(name) {
            extra.push(OsString::from(format!("--{long}={value}")));
        }
    }
    let insert_at = argv
        .iter()
        .position(|a| a.to_str() == Some("--"))
        .unwrap_or(argv.len());
    argv.splice(insert_at..insert_at, extra);
    (command.mut_args(|arg| arg.env(None)), argv)
}

/// Decided before parsing, because masks and parse errors are printed before clap has run:
/// with JSON on stdout, workflow commands must go to stderr from the first line.
fn wants_json(argv: &[OsString], env: &Env) -> bool {
    let mut args = argv.iter().filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        if arg == "--output=json" {
            return true;
        }
        if arg == "--output" {
            return args.next() == Some("json");
        }
    }
    env.var("INPUT_OUTPUT").as_deref() == Some("json")
}

/// Every value that may be a secret, read raw from argv and env, before clap sees anything.
fn raw_secrets(inputs: &[&str], env_names: &[&str], argv: &[OsString], env: &Env) -> Vec<Secret> {
    let mut values = Vec::new();
    for input in inputs {
        if let Some(v) = env.var(&EnvVars::input(input)) {
            values.push(v);
        }
        let flag = format!("--{input}");
        let flag_eq = format!("--{input}=");
        let mut args = argv.iter().filter_map(|a| a.to_str());
        while let Some(arg) = args.next() {
            if arg == flag {
                if let Some(v) = args.next() {
                    values.push(v.to_owned());
                }
            } else if let Some(v) = arg.strip_prefix(&flag_eq) {
                values.push(v.to_owned());
            }
        }
    }
    for name in env_names {
        if let Some(v) = env.var(name) {
            values.push(v);
        }
    }
    let mut secrets = Vec::new();
    for value in values {
        // A connection string's password also appears alone and percent-decoded in messages
        // from other tools (libpq, the Supabase CLI).
        if let Some(password) = url::Url::parse(&value)
            .ok()
            .as_ref()
            .and_then(url::Url::password)
        {
            secrets.push(Secret::new(password));
            let decoded = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
            if decoded != password {
                secrets.push(Secret::new(decoded.into_owned()));
            }
        }
        secrets.push(Secret::new(value));
    }
    secrets
}

/// Diagnostics on stderr: `RUST_LOG` wins; `RUNNER_DEBUG=1` (a debug re-run) turns on debug.
fn init_logging(env: &Env) {
    let filter = env.var(EnvVars::RUST_LOG).unwrap_or_else(|| {
        if env.var(EnvVars::RUNNER_DEBUG).as_deref() == Some("1") {
            "debug".into()
        } else {
            "warn".into()
        }
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

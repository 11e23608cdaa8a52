//! `shipline-migrate`: Supabase-layout migrations with checksums, a lock, lint and down scripts.

mod run;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_bool, parse_choice, parse_dir,
    parse_duration_input, parse_postgres_url, parse_version, required,
};
use shipline_core::{EnvVars, InputError, SafeUrl};

/// Plan, lint, apply and revert SQL migrations (`supabase/migrations/<version>_<name>.sql`) on PostgreSQL.
///
/// Writes the Supabase CLI's own history table, so `supabase migration list` agrees.
#[derive(Debug, Parser)]
#[command(name = "shipline-migrate", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// What to do: `status`, `plan`, `lint`, `up`, `down`, `repair`, or `verify` (on a scratch database: apply, revert, apply again, compare).
    #[arg(long, env = "INPUT_COMMAND")]
    pub command: Option<String>,

    /// PostgreSQL connection string (`postgres://…`). Fallback: `DATABASE_URL`.
    #[arg(long, env = "INPUT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The migrations folder; down scripts live in `<directory>/down/<same file name>`.
    #[arg(long, env = "INPUT_DIRECTORY", default_value = "supabase/migrations")]
    pub directory: String,

    /// Target version: `up` stops after it, `down` reverts everything newer than it.
    #[arg(long, env = "INPUT_TO")]
    pub to: Option<String>,

    /// Show what would run, change nothing.
    #[arg(long, env = "INPUT_DRY_RUN", default_value = "false")]
    pub dry_run: String,

    /// How long a statement may wait for a lock before the file is retried, e.g. `5s`.
    #[arg(long, env = "INPUT_LOCK_TIMEOUT", default_value = "5s")]
    pub lock_timeout: String,

    /// Longest a single statement may run, e.g. `10m`. Default: no limit.
    #[arg(long, env = "INPUT_STATEMENT_TIMEOUT")]
    pub statement_timeout: Option<String>,

    /// Allow `DROP`, `TRUNCATE` and `DELETE` without `WHERE` in pending files.
    #[arg(long, env = "INPUT_ALLOW_DESTRUCTIVE", default_value = "false")]
    pub allow_destructive: String,

    /// For `repair`: the versions to mark, comma- or line-separated.
    #[arg(long, env = "INPUT_VERSIONS")]
    pub versions: Option<String>,

    /// For `repair`: `applied` (record the local files' statements) or `reverted` (remove the rows).
    #[arg(long, env = "INPUT_STATUS")]
    pub status: Option<String>,

    /// Apply pending files older than the newest applied one instead of refusing.
    #[arg(long, env = "INPUT_ALLOW_OUT_OF_ORDER", default_value = "false")]
    pub allow_out_of_order: String,

    /// First create the roles, schemas and `auth` functions Supabase migrations use (for a plain PostgreSQL in CI).
    #[arg(long, env = "INPUT_SUPABASE_SHIM", default_value = "false")]
    pub supabase_shim: String,
}

/// What `migrate` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Status,
    Plan,
    Lint,
    Up,
    Down,
    Repair,
    Verify,
}

/// A checked migrate run.
#[derive(Debug)]
pub struct Config {
    pub command: Command,
    /// `None` only for `lint`, which reads files alone.
    pub database_url: Option<SafeUrl>,
    pub directory: PathBuf,
    pub to: Option<String>,
    pub dry_run: bool,
    pub lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub allow_destructive: bool,
    /// For `repair`: the versions and whether they are now applied.
    pub repair: Option<(Vec<String>, bool)>,
    pub allow_out_of_order: bool,
    pub supabase_shim: bool,
    /// The connection, checked (`sslmode`) during validation.
    pub target: Option<shipline_pg::Target>,
}

/// The `shipline-migrate` binary.
pub struct Migrate;

impl Tool for Migrate {
    const BIN: &'static str = "shipline-migrate";
    const ACTION: &'static str = "migrate";
    const SECRET_INPUTS: &'static [&'static str] = &["database-url"];
    const SECRET_ENV: &'static [&'static str] = &[EnvVars::DATABASE_URL];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        (
            "applied",
            "How many migrations this run applied (or reverted, for `down`).",
        ),
        ("pending", "How many migrations are still pending."),
        ("version", "The newest applied version after the run."),
        (
            "findings",
            "Lint findings, one per line: `file:line: rule: message`.",
        ),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let command = match parse_choice(
            "command",
            &required(args.command, "command", None)?,
            &["status", "plan", "lint", "up", "down", "repair", "verify"],
        )? {
            "status" => Command::Status,
            "plan" => Command::Plan,
            "lint" => Command::Lint,
            "up" => Command::Up,
            "down" => Command::Down,
            "verify" => Command::Verify,
            _ => Command::Repair,
        };
        let database_url = match or_env(args.database_url, &ctx.env, EnvVars::DATABASE_URL) {
            Some(url) => Some(parse_postgres_url("database-url", &url)?),
            None if command == Command::Lint => None,
            None => {
                return Err(InputError::missing(
                    "database-url",
                    Some(EnvVars::DATABASE_URL),
                ));
            }
        };
        let to = nonempty(args.to)
            .map(|v| parse_version("to", &v))
            .transpose()?;
        if command == Command::Down && to.is_none() {
            return Err(InputError::new(
                "to",
                "is required for `down`: name the version to go back to (everything newer is reverted)",
            ));
        }
        let repair = if command == Command::Repair {
            let versions: Vec<String> =
                shipline_cli::parse_list(&required(args.versions, "versions", None)?)
                    .iter()
                    .map(|v| parse_version("versions", v))
                    .collect::<Result<_, _>>()?;
            let applied = parse_choice(
                "status",
                &required(args.status, "status", None)?,
                &["applied", "reverted"],
            )? == "applied";
            Some((versions, applied))
        } else {
            None
        };
        let target = match &database_url {
            Some(url) => Some(
                shipline_pg::Target::parse(url)
                    .map_err(|e| InputError::new("database-url", e.to_string()))?,
            ),
            None => None,
        };
        Ok(Config {
            command,
            repair,
            allow_out_of_order: parse_bool("allow-out-of-order", &args.allow_out_of_order)?,
            supabase_shim: parse_bool("supabase-shim", &args.supabase_shim)?,
            target,
            database_url,
            directory: parse_dir(
                "directory",
                &args.directory,
                "run from the repository root, or point `directory` at the migrations folder",
            )?,
            to,
            dry_run: parse_bool("dry-run", &args.dry_run)?,
            lock_timeout: parse_duration_input("lock-timeout", &args.lock_timeout)?,
            statement_timeout: nonempty(args.statement_timeout)
                .map(|v| parse_duration_input("statement-timeout", &v))
                .transpose()?,
            allow_destructive: parse_bool("allow-destructive", &args.allow_destructive)?,
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        crate::run::run(config, ctx).await
    }
}

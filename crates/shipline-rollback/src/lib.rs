//! `shipline-rollback`: the previous good release back, and its schema when asked.

use std::path::PathBuf;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, NotImplemented, Tool, nonempty, or_env, parse_bool, parse_postgres_url,
    required,
};
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};
use shipline_hosting::{Host, HostInputs, RecordStore};

/// Put the previous good deployment back (and optionally its schema version).
#[derive(Debug, Parser)]
#[command(name = "shipline-rollback", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub host: HostInputs,

    /// The environment to roll back.
    #[arg(long, env = "INPUT_ENVIRONMENT", default_value = "production")]
    pub environment: String,

    /// `previous` (the last good release before the one serving now), a provider deployment id, or a git SHA.
    #[arg(long, env = "INPUT_TO", default_value = "previous")]
    pub to: String,

    /// Token to read and write GitHub deployment records. Fallback: `GITHUB_TOKEN`.
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,

    /// Also revert the schema to the target's migration version (runs down scripts).
    #[arg(long, env = "INPUT_WITH_MIGRATIONS", default_value = "false")]
    pub with_migrations: String,

    /// PostgreSQL connection string, for `with-migrations`. Fallback: `DATABASE_URL`.
    #[arg(long, env = "INPUT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The migrations folder, for `with-migrations`.
    #[arg(long, env = "INPUT_DIRECTORY", default_value = "supabase/migrations")]
    pub directory: String,

    /// Why: recorded on the deployment status and in the report.
    #[arg(long, env = "INPUT_REASON")]
    pub reason: Option<String>,

    /// Show the plan, change nothing.
    #[arg(long, env = "INPUT_DRY_RUN", default_value = "false")]
    pub dry_run: String,

    /// Where deployment records live: `github` or `fs:<dir>`. Default: `github` in Actions, else `fs:.shipline/records`.
    #[arg(long, env = "INPUT_RECORD_STORE")]
    pub record_store: Option<String>,
}

/// Which release to put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Previous,
    /// A provider deployment id or a git SHA; told apart when the records are read.
    Id(String),
}

/// A checked rollback.
#[derive(Debug)]
pub struct Config {
    pub host: Host,
    pub environment: String,
    pub to: Target,
    pub github_token: Option<Secret>,
    /// Set when `with-migrations` is on.
    pub database_url: Option<SafeUrl>,
    pub directory: PathBuf,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub record_store: RecordStore,
}

/// The `shipline-rollback` binary.
pub struct Rollback;

impl Tool for Rollback {
    const BIN: &'static str = "shipline-rollback";
    const ACTION: &'static str = "rollback";
    const SECRET_INPUTS: &'static [&'static str] = &["token", "github-token", "database-url"];
    const SECRET_ENV: &'static [&'static str] = &[
        EnvVars::VERCEL_TOKEN,
        EnvVars::NETLIFY_AUTH_TOKEN,
        EnvVars::GITHUB_TOKEN,
        EnvVars::DATABASE_URL,
    ];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        ("url", "The URL now serving the restored release."),
        ("deployment-id", "The host's id of the restored deployment."),
        ("from", "The host's id of the deployment that was replaced."),
        (
            "migration-version",
            "The schema version after the rollback.",
        ),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let env = &ctx.env;
        let host = args.host.validate(env)?;
        let environment = required(Some(args.environment), "environment", None)?;
        let to = match required(Some(args.to), "to", None)?.as_str() {
            "previous" => Target::Previous,
            other if other.contains(char::is_whitespace) => {
                return Err(InputError::new(
                    "to",
                    format!("`{other}` is not `previous`, a deployment id or a git SHA"),
                ));
            }
            other => Target::Id(other.to_owned()),
        };
        let with_migrations = parse_bool("with-migrations", &args.with_migrations)?;
        let database_url = if with_migrations {
            let url = or_env(args.database_url, env, EnvVars::DATABASE_URL)
                .ok_or_else(|| InputError::new("database-url", "is required with `with-migrations: true`; set `database-url` or `DATABASE_URL`"))?;
            Some(parse_postgres_url("database-url", &url)?)
        } else {
            None
        };
        let record_store = RecordStore::parse(args.record_store, ctx.rt.in_actions())?;
        Ok(Config {
            host,
            environment,
            to,
            github_token: or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).map(Secret::new),
            database_url,
            directory: PathBuf::from(args.directory),
            reason: nonempty(args.reason),
            dry_run: parse_bool("dry-run", &args.dry_run)?,
            record_store,
        })
    }

    async fn run(config: Config, _ctx: &mut Ctx) -> anyhow::Result<Report> {
        let _ = config;
        Err(NotImplemented {
            bin: Self::BIN,
            what: String::new(),
            issue: 5,
        }
        .into())
    }
}

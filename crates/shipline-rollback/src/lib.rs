//! `shipline-rollback`: the previous good release back, and its schema when asked.

mod run;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_bool, parse_dir, parse_duration_input,
    parse_postgres_url, required,
};
use shipline_core::{EnvVars, InputError, Secret};
pub use shipline_deploy::rollback::Want;
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

    /// How long the whole rollback may take, e.g. `2m`.
    #[arg(long, env = "INPUT_TIMEOUT", default_value = "2m")]
    pub timeout: String,

    /// Path requested on production after the switch.
    #[arg(long, env = "INPUT_SMOKE_PATH", default_value = "/")]
    pub smoke_path: String,

    /// Text the smoke path must contain.
    #[arg(long, env = "INPUT_EXPECT_TEXT")]
    pub expect_text: Option<String>,

    /// Unknown paths serve `index.html` (for the on-disk check of an fs release).
    #[arg(long, env = "INPUT_SPA", default_value = "true")]
    pub spa: String,

    /// For `fs`: the URL where `current` is served (checked after the switch; else the release is checked on disk).
    #[arg(long, env = "INPUT_SITE_URL")]
    pub site_url: Option<String>,
}

/// A checked rollback.
#[derive(Debug)]
pub struct Config {
    pub host: Host,
    pub environment: String,
    pub to: Want,
    pub github_token: Option<Secret>,
    /// Set when `with-migrations` is on.
    pub database: Option<shipline_pg::Target>,
    pub directory: PathBuf,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub record_store: RecordStore,
    pub timeout: Duration,
    pub smoke_path: String,
    pub expect_text: Option<String>,
    pub spa: bool,
    pub site_url: Option<String>,
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
        EnvVars::CLOUDFLARE_API_TOKEN,
        EnvVars::AWS_SECRET_ACCESS_KEY,
        EnvVars::AWS_SESSION_TOKEN,
        EnvVars::ACTIONS_ID_TOKEN_REQUEST_TOKEN,
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
            "previous" => Want::Previous,
            other if !shipline_deploy::rollback::is_deployment_id(other) => {
                return Err(InputError::new(
                    "to",
                    format!("`{other}` is not `previous`, a deployment id or a git SHA"),
                ));
            }
            other => Want::Id(other.to_owned()),
        };
        let with_migrations = parse_bool("with-migrations", &args.with_migrations)?;
        let (database, directory) = if with_migrations {
            let url = or_env(args.database_url, env, EnvVars::DATABASE_URL)
                .ok_or_else(|| InputError::new("database-url", "is required with `with-migrations: true`; set `database-url` or `DATABASE_URL`"))?;
            let url = parse_postgres_url("database-url", &url)?;
            let target = shipline_pg::Target::parse(&url)
                .map_err(|e| InputError::new("database-url", e.to_string()))?;
            let directory = parse_dir(
                "directory",
                &args.directory,
                "run from the repository root (check it out), or point `directory` at the migrations folder",
            )?;
            (Some(target), directory)
        } else {
            (None, PathBuf::from(args.directory))
        };
        let smoke_path = required(Some(args.smoke_path), "smoke-path", None)?;
        if !smoke_path.starts_with('/') {
            return Err(InputError::new(
                "smoke-path",
                format!("`{smoke_path}` must be a path starting with `/`, e.g. `/health`"),
            ));
        }
        let site_url = nonempty(args.site_url)
            .map(|v| shipline_cli::parse_url("site-url", &v, &["http", "https"]).map(|_| v))
            .transpose()?;
        let record_store = RecordStore::parse(args.record_store, ctx.rt.in_actions())?;
        let config = Config {
            host,
            environment,
            to,
            github_token: or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).map(Secret::new),
            database,
            directory,
            reason: nonempty(args.reason),
            dry_run: parse_bool("dry-run", &args.dry_run)?,
            record_store,
            timeout: parse_duration_input("timeout", &args.timeout)?,
            smoke_path,
            expect_text: nonempty(args.expect_text),
            spa: parse_bool("spa", &args.spa)?,
            site_url,
        };
        // Last, so a bad value of any other input is named first.
        if config.record_store == RecordStore::GitHub {
            if config.github_token.is_none() {
                return Err(InputError::new(
                    "github-token",
                    "is required to read and update the deployment records on GitHub; pass `github-token: ${{ github.token }}` (with `permissions: deployments: write`), or set `record-store: fs:<dir>`",
                ));
            }
            if ctx.github.owner_repo().is_none() {
                return Err(InputError::new(
                    "record-store",
                    "`github` needs `GITHUB_REPOSITORY` (owner/repo); outside Actions use `fs:<dir>`",
                ));
            }
        }
        Ok(config)
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        run::rollback(config, ctx).await
    }
}

//! `shipline-deploy`: upload a built site, wait until it is live, verify it, record it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, NotImplemented, Tool, nonempty, or_env, parse_bool, parse_dir,
    parse_duration_input, parse_positive, parse_version, required,
};
use shipline_core::{EnvVars, InputError, Secret};
use shipline_hosting::{Host, HostInputs, RecordStore};

/// Deploy a built web app (a Vite `dist/`) to Vercel, Netlify or a self-hosted directory.
///
/// Production deploys are staged and verified at their own URL before any traffic moves.
#[derive(Debug, Parser)]
#[command(name = "shipline-deploy", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub host: HostInputs,

    /// The built site to upload.
    #[arg(long, env = "INPUT_DIRECTORY", default_value = "dist")]
    pub directory: String,

    /// `production` or `preview`. Default: `preview` on `pull_request` events, else `production`.
    #[arg(long, env = "INPUT_ENVIRONMENT")]
    pub environment: Option<String>,

    /// Serve `index.html` for unknown paths (client-side routing).
    #[arg(long, env = "INPUT_SPA", default_value = "true")]
    pub spa: String,

    /// Token for the GitHub deployment record and PR comment. Fallback: `GITHUB_TOKEN`.
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,

    /// The commit being deployed. Default: `GITHUB_SHA`.
    #[arg(long = "ref", env = "INPUT_REF")]
    pub git_ref: Option<String>,

    /// The schema version this release expects, recorded for rollback.
    #[arg(long, env = "INPUT_MIGRATION_VERSION")]
    pub migration_version: Option<String>,

    /// Wait until the deployment is live.
    #[arg(long, env = "INPUT_WAIT", default_value = "true")]
    pub wait: String,

    /// How long to wait for the host, e.g. `5m`.
    #[arg(long, env = "INPUT_TIMEOUT", default_value = "5m")]
    pub timeout: String,

    /// Path requested on the staged deployment before it is promoted.
    #[arg(long, env = "INPUT_SMOKE_PATH", default_value = "/")]
    pub smoke_path: String,

    /// Text the smoke path must contain.
    #[arg(long, env = "INPUT_EXPECT_TEXT")]
    pub expect_text: Option<String>,

    /// After a failed verification of a production deploy, put the previous release back.
    #[arg(long, env = "INPUT_ROLLBACK_ON_FAILURE", default_value = "false")]
    pub rollback_on_failure: String,

    /// Refuse to deploy a bundle that contains a secret (a service-role key, a private key).
    #[arg(long, env = "INPUT_FORBID_SECRETS", default_value = "true")]
    pub forbid_secrets: String,

    /// Uploads in flight at once.
    #[arg(long, env = "INPUT_MAX_CONCURRENCY", default_value = "8")]
    pub max_concurrency: String,

    /// Where deployment records live: `github` (GitHub Deployments) or `fs:<dir>`. Default: `github` in Actions, else `fs:.shipline/records`.
    #[arg(long, env = "INPUT_RECORD_STORE")]
    pub record_store: Option<String>,
}

/// `production` or `preview`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Preview,
}

/// A checked deploy.
#[derive(Debug)]
pub struct Config {
    pub host: Host,
    pub directory: PathBuf,
    pub environment: Environment,
    pub spa: bool,
    pub github_token: Option<Secret>,
    pub git_ref: Option<String>,
    pub migration_version: Option<String>,
    pub wait: bool,
    pub timeout: Duration,
    pub smoke_path: String,
    pub expect_text: Option<String>,
    pub rollback_on_failure: bool,
    pub forbid_secrets: bool,
    pub max_concurrency: u64,
    pub record_store: RecordStore,
}

/// The `shipline-deploy` binary.
pub struct Deploy;

impl Tool for Deploy {
    const BIN: &'static str = "shipline-deploy";
    const ACTION: &'static str = "deploy";
    const SECRET_INPUTS: &'static [&'static str] = &["token", "github-token"];
    const SECRET_ENV: &'static [&'static str] = &[
        EnvVars::VERCEL_TOKEN,
        EnvVars::NETLIFY_AUTH_TOKEN,
        EnvVars::GITHUB_TOKEN,
    ];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        (
            "url",
            "The deployment's URL (production: the promoted URL).",
        ),
        ("deployment-id", "The host's deployment id."),
        (
            "github-deployment-id",
            "The id of the GitHub deployment record.",
        ),
        ("files-total", "Files in the deployed site."),
        (
            "files-uploaded",
            "Files the host did not have and that were uploaded.",
        ),
        ("duration-ms", "How long the deploy took, in milliseconds."),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let env = &ctx.env;
        let host = args.host.validate(env)?;
        let directory = parse_dir(
            "directory",
            &args.directory,
            "build the site first, or point `directory` at its output",
        )?;
        let environment = match nonempty(args.environment).as_deref() {
            None => match env.var(EnvVars::GITHUB_EVENT_NAME).as_deref() {
                Some("pull_request" | "pull_request_target") => Environment::Preview,
                _ => Environment::Production,
            },
            Some(v) => {
                match shipline_cli::parse_choice("environment", v, &["production", "preview"])? {
                    "production" => Environment::Production,
                    _ => Environment::Preview,
                }
            }
        };
        let smoke_path = required(Some(args.smoke_path), "smoke-path", None)?;
        if !smoke_path.starts_with('/') {
            return Err(InputError::new(
                "smoke-path",
                format!("`{smoke_path}` must be a path starting with `/`, e.g. `/health`"),
            ));
        }
        Ok(Config {
            host,
            directory,
            environment,
            spa: parse_bool("spa", &args.spa)?,
            github_token: or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).map(Secret::new),
            git_ref: or_env(args.git_ref, env, EnvVars::GITHUB_SHA),
            migration_version: nonempty(args.migration_version)
                .map(|v| parse_version("migration-version", &v))
                .transpose()?,
            wait: parse_bool("wait", &args.wait)?,
            timeout: parse_duration_input("timeout", &args.timeout)?,
            smoke_path,
            expect_text: nonempty(args.expect_text),
            rollback_on_failure: parse_bool("rollback-on-failure", &args.rollback_on_failure)?,
            forbid_secrets: parse_bool("forbid-secrets", &args.forbid_secrets)?,
            max_concurrency: parse_positive("max-concurrency", &args.max_concurrency, 64)?,
            record_store: RecordStore::parse(args.record_store, ctx.rt.in_actions())?,
        })
    }

    async fn run(config: Config, _ctx: &mut Ctx) -> anyhow::Result<Report> {
        let _ = config;
        Err(NotImplemented {
            bin: Self::BIN,
            what: String::new(),
            issue: 4,
        }
        .into())
    }
}

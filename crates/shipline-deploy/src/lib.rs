//! `shipline-deploy`: upload a built site, wait until it is live, verify it, record it.

pub mod amplify;
pub mod analytics;
pub mod aws;
pub mod cloudflare;
mod comment;
pub mod fs_host;
pub mod hosts;
pub mod netlify;
pub mod progress;
pub mod provider;
pub mod rollback;
mod run;
pub mod scan;
pub mod sentry_maps;
pub mod site;
pub mod sourcemaps;
pub mod vercel;
pub mod verify;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_bool, parse_dir, parse_duration_input,
    parse_list, parse_positive, parse_version, required,
};
use shipline_core::{EnvVars, InputError, Secret};
use shipline_hosting::{Host, HostInputs, RecordStore};

/// Deploy a built web app (a Vite `dist/`) to Vercel, Netlify, Cloudflare Pages, AWS Amplify or a self-hosted directory.
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

    /// Env variables (comma or newline separated names) whose values must not appear in the bundle, e.g. `SUPABASE_SERVICE_ROLE_KEY`.
    #[arg(long, env = "INPUT_FORBID_ENV")]
    pub forbid_env: Option<String>,

    /// Texts a production bundle must not contain (comma or newline separated), e.g. the preview Supabase URL.
    #[arg(long, env = "INPUT_FORBID_TEXT")]
    pub forbid_text: Option<String>,

    /// The pull request a preview belongs to. Default: the event's (set it in a `workflow_run` deploy of a fork's build).
    #[arg(long, env = "INPUT_PULL_REQUEST")]
    pub pull_request: Option<String>,

    /// For `fs`: releases to keep, the live one included.
    #[arg(long, env = "INPUT_KEEP", default_value = "5")]
    pub keep: String,

    /// For `fs`: the URL where `current` is served (for the outputs and the record).
    #[arg(long, env = "INPUT_SITE_URL")]
    pub site_url: Option<String>,

    /// On a pull request's preview: keep one sticky comment with the URL, commit, status, migrations and timings (needs `pull-requests: write`).
    #[arg(long, env = "INPUT_PR_COMMENT", default_value = "true")]
    pub pr_comment: String,

    /// A summary of the migration plan to show in the preview comment (e.g. `migrate plan`'s).
    #[arg(long, env = "INPUT_MIGRATIONS")]
    pub migrations: Option<String>,

    /// Inject Sentry debug IDs into the built JS and its source maps before hashing, upload the maps to Sentry as an artifact bundle, and create the release and a deploy marker.
    #[arg(long, env = "INPUT_SENTRY_SOURCEMAPS", default_value = "false")]
    pub sentry_sourcemaps: String,

    /// With `sentry-sourcemaps`: deploy the `.map` files too (by default they go to Sentry only).
    #[arg(long, env = "INPUT_KEEP_SOURCE_MAPS", default_value = "false")]
    pub keep_source_maps: String,

    /// The Sentry auth token (`project:releases`, `org:ci`). Fallback: `SENTRY_AUTH_TOKEN`.
    #[arg(long, env = "INPUT_SENTRY_TOKEN")]
    pub sentry_token: Option<String>,

    /// The Sentry organization slug. Fallback: `SENTRY_ORG`.
    #[arg(long, env = "INPUT_SENTRY_ORG")]
    pub sentry_org: Option<String>,

    /// The Sentry project slug. Fallback: `SENTRY_PROJECT`.
    #[arg(long, env = "INPUT_SENTRY_PROJECT")]
    pub sentry_project: Option<String>,

    /// The Sentry release; the SDK's `release` must be the same. Default: the commit SHA.
    #[arg(long, env = "INPUT_SENTRY_RELEASE")]
    pub sentry_release: Option<String>,

    /// Production builds must load this analytics: `plausible`, `fathom`, `ga4` (recognised by their script hosts), or a text its snippet contains (a self-hosted script's URL).
    #[arg(long, env = "INPUT_ANALYTICS")]
    pub analytics: Option<String>,

    /// The production site's id in the analytics tool (Plausible `data-domain`, Fathom site id, GA4 `G-…`): production builds must contain it, preview builds must not.
    #[arg(long, env = "INPUT_ANALYTICS_SITE")]
    pub analytics_site: Option<String>,

    /// Production builds must contain a Sentry DSN: `true` for any, or the DSN itself.
    #[arg(long, env = "INPUT_EXPECT_SENTRY_DSN")]
    pub expect_sentry_dsn: Option<String>,
}

/// What `sentry-sourcemaps` needs.
#[derive(Debug, Clone)]
pub struct SentryMaps {
    /// Notify's: the same inputs, the same client.
    pub sentry: shipline_notify::SentryConfig,
    pub release: Option<String>,
    /// Deploy the `.map` files too.
    pub keep_maps: bool,
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
    /// (where it comes from, value): secret inputs and `forbid-env` variables.
    pub forbidden_values: Vec<(String, Secret)>,
    pub forbid_text: Vec<String>,
    pub pull_request: Option<u64>,
    pub keep: usize,
    pub site_url: Option<String>,
    pub pr_comment: bool,
    pub migrations: Option<String>,
    pub sentry: Option<SentryMaps>,
    pub observability: analytics::Observability,
}

/// The `shipline-deploy` binary.
pub struct Deploy;

impl Tool for Deploy {
    const BIN: &'static str = "shipline-deploy";
    const ACTION: &'static str = "deploy";
    const SECRET_INPUTS: &'static [&'static str] = &["token", "github-token", "sentry-token"];
    const SECRET_ENV: &'static [&'static str] = &[
        EnvVars::VERCEL_TOKEN,
        EnvVars::NETLIFY_AUTH_TOKEN,
        EnvVars::CLOUDFLARE_API_TOKEN,
        EnvVars::AWS_SECRET_ACCESS_KEY,
        EnvVars::AWS_SESSION_TOKEN,
        EnvVars::ACTIONS_ID_TOKEN_REQUEST_TOKEN,
        EnvVars::GITHUB_TOKEN,
        EnvVars::SENTRY_AUTH_TOKEN,
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
        ("bytes-uploaded", "Bytes uploaded (what the host lacked)."),
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
        let github_token = or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).map(Secret::new);
        let wait = parse_bool("wait", &args.wait)?;
        if !wait && environment == Environment::Production {
            return Err(InputError::new(
                "wait",
                "`false` is for previews only: a production deploy is verified before traffic moves to it, which needs it live",
            ));
        }
        if let Host::Amplify {
            artifact_store: None,
            ..
        } = &host
            && environment == Environment::Production
        {
            return Err(InputError::new(
                "artifact-store",
                "is required for a production deploy on Amplify: the verified release's zip is kept there, production is started from it, and a rollback redeploys it; write `s3://<bucket>/<prefix>`",
            ));
        }
        let mut forbidden_values = Vec::new();
        if let Host::Vercel { token, .. }
        | Host::Netlify { token, .. }
        | Host::CloudflarePages { token, .. } = &host
        {
            forbidden_values.push(("`token`".to_owned(), token.clone()));
        }
        if let Some(t) = &github_token {
            forbidden_values.push(("`github-token`".to_owned(), t.clone()));
        }
        for name in nonempty(args.forbid_env)
            .map(|v| parse_list(&v))
            .unwrap_or_default()
        {
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(InputError::new(
                    "forbid-env",
                    format!("`{name}` is not an environment variable name"),
                ));
            }
            if let Some(value) = env.var(&name) {
                forbidden_values.push((format!("`${name}` (`forbid-env`)"), Secret::new(value)));
            }
        }
        let pull_request = match nonempty(args.pull_request) {
            Some(v) => Some(parse_positive("pull-request", &v, u64::from(u32::MAX))?),
            None => ctx.event.pull_request_number(),
        };
        let keep = parse_positive("keep", &args.keep, 1000)? as usize;
        let site_url = nonempty(args.site_url)
            .map(|v| shipline_cli::parse_url("site-url", &v, &["http", "https"]).map(|_| v))
            .transpose()?;
        let git_ref = nonempty(args.git_ref)
            .or_else(|| ctx.event.head_sha().map(str::to_owned))
            .or_else(|| env.var(EnvVars::GITHUB_SHA));
        let record_store = RecordStore::parse(args.record_store, ctx.rt.in_actions())?;
        let sentry = if parse_bool("sentry-sourcemaps", &args.sentry_sourcemaps)? {
            Some(SentryMaps {
                sentry: shipline_notify::SentryConfig::from_inputs(
                    args.sentry_token,
                    args.sentry_org,
                    args.sentry_project,
                    env,
                )?,
                release: nonempty(args.sentry_release).or_else(|| git_ref.clone()),
                keep_maps: parse_bool("keep-source-maps", &args.keep_source_maps)?,
            })
        } else {
            None
        };
        if let Host::Amplify {
            credentials: shipline_hosting::AwsAuth::Keys(keys),
            ..
        } = &host
        {
            forbidden_values.push((
                "`AWS_SECRET_ACCESS_KEY`".to_owned(),
                keys.secret_access_key.clone(),
            ));
        }
        if let Some(s) = &sentry {
            forbidden_values.push(("`sentry-token`".to_owned(), s.sentry.token.clone()));
        }
        let config = Config {
            host,
            directory,
            environment,
            spa: parse_bool("spa", &args.spa)?,
            github_token,
            git_ref,
            migration_version: nonempty(args.migration_version)
                .map(|v| parse_version("migration-version", &v))
                .transpose()?,
            wait,
            timeout: parse_duration_input("timeout", &args.timeout)?,
            smoke_path,
            expect_text: nonempty(args.expect_text),
            rollback_on_failure: parse_bool("rollback-on-failure", &args.rollback_on_failure)?,
            forbid_secrets: parse_bool("forbid-secrets", &args.forbid_secrets)?,
            max_concurrency: parse_positive("max-concurrency", &args.max_concurrency, 64)?,
            record_store,
            forbidden_values,
            // Texts may hold spaces: only commas and newlines separate them.
            forbid_text: nonempty(args.forbid_text)
                .map(|v| {
                    v.split([',', '\n'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            pull_request,
            keep,
            site_url,
            pr_comment: parse_bool("pr-comment", &args.pr_comment)?,
            migrations: nonempty(args.migrations),
            sentry,
            observability: analytics::Observability::parse(
                nonempty(args.analytics),
                nonempty(args.analytics_site).map(|s| s.trim().to_owned()),
                nonempty(args.expect_sentry_dsn),
            )?,
        };
        // Last, so a bad value of any other input is named first.
        if config.record_store == RecordStore::GitHub {
            if config.github_token.is_none() {
                return Err(InputError::new(
                    "github-token",
                    "is required to write the deployment record to GitHub; pass `github-token: ${{ github.token }}` (with `permissions: deployments: write`), or set `record-store: fs:<dir>`",
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
        run::deploy(config, ctx).await
    }
}

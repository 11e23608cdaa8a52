//! `shipline-doctor`: reads the workflows and the environment a pipeline runs with, and
//! reports what is missing or unsafe before it costs a release.

mod finding;
pub mod workflows;

use std::path::PathBuf;

use clap::Parser;
use serde_json::Value;
use shipline_actions::{Outcome, Report, Table};
use shipline_cli::{CommonArgs, Ctx, Tool, nonempty, or_env, parse_list};
use shipline_core::{EnvVars, InputError, Secret};
use shipline_http::{HttpClient, Method};
use shipline_notify::github::GitHub;

pub use finding::{Finding, Level};

/// Check a pipeline's configuration: workflows, secrets and their scopes, projects.
#[derive(Debug, Parser)]
#[command(name = "shipline-doctor", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The workflows folder to read.
    #[arg(long, env = "INPUT_WORKFLOWS", default_value = ".github/workflows")]
    pub workflows: String,

    /// Env names that must be set and not empty in this step (e.g. `DATABASE_URL,VERCEL_TOKEN`).
    #[arg(long, env = "INPUT_REQUIRE_ENV")]
    pub require_env: Option<String>,

    /// The production Supabase project: its ref or URL (`https://<ref>.supabase.co`).
    #[arg(long, env = "INPUT_PRODUCTION_SUPABASE")]
    pub production_supabase: Option<String>,

    /// The preview Supabase project: its ref or URL. Must differ from production's.
    #[arg(long, env = "INPUT_PREVIEW_SUPABASE")]
    pub preview_supabase: Option<String>,

    /// Secrets that belong to the environment, not the repository.
    #[arg(
        long,
        env = "INPUT_PRODUCTION_SECRETS",
        default_value = "DATABASE_URL,SUPABASE_ACCESS_TOKEN"
    )]
    pub production_secrets: String,

    /// The environment those secrets belong to.
    #[arg(long, env = "INPUT_ENVIRONMENT", default_value = "production")]
    pub environment: String,

    /// A token that may list the repository's secret names (a fine-grained token with
    /// "Secrets: read"; `GITHUB_TOKEN` cannot, and the check then says so). Fallback: `GITHUB_TOKEN`.
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,
}

pub struct Config {
    pub workflows: PathBuf,
    pub require_env: Vec<String>,
    pub projects: Option<(String, String)>,
    pub production_secrets: Vec<String>,
    pub environment: String,
    pub github_token: Option<Secret>,
}

/// The `shipline-doctor` binary.
pub struct Doctor;

/// Scopes of a classic token beyond what the pipeline needs (`repo`, `workflow`).
const WIDE_SCOPES: &[&str] = &[
    "admin:org",
    "admin:repo_hook",
    "admin:org_hook",
    "admin:public_key",
    "admin:gpg_key",
    "admin:enterprise",
    "delete_repo",
    "delete:packages",
    "write:packages",
    "user",
    "codespace",
    "site_admin",
];

/// A Supabase project named by ref or by URL, as its ref.
pub fn supabase_ref(value: &str) -> String {
    let value = value.trim().trim_end_matches('/');
    let host = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .unwrap_or(value);
    host.split('.').next().unwrap_or(host).to_ascii_lowercase()
}

impl Tool for Doctor {
    const BIN: &'static str = "shipline-doctor";
    const ACTION: &'static str = "doctor";
    const SECRET_INPUTS: &'static [&'static str] = &["github-token"];
    const SECRET_ENV: &'static [&'static str] = &[EnvVars::GITHUB_TOKEN];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        (
            "errors",
            "How many checks found something unsafe or broken.",
        ),
        ("warnings", "How many checks found something suspicious."),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let projects = match (
            nonempty(args.production_supabase),
            nonempty(args.preview_supabase),
        ) {
            (Some(p), Some(v)) => Some((p, v)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(InputError::new(
                    "preview-supabase",
                    "is needed with `production-supabase`: the check compares the two",
                ));
            }
            (None, Some(_)) => {
                return Err(InputError::new(
                    "production-supabase",
                    "is needed with `preview-supabase`: the check compares the two",
                ));
            }
        };
        let require_env = parse_list(args.require_env.as_deref().unwrap_or(""));
        if let Some(bad) = require_env
            .iter()
            .find(|n| !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(InputError::new(
                "require-env",
                format!("`{bad}` is not an env name (letters, digits, `_`)"),
            ));
        }
        Ok(Config {
            workflows: PathBuf::from(args.workflows.trim()),
            require_env,
            projects,
            production_secrets: parse_list(&args.production_secrets),
            environment: args.environment.trim().to_owned(),
            github_token: or_env(args.github_token, &ctx.env, EnvVars::GITHUB_TOKEN)
                .map(Secret::new),
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        let mut findings = workflows::scan(&config.workflows);
        for name in &config.require_env {
            findings.push(match ctx.env.var(name) {
                Some(_) => Finding::ok("env", format!("`{name}` is set")),
                None => Finding::error(
                    "env",
                    format!("`{name}` is not set or empty in this step: map the secret in `env:` (and check it exists where this job can read it)"),
                ),
            });
        }
        if let Some((production, preview)) = &config.projects {
            let (p, v) = (supabase_ref(production), supabase_ref(preview));
            findings.push(if p == v {
                Finding::error(
                    "supabase projects",
                    format!("production and preview use the same Supabase project `{p}`: a preview's migrations and test data would land in production"),
                )
            } else {
                Finding::ok("supabase projects", format!("production `{p}`, preview `{v}`"))
            });
        }
        findings.extend(secrets(&config, ctx).await?);
        Ok(report(&findings))
    }
}

/// Where the production secrets live, and what the token may do (where GitHub says).
async fn secrets(config: &Config, ctx: &Ctx) -> anyhow::Result<Vec<Finding>> {
    const CHECK: &str = "secrets";
    let Some(token) = &config.github_token else {
        return Ok(vec![Finding::ok(CHECK, "not checked: no `github-token`")]);
    };
    if ctx.github.owner_repo().is_none() || config.production_secrets.is_empty() {
        return Ok(vec![Finding::ok(
            CHECK,
            "not checked: no repository or no names",
        )]);
    }
    let http = HttpClient::with_defaults()?;
    let gh = GitHub::for_run(ctx, token, &http)?;
    let mut findings = Vec::new();
    let list = |path: String| {
        let gh = &gh;
        async move {
            let url = gh.repo_url(&format!("{path}?per_page=100"))?;
            let response = gh.answer(Method::GET, url, None).await?;
            anyhow::Ok(response)
        }
    };
    let repo = list("actions/secrets".into()).await?;
    if let Some(scopes) = repo.header("x-oauth-scopes") {
        let wide: Vec<&str> = scopes
            .split(',')
            .map(str::trim)
            .filter(|s| WIDE_SCOPES.contains(s))
            .collect();
        findings.push(if wide.is_empty() {
            Finding::ok("token scopes", format!("classic token scopes: {scopes}"))
        } else {
            Finding::warning(
                "token scopes",
                format!("the token has scopes the pipeline never needs: {}; make one with `repo` (and `workflow` if it edits workflows) or a fine-grained token", wide.join(", ")),
            )
        });
    }
    let names = |response: &shipline_http::Response| -> Option<Vec<String>> {
        let body: Value = response.json().ok()?;
        Some(
            body["secrets"]
                .as_array()?
                .iter()
                .filter_map(|s| s["name"].as_str().map(str::to_owned))
                .collect(),
        )
    };
    if !repo.status.is_success() {
        findings.push(Finding::ok(
            CHECK,
            format!(
                "cannot tell where the secrets are: listing them answered {} (it needs a fine-grained token with \"Secrets: read\"; `GITHUB_TOKEN` never may)",
                repo.status.as_u16()
            ),
        ));
        return Ok(findings);
    }
    let at_repo = names(&repo).unwrap_or_default();
    let env_response = list(format!("environments/{}/secrets", config.environment)).await?;
    let at_env = if env_response.status.is_success() {
        names(&env_response).unwrap_or_default()
    } else {
        Vec::new()
    };
    for name in &config.production_secrets {
        let (repo_level, env_level) = (at_repo.contains(name), at_env.contains(name));
        findings.push(match (repo_level, env_level) {
            (true, _) => Finding::warning(
                CHECK,
                format!("`{name}` is a repository secret: every workflow can read it, a pull request's too. Move it to the `{}` environment's secrets, where only jobs that pass its rules get it", config.environment),
            ),
            (false, true) => Finding::ok(CHECK, format!("`{name}` is in the `{}` environment only", config.environment)),
            (false, false) => Finding::error(
                CHECK,
                format!("`{name}` is set neither in the `{}` environment nor in the repository", config.environment),
            ),
        });
    }
    Ok(findings)
}

fn report(findings: &[Finding]) -> Report {
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let warnings = findings
        .iter()
        .filter(|f| f.level == Level::Warning)
        .count();
    let outcome = if errors > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let title = match (errors, warnings) {
        (0, 0) => "the configuration looks right".to_owned(),
        (0, w) => format!("{w} warning(s), nothing unsafe"),
        (e, w) => format!("{e} problem(s), {w} warning(s)"),
    };
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.level);
    let mut report = Report::new(Doctor::BIN, outcome, title)
        .output("errors", errors.to_string())
        .output("warnings", warnings.to_string())
        .table(Table {
            title: "Checks".into(),
            headers: vec!["".into(), "check".into(), "finding".into()],
            rows: sorted
                .iter()
                .map(|f| vec![f.mark().into(), f.check.into(), f.message.clone()])
                .collect(),
        });
    for f in sorted {
        if let Some(a) = f.annotation() {
            report = report.annotation(a);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_is_the_same_by_ref_or_by_url() {
        assert_eq!(supabase_ref("https://AbcDef.supabase.co/"), "abcdef");
        assert_eq!(supabase_ref("abcdef"), "abcdef");
        assert_ne!(
            supabase_ref("https://abcdef.supabase.co"),
            supabase_ref("ghijkl")
        );
    }
}

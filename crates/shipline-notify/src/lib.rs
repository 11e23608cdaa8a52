//! `shipline-notify`: tell people what the pipeline did, where they look. The other binaries
//! use the same modules for their own reports.

pub mod comment;
pub mod deployment;
pub mod discord;
pub mod error;
pub mod github;
pub mod incident;
pub mod notice;
mod run;
pub mod sentry;
pub mod slack;
pub mod teams;
pub mod webhook;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_choice, parse_list, parse_secret_url, parse_url,
    required,
};
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};
use shipline_http::Service;

use crate::comment::Mode;
use crate::notice::{MentionOn, Status};
use crate::slack::SlackTarget;

/// Sticky PR comments, deployment statuses, incident issues, Slack, Discord, Teams, webhooks and Sentry releases.
#[derive(Debug, Parser)]
#[command(name = "shipline-notify", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Where to send: one or more of `github-comment`, `github-issue`, `github-deployment`, `slack`, `discord`, `teams`, `webhook`, `sentry` (comma- or line-separated).
    #[arg(long, env = "INPUT_TO")]
    pub to: Option<String>,

    /// `success`, `failure`, `cancelled`, `skipped` or `in_progress` (a step's `outcome` fits).
    #[arg(long, env = "INPUT_STATUS", default_value = "success")]
    pub status: String,

    /// A one-line title.
    #[arg(long, env = "INPUT_TITLE")]
    pub title: Option<String>,

    /// The message (Markdown for GitHub, converted for chat).
    #[arg(long, env = "INPUT_MESSAGE")]
    pub message: Option<String>,

    /// A link to show (the deployment, the run).
    #[arg(long, env = "INPUT_URL")]
    pub url: Option<String>,

    /// Identifies the sticky comment or incident. Default: workflow + job.
    #[arg(long, env = "INPUT_KEY")]
    pub key: Option<String>,

    /// Token for GitHub targets. Fallback: `GITHUB_TOKEN`.
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,

    /// Incoming webhook URL for `discord`, `teams` or `webhook` (a secret: it carries its own token).
    #[arg(long, env = "INPUT_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Key for the `X-Shipline-Signature-256` HMAC-SHA256 header of `webhook`.
    #[arg(long, env = "INPUT_WEBHOOK_SECRET")]
    pub webhook_secret: Option<String>,

    /// Slack bot token (`xoxb-…`). Fallback: `SLACK_BOT_TOKEN`. Without it, `SLACK_WEBHOOK_URL` is used.
    #[arg(long, env = "INPUT_SLACK_TOKEN")]
    pub slack_token: Option<String>,

    /// Slack channel id or name, with `slack-token`.
    #[arg(long, env = "INPUT_SLACK_CHANNEL")]
    pub slack_channel: Option<String>,

    /// Sentry auth token. Fallback: `SENTRY_AUTH_TOKEN`.
    #[arg(long, env = "INPUT_SENTRY_TOKEN")]
    pub sentry_token: Option<String>,

    /// Sentry organization slug. Fallback: `SENTRY_ORG`.
    #[arg(long, env = "INPUT_SENTRY_ORG")]
    pub sentry_org: Option<String>,

    /// Sentry project slug. Fallback: `SENTRY_PROJECT`.
    #[arg(long, env = "INPUT_SENTRY_PROJECT")]
    pub sentry_project: Option<String>,

    /// The release name for Sentry. Default: the commit SHA.
    #[arg(long, env = "INPUT_RELEASE")]
    pub release: Option<String>,

    /// The environment the message is about (`production`, `preview/pr-42`).
    #[arg(long, env = "INPUT_ENVIRONMENT")]
    pub environment: Option<String>,

    /// `github-comment`: `update` (default) edits the sticky comment, `append` keeps a table of every run, `hide-previous` collapses the old one and posts anew.
    #[arg(long, env = "INPUT_COMMENT_MODE", default_value = "update")]
    pub comment_mode: String,

    /// The pull request to comment on. Default: the event's, else the open PR of `commit`.
    #[arg(long, env = "INPUT_PR_NUMBER")]
    pub pr_number: Option<String>,

    /// The commit this is about. Default: the event's head commit, else `GITHUB_SHA`.
    #[arg(long, env = "INPUT_COMMIT")]
    pub commit: Option<String>,

    /// Read the message from this file (e.g. a body passed as an artifact); not with `message`.
    #[arg(long, env = "INPUT_MESSAGE_FILE")]
    pub message_file: Option<String>,

    /// A summary of the migration plan, shown in its own row.
    #[arg(long, env = "INPUT_MIGRATIONS")]
    pub migrations: Option<String>,

    /// How long the parts took, shown in its own row (`build 41s, deploy 7s`).
    #[arg(long, env = "INPUT_TIMINGS")]
    pub timings: Option<String>,

    /// More rows, one `Name: value` per line.
    #[arg(long, env = "INPUT_FIELDS")]
    pub fields: Option<String>,

    /// Who to ping in chat (`<!here>`, `<@U123>`, `<@&role-id>`).
    #[arg(long, env = "INPUT_MENTION")]
    pub mention: Option<String>,

    /// When `mention` is added: `failure` (default), `always`, `never`, or a list of statuses.
    #[arg(long, env = "INPUT_MENTION_ON", default_value = "failure")]
    pub mention_on: String,

    /// `slack` with a bot token: update this message (`ts` of an earlier run) instead of posting.
    #[arg(long, env = "INPUT_SLACK_TS")]
    pub slack_ts: Option<String>,

    /// `slack` with a bot token: reply in this thread.
    #[arg(long, env = "INPUT_SLACK_THREAD_TS")]
    pub slack_thread_ts: Option<String>,

    /// `github-deployment`: the id of the shipline deployment record to set a status on.
    /// Without it, every shipline record of `environment` gets the status (`cancelled` sets
    /// a closed pull request's previews inactive).
    #[arg(long, env = "INPUT_GITHUB_DEPLOYMENT_ID")]
    pub github_deployment_id: Option<String>,

    /// `sentry`: when the deploy began (RFC 3339). Default: now.
    #[arg(long, env = "INPUT_STARTED_AT")]
    pub started_at: Option<String>,
}

/// A place to send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    GithubComment,
    GithubIssue,
    GithubDeployment,
    Slack,
    Discord,
    Teams,
    Webhook,
    Sentry,
}

impl Target {
    pub const ALL: [Target; 8] = [
        Target::GithubComment,
        Target::GithubIssue,
        Target::GithubDeployment,
        Target::Slack,
        Target::Discord,
        Target::Teams,
        Target::Webhook,
        Target::Sentry,
    ];

    /// Whether it talks to GitHub (needs `github-token` and the repository).
    pub fn is_github(self) -> bool {
        matches!(
            self,
            Target::GithubComment | Target::GithubIssue | Target::GithubDeployment
        )
    }

    /// The word `to` names it by.
    pub fn name(self) -> &'static str {
        match self {
            Target::GithubComment => "github-comment",
            Target::GithubIssue => "github-issue",
            Target::GithubDeployment => "github-deployment",
            Target::Slack => "slack",
            Target::Discord => "discord",
            Target::Teams => "teams",
            Target::Webhook => "webhook",
            Target::Sentry => "sentry",
        }
    }
}

/// Sentry credentials and where the release goes.
#[derive(Debug, Clone)]
pub struct SentryConfig {
    /// `SENTRY_URL`, else sentry.io.
    pub base: SafeUrl,
    pub token: Secret,
    pub org: String,
    pub project: String,
}

impl SentryConfig {
    /// The `sentry-token`, `sentry-org` and `sentry-project` inputs (or `SENTRY_AUTH_TOKEN`,
    /// `SENTRY_ORG`, `SENTRY_PROJECT`), all required; `deploy` takes the same ones.
    pub fn from_inputs(
        token: Option<String>,
        org: Option<String>,
        project: Option<String>,
        env: &shipline_cli::Env,
    ) -> Result<SentryConfig, InputError> {
        let token = or_env(token, env, EnvVars::SENTRY_AUTH_TOKEN)
            .ok_or_else(|| InputError::missing("sentry-token", Some(EnvVars::SENTRY_AUTH_TOKEN)))?;
        let org = or_env(org, env, EnvVars::SENTRY_ORG)
            .ok_or_else(|| InputError::missing("sentry-org", Some(EnvVars::SENTRY_ORG)))?;
        let project = or_env(project, env, EnvVars::SENTRY_PROJECT)
            .ok_or_else(|| InputError::missing("sentry-project", Some(EnvVars::SENTRY_PROJECT)))?;
        Ok(SentryConfig {
            base: Service::Sentry
                .base_url(|k| env.var(k))
                .map_err(|e| InputError::new(EnvVars::SENTRY_URL, e))?,
            token: Secret::new(token),
            org: org.trim().to_owned(),
            project: project.trim().to_owned(),
        })
    }
}

/// A checked notification.
#[derive(Debug)]
pub struct Config {
    pub targets: Vec<Target>,
    pub status: Status,
    pub title: Option<String>,
    pub message: Option<String>,
    pub url: Option<String>,
    pub key: Option<String>,
    pub github_token: Option<Secret>,
    pub webhook_url: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub slack: Option<SlackTarget>,
    pub sentry: Option<SentryConfig>,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub comment_mode: Mode,
    pub pr_number: Option<u64>,
    pub commit: Option<String>,
    pub migrations: Option<String>,
    pub timings: Option<String>,
    pub fields: Vec<(String, String)>,
    pub mention: Option<String>,
    pub mention_on: MentionOn,
    pub deployment_id: Option<u64>,
    /// RFC 3339, as given.
    pub started_at: Option<String>,
}

/// The `shipline-notify` binary.
pub struct Notify;

impl Tool for Notify {
    const BIN: &'static str = "shipline-notify";
    const ACTION: &'static str = "notify";
    const SECRET_INPUTS: &'static [&'static str] = &[
        "github-token",
        "webhook-url",
        "webhook-secret",
        "slack-token",
        "sentry-token",
    ];
    const SECRET_ENV: &'static [&'static str] = &[
        EnvVars::GITHUB_TOKEN,
        EnvVars::SLACK_BOT_TOKEN,
        EnvVars::SLACK_WEBHOOK_URL,
        EnvVars::SENTRY_AUTH_TOKEN,
    ];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        ("comment-id", "The id of the sticky pull-request comment."),
        ("issue-number", "The number of the incident issue."),
        (
            "slack-ts",
            "The `ts` of the Slack message (pass it as `slack-ts` to update it, or `slack-thread-ts` to reply).",
        ),
        ("slack-channel", "The id of the Slack channel posted to."),
        (
            "failed",
            "The targets that failed, comma-separated (empty when all were sent).",
        ),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let env = &ctx.env;
        let mut targets = Vec::new();
        for word in parse_list(&required(args.to, "to", None)?) {
            let name = parse_choice("to", &word, &Target::ALL.map(Target::name))?;
            if let Some(target) = Target::ALL.into_iter().find(|t| t.name() == name)
                && !targets.contains(&target)
            {
                targets.push(target);
            }
        }
        let status = Status::parse(parse_choice("status", args.status.trim(), &Status::NAMES)?)
            .ok_or_else(|| InputError::new("status", "is not a status"))?;
        let comment_mode = Mode::parse(parse_choice(
            "comment-mode",
            args.comment_mode.trim(),
            &Mode::NAMES,
        )?)
        .ok_or_else(|| InputError::new("comment-mode", "is not a mode"))?;
        let github_token = or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).map(Secret::new);
        let wants_github = targets.iter().any(|t| t.is_github());
        if wants_github && github_token.is_none() {
            return Err(InputError::missing(
                "github-token",
                Some(EnvVars::GITHUB_TOKEN),
            ));
        }
        if wants_github && ctx.github.owner_repo().is_none() {
            return Err(InputError::new(
                "GITHUB_REPOSITORY",
                "must be `owner/repo` for the GitHub targets (the runner sets it)",
            ));
        }
        let deployment_id = match nonempty(args.github_deployment_id) {
            Some(id) => Some(parse_number("github-deployment-id", &id)?),
            None if targets.contains(&Target::GithubDeployment)
                && args
                    .environment
                    .as_deref()
                    .is_none_or(|e| e.trim().is_empty()) =>
            {
                return Err(InputError::new(
                    "github-deployment-id",
                    "is required for `github-deployment` (the `github-deployment-id` output of `deploy`), unless `environment` names the records to set (e.g. a closed pull request's `preview/pr-42`)",
                ));
            }
            None => None,
        };
        let pr_number = nonempty(args.pr_number)
            .map(|n| parse_number("pr-number", &n))
            .transpose()?;
        let commit = match nonempty(args.commit) {
            Some(sha) => {
                let sha = sha.trim().to_owned();
                if !(4..=64).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(InputError::new(
                        "commit",
                        format!("`{sha}` is not a commit SHA (4 to 64 hex digits)"),
                    ));
                }
                Some(sha)
            }
            None => None,
        };
        let message = match (nonempty(args.message), nonempty(args.message_file)) {
            (Some(_), Some(_)) => {
                return Err(InputError::new(
                    "message-file",
                    "cannot be combined with `message`: set one",
                ));
            }
            (Some(text), None) => Some(text),
            (None, Some(path)) => Some(std::fs::read_to_string(path.trim()).map_err(|e| {
                InputError::new(
                    "message-file",
                    format!("`{}` cannot be read: {e}", path.trim()),
                )
            })?),
            (None, None) => None,
        };
        let fields = parse_fields(args.fields.as_deref().unwrap_or_default())?;
        let mention_on = parse_mention_on(&args.mention_on)?;
        let started_at = match nonempty(args.started_at) {
            Some(at) => {
                let at = at.trim().to_owned();
                if shipline_core::time::parse_rfc3339(&at).is_none() {
                    return Err(InputError::new(
                        "started-at",
                        format!("`{at}` is not an RFC 3339 time (e.g. `2026-12-03T10:00:00Z`)"),
                    ));
                }
                Some(at)
            }
            None => None,
        };
        let webhook_url = match nonempty(args.webhook_url) {
            Some(url) => Some(parse_secret_url("webhook-url", &url, &["https", "http"])?),
            None => None,
        };
        let hook_targets = targets
            .iter()
            .filter(|t| matches!(t, Target::Discord | Target::Teams | Target::Webhook))
            .count();
        if hook_targets > 1 {
            return Err(InputError::new(
                "to",
                "names more than one of `discord`, `teams`, `webhook`, which share `webhook-url`; use one notify step per hook",
            ));
        }
        if hook_targets == 1 && webhook_url.is_none() {
            return Err(InputError::missing("webhook-url", None));
        }
        let slack_ts = nonempty(args.slack_ts).map(|t| t.trim().to_owned());
        let slack_thread_ts = nonempty(args.slack_thread_ts).map(|t| t.trim().to_owned());
        for (input, ts) in [
            ("slack-ts", &slack_ts),
            ("slack-thread-ts", &slack_thread_ts),
        ] {
            if let Some(ts) = ts
                .as_ref()
                .filter(|ts| !ts.chars().all(|c| c.is_ascii_digit() || c == '.'))
            {
                return Err(InputError::new(
                    input,
                    format!(
                        "`{ts}` is not a Slack message `ts` (digits and a dot, e.g. `1733212800.000100`)"
                    ),
                ));
            }
        }
        let slack = if targets.contains(&Target::Slack) {
            match or_env(args.slack_token, env, EnvVars::SLACK_BOT_TOKEN) {
                Some(token) => Some(SlackTarget::Bot {
                    api: Service::Slack
                        .base_url(|k| env.var(k))
                        .map_err(|e| InputError::new(EnvVars::SLACK_API_URL, e))?,
                    token: Secret::new(token),
                    channel: required(args.slack_channel, "slack-channel", None)?,
                    ts: slack_ts,
                    thread_ts: slack_thread_ts,
                }),
                None => match env.var(EnvVars::SLACK_WEBHOOK_URL) {
                    Some(url) => {
                        if slack_ts.is_some() || slack_thread_ts.is_some() {
                            return Err(InputError::new(
                                if slack_ts.is_some() {
                                    "slack-ts"
                                } else {
                                    "slack-thread-ts"
                                },
                                "needs `slack-token`: an incoming webhook can neither update a message nor reply in a thread",
                            ));
                        }
                        Some(SlackTarget::Webhook(parse_secret_url(
                            EnvVars::SLACK_WEBHOOK_URL,
                            &url,
                            &["https", "http"],
                        )?))
                    }
                    None => {
                        return Err(InputError::new(
                            "slack-token",
                            "is required for `slack`: set `slack-token` (env `SLACK_BOT_TOKEN`) with `slack-channel`, or `SLACK_WEBHOOK_URL`",
                        ));
                    }
                },
            }
        } else {
            None
        };
        let sentry = if targets.contains(&Target::Sentry) {
            Some(SentryConfig::from_inputs(
                args.sentry_token,
                args.sentry_org,
                args.sentry_project,
                env,
            )?)
        } else {
            None
        };
        Ok(Config {
            targets,
            status,
            title: nonempty(args.title),
            message,
            // Checked, then kept as written: `https://acme.dev` stays without a trailing `/`.
            url: nonempty(args.url)
                .map(|u| {
                    parse_url("url", u.trim(), &["https", "http"]).map(|_| u.trim().to_owned())
                })
                .transpose()?,
            key: nonempty(args.key).map(|k| comment::clean_key(&k)),
            github_token,
            webhook_url,
            webhook_secret: nonempty(args.webhook_secret).map(Secret::new),
            slack,
            sentry,
            release: nonempty(args.release).map(|r| r.trim().to_owned()),
            environment: nonempty(args.environment),
            comment_mode,
            pr_number,
            commit,
            migrations: nonempty(args.migrations),
            timings: nonempty(args.timings),
            fields,
            mention: nonempty(args.mention).map(|m| m.trim().to_owned()),
            mention_on,
            deployment_id,
            started_at,
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        run::notify(config, ctx).await
    }
}

fn parse_number(input: &str, value: &str) -> Result<u64, InputError> {
    let value = value.trim().trim_start_matches('#');
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| InputError::new(input, format!("`{value}` is not a number")))
}

/// `Name: value` per line; blank lines skipped.
fn parse_fields(text: &str) -> Result<Vec<(String, String)>, InputError> {
    let mut fields = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                fields.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => {
                return Err(InputError::new(
                    "fields",
                    format!("line {} is not `Name: value`: `{}`", n + 1, line.trim()),
                ));
            }
        }
    }
    Ok(fields)
}

fn parse_mention_on(text: &str) -> Result<MentionOn, InputError> {
    let words = parse_list(text);
    match words.as_slice() {
        [one] if one == "always" => return Ok(MentionOn::Always),
        [one] if one == "never" => return Ok(MentionOn::Never),
        [] => return Ok(MentionOn::Statuses(vec![Status::Failure])),
        _ => {}
    }
    let mut statuses = Vec::new();
    for word in &words {
        let name = parse_choice("mention-on", word, &Status::NAMES)?;
        if let Some(status) = Status::parse(name) {
            statuses.push(status);
        }
    }
    Ok(MentionOn::Statuses(statuses))
}

//! `shipline-notify`: tell people what the pipeline did, where they look.

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, NotImplemented, Tool, nonempty, or_env, parse_choice, parse_list,
    parse_secret_url, parse_url, required,
};
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};

/// Sticky PR comments, deployment statuses, incident issues, Slack, Discord, Teams, webhooks and Sentry releases.
#[derive(Debug, Parser)]
#[command(name = "shipline-notify", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Where to send: one or more of `github-comment`, `github-issue`, `github-deployment`, `slack`, `discord`, `teams`, `webhook`, `sentry` (comma- or line-separated).
    #[arg(long, env = "INPUT_TO")]
    pub to: Option<String>,

    /// `success`, `failure`, `cancelled` or `in_progress`.
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

const TARGETS: [&str; 8] = [
    "github-comment",
    "github-issue",
    "github-deployment",
    "slack",
    "discord",
    "teams",
    "webhook",
    "sentry",
];

/// How Slack is reached.
#[derive(Debug)]
pub enum Slack {
    Bot { token: Secret, channel: String },
    Webhook(Secret),
}

/// A checked notification.
#[derive(Debug)]
pub struct Config {
    pub targets: Vec<Target>,
    pub status: String,
    pub title: Option<String>,
    pub message: Option<String>,
    pub url: Option<SafeUrl>,
    pub key: Option<String>,
    pub github_token: Option<Secret>,
    pub webhook_url: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub slack: Option<Slack>,
    pub sentry: Option<(Secret, String, String)>,
    pub release: Option<String>,
    pub environment: Option<String>,
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
            let target = match parse_choice("to", &word, &TARGETS)? {
                "github-comment" => Target::GithubComment,
                "github-issue" => Target::GithubIssue,
                "github-deployment" => Target::GithubDeployment,
                "slack" => Target::Slack,
                "discord" => Target::Discord,
                "teams" => Target::Teams,
                "webhook" => Target::Webhook,
                _ => Target::Sentry,
            };
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        let status = parse_choice(
            "status",
            &args.status,
            &["success", "failure", "cancelled", "in_progress"],
        )?
        .to_owned();
        let github_token = or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).map(Secret::new);
        let wants_github = targets.iter().any(|t| {
            matches!(
                t,
                Target::GithubComment | Target::GithubIssue | Target::GithubDeployment
            )
        });
        if wants_github && github_token.is_none() {
            return Err(InputError::missing(
                "github-token",
                Some(EnvVars::GITHUB_TOKEN),
            ));
        }
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
        let slack = if targets.contains(&Target::Slack) {
            match or_env(args.slack_token, env, EnvVars::SLACK_BOT_TOKEN) {
                Some(token) => Some(Slack::Bot {
                    token: Secret::new(token),
                    channel: required(args.slack_channel, "slack-channel", None)?,
                }),
                None => match env.var(EnvVars::SLACK_WEBHOOK_URL) {
                    Some(url) => Some(Slack::Webhook(parse_secret_url(
                        EnvVars::SLACK_WEBHOOK_URL,
                        &url,
                        &["https", "http"],
                    )?)),
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
            let token =
                or_env(args.sentry_token, env, EnvVars::SENTRY_AUTH_TOKEN).ok_or_else(|| {
                    InputError::missing("sentry-token", Some(EnvVars::SENTRY_AUTH_TOKEN))
                })?;
            let org = or_env(args.sentry_org, env, EnvVars::SENTRY_ORG)
                .ok_or_else(|| InputError::missing("sentry-org", Some(EnvVars::SENTRY_ORG)))?;
            let project =
                or_env(args.sentry_project, env, EnvVars::SENTRY_PROJECT).ok_or_else(|| {
                    InputError::missing("sentry-project", Some(EnvVars::SENTRY_PROJECT))
                })?;
            Some((Secret::new(token), org, project))
        } else {
            None
        };
        Ok(Config {
            targets,
            status,
            title: nonempty(args.title),
            message: nonempty(args.message),
            url: nonempty(args.url)
                .map(|u| parse_url("url", &u, &["https", "http"]))
                .transpose()?,
            key: nonempty(args.key),
            github_token,
            webhook_url,
            webhook_secret: nonempty(args.webhook_secret).map(Secret::new),
            slack,
            sentry,
            release: nonempty(args.release),
            environment: nonempty(args.environment),
        })
    }

    async fn run(config: Config, _ctx: &mut Ctx) -> anyhow::Result<Report> {
        let _ = config;
        Err(NotImplemented {
            bin: Self::BIN,
            what: String::new(),
            issue: 6,
        }
        .into())
    }
}

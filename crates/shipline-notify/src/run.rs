//! One run: build the notice once, send it to every target at once. A target that fails
//! does not stop the others; the exit status and the `failed` output name it.

use shipline_actions::{Annotation, Outcome, Report, Table};
use shipline_cli::{Ctx, Tool};
use shipline_core::time::now_rfc3339;
use shipline_http::HttpClient;

use crate::comment::{self, clean_key};
use crate::error::NotifyError;
use crate::github::GitHub;
use crate::incident::{self, Incident};
use crate::notice::{Notice, Origin, one_line};
use crate::sentry::Release;
use crate::{Config, Notify, Target, deployment, discord, sentry, slack, teams, webhook};

/// What one target did, for the report and the outputs.
struct Done {
    result: String,
    outputs: Vec<(&'static str, String)>,
    annotation: Option<Annotation>,
}

impl Done {
    fn said(result: impl Into<String>) -> Done {
        Done {
            result: result.into(),
            outputs: Vec::new(),
            annotation: None,
        }
    }

    fn output(mut self, name: &'static str, value: impl Into<String>) -> Done {
        self.outputs.push((name, value.into()));
        self
    }
}

pub async fn notify(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
    let http = HttpClient::with_defaults()?;
    let commit = config
        .commit
        .clone()
        .or_else(|| ctx.event.head_sha().map(str::to_owned))
        .or_else(|| ctx.github.sha.clone());
    let parts: Vec<&str> = [&ctx.github.workflow, &ctx.github.job]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let run_name = match parts.is_empty() {
        true => Notify::BIN.to_owned(),
        false => parts.join(" / "),
    };
    // `workflow/job`, whitespace folded: a marker stays one readable token.
    let key = config
        .key
        .clone()
        .unwrap_or_else(|| match parts.is_empty() {
            true => "shipline".to_owned(),
            false => clean_key(&one_line(&parts.join("/"))),
        });
    let notice = Notice {
        status: config.status,
        title: config.title.clone().unwrap_or_else(|| run_name.clone()),
        message: config.message.clone(),
        url: config.url.clone(),
        environment: config.environment.clone(),
        migrations: config.migrations.clone(),
        timings: config.timings.clone(),
        fields: config.fields.clone(),
        mention: config.mention.clone(),
        mention_on: config.mention_on.clone(),
        origin: Origin::of_run(&ctx.github, commit),
    };
    let gh = github(&config, ctx, &http)?;

    let mut rows = Vec::new();
    let mut failed = Vec::new();
    let mut report_outputs = Vec::new();
    let mut annotations = Vec::new();
    // The targets are independent: they go out at once, and are reported in the order given.
    let ctx: &Ctx = ctx;
    let sends = config
        .targets
        .iter()
        .map(|target| send(*target, &config, ctx, &http, gh.as_ref(), &notice, &key));
    let results = futures_util::future::join_all(sends).await;
    for (target, sent) in config.targets.iter().zip(results) {
        let name = target.name();
        match sent {
            Ok(done) => {
                rows.push(vec![name.to_owned(), done.result]);
                report_outputs.extend(done.outputs);
                annotations.extend(done.annotation);
            }
            Err(e) => {
                let message = e.to_string();
                rows.push(vec![name.to_owned(), format!("failed: {message}")]);
                annotations
                    .push(Annotation::error(message).title(format!("notify: {name} failed")));
                failed.push(name);
            }
        }
    }

    let sent = config.targets.len() - failed.len();
    let (outcome, title) = if failed.is_empty() {
        (
            Outcome::Success,
            format!("{}: told {}", notice.headline(), plural(sent, "target")),
        )
    } else {
        (
            Outcome::Failure,
            format!(
                "{}: {} failed ({}), {} sent",
                notice.headline(),
                plural(failed.len(), "target"),
                failed.join(", "),
                sent
            ),
        )
    };
    let mut report = Report::new(Notify::BIN, outcome, title)
        .field("key", key.clone())
        .field("status", notice.status.as_str())
        .table(Table {
            title: "Targets".into(),
            headers: vec!["target".into(), "result".into()],
            rows,
        })
        .output("failed", failed.join(","));
    for (name, value) in report_outputs {
        report = report.output(name, value);
    }
    for annotation in annotations {
        report = report.annotation(annotation);
    }
    Ok(report)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The GitHub client, when a GitHub target is named (validation made sure of the token and
/// the repository).
fn github(config: &Config, ctx: &Ctx, http: &HttpClient) -> anyhow::Result<Option<GitHub>> {
    let wants = config.targets.iter().any(|t| t.is_github());
    match (&config.github_token, wants) {
        (Some(token), true) => Ok(Some(GitHub::for_run(ctx, token, http)?)),
        _ => Ok(None),
    }
}

async fn send(
    target: Target,
    config: &Config,
    ctx: &Ctx,
    http: &HttpClient,
    gh: Option<&GitHub>,
    notice: &Notice,
    key: &str,
) -> Result<Done, NotifyError> {
    let need_gh = || gh.ok_or_else(|| NotifyError::Input("no GitHub client".into()));
    match target {
        Target::GithubComment => {
            let gh = need_gh()?;
            let number = match config.pr_number.or_else(|| ctx.event.pull_request_number()) {
                Some(n) => Some(n),
                None => match &notice.origin.commit {
                    Some(sha) => comment::pull_request_of(gh, sha).await?,
                    None => None,
                },
            };
            let Some(number) = number else {
                let message = format!(
                    "no pull request to comment on: the event is not a pull request and no open pull request has commit {} as its head; set `pr-number` (or `commit`, e.g. `${{{{ github.event.workflow_run.head_sha }}}}`)",
                    notice.origin.short_commit().unwrap_or("(none)")
                );
                return Ok(Done {
                    result: "skipped: no pull request".into(),
                    outputs: Vec::new(),
                    annotation: Some(Annotation::notice(message).title("notify: no pull request")),
                });
            };
            let posted = comment::post(gh, number, key, config.comment_mode, notice).await?;
            let mut result = format!(
                "{} comment {} on #{number}",
                if posted.created { "created" } else { "updated" },
                posted.id
            );
            if let Some(hidden) = posted.hidden {
                result.push_str(&format!(", hid {hidden}"));
            }
            if posted.truncated {
                result.push_str(" (cut to GitHub's limit)");
            }
            Ok(Done::said(result).output("comment-id", posted.id.to_string()))
        }
        Target::GithubIssue => {
            let gh = need_gh()?;
            let done = incident::report(gh, key, notice).await?;
            let result = match &done {
                Incident::Opened { number, .. } => format!("opened incident #{number}"),
                Incident::Repeated { number, .. } => format!("commented on incident #{number}"),
                Incident::Closed {
                    number,
                    lasted_secs,
                    ..
                } => format!(
                    "closed incident #{number} after {}",
                    shipline_core::duration::format_duration(std::time::Duration::from_secs(
                        *lasted_secs
                    ))
                ),
                Incident::Nothing(why) => why.clone(),
            };
            let mut done_ = Done::said(result);
            if let Some(number) = done.number() {
                done_ = done_.output("issue-number", number.to_string());
            }
            Ok(done_)
        }
        Target::GithubDeployment => {
            let gh = need_gh()?;
            match (config.deployment_id, notice.environment.as_deref()) {
                (Some(id), _) => {
                    let state = deployment::set_status(gh, id, notice).await?;
                    Ok(Done::said(format!("deployment {id}: {state}")))
                }
                (None, Some(environment)) => {
                    let changed = deployment::set_status_all(gh, environment, notice).await?;
                    Ok(Done::said(format!(
                        "{changed} deployment(s) of `{environment}` set {}",
                        deployment::state_of(notice.status)
                    )))
                }
                (None, None) => Err(NotifyError::Input(
                    "`github-deployment-id` or `environment` is required".into(),
                )),
            }
        }
        Target::Slack => {
            let slack_target = config
                .slack
                .as_ref()
                .ok_or_else(|| NotifyError::Input("`slack` is not configured".into()))?;
            let sent = slack::send(http, slack_target, notice).await?;
            let mut done = Done::said(match (&sent.ts, sent.updated) {
                (Some(ts), true) => format!("updated message {ts}"),
                (Some(ts), false) => format!("posted message {ts}"),
                (None, _) => "posted through the incoming webhook".into(),
            });
            if let Some(ts) = sent.ts {
                done = done.output("slack-ts", ts);
            }
            if let Some(channel) = sent.channel {
                done = done.output("slack-channel", channel);
            }
            Ok(done)
        }
        Target::Discord => {
            let hook = hook_url(config)?;
            let id = discord::send(http, hook, notice, &now_rfc3339()).await?;
            Ok(Done::said(match id {
                Some(id) => format!("posted message {id}"),
                None => "posted".into(),
            }))
        }
        Target::Teams => {
            teams::send(http, hook_url(config)?, notice).await?;
            Ok(Done::said("posted the card"))
        }
        Target::Webhook => {
            let at = now_rfc3339();
            let document = webhook::Document::new(notice, key, &at);
            webhook::send(
                http,
                hook_url(config)?,
                config.webhook_secret.as_ref(),
                &document,
            )
            .await?;
            Ok(Done::said(if config.webhook_secret.is_some() {
                "sent, signed"
            } else {
                "sent, unsigned (no `webhook-secret`)"
            }))
        }
        Target::Sentry => {
            let sentry_config = config
                .sentry
                .as_ref()
                .ok_or_else(|| NotifyError::Input("`sentry` is not configured".into()))?;
            let version = config
                .release
                .clone()
                .or_else(|| notice.origin.commit.clone())
                .ok_or_else(|| {
                    NotifyError::Input(
                        "`sentry` needs `release` or a commit (`commit`, `GITHUB_SHA`)".into(),
                    )
                })?;
            let finished = now_rfc3339();
            let release = Release {
                org: sentry_config.org.clone(),
                project: sentry_config.project.clone(),
                version,
                repository: notice.origin.repository.clone(),
                commit: notice.origin.commit.clone(),
                url: notice.url.clone(),
                environment: notice
                    .environment
                    .clone()
                    .unwrap_or_else(|| "production".into()),
                started: config
                    .started_at
                    .clone()
                    .unwrap_or_else(|| finished.clone()),
                finished,
            };
            let deployed = sentry::release_and_deploy(
                http,
                &sentry_config.base,
                &sentry_config.token,
                &release,
            )
            .await?;
            Ok(Done::said(format!(
                "release {} deployed to {}",
                deployed.version, release.environment
            )))
        }
    }
}

fn hook_url(config: &Config) -> Result<&shipline_core::Secret, NotifyError> {
    config
        .webhook_url
        .as_ref()
        .ok_or_else(|| NotifyError::Input("`webhook-url` is required".into()))
}

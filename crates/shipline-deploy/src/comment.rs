//! The preview's sticky pull-request comment, through notify's library: one comment per
//! (provider + project, pull request), edited in place on every push to the PR.

use shipline_actions::{Annotation, Phases};
use shipline_cli::Ctx;
use shipline_hosting::Host;
use shipline_http::HttpClient;
use shipline_notify::comment::{self, Mode, clean_key};
use shipline_notify::github::GitHub;
use shipline_notify::notice::{MentionOn, Notice, Origin, Status};

use crate::{Config, Environment};

/// What the comment tells.
pub struct Preview<'a> {
    pub provider: &'a str,
    pub status: Status,
    pub url: &'a str,
    pub deployment_id: &'a str,
    pub files: (usize, usize),
    /// Why it failed, when it did.
    pub problem: Option<&'a str>,
    pub phases: &'a Phases,
}

/// `deploy/vercel/prj_…`, `deploy/netlify/<site>`, `deploy/fs`: two deploy steps of one
/// workflow (two projects) keep two comments.
pub fn key(host: &Host) -> String {
    clean_key(&match host {
        Host::Vercel { project, .. } => format!("deploy/vercel/{project}"),
        Host::Netlify { site, .. } => format!("deploy/netlify/{site}"),
        Host::CloudflarePages { project, .. } => format!("deploy/cloudflare-pages/{project}"),
        Host::Amplify { app_id, .. } => format!("deploy/amplify/{app_id}"),
        Host::Fs { .. } => "deploy/fs".to_owned(),
    })
}

/// Posts or updates the comment. `None` when there is none to make (production, no pull
/// request, `pr-comment: false`, no token); otherwise a line for the report, or a warning:
/// a comment that cannot be made never fails a deploy that worked.
pub async fn post(
    config: &Config,
    ctx: &Ctx,
    http: &HttpClient,
    preview: &Preview<'_>,
) -> Option<Result<String, Annotation>> {
    let number = config.pull_request?;
    if config.environment != Environment::Preview || !config.pr_comment {
        return None;
    }
    let Some(token) = config.github_token.as_ref() else {
        return Some(Ok("skipped: no `github-token`".into()));
    };
    let gh = match GitHub::for_run(ctx, token, http) {
        Ok(gh) => gh,
        Err(e) => {
            return Some(Err(
                Annotation::warning(e.to_string()).title("no preview comment")
            ));
        }
    };
    let mut fields = vec![
        ("Deployment".to_owned(), preview.deployment_id.to_owned()),
        (
            "Files uploaded".to_owned(),
            format!("{} of {}", preview.files.0, preview.files.1),
        ),
    ];
    if let Some(problem) = preview.problem {
        fields.push(("Problem".to_owned(), problem.to_owned()));
    }
    let commit = config
        .git_ref
        .clone()
        .or_else(|| ctx.event.head_sha().map(str::to_owned))
        .or_else(|| ctx.github.sha.clone());
    let project = match &config.host {
        Host::Vercel { project, .. } => project.as_str(),
        Host::Netlify { site, .. } => site.as_str(),
        Host::CloudflarePages { project, .. } => project.as_str(),
        Host::Amplify { app_id, .. } => app_id.as_str(),
        Host::Fs { .. } => "the site",
    };
    let notice = Notice {
        status: preview.status,
        title: format!("Preview of {project} on {}", host_name(preview.provider)),
        message: None,
        url: Some(preview.url.to_owned()),
        environment: Some(format!("preview/pr-{number}")),
        migrations: config.migrations.clone().or_else(|| {
            config
                .migration_version
                .as_ref()
                .map(|v| format!("schema at {v}"))
        }),
        timings: Some(preview.phases.summary()).filter(|s| !s.is_empty()),
        fields,
        mention: None,
        mention_on: MentionOn::Never,
        origin: Origin::of_run(&ctx.github, commit),
    };
    Some(
        match comment::post(&gh, number, &key(&config.host), Mode::Update, &notice).await {
            Ok(posted) => Ok(format!(
                "{} ({})",
                if posted.created { "posted" } else { "updated" },
                posted.html_url
            )),
            Err(e) => Err(Annotation::warning(format!(
                "the preview is up, but its pull-request comment could not be posted: {e}"
            ))
            .title("no preview comment")),
        },
    )
}

fn host_name(provider: &str) -> &str {
    match provider {
        "vercel" => "Vercel",
        "netlify" => "Netlify",
        "cloudflare-pages" => "Cloudflare Pages",
        "amplify" => "AWS Amplify",
        "fs" => "the server",
        other => other,
    }
}

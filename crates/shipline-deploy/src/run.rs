//! The flow of ACTIONS.md "How a production deploy goes": preflight, stage, verify, promote,
//! record, report. Production is never touched before verification passed.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use shipline_actions::{Annotation, Outcome, Phases, Report};
use shipline_cli::Ctx;
use shipline_core::InputError;
use shipline_core::time::now_rfc3339_millis;
use shipline_hosting::record::{Record, RecordId, Records, State, Status};
use shipline_http::HttpClient;
use shipline_notify::notice::Status as NoticeStatus;

use crate::comment;
use crate::hosts::{AnyProvider, FsOptions, open_records};
use crate::progress::{Progress, human_bytes};
use crate::provider::{DeployError, GitInfo, Provider, StageRequest, Staged};
use crate::rollback::{self, Want};
use crate::scan::Scanner;
use crate::sentry_maps::{self, Maps};
use crate::site::{Site, SiteError};
use crate::verify::{self, Check, Verification};
use crate::{Config, Deploy, Environment};
use shipline_cli::Tool as _;

pub async fn deploy(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
    let http = HttpClient::with_defaults()?;
    let provider = AnyProvider::new(
        &config.host,
        &http,
        ctx,
        FsOptions {
            keep: config.keep,
            site_url: config.site_url.clone(),
        },
    )?;
    flow(&provider, &config, ctx, &http).await
}

fn environment_name(config: &Config) -> String {
    match (config.environment, config.pull_request) {
        (Environment::Production, _) => "production".into(),
        (Environment::Preview, Some(n)) => format!("preview/pr-{n}"),
        (Environment::Preview, None) => "preview".into(),
    }
}

/// Preflight problems as annotations; empty when the site may go.
fn preflight<P: Provider>(
    provider: &P,
    config: &Config,
    site: &Site,
    findings: Vec<crate::scan::Finding>,
    scanner: &Scanner,
) -> Vec<Annotation> {
    let dir = config.directory.display().to_string();
    let mut problems = Vec::new();
    if site.files.is_empty() {
        problems.push(
            Annotation::error(format!(
                "`{dir}` is empty: did the build write its output somewhere else (`directory`)?"
            ))
            .title("empty site"),
        );
    }
    if let Some(limit) = provider.file_limit()
        && site.files.len() > limit
    {
        problems.push(
            Annotation::error(format!(
                "`{dir}` holds {} files; {} takes at most {limit} per deployment",
                site.files.len(),
                provider.name()
            ))
            .title("too many files"),
        );
    }
    if let Some(limit) = provider.directory_limit() {
        for (sub, count) in site.directories_over(limit) {
            problems.push(
                Annotation::error(format!(
                    "`{dir}/{sub}` holds {count} entries; {} takes at most {limit} per directory",
                    provider.name()
                ))
                .title("too many files in one directory"),
            );
        }
    }
    if let Some(limit) = provider.file_size_limit() {
        for f in site.files.iter().filter(|f| f.size > limit) {
            problems.push(
                Annotation::error(format!(
                    "{} takes files up to {}; this one is {}",
                    provider.name(),
                    human_bytes(limit),
                    human_bytes(f.size)
                ))
                .title("file too large")
                .at(format!("{dir}/{}", f.path), None),
            );
        }
    }
    for f in findings {
        problems.push(
            Annotation::error(format!("{} ({})", f.message, f.rule))
                .title("secret in the bundle")
                .at(format!("{dir}/{}", f.file), Some(f.line)),
        );
    }
    for what in scanner.missing() {
        problems.push(
            Annotation::error(format!(
                "no file of the production build contains {what}: was it built with the production settings?"
            ))
            .title("wrong build"),
        );
    }
    problems
}

async fn flow<P: Provider>(
    provider: &P,
    config: &Config,
    ctx: &mut Ctx,
    http: &HttpClient,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + config.timeout;
    let mut phases = Phases::default();
    let production = config.environment == Environment::Production;
    let environment = environment_name(config);

    // 1. Preflight: nothing leaves the machine before this passed.
    let t = Instant::now();
    ctx.rt.group("preflight");
    let scanner = config.observability.apply(
        Scanner::new(
            config.forbid_secrets,
            &config.forbidden_values,
            if production { &config.forbid_text } else { &[] },
            if production {
                config.expect_text.as_deref()
            } else {
                None
            },
        ),
        production,
    );
    // Debug IDs go into the files themselves before they are hashed: what is hashed,
    // uploaded and served is what Sentry gets the maps of.
    let maps = match &config.sentry {
        Some(_) => Some(Maps::inject(&config.directory).context("`sentry-sourcemaps`")?),
        None => None,
    };
    let loaded = Site::load(&config.directory, Some(&scanner));
    ctx.rt.end_group();
    let (site, findings) = match loaded {
        Ok(loaded) => loaded,
        Err(e @ (SiteError::SymlinkOutside { .. } | SiteError::BadName { .. })) => {
            return Err(InputError::new("directory", e.to_string()).into());
        }
        Err(e) => return Err(e.into()),
    };
    let site = match (&maps, &config.sentry) {
        (Some(maps), Some(sentry)) => maps.deployed_site(site, sentry),
        _ => site,
    };
    let problems = preflight(provider, config, &site, findings, &scanner);
    phases.time("preflight", t);
    if !problems.is_empty() {
        let mut report = Report::new(
            Deploy::BIN,
            Outcome::Failure,
            format!(
                "preflight refused the deploy: {} problem(s), nothing was uploaded",
                problems.len()
            ),
        )
        .field("site", config.directory.display().to_string())
        .field("files", site.files.len().to_string())
        .output("files-total", site.files.len().to_string());
        for p in problems {
            report = report.annotation(p);
        }
        return Ok(report);
    }

    // The maps go to Sentry before the release can serve an error.
    let mut sentry_lines = Vec::new();
    if let (Some(maps), Some(sentry)) = (&maps, &config.sentry) {
        let t = Instant::now();
        match maps.upload(http, &config.directory, sentry, deadline).await {
            Ok(line) => sentry_lines.push(("source maps", line)),
            Err(warning) => ctx.rt.annotate(
                &Annotation::warning(format!(
                    "{warning}; stack traces of this release will stay minified"
                ))
                .title("source maps"),
            ),
        }
        phases.time("source maps", t);
    }
    let started_at = now_rfc3339_millis();

    // 2. Stage.
    let git = GitInfo {
        sha: config.git_ref.clone(),
        branch: ctx
            .github
            .git_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/heads/"))
            .map(str::to_owned),
        repository: ctx.github.repository.clone(),
        server_url: ctx.github.server_url.clone(),
    };
    let progress = Progress::new(!ctx.rt.in_actions() && std::io::stderr().is_terminal());
    let request = StageRequest {
        site: &site,
        environment: config.environment,
        pull_request: config.pull_request,
        git: &git,
        spa: config.spa,
        max_concurrency: config.max_concurrency as usize,
        deadline,
        progress: &progress,
    };
    let t = Instant::now();
    ctx.rt.group(&format!("staging on {}", provider.name()));
    let staged = provider.stage(&request).await;
    progress.finish();
    ctx.rt.end_group();
    let staged = staged.map_err(|e| host_error(provider, e, "staging"))?;
    phases.time("upload and stage", t);
    ctx.rt.log(&format!(
        "staged {} at {} ({} of {} files uploaded, {})",
        staged.id,
        staged.url,
        staged.files_uploaded,
        site.files.len(),
        human_bytes(staged.bytes_uploaded)
    ));

    // 3. Record it as in progress.
    let t = Instant::now();
    let records = open_records(&config.record_store, config.github_token.as_ref(), ctx)?;
    let record = Record {
        provider: provider.name().to_owned(),
        provider_deployment_id: staged.id.clone(),
        url: staged.url.clone(),
        environment: environment.clone(),
        git_sha: config.git_ref.clone(),
        migration_version: config.migration_version.clone(),
        artifact_sha256: site.artifact_sha256.clone(),
        // Milliseconds: file records are ordered by it, and two deploys can share a second.
        created_at: now_rfc3339_millis(),
    };
    let record_id = records
        .create(&record, !production)
        .await
        .context("could not create the deployment record")?;
    let log_url = ctx.github.run_url();
    records
        .set_status(
            &record_id,
            &Status {
                state: State::InProgress,
                description: "staged; verifying",
                environment_url: Some(&staged.url),
                log_url: log_url.as_deref(),
            },
        )
        .await
        .context("could not update the deployment record")?;
    phases.time("record", t);

    // 4. Verify the staged deployment at its own URL.
    let t = Instant::now();
    let verification = if config.wait {
        Some(verify_staged(provider, &staged, config, deadline).await)
    } else {
        None
    };
    phases.time("verify", t);
    if let Some(v) = verification.as_ref().filter(|v| !v.ok) {
        let description = format!("verification failed: {}", v.detail);
        let _ = records
            .set_status(
                &record_id,
                &Status {
                    state: State::Failure,
                    description: &description,
                    environment_url: Some(&staged.url),
                    log_url: log_url.as_deref(),
                },
            )
            .await;
        let untouched = if production {
            "production was not touched"
        } else {
            "the preview was not aliased"
        };
        let commented = comment::post(
            config,
            ctx,
            http,
            &comment::Preview {
                provider: provider.name(),
                status: NoticeStatus::Failure,
                url: &staged.url,
                deployment_id: &staged.id,
                files: (staged.files_uploaded, site.files.len()),
                problem: Some(&description),
                phases: &phases,
            },
        )
        .await;
        return Ok(with_comment(
            base_report(
                Report::new(
                    Deploy::BIN,
                    Outcome::Failure,
                    format!("verification failed; {untouched}"),
                ),
                &site,
                &staged,
                &records,
                &record_id,
                started,
            )
            .field("verification", v.detail.clone())
            .annotation(
                Annotation::error(format!("{}; {untouched}", v.detail))
                    .title("verification failed"),
            )
            .table(phases.table()),
            commented,
        ));
    }

    // 5. Promote, or give the preview its stable URL. With `rollback-on-failure`, what
    // serves now is asked first: that is what goes back if the promoted release fails.
    let t = Instant::now();
    let served_before = if production && config.rollback_on_failure {
        match provider.live().await {
            Ok(live) => live.filter(|id| *id != staged.id),
            Err(e) => {
                ctx.rt.annotate(&Annotation::warning(format!(
                    "could not ask {} what serves production now ({e}); `rollback-on-failure` has nothing to go back to",
                    provider.name()
                )));
                None
            }
        }
    } else {
        None
    };
    let promoted = if production {
        provider.promote(&staged, &request).await.map(Some)
    } else if let Some(n) = config.pull_request {
        provider.alias_preview(&staged, n, &request).await
    } else {
        Ok(None)
    };
    let url = match promoted {
        Ok(url) => url.unwrap_or_else(|| staged.url.clone()),
        Err(e) => {
            let message = e.to_string();
            let _ = records
                .set_status(
                    &record_id,
                    &Status {
                        state: State::Failure,
                        description: &message,
                        environment_url: Some(&staged.url),
                        log_url: log_url.as_deref(),
                    },
                )
                .await;
            return Err(host_error(
                provider,
                e,
                if production {
                    "promoting"
                } else {
                    "aliasing the preview"
                },
            ));
        }
    };
    phases.time(if production { "promote" } else { "alias" }, t);

    // 6. The post-promote check: what users get at the production URL.
    if production {
        let t = Instant::now();
        let check = Check {
            smoke_path: &config.smoke_path,
            expect_text: config.expect_text.as_deref(),
            deadline,
        };
        let live = verify::live_url(&url, config.spa, &check).await;
        phases.time("check production", t);
        if !live.ok {
            let report = post_promote_failed(
                provider,
                config,
                &records,
                &record_id,
                &environment,
                served_before,
                &live,
                log_url.as_deref(),
                deadline,
            )
            .await;
            return Ok(
                base_report(report, &site, &staged, &records, &record_id, started)
                    .field("post-promote check", live.detail.clone())
                    .table(phases.table()),
            );
        }
    }

    // 7. Record success; older previews of the PR become inactive.
    let t = Instant::now();
    records
        .set_status(
            &record_id,
            &Status {
                state: State::Success,
                description: if production {
                    "verified and promoted"
                } else {
                    "preview verified"
                },
                environment_url: Some(&url),
                log_url: log_url.as_deref(),
            },
        )
        .await
        .context("the deploy is live, but the deployment record could not be marked `success`")?;
    if let Some(sentry) = &config.sentry {
        match sentry_maps::mark_release(http, sentry, &environment, &url, &started_at).await {
            Ok(line) => sentry_lines.push(("Sentry", line)),
            Err(warning) => ctx
                .rt
                .annotate(&Annotation::warning(warning).title("Sentry release")),
        }
    }
    let mut retired = 0;
    if !production && config.pull_request.is_some() {
        retired = records
            .retire_older(&environment, &record_id)
            .await
            .context("could not mark older previews inactive")?;
    }
    phases.time("record", t);

    let title = if production {
        format!("deployed to production on {}: {url}", provider.name())
    } else {
        format!("preview on {}: {url}", provider.name())
    };
    let mut report = base_report(
        Report::new(Deploy::BIN, Outcome::Success, title),
        &site,
        &staged,
        &records,
        &record_id,
        started,
    )
    .field("url", url.clone())
    .output("url", url.clone())
    .field("environment", environment);
    report = match &verification {
        Some(v) => report.field("verification", v.detail.clone()),
        None => report.field("verification", "skipped (`wait: false`)"),
    };
    if retired > 0 {
        report = report.field("older previews set inactive", retired.to_string());
    }
    for (name, line) in sentry_lines {
        report = report.field(name, line);
    }
    let commented = comment::post(
        config,
        ctx,
        http,
        &comment::Preview {
            provider: provider.name(),
            status: NoticeStatus::Success,
            url: &url,
            deployment_id: &staged.id,
            files: (staged.files_uploaded, site.files.len()),
            problem: None,
            phases: &phases,
        },
    )
    .await;
    Ok(with_comment(report.table(phases.table()), commented))
}

/// Production serves the new release and it failed the check: put back what served before
/// (`rollback-on-failure`), or say plainly that it is live and broken.
#[allow(clippy::too_many_arguments)]
async fn post_promote_failed<P: Provider>(
    provider: &P,
    config: &Config,
    records: &Records,
    record_id: &RecordId,
    environment: &str,
    served_before: Option<String>,
    live: &Verification,
    log_url: Option<&str>,
    deadline: Instant,
) -> Report {
    let reason = format!("post-promote check failed: {}", live.detail);
    fn failed<'a>(description: &'a str, log_url: Option<&'a str>) -> Status<'a> {
        Status {
            state: State::Failure,
            description,
            environment_url: None,
            log_url,
        }
    }
    let Some(previous) = served_before.filter(|_| config.rollback_on_failure) else {
        let _ = records
            .set_status(record_id, &failed(&format!("live, but {reason}"), log_url))
            .await;
        let hint = if config.rollback_on_failure {
            "nothing served production before it, so there is nothing to go back to"
        } else {
            "run the rollback workflow, or set `rollback-on-failure: true` to have the deploy do it"
        };
        return Report::new(
            Deploy::BIN,
            Outcome::Failure,
            "production serves the new release, and it failed the post-promote check",
        )
        .annotation(
            Annotation::error(format!("{}; {hint}", live.detail))
                .title("post-promote check failed"),
        );
    };
    let check = Check {
        smoke_path: &config.smoke_path,
        expect_text: config.expect_text.as_deref(),
        // The rollback gets its own minute even when the deploy used up its `timeout`.
        deadline: deadline.max(Instant::now() + Duration::from_secs(60)),
    };
    let run = rollback::Execution {
        reason: &reason,
        spa: config.spa,
        check: check.clone(),
        deadline: check.deadline,
        log_url,
        from_state: State::Failure,
    };
    let outcome = match rollback::plan(
        provider,
        records,
        environment,
        &Want::Served(previous.clone()),
    )
    .await
    {
        Ok(plan) => rollback::execute(provider, records, &plan, &run)
            .await
            .map(|done| (plan, done)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((plan, done)) if done.verification.ok => {
            let mut report = Report::new(
                Deploy::BIN,
                Outcome::Failure,
                format!(
                    "the post-promote check failed; production is back on {}",
                    plan.target_label()
                ),
            )
            .field("rolled back to", plan.target_label())
            .field("production URL", done.url.clone())
            .annotation(
                Annotation::error(format!(
                    "{}; rolled back to {} (`rollback-on-failure`)",
                    live.detail,
                    plan.target_label()
                ))
                .title("post-promote check failed"),
            );
            if plan.target.record.is_none() {
                let _ = records
                    .set_status(
                        record_id,
                        &failed(&format!("{reason}; rolled back to {previous}"), log_url),
                    )
                    .await;
            }
            for w in plan.warnings {
                report = report.annotation(Annotation::warning(w));
            }
            report
        }
        Ok((plan, done)) => Report::new(
            Deploy::BIN,
            Outcome::Failure,
            "the post-promote check failed, and so did the release rolled back to",
        )
        .annotation(
            Annotation::error(format!(
                "{}; rolled back to {}, which fails too: {}",
                live.detail,
                plan.target_label(),
                done.verification.detail
            ))
            .title("post-promote check failed"),
        ),
        Err(e) => {
            let _ = records
                .set_status(record_id, &failed(&format!("live, but {reason}"), log_url))
                .await;
            Report::new(
                Deploy::BIN,
                Outcome::Failure,
                "the post-promote check failed, and the automatic rollback did not happen",
            )
            .annotation(
                Annotation::error(format!(
                    "{}; rolling back to `{previous}` failed: {e}",
                    live.detail
                ))
                .title("post-promote check failed"),
            )
        }
    }
}

fn base_report(
    report: Report,
    site: &Site,
    staged: &Staged,
    records: &Records,
    record_id: &RecordId,
    started: Instant,
) -> Report {
    let mut report = report
        .field("deployment", staged.id.clone())
        .field("deployment URL", staged.url.clone());
    if let Some(inspector) = &staged.inspector_url {
        report = report.field("inspect", inspector.clone());
    }
    let uploaded = if staged.files_uploaded == 0 {
        "nothing: the host had every file".to_owned()
    } else {
        format!(
            "{} of {} files, {}",
            staged.files_uploaded,
            site.files.len(),
            human_bytes(staged.bytes_uploaded)
        )
    };
    let ms = started.elapsed().as_millis().to_string();
    report
        .field("uploaded", uploaded)
        .field("record", record_id.0.clone())
        .output("deployment-id", staged.id.clone())
        .output("github-deployment-id", records.github_id(record_id))
        .output("files-total", site.files.len().to_string())
        .output("files-uploaded", staged.files_uploaded.to_string())
        .output("bytes-uploaded", staged.bytes_uploaded.to_string())
        .output("duration-ms", ms)
}

async fn verify_staged<P: Provider>(
    provider: &P,
    staged: &Staged,
    config: &Config,
    deadline: Instant,
) -> Verification {
    let check = Check {
        smoke_path: &config.smoke_path,
        expect_text: config.expect_text.as_deref(),
        deadline,
    };
    if let Some(release) = provider.local_release(staged) {
        return verify::on_disk(&release, config.spa, &check);
    }
    verify::over_http(&staged.url, &check).await
}

/// A host's error, with bad input kept as bad input (exit 2).
fn host_error<P: Provider>(provider: &P, error: DeployError, phase: &str) -> anyhow::Error {
    match error {
        DeployError::Input(e) => e.into(),
        other => {
            anyhow::Error::new(other).context(format!("{} failed while {phase}", provider.name()))
        }
    }
}

/// The preview comment's line in the report, or its warning.
fn with_comment(report: Report, commented: Option<Result<String, Annotation>>) -> Report {
    match commented {
        None => report,
        Some(Ok(line)) => report.field("preview comment", line),
        Some(Err(warning)) => report.annotation(warning),
    }
}

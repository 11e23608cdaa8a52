//! One run: the provider's checks, the drill when asked, then the report, the outputs and
//! the incident. A remote service that cannot be read is a failed check (the backups are
//! unproven), reported like any other, so the daily run still opens its incident.

use std::time::Instant;

use shipline_actions::{Annotation, Outcome, Phases, Report};
use shipline_cli::{Ctx, Tool};
use shipline_core::time::{now_secs, rfc3339};
use shipline_core::{EnvVars, InputError};
use shipline_http::{HttpClient, Service};
use shipline_notify::github::GitHub;
use shipline_notify::incident::{self, Incident};
use shipline_notify::notice::{MentionOn, Notice, Origin, Status};
use shipline_pg::Target;

use crate::check::{Check, Verdict, hours, table};
use crate::drill::DrillReport;
use crate::{BackupCheck, Config, Freshness, Source, files, postgres, supabase};

/// What the provider checks found.
struct ProviderStatus {
    checks: Vec<Check>,
    fresh: Freshness,
    pitr: bool,
    /// For titles: `Supabase project abc…`, `db.example.com/app`.
    subject: String,
}

pub async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
    let http = HttpClient::with_defaults()?;
    let mut phases = Phases::default();
    let started = Instant::now();
    let status = match &config.source {
        Source::Supabase {
            project_ref,
            access_token,
        } => {
            let base = Service::Supabase
                .base_url(|k| ctx.env.var(k))
                .map_err(|e| InputError::new(EnvVars::SUPABASE_API_URL, e))?;
            let subject = format!("Supabase project {project_ref}");
            match supabase::fetch(&http, &base, project_ref, access_token).await {
                Ok(backups) => {
                    let (checks, fresh) = supabase::assess(&backups, now_secs(), &config.policy);
                    ProviderStatus {
                        checks,
                        fresh,
                        pitr: backups.pitr_enabled.unwrap_or(false),
                        subject,
                    }
                }
                Err(e) => ProviderStatus {
                    checks: vec![Check::fail("Supabase API", e.to_string())],
                    fresh: Freshness::default(),
                    pitr: false,
                    subject,
                },
            }
        }
        Source::Postgres {
            backup_dir,
            backup_url,
        } => postgres_status(&config, &http, backup_dir.as_deref(), backup_url.as_ref()).await,
    };
    phases.time("backup status", started);

    let drill = match (&config.drill, &config.database_url) {
        (Some(d), Some(url)) => {
            let started = Instant::now();
            ctx.rt
                .log("restore drill: dump, restore into a scratch database, compare");
            let report = crate::drill::run(d, url).await;
            phases.time("restore drill", started);
            Some(report)
        }
        _ => None,
    };

    let mut all: Vec<&Check> = status.checks.iter().collect();
    if let Some(d) = &drill {
        all.extend(d.checks.iter());
    }
    let failed: Vec<&Check> = all
        .iter()
        .copied()
        .filter(|c| c.verdict == Verdict::Fail)
        .collect();
    let at_risk = !failed.is_empty();

    let title = if at_risk {
        format!(
            "recovery is at risk for {}: {}",
            status.subject,
            failed
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        let mut t = format!("backups of {} are fresh", status.subject);
        if status.pitr {
            t.push_str(", point-in-time recovery is on");
        }
        if let Some(secs) = drill.as_ref().and_then(|d| d.restore) {
            t.push_str(&format!(
                ", and a restore drill passed in {:.1} s",
                secs.as_secs_f64()
            ));
        }
        t
    };
    let outcome = if at_risk && config.enforce {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let mut report = Report::new(BackupCheck::BIN, outcome, &title);
    if let Some(latest) = status.fresh.latest {
        report = report.field("Newest backup", rfc3339(latest));
    }
    if let Some(age) = status.fresh.age_secs {
        report = report.field("Age", format!("{} h", hours(age)));
    }
    report = report
        .output(
            "latest-backup-at",
            status.fresh.latest.map(rfc3339).unwrap_or_default(),
        )
        .output(
            "age-hours",
            status.fresh.age_secs.map(hours).unwrap_or_default(),
        )
        .output("pitr-enabled", status.pitr.to_string())
        .table(table("Backups", &status.checks));
    report = with_drill(report, drill.as_ref());
    for c in &all {
        let a = match c.verdict {
            Verdict::Fail if config.enforce => Annotation::error(&c.detail),
            Verdict::Fail | Verdict::Warn => Annotation::warning(&c.detail),
            _ => continue,
        };
        report = report.annotation(a.title(format!("backup-check: {}", c.name)));
    }
    if at_risk && !config.enforce {
        report = report.annotation(Annotation::warning(
            "the backup gate is overridden (`enforce: false`): the run goes on although recovery is at risk",
        ));
    }

    if let Some(inc) = &config.incident {
        let notice = Notice {
            status: if at_risk {
                Status::Failure
            } else {
                Status::Success
            },
            title: format!("Backups at risk: {}", status.subject),
            message: Some(
                all.iter()
                    .filter(|c| c.verdict != Verdict::Skip)
                    .map(|c| format!("- {} **{}**: {}", c.verdict.icon(), c.name, c.detail))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            url: None,
            environment: None,
            migrations: None,
            timings: None,
            fields: status
                .fresh
                .latest
                .map(|l| vec![("Newest backup".to_owned(), rfc3339(l))])
                .unwrap_or_default(),
            mention: None,
            mention_on: MentionOn::Never,
            origin: Origin::of_run(&ctx.github, ctx.github.sha.clone()),
        };
        let gh = GitHub::for_run(ctx, &inc.token, &http)?;
        match incident::report(&gh, &inc.key, &notice).await {
            Ok(done) => {
                if let Some(n) = done.number() {
                    report = report.output("issue-number", n.to_string());
                }
                report = report.field(
                    "Incident",
                    match &done {
                        Incident::Opened { html_url, .. } => format!("opened {html_url}"),
                        Incident::Repeated { html_url, .. } => {
                            format!("still open, commented on {html_url}")
                        }
                        Incident::Closed { html_url, .. } => format!("closed {html_url}"),
                        Incident::Nothing(why) => why.clone(),
                    },
                );
            }
            Err(e) => {
                report = report.annotation(
                    Annotation::warning(format!("the incident issue could not be updated: {e}"))
                        .title("backup-check: incident"),
                );
            }
        }
    }
    report = report.table(phases.table());
    Ok(report)
}

fn with_drill(mut report: Report, drill: Option<&DrillReport>) -> Report {
    let Some(d) = drill else {
        return report
            .output("drill", "skipped")
            .output("restore-seconds", "");
    };
    report = report
        .output("drill", if d.passed() { "passed" } else { "failed" })
        .output(
            "restore-seconds",
            d.restore
                .map(|r| format!("{:.1}", r.as_secs_f64()))
                .unwrap_or_default(),
        );
    if let Some(r) = d.restore {
        report = report.field("Restore time", format!("{:.1} s", r.as_secs_f64()));
    }
    if let Some(b) = d.dump_bytes {
        report = report.field("Dump size", format!("{b} bytes"));
    }
    if let Some(s) = &d.scratch {
        report = report.field("Scratch database", s.clone());
    }
    if let Some(b) = d.restored_bytes {
        report = report.field("Restored database size", format!("{b} bytes"));
    }
    report = report.table(table("Restore drill", &d.checks));
    if let Some(t) = &d.tables {
        report = report.table(t.clone());
    }
    let mut phases = d.phases.table();
    phases.title = "Drill phases".into();
    report.table(phases)
}

async fn postgres_status(
    config: &Config,
    http: &HttpClient,
    backup_dir: Option<&std::path::Path>,
    backup_url: Option<&shipline_core::SafeUrl>,
) -> ProviderStatus {
    let mut checks = Vec::new();
    let mut latest: Vec<u64> = Vec::new();
    let mut pitr = false;
    let mut subject = "the database".to_owned();
    if let Some(url) = &config.database_url {
        let u = url.expose();
        subject = format!("{}{}", u.host_str().unwrap_or("localhost"), u.path());
        let archiver = match Target::parse(url) {
            Ok(t) => postgres::read(&t).await,
            Err(e) => Err(e),
        };
        match archiver {
            Ok(a) => {
                pitr = matches!(a.archive_mode.as_str(), "on" | "always");
                let (c, last) = postgres::assess(&a, &config.policy);
                checks.extend(c);
                latest.extend(last);
            }
            Err(e) => checks.push(Check::fail("database", e.to_string())),
        }
    }
    let now = files::now();
    if let Some(dir) = backup_dir {
        match files::newest_in(dir) {
            Ok(found) => {
                latest.extend(found.as_ref().map(|f| f.at));
                checks.push(files::assess(
                    &format!("newest dump in {}", dir.display()),
                    found.as_ref(),
                    now,
                    config.policy.max_age,
                ));
            }
            Err(e) => checks.push(Check::fail(
                "backup-dir",
                format!("cannot read `{}`: {e}", dir.display()),
            )),
        }
    }
    if let Some(url) = backup_url {
        match files::newest_listed(http, url).await {
            Ok(found) => {
                latest.extend(found.as_ref().map(|f| f.at));
                checks.push(files::assess(
                    "newest listed backup",
                    found.as_ref(),
                    now,
                    config.policy.max_age,
                ));
            }
            Err(e) => checks.push(Check::fail("backup-url", e.to_string())),
        }
    }
    if !pitr && backup_dir.is_none() && backup_url.is_none() {
        checks.push(Check::fail(
            "backups",
            "none to check: WAL archiving is off and neither `backup-dir` nor `backup-url` is set. Point `backup-dir`/`backup-url` at where the nightly `pg_dump -Fc` goes, or turn on WAL archiving",
        ));
    }
    let newest = latest.into_iter().max();
    ProviderStatus {
        checks,
        fresh: Freshness {
            latest: newest,
            age_secs: newest.map(|t| now.saturating_sub(t)),
        },
        pitr,
        subject,
    }
}

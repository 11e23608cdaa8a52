//! The rollback: plan (records and host, read only), the schema's down scripts when asked,
//! the host switch, the check, the records; then the report.

use std::time::Instant;

use shipline_actions::{Annotation, Outcome, Phases, Report};
use shipline_cli::{Ctx, Tool as _};
use shipline_deploy::hosts::{AnyProvider, FsOptions, open_records};
use shipline_deploy::provider::{DeployError, Provider as _};
use shipline_deploy::rollback::{self, Execution, Plan, RollbackError};
use shipline_deploy::verify::Check;
use shipline_hosting::record::State;
use shipline_http::{ClientOptions, HttpClient, RetryPolicy};
use shipline_pg::{Engine, Options, Source};

use crate::{Config, Rollback};

/// What `with-migrations` found and will do.
struct Schema {
    engine: Engine,
    source: Source,
    /// The newest applied version now.
    current: Option<String>,
    /// Down to this version, when the target's is older than the database's.
    down_to: Option<String>,
    /// `down/<file>` names that will run, newest first.
    scripts: Vec<String>,
    /// Why the database is left alone, when it is.
    untouched: Option<String>,
}

pub async fn rollback(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + config.timeout;
    let mut phases = Phases::default();
    // Every remote call's retries fit inside `timeout`.
    let http = HttpClient::new(ClientOptions {
        retry: RetryPolicy {
            budget: config.timeout.min(RetryPolicy::default().budget),
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    })?;
    let provider = AnyProvider::new(
        &config.host,
        &http,
        ctx,
        FsOptions {
            keep: 1,
            site_url: config.site_url.clone(),
        },
    )?;
    let records = open_records(&config.record_store, config.github_token.as_ref(), ctx)?;

    // 1. The plan: nothing changes before it is complete.
    let t = Instant::now();
    let plan = match rollback::plan(&provider, &records, &config.environment, &config.to).await {
        Ok(plan) => plan,
        Err(RollbackError::Nothing(message)) => {
            return Ok(
                Report::new(Rollback::BIN, Outcome::Failure, message.clone())
                    .annotation(Annotation::error(message).title("nothing to roll back to")),
            );
        }
        Err(RollbackError::Input(e) | RollbackError::Host(DeployError::Input(e))) => {
            return Err(e.into());
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context("could not decide what to roll back to; nothing was changed"));
        }
    };
    phases.time("plan", t);
    let warnings: Vec<Annotation> = plan
        .warnings
        .iter()
        .map(|w| Annotation::warning(w.clone()))
        .collect();
    if plan.is_noop() {
        let mut report = Report::new(
            Rollback::BIN,
            Outcome::Success,
            format!(
                "{} already serves {}; nothing to do",
                provider.name(),
                plan.target_label()
            ),
        )
        .output("deployment-id", plan.target.id.clone())
        .output("from", plan.target.id.clone());
        for w in warnings {
            report = report.annotation(w);
        }
        return Ok(report);
    }

    // 2. The schema, only when asked.
    let t = Instant::now();
    let mut schema = match &config.database {
        Some(db) => Some(schema_plan(&config, db.clone(), &plan, ctx).await?),
        None => None,
    };
    if schema.is_some() {
        phases.time("schema plan", t);
    }
    let reason = config
        .reason
        .clone()
        .unwrap_or_else(|| match &ctx.github.actor {
            Some(actor) => format!("requested by {actor}"),
            None => "no reason given".into(),
        });

    if config.dry_run {
        let mut report = plan_report(
            Report::new(
                Rollback::BIN,
                Outcome::Success,
                format!(
                    "dry run: would roll back {} on {} from {} to {}; nothing was changed",
                    config.environment,
                    provider.name(),
                    plan.from_label(),
                    plan.target_label()
                ),
            ),
            &plan,
            &reason,
            schema.as_ref(),
        )
        .output("deployment-id", plan.target.id.clone())
        .output(
            "from",
            plan.from.as_ref().map(|f| f.id.clone()).unwrap_or_default(),
        );
        for w in warnings {
            report = report.annotation(w);
        }
        return Ok(report.table(phases.table()));
    }

    // 3. Schema first: the release that comes back expects the older schema.
    let mut reverted: Vec<String> = Vec::new();
    let mut version_after = schema.as_ref().and_then(|s| s.current.clone());
    if let Some(s) = schema.as_mut()
        && let Some(to) = s.down_to.clone()
    {
        let t = Instant::now();
        ctx.rt.group(&format!("migrate down to {to}"));
        let outcome = s.engine.down(&s.source, &to, false).await;
        ctx.rt.end_group();
        let outcome = outcome.map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "the schema could not be reverted to `{to}`; production was not switched"
            ))
        })?;
        reverted = outcome.done;
        version_after = outcome.version;
        phases.time("migrate down", t);
    }

    // 4. The host, the check, the records.
    let t = Instant::now();
    let check = Check {
        smoke_path: &config.smoke_path,
        expect_text: config.expect_text.as_deref(),
        deadline,
    };
    let log_url = ctx.github.run_url();
    let run = Execution {
        reason: &reason,
        spa: config.spa,
        check,
        deadline,
        log_url: log_url.as_deref(),
        from_state: State::Inactive,
    };
    let done = rollback::execute(&provider, &records, &plan, &run).await;
    phases.time(plan.target.switch.word(), t);
    let done = match done {
        Ok(done) => done,
        Err(e) => {
            let schema_note = if reverted.is_empty() {
                String::new()
            } else {
                format!(
                    " The schema WAS reverted ({}); run `migrate up` to bring it forward again if production stays where it is.",
                    reverted.join(", ")
                )
            };
            return Err(match e {
                RollbackError::Host(DeployError::Input(e)) | RollbackError::Input(e) => e.into(),
                other => anyhow::Error::new(other).context(format!(
                    "the rollback to {} did not happen{schema_note}",
                    plan.target_label()
                )),
            });
        }
    };
    let elapsed = started.elapsed();
    let ok = done.verification.ok;
    let title = if ok {
        format!(
            "rolled back {} on {}: {} → {} in {:.1} s",
            config.environment,
            provider.name(),
            plan.from_label(),
            plan.target_label(),
            elapsed.as_secs_f64()
        )
    } else {
        format!(
            "production now serves {}, and it failed the check",
            plan.target_label()
        )
    };
    let mut report = plan_report(
        Report::new(
            Rollback::BIN,
            if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            title,
        ),
        &plan,
        &reason,
        schema.as_ref(),
    )
    .field("production URL", done.url.clone())
    .field("check", done.verification.detail.clone())
    .field("took", format!("{} ms", elapsed.as_millis()))
    .output("url", done.url.clone())
    .output("deployment-id", plan.target.id.clone())
    .output(
        "from",
        plan.from.as_ref().map(|f| f.id.clone()).unwrap_or_default(),
    )
    .output("migration-version", version_after.unwrap_or_default());
    if schema.is_some() {
        report = report.field(
            "schema reverted",
            if reverted.is_empty() {
                "nothing".to_owned()
            } else {
                reverted.join(", ")
            },
        );
    }
    if !ok {
        report = report.annotation(
            Annotation::error(format!(
                "{}; the records were not marked `success`",
                done.verification.detail
            ))
            .title("rollback check failed"),
        );
    }
    for w in warnings {
        report = report.annotation(w);
    }
    Ok(report.table(phases.table()))
}

/// The plan's fields: from, to, how, why, and the schema.
fn plan_report(mut report: Report, plan: &Plan, reason: &str, schema: Option<&Schema>) -> Report {
    report = report
        .field("environment", plan.environment.clone())
        .field("from", plan.from_label())
        .field("to", plan.target_label())
        .field("how", plan.target.switch.word())
        .field("why", reason.to_owned())
        .field("records read", plan.examined.to_string());
    if let Some((_, record)) = &plan.target.record {
        report = report.field("deployed at", record.created_at.clone());
    }
    if let Some(s) = schema {
        let line = match (&s.down_to, &s.untouched) {
            (Some(to), _) => format!(
                "down from {} to {to}: {}",
                s.current.as_deref().unwrap_or("nothing"),
                s.scripts.join(", ")
            ),
            (None, Some(why)) => format!("left alone: {why}"),
            (None, None) => "left alone".into(),
        };
        report = report.field("schema", line);
    }
    report
}

/// Reads the database's version and decides whether the schema goes down; a dry run of
/// the down checks every script exists before anything changes.
async fn schema_plan(
    config: &Config,
    db: shipline_pg::Target,
    plan: &Plan,
    ctx: &mut Ctx,
) -> anyhow::Result<Schema> {
    let source = Source::read(&config.directory)?;
    let engine = Engine::connect(
        db,
        Options {
            actor: ctx.github.actor.clone(),
            run_url: ctx.github.run_url(),
            ..Options::default()
        },
    )
    .await?;
    let applied = shipline_pg::history::read(engine.client()).await?;
    let current = applied.iter().map(|a| a.version.clone()).max();
    let mut schema = Schema {
        engine,
        source,
        current: current.clone(),
        down_to: None,
        scripts: Vec::new(),
        untouched: None,
    };
    let Some(wanted) = plan.migration_version() else {
        schema.untouched = Some(format!(
            "the deployment record of {} has no `migration_version`",
            plan.target_label()
        ));
        return Ok(schema);
    };
    match &current {
        Some(now) if now.as_str() > wanted => {
            let dry = schema.engine.down(&schema.source, wanted, true).await?;
            schema.scripts = dry.planned.into_iter().map(|(file, _)| file).collect();
            schema.down_to = Some(wanted.to_owned());
        }
        _ => {
            schema.untouched = Some(format!(
                "the database is at {}, not newer than the release's {wanted}",
                current.as_deref().unwrap_or("no version")
            ));
        }
    }
    Ok(schema)
}

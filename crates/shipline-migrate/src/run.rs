//! The commands, on the engine, as reports.

use shipline_actions::{Annotation, Outcome, Report, Table};
use shipline_cli::Ctx;
use shipline_pg::engine::{self, Mode, Row, State};
use shipline_pg::lint::{Finding, LintOptions, Severity, lint};
use shipline_pg::{Engine, Options, PgError, Source};

use crate::{Command, Config, Migrate};
use shipline_cli::Tool;

fn annotation(f: &Finding) -> Annotation {
    let a = match f.severity {
        Severity::Error => Annotation::error(&f.message),
        Severity::Warning => Annotation::warning(&f.message),
        Severity::Notice => Annotation::notice(&f.message),
    };
    a.title(format!("migrate lint: {}", f.rule))
        .at(&f.file, f.line)
}

fn findings_output(found: &[Finding]) -> String {
    found
        .iter()
        .map(Finding::line_text)
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
    let source = Source::read(&config.directory)?;
    for skipped in &source.skipped {
        ctx.rt.annotate(
            &Annotation::warning(format!(
                "skipped `{}`: {}",
                skipped.file_name, skipped.reason
            ))
            .at(
                config
                    .directory
                    .join(&skipped.file_name)
                    .display()
                    .to_string(),
                None,
            ),
        );
    }
    if config.command == Command::Lint {
        return Ok(lint_report(&source));
    }
    let Some(target) = config.target.clone() else {
        anyhow::bail!("`database-url` is required for this command");
    };
    if target.is_transaction_pooler() {
        ctx.rt.annotate(&Annotation::warning(
            "`database-url` points at port 6543, Supabase's transaction pooler: the migration lock does not hold across it; use the session pooler (port 5432) or the direct connection",
        ));
    }
    let options = Options {
        lock_timeout: config.lock_timeout,
        statement_timeout: config.statement_timeout,
        allow_out_of_order: config.allow_out_of_order,
        allow_destructive: config.allow_destructive,
        actor: ctx.github.actor.clone(),
        run_url: ctx.github.run_url(),
        ..Options::default()
    };
    let engine = Engine::connect(target, options).await?;
    if config.supabase_shim {
        engine
            .client()
            .batch_execute(shipline_pg::shim::SQL)
            .await
            .map_err(|e| {
                anyhow::anyhow!("the Supabase shim failed: {}", shipline_pg::describe(&e))
            })?;
    }
    let result = match config.command {
        Command::Status => Ok(status_report(&engine.status(&source).await?)),
        Command::Plan => plan_report(&engine, &source).await,
        Command::Up => engine
            .up(&source, config.to.as_deref(), config.dry_run)
            .await
            .map(|o| outcome_report(&source, o, config.dry_run, ("apply", "applied"))),
        Command::Down => {
            let to = config.to.clone().unwrap_or_default();
            engine
                .down(&source, &to, config.dry_run)
                .await
                .map(|o| outcome_report(&source, o, config.dry_run, ("revert", "reverted")))
        }
        Command::Repair => {
            let (versions, applied) = config.repair.clone().unwrap_or_default();
            engine
                .repair(&source, &versions, applied)
                .await
                .map(|done| {
                    let word = if applied { "applied" } else { "reverted" };
                    Report::new(
                        Migrate::BIN,
                        Outcome::Success,
                        format!("marked {} version(s) {word} (history only)", done.len()),
                    )
                    .field("versions", done.join(", "))
                })
        }
        Command::Lint => Ok(lint_report(&source)),
        Command::Verify => shipline_pg::verify::verify(&engine, &source)
            .await
            .map(|v| {
                let outcome = if v.differences.is_empty() {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                let title = if v.differences.is_empty() {
                    format!(
                        "{} migration(s) reverted and re-applied to the same schema",
                        v.round_tripped.len()
                    )
                } else {
                    format!(
                        "the down scripts do not invert their migrations: {} difference(s)",
                        v.differences.len()
                    )
                };
                let mut report = Report::new(Migrate::BIN, outcome, title)
                    .field("round-tripped", v.round_tripped.len().to_string());
                if let Some(stop) = &v.stopped_at {
                    report = report.field("stopped at", format!("{stop} (no down script)"));
                }
                if !v.differences.is_empty() {
                    report = report
                        .annotation(
                            Annotation::error(v.differences.join("\n"))
                                .title("migrate verify: schema differs after down and up"),
                        )
                        .table(Table {
                            title: "Differences (- first apply only, + second only)".into(),
                            headers: vec!["object".into()],
                            rows: v.differences.iter().map(|d| vec![d.clone()]).collect(),
                        });
                }
                report
            }),
    };
    match result {
        Ok(report) => Ok(report),
        Err(error) => Ok(failure_report(error)),
    }
}

fn lint_report(source: &Source) -> Report {
    let all: Vec<&shipline_pg::Migration> = source.migrations.iter().collect();
    let found = lint(&all, &LintOptions::default());
    let count = |s: Severity| found.iter().filter(|f| f.severity == s).count();
    let errors = count(Severity::Error);
    let outcome = if errors > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    let title = format!(
        "{} file(s) linted: {errors} error(s), {} warning(s)",
        source.migrations.len(),
        count(Severity::Warning)
    );
    let mut report =
        Report::new(Migrate::BIN, outcome, title).output("findings", findings_output(&found));
    for f in &found {
        report = report.annotation(annotation(f));
    }
    report
}

fn status_report(rows: &[Row]) -> Report {
    let count = |s: State| rows.iter().filter(|r| r.state == s).count();
    let applied = count(State::Applied) + count(State::Changed);
    let pending = count(State::Pending) + count(State::OutOfOrder);
    let mut report = Report::new(
        Migrate::BIN,
        Outcome::Success,
        format!("{applied} applied, {pending} pending"),
    )
    .output("applied", applied.to_string())
    .output("pending", pending.to_string())
    .output(
        "version",
        rows.iter()
            .filter(|r| {
                matches!(
                    r.state,
                    State::Applied | State::Changed | State::MissingLocally
                )
            })
            .map(|r| r.version.clone())
            .max()
            .unwrap_or_default(),
    );
    for row in rows.iter().filter(|r| {
        matches!(
            r.state,
            State::Changed | State::MissingLocally | State::OutOfOrder
        )
    }) {
        report = report.annotation(Annotation::warning(format!(
            "`{}` ({}): {}",
            row.version,
            row.name,
            row.state.word()
        )));
    }
    report.table(Table {
        title: "Migrations".into(),
        headers: ["version", "name", "state", "applied at", "by"]
            .map(String::from)
            .into(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.version.clone(),
                    r.name.clone(),
                    r.state.word().into(),
                    r.applied_at.clone().unwrap_or_default(),
                    r.applied_by.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    })
}

async fn plan_report(engine: &Engine, source: &Source) -> Result<Report, PgError> {
    let rows = engine.status(source).await?;
    let pending: Vec<&shipline_pg::Migration> = source
        .migrations
        .iter()
        .filter(|m| {
            rows.iter().any(|r| {
                r.version == m.version && matches!(r.state, State::Pending | State::OutOfOrder)
            })
        })
        .collect();
    let found = lint(&pending, &LintOptions::default());
    let table = Table {
        title: "What `up` would run".into(),
        headers: [
            "version",
            "file",
            "statements",
            "transaction",
            "down script",
        ]
        .map(String::from)
        .into(),
        rows: pending
            .iter()
            .map(|m| {
                let tx = match engine::mode(m) {
                    Ok(Mode::Transaction(_)) => "yes".to_owned(),
                    Ok(Mode::NoTransaction(_)) => "no (runs alone)".to_owned(),
                    Err(_) => "refused".to_owned(),
                };
                vec![
                    m.version.clone(),
                    m.file_name.clone(),
                    m.statements().len().to_string(),
                    tx,
                    if m.down.is_some() { "yes" } else { "no" }.into(),
                ]
            })
            .collect(),
    };
    let drift = engine::check_drift(&rows, false)
        .err()
        .map(|e| e.to_string());
    let mut report = Report::new(
        Migrate::BIN,
        if drift.is_some() {
            Outcome::Failure
        } else {
            Outcome::Success
        },
        format!("{} migration(s) pending", pending.len()),
    )
    .output("pending", pending.len().to_string())
    .output("findings", findings_output(&found))
    .table(table);
    for f in &found {
        report = report.annotation(annotation(f));
    }
    if let Some(drift) = drift {
        report = report
            .annotation(Annotation::error(drift).title("migrate: history and files disagree"));
    }
    let plan = report.to_markdown();
    Ok(report.output("plan", plan))
}

fn outcome_report(
    source: &Source,
    outcome: engine::Outcome,
    dry_run: bool,
    (verb, done): (&str, &str),
) -> Report {
    let title = if dry_run {
        format!(
            "dry run: would {verb} {} migration(s)",
            outcome.planned.len()
        )
    } else {
        format!("{done} {} migration(s)", outcome.done.len())
    };
    let file_of = |v: &String| {
        source
            .migrations
            .iter()
            .find(|m| &m.version == v)
            .map(|m| m.file_name.clone())
            .unwrap_or_else(|| v.clone())
    };
    let table = if dry_run {
        Table {
            title: "Would run".into(),
            headers: vec!["file".into(), "statements".into()],
            rows: outcome
                .planned
                .iter()
                .map(|(file, n)| vec![file.clone(), n.to_string()])
                .collect(),
        }
    } else {
        Table {
            title: "Done".into(),
            headers: vec!["file".into()],
            rows: outcome.done.iter().map(|v| vec![file_of(v)]).collect(),
        }
    };
    Report::new(Migrate::BIN, Outcome::Success, title)
        .field(
            "version",
            outcome.version.clone().unwrap_or_else(|| "none".into()),
        )
        .field("pending", outcome.pending.len().to_string())
        .output("applied", outcome.done.len().to_string())
        .output("pending", outcome.pending.len().to_string())
        .output("version", outcome.version.unwrap_or_default())
        .table(table)
}

fn failure_report(error: PgError) -> Report {
    match error {
        PgError::Migration {
            file,
            line,
            message,
            done,
        } => {
            let mut report = Report::new(
                Migrate::BIN,
                Outcome::Failure,
                format!("`{file}` failed; it left nothing behind, and no later file ran"),
            )
            .annotation(
                Annotation::error(message)
                    .title("migration failed")
                    .at(file, line),
            )
            .output("applied", done.len().to_string());
            if !done.is_empty() {
                report = report.table(Table {
                    title: "Done before the failure".into(),
                    headers: vec!["version".into()],
                    rows: done.into_iter().map(|v| vec![v]).collect(),
                });
            }
            report
        }
        other => Report::new(Migrate::BIN, Outcome::Failure, "nothing was run")
            .annotation(Annotation::error(other.to_string()).title("migrate")),
    }
}

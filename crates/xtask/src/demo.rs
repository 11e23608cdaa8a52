//! `cargo run -p xtask -- demo`: the merge-to-main pipeline, run locally on `examples/app`.
//!
//! Real parts where a user has real parts: the built binaries, a throwaway PostgreSQL, HTTP
//! over loopback to a site server and a webhook receiver. Each step reports what it did; a
//! part that is not built yet says so (and which issue builds it) rather than pretending.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shipline_testkit::fakes;

/// What a step must do for the demo to pass: most succeed; the broken build must be refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    Failure,
}

struct Step {
    name: &'static str,
    tool: &'static str,
    args: Vec<String>,
    expect: Expect,
    /// Runs before the step (the next release's files, its migration).
    before: Option<Box<dyn Fn() -> anyhow::Result<()>>>,
    /// Checked after the step: what must be true of production now.
    after: Option<Box<dyn Fn() -> anyhow::Result<String>>>,
}

/// One step as it ran: for the summary, the test and the benchmark.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub name: &'static str,
    pub tool: &'static str,
    pub exit: Option<i32>,
    pub elapsed: Duration,
    pub outcome: String,
    pub ok: bool,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub steps: Vec<StepReport>,
    /// From the first step to the last (the build of the binaries and the cluster start excluded).
    pub pipeline: Duration,
    /// Everything, the cluster start included.
    pub total: Duration,
    pub site_requests: usize,
    pub webhook_posts: usize,
}

/// Runs the demo, printing as it goes; fails when a step does not do what it must.
pub fn run() -> anyhow::Result<Report> {
    let report = run_quietly(true)?;
    let failed: Vec<&str> = report
        .steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| s.name)
        .collect();
    anyhow::ensure!(
        failed.is_empty(),
        "demo steps failed: {}",
        failed.join(", ")
    );
    Ok(report)
}

/// The demo on the debug binaries.
fn run_quietly(print: bool) -> anyhow::Result<Report> {
    if print {
        println!("==> building the shipline binaries");
    }
    let bins = tempfile::tempdir()?;
    let snapshot = crate::binaries_snapshot(bins.path())?;
    run_with(&snapshot, print)
}

/// The demo with the binaries in `bins`; `print` off for the benchmark.
pub fn run_with(bins: &std::path::Path, print: bool) -> anyhow::Result<Report> {
    let say = |text: String| {
        if print {
            println!("{text}");
        }
    };
    let root = crate::root();
    let work = tempfile::tempdir()?;
    let started = Instant::now();
    let app = work.path().join("app");
    crate::copy_dir(&root.join("examples/app"), &app)?;
    say(format!(
        "==> the app: {} (a copy of examples/app)",
        app.display()
    ));

    say("==> starting a throwaway PostgreSQL".into());
    let db = shipline_testkit::pg::fresh_database();
    // Last night's backup, as a cron job running `pg_dump -Fc` would leave it: the gate
    // checks it is fresh, and its drill restores a fresh dump into a scratch database.
    let backups = work.path().join("backups");
    std::fs::create_dir_all(&backups)?;
    let pg_dump = shipline_testkit::pg::server()
        .bin_dir
        .as_ref()
        .map_or_else(|| PathBuf::from("pg_dump"), |d| d.join("pg_dump"));
    let dumped = Command::new(pg_dump)
        .args(["--format=custom", "--file"])
        .arg(backups.join("nightly.dump"))
        .arg(&db.url)
        .output()?;
    anyhow::ensure!(
        dumped.status.success(),
        "pg_dump for the demo's nightly backup failed: {}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let srv = work.path().join("srv");
    // As nginx would: serve whatever `current` points at, so the smoke check sees the
    // release the deploy switched to.
    let site_routes = Router::new()
        .route("/", axum::routing::get(serve))
        .route("/{*path}", axum::routing::get(serve))
        .with_state(srv.join("current"));
    let site = shipline_testkit::Fake::start("site", site_routes);
    let hooks = std::rc::Rc::new(fakes::webhook::start());
    let records = work.path().join("records");
    // A broken build: the bundle is there (preflight finds the app's text in it), but the
    // page it serves is an error page, so the verification of the staged release fails and
    // `current` is never switched.
    crate::copy_dir(&app.join("dist"), &app.join("dist-broken"))?;
    std::fs::write(
        app.join("dist-broken/index.html"),
        "<!doctype html><html><head><title>Error</title></head><body>500: template render failed</body></html>",
    )?;
    std::fs::write(
        app.join("dist-broken/assets/index-4f2a9c.js"),
        "document.getElementById(\"root\").innerHTML = \"<h1>Acme Todos</h1>\";\n",
    )?;
    // The second release: one more line in its page and one more migration (with its down
    // script), so the rollback takes the schema back too.
    crate::copy_dir(&app.join("dist"), &app.join("dist-v2"))?;
    let index = app.join("dist-v2/index.html");
    let page = std::fs::read_to_string(&index)?;
    std::fs::write(&index, page.replace("</body>", "<!-- release 2 --></body>"))?;
    let migrations = app.join("supabase/migrations");
    let release_2_migration = {
        let migrations = migrations.clone();
        move || -> anyhow::Result<()> {
            std::fs::write(
                migrations.join(format!("{RELEASE_2_VERSION}_todo_due.sql")),
                "alter table public.todos add column due date;\n",
            )?;
            std::fs::write(
                migrations.join(format!("down/{RELEASE_2_VERSION}_todo_due.sql")),
                "alter table public.todos drop column due;\n",
            )?;
            Ok(())
        }
    };
    let deploy = |directory: &str, version: &str| {
        args(&[
            "--provider",
            "fs",
            "--directory",
            directory,
            "--target-dir",
            &srv.display().to_string(),
            "--environment",
            "production",
            "--expect-text",
            "Acme Todos",
            "--record-store",
            &format!("fs:{}", records.display()),
            "--site-url",
            &site.url(),
            "--migration-version",
            version,
        ])
    };
    let migrate_up = args(&[
        "--command",
        "up",
        "--database-url",
        &db.url,
        "--directory",
        "supabase/migrations",
        "--supabase-shim",
        "true",
    ]);
    // What `current` serves: the app, and release 2's page or release 1's.
    let serving = {
        let current = srv.join("current");
        move |want: &'static str, release_2: bool| -> anyhow::Result<String> {
            let page = std::fs::read_to_string(current.join("index.html"))?;
            anyhow::ensure!(
                page.contains("Acme Todos") && page.contains("<!-- release 2 -->") == release_2,
                "production does not serve {want}"
            );
            Ok(format!("production serves {want}"))
        }
    };
    let due_column = {
        let url = db.url.clone();
        move || -> anyhow::Result<bool> {
            let rows = shipline_testkit::pg::query_blocking(
                &url,
                "select count(*)::text from information_schema.columns where table_name = 'todos' and column_name = 'due'",
            )
            .map_err(|e| anyhow::anyhow!("reading the schema: {e}"))?;
            Ok(rows.first().cloned().flatten().as_deref() == Some("1"))
        }
    };

    let steps = vec![
        Step {
            name: "backup gate (fresh dump, restore drill)",
            tool: "backup-check",
            args: args(&[
                "--provider",
                "postgres",
                "--database-url",
                &db.url,
                "--max-age",
                "26h",
                "--require-pitr",
                "false",
                "--backup-dir",
                &backups.display().to_string(),
                "--restore-drill",
                "true",
                "--scratch-database-url",
                &shipline_testkit::pg::server().admin_url,
            ]),
            expect: Expect::Success,
            before: None,
            after: None,
        },
        Step {
            name: "migrate up",
            tool: "migrate",
            args: migrate_up.clone(),
            expect: Expect::Success,
            before: None,
            after: None,
        },
        Step {
            name: "deploy release 1 (staged, verified, promoted)",
            tool: "deploy",
            args: deploy("dist", RELEASE_1_VERSION),
            expect: Expect::Success,
            before: None,
            after: Some(Box::new({
                let serving = serving.clone();
                move || serving("release 1", false)
            })),
        },
        Step {
            name: "smoke check",
            tool: "probe",
            args: args(&[
                "--url",
                &format!("{}/", site.url()),
                "--expect-text",
                "Acme Todos",
                "--retries",
                "1",
                "--retry-delay",
                "200ms",
            ]),
            expect: Expect::Success,
            before: None,
            after: None,
        },
        Step {
            name: "notify (webhook)",
            tool: "notify",
            args: args(&[
                "--to",
                "webhook",
                "--webhook-url",
                &format!("{}/hook/demo", hooks.url()),
                "--status",
                "success",
                "--title",
                "Deployed Acme Todos",
            ]),
            expect: Expect::Success,
            before: None,
            after: Some(Box::new({
                let hooks = hooks.clone();
                move || {
                    let bodies = hooks.state().bodies.clone();
                    anyhow::ensure!(
                        bodies.len() == 1,
                        "the webhook receiver got {} posts, not 1",
                        bodies.len()
                    );
                    // What the receiver got, without the fields this local run leaves empty.
                    let mut got = match &bodies[0] {
                        serde_json::Value::Object(fields) => serde_json::Value::Object(
                            fields
                                .iter()
                                .filter(|(_, v)| {
                                    !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty())
                                })
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        )
                        .to_string(),
                        other => other.to_string(),
                    };
                    if got.len() > 160 {
                        let cut = (0..=160)
                            .rev()
                            .find(|i| got.is_char_boundary(*i))
                            .unwrap_or(0);
                        got.truncate(cut);
                        got.push('…');
                    }
                    Ok(format!("the receiver got {got}"))
                }
            })),
        },
        Step {
            name: "deploy a broken build (fails verification)",
            tool: "deploy",
            args: deploy("dist-broken", RELEASE_1_VERSION),
            expect: Expect::Failure,
            before: None,
            after: Some(Box::new({
                let serving = serving.clone();
                move || serving("release 1, untouched", false)
            })),
        },
        Step {
            name: "migrate up (release 2's migration)",
            tool: "migrate",
            args: migrate_up,
            expect: Expect::Success,
            before: Some(Box::new(release_2_migration)),
            after: Some(Box::new({
                let due_column = due_column.clone();
                move || {
                    anyhow::ensure!(due_column()?, "todos.due was not added");
                    Ok("todos.due added".into())
                }
            })),
        },
        Step {
            name: "deploy release 2",
            tool: "deploy",
            args: deploy("dist-v2", RELEASE_2_VERSION),
            expect: Expect::Success,
            before: None,
            after: Some(Box::new({
                let serving = serving.clone();
                move || serving("release 2", true)
            })),
        },
        Step {
            name: "rollback to release 1, schema too",
            tool: "rollback",
            args: args(&[
                "--provider",
                "fs",
                "--target-dir",
                &srv.display().to_string(),
                "--record-store",
                &format!("fs:{}", records.display()),
                "--site-url",
                &site.url(),
                "--expect-text",
                "Acme Todos",
                "--with-migrations",
                "true",
                "--database-url",
                &db.url,
                "--reason",
                "demo: release 2 reverted",
            ]),
            expect: Expect::Success,
            before: None,
            after: Some(Box::new(move || {
                let served = serving("release 1 again", false)?;
                anyhow::ensure!(!due_column()?, "todos.due is still there");
                Ok(format!("{served}; todos.due dropped"))
            })),
        },
    ];

    let mut reports = Vec::new();
    let first = Instant::now();
    for step in &steps {
        say(format!("\n==> {} (shipline-{})", step.name, step.tool));
        if let Some(before) = &step.before {
            before()?;
        }
        let clock = Instant::now();
        let output = Command::new(bins.join(format!("shipline-{}", step.tool)))
            .args(&step.args)
            .current_dir(&app)
            .env_remove("GITHUB_ACTIONS")
            .output()?;
        let elapsed = clock.elapsed();
        for line in String::from_utf8_lossy(&output.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
        {
            say(format!("    {line}"));
        }
        let exit = output.status.code();
        let (mut ok, mut outcome) = match (step.expect, exit) {
            (Expect::Success, Some(0)) => (true, "done".to_owned()),
            (Expect::Failure, Some(1)) => (true, "failed, as it must".to_owned()),
            (Expect::Success, code) => (false, format!("FAILED (exit {code:?})")),
            (Expect::Failure, code) => (false, format!("NOT REFUSED (exit {code:?})")),
        };
        if let Some(after) = &step.after {
            match after() {
                Ok(fact) => outcome = format!("{outcome}: {fact}"),
                Err(e) => {
                    ok = false;
                    outcome = format!("{outcome}, but {e}");
                }
            }
        }
        reports.push(StepReport {
            name: step.name,
            tool: step.tool,
            exit,
            elapsed,
            outcome,
            ok,
        });
    }
    let pipeline = first.elapsed();

    say("\n==> pipeline summary".into());
    let width = reports.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in &reports {
        say(format!(
            "    {:<width$}  {:>6.2} s  {}",
            r.name,
            r.elapsed.as_secs_f64(),
            r.outcome
        ));
    }
    let report = Report {
        steps: reports,
        pipeline,
        total: started.elapsed(),
        site_requests: site.requests().len(),
        webhook_posts: hooks.state().bodies.len(),
    };
    say(format!(
        "    {:<width$}  {:>6.2} s  ({:.2} s with the PostgreSQL start and setup)",
        "all steps",
        report.pipeline.as_secs_f64(),
        report.total.as_secs_f64()
    ));
    say(format!(
        "    site requests: {}, webhook posts: {}; the temporary folder {} is removed now",
        report.site_requests,
        report.webhook_posts,
        work.path().display()
    ));
    Ok(report)
}

/// The schema versions each release was built against (what `deploy` records and
/// `rollback --with-migrations` goes back to).
const RELEASE_1_VERSION: &str = "20240102000000";
const RELEASE_2_VERSION: &str = "20240103000000";

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Serves the built site: files as they are, unknown paths as `index.html` (a SPA).
async fn serve(State(dir): State<PathBuf>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let candidate = dir.join(path);
    let file = if path.is_empty() || !candidate.is_file() || path.contains("..") {
        dir.join("index.html")
    } else {
        candidate
    };
    match std::fs::read(&file) {
        Ok(bytes) => {
            let kind = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                _ => "application/octet-stream",
            };
            ([("content-type", kind)], bytes).into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

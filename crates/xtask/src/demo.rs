//! `cargo run -p xtask -- demo`: the merge-to-main pipeline, run locally on `examples/app`.
//!
//! Real parts where a user has real parts: the built binaries, a throwaway PostgreSQL, HTTP
//! over loopback to a site server and a webhook receiver. Each step reports what it did; a
//! part that is not built yet says so (and which issue builds it) rather than pretending.

use std::path::PathBuf;
use std::process::Command;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shipline_testkit::fakes;

struct Step {
    name: &'static str,
    tool: &'static str,
    args: Vec<String>,
}

pub fn run() -> anyhow::Result<()> {
    let root = crate::root();
    println!("==> building the shipline binaries");
    let work = tempfile::tempdir()?;
    let bins = crate::binaries_snapshot(&work.path().join("bin"))?;
    let app = work.path().join("app");
    crate::copy_dir(&root.join("examples/app"), &app)?;
    println!("==> the app: {} (a copy of examples/app)", app.display());

    println!("==> starting a throwaway PostgreSQL");
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
    let hooks = fakes::webhook::start();
    let records = work.path().join("records");
    // The second release: the same app with one more line in its page.
    crate::copy_dir(&app.join("dist"), &app.join("dist-v2"))?;
    let index = app.join("dist-v2/index.html");
    let page = std::fs::read_to_string(&index)?;
    std::fs::write(&index, page.replace("</body>", "<!-- release 2 --></body>"))?;
    let deploy = |directory: &str| {
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
        ])
    };

    let steps = vec![
        Step {
            name: "backup gate",
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
        },
        Step {
            name: "migrate up",
            tool: "migrate",
            args: args(&[
                "--command",
                "up",
                "--database-url",
                &db.url,
                "--directory",
                "supabase/migrations",
                "--supabase-shim",
                "true",
            ]),
        },
        Step {
            name: "deploy (fs, staged, verified, promoted)",
            tool: "deploy",
            args: deploy("dist"),
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
        },
        Step {
            name: "notify",
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
        },
        Step {
            name: "deploy release 2",
            tool: "deploy",
            args: deploy("dist-v2"),
        },
        Step {
            name: "rollback to release 1",
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
                "--reason",
                "demo: release 2 reverted",
            ]),
        },
    ];

    let mut rows = Vec::new();
    let mut failed = false;
    for step in &steps {
        println!("\n==> {} (shipline-{})", step.name, step.tool);
        if step.tool == "probe" {
            println!("    (the site server serves {}/current)", srv.display());
        }
        let output = Command::new(bins.join(format!("shipline-{}", step.tool)))
            .args(&step.args)
            .current_dir(&app)
            .env_remove("GITHUB_ACTIONS")
            .output()?;
        for line in String::from_utf8_lossy(&output.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
        {
            println!("    {line}");
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let outcome = match output.status.code() {
            Some(0) => "done".to_owned(),
            Some(1) if text.contains("is not implemented yet") => {
                let issue = text
                    .split("tracked in issue #")
                    .nth(1)
                    .and_then(|s| s.split(')').next())
                    .unwrap_or("?");
                format!("not implemented yet (issue #{issue})")
            }
            code => {
                failed = true;
                format!("FAILED (exit {code:?})")
            }
        };
        rows.push((step.name, outcome));
    }

    println!("\n==> pipeline summary");
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, outcome) in &rows {
        println!("    {name:<width$}  {outcome}");
    }
    println!(
        "    site requests: {}, webhook posts: {}",
        site.requests().len(),
        hooks.state().bodies.len()
    );
    drop(hooks);
    anyhow::ensure!(!failed, "a demo step failed");
    let served = std::fs::read_to_string(srv.join("current/index.html"))?;
    anyhow::ensure!(
        !served.contains("release 2"),
        "after the rollback, `current` still serves release 2"
    );
    println!(
        "    after the rollback, {}/current serves release 1 again",
        srv.display()
    );
    Ok(())
}

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

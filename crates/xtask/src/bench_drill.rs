//! Restore drill benchmark (issue #7): `shipline-backup-check --restore-drill` on a database of
//! about 1 GB against the plain tools doing only the copy (`pg_dump -Fc`, then
//! `pg_restore -j` into a new database, then dropping it), on the same server, same data,
//! same `-j`. The drill also measures the source inside the dump's snapshot and the copy
//! after it, so the ratio is what verification costs. Runs alternate, median of each.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use shipline_testkit::pg;

const RUNS: usize = 3;

/// About 1 GB on disk: 600,000 rows of ~1.3 KB text with an index, a table of 200,000 small
/// rows with a foreign key to it, and 100 rows of 1 MB of random bytes (TOASTed).
const DATA: &str = r#"
CREATE SCHEMA app;
CREATE TABLE app.users (id bigserial PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO app.users (email, created_at) SELECT 'u' || i || '@example.com', now() FROM generate_series(1, 200000) i;
CREATE TABLE app.posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app.users (id), body text);
INSERT INTO app.posts (user_id, body)
  SELECT 1 + i % 200000, (SELECT string_agg(md5((i * 100 + k)::text), ' ') FROM generate_series(1, 40) k)
  FROM generate_series(1, 600000) i;
CREATE TABLE app.files (id serial PRIMARY KEY, data bytea);
INSERT INTO app.files (data)
  SELECT (SELECT decode(string_agg(md5(random()::text || i || k), ''), 'hex') FROM generate_series(1, 65536) k)
  FROM generate_series(1, 100) i;
ANALYZE;
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn run_ok(command: &mut Command, what: &str) -> anyhow::Result<String> {
    let out = command.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn run(bins: &Path, work: &Path) -> anyhow::Result<String> {
    let server = pg::server();
    let bin_dir = server
        .bin_dir
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the PostgreSQL binaries were not found"))?;
    let db = pg::fresh_database();
    println!("==> generating about 1 GB in {}", db.name);
    pg::execute_blocking(&db.url, DATA).map_err(anyhow::Error::msg)?;
    let size: u64 = pg::query_blocking(&db.url, "SELECT pg_database_size(current_database())")
        .map_err(anyhow::Error::msg)?
        .first()
        .cloned()
        .flatten()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let backups = work.join("backups");
    std::fs::create_dir_all(&backups)?;
    std::fs::write(backups.join("nightly.dump"), "PGDMP")?;
    let dump = work.join("plain.dump");

    let plain = || -> anyhow::Result<Duration> {
        let started = Instant::now();
        run_ok(
            Command::new(bin_dir.join("pg_dump"))
                .args(["--format=custom", "--file"])
                .arg(&dump)
                .arg(&db.url),
            "pg_dump",
        )?;
        pg::execute_blocking(&server.admin_url, "CREATE DATABASE bench_plain_restore")
            .map_err(anyhow::Error::msg)?;
        let target = db.url.replace(&db.name, "bench_plain_restore");
        run_ok(
            Command::new(bin_dir.join("pg_restore"))
                .args(["--no-owner", "--no-privileges"])
                .arg(format!("--jobs={jobs}"))
                .arg("--dbname")
                .arg(&target)
                .arg(&dump),
            "pg_restore",
        )?;
        pg::execute_blocking(
            &server.admin_url,
            "DROP DATABASE bench_plain_restore WITH (FORCE)",
        )
        .map_err(anyhow::Error::msg)?;
        let took = started.elapsed();
        std::fs::remove_file(&dump)?;
        Ok(took)
    };
    let mut phases = String::new();
    let mut drill = || -> anyhow::Result<Duration> {
        let started = Instant::now();
        let out = run_ok(
            Command::new(bins.join("shipline-backup-check"))
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .args(["--provider", "postgres", "--require-pitr", "false"])
                .args(["--database-url", &db.url])
                .args(["--backup-dir", &backups.display().to_string()])
                .args(["--restore-drill", "true", "--jobs", &jobs.to_string()])
                .args(["--scratch-database-url", &server.admin_url])
                .args(["--pg-bin-dir", &bin_dir.display().to_string()]),
            "shipline-backup-check",
        )?;
        let took = started.elapsed();
        phases = out
            .split("Drill phases:")
            .nth(1)
            .map(|p| p.split("\n\n").next().unwrap_or_default().to_owned())
            .unwrap_or_default();
        Ok(took)
    };
    let (mut plains, mut drills) = (Vec::new(), Vec::new());
    for i in 0..RUNS {
        println!("==> run {} of {RUNS}", i + 1);
        plains.push(plain()?);
        drills.push(drill()?);
    }
    let (p, d) = (median(plains.clone()), median(drills.clone()));
    let ratio = d.as_secs_f64() / p.as_secs_f64();

    let mut s = String::new();
    let _ = writeln!(s, "## Restore drill (issue #7)\n");
    let _ = writeln!(
        s,
        "A database of {} MB (600,000 rows of ~1.3 KB text, 200,000 users they reference, 100 rows of 1 MB random bytes) on the test kit's PostgreSQL. **Plain** is the copy alone: `pg_dump -Fc` to a file, `CREATE DATABASE`, `pg_restore -j {jobs} --no-owner --no-privileges`, `DROP DATABASE`. **Drill** is `shipline-backup-check --restore-drill true` on the same server: the same dump (inside an exported snapshot, with the source's tables counted and sampled in that snapshot at the same time), the same restore, then every table counted and sampled again on the copy, sequences and foreign keys checked, and the copy dropped. Runs alternate; median of {RUNS}. The aim: within 1.15× of plain.\n",
        size / 1_000_000
    );
    let _ = writeln!(s, "| | runs | median | ratio to plain |\n|---|---|---|---|");
    let list = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        s,
        "| plain `pg_dump -Fc` + `pg_restore -j {jobs}` | {} | {} | 1.00× |",
        list(&plains),
        ms(p)
    );
    let _ = writeln!(
        s,
        "| `shipline-backup-check` drill | {} | {} | {ratio:.2}× |",
        list(&drills),
        ms(d)
    );
    let _ = writeln!(
        s,
        "\nThe drill's own phases in its last run (ms). The source is measured while `pg_dump` runs, in the same snapshot, so it hides behind the dump; `measure copy` is what verification adds after the restore. The dump's compression dominates both columns.\n\n```\n{}\n```\n",
        phases.trim_matches('\n')
    );
    Ok(s)
}

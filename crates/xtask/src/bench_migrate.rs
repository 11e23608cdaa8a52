//! `bench --peers`, migrations: 200 small files (table + index + insert) applied to a fresh
//! database by `shipline-migrate up`, `supabase db push` and `dbmate up`, on the same
//! throwaway server, and a no-op `up` when nothing is pending.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FILES: usize = 200;
const RUNS: usize = 3;

fn sql(i: usize) -> String {
    format!(
        "create table public.t{i} (id int primary key, v text);\ncreate index t{i}_v on public.t{i} (v);\ninsert into public.t{i} values (1, 'x');\n"
    )
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn timed(command: &mut Command) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = command.output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(elapsed)
}

/// Returns the Markdown section.
pub fn run(bins: &Path, work: &Path) -> anyhow::Result<String> {
    let root = crate::root();
    let supabase = root.join("tools/peers/node_modules/.bin/supabase");
    let dbmate = root.join("tools/peers/node_modules/.bin/dbmate");
    anyhow::ensure!(
        supabase.exists() && dbmate.exists(),
        "the peers are not installed: `npm install --prefix tools/peers`"
    );
    let project = work.join("migrate-project");
    let supa_dir = project.join("supabase/migrations");
    let dbmate_dir = project.join("db/migrations");
    std::fs::create_dir_all(&supa_dir)?;
    std::fs::create_dir_all(&dbmate_dir)?;
    for i in 0..FILES {
        let version = 20_240_101_000_000u64 + i as u64;
        std::fs::write(supa_dir.join(format!("{version}_t{i}.sql")), sql(i))?;
        std::fs::write(
            dbmate_dir.join(format!("{version}_t{i}.sql")),
            format!(
                "-- migrate:up\n{}\n-- migrate:down\ndrop table public.t{i};\n",
                sql(i)
            ),
        )?;
    }
    let fresh = || -> String {
        format!(
            "{}?sslmode=disable",
            shipline_testkit::pg::fresh_database().url.replacen(
                "postgres://postgres@",
                "postgres://postgres:bench@",
                1
            )
        )
    };
    let ours = |url: &str| {
        let mut c = Command::new(bins.join("shipline-migrate"));
        c.args(["--command", "up", "--database-url", url, "--directory"])
            .arg(&supa_dir)
            .env_remove("GITHUB_ACTIONS");
        c
    };
    let theirs = |url: &str| {
        let mut c = Command::new(&supabase);
        c.args([
            "db",
            "push",
            "--db-url",
            url,
            "--include-all",
            "--yes",
            "--agent",
            "no",
        ])
        .current_dir(&project)
        .env("SUPABASE_TELEMETRY_DISABLED", "1")
        .env("DO_NOT_TRACK", "1");
        c
    };
    let dbm = |url: &str| {
        let mut c = Command::new(&dbmate);
        c.args(["--no-dump-schema", "--migrations-dir"])
            .arg(&dbmate_dir)
            .arg("up")
            .env("DATABASE_URL", url);
        c
    };
    let mut rows = Vec::new();
    let mut apply = Vec::new();
    let mut noop = Vec::new();
    for (name, make) in [
        ("shipline-migrate up", &ours as &dyn Fn(&str) -> Command),
        ("supabase db push (2.117.0)", &theirs),
        ("dbmate up (2.36.0)", &dbm),
    ] {
        println!("    {name}");
        let mut applies = Vec::new();
        let mut noops = Vec::new();
        for _ in 0..RUNS {
            let url = fresh();
            applies.push(timed(&mut make(&url))?);
            for _ in 0..3 {
                noops.push(timed(&mut make(&url))?);
            }
        }
        apply.push(median(applies));
        noop.push(median(noops));
        rows.push(name);
    }
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mut md = format!(
        "## Migrations\n\n{FILES} files (table + index + insert), each run on a fresh database of the same throwaway server (`fsync=off`), loopback; medians of {RUNS} applies and {} no-op runs. Ratios are against shipline in the same run.\n\n| tool | apply {FILES} | ratio | no-op `up` | ratio |\n|---|---|---|---|---|\n",
        RUNS * 3
    );
    for (i, name) in rows.iter().enumerate() {
        md.push_str(&format!(
            "| {name} | {} | {:.1}× | {} | {:.1}× |\n",
            ms(apply[i]),
            apply[i].as_secs_f64() / apply[0].as_secs_f64(),
            ms(noop[i]),
            noop[i].as_secs_f64() / noop[0].as_secs_f64()
        ));
    }
    md.push_str(&format!("\nAims (issue #3): at least 3× faster than both peers on the {FILES}, and a no-op `up` under 50 ms including connect: shipline's no-op is {}.\n", ms(noop[0])));
    Ok(md)
}

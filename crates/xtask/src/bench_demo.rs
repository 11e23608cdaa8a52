//! `bench demo`: the demo's steps timed on the release binaries, and shipline's own time on
//! the production path (gate, migrate, deploy, smoke check, notify) and for a rollback, set
//! against the seed's targets (deploy under 5 minutes, rollback under 2) and the aims
//! (under 20 s and under 5 s of our own time).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn run(bins: &Path, _work: &Path) -> anyhow::Result<String> {
    let mut reports = Vec::new();
    for i in 0..RUNS {
        println!("==> demo run {} of {RUNS}", i + 1);
        let report = crate::demo::run_with(bins, false)?;
        anyhow::ensure!(
            report.steps.iter().all(|s| s.ok),
            "a demo step failed: {:?}",
            report.steps.iter().find(|s| !s.ok)
        );
        reports.push(report);
    }
    let steps = reports[0].steps.len();
    let per_step: Vec<(&str, &str, Duration)> = (0..steps)
        .map(|i| {
            let step = &reports[0].steps[i];
            let times = reports.iter().map(|r| r.steps[i].elapsed).collect();
            (step.name, step.tool, median(times))
        })
        .collect();
    let production: Duration = per_step[..5].iter().map(|(_, _, d)| *d).sum();
    let rollback = per_step[steps - 1].2;
    let pipeline = median(reports.iter().map(|r| r.pipeline).collect());
    let s_ = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    let mut s = String::new();
    let _ = writeln!(s, "## Pipeline (issue #9)\n");
    let _ = writeln!(
        s,
        "The demo (`cargo run -p xtask -- demo`) on the release binaries: a throwaway PostgreSQL, loopback servers for the site and the webhook, `examples/app`. Median of {RUNS} runs per step; each step is one process of the real binary.\n"
    );
    let _ = writeln!(s, "| step | binary | median |\n|---|---|---|");
    for (name, tool, d) in &per_step {
        let _ = writeln!(s, "| {name} | `shipline-{tool}` | {} |", s_(*d));
    }
    let _ = writeln!(s, "| all steps | | {} |", s_(pipeline));
    let _ = writeln!(
        s,
        "\nshipline's own time on the production path (backup gate with its restore drill, `migrate up`, deploy, smoke check, notify): **{}**, {:.4}× the aim of 20 s and {:.5}× the seed's 5 minutes. A rollback with its schema: **{}**, {:.4}× the aim of 5 s and {:.5}× the seed's 2 minutes. On GitHub the same path adds what loopback hides: `setup`'s download of the binaries (one archive per job, cached per runner) and the hosts' own build and propagation time (Vercel's `READY` wait), which are not shipline's code; the build command is the user's.",
        s_(production),
        production.as_secs_f64() / 20.0,
        production.as_secs_f64() / 300.0,
        s_(rollback),
        rollback.as_secs_f64() / 5.0,
        rollback.as_secs_f64() / 120.0,
    );
    Ok(s)
}

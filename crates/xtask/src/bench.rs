//! `cargo run --release -p xtask -- bench [--peers]`: startup and size of the release binaries,
//! the cost of `setup`, and (with `--peers`) what installing and starting the Vercel CLI costs.
//! Figures go to `docs/benchmarks.md` with the command and the machine. Ratios are taken
//! within one run, so the machine's speed cancels out.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TOOLS: [&str; 7] = [
    "deploy",
    "migrate",
    "rollback",
    "backup-check",
    "notify",
    "probe",
    "doctor",
];
const RUNS: usize = 200;
/// The CLI the popular Vercel action installs (its `^50` range), pinned so runs compare.
const VERCEL: &str = "vercel@50.9.6";

/// Median and 90th percentile of `runs` spawns of `command`.
fn time_spawns(
    runs: usize,
    mut make: impl FnMut() -> Command,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut command = make();
        let started = Instant::now();
        command.output()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((times[runs / 2], times[runs * 9 / 10]))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| format!("{} GiB", kb / 1024 / 1024))
        .unwrap_or_default();
    let kernel = Command::new("uname")
        .arg("-sr")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}, {kernel}")
}

pub fn run(peers: bool) -> anyhow::Result<()> {
    let root = crate::root();
    println!("==> building release binaries");
    let bins = crate::build_binaries(true)?;

    let mut md = String::from("# Benchmarks\n\n");
    let _ = writeln!(
        md,
        "Reproduce: `cargo run --release -p xtask -- bench{}`. Machine: {}. Date: {}.\n",
        if peers { " --peers" } else { "" },
        machine(),
        today()
    );
    md.push_str("Times are medians (p90 in brackets) of repeated spawns in one run; the ratio column compares each with a bare `/bin/true` spawn measured in the same run, which is what to quote.\n\n");

    println!("==> startup ({RUNS} spawns each)");
    let (base, base90) = time_spawns(RUNS, || Command::new("/bin/true"))?;
    md.push_str("## Startup\n\n| command | median | ratio to `/bin/true` |\n|---|---|---|\n");
    let _ = writeln!(md, "| `/bin/true` | {} ({}) | 1.0× |", ms(base), ms(base90));
    let mut worst_ratio: f64 = 0.0;
    let mut slowest = Duration::ZERO;
    for tool in TOOLS {
        let exe = bins.join(format!("shipline-{tool}"));
        let (help, help90) = time_spawns(RUNS, || {
            let mut c = Command::new(&exe);
            c.arg("--help");
            c
        })?;
        // A no-op run: parse, mask, validate, report the missing input, exit 2.
        let (noop, noop90) = time_spawns(RUNS, || {
            let mut c = Command::new(&exe);
            c.env_clear().env("PATH", "/usr/bin:/bin");
            c
        })?;
        let (rh, rn) = (
            help.as_secs_f64() / base.as_secs_f64(),
            noop.as_secs_f64() / base.as_secs_f64(),
        );
        worst_ratio = worst_ratio.max(rh).max(rn);
        slowest = slowest.max(help).max(noop);
        let _ = writeln!(
            md,
            "| `shipline-{tool} --help` | {} ({}) | {rh:.1}× |",
            ms(help),
            ms(help90)
        );
        let _ = writeln!(
            md,
            "| `shipline-{tool}` no-op (exit 2) | {} ({}) | {rn:.1}× |",
            ms(noop),
            ms(noop90)
        );
        println!(
            "    shipline-{tool}: --help {} , no-op {}",
            ms(help),
            ms(noop)
        );
    }

    md.push_str("\n## Size\n\n| binary | stripped release size |\n|---|---|\n");
    let mut largest = 0u64;
    for tool in TOOLS {
        let size = std::fs::metadata(bins.join(format!("shipline-{tool}")))?.len();
        largest = largest.max(size);
        let _ = writeln!(md, "| `shipline-{tool}` | {:.2} MB |", size as f64 / 1e6);
    }

    println!("==> setup from a loopback release server");
    let work = tempfile::tempdir()?;
    let (archive_size, cold, warm) = setup_cost(&root, &bins, work.path())?;
    let _ = writeln!(
        md,
        "\nArchive of all seven (`tar.gz`): {:.2} MB.\n",
        archive_size as f64 / 1e6
    );
    md.push_str("## `setup`\n\n");
    let _ = writeln!(
        md,
        "`actions/setup/shipline.sh install` against a loopback server serving that archive: cold (download, verify, unpack) {}, warm (cached) {}; medians of 5.\n",
        ms(cold),
        ms(warm)
    );

    if peers {
        println!("==> peers: npm install {VERCEL} (cold cache) and `vercel --version`");
        let (install, start) = vercel_cost(work.path())?;
        // Against the slowest shipline start measured above, to be fair to the peer.
        let first = cold + slowest;
        md.push_str("## Against the npm-installed CLI\n\n");
        let _ = writeln!(
            md,
            "`npm install {VERCEL}` with an empty cache took {:.1} s; `vercel --version` {} (median of 5). Cold `setup` plus one start is {:.0}× less than the install, and a shipline start is {:.0}× faster than `vercel --version`.\n",
            install.as_secs_f64(),
            ms(start),
            install.as_secs_f64() / first.as_secs_f64(),
            start.as_secs_f64() / slowest.as_secs_f64(),
        );
    }
    if peers {
        println!("==> migrations against the Supabase CLI and dbmate");
        md.push_str(&crate::bench_migrate::run(&bins, work.path())?);
        md.push('\n');
    }
    println!("==> deploy against the fake Vercel");
    md.push_str(&crate::bench_deploy::run(&bins, work.path())?);
    println!("==> rollback against the fake Vercel and GitHub");
    md.push_str(&crate::bench_rollback::run(&bins, work.path())?);
    md.push_str(&crate::bench_notify::run(&bins, work.path())?);
    md.push('\n');
    md.push_str("## Aims (issue #2)\n\n");
    let _ = writeln!(
        md,
        "- Startup under 10 ms: the slowest median above is {} on this machine, {:.1}× a bare process spawn.",
        ms(slowest),
        worst_ratio
    );
    let _ = writeln!(
        md,
        "- Under 10 MB per stripped binary: the largest is {:.2} MB.",
        largest as f64 / 1e6
    );
    std::fs::create_dir_all(root.join("docs"))?;
    std::fs::write(root.join("docs/benchmarks.md"), &md)?;
    println!("\n{md}");
    Ok(())
}

fn today() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Archive the release binaries, serve them, and time `install` cold and warm.
fn setup_cost(root: &Path, bins: &Path, work: &Path) -> anyhow::Result<(u64, Duration, Duration)> {
    let version = "0.0.0-bench";
    let target = "x86_64-unknown-linux-musl";
    let releases = work.join("releases").join(format!("v{version}"));
    std::fs::create_dir_all(&releases)?;
    let name = format!("shipline-v{version}-{target}.tar.gz");
    let mut tar = Command::new("tar");
    tar.arg("-czf")
        .arg(releases.join(&name))
        .arg("-C")
        .arg(bins);
    for tool in TOOLS {
        tar.arg(format!("shipline-{tool}"));
    }
    anyhow::ensure!(tar.status()?.success(), "tar failed");
    let size = std::fs::metadata(releases.join(&name))?.len();
    let sha = Command::new("sha256sum")
        .arg(releases.join(&name))
        .output()?;
    let sha = String::from_utf8_lossy(&sha.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned();
    let action = work.join("actions/setup");
    std::fs::create_dir_all(&action)?;
    std::fs::copy(
        root.join("actions/setup/shipline.sh"),
        action.join("shipline.sh"),
    )?;
    std::fs::write(action.join("VERSION"), version)?;
    std::fs::write(action.join("sha256.txt"), format!("{sha}  {name}\n"))?;
    let dir = work.join("releases");
    let server = shipline_testkit::Fake::start(
        "releases",
        axum::Router::new().route(
            "/{tag}/{file}",
            axum::routing::get(
                move |axum::extract::Path((tag, file)): axum::extract::Path<(String, String)>| {
                    let dir = dir.clone();
                    async move { std::fs::read(dir.join(tag).join(file)).unwrap_or_default() }
                },
            ),
        ),
    );
    let install = |cache: &Path| {
        let mut c = Command::new("bash");
        c.arg(action.join("shipline.sh"))
            .arg("install")
            .env("RUNNER_TOOL_CACHE", cache)
            .env("SHIPLINE_DOWNLOAD_URL", server.url())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64");
        c
    };
    let mut colds = Vec::new();
    let mut warms = Vec::new();
    for i in 0..5 {
        let cache = work.join(format!("cache-{i}"));
        let started = Instant::now();
        anyhow::ensure!(install(&cache).status()?.success(), "setup failed");
        colds.push(started.elapsed());
        let started = Instant::now();
        anyhow::ensure!(install(&cache).status()?.success(), "setup failed");
        warms.push(started.elapsed());
    }
    colds.sort();
    warms.sort();
    Ok((size, colds[2], warms[2]))
}

/// `npm install vercel` into a fresh prefix with an empty cache, then `vercel --version`.
fn vercel_cost(work: &Path) -> anyhow::Result<(Duration, Duration)> {
    let prefix = work.join("vercel");
    let cache = work.join("npm-cache");
    std::fs::create_dir_all(&prefix)?;
    let started = Instant::now();
    let status = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&prefix)
        .arg("--cache")
        .arg(&cache)
        .arg(VERCEL)
        .status()?;
    let install = started.elapsed();
    anyhow::ensure!(status.success(), "npm install {VERCEL} failed");
    let exe = prefix.join("node_modules/.bin/vercel");
    let (start, _) = time_spawns(5, || {
        let mut c = Command::new(&exe);
        c.arg("--version")
            .env("VERCEL_TELEMETRY_DISABLED", "1")
            .env("NO_UPDATE_NOTIFIER", "1");
        c
    })?;
    Ok((install, start))
}

/// `bench deploy`: only the deploy benchmark, its section of `docs/benchmarks.md` replaced.
pub fn run_deploy() -> anyhow::Result<()> {
    run_section("deploy", "## Deploy (issue #4)", crate::bench_deploy::run)
}

/// `bench rollback`: only the rollback benchmark, its section replaced.
pub fn run_rollback() -> anyhow::Result<()> {
    run_section(
        "rollback",
        "## Rollback (issue #5)",
        crate::bench_rollback::run,
    )
}

/// `bench notify`: only the notify benchmark, its section replaced.
pub fn run_notify() -> anyhow::Result<()> {
    run_section("notify", "## Notify (issue #6)", crate::bench_notify::run)
}

/// `bench demo`: the demo's steps on the release binaries, and shipline's own time.
pub fn run_demo() -> anyhow::Result<()> {
    run_section("demo", "## Pipeline (issue #9)", crate::bench_demo::run)
}

/// `bench sourcemaps`: debug ID injection against sentry-cli.
pub fn run_sourcemaps() -> anyhow::Result<()> {
    run_section(
        "sourcemaps",
        "## Source maps (issue #10)",
        crate::bench_sourcemaps::run,
    )
}

/// `bench probe`: 50 slow URLs at once, and one check against a bare GET.
pub fn run_probe() -> anyhow::Result<()> {
    run_section("probe", "## Probe (issue #8)", crate::bench_probe::run)
}

/// `bench drill`: the restore drill against the plain tools, about 1 GB.
pub fn run_drill() -> anyhow::Result<()> {
    run_section(
        "drill",
        "## Restore drill (issue #7)",
        crate::bench_drill::run,
    )
}

/// Runs one benchmark and puts its section where it was (or before the aims).
fn run_section(
    name: &str,
    heading: &str,
    bench: fn(&Path, &Path) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let root = crate::root();
    println!("==> building release binaries");
    let bins = crate::build_binaries(true)?;
    let work = tempfile::tempdir()?;
    let mut section = bench(&bins, work.path())?;
    let _ = writeln!(
        section,
        "\nReproduce this section alone: `cargo run --release -p xtask -- bench {name}`. Machine: {}. Date: {}.\n",
        machine(),
        today()
    );
    let path = root.join("docs/benchmarks.md");
    let md = std::fs::read_to_string(&path).unwrap_or_default();
    let md = match md.find(heading) {
        Some(start) => {
            // The section runs to the next `## ` heading.
            let end = md[start + heading.len()..]
                .find("\n## ")
                .map_or(md.len(), |i| start + heading.len() + i + 1);
            format!("{}{section}{}", &md[..start], &md[end..])
        }
        None => match md.find("## Aims (issue #2)") {
            Some(end) => format!("{}{section}{}", &md[..end], &md[end..]),
            None => format!("{md}\n{section}"),
        },
    };
    std::fs::write(&path, &md)?;
    println!("\n{section}");
    Ok(())
}

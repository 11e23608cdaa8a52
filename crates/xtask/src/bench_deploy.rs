//! Deploy benchmark (issue #4): a 1,000-file / 30 MB site against the fake Vercel with 50 ms
//! added to every request, deployed cold, with one file changed, and unchanged; each against
//! its ideal (critical-path round trips × latency + the same deploy's time with no latency).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use shipline_testkit::fakes::vercel;

const FILES: usize = 1000;
const FILE_SIZE: usize = 30_000;
const LATENCY_MS: u64 = 50;
const CONCURRENCY: usize = 50;

fn write_site(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("assets"))?;
    std::fs::write(dir.join("index.html"), "<div id=root>bench</div>")?;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..FILES - 1 {
        let mut bytes = Vec::with_capacity(FILE_SIZE);
        while bytes.len() < FILE_SIZE {
            // xorshift: incompressible, distinct content per file.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.extend_from_slice(&seed.to_le_bytes());
        }
        bytes.truncate(FILE_SIZE);
        std::fs::write(dir.join(format!("assets/chunk-{i}.js")), bytes)?;
    }
    Ok(())
}

struct Run {
    wall: Duration,
    requests: usize,
    uploads: usize,
}

fn deploy(exe: &Path, site: &Path, work: &Path, fake: &vercel::Vercel) -> anyhow::Result<Run> {
    deploy_as(exe, site, work, fake, "production")
}

fn deploy_as(
    exe: &Path,
    site: &Path,
    work: &Path,
    fake: &vercel::Vercel,
    environment: &str,
) -> anyhow::Result<Run> {
    let before = fake.requests().len();
    let uploads_before = fake.requests_to("POST", "/v2/files").len();
    let started = Instant::now();
    let out = Command::new(exe)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("VERCEL_API_URL", fake.base_url())
        .current_dir(work)
        .args([
            "--provider",
            "vercel",
            "--token",
            "bench-token",
            "--project",
            "prj_shipline",
        ])
        .args(["--environment", environment, "--record-store", "fs:records"])
        .arg(format!("--max-concurrency={CONCURRENCY}"))
        .arg(format!("--directory={}", site.display()))
        .output()?;
    let wall = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "deploy failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(Run {
        wall,
        requests: fake.requests().len() - before,
        uploads: fake.requests_to("POST", "/v2/files").len() - uploads_before,
    })
}

/// Round trips on the critical path: project, create, upload waves, create again, one
/// status poll, verification, promote, one promote-job poll, the post-promote check of the
/// production URL (an unchanged site skips the uploads, the second create and the poll).
fn ideal_round_trips(uploads: usize) -> usize {
    if uploads == 0 {
        6
    } else {
        8 + uploads.div_ceil(CONCURRENCY)
    }
}

pub fn run(bins: &Path, work: &Path) -> anyhow::Result<String> {
    let exe = bins.join("shipline-deploy");
    let site = work.join("deploy-site");
    write_site(&site)?;
    let mut md = String::from("## Deploy (issue #4)\n\n");

    // Hashing on one core.
    let buffer: Vec<u8> = (0..64 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let t = Instant::now();
    let digest = shipline_deploy::site::sha1_hex(&buffer);
    let one_core = buffer.len() as f64 / 1e6 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (loaded, _) = shipline_deploy::site::Site::load(&site, None)?;
    let site_rate = loaded.total_bytes as f64 / 1e6 / t.elapsed().as_secs_f64();
    let _ = writeln!(
        md,
        "SHA-1 on one core: **{one_core:.0} MB/s** (64 MiB buffer, digest {}…; aim 500 MB/s). Loading the 30 MB site (walk, read, hash, all cores): {site_rate:.0} MB/s.\n",
        &digest[..8]
    );

    let mut rows = Vec::new();
    for latency in [0, LATENCY_MS] {
        let fake = vercel::start("bench-token", None);
        {
            let mut s = fake.state();
            s.polls_until_ready = 1;
            s.polls_until_job_done = 0;
        }
        fake.set_latency(Duration::from_millis(latency));
        let dir = work.join(format!("deploy-work-{latency}"));
        std::fs::create_dir_all(&dir)?;
        let cold = deploy(&exe, &site, &dir, &fake)?;
        std::fs::write(
            site.join("assets/chunk-0.js"),
            format!("changed at {latency}"),
        )?;
        let one = deploy(&exe, &site, &dir, &fake)?;
        let same = deploy(&exe, &site, &dir, &fake)?;
        rows.push((latency, cold, one, same));
    }
    let zero = &rows[0];
    let slow = &rows[1];
    md.push_str(&format!(
        "Fake Vercel on loopback, `{LATENCY_MS}` ms added to every request, `max-concurrency: {CONCURRENCY}` (as `@vercel/client`). Ideal = critical-path round trips × {LATENCY_MS} ms + the same deploy's wall time with no added latency (hashing, local I/O, bytes over loopback).\n\n| phase | files uploaded | requests | wall, 0 ms | wall, {LATENCY_MS} ms | round trips (ideal) | ideal | ratio to ideal |\n|---|---|---|---|---|---|---|---|\n"
    ));
    let mut worst: f64 = 0.0;
    for (name, z, s) in [
        ("cold", &zero.1, &slow.1),
        ("one file changed", &zero.2, &slow.2),
        ("unchanged", &zero.3, &slow.3),
    ] {
        let trips = ideal_round_trips(s.uploads);
        let ideal = z.wall + Duration::from_millis(LATENCY_MS * trips as u64);
        let ratio = s.wall.as_secs_f64() / ideal.as_secs_f64();
        worst = worst.max(ratio);
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} ms | {} ms | {trips} | {} ms | {ratio:.2}× |",
            s.uploads,
            s.requests,
            z.wall.as_millis(),
            s.wall.as_millis(),
            ideal.as_millis()
        );
    }
    let _ = writeln!(
        md,
        "\nWorst ratio to ideal: {worst:.2}× (aim 1.25×). The one-file redeploy uploaded {} file(s) and the unchanged one {}.\n",
        slow.2.uploads, slow.3.uploads
    );
    md.push_str(&against_vercel_client(&exe, &site, work)?);
    Ok(md)
}

/// A project directory as `vercel build` leaves it, for `@vercel/client`: our own
/// `config.json` and the site under `static/`, so both tools offer the same files.
fn prebuilt_tree(site: &Path, project: &Path) -> anyhow::Result<()> {
    let output = project.join(".vercel/output");
    let _ = std::fs::remove_dir_all(&output);
    crate::copy_dir(site, &output.join("static"))?;
    std::fs::write(
        output.join("config.json"),
        shipline_deploy::vercel::output_config(true),
    )?;
    Ok(())
}

fn vercel_client(script: &Path, project: &Path, fake: &vercel::Vercel) -> anyhow::Result<Run> {
    let before = fake.requests().len();
    let uploads_before = fake.requests_to("POST", "/v2/files").len();
    let started = Instant::now();
    let out = Command::new("node")
        .arg(script)
        .args([
            &fake.base_url(),
            project.to_str().unwrap_or_default(),
            "prj_shipline",
            "preview",
        ])
        .env("VERCEL_TOKEN", "bench-token")
        .output()?;
    let wall = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "@vercel/client failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(Run {
        wall,
        requests: fake.requests().len() - before,
        uploads: fake.requests_to("POST", "/v2/files").len() - uploads_before,
    })
}

/// The one-file redeploy with `@vercel/client` and with shipline, each against a fake of its
/// own that the cold deploy filled first. Both deploy a preview: `@vercel/client` stops at
/// READY, shipline also checks the project first and verifies the deployment's URL.
fn against_vercel_client(exe: &Path, site: &Path, work: &Path) -> anyhow::Result<String> {
    let root = crate::root();
    let script = root.join("tools/peers/vercel-client-deploy.mjs");
    if !root
        .join("tools/peers/node_modules/@vercel/client")
        .exists()
    {
        return Ok("`@vercel/client` is not installed (`npm install --prefix tools/peers`): the side-by-side was skipped.\n".into());
    }
    let start = || {
        let fake = vercel::start("bench-token", None);
        fake.state().polls_until_ready = 1;
        fake.set_latency(Duration::from_millis(LATENCY_MS));
        fake
    };
    const RUNS: usize = 5;
    let project = work.join("vercel-client-project");
    let ours_dir = work.join("deploy-work-vs");
    std::fs::create_dir_all(&ours_dir)?;
    let (mut theirs, mut ours) = (Vec::new(), Vec::new());
    let (mut their_last, mut our_last) = (None, None);
    for i in 0..RUNS {
        std::fs::write(site.join("assets/chunk-1.js"), format!("redeploy {i}"))?;
        let fake = start();
        prebuilt_tree(site, &project)?;
        vercel_client(&script, &project, &fake)?; // cold
        std::fs::write(
            project.join(".vercel/output/static/assets/chunk-1.js"),
            format!("redeploy {i}, changed"),
        )?;
        let run = vercel_client(&script, &project, &fake)?;
        theirs.push(run.wall);
        their_last = Some(run);
        fake.clear_unexpected();

        let fake = start();
        deploy_as(exe, site, &ours_dir, &fake, "preview")?; // cold
        std::fs::write(
            site.join("assets/chunk-1.js"),
            format!("redeploy {i}, changed"),
        )?;
        let run = deploy_as(exe, site, &ours_dir, &fake, "preview")?;
        ours.push(run.wall);
        our_last = Some(run);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (t, o) = (median(theirs), median(ours));
    let (tl, ol) = (
        their_last.unwrap_or(Run {
            wall: t,
            requests: 0,
            uploads: 0,
        }),
        our_last.unwrap_or(Run {
            wall: o,
            requests: 0,
            uploads: 0,
        }),
    );
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### One-file redeploy against `@vercel/client` 18.4.2\n\nSame fake, same {LATENCY_MS} ms, same site and `config.json`, a preview deploy, median of {RUNS} (each on a fresh fake after a cold deploy). `node tools/peers/vercel-client-deploy.mjs` runs `createDeployment` until `alias-assigned`; shipline also checks the project first and verifies the deployment's own URL.\n\n| tool | median | requests | files uploaded |\n|---|---|---|---|\n| `@vercel/client` (node) | {} ms | {} | {} |\n| shipline | {} ms | {} | {} |\n\nshipline takes **{:.2}×** the time of `@vercel/client` (aim: at most 0.8×).",
        t.as_millis(),
        tl.requests,
        tl.uploads,
        o.as_millis(),
        ol.requests,
        ol.uploads,
        o.as_secs_f64() / t.as_secs_f64()
    );
    Ok(md)
}

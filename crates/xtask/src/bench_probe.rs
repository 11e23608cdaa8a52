//! Probe benchmark (issue #8): 50 URLs answering after 100 ms, through the release binary;
//! and one check's own cost against a bare reqwest GET of the same URL, in process, each on
//! a fresh connection.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use shipline_core::SafeUrl;
use shipline_probe::fetch::{self, RequestSpec, Tls};
use shipline_testkit::Fake;

const URLS: usize = 50;
const DELAY_MS: u64 = 100;
const RUNS: usize = 5;
const SAMPLES: usize = 200;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(bins: &Path, work: &Path) -> anyhow::Result<String> {
    let slow = Fake::start(
        "slow site",
        Router::new().route("/p/{n}", get(|| async { "<h1>ok</h1>" })),
    );
    slow.set_latency(Duration::from_millis(DELAY_MS));
    let list: Vec<String> = (0..URLS).map(|n| format!("{}/p/{n}", slow.url())).collect();
    let probe = |concurrency: usize| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let out = Command::new(bins.join("shipline-probe"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .current_dir(work)
            .args(["--url", &list.join("\n")])
            .args(["--max-concurrency", &concurrency.to_string()])
            .args(["--retries", "0"])
            .output()?;
        let took = started.elapsed();
        anyhow::ensure!(
            out.status.success(),
            "shipline-probe failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        Ok(took)
    };
    let mut rows = Vec::new();
    for concurrency in [URLS, 20] {
        let runs: Vec<Duration> = (0..RUNS)
            .map(|_| probe(concurrency))
            .collect::<Result<_, _>>()?;
        let waves = URLS.div_ceil(concurrency) as u64;
        let floor = Duration::from_millis(DELAY_MS * waves);
        let m = median(runs);
        rows.push(format!(
            "| {URLS} URLs, `max-concurrency: {concurrency}` | {waves} × {DELAY_MS} ms = {} | {} | {:.2}× |",
            ms(floor),
            ms(m),
            m.as_secs_f64() / floor.as_secs_f64()
        ));
    }

    // One check against a bare GET, no delay, fresh connection each time.
    let fast = Fake::start(
        "fast site",
        Router::new().route("/", get(|| async { "<h1>ok</h1>" })),
    );
    let url = format!("{}/", fast.url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (ours, bare) = rt.block_on(async {
        let tls = Tls::new(&[]).map_err(anyhow::Error::msg)?;
        let spec = RequestSpec {
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(5),
            max_redirects: 5,
        };
        let safe = SafeUrl::parse(&url)?;
        let (mut ours, mut bare) = (Vec::new(), Vec::new());
        for _ in 0..SAMPLES {
            let t = Instant::now();
            let a = fetch::fetch(&safe, &spec, &tls)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::ensure!(a.status == 200);
            ours.push(t.elapsed());
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()?;
            let t = Instant::now();
            let r = client.get(&url).send().await?;
            let _ = r.bytes().await?;
            bare.push(t.elapsed());
        }
        anyhow::Ok((median(ours), median(bare)))
    })?;
    let us = |d: Duration| format!("{} µs", d.as_micros());
    let overhead = ours.as_secs_f64() * 1e6 - bare.as_secs_f64() * 1e6;

    let mut s = String::new();
    let _ = writeln!(s, "## Probe (issue #8)\n");
    let _ = writeln!(
        s,
        "The release binary probing {URLS} URLs of a loopback server that answers each after {DELAY_MS} ms, median of {RUNS} runs, start-up included. The floor is the waves of `max-concurrency` × {DELAY_MS} ms. The aim: under 0.5 s for all {URLS} at once.\n"
    );
    let _ = writeln!(
        s,
        "| run | floor | wall | ratio to floor |\n|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(s, "{r}");
    }
    let _ = writeln!(
        s,
        "\nOne check in process (`shipline_probe::fetch`: DNS, connect, the request, each phase timed, the body read) against a bare `reqwest` GET of the same URL on a fresh connection, no delay, median of {SAMPLES}: {} against {}: {} (aim: an overhead under 5 ms).\n",
        us(ours),
        us(bare),
        if overhead >= 0.0 {
            format!("an overhead of {overhead:.0} µs")
        } else {
            format!("{:.0} µs faster, no overhead", -overhead)
        }
    );
    Ok(s)
}

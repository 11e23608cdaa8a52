//! `bench sourcemaps`: debug ID injection of a Vite-sized build (chunks with their maps),
//! shipline's `sourcemaps::inject_dir` against the real `sentry-cli sourcemaps inject`
//! (the npm peer), on fresh copies of the same tree; then the artifact bundle it uploads.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;
const CHUNKS: usize = 300;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `CHUNKS` minified files of about 40 KB, each with a 3-source map of about 100 KB.
fn write_tree(dir: &Path) -> anyhow::Result<u64> {
    let assets = dir.join("assets");
    std::fs::create_dir_all(&assets)?;
    let mut bytes = 0;
    for i in 0..CHUNKS {
        let code = format!(
            "\"use strict\";{}",
            format!("function f{i}(a,b){{return a*b+{i}}};").repeat(1400)
        );
        let js = format!("{code}\n//# sourceMappingURL=chunk-{i:04}.js.map");
        let mappings = "AAAA,SAAS,EAAE,CAAC,MAAM;".repeat(3000);
        let map = format!(
            r#"{{"version":3,"file":"chunk-{i:04}.js","sources":["../src/a{i}.ts","../src/b{i}.ts","../src/c{i}.ts"],"names":["f","a","b"],"mappings":"{mappings}"}}"#
        );
        std::fs::write(assets.join(format!("chunk-{i:04}.js")), &js)?;
        std::fs::write(assets.join(format!("chunk-{i:04}.js.map")), &map)?;
        bytes += (js.len() + map.len()) as u64;
    }
    Ok(bytes)
}

pub fn run(_bins: &Path, work: &Path) -> anyhow::Result<String> {
    let cli = crate::root().join("tools/peers/node_modules/@sentry/cli-linux-x64/bin/sentry-cli");
    anyhow::ensure!(
        cli.exists(),
        "the peers are not installed: `npm install --prefix tools/peers`"
    );
    let (mut ours, mut theirs, mut bundle) = (Vec::new(), Vec::new(), Vec::new());
    let mut size = 0;
    let mut bundle_bytes = 0;
    for i in 0..RUNS {
        println!("==> run {} of {RUNS}", i + 1);
        let a = work.join(format!("ours-{i}"));
        let b = work.join(format!("theirs-{i}"));
        size = write_tree(&a)?;
        write_tree(&b)?;
        let t = Instant::now();
        let injected = shipline_deploy::sourcemaps::inject_dir(&a)?;
        ours.push(t.elapsed());
        anyhow::ensure!(injected.len() == CHUNKS, "injected {}", injected.len());
        let t = Instant::now();
        let status = Command::new(&cli)
            .args(["sourcemaps", "inject"])
            .arg(&b)
            .env("SENTRY_DISABLE_UPDATE_CHECK", "1")
            .stdout(std::process::Stdio::null())
            .status()?;
        theirs.push(t.elapsed());
        anyhow::ensure!(status.success(), "sentry-cli failed");
        let t = Instant::now();
        let (zip, _) =
            shipline_deploy::sourcemaps::artifact_bundle(&a, &injected, "acme", Some("v1"))?;
        bundle.push(t.elapsed());
        bundle_bytes = zip.len();
    }
    let (ours, theirs, bundle) = (median(ours), median(theirs), median(bundle));
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mut md = String::from("## Source maps (issue #10)\n\n");
    let _ = writeln!(
        md,
        "Debug ID injection of {CHUNKS} minified chunks with their maps ({:.1} MB in all), median of {RUNS} runs on fresh copies of one tree; both write the same files but for the IDs' values (checked by the peer test).\n",
        size as f64 / 1e6
    );
    md.push_str("| | median |\n|---|---|\n");
    let _ = writeln!(
        md,
        "| shipline `sourcemaps::inject_dir` (in process) | {} |",
        ms(ours)
    );
    let _ = writeln!(
        md,
        "| `sentry-cli sourcemaps inject` 3.8.0 (a process) | {} |",
        ms(theirs)
    );
    let _ = writeln!(
        md,
        "| shipline's artifact bundle of the result ({:.1} MB zip) | {} |",
        bundle_bytes as f64 / 1e6,
        ms(bundle)
    );
    let _ = writeln!(
        md,
        "\nshipline takes **{:.2}×** sentry-cli's time, measured in one run. shipline injects files on all cores (this machine has {}) and decodes only the one mappings line the snippet splits; sentry-cli's figure includes its process start (a few milliseconds).",
        ours.as_secs_f64() / theirs.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(md)
}

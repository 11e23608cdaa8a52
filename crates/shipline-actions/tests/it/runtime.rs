//! The runtime in and out of Actions, against real temp files.

use std::collections::HashMap;

use shipline_actions::runtime::Captured;
use shipline_actions::{Annotation, Outcome, OutputFormat, Report, Runtime, outputs};
use shipline_core::Secret;

struct Step {
    _dir: tempfile::TempDir,
    env: HashMap<String, String>,
    output: String,
    summary: String,
}

fn actions_step() -> Step {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("output").display().to_string();
    let summary = dir.path().join("summary.md").display().to_string();
    let env = HashMap::from([
        ("GITHUB_ACTIONS".to_owned(), "true".to_owned()),
        ("GITHUB_OUTPUT".to_owned(), output.clone()),
        ("GITHUB_STEP_SUMMARY".to_owned(), summary.clone()),
    ]);
    Step {
        _dir: dir,
        env,
        output,
        summary,
    }
}

fn report() -> Report {
    Report::new("shipline-probe", Outcome::Failure, "1 of 2 URLs down")
        .field("status", "down")
        .annotation(Annotation::error("https://x.example: 503").title("probe failed"))
        .output("status", "down")
        .output("details", "line one\nline two")
}

#[test]
fn in_actions_masks_first_then_annotates_writes_outputs_and_summary() {
    let step = actions_step();
    let (out, err) = (Captured::default(), Captured::default());
    let mut rt = Runtime::from_lookup(|k| step.env.get(k).cloned(), OutputFormat::Text)
        .with_writers(out.clone(), err.clone());
    rt.mask(&[&Secret::new("tok_123456\nsecond")]);
    rt.group("checking");
    rt.end_group();
    rt.finish(&report()).unwrap();

    let stdout = out.text();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "::add-mask::tok_123456");
    assert_eq!(lines[1], "::add-mask::second");
    assert_eq!(lines[2], "::group::checking");
    assert_eq!(lines[3], "::endgroup::");
    assert_eq!(
        lines[4],
        "::error title=probe failed::https://x.example: 503"
    );
    assert!(stdout.contains("shipline-probe: 1 of 2 URLs down\n"));

    let written = outputs::decode(&std::fs::read_to_string(&step.output).unwrap());
    assert_eq!(
        written,
        [
            ("details".to_owned(), "line one\nline two".to_owned()),
            ("status".to_owned(), "down".to_owned())
        ]
    );
    let summary = std::fs::read_to_string(&step.summary).unwrap();
    assert!(
        summary.starts_with("### ❌ shipline-probe: 1 of 2 URLs down"),
        "{summary}"
    );
    assert!(summary.contains("> **Error:** https://x.example: 503"));
}

#[test]
fn json_keeps_stdout_one_document_and_commands_on_stderr() {
    let step = actions_step();
    let (out, err) = (Captured::default(), Captured::default());
    let mut rt = Runtime::from_lookup(|k| step.env.get(k).cloned(), OutputFormat::Json)
        .with_writers(out.clone(), err.clone());
    rt.mask(&[&Secret::new("tok_123456")]);
    rt.finish(&report()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&out.text()).unwrap();
    assert_eq!(doc["outputs"]["status"], "down");
    assert!(err.text().starts_with("::add-mask::tok_123456\n::error"));
}

#[test]
fn outside_actions_a_person_reads_it_and_no_runner_files_are_touched() {
    let step = actions_step();
    let mut env = step.env.clone();
    env.remove("GITHUB_ACTIONS");
    let (out, err) = (Captured::default(), Captured::default());
    let mut rt = Runtime::from_lookup(|k| env.get(k).cloned(), OutputFormat::Text)
        .with_writers(out.clone(), err.clone());
    rt.mask(&[&Secret::new("tok_123456")]);
    rt.finish(&report()).unwrap();
    assert!(!out.text().contains("::"), "{}", out.text());
    assert!(!out.text().contains("tok_123456"));
    assert_eq!(err.text(), "error: probe failed: https://x.example: 503\n");
    assert!(!std::path::Path::new(&step.output).exists());
    assert!(!std::path::Path::new(&step.summary).exists());
}

//! The self-hosted provider: releases side by side, `current` switched atomically.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use shipline_testkit::ActionsStep;

use crate::flow::{self, EXE, run};

fn step(target: &Path) -> ActionsStep {
    let step = ActionsStep::push()
        .input("provider", "fs")
        .input("target-dir", target.to_str().unwrap())
        .input("record-store", "fs:records")
        .input("expect-text", "Welcome to webapp");
    flow::write_site(&step.workspace());
    step
}

fn current(target: &Path) -> PathBuf {
    std::fs::read_link(target.join("current")).unwrap()
}

/// `current` names a release whose files are all there, as its record lists them.
fn assert_current_is_complete(target: &Path) {
    let Ok(link) = std::fs::read_link(target.join("current")) else {
        return; // never switched yet
    };
    let release = target.join(&link);
    let id = link.file_name().unwrap().to_str().unwrap();
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(target.join(format!("releases/{id}.json"))).unwrap(),
    )
    .unwrap();
    for (path, sha) in record["files"].as_object().unwrap() {
        let bytes =
            std::fs::read(release.join(path)).unwrap_or_else(|e| panic!("{path} of {id}: {e}"));
        assert_eq!(
            &shipline_deploy::site::sha1_hex(&bytes),
            sha.as_str().unwrap(),
            "{path}"
        );
    }
}

#[test]
fn releases_hard_link_unchanged_files_switch_atomically_and_are_pruned() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("www");
    let step = step(&target).input("keep", "2");
    let first = run(&step);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let r1 = current(&target);
    assert!(r1.starts_with("releases"));
    assert_eq!(first.outputs["files-uploaded"], "6");
    let index = std::fs::read_to_string(target.join("current/index.html")).unwrap();
    assert!(index.contains("Welcome"));
    // The record beside the release, and the deployment record in the store.
    let id = r1.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(target.join(format!("releases/{id}.json")).is_file());
    let records: Vec<_> = std::fs::read_dir(step.workspace().join("records/production"))
        .unwrap()
        .collect();
    assert_eq!(records.len(), 1);

    flow::change_one_file(&step.workspace());
    let second = run(&step);
    assert_eq!(second.code, Some(0), "{}", second.everything());
    assert_eq!(
        second.outputs["files-uploaded"], "1",
        "one file copied, the rest linked"
    );
    let r2 = current(&target);
    assert_ne!(r1, r2);
    let ino = |r: &Path, f: &str| std::fs::metadata(target.join(r).join(f)).unwrap().ino();
    assert_eq!(
        ino(&r1, "assets/vendor-9f8e.js"),
        ino(&r2, "assets/vendor-9f8e.js")
    );
    assert_ne!(
        ino(&r1, "assets/index-1a2b.js"),
        ino(&r2, "assets/index-1a2b.js")
    );

    // A rerun: nothing copied, same release.
    let again = run(&step);
    assert_eq!(again.outputs["files-uploaded"], "0");
    assert_eq!(current(&target), r2);

    std::fs::write(
        step.workspace().join("dist/robots.txt"),
        "User-agent: none\n",
    )
    .unwrap();
    assert_eq!(run(&step).code, Some(0));
    let left: Vec<String> = std::fs::read_dir(target.join("releases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".json"))
        .collect();
    assert_eq!(left.len(), 2, "keep: 2 → {left:?}");
    assert!(!target.join(&r1).exists(), "the oldest release was pruned");
    assert_current_is_complete(&target);
}

#[test]
fn a_failed_verification_never_switches_current() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("www");
    let step = step(&target);
    assert_eq!(run(&step).code, Some(0));
    let live = current(&target);
    flow::change_one_file(&step.workspace());
    let step = step.input("smoke-path", "/missing").input("spa", "false");
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("`/missing` is not in the release"),
        "{}",
        result.stdout
    );
    assert_eq!(current(&target), live);
}

#[test]
fn killed_at_any_moment_current_stays_on_a_complete_release_and_a_rerun_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("www");
    let step = step(&target);
    // Enough files that a deploy takes a while to copy.
    let dist = step.workspace().join("dist/assets/many");
    std::fs::create_dir_all(&dist).unwrap();
    for i in 0..1500 {
        std::fs::write(
            dist.join(format!("chunk-{i}.js")),
            format!("export const n = {i};").repeat(40),
        )
        .unwrap();
    }
    assert_eq!(run(&step).code, Some(0));
    for round in 0..8u64 {
        std::fs::write(
            step.workspace().join("dist/robots.txt"),
            format!("round {round}\n"),
        )
        .unwrap();
        let mut child = step
            .command(EXE)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5 + round * 25));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        assert_current_is_complete(&target);
    }
    let finish = run(&step);
    assert_eq!(finish.code, Some(0), "{}", finish.everything());
    assert_current_is_complete(&target);
    assert_eq!(
        std::fs::read_to_string(target.join("current/robots.txt")).unwrap(),
        "round 7\n"
    );
    let stale: Vec<_> = std::fs::read_dir(target.join("releases"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".staging-")
        })
        .collect();
    assert!(stale.is_empty(), "staging left by killed runs is cleaned");
}

#[test]
fn a_terminal_shows_upload_progress_and_a_pipe_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("www");
    let step = step(&target).without("GITHUB_ACTIONS");
    // `script` gives the deploy a pseudo-terminal, as a person's shell would.
    let output = step
        .command("script")
        .args(["-qec", EXE, "/dev/null"])
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{seen}");
    assert!(seen.contains("uploading ["), "{seen}");
    assert!(seen.contains("6/6 files"), "{seen}");

    // A fresh target, so the piped run copies all six files too.
    let other = tmp.path().join("www2");
    let piped = run(&step.input("target-dir", other.to_str().unwrap()));
    assert_eq!(piped.code, Some(0), "{}", piped.everything());
    assert!(
        piped.everything().contains("6 of 6 files"),
        "{}",
        piped.everything()
    );
    assert!(
        !piped.everything().contains("uploading ["),
        "{}",
        piped.everything()
    );
}

//! Rolling back a self-hosted site: `current` switched back to the previous release.

use std::path::{Path, PathBuf};

use shipline_hosting::record::{FsRecords, Record, RecordId, State, Status};
use shipline_testkit::ActionsStep;

use crate::common::{run, sha, site};

/// `<target>/releases/<id>/…` for each version, `current` → the last; a file record each,
/// all `success`. Returns (target dir, records dir, record ids).
pub fn releases(
    root: &Path,
    versions: &[&str],
    migration: &[Option<&str>],
) -> (PathBuf, PathBuf, Vec<RecordId>) {
    let target = root.join("srv");
    let records = root.join("records");
    let store = FsRecords {
        dir: records.clone(),
    };
    let mut ids = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        let id = format!("release{i}");
        for (path, bytes) in site(version) {
            let file = target.join("releases").join(&id).join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, bytes).unwrap();
        }
        let record = Record {
            provider: "fs".into(),
            provider_deployment_id: id.clone(),
            url: format!("file://{}", target.join("releases").join(&id).display()),
            environment: "production".into(),
            git_sha: Some(sha(char::from(b'1' + i as u8))),
            migration_version: migration.get(i).copied().flatten().map(str::to_owned),
            artifact_sha256: "cd".repeat(32),
            created_at: format!("2026-12-0{}T10:00:00Z", i + 1),
        };
        let rid = store.create(&record).unwrap();
        let ok = Status {
            state: State::Success,
            description: "verified and promoted",
            environment_url: None,
            log_url: None,
        };
        store.set_status(&rid, &ok, &record.created_at).unwrap();
        ids.push(rid);
    }
    let live = format!("releases/release{}", versions.len() - 1);
    std::os::unix::fs::symlink(live, target.join("current")).unwrap();
    (target, records, ids)
}

pub fn fs_step(target: &Path, records: &Path) -> ActionsStep {
    ActionsStep::with_event("workflow_dispatch", "workflow_dispatch.json")
        .input("provider", "fs")
        .input("target-dir", &target.display().to_string())
        .input("record-store", &format!("fs:{}", records.display()))
        .input("expect-text", "Welcome to webapp")
}

fn state_of(id: &RecordId) -> (String, String) {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&id.0).unwrap()).unwrap();
    (
        v["state"].as_str().unwrap().to_owned(),
        v["description"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn previous_switches_current_back_and_rewrites_the_file_records() {
    let dir = tempfile::tempdir().unwrap();
    let (target, records, ids) = releases(dir.path(), &["v1", "v2"], &[]);
    let result = run(&fs_step(&target, &records).input("reason", "bad css"));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(
        std::fs::read_link(target.join("current")).unwrap(),
        PathBuf::from("releases/release0")
    );
    let served = std::fs::read_to_string(target.join("current/index.html")).unwrap();
    assert!(served.contains("v1"));
    let (state, description) = state_of(&ids[0]);
    assert_eq!(state, "success");
    assert_eq!(description, "rollback from 2222222 (release1): bad css");
    assert_eq!(state_of(&ids[1]).0, "inactive");
    assert_eq!(
        result.outputs["url"],
        format!("file://{}", target.join("current").display())
    );
    assert_eq!(result.outputs["deployment-id"], "release0");
    assert_eq!(result.outputs["from"], "release1");
}

#[test]
fn a_dry_run_touches_neither_the_link_nor_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let (target, records, ids) = releases(dir.path(), &["v1", "v2"], &[]);
    let before: Vec<String> = ids
        .iter()
        .map(|i| std::fs::read_to_string(&i.0).unwrap())
        .collect();
    let result = run(&fs_step(&target, &records).input("dry-run", "true"));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("dry run: would roll back production on fs"),
        "{}",
        result.stdout
    );
    assert_eq!(
        std::fs::read_link(target.join("current")).unwrap(),
        PathBuf::from("releases/release1")
    );
    let after: Vec<String> = ids
        .iter()
        .map(|i| std::fs::read_to_string(&i.0).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_release_that_was_pruned_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (target, records, _) = releases(dir.path(), &["v1", "v2", "v3"], &[]);
    std::fs::remove_dir_all(target.join("releases/release1")).unwrap();
    let result = run(&fs_step(&target, &records));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result.stdout.contains("skipped `release1`"),
        "{}",
        result.stdout
    );
    assert_eq!(
        std::fs::read_link(target.join("current")).unwrap(),
        PathBuf::from("releases/release0")
    );
}

#[test]
fn a_release_that_fails_the_check_is_reported_and_not_marked_good() {
    let dir = tempfile::tempdir().unwrap();
    let (target, records, ids) = releases(dir.path(), &["v1", "v2"], &[]);
    std::fs::write(target.join("releases/release0/index.html"), "maintenance").unwrap();
    let result = run(&fs_step(&target, &records));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("failed the check"),
        "{}",
        result.stdout
    );
    assert_eq!(state_of(&ids[0]).0, "failure");
}

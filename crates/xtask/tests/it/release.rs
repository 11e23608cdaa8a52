//! A local release server and archives for the setup tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::Digest;
use shipline_testkit::Fake;

pub const TOOLS: [&str; 7] = [
    "deploy",
    "migrate",
    "rollback",
    "backup-check",
    "notify",
    "probe",
    "doctor",
];

/// Serves `<dir>/v<version>/<archive>` like GitHub release downloads.
pub fn server(dir: &Path) -> Fake {
    let dir = dir.to_path_buf();
    Fake::start(
        "releases",
        Router::new()
            .route("/{tag}/{file}", get(serve))
            .with_state(dir),
    )
}

async fn serve(
    State(dir): State<PathBuf>,
    UrlPath((tag, file)): UrlPath<(String, String)>,
) -> Response {
    match std::fs::read(dir.join(tag).join(file)) {
        Ok(bytes) => bytes.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Makes `shipline-v<version>-<target>.tar.gz` under `<dir>/v<version>/` from the binaries in
/// `bins`, and returns its sha256.
pub fn archive(dir: &Path, version: &str, target: &str, bins: &Path) -> (String, String) {
    let name = format!("shipline-v{version}-{target}.tar.gz");
    let tag = dir.join(format!("v{version}"));
    std::fs::create_dir_all(&tag).unwrap();
    let mut tar = Command::new("tar");
    tar.arg("-czf").arg(tag.join(&name)).arg("-C").arg(bins);
    for tool in TOOLS {
        tar.arg(format!("shipline-{tool}"));
    }
    assert!(tar.status().unwrap().success());
    let sha = hex::encode(sha2::Sha256::digest(
        std::fs::read(tag.join(&name)).unwrap(),
    ));
    (name, sha)
}

/// Stand-in binaries that say how they were run.
pub fn script_bins(dir: &Path) -> PathBuf {
    let bins = dir.join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    for tool in TOOLS {
        let path = bins.join(format!("shipline-{tool}"));
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"ran shipline-{tool} $* command=[$INPUT_COMMAND]\"\n"),
        )
        .unwrap();
        make_executable(&path);
    }
    bins
}

pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A copy of `actions/` (and the root `action.yml`) in `dir`, with `VERSION` and
/// `sha256.txt` set for a test release.
pub fn actions_copy(dir: &Path, version: &str, checksums: &[(String, String)]) -> PathBuf {
    let root = dir.join("repo");
    copy_dir(&xtask::root().join("actions"), &root.join("actions"));
    std::fs::copy(xtask::root().join("action.yml"), root.join("action.yml")).unwrap();
    std::fs::write(root.join("actions/setup/VERSION"), format!("{version}\n")).unwrap();
    let table: String = checksums
        .iter()
        .map(|(name, sha)| format!("{sha}  {name}\n"))
        .collect();
    std::fs::write(root.join("actions/setup/sha256.txt"), table).unwrap();
    root
}

pub fn copy_dir(from: &Path, to: &Path) {
    xtask::copy_dir(from, to).unwrap();
}

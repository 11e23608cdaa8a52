//! Developer commands of the shipline workspace, as a library so tests can call them.

pub mod actions;
pub mod bench;
pub mod bench_demo;
pub mod bench_deploy;
pub mod bench_drill;
pub mod bench_migrate;
pub mod bench_notify;
pub mod bench_probe;
pub mod bench_rollback;
pub mod bench_sourcemaps;
pub mod demo;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The seven tools, by action name; the binary of each is `shipline-<name>`.
pub const TOOLS: [&str; 7] = [
    "deploy",
    "migrate",
    "rollback",
    "backup-check",
    "notify",
    "probe",
    "doctor",
];

/// Builds the seven binaries (debug, or release) and returns the folder they are in.
pub fn build_binaries(release: bool) -> anyhow::Result<PathBuf> {
    let root = root();
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build.args(["build", "--locked", "-q"]).current_dir(&root);
    if release {
        build.arg("--release");
    }
    for tool in TOOLS {
        build.args(["--bin", &format!("shipline-{tool}")]);
    }
    anyhow::ensure!(
        build.status()?.success(),
        "`cargo build` of the shipline binaries failed"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join(if release { "release" } else { "debug" }))
}

/// Builds the debug binaries and copies them into `dest`, holding a lock across processes:
/// tests run in parallel processes, and one's `cargo build` may rewrite a binary while another
/// archives or runs it. Each caller then works on its own copy.
pub fn binaries_snapshot(dest: &Path) -> anyhow::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    std::fs::create_dir_all(&target)?;
    let lock = std::fs::File::create(target.join("shipline-binaries.lock"))?;
    lock.lock()?;
    let built = build_binaries(false)?;
    std::fs::create_dir_all(dest)?;
    for tool in TOOLS {
        let name = format!("shipline-{tool}");
        std::fs::copy(built.join(&name), dest.join(&name))?;
    }
    lock.unlock()?;
    Ok(dest.to_path_buf())
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

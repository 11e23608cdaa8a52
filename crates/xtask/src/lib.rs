//! Developer commands of the shipline workspace, as a library so tests can call them.

pub mod actions;
pub mod bench;
pub mod demo;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

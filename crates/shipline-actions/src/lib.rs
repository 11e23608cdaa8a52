//! Everything a shipline binary says to the GitHub Actions runner, or to a person at a terminal.
//!
//! This crate links no network code on purpose: it is the part every binary shares, and it
//! must stay small and easy to test on its own.

pub mod commands;
pub mod context;
pub mod event;
pub mod outputs;
pub mod report;
pub mod runtime;
pub mod summary;

pub use commands::{Annotation, Level};
pub use context::GithubContext;
pub use event::Event;
pub use report::{Outcome, Phases, Report, Table};
pub use runtime::{OutputFormat, Runtime};

/// Failures of the runner's files (outputs, summary, event payload).
#[derive(Debug, thiserror::Error)]
pub enum ActionsError {
    /// A runner file could not be written.
    #[error("could not write `{path}` (from `{var}`): {source}")]
    Write {
        var: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// The event payload could not be read or parsed.
    #[error("could not read the event payload `{path}` (from `GITHUB_EVENT_PATH`): {message}")]
    Event { path: String, message: String },
}

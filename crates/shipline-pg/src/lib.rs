//! PostgreSQL for shipline: connecting (rustls, `sslmode`, pooler-safe) and the migration
//! engine, which keeps the Supabase CLI's own history table so either tool can take over.

pub mod cluster;
pub mod conn;
pub mod engine;
pub mod history;
pub mod lint;
pub mod lock;
pub mod shim;
pub mod source;
pub mod split;
pub mod tools;
pub mod verify;

pub use conn::Target;
pub use engine::{Engine, Options};
pub use source::{Migration, Source};

/// What can go wrong talking to PostgreSQL or applying migrations.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The connection string or TLS settings are unusable.
    #[error("{0}")]
    Config(String),
    /// The server could not be reached or refused the login.
    #[error("could not connect to `{url}`: {message}")]
    Connect { url: String, message: String },
    /// A query of shipline's own failed.
    #[error("{context}: {message}")]
    Query { context: String, message: String },
    /// Another run held the migration lock for longer than allowed.
    #[error(
        "another migration run holds the lock (advisory lock {key}); gave up after {waited_s} s. If no run is active, a session left over from a killed run still holds it: end it with `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and objid = {objid}`"
    )]
    Locked { key: i64, objid: u32, waited_s: u64 },
    /// The history does not match the files; nothing was run.
    #[error("{0}")]
    Drift(String),
    /// The files cannot be run as they are; nothing was run.
    #[error("{0}")]
    Refused(String),
    /// A migration failed; it left nothing behind, and no later file ran.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Migration {
        file: String,
        line: Option<u32>,
        message: String,
        /// Versions applied (or reverted) before this one.
        done: Vec<String>,
    },
}

/// PostgreSQL's own words for an error: message, SQLSTATE, detail and hint.
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; detail: {detail}"));
            }
            if let Some(hint) = db.hint() {
                text.push_str(&format!("; hint: {hint}"));
            }
            text
        }
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

/// A SQL string literal (standard conforming strings).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

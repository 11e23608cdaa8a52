//! Shared vocabulary of the shipline crates. No I/O and no network here, so every crate
//! (including the Actions I/O layer) can depend on it.

pub mod duration;
pub mod env;
pub mod error;
pub mod secret;
pub mod time;
pub mod url;

pub use duration::parse_duration;
pub use env::EnvVars;
pub use error::{ExitStatus, InputError};
pub use secret::Secret;
pub use url::SafeUrl;

//! The shipline test kit: real parts where users have real parts (PostgreSQL, HTTP over
//! loopback, files), and fakes of the SaaS APIs built from their published descriptions.
#![allow(clippy::unwrap_used)] // test infrastructure: a failed setup should stop the test loudly
#![allow(clippy::result_large_err)] // fake handlers return an axum `Response` as their error, as axum does

pub mod actions_env;
pub mod contract;
pub mod fake;
pub mod fakes;
pub mod openapi;
pub mod pg;
pub mod snapshot;

pub use actions_env::ActionsStep;
pub use fake::{Fake, Fault, Recorded};

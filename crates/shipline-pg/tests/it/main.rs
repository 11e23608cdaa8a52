//! The migration engine on a real PostgreSQL from the test kit.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

mod engine;

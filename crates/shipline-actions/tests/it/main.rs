//! Integration tests of the Actions runtime layer.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

mod event;
mod runtime;

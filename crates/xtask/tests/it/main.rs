//! The actions: generated from the code, wired safely, installed and run for real.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

mod actions;
mod pipeline;
mod release;
mod setup;
mod wrkflw;

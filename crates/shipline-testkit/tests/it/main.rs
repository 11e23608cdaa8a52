//! The test kit's own tests.
#![allow(clippy::unwrap_used)]

mod fakes;
mod pg;

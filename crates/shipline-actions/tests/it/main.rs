//! Integration tests of the Actions runtime layer.

mod event;
mod runtime;

//! The edge of every shipline binary.
//!
//! A binary's `main` is one line: `shipline_cli::main::<Tool>()`. This crate does the rest,
//! in an order that matters: secrets are masked before anything else is printed, inputs are
//! parsed and validated before any side effect, and the result becomes an exit code in
//! exactly one place ([`classify`]).

mod env;
mod inputs;
mod tool;

pub use env::Env;
pub use inputs::{
    CommonArgs, nonempty, or_env, parse_bool, parse_choice, parse_dir, parse_duration_input,
    parse_list, parse_positive, parse_postgres_url, parse_secret_url, parse_url, parse_version,
    required,
};
pub use tool::{Ctx, NotImplemented, Tool, classify, main, run_with};

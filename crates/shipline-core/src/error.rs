//! The one place where outcomes become exit codes.

use std::fmt;

/// Exit status of every shipline binary (`ACTIONS.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Success,
    /// 1: the operation failed or a check found a problem.
    Failure,
    /// 2: bad input or configuration; nothing was done.
    BadInput,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::BadInput => 2,
        }
    }
}

/// A bad input: which one, and what is wrong with it (ending with the likely fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The input's name as users write it in YAML (`database-url`).
    pub input: String,
    /// What is wrong, lower-case, literals in backticks.
    pub message: String,
}

impl InputError {
    pub fn new(input: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            message: message.into(),
        }
    }

    /// A required input that was not given, naming where it may come from.
    pub fn missing(input: &str, fallback_env: Option<&str>) -> Self {
        let from = match fallback_env {
            Some(env) => format!(
                "set `{input}` in `with:` (env `{}`) or `{env}`",
                crate::EnvVars::input(input)
            ),
            None => format!(
                "set `{input}` in `with:` (env `{}`)",
                crate::EnvVars::input(input)
            ),
        };
        Self::new(input, format!("is required; {from}"))
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid input `{}`: {}", self.input, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_contract() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failure.code(), 1);
        assert_eq!(ExitStatus::BadInput.code(), 2);
    }

    #[test]
    fn messages_name_the_input_and_the_fix() {
        let err = InputError::missing("token", Some("VERCEL_TOKEN"));
        assert_eq!(
            err.to_string(),
            "invalid input `token`: is required; set `token` in `with:` (env `INPUT_TOKEN`) or `VERCEL_TOKEN`"
        );
    }
}

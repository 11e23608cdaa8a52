//! What the doctor found, one line per check.

use shipline_actions::Annotation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Unsafe or broken: the step fails.
    Error,
    /// Suspicious: reported, the step passes.
    Warning,
    /// Fine, or could not be told (and why).
    Ok,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    pub message: String,
}

impl Finding {
    pub fn error(check: &'static str, message: impl Into<String>) -> Self {
        Finding {
            level: Level::Error,
            check,
            message: message.into(),
        }
    }
    pub fn warning(check: &'static str, message: impl Into<String>) -> Self {
        Finding {
            level: Level::Warning,
            check,
            message: message.into(),
        }
    }
    pub fn ok(check: &'static str, message: impl Into<String>) -> Self {
        Finding {
            level: Level::Ok,
            check,
            message: message.into(),
        }
    }

    pub fn mark(&self) -> &'static str {
        match self.level {
            Level::Error => "✗",
            Level::Warning => "!",
            Level::Ok => "✓",
        }
    }

    pub fn annotation(&self) -> Option<Annotation> {
        match self.level {
            Level::Error => Some(Annotation::error(&self.message).title(self.check)),
            Level::Warning => Some(Annotation::warning(&self.message).title(self.check)),
            Level::Ok => None,
        }
    }
}

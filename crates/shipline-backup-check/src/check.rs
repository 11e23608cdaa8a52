//! One finding of a backup check: what was checked, how it went, and the evidence.

use shipline_actions::Table;

/// How one check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Worth knowing, not a risk to recovery by the policy given.
    Warn,
    /// Recovery is at risk.
    Fail,
    /// Not applicable here (no PITR asked for, no drill).
    Skip,
}

impl Verdict {
    pub fn icon(self) -> &'static str {
        match self {
            Verdict::Pass => "✅",
            Verdict::Warn => "⚠️",
            Verdict::Fail => "❌",
            Verdict::Skip => "➖",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
}

impl Check {
    pub fn new(name: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            verdict,
            detail: detail.into(),
        }
    }
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Verdict::Pass, detail)
    }
    pub fn fail(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Verdict::Fail, detail)
    }
    pub fn warn(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Verdict::Warn, detail)
    }
    pub fn skip(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Verdict::Skip, detail)
    }
}

/// The checks as the step summary's table.
pub fn table(title: &str, checks: &[Check]) -> Table {
    Table {
        title: title.into(),
        headers: vec!["check".into(), "result".into(), "detail".into()],
        rows: checks
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    format!("{} {}", c.verdict.icon(), verdict_word(c.verdict)),
                    c.detail.clone(),
                ]
            })
            .collect(),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok",
        Verdict::Warn => "warning",
        Verdict::Fail => "FAILED",
        Verdict::Skip => "skipped",
    }
}

/// Hours with one decimal, as the `age-hours` output says it.
pub fn hours(secs: u64) -> String {
    format!("{:.1}", secs as f64 / 3600.0)
}

//! Workflow commands (`::error file=…::message`), with the runner's escaping rules.
//!
//! The escaping is the one `@actions/core` applies (`command.ts`): in the message `%`, `\r`
//! and `\n`; in property values also `:` and `,`, which would otherwise end the property.

use std::fmt::Write as _;

use serde::Serialize;

/// Severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    pub fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// A problem (or note) shown on the run page, and on a file's line when one is at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub level: Level,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

impl Annotation {
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        Self {
            level,
            message: message.into(),
            title: None,
            file: None,
            line: None,
            end_line: None,
            col: None,
            end_column: None,
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Level::Error, message)
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Level::Warning, message)
    }

    pub fn notice(message: impl Into<String>) -> Self {
        Self::new(Level::Notice, message)
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    pub fn at(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = line;
        self
    }

    pub fn col(mut self, col: u32) -> Self {
        self.col = Some(col);
        self
    }

    /// The `::level props::message` line for the runner.
    pub fn to_command(&self) -> String {
        let mut props = Vec::new();
        if let Some(title) = &self.title {
            props.push(("title", title.clone()));
        }
        if let Some(file) = &self.file {
            props.push(("file", file.clone()));
        }
        for (key, value) in [
            ("line", self.line),
            ("endLine", self.end_line),
            ("col", self.col),
            ("endColumn", self.end_column),
        ] {
            if let Some(value) = value {
                props.push((key, value.to_string()));
            }
        }
        command(self.level.command(), &props, &self.message)
    }
}

/// Formats any workflow command.
pub fn command(name: &str, props: &[(&str, String)], message: &str) -> String {
    let mut out = format!("::{name}");
    for (i, (key, value)) in props.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        let _ = write!(out, "{key}={}", escape_property(value));
    }
    out.push_str("::");
    out.push_str(&escape_data(message));
    out
}

/// `::add-mask::` lines for each line of a secret. GitHub masks line by line.
pub fn add_mask(secret: &shipline_core::Secret) -> Vec<String> {
    secret
        .mask_lines()
        .map(|line| command("add-mask", &[], line))
        .collect()
}

/// Opens a collapsible group in the log.
pub fn group(title: &str) -> String {
    command("group", &[], title)
}

/// Closes the group opened last.
pub fn endgroup() -> String {
    "::endgroup::".to_owned()
}

pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipline_core::Secret;

    #[test]
    fn escapes_message_and_properties_as_the_toolkit_does() {
        let annotation = Annotation::error("50% done\r\nthen: failed, badly")
            .title("migration failed: a,b")
            .at("supabase/migrations/2024_init.sql", Some(12))
            .col(3);
        insta::assert_snapshot!(annotation.to_command(), @"::error title=migration failed%3A a%2Cb,file=supabase/migrations/2024_init.sql,line=12,col=3::50%25 done%0D%0Athen: failed, badly");
    }

    #[test]
    fn a_bare_annotation_has_no_properties() {
        assert_eq!(
            Annotation::warning("careful").to_command(),
            "::warning::careful"
        );
        assert_eq!(Annotation::notice("n").to_command(), "::notice::n");
    }

    #[test]
    fn end_positions_use_the_runner_names() {
        let mut a = Annotation::error("x").at("f.sql", Some(1));
        a.end_line = Some(4);
        a.end_column = Some(9);
        assert_eq!(
            a.to_command(),
            "::error file=f.sql,line=1,endLine=4,endColumn=9::x"
        );
    }

    #[test]
    fn masks_every_line_of_a_secret() {
        let lines = add_mask(&Secret::new("abc%def\nsecond line\n"));
        assert_eq!(lines, ["::add-mask::abc%25def", "::add-mask::second line"]);
    }

    #[test]
    fn groups() {
        assert_eq!(group("upload: 12 files"), "::group::upload: 12 files");
        assert_eq!(endgroup(), "::endgroup::");
    }
}

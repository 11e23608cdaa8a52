//! What a binary did, as data: rendered to Markdown (step summary), text (terminal, job log)
//! and JSON (`--output json`) from the same value, so the three never disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::Annotation;

/// How the run ended, as the exit code will say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the operation failed, or a check found a problem.
    Failure,
    /// Exit 2: bad input; nothing was done.
    InvalidInput,
}

impl Outcome {
    fn icon(self) -> &'static str {
        match self {
            Outcome::Success => "✅",
            Outcome::Failure => "❌",
            Outcome::InvalidInput => "⛔",
        }
    }
}

/// A table in a report (files uploaded, migrations applied, URLs probed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Wall time per phase of a run, shown as the report's "Phases" table.
#[derive(Debug, Clone, Default)]
pub struct Phases(Vec<(&'static str, std::time::Duration)>);

impl Phases {
    /// Records a phase that began at `since` and ends now.
    pub fn time(&mut self, name: &'static str, since: std::time::Instant) {
        self.0.push((name, since.elapsed()));
    }

    /// One line for a comment or a chat message: `preflight 12 ms, upload and stage 1.4 s`.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(n, d)| match d.as_millis() {
                ms @ 0..1000 => format!("{n} {ms} ms"),
                ms => format!("{n} {:.1} s", ms as f64 / 1000.0),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn table(&self) -> Table {
        Table {
            title: "Phases".into(),
            headers: vec!["phase".into(), "ms".into()],
            rows: self
                .0
                .iter()
                .map(|(n, d)| vec![(*n).to_owned(), d.as_millis().to_string()])
                .collect(),
        }
    }
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The binary, e.g. `shipline-deploy`.
    pub tool: String,
    /// One line saying what happened.
    pub title: String,
    pub outcome: Outcome,
    /// Key facts, in order (URL, deployment id, duration...).
    pub fields: Vec<(String, String)>,
    pub tables: Vec<Table>,
    pub annotations: Vec<Annotation>,
    /// Step outputs; also part of the JSON document.
    pub outputs: BTreeMap<String, String>,
}

impl Report {
    pub fn new(tool: impl Into<String>, outcome: Outcome, title: impl Into<String>) -> Self {
        Self {
            tool: tool.into(),
            title: title.into(),
            outcome,
            fields: Vec::new(),
            tables: Vec::new(),
            annotations: Vec::new(),
            outputs: BTreeMap::new(),
        }
    }

    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    pub fn output(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.outputs.insert(name.into(), value.into());
        self
    }

    pub fn annotation(mut self, annotation: Annotation) -> Self {
        self.annotations.push(annotation);
        self
    }

    pub fn table(mut self, table: Table) -> Self {
        self.tables.push(table);
        self
    }

    /// The step summary.
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "### {} {}: {}\n\n",
            self.outcome.icon(),
            self.tool,
            md_cell(&self.title)
        );
        if !self.fields.is_empty() {
            md.push_str("| | |\n|---|---|\n");
            for (name, value) in &self.fields {
                let _ = writeln!(md, "| **{}** | {} |", md_cell(name), md_cell(value));
            }
            md.push('\n');
        }
        for table in &self.tables {
            let _ = writeln!(md, "**{}**\n", md_cell(&table.title));
            let header: Vec<String> = table.headers.iter().map(|h| md_cell(h)).collect();
            let _ = writeln!(md, "| {} |", header.join(" | "));
            let _ = writeln!(md, "|{}", "---|".repeat(table.headers.len()));
            for row in &table.rows {
                let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
                let _ = writeln!(md, "| {} |", cells.join(" | "));
            }
            md.push('\n');
        }
        for a in &self.annotations {
            let label = match a.level {
                crate::Level::Error => "Error",
                crate::Level::Warning => "Warning",
                crate::Level::Notice => "Note",
            };
            let place = match (&a.file, a.line) {
                (Some(file), Some(line)) => format!(" (`{file}:{line}`)"),
                (Some(file), None) => format!(" (`{file}`)"),
                _ => String::new(),
            };
            let _ = writeln!(
                md,
                "> **{label}{place}:** {}\n",
                a.message.replace('\n', " ")
            );
        }
        md
    }

    /// The report for a person: the job log, or a terminal outside Actions.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}: {}\n", self.tool, self.title);
        let width = self.fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, value) in &self.fields {
            let _ = writeln!(out, "  {name:<width$}  {value}");
        }
        for table in &self.tables {
            let _ = writeln!(out, "\n{}:", table.title);
            let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count()).collect();
            for row in &table.rows {
                for (i, cell) in row.iter().enumerate() {
                    if let Some(w) = widths.get_mut(i) {
                        *w = (*w).max(cell.chars().count());
                    }
                }
            }
            let line = |cells: &[String]| {
                let padded: Vec<String> = cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
                    .collect();
                format!("  {}", padded.join("  ").trim_end())
            };
            let _ = writeln!(out, "{}", line(&table.headers));
            for row in &table.rows {
                let _ = writeln!(out, "{}", line(row));
            }
        }
        out
    }

    /// The `--output json` document.
    pub fn to_json(&self) -> String {
        let fields: serde_json::Map<String, serde_json::Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let doc = serde_json::json!({
            "tool": self.tool,
            "title": self.title,
            "outcome": self.outcome,
            "fields": fields,
            "tables": self.tables,
            "annotations": self.annotations,
            "outputs": self.outputs,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// Escapes a value for a Markdown table cell: a `|` would end the cell, a newline the row.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// A text line for one annotation, for a terminal (`error: file:line: message`).
pub fn annotation_text(a: &Annotation) -> String {
    let place = match (&a.file, a.line) {
        (Some(file), Some(line)) => format!("{file}:{line}: "),
        (Some(file), None) => format!("{file}: "),
        _ => String::new(),
    };
    let title = a
        .title
        .as_deref()
        .map(|t| format!("{t}: "))
        .unwrap_or_default();
    format!("{}: {place}{title}{}", a.level.command(), a.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_summarize_on_one_line() {
        let mut phases = Phases::default();
        phases
            .0
            .push(("preflight", std::time::Duration::from_millis(12)));
        phases
            .0
            .push(("upload", std::time::Duration::from_millis(1430)));
        assert_eq!(phases.summary(), "preflight 12 ms, upload 1.4 s");
    }

    fn sample() -> Report {
        Report::new(
            "shipline-deploy",
            Outcome::Success,
            "deployed to production",
        )
        .field("url", "https://app.example.com")
        .field("files", "12 total, 3 uploaded")
        .table(Table {
            title: "Uploaded".into(),
            headers: vec!["file".into(), "bytes".into()],
            rows: vec![
                vec!["index.html".into(), "512".into()],
                vec!["assets/a|b.js".into(), "20480".into()],
            ],
        })
        .annotation(Annotation::warning("3 files over 1 MB").at("dist/big.js", None))
        .output("url", "https://app.example.com")
    }

    #[test]
    fn markdown() {
        insta::assert_snapshot!(sample().to_markdown());
    }

    #[test]
    fn text() {
        insta::assert_snapshot!(sample().to_text());
    }

    #[test]
    fn json_is_one_document() {
        let doc: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(doc["outcome"], "success");
        assert_eq!(doc["fields"]["url"], "https://app.example.com");
        assert_eq!(doc["outputs"]["url"], "https://app.example.com");
        assert_eq!(doc["annotations"][0]["level"], "warning");
        assert_eq!(doc["tables"][0]["rows"][1][0], "assets/a|b.js");
    }

    #[test]
    fn annotation_lines_for_a_terminal() {
        let a = Annotation::error("syntax error")
            .at("x.sql", Some(3))
            .title("migration failed");
        assert_eq!(
            annotation_text(&a),
            "error: x.sql:3: migration failed: syntax error"
        );
    }
}

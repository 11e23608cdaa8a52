//! Where a run's words go: the Actions runner (commands, files) or a person's terminal.

use std::io::Write;
use std::sync::{Arc, Mutex};

use shipline_core::{EnvVars, Secret};

use crate::report::annotation_text;
use crate::{ActionsError, Annotation, Report, commands, outputs, summary};

/// `--output`: text for people, or one JSON document on stdout for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// A writer tests can read back; the binaries use stdout and stderr.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut inner) = self.0.lock() {
            inner.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Sink = Box<dyn Write + Send>;

/// The run's connection to the outside: in Actions, workflow commands and runner files; at a
/// terminal, readable text. Every binary talks through one of these.
pub struct Runtime {
    in_actions: bool,
    format: OutputFormat,
    output_file: Option<String>,
    summary_file: Option<String>,
    stdout: Sink,
    stderr: Sink,
}

impl Runtime {
    /// Reads the runner's variables through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>, format: OutputFormat) -> Self {
        Self {
            in_actions: get(EnvVars::GITHUB_ACTIONS).as_deref() == Some("true"),
            format,
            output_file: get(EnvVars::GITHUB_OUTPUT).filter(|p| !p.is_empty()),
            summary_file: get(EnvVars::GITHUB_STEP_SUMMARY).filter(|p| !p.is_empty()),
            stdout: Box::new(std::io::stdout()),
            stderr: Box::new(std::io::stderr()),
        }
    }

    /// Sends stdout and stderr elsewhere (tests).
    pub fn with_writers(
        mut self,
        stdout: impl Write + Send + 'static,
        stderr: impl Write + Send + 'static,
    ) -> Self {
        self.stdout = Box::new(stdout);
        self.stderr = Box::new(stderr);
        self
    }

    pub fn in_actions(&self) -> bool {
        self.in_actions
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Workflow commands go to stdout, unless stdout is reserved for the JSON document: the
    /// runner reads commands from stderr too.
    fn command_line(&mut self, line: &str) {
        let sink = if self.format == OutputFormat::Json {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        let _ = writeln!(sink, "{line}");
        let _ = sink.flush();
    }

    /// Registers secrets with the runner's log masker. Called before anything else is printed.
    pub fn mask(&mut self, secrets: &[&Secret]) {
        if !self.in_actions {
            return;
        }
        for secret in secrets {
            for line in commands::add_mask(secret) {
                self.command_line(&line);
            }
        }
    }

    /// Shows a problem now: an annotation in Actions, an `error:`/`warning:` line otherwise.
    pub fn annotate(&mut self, annotation: &Annotation) {
        if self.in_actions {
            self.command_line(&annotation.to_command());
        } else {
            let _ = writeln!(self.stderr, "{}", annotation_text(annotation));
        }
    }

    /// A progress line for the log (stderr, so stdout stays data).
    pub fn log(&mut self, line: &str) {
        let _ = writeln!(self.stderr, "{line}");
    }

    /// Opens a collapsible group in Actions; a plain heading line elsewhere.
    pub fn group(&mut self, title: &str) {
        if self.in_actions {
            self.command_line(&commands::group(title));
        } else {
            let _ = writeln!(self.stderr, "==> {title}");
        }
    }

    pub fn end_group(&mut self) {
        if self.in_actions {
            self.command_line(&commands::endgroup());
        }
    }

    /// Publishes the report: annotations, outputs, summary, and the report itself.
    pub fn finish(&mut self, report: &Report) -> Result<(), ActionsError> {
        for annotation in &report.annotations {
            self.annotate(annotation);
        }
        if self.in_actions {
            if let Some(path) = self.output_file.clone() {
                let pairs: Vec<(String, String)> = report
                    .outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                outputs::append(EnvVars::GITHUB_OUTPUT, &path, &pairs)?;
            }
            if let Some(path) = self.summary_file.clone() {
                summary::append(&path, &report.to_markdown())?;
            }
        }
        match self.format {
            OutputFormat::Json => {
                let _ = writeln!(self.stdout, "{}", report.to_json());
            }
            OutputFormat::Text => {
                let _ = write!(self.stdout, "{}", report.to_text());
            }
        }
        let _ = self.stdout.flush();
        Ok(())
    }
}

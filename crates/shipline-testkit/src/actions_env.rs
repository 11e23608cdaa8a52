//! A simulated GitHub Actions step for process-level tests: temp runner files, the
//! `GITHUB_*` variables, a real event payload, and a way to run a binary inside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's `tests/fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// One step of a job, as the runner would set it up.
pub struct ActionsStep {
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

/// What a binary did in the step.
#[derive(Debug)]
pub struct StepResult {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
}

impl StepResult {
    /// Everything a person or the runner could see: for "no secret anywhere" checks.
    pub fn everything(&self) -> String {
        format!(
            "{}\n{}\n{:?}\n{}",
            self.stdout, self.stderr, self.outputs, self.summary
        )
    }

    /// Everything but the `::add-mask::` lines, which register secrets with the runner and
    /// are never displayed: a secret found here has leaked.
    pub fn shown(&self) -> String {
        self.everything()
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl ActionsStep {
    /// A `push` to `main` of `acme/webapp`.
    pub fn push() -> Self {
        Self::with_event("push", "push.json")
    }

    /// A `pull_request` (opened) event.
    pub fn pull_request() -> Self {
        Self::with_event("pull_request", "pull_request.opened.json")
    }

    /// An event with a payload from `tests/fixtures/events/`.
    pub fn with_event(name: &str, fixture: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let event_path = dir.path().join("event.json");
        std::fs::copy(fixtures_dir().join("events").join(fixture), &event_path)
            .unwrap_or_else(|e| panic!("fixture {fixture}: {e}"));
        let workspace = dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let env = BTreeMap::from([
            ("CI".into(), "true".into()),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_OUTPUT".into(), path("output")),
            ("GITHUB_STEP_SUMMARY".into(), path("summary.md")),
            ("GITHUB_ENV".into(), path("env")),
            ("GITHUB_PATH".into(), path("path")),
            ("GITHUB_EVENT_NAME".into(), name.into()),
            ("GITHUB_EVENT_PATH".into(), event_path.display().to_string()),
            ("GITHUB_REPOSITORY".into(), "acme/webapp".into()),
            (
                "GITHUB_SHA".into(),
                "0123456789abcdef0123456789abcdef01234567".into(),
            ),
            ("GITHUB_REF".into(), "refs/heads/main".into()),
            ("GITHUB_ACTOR".into(), "octocat".into()),
            ("GITHUB_RUN_ID".into(), "4242".into()),
            ("GITHUB_RUN_ATTEMPT".into(), "1".into()),
            ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
            ("GITHUB_WORKFLOW".into(), "ship".into()),
            ("GITHUB_JOB".into(), "deploy".into()),
            ("GITHUB_WORKSPACE".into(), workspace.display().to_string()),
            ("RUNNER_TEMP".into(), path("runner-temp")),
            ("RUNNER_OS".into(), "Linux".into()),
            ("RUNNER_ARCH".into(), "X64".into()),
        ]);
        std::fs::create_dir_all(dir.path().join("runner-temp")).unwrap();
        Self { dir, env }
    }

    /// Sets (or overrides) a variable of the step.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets `INPUT_<NAME>` as a composite action would from `with: name: value`.
    pub fn input(self, name: &str, value: &str) -> Self {
        let var = format!("INPUT_{}", name.replace('-', "_").to_ascii_uppercase());
        self.env(&var, value)
    }

    /// Removes a variable (e.g. `GITHUB_ACTIONS`, to run as outside Actions).
    pub fn without(mut self, name: &str) -> Self {
        self.env.remove(name);
        self
    }

    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The step's temp folder (for files a test wants to put beside the runner's).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `$GITHUB_WORKSPACE`, the binary's working directory.
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// A `Command` for `program` with exactly this step's environment (nothing inherited but
    /// `PATH` and `HOME`), run in the workspace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env_clear();
        for name in ["PATH", "HOME", "TMPDIR", "LANG"] {
            if let Ok(value) = std::env::var(name) {
                command.env(name, value);
            }
        }
        command.envs(&self.env).current_dir(self.workspace());
        command
    }

    /// Runs `program args…` in the step and collects what it left behind.
    pub fn run(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> StepResult {
        let output = self.command(program).args(args).output().unwrap();
        self.result(output)
    }

    /// Collects the step's files after a command ran.
    pub fn result(&self, output: Output) -> StepResult {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        StepResult {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs: shipline_actions::outputs::decode(&read("output"))
                .into_iter()
                .collect(),
            summary: read("summary.md"),
        }
    }
}

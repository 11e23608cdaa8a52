//! Facts about the run, from the runner's `GITHUB_*` variables.

use shipline_core::EnvVars;

/// Where and why this run happens. Every field may be missing outside Actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubContext {
    pub repository: Option<String>,
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub actor: Option<String>,
    pub run_id: Option<String>,
    pub run_attempt: Option<String>,
    pub server_url: Option<String>,
    pub workflow: Option<String>,
    pub job: Option<String>,
    pub event_name: Option<String>,
}

impl GithubContext {
    /// Reads the context through `get` (the process env, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            repository: get(EnvVars::GITHUB_REPOSITORY),
            sha: get(EnvVars::GITHUB_SHA),
            git_ref: get(EnvVars::GITHUB_REF),
            actor: get(EnvVars::GITHUB_ACTOR),
            run_id: get(EnvVars::GITHUB_RUN_ID),
            run_attempt: get(EnvVars::GITHUB_RUN_ATTEMPT),
            server_url: get(EnvVars::GITHUB_SERVER_URL),
            workflow: get(EnvVars::GITHUB_WORKFLOW),
            job: get(EnvVars::GITHUB_JOB),
            event_name: get(EnvVars::GITHUB_EVENT_NAME),
        }
    }

    /// `owner` and `repo` of `GITHUB_REPOSITORY`.
    pub fn owner_repo(&self) -> Option<(&str, &str)> {
        self.repository.as_deref()?.split_once('/')
    }

    /// The link to this run, for comments and records.
    pub fn run_url(&self) -> Option<String> {
        let server = self.server_url.as_deref().unwrap_or("https://github.com");
        Some(format!(
            "{}/{}/actions/runs/{}",
            server.trim_end_matches('/'),
            self.repository.as_deref()?,
            self.run_id.as_deref()?
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn run_url_from_the_runner_variables() {
        let env: HashMap<&str, &str> = [
            ("GITHUB_REPOSITORY", "acme/webapp"),
            ("GITHUB_RUN_ID", "1234"),
            ("GITHUB_SERVER_URL", "https://ghe.acme.dev/"),
        ]
        .into();
        let ctx = GithubContext::from_lookup(|k| env.get(k).map(|v| v.to_string()));
        assert_eq!(
            ctx.run_url().as_deref(),
            Some("https://ghe.acme.dev/acme/webapp/actions/runs/1234")
        );
        assert_eq!(ctx.owner_repo(), Some(("acme", "webapp")));
        assert_eq!(GithubContext::default().run_url(), None);
    }
}

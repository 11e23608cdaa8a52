//! Every environment variable shipline reads, in one place, so docs and code agree.

/// Names of the environment variables shipline reads.
///
/// Inputs themselves are read as `INPUT_<NAME>` (see [`EnvVars::input`]); the names here are
/// the runner's variables, the ecosystem's conventional fallbacks and the API base-URL
/// overrides from `ACTIONS.md`.
pub struct EnvVars;

impl EnvVars {
    // --- set by the GitHub Actions runner ---
    /// `true` inside GitHub Actions.
    pub const GITHUB_ACTIONS: &'static str = "GITHUB_ACTIONS";
    /// File that collects step outputs.
    pub const GITHUB_OUTPUT: &'static str = "GITHUB_OUTPUT";
    /// File that collects the step's Markdown summary.
    pub const GITHUB_STEP_SUMMARY: &'static str = "GITHUB_STEP_SUMMARY";
    /// File that collects env vars for later steps.
    pub const GITHUB_ENV: &'static str = "GITHUB_ENV";
    /// File that collects PATH entries for later steps.
    pub const GITHUB_PATH: &'static str = "GITHUB_PATH";
    /// The event that triggered the workflow (`push`, `pull_request`, ...).
    pub const GITHUB_EVENT_NAME: &'static str = "GITHUB_EVENT_NAME";
    /// The webhook payload of that event, as a JSON file.
    pub const GITHUB_EVENT_PATH: &'static str = "GITHUB_EVENT_PATH";
    /// `owner/repo`.
    pub const GITHUB_REPOSITORY: &'static str = "GITHUB_REPOSITORY";
    /// The commit the workflow runs on.
    pub const GITHUB_SHA: &'static str = "GITHUB_SHA";
    /// The ref the workflow runs on (`refs/heads/main`, `refs/pull/42/merge`).
    pub const GITHUB_REF: &'static str = "GITHUB_REF";
    /// Who triggered the run.
    pub const GITHUB_ACTOR: &'static str = "GITHUB_ACTOR";
    /// The run's id, for the run URL.
    pub const GITHUB_RUN_ID: &'static str = "GITHUB_RUN_ID";
    /// The run's attempt number.
    pub const GITHUB_RUN_ATTEMPT: &'static str = "GITHUB_RUN_ATTEMPT";
    /// `https://github.com` or the GHES host.
    pub const GITHUB_SERVER_URL: &'static str = "GITHUB_SERVER_URL";
    /// The workflow's name.
    pub const GITHUB_WORKFLOW: &'static str = "GITHUB_WORKFLOW";
    /// The job's id.
    pub const GITHUB_JOB: &'static str = "GITHUB_JOB";
    /// `1` when the run was re-run with debug logging.
    pub const RUNNER_DEBUG: &'static str = "RUNNER_DEBUG";
    /// Log filter for shipline's own diagnostics on stderr.
    pub const RUST_LOG: &'static str = "RUST_LOG";

    // --- conventional fallbacks for inputs ---
    pub const DATABASE_URL: &'static str = "DATABASE_URL";
    pub const GITHUB_TOKEN: &'static str = "GITHUB_TOKEN";
    pub const VERCEL_TOKEN: &'static str = "VERCEL_TOKEN";
    pub const VERCEL_ORG_ID: &'static str = "VERCEL_ORG_ID";
    pub const VERCEL_PROJECT_ID: &'static str = "VERCEL_PROJECT_ID";
    pub const NETLIFY_AUTH_TOKEN: &'static str = "NETLIFY_AUTH_TOKEN";
    pub const NETLIFY_SITE_ID: &'static str = "NETLIFY_SITE_ID";
    pub const SUPABASE_ACCESS_TOKEN: &'static str = "SUPABASE_ACCESS_TOKEN";
    pub const SUPABASE_PROJECT_REF: &'static str = "SUPABASE_PROJECT_REF";
    pub const SLACK_WEBHOOK_URL: &'static str = "SLACK_WEBHOOK_URL";
    pub const SLACK_BOT_TOKEN: &'static str = "SLACK_BOT_TOKEN";
    pub const SENTRY_AUTH_TOKEN: &'static str = "SENTRY_AUTH_TOKEN";
    pub const SENTRY_ORG: &'static str = "SENTRY_ORG";
    pub const SENTRY_PROJECT: &'static str = "SENTRY_PROJECT";

    // --- API base URLs (GitHub Enterprise, self-hosted Sentry, tests) ---
    pub const GITHUB_API_URL: &'static str = "GITHUB_API_URL";
    /// The runner sets it beside `GITHUB_API_URL` (GHES: `https://host/api/graphql`).
    pub const GITHUB_GRAPHQL_URL: &'static str = "GITHUB_GRAPHQL_URL";
    pub const VERCEL_API_URL: &'static str = "VERCEL_API_URL";
    pub const NETLIFY_API_URL: &'static str = "NETLIFY_API_URL";
    pub const SUPABASE_API_URL: &'static str = "SUPABASE_API_URL";
    pub const SENTRY_URL: &'static str = "SENTRY_URL";
    pub const SLACK_API_URL: &'static str = "SLACK_API_URL";

    // --- shipline's own ---
    /// Base URL of the release downloads `setup` fetches (mirrors, tests).
    pub const SHIPLINE_DOWNLOAD_URL: &'static str = "SHIPLINE_DOWNLOAD_URL";

    /// The env name an action input is read from: `foo-bar` → `INPUT_FOO_BAR`, as the
    /// composite actions map `inputs.foo-bar` (and as the runner does for JavaScript actions).
    pub fn input(name: &str) -> String {
        format!(
            "INPUT_{}",
            name.replace([' ', '-'], "_").to_ascii_uppercase()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_follow_the_runner() {
        assert_eq!(EnvVars::input("database-url"), "INPUT_DATABASE_URL");
        assert_eq!(EnvVars::input("to"), "INPUT_TO");
    }
}

//! Every environment variable shipline reads, in one place, so docs and code agree.

/// Names of the environment variables shipline reads.
///
/// Inputs themselves are read as `INPUT_<NAME>` (see [`EnvVars::input`]); the names here are
/// the runner's variables, the ecosystem's conventional fallbacks and the API base-URL
/// overrides from `ACTIONS.md`.
pub struct EnvVars;

/// Declares each name once: the constant, its group and its doc line, so the reference
/// page (`docs/reference/configuration.md`, generated) lists exactly what the code reads.
macro_rules! env_vars {
    ($($group:literal { $($(#[doc = $doc:literal])+ $name:ident,)+ })+) => {
        impl EnvVars {
            $($($(#[doc = $doc])+ pub const $name: &'static str = stringify!($name);)+)+

            /// Every name above, in order.
            pub const ALL: &'static [EnvVar] = &[
                $($(EnvVar { name: stringify!($name), group: $group, doc: concat!($($doc),+) },)+)+
            ];
        }
    };
}

/// One variable, for the reference page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    pub name: &'static str,
    /// Who sets it (`set by the GitHub Actions runner`, ...).
    pub group: &'static str,
    pub doc: &'static str,
}

env_vars! {
    "set by the GitHub Actions runner" {
        /// `true` inside GitHub Actions.
        GITHUB_ACTIONS,
        /// File that collects step outputs.
        GITHUB_OUTPUT,
        /// File that collects the step's Markdown summary.
        GITHUB_STEP_SUMMARY,
        /// File that collects env vars for later steps.
        GITHUB_ENV,
        /// File that collects PATH entries for later steps.
        GITHUB_PATH,
        /// The event that triggered the workflow (`push`, `pull_request`, ...).
        GITHUB_EVENT_NAME,
        /// The webhook payload of that event, as a JSON file.
        GITHUB_EVENT_PATH,
        /// `owner/repo`.
        GITHUB_REPOSITORY,
        /// The commit the workflow runs on.
        GITHUB_SHA,
        /// The ref the workflow runs on (`refs/heads/main`, `refs/pull/42/merge`).
        GITHUB_REF,
        /// Who triggered the run.
        GITHUB_ACTOR,
        /// The run's id, for the run URL.
        GITHUB_RUN_ID,
        /// The run's attempt number.
        GITHUB_RUN_ATTEMPT,
        /// `https://github.com` or the GHES host.
        GITHUB_SERVER_URL,
        /// The workflow's name.
        GITHUB_WORKFLOW,
        /// The job's id.
        GITHUB_JOB,
        /// `1` when the run was re-run with debug logging.
        RUNNER_DEBUG,
        /// Log filter for shipline's own diagnostics on stderr.
        RUST_LOG,
    }
    "conventional fallbacks for inputs" {
        /// The PostgreSQL URL, when `database-url` is not given.
        DATABASE_URL,
        /// The GitHub token, when `github-token` is not given.
        GITHUB_TOKEN,
        /// The Vercel token, when `token` is not given (`provider: vercel`).
        VERCEL_TOKEN,
        /// The Vercel team, when `team` is not given.
        VERCEL_ORG_ID,
        /// The Vercel project, when `project` is not given.
        VERCEL_PROJECT_ID,
        /// The Netlify token, when `token` is not given (`provider: netlify`).
        NETLIFY_AUTH_TOKEN,
        /// The Netlify site, when `project` is not given.
        NETLIFY_SITE_ID,
        /// The Cloudflare API token, when `token` is not given (`provider: cloudflare-pages`).
        CLOUDFLARE_API_TOKEN,
        /// The Cloudflare account, when `account` is not given.
        CLOUDFLARE_ACCOUNT_ID,
        /// The Pages project's name, when `project` is not given.
        CLOUDFLARE_PAGES_PROJECT,
        /// The Amplify app id, when `project` is not given (`provider: amplify`).
        AMPLIFY_APP_ID,
        /// AWS credentials for `provider: amplify` (set by `aws-actions/configure-aws-credentials`, with OIDC).
        AWS_ACCESS_KEY_ID,
        /// The secret half of `AWS_ACCESS_KEY_ID`.
        AWS_SECRET_ACCESS_KEY,
        /// The session token of temporary credentials (OIDC, an assumed role).
        AWS_SESSION_TOKEN,
        /// The AWS region, when `region` is not given.
        AWS_REGION,
        /// The AWS region, when neither `region` nor `AWS_REGION` is set.
        AWS_DEFAULT_REGION,
        /// With `AWS_WEB_IDENTITY_TOKEN_FILE`: the role to assume (the AWS SDKs' web identity names).
        AWS_ROLE_ARN,
        /// A file holding an OIDC token for `AWS_ROLE_ARN`.
        AWS_WEB_IDENTITY_TOKEN_FILE,
        /// The session name of an assumed role. Default: `shipline`.
        AWS_ROLE_SESSION_NAME,
        /// Set by the runner with `permissions: id-token: write`: where `role-to-assume` gets its OIDC token.
        ACTIONS_ID_TOKEN_REQUEST_URL,
        /// The bearer token for `ACTIONS_ID_TOKEN_REQUEST_URL`.
        ACTIONS_ID_TOKEN_REQUEST_TOKEN,
        /// The Supabase personal access token, when `access-token` is not given.
        SUPABASE_ACCESS_TOKEN,
        /// The Supabase project ref, when `project-ref` is not given.
        SUPABASE_PROJECT_REF,
        /// A Slack incoming webhook, for `to: slack` without a bot token.
        SLACK_WEBHOOK_URL,
        /// The Slack bot token, when `slack-token` is not given.
        SLACK_BOT_TOKEN,
        /// The Sentry auth token, when `sentry-token` is not given.
        SENTRY_AUTH_TOKEN,
        /// The Sentry organization, when `sentry-org` is not given.
        SENTRY_ORG,
        /// The Sentry project, when `sentry-project` is not given.
        SENTRY_PROJECT,
    }
    "API base URLs (GitHub Enterprise, self-hosted Sentry, tests)" {
        /// The GitHub REST API (GitHub Enterprise Server; the runner sets it).
        GITHUB_API_URL,
        /// The runner sets it beside `GITHUB_API_URL` (GHES: `https://host/api/graphql`).
        GITHUB_GRAPHQL_URL,
        /// The Vercel API (tests, proxies).
        VERCEL_API_URL,
        /// The Netlify API (tests, proxies).
        NETLIFY_API_URL,
        /// The Cloudflare API, as wrangler names it (tests, proxies).
        CLOUDFLARE_API_BASE_URL,
        /// The Amplify API, as the AWS SDKs name it (tests, VPC endpoints).
        AWS_ENDPOINT_URL_AMPLIFY,
        /// The S3 API of `artifact-store` (tests, S3-compatible stores); path-style when set.
        AWS_ENDPOINT_URL_S3,
        /// The STS API that web identity roles are assumed with (tests, VPC endpoints).
        AWS_ENDPOINT_URL_STS,
        /// The Supabase Management API (tests, proxies).
        SUPABASE_API_URL,
        /// Self-hosted Sentry.
        SENTRY_URL,
        /// The Slack Web API (tests, proxies).
        SLACK_API_URL,
    }
    "shipline's own" {
        /// Base URL of the release downloads `setup` fetches (mirrors, tests).
        SHIPLINE_DOWNLOAD_URL,
    }
    "read by `setup` (actions/setup/shipline.sh)" {
        /// The runner's operating system: which build to install.
        RUNNER_OS,
        /// The runner's CPU (`X64`, `ARM64`): which build to install.
        RUNNER_ARCH,
        /// Where the verified binaries are kept between steps and jobs of a runner.
        RUNNER_TOOL_CACHE,
    }
}

impl EnvVars {
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
    fn every_name_is_listed_once_with_its_doc() {
        let mut names: Vec<&str> = EnvVars::ALL.iter().map(|v| v.name).collect();
        assert!(names.contains(&EnvVars::DATABASE_URL));
        assert!(EnvVars::ALL.iter().all(|v| !v.doc.trim().is_empty()));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn input_names_follow_the_runner() {
        assert_eq!(EnvVars::input("database-url"), "INPUT_DATABASE_URL");
        assert_eq!(EnvVars::input("to"), "INPUT_TO");
    }
}

//! Where a site is served from, shared by `deploy` and `rollback`.

pub mod record;

use std::path::PathBuf;

use shipline_cli::{Env, nonempty, or_env, parse_choice, required};
use shipline_core::{EnvVars, InputError, Secret};

/// A hosting provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Vercel,
    Netlify,
    /// Cloudflare Pages, by Direct Upload (what `wrangler pages deploy` does).
    CloudflarePages,
    /// AWS Amplify Hosting, by manual deployment (an app without a Git connection).
    Amplify,
    /// A directory on a server this job can write to: releases side by side, `current` a
    /// symlink switched atomically.
    Fs,
}

impl Provider {
    pub const NAMES: [&'static str; 5] = ["vercel", "netlify", "cloudflare-pages", "amplify", "fs"];

    pub fn parse(value: &str) -> Result<Provider, InputError> {
        Ok(match parse_choice("provider", value, &Self::NAMES)? {
            "vercel" => Provider::Vercel,
            "netlify" => Provider::Netlify,
            "cloudflare-pages" => Provider::CloudflarePages,
            "amplify" => Provider::Amplify,
            _ => Provider::Fs,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Vercel => "vercel",
            Provider::Netlify => "netlify",
            Provider::CloudflarePages => "cloudflare-pages",
            Provider::Amplify => "amplify",
            Provider::Fs => "fs",
        }
    }

    /// The conventional env names of this provider's token and project.
    fn fallbacks(
        self,
    ) -> (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    ) {
        match self {
            Provider::Vercel => (
                Some(EnvVars::VERCEL_TOKEN),
                Some(EnvVars::VERCEL_PROJECT_ID),
                Some(EnvVars::VERCEL_ORG_ID),
            ),
            Provider::Netlify => (
                Some(EnvVars::NETLIFY_AUTH_TOKEN),
                Some(EnvVars::NETLIFY_SITE_ID),
                None,
            ),
            Provider::CloudflarePages => (
                Some(EnvVars::CLOUDFLARE_API_TOKEN),
                Some(EnvVars::CLOUDFLARE_PAGES_PROJECT),
                Some(EnvVars::CLOUDFLARE_ACCOUNT_ID),
            ),
            Provider::Amplify => (None, Some(EnvVars::AMPLIFY_APP_ID), None),
            Provider::Fs => (None, None, None),
        }
    }
}

/// A checked host: which provider, and what it needs to be reached.
#[derive(Debug, Clone)]
pub enum Host {
    Vercel {
        token: Secret,
        project: String,
        team: Option<String>,
    },
    Netlify {
        token: Secret,
        site: String,
    },
    CloudflarePages {
        token: Secret,
        account: String,
        project: String,
    },
    Amplify {
        app_id: String,
        /// The production branch; by default the app's.
        branch: Option<String>,
        region: String,
        credentials: AwsAuth,
        /// `s3://bucket/prefix`: where each release's zip is kept for rollback.
        artifact_store: Option<S3Location>,
    },
    Fs {
        target_dir: PathBuf,
    },
}

/// The host inputs, as both `deploy` and `rollback` take them (flattened into their flags).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HostInputs {
    /// The host: `vercel`, `netlify`, `cloudflare-pages` or `fs` (a directory on this machine or a mounted server).
    #[arg(long, env = "INPUT_PROVIDER")]
    pub provider: Option<String>,

    /// The host's API token. Fallback: `VERCEL_TOKEN`, `NETLIFY_AUTH_TOKEN` or `CLOUDFLARE_API_TOKEN`.
    #[arg(long, env = "INPUT_TOKEN")]
    pub token: Option<String>,

    /// The Vercel project id, Netlify site id or Cloudflare Pages project name. Fallback: `VERCEL_PROJECT_ID`, `NETLIFY_SITE_ID` or `CLOUDFLARE_PAGES_PROJECT`.
    #[arg(long, env = "INPUT_PROJECT")]
    pub project: Option<String>,

    /// The Vercel team id. Fallback: `VERCEL_ORG_ID`.
    #[arg(long, env = "INPUT_TEAM")]
    pub team: Option<String>,

    /// The Cloudflare account id (`provider: cloudflare-pages`). Fallback: `CLOUDFLARE_ACCOUNT_ID`.
    #[arg(long, env = "INPUT_ACCOUNT")]
    pub account: Option<String>,

    /// For `amplify`: the AWS region of the app. Fallback: `AWS_REGION`, `AWS_DEFAULT_REGION`.
    #[arg(long, env = "INPUT_REGION")]
    pub region: Option<String>,

    /// For `amplify`: the production branch. Default: the app's production branch.
    #[arg(long, env = "INPUT_BRANCH")]
    pub branch: Option<String>,

    /// For `amplify`: an IAM role ARN to assume with the job's GitHub OIDC token (needs `permissions: id-token: write`), instead of AWS credentials in the environment.
    #[arg(long, env = "INPUT_ROLE_TO_ASSUME")]
    pub role_to_assume: Option<String>,

    /// For `amplify`: `s3://bucket/prefix` where each release's zip is kept, so a rollback redeploys it without a build (required for production).
    #[arg(long, env = "INPUT_ARTIFACT_STORE")]
    pub artifact_store: Option<String>,

    /// For `fs`: the directory that holds `releases/` and the `current` symlink.
    #[arg(long, env = "INPUT_TARGET_DIR")]
    pub target_dir: Option<String>,
}

/// Secret env names the host inputs may fall back to (for masking).
pub const SECRET_ENV: &[&str] = &[
    EnvVars::VERCEL_TOKEN,
    EnvVars::NETLIFY_AUTH_TOKEN,
    EnvVars::CLOUDFLARE_API_TOKEN,
    EnvVars::AWS_SECRET_ACCESS_KEY,
    EnvVars::AWS_SESSION_TOKEN,
];

/// AWS credentials, from the standard env names (what `aws-actions/configure-aws-credentials`
/// exports after an OIDC role assumption).
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl AwsCredentials {
    pub fn from_env(env: &Env) -> Result<AwsCredentials, InputError> {
        let get = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
        let missing = |name: &str| {
            InputError::new(
                name,
                "is required for `provider: amplify`: run `aws-actions/configure-aws-credentials` (OIDC, `role-to-assume`) before this step, or set the AWS credentials in `env:`",
            )
        };
        Ok(AwsCredentials {
            access_key_id: get(EnvVars::AWS_ACCESS_KEY_ID)
                .ok_or_else(|| missing(EnvVars::AWS_ACCESS_KEY_ID))?,
            secret_access_key: Secret::new(
                get(EnvVars::AWS_SECRET_ACCESS_KEY)
                    .ok_or_else(|| missing(EnvVars::AWS_SECRET_ACCESS_KEY))?,
            ),
            session_token: get(EnvVars::AWS_SESSION_TOKEN).map(Secret::new),
        })
    }
}

/// How `amplify` gets AWS credentials, in the AWS SDKs' order of precedence, with
/// `role-to-assume` first when given.
#[derive(Debug, Clone)]
pub enum AwsAuth {
    /// `AWS_ACCESS_KEY_ID` and friends (what `configure-aws-credentials` exports).
    Keys(AwsCredentials),
    /// `AssumeRoleWithWebIdentity` with an OIDC token.
    WebIdentity {
        role_arn: String,
        token: WebToken,
        session_name: String,
    },
}

/// Where the OIDC token comes from.
#[derive(Debug, Clone)]
pub enum WebToken {
    /// `AWS_WEB_IDENTITY_TOKEN_FILE`.
    File(PathBuf),
    /// The runner's token service (`ACTIONS_ID_TOKEN_REQUEST_URL`), audience `sts.amazonaws.com`.
    GitHub {
        request_url: String,
        request_token: Secret,
    },
}

impl AwsAuth {
    pub fn from_env(env: &Env, role_to_assume: Option<String>) -> Result<AwsAuth, InputError> {
        let get = |name: &str| env.var(name).filter(|v| !v.trim().is_empty());
        let session_name = get(EnvVars::AWS_ROLE_SESSION_NAME).unwrap_or_else(|| "shipline".into());
        if let Some(role_arn) = role_to_assume {
            check_role_arn("role-to-assume", &role_arn)?;
            let (Some(request_url), Some(request_token)) = (
                get(EnvVars::ACTIONS_ID_TOKEN_REQUEST_URL),
                get(EnvVars::ACTIONS_ID_TOKEN_REQUEST_TOKEN),
            ) else {
                return Err(InputError::new(
                    "role-to-assume",
                    "needs the job's OIDC token: give the job `permissions: id-token: write` (`ACTIONS_ID_TOKEN_REQUEST_URL` is not set)",
                ));
            };
            return Ok(AwsAuth::WebIdentity {
                role_arn,
                token: WebToken::GitHub {
                    request_url,
                    request_token: Secret::new(request_token),
                },
                session_name,
            });
        }
        if get(EnvVars::AWS_ACCESS_KEY_ID).is_some() {
            return AwsCredentials::from_env(env).map(AwsAuth::Keys);
        }
        if let (Some(role_arn), Some(file)) = (
            get(EnvVars::AWS_ROLE_ARN),
            get(EnvVars::AWS_WEB_IDENTITY_TOKEN_FILE),
        ) {
            check_role_arn(EnvVars::AWS_ROLE_ARN, &role_arn)?;
            return Ok(AwsAuth::WebIdentity {
                role_arn,
                token: WebToken::File(PathBuf::from(file)),
                session_name,
            });
        }
        AwsCredentials::from_env(env).map(AwsAuth::Keys)
    }
}

fn check_role_arn(input: &str, arn: &str) -> Result<(), InputError> {
    let ok = arn.starts_with("arn:aws")
        && arn.contains(":iam::")
        && arn.contains(":role/")
        && !arn.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(InputError::new(
            input,
            format!("`{arn}` is not an IAM role ARN (`arn:aws:iam::<account>:role/<name>`)"),
        ))
    }
}

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing slashes; may be empty.
    pub prefix: String,
}

impl S3Location {
    pub fn parse(input: &str, value: &str) -> Result<S3Location, InputError> {
        let bad = || {
            InputError::new(
                input,
                format!("`{value}` is not an S3 location; write `s3://<bucket>/<prefix>`"),
            )
        };
        let rest = value.strip_prefix("s3://").ok_or_else(bad)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !bucket_ok || prefix.contains("..") {
            return Err(bad());
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// The object key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }
}

impl HostInputs {
    pub fn validate(self, env: &Env) -> Result<Host, InputError> {
        let provider = Provider::parse(&required(self.provider, "provider", None)?)?;
        let (token_env, project_env, team_env) = provider.fallbacks();
        Ok(match provider {
            Provider::Vercel | Provider::Netlify | Provider::CloudflarePages => {
                let token_env = token_env.unwrap_or_default();
                let project_env = project_env.unwrap_or_default();
                let token = or_env(self.token, env, token_env)
                    .ok_or_else(|| InputError::missing("token", Some(token_env)))?;
                let project = or_env(self.project, env, project_env)
                    .ok_or_else(|| InputError::missing("project", Some(project_env)))?;
                if project.contains(['/', ' ', '?', '#']) {
                    return Err(InputError::new(
                        "project",
                        format!(
                            "`{project}` is not a project id or name; use the id (`prj_…` on Vercel, the site id on Netlify, the project name on Cloudflare Pages)"
                        ),
                    ));
                }
                if provider == Provider::CloudflarePages {
                    let account_env = team_env.unwrap_or_default();
                    let account = or_env(self.account, env, account_env)
                        .ok_or_else(|| InputError::missing("account", Some(account_env)))?;
                    if !account.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(InputError::new(
                            "account",
                            format!(
                                "`{account}` is not a Cloudflare account id (32 hex digits, on the dashboard's overview page)"
                            ),
                        ));
                    }
                    Host::CloudflarePages {
                        token: Secret::new(token),
                        account,
                        project,
                    }
                } else if provider == Provider::Vercel {
                    let team = team_env.and_then(|name| or_env(self.team, env, name));
                    Host::Vercel {
                        token: Secret::new(token),
                        project,
                        team,
                    }
                } else {
                    Host::Netlify {
                        token: Secret::new(token),
                        site: project,
                    }
                }
            }
            Provider::Amplify => {
                let app_env = project_env.unwrap_or_default();
                let app_id = or_env(self.project, env, app_env)
                    .ok_or_else(|| InputError::missing("project", Some(app_env)))?;
                if !app_id.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(InputError::new(
                        "project",
                        format!(
                            "`{app_id}` is not an Amplify app id (letters and digits, e.g. `d1a2b3c4d5e6f7`)"
                        ),
                    ));
                }
                let region = nonempty(self.region)
                    .or_else(|| env.var(EnvVars::AWS_REGION).filter(|v| !v.is_empty()))
                    .or_else(|| {
                        env.var(EnvVars::AWS_DEFAULT_REGION)
                            .filter(|v| !v.is_empty())
                    })
                    .ok_or_else(|| InputError::missing("region", Some(EnvVars::AWS_REGION)))?;
                if !region
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                {
                    return Err(InputError::new(
                        "region",
                        format!("`{region}` is not an AWS region (e.g. `eu-west-1`)"),
                    ));
                }
                let branch = nonempty(self.branch);
                if let Some(b) = &branch
                    && (b.len() > 255 || b.contains(['?', '#', ' ', '\\']))
                {
                    return Err(InputError::new(
                        "branch",
                        format!("`{b}` is not a branch name"),
                    ));
                }
                Host::Amplify {
                    app_id,
                    branch,
                    region,
                    artifact_store: nonempty(self.artifact_store)
                        .map(|v| S3Location::parse("artifact-store", &v))
                        .transpose()?,
                    credentials: AwsAuth::from_env(env, nonempty(self.role_to_assume))?,
                }
            }
            Provider::Fs => {
                let dir = required(self.target_dir, "target-dir", None)?;
                let path = PathBuf::from(&dir);
                if path.exists() && !path.is_dir() {
                    return Err(InputError::new(
                        "target-dir",
                        format!("`{dir}` exists and is not a directory"),
                    ));
                }
                Host::Fs { target_dir: path }
            }
        })
    }
}

impl Host {
    pub fn provider(&self) -> Provider {
        match self {
            Host::Vercel { .. } => Provider::Vercel,
            Host::Netlify { .. } => Provider::Netlify,
            Host::CloudflarePages { .. } => Provider::CloudflarePages,
            Host::Amplify { .. } => Provider::Amplify,
            Host::Fs { .. } => Provider::Fs,
        }
    }
}

/// Where deployment records are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordStore {
    /// GitHub Deployments of the repository.
    GitHub,
    /// JSON files in a directory.
    Fs(PathBuf),
}

impl RecordStore {
    /// `github` or `fs:<dir>`; by default GitHub inside Actions, a local folder outside.
    pub fn parse(value: Option<String>, in_actions: bool) -> Result<RecordStore, InputError> {
        match nonempty(value) {
            None if in_actions => Ok(RecordStore::GitHub),
            None => Ok(RecordStore::Fs(PathBuf::from(".shipline/records"))),
            Some(v) if v == "github" => Ok(RecordStore::GitHub),
            Some(v) => match v.strip_prefix("fs:") {
                Some(dir) if !dir.is_empty() => Ok(RecordStore::Fs(PathBuf::from(dir))),
                _ => Err(InputError::new(
                    "record-store",
                    format!("`{v}` is not a record store; write `github` or `fs:<directory>`"),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        )
    }

    #[test]
    fn vercel_reads_the_conventional_names() {
        let host = HostInputs {
            provider: Some("vercel".into()),
            ..Default::default()
        }
        .validate(&env(&[
            ("VERCEL_TOKEN", "t"),
            ("VERCEL_PROJECT_ID", "prj_1"),
            ("VERCEL_ORG_ID", "team_1"),
        ]))
        .unwrap();
        let Host::Vercel {
            token,
            project,
            team,
        } = host
        else {
            panic!()
        };
        assert_eq!(
            (token.expose(), project.as_str(), team.as_deref()),
            ("t", "prj_1", Some("team_1"))
        );
    }

    #[test]
    fn missing_token_names_both_places() {
        let err = HostInputs {
            provider: Some("netlify".into()),
            project: Some("site".into()),
            ..Default::default()
        }
        .validate(&env(&[]))
        .unwrap_err();
        assert_eq!(err.input, "token");
        assert!(err.message.contains("`NETLIFY_AUTH_TOKEN`"));
    }

    #[test]
    fn fs_needs_a_target_dir_that_is_not_a_file() {
        let err = HostInputs {
            provider: Some("fs".into()),
            ..Default::default()
        }
        .validate(&env(&[]))
        .unwrap_err();
        assert_eq!(err.input, "target-dir");
        let file = tempfile_path();
        let err = HostInputs {
            provider: Some("fs".into()),
            target_dir: Some(file.clone()),
            ..Default::default()
        }
        .validate(&env(&[]))
        .unwrap_err();
        assert!(err.message.contains("is not a directory"), "{err}");
        let _ = std::fs::remove_file(file);
    }

    fn tempfile_path() -> String {
        let path =
            std::env::temp_dir().join(format!("shipline-hosting-test-{}", std::process::id()));
        std::fs::write(&path, "x").unwrap();
        path.display().to_string()
    }

    #[test]
    fn cloudflare_pages_needs_an_account() {
        let input = || HostInputs {
            provider: Some("cloudflare-pages".into()),
            project: Some("webapp".into()),
            ..Default::default()
        };
        let err = input()
            .validate(&env(&[("CLOUDFLARE_API_TOKEN", "t")]))
            .unwrap_err();
        assert_eq!(err.input, "account");
        assert!(err.message.contains("`CLOUDFLARE_ACCOUNT_ID`"), "{err}");
        let err = input()
            .validate(&env(&[
                ("CLOUDFLARE_API_TOKEN", "t"),
                ("CLOUDFLARE_ACCOUNT_ID", "acct/../x"),
            ]))
            .unwrap_err();
        assert_eq!(err.input, "account");
        let Host::CloudflarePages {
            token,
            account,
            project,
        } = input()
            .validate(&env(&[
                ("CLOUDFLARE_API_TOKEN", "t"),
                ("CLOUDFLARE_ACCOUNT_ID", "0123abcd"),
            ]))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (token.expose(), account.as_str(), project.as_str()),
            ("t", "0123abcd", "webapp")
        );
    }

    #[test]
    fn amplify_takes_aws_credentials_from_the_environment() {
        let input = || HostInputs {
            provider: Some("amplify".into()),
            project: Some("d1a2b3c4".into()),
            ..Default::default()
        };
        let err = input()
            .validate(&env(&[("AWS_REGION", "eu-west-1")]))
            .unwrap_err();
        assert_eq!(err.input, "AWS_ACCESS_KEY_ID");
        assert!(err.message.contains("configure-aws-credentials"), "{err}");
        let oidc = HostInputs {
            role_to_assume: Some("arn:aws:iam::123456789012:role/deploy".into()),
            ..input()
        }
        .validate(&env(&[("AWS_REGION", "eu-west-1")]))
        .unwrap_err();
        assert_eq!(oidc.input, "role-to-assume");
        assert!(oidc.message.contains("id-token: write"), "{oidc}");
        let web = input()
            .validate(&env(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deploy"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ]))
            .unwrap();
        assert!(matches!(
            web,
            Host::Amplify {
                credentials: AwsAuth::WebIdentity { .. },
                ..
            }
        ));
        let err = input()
            .validate(&env(&[
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ]))
            .unwrap_err();
        assert_eq!(err.input, "region");
        let Host::Amplify {
            region,
            credentials,
            artifact_store,
            ..
        } = HostInputs {
            artifact_store: Some("s3://releases-bucket/webapp/".into()),
            ..input()
        }
        .validate(&env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", "tok"),
            ("AWS_DEFAULT_REGION", "us-east-2"),
        ]))
        .unwrap()
        else {
            panic!()
        };
        assert_eq!(region, "us-east-2");
        let AwsAuth::Keys(credentials) = credentials else {
            panic!()
        };
        assert_eq!(credentials.session_token.unwrap().expose(), "tok");
        let store = artifact_store.unwrap();
        assert_eq!(
            (store.bucket.as_str(), store.key("x.zip").as_str()),
            ("releases-bucket", "webapp/x.zip")
        );
        assert_eq!(
            S3Location::parse("artifact-store", "https://b/x")
                .unwrap_err()
                .input,
            "artifact-store"
        );
    }

    #[test]
    fn record_stores() {
        assert_eq!(RecordStore::parse(None, true), Ok(RecordStore::GitHub));
        assert_eq!(
            RecordStore::parse(None, false),
            Ok(RecordStore::Fs(".shipline/records".into()))
        );
        assert_eq!(
            RecordStore::parse(Some("fs:/srv/r".into()), true),
            Ok(RecordStore::Fs("/srv/r".into()))
        );
        assert_eq!(
            RecordStore::parse(Some("s3:x".into()), true)
                .unwrap_err()
                .input,
            "record-store"
        );
    }

    #[test]
    fn unknown_provider() {
        let err = Provider::parse("heroku").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid input `provider`: `heroku` is not one of `vercel`, `netlify`, `cloudflare-pages`, `amplify`, `fs`"
        );
    }
}

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
    /// A directory on a server this job can write to: releases side by side, `current` a
    /// symlink switched atomically.
    Fs,
}

impl Provider {
    pub const NAMES: [&'static str; 4] = ["vercel", "netlify", "cloudflare-pages", "fs"];

    pub fn parse(value: &str) -> Result<Provider, InputError> {
        Ok(match parse_choice("provider", value, &Self::NAMES)? {
            "vercel" => Provider::Vercel,
            "netlify" => Provider::Netlify,
            "cloudflare-pages" => Provider::CloudflarePages,
            _ => Provider::Fs,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Vercel => "vercel",
            Provider::Netlify => "netlify",
            Provider::CloudflarePages => "cloudflare-pages",
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

    /// For `fs`: the directory that holds `releases/` and the `current` symlink.
    #[arg(long, env = "INPUT_TARGET_DIR")]
    pub target_dir: Option<String>,
}

/// Secret env names the host inputs may fall back to (for masking).
pub const SECRET_ENV: &[&str] = &[
    EnvVars::VERCEL_TOKEN,
    EnvVars::NETLIFY_AUTH_TOKEN,
    EnvVars::CLOUDFLARE_API_TOKEN,
];

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
            "invalid input `provider`: `heroku` is not one of `vercel`, `netlify`, `cloudflare-pages`, `fs`"
        );
    }
}

//! The remote APIs, their default base URLs and the env names that override them.

use shipline_core::{EnvVars, SafeUrl};

/// A remote API shipline talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    GitHub,
    Vercel,
    Netlify,
    Cloudflare,
    Supabase,
    Sentry,
    Slack,
}

impl Service {
    pub const ALL: [Service; 7] = [
        Service::GitHub,
        Service::Vercel,
        Service::Netlify,
        Service::Cloudflare,
        Service::Supabase,
        Service::Sentry,
        Service::Slack,
    ];

    /// The env var that overrides the base URL (GitHub Enterprise, self-hosted Sentry, tests).
    pub fn env_var(self) -> &'static str {
        match self {
            Service::GitHub => EnvVars::GITHUB_API_URL,
            Service::Vercel => EnvVars::VERCEL_API_URL,
            Service::Netlify => EnvVars::NETLIFY_API_URL,
            Service::Cloudflare => EnvVars::CLOUDFLARE_API_BASE_URL,
            Service::Supabase => EnvVars::SUPABASE_API_URL,
            Service::Sentry => EnvVars::SENTRY_URL,
            Service::Slack => EnvVars::SLACK_API_URL,
        }
    }

    pub fn default_url(self) -> &'static str {
        match self {
            Service::GitHub => "https://api.github.com",
            Service::Vercel => "https://api.vercel.com",
            Service::Netlify => "https://api.netlify.com/api/v1",
            Service::Cloudflare => "https://api.cloudflare.com/client/v4",
            Service::Supabase => "https://api.supabase.com",
            Service::Sentry => "https://sentry.io",
            Service::Slack => "https://slack.com/api",
        }
    }

    /// The base URL, from `get` (the process env, or a map in tests) or the default.
    pub fn base_url(self, get: impl Fn(&str) -> Option<String>) -> Result<SafeUrl, String> {
        match get(self.env_var()).filter(|v| !v.trim().is_empty()) {
            Some(value) => SafeUrl::parse(value.trim()).map_err(|e| {
                format!(
                    "`{}` is not a URL ({e}); write e.g. `{}`",
                    self.env_var(),
                    self.default_url()
                )
            }),
            None => SafeUrl::parse(self.default_url()).map_err(|e| e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_override_env_name_of_the_contract_is_honoured() {
        for service in Service::ALL {
            let url = service.base_url(|_| None).unwrap();
            assert_eq!(
                url.expose().as_str().trim_end_matches('/'),
                service.default_url()
            );
            let overridden = service
                .base_url(|name| (name == service.env_var()).then(|| "http://127.0.0.1:9/x".into()))
                .unwrap();
            assert_eq!(overridden.to_string(), "http://127.0.0.1:9/x");
        }
        let bad = Service::GitHub
            .base_url(|_| Some("not a url".into()))
            .unwrap_err();
        assert!(bad.contains("`GITHUB_API_URL` is not a URL"), "{bad}");
    }
}

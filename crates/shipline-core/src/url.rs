//! URLs that are safe to show.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// Query parameters whose value is a credential (Teams' `sig`, `?access_token=`, ...).
const SENSITIVE_QUERY_KEYS: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "client_secret",
    "code",
    "key",
    "password",
    "private_token",
    "secret",
    "sig",
    "signature",
    "token",
];

/// A parsed URL whose `Display` and `Debug` hide credentials.
///
/// Passwords (`postgres://user:pw@host`), a lone user name (`https://TOKEN@host`, as git and
/// some webhooks use it) and the values of credential-like query parameters become `****`;
/// everything else is shown exactly as written, so the message still says where it went.
#[derive(Clone, PartialEq, Eq)]
pub struct SafeUrl(Url);

impl SafeUrl {
    pub fn parse(input: &str) -> Result<Self, url::ParseError> {
        Url::parse(input).map(Self)
    }

    /// The real URL, credentials included: for making the request, never for printing.
    pub fn expose(&self) -> &Url {
        &self.0
    }

    pub fn into_inner(self) -> Url {
        self.0
    }

    /// Whether showing this URL would hide something (a password, a token...).
    pub fn has_credentials(&self) -> bool {
        self.0.password().is_some()
            || !self.0.username().is_empty()
            || self.0.query_pairs().any(|(key, _)| is_sensitive_key(&key))
    }

    /// Joins a path onto this URL as a base, keeping the base's own path prefix
    /// (`https://ghe.example/api/v3` + `repos/o/r` → `https://ghe.example/api/v3/repos/o/r`).
    pub fn join_path(&self, path: &str) -> Result<SafeUrl, url::ParseError> {
        let mut base = self.0.clone();
        if !base.path().ends_with('/') {
            let with_slash = format!("{}/", base.path());
            base.set_path(&with_slash);
        }
        base.join(path.trim_start_matches('/')).map(SafeUrl)
    }

    /// The redacted text, also what `Display` prints.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let mut out = format!("{}:", url.scheme());
        if let Some(host) = url.host_str() {
            out.push_str("//");
            let user = url.username();
            match (user.is_empty(), url.password().is_some()) {
                (false, true) => {
                    out.push_str(user);
                    out.push_str(":****@");
                }
                (false, false) => out.push_str("****@"),
                (true, true) => out.push_str(":****@"),
                (true, false) => {}
            }
            out.push_str(host);
            if let Some(port) = url.port() {
                out.push_str(&format!(":{port}"));
            }
        }
        out.push_str(url.path());
        if let Some(query) = url.query() {
            out.push('?');
            let redacted: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if is_sensitive_key(&decode(key)) => format!("{key}=****"),
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&redacted.join("&"));
        }
        if url.fragment().is_some() {
            out.push_str("#****");
        }
        out
    }
}

fn decode(key: &str) -> String {
    url::form_urlencoded::parse(key.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SENSITIVE_QUERY_KEYS.contains(&key.as_str())
}

impl fmt::Display for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafeUrl({})", self.redacted())
    }
}

impl FromStr for SafeUrl {
    type Err = url::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<Url> for SafeUrl {
    fn from(url: Url) -> Self {
        Self(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(input: &str) -> String {
        SafeUrl::parse(input).unwrap().to_string()
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            shown("postgres://app:s3cr%40t@db.example.com:5432/prod?sslmode=require"),
            "postgres://app:****@db.example.com:5432/prod?sslmode=require"
        );
        assert_eq!(shown("https://:pw@host/x"), "https://:****@host/x");
    }

    #[test]
    fn a_lone_user_name_is_a_token() {
        assert_eq!(
            shown("https://ghp_abc123@github.com/o/r.git"),
            "https://****@github.com/o/r.git"
        );
    }

    #[test]
    fn credential_query_values_are_hidden_and_others_kept_as_written() {
        assert_eq!(
            shown(
                "https://prod.logic.azure.com/workflows/1?api-version=2016-06-01&sp=%2Ftriggers&sig=AbC&Token=x"
            ),
            "https://prod.logic.azure.com/workflows/1?api-version=2016-06-01&sp=%2Ftriggers&sig=****&Token=****"
        );
    }

    #[test]
    fn debug_is_redacted_too() {
        let url = SafeUrl::parse("postgres://u:pw@h/db").unwrap();
        assert_eq!(format!("{url:?}"), "SafeUrl(postgres://u:****@h/db)");
        assert!(url.has_credentials());
        assert!(!SafeUrl::parse("https://h/x?a=1").unwrap().has_credentials());
        assert_eq!(url.expose().password(), Some("pw"));
    }

    #[test]
    fn join_path_keeps_the_base_prefix() {
        let base = SafeUrl::parse("https://ghe.example.com/api/v3").unwrap();
        assert_eq!(
            base.join_path("/repos/o/r/deployments")
                .unwrap()
                .to_string(),
            "https://ghe.example.com/api/v3/repos/o/r/deployments"
        );
        let root = SafeUrl::parse("https://api.github.com").unwrap();
        assert_eq!(
            root.join_path("repos/o/r").unwrap().to_string(),
            "https://api.github.com/repos/o/r"
        );
    }
}

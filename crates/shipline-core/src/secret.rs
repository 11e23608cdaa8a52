//! A token that cannot reach any output by accident.

use std::fmt;

/// A secret value (token, password, webhook URL).
///
/// It has no `Display`, and its `Debug` prints a placeholder, so neither `format!`, `tracing`
/// nor a panic message can leak it. Code that really needs the value calls [`Secret::expose`],
/// which is easy to grep for.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for an `Authorization` header or a connection string.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The lines the runner must mask: GitHub masks line by line, so a multi-line secret
    /// (a PEM key) needs each of its lines registered.
    pub fn mask_lines(&self) -> impl Iterator<Item = &str> {
        self.0
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|line| !line.is_empty())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Replaces every occurrence of each secret's lines in `text` with `****`.
///
/// Used on text that came from elsewhere (a remote error body, a child process's output)
/// before it is shown: redaction at the source, for sources we do not control.
pub fn redact_text(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        for line in secret.mask_lines() {
            // Very short values would turn ordinary words into `****`; GitHub's own masker
            // has the same blind spot, and such "secrets" protect nothing anyway.
            if line.len() >= 4 {
                out = out.replace(line, "****");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let secret = Secret::new("ghp_supersecret");
        assert_eq!(format!("{secret:?}"), "Secret(****)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(****))");
        assert_eq!(secret.expose(), "ghp_supersecret");
    }

    #[test]
    fn mask_lines_splits_multi_line_secrets() {
        let pem = Secret::new("-----BEGIN KEY-----\r\nabc123\n\n  def456  \n-----END KEY-----\n");
        let lines: Vec<_> = pem.mask_lines().collect();
        assert_eq!(
            lines,
            [
                "-----BEGIN KEY-----",
                "abc123",
                "def456",
                "-----END KEY-----"
            ]
        );
    }

    #[test]
    fn redact_text_replaces_every_line() {
        let a = Secret::new("tok_abcdef");
        let b = Secret::new("line-one\nline-two");
        let text = "auth tok_abcdef failed; saw line-one and line-two; tok_abcdef again";
        assert_eq!(
            redact_text(text, &[&a, &b]),
            "auth **** failed; saw **** and ****; **** again"
        );
    }
}

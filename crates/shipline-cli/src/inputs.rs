//! Helpers that turn raw input strings into checked values, each failing with an
//! [`InputError`] that names the input.

use std::path::{Path, PathBuf};

use shipline_core::{InputError, SafeUrl};

/// Flags every binary has.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// How to print the report on stdout: `text` (for people) or `json` (one JSON document).
    #[arg(
        long,
        env = "INPUT_OUTPUT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: String,
}

/// `Some(v)` only for a non-blank value, trimmed.
pub fn nonempty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `true`/`false` as YAML and the runner write them (also `yes`/`no`, `1`/`0`).
pub fn parse_bool(input: &str, value: &str) -> Result<bool, InputError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        other => Err(InputError::new(
            input,
            format!("`{other}` is not a boolean; write `true` or `false`"),
        )),
    }
}

/// One of a fixed set of words.
pub fn parse_choice<'a>(
    input: &str,
    value: &str,
    choices: &[&'a str],
) -> Result<&'a str, InputError> {
    let value = value.trim();
    choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(value))
        .copied()
        .ok_or_else(|| {
            let list: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
            InputError::new(
                input,
                format!("`{value}` is not one of {}", list.join(", ")),
            )
        })
}

/// A whole number of at least 1 and at most `max`.
pub fn parse_positive(input: &str, value: &str, max: u64) -> Result<u64, InputError> {
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(InputError::new(
            input,
            format!("`{}` is not a whole number from 1 to {max}", value.trim()),
        )),
    }
}

/// An absolute URL with one of the `schemes`. The value is shown redacted in the message.
pub fn parse_url(input: &str, value: &str, schemes: &[&str]) -> Result<SafeUrl, InputError> {
    let url = SafeUrl::parse(value.trim()).map_err(|e| {
        // A URL that does not parse may still hold a password: never echo it.
        InputError::new(input, format!("is not a valid URL ({e})"))
    })?;
    if !schemes.contains(&url.expose().scheme()) {
        let list: Vec<String> = schemes.iter().map(|s| format!("`{s}://`")).collect();
        return Err(InputError::new(
            input,
            format!("`{url}` must start with {}", list.join(" or ")),
        ));
    }
    if url.expose().host_str().is_none_or(str::is_empty) {
        return Err(InputError::new(input, format!("`{url}` has no host")));
    }
    Ok(url)
}

/// A PostgreSQL connection string (`postgres://` or `postgresql://`), shown redacted in messages.
pub fn parse_postgres_url(input: &str, value: &str) -> Result<SafeUrl, InputError> {
    parse_url(input, value, &["postgres", "postgresql"])
}

/// A directory that exists and can be listed; `fix` says what to do when it does not.
pub fn parse_dir(input: &str, value: &str, fix: &str) -> Result<PathBuf, InputError> {
    let path = Path::new(value.trim());
    match std::fs::read_dir(path) {
        Ok(_) => Ok(path.to_path_buf()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(InputError::new(
            input,
            format!("`{}` does not exist; {fix}", path.display()),
        )),
        Err(e) => Err(InputError::new(
            input,
            format!("`{}` cannot be read as a directory: {e}", path.display()),
        )),
    }
}

/// The input's value, or else the conventional env variable's (`VERCEL_TOKEN`...).
pub fn or_env(value: Option<String>, env: &crate::Env, fallback: &str) -> Option<String> {
    nonempty(value).or_else(|| env.var(fallback))
}

/// A value that must be there, with a message saying where it may come from.
pub fn required(
    value: Option<String>,
    input: &str,
    fallback: Option<&str>,
) -> Result<String, InputError> {
    nonempty(value).ok_or_else(|| InputError::missing(input, fallback))
}

/// A duration such as `5m`, `30s` or `26h`.
pub fn parse_duration_input(input: &str, value: &str) -> Result<std::time::Duration, InputError> {
    shipline_core::parse_duration(value).map_err(|message| InputError::new(input, message))
}

/// A migration version: the digits that start a Supabase migration file name.
pub fn parse_version(input: &str, value: &str) -> Result<String, InputError> {
    let value = value.trim();
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(InputError::new(
            input,
            format!(
                "`{value}` is not a migration version; write the digits that start the file name, e.g. `20240101120000`"
            ),
        ))
    }
}

/// A list written one per line, or separated by commas or spaces, as YAML users write it.
pub fn parse_list(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A URL that is itself a secret (Slack, Discord and Teams webhooks carry their token in the
/// path): checked like [`parse_url`], but no message ever shows any part of it.
pub fn parse_secret_url(
    input: &str,
    value: &str,
    schemes: &[&str],
) -> Result<shipline_core::Secret, InputError> {
    let url = url::Url::parse(value.trim()).map_err(|e| {
        InputError::new(
            input,
            format!("is not a valid URL ({e}); its value is not shown because it is a secret"),
        )
    })?;
    if !schemes.contains(&url.scheme()) || url.host_str().is_none_or(str::is_empty) {
        let list: Vec<String> = schemes.iter().map(|s| format!("`{s}://`")).collect();
        return Err(InputError::new(
            input,
            format!(
                "must be a URL starting with {}; its value is not shown because it is a secret",
                list.join(" or ")
            ),
        ));
    }
    Ok(shipline_core::Secret::new(value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("spa", "true"), Ok(true));
        assert_eq!(parse_bool("spa", "FALSE"), Ok(false));
        assert_eq!(
            parse_bool("spa", "maybe").unwrap_err().to_string(),
            "invalid input `spa`: `maybe` is not a boolean; write `true` or `false`"
        );
    }

    #[test]
    fn choices_urls_numbers() {
        assert_eq!(
            parse_choice("provider", "Vercel", &["vercel", "fs"]),
            Ok("vercel")
        );
        assert_eq!(
            parse_choice("provider", "heroku", &["vercel", "fs"])
                .unwrap_err()
                .message,
            "`heroku` is not one of `vercel`, `fs`"
        );
        let err = parse_url(
            "database-url",
            "mysql://u:pw@h/db",
            &["postgres", "postgresql"],
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "`mysql://u:****@h/db` must start with `postgres://` or `postgresql://`"
        );
        assert!(
            parse_url("url", "not a url", &["https"])
                .unwrap_err()
                .message
                .starts_with("is not a valid URL")
        );
        assert_eq!(parse_positive("max-concurrency", "8", 64), Ok(8));
        assert!(parse_positive("max-concurrency", "0", 64).is_err());
    }
}

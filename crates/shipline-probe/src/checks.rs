//! What to check: the `url` input (every URL with the step's settings), or a YAML file of
//! named checks (`checks`), each taking the step's settings as defaults. Header values may
//! name environment variables (`${SUPABASE_ANON_KEY}`), so a key comes from `env:` and a
//! secret, never from the file in the repository.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use shipline_cli::parse_url;
use shipline_core::{InputError, SafeUrl};

use crate::fetch::RequestSpec;
use crate::{StatusRule, parse_status_rules};

/// One check, ready to run.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// The name (the URL when none is given); incidents and history are keyed by it.
    pub name: String,
    pub url: SafeUrl,
    pub expect_status: Vec<StatusRule>,
    pub expect_text: Option<String>,
    pub forbid_text: Option<String>,
    pub request: RequestSpec,
    pub max_latency: Option<Duration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    checks: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Entry {
    name: String,
    url: String,
    expect_status: Option<serde_yaml_ng::Value>,
    expect_text: Option<String>,
    forbid_text: Option<String>,
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<serde_yaml_ng::Value>,
    max_latency: Option<String>,
}

/// `${NAME}` replaced from the environment; a name that is not set is an error.
fn expand(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    used: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{text}` has `${{` without `}}`"))?;
        let name = &after[..end];
        let value = env(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("`${{{name}}}` is not set in the step's env"))?;
        used.push(value.clone());
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads `path`, each entry over `defaults`. Returns the checks and the values expanded
/// from the environment (to mask).
pub fn read(
    path: &Path,
    defaults: &CheckSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<CheckSpec>, Vec<String>), InputError> {
    let bad = |message: String| InputError::new("checks", message);
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("`{}` cannot be read: {e}", path.display())))?;
    let file: File = serde_yaml_ng::from_str(&text)
        .map_err(|e| bad(format!("`{}` is not a list of checks: {e}", path.display())))?;
    if file.checks.is_empty() {
        return Err(bad(format!("`{}` has no checks", path.display())));
    }
    let mut used = Vec::new();
    let mut names = Vec::new();
    let mut out = Vec::new();
    for entry in file.checks {
        let name = entry.name.trim().to_owned();
        if name.is_empty() || names.contains(&name) {
            return Err(bad(format!(
                "every check needs a name of its own (`{name}` is empty or repeated)"
            )));
        }
        names.push(name.clone());
        let at = |e: InputError| bad(format!("check `{name}`: `{}` {}", e.input, e.message));
        let mut spec = defaults.clone();
        spec.name = name.clone();
        spec.url = parse_url("url", &entry.url, &["https", "http"]).map_err(at)?;
        if let Some(status) = entry.expect_status {
            let text = match status {
                serde_yaml_ng::Value::Number(n) => n.to_string(),
                serde_yaml_ng::Value::String(s) => s,
                other => format!("{other:?}"),
            };
            spec.expect_status = parse_status_rules(&text).map_err(at)?;
        }
        if entry.expect_text.is_some() {
            spec.expect_text = entry.expect_text;
        }
        if entry.forbid_text.is_some() {
            spec.forbid_text = entry.forbid_text;
        }
        if let Some(m) = entry.method {
            spec.request.method = crate::parse_method(&m).map_err(at)?;
        }
        for (header, value) in entry.headers {
            let value = expand(&value, env, &mut used)
                .map_err(|m| bad(format!("check `{name}`, header `{header}`: {m}")))?;
            crate::check_header_name(&header).map_err(at)?;
            spec.request.headers.push((header, value));
        }
        if let Some(body) = entry.body {
            let json = match body {
                serde_yaml_ng::Value::String(s) => {
                    serde_json::from_str::<serde_json::Value>(&s)
                        .map_err(|e| bad(format!("check `{name}`: `body` is not JSON: {e}")))?;
                    s
                }
                other => serde_json::to_string(&other)
                    .map_err(|e| bad(format!("check `{name}`: `body`: {e}")))?,
            };
            spec.request.body = Some(json);
        }
        if let Some(l) = entry.max_latency {
            spec.max_latency =
                Some(shipline_cli::parse_duration_input("max-latency", &l).map_err(at)?);
        }
        out.push(spec);
    }
    Ok((out, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_reads_the_environment_and_names_what_is_missing() {
        let env = |k: &str| (k == "KEY").then(|| "s3cr3t".to_owned());
        let mut used = Vec::new();
        assert_eq!(
            expand("Bearer ${KEY}!", &env, &mut used).unwrap(),
            "Bearer s3cr3t!"
        );
        assert_eq!(used, ["s3cr3t"]);
        assert!(
            expand("${NOPE}", &env, &mut used)
                .unwrap_err()
                .contains("`${NOPE}` is not set")
        );
        assert!(expand("${KEY", &env, &mut used).is_err());
    }
}

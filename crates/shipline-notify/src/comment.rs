//! `github-comment`: one sticky comment per (key, pull request), found by its hidden marker
//! **and** by its author being this token, so a marker copied into someone else's comment
//! is never edited. Updated in place; never deleted and recreated.

use serde_json::{Value, json};
use shipline_core::time::now_rfc3339;
use shipline_http::Method;

use crate::error::NotifyError;
use crate::github::{GitHub, bare_login};
use crate::notice::{Notice, one_line};

/// GitHub's limit on a comment body, in characters.
pub const BODY_LIMIT: usize = 65_536;

const HISTORY_START: &str = "<!-- shipline:history -->";
const HISTORY_END: &str = "<!-- /shipline:history -->";
const TRUNCATED: &str = "\n\n… *(cut to fit GitHub's 65,536-character limit; the whole text is in the run's step summary)*";

/// What happens to the comment found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Edit it in place (default).
    Update,
    /// Edit it in place, keeping a table of every run (newest first).
    Append,
    /// Collapse it as outdated and post a new one.
    HidePrevious,
}

impl Mode {
    pub const NAMES: [&'static str; 3] = ["update", "append", "hide-previous"];

    pub fn parse(word: &str) -> Option<Mode> {
        Some(match word {
            "update" => Mode::Update,
            "append" => Mode::Append,
            "hide-previous" => Mode::HidePrevious,
            _ => return None,
        })
    }
}

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: u64,
    pub html_url: String,
    pub created: bool,
    /// The comment collapsed by `hide-previous`.
    pub hidden: Option<u64>,
    pub truncated: bool,
}

/// The hidden marker of `key`.
pub fn marker(key: &str) -> String {
    format!("<!-- shipline:{key} -->")
}

/// A key as a marker can hold it: letters, digits, `.`, `_`, `/`, `-`; anything else `-`.
pub fn clean_key(key: &str) -> String {
    key.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A value for a Markdown table cell: pipes escaped, newlines as `<br>`, no hidden comments.
fn cell(text: &str) -> String {
    neutralize(text)
        .replace('|', "\\|")
        .replace("\r\n", "\n")
        .replace('\n', "<br>")
}

/// User text cannot carry an HTML comment, so it can never fake one of our markers.
pub(crate) fn neutralize(text: &str) -> String {
    text.replace("<!--", "&lt;!--")
}

fn row_value(notice: &Notice, name: &str, value: &str) -> String {
    match name {
        "URL" => format!("<{}>", value.replace('>', "%3E")),
        "Commit" => match notice.origin.commit_url() {
            Some(url) => format!("[`{value}`]({url})"),
            None => format!("`{value}`"),
        },
        _ => cell(value),
    }
}

/// The row this run adds to the history table.
fn history_row(notice: &Notice, at: &str) -> String {
    let commit = notice
        .origin
        .short_commit()
        .map(|c| format!("`{c}`"))
        .unwrap_or_default();
    let url = notice
        .url
        .as_deref()
        .map(|u| format!("<{}>", u.replace('>', "%3E")))
        .unwrap_or_default();
    format!(
        "| {at} | {commit} | {} {} | {url} |",
        notice.status.emoji(),
        notice.status.word()
    )
}

/// The rows of the history table in an earlier body (newest first).
pub fn history_rows(body: &str) -> Vec<String> {
    let Some(start) = body.find(HISTORY_START) else {
        return Vec::new();
    };
    let rest = &body[start + HISTORY_START.len()..];
    let end = rest.find(HISTORY_END).unwrap_or(rest.len());
    rest[..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .map(str::to_owned)
        .collect()
}

/// The comment body. `history` holds the earlier rows, for `append`.
pub fn render(
    notice: &Notice,
    key: &str,
    mode: Mode,
    history: &[String],
    at: &str,
) -> (String, bool) {
    let mut head = format!(
        "{}\n### {}\n\n| | |\n|---|---|\n",
        marker(key),
        neutralize(&notice.headline())
    );
    for (name, value) in notice.rows() {
        head.push_str(&format!(
            "| **{}** | {} |\n",
            cell(&one_line(&name)),
            row_value(notice, &name, &value)
        ));
    }
    let mut tail = String::from("\n");
    let mut footer = Vec::new();
    if let Some(repo) = &notice.origin.repository {
        footer.push(cell(repo));
    }
    if let Some(run) = &notice.origin.run_url {
        footer.push(format!("[workflow run]({run})"));
    }
    footer.push(format!("updated {at}"));
    tail.push_str(&format!("<sub>{}</sub>\n", footer.join(" · ")));

    let mut rows: Vec<String> = Vec::new();
    if mode == Mode::Append {
        rows.push(history_row(notice, at));
        rows.extend(history.iter().cloned());
    }
    let history_block = |rows: &[String]| {
        if rows.is_empty() {
            return String::new();
        }
        format!(
            "\n<details><summary>Every run ({})</summary>\n\n{HISTORY_START}\n\n| When | Commit | Status | URL |\n|---|---|---|---|\n{}\n\n{HISTORY_END}\n</details>\n",
            rows.len(),
            rows.join("\n")
        )
    };
    let message = notice
        .message
        .as_deref()
        .map(|m| format!("\n{}\n", neutralize(m.trim_end())))
        .unwrap_or_default();
    let len = |s: &str| s.chars().count();
    // Oldest history rows go first, then the message is cut.
    while rows.len() > 1
        && len(&head) + len(&message) + len(&history_block(&rows)) + len(&tail) > BODY_LIMIT
    {
        rows.pop();
    }
    let fixed = len(&head) + len(&history_block(&rows)) + len(&tail);
    let mut truncated = false;
    let message = if fixed + len(&message) > BODY_LIMIT {
        truncated = true;
        let room = BODY_LIMIT.saturating_sub(fixed + len(TRUNCATED));
        let cut: String = message.chars().take(room).collect();
        format!("{cut}{TRUNCATED}")
    } else {
        message
    };
    let mut body = format!("{head}{message}{}{tail}", history_block(&rows));
    if len(&body) > BODY_LIMIT {
        truncated = true;
        body = body.chars().take(BODY_LIMIT).collect();
    }
    (body, truncated)
}

/// The pull request to comment on: the one given, the event's, or the open one whose head is
/// `sha` (a push event).
pub async fn pull_request_of(gh: &GitHub, sha: &str) -> Result<Option<u64>, NotifyError> {
    let url = gh.repo_url(&format!("commits/{sha}/pulls"))?;
    let pulls = gh.get(url, "pull-requests: read").await?;
    Ok(pulls.as_array().and_then(|list| {
        list.iter()
            .filter(|p| p["state"] == "open")
            .find_map(|p| p["number"].as_u64())
    }))
}

/// Creates or updates the sticky comment of `key` on `number`.
pub async fn post(
    gh: &GitHub,
    number: u64,
    key: &str,
    mode: Mode,
    notice: &Notice,
) -> Result<Posted, NotifyError> {
    let me = gh.viewer_login().await?;
    let mut list_url = gh
        .repo_url(&format!("issues/{number}/comments"))?
        .into_inner();
    list_url.query_pairs_mut().append_pair("per_page", "100");
    let comments = gh.get_all(list_url.into(), "pull-requests: read").await?;
    let mark = marker(key);
    let ours: Vec<&Value> = comments
        .iter()
        .filter(|c| c["body"].as_str().is_some_and(|b| b.contains(&mark)))
        .filter(|c| {
            c["user"]["login"]
                .as_str()
                .is_some_and(|login| bare_login(login) == me)
        })
        .collect();
    // Update edits the oldest (stable across races); hide-previous hides the newest.
    let found = match mode {
        Mode::HidePrevious => ours.last().copied(),
        _ => ours.first().copied(),
    };
    let at = now_rfc3339();
    let history = found
        .and_then(|c| c["body"].as_str())
        .map(history_rows)
        .unwrap_or_default();
    let (body, truncated) = render(notice, key, mode, &history, &at);
    let id_of = |c: &Value| c["id"].as_u64();
    match (mode, found) {
        (Mode::Update | Mode::Append, Some(existing)) => {
            let id = id_of(existing)
                .ok_or_else(|| NotifyError::Service("a comment without an `id`".into()))?;
            let url = gh.repo_url(&format!("issues/comments/{id}"))?;
            let updated = gh
                .send(
                    Method::PATCH,
                    url,
                    &json!({ "body": body }),
                    "pull-requests: write",
                )
                .await?;
            Ok(Posted {
                id,
                html_url: updated["html_url"].as_str().unwrap_or_default().to_owned(),
                created: false,
                hidden: None,
                truncated,
            })
        }
        (_, previous) => {
            let url = gh.repo_url(&format!("issues/{number}/comments"))?;
            let created = gh
                .send(
                    Method::POST,
                    url,
                    &json!({ "body": body }),
                    "pull-requests: write",
                )
                .await?;
            let id = id_of(&created)
                .ok_or_else(|| NotifyError::Service("GitHub gave no comment `id`".into()))?;
            let mut hidden = None;
            if let Some((old, node)) =
                previous.and_then(|old| old["node_id"].as_str().map(|node| (old, node)))
            {
                gh.minimize(node).await.map_err(|e| {
                    NotifyError::Service(format!(
                        "posted comment {id}, but could not hide the previous one: {e}"
                    ))
                })?;
                hidden = id_of(old);
            }
            Ok(Posted {
                id,
                html_url: created["html_url"].as_str().unwrap_or_default().to_owned(),
                created: true,
                hidden,
                truncated,
            })
        }
    }
}

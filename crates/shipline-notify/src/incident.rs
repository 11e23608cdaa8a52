//! `github-issue`: one incident issue per key. Opened on the first failure, commented on
//! while it lasts (never a second issue), closed with how long it lasted on recovery.

use serde_json::{Value, json};
use shipline_core::duration::format_duration;
use shipline_core::time::{now_rfc3339, now_secs, parse_rfc3339};
use shipline_http::Method;

use crate::comment::neutralize;
use crate::error::NotifyError;
use crate::github::{GitHub, bare_login};
use crate::notice::{Notice, Status, one_line};

/// The labels every incident carries (and is found by).
pub const LABELS: [&str; 2] = ["incident", "shipline"];

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incident {
    Opened {
        number: u64,
        html_url: String,
    },
    /// Still failing: a comment on the open issue.
    Repeated {
        number: u64,
        html_url: String,
    },
    /// Back: resolution comment, issue closed.
    Closed {
        number: u64,
        html_url: String,
        lasted_secs: u64,
    },
    /// Healthy and no open incident, or a status that says nothing (cancelled, skipped).
    Nothing(String),
}

impl Incident {
    pub fn number(&self) -> Option<u64> {
        match self {
            Incident::Opened { number, .. }
            | Incident::Repeated { number, .. }
            | Incident::Closed { number, .. } => Some(*number),
            Incident::Nothing(_) => None,
        }
    }
}

pub fn marker(key: &str) -> String {
    format!("<!-- shipline:incident:{key} -->")
}

fn details(notice: &Notice, at: &str) -> String {
    let mut text = String::new();
    for (name, value) in notice.rows() {
        text.push_str(&format!(
            "- **{}**: {}\n",
            one_line(&name),
            neutralize(&one_line(&value))
        ));
    }
    if let Some(message) = &notice.message {
        text.push_str(&format!("\n{}\n", neutralize(message.trim_end())));
    }
    let run = notice
        .origin
        .run_url
        .as_deref()
        .map(|r| format!(" · [workflow run]({r})"))
        .unwrap_or_default();
    text.push_str(&format!("\n<sub>{at}{run}</sub>\n"));
    text
}

/// The open incident of `key`, opened by this token.
async fn find_open(gh: &GitHub, key: &str) -> Result<Option<Value>, NotifyError> {
    let me = gh.viewer_login().await?;
    let mut url = gh.repo_url("issues")?.into_inner();
    url.query_pairs_mut()
        .append_pair("state", "open")
        .append_pair("labels", &LABELS.join(","))
        .append_pair("per_page", "100");
    let issues = gh.get_all(url.into(), "issues: read").await?;
    let mark = marker(key);
    Ok(issues.into_iter().find(|i| {
        i.get("pull_request").is_none()
            && i["body"].as_str().is_some_and(|b| b.contains(&mark))
            && i["user"]["login"]
                .as_str()
                .is_some_and(|l| bare_login(l) == me)
    }))
}

/// Opens, comments on or closes the incident of `key` as `notice.status` says.
pub async fn report(gh: &GitHub, key: &str, notice: &Notice) -> Result<Incident, NotifyError> {
    let down = match notice.status {
        Status::Failure => true,
        Status::Success => false,
        other => {
            return Ok(Incident::Nothing(format!(
                "status `{}` neither opens nor closes an incident",
                other.as_str()
            )));
        }
    };
    let at = now_rfc3339();
    let open = find_open(gh, key).await?;
    let number_of = |i: &Value| {
        i["number"]
            .as_u64()
            .ok_or_else(|| NotifyError::Service("an issue without a `number`".into()))
    };
    let html = |i: &Value| i["html_url"].as_str().unwrap_or_default().to_owned();
    match (down, open) {
        (true, None) => {
            let title = if notice.title.trim().is_empty() {
                format!("🛑 {key} is down")
            } else {
                format!("🛑 {}", one_line(&notice.title))
            };
            let body = format!(
                "{}\nDown since {at}.\n\n{}\nThis issue is closed by shipline when the check passes again.\n",
                marker(key),
                details(notice, &at)
            );
            let url = gh.repo_url("issues")?;
            let issue = gh
                .send(
                    Method::POST,
                    url,
                    &json!({ "title": title, "body": body, "labels": LABELS }),
                    "issues: write",
                )
                .await?;
            Ok(Incident::Opened {
                number: number_of(&issue)?,
                html_url: html(&issue),
            })
        }
        (true, Some(issue)) => {
            let number = number_of(&issue)?;
            let body = format!("Still failing at {at}.\n\n{}", details(notice, &at));
            let url = gh.repo_url(&format!("issues/{number}/comments"))?;
            gh.send(Method::POST, url, &json!({ "body": body }), "issues: write")
                .await?;
            Ok(Incident::Repeated {
                number,
                html_url: html(&issue),
            })
        }
        (false, Some(issue)) => {
            let number = number_of(&issue)?;
            let since = issue["created_at"].as_str().and_then(parse_rfc3339);
            let lasted_secs = since.map(|s| now_secs().saturating_sub(s)).unwrap_or(0);
            let lasted = format_duration(std::time::Duration::from_secs(lasted_secs));
            let body = format!(
                "✅ Resolved at {at}: back after {lasted} (down since {}).\n\n{}",
                issue["created_at"].as_str().unwrap_or("?"),
                details(notice, &at)
            );
            let url = gh.repo_url(&format!("issues/{number}/comments"))?;
            gh.send(Method::POST, url, &json!({ "body": body }), "issues: write")
                .await?;
            let url = gh.repo_url(&format!("issues/{number}"))?;
            gh.send(
                Method::PATCH,
                url,
                &json!({ "state": "closed", "state_reason": "completed" }),
                "issues: write",
            )
            .await?;
            Ok(Incident::Closed {
                number,
                html_url: html(&issue),
                lasted_secs,
            })
        }
        (false, None) => Ok(Incident::Nothing(format!("no open incident for `{key}`"))),
    }
}

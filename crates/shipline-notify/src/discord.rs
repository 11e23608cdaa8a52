//! `discord`: an incoming webhook with one embed. `?wait=true` makes Discord answer with the
//! message (so a refusal is an error, not a silent 204), and `allowed_mentions` is empty
//! unless this notice should ping: text from a PR title can never ping `@everyone`.

use serde_json::{Value, json};
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, Request};

use crate::error::NotifyError;
use crate::notice::{Notice, one_line, truncate};

/// The webhook body (title ≤ 256, description ≤ 4096, ≤ 25 fields of ≤ 1024).
pub fn payload(notice: &Notice, at: &str) -> Value {
    let fields: Vec<Value> = notice
        .rows()
        .into_iter()
        .take(25)
        .map(|(name, value)| {
            let value = match (name.as_str(), notice.origin.commit_url()) {
                ("Commit", Some(url)) => format!("[`{value}`]({url})"),
                _ => value,
            };
            json!({
                "name": truncate(&one_line(&name), 256),
                "value": truncate(&value, 1024),
                "inline": value.chars().count() <= 40,
            })
        })
        .collect();
    let mut embed = json!({
        "title": truncate(&notice.headline(), 256),
        "color": notice.status.colour(),
        "fields": fields,
        "timestamp": at,
    });
    if let Some(message) = notice.message.as_deref().filter(|m| !m.trim().is_empty()) {
        embed["description"] = truncate(message.trim_end(), 4096).into();
    }
    if let Some(url) = notice.url.as_deref().or(notice.origin.run_url.as_deref()) {
        embed["url"] = url.into();
    }
    if let Some(repo) = &notice.origin.repository {
        embed["footer"] = json!({ "text": truncate(repo, 2048) });
    }
    let (content, allowed) = match notice.mention_now() {
        Some(mention) => (
            mention.to_owned(),
            json!({ "parse": ["users", "roles", "everyone"] }),
        ),
        None => (String::new(), json!({ "parse": [] })),
    };
    json!({
        "username": "shipline",
        "content": content,
        "embeds": [embed],
        "allowed_mentions": allowed,
    })
}

/// Posts the notice; returns the message id.
pub async fn send(
    http: &HttpClient,
    webhook: &Secret,
    notice: &Notice,
    at: &str,
) -> Result<Option<String>, NotifyError> {
    let mut url = url::Url::parse(webhook.expose())
        .map_err(|_| NotifyError::Service("the Discord webhook URL is not a URL".into()))?;
    let keep: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "wait")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(keep)
        .append_pair("wait", "true");
    let response = http
        .send_ok(Request::post(SafeUrl::from(url)).json(&payload(notice, at)))
        .await
        .map_err(|e| NotifyError::hook("Discord", e))?;
    let message: Value = response.json().unwrap_or(Value::Null);
    Ok(message["id"].as_str().map(str::to_owned))
}

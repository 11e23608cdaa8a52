//! `slack`: a bot token (`chat.postMessage`, then `chat.update` of the same `ts`, thread
//! replies) or an incoming webhook. Block Kit built from the notice, always with a `text`
//! fallback (Slack refuses blocks without one in notifications and screen readers need it).

use serde_json::{Value, json};
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, Request};

use crate::error::NotifyError;
use crate::notice::{Notice, one_line, truncate};

/// How Slack is reached.
#[derive(Debug)]
pub enum SlackTarget {
    Bot {
        api: SafeUrl,
        token: Secret,
        channel: String,
        /// Update this message instead of posting (start → finish).
        ts: Option<String>,
        /// Post as a reply in this thread.
        thread_ts: Option<String>,
    },
    Webhook(Secret),
}

/// The message Slack accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub channel: Option<String>,
    pub ts: Option<String>,
    pub updated: bool,
}

/// Slack's three reserved characters.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// GitHub Markdown → Slack mrkdwn, for what messages usually hold: links, bold, headings.
pub fn mrkdwn(markdown: &str) -> String {
    let escaped = escape(markdown);
    let mut out = String::new();
    for line in escaped.lines() {
        let line = match line.trim_start().strip_prefix('#') {
            Some(rest) => format!("*{}*", rest.trim_start_matches('#').trim()),
            None => line.to_owned(),
        };
        out.push_str(&links(&line.replace("**", "*")));
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// `[text](url)` → `<url|text>`.
fn links(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let Some(end) = after[close + 2..].find(')') else {
            break;
        };
        let text = &after[..close];
        let url = &after[close + 2..close + 2 + end];
        if url.starts_with("http://") || url.starts_with("https://") {
            out.push_str(&rest[..open]);
            out.push_str(&format!(
                "<{}|{}>",
                url.replace('|', "%7C"),
                text.replace('|', "¦")
            ));
        } else {
            out.push_str(&rest[..open + 1 + close + 2 + end + 1]);
        }
        rest = &after[close + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The `text` fallback: the headline, the link, and the mention when there is one.
pub fn fallback(notice: &Notice) -> String {
    let mut text = String::new();
    if let Some(mention) = notice.mention_now() {
        text.push_str(mention);
        text.push(' ');
    }
    text.push_str(&escape(&notice.headline()));
    if let Some(url) = &notice.url {
        text.push_str(&format!(": {url}"));
    }
    text
}

/// The Block Kit blocks (header ≤ 150, section ≤ 3000, ≤ 10 fields of ≤ 2000 characters).
pub fn blocks(notice: &Notice) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": truncate(&notice.headline(), 150), "emoji": true }
    })];
    if let Some(mention) = notice.mention_now() {
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": mention } }));
    }
    if let Some(message) = notice.message.as_deref().filter(|m| !m.trim().is_empty()) {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": truncate(&mrkdwn(message), 3000) }
        }));
    }
    let fields: Vec<Value> = notice
        .rows()
        .into_iter()
        .take(10)
        .map(|(name, value)| {
            let value = match name.as_str() {
                "URL" => format!("<{value}>"),
                "Commit" => match notice.origin.commit_url() {
                    Some(url) => format!("<{url}|{}>", escape(&value)),
                    None => format!("`{}`", escape(&value)),
                },
                _ => escape(&value),
            };
            json!({ "type": "mrkdwn", "text": truncate(&format!("*{}*\n{value}", escape(&one_line(&name))), 2000) })
        })
        .collect();
    blocks.push(json!({ "type": "section", "fields": fields }));
    let mut context = Vec::new();
    if let Some(repo) = &notice.origin.repository {
        context.push(escape(repo));
    }
    if let Some(run) = &notice.origin.run_url {
        context.push(format!("<{run}|workflow run>"));
    }
    if !context.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": context.join(" · ") }]
        }));
    }
    Value::Array(blocks)
}

/// What a Slack error code means for the person reading the log.
fn explain(error: &str, channel: &str) -> String {
    let hint = match error {
        "not_in_channel" | "channel_not_found" => format!(
            ": the bot is not in `{channel}`; invite it there (`/invite @your-app`) or check `slack-channel`"
        ),
        "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" => {
            ": `slack-token` is not a valid bot token".into()
        }
        "missing_scope" => ": the app needs the `chat:write` scope".into(),
        "message_not_found" | "cant_update_message" => {
            ": `slack-ts` does not name a message this bot posted in that channel".into()
        }
        "invalid_blocks" | "invalid_blocks_format" => {
            ": Slack refused the blocks (please report this as a shipline bug)".into()
        }
        _ => String::new(),
    };
    format!("Slack refused the message: `{error}`{hint}")
}

/// Sends the notice.
pub async fn send(
    http: &HttpClient,
    target: &SlackTarget,
    notice: &Notice,
) -> Result<Sent, NotifyError> {
    let text = fallback(notice);
    let blocks = blocks(notice);
    match target {
        SlackTarget::Bot {
            api,
            token,
            channel,
            ts,
            thread_ts,
        } => {
            let (method, mut body) = match ts {
                Some(ts) => (
                    "chat.update",
                    json!({ "channel": channel, "ts": ts, "text": text, "blocks": blocks }),
                ),
                None => (
                    "chat.postMessage",
                    json!({ "channel": channel, "text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false }),
                ),
            };
            if let (Some(thread), None) = (thread_ts, ts) {
                body["thread_ts"] = thread.clone().into();
            }
            let url = api
                .join_path(method)
                .map_err(|e| NotifyError::Service(format!("bad `SLACK_API_URL`: {e}")))?;
            let response = http
                .send_ok(Request::post(url).bearer(token).json(&body))
                .await
                .map_err(NotifyError::Http)?;
            let answer: Value = response.json().map_err(NotifyError::Http)?;
            if answer["ok"] != true {
                let error = answer["error"].as_str().unwrap_or("unknown_error");
                return Err(NotifyError::Service(explain(error, channel)));
            }
            Ok(Sent {
                channel: answer["channel"].as_str().map(str::to_owned),
                ts: answer["ts"].as_str().map(str::to_owned),
                updated: ts.is_some(),
            })
        }
        SlackTarget::Webhook(url) => {
            let url = SafeUrl::parse(url.expose())
                .map_err(|_| NotifyError::Service("the Slack webhook URL is not a URL".into()))?;
            http.send_ok(Request::post(url).json(&json!({ "text": text, "blocks": blocks })))
                .await
                .map_err(|e| NotifyError::hook("Slack", e))?;
            Ok(Sent {
                channel: None,
                ts: None,
                updated: false,
            })
        }
    }
}

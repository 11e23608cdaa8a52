//! `teams`: a Power Automate "workflow" webhook (the Office 365 connectors are retired),
//! which takes a message with one Adaptive Card attachment.

use serde_json::{Value, json};
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, Request};

use crate::error::NotifyError;
use crate::notice::{Notice, Status, one_line};

/// The Adaptive Card 1.4 (the highest version Teams renders everywhere).
pub fn card(notice: &Notice) -> Value {
    let colour = match notice.status {
        Status::Success => "Good",
        Status::Failure => "Attention",
        Status::InProgress => "Accent",
        Status::Cancelled | Status::Skipped => "Default",
    };
    let mut body = Vec::new();
    if let Some(mention) = notice.mention_now() {
        body.push(json!({ "type": "TextBlock", "text": mention, "wrap": true }));
    }
    body.push(json!({
        "type": "TextBlock",
        "text": notice.headline(),
        "size": "Large",
        "weight": "Bolder",
        "color": colour,
        "wrap": true,
        "style": "heading",
    }));
    if let Some(message) = notice.message.as_deref().filter(|m| !m.trim().is_empty()) {
        body.push(json!({ "type": "TextBlock", "text": message.trim_end(), "wrap": true }));
    }
    let facts: Vec<Value> = notice
        .rows()
        .into_iter()
        .map(|(name, value)| json!({ "title": one_line(&name), "value": value }))
        .collect();
    body.push(json!({ "type": "FactSet", "facts": facts }));
    let mut actions = Vec::new();
    if let Some(url) = &notice.url {
        actions.push(json!({ "type": "Action.OpenUrl", "title": "Open", "url": url }));
    }
    if let Some(run) = &notice.origin.run_url {
        actions.push(json!({ "type": "Action.OpenUrl", "title": "Workflow run", "url": run }));
    }
    json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": actions,
        "msteams": { "width": "Full" },
    })
}

/// The message the workflow webhook takes.
pub fn payload(notice: &Notice) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card(notice),
        }],
    })
}

/// Posts the card (the workflow answers 202 Accepted).
pub async fn send(http: &HttpClient, webhook: &Secret, notice: &Notice) -> Result<(), NotifyError> {
    let url = SafeUrl::parse(webhook.expose())
        .map_err(|_| NotifyError::Service("the Teams webhook URL is not a URL".into()))?;
    http.send_ok(Request::post(url).json(&payload(notice)))
        .await
        .map_err(|e| NotifyError::hook("Teams", e))?;
    Ok(())
}

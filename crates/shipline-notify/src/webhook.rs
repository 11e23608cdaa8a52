//! `webhook`: a versioned JSON document for anything else (an internal bot, a status page),
//! signed like GitHub signs its own webhooks so receivers can reuse their verification code.
//! The schema is `docs/schemas/notify-webhook-v1.json`; a field is only ever added within a
//! version, never renamed or removed.

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, Request};

use crate::error::NotifyError;
use crate::notice::{Notice, Status};

pub const SCHEMA_VERSION: u32 = 1;
pub const EVENT_HEADER: &str = "x-shipline-event";
pub const SIGNATURE_HEADER: &str = "x-shipline-signature-256";

/// The document, version 1.
#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub schema_version: u32,
    pub status: Status,
    pub title: &'a str,
    pub message: Option<&'a str>,
    pub url: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub key: &'a str,
    pub repository: Option<&'a str>,
    pub commit: Option<&'a str>,
    #[serde(rename = "ref")]
    pub git_ref: Option<&'a str>,
    pub run_url: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub workflow: Option<&'a str>,
    pub job: Option<&'a str>,
    pub fields: Map<String, Value>,
    pub migrations: Option<&'a str>,
    pub timings: Option<&'a str>,
    /// Only when this notice should ping (see `mention-on`).
    pub mention: Option<&'a str>,
    pub sent_at: &'a str,
}

impl<'a> Document<'a> {
    pub fn new(notice: &'a Notice, key: &'a str, sent_at: &'a str) -> Self {
        let o = &notice.origin;
        Document {
            schema_version: SCHEMA_VERSION,
            status: notice.status,
            title: &notice.title,
            message: notice.message.as_deref(),
            url: notice.url.as_deref(),
            environment: notice.environment.as_deref(),
            key,
            repository: o.repository.as_deref(),
            commit: o.commit.as_deref(),
            git_ref: o.git_ref.as_deref(),
            run_url: o.run_url.as_deref(),
            actor: o.actor.as_deref(),
            workflow: o.workflow.as_deref(),
            job: o.job.as_deref(),
            fields: notice
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            migrations: notice.migrations.as_deref(),
            timings: notice.timings.as_deref(),
            mention: notice.mention_now(),
            sent_at,
        }
    }
}

/// `sha256=<hex>` of HMAC-SHA256 over the exact body bytes.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts the document, signed when `secret` is set.
pub async fn send(
    http: &HttpClient,
    webhook: &Secret,
    secret: Option<&Secret>,
    document: &Document<'_>,
) -> Result<(), NotifyError> {
    let url = SafeUrl::parse(webhook.expose())
        .map_err(|_| NotifyError::Service("the webhook URL is not a URL".into()))?;
    let body = serde_json::to_vec(document)
        .map_err(|e| NotifyError::Service(format!("could not encode the webhook document: {e}")))?;
    let mut request = Request::post(url)
        .bytes(body.clone().into(), "application/json")
        .header(EVENT_HEADER, "notify");
    if let Some(secret) = secret {
        request = request.header(SIGNATURE_HEADER, &signature(secret, &body));
    }
    http.send_ok(request)
        .await
        .map_err(|e| NotifyError::hook("generic", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_vector() {
        // RFC 4231 test case 2.
        let secret = Secret::new("Jefe".to_owned());
        assert_eq!(
            signature(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

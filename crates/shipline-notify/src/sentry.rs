//! `sentry`: a release named after the commit, then a deploy of it, so Sentry's "suspect
//! release" and its charts line up with what shipped. Self-hosted Sentry via `SENTRY_URL`.

use serde_json::{Value, json};
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, HttpError, Request};

use crate::error::NotifyError;

/// What to tell Sentry.
#[derive(Debug, Clone)]
pub struct Release {
    pub org: String,
    pub project: String,
    pub version: String,
    /// `owner/repo` and the commit, for Sentry's commit tracking.
    pub repository: Option<String>,
    pub commit: Option<String>,
    pub url: Option<String>,
    pub environment: String,
    /// RFC 3339.
    pub started: String,
    pub finished: String,
}

/// The deploy Sentry recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    pub version: String,
    pub deploy_id: Option<String>,
}

fn explain(error: HttpError, refs: bool) -> NotifyError {
    let detail = match &error {
        HttpError::Status { detail, .. } => detail.clone(),
        other => other.to_string(),
    };
    match error.status() {
        Some(401) => NotifyError::Service(format!(
            "Sentry did not accept `sentry-token` (401: {detail}): create an organization auth token"
        )),
        Some(403) => NotifyError::Service(format!(
            "Sentry refused (403: {detail}): the token needs the `project:releases` scope for this organization and project"
        )),
        Some(400) if refs && detail.to_ascii_lowercase().contains("repositor") => {
            NotifyError::Service(format!(
                "Sentry refused the commit reference (400: {detail}): connect the repository in Sentry (Settings → Integrations → GitHub), or leave `commit` empty"
            ))
        }
        Some(404) => NotifyError::Service(format!(
            "Sentry has no such organization or project (404: {detail}): check `sentry-org` and `sentry-project`"
        )),
        _ => NotifyError::Http(error),
    }
}

fn segment_url(base: &SafeUrl, segments: &[&str]) -> Result<SafeUrl, NotifyError> {
    let mut url = base.expose().clone();
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|_| NotifyError::Service("`SENTRY_URL` cannot be a base URL".into()))?;
        path.pop_if_empty();
        for s in segments {
            path.push(s);
        }
        // Sentry's routes end with a slash.
        path.push("");
    }
    Ok(SafeUrl::from(url))
}

/// Creates (or finds: Sentry answers 208 for an existing version) the release, then the deploy.
pub async fn release_and_deploy(
    http: &HttpClient,
    base: &SafeUrl,
    token: &Secret,
    release: &Release,
) -> Result<Deployed, NotifyError> {
    let org = release.org.as_str();
    let mut body = json!({ "version": release.version, "projects": [release.project] });
    let refs = match (&release.repository, &release.commit) {
        (Some(repository), Some(commit)) => {
            body["refs"] = json!([{ "repository": repository, "commit": commit }]);
            true
        }
        _ => false,
    };
    if let Some(url) = &release.url {
        body["url"] = url.clone().into();
    }
    let url = segment_url(base, &["api", "0", "organizations", org, "releases"])?;
    http.send_ok(Request::post(url).bearer(token).json(&body))
        .await
        .map_err(|e| explain(e, refs))?;

    let mut deploy = json!({
        "environment": release.environment,
        "name": format!("{} → {}", release.version, release.environment),
        "dateStarted": release.started,
        "dateFinished": release.finished,
    });
    if let Some(url) = &release.url {
        deploy["url"] = url.clone().into();
    }
    let url = segment_url(
        base,
        &[
            "api",
            "0",
            "organizations",
            org,
            "releases",
            &release.version,
            "deploys",
        ],
    )?;
    let response = http
        .send_ok(Request::post(url).bearer(token).json(&deploy))
        .await
        .map_err(|e| explain(e, false))?;
    let answer: Value = response.json().unwrap_or(Value::Null);
    Ok(Deployed {
        version: release.version.clone(),
        deploy_id: answer["id"].as_str().map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_one_path_segment() {
        let base = SafeUrl::parse("https://sentry.acme.dev/sentry").unwrap();
        let url = segment_url(&base, &["api", "0", "releases", "web@1.0/β 2", "deploys"]).unwrap();
        assert_eq!(
            url.to_string(),
            "https://sentry.acme.dev/sentry/api/0/releases/web@1.0%2F%CE%B2%202/deploys/"
        );
    }
}

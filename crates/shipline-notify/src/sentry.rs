//! `sentry`: a release named after the commit, then a deploy of it, so Sentry's "suspect
//! release" and its charts line up with what shipped. Self-hosted Sentry via `SENTRY_URL`.

use serde_json::{Value, json};
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, HttpError, Multipart, Request};

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

/// An artifact bundle Sentry assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleUploaded {
    /// SHA-1 of the whole bundle: how Sentry names it.
    pub checksum: String,
    pub chunks: usize,
    /// Chunks Sentry lacked and was sent (0 when it had the bundle already).
    pub chunks_sent: usize,
}

/// Uploads an artifact bundle (source maps with debug IDs) as `sentry-cli sourcemaps
/// upload` does: the chunk-upload options, `assemble` with every chunk's SHA-1, the chunks
/// Sentry names as missing (multipart, one `file` part per chunk), then `assemble` polled
/// until `ok`. Every step is keyed by content, so a retry or a re-run sends nothing twice.
pub async fn upload_artifact_bundle(
    http: &HttpClient,
    base: &SafeUrl,
    token: &Secret,
    target: &BundleTarget<'_>,
    bundle: &[u8],
    deadline: std::time::Instant,
) -> Result<BundleUploaded, NotifyError> {
    use sha1::Digest as _;
    let org = target.org;
    let options_url = segment_url(base, &["api", "0", "organizations", org, "chunk-upload"])?;
    let options: Value = http
        .send_ok(Request::get(options_url.clone()).bearer(token))
        .await
        .map_err(|e| explain(e, false))?
        .json()
        .map_err(NotifyError::Http)?;
    if let Some(accept) = options["accept"].as_array()
        && !accept.iter().any(|a| a == "artifact_bundles")
    {
        return Err(NotifyError::Service(
            "this Sentry does not take artifact bundles (its chunk-upload `accept` lacks `artifact_bundles`): source maps with debug IDs need Sentry 23.6 or later".into(),
        ));
    }
    let chunk_size = options["chunkSize"]
        .as_u64()
        .unwrap_or(8 * 1024 * 1024)
        .max(1) as usize;
    let per_request = options["chunksPerRequest"].as_u64().unwrap_or(64).max(1) as usize;
    let upload_url = match options["url"].as_str() {
        Some(url) if url.contains("://") => SafeUrl::parse(url).map_err(|e| {
            NotifyError::Service(format!("Sentry's chunk-upload `url` is not a URL: {e}"))
        })?,
        Some(path) => base
            .join_path(path.trim_start_matches('/'))
            .map_err(|e| NotifyError::Service(format!("Sentry's chunk-upload `url`: {e}")))?,
        None => options_url,
    };
    let chunks: Vec<(&[u8], String)> = bundle
        .chunks(chunk_size)
        .map(|c| (c, hex::encode(sha1::Sha1::digest(c))))
        .collect();
    let checksum = hex::encode(sha1::Sha1::digest(bundle));
    let mut body = json!({
        "checksum": checksum,
        "chunks": chunks.iter().map(|(_, h)| h.as_str()).collect::<Vec<_>>(),
        "projects": [target.project],
    });
    if let Some(release) = target.release {
        body["version"] = release.into();
    }
    let assemble_url = segment_url(
        base,
        &[
            "api",
            "0",
            "organizations",
            org,
            "artifactbundle",
            "assemble",
        ],
    )?;
    let assemble = || async {
        // Assembling the same checksum twice is the same bundle.
        let answer: Value = http
            .send_ok(
                Request::post(assemble_url.clone())
                    .bearer(token)
                    .json(&body)
                    .idempotent(),
            )
            .await
            .map_err(|e| explain(e, false))?
            .json()
            .map_err(NotifyError::Http)?;
        Ok::<Value, NotifyError>(answer)
    };
    let mut answer = assemble().await?;
    let missing: Vec<&(&[u8], String)> = chunks
        .iter()
        .filter(|(_, h)| {
            answer["missingChunks"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == h.as_str()))
        })
        .collect();
    let chunks_sent = missing.len();
    for group in missing.chunks(per_request) {
        let mut form = Multipart::new();
        for (bytes, hash) in group {
            form.part("file", Some(hash), bytes)
                .map_err(NotifyError::Service)?;
        }
        // A chunk is named by its SHA-1: sending it again stores the same chunk.
        http.send_ok(
            Request::post(upload_url.clone())
                .bearer(token)
                .multipart(form)
                .idempotent(),
        )
        .await
        .map_err(|e| explain(e, false))?;
    }
    if chunks_sent > 0 {
        answer = assemble().await?;
    }
    loop {
        match answer["state"].as_str().unwrap_or_default() {
            "ok" => {
                return Ok(BundleUploaded {
                    checksum,
                    chunks: chunks.len(),
                    chunks_sent,
                });
            }
            "error" | "not_found" => {
                return Err(NotifyError::Service(format!(
                    "Sentry could not assemble the source map bundle: {}",
                    answer["detail"].as_str().unwrap_or("no detail given")
                )));
            }
            _ => {}
        }
        let wait = std::time::Duration::from_millis(500);
        if deadline.saturating_duration_since(std::time::Instant::now()) <= wait {
            return Err(NotifyError::Service(
                "Sentry was still assembling the source map bundle when `timeout` ran out".into(),
            ));
        }
        tokio::time::sleep(wait).await;
        answer = assemble().await?;
    }
}

/// Where an artifact bundle goes.
#[derive(Debug, Clone, Copy)]
pub struct BundleTarget<'a> {
    pub org: &'a str,
    pub project: &'a str,
    /// Associates the bundle with a release too (optional with debug IDs).
    pub release: Option<&'a str>,
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

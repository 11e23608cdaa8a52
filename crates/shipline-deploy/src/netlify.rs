//! Netlify's file-digest deploy: the path → SHA-1 map first, then exactly the `required`
//! files; production is a draft until verified, then published (`restore`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shipline_core::{InputError, SafeUrl, Secret};
use shipline_http::{HttpClient, Request};

use crate::provider::{
    Content, DeployError, Provider, StageRequest, Staged, Switch, encode_path, for_each_concurrent,
};

pub struct Netlify {
    pub http: HttpClient,
    pub api: SafeUrl,
    pub token: Secret,
    pub site: String,
}

impl Netlify {
    fn url(&self, path: &str) -> Result<SafeUrl, DeployError> {
        self.api
            .join_path(path)
            .map_err(|e| DeployError::Failed(format!("bad `NETLIFY_API_URL`: {e}")))
    }

    fn title(request: &StageRequest<'_>) -> String {
        let sha = request
            .git
            .sha
            .as_deref()
            .map(|s| s.chars().take(7).collect::<String>())
            .unwrap_or_else(|| "local".into());
        format!("shipline {} {sha}", request.fingerprint())
    }

    fn branch(request: &StageRequest<'_>) -> Option<String> {
        request.pull_request.map(|n| format!("pr-{n}"))
    }

    fn not_found(&self, error: shipline_http::HttpError) -> DeployError {
        if error.status() == Some(404) {
            DeployError::Input(InputError::new(
                "project",
                format!(
                    "Netlify has no site `{}` this token can see: {error}",
                    self.site
                ),
            ))
        } else {
            DeployError::from_host("Netlify", error)
        }
    }

    /// A deploy of this exact content and commit that a previous attempt left ready: a
    /// re-run uses it instead of creating another.
    async fn find_existing(
        &self,
        request: &StageRequest<'_>,
    ) -> Result<Option<Value>, DeployError> {
        let mut url = self
            .url(&format!("sites/{}/deploys", self.site))?
            .into_inner();
        url.query_pairs_mut().append_pair("per_page", "20");
        let response = self
            .http
            .send_ok(Request::get(SafeUrl::from(url)).bearer(&self.token))
            .await
            .map_err(|e| self.not_found(e))?;
        let list: Vec<Value> = response.json()?;
        let title = Self::title(request);
        let branch = Self::branch(request);
        Ok(list.into_iter().find(|d| {
            d["title"] == title.as_str()
                && d["state"] == "ready"
                && branch.as_deref().is_none_or(|b| d["branch"] == b)
        }))
    }

    async fn wait_ready(
        &self,
        mut deploy: Value,
        request: &StageRequest<'_>,
    ) -> Result<Value, DeployError> {
        let started = Instant::now();
        let id = deploy["id"].as_str().unwrap_or_default().to_owned();
        loop {
            match deploy["state"].as_str().unwrap_or_default() {
                "ready" => return Ok(deploy),
                "error" | "rejected" => {
                    return Err(DeployError::Failed(format!(
                        "Netlify deploy `{id}` failed: {}",
                        deploy["error_message"]
                            .as_str()
                            .unwrap_or("no reason given")
                    )));
                }
                _ => {}
            }
            let wait = if started.elapsed() < Duration::from_secs(15) {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(2)
            };
            if request.remaining("waiting for Netlify to make the deploy ready")? <= wait {
                return Err(DeployError::Timeout(format!(
                    "waiting for Netlify deploy `{id}`"
                )));
            }
            tokio::time::sleep(wait).await;
            deploy = self
                .http
                .send_ok(Request::get(self.url(&format!("deploys/{id}"))?).bearer(&self.token))
                .await
                .map_err(|e| DeployError::from_host("Netlify", e))?
                .json()?;
        }
    }
}

impl Netlify {
    /// Publishes a ready deploy (`restore`); returns the site's URL.
    async fn restore(&self, id: &str, fallback: Option<&str>) -> Result<String, DeployError> {
        let url = self.url(&format!("sites/{}/deploys/{id}/restore", self.site))?;
        // Publishing the same deploy twice leaves it published.
        let deploy: Value = self
            .http
            .send_ok(Request::post(url).bearer(&self.token).idempotent())
            .await
            .map_err(|e| DeployError::from_host("Netlify", e))?
            .json()?;
        Ok(deploy["ssl_url"]
            .as_str()
            .or(deploy["url"].as_str())
            .or(fallback)
            .unwrap_or_default()
            .to_owned())
    }
}

impl Provider for Netlify {
    fn name(&self) -> &'static str {
        "netlify"
    }

    fn file_limit(&self) -> Option<usize> {
        None
    }

    fn file_size_limit(&self) -> Option<u64> {
        None
    }

    /// "a limit of 54,000 files per directory" (docs.netlify.com, Site deploys overview).
    fn directory_limit(&self) -> Option<usize> {
        Some(54_000)
    }

    async fn stage(&self, request: &StageRequest<'_>) -> Result<Staged, DeployError> {
        if let Some(existing) = self.find_existing(request).await? {
            return Ok(staged(&existing, 0, 0));
        }
        let mut files: serde_json::Map<String, Value> = request
            .site
            .files
            .iter()
            .map(|f| (format!("/{}", f.path), Value::from(f.sha1.clone())))
            .collect();
        let redirects = spa_redirects(request);
        if let Some((sha, _)) = &redirects {
            files.insert("/_redirects".into(), Value::from(sha.clone()));
        }
        let title = Self::title(request);
        let mut body = json!({ "files": files, "draft": true, "title": title });
        if let Some(branch) = Self::branch(request) {
            body["branch"] = branch.into();
        }
        let mut url = self
            .url(&format!("sites/{}/deploys", self.site))?
            .into_inner();
        url.query_pairs_mut().append_pair("title", &title);
        request.remaining("creating the deploy")?;
        // Not idempotent (each call is a new deploy); a lost answer is found again on re-run
        // by its title.
        let deploy: Value = self
            .http
            .send_ok(
                Request::post(SafeUrl::from(url))
                    .bearer(&self.token)
                    .json(&body),
            )
            .await
            .map_err(|e| self.not_found(e))?
            .json()?;
        let id = deploy["id"].as_str().unwrap_or_default().to_owned();
        let by_sha = request.site.by_sha1();
        let mut todo: Vec<(String, Content, u64)> = Vec::new();
        for sha in deploy["required"].as_array().into_iter().flatten() {
            let sha = sha.as_str().unwrap_or_default();
            if let Some(file) = by_sha.get(sha) {
                todo.push((
                    file.path.clone(),
                    Content::File(file.source.clone()),
                    file.size,
                ));
            } else if let Some((_, bytes)) = redirects.as_ref().filter(|(s, _)| s == sha) {
                todo.push((
                    "_redirects".into(),
                    Content::Bytes(bytes.clone()),
                    bytes.len() as u64,
                ));
            } else {
                return Err(DeployError::Failed(format!(
                    "Netlify asked for a file shipline did not offer (SHA-1 {sha})"
                )));
            }
        }
        let files_uploaded = todo.len();
        let bytes_uploaded: u64 = todo.iter().map(|f| f.2).sum();
        request.progress.expect(files_uploaded, bytes_uploaded);
        for_each_concurrent(todo, request.max_concurrency, |(path, content, size)| {
            let id = id.clone();
            async move {
                request.remaining("uploading files")?;
                let bytes = content.read()?;
                let url = self.url(&format!("deploys/{id}/files/{}", encode_path(&path)))?;
                let req = Request::new(shipline_http::Method::PUT, url)
                    .bearer(&self.token)
                    .bytes(bytes, "application/octet-stream");
                self.http
                    .send_ok(req)
                    .await
                    .map_err(|e| DeployError::from_upload("Netlify", &path, size, e))?;
                request.progress.uploaded(size);
                Ok(())
            }
        })
        .await?;
        let ready = self.wait_ready(deploy, request).await?;
        Ok(staged(&ready, files_uploaded, bytes_uploaded))
    }

    async fn promote(
        &self,
        staged: &Staged,
        _request: &StageRequest<'_>,
    ) -> Result<String, DeployError> {
        self.restore(&staged.id, Some(&staged.url)).await
    }

    async fn live(&self) -> Result<Option<String>, DeployError> {
        let site: Value = self
            .http
            .send_ok(Request::get(self.url(&format!("sites/{}", self.site))?).bearer(&self.token))
            .await
            .map_err(|e| self.not_found(e))?
            .json()?;
        Ok(site["published_deploy"]["id"].as_str().map(str::to_owned))
    }

    async fn find(&self, id: &str) -> Result<Option<Switch>, DeployError> {
        let response = self
            .http
            .send(Request::get(self.url(&format!("deploys/{id}"))?).bearer(&self.token))
            .await?;
        if response.status.as_u16() == 404 {
            return Ok(None);
        }
        let deploy: Value = response
            .error_for_status()
            .map_err(|e| DeployError::from_host("Netlify", e))?
            .json()?;
        let ours = deploy["site_id"].as_str().is_none_or(|s| s == self.site)
            || deploy["name"] == self.site.as_str();
        // Netlify publishes any ready deploy of the site the same way: `restore`.
        Ok((ours && deploy["state"] == "ready").then_some(Switch::Rollback))
    }

    async fn switch_to(
        &self,
        id: &str,
        _how: Switch,
        _reason: &str,
        _deadline: Instant,
    ) -> Result<String, DeployError> {
        self.restore(id, None).await
    }

    async fn alias_preview(
        &self,
        staged: &Staged,
        pull_request: u64,
        _request: &StageRequest<'_>,
    ) -> Result<Option<String>, DeployError> {
        // The `branch` given at creation is the alias: `pr-<n>--<site>.netlify.app`.
        Ok(staged_alias(staged, pull_request))
    }
}

/// With `spa` and no `_redirects` of the site's own: the rewrite Netlify needs to serve
/// `index.html` for client-side routes.
fn spa_redirects(request: &StageRequest<'_>) -> Option<(String, bytes::Bytes)> {
    if !request.spa || request.site.get("_redirects").is_some() {
        return None;
    }
    let bytes = bytes::Bytes::from_static(b"/*    /index.html    200\n");
    Some((crate::site::sha1_hex(&bytes), bytes))
}

/// `https://pr-<n>--<site name>.netlify.app`: branch subdomains hang off the site's
/// Netlify subdomain, whatever custom domain production has.
fn staged_alias(staged: &Staged, pull_request: u64) -> Option<String> {
    let name = staged.site_name.as_deref()?;
    Some(format!("https://pr-{pull_request}--{name}.netlify.app"))
}

fn staged(deploy: &Value, files: usize, bytes: u64) -> Staged {
    Staged {
        id: deploy["id"].as_str().unwrap_or_default().to_owned(),
        url: deploy["deploy_ssl_url"]
            .as_str()
            .or(deploy["deploy_url"].as_str())
            .unwrap_or_default()
            .to_owned(),
        inspector_url: deploy["admin_url"].as_str().map(str::to_owned),
        files_uploaded: files,
        bytes_uploaded: bytes,
        site_url: deploy["ssl_url"].as_str().map(str::to_owned),
        site_name: deploy["name"].as_str().map(str::to_owned),
        alias: None,
    }
}

//! Cloudflare Pages by Direct Upload, the protocol `wrangler pages deploy` speaks
//! (`packages/wrangler/src/pages/upload.ts`, `api/pages/deploy.ts`): an upload token, the
//! hashes the asset store lacks, buckets of only those, `upsert-hashes`, then a multipart
//! deployment that names every file by hash.
//!
//! Pages decides production by branch and has no "promote" for a preview, so a production
//! deploy is staged as a preview on the branch [`STAGING_BRANCH`], verified at its own URL,
//! then deployed again on the production branch with the same manifest: every asset is
//! already in the store, so the second deployment uploads nothing and serves the same
//! bytes. The production deployment's commit message names the verified one
//! (`[shipline: verified as <id>]`), which is how a record of the staged id finds the
//! deployment to roll back to.

use std::sync::Mutex;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};
use shipline_core::{InputError, SafeUrl, Secret};
use shipline_http::{HttpClient, HttpError, Multipart, Request};

use crate::provider::{
    DeployError, Provider, StageRequest, Staged, Switch, before_next_poll, for_each_concurrent,
};
use crate::site::{Site, SiteFile};

/// The preview branch production deploys are verified on before the production branch gets them.
pub const STAGING_BRANCH: &str = "shipline-verify";

/// wrangler's `pages/constants.ts`: buckets of at most 40 MiB or 2,000 files, 3 at a time.
const MAX_BUCKET_SIZE: u64 = 40 * 1024 * 1024;
const MAX_BUCKET_FILE_COUNT: usize = 2000;
const BULK_UPLOAD_CONCURRENCY: usize = 3;

/// Pages of production deployments searched for the one made from a staged deployment.
const TWIN_PAGES: u32 = 20;

/// Files wrangler never uploads as assets (`pages/validate.ts`); `_redirects` and
/// `_headers` go with the deployment itself.
const NOT_ASSETS: [&str; 4] = ["_worker.js", "_redirects", "_headers", "_routes.json"];

pub struct CloudflarePages {
    pub http: HttpClient,
    pub api: SafeUrl,
    pub token: Secret,
    pub account: String,
    pub project: String,
    /// The staged deployment's form, sent again on the production branch by `promote`.
    pub prepared: Mutex<Option<Prepared>>,
}

/// What a deployment is created from: the manifest and the files that ride with it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `{"/index.html": "<hash>", …}`.
    pub manifest: String,
    pub redirects: Option<Bytes>,
    pub headers: Option<Bytes>,
    pub commit_message: String,
}

/// `blake3(base64(content) + extension)` in hex, first 32 characters (`hashFile`).
pub fn asset_hash(content: &[u8], path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    // Node's `extname`: a leading dot alone is not an extension (`.env` has none).
    let extension = match name.rfind('.') {
        Some(0) | None => "",
        Some(i) => &name[i + 1..],
    };
    let mut hasher = blake3::Hasher::new();
    hasher.update(
        base64::engine::general_purpose::STANDARD
            .encode(content)
            .as_bytes(),
    );
    hasher.update(extension.as_bytes());
    hasher.finalize().to_hex()[..32].to_owned()
}

/// The `Content-Type` Pages serves an asset with (sent as its metadata).
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit('.').next().unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" | "mjs" | "cjs" => "application/javascript",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}

/// One asset: its path, hash and where its bytes are.
#[derive(Debug, Clone)]
struct Asset<'a> {
    file: &'a SiteFile,
    hash: String,
}

/// Packs the missing files largest first into buckets, starting with one per upload
/// stream so a small site still uses them all (wrangler's `upload`).
fn buckets<'a>(mut missing: Vec<&'a Asset<'a>>) -> Vec<Vec<&'a Asset<'a>>> {
    missing.sort_by_key(|a| std::cmp::Reverse(a.file.size));
    let mut buckets: Vec<(Vec<&Asset>, u64)> = (0..BULK_UPLOAD_CONCURRENCY)
        .map(|_| (Vec::new(), MAX_BUCKET_SIZE))
        .collect();
    for (offset, asset) in missing.into_iter().enumerate() {
        let n = buckets.len();
        let slot = (0..n).map(|i| (i + offset) % n).find(|&i| {
            buckets[i].1 >= asset.file.size && buckets[i].0.len() < MAX_BUCKET_FILE_COUNT
        });
        match slot {
            Some(i) => {
                buckets[i].0.push(asset);
                buckets[i].1 -= asset.file.size;
            }
            None => buckets.push((vec![asset], MAX_BUCKET_SIZE.saturating_sub(asset.file.size))),
        }
    }
    buckets
        .into_iter()
        .map(|(files, _)| files)
        .filter(|b| !b.is_empty())
        .collect()
}

/// The value behind a lock; a panic elsewhere cannot leave it half-written (it is replaced
/// whole), so a poisoned lock is still read.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The marker a production deployment carries in its commit message.
fn verified_marker(staged_id: &str) -> String {
    format!("[shipline: verified as {staged_id}]")
}

/// The staged id a production deployment's commit message names.
fn verified_source(message: &str) -> Option<&str> {
    let rest = message.split("[shipline: verified as ").nth(1)?;
    let id = rest.split(']').next()?;
    (!id.is_empty()).then_some(id)
}

impl CloudflarePages {
    pub fn new(
        http: HttpClient,
        api: SafeUrl,
        token: Secret,
        account: String,
        project: String,
    ) -> CloudflarePages {
        CloudflarePages {
            http,
            api,
            token,
            account,
            project,
            prepared: Mutex::new(None),
        }
    }

    fn url(&self, path: &str) -> Result<SafeUrl, DeployError> {
        self.api
            .join_path(path)
            .map_err(|e| DeployError::Failed(format!("bad `CLOUDFLARE_API_BASE_URL`: {e}")))
    }

    fn project_url(&self, rest: &str) -> Result<SafeUrl, DeployError> {
        self.url(&format!(
            "accounts/{}/pages/projects/{}{rest}",
            self.account, self.project
        ))
    }

    /// A 404 on the project means the `project` (or `account`) input is wrong.
    fn host_error(&self, error: HttpError) -> DeployError {
        if error.status() == Some(404) {
            DeployError::Input(InputError::new(
                "project",
                format!(
                    "Cloudflare has no Pages project `{}` in account `{}` that this token can see: {error}",
                    self.project, self.account
                ),
            ))
        } else {
            DeployError::from_host("Cloudflare", error)
        }
    }

    /// The `result` of Cloudflare's `{success, errors, messages, result}` envelope.
    async fn call(&self, request: Request) -> Result<Value, DeployError> {
        let response = self
            .http
            .send_ok(request)
            .await
            .map_err(|e| self.host_error(e))?;
        let envelope: Value = response.json()?;
        if envelope["success"] == false {
            return Err(DeployError::Failed(format!(
                "Cloudflare answered `success: false`: {}",
                envelope["errors"]
            )));
        }
        Ok(envelope["result"].clone())
    }

    async fn project_info(&self) -> Result<Value, DeployError> {
        self.call(Request::get(self.project_url("")?).bearer(&self.token))
            .await
    }

    async fn upload_token(&self) -> Result<Secret, DeployError> {
        let result = self
            .call(Request::get(self.project_url("/upload-token")?).bearer(&self.token))
            .await?;
        result["jwt"]
            .as_str()
            .map(|jwt| Secret::new(jwt.to_owned()))
            .ok_or_else(|| {
                DeployError::Failed("Cloudflare's upload token answer has no `jwt`".into())
            })
    }

    /// An asset-store call with the upload token; an expired token (401) is fetched again
    /// once, as wrangler does.
    async fn assets_call(
        &self,
        jwt: &Mutex<Secret>,
        path: &str,
        body: &Value,
    ) -> Result<Value, DeployError> {
        let url = self.url(path)?;
        let mut refreshed = false;
        loop {
            let token = locked(jwt).clone();
            // Every asset call is keyed by content hash: sending it twice changes nothing.
            let request = Request::post(url.clone())
                .bearer(&token)
                .json(body)
                .idempotent();
            match self.http.send_ok(request).await {
                Ok(response) => {
                    let envelope: Value = response.json()?;
                    return Ok(envelope["result"].clone());
                }
                Err(e) if e.status() == Some(401) && !refreshed => {
                    refreshed = true;
                    let fresh = self.upload_token().await?;
                    *locked(jwt) = fresh;
                }
                Err(e) => return Err(DeployError::from_host("Cloudflare", e)),
            }
        }
    }

    async fn create_deployment(
        &self,
        prepared: &Prepared,
        branch: &str,
        commit_message: &str,
        sha: Option<&str>,
    ) -> Result<Value, DeployError> {
        let mut form = Multipart::new();
        let mut part = |name: &str, filename: Option<&str>, value: &[u8]| {
            form.part(name, filename, value)
                .map_err(DeployError::Failed)
        };
        part("manifest", None, prepared.manifest.as_bytes())?;
        part("branch", None, branch.as_bytes())?;
        if let Some(sha) = sha {
            part("commit_hash", None, sha.as_bytes())?;
        }
        part("commit_message", None, commit_message.as_bytes())?;
        part("commit_dirty", None, b"false")?;
        if let Some(headers) = &prepared.headers {
            part("_headers", Some("_headers"), headers)?;
        }
        if let Some(redirects) = &prepared.redirects {
            part("_redirects", Some("_redirects"), redirects)?;
        }
        // Not idempotent: each call is a new deployment. A lost answer leaves one more
        // preview or production deployment of the same content; nothing is served wrongly.
        let request = Request::post(self.project_url("/deployments")?)
            .bearer(&self.token)
            .multipart(form);
        self.call(request).await
    }

    async fn deployment(&self, id: &str) -> Result<Option<Value>, DeployError> {
        let response = self
            .http
            .send(
                Request::get(self.project_url(&format!("/deployments/{id}"))?).bearer(&self.token),
            )
            .await?;
        if response.status.as_u16() == 404 {
            return Ok(None);
        }
        let response = response
            .error_for_status()
            .map_err(|e| DeployError::from_host("Cloudflare", e))?;
        let envelope: Value = response.json()?;
        Ok(Some(envelope["result"].clone()))
    }

    /// Polls until the deployment's last stage, `deploy`, succeeded.
    async fn wait_deployed(
        &self,
        mut deployment: Value,
        deadline: Instant,
    ) -> Result<Value, DeployError> {
        let started = Instant::now();
        let id = deployment["id"].as_str().unwrap_or_default().to_owned();
        loop {
            if deployment["is_skipped"] == true {
                return Err(DeployError::Failed(format!(
                    "Cloudflare skipped deployment `{id}` ({}); with preview deployments disabled on the project, shipline cannot stage a production deploy for verification",
                    deployment["skip_reason"]
                        .as_str()
                        .unwrap_or("no reason given")
                )));
            }
            let stage = &deployment["latest_stage"];
            match (stage["name"].as_str(), stage["status"].as_str()) {
                (Some("deploy"), Some("success")) => return Ok(deployment),
                (name, Some("failure" | "canceled")) => {
                    return Err(DeployError::Failed(format!(
                        "Cloudflare deployment `{id}` failed in its `{}` stage",
                        name.unwrap_or("unknown")
                    )));
                }
                _ => {}
            }
            before_next_poll(started, deadline, || {
                format!("waiting for Cloudflare deployment `{id}`")
            })
            .await?;
            deployment = self
                .deployment(&id)
                .await?
                .ok_or_else(|| DeployError::Failed(format!("Cloudflare lost deployment `{id}`")))?;
        }
    }

    /// The production URL: the project's `pages.dev` subdomain, which always serves the
    /// production deployment (custom domains point at it).
    fn production_url(project: &Value) -> Option<String> {
        project["subdomain"]
            .as_str()
            .map(crate::provider::https_url)
    }

    /// The production deployment that was made from staged deployment `id`, newest first,
    /// page by page (at most [`TWIN_PAGES`] pages of 25: older releases are past any
    /// rollback anyone means).
    async fn production_twin(&self, id: &str) -> Result<Option<String>, DeployError> {
        let marker = verified_marker(id);
        for page in 1..=TWIN_PAGES {
            let mut url = self.project_url("/deployments")?.into_inner();
            url.query_pairs_mut()
                .append_pair("env", "production")
                .append_pair("page", &page.to_string())
                .append_pair("per_page", "25");
            let list = self
                .call(Request::get(SafeUrl::from(url)).bearer(&self.token))
                .await?;
            let list = list.as_array().cloned().unwrap_or_default();
            let found = list.iter().find_map(|d| {
                let message = d["deployment_trigger"]["metadata"]["commit_message"]
                    .as_str()
                    .unwrap_or_default();
                (message.contains(&marker) && d["latest_stage"]["status"] == "success")
                    .then(|| d["id"].as_str().unwrap_or_default().to_owned())
            });
            if found.is_some() || list.len() < 25 {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// The manifest and side files of `site`, hashing every asset once.
    #[allow(clippy::type_complexity)]
    fn prepare<'a>(
        request: &StageRequest<'a>,
    ) -> Result<(Prepared, Vec<(String, &'a SiteFile)>), DeployError> {
        let site: &'a Site = request.site;
        // Advanced-mode Functions would be dropped silently: say so instead.
        if let Some(worker) = site
            .files
            .iter()
            .find(|f| f.path == "_worker.js" || f.path.starts_with("_worker.js/"))
        {
            return Err(DeployError::Input(InputError::new(
                "directory",
                format!(
                    "`{}` is a Pages Function (advanced mode); shipline deploys static sites to Cloudflare Pages and would leave it out: deploy Functions with wrangler",
                    worker.path
                ),
            )));
        }
        let mut manifest = serde_json::Map::new();
        let mut assets = Vec::new();
        for file in &site.files {
            if NOT_ASSETS.contains(&file.path.as_str()) {
                continue;
            }
            let content = std::fs::read(&file.source).map_err(|e| {
                DeployError::Failed(format!("could not read `{}`: {e}", file.source.display()))
            })?;
            let hash = asset_hash(&content, &file.path);
            manifest.insert(format!("/{}", file.path), Value::from(hash.clone()));
            assets.push((hash, file));
        }
        let read = |name: &str| -> Result<Option<Bytes>, DeployError> {
            site.get(name)
                .map(|f| {
                    std::fs::read(&f.source).map(Bytes::from).map_err(|e| {
                        DeployError::Failed(format!("could not read `{}`: {e}", f.source.display()))
                    })
                })
                .transpose()
        };
        let redirects = match read("_redirects")? {
            Some(own) => Some(own),
            // Client-side routes get `index.html`; assets that exist are served first.
            None if request.spa => Some(Bytes::from_static(b"/*    /index.html    200\n")),
            None => None,
        };
        let sha = request
            .git
            .sha
            .as_deref()
            .map(|s| s.chars().take(7).collect::<String>())
            .unwrap_or_else(|| "local".into());
        Ok((
            Prepared {
                manifest: Value::Object(manifest).to_string(),
                redirects,
                headers: read("_headers")?,
                commit_message: format!("shipline {} {sha}", request.fingerprint()),
            },
            assets,
        ))
    }
}

impl Provider for CloudflarePages {
    fn name(&self) -> &'static str {
        "cloudflare-pages"
    }

    /// "Pages supports up to 20,000 files per deployment" (developers.cloudflare.com, Pages limits).
    fn file_limit(&self) -> Option<usize> {
        Some(20_000)
    }

    /// "The maximum file size for a single Cloudflare Pages site asset is 25 MiB."
    fn file_size_limit(&self) -> Option<u64> {
        Some(25 * 1024 * 1024)
    }

    async fn stage(&self, request: &StageRequest<'_>) -> Result<Staged, DeployError> {
        let project = self.project_info().await?;
        let production_branch = project["production_branch"].as_str().unwrap_or("main");
        let (prepared, assets) = Self::prepare(request)?;
        let assets: Vec<Asset> = assets
            .into_iter()
            .map(|(hash, file)| Asset { file, hash })
            .collect();
        let hashes: Vec<&str> = assets.iter().map(|a| a.hash.as_str()).collect();

        request.remaining("asking Cloudflare which files it lacks")?;
        let jwt = Mutex::new(self.upload_token().await?);
        let missing = self
            .assets_call(
                &jwt,
                "pages/assets/check-missing",
                &json!({ "hashes": hashes }),
            )
            .await?;
        let missing: std::collections::HashSet<&str> = missing
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // Two files of equal content and extension share a hash: sent once.
        let mut sent = std::collections::HashSet::new();
        let todo: Vec<&Asset> = assets
            .iter()
            .filter(|a| missing.contains(a.hash.as_str()) && sent.insert(a.hash.as_str()))
            .collect();
        let files_uploaded = todo.len();
        let bytes_uploaded: u64 = todo.iter().map(|a| a.file.size).sum();
        request.progress.expect(files_uploaded, bytes_uploaded);
        let jwt = &jwt;
        for_each_concurrent(
            buckets(todo),
            BULK_UPLOAD_CONCURRENCY,
            |bucket| async move {
                request.remaining("uploading files")?;
                // Read only when sent: at most three buckets of 40 MiB are in memory.
                let mut payload = Vec::with_capacity(bucket.len());
                let mut size = 0;
                for asset in &bucket {
                    let content = std::fs::read(&asset.file.source).map_err(|e| {
                        DeployError::Failed(format!(
                            "could not read `{}`: {e}",
                            asset.file.source.display()
                        ))
                    })?;
                    size += asset.file.size;
                    payload.push(json!({
                        "key": asset.hash,
                        "value": base64::engine::general_purpose::STANDARD.encode(&content),
                        "metadata": { "contentType": content_type(&asset.file.path) },
                        "base64": true,
                    }));
                }
                self.assets_call(jwt, "pages/assets/upload", &Value::Array(payload))
                    .await?;
                request.progress.uploaded(size);
                Ok(())
            },
        )
        .await?;
        // Marks every hash as recently used, so the store keeps what this deployment serves.
        self.assets_call(
            jwt,
            "pages/assets/upsert-hashes",
            &json!({ "hashes": hashes }),
        )
        .await?;

        let branch = match request.pull_request {
            Some(n) => format!("pr-{n}"),
            None if request.environment == crate::Environment::Production => {
                STAGING_BRANCH.to_owned()
            }
            None => request
                .git
                .branch
                .clone()
                .filter(|b| b != production_branch)
                .unwrap_or_else(|| STAGING_BRANCH.to_owned()),
        };
        request.remaining("creating the deployment")?;
        let created = self
            .create_deployment(
                &prepared,
                &branch,
                &prepared.commit_message,
                request.git.sha.as_deref(),
            )
            .await?;
        let deployed = self.wait_deployed(created, request.deadline).await?;
        *locked(&self.prepared) = Some(prepared);
        let id = deployed["id"].as_str().unwrap_or_default().to_owned();
        Ok(Staged {
            url: deployed["url"].as_str().unwrap_or_default().to_owned(),
            inspector_url: Some(format!(
                "https://dash.cloudflare.com/{}/pages/view/{}/{id}",
                self.account, self.project
            )),
            files_uploaded,
            bytes_uploaded,
            site_url: Self::production_url(&project),
            site_name: Some(self.project.clone()),
            alias: deployed["aliases"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .map(str::to_owned),
            id,
        })
    }

    async fn promote(
        &self,
        staged: &Staged,
        request: &StageRequest<'_>,
    ) -> Result<String, DeployError> {
        let project = self.project_info().await?;
        let branch = project["production_branch"]
            .as_str()
            .unwrap_or("main")
            .to_owned();
        let prepared = locked(&self.prepared)
            .clone()
            .ok_or_else(|| DeployError::Failed("promote before stage".into()))?;
        let message = format!(
            "{} {}",
            prepared.commit_message,
            verified_marker(&staged.id)
        );
        let created = self
            .create_deployment(&prepared, &branch, &message, request.git.sha.as_deref())
            .await?;
        self.wait_deployed(created, request.deadline).await?;
        Ok(Self::production_url(&project)
            .or_else(|| staged.site_url.clone())
            .unwrap_or_else(|| staged.url.clone()))
    }

    /// The id records know production by: the staged deployment the serving one was made
    /// from, or the serving one itself when shipline did not make it.
    async fn live(&self) -> Result<Option<String>, DeployError> {
        let project = self.project_info().await?;
        let canonical = &project["canonical_deployment"];
        let message = canonical["deployment_trigger"]["metadata"]["commit_message"]
            .as_str()
            .unwrap_or_default();
        Ok(verified_source(message)
            .or_else(|| canonical["id"].as_str())
            .map(str::to_owned))
    }

    async fn find(&self, id: &str) -> Result<Option<Switch>, DeployError> {
        let Some(deployment) = self.deployment(id).await? else {
            return Ok(None);
        };
        if deployment["latest_stage"]["status"] != "success" {
            return Ok(None);
        }
        if deployment["environment"] == "production" {
            return Ok(Some(Switch::Rollback));
        }
        // A staged deployment: production goes back to the deployment made from it.
        Ok(self.production_twin(id).await?.map(|_| Switch::Rollback))
    }

    async fn switch_to(
        &self,
        id: &str,
        _how: Switch,
        _reason: &str,
        _deadline: Instant,
    ) -> Result<String, DeployError> {
        let target = match self.deployment(id).await? {
            Some(d) if d["environment"] == "production" => id.to_owned(),
            _ => self.production_twin(id).await?.ok_or_else(|| {
                DeployError::Failed(format!(
                    "deployment `{id}` never served production on Cloudflare Pages, and Pages rolls back only to production deployments"
                ))
            })?,
        };
        // Rolling back to the deployment that already serves leaves it serving.
        let request = Request::post(self.project_url(&format!("/deployments/{target}/rollback"))?)
            .bearer(&self.token)
            .idempotent();
        self.call(request).await?;
        let project = self.project_info().await?;
        Self::production_url(&project).ok_or_else(|| {
            DeployError::Failed("Cloudflare's project answer has no `subdomain`".into())
        })
    }

    async fn alias_preview(
        &self,
        staged: &Staged,
        _pull_request: u64,
        _request: &StageRequest<'_>,
    ) -> Result<Option<String>, DeployError> {
        // The `pr-<n>` branch is the alias: `pr-<n>.<project>.pages.dev`.
        Ok(staged.alias.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_names_the_staged_deployment() {
        let message = format!("shipline abc 1234567 {}", verified_marker("d-1"));
        assert_eq!(verified_source(&message), Some("d-1"));
        assert_eq!(verified_source("a push from the dashboard"), None);
    }

    #[test]
    fn the_extension_is_part_of_the_hash() {
        let js = asset_hash(b"x", "assets/a.js");
        assert_eq!(js.len(), 32);
        assert_ne!(js, asset_hash(b"x", "assets/a.css"));
        assert_eq!(asset_hash(b"x", ".env"), asset_hash(b"x", "noext"));
    }

    #[test]
    fn buckets_hold_at_most_their_size_and_count() {
        let dir = std::path::PathBuf::from("/nonexistent");
        let files: Vec<SiteFile> = (0..7)
            .map(|i| SiteFile {
                path: format!("f{i}"),
                sha1: String::new(),
                size: if i < 2 { 30 * 1024 * 1024 } else { 10 },
                mode: 0o100644,
                source: dir.clone(),
            })
            .collect();
        let assets: Vec<Asset> = files
            .iter()
            .map(|file| Asset {
                file,
                hash: file.path.clone(),
            })
            .collect();
        let packed = buckets(assets.iter().collect());
        assert_eq!(packed.iter().map(Vec::len).sum::<usize>(), 7);
        for bucket in &packed {
            assert!(bucket.iter().map(|a| a.file.size).sum::<u64>() <= MAX_BUCKET_SIZE);
        }
        // The two large files went to different buckets, largest first.
        assert!(
            packed
                .iter()
                .all(|b| b.iter().filter(|a| a.file.size > 1024).count() <= 1)
        );
    }
}

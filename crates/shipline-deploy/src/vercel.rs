//! Vercel, the way `@vercel/client` deploys a prebuilt site: a Build Output API v3 tree made
//! here from the site directory (no Node, no `vercel build`), create first, upload only the
//! `missing_files`, poll until READY; production staged with `autoAssignCustomDomains: false`
//! and promoted after verification.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use shipline_core::{InputError, SafeUrl, Secret};
use shipline_http::{HttpClient, Request};

use crate::Environment;
use crate::provider::{
    Content, DeployError, Provider, StageRequest, Staged, Switch, for_each_concurrent, https_url,
    polling_delay,
};
use crate::site::sha1_hex;

/// `files` may hold at most 15,000 entries (the API's own validation message).
pub const FILE_LIMIT: usize = 15_000;
/// Rounds of create → upload the missing → create again before giving up.
pub const MAX_ROUNDS: usize = 5;
/// A `*.vercel.app` label may be at most 63 characters.
pub const LABEL_LIMIT: usize = 63;

pub struct Vercel {
    pub http: HttpClient,
    pub api: SafeUrl,
    pub token: Secret,
    pub project: String,
    pub team: Option<String>,
}

/// One entry of the deployment's `files`, with where its bytes come from.
struct Entry {
    file: String,
    sha: String,
    size: u64,
    mode: u32,
    content: Content,
}

impl Entry {
    fn is_site_file(&self) -> bool {
        self.file.starts_with(".vercel/output/static/")
    }
}

/// The Build Output API v3 config: with `spa`, a missing path falls back to `index.html`
/// after the filesystem had its chance.
pub fn output_config(spa: bool) -> Bytes {
    let config = if spa {
        json!({ "version": 3, "routes": [{ "handle": "filesystem" }, { "src": "/(.*)", "dest": "/index.html" }] })
    } else {
        json!({ "version": 3 })
    };
    Bytes::from(serde_json::to_vec(&config).unwrap_or_default())
}

/// `<name>-pr-<n>`, cut to 55 characters plus a hash when longer than a label may be.
pub fn preview_label(name: &str, pull_request: u64) -> String {
    let clean: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let label = format!("{}-pr-{pull_request}", clean.trim_matches('-'));
    if label.len() <= LABEL_LIMIT {
        return label;
    }
    format!(
        "{}-{}",
        label[..55].trim_end_matches('-'),
        &sha1_hex(label.as_bytes())[..6]
    )
}

impl Vercel {
    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<SafeUrl, DeployError> {
        let mut url = self
            .api
            .join_path(path)
            .map_err(|e| DeployError::Failed(format!("bad `VERCEL_API_URL`: {e}")))?
            .into_inner();
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            // Without the team every call acts on the personal account and 404s or 403s.
            if let Some(team) = &self.team {
                pairs.append_pair("teamId", team);
            }
        }
        Ok(SafeUrl::from(url))
    }

    fn entries(&self, request: &StageRequest<'_>) -> Vec<Entry> {
        let config = output_config(request.spa);
        let mut entries = vec![Entry {
            file: ".vercel/output/config.json".into(),
            sha: sha1_hex(&config),
            size: config.len() as u64,
            mode: 0o100644,
            content: Content::Bytes(config),
        }];
        entries.extend(request.site.files.iter().map(|f| Entry {
            file: format!(".vercel/output/static/{}", f.path),
            sha: f.sha1.clone(),
            size: f.size,
            mode: f.mode,
            content: Content::File(f.source.clone()),
        }));
        entries
    }

    /// The project's name (deployments are named after it), and a check that the token,
    /// team and project go together before anything is uploaded.
    async fn project_name(&self) -> Result<String, DeployError> {
        let project = self.project().await?;
        Ok(project["name"].as_str().unwrap_or(&self.project).to_owned())
    }

    fn body(&self, name: &str, entries: &[Entry], request: &StageRequest<'_>) -> Value {
        let files: Vec<Value> = entries
            .iter()
            .map(|e| json!({ "file": e.file, "sha": e.sha, "size": e.size, "mode": e.mode }))
            .collect();
        let mut meta = json!({ "shiplineArtifact": request.fingerprint() });
        let git = request.git;
        if let Some(sha) = &git.sha {
            meta["githubCommitSha"] = sha.clone().into();
        }
        if let Some(pr) = request.pull_request {
            meta["githubPrId"] = pr.to_string().into();
        }
        if let Some(repo) = &git.repository {
            meta["githubRepo"] = repo.clone().into();
        }
        let mut body = json!({
            "name": name,
            "project": self.project,
            "files": files,
            "meta": meta,
            "projectSettings": { "framework": null },
            "source": "cli",
        });
        if request.environment == Environment::Production {
            body["target"] = "production".into();
            // Staged: production domains stay where they are until `promote`.
            body["autoAssignCustomDomains"] = false.into();
        }
        if let Some(sha) = &git.sha {
            let server = git.server_url.as_deref().unwrap_or("https://github.com");
            let mut g =
                json!({ "commitSha": sha, "dirty": false, "ci": true, "ciType": "github-actions" });
            if let Some(branch) = &git.branch {
                g["commitRef"] = branch.clone().into();
            }
            if let Some(repo) = &git.repository {
                g["remoteUrl"] = format!("{}/{repo}", server.trim_end_matches('/')).into();
            }
            body["gitMetadata"] = g;
        }
        body
    }

    async fn upload(&self, entry: &Entry, request: &StageRequest<'_>) -> Result<(), DeployError> {
        request.remaining("uploading files")?;
        let bytes = entry.content.read()?;
        let size = bytes.len().to_string();
        let req = Request::post(self.url("v2/files", &[])?)
            .bearer(&self.token)
            .header("x-vercel-digest", &entry.sha)
            .header("x-now-digest", &entry.sha)
            .header("x-vercel-size", &size)
            .header("x-now-size", &size)
            .bytes(bytes, "application/octet-stream")
            // Keyed by its digest: sending it twice stores it once.
            .idempotent();
        self.http
            .send_ok(req)
            .await
            .map_err(|e| DeployError::from_upload("Vercel", &entry.file, entry.size, e))?;
        request.progress.uploaded(entry.size);
        Ok(())
    }

    /// Create, and upload what the answer lists as missing, until nothing is.
    async fn create(&self, request: &StageRequest<'_>) -> Result<(Value, usize, u64), DeployError> {
        let name = self.project_name().await?;
        let entries = self.entries(request);
        let body = self.body(&name, &entries, request);
        let mut by_sha: BTreeMap<&str, &Entry> = BTreeMap::new();
        for e in &entries {
            by_sha.entry(e.sha.as_str()).or_insert(e);
        }
        let url = self.url(
            "v13/deployments",
            &[("prebuilt", "1"), ("skipAutoDetectionConfirmation", "1")],
        )?;
        let (mut files, mut bytes) = (0usize, 0u64);
        for _round in 0..MAX_ROUNDS {
            request.remaining("creating the deployment")?;
            // Vercel answers an identical request with the same deployment, so a retry
            // after a lost answer cannot create a second one.
            let req = Request::post(url.clone())
                .bearer(&self.token)
                .json(&body)
                .idempotent();
            let response = self.http.send(req).await?;
            let answer: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            let missing: Vec<String> = match (&answer["error"]["code"], &answer["missing"]) {
                (code, _) if code == "missing_files" => strings(&answer["error"]["missing"]),
                // Seen from the real API: `missing` on a 2xx. Treated the same.
                (_, Value::Array(_)) if response.is_success() => strings(&answer["missing"]),
                _ if response.is_success() => return Ok((answer, files, bytes)),
                // An unknown project was caught by `project_name`; the rest is the host's.
                _ => {
                    return Err(match response.error_for_status() {
                        Err(e) => DeployError::from_host("Vercel", e),
                        Ok(_) => DeployError::Failed("Vercel answered without a deployment".into()),
                    });
                }
            };
            if missing.is_empty() {
                return Ok((answer, files, bytes));
            }
            let mut todo = Vec::new();
            for sha in &missing {
                let Some(entry) = by_sha.get(sha.as_str()) else {
                    return Err(DeployError::Failed(format!(
                        "Vercel asked for a file shipline did not offer (SHA-1 {sha})"
                    )));
                };
                todo.push(*entry);
            }
            request
                .progress
                .expect(todo.len(), todo.iter().map(|e| e.size).sum());
            // What is reported is the site's files ("4 of 3" read wrong): not our config.
            let site: Vec<&&Entry> = todo.iter().filter(|e| e.is_site_file()).collect();
            files += site.len();
            bytes += site.iter().map(|e| e.size).sum::<u64>();
            for_each_concurrent(todo, request.max_concurrency, |entry| {
                self.upload(entry, request)
            })
            .await?;
        }
        Err(DeployError::Failed(format!(
            "Vercel still reported missing files after {MAX_ROUNDS} rounds of uploads"
        )))
    }

    /// The project, with a 404 named as the `project` input.
    async fn project(&self) -> Result<Value, DeployError> {
        let req = Request::get(self.url(&format!("v9/projects/{}", self.project), &[])?)
            .bearer(&self.token);
        let response = self.http.send(req).await?;
        if response.status.as_u16() == 404 {
            return Err(DeployError::Input(InputError::new(
                "project",
                format!(
                    "Vercel has no project `{}` (in this `team`, if one is set)",
                    self.project
                ),
            )));
        }
        Ok(response
            .error_for_status()
            .map_err(|e| DeployError::from_host("Vercel", e))?
            .json()?)
    }

    /// Starts a promote or rollback job and waits for it, as the CLI does, every 250 ms
    /// (`rollback/status.ts`); returns the production URL.
    async fn alias_job(
        &self,
        id: &str,
        how: Switch,
        reason: Option<&str>,
        deadline: Instant,
    ) -> Result<String, DeployError> {
        let query: Vec<(&str, &str)> = reason.map(|r| ("description", r)).into_iter().collect();
        let path = match how {
            Switch::Promote => format!("v10/projects/{}/promote/{id}", self.project),
            Switch::Rollback => format!("v1/projects/{}/rollback/{id}", self.project),
        };
        // Asking for the same job twice leaves production on the same deployment, so it
        // may be retried.
        let req = Request::post(self.url(&path, &query)?)
            .bearer(&self.token)
            .json(&json!({}))
            .idempotent();
        self.http
            .send_ok(req)
            .await
            .map_err(|e| DeployError::from_host("Vercel", e))?;
        let word = how.word();
        loop {
            let project = self
                .get(
                    &format!("v9/projects/{}", self.project),
                    &[("rollbackInfo", "true")],
                )
                .await?;
            let job = &project["lastAliasRequest"];
            if job["toDeploymentId"] == id {
                match job["jobStatus"].as_str().unwrap_or_default() {
                    "succeeded" => {
                        if let Some(alias) = project["targets"]["production"]["alias"][0].as_str() {
                            return Ok(https_url(alias));
                        }
                        // No production domain named: the deployment's own URL serves it.
                        let own = self.get(&format!("v13/deployments/{id}"), &[]).await?;
                        return Ok(https_url(own["url"].as_str().unwrap_or_default()));
                    }
                    s @ ("failed" | "skipped") => {
                        let failed = self.failed_aliases().await;
                        return Err(DeployError::Failed(format!(
                            "Vercel's {word} to `{id}` {s}{failed}; production still serves what it served before"
                        )));
                    }
                    _ => {}
                }
            }
            if deadline.saturating_duration_since(Instant::now()) <= Duration::from_millis(250) {
                return Err(DeployError::Timeout(format!(
                    "waiting for Vercel's {word} to `{id}`"
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// `: aliases not moved: a, b` from the failed job's alias list (best effort: the job
    /// already failed, and that is the error to report).
    async fn failed_aliases(&self) -> String {
        let list = self
            .get(
                &format!("v1/projects/{}/promote/aliases", self.project),
                &[("failedOnly", "true"), ("limit", "20")],
            )
            .await;
        let names: Vec<String> = list
            .ok()
            .map(|l| {
                l["aliases"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["alias"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if names.is_empty() {
            String::new()
        } else {
            format!("; aliases not moved: {}", names.join(", "))
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, DeployError> {
        let req = Request::get(self.url(path, query)?).bearer(&self.token);
        let response = self
            .http
            .send_ok(req)
            .await
            .map_err(|e| DeployError::from_host("Vercel", e))?;
        Ok(response.json()?)
    }

    /// Polls until READY with its alias assigned; fails on ERROR, CANCELED or an alias error.
    async fn wait_ready(
        &self,
        mut deployment: Value,
        request: &StageRequest<'_>,
    ) -> Result<Value, DeployError> {
        let started = Instant::now();
        let id = deployment["id"].as_str().unwrap_or_default().to_owned();
        // As `@vercel/client`: the first status check right away, then the schedule.
        let mut first = true;
        loop {
            let state = deployment["readyState"].as_str().unwrap_or_default();
            let inspector = deployment["inspectorUrl"]
                .as_str()
                .unwrap_or("the Vercel dashboard");
            if state == "ERROR" || state == "CANCELED" || state.ends_with("_ERROR") {
                let why = deployment["errorMessage"]
                    .as_str()
                    .unwrap_or("no reason given");
                return Err(DeployError::Failed(format!(
                    "Vercel deployment `{id}` ended {state}: {why}; see {inspector}"
                )));
            }
            if !deployment["aliasError"].is_null() {
                return Err(DeployError::Failed(format!(
                    "Vercel deployment `{id}` could not be aliased: {}; see {inspector}",
                    deployment["aliasError"]["message"]
                        .as_str()
                        .unwrap_or("unknown alias error")
                )));
            }
            if state == "READY" && deployment["aliasAssigned"].as_bool().unwrap_or(false) {
                return Ok(deployment);
            }
            let wait = if first {
                Duration::ZERO
            } else {
                polling_delay(started.elapsed())
            };
            first = false;
            if request.remaining("waiting for Vercel to make the deployment READY")? <= wait {
                return Err(DeployError::Timeout(format!(
                    "waiting for Vercel deployment `{id}` (last state {state}; see {inspector})"
                )));
            }
            tokio::time::sleep(wait).await;
            deployment = self.get(&format!("v13/deployments/{id}"), &[]).await?;
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Provider for Vercel {
    fn name(&self) -> &'static str {
        "vercel"
    }

    fn file_limit(&self) -> Option<usize> {
        // One entry is ours: `config.json`.
        Some(FILE_LIMIT - 1)
    }

    fn file_size_limit(&self) -> Option<u64> {
        None
    }

    async fn stage(&self, request: &StageRequest<'_>) -> Result<Staged, DeployError> {
        let (created, files, bytes) = self.create(request).await?;
        let deployment = self.wait_ready(created, request).await?;
        let id = deployment["id"].as_str().unwrap_or_default().to_owned();
        let url = deployment["url"].as_str().unwrap_or_default();
        Ok(Staged {
            id,
            url: https_url(url),
            inspector_url: deployment["inspectorUrl"].as_str().map(str::to_owned),
            files_uploaded: files,
            bytes_uploaded: bytes,
            site_url: None,
            site_name: None,
            alias: None,
        })
    }

    async fn promote(
        &self,
        staged: &Staged,
        request: &StageRequest<'_>,
    ) -> Result<String, DeployError> {
        self.alias_job(&staged.id, Switch::Promote, None, request.deadline)
            .await
    }

    async fn live(&self) -> Result<Option<String>, DeployError> {
        let project = self.project().await?;
        Ok(project["targets"]["production"]["id"]
            .as_str()
            .map(str::to_owned))
    }

    async fn find(&self, id: &str) -> Result<Option<Switch>, DeployError> {
        let req =
            Request::get(self.url(&format!("v13/deployments/{id}"), &[])?).bearer(&self.token);
        let response = self.http.send(req).await?;
        if response.status.as_u16() == 404 {
            return Ok(None);
        }
        let d: Value = response
            .error_for_status()
            .map_err(|e| DeployError::from_host("Vercel", e))?
            .json()?;
        if d["readyState"] != "READY" {
            return Ok(None);
        }
        // Vercel rolls back only to a deployment that served production; one that was
        // staged and never promoted is promoted instead.
        Ok(Some(if d["readySubstate"] == "PROMOTED" {
            Switch::Rollback
        } else {
            Switch::Promote
        }))
    }

    async fn switch_to(
        &self,
        id: &str,
        how: Switch,
        reason: &str,
        deadline: Instant,
    ) -> Result<String, DeployError> {
        self.alias_job(id, how, Some(reason), deadline).await
    }

    async fn alias_preview(
        &self,
        staged: &Staged,
        pull_request: u64,
        _request: &StageRequest<'_>,
    ) -> Result<Option<String>, DeployError> {
        let deployment = self
            .get(&format!("v13/deployments/{}", staged.id), &[])
            .await?;
        let name = deployment["name"].as_str().unwrap_or(&self.project);
        let alias = format!("{}.vercel.app", preview_label(name, pull_request));
        let url = self.url(&format!("v2/deployments/{}/aliases", staged.id), &[])?;
        // Pointing an alias at the same deployment twice is a no-op.
        let req = Request::post(url)
            .bearer(&self.token)
            .json(&json!({ "alias": alias, "redirect": null }))
            .idempotent();
        self.http
            .send_ok(req)
            .await
            .map_err(|e| DeployError::from_host("Vercel", e))?;
        Ok(Some(https_url(&alias)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_in_63_characters() {
        assert_eq!(preview_label("WebApp", 42), "webapp-pr-42");
        let long = preview_label(&"a".repeat(80), 12345);
        assert!(long.len() <= LABEL_LIMIT, "{long}");
        assert_eq!(long.len(), 62);
        assert_ne!(long, preview_label(&"a".repeat(81), 12345));
    }

    #[test]
    fn the_spa_config_falls_back_to_index_html_after_the_filesystem() {
        let spa: Value = serde_json::from_slice(&output_config(true)).unwrap();
        assert_eq!(spa["version"], 3);
        assert_eq!(spa["routes"][0]["handle"], "filesystem");
        assert_eq!(spa["routes"][1]["dest"], "/index.html");
        let plain: Value = serde_json::from_slice(&output_config(false)).unwrap();
        assert_eq!(plain, json!({ "version": 3 }));
    }
}

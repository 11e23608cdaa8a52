//! The deployment record (ACTIONS.md): what was deployed where, read back by rollback,
//! notify and probe. In Actions it is a GitHub Deployment with `payload.shipline`; outside,
//! the same JSON in files.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shipline_core::time::now_rfc3339;
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, HttpError, Request};

/// `payload.shipline`, field for field as the contract names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub provider: String,
    pub provider_deployment_id: String,
    pub url: String,
    /// `production` or `preview/pr-<n>`.
    pub environment: String,
    pub git_sha: Option<String>,
    pub migration_version: Option<String>,
    pub artifact_sha256: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// A deployment status, as GitHub names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    InProgress,
    Success,
    Failure,
    Inactive,
}

impl State {
    /// GitHub's seven states folded into ours: `error` is a failure, `queued` and `pending`
    /// are still in progress.
    pub fn from_github(state: &str) -> Option<State> {
        Some(match state {
            "success" => State::Success,
            "failure" | "error" => State::Failure,
            "inactive" => State::Inactive,
            "in_progress" | "queued" | "pending" => State::InProgress,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::InProgress => "in_progress",
            State::Success => "success",
            State::Failure => "failure",
            State::Inactive => "inactive",
        }
    }
}

/// A status to set on a record.
#[derive(Debug, Clone)]
pub struct Status<'a> {
    pub state: State,
    pub description: &'a str,
    pub environment_url: Option<&'a str>,
    pub log_url: Option<&'a str>,
}

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "GitHub refused to write the deployment record (403): the token lacks `deployments: write`; add `permissions: {{ deployments: write }}` to the job (a fork's pull request never has it: see the fork pattern in docs/actions/deploy.md)"
    )]
    Forbidden,
    #[error("GitHub did not accept `github-token` (401): is it a token of this repository?")]
    Unauthorized,
    #[error("the deployment record needs `GITHUB_REPOSITORY` (owner/repo)")]
    NoRepository,
    #[error("the deployment record needs a commit: set `ref` or run in Actions (`GITHUB_SHA`)")]
    NoCommit,
    #[error(transparent)]
    Http(HttpError),
    #[error("could not write the record in `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<HttpError> for RecordError {
    fn from(e: HttpError) -> Self {
        match e.status() {
            Some(401) => RecordError::Unauthorized,
            Some(403) => RecordError::Forbidden,
            _ => RecordError::Http(e),
        }
    }
}

/// The id of a written record (a GitHub deployment id, or a file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordId(pub String);

/// A record's newest status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub state: State,
    pub description: String,
}

/// One deployment of an environment's history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub id: RecordId,
    /// `None`: not a shipline deployment (another tool made it).
    pub record: Option<Record>,
    /// Known without another call for file records; GitHub's is read on demand.
    pub latest: Option<Latest>,
}

/// GitHub Deployments of one repository.
#[derive(Debug, Clone)]
pub struct GitHubRecords {
    pub http: HttpClient,
    pub api: SafeUrl,
    pub token: Secret,
    pub owner: String,
    pub repo: String,
}

impl GitHubRecords {
    fn url(&self, path: &str) -> Result<SafeUrl, RecordError> {
        self.api
            .join_path(&format!("repos/{}/{}/{path}", self.owner, self.repo))
            .map_err(|e| RecordError::Http(HttpError::Build(format!("bad GitHub API URL: {e}"))))
    }

    fn request(&self, request: Request) -> Request {
        request
            .bearer(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }

    /// The deployment of the same commit, environment and host deployment, if one exists
    /// (a re-run adds statuses to it instead of a duplicate).
    async fn find(&self, record: &Record) -> Result<Option<u64>, RecordError> {
        let mut url = self.url("deployments")?.into_inner();
        url.query_pairs_mut()
            .append_pair("environment", &record.environment)
            .append_pair("per_page", "100");
        if let Some(sha) = &record.git_sha {
            url.query_pairs_mut().append_pair("sha", sha);
        }
        let response = self
            .http
            .send_ok(self.request(Request::get(SafeUrl::from(url))))
            .await?;
        let list: Vec<Value> = response.json()?;
        Ok(list.iter().find_map(|d| {
            let ours = &d["payload"]["shipline"];
            (ours["provider"] == record.provider.as_str()
                && ours["provider_deployment_id"] == record.provider_deployment_id.as_str())
            .then(|| d["id"].as_u64())
            .flatten()
        }))
    }

    /// Creates the deployment (or finds the one a previous attempt created).
    pub async fn create(&self, record: &Record, transient: bool) -> Result<RecordId, RecordError> {
        let sha = record.git_sha.clone().ok_or(RecordError::NoCommit)?;
        if let Some(id) = self.find(record).await? {
            return Ok(RecordId(id.to_string()));
        }
        let production = record.environment == "production";
        let body = json!({
            "ref": sha,
            "task": "deploy",
            "environment": record.environment,
            "description": format!("shipline: {} {}", record.provider, record.provider_deployment_id),
            // Commit statuses are not ours to wait for: the workflow decided to deploy.
            "required_contexts": [],
            "auto_merge": false,
            "transient_environment": transient,
            "production_environment": production,
            "payload": { "shipline": record },
        });
        let response = self
            .http
            .send_ok(self.request(Request::post(self.url("deployments")?).json(&body)))
            .await?;
        let created: Value = response.json()?;
        created["id"]
            .as_u64()
            .map(|id| RecordId(id.to_string()))
            .ok_or_else(|| {
                RecordError::Http(HttpError::Decode {
                    request: "POST deployments".into(),
                    message: "no `id` in the answer".into(),
                })
            })
    }

    /// One page of the environment's deployments, newest first, and the next page.
    pub async fn history_page(
        &self,
        environment: &str,
        page: Option<SafeUrl>,
    ) -> Result<(Vec<HistoryEntry>, Option<SafeUrl>), RecordError> {
        let url = match page {
            Some(url) => url,
            None => {
                let mut url = self.url("deployments")?.into_inner();
                url.query_pairs_mut()
                    .append_pair("environment", environment)
                    .append_pair("per_page", "100");
                SafeUrl::from(url)
            }
        };
        let response = self.http.send_ok(self.request(Request::get(url))).await?;
        let list: Vec<Value> = response.json()?;
        let entries = list
            .iter()
            .filter_map(|d| {
                let id = d["id"].as_u64()?;
                Some(HistoryEntry {
                    id: RecordId(id.to_string()),
                    // Another tool's deployment has no `payload.shipline`: skipped by readers.
                    record: serde_json::from_value(d["payload"]["shipline"].clone()).ok(),
                    latest: None,
                })
            })
            .collect();
        Ok((entries, response.next_page()))
    }

    /// The newest status of a deployment (GitHub lists them newest first).
    pub async fn latest_status(&self, id: &RecordId) -> Result<Option<Latest>, RecordError> {
        let mut url = self
            .url(&format!("deployments/{}/statuses", id.0))?
            .into_inner();
        url.query_pairs_mut().append_pair("per_page", "1");
        let list: Vec<Value> = self
            .http
            .send_ok(self.request(Request::get(SafeUrl::from(url))))
            .await?
            .json()?;
        Ok(list.first().and_then(|s| {
            Some(Latest {
                state: State::from_github(s["state"].as_str()?)?,
                description: s["description"].as_str().unwrap_or_default().to_owned(),
            })
        }))
    }

    pub async fn set_status(&self, id: &RecordId, status: &Status<'_>) -> Result<(), RecordError> {
        let mut body = json!({
            "state": status.state.as_str(),
            "description": truncate(status.description, 140),
            // Production keeps its history; older previews are retired by `retire_older`.
            "auto_inactive": false,
        });
        if let Some(url) = status.environment_url {
            body["environment_url"] = url.into();
        }
        if let Some(url) = status.log_url {
            body["log_url"] = url.into();
        }
        let url = self.url(&format!("deployments/{}/statuses", id.0))?;
        self.http
            .send_ok(self.request(Request::post(url).json(&body)))
            .await?;
        Ok(())
    }

    /// Sets `inactive` on the environment's other deployments whose latest status is not
    /// already `inactive` (GitHub's `auto_inactive` skips transient environments, which is
    /// what previews are). Returns how many were retired.
    pub async fn retire_older(
        &self,
        environment: &str,
        keep: &RecordId,
    ) -> Result<usize, RecordError> {
        let mut url = self.url("deployments")?.into_inner();
        url.query_pairs_mut()
            .append_pair("environment", environment)
            .append_pair("per_page", "100");
        let list: Vec<Value> = self
            .http
            .send_ok(self.request(Request::get(SafeUrl::from(url))))
            .await?
            .json()?;
        let mut retired = 0;
        for d in list {
            let Some(id) = d["id"].as_u64() else { continue };
            if id.to_string() == keep.0 {
                continue;
            }
            let mut statuses_url = self
                .url(&format!("deployments/{id}/statuses"))?
                .into_inner();
            statuses_url.query_pairs_mut().append_pair("per_page", "1");
            let latest: Vec<Value> = self
                .http
                .send_ok(self.request(Request::get(SafeUrl::from(statuses_url))))
                .await?
                .json()?;
            if latest.first().is_some_and(|s| s["state"] == "inactive") {
                continue;
            }
            self.set_status(
                &RecordId(id.to_string()),
                &Status {
                    state: State::Inactive,
                    description: "superseded by a newer preview",
                    environment_url: None,
                    log_url: None,
                },
            )
            .await?;
            retired += 1;
        }
        Ok(retired)
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Records as JSON files: `<dir>/<environment>/<provider deployment id>.json`.
#[derive(Debug, Clone)]
pub struct FsRecords {
    pub dir: PathBuf,
}

/// A record file: the record, and the statuses it went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsEntry {
    pub shipline: Record,
    pub state: State,
    pub description: String,
    pub environment_url: Option<String>,
    pub log_url: Option<String>,
    pub updated_at: String,
}

impl FsRecords {
    fn path(&self, record: &Record) -> PathBuf {
        let env = record.environment.replace('/', "__");
        let id: String = record
            .provider_deployment_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(env).join(format!("{id}.json"))
    }

    pub fn create(&self, record: &Record) -> Result<RecordId, RecordError> {
        let path = self.path(record);
        if !path.exists() {
            self.write(
                &path,
                &FsEntry {
                    shipline: record.clone(),
                    state: State::InProgress,
                    description: String::new(),
                    environment_url: None,
                    log_url: None,
                    updated_at: record.created_at.clone(),
                },
            )?;
        }
        Ok(RecordId(path.display().to_string()))
    }

    pub fn set_status(
        &self,
        id: &RecordId,
        status: &Status<'_>,
        now: &str,
    ) -> Result<(), RecordError> {
        let path = PathBuf::from(&id.0);
        let mut entry = read_entry(&path)?;
        entry.state = status.state;
        entry.description = status.description.to_owned();
        entry.environment_url = status.environment_url.map(str::to_owned);
        entry.log_url = status.log_url.map(str::to_owned);
        entry.updated_at = now.to_owned();
        self.write(&path, &entry)
    }

    /// Every record of `environment`, newest first.
    pub fn list(&self, environment: &str) -> Result<Vec<FsEntry>, RecordError> {
        let dir = self.dir.join(environment.replace('/', "__"));
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => return Err(io_error(&dir, source)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(read_entry(&path)?);
            }
        }
        out.sort_by(|a, b| b.shipline.created_at.cmp(&a.shipline.created_at));
        Ok(out)
    }

    /// The environment's records as history entries, newest first.
    pub fn history(&self, environment: &str) -> Result<Vec<HistoryEntry>, RecordError> {
        Ok(self
            .list(environment)?
            .into_iter()
            .map(|entry| HistoryEntry {
                id: RecordId(self.path(&entry.shipline).display().to_string()),
                latest: Some(Latest {
                    state: entry.state,
                    description: entry.description,
                }),
                record: Some(entry.shipline),
            })
            .collect())
    }

    /// Other records of the environment become `inactive` (superseded previews).
    pub fn retire_older(
        &self,
        environment: &str,
        keep: &RecordId,
        now: &str,
    ) -> Result<usize, RecordError> {
        let mut retired = 0;
        for entry in self.list(environment)? {
            let path = self.path(&entry.shipline);
            if path.display().to_string() == keep.0 || entry.state == State::Inactive {
                continue;
            }
            let id = RecordId(path.display().to_string());
            self.set_status(
                &id,
                &Status {
                    state: State::Inactive,
                    description: "superseded by a newer preview",
                    environment_url: None,
                    log_url: None,
                },
                now,
            )?;
            retired += 1;
        }
        Ok(retired)
    }

    fn write(&self, path: &Path, entry: &FsEntry) -> Result<(), RecordError> {
        write_json_atomically(path, &serde_json::to_value(entry).unwrap_or_default())
    }
}

fn io_error(path: &Path, source: std::io::Error) -> RecordError {
    RecordError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read_entry(path: &Path) -> Result<FsEntry, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_error(path, e))?;
    serde_json::from_str(&text).map_err(|e| io_error(path, std::io::Error::other(e)))
}

/// Write to a temporary file beside the target, then rename: a reader (or a crash) sees the
/// old file or the new one, never half of one.
pub fn write_json_atomically(path: &Path, value: &Value) -> Result<(), RecordError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("record"),
        std::process::id()
    ));
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    std::fs::write(&tmp, text).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

/// Where this run's records go.
#[derive(Debug, Clone)]
pub enum Records {
    GitHub(GitHubRecords),
    Fs(FsRecords),
}

impl Records {
    pub async fn create(&self, record: &Record, transient: bool) -> Result<RecordId, RecordError> {
        match self {
            Records::GitHub(g) => g.create(record, transient).await,
            Records::Fs(f) => f.create(record),
        }
    }

    pub async fn set_status(&self, id: &RecordId, status: &Status<'_>) -> Result<(), RecordError> {
        match self {
            Records::GitHub(g) => g.set_status(id, status).await,
            Records::Fs(f) => f.set_status(id, status, &now_rfc3339()),
        }
    }

    pub async fn retire_older(
        &self,
        environment: &str,
        keep: &RecordId,
    ) -> Result<usize, RecordError> {
        match self {
            Records::GitHub(g) => g.retire_older(environment, keep).await,
            Records::Fs(f) => f.retire_older(environment, keep, &now_rfc3339()),
        }
    }

    /// The environment's deployments, newest first, read a page at a time as needed.
    pub fn history(&self, environment: &str) -> History<'_> {
        History {
            records: self,
            environment: environment.to_owned(),
            buffer: std::collections::VecDeque::new(),
            next: None,
            started: false,
            pages: 0,
        }
    }

    /// The entry's newest status: one call for a GitHub record, none for a file.
    pub async fn latest(&self, entry: &HistoryEntry) -> Result<Option<Latest>, RecordError> {
        match (&entry.latest, self) {
            (Some(latest), _) => Ok(Some(latest.clone())),
            (None, Records::GitHub(g)) => g.latest_status(&entry.id).await,
            (None, Records::Fs(_)) => Ok(None),
        }
    }

    /// The id to show as `github-deployment-id` (empty for file records).
    pub fn github_id(&self, id: &RecordId) -> String {
        match self {
            Records::GitHub(_) => id.0.clone(),
            Records::Fs(_) => String::new(),
        }
    }
}

/// A walk through an environment's history, newest first.
pub struct History<'a> {
    records: &'a Records,
    environment: String,
    buffer: std::collections::VecDeque<HistoryEntry>,
    next: Option<SafeUrl>,
    started: bool,
    /// Pages read so far (GitHub: list calls made).
    pub pages: usize,
}

impl History<'_> {
    pub async fn next(&mut self) -> Result<Option<HistoryEntry>, RecordError> {
        loop {
            if let Some(entry) = self.buffer.pop_front() {
                return Ok(Some(entry));
            }
            if self.started && self.next.is_none() {
                return Ok(None);
            }
            let first = !self.started;
            self.started = true;
            self.pages += 1;
            match self.records {
                Records::Fs(f) => {
                    if first {
                        self.buffer.extend(f.history(&self.environment)?);
                    }
                }
                Records::GitHub(g) => {
                    let (entries, next) =
                        g.history_page(&self.environment, self.next.take()).await?;
                    self.buffer.extend(entries);
                    self.next = next;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, created: &str) -> Record {
        Record {
            provider: "fs".into(),
            provider_deployment_id: id.into(),
            url: "http://127.0.0.1/".into(),
            environment: "preview/pr-7".into(),
            git_sha: Some("abc".into()),
            migration_version: None,
            artifact_sha256: "00".into(),
            created_at: created.into(),
        }
    }

    #[test]
    fn fs_records_are_created_once_updated_and_retired() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsRecords {
            dir: dir.path().to_path_buf(),
        };
        let a = store.create(&record("r1", "2026-01-01T00:00:00Z")).unwrap();
        let again = store.create(&record("r1", "2026-01-01T00:00:09Z")).unwrap();
        assert_eq!(a, again);
        let ok = Status {
            state: State::Success,
            description: "live",
            environment_url: Some("http://x/"),
            log_url: None,
        };
        store.set_status(&a, &ok, "2026-01-01T00:01:00Z").unwrap();
        let b = store.create(&record("r2", "2026-01-02T00:00:00Z")).unwrap();
        store.set_status(&b, &ok, "2026-01-02T00:01:00Z").unwrap();
        assert_eq!(
            store
                .retire_older("preview/pr-7", &b, "2026-01-02T00:02:00Z")
                .unwrap(),
            1
        );
        let list = store.list("preview/pr-7").unwrap();
        let states: Vec<_> = list
            .iter()
            .map(|e| (e.shipline.provider_deployment_id.as_str(), e.state))
            .collect();
        assert_eq!(states, [("r2", State::Success), ("r1", State::Inactive)]);
        assert!(dir.path().join("preview__pr-7/r1.json").is_file());
    }
}

//! A self-hosted site: nginx or caddy serves `<target-dir>/current`, a symlink to one of
//! `<target-dir>/releases/<id>/`.
//!
//! Crash safety comes from two renames: a release is copied into a staging directory and
//! renamed into `releases/` only when complete, and `current` is switched by renaming a new
//! symlink over it. Killed at any point, `current` still names a complete release.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shipline_core::time::now_rfc3339_millis;
use shipline_hosting::record::write_json_atomically;

use std::time::Instant;

use crate::provider::{DeployError, Provider, StageRequest, Staged, Switch};

pub struct FsHost {
    pub target_dir: PathBuf,
    /// Releases kept, the live one included.
    pub keep: usize,
    /// Where `current` is served, for the outputs and the record.
    pub site_url: Option<String>,
}

/// `releases/<id>.json`: the record beside the release.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleaseRecord {
    pub id: String,
    pub artifact_sha256: String,
    pub git_sha: Option<String>,
    pub created_at: String,
    /// When it last became `current` (what `keep` counts by).
    pub deployed_at: Option<String>,
    /// Path → SHA-1: what the next release hard-links against.
    pub files: BTreeMap<String, String>,
}

fn io(path: &Path, e: std::io::Error) -> DeployError {
    DeployError::Failed(format!("`{}`: {e}", path.display()))
}

impl FsHost {
    pub fn releases(&self) -> PathBuf {
        self.target_dir.join("releases")
    }

    pub fn current(&self) -> PathBuf {
        self.target_dir.join("current")
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.releases().join(format!("{id}.json"))
    }

    pub fn read_record(&self, id: &str) -> Option<ReleaseRecord> {
        let text = std::fs::read_to_string(self.record_path(id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write_record(&self, record: &ReleaseRecord) -> Result<(), DeployError> {
        let value = serde_json::to_value(record).unwrap_or_default();
        write_json_atomically(&self.record_path(&record.id), &value)
            .map_err(|e| DeployError::Failed(e.to_string()))
    }

    /// The release `current` points at.
    pub fn current_id(&self) -> Option<String> {
        let target = std::fs::read_link(self.current()).ok()?;
        target.file_name()?.to_str().map(str::to_owned)
    }

    /// Staging directories left by a killed run (their process is gone).
    fn clean_stale_staging(&self) {
        let Ok(entries) = std::fs::read_dir(self.releases()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(".staging-") else {
                continue;
            };
            let pid = rest.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|p| {
                p == std::process::id() || Path::new(&format!("/proc/{p}")).exists()
            });
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Switches `link` to `releases/<id>` with one rename.
    fn switch(&self, link: &Path, id: &str) -> Result<(), DeployError> {
        if link.exists() && !link.is_symlink() {
            return Err(DeployError::Failed(format!(
                "`{}` is a real directory, not a symlink; move it into `releases/` once, then deploy",
                link.display()
            )));
        }
        let dir = link.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let relative = if dir == self.target_dir {
            PathBuf::from("releases").join(id)
        } else {
            PathBuf::from("../releases").join(id)
        };
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            link.file_name().and_then(|n| n.to_str()).unwrap_or("link"),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        symlink(&relative, &tmp).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, link).map_err(|e| io(link, e))?;
        sync_dir(dir);
        Ok(())
    }

    /// Drops releases beyond `keep`, oldest first; never the live one or one a preview uses.
    fn prune(&self, live: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.releases()) else {
            return Vec::new();
        };
        let in_use: Vec<String> = std::fs::read_dir(self.target_dir.join("previews"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .filter_map(|t| t.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .collect();
        let mut releases: Vec<ReleaseRecord> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".json")
                    .and_then(|id| self.read_record(id))
            })
            .collect();
        releases.sort_by(|a, b| {
            b.deployed_at
                .cmp(&a.deployed_at)
                .then(b.created_at.cmp(&a.created_at))
        });
        let mut removed = Vec::new();
        for old in releases.iter().skip(self.keep.max(1)) {
            if old.id == live || in_use.contains(&old.id) {
                continue;
            }
            // The record goes last: a release without a record is removed again next time.
            if std::fs::remove_dir_all(self.releases().join(&old.id)).is_ok()
                || !self.releases().join(&old.id).exists()
            {
                let _ = std::fs::remove_file(self.record_path(&old.id));
                removed.push(old.id.clone());
            }
        }
        removed
    }

    fn url_of(&self, id: &str) -> String {
        match &self.site_url {
            Some(url) => url.clone(),
            None => format!("file://{}", self.releases().join(id).display()),
        }
    }

    /// Points `current` at the release and stamps when; returns where it is served.
    fn make_current(&self, id: &str) -> Result<String, DeployError> {
        self.switch(&self.current(), id)?;
        if let Some(mut record) = self.read_record(id) {
            record.deployed_at = Some(now_rfc3339_millis());
            self.write_record(&record)?;
        }
        Ok(match &self.site_url {
            Some(url) => url.clone(),
            None => format!("file://{}", self.current().display()),
        })
    }

    pub fn release_dir(&self, id: &str) -> PathBuf {
        self.releases().join(id)
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "the fs provider needs symlinks (Linux, macOS)",
    ))
}

/// Makes a rename durable (best effort: not every filesystem allows opening a directory).
fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

impl Provider for FsHost {
    fn name(&self) -> &'static str {
        "fs"
    }

    fn file_limit(&self) -> Option<usize> {
        None
    }

    fn file_size_limit(&self) -> Option<u64> {
        None
    }

    async fn stage(&self, request: &StageRequest<'_>) -> Result<Staged, DeployError> {
        let releases = self.releases();
        std::fs::create_dir_all(&releases).map_err(|e| io(&releases, e))?;
        self.clean_stale_staging();
        let id = request.fingerprint();
        let release = releases.join(&id);
        let now = now_rfc3339_millis();
        let files: BTreeMap<String, String> = request
            .site
            .files
            .iter()
            .map(|f| (f.path.clone(), f.sha1.clone()))
            .collect();
        let record = ReleaseRecord {
            id: id.clone(),
            artifact_sha256: request.site.artifact_sha256.clone(),
            git_sha: request.git.sha.clone(),
            created_at: now,
            deployed_at: None,
            files,
        };
        if release.is_dir() {
            // Complete by construction (renamed into place whole); a crash may have come
            // before its record was written.
            if self.read_record(&id).is_none() {
                self.write_record(&record)?;
            }
            return Ok(Staged {
                id: id.clone(),
                url: self.url_of(&id),
                inspector_url: Some(release.display().to_string()),
                files_uploaded: 0,
                bytes_uploaded: 0,
                site_url: self.site_url.clone(),
                site_name: None,
                alias: None,
            });
        }
        // Content of the live release, by digest: unchanged files become hard links.
        let mut previous: HashMap<String, PathBuf> = HashMap::new();
        if let Some(live) = self.current_id()
            && let Some(rec) = self.read_record(&live)
        {
            for (path, sha) in rec.files {
                previous
                    .entry(sha)
                    .or_insert_with(|| releases.join(&live).join(path));
            }
        }
        let staging = releases.join(format!(".staging-{id}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let (mut copied, mut bytes) = (0usize, 0u64);
        request
            .progress
            .expect(request.site.files.len(), request.site.total_bytes);
        for file in &request.site.files {
            request.remaining("copying the release")?;
            let dest = staging.join(&file.path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            let linked = previous
                .get(&file.sha1)
                .is_some_and(|src| std::fs::hard_link(src, &dest).is_ok());
            if !linked {
                std::fs::copy(&file.source, &dest).map_err(|e| io(&dest, e))?;
                copied += 1;
                bytes += file.size;
                request.progress.uploaded(file.size);
            }
        }
        std::fs::rename(&staging, &release).map_err(|e| io(&release, e))?;
        sync_dir(&releases);
        self.write_record(&record)?;
        Ok(Staged {
            id: id.clone(),
            url: self.url_of(&id),
            inspector_url: Some(release.display().to_string()),
            files_uploaded: copied,
            bytes_uploaded: bytes,
            site_url: self.site_url.clone(),
            site_name: None,
            alias: None,
        })
    }

    fn local_release(&self, staged: &Staged) -> Option<PathBuf> {
        Some(self.release_dir(&staged.id))
    }

    async fn promote(
        &self,
        staged: &Staged,
        _request: &StageRequest<'_>,
    ) -> Result<String, DeployError> {
        let url = self.make_current(&staged.id)?;
        let removed = self.prune(&staged.id);
        if !removed.is_empty() {
            tracing::info!(?removed, "pruned old releases");
        }
        Ok(url)
    }

    async fn live(&self) -> Result<Option<String>, DeployError> {
        Ok(self.current_id())
    }

    async fn find(&self, id: &str) -> Result<Option<Switch>, DeployError> {
        // A release directory exists only complete (renamed into place whole).
        let complete = !id.is_empty()
            && !id.contains(['/', '\\'])
            && !id.starts_with('.')
            && self.release_dir(id).is_dir();
        Ok(complete.then_some(Switch::Rollback))
    }

    async fn switch_to(
        &self,
        id: &str,
        _how: Switch,
        _reason: &str,
        _deadline: Instant,
    ) -> Result<String, DeployError> {
        // No pruning here: a rollback keeps every release it might be undone to.
        self.make_current(id)
    }

    async fn alias_preview(
        &self,
        staged: &Staged,
        pull_request: u64,
        _request: &StageRequest<'_>,
    ) -> Result<Option<String>, DeployError> {
        let link = self
            .target_dir
            .join("previews")
            .join(format!("pr-{pull_request}"));
        self.switch(&link, &staged.id)?;
        Ok(Some(match &self.site_url {
            Some(url) => format!("{}/previews/pr-{pull_request}/", url.trim_end_matches('/')),
            None => format!("file://{}", link.display()),
        }))
    }
}

//! The built site as the hosts see it: every file with its SHA-1 (the digest Vercel and
//! Netlify address content by), read once, on all cores.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use sha1::Digest as _;

use crate::scan::{Finding, Scanner};

/// One file of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// Relative, `/`-separated, no leading slash: `assets/index-3f2a.js`.
    pub path: String,
    /// Lowercase hex SHA-1 of the contents.
    pub sha1: String,
    pub size: u64,
    /// Unix mode as Vercel wants it (`0o100644`, or `0o100755` for executables).
    pub mode: u32,
    /// Where the contents are read from (a symlink inside the site is read through).
    pub source: PathBuf,
}

/// The whole site, files in path order.
#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub files: Vec<SiteFile>,
    pub total_bytes: u64,
    /// SHA-256 of the path-and-digest manifest: the same site gives the same value on any
    /// machine, whatever the file times (recorded as `artifact_sha256`).
    pub artifact_sha256: String,
}

/// Why a site cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "`{path}` is a symlink to `{target}`, outside the site; copy the file into the site instead"
    )]
    SymlinkOutside { path: String, target: String },
    #[error("`{path}` is a symlink that leads nowhere (`{target}`)")]
    DanglingSymlink { path: String, target: String },
    #[error("`{path}` is not a valid UTF-8 name; hosts address files by UTF-8 paths")]
    BadName { path: String },
    #[error("could not read `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Site {
    /// Walks `root`, hashes every file and, with a scanner, looks for secrets in the same read.
    pub fn load(root: &Path, scanner: Option<&Scanner>) -> Result<(Site, Vec<Finding>), SiteError> {
        let canonical_root = root.canonicalize().map_err(|source| SiteError::Io {
            path: root.display().to_string(),
            source,
        })?;
        let mut entries = Vec::new();
        let mut seen_dirs = HashSet::new();
        walk(
            &canonical_root,
            &canonical_root,
            "",
            &mut entries,
            &mut seen_dirs,
        )?;
        entries.sort_by(|a, b| a.0.cmp(&b.0));

        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let chunk = entries.len().div_ceil(threads).max(1);
        let results: Vec<Result<Hashed, SiteError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = entries
                .chunks(chunk)
                .map(|part| scope.spawn(move || hash_all(part, scanner)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SiteError::Io {
                            path: root.display().to_string(),
                            source: std::io::Error::other("a hashing thread panicked"),
                        })
                    })
                })
                .collect()
        });
        let mut files = Vec::with_capacity(entries.len());
        let mut findings = Vec::new();
        for result in results {
            let (f, mut found) = result?;
            files.extend(f);
            findings.append(&mut found);
        }
        let total_bytes = files.iter().map(|f| f.size).sum();
        let artifact_sha256 = manifest_digest(&files);
        Ok((
            Site {
                root: root.to_path_buf(),
                files,
                total_bytes,
                artifact_sha256,
            },
            findings,
        ))
    }

    /// Each distinct content once (the first path that has it), in path order.
    pub fn unique(&self) -> Vec<&SiteFile> {
        let mut seen = HashSet::new();
        self.files
            .iter()
            .filter(|f| seen.insert(f.sha1.as_str()))
            .collect()
    }

    /// Digest → a file with that content.
    pub fn by_sha1(&self) -> BTreeMap<&str, &SiteFile> {
        let mut map = BTreeMap::new();
        for f in &self.files {
            map.entry(f.sha1.as_str()).or_insert(f);
        }
        map
    }

    /// Directories holding more than `limit` entries (files and subdirectories), with their
    /// count: the root is `.`.
    pub fn directories_over(&self, limit: usize) -> Vec<(String, usize)> {
        let mut entries: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
        for f in &self.files {
            let mut path = f.path.as_str();
            while !path.is_empty() {
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                entries.entry(dir).or_default().insert(name);
                path = dir;
            }
        }
        entries
            .into_iter()
            .filter(|(_, names)| names.len() > limit)
            .map(|(dir, names)| {
                (
                    if dir.is_empty() {
                        ".".to_owned()
                    } else {
                        dir.to_owned()
                    },
                    names.len(),
                )
            })
            .collect()
    }

    /// The site without the files `leave_out` names (source maps that go to Sentry only),
    /// its totals and artifact digest those of what remains.
    pub fn without(mut self, leave_out: impl Fn(&SiteFile) -> bool) -> Site {
        self.files.retain(|f| !leave_out(f));
        self.total_bytes = self.files.iter().map(|f| f.size).sum();
        self.artifact_sha256 = manifest_digest(&self.files);
        self
    }

    pub fn get(&self, path: &str) -> Option<&SiteFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

fn manifest_digest(files: &[SiteFile]) -> String {
    let mut hasher = sha2::Sha256::new();
    for f in files {
        hasher.update(f.path.as_bytes());
        hasher.update([0]);
        hasher.update(f.sha1.as_bytes());
        hasher.update(format!(" {:o}\n", f.mode).as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// (relative path, file to read, mode)
type Entry = (String, PathBuf, u32);

/// One thread's share: its files and what the scanner found in them.
type Hashed = (Vec<SiteFile>, Vec<Finding>);

fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    out: &mut Vec<Entry>,
    seen_dirs: &mut HashSet<PathBuf>,
) -> Result<(), SiteError> {
    let io = |path: &Path, source| SiteError::Io {
        path: path.display().to_string(),
        source,
    };
    if !seen_dirs.insert(dir.to_path_buf()) {
        return Ok(()); // a symlinked directory seen already: no loops, no double files
    }
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(SiteError::BadName {
                path: format!("{prefix}{}", name.to_string_lossy()),
            });
        };
        let rel = format!("{prefix}{name}");
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io(&path, e))?;
        let real = if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| io(&path, e))?;
            let resolved = path
                .canonicalize()
                .map_err(|_| SiteError::DanglingSymlink {
                    path: rel.clone(),
                    target: target.display().to_string(),
                })?;
            if !resolved.starts_with(root) {
                return Err(SiteError::SymlinkOutside {
                    path: rel,
                    target: target.display().to_string(),
                });
            }
            resolved
        } else {
            path
        };
        let meta = std::fs::metadata(&real).map_err(|e| io(&real, e))?;
        if meta.is_dir() {
            walk(root, &real, &format!("{rel}/"), out, seen_dirs)?;
        } else if meta.is_file() {
            out.push((rel, real, mode_of(&meta)));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 {
        0o100755
    } else {
        0o100644
    }
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> u32 {
    0o100644
}

fn hash_all(entries: &[Entry], scanner: Option<&Scanner>) -> Result<Hashed, SiteError> {
    let mut files = Vec::with_capacity(entries.len());
    let mut findings = Vec::new();
    for (path, source, mode) in entries {
        let bytes = std::fs::read(source).map_err(|e| SiteError::Io {
            path: path.clone(),
            source: e,
        })?;
        let sha1 = hex::encode(sha1::Sha1::digest(&bytes));
        if let Some(scanner) = scanner {
            findings.extend(scanner.scan(path, &bytes));
        }
        files.push(SiteFile {
            path: path.clone(),
            sha1,
            size: bytes.len() as u64,
            mode: *mode,
            source: source.clone(),
        });
    }
    Ok((files, findings))
}

/// SHA-1 of a buffer, hex (for the benchmark and for generated files).
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(sha1::Sha1::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_every_file_in_path_order_and_dedups_by_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(dir.path().join("assets/a.js"), "same").unwrap();
        std::fs::write(dir.path().join("assets/b.js"), "same").unwrap();
        let (site, findings) = Site::load(dir.path(), None).unwrap();
        assert!(findings.is_empty());
        let paths: Vec<_> = site.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["assets/a.js", "assets/b.js", "index.html"]);
        // `echo -n same | sha1sum`
        assert_eq!(
            site.files[0].sha1,
            "ff3390557335ba88d37755e41514beb03bc499ec"
        );
        assert_eq!(site.unique().len(), 2);
        assert_eq!(site.total_bytes, 11 + 4 + 4);
        assert_eq!(site.get("index.html").unwrap().size, 11);
    }

    #[test]
    fn crowded_directories_are_counted_with_their_subdirectories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        for i in 0..3 {
            std::fs::write(dir.path().join(format!("a/{i}.js")), "x").unwrap();
        }
        std::fs::write(dir.path().join("a/b/c.js"), "x").unwrap();
        std::fs::write(dir.path().join("index.html"), "x").unwrap();
        let (site, _) = Site::load(dir.path(), None).unwrap();
        assert_eq!(site.directories_over(3), [("a".to_owned(), 4)]);
        assert_eq!(
            site.directories_over(1),
            [(".".to_owned(), 2), ("a".to_owned(), 4)]
        );
        assert!(site.directories_over(4).is_empty());
    }

    #[test]
    fn the_artifact_digest_depends_on_content_not_on_time() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("index.html"), "x").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(b.path().join("index.html"), "x").unwrap();
        let da = Site::load(a.path(), None).unwrap().0.artifact_sha256;
        let db = Site::load(b.path(), None).unwrap().0.artifact_sha256;
        assert_eq!(da, db);
        std::fs::write(b.path().join("index.html"), "y").unwrap();
        assert_ne!(da, Site::load(b.path(), None).unwrap().0.artifact_sha256);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_are_followed_and_outside_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("id_rsa"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "x").unwrap();
        std::os::unix::fs::symlink("index.html", dir.path().join("200.html")).unwrap();
        let (site, _) = Site::load(dir.path(), None).unwrap();
        assert_eq!(site.files.len(), 2);
        assert_eq!(site.files[0].sha1, site.files[1].sha1);

        std::os::unix::fs::symlink(outside.path().join("id_rsa"), dir.path().join("key")).unwrap();
        let err = Site::load(dir.path(), None).unwrap_err();
        assert!(
            matches!(&err, SiteError::SymlinkOutside { path, .. } if path == "key"),
            "{err}"
        );
    }
}

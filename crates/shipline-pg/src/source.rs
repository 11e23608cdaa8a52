//! The migrations on disk, in the Supabase CLI's layout.
//!
//! `supabase/migrations/<digits>_<name>.sql`, applied in file-name order (the CLI lists the
//! folder sorted by name and compares versions as strings, so we do too). Down scripts live in
//! `<dir>/down/<same file name>`, never inside the up file, which the CLI would run whole.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::split::{Statement, split};

/// A down script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    pub path: PathBuf,
    pub sql: String,
    pub checksum: String,
}

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The digits before the first `_`.
    pub version: String,
    /// Between the first `_` and `.sql`, as the CLI records it.
    pub name: String,
    pub file_name: String,
    pub path: PathBuf,
    /// The file as written.
    pub sql: String,
    /// sha256 of the file with CRLF made LF, so a Windows checkout is not an edit.
    pub checksum: String,
    pub down: Option<Down>,
}

impl Migration {
    /// The statements the CLI records for this file.
    pub fn statements(&self) -> Vec<Statement> {
        split(&self.sql)
    }

    /// A relative path for messages and annotations.
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }
}

/// A file in the folder that is not a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file_name: String,
    pub reason: String,
}

/// What the folder holds.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub migrations: Vec<Migration>,
    pub skipped: Vec<Skipped>,
    /// Down scripts with no up file of the same name.
    pub orphan_downs: Vec<String>,
}

/// Failures reading the folder.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The folder or a file could not be read.
    #[error("could not read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Two files share a version: the history table's key.
    #[error(
        "`{first}` and `{second}` have the same version `{version}`; rename one (the version is the history table's primary key)"
    )]
    DuplicateVersion {
        version: String,
        first: String,
        second: String,
    },
}

/// sha256 of `sql` with CRLF line ends made LF.
pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.replace("\r\n", "\n").as_bytes()))
}

/// `<digits>_<name>.sql` → `(version, name)`, as the CLI's `^([0-9]+)_(.*)\.sql$`.
pub fn parse_file_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    let (version, name) = stem.split_once('_')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((version.to_owned(), name.to_owned()))
}

fn read(path: &Path) -> Result<String, SourceError> {
    std::fs::read_to_string(path).map_err(|source| SourceError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl Source {
    /// Reads `dir` (and `dir/down`).
    pub fn read(dir: &Path) -> Result<Source, SourceError> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|source| SourceError::Read {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        let down_dir = dir.join("down");
        let mut source = Source::default();
        for file_name in names {
            let Some((version, name)) = parse_file_name(&file_name) else {
                source.skipped.push(Skipped {
                    file_name,
                    reason: "not named `<version>_<name>.sql`, so neither the Supabase CLI nor shipline applies it".into(),
                });
                continue;
            };
            // The CLI skips an initial schema file from before it had migrations (20211209).
            if name == "init" && version.as_str() < "20211209" {
                source.skipped.push(Skipped {
                    file_name,
                    reason:
                        "an `_init.sql` from before 2021-12-09, which the Supabase CLI skips too"
                            .into(),
                });
                continue;
            }
            if let Some(previous) = source.migrations.last()
                && previous.version == version
            {
                return Err(SourceError::DuplicateVersion {
                    version,
                    first: previous.file_name.clone(),
                    second: file_name,
                });
            }
            let path = dir.join(&file_name);
            let sql = read(&path)?;
            let down_path = down_dir.join(&file_name);
            let down = if down_path.is_file() {
                let sql = read(&down_path)?;
                Some(Down {
                    checksum: checksum(&sql),
                    path: down_path,
                    sql,
                })
            } else {
                None
            };
            source.migrations.push(Migration {
                checksum: checksum(&sql),
                version,
                name,
                file_name,
                path,
                sql,
                down,
            });
        }
        if let Ok(entries) = std::fs::read_dir(&down_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !source.migrations.iter().any(|m| m.file_name == name) {
                    source.orphan_downs.push(name);
                }
            }
            source.orphan_downs.sort();
        }
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("20240101120000_create_todos.sql"),
            Some(("20240101120000".into(), "create_todos".into()))
        );
        assert_eq!(
            parse_file_name("1_a_b.sql"),
            Some(("1".into(), "a_b".into()))
        );
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("v1_x.sql"), None);
        assert_eq!(parse_file_name("_x.sql"), None);
    }

    #[test]
    fn crlf_is_not_an_edit() {
        assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
        assert_ne!(checksum("a;\n"), checksum("a; \n"));
    }

    #[test]
    fn reads_the_folder_in_order_with_down_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path();
        std::fs::create_dir_all(m.join("down")).unwrap();
        std::fs::write(m.join("20240102000000_b.sql"), "select 2;").unwrap();
        std::fs::write(m.join("20240101000000_a.sql"), "select 1;").unwrap();
        std::fs::write(m.join("20200101000000_init.sql"), "select 0;").unwrap();
        std::fs::write(m.join("notes.txt"), "x").unwrap();
        std::fs::write(m.join("down/20240101000000_a.sql"), "select -1;").unwrap();
        std::fs::write(m.join("down/20230101000000_gone.sql"), "x").unwrap();
        let source = Source::read(m).unwrap();
        let versions: Vec<_> = source
            .migrations
            .iter()
            .map(|m| m.version.as_str())
            .collect();
        assert_eq!(versions, ["20240101000000", "20240102000000"]);
        assert!(source.migrations[0].down.is_some() && source.migrations[1].down.is_none());
        let skipped: Vec<_> = source
            .skipped
            .iter()
            .map(|s| s.file_name.as_str())
            .collect();
        assert_eq!(skipped, ["20200101000000_init.sql", "notes.txt"]);
        assert_eq!(source.orphan_downs, ["20230101000000_gone.sql"]);
    }

    #[test]
    fn duplicate_versions_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1_a.sql"), "").unwrap();
        std::fs::write(dir.path().join("1_b.sql"), "").unwrap();
        let err = Source::read(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("have the same version `1`"),
            "{err}"
        );
    }
}

//! PostgreSQL's own programs (`pg_dump`, `pg_restore`, `initdb`, `pg_ctl`): where they are and
//! which major version they are. A dump taken by an older `pg_dump` than the server fails
//! half-way with "server version mismatch", so the version is checked before anything runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use shipline_core::SafeUrl;

use crate::PgError;

/// One folder of PostgreSQL binaries, and their major version.
#[derive(Debug, Clone)]
pub struct PgTools {
    pub bin_dir: PathBuf,
    /// `15` for `pg_dump (PostgreSQL) 15.18`.
    pub major: u32,
    /// As the program printed it: `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
}

impl PgTools {
    /// The binaries in `dir` (an input), else the newest `/usr/lib/postgresql/*/bin` (Debian
    /// and Ubuntu runners keep several versions there, and PATH holds only a wrapper), else
    /// the folder of the `pg_dump` on PATH.
    pub fn find(dir: Option<&Path>) -> Result<PgTools, PgError> {
        let candidates: Vec<PathBuf> = match dir {
            Some(d) => vec![d.to_path_buf()],
            None => {
                let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| {
                        let major = e.file_name().to_str()?.parse::<u32>().ok()?;
                        Some((major, e.path().join("bin")))
                    })
                    .collect();
                versioned.sort();
                let mut list: Vec<PathBuf> = versioned.into_iter().rev().map(|(_, p)| p).collect();
                if let Some(paths) = std::env::var_os("PATH") {
                    list.extend(std::env::split_paths(&paths));
                }
                list
            }
        };
        let bin_dir = candidates
            .into_iter()
            .find(|d| d.join("pg_dump").is_file() && d.join("pg_restore").is_file())
            .ok_or_else(|| {
                PgError::Config(match dir {
                    Some(d) => format!(
                        "`{}` has no `pg_dump` and `pg_restore`",
                        d.display()
                    ),
                    None => "`pg_dump` and `pg_restore` are not installed (not on PATH, not in /usr/lib/postgresql/*/bin): on ubuntu-latest run `sudo apt-get install -y postgresql-client`, or set `pg-bin-dir`".into(),
                })
            })?;
        let version = version_of(&bin_dir.join("pg_dump"))?;
        let major = major_of(&version)
            .ok_or_else(|| PgError::Config(format!("cannot read a version from `{version}`")))?;
        Ok(PgTools {
            bin_dir,
            major,
            version,
        })
    }

    pub fn program(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// `name` set up to connect to `url`: the URL goes in `--dbname` without its password,
    /// which travels in `PGPASSWORD`, so it never shows in a process listing.
    pub fn command(&self, name: &str, url: &SafeUrl) -> Command {
        let mut bare = url.expose().clone();
        let password = bare.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = bare.set_password(None);
        let mut command = Command::new(self.program(name));
        command.arg("--dbname").arg(bare.as_str());
        command.env_remove("PGPASSWORD");
        if let Some(p) = password {
            command.env("PGPASSWORD", p);
        }
        command.env("PGAPPNAME", "shipline-backup-check");
        command
    }

    /// Whether `initdb` and `pg_ctl` are here too (a throwaway cluster can be started).
    pub fn has_server(&self) -> bool {
        self.program("initdb").is_file() && self.program("pg_ctl").is_file()
    }

    /// Refuses a server newer than these tools, with what to install instead.
    pub fn check_can_dump(&self, server_major: u32) -> Result<(), PgError> {
        if server_major > self.major {
            return Err(PgError::Config(format!(
                "the database runs PostgreSQL {server_major}, but `{}` is {}: pg_dump cannot dump a newer server. Install the version-{server_major} client (`sudo apt-get install -y postgresql-client-{server_major}` with the PGDG apt repository) and set `pg-bin-dir: /usr/lib/postgresql/{server_major}/bin`",
                self.program("pg_dump").display(),
                self.version
            )));
        }
        Ok(())
    }
}

fn version_of(program: &Path) -> Result<String, PgError> {
    let out = Command::new(program)
        .arg("--version")
        .output()
        .map_err(|e| PgError::Config(format!("could not run `{}`: {e}", program.display())))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `pg_dump (PostgreSQL) 15.18 (Debian …)` → 15; `9.6.24` → 9.
pub fn major_of(version: &str) -> Option<u32> {
    version
        .split_whitespace()
        .find_map(|word| {
            let first = word.split('.').next()?;
            word.contains('.').then_some(())?;
            first.parse::<u32>().ok()
        })
        .or_else(|| {
            version
                .split_whitespace()
                .find_map(|w| w.parse::<u32>().ok())
        })
}

/// `server_version_num` (`150018`) → 15.
pub fn server_major(version_num: u32) -> u32 {
    version_num / 10_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors() {
        assert_eq!(
            major_of("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"),
            Some(15)
        );
        assert_eq!(major_of("pg_restore (PostgreSQL) 17.2"), Some(17));
        assert_eq!(major_of("pg_dump (PostgreSQL) 18beta1 x"), None);
        assert_eq!(server_major(150_018), 15);
        assert_eq!(server_major(170_002), 17);
    }

    #[test]
    fn a_newer_server_is_refused_with_what_to_install() {
        let tools = PgTools {
            bin_dir: PathBuf::from("/usr/lib/postgresql/15/bin"),
            major: 15,
            version: "pg_dump (PostgreSQL) 15.18".into(),
        };
        assert!(tools.check_can_dump(15).is_ok());
        assert!(tools.check_can_dump(14).is_ok());
        let message = tools.check_can_dump(17).unwrap_err().to_string();
        assert!(message.contains("PostgreSQL 17"), "{message}");
        assert!(message.contains("postgresql-client-17"), "{message}");
    }
}

//! A throwaway PostgreSQL cluster: `initdb` into a temporary folder, started on a free
//! loopback port with durability off (nothing in it outlives the run), stopped and deleted
//! when dropped. The restore drill's default scratch server, so a drill never needs a
//! second database server to be provisioned.

use std::path::{Path, PathBuf};
use std::process::Command;

use shipline_core::SafeUrl;

use crate::PgError;
use crate::tools::PgTools;

/// A running cluster; dropping it stops it and removes its files.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    pg_ctl: PathBuf,
    as_postgres: bool,
    /// Superuser URL of its `postgres` database.
    pub url: SafeUrl,
}

impl Cluster {
    /// Starts one. As root, the server runs as the `postgres` user (`initdb` refuses root).
    pub fn start(tools: &PgTools, settings: &[(&str, &str)]) -> Result<Cluster, PgError> {
        if !tools.has_server() {
            return Err(PgError::Config(format!(
                "`{}` has no `initdb`/`pg_ctl` to start a scratch server: install the PostgreSQL server package, or give a scratch server",
                tools.bin_dir.display()
            )));
        }
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!(
            "shipline-scratch-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| PgError::Config(format!("cannot create {}: {e}", dir.display())))?;
        let mut cluster = Cluster {
            dir,
            pg_ctl: tools.program("pg_ctl"),
            as_postgres,
            url: SafeUrl::parse("postgres://postgres@127.0.0.1/postgres")
                .map_err(|e| PgError::Config(e.to_string()))?,
        };
        if as_postgres {
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid))
                .map_err(|e| PgError::Config(format!("chown {}: {e}", cluster.dir.display())))?;
        }
        let data = cluster.dir.join("data");
        cluster.run(
            &tools.program("initdb"),
            &[
                "-D",
                &path(&data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let port = free_port()?;
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            path(&cluster.dir)
        );
        for (name, value) in settings {
            options.push_str(&format!(" -c {name}={value}"));
        }
        let log = cluster.dir.join("server.log");
        cluster
            .run(
                &cluster.pg_ctl.clone(),
                &[
                    "-D",
                    &path(&data),
                    "-l",
                    &path(&log),
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            )
            .map_err(|e| {
                PgError::Config(format!(
                    "{e}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ))
            })?;
        cluster.url = SafeUrl::parse(&format!("postgres://postgres@127.0.0.1:{port}/postgres"))
            .map_err(|e| PgError::Config(e.to_string()))?;
        Ok(cluster)
    }

    /// The cluster's folder (its data directory is `data/` inside).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn run(&self, program: &Path, args: &[&str]) -> Result<(), PgError> {
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        let out =
            command.args(args).current_dir("/").output().map_err(|e| {
                PgError::Config(format!("could not run {}: {e}", program.display()))
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(PgError::Config(format!(
                "{} failed: {}{}",
                program.display(),
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = path(&self.dir.join("data"));
        if self.dir.join("data/postmaster.pid").exists() {
            let _ = self.run(
                &self.pg_ctl.clone(),
                &["-D", &data, "stop", "-m", "immediate", "-w"],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Whether this process runs as root (then servers run as `postgres`: `initdb` refuses root).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The `postgres` user's uid and gid.
pub fn postgres_ids() -> Result<(u32, u32), PgError> {
    let id = |flag: &str| -> Result<u32, PgError> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| PgError::Config(e.to_string()))?;
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| {
            PgError::Config(
                "running as root, and there is no `postgres` user to run the scratch server as (`initdb` refuses root): create one, or give a scratch server".into(),
            )
        })
    };
    Ok((id("-u")?, id("-g")?))
}

/// A loopback port nobody listens on now.
pub fn free_port() -> Result<u16, PgError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| PgError::Config(format!("no free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| PgError::Config(e.to_string()))
}

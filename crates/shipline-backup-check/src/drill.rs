//! The restore drill: a backup is only proven by restoring it. Dump the source (or take the
//! newest dump file), restore it into a scratch database with `pg_restore -j`, then compare
//! the copy with the source, and drop the copy.
//!
//! A fresh dump is taken inside an exported snapshot (`pg_dump --snapshot`), and the source
//! is measured in that same snapshot, so the comparison is exact even while the source takes
//! writes. A dump file is compared with the live source, within `tolerance`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use shipline_actions::{Phases, Table};
use shipline_core::SafeUrl;
use shipline_pg::cluster::Cluster;
use shipline_pg::tools::{PgTools, server_major};
use shipline_pg::{PgError, Target};
use tokio_postgres::Client;

use crate::check::Check;
use crate::inventory::{self, Inventory};

/// Where the copy to verify comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillFrom {
    /// `pg_dump -Fc` of the source, now.
    Dump,
    /// The newest dump file in this folder (`backup-dir`), picked when the drill runs.
    NewestIn(PathBuf),
    /// This dump file.
    File(PathBuf),
}

/// How far a restored table's row count may be from a live source's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub rows: u64,
    pub percent: f64,
}

impl Tolerance {
    pub const EXACT: Tolerance = Tolerance {
        rows: 0,
        percent: 0.0,
    };

    /// `0`, `25` (rows) or `0.5%`.
    pub fn parse(text: &str) -> Result<Tolerance, String> {
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            let percent: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("`{text}` is not a percentage, e.g. `0.5%`"))?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(format!("`{text}` is not between 0% and 100%"));
            }
            Ok(Tolerance { rows: 0, percent })
        } else {
            let rows = t.parse().map_err(|_| {
                format!("`{text}` is neither a row count (`25`) nor a percentage (`0.5%`)")
            })?;
            Ok(Tolerance { rows, percent: 0.0 })
        }
    }

    pub fn is_exact(&self) -> bool {
        self.rows == 0 && self.percent == 0.0
    }

    pub fn allows(&self, source: u64, restored: u64) -> bool {
        let allowed = self
            .rows
            .max((source as f64 * self.percent / 100.0).floor() as u64);
        source.abs_diff(restored) <= allowed
    }
}

/// A checked drill.
#[derive(Debug, Clone)]
pub struct DrillConfig {
    pub from: DrillFrom,
    /// A server to create the scratch database on; `None`: a throwaway cluster.
    pub scratch: Option<SafeUrl>,
    /// Empty: every schema but PostgreSQL's and Supabase's platform ones.
    pub schemas: Vec<String>,
    pub tolerance: Tolerance,
    pub sample_rows: u64,
    pub jobs: u32,
    pub supabase_shim: bool,
    pub pg_bin_dir: Option<PathBuf>,
}

/// What the drill found.
#[derive(Debug, Clone)]
pub struct DrillReport {
    pub checks: Vec<Check>,
    pub tables: Option<Table>,
    /// `pg_restore`'s wall time: the recovery time you would face.
    pub restore: Option<Duration>,
    pub dump_bytes: Option<u64>,
    pub restored_bytes: Option<u64>,
    /// The scratch database's name and server, for the record (it is dropped).
    pub scratch: Option<String>,
    pub phases: Phases,
}

impl DrillReport {
    pub fn passed(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| c.verdict == crate::check::Verdict::Fail)
    }
}

/// The Supabase roles a dump's policies and grants name, and the `extensions` schema (not
/// dumped: it belongs to the platform). `auth` and `storage` come from the dump itself.
pub const SUPABASE_ROLES_SQL: &str = r#"
DO $shim$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', 'authenticator',
    'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'dashboard_user',
    'pgbouncer', 'supabase_replication_admin', 'supabase_read_only_user']
  LOOP
    BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  END LOOP;
END
$shim$;
CREATE SCHEMA IF NOT EXISTS extensions;
"#;

fn pg(context: &str, e: tokio_postgres::Error) -> PgError {
    PgError::Query {
        context: context.into(),
        message: shipline_pg::describe(&e),
    }
}

/// Runs the drill against `source`. Every outcome is a report: a drill that cannot even
/// start is a failed drill, with the reason as its check.
pub async fn run(config: &DrillConfig, source: &SafeUrl) -> DrillReport {
    let mut report = DrillReport {
        checks: Vec::new(),
        tables: None,
        restore: None,
        dump_bytes: None,
        restored_bytes: None,
        scratch: None,
        phases: Phases::default(),
    };
    if let Err(e) = drill(config, source, &mut report).await {
        report
            .checks
            .push(Check::fail("restore drill", e.to_string()));
    }
    report
}

async fn drill(
    config: &DrillConfig,
    source: &SafeUrl,
    report: &mut DrillReport,
) -> Result<(), PgError> {
    let started = Instant::now();
    let from = match &config.from {
        DrillFrom::NewestIn(dir) => {
            let newest = crate::files::newest_in(dir)
                .map_err(|e| PgError::Config(format!("cannot read `{}`: {e}", dir.display())))?;
            match newest.and_then(|f| f.path) {
                Some(path) => DrillFrom::File(path),
                None => {
                    return Err(PgError::Config(format!(
                        "`{}` holds no dump file to restore",
                        dir.display()
                    )));
                }
            }
        }
        other => other.clone(),
    };
    let tools = PgTools::find(config.pg_bin_dir.as_deref())?;
    let target = Target::parse(source)?;
    let client = target.connect().await?;
    let version: u32 = single(&client, "SELECT current_setting('server_version_num')")
        .await?
        .parse()
        .unwrap_or(0);
    let source_major = server_major(version);
    if from == DrillFrom::Dump {
        tools.check_can_dump(source_major)?;
    }
    inventory::prepare(&client).await?;
    let schemas = inventory::schemas(&client, &config.schemas).await?;
    let work = tempfile::Builder::new()
        .prefix("shipline-drill-")
        .tempdir()
        .map_err(|e| PgError::Config(format!("no temporary folder: {e}")))?;
    report.phases.time("connect", started);

    // The copy, and the source measured as the copy saw it.
    let started = Instant::now();
    let (file, source_facts, exact) = match &from {
        DrillFrom::Dump => {
            let file = work.path().join("source.dump");
            client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(|e| pg("opening a snapshot", e))?;
            let snapshot = single(&client, "SELECT pg_export_snapshot()").await?;
            let dump = dump(&tools, source, &snapshot, &schemas, &config.schemas, &file);
            let measure = inventory::take(&client, &schemas, config.sample_rows);
            let (dumped, measured) = tokio::join!(dump, measure);
            let _ = client.batch_execute("COMMIT").await;
            dumped?;
            (file, measured?, true)
        }
        DrillFrom::File(path) | DrillFrom::NewestIn(path) => {
            let facts = inventory::take(&client, &schemas, config.sample_rows).await?;
            (path.clone(), facts, config.tolerance.is_exact())
        }
    };
    report.dump_bytes = std::fs::metadata(&file).ok().map(|m| m.len());
    report.phases.time(
        if from == DrillFrom::Dump {
            "dump and measure source"
        } else {
            "measure source"
        },
        started,
    );
    report.checks.push(Check::pass(
        "dump",
        format!(
            "{} ({} bytes){}",
            match &from {
                DrillFrom::Dump => format!("`pg_dump -Fc` of {} schema(s)", schemas.len()),
                DrillFrom::File(p) | DrillFrom::NewestIn(p) => format!("`{}`", p.display()),
            },
            report.dump_bytes.unwrap_or(0),
            if exact {
                ""
            } else {
                "; compared with the live source"
            }
        ),
    ));

    // The scratch database.
    let started = Instant::now();
    // Lives until the end of the drill; dropping it stops the server and deletes its files.
    let cluster = match &config.scratch {
        Some(_) => None,
        None => Some(Cluster::start(&tools, &[("max_wal_size", "4GB")])?),
    };
    let admin_url = config
        .scratch
        .clone()
        .or_else(|| cluster.as_ref().map(|c| c.url.clone()))
        .ok_or_else(|| PgError::Config("no scratch server".into()))?;
    let admin = Target::parse(&admin_url)?.connect().await?;
    let name = format!(
        "shipline_drill_{}_{}",
        shipline_core::time::now_secs(),
        rand::random::<u16>()
    );
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| {
            pg(
                "creating the scratch database (the scratch server's user needs CREATEDB)",
                e,
            )
        })?;
    report.scratch = Some(format!(
        "{name} on {} (dropped after the drill)",
        if cluster.is_some() {
            "a throwaway cluster".to_owned()
        } else {
            let u = admin_url.expose();
            format!(
                "{}:{}",
                u.host_str().unwrap_or("?"),
                u.port().unwrap_or(5432)
            )
        }
    ));
    let scratch_url = {
        let mut u = admin_url.expose().clone();
        u.set_path(&format!("/{name}"));
        SafeUrl::from(u)
    };
    let result = restore_and_compare(
        config,
        &tools,
        &file,
        &scratch_url,
        &schemas,
        &source_facts,
        exact,
        report,
        started,
    )
    .await;
    // `WITH (FORCE)` (PostgreSQL 13+) ends a restore worker left behind; older servers
    // take the plain form.
    let forced = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    if forced.is_err()
        && let Err(e) = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
    {
        report.checks.push(Check::warn(
            "scratch database",
            format!(
                "`{name}` could not be dropped: {}; drop it by hand",
                shipline_pg::describe(&e)
            ),
        ));
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn restore_and_compare(
    config: &DrillConfig,
    tools: &PgTools,
    file: &Path,
    scratch_url: &SafeUrl,
    schemas: &[String],
    source: &Inventory,
    exact: bool,
    report: &mut DrillReport,
    started: Instant,
) -> Result<(), PgError> {
    let scratch = Target::parse(scratch_url)?;
    if config.supabase_shim {
        let c = scratch.connect().await?;
        c.batch_execute(SUPABASE_ROLES_SQL)
            .await
            .map_err(|e| pg("creating the Supabase roles", e))?;
    }
    report.phases.time("scratch database", started);

    let started = Instant::now();
    let restored = restore(tools, file, scratch_url, config.jobs).await;
    let took = started.elapsed();
    report.phases.time("restore", started);
    report.restore = Some(took);
    match restored {
        Ok(()) => report.checks.push(Check::pass(
            "restore",
            format!(
                "`pg_restore -j {}` in {:.1} s (the recovery time to expect for this size)",
                config.jobs,
                took.as_secs_f64()
            ),
        )),
        Err(message) => {
            report.checks.push(Check::fail("restore", message));
            return Ok(());
        }
    }

    let started = Instant::now();
    let client = scratch.connect().await?;
    inventory::prepare(&client).await?;
    let copy = inventory::take(&client, schemas, config.sample_rows).await?;
    report.restored_bytes = single(&client, "SELECT pg_database_size(current_database())")
        .await?
        .parse()
        .ok();
    report.phases.time("measure copy", started);
    compare(source, &copy, exact, config.tolerance, report);
    Ok(())
}

async fn single(client: &Client, sql: &str) -> Result<String, PgError> {
    let messages = client.simple_query(sql).await.map_err(|e| pg(sql, e))?;
    messages
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
        .ok_or_else(|| PgError::Query {
            context: sql.into(),
            message: "no value".into(),
        })
}

async fn dump(
    tools: &PgTools,
    source: &SafeUrl,
    snapshot: &str,
    schemas: &[String],
    asked: &[String],
    file: &Path,
) -> Result<(), PgError> {
    let mut command = tools.command("pg_dump", source);
    command
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(file);
    if asked.is_empty() {
        // Everything but the platform's schemas (so extensions are dumped too).
        for s in inventory::PLATFORM_SCHEMAS {
            command.arg(format!("--exclude-schema={s}"));
        }
    } else {
        for s in schemas {
            command.arg(format!("--schema={s}"));
        }
    }
    let out = tokio::process::Command::from(command)
        .output()
        .await
        .map_err(|e| PgError::Config(format!("could not run pg_dump: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(PgError::Config(format!(
            "pg_dump failed: {}{}",
            first_lines(&stderr, 12),
            if stderr.contains("server version mismatch") {
                "\nUse a pg_dump at least as new as the server: set `pg-bin-dir`"
            } else {
                ""
            }
        )))
    }
}

/// `pg_restore` (or `psql` for a plain SQL dump). An error is the drill's finding, as text.
async fn restore(tools: &PgTools, file: &Path, scratch: &SafeUrl, jobs: u32) -> Result<(), String> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".gz") || name.ends_with(".zst") {
        return Err(format!(
            "`{name}` is compressed: the drill restores custom-format (`pg_dump -Fc`), tar, directory or plain `.sql` dumps; take backups with `-Fc` (compressed inside, and restorable in parallel)"
        ));
    }
    let mut command = if name.ends_with(".sql") {
        let mut c = tools.command("psql", scratch);
        c.args(["--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--file"])
            .arg(file);
        c
    } else {
        let mut c = tools.command("pg_restore", scratch);
        c.args(["--no-owner", "--no-privileges"])
            .arg(format!("--jobs={jobs}"))
            .arg(file);
        c
    };
    command.stdout(std::process::Stdio::null());
    let out = tokio::process::Command::from(command)
        .output()
        .await
        .map_err(|e| format!("could not run the restore: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let hint = if stderr.contains("unsupported version") {
        format!(
            "\nThe dump was written by a newer pg_dump than `{}`: use pg_restore of the same or a newer major version (`pg-bin-dir`)",
            tools.version
        )
    } else {
        String::new()
    };
    Err(format!(
        "the dump does not restore: {}{hint}",
        first_lines(&stderr, 12)
    ))
}

fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = lines.iter().take(n).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > n {
        out.push_str(&format!("\n… and {} more line(s)", lines.len() - n));
    }
    out
}

/// The source against the copy, as checks and a per-table table.
pub fn compare(
    source: &Inventory,
    copy: &Inventory,
    exact: bool,
    tolerance: Tolerance,
    report: &mut DrillReport,
) {
    let tolerance = if exact { Tolerance::EXACT } else { tolerance };
    let missing: Vec<&String> = source
        .tables
        .keys()
        .filter(|t| !copy.tables.contains_key(*t))
        .collect();
    report.checks.push(if missing.is_empty() {
        Check::pass(
            "tables",
            format!("all {} table(s) present", source.tables.len()),
        )
    } else {
        Check::fail(
            "tables",
            format!(
                "{} missing after the restore: {}",
                missing.len(),
                list(&missing)
            ),
        )
    });

    let mut rows = Vec::new();
    let mut count_off = Vec::new();
    let mut sum_off = Vec::new();
    for (table, s) in &source.tables {
        let Some(c) = copy.tables.get(table) else {
            rows.push(vec![
                table.clone(),
                s.rows.to_string(),
                "missing".into(),
                "".into(),
                "❌".into(),
            ]);
            continue;
        };
        let counts_ok = tolerance.allows(s.rows, c.rows);
        let sums_ok = !exact || s.checksum == c.checksum;
        if !counts_ok {
            count_off.push(format!("{table} ({} → {})", s.rows, c.rows));
        }
        if !sums_ok {
            sum_off.push(table.clone());
        }
        rows.push(vec![
            table.clone(),
            s.rows.to_string(),
            c.rows.to_string(),
            format!("{} by {}", c.sampled, c.sampled_by),
            if counts_ok && sums_ok { "✅" } else { "❌" }.into(),
        ]);
    }
    // Failures first, so a long list still shows them.
    rows.sort_by_key(|r| r[4] != "❌");
    let total: u64 = source.tables.values().map(|t| t.rows).sum();
    report.checks.push(if count_off.is_empty() {
        Check::pass(
            "row counts",
            format!(
                "{total} row(s) in {} table(s), {}",
                source.tables.len(),
                if tolerance.is_exact() {
                    "equal".to_owned()
                } else {
                    format!(
                        "within `tolerance` ({} rows / {}%)",
                        tolerance.rows, tolerance.percent
                    )
                }
            ),
        )
    } else {
        Check::fail(
            "row counts",
            format!(
                "{} table(s) differ: {}",
                count_off.len(),
                count_off.join(", ")
            ),
        )
    });
    let sampled: u64 = copy.tables.values().map(|t| t.sampled).sum();
    report.checks.push(if !exact {
        Check::skip(
            "checksums",
            "the source is live and `tolerance` allows drift, so sampled rows may differ",
        )
    } else if sum_off.is_empty() {
        Check::pass(
            "checksums",
            format!("{sampled} sampled row(s) identical (md5 of each row's text)"),
        )
    } else {
        Check::fail(
            "checksums",
            format!(
                "the sampled rows of {} table(s) differ from the source: {}",
                sum_off.len(),
                sum_off.join(", ")
            ),
        )
    });

    let behind: Vec<String> = copy
        .sequences
        .iter()
        .filter(|s| s.is_behind())
        .map(|s| {
            format!(
                "{} at {} but max({}) = {}",
                s.sequence,
                s.last_value
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into()),
                s.column,
                s.max.map(|v| v.to_string()).unwrap_or_default()
            )
        })
        .collect();
    report.checks.push(if behind.is_empty() {
        Check::pass(
            "sequences",
            format!(
                "{} sequence(s), none behind its column",
                copy.sequences.len()
            ),
        )
    } else {
        Check::fail(
            "sequences",
            format!(
                "{} behind (the next insert collides): {}",
                behind.len(),
                behind.join("; ")
            ),
        )
    });

    let copy_fks: std::collections::BTreeSet<(&String, &String)> = copy
        .foreign_keys
        .iter()
        .filter(|f| f.2)
        .map(|f| (&f.0, &f.1))
        .collect();
    let lost: Vec<String> = source
        .foreign_keys
        .iter()
        .filter(|f| f.2 && !copy_fks.contains(&(&f.0, &f.1)))
        .map(|f| format!("{}.{}", f.0, f.1))
        .collect();
    report.checks.push(if lost.is_empty() {
        Check::pass(
            "foreign keys",
            format!(
                "{} present and validated by the restore",
                source.foreign_keys.iter().filter(|f| f.2).count()
            ),
        )
    } else {
        Check::fail(
            "foreign keys",
            format!(
                "{} missing or not valid after the restore: {}",
                lost.len(),
                lost.join(", ")
            ),
        )
    });

    let shown = 100;
    let mut title = "Tables".to_owned();
    if rows.len() > shown {
        title = format!("Tables (the first {shown} of {})", rows.len());
        rows.truncate(shown);
    }
    report.tables = Some(Table {
        title,
        headers: vec![
            "table".into(),
            "source rows".into(),
            "restored rows".into(),
            "sampled".into(),
            "".into(),
        ],
        rows,
    });
}

fn list(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_reads_rows_and_percentages() {
        assert!(Tolerance::parse("0").unwrap().is_exact());
        let t = Tolerance::parse("1%").unwrap();
        assert!(t.allows(1000, 990));
        assert!(!t.allows(1000, 989));
        let t = Tolerance::parse("25").unwrap();
        assert!(t.allows(10, 35) && !t.allows(10, 36));
        assert!(Tolerance::parse("lots").is_err());
        assert!(Tolerance::parse("120%").is_err());
    }
}

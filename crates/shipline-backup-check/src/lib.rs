//! `shipline-backup-check`: fail loudly when recovery is at risk. The provider's own view
//! (Supabase's backup listing, or the server's WAL archiver and the dump files), then, when
//! asked, proof: a restore drill into a scratch database, compared with the source.

pub mod check;
pub mod drill;
pub mod files;
pub mod inventory;
pub mod postgres;
pub mod run;
pub mod supabase;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use shipline_actions::Report;
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_bool, parse_choice, parse_dir,
    parse_duration_input, parse_list, parse_positive, parse_postgres_url, parse_url, required,
};
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};

use crate::drill::{DrillConfig, DrillFrom, Tolerance};

/// Prove that backups exist, are fresh, PITR is on, and a restore really works.
#[derive(Debug, Parser)]
#[command(name = "shipline-backup-check", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Whose backups: `supabase` (Management API) or `postgres` (a self-hosted server).
    #[arg(long, env = "INPUT_PROVIDER")]
    pub provider: Option<String>,

    /// The Supabase project ref. Fallback: `SUPABASE_PROJECT_REF`.
    #[arg(long, env = "INPUT_PROJECT_REF")]
    pub project_ref: Option<String>,

    /// A Supabase access token (`sbp_…`). Fallback: `SUPABASE_ACCESS_TOKEN`.
    #[arg(long, env = "INPUT_ACCESS_TOKEN")]
    pub access_token: Option<String>,

    /// The newest backup (or dump file) may be at most this old, e.g. `26h`.
    #[arg(long, env = "INPUT_MAX_AGE", default_value = "26h")]
    pub max_age: String,

    /// Fail when point-in-time recovery is off (Supabase PITR; WAL archiving for `postgres`).
    #[arg(long, env = "INPUT_REQUIRE_PITR", default_value = "true")]
    pub require_pitr: String,

    /// The backups kept must span at least this long (earliest to latest), e.g. `7d`. Supabase only.
    #[arg(long, env = "INPUT_MIN_RETENTION")]
    pub min_retention: Option<String>,

    /// `postgres`: the newest archived WAL segment may be at most this old.
    #[arg(long, env = "INPUT_MAX_WAL_AGE", default_value = "15m")]
    pub max_wal_age: String,

    /// PostgreSQL connection string (for `postgres`, and the source of a restore drill). Fallback: `DATABASE_URL`.
    #[arg(long, env = "INPUT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// `postgres`: a folder of dump files; the newest must be within `max-age`.
    #[arg(long, env = "INPUT_BACKUP_DIR")]
    pub backup_dir: Option<String>,

    /// `postgres`: a bucket listing URL (S3 `ListObjectsV2`, e.g. presigned); its newest object must be within `max-age`.
    #[arg(long, env = "INPUT_BACKUP_URL")]
    pub backup_url: Option<String>,

    /// Dump, restore into a scratch database, and compare.
    #[arg(long, env = "INPUT_RESTORE_DRILL", default_value = "false")]
    pub restore_drill: String,

    /// What the drill restores: `dump` (a fresh `pg_dump -Fc`) or `backup-dir` (the newest dump file there).
    #[arg(long, env = "INPUT_DRILL_FROM", default_value = "dump")]
    pub drill_from: String,

    /// A server the drill creates its scratch database on (dropped after). Default: a throwaway cluster, when PostgreSQL's binaries are installed.
    #[arg(long, env = "INPUT_SCRATCH_DATABASE_URL")]
    pub scratch_database_url: Option<String>,

    /// The schemas the drill compares (comma or newline separated). Default: all but PostgreSQL's and Supabase's platform schemas.
    #[arg(long, env = "INPUT_SCHEMAS")]
    pub schemas: Option<String>,

    /// How far restored row counts may be from a live source when the drill restores a dump file: rows (`25`) or a percentage (`0.5%`).
    #[arg(long, env = "INPUT_TOLERANCE", default_value = "0")]
    pub tolerance: String,

    /// Rows per table whose content is checksummed on both sides (half from each end of the primary key).
    #[arg(long, env = "INPUT_SAMPLE_ROWS", default_value = "1000")]
    pub sample_rows: String,

    /// Parallel `pg_restore` jobs. Default: the number of CPUs.
    #[arg(long, env = "INPUT_JOBS")]
    pub jobs: Option<String>,

    /// Create the Supabase roles and the `extensions` schema before restoring. Default: on for `supabase`.
    #[arg(long, env = "INPUT_SUPABASE_SHIM")]
    pub supabase_shim: Option<String>,

    /// The folder with `pg_dump`, `pg_restore` (and `initdb`, `pg_ctl` for a throwaway scratch server). Default: the newest in /usr/lib/postgresql, else PATH.
    #[arg(long, env = "INPUT_PG_BIN_DIR")]
    pub pg_bin_dir: Option<String>,

    /// Fail the step when recovery is at risk. `false` reports the problems as warnings and exits 0 (a pipeline's documented override of the backup gate).
    #[arg(long, env = "INPUT_ENFORCE", default_value = "true")]
    pub enforce: String,

    /// `github-issue`: open an incident issue on failure, comment while it lasts, close it when healthy again.
    #[arg(long, env = "INPUT_INCIDENT")]
    pub incident: Option<String>,

    /// For `incident`. Needs `issues: write`. Fallback: `GITHUB_TOKEN`.
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,

    /// The incident's key (one open issue per key). Default: `backup-check/<provider>/<project or database>`.
    #[arg(long, env = "INPUT_INCIDENT_KEY")]
    pub incident_key: Option<String>,
}

/// Whose backups are checked.
#[derive(Debug)]
pub enum Source {
    Supabase {
        project_ref: String,
        access_token: Secret,
    },
    Postgres {
        backup_dir: Option<PathBuf>,
        backup_url: Option<SafeUrl>,
    },
}

/// The thresholds.
#[derive(Debug, Clone)]
pub struct Policy {
    pub max_age: Duration,
    pub require_pitr: bool,
    pub min_retention: Option<Duration>,
    pub max_wal_age: Duration,
}

/// The newest backup, as the outputs say it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Freshness {
    /// Seconds since the epoch.
    pub latest: Option<u64>,
    pub age_secs: Option<u64>,
}

/// The incident to keep.
#[derive(Debug)]
pub struct IncidentConfig {
    pub token: Secret,
    pub key: String,
}

/// A checked backup check.
#[derive(Debug)]
pub struct Config {
    pub source: Source,
    pub policy: Policy,
    pub database_url: Option<SafeUrl>,
    pub drill: Option<DrillConfig>,
    pub enforce: bool,
    pub incident: Option<IncidentConfig>,
}

/// The `shipline-backup-check` binary.
pub struct BackupCheck;

impl Tool for BackupCheck {
    const BIN: &'static str = "shipline-backup-check";
    const ACTION: &'static str = "backup-check";
    const SECRET_INPUTS: &'static [&'static str] = &[
        "access-token",
        "database-url",
        "scratch-database-url",
        "backup-url",
        "github-token",
    ];
    const SECRET_ENV: &'static [&'static str] = &[
        EnvVars::SUPABASE_ACCESS_TOKEN,
        EnvVars::DATABASE_URL,
        EnvVars::GITHUB_TOKEN,
    ];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        (
            "latest-backup-at",
            "When the newest backup was taken (RFC 3339); empty when there is none.",
        ),
        ("age-hours", "Its age in hours."),
        ("pitr-enabled", "`true` when point-in-time recovery is on."),
        (
            "drill",
            "The restore drill's result: `passed`, `failed` or `skipped`.",
        ),
        (
            "restore-seconds",
            "How long the drill's restore took: the recovery time to expect.",
        ),
        (
            "issue-number",
            "The incident issue opened, commented on or closed.",
        ),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let env = &ctx.env;
        let provider = parse_choice(
            "provider",
            &required(args.provider, "provider", None)?,
            &["supabase", "postgres"],
        )?;
        let pg_url = |input: &str, value: Option<String>| -> Result<Option<SafeUrl>, InputError> {
            value.map(|v| parse_postgres_url(input, &v)).transpose()
        };
        let database_url = pg_url(
            "database-url",
            or_env(args.database_url, env, EnvVars::DATABASE_URL),
        )?;
        let restore_drill = parse_bool("restore-drill", &args.restore_drill)?;
        let backup_dir = nonempty(args.backup_dir)
            .map(|d| {
                parse_dir(
                    "backup-dir",
                    &d,
                    "give the folder the backup job writes its dumps to",
                )
            })
            .transpose()?;
        let backup_url = nonempty(args.backup_url)
            .map(|u| parse_url("backup-url", &u, &["https", "http"]))
            .transpose()?;
        let source = if provider == "supabase" {
            let project_ref = or_env(args.project_ref, env, EnvVars::SUPABASE_PROJECT_REF)
                .ok_or_else(|| {
                    InputError::missing("project-ref", Some(EnvVars::SUPABASE_PROJECT_REF))
                })?;
            if !project_ref.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(InputError::new(
                    "project-ref",
                    format!(
                        "`{project_ref}` is not a project ref; it is the 20-letter id in the dashboard URL"
                    ),
                ));
            }
            let access_token = or_env(args.access_token, env, EnvVars::SUPABASE_ACCESS_TOKEN)
                .ok_or_else(|| {
                    InputError::missing("access-token", Some(EnvVars::SUPABASE_ACCESS_TOKEN))
                })?;
            for (input, given) in [
                ("backup-dir", backup_dir.is_some()),
                ("backup-url", backup_url.is_some()),
            ] {
                if given {
                    return Err(InputError::new(
                        input,
                        "is for `provider: postgres`; Supabase's backups are read from its API",
                    ));
                }
            }
            Source::Supabase {
                project_ref,
                access_token: Secret::new(access_token),
            }
        } else {
            if database_url.is_none() {
                return Err(InputError::missing(
                    "database-url",
                    Some(EnvVars::DATABASE_URL),
                ));
            }
            Source::Postgres {
                backup_dir: backup_dir.clone(),
                backup_url,
            }
        };
        if restore_drill && database_url.is_none() {
            return Err(InputError::new(
                "database-url",
                "is required with `restore-drill: true`: the drill dumps this database; set `database-url` or `DATABASE_URL`",
            ));
        }
        let min_retention = nonempty(args.min_retention)
            .map(|v| parse_duration_input("min-retention", &v))
            .transpose()?;
        if min_retention.is_some() && matches!(source, Source::Postgres { .. }) {
            return Err(InputError::new(
                "min-retention",
                "is for `provider: supabase` (the API reports the retained span); for `postgres` keep it in your backup tool's retention setting",
            ));
        }
        let policy = Policy {
            max_age: parse_duration_input("max-age", &args.max_age)?,
            require_pitr: parse_bool("require-pitr", &args.require_pitr)?,
            min_retention,
            max_wal_age: parse_duration_input("max-wal-age", &args.max_wal_age)?,
        };

        let drill = if restore_drill {
            let from = match parse_choice("drill-from", &args.drill_from, &["dump", "backup-dir"])?
            {
                "dump" => DrillFrom::Dump,
                _ => {
                    let dir = backup_dir.as_ref().ok_or_else(|| {
                        InputError::new(
                            "backup-dir",
                            "is required with `drill-from: backup-dir`: the drill restores the newest dump file there",
                        )
                    })?;
                    DrillFrom::NewestIn(dir.clone())
                }
            };
            let jobs = match nonempty(args.jobs) {
                Some(j) => parse_positive("jobs", &j, 64)? as u32,
                None => std::thread::available_parallelism().map_or(2, |n| n.get().min(8) as u32),
            };
            let supabase_shim = match nonempty(args.supabase_shim) {
                Some(v) => parse_bool("supabase-shim", &v)?,
                None => provider == "supabase",
            };
            Some(DrillConfig {
                from,
                scratch: pg_url("scratch-database-url", nonempty(args.scratch_database_url))?,
                schemas: nonempty(args.schemas)
                    .map(|s| parse_list(&s))
                    .unwrap_or_default(),
                tolerance: Tolerance::parse(&args.tolerance)
                    .map_err(|e| InputError::new("tolerance", e))?,
                sample_rows: args.sample_rows.trim().parse().map_err(|_| {
                    InputError::new(
                        "sample-rows",
                        format!("`{}` is not a whole number of rows", args.sample_rows),
                    )
                })?,
                jobs,
                supabase_shim,
                pg_bin_dir: nonempty(args.pg_bin_dir)
                    .map(|d| {
                        parse_dir(
                            "pg-bin-dir",
                            &d,
                            "give the folder holding `pg_dump` and `pg_restore`",
                        )
                    })
                    .transpose()?,
            })
        } else {
            // Still checked, so a typo in a drill input is not silently ignored.
            pg_url("scratch-database-url", nonempty(args.scratch_database_url))?;
            None
        };

        let incident = match nonempty(args.incident) {
            None => None,
            Some(kind) => {
                parse_choice("incident", &kind, &["github-issue"])?;
                if ctx.github.owner_repo().is_none() {
                    return Err(InputError::new(
                        EnvVars::GITHUB_REPOSITORY,
                        "must be `owner/repo` for `incident: github-issue` (the runner sets it)",
                    ));
                }
                let token =
                    or_env(args.github_token, env, EnvVars::GITHUB_TOKEN).ok_or_else(|| {
                        InputError::missing("github-token", Some(EnvVars::GITHUB_TOKEN))
                    })?;
                let given = nonempty(args.incident_key);
                if let Some(k) = &given
                    && !k
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._/:-".contains(c))
                {
                    return Err(InputError::new(
                        "incident-key",
                        format!("`{k}` may hold only letters, digits and `._/:-`"),
                    ));
                }
                let key = given.unwrap_or_else(|| match &source {
                    Source::Supabase { project_ref, .. } => {
                        format!("backup-check/supabase/{project_ref}")
                    }
                    Source::Postgres { .. } => format!(
                        "backup-check/postgres/{}",
                        database_url
                            .as_ref()
                            .map(|u| {
                                let u = u.expose();
                                format!("{}{}", u.host_str().unwrap_or("local"), u.path())
                            })
                            .unwrap_or_default()
                    ),
                });
                Some(IncidentConfig {
                    token: Secret::new(token),
                    key,
                })
            }
        };
        Ok(Config {
            source,
            policy,
            database_url,
            drill,
            enforce: parse_bool("enforce", &args.enforce)?,
            incident,
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        run::run(config, ctx).await
    }
}

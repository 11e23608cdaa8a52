//! A self-hosted PostgreSQL: WAL archiving is its point-in-time recovery, and
//! `pg_stat_archiver` says whether it is keeping up. Times come from the server's own clock,
//! so a runner with a skewed clock cannot make a stalled archive look fresh.

use std::time::Duration;

use shipline_core::duration::format_duration;
use shipline_core::time::rfc3339;
use shipline_pg::{PgError, Target};

use crate::Policy;
use crate::check::Check;

/// What the server says about archiving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archiver {
    pub archive_mode: String,
    pub archive_command: String,
    pub archive_library: String,
    pub archive_timeout: String,
    pub archived_count: u64,
    pub last_archived_wal: Option<String>,
    /// Seconds since the epoch.
    pub last_archived: Option<u64>,
    pub failed_count: u64,
    pub last_failed_wal: Option<String>,
    pub last_failed: Option<u64>,
    /// The server's clock.
    pub now: u64,
    pub server_version_num: u32,
}

const QUERY: &str = "SELECT current_setting('archive_mode'), current_setting('archive_command'), \
     coalesce(current_setting('archive_library', true), ''), current_setting('archive_timeout'), \
     archived_count::text, last_archived_wal, extract(epoch FROM last_archived_time)::bigint::text, \
     failed_count::text, last_failed_wal, extract(epoch FROM last_failed_time)::bigint::text, \
     extract(epoch FROM now())::bigint::text, current_setting('server_version_num') \
     FROM pg_stat_archiver";

pub async fn read(target: &Target) -> Result<Archiver, PgError> {
    let client = target.connect().await?;
    let rows = client
        .simple_query(QUERY)
        .await
        .map_err(|e| PgError::Query {
            context: "reading pg_stat_archiver".into(),
            message: shipline_pg::describe(&e),
        })?;
    let row = rows
        .into_iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .ok_or_else(|| PgError::Query {
            context: "reading pg_stat_archiver".into(),
            message: "no row".into(),
        })?;
    let text = |i: usize| row.get(i).map(str::to_owned);
    let num = |i: usize| row.get(i).and_then(|v| v.parse::<u64>().ok());
    Ok(Archiver {
        archive_mode: text(0).unwrap_or_default(),
        archive_command: text(1).unwrap_or_default(),
        archive_library: text(2).unwrap_or_default(),
        archive_timeout: text(3).unwrap_or_default(),
        archived_count: num(4).unwrap_or(0),
        last_archived_wal: text(5),
        last_archived: num(6),
        failed_count: num(7).unwrap_or(0),
        last_failed_wal: text(8),
        last_failed: num(9),
        now: num(10).unwrap_or_else(shipline_core::time::now_secs),
        server_version_num: row.get(11).and_then(|v| v.parse().ok()).unwrap_or(0),
    })
}

/// The WAL-archiving checks. `None` freshness when archiving is off.
pub fn assess(a: &Archiver, policy: &Policy) -> (Vec<Check>, Option<u64>) {
    let name = "WAL archiving";
    let on = matches!(a.archive_mode.as_str(), "on" | "always");
    if !on {
        let detail = "`archive_mode` is off: no WAL archive, so no point-in-time recovery. Set `archive_mode = on` and an `archive_command` (or use pgBackRest / WAL-G), then restart the server";
        return (
            vec![if policy.require_pitr {
                Check::fail(name, detail)
            } else {
                Check::skip(name, "`archive_mode` is off (not required)")
            }],
            None,
        );
    }
    let mut checks = vec![Check::pass(
        name,
        format!(
            "`archive_mode = {}`, {}",
            a.archive_mode,
            if a.archive_library.is_empty() {
                format!("`archive_command = {}`", a.archive_command)
            } else {
                format!("`archive_library = {}`", a.archive_library)
            }
        ),
    )];
    let failing_since_success = match (a.last_failed, a.last_archived) {
        (Some(f), Some(ok)) => f >= ok,
        (Some(_), None) => true,
        _ => false,
    };
    if failing_since_success {
        checks.push(Check::fail(
            "archiver",
            format!(
                "archiving is failing: {} failure(s), the last for {} at {}{}. The server keeps the WAL until it is archived, so the disk fills; read the server log for the archive command's error",
                a.failed_count,
                a.last_failed_wal.as_deref().unwrap_or("?"),
                a.last_failed.map(rfc3339).unwrap_or_default(),
                a.last_archived
                    .map(|t| format!(", the last success at {}", rfc3339(t)))
                    .unwrap_or_else(|| ", never a success".into())
            ),
        ));
    } else {
        checks.push(Check::pass(
            "archiver",
            format!(
                "{} segment(s) archived, no failure since the last success",
                a.archived_count
            ),
        ));
    }
    checks.push(match a.last_archived {
        None => Check::fail(
            "newest WAL archived",
            "nothing archived yet: run `SELECT pg_switch_wal()` and check that a segment arrives",
        ),
        Some(t) => {
            let age = a.now.saturating_sub(t);
            let text = format!(
                "{} at {} ({} min old; `max-wal-age` {})",
                a.last_archived_wal.as_deref().unwrap_or("?"),
                rfc3339(t),
                age / 60,
                format_duration(policy.max_wal_age)
            );
            if Duration::from_secs(age) > policy.max_wal_age {
                Check::fail(
                    "newest WAL archived",
                    format!(
                        "too old: {text}. An idle server only archives when a segment fills: set `archive_timeout` (now `{}`) below `max-wal-age`",
                        a.archive_timeout
                    ),
                )
            } else {
                Check::pass("newest WAL archived", text)
            }
        }
    });
    (checks, a.last_archived)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;

    fn archiver(last_archived: Option<u64>, last_failed: Option<u64>) -> Archiver {
        Archiver {
            archive_mode: "on".into(),
            archive_command: "cp %p /a/%f".into(),
            archive_library: String::new(),
            archive_timeout: "0".into(),
            archived_count: 3,
            last_archived_wal: Some("000000010000000000000003".into()),
            last_archived,
            failed_count: u64::from(last_failed.is_some()),
            last_failed_wal: last_failed.map(|_| "000000010000000000000004".into()),
            last_failed,
            now: 10_000,
            server_version_num: 150_018,
        }
    }

    fn policy(require_pitr: bool) -> Policy {
        Policy {
            max_age: Duration::from_secs(26 * 3600),
            require_pitr,
            min_retention: None,
            max_wal_age: Duration::from_secs(900),
        }
    }

    fn verdicts(checks: &[Check]) -> Vec<(&str, Verdict)> {
        checks
            .iter()
            .map(|c| (c.name.as_str(), c.verdict))
            .collect()
    }

    #[test]
    fn stale_wal_fails_and_names_archive_timeout() {
        let (checks, last) = assess(&archiver(Some(10_000 - 1800), None), &policy(true));
        assert_eq!(last, Some(8200));
        let stale = checks
            .iter()
            .find(|c| c.name == "newest WAL archived")
            .unwrap();
        assert_eq!(stale.verdict, Verdict::Fail);
        assert!(stale.detail.contains("30 min old"), "{}", stale.detail);
        assert!(stale.detail.contains("archive_timeout"), "{}", stale.detail);
        let (checks, _) = assess(&archiver(Some(10_000 - 60), None), &policy(true));
        assert!(
            checks.iter().all(|c| c.verdict == Verdict::Pass),
            "{checks:?}"
        );
    }

    #[test]
    fn a_failure_after_the_last_success_fails_an_older_one_does_not() {
        let (checks, _) = assess(&archiver(Some(9_900), Some(9_950)), &policy(true));
        assert!(verdicts(&checks).contains(&("archiver", Verdict::Fail)));
        let (checks, _) = assess(&archiver(Some(9_950), Some(9_900)), &policy(true));
        assert!(verdicts(&checks).contains(&("archiver", Verdict::Pass)));
    }

    #[test]
    fn archiving_off_fails_only_when_required() {
        let mut a = archiver(None, None);
        a.archive_mode = "off".into();
        assert_eq!(
            verdicts(&assess(&a, &policy(true)).0),
            [("WAL archiving", Verdict::Fail)]
        );
        assert_eq!(
            verdicts(&assess(&a, &policy(false)).0),
            [("WAL archiving", Verdict::Skip)]
        );
    }
}

//! Supabase: the Management API's backup listing, read-only. The restore endpoints
//! (`restore-pitr`, `backups/restore`) restore *in place*, so nothing here ever calls them.

use std::time::Duration;

use serde::Deserialize;
use shipline_core::duration::format_duration;
use shipline_core::time::{parse_rfc3339, rfc3339};
use shipline_core::{SafeUrl, Secret};
use shipline_http::{HttpClient, HttpError, Request};

use crate::check::{Check, hours};
use crate::{Freshness, Policy};

/// `V1BackupsResponse`. Every field is optional here: a missing one is reported, an unknown
/// one ignored, so an API change degrades a check instead of breaking the run.
#[derive(Debug, Default, Deserialize)]
pub struct Backups {
    pub region: Option<String>,
    pub walg_enabled: Option<bool>,
    pub pitr_enabled: Option<bool>,
    #[serde(default)]
    pub backups: Option<Vec<Backup>>,
    #[serde(default)]
    pub physical_backup_data: Option<PhysicalData>,
}

#[derive(Debug, Deserialize)]
pub struct Backup {
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    pub is_physical_backup: Option<bool>,
    pub status: Option<String>,
    pub inserted_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PhysicalData {
    pub earliest_physical_backup_date_unix: Option<i64>,
    pub latest_physical_backup_date_unix: Option<i64>,
}

/// What went wrong asking.
#[derive(Debug, thiserror::Error)]
pub enum SupabaseError {
    #[error(
        "the Supabase Management API refused `access-token` ({status}): create a personal access token at https://supabase.com/dashboard/account/tokens (or a token with `database:read`) and pass it from a secret"
    )]
    Unauthorized { status: u16 },
    #[error(
        "project `{project_ref}` was not found for this token (404): check `project-ref` (the id in the dashboard URL) and that the token's account can see it"
    )]
    NotFound { project_ref: String },
    #[error("{0}")]
    Http(#[from] HttpError),
}

/// `GET /v1/projects/{ref}/database/backups`.
pub async fn fetch(
    http: &HttpClient,
    base: &SafeUrl,
    project_ref: &str,
    token: &Secret,
) -> Result<Backups, SupabaseError> {
    let url = base
        .join_path(&format!("v1/projects/{project_ref}/database/backups"))
        .map_err(|e| HttpError::Build(format!("bad Supabase API URL: {e}")))?;
    let response = http.send(Request::get(url).bearer(token)).await?;
    match response.status.as_u16() {
        status @ (401 | 403) => Err(SupabaseError::Unauthorized { status }),
        404 => Err(SupabaseError::NotFound {
            project_ref: project_ref.to_owned(),
        }),
        _ => Ok(response.error_for_status()?.json::<Backups>()?),
    }
}

/// Retention reads in days: `7.9 days`.
fn days(secs: u64) -> String {
    format!("{:.1} days", secs as f64 / 86_400.0)
}

/// A Supabase time: RFC 3339, or the same without a zone (the API's times are UTC).
fn parse_time(text: &str) -> Option<u64> {
    parse_rfc3339(text).or_else(|| parse_rfc3339(&format!("{}Z", text.trim())))
}

fn unix(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0)
}

/// The checks, against `now` (seconds since the epoch).
pub fn assess(b: &Backups, now: u64, policy: &Policy) -> (Vec<Check>, Freshness) {
    let mut checks = Vec::new();
    match b.walg_enabled {
        Some(true) => checks.push(Check::pass("WAL-G backups", "enabled")),
        Some(false) => checks.push(Check::fail(
            "WAL-G backups",
            "`walg_enabled` is false: the project takes no physical backups",
        )),
        None => checks.push(Check::warn(
            "WAL-G backups",
            "the API did not say (`walg_enabled` missing)",
        )),
    }
    let pitr = b.pitr_enabled.unwrap_or(false);
    checks.push(match (pitr, policy.require_pitr) {
        (true, _) => Check::pass("point-in-time recovery", "enabled"),
        (false, true) => Check::fail(
            "point-in-time recovery",
            "off: a restore loses up to a day of writes. Enable the PITR add-on (Project Settings → Add-ons; needs a Small compute or larger), or set `require-pitr: false` to accept daily backups",
        ),
        (false, false) => Check::skip("point-in-time recovery", "off (not required)"),
    });

    let list = b.backups.as_deref().unwrap_or_default();
    let completed: Vec<u64> = list
        .iter()
        .filter(|x| x.status.as_deref() == Some("COMPLETED"))
        .filter_map(|x| x.inserted_at.as_deref().and_then(parse_time))
        .collect();
    let physical = b.physical_backup_data.as_ref();
    let phys_latest = physical.and_then(|p| unix(p.latest_physical_backup_date_unix));
    let phys_earliest = physical.and_then(|p| unix(p.earliest_physical_backup_date_unix));
    // PITR on: the latest restore point; off: the newest completed daily backup (the
    // physical one when the project lists no logical backups).
    let (latest, earliest, what) = if pitr {
        (phys_latest, phys_earliest, "latest physical backup")
    } else if let Some(newest) = completed.iter().max() {
        (
            Some(*newest),
            completed.iter().min().copied(),
            "newest completed backup",
        )
    } else {
        (phys_latest, phys_earliest, "latest physical backup")
    };
    let freshness = Freshness {
        latest,
        age_secs: latest.map(|t| now.saturating_sub(t)),
    };
    checks.push(match latest {
        None => Check::fail(
            "newest backup",
            if list.is_empty() {
                "none: the API lists no backups and no physical backup time. A new project takes its first backup within a day; otherwise open a support ticket".to_owned()
            } else {
                format!(
                    "none completed: {} backup(s) listed, none `COMPLETED`",
                    list.len()
                )
            },
        ),
        Some(at) => {
            let age = now.saturating_sub(at);
            let text = format!(
                "{what} at {} ({} h old; `max-age` {})",
                rfc3339(at),
                hours(age),
                format_duration(policy.max_age)
            );
            if Duration::from_secs(age) > policy.max_age {
                let hint = if pitr {
                    " The restore point lags when the database is idle; if it is busy, WAL archiving has stalled: contact Supabase support"
                } else {
                    " The daily backup did not run: check the project's status and backup schedule"
                };
                Check::fail("newest backup", format!("too old: {text}.{hint}"))
            } else {
                Check::pass("newest backup", text)
            }
        }
    });

    let window_start = now.saturating_sub(policy.max_age.as_secs());
    let failed: Vec<String> = list
        .iter()
        .filter(|x| x.status.as_deref() == Some("FAILED"))
        .filter(|x| {
            x.inserted_at
                .as_deref()
                .and_then(parse_time)
                .is_none_or(|t| t >= window_start)
        })
        .map(|x| {
            format!(
                "{} at {}",
                x.id.as_ref()
                    .map(|v| v.to_string().trim_matches('"').to_owned())
                    .unwrap_or_else(|| "?".into()),
                x.inserted_at.as_deref().unwrap_or("an unknown time")
            )
        })
        .collect();
    checks.push(if failed.is_empty() {
        Check::pass(
            "failed backups",
            format!("none in the last {}", format_duration(policy.max_age)),
        )
    } else {
        Check::fail(
            "failed backups",
            format!(
                "{} in the last {}: {}",
                failed.len(),
                format_duration(policy.max_age),
                failed.join(", ")
            ),
        )
    });

    if let Some(min) = policy.min_retention {
        checks.push(match (earliest, latest) {
            (Some(e), Some(l)) => {
                let span = l.saturating_sub(e);
                let text = format!(
                    "{} to {}: {} (`min-retention` {})",
                    rfc3339(e),
                    rfc3339(l),
                    days(span),
                    days(min.as_secs())
                );
                if Duration::from_secs(span) < min {
                    Check::fail("retention", format!("too short: {text}. Pro keeps 7 days, Team 14, Enterprise up to 30; PITR keeps what its add-on says"))
                } else {
                    Check::pass("retention", text)
                }
            }
            _ => Check::fail("retention", "no backups to measure it by"),
        });
    }
    if let Some(region) = &b.region {
        checks.push(Check::pass("region", region.clone()));
    }
    (checks, freshness)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;

    fn policy() -> Policy {
        Policy {
            max_age: Duration::from_secs(26 * 3600),
            require_pitr: false,
            min_retention: None,
            max_wal_age: Duration::from_secs(900),
        }
    }

    fn verdict(checks: &[Check], name: &str) -> Verdict {
        checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.verdict)
            .unwrap_or_else(|| panic!("no check `{name}` in {checks:?}"))
    }

    #[test]
    fn missing_fields_are_reported_not_fatal() {
        let b: Backups =
            serde_json::from_str(r#"{"unknown": 1, "physical_backup_data": null}"#).unwrap();
        let (checks, fresh) = assess(&b, 1_000_000, &policy());
        assert_eq!(verdict(&checks, "WAL-G backups"), Verdict::Warn);
        assert_eq!(verdict(&checks, "newest backup"), Verdict::Fail);
        assert_eq!(fresh.latest, None);
    }

    #[test]
    fn times_without_a_zone_are_utc() {
        assert_eq!(
            parse_time("2026-12-03T00:00:00.123"),
            parse_time("2026-12-03T00:00:00Z")
        );
        assert!(parse_time("yesterday").is_none());
    }
}

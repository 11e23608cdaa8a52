//! Putting a release back: find the last good one in the deployment records, ask the host
//! whether it still has it, switch production to it, verify, and rewrite the records.
//! `shipline-rollback` runs it, and so does `shipline-deploy` with `rollback-on-failure`.

use std::time::Instant;

use shipline_core::InputError;
use shipline_hosting::record::{
    HistoryEntry, Record, RecordError, RecordId, Records, State, Status,
};

use crate::provider::{DeployError, Provider, Switch};
use crate::verify::{self, Check, Verification};

/// Which release to put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// The newest good deployment older than the one serving now.
    Previous,
    /// A provider deployment id, or a git SHA (7 to 40 hex digits).
    Id(String),
    /// The deployment that served before this run's promote (`rollback-on-failure`): the
    /// host had it live a moment ago, so a missing record is no reason to stop.
    Served(String),
}

/// The release to put back.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    /// Its record, when it has one (a [`Want::Served`] target may not).
    pub record: Option<(RecordId, Record)>,
    pub switch: Switch,
}

/// What serves production now.
#[derive(Debug, Clone)]
pub struct Live {
    pub id: String,
    pub record: Option<(RecordId, Record)>,
}

/// What a rollback will do, decided before anything changes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub environment: String,
    pub from: Option<Live>,
    pub target: Target,
    /// Records passed over, and why (the host no longer has the deployment).
    pub warnings: Vec<String>,
    /// Records read to decide.
    pub examined: usize,
}

impl Plan {
    /// The target already serves production: nothing to do.
    pub fn is_noop(&self) -> bool {
        self.from.as_ref().is_some_and(|f| f.id == self.target.id)
    }

    /// The target's recorded schema version.
    pub fn migration_version(&self) -> Option<&str> {
        self.target
            .record
            .as_ref()
            .and_then(|(_, r)| r.migration_version.as_deref())
    }

    /// `abc1234` (the commit) or the deployment id, for messages.
    pub fn from_label(&self) -> String {
        match &self.from {
            Some(live) => label(&live.id, live.record.as_ref().map(|(_, r)| r)),
            None => "nothing".into(),
        }
    }

    pub fn target_label(&self) -> String {
        label(&self.target.id, self.target.record.as_ref().map(|(_, r)| r))
    }
}

fn label(id: &str, record: Option<&Record>) -> String {
    match record.and_then(|r| r.git_sha.as_deref()) {
        Some(sha) => format!("{} ({id})", sha.chars().take(7).collect::<String>()),
        None => id.to_owned(),
    }
}

/// Why there is no rollback.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    /// Nothing to go back to (exit 1, nothing changed).
    #[error("{0}")]
    Nothing(String),
    /// The `to` input names nothing that exists (exit 2).
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Host(#[from] DeployError),
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// Host deployment ids are letters, digits, `-` and `_` (Vercel `dpl_…`, Netlify hex, fs
/// release names).
pub fn is_deployment_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether `want` (an id, or a SHA prefix of at least 7 hex digits) names `record`.
fn names(record: &Record, want: &str) -> bool {
    if record.provider_deployment_id == want {
        return true;
    }
    let sha_like = want.len() >= 7 && want.chars().all(|c| c.is_ascii_hexdigit());
    sha_like
        && record.git_sha.as_deref().is_some_and(|sha| {
            sha.to_ascii_lowercase()
                .starts_with(&want.to_ascii_lowercase())
        })
}

/// Decides what to put back. Reads only: the records newest first, a page at a time, and
/// the host for what serves now and whether it still has the chosen deployment.
pub async fn plan<P: Provider>(
    provider: &P,
    records: &Records,
    environment: &str,
    want: &Want,
) -> Result<Plan, RollbackError> {
    let live_id = provider.live().await?;
    let mut history = records.history(environment);
    let mut plan = Plan {
        environment: environment.to_owned(),
        from: live_id.clone().map(|id| Live { id, record: None }),
        target: Target {
            id: String::new(),
            record: None,
            switch: Switch::Rollback,
        },
        warnings: Vec::new(),
        examined: 0,
    };
    // With nothing live, every record is older than what serves now.
    let mut past_live = live_id.is_none();
    // Records newer than the live one, in case the live one has no record at all.
    let mut newer: Vec<HistoryEntry> = Vec::new();
    let mut found: Option<Target> = None;
    while let Some(entry) = history.next().await? {
        let Some(record) = entry.record.clone() else {
            continue;
        };
        if record.provider != provider.name() {
            continue;
        }
        // The id goes into API paths: a record (anyone with `deployments: write` can write
        // one) must not be able to point a call elsewhere.
        if !is_deployment_id(&record.provider_deployment_id) {
            plan.warnings.push(format!(
                "skipped record `{}`: `{}` is not a deployment id",
                entry.id.0, record.provider_deployment_id
            ));
            continue;
        }
        plan.examined += 1;
        let is_live = live_id.as_deref() == Some(record.provider_deployment_id.as_str());
        if is_live && let Some(live) = plan.from.as_mut() {
            live.record = Some((entry.id.clone(), record.clone()));
        }
        match want {
            Want::Previous => {
                if is_live {
                    past_live = true;
                } else if !past_live {
                    newer.push(entry);
                } else if let Some(target) = good(provider, records, &entry, &mut plan).await? {
                    plan.target = target;
                    return Ok(plan);
                }
            }
            Want::Id(want) | Want::Served(want) => {
                if found.is_none() && names(&record, want) {
                    if is_live {
                        found = Some(Target {
                            id: record.provider_deployment_id.clone(),
                            record: Some((entry.id.clone(), record.clone())),
                            switch: Switch::Rollback,
                        });
                    } else {
                        found = chosen(provider, records, &entry, want, &mut plan).await?;
                    }
                }
                // The live record is rewritten too: keep reading until it is known.
                let live_known =
                    live_id.is_none() || plan.from.as_ref().is_some_and(|l| l.record.is_some());
                if found.is_some() && live_known {
                    break;
                }
            }
        }
    }
    match want {
        Want::Previous => {
            if !past_live {
                // What serves now has no record (deployed by hand or by another tool): the
                // newest good record that is not it.
                plan.warnings.push(format!(
                    "the deployment serving now (`{}`) has no shipline record in `{environment}`; taking the newest good one",
                    live_id.clone().unwrap_or_default()
                ));
                for entry in newer {
                    if let Some(target) = good(provider, records, &entry, &mut plan).await? {
                        plan.target = target;
                        return Ok(plan);
                    }
                }
            }
            Err(RollbackError::Nothing(format!(
                "no earlier successful deployment on {} in `{environment}` to go back to ({} record(s) read); nothing was changed",
                provider.name(),
                plan.examined
            )))
        }
        Want::Id(want) => match found {
            Some(target) => {
                plan.target = target;
                Ok(plan)
            }
            None => Err(RollbackError::Input(InputError::new(
                "to",
                format!(
                    "no {} deployment record in `{environment}` has the id or commit `{want}` ({} record(s) read)",
                    provider.name(),
                    plan.examined
                ),
            ))),
        },
        Want::Served(id) => {
            if let Some(target) = found {
                plan.target = target;
                return Ok(plan);
            }
            match provider.find(id).await? {
                Some(switch) => {
                    plan.target = Target {
                        id: id.clone(),
                        record: None,
                        switch,
                    };
                    Ok(plan)
                }
                None => Err(RollbackError::Nothing(format!(
                    "{} no longer has `{id}`, the deployment that served before",
                    provider.name()
                ))),
            }
        }
    }
}

/// A `previous` candidate: its newest status is `success` and the host still has it.
async fn good<P: Provider>(
    provider: &P,
    records: &Records,
    entry: &HistoryEntry,
    plan: &mut Plan,
) -> Result<Option<Target>, RollbackError> {
    let Some(record) = &entry.record else {
        return Ok(None);
    };
    let latest = records.latest(entry).await?;
    if latest.is_none_or(|l| l.state != State::Success) {
        // Failed verification, rolled back from, or never finished.
        return Ok(None);
    }
    let id = &record.provider_deployment_id;
    match provider.find(id).await? {
        Some(switch) => Ok(Some(Target {
            id: id.clone(),
            record: Some((entry.id.clone(), record.clone())),
            switch,
        })),
        None => {
            plan.warnings.push(format!(
                "skipped `{id}` ({}): {} no longer has it",
                label(id, Some(record)),
                provider.name()
            ));
            Ok(None)
        }
    }
}

/// A target named by `to`: any record that once passed verification, if the host has it.
async fn chosen<P: Provider>(
    provider: &P,
    records: &Records,
    entry: &HistoryEntry,
    want: &str,
    plan: &mut Plan,
) -> Result<Option<Target>, RollbackError> {
    let Some(record) = &entry.record else {
        return Ok(None);
    };
    let id = &record.provider_deployment_id;
    let latest = records.latest(entry).await?;
    match latest.as_ref().map(|l| l.state) {
        // Inactive: superseded or rolled back from; the user named it, so it may go back.
        Some(State::Success | State::Inactive) => {}
        state => {
            let why = state.map_or("no status", State::as_str);
            let detail = latest.map(|l| l.description).unwrap_or_default();
            let message = format!(
                "`{want}` names `{id}`, which never passed verification ({why}{}); pick a deployment that did",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            );
            // A SHA may have a good deployment further back; an id names this one only.
            if id == want {
                return Err(RollbackError::Input(InputError::new("to", message)));
            }
            plan.warnings.push(message);
            return Ok(None);
        }
    }
    match provider.find(id).await? {
        Some(switch) => Ok(Some(Target {
            id: id.clone(),
            record: Some((entry.id.clone(), record.clone())),
            switch,
        })),
        None if id == want => Err(RollbackError::Nothing(format!(
            "{} no longer has `{id}`; nothing was changed",
            provider.name()
        ))),
        None => {
            plan.warnings.push(format!(
                "skipped `{id}` ({}): {} no longer has it",
                label(id, Some(record)),
                provider.name()
            ));
            Ok(None)
        }
    }
}

/// How to check the restored release, and what to write.
pub struct Execution<'a> {
    pub reason: &'a str,
    pub spa: bool,
    pub check: Check<'a>,
    pub deadline: Instant,
    pub log_url: Option<&'a str>,
    /// What the replaced deployment becomes: `inactive` (rolled back from), or `failure`
    /// (a deploy whose post-promote check failed).
    pub from_state: State,
}

/// What a rollback did.
#[derive(Debug, Clone)]
pub struct Done {
    pub url: String,
    pub verification: Verification,
}

/// Switches production to the plan's target, verifies it, and rewrites the records. The
/// deployment being replaced is marked `in_progress` first: that proves the token may
/// write records before production moves, and shows the rollback on the deployments page
/// while it runs. The target's record is written only once production serves it.
pub async fn execute<P: Provider>(
    provider: &P,
    records: &Records,
    plan: &Plan,
    run: &Execution<'_>,
) -> Result<Done, RollbackError> {
    let target = plan.target_label();
    let from_record = plan
        .from
        .as_ref()
        .and_then(|f| f.record.as_ref())
        .map(|(id, r)| (id, r.url.as_str()));
    if let Some((id, url)) = from_record {
        records
            .set_status(
                id,
                &Status {
                    state: State::InProgress,
                    description: &format!("rolling back to {target}: {}", run.reason),
                    environment_url: Some(url),
                    log_url: run.log_url,
                },
            )
            .await?;
    }
    let switched = provider
        .switch_to(
            &plan.target.id,
            plan.target.switch,
            run.reason,
            run.deadline,
        )
        .await;
    let url = match switched {
        Ok(url) => url,
        Err(e) => {
            // Production did not move: what served still serves.
            if let Some((id, url)) = from_record {
                let _ = records
                    .set_status(
                        id,
                        &Status {
                            state: State::Success,
                            description: &format!("still live: a rollback to {target} failed: {e}"),
                            environment_url: Some(url),
                            log_url: run.log_url,
                        },
                    )
                    .await;
            }
            return Err(e.into());
        }
    };
    let verification = verify::live_url(&url, run.spa, &run.check).await;
    let from = plan.from_label();
    if let Some((id, _)) = &plan.target.record {
        let description = if verification.ok {
            format!("rollback from {from}: {}", run.reason)
        } else {
            format!(
                "rolled back to from {from}, but the check failed: {}",
                verification.detail
            )
        };
        records
            .set_status(
                id,
                &Status {
                    state: if verification.ok {
                        State::Success
                    } else {
                        State::Failure
                    },
                    description: &description,
                    environment_url: Some(&url),
                    log_url: run.log_url,
                },
            )
            .await?;
    }
    if let Some((id, _)) = from_record {
        records
            .set_status(
                id,
                &Status {
                    state: run.from_state,
                    description: &format!("rolled back to {target}: {}", run.reason),
                    environment_url: None,
                    log_url: run.log_url,
                },
            )
            .await?;
    }
    Ok(Done { url, verification })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, sha: Option<&str>) -> Record {
        Record {
            provider: "vercel".into(),
            provider_deployment_id: id.into(),
            url: String::new(),
            environment: "production".into(),
            git_sha: sha.map(str::to_owned),
            migration_version: None,
            artifact_sha256: String::new(),
            created_at: String::new(),
        }
    }

    #[test]
    fn to_names_an_id_exactly_and_a_commit_by_a_prefix_of_seven_or_more() {
        let r = record("dpl_0001", Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246"));
        assert!(names(&r, "dpl_0001"));
        assert!(names(&r, "6113728"));
        assert!(names(&r, "6113728F27AE"));
        assert!(
            !names(&r, "611372"),
            "six digits are too few to name a commit"
        );
        assert!(!names(&r, "dpl_000"));
        assert!(!names(&record("x", None), "6113728"));
    }

    #[test]
    fn deployment_ids_cannot_leave_their_path_segment() {
        assert!(is_deployment_id("dpl_7Gx2"));
        assert!(is_deployment_id("64f1a2b3c4d5e6f7a8b9c0d1"));
        for bad in ["", "../x", "a/b", "a?b", "a%2Fb", "é"] {
            assert!(!is_deployment_id(bad), "{bad}");
        }
        let long = "a".repeat(129);
        assert!(!is_deployment_id(&long));
    }

    #[test]
    fn labels_cut_commits_by_characters() {
        assert_eq!(
            label("r1", Some(&record("r1", Some("ééééééééé")))),
            "ééééééé (r1)"
        );
        assert_eq!(label("r1", None), "r1");
    }
}

//! `github-deployment`: a status on a shipline deployment record, for custom steps (a
//! manual check, an external test run) that decide how a deploy went; or on every record
//! of one environment (a closed pull request's previews, set inactive).

use serde_json::json;
use shipline_core::SafeUrl;
use shipline_http::Method;

use crate::error::NotifyError;
use crate::github::GitHub;
use crate::notice::{Notice, Status, one_line, truncate};

/// GitHub's state for a notice status.
pub fn state_of(status: Status) -> &'static str {
    match status {
        Status::Success => "success",
        Status::Failure => "failure",
        Status::InProgress => "in_progress",
        // A cancelled or skipped deploy serves nothing.
        Status::Cancelled | Status::Skipped => "inactive",
    }
}

/// Sets the status; refuses a deployment that is not a shipline record (no
/// `payload.shipline`), so a custom step cannot mark another tool's deployment.
pub async fn set_status(gh: &GitHub, id: u64, notice: &Notice) -> Result<String, NotifyError> {
    let deployment = gh
        .get(
            gh.repo_url(&format!("deployments/{id}"))?,
            "deployments: read",
        )
        .await
        .map_err(|e| match e {
            NotifyError::Http(ref h) if h.status() == Some(404) => NotifyError::Input(format!(
                "`github-deployment-id` {id}: GitHub has no such deployment in this repository"
            )),
            other => other,
        })?;
    let record = &deployment["payload"]["shipline"];
    if !record.is_object() {
        return Err(NotifyError::Input(format!(
            "`github-deployment-id` {id} is not a shipline deployment record (its payload has no `shipline`); notify only sets statuses on records `deploy` wrote"
        )));
    }
    let state = state_of(notice.status);
    let description = truncate(
        &one_line(notice.message.as_deref().unwrap_or(&notice.title)),
        140,
    );
    let mut body = json!({ "state": state, "description": description, "auto_inactive": false });
    if let Some(url) = notice
        .url
        .as_deref()
        .or_else(|| record["url"].as_str())
        .filter(|_| state == "success" || state == "in_progress")
    {
        body["environment_url"] = url.into();
    }
    if let Some(run) = &notice.origin.run_url {
        body["log_url"] = run.clone().into();
    }
    gh.send(
        Method::POST,
        gh.repo_url(&format!("deployments/{id}/statuses"))?,
        &body,
        "deployments: write",
    )
    .await?;
    Ok(state.to_owned())
}

/// Sets the status on every shipline record of `environment` whose latest status differs;
/// returns how many changed. Records of other tools are left alone.
pub async fn set_status_all(
    gh: &GitHub,
    environment: &str,
    notice: &Notice,
) -> Result<usize, NotifyError> {
    let mut url = gh.repo_url("deployments")?.into_inner();
    url.query_pairs_mut()
        .append_pair("environment", environment)
        .append_pair("per_page", "100");
    let deployments = gh.get_all(SafeUrl::from(url), "deployments: read").await?;
    let state = state_of(notice.status);
    let mut changed = 0;
    for deployment in deployments {
        let Some(id) = deployment["id"].as_u64() else {
            continue;
        };
        if !deployment["payload"]["shipline"].is_object() {
            continue;
        }
        let mut statuses = gh
            .repo_url(&format!("deployments/{id}/statuses"))?
            .into_inner();
        statuses.query_pairs_mut().append_pair("per_page", "1");
        let latest = gh.get(SafeUrl::from(statuses), "deployments: read").await?;
        if latest[0]["state"].as_str() == Some(state) {
            continue;
        }
        set_status(gh, id, notice).await?;
        changed += 1;
    }
    Ok(changed)
}

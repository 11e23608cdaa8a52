//! Why a target could not be told.

use shipline_http::HttpError;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("GitHub did not accept `github-token` (401): is it a token of this repository?")]
    GitHubUnauthorized,
    #[error(
        "GitHub refused (403: {detail}): the token lacks `{permission}`; add `permissions: {{ {permission} }}` to the job{hint}"
    )]
    GitHubForbidden {
        permission: &'static str,
        detail: String,
        hint: &'static str,
    },
    #[error(transparent)]
    Http(HttpError),
    /// A service's own refusal, already worded (Slack's `ok: false`, a webhook's 4xx). Never
    /// carries the URL: a webhook URL is its credential.
    #[error("{0}")]
    Service(String),
    /// The inputs do not fit what the service holds (a deployment id that is not ours).
    #[error("{0}")]
    Input(String),
}

impl NotifyError {
    /// GitHub's answer mapped to the permission the call needs.
    pub fn github(error: HttpError, permission: &'static str) -> NotifyError {
        match error.status() {
            Some(401) => NotifyError::GitHubUnauthorized,
            Some(403) => NotifyError::GitHubForbidden {
                permission,
                detail: detail_of(&error),
                hint: if permission == "pull-requests: write" {
                    " (a pull request from a fork never gets it: post the comment from a `workflow_run` workflow, see docs/actions/notify.md)"
                } else {
                    ""
                },
            },
            _ => NotifyError::Http(error),
        }
    }

    /// An error of a request to a secret URL (a webhook), reduced to what the service said.
    pub fn hook(service: &str, error: HttpError) -> NotifyError {
        let what = match &error {
            HttpError::Status { status, detail, .. } => format!("answered {status}: {detail}"),
            HttpError::GaveUp {
                attempts,
                last,
                elapsed_ms,
                ..
            } => format!("kept failing ({attempts} attempt(s) in {elapsed_ms} ms): {last}"),
            HttpError::Transport { message, .. } => format!("could not be reached: {message}"),
            HttpError::Decode { message, .. } => {
                format!("answered with unreadable JSON: {message}")
            }
            HttpError::Build(message) => message.clone(),
        };
        NotifyError::Service(format!("the {service} webhook {what}"))
    }
}

fn detail_of(error: &HttpError) -> String {
    match error {
        HttpError::Status { detail, .. } => detail.clone(),
        other => other.to_string(),
    }
}

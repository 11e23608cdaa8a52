//! The event that started the workflow, from `$GITHUB_EVENT_NAME` and `$GITHUB_EVENT_PATH`.
//!
//! Only the fields shipline uses are typed; unknown fields are ignored, and missing optional
//! ones are `None`, because payloads grow over time and differ between GitHub.com and GHES.

use serde::Deserialize;

/// A repository as it appears in event payloads.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Repository {
    pub full_name: String,
    #[serde(default)]
    pub fork: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A user or bot.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
}

/// A commit in a push.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    #[serde(default)]
    pub message: String,
}

/// `push`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PushEvent {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub before: String,
    pub after: String,
    pub repository: Repository,
    #[serde(default)]
    pub head_commit: Option<Commit>,
    #[serde(default)]
    pub sender: Option<Actor>,
}

/// One side of a pull request.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Branch {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    /// `None` when the head repository was deleted.
    #[serde(default)]
    pub repo: Option<Repository>,
}

/// The pull request object.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub html_url: Option<String>,
    pub head: Branch,
    pub base: Branch,
    #[serde(default)]
    pub user: Option<Actor>,
}

/// `pull_request` (and `pull_request_target`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PullRequestEvent {
    pub action: String,
    pub number: u64,
    pub pull_request: PullRequest,
    pub repository: Repository,
}

impl PullRequestEvent {
    /// A pull request from a fork runs with a read-only token and no secrets.
    pub fn is_from_fork(&self) -> bool {
        match &self.pull_request.head.repo {
            Some(head) => head.full_name != self.repository.full_name,
            None => true,
        }
    }
}

/// `workflow_dispatch`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct WorkflowDispatchEvent {
    #[serde(rename = "ref")]
    pub git_ref: String,
    #[serde(default)]
    pub inputs: Option<serde_json::Map<String, serde_json::Value>>,
    pub repository: Repository,
    #[serde(default)]
    pub sender: Option<Actor>,
}

/// `schedule`: the payload carries the cron line that fired.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ScheduleEvent {
    pub schedule: String,
    #[serde(default)]
    pub repository: Option<Repository>,
}

/// The triggering event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Push(PushEvent),
    PullRequest(Box<PullRequestEvent>),
    WorkflowDispatch(WorkflowDispatchEvent),
    Schedule(ScheduleEvent),
    /// Any other event: its name, payload not typed.
    Other(String),
    /// Not running in Actions, or no event payload.
    None,
}

impl Event {
    /// Parses a payload for the named event.
    pub fn parse(name: &str, payload: &str) -> Result<Event, serde_json::Error> {
        Ok(match name {
            "push" => Event::Push(serde_json::from_str(payload)?),
            "pull_request" | "pull_request_target" => {
                Event::PullRequest(Box::new(serde_json::from_str(payload)?))
            }
            "workflow_dispatch" => Event::WorkflowDispatch(serde_json::from_str(payload)?),
            "schedule" => Event::Schedule(serde_json::from_str(payload)?),
            other => Event::Other(other.to_owned()),
        })
    }

    /// Reads the event from the runner's environment.
    pub fn from_env(name: Option<&str>, path: Option<&str>) -> Result<Event, crate::ActionsError> {
        let (Some(name), Some(path)) = (name, path) else {
            return Ok(Event::None);
        };
        let text = std::fs::read_to_string(path).map_err(|e| crate::ActionsError::Event {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Event::parse(name, &text).map_err(|e| crate::ActionsError::Event {
            path: path.to_owned(),
            message: format!("not a `{name}` payload: {e}"),
        })
    }

    /// The pull request number, when the event is about one.
    pub fn pull_request_number(&self) -> Option<u64> {
        match self {
            Event::PullRequest(pr) => Some(pr.number),
            _ => None,
        }
    }

    /// The commit the event is about (a PR's head, not the merge commit `GITHUB_SHA` names).
    pub fn head_sha(&self) -> Option<&str> {
        match self {
            Event::Push(push) => Some(&push.after),
            Event::PullRequest(pr) => Some(&pr.pull_request.head.sha),
            _ => None,
        }
    }
}

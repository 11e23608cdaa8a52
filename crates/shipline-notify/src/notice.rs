//! What is being told, typed once: every target renders this, never a string template, so a
//! PR title with quotes, newlines or Markdown cannot break a payload.

use serde::Serialize;

/// How the thing being reported went (the values of a step's `outcome`, plus `in_progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Success,
    Failure,
    Cancelled,
    Skipped,
    InProgress,
}

impl Status {
    pub const NAMES: [&'static str; 5] =
        ["success", "failure", "cancelled", "skipped", "in_progress"];

    pub fn parse(word: &str) -> Option<Status> {
        Some(match word {
            "success" => Status::Success,
            "failure" => Status::Failure,
            "cancelled" => Status::Cancelled,
            "skipped" => Status::Skipped,
            "in_progress" => Status::InProgress,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Cancelled => "cancelled",
            Status::Skipped => "skipped",
            Status::InProgress => "in_progress",
        }
    }

    /// A person's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Status::Success => "succeeded",
            Status::Failure => "failed",
            Status::Cancelled => "cancelled",
            Status::Skipped => "skipped",
            Status::InProgress => "in progress",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            Status::Success => "✅",
            Status::Failure => "❌",
            Status::Cancelled => "⚪",
            Status::Skipped => "⏭️",
            Status::InProgress => "⏳",
        }
    }

    /// `#rrggbb`: green, red, grey, grey, blue.
    pub fn colour(self) -> u32 {
        match self {
            Status::Success => 0x2e_b8_86,
            Status::Failure => 0xd0_24_2b,
            Status::Cancelled | Status::Skipped => 0x8b_94_9e,
            Status::InProgress => 0x1f_6f_eb,
        }
    }
}

/// When a mention is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MentionOn {
    Never,
    Always,
    /// Only for these statuses (default: `failure`).
    Statuses(Vec<Status>),
}

/// Where the run happened, for links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub repository: Option<String>,
    pub commit: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub run_url: Option<String>,
    pub actor: Option<String>,
    pub workflow: Option<String>,
    pub job: Option<String>,
    pub server_url: Option<String>,
}

impl Origin {
    /// This run's repository, ref, actor, workflow, job and link, about `commit`.
    pub fn of_run(github: &shipline_actions::GithubContext, commit: Option<String>) -> Origin {
        Origin {
            repository: github.repository.clone(),
            commit,
            git_ref: github.git_ref.clone(),
            run_url: github.run_url(),
            actor: github.actor.clone(),
            workflow: github.workflow.clone(),
            job: github.job.clone(),
            server_url: github.server_url.clone(),
        }
    }

    /// `https://github.com/<repo>/commit/<sha>`.
    pub fn commit_url(&self) -> Option<String> {
        let server = self.server_url.as_deref().unwrap_or("https://github.com");
        Some(format!(
            "{}/{}/commit/{}",
            server.trim_end_matches('/'),
            self.repository.as_deref()?,
            self.commit.as_deref()?
        ))
    }

    pub fn short_commit(&self) -> Option<&str> {
        self.commit.as_deref().map(|c| &c[..c.len().min(7)])
    }
}

/// One notification.
#[derive(Debug, Clone)]
pub struct Notice {
    pub status: Status,
    pub title: String,
    /// Markdown.
    pub message: Option<String>,
    /// The thing to open (the deployment, the site).
    pub url: Option<String>,
    pub environment: Option<String>,
    /// A summary of the migration plan (`2 pending: …`), shown in its own row.
    pub migrations: Option<String>,
    /// How long the parts took (`build 41s, deploy 7s`).
    pub timings: Option<String>,
    /// More rows, in order.
    pub fields: Vec<(String, String)>,
    /// Who to ping (`<!here>`, `<@U123>`, `<@&role>`), and when.
    pub mention: Option<String>,
    pub mention_on: MentionOn,
    pub origin: Origin,
}

impl Notice {
    /// The headline every target starts with: `✅ Deployed Acme`.
    pub fn headline(&self) -> String {
        format!("{} {}", self.status.emoji(), one_line(&self.title))
    }

    /// The mention to add to this notice, if any: by default only a failure pings people.
    pub fn mention_now(&self) -> Option<&str> {
        let mention = self.mention.as_deref()?;
        let wanted = match &self.mention_on {
            MentionOn::Never => false,
            MentionOn::Always => true,
            MentionOn::Statuses(list) => list.contains(&self.status),
        };
        wanted.then_some(mention)
    }

    /// Status, URL, commit, environment, migrations, timings and the extra fields, in the
    /// order every target shows them. Values are plain text.
    pub fn rows(&self) -> Vec<(String, String)> {
        let mut rows = vec![(
            "Status".to_owned(),
            format!("{} {}", self.status.emoji(), self.status.word()),
        )];
        if let Some(url) = &self.url {
            rows.push(("URL".into(), url.clone()));
        }
        if let Some(sha) = self.origin.short_commit() {
            rows.push(("Commit".into(), sha.to_owned()));
        }
        if let Some(env) = &self.environment {
            rows.push(("Environment".into(), env.clone()));
        }
        if let Some(m) = &self.migrations {
            rows.push(("Migrations".into(), m.clone()));
        }
        if let Some(t) = &self.timings {
            rows.push(("Timings".into(), t.clone()));
        }
        rows.extend(self.fields.iter().cloned());
        rows
    }
}

/// Newlines and runs of whitespace folded to single spaces: titles go where a newline would
/// end the heading (Markdown) or be refused (Slack headers).
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(status: Status) -> Notice {
        Notice {
            status,
            title: "Deployed\n\"Acme\"  app".into(),
            message: None,
            url: None,
            environment: None,
            migrations: None,
            timings: None,
            fields: Vec::new(),
            mention: Some("<!here>".into()),
            mention_on: MentionOn::Statuses(vec![Status::Failure]),
            origin: Origin::default(),
        }
    }

    #[test]
    fn mentions_only_on_failure_by_default() {
        assert_eq!(notice(Status::Success).mention_now(), None);
        assert_eq!(notice(Status::Failure).mention_now(), Some("<!here>"));
        let mut always = notice(Status::Success);
        always.mention_on = MentionOn::Always;
        assert_eq!(always.mention_now(), Some("<!here>"));
    }

    #[test]
    fn headlines_are_one_line() {
        assert_eq!(
            notice(Status::Success).headline(),
            "✅ Deployed \"Acme\" app"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        for name in Status::NAMES {
            assert_eq!(Status::parse(name).map(Status::as_str), Some(name));
        }
    }
}

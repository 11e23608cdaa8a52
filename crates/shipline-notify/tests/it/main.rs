//! `shipline-notify` as a process in a simulated Actions step.
#![allow(clippy::unwrap_used)] // tests: a failed setup should stop the test loudly

mod chat;
mod comment;
mod common;
mod github;
mod hooks;
mod sentry;
mod targets;

use shipline_notify::Notify;
use shipline_testkit::{ActionsStep, contract};

/// Inputs given, the input the error must name, and what it must say.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

pub const EXE: &str = env!("CARGO_BIN_EXE_shipline-notify");

#[test]
fn help_and_bad_arguments() {
    contract::assert_help_documents_every_input::<Notify>(EXE);
    contract::assert_bad_arguments_exit_2::<Notify>(EXE);
}

#[test]
fn targets_and_their_credentials() {
    let pr = || ActionsStep::pull_request();
    let cases: &[Case] = &[
        (&[], "to", "is required"),
        (
            &[("to", "github-comment, pager")],
            "to",
            "`pager` is not one of",
        ),
        (
            &[("to", "github-comment")],
            "github-token",
            "or `GITHUB_TOKEN`",
        ),
        (&[("to", "discord")], "webhook-url", "is required"),
        (
            &[("to", "discord,teams"), ("webhook-url", "https://h/x")],
            "to",
            "share `webhook-url`",
        ),
        (&[("to", "slack")], "slack-token", "`SLACK_WEBHOOK_URL`"),
        (
            &[("to", "slack"), ("slack-token", "xoxb-1")],
            "slack-channel",
            "is required",
        ),
        (
            &[("to", "sentry"), ("sentry-token", "sntrys_1")],
            "sentry-org",
            "or `SENTRY_ORG`",
        ),
        (
            &[
                ("to", "webhook"),
                ("webhook-url", "ftp://hooks.example/T0K3N"),
            ],
            "webhook-url",
            "its value is not shown because it is a secret",
        ),
        (
            &[
                ("to", "webhook"),
                ("webhook-url", "https://h/x"),
                ("status", "ok"),
            ],
            "status",
            "`ok` is not one of",
        ),
    ];
    for (inputs, input, message) in cases {
        assert_refused(pr(), inputs, input, message);
    }
}

/// Exit 2 with the input named, the message said, and the webhook URL's token never shown.
fn assert_refused(mut step: ActionsStep, inputs: &[(&str, &str)], input: &str, message: &str) {
    for (k, v) in inputs {
        step = step.input(k, v);
    }
    let result = step.run(EXE, &[]);
    assert_eq!(result.code, Some(2), "{input}: {}", result.everything());
    assert!(
        result
            .stdout
            .contains(&format!("::error title=invalid input `{input}`::")),
        "{input}: {}",
        result.stdout
    );
    assert!(
        result.stdout.contains(message),
        "{input}: {}",
        result.stdout
    );
    assert!(
        !result.shown().contains("T0K3N"),
        "a webhook URL is never echoed: {}",
        result.shown()
    );
}

#[test]
fn the_new_inputs_are_checked_before_anything_is_sent() {
    let hook = [("to", "webhook"), ("webhook-url", "https://h/T0K3N")];
    let cases: &[Case] = &[
        (
            &[("comment-mode", "replace")],
            "comment-mode",
            "`replace` is not one of",
        ),
        (
            &[("pr-number", "forty-two")],
            "pr-number",
            "is not a number",
        ),
        (&[("commit", "main")], "commit", "is not a commit SHA"),
        (
            &[("fields", "Region: eu\nno colon here")],
            "fields",
            "line 2 is not `Name: value`",
        ),
        (
            &[("mention-on", "sometimes")],
            "mention-on",
            "`sometimes` is not one of",
        ),
        (
            &[("started-at", "yesterday")],
            "started-at",
            "is not an RFC 3339 time",
        ),
        (
            &[("message", "a"), ("message-file", "b.md")],
            "message-file",
            "cannot be combined",
        ),
        (
            &[("message-file", "/nonexistent/body.md")],
            "message-file",
            "cannot be read",
        ),
        (
            &[("status", "skipped"), ("slack-ts", "x")],
            "slack-ts",
            "is not a Slack message `ts`",
        ),
    ];
    for (extra, input, message) in cases {
        let inputs: Vec<(&str, &str)> = hook.iter().chain(extra.iter()).copied().collect();
        assert_refused(ActionsStep::push(), &inputs, input, message);
    }
    // A Slack incoming webhook can neither update nor thread.
    let result = ActionsStep::push()
        .input("to", "slack")
        .input("slack-thread-ts", "1767225600.000001")
        .env(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/XYZ123",
        )
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result.stdout.contains("needs `slack-token`"),
        "{}",
        result.stdout
    );
    assert!(!result.shown().contains("XYZ123"), "{}", result.shown());
    // `github-deployment` needs the record's id.
    let result = ActionsStep::push()
        .input("to", "github-deployment")
        .env("GITHUB_TOKEN", "ghs_1234")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `github-deployment-id`"),
        "{}",
        result.stdout
    );
}

//! Several targets in one run: one failing does not stop the rest, and no secret is shown.

use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::{discord, slack, webhook};

use crate::EXE;
use crate::common::{GH_TOKEN, PR, comments, github, on_pr};

#[test]
fn one_failing_target_does_not_stop_the_others_and_the_exit_status_names_it() {
    let gh = github();
    let s = slack::start("xoxb-multi-s3cr3t");
    let w = webhook::start();
    let result = on_pr(&gh)
        .env("SLACK_API_URL", &s.base_url())
        .input("to", "slack, github-comment\nwebhook")
        .input("slack-token", "xoxb-multi-s3cr3t")
        .input("slack-channel", "C0NOTMINE")
        .input(
            "webhook-url",
            &format!("{}/hook/multiS3cr3tPath", w.base_url()),
        )
        .input("webhook-secret", "whsec_multi_s3cr3t")
        .input("status", "failure")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(result.outputs["failed"], "slack");
    assert!(
        result.outputs.contains_key("comment-id"),
        "{:?}",
        result.outputs
    );
    assert_eq!(
        comments(&gh, PR).len(),
        1,
        "the comment after the failed Slack post was made"
    );
    assert_eq!(w.state().bodies.len(), 1, "and the webhook after it");
    assert!(
        result
            .stdout
            .contains("::error title=notify%3A slack failed::"),
        "{}",
        result.stdout
    );
    assert!(
        result.summary.contains("1 target failed (slack), 2 sent"),
        "{}",
        result.summary
    );
    for secret in [
        GH_TOKEN,
        "xoxb-multi-s3cr3t",
        "multiS3cr3tPath",
        "whsec_multi_s3cr3t",
    ] {
        assert!(
            !result.shown().contains(secret),
            "{secret} shown: {}",
            result.shown()
        );
    }
}

#[test]
fn no_secret_is_shown_when_every_target_fails() {
    let gh = github();
    gh.state().read_only = true;
    let d = discord::start("realDiscordTok");
    let result = on_pr(&gh)
        .env("GITHUB_TOKEN", "ghs_wrong_s3cr3t_token")
        .input("to", "github-comment,github-issue,discord")
        .input(
            "webhook-url",
            &format!("{}/api/webhooks/1/wrongDiscordS3cr3t", d.base_url()),
        )
        .input("status", "failure")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(
        result.outputs["failed"],
        "github-comment,github-issue,discord"
    );
    assert!(
        result.stdout.contains("did not accept `github-token`"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("the Discord webhook answered 401"),
        "{}",
        result.stdout
    );
    for secret in ["ghs_wrong_s3cr3t_token", "wrongDiscordS3cr3t"] {
        assert!(
            !result.shown().contains(secret),
            "{secret} shown: {}",
            result.shown()
        );
    }
    // And unreachable: the connection error names no URL.
    let gone = ActionsStep::push()
        .input("to", "discord")
        .input(
            "webhook-url",
            "http://127.0.0.1:9/api/webhooks/1/unreachableS3cr3t",
        )
        .run(EXE, &[]);
    assert_eq!(gone.code, Some(1), "{}", gone.everything());
    assert!(
        !gone.shown().contains("unreachableS3cr3t"),
        "{}",
        gone.shown()
    );
}

//! `slack`, `discord` and `teams`: what each service was actually sent.

use serde_json::Value;
use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::{discord, slack, webhook};
use shipline_testkit::snapshot::with_filters;

use crate::EXE;

const SLACK_TOKEN: &str = "xoxb-notify-s3cr3t";

fn slack_step(s: &slack::Slack) -> ActionsStep {
    ActionsStep::push()
        .env("SLACK_API_URL", &s.base_url())
        .input("to", "slack")
        .input("slack-token", SLACK_TOKEN)
        .input("slack-channel", "C0DEPLOYS")
        .input("title", "Deploy acme/webapp")
}

#[test]
fn slack_posts_then_updates_the_same_message_from_start_to_finish() {
    let s = slack::start(SLACK_TOKEN);
    let start = slack_step(&s).input("status", "in_progress").run(EXE, &[]);
    assert_eq!(start.code, Some(0), "{}", start.everything());
    let ts = start.outputs["slack-ts"].clone();
    assert_eq!(start.outputs["slack-channel"], "C0DEPLOYS");

    let finish = slack_step(&s)
        .input("status", "success")
        .input("slack-ts", &ts)
        .input("url", "https://acme.dev")
        .input("message", "## Released\n**3 commits**, see [the diff](https://github.com/acme/webapp/compare/a...b) <3")
        .run(EXE, &[]);
    assert_eq!(finish.code, Some(0), "{}", finish.everything());
    assert_eq!(finish.outputs["slack-ts"], ts);
    assert_eq!(s.requests_to("POST", "/chat.postMessage").len(), 1);
    assert_eq!(s.requests_to("POST", "/chat.update").len(), 1);
    let messages = s.state().messages.clone();
    assert_eq!(messages.len(), 1, "updated, not posted again");
    assert_eq!(
        messages[0]["text"], "✅ Deploy acme/webapp: https://acme.dev",
        "the text fallback"
    );
    let blocks = &messages[0]["blocks"];
    with_filters(|| insta::assert_json_snapshot!("slack_blocks", blocks));
    assert!(!finish.shown().contains(SLACK_TOKEN) && !start.shown().contains(SLACK_TOKEN));
}

#[test]
fn slack_replies_in_a_thread_and_mentions_only_on_failure() {
    let s = slack::start(SLACK_TOKEN);
    let reply = slack_step(&s)
        .input("status", "failure")
        .input("slack-thread-ts", "1767225600.000042")
        .input("mention", "<!subteam^S0ONCALL>")
        .run(EXE, &[]);
    assert_eq!(reply.code, Some(0), "{}", reply.everything());
    let quiet = slack_step(&s)
        .input("status", "success")
        .input("mention", "<!subteam^S0ONCALL>")
        .run(EXE, &[]);
    assert_eq!(quiet.code, Some(0), "{}", quiet.everything());
    let messages = s.state().messages.clone();
    assert_eq!(messages[0]["thread_ts"], "1767225600.000042");
    assert!(
        messages[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("<!subteam^S0ONCALL> ❌"),
        "{}",
        messages[0]["text"]
    );
    assert_eq!(messages[1]["thread_ts"], Value::Null);
    assert!(
        !messages[1]["text"].as_str().unwrap().contains("S0ONCALL"),
        "no ping on success"
    );
}

#[test]
fn slack_refusals_say_what_to_do() {
    let s = slack::start(SLACK_TOKEN);
    let result = slack_step(&s)
        .input("slack-channel", "C0SECRET")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("`not_in_channel`"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("/invite"), "{}", result.stdout);
    assert_eq!(result.outputs["failed"], "slack");
    let wrong = slack_step(&s)
        .input("slack-token", "xoxb-wrong-s3cr3t")
        .run(EXE, &[]);
    assert_eq!(wrong.code, Some(1));
    assert!(
        wrong
            .stdout
            .contains("`slack-token` is not a valid bot token"),
        "{}",
        wrong.stdout
    );
    assert!(
        !wrong.shown().contains("xoxb-wrong-s3cr3t"),
        "{}",
        wrong.shown()
    );
}

#[test]
fn slack_through_an_incoming_webhook() {
    let s = slack::start(SLACK_TOKEN);
    let url = format!("{}/services/T0ACME/B0DEPLOY/hookS3cr3tPart", s.base_url());
    let result = ActionsStep::push()
        .input("to", "slack")
        .input("status", "failure")
        .env("SLACK_WEBHOOK_URL", &url)
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let posts = s.state().webhook_posts.clone();
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("❌ ship / deploy"),
        "{}",
        posts[0]["text"]
    );
    assert!(posts[0]["blocks"].is_array());
    assert!(
        !result.shown().contains("hookS3cr3tPart"),
        "{}",
        result.shown()
    );
}

#[test]
fn discord_embeds_with_mentions_allowed_only_on_failure() {
    let d = discord::start("dscrdS3cr3tTok");
    let url = format!("{}/api/webhooks/1234/dscrdS3cr3tTok", d.base_url());
    let send = |status: &str| {
        ActionsStep::pull_request()
            .input("to", "discord")
            .input("webhook-url", &url)
            .input("status", status)
            .input("title", "Deploy \"acme\" @everyone")
            .input("mention", "<@&1180000000000000000>")
            .input("url", "https://acme.dev")
            .input("fields", "Region: fra1")
            .run(EXE, &[])
    };
    let ok = send("success");
    assert_eq!(ok.code, Some(0), "{}", ok.everything());
    let bad = send("failure");
    assert_eq!(bad.code, Some(0), "{}", bad.everything());
    let requests = d.requests_to("POST", "/api/webhooks/1234/dscrdS3cr3tTok");
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.query_param("wait").as_deref() == Some("true"))
    );
    let quiet = requests[0].json();
    assert_eq!(
        quiet["allowed_mentions"]["parse"],
        serde_json::json!([]),
        "a title's @everyone pings no one"
    );
    assert_eq!(quiet["content"], "");
    let loud = requests[1].json();
    assert_eq!(loud["content"], "<@&1180000000000000000>");
    assert_eq!(
        loud["allowed_mentions"]["parse"],
        serde_json::json!(["users", "roles", "everyone"])
    );
    assert_eq!(loud["embeds"][0]["color"], 0xd0242b);
    with_filters(|| insta::assert_json_snapshot!("discord_payload", quiet));
    assert!(!ok.shown().contains("dscrdS3cr3tTok") && !bad.shown().contains("dscrdS3cr3tTok"));
}

#[test]
fn teams_gets_an_adaptive_card() {
    let w = webhook::start();
    w.state().status = 202;
    let url = format!(
        "{}/hook/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=teamsS3cr3tSig",
        w.base_url()
    );
    let result = ActionsStep::push()
        .input("to", "teams")
        .input("webhook-url", &url)
        .input("status", "failure")
        .input("title", "Deploy acme/webapp")
        .input("message", "verify failed: `/healthz` answered 500")
        .input("url", "https://acme.dev")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let body = w.state().bodies[0].clone();
    assert_eq!(body["type"], "message");
    assert_eq!(
        body["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &body["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(card["body"][0]["color"], "Attention");
    with_filters(|| insta::assert_json_snapshot!("teams_message", body));
    assert!(
        !result.shown().contains("teamsS3cr3tSig"),
        "{}",
        result.shown()
    );
}

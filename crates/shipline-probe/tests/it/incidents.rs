//! `incident: github-issue`: one issue per URL, opened when it goes down, commented on
//! while it stays down, closed when it is back; a URL that stays up never writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use shipline_testkit::fakes::{discord, github, slack};
use shipline_testkit::{ActionsStep, Fake};

use crate::EXE;

const TOKEN: &str = "ghs_probe_incident_token";

#[test]
fn down_then_still_down_then_back_is_one_issue() {
    let up = Arc::new(AtomicBool::new(true));
    let site = Fake::start(
        "site",
        Router::new()
            .route(
                "/",
                get(|State(up): State<Arc<AtomicBool>>| async move {
                    if up.load(Ordering::SeqCst) {
                        (StatusCode::OK, "<h1>Acme</h1>")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "down")
                    }
                }),
            )
            .route("/health", get(|| async { "ok" }))
            .with_state(up.clone()),
    );
    let gh = github::start(TOKEN);
    let chat = slack::start("xoxb-unused");
    let disc = discord::start("dscrdProbeTok");
    let run = || {
        ActionsStep::with_event("schedule", "schedule.json")
            .input("url", &format!("{0}/\n{0}/health", site.url()))
            .input("retries", "1")
            .input("retry-delay", "10ms")
            .input("incident", "github-issue")
            .env("GITHUB_API_URL", &gh.base_url())
            .env("GITHUB_TOKEN", TOKEN)
            .input(
                "notify-slack-webhook-url",
                &format!("{}/services/T0/B0/probeHookS3cr3t", chat.base_url()),
            )
            .input(
                "notify-discord-webhook-url",
                &format!("{}/api/webhooks/99/dscrdProbeTok", disc.base_url()),
            )
            .run(EXE, &[])
    };
    let writes = || {
        gh.requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path != "/graphql")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    };

    let result = run();
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(writes().is_empty(), "healthy: no writes: {:?}", writes());

    up.store(false, Ordering::SeqCst);
    let result = run();
    assert_eq!(result.code, Some(1), "{}", result.everything());
    let number = result.outputs["issue-numbers"].clone();
    assert!(!number.is_empty() && !number.contains(','), "{number}");
    {
        let state = gh.state();
        assert_eq!(state.issues.len(), 1, "one issue, for the URL that is down");
        let body = state.issues[0]["body"].as_str().unwrap();
        let key = format!("probe/{}", site.url().trim_start_matches("http://"));
        assert!(
            body.contains(&format!("<!-- shipline:incident:{key} -->")),
            "{body}"
        );
        assert!(body.contains("answered 503"), "{body}");
    }
    let texts = || {
        chat.state()
            .webhook_posts
            .iter()
            .map(|p| p["text"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts().len(), 1, "chat is told once, on open");
    assert!(texts()[0].contains("is down"), "{:?}", texts());
    let result = run();
    assert_eq!(result.code, Some(1));
    assert_eq!(result.outputs["issue-numbers"], number);
    assert_eq!(gh.state().issues.len(), 1);
    assert_eq!(texts().len(), 1, "not on a repeat");
    assert!(!result.shown().contains("probeHookS3cr3t"));

    up.store(true, Ordering::SeqCst);
    let result = run();
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(result.summary.contains("back after"), "{}", result.summary);
    assert_eq!(texts().len(), 2, "and once on close");
    assert!(texts()[1].contains("is back after"), "{:?}", texts());
    assert_eq!(disc.state().messages.len(), 2);
    let state = gh.state();
    assert_eq!(state.issues[0]["state"], "closed");
    let n: u64 = number.parse().unwrap();
    assert_eq!(
        state.comments[&n].len(),
        2,
        "a repeat comment and the resolution"
    );
}

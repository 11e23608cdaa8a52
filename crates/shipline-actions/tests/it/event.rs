//! Real payloads from `@octokit/webhooks-examples` parse into the typed events.

use shipline_actions::Event;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn push() {
    let Event::Push(push) = Event::parse("push", &fixture("push.json")).unwrap() else {
        panic!("not a push")
    };
    assert!(push.git_ref.starts_with("refs/"));
    assert_eq!(push.after.len(), 40);
    assert!(push.head_commit.is_some());
    assert!(!push.repository.full_name.is_empty());
}

#[test]
fn pull_request_opened_and_synchronize() {
    for (file, action) in [
        ("pull_request.opened.json", "opened"),
        ("pull_request.synchronize.json", "synchronize"),
    ] {
        let event = Event::parse("pull_request", &fixture(file)).unwrap();
        let Event::PullRequest(pr) = &event else {
            panic!("not a pull request")
        };
        assert_eq!(pr.action, action);
        assert_eq!(event.pull_request_number(), Some(pr.number));
        assert_eq!(event.head_sha(), Some(pr.pull_request.head.sha.as_str()));
        assert!(!pr.is_from_fork(), "{file} is a same-repository PR");
    }
}

#[test]
fn a_pull_request_from_a_fork_is_detected() {
    let mut payload: serde_json::Value =
        serde_json::from_str(&fixture("pull_request.opened.json")).unwrap();
    payload["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World".into();
    let Event::PullRequest(pr) = Event::parse("pull_request", &payload.to_string()).unwrap() else {
        panic!()
    };
    assert!(pr.is_from_fork());
    // A deleted head repository is treated as a fork: no secrets can be assumed.
    payload["pull_request"]["head"]["repo"] = serde_json::Value::Null;
    let Event::PullRequest(pr) = Event::parse("pull_request", &payload.to_string()).unwrap() else {
        panic!()
    };
    assert!(pr.is_from_fork());
}

#[test]
fn workflow_dispatch_and_schedule() {
    let Event::WorkflowDispatch(wd) =
        Event::parse("workflow_dispatch", &fixture("workflow_dispatch.json")).unwrap()
    else {
        panic!()
    };
    assert!(wd.git_ref.starts_with("refs/"));
    let Event::Schedule(s) = Event::parse("schedule", &fixture("schedule.json")).unwrap() else {
        panic!()
    };
    assert_eq!(s.schedule, "*/5 * * * *");
}

#[test]
fn other_events_and_bad_payloads() {
    assert_eq!(
        Event::parse("release", "{}").unwrap(),
        Event::Other("release".into())
    );
    assert!(Event::parse("push", "{\"ref\": 1}").is_err());
    let err = Event::from_env(Some("push"), Some("/nonexistent/event.json")).unwrap_err();
    assert!(err.to_string().contains("GITHUB_EVENT_PATH"), "{err}");
    assert_eq!(Event::from_env(None, None).unwrap(), Event::None);
}

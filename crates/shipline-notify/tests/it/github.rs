//! `github-issue` (incidents) and `github-deployment` (a status on our record).

use serde_json::json;
use shipline_testkit::ActionsStep;

use crate::EXE;
use crate::common::{at, github, writes};

#[test]
fn an_incident_is_opened_once_commented_on_while_it_lasts_and_closed_on_recovery() {
    let gh = github();
    let probe = |status: &str| {
        at(ActionsStep::with_event("schedule", "schedule.json"), &gh)
            .input("to", "github-issue")
            .input("key", "probe/production")
            .input("status", status)
            .input("title", "acme.dev is down")
            .input("url", "https://acme.dev")
            .input("message", "`GET /` answered 503 three times")
            .run(EXE, &[])
    };
    // Healthy with no incident: nothing happens.
    let calm = probe("success");
    assert_eq!(calm.code, Some(0), "{}", calm.everything());
    assert!(writes(&gh).is_empty(), "{:?}", writes(&gh));

    let down = probe("failure");
    assert_eq!(down.code, Some(0), "{}", down.everything());
    let number = down.outputs["issue-number"].clone();
    let again = probe("failure");
    assert_eq!(again.code, Some(0), "{}", again.everything());
    assert_eq!(
        again.outputs["issue-number"], number,
        "a repeat comments, never a second issue"
    );
    {
        let state = gh.state();
        assert_eq!(state.issues.len(), 1);
        let issue = &state.issues[0];
        assert_eq!(issue["title"], "🛑 acme.dev is down");
        let labels: Vec<&str> = issue["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["incident", "shipline"]);
        assert!(
            issue["body"]
                .as_str()
                .unwrap()
                .contains("<!-- shipline:incident:probe/production -->")
        );
    }

    let back = probe("success");
    assert_eq!(back.code, Some(0), "{}", back.everything());
    assert_eq!(back.outputs["issue-number"], number);
    let state = gh.state();
    assert_eq!(state.issues[0]["state"], "closed");
    assert_eq!(state.issues[0]["state_reason"], "completed");
    let n: u64 = number.parse().unwrap();
    let notes = state.comments.get(&n).cloned().unwrap_or_default();
    assert_eq!(notes.len(), 2, "one repeat, one resolution");
    assert!(
        notes[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Still failing")
    );
    assert!(
        notes[1]["body"].as_str().unwrap().contains("Resolved at")
            && notes[1]["body"].as_str().unwrap().contains("back after"),
        "{}",
        notes[1]["body"]
    );
    drop(state);
    let w = writes(&gh);
    assert_eq!(
        w,
        [
            "POST /repos/acme/webapp/issues".to_owned(),
            format!("POST /repos/acme/webapp/issues/{n}/comments"),
            format!("POST /repos/acme/webapp/issues/{n}/comments"),
            format!("PATCH /repos/acme/webapp/issues/{n}"),
        ]
    );
    // The next failure is a new incident.
    let later = probe("failure");
    assert_ne!(later.outputs["issue-number"], number);
}

#[test]
fn an_incident_opened_by_someone_else_is_not_ours() {
    let gh = github();
    let run = |status: &str| {
        at(ActionsStep::push(), &gh)
            .input("to", "github-issue")
            .input("key", "backup")
            .input("status", status)
            .run(EXE, &[])
    };
    assert_eq!(run("failure").code, Some(0));
    // Someone files a look-alike issue by hand (same labels, copied marker).
    {
        let mut state = gh.state();
        let mut copy = state.issues[0].clone();
        copy["number"] = 99.into();
        copy["user"]["login"] = "mallory".into();
        state.issues.push(copy);
    }
    let back = run("success");
    assert_eq!(back.code, Some(0), "{}", back.everything());
    assert_eq!(back.outputs["issue-number"], "1");
    let state = gh.state();
    assert_eq!(
        state.issues[1]["state"], "open",
        "the look-alike is left alone"
    );
}

#[test]
fn a_status_is_set_on_a_shipline_deployment_record() {
    let gh = github();
    let record = gh.state().add_deployment(
        "acme",
        "webapp",
        "main",
        &json!({ "environment": "production", "payload": { "shipline": { "provider": "vercel", "url": "https://acme.dev" } } }),
    );
    let id = record["id"].as_u64().unwrap();
    let result = at(ActionsStep::push(), &gh)
        .input("to", "github-deployment")
        .input("github-deployment-id", &id.to_string())
        .input("status", "failure")
        .input("message", "smoke tests failed:\n3 of 40 checks")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let statuses = gh.state().statuses.get(&id).cloned().unwrap_or_default();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0]["state"], "failure");
    assert_eq!(
        statuses[0]["description"],
        "smoke tests failed: 3 of 40 checks"
    );
    assert_eq!(
        statuses[0]["log_url"],
        "https://github.com/acme/webapp/actions/runs/4242"
    );
    let sent = &gh.requests_to(
        "POST",
        &format!("/repos/acme/webapp/deployments/{id}/statuses"),
    )[0];
    assert_eq!(sent.json()["auto_inactive"], false);
}

#[test]
fn a_deployment_that_is_not_a_shipline_record_is_refused() {
    let gh = github();
    let other = gh.state().add_deployment(
        "acme",
        "webapp",
        "main",
        &json!({ "environment": "production" }),
    );
    let id = other["id"].as_u64().unwrap().to_string();
    let result = at(ActionsStep::push(), &gh)
        .input("to", "github-deployment")
        .input("github-deployment-id", &id)
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("is not a shipline deployment record"),
        "{}",
        result.stdout
    );
    assert!(writes(&gh).is_empty());
    let missing = at(ActionsStep::push(), &gh)
        .input("to", "github-deployment")
        .input("github-deployment-id", "777777")
        .run(EXE, &[]);
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stdout.contains("no such deployment"),
        "{}",
        missing.stdout
    );
}

/// A closed pull request: every shipline preview of its environment is set inactive; another
/// tool's deployment, another PR's preview and one already inactive are left alone.
#[test]
fn a_closed_pull_requests_previews_are_set_inactive() {
    let gh = github();
    let add = |environment: &str, shipline: bool| {
        let payload = if shipline {
            json!({ "shipline": { "provider": "vercel", "url": "https://pr.acme.dev" } })
        } else {
            json!({})
        };
        gh.state()
            .add_deployment(
                "acme",
                "webapp",
                "feature",
                &json!({ "environment": environment, "transient_environment": true, "payload": payload }),
            )["id"]
            .as_u64()
            .unwrap()
    };
    let live = add("preview/pr-7", true);
    let retired = add("preview/pr-7", true);
    let other_tool = add("preview/pr-7", false);
    let other_pr = add("preview/pr-8", true);
    gh.state()
        .statuses
        .entry(retired)
        .or_default()
        .push(json!({ "state": "inactive", "description": "superseded" }));
    let result = at(ActionsStep::push(), &gh)
        .input("to", "github-deployment")
        .input("environment", "preview/pr-7")
        .input("status", "cancelled")
        .input("message", "pull request closed")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("1 deployment(s) of `preview/pr-7` set inactive"),
        "{}",
        result.stdout
    );
    let state = gh.state();
    let latest = |id: u64| {
        state
            .statuses
            .get(&id)
            .and_then(|s| s.last().cloned())
            .map(|s| s["state"].clone())
    };
    assert_eq!(latest(live), Some(json!("inactive")));
    assert_eq!(state.statuses[&retired].len(), 1, "not set twice");
    assert_eq!(latest(other_tool), None);
    assert_eq!(latest(other_pr), None);
    // Without an id or an environment there is nothing to set: bad input.
    drop(state);
    let bare = at(ActionsStep::push(), &gh)
        .input("to", "github-deployment")
        .run(EXE, &[]);
    assert_eq!(bare.code, Some(2));
    assert!(
        bare.stdout
            .contains("unless `environment` names the records")
    );
}

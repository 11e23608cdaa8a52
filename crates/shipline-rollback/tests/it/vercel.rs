//! Rolling back on Vercel, against the fake Vercel and the fake GitHub.

use serde_json::json;
use shipline_testkit::fakes::github::GitHub;
use shipline_testkit::fakes::vercel::{self, Vercel};
use shipline_testkit::{ActionsStep, Fault};

use crate::common::{
    as_refs, dispatch, foreign, github, github_writes, latest, record, run, sha, site, statuses,
};

const TOKEN: &str = "vercel_tok_rollback_s3cr3t";
const TEAM: &str = "team_acme";

/// v1 (good, served production), v2 (failed verification, never promoted), v3 (live).
struct History {
    v: Vercel,
    gh: GitHub,
    d: [String; 3],
    g: [u64; 3],
}

fn history() -> History {
    let v = vercel::start(TOKEN, Some(TEAM));
    let gh = github();
    let host = v.addr().to_string();
    let mut d = Vec::new();
    for (version, promoted) in [("v1", true), ("v2", false), ("v3", true)] {
        let files = site(version);
        d.push(
            v.state()
                .add_ready_deployment(&host, &as_refs(&files), json!({}), promoted),
        );
    }
    v.state().production = Some(d[2].clone());
    let url = |id: &str| format!("{host}/_sites/{id}");
    let g = [
        record(
            &gh,
            "vercel",
            &d[0],
            &url(&d[0]),
            &sha('1'),
            None,
            &["in_progress", "success"],
        ),
        record(
            &gh,
            "vercel",
            &d[1],
            &url(&d[1]),
            &sha('2'),
            None,
            &["in_progress", "failure"],
        ),
        record(
            &gh,
            "vercel",
            &d[2],
            &url(&d[2]),
            &sha('3'),
            None,
            &["in_progress", "success"],
        ),
    ];
    History {
        v,
        gh,
        d: [d[0].clone(), d[1].clone(), d[2].clone()],
        g,
    }
}

fn step(h: &History) -> ActionsStep {
    dispatch(&h.gh)
        .env("VERCEL_API_URL", &h.v.base_url())
        .input("provider", "vercel")
        .input("token", TOKEN)
        .input("project", "prj_shipline")
        .input("team", TEAM)
        .input("expect-text", "Welcome to webapp")
}

fn vercel_posts(v: &Vercel) -> Vec<String> {
    v.requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path.clone())
        .collect()
}

#[test]
fn previous_skips_the_failed_release_and_uses_the_hosts_rollback() {
    let h = history();
    let result = run(&step(&h).input("reason", "checkout broken"));
    assert_eq!(result.code, Some(0), "{}", result.everything());

    assert_eq!(h.v.state().production.as_deref(), Some(h.d[0].as_str()));
    let posts = h.v.requests_to(
        "POST",
        &format!("/v1/projects/prj_shipline/rollback/{}", h.d[0]),
    );
    assert_eq!(posts.len(), 1, "{:?}", vercel_posts(&h.v));
    assert_eq!(
        posts[0].query_param("description").as_deref(),
        Some("checkout broken")
    );
    assert_eq!(posts[0].query_param("teamId").as_deref(), Some(TEAM));
    // The job was polled until it succeeded, then production itself was checked.
    let order: Vec<String> =
        h.v.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
    let polled = order
        .iter()
        .rposition(|l| l == "GET /v9/projects/prj_shipline")
        .unwrap();
    let checked = order
        .iter()
        .position(|l| l == "GET /_production/")
        .expect("post-switch check");
    assert!(polled < checked, "{order:?}");

    // Records: the target is live again, the bad one inactive, the failed one untouched.
    assert_eq!(
        statuses(&h.gh, h.g[0]),
        ["in_progress", "success", "success"]
    );
    assert_eq!(
        latest(&h.gh, h.g[0])["description"],
        format!("rollback from 3333333 ({}): checkout broken", h.d[2])
    );
    assert_eq!(
        statuses(&h.gh, h.g[2]),
        ["in_progress", "success", "in_progress", "inactive"]
    );
    assert_eq!(statuses(&h.gh, h.g[1]), ["in_progress", "failure"]);

    let production = format!("http://{}/_production", h.v.addr());
    assert_eq!(result.outputs["url"], production);
    assert_eq!(result.outputs["deployment-id"], h.d[0]);
    assert_eq!(result.outputs["from"], h.d[2]);
    assert_eq!(result.outputs["migration-version"], "");
    for text in ["checkout broken", "1111111", "3333333", "rollback"] {
        assert!(result.summary.contains(text), "{text}: {}", result.summary);
    }
    assert!(!result.shown().contains(TOKEN));
}

#[test]
fn a_release_that_never_served_production_is_promoted() {
    let h = history();
    // v2 passed after all (a re-run marked it), but it was never production traffic.
    h.gh.state()
        .add_status(h.g[1], "success", "verified on a re-run");
    let result = run(&step(&h));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(
        h.v.requests_to(
            "POST",
            &format!("/v10/projects/prj_shipline/promote/{}", h.d[1])
        )
        .len(),
        1,
        "{:?}",
        vercel_posts(&h.v)
    );
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[1].as_str()));
    assert!(result.summary.contains("promote"), "{}", result.summary);
}

#[test]
fn a_deployment_the_host_no_longer_has_is_skipped_with_a_warning() {
    let h = history();
    h.gh.state()
        .add_status(h.g[1], "success", "verified on a re-run");
    h.v.state()
        .deployments
        .retain(|d| d["id"] != h.d[1].as_str());
    let result = run(&step(&h));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[0].as_str()));
    assert!(
        result.stdout.contains(
            "::warning::skipped `dpl_0002` (2222222 (dpl_0002)): vercel no longer has it"
        ),
        "{}",
        result.stdout
    );
}

#[test]
fn to_names_a_release_by_commit_or_id() {
    let h = history();
    let result = run(&step(&h).input("to", &sha('1')[..7]));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[0].as_str()));

    // Forward again, by id: the release rolled back from is still a valid choice.
    let result = run(&step(&h).input("to", &h.d[2]));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[2].as_str()));
    assert_eq!(latest(&h.gh, h.g[0])["state"], "inactive");

    // The one serving already: nothing to do.
    let writes = github_writes(&h.gh);
    let result = run(&step(&h).input("to", &h.d[2]));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result.stdout.contains("already serves"),
        "{}",
        result.stdout
    );
    assert_eq!(github_writes(&h.gh), writes);
}

#[test]
fn an_unknown_or_failed_target_is_exit_2_and_changes_nothing() {
    let h = history();
    for (to, message) in [
        (
            "dpl_9999".to_owned(),
            "no vercel deployment record in `production` has the id or commit `dpl_9999` (3 record(s) read)",
        ),
        (
            h.d[1].clone(),
            "which never passed verification (failure: seeded); pick a deployment that did",
        ),
    ] {
        let result = run(&step(&h).input("to", &to));
        assert_eq!(result.code, Some(2), "{}", result.everything());
        assert!(
            result.stdout.contains("::error title=invalid input `to`::")
                && result.stdout.contains(message),
            "{}",
            result.stdout
        );
    }
    assert!(vercel_posts(&h.v).is_empty());
    assert_eq!(github_writes(&h.gh), 0);
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[2].as_str()));
}

#[test]
fn no_earlier_good_release_is_exit_1_and_changes_nothing() {
    let v = vercel::start(TOKEN, Some(TEAM));
    let gh = github();
    let host = v.addr().to_string();
    let bad = v
        .state()
        .add_ready_deployment(&host, &as_refs(&site("v1")), json!({}), false);
    let live = v
        .state()
        .add_ready_deployment(&host, &as_refs(&site("v2")), json!({}), true);
    v.state().production = Some(live.clone());
    record(
        &gh,
        "vercel",
        &bad,
        "x",
        &sha('1'),
        None,
        &["in_progress", "failure"],
    );
    foreign(&gh, &sha('9'));
    record(
        &gh,
        "vercel",
        &live,
        "x",
        &sha('2'),
        None,
        &["in_progress", "success"],
    );
    let h = History {
        v,
        gh,
        d: [bad.clone(), bad, live],
        g: [0, 0, 0],
    };
    let result = run(&step(&h));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("no earlier successful deployment on vercel in `production` to go back to (2 record(s) read); nothing was changed"),
        "{}",
        result.stdout
    );
    assert!(vercel_posts(&h.v).is_empty());
    assert_eq!(github_writes(&h.gh), 0);
}

#[test]
fn a_failed_host_job_is_exit_1_with_the_reason_and_the_aliases() {
    let h = history();
    h.v.state().fail_next_job = Some(vec!["www.acme.example".into()]);
    let result = run(&step(&h));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains(
            "Vercel's rollback to `dpl_0001` failed; aliases not moved: www.acme.example"
        ),
        "{}",
        result.stdout
    );
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[2].as_str()));
    // The target's record was not touched; the live one says it is still live.
    assert_eq!(statuses(&h.gh, h.g[0]), ["in_progress", "success"]);
    let live = latest(&h.gh, h.g[2]);
    assert_eq!(live["state"], "success");
    assert!(
        live["description"]
            .as_str()
            .unwrap()
            .starts_with("still live: a rollback to 1111111")
    );
}

#[test]
fn a_token_without_deployments_write_is_named_before_production_moves() {
    let h = history();
    h.gh.state().read_only = true;
    let result = run(&step(&h));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("the token lacks `deployments: write`"),
        "{}",
        result.stdout
    );
    assert!(vercel_posts(&h.v).is_empty(), "production never moved");
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[2].as_str()));
}

#[test]
fn a_dry_run_prints_the_plan_and_changes_nothing() {
    let h = history();
    let result = run(&step(&h).input("dry-run", "true").input("reason", "drill"));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result.stdout.contains("dry run: would roll back production on vercel from 3333333 (dpl_0003) to 1111111 (dpl_0001); nothing was changed"),
        "{}",
        result.stdout
    );
    assert!(result.summary.contains("drill") && result.summary.contains("rollback"));
    assert!(vercel_posts(&h.v).is_empty());
    assert_eq!(github_writes(&h.gh), 0);
    assert_eq!(result.outputs["deployment-id"], h.d[0]);
}

#[test]
fn server_errors_and_rate_limits_are_retried_to_the_end() {
    let h = history();
    h.v.inject(Fault::Status(500));
    h.v.inject(Fault::RateLimited("1".into()));
    h.gh.inject(Fault::Status(502));
    h.gh.inject(Fault::RateLimited("1".into()));
    let result = run(&step(&h));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[0].as_str()));
    assert!(h.v.requests().iter().any(|r| r.faulted) && h.gh.requests().iter().any(|r| r.faulted));
}

#[test]
fn a_host_that_stays_down_fails_cleanly_within_the_timeout() {
    let h = history();
    for _ in 0..50 {
        h.v.inject(Fault::Status(503));
    }
    let started = std::time::Instant::now();
    let result = run(&step(&h).input("timeout", "3s"));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(result.stdout.contains("503"), "{}", result.stdout);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(github_writes(&h.gh), 0);
}

#[test]
fn a_long_history_is_read_a_page_at_a_time() {
    let h = history();
    // 150 deployments of another tool between the live release and the newest ones.
    let v4 = h.v.state().add_ready_deployment(
        &h.v.addr().to_string(),
        &as_refs(&site("v4")),
        json!({}),
        true,
    );
    for n in 0..150 {
        foreign(&h.gh, &format!("{n:040x}"));
    }
    let g4 = record(
        &h.gh,
        "vercel",
        &v4,
        "x",
        &sha('4'),
        None,
        &["in_progress", "success"],
    );
    h.v.state().production = Some(h.d[2].clone());
    let result = run(&step(&h));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    // v4 is newer than what serves (v3): passed over; v2 failed; v1 is the one.
    assert_eq!(h.v.state().production.as_deref(), Some(h.d[0].as_str()));
    let pages: Vec<String> =
        h.gh.requests_to("GET", "/repos/acme/webapp/deployments")
            .iter()
            .map(|r| r.query_param("page").unwrap_or_else(|| "1".into()))
            .collect();
    assert_eq!(pages, ["1", "2"]);
    assert_eq!(statuses(&h.gh, g4), ["in_progress", "success"]);
}

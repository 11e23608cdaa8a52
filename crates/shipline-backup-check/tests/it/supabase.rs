//! `provider: supabase` against the fake Management API.

use serde_json::{Value, json};
use shipline_testkit::fake::Fault;
use shipline_testkit::fakes::github;
use shipline_testkit::fakes::supabase::{self, Supabase};

use crate::{EXE, schedule};

const TOKEN: &str = "sbp_backup_s3cr3t_token";
const REF: &str = "abcdefghijklmnopqrst";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn iso(secs: i64) -> String {
    shipline_core::time::rfc3339(secs as u64)
}

fn fake(backups: Value) -> Supabase {
    let s = supabase::start(TOKEN, REF);
    s.state().backups = backups;
    s
}

fn step(s: &Supabase) -> shipline_testkit::ActionsStep {
    schedule()
        .input("provider", "supabase")
        .input("project-ref", REF)
        .input("access-token", TOKEN)
        .env("SUPABASE_API_URL", &s.base_url())
}

/// PITR on: the latest physical backup an hour ago, eight days kept.
fn healthy() -> Value {
    json!({
        "region": "eu-central-1", "walg_enabled": true, "pitr_enabled": true, "backups": [],
        "physical_backup_data": {
            "earliest_physical_backup_date_unix": now() - 8 * 86_400,
            "latest_physical_backup_date_unix": now() - 3600,
        },
    })
}

/// PITR off: daily logical backups, the newest `hours_ago`.
fn daily(hours_ago: i64, extra: Vec<Value>) -> Value {
    let mut backups: Vec<Value> = (0..7)
        .map(|d| {
            json!({"id": 100 + d, "is_physical_backup": false, "status": "COMPLETED",
                   "inserted_at": iso(now() - hours_ago * 3600 - d * 86_400)})
        })
        .collect();
    backups.extend(extra);
    json!({"region": "us-east-1", "walg_enabled": true, "pitr_enabled": false,
           "backups": backups, "physical_backup_data": {}})
}

#[test]
fn healthy_pitr_passes_and_only_reads() {
    let s = fake(healthy());
    let result = step(&s).input("min-retention", "7d").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["pitr-enabled"], "true");
    assert_eq!(result.outputs["age-hours"], "1.0");
    assert_eq!(result.outputs["drill"], "skipped");
    assert_eq!(
        result.outputs["latest-backup-at"],
        iso(now() - 3600),
        "{:?}",
        result.outputs
    );
    assert!(
        result.summary.contains("point-in-time recovery"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("`min-retention` 7.0 days"),
        "{}",
        result.summary
    );
    // One read, with the token; never a restore endpoint.
    let requests = s.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        format!("/v1/projects/{REF}/database/backups")
    );
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(!result.shown().contains(TOKEN));
}

#[test]
fn a_stale_backup_fails_and_says_how_old() {
    let s = fake(daily(30, vec![]));
    let result = step(&s).input("require-pitr", "false").run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(result.outputs["age-hours"], "30.0");
    assert_eq!(result.outputs["pitr-enabled"], "false");
    assert!(
        result.stdout.contains(
            "::error title=backup-check%3A newest backup::too old: newest completed backup at"
        ),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("(30.0 h old; `max-age` 26h)"),
        "{}",
        result.stdout
    );

    // The same, fresh, passes; `max-age` is the policy.
    let s = fake(daily(20, vec![]));
    let result = step(&s).input("require-pitr", "false").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let result = step(&s)
        .input("require-pitr", "false")
        .input("max-age", "12h")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
}

#[test]
fn pitr_off_fails_unless_not_required() {
    let s = fake(daily(2, vec![]));
    let result = step(&s).run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("::error title=backup-check%3A point-in-time recovery::off: a restore loses up to a day of writes"),
        "{}",
        result.stdout
    );
    let result = step(&s).input("require-pitr", "false").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(result.summary.contains("off (not required)"));
}

#[test]
fn failed_backups_in_the_window_fail_older_ones_do_not() {
    let recent = json!({"id": 777, "status": "FAILED", "inserted_at": iso(now() - 5 * 3600)});
    let old = json!({"id": 555, "status": "FAILED", "inserted_at": iso(now() - 10 * 86_400)});
    let s = fake(daily(2, vec![recent, old.clone()]));
    let result = step(&s).input("require-pitr", "false").run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("failed backups::1 in the last 26h: 777 at"),
        "{}",
        result.stdout
    );
    assert!(!result.stdout.contains("555"));
    let s = fake(daily(2, vec![old]));
    let result = step(&s).input("require-pitr", "false").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
}

#[test]
fn no_backups_at_all_fails() {
    // The fake's default: the recorded response, `backups: []`, `physical_backup_data: {}`.
    let s = supabase::start(TOKEN, REF);
    let result = step(&s).input("require-pitr", "false").run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("newest backup::none: the API lists no backups"),
        "{}",
        result.stdout
    );
    assert_eq!(result.outputs["latest-backup-at"], "");
    assert_eq!(result.outputs["age-hours"], "");
}

#[test]
fn retention_shorter_than_asked_fails() {
    let mut b = healthy();
    b["physical_backup_data"]["earliest_physical_backup_date_unix"] = json!(now() - 3 * 86_400);
    let s = fake(b);
    let result = step(&s).input("min-retention", "7d").run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("retention::too short:"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_refused_token_is_named_and_not_retried() {
    let s = fake(healthy());
    let result = step(&s)
        .input("access-token", "sbp_wrong_token")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("the Supabase Management API refused `access-token` (401)"),
        "{}",
        result.stdout
    );
    assert_eq!(s.requests().len(), 1);
    assert!(!result.shown().contains("sbp_wrong_token"));
    // A project the token cannot see.
    let result = step(&s)
        .input("project-ref", "zzzzzzzzzzzzzzzzzzzz")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1));
    assert!(
        result
            .stdout
            .contains("project `zzzzzzzzzzzzzzzzzzzz` was not found"),
        "{}",
        result.stdout
    );
}

#[test]
fn server_errors_are_retried() {
    let s = fake(healthy());
    s.inject(Fault::Status(502));
    s.inject(Fault::Status(503));
    let result = step(&s).run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let statuses: Vec<u16> = s.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [502, 503, 200]);
}

#[test]
fn enforce_false_reports_but_lets_the_pipeline_go_on() {
    let s = fake(daily(30, vec![]));
    let result = step(&s)
        .input("require-pitr", "false")
        .input("enforce", "false")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::warning title=backup-check%3A newest backup::too old"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("the backup gate is overridden (`enforce: false`)"),
        "{}",
        result.stdout
    );
    assert!(!result.stdout.contains("::error"), "{}", result.stdout);
}

#[test]
fn an_incident_opens_once_repeats_as_comments_and_closes_when_healthy() {
    let gh = github::start("ghs_incident_token");
    let s = fake(daily(30, vec![]));
    let run = || {
        step(&s)
            .input("require-pitr", "false")
            .input("incident", "github-issue")
            .env("GITHUB_API_URL", &gh.base_url())
            .env("GITHUB_TOKEN", "ghs_incident_token")
            .run(EXE, &[])
    };
    let first = run();
    assert_eq!(first.code, Some(1), "{}", first.everything());
    let number = first.outputs["issue-number"].clone();
    {
        let state = gh.state();
        assert_eq!(state.issues.len(), 1);
        let issue = &state.issues[0];
        assert_eq!(issue["state"], "open");
        assert!(
            issue["title"]
                .as_str()
                .unwrap()
                .contains(&format!("Backups at risk: Supabase project {REF}"))
        );
        let body = issue["body"].as_str().unwrap();
        assert!(
            body.contains(&format!(
                "<!-- shipline:incident:backup-check/supabase/{REF} -->"
            )),
            "{body}"
        );
        assert!(body.contains("too old"), "{body}");
    }
    let second = run();
    assert_eq!(second.code, Some(1));
    assert_eq!(second.outputs["issue-number"], number);
    assert_eq!(gh.state().issues.len(), 1, "one issue, not two");
    let n: u64 = number.parse().unwrap();
    assert_eq!(gh.state().comments.get(&n).map_or(0, Vec::len), 1);

    s.state().backups = daily(2, vec![]);
    let healed = run();
    assert_eq!(healed.code, Some(0), "{}", healed.everything());
    assert_eq!(healed.outputs["issue-number"], number);
    let state = gh.state();
    assert_eq!(state.issues[0]["state"], "closed");
    assert_eq!(state.comments[&n].len(), 2);
}

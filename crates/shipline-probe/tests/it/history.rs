//! `history: <branch>`: results appended on a branch through the contents API, with a
//! concurrent writer in the middle; uptime per check; the chart; and a missing branch.

use shipline_testkit::fakes::github::{self, GitHub};
use shipline_testkit::{ActionsStep, Fake};

use crate::EXE;

const TOKEN: &str = "ghs_probe_history_token";

fn site() -> Fake {
    Fake::start(
        "site",
        axum::Router::new()
            .route("/", axum::routing::get(|| async { "<h1>Acme</h1>" }))
            .route("/health", axum::routing::get(|| async { "ok" })),
    )
}

fn run(site: &Fake, gh: &GitHub) -> shipline_testkit::actions_env::StepResult {
    ActionsStep::with_event("schedule", "schedule.json")
        .input("url", &format!("{0}/\n{0}/health?key=s3cr3t", site.url()))
        .input("history", "uptime-history")
        .env("GITHUB_API_URL", &gh.base_url())
        .env("GITHUB_TOKEN", TOKEN)
        .run(EXE, &[])
}

fn file(gh: &GitHub, path: &str) -> Option<String> {
    gh.state()
        .files
        .get(&("uptime-history".to_owned(), path.to_owned()))
        .map(|(b, _)| String::from_utf8_lossy(b).into_owned())
}

#[test]
fn runs_append_lines_even_when_another_run_writes_in_between() {
    let s = site();
    let gh = github::start(TOKEN);
    gh.state().branches.push("uptime-history".into());
    let day = shipline_core::time::now_rfc3339()[..10].to_owned();
    let path = format!("uptime/{day}.jsonl");

    let first = run(&s, &gh);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let lines = file(&gh, &path).expect("the day's file");
    assert_eq!(lines.lines().count(), 2, "{lines}");
    let line: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(line["status"], "up");
    assert!(line["total_ms"].as_u64().is_some() && line["dns_ms"].as_u64().is_some());
    assert!(!lines.contains("s3cr3t"), "the query is not kept: {lines}");
    assert!(file(&gh, "uptime/summary.json").is_some());
    let svg = file(&gh, "uptime/response-time.svg").expect("the chart");
    assert!(
        svg.starts_with("<svg") && svg.contains("<polyline"),
        "{svg}"
    );
    assert!(
        first.summary.contains("| 100.00% | 100.00% | 100.00% |"),
        "{}",
        first.summary
    );
    assert!(
        first
            .summary
            .contains("](https://github.com/acme/webapp/blob/uptime-history/uptime/response-time.svg?raw=true)"),
        "{}",
        first.summary
    );

    // Another run appends its line between this run's read and its write.
    gh.state().race = Some((path.clone(), "{\"check\":\"other run\"}\n".into()));
    let second = run(&s, &gh);
    assert_eq!(second.code, Some(0), "{}", second.everything());
    let lines = file(&gh, &path).unwrap();
    assert_eq!(lines.lines().count(), 5, "2 + the other run's + 2: {lines}");
    assert!(lines.contains("other run"));
    let puts: Vec<u16> = gh
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(".jsonl"))
        .map(|r| r.status)
        .collect();
    assert_eq!(puts, [201, 409, 200], "created, refused as stale, redone");
    let summary: serde_json::Value =
        serde_json::from_str(&file(&gh, "uptime/summary.json").unwrap()).unwrap();
    let runs: u64 = summary["checks"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|b| b.as_object().unwrap().values())
        .map(|b| b["runs"].as_u64().unwrap())
        .sum();
    assert_eq!(runs, 4, "two checks, two runs");
}

#[test]
fn a_missing_branch_is_a_warning_with_how_to_create_it() {
    let s = site();
    let gh = github::start(TOKEN);
    let result = run(&s, &gh);
    assert_eq!(
        result.code,
        Some(0),
        "the site is up: {}",
        result.everything()
    );
    assert!(
        result.stdout.contains("::warning title=probe%3A history::the history was not written: the history branch `uptime-history` does not exist: create it once (`git switch --orphan uptime-history"),
        "{}",
        result.stdout
    );
}

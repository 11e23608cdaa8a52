//! Rolling back on Netlify: `restore` of the last good deploy.

use shipline_testkit::fakes::netlify;

use crate::common::{as_refs, dispatch, github, latest, record, run, sha, site, statuses};

const TOKEN: &str = "nf_rollback_s3cr3t";

#[test]
fn previous_restores_the_last_good_deploy() {
    let n = netlify::start(TOKEN);
    let gh = github();
    let host = n.addr().to_string();
    let ids: Vec<String> = ["v1", "v2", "v3"]
        .iter()
        .map(|v| n.state().add_ready_deploy(&host, &as_refs(&site(v))))
        .collect();
    n.state().published = Some(ids[2].clone());
    let url = |id: &str| format!("http://{host}/_sites/{id}");
    let g1 = record(
        &gh,
        "netlify",
        &ids[0],
        &url(&ids[0]),
        &sha('1'),
        None,
        &["success"],
    );
    // Gone from the host (deleted deploy): skipped with a warning.
    let gone = "0000000000000000000000ff";
    record(
        &gh,
        "netlify",
        gone,
        &url(gone),
        &sha('2'),
        None,
        &["success"],
    );
    let g3 = record(
        &gh,
        "netlify",
        &ids[2],
        &url(&ids[2]),
        &sha('3'),
        None,
        &["success"],
    );

    let step = dispatch(&gh)
        .env("NETLIFY_API_URL", &n.base_url())
        .input("provider", "netlify")
        .input("token", TOKEN)
        .input("project", "site-0001")
        .input("expect-text", "Welcome to webapp v1");
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(n.state().published.as_deref(), Some(ids[0].as_str()));
    let restores = n.requests_to(
        "POST",
        &format!("/api/v1/sites/site-0001/deploys/{}/restore", ids[0]),
    );
    assert_eq!(restores.len(), 1);
    assert!(
        n.requests_to("GET", "/_production/").len() == 1,
        "the site's own domain was checked, and it serves v1 (`expect-text`)"
    );
    assert!(
        result.stdout.contains("no longer has it"),
        "{}",
        result.stdout
    );
    assert_eq!(latest(&gh, g1)["state"], "success");
    assert_eq!(statuses(&gh, g3), ["success", "in_progress", "inactive"]);
    assert_eq!(result.outputs["url"], format!("http://{host}/_production"));
    assert_eq!(result.outputs["from"], ids[2]);
    assert!(!result.shown().contains(TOKEN));
}

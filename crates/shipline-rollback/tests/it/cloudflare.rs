//! Rolling back on Cloudflare Pages: the record names the verified (staged) deployment,
//! and production goes back to the production deployment made from it, through
//! `POST …/deployments/{id}/rollback`.

use shipline_testkit::fakes::cloudflare;

use crate::common::{as_refs, dispatch, github, latest, record, run, sha, site, statuses};

const TOKEN: &str = "cf_rollback_s3cr3t";
const ACCOUNT: &str = "fedcba9876543210fedcba9876543210";

#[test]
fn previous_rolls_production_back_to_the_twin_of_the_last_good_record() {
    let cf = cloudflare::start(TOKEN, ACCOUNT);
    let gh = github();
    let host = cf.addr().to_string();
    // Each release as `deploy` leaves it: a staged preview, then production made from it.
    let mut staged = Vec::new();
    let mut production = Vec::new();
    for v in ["v1", "v2"] {
        let files = site(v);
        let id = cf
            .state()
            .seed(&host, "shipline-verify", "shipline", &as_refs(&files));
        let twin = cf.state().seed(
            &host,
            "main",
            &format!("shipline [shipline: verified as {id}]"),
            &as_refs(&files),
        );
        staged.push(id);
        production.push(twin);
    }
    // Thirty other production deployments since (dashboard pushes): the twin of v1 is on
    // the second page of the listing.
    for n in 0..30 {
        let files = site(&format!("other {n}"));
        cf.state()
            .seed(&host, "main", "a push from the dashboard", &as_refs(&files));
    }
    let v2_twin = cf.state().seed(
        &host,
        "main",
        &format!("shipline [shipline: verified as {}]", staged[1]),
        &as_refs(&site("v2")),
    );
    production[1] = v2_twin;
    assert_eq!(cf.state().canonical.as_ref(), Some(&production[1]));
    let url = |id: &str| format!("http://{host}/_sites/{id}/");
    let g1 = record(
        &gh,
        "cloudflare-pages",
        &staged[0],
        &url(&staged[0]),
        &sha('1'),
        None,
        &["success"],
    );
    let g2 = record(
        &gh,
        "cloudflare-pages",
        &staged[1],
        &url(&staged[1]),
        &sha('2'),
        None,
        &["success"],
    );

    let step = dispatch(&gh)
        .env("CLOUDFLARE_API_BASE_URL", &cf.base_url())
        .input("provider", "cloudflare-pages")
        .input("token", TOKEN)
        .input("account", ACCOUNT)
        .input("project", "webapp")
        .input("expect-text", "Welcome to webapp v1");
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(cf.state().canonical.as_ref(), Some(&production[0]));
    let path = format!(
        "/client/v4/accounts/{ACCOUNT}/pages/projects/webapp/deployments/{}/rollback",
        production[0]
    );
    assert_eq!(cf.requests_to("POST", &path).len(), 1);
    assert!(
        cf.requests()
            .iter()
            .any(|r| r.query_param("page").as_deref() == Some("2")),
        "the twin was found on the listing's second page"
    );
    assert_eq!(
        cf.requests_to("GET", "/_production/").len(),
        1,
        "production was checked, and it serves v1 (`expect-text`)"
    );
    assert_eq!(latest(&gh, g1)["state"], "success");
    assert_eq!(statuses(&gh, g2), ["success", "in_progress", "inactive"]);
    assert_eq!(result.outputs["url"], format!("http://{host}/_production/"));
    assert!(!result.shown().contains(TOKEN));
}

#[test]
fn a_staged_deployment_that_never_served_production_is_not_a_target() {
    let cf = cloudflare::start(TOKEN, ACCOUNT);
    let gh = github();
    let host = cf.addr().to_string();
    let files = site("v1");
    let orphan = cf
        .state()
        .seed(&host, "shipline-verify", "shipline", &as_refs(&files));
    record(
        &gh,
        "cloudflare-pages",
        &orphan,
        "http://x/",
        &sha('1'),
        None,
        &["success"],
    );
    let step = dispatch(&gh)
        .env("CLOUDFLARE_API_BASE_URL", &cf.base_url())
        .input("provider", "cloudflare-pages")
        .input("token", TOKEN)
        .input("account", ACCOUNT)
        .input("project", "webapp")
        .input("to", &orphan);
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("nothing to roll back to")
            && result.stdout.contains("nothing was changed"),
        "{}",
        result.stdout
    );
    assert!(
        cf.requests().iter().all(|r| !r.path.ends_with("/rollback")),
        "Pages rolls back only to production deployments"
    );
}

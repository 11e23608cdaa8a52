//! Netlify end to end, against the fake Netlify and the fake GitHub.

use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::github::GitHub;
use shipline_testkit::fakes::netlify::{self, Netlify};

use crate::flow::{self, run, statuses, with_github};

const TOKEN: &str = "nfp_netlify_token_42";

fn step(base: ActionsStep, n: &Netlify, gh: &GitHub) -> ActionsStep {
    let step = with_github(base, gh)
        .env("NETLIFY_API_URL", &n.base_url())
        .input("provider", "netlify")
        .env("NETLIFY_AUTH_TOKEN", TOKEN)
        .env("NETLIFY_SITE_ID", "site-0001")
        // A client-side route: served only through the `_redirects` rewrite.
        .input("smoke-path", "/settings/profile")
        .input("expect-text", "Welcome to webapp");
    flow::write_site(&step.workspace());
    step
}

fn puts(n: &Netlify) -> Vec<String> {
    n.requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.status == 200)
        .map(|r| r.path)
        .collect()
}

#[test]
fn production_is_a_draft_until_verified_then_published() {
    let (n, gh) = (netlify::start(TOKEN), flow::github());
    let step = step(ActionsStep::push(), &n, &gh);
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let create = &n.requests_to("POST", "/api/v1/sites/site-0001/deploys")[0];
    let body = create.json();
    assert_eq!(body["draft"], true);
    let files = body["files"].as_object().unwrap();
    assert_eq!(files.len(), 7, "6 site files and the SPA `_redirects`");
    assert!(files.contains_key("/index.html") && files.contains_key("/_redirects"));
    // Exactly the required files, one per content: a.css and b.css share one upload.
    let sent = puts(&n);
    assert_eq!(sent.len(), 6, "{sent:?}");
    let id = result.outputs["deployment-id"].clone();
    let order: Vec<String> = n
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let verified = order
        .iter()
        .position(|l| l == &format!("GET /_sites/{id}/settings/profile"))
        .expect("verified");
    let published = order
        .iter()
        .position(|l| l.ends_with("/restore"))
        .expect("published");
    assert!(verified < published);
    assert_eq!(n.state().published.as_deref(), Some(id.as_str()));
    let checked = order
        .iter()
        .position(|l| l == "GET /_production/settings/profile")
        .expect("post-publish check of the site's domain");
    assert!(published < checked, "{order:?}");
    assert_eq!(
        result.outputs["url"],
        format!("http://{}/_production", n.addr())
    );
    let gid: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    assert_eq!(statuses(&gh, gid), ["in_progress", "success"]);
    assert_eq!(
        gh.state().deployments[0]["payload"]["shipline"]["provider"],
        "netlify"
    );

    // A re-run finds its own ready deploy by title: no new deploy, nothing uploaded.
    let again = run(&step);
    assert_eq!(again.code, Some(0), "{}", again.everything());
    assert_eq!(n.state().deploys.len(), 1);
    assert_eq!(puts(&n).len(), 6);
    assert_eq!(again.outputs["files-uploaded"], "0");
    assert_eq!(gh.state().deployments.len(), 1);

    flow::change_one_file(&step.workspace());
    let changed = run(&step);
    assert_eq!(changed.code, Some(0), "{}", changed.everything());
    assert_eq!(puts(&n).len(), 7, "exactly the changed file");
    assert!(
        puts(&n)
            .last()
            .unwrap()
            .ends_with("/files/assets/index-1a2b.js")
    );
}

#[test]
fn a_failed_verification_publishes_nothing() {
    let (n, gh) = (netlify::start(TOKEN), flow::github());
    let result = run(&step(ActionsStep::push(), &n, &gh).input("spa", "false"));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("/settings/profile answered 404"),
        "{}",
        result.stdout
    );
    assert_eq!(n.state().published, None);
    assert!(n.requests().iter().all(|r| !r.path.ends_with("/restore")));
}

#[test]
fn previews_use_the_pull_request_branch_alias() {
    let (n, gh) = (netlify::start(TOKEN), flow::github());
    let result = run(&step(ActionsStep::pull_request(), &n, &gh));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let body = n.requests_to("POST", "/api/v1/sites/site-0001/deploys")[0].json();
    assert_eq!(
        (body["draft"].clone(), body["branch"].clone()),
        (true.into(), "pr-2".into())
    );
    assert_eq!(result.outputs["url"], "https://pr-2--webapp.netlify.app");
    assert_eq!(n.state().published, None, "a preview never publishes");
}

#[test]
fn an_unknown_site_names_the_project_input() {
    let (n, gh) = (netlify::start(TOKEN), flow::github());
    let result = run(&step(ActionsStep::push(), &n, &gh).input("project", "no-such-site"));
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `project`::Netlify has no site `no-such-site`"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_release_that_breaks_the_site_is_rolled_back_by_restoring_the_previous_deploy() {
    let (n, gh) = (netlify::start(TOKEN), flow::github());
    let step = step(ActionsStep::push(), &n, &gh).input("rollback-on-failure", "true");
    let first = run(&step);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let good = first.outputs["deployment-id"].clone();
    flow::change_one_file(&step.workspace());
    // Every deploy but the good one breaks on the site's domain (ids count up).
    for k in 1..20u32 {
        let id = format!("{k:024x}");
        if id != good {
            n.state().broken.insert(id, 500);
        }
    }
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("(`rollback-on-failure`)"),
        "{}",
        result.stdout
    );
    assert_eq!(n.state().published.as_deref(), Some(good.as_str()));
    let restores = n.requests_to(
        "POST",
        &format!("/api/v1/sites/site-0001/deploys/{good}/restore"),
    );
    assert_eq!(
        restores.len(),
        2,
        "published first, restored after the bad release"
    );
    let bad: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    assert_eq!(
        statuses(&gh, bad).last().map(String::as_str),
        Some("failure")
    );
}

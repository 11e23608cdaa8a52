//! `analytics`, `analytics-site`, `expect-sentry-dsn`: preflight refuses a production build
//! that would not report, and a preview build that would report as production.

use shipline_testkit::ActionsStep;

use crate::flow::{self, run};

const SITE: &str = "webapp.example.com";
const DSN: &str = "https://0123456789abcdef0123456789abcdef@o42.ingest.sentry.io/4501";

fn step(base: ActionsStep, index: &str) -> ActionsStep {
    let target = base.dir().join("www");
    let step = base
        .input("provider", "fs")
        .input("target-dir", target.to_str().unwrap())
        .input("record-store", "fs:records")
        .input("analytics", "plausible")
        .input("analytics-site", SITE)
        .input("expect-sentry-dsn", "true");
    flow::write_site(&step.workspace());
    std::fs::write(step.workspace().join("dist/index.html"), index).unwrap();
    step
}

fn index(domain: &str, dsn: &str) -> String {
    format!(
        "<!doctype html><script defer data-domain=\"{domain}\" src=\"https://plausible.io/js/script.js\"></script><script>Sentry.init({{dsn:'{dsn}'}})</script><div id=\"root\">Welcome to webapp</div>"
    )
}

#[test]
fn a_production_build_that_would_not_report_is_refused_before_anything_moves() {
    let ok = step(ActionsStep::push(), &index(SITE, DSN));
    let result = run(&ok);
    assert_eq!(result.code, Some(0), "{}", result.everything());

    let missing = step(
        ActionsStep::push(),
        "<!doctype html><div id=\"root\">Welcome to webapp</div>",
    );
    let result = run(&missing);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    for what in [
        "no file of the production build contains the Plausible script",
        "no file of the production build contains the production analytics site `webapp.example.com` (`analytics-site`)",
        "no file of the production build contains a Sentry DSN (`expect-sentry-dsn`)",
    ] {
        assert!(result.stdout.contains(what), "{what}: {}", result.stdout);
    }
    assert!(!missing.dir().join("www").exists(), "nothing was deployed");
}

#[test]
fn a_preview_build_with_the_production_site_is_refused() {
    let result = run(&step(ActionsStep::pull_request(), &index(SITE, DSN)));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("the production analytics site `webapp.example.com` (`analytics-site`) is in this preview build"),
        "{}",
        result.stdout
    );
    // A preview with its own site, and without the DSN, goes.
    let result = run(&step(
        ActionsStep::pull_request(),
        &index("preview.example.com", ""),
    ));
    assert_eq!(result.code, Some(0), "{}", result.everything());
}

//! Cloudflare Pages end to end, against the fake Cloudflare and the fake GitHub.

use serde_json::Value;
use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::cloudflare::{self, Cloudflare};
use shipline_testkit::fakes::github::GitHub;

use crate::flow::{self, run, statuses, with_github};

const TOKEN: &str = "cf_pages_token_42";
const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const PROJECT: &str = "/client/v4/accounts/0123456789abcdef0123456789abcdef/pages/projects/webapp";

fn start() -> (Cloudflare, GitHub) {
    (cloudflare::start(TOKEN, ACCOUNT), flow::github())
}

fn step(base: ActionsStep, cf: &Cloudflare, gh: &GitHub) -> ActionsStep {
    let step = with_github(base, gh)
        .env("CLOUDFLARE_API_BASE_URL", &cf.base_url())
        .input("provider", "cloudflare-pages")
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .env("CLOUDFLARE_ACCOUNT_ID", ACCOUNT)
        .input("project", "webapp")
        // A client-side route: served only through the `_redirects` rewrite.
        .input("smoke-path", "/settings/profile")
        .input("expect-text", "Welcome to webapp");
    flow::write_site(&step.workspace());
    step
}

/// The multipart forms of the deployments created, in order, as name → text.
fn forms(cf: &Cloudflare) -> Vec<std::collections::BTreeMap<String, String>> {
    cf.requests_to("POST", &format!("{PROJECT}/deployments"))
        .iter()
        .map(|r| {
            let body = String::from_utf8_lossy(&r.body).to_string();
            let boundary = body.lines().next().unwrap_or_default().to_owned();
            body.split(&boundary)
                .filter_map(|part| {
                    let name = part.split("name=\"").nth(1)?.split('"').next()?.to_owned();
                    let value = part.split("\r\n\r\n").nth(1)?.trim_end_matches("\r\n");
                    Some((name, value.to_owned()))
                })
                .collect()
        })
        .collect()
}

fn uploaded(cf: &Cloudflare) -> usize {
    cf.state().buckets.iter().map(Vec::len).sum()
}

#[test]
fn production_is_verified_as_a_preview_then_deployed_on_the_production_branch() {
    let (cf, gh) = start();
    let step = step(ActionsStep::push(), &cf, &gh);
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());

    // check-missing asked about every asset; only the 5 distinct contents were uploaded
    // (a.css and b.css are equal), and upsert-hashes marked all 6.
    let asked = cf.requests_to("POST", "/client/v4/pages/assets/check-missing")[0].json();
    assert_eq!(asked["hashes"].as_array().unwrap().len(), 6);
    assert!(
        asked["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.as_str().unwrap().len() == 32)
    );
    assert_eq!(uploaded(&cf), 5);
    let upload = cf.requests_to("POST", "/client/v4/pages/assets/upload");
    assert!(
        upload
            .iter()
            .all(|r| r.header("authorization").unwrap().starts_with("Bearer eyJ")),
        "asset calls carry the upload token, not the API token"
    );
    assert_eq!(cf.state().upserted.len(), 5);
    let upsert = cf.requests_to("POST", "/client/v4/pages/assets/upsert-hashes")[0].json();
    assert_eq!(upsert["hashes"], asked["hashes"]);

    // Two deployments of one manifest: the staged preview, then production.
    let forms = forms(&cf);
    assert_eq!(forms.len(), 2, "{forms:?}");
    assert_eq!(forms[0]["branch"], cloudflare_staging_branch());
    assert_eq!(forms[1]["branch"], "main");
    assert_eq!(forms[0]["manifest"], forms[1]["manifest"]);
    let manifest: Value = serde_json::from_str(&forms[0]["manifest"]).unwrap();
    assert_eq!(manifest.as_object().unwrap().len(), 6);
    assert!(manifest.get("/index.html").is_some());
    assert_eq!(forms[0]["_redirects"], "/*    /index.html    200\n");
    let staged = result.outputs["deployment-id"].clone();
    assert!(
        forms[1]["commit_message"].contains(&format!("[shipline: verified as {staged}]")),
        "{:?}",
        forms[1]
    );

    // Verified at the staged URL before production got it; then production was checked.
    let order: Vec<String> = cf
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let verified = order
        .iter()
        .position(|l| l == &format!("GET /_sites/{staged}/settings/profile"))
        .expect("verified");
    let created: Vec<usize> = order
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == &format!("POST {PROJECT}/deployments"))
        .map(|(i, _)| i)
        .collect();
    assert!(created[0] < verified && verified < created[1], "{order:?}");
    let checked = order
        .iter()
        .position(|l| l == "GET /_production/settings/profile")
        .expect("post-promote check of production");
    assert!(created[1] < checked);
    let canonical = cf.state().canonical.clone().unwrap();
    assert_ne!(canonical, staged);
    assert_eq!(
        cf.state().deployment(&canonical).unwrap().json["environment"],
        "production"
    );
    assert_eq!(
        result.outputs["url"],
        format!("http://{}/_production/", cf.addr())
    );
    let gid: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    assert_eq!(statuses(&gh, gid), ["in_progress", "success"]);
    assert_eq!(
        gh.state().deployments[0]["payload"]["shipline"]["provider"],
        "cloudflare-pages"
    );
    assert!(!result.shown().contains(TOKEN));

    // A re-run uploads nothing: the store has every hash.
    let again = run(&step);
    assert_eq!(again.code, Some(0), "{}", again.everything());
    assert_eq!(again.outputs["files-uploaded"], "0");
    assert_eq!(uploaded(&cf), 5);

    flow::change_one_file(&step.workspace());
    let changed = run(&step);
    assert_eq!(changed.code, Some(0), "{}", changed.everything());
    assert_eq!(uploaded(&cf), 6, "exactly the changed file");
    assert_eq!(changed.outputs["files-uploaded"], "1");
}

fn cloudflare_staging_branch() -> &'static str {
    shipline_deploy::cloudflare::STAGING_BRANCH
}

#[test]
fn a_failed_verification_never_reaches_the_production_branch() {
    let (cf, gh) = start();
    let result = run(&step(ActionsStep::push(), &cf, &gh).input("spa", "false"));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("/settings/profile answered 404"),
        "{}",
        result.stdout
    );
    let forms = forms(&cf);
    assert_eq!(forms.len(), 1);
    assert_eq!(forms[0]["branch"], cloudflare_staging_branch());
    assert!(
        !forms[0].contains_key("_redirects"),
        "no SPA fallback asked for"
    );
    assert_eq!(cf.state().canonical, None, "production was not touched");
}

#[test]
fn previews_deploy_on_the_pull_request_branch_and_use_its_alias() {
    let (cf, gh) = start();
    let result = run(&step(ActionsStep::pull_request(), &cf, &gh));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let forms = forms(&cf);
    assert_eq!(forms.len(), 1, "a preview is one deployment");
    assert_eq!(forms[0]["branch"], "pr-2");
    assert_eq!(
        result.outputs["url"],
        format!("http://{}/_alias/pr-2/", cf.addr())
    );
    assert_eq!(
        cf.state().canonical,
        None,
        "a preview never serves production"
    );
}

#[test]
fn an_expired_upload_token_is_fetched_again_once() {
    let (cf, gh) = start();
    cf.state().expire_first_jwt = true;
    let result = run(&step(ActionsStep::push(), &cf, &gh));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(cf.state().jwts.len(), 2);
    assert_eq!(
        cf.requests_to("GET", &format!("{PROJECT}/upload-token"))
            .len(),
        2
    );
}

#[test]
fn a_wrong_project_or_token_names_the_input_and_uploads_nothing() {
    let (cf, gh) = start();
    let result = run(&step(ActionsStep::push(), &cf, &gh).input("project", "other"));
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `project`::Cloudflare has no Pages project `other`"),
        "{}",
        result.stdout
    );
    let result = run(&step(ActionsStep::push(), &cf, &gh).env("CLOUDFLARE_API_TOKEN", "wrong"));
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `token`::Cloudflare refused the token"),
        "{}",
        result.stdout
    );
    assert!(!result.shown().contains("wrong\n"));
    assert!(cf.state().assets.is_empty());
    assert!(cf.state().deployments.is_empty());
}

#[test]
fn a_pages_function_is_refused_rather_than_dropped() {
    let (cf, gh) = start();
    let step = step(ActionsStep::push(), &cf, &gh);
    std::fs::write(
        step.workspace().join("dist/_worker.js"),
        "export default { fetch() { return new Response('hi') } }",
    )
    .unwrap();
    let result = run(&step);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `directory`::`_worker.js` is a Pages Function"),
        "{}",
        result.stdout
    );
    assert!(cf.state().deployments.is_empty());
}

#[test]
fn a_release_that_breaks_production_is_rolled_back_through_the_pages_endpoint() {
    let (cf, gh) = start();
    let step = step(ActionsStep::push(), &cf, &gh).input("rollback-on-failure", "true");
    let first = run(&step);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let good = cf.state().canonical.clone().unwrap();
    flow::change_one_file(&step.workspace());
    // Every deployment made after the good one breaks on the production domain.
    let later: Vec<String> = (3..20u64)
        .map(|n| format!("{n:08x}-cf00-4000-8000-00000000{n:04x}"))
        .collect();
    for id in later {
        cf.state().broken.insert(id, 500);
    }
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("(`rollback-on-failure`)"),
        "{}",
        result.stdout
    );
    assert_eq!(cf.state().canonical.as_deref(), Some(good.as_str()));
    assert_eq!(
        cf.requests_to("POST", &format!("{PROJECT}/deployments/{good}/rollback"))
            .len(),
        1
    );
    let bad: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    assert_eq!(
        statuses(&gh, bad).last().map(String::as_str),
        Some("failure")
    );
}

#[test]
fn asset_hashes_are_the_ones_wrangler_computes() {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, &[u8]); 5] = [
        ("index.html", b"<!doctype html><p>hi</p>"),
        ("app.min.js", b"console.log(1)"),
        ("LICENSE", b"MIT"),
        (".well-known", b"x"),
        ("logo.png", &[0x89, b'P', b'N', b'G', 0, 0xff, 0x10]),
    ];
    let mut args = vec![
        shipline_testkit::openapi::tools_dir()
            .join("../cf-hash.mjs")
            .display()
            .to_string(),
    ];
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
        args.push(dir.path().join(name).display().to_string());
    }
    let out = std::process::Command::new("node")
        .args(&args)
        .current_dir(shipline_testkit::openapi::tools_dir().join(".."))
        .output()
        .expect("node (with `npm install --prefix tools` for blake3-wasm)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let ours: Vec<String> = files
        .iter()
        .map(|(name, content)| shipline_deploy::cloudflare::asset_hash(content, name))
        .collect();
    assert_eq!(ours, theirs);
}

//! Vercel end to end, against the fake Vercel and the fake GitHub.

use serde_json::Value;
use shipline_testkit::fakes::github::GitHub;
use shipline_testkit::fakes::vercel::{self, Vercel};
use shipline_testkit::{ActionsStep, Fault};

use crate::flow::{self, run, statuses, with_github};

const TOKEN: &str = "vercel_tok_s3cr3t";
const TEAM: &str = "team_acme";

fn fakes() -> (Vercel, GitHub) {
    let v = vercel::start(TOKEN, Some(TEAM));
    v.state().polls_until_ready = 1;
    (v, flow::github())
}

fn step(base: ActionsStep, v: &Vercel, gh: &GitHub) -> ActionsStep {
    let step = with_github(base, gh)
        .env("VERCEL_API_URL", &v.base_url())
        .input("provider", "vercel")
        .input("token", TOKEN)
        .input("project", "prj_shipline")
        .input("team", TEAM)
        .input("expect-text", "Welcome to webapp");
    flow::write_site(&step.workspace());
    step
}

fn uploads(v: &Vercel) -> Vec<String> {
    let mut shas: Vec<String> = v
        .requests_to("POST", "/v2/files")
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.header("x-vercel-digest").unwrap().to_owned())
        .collect();
    shas.sort();
    shas
}

#[test]
fn production_is_staged_verified_promoted_and_recorded() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());

    let requests = v.requests();
    assert!(
        requests
            .iter()
            .filter(|r| !r.path.starts_with("/_"))
            .all(|r| r.query_param("teamId").as_deref() == Some(TEAM)),
        "teamId on every API call"
    );
    // The staged and the production checks are `shipline-probe`'s own request.
    let smoke: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/_sites/"))
        .collect();
    assert!(!smoke.is_empty());
    assert!(
        smoke.iter().all(|r| r
            .header("user-agent")
            .is_some_and(|u| u.starts_with("shipline-probe/"))),
        "{smoke:?}"
    );
    let creates = v.requests_to("POST", "/v13/deployments");
    assert_eq!(creates.len(), 2, "create, upload the missing, create again");
    assert_eq!(creates[0].status, 400);
    assert_eq!(creates[0].response_json()["error"]["code"], "missing_files");
    assert_eq!(creates[0].query_param("prebuilt").as_deref(), Some("1"));
    let body = creates[0].json();
    assert_eq!(body["target"], "production");
    assert_eq!(body["autoAssignCustomDomains"], false);
    assert_eq!(
        body["meta"]["githubCommitSha"],
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    );
    assert_eq!(
        body["gitMetadata"]["commitSha"],
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    );
    assert_eq!(
        body["gitMetadata"]["remoteUrl"],
        "https://github.com/acme/webapp"
    );
    let files: Vec<&str> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&".vercel/output/config.json"));
    assert!(files.contains(&".vercel/output/static/index.html"));
    assert_eq!(files.len(), 7, "6 site files + config.json");

    // Identical contents (a.css, b.css) are sent once; each upload carries digest and size.
    let sent = uploads(&v);
    assert_eq!(sent.len(), 6, "{sent:?}");
    for r in v.requests_to("POST", "/v2/files") {
        assert_eq!(r.header("x-vercel-size").unwrap(), r.body.len().to_string());
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
    let config: Value = {
        let state = v.state();
        let sha = state.deployment_files["dpl_0001"][".vercel/output/config.json"].clone();
        serde_json::from_slice(&state.files[&sha]).unwrap()
    };
    assert_eq!(config["version"], 3);
    assert_eq!(config["routes"][1]["dest"], "/index.html");

    // Verified at its own URL before the promote, which then went through.
    let order: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let verified = order
        .iter()
        .position(|l| l == "GET /_sites/dpl_0001/")
        .expect("verification request");
    let promoted = order
        .iter()
        .position(|l| l == "POST /v10/projects/prj_shipline/promote/dpl_0001")
        .expect("promote");
    assert!(verified < promoted, "{order:?}");
    assert_eq!(v.state().production.as_deref(), Some("dpl_0001"));
    // Then the production domain itself was checked.
    let checked = order
        .iter()
        .position(|l| l == "GET /_production/")
        .expect("post-promote check");
    assert!(promoted < checked, "{order:?}");

    let production_url = format!("http://{}/_production", v.addr());
    assert_eq!(result.outputs["url"], production_url);
    assert_eq!(result.outputs["deployment-id"], "dpl_0001");
    assert_eq!(result.outputs["files-total"], "6");
    // Five distinct contents (`a.css` and `b.css` are equal, sent once); Vercel's
    // `config.json`, shipline's own, is not counted as the site's.
    assert_eq!(result.outputs["files-uploaded"], "5");
    assert!(result.outputs["bytes-uploaded"].parse::<u64>().unwrap() > 6000);
    assert!(result.outputs.contains_key("duration-ms"));

    // The record: payload.shipline filled, in_progress then success with the run's log.
    let gid: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    let d = gh.state().deployments[0].clone();
    assert_eq!(d["id"], gid);
    assert_eq!(d["environment"], "production");
    let payload = &d["payload"]["shipline"];
    assert_eq!(payload["provider"], "vercel");
    assert_eq!(payload["provider_deployment_id"], "dpl_0001");
    assert_eq!(
        payload["git_sha"],
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    );
    assert_eq!(payload["artifact_sha256"].as_str().unwrap().len(), 64);
    assert!(payload["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(statuses(&gh, gid), ["in_progress", "success"]);
    let last = gh.state().statuses[&gid].last().unwrap().clone();
    assert_eq!(
        last["log_url"],
        "https://github.com/acme/webapp/actions/runs/4242"
    );
    assert_eq!(last["environment_url"], production_url.as_str());

    for phase in [
        "preflight",
        "upload and stage",
        "verify",
        "promote",
        "check production",
    ] {
        assert!(result.summary.contains(phase), "{}", result.summary);
    }
    assert!(!result.shown().contains(TOKEN));
}

#[test]
fn a_rerun_uploads_nothing_and_a_one_file_change_uploads_one_file() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    assert_eq!(run(&step).code, Some(0));
    let before = uploads(&v).len();

    let again = run(&step);
    assert_eq!(again.code, Some(0), "{}", again.everything());
    assert_eq!(uploads(&v).len(), before, "nothing new uploaded");
    assert_eq!(again.outputs["files-uploaded"], "0");
    assert_eq!(
        again.outputs["deployment-id"], "dpl_0001",
        "the same deployment"
    );
    assert_eq!(gh.state().deployments.len(), 1, "no duplicate record");

    flow::change_one_file(&step.workspace());
    let changed = run(&step);
    assert_eq!(changed.code, Some(0), "{}", changed.everything());
    assert_eq!(changed.outputs["files-uploaded"], "1");
    let after = uploads(&v);
    assert_eq!(after.len(), before + 1);
    let new_sha = shipline_deploy::site::sha1_hex(
        &std::fs::read(step.workspace().join("dist/assets/index-1a2b.js")).unwrap(),
    );
    assert!(after.contains(&new_sha));
}

#[test]
fn a_failed_verification_leaves_production_untouched() {
    let (v, gh) = fakes();
    // In the bundle (preflight passes), but not on the page the smoke path serves.
    let step = step(ActionsStep::push(), &v, &gh).input("expect-text", "prod-ref.supabase.co");
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("verification failed"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("does not contain `prod-ref.supabase.co` (`expect-text`)"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("production was not touched"),
        "{}",
        result.stdout
    );
    assert!(v.requests().iter().all(|r| !r.path.contains("/promote/")));
    assert_eq!(v.state().production, None);
    let gid = gh.state().deployments[0]["id"].as_u64().unwrap();
    assert_eq!(statuses(&gh, gid), ["in_progress", "failure"]);
}

#[test]
fn previews_get_a_stable_alias_and_retire_older_previews() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::pull_request(), &v, &gh);
    let first = run(&step);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    assert_eq!(first.outputs["url"], "https://webapp-pr-2.vercel.app");
    let create = &v.requests_to("POST", "/v13/deployments")[0];
    assert!(
        create.json().get("target").is_none(),
        "a preview has no target"
    );
    assert_eq!(create.json()["meta"]["githubPrId"], "2");
    assert_eq!(
        create.json()["meta"]["githubCommitSha"],
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    );
    assert_eq!(v.state().aliases["webapp-pr-2.vercel.app"], "dpl_0001");
    assert!(v.requests().iter().all(|r| !r.path.contains("/promote/")));
    let d = gh.state().deployments[0].clone();
    assert_eq!(d["environment"], "preview/pr-2");
    assert_eq!(d["transient_environment"], true);

    flow::change_one_file(&step.workspace());
    let second = run(&step);
    assert_eq!(second.code, Some(0), "{}", second.everything());
    assert_eq!(
        v.state().aliases["webapp-pr-2.vercel.app"],
        second.outputs["deployment-id"]
    );
    let ids: Vec<u64> = gh
        .state()
        .deployments
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        statuses(&gh, ids[0]),
        ["in_progress", "success", "inactive"]
    );
    assert_eq!(statuses(&gh, ids[1]), ["in_progress", "success"]);
}

#[test]
fn a_preview_keeps_one_sticky_comment_on_its_pull_request() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::pull_request(), &v, &gh)
        .input("migrations", "1 pending: 20261203_add_orders")
        .input("migration-version", "20261203090000");
    let first = run(&step);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    flow::change_one_file(&step.workspace());
    let second = run(&step);
    assert_eq!(second.code, Some(0), "{}", second.everything());
    let comments = gh.state().comments.get(&2).cloned().unwrap_or_default();
    assert_eq!(comments.len(), 1, "one comment, edited on the second push");
    let posts = gh.requests_to("POST", "/repos/acme/webapp/issues/2/comments");
    let patches: Vec<_> = gh
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "PATCH" && r.path.starts_with("/repos/acme/webapp/issues/comments/")
        })
        .collect();
    assert_eq!((posts.len(), patches.len()), (1, 1));
    let body = comments[0]["body"].as_str().unwrap().to_owned();
    assert!(
        body.starts_with("<!-- shipline:deploy/vercel/prj_shipline -->"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "| **Deployment** | {} |",
            second.outputs["deployment-id"]
        )),
        "{body}"
    );
    // Phase times change from run to run.
    let body = regex::Regex::new(r"\| \*\*Timings\*\* \|[^\n]*")
        .unwrap()
        .replace(&body, "| **Timings** | [PHASES] |")
        .into_owned();
    shipline_testkit::snapshot::with_filters(|| {
        insta::assert_snapshot!("vercel_preview_comment", body)
    });
    assert!(
        second.summary.contains("preview comment"),
        "{}",
        second.summary
    );
}

#[test]
fn a_preview_that_fails_verification_says_so_in_its_comment() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::pull_request(), &v, &gh).input("expect-text", "not on the page");
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    let comments = gh.state().comments.get(&2).cloned().unwrap_or_default();
    assert_eq!(comments.len(), 1, "{}", result.everything());
    let body = comments[0]["body"].as_str().unwrap();
    assert!(
        body.contains("### ❌ Preview of prj_shipline on Vercel"),
        "{body}"
    );
    assert!(
        body.contains("| **Problem** | verification failed:"),
        "{body}"
    );
    assert!(body.contains("`not on the page`"), "{body}");
}

#[test]
fn a_preview_comment_that_cannot_be_posted_is_a_warning_not_a_failure() {
    let (v, gh) = fakes();
    gh.state().read_only = true;
    let dir = tempfile::tempdir().unwrap();
    let result = run(&step(ActionsStep::pull_request(), &v, &gh)
        .input("record-store", &format!("fs:{}", dir.path().display())));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::warning title=no preview comment::"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("`pull-requests: write`"),
        "{}",
        result.stdout
    );
    let off = run(&step(ActionsStep::pull_request(), &v, &gh)
        .input("record-store", &format!("fs:{}", dir.path().display()))
        .input("pr-comment", "false"));
    assert_eq!(off.code, Some(0), "{}", off.everything());
    assert!(!off.stdout.contains("no preview comment"), "{}", off.stdout);
}

#[test]
fn a_deployment_that_ends_in_error_fails_with_the_inspector_url() {
    let (v, gh) = fakes();
    v.state().fail_with = Some("ERROR".into());
    let result = run(&step(ActionsStep::push(), &v, &gh));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(result.stdout.contains("ended ERROR"), "{}", result.stdout);
    assert!(
        result
            .stdout
            .contains("https://vercel.com/acme/webapp/dpl_0001"),
        "{}",
        result.stdout
    );
    assert!(
        gh.state().deployments.is_empty(),
        "nothing recorded for a deploy that never existed"
    );
}

#[test]
fn a_wrong_token_or_team_names_the_token_input() {
    let (v, gh) = fakes();
    let result = run(&step(ActionsStep::push(), &v, &gh).input("team", "team_other"));
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::error title=invalid input `token`::Vercel refused the token (403)"),
        "{}",
        result.stdout
    );
    assert!(uploads(&v).is_empty());
}

#[test]
fn injected_faults_are_retried_and_the_deploy_completes() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    // The first create is rate limited, the second answer is a 500, then the upload
    // connection drops once, then a 502.
    v.inject(Fault::RateLimited("1".into()));
    v.inject(Fault::Status(500));
    v.inject(Fault::Drop);
    v.inject(Fault::Status(502));
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(v.state().production.as_deref(), Some("dpl_0001"));
    assert_eq!(
        v.state().deployments.len(),
        1,
        "retries created no second deployment"
    );
    assert_eq!(uploads(&v).len(), 6);
}

#[test]
fn timeout_bounds_the_wait_and_a_rerun_finishes_the_job() {
    let (v, gh) = fakes();
    v.state().polls_until_ready = 1000;
    let step = step(ActionsStep::push(), &v, &gh).input("timeout", "3s");
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("`timeout` ran out while waiting for Vercel deployment `dpl_0001`"),
        "{}",
        result.stdout
    );
    assert_eq!(v.state().production, None);
    let uploaded = uploads(&v).len();

    // The host finishes its build; the re-run uploads nothing and promotes the same deployment.
    v.state().polls_until_ready = 0;
    let rerun = run(&step);
    assert_eq!(rerun.code, Some(0), "{}", rerun.everything());
    assert_eq!(uploads(&v).len(), uploaded);
    assert_eq!(v.state().production.as_deref(), Some("dpl_0001"));
}

#[test]
fn slow_answers_are_waited_for() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    v.inject(Fault::Delay(std::time::Duration::from_millis(1500)));
    v.inject(Fault::Delay(std::time::Duration::from_millis(1500)));
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(v.state().production.as_deref(), Some("dpl_0001"));
}

#[test]
fn an_unknown_project_names_the_project_input() {
    let (v, gh) = fakes();
    let result = run(&step(ActionsStep::push(), &v, &gh).input("project", "prj_nope"));
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::error title=invalid input `project`::Vercel has no project `prj_nope`"),
        "{}",
        result.stdout
    );
    assert!(uploads(&v).is_empty());
}

#[test]
fn a_file_over_the_plan_limit_is_named() {
    let (v, gh) = fakes();
    v.state().max_file_size = Some(5000);
    let result = run(&step(ActionsStep::push(), &v, &gh));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains(
            "Vercel refused `.vercel/output/static/assets/vendor-9f8e.js` (6.0 kB) as larger than it takes per file (413)"
        ),
        "{}",
        result.stdout
    );
    assert_eq!(v.state().deployments.len(), 0, "no deployment was created");
}

#[test]
fn more_files_than_vercel_takes_are_refused_before_upload() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    let many = step.workspace().join("dist/many");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..15_000 {
        std::fs::write(many.join(format!("{i}.txt")), i.to_string()).unwrap();
    }
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("`dist` holds 15006 files; vercel takes at most 14999 per deployment"),
        "{}",
        result.stdout
    );
    assert!(v.requests().is_empty());
}

#[test]
fn a_service_role_key_in_the_bundle_stops_everything_before_upload() {
    let (v, gh) = fakes();
    let step =
        step(ActionsStep::push(), &v, &gh).input("forbid-text", "https://preview-ref.supabase.co");
    let js = format!(
        "\n\nconst admin = createClient(url, \"{}\");\n",
        flow::jwt("service_role")
    );
    std::fs::write(step.workspace().join("dist/assets/admin-77.js"), js).unwrap();
    std::fs::write(
        step.workspace().join("dist/assets/env-1.js"),
        "const u='https://preview-ref.supabase.co'",
    )
    .unwrap();
    let anon = format!("const anon = \"{}\";", flow::jwt("anon"));
    std::fs::write(step.workspace().join("dist/assets/anon.js"), anon).unwrap();
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("::error title=secret in the bundle,file=dist/assets/admin-77.js,line=3::a Supabase `service_role` key"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains(
            "file=dist/assets/env-1.js,line=1::`https://preview-ref.supabase.co` (`forbid-text`)"
        ),
        "{}",
        result.stdout
    );
    assert!(
        !result.stdout.contains("anon.js"),
        "the anon key is fine: {}",
        result.stdout
    );
    assert!(
        !result.everything().contains("c2lnbmF0dXJl"),
        "the key itself is never shown"
    );
    assert!(
        v.requests().is_empty(),
        "nothing was sent: {:?}",
        v.requests().len()
    );
    assert!(gh.requests().is_empty());
}

#[test]
fn the_token_value_and_forbid_env_values_are_secrets_in_the_bundle() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh)
        .input("forbid-env", "STRIPE_WEBHOOK_SECRET")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_abcdef123456");
    std::fs::write(
        step.workspace().join("dist/assets/x.js"),
        format!("a='{TOKEN}';b='whsec_abcdef123456'"),
    )
    .unwrap();
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("the value of `token` is in the bundle"),
        "{}",
        result.stdout
    );
    assert!(v.requests().is_empty());
}

#[test]
fn a_production_build_without_the_expected_text_is_refused() {
    let (v, gh) = fakes();
    let step =
        step(ActionsStep::push(), &v, &gh).input("expect-text", "https://prod-other.supabase.co");
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("no file of the production build contains `https://prod-other.supabase.co`"),
        "{}",
        result.stdout
    );
    assert!(v.requests().is_empty());
}

#[test]
fn a_read_only_github_token_says_which_permission_is_missing() {
    let (v, gh) = fakes();
    gh.state().read_only = true;
    let result = run(&step(ActionsStep::push(), &v, &gh));
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("the token lacks `deployments: write`"),
        "{}",
        result.stdout
    );
    assert_eq!(
        v.state().production,
        None,
        "never promoted without a record"
    );
}

#[test]
fn symlinks_out_of_the_site_are_bad_input() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    std::os::unix::fs::symlink("/etc/hostname", step.workspace().join("dist/hostname")).unwrap();
    let result = run(&step);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(result.stdout.contains("invalid input `directory`::`hostname` is a symlink to `/etc/hostname`, outside the site"), "{}", result.stdout);
    assert!(v.requests().is_empty());
}

#[test]
fn a_release_that_breaks_production_is_rolled_back_with_rollback_on_failure() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh).input("rollback-on-failure", "true");
    let first = run(&step);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let good: u64 = first.outputs["github-deployment-id"].parse().unwrap();

    // The next release passes at its own URL, and breaks on the production domain.
    flow::change_one_file(&step.workspace());
    v.state().broken.insert("dpl_0002".into(), 502);
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::error title=post-promote check failed::")
            && result.stdout.contains("answered 502")
            && result
                .stdout
                .contains("rolled back to 6113728 (dpl_0001) (`rollback-on-failure`)"),
        "{}",
        result.stdout
    );
    assert_eq!(v.state().production.as_deref(), Some("dpl_0001"));
    assert_eq!(
        v.requests_to("POST", "/v1/projects/prj_shipline/rollback/dpl_0001")
            .len(),
        1
    );
    let bad: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    assert_ne!(bad, good);
    let last = |id: u64| gh.state().statuses[&id].last().unwrap().clone();
    assert_eq!(last(good)["state"], "success");
    assert!(
        last(good)["description"]
            .as_str()
            .unwrap()
            .starts_with("rollback from 6113728 (dpl_0002): post-promote check failed"),
        "{}",
        last(good)["description"]
    );
    assert_eq!(last(bad)["state"], "failure");
    assert!(
        result.summary.contains("check production"),
        "{}",
        result.summary
    );
}

#[test]
fn without_rollback_on_failure_a_broken_production_is_reported_plainly() {
    let (v, gh) = fakes();
    let step = step(ActionsStep::push(), &v, &gh);
    assert_eq!(run(&step).code, Some(0));
    flow::change_one_file(&step.workspace());
    v.state().broken.insert("dpl_0002".into(), 404);
    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("set `rollback-on-failure: true` to have the deploy do it"),
        "{}",
        result.stdout
    );
    assert_eq!(v.state().production.as_deref(), Some("dpl_0002"));
    assert!(
        v.requests().iter().all(|r| !r.path.contains("/rollback/")),
        "nothing was rolled back"
    );
    let bad: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    let last = gh.state().statuses[&bad].last().unwrap().clone();
    assert_eq!(last["state"], "failure");
    assert!(
        last["description"]
            .as_str()
            .unwrap()
            .starts_with("live, but post-promote check failed")
    );
}

//! AWS Amplify end to end, against the fake Amplify + S3 (which checks every SigV4
//! signature with its own implementation) and the fake GitHub.

use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::amplify::{self, Amplify};
use shipline_testkit::fakes::github::GitHub;

use crate::flow::{self, run, statuses, with_github};

const AKID: &str = "ASIAEXAMPLEKEYID1234";
const SECRET: &str = "aws/secret+example/key0123456789abcdefghij";
const SESSION: &str = "IQoJb3JpZ2luX2VjEOIDC-session-token";
const APP: &str = "d1a2b3c4d5e6f7";

fn start() -> (Amplify, GitHub) {
    (amplify::start(AKID, SECRET, Some(SESSION)), flow::github())
}

fn step(base: ActionsStep, am: &Amplify, gh: &GitHub) -> ActionsStep {
    let step = with_github(base, gh)
        .env("AWS_ENDPOINT_URL_AMPLIFY", &am.base_url())
        .env("AWS_ENDPOINT_URL_S3", &format!("{}/_s3", am.base_url()))
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", SESSION)
        .env("AWS_REGION", "eu-west-1")
        .input("provider", "amplify")
        .input("project", APP)
        .input("artifact-store", "s3://webapp-releases/shipline")
        .input("smoke-path", "/settings/profile")
        .input("expect-text", "Welcome to webapp");
    flow::write_site(&step.workspace());
    step
}

#[test]
fn production_is_verified_on_a_staging_branch_then_started_from_the_kept_zip() {
    let (am, gh) = start();
    let step = step(ActionsStep::push(), &am, &gh);
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let state = am.state();
    assert!(state.refused.is_empty(), "{:?}", state.refused);
    let staged = result.outputs["deployment-id"].clone();
    assert!(staged.starts_with("shipline-verify-"), "{staged}");

    // CreateDeployment → the zip to the presigned URL (no signature of ours) → StartDeployment.
    let creates = am.requests_to(
        "POST",
        &format!("/apps/{APP}/branches/shipline-verify/deployments"),
    );
    assert_eq!(creates.len(), 1);
    let job = staged.rsplit('-').next().unwrap();
    let upload = &am.requests_to("PUT", &format!("/_upload/shipline-verify/{job}"))[0];
    assert!(upload.header("authorization").is_none());
    let starts = am.requests_to(
        "POST",
        &format!("/apps/{APP}/branches/shipline-verify/deployments/start"),
    );
    assert_eq!(starts[0].json()["jobId"], job);
    // Every API call was signed for amplify in the region, with the session token.
    let signed = &creates[0];
    assert!(
        signed
            .header("authorization")
            .unwrap()
            .starts_with(&format!("AWS4-HMAC-SHA256 Credential={AKID}/"))
    );
    assert_eq!(signed.header("x-amz-security-token"), Some(SESSION));

    // The zip was kept, and production was started from it: no second upload.
    let key = format!("webapp-releases/shipline/{staged}.zip");
    assert!(
        state.objects.contains_key(&key),
        "{:?}",
        state.objects.keys()
    );
    let prod = am.requests_to(
        "POST",
        &format!("/apps/{APP}/branches/main/deployments/start"),
    );
    assert_eq!(prod.len(), 1);
    assert_eq!(prod[0].json()["sourceUrl"], format!("s3://{key}"));
    assert_eq!(prod[0].json()["sourceUrlType"], "ZIP");
    assert!(
        am.requests_to("POST", &format!("/apps/{APP}/branches/main/deployments"))
            .is_empty()
    );
    // Verified on the staging branch before production was started.
    let order: Vec<String> = am
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let verified = order
        .iter()
        .position(|l| l == "GET /_branches/shipline-verify/settings/profile")
        .expect("verified");
    let promoted = order
        .iter()
        .position(|l| l == &format!("POST /apps/{APP}/branches/main/deployments/start"))
        .unwrap();
    assert!(verified < promoted, "{order:?}");
    let served = state.served("main").unwrap();
    assert_eq!(served.len(), 6);
    for (path, content) in &served {
        assert_eq!(
            content,
            &std::fs::read(step.workspace().join("dist").join(path)).unwrap(),
            "{path}"
        );
    }
    drop(state);
    assert_eq!(
        result.outputs["url"],
        format!("http://{}/_branches/main/", am.addr())
    );
    let gid: u64 = result.outputs["github-deployment-id"].parse().unwrap();
    assert_eq!(statuses(&gh, gid), ["in_progress", "success"]);
    assert!(!result.shown().contains(SECRET) && !result.shown().contains(SESSION));
}

#[test]
fn previews_deploy_on_the_pull_request_branch() {
    let (am, gh) = start();
    let result = run(&step(ActionsStep::pull_request(), &am, &gh).input("artifact-store", ""));
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(
        result.outputs["url"],
        format!("http://{}/_branches/pr-2/", am.addr())
    );
    let created = am.requests_to("POST", &format!("/apps/{APP}/branches"));
    assert_eq!(created[0].json()["branchName"], "pr-2");
    assert_eq!(created[0].json()["stage"], "PULL_REQUEST");
    assert!(
        am.state().served("main").is_none(),
        "production was not touched"
    );
}

#[test]
fn production_without_an_artifact_store_is_bad_input() {
    let (am, gh) = start();
    let result = run(&step(ActionsStep::push(), &am, &gh).input("artifact-store", ""));
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result.stdout.contains(
            "invalid input `artifact-store`::is required for a production deploy on Amplify"
        ),
        "{}",
        result.stdout
    );
    assert!(am.requests().is_empty());
}

#[test]
fn wrong_credentials_name_the_aws_variables() {
    let (am, gh) = start();
    let result = run(
        &step(ActionsStep::push(), &am, &gh).env("AWS_SECRET_ACCESS_KEY", "not-the-secret-key")
    );
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `AWS_ACCESS_KEY_ID`::AWS refused the credentials"),
        "{}",
        result.stdout
    );
    assert_eq!(am.state().refused.len(), 1, "refused at the first call");
    assert!(!result.shown().contains("not-the-secret-key"));
}

/// With `role-to-assume` and `id-token: write`: the runner's OIDC token, then STS, then
/// every call signed with the temporary credentials; no AWS secret in the environment.
#[test]
fn role_to_assume_takes_the_jobs_oidc_token_to_sts() {
    let (am, gh) = start();
    let base = am.base_url();
    let step = step(ActionsStep::push(), &am, &gh)
        .without("AWS_ACCESS_KEY_ID")
        .without("AWS_SECRET_ACCESS_KEY")
        .without("AWS_SESSION_TOKEN")
        .env("AWS_ENDPOINT_URL_STS", &format!("{base}/_sts/"))
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{base}/_oidc/token?api-version=2.0"),
        )
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "runner-oidc-request-token",
        )
        .input(
            "role-to-assume",
            "arn:aws:iam::123456789012:role/shipline-deploy",
        );
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let state = am.state();
    assert_eq!(
        state.assumed,
        [(
            "arn:aws:iam::123456789012:role/shipline-deploy".to_owned(),
            "shipline".to_owned()
        )],
        "assumed once for the whole run"
    );
    assert!(state.refused.is_empty(), "{:?}", state.refused);
    let signed = &am.requests_to("GET", &format!("/apps/{APP}"))[0];
    assert!(
        signed
            .header("authorization")
            .unwrap()
            .contains("Credential=ASIATEMPORARY0000001/")
    );
    assert!(!result.shown().contains("temporary/secret"));
    assert!(!result.shown().contains("github-oidc"));
    drop(state);

    // A role the token may not assume names the input.
    am.state().trusted_role = "arn:aws:iam::123456789012:role/other".into();
    let result = run(&step);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `role-to-assume`::AWS would not let this job assume"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_web_identity_token_file_is_the_sdks_own_route() {
    let (am, gh) = start();
    let base = am.base_url();
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), format!("{}\n", am.state().oidc_token)).unwrap();
    let step = step(ActionsStep::push(), &am, &gh)
        .without("AWS_ACCESS_KEY_ID")
        .without("AWS_SECRET_ACCESS_KEY")
        .without("AWS_SESSION_TOKEN")
        .env("AWS_ENDPOINT_URL_STS", &format!("{base}/_sts/"))
        .env(
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/shipline-deploy",
        )
        .env(
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            token.path().to_str().unwrap(),
        )
        .env("AWS_ROLE_SESSION_NAME", "release-42");
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(am.state().assumed[0].1, "release-42");
}

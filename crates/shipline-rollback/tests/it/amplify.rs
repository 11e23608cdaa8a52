//! Rolling back on Amplify: production is started again from the recorded release's zip in
//! `artifact-store` (`StartDeployment` with `sourceUrl`): no build, no upload.

use shipline_testkit::fakes::amplify;

use crate::common::{as_refs, dispatch, github, latest, record, run, sha, site, statuses};

const AKID: &str = "AKIAROLLBACKEXAMPLE1";
const SECRET: &str = "rollback/secret+key0123456789abcdefghijk";

#[test]
fn previous_starts_production_from_the_last_good_release_zip() {
    let am = amplify::start(AKID, SECRET, None);
    let gh = github();
    let ids: Vec<String> = ["v1", "v2"]
        .iter()
        .map(|v| {
            am.state()
                .seed_release("webapp-releases", "shipline", &as_refs(&site(v)))
        })
        .collect();
    let url = format!("http://{}/_branches/shipline-verify/", am.addr());
    let g1 = record(&gh, "amplify", &ids[0], &url, &sha('1'), None, &["success"]);
    let g2 = record(&gh, "amplify", &ids[1], &url, &sha('2'), None, &["success"]);
    let step = dispatch(&gh)
        .env("AWS_ENDPOINT_URL_AMPLIFY", &am.base_url())
        .env("AWS_ENDPOINT_URL_S3", &format!("{}/_s3", am.base_url()))
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .input("region", "eu-west-1")
        .input("provider", "amplify")
        .input("project", "d1a2b3c4d5e6f7")
        .input("artifact-store", "s3://webapp-releases/shipline")
        .input("expect-text", "Welcome to webapp v1");
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(am.state().refused.is_empty(), "{:?}", am.state().refused);
    let starts = am.requests_to(
        "POST",
        "/apps/d1a2b3c4d5e6f7/branches/main/deployments/start",
    );
    assert_eq!(starts.len(), 1);
    assert_eq!(
        starts[0].json()["sourceUrl"],
        format!("s3://webapp-releases/shipline/{}.zip", ids[0])
    );
    assert!(
        am.requests().iter().all(|r| r.method != "PUT"),
        "nothing was uploaded"
    );
    let served = am.state().served("main").unwrap();
    assert!(String::from_utf8_lossy(&served["index.html"]).contains("Welcome to webapp v1"));
    assert_eq!(latest(&gh, g1)["state"], "success");
    assert_eq!(statuses(&gh, g2), ["success", "in_progress", "inactive"]);
    assert!(!result.shown().contains(SECRET));
}

//! The fakes against the services' published descriptions, and their behaviour.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sha1::Digest;
use shipline_testkit::fakes::{self, Route, ServiceFake};
use shipline_testkit::openapi::{self, Spec};
use shipline_testkit::{Fake, Fault, Recorded};

fn client() -> http::Client {
    http::Client::new()
}

/// Async reqwest driven from sync tests: each call on a runtime of its own thread.
mod http {
    pub use self::inner::*;
    mod inner {
        pub struct Client(::reqwest::Client);
        pub struct Answer {
            pub status: u16,
            pub headers: ::reqwest::header::HeaderMap,
            pub body: serde_json::Value,
        }
        impl Client {
            pub fn new() -> Self {
                Client(::reqwest::Client::new())
            }
            pub fn send(
                &self,
                method: &str,
                url: &str,
                token: Option<&str>,
                body: Option<serde_json::Value>,
            ) -> Answer {
                self.send_bytes(
                    method,
                    url,
                    token,
                    body.map(|b| (b.to_string().into_bytes(), "application/json")),
                    &[],
                )
            }
            pub fn send_bytes(
                &self,
                method: &str,
                url: &str,
                token: Option<&str>,
                body: Option<(Vec<u8>, &str)>,
                headers: &[(&str, String)],
            ) -> Answer {
                let client = self.0.clone();
                let (method, url) = (method.parse::<::reqwest::Method>().unwrap(), url.to_owned());
                let token = token.map(str::to_owned);
                let headers: Vec<(String, String)> = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                let body = body.map(|(b, ct)| (b, ct.to_owned()));
                std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap()
                        .block_on(async move {
                            let mut request = client.request(method, url);
                            if let Some(token) = token {
                                request = request.bearer_auth(token);
                            }
                            for (k, v) in headers {
                                request = request.header(k, v);
                            }
                            if let Some((bytes, ct)) = body {
                                request = request.header("content-type", ct).body(bytes);
                            }
                            let response = request.send().await.unwrap();
                            let status = response.status().as_u16();
                            let headers = response.headers().clone();
                            let text = response.text().await.unwrap();
                            Answer {
                                status,
                                headers,
                                body: serde_json::from_str(&text)
                                    .unwrap_or(serde_json::Value::String(text)),
                            }
                        })
                })
                .join()
                .unwrap()
            }
        }
    }
}

/// Every answer the fake gave (not injected faults) matches the description's schema.
fn assert_answers_match<S>(spec: &Spec, fake: &ServiceFake<S>) {
    let mut checked = 0;
    // `/_sites` and `/_production` are the fake's stand-ins for the CDN, not the API;
    // GitHub's `/graphql` is not in the REST description.
    for request in fake
        .requests()
        .iter()
        .filter(|r| !r.faulted && !r.path.starts_with("/_") && r.path != "/graphql")
    {
        let path = request
            .path
            .strip_prefix(fake.prefix())
            .unwrap_or(&request.path);
        let route = route_of(fake.routes(), &request.method, path);
        let Some(schema) = spec.response_schema(&request.method, route.path, request.status) else {
            continue;
        };
        let errors = spec.validate(schema, &request.response_json());
        assert!(
            errors.is_empty(),
            "{} {} → {}: {errors:#?}",
            request.method,
            path,
            request.status
        );
        checked += 1;
    }
    assert!(checked > 0, "no answer was validated");
}

fn route_of<'a>(routes: &'a [Route], method: &str, path: &str) -> &'a Route {
    routes
        .iter()
        .find(|r| {
            r.method.eq_ignore_ascii_case(method)
                && openapi::path_matches(r.path, path)
                && !routes.iter().any(|o| {
                    o.path.len() > r.path.len()
                        && o.method == r.method
                        && openapi::path_matches(o.path, path)
                })
        })
        .unwrap_or_else(|| panic!("no route for {method} {path}"))
}

// ---------------------------------------------------------------- GitHub

#[test]
fn github_routes_exist_and_answers_match_the_openapi_description() {
    let spec = Spec::load("@octokit/openapi/generated/api.github.com.json");
    let gh = fakes::github::start("ghs_test");
    for route in gh.routes() {
        assert!(
            spec.has_route(route.method, route.path),
            "{} {} is not in @octokit/openapi",
            route.method,
            route.path
        );
    }
    let c = client();
    let api = |p: &str| format!("{}/repos/acme/webapp{p}", gh.base_url());
    let t = Some("ghs_test");
    c.send("GET", &format!("{}/user", gh.base_url()), t, None);
    let d = c.send("POST", &api("/deployments"), t, Some(json!({ "ref": "main", "sha": "abc", "environment": "preview/pr-1", "transient_environment": true, "payload": { "shipline": { "url": "https://x" } } })));
    assert_eq!(d.status, 201);
    let id = d.body["id"].as_u64().unwrap();
    c.send(
        "POST",
        &api(&format!("/deployments/{id}/statuses")),
        t,
        Some(json!({ "state": "success", "environment_url": "https://x" })),
    );
    c.send("GET", &api("/deployments"), t, None);
    c.send("GET", &api(&format!("/deployments/{id}")), t, None);
    c.send("GET", &api(&format!("/deployments/{id}/statuses")), t, None);
    let comment = c.send(
        "POST",
        &api("/issues/7/comments"),
        t,
        Some(json!({ "body": "hello" })),
    );
    let cid = comment.body["id"].as_u64().unwrap();
    c.send(
        "PATCH",
        &api(&format!("/issues/comments/{cid}")),
        t,
        Some(json!({ "body": "edited" })),
    );
    c.send("GET", &api("/issues/7/comments"), t, None);
    c.send(
        "POST",
        &api("/issues"),
        t,
        Some(json!({ "title": "Site down", "labels": ["incident", "shipline"] })),
    );
    c.send("GET", &api("/issues"), t, None);
    c.send(
        "PATCH",
        &api("/issues/1"),
        t,
        Some(json!({ "state": "closed" })),
    );
    gh.state().pulls_by_commit.insert("abc".into(), vec![7]);
    c.send("GET", &api("/commits/abc/pulls"), t, None);
    c.send("GET", &api("/deployments/999"), t, None); // 404 answer, validated as `basic-error`
    assert_answers_match(&spec, &gh);
}

#[test]
fn github_deployments_statuses_and_auto_inactive() {
    let gh = fakes::github::start("ghs_test");
    let c = client();
    let api = |p: &str| format!("{}/repos/acme/webapp{p}", gh.base_url());
    let t = Some("ghs_test");
    let create = |env: &str| {
        c.send(
            "POST",
            &api("/deployments"),
            t,
            Some(json!({ "ref": "main", "environment": env })),
        )
        .body["id"]
            .as_u64()
            .unwrap()
    };
    let (staging1, staging2, prod1, prod2) = (
        create("staging"),
        create("staging"),
        create("production"),
        create("production"),
    );
    for id in [staging1, staging2, prod1, prod2] {
        c.send(
            "POST",
            &api(&format!("/deployments/{id}/statuses")),
            t,
            Some(json!({ "state": "success" })),
        );
    }
    let latest = |id: u64| {
        c.send("GET", &api(&format!("/deployments/{id}/statuses")), t, None)
            .body[0]["state"]
            .clone()
    };
    assert_eq!(
        latest(staging1),
        "inactive",
        "superseded staging deployment was inactivated"
    );
    assert_eq!(latest(staging2), "success");
    assert_eq!(
        latest(prod1),
        "success",
        "production is never auto-inactivated"
    );
    let listed = c.send(
        "GET",
        &format!("{}?environment=production", api("/deployments")),
        t,
        None,
    );
    let ids: Vec<u64> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [prod2, prod1], "newest first, filtered");
    let bad = c.send(
        "POST",
        &api(&format!("/deployments/{prod1}/statuses")),
        t,
        Some(json!({ "state": "great" })),
    );
    assert_eq!(bad.status, 422);
}

#[test]
fn github_paginates_with_link_headers_and_checks_the_token() {
    let gh = fakes::github::start("ghs_test");
    for i in 0..45 {
        gh.state().add_comment_by(3, "someone", &format!("c{i}"));
    }
    let c = client();
    let url = format!(
        "{}/repos/acme/webapp/issues/3/comments?per_page=20",
        gh.base_url()
    );
    let first = c.send("GET", &url, Some("ghs_test"), None);
    assert_eq!(first.body.as_array().unwrap().len(), 20);
    let link = first.headers["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("page=2>; rel=\"next\"") && link.contains("page=3>; rel=\"last\""),
        "{link}"
    );
    let next = link
        .split(',')
        .find(|l| l.contains("rel=\"next\""))
        .unwrap();
    let next = next
        .trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap();
    let second = c.send("GET", next, Some("ghs_test"), None);
    assert_eq!(second.body[0]["body"], "c20");
    let third = c.send("GET", &format!("{url}&page=3"), Some("ghs_test"), None);
    assert_eq!(third.body.as_array().unwrap().len(), 5);
    assert!(
        !third.headers.contains_key("link")
            || !third.headers["link"].to_str().unwrap().contains("next")
    );

    assert_eq!(c.send("GET", &url, Some("wrong"), None).status, 401);
    gh.state().read_only = true;
    let denied = c.send(
        "POST",
        &format!("{}/repos/acme/webapp/issues/3/comments", gh.base_url()),
        Some("ghs_test"),
        Some(json!({ "body": "x" })),
    );
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.body["message"],
        "Resource not accessible by integration"
    );
}

#[test]
fn github_refuses_bodies_over_its_limit_and_others_comments() {
    let gh = fakes::github::start("ghs_test");
    let other = gh
        .state()
        .add_comment_by(5, "mallory", "<!-- shipline:deploy -->");
    let c = client();
    let url = format!(
        "{}/repos/acme/webapp/issues/comments/{other}",
        gh.base_url()
    );
    assert_eq!(
        c.send(
            "PATCH",
            &url,
            Some("ghs_test"),
            Some(json!({ "body": "mine now" }))
        )
        .status,
        403
    );
    let long = "x".repeat(fakes::github::BODY_LIMIT + 1);
    let answer = c.send(
        "POST",
        &format!("{}/repos/acme/webapp/issues/5/comments", gh.base_url()),
        Some("ghs_test"),
        Some(json!({ "body": long })),
    );
    assert_eq!(answer.status, 422);
}

// ---------------------------------------------------------------- Netlify

#[test]
fn netlify_routes_exist_and_answers_match_the_swagger_description() {
    let spec = Spec::load("@netlify/open-api/dist/swagger.json");
    let nf = fakes::netlify::start("nf_test");
    for route in nf.routes() {
        assert!(
            spec.has_route(route.method, route.path),
            "{} {} is not in @netlify/open-api",
            route.method,
            route.path
        );
    }
    let c = client();
    let t = Some("nf_test");
    let index = b"<h1>hi</h1>".to_vec();
    let sha = hex::encode(sha1::Sha1::digest(&index));
    let deploy = c.send(
        "POST",
        &format!("{}/sites/site-0001/deploys", nf.base_url()),
        t,
        Some(json!({ "files": { "/index.html": sha }, "draft": true })),
    );
    assert_eq!(
        deploy.body["required"],
        json!([sha]),
        "asks only for what it lacks"
    );
    assert_eq!(deploy.body["state"], "uploading");
    let id = deploy.body["id"].as_str().unwrap().to_owned();
    let wrong = c.send_bytes(
        "PUT",
        &format!("{}/deploys/{id}/files/index.html", nf.base_url()),
        t,
        Some((b"tampered".to_vec(), "application/octet-stream")),
        &[],
    );
    assert_eq!(wrong.status, 422);
    let put = c.send_bytes(
        "PUT",
        &format!("{}/deploys/{id}/files/index.html", nf.base_url()),
        t,
        Some((index.clone(), "application/octet-stream")),
        &[],
    );
    assert_eq!(put.status, 200);
    assert_eq!(
        c.send("GET", &format!("{}/deploys/{id}", nf.base_url()), t, None)
            .body["state"],
        "ready"
    );
    let again = c.send(
        "POST",
        &format!("{}/sites/site-0001/deploys", nf.base_url()),
        t,
        Some(json!({ "files": { "/index.html": sha } })),
    );
    assert_eq!(
        again.body["required"],
        json!([]),
        "known content is never asked for again"
    );
    c.send(
        "POST",
        &format!("{}/sites/site-0001/deploys/{id}/restore", nf.base_url()),
        t,
        None,
    );
    assert_eq!(nf.state().published.as_deref(), Some(id.as_str()));
    let site = c.send(
        "GET",
        &format!("{}/sites/site-0001", nf.base_url()),
        t,
        None,
    );
    assert_eq!(site.body["published_deploy"]["id"], id.as_str());
    let live = c.send("GET", &format!("{}/_production/", nf.url()), None, None);
    assert_eq!(
        live.status, 200,
        "the site's domain serves the published deploy"
    );
    c.send(
        "GET",
        &format!(
            "{}/sites/site-0001/deploys?production=true&state=ready",
            nf.base_url()
        ),
        t,
        None,
    );
    assert_eq!(
        c.send(
            "GET",
            &format!("{}/deploys/{id}", nf.base_url()),
            Some("bad"),
            None
        )
        .status,
        401
    );
    assert_answers_match(&spec, &nf);
}

// ---------------------------------------------------------------- Vercel

fn sdk_routes() -> Vec<(String, String)> {
    let dir = openapi::tools_dir().join("@vercel/sdk/src/funcs");
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run `npm install --prefix tools`", dir.display()))
    {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let path = text
            .split("pathToFunc(\"")
            .nth(1)
            .and_then(|s| s.split('"').next());
        let method = text
            .split("method: \"")
            .nth(1)
            .and_then(|s| s.split('"').next());
        if let (Some(path), Some(method)) = (path, method) {
            routes.push((method.to_ascii_lowercase(), openapi::normalize(path)));
        }
    }
    routes
}

fn check_with_sdk(items: Vec<Value>) {
    let mut child = Command::new("node")
        .arg(openapi::tools_dir().join("../check-vercel.mjs"))
        .current_dir(openapi::tools_dir().join(".."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (for the @vercel/sdk schema check)");
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        Value::Array(items).to_string().as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the @vercel/sdk models reject the fake's answers:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn vercel_routes_exist_in_the_sdk_and_answers_parse_with_its_models() {
    let routes = sdk_routes();
    assert!(routes.len() > 100, "read the SDK's functions");
    let vc = fakes::vercel::start("vc_test", Some("team_1"));
    for route in vc.routes() {
        let wanted = (route.method.to_owned(), openapi::normalize(route.path));
        assert!(
            routes.contains(&wanted),
            "{} {} is not a @vercel/sdk function",
            route.method,
            route.path
        );
    }
    let c = client();
    let t = Some("vc_test");
    let q = "teamId=team_1";
    let content = b"<!doctype html><p>hi</p>".to_vec();
    let sha = hex::encode(sha1::Sha1::digest(&content));
    let files = json!([{ "file": ".vercel/output/static/index.html", "sha": sha, "size": content.len(), "mode": 33188 }]);
    let body = json!({ "name": "webapp", "project": "prj_shipline", "files": files, "target": "production", "autoAssignCustomDomains": false });
    let missing = c.send(
        "POST",
        &format!("{}/v13/deployments?{q}&prebuilt=1", vc.base_url()),
        t,
        Some(body.clone()),
    );
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"]["code"], "missing_files");
    assert_eq!(missing.body["error"]["missing"], json!([sha]));
    let bad = c.send_bytes(
        "POST",
        &format!("{}/v2/files?{q}", vc.base_url()),
        t,
        Some((b"other".to_vec(), "application/octet-stream")),
        &[("x-vercel-digest", sha.clone())],
    );
    assert_eq!(
        bad.status, 400,
        "a body that does not match its digest is refused"
    );
    let up = c.send_bytes(
        "POST",
        &format!("{}/v2/files?{q}", vc.base_url()),
        t,
        Some((content.clone(), "application/octet-stream")),
        &[
            ("x-now-digest", sha.clone()),
            ("x-now-size", content.len().to_string()),
        ],
    );
    assert_eq!(up.status, 200);
    let created = c.send(
        "POST",
        &format!("{}/v13/deployments?{q}&prebuilt=1", vc.base_url()),
        t,
        Some(body),
    );
    assert_eq!(created.status, 200);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let poll = |c: &http::Client| {
        c.send(
            "GET",
            &format!("{}/v13/deployments/{id}?{q}", vc.base_url()),
            t,
            None,
        )
        .body
    };
    assert_eq!(poll(&c)["readyState"], "BUILDING");
    let ready = poll(&c);
    assert_eq!(ready["readyState"], "READY");
    assert_eq!(ready["aliasAssigned"], true);
    assert_eq!(
        c.send(
            "POST",
            &format!(
                "{}/v10/projects/prj_shipline/promote/{id}?{q}",
                vc.base_url()
            ),
            t,
            Some(json!({}))
        )
        .status,
        201
    );
    let info = |c: &http::Client| {
        c.send(
            "GET",
            &format!(
                "{}/v9/projects/prj_shipline?rollbackInfo=true&{q}",
                vc.base_url()
            ),
            t,
            None,
        )
        .body
    };
    assert_eq!(info(&c)["lastAliasRequest"]["jobStatus"], "in-progress");
    let done = info(&c);
    assert_eq!(done["lastAliasRequest"]["jobStatus"], "succeeded");
    assert_eq!(done["targets"]["production"]["id"], id.as_str());
    assert_eq!(
        c.send(
            "POST",
            &format!(
                "{}/v1/projects/prj_shipline/rollback/{id}?{q}",
                vc.base_url()
            ),
            t,
            Some(json!({}))
        )
        .status,
        201
    );
    vc.state().fail_next_job = Some(vec!["www.example.com".into()]);
    c.send(
        "POST",
        &format!(
            "{}/v1/projects/prj_shipline/rollback/{id}?{q}",
            vc.base_url()
        ),
        t,
        Some(json!({})),
    );
    info(&c);
    assert_eq!(info(&c)["lastAliasRequest"]["jobStatus"], "failed");
    let failed = c.send(
        "GET",
        &format!(
            "{}/v1/projects/prj_shipline/promote/aliases?failedOnly=true&limit=20&{q}",
            vc.base_url()
        ),
        t,
        None,
    );
    assert_eq!(failed.body["aliases"][0]["alias"], "www.example.com");
    let long = format!("{}.vercel.app", "a".repeat(64));
    assert_eq!(
        c.send(
            "POST",
            &format!("{}/v2/deployments/{id}/aliases?{q}", vc.base_url()),
            t,
            Some(json!({ "alias": long }))
        )
        .status,
        400
    );
    let alias = c.send(
        "POST",
        &format!("{}/v2/deployments/{id}/aliases?{q}", vc.base_url()),
        t,
        Some(json!({ "alias": "webapp-pr-42-acme.vercel.app" })),
    );
    assert_eq!(alias.status, 200);
    let list = c.send(
        "GET",
        &format!(
            "{}/v7/deployments?projectId=prj_shipline&target=production&{q}",
            vc.base_url()
        ),
        t,
        None,
    );
    assert_eq!(list.body["deployments"][0]["isRollbackCandidate"], true);
    let no_team = c.send(
        "GET",
        &format!("{}/v13/deployments/{id}", vc.base_url()),
        t,
        None,
    );
    assert_eq!(no_team.status, 403, "teamId is enforced");

    let answer = |r: &Recorded, module: &str, schema: &str| json!({ "module": module, "schema": schema, "body": r.response_json() });
    let mut items = Vec::new();
    for r in vc.requests().iter().filter(|r| r.status < 300) {
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/v13/deployments") => items.push(answer(
                r,
                "createdeploymentresponsebody",
                "CreateDeploymentResponseBody",
            )),
            ("GET", p) if p.starts_with("/v13/deployments/") => items.push(answer(
                r,
                "getdeploymentresponsebody",
                "GetDeploymentResponseBody",
            )),
            ("GET", p) if p.starts_with("/v9/projects/") => items.push(answer(
                r,
                "getprojectresponsebody",
                "GetProjectResponseBody",
            )),
            ("POST", p) if p.ends_with("/aliases") => {
                items.push(answer(r, "assignaliasop", "AssignAliasResponseBody"))
            }
            ("GET", p) if p.ends_with("/promote/aliases") => items.push(answer(
                r,
                "listpromotealiasesop",
                "ListPromoteAliasesResponseBody",
            )),
            ("GET", "/v7/deployments") => {
                items.push(answer(r, "getdeploymentsop", "GetDeploymentsResponseBody"))
            }
            _ => {}
        }
    }
    assert!(items.len() >= 6);
    check_with_sdk(items);
}

// ---------------------------------------------------------------- chat, Sentry, Supabase, webhook

#[test]
fn slack_discord_sentry_supabase_and_webhook_behave_like_their_services() {
    let c = client();
    let slack = fakes::slack::start("xoxb-test");
    let posted = c.send(
        "POST",
        &format!("{}/chat.postMessage", slack.base_url()),
        Some("xoxb-test"),
        Some(json!({ "channel": "C0DEPLOYS", "text": "deploying" })),
    );
    assert_eq!(posted.body["ok"], true);
    let ts = posted.body["ts"].as_str().unwrap().to_owned();
    let updated = c.send(
        "POST",
        &format!("{}/chat.update", slack.base_url()),
        Some("xoxb-test"),
        Some(json!({ "channel": "C0DEPLOYS", "ts": ts, "text": "deployed" })),
    );
    assert_eq!(updated.body["ok"], true);
    assert_eq!(slack.state().messages[0]["text"], "deployed");
    let outside = c.send(
        "POST",
        &format!("{}/chat.postMessage", slack.base_url()),
        Some("xoxb-test"),
        Some(json!({ "channel": "C0RANDOM", "text": "x" })),
    );
    assert_eq!(outside.body["error"], "not_in_channel");
    let hook = c.send(
        "POST",
        &format!("{}/services/T0/B0/XYZ", slack.base_url()),
        None,
        Some(json!({ "text": "hi" })),
    );
    assert_eq!(hook.status, 200);

    let discord = fakes::discord::start("dtoken");
    let msg = c.send(
        "POST",
        &format!("{}/api/webhooks/1234/dtoken?wait=true", discord.base_url()),
        None,
        Some(json!({ "content": "deployed" })),
    );
    assert_eq!(msg.body["content"], "deployed");
    assert_eq!(
        c.send(
            "POST",
            &format!("{}/api/webhooks/1234/dtoken", discord.base_url()),
            None,
            Some(json!({ "content": "x" }))
        )
        .status,
        204
    );
    assert_eq!(
        c.send(
            "POST",
            &format!("{}/api/webhooks/1234/dtoken", discord.base_url()),
            None,
            Some(json!({}))
        )
        .status,
        400
    );

    let sentry = fakes::sentry::start("sntrys_1", "acme");
    let rel = c.send(
        "POST",
        &format!("{}/api/0/organizations/acme/releases/", sentry.base_url()),
        Some("sntrys_1"),
        Some(json!({ "version": "abc123", "projects": ["web"] })),
    );
    assert_eq!(rel.status, 201);
    let dep = c.send(
        "POST",
        &format!(
            "{}/api/0/organizations/acme/releases/abc123/deploys/",
            sentry.base_url()
        ),
        Some("sntrys_1"),
        Some(json!({ "environment": "production" })),
    );
    assert_eq!(dep.status, 201);

    let supabase = fakes::supabase::start("sbp_1", "abcdefghijklmnopqrst");
    let backups = c.send(
        "GET",
        &format!(
            "{}/v1/projects/abcdefghijklmnopqrst/database/backups",
            supabase.base_url()
        ),
        Some("sbp_1"),
        None,
    );
    for key in ["region", "walg_enabled", "pitr_enabled", "backups"] {
        assert!(
            backups.body.get(key).is_some(),
            "V1BackupsResponse has `{key}`"
        );
    }
    assert_eq!(
        c.send(
            "GET",
            &format!("{}/v1/projects/other/database/backups", supabase.base_url()),
            Some("sbp_1"),
            None
        )
        .status,
        404
    );

    let webhook = fakes::webhook::start();
    webhook.state().status = 202;
    assert_eq!(
        c.send(
            "POST",
            &format!("{}/hook/teams/flow", webhook.base_url()),
            None,
            Some(json!({ "type": "message" }))
        )
        .status,
        202
    );
    assert_eq!(webhook.state().bodies.len(), 1);
}

// ---------------------------------------------------------------- the fake machinery

#[test]
fn every_request_is_recorded_with_its_answer_and_faults_are_injected() {
    let gh = fakes::github::start("ghs_test");
    let c = client();
    let url = format!("{}/user", gh.base_url());
    gh.inject(Fault::Status(502));
    gh.inject(Fault::RateLimited("7".into()));
    assert_eq!(c.send("GET", &url, Some("ghs_test"), None).status, 502);
    let limited = c.send("GET", &url, Some("ghs_test"), None);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "7");
    assert_eq!(c.send("GET", &url, Some("ghs_test"), None).status, 200);
    let seen = gh.requests();
    assert_eq!(seen.len(), 3);
    assert!(seen[0].faulted && seen[1].faulted && !seen[2].faulted);
    assert_eq!(seen[2].header("authorization"), Some("Bearer ghs_test"));
    assert_eq!(seen[2].response_json()["login"], "github-actions[bot]");
}

#[test]
fn a_request_the_fake_does_not_model_fails_the_test() {
    let result = std::panic::catch_unwind(|| {
        let gh = fakes::github::start("ghs_test");
        let answer = client().send(
            "DELETE",
            &format!("{}/repos/acme/webapp", gh.base_url()),
            Some("ghs_test"),
            None,
        );
        assert_eq!(answer.status, 501);
        assert_eq!(gh.unexpected(), ["DELETE /repos/acme/webapp"]);
        drop(gh);
    });
    let message = result.unwrap_err();
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("the github fake received requests it does not model"),
        "{text}"
    );
}

#[test]
fn latency_is_added_to_every_request() {
    let fake = Fake::start(
        "slow",
        axum::Router::new().route("/", axum::routing::get(|| async { "ok" })),
    );
    fake.set_latency(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    client().send("GET", &fake.url(), None, None);
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
}

// ---------------------------------------------------------------- Cloudflare

/// `(method, normalized path)` of every call in the `cloudflare` SDK's `resources/` (the
/// client Stainless generates from Cloudflare's OpenAPI description).
fn cloudflare_sdk_routes() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}; run `npm install --prefix tools`", dir.display()))
        {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "js") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &openapi::tools_dir().join("cloudflare/resources/pages"),
        &mut files,
    );
    let call = regex::Regex::new(
        r"this\._client\.(get|post|put|patch|delete|getAPIList)\((?:\(0, path_1\.path\) )?[`']([^`']+)[`']([^;]*)",
    )
    .unwrap();
    let param = regex::Regex::new(r"\$\{[^}]+\}").unwrap();
    let mut routes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for c in call.captures_iter(&text) {
            let method = match &c[1] {
                "getAPIList" if c[3].contains("method: 'post'") => "post",
                "getAPIList" => "get",
                m => m,
            };
            let path = param.replace_all(&c[2], "{p}");
            routes.push((method.to_owned(), openapi::normalize(&path)));
        }
    }
    routes
}

/// The fields of `export interface <name> {…}` in a `.d.ts`: (name, required).
fn dts_fields(relative: &str, name: &str) -> Vec<(String, bool)> {
    let path = openapi::tools_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(&format!("export interface {name} {{"))
        .unwrap_or_else(|| panic!("no interface {name} in {}", path.display()));
    let field = regex::Regex::new(r"^    ([A-Za-z_]+)(\??):").unwrap();
    text[start..]
        .lines()
        .skip(1)
        .take_while(|l| *l != "}")
        .filter_map(|l| {
            field
                .captures(l)
                .map(|c| (c[1].to_owned(), c[2].is_empty()))
        })
        .collect()
}

fn assert_fields(what: &str, value: &Value, fields: &[(String, bool)]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {value}"));
    for (name, required) in fields {
        assert!(
            !required || object.contains_key(name),
            "{what} lacks the SDK's required `{name}`"
        );
    }
    for key in object.keys() {
        assert!(
            fields.iter().any(|(n, _)| n == key),
            "{what} has `{key}`, which the SDK's interface does not declare"
        );
    }
}

#[test]
fn cloudflare_routes_exist_in_the_sdk_and_answers_have_its_fields() {
    let routes = cloudflare_sdk_routes();
    assert!(
        routes.len() > 15,
        "read the SDK's Pages resources: {routes:?}"
    );
    let cf = fakes::cloudflare::start("cf_test", "acct1");
    for route in cf.routes() {
        let wanted = (route.method.to_owned(), openapi::normalize(route.path));
        assert!(
            routes.contains(&wanted),
            "{} {} is not a call of the cloudflare SDK",
            route.method,
            route.path
        );
    }
    let c = client();
    let base = cf.base_url();
    let project = format!("{base}/accounts/acct1/pages/projects/webapp");
    let got = c.send("GET", &project, Some("cf_test"), None);
    assert_eq!(got.status, 200);
    let dts = "cloudflare/resources/pages/projects/projects.d.ts";
    assert_fields("project", &got.body["result"], &dts_fields(dts, "Project"));
    assert_eq!(c.send("GET", &project, Some("bad"), None).status, 401);
    let other = format!("{base}/accounts/acct1/pages/projects/other");
    assert_eq!(c.send("GET", &other, Some("cf_test"), None).status, 404);

    // The asset store takes the upload token only.
    let jwt = c
        .send(
            "GET",
            &format!("{project}/upload-token"),
            Some("cf_test"),
            None,
        )
        .body["result"]["jwt"]
        .as_str()
        .unwrap()
        .to_owned();
    let content = b"<p>hi</p>";
    let hash = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(content);
        blake3::hash(format!("{b64}html").as_bytes()).to_hex()[..32].to_owned()
    };
    let missing = |token: &str| {
        c.send(
            "POST",
            &format!("{base}/pages/assets/check-missing"),
            Some(token),
            Some(json!({ "hashes": [hash] })),
        )
    };
    assert_eq!(missing("cf_test").status, 401);
    assert_eq!(missing(&jwt).body["result"], json!([hash]));
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(content)
    };
    let up = c.send(
        "POST",
        &format!("{base}/pages/assets/upload"),
        Some(&jwt),
        Some(json!([{ "key": hash, "value": b64, "metadata": { "contentType": "text/html" }, "base64": true }])),
    );
    assert_eq!(up.status, 200);
    assert_eq!(missing(&jwt).body["result"], json!([]));

    let form = |manifest: &str, branch: &str| {
        let mut body = String::new();
        for (name, value) in [("manifest", manifest), ("branch", branch)] {
            body.push_str(&format!(
                "--b0\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str("--b0--\r\n");
        c.send_bytes(
            "POST",
            &format!("{project}/deployments"),
            Some("cf_test"),
            Some((body.into_bytes(), "multipart/form-data; boundary=b0")),
            &[],
        )
    };
    // A manifest naming a hash the store lacks, or a hash its content does not give, is refused.
    assert_eq!(
        form(r#"{"/a.html":"00000000000000000000000000000000"}"#, "main").status,
        400
    );
    assert_eq!(
        form(&format!(r#"{{"/a.js":"{hash}"}}"#), "main").status,
        400
    );
    let created = form(&format!(r#"{{"/index.html":"{hash}"}}"#), "main");
    assert_eq!(created.status, 200, "{:?}", created.body);
    let deployment = created.body["result"].clone();
    let fields = dts_fields(dts, "Deployment");
    assert_fields("deployment", &deployment, &fields);
    assert_eq!(deployment["environment"], "production");
    assert_eq!(deployment["latest_stage"]["status"], "active");
    let id = deployment["id"].as_str().unwrap();
    let poll = || {
        c.send(
            "GET",
            &format!("{project}/deployments/{id}"),
            Some("cf_test"),
            None,
        )
        .body["result"]
            .clone()
    };
    assert_eq!(poll()["latest_stage"]["status"], "active");
    assert_eq!(poll()["latest_stage"]["status"], "success");
    assert_eq!(cf.state().canonical.as_deref(), Some(id));
    let preview = form(&format!(r#"{{"/index.html":"{hash}"}}"#), "pr-3").body["result"].clone();
    assert_eq!(preview["environment"], "preview");
    let list = c.send(
        "GET",
        &format!("{project}/deployments?env=production"),
        Some("cf_test"),
        None,
    );
    assert_eq!(list.body["result"].as_array().unwrap().len(), 1);
    for d in list.body["result"].as_array().unwrap() {
        assert_fields("listed deployment", d, &fields);
    }
    // Rollback only to a successful production deployment.
    let pid = preview["id"].as_str().unwrap();
    let rollback = |id: &str| {
        c.send(
            "POST",
            &format!("{project}/deployments/{id}/rollback"),
            Some("cf_test"),
            None,
        )
    };
    assert_eq!(rollback(pid).status, 400);
    assert_eq!(rollback(id).status, 200);
}

// ---------------------------------------------------------------- Amplify

/// `(method, normalized path)` of every operation `@aws-sdk/client-amplify` serializes.
fn amplify_sdk_routes() -> Vec<(String, String)> {
    let path = openapi::tools_dir().join("@aws-sdk/client-amplify/dist-cjs/index.js");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `npm install --prefix tools`", path.display()));
    let op = regex::Regex::new(r#"\[_h\]: \["([A-Z]+)", "([^"]+)", [0-9]+\]"#).unwrap();
    op.captures_iter(&text)
        .map(|c| (c[1].to_ascii_lowercase(), openapi::normalize(&c[2])))
        .collect()
}

#[test]
fn amplify_routes_exist_in_the_sdk_and_answers_have_its_fields() {
    let routes = amplify_sdk_routes();
    assert!(routes.len() > 30, "read the SDK's operations: {routes:?}");
    let am = fakes::amplify::start("AKIDCONFORMANCE00001", "secret", None);
    for route in am.routes() {
        let wanted = (route.method.to_owned(), openapi::normalize(route.path));
        assert!(
            routes.contains(&wanted),
            "{} {} is not an operation of @aws-sdk/client-amplify",
            route.method,
            route.path
        );
    }
    // The answers, from a seeded release (the calls themselves are exercised, signed, by
    // the deploy and rollback tests).
    let id = am
        .state()
        .seed_release("bucket", "p", &[("index.html", b"<p>hi</p>")]);
    let dts = "@aws-sdk/client-amplify/dist-types/models/models_0.d.ts";
    let state = am.state();
    let app = state.app_json("127.0.0.1:1");
    assert_fields("app", &app, &dts_fields(dts, "App"));
    assert_fields(
        "production branch",
        &app["productionBranch"],
        &dts_fields(dts, "ProductionBranch"),
    );
    let (branch, jobs) = &state.branches["shipline-verify"];
    assert_fields("branch", branch, &dts_fields(dts, "Branch"));
    let job = id.rsplit('-').next().unwrap();
    assert_fields(
        "job summary",
        &jobs[job].summary,
        &dts_fields(dts, "JobSummary"),
    );
    let (_, main_jobs) = &state.branches["main"];
    let from_store = main_jobs.values().next().unwrap();
    assert_fields(
        "job summary",
        &from_store.summary,
        &dts_fields(dts, "JobSummary"),
    );
    assert_eq!(from_store.summary["sourceUrlType"], "ZIP");
    assert!(state.served("main").unwrap().contains_key("index.html"));
}

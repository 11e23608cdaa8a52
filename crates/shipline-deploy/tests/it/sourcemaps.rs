//! `sentry-sourcemaps` end to end: a minified file and its map get a debug ID, the bundle
//! Sentry assembles lists both under that ID, and the file the host serves carries it.

use serde_json::Value;
use shipline_testkit::ActionsStep;
use shipline_testkit::fakes::cloudflare::{self, Cloudflare};
use shipline_testkit::fakes::github::GitHub;
use shipline_testkit::fakes::sentry::{self, Sentry};

use crate::flow::{self, run, with_github};

const CF_TOKEN: &str = "cf_maps_token";
const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const SENTRY_TOKEN: &str = "sntrys_maps_s3cr3t";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// Vite's output with `build.sourcemap: true`: a minified chunk, its map, and the comment
/// that names it. Large enough to span several of the fake's 1 KiB chunks.
fn write_maps(workspace: &std::path::Path) {
    flow::write_site(workspace);
    let assets = workspace.join("dist/assets");
    let body = "function a(n){return n*2}".repeat(60);
    std::fs::write(
        assets.join("index-1a2b.js"),
        format!(
            "\"use strict\";{body};console.log('Welcome');\n//# sourceMappingURL=index-1a2b.js.map"
        ),
    )
    .unwrap();
    std::fs::write(
        assets.join("index-1a2b.js.map"),
        r#"{"version":3,"file":"index-1a2b.js","sources":["../../src/main.tsx"],"sourcesContent":["export const a = (n: number) => n * 2;"],"names":["a","n"],"mappings":"aAAO,SAASA,EAAEC"}"#,
    )
    .unwrap();
}

/// A production deploy of [`write_maps`]'s site to the fake Cloudflare with
/// `sentry-sourcemaps`, Sentry's credentials left to the test.
fn maps_step(cf: &Cloudflare, gh: &GitHub, sentry: &Sentry) -> ActionsStep {
    let step = with_github(ActionsStep::push(), gh)
        .env("CLOUDFLARE_API_BASE_URL", &cf.base_url())
        .env("SENTRY_URL", &sentry.base_url())
        .input("provider", "cloudflare-pages")
        .input("token", CF_TOKEN)
        .input("account", ACCOUNT)
        .input("project", "webapp")
        .input("ref", SHA)
        .input("sentry-sourcemaps", "true");
    write_maps(&step.workspace());
    step
}

#[test]
fn the_deployed_file_carries_the_debug_id_the_uploaded_bundle_lists() {
    let cf = cloudflare::start(CF_TOKEN, ACCOUNT);
    let gh = flow::github();
    let sentry = sentry::start(SENTRY_TOKEN, "acme");
    let step = maps_step(&cf, &gh, &sentry)
        .input("expect-text", "Welcome to webapp")
        .input("sentry-token", SENTRY_TOKEN)
        .input("sentry-org", "acme")
        .input("sentry-project", "web");
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());

    // The file on disk was injected: the snippet and the comment carry one ID.
    let dist = step.workspace().join("dist/assets");
    let js = std::fs::read_to_string(dist.join("index-1a2b.js")).unwrap();
    let id = js
        .lines()
        .find_map(|l| l.strip_prefix("//# debugId="))
        .expect("a //# debugId= comment")
        .to_owned();
    assert!(js.contains(&format!("e._sentryDebugIds[n]=\"{id}\"")));
    assert!(
        js.starts_with("\"use strict\";\n!function(){try{"),
        "after the directive: {js}"
    );
    assert!(
        js.ends_with(&format!(
            "//# sourceMappingURL=index-1a2b.js.map\n//# debugId={id}\n"
        )),
        "{js}"
    );
    let map: Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("index-1a2b.js.map")).unwrap())
            .unwrap();
    assert_eq!(map["debugId"], id.as_str());
    assert_eq!(
        map["mappings"], ";;AAAO,SAASA,EAAEC",
        "the code after the directive moved two lines down, to column 0"
    );

    // Sentry assembled one bundle whose manifest lists the file and its map under that ID,
    // with the injected bytes.
    let state = sentry.state();
    assert_eq!(state.bundles.len(), 1);
    let bundle = &state.bundles[0];
    assert_eq!(bundle.projects, serde_json::json!(["web"]));
    assert_eq!(bundle.version.as_deref(), Some(SHA));
    let files = &bundle.manifest["files"];
    let entry = &files["files/_/_/assets/index-1a2b.js"];
    assert_eq!(entry["url"], "~/assets/index-1a2b.js");
    assert_eq!(entry["type"], "minified_source");
    assert_eq!(entry["headers"]["debug-id"], id.as_str());
    assert_eq!(entry["headers"]["sourcemap"], "index-1a2b.js.map");
    let map_entry = &files["files/_/_/assets/index-1a2b.js.map"];
    assert_eq!(map_entry["type"], "source_map");
    assert_eq!(map_entry["headers"]["debug-id"], id.as_str());
    assert_eq!(
        bundle.files["files/_/_/assets/index-1a2b.js"],
        js.as_bytes(),
        "the bundle holds the injected file"
    );
    assert!(state.chunks.len() > 1, "the bundle went in several chunks");
    // The release and its deploy marker.
    assert_eq!(state.releases[0]["version"], SHA);
    assert_eq!(state.deploys[0]["environment"], "production");
    drop(state);

    // What production serves is the injected file, and no map.
    let cf_state = cf.state();
    let live = cf_state.canonical.clone().unwrap();
    let served = cf_state.file(&live, "assets/index-1a2b.js").unwrap();
    assert_eq!(served, js.as_bytes());
    assert!(cf_state.file(&live, "assets/index-1a2b.js.map").is_none());
    let manifest = &cf_state.deployment(&live).unwrap().manifest;
    assert!(
        manifest.keys().all(|p| !p.ends_with(".map")),
        "{manifest:?}"
    );
    drop(cf_state);
    assert!(
        result
            .stdout
            .contains("1 file(s) with debug IDs (1 injected now)"),
        "{}",
        result.stdout
    );
    assert!(!result.shown().contains(SENTRY_TOKEN));

    // A re-run keeps the ID, and Sentry already has the bundle: no chunk is sent again.
    let chunk_posts = sentry
        .requests_to("POST", "/api/0/organizations/acme/chunk-upload/")
        .len();
    let again = run(&step);
    assert_eq!(again.code, Some(0), "{}", again.everything());
    let js_again = std::fs::read_to_string(dist.join("index-1a2b.js")).unwrap();
    assert_eq!(js_again, js, "injected once");
    assert_eq!(sentry.state().bundles.len(), 1);
    assert_eq!(
        sentry
            .requests_to("POST", "/api/0/organizations/acme/chunk-upload/")
            .len(),
        chunk_posts
    );
    assert!(
        again.stdout.contains("(0 injected now)"),
        "{}",
        again.stdout
    );
}

#[test]
fn maps_can_be_kept_and_sentry_trouble_is_a_warning() {
    let cf = cloudflare::start(CF_TOKEN, ACCOUNT);
    let gh = flow::github();
    let sentry = sentry::start("another-token", "acme");
    let step = maps_step(&cf, &gh, &sentry)
        .input("keep-source-maps", "true")
        .env("SENTRY_AUTH_TOKEN", SENTRY_TOKEN)
        .env("SENTRY_ORG", "acme")
        .env("SENTRY_PROJECT", "web");
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::warning title=source maps::the source maps were not uploaded to Sentry"),
        "{}",
        result.stdout
    );
    let state = cf.state();
    let live = state.canonical.clone().unwrap();
    assert!(
        state.file(&live, "assets/index-1a2b.js.map").is_some(),
        "kept"
    );
}

#[test]
fn sentry_sourcemaps_needs_its_three_inputs() {
    let step = ActionsStep::push()
        .input("provider", "fs")
        .input("target-dir", "/tmp/shipline-never")
        .input("sentry-sourcemaps", "true")
        .input("sentry-token", "t")
        .input("sentry-org", "acme");
    std::fs::create_dir_all(step.workspace().join("dist")).unwrap();
    let result = run(&step);
    assert_eq!(result.code, Some(2), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("invalid input `sentry-project`::is required"),
        "{}",
        result.stdout
    );
}

/// The real `sentry-cli sourcemaps inject` (npm `@sentry/cli-linux-x64`, a peer) and ours on
/// copies of one tree: the same files come out, but for the debug ID's value.
#[test]
fn injection_matches_sentry_cli_on_the_same_tree() {
    let cli = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tools/peers/node_modules/@sentry/cli-linux-x64/bin/sentry-cli");
    assert!(
        cli.exists(),
        "{}: install the peers with `npm install --prefix tools/peers`",
        cli.display()
    );
    let cases: &[(&str, &str, &str)] = &[
        (
            "plain.js",
            "function a(){}\n//# sourceMappingURL=plain.js.map",
            "AAAA,UAAU",
        ),
        (
            "strict.js",
            "\"use strict\";function a(n){return n*2};\n//# sourceMappingURL=strict.js.map",
            "aAAO,SAASA,EAAEC",
        ),
        (
            "license.js",
            "/*! license */\n// c\n\n\"use strict\";\nfunction a(){}\n//# sourceMappingURL=license.js.map\n",
            "AAAA;;;;AACA",
        ),
        (
            "client.js",
            "'use client';'use strict';var x=1\n//# sourceMappingURL=client.js.map",
            "AAAA,aAAa,cAAc",
        ),
        (
            "nosemi.js",
            "  \"use strict\"\nvar b=2;function a(){}\n//# sourceMappingURL=nosemi.js.map",
            "AAAA;AACA,QAAQA,CAAC",
        ),
        (
            "comment.js",
            "/*! l */\n\nfunction a(){}\n//# sourceMappingURL=comment.js.map",
            "AAAA,EAAE;;AACA",
        ),
        (
            "multi.js",
            "var a=1;var b=2;\nvar c=3;\n//# sourceMappingURL=multi.js.map",
            "AAAA,QAAQ;AACR",
        ),
        (
            "sibling.js",
            "console.log('no comment, a sibling map')",
            "AAAA",
        ),
    ];
    let make = |dir: &std::path::Path| {
        let assets = dir.join("assets");
        std::fs::create_dir_all(&assets).unwrap();
        for (name, js, mappings) in cases {
            std::fs::write(assets.join(name), js).unwrap();
            std::fs::write(
                assets.join(format!("{name}.map")),
                format!(r#"{{"version":3,"file":"{name}","sources":["../src/{name}.ts"],"names":["a","n"],"mappings":"{mappings}"}}"#),
            )
            .unwrap();
        }
    };
    let theirs = tempfile::tempdir().unwrap();
    let ours = tempfile::tempdir().unwrap();
    make(theirs.path());
    make(ours.path());
    let out = std::process::Command::new(&cli)
        .args(["sourcemaps", "inject"])
        .arg(theirs.path())
        .env("SENTRY_DISABLE_UPDATE_CHECK", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let injected = shipline_deploy::sourcemaps::inject_dir(ours.path()).unwrap();
    assert_eq!(injected.len(), cases.len());
    for item in &injected {
        let read =
            |root: &std::path::Path, rel: &str| std::fs::read_to_string(root.join(rel)).unwrap();
        let their_js = read(theirs.path(), &item.js);
        let their_id = their_js
            .lines()
            .find_map(|l| l.strip_prefix("//# debugId="))
            .unwrap_or_else(|| panic!("sentry-cli did not inject {}", item.js))
            .to_owned();
        assert_eq!(
            read(ours.path(), &item.js).replace(&item.debug_id, &their_id),
            their_js,
            "{}",
            item.js
        );
        let map = |root: &std::path::Path| -> Value {
            let mut v: Value = serde_json::from_str(&read(root, &item.map)).unwrap();
            v.as_object_mut().unwrap().remove("debugId");
            v
        };
        assert_eq!(map(ours.path()), map(theirs.path()), "{}", item.map);
        let ours_map: Value = serde_json::from_str(&read(ours.path(), &item.map)).unwrap();
        assert_eq!(ours_map["debugId"], item.debug_id.as_str());
    }
}

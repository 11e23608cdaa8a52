//! The reusable workflows themselves (`production.yml`, `preview.yml`, `rollback.yml`) run
//! under `wrkflw run --runtime emulation`, called the way a user's repository calls them,
//! against the test kit's fakes (GitHub, Vercel, Supabase, Slack, Sentry) and a real
//! PostgreSQL, with the published event payloads; the tests assert the state that results.
//!
//! wrkflw 0.8.0 differs from GitHub (`shared/design/research/wrkflw.md`); the harness works
//! around it in its copy of the workflows, never in the product:
//! - `with:` values of a composite action reach it as text, unevaluated. Each
//!   `uses: ./actions/<tool>` step therefore runs the action's own `run:` line, with its
//!   inputs as `INPUT_*` in the step's `env:` (which wrkflw evaluates): the mapping the
//!   generated `action.yml` makes. The action files' own wiring is run by `wrkflw.rs`.
//! - There is no event payload: `github.event.*` is written into the copy from the payload,
//!   and the binaries get the payload file as `GITHUB_EVENT_PATH`.
//! - Hyphenated input names are read empty: they are renamed with underscores. Boolean inputs
//!   of a reusable workflow arrive as strings: `inputs.x` becomes `(inputs.x == 'true')`.
//! - A job whose `needs` failed still runs, and a job-level `if` does not see `needs`: the
//!   job's condition, with `needs.<job>.result == 'success'` for GitHub's implicit `success()`,
//!   is put on each of its steps instead.
//! - Jobs share no artifacts: `upload-artifact` and `download-artifact` copy through a folder.
//! - There are no service containers: the service's URL becomes the test's cluster.
//! - Its workflow schema rejects `environment: { deployment: false }`: the key is dropped.
//! - The reusable workflow's inputs leak into every step as `INPUT_*`: each inlined action
//!   step sets all its inputs, given or default, as the composite action's `env:` does.
//! - `secrets.X` inside a larger expression is empty, and wrkflw's environment (where it reads
//!   secrets from) reaches every step: the secrets are written into the copy as literals.
//! - `github.token` is empty: the fake's token is written in; `runner.temp` (and `RUNNER_TEMP`, named but never created), `github.api_url` and
//!   `github.repository` are given.
//! - `if: failure()` and `always()` steps do not run after a failed step, so the rollback after
//!   a failed smoke check is not run here: `shipline-rollback`'s own tests and the demo cover it.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use serde_yaml_ng::{Mapping, Value};
use shipline_testkit::Fake;
use shipline_testkit::fakes::github::{self, GitHub};
use shipline_testkit::fakes::sentry::{self, Sentry};
use shipline_testkit::fakes::slack::{self, Slack};
use shipline_testkit::fakes::supabase::{self, Supabase};
use shipline_testkit::fakes::vercel::{self, Vercel};
use shipline_testkit::pg::{self, TestDb};

use crate::{release, wrkflw};

const GITHUB_TOKEN: &str = "ghs_pipeline_token_123";
const VERCEL_TOKEN: &str = "vercel_pipeline_s3cr3t";
const TEAM: &str = "team_acme";
const SUPABASE_TOKEN: &str = "sbp_pipeline_s3cr3t";
const PROJECT_REF: &str = "prodrefabcdefghijklm";
const SENTRY_TOKEN: &str = "sntrys_pipeline_s3cr3t";
const REPOSITORY: &str = "Codertocat/Hello-World";
/// The service container's URL in `preview.yml`.
const SERVICE_URL: &str = "postgres://postgres:postgres@localhost:5432/postgres?sslmode=disable";

struct Pipeline {
    dir: tempfile::TempDir,
    repo: PathBuf,
    releases: Fake,
    gh: GitHub,
    vercel: Vercel,
    supabase: Supabase,
    slack: Slack,
    sentry: Sentry,
    /// Production's database.
    db: TestDb,
    /// What `preview.yml`'s service container would be.
    service: TestDb,
}

/// What one wrkflw run left.
struct Run {
    code: i32,
    log: String,
}

impl Pipeline {
    fn new() -> Pipeline {
        let dir = tempfile::tempdir().unwrap();
        let releases_dir = dir.path().join("releases");
        let (name, sha) = release::archive(
            &releases_dir,
            "9.9.9",
            wrkflw::TARGET,
            &wrkflw::real_bins(dir.path()),
        );
        let repo = release::actions_copy(dir.path(), "9.9.9", &[(name, sha)]);
        let app = xtask::root().join("examples/app");
        release::copy_dir(&app.join("dist"), &repo.join("app/dist"));
        release::copy_dir(
            &app.join("supabase/migrations"),
            &repo.join("supabase/migrations"),
        );
        let vercel = vercel::start(VERCEL_TOKEN, Some(TEAM));
        vercel.state().polls_until_ready = 1;
        let supabase = supabase::start(SUPABASE_TOKEN, PROJECT_REF);
        let now = now_unix();
        supabase.state().backups = json!({
            "region": "eu-central-1", "walg_enabled": true, "pitr_enabled": true, "backups": [],
            "physical_backup_data": {
                "earliest_physical_backup_date_unix": now - 8 * 86_400,
                "latest_physical_backup_date_unix": now - 3600,
            },
        });
        // Production is a Supabase project: its `auth` schema and roles exist.
        let db = pg::fresh_database();
        pg::execute_blocking(&db.url, shipline_pg::shim::SQL).unwrap();
        Pipeline {
            releases: release::server(&releases_dir),
            gh: github::start(GITHUB_TOKEN),
            vercel,
            supabase,
            slack: slack::start("xoxb-unused"),
            sentry: sentry::start(SENTRY_TOKEN, "acme"),
            db,
            service: pg::fresh_database(),
            dir,
            repo,
        }
    }

    /// The repository's secrets. Written into the copy as literals: wrkflw resolves a lone
    /// `${{ secrets.X }}` from its own environment, but not one inside a larger expression,
    /// and that environment would also reach every step (hiding a missing `with:`).
    fn secrets(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_TOKEN", GITHUB_TOKEN.to_owned()),
            ("DEPLOY_TOKEN", VERCEL_TOKEN.to_owned()),
            ("DEPLOY_PROJECT", "prj_shipline".to_owned()),
            ("VERCEL_ORG_ID", TEAM.to_owned()),
            ("SUPABASE_ACCESS_TOKEN", SUPABASE_TOKEN.to_owned()),
            ("SUPABASE_PROJECT_REF", PROJECT_REF.to_owned()),
            ("DATABASE_URL", self.db.url.clone()),
            // `preview.yml` plans against it: production's database, nothing applied yet.
            ("PLAN_DATABASE_URL", self.db.url.clone()),
            (
                "SLACK_WEBHOOK_URL",
                format!(
                    "{}/services/T0ACME/B0DEPLOY/hookS3cr3t",
                    self.slack.base_url()
                ),
            ),
            ("SENTRY_AUTH_TOKEN", SENTRY_TOKEN.to_owned()),
            ("SENTRY_ORG", "acme".to_owned()),
            ("SENTRY_PROJECT", "webapp".to_owned()),
        ]
    }

    /// A new build of the app: one more comment in its page.
    fn change_page(&self, marker: &str) {
        let page = self.repo.join("app/dist/index.html");
        let text = std::fs::read_to_string(&page).unwrap();
        std::fs::write(
            &page,
            text.replace("</body>", &format!("<!-- {marker} --></body>")),
        )
        .unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// Runs `caller` (a workflow that calls ours) for `event` with this payload.
    fn run(&self, event: &str, payload: &Json, caller: &str) -> Run {
        let event_path = self.dir.path().join("event.json");
        std::fs::write(&event_path, payload.to_string()).unwrap();
        let workflows = self.repo.join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        for name in ["production.yml", "preview.yml", "rollback.yml"] {
            let text = std::fs::read_to_string(xtask::root().join(".github/workflows").join(name))
                .unwrap();
            let copy = self.for_wrkflw(&text, event, &event_path, payload);
            std::fs::write(workflows.join(name), copy).unwrap();
        }
        std::fs::write(workflows.join("caller.yml"), caller).unwrap();
        let mut args = vec!["--event", event, "--changed-files", "app/dist/index.html"];
        if event == "pull_request" {
            args.extend([
                "--base-branch",
                "main",
                "--activity-type",
                payload["action"].as_str().unwrap(),
            ]);
        }
        args.push(".github/workflows/caller.yml");
        let (code, log) = wrkflw::run_wrkflw(&self.repo, &self.path("home"), &args);
        Run { code, log }
    }

    /// The workflow as wrkflw can run it (the module's list).
    fn for_wrkflw(&self, text: &str, event: &str, event_path: &Path, payload: &Json) -> String {
        let mut doc: Value = serde_yaml_ng::from_str(text).unwrap();
        let booleans = doc["on"]["workflow_call"]["inputs"]
            .as_mapping()
            .map(|inputs| {
                inputs
                    .iter()
                    .filter(|(_, spec)| spec["type"].as_str() == Some("boolean"))
                    .filter_map(|(k, _)| k.as_str().map(|k| k.replace('-', "_")))
                    .collect()
            })
            .unwrap_or_default();
        let literals = Literals {
            payload,
            runner_temp: self.path("runner-temp").display().to_string(),
            api_url: self.gh.base_url(),
            booleans,
            secrets: self.secrets(),
        };
        if let Some(inputs) = doc
            .get_mut("on")
            .and_then(|on| on.get_mut("workflow_call"))
            .and_then(|call| call.get_mut("inputs"))
            .and_then(Value::as_mapping_mut)
        {
            *inputs = underscored_keys(inputs);
        }
        let env = self.step_env(event, event_path);
        if let Some(jobs) = doc.get_mut("jobs").and_then(Value::as_mapping_mut) {
            for (_, job) in jobs.iter_mut() {
                let Some(job) = job.as_mapping_mut() else {
                    continue;
                };
                job.remove("services");
                // wrkflw runs a job whose `needs` failed (GitHub skips it: an implicit
                // `success()`), and a job-level `if` does not see `needs`. So the job's
                // condition moves onto each of its steps, where `needs` is known.
                let needs: Vec<String> = match job.get("needs") {
                    Some(Value::String(one)) => vec![one.clone()],
                    Some(Value::Sequence(many)) => many
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                if !needs.is_empty() {
                    let own = job.remove("if").and_then(|v| v.as_str().map(str::to_owned));
                    let status_aware = own.as_deref().is_some_and(|c| {
                        ["always()", "cancelled()", "failure()"]
                            .iter()
                            .any(|f| c.contains(f))
                    });
                    let mut parts = Vec::new();
                    if !status_aware {
                        parts.extend(
                            needs
                                .iter()
                                .map(|n| format!("needs.{n}.result == 'success'")),
                        );
                    }
                    if let Some(own) = own {
                        // Nothing is cancelled in a test run.
                        parts.push(format!("({})", own.replace("!cancelled()", "true")));
                    }
                    let condition = parts.join(" && ");
                    if let Some(steps) = job.get_mut("steps").and_then(Value::as_sequence_mut) {
                        for step in steps.iter_mut().filter_map(Value::as_mapping_mut) {
                            let both = match step.get("if").and_then(Value::as_str) {
                                Some(step_if) => format!("({condition}) && ({step_if})"),
                                None => condition.clone(),
                            };
                            step.insert("if".into(), both.into());
                        }
                    }
                }
                // wrkflw's workflow schema predates `deployment: false`.
                if let Some(environment) =
                    job.get_mut("environment").and_then(Value::as_mapping_mut)
                {
                    environment.remove("deployment");
                }
                if let Some(steps) = job.get_mut("steps").and_then(Value::as_sequence_mut) {
                    for step in steps.iter_mut() {
                        *step = self.step_for_wrkflw(step, &env);
                    }
                }
            }
        }
        rewrite_strings(&mut doc, &|s| literals.apply(s));
        self.service_url_to_cluster(&serde_yaml_ng::to_string(&doc).unwrap())
    }

    /// What the runner would give every step here, pointed at the fakes.
    fn step_env(&self, event: &str, event_path: &Path) -> Vec<(String, String)> {
        [
            ("SHIPLINE_DOWNLOAD_URL", self.releases.url()),
            (
                "RUNNER_TOOL_CACHE",
                self.path("toolcache").display().to_string(),
            ),
            (
                "RUNNER_TEMP",
                self.path("runner-temp").display().to_string(),
            ),
            ("GITHUB_API_URL", self.gh.base_url()),
            (
                "GITHUB_GRAPHQL_URL",
                format!("{}/graphql", self.gh.base_url()),
            ),
            ("GITHUB_EVENT_NAME", event.to_owned()),
            ("GITHUB_EVENT_PATH", event_path.display().to_string()),
            ("GITHUB_REPOSITORY", REPOSITORY.to_owned()),
            ("GITHUB_RUN_ID", "4242".to_owned()),
            ("VERCEL_API_URL", self.vercel.base_url()),
            ("SUPABASE_API_URL", self.supabase.base_url()),
            ("SENTRY_URL", self.sentry.fake.url()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn step_for_wrkflw(&self, step: &Value, env: &[(String, String)]) -> Value {
        let Some(uses) = step.get("uses").and_then(Value::as_str) else {
            // A `run:` step: wrkflw names a `RUNNER_TEMP` it never creates.
            let mut step = step.clone();
            if let Some(map) = step.as_mapping_mut() {
                let mut env = map
                    .get("env")
                    .and_then(Value::as_mapping)
                    .cloned()
                    .unwrap_or_default();
                env.insert(
                    "RUNNER_TEMP".into(),
                    self.path("runner-temp").display().to_string().into(),
                );
                map.insert("env".into(), Value::Mapping(env));
            }
            return step;
        };
        let with = step
            .get("with")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        let mut out = Mapping::new();
        for key in ["id", "name", "if", "continue-on-error"] {
            if let Some(v) = step.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        let mut step_env = step
            .get("env")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        let artifacts = self.path("artifacts");
        // The workflows take shipline's actions from their own checkout (`.shipline`, from
        // `job.workflow_repository`); here that is this copy's `actions/`.
        let local = uses
            .strip_prefix("./.shipline/actions/")
            .or_else(|| uses.strip_prefix("./actions/"));
        let run = if let Some(tool) = local {
            let action_dir = self.repo.join("actions").join(tool);
            let action: Value = serde_yaml_ng::from_str(
                &std::fs::read_to_string(action_dir.join("action.yml")).unwrap(),
            )
            .unwrap();
            for (k, v) in env {
                step_env.insert(k.as_str().into(), v.as_str().into());
            }
            step_env.insert(
                "GITHUB_ACTION_PATH".into(),
                action_dir.display().to_string().into(),
            );
            // Every input the action declares, as its `env:` maps them: given, or its default.
            // (wrkflw also leaks the reusable workflow's own inputs into each step as
            // `INPUT_*`, which these override, as the composite's mapping does on GitHub.)
            let declared = action["inputs"].as_mapping().cloned().unwrap_or_default();
            for (k, spec) in &declared {
                let name = k.as_str().unwrap();
                let value = with
                    .get(name)
                    .map(scalar)
                    .or_else(|| spec.get("default").map(scalar))
                    .unwrap_or_default();
                step_env.insert(
                    format!("INPUT_{}", name.replace('-', "_").to_ascii_uppercase()).into(),
                    value.into(),
                );
            }
            for k in with.keys() {
                let name = k.as_str().unwrap();
                assert!(
                    declared.contains_key(name),
                    "`{uses}` has no input `{name}` (the workflow passes it)"
                );
            }
            action["runs"]["steps"][0]["run"]
                .as_str()
                .unwrap()
                .to_owned()
        } else if uses.starts_with("actions/upload-artifact@") {
            step_env.insert("ARTIFACT_FROM".into(), scalar(&with["path"]).into());
            step_env.insert(
                "ARTIFACT_TO".into(),
                artifacts
                    .join(with["name"].as_str().unwrap())
                    .display()
                    .to_string()
                    .into(),
            );
            "mkdir -p \"$ARTIFACT_TO\"\nif [ -d \"$ARTIFACT_FROM\" ]; then cp -a \"$ARTIFACT_FROM\"/. \"$ARTIFACT_TO\"/; else cp -a \"$ARTIFACT_FROM\" \"$ARTIFACT_TO\"/; fi".to_owned()
        } else if uses.starts_with("actions/download-artifact@") {
            step_env.insert("ARTIFACT_TO".into(), scalar(&with["path"]).into());
            step_env.insert(
                "ARTIFACT_FROM".into(),
                artifacts
                    .join(with["name"].as_str().unwrap())
                    .display()
                    .to_string()
                    .into(),
            );
            "mkdir -p \"$ARTIFACT_TO\" && cp -a \"$ARTIFACT_FROM\"/. \"$ARTIFACT_TO\"/".to_owned()
        } else {
            return step.clone();
        };
        out.insert("shell".into(), "bash".into());
        out.insert("env".into(), Value::Mapping(step_env));
        out.insert("run".into(), run.into());
        Value::Mapping(out)
    }

    fn service_url_to_cluster(&self, text: &str) -> String {
        text.replace(SERVICE_URL, &self.service.url)
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A `with:` value as the text the runner would pass.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => serde_yaml_ng::to_string(other).unwrap(),
    }
}

fn underscored_keys(map: &Mapping) -> Mapping {
    map.iter()
        .map(|(k, v)| {
            let key = k.as_str().map_or(k.clone(), |s| s.replace('-', "_").into());
            (key, v.clone())
        })
        .collect()
}

fn rewrite_strings(value: &mut Value, f: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = f(s),
        Value::Sequence(items) => items.iter_mut().for_each(|v| rewrite_strings(v, f)),
        Value::Mapping(map) => map.iter_mut().for_each(|(_, v)| rewrite_strings(v, f)),
        _ => {}
    }
}

/// The values wrkflw lacks, written into the expressions as literals.
struct Literals<'a> {
    payload: &'a Json,
    runner_temp: String,
    api_url: String,
    /// The reusable workflow's `type: boolean` inputs, which wrkflw passes as the strings
    /// `'true'`/`'false'` (so `!inputs.x` would be false for both).
    booleans: Vec<String>,
    secrets: Vec<(&'static str, String)>,
}

impl Literals<'_> {
    fn apply(&self, text: &str) -> String {
        let text = replace_refs(text, "inputs.", |name| {
            let name = name.replace('-', "_");
            Some(match self.booleans.contains(&name) {
                true => format!("(inputs.{name} == 'true')"),
                false => format!("inputs.{name}"),
            })
        });
        let text = replace_refs(&text, "github.event.", |path| {
            let mut v = self.payload;
            for part in path.split('.') {
                v = v.get(part).unwrap_or(&Json::Null);
            }
            Some(match v {
                Json::String(s) => quote(s),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                _ => "''".to_owned(),
            })
        });
        let text = replace_refs(&text, "secrets.", |name| {
            // An unset secret is empty on GitHub.
            Some(
                self.secrets
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map_or_else(|| "''".to_owned(), |(_, v)| quote(v)),
            )
        });
        let text = replace_refs(&text, "github.", |name| match name {
            "token" => Some(quote(GITHUB_TOKEN)),
            "repository" => Some(quote(REPOSITORY)),
            "api_url" => Some(quote(&self.api_url)),
            _ => None,
        });
        replace_refs(&text, "runner.", |name| {
            (name == "temp").then(|| quote(&self.runner_temp))
        })
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Replaces each `<prefix><name>` (at a word boundary; `name` of `[A-Za-z0-9_.-]`) for which
/// `f` has a replacement.
fn replace_refs(text: &str, prefix: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = &rest[..at];
        let boundary = before
            .chars()
            .last()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        let after = &rest[at + prefix.len()..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(after.len());
        let name = after[..len].trim_end_matches('.');
        out.push_str(before);
        match (boundary, f(name)) {
            (true, Some(replacement)) => {
                out.push_str(&replacement);
                rest = &after[name.len()..];
            }
            _ => {
                out.push_str(prefix);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn payload(fixture: &str) -> Json {
    let text = std::fs::read_to_string(
        shipline_testkit::actions_env::fixtures_dir()
            .join("events")
            .join(fixture),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

const PRODUCTION_CALLER: &str = "name: ship
on:
  push:
    branches: [main]
jobs:
  production:
    uses: ./.github/workflows/production.yml
    with:
      build_command: mkdir -p dist && cp -r app/dist/. dist/
      directory: dist
      provider: vercel
      expect_text: Acme Todos
      skip_backup_gate: false
      require_pitr: true
      backup_max_age: 26h
      notify: slack,sentry
      smoke_url: ''
    secrets: inherit
";

#[test]
fn production_builds_gates_migrates_deploys_checks_and_notifies() {
    let p = Pipeline::new();
    let run = p.run("push", &payload("push.json"), PRODUCTION_CALLER);
    assert_eq!(run.code, 0, "{}", run.log);

    // The gate read the backups once, and nothing else of Supabase.
    let supabase = p.supabase.requests();
    assert_eq!(supabase.len(), 1, "{supabase:?}");
    assert!(supabase[0].path.ends_with("/database/backups"));
    // Both migrations are applied to the real database.
    let applied = pg::query_blocking(
        &p.db.url,
        "select version from supabase_migrations.schema_migrations order by version",
    )
    .unwrap();
    assert_eq!(
        applied,
        [
            Some("20240101000000".to_owned()),
            Some("20240102000000".to_owned())
        ]
    );
    // One GitHub deployment record (no second one from the job's environment), in_progress
    // then success, carrying the schema version the database job reported.
    let gh = p.gh.state();
    assert_eq!(
        gh.deployments.len(),
        1,
        "{:#?}\n{}",
        gh.deployments,
        run.log
    );
    let record = &gh.deployments[0];
    assert_eq!(record["environment"], "production");
    assert_eq!(
        record["payload"]["shipline"]["migration_version"],
        "20240102000000"
    );
    let id = record["id"].as_u64().unwrap();
    let states: Vec<&str> = gh.statuses[&id]
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["in_progress", "success"]);
    drop(gh);
    // Vercel: the files the build made, staged, then promoted.
    let v = p.vercel.state();
    assert_eq!(v.deployments.len(), 1);
    assert_eq!(v.promoted.len(), 1);
    drop(v);
    // Slack and Sentry heard of it.
    assert_eq!(p.slack.state().webhook_posts.len(), 1, "{}", run.log);
    assert_eq!(p.sentry.state().releases.len(), 1);
    assert_eq!(p.sentry.state().deploys.len(), 1);
}

#[test]
fn a_stale_backup_stops_the_pipeline_before_migrations_and_deploy() {
    let p = Pipeline::new();
    let now = now_unix();
    p.supabase.state().backups["physical_backup_data"]["latest_physical_backup_date_unix"] =
        json!(now - 30 * 3600);
    let run = p.run("push", &payload("push.json"), PRODUCTION_CALLER);
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains("too old: latest physical backup at"),
        "{}",
        run.log
    );
    let applied = pg::query_blocking(
        &p.db.url,
        "select count(*)::text from information_schema.tables where table_schema = 'supabase_migrations'",
    )
    .unwrap();
    assert_eq!(applied, [Some("0".to_owned())], "no migration ran");
    assert!(p.vercel.state().deployments.is_empty(), "nothing deployed");
    assert!(p.gh.state().deployments.is_empty());
}

#[test]
fn literals_replace_only_whole_references() {
    let payload = json!({ "pull_request": { "number": 7, "head": { "repo": { "full_name": "a/b" } } }, "action": "closed" });
    let l = Literals {
        payload: &payload,
        runner_temp: "/tmp/rt".into(),
        api_url: "http://gh".into(),
        booleans: vec!["skip_backup_gate".into()],
        secrets: vec![("DEPLOY_TOKEN", "t0k'en".into())],
    };
    assert_eq!(
        l.apply("${{ !inputs.skip-backup-gate }} ${{ !inputs.a-b && github.event.action }}"),
        "${{ !(inputs.skip_backup_gate == 'true') }} ${{ !inputs.a_b && 'closed' }}"
    );
    assert_eq!(
        l.apply("pr-${{ github.event.pull_request.number }} ${{ github.event.nope.x }}"),
        "pr-${{ 7 }} ${{ '' }}"
    );
    assert_eq!(
        l.apply("${{ github.token }} ${{ github.repository_owner }} ${{ runner.temp }}/site"),
        format!(
            "${{{{ '{GITHUB_TOKEN}' }}}} ${{{{ github.repository_owner }}}} ${{{{ '/tmp/rt' }}}}/site"
        )
    );
    assert_eq!(
        l.apply("${{ secrets.DEPLOY_TOKEN }} ${{ secrets.UNSET || 'x' }}"),
        "${{ 't0k''en' }} ${{ '' || 'x' }}"
    );
}

const PREVIEW_CALLER: &str = "name: pr
on:
  pull_request:
    types: [opened, synchronize, reopened, closed]
jobs:
  preview:
    uses: ./.github/workflows/preview.yml
    with:
      build_command: mkdir -p dist && cp -r app/dist/. dist/
      directory: dist
      provider: vercel
      expect_text: Acme Todos
      migrations_directory: supabase/migrations
      artifact_run_id: ''
    secrets: inherit
";

fn preview_states(p: &Pipeline) -> Vec<(String, String)> {
    let gh = p.gh.state();
    gh.deployments
        .iter()
        .map(|d| {
            let id = d["id"].as_u64().unwrap();
            let latest = gh
                .statuses
                .get(&id)
                .and_then(|s| s.last())
                .map(|s| s["state"].as_str().unwrap_or("").to_owned())
                .unwrap_or_default();
            (d["environment"].as_str().unwrap_or("").to_owned(), latest)
        })
        .collect()
}

#[test]
fn preview_checks_migrations_deploys_keeps_one_comment_and_retires_on_close() {
    let p = Pipeline::new();
    let opened = payload("pull_request.opened.json");
    let number = opened["number"].as_u64().unwrap();
    let run = p.run("pull_request", &opened, PREVIEW_CALLER);
    assert_eq!(run.code, 0, "{}", run.log);

    // `verify` applied, reverted and applied again on the service database.
    let on_service = pg::query_blocking(
        &p.service.url,
        "select count(*)::text from supabase_migrations.schema_migrations",
    )
    .unwrap();
    assert_eq!(on_service, [Some("2".to_owned())], "{}", run.log);
    // One sticky comment on the pull request: the preview URL and the migration summary.
    let comments =
        p.gh.state()
            .comments
            .get(&number)
            .cloned()
            .unwrap_or_default();
    assert_eq!(comments.len(), 1, "{comments:#?}\n{}", run.log);
    let body = comments[0]["body"].as_str().unwrap().to_owned();
    assert!(body.contains("<!-- shipline:"), "{body}");
    // `plan` against production's database: both migrations would be applied on merge.
    assert!(
        body.contains("| **Migrations** | 2 pending; verify passed; lint success |"),
        "{body}"
    );
    assert!(
        body.contains("| **URL** | <https://webapp-pr-2.vercel.app> |"),
        "{body}"
    );
    let environment = format!("preview/pr-{number}");
    assert_eq!(
        preview_states(&p),
        [(environment.clone(), "success".into())]
    );
    assert!(
        p.vercel.state().promoted.is_empty(),
        "a preview is never promoted"
    );

    // A new push: the same comment is updated, the older preview retired.
    p.change_page("pushed again");
    let run = p.run(
        "pull_request",
        &payload("pull_request.synchronize.json"),
        PREVIEW_CALLER,
    );
    assert_eq!(run.code, 0, "{}", run.log);
    let comments =
        p.gh.state()
            .comments
            .get(&number)
            .cloned()
            .unwrap_or_default();
    assert_eq!(comments.len(), 1, "still one comment: {comments:#?}");
    assert_eq!(
        preview_states(&p),
        [
            (environment.clone(), "inactive".into()),
            (environment.clone(), "success".into())
        ]
    );

    // Closed: the pull request's previews are set inactive, and nothing is built.
    let mut closed = opened.clone();
    closed["action"] = "closed".into();
    closed["pull_request"]["state"] = "closed".into();
    let deployments_before = p.vercel.state().deployments.len();
    let run = p.run("pull_request", &closed, PREVIEW_CALLER);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(
        preview_states(&p),
        [
            (environment.clone(), "inactive".into()),
            (environment, "inactive".into())
        ]
    );
    assert_eq!(p.vercel.state().deployments.len(), deployments_before);
}

#[test]
fn rollback_puts_the_previous_production_release_back_through_vercels_rollback() {
    let p = Pipeline::new();
    let run = p.run("push", &payload("push.json"), PRODUCTION_CALLER);
    assert_eq!(run.code, 0, "{}", run.log);
    p.change_page("release 2");
    let run = p.run("push", &payload("push.json"), PRODUCTION_CALLER);
    assert_eq!(run.code, 0, "{}", run.log);
    let (first, second) = {
        let v = p.vercel.state();
        assert_eq!(v.deployments.len(), 2);
        (
            v.deployments[0]["id"].as_str().unwrap().to_owned(),
            v.deployments[1]["id"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        p.vercel.state().production.as_deref(),
        Some(second.as_str())
    );

    let caller = "name: undo
on: workflow_dispatch
jobs:
  rollback:
    uses: ./.github/workflows/rollback.yml
    with:
      environment: production
      to: previous
      reason: release 2 broke checkout
      with_migrations: false
      dry_run: false
      provider: vercel
    secrets: inherit
";
    let run = p.run(
        "workflow_dispatch",
        &payload("workflow_dispatch.json"),
        caller,
    );
    assert_eq!(run.code, 0, "{}", run.log);
    // Vercel's own rollback to the first release, and production is it again.
    let calls = p.vercel.requests_to(
        "POST",
        &format!("/v1/projects/prj_shipline/rollback/{first}"),
    );
    assert_eq!(calls.len(), 1, "{}", run.log);
    assert_eq!(p.vercel.state().production.as_deref(), Some(first.as_str()));
    // The record says so: the first release's deployment is `success` again, with the reason.
    let gh = p.gh.state();
    let record = gh
        .deployments
        .iter()
        .find(|d| d["payload"]["shipline"]["provider_deployment_id"] == first.as_str())
        .unwrap();
    let last = gh.statuses[&record["id"].as_u64().unwrap()]
        .last()
        .cloned()
        .unwrap();
    assert_eq!(last["state"], "success");
    assert!(
        last["description"]
            .as_str()
            .unwrap()
            .contains("release 2 broke checkout"),
        "{last}"
    );
}

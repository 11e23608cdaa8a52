//! Apply, revert, status and repair on realistic Supabase migrations.

use std::path::Path;
use std::time::Duration;

use shipline_core::SafeUrl;
use shipline_pg::engine::State;
use shipline_pg::{Engine, Options, PgError, Source, Target};
use shipline_testkit::pg;

fn target(url: &str) -> Target {
    let url = format!("{url}?sslmode=disable");
    Target::parse(&SafeUrl::parse(&url).unwrap()).unwrap()
}

fn options() -> Options {
    Options {
        lock_wait: Duration::from_secs(20),
        retry_delay: Duration::from_millis(100),
        actor: Some("octocat".into()),
        run_url: Some("https://github.com/acme/webapp/actions/runs/1".into()),
        ..Options::default()
    }
}

/// A database with the Supabase shim.
fn database() -> pg::TestDb {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, shipline_pg::shim::SQL).unwrap();
    db
}

fn write(dir: &Path, name: &str, sql: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, sql).unwrap();
}

/// Realistic Supabase migrations: auth.users references, RLS policies with auth.uid(), a
/// security definer trigger function, an enum, grants to the API roles.
fn app(dir: &Path) {
    write(
        dir,
        "20240101000000_profiles.sql",
        "create type public.plan as enum ('free', 'pro');\n\ncreate table public.profiles (\n  id uuid primary key references auth.users (id) on delete cascade,\n  username text unique,\n  plan public.plan not null default 'free'\n);\nalter table public.profiles enable row level security;\ncreate policy \"own profile\" on public.profiles for update using (auth.uid() = id);\ngrant select on public.profiles to anon, authenticated;\n",
    );
    write(
        dir,
        "down/20240101000000_profiles.sql",
        "drop table public.profiles;\ndrop type public.plan;\n",
    );
    write(
        dir,
        "20240102000000_new_user_trigger.sql",
        "create function public.handle_new_user() returns trigger\nlanguage plpgsql security definer set search_path = ''\nas $$\nbegin\n  insert into public.profiles (id, username) values (new.id, new.raw_user_meta_data ->> 'username');\n  return new;\nend;\n$$;\n\ncreate trigger on_auth_user_created after insert on auth.users\n  for each row execute procedure public.handle_new_user();\n",
    );
    write(
        dir,
        "down/20240102000000_new_user_trigger.sql",
        "drop trigger on_auth_user_created on auth.users;\ndrop function public.handle_new_user();\n",
    );
    write(
        dir,
        "20240103000000_todos.sql",
        "create table public.todos (\n  id bigint generated always as identity primary key,\n  owner uuid not null references public.profiles (id),\n  title text not null -- what to do; keep it short\n);\nalter table public.todos enable row level security;\ncreate policy \"own todos\" on public.todos for all using (auth.uid() = owner);\n",
    );
    write(
        dir,
        "down/20240103000000_todos.sql",
        "drop table public.todos;\n",
    );
}

fn query(db: &pg::TestDb, sql: &str) -> Vec<Option<String>> {
    pg::query_blocking(&db.url, sql).unwrap()
}

#[tokio::test]
async fn up_applies_in_order_and_writes_the_clis_history_and_ours() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let source = Source::read(dir.path()).unwrap();
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let before = engine.status(&source).await.unwrap();
    assert!(before.iter().all(|r| r.state == State::Pending));
    assert!(
        query(
            &db,
            "select to_regclass('supabase_migrations.schema_migrations')::text"
        )[0]
        .is_none(),
        "status creates nothing"
    );

    let outcome = engine.up(&source, None, false).await.unwrap();
    assert_eq!(
        outcome.done,
        ["20240101000000", "20240102000000", "20240103000000"]
    );
    assert_eq!(outcome.version.as_deref(), Some("20240103000000"));
    assert!(outcome.pending.is_empty());

    // The trigger function works: the schema really is there.
    pg::execute_blocking(&db.url, "insert into auth.users (id, raw_user_meta_data) values ('00000000-0000-0000-0000-000000000001', '{\"username\": \"ada\"}')").unwrap();
    assert_eq!(
        query(&db, "select username from public.profiles"),
        [Some("ada".into())]
    );

    assert_eq!(
        query(
            &db,
            "select name from supabase_migrations.schema_migrations order by version"
        ),
        [
            Some("profiles".into()),
            Some("new_user_trigger".into()),
            Some("todos".into())
        ]
    );
    let statements = query(
        &db,
        "select statements[1] || '|' || array_length(statements, 1) from supabase_migrations.schema_migrations where version = '20240102000000'",
    );
    assert!(
        statements[0]
            .as_deref()
            .unwrap()
            .starts_with("create function public.handle_new_user() returns trigger")
    );
    assert!(
        statements[0].as_deref().unwrap().ends_with("$$|2"),
        "the dollar-quoted body is one statement: {statements:?}"
    );
    let sidecar = query(
        &db,
        "select checksum || ' ' || applied_by || ' ' || run_url || ' ' || (duration_ms >= 0) from supabase_migrations.shipline_history where version = '20240101000000'",
    );
    assert_eq!(
        sidecar[0].as_deref().unwrap(),
        format!(
            "{} octocat https://github.com/acme/webapp/actions/runs/1 true",
            source.migrations[0].checksum
        )
    );

    let after = engine.status(&source).await.unwrap();
    assert!(after.iter().all(|r| r.state == State::Applied), "{after:?}");
    let again = engine.up(&source, None, false).await.unwrap();
    assert!(again.done.is_empty(), "a second up does nothing");
}

#[tokio::test]
async fn up_to_a_version_and_dry_run() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let source = Source::read(dir.path()).unwrap();
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let plan = engine.up(&source, None, true).await.unwrap();
    assert_eq!(plan.planned.len(), 3);
    assert!(plan.done.is_empty());
    assert!(
        query(&db, "select to_regclass('public.profiles')::text")[0].is_none(),
        "dry run changed nothing"
    );
    let outcome = engine
        .up(&source, Some("20240102000000"), false)
        .await
        .unwrap();
    assert_eq!(outcome.done.len(), 2);
    assert_eq!(outcome.pending, ["20240103000000"]);
}

#[tokio::test]
async fn drift_stops_up_before_anything_runs() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine
        .up(
            &Source::read(dir.path()).unwrap(),
            Some("20240102000000"),
            false,
        )
        .await
        .unwrap();

    // A CRLF checkout is not an edit.
    let crlf = std::fs::read_to_string(dir.path().join("20240101000000_profiles.sql"))
        .unwrap()
        .replace('\n', "\r\n");
    write(dir.path(), "20240101000000_profiles.sql", &crlf);
    engine
        .up(
            &Source::read(dir.path()).unwrap(),
            Some("20240102000000"),
            false,
        )
        .await
        .unwrap();

    write(
        dir.path(),
        "20240101000000_profiles.sql",
        &format!("{crlf}\ncomment on table public.profiles is 'edited';"),
    );
    write(
        dir.path(),
        "20230101000000_late.sql",
        "create table public.late (id int);",
    );
    std::fs::remove_file(dir.path().join("20240102000000_new_user_trigger.sql")).unwrap();
    let source = Source::read(dir.path()).unwrap();
    let err = engine.up(&source, None, false).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PgError::Drift(_)));
    assert!(
        text.contains("20240101000000_profiles.sql` was edited after it was applied"),
        "{text}"
    );
    assert!(
        text.contains(
            "version `20240102000000` (new_user_trigger) is applied but has no file here"
        ),
        "{text}"
    );
    assert!(
        text.contains("20230101000000_late.sql` is older than the newest applied version"),
        "{text}"
    );
    assert!(
        query(&db, "select to_regclass('public.todos')::text")[0].is_none(),
        "nothing ran"
    );
    assert!(query(&db, "select to_regclass('public.late')::text")[0].is_none());
    let states: Vec<State> = engine
        .status(&source)
        .await
        .unwrap()
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(
        states,
        [
            State::OutOfOrder,
            State::Changed,
            State::MissingLocally,
            State::Pending
        ]
    );
}

#[tokio::test]
async fn a_failing_file_leaves_no_trace_and_says_where() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_ok.sql", "create table public.a (id int);");
    write(
        dir.path(),
        "2_bad.sql",
        "create table public.b (id int);\n\ninsert into public.b values (1);\nselect * from public.nope;\n",
    );
    write(dir.path(), "3_later.sql", "create table public.c (id int);");
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let err = engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap_err();
    let PgError::Migration {
        file,
        line,
        message,
        done,
    } = &err
    else {
        panic!("{err}")
    };
    assert!(file.ends_with("2_bad.sql"));
    assert_eq!(*line, Some(4), "{err}");
    assert!(
        message.contains("relation \"public.nope\" does not exist (SQLSTATE 42P01)"),
        "{message}"
    );
    assert_eq!(done, &["1"]);
    assert!(
        query(&db, "select to_regclass('public.b')::text")[0].is_none(),
        "nothing of the file persists"
    );
    assert!(
        query(&db, "select to_regclass('public.c')::text")[0].is_none(),
        "no later file ran"
    );
    assert_eq!(
        query(
            &db,
            "select count(*) from supabase_migrations.schema_migrations"
        ),
        [Some("1".into())]
    );
}

#[tokio::test]
async fn settings_never_leak_from_one_file_to_the_next() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_sets.sql",
        // Long enough for the rest of its own file (the history row) on a loaded machine;
        // far shorter than the next file's sleep, so a leaked setting would fail it.
        "set search_path = nowhere;\nset statement_timeout = '100ms';",
    );
    write(
        dir.path(),
        "2_uses.sql",
        "create table t2 (id int);\nselect pg_sleep(0.4);",
    );
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();
    assert_eq!(
        query(&db, "select to_regclass('public.t2')::text"),
        [Some("t2".into())]
    );
}

#[tokio::test]
async fn down_reverts_newest_first_and_refuses_without_every_script() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();

    std::fs::remove_file(dir.path().join("down/20240102000000_new_user_trigger.sql")).unwrap();
    let err = engine
        .down(&Source::read(dir.path()).unwrap(), "20240101000000", false)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`down/20240102000000_new_user_trigger.sql` missing; nothing was reverted"),
        "{err}"
    );
    assert_eq!(
        query(
            &db,
            "select count(*) from supabase_migrations.schema_migrations"
        ),
        [Some("3".into())]
    );
    assert!(query(&db, "select to_regclass('public.todos')::text")[0].is_some());

    let outcome = engine
        .down(&Source::read(dir.path()).unwrap(), "20240102000000", false)
        .await
        .unwrap();
    assert_eq!(outcome.done, ["20240103000000"]);
    assert!(query(&db, "select to_regclass('public.todos')::text")[0].is_none());
    assert_eq!(
        query(
            &db,
            "select count(*) from supabase_migrations.shipline_history where version = '20240103000000'"
        ),
        [Some("0".into())]
    );

    write(
        dir.path(),
        "down/20240102000000_new_user_trigger.sql",
        "drop trigger on_auth_user_created on auth.users;\ndrop function public.handle_new_user();\n",
    );
    let outcome = engine
        .down(&Source::read(dir.path()).unwrap(), "0", false)
        .await
        .unwrap();
    assert_eq!(outcome.done, ["20240102000000", "20240101000000"]);
    assert_eq!(outcome.version, None);
    assert!(query(&db, "select to_regclass('public.profiles')::text")[0].is_none());
    // And up again: the down scripts really inverted the ups.
    let outcome = engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();
    assert_eq!(outcome.done.len(), 3);
}

#[tokio::test]
async fn repair_writes_history_only() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let source = Source::read(dir.path()).unwrap();
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine
        .repair(&source, &["20240101000000".into()], true)
        .await
        .unwrap();
    assert!(
        query(&db, "select to_regclass('public.profiles')::text")[0].is_none(),
        "no migration SQL ran"
    );
    assert_eq!(
        engine.status(&source).await.unwrap()[0].state,
        State::Applied
    );
    engine
        .repair(&source, &["20240101000000".into()], false)
        .await
        .unwrap();
    assert_eq!(
        engine.status(&source).await.unwrap()[0].state,
        State::Pending
    );
    let err = engine
        .repair(&source, &["999".into()], true)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no file of version `999`"));
}

#[tokio::test]
async fn three_concurrent_runs_apply_each_file_exactly_once() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=20 {
        write(
            dir.path(),
            &format!("{i:03}_t{i}.sql"),
            &format!("create table public.t{i} (id int);\ninsert into public.t{i} values ({i});"),
        );
    }
    let source = Source::read(dir.path()).unwrap();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let (url, source) = (db.url.clone(), source.clone());
        runs.push(tokio::spawn(async move {
            let engine = Engine::connect(target(&url), options()).await.unwrap();
            engine.up(&source, None, false).await.unwrap().done.len()
        }));
    }
    let mut applied = 0;
    for run in runs {
        applied += run.await.unwrap();
    }
    assert_eq!(applied, 20, "each file applied by exactly one run");
    assert_eq!(
        query(
            &db,
            "select count(*) from supabase_migrations.schema_migrations"
        ),
        [Some("20".into())]
    );
    assert_eq!(
        query(&db, "select sum(id)::text from public.t7"),
        [Some("7".into())]
    );
}

#[tokio::test]
async fn a_lock_timeout_is_retried_then_reported() {
    let db = database();
    pg::execute_blocking(&db.url, "create table public.busy (id int)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_alter.sql",
        "alter table public.busy add column note text;",
    );
    let source = Source::read(dir.path()).unwrap();
    let opts = Options {
        lock_timeout: Duration::from_millis(100),
        lock_retries: 2,
        retry_delay: Duration::from_millis(200),
        ..options()
    };

    // Held past every retry: a plain failure, saying it retried.
    let holder = Engine::connect(target(&db.url), options()).await.unwrap();
    holder
        .client()
        .simple_query("begin; lock table public.busy in access exclusive mode")
        .await
        .unwrap();
    let engine = Engine::connect(target(&db.url), opts.clone())
        .await
        .unwrap();
    let err = engine.up(&source, None, false).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("canceling statement due to lock timeout (SQLSTATE 55P03)")
            && err.to_string().contains("after 2 retries"),
        "{err}"
    );

    // Released while retrying: it goes through.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        holder.client().simple_query("commit").await.unwrap();
        holder
    });
    let holder = Engine::connect(target(&db.url), options()).await.unwrap();
    holder
        .client()
        .simple_query("begin; lock table public.busy in access exclusive mode")
        .await
        .unwrap();
    let _ = release.await.unwrap();
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        holder.client().simple_query("commit").await.unwrap();
    });
    engine.up(&source, None, false).await.unwrap();
    releaser.await.unwrap();
    assert_eq!(
        query(
            &db,
            "select count(*) from information_schema.columns where table_name = 'busy' and column_name = 'note'"
        ),
        [Some("1".into())]
    );
}

#[tokio::test]
async fn a_concurrent_index_runs_alone_and_a_held_lock_is_waited_for() {
    let db = database();
    pg::execute_blocking(&db.url, "create table public.big (id int)").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_index.sql",
        "-- built without blocking writes\ncreate index concurrently big_id on public.big (id);",
    );
    let source = Source::read(dir.path()).unwrap();

    // Another run holds the migration lock: a short wait gives up, saying what to do.
    let other = Engine::connect(target(&db.url), options()).await.unwrap();
    other
        .client()
        .simple_query(&format!(
            "select pg_advisory_lock({})",
            shipline_pg::lock::LOCK_KEY
        ))
        .await
        .unwrap();
    let impatient = Engine::connect(
        target(&db.url),
        Options {
            lock_wait: Duration::from_millis(500),
            ..options()
        },
    )
    .await
    .unwrap();
    let err = impatient.up(&source, None, false).await.unwrap_err();
    assert!(matches!(err, PgError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("pg_terminate_backend"), "{err}");
    other
        .client()
        .simple_query(&format!(
            "select pg_advisory_unlock({})",
            shipline_pg::lock::LOCK_KEY
        ))
        .await
        .unwrap();

    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine.up(&source, None, false).await.unwrap();
    assert_eq!(
        query(
            &db,
            "select indisvalid::text from pg_index where indexrelid = 'public.big_id'::regclass"
        ),
        [Some("true".into())]
    );
    assert_eq!(
        query(
            &db,
            "select count(*) from supabase_migrations.schema_migrations"
        ),
        [Some("1".into())]
    );
}

#[tokio::test]
async fn destructive_pending_files_are_refused_unless_allowed() {
    let db = database();
    pg::execute_blocking(
        &db.url,
        "create table public.logs (id int); insert into public.logs values (1);",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_purge.sql",
        "create table public.keep (id int);\ntruncate public.logs;\n",
    );
    let source = Source::read(dir.path()).unwrap();
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let err = engine.up(&source, None, false).await.unwrap_err();
    assert!(
        err.to_string().contains("drop, truncate or delete data")
            && err.to_string().contains("1_purge.sql:2"),
        "{err}"
    );
    assert!(
        query(&db, "select to_regclass('public.keep')::text")[0].is_none(),
        "nothing ran"
    );

    let allowed = Engine::connect(
        target(&db.url),
        Options {
            allow_destructive: true,
            ..options()
        },
    )
    .await
    .unwrap();
    allowed.up(&source, None, false).await.unwrap();
    assert_eq!(
        query(&db, "select count(*) from public.logs"),
        [Some("0".into())]
    );

    write(
        dir.path(),
        "2_drop.sql",
        "-- shipline:allow-destructive\ndrop table public.keep;\n",
    );
    engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();
    assert!(query(&db, "select to_regclass('public.keep')::text")[0].is_none());
}

#[tokio::test]
async fn verify_round_trips_and_catches_a_down_script_that_does_not_invert() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let good = shipline_pg::verify::verify(&engine, &Source::read(dir.path()).unwrap())
        .await
        .unwrap();
    assert_eq!(good.round_tripped.len(), 3);
    assert!(good.differences.is_empty(), "{:?}", good.differences);

    // A down script that renames instead of dropping: the schema differs after re-applying.
    let db = database();
    let renaming = tempfile::tempdir().unwrap();
    write(
        renaming.path(),
        "1_t.sql",
        "create table public.t (id int);\n",
    );
    write(
        renaming.path(),
        "down/1_t.sql",
        "alter table public.t rename to t_old;\n",
    );
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let result = shipline_pg::verify::verify(&engine, &Source::read(renaming.path()).unwrap())
        .await
        .unwrap();
    assert!(
        result
            .differences
            .iter()
            .any(|d| d.starts_with("+ relation public.t_old")),
        "{:?}",
        result.differences
    );

    // A down script that forgets the enum: re-applying collides.
    let db = database();
    write(
        dir.path(),
        "down/20240101000000_profiles.sql",
        "drop table public.profiles;\n",
    );
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    let err = shipline_pg::verify::verify(&engine, &Source::read(dir.path()).unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("re-applying after the down scripts failed")
            && err.to_string().contains("type \"plan\" already exists"),
        "{err}"
    );
}

#[tokio::test]
async fn sslmode_is_honoured() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return; // the shared server's TLS setup is not ours to know
    }
    let db = database();
    let with = |mode: &str| {
        Target::parse(&SafeUrl::parse(&format!("{}?sslmode={mode}", db.url)).unwrap()).unwrap()
    };
    let ssl_in_use = "select ssl::text from pg_stat_ssl where pid = pg_backend_pid()";
    for (mode, expected) in [
        ("disable", "false"),
        ("prefer", "true"),
        ("require", "true"),
    ] {
        let client = with(mode).connect().await.unwrap();
        let rows = client.simple_query(ssl_in_use).await.unwrap();
        let got = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        });
        assert_eq!(got.as_deref(), Some(expected), "sslmode={mode}");
    }
    // The test certificate is self-signed: verify-full refuses it, naming the server.
    let err = with("verify-full").connect().await.unwrap_err().to_string();
    assert!(
        err.starts_with("could not connect to `postgres://****@127.0.0.1:"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // Migrations run over TLS.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "1_t.sql",
        "create table public.over_tls (id int);",
    );
    let engine = Engine::connect(with("require"), options()).await.unwrap();
    engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();
    assert!(query(&db, "select to_regclass('public.over_tls')::text")[0].is_some());
    let bad =
        Target::parse(&SafeUrl::parse(&format!("{}?sslmode=maybe", db.url)).unwrap()).unwrap_err();
    assert!(
        bad.to_string().contains("`sslmode=maybe` is not one of"),
        "{bad}"
    );
}

#[tokio::test]
async fn extra_columns_hosted_supabase_adds_are_left_alone() {
    let db = database();
    pg::execute_blocking(
        &db.url,
        "create schema supabase_migrations; create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text, created_by text, idempotency_key text unique, rollback text[]);",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    app(dir.path());
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();
    assert!(
        engine
            .status(&Source::read(dir.path()).unwrap())
            .await
            .unwrap()
            .iter()
            .all(|r| r.state == State::Applied)
    );
    assert_eq!(
        query(
            &db,
            "select count(*) from supabase_migrations.schema_migrations where created_by is null and rollback is null"
        ),
        [Some("3".into())]
    );
}

#[tokio::test]
async fn only_pending_files_are_checked_for_how_they_must_run() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    // Applied earlier (by the CLI, say) with transaction control mid-file: not ours to refuse now.
    write(
        dir.path(),
        "1_old.sql",
        "create table public.a (id int);\ncommit;\ncreate table public.b (id int);\n",
    );
    let engine = Engine::connect(target(&db.url), options()).await.unwrap();
    engine
        .repair(&Source::read(dir.path()).unwrap(), &["1".into()], true)
        .await
        .unwrap();
    write(
        dir.path(),
        "2_mixed.sql",
        "create table public.c (id int);\ncreate index concurrently c_id on public.c (id);\n",
    );
    write(
        dir.path(),
        "3_fine.sql",
        "create table public.d (id int);\n",
    );
    let err = engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("2_mixed.sql:2: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction"),
        "{err}"
    );
    assert!(
        query(&db, "select to_regclass('public.d')::text")[0].is_none(),
        "refused before anything ran"
    );
    std::fs::remove_file(dir.path().join("2_mixed.sql")).unwrap();
    let outcome = engine
        .up(&Source::read(dir.path()).unwrap(), None, false)
        .await
        .unwrap();
    assert_eq!(outcome.done, ["3"]);
}

//! The commands as a process, on a real PostgreSQL, in a simulated Actions step.

use shipline_testkit::{ActionsStep, pg};

use super::EXE;

fn app(step: &ActionsStep) {
    let dir = step.workspace().join("supabase/migrations");
    std::fs::create_dir_all(dir.join("down")).unwrap();
    std::fs::write(dir.join("20240101000000_profiles.sql"), "create table public.profiles (\n  id uuid primary key references auth.users (id),\n  username text\n);\nalter table public.profiles enable row level security;\ncreate policy \"own\" on public.profiles for update using (auth.uid() = id);\n").unwrap();
    std::fs::write(
        dir.join("down/20240101000000_profiles.sql"),
        "drop table public.profiles;\n",
    )
    .unwrap();
    std::fs::write(dir.join("20240102000000_todos.sql"), "create table public.todos (id bigint primary key, owner uuid references public.profiles (id));\n").unwrap();
    std::fs::write(
        dir.join("down/20240102000000_todos.sql"),
        "drop table public.todos;\n",
    )
    .unwrap();
}

/// A database URL with a password, as users have it (trust auth ignores the password).
fn db_url() -> (pg::TestDb, String) {
    let db = pg::fresh_database();
    let url = db.url.replacen(
        "postgres://postgres@",
        "postgres://postgres:hunter2-s3cret@",
        1,
    ) + "?sslmode=disable";
    (db, url)
}

fn step(url: &str) -> ActionsStep {
    let step = ActionsStep::push()
        .input("database-url", url)
        .input("supabase-shim", "true");
    app(&step);
    step
}

#[test]
fn up_applies_writes_outputs_and_a_summary_and_never_shows_the_password() {
    let (db, url) = db_url();
    let result = step(&url).input("command", "up").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["applied"], "2");
    assert_eq!(result.outputs["pending"], "0");
    assert_eq!(result.outputs["version"], "20240102000000");
    assert!(
        result.summary.contains("applied 2 migration(s)"),
        "{}",
        result.summary
    );
    assert!(result.summary.contains("20240101000000_profiles.sql"));
    assert!(
        !result.shown().contains("hunter2-s3cret"),
        "{}",
        result.shown()
    );
    assert_eq!(
        pg::query_blocking(
            &db.url,
            "select applied_by from supabase_migrations.shipline_history order by version limit 1"
        )
        .unwrap(),
        [Some("octocat".into())]
    );

    let status = step(&url)
        .input("command", "status")
        .run(EXE, &["--output", "json"]);
    assert_eq!(status.code, Some(0), "{}", status.everything());
    let doc: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(doc["title"], "2 applied, 0 pending");
    assert_eq!(doc["tables"][0]["rows"][1][2], "applied");
}

#[test]
fn a_failing_statement_is_annotated_at_its_line() {
    let (db, url) = db_url();
    let s = step(&url).input("command", "up");
    std::fs::write(
        s.workspace()
            .join("supabase/migrations/20240103000000_bad.sql"),
        "create table public.x (id int);\n\nalter table public.nope add column y int;\n",
    )
    .unwrap();
    let result = s.run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("::error title=migration failed,file=supabase/migrations/20240103000000_bad.sql,line=3::relation \"public.nope\" does not exist (SQLSTATE 42P01)"),
        "{}",
        result.stdout
    );
    assert_eq!(
        result.outputs["applied"], "2",
        "the two before it were applied"
    );
    assert!(result.summary.contains("Done before the failure"));
    assert!(
        pg::query_blocking(&db.url, "select to_regclass('public.x')::text").unwrap()[0].is_none()
    );
}

#[test]
fn down_and_repair_through_the_binary() {
    let (db, url) = db_url();
    assert_eq!(
        step(&url).input("command", "up").run(EXE, &[]).code,
        Some(0)
    );
    let down = step(&url)
        .input("command", "down")
        .input("to", "20240101000000")
        .run(EXE, &[]);
    assert_eq!(down.code, Some(0), "{}", down.everything());
    assert_eq!(down.outputs["version"], "20240101000000");
    assert!(
        pg::query_blocking(&db.url, "select to_regclass('public.todos')::text").unwrap()[0]
            .is_none()
    );

    let repair = step(&url)
        .input("command", "repair")
        .input("versions", "20240102000000")
        .input("status", "applied")
        .run(EXE, &[]);
    assert_eq!(repair.code, Some(0), "{}", repair.everything());
    assert!(
        pg::query_blocking(&db.url, "select to_regclass('public.todos')::text").unwrap()[0]
            .is_none(),
        "repair ran no SQL"
    );
    let bad = step(&url)
        .input("command", "repair")
        .input("versions", "20240102000000")
        .run(EXE, &[]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stdout.contains("invalid input `status`"),
        "{}",
        bad.stdout
    );
}

#[test]
fn plan_is_markdown_for_a_pull_request_and_drift_fails_up() {
    let (_db, url) = db_url();
    let plan = step(&url).input("command", "plan").run(EXE, &[]);
    assert_eq!(plan.code, Some(0), "{}", plan.everything());
    let markdown = &plan.outputs["plan"];
    assert!(
        markdown.contains("| version | file | statements | transaction | down script |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| 20240101000000 | 20240101000000_profiles.sql | 3 | yes | yes |"),
        "{markdown}"
    );

    assert_eq!(
        step(&url).input("command", "up").run(EXE, &[]).code,
        Some(0)
    );
    let s = step(&url).input("command", "up");
    std::fs::write(
        s.workspace()
            .join("supabase/migrations/20240101000000_profiles.sql"),
        "create table public.profiles (id uuid);\n",
    )
    .unwrap();
    let result = s.run(EXE, &[]);
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("was edited after it was applied"),
        "{}",
        result.stdout
    );
}

#[test]
fn lint_needs_no_database_and_refuses_mixed_concurrent_indexes() {
    let s = ActionsStep::push()
        .input("command", "lint")
        .env("DATABASE_URL", "");
    app(&s);
    std::fs::write(
        s.workspace()
            .join("supabase/migrations/20240103000000_index.sql"),
        "create table public.t (id int);\ncreate index concurrently t_id on public.t (id);\n",
    )
    .unwrap();
    let result = s.run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(result.stdout.contains("::error title=migrate lint%3A non-transactional-mixed,file=supabase/migrations/20240103000000_index.sql,line=2::"), "{}", result.stdout);
    assert!(result.stdout.contains("::warning title=migrate lint%3A missing-down,file=supabase/migrations/20240103000000_index.sql::"), "{}", result.stdout);
    assert!(
        result.outputs["findings"].contains("20240103000000_index.sql:2: non-transactional-mixed:"),
        "{:?}",
        result.outputs
    );
}

#[test]
fn lint_reports_each_rule_at_its_line_with_a_fix() {
    let s = ActionsStep::push()
        .input("command", "lint")
        .env("DATABASE_URL", "");
    app(&s);
    std::fs::write(
        s.workspace().join("supabase/migrations/20240104000000_risky.sql"),
        "alter table public.todos add column title text not null;\nalter table public.profiles rename column username to handle;\ndelete from public.todos;\n",
    )
    .unwrap();
    let result = s.run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    let findings = &result.outputs["findings"];
    for expected in [
        "supabase/migrations/20240102000000_todos.sql:1: rls-missing: `public.todos` is in an exposed schema",
        "supabase/migrations/20240104000000_risky.sql:1: not-null-without-default:",
        "supabase/migrations/20240104000000_risky.sql:2: rename:",
        "supabase/migrations/20240104000000_risky.sql:3: destructive: `DELETE` without `WHERE`",
    ] {
        assert!(
            findings.contains(expected),
            "missing {expected:?} in:\n{findings}"
        );
    }
    assert!(result.stdout.contains("::error title=migrate lint%3A destructive,file=supabase/migrations/20240104000000_risky.sql,line=3::"), "{}", result.stdout);
}

#[test]
fn verify_passes_inverting_down_scripts_and_fails_others() {
    let (_db, url) = db_url();
    let result = step(&url).input("command", "verify").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .summary
            .contains("2 migration(s) reverted and re-applied to the same schema"),
        "{}",
        result.summary
    );

    let (_db, url) = db_url();
    let s = step(&url).input("command", "verify");
    std::fs::write(
        s.workspace()
            .join("supabase/migrations/down/20240102000000_todos.sql"),
        "alter table public.todos rename to todos_old;\n",
    )
    .unwrap();
    let result = s.run(EXE, &[]);
    // Caught either as a schema difference or, as here, by the next down script failing on
    // what the renaming one left behind.
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(result.stdout.contains("todos_old"), "{}", result.stdout);
}

#[test]
fn kill_9_during_a_long_migration_leaves_the_database_consistent_and_a_rerun_finishes() {
    let (db, url) = db_url();
    let s = step(&url).input("command", "up");
    std::fs::write(
        s.workspace()
            .join("supabase/migrations/20240103000000_slow.sql"),
        "create table public.slow (id int);\nselect pg_sleep(3);\n",
    )
    .unwrap();
    let mut child = s
        .command(EXE)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let running = "select count(*) from pg_stat_activity where query like '%pg_sleep(3)%' and state = 'active' and pid <> pg_backend_pid()";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while pg::query_blocking(&db.url, running).unwrap()[0].as_deref() != Some("1") {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow file never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL, mid-file
    child.wait().unwrap();
    // Wait until the server has noticed: only our own session is left in this database.
    let others = format!(
        "select count(*) from pg_stat_activity where datname = '{}' and pid <> pg_backend_pid()",
        db.name
    );
    while pg::query_blocking(&db.url, &others).unwrap()[0].as_deref() != Some("0") {
        assert!(
            std::time::Instant::now() < deadline + std::time::Duration::from_secs(10),
            "the killed run's sessions never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let table = pg::query_blocking(&db.url, "select to_regclass('public.slow') is not null")
        .unwrap()[0]
        .clone();
    let row = pg::query_blocking(&db.url, "select count(*) = 1 from supabase_migrations.schema_migrations where version = '20240103000000'").unwrap()[0].clone();
    assert_eq!(
        table, row,
        "the file and its history row are both there or both absent"
    );

    let rerun = s.run(EXE, &[]);
    assert_eq!(
        rerun.code,
        Some(0),
        "the lock was not stranded and the rerun finished: {}",
        rerun.everything()
    );
    assert_eq!(rerun.outputs["pending"], "0");
    assert_eq!(
        pg::query_blocking(
            &db.url,
            "select count(*) from supabase_migrations.schema_migrations"
        )
        .unwrap(),
        [Some("3".into())]
    );
}

#[test]
fn the_transaction_pooler_port_is_warned_about() {
    let s = ActionsStep::push().input("command", "status").input(
        "database-url",
        "postgres://postgres:pw@127.0.0.1:6543/postgres?sslmode=disable&connect_timeout=2",
    );
    app(&s);
    let result = s.run(EXE, &[]);
    assert!(
        result.stdout.contains(
            "::warning::`database-url` points at port 6543, Supabase's transaction pooler"
        ),
        "{}",
        result.stdout
    );
    assert!(!result.shown().contains(":pw@"));
}

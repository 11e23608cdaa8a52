//! Side by side with the real Supabase CLI 2.117.0 (`tools/peers`): the same history rows,
//! and either tool finishes what the other started.

use std::path::{Path, PathBuf};
use std::process::Command;

use shipline_testkit::{ActionsStep, pg};

use super::EXE;

fn supabase() -> PathBuf {
    let cli =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/peers/node_modules/.bin/supabase");
    assert!(
        cli.exists(),
        "the Supabase CLI is not installed: `npm install --prefix tools/peers` (the README's test command does it)"
    );
    cli
}

/// Realistic files: an enum, RLS and `auth.uid()` policies, a `security definer` trigger
/// function with a dollar-quoted body, grants, comments, and a file with CRLF line ends.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("supabase/migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("20240101000000_profiles.sql"), "-- profiles of signed-up users\ncreate type public.plan as enum ('free', 'pro');\ncreate table public.profiles (\n  id uuid primary key references auth.users (id) on delete cascade,\n  username text unique, -- shown in the app; may change\n  plan public.plan not null default 'free'\n);\nalter table public.profiles enable row level security;\ncreate policy \"read all\" on public.profiles for select using (true);\ncreate policy \"update own\" on public.profiles for update using (auth.uid() = id);\ngrant select on public.profiles to anon, authenticated;\n").unwrap();
    std::fs::write(m.join("20240102000000_on_signup.sql"), "create function public.handle_new_user() returns trigger\nlanguage plpgsql security definer set search_path = ''\nas $$\nbegin\n  insert into public.profiles (id, username) values (new.id, new.raw_user_meta_data ->> 'username');\n  return new;\nend;\n$$;\ncreate trigger on_auth_user_created after insert on auth.users\n  for each row execute procedure public.handle_new_user();\n").unwrap();
    std::fs::write(m.join("20240103000000_todos.sql"), "create table public.todos (\r\n  id bigint generated always as identity primary key,\r\n  owner uuid not null references public.profiles (id),\r\n  title text not null\r\n);\r\n/* only owners; see docs */\r\nalter table public.todos enable row level security;\r\ncreate policy \"own\" on public.todos for all using (auth.uid() = owner);\r\n").unwrap();
    dir
}

fn keep_only(project: &Path, count: usize) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let to = copy.path().join("supabase/migrations");
    std::fs::create_dir_all(&to).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(project.join("supabase/migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files.iter().take(count) {
        std::fs::copy(f, to.join(f.file_name().unwrap())).unwrap();
    }
    copy
}

fn database() -> (pg::TestDb, String) {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, shipline_pg::shim::SQL).unwrap();
    let url = format!(
        "{}?sslmode=disable",
        db.url
            .replacen("postgres://postgres@", "postgres://postgres:unused@", 1)
    );
    (db, url)
}

fn cli(project: &Path, args: &[&str]) -> String {
    let out = Command::new(supabase())
        .args(args)
        .args(["--agent", "no"])
        .current_dir(project)
        .env("SUPABASE_TELEMETRY_DISABLED", "1")
        .env("DO_NOT_TRACK", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "supabase {args:?} failed:\n{text}");
    text
}

fn push(project: &Path, url: &str) -> String {
    cli(
        project,
        &["db", "push", "--db-url", url, "--include-all", "--yes"],
    )
}

fn shipline(project: &Path, url: &str, command: &str) -> shipline_testkit::actions_env::StepResult {
    let step = ActionsStep::push()
        .input("command", command)
        .input("database-url", url)
        .input(
            "directory",
            &project.join("supabase/migrations").display().to_string(),
        );
    step.run(EXE, &[])
}

fn history(db: &pg::TestDb) -> Vec<Option<String>> {
    pg::query_blocking(&db.url, "select version || '|' || name || '|' || array_to_json(statements)::text from supabase_migrations.schema_migrations order by version").unwrap()
}

#[test]
fn both_tools_write_the_same_history_rows() {
    let project = project();
    let (by_cli, cli_url) = database();
    let (by_us, our_url) = database();
    push(project.path(), &cli_url);
    let up = shipline(project.path(), &our_url, "up");
    assert_eq!(up.code, Some(0), "{}", up.everything());
    let (theirs, ours) = (history(&by_cli), history(&by_us));
    assert_eq!(theirs.len(), 3);
    assert_eq!(
        ours, theirs,
        "schema_migrations rows differ between the CLI and shipline"
    );

    // Each sees the other's work as applied, unchanged.
    let status = shipline(project.path(), &cli_url, "status");
    assert_eq!(status.outputs["applied"], "3", "{}", status.everything());
    assert!(
        !status.stdout.contains("changed since applied"),
        "{}",
        status.stdout
    );
    assert_eq!(
        shipline(project.path(), &cli_url, "up").outputs["applied"],
        "0"
    );
    let list = cli(
        project.path(),
        &[
            "migration",
            "list",
            "--db-url",
            &our_url,
            "--output-format",
            "json",
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(list.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let rows = json["migrations"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["local"] == r["remote"]), "{list}");
}

#[test]
fn each_tool_finishes_what_the_other_started() {
    let project = project();
    // Half-migrated by the CLI, finished by shipline.
    let (db, url) = database();
    push(keep_only(project.path(), 1).path(), &url);
    let up = shipline(project.path(), &url, "up");
    assert_eq!(up.code, Some(0), "{}", up.everything());
    assert_eq!(up.outputs["applied"], "2");
    let again = push(project.path(), &url);
    assert!(again.contains("up to date"), "{again}");
    assert_eq!(history(&db).len(), 3);

    // Half-migrated by shipline, finished by the CLI.
    let (db, url) = database();
    assert_eq!(
        shipline(keep_only(project.path(), 2).path(), &url, "up").code,
        Some(0)
    );
    let pushed = push(project.path(), &url);
    assert!(pushed.contains("20240103000000_todos.sql"), "{pushed}");
    assert_eq!(history(&db).len(), 3);
    let status = shipline(project.path(), &url, "status");
    assert_eq!(status.outputs["applied"], "3", "{}", status.everything());
    assert!(
        !status.stdout.contains("changed since applied"),
        "{}",
        status.stdout
    );
}

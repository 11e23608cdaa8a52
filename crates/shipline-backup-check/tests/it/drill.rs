//! The restore drill on real databases: a few hundred MB taking writes while it is dumped,
//! a corrupted dump, a dump the source has moved on from, a sequence left behind, the
//! Supabase roles, and a dump from a newer pg_dump.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use shipline_pg::tools::PgTools;
use shipline_testkit::pg;

use crate::{EXE, schedule};

/// Several schemas, foreign keys, serial and identity sequences, a composite key, a table
/// without a primary key, and 1 MB rows (TOASTed): about 270 MB on disk.
const BIG: &str = r#"
CREATE SCHEMA app; CREATE SCHEMA billing;
CREATE TABLE app.users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL,
  created_at timestamptz NOT NULL, profile jsonb, score double precision);
INSERT INTO app.users (email, created_at, profile, score)
  SELECT 'user' || i || '@example.com', timestamptz '2026-01-01' + i * interval '1 minute',
         jsonb_build_object('name', 'User ' || i, 'n', i), i / 7.0
  FROM generate_series(1, 50000) i;
CREATE TABLE app.posts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES app.users (id), title text, body text, tags text[]);
INSERT INTO app.posts (user_id, title, body, tags)
  SELECT 1 + i % 50000, 'Post ' || i,
         (SELECT string_agg(md5((i * 100 + k)::text), ' ') FROM generate_series(1, 40) k),
         ARRAY['t' || i % 10, 'all']
  FROM generate_series(1, 150000) i;
CREATE TABLE app.post_tags (post_id bigint REFERENCES app.posts (id), tag text,
  PRIMARY KEY (post_id, tag));
INSERT INTO app.post_tags SELECT id, 't' || id % 10 FROM app.posts;
CREATE TABLE app.events (at timestamptz, kind text, payload jsonb);
INSERT INTO app.events SELECT timestamptz '2026-01-01' + i * interval '1 second', 'k' || i % 5,
  jsonb_build_object('i', i) FROM generate_series(1, 100000) i;
CREATE TABLE billing.invoices (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES app.users (id),
  amount numeric(12, 2) NOT NULL, paid boolean NOT NULL, issued date NOT NULL);
INSERT INTO billing.invoices (user_id, amount, paid, issued)
  SELECT 1 + i % 50000, (i % 1000) * 1.25, i % 3 = 0, date '2026-01-01' + i % 300
  FROM generate_series(1, 100000) i;
CREATE TABLE billing.documents (id serial PRIMARY KEY, invoice_id int NOT NULL REFERENCES billing.invoices (id), pdf bytea);
INSERT INTO billing.documents (invoice_id, pdf)
  SELECT i, (SELECT decode(string_agg(md5(random()::text || i || k), ''), 'hex') FROM generate_series(1, 65536) k)
  FROM generate_series(1, 40) i;
ANALYZE;
"#;

fn drill_step(db: &str) -> shipline_testkit::ActionsStep {
    schedule()
        .input("provider", "postgres")
        .input("database-url", db)
        .input("require-pitr", "false")
        .input("restore-drill", "true")
}

fn tools() -> PgTools {
    PgTools::find(pg::server().bin_dir.as_deref()).unwrap()
}

fn pg_dump(db: &str, file: &Path) {
    let out = Command::new(tools().program("pg_dump"))
        .args(["--format=custom", "--file"])
        .arg(file)
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn one(url: &str, sql: &str) -> String {
    pg::query_blocking(url, sql)
        .unwrap()
        .remove(0)
        .unwrap_or_default()
}

#[test]
fn a_few_hundred_mb_restore_exactly_while_the_source_takes_writes() {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, BIG).unwrap();
    let size: u64 = one(&db.url, "SELECT pg_database_size(current_database())")
        .parse()
        .unwrap();
    assert!(size > 250_000_000, "the source is {size} bytes");

    // Writes keep arriving during the whole drill.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written, url) = (stop.clone(), written.clone(), db.url.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                pg::execute_blocking(
                    &url,
                    "INSERT INTO app.events VALUES (now(), 'live', '{}'); \
                     INSERT INTO app.users (email, created_at) VALUES (gen_random_uuid() || '@live.test', now()); \
                     UPDATE billing.invoices SET paid = NOT paid WHERE id = 1 + (random() * 99999)::int;",
                )
                .unwrap();
                written.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    let before = written.load(Ordering::SeqCst);
    let result = drill_step(&db.url)
        .input("scratch-database-url", &pg::server().admin_url)
        .input("backup-dir", &{
            // The nightly dump the freshness check looks at.
            let dir = tempfile::tempdir().unwrap().keep();
            std::fs::write(dir.join("nightly.dump"), "PGDMP").unwrap();
            dir.display().to_string()
        })
        .run(EXE, &[]);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let during = written.load(Ordering::SeqCst) - before;
    assert!(during > 10, "only {during} writes during the drill");

    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["drill"], "passed");
    let secs: f64 = result.outputs["restore-seconds"].parse().unwrap();
    assert!(secs > 0.0);
    let s = &result.summary;
    for expected in [
        "all 6 table(s) present",
        "row(s) in 6 table(s), equal",
        "sampled row(s) identical",
        "4 sequence(s), none behind its column",
        "4 present and validated by the restore",
        "| app.posts | 150000 | 150000 | 1000 by primary key | ✅ |",
        "| app.events |",
        "by row hash",
        "| billing.documents | 40 | 40 | 40 by primary key | ✅ |",
    ] {
        assert!(s.contains(expected), "`{expected}` not in\n{s}");
    }
    assert!(!s.contains("❌"), "{s}");
    // The scratch database is gone.
    let scratch = s
        .split("shipline_drill_")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .map(|r| format!("shipline_drill_{r}"))
        .unwrap_or_else(|| panic!("no scratch database named in\n{s}"));
    assert_eq!(
        one(
            &pg::server().admin_url,
            &format!("SELECT count(*)::text FROM pg_database WHERE datname = '{scratch}'")
        ),
        "0"
    );
}

/// A dump of `db` in a folder of its own.
fn dumped(db: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.dump");
    pg_dump(db, &file);
    (dir, file)
}

const MEDIUM: &str = "CREATE TABLE items (id serial PRIMARY KEY, body text); \
    INSERT INTO items (body) SELECT (SELECT string_agg(md5((i * 10 + k)::text), '') FROM generate_series(1, 30) k) FROM generate_series(1, 20000) i;";

#[test]
fn a_corrupted_or_truncated_dump_fails_the_drill() {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, MEDIUM).unwrap();
    let (dir, file) = dumped(&db.url);
    let good = std::fs::read(&file).unwrap();
    assert!(good.len() > 1_000_000);
    let run = || {
        drill_step(&db.url)
            .input("backup-dir", &dir.path().display().to_string())
            .input("drill-from", "backup-dir")
            .input("scratch-database-url", &pg::server().admin_url)
            .run(EXE, &[])
    };
    // The good dump passes, compared exactly with the unchanged source.
    let result = run();
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["drill"], "passed");

    let mut bad = good.clone();
    let middle = bad.len() / 2;
    for b in &mut bad[middle..middle + 4096] {
        *b = 0x5a;
    }
    std::fs::write(&file, &bad).unwrap();
    let result = run();
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(result.outputs["drill"], "failed");
    assert!(
        result
            .stdout
            .contains("::error title=backup-check%3A restore::the dump does not restore:"),
        "{}",
        result.stdout
    );

    std::fs::write(&file, &good[..good.len() * 2 / 3]).unwrap();
    let result = run();
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert_eq!(result.outputs["drill"], "failed");
}

#[test]
fn a_dump_the_source_moved_on_from_is_held_to_the_tolerance() {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, "CREATE TABLE t (id serial PRIMARY KEY, v int); INSERT INTO t (v) SELECT generate_series(1, 1000);").unwrap();
    let (dir, _file) = dumped(&db.url);
    pg::execute_blocking(&db.url, "DELETE FROM t WHERE id <= 5").unwrap();
    let run = |tolerance: &str| {
        drill_step(&db.url)
            .input("backup-dir", &dir.path().display().to_string())
            .input("drill-from", "backup-dir")
            .input("scratch-database-url", &pg::server().admin_url)
            .input("tolerance", tolerance)
            .run(EXE, &[])
    };
    let result = run("0");
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("row counts::1 table(s) differ: public.t (995 → 1000)"),
        "{}",
        result.stdout
    );
    assert!(
        result
            .stdout
            .contains("checksums::the sampled rows of 1 table(s) differ"),
        "{}",
        result.stdout
    );
    let result = run("1%");
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result.summary.contains("within `tolerance`"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("the source is live"),
        "{}",
        result.summary
    );
}

#[test]
fn a_sequence_behind_its_column_fails() {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, "CREATE TABLE t (id serial PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100); SELECT setval('t_id_seq', 10);").unwrap();
    let result = drill_step(&db.url)
        .input("scratch-database-url", &pg::server().admin_url)
        .input("backup-dir", &tempdir_with_dump())
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("sequences::1 behind (the next insert collides): public.t_id_seq at 10 but max(public.t.id) = 100"),
        "{}",
        result.stdout
    );
}

fn tempdir_with_dump() -> String {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(dir.join("fresh.dump"), "PGDMP").unwrap();
    dir.display().to_string()
}

#[test]
fn supabase_roles_come_first_on_a_throwaway_cluster() {
    let db = pg::fresh_database();
    pg::execute_blocking(&db.url, shipline_pg::shim::SQL).unwrap();
    pg::execute_blocking(
        &db.url,
        "CREATE TABLE public.profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), name text); \
         ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY own ON public.profiles TO authenticated USING (id = auth.uid()); \
         INSERT INTO auth.users (id, email) VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com'); \
         INSERT INTO public.profiles VALUES ('00000000-0000-0000-0000-000000000001', 'A');",
    )
    .unwrap();
    // No scratch server given: the binary starts (and removes) a cluster of its own.
    let run = |shim: &str| {
        drill_step(&db.url)
            .input("backup-dir", &tempdir_with_dump())
            .input("supabase-shim", shim)
            .run(EXE, &[])
    };
    let result = run("true");
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .summary
            .contains("on a throwaway cluster (dropped after the drill)"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("| auth.users | 1 | 1 |"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("| public.profiles | 1 | 1 |"),
        "{}",
        result.summary
    );
    let result = run("false");
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("role \\\"authenticated\\\" does not exist")
            || result
                .stdout
                .contains("role \"authenticated\" does not exist"),
        "{}",
        result.stdout
    );
}

#[test]
fn a_dump_from_a_newer_pg_dump_says_what_to_install() {
    let db = pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let mut header = b"PGDMP\x01\x63\x00\x04\x08\x08\x01".to_vec();
    header.resize(4096, 0);
    std::fs::write(dir.path().join("from-pg99.dump"), header).unwrap();
    let result = drill_step(&db.url)
        .input("backup-dir", &dir.path().display().to_string())
        .input("drill-from", "backup-dir")
        .input("scratch-database-url", &pg::server().admin_url)
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("unsupported version (1.99) in file header"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("written by a newer pg_dump"),
        "{}",
        result.stdout
    );
}

//! `provider: postgres`: WAL archiving on a real cluster, dump files in a folder, and a
//! bucket listing served over loopback.

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use shipline_pg::cluster::Cluster;
use shipline_pg::tools::PgTools;
use shipline_testkit::pg;

use crate::{EXE, schedule};

fn wait_for(url: &str, sql: &str) {
    for _ in 0..100 {
        if pg::query_blocking(url, sql)
            .unwrap()
            .first()
            .cloned()
            .flatten()
            .as_deref()
            == Some("t")
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for `{sql}`");
}

#[test]
fn wal_archiving_healthy_then_broken() {
    let tools = PgTools::find(pg::server().bin_dir.as_deref()).unwrap();
    // A cluster of its own: `archive_mode` needs a restart, so it is set at start.
    let cluster =
        Cluster::start(&tools, &[("wal_level", "replica"), ("archive_mode", "on")]).unwrap();
    let url = cluster.url.expose().to_string();
    let archive = cluster.dir().join("archive");
    let set = |command: &str| {
        // One statement per call: ALTER SYSTEM refuses to run inside a transaction block.
        pg::execute_blocking(
            &url,
            &format!("ALTER SYSTEM SET archive_command = '{command}'"),
        )
        .unwrap();
        pg::execute_blocking(&url, "SELECT pg_reload_conf()").unwrap();
    };
    set(&format!(
        "mkdir -p {a} && test ! -f {a}/%f && cp %p {a}/%f",
        a = archive.display()
    ));
    pg::execute_blocking(
        &url,
        "CREATE TABLE t AS SELECT generate_series(1, 1000) i; SELECT pg_switch_wal();",
    )
    .unwrap();
    wait_for(&url, "SELECT archived_count > 0 FROM pg_stat_archiver");
    assert!(
        archive.read_dir().unwrap().next().is_some(),
        "a segment was copied"
    );

    let run = || {
        schedule()
            .input("provider", "postgres")
            .input("database-url", &url)
            .run(EXE, &[])
    };
    let result = run();
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["pitr-enabled"], "true");
    assert!(!result.outputs["latest-backup-at"].is_empty());
    assert!(
        result.summary.contains("`archive_mode = on`"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("no failure since the last success"),
        "{}",
        result.summary
    );

    // The archive breaks: every attempt fails from now on.
    set("false");
    std::thread::sleep(Duration::from_millis(300));
    pg::execute_blocking(
        &url,
        "INSERT INTO t SELECT generate_series(1, 1000); SELECT pg_switch_wal();",
    )
    .unwrap();
    wait_for(&url, "SELECT failed_count > 0 FROM pg_stat_archiver");
    let result = run();
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::error title=backup-check%3A archiver::archiving is failing:"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("the last success at"),
        "{}",
        result.stdout
    );
}

#[test]
fn archiving_off_fails_when_pitr_is_required() {
    let db = pg::fresh_database();
    let result = schedule()
        .input("provider", "postgres")
        .input("database-url", &db.url)
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("WAL archiving::`archive_mode` is off"),
        "{}",
        result.stdout
    );
    assert_eq!(result.outputs["pitr-enabled"], "false");
    // Not required, and nothing else to check: still not proven.
    let result = schedule()
        .input("provider", "postgres")
        .input("database-url", &db.url)
        .input("require-pitr", "false")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("backups::none to check"),
        "{}",
        result.stdout
    );
}

fn set_age(path: &std::path::Path, hours: u64) {
    let when = SystemTime::now() - Duration::from_secs(hours * 3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn the_newest_dump_file_must_be_fresh_and_not_empty() {
    let db = pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        schedule()
            .input("provider", "postgres")
            .input("database-url", &db.url)
            .input("require-pitr", "false")
            .input("backup-dir", &dir.path().display().to_string())
            .run(EXE, &[])
    };
    let result = run();
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("::no dump found"),
        "{}",
        result.stdout
    );

    std::fs::write(dir.path().join("notes.txt"), "not a dump").unwrap();
    std::fs::write(dir.path().join("app-2026-11-30.dump"), "PGDMP old").unwrap();
    set_age(&dir.path().join("app-2026-11-30.dump"), 72);
    std::fs::write(dir.path().join("app-2026-12-02.dump"), "PGDMP newer").unwrap();
    set_age(&dir.path().join("app-2026-12-02.dump"), 30);
    let result = run();
    assert_eq!(result.code, Some(1));
    assert!(
        result.stdout.contains("too old: `app-2026-12-02.dump` at")
            && result.stdout.contains("(30.0 h old, 11 bytes"),
        "{}",
        result.stdout
    );
    assert_eq!(result.outputs["age-hours"], "30.0");

    std::fs::write(dir.path().join("app-2026-12-03.dump"), "").unwrap();
    let result = run();
    assert_eq!(result.code, Some(1));
    assert!(
        result
            .stdout
            .contains("`app-2026-12-03.dump`, is empty (0 bytes)"),
        "{}",
        result.stdout
    );

    std::fs::write(dir.path().join("app-2026-12-03.dump"), "PGDMP fresh").unwrap();
    let result = run();
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["age-hours"], "0.0");
}

#[test]
fn a_bucket_listing_is_read_across_pages() {
    let now = shipline_core::time::now_secs();
    let listing = move |Query(q): Query<std::collections::BTreeMap<String, String>>| async move {
        let iso = |h: u64| shipline_core::time::rfc3339(now - h * 3600);
        let body = if q.get("continuation-token").map(String::as_str) == Some("page/2") {
            format!(
                "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>db/newest.dump</Key><LastModified>{}</LastModified><Size>2048</Size></Contents></ListBucketResult>",
                iso(3)
            )
        } else {
            format!(
                "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>page/2</NextContinuationToken><Contents><Key>db/</Key><LastModified>{}</LastModified><Size>0</Size></Contents><Contents><Key>db/old.dump</Key><LastModified>{}</LastModified><Size>1024</Size></Contents></ListBucketResult>",
                iso(1),
                iso(50)
            )
        };
        ([("content-type", "application/xml")], body)
    };
    let bucket = shipline_testkit::Fake::start("s3", Router::new().route("/backups", get(listing)));
    let db = pg::fresh_database();
    let result = schedule()
        .input("provider", "postgres")
        .input("database-url", &db.url)
        .input("require-pitr", "false")
        .input(
            "backup-url",
            &format!("{}/backups?list-type=2&prefix=db/", bucket.url()),
        )
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(result.outputs["age-hours"], "3.0");
    assert!(
        result.summary.contains("`db/newest.dump`"),
        "{}",
        result.summary
    );
    let requests = bucket.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].query_param("continuation-token").as_deref(),
        Some("page/2")
    );
    assert_eq!(requests[1].query_param("prefix").as_deref(), Some("db/"));
}

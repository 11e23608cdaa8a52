//! `with-migrations` on a real PostgreSQL: the schema goes down to the release's version
//! before production moves, and not at all when a down script is missing.

use std::path::{Path, PathBuf};

use shipline_testkit::pg;

use crate::common::run;
use crate::fs::{fs_step, releases};

const V1: &str = "20260101000000";
const V2: &str = "20260102000000";
const V3: &str = "20260103000000";

fn migrations(workspace: &Path, with_last_down: bool) -> PathBuf {
    let dir = workspace.join("supabase/migrations");
    std::fs::create_dir_all(dir.join("down")).unwrap();
    for (version, name, up, down) in [
        (
            V1,
            "profiles",
            "create table profiles (id bigint primary key);",
            "drop table profiles;",
        ),
        (
            V2,
            "orders",
            "create table orders (id bigint primary key);",
            "drop table orders;",
        ),
        (
            V3,
            "orders_total",
            "alter table orders add column total numeric;",
            "alter table orders drop column total;",
        ),
    ] {
        let file = format!("{version}_{name}.sql");
        std::fs::write(dir.join(&file), up).unwrap();
        if version != V3 || with_last_down {
            std::fs::write(dir.join("down").join(&file), down).unwrap();
        }
    }
    dir
}

fn apply_all(url: &str, dir: &Path) {
    let url = shipline_core::SafeUrl::parse(url).unwrap();
    let target = shipline_pg::Target::parse(&url).unwrap();
    let source = shipline_pg::Source::read(dir).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let engine = shipline_pg::Engine::connect(target, shipline_pg::Options::default())
            .await
            .unwrap();
        engine.up(&source, None, false).await.unwrap();
    });
}

fn versions(url: &str) -> Vec<Option<String>> {
    pg::query_blocking(
        url,
        "select version from supabase_migrations.schema_migrations order by version",
    )
    .unwrap()
}

#[test]
fn the_schema_goes_down_to_the_releases_version_first() {
    let db = pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (target, records, _) = releases(dir.path(), &["v1", "v2"], &[Some(V1), Some(V3)]);
    let step = fs_step(&target, &records)
        .input("with-migrations", "true")
        .input("database-url", &db.url);
    let folder = migrations(&step.workspace(), true);
    apply_all(&db.url, &folder);
    assert_eq!(versions(&db.url).len(), 3);

    // The dry run shows the down scripts and runs none.
    let dry = step.run(crate::common::EXE, &["--dry-run", "true"]);
    assert_eq!(dry.code, Some(0), "{}", dry.everything());
    assert!(
        dry.summary.contains(&format!(
            "down from {V3} to {V1}: down/{V3}_orders_total.sql, down/{V2}_orders.sql"
        )),
        "{}",
        dry.summary
    );
    assert_eq!(versions(&db.url).len(), 3);

    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(versions(&db.url), [Some(V1.to_owned())]);
    let orders = pg::query_blocking(&db.url, "select to_regclass('public.orders')::text").unwrap();
    assert_eq!(orders, [None], "the orders table went with its migration");
    assert_eq!(result.outputs["migration-version"], V1);
    assert!(
        result.summary.contains(&format!("{V3}, {V2}")),
        "the summary says exactly what was reverted: {}",
        result.summary
    );
    assert_eq!(
        std::fs::read_link(target.join("current")).unwrap(),
        PathBuf::from("releases/release0")
    );
}

#[test]
fn a_missing_down_script_refuses_before_anything_changes() {
    let db = pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (target, records, ids) = releases(dir.path(), &["v1", "v2"], &[Some(V1), Some(V3)]);
    let step = fs_step(&target, &records)
        .input("with-migrations", "true")
        .input("database-url", &db.url);
    let folder = migrations(&step.workspace(), false);
    apply_all(&db.url, &folder);
    let before = std::fs::read_to_string(&ids[1].0).unwrap();

    let result = run(&step);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains(&format!("`down/{V3}_orders_total.sql`"))
            && result.stdout.contains("nothing was reverted"),
        "{}",
        result.stdout
    );
    assert_eq!(versions(&db.url).len(), 3);
    assert_eq!(
        std::fs::read_link(target.join("current")).unwrap(),
        PathBuf::from("releases/release1"),
        "production did not move"
    );
    assert_eq!(std::fs::read_to_string(&ids[1].0).unwrap(), before);
}

#[test]
fn a_release_at_the_databases_version_leaves_it_alone() {
    let db = pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let (target, records, _) = releases(dir.path(), &["v1", "v2"], &[Some(V3), Some(V3)]);
    let step = fs_step(&target, &records)
        .input("with-migrations", "true")
        .input("database-url", &db.url);
    let folder = migrations(&step.workspace(), false);
    apply_all(&db.url, &folder);
    let result = run(&step);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(versions(&db.url).len(), 3);
    assert!(result.summary.contains("left alone"), "{}", result.summary);
    assert_eq!(result.outputs["migration-version"], V3);
}

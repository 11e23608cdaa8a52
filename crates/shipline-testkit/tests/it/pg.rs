//! The PostgreSQL harness: real server, fresh databases, nothing left behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shipline_testkit::pg;

#[test]
fn each_test_gets_a_fresh_database_on_a_real_server() {
    let a = pg::fresh_database();
    let b = pg::fresh_database();
    assert_ne!(a.name, b.name);
    pg::execute_blocking(
        &a.url,
        "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);",
    )
    .unwrap();
    assert_eq!(
        pg::query_blocking(&a.url, "SELECT count(*) FROM t").unwrap(),
        [Some("2".into())]
    );
    let err = pg::query_blocking(&b.url, "SELECT count(*) FROM t").unwrap_err();
    assert!(err.contains("does not exist"), "{err}");
    let version = pg::query_blocking(&a.url, "SHOW server_version_num").unwrap();
    assert!(version[0].as_deref().unwrap() >= "150000");
    if std::env::var("TEST_DATABASE_URL").is_err() {
        let fsync = pg::query_blocking(&a.url, "SHOW fsync").unwrap();
        assert_eq!(fsync, [Some("off".into())]);
    }
}

/// Run by the test below, in a child process it then kills.
#[test]
#[ignore = "helper: started by `a_killed_test_process_leaves_no_cluster_behind`"]
fn helper_start_cluster_and_wait() {
    let server = pg::server();
    println!("DATA_DIR={}", server.data_dir.as_ref().unwrap().display());
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_test_process_leaves_no_cluster_behind() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return; // no cluster of ours to clean up
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pg::helper_start_cluster_and_wait",
            "--ignored",
            "--nocapture",
        ])
        .env_remove("TEST_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut data_dir = None;
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0 {
        if let Some(dir) = line.trim().strip_prefix("DATA_DIR=") {
            data_dir = Some(std::path::PathBuf::from(dir));
            break;
        }
        line.clear();
    }
    let data_dir = data_dir.expect("the helper printed its cluster directory");
    assert!(
        data_dir.join("data/postmaster.pid").exists(),
        "the cluster runs"
    );
    child.kill().unwrap(); // SIGKILL: no destructor, no atexit
    child.wait().unwrap();
    let deadline = Instant::now() + pg::WATCHDOG_GRACE;
    while data_dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !data_dir.exists(),
        "the watchdog stopped the cluster and removed {}",
        data_dir.display()
    );
}

//! A real PostgreSQL for tests.
//!
//! With `TEST_DATABASE_URL` set, that server is used. Otherwise a throwaway cluster is made
//! with `initdb` and started with `pg_ctl` (as the `postgres` user when running as root,
//! since `initdb` refuses root) on a free loopback port with `fsync=off`, once per test
//! process. A watchdog in its own session stops the cluster and deletes its directory when
//! the test process ends, however it ends (nextest runs each test in its own process, and
//! may kill it). Each test gets a fresh database of its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The server every test of this process uses.
#[derive(Debug)]
pub struct Server {
    /// A superuser URL to the `postgres` database.
    pub admin_url: String,
    /// The throwaway cluster's directory, when this process started one.
    pub data_dir: Option<PathBuf>,
    /// The PostgreSQL binaries' folder, when known (for `pg_dump` and friends).
    pub bin_dir: Option<PathBuf>,
}

/// A database made for one test.
#[derive(Debug)]
pub struct TestDb {
    pub name: String,
    /// Superuser URL to this database.
    pub url: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The server, started on first use.
pub fn server() -> &'static Server {
    match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// A new, empty database on the test server.
pub fn fresh_database() -> TestDb {
    let server = server();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let name = format!("shipline_test_{}_{n}", std::process::id());
    let admin = server.admin_url.clone();
    let sql = format!("CREATE DATABASE {name}");
    // On a thread of its own: callers may be inside a tokio runtime already.
    std::thread::spawn(move || block_on(execute(&admin, &sql)))
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("could not create a test database: {e}"));
    let url = with_database(&server.admin_url, &name);
    TestDb { name, url }
}

/// Runs SQL on `url` (simple protocol, several statements allowed) from sync code.
pub fn execute_blocking(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || block_on(execute(&url, &sql)))
        .join()
        .unwrap()
}

/// The first column of every row of `sql`, as text, from sync code.
pub fn query_blocking(url: &str, sql: &str) -> Result<Vec<Option<String>>, String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        block_on(async move {
            let client = connect(&url).await?;
            let messages = client.simple_query(&sql).await.map_err(|e| pg_error(&e))?;
            Ok(messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => {
                        Some(row.get(0).map(str::to_owned))
                    }
                    _ => None,
                })
                .collect())
        })
    })
    .join()
    .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn execute(url: &str, sql: &str) -> Result<(), String> {
    let client = connect(url).await?;
    client.batch_execute(sql).await.map_err(|e| pg_error(&e))
}

/// The server's own words (`relation "t" does not exist`), not tokio-postgres's "db error".
fn pg_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn start() -> Result<Server, String> {
    if let Some(url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Ok(Server {
            admin_url: url,
            data_dir: None,
            bin_dir: find_bin_dir(),
        });
    }
    let bin_dir = find_bin_dir().ok_or_else(|| {
        "no PostgreSQL server binaries (`initdb`, `pg_ctl`) found on PATH or in /usr/lib/postgresql/*/bin: \
         install them (Debian: `apt-get install postgresql`), or set TEST_DATABASE_URL to a server the tests may create databases on"
            .to_owned()
    })?;
    let root = is_root();
    let data_dir =
        std::env::temp_dir().join(format!("shipline-pg-{}-{}", std::process::id(), nanos()));
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    if root {
        let (uid, gid) = postgres_ids()?;
        std::os::unix::fs::chown(&data_dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown: {e}"))?;
    }
    let pgdata = data_dir.join("data");
    let socket_dir = data_dir.clone();
    run_pg(
        root,
        bin_dir.join("initdb"),
        &[
            "-D",
            path(&pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    )?;
    // The watchdog first: from here on, this process dying must not leave a server behind.
    spawn_watchdog(root, &bin_dir, &data_dir)?;
    let port = free_port()?;
    let mut options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        path(&socket_dir)
    );
    // TLS with a self-signed certificate, so `sslmode` can be tested; clients that do not
    // ask for TLS are unaffected.
    if let Some((cert, key)) = self_signed(&pgdata, root) {
        options.push_str(&format!(
            " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            path(&cert),
            path(&key)
        ));
    }
    let log = data_dir.join("server.log");
    run_pg(
        root,
        bin_dir.join("pg_ctl"),
        &[
            "-D",
            path(&pgdata),
            "-l",
            path(&log),
            "-o",
            &options,
            "-w",
            "-t",
            "60",
            "start",
        ],
    )
    .map_err(|e| format!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()))?;
    Ok(Server {
        admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        data_dir: Some(data_dir),
        bin_dir: Some(bin_dir),
    })
}

/// A self-signed certificate for `localhost`/`127.0.0.1` in the data directory, owned by the
/// server's user, or `None` when `openssl` is not installed (TLS tests then fail plainly).
fn self_signed(pgdata: &Path, root: bool) -> Option<(PathBuf, PathBuf)> {
    let (cert, key) = (pgdata.join("server.crt"), pgdata.join("server.key"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).ok()?;
    if root {
        let (uid, gid) = postgres_ids().ok()?;
        std::os::unix::fs::chown(&key, Some(uid), Some(gid)).ok()?;
        std::os::unix::fs::chown(&cert, Some(uid), Some(gid)).ok()?;
    }
    Some((cert, key))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn is_root() -> bool {
    shipline_pg::cluster::is_root()
}

fn postgres_ids() -> Result<(u32, u32), String> {
    shipline_pg::cluster::postgres_ids().map_err(|e| e.to_string())
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some(newest) = versions.pop() {
        return Some(newest);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn run_pg(root: bool, program: PathBuf, args: &[&str]) -> Result<(), String> {
    let mut command = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&program);
        c
    } else {
        Command::new(&program)
    };
    let out = command
        .args(args)
        .current_dir("/")
        .output()
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn spawn_watchdog(root: bool, bin_dir: &Path, data_dir: &Path) -> Result<(), String> {
    let pg_ctl = bin_dir.join("pg_ctl");
    let stop = format!(
        "{}{} -D {}/data stop -m immediate",
        if root { "runuser -u postgres -- " } else { "" },
        pg_ctl.display(),
        data_dir.display()
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.3; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = data_dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("could not start the cluster watchdog (`setsid`): {e}"))
}

fn free_port() -> Result<u16, String> {
    shipline_pg::cluster::free_port().map_err(|e| e.to_string())
}

/// How long a test may wait for the watchdog to clean up after a killed process.
pub const WATCHDOG_GRACE: Duration = Duration::from_secs(20);

//! `bench --peers`, migrations: 200 small files (table + index + insert) applied to a fresh
//! database by `shipline-migrate up`, `supabase db push` and `dbmate up`, on the same
//! throwaway server, and a no-op `up` when nothing is pending.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FILES: usize = 200;
const RUNS: usize = 3;

fn sql(i: usize) -> String {
    format!(
        "create table public.t{i} (id int primary key, v text);\ncreate index t{i}_v on public.t{i} (v);\ninsert into public.t{i} values (1, 'x');\n"
    )
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn timed(command: &mut Command) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = command.output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(elapsed)
}

/// Returns the Markdown section.
pub fn run(bins: &Path, work: &Path) -> anyhow::Result<String> {
    let root = crate::root();
    let supabase = root.join("tools/peers/node_modules/.bin/supabase");
    let dbmate = root.join("tools/peers/node_modules/.bin/dbmate");
    anyhow::ensure!(
        supabase.exists() && dbmate.exists(),
        "the peers are not installed: `npm install --prefix tools/peers`"
    );
    let project = work.join("migrate-project");
    let supa_dir = project.join("supabase/migrations");
    let dbmate_dir = project.join("db/migrations");
    std::fs::create_dir_all(&supa_dir)?;
    std::fs::create_dir_all(&dbmate_dir)?;
    for i in 0..FILES {
        let version = 20_240_101_000_000u64 + i as u64;
        std::fs::write(supa_dir.join(format!("{version}_t{i}.sql")), sql(i))?;
        std::fs::write(
            dbmate_dir.join(format!("{version}_t{i}.sql")),
            format!(
                "-- migrate:up\n{}\n-- migrate:down\ndrop table public.t{i};\n",
                sql(i)
            ),
        )?;
    }
    let fresh = || -> String {
        format!(
            "{}?sslmode=disable",
            shipline_testkit::pg::fresh_database().url.replacen(
                "postgres://postgres@",
                "postgres://postgres:bench@",
                1
            )
        )
    };
    let ours = |url: &str| {
        let mut c = Command::new(bins.join("shipline-migrate"));
        c.args(["--command", "up", "--database-url", url, "--directory"])
            .arg(&supa_dir)
            .env_remove("GITHUB_ACTIONS");
        c
    };
    let theirs = |url: &str| {
        let mut c = Command::new(&supabase);
        c.args([
            "db",
            "push",
            "--db-url",
            url,
            "--include-all",
            "--yes",
            "--agent",
            "no",
        ])
        .current_dir(&project)
        .env("SUPABASE_TELEMETRY_DISABLED", "1")
        .env("DO_NOT_TRACK", "1");
        c
    };
    let dbm = |url: &str| {
        let mut c = Command::new(&dbmate);
        c.args(["--no-dump-schema", "--migrations-dir"])
            .arg(&dbmate_dir)
            .arg("up")
            .env("DATABASE_URL", url);
        c
    };
    let mut rows = Vec::new();
    let mut apply = Vec::new();
    let mut noop = Vec::new();
    for (name, make) in [
        ("shipline-migrate up", &ours as &dyn Fn(&str) -> Command),
        ("supabase db push (2.117.0)", &theirs),
        ("dbmate up (2.36.0)", &dbm),
    ] {
        println!("    {name}");
        let mut applies = Vec::new();
        let mut noops = Vec::new();
        for _ in 0..RUNS {
            let url = fresh();
            applies.push(timed(&mut make(&url))?);
            for _ in 0..3 {
                noops.push(timed(&mut make(&url))?);
            }
        }
        apply.push(median(applies));
        noop.push(median(noops));
        rows.push(name);
    }
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let mut md = format!(
        "## Migrations\n\n{FILES} files (table + index + insert), each run on a fresh database of the same throwaway server (`fsync=off`), loopback; medians of {RUNS} applies and {} no-op runs. Ratios are against shipline in the same run.\n\n| tool | apply {FILES} | ratio | no-op `up` | ratio |\n|---|---|---|---|---|\n",
        RUNS * 3
    );
    for (i, name) in rows.iter().enumerate() {
        md.push_str(&format!(
            "| {name} | {} | {:.1}× | {} | {:.1}× |\n",
            ms(apply[i]),
            apply[i].as_secs_f64() / apply[0].as_secs_f64(),
            ms(noop[i]),
            noop[i].as_secs_f64() / noop[0].as_secs_f64()
        ));
    }
    let loopback: Vec<(String, Duration)> = rows
        .iter()
        .map(|n| n.to_string())
        .zip(apply.iter().copied())
        .collect();
    md.push_str(&with_latency(bins, work, &loopback)?);
    md.push_str(&format!("\nAims (issue #3): at least 3× faster than both peers on the {FILES}, one round trip per file, and a no-op `up` under 50 ms including connect: shipline's no-op is {}.\n", ms(noop[0])));
    Ok(md)
}

/// A loopback TCP proxy that delays every chunk by `one_way` in each direction, so a round
/// trip costs `2 × one_way`: what a runner far from its database sees.
pub struct LatencyProxy {
    pub port: u16,
    _thread: std::thread::JoinHandle<()>,
}

impl LatencyProxy {
    pub fn start(
        upstream: std::net::SocketAddr,
        one_way: Duration,
    ) -> anyhow::Result<LatencyProxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let thread = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(async move {
                        let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::join!(delayed_copy(cr, sw, one_way), delayed_copy(sr, cw, one_way));
                    });
                }
            });
        });
        Ok(LatencyProxy {
            port,
            _thread: thread,
        })
    }
}

/// Copies chunks in order, each delivered `delay` after it was read (reads go on meanwhile).
async fn delayed_copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

/// The same 200 files through the proxy: time per tool, and round trips per file derived from
/// how much slower each got than on loopback.
pub fn with_latency(
    bins: &Path,
    work: &Path,
    loopback: &[(String, Duration)],
) -> anyhow::Result<String> {
    let one_way = Duration::from_millis(5);
    let server = shipline_testkit::pg::server();
    let admin = url::Url::parse(&server.admin_url)?;
    let upstream: std::net::SocketAddr =
        format!("127.0.0.1:{}", admin.port().unwrap_or(5432)).parse()?;
    let proxy = LatencyProxy::start(upstream, one_way)?;
    let project = work.join("migrate-project");
    let fresh = || -> String {
        let db = shipline_testkit::pg::fresh_database();
        format!(
            "postgres://postgres:bench@127.0.0.1:{}/{}?sslmode=disable",
            proxy.port, db.name
        )
    };
    let root = crate::root();
    let supabase = root.join("tools/peers/node_modules/.bin/supabase");
    let dbmate = root.join("tools/peers/node_modules/.bin/dbmate");
    let mut md = format!(
        "\n### Through a {} ms round trip\n\nA loopback proxy delays each direction by {} ms. One apply of the {FILES} per tool; round trips per file = (time through the proxy − loopback time) / ({FILES} × round trip).\n\n| tool | apply {FILES} | ratio | round trips per file |\n|---|---|---|---|\n",
        one_way.as_millis() * 2,
        one_way.as_millis()
    );
    let mut times = Vec::new();
    for (name, _) in loopback {
        let url = fresh();
        let mut command = if name.starts_with("shipline") {
            let mut c = Command::new(bins.join("shipline-migrate"));
            c.args(["--command", "up", "--database-url", &url, "--directory"])
                .arg(project.join("supabase/migrations"))
                .env_remove("GITHUB_ACTIONS");
            c
        } else if name.starts_with("supabase") {
            let mut c = Command::new(&supabase);
            c.args([
                "db",
                "push",
                "--db-url",
                &url,
                "--include-all",
                "--yes",
                "--agent",
                "no",
            ])
            .current_dir(&project)
            .env("SUPABASE_TELEMETRY_DISABLED", "1")
            .env("DO_NOT_TRACK", "1");
            c
        } else {
            let mut c = Command::new(&dbmate);
            c.args(["--no-dump-schema", "--migrations-dir"])
                .arg(project.join("db/migrations"))
                .arg("up")
                .env("DATABASE_URL", &url);
            c
        };
        println!("    {name} through the proxy");
        times.push(timed(&mut command)?);
    }
    let rtt = (one_way * 2).as_secs_f64();
    for (i, (name, base)) in loopback.iter().enumerate() {
        let per_file = (times[i].as_secs_f64() - base.as_secs_f64()) / (FILES as f64 * rtt);
        md.push_str(&format!(
            "| {name} | {:.1} s | {:.1}× | {per_file:.1} |\n",
            times[i].as_secs_f64(),
            times[i].as_secs_f64() / times[0].as_secs_f64()
        ));
    }
    Ok(md)
}

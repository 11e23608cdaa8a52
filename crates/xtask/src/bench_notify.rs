//! Notify benchmark (issue #6): the sticky comment and a five-target run against the fakes,
//! 50 ms added to every request. Requests are counted, and the binary's wall time is set
//! against the floor: the longest chain of calls that must wait for each other × the latency.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use shipline_testkit::fakes::{github, sentry, slack, webhook};

const LATENCY_MS: u64 = 50;
const RUNS: usize = 5;
const GH_TOKEN: &str = "bench-github-token";

struct Fakes {
    gh: github::GitHub,
    slack: slack::Slack,
    hook: webhook::Webhook,
    sentry: sentry::Sentry,
}

fn fakes(other_comments: usize) -> Fakes {
    let f = Fakes {
        gh: github::start(GH_TOKEN),
        slack: slack::start("xoxb-bench"),
        hook: webhook::start(),
        sentry: sentry::start("bench-sentry", "acme"),
    };
    for n in 0..other_comments {
        f.gh.state()
            .add_comment_by(42, "reviewer", &format!("comment {n}"));
    }
    let latency = Duration::from_millis(LATENCY_MS);
    f.gh.set_latency(latency);
    f.slack.set_latency(latency);
    f.hook.set_latency(latency);
    f.sentry.set_latency(latency);
    f
}

fn notify(exe: &Path, work: &Path, f: &Fakes, args: &[&str]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = Command::new(exe)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("GITHUB_API_URL", f.gh.base_url())
        .env("GITHUB_REPOSITORY", "acme/webapp")
        .env("GITHUB_SHA", "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
        .env("GITHUB_WORKFLOW", "ship")
        .env("GITHUB_JOB", "deploy")
        .env("SLACK_API_URL", f.slack.base_url())
        .env("SENTRY_URL", f.sentry.fake.url())
        .current_dir(work)
        .args(["--github-token", GH_TOKEN, "--pr-number", "42"])
        .args(["--title", "Deploy acme/webapp", "--url", "https://acme.dev"])
        .args(args)
        .output()?;
    let wall = started.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "notify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(wall)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn requests(f: &Fakes) -> usize {
    f.gh.requests().len()
        + f.slack.requests().len()
        + f.hook.requests().len()
        + f.sentry.requests().len()
}

pub fn run(bins: &Path, work: &Path) -> anyhow::Result<String> {
    let exe = bins.join("shipline-notify");
    let mut md = String::from("## Notify (issue #6)\n\n");
    let _ = writeln!(
        md,
        "The release binary against the fakes (GitHub, Slack, a webhook receiver, Sentry), {LATENCY_MS} ms added to every request, median of {RUNS} runs, each on fresh fakes. The floor is the longest chain of calls that must wait for each other × {LATENCY_MS} ms; \"one after another\" is every call of the run in sequence, what a workflow of one action per target pays (plus each action's own start-up).\n"
    );
    md.push_str("| run | requests | floor (chain) | one after another | wall | ratio to floor | ratio to one after another |\n|---|---|---|---|---|---|---|\n");
    let comment = ["--to", "github-comment"];
    let five = [
        "--to",
        "github-comment,slack,webhook,sentry",
        "--slack-channel",
        "C0DEPLOYS",
        "--slack-token",
        "xoxb-bench",
        "--sentry-token",
        "bench-sentry",
        "--sentry-org",
        "acme",
        "--sentry-project",
        "webapp",
    ];
    // (name, other comments on the PR, runs before the measured one, args, with a webhook)
    let scenarios: [(&str, usize, usize, &[&str], bool); 3] = [
        ("comment created (empty PR)", 0, 0, &comment, false),
        (
            "comment updated (300 other comments)",
            300,
            1,
            &comment,
            false,
        ),
        (
            "comment + Slack + webhook + Sentry at once",
            0,
            0,
            &five,
            true,
        ),
    ];
    for (name, others, before, args, with_hook) in scenarios {
        println!("    {name}");
        // The comment is the longest chain: viewer, every page of comments, the write.
        let chain = 1 + (others + before).div_ceil(100).max(1) + 1;
        let mut times = Vec::new();
        let mut made = 0;
        for _ in 0..RUNS {
            let f = fakes(others);
            let hook = format!("{}/hook/bench", f.hook.base_url());
            let mut all: Vec<&str> = args.to_vec();
            if with_hook {
                all.extend(["--webhook-url", &hook]);
            }
            for _ in 0..before {
                notify(&exe, work, &f, &all)?;
            }
            let seen = requests(&f);
            times.push(notify(&exe, work, &f, &all)?);
            made = requests(&f) - seen;
        }
        let wall = median(times);
        let floor = Duration::from_millis(chain as u64 * LATENCY_MS);
        let sequence = Duration::from_millis(made as u64 * LATENCY_MS);
        let _ = writeln!(
            md,
            "| {name} | {made} | {chain} calls, {} ms | {} ms | {} ms | {:.2}× | {:.2}× |",
            floor.as_millis(),
            sequence.as_millis(),
            wall.as_millis(),
            wall.as_secs_f64() / floor.as_secs_f64(),
            wall.as_secs_f64() / sequence.as_secs_f64()
        );
    }
    md.push_str("\nThe comment's chain is the token's login (GraphQL `viewer`), the pages of comments (100 each, following `Link`), then one `POST` or `PATCH`. The targets of one run go out at once, so four targets cost what the slowest one costs: Slack, the webhook and Sentry's two calls finish inside the comment's chain.\n\n");
    Ok(md)
}

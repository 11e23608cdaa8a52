//! `shipline-probe`: is the site up, and how fast does it answer?

use std::time::{Duration, Instant};

use clap::Parser;
use shipline_actions::{Annotation, Outcome, Report, Table};
use shipline_cli::{
    CommonArgs, Ctx, NotImplemented, Tool, nonempty, or_env, parse_choice, parse_duration_input,
    parse_list, parse_url, required,
};
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};
use shipline_http::{ClientOptions, HttpClient, Request, RetryPolicy};

/// Check that URLs answer as expected, fast enough; confirm failures before calling them.
#[derive(Debug, Parser)]
#[command(name = "shipline-probe", version)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The URL(s) to check, one per line or comma-separated.
    #[arg(long, env = "INPUT_URL")]
    pub url: Option<String>,

    /// Acceptable statuses: codes and classes, e.g. `200`, `200,301` or `2xx,3xx`.
    #[arg(long, env = "INPUT_EXPECT_STATUS", default_value = "2xx")]
    pub expect_status: String,

    /// Text the body must contain.
    #[arg(long, env = "INPUT_EXPECT_TEXT")]
    pub expect_text: Option<String>,

    /// Slower answers count as `degraded`, e.g. `800ms`.
    #[arg(long, env = "INPUT_MAX_LATENCY")]
    pub max_latency: Option<String>,

    /// Give up on one attempt after this long.
    #[arg(long, env = "INPUT_TIMEOUT", default_value = "10s")]
    pub timeout: String,

    /// Extra attempts that must also fail before a URL is called down.
    #[arg(long, env = "INPUT_RETRIES", default_value = "2")]
    pub retries: String,

    /// Wait between attempts.
    #[arg(long, env = "INPUT_RETRY_DELAY", default_value = "2s")]
    pub retry_delay: String,

    /// Warn when a TLS certificate expires within this many days.
    #[arg(long, env = "INPUT_CERT_MIN_DAYS", default_value = "14")]
    pub cert_min_days: String,

    /// Open and close an incident on failure and recovery: `github-issue`.
    #[arg(long, env = "INPUT_INCIDENT")]
    pub incident: Option<String>,

    /// Token for incident issues. Fallback: `GITHUB_TOKEN`.
    #[arg(long, env = "INPUT_GITHUB_TOKEN")]
    pub github_token: Option<String>,
}

/// One acceptable status: an exact code or a class (`2xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRule {
    Code(u16),
    Class(u16),
}

impl StatusRule {
    fn matches(self, status: u16) -> bool {
        match self {
            StatusRule::Code(code) => status == code,
            StatusRule::Class(class) => status / 100 == class,
        }
    }
}

fn parse_status_rules(value: &str) -> Result<Vec<StatusRule>, InputError> {
    let rules: Result<Vec<_>, _> = parse_list(value)
        .iter()
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            if let Some(class) = lower.strip_suffix("xx") {
                match class.parse::<u16>() {
                    Ok(c @ 1..=5) if class.len() == 1 => return Ok(StatusRule::Class(c)),
                    _ => {}
                }
            }
            match word.parse::<u16>() {
                Ok(code @ 100..=599) => Ok(StatusRule::Code(code)),
                _ => Err(InputError::new(
                    "expect-status",
                    format!(
                        "`{word}` is not a status; write codes or classes, e.g. `200,301` or `2xx`"
                    ),
                )),
            }
        })
        .collect();
    let rules = rules?;
    if rules.is_empty() {
        return Err(InputError::new(
            "expect-status",
            "is empty; write e.g. `2xx`",
        ));
    }
    Ok(rules)
}

/// A checked probe.
#[derive(Debug)]
pub struct Config {
    pub urls: Vec<SafeUrl>,
    pub expect_status: Vec<StatusRule>,
    pub expect_text: Option<String>,
    pub max_latency: Option<Duration>,
    pub timeout: Duration,
    pub retries: u32,
    pub retry_delay: Duration,
    pub cert_min_days: u32,
    pub incident: bool,
    pub github_token: Option<Secret>,
}

/// What one URL did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Up,
    Degraded,
    Down,
}

impl Health {
    fn word(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Degraded => "degraded",
            Health::Down => "down",
        }
    }
}

struct Checked {
    url: SafeUrl,
    health: Health,
    status: Option<u16>,
    latency: Duration,
    attempts: u32,
    note: String,
}

/// The `shipline-probe` binary.
pub struct Probe;

impl Tool for Probe {
    const BIN: &'static str = "shipline-probe";
    const ACTION: &'static str = "probe";
    const SECRET_INPUTS: &'static [&'static str] = &["github-token"];
    const SECRET_ENV: &'static [&'static str] = &[EnvVars::GITHUB_TOKEN];
    const OUTPUTS: &'static [(&'static str, &'static str)] = &[
        (
            "status",
            "`up`, `degraded` or `down`: the worst of all URLs.",
        ),
        (
            "latency-ms",
            "The slowest successful answer, in milliseconds.",
        ),
    ];

    type Args = Args;
    type Config = Config;

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn validate(args: Args, ctx: &Ctx) -> Result<Config, InputError> {
        let urls = parse_list(&required(args.url, "url", None)?)
            .iter()
            .map(|u| parse_url("url", u, &["https", "http"]))
            .collect::<Result<Vec<_>, _>>()?;
        let number = |input: &str, value: &str, max: u32| -> Result<u32, InputError> {
            match value.trim().parse::<u32>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(InputError::new(
                    input,
                    format!("`{value}` is not a whole number from 0 to {max}"),
                )),
            }
        };
        let incident = match nonempty(args.incident) {
            Some(v) => {
                parse_choice("incident", &v, &["github-issue"])?;
                true
            }
            None => false,
        };
        Ok(Config {
            urls,
            expect_status: parse_status_rules(&args.expect_status)?,
            expect_text: nonempty(args.expect_text),
            max_latency: nonempty(args.max_latency)
                .map(|v| parse_duration_input("max-latency", &v))
                .transpose()?,
            timeout: parse_duration_input("timeout", &args.timeout)?,
            retries: number("retries", &args.retries, 10)?,
            retry_delay: parse_duration_input("retry-delay", &args.retry_delay)?,
            cert_min_days: number("cert-min-days", &args.cert_min_days, 3650)?,
            incident,
            github_token: or_env(args.github_token, &ctx.env, EnvVars::GITHUB_TOKEN)
                .map(Secret::new),
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        if config.incident {
            return Err(NotImplemented {
                bin: Self::BIN,
                what: " input `incident`".into(),
                issue: 8,
            }
            .into());
        }
        let client = HttpClient::new(ClientOptions {
            connect_timeout: config.timeout,
            request_timeout: config.timeout,
            // The probe does its own confirmation attempts, with their own timing.
            retry: RetryPolicy::none(),
        })?;
        ctx.rt
            .group(&format!("probing {} URL(s)", config.urls.len()));
        let checks = config.urls.iter().map(|url| check(&client, url, &config));
        let results = futures_util::future::join_all(checks).await;
        ctx.rt.end_group();

        let worst = results.iter().map(|r| r.health).max().unwrap_or(Health::Up);
        let slowest = results
            .iter()
            .filter(|r| r.health != Health::Down)
            .map(|r| r.latency.as_millis())
            .max()
            .unwrap_or(0);
        let outcome = if worst == Health::Down {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        let down = results.iter().filter(|r| r.health == Health::Down).count();
        let title = match worst {
            Health::Up => format!("{} URL(s) up", results.len()),
            Health::Degraded => format!("{} URL(s) answering, some slowly", results.len()),
            Health::Down => format!("{down} of {} URL(s) down", results.len()),
        };
        let mut report = Report::new(Self::BIN, outcome, title)
            .field("status", worst.word())
            .field("slowest", format!("{slowest} ms"))
            .output("status", worst.word())
            .output("latency-ms", slowest.to_string());
        let mut rows = Vec::new();
        for r in &results {
            rows.push(vec![
                r.url.to_string(),
                r.health.word().to_owned(),
                r.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
                format!("{} ms", r.latency.as_millis()),
                r.attempts.to_string(),
                r.note.clone(),
            ]);
            match r.health {
                Health::Down => {
                    report = report.annotation(
                        Annotation::error(format!("{}: {}", r.url, r.note)).title("probe: down"),
                    )
                }
                Health::Degraded => {
                    report = report.annotation(
                        Annotation::warning(format!("{}: {}", r.url, r.note))
                            .title("probe: degraded"),
                    )
                }
                Health::Up => {}
            }
            if r.url.expose().scheme() == "https" {
                report = report.annotation(Annotation::notice(format!(
                    "{}: TLS certificate expiry (`cert-min-days: {}`) is not checked yet (tracked in issue #8)",
                    r.url, config.cert_min_days
                )));
            }
        }
        Ok(report.table(Table {
            title: "Checks".into(),
            headers: ["url", "status", "http", "latency", "attempts", "note"]
                .map(String::from)
                .into(),
            rows,
        }))
    }
}

/// One URL: attempts until one passes or `retries` more have failed.
async fn check(client: &HttpClient, url: &SafeUrl, config: &Config) -> Checked {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let started = Instant::now();
        let result = client.send(Request::get(url.clone())).await;
        let latency = started.elapsed();
        let (health, status, note) = match result {
            Err(error) => (Health::Down, None, error.to_string()),
            Ok(response) => {
                let status = response.status.as_u16();
                if !config.expect_status.iter().any(|rule| rule.matches(status)) {
                    (
                        Health::Down,
                        Some(status),
                        format!(
                            "answered {status}, expected `{}`",
                            describe(&config.expect_status)
                        ),
                    )
                } else if let Some(text) = config
                    .expect_text
                    .as_deref()
                    .filter(|t| !response.text().contains(t))
                {
                    (
                        Health::Down,
                        Some(status),
                        format!("the answer does not contain `{text}`"),
                    )
                } else if let Some(max) = config.max_latency.filter(|max| latency > *max) {
                    (
                        Health::Degraded,
                        Some(status),
                        format!(
                            "{} ms, slower than `max-latency` {} ms",
                            latency.as_millis(),
                            max.as_millis()
                        ),
                    )
                } else {
                    (Health::Up, Some(status), String::new())
                }
            }
        };
        if health != Health::Down || attempts > config.retries {
            return Checked {
                url: url.clone(),
                health,
                status,
                latency,
                attempts,
                note,
            };
        }
        tokio::time::sleep(config.retry_delay).await;
    }
}

fn describe(rules: &[StatusRule]) -> String {
    rules
        .iter()
        .map(|r| match r {
            StatusRule::Code(c) => c.to_string(),
            StatusRule::Class(c) => format!("{c}xx"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_rules() {
        assert_eq!(
            parse_status_rules("2xx, 301").unwrap(),
            [StatusRule::Class(2), StatusRule::Code(301)]
        );
        assert!(StatusRule::Class(2).matches(204) && !StatusRule::Class(2).matches(301));
        assert_eq!(parse_status_rules("ok").unwrap_err().input, "expect-status");
        assert!(parse_status_rules("6xx").is_err() && parse_status_rules("99").is_err());
    }
}

//! `shipline-probe`: is the site up, and how fast does it answer?

pub mod fetch;

use std::time::Duration;

use clap::Parser;
use shipline_actions::{Annotation, Outcome, Report, Table};
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_choice, parse_duration_input, parse_list,
    parse_url, required,
};
use shipline_core::{EnvVars, InputError, SafeUrl, Secret};
use shipline_http::HttpClient;
use shipline_notify::github::GitHub;
use shipline_notify::incident::{self, Incident};
use shipline_notify::notice::{MentionOn, Notice, Origin, Status};

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

    /// Text the body must not contain (an error page that answers 200).
    #[arg(long, env = "INPUT_FORBID_TEXT")]
    pub forbid_text: Option<String>,

    /// The HTTP method, e.g. `HEAD` or `POST` for an API health endpoint.
    #[arg(long, env = "INPUT_METHOD", default_value = "GET")]
    pub method: String,

    /// Request headers, one `Name: value` per line (e.g. Supabase's `apikey: …`).
    #[arg(long, env = "INPUT_HEADERS")]
    pub headers: Option<String>,

    /// A JSON request body (sent as `application/json` unless a header says otherwise).
    #[arg(long, env = "INPUT_BODY")]
    pub body: Option<String>,

    /// Redirects followed before giving up (a loop is caught earlier).
    #[arg(long, env = "INPUT_MAX_REDIRECTS", default_value = "5")]
    pub max_redirects: String,

    /// A PEM file of extra CA certificates to trust (an internal CA), beside the web PKI roots.
    #[arg(long, env = "INPUT_CA_CERT")]
    pub ca_cert: Option<String>,

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

    /// `degraded` when a TLS certificate expires within this many days; expired is `down`.
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
    pub forbid_text: Option<String>,
    pub request: fetch::RequestSpec,
    pub tls: fetch::Tls,
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
    timings: fetch::Timings,
    certificate: Option<fetch::Certificate>,
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
        (
            "issue-numbers",
            "With `incident`: the incident issues opened, commented on or closed, comma separated.",
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
        let github_token =
            or_env(args.github_token, &ctx.env, EnvVars::GITHUB_TOKEN).map(Secret::new);
        if incident {
            if github_token.is_none() {
                return Err(InputError::missing(
                    "github-token",
                    Some(EnvVars::GITHUB_TOKEN),
                ));
            }
            if ctx.github.owner_repo().is_none() {
                return Err(InputError::new(
                    EnvVars::GITHUB_REPOSITORY,
                    "must be `owner/repo` for `incident: github-issue` (the runner sets it)",
                ));
            }
        }
        let method = args.method.trim().to_ascii_uppercase();
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(InputError::new(
                "method",
                format!(
                    "`{}` is not an HTTP method, e.g. `GET` or `POST`",
                    args.method
                ),
            ));
        }
        let mut headers = Vec::new();
        for line in nonempty(args.headers).unwrap_or_default().lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| InputError::new("headers", "write one `Name: value` per line"))?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                return Err(InputError::new(
                    "headers",
                    format!("`{name}` is not a header name"),
                ));
            }
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let body = nonempty(args.body);
        if let Some(b) = &body {
            serde_json::from_str::<serde_json::Value>(b)
                .map_err(|e| InputError::new("body", format!("is not JSON: {e}")))?;
        }
        let timeout = parse_duration_input("timeout", &args.timeout)?;
        let extra_roots = match nonempty(args.ca_cert) {
            None => Vec::new(),
            Some(path) => {
                use rustls::pki_types::pem::PemObject;
                let certs: Result<Vec<_>, _> =
                    rustls::pki_types::CertificateDer::pem_file_iter(path.trim())
                        .map_err(|e| {
                            InputError::new("ca-cert", format!("`{path}` cannot be read: {e}"))
                        })?
                        .collect();
                let certs = certs.map_err(|e| {
                    InputError::new("ca-cert", format!("`{path}` is not PEM certificates: {e}"))
                })?;
                if certs.is_empty() {
                    return Err(InputError::new(
                        "ca-cert",
                        format!("`{path}` holds no certificate"),
                    ));
                }
                certs
            }
        };
        let tls = fetch::Tls::new(&extra_roots).map_err(|e| InputError::new("ca-cert", e))?;
        Ok(Config {
            urls,
            expect_status: parse_status_rules(&args.expect_status)?,
            expect_text: nonempty(args.expect_text),
            forbid_text: nonempty(args.forbid_text),
            request: fetch::RequestSpec {
                method,
                headers,
                body,
                timeout,
                max_redirects: number("max-redirects", &args.max_redirects, 30)?,
            },
            tls,
            max_latency: nonempty(args.max_latency)
                .map(|v| parse_duration_input("max-latency", &v))
                .transpose()?,
            timeout,
            retries: number("retries", &args.retries, 10)?,
            retry_delay: parse_duration_input("retry-delay", &args.retry_delay)?,
            cert_min_days: number("cert-min-days", &args.cert_min_days, 3650)?,
            incident,
            github_token,
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        let github = match (&config.incident, &config.github_token) {
            (true, Some(token)) => {
                Some(GitHub::for_run(ctx, token, &HttpClient::with_defaults()?)?)
            }
            _ => None,
        };
        ctx.rt
            .group(&format!("probing {} URL(s)", config.urls.len()));
        let checks = config.urls.iter().map(|url| check(url, &config));
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
        let mut timing_rows = Vec::new();
        let ms = |d: Duration| format!("{}", d.as_millis());
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
            timing_rows.push(vec![
                r.url.to_string(),
                ms(r.timings.dns),
                ms(r.timings.connect),
                r.timings.tls.map(ms).unwrap_or_else(|| "-".into()),
                ms(r.timings.ttfb),
                ms(r.timings.total),
                r.certificate
                    .as_ref()
                    .map(|c| format!("{} days", c.days_left(now())))
                    .unwrap_or_else(|| "-".into()),
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
        }
        if let Some(gh) = &github {
            let mut numbers = Vec::new();
            for r in &results {
                let notice = Notice {
                    status: if r.health == Health::Down {
                        Status::Failure
                    } else {
                        Status::Success
                    },
                    title: format!("{} is down", r.url),
                    message: (!r.note.is_empty()).then(|| r.note.clone()),
                    url: Some(r.url.to_string()),
                    environment: None,
                    migrations: None,
                    timings: None,
                    fields: r
                        .status
                        .map(|s| vec![("HTTP status".to_owned(), s.to_string())])
                        .unwrap_or_default(),
                    mention: None,
                    mention_on: MentionOn::Never,
                    origin: Origin::of_run(&ctx.github, ctx.github.sha.clone()),
                };
                match incident::report(gh, &incident_key(&r.url), &notice).await {
                    Ok(done) => {
                        if let Some(n) = done.number() {
                            numbers.push(n.to_string());
                        }
                        let what = match &done {
                            Incident::Opened { html_url, .. } => {
                                Some(format!("incident opened: {html_url}"))
                            }
                            Incident::Repeated { html_url, .. } => {
                                Some(format!("still down, commented on {html_url}"))
                            }
                            Incident::Closed {
                                html_url,
                                lasted_secs,
                                ..
                            } => Some(format!(
                                "back after {}: closed {html_url}",
                                shipline_core::duration::format_duration(Duration::from_secs(
                                    *lasted_secs
                                ))
                            )),
                            Incident::Nothing(_) => None,
                        };
                        if let Some(w) = what {
                            report = report.field(format!("incident ({})", r.url), w);
                        }
                    }
                    Err(e) => {
                        report = report.annotation(
                            Annotation::warning(format!(
                                "{}: the incident issue could not be updated: {e}",
                                r.url
                            ))
                            .title("probe: incident"),
                        );
                    }
                }
            }
            report = report.output("issue-numbers", numbers.join(","));
        }
        Ok(report
            .table(Table {
                title: "Checks".into(),
                headers: ["url", "status", "http", "latency", "attempts", "note"]
                    .map(String::from)
                    .into(),
                rows,
            })
            .table(Table {
                title: "Timings (ms, last attempt)".into(),
                headers: [
                    "url",
                    "dns",
                    "connect",
                    "tls",
                    "first byte",
                    "total",
                    "certificate",
                ]
                .map(String::from)
                .into(),
                rows: timing_rows,
            }))
    }
}

/// One incident per URL: the key is the URL without its query (which may hold a key).
fn incident_key(url: &SafeUrl) -> String {
    let u = url.expose();
    let key = format!(
        "probe/{}{}",
        u.host_str().unwrap_or_default(),
        u.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + u.path().trim_end_matches('/');
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/:-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn now() -> i64 {
    shipline_core::time::now_secs() as i64
}

/// How one answer measures up, before latency.
fn judge(answer: &fetch::Answer, config: &Config) -> (Health, String) {
    let status = answer.status;
    if !config.expect_status.iter().any(|rule| rule.matches(status)) {
        return (
            Health::Down,
            format!(
                "answered {status}, expected `{}`",
                describe(&config.expect_status)
            ),
        );
    }
    let text = String::from_utf8_lossy(&answer.body);
    if let Some(t) = config.expect_text.as_deref().filter(|t| !text.contains(t)) {
        return (Health::Down, format!("the answer does not contain `{t}`"));
    }
    if let Some(t) = config.forbid_text.as_deref().filter(|t| text.contains(t)) {
        return (Health::Down, format!("the answer contains `{t}`"));
    }
    if let Some(cert) = &answer.certificate {
        let days = cert.days_left(now());
        if days < i64::from(config.cert_min_days) {
            return (
                Health::Degraded,
                format!(
                    "the TLS certificate expires in {days} day(s), on {} (`cert-min-days` {}): renew it",
                    shipline_core::time::rfc3339(cert.not_after.max(0) as u64),
                    config.cert_min_days
                ),
            );
        }
    }
    (Health::Up, String::new())
}

/// One URL: attempts until one passes or `retries` more have failed.
async fn check(url: &SafeUrl, config: &Config) -> Checked {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = fetch::fetch(url, &config.request, &config.tls).await;
        let (health, status, note, timings, certificate) = match result {
            Err(error) => {
                let note = match &error.certificate {
                    Some(c) if c.not_after < now() => format!(
                        "the TLS certificate expired on {} ({} day(s) ago): {}",
                        shipline_core::time::rfc3339(c.not_after.max(0) as u64),
                        -c.days_left(now()),
                        error.message
                    ),
                    _ => error.message.clone(),
                };
                (Health::Down, None, note, error.timings, error.certificate)
            }
            Ok(answer) => {
                let (mut health, mut note) = judge(&answer, config);
                let latency = answer.timings.total;
                if health == Health::Up
                    && let Some(max) = config.max_latency.filter(|max| latency > *max)
                {
                    health = Health::Degraded;
                    note = format!(
                        "{} ms, slower than `max-latency` {} ms",
                        latency.as_millis(),
                        max.as_millis()
                    );
                }
                if answer.redirects > 0 && note.is_empty() {
                    note = format!(
                        "after {} redirect(s), at {}",
                        answer.redirects, answer.final_url
                    );
                }
                (
                    health,
                    Some(answer.status),
                    note,
                    answer.timings,
                    answer.certificate,
                )
            }
        };
        if health != Health::Down || attempts > config.retries {
            return Checked {
                url: url.clone(),
                health,
                status,
                latency: timings.total,
                timings,
                certificate,
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

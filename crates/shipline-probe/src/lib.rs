//! `shipline-probe`: is the site up, and how fast does it answer?

pub mod checks;
pub mod fetch;
pub mod history;

use std::time::Duration;

use futures_util::StreamExt;

use clap::Parser;
use shipline_actions::{Annotation, Outcome, Report, Table};
use shipline_cli::{
    CommonArgs, Ctx, Tool, nonempty, or_env, parse_choice, parse_duration_input, parse_list,
    parse_secret_url, parse_url,
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

    /// A YAML file of named checks (`checks: [{name, url, expect-status, expect-text, forbid-text, method, headers, body, max-latency}]`); the step's inputs are their defaults.
    #[arg(long, env = "INPUT_CHECKS")]
    pub checks: Option<String>,

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

    /// How many checks run at once.
    #[arg(long, env = "INPUT_MAX_CONCURRENCY", default_value = "20")]
    pub max_concurrency: String,

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

    /// With `incident`: a Slack incoming-webhook URL told when an incident opens and when it closes (never on repeats).
    #[arg(long, env = "INPUT_NOTIFY_SLACK_WEBHOOK_URL")]
    pub notify_slack_webhook_url: Option<String>,

    /// With `incident`: a Discord webhook URL told when an incident opens and closes.
    #[arg(long, env = "INPUT_NOTIFY_DISCORD_WEBHOOK_URL")]
    pub notify_discord_webhook_url: Option<String>,

    /// With `incident`: a Microsoft Teams workflow webhook URL told when an incident opens and closes.
    #[arg(long, env = "INPUT_NOTIFY_TEAMS_WEBHOOK_URL")]
    pub notify_teams_webhook_url: Option<String>,

    /// A branch to keep the results on (JSON Lines per day, `summary.json`, `response-time.svg`), through the contents API; needs `contents: write`.
    #[arg(long, env = "INPUT_HISTORY")]
    pub history: Option<String>,

    /// The folder on the history branch.
    #[arg(long, env = "INPUT_HISTORY_DIR", default_value = "uptime")]
    pub history_dir: String,

    /// Token for incident issues and history. Fallback: `GITHUB_TOKEN`.
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

pub(crate) fn parse_status_rules(value: &str) -> Result<Vec<StatusRule>, InputError> {
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
    pub checks: Vec<checks::CheckSpec>,
    /// Header values taken from the environment by a checks file: masked in the log.
    pub masked: Vec<Secret>,
    pub tls: fetch::Tls,
    pub timeout: Duration,
    pub retries: u32,
    pub retry_delay: Duration,
    pub cert_min_days: u32,
    pub incident: bool,
    /// `(branch, folder)`.
    pub history: Option<(String, String)>,
    pub max_concurrency: usize,
    pub github_token: Option<Secret>,
    /// Told when an incident opens or closes.
    pub chat: Vec<Chat>,
}

/// A chat webhook for incident changes.
#[derive(Debug, Clone)]
pub enum Chat {
    Slack(Secret),
    Discord(Secret),
    Teams(Secret),
}

impl Chat {
    fn name(&self) -> &'static str {
        match self {
            Chat::Slack(_) => "Slack",
            Chat::Discord(_) => "Discord",
            Chat::Teams(_) => "Teams",
        }
    }
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
    name: String,
    url: SafeUrl,
    health: Health,
    status: Option<u16>,
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
    const SECRET_INPUTS: &'static [&'static str] = &[
        "github-token",
        "notify-slack-webhook-url",
        "notify-discord-webhook-url",
        "notify-teams-webhook-url",
    ];
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
        let checks_file = nonempty(args.checks);
        let urls = match (nonempty(args.url), &checks_file) {
            (None, None) => return Err(InputError::missing("url", None)),
            (None, Some(_)) => Vec::new(),
            (Some(list), _) => parse_list(&list)
                .iter()
                .map(|u| parse_url("url", u, &["https", "http"]))
                .collect::<Result<Vec<_>, _>>()?,
        };
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
        let history = match nonempty(args.history) {
            None => None,
            Some(branch) => {
                let branch = branch.trim().to_owned();
                let dir = args.history_dir.trim().trim_matches('/').to_owned();
                let ok = |t: &str| {
                    !t.is_empty()
                        && !t.contains("..")
                        && t.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
                };
                if !ok(&branch) {
                    return Err(InputError::new(
                        "history",
                        format!("`{branch}` is not a branch name"),
                    ));
                }
                if !ok(&dir) {
                    return Err(InputError::new(
                        "history-dir",
                        format!("`{dir}` is not a folder name"),
                    ));
                }
                Some((branch, dir))
            }
        };
        if incident || history.is_some() {
            if github_token.is_none() {
                return Err(InputError::missing(
                    "github-token",
                    Some(EnvVars::GITHUB_TOKEN),
                ));
            }
            if ctx.github.owner_repo().is_none() {
                return Err(InputError::new(
                    EnvVars::GITHUB_REPOSITORY,
                    "must be `owner/repo` for `incident` and `history` (the runner sets it)",
                ));
            }
        }
        let mut chat = Vec::new();
        for (input, value, make) in [
            (
                "notify-slack-webhook-url",
                args.notify_slack_webhook_url,
                Chat::Slack as fn(Secret) -> Chat,
            ),
            (
                "notify-discord-webhook-url",
                args.notify_discord_webhook_url,
                Chat::Discord,
            ),
            (
                "notify-teams-webhook-url",
                args.notify_teams_webhook_url,
                Chat::Teams,
            ),
        ] {
            if let Some(v) = nonempty(value) {
                if !incident {
                    return Err(InputError::new(
                        input,
                        "needs `incident: github-issue`: chat is told when an incident opens or closes, and the issue is what remembers that",
                    ));
                }
                chat.push(make(parse_secret_url(input, &v, &["https", "http"])?));
            }
        }
        let method = parse_method(&args.method)?;
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
            check_header_name(name)?;
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
        let defaults = checks::CheckSpec {
            name: String::new(),
            url: SafeUrl::parse("http://localhost/")
                .map_err(|e| InputError::new("url", e.to_string()))?,
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
            max_latency: nonempty(args.max_latency)
                .map(|v| parse_duration_input("max-latency", &v))
                .transpose()?,
        };
        let mut specs: Vec<checks::CheckSpec> = urls
            .into_iter()
            .map(|url| checks::CheckSpec {
                name: url.to_string(),
                url,
                ..defaults.clone()
            })
            .collect();
        let mut masked = Vec::new();
        if let Some(path) = &checks_file {
            let (more, used) = checks::read(std::path::Path::new(path.trim()), &defaults, &|k| {
                ctx.env.var(k)
            })?;
            specs.extend(more);
            masked = used.into_iter().map(Secret::new).collect();
        }
        Ok(Config {
            checks: specs,
            masked,
            tls,
            timeout,
            retries: number("retries", &args.retries, 10)?,
            retry_delay: parse_duration_input("retry-delay", &args.retry_delay)?,
            cert_min_days: number("cert-min-days", &args.cert_min_days, 3650)?,
            incident,
            github_token,
            chat,
            history,
            max_concurrency: match number("max-concurrency", &args.max_concurrency, 200)? {
                0 => return Err(InputError::new("max-concurrency", "must be at least 1")),
                n => n as usize,
            },
        })
    }

    async fn run(config: Config, ctx: &mut Ctx) -> anyhow::Result<Report> {
        ctx.rt.mask(&config.masked.iter().collect::<Vec<_>>());
        let github = match (
            config.incident || config.history.is_some(),
            &config.github_token,
        ) {
            (true, Some(token)) => {
                Some(GitHub::for_run(ctx, token, &HttpClient::with_defaults()?)?)
            }
            _ => None,
        };
        ctx.rt
            .group(&format!("probing {} URL(s)", config.checks.len()));
        // At most `max-concurrency` at once, reported in the order given.
        let results: Vec<Checked> = futures_util::stream::iter(config.checks.iter())
            .map(|spec| check(spec, &config))
            .buffered(config.max_concurrency)
            .collect()
            .await;
        ctx.rt.end_group();

        let worst = results.iter().map(|r| r.health).max().unwrap_or(Health::Up);
        let slowest = results
            .iter()
            .filter(|r| r.health != Health::Down)
            .map(|r| r.timings.total.as_millis())
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
                format!("{} ms", r.timings.total.as_millis()),
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
        if let (Some(gh), true) = (&github, config.incident) {
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
                match incident::report(gh, &incident_key(&r.name, &r.url), &notice).await {
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
                        if matches!(done, Incident::Opened { .. } | Incident::Closed { .. }) {
                            for failure in tell_chat(&gh.http, &config.chat, &notice, &done).await {
                                report = report.annotation(
                                    Annotation::warning(failure).title("probe: notify"),
                                );
                            }
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
        if let (Some(gh), Some((branch, dir))) = (&github, &config.history) {
            let store = history::History {
                gh,
                branch: branch.clone(),
                dir: dir.clone(),
            };
            let now = shipline_core::time::now_secs();
            match store.record(&lines(&results, now), now).await {
                Ok(summary) => {
                    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |p| format!("{p:.2}%"));
                    let rows = results
                        .iter()
                        .map(|r| {
                            let b = summary.checks.get(&r.name).cloned().unwrap_or_default();
                            vec![
                                r.name.clone(),
                                pct(history::uptime(&b, now, 86_400)),
                                pct(history::uptime(&b, now, 7 * 86_400)),
                                pct(history::uptime(&b, now, 30 * 86_400)),
                            ]
                        })
                        .collect();
                    let server = ctx
                        .env
                        .var(EnvVars::GITHUB_SERVER_URL)
                        .unwrap_or_else(|| "https://github.com".into())
                        .trim_end_matches('/')
                        .to_owned();
                    report = report
                        .field(
                            "Response-time chart",
                            // An image in the step summary (Markdown), a link in text.
                            format!(
                                "![response time, last 7 days]({server}/{}/{}/blob/{branch}/{dir}/response-time.svg?raw=true)",
                                gh.owner, gh.repo
                            ),
                        )
                        .table(Table {
                            title: "Uptime".into(),
                            headers: ["check", "24 h", "7 days", "30 days"]
                                .map(String::from)
                                .into(),
                            rows,
                        });
                }
                Err(e) => {
                    report = report.annotation(
                        Annotation::warning(format!("the history was not written: {e}"))
                            .title("probe: history"),
                    );
                }
            }
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

/// This run as history lines (the URL without its query, which may hold a key).
fn lines(results: &[Checked], now: u64) -> Vec<history::Line> {
    let at = shipline_core::time::rfc3339(now);
    let ms = |d: Duration| d.as_millis() as u64;
    results
        .iter()
        .map(|r| {
            let mut url = r.url.expose().clone();
            url.set_query(None);
            history::Line {
                at: at.clone(),
                check: r.name.clone(),
                url: url.to_string(),
                status: r.health.word().to_owned(),
                http: r.status,
                total_ms: ms(r.timings.total),
                dns_ms: ms(r.timings.dns),
                connect_ms: ms(r.timings.connect),
                tls_ms: r.timings.tls.map(ms),
                ttfb_ms: ms(r.timings.ttfb),
            }
        })
        .collect()
}

/// Tells every chat that an incident opened or closed; returns what failed.
async fn tell_chat(
    http: &HttpClient,
    chat: &[Chat],
    notice: &Notice,
    done: &Incident,
) -> Vec<String> {
    if chat.is_empty() {
        return Vec::new();
    }
    let mut notice = notice.clone();
    match done {
        Incident::Opened { html_url, .. } => {
            notice.title = format!("{} is down", notice.url.as_deref().unwrap_or("a check"));
            notice.fields.push(("Incident".into(), html_url.clone()));
        }
        Incident::Closed {
            html_url,
            lasted_secs,
            ..
        } => {
            notice.title = format!(
                "{} is back after {}",
                notice.url.as_deref().unwrap_or("a check"),
                shipline_core::duration::format_duration(Duration::from_secs(*lasted_secs))
            );
            notice.message = None;
            notice.fields.push(("Incident".into(), html_url.clone()));
        }
        _ => return Vec::new(),
    }
    let at = shipline_core::time::now_rfc3339();
    let sends = chat.iter().map(|c| {
        let (notice, at) = (&notice, &at);
        async move {
            let result = match c {
                Chat::Slack(url) => shipline_notify::slack::send(
                    http,
                    &shipline_notify::slack::SlackTarget::Webhook(url.clone()),
                    notice,
                )
                .await
                .map(|_| ()),
                Chat::Discord(url) => shipline_notify::discord::send(http, url, notice, at)
                    .await
                    .map(|_| ()),
                Chat::Teams(url) => shipline_notify::teams::send(http, url, notice).await,
            };
            result.err().map(|e| format!("{}: {e}", c.name()))
        }
    });
    futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// One incident per check: a named check by its name, a bare URL by the URL without its
/// query (which may hold a key).
fn incident_key(name: &str, url: &SafeUrl) -> String {
    let u = url.expose();
    let key = if name != url.to_string() {
        format!("probe/{name}")
    } else {
        format!(
            "probe/{}{}{}",
            u.host_str().unwrap_or_default(),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path().trim_end_matches('/')
        )
    };
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
fn judge(answer: &fetch::Answer, spec: &checks::CheckSpec, config: &Config) -> (Health, String) {
    let status = answer.status;
    if !spec.expect_status.iter().any(|rule| rule.matches(status)) {
        return (
            Health::Down,
            format!(
                "answered {status}, expected `{}`",
                describe(&spec.expect_status)
            ),
        );
    }
    let text = String::from_utf8_lossy(&answer.body);
    if let Some(t) = spec.expect_text.as_deref().filter(|t| !text.contains(t)) {
        return (Health::Down, format!("the answer does not contain `{t}`"));
    }
    if let Some(t) = spec.forbid_text.as_deref().filter(|t| text.contains(t)) {
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
async fn check(spec: &checks::CheckSpec, config: &Config) -> Checked {
    let url = &spec.url;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = fetch::fetch(url, &spec.request, &config.tls).await;
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
                let (mut health, mut note) = judge(&answer, spec, config);
                let latency = answer.timings.total;
                if health == Health::Up
                    && let Some(max) = spec.max_latency.filter(|max| latency > *max)
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
                name: spec.name.clone(),
                url: url.clone(),
                health,
                status,
                timings,
                certificate,
                attempts,
                note,
            };
        }
        tokio::time::sleep(config.retry_delay).await;
    }
}

/// `get` → `GET`; refuses what is not a method token.
pub(crate) fn parse_method(value: &str) -> Result<String, InputError> {
    let method = value.trim().to_ascii_uppercase();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(InputError::new(
            "method",
            format!("`{value}` is not an HTTP method, e.g. `GET` or `POST`"),
        ));
    }
    Ok(method)
}

pub(crate) fn check_header_name(name: &str) -> Result<(), InputError> {
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
    Ok(())
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

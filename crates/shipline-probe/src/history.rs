//! History on a branch, through the GitHub contents API: every run appends one JSON line per
//! check to the day's file, folds itself into hourly buckets (`summary.json`, 30 days), and
//! redraws the response-time chart (`response-time.svg`, 7 days) a README can embed. Two runs
//! writing at once do not lose lines: a write carries the SHA it read, a stale one is refused
//! (409/422), and the write is redone on what is there now.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shipline_http::{HttpError, Method};
use shipline_notify::github::GitHub;

/// One check's result in one run: a line of the day's file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Line {
    pub at: String,
    pub check: String,
    pub url: String,
    pub status: String,
    pub http: Option<u16>,
    pub total_ms: u64,
    pub dns_ms: u64,
    pub connect_ms: u64,
    pub tls_ms: Option<u64>,
    pub ttfb_ms: u64,
}

/// Per check: hour (seconds since the epoch, floored) → counts and latency.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub checks: BTreeMap<String, BTreeMap<u64, Bucket>>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Bucket {
    pub runs: u32,
    pub up: u32,
    pub degraded: u32,
    pub down: u32,
    /// Sum of `total_ms` of the answers that were not down.
    pub ms_sum: u64,
}

const KEEP_SECS: u64 = 30 * 86_400;
const ATTEMPTS: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "the history branch `{0}` does not exist: create it once (`git switch --orphan {0} && git commit --allow-empty -m history && git push origin {0}`)"
    )]
    NoBranch(String),
    #[error("writing `{path}` kept conflicting with other runs ({ATTEMPTS} attempts)")]
    Conflict { path: String },
    #[error(
        "GitHub refused `{path}` ({status}): the token needs `contents: write` on the history branch. {detail}"
    )]
    Refused {
        path: String,
        status: u16,
        detail: String,
    },
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("`{path}` on the history branch is not what shipline wrote: {message}")]
    Corrupt { path: String, message: String },
}

/// Where the history goes.
pub struct History<'a> {
    pub gh: &'a GitHub,
    pub branch: String,
    /// Folder on the branch, e.g. `uptime`.
    pub dir: String,
}

impl History<'_> {
    fn url(&self, path: &str) -> Result<shipline_core::SafeUrl, HistoryError> {
        let url =
            self.gh
                .repo_url(&format!("contents/{path}"))
                .map_err(|e| HistoryError::Corrupt {
                    path: path.into(),
                    message: e.to_string(),
                })?;
        Ok(url)
    }

    /// Read-modify-write of one file, redone on a conflict.
    async fn update(
        &self,
        path: &str,
        message: &str,
        change: impl Fn(Option<&[u8]>) -> Result<Vec<u8>, HistoryError>,
    ) -> Result<Vec<u8>, HistoryError> {
        for _ in 0..ATTEMPTS {
            let mut get = self.url(path)?.into_inner();
            get.query_pairs_mut().append_pair("ref", &self.branch);
            let answer = self.gh.answer(Method::GET, get.into(), None).await?;
            let (current, sha) = match answer.status.as_u16() {
                200 => {
                    let v: Value = answer.json()?;
                    let text: String = v["content"]
                        .as_str()
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect();
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|e| HistoryError::Corrupt {
                            path: path.into(),
                            message: e.to_string(),
                        })?;
                    (Some(bytes), v["sha"].as_str().map(str::to_owned))
                }
                404 if answer.text().contains("No commit found") => {
                    return Err(HistoryError::NoBranch(self.branch.clone()));
                }
                404 => (None, None),
                status => {
                    return Err(HistoryError::Refused {
                        path: path.into(),
                        status,
                        detail: answer.text().chars().take(200).collect(),
                    });
                }
            };
            let new = change(current.as_deref())?;
            let mut body = json!({
                "message": message,
                "content": base64::engine::general_purpose::STANDARD.encode(&new),
                "branch": self.branch,
            });
            if let Some(sha) = sha {
                body["sha"] = sha.into();
            }
            let put = self
                .gh
                .answer(Method::PUT, self.url(path)?, Some(&body))
                .await?;
            match put.status.as_u16() {
                200 | 201 => return Ok(new),
                // Someone wrote in between: read again.
                409 | 422 => continue,
                404 => return Err(HistoryError::NoBranch(self.branch.clone())),
                status => {
                    return Err(HistoryError::Refused {
                        path: path.into(),
                        status,
                        detail: put.text().chars().take(200).collect(),
                    });
                }
            }
        }
        Err(HistoryError::Conflict { path: path.into() })
    }

    /// Appends this run, updates the summary and the chart; returns the summary.
    pub async fn record(&self, lines: &[Line], now: u64) -> Result<Summary, HistoryError> {
        let day = shipline_core::time::rfc3339(now)
            .get(..10)
            .unwrap_or("unknown")
            .to_owned();
        let mut text = String::new();
        for line in lines {
            text.push_str(&serde_json::to_string(line).unwrap_or_default());
            text.push('\n');
        }
        let path = format!("{}/{day}.jsonl", self.dir);
        self.update(
            &path,
            &format!(
                "uptime: {} check(s) at {}",
                lines.len(),
                lines.first().map_or("", |l| l.at.as_str())
            ),
            |current| {
                let mut bytes = current.unwrap_or_default().to_vec();
                if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                    bytes.push(b'\n');
                }
                bytes.extend_from_slice(text.as_bytes());
                Ok(bytes)
            },
        )
        .await?;

        let summary_path = format!("{}/summary.json", self.dir);
        let written = self
            .update(&summary_path, "uptime: summary", |current| {
                let mut summary: Summary = match current {
                    Some(bytes) => {
                        serde_json::from_slice(bytes).map_err(|e| HistoryError::Corrupt {
                            path: summary_path.clone(),
                            message: e.to_string(),
                        })?
                    }
                    None => Summary::default(),
                };
                fold(&mut summary, lines, now);
                Ok(serde_json::to_vec_pretty(&summary).unwrap_or_default())
            })
            .await?;
        let summary: Summary = serde_json::from_slice(&written).unwrap_or_default();
        let svg = chart(&summary, now);
        self.update(
            &format!("{}/response-time.svg", self.dir),
            "uptime: chart",
            |_| Ok(svg.clone().into_bytes()),
        )
        .await?;
        Ok(summary)
    }
}

/// Adds this run's lines to their hour, and drops buckets older than 30 days.
pub fn fold(summary: &mut Summary, lines: &[Line], now: u64) {
    let hour = now - now % 3600;
    for line in lines {
        let b = summary
            .checks
            .entry(line.check.clone())
            .or_default()
            .entry(hour)
            .or_default();
        b.runs += 1;
        match line.status.as_str() {
            "up" => b.up += 1,
            "degraded" => b.degraded += 1,
            _ => b.down += 1,
        }
        if line.status != "down" {
            b.ms_sum += line.total_ms;
        }
    }
    for buckets in summary.checks.values_mut() {
        buckets.retain(|h, _| *h + KEEP_SECS > now);
    }
}

/// Uptime (not down) in % over the last `secs`, or `None` without runs.
pub fn uptime(buckets: &BTreeMap<u64, Bucket>, now: u64, secs: u64) -> Option<f64> {
    let (mut runs, mut ok) = (0u64, 0u64);
    for b in buckets.range(now.saturating_sub(secs)..).map(|(_, b)| b) {
        runs += u64::from(b.runs);
        ok += u64::from(b.up + b.degraded);
    }
    (runs > 0).then(|| ok as f64 * 100.0 / runs as f64)
}

/// The last 7 days' hourly mean response time, one line per check.
pub fn chart(summary: &Summary, now: u64) -> String {
    let (w, h, pad) = (720.0_f64, 240.0_f64, 40.0_f64);
    let start = now.saturating_sub(7 * 86_400);
    let colours = [
        "#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2",
    ];
    let mut max_ms = 1u64;
    for buckets in summary.checks.values() {
        for b in buckets.range(start..).map(|(_, b)| b) {
            if let Some(mean) = b.ms_sum.checked_div(u64::from(b.up + b.degraded)) {
                max_ms = max_ms.max(mean);
            }
        }
    }
    let x = |t: u64| pad + (t.saturating_sub(start)) as f64 / (7.0 * 86_400.0) * (w - 2.0 * pad);
    let y = |ms: u64| h - pad - ms as f64 / max_ms as f64 * (h - 2.0 * pad);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\n<title>Response time, last 7 days (hourly mean)</title>\n<rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>\n"
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#999\"/>\n<text x=\"{pad}\" y=\"{ty}\">{max_ms} ms</text>\n<text x=\"{pad}\" y=\"{by}\">7 days ago</text>\n<text x=\"{nx}\" y=\"{by}\" text-anchor=\"end\">now</text>",
        y0 = h - pad,
        x1 = w - pad,
        ty = pad - 8.0,
        by = h - pad + 16.0,
        nx = w - pad
    );
    for (i, (name, buckets)) in summary.checks.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let points: Vec<String> = buckets
            .range(start..)
            .filter_map(|(t, b)| {
                let mean = b.ms_sum.checked_div(u64::from(b.up + b.degraded))?;
                Some(format!("{:.1},{:.1}", x(*t), y(mean)))
            })
            .collect();
        if !points.is_empty() {
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{lx}\" y=\"{ly}\" fill=\"{colour}\">{}</text>",
            xml(name),
            lx = pad + 8.0 + i as f64 * 120.0,
            ly = pad - 8.0 + 14.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(check: &str, status: &str, ms: u64) -> Line {
        Line {
            at: "2026-12-03T10:00:00Z".into(),
            check: check.into(),
            url: "https://acme.dev/".into(),
            status: status.into(),
            http: Some(200),
            total_ms: ms,
            dns_ms: 1,
            connect_ms: 1,
            tls_ms: None,
            ttfb_ms: ms,
        }
    }

    #[test]
    fn the_chart_of_two_checks_over_a_week() {
        let now = 1_764_720_000; // 2025-12-03T00:00:00Z
        let mut s = Summary::default();
        for h in 0..(7 * 24) {
            let at = now - 7 * 86_400 + h * 3600 + 60;
            // A daily bump for `home`, a flat `api` with one hour down.
            let ms = 100 + if h % 24 == 12 { 400 } else { 0 };
            let api = if h == 80 {
                line("api", "down", 0)
            } else {
                line("api", "up", 40)
            };
            fold(&mut s, &[line("home", "up", ms), api], at);
        }
        insta::assert_snapshot!(chart(&s, now));
    }

    #[test]
    fn buckets_fold_prune_and_give_uptime() {
        let now = 40 * 86_400;
        let mut s = Summary::default();
        // 31 days ago: pruned.
        fold(&mut s, &[line("home", "down", 0)], now - 31 * 86_400);
        fold(&mut s, &[line("home", "up", 100)], now - 2 * 86_400);
        fold(&mut s, &[line("home", "down", 0)], now - 3600);
        fold(
            &mut s,
            &[line("home", "degraded", 900), line("api", "up", 50)],
            now,
        );
        let home = &s.checks["home"];
        assert_eq!(home.len(), 3, "the 31-day-old bucket is gone");
        assert_eq!(uptime(home, now, 86_400), Some(50.0));
        assert!((uptime(home, now, 7 * 86_400).unwrap() - 66.666).abs() < 0.01);
        assert_eq!(uptime(&s.checks["api"], now, 86_400), Some(100.0));
        assert_eq!(uptime(home, now + 40 * 86_400, 86_400), None);
    }
}

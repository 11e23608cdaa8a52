//! Logical backups kept as files: the newest dump in a folder, or the newest object in a
//! bucket listing (S3's `ListObjectsV2` XML, which S3, R2, MinIO and GCS's XML API all
//! answer; a presigned or public listing URL needs no credentials here).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shipline_core::SafeUrl;
use shipline_core::duration::format_duration;
use shipline_core::time::{parse_rfc3339, rfc3339};
use shipline_http::{HttpClient, HttpError, Request};

use crate::check::{Check, hours};

/// Names a dump goes by (`pg_dump -Fc`, `-Ft`, plain SQL, compressed).
const DUMP_ENDINGS: &[&str] = &[
    ".dump", ".pgdump", ".backup", ".sql", ".sql.gz", ".sql.zst", ".tar", ".dump.gz",
];

/// One backup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    /// Seconds since the epoch.
    pub at: u64,
    pub size: u64,
    /// On disk, for a drill from it.
    pub path: Option<PathBuf>,
}

/// The newest dump in `dir` (a `-Fd` dump is a folder with a `toc.dat`).
pub fn newest_in(dir: &Path) -> Result<Option<Found>, std::io::Error> {
    let mut newest: Option<Found> = None;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let meta = entry.metadata()?;
        let is_dump = if meta.is_dir() {
            path.join("toc.dat").is_file()
        } else {
            meta.is_file()
                && !name.starts_with('.')
                && DUMP_ENDINGS.iter().any(|e| name.ends_with(e))
        };
        if !is_dump {
            continue;
        }
        let at = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let size = if meta.is_dir() {
            std::fs::read_dir(&path)?
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        } else {
            meta.len()
        };
        if newest.as_ref().is_none_or(|n| at > n.at) {
            newest = Some(Found {
                name,
                at,
                size,
                path: Some(path),
            });
        }
    }
    Ok(newest)
}

/// The newest object of an S3-style listing, following `NextContinuationToken` pages.
pub async fn newest_listed(http: &HttpClient, url: &SafeUrl) -> Result<Option<Found>, HttpError> {
    let mut newest: Option<Found> = None;
    let mut page = url.clone();
    for _ in 0..100 {
        let response = http
            .send(Request::get(page.clone()))
            .await?
            .error_for_status()?;
        let xml = response.text();
        for object in elements(&xml, "Contents") {
            let (Some(key), Some(at)) = (
                element(object, "Key"),
                element(object, "LastModified").and_then(parse_rfc3339),
            ) else {
                continue;
            };
            if key.ends_with('/') {
                continue;
            }
            let size = element(object, "Size")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if newest.as_ref().is_none_or(|n| at > n.at) {
                newest = Some(Found {
                    name: xml_unescape(key),
                    at,
                    size,
                    path: None,
                });
            }
        }
        let truncated = element(&xml, "IsTruncated") == Some("true");
        match (truncated, element(&xml, "NextContinuationToken")) {
            (true, Some(token)) => {
                let mut next = url.expose().clone();
                next.query_pairs_mut()
                    .append_pair("continuation-token", &xml_unescape(token));
                page = SafeUrl::from(next);
            }
            _ => break,
        }
    }
    Ok(newest)
}

fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    elements(xml, name).into_iter().next().map(str::trim)
}

fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The freshness check of one logical backup source.
pub fn assess(name: &str, found: Option<&Found>, now: u64, max_age: Duration) -> Check {
    match found {
        None => Check::fail(name, "no dump found"),
        Some(f) if f.size == 0 => Check::fail(
            name,
            format!(
                "the newest dump, `{}`, is empty (0 bytes): the backup job failed as it wrote it",
                f.name
            ),
        ),
        Some(f) => {
            let age = now.saturating_sub(f.at);
            let text = format!(
                "`{}` at {} ({} h old, {} bytes; `max-age` {})",
                f.name,
                rfc3339(f.at),
                hours(age),
                f.size,
                format_duration(max_age)
            );
            if Duration::from_secs(age) > max_age {
                Check::fail(name, format!("too old: {text}; the backup job has not run"))
            } else {
                Check::pass(name, text)
            }
        }
    }
}

/// Now, by this machine's clock (files carry this machine's times).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_listing_elements() {
        let xml = r#"<?xml version="1.0"?><ListBucketResult><IsTruncated>false</IsTruncated>
          <Contents><Key>db/2026-12-01.dump</Key><LastModified>2026-12-01T03:00:00.000Z</LastModified><Size>10</Size></Contents>
          <Contents><Key>db/a&amp;b.dump</Key><LastModified>2026-12-02T03:00:00.000Z</LastModified><Size>12</Size></Contents>
        </ListBucketResult>"#;
        let objects = elements(xml, "Contents");
        assert_eq!(objects.len(), 2);
        assert_eq!(
            element(objects[1], "Key").map(xml_unescape),
            Some("db/a&b.dump".into())
        );
        assert_eq!(element(xml, "IsTruncated"), Some("false"));
    }
}

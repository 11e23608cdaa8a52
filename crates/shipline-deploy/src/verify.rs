//! Verification of a staged deployment at its own URL, before any traffic moves to it.
//! Over HTTP this is `shipline-probe`'s own request (`shipline_probe::fetch`), so a deploy,
//! a rollback and the uptime check judge a site the same way.

use std::path::Path;
use std::time::{Duration, Instant};

use shipline_core::SafeUrl;
use shipline_probe::fetch::{self, RequestSpec, Tls};

/// What must be true of the smoke path.
#[derive(Debug, Clone)]
pub struct Check<'a> {
    pub smoke_path: &'a str,
    pub expect_text: Option<&'a str>,
    pub deadline: Instant,
}

/// The verdict, with enough detail to say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    /// What was checked: a URL, or a file of an unlinked release.
    pub target: String,
    pub status: Option<u16>,
    pub attempts: u32,
    /// On failure, why; on success, a short summary.
    pub detail: String,
}

/// Retry delays: a deployment that is READY can take a moment to answer at its edge.
const DELAYS_MS: [u64; 5] = [250, 500, 1000, 2000, 4000];

/// GETs `base` + smoke path until it answers 2xx with the expected text, a few times.
pub async fn over_http(base: &str, check: &Check<'_>) -> Verification {
    let target = format!("{}{}", base.trim_end_matches('/'), check.smoke_path);
    let mut attempts = 0;
    let mut last = Verification {
        ok: false,
        target: target.clone(),
        status: None,
        attempts: 0,
        detail: String::new(),
    };
    let url = match SafeUrl::parse(&target) {
        Ok(url) => url,
        Err(e) => {
            last.detail = format!("`{target}` is not a URL: {e}");
            return last;
        }
    };
    let tls = match Tls::new(&[]) {
        Ok(tls) => tls,
        Err(e) => {
            last.detail = e;
            return last;
        }
    };
    let spec = RequestSpec {
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        timeout: Duration::from_secs(15),
        max_redirects: 10,
    };
    for delay in DELAYS_MS
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .chain([Duration::ZERO])
    {
        attempts += 1;
        last.attempts = attempts;
        match fetch::fetch(&url, &spec, &tls).await {
            Ok(answer) => {
                last.status = Some(answer.status);
                if !(200..300).contains(&answer.status) {
                    last.detail = format!("{target} answered {}", answer.status);
                } else if let Some(text) = check.expect_text
                    && !String::from_utf8_lossy(&answer.body).contains(text)
                {
                    last.detail = format!(
                        "{target} answered {} but its body does not contain `{text}` (`expect-text`)",
                        answer.status
                    );
                } else {
                    last.ok = true;
                    last.detail = format!("{target} answered {}", answer.status);
                    return last;
                }
            }
            Err(e) => last.detail = format!("{target} could not be reached: {e}"),
        }
        if delay.is_zero() || Instant::now() + delay >= check.deadline {
            break;
        }
        tokio::time::sleep(delay).await;
    }
    last.detail = format!("{} (after {attempts} attempt(s))", last.detail);
    last
}

/// Checks what production serves now: over HTTP, or on disk for a `file://` URL (an fs
/// host without `site-url`: the release `current` points at).
pub async fn live_url(url: &str, spa: bool, check: &Check<'_>) -> Verification {
    if let Some(path) = url.strip_prefix("file://") {
        let path = Path::new(path);
        let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        return on_disk(&resolved, spa, check);
    }
    over_http(url, check).await
}

/// For a release that is not linked yet (fs): resolve the smoke path as the web server
/// would (a directory's `index.html`, `<path>.html`, and with `spa` the root `index.html`).
pub fn on_disk(release: &Path, spa: bool, check: &Check<'_>) -> Verification {
    let rel = check
        .smoke_path
        .split(['?', '#'])
        .next()
        .unwrap_or("/")
        .trim_start_matches('/');
    let mut candidates = Vec::new();
    if rel.is_empty() {
        candidates.push(release.join("index.html"));
    } else if !rel.split('/').any(|seg| seg == "..") {
        candidates.push(release.join(rel));
        candidates.push(release.join(rel).join("index.html"));
        candidates.push(release.join(format!("{rel}.html")));
    }
    if spa {
        candidates.push(release.join("index.html"));
    }
    let found = candidates.into_iter().find(|p| p.is_file());
    let target = format!("{}{}", release.display(), check.smoke_path);
    let Some(file) = found else {
        return Verification {
            ok: false,
            target,
            status: Some(404),
            attempts: 1,
            detail: format!(
                "`{}` is not in the release (a web server would answer 404)",
                check.smoke_path
            ),
        };
    };
    let body = std::fs::read(&file).unwrap_or_default();
    if let Some(text) = check.expect_text
        && !String::from_utf8_lossy(&body).contains(text)
    {
        return Verification {
            ok: false,
            target,
            status: Some(200),
            attempts: 1,
            detail: format!(
                "`{}` does not contain `{text}` (`expect-text`)",
                file.display()
            ),
        };
    }
    Verification {
        ok: true,
        target,
        status: Some(200),
        attempts: 1,
        detail: format!("`{}` serves `{}`", check.smoke_path, file.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_resolution_follows_the_web_server() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<div id=root>").unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/index.html"), "docs").unwrap();
        let check = |path, text| Check {
            smoke_path: path,
            expect_text: text,
            deadline: Instant::now() + Duration::from_secs(1),
        };
        assert!(on_disk(dir.path(), false, &check("/", Some("root"))).ok);
        assert!(on_disk(dir.path(), false, &check("/docs", Some("docs"))).ok);
        let missing = on_disk(dir.path(), false, &check("/app/settings", None));
        assert_eq!((missing.ok, missing.status), (false, Some(404)));
        assert!(on_disk(dir.path(), true, &check("/app/settings", Some("root"))).ok);
        let wrong = on_disk(dir.path(), false, &check("/", Some("Welcome")));
        assert!(!wrong.ok);
        assert!(
            wrong.detail.contains("`Welcome` (`expect-text`)"),
            "{}",
            wrong.detail
        );
        assert!(!on_disk(dir.path(), false, &check("/../etc/passwd", None)).ok);
    }
}

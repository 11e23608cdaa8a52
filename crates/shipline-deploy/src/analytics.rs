//! Preflight checks that a build reports where it should: a production build carries the
//! analytics snippet and the Sentry DSN, and a preview build does not count its visits into
//! the production analytics site. Opt-in (`analytics`, `analytics-site`,
//! `expect-sentry-dsn`); checked in the one read that hashes the site.

use shipline_core::InputError;

use crate::scan::Scanner;

/// The analytics a production build must load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Analytics {
    /// `plausible.io/js/…` (a self-hosted Plausible: give its script URL as a text).
    Plausible,
    /// `cdn.usefathom.com/script.js`.
    Fathom,
    /// `googletagmanager.com/gtag/js?id=G-…`.
    Ga4,
    /// Any other snippet, by a text it contains.
    Text(String),
}

/// How the DSN is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsnCheck {
    /// Any Sentry DSN (`https://<32 hex>@<host>/<project>`).
    Any,
    /// This DSN.
    Exact(String),
}

/// The checks asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observability {
    pub analytics: Option<Analytics>,
    /// The production site's id in the analytics tool.
    pub site: Option<String>,
    pub sentry_dsn: Option<DsnCheck>,
}

impl Observability {
    pub fn parse(
        analytics: Option<String>,
        site: Option<String>,
        dsn: Option<String>,
    ) -> Result<Observability, InputError> {
        let analytics = analytics.map(|a| match a.to_ascii_lowercase().as_str() {
            "plausible" => Analytics::Plausible,
            "fathom" => Analytics::Fathom,
            "ga4" | "google-analytics" => Analytics::Ga4,
            _ => Analytics::Text(a),
        });
        if let (Some(Analytics::Ga4), Some(site)) = (&analytics, &site)
            && !is_measurement_id(site)
        {
            return Err(InputError::new(
                "analytics-site",
                format!(
                    "`{site}` is not a GA4 measurement id (`G-` and letters or digits, from Admin → Data streams)"
                ),
            ));
        }
        if site.as_deref().is_some_and(|s| s.trim().len() < 3) {
            return Err(InputError::new(
                "analytics-site",
                "is too short to tell the production site apart from ordinary text",
            ));
        }
        let sentry_dsn = match dsn.as_deref() {
            None | Some("false") => None,
            Some("true") => Some(DsnCheck::Any),
            Some(value) if is_dsn(value) => Some(DsnCheck::Exact(value.to_owned())),
            Some(value) => {
                return Err(InputError::new(
                    "expect-sentry-dsn",
                    format!(
                        "`{value}` is neither `true`, `false` nor a Sentry DSN (`https://<key>@<host>/<project id>`, from Project Settings → Client Keys)"
                    ),
                ));
            }
        };
        Ok(Observability {
            analytics,
            site,
            sentry_dsn,
        })
    }

    /// Production: what the build must contain. Preview: the production site it must not.
    pub fn apply(&self, mut scanner: Scanner, production: bool) -> Scanner {
        let site_pattern = self.site.as_deref().map(|site| self.site_pattern(site));
        if !production {
            if let (Some(site), Some(pattern)) = (&self.site, site_pattern) {
                scanner = scanner.forbid_pattern(
                    "analytics-site",
                    &pattern,
                    format!(
                        "the production analytics site `{site}` (`analytics-site`) is in this preview build: its visits would count as production's; build previews without it or with a site of their own"
                    ),
                );
            }
            return scanner;
        }
        if let Some(analytics) = &self.analytics {
            let (what, pattern) = match analytics {
                Analytics::Plausible => (
                    "the Plausible script (`plausible.io/js/…`, `analytics: plausible`)".to_owned(),
                    r"plausible\.io/js/".to_owned(),
                ),
                Analytics::Fathom => (
                    "the Fathom script (`cdn.usefathom.com/script.js`, `analytics: fathom`)".to_owned(),
                    r"cdn\.usefathom\.com/script\.js".to_owned(),
                ),
                Analytics::Ga4 => (
                    "the Google Analytics 4 tag (`googletagmanager.com/gtag/js?id=G-…`, `analytics: ga4`)".to_owned(),
                    r"googletagmanager\.com/gtag/js\?id=G-[A-Z0-9]+".to_owned(),
                ),
                Analytics::Text(text) => (
                    format!("the analytics snippet `{text}` (`analytics`)"),
                    regex::escape(text),
                ),
            };
            scanner = scanner.expect(what, &pattern);
        }
        if let (Some(site), Some(pattern)) = (&self.site, site_pattern) {
            scanner = scanner.expect(
                format!("the production analytics site `{site}` (`analytics-site`)"),
                &pattern,
            );
        }
        match &self.sentry_dsn {
            Some(DsnCheck::Any) => {
                scanner = scanner.expect(
                    "a Sentry DSN (`expect-sentry-dsn`)".into(),
                    r"https://[0-9a-f]{32}@[A-Za-z0-9.-]+(?::[0-9]+)?/[0-9]+",
                )
            }
            Some(DsnCheck::Exact(dsn)) => {
                scanner = scanner.expect(
                    "the Sentry DSN of `expect-sentry-dsn`".into(),
                    &regex::escape(dsn),
                )
            }
            None => {}
        }
        scanner
    }

    /// The site as the snippet writes it: Plausible's `data-domain`, Fathom's `data-site`
    /// (or `Fathom.load("…")`), anything else as the bare id.
    fn site_pattern(&self, site: &str) -> String {
        let site = regex::escape(site);
        // Quotes may be escaped when the snippet is inside a JS string.
        let q = r#"\\?["']?"#;
        match self.analytics {
            Some(Analytics::Plausible) => format!(r"data-domain\s*=\s*{q}{site}\b"),
            Some(Analytics::Fathom) => {
                format!(r#"(?:data-site\s*=\s*{q}{site}\b|Fathom\.load\(\s*\\?["']{site}\b)"#)
            }
            _ => format!(r"\b{site}\b"),
        }
    }
}

fn is_measurement_id(id: &str) -> bool {
    id.strip_prefix("G-")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_dsn(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|u| {
        matches!(u.scheme(), "https" | "http")
            && !u.username().is_empty()
            && u.path_segments()
                .and_then(|mut s| s.next_back())
                .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(o: &Observability, production: bool) -> Scanner {
        o.apply(Scanner::new(false, &[], &[], None), production)
    }

    #[test]
    fn a_production_build_must_load_the_analytics_and_the_dsn() {
        let o = Observability::parse(
            Some("plausible".into()),
            Some("example.com".into()),
            Some("true".into()),
        )
        .unwrap();
        let s = scanner(&o, true);
        assert_eq!(s.missing().len(), 3);
        s.scan(
            "index.html",
            br#"<script defer data-domain="example.com" src="https://plausible.io/js/script.js"></script>"#,
        );
        assert_eq!(s.missing(), ["a Sentry DSN (`expect-sentry-dsn`)"]);
        s.scan(
            "assets/index.js",
            b"Sentry.init({dsn:\"https://0123456789abcdef0123456789abcdef@o42.ingest.sentry.io/4501\"})",
        );
        assert!(s.missing().is_empty());
    }

    #[test]
    fn a_preview_build_must_not_report_into_the_production_site() {
        let o = Observability::parse(Some("fathom".into()), Some("ABCDEFGH".into()), None).unwrap();
        let s = scanner(&o, false);
        assert!(s.missing().is_empty(), "nothing is required of a preview");
        let found = s.scan(
            "index.html",
            br#"<a href="/ABCDEFGH">x</a><script src="https://cdn.usefathom.com/script.js" data-site="ABCDEFGH" defer></script>"#,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "analytics-site");
        // Its own site id is fine, and so is the production id in ordinary text.
        let own = s.scan(
            "index.html",
            br#"<p>ABCDEFGH</p><script src="https://cdn.usefathom.com/script.js" data-site="PREVIEW1"></script>"#,
        );
        assert!(own.is_empty());
    }

    #[test]
    fn ga4_and_texts() {
        let o = Observability::parse(Some("ga4".into()), Some("G-ABC123".into()), None).unwrap();
        let s = scanner(&o, true);
        s.scan(
            "index.html",
            b"<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-ABC123\"></script><script>gtag('config','G-ABC123')</script>",
        );
        assert!(s.missing().is_empty());
        let bad =
            Observability::parse(Some("ga4".into()), Some("UA-1234".into()), None).unwrap_err();
        assert_eq!(bad.input, "analytics-site");
        let bad = Observability::parse(None, None, Some("yes".into())).unwrap_err();
        assert_eq!(bad.input, "expect-sentry-dsn");
        let own = Observability::parse(
            Some("https://stats.example.com/js/script.js".into()),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            own.analytics,
            Some(Analytics::Text(
                "https://stats.example.com/js/script.js".into()
            ))
        );
        let exact = Observability::parse(None, None, Some("https://k@sentry.example.com/7".into()))
            .unwrap();
        assert_eq!(
            exact.sentry_dsn,
            Some(DsnCheck::Exact("https://k@sentry.example.com/7".into()))
        );
    }
}

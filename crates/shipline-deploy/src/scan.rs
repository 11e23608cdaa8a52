//! Secrets and wrong-environment values in a built bundle, found before anything is uploaded.
//!
//! A Vite build inlines every `VITE_*` variable into public JavaScript, so a service-role key
//! or a preview database URL put in the wrong variable ships to every visitor. The secret's
//! value itself is never printed: a finding names the file, the line and the kind.

use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use regex::bytes::Regex;
use shipline_core::Secret;

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, relative to the site root.
    pub file: String,
    pub line: u32,
    pub rule: &'static str,
    pub message: String,
}

struct Pattern {
    rule: &'static str,
    what: &'static str,
    regex: Regex,
    /// Extra check on the match (decode a JWT and read its role).
    confirm: Option<fn(&[u8]) -> bool>,
}

/// What to look for, built once, shared by the hashing threads.
pub struct Scanner {
    patterns: Vec<Pattern>,
    /// Values that must never appear: secret inputs and `forbid-env` variables.
    literals: Option<(Regex, Vec<String>)>,
    /// (rule, message, pattern): a text that must not be in the build.
    forbid_text: Vec<(&'static str, String, Regex)>,
    expectations: Vec<Expectation>,
}

/// Something at least one file of the build must contain.
struct Expectation {
    /// What the error says is missing: "`expect-text` `…`", "the Plausible script".
    what: String,
    regex: Regex,
    seen: AtomicBool,
}

/// Shorter values would match ordinary text; they protect nothing anyway.
const MIN_LITERAL: usize = 8;

impl Scanner {
    /// `secrets`: (where the value comes from, the value). `forbid_text`/`expect_text` are
    /// checked only when given (production builds).
    pub fn new(
        check_secrets: bool,
        secrets: &[(String, Secret)],
        forbid_text: &[String],
        expect_text: Option<&str>,
    ) -> Scanner {
        let mut patterns = Vec::new();
        if check_secrets {
            let mut add = |rule, what, re: &str, confirm| {
                if let Ok(regex) = Regex::new(re) {
                    patterns.push(Pattern {
                        rule,
                        what,
                        regex,
                        confirm,
                    });
                }
            };
            add(
                "supabase-service-role",
                "a Supabase `service_role` key (it bypasses row-level security); only the `anon` key belongs in a browser bundle",
                r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
                Some(is_service_role_jwt as fn(&[u8]) -> bool),
            );
            add(
                "supabase-secret-key",
                "a Supabase secret API key (`sb_secret_…`); only the publishable key belongs in a browser bundle",
                r"\bsb_secret_[A-Za-z0-9_-]{20,}",
                None,
            );
            add(
                "private-key",
                "a private key",
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
                None,
            );
            add(
                "github-token",
                "a GitHub token",
                r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
                None,
            );
            add(
                "stripe-secret-key",
                "a Stripe secret key (only `pk_` keys are public)",
                r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{20,}\b",
                None,
            );
            add(
                "aws-access-key",
                "an AWS access key id",
                r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
                None,
            );
            add(
                "slack-token",
                "a Slack token or webhook URL",
                r"\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
                None,
            );
        }
        let usable: Vec<&(String, Secret)> = secrets
            .iter()
            .filter(|(_, s)| s.expose().len() >= MIN_LITERAL)
            .collect();
        // Escaped literals always compile; a pattern that somehow did not is simply not used.
        let literals = if usable.is_empty() {
            None
        } else {
            let alternatives: Vec<String> = usable
                .iter()
                .map(|(_, s)| regex::escape(s.expose()))
                .collect();
            let names = usable.iter().map(|(n, _)| n.clone()).collect();
            Regex::new(&format!("({})", alternatives.join(")|(")))
                .ok()
                .map(|r| (r, names))
        };
        let mut scanner = Scanner {
            patterns,
            literals,
            forbid_text: Vec::new(),
            expectations: Vec::new(),
        };
        for text in forbid_text.iter().filter(|t| !t.is_empty()) {
            scanner = scanner.forbid(
                "forbid-text",
                text,
                format!(
                    "`{text}` (`forbid-text`) is in the bundle: was it built with another environment's settings?"
                ),
            );
        }
        if let Some(text) = expect_text.filter(|t| !t.is_empty()) {
            scanner = scanner.expect(format!("`{text}` (`expect-text`)"), &regex::escape(text));
        }
        scanner
    }

    /// Adds a text no file may contain, with the finding's rule and message.
    pub fn forbid(self, rule: &'static str, text: &str, message: String) -> Scanner {
        self.forbid_pattern(rule, &regex::escape(text), message)
    }

    /// Like [`Scanner::forbid`], for a pattern.
    pub fn forbid_pattern(mut self, rule: &'static str, pattern: &str, message: String) -> Scanner {
        if let Ok(regex) = Regex::new(pattern) {
            self.forbid_text.push((rule, message, regex));
        }
        self
    }

    /// Adds a pattern at least one file must match; `what` names it when none does.
    pub fn expect(mut self, what: String, pattern: &str) -> Scanner {
        if let Ok(regex) = Regex::new(pattern) {
            self.expectations.push(Expectation {
                what,
                regex,
                seen: AtomicBool::new(false),
            });
        }
        self
    }

    /// The findings in one file's contents.
    pub fn scan(&self, file: &str, bytes: &[u8]) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut push = |offset: usize, rule: &'static str, message: String| {
            findings.push(Finding {
                file: file.to_owned(),
                line: line_of(bytes, offset),
                rule,
                message,
            });
        };
        for p in &self.patterns {
            for m in p.regex.find_iter(bytes) {
                if p.confirm.is_none_or(|confirm| confirm(m.as_bytes())) {
                    push(m.start(), p.rule, format!("{} is in the bundle", p.what));
                    break; // one finding per kind and file is enough to act on
                }
            }
        }
        if let Some((regex, names)) = &self.literals
            && let Some(caps) = regex.captures(bytes)
        {
            let which = (1..caps.len())
                .find(|&i| caps.get(i).is_some())
                .and_then(|i| names.get(i - 1))
                .map(String::as_str)
                .unwrap_or("a secret input");
            let start = caps.get(0).map(|m| m.start()).unwrap_or(0);
            push(
                start,
                "secret-value",
                format!("the value of {which} is in the bundle"),
            );
        }
        for (rule, message, regex) in &self.forbid_text {
            if let Some(m) = regex.find(bytes) {
                push(m.start(), rule, message.clone());
            }
        }
        for e in &self.expectations {
            if !e.seen.load(Ordering::Relaxed) && e.regex.is_match(bytes) {
                e.seen.store(true, Ordering::Relaxed);
            }
        }
        findings
    }

    /// What no file scanned so far contained, of what was expected.
    pub fn missing(&self) -> Vec<&str> {
        self.expectations
            .iter()
            .filter(|e| !e.seen.load(Ordering::Relaxed))
            .map(|e| e.what.as_str())
            .collect()
    }
}

fn line_of(bytes: &[u8], offset: usize) -> u32 {
    let newlines = bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// Supabase keys are JWTs whose payload names a `role`: `anon` is meant to be public,
/// `service_role` bypasses row-level security.
fn is_service_role_jwt(token: &[u8]) -> bool {
    let Some(payload) = token.split(|&b| b == b'.').nth(1) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.strip_suffix(b"=").unwrap_or(payload))
    else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&decoded)
        .ok()
        .and_then(|v| {
            v.get("role")
                .and_then(|r| r.as_str())
                .map(|r| r == "service_role")
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(role: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.{}",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"iss":"supabase","ref":"abcdefghijklmnop","role":"{role}","iat":1700000000,"exp":2000000000}}"#
            )),
            "c2lnbmF0dXJlLW9mLXRoZS1rZXk"
        )
    }

    fn rules(scanner: &Scanner, text: &str) -> Vec<(&'static str, u32)> {
        scanner
            .scan("assets/index.js", text.as_bytes())
            .into_iter()
            .map(|f| (f.rule, f.line))
            .collect()
    }

    #[test]
    fn the_service_role_key_is_refused_and_the_anon_key_is_fine() {
        let s = Scanner::new(true, &[], &[], None);
        let anon = format!("const k=\"{}\";", jwt("anon"));
        assert_eq!(rules(&s, &anon), []);
        let service = format!("a\nb\nconst k=\"{}\";", jwt("service_role"));
        assert_eq!(rules(&s, &service), [("supabase-service-role", 3)]);
        let finding = &s.scan("x.js", service.as_bytes())[0];
        assert!(!finding.message.contains("eyJ"), "{finding:?}");
    }

    #[test]
    fn token_patterns() {
        let s = Scanner::new(true, &[], &[], None);
        let gh = format!("x=\"ghp_{}\"", "a".repeat(36));
        assert_eq!(rules(&s, &gh), [("github-token", 1)]);
        assert_eq!(
            rules(&s, "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"),
            [("private-key", 1)]
        );
        assert_eq!(
            rules(&s, "-----BEGIN PRIVATE KEY-----"),
            [("private-key", 1)]
        );
        assert_eq!(
            rules(&s, &format!("k='sk_live_{}'", "Z9".repeat(12))),
            [("stripe-secret-key", 1)]
        );
        assert_eq!(rules(&s, &format!("k='pk_live_{}'", "Z9".repeat(12))), []);
        assert_eq!(
            rules(&s, "id=AKIAIOSFODNN7EXAMPLE;"),
            [("aws-access-key", 1)]
        );
        assert_eq!(
            rules(&s, "t='xoxb-123456789012-abcdefghij'"),
            [("slack-token", 1)]
        );
        assert_eq!(
            rules(&s, "sb_secret_abcdefghijklmnopqrstuvwxyz"),
            [("supabase-secret-key", 1)]
        );
        assert_eq!(rules(&s, "sb_publishable_abcdefghijklmnopqrstuvwxyz"), []);
        let off = Scanner::new(false, &[], &[], None);
        assert_eq!(rules(&off, &gh), []);
    }

    #[test]
    fn literal_secret_values_and_environment_texts() {
        let s = Scanner::new(
            true,
            &[
                ("`token`".into(), Secret::new("vercel_tok_s3cr3t")),
                ("`$SHORT`".into(), Secret::new("abc")),
            ],
            &["https://preview-ref.supabase.co".into()],
            Some("https://prod-ref.supabase.co"),
        );
        let found = s.scan("a.js", b"x\nvercel_tok_s3cr3t\nabc");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "secret-value");
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].message, "the value of `token` is in the bundle");
        assert_eq!(
            s.missing(),
            ["`https://prod-ref.supabase.co` (`expect-text`)"]
        );
        assert_eq!(
            rules(&s, "fetch('https://preview-ref.supabase.co/rest')"),
            [("forbid-text", 1)]
        );
        assert_eq!(s.missing().len(), 1);
        s.scan("b.js", b"url='https://prod-ref.supabase.co'");
        assert!(s.missing().is_empty());
    }
}

//! Filters that make snapshots stable: times, durations, ports, SHAs and temp paths change
//! from run to run, what a person reads around them does not.

/// `(regex, replacement)` pairs for `insta::with_settings!({ filters => … })`.
pub fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIME]",
        ),
        (r"\b\d+(\.\d+)? ?ms\b", "[DURATION]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"localhost:\d+", "localhost:[PORT]"),
        (r"\b[0-9a-f]{40}\b", "[SHA]"),
        (r"ghadelimiter_[0-9a-f]{32}", "ghadelimiter_[RANDOM]"),
        (r"/tmp/[A-Za-z0-9._/-]+", "[TEMP]"),
    ]
}

/// Runs `f` with the shipline filters on, so `insta::assert_snapshot!` inside it is stable.
pub fn with_filters<R>(f: impl FnOnce() -> R) -> R {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in filters() {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(f)
}

#[cfg(test)]
mod tests {
    #[test]
    fn filters_hide_what_changes() {
        super::with_filters(|| {
            insta::assert_snapshot!(
                "at 2026-12-02T13:33:31.123Z from 127.0.0.1:54321 took 532 ms, sha 0123456789abcdef0123456789abcdef01234567 in /tmp/.tmpAbC12/out",
                @"at [TIME] from 127.0.0.1:[PORT] took [DURATION], sha [SHA] in [TEMP]"
            );
        });
    }
}

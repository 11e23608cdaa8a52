//! The step summary (`$GITHUB_STEP_SUMMARY`), kept within GitHub's 1 MiB per step.

use std::fs::OpenOptions;
use std::io::Write;

/// GitHub refuses (and drops) a step summary larger than this.
pub const SUMMARY_LIMIT: usize = 1024 * 1024;

const CUT_NOTE: &str = "\n\n> **Note:** this summary was cut to stay within GitHub's 1 MiB step-summary limit; the full report is in the job log.\n";

/// Fits `markdown` into what is left of the step's budget, given `already` bytes written.
///
/// The cut lands on a character boundary and says that it happened, so a reader knows the
/// table they see is not the whole of it.
pub fn fit(markdown: &str, already: usize) -> String {
    let budget = SUMMARY_LIMIT.saturating_sub(already);
    if markdown.len() <= budget {
        return markdown.to_owned();
    }
    let room = budget.saturating_sub(CUT_NOTE.len());
    let mut end = room.min(markdown.len());
    while end > 0 && !markdown.is_char_boundary(end) {
        end -= 1;
    }
    if budget < CUT_NOTE.len() {
        return String::new();
    }
    format!("{}{CUT_NOTE}", &markdown[..end])
}

/// Appends the report's Markdown to the summary file.
pub fn append(path: &str, markdown: &str) -> Result<(), crate::ActionsError> {
    let already = std::fs::metadata(path)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let text = fit(markdown, already);
    let result = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    result.map_err(|source| crate::ActionsError::Write {
        var: "GITHUB_STEP_SUMMARY",
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_summaries_are_untouched() {
        assert_eq!(fit("## ok\n", 0), "## ok\n");
    }

    #[test]
    fn large_summaries_are_cut_on_a_char_boundary_with_a_note() {
        let big = "é".repeat(SUMMARY_LIMIT); // 2 MiB of two-byte chars
        let cut = fit(&big, 0);
        assert!(cut.len() <= SUMMARY_LIMIT);
        assert!(cut.ends_with(CUT_NOTE));
        assert!(cut.starts_with("éé"));
    }

    #[test]
    fn the_budget_counts_what_the_step_wrote_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.md");
        let path = path.to_str().unwrap();
        append(path, &"a".repeat(SUMMARY_LIMIT - 1000)).unwrap();
        append(path, &"b".repeat(10_000)).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.len() <= SUMMARY_LIMIT, "{}", text.len());
        assert!(text.ends_with(CUT_NOTE) && text.contains('b'));
        // Too little room left even for the note: nothing more is written.
        append(path, &"c".repeat(500)).unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), text);
    }
}

//! Step outputs in `$GITHUB_OUTPUT` and env for later steps in `$GITHUB_ENV`.
//!
//! Both files take `name=value` lines, or `name<<DELIM` … `DELIM` blocks for multi-line values.
//! Single-line values use the plain form: GitHub reads both, and local executors (wrkflw)
//! only read hyphenated names in the plain form.

use std::fs::OpenOptions;
use std::io::Write;

use rand::RngCore;

/// Encodes one `name`/`value` pair for an Actions file command.
///
/// The heredoc delimiter is random, and chosen again in the (practically impossible) case that
/// the value contains it, so no value can end the block early and inject further outputs.
pub fn encode(name: &str, value: &str) -> String {
    if !value.contains('\n') && !value.contains('\r') {
        return format!("{name}={value}\n");
    }
    let mut rng = rand::rng();
    loop {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        let delimiter = format!("ghadelimiter_{}", hex(&bytes));
        if !value.contains(&delimiter) {
            return format!("{name}<<{delimiter}\n{value}\n{delimiter}\n");
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends `name`/`value` pairs to the file named by `var` (`GITHUB_OUTPUT`, `GITHUB_ENV`).
pub fn append(
    var: &'static str,
    path: &str,
    pairs: &[(String, String)],
) -> Result<(), crate::ActionsError> {
    let text: String = pairs.iter().map(|(k, v)| encode(k, v)).collect();
    let result = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    result.map_err(|source| crate::ActionsError::Write {
        var,
        path: path.to_owned(),
        source,
    })
}

/// Reads an Actions file-command file back into pairs, as the runner does.
///
/// The binaries never need this; the test kit and the local demo do, so it lives beside the
/// writer it must agree with.
pub fn decode(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for next in lines.by_ref() {
                if next == delimiter {
                    break;
                }
                value.push(next);
            }
            pairs.push((name.to_owned(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            pairs.push((name.to_owned(), value.to_owned()));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_values_use_the_plain_form() {
        assert_eq!(
            encode("url", "https://x.vercel.app"),
            "url=https://x.vercel.app\n"
        );
        assert_eq!(encode("empty", ""), "empty=\n");
    }

    #[test]
    fn multi_line_values_use_a_random_delimiter_not_in_the_value() {
        let value = "line1\nghadelimiter_\nline3";
        let a = encode("findings", value);
        let b = encode("findings", value);
        let delimiter = a
            .lines()
            .next()
            .unwrap()
            .strip_prefix("findings<<")
            .unwrap();
        assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() == 13 + 32);
        assert!(!value.contains(delimiter));
        assert_ne!(a, b, "each block gets its own delimiter");
        assert_eq!(decode(&a), [("findings".to_owned(), value.to_owned())]);
    }

    #[test]
    fn a_value_cannot_inject_another_output() {
        let evil = "x\nghadelimiter_0000\nadmin=true";
        let text = encode("msg", evil) + &encode("ok", "1");
        assert_eq!(
            decode(&text),
            [
                ("msg".to_owned(), evil.to_owned()),
                ("ok".to_owned(), "1".to_owned())
            ]
        );
    }

    #[test]
    fn append_adds_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let path = path.to_str().unwrap();
        append("GITHUB_OUTPUT", path, &[("a".into(), "1".into())]).unwrap();
        append("GITHUB_OUTPUT", path, &[("b".into(), "2\n3".into())]).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            decode(&text),
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2\n3".to_owned())
            ]
        );
    }

    #[test]
    fn an_unwritable_file_names_the_variable() {
        let err = append("GITHUB_OUTPUT", "/nonexistent/dir/out", &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not write `/nonexistent/dir/out` (from `GITHUB_OUTPUT`)")
        );
    }
}

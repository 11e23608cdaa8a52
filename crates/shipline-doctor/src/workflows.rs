//! The workflow files: `pull_request_target` with a checkout of the pull request's head runs
//! a fork's code with the repository's secrets and a write token ("pwn request").

use std::path::Path;

use serde_yaml_ng::Value;

use crate::finding::Finding;

const CHECK: &str = "pull_request_target";

/// Expressions that name the pull request's own code rather than the base branch.
const HEAD_REFS: &[&str] = &[
    "github.event.pull_request.head",
    "github.head_ref",
    "refs/pull/",
];

/// Every workflow in `dir`; files that are not YAML are reported, not skipped silently.
pub fn scan(dir: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut names: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect(),
        Err(e) => {
            return vec![Finding::warning(
                CHECK,
                format!(
                    "`{}` cannot be read ({e}): the workflows were not checked",
                    dir.display()
                ),
            )];
        }
    };
    names.sort();
    for path in &names {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                findings.push(Finding::warning(
                    CHECK,
                    format!("`{name}` cannot be read: {e}"),
                ));
                continue;
            }
        };
        match serde_yaml_ng::from_str::<Value>(&text) {
            Ok(doc) => findings.extend(check_workflow(&name, &doc)),
            Err(e) => findings.push(Finding::warning(
                CHECK,
                format!("`{name}` is not valid YAML: {e}"),
            )),
        }
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            CHECK,
            format!(
                "{} workflow(s): none checks out a pull request's head under `pull_request_target`",
                names.len()
            ),
        ));
    }
    findings
}

fn triggers(doc: &Value) -> Vec<String> {
    match doc.get("on") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Sequence(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::Mapping(map)) => map
            .keys()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn names_head(text: &str) -> bool {
    HEAD_REFS.iter().any(|r| text.contains(r))
}

/// One workflow's findings.
pub fn check_workflow(name: &str, doc: &Value) -> Vec<Finding> {
    if !triggers(doc).iter().any(|t| t == "pull_request_target") {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let Some(jobs) = doc.get("jobs").and_then(Value::as_mapping) else {
        return findings;
    };
    for (job_id, job) in jobs {
        let job_id = job_id.as_str().unwrap_or("?");
        let steps = job
            .get("steps")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for step in &steps {
            let uses = step.get("uses").and_then(Value::as_str).unwrap_or("");
            let checkout_of_head = uses.starts_with("actions/checkout@")
                && step
                    .get("with")
                    .and_then(|w| w.get("ref"))
                    .and_then(Value::as_str)
                    .is_some_and(names_head);
            let run = step.get("run").and_then(Value::as_str).unwrap_or("");
            let fetch_of_head =
                run.contains("gh pr checkout") || (run.contains("git ") && names_head(run));
            if checkout_of_head || fetch_of_head {
                findings.push(Finding::error(
                    CHECK,
                    format!(
                        "`{name}` job `{job_id}` checks out the pull request's head under `pull_request_target`: a fork's code would run with this repository's secrets and a write token. Build untrusted code on `pull_request` and deploy its artifact from `workflow_run` (docs/pipeline.md)"
                    ),
                ));
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;

    fn check(yaml: &str) -> Vec<Finding> {
        check_workflow("w.yml", &serde_yaml_ng::from_str(yaml).unwrap())
    }

    #[test]
    fn a_checkout_of_the_head_under_pull_request_target_is_an_error() {
        let found = check(
            "on: pull_request_target\njobs:\n  build:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].level, Level::Error);
        assert!(found[0].message.contains("job `build`"));
        let fetched = check(
            "on: [pull_request_target]\njobs:\n  b:\n    steps:\n      - run: git fetch origin ${{ github.head_ref }} && git checkout FETCH_HEAD\n",
        );
        assert_eq!(fetched.len(), 1);
    }

    #[test]
    fn the_base_branch_or_another_trigger_is_fine() {
        assert!(check("on:\n  pull_request_target:\n    types: [labeled]\njobs:\n  c:\n    steps:\n      - uses: actions/checkout@v4\n").is_empty());
        assert!(check("on: pull_request\njobs:\n  c:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n").is_empty());
    }
}

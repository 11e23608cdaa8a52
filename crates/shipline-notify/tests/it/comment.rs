//! `github-comment`: one sticky comment per (key, pull request).

use shipline_testkit::ActionsStep;
use shipline_testkit::snapshot::with_filters;

use crate::EXE;
use crate::common::{PR, at, comments, github, on_pr, writes};

#[test]
fn the_comment_is_created_once_then_updated_in_place() {
    let gh = github();
    let first = on_pr(&gh)
        .input("to", "github-comment")
        .input("status", "in_progress")
        .input("title", "Preview of acme/webapp")
        .run(EXE, &[]);
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let id = first.outputs["comment-id"].clone();
    assert_eq!(
        writes(&gh),
        [format!("POST /repos/acme/webapp/issues/{PR}/comments")]
    );

    let second = on_pr(&gh)
        .input("to", "github-comment")
        .input("status", "success")
        .input("title", "Preview of acme/webapp")
        .input("url", "https://webapp-git-fix-acme.vercel.app")
        .input("environment", "preview/pr-2")
        .input(
            "migrations",
            "2 pending: 20261201_add_orders, 20261202_index_orders",
        )
        .input("timings", "build 41s, upload 3s, verify 1s")
        .run(EXE, &[]);
    assert_eq!(second.code, Some(0), "{}", second.everything());
    assert_eq!(second.outputs["comment-id"], id, "the same comment");
    assert_eq!(
        writes(&gh),
        [
            format!("POST /repos/acme/webapp/issues/{PR}/comments"),
            format!("PATCH /repos/acme/webapp/issues/comments/{id}"),
        ],
        "exactly one POST, then a PATCH: never deleted and recreated"
    );
    let all = comments(&gh, PR);
    assert_eq!(all.len(), 1);
    let body = all[0]["body"].as_str().unwrap().to_owned();
    assert!(body.starts_with("<!-- shipline:ship/deploy -->"), "{body}");
    with_filters(|| insta::assert_snapshot!("preview_comment", body));
}

#[test]
fn a_marker_copied_by_someone_else_is_never_edited() {
    let gh = github();
    let copied = "<!-- shipline:ship/deploy -->\nI copied the marker";
    let foreign = gh.state().add_comment_by(PR, "mallory", copied);
    let result = on_pr(&gh).input("to", "github-comment").run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_ne!(result.outputs["comment-id"], foreign.to_string());
    let all = comments(&gh, PR);
    assert_eq!(all.len(), 2, "ours was created beside it");
    assert_eq!(all[0]["body"], copied, "the foreign comment is untouched");
    assert!(
        writes(&gh).iter().all(|w| !w.starts_with("PATCH")),
        "{:?}",
        writes(&gh)
    );
}

#[test]
fn three_hundred_comments_are_paged_through() {
    let gh = github();
    for n in 0..300 {
        gh.state()
            .add_comment_by(PR, "reviewer", &format!("comment {n}"));
    }
    let run = || on_pr(&gh).input("to", "github-comment").run(EXE, &[]);
    let first = run();
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let second = run();
    assert_eq!(second.code, Some(0), "{}", second.everything());
    assert_eq!(first.outputs["comment-id"], second.outputs["comment-id"]);
    let lists = gh.requests_to("GET", &format!("/repos/acme/webapp/issues/{PR}/comments"));
    // 300 comments are 3 pages of 100; 301 are 4.
    assert_eq!(
        lists.len(),
        3 + 4,
        "{:?}",
        lists.iter().map(|r| r.line()).collect::<Vec<_>>()
    );
    assert_eq!(comments(&gh, PR).len(), 301);
    let w = writes(&gh);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("POST") && w[1].starts_with("PATCH"),
        "{w:?}"
    );
}

#[test]
fn append_keeps_a_table_of_every_run_newest_first() {
    let gh = github();
    for (n, sha) in ["1111111", "2222222", "3333333"].iter().enumerate() {
        let result = on_pr(&gh)
            .input("to", "github-comment")
            .input("comment-mode", "append")
            .input("commit", &sha.repeat(6)[..40])
            .input("url", &format!("https://preview-{n}.acme.dev"))
            .run(EXE, &[]);
        assert_eq!(result.code, Some(0), "{}", result.everything());
    }
    let all = comments(&gh, PR);
    assert_eq!(all.len(), 1);
    let body = all[0]["body"].as_str().unwrap();
    assert!(body.contains("Every run (3)"), "{body}");
    let rows = shipline_notify::comment::history_rows(body);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].contains("`3333333`") && rows[0].contains("preview-2"),
        "{rows:?}"
    );
    assert!(
        rows[2].contains("`1111111`") && rows[2].contains("preview-0"),
        "{rows:?}"
    );
}

#[test]
fn hide_previous_collapses_the_old_comment_and_posts_a_new_one() {
    let gh = github();
    let run = || {
        on_pr(&gh)
            .input("to", "github-comment")
            .input("comment-mode", "hide-previous")
            .run(EXE, &[])
    };
    let first = run();
    assert_eq!(first.code, Some(0), "{}", first.everything());
    let second = run();
    assert_eq!(second.code, Some(0), "{}", second.everything());
    let all = comments(&gh, PR);
    assert_eq!(all.len(), 2);
    assert_ne!(first.outputs["comment-id"], second.outputs["comment-id"]);
    assert_eq!(gh.state().minimized, [all[0]["node_id"].as_str().unwrap()]);
    let minimize = gh.requests_to("POST", "/graphql");
    assert!(
        minimize
            .iter()
            .any(|r| r.json()["query"].as_str().unwrap().contains("OUTDATED")),
        "collapsed as outdated"
    );
}

#[test]
fn a_push_finds_the_pull_request_by_its_commit() {
    let gh = github();
    let head = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"; // push.json's `after`
    gh.state().pulls_by_commit.insert(head.into(), vec![7]);
    let result = at(ActionsStep::push(), &gh)
        .input("to", "github-comment")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert_eq!(comments(&gh, 7).len(), 1);
    assert_eq!(
        gh.requests_to("GET", &format!("/repos/acme/webapp/commits/{head}/pulls"))
            .len(),
        1
    );
}

#[test]
fn no_pull_request_is_a_clear_notice_not_a_silent_skip() {
    let gh = github();
    let result = at(ActionsStep::push(), &gh)
        .input("to", "github-comment")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result
            .stdout
            .contains("::notice title=notify%3A no pull request::no pull request to comment on"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("`pr-number`"), "{}", result.stdout);
    assert!(
        result.summary.contains("skipped: no pull request"),
        "{}",
        result.summary
    );
    assert!(writes(&gh).is_empty());
}

#[test]
fn a_huge_message_is_cut_to_github_s_limit_with_a_note() {
    let gh = github();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.md");
    std::fs::write(&file, "a long log line\n".repeat(5_000)).unwrap();
    let result = on_pr(&gh)
        .input("to", "github-comment")
        .input("message-file", file.to_str().unwrap())
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    assert!(
        result.summary.contains("cut to GitHub's limit"),
        "{}",
        result.summary
    );
    let body = comments(&gh, PR)[0]["body"].as_str().unwrap().to_owned();
    assert!(body.chars().count() <= 65_536, "{}", body.chars().count());
    assert!(body.chars().count() > 60_000, "most of it kept");
    assert!(body.contains("cut to fit GitHub's 65,536-character limit"));
    assert!(
        body.trim_end().ends_with("</sub>"),
        "the footer survives the cut"
    );
}

#[test]
fn a_token_without_pull_requests_write_is_named() {
    let gh = github();
    gh.state().read_only = true;
    let result = on_pr(&gh).input("to", "github-comment").run(EXE, &[]);
    assert_eq!(result.code, Some(1), "{}", result.everything());
    assert!(
        result.stdout.contains("`pull-requests: write`"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("workflow_run"),
        "the fork pattern is pointed to: {}",
        result.stdout
    );
    assert_eq!(result.outputs["failed"], "github-comment");
}

#[test]
fn titles_with_quotes_newlines_and_markdown_stay_one_heading() {
    let gh = github();
    let title = "Fix \"quotes\" | pipes\n# not a heading <!-- shipline:other --> **bold**";
    let result = on_pr(&gh)
        .input("to", "github-comment")
        .input("title", title)
        .input("fields", "Owner: @acme/web | team\nNote: <!-- hidden -->")
        .run(EXE, &[]);
    assert_eq!(result.code, Some(0), "{}", result.everything());
    let body = comments(&gh, PR)[0]["body"].as_str().unwrap().to_owned();
    assert_eq!(
        body.matches("<!-- shipline:").count(),
        1,
        "user text cannot add a marker: {body}"
    );
    let heading = body.lines().find(|l| l.starts_with("### ")).unwrap();
    assert!(
        heading.contains("Fix \"quotes\" | pipes # not a heading"),
        "{heading}"
    );
    assert!(
        body.contains("| **Owner** | @acme/web \\| team |"),
        "{body}"
    );
}

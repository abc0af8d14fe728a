use serde_json::json;

use super::*;
use crate::http::recording::{block_on, RecordingClient};
use crate::http::Secret;
use crate::parse::{parse_bytes, FormatChoice};

fn report(xml: &str) -> Vec<FileReport> {
    vec![FileReport {
        path: "junit.xml".into(),
        result: parse_bytes(xml.as_bytes(), FormatChoice::Auto),
        original: None,
    }]
}

const ONE_FAILURE: &str = r#"<testsuite name="s"><testcase classname="a" name="ok" time="0.1"/><testcase classname="a" name="bad" time="0.2"><failure message="boom"/></testcase></testsuite>"#;

fn comment(mode: CommentMode, pull: PullRequest) -> PrComment {
    PrComment {
        api: Api {
            url: "https://ghe.acme.io/api/v3".into(),
            repository: "acme/widgets".into(),
            token: Secret::new("ghs_secret"),
        },
        name: "Unit tests".into(),
        mode,
        pull,
        failing: true,
        digest: "v1-0000000000000001".into(),
    }
}

#[test]
fn the_digest_follows_results_not_timings() {
    let base = results_digest(&report(ONE_FAILURE));
    let slower = results_digest(&report(&ONE_FAILURE.replace("0.2", "9.5")));
    assert_eq!(base, slower, "durations change on every run");
    let other_failure = results_digest(&report(
        &ONE_FAILURE.replace("name=\"bad\"", "name=\"worse\""),
    ));
    assert_ne!(base, other_failure);
    let fixed = results_digest(&report(
        &ONE_FAILURE.replace("<failure message=\"boom\"/>", ""),
    ));
    assert_ne!(base, fixed);
    assert!(base.starts_with("v1-") && base.len() == 19, "{base}");
}

#[test]
fn the_marker_reads_back_and_hides_hostile_names() {
    let hostile = "Tests --> <b>\"x\"</b>\n%";
    let line = marker(hostile, "v1-abc");
    assert!(!line[4..line.len() - 3].contains("--"), "{line}");
    assert_eq!(line.lines().count(), 1);
    let body = body(hostile, "v1-abc", "## results");
    let (name, digest) = parse_marker(&body).unwrap();
    assert_eq!(name, marker_name(hostile));
    assert_eq!(digest, "v1-abc");
    assert_ne!(marker_name("Unit tests"), marker_name("Unit tests (linux)"));
}

#[test]
fn the_pull_request_comes_from_the_event_or_the_triggering_run() {
    assert_eq!(
        pull_request_of(None, Some(12)),
        Some(PullRequest::Number(12))
    );
    let same_repo = json!({"workflow_run": {"head_sha": "abc", "pull_requests": [{"number": 5}]}});
    assert_eq!(
        pull_request_of(Some(&same_repo), None),
        Some(PullRequest::Number(5))
    );
    let fork = json!({"workflow_run": {"head_sha": "abc", "pull_requests": []}});
    assert_eq!(
        pull_request_of(Some(&fork), None),
        Some(PullRequest::HeadSha("abc".into()))
    );
    assert_eq!(
        pull_request_of(Some(&json!({"ref": "refs/heads/main"})), None),
        None
    );
}

#[test]
fn changes_mode_leaves_a_comment_with_the_same_results_alone() {
    let c = comment(CommentMode::Changes, PullRequest::Number(7));
    let existing = json!([
        {"id": 1, "body": "LGTM"},
        {"id": 2, "body": body(&c.name, &c.digest, "old"), "html_url": "https://ghe.acme.io/acme/widgets/pull/7#issuecomment-2"}
    ]);
    let client = RecordingClient::new();
    client.respond(200, &existing.to_string());
    let outcome = block_on(publish(&client, &c, "new", &RetryPolicy::default()))
        .unwrap()
        .unwrap();
    let CommentOutcome::Written(receipt) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(receipt.action, CommentAction::Unchanged);
    assert_eq!(receipt.id, 2);
    assert_eq!(client.requests().len(), 1, "only the listing");
}

#[test]
fn failures_mode_makes_no_new_comment_for_a_green_run() {
    let mut c = comment(CommentMode::Failures, PullRequest::Number(7));
    c.failing = false;
    let client = RecordingClient::new();
    client.respond(200, r#"[{"id": 1, "body": "LGTM"}]"#);
    let outcome = block_on(publish(&client, &c, "all green", &RetryPolicy::default()))
        .unwrap()
        .unwrap();
    assert_eq!(outcome, CommentOutcome::NothingToReport);
    assert_eq!(client.requests().len(), 1);
}

#[test]
fn a_fork_run_finds_its_open_pull_request_by_head_sha() {
    let c = comment(CommentMode::Always, PullRequest::HeadSha("f00d".into()));
    let client = RecordingClient::new();
    client
        .respond(
            200,
            r#"[{"number": 3, "state": "closed", "head": {"sha": "f00d"}}, {"number": 9, "state": "open", "head": {"sha": "f00d"}}]"#,
        )
        .respond(200, "[]")
        .respond(201, r#"{"id": 44, "html_url": "https://ghe.acme.io/acme/widgets/pull/9#issuecomment-44"}"#);
    let outcome = block_on(publish(&client, &c, "## results", &RetryPolicy::default()))
        .unwrap()
        .unwrap();
    let CommentOutcome::Written(receipt) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (receipt.id, receipt.pull_number, receipt.action),
        (44, 9, CommentAction::Created)
    );
    let urls: Vec<(String, String)> = client
        .requests()
        .into_iter()
        .map(|r| (r.method, r.url))
        .collect();
    assert_eq!(
        urls,
        [
            (
                "GET".to_owned(),
                "https://ghe.acme.io/api/v3/repos/acme/widgets/commits/f00d/pulls".to_owned()
            ),
            (
                "GET".to_owned(),
                "https://ghe.acme.io/api/v3/repos/acme/widgets/issues/9/comments?per_page=100"
                    .to_owned()
            ),
            (
                "POST".to_owned(),
                "https://ghe.acme.io/api/v3/repos/acme/widgets/issues/9/comments".to_owned()
            ),
        ]
    );
}

#[test]
fn no_open_pull_request_for_the_commit_means_no_comment() {
    let c = comment(CommentMode::Always, PullRequest::HeadSha("f00d".into()));
    let client = RecordingClient::new();
    client.respond(200, "[]");
    let outcome = block_on(publish(&client, &c, "x", &RetryPolicy::default()))
        .unwrap()
        .unwrap();
    assert_eq!(outcome, CommentOutcome::NoPullRequest);
}

#[test]
fn the_body_budget_keeps_the_comment_within_githubs_limit() {
    let budget = body_budget("Unit tests", "v1-0123456789abcdef");
    let summary = "é".repeat(budget / 2);
    let full = body("Unit tests", "v1-0123456789abcdef", &summary);
    assert!(full.chars().count() <= COMMENT_MAX_CHARS);
    assert!(full.len() <= COMMENT_MAX_CHARS);
}

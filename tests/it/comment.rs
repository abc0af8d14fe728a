//! The pull-request comment, through the native binary against the GitHub fake: one comment per
//! name, updated in place, within GitHub's 65,536 characters, found from a fork's head SHA, and
//! a notice (not a failed step) on a read-only token.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::fakes::FakeServices;
use crate::support::repo;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
/// GitHub's comment body limit, as the fake enforces it.
const COMMENT_MAX_CHARS: usize = 65_536;

struct Run<'a> {
    fake: &'a FakeServices,
    token: &'a str,
    event: Value,
    report: &'a str,
    mode: &'a str,
}

fn run(r: &Run<'_>, dir: &Path) -> Output {
    let event = dir.join("event.json");
    std::fs::write(&event, r.event.to_string()).unwrap();
    let api = format!("{}/github", r.fake.url);
    Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args([
            "summary",
            r.report,
            "--check-run",
            "false",
            "--check-name",
            "Unit tests",
            "--pr-comment",
            r.mode,
        ])
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_TOKEN", r.token)
        .env("GITHUB_API_URL", &api)
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_SHA", SHA)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_PATH", &event)
        .output()
        .expect("the test-report binary runs")
}

fn pull_request(number: u64) -> Value {
    json!({"pull_request": {"number": number, "head": {"sha": SHA, "ref": "feature"}}})
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The bodies the fake received for comment writes, as `METHOD path` + JSON body.
fn comment_writes(fake: &FakeServices) -> Vec<(String, Value)> {
    fake.requests("github")
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                ),
                serde_json::from_str(r["body_utf8"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn one_comment_per_name_is_created_then_updated_in_place() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let mut r = Run {
        fake: &fake,
        token: "github-token",
        event: pull_request(7),
        report: "examples/failing.xml",
        mode: "always",
    };
    let first = run(&r, dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    r.report = "examples/passing.xml";
    let second = run(&r, dir.path());
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));

    let state = fake.state("github");
    let comments = state["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{state}");
    assert_eq!(comments[0]["issue_number"], 7);
    assert_eq!(comments[0]["updates"], 1);
    let body = comments[0]["body"].as_str().unwrap();
    assert!(body.starts_with("<!-- test-report-action:comment name=\"Unit tests\""));
    assert!(body.contains("## ✅ Test results"), "{body}");
    let writes = comment_writes(&fake);
    assert_eq!(
        writes
            .iter()
            .map(|(call, _)| call.as_str())
            .collect::<Vec<_>>(),
        [
            "POST /github/repos/acme/widgets/issues/7/comments",
            "PATCH /github/repos/acme/widgets/issues/comments/1001"
        ]
    );
    insta::assert_json_snapshot!(writes);
}

#[test]
fn changes_mode_leaves_the_comment_alone_when_the_results_are_the_same() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let r = Run {
        fake: &fake,
        token: "github-token",
        event: pull_request(7),
        report: "examples/failing.xml",
        mode: "changes",
    };
    for _ in 0..2 {
        let out = run(&r, dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let writes = comment_writes(&fake);
    assert_eq!(writes.len(), 1, "created once, never updated: {writes:?}");
    let other = Run {
        report: "examples/passing.xml",
        ..r
    };
    assert_eq!(run(&other, dir.path()).status.code(), Some(0));
    assert_eq!(comment_writes(&fake).len(), 2, "new results update it");
    assert_eq!(
        fake.state("github")["comments"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn under_workflow_run_a_fork_pr_is_found_from_the_head_sha() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/config",
        &json!({"github": {"pulls": {SHA: [{"number": 42, "state": "open", "head": {"sha": SHA}}]}}})
            .to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &Run {
            fake: &fake,
            token: "github-token",
            event: json!({"workflow_run": {"head_sha": SHA, "head_branch": "patch-1", "pull_requests": []}}),
            report: "examples/failing.xml",
            mode: "failures",
        },
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let comments = fake.state("github")["comments"].clone();
    assert_eq!(comments[0]["issue_number"], 42, "{comments}");
    let paths: Vec<String> = fake
        .requests("github")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        paths[0],
        format!("GET /github/repos/acme/widgets/commits/{SHA}/pulls")
    );
}

#[test]
fn a_read_only_token_gets_a_notice_not_a_failed_step() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd_run = Run {
        fake: &fake,
        token: "github-readonly-token",
        event: pull_request(7),
        report: "examples/failing.xml",
        mode: "always",
    };
    let out = run(&cmd_run, dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no pull request comment: the token may not write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fake.state("github")["comments"].as_array().unwrap().len(),
        0
    );
    // Not a notice when the service itself fails: that is a publish error (exit 3).
    cmd_run.token = "github-token";
    fake.control(
        "/_fake/faults",
        r#"[{"service":"github","method":"POST","times":9,"fault":{"status":500}}]"#,
    );
    assert_eq!(run(&cmd_run, dir.path()).status.code(), Some(3));
}

#[test]
fn five_thousand_failures_fit_one_comment() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let mut xml = String::from("<testsuite name=\"many\">");
    for i in 0..5_000 {
        xml.push_str(&format!(
            "<testcase classname=\"pkg.Suite{}\" name=\"case_{i}\"><failure message=\"expected {i} to equal {}\">{}</failure></testcase>",
            i % 40,
            i + 1,
            "at pkg.Suite.case(Suite.java:12)\n".repeat(20)
        ));
    }
    xml.push_str("</testsuite>");
    let report = dir.path().join("many.xml");
    std::fs::write(&report, xml).unwrap();
    let out = run(
        &Run {
            fake: &fake,
            token: "github-token",
            event: pull_request(7),
            report: report.to_str().unwrap(),
            mode: "always",
        },
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let state = fake.state("github");
    let body = state["comments"][0]["body"].as_str().unwrap();
    let chars = body.chars().count();
    assert!(chars <= COMMENT_MAX_CHARS, "{chars}");
    assert!(chars > COMMENT_MAX_CHARS / 2, "the budget is used: {chars}");
    assert!(body.contains("**5000** tests"), "the totals survive");
    assert!(body.contains("64 KiB"), "the cut is announced");
}

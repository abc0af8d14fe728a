//! The native binary against the fake services: what each service ends up with.

use std::process::{Command, Output};

use crate::fakes::FakeServices;
use crate::support::repo;

/// Runs `test-report` with a clean environment apart from `env`.
fn test_report(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_test-report"));
    cmd.args(args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the test-report binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn shard(fake: &FakeServices, report: &str, finalize: &str, token: &str) -> Output {
    let url = format!("{}/testnod", fake.url);
    test_report(
        &[
            "summary",
            report,
            "--testnod-token",
            token,
            "--testnod-url",
            &url,
            "--testnod-build-id",
            "run-77-1",
            "--testnod-finalize",
            finalize,
        ],
        &[],
    )
}

#[test]
fn a_matrix_of_three_shards_and_a_fan_in_job_make_one_processed_run() {
    let fake = FakeServices::start();
    for report in [
        "examples/passing.xml",
        "examples/failing.xml",
        "tests/conformance/nextest/fixtures/stress-test-junit.xml",
    ] {
        let out = shard(&fake, report, "false", "testnod-token");
        assert_eq!(out.status.code(), Some(0), "{report}: {}", stderr(&out));
    }
    let fan_in = shard(&fake, "examples/passing.xml", "only", "testnod-token");
    assert_eq!(fan_in.status.code(), Some(0), "{}", stderr(&fan_in));
    fake.control("/_fake/advance", "");

    let state = fake.state("testnod");
    let runs = state["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{state}");
    let run = &runs[0];
    assert_eq!(run["build_id"], "run-77-1");
    assert_eq!(run["status"], "processed");
    let uploads = run["uploads"].as_array().unwrap();
    assert_eq!(uploads.len(), 3);
    // The JUnit files arrived byte for byte.
    let original = std::fs::read_to_string(repo().join("examples/failing.xml")).unwrap();
    assert_eq!(uploads[1]["file_utf8"].as_str(), Some(original.as_str()));
    // The project token never reached the storage host.
    for request in fake.requests("storage") {
        let headers = request["headers"].as_array().unwrap();
        assert!(headers.iter().all(|h| h[0] != "project-token"), "{request}");
        assert!(headers
            .iter()
            .all(|h| !h[0].as_str().unwrap().starts_with("x-amz-meta-")));
    }
}

#[test]
fn an_unknown_token_fails_with_exit_3_and_says_what_to_do() {
    let fake = FakeServices::start();
    let out = shard(&fake, "examples/passing.xml", "true", "wrong-token");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("project token not recognised"),
        "{}",
        stderr(&out)
    );
    // The summary still came out.
    assert!(String::from_utf8_lossy(&out.stdout).contains("**4** tests"));
}

#[test]
fn an_overloaded_service_is_retried_until_it_answers() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testnod","method":"POST","path_regex":"/upload$","times":2,"fault":{"status":503,"retry_after":"0"}},
            {"service":"storage","method":"PUT","times":1,"fault":{"status":500}}]"#,
    );
    let out = shard(&fake, "examples/passing.xml", "true", "testnod-token");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let uploads = fake
        .requests("testnod")
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/upload"))
        .count();
    assert_eq!(uploads, 3, "two 503s, then the upload");
    assert_eq!(
        fake.requests("storage").len(),
        2,
        "the PUT was retried once after the 500"
    );
    assert_eq!(fake.state("testnod")["runs"][0]["status"], "processing");
}

#[test]
fn an_expired_presigned_url_is_reported_to_testnod_and_the_run_still_finalizes() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/config",
        r#"{"testnod":{"presigned_url_ttl_secs":0}}"#,
    );
    let out = shard(&fake, "examples/passing.xml", "true", "testnod-token");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("reported to TestNod as failed"),
        "{}",
        stderr(&out)
    );
    let run = &fake.state("testnod")["runs"][0];
    assert_eq!(run["uploads"][0]["state"], "failed", "{run}");
}

fn failing_report(tests: usize) -> String {
    let mut xml = String::from("<testsuite name=\"many\">");
    for i in 0..tests {
        xml.push_str(&format!(
            "<testcase classname=\"t\" name=\"case{i}\" file=\"examples/failing.xml\" line=\"{}\"><failure message=\"boom {i}\"/></testcase>",
            i + 1
        ));
    }
    xml.push_str("</testsuite>");
    xml
}

#[test]
fn a_check_run_carries_every_annotation() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("many.xml");
    std::fs::write(&report, failing_report(120)).unwrap();
    let api = format!("{}/github", fake.url);
    let out = test_report(
        &[
            "summary",
            report.to_str().unwrap(),
            "--check-run",
            "true",
            "--check-name",
            "Unit tests",
        ],
        &[
            ("GITHUB_TOKEN", "github-token"),
            ("GITHUB_API_URL", &api),
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("GITHUB_ACTIONS", "true"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let state = fake.state("github");
    let runs = state["check_runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{state}");
    let run = &runs[0];
    assert_eq!(run["name"], "Unit tests");
    assert_eq!(run["head_sha"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(run["conclusion"], "failure");
    assert_eq!(run["annotations"].as_array().map(Vec::len), Some(120));
    assert_eq!(run["annotation_batches"], serde_json::json!([50, 50, 20]));
    // The job's own annotations are left to the check run.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::error file="));
}

#[test]
fn a_read_only_token_falls_back_to_job_annotations_with_a_notice() {
    let fake = FakeServices::start();
    let api = format!("{}/github", fake.url);
    let out = test_report(
        &["summary", "examples/failing.xml"],
        &[
            ("GITHUB_TOKEN", "github-readonly-token"),
            ("GITHUB_API_URL", &api),
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("GITHUB_ACTIONS", "true"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::notice::no check run"), "{stdout}");
    assert!(stdout.contains("::error file="), "{stdout}");
    assert_eq!(
        fake.state("github")["check_runs"].as_array().map(Vec::len),
        Some(0)
    );
}

//! ValueEdge / ALM Octane against the fake (`/octane`) and the schema: what the service ends up
//! with, what the user sees, and how the requests are paced.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use test_report::http::native::NativeClient;
use test_report::http::retry::RetryPolicy;
use test_report::http::Secret;
use test_report::parse::Format;
use test_report::pipeline::FileReport;
use test_report::upload::valueedge::{
    self, FieldType, Links, Receipt, Release, RunContext, ValueedgeConfig,
};

use crate::fakes::FakeServices;
use crate::support::{files_under, parse_file, parse_str, repo};

const SCHEMA: &str = "tests/valueedge/test-result.xsd";

fn test_report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("the test-report binary runs")
}

/// `summary REPORT` uploading to the fake, plus `extra` flags.
fn upload_cli(fake: &FakeServices, report: &str, extra: &[&str]) -> Output {
    let url = format!("{}/octane", fake.url);
    let mut args = vec![
        "summary",
        report,
        "--valueedge-url",
        &url,
        "--valueedge-shared-space",
        "1001",
        "--valueedge-workspace",
        "1002",
        "--valueedge-client-id",
        "octane-client",
        "--valueedge-client-secret",
        "octane-secret",
    ];
    args.extend_from_slice(extra);
    test_report(&args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn links() -> Links {
    Links {
        release: Some(Release::Id(77)),
        backlog_items: vec![5001],
        product_areas: vec![6001],
        test_fields: vec![
            (FieldType::TestLevel, "Integration Test".into()),
            (FieldType::TestType, "Sanity".into()),
            (FieldType::TestType, "Regression".into()),
            (FieldType::TestingTool, "Selenium".into()),
            (FieldType::Framework, "JUnit".into()),
        ],
        environment: vec![("OS".into(), "Linux".into())],
    }
}

fn config(fake: &FakeServices) -> ValueedgeConfig {
    ValueedgeConfig {
        base_url: format!("{}/octane", fake.url),
        shared_space: "1001".into(),
        workspace: "1002".into(),
        client_id: Secret::new("octane-client"),
        client_secret: Secret::new("octane-secret"),
        skip_errors: false,
        wait: true,
        context: RunContext {
            links: links(),
            external_report_url: Some("https://github.com/o/r/actions/runs/1".into()),
            started_ms: 1_760_000_000_000,
        },
        max_payload_bytes: valueedge::MAX_PAYLOAD_BYTES,
    }
}

/// The fake knows every entity `links()` names.
fn know_the_links(fake: &FakeServices) {
    fake.control(
        "/_fake/config",
        r#"{"octane":{"known_ids":{"release":[77],"backlog_item":[5001],"product_area":[6001]}}}"#,
    );
}

/// The library's flow over the native client, as the CLI runs it.
fn upload(config: &ValueedgeConfig, files: &[FileReport]) -> Receipt {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = NativeClient::new();
    runtime.block_on(valueedge::upload(
        &client,
        config,
        files,
        &RetryPolicy::default(),
    ))
}

fn fixture_files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["tests/fixtures", "tests/conformance", "examples"]
        .iter()
        .flat_map(|dir| files_under(&repo().join(dir)))
        .collect();
    out.sort();
    out
}

/// Runs xmllint on the documents; answers its report when one does not validate.
fn xmllint(dir: &Path, docs: &[(String, String)]) -> Result<(), String> {
    let mut paths = Vec::new();
    for (i, (_, xml)) in docs.iter().enumerate() {
        let path = dir.join(format!("{i}.xml"));
        std::fs::write(&path, xml).unwrap();
        paths.push(path);
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(repo().join(SCHEMA))
        .args(&paths)
        .output()
        .expect("xmllint runs: install libxml2-utils (.ci/run does)");
    if out.status.success() {
        return Ok(());
    }
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    let sources: Vec<String> = docs
        .iter()
        .enumerate()
        .filter(|(i, _)| report.contains(&format!("{i}.xml")))
        .map(|(i, (source, _))| format!("{i}.xml ← {source}"))
        .collect();
    Err(format!("{report}\n{}", sources.join("\n")))
}

#[test]
fn every_payload_from_every_fixture_validates_against_the_schema_and_the_fake() {
    let mut docs = Vec::new();
    let mut formats = BTreeSet::new();
    let mut files = Vec::new();
    for path in fixture_files() {
        let file = parse_file(&path);
        let Ok((format, _)) = &file.result else {
            continue;
        };
        let first_of_its_format = formats.insert(format.as_str());
        let context = RunContext {
            links: links(),
            external_report_url: Some("https://github.com/o/r/actions/runs/1".into()),
            started_ms: 1_760_000_000_000,
        };
        for doc in valueedge::payload::documents(
            std::slice::from_ref(&file),
            &context,
            valueedge::MAX_PAYLOAD_BYTES,
        ) {
            docs.push((path.display().to_string(), doc.xml));
        }
        if first_of_its_format {
            files.push(file);
        }
    }
    let all: BTreeSet<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(formats, all, "a fixture of every format");
    assert!(docs.len() > 100, "{} documents", docs.len());
    assert!(docs.iter().any(|(_, x)| x.contains("<gherkin_test_run ")));
    let dir = tempfile::tempdir().unwrap();
    xmllint(dir.path(), &docs).unwrap();

    // The fake's hand-encoded rules accept them too: a file of each format in one upload (all
    // of them take half a minute in a debug build).
    let fake = FakeServices::start();
    know_the_links(&fake);
    let receipt = upload(&config(&fake), &files);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.status(), Some("success"));
    let state = fake.state("octane");
    let stored: usize = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["runs"].as_array().unwrap().len())
        .sum();
    assert_eq!(stored, receipt.runs());
    assert!(
        state["tasks"].as_array().unwrap().len() >= 2,
        "plain and gherkin documents"
    );
}

#[test]
fn the_schema_check_can_fail() {
    let bad = r#"<test_result><test_runs><test_run name="x" duration="1" status="Error"/></test_runs></test_result>"#;
    let mixed = r#"<test_result><test_runs><test_run name="x" duration="1" status="Passed"/><gherkin_test_run name="f" duration="1" status="Passed"><feature name="f" path="f" tag="" started="1"><file/></feature></gherkin_test_run></test_runs></test_result>"#;
    let dir = tempfile::tempdir().unwrap();
    for doc in [bad, mixed] {
        let err = xmllint(dir.path(), &[("inline".into(), doc.into())]).unwrap_err();
        assert!(err.contains("fails to validate"), "{err}");
    }
}

#[test]
fn the_whole_task_lifecycle_from_the_cli() {
    let fake = FakeServices::start();
    let out = upload_cli(&fake, "examples/failing.xml", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("**ValueEdge**: task 1103 · 4 runs · success"),
        "{shown}"
    );
    assert!(!shown.contains("octane-secret"));

    let state = fake.state("octane");
    let task = &state["tasks"][0];
    assert_eq!(task["status"], "success");
    assert_eq!(task["gzip"], true);
    assert_eq!(task["runs"].as_array().unwrap().len(), 4);
    let journal = fake.requests("octane");
    let calls: Vec<String> = journal
        .iter()
        .map(|r| format!("{} {} {}", r["method"], r["path"], r["status"]))
        .collect();
    let expected = [
        r#""POST" "/octane/authentication/sign_in" 200"#,
        r#""POST" "/octane/api/shared_spaces/1001/workspaces/1002/test-results" 202"#,
        r#""GET" "/octane/api/shared_spaces/1001/workspaces/1002/test-results/1103" 200"#,
        r#""GET" "/octane/api/shared_spaces/1001/workspaces/1002/test-results/1103" 200"#,
        r#""POST" "/octane/authentication/sign_out" 200"#,
    ];
    assert_eq!(calls, expected);
    for r in &journal {
        let headers = r["headers"].as_array().unwrap();
        assert!(
            headers
                .iter()
                .any(|h| h[0] == "hpeclienttype" && h[1] == "HPE_CI_CLIENT"),
            "{r}"
        );
    }
    let push = &journal[1];
    assert_eq!(push["query"], "skip-errors=false");
    let gz = push["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "content-encoding" && h[1] == "gzip");
    assert!(gz);
    // gzip bytes: the magic number, and smaller than the XML the fake decoded.
    assert!(push["body_utf8"].is_null(), "a gzip body is not UTF-8");
    let payload = task["payload_utf8"].as_str().unwrap();
    assert!(push["body_len"].as_u64().unwrap() < payload.len() as u64);
}

#[test]
fn without_waiting_the_task_id_is_reported_and_no_poll_made() {
    let fake = FakeServices::start();
    let out = upload_cli(
        &fake,
        "examples/passing.xml",
        &["--valueedge-wait", "false"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("task 1103 · 4 runs · queued"),
        "{}",
        text(&out)
    );
    assert!(fake.requests("octane").iter().all(|r| r["method"] != "GET"));
}

#[test]
fn unknown_links_fail_the_task_without_skip_errors_and_warn_with_it() {
    let fake = FakeServices::start();
    let out = upload_cli(
        &fake,
        "examples/passing.xml",
        &["--valueedge-release", "77"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("- task 1103 failed: unknown references: release\\_ref id=77"),
        "{shown}"
    );
    assert!(shown.contains("set valueedge-skip-errors: true"), "{shown}");

    let out = upload_cli(
        &fake,
        "examples/failing.xml",
        &[
            "--valueedge-release",
            "77",
            "--valueedge-skip-errors",
            "true",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = text(&out);
    assert!(shown.contains("· warning"), "{shown}");
    assert!(
        shown.contains("- task 1104 warning: ignored unknown references: release\\_ref id=77"),
        "{shown}"
    );
    let tasks = fake.state("octane")["tasks"].clone();
    assert_eq!(tasks[0]["skip_errors"], false);
    assert_eq!(tasks[1]["skip_errors"], true);
}

#[test]
fn a_session_that_expires_mid_run_is_renewed_once() {
    let fake = FakeServices::start();
    // The session dies between the push and the first poll.
    fake.control(
        "/_fake/faults",
        r#"[{"service":"octane","method":"GET","path_regex":"/test-results/","fault":{"status":401}}]"#,
    );
    let out = upload_cli(&fake, "examples/passing.xml", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fake.state("octane")["sign_ins"], 2);

    // Sessions that never live: one renewal, then a clear error.
    let fake = FakeServices::start();
    fake.control("/_fake/config", r#"{"octane":{"session_ttl_secs":0}}"#);
    let out = upload_cli(&fake, "examples/passing.xml", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("valueedge: push: the session was refused again"));
    assert_eq!(fake.state("octane")["sign_ins"], 2);
}

#[test]
fn wrong_credentials_are_one_sign_in_and_an_error_naming_the_inputs() {
    let fake = FakeServices::start();
    let url = format!("{}/octane", fake.url);
    let out = test_report(&[
        "summary",
        "examples/passing.xml",
        "--valueedge-url",
        &url,
        "--valueedge-shared-space",
        "1001",
        "--valueedge-workspace",
        "1002",
        "--valueedge-client-id",
        "octane-client",
        "--valueedge-client-secret",
        "wrong-secret",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("check valueedge-client-id and valueedge-client-secret"));
    assert!(!text(&out).contains("wrong-secret"));
    assert_eq!(fake.requests("octane").len(), 1);
}

#[test]
fn the_same_payload_twice_is_already_received() {
    let fake = FakeServices::start();
    know_the_links(&fake);
    let files = [parse_file(&repo().join("examples/failing.xml"))];
    let first = upload(&config(&fake), &files);
    let again = upload(&config(&fake), &files);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert!(!first.tasks[0].already_received);
    assert!(again.tasks[0].already_received);
    assert_eq!(again.tasks[0].id, first.tasks[0].id);
    assert_eq!(again.status(), Some("success"));
    let state = fake.state("octane");
    assert_eq!(state["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(state["tasks"][0]["duplicate_pushes"], 1);
}

#[test]
fn requests_stay_under_twenty_per_second_on_the_fakes_clock() {
    let fake = FakeServices::start();
    know_the_links(&fake);
    let cases: String = (0..24)
        .map(|i| format!("<testcase classname=\"a.B\" name=\"t{i}\" time=\"0.01\"/>"))
        .collect();
    let files = [parse_str(
        "many.xml",
        &format!("<testsuite name=\"s\">{cases}</testsuite>"),
    )];
    let mut config = config(&fake);
    config.wait = false;
    // One run per document: 24 pushes in a burst, as many as a big upload makes.
    config.max_payload_bytes = 1;
    let receipt = upload(&config, &files);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!(receipt.tasks.len(), 24);
    let journal = fake.requests("octane");
    assert_eq!(journal.len(), 26, "sign-in, 24 pushes, sign-out");
    assert!(
        journal.iter().all(|r| r["status"] != 429),
        "the fake never throttled"
    );
    let times: Vec<u64> = journal
        .iter()
        .map(|r| r["received_ms"].as_u64().unwrap())
        .collect();
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| (*start..start + 1000).contains(t))
                .count()
        })
        .max()
        .unwrap();
    assert!(busiest <= 20, "{busiest} requests within one second");
    let span = times.last().unwrap() - times.first().unwrap();
    assert!(span >= 25 * 50, "26 requests in {span} ms");
}

#[test]
fn injected_faults_are_retried_or_reported() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        r#"[{"service":"octane","path_regex":"/sign_in$","fault":{"reset":"before_body"}},
            {"service":"octane","method":"POST","path_regex":"/test-results$","fault":{"status":503,"retry_after":"1"}},
            {"service":"octane","method":"GET","path_regex":"/test-results/","fault":{"status":500}}]"#,
    );
    let out = upload_cli(&fake, "examples/passing.xml", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("· success"), "{}", text(&out));
    let statuses: Vec<String> = fake
        .requests("octane")
        .iter()
        .map(|r| r["status"].to_string())
        .collect();
    assert_eq!(
        statuses,
        ["null", "200", "503", "202", "500", "200", "200", "200"],
        "each fault once, then the flow goes on"
    );

    // An answer that is not JSON: an error that shows what came back.
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        r#"[{"service":"octane","method":"POST","path_regex":"/test-results$","fault":{"non_json_body":true}}]"#,
    );
    let out = upload_cli(&fake, "examples/passing.xml", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("valueedge: push: unexpected answer"),
        "{}",
        text(&out)
    );
}

#[test]
fn dry_run_shows_the_flow_without_the_key() {
    let out = test_report(&[
        "summary",
        "examples/passing.xml",
        "--dry-run",
        "--valueedge-url",
        "https://octane.invalid",
        "--valueedge-shared-space",
        "1001",
        "--valueedge-workspace",
        "1002",
        "--valueedge-client-id",
        "my-client",
        "--valueedge-client-secret",
        "my-secret",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = text(&out);
    assert!(
        !shown.contains("my-secret") && !shown.contains("my-client"),
        "{shown}"
    );
    assert!(shown.contains("POST https://octane.invalid/authentication/sign_in"));
    assert!(
        shown.contains("<test_run "),
        "the payload shown decompressed: {shown}"
    );
    assert!(shown.contains("cookie: ****"));
}

#[test]
fn a_report_without_tests_sends_nothing_and_says_so() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.xml");
    std::fs::write(&empty, "<testsuite name=\"e\" tests=\"0\"/>").unwrap();
    let out = upload_cli(
        &fake,
        empty.to_str().unwrap(),
        &["--fail-on-empty", "false"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("**ValueEdge**: no test results to send"));
    assert!(fake.requests("octane").is_empty());
}

#[test]
fn the_pipeline_links_the_ci_run_and_sets_the_task_outputs() {
    use test_report::config::RawConfig;
    use test_report::pipeline::{self, Inputs};
    let fake = FakeServices::start();
    let config = RawConfig {
        valueedge_url: Some(format!("{}/octane", fake.url)),
        valueedge_shared_space: Some("1001".into()),
        valueedge_workspace: Some("1002".into()),
        valueedge_client_id: Some("octane-client".into()),
        valueedge_client_secret: Some("octane-secret".into()),
        valueedge_release: Some("_default_".into()),
        ..RawConfig::default()
    }
    .validate()
    .unwrap();
    let inputs = Inputs {
        config,
        files: vec![parse_file(&repo().join("examples/passing.xml"))],
        env: [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_RUN_ID", "42"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into(),
        ..Inputs::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(pipeline::run(&inputs, &NativeClient::new()));
    assert_eq!(outcome.outputs["valueedge-task-id"], "1103");
    assert_eq!(outcome.outputs["valueedge-task-status"], "success");
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.failure);
    let state = fake.state("octane");
    let payload = state["tasks"][0]["payload_utf8"].as_str().unwrap();
    assert!(payload.contains("<release name=\"_default_\"/>"));
    assert!(payload.contains("external_report_url=\"https://github.com/o/r/actions/runs/42\""));
}

//! Testomat.io (issue 8) against the fake: what the service ends up with after the CLI (or the
//! library over a native client) sent the reports.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use test_report::http::native::NativeClient;
use test_report::http::retry::RetryPolicy;
use test_report::http::{Body, HttpClient, Request, Response, Secret, TransportError};
use test_report::upload::testomat::{self, Finish, RunTimeUnit, TestomatConfig};

use crate::fakes::FakeServices;
use crate::support::{parse_str, repo};

const KEY: &str = "tstmt_fake-key";

/// Runs `test-report summary` with a clean environment apart from `env`.
fn test_report(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_test-report"));
    cmd.arg("summary")
        .args(args)
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

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `summary REPORTS --testomatio-api-key KEY --testomatio-url FAKE EXTRA...`.
fn upload(fake: &FakeServices, reports: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Output {
    let url = format!("{}/testomatio", fake.url);
    let mut args: Vec<&str> = reports.to_vec();
    args.extend(["--testomatio-api-key", KEY, "--testomatio-url", &url]);
    args.extend(extra);
    let out = test_report(&args, env);
    let printed = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !printed.contains(KEY),
        "the API key was printed:\n{printed}"
    );
    out
}

fn runs(fake: &FakeServices) -> Vec<Value> {
    fake.state("testomatio")["runs"]
        .as_array()
        .expect("runs")
        .clone()
}

fn count(executions: &[Value], status: &str) -> usize {
    executions.iter().filter(|e| e["status"] == status).count()
}

/// `n` JUnit cases cycling passed, failed, errored, skipped.
fn junit(n: usize) -> String {
    let mut xml = String::from("<testsuites><testsuite name=\"junit\">");
    for i in 0..n {
        let body = match i % 4 {
            0 => "",
            1 => "<failure message=\"expected 1\">at x</failure>",
            2 => "<error message=\"boom\"/>",
            _ => "<skipped/>",
        };
        xml.push_str(&format!(
            "<testcase classname=\"pkg.Junit\" name=\"case {i}\" time=\"0.25\">{body}</testcase>"
        ));
    }
    xml + "</testsuite></testsuites>"
}

/// `n` TAP points cycling ok, not ok, skipped.
fn tap(n: usize) -> String {
    let mut text = format!("TAP version 13\n1..{n}\n");
    for i in 1..=n {
        text.push_str(&match i % 3 {
            0 => format!("ok {i} - tap {i} # SKIP no db\n"),
            2 => format!("not ok {i} - tap {i}\n"),
            _ => format!("ok {i} - tap {i}\n"),
        });
    }
    text
}

/// `n` CTRF tests cycling passed, failed, skipped.
fn ctrf(n: usize) -> String {
    let tests: Vec<Value> = (0..n)
        .map(|i| {
            let status = ["passed", "failed", "skipped"][i % 3];
            serde_json::json!({"name": format!("ctrf {i}"), "status": status, "duration": 40})
        })
        .collect();
    // Written by hand: the format is recognised from the head of the document (`tool` first).
    format!(
        r#"{{"results":{{"tool":{{"name":"jest"}},"summary":{{"tests":{n},"passed":0,"failed":0,"skipped":0,"pending":0,"other":0,"start":0,"stop":1}},"tests":{}}}}}"#,
        Value::Array(tests)
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn ten_thousand_tests_from_three_formats_become_ten_thousand_executions() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    let files = [
        write(dir.path(), "junit.xml", &junit(4_000)),
        write(dir.path(), "results.tap", &tap(3_000)),
        write(dir.path(), "ctrf.json", &ctrf(3_000)),
    ];
    let reports: Vec<&str> = files.iter().map(String::as_str).collect();
    let started = Instant::now();
    let out = upload(
        &fake,
        &reports,
        &[],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_WORKFLOW", "CI"),
            ("GITHUB_RUN_NUMBER", "41"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/widgets"),
            ("GITHUB_RUN_ID", "9"),
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    eprintln!(
        "testomat: 10000 tests uploaded in {:.2}s: {:.0} tests/s",
        elapsed.as_secs_f64(),
        10_000.0 / elapsed.as_secs_f64()
    );

    let runs = runs(&fake);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["params"]["title"], "CI #41");
    assert_eq!(
        run["params"]["ci_build_url"],
        "https://github.com/acme/widgets/actions/runs/9"
    );
    let executions = run["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 10_000);
    // JUnit 1000 each of passed/failed/errored/skipped; TAP and CTRF 1000 each of three.
    assert_eq!(count(executions, "passed"), 3_000);
    assert_eq!(
        count(executions, "failed"),
        4_000,
        "errored counts as failed"
    );
    assert_eq!(count(executions, "skipped"), 3_000);
    assert!(executions.iter().all(|e| e["matched"] == "created"));
    let junit_case = executions.iter().find(|e| e["title"] == "case 0").unwrap();
    assert_eq!(junit_case["run_time"], 250, "milliseconds by default");
    assert_eq!(junit_case["suite_title"], "pkg.Junit");
    assert_eq!(run["batch_indexes"].as_array().unwrap().len(), 100);
    assert_eq!(run["duplicate_batch_indexes"], serde_json::json!([]));
    assert_eq!(run["status"], "finished");
    assert_eq!(run["status_events"][0]["status_event"], "finish");
    let summary = stdout(&out);
    assert!(
        summary.contains("**Testomat.io**: [run a1b2c3d4](")
            && summary.contains("10000 of 10000 tests sent in 100 batches · finished"),
        "{summary}"
    );
}

#[test]
fn repeated_executions_stay_separate_through_rid() {
    let fake = FakeServices::start();
    let dir = tempfile::tempdir().unwrap();
    // The same test twice in one report, and a parameterized test.
    let report = write(
        dir.path(),
        "r.xml",
        r#"<testsuite name="s">
  <testcase classname="c" name="retried"/>
  <testcase classname="c" name="retried"><failure message="x"/></testcase>
  <testcase classname="c" name="login[admin]"/>
  <testcase classname="c" name="login[viewer]"><failure message="y"/></testcase>
</testsuite>"#,
    );
    // Two matrix jobs report the same tests into one run: the first leaves it open, the second
    // attaches (TESTOMATIO_RUN, the official variable) and finishes it.
    let linux = upload(
        &fake,
        &[&report],
        &["--testomatio-env", "linux", "--testomatio-finish", "false"],
        &[],
    );
    assert_eq!(linux.status.code(), Some(0), "{}", stderr(&linux));
    let open = &runs(&fake)[0];
    assert_eq!(
        open["status"], "running",
        "testomatio-finish: false leaves it open"
    );
    assert_eq!(open["status_events"], serde_json::json!([]));
    let uid = open["uid"].as_str().unwrap().to_owned();
    let mac = upload(
        &fake,
        &[&report],
        &["--testomatio-env", "mac"],
        &[("TESTOMATIO_RUN", &uid)],
    );
    assert_eq!(mac.status.code(), Some(0), "{}", stderr(&mac));

    let runs = runs(&fake);
    assert_eq!(runs.len(), 1, "attached, not created");
    let executions = runs[0]["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 8);
    let mut rids: Vec<&str> = executions
        .iter()
        .map(|e| e["rid"].as_str().unwrap())
        .collect();
    rids.sort_unstable();
    rids.dedup();
    assert_eq!(rids.len(), 8, "one rid per execution");
    let logins: Vec<(&str, &str)> = executions[..4]
        .iter()
        .filter(|e| e["title"] == "login")
        .map(|e| {
            (
                e["received"]["example"].as_str().unwrap(),
                e["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(logins, [("admin", "passed"), ("viewer", "failed")]);
    assert_eq!(runs[0]["status"], "finished");
    assert_eq!(runs[0]["params"]["env"], "mac");
}

#[test]
fn a_cucumber_tag_links_the_scenario_to_its_testomat_test() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/config",
        r#"{"testomatio":{"tests":[{"id":"Ta0b0c0d0","title":"logs in"}]}}"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let report = write(
        dir.path(),
        "cucumber.json",
        r#"[{"uri":"features/login.feature","id":"login","name":"Login","keyword":"Feature","elements":[
  {"id":"login;logs-in","name":"logs in","keyword":"Scenario","type":"scenario","line":3,"tags":[{"name":"@Ta0b0c0d0"}],
   "steps":[{"keyword":"Given ","name":"a user","result":{"status":"passed","duration":1000000}}]},
  {"id":"login;locks","name":"locks out","keyword":"Scenario","type":"scenario","line":9,"tags":[],
   "steps":[{"keyword":"Given ","name":"a user","result":{"status":"failed","error_message":"locked"}}]}]}]"#,
    );
    let out = upload(
        &fake,
        &[&report],
        &["--testomatio-create-tests", "false"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = &runs(&fake)[0];
    let matched: Vec<(&str, &str)> = run["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["title"].as_str().unwrap(), e["matched"].as_str().unwrap()))
        .collect();
    assert_eq!(
        matched,
        [("logs in", "matched"), ("locks out", "unmatched")],
        "by the tag's id; without create the unknown scenario stays unmatched"
    );
    assert_eq!(run["executions"][0]["test_id"], "a0b0c0d0");
}

/// A native client that gives up on a response after `limit`, as a slow network would make it.
struct Impatient {
    inner: NativeClient,
    limit: Duration,
}

impl HttpClient for Impatient {
    async fn send(&self, request: Request<Body>) -> Result<Response<Body>, TransportError> {
        tokio::time::timeout(self.limit, self.inner.send(request))
            .await
            .unwrap_or(Err(TransportError::Timeout))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
}

fn config(fake: &FakeServices) -> TestomatConfig {
    TestomatConfig {
        api_key: Secret::new(KEY),
        base_url: format!("{}/testomatio", fake.url),
        run: None,
        title: Some("faults".into()),
        env: None,
        group_title: None,
        ci_build_url: None,
        create_tests: true,
        finish: Finish::True,
        shared_run: false,
        run_time_unit: RunTimeUnit::Milliseconds,
        rid_scope: String::new(),
        hold_finish: false,
    }
}

/// Sends 150 JUnit cases (two batches) through the library with the given client.
fn send_with<C: HttpClient>(client: &C, fake: &FakeServices) -> testomat::Receipt {
    let file = parse_str("junit.xml", &junit(150));
    let config = config(fake);
    let tests = testomat::build_tests(&config, &[(file.path.as_str(), file.runs())]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(testomat::upload(
        client,
        &config,
        &tests,
        1_000,
        &RetryPolicy::default(),
    ))
}

#[test]
fn a_batch_processed_but_unanswered_is_sent_again_and_not_stored_twice() {
    let fake = FakeServices::start();
    // The first batch is processed after the client gave up on it.
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testomatio","method":"POST","path_regex":"/testrun$","fault":{"stall_ms":1500}}]"#,
    );
    let client = Impatient {
        inner: NativeClient::new(),
        limit: Duration::from_millis(400),
    };
    let receipt = send_with(&client, &fake);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    assert_eq!((receipt.tests_sent, receipt.batches_sent), (150, 2));
    // Let the stalled request finish on the fake's side.
    std::thread::sleep(Duration::from_millis(1_600));
    let run = &runs(&fake)[0];
    assert_eq!(
        run["duplicate_batch_indexes"],
        serde_json::json!([1]),
        "batch 1 reached the service twice"
    );
    assert_eq!(
        run["executions"].as_array().unwrap().len(),
        150,
        "and its tests are stored once"
    );
}

#[test]
fn a_connection_reset_after_the_body_is_retried_into_exactly_one_copy() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testomatio","method":"POST","path_regex":"/testrun$","times":2,"fault":{"reset":"after_body"}}]"#,
    );
    let receipt = send_with(&NativeClient::new(), &fake);
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    let testruns = fake
        .requests("testomatio")
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/testrun"))
        .count();
    assert_eq!(testruns, 4, "batch 1 sent three times, batch 2 once");
    let run = &runs(&fake)[0];
    assert_eq!(run["executions"].as_array().unwrap().len(), 150);
}

#[test]
fn parallel_shards_share_one_run_and_a_last_job_finishes_it() {
    let fake = FakeServices::start();
    let shard_args = [
        "--testomatio-shared-run",
        "true",
        "--testomatio-title",
        "CI 77",
        "--testomatio-finish",
        "parallel",
    ];
    for report in ["examples/passing.xml", "examples/failing.xml"] {
        let out = upload(&fake, &[report], &shard_args, &[]);
        assert_eq!(out.status.code(), Some(0), "{report}: {}", stderr(&out));
    }
    let open = runs(&fake);
    assert_eq!(open.len(), 1, "the shards share the run");
    assert_eq!(
        open[0]["status"], "running",
        "finish_parallel leaves it open"
    );
    // The last job attaches by uid and finishes without sending tests.
    let uid = open[0]["uid"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.xml", "<testsuites/>");
    let out = upload(
        &fake,
        &[&empty],
        &["--testomatio-run", &uid, "--fail-on-empty", "false"],
        &[("GITHUB_WORKFLOW", "CI"), ("GITHUB_RUN_NUMBER", "5")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = &runs(&fake)[0];
    assert_eq!(run["status"], "finished");
    assert_eq!(run["params"]["title"], "CI 77", "attaching keeps the title");
    let events: Vec<&str> = run["status_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status_event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["finish_parallel", "finish_parallel", "finish"]);
    assert_eq!(
        run["testrun_requests"], 2,
        "no empty batch from the last job"
    );
}

#[test]
fn documented_errors_fail_with_exit_3_and_say_what_to_do() {
    let fake = FakeServices::start();
    let url = format!("{}/testomatio", fake.url);
    let wrong = test_report(
        &[
            "examples/passing.xml",
            "--testomatio-url",
            &url,
            "--testomatio-api-key",
            "tstmt_wrong",
        ],
        &[],
    );
    assert_eq!(wrong.status.code(), Some(3));
    assert!(
        stderr(&wrong).contains(
            "testomatio: create: API key rejected (HTTP 403 Project API Token is invalid)"
        ),
        "{}",
        stderr(&wrong)
    );
    assert!(!stderr(&wrong).contains("tstmt_wrong"));
    // The key from an alias variable.
    let alias = test_report(
        &["examples/passing.xml", "--testomatio-url", &url],
        &[("TESTOMATIO_TOKEN", KEY)],
    );
    assert_eq!(alias.status.code(), Some(0), "{}", stderr(&alias));

    let unknown = upload(
        &fake,
        &["examples/passing.xml"],
        &["--testomatio-run", "ffffffff"],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(3));
    assert!(
        stderr(&unknown).contains("run 'ffffffff' not found (HTTP 404"),
        "{}",
        stderr(&unknown)
    );
    assert!(
        stdout(&unknown)
            .contains("⚠️ 1 errors, first: testomatio: attach: run 'ffffffff' not found"),
        "{}",
        stdout(&unknown)
    );
    let invalid = upload(
        &fake,
        &["examples/passing.xml"],
        &["--testomatio-finish", "later"],
        &[],
    );
    assert_eq!(invalid.status.code(), Some(2));
    assert!(stderr(&invalid).contains("option '--testomatio-finish': 'later' is not one of"));
}

#[test]
fn injected_faults_are_retried_only_where_they_cannot_double_count() {
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testomatio","method":"POST","path_regex":"/reporter$","times":2,"fault":{"status":503,"retry_after":"0"}},
            {"service":"testomatio","method":"POST","path_regex":"/testrun$","fault":{"status":500}},
            {"service":"testomatio","method":"PUT","fault":{"status":502}}]"#,
    );
    let out = upload(&fake, &["examples/failing.xml"], &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let run = &runs(&fake)[0];
    assert_eq!(run["status"], "finished");
    assert_eq!(run["executions"].as_array().unwrap().len(), 4);
    assert_eq!(fake.requests("testomatio").len(), 2 + 1 + 2 + 2);

    // A create whose answer was cut may have made a run: it is not repeated.
    fake.control("/_fake/reset", "");
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testomatio","method":"POST","path_regex":"/reporter$","fault":{"truncated_body":true}}]"#,
    );
    let cut = upload(&fake, &["examples/failing.xml"], &[], &[]);
    assert_eq!(cut.status.code(), Some(3));
    assert_eq!(fake.requests("testomatio").len(), 1);
    assert!(
        stderr(&cut).contains("testomatio: create:"),
        "{}",
        stderr(&cut)
    );

    fake.control("/_fake/reset", "");
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testomatio","method":"POST","path_regex":"/reporter$","fault":{"non_json_body":true}}]"#,
    );
    let html = upload(&fake, &["examples/failing.xml"], &[], &[]);
    assert_eq!(html.status.code(), Some(3));
    assert!(
        stderr(&html).contains("testomatio: create: unexpected answer"),
        "{}",
        stderr(&html)
    );
}

#[test]
fn dry_run_shows_every_call_with_the_key_redacted() {
    let out = test_report(
        &[
            "examples/failing.xml",
            "--testomatio-api-key",
            KEY,
            "--testomatio-url",
            "https://testomat.invalid",
            "--dry-run",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains(KEY));
    assert!(
        err.contains("POST https://testomat.invalid/api/reporter\n"),
        "{err}"
    );
    assert!(err.contains("POST https://testomat.invalid/api/reporter/dry-run/testrun"));
    assert!(err.contains("PUT https://testomat.invalid/api/reporter/dry-run"));
    assert_eq!(err.matches("\"api_key\":\"****\"").count(), 3, "{err}");
}

//! AIO Tests against the fake (tests/README.md, "AIO Tests rules"): the binary and the pipeline,
//! and what the fake's cycle ends up with.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};
use test_report::config::{FailOn, RawConfig};
use test_report::http::native::NativeClient;
use test_report::pipeline::{self, FileReport, Inputs, Outcome};

use crate::fakes::FakeServices;
use crate::support::{parse_str, repo};

const CUCUMBER: &str = "tests/fixtures/cucumber-js/cucumber-json.json";
const TESTNG: &str = "tests/fixtures/testng/testng-results.xml";
const NUNIT: &str = "tests/conformance/dorny-test-reporter/fixtures/dotnet-nunit.xml";
const ROBOT: &str = "tests/fixtures/robot/rf7-output.xml";
const NEWMAN: &str = "tests/fixtures/newman/newman-json.json";
const MOCHA: &str = "tests/fixtures/mocha/mocha-json.json";
const JUNIT: &str = "examples/passing.xml";

fn cloud(fake: &FakeServices) -> String {
    format!("{}/aio/aio-tcms/api/v1", fake.url)
}

/// `test-report summary ARGS` with the AIO token, URL and project from the environment (the CLI's
/// fallbacks), nothing else inherited; `env` adds or replaces variables.
fn aio(fake: &FakeServices, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_test-report"));
    cmd.arg("summary")
        .args(args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AIO_TOKEN", "aio-token")
        .env("AIO_URL", cloud(fake))
        .env("AIO_PROJECT", "PROJ");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the test-report binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn imports(fake: &FakeServices) -> Vec<Value> {
    fake.state("aio")["imports"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn project(fake: &FakeServices) -> Value {
    fake.state("aio")["projects"]["PROJ"].clone()
}

/// Seeds project PROJ with these cases and cycle PROJ-CY-1 holding `in_cycle`.
fn seed(fake: &FakeServices, cases: Value, in_cycle: &[&str]) {
    let config = json!({"aio": {"projects": {"PROJ": {
        "cases": cases,
        "cycles": [{"key": "PROJ-CY-1", "title": "Default cycle", "cases": in_cycle}],
    }}}});
    fake.control("/_fake/config", &config.to_string());
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn every_format_goes_in_its_native_type_and_others_as_junit() {
    let fake = FakeServices::start();
    let out = aio(
        &fake,
        &[
            JUNIT,
            TESTNG,
            NUNIT,
            CUCUMBER,
            ROBOT,
            NEWMAN,
            MOCHA,
            "--aio-cycle",
            "PROJ-CY-1",
            "--aio-create-case",
            "true",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut kinds: Vec<(String, u64)> = imports(&fake)
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["file_len"].as_u64().unwrap(),
            )
        })
        .collect();
    kinds.sort();
    let size = |p: &str| std::fs::metadata(repo().join(p)).unwrap().len();
    let mocha_as_junit = kinds
        .iter()
        .find(|(k, len)| k == "junit" && *len != size(JUNIT))
        .expect("the Mocha report, converted")
        .1;
    let mut expected = vec![
        ("cucumber".to_owned(), size(CUCUMBER)),
        ("junit".to_owned(), size(JUNIT)),
        ("junit".to_owned(), mocha_as_junit),
        ("newman".to_owned(), size(NEWMAN)),
        ("nunit".to_owned(), size(NUNIT)),
        ("robot".to_owned(), size(ROBOT)),
        ("testng".to_owned(), size(TESTNG)),
    ];
    expected.sort();
    assert_eq!(kinds, expected, "native files arrive byte for byte");
    // The query spells the type as documented, whatever the fake folds it to.
    let types: Vec<String> = fake
        .requests("aio")
        .iter()
        .map(|r| r["query"].as_str().unwrap_or_default().to_owned())
        .collect();
    for t in ["Junit", "Testng", "NUnit", "Cucumber", "Robot", "Newman"] {
        assert!(types.contains(&format!("type={t}")), "{t}: {types:?}");
    }
    // The JUnit cases were created and imported: four from passing.xml, the rest from Mocha.
    let cycle = &project(&fake)["cycles"][0];
    assert!(cycle["cases"].as_array().unwrap().len() >= 4, "{cycle}");
    assert!(stdout(&out).contains("📤 **AIO Tests**: cycle `PROJ-CY-1`"));
}

const MAPPED: &str = r#"<testsuite name="cart">
  <testcase classname="com.acme.CartTest" name="addsAnItem" time="0.2"/>
  <testcase classname="com.acme.CartTest" name="PROJ-TC-2 : pays by card" time="0.1"><failure message="declined"/></testcase>
</testsuite>"#;

#[test]
fn the_flags_shape_what_the_cycle_stores() {
    let fake = FakeServices::start();
    seed(
        &fake,
        json!([
            {"key": "PROJ-TC-1", "automation_key": "com.acme.CartTest.addsAnItem", "title": "Old"},
            {"key": "PROJ-TC-2"},
        ]),
        &["PROJ-TC-2"],
    );
    let dir = tempfile::tempdir().unwrap();
    let mapped = write(dir.path(), "TEST-cart.xml", MAPPED);
    let run = |extra: &[&str]| {
        let mut args = vec![mapped.as_str(), "--aio-cycle", "PROJ-CY-1"];
        args.extend_from_slice(extra);
        let out = aio(&fake, &args, &[]);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stderr(&out));
    };
    let runs = |key: &str| {
        project(&fake)["cycles"][0]["runs"][key]
            .as_array()
            .map_or(0, Vec::len)
    };

    // addCaseToCycle (default true) added the automation-key match to the cycle.
    run(&[]);
    assert_eq!(
        project(&fake)["cycles"][0]["cases"],
        json!(["PROJ-TC-2", "PROJ-TC-1"])
    );
    assert_eq!((runs("PROJ-TC-1"), runs("PROJ-TC-2")), (1, 1));
    assert_eq!(
        project(&fake)["cycles"][0]["runs"]["PROJ-TC-2"][0]["status"],
        "Failed"
    );
    // createNewRun: true (default) adds a run, false overwrites the latest.
    run(&[]);
    assert_eq!(runs("PROJ-TC-1"), 2);
    run(&["--aio-create-new-run", "false"]);
    assert_eq!(runs("PROJ-TC-1"), 2);
    // forceUpdateCase: the matched case takes its title from the file.
    assert_eq!(project(&fake)["cases"][0]["title"], "Old");
    run(&["--aio-force-update-case", "true"]);
    assert_eq!(project(&fake)["cases"][0]["title"], "addsAnItem");

    // createCase + ignoreClassInAutoKey + defaultFolder: a new case keyed by the method name only.
    let fresh = write(
        dir.path(),
        "TEST-new.xml",
        r#"<testsuite name="n"><testcase classname="com.acme.New" name="brandNew"/></testsuite>"#,
    );
    let out = aio(
        &fake,
        &[
            &fresh,
            "--aio-cycle",
            "PROJ-CY-1",
            "--aio-create-case",
            "true",
            "--aio-ignore-class-in-auto-key",
            "true",
            "--aio-default-folder",
            "77",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let created = &project(&fake)["cases"][2];
    assert_eq!(created["automation_key"], "brandNew", "{created}");
    assert_eq!(created["folder"], "77");

    // The BDD and dataset flags reach AIO as sent (the fake records them).
    run(&[
        "--aio-bdd-force-update-case",
        "true",
        "--aio-update-only-run-status",
        "true",
        "--aio-update-datasets",
        "false",
    ]);
    let flags = imports(&fake).last().unwrap()["flags"].clone();
    assert_eq!(flags["bddForceUpdateCase"], "true");
    assert_eq!(flags["updateOnlyRunStatus"], "true");
    assert_eq!(flags["updateDatasets"], "false");
    assert_eq!(flags["createNewRun"], "true");
    assert!(flags.get("createCase").is_none(), "left to AIO: {flags}");
}

/// The pipeline over the native client, as the action and CLI run it.
fn pipeline_run(fake: &FakeServices, raw: RawConfig, files: Vec<FileReport>) -> Outcome {
    let mut config = RawConfig {
        aio_token: Some("aio-token".into()),
        aio_url: Some(cloud(fake)),
        aio_project: Some("PROJ".into()),
        ..raw
    }
    .validate()
    .unwrap();
    config.fail_on = FailOn::Errors;
    pipeline_with(config, files)
}

fn pipeline_with(config: test_report::config::Config, files: Vec<FileReport>) -> Outcome {
    let inputs = Inputs {
        config,
        patterns: vec!["*.xml".into()],
        files,
        ..Inputs::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(pipeline::run(&inputs, &NativeClient::new()))
}

#[test]
fn a_partial_success_lists_each_case_with_a_hint_and_fails_per_fail_on() {
    let fake = FakeServices::start();
    seed(
        &fake,
        json!([{"key": "PROJ-TC-2"}, {"key": "PROJ-TC-9", "status": "Draft"}]),
        &[],
    );
    let report = r#"<testsuite name="s">
      <testcase classname="a.B" name="PROJ-TC-2 : works"/>
      <testcase classname="a.B" name="PROJ-TC-9 : drafted"/>
      <testcase classname="a.B" name="unmapped"/>
    </testsuite>"#;
    let raw = || RawConfig {
        aio_cycle: Some("PROJ-CY-1".into()),
        ..RawConfig::default()
    };
    let outcome = pipeline_run(&fake, raw(), vec![parse_str("TEST-s.xml", report)]);
    assert_eq!(outcome.outputs["aio-cycle-key"], "PROJ-CY-1");
    assert_eq!(outcome.outputs["aio-imported"], "1");
    assert_eq!(outcome.outputs["aio-errored"], "2");
    assert_eq!(outcome.outputs["aio-batch-ids"], "");
    let summary = &outcome.summary;
    assert!(
        summary.contains("📤 **AIO Tests**: cycle `PROJ-CY-1` · 1 cases imported from 1 files · ⚠️ 2 cases not imported"),
        "{summary}"
    );
    assert!(summary.contains(
        "| `a.B.unmapped` | `TEST-s.xml` | No case found with this automation key. Either map automation key or set createCase to true. | set aio-create-case: true, or map the automation key to a case in AIO Tests |"
    ), "{summary}");
    assert!(
        summary
            .contains("| `PROJ-TC-9` | `TEST-s.xml` | PROJ-TC-9 is in Under Review/Draft status."),
        "{summary}"
    );
    // fail-on errors: cases not imported are a reporting problem.
    assert_eq!(outcome.exit_code, 3);
    assert!(outcome.failure.as_deref().unwrap().starts_with(
        "aio: 2 cases were not imported into PROJ-CY-1, listed in the job summary; first:"
    ));

    // fail-on nothing: reported, not failed.
    let mut config = RawConfig {
        aio_token: Some("aio-token".into()),
        aio_url: Some(cloud(&fake)),
        aio_project: Some("PROJ".into()),
        ..raw()
    }
    .validate()
    .unwrap();
    config.fail_on = FailOn::Nothing;
    let outcome = pipeline_with(config, vec![parse_str("TEST-s.xml", report)]);
    assert_eq!(outcome.exit_code, 0);
    assert_eq!(outcome.outputs["aio-errored"], "2");
}

#[test]
fn a_batch_import_queues_each_file_and_reports_batch_ids() {
    let fake = FakeServices::start();
    let raw = RawConfig {
        aio_cycle: Some("PROJ-CY-1".into()),
        aio_batch: Some("true".into()),
        aio_create_case: Some("true".into()),
        ..RawConfig::default()
    };
    let files = vec![
        parse_str(
            "a.xml",
            r#"<testsuite><testcase classname="a" name="one"/></testsuite>"#,
        ),
        parse_str(
            "b.xml",
            r#"<testsuite><testcase classname="b" name="two"/></testsuite>"#,
        ),
    ];
    let outcome = pipeline_run(&fake, raw, files);
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.failure);
    assert_eq!(outcome.outputs["aio-batch-ids"], "batch-1,batch-2");
    assert!(
        outcome
            .summary
            .contains("2 files queued as batches batch-1, batch-2"),
        "{}",
        outcome.summary
    );
    let queued: Vec<Value> = imports(&fake).iter().map(|i| i["status"].clone()).collect();
    assert_eq!(queued, [json!("Queued"), json!("Queued")]);
    assert!(fake.requests("aio").iter().all(|r| r["path"]
        .as_str()
        .unwrap()
        .ends_with("/import/results/batch")));
    fake.control("/_fake/advance", "");
    fake.control("/_fake/advance", "");
    let done = imports(&fake);
    assert_eq!(done[1]["status"], "Completed");
    assert_eq!(done[1]["result"]["successCount"], 1);
}

#[test]
fn a_cycle_title_is_found_or_created_once_with_the_run_in_its_objective() {
    let fake = FakeServices::start();
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/widgets"),
        ("GITHUB_RUN_ID", "4242"),
        ("GITHUB_RUN_ATTEMPT", "1"),
        ("GITHUB_REF_NAME", "main"),
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
    ];
    let run = |title: &str| {
        let out = aio(
            &fake,
            &[JUNIT, "--aio-create-case", "true"],
            &[&[("AIO_CYCLE_TITLE", title)][..], &github[..]].concat(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    run("Default cycle");
    assert_eq!(project(&fake)["cycles"].as_array().unwrap().len(), 1);
    assert_eq!(imports(&fake)[0]["cycle"], "PROJ-CY-1");

    run("Nightly");
    run("Nightly");
    let cycles = project(&fake)["cycles"].as_array().unwrap().clone();
    assert_eq!(cycles.len(), 2, "created once, then found: {cycles:?}");
    assert_eq!(cycles[1]["title"], "Nightly");
    assert_eq!(
        cycles[1]["objective"],
        "Created by test-report-action.\nRun: https://github.com/acme/widgets/actions/runs/4242\nBranch: main\nCommit: 0123456789abcdef0123456789abcdef01234567"
    );
    let into: Vec<Value> = imports(&fake).iter().map(|i| i["cycle"].clone()).collect();
    assert_eq!(
        into,
        [json!("PROJ-CY-1"), json!("PROJ-CY-2"), json!("PROJ-CY-2")]
    );
}

#[test]
fn server_dc_takes_basic_or_bearer_and_cloud_needs_aioauth() {
    let fake = FakeServices::start();
    // A bare Jira host: the DC API path is appended, the scheme follows the token.
    let jira = format!("{}/aio", fake.url);
    for (token, scheme) in [
        (
            "jira-user:jira-password",
            "Basic amlyYS11c2VyOmppcmEtcGFzc3dvcmQ=",
        ),
        ("jira-pat", "Bearer jira-pat"),
    ] {
        fake.control("/_fake/reset", "");
        let out = aio(
            &fake,
            &[
                JUNIT,
                "--aio-cycle",
                "PROJ-CY-1",
                "--aio-create-case",
                "true",
            ],
            &[("AIO_URL", &jira), ("AIO_TOKEN", token)],
        );
        assert_eq!(out.status.code(), Some(0), "{token}: {}", stderr(&out));
        let request = &fake.requests("aio")[0];
        assert!(request["path"].as_str().unwrap().starts_with(
            "/aio/rest/aio-tcms-api/1.0/project/PROJ/testcycle/PROJ-CY-1/import/results"
        ));
        let auth = request["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0] == "authorization")
            .unwrap()[1]
            .clone();
        assert_eq!(auth, scheme);
    }
    // An explicit scheme wins: a PAT sent to Cloud is rejected with the clear message.
    let out = aio(
        &fake,
        &[JUNIT, "--aio-cycle", "PROJ-CY-1", "--aio-auth", "bearer"],
        &[],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("token rejected (Cloud tokens need the AioAuth scheme, Server/DC needs basic or bearer): HTTP 401 with aio-auth bearer"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rejected_token_fails_with_exit_3_and_sends_no_more_files() {
    let fake = FakeServices::start();
    let out = aio(
        &fake,
        &[JUNIT, TESTNG, "--aio-cycle", "PROJ-CY-1"],
        &[("AIO_TOKEN", "revoked")],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("token rejected (Cloud tokens need the AioAuth scheme, Server/DC needs basic or bearer)"),
        "{err}"
    );
    assert!(err.contains("(1 more files not sent)"), "{err}");
    assert_eq!(fake.requests("aio").len(), 1);
    // The summary still came out, and the token never did.
    assert!(
        stdout(&out).contains(
            "📤 **AIO Tests**: cycle `PROJ-CY-1` · 0 cases imported from 0 files · ⚠️ 1 errors"
        ),
        "{}",
        stdout(&out)
    );
    assert!(!err.contains("revoked") && !stdout(&out).contains("revoked"));
}

#[test]
fn injected_faults_are_retried_only_when_safe() {
    let fake = FakeServices::start();
    let import = |extra: &[&str]| {
        let mut args = vec![
            JUNIT,
            "--aio-cycle-title",
            "Default cycle",
            "--aio-create-case",
            "true",
        ];
        args.extend_from_slice(extra);
        aio(&fake, &args, &[])
    };
    let count = |suffix: &str| {
        fake.requests("aio")
            .iter()
            .filter(|r| r["path"].as_str().unwrap().ends_with(suffix))
            .count()
    };

    // 503 and 429 mean AIO did not act: retried (after Retry-After), even for a POST that adds runs;
    // a 500 on the search (a read) is retried too.
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/search$","fault":{"status":500}},
            {"service":"aio","path_regex":"/import/results$","times":1,"fault":{"status":503,"retry_after":"0"}},
            {"service":"aio","path_regex":"/import/results$","times":1,"fault":{"status":429,"retry_after":"1"}}]"#,
    );
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!((count("/search"), count("/import/results")), (2, 3));
    assert_eq!(imports(&fake).len(), 1, "imported exactly once");

    // A connection dropped after the body: AIO may have added runs, so no second import...
    fake.control("/_fake/reset", "");
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/import/results$","fault":{"reset":"after_body"}}]"#,
    );
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(count("/import/results"), 1);
    // ...unless the import overwrites (createNewRun false), which is safe to repeat.
    fake.control("/_fake/reset", "");
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/import/results$","fault":{"reset":"after_body"}}]"#,
    );
    let out = import(&["--aio-create-new-run", "false"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(count("/import/results"), 2);

    // A 200 that is not JSON says so.
    fake.control("/_fake/reset", "");
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/import/results$","fault":{"non_json_body":true}}]"#,
    );
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("aio: import of examples/passing.xml: unexpected import response"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dry_run_shows_every_request_without_the_token() {
    let fake = FakeServices::start();
    let out = aio(
        &fake,
        &[JUNIT, MOCHA, "--aio-cycle-title", "Nightly", "--dry-run"],
        &[("AIO_TOKEN", "super-secret-aio")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("super-secret-aio"), "{err}");
    assert!(err.contains("authorization: ****"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("POST ")).collect();
    let base = cloud(&fake);
    assert_eq!(
        lines,
        [
            format!("POST {base}/project/PROJ/testcycle/search"),
            format!("POST {base}/project/PROJ/testcycle/detail"),
            format!("POST {base}/project/PROJ/testcycle/DRY-RUN-CY-0/import/results?type=Junit"),
            format!("POST {base}/project/PROJ/testcycle/DRY-RUN-CY-0/import/results?type=Junit"),
        ]
    );
    assert!(fake.requests("aio").is_empty(), "nothing was sent");
}

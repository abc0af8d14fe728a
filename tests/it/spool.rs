//! Spool and resume (issue 10) against the fakes: a failed upload leaves exactly the undelivered
//! units in the spool, a resume delivers exactly them, and the service stores each file once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::fakes::FakeServices;

const TESTNOD_TOKEN: &str = "testnod-token";
const AIO_TOKEN: &str = "aio-token";

/// `test-report ARGS` in `dir`, with a clean environment.
fn test_report(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_test-report"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("the test-report binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Five JUnit reports of different lengths, `r1.xml` … `r5.xml`; their contents.
fn five_reports(dir: &Path) -> Vec<String> {
    (1..=5)
        .map(|i| {
            let cases: String = (0..i)
                .map(|c| format!("<testcase classname=\"s{i}\" name=\"t{c}\"/>"))
                .collect();
            let xml = format!("<testsuite name=\"s{i}\" tests=\"{i}\">{cases}</testsuite>\n");
            std::fs::write(dir.join(format!("r{i}.xml")), &xml).unwrap();
            xml
        })
        .collect()
}

fn manifest(spool: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(spool.join("manifest.json")).unwrap()).unwrap()
}

/// No byte of the spool directory holds a secret.
fn assert_no_secret(spool: &Path, secrets: &[&str]) {
    for entry in std::fs::read_dir(spool).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for secret in secrets {
            assert!(
                memchr::memmem::find(&bytes, secret.as_bytes()).is_none(),
                "{} holds {secret}",
                path.display()
            );
        }
    }
}

#[test]
fn testnod_files_that_failed_are_spooled_and_resumed_into_the_same_run() {
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    let reports = five_reports(work.path());
    let url = format!("{}/testnod", fake.url);
    let testnod = ["--testnod-token", TESTNOD_TOKEN, "--testnod-url", &url];
    // Two presigned PUTs refused for good (403 is not retried).
    fake.control(
        "/_fake/faults",
        r#"[{"service":"storage","method":"PUT","times":2,"fault":{"status":403}}]"#,
    );
    let mut args = vec![
        "report",
        ".",
        "--testnod-build-id",
        "spool-1",
        "--spool-dir",
        "spool",
    ];
    args.extend_from_slice(&testnod);
    let out = test_report(work.path(), &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("### Not delivered"));
    let spool = work.path().join("spool");
    let first = manifest(&spool);
    let pending = first["testnod"]["files"].as_array().unwrap();
    assert_eq!(pending.len(), 2, "{first}");
    assert_eq!(first["testnod"]["finalize"], true);
    assert_eq!(first["testnod"]["build_id"], "spool-1");
    assert_no_secret(&spool, &[TESTNOD_TOKEN]);
    // The run was held open for the missing files.
    assert_eq!(fake.state("testnod")["runs"][0]["status"], "pending");

    let mut resume = vec!["resume", "spool"];
    resume.extend_from_slice(&testnod);
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 of 2 resumed uploads delivered; 0 units still pending"));
    assert!(!spool.join("manifest.json").exists());

    let state = fake.state("testnod");
    let runs = state["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run: {state}");
    assert_eq!(runs[0]["status"], "processing");
    let stored: Vec<String> = runs[0]["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["file_utf8"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(stored.len(), 5, "each file stored once: {state}");
    assert_eq!(
        stored.into_iter().collect::<BTreeSet<_>>(),
        reports.into_iter().collect::<BTreeSet<_>>()
    );
}

fn aio_args(fake: &FakeServices) -> Vec<String> {
    [
        "--aio-token",
        AIO_TOKEN,
        "--aio-url",
        &format!("{}/aio/aio-tcms/api/v1", fake.url),
        "--aio-project",
        "PROJ",
        "--aio-cycle-title",
        "Nightly",
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn aio_files_that_failed_are_spooled_and_resumed_into_the_same_cycle() {
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    let reports = five_reports(work.path());
    let aio = aio_args(&fake);
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/import/results$","times":2,"fault":{"status":400}}]"#,
    );
    let mut args = vec!["report", ".", "--spool-dir", "spool"];
    args.extend(aio.iter().map(String::as_str));
    let out = test_report(work.path(), &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    let table = &summary[summary.find("### Not delivered").expect("the table")..];
    insta::assert_snapshot!(table);
    let spool = work.path().join("spool");
    let first = manifest(&spool);
    let pending: Vec<&str> = first["aio"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["r1.xml", "r2.xml"], "{first}");
    let cycle = first["aio"]["cycle_key"].as_str().unwrap().to_owned();
    assert_eq!(first["aio"]["project"], "PROJ", "{first}");
    assert_no_secret(&spool, &[AIO_TOKEN]);

    // Only the credentials: the spool knows the project and the cycle.
    let mut resume = vec!["resume", "spool"];
    resume.extend(aio[..4].iter().map(String::as_str));
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!spool.join("manifest.json").exists());

    let state = fake.state("aio");
    let imports = state["imports"].as_array().unwrap();
    let lengths: BTreeSet<u64> = imports
        .iter()
        .map(|i| i["file_len"].as_u64().unwrap())
        .collect();
    assert_eq!(imports.len(), 5, "each file imported once: {state}");
    assert_eq!(
        lengths,
        reports
            .iter()
            .map(|r| r.len() as u64)
            .collect::<BTreeSet<_>>()
    );
    assert!(imports.iter().all(|i| i["cycle"] == cycle.as_str()));
    let nightly = state["projects"]["PROJ"]["cycles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["title"] == "Nightly")
        .count();
    assert_eq!(nightly, 1, "the resume created no second cycle");
}

#[test]
fn a_resume_that_fails_again_keeps_what_is_left_and_a_missing_token_is_named() {
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    five_reports(work.path());
    let aio = aio_args(&fake);
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/import/results$","times":3,"fault":{"status":400}}]"#,
    );
    let mut args = vec!["report", ".", "--spool-dir", "spool"];
    args.extend(aio.iter().map(String::as_str));
    assert_eq!(test_report(work.path(), &args).status.code(), Some(3));

    // Without credentials nothing is sent and nothing is lost.
    let out = test_report(work.path(), &["resume", "spool"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("give the AIO token again"));
    let spool = work.path().join("spool");
    assert_eq!(
        manifest(&spool)["aio"]["files"].as_array().unwrap().len(),
        3
    );

    // The first resumed file fails once more: the next spool holds just that one.
    let mut resume = vec!["resume", "spool"];
    resume.extend(aio.iter().map(String::as_str));
    fake.control(
        "/_fake/faults",
        r#"[{"service":"aio","path_regex":"/import/results$","times":1,"fault":{"status":400}}]"#,
    );
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(3));
    let left: Vec<String> = manifest(&spool)["aio"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, ["r1.xml"]);
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(fake.state("aio")["imports"].as_array().unwrap().len(), 5);
}

#[test]
fn testomat_batches_that_failed_are_spooled_and_resumed_without_duplicate_executions() {
    const KEY: &str = "tstmt_fake-key";
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    // 250 tests: three batches of at most 100.
    let cases: String = (0..250)
        .map(|c| format!("<testcase classname=\"big\" name=\"t{c}\"/>"))
        .collect();
    std::fs::write(
        work.path().join("big.xml"),
        format!("<testsuite name=\"big\" tests=\"250\">{cases}</testsuite>"),
    )
    .unwrap();
    let url = format!("{}/testomatio", fake.url);
    let testomat = ["--testomatio-api-key", KEY, "--testomatio-url", &url];
    // The first batch refused for good (a 400 is not retried).
    fake.control(
        "/_fake/faults",
        r#"[{"service":"testomatio","path_regex":"/testrun$","times":1,"fault":{"status":400}}]"#,
    );
    let mut args = vec!["report", "big.xml", "--spool-dir", "spool"];
    args.extend_from_slice(&testomat);
    let out = test_report(work.path(), &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let spool = work.path().join("spool");
    let first = manifest(&spool);
    let pending = &first["testomatio"];
    let indexes: Vec<u64> = pending["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [1], "{first}");
    assert_eq!(pending["finish"], "true");
    assert_no_secret(&spool, &[KEY]);
    let run = &fake.state("testomatio")["runs"][0];
    assert_eq!(run["status"], "running", "the finish was held: {run}");
    assert_eq!(run["executions"].as_array().unwrap().len(), 150);

    let mut resume = vec!["resume", "spool"];
    resume.extend_from_slice(&testomat);
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!spool.join("manifest.json").exists());
    let state = fake.state("testomatio");
    assert_eq!(state["runs"].as_array().unwrap().len(), 1, "{state}");
    let run = &state["runs"][0];
    assert_eq!(run["status"], "finished");
    assert_eq!(run["executions"].as_array().unwrap().len(), 250);
    assert_eq!(run["duplicate_batch_indexes"], serde_json::json!([]));
    assert_eq!(run["batch_indexes"], serde_json::json!([2, 3, 1]));
}

const OCTANE_ID: &str = "octane-client";
const OCTANE_SECRET: &str = "octane-secret";

fn valueedge_args(fake: &FakeServices) -> Vec<String> {
    [
        "--valueedge-url",
        &format!("{}/octane", fake.url),
        "--valueedge-client-id",
        OCTANE_ID,
        "--valueedge-client-secret",
        OCTANE_SECRET,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A JUnit and a Cucumber report (two ValueEdge documents: the XSD keeps plain and gherkin runs
/// apart) sent with the second push refused for good; the spool directory.
fn valueedge_spool(fake: &FakeServices, work: &Path) -> std::path::PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("examples/passing.xml"), work.join("passing.xml")).unwrap();
    std::fs::copy(
        repo.join("tests/fixtures/cucumber-js/cucumber-json.json"),
        work.join("features.json"),
    )
    .unwrap();
    // The first push passes (the slow answer is harmless), the second is refused: 403 is not
    // retried.
    fake.control(
        "/_fake/faults",
        r#"[{"service":"octane","path_regex":"/test-results$","fault":{"slow_body_ms_per_kb":1}},
            {"service":"octane","path_regex":"/test-results$","fault":{"status":403}}]"#,
    );
    let mut args = vec![
        "report",
        ".",
        "--spool-dir",
        "spool",
        "--valueedge-shared-space",
        "1001",
        "--valueedge-workspace",
        "1002",
        "--valueedge-skip-errors",
        "true",
    ];
    let valueedge = valueedge_args(fake);
    args.extend(valueedge.iter().map(String::as_str));
    let out = test_report(work, &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("| ValueEdge |"),
        "{}",
        text(&out.stdout)
    );
    work.join("spool")
}

#[test]
fn valueedge_documents_that_failed_are_spooled_and_resumed_without_resending_the_delivered() {
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    let spool = valueedge_spool(&fake, work.path());
    let first = manifest(&spool);
    let pending = &first["valueedge"];
    assert_eq!(pending["shared_space"], "1001", "{first}");
    assert_eq!(pending["workspace"], "1002");
    assert_eq!(pending["skip_errors"], true);
    assert_eq!(pending["document_count"], 2);
    let documents = pending["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "only the refused document: {first}");
    assert_eq!(documents[0]["index"], 2);
    assert_eq!(documents[0]["path"], "document 2 of 2");
    let spooled = std::fs::read_to_string(spool.join("valueedge-2.xml")).unwrap();
    assert!(spooled.contains("<gherkin_test_run "), "{spooled}");
    assert_no_secret(&spool, &[OCTANE_ID, OCTANE_SECRET]);
    let state = fake.state("octane");
    assert_eq!(state["tasks"].as_array().unwrap().len(), 1, "{state}");
    let plain_runs = state["tasks"][0]["runs"].as_array().unwrap().len();
    assert_eq!(plain_runs, 4, "the JUnit document arrived whole");

    // The resume names no space: the spool does.
    let mut resume = vec!["resume", "spool"];
    let valueedge = valueedge_args(&fake);
    resume.extend(valueedge.iter().map(String::as_str));
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 of 1 resumed uploads delivered; 0 units still pending"),
        "{}",
        text(&out.stdout)
    );
    assert!(!spool.join("manifest.json").exists());
    assert!(!spool.join("valueedge-2.xml").exists());

    let state = fake.state("octane");
    let tasks = state["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2, "each document stored once: {state}");
    assert!(tasks.iter().all(|t| t["duplicate_pushes"] == 0), "{state}");
    assert!(tasks.iter().all(|t| t["status"] != "failed"), "{state}");
    assert_eq!(
        tasks[1]["payload_utf8"], spooled,
        "the spooled bytes as sent"
    );
    assert_eq!(tasks[1]["skip_errors"], true, "sent as first planned");
    let pushes: Vec<String> = fake
        .requests("octane")
        .iter()
        .filter(|r| r["method"] == "POST")
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .filter(|p| p.ends_with("/test-results"))
        .collect();
    // Two first pushes, one resumed: the delivered document was not sent again.
    assert_eq!(pushes.len(), 3, "{pushes:?}");
    assert!(pushes
        .iter()
        .all(|p| p.contains("/shared_spaces/1001/workspaces/1002/")));
    let names: Vec<&str> = tasks
        .iter()
        .flat_map(|t| t["runs"].as_array().unwrap())
        .filter_map(|r| r["name"].as_str())
        .collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "every result once: {names:?}");
}

#[test]
fn resume_dry_run_prints_the_requests_and_sends_nothing() {
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    let spool = valueedge_spool(&fake, work.path());
    let before = fake.requests("octane").len();
    let manifest_before = std::fs::read(spool.join("manifest.json")).unwrap();

    let mut resume = vec!["resume", "spool", "--dry-run"];
    let valueedge = valueedge_args(&fake);
    resume.extend(valueedge.iter().map(String::as_str));
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(fake.requests("octane").len(), before, "nothing sent");
    assert_eq!(
        std::fs::read(spool.join("manifest.json")).unwrap(),
        manifest_before,
        "the spool is left as it is"
    );
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let octane = format!("{}/octane", fake.url);
    let lines: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("POST ") || l.starts_with("GET "))
        .collect();
    assert_eq!(
        lines,
        [
            format!("POST {octane}/authentication/sign_in"),
            format!("POST {octane}/api/shared_spaces/1001/workspaces/1002/test-results?skip-errors=true"),
            format!("GET {octane}/api/shared_spaces/1001/workspaces/1002/test-results/0"),
            format!("POST {octane}/authentication/sign_out"),
        ],
        "{printed}"
    );
    assert!(printed.contains("<gherkin_test_run "), "the body is shown");
    assert!(printed.contains("nothing was sent; 1 units still pending"));
    for secret in [OCTANE_ID, OCTANE_SECRET] {
        assert!(!printed.contains(secret), "{secret} printed: {printed}");
    }
}

#[test]
fn a_valueedge_push_processed_but_never_answered_is_resent_without_a_second_copy() {
    let fake = FakeServices::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/passing.xml"),
        work.path().join("passing.xml"),
    )
    .unwrap();
    // Every attempt reaches Octane, but each answer is cut: the push was processed, the client
    // never learns it, and after its retries the document is spooled.
    fake.control(
        "/_fake/faults",
        r#"[{"service":"octane","path_regex":"/test-results$","times":4,"fault":{"truncated_body":true}}]"#,
    );
    let valueedge = valueedge_args(&fake);
    let mut args = vec![
        "report",
        "passing.xml",
        "--spool-dir",
        "spool",
        "--valueedge-shared-space",
        "1001",
        "--valueedge-workspace",
        "1002",
    ];
    args.extend(valueedge.iter().map(String::as_str));
    let out = test_report(work.path(), &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let spool = work.path().join("spool");
    assert_eq!(
        manifest(&spool)["valueedge"]["documents"][0]["path"],
        "document 1 of 1"
    );
    assert_eq!(fake.state("octane")["tasks"].as_array().unwrap().len(), 1);

    let mut resume = vec!["resume", "spool"];
    resume.extend(valueedge.iter().map(String::as_str));
    let out = test_report(work.path(), &resume);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let state = fake.state("octane");
    let tasks = state["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "Octane kept one copy: {state}");
    assert_eq!(tasks[0]["runs"].as_array().unwrap().len(), 4);
    // Three retries and the resume were answered with the first task.
    assert_eq!(tasks[0]["duplicate_pushes"], 4, "{state}");
}

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
    assert_no_secret(&spool, &[AIO_TOKEN]);

    let mut resume = vec!["resume", "spool"];
    resume.extend(aio.iter().map(String::as_str));
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
    assert!(text(&out.stderr).contains("give the AIO settings again"));
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

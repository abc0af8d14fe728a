//! Uploads to the local fakes (issue 12): Testomat.io throughput in batches, TestNod's bounded
//! concurrency, ValueEdge's request pacing, each measured against the fake services
//! (tests/fakes, tests/README.md) rather than asserted in a timed test.
//!
//! `cargo bench --bench uploads` builds `fake-services` under the bench profile, writes the
//! deterministic inputs to target/bench/uploads/, and prints one Markdown row per service:
//!
//! - Testomat.io: [`TESTOMAT_TESTS`] JUnit cases through the `test-report report` binary; the rate
//!   is tests per second of the whole process (parse included), the bound the target of
//!   [`TESTOMAT_TARGET_PER_SECOND`], the batches those the fake stored.
//! - TestNod: [`TESTNOD_FILES`] report files through the binary, each storage PUT held
//!   [`STORAGE_STALL_MS`] by the fake (a slow storage host) so that overlaps show. Each upload has
//!   at most one request out at a time (create, then PUT), so the peak of requests in flight in
//!   the fake's journal (`received_ms` to `answered_ms`) is the peak of uploads in flight; it must
//!   not exceed [`MAX_CONCURRENT_UPLOADS`].
//! - ValueEdge: [`VALUEEDGE_DOCUMENTS`] documents through the library over the native client (the
//!   CLI packs 4 MiB per document: that many would take hundreds of MB of reports); the busiest
//!   1-second window of the journal must stay within [`MAX_REQUESTS_PER_SECOND`].
//!
//! A bound that did not hold prints "no" and makes the bench exit 1.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/it/fakes.rs"]
mod fakes;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fakes::FakeServices;
use serde_json::Value;
use test_report::http::native::NativeClient;
use test_report::http::retry::RetryPolicy;
use test_report::http::Secret;
use test_report::parse::{parse_bytes, FormatChoice};
use test_report::pipeline::FileReport;
use test_report::upload::testnod::MAX_CONCURRENT_UPLOADS;
use test_report::upload::testomat::MAX_BATCH_TESTS;
use test_report::upload::valueedge::{self, RunContext, ValueedgeConfig, MAX_REQUESTS_PER_SECOND};

/// Tests sent to Testomat.io in one run.
const TESTOMAT_TESTS: usize = 100_000;
/// Issue 12's target for Testomat.io uploads.
const TESTOMAT_TARGET_PER_SECOND: f64 = 10_000.0;
/// Report files sent to TestNod in one run.
const TESTNOD_FILES: usize = 100;
/// JUnit cases per TestNod report file.
const TESTNOD_CASES_PER_FILE: usize = 200;
/// How long the fake's storage host holds each PUT before answering.
const STORAGE_STALL_MS: u64 = 40;
/// Documents (one run each) pushed to ValueEdge.
const VALUEEDGE_DOCUMENTS: usize = 100;
/// The window the ValueEdge rate is counted in.
const WINDOW_MS: u64 = 1_000;

/// The test credentials the fake accepts by default (tests/README.md).
const TESTOMAT_KEY: &str = "tstmt_fake-key";
const TESTNOD_TOKEN: &str = "testnod-token";

struct Row {
    what: &'static str,
    count: String,
    seconds: f64,
    rate: String,
    bound: String,
    held: bool,
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench/uploads");
    std::fs::create_dir_all(&dir).expect("target/bench/uploads");
    use_fake_services_of_this_profile();

    let rows = [testomat(&dir), testnod(&dir), valueedge()];
    println!("| upload | count | time | rate | bound | held |");
    println!("|---|---|---:|---:|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {:.2} s | {} | {} | {} |",
            r.what,
            r.count,
            r.seconds,
            r.rate,
            r.bound,
            if r.held { "yes" } else { "**no**" }
        );
    }
    if rows.iter().any(|r| !r.held) {
        std::process::exit(1);
    }
}

/// Builds `fake-services` under the bench profile (optimized, as the binary under test) and points
/// the fakes helper at it.
fn use_fake_services_of_this_profile() {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--profile",
            "bench",
            "-p",
            "fake-services",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p fake-services failed");
    // target/release/deps/uploads-<hash> → target/release/fake-services
    let exe = std::env::current_exe().expect("bench binary path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/release")
        .join("fake-services");
    std::env::set_var(fakes::BIN_ENV, bin);
}

/// Runs `test-report report ARGS` with a clean environment; panics unless it exits 0.
fn test_report(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_test-report"))
        .arg("report")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("the test-report binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "test-report {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `cases` JUnit cases, every 10th failed, every 20th skipped, names numbered from `first`.
fn junit(first: usize, cases: usize) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (suite, start) in (first..first + cases).step_by(200).enumerate() {
        let _ = writeln!(xml, "<testsuite name=\"suite {suite}\">");
        for i in start..(start + 200).min(first + cases) {
            let body = match i % 20 {
                3 | 13 => "<failure message=\"expected 42 but was 41\">at com.acme.Service.call(Service.java:12)</failure>",
                5 => "<skipped/>",
                _ => "",
            };
            let _ = writeln!(
                xml,
                "<testcase classname=\"com.acme.Suite{suite}\" name=\"case {i}\" time=\"0.012\">{body}</testcase>"
            );
        }
        xml.push_str("</testsuite>\n");
    }
    xml + "</testsuites>\n"
}

fn testomat(dir: &Path) -> Row {
    let report = dir.join("testomat.xml");
    std::fs::write(&report, junit(0, TESTOMAT_TESTS)).expect("write the Testomat.io report");
    let fake = FakeServices::start();
    let url = format!("{}/testomatio", fake.url);
    let started = Instant::now();
    test_report(&[
        &report.display().to_string(),
        "--testomatio-api-key",
        TESTOMAT_KEY,
        "--testomatio-url",
        &url,
    ]);
    let seconds = started.elapsed().as_secs_f64();
    let state = fake.state("testomatio");
    let run = &state["runs"][0];
    let stored = run["executions"].as_array().map_or(0, Vec::len);
    let batches = run["batch_indexes"].as_array().map_or(0, Vec::len);
    let rate = stored as f64 / seconds;
    Row {
        what: "Testomat.io, one JUnit file (CLI)",
        count: format!("{stored} tests in {batches} batches (≤ {MAX_BATCH_TESTS} each)"),
        seconds,
        rate: format!("{rate:.0} tests/s"),
        bound: format!("≥ {TESTOMAT_TARGET_PER_SECOND:.0} tests/s"),
        held: stored == TESTOMAT_TESTS && rate >= TESTOMAT_TARGET_PER_SECOND,
    }
}

fn testnod(dir: &Path) -> Row {
    let reports = dir.join("testnod");
    std::fs::create_dir_all(&reports).expect("target/bench/uploads/testnod");
    for i in 0..TESTNOD_FILES {
        let xml = junit(i * TESTNOD_CASES_PER_FILE, TESTNOD_CASES_PER_FILE);
        std::fs::write(reports.join(format!("shard-{i:03}.xml")), xml)
            .expect("write a TestNod report");
    }
    let fake = FakeServices::start();
    fake.control(
        "/_fake/faults",
        &format!(
            r#"[{{"service":"storage","method":"PUT","times":{TESTNOD_FILES},"fault":{{"stall_ms":{STORAGE_STALL_MS}}}}}]"#
        ),
    );
    let url = format!("{}/testnod", fake.url);
    let started = Instant::now();
    test_report(&[
        &reports.display().to_string(),
        "--testnod-token",
        TESTNOD_TOKEN,
        "--testnod-url",
        &url,
        "--testnod-build-id",
        "bench-1",
    ]);
    let seconds = started.elapsed().as_secs_f64();
    let state = fake.state("testnod");
    let uploaded = state["runs"][0]["uploads"]
        .as_array()
        .map_or(0, |u| u.iter().filter(|u| u["file_puts"] == 1).count());
    let journal: Vec<Value> = fake
        .requests("testnod")
        .into_iter()
        .chain(fake.requests("storage"))
        .collect();
    let peak = peak_in_flight(&journal);
    Row {
        what: "TestNod, one file per shard (CLI)",
        count: format!("{uploaded} files ({STORAGE_STALL_MS} ms per PUT)"),
        seconds,
        rate: format!("peak {peak} in flight"),
        bound: format!("≤ {MAX_CONCURRENT_UPLOADS} in flight"),
        held: uploaded == TESTNOD_FILES && peak <= MAX_CONCURRENT_UPLOADS && peak > 0,
    }
}

/// The most requests between `received_ms` and `answered_ms` at once. Ends sort before starts
/// at the same millisecond: a request sent when another's answer arrived does not overlap it.
fn peak_in_flight(journal: &[Value]) -> usize {
    let mut events: Vec<(u64, i32)> = Vec::new();
    for r in journal {
        let start = r["received_ms"].as_u64().expect("received_ms");
        let end = r["answered_ms"]
            .as_u64()
            .expect("every request was answered");
        events.push((start, 1));
        events.push((end, -1));
    }
    events.sort();
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, step) in events {
        now += step;
        peak = peak.max(now);
    }
    usize::try_from(peak).unwrap_or(0)
}

fn valueedge() -> Row {
    let cases: String = (0..VALUEEDGE_DOCUMENTS)
        .map(|i| {
            format!("<testcase classname=\"com.acme.Paced\" name=\"case {i}\" time=\"0.01\"/>")
        })
        .collect();
    let xml = format!("<testsuite name=\"paced\">{cases}</testsuite>");
    let files = [FileReport {
        path: "paced.xml".into(),
        result: parse_bytes(xml.as_bytes(), FormatChoice::Auto),
        original: None,
    }];
    let fake = FakeServices::start();
    let config = ValueedgeConfig {
        base_url: format!("{}/octane", fake.url),
        shared_space: "1001".into(),
        workspace: "1002".into(),
        client_id: Secret::new("octane-client"),
        client_secret: Secret::new("octane-secret"),
        skip_errors: false,
        wait: false,
        context: RunContext::default(),
        // One run per document: every case its own push.
        max_payload_bytes: 1,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let client = NativeClient::new();
    let started = Instant::now();
    let receipt = runtime.block_on(valueedge::upload(
        &client,
        &config,
        &files,
        &RetryPolicy::default(),
    ));
    let seconds = started.elapsed().as_secs_f64();
    assert!(receipt.errors.is_empty(), "{:?}", receipt.errors);
    let journal = fake.requests("octane");
    let throttled = journal.iter().filter(|r| r["status"] == 429).count();
    let times: Vec<u64> = journal
        .iter()
        .map(|r| r["received_ms"].as_u64().expect("received_ms"))
        .collect();
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| (*start..start + WINDOW_MS).contains(t))
                .count()
        })
        .max()
        .unwrap_or(0);
    let span = Duration::from_millis(times.last().unwrap_or(&0) - times.first().unwrap_or(&0));
    let rate = times.len().saturating_sub(1) as f64 / span.as_secs_f64().max(f64::EPSILON);
    Row {
        what: "ValueEdge, one run per document (library, native client)",
        count: format!(
            "{} documents, {} requests",
            receipt.tasks.len(),
            journal.len()
        ),
        seconds,
        rate: format!("{rate:.1} req/s, busiest second {busiest}"),
        bound: format!("≤ {MAX_REQUESTS_PER_SECOND} req/s"),
        held: receipt.tasks.len() == VALUEEDGE_DOCUMENTS
            && throttled == 0
            && busiest as u64 <= MAX_REQUESTS_PER_SECOND,
    }
}

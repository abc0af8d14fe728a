//! CTRF JSON, the Common Test Report Format (ctrf.io, `reportFormat: "CTRF"`).
//!
//! CTRF has no "errored" status: errored tests are `failed` with `rawStatus: "errored"`. Flaky
//! tests are `passed` with `flaky: true` and `retries` = attempts − 1, as the spec defines them.

use serde::Serialize;

use crate::model::{millis, Case, Status};
use crate::pipeline::{FileReport, Report};

/// The tool name written into `results.tool.name`.
pub const TOOL_NAME: &str = "test-report";
/// The CTRF specification version these documents follow.
pub const SPEC_VERSION: &str = "0.0.0";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    report_format: &'static str,
    spec_version: &'static str,
    results: Results<'a>,
}

#[derive(Serialize)]
struct Results<'a> {
    tool: Tool,
    summary: Summary,
    tests: Vec<Test<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    tests: u64,
    passed: u64,
    failed: u64,
    pending: u64,
    skipped: u64,
    other: u64,
    flaky: u64,
    start: u64,
    stop: u64,
    duration: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Test<'a> {
    name: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_status: Option<&'static str>,
    duration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    suite: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    classname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    retries: u32,
    flaky: bool,
}

fn test<'a>(suite: &'a str, case: &'a Case) -> Test<'a> {
    let (status, raw_status, retries, flaky) = match case.status {
        Status::Passed => ("passed", None, 0, false),
        Status::Failed => ("failed", None, case.retries().len(), false),
        Status::Errored => ("failed", Some("errored"), case.retries().len(), false),
        Status::Skipped => ("skipped", None, 0, false),
        Status::Flaky { attempts } => ("passed", None, attempts.saturating_sub(1) as usize, true),
    };
    let problem = case.problems().first();
    Test {
        name: &case.name,
        status,
        raw_status,
        duration: case.duration.map(millis).unwrap_or(0),
        message: problem.and_then(|p| p.message.as_deref().or(p.kind.as_deref())),
        trace: problem.and_then(|p| p.trace.as_deref()),
        suite,
        classname: case.classname.as_deref(),
        file_path: case.location().map(|l| l.file.as_str()),
        line: case.location().and_then(|l| l.line),
        retries: u32::try_from(retries).unwrap_or(u32::MAX),
        flaky,
    }
}

/// One CTRF document for all files. `now_ms` is the end of the run; its start is derived from the
/// total duration, since JUnit rarely records when a run started.
pub fn write(files: &[FileReport], now_ms: u64) -> String {
    let report = Report::new(files);
    let t = report.totals;
    let tests = files
        .iter()
        .flat_map(|f| f.runs())
        .flat_map(|run| run.suites.iter())
        .flat_map(|suite| suite.cases.iter().map(move |c| test(&suite.name, c)))
        .collect();
    let doc = Document {
        report_format: "CTRF",
        spec_version: SPEC_VERSION,
        results: Results {
            tool: Tool {
                name: TOOL_NAME,
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: Summary {
                tests: t.tests,
                passed: t.passed + t.flaky,
                failed: t.failed + t.errored,
                pending: 0,
                skipped: t.skipped,
                other: 0,
                flaky: t.flaky,
                start: now_ms.saturating_sub(t.duration_ms),
                stop: now_ms,
                duration: t.duration_ms,
            },
            tests,
        },
    };
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

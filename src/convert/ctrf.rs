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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_bytes, FormatChoice};

    fn report(xml: &str) -> FileReport {
        FileReport {
            path: "report.xml".into(),
            result: parse_bytes(xml.as_bytes(), FormatChoice::Auto),
            original: None,
        }
    }

    /// Every status, every optional field, and strings that need escaping.
    const MIXED: &str = r#"<testsuites>
  <testsuite name="Ünïcode &quot;suite&quot;" time="3.5">
    <testcase classname="a.B" name="passes" time="0.25" file="src/b.rs" line="12"/>
    <testcase classname="a.B" name="fails \ with &quot;quotes&quot;" time="1">
      <failure message="expected &lt;1&gt;&#10;got&#9;2" type="AssertionError">trace line 1
	at a.B.fails(B.java:3)
 control: &#27;[31mred&#27;[0m</failure>
    </testcase>
    <testcase classname="a.B" name="errors"><error type="java.lang.NullPointerException"/></testcase>
    <testcase classname="a.B" name="skips"><skipped message="not today"/></testcase>
    <testcase classname="a.B" name="flaky" time="0.5"><flakyFailure message="first try"/></testcase>
  </testsuite>
  <testsuite name="empty"/>
</testsuites>"#;

    #[test]
    fn the_document_names_every_test_with_its_status() {
        let files = [report(MIXED), report("<testsuite name=\"s\"/>")];
        let doc = write(&files, 1_700_000_000_000);
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(value["results"]["tests"].as_array().map(Vec::len), Some(5));
        insta::assert_snapshot!(doc);
    }

    #[test]
    fn no_tests_is_an_empty_list() {
        let doc = write(&[report("<testsuite name=\"s\"/>")], 0);
        insta::assert_snapshot!(doc);
    }
}

//! CTRF (Common Test Report Format) JSON: `{"results": {"tool", "summary", "tests": [...]}}`.
//!
//! Rules, as the CTRF specification defines them:
//! - Each entry of `results.tests` is one case; its suite is `suite` (a string, or an array of
//!   names joined with " › "), else the tool's name; `duration` is in milliseconds.
//! - `passed` → passed, or flaky when `flaky` is true or a `retryAttempts` entry failed
//!   (attempts: `retries` + 1); failed `retryAttempts` are kept as earlier attempts;
//!   `failed` → failed; `skipped` and `pending` → skipped with the status as reason;
//!   `other` → errored when `rawStatus` names an error, broken test, timeout or interruption,
//!   else skipped with the raw status as reason.
//! - `message`/`trace` are the problem, `stdout`/`stderr` (arrays of lines) the output,
//!   `tags`, `type`, `browser`, `device` and `parameters` become properties.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES, SUITE_PATH_SEPARATOR};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, SuitesByName, TestRun};

const WHAT: &str = "the CTRF report";

/// The document; everything but `results` is skipped.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Report<'a> {
    results: Option<Results<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Results<'a> {
    tool: Value,
    summary: Value,
    tests: Option<Vec<Test<'a>>>,
}

/// One test: the scalars typed, with strings left in the document's bytes (a [`Value`] per test
/// took 8× the file); the parts most tests lack stay [`Value`]s, `null` when absent.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase", bound(deserialize = "'de: 'a"))]
struct Test<'a> {
    name: json::Field<'a>,
    status: json::Field<'a>,
    raw_status: json::Field<'a>,
    duration: json::Field<'a>,
    file_path: json::Field<'a>,
    line: json::Field<'a>,
    #[serde(rename = "type")]
    kind: json::Field<'a>,
    browser: json::Field<'a>,
    device: json::Field<'a>,
    message: json::Field<'a>,
    trace: json::Field<'a>,
    retries: json::Field<'a>,
    flaky: json::Field<'a>,
    suite: Value,
    tags: Value,
    parameters: Value,
    retry_attempts: Value,
    stdout: Value,
    stderr: Value,
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let bytes = json::read_bytes(source)?;
    let doc: Report = json::from_bytes(&bytes, WHAT)?;
    let Some((results, tests)) = doc
        .results
        .as_ref()
        .and_then(|r| Some((r, r.tests.as_ref()?)))
    else {
        return Err(json::not_this_format(
            "a CTRF report",
            "an object with \"results\": {\"tests\": [...]}",
        ));
    };
    let tool = json::str_of(&results.tool, "name").unwrap_or("ctrf");
    let mut suites = SuitesByName::default();
    for test in tests {
        let suite = match &test.suite {
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(SUITE_PATH_SEPARATOR),
            Value::String(s) if !s.trim().is_empty() => s.clone(),
            _ => tool.to_owned(),
        };
        suites.push(&suite, case_of(test));
    }
    let summary = &results.summary;
    let declared = match (
        summary.get("start").and_then(Value::as_f64),
        summary.get("stop").and_then(Value::as_f64),
    ) {
        (Some(a), Some(b)) if b >= a => json::millis(Some(&Value::from(b - a))),
        _ => None,
    };
    let run = TestRun {
        name: Some(tool.to_owned()),
        suites: suites.into_suites(),
        declared_duration: declared,
    };
    let stated = |key: &str| summary.get(key).and_then(Value::as_u64);
    let diagnostics = json::check_counters(
        WHAT,
        &[
            ("tests", stated("tests"), run.cases().count() as u64),
            (
                "passed",
                stated("passed"),
                json::count(&run, &[Status::Passed, Status::Flaky { attempts: 0 }]),
            ),
            (
                "failed",
                stated("failed"),
                json::count(&run, &[Status::Failed]),
            ),
        ],
    );
    Ok(Parsed {
        runs: vec![run],
        diagnostics: diagnostics.into_iter().collect(),
    })
}

fn lines(v: &Value, cap: usize) -> Option<String> {
    match v {
        Value::Array(items) => {
            let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            json::text(&joined.join("\n"), cap)
        }
        Value::String(s) => json::text(s, cap),
        _ => None,
    }
}

fn case_of(test: &Test<'_>) -> Case {
    let raw = test.raw_status.str().unwrap_or_default();
    let erroneous = [
        "error",
        "broken",
        "timedout",
        "timeout",
        "interrupted",
        "crash",
    ]
    .iter()
    .any(|w| raw.to_ascii_lowercase().contains(w));
    // CTRF 1.0 lists earlier attempts in `retryAttempts`; older reporters only count `retries`.
    let earlier: Vec<Problem> = test
        .retry_attempts
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| matches!(json::str_of(a, "status"), Some("failed" | "other")))
        .map(|a| Problem {
            message: json::text_of(a, "message", MAX_MESSAGE_BYTES),
            kind: None,
            trace: json::text_of(a, "trace", MAX_TRACE_BYTES),
        })
        .collect();
    let retries = test.retries.u64().unwrap_or(0).max(earlier.len() as u64);
    let flaky = test.flaky.is_true() || !earlier.is_empty();
    let status = match test.status.str() {
        Some("passed") if flaky => Status::Flaky {
            attempts: u32::try_from(retries.max(1) + 1).unwrap_or(u32::MAX),
        },
        Some("passed") => Status::Passed,
        Some("failed") => Status::Failed,
        Some("skipped" | "pending") => Status::Skipped,
        _ if erroneous => Status::Errored,
        _ => Status::Skipped,
    };
    let mut case = Case::new(
        test.name
            .text(MAX_MESSAGE_BYTES)
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.duration = test.duration.millis();
    case.set_location(test.file_path.str().map(|f| Location {
        file: f.to_owned(),
        line: test.line.line(),
    }));
    let properties = [
        ("type", &test.kind),
        ("browser", &test.browser),
        ("device", &test.device),
        ("rawStatus", &test.raw_status),
    ];
    for (key, field) in properties {
        if let Some(v) = field.str() {
            case.details_mut()
                .properties
                .push((key.to_owned(), v.to_owned()));
        }
    }
    for tag in test.tags.as_array().into_iter().flatten() {
        case.details_mut()
            .properties
            .push(("tag".to_owned(), json::scalar_text(tag)));
    }
    if let Some(params) = test.parameters.as_object() {
        for (k, v) in params {
            case.details_mut()
                .properties
                .push((k.clone(), json::scalar_text(v)));
        }
    }
    let problem = Problem {
        message: test.message.text(MAX_MESSAGE_BYTES),
        kind: None,
        trace: test.trace.text(MAX_TRACE_BYTES),
    };
    match status {
        Status::Passed => {}
        Status::Flaky { .. } => {
            if !problem.is_empty() {
                case.details_mut().retries.push(problem);
            }
            case.details_mut().retries.extend(earlier);
        }
        Status::Skipped => case.details_mut().problems.push(Problem {
            message: problem.message.or_else(|| {
                test.status
                    .str()
                    .map(|s| {
                        if s == "other" && !raw.is_empty() {
                            raw
                        } else {
                            s
                        }
                    })
                    .map(str::to_owned)
            }),
            ..Problem::default()
        }),
        Status::Failed | Status::Errored => {
            case.set_retries(earlier);
            case.details_mut().problems.push(problem);
            case.set_stdout(lines(&test.stdout, MAX_OUTPUT_BYTES));
            case.set_stderr(lines(&test.stderr, MAX_OUTPUT_BYTES));
        }
    }
    json::describe_attempts(&mut case);
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_suites_and_properties() {
        let doc = r#"{"reportFormat":"CTRF","specVersion":"0.0.0","results":{"tool":{"name":"jest"},
          "summary":{"tests":5,"passed":2,"failed":1,"skipped":1,"pending":0,"other":1,"start":1000,"stop":3500},
          "tests":[
            {"name":"a","status":"passed","duration":12,"suite":["outer","inner"],"tags":["@fast"]},
            {"name":"b","status":"passed","duration":5,"flaky":true,"retries":2,"message":"first try broke"},
            {"name":"c","status":"failed","duration":7,"message":"expected 1","trace":"at c.js:3","filePath":"c.js","line":3,"stdout":["out"]},
            {"name":"d","status":"pending","duration":0},
            {"name":"e","status":"other","rawStatus":"timedOut","duration":30000},
            {"name":"f","status":"passed","retries":1,"retryAttempts":[{"attempt":1,"status":"failed","message":"flaked"}]}]}}"#;
        let parsed = parse(Source::new(doc.as_bytes())).unwrap();
        let run = &parsed.runs[0];
        let got: Vec<_> = run.cases().map(|c| c.status).collect();
        assert_eq!(
            got,
            vec![
                Status::Passed,
                Status::Flaky { attempts: 3 },
                Status::Failed,
                Status::Skipped,
                Status::Errored,
                Status::Flaky { attempts: 2 }
            ]
        );
        let f = run.cases().nth(5).unwrap();
        assert_eq!(f.retries()[0].message.as_deref(), Some("flaked"));
        assert_eq!(run.suites[0].name, "outer › inner");
        assert_eq!(run.duration(), std::time::Duration::from_millis(2500));
        let c = run.cases().nth(2).unwrap();
        assert_eq!(c.stdout(), Some("out"));
        assert_eq!(c.location().and_then(|l| l.line), Some(3));
    }
}

//! GoogleTest JSON (`--gtest_output=json`): `{"testsuites": [{"testsuite": [...]}]}`.
//!
//! Rules, as GoogleTest's console counts ("[  PASSED  ] N tests", "[  FAILED  ]", "[  SKIPPED ]"):
//! - Each entry of a suite's `testsuite` array is one case, class = the suite's `name`.
//! - `status: "NOTRUN"` (a `DISABLED_` test) and `result: "SKIPPED"`/`"SUPPRESSED"` → skipped.
//! - Any entry in `failures` → failed; a failure that is an uncaught exception
//!   ("C++ exception with description … thrown", "Unknown C++ exception thrown") → errored.
//! - `time` is a string of seconds with an `s` suffix. `value_param`, `type_param` and any
//!   `RecordProperty` keys become properties. The failure's first line `file:line` is the location.
//! - GoogleTest writes each byte of non-ASCII UTF-8 text as its own `\u00XX` escape ("größe"
//!   arrives as "grÃ¶ÃŸe"); such text is turned back into the UTF-8 it was ([`repair_utf8`]).

use std::borrow::Cow;
use std::io::BufRead;

use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, Suite, TestRun};

const WHAT: &str = "the GoogleTest JSON report";

/// Keys GoogleTest itself writes on a test; any other key is a `RecordProperty`.
const OWN_KEYS: &[&str] = &[
    "name",
    "file",
    "line",
    "status",
    "result",
    "timestamp",
    "time",
    "classname",
    "failures",
    "skipped",
];

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let doc: Value = json::read_document(source, WHAT)?;
    let Some(groups) = doc.get("testsuites").and_then(Value::as_array) else {
        return Err(json::not_this_format(
            "a GoogleTest JSON report",
            "an object with a \"testsuites\" array",
        ));
    };
    let suites = groups
        .iter()
        .map(|g| Suite {
            name: field(g, "name").unwrap_or_default().into_owned(),
            cases: g
                .get("testsuite")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| case_of(t, json::str_of(g, "name")))
                .collect(),
            duration: json::seconds(g.get("time")),
            timestamp: json::str_of(g, "timestamp").map(str::to_owned),
            ..Suite::default()
        })
        .collect();
    let run = TestRun {
        name: json::str_of(&doc, "name").map(str::to_owned),
        suites,
        declared_duration: json::seconds(doc.get("time")),
    };
    let stated = |key: &str| doc.get(key).and_then(Value::as_u64);
    let diagnostics = json::check_counters(
        WHAT,
        &[
            ("tests", stated("tests"), run.cases().count() as u64),
            (
                "failures",
                stated("failures"),
                json::count(&run, &[Status::Failed, Status::Errored]),
            ),
        ],
    );
    Ok(Parsed {
        runs: vec![run],
        diagnostics: diagnostics.into_iter().collect(),
    })
}

/// Undoes GoogleTest's byte-per-character escaping: text whose characters are all below U+0100
/// and whose bytes, taken one per character, are valid UTF-8 was UTF-8 to begin with. Genuine
/// Latin-1 text that happens to form valid UTF-8 ("Ã¶" typed on purpose) is vanishingly rare.
pub fn repair_utf8(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || s.chars().any(|c| u32::from(c) > 0xFF) {
        return Cow::Borrowed(s);
    }
    let bytes: Vec<u8> = s
        .chars()
        .filter_map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    match String::from_utf8(bytes) {
        Ok(fixed) => Cow::Owned(fixed),
        Err(_) => Cow::Borrowed(s),
    }
}

fn field<'a>(v: &'a Value, key: &str) -> Option<Cow<'a, str>> {
    json::str_of(v, key).map(repair_utf8)
}

fn case_of(test: &Value, suite: Option<&str>) -> Case {
    let failures: Vec<Cow<str>> = test
        .get("failures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| field(f, "failure"))
        .collect();
    let result = json::str_of(test, "result").unwrap_or_default();
    let skipped = json::str_of(test, "status") == Some("NOTRUN")
        || matches!(result, "SKIPPED" | "SUPPRESSED");
    let exception = failures.iter().any(|f| {
        f.contains("C++ exception with description") || f.contains("Unknown C++ exception")
    });
    let status = if !failures.is_empty() {
        if exception {
            Status::Errored
        } else {
            Status::Failed
        }
    } else if skipped {
        Status::Skipped
    } else {
        Status::Passed
    };
    let mut case = Case::new(
        field(test, "name")
            .and_then(|n| json::text(&n, MAX_MESSAGE_BYTES))
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.classname = field(test, "classname")
        .map(Cow::into_owned)
        .or(suite.map(|s| repair_utf8(s).into_owned()))
        .map(Into::into);
    case.duration = json::seconds(test.get("time"));
    case.set_location(json::str_of(test, "file").map(|f| Location {
        file: f.to_owned(),
        line: json::line_of(test, "line"),
    }));
    if let Some(fields) = test.as_object() {
        for (k, v) in fields
            .iter()
            .filter(|(k, _)| !OWN_KEYS.contains(&k.as_str()))
        {
            case.details_mut()
                .properties
                .push((k.clone(), repair_utf8(&json::scalar_text(v)).into_owned()));
        }
    }
    for failure in &failures {
        // "path/to/file.cc:12\nExpected equality of these values: …"
        let (place, rest) = failure.split_once('\n').unwrap_or(("", failure.as_ref()));
        case.details_mut().problems.push(Problem {
            message: json::text(rest.lines().next().unwrap_or(rest), MAX_MESSAGE_BYTES),
            kind: None,
            trace: json::text(failure, MAX_TRACE_BYTES),
        });
        if let Some((file, line)) = place.rsplit_once(':') {
            if let (Ok(line), true) = (line.trim().parse(), case.location().is_none()) {
                case.set_location(Some(Location {
                    file: file.to_owned(),
                    line: Some(line),
                }));
            }
        }
    }
    if status == Status::Skipped {
        let reason = if result == "SKIPPED" {
            "skipped"
        } else {
            "disabled"
        };
        case.details_mut().problems.push(Problem {
            message: Some(reason.into()),
            ..Problem::default()
        });
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_skipped_failed_and_thrown() {
        let doc = r#"{"tests":5,"failures":2,"disabled":1,"errors":0,"time":"0.01s","name":"AllTests","testsuites":[
          {"name":"Math","tests":5,"failures":2,"disabled":1,"errors":0,"time":"0.01s","testsuite":[
            {"name":"Adds","file":"m.cc","line":3,"status":"RUN","result":"COMPLETED","time":"0.001s","classname":"Math","owner":"ünï"},
            {"name":"DISABLED_Later","file":"m.cc","line":5,"status":"NOTRUN","result":"SUPPRESSED","time":"0s","classname":"Math"},
            {"name":"Skips","status":"RUN","result":"SKIPPED","time":"0s","classname":"Math"},
            {"name":"Fails","status":"RUN","result":"COMPLETED","time":"0s","classname":"Math",
             "failures":[{"failure":"m.cc:9\nExpected equality of these values:\n  1\n  2","type":""}]},
            {"name":"Throws","status":"RUN","result":"COMPLETED","time":"0s","classname":"Math",
             "failures":[{"failure":"unknown file\nC++ exception with description \"boom\" thrown in the test body.","type":""}]}]}]}"#;
        let parsed = parse(Source::new(doc.as_bytes())).unwrap();
        let run = &parsed.runs[0];
        let got: Vec<_> = run.cases().map(|c| c.status.as_str()).collect();
        assert_eq!(
            got,
            vec!["passed", "skipped", "skipped", "failed", "errored"]
        );
        let adds = run.cases().next().unwrap();
        assert_eq!(
            adds.properties(),
            vec![("owner".to_owned(), "ünï".to_owned())]
        );
        assert_eq!(repair_utf8("gr\u{c3}\u{b6}\u{c3}\u{9f}e"), "größe");
        assert_eq!(
            repair_utf8("café"),
            "café",
            "Latin-1 that is not UTF-8 bytes stays"
        );
        let fails = run.cases().nth(3).unwrap();
        assert_eq!(fails.headline(), Some("Expected equality of these values:"));
        assert_eq!(fails.location().and_then(|l| l.line), Some(9));
    }
}

//! The Value-based reader the typed one replaced (issue 12), kept as the oracle the typed reader
//! is checked against: the same documents, odd shapes included, must give the same tests.

use std::borrow::Cow;

use serde_json::Value;

use super::super::json;
use super::super::junit::{MAX_MESSAGE_BYTES, MAX_TRACE_BYTES};
use super::super::source::Source;
use super::super::{ParseError, Parsed};
use super::{repair_utf8, OWN_KEYS, WHAT};
use crate::model::{Case, Location, Problem, Status, Suite, TestRun};

fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let doc: Value = json::from_bytes(bytes, WHAT)?;
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
            .unwrap_or_else(|| super::super::junit::UNNAMED_TEST.to_owned()),
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

/// Documents in every shape the readers accept: GoogleTest's own, and the odd ones a
/// hand-written or merged report holds.
const DOCUMENTS: &[&str] = &[
    include_str!("../../../tests/fixtures/googletest/gtest-json.json"),
    r#"{"testsuites":[]}"#,
    r#"{"name":"All","time":"1.5s","tests":3,"failures":1,"testsuites":[{"name":"S","time":"0.5s","timestamp":"2026-01-01T00:00:00Z","testsuite":[
        {"name":"a","classname":"C","file":"a.cc","line":7,"status":"RUN","result":"COMPLETED","time":"0.1s","owner":"gr\u00c3\u00b6\u00c3\u009fe","count":3,"flag":true,"none":null,"list":[1,"x"],"obj":{"k":"v"}},
        {"name":"b","name":"b2","status":"RUN","result":"COMPLETED","failures":[{"failure":"b.cc:12\nExpected: 1\n  Which is: 2","type":""},{"failure":"  "},{"type":"x"}],"failures":[{"failure":"last wins:3\nboom"}]},
        {"name":"  ","classname":"","status":"NOTRUN","result":"SUPPRESSED","time":7,"line":-1,"file":"   "},
        {"status":"RUN","result":"SKIPPED","time":"x","skipped":{"message":"why"},"timestamp":"t","failures":"not a list"},
        {"name":42,"classname":["C"],"result":"COMPLETED","failures":[{"failure":"unknown file\nC++ exception with description \"e\" thrown"}],"value_param":"1","type_param":"int"},
        {}
    ]},{"testsuite":"not a list"},{"name":"only a name"},{"name":"dup","name":"dup2","testsuite":[{"name":"x"}],"testsuite":[{"name":"y"},{"name":"z"}]}],"tests":"3"}"#,
    r#"{"testsuites":[{"name":"Caf\u00e9","testsuite":[{"name":"\u00e9t\u00e9","classname":"\u00fcber"}]}],"name":7}"#,
    // Keys written with escapes.
    r#"{"test\u0073uites":[{"na\u006de":"S","testsuite":[{"na\u006de":"t","own\u0065r":"x","\u0073tatus":"NOTRUN"}]}]}"#,
    // Entries that are not objects: a test counted without a name, a suite without tests.
    r#"{"testsuites":[1,"s",null,[{"name":"in an array"}],{"name":"S","testsuite":[2,null,"t",[],{"failures":[1,null,[{"failure":"x"}]]}]}]}"#,
];

#[test]
fn the_typed_reader_reads_every_document_as_the_value_reader_did() {
    super::super::assert_reads_as_oracle(DOCUMENTS, super::parse, parse);
}

#[test]
fn both_refuse_a_document_without_testsuites() {
    for doc in [r#"{"tests":1}"#, "[]", "7", r#"{"testsuites":{"a":1}}"#] {
        let typed = super::parse(Source::new(doc.as_bytes()));
        let old = parse(doc.as_bytes());
        assert!(typed.is_err() && old.is_err(), "{doc}");
    }
}

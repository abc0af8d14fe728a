//! The Value-based reader the typed one replaced (issue 12), kept as the oracle the typed reader
//! is checked against: the same documents, odd shapes included, must give the same tests.

use std::collections::HashMap;

use serde_json::Value;

use super::super::json;
use super::super::junit::MAX_MESSAGE_BYTES;
use super::super::source::Source;
use super::super::{ParseError, Parsed};
use super::{folders, problem, WHAT};
use crate::model::{Case, Problem, Status, SuitesByName, TestRun};

fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let doc: Value = json::from_bytes(bytes, WHAT)?;
    let Some(executions) = doc["run"].get("executions").and_then(Value::as_array) else {
        return Err(json::not_this_format(
            "a Newman JSON report",
            "an object with \"run\": {\"executions\": [...]}",
        ));
    };
    let mut paths = HashMap::new();
    folders(&doc["collection"], &mut Vec::new(), &mut paths);
    let mut suites = SuitesByName::default();
    for execution in executions {
        let item = &execution["item"];
        let name = json::str_of(item, "name").unwrap_or("(unnamed request)");
        let suite_name = json::str_of(item, "id")
            .and_then(|id| paths.get(id))
            .cloned()
            .unwrap_or_else(|| name.to_owned());
        for case in cases_of(execution, name) {
            suites.push(&suite_name, case);
        }
    }
    let timings = &doc["run"]["timings"];
    let declared = match (
        timings.get("started").and_then(Value::as_f64),
        timings.get("completed").and_then(Value::as_f64),
    ) {
        (Some(a), Some(b)) if b >= a => json::millis(Some(&Value::from(b - a))),
        _ => None,
    };
    let run = TestRun {
        name: json::str_of(&doc["collection"]["info"], "name").map(str::to_owned),
        suites: suites.into_suites(),
        declared_duration: declared,
    };
    let assertions = &doc["run"]["stats"]["assertions"];
    let stated = |key: &str| assertions.get(key).and_then(Value::as_u64);
    let diagnostics = json::check_counters(
        WHAT,
        &[
            (
                "assertions",
                stated("total"),
                json::count(&run, &[Status::Passed, Status::Failed, Status::Skipped]),
            ),
            (
                "failed assertions",
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

fn cases_of(execution: &Value, request: &str) -> Vec<Case> {
    let duration = json::millis(execution["response"].get("responseTime"));
    let mut cases = Vec::new();
    let errored = |suffix: &str, p: Problem| {
        let mut case = Case::new(format!("{request} ({suffix})"), Status::Errored);
        case.duration = duration;
        case.details_mut().problems.push(p);
        case
    };
    if let Some(err) = execution.get("requestError").filter(|e| e.is_object()) {
        let mut p = problem(err);
        if p.message.is_none() {
            // Node's socket errors carry `syscall` and `code` rather than a message.
            let parts: Vec<&str> = ["syscall", "code", "address"]
                .iter()
                .filter_map(|k| json::str_of(err, k))
                .collect();
            p.message = Some(format!("could not send the request: {}", parts.join(" ")));
        }
        p.kind = p
            .kind
            .or_else(|| json::text_of(err, "code", MAX_MESSAGE_BYTES));
        cases.push(errored("request", p));
    }
    for (key, suffix) in [
        ("prerequestScript", "pre-request script"),
        ("testScript", "test script"),
    ] {
        for script in execution
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(err) = script.get("error").filter(|e| e.is_object()) {
                cases.push(errored(suffix, problem(err)));
            }
        }
    }
    for assertion in execution
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let error = assertion.get("error").filter(|e| e.is_object());
        let status = if assertion.get("skipped") == Some(&Value::Bool(true)) {
            Status::Skipped
        } else if error.is_some() {
            Status::Failed
        } else {
            Status::Passed
        };
        let mut case = Case::new(
            json::text_of(assertion, "assertion", MAX_MESSAGE_BYTES)
                .unwrap_or_else(|| super::super::junit::UNNAMED_TEST.to_owned()),
            status,
        );
        case.classname = Some(request.into());
        match (status, error) {
            (Status::Failed, Some(err)) => case.details_mut().problems.push(problem(err)),
            (Status::Skipped, _) => case.details_mut().problems.push(Problem {
                message: Some("skipped with pm.test.skip".into()),
                ..Problem::default()
            }),
            _ => {}
        }
        cases.push(case);
    }
    cases
}

/// Documents in every shape the readers accept: Newman's own, and odd ones.
const DOCUMENTS: &[&str] = &[
    include_str!("../../../tests/fixtures/newman/newman-json.json"),
    r#"{"run":{"executions":[]}}"#,
    r#"{"collection":{"info":{"name":"API"},"item":[{"name":"F","item":[{"id":"r1","name":"get"},{"name":"G","item":[{"id":"r2","name":"post"}]}]},{"id":"r3"},7]},
        "run":{"stats":{"assertions":{"total":9,"failed":"2"}},"timings":{"started":1000,"completed":1500.5},"executions":[
        {"item":{"id":"r1","name":"get"},"response":{"responseTime":12,"stream":{"type":"Buffer","data":[1,2,3]}},"assertions":[
            {"assertion":"ok","skipped":false},{"assertion":"  "},{"assertion":"skip","skipped":true,"error":{"message":"m"}},
            {"assertion":"fails","error":{"name":"AssertionError","message":"expected 1","stack":"at x"}},
            {"assertion":"not an error","error":"text"},{"assertion":"dup","assertion":"dup2","skipped":"true"},{},1,null]},
        {"item":{"id":"r2","name":"post"},"response":{"responseTime":"12"},"requestError":{"code":"ECONNREFUSED","syscall":"connect","address":"127.0.0.1"},
            "prerequestScript":[{"error":{"message":"pre"}},{"error":"x"},5],"testScript":[{"error":{"name":"TypeError","message":"t"}}],"assertions":"none"},
        {"item":{"id":"nope"},"requestError":"text","testScript":{"error":{"message":"not a list"}}},
        {"item":7,"response":[1],"assertions":[{"assertion":"\u00fcber"}]},
        3,
        {"assertions":[{"assertion":"last"}],"assertions":[{"assertion":"wins"}]}
    ]}}"#,
    r#"{"run":{"executions":[{"item":{"name":"r"},"assertions":[{"assertion":"a"}]}],"timings":{"started":5,"completed":1}},"collection":[]}"#,
    // Keys written with escapes.
    r#"{"r\u0075n":{"e\u0078ecutions":[{"item":{"name":"r"},"\u0061ssertions":[{"assertion":"a","\u0073kipped":true}]}]}}"#,
];

#[test]
fn the_typed_reader_reads_every_document_as_the_value_reader_did() {
    super::super::assert_reads_as_oracle(DOCUMENTS, super::parse, parse);
}

#[test]
fn both_refuse_a_document_without_executions() {
    for doc in [
        r#"{"run":{}}"#,
        "[]",
        "7",
        r#"{"run":7}"#,
        r#"{"run":{"executions":{"a":1}}}"#,
    ] {
        let typed = super::parse(Source::new(doc.as_bytes()));
        let old = parse(doc.as_bytes());
        assert!(typed.is_err() && old.is_err(), "{doc}");
    }
}

//! Newman (Postman CLI) JSON reporter: `{"collection", "run": {"executions", "stats", …}}`.
//!
//! Rules, as Newman's summary table counts ("assertions executed / failed"):
//! - Each assertion (`pm.test`) of each request execution is one case; its suite is the request's
//!   folder path and name (joined with " › "), looked up in the collection.
//! - An assertion with an `error` failed; `skipped: true` (`pm.test.skip`) → skipped; else passed.
//! - A request that could not be sent (`requestError`) and a test or pre-request script that threw
//!   (`testScript[].error`, `prerequestScript[].error`) are one errored case each, named after the
//!   request with "(request)", "(test script)" or "(pre-request script)", as Newman counts them in
//!   its "requests" and "test-scripts" failed columns.
//! - The request's `response.responseTime` (milliseconds) is the duration of its errored cases;
//!   assertions have no time of their own. The run's duration is `timings.completed − started`.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;

use serde_json::Value;

use super::json::{self, Field, List};
use super::junit::{MAX_MESSAGE_BYTES, MAX_TRACE_BYTES, SUITE_PATH_SEPARATOR};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Problem, Status, SuitesByName, TestRun};

const WHAT: &str = "the Newman JSON report";

/// The report: the executions typed, with strings left in the document's bytes (a [`Value`] per
/// assertion took 10× the file, and a response's body, which Newman writes byte by byte as a
/// number array, is skipped unread); the collection tree and the run's small parts as values.
#[derive(Default)]
struct Report<'a> {
    collection: Value,
    run: Run<'a>,
}

#[derive(Default)]
struct Run<'a> {
    executions: Option<Vec<Execution<'a>>>,
    timings: Value,
    stats: Value,
}

/// One request's execution.
#[derive(Default)]
struct Execution<'a> {
    item: Value,
    response: Response<'a>,
    request_error: Value,
    prerequest_script: Value,
    test_script: Value,
    assertions: List<Assertion<'a>>,
}

#[derive(Default)]
struct Response<'a> {
    response_time: Field<'a>,
}

/// One `pm.test`.
#[derive(Default)]
struct Assertion<'a> {
    assertion: Field<'a>,
    skipped: Field<'a>,
    error: Value,
}

json::entries! {
    Report { "collection" => collection, "run" => run }
    Run { "executions" => executions, "timings" => timings, "stats" => stats }
    Execution {
        "item" => item,
        "response" => response,
        "requestError" => request_error,
        "prerequestScript" => prerequest_script,
        "testScript" => test_script,
        "assertions" => assertions,
    }
    Response { "responseTime" => response_time }
    Assertion { "assertion" => assertion, "skipped" => skipped, "error" => error }
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let bytes = json::read_bytes(source)?;
    let doc: Report = json::from_bytes(&bytes, WHAT)?;
    let Some(executions) = doc.run.executions.as_ref() else {
        return Err(json::not_this_format(
            "a Newman JSON report",
            "an object with \"run\": {\"executions\": [...]}",
        ));
    };
    let mut paths = HashMap::new();
    folders(&doc.collection, &mut Vec::new(), &mut paths);
    let mut suites = SuitesByName::default();
    for execution in executions {
        let item = &execution.item;
        let name = json::str_of(item, "name").unwrap_or("(unnamed request)");
        let suite_name = json::str_of(item, "id")
            .and_then(|id| paths.get(id))
            .map_or(name, String::as_str);
        for case in cases_of(execution, name) {
            suites.push(suite_name, case);
        }
    }
    let timings = &doc.run.timings;
    let declared = match (
        timings.get("started").and_then(Value::as_f64),
        timings.get("completed").and_then(Value::as_f64),
    ) {
        (Some(a), Some(b)) if b >= a => json::millis(Some(&Value::from(b - a))),
        _ => None,
    };
    let run = TestRun {
        name: json::str_of(&doc.collection["info"], "name").map(str::to_owned),
        suites: suites.into_suites(),
        declared_duration: declared,
    };
    let assertions = &doc.run.stats["assertions"];
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

/// Maps each request's `id` to its folder path and name, from the collection tree.
fn folders(node: &Value, path: &mut Vec<String>, out: &mut HashMap<String, String>) {
    for item in node
        .get("item")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = json::str_of(item, "name").unwrap_or_default().to_owned();
        path.push(name);
        if item.get("item").is_some() {
            folders(item, path, out);
        } else if let Some(id) = json::str_of(item, "id") {
            out.insert(id.to_owned(), path.join(SUITE_PATH_SEPARATOR));
        }
        path.pop();
        if path.len() > 64 {
            return;
        }
    }
}

fn problem(error: &Value) -> Problem {
    Problem {
        message: json::text_of(error, "message", MAX_MESSAGE_BYTES),
        kind: json::text_of(error, "name", MAX_MESSAGE_BYTES),
        trace: json::text_of(error, "stack", MAX_TRACE_BYTES),
    }
}

fn cases_of(execution: &Execution<'_>, request: &str) -> Vec<Case> {
    let duration = execution.response.response_time.millis();
    // One copy of the request's name for all its assertions.
    let class: Arc<str> = Arc::from(request);
    let mut cases = Vec::new();
    let errored = |suffix: &str, p: Problem| {
        let mut case = Case::new(format!("{request} ({suffix})"), Status::Errored);
        case.duration = duration;
        case.details_mut().problems.push(p);
        case
    };
    if let Some(err) = Some(&execution.request_error).filter(|e| e.is_object()) {
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
    for (scripts, suffix) in [
        (&execution.prerequest_script, "pre-request script"),
        (&execution.test_script, "test script"),
    ] {
        for script in scripts.as_array().into_iter().flatten() {
            if let Some(err) = script.get("error").filter(|e| e.is_object()) {
                cases.push(errored(suffix, problem(err)));
            }
        }
    }
    for assertion in &execution.assertions.0 {
        let error = Some(&assertion.error).filter(|e| e.is_object());
        let status = if assertion.skipped.is_true() {
            Status::Skipped
        } else if error.is_some() {
            Status::Failed
        } else {
            Status::Passed
        };
        let mut case = Case::new(
            assertion
                .assertion
                .text(MAX_MESSAGE_BYTES)
                .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
            status,
        );
        case.classname = Some(Arc::clone(&class));
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

#[cfg(test)]
mod oracle;

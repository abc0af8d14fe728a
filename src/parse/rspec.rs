//! RSpec's JSON formatter (`--format json`): one document with `examples` and `summary`.
//!
//! Rules, as RSpec's console counts ("N examples, M failures, K pending"):
//! - Each example is one case, grouped by `file_path`; its class is the example-group path
//!   (`full_description` without the example's `description`); `run_time` is in seconds.
//! - `passed` → passed; `pending` (both `pending` and `skip`) → skipped with `pending_message`.
//! - `failed` → failed when the exception is an expectation or mock failure
//!   (`RSpec::Expectations::*`, `RSpec::Mocks::*`), errored for any other exception.
//! - `errors_outside_of_examples_count` > 0 (a spec file that fails to load) counts one errored
//!   case per error, with the report's `messages`, as RSpec reports them as failures.

use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, Suite, SuitesByName, TestRun};

const WHAT: &str = "the RSpec JSON report";

/// Name of the case counted for each error RSpec reports outside any example.
pub const OUTSIDE_EXAMPLES: &str = "(error outside of examples)";

/// Most errors outside of examples counted; the number comes from the file, so it is bounded
/// before cases are made for it. RSpec stops after a handful of load errors in practice.
pub const MAX_OUTSIDE_ERRORS: u64 = 10_000;

/// The report's top level; other keys are skipped.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Report<'a> {
    examples: Option<Vec<Example<'a>>>,
    summary: Value,
    messages: Value,
}

/// One example: only what the rules read, typed, with strings left in the document's bytes.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Example<'a> {
    id: json::Field<'a>,
    description: json::Field<'a>,
    full_description: json::Field<'a>,
    status: json::Field<'a>,
    file_path: json::Field<'a>,
    line_number: json::Field<'a>,
    run_time: json::Field<'a>,
    pending_message: json::Field<'a>,
    /// Present for failed examples only.
    exception: Value,
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let bytes = json::read_bytes(source)?;
    let doc: Report = json::from_bytes(&bytes, WHAT)?;
    let Some(examples) = doc.examples.as_ref() else {
        return Err(json::not_this_format(
            "an RSpec JSON report",
            "an object with an \"examples\" array",
        ));
    };
    let mut suites = SuitesByName::default();
    for example in examples {
        suites.push(
            example.file_path.str().unwrap_or_default(),
            case_of(example),
        );
    }
    let summary = &doc.summary;
    let outside = summary
        .get("errors_outside_of_examples_count")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(MAX_OUTSIDE_ERRORS);
    let mut run = TestRun {
        name: None,
        suites: suites.into_suites(),
        declared_duration: json::seconds(summary.get("duration")),
    };
    let declared = |key: &str| summary.get(key).and_then(Value::as_u64);
    let diagnostics = json::check_counters(
        WHAT,
        &[
            (
                "example_count",
                declared("example_count"),
                run.cases().count() as u64,
            ),
            (
                "failure_count",
                declared("failure_count"),
                json::count(&run, &[Status::Failed, Status::Errored]),
            ),
            (
                "pending_count",
                declared("pending_count"),
                json::count(&run, &[Status::Skipped]),
            ),
        ],
    );
    if outside > 0 {
        let messages: Vec<&str> = doc
            .messages
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let trace = json::text(&messages.join("\n"), MAX_TRACE_BYTES);
        let cases = (0..outside)
            .map(|_| {
                let mut case = Case::new(OUTSIDE_EXAMPLES.to_owned(), Status::Errored);
                case.details_mut().problems.push(Problem {
                    message: Some(
                        "an error occurred outside of examples (a spec file did not load)".into(),
                    ),
                    kind: None,
                    trace: trace.clone(),
                });
                case
            })
            .collect();
        run.suites.push(Suite {
            name: OUTSIDE_EXAMPLES.to_owned(),
            cases,
            ..Suite::default()
        });
    }
    Ok(Parsed {
        runs: vec![run],
        diagnostics: diagnostics.into_iter().collect(),
    })
}

fn case_of(example: &Example<'_>) -> Case {
    let description = example.description.str().unwrap_or_default();
    let full = example.full_description.str().unwrap_or(description);
    let group = full
        .strip_suffix(description)
        .map(str::trim_end)
        .filter(|g| !g.is_empty() && !description.is_empty());
    let exception = Some(&example.exception).filter(|e| e.is_object());
    let class = exception.and_then(|e| json::str_of(e, "class"));
    let status = match example.status.str() {
        Some("passed") => Status::Passed,
        Some("pending") => Status::Skipped,
        _ => match class {
            Some(c)
                if c.starts_with("RSpec::Expectations::") || c.starts_with("RSpec::Mocks::") =>
            {
                Status::Failed
            }
            Some(_) => Status::Errored,
            None => Status::Failed,
        },
    };
    let name = if description.is_empty() {
        full
    } else {
        description
    };
    let mut case = Case::new(
        json::text(name, MAX_MESSAGE_BYTES)
            .or_else(|| example.id.text(MAX_MESSAGE_BYTES))
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.classname = group
        .and_then(|g| json::text(g, MAX_MESSAGE_BYTES))
        .map(Into::into);
    case.duration = example.run_time.seconds();
    case.set_location(example.file_path.str().map(|f| Location {
        file: f.trim_start_matches("./").to_owned(),
        line: example.line_number.line(),
    }));
    if let Some(id) = example.id.str() {
        case.details_mut()
            .properties
            .push(("id".into(), id.to_owned()));
    }
    match status {
        Status::Skipped => case.details_mut().problems.push(Problem {
            message: example
                .pending_message
                .text(MAX_MESSAGE_BYTES)
                .or_else(|| Some("pending".into())),
            ..Problem::default()
        }),
        Status::Failed | Status::Errored => {
            let backtrace: Vec<&str> = exception
                .and_then(|e| e.get("backtrace"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            case.details_mut().problems.push(Problem {
                message: exception.and_then(|e| json::text_of(e, "message", MAX_MESSAGE_BYTES)),
                kind: class.and_then(|c| json::text(c, MAX_MESSAGE_BYTES)),
                trace: json::text(&backtrace.join("\n"), MAX_TRACE_BYTES),
            });
        }
        _ => {}
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectation_failures_fail_other_exceptions_error_and_load_errors_count() {
        let doc = r#"{"examples":[
          {"id":"./a_spec.rb[1:1]","description":"adds","full_description":"Calc adds","status":"failed","file_path":"./a_spec.rb","line_number":3,"run_time":0.5,
           "exception":{"class":"RSpec::Expectations::ExpectationNotMetError","message":"expected 2","backtrace":["./a_spec.rb:4"]}},
          {"id":"./a_spec.rb[1:2]","description":"divides","full_description":"Calc divides","status":"failed","file_path":"./a_spec.rb","line_number":7,
           "exception":{"class":"ZeroDivisionError","message":"divided by 0","backtrace":[]}},
          {"id":"./a_spec.rb[1:3]","description":"later","full_description":"Calc later","status":"pending","pending_message":"not yet","file_path":"./a_spec.rb","line_number":9}],
          "summary":{"duration":1.5,"example_count":3,"failure_count":2,"pending_count":1,"errors_outside_of_examples_count":1},
          "messages":["An error occurred while loading ./b_spec.rb."]}"#;
        let parsed = parse(Source::new(doc.as_bytes())).unwrap();
        let run = &parsed.runs[0];
        let got: Vec<_> = run.cases().map(|c| c.status.as_str()).collect();
        assert_eq!(got, vec!["failed", "errored", "skipped", "errored"]);
        let first = run.cases().next().unwrap();
        assert_eq!(first.classname.as_deref(), Some("Calc"));
        assert_eq!(first.location().map(|l| l.file.as_str()), Some("a_spec.rb"));
        assert_eq!(run.cases().nth(2).unwrap().headline(), Some("not yet"));
    }
}

//! Behave's JSON formatter (`-f json`): an array of features with `elements` holding `steps`.
//!
//! Rules, as behave's console counts scenarios ("N scenarios passed, F failed, E error, S skipped"):
//! - Each scenario (and each expanded outline row) is one case; suite and class are the feature's
//!   name, location the scenario's `location` (`file:line`). `background` elements are not tests.
//! - The scenario's own `status` decides: `passed` → passed, `failed` → failed, `error` (an
//!   exception in a step or hook) and `undefined` (a step without definition) → errored,
//!   `skipped`/`untested` → skipped with that reason.
//! - Steps are kept: for a scenario that did not pass, the step transcript is its output and the
//!   failing step's `error_message` its problem. Step `duration`s are seconds.
//! - Tags become `tag` properties.

use std::io::BufRead;
use std::time::Duration;

use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, Suite, TestRun};

const WHAT: &str = "the behave JSON report";

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let doc: Value = json::read_document(source, WHAT)?;
    let Some(features) = doc.as_array() else {
        return Err(json::not_this_format(
            "a behave JSON report",
            "an array of features with \"elements\"",
        ));
    };
    let suites = features.iter().map(suite_of).collect();
    Ok(Parsed {
        runs: vec![TestRun {
            name: None,
            suites,
            declared_duration: None,
        }],
        diagnostics: Vec::new(),
    })
}

fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// `features/x.feature:12` → location.
fn location(v: &Value) -> Option<Location> {
    let raw = json::str_of(v, "location")?;
    Some(match raw.rsplit_once(':') {
        Some((file, line)) if line.parse::<u32>().is_ok() => Location {
            file: file.to_owned(),
            line: line.parse().ok(),
        },
        _ => Location {
            file: raw.to_owned(),
            line: None,
        },
    })
}

/// behave writes `error_message` as a string, or as a list of lines in older versions.
fn error_message(result: &Value) -> Option<String> {
    match result.get("error_message")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(lines) => Some(
            lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        _ => None,
    }
}

fn suite_of(feature: &Value) -> Suite {
    let name = json::text_of(feature, "name", MAX_MESSAGE_BYTES).unwrap_or_default();
    let feature_tags: Vec<String> = items(feature, "tags")
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let cases = items(feature, "elements")
        .filter(|e| json::str_of(e, "type") != Some("background"))
        .map(|e| case_of(e, &name, &feature_tags))
        .collect();
    Suite {
        name,
        cases,
        ..Suite::default()
    }
}

fn case_of(element: &Value, feature: &str, feature_tags: &[String]) -> Case {
    let raw = json::str_of(element, "status").unwrap_or("untested");
    let status = match raw {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "error" | "undefined" => Status::Errored,
        _ => Status::Skipped,
    };
    let mut case = Case::new(
        json::text_of(element, "name", MAX_MESSAGE_BYTES)
            .map(|n| n.trim_end().to_owned())
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.classname = (!feature.is_empty()).then(|| feature.into());
    case.set_location(location(element));
    let mut seconds = 0.0;
    let mut transcript = String::new();
    for step in items(element, "steps") {
        let result = &step["result"];
        let step_status = json::str_of(result, "status").unwrap_or("untested");
        seconds += result
            .get("duration")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let keyword = json::str_of(step, "keyword").unwrap_or_default();
        let step_name = json::str_of(step, "name").unwrap_or_default();
        if transcript.len() < MAX_OUTPUT_BYTES {
            transcript.push_str(&format!("{step_status:>9} {keyword} {step_name}\n"));
        }
        if matches!(step_status, "failed" | "error" | "undefined") {
            let what = format!("{keyword} {step_name}");
            let message = error_message(result);
            let headline = match (step_status, message.as_deref()) {
                ("undefined", _) => format!("undefined step: {what} (no step definition matches)"),
                (_, Some(m)) if !m.trim().is_empty() => m.lines().next().unwrap_or(m).to_owned(),
                _ => format!("{step_status} in step: {what}"),
            };
            case.details_mut().problems.push(Problem {
                message: json::text(&headline, MAX_MESSAGE_BYTES),
                kind: None,
                trace: message.and_then(|m| json::text(&format!("{what}\n{m}"), MAX_TRACE_BYTES)),
            });
        }
    }
    case.duration = Duration::try_from_secs_f64(seconds).ok();
    for t in feature_tags.iter().cloned().chain(
        items(element, "tags")
            .filter_map(Value::as_str)
            .map(str::to_owned),
    ) {
        case.details_mut().properties.push(("tag".to_owned(), t));
    }
    match status {
        Status::Skipped => {
            case.set_problems(vec![Problem {
                message: Some(raw.to_owned()),
                ..Problem::default()
            }]);
        }
        Status::Failed | Status::Errored => {
            if case.problems().is_empty() {
                case.details_mut().problems.push(Problem {
                    message: Some(format!("scenario {raw} (in a hook or outside any step)")),
                    ..Problem::default()
                });
            }
            case.set_stdout(json::text(&transcript, MAX_OUTPUT_BYTES));
        }
        _ => case.set_problems(Vec::new()),
    }
    case
}

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

use serde::Deserialize;
use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, Suite};

const WHAT: &str = "the behave JSON report";

/// A feature: only what the rules read, typed, with strings left in the document's bytes.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Feature<'a> {
    name: json::Field<'a>,
    tags: Value,
    elements: json::List<Element<'a>>,
}

/// A scenario or a background.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Element<'a> {
    #[serde(rename = "type")]
    kind: json::Field<'a>,
    status: json::Field<'a>,
    name: json::Field<'a>,
    location: json::Field<'a>,
    tags: Value,
    steps: json::List<Step<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Step<'a> {
    keyword: json::Field<'a>,
    name: json::Field<'a>,
    result: Option<StepResult<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct StepResult<'a> {
    status: json::Field<'a>,
    duration: json::Field<'a>,
    /// A string, or a list of lines in older versions.
    error_message: Value,
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    json::read_features(
        &json::read_bytes(source)?,
        WHAT,
        "a behave JSON report",
        suite_of,
    )
}

fn tags(v: &Value) -> impl Iterator<Item = String> + '_ {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
}

/// `features/x.feature:12` → location.
fn location(element: &Element<'_>) -> Option<Location> {
    let raw = element.location.str()?;
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
fn error_message(result: &StepResult<'_>) -> Option<String> {
    match &result.error_message {
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

fn suite_of(feature: &Feature<'_>) -> Suite {
    let name = feature.name.text(MAX_MESSAGE_BYTES).unwrap_or_default();
    let feature_tags: Vec<String> = tags(&feature.tags).collect();
    let cases = feature
        .elements
        .0
        .iter()
        .filter(|e| e.kind.str() != Some("background"))
        .map(|e| case_of(e, &name, &feature_tags))
        .collect();
    Suite {
        name,
        cases,
        ..Suite::default()
    }
}

fn case_of(element: &Element<'_>, feature: &str, feature_tags: &[String]) -> Case {
    let raw = element.status.str().unwrap_or("untested");
    let status = match raw {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "error" | "undefined" => Status::Errored,
        _ => Status::Skipped,
    };
    let mut case = Case::new(
        element
            .name
            .text(MAX_MESSAGE_BYTES)
            .map(|n| n.trim_end().to_owned())
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.classname = (!feature.is_empty()).then(|| feature.into());
    case.set_location(location(element));
    let mut seconds = 0.0;
    let mut transcript = String::new();
    for step in &element.steps.0 {
        let result = step.result.as_ref();
        let step_status = result.and_then(|r| r.status.str()).unwrap_or("untested");
        seconds += result.and_then(|r| r.duration.f64()).unwrap_or(0.0);
        let keyword = step.keyword.str().unwrap_or_default();
        let step_name = step.name.str().unwrap_or_default();
        if transcript.len() < MAX_OUTPUT_BYTES {
            transcript.push_str(&format!("{step_status:>9} {keyword} {step_name}\n"));
        }
        if matches!(step_status, "failed" | "error" | "undefined") {
            let what = format!("{keyword} {step_name}");
            let message = result.and_then(error_message);
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
    for t in feature_tags.iter().cloned().chain(tags(&element.tags)) {
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

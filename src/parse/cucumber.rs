//! Cucumber JSON (`--format json`) as cucumber-js, Cucumber-Ruby and Cucumber-JVM write it: an
//! array of features, each with `elements` (scenarios and backgrounds) holding `steps`.
//!
//! Rules, as Cucumber's console counts scenarios ("N scenarios (F failed, U undefined, …)"):
//! - Each scenario (and each example row of a scenario outline, which Cucumber expands) is one
//!   case: suite and class are the feature's name, location the feature's `uri` and the scenario's
//!   `line`. `background` elements are not tests; their steps belong to the scenario after them.
//! - The scenario's status is the worst of its steps' and hooks' results: a `failed` step → failed;
//!   a failed hook (`before`/`after` arrays; cucumber-js writes hooks as hidden `Before`/`After`
//!   steps), an `undefined` or `ambiguous` step → errored (Cucumber fails
//!   the run for them by default); `pending` → skipped with reason "pending"; all steps `skipped`
//!   → skipped; otherwise passed.
//! - Steps are kept: for a scenario that did not pass, the step transcript (keyword, name, result)
//!   is its output. Step `duration`s are nanoseconds; the scenario's duration is their sum.
//! - Tags become `tag` properties. A scenario repeated with the same `id` and line (`--retry`) is
//!   one test: failed then passed is flaky, otherwise the last attempt decides.

use std::collections::HashMap;
use std::io::BufRead;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, Suite};

const WHAT: &str = "the Cucumber JSON report";

/// A feature: only what the rules read, typed, with strings left in the document's bytes.
/// Embeddings (screenshots, often most of a report's bytes) and step output are skipped unread.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Feature<'a> {
    name: json::Field<'a>,
    uri: json::Field<'a>,
    tags: Value,
    elements: json::List<Element<'a>>,
}

/// A scenario or a background.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Element<'a> {
    #[serde(rename = "type")]
    kind: json::Field<'a>,
    name: json::Field<'a>,
    keyword: json::Field<'a>,
    id: json::Field<'a>,
    line: json::Field<'a>,
    tags: Value,
    before: json::List<Step<'a>>,
    after: json::List<Step<'a>>,
    steps: json::List<Step<'a>>,
}

/// A step or a hook.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Step<'a> {
    keyword: json::Field<'a>,
    name: json::Field<'a>,
    hidden: json::Field<'a>,
    result: Option<StepResult<'a>>,
    #[serde(rename = "match")]
    matched: Option<StepMatch<'a>>,
    before: json::List<Step<'a>>,
    after: json::List<Step<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct StepResult<'a> {
    status: json::Field<'a>,
    duration: json::Field<'a>,
    error_message: json::Field<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct StepMatch<'a> {
    location: json::Field<'a>,
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    json::read_features(
        &json::read_bytes(source)?,
        WHAT,
        "a Cucumber JSON report",
        suite_of,
    )
}

/// How bad a step or hook result is; the worst decides the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    Passed,
    Skipped,
    Pending,
    Errored,
    Failed,
}

fn severity(status: &str, hook: bool) -> Severity {
    match status {
        "passed" => Severity::Passed,
        "failed" if hook => Severity::Errored,
        "failed" => Severity::Failed,
        "pending" => Severity::Pending,
        "undefined" | "ambiguous" => Severity::Errored,
        _ => Severity::Skipped,
    }
}

struct Scenario {
    worst: Option<Severity>,
    nanos: f64,
    problems: Vec<Problem>,
    transcript: String,
}

impl Scenario {
    fn add(&mut self, step: &Step<'_>, hook: bool) {
        let result = step.result.as_ref();
        let status = result.and_then(|r| r.status.str()).unwrap_or("skipped");
        let sev = severity(status, hook);
        self.worst = self.worst.max(Some(sev));
        self.nanos += result.and_then(|r| r.duration.f64()).unwrap_or(0.0);
        let keyword = step.keyword.str().unwrap_or_default().trim();
        let name = if hook {
            step.matched
                .as_ref()
                .and_then(|m| m.location.str())
                .unwrap_or("hook")
        } else {
            step.name.str().unwrap_or_default()
        };
        let label = if hook { "Hook" } else { keyword };
        if self.transcript.len() < MAX_OUTPUT_BYTES {
            self.transcript
                .push_str(&format!("{status:>9} {label} {name}\n"));
        }
        if matches!(sev, Severity::Failed | Severity::Errored) {
            let message = result.and_then(|r| r.error_message.str());
            let what = match status {
                "undefined" => {
                    format!("undefined step: {keyword} {name} (no step definition matches)")
                }
                "ambiguous" => {
                    format!("ambiguous step: {keyword} {name} (several step definitions match)")
                }
                _ => format!("{label} {name}"),
            };
            self.problems.push(Problem {
                message: json::text(
                    message.and_then(|m| m.lines().next()).unwrap_or(&what),
                    MAX_MESSAGE_BYTES,
                ),
                kind: None,
                trace: message.and_then(|m| json::text(&format!("{what}\n{m}"), MAX_TRACE_BYTES)),
            });
        }
    }
}

fn tags(v: &Value) -> impl Iterator<Item = String> + '_ {
    v.as_array().into_iter().flatten().filter_map(tag)
}

fn suite_of(feature: &Feature<'_>) -> Suite {
    let name = feature
        .name
        .str()
        .or_else(|| feature.uri.str())
        .and_then(|n| json::text(n, MAX_MESSAGE_BYTES))
        .unwrap_or_default();
    let uri = feature.uri.str();
    let feature_tags: Vec<String> = tags(&feature.tags).collect();
    let mut cases: Vec<Case> = Vec::new();
    // Where each retried scenario (same id and line) sits in `cases`.
    let mut attempts: HashMap<String, usize> = HashMap::new();
    // Cucumber-Ruby and -JVM write the background before each scenario it ran for, with the
    // scenario's `before` hooks on it.
    let mut background: Option<&Element> = None;
    for element in &feature.elements.0 {
        if element.kind.str() == Some("background") {
            background = Some(element);
            continue;
        }
        let mut scenario = Scenario {
            worst: None,
            nanos: 0.0,
            problems: Vec::new(),
            transcript: String::new(),
        };
        let background = background.take();
        let owners = background.into_iter().chain(std::iter::once(element));
        for hook in owners.flat_map(|e| &e.before.0) {
            scenario.add(hook, true);
        }
        let background_steps = background.into_iter().flat_map(|b| &b.steps.0);
        for step in background_steps.chain(&element.steps.0) {
            for hook in &step.before.0 {
                scenario.add(hook, true);
            }
            // cucumber-js writes hooks as hidden steps with keyword `Before`/`After`.
            let hook = step.hidden.is_true()
                || matches!(step.keyword.str().map(str::trim), Some("Before" | "After"));
            scenario.add(step, hook);
            for hook in &step.after.0 {
                scenario.add(hook, true);
            }
        }
        for hook in background
            .into_iter()
            .chain(std::iter::once(element))
            .flat_map(|e| &e.after.0)
        {
            scenario.add(hook, true);
        }
        let status = match scenario.worst {
            Some(Severity::Failed) => Status::Failed,
            Some(Severity::Errored) => Status::Errored,
            Some(Severity::Pending | Severity::Skipped) => Status::Skipped,
            Some(Severity::Passed) | None => Status::Passed,
        };
        let mut case = Case::new(scenario_name(element), status);
        case.classname = (!name.is_empty()).then(|| name.as_str().into());
        case.duration = Duration::try_from_secs_f64(scenario.nanos / 1e9).ok();
        case.set_location(uri.map(|u| Location {
            file: u.to_owned(),
            line: line_of(element),
        }));
        for t in feature_tags.iter().cloned().chain(tags(&element.tags)) {
            if !case.properties().iter().any(|(_, v)| *v == t) {
                case.details_mut().properties.push(("tag".to_owned(), t));
            }
        }
        match status {
            Status::Passed | Status::Flaky { .. } => {}
            Status::Skipped => case.details_mut().problems.push(Problem {
                message: Some(
                    if scenario.worst == Some(Severity::Pending) {
                        "pending"
                    } else {
                        "skipped"
                    }
                    .into(),
                ),
                ..Problem::default()
            }),
            Status::Failed | Status::Errored => {
                case.set_problems(scenario.problems);
                case.set_stdout(json::text(&scenario.transcript, MAX_OUTPUT_BYTES));
            }
        }
        let id = format!(
            "{}:{}",
            element.id.str().unwrap_or_default(),
            line_of(element).unwrap_or_default()
        );
        let earlier = (!id.starts_with(':'))
            .then(|| attempts.get(&id))
            .flatten()
            .and_then(|&i| cases.get_mut(i));
        match earlier {
            Some(earlier) => fold(earlier, case),
            None => {
                attempts.insert(id, cases.len());
                cases.push(case);
            }
        }
    }
    cases.shrink_to_fit();
    Suite {
        name,
        cases,
        ..Suite::default()
    }
}

/// The scenario's name. Cucumber-Ruby and -JVM leave an outline's `<placeholders>` in the names
/// of its example rows; the row number at the end of the `id` tells the rows apart.
fn scenario_name(element: &Element<'_>) -> String {
    let name = (element.name.text(MAX_MESSAGE_BYTES))
        .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned());
    let outline = element.keyword.str().is_some_and(|k| k.contains("Outline"));
    let row = element
        .id
        .str()
        .and_then(|id| id.rsplit(';').next())
        .filter(|r| r.parse::<u32>().is_ok());
    match row {
        Some(row) if outline && name.contains('<') => format!("{name} (example row {row})"),
        _ => name,
    }
}

fn line_of(element: &Element<'_>) -> Option<u32> {
    element.line.line()
}

fn tag(v: &Value) -> Option<String> {
    v.as_str()
        .or_else(|| json::str_of(v, "name"))
        .map(str::to_owned)
}

/// Folds a retry of a scenario into the earlier attempts.
fn fold(earlier: &mut Case, next: Case) {
    let attempts = match earlier.status {
        Status::Flaky { attempts } => attempts,
        _ => 1 + u32::try_from(earlier.retries().len()).unwrap_or(0),
    } + 1;
    let failed_before =
        earlier.status.is_failure() || matches!(earlier.status, Status::Flaky { .. });
    let mut details = earlier.take_details();
    let mut retries = details.retries;
    retries.append(&mut details.problems);
    let passed_now = next.status == Status::Passed;
    *earlier = next;
    if failed_before && passed_now {
        earlier.status = Status::Flaky { attempts };
    }
    earlier.set_retries(retries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_skipped_and_only_an_array_is_a_report() {
        let doc = r#"[{"name":"F","elements":[{"type":"scenario","id":"f;a","line":3,"name":"a",
          "steps":[{"keyword":"Then ","name":"shot","embeddings":[{"mime_type":"image/png","data":"iVBORw0KGgo="}],
            "output":["log"],"result":{"status":"failed","error_message":"boom","duration":5e6}}]}]}]"#;
        let parsed = parse(Source::new(doc.as_bytes())).unwrap();
        let case = parsed.runs[0].cases().next().unwrap();
        assert_eq!(
            (case.status, case.headline()),
            (Status::Failed, Some("boom"))
        );
        assert_eq!(case.duration, Some(Duration::from_millis(5)));
        let err = parse(Source::new(br#"{"elements": []}"#.as_slice())).unwrap_err();
        assert!(
            err.message.contains("a Cucumber JSON report"),
            "{}",
            err.message
        );
        assert!(
            parse(Source::new(b" []".as_slice())).is_ok(),
            "no features is a report"
        );
    }

    #[test]
    fn background_hooks_and_worst_step_decide() {
        let doc = r#"[{"uri":"f.feature","name":"F","keyword":"Feature","tags":[{"name":"@all"}],"elements":[
          {"type":"background","keyword":"Background","steps":[{"keyword":"Given ","name":"setup","result":{"status":"passed","duration":1000000}}]},
          {"type":"scenario","id":"f;a","line":3,"name":"a","steps":[{"keyword":"Then ","name":"ok","result":{"status":"passed","duration":2000000}}]},
          {"type":"scenario","id":"f;b","line":5,"name":"b","before":[{"match":{"location":"hooks.rb:1"},"result":{"status":"failed","error_message":"db down"}}],
           "steps":[{"keyword":"Then ","name":"x","result":{"status":"skipped"}}]},
          {"type":"scenario","id":"f;c","line":7,"name":"c","steps":[{"keyword":"When ","name":"p","result":{"status":"pending"}}]},
          {"type":"scenario","id":"f;d","line":9,"name":"d","steps":[{"keyword":"When ","name":"u","result":{"status":"undefined"}}]},
          {"type":"scenario","id":"f;h","line":10,"name":"h","steps":[{"keyword":"Before","hidden":true,"result":{"status":"failed","error_message":"hook broke"}},{"keyword":"Then ","name":"x","result":{"status":"skipped"}}]},
          {"type":"scenario","id":"f;e","line":11,"name":"e","steps":[{"keyword":"Then ","name":"f","result":{"status":"failed","error_message":"expected 1\n at x"}}]},
          {"type":"scenario","id":"f;e","line":11,"name":"e","steps":[{"keyword":"Then ","name":"f","result":{"status":"passed"}}]}]}]"#;
        let parsed = parse(Source::new(doc.as_bytes())).unwrap();
        let run = &parsed.runs[0];
        let got: Vec<_> = run.cases().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            vec![
                ("a", Status::Passed),
                ("b", Status::Errored),
                ("c", Status::Skipped),
                ("d", Status::Errored),
                ("h", Status::Errored),
                ("e", Status::Flaky { attempts: 2 })
            ]
        );
        let a = run.cases().next().unwrap();
        assert_eq!(
            a.duration,
            Some(Duration::from_millis(3)),
            "background steps count"
        );
        assert_eq!(a.properties(), vec![("tag".to_owned(), "@all".to_owned())]);
        assert_eq!(run.cases().nth(1).unwrap().headline(), Some("db down"));
        assert_eq!(run.cases().nth(4).unwrap().headline(), Some("hook broke"));
        assert_eq!(
            run.cases().nth(5).unwrap().retries()[0].message.as_deref(),
            Some("expected 1")
        );
    }
}

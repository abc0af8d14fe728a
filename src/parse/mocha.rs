//! Mocha's `json` reporter: one document with `stats`, `tests`, `passes`, `failures`, `pending`.
//!
//! Rules, as Mocha's console counts ("N passing, M failing, K pending"):
//! - Each entry of `tests` is one case; its suite is the `describe` path (`fullTitle` without the
//!   test's own `title`), its file the `file` field, its duration `duration` in milliseconds.
//! - An entry also listed in `pending` is skipped (reason "pending"). An entry with a non-empty
//!   `err` failed; it is errored when it is a timeout (`ERR_MOCHA_TIMEOUT`) or one of
//!   JavaScript's own exceptions ([`RUNTIME_ERRORS`]: a `TypeError` is a bug, not an assertion).
//! - A failed hook (`"before each" hook for …`) is listed in `failures` but not in `tests`; Mocha
//!   counts it as failing, so it is one errored case.
//! - A passing test with `currentRetry` > 0 passed after that many failed attempts: flaky.

use std::collections::HashSet;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use super::json;
use super::junit::{MAX_MESSAGE_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::{ParseError, Parsed};
use crate::model::{Case, Location, Problem, Status, SuitesByName, TestRun};

const WHAT: &str = "the Mocha JSON report";

/// JavaScript's built-in exception types: thrown by broken code, never by an assertion library.
pub const RUNTIME_ERRORS: &[&str] = &[
    "TypeError",
    "ReferenceError",
    "RangeError",
    "SyntaxError",
    "EvalError",
    "URIError",
];

/// The exception's type: its `name`, else the `Type:` that starts its stack.
fn error_type(err: &Value) -> Option<&str> {
    json::str_of(err, "name").or_else(|| {
        let stack = json::str_of(err, "stack")?;
        let (head, _) = stack.split_once(':')?;
        let head = head.trim();
        (!head.is_empty() && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then_some(head)
    })
}

/// The report's top level. Keys not named here are skipped without being kept: `passes` repeats
/// most of `tests`, so not keeping it halves the memory a large report takes.
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Report<'a> {
    stats: Value,
    tests: Option<Vec<Test<'a>>>,
    pending: Vec<Test<'a>>,
    failures: Vec<Test<'a>>,
}

/// One entry of `tests`, `pending` or `failures`: only what the rules read, typed, with strings
/// left in the document's bytes (a [`Value`] per test took 8× the file).
#[derive(Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Test<'a> {
    title: json::Field<'a>,
    #[serde(rename = "fullTitle")]
    full_title: json::Field<'a>,
    file: json::Field<'a>,
    duration: json::Field<'a>,
    #[serde(rename = "currentRetry")]
    current_retry: json::Field<'a>,
    pending: json::Field<'a>,
    /// `{}` for a passing test; what the assertion library threw otherwise.
    err: Value,
}

impl Test<'_> {
    /// What identifies an entry across `tests`, `pending` and `failures`.
    fn key(&self) -> (&str, &str) {
        (
            self.full_title.str().unwrap_or_default(),
            self.file.str().unwrap_or_default(),
        )
    }
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let bytes = json::read_bytes(source)?;
    let doc: Report = json::from_bytes(&bytes, WHAT)?;
    let Some(tests) = doc.tests.as_ref() else {
        return Err(json::not_this_format(
            "a Mocha JSON report",
            "an object with a \"tests\" array",
        ));
    };
    let pending: HashSet<_> = doc.pending.iter().map(Test::key).collect();
    let known: HashSet<_> = tests.iter().map(Test::key).collect();
    let mut suites = SuitesByName::default();
    for test in tests {
        let skipped = pending.contains(&test.key()) || test.pending.is_true();
        let (suite, case) = case_of(test, skipped, false);
        suites.push(&suite, case);
    }
    for hook in doc.failures.iter().filter(|f| !known.contains(&f.key())) {
        let (suite, case) = case_of(hook, false, true);
        suites.push(&suite, case);
    }
    let stats = &doc.stats;
    let run = TestRun {
        name: None,
        suites: suites.into_suites(),
        declared_duration: json::millis(stats.get("duration")),
    };
    let declared = |key: &str| stats.get(key).and_then(Value::as_u64);
    let diagnostics = json::check_counters(
        WHAT,
        &[
            (
                "passes",
                declared("passes"),
                json::count(&run, &[Status::Passed, Status::Flaky { attempts: 0 }]),
            ),
            (
                "pending",
                declared("pending"),
                json::count(&run, &[Status::Skipped]),
            ),
            (
                "failures",
                declared("failures"),
                json::count(&run, &[Status::Failed, Status::Errored]),
            ),
        ],
    );
    Ok(Parsed {
        runs: vec![run],
        diagnostics: diagnostics.into_iter().collect(),
    })
}

fn case_of(test: &Test<'_>, skipped: bool, hook: bool) -> (String, Case) {
    let title = test.title.str().unwrap_or_default();
    let full = test.full_title.str().unwrap_or(title);
    let suite = full
        .strip_suffix(title)
        .map(str::trim_end)
        .filter(|s| !s.is_empty() && !title.is_empty())
        .unwrap_or_default();
    let err = Some(&test.err).filter(|e| e.as_object().is_some_and(|o| !o.is_empty()));
    let retries = test.current_retry.u64().unwrap_or(0);
    let status = if skipped {
        Status::Skipped
    } else if let Some(err) = err {
        let timeout = json::str_of(err, "code") == Some("ERR_MOCHA_TIMEOUT");
        let runtime = error_type(err).is_some_and(|t| RUNTIME_ERRORS.contains(&t));
        if hook || timeout || runtime {
            Status::Errored
        } else {
            Status::Failed
        }
    } else if retries > 0 {
        Status::Flaky {
            attempts: u32::try_from(retries + 1).unwrap_or(u32::MAX),
        }
    } else {
        Status::Passed
    };
    let mut case = Case::new(
        json::text(
            if title.is_empty() { full } else { title },
            MAX_MESSAGE_BYTES,
        )
        .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.classname = json::text(suite, MAX_MESSAGE_BYTES).map(Into::into);
    case.duration = test.duration.millis();
    case.set_location(test.file.str().map(|f| Location {
        file: f.to_owned(),
        line: None,
    }));
    if skipped {
        case.details_mut().problems.push(Problem {
            message: Some("pending".into()),
            ..Problem::default()
        });
    } else if let (Some(err), true) = (err, status.is_failure()) {
        case.details_mut().problems.push(Problem {
            message: json::text_of(err, "message", MAX_MESSAGE_BYTES),
            kind: error_type(err)
                .or_else(|| json::str_of(err, "code"))
                .and_then(|k| json::text(k, MAX_MESSAGE_BYTES)),
            trace: json::text_of(err, "stack", MAX_TRACE_BYTES),
        });
    }
    let suite = case.classname.as_deref().unwrap_or_default().to_owned();
    json::describe_attempts(&mut case);
    (suite, case)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_failures_count_and_retried_passes_are_flaky() {
        let doc = r#"{"stats":{"suites":1,"tests":2,"duration":7},
          "tests":[{"title":"a","fullTitle":"S a","file":"t.js","duration":3,"currentRetry":2,"err":{}},
                   {"title":"b","fullTitle":"S b","file":"t.js","currentRetry":0,"err":{}}],
          "pending":[{"title":"b","fullTitle":"S b","file":"t.js","err":{}}],
          "failures":[{"title":"\"before all\" hook for \"c\"","fullTitle":"S \"before all\" hook for \"c\"","file":"t.js","err":{"message":"boom","stack":"Error: boom"}}],
          "passes":[]}"#;
        let parsed = parse(Source::new(doc.as_bytes())).unwrap();
        let run = &parsed.runs[0];
        let got: Vec<_> = run.cases().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            vec![
                ("a", Status::Flaky { attempts: 3 }),
                ("b", Status::Skipped),
                ("\"before all\" hook for \"c\"", Status::Errored)
            ]
        );
        assert_eq!(run.suites[0].name, "S");
        assert_eq!(
            parsed.diagnostics.len(),
            0,
            "stats without counters are not checked"
        );
        let lying = doc.replace(r#""tests":2,"#, r#""tests":2,"passes":5,"failures":0,"#);
        let parsed = parse(Source::new(lying.as_bytes())).unwrap();
        let warning = parsed.diagnostics[0].message.clone();
        assert!(warning.contains("passes 5 (its tests give 1)"), "{warning}");
        assert!(
            warning.contains("failures 0 (its tests give 1)"),
            "{warning}"
        );
        assert_eq!(parsed.runs[0].totals().tests, 3, "the cases are counted");
    }
}

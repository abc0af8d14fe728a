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
use std::sync::Arc;

use serde::de::MapAccess;
use serde_json::Value;

use super::json::{self, skip, Entries, Field, List};
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

/// The report's top level: only what the rules read, typed, with strings left in the document's
/// bytes (a [`Value`] per test took 10× the file). Keys not named here are skipped unread.
#[derive(Default)]
struct Report<'a> {
    name: Field<'a>,
    time: Field<'a>,
    tests: Field<'a>,
    failures: Field<'a>,
    testsuites: Option<Vec<Group<'a>>>,
}

/// One entry of `testsuites`: a suite and its tests.
#[derive(Default)]
struct Group<'a> {
    name: Field<'a>,
    time: Field<'a>,
    timestamp: Field<'a>,
    testsuite: List<Test<'a>>,
}

/// One entry of a test's `failures`.
#[derive(Default)]
struct Failure<'a> {
    failure: Field<'a>,
}

/// One test: GoogleTest's own keys typed, any other key (a `RecordProperty`) kept as a value.
#[derive(Default)]
struct Test<'a> {
    name: Field<'a>,
    file: Field<'a>,
    line: Field<'a>,
    status: Field<'a>,
    result: Field<'a>,
    time: Field<'a>,
    classname: Field<'a>,
    failures: List<Failure<'a>>,
    properties: serde_json::Map<String, Value>,
}

json::entries! {
    Report {
        "name" => name,
        "time" => time,
        "tests" => tests,
        "failures" => failures,
        "testsuites" => testsuites,
    }
    Group { "name" => name, "time" => time, "timestamp" => timestamp, "testsuite" => testsuite }
    Failure { "failure" => failure }
}

json::deserialize_entries!(Test);

impl<'de: 'a, 'a> Entries<'de> for Test<'a> {
    fn entry<A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key.as_ref() {
            "name" => self.name = map.next_value()?,
            "file" => self.file = map.next_value()?,
            "line" => self.line = map.next_value()?,
            "status" => self.status = map.next_value()?,
            "result" => self.result = map.next_value()?,
            "time" => self.time = map.next_value()?,
            "classname" => self.classname = map.next_value()?,
            "failures" => self.failures = map.next_value()?,
            own if OWN_KEYS.contains(&own) => skip(map)?,
            _ => {
                let value = map.next_value()?;
                self.properties.insert(key.into_owned(), value);
            }
        }
        Ok(())
    }
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let bytes = json::read_bytes(source)?;
    let doc: Report = json::from_bytes(&bytes, WHAT)?;
    let Some(groups) = doc.testsuites.as_ref() else {
        return Err(json::not_this_format(
            "a GoogleTest JSON report",
            "an object with a \"testsuites\" array",
        ));
    };
    let suites = groups
        .iter()
        .map(|g| {
            let mut suite = Suite {
                name: text_of(&g.name).unwrap_or_default().into_owned(),
                cases: Vec::with_capacity(g.testsuite.0.len()),
                duration: g.time.seconds(),
                timestamp: g.timestamp.str().map(str::to_owned),
                ..Suite::default()
            };
            for test in &g.testsuite.0 {
                let previous = suite.cases.last().and_then(|c| c.classname.as_ref());
                let case = case_of(test, g.name.str(), previous);
                suite.push_case(case);
            }
            suite
        })
        .collect();
    let run = TestRun {
        name: doc.name.str().map(str::to_owned),
        suites,
        declared_duration: doc.time.seconds(),
    };
    let diagnostics = json::check_counters(
        WHAT,
        &[
            ("tests", doc.tests.u64(), run.cases().count() as u64),
            (
                "failures",
                doc.failures.u64(),
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

/// A non-blank string field, its UTF-8 repaired.
fn text_of<'a>(field: &'a Field<'_>) -> Option<Cow<'a, str>> {
    field.str().map(repair_utf8)
}

/// `previous` is the classname of the suite's last case, which the next one nearly always
/// repeats: shared instead of allocated again.
fn case_of(test: &Test<'_>, suite: Option<&str>, previous: Option<&Arc<str>>) -> Case {
    let failures: Vec<Cow<str>> = test
        .failures
        .0
        .iter()
        .filter_map(|f| text_of(&f.failure))
        .collect();
    let result = test.result.str().unwrap_or_default();
    let skipped = test.status.str() == Some("NOTRUN") || matches!(result, "SKIPPED" | "SUPPRESSED");
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
        text_of(&test.name)
            .and_then(|n| json::text(&n, MAX_MESSAGE_BYTES))
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned()),
        status,
    );
    case.classname =
        text_of(&test.classname)
            .or(suite.map(repair_utf8))
            .map(|name| match previous {
                Some(previous) if **previous == *name => Arc::clone(previous),
                _ => Arc::from(name.as_ref()),
            });
    case.duration = test.time.seconds();
    case.set_location(test.file.str().map(|f| Location {
        file: f.to_owned(),
        line: test.line.line(),
    }));
    for (k, v) in &test.properties {
        case.details_mut()
            .properties
            .push((k.clone(), repair_utf8(&json::scalar_text(v)).into_owned()));
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
mod oracle;

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

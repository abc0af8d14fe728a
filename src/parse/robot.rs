//! Robot Framework `output.xml` (root `<robot>`): the RF 7 schema (`start`/`elapsed` on
//! `<status>`) and the RF 6 schema that RF 7 still writes with `--legacy-output`
//! (`starttime`/`endtime`), through the shared XML loop ([`super::xml`]). (Robot's `--xunit`
//! file is JUnit and read as such.)
//!
//! Every `<test>` is one test (tasks in RPA mode too): suite = nested `<suite>` names joined with
//! " › ", file = the innermost suite's `source`, line = the test's `line` (RF 7), tags become
//! `tag` properties. The test's own `<status>` (not its keywords') decides, its text is the
//! message; duration is `elapsed` seconds, or end minus start time in the legacy schema.
//!
//! - `PASS` → passed; `SKIP` → skipped with the message as reason; `NOT RUN` → skipped, reason
//!   "not run"; `FAIL` → errored when the failure is in a setup or teardown (the message starts
//!   "Setup failed:", "Teardown failed:", "Parent suite setup failed:" or "Parent suite teardown
//!   failed:", as Robot writes it), otherwise failed.
//! - Keyword messages (`<msg>`) inside a test that did not pass are kept as its stdout, one line
//!   per message prefixed with its level.
//! - The `All Tests` line of `<statistics><total>` is checked against the cases; the cases win.
//!   Execution `<errors>` (a library that failed to import) become one warning.

use std::time::Duration;

use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, SUITE_PATH_SEPARATOR, UNNAMED_TEST};
use super::xml::{self, check_counters, count, parse_seconds, Attrs, Handler, Text};
use super::{Format, ParseError, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, Case, Location, Problem, Status, Suite, TestRun};

/// Messages Robot puts first in a test's failure when a setup or teardown failed.
const SETUP_TEARDOWN_PREFIXES: &[&str] = &[
    "Setup failed:",
    "Teardown failed:",
    "Parent suite setup failed:",
    "Parent suite teardown failed:",
];

pub(super) fn parse<R: std::io::BufRead>(
    scanner: super::scanner::Scanner<'_, R>,
) -> Result<Parsed, ParseError> {
    let mut state = State::default();
    xml::drive(scanner, Format::Robot, &mut state)?;
    let mut diagnostics = std::mem::take(&mut state.diagnostics);
    let mut run = TestRun {
        name: state.generator.take(),
        suites: std::mem::take(&mut state.suites),
        declared_duration: state.run_duration,
    };
    run.suites.retain(|s| !s.cases.is_empty());
    if let Some((pass, fail, skip, line)) = state.stats {
        let t = run.totals();
        diagnostics.extend(check_counters(
            "Robot's <statistics> 'All Tests'",
            line,
            &[
                ("pass", pass, t.passed),
                ("fail", fail, t.failed + t.errored),
                ("skip", skip, t.skipped),
            ],
        ));
    }
    if let Some(first) = state.first_error {
        diagnostics.push(Diagnostic::warning(format!(
            "Robot Framework reported {} execution error(s), first: {first}",
            state.errors
        )));
    }
    Ok(Parsed {
        runs: vec![run],
        diagnostics,
    })
}

/// RF 6 timestamps, `20240131 12:34:56.789`, as milliseconds since 1970 (UTC assumed: only
/// differences are used).
fn legacy_millis(raw: &str) -> Option<i64> {
    let (date, time) = raw.trim().split_once(' ')?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i64 = date.get(0..4)?.parse().ok()?;
    let m: i64 = date.get(4..6)?.parse().ok()?;
    let d: i64 = date.get(6..8)?.parse().ok()?;
    let mut hms = time.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let min: i64 = hms.next()?.parse().ok()?;
    let sec = hms.next()?;
    let (s, ms) = sec.split_once('.').unwrap_or((sec, "0"));
    let s: i64 = s.parse().ok()?;
    let ms: i64 = ms.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((((days * 24 + h) * 60 + min) * 60 + s) * 1000 + ms)
}

/// A `<status>` element's duration: `elapsed` seconds (RF 7), or end minus start (RF 6).
fn status_duration(attrs: &mut Attrs) -> Option<Duration> {
    if let Some(elapsed) = attrs.take("elapsed").and_then(|e| parse_seconds(&e)) {
        return Some(elapsed);
    }
    let start = legacy_millis(&attrs.take("starttime")?)?;
    let end = legacy_millis(&attrs.take("endtime")?)?;
    u64::try_from(end - start).ok().map(Duration::from_millis)
}

struct TestBuilder {
    case: Case,
    status: Option<String>,
    message: Text,
    log: Text,
    tag: Option<Text>,
}

/// The `All Tests` statistics: pass, fail, skip, and the line they are on.
type Stats = (Option<u64>, Option<u64>, Option<u64>, u64);

#[derive(Default)]
struct State {
    generator: Option<String>,
    run_duration: Option<Duration>,
    /// Open suites: (full name, source file).
    open: Vec<(String, Option<String>)>,
    suites: Vec<Suite>,
    test: Option<TestBuilder>,
    stats: Option<Stats>,
    errors: u64,
    first_error: Option<String>,
    error_text: Option<Text>,
    path: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

impl State {
    fn directly_in_test(&self) -> bool {
        self.test.is_some() && self.path.last().is_some_and(|p| p == "test")
    }
}

impl Handler for State {
    fn open(&mut self, name: &str, mut attrs: Attrs, line: u64) -> Result<(), ParseError> {
        let parent = self.path.last().map(String::as_str);
        match name {
            "robot" if self.path.is_empty() => {
                self.generator = attrs.take("generator").map(clean_text);
            }
            "suite" if self.test.is_none() => {
                let own = attrs.take("name").map(clean_text).unwrap_or_default();
                let (parent_name, parent_source) = self.open.last().cloned().unwrap_or_default();
                let full = match (parent_name.is_empty(), own.is_empty()) {
                    (false, false) => format!("{parent_name}{SUITE_PATH_SEPARATOR}{own}"),
                    (false, true) => parent_name,
                    (true, _) => own,
                };
                let source = attrs.take("source").map(clean_text).or(parent_source);
                self.open.push((full, source));
            }
            "test" if parent == Some("suite") => {
                let mut case = Case::new(
                    attrs
                        .take("name")
                        .map(clean_text)
                        .unwrap_or_else(|| UNNAMED_TEST.to_owned()),
                    Status::Passed,
                );
                if let Some((suite, source)) = self.open.last() {
                    case.classname = (!suite.is_empty()).then(|| suite.as_str().into());
                    case.set_location(source.clone().map(|file| Location {
                        file,
                        line: count(attrs.take("line")).and_then(|l| u32::try_from(l).ok()),
                    }));
                }
                self.test = Some(TestBuilder {
                    case,
                    status: None,
                    message: Text::with_cap(MAX_MESSAGE_BYTES),
                    log: Text::with_cap(MAX_OUTPUT_BYTES),
                    tag: None,
                });
            }
            "status" if self.directly_in_test() => {
                let duration = status_duration(&mut attrs);
                if let Some(t) = self.test.as_mut() {
                    t.status = attrs.take("status");
                    t.case.duration = duration;
                }
            }
            // The outermost suite's own status times the whole run.
            "status" if parent == Some("suite") && self.open.len() == 1 && self.test.is_none() => {
                self.run_duration = status_duration(&mut attrs);
            }
            "tag" if self.directly_in_test() => {
                if let Some(t) = self.test.as_mut() {
                    t.tag = Some(Text::with_cap(MAX_MESSAGE_BYTES));
                }
            }
            "msg" if self.test.is_some() => {
                if let Some(t) = self.test.as_mut() {
                    let level = attrs.take("level").unwrap_or_else(|| "INFO".into());
                    t.log.push(&format!("{level}: "));
                }
            }
            "msg" if parent == Some("errors") => {
                self.errors += 1;
                self.error_text = Some(Text::with_cap(MAX_MESSAGE_BYTES));
            }
            "stat" if parent == Some("total") && self.stats.is_none() => {
                self.stats = Some((
                    count(attrs.take("pass")),
                    count(attrs.take("fail")),
                    count(attrs.take("skip")),
                    line,
                ));
            }
            _ => {}
        }
        self.path.push(name.to_owned());
        Ok(())
    }

    fn text(&mut self, text: &str) {
        let top = self.path.last().map(String::as_str);
        let parent = self
            .path
            .len()
            .checked_sub(2)
            .and_then(|i| self.path.get(i))
            .map(String::as_str);
        if let Some(t) = self.test.as_mut() {
            match (parent, top) {
                (Some("test"), Some("status")) => t.message.push(text),
                (Some("test"), Some("tag")) => {
                    if let Some(tag) = t.tag.as_mut() {
                        tag.push(text);
                    }
                }
                (_, Some("msg")) => t.log.push(text),
                _ => {}
            }
        } else if let (Some("errors"), Some("msg"), Some(e)) =
            (parent, top, self.error_text.as_mut())
        {
            e.push(text);
        }
    }

    fn close(&mut self, name: &str) {
        self.path.pop();
        match name {
            "test" if self.path.last().is_some_and(|p| p == "suite") => {
                if let Some(t) = self.test.take() {
                    let case = t.finish();
                    let suite_name = self.open.last().map(|(n, _)| n.clone()).unwrap_or_default();
                    match self.suites.last_mut() {
                        Some(s) if s.name == suite_name => s.push_case(case),
                        _ => self.suites.push(Suite {
                            name: suite_name,
                            cases: vec![case],
                            ..Suite::default()
                        }),
                    }
                }
            }
            "suite" if self.test.is_none() => {
                self.open.pop();
            }
            "tag" => {
                if let Some(t) = self.test.as_mut() {
                    if let Some(tag) = t.tag.take().and_then(Text::finish) {
                        t.case
                            .details_mut()
                            .properties
                            .push(("tag".to_owned(), tag));
                    }
                }
            }
            "msg" => {
                if let Some(t) = self.test.as_mut() {
                    t.log.push("\n");
                } else if let Some(e) = self.error_text.take().and_then(Text::finish) {
                    self.first_error.get_or_insert(e);
                }
            }
            _ => {}
        }
    }
}

impl TestBuilder {
    fn finish(self) -> Case {
        let mut case = self.case;
        let message = self.message.finish();
        let status = self.status.unwrap_or_default().trim().to_ascii_uppercase();
        case.status = match status.as_str() {
            "PASS" => Status::Passed,
            "SKIP" | "NOT RUN" | "NOT_RUN" => Status::Skipped,
            "FAIL"
                if message
                    .as_deref()
                    .is_some_and(|m| SETUP_TEARDOWN_PREFIXES.iter().any(|p| m.starts_with(p))) =>
            {
                Status::Errored
            }
            _ => Status::Failed,
        };
        let message = match (status.as_str(), message) {
            ("NOT RUN" | "NOT_RUN", None) => Some("not run".to_owned()),
            ("FAIL" | "PASS" | "SKIP" | "NOT RUN" | "NOT_RUN", m) => m,
            (_, m) => Some(format!(
                "Robot status '{status}'{}",
                m.map(|m| format!(": {m}")).unwrap_or_default()
            )),
        };
        if case.status != Status::Passed {
            if message.is_some() {
                case.details_mut().problems.push(Problem {
                    message,
                    ..Problem::default()
                });
            }
            case.set_stdout(self.log.finish());
        }
        case
    }
}

/// The reader's dialect details.
#[cfg(test)]
mod tests {
    use super::*;

    fn run(xml: &str) -> (TestRun, Vec<Diagnostic>) {
        let parsed = parse(super::super::scanner::Scanner::in_memory(xml.as_bytes())).unwrap();
        (parsed.runs.into_iter().next().unwrap(), parsed.diagnostics)
    }

    #[test]
    fn rf7_statuses_setup_errors_tags_lines_and_elapsed() {
        let (run, diags) = run(r#"<robot generator="Robot 7.0" schemaversion="5">
<suite id="s1" name="Tests" source="/r/tests">
<suite id="s1-s1" name="Calc" source="/r/tests/calc.robot">
<test id="t1" name="Adds" line="4"><kw name="Log"><msg time="x" level="INFO">hi</msg><status status="PASS" start="x" elapsed="0.001"/></kw>
<tag>smoke</tag><status status="PASS" start="2024-01-01T00:00:00.000000" elapsed="0.250"/></test>
<test id="t2" name="Divides" line="8"><kw name="Should Be Equal"><msg time="x" level="FAIL">1 != 2</msg><status status="FAIL" start="x" elapsed="0.001">1 != 2</status></kw>
<status status="FAIL" start="x" elapsed="0.1">1 != 2</status></test>
<test id="t3" name="Needs DB" line="12"><status status="FAIL" start="x" elapsed="0.0">Setup failed:
No connection</status></test>
<test id="t4" name="Later" line="15"><status status="SKIP" start="x" elapsed="0.0">not implemented</status></test>
<test id="t5" name="After exit" line="18"><status status="NOT RUN" start="x" elapsed="0.0"/></test>
<status status="FAIL" start="x" elapsed="1.0"/></suite>
<status status="FAIL" start="x" elapsed="1.0"/></suite>
<statistics><total><stat pass="1" fail="2" skip="2">All Tests</stat></total></statistics>
<errors><msg time="x" level="ERROR">Error in file 'calc.robot': library 'Nope' not found</msg></errors>
</robot>"#);
        let got: Vec<(&str, &str)> = run
            .cases()
            .map(|c| (c.name.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("Adds", "passed"),
                ("Divides", "failed"),
                ("Needs DB", "errored"),
                ("Later", "skipped"),
                ("After exit", "skipped"),
            ]
        );
        assert_eq!(run.suites[0].name, "Tests › Calc");
        let c: Vec<&Case> = run.cases().collect();
        assert_eq!(c[0].duration, Some(Duration::from_millis(250)));
        assert_eq!(c[0].properties(), [("tag".into(), "smoke".into())]);
        assert_eq!(
            c[0].stdout(),
            None,
            "output kept only for tests that did not pass"
        );
        assert_eq!(
            c[1].location(),
            Some(&Location {
                file: "/r/tests/calc.robot".into(),
                line: Some(8)
            })
        );
        assert_eq!(c[1].headline(), Some("1 != 2"));
        assert_eq!(c[1].stdout(), Some("FAIL: 1 != 2"));
        assert_eq!(c[3].headline(), Some("not implemented"));
        assert_eq!(c[4].headline(), Some("not run"));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("library 'Nope' not found"));
    }

    #[test]
    fn legacy_schema_durations_from_start_and_end_times() {
        let (run, diags) = run(r#"<robot generator="Robot 6.1" schemaversion="4">
<suite id="s1" name="S" source="/r/s.robot"><test id="t1" name="T">
<status status="PASS" starttime="20231231 23:59:59.500" endtime="20240101 00:00:01.250"/></test>
<status status="PASS" starttime="20231231 23:59:59.000" endtime="20240101 00:00:02.000"/></suite>
<statistics><total><stat pass="2" fail="0" skip="0">All Tests</stat></total></statistics></robot>"#);
        assert_eq!(
            run.cases().next().unwrap().duration,
            Some(Duration::from_millis(1750))
        );
        assert_eq!(
            run.duration(),
            Duration::from_secs(3),
            "the suite's status times the run"
        );
        assert_eq!(
            diags.len(),
            1,
            "the statistics say 2 passed, the file has 1"
        );
    }
}

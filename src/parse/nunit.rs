//! NUnit XML: NUnit 3 (`<test-run>`, or a bare `<test-suite>` as some runners write it) and
//! NUnit 2 (`<test-results>`), through the shared XML loop ([`super::xml`]).
//!
//! Every `<test-case>` is one test, at any depth of `<test-suite>` nesting; its suite is the path
//! of the enclosing suite names joined with " › " (assemblies by file name, not full path), a
//! suite's own cases after its children's. Duration is `duration` (NUnit 3) or `time` (NUnit 2),
//! in seconds.
//!
//! Status, NUnit 3 (`result`, `label`, `site`):
//! - `Passed`, and `Warning` (the test passed with `Assert.Warn`) → passed;
//! - `Failed` with label `Error` or `Cancelled`, or at site `SetUp`/`TearDown`/`Parent` (a
//!   setup or teardown failure, not an assertion) → errored; other `Failed` → failed;
//! - `Skipped` (ignored, explicit) → skipped with the reason; `Inconclusive` → skipped, reason
//!   prefixed "inconclusive".
//!
//! NUnit 2 (`result`): `Success` → passed; `Failure` → failed; `Error`, `Cancelled` → errored;
//! `Ignored`, `Skipped`, `NotRunnable`, `Inconclusive` → skipped with the reason (a not-runnable
//! test never ran; NUnit itself lists it under "not run"). Without `result` (NUnit 2.2):
//! `executed="False"` → skipped, `success="False"` or a `<failure>` child → failed, else passed.
//!
//! A suite that failed at site `TearDown` (its one-time teardown threw after its tests passed)
//! adds one errored case named "(one-time teardown)": NUnit fails the run for it, so must we.
//!
//! Categories and properties become case or suite properties (`category` for categories).
//! The root's counters (`total`, `failed`, … in NUnit 3; `total` + `not-run`, `failures`,
//! `errors` in NUnit 2) are checked against the cases; the cases win.

use super::junit::{
    MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES, SUITE_PATH_SEPARATOR, UNNAMED_TEST,
};
use super::xml::{self, check_counters, clean_attr, count, parse_seconds, Attrs, Handler, Text};
use super::{Format, ParseError, ParseErrorKind, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, Case, Problem, Status, Suite, TestRun};

/// Name of the errored case standing for a fixture whose one-time teardown failed.
pub const ONE_TIME_TEARDOWN: &str = "(one-time teardown)";

pub(super) fn parse<R: std::io::BufRead>(
    scanner: super::scanner::Scanner<'_, R>,
) -> Result<Parsed, ParseError> {
    let mut state = State::default();
    xml::drive(scanner, Format::Nunit, &mut state)?;
    if !state.saw_root {
        return Err(ParseError {
            kind: ParseErrorKind::Unsupported,
            line: None,
            message: "no NUnit <test-run>, <test-results> or <test-suite> element found".into(),
        });
    }
    let mut run = state.run;
    if let Some((counters, line)) = state.counters {
        let mut t = run.totals();
        // NUnit does not count a failed one-time teardown as a test.
        t.tests = t.tests.saturating_sub(state.teardown_cases);
        t.errored = t.errored.saturating_sub(state.teardown_cases);
        let declared = match counters {
            Counters::V3 {
                total,
                failed,
                skipped,
            } => vec![
                ("total", total, t.tests),
                ("failed", failed, t.failed + t.errored),
                ("skipped+inconclusive", skipped, t.skipped),
            ],
            Counters::V2 {
                total,
                failures,
                errors,
            } => vec![
                ("total+not-run", total, t.tests),
                ("failures", failures, t.failed),
                ("errors", errors, t.errored),
            ],
        };
        state
            .diagnostics
            .extend(check_counters("the NUnit <test-run>", line, &declared));
    }
    run.suites.retain(|s| !s.cases.is_empty());
    Ok(Parsed {
        runs: vec![run],
        diagnostics: state.diagnostics,
    })
}

enum Counters {
    V3 {
        total: Option<u64>,
        failed: Option<u64>,
        skipped: Option<u64>,
    },
    V2 {
        total: Option<u64>,
        failures: Option<u64>,
        errors: Option<u64>,
    },
}

struct CaseBuilder {
    case: Case,
    result: String,
    label: String,
    site: String,
    executed: Option<String>,
    success: Option<String>,
    failure: Option<(Text, Text)>,
    reason: Option<Text>,
    output: Option<Text>,
}

#[derive(Default)]
struct State {
    run: TestRun,
    saw_root: bool,
    counters: Option<(Counters, u64)>,
    /// Open `<test-suite>` elements, outermost first.
    suites: Vec<Suite>,
    /// Per open suite: whether its one-time teardown failed, and how.
    teardowns: Vec<(bool, Option<Problem>)>,
    /// A suite-level `<failure>` being read: message and stack trace.
    suite_failure: Option<(Text, Text)>,
    teardown_cases: u64,
    case: Option<CaseBuilder>,
    /// Open element names, for routing text.
    path: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

fn suite_name(kind: Option<&str>, name: String) -> String {
    // Assembly suites carry the full path of the DLL in NUnit 2; the file name identifies it.
    match kind {
        Some("Assembly") => name
            .rsplit(['/', '\\'])
            .next()
            .map(str::to_owned)
            .unwrap_or(name),
        _ => name,
    }
}

impl Handler for State {
    fn open(&mut self, name: &str, mut attrs: Attrs, line: u64) -> Result<(), ParseError> {
        let parent = self.path.last().map(String::as_str);
        match name {
            "test-run" | "test-results" if self.path.is_empty() => {
                self.saw_root = true;
                self.run.name = clean_attr(attrs.take("name"), MAX_MESSAGE_BYTES);
                self.run.declared_duration = attrs.take("duration").and_then(|d| parse_seconds(&d));
                let counters = if name == "test-run" {
                    let skipped = count(attrs.take("skipped"));
                    let inconclusive = count(attrs.take("inconclusive")).unwrap_or(0);
                    Counters::V3 {
                        total: count(attrs.take("total")),
                        failed: count(attrs.take("failed")),
                        skipped: skipped.map(|s| s + inconclusive),
                    }
                } else {
                    let not_run = count(attrs.take("not-run")).unwrap_or(0);
                    Counters::V2 {
                        total: count(attrs.take("total")).map(|t| t + not_run),
                        failures: count(attrs.take("failures")),
                        errors: count(attrs.take("errors")),
                    }
                };
                self.counters = Some((counters, line));
            }
            "test-suite" if self.case.is_none() => {
                self.saw_root = true;
                let kind = attrs.take("type");
                let own = suite_name(kind.as_deref(), attrs.take("name").unwrap_or_default());
                let own = clean_text(own);
                let full = match self.suites.last() {
                    Some(p) if !p.name.is_empty() && !own.is_empty() => {
                        format!("{}{SUITE_PATH_SEPARATOR}{own}", p.name)
                    }
                    Some(p) if own.is_empty() => p.name.clone(),
                    _ => own,
                };
                let time = attrs.take("duration").or_else(|| attrs.take("time"));
                let failed = attrs.take("result").is_some_and(|r| r.starts_with("Fail"));
                let site = attrs.take("site").unwrap_or_default();
                self.teardowns
                    .push((failed && site.eq_ignore_ascii_case("teardown"), None));
                self.suites.push(Suite {
                    name: full,
                    duration: time.and_then(|t| parse_seconds(&t)),
                    timestamp: attrs.take("start-time"),
                    ..Suite::default()
                });
            }
            "test-case" if self.case.is_none() => {
                let mut case = Case::new(
                    clean_text(attrs.take("name").unwrap_or_default()),
                    Status::Passed,
                );
                case.classname = attrs.take("classname").map(|c| clean_text(c).into());
                let time = attrs.take("duration").or_else(|| attrs.take("time"));
                case.duration = time.and_then(|t| parse_seconds(&t));
                if case.name.is_empty() {
                    case.name = UNNAMED_TEST.to_owned();
                }
                self.case = Some(CaseBuilder {
                    case,
                    result: attrs.take("result").unwrap_or_default(),
                    label: attrs.take("label").unwrap_or_default(),
                    site: attrs.take("site").unwrap_or_default(),
                    executed: attrs.take("executed"),
                    success: attrs.take("success"),
                    failure: None,
                    reason: None,
                    output: None,
                });
            }
            "failure" if parent == Some("test-suite") && self.case.is_none() => {
                self.suite_failure = Some((
                    Text::with_cap(MAX_MESSAGE_BYTES),
                    Text::with_cap(MAX_TRACE_BYTES),
                ));
            }
            "failure" if parent == Some("test-case") => {
                if let Some(c) = self.case.as_mut() {
                    c.failure = Some((
                        Text::with_cap(MAX_MESSAGE_BYTES),
                        Text::with_cap(MAX_TRACE_BYTES),
                    ));
                }
            }
            "reason" if parent == Some("test-case") => {
                if let Some(c) = self.case.as_mut() {
                    c.reason = Some(Text::with_cap(MAX_MESSAGE_BYTES));
                }
            }
            "output" if parent == Some("test-case") => {
                if let Some(c) = self.case.as_mut() {
                    c.output = Some(Text::with_cap(MAX_OUTPUT_BYTES));
                }
            }
            "property" | "category" => {
                let key = match name {
                    "category" => Some("category".to_owned()),
                    _ => attrs.take("name"),
                };
                let value = match name {
                    "category" => attrs.take("name"),
                    _ => attrs.take("value"),
                };
                if let (Some(key), Some(value)) = (key, value) {
                    let pair = (clean_text(key), clean_text(value));
                    match (self.case.as_mut(), self.suites.last_mut()) {
                        (Some(c), _) => c.case.details_mut().properties.push(pair),
                        (None, Some(s)) => s.properties.push(pair),
                        (None, None) => {}
                    }
                }
            }
            _ => {}
        }
        self.path.push(name.to_owned());
        Ok(())
    }

    fn text(&mut self, text: &str) {
        let n = self.path.len();
        let top = self.path.last().map(String::as_str);
        let parent = n
            .checked_sub(2)
            .and_then(|i| self.path.get(i))
            .map(String::as_str);
        let failure = match self.case.as_mut() {
            Some(case) => case.failure.as_mut(),
            None => self.suite_failure.as_mut(),
        };
        match (parent, top, failure) {
            (Some("failure"), Some("message"), Some((m, _))) => m.push(text),
            (Some("failure"), Some("stack-trace"), Some((_, t))) => t.push(text),
            _ => {}
        }
        let Some(case) = self.case.as_mut() else {
            return;
        };
        match (parent, top) {
            (Some("reason"), Some("message")) => {
                if let Some(r) = case.reason.as_mut() {
                    r.push(text);
                }
            }
            (Some("test-case"), Some("output")) => {
                if let Some(o) = case.output.as_mut() {
                    o.push(text);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        self.path.pop();
        match name {
            "test-case" if self.path.last().map(String::as_str) != Some("test-case") => {
                if let Some(builder) = self.case.take() {
                    let case = builder.finish();
                    match self.suites.last_mut() {
                        Some(suite) => suite.push_case(case),
                        None => self.run.suites.push(Suite {
                            cases: vec![case],
                            ..Suite::default()
                        }),
                    }
                }
            }
            "failure" if self.case.is_none() => {
                if let (Some((m, t)), Some(top)) =
                    (self.suite_failure.take(), self.teardowns.last_mut())
                {
                    top.1 = Some(Problem {
                        message: m.finish(),
                        kind: None,
                        trace: t.finish(),
                    });
                }
            }
            "test-suite" if self.case.is_none() => {
                let teardown = self.teardowns.pop();
                if let Some(mut suite) = self.suites.pop() {
                    if let Some((true, problem)) = teardown {
                        // Its tests passed, yet the fixture failed after them: NUnit fails the run.
                        let mut case = Case::new(ONE_TIME_TEARDOWN.to_owned(), Status::Errored);
                        case.classname = Some(suite.name.as_str().into());
                        case.details_mut()
                            .problems
                            .push(problem.unwrap_or_default());
                        suite.push_case(case);
                        self.teardown_cases += 1;
                    }
                    // A closed fixture takes no more cases: its doubling room is given back.
                    suite.cases.shrink_to_fit();
                    self.run.suites.push(suite);
                }
            }
            _ => {}
        }
    }
}

impl CaseBuilder {
    fn finish(self) -> Case {
        let mut case = self.case;
        let result = self.result.to_ascii_lowercase();
        let label = self.label.to_ascii_lowercase();
        let site = self.site.to_ascii_lowercase();
        let is_false = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case("false"))
        };
        let failure = self.failure.map(|(m, t)| Problem {
            message: m.finish(),
            kind: None,
            trace: t.finish(),
        });
        let reason = self.reason.and_then(Text::finish);
        case.status = match result.as_str() {
            "passed" | "success" | "warning" => Status::Passed,
            "failed" | "failure"
                if matches!(label.as_str(), "error" | "cancelled")
                    || matches!(site.as_str(), "setup" | "teardown" | "parent") =>
            {
                Status::Errored
            }
            "failed" | "failure" => Status::Failed,
            "error" | "cancelled" => Status::Errored,
            "skipped" | "ignored" | "notrunnable" | "inconclusive" | "invalid" | "notrun" => {
                Status::Skipped
            }
            _ if is_false(&self.executed) => Status::Skipped,
            _ if is_false(&self.success) || failure.is_some() => Status::Failed,
            _ => Status::Passed,
        };
        match case.status {
            Status::Failed | Status::Errored => {
                case.details_mut()
                    .problems
                    .push(failure.unwrap_or_else(|| Problem {
                        message: Some(format!("NUnit result {}", self.result)),
                        ..Problem::default()
                    }));
            }
            Status::Skipped => {
                let reason = match (result.as_str(), reason) {
                    ("inconclusive", Some(r)) => Some(format!("inconclusive: {r}")),
                    ("inconclusive", None) => Some("inconclusive".to_owned()),
                    ("notrunnable", Some(r)) => Some(format!("not runnable: {r}")),
                    ("notrunnable", None) => Some("not runnable".to_owned()),
                    (_, r) => r.or_else(|| failure.and_then(|f| f.message)),
                };
                if let Some(message) = reason {
                    case.details_mut().problems.push(Problem {
                        message: Some(message),
                        ..Problem::default()
                    });
                }
            }
            Status::Passed | Status::Flaky { .. } => {}
        }
        if case.status != Status::Passed {
            case.set_stdout(self.output.and_then(Text::finish));
        }
        case
    }
}

/// The reader's dialect details; end-to-end counts are in tests/it/conformance_xml.rs.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn run(xml: &str) -> (TestRun, Vec<Diagnostic>) {
        let parsed = parse(super::super::scanner::Scanner::in_memory(xml.as_bytes())).unwrap();
        (parsed.runs.into_iter().next().unwrap(), parsed.diagnostics)
    }

    fn statuses(run: &TestRun) -> Vec<(String, &'static str)> {
        run.cases()
            .map(|c| (c.name.clone(), c.status.as_str()))
            .collect()
    }

    #[test]
    fn nunit3_labels_and_sites_separate_errors_from_failures() {
        let (run, diags) = run(
            r#"<test-run total="6" failed="3" skipped="1" inconclusive="1">
          <test-suite type="Assembly" name="A.dll"><test-suite type="TestFixture" name="Fx" duration="2.5">
            <test-case name="ok" classname="N.Fx" result="Passed" duration="0.5"/>
            <test-case name="assert" result="Failed"><failure><message>expected 1</message><stack-trace>at Fx.assert()</stack-trace></failure><output>printed</output></test-case>
            <test-case name="throws" result="Failed" label="Error"><failure><message>NullReference</message></failure></test-case>
            <test-case name="setup" result="Failed" site="Parent"/>
            <test-case name="ignored" result="Skipped" label="Ignored"><reason><message>not today</message></reason></test-case>
            <test-case name="maybe" result="Inconclusive"/>
          </test-suite></test-suite></test-run>"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            statuses(&run),
            [
                ("ok".into(), "passed"),
                ("assert".into(), "failed"),
                ("throws".into(), "errored"),
                ("setup".into(), "errored"),
                ("ignored".into(), "skipped"),
                ("maybe".into(), "skipped"),
            ]
        );
        let cases: Vec<&Case> = run.cases().collect();
        assert_eq!(run.suites[0].name, "A.dll › Fx");
        assert_eq!(cases[0].classname.as_deref(), Some("N.Fx"));
        assert_eq!(cases[0].duration, Some(Duration::from_millis(500)));
        assert_eq!(cases[1].headline(), Some("expected 1"));
        assert_eq!(
            cases[1].problems()[0].trace.as_deref(),
            Some("at Fx.assert()")
        );
        assert_eq!(cases[1].stdout(), Some("printed"));
        assert_eq!(cases[4].headline(), Some("not today"));
        assert_eq!(cases[5].headline(), Some("inconclusive"));
    }

    #[test]
    fn nunit2_results_and_counters_including_not_run() {
        let (run, diags) = run(
            r#"<test-results name="/p/x.dll" total="3" errors="1" failures="1" not-run="1">
          <test-suite type="Assembly" name="/p/x.dll" time="1.0"><results>
            <test-suite type="TestFixture" name="Fx"><categories><category name="Slow"/></categories><results>
              <test-case name="N.Fx.A" executed="True" result="Success" time="0.1"><properties><property name="Owner" value="me"/></properties></test-case>
              <test-case name="N.Fx.B" executed="True" result="Failure"><failure><message><![CDATA[boom]]></message></failure></test-case>
              <test-case name="N.Fx.C" executed="True" result="Error"/>
              <test-case name="N.Fx.D" executed="False" result="NotRunnable"><reason><message>no args</message></reason></test-case>
            </results></test-suite></results></test-suite></test-results>"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        let t = run.totals();
        assert_eq!(
            (t.tests, t.passed, t.failed, t.errored, t.skipped),
            (4, 1, 1, 1, 1)
        );
        assert_eq!(run.suites[0].name, "x.dll › Fx");
        assert_eq!(
            run.suites[0].properties,
            [("category".into(), "Slow".into())]
        );
        let cases: Vec<&Case> = run.cases().collect();
        assert_eq!(cases[0].properties(), [("Owner".into(), "me".into())]);
        assert_eq!(cases[3].headline(), Some("not runnable: no args"));
    }

    #[test]
    fn a_failed_one_time_teardown_is_an_errored_case() {
        let (run, diags) = run(
            r#"<test-run total="1" failed="0"><test-suite type="TestFixture" name="Fx" result="Failed" site="TearDown">
            <failure><message>dispose threw</message><stack-trace>at Fx.Dispose()</stack-trace></failure>
            <test-case name="a" result="Passed"/></test-suite></test-run>"#,
        );
        let t = run.totals();
        assert_eq!((t.tests, t.passed, t.errored), (2, 1, 1));
        assert!(
            diags.is_empty(),
            "NUnit's counters leave the teardown out: {diags:?}"
        );
        let case = run.cases().find(|c| c.name == ONE_TIME_TEARDOWN).unwrap();
        assert_eq!(case.headline(), Some("dispose threw"));
        assert_eq!(case.classname.as_deref(), Some("Fx"));
    }

    #[test]
    fn counters_that_disagree_give_a_warning_and_the_cases_win() {
        let (run, diags) = run(r#"<test-run total="5" failed="0"><test-suite name="s">
            <test-case name="a" result="Failed"/></test-suite></test-run>"#);
        assert_eq!(run.totals().failed, 1);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].message.contains("total=5 but 1 found"),
            "{}",
            diags[0]
        );
    }

    #[test]
    fn bare_test_suite_root_and_nunit22_without_result() {
        let (run, _) = run(r#"<test-suite name="root"><results>
            <test-case name="a" executed="True" success="False"/>
            <test-case name="b" executed="False"/>
            <test-case name="c" executed="True"><failure><message>m</message></failure></test-case>
            <test-case name="d" executed="True"/></results></test-suite>"#);
        assert_eq!(
            statuses(&run),
            [
                ("a".into(), "failed"),
                ("b".into(), "skipped"),
                ("c".into(), "failed"),
                ("d".into(), "passed")
            ]
        );
    }

    #[test]
    fn external_entities_are_never_expanded() {
        let (run, _) = run(
            r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "/etc/passwd">]>
            <test-run><test-suite name="s"><test-case name="a" result="Failed"><failure><message>&xxe;</message></failure></test-case></test-suite></test-run>"#,
        );
        assert_eq!(run.cases().next().unwrap().headline(), Some("&xxe;"));
    }

    #[test]
    fn cut_off_file_is_an_error_with_the_line() {
        let xml = &b"<test-run>\n<test-suite name=\"s\">\n<test-case name=\"a\">"[..];
        let err = parse(super::super::scanner::Scanner::in_memory(xml)).unwrap_err();
        let streamed = parse(super::super::scanner::Scanner::streamed(xml)).unwrap_err();
        assert_eq!(err, streamed);
        assert_eq!(err.kind, ParseErrorKind::Syntax);
        assert_eq!(err.line, Some(3));
        assert!(
            err.message.contains("<test-case> opened at line 3"),
            "{}",
            err.message
        );
    }
}

//! Visual Studio / `dotnet test` TRX (`<TestRun>`, TeamTest/2010 namespace), through the shared
//! XML loop ([`super::xml`]).
//!
//! Each `<UnitTestResult>` (or other `*TestResult` element) under `<Results>` is one test named
//! by `testName` (less its class prefix); its class comes from the `<TestDefinitions>` entry with the same `testId`
//! (`TestMethod/@className`, assembly qualification dropped), which is also its suite. Since
//! definitions follow results in the file, cases are kept until the end of the document.
//! `duration` is a .NET time span (`hh:mm:ss.fffffff`).
//!
//! - Data-driven and ordered tests: a result with `<InnerResults>` is replaced by its inner
//!   results (one per data row), as the console counts them; the parent is not a test.
//! - `outcome`: `Passed`, `PassedButRunAborted`, `Completed`, `Warning` → passed; `Failed` →
//!   failed; `Error`, `Timeout`, `Aborted` (cut off when the run aborted), `Disconnected` →
//!   errored; `NotExecuted`, `Inconclusive`, `NotRunnable`, `Pending`, `InProgress` → skipped
//!   with the outcome and message as reason.
//! - Retries: a later result with the same `testId` and `testName` after one that did not pass
//!   is another attempt; attempts fold (failed then passed → flaky).
//! - `<ErrorInfo>` gives message and stack trace; `<StdOut>`/`<StdErr>` are kept for tests that
//!   did not pass; a definition's `<TestCategoryItem>`s, `<Owner>`s and `<Properties>` become
//!   the test's properties.
//! - `<ResultSummary><Counters>` (`total`, and `failed`+`error`+`timeout`+`aborted`) are
//!   checked against the cases. When the run's own outcome is `Error` or `Aborted` (a crashed
//!   test host), a warning quotes its first `<RunInfo>` error: tests may be missing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::junit::{
    fold_attempt, MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES, UNNAMED_TEST,
};
use super::xml::{self, check_counters, clean_attr, count, without_class, Attrs, Handler, Text};
use super::{Format, ParseError, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, Case, Problem, Status, Suite, TestRun};

pub(super) fn parse<R: std::io::BufRead>(
    scanner: super::scanner::Scanner<'_, R>,
) -> Result<Parsed, ParseError> {
    let mut state = State::default();
    xml::drive(scanner, Format::Trx, &mut state)?;
    let mut diagnostics = std::mem::take(&mut state.diagnostics);
    let run = state.finish(&mut diagnostics);
    Ok(Parsed {
        runs: vec![run],
        diagnostics,
    })
}

/// .NET `TimeSpan` text: `[d.]hh:mm:ss[.fffffff]`.
fn parse_timespan(raw: &str) -> Option<Duration> {
    let mut parts = raw.trim().split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (days, hours) = match h.split_once('.') {
        Some((d, h)) => (d.parse::<f64>().ok()?, h.parse::<f64>().ok()?),
        None => (0.0, h.parse::<f64>().ok()?),
    };
    let secs =
        days * 86_400.0 + hours * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// Where a result's `<Output>` text goes.
#[derive(Clone, Copy)]
enum Slot {
    Message,
    Trace,
    Stdout,
    Stderr,
}

/// The slot of an element inside a result's `<Output>`, by its parent and own name; other
/// messages (`<TextMessages><Message>`) are not the failure's.
fn output_slot(parent: Option<&str>, name: Option<&str>) -> Option<Slot> {
    match (parent?, name?) {
        ("ErrorInfo", "Message") => Some(Slot::Message),
        ("ErrorInfo", "StackTrace") => Some(Slot::Trace),
        ("Output", "StdOut") => Some(Slot::Stdout),
        ("Output", "StdErr") => Some(Slot::Stderr),
        _ => None,
    }
}

struct ResultBuilder {
    test_id: String,
    case: Case,
    outcome: String,
    message: Option<Text>,
    trace: Option<Text>,
    stdout: Option<Text>,
    stderr: Option<Text>,
    /// Inner results (data rows, ordered-test steps) that replace this one.
    inner: Vec<(String, Case)>,
}

#[derive(Default)]
struct Definition {
    class: Option<Arc<str>>,
    /// Categories, owners and `<Properties>`, as (key, value).
    properties: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    name: Option<String>,
    /// Open results, outermost first (inner results nest).
    open: Vec<ResultBuilder>,
    /// Finished top-level results in document order: (testId, case).
    results: Vec<(String, Case)>,
    /// Results replaced by inner results, for the counter check.
    parents: u64,
    definitions: HashMap<String, Definition>,
    /// The `<UnitTest>` definition being read.
    definition: Option<String>,
    /// A definition's `<Property>` being read: key and value.
    property: Option<(Text, Text)>,
    counters: Option<(Option<u64>, Option<u64>, u64)>,
    summary: Option<(String, u64)>,
    run_info_outcome: Option<String>,
    run_info_text: Option<Text>,
    /// The first run-level error message.
    run_error: Option<String>,
    path: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

fn is_result(name: &str) -> bool {
    name.ends_with("TestResult") || name == "TestResultAggregation"
}

fn class_of(raw: &str) -> String {
    // MSTest v1 writes assembly-qualified names: "Ns.Class, Assembly, Version=…".
    clean_text(raw.split(',').next().unwrap_or(raw).trim())
}

impl Handler for State {
    fn open(&mut self, name: &str, mut attrs: Attrs, line: u64) -> Result<(), ParseError> {
        let parent = self.path.last().map(String::as_str);
        match name {
            "TestRun" if self.path.is_empty() => {
                self.name = clean_attr(attrs.take("name"), MAX_MESSAGE_BYTES);
            }
            _ if is_result(name) && matches!(parent, Some("Results" | "InnerResults")) => {
                let test_name = attrs
                    .take("testName")
                    .map(clean_text)
                    .unwrap_or_else(|| UNNAMED_TEST.to_owned());
                let mut case = Case::new(test_name, Status::Passed);
                case.duration = attrs.take("duration").and_then(|d| parse_timespan(&d));
                self.open.push(ResultBuilder {
                    test_id: attrs.take("testId").unwrap_or_default(),
                    case,
                    outcome: attrs.take("outcome").unwrap_or_default(),
                    message: None,
                    trace: None,
                    stdout: None,
                    stderr: None,
                    inner: Vec::new(),
                });
            }
            _ if output_slot(parent, Some(name)).is_some() => {
                if let (Some(r), Some(slot)) =
                    (self.open.last_mut(), output_slot(parent, Some(name)))
                {
                    let cap = match slot {
                        Slot::Message => MAX_MESSAGE_BYTES,
                        Slot::Trace => MAX_TRACE_BYTES,
                        Slot::Stdout | Slot::Stderr => MAX_OUTPUT_BYTES,
                    };
                    r.slot(slot).get_or_insert_with(|| Text::with_cap(cap));
                }
            }
            "UnitTest" | "OrderedTest" | "GenericTest" | "WebTest" | "ManualTest"
                if parent == Some("TestDefinitions") =>
            {
                let id = attrs.take("id").unwrap_or_default();
                self.definitions.entry(id.clone()).or_default();
                self.definition = Some(id);
            }
            "TestMethod" => {
                if let Some(def) = self
                    .definition
                    .as_ref()
                    .and_then(|id| self.definitions.get_mut(id))
                {
                    def.class = attrs.take("className").map(|c| class_of(&c).into());
                }
            }
            "TestCategoryItem" | "Owner" => {
                let (key, attr) = match name {
                    "Owner" => ("owner", "name"),
                    _ => ("category", "TestCategory"),
                };
                if let (Some(def), Some(value)) = (self.definition_mut(), attrs.take(attr)) {
                    def.properties.push((key.to_owned(), clean_text(value)));
                }
            }
            "Property" if self.definition.is_some() => {
                self.property = Some((
                    Text::with_cap(MAX_MESSAGE_BYTES),
                    Text::with_cap(MAX_MESSAGE_BYTES),
                ));
            }
            "ResultSummary" => {
                self.summary = attrs.take("outcome").map(|o| (o, line));
            }
            "Counters" => {
                let failed = ["failed", "error", "timeout", "aborted"]
                    .iter()
                    .map(|k| count(attrs.take(k)))
                    .try_fold(0, |sum, n| n.map(|n| sum + n));
                self.counters = Some((count(attrs.take("total")), failed, line));
            }
            "RunInfo" => {
                self.run_info_outcome = attrs.take("outcome");
                self.run_info_text = Some(Text::with_cap(MAX_MESSAGE_BYTES));
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
        if let Some(r) = self.open.last_mut() {
            if let Some(t) = output_slot(parent, top).and_then(|s| r.slot(s).as_mut()) {
                t.push(text);
            }
        } else if let (Some("Property"), Some((key, value))) = (parent, self.property.as_mut()) {
            match top {
                Some("Key") => key.push(text),
                Some("Value") => value.push(text),
                _ => {}
            }
        } else if top == Some("Text") {
            if let Some(t) = self.run_info_text.as_mut() {
                t.push(text);
            }
        }
    }

    fn close(&mut self, name: &str) {
        self.path.pop();
        match name {
            _ if is_result(name) && !self.open.is_empty() => {
                let Some(builder) = self.open.pop() else {
                    return;
                };
                let finished = builder.finish(&mut self.parents);
                match self.open.last_mut() {
                    Some(parent) => parent.inner.extend(finished),
                    None => self.results.extend(finished),
                }
            }
            "UnitTest" | "OrderedTest" | "GenericTest" | "WebTest" | "ManualTest" => {
                self.definition = None;
            }
            "Property" => {
                if let Some((key, value)) = self.property.take() {
                    if let (Some(def), Some(key)) = (self.definition_mut(), key.finish()) {
                        def.properties
                            .push((key, value.finish().unwrap_or_default()));
                    }
                }
            }
            "RunInfo" => {
                let text = self.run_info_text.take().and_then(Text::finish);
                let outcome = self.run_info_outcome.take().unwrap_or_default();
                if outcome.eq_ignore_ascii_case("error") && self.run_error.is_none() {
                    self.run_error = text;
                }
            }
            _ => {}
        }
    }
}

impl ResultBuilder {
    fn slot(&mut self, slot: Slot) -> &mut Option<Text> {
        match slot {
            Slot::Message => &mut self.message,
            Slot::Trace => &mut self.trace,
            Slot::Stdout => &mut self.stdout,
            Slot::Stderr => &mut self.stderr,
        }
    }

    /// The cases this result stands for: its inner results if it has any, else itself.
    fn finish(self, parents: &mut u64) -> Vec<(String, Case)> {
        if !self.inner.is_empty() {
            *parents += 1;
            return self.inner;
        }
        let mut case = self.case;
        let outcome = self.outcome.to_ascii_lowercase();
        case.status = match outcome.as_str() {
            "passed" | "passedbutrunaborted" | "completed" | "warning" => Status::Passed,
            "failed" => Status::Failed,
            "notexecuted" | "inconclusive" | "notrunnable" | "pending" | "inprogress" => {
                Status::Skipped
            }
            _ => Status::Errored,
        };
        let message = self.message.and_then(Text::finish);
        let trace = self.trace.and_then(Text::finish);
        match case.status {
            Status::Failed | Status::Errored => case.details_mut().problems.push(Problem {
                message: message.or_else(|| Some(format!("TRX outcome {}", self.outcome))),
                kind: None,
                trace,
            }),
            Status::Skipped => {
                let reason = match (outcome.as_str(), message) {
                    ("notexecuted", m) => m,
                    (_, Some(m)) => Some(format!("{}: {m}", self.outcome)),
                    (_, None) => Some(self.outcome.clone()),
                };
                if reason.is_some() {
                    case.details_mut().problems.push(Problem {
                        message: reason,
                        ..Problem::default()
                    });
                }
            }
            Status::Passed | Status::Flaky { .. } => {}
        }
        if case.status != Status::Passed {
            case.set_stdout(self.stdout.and_then(Text::finish));
            case.set_stderr(self.stderr.and_then(Text::finish));
        }
        vec![(self.test_id, case)]
    }
}

impl State {
    fn definition_mut(&mut self) -> Option<&mut Definition> {
        let id = self.definition.as_ref()?;
        self.definitions.get_mut(id)
    }

    fn finish(self, diagnostics: &mut Vec<Diagnostic>) -> TestRun {
        let mut suites: Vec<Suite> = Vec::new();
        let mut suite_of: HashMap<String, usize> = HashMap::new();
        // (testId, name) → (suite, case index) of the latest attempt that did not pass.
        let mut retryable: HashMap<(String, String), (usize, usize)> = HashMap::new();
        // Taken from the end of the reversed list, its buffer shrinks as the suites grow, so the
        // cases are not held twice at the peak (issue 12).
        let mut results = self.results;
        results.reverse();
        while let Some((test_id, mut case)) = results.pop() {
            if results.len() < results.capacity() / 2 {
                results.shrink_to_fit();
            }
            let def = self.definitions.get(&test_id);
            case.classname = def.and_then(|d| d.class.clone());
            case.name = without_class(std::mem::take(&mut case.name), case.classname.as_deref());
            if let Some(d) = def.filter(|d| !d.properties.is_empty()) {
                case.details_mut()
                    .properties
                    .extend(d.properties.iter().cloned());
            }
            let suite_name = case.classname.as_deref().unwrap_or_default().to_owned();
            let s = *suite_of.entry(suite_name.clone()).or_insert_with(|| {
                suites.push(Suite {
                    name: suite_name,
                    ..Suite::default()
                });
                suites.len() - 1
            });
            let key = (test_id, case.name.clone());
            let Some(suite) = suites.get_mut(s) else {
                continue;
            };
            match retryable.get(&key).copied() {
                Some((rs, ri)) if rs == s && !key.0.is_empty() => {
                    if let Some(existing) = suite.cases.get_mut(ri) {
                        fold_attempt(existing, case);
                        if !existing.status.is_failure() {
                            retryable.remove(&key);
                        }
                    }
                }
                _ => {
                    if case.status.is_failure() {
                        retryable.insert(key, (s, suite.cases.len()));
                    }
                    suite.push_case(case);
                }
            }
        }
        if let Some((outcome, line)) = &self.summary {
            if outcome.eq_ignore_ascii_case("error") || outcome.eq_ignore_ascii_case("aborted") {
                diagnostics.push(
                    Diagnostic::warning(format!(
                        "the test run ended with outcome {outcome} outside any test, so tests may be missing: {}",
                        self.run_error.as_deref().unwrap_or("(no message)")
                    ))
                    .at_line(*line),
                );
            }
        }
        let run = TestRun {
            name: self.name,
            suites,
            declared_duration: None,
        };
        if let Some((total, failed, line)) = self.counters {
            let t = run.totals();
            // Older TRX loggers also count each data-driven parent (vstest#15643).
            let total = total.filter(|&n| n != t.tests + self.parents);
            diagnostics.extend(check_counters(
                "the TRX <ResultSummary>",
                line,
                &[
                    ("total", total, t.tests),
                    ("failed+error+timeout+aborted", failed, t.failed + t.errored),
                ],
            ));
        }
        run
    }
}

/// The reader's dialect details; end-to-end counts are in tests/it/conformance_xml.rs.
#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010""#;

    fn run(body: &str) -> (TestRun, Vec<Diagnostic>) {
        let xml = format!("<TestRun name=\"r\" {NS}>{body}</TestRun>");
        let parsed = parse(super::super::scanner::Scanner::in_memory(xml.as_bytes())).unwrap();
        (parsed.runs.into_iter().next().unwrap(), parsed.diagnostics)
    }

    fn definition(id: &str, class: &str) -> String {
        format!(
            r#"<UnitTest name="x" id="{id}"><Owners><Owner name="qa"/></Owners><Properties><Property><Key>Area</Key><Value>billing</Value></Property></Properties><TestCategory><TestCategoryItem TestCategory="Smoke"/></TestCategory><TestMethod className="{class}" name="x"/></UnitTest>"#
        )
    }

    #[test]
    fn outcomes_classes_messages_and_durations() {
        let (run, diags) = run(&format!(
            r#"<Results>
              <UnitTestResult testId="1" testName="N.T.ok" duration="00:01:02.5000000" outcome="Passed"/>
              <UnitTestResult testId="2" testName="bad" outcome="Failed"><Output><StdOut>out</StdOut><TextMessages><Message>not the failure</Message></TextMessages><ErrorInfo><Message>Assert.AreEqual failed</Message><StackTrace>at T.bad()</StackTrace></ErrorInfo></Output></UnitTestResult>
              <UnitTestResult testId="3" testName="slow" outcome="Timeout"/>
              <UnitTestResult testId="4" testName="skip" outcome="NotExecuted"><Output><ErrorInfo><Message>ignored</Message></ErrorInfo></Output></UnitTestResult>
              <UnitTestResult testId="5" testName="maybe" outcome="Inconclusive"/>
            </Results>
            <TestDefinitions>{}{}</TestDefinitions>
            <ResultSummary outcome="Failed"><Counters total="5" passed="1" failed="1" error="0" timeout="1" aborted="0"/></ResultSummary>"#,
            definition("1", "N.T, T, Version=1.0.0.0"),
            definition("2", "N.T"),
        ));
        assert!(diags.is_empty(), "{diags:?}");
        let c: Vec<&Case> = run.cases().collect();
        let st: Vec<&str> = c.iter().map(|c| c.status.as_str()).collect();
        assert_eq!(st, ["passed", "failed", "errored", "skipped", "skipped"]);
        assert_eq!(run.suites[0].name, "N.T");
        assert_eq!(c[0].classname.as_deref(), Some("N.T"));
        assert_eq!(c[0].name, "ok", "the class prefix is dropped from the name");
        let props: Vec<(&str, &str)> = c[0]
            .properties()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            props,
            [("owner", "qa"), ("Area", "billing"), ("category", "Smoke")]
        );
        assert_eq!(c[0].duration, Some(Duration::from_millis(62_500)));
        assert_eq!(c[1].headline(), Some("Assert.AreEqual failed"));
        assert_eq!(c[1].problems()[0].trace.as_deref(), Some("at T.bad()"));
        assert_eq!(c[1].stdout(), Some("out"));
        assert_eq!(c[3].headline(), Some("ignored"));
        assert_eq!(c[4].headline(), Some("Inconclusive"));
    }

    #[test]
    fn data_rows_are_the_tests_not_their_parent() {
        let (run, diags) = run(
            r#"<Results><UnitTestResult testId="1" testName="Add" outcome="Failed" resultType="DataDrivenTest"><InnerResults>
                <UnitTestResult testId="1" testName="Add (1,2)" outcome="Passed" resultType="DataDrivenDataRow"/>
                <UnitTestResult testId="1" testName="Add (2,2)" outcome="Failed" resultType="DataDrivenDataRow"/>
              </InnerResults></UnitTestResult></Results>
              <ResultSummary><Counters total="3" failed="2" error="0" timeout="0" aborted="0"/></ResultSummary>"#,
        );
        let names: Vec<&str> = run.cases().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Add (1,2)", "Add (2,2)"]);
        assert_eq!(run.totals().failed, 1);
        // total=3 is the old parent-counting logger, not a disagreement; failed=2 is.
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0]
            .message
            .contains("failed+error+timeout+aborted=2 but 1"));
    }

    #[test]
    fn a_failed_result_rerun_and_passed_is_flaky() {
        let (run, _) = run(
            r#"<Results><UnitTestResult testId="1" testName="t" outcome="Failed"><Output><ErrorInfo><Message>first</Message></ErrorInfo></Output></UnitTestResult>
               <UnitTestResult testId="1" testName="t" outcome="Passed"/>
               <UnitTestResult testId="2" testName="u" outcome="Passed"/>
               <UnitTestResult testId="2" testName="u" outcome="Passed"/></Results>"#,
        );
        let c: Vec<&Case> = run.cases().collect();
        assert_eq!(
            c.len(),
            3,
            "passing duplicates are distinct tests, a failed one is retried"
        );
        assert_eq!(c[0].status, Status::Flaky { attempts: 2 });
        assert_eq!(c[0].retries()[0].message.as_deref(), Some("first"));
    }

    #[test]
    fn a_crashed_run_is_a_warning_but_per_test_run_infos_are_not() {
        let info = r#"<RunInfos><RunInfo outcome="Error"><Text>Test host process crashed</Text></RunInfo></RunInfos>"#;
        let (_, diags) = run(&format!(
            r#"<Results/><ResultSummary outcome="Error">{info}</ResultSummary>"#
        ));
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("Test host process crashed"));
        // xUnit.net echoes each failing test as a RunInfo error of an ordinary failed run.
        let (_, diags) = run(&format!(
            r#"<Results/><ResultSummary outcome="Failed">{info}</ResultSummary>"#
        ));
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn timespans_with_days_and_without_fraction() {
        assert_eq!(
            parse_timespan("1.02:00:00"),
            Some(Duration::from_secs(93_600))
        );
        assert_eq!(parse_timespan("00:00:03"), Some(Duration::from_secs(3)));
        assert_eq!(parse_timespan("3.5"), None);
    }
}

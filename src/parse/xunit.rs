//! xUnit.net XML, v2 (`<assemblies>/<assembly>/<collection>/<test>`) and v1
//! (`<assembly>/<class>/<test>`), through the shared XML loop ([`super::xml`]).
//!
//! Every `<test>` is one test; its suite is the assembly's file name and the collection (v2) or
//! class (v1) joined with " › "; its classname is `type`, its name `name` less the `type.`
//! prefix (`Method(x: 1)`; custom display names stay whole), `time` is seconds.
//! Status from `result`: `Pass` → passed; `Fail` → failed (xUnit.net does not tell assertion
//! failures from exceptions: the exception type is kept as the problem's kind); `Skip` → skipped
//! with the reason; `NotRun` → skipped, reason "not run". `<trait>`s become properties.
//!
//! An assembly's `<errors>` (a failing fixture or collection cleanup, or a catastrophic
//! failure) run outside any test, yet they fail the run in xUnit.net: each becomes an errored
//! case named after its `type` and `name`, so it is neither lost nor counted as a pass.
//!
//! Each assembly's counters (`total`, `passed`, `failed`, `skipped`) are checked against its
//! cases; the cases win.

use super::junit::{
    MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES, SUITE_PATH_SEPARATOR, UNNAMED_TEST,
};
use super::xml::{
    self, check_counters, clean_attr, count, parse_seconds, without_class, Attrs, Handler, Text,
};
use super::{Format, ParseError, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, Case, Location, Problem, Status, Suite, TestRun};

pub(super) fn parse<R: std::io::BufRead>(
    scanner: super::scanner::Scanner<'_, R>,
) -> Result<Parsed, ParseError> {
    let mut state = State::default();
    xml::drive(scanner, Format::Xunit, &mut state)?;
    state.run.suites.retain(|s| !s.cases.is_empty());
    Ok(Parsed {
        runs: vec![state.run],
        diagnostics: state.diagnostics,
    })
}

struct Assembly {
    name: String,
    line: u64,
    total: Option<u64>,
    passed: Option<u64>,
    failed: Option<u64>,
    skipped: Option<u64>,
    /// Index of this assembly's first suite in the run.
    first_suite: usize,
}

struct TestBuilder {
    case: Case,
    result: String,
    file: Option<String>,
    line: Option<u32>,
    failure: Option<Failure>,
    reason: Option<Text>,
    output: Option<Text>,
}

struct Failure {
    kind: Option<String>,
    message: Text,
    trace: Text,
}

#[derive(Default)]
struct State {
    run: TestRun,
    assembly: Option<Assembly>,
    /// The open `<collection>` or `<class>` (an index into the run's suites).
    group: Option<usize>,
    test: Option<TestBuilder>,
    /// An assembly-level `<error>` being read: its case and failure.
    error: Option<(Case, Failure)>,
    path: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl State {
    fn assembly_name(&self) -> String {
        self.assembly
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }

    fn open_group(&mut self, own: Option<String>) -> usize {
        let assembly = self.assembly_name();
        let own = own.map(clean_text).unwrap_or_default();
        let name = match (assembly.is_empty(), own.is_empty()) {
            (false, false) => format!("{assembly}{SUITE_PATH_SEPARATOR}{own}"),
            (true, _) => own,
            (false, true) => assembly,
        };
        self.run.suites.push(Suite {
            name,
            ..Suite::default()
        });
        self.run.suites.len() - 1
    }

    fn failure_mut(&mut self) -> Option<&mut Failure> {
        match (self.test.as_mut(), self.error.as_mut()) {
            (Some(t), _) => t.failure.as_mut(),
            (None, Some((_, f))) => Some(f),
            (None, None) => None,
        }
    }
}

impl Handler for State {
    fn open(&mut self, name: &str, mut attrs: Attrs, line: u64) -> Result<(), ParseError> {
        let in_test = self.test.is_some();
        match name {
            "assembly" if !in_test => {
                let full = attrs.take("name").unwrap_or_default();
                self.assembly = Some(Assembly {
                    name: clean_text(file_name(&full)),
                    line,
                    total: count(attrs.take("total")),
                    passed: count(attrs.take("passed")),
                    failed: count(attrs.take("failed")),
                    skipped: count(attrs.take("skipped")),
                    first_suite: self.run.suites.len(),
                });
                if self.run.name.is_none() {
                    self.run.name = attrs.take("test-framework");
                }
            }
            "collection" | "class" if !in_test => {
                let index = self.open_group(attrs.take("name"));
                if let Some(suite) = self.run.suites.get_mut(index) {
                    suite.duration = attrs.take("time").and_then(|t| parse_seconds(&t));
                }
                self.group = Some(index);
            }
            "test" if !in_test => {
                let mut case = Case::new(
                    attrs
                        .take("name")
                        .map(clean_text)
                        .unwrap_or_else(|| UNNAMED_TEST.to_owned()),
                    Status::Passed,
                );
                case.classname = attrs.take("type").map(|t| clean_text(t).into());
                case.duration = attrs.take("time").and_then(|t| parse_seconds(&t));
                self.test = Some(TestBuilder {
                    case,
                    result: attrs.take("result").unwrap_or_default(),
                    file: attrs.take("source-file"),
                    line: count(attrs.take("source-line")).and_then(|l| u32::try_from(l).ok()),
                    failure: None,
                    reason: None,
                    output: None,
                });
            }
            "error" if !in_test && self.path.last().is_some_and(|p| p == "errors") => {
                let kind = attrs.take("type").unwrap_or_else(|| "error".into());
                let label = match attrs.take("name") {
                    Some(n) => format!("{kind}: {}", clean_text(n)),
                    None => kind,
                };
                let mut case = Case::new(label, Status::Errored);
                case.classname = Some("(xUnit.net infrastructure)".into());
                self.error = Some((
                    case,
                    Failure {
                        kind: None,
                        message: Text::with_cap(MAX_MESSAGE_BYTES),
                        trace: Text::with_cap(MAX_TRACE_BYTES),
                    },
                ));
            }
            "failure" => {
                let kind = clean_attr(attrs.take("exception-type"), MAX_MESSAGE_BYTES);
                let failure = Failure {
                    kind,
                    message: Text::with_cap(MAX_MESSAGE_BYTES),
                    trace: Text::with_cap(MAX_TRACE_BYTES),
                };
                match (self.test.as_mut(), self.error.as_mut()) {
                    (Some(t), _) => t.failure = Some(failure),
                    (None, Some((_, f))) => f.kind = failure.kind,
                    (None, None) => {}
                }
            }
            "reason" if in_test => {
                if let Some(t) = self.test.as_mut() {
                    t.reason = Some(Text::with_cap(MAX_MESSAGE_BYTES));
                }
            }
            "output" if in_test => {
                if let Some(t) = self.test.as_mut() {
                    t.output = Some(Text::with_cap(MAX_OUTPUT_BYTES));
                }
            }
            "trait" if in_test => {
                if let (Some(t), Some(k)) = (self.test.as_mut(), attrs.take("name")) {
                    let v = attrs.take("value").unwrap_or_default();
                    t.case
                        .details_mut()
                        .properties
                        .push((clean_text(k), clean_text(v)));
                }
            }
            _ => {}
        }
        self.path.push(name.to_owned());
        Ok(())
    }

    fn text(&mut self, text: &str) {
        // The innermost element that collects text decides where it goes.
        let target = self
            .path
            .iter()
            .rev()
            .find(|p| matches!(p.as_str(), "message" | "stack-trace" | "reason" | "output"))
            .cloned();
        match target.as_deref() {
            Some("message") if self.path.iter().any(|p| p == "reason") => {
                if let Some(r) = self.test.as_mut().and_then(|t| t.reason.as_mut()) {
                    r.push(text);
                }
            }
            Some("message") => {
                if let Some(f) = self.failure_mut() {
                    f.message.push(text);
                }
            }
            Some("stack-trace") => {
                if let Some(f) = self.failure_mut() {
                    f.trace.push(text);
                }
            }
            Some("reason") => {
                if let Some(r) = self.test.as_mut().and_then(|t| t.reason.as_mut()) {
                    r.push(text);
                }
            }
            Some("output") => {
                if let Some(o) = self.test.as_mut().and_then(|t| t.output.as_mut()) {
                    o.push(text);
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        self.path.pop();
        match name {
            "test" => {
                if let Some(t) = self.test.take() {
                    let case = t.finish();
                    let index = match self.group {
                        Some(i) => i,
                        None => {
                            let i = self.open_group(None);
                            self.group = Some(i);
                            i
                        }
                    };
                    if let Some(suite) = self.run.suites.get_mut(index) {
                        suite.push_case(case);
                    }
                }
            }
            "collection" | "class" if self.test.is_none() => {
                // A closed collection takes no more cases: its doubling room is given back.
                if let Some(suite) = self.group.take().and_then(|i| self.run.suites.get_mut(i)) {
                    suite.cases.shrink_to_fit();
                }
            }
            "error" if self.test.is_none() => {
                if let Some((mut case, f)) = self.error.take() {
                    case.details_mut().problems.push(Problem {
                        message: f.message.finish(),
                        kind: f.kind,
                        trace: f.trace.finish(),
                    });
                    let index = self.open_group(Some("errors".into()));
                    if let Some(suite) = self.run.suites.get_mut(index) {
                        suite.push_case(case);
                    }
                }
            }
            "assembly" if self.test.is_none() => {
                self.group = None;
                if let Some(a) = self.assembly.take() {
                    let mut t = crate::model::Totals::default();
                    for suite in self.run.suites.iter().skip(a.first_suite) {
                        for case in &suite.cases {
                            t.add(case.status);
                        }
                    }
                    let declared = [
                        ("total", a.total, t.tests),
                        ("passed", a.passed, t.passed),
                        ("failed", a.failed, t.failed + t.errored),
                        ("skipped", a.skipped, t.skipped),
                    ];
                    let what = format!("the xUnit.net <assembly> '{}'", a.name);
                    self.diagnostics
                        .extend(check_counters(&what, a.line, &declared));
                }
            }
            _ => {}
        }
    }
}

impl TestBuilder {
    fn finish(self) -> Case {
        let mut case = self.case;
        case.name = without_class(std::mem::take(&mut case.name), case.classname.as_deref());
        let reason = self.reason.and_then(Text::finish);
        let failure = self.failure.map(|f| Problem {
            message: f.message.finish(),
            kind: f.kind,
            trace: f.trace.finish(),
        });
        case.status = match self.result.to_ascii_lowercase().as_str() {
            "pass" => Status::Passed,
            "skip" | "notrun" => Status::Skipped,
            _ => Status::Failed,
        };
        match case.status {
            Status::Failed => {
                case.details_mut()
                    .problems
                    .push(failure.unwrap_or_else(|| Problem {
                        message: Some(format!("xUnit.net result '{}'", self.result)),
                        ..Problem::default()
                    }))
            }
            Status::Skipped => {
                let not_run = self.result.eq_ignore_ascii_case("notrun");
                let message = match (not_run, reason) {
                    (true, Some(r)) => Some(format!("not run: {r}")),
                    (true, None) => Some("not run".to_owned()),
                    (false, r) => r,
                };
                if message.is_some() {
                    case.details_mut().problems.push(Problem {
                        message,
                        ..Problem::default()
                    });
                }
            }
            _ => {}
        }
        if case.status != Status::Passed {
            case.set_stdout(self.output.and_then(Text::finish));
        }
        case.set_location(self.file.map(|file| Location {
            file: clean_text(file),
            line: self.line,
        }));
        case
    }
}

/// The reader's dialect details; end-to-end counts are in tests/it/conformance_xml.rs.
#[cfg(test)]
mod tests {
    use super::*;

    fn run(xml: &str) -> (TestRun, Vec<Diagnostic>) {
        let parsed = parse(super::super::scanner::Scanner::in_memory(xml.as_bytes())).unwrap();
        (parsed.runs.into_iter().next().unwrap(), parsed.diagnostics)
    }

    #[test]
    fn v2_collections_results_traits_and_output() {
        let (run, diags) = run(
            r#"<assemblies><assembly name="C:\b\Tests.dll" total="4" passed="1" failed="1" skipped="2">
          <errors/>
          <collection name="Col A" time="1.5">
            <test name="N.C.ok" type="N.C" method="ok" time="0.25" result="Pass"><traits><trait name="Category" value="fast"/></traits></test>
            <test name="N.C.bad" type="N.C" result="Fail"><failure exception-type="Xunit.Sdk.EqualException"><message><![CDATA[Assert.Equal() Failure]]></message><stack-trace>at N.C.bad()</stack-trace></failure><output>log line</output></test>
            <test name="N.C.skip" type="N.C" result="Skip"><reason><![CDATA[flaky on CI]]></reason></test>
            <test name="N.C.nr" type="N.C" result="NotRun"/>
          </collection></assembly></assemblies>"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(run.suites.len(), 1);
        assert_eq!(run.suites[0].name, "Tests.dll › Col A");
        let c: Vec<&Case> = run.cases().collect();
        assert_eq!(c[0].properties(), [("Category".into(), "fast".into())]);
        assert_eq!(
            (c[0].name.as_str(), c[0].classname.as_deref()),
            ("ok", Some("N.C"))
        );
        assert_eq!(c[0].duration, Some(std::time::Duration::from_millis(250)));
        assert_eq!(c[1].status, Status::Failed);
        assert_eq!(c[1].headline(), Some("Assert.Equal() Failure"));
        assert_eq!(
            c[1].problems()[0].kind.as_deref(),
            Some("Xunit.Sdk.EqualException")
        );
        assert_eq!(c[1].stdout(), Some("log line"));
        assert_eq!(c[2].headline(), Some("flaky on CI"));
        assert_eq!(c[3].headline(), Some("not run"));
    }

    #[test]
    fn v1_classes_and_reason_messages() {
        let (run, _) = run(r#"<assembly name="/x/T.dll"><class name="N.C" total="2">
            <test name="N.C.a" type="N.C" method="a" result="Pass" time="0.1"/>
            <test name="N.C.b" type="N.C" method="b" result="Skip"><reason><message>later</message></reason></test>
          </class></assembly>"#);
        assert_eq!(run.suites[0].name, "T.dll › N.C");
        let c: Vec<&Case> = run.cases().collect();
        assert_eq!(c[1].headline(), Some("later"));
    }

    #[test]
    fn cleanup_errors_are_errored_cases_and_counters_are_checked() {
        let (run, diags) = run(
            r#"<assemblies><assembly name="T.dll" total="1" passed="1" failed="0" skipped="0">
          <errors><error type="fixture-cleanup" name="N.Fixture"><failure exception-type="System.Exception"><message>dispose failed</message></failure></error></errors>
          <collection name="c"><test name="a" result="Pass"/></collection></assembly></assemblies>"#,
        );
        let t = run.totals();
        assert_eq!((t.tests, t.passed, t.errored), (2, 1, 1));
        let err = run.cases().find(|c| c.status == Status::Errored).unwrap();
        assert_eq!(err.name, "fixture-cleanup: N.Fixture");
        assert_eq!(err.headline(), Some("dispose failed"));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].message.contains("total=1 but 2 found"),
            "{}",
            diags[0]
        );
    }
}

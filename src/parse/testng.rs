//! TestNG's own XML (`testng-results.xml`, root `<testng-results>`), through the shared XML loop
//! ([`super::xml`]). (TestNG's JUnit-style reports are read as JUnit.)
//!
//! Every `<test-method>` that is not a configuration method is one test: suite = `<suite>` and
//! `<test>` names joined with " › ", classname = `<class name>`, name = method name followed by
//! its data-provider parameters in parentheses, so each iteration is its own test.
//! `duration-ms` is milliseconds; `description` and the method's `<groups>` become properties.
//!
//! - `status`: `PASS` → passed; `FAIL` → failed; `SKIP` → skipped with the exception's message
//!   as reason (a failed dependency or configuration). Unknown statuses → errored.
//! - Retries: TestNG reports an attempt its retry analyzer retried as `SKIP`, marked
//!   `retried="true"` since TestNG 7 and unmarked before; a marked `SKIP`, or an unmarked one
//!   followed by a result of the same class, name and parameters that ran, is a failed attempt
//!   and folds into that result (failed then passed → flaky). Two skips stay two tests.
//! - Configuration methods (`is-config="true"`: `@BeforeMethod`, `@AfterClass`, …) are not
//!   tests, but a failed one is a setup/teardown error that TestNG reports apart from the
//!   tests it skips: it becomes an errored case named "<method> (configuration)".
//! - `<exception class>` gives the problem's kind, `<message>` and `<full-stacktrace>` the rest;
//!   `<reporter-output>` lines are kept as stdout for tests that did not pass.
//! - The root's `total`, `passed`, `failed` counters (which count retried attempts and ignore
//!   configuration methods) are checked against the cases; the cases win.

use std::collections::HashMap;
use std::sync::Arc;

use super::junit::{
    fold_attempt, MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES, SUITE_PATH_SEPARATOR,
    UNNAMED_TEST,
};
use super::xml::{self, check_counters, clean_attr, count, millis, Attrs, Handler, Text};
use super::{Format, ParseError, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, Case, Problem, Status, Suite, TestRun};

/// Bytes kept of one data-provider parameter in a test name.
pub const MAX_PARAM_BYTES: usize = 200;

pub(super) fn parse<R: std::io::BufRead>(
    scanner: super::scanner::Scanner<'_, R>,
) -> Result<Parsed, ParseError> {
    let mut state = State::default();
    xml::drive(scanner, Format::Testng, &mut state)?;
    let mut diagnostics = std::mem::take(&mut state.diagnostics);
    let mut run = TestRun {
        name: None,
        suites: std::mem::take(&mut state.suites),
        declared_duration: None,
    };
    if let Some((total, passed, failed, line)) = state.counters {
        let t = run.totals();
        let tests = t.tests - state.config_failures;
        diagnostics.extend(check_counters(
            "the <testng-results>",
            line,
            &[
                ("total", total, tests + state.retried),
                ("passed", passed, t.passed + t.flaky),
                ("failed", failed, t.failed),
            ],
        ));
    }
    run.suites.retain(|s| !s.cases.is_empty());
    Ok(Parsed {
        runs: vec![run],
        diagnostics,
    })
}

struct MethodBuilder {
    case: Case,
    status: String,
    config: bool,
    retried: bool,
    params: Vec<Text>,
    exception: Option<(Option<String>, Text, Text)>,
    output: Option<Text>,
}

/// The root counters: total, passed, failed, and the line they are on.
type Counters = (Option<u64>, Option<u64>, Option<u64>, u64);

#[derive(Default)]
struct State {
    counters: Option<Counters>,
    suite: Option<String>,
    class: Option<Arc<str>>,
    /// The `<test>` being read: its index in `suites`.
    current: Option<usize>,
    suites: Vec<Suite>,
    method: Option<MethodBuilder>,
    /// (suite index, classname, name) → (case index, marked `retried`) of an attempt that may
    /// have been retried.
    retryable: HashMap<(usize, Arc<str>, String), (usize, bool)>,
    retried: u64,
    /// The group being read in `<groups>`, and every (class, method) → groups seen.
    group: Option<String>,
    groups: HashMap<(String, String), Vec<String>>,
    config_failures: u64,
    path: Vec<String>,
    diagnostics: Vec<Diagnostic>,
}

impl Handler for State {
    fn open(&mut self, name: &str, mut attrs: Attrs, line: u64) -> Result<(), ParseError> {
        let parent = self.path.last().map(String::as_str);
        match name {
            "testng-results" if self.path.is_empty() => {
                self.counters = Some((
                    count(attrs.take("total")),
                    count(attrs.take("passed")),
                    count(attrs.take("failed")),
                    line,
                ));
            }
            "suite" if parent == Some("testng-results") => {
                self.suite = attrs.take("name").map(clean_text);
            }
            "test" if parent == Some("suite") => {
                let own = attrs.take("name").map(clean_text).unwrap_or_default();
                let name = match self.suite.as_deref() {
                    Some(s) if !own.is_empty() => format!("{s}{SUITE_PATH_SEPARATOR}{own}"),
                    Some(s) => s.to_owned(),
                    None => own,
                };
                self.suites.push(Suite {
                    name,
                    duration: millis(attrs.take("duration-ms")),
                    timestamp: attrs.take("started-at"),
                    ..Suite::default()
                });
                self.current = Some(self.suites.len() - 1);
            }
            "group" if parent == Some("groups") => {
                self.group = attrs.take("name").map(clean_text);
            }
            "method" if parent == Some("group") => {
                if let (Some(group), Some(class), Some(method)) =
                    (self.group.clone(), attrs.take("class"), attrs.take("name"))
                {
                    let key = (clean_text(class), clean_text(method));
                    self.groups.entry(key).or_default().push(group);
                }
            }
            "class" if parent == Some("test") => {
                self.class = attrs.take("name").map(|n| clean_text(n).into());
            }
            "test-method" if self.method.is_none() => {
                let mut case = Case::new(
                    attrs
                        .take("name")
                        .map(clean_text)
                        .unwrap_or_else(|| UNNAMED_TEST.to_owned()),
                    Status::Passed,
                );
                case.classname = self.class.clone();
                case.duration = millis(attrs.take("duration-ms"));
                if let Some(d) = clean_attr(attrs.take("description"), MAX_MESSAGE_BYTES) {
                    case.details_mut()
                        .properties
                        .push(("description".to_owned(), d));
                }
                let flag = |v: Option<String>| v.is_some_and(|v| v.trim() == "true");
                self.method = Some(MethodBuilder {
                    case,
                    status: attrs.take("status").unwrap_or_default(),
                    config: flag(attrs.take("is-config")),
                    retried: flag(attrs.take("retried")),
                    params: Vec::new(),
                    exception: None,
                    output: None,
                });
            }
            "value" if parent == Some("param") => {
                if let Some(m) = self.method.as_mut() {
                    m.params.push(Text::with_cap(MAX_PARAM_BYTES));
                }
            }
            "exception" if parent == Some("test-method") => {
                if let Some(m) = self.method.as_mut() {
                    m.exception = Some((
                        clean_attr(attrs.take("class"), MAX_MESSAGE_BYTES),
                        Text::with_cap(MAX_MESSAGE_BYTES),
                        Text::with_cap(MAX_TRACE_BYTES),
                    ));
                }
            }
            "reporter-output" if parent == Some("test-method") => {
                if let Some(m) = self.method.as_mut() {
                    m.output = Some(Text::with_cap(MAX_OUTPUT_BYTES));
                }
            }
            _ => {}
        }
        self.path.push(name.to_owned());
        Ok(())
    }

    fn text(&mut self, text: &str) {
        let Some(m) = self.method.as_mut() else {
            return;
        };
        let parent = self
            .path
            .len()
            .checked_sub(2)
            .and_then(|i| self.path.get(i))
            .map(String::as_str);
        match (parent, self.path.last().map(String::as_str)) {
            (Some("param"), Some("value")) => {
                if let Some(p) = m.params.last_mut() {
                    p.push(text);
                }
            }
            (Some("exception"), Some("message")) => {
                if let Some((_, msg, _)) = m.exception.as_mut() {
                    msg.push(text);
                }
            }
            (Some("exception"), Some("full-stacktrace")) => {
                if let Some((_, _, trace)) = m.exception.as_mut() {
                    trace.push(text);
                }
            }
            (Some("reporter-output"), Some("line")) => {
                if let Some(o) = m.output.as_mut() {
                    o.push(text);
                    o.push("\n");
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        self.path.pop();
        match name {
            "test-method" => {
                if let Some(m) = self.method.take() {
                    self.add(m);
                }
            }
            "class" => self.class = None,
            "test" => self.current = None,
            _ => {}
        }
    }
}

impl State {
    fn add(&mut self, m: MethodBuilder) {
        let method = (
            m.case.classname.as_deref().unwrap_or_default().to_owned(),
            m.case.name.clone(),
        );
        let Some((mut case, retried)) = m.finish() else {
            return;
        };
        if let Some(groups) = self.groups.get(&method) {
            case.details_mut()
                .properties
                .extend(groups.iter().map(|g| ("group".to_owned(), g.clone())));
        }
        if case.status == Status::Errored && case.name.ends_with(CONFIG_SUFFIX) {
            self.config_failures += 1;
        }
        let index = match self.current {
            Some(i) => i,
            None => {
                self.suites.push(Suite {
                    name: self.suite.clone().unwrap_or_default(),
                    ..Suite::default()
                });
                self.suites.len() - 1
            }
        };
        self.current = Some(index);
        let key = (
            index,
            case.classname.clone().unwrap_or_default(),
            case.name.clone(),
        );
        let Some(suite) = self.suites.get_mut(index) else {
            return;
        };
        let is_config = case.name.ends_with(CONFIG_SUFFIX);
        match self.retryable.get(&key).copied() {
            Some((i, marked)) if marked || case.status != Status::Skipped => {
                self.retried += 1;
                if let Some(existing) = suite.cases.get_mut(i) {
                    // The retried attempt failed, whatever status TestNG showed for it.
                    if existing.status == Status::Skipped {
                        existing.status = Status::Failed;
                    }
                    fold_attempt(existing, case);
                }
                if !retried {
                    self.retryable.remove(&key);
                } else {
                    self.retryable.insert(key, (i, true));
                }
            }
            _ => {
                if retried || (case.status == Status::Skipped && !is_config) {
                    self.retryable.insert(key, (suite.cases.len(), retried));
                }
                suite.push_case(case);
            }
        }
    }
}

const CONFIG_SUFFIX: &str = " (configuration)";

impl MethodBuilder {
    /// The case, and whether TestNG retried it; `None` for configuration methods that passed.
    fn finish(self) -> Option<(Case, bool)> {
        let mut case = self.case;
        let status = self.status.trim().to_ascii_uppercase();
        if self.config && status != "FAIL" {
            return None;
        }
        let params: Vec<String> = self
            .params
            .into_iter()
            .map(|p| p.finish().unwrap_or_default())
            .collect();
        if !params.is_empty() {
            case.name = format!("{}({})", case.name, params.join(", "));
        }
        let problem = self.exception.map(|(kind, message, trace)| Problem {
            message: message.finish(),
            kind,
            trace: trace.finish(),
        });
        case.status = match status.as_str() {
            _ if self.config => Status::Errored,
            "PASS" => Status::Passed,
            "FAIL" => Status::Failed,
            // A retried attempt failed; TestNG shows it as skipped.
            "SKIP" if self.retried => Status::Failed,
            "SKIP" => Status::Skipped,
            _ => Status::Errored,
        };
        if self.config {
            case.name.push_str(CONFIG_SUFFIX);
        }
        match case.status {
            Status::Passed | Status::Flaky { .. } => {}
            Status::Skipped => {
                if let Some(p) = problem.filter(|p| !p.is_empty()) {
                    case.details_mut().problems.push(p);
                }
            }
            Status::Failed | Status::Errored => {
                case.details_mut()
                    .problems
                    .push(problem.unwrap_or_else(|| Problem {
                        message: Some(format!("TestNG status {}", self.status)),
                        ..Problem::default()
                    }))
            }
        }
        if case.status != Status::Passed {
            case.set_stdout(self.output.and_then(Text::finish));
        }
        Some((case, self.retried))
    }
}

/// The reader's dialect details.
#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> (TestRun, Vec<Diagnostic>) {
        let parsed = parse(super::super::scanner::Scanner::in_memory(body.as_bytes())).unwrap();
        (parsed.runs.into_iter().next().unwrap(), parsed.diagnostics)
    }

    const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testng-results ignored="0" total="5" passed="2" failed="1" skipped="2">
  <reporter-output></reporter-output>
  <suite name="Suite" duration-ms="50" started-at="2024-01-01T00:00:00 UTC">
    <groups><group name="fast"><method signature="add(int)" name="add" class="com.x.CalcTest"/></group></groups>
    <test name="Unit" duration-ms="40">
      <class name="com.x.CalcTest">
        <test-method status="PASS" signature="setUp()" name="setUp" is-config="true" duration-ms="1"/>
        <test-method status="PASS" signature="add(int)" name="add" duration-ms="3" data-provider="nums">
          <params><param index="0"><value><![CDATA[1]]></value></param></params>
        </test-method>
        <test-method status="FAIL" signature="add(int)" name="add" duration-ms="4" data-provider="nums">
          <params><param index="0"><value><![CDATA[2]]></value></param></params>
          <exception class="java.lang.AssertionError"><message><![CDATA[expected [3] but found [4]]]></message>
            <full-stacktrace><![CDATA[java.lang.AssertionError: expected [3] but found [4]
	at com.x.CalcTest.add(CalcTest.java:12)]]></full-stacktrace></exception>
          <reporter-output><line><![CDATA[adding 2]]></line></reporter-output>
        </test-method>
        <test-method status="SKIP" signature="div()" name="div" duration-ms="0" retried="true">
          <exception class="java.lang.ArithmeticException"><message><![CDATA[/ by zero]]></message></exception>
        </test-method>
        <test-method status="PASS" signature="div()" name="div" duration-ms="2" description="divides"/>
        <test-method status="SKIP" signature="later()" name="later" duration-ms="0">
          <exception class="org.testng.SkipException"><message><![CDATA[not ready]]></message></exception>
        </test-method>
        <test-method status="FAIL" signature="tearDown()" name="tearDown" is-config="true" duration-ms="1">
          <exception class="java.lang.IllegalStateException"><message><![CDATA[db gone]]></message></exception>
        </test-method>
      </class>
    </test>
  </suite>
</testng-results>"#;

    #[test]
    fn statuses_parameters_retries_and_configuration_failures() {
        let (run, diags) = run(REPORT);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<(&str, &str)> = run
            .cases()
            .map(|c| (c.name.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("add(1)", "passed"),
                ("add(2)", "failed"),
                ("div", "flaky"),
                ("later", "skipped"),
                ("tearDown (configuration)", "errored"),
            ]
        );
        assert_eq!(run.suites[0].name, "Suite › Unit");
        let c: Vec<&Case> = run.cases().collect();
        assert_eq!(c[1].classname.as_deref(), Some("com.x.CalcTest"));
        assert_eq!(c[1].properties(), [("group".into(), "fast".into())]);
        assert_eq!(c[1].headline(), Some("expected [3] but found [4]"));
        assert_eq!(
            c[1].problems()[0].kind.as_deref(),
            Some("java.lang.AssertionError")
        );
        assert_eq!(c[1].stdout(), Some("adding 2"));
        assert_eq!(c[1].duration, Some(std::time::Duration::from_millis(4)));
        assert_eq!(c[2].status, Status::Flaky { attempts: 2 });
        assert_eq!(c[2].retries()[0].message.as_deref(), Some("/ by zero"));
        assert_eq!(c[3].headline(), Some("not ready"));
        assert_eq!(c[4].headline(), Some("db gone"));
    }

    #[test]
    fn testng6_unmarked_skip_then_run_is_a_retry_but_two_skips_are_two_tests() {
        let (once, diags) = run(&REPORT.replace(r#" retried="true""#, ""));
        assert!(diags.is_empty(), "{diags:?}");
        let div = once.cases().find(|c| c.name == "div").unwrap();
        assert_eq!(div.status, Status::Flaky { attempts: 2 });
        let twice = REPORT.replace(
            r#"<test-method status="PASS" signature="div()" name="div" duration-ms="2" description="divides"/>"#,
            r#"<test-method status="SKIP" signature="div()" name="div" duration-ms="0"/>"#,
        );
        let (skipped, _) = run(&twice.replace(r#" retried="true""#, ""));
        assert_eq!(skipped.cases().filter(|c| c.name == "div").count(), 2);
    }

    #[test]
    fn counters_that_disagree_give_a_warning() {
        let (_, diags) = run(&REPORT.replace(r#"total="5""#, r#"total="9""#));
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].message.contains("total=9 but 5 found"),
            "{}",
            diags[0]
        );
    }
}

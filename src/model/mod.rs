//! The normalized result every input format parses into and every writer reads from.
//!
//! `TestRun → Suite → Case`. One `Case` per test: retries and reruns of one test are folded
//! into it while parsing, so counting cases counts tests. Text is sanitized once, here, when it
//! enters the model (control characters and ANSI escapes removed, capped at a byte budget on a
//! UTF-8 boundary), so no writer has to think about it again.

mod text;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use text::{clean_text, is_blank, trim, truncate_utf8};

/// The outcome of one test after its attempts are folded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum Status {
    Passed,
    /// An assertion failed: the test ran and its expectation was not met.
    Failed,
    /// The test could not run to an assertion: an unexpected exception, a setup error, a timeout.
    Errored,
    Skipped,
    /// Failed at least once, then passed. `attempts` counts every run, the passing one included.
    Flaky {
        attempts: u32,
    },
}

impl Status {
    /// Severity for picking the worst of several outcomes (a suite's, or a run's conclusion).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Errored)
    }

    /// The one-word name used in JSON outputs and CTRF.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Errored => "errored",
            Status::Skipped => "skipped",
            Status::Flaky { .. } => "flaky",
        }
    }
}

/// Where a test lives in the repository, as the report says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u32>,
}

/// One failure, error or skip reason as the report gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    pub message: Option<String>,
    /// The exception or assertion type (`type` attribute in JUnit).
    pub kind: Option<String>,
    pub trace: Option<String>,
}

impl Problem {
    pub fn is_empty(&self) -> bool {
        self.message.is_none() && self.kind.is_none() && self.trace.is_none()
    }
}

/// One test. What most tests lack (problems, earlier attempts, output, location, properties) lives
/// in one optional side allocation, so a passing test costs 72 bytes plus its name: a report of
/// 200,000 tests then holds less than twice its own size (issue 12).
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// The class, module or file that groups the test (`classname` in JUnit). Shared with the
    /// other tests of the class: [`Suite::push_case`] keeps one copy per run of equal names.
    pub classname: Option<Arc<str>>,
    pub status: Status,
    pub duration: Option<Duration>,
    details: Option<Box<CaseDetails>>,
}

/// The parts of a [`Case`] that most tests leave empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseDetails {
    /// The failures or errors of the final attempt; for a skipped test its reason.
    pub problems: Vec<Problem>,
    /// Failures of earlier attempts (Surefire `rerunFailure`/`flakyFailure`, pytest reruns).
    pub retries: Vec<Problem>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub location: Option<Location>,
    pub properties: Vec<(String, String)>,
}

static NO_DETAILS: CaseDetails = CaseDetails {
    problems: Vec::new(),
    retries: Vec::new(),
    stdout: None,
    stderr: None,
    location: None,
    properties: Vec::new(),
};

/// Equal when every part is: a case whose details were made and left empty equals one without.
impl PartialEq for Case {
    fn eq(&self, other: &Case) -> bool {
        self.name == other.name
            && self.classname == other.classname
            && self.status == other.status
            && self.duration == other.duration
            && self.details() == other.details()
    }
}

impl Case {
    pub fn new(name: String, status: Status) -> Case {
        Case {
            name,
            classname: None,
            status,
            duration: None,
            details: None,
        }
    }

    /// The side parts, empty for most tests.
    pub fn details(&self) -> &CaseDetails {
        self.details.as_deref().unwrap_or(&NO_DETAILS)
    }

    /// The side parts for writing; made on first use. Setting an absent part to `None` or empty
    /// through the `set_` methods instead does not make them.
    pub fn details_mut(&mut self) -> &mut CaseDetails {
        self.details.get_or_insert_with(Box::default)
    }

    /// Whether side parts were made (empty ones may have been).
    pub fn has_details(&self) -> bool {
        self.details.is_some()
    }

    /// Takes the side parts out, leaving the case without them.
    pub fn take_details(&mut self) -> CaseDetails {
        self.details.take().map(|d| *d).unwrap_or_default()
    }

    /// Replaces the side parts; empty ones take no allocation.
    pub fn set_details(&mut self, details: CaseDetails) {
        self.details = (details != NO_DETAILS).then(|| Box::new(details));
    }

    /// The failures or errors of the final attempt; for a skipped test its reason.
    pub fn problems(&self) -> &[Problem] {
        &self.details().problems
    }

    /// Failures of earlier attempts (Surefire `rerunFailure`/`flakyFailure`, pytest reruns).
    pub fn retries(&self) -> &[Problem] {
        &self.details().retries
    }

    pub fn stdout(&self) -> Option<&str> {
        self.details().stdout.as_deref()
    }

    pub fn stderr(&self) -> Option<&str> {
        self.details().stderr.as_deref()
    }

    pub fn location(&self) -> Option<&Location> {
        self.details().location.as_ref()
    }

    pub fn properties(&self) -> &[(String, String)] {
        &self.details().properties
    }

    pub fn set_problems(&mut self, problems: Vec<Problem>) {
        let empty = problems.is_empty();
        self.set_part(problems, empty, |d| &mut d.problems);
    }

    pub fn set_retries(&mut self, retries: Vec<Problem>) {
        let empty = retries.is_empty();
        self.set_part(retries, empty, |d| &mut d.retries);
    }

    pub fn set_stdout(&mut self, stdout: Option<String>) {
        let empty = stdout.is_none();
        self.set_part(stdout, empty, |d| &mut d.stdout);
    }

    pub fn set_stderr(&mut self, stderr: Option<String>) {
        let empty = stderr.is_none();
        self.set_part(stderr, empty, |d| &mut d.stderr);
    }

    pub fn set_location(&mut self, location: Option<Location>) {
        let empty = location.is_none();
        self.set_part(location, empty, |d| &mut d.location);
    }

    /// Sets one side part; an empty value on a case without side parts makes none.
    fn set_part<T>(&mut self, value: T, empty: bool, part: fn(&mut CaseDetails) -> &mut T) {
        if !empty || self.details.is_some() {
            *part(self.details_mut()) = value;
        }
    }

    /// The first message worth showing a person: the failure's message, else its type, else the
    /// first line of its trace.
    pub fn headline(&self) -> Option<&str> {
        let p = self.problems().first()?;
        p.message
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .or(p.kind.as_deref())
            .or_else(|| {
                p.trace
                    .as_deref()
                    .and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
            })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suite {
    /// Names of the enclosing suites and this one, outermost first, joined by " › ".
    pub name: String,
    pub cases: Vec<Case>,
    pub duration: Option<Duration>,
    pub timestamp: Option<String>,
    pub properties: Vec<(String, String)>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

impl Suite {
    /// Adds a case. Its classname becomes the previous case's when they are equal (the tests of
    /// one class come together), and its side parts give back unused capacity: what a large
    /// report holds per test is what decides its peak memory.
    pub fn push_case(&mut self, mut case: Case) {
        if let (Some(previous), Some(classname)) = (
            self.cases.last().and_then(|c| c.classname.as_ref()),
            case.classname.as_mut(),
        ) {
            // Already shared (the readers share what they can) or equal: one copy either way.
            if !Arc::ptr_eq(previous, classname) && previous == classname {
                *classname = Arc::clone(previous);
            }
        }
        if let Some(details) = case.details.as_deref_mut() {
            details.problems.shrink_to_fit();
            details.retries.shrink_to_fit();
            details.properties.shrink_to_fit();
        }
        self.cases.push(case);
    }
}

/// Positions of named items, found by name. The name found or added last is compared before the
/// name is hashed: consecutive lookups nearly always repeat it (a suite's cases, a test's events).
#[derive(Debug, Default)]
pub struct NameIndex {
    index: HashMap<String, usize>,
    last: Option<(String, usize)>,
}

impl NameIndex {
    /// The position of the item named `name`; for a name not seen yet, what `add` answers, the
    /// position where it put a new item of that name.
    pub fn find_or_add(&mut self, name: &str, add: impl FnOnce() -> usize) -> usize {
        if let Some((last, i)) = &self.last {
            if last == name {
                return *i;
            }
        }
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                let i = add();
                self.index.insert(name.to_owned(), i);
                i
            }
        };
        let (last, at) = self.last.get_or_insert_with(Default::default);
        last.clear();
        last.push_str(name);
        *at = i;
        i
    }
}

/// Suites named as their cases arrive, in any order: each case joins the suite of its name, and
/// the suites keep the order they were first named in. Found through an index, not by comparing
/// the name with every suite so far: that search made reports of thousands of suites quadratic
/// (a 169,000-test Mocha report of 845 files spent more in it than in reading the JSON).
#[derive(Debug, Default)]
pub struct SuitesByName {
    suites: Vec<Suite>,
    names: NameIndex,
}

impl SuitesByName {
    /// Adds `case` to the suite named `name`, made when it is the first of that name.
    pub fn push(&mut self, name: &str, case: Case) {
        let suites = &mut self.suites;
        let i = self.names.find_or_add(name, || {
            suites.push(Suite {
                name: name.to_owned(),
                ..Suite::default()
            });
            suites.len() - 1
        });
        if let Some(suite) = self.suites.get_mut(i) {
            suite.push_case(case);
        }
    }

    /// The suites, in the order their names first came.
    pub fn into_suites(self) -> Vec<Suite> {
        self.suites
    }
}

/// Everything one report file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestRun {
    pub name: Option<String>,
    pub suites: Vec<Suite>,
    /// The run's own wall time when the report states it; otherwise derived in [`TestRun::duration`].
    pub declared_duration: Option<Duration>,
}

impl TestRun {
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        self.suites.iter().flat_map(|s| s.cases.iter())
    }

    /// Wall time: the declared run time, else the sum of suite times, else of case times.
    /// Suite times are preferred over case sums because they include setup and teardown.
    pub fn duration(&self) -> Duration {
        if let Some(d) = self.declared_duration {
            return d;
        }
        self.suites
            .iter()
            .map(|s| {
                s.duration
                    .unwrap_or_else(|| s.cases.iter().filter_map(|c| c.duration).sum())
            })
            .sum()
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for case in self.cases() {
            t.add(case.status);
        }
        t.duration_ms = millis(self.duration());
        t
    }
}

/// Counts by status. `tests` counts each test once, whatever its number of attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
    pub flaky: u64,
    pub duration_ms: u64,
}

impl Totals {
    pub fn add(&mut self, status: Status) {
        self.tests += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Errored => self.errored += 1,
            Status::Skipped => self.skipped += 1,
            Status::Flaky { .. } => self.flaky += 1,
        }
    }

    pub fn merge(&mut self, other: &Totals) {
        self.tests += other.tests;
        self.passed += other.passed;
        self.failed += other.failed;
        self.errored += other.errored;
        self.skipped += other.skipped;
        self.flaky += other.flaky;
        self.duration_ms += other.duration_ms;
    }

    pub fn has_failures(&self) -> bool {
        self.failed + self.errored > 0
    }
}

/// Milliseconds, saturating: a report that claims 10^20 seconds must not wrap.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_by_name_group_cases_in_the_order_names_first_came() {
        let mut suites = SuitesByName::default();
        // Runs of one name (the last suite, found without the index) and returns to earlier names.
        let pushed = [
            ("b", "1"),
            ("b", "1b"),
            ("a", "2"),
            ("b", "3"),
            ("c", "4"),
            ("a", "5"),
            ("a", "6"),
        ];
        for (suite, test) in pushed {
            suites.push(suite, Case::new(test.into(), Status::Passed));
        }
        let got: Vec<(String, Vec<String>)> = suites
            .into_suites()
            .into_iter()
            .map(|s| (s.name, s.cases.into_iter().map(|c| c.name).collect()))
            .collect();
        let want = [
            ("b", &["1", "1b", "3"][..]),
            ("a", &["2", "5", "6"]),
            ("c", &["4"]),
        ];
        let want: Vec<(String, Vec<String>)> = want
            .iter()
            .map(|(s, cases)| (s.to_string(), cases.iter().map(|c| c.to_string()).collect()))
            .collect();
        assert_eq!(got, want);
    }

    /// What every test costs decides the peak memory of a large report (issue 12).
    #[test]
    fn a_passing_case_is_small_and_shares_its_classname() {
        assert!(std::mem::size_of::<Case>() <= 72);
        let mut suite = Suite::default();
        for name in ["a", "b"] {
            let mut case = Case::new(name.into(), Status::Passed);
            case.classname = Some("com.acme.Cart".into());
            suite.push_case(case);
        }
        let shared: Vec<&Arc<str>> = suite.cases.iter().flat_map(|c| &c.classname).collect();
        assert!(Arc::ptr_eq(shared[0], shared[1]));
    }

    #[test]
    fn details_made_and_left_empty_change_nothing() {
        let plain = Case::new("a".into(), Status::Passed);
        let mut touched = plain.clone();
        touched.details_mut().properties.clear();
        assert_eq!(touched, plain);
        touched.set_stdout(None);
        touched.set_details(touched.details().clone());
        assert_eq!(touched, plain);
    }
}

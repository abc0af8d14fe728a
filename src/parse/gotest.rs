//! Go's `go test -json` event stream (test2json), read one line at a time.
//!
//! Rules, as `go test` and gotestsum count:
//! - One case per package and `Test` name; a subtest is its own case named `Parent/Sub`, and its
//!   parent is a case too (a parent whose subtest fails fails itself, as Go reports it).
//! - `pass` → passed, `fail` → failed, `skip` → skipped with the `t.Skip` message as reason.
//!   A failed test whose output holds a `panic:` line (a panic, `test timed out`) is errored.
//! - A test that started (`run`) but never reported a result is errored: the test binary died
//!   while it ran (a panic in another goroutine, `os.Exit`, a timeout).
//! - The same test run again in one stream (`-count`, gotestsum `--rerun-fails`) folds into one
//!   case: failed then passed is flaky; otherwise the last run decides.
//! - A package that fails with no failing test of its own (build failure: `FailedBuild`,
//!   `build-fail` events or a plain-text `FAIL pkg [build failed]` line; `TestMain`, `init`,
//!   a panic after the tests) counts one errored case named [`PACKAGE_CASE`] with the package
//!   output as its trace.
//! - `pause`/`cont` (parallel tests interleaving) change nothing: events are keyed by test name.
//! - `Elapsed` is in seconds. Output is kept only for tests that did not pass, capped.
//!   Plain-text lines (compiler output mixed in with `2>&1`) are kept for a build failure.

use std::io::BufRead;
use std::time::Duration;

use serde_json::Value;

use super::json::{self, Field, Lines, RawLine};
use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES};
use super::source::Source;
use super::xml::Text;
use super::{ParseError, ParseErrorKind, Parsed};
use crate::model::{clean_text, Case, Location, NameIndex, Problem, Status, Suite, TestRun};

/// Whether a prefix that does not start as JSON is a `go test -json 2>&1` stream: compiler output
/// of a package that does not build comes first, JSON events follow.
pub fn starts_mixed_stream(prefix: &[u8]) -> bool {
    prefix
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| l.starts_with(b"{"))
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .any(|v| v.get("Action").is_some())
}

/// Name of the case counted for a package that failed outside any test.
pub const PACKAGE_CASE: &str = "(package)";

const WHAT: &str = "the go test -json stream";

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let mut lines = Lines::new(source);
    let mut stream = Stream::default();
    while let Some(line) = lines.next_raw()? {
        match line {
            RawLine::Json { text, line } => match serde_json::from_str::<Event>(text) {
                Ok(event) => stream.event(&event),
                // What the typed event refuses (a repeated key) is read as a `Value` is read.
                Err(_) => stream.event(&Event::of(&json::value_of_line(text, line, WHAT)?)),
            },
            RawLine::Text(text) => stream.text_line(text),
        }
    }
    if stream.events == 0 {
        return Err(ParseError {
            kind: ParseErrorKind::Unsupported,
            line: None,
            message: "no go test -json events (objects with an \"Action\") found".into(),
        });
    }
    Ok(stream.finish())
}

/// One test2json event, its strings borrowed from the line: a `Value` per line allocated every
/// key and string of every event, two thirds of reading a stream. Fields are as lenient as the
/// `Value` helpers (see [`Field`]); keys Go does not write are skipped.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Event<'a> {
    #[serde(rename = "Action", borrow)]
    action: Field<'a>,
    #[serde(rename = "Package", borrow)]
    package: Field<'a>,
    /// Go 1.24's build events name their package here.
    #[serde(rename = "ImportPath", borrow)]
    import_path: Field<'a>,
    #[serde(rename = "Test", borrow)]
    test: Field<'a>,
    #[serde(rename = "Output", borrow)]
    output: Field<'a>,
    #[serde(rename = "Elapsed", borrow)]
    elapsed: Field<'a>,
    #[serde(rename = "FailedBuild")]
    failed_build: Present,
}

impl<'a> Event<'a> {
    /// An event read as a `Value` (a line the typed reading refused).
    fn of(v: &'a Value) -> Event<'a> {
        let field = |key| v.get(key).map(Field::of).unwrap_or_default();
        Event {
            action: field("Action"),
            package: field("Package"),
            import_path: field("ImportPath"),
            test: field("Test"),
            output: field("Output"),
            elapsed: field("Elapsed"),
            failed_build: Present(v.get("FailedBuild").is_some()),
        }
    }
}

/// Whether a key is there, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}

#[derive(Default)]
struct Attempt {
    output: Option<Text>,
}

struct Test {
    name: String,
    running: Option<Attempt>,
    passes: u32,
    fails: u32,
    last: Option<Status>,
    duration: Option<Duration>,
    problems: Vec<Problem>,
    retries: Vec<Problem>,
    stdout: Option<String>,
    location: Option<Location>,
}

struct Package {
    name: String,
    tests: Vec<Test>,
    /// Tests by their name as the stream spells it (a case's name is cleaned).
    names: NameIndex,
    output: Text,
    failed: bool,
    build_failed: bool,
    elapsed: Option<Duration>,
}

#[derive(Default)]
struct Stream {
    events: u64,
    packages: Vec<Package>,
    names: NameIndex,
    /// Plain-text lines since the last package result: compiler errors of a failing build.
    stray: Option<Text>,
}

impl Package {
    fn new(name: &str) -> Package {
        Package {
            name: name.to_owned(),
            tests: Vec::new(),
            names: NameIndex::default(),
            output: Text::with_cap(MAX_OUTPUT_BYTES),
            failed: false,
            build_failed: false,
            elapsed: None,
        }
    }

    fn test(&mut self, name: &str) -> &mut Test {
        let tests = &mut self.tests;
        let i = self.names.find_or_add(name, || {
            tests.push(Test {
                name: clean_text(name),
                running: None,
                passes: 0,
                fails: 0,
                last: None,
                duration: None,
                problems: Vec::new(),
                retries: Vec::new(),
                stdout: None,
                location: None,
            });
            tests.len() - 1
        });
        &mut self.tests[i]
    }
}

/// test2json's own framing lines, which say nothing a person needs in a failure's output.
fn is_framing(line: &str) -> bool {
    let t = line.trim_start();
    [
        "=== RUN",
        "=== PAUSE",
        "=== CONT",
        "=== NAME",
        "--- PASS",
        "--- FAIL",
        "--- SKIP",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

/// `    file_test.go:12: message` → (file, line, message).
fn log_line(line: &str) -> Option<(&str, u32, &str)> {
    let t = line.trim_start();
    let (place, message) = t.split_once(": ")?;
    let (file, number) = place.rsplit_once(':')?;
    if !file.ends_with(".go") || file.contains(' ') {
        return None;
    }
    Some((file, number.parse().ok()?, message))
}

impl Stream {
    fn package(&mut self, name: &str) -> &mut Package {
        let packages = &mut self.packages;
        let i = self.names.find_or_add(name, || {
            packages.push(Package::new(name));
            packages.len() - 1
        });
        &mut self.packages[i]
    }

    fn text_line(&mut self, line: &str) {
        // `go test -json` prints build failures as plain text before Go 1.24.
        if let Some(rest) = line.strip_prefix("FAIL") {
            let rest = rest.trim();
            for marker in ["[build failed]", "[setup failed]"] {
                if let Some(pkg) = rest.strip_suffix(marker) {
                    let stray = self.stray.take();
                    let package = self.package(pkg.trim());
                    package.failed = true;
                    package.build_failed = true;
                    if let Some(text) = stray.and_then(Text::finish) {
                        package.output.push(&text);
                        package.output.push("\n");
                    }
                    package.output.push(line);
                    package.output.push("\n");
                    return;
                }
            }
        }
        let stray = self
            .stray
            .get_or_insert_with(|| Text::with_cap(MAX_OUTPUT_BYTES));
        stray.push(line);
        stray.push("\n");
    }

    fn event(&mut self, event: &Event) {
        let Some(action) = event.action.str() else {
            return;
        };
        self.events += 1;
        // Go 1.24 build events name the package `pkg [pkg.test]`; it is the same package.
        let package = event
            .package
            .str()
            .or_else(|| {
                let path = event.import_path.str()?;
                Some(path.split(" [").next().unwrap_or(path))
            })
            .unwrap_or_default();
        let output = match &event.output {
            Field::Str(output) => output,
            _ => "",
        };
        let Some(test) = event.test.str() else {
            let pkg = self.package(package);
            match action {
                "output" | "build-output" => pkg.output.push(output),
                "fail" | "build-fail" => {
                    pkg.failed = true;
                    pkg.build_failed |= action == "build-fail" || event.failed_build.0;
                    pkg.elapsed = event.elapsed.seconds().or(pkg.elapsed);
                }
                "pass" | "skip" => pkg.elapsed = event.elapsed.seconds(),
                _ => {}
            }
            return;
        };
        let test = self.package(package).test(test);
        match action {
            "run" => test.running = Some(Attempt::default()),
            "output" => {
                // Output after a test's result (rare) belongs to no attempt and is dropped.
                if let (false, Some(attempt)) = (is_framing(output), test.running.as_mut()) {
                    attempt
                        .output
                        .get_or_insert_with(|| Text::with_cap(MAX_OUTPUT_BYTES))
                        .push(output);
                }
            }
            "pass" | "fail" | "skip" => test.finish(action, event.elapsed.seconds()),
            _ => {}
        }
    }

    fn finish(self) -> Parsed {
        let mut suites = Vec::new();
        for package in self.packages {
            let output = package.output.finish();
            let mut cases: Vec<Case> = package
                .tests
                .into_iter()
                .map(|t| t.into_case(output.as_deref()))
                .collect();
            let any_failed = cases.iter().any(|c| c.status.is_failure());
            if package.failed && !any_failed {
                let mut case = Case::new(PACKAGE_CASE.to_owned(), Status::Errored);
                case.duration = package.elapsed;
                let message = if package.build_failed {
                    "build failed: the package did not compile, no test ran"
                } else {
                    "the package failed outside any test (TestMain, init, or the test binary exited)"
                };
                case.details_mut().problems.push(Problem {
                    message: Some(message.into()),
                    kind: None,
                    trace: output.clone(),
                });
                case.set_stdout(output);
                cases.push(case);
            }
            if cases.is_empty() {
                continue;
            }
            // collect() reused the larger test builders' buffer: keep only what the cases need.
            cases.shrink_to_fit();
            suites.push(Suite {
                name: package.name,
                cases,
                duration: package.elapsed,
                ..Suite::default()
            });
        }
        Parsed {
            runs: vec![TestRun {
                name: None,
                suites,
                declared_duration: None,
            }],
            diagnostics: Vec::new(),
        }
    }
}

impl Test {
    fn finish(&mut self, action: &str, elapsed: Option<Duration>) {
        let output = self
            .running
            .take()
            .and_then(|a| a.output)
            .and_then(Text::finish);
        let mut status = match action {
            "pass" => Status::Passed,
            "skip" => Status::Skipped,
            _ => Status::Failed,
        };
        let panicked = output.as_deref().and_then(|o| {
            o.lines()
                .map(str::trim_start)
                .find(|l| l.starts_with("panic: "))
        });
        if status == Status::Failed && panicked.is_some() {
            status = Status::Errored;
        }
        self.duration = match (self.duration, elapsed) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        match status {
            Status::Passed => self.passes += 1,
            Status::Failed | Status::Errored => self.fails += 1,
            _ => {}
        }
        let logged = output.as_deref().and_then(|o| o.lines().find_map(log_line));
        if let Some((file, line, _)) = logged {
            self.location = Some(Location {
                file: file.to_owned(),
                line: Some(line),
            });
        }
        if status != Status::Passed {
            let message = panicked
                .map(|p| p.to_owned())
                .or_else(|| logged.map(|(_, _, m)| m.to_owned()))
                .and_then(|m| json::text(&m, MAX_MESSAGE_BYTES));
            let problem = Problem {
                message,
                kind: panicked.map(|_| "panic".to_owned()),
                trace: if status == Status::Skipped {
                    None
                } else {
                    output.clone()
                },
            };
            // Earlier failures become retries; the last result's problem is the current one.
            self.retries.append(&mut self.problems);
            self.problems.push(problem);
            self.stdout = output;
        }
        self.last = Some(status);
    }

    fn into_case(mut self, package_output: Option<&str>) -> Case {
        if self.running.is_some() {
            // Started, never finished: the binary died under it.
            let output = self
                .running
                .take()
                .and_then(|a| a.output)
                .and_then(Text::finish);
            self.retries.append(&mut self.problems);
            self.problems.push(Problem {
                message: Some(
                    "no result: the test binary exited while this test ran (a panic, os.Exit or a timeout)"
                        .into(),
                ),
                kind: None,
                trace: package_output.map(str::to_owned),
            });
            self.stdout = output;
            self.fails += 1;
            self.last = Some(Status::Errored);
        }
        let last = self.last.unwrap_or(Status::Errored);
        let status = if self.passes > 0 && self.fails > 0 {
            Status::Flaky {
                attempts: self.passes + self.fails,
            }
        } else {
            last
        };
        let mut case = Case::new(self.name, status);
        case.duration = self.duration;
        case.set_location(self.location);
        match status {
            Status::Passed => {}
            Status::Flaky { .. } => {
                self.retries.append(&mut self.problems);
                case.set_retries(self.retries);
            }
            _ => {
                case.set_problems(self.problems);
                case.set_retries(self.retries);
                case.set_stdout(self.stdout);
            }
        }
        case
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> TestRun {
        let mut parsed = parse(Source::new(s.as_bytes())).unwrap();
        parsed.runs.remove(0)
    }

    fn statuses(run: &TestRun) -> Vec<(String, &'static str)> {
        run.cases()
            .map(|c| (c.name.clone(), c.status.as_str()))
            .collect()
    }

    #[test]
    fn interleaved_parallel_subtests_keep_their_own_output() {
        let run = parse_str(concat!(
            r#"{"Action":"run","Package":"p","Test":"TestA"}"#,
            "\n",
            r#"{"Action":"run","Package":"p","Test":"TestA/x"}"#,
            "\n",
            r#"{"Action":"pause","Package":"p","Test":"TestA/x"}"#,
            "\n",
            r#"{"Action":"run","Package":"p","Test":"TestA/y"}"#,
            "\n",
            r#"{"Action":"output","Package":"p","Test":"TestA/y","Output":"    a_test.go:9: y is wrong\n"}"#,
            "\n",
            r#"{"Action":"cont","Package":"p","Test":"TestA/x"}"#,
            "\n",
            r#"{"Action":"output","Package":"p","Test":"TestA/x","Output":"    a_test.go:5: x log\n"}"#,
            "\n",
            r#"{"Action":"fail","Package":"p","Test":"TestA/y","Elapsed":0.5}"#,
            "\n",
            r#"{"Action":"pass","Package":"p","Test":"TestA/x","Elapsed":0.25}"#,
            "\n",
            r#"{"Action":"fail","Package":"p","Test":"TestA","Elapsed":1}"#,
            "\n",
            r#"{"Action":"fail","Package":"p","Elapsed":1.5}"#,
            "\n",
        ));
        assert_eq!(
            statuses(&run),
            vec![
                ("TestA".into(), "failed"),
                ("TestA/x".into(), "passed"),
                ("TestA/y".into(), "failed")
            ]
        );
        let y = run.cases().nth(2).unwrap();
        assert_eq!(y.headline(), Some("y is wrong"));
        assert_eq!(y.location().map(|l| l.line), Some(Some(9)));
        assert_eq!(y.duration, Some(Duration::from_millis(500)));
        assert!(
            run.cases().nth(1).unwrap().stdout().is_none(),
            "passing output dropped"
        );
    }

    #[test]
    fn build_failure_in_plain_text_is_one_errored_case() {
        let run = parse_str(concat!(
            "# example.com/broken\n",
            "./x.go:3:1: syntax error: non-declaration statement outside function body\n",
            "FAIL\texample.com/broken [build failed]\n",
            r#"{"Action":"start","Package":"example.com/ok"}"#,
            "\n",
            r#"{"Action":"skip","Package":"example.com/ok","Elapsed":0}"#,
            "\n",
        ));
        assert_eq!(statuses(&run), vec![(PACKAGE_CASE.into(), "errored")]);
        let case = run.cases().next().unwrap();
        assert!(case.problems()[0]
            .trace
            .as_deref()
            .is_some_and(|t| t.contains("syntax error")));
    }

    #[test]
    fn json_build_failure_and_panic_and_unfinished_test() {
        let run = parse_str(concat!(
            r#"{"ImportPath":"b [b.test]","Action":"build-output","Output":"b.go:1: undefined: x\n"}"#,
            "\n",
            r#"{"ImportPath":"b [b.test]","Action":"build-fail"}"#,
            "\n",
            r#"{"Action":"fail","Package":"b","Elapsed":0,"FailedBuild":"b [b.test]"}"#,
            "\n",
            r#"{"Action":"run","Package":"p","Test":"TestPanic"}"#,
            "\n",
            r#"{"Action":"output","Package":"p","Test":"TestPanic","Output":"panic: boom [recovered]\n"}"#,
            "\n",
            r#"{"Action":"fail","Package":"p","Test":"TestPanic","Elapsed":0}"#,
            "\n",
            r#"{"Action":"run","Package":"p","Test":"TestOther"}"#,
            "\n",
            r#"{"Action":"fail","Package":"p","Elapsed":0.1}"#,
            "\n",
        ));
        assert_eq!(
            statuses(&run),
            vec![
                (PACKAGE_CASE.into(), "errored"),
                ("TestPanic".into(), "errored"),
                ("TestOther".into(), "errored")
            ]
        );
    }

    #[test]
    fn rerun_that_passes_is_flaky() {
        let run = parse_str(concat!(
            r#"{"Action":"run","Package":"p","Test":"TestF"}"#,
            "\n",
            r#"{"Action":"output","Package":"p","Test":"TestF","Output":"    f_test.go:3: flake\n"}"#,
            "\n",
            r#"{"Action":"fail","Package":"p","Test":"TestF","Elapsed":0.1}"#,
            "\n",
            r#"{"Action":"run","Package":"p","Test":"TestF"}"#,
            "\n",
            r#"{"Action":"pass","Package":"p","Test":"TestF","Elapsed":0.1}"#,
            "\n",
        ));
        let case = run.cases().next().unwrap();
        assert_eq!(case.status, Status::Flaky { attempts: 2 });
        assert_eq!(case.retries()[0].message.as_deref(), Some("flake"));
    }

    #[test]
    fn a_cut_line_is_an_error_with_its_line_number() {
        let err = parse(Source::new(
            &b"{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"T\"}\n{\"Action\":\"pa"[..],
        ))
        .unwrap_err();
        assert_eq!((err.kind, err.line), (ParseErrorKind::Syntax, Some(2)));
    }

    #[test]
    fn odd_events_read_as_leniently_as_json_values() {
        // A repeated key (the last one counts), values of other types than Go writes (ignored),
        // a `null` FailedBuild (still there), escapes in borrowed strings.
        let run = parse_str(concat!(
            r#"{"Action":"run","Package":"p","Test":"TestA"}"#,
            "\n",
            r#"{"Action":"output","Action":"fail","Package":"p","Test":"TestA","Elapsed":"0.5"}"#,
            "\n",
            r#"{"Action":"pass","Package":"p","Test":7,"Output":{"x":1},"Elapsed":[1]}"#,
            "\n",
            r#"{"Action":"run","Package":"q\u00e9","Test":"TestB\t"}"#,
            "\n",
            r#"{"Action":"fail","Package":"qé","Test":"TestB\t","Elapsed":1}"#,
            "\n",
            r#"{"Action":"fail","Package":"r","Elapsed":0,"FailedBuild":null}"#,
            "\n",
        ));
        assert_eq!(
            statuses(&run),
            [
                ("TestA".to_owned(), "failed"),
                ("TestB\t".to_owned(), "failed"),
                (PACKAGE_CASE.to_owned(), "errored")
            ]
        );
        let cases: Vec<&Case> = run.cases().collect();
        assert_eq!(cases[0].duration, Some(Duration::from_millis(500)));
        assert_eq!(run.suites[1].name, "qé");
        assert_eq!(
            cases[2].problems()[0].message.as_deref(),
            Some("build failed: the package did not compile, no test ran")
        );
    }
}

//! Dart and Flutter `--reporter json` / `--file-reporter json:…`: a JSON Lines event stream.
//!
//! Rules, as `dart test` / `flutter test` count ("+N ~S -F"):
//! - Each `testStart` with its `testDone` is one case; its suite is the `suite` event's `path`,
//!   its class the innermost named `group`, its location `root_url`/`root_line` when given (the
//!   test's own file), else `url`/`line`. Duration: `testDone.time` − `testStart.time`, in ms.
//! - `testDone.result`: `success` → passed, `failure` (a `TestFailure`) → failed, `error` (any
//!   other exception) → errored; `skipped: true` → skipped with `metadata.skipReason`.
//! - `hidden: true` entries (`loading file.dart`, `(setUpAll)`, `(tearDownAll)`) are not tests and
//!   count only when they did not succeed: a file that fails to load is one errored case.
//! - `error` events give the problems (message and stack trace), `print` events the output; both
//!   kept only for tests that did not pass. A test with no `testDone` (the runner died) is errored.

use std::collections::HashMap;
use std::io::BufRead;
use std::time::Duration;

use serde_json::Value;

use super::json::{self, Lines, RawLine};
use super::junit::{MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES, MAX_TRACE_BYTES};
use super::source::Source;
use super::xml::Text;
use super::{ParseError, ParseErrorKind, Parsed};
use crate::model::{Case, Location, Problem, Status, Suite, TestRun};

const WHAT: &str = "the Dart JSON event stream";

struct Running {
    case: Case,
    suite: u64,
    hidden: bool,
    start_ms: Option<f64>,
    output: Option<Text>,
}

#[derive(Default)]
struct Stream {
    events: u64,
    suites: Vec<(u64, Suite)>,
    groups: HashMap<u64, String>,
    running: HashMap<u64, Running>,
    /// Order of testStart, so tests still running at the end come out in order.
    order: Vec<u64>,
    end_ms: Option<f64>,
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let mut lines = Lines::new(source);
    let mut stream = Stream::default();
    while let Some(line) = lines.next_raw()? {
        // Plain-text lines (a tool's own output mixed in) are not events.
        if let RawLine::Json { text, line } = line {
            stream.event(&json::value_of_line(text, line, WHAT)?);
        }
    }
    if stream.events == 0 {
        return Err(ParseError {
            kind: ParseErrorKind::Unsupported,
            line: None,
            message: "no Dart test events (objects with a \"type\") found".into(),
        });
    }
    Ok(stream.finish())
}

fn id(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// `file:///C:/a%20b/x_test.dart` → `C:/a b/x_test.dart`; other URLs stay as written.
fn file_path(url: &str) -> String {
    let Some(path) = url.strip_prefix("file://") else {
        return url.to_owned();
    };
    let bytes = path.as_bytes();
    // Windows: `/C:/…` has no leading slash as a path.
    let path = match bytes {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() => &path[1..],
        _ => path,
    };
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    let raw = path.as_bytes();
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

impl Stream {
    fn suite(&mut self, id: u64) -> &mut Suite {
        let i = match self.suites.iter().position(|(s, _)| *s == id) {
            Some(i) => i,
            None => {
                self.suites.push((id, Suite::default()));
                self.suites.len() - 1
            }
        };
        &mut self.suites[i].1
    }

    fn event(&mut self, v: &Value) {
        let Some(kind) = json::str_of(v, "type") else {
            return;
        };
        self.events += 1;
        let time = v.get("time").and_then(Value::as_f64);
        match kind {
            "suite" => {
                let s = &v["suite"];
                if let Some(sid) = id(s, "id") {
                    let path = json::str_of(s, "path").unwrap_or_default().to_owned();
                    self.suite(sid).name = path;
                }
            }
            "group" => {
                let g = &v["group"];
                if let (Some(gid), Some(name)) = (id(g, "id"), json::str_of(g, "name")) {
                    self.groups.insert(gid, name.to_owned());
                }
            }
            "testStart" => self.start(&v["test"], time),
            "print" => {
                if let Some(t) = id(v, "testID").and_then(|t| self.running.get_mut(&t)) {
                    let out = t
                        .output
                        .get_or_insert_with(|| Text::with_cap(MAX_OUTPUT_BYTES));
                    out.push(v.get("message").and_then(Value::as_str).unwrap_or_default());
                    out.push("\n");
                }
            }
            "error" => {
                if let Some(t) = id(v, "testID").and_then(|t| self.running.get_mut(&t)) {
                    t.case.details_mut().problems.push(Problem {
                        message: json::text_of(v, "error", MAX_MESSAGE_BYTES),
                        kind: None,
                        trace: json::text_of(v, "stackTrace", MAX_TRACE_BYTES),
                    });
                }
            }
            "testDone" => {
                if let Some(t) = id(v, "testID").and_then(|t| self.running.remove(&t)) {
                    let status = if v.get("skipped") == Some(&Value::Bool(true)) {
                        Status::Skipped
                    } else {
                        match json::str_of(v, "result") {
                            Some("success") => Status::Passed,
                            Some("failure") => Status::Failed,
                            _ => Status::Errored,
                        }
                    };
                    let hidden = t.hidden || v.get("hidden") == Some(&Value::Bool(true));
                    self.done(t, status, hidden, time);
                }
            }
            "done" => self.end_ms = time,
            _ => {}
        }
    }

    fn start(&mut self, test: &Value, time: Option<f64>) {
        let Some(tid) = id(test, "id") else {
            return;
        };
        let name = json::text_of(test, "name", MAX_MESSAGE_BYTES)
            .unwrap_or_else(|| super::junit::UNNAMED_TEST.to_owned());
        let mut case = Case::new(name, Status::Passed);
        case.classname = test
            .get("groupIDs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .rev()
            .filter_map(|g| g.as_u64().and_then(|g| self.groups.get(&g)))
            .find(|n| !n.is_empty())
            .map(|n| n.as_str().into());
        let (url, line) = match json::str_of(test, "root_url") {
            Some(u) => (Some(u), json::line_of(test, "root_line")),
            None => (json::str_of(test, "url"), json::line_of(test, "line")),
        };
        case.set_location(url.map(|u| Location {
            file: file_path(u),
            line,
        }));
        let metadata = &test["metadata"];
        if metadata.get("skip") == Some(&Value::Bool(true)) {
            case.details_mut().problems.push(Problem {
                message: json::text_of(metadata, "skipReason", MAX_MESSAGE_BYTES)
                    .or_else(|| Some("skipped".into())),
                ..Problem::default()
            });
        }
        let suite = id(test, "suiteID").unwrap_or_default();
        self.order.push(tid);
        self.running.insert(
            tid,
            Running {
                case,
                suite,
                hidden: false,
                start_ms: time,
                output: None,
            },
        );
    }

    fn done(&mut self, t: Running, status: Status, hidden: bool, time: Option<f64>) {
        if hidden && status == Status::Passed {
            return;
        }
        let mut case = t.case;
        case.status = status;
        if let (Some(a), Some(b)) = (t.start_ms, time) {
            case.duration = Duration::try_from_secs_f64((b - a) / 1000.0).ok();
        }
        match status {
            Status::Passed => case.set_problems(Vec::new()),
            Status::Skipped => {
                let mut details = case.take_details();
                details.problems.retain(|p| p.trace.is_none());
                case.set_details(details);
            }
            _ => case.set_stdout(t.output.and_then(Text::finish)),
        }
        if status == Status::Skipped && case.problems().is_empty() {
            case.details_mut().problems.push(Problem {
                message: Some("skipped".into()),
                ..Problem::default()
            });
        }
        self.suite(t.suite).push_case(case);
    }

    fn finish(mut self) -> Parsed {
        for tid in std::mem::take(&mut self.order) {
            if let Some(mut t) = self.running.remove(&tid) {
                t.case.details_mut().problems.push(Problem {
                    message: Some("no result: the test runner stopped while this test ran".into()),
                    ..Problem::default()
                });
                self.done(t, Status::Errored, false, None);
            }
        }
        let suites: Vec<Suite> = self
            .suites
            .into_iter()
            .map(|(_, s)| s)
            .filter(|s| !s.cases.is_empty())
            .collect();
        Parsed {
            runs: vec![TestRun {
                name: None,
                suites,
                declared_duration: self
                    .end_ms
                    .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok()),
            }],
            diagnostics: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_tests_count_only_when_they_fail() {
        let stream = concat!(
            r#"{"protocolVersion":"0.1.1","type":"start","time":0}"#,
            "\n",
            r#"{"suite":{"id":0,"platform":"vm","path":"test/a_test.dart"},"type":"suite","time":0}"#,
            "\n",
            r#"{"test":{"id":1,"name":"loading test/a_test.dart","suiteID":0,"groupIDs":[],"metadata":{"skip":false}},"type":"testStart","time":0}"#,
            "\n",
            r#"{"testID":1,"result":"success","skipped":false,"hidden":true,"type":"testDone","time":10}"#,
            "\n",
            r#"{"suite":{"id":2,"platform":"vm","path":"test/b_test.dart"},"type":"suite","time":0}"#,
            "\n",
            r#"{"test":{"id":3,"name":"loading test/b_test.dart","suiteID":2,"groupIDs":[],"metadata":{"skip":false}},"type":"testStart","time":0}"#,
            "\n",
            r#"{"testID":3,"error":"Compilation failed","stackTrace":"","isFailure":false,"type":"error","time":5}"#,
            "\n",
            r#"{"testID":3,"result":"error","skipped":false,"hidden":true,"type":"testDone","time":12}"#,
            "\n",
            r#"{"group":{"id":4,"suiteID":0,"name":"Ünïcode","metadata":{}},"type":"group","time":1}"#,
            "\n",
            r#"{"test":{"id":5,"name":"Ünïcode skips","suiteID":0,"groupIDs":[4],"metadata":{"skip":true,"skipReason":"later"},"line":3,"url":"file:///p/test/a_test.dart"},"type":"testStart","time":20}"#,
            "\n",
            r#"{"testID":5,"result":"success","skipped":true,"hidden":false,"type":"testDone","time":21}"#,
            "\n",
            r#"{"test":{"id":6,"name":"Ünïcode fails","suiteID":0,"groupIDs":[4],"metadata":{"skip":false}},"type":"testStart","time":22}"#,
            "\n",
            r#"{"testID":6,"messageType":"print","message":"hello","type":"print","time":23}"#,
            "\n",
            r#"{"testID":6,"error":"Expected: <1>","stackTrace":"a_test.dart 5","isFailure":true,"type":"error","time":24}"#,
            "\n",
            r#"{"testID":6,"result":"failure","skipped":false,"hidden":false,"type":"testDone","time":30}"#,
            "\n",
        );
        let parsed = parse(Source::new(stream.as_bytes())).unwrap();
        let run = &parsed.runs[0];
        let got: Vec<_> = run.cases().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            got,
            vec![
                ("Ünïcode skips", Status::Skipped),
                ("Ünïcode fails", Status::Failed),
                ("loading test/b_test.dart", Status::Errored)
            ]
        );
        let fails = run.cases().nth(1).unwrap();
        assert_eq!(fails.headline(), Some("Expected: <1>"));
        assert_eq!(fails.stdout(), Some("hello"));
        assert_eq!(fails.duration, Some(Duration::from_millis(8)));
        assert_eq!(run.cases().next().unwrap().headline(), Some("later"));
        assert_eq!(
            run.cases()
                .next()
                .unwrap()
                .location()
                .map(|l| l.file.as_str()),
            Some("/p/test/a_test.dart")
        );
        assert_eq!(
            file_path("file:///C:/a%20b/x_test.dart"),
            "C:/a b/x_test.dart"
        );
        assert_eq!(file_path("package:foo/x.dart"), "package:foo/x.dart");
    }
}

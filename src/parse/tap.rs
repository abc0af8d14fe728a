//! TAP (Test Anything Protocol) versions 13 and 14, read one line at a time.
//!
//! Rules, as Node's test runner and TAP 14 consumers count:
//! - Every test point (`ok`/`not ok`) is one case, at any subtest depth (4-space indentation);
//!   a test point whose YAML block says `type: 'suite'` (Node's `describe`) is a suite, not a test.
//!   A subtest's suite is the names of the test points enclosing it, joined with " › ".
//! - `ok` → passed, `not ok` → failed; `# SKIP reason` → skipped; `# TODO reason` → skipped with
//!   reason "todo: …" when it did not pass; a todo that passes (`ok … # TODO`) is an unexpected
//!   pass and counts as passed, with a `todo` property.
//!   `not ok` is errored when its YAML `failureType` says the test could not run to an assertion
//!   (`hookFailed`, `cancelledByParent`, `uncaughtException`, `unhandledRejection`, a timeout) or
//!   its `name` is one of JavaScript's runtime errors.
//! - YAML diagnostics (`---` … `...`): `message`/`error` is the message, `stack` the trace,
//!   `name`/`code` the kind, `duration_ms` the duration, `location`/`at` the file and line.
//! - `Bail out!` counts one errored case with its reason.
//! - A top-level plan (`1..N`) that disagrees with the number of top-level test points gives a
//!   diagnostic; the test points are counted.

use std::io::BufRead;
use std::time::Duration;

use super::json::MAX_LINE_BYTES;
use super::junit::{MAX_MESSAGE_BYTES, MAX_TRACE_BYTES, SUITE_PATH_SEPARATOR};
use super::mocha::RUNTIME_ERRORS;
use super::source::{EventTooLarge, Source};
use super::{ParseError, ParseErrorKind, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{
    clean_text, truncate_utf8, Case, Location, Problem, Status, SuitesByName, TestRun,
};

/// Spaces of indentation per subtest level (TAP 14).
const SUBTEST_INDENT: usize = 4;
/// Deepest subtest nesting accepted; bounds the level stack.
pub const MAX_SUBTEST_DEPTH: usize = 256;
/// Node's `failureType`s for tests that did not run to an assertion.
const ERROR_FAILURE_TYPES: &[&str] = &[
    "hookFailed",
    "cancelledByParent",
    "uncaughtException",
    "unhandledRejection",
    "testTimeoutFailure",
];

/// Whether a text prefix is TAP: its first line other than comments (a harness banner) is a
/// version line, a plan or a test point.
pub fn starts_tap(prefix: &[u8]) -> bool {
    let first = prefix
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    first.is_some_and(|l| {
        l.starts_with(b"TAP version")
            || l.starts_with(b"1..")
            || l.starts_with(b"ok")
            || l.starts_with(b"not ok")
    })
}

/// A case with the names of the enclosing test points, innermost last.
struct Point {
    path: Vec<String>,
    case: Case,
}

struct Yaml {
    /// Indentation of the `---` line; keys sit at this indentation.
    base: usize,
    fields: Vec<(String, String)>,
    /// The block scalar (`key: |-`) being collected.
    block: Option<(String, Vec<String>)>,
}

#[derive(Default)]
struct Reader {
    levels: Vec<Vec<Point>>,
    /// The level whose last point the next YAML block describes.
    last: Option<usize>,
    yaml: Option<Yaml>,
    plan: Option<u64>,
    top_level_points: u64,
    seen_tap: bool,
}

pub fn parse<R: BufRead>(source: Source<R>) -> Result<Parsed, ParseError> {
    let mut source = source;
    source.set_limit(MAX_LINE_BYTES);
    let mut reader = Reader::default();
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        source.mark();
        let n = source.read_until(b'\n', &mut buf).map_err(|e| {
            let too_large = e.get_ref().is_some_and(|e| e.is::<EventTooLarge>());
            ParseError {
                kind: if too_large {
                    ParseErrorKind::TooLarge
                } else {
                    ParseErrorKind::Io
                },
                line: Some(number + 1),
                message: if too_large {
                    "a TAP line is longer than 16 MiB: the report is not a reasonable test report"
                        .into()
                } else {
                    format!("could not read the file: {e}")
                },
            }
        })?;
        if n == 0 {
            break;
        }
        number += 1;
        let bytes = if number == 1 {
            buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf)
        } else {
            &buf[..]
        };
        let line = std::str::from_utf8(bytes).map_err(|e| ParseError {
            kind: ParseErrorKind::Encoding,
            line: Some(number),
            message: format!("not valid UTF-8 ({e}): re-encode the report as UTF-8"),
        })?;
        reader.line(line.trim_end_matches(['\n', '\r']), number)?;
    }
    reader.finish()
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `'a ''quoted'' text'`, `"escaped \" text"` or a plain scalar.
fn scalar(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if raw.starts_with('"') {
        if let Ok(s) = serde_json::from_str::<String>(raw) {
            return s;
        }
    }
    raw.to_owned()
}

impl Yaml {
    fn line(&mut self, line: &str) {
        let indent = indentation(line);
        if let Some((_, lines)) = self.block.as_mut() {
            if indent > self.base || line.trim().is_empty() {
                lines.push(line.get(self.base + 2..).unwrap_or("").to_owned());
                return;
            }
        }
        self.close_block();
        let text = line.trim();
        let Some((key, value)) = text.split_once(':') else {
            return;
        };
        let value = value.trim();
        if indent == self.base {
            if matches!(value, "|" | "|-" | "|+" | ">" | ">-") {
                self.block = Some((key.to_owned(), Vec::new()));
            } else {
                self.fields.push((key.to_owned(), scalar(value)));
            }
        } else if let Some((parent, _)) = self.fields.iter().rev().find(|(_, v)| v.is_empty()) {
            // One level of nesting (`at:` with `file:`/`line:` below it).
            let nested = format!("{parent}.{key}");
            self.fields.push((nested, scalar(value)));
        }
    }

    fn close_block(&mut self) {
        if let Some((key, lines)) = self.block.take() {
            let text = lines.join("\n");
            self.fields.push((key, text.trim_end().to_owned()));
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// `ok 3 - name # SKIP reason` → (ok, name, directive, reason).
fn test_point(text: &str) -> Option<(bool, String, Option<&'static str>, String)> {
    let (ok, rest) = if let Some(r) = text.strip_prefix("not ok") {
        (false, r)
    } else {
        (true, text.strip_prefix("ok")?)
    };
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("- ")
        .unwrap_or(rest.strip_prefix('-').unwrap_or(rest));
    // The first `#` not escaped as `\#` starts the directive.
    let bytes = rest.as_bytes();
    let hash = (0..bytes.len()).find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1] != b'\\'));
    let (description, directive) = match hash {
        Some(i) => (&rest[..i], rest[i + 1..].trim()),
        None => (rest, ""),
    };
    let lower = directive.to_ascii_lowercase();
    let (kind, reason) = if lower.starts_with("skip") {
        let word = directive.split_whitespace().next().unwrap_or_default();
        (Some("skip"), directive[word.len()..].trim())
    } else if lower.starts_with("todo") {
        (Some("todo"), directive[4..].trim())
    } else {
        (None, "")
    };
    Some((
        ok,
        description.trim().replace("\\#", "#"),
        kind,
        reason.to_owned(),
    ))
}

impl Reader {
    fn line(&mut self, line: &str, number: u64) -> Result<(), ParseError> {
        let text = line.trim();
        if let Some(yaml) = self.yaml.as_mut() {
            if text == "..." && indentation(line) == yaml.base {
                self.end_yaml();
            } else {
                yaml.line(line);
            }
            return Ok(());
        }
        if text == "---" && self.last.is_some() {
            self.yaml = Some(Yaml {
                base: indentation(line),
                fields: Vec::new(),
                block: None,
            });
            return Ok(());
        }
        let level = indentation(line) / SUBTEST_INDENT;
        if level >= MAX_SUBTEST_DEPTH {
            return Err(ParseError {
                kind: ParseErrorKind::Unsupported,
                line: Some(number),
                message: format!("subtests nested deeper than {MAX_SUBTEST_DEPTH} levels"),
            });
        }
        if text.starts_with("TAP version") {
            self.seen_tap = true;
        } else if let Some(reason) = text.strip_prefix("Bail out!") {
            self.seen_tap = true;
            let mut case = Case::new("Bail out!".into(), Status::Errored);
            case.details_mut().problems.push(Problem {
                message: Some(clean_text(truncate_utf8(reason.trim(), MAX_MESSAGE_BYTES)))
                    .filter(|m| !m.is_empty())
                    .or_else(|| Some("the test run bailed out".into())),
                ..Problem::default()
            });
            self.push(level, case);
            self.last = None;
        } else if let Some(plan) = text.strip_prefix("1..") {
            self.seen_tap = true;
            if level == 0 {
                self.plan = plan
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse().ok());
            }
        } else if let Some((ok, name, directive, reason)) = test_point(text) {
            self.seen_tap = true;
            if level == 0 {
                self.top_level_points += 1;
            }
            self.point(level, ok, name, directive, reason);
        }
        Ok(())
    }

    fn push(&mut self, level: usize, case: Case) {
        while self.levels.len() <= level {
            self.levels.push(Vec::new());
        }
        self.levels[level].push(Point {
            path: Vec::new(),
            case,
        });
    }

    fn point(
        &mut self,
        level: usize,
        ok: bool,
        name: String,
        directive: Option<&str>,
        reason: String,
    ) {
        // Subtests already read at deeper levels belong to this test point: TAP 14 writes a
        // parent's test point after its subtests.
        let name = clean_text(name);
        let mut children = Vec::new();
        for deeper in self.levels.iter_mut().skip(level + 1) {
            children.append(deeper);
        }
        for child in &mut children {
            child.path.insert(0, name.clone());
        }
        while self.levels.len() <= level {
            self.levels.push(Vec::new());
        }
        self.levels[level].append(&mut children);
        let status = match directive {
            Some("todo") if ok => Status::Passed,
            Some(_) => Status::Skipped,
            None if ok => Status::Passed,
            None => Status::Failed,
        };
        let mut case = Case::new(
            if name.is_empty() {
                super::junit::UNNAMED_TEST.to_owned()
            } else {
                name
            },
            status,
        );
        if directive == Some("todo") && ok {
            case.details_mut()
                .properties
                .push(("todo".to_owned(), reason));
        } else if let Some(kind) = directive {
            let reason = if kind == "todo" {
                format!("todo: {reason}")
                    .trim_end_matches([':', ' '])
                    .to_owned()
            } else if reason.is_empty() {
                "skipped".to_owned()
            } else {
                reason
            };
            case.details_mut().problems.push(Problem {
                message: Some(reason),
                ..Problem::default()
            });
        }
        self.push(level, case);
        self.last = Some(level);
    }

    fn end_yaml(&mut self) {
        let Some(mut yaml) = self.yaml.take() else {
            return;
        };
        yaml.close_block();
        let Some(level) = self.last.take() else {
            return;
        };
        let Some(list) = self.levels.get_mut(level) else {
            return;
        };
        if yaml.get("type") == Some("suite") {
            list.pop();
            return;
        }
        let Some(point) = list.last_mut() else {
            return;
        };
        let case = &mut point.case;
        case.duration = yaml
            .get("duration_ms")
            .and_then(|d| d.parse::<f64>().ok())
            .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok());
        let location = yaml
            .get("location")
            .map(str::to_owned)
            .or_else(|| yaml.get("at.file").map(str::to_owned));
        if let Some(loc) = location {
            // Node writes `file:line:column`.
            let mut parts = loc.rsplitn(3, ':');
            let (col, line, file) = (parts.next(), parts.next(), parts.next());
            case.set_location(Some(match (file, line.and_then(|l| l.parse().ok())) {
                (Some(file), Some(line)) if col.is_some_and(|c| c.parse::<u32>().is_ok()) => {
                    Location {
                        file: file.to_owned(),
                        line: Some(line),
                    }
                }
                _ => Location {
                    file: loc.clone(),
                    line: yaml.get("at.line").and_then(|l| l.parse().ok()),
                },
            }));
        }
        if case.status == Status::Failed {
            let failure_type = yaml.get("failureType").unwrap_or_default();
            let name = yaml.get("name");
            if ERROR_FAILURE_TYPES.contains(&failure_type)
                || name.is_some_and(|n| RUNTIME_ERRORS.contains(&n))
            {
                case.status = Status::Errored;
            }
            let message = yaml.get("message").or_else(|| yaml.get("error"));
            case.details_mut().problems.push(Problem {
                message: message.map(|m| clean_text(truncate_utf8(m, MAX_MESSAGE_BYTES))),
                kind: name.or_else(|| yaml.get("code")).map(str::to_owned),
                trace: yaml
                    .get("stack")
                    .map(|s| clean_text(truncate_utf8(s, MAX_TRACE_BYTES))),
            });
        }
    }

    fn finish(mut self) -> Result<Parsed, ParseError> {
        if self.yaml.is_some() {
            self.end_yaml();
        }
        if !self.seen_tap {
            return Err(ParseError {
                kind: ParseErrorKind::Unsupported,
                line: None,
                message: "no TAP test points, plan or version line found".into(),
            });
        }
        let mut diagnostics = Vec::new();
        if let Some(plan) = self.plan {
            if plan != self.top_level_points {
                diagnostics.push(Diagnostic::warning(format!(
                    "the TAP plan announced {plan} tests but {} test points were reported; the test points are counted",
                    self.top_level_points
                )));
            }
        }
        let mut suites = SuitesByName::default();
        for point in self.levels.into_iter().flatten() {
            suites.push(&point.path.join(SUITE_PATH_SEPARATOR), point.case);
        }
        Ok(Parsed {
            runs: vec![TestRun {
                name: None,
                suites: suites.into_suites(),
                declared_duration: None,
            }],
            diagnostics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Parsed {
        parse(Source::new(s.as_bytes())).unwrap()
    }

    #[test]
    fn directives_subtests_and_yaml() {
        let parsed = parse_str(concat!(
            "TAP version 14\n",
            "1..4\n",
            "ok 1 - adds \\# hash\n",
            "not ok 2 - fails\n",
            "  ---\n",
            "  message: 'expected ''1'''\n",
            "  duration_ms: 12.5\n",
            "  stack: |-\n",
            "    at x.js:3\n",
            "    at y.js:4\n",
            "  at:\n",
            "    file: x.js\n",
            "    line: 3\n",
            "  ...\n",
            "ok 3 - later # SKIP not here\n",
            "not ok 4 - todo thing # TODO write it\n",
            "ok 5 - todo that passes # TODO\n",
            "# Subtest: group\n",
            "    ok 1 - inner\n",
            "    not ok 2 - inner fails\n",
            "    1..2\n",
            "not ok 6 - group\n",
        ));
        let run = &parsed.runs[0];
        let got: Vec<_> = run
            .cases()
            .map(|c| (c.name.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("adds # hash", "passed"),
                ("fails", "failed"),
                ("later", "skipped"),
                ("todo thing", "skipped"),
                ("todo that passes", "passed"),
                ("group", "failed"),
                ("inner", "passed"),
                ("inner fails", "failed")
            ]
        );
        let fails = run.cases().nth(1).unwrap();
        assert_eq!(fails.headline(), Some("expected '1'"));
        assert_eq!(
            fails.problems()[0].trace.as_deref(),
            Some("at x.js:3\nat y.js:4")
        );
        assert_eq!(fails.duration, Some(Duration::from_micros(12_500)));
        assert_eq!(
            fails.location(),
            Some(&Location {
                file: "x.js".into(),
                line: Some(3)
            })
        );
        assert_eq!(run.suites[1].name, "group");
        assert_eq!(
            run.cases().nth(3).unwrap().headline(),
            Some("todo: write it")
        );
        assert_eq!(parsed.diagnostics.len(), 1, "plan 4, five top-level points");
    }

    #[test]
    fn bail_out_is_an_errored_case() {
        let parsed = parse_str("TAP version 13\nok 1 - a\nBail out! database down\n");
        let got: Vec<_> = parsed.runs[0].cases().map(|c| c.status).collect();
        assert_eq!(got, vec![Status::Passed, Status::Errored]);
    }
}

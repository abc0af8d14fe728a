//! One annotation per test worth a look, placed on the line that failed.
//!
//! Rules:
//! - Failed and errored tests are errors; with `annotations: all` flaky tests are warnings and
//!   skipped tests notices; `annotations: none` annotates no test.
//! - Title: the test's name. Message: the failure's headline, then the first lines of its trace
//!   (the headline is left out when the trace already starts with it), within
//!   [`MESSAGE_MAX_BYTES`].
//! - Place: the report's `file`/`line` when that file is in the repository, else the innermost
//!   frame of the trace (then of the message, stderr, stdout) that is project code
//!   ([`super::location`], [`super::repo_path`]), else the file the classname names (with the
//!   checkout's file list), else the report file itself, without a line.
//! - Order: errors, warnings, notices; within a level the ones placed in source code before the
//!   ones placed on a report file, then by file and line, then as reported. Caps apply to this
//!   order ([`super::workflow_commands`]).

use std::fmt::Write;

use serde::Serialize;

use super::location::{complete_frames, frames, lines, Frame, Frames};
use super::repo_path::RepoPaths;
use super::summary::display_name;
use crate::config::AnnotationChoice;
use crate::model::{truncate_utf8, Case, Problem, Status};
use crate::pipeline::FileReport;

/// Since runner 2.305.0 GitHub cuts an annotation's message at 4,096 characters
/// (hugoalh/scan-virus-ghaction#76, Homebrew/homebrew-test-bot#1228); bytes ≤ characters, so a
/// byte budget is safe.
pub const MESSAGE_MAX_BYTES: usize = 4096;
/// The Checks API refuses annotation titles over 255 characters (REST "Create a check run").
pub const TITLE_MAX_BYTES: usize = 255;
/// Trace lines in a message: enough for the failing frame and its callers, not the framework.
pub const TRACE_LINES: usize = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    /// The workflow command (the Checks API calls an error `failure`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    pub level: Level,
    /// Repository-relative; `None` when not even the report file is in the repository.
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Placed in source code rather than on the report file.
    pub in_source: bool,
    pub title: String,
    pub message: String,
}

/// The annotations of every test `choice` asks for, in the order of the module documentation.
pub fn collect(
    files: &[FileReport],
    choice: AnnotationChoice,
    paths: &RepoPaths,
) -> Vec<Annotation> {
    let mut annotations = Vec::new();
    if choice == AnnotationChoice::None {
        return annotations;
    }
    for file in files {
        let report_file = paths.report_file(&file.path);
        for case in file.runs().iter().flat_map(|r| r.cases()) {
            let level = match case.status {
                Status::Failed | Status::Errored => Level::Error,
                Status::Flaky { .. } if choice == AnnotationChoice::All => Level::Warning,
                Status::Skipped if choice == AnnotationChoice::All => Level::Notice,
                _ => continue,
            };
            let (file, line, in_source) = match place(case, paths) {
                Some((file, line)) => (Some(file), line, true),
                None => (report_file.clone(), None, false),
            };
            annotations.push(Annotation {
                level,
                file,
                line,
                in_source,
                title: truncate_utf8(&display_name(case), TITLE_MAX_BYTES).to_owned(),
                message: message(case),
            });
        }
    }
    annotations.sort_by(|a, b| {
        (a.level, !a.in_source, &a.file, a.line).cmp(&(b.level, !b.in_source, &b.file, b.line))
    });
    annotations
}

/// The problems that explain the test's state: a flaky test's are its earlier failures.
fn problems(case: &Case) -> &[Problem] {
    match case.status {
        Status::Flaky { .. } => case.retries(),
        _ => case.problems(),
    }
}

/// The file and line of the module documentation's "Place" rule.
fn place(case: &Case, paths: &RepoPaths) -> Option<(String, Option<u32>)> {
    let texts: Vec<&str> = problems(case)
        .iter()
        .flat_map(|p| [p.trace.as_deref(), p.message.as_deref()])
        .chain([case.stderr(), case.stdout()])
        .flatten()
        .collect();
    let read_frames = |text| -> Frames<'_> {
        if paths.completes_partial_frames() {
            frames(text)
        } else {
            complete_frames(text)
        }
    };
    if let Some(location) = case.location() {
        let reported = Frame {
            path: location.file.clone(),
            line: location.line,
            partial: false,
        };
        if let Some(file) = paths.resolve(&reported) {
            // A report that names the file but not the line: the trace may know it.
            let line = location.line.or_else(|| {
                texts
                    .iter()
                    .flat_map(|&t| read_frames(t))
                    .find(|f| paths.resolve(f).as_deref() == Some(file.as_str()))
                    .and_then(|f| f.line)
            });
            return Some((file, line));
        }
    }
    texts
        .iter()
        .flat_map(|&t| read_frames(t))
        .find_map(|f| Some((paths.resolve_near(&f, case.classname.as_deref())?, f.line)))
        .or_else(|| Some((paths.of_classname(case.classname.as_deref()?)?, None)))
}

fn message(case: &Case) -> String {
    let problem = problems(case).first();
    let headline = problem.and_then(|p| {
        p.message
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .or(p.kind.as_deref())
    });
    let trace = problem
        .and_then(|p| p.trace.as_deref())
        .map(|t| t.trim_matches('\n'))
        .filter(|t| !t.trim().is_empty());
    let body = match (headline, trace) {
        (Some(h), Some(t)) if t.lines().next().is_some_and(|l| l.contains(h.trim())) => excerpt(t),
        (Some(h), Some(t)) => format!("{h}\n\n{}", excerpt(t)),
        (Some(h), None) => h.to_owned(),
        (None, Some(t)) => excerpt(t),
        (None, None) => String::new(),
    };
    let text = match case.status {
        Status::Flaky { attempts } if body.is_empty() => {
            format!("passed after {attempts} attempts")
        }
        Status::Flaky { attempts } => {
            format!("passed after {attempts} attempts; an earlier one failed:\n{body}")
        }
        _ if !body.is_empty() => body,
        Status::Skipped => "skipped".to_owned(),
        Status::Errored => "errored".to_owned(),
        _ => "failed".to_owned(),
    };
    truncate_utf8(&text, MESSAGE_MAX_BYTES).to_owned()
}

/// The first [`TRACE_LINES`] lines of `trace` and how many follow. The rest is counted with
/// memchr: a long trace is not split into lines just to be counted.
fn excerpt(trace: &str) -> String {
    let mut lines = lines(trace);
    let mut text = String::with_capacity(trace.len().min(TRACE_LINES * 100));
    for (i, line) in lines.by_ref().take(TRACE_LINES).enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(line);
    }
    let rest = lines.remainder();
    if !rest.is_empty() {
        let more = memchr::memchr_iter(b'\n', rest.as_bytes()).count()
            + usize::from(!rest.ends_with('\n'));
        let _ = write!(text, "\n… {more} more lines");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `excerpt` replaced: split every line, join the first ones.
    fn excerpt_by_lines(trace: &str) -> String {
        let lines: Vec<&str> = trace.lines().collect();
        let mut text = lines[..lines.len().min(TRACE_LINES)].join("\n");
        if lines.len() > TRACE_LINES {
            text.push_str(&format!("\n… {} more lines", lines.len() - TRACE_LINES));
        }
        text
    }

    #[test]
    fn excerpt_keeps_fifteen_lines_and_counts_the_rest() {
        let trace: String = (1..=40)
            .map(|i| format!("\tat Step.s{i}(Step.java:{i})\r\n"))
            .collect();
        let text = excerpt(&trace);
        assert_eq!(text.lines().count(), TRACE_LINES + 1);
        assert!(text.starts_with("\tat Step.s1(Step.java:1)\n"));
        assert!(text.ends_with("\tat Step.s15(Step.java:15)\n… 25 more lines"));
        assert!(!text.contains('\r'));
    }

    proptest! {
        #[test]
        fn excerpt_reads_lines_as_str_lines_does(
            parts in proptest::collection::vec(prop_oneof!["a", "é", "\n", "\r\n", "\r", ""], 0..60)
        ) {
            let trace = parts.concat();
            prop_assert_eq!(excerpt(&trace), excerpt_by_lines(&trace));
        }
    }
}

//! Annotations as GitHub workflow commands (`::error file=…,line=…,title=…::message`), rendered
//! once, here: the edges print the lines as they are and escape nothing.
//!
//! Rules:
//! - Escaping as the runner unescapes (actions/toolkit `packages/core/src/command.ts`): in the
//!   message `%`→`%25`, `\r`→`%0D`, `\n`→`%0A`; in property values also `:`→`%3A`, `,`→`%2C`.
//! - GitHub shows at most [`STEP_ERRORS`] error, [`STEP_WARNINGS`] warning and [`STEP_NOTICES`]
//!   notice annotations per step and [`JOB_ANNOTATIONS`] per job, and drops the rest without a
//!   word. Within those caps, in this order: report problems (diagnostics), then the tests in
//!   [`super::annotations`] order — on a pull request, failures in its changed files first
//!   ([`super::changed_files`]) —, at most `max-annotations` of them.
//! - When the step fails, one error is left to the edge, which reports the failure itself.
//! - When anything was left out, a last notice says how much and points at the job summary; it
//!   keeps a notice slot for itself.

use super::annotations::{Annotation, Level};
use super::repo_path::RepoPaths;
use crate::diagnostic::{self, Diagnostic};

/// Error annotations GitHub shows per step (REST "Create a check run": "GitHub Actions are limited
/// to 10 warning annotations and 10 error annotations per step"; actions/toolkit#734).
pub const STEP_ERRORS: usize = 10;
/// Warning annotations GitHub shows per step (same source).
pub const STEP_WARNINGS: usize = 10;
/// Notice annotations GitHub shows per step (orgs/community#68471).
pub const STEP_NOTICES: usize = 10;
/// Annotations GitHub shows per job (orgs/community#68471).
pub const JOB_ANNOTATIONS: usize = 50;

// One step's share never reaches the job cap, so a per-step plan is enough.
const _: () = assert!(STEP_ERRORS + STEP_WARNINGS + STEP_NOTICES <= JOB_ANNOTATIONS);

/// What the edges need besides the annotations.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `max-annotations`: most test annotations; `None` for GitHub's caps only.
    pub max_tests: Option<u32>,
    /// The edge will report the step's failure as one more error.
    pub step_fails: bool,
}

/// The workflow command lines to print, in order, for `diagnostics` and `annotations`.
pub fn render(
    diagnostics: &[Diagnostic],
    annotations: &[Annotation],
    paths: &RepoPaths,
    limits: Limits,
) -> Vec<String> {
    let problems: Vec<Annotation> = diagnostics
        .iter()
        .map(|d| Annotation {
            level: match d.level {
                diagnostic::Level::Warning => Level::Warning,
                diagnostic::Level::Notice => Level::Notice,
            },
            file: d.file.as_deref().and_then(|f| paths.report_file(f)),
            line: d.line.and_then(|l| u32::try_from(l).ok()),
            in_source: false,
            title: String::new(),
            message: d.message.clone(),
        })
        .collect();
    let errors = STEP_ERRORS - usize::from(limits.step_fails);
    let (mut lines, left_out) = plan(
        &problems,
        annotations,
        limits,
        [errors, STEP_WARNINGS, STEP_NOTICES],
    );
    if left_out.is_empty() {
        return lines;
    }
    // Plan again with one notice fewer: the last line needs a slot.
    let (again, left_out) = plan(
        &problems,
        annotations,
        limits,
        [errors, STEP_WARNINGS, STEP_NOTICES - 1],
    );
    lines = again;
    lines.push(command(Level::Notice, None, None, "", &left_out.sentence()));
    lines
}

/// What did not fit, by kind.
#[derive(Debug, Default)]
struct LeftOut {
    failed: usize,
    flaky: usize,
    skipped: usize,
    problems: usize,
}

impl LeftOut {
    fn is_empty(&self) -> bool {
        self.failed + self.flaky + self.skipped + self.problems == 0
    }

    /// "12 more failed tests and 3 flaky tests not annotated — see the job summary".
    fn sentence(&self) -> String {
        let parts: Vec<String> = [
            (self.failed, "failed test"),
            (self.flaky, "flaky test"),
            (self.skipped, "skipped test"),
            (self.problems, "report problem"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .enumerate()
        .map(|(i, (n, what))| {
            let more = if i == 0 { " more" } else { "" };
            let s = if n == 1 { "" } else { "s" };
            format!("{n}{more} {what}{s}")
        })
        .collect();
        let list = match parts.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => parts.concat(),
        };
        format!("{list} not annotated — see the job summary")
    }
}

fn plan(
    problems: &[Annotation],
    tests: &[Annotation],
    limits: Limits,
    mut room: [usize; 3],
) -> (Vec<String>, LeftOut) {
    let mut lines = Vec::new();
    let mut left_out = LeftOut::default();
    let mut tests_room = limits.max_tests.map_or(usize::MAX, |m| m as usize);
    let slot = |level: Level| match level {
        Level::Error => 0,
        Level::Warning => 1,
        Level::Notice => 2,
    };
    for problem in problems {
        let room = &mut room[slot(problem.level)];
        if *room == 0 {
            left_out.problems += 1;
            continue;
        }
        *room -= 1;
        lines.push(render_one(problem));
    }
    for test in tests {
        let room = &mut room[slot(test.level)];
        if *room == 0 || tests_room == 0 {
            match test.level {
                Level::Error => left_out.failed += 1,
                Level::Warning => left_out.flaky += 1,
                Level::Notice => left_out.skipped += 1,
            }
            continue;
        }
        *room -= 1;
        tests_room -= 1;
        lines.push(render_one(test));
    }
    (lines, left_out)
}

fn render_one(a: &Annotation) -> String {
    command(a.level, a.file.as_deref(), a.line, &a.title, &a.message)
}

/// One workflow command line, escaped. A line number without a file means nothing to GitHub.
pub fn command(
    level: Level,
    file: Option<&str>,
    line: Option<u32>,
    title: &str,
    message: &str,
) -> String {
    let mut properties = Vec::new();
    if let Some(file) = file {
        properties.push(format!("file={}", escape_property(file)));
        if let Some(line) = line {
            properties.push(format!("line={line}"));
        }
    }
    if !title.is_empty() {
        properties.push(format!("title={}", escape_property(title)));
    }
    let separator = if properties.is_empty() { "" } else { " " };
    format!(
        "::{}{separator}{}::{}",
        level.as_str(),
        properties.join(","),
        escape_data(message)
    )
}

/// A message: `%`, carriage returns and newlines encoded.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as data, and the `:` and `,` that delimit properties.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_runner_unescapes() {
        assert_eq!(
            escape_data("100% done\r\nnext: a, b"),
            "100%25 done%0D%0Anext: a, b"
        );
        assert_eq!(escape_property("a%b:c,d\ne"), "a%25b%3Ac%2Cd%0Ae");
        // %0A written literally must survive the round trip as text, not become a newline.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(
            command(
                Level::Error,
                Some("src/a, b.py"),
                Some(3),
                "test: x, y",
                "expected 50%\nbut got: 1, 2"
            ),
            "::error file=src/a%2C b.py,line=3,title=test%3A x%2C y::expected 50%25%0Abut got: 1, 2"
        );
        assert_eq!(
            command(Level::Notice, None, Some(3), "", "just text"),
            "::notice::just text"
        );
    }

    #[test]
    fn the_last_line_names_what_was_left_out() {
        let left = |failed, flaky, skipped, problems| {
            LeftOut {
                failed,
                flaky,
                skipped,
                problems,
            }
            .sentence()
        };
        assert_eq!(
            left(4990, 0, 0, 0),
            "4990 more failed tests not annotated — see the job summary"
        );
        assert_eq!(
            left(1, 0, 0, 0),
            "1 more failed test not annotated — see the job summary"
        );
        assert_eq!(
            left(2, 1, 3, 0),
            "2 more failed tests, 1 flaky test and 3 skipped tests not annotated — see the job summary"
        );
        assert_eq!(
            left(0, 0, 2, 1),
            "2 more skipped tests and 1 report problem not annotated — see the job summary"
        );
    }
}

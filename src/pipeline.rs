//! The one orchestration: parsed files and settings in, everything the edges write out.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Config, FailOn};
use crate::diagnostic::Diagnostic;
use crate::github::repo_path::RepoPaths;
use crate::github::workflow_commands::{self, Limits};
use crate::github::{annotations, outputs, summary};
use crate::model::{TestRun, Totals};
use crate::parse::{Format, ParseError, ParseErrorKind, Parsed};

/// Environment variables as the edge captured them.
pub type EnvMap = BTreeMap<String, String>;

/// One input file after reading and parsing.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// As the user will recognise it: relative to the working directory, forward slashes.
    pub path: String,
    pub result: Result<(Format, Parsed), ParseError>,
}

impl FileReport {
    /// A file the edge could not read (missing, permission denied).
    pub fn unreadable(path: String, reason: &str) -> FileReport {
        FileReport {
            path,
            result: Err(ParseError {
                kind: ParseErrorKind::Io,
                line: None,
                message: format!("could not read the file: {reason}"),
            }),
        }
    }

    pub fn runs(&self) -> &[TestRun] {
        match &self.result {
            Ok((_, parsed)) => &parsed.runs,
            Err(_) => &[],
        }
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for run in self.runs() {
            totals.merge(&run.totals());
        }
        totals
    }

    pub fn error(&self) -> Option<&ParseError> {
        self.result.as_ref().err()
    }
}

/// The machine-readable totals: a public contract (`test-report parse --json`). Extend, never rename.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub totals: Totals,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    pub path: String,
    pub format: Option<Format>,
    pub totals: Totals,
    pub error: Option<String>,
}

impl Report {
    pub fn new(files: &[FileReport]) -> Report {
        let mut totals = Totals::default();
        let files = files
            .iter()
            .map(|f| {
                let file_totals = f.totals();
                totals.merge(&file_totals);
                FileEntry {
                    path: f.path.clone(),
                    format: f.result.as_ref().ok().map(|(format, _)| *format),
                    totals: file_totals,
                    error: f.error().map(ToString::to_string),
                }
            })
            .collect();
        Report { totals, files }
    }

    pub fn has_file_errors(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conclusion {
    Success,
    Failure,
    /// Nothing was tested: no files, or files without tests.
    Neutral,
}

impl Conclusion {
    pub fn of(report: &Report) -> Conclusion {
        if report.totals.has_failures() || report.has_file_errors() {
            Conclusion::Failure
        } else if report.totals.tests == 0 {
            Conclusion::Neutral
        } else {
            Conclusion::Success
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
        }
    }
}

/// Process exit codes, the same for the CLI and (as pass/fail) the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExitCode {
    Ok = 0,
    /// Tests failed and the fail policy asks to fail for that.
    TestsFailed = 1,
    /// Bad input or settings: unreadable report, no results when required, invalid option.
    BadInput = 2,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// What the user asked for and what the edge found.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub config: Config,
    /// The `path` patterns as given, for messages about empty matches.
    pub patterns: Vec<String>,
    pub files: Vec<FileReport>,
    pub env: EnvMap,
    /// The checkout's files, repository-relative (`git ls-files`), when the edge could list them:
    /// annotations only point at files that exist.
    pub repo_files: Option<Vec<String>>,
}

/// Everything the edges write back.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub report: Report,
    pub conclusion: Conclusion,
    /// The job summary Markdown, always rendered: the action also offers it as a file.
    pub summary: String,
    /// Whether the edge appends [`Outcome::summary`] to the job summary (`job-summary`).
    pub job_summary: bool,
    pub outputs: BTreeMap<&'static str, String>,
    pub diagnostics: Vec<Diagnostic>,
    /// Annotations of report problems and tests as ready workflow command lines, within GitHub's
    /// caps: the edge prints them to stdout unchanged when running in GitHub Actions.
    pub workflow_commands: Vec<String>,
    /// Why the step should fail, when it should.
    pub failure: Option<String>,
    pub exit_code: i32,
}

pub fn run(inputs: &Inputs) -> Outcome {
    let report = Report::new(&inputs.files);
    let conclusion = Conclusion::of(&report);
    let mut diagnostics: Vec<Diagnostic> = inputs
        .files
        .iter()
        .flat_map(|f| match &f.result {
            Ok((_, parsed)) => parsed
                .diagnostics
                .iter()
                .map(|d| d.clone().in_file(&f.path))
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        })
        .collect();
    for file in &inputs.files {
        if let Some(err) = file.error() {
            let mut d = Diagnostic::warning(err.message.clone()).in_file(&file.path);
            d.line = err.line;
            diagnostics.push(d);
        }
    }
    let (failure, exit) = judge(inputs, &report);
    let summary = summary::render(
        &inputs.config,
        &inputs.files,
        &report,
        conclusion,
        &inputs.env,
    );
    let paths = RepoPaths::new(
        &inputs.env,
        inputs.config.working_directory.as_deref(),
        inputs.config.path_prefix.as_ref(),
        inputs.repo_files.as_deref(),
    );
    let tests = annotations::collect(&inputs.files, inputs.config.annotations, &paths);
    let limits = Limits {
        max_tests: inputs.config.max_annotations,
        step_fails: failure.is_some(),
    };
    let workflow_commands = workflow_commands::render(&diagnostics, &tests, &paths, limits);
    Outcome {
        outputs: outputs::of(&report, conclusion),
        report,
        conclusion,
        summary,
        job_summary: inputs.config.job_summary,
        diagnostics,
        workflow_commands,
        failure,
        exit_code: exit.code(),
    }
}

/// Applies `fail-on` and `fail-on-empty`: the reason to fail, if any, and the exit code.
fn judge(inputs: &Inputs, report: &Report) -> (Option<String>, ExitCode) {
    let config = &inputs.config;
    if config.fail_on == FailOn::Nothing {
        return (None, ExitCode::Ok);
    }
    let broken: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| format!("{}: {e}", f.path)))
        .collect();
    if !broken.is_empty() {
        let more = if broken.len() > 1 {
            format!(" (and {} more unreadable reports)", broken.len() - 1)
        } else {
            String::new()
        };
        return (Some(format!("{}{more}", broken[0])), ExitCode::BadInput);
    }
    if config.fail_on_empty && report.totals.tests == 0 {
        let patterns = inputs.patterns.join(", ");
        let why = if report.files.is_empty() {
            format!("no report files match '{patterns}'")
        } else {
            format!(
                "the {} report files matching '{patterns}' contain no tests",
                report.files.len()
            )
        };
        return (
            Some(format!(
                "{why}: check the path and that the tests ran, or set fail-on-empty to false"
            )),
            ExitCode::BadInput,
        );
    }
    let t = &report.totals;
    if config.fail_on == FailOn::Failures && t.has_failures() {
        let mut parts = Vec::new();
        if t.failed > 0 {
            parts.push(format!("{} failed", t.failed));
        }
        if t.errored > 0 {
            parts.push(format!("{} errored", t.errored));
        }
        return (
            Some(format!(
                "{} of {} tests did not pass: {}",
                t.failed + t.errored,
                t.tests,
                parts.join(", ")
            )),
            ExitCode::TestsFailed,
        );
    }
    (None, ExitCode::Ok)
}

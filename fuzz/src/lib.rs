//! What every fuzz target checks besides "no panic, no hang, no OOM" (libFuzzer's own oracles).
//!
//! - A reader either fails with a located, non-empty message or returns runs whose totals add up.
//! - The render pipeline (summary, annotations, workflow commands, JUnit/CTRF conversion) accepts
//!   whatever a reader returned.

use test_report::config::{AnnotationChoice, Config, SummaryTests};
use test_report::convert;
use test_report::github::repo_path::RepoPaths;
use test_report::github::workflow_commands::{self, Limits};
use test_report::github::{annotations, summary};
use test_report::parse::{parse_bytes, Format, FormatChoice, ParseError, Parsed};
use test_report::pipeline::{Conclusion, EnvMap, FileReport, Receipts, Report};

/// Budget for the degraded summary: small enough that every degradation level is reached.
const SMALL_SUMMARY_BYTES: usize = 2048;

/// Parses `data` as `choice` and checks the result's invariants.
pub fn parse_checked(data: &[u8], choice: FormatChoice) -> Result<(Format, Parsed), ParseError> {
    let result = parse_bytes(data, choice);
    match &result {
        Ok((_, parsed)) => {
            for run in &parsed.runs {
                let t = run.totals();
                let parts = t.passed + t.failed + t.errored + t.skipped + t.flaky;
                assert_eq!(parts, t.tests, "totals do not add up: {t:?}");
            }
        }
        Err(e) => assert!(!e.message.is_empty(), "error without a message: {e:?}"),
    }
    result
}

/// One reader, chosen explicitly as `format:` would.
pub fn parse_as(data: &[u8], format: Format) {
    let _ = parse_checked(data, FormatChoice::Only(format));
}

/// The whole pure path of one file: detect, parse, totals, summary, annotations, conversion.
pub fn render_all(data: &[u8]) {
    let files = [FileReport {
        path: "reports/fuzz.xml".into(),
        result: parse_checked(data, FormatChoice::Auto),
        original: Some(data.to_vec()),
    }];
    let config = Config {
        summary_tests: SummaryTests::All,
        annotations: AnnotationChoice::All,
        ..Config::default()
    };
    let env = EnvMap::new();
    let report = Report::new(&files);
    let conclusion = Conclusion::of(&report);
    let receipts = Receipts::default();
    let full = summary::render(&config, &files, &report, conclusion, &receipts, &env);
    assert!(!full.is_empty());
    let small = summary::render_within(
        &config,
        &files,
        &report,
        conclusion,
        &receipts,
        &env,
        SMALL_SUMMARY_BYTES,
    );
    assert!(!small.is_empty());
    let paths = RepoPaths::new(&env, None, None, None);
    let tests = annotations::collect(&files, config.annotations, &paths);
    let limits = Limits {
        max_tests: Some(10),
        step_fails: conclusion == Conclusion::Failure,
    };
    let _ = workflow_commands::render(&[], &tests, &paths, limits);
    let _ = convert::junit::write(&files);
    let _ = convert::ctrf::write(&files, 0);
}

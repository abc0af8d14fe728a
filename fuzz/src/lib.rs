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
use test_report::parse::{
    parse, parse_bytes, Format, FormatChoice, ParseError, ParseErrorKind, Parsed,
};
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

/// One reader, chosen explicitly as `format:` would. It must also read the bytes as a stream cut
/// into reads of a few bytes (for the XML readers, the scanner's refills, where its reads land in
/// its window) as it reads them in memory.
pub fn parse_as(data: &[u8], format: Format) {
    let in_memory = parse_checked(data, FormatChoice::Only(format));
    let step = data.first().map_or(1, |b| usize::from(b % 7) + 1);
    let trickle = Trickle {
        data,
        step,
        first: true,
    };
    let streamed = parse(
        std::io::BufReader::with_capacity(FIRST_READ_BYTES, trickle),
        FormatChoice::Only(format),
    );
    match (&in_memory, &streamed) {
        // Detection sees only the first read: all blank there is "empty" to it.
        (_, Err(e)) if e.kind == ParseErrorKind::Empty => {}
        (Ok((_, a)), Ok((_, b))) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
        (Err(a), Err(b)) => assert_eq!((a.kind, &a.message), (b.kind, &b.message)),
        (a, b) => panic!("in memory {a:?}, streamed {b:?}"),
    }
}

/// What the first read of a [`Trickle`] answers at most: what format detection looks at.
const FIRST_READ_BYTES: usize = 64;

/// Bytes handed out `step` at a time after a first read of up to [`FIRST_READ_BYTES`].
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    first: bool,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let most = if self.first {
            FIRST_READ_BYTES
        } else {
            self.step
        };
        self.first = false;
        let n = most.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
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

//! `convert --to junit` output read back by our own JUnit reader keeps every test: same counts,
//! suites, names, statuses and messages (issue 4, "Conversion out"), for generated runs with
//! non-ASCII and XML-special characters in every text.

use std::time::Duration;

use proptest::prelude::*;
use test_report::convert;
use test_report::model::{Case, Problem, Status, Suite, TestRun};
use test_report::parse::{self, Format, FormatChoice, Parsed};
use test_report::pipeline::FileReport;

/// Characters that break naive writers: markup, quotes, entities, non-ASCII, astral, NBSP.
const ALPHABET: &[char] = &[
    'a', 'Z', '0', ' ', '<', '>', '&', '"', '\'', ';', '#', 'é', 'ß', 'Ω', '日', '本', '😀',
    '\u{a0}', '-', '.', '/', ':', '›',
];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 1..max)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Messages and traces also carry line breaks and tabs.
fn multiline() -> impl Strategy<Value = String> {
    prop::collection::vec(text(12), 1..4).prop_map(|lines| lines.join("\n\t"))
}

fn problem() -> impl Strategy<Value = Problem> {
    (
        prop::option::of(multiline()),
        prop::option::of(text(10)),
        prop::option::of(multiline()),
    )
        .prop_map(|(message, kind, trace)| Problem {
            message,
            kind,
            trace,
        })
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Passed),
        Just(Status::Failed),
        Just(Status::Errored),
        Just(Status::Skipped),
        Just(Status::Flaky { attempts: 0 }),
    ]
}

/// A case as a reader would produce it: failures carry problems, only failed or flaky tests
/// carry earlier attempts, and a flaky test's attempts are its retries plus the passing one.
fn case() -> impl Strategy<Value = Case> {
    (
        text(16),
        prop::option::of(text(12)),
        status(),
        prop::option::of(0u64..10_000_000),
        prop::collection::vec(problem(), 0..3),
        prop::collection::vec(problem(), 1..3),
    )
        .prop_map(|(name, classname, status, micros, problems, retries)| {
            let mut case = Case::new(name, status);
            case.classname = classname.map(Into::into);
            case.duration = micros.map(Duration::from_micros);
            match status {
                Status::Passed => {}
                Status::Skipped => case.set_problems(problems.into_iter().take(1).collect()),
                Status::Failed | Status::Errored => {
                    case.set_problems(problems);
                    case.set_retries(retries.into_iter().skip(1).collect());
                }
                Status::Flaky { .. } => {
                    case.status = Status::Flaky {
                        attempts: u32::try_from(retries.len()).unwrap_or(u32::MAX) + 1,
                    };
                    case.set_retries(retries);
                }
            }
            case
        })
}

fn run() -> impl Strategy<Value = TestRun> {
    prop::collection::vec((text(16), prop::collection::vec(case(), 0..8)), 1..4).prop_map(
        |suites| TestRun {
            name: None,
            declared_duration: None,
            suites: suites
                .into_iter()
                .enumerate()
                .map(|(s, (name, cases))| Suite {
                    // Distinct names: suites and tests of one name are one identity to the reader.
                    name: format!("s{s} {name}"),
                    cases: cases
                        .into_iter()
                        .enumerate()
                        .map(|(i, mut c)| {
                            c.name = format!("t{i} {}", c.name);
                            c
                        })
                        .collect(),
                    ..Suite::default()
                })
                .collect(),
        },
    )
}

/// What must survive the round trip, per case.
fn shape(runs: &[TestRun]) -> Vec<(String, String, Status, Vec<String>)> {
    runs.iter()
        .flat_map(|r| r.suites.iter())
        .flat_map(|s| {
            s.cases.iter().map(|c| {
                (
                    s.name.clone(),
                    c.name.clone(),
                    c.status,
                    // A reasonless `<failure/>` reads back as an empty problem, a blank message as none.
                    c.problems()
                        .iter()
                        .filter_map(|p| p.message.clone())
                        .filter(|m| !m.trim().is_empty())
                        .collect(),
                )
            })
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn junit_output_reads_back_with_the_same_tests(run in run()) {
        let files = [FileReport {
            path: "generated.json".into(),
            result: Ok((Format::Ctrf, Parsed { runs: vec![run.clone()], diagnostics: Vec::new() })),
            original: None,
        }];
        let xml = convert::junit::write(&files);
        let (format, back) = parse::parse_bytes(xml.as_bytes(), FormatChoice::Auto)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        prop_assert_eq!(format, Format::Junit);
        let totals = |runs: &[TestRun]| {
            let mut t = test_report::model::Totals::default();
            for r in runs {
                t.merge(&r.totals());
            }
            [t.tests, t.passed, t.failed, t.errored, t.skipped, t.flaky]
        };
        prop_assert_eq!(totals(&back.runs), totals(std::slice::from_ref(&run)), "{}", xml);
        prop_assert_eq!(shape(&back.runs), shape(std::slice::from_ref(&run)), "{}", xml);
    }
}

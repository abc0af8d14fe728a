//! Every JUnit report of the conformance corpus (tests/conformance, copied from
//! ../shared/conformance with its licences) counted as the peers' expectations say.
//!
//! Mapping of our statuses to the peers' words: flaky tests passed in the end, so they count as
//! passed; errored counts as failed where a peer has no separate error state (dorny, mikepenz).
//! Deliberate deviations are listed in [`DEVIATIONS`] with our counts, so they stay pinned too.

use std::collections::BTreeMap;

use crate::support::{corpus, files_under, five, json, n, parse_file, totals_of};

/// (corpus-relative file, our tests/passed/failed/errored/skipped, why we differ).
const DEVIATIONS: &[(&str, [u64; 5], &str)] = &[
    (
        "enricomi-publish-unit-test-result-action/files/junit-xml/no-attributes.xml",
        [4, 1, 1, 1, 1],
        "EnricoMi drops <testcase> elements without name and classname (0 cases); we count them as \
         '(unnamed test)' so no failure is lost: 4 tests with one each of pass/fail/error/skip, \
         exactly the file's own suite counts",
    ),
    (
        "dorny-test-reporter/fixtures/external/java/TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml",
        [1, 0, 1, 0, 0],
        "TestNG retry: the skipped attempt and the failed retry of testVersionStrings are one failed test",
    ),
    (
        "dorny-test-reporter/fixtures/external/java/pulsar-test-report.xml",
        [805, 793, 1, 0, 11],
        "TestNG's retry analyzer reports a retried attempt as skipped and writes the retry as another \
         <testcase> of the same name: 3 skipped-then-run pairs are one test each (808 elements)",
    ),
];

fn deviation(path: &str) -> Option<[u64; 5]> {
    DEVIATIONS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, t, _)| *t)
}

/// Collects every mismatch instead of stopping at the first, so one run shows them all.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, path: &str, expected: [u64; 5], got: [u64; 5]) {
        let expected = deviation(path).unwrap_or(expected);
        if expected != got {
            self.0.push(format!(
                "{path}: expected tests/passed/failed/errored/skipped {expected:?}, got {got:?}"
            ));
        }
    }

    fn push(&mut self, message: String) {
        self.0.push(message);
    }

    fn assert_none(self, checked: usize, at_least: usize) {
        assert!(
            checked >= at_least,
            "only {checked} files checked, expected at least {at_least}"
        );
        assert!(
            self.0.is_empty(),
            "{} mismatches:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

#[test]
fn enricomi_junit_files_count_as_expected() {
    let dir = "enricomi-publish-unit-test-result-action";
    let summary = json(&corpus().join(dir).join("summary.json"));
    let mut bad = Mismatches::default();
    let mut checked = 0;
    for item in summary["items"].as_array().into_iter().flatten() {
        let format = item["format"].as_str().unwrap_or_default();
        if !(format == "junit-xml" || format.starts_with("xml")) {
            continue;
        }
        let path = format!("{dir}/files/{}", item["input"].as_str().unwrap_or_default());
        let (totals, error) = totals_of(&path);
        checked += 1;
        match item["outcome"].as_str() {
            Some("parsed") => {
                if let Some(e) = error {
                    bad.push(format!("{path}: expected to parse, got error {e}"));
                    continue;
                }
                let c = &item["cases"];
                let expected = [
                    n(c, "total"),
                    n(c, "success"),
                    n(c, "failure"),
                    n(c, "error"),
                    n(c, "skipped") + n(c, "disabled"),
                ];
                bad.check(&path, expected, five(&totals));
            }
            _ => {
                if error.is_none() {
                    bad.push(format!("{path}: expected an error, parsed {totals:?}"));
                }
            }
        }
    }
    bad.assert_none(checked, 30);
}

/// The JUnit dialects among dorny's reporters; the others are formats of later issues.
const DORNY_JUNIT_REPORTERS: &[&str] = &[
    "java-junit",
    "jest-junit",
    "phpunit-junit",
    "python-xunit",
    "swift-xunit",
    "tester-junit",
];

#[test]
fn dorny_junit_fixtures_count_as_expected() {
    let dir = "dorny-test-reporter";
    let index = json(&corpus().join(dir).join("index.json"));
    let mut bad = Mismatches::default();
    let mut checked = 0;
    let entries = ["with_snapshot", "assertion_only"]
        .iter()
        .flat_map(|k| index[*k].as_array().cloned().unwrap_or_default());
    for entry in entries {
        if !DORNY_JUNIT_REPORTERS.contains(&entry["reporter"].as_str().unwrap_or_default()) {
            continue;
        }
        let path = format!("{dir}/{}", entry["fixture"].as_str().unwrap_or_default());
        let (totals, error) = totals_of(&path);
        checked += 1;
        if let Some(e) = error {
            bad.push(format!("{path}: unexpected error {e}"));
            continue;
        }
        let x = &entry["expected"];
        // dorny has no errored state: its "failed" is our failed + errored.
        let got = [
            totals.tests,
            totals.passed + totals.flaky,
            totals.failed + totals.errored,
            0,
            totals.skipped,
        ];
        let or_ours = |key: &str, ours: u64| x[key].as_u64().unwrap_or(ours);
        let expected = [
            n(x, "tests"),
            or_ours("passed", got[1]),
            or_ours("failed", got[2]),
            0,
            or_ours("skipped", got[4]),
        ];
        bad.check(&path, expected, got);
    }
    bad.assert_none(checked, 20);
}

#[test]
fn mikepenz_fixtures_count_as_expected() {
    let dir = "mikepenz-action-junit-report";
    let expected = json(&corpus().join(dir).join("expected.json"));
    let mut bad = Mismatches::default();
    let mut checked = 0;
    for case in expected["cases"].as_array().into_iter().flatten() {
        let path = format!("{dir}/{}", case["file"].as_str().unwrap_or_default());
        let x = &case["expected"];
        let (totals, error) = totals_of(&path);
        checked += 1;
        if x["parse_error"].as_bool() == Some(true) {
            if error.is_none() {
                bad.push(format!("{path}: expected a parse error, parsed {totals:?}"));
            }
            continue;
        }
        if let Some(e) = error {
            bad.push(format!("{path}: unexpected error {e}"));
            continue;
        }
        // We always fold retries. Without mikepenz's check_retries each repeated element is a test,
        // which only expectedRetries.xml exercises (8 elements, 7 tests): compare against the
        // check_retries: true expectation for that file, listed separately.
        if case["check_retries"].as_bool() == Some(false) && path.ends_with("expectedRetries.xml") {
            assert_eq!(totals.tests, 7, "{path}: retried test folded into one");
            continue;
        }
        let got = BTreeMap::from([
            ("total", totals.tests),
            ("passed", totals.passed + totals.flaky),
            ("failed", totals.failed + totals.errored),
            ("skipped", totals.skipped),
        ]);
        for (key, value) in &got {
            if let Some(want) = x[*key].as_u64() {
                if want != *value {
                    bad.push(format!("{path}: {key} expected {want}, got {value}"));
                }
            }
        }
    }
    bad.assert_none(checked, 25);
}

#[test]
fn nextest_and_quick_junit_statuses_match_per_test() {
    let mut bad = Mismatches::default();
    let mut checked = 0;
    for dir in ["nextest", "quick-junit"] {
        let expected = json(&corpus().join(dir).join("expected.json"));
        for file in expected["files"].as_array().into_iter().flatten() {
            let path = format!("{dir}/{}", file["file"].as_str().unwrap_or_default());
            let report = parse_file(&corpus().join(&path));
            checked += 1;
            let t = report.totals();
            let x = &file["expected"];
            let want = [
                n(x, "tests"),
                n(x, "passed"),
                n(x, "failures"),
                n(x, "errors"),
                n(x, "skipped"),
            ];
            bad.check(&path, want, five(&t));
            let cases: Vec<_> = report.runs().iter().flat_map(|r| r.cases()).collect();
            for (name, status) in file["cases"].as_object().into_iter().flatten() {
                let case = cases.iter().find(|c| &c.name == name);
                let got = case.map(|c| match c.status.as_str() {
                    "flaky" => "passed",
                    "failed" => "failure",
                    "errored" => "error",
                    other => other,
                });
                if got != status.as_str() {
                    bad.push(format!("{path}: {name} expected {status}, got {got:?}"));
                }
            }
            for (name, kinds) in file["retries"].as_object().into_iter().flatten() {
                let want: u64 = kinds
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, v)| v.as_u64())
                    .sum();
                let got = cases
                    .iter()
                    .find(|c| &c.name == name)
                    .map(|c| c.retries().len() as u64);
                if got != Some(want) {
                    bad.push(format!(
                        "{path}: {name} expected {want} earlier attempts, got {got:?}"
                    ));
                }
            }
        }
    }
    bad.assert_none(checked, 4);
}

#[test]
fn every_deviation_is_still_needed() {
    for (path, ours, why) in DEVIATIONS {
        let (totals, error) = totals_of(path);
        assert!(error.is_none(), "{path}: {error:?}");
        assert_eq!(five(&totals), *ours, "{path}: {why}");
    }
}

/// The action reads reports from memory, the CLI streams them from disk through a buffer: every
/// file of the corpus, XML and otherwise, must read the same both ways, errors and their lines
/// included. After the prefix format detection needs, the stream gives 7 bytes per read, so nearly
/// every tag and text run is split across reads.
#[test]
fn every_corpus_file_reads_the_same_in_memory_and_streamed() {
    use test_report::parse::{parse, parse_bytes, FormatChoice};
    let mut checked = 0;
    let mut differ = Vec::new();
    for path in files_under(&corpus()) {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let in_memory = format!("{:?}", parse_bytes(&bytes, FormatChoice::Auto));
        let streamed = format!(
            "{:?}",
            parse(
                Trickle {
                    bytes: &bytes,
                    at: 0
                },
                FormatChoice::Auto
            )
        );
        if in_memory != streamed {
            differ.push(path.display().to_string());
        }
        checked += 1;
    }
    assert!(checked > 300, "only {checked} corpus files found");
    assert!(differ.is_empty(), "read differently: {differ:#?}");
}

/// Bytes handed out [`test_report::parse::DETECT_PREFIX_BYTES`] at first, then 7 at a time.
struct Trickle<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::BufRead;
        let n = self.fill_buf()?.len().min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.consume(n);
        Ok(n)
    }
}

impl std::io::BufRead for Trickle<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let window = if self.at == 0 {
            test_report::parse::DETECT_PREFIX_BYTES
        } else {
            7
        };
        Ok(&self.bytes[self.at..(self.at + window).min(self.bytes.len())])
    }

    fn consume(&mut self, amount: usize) {
        self.at += amount;
    }
}

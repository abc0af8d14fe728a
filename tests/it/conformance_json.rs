//! The JSON reports of the conformance corpus (Dart/Flutter, Mocha, Go test2json, RSpec), and
//! the invalid JSON inputs, counted as the peers' expectations say.
//!
//! dorny has no errored state: its "failed" is our failed + errored. Deliberate deviations are in
//! [`DEVIATIONS`] with our counts, so they stay pinned too.

use crate::support::{corpus, five, json, n, parse_file};

/// (corpus-relative file, our tests/passed/failed/errored/skipped, why we differ).
const DEVIATIONS: &[(&str, [u64; 5], &str)] = &[(
    "enricomi-publish-unit-test-result-action/files/mocha/tests.json",
    [5, 2, 2, 0, 1],
    "EnricoMi calls a Mocha failure 'error' when its err has unexpected.js's 'errorMode' option; \
     that is an assertion library's setting, not an unexpected exception: both failures are failed",
)];

fn deviation(path: &str) -> Option<[u64; 5]> {
    DEVIATIONS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, t, _)| *t)
}

#[test]
fn enricomi_json_files_count_as_expected() {
    let dir = "enricomi-publish-unit-test-result-action";
    let summary = json(&corpus().join(dir).join("summary.json"));
    let mut bad = Vec::new();
    let mut checked = 0;
    for item in summary["items"].as_array().into_iter().flatten() {
        let format = item["format"].as_str().unwrap_or_default();
        if !(format == "dart-json" || format == "mocha-json" || format.starts_with("json")) {
            continue;
        }
        let path = format!("{dir}/files/{}", item["input"].as_str().unwrap_or_default());
        let report = parse_file(&corpus().join(&path));
        checked += 1;
        if item["outcome"].as_str() != Some("parsed") {
            if report.error().is_none() {
                bad.push(format!(
                    "{path}: expected an error, parsed {:?}",
                    report.totals()
                ));
            }
            continue;
        }
        if let Some(e) = report.error() {
            bad.push(format!("{path}: expected to parse, got error {e}"));
            continue;
        }
        let c = &item["cases"];
        let expected = deviation(&path).unwrap_or([
            n(c, "total"),
            n(c, "success"),
            n(c, "failure"),
            n(c, "error"),
            n(c, "skipped") + n(c, "disabled"),
        ]);
        let got = five(&report.totals());
        if got != expected {
            bad.push(format!("{path}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(checked >= 6, "only {checked} files checked");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

const DORNY_JSON_REPORTERS: &[&str] = &[
    "dart-json",
    "flutter-json",
    "golang-json",
    "mocha-json",
    "rspec-json",
];

#[test]
fn dorny_json_fixtures_count_as_expected() {
    let dir = "dorny-test-reporter";
    let index = json(&corpus().join(dir).join("index.json"));
    let mut bad = Vec::new();
    let mut checked = 0;
    let entries = ["with_snapshot", "assertion_only"]
        .iter()
        .flat_map(|k| index[*k].as_array().cloned().unwrap_or_default());
    for entry in entries {
        if !DORNY_JSON_REPORTERS.contains(&entry["reporter"].as_str().unwrap_or_default()) {
            continue;
        }
        let path = format!("{dir}/{}", entry["fixture"].as_str().unwrap_or_default());
        let report = parse_file(&corpus().join(&path));
        checked += 1;
        if let Some(e) = report.error() {
            bad.push(format!("{path}: unexpected error {e}"));
            continue;
        }
        let t = report.totals();
        let got = [t.tests, t.passed + t.flaky, t.failed + t.errored, t.skipped];
        let x = &entry["expected"];
        let or_ours = |key: &str, ours: u64| x[key].as_u64().unwrap_or(ours);
        let expected = [
            n(x, "tests"),
            or_ours("passed", got[1]),
            or_ours("failed", got[2]),
            or_ours("skipped", got[3]),
        ];
        if got != expected {
            bad.push(format!(
                "{path}: expected tests/passed/failed/skipped {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(checked >= 9, "only {checked} files checked");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn every_json_deviation_is_still_needed() {
    for (path, ours, why) in DEVIATIONS {
        let report = parse_file(&corpus().join(path));
        assert!(report.error().is_none(), "{path}: {:?}", report.error());
        assert_eq!(five(&report.totals()), *ours, "{path}: {why}");
    }
}

// Reports produced here by the real tools (tests/fixtures/<producer>/, with the tool's console
// output beside each): our counts equal what the tool printed.

fn fixture(path: &str) -> (test_report::pipeline::FileReport, String) {
    let dir = crate::support::repo().join("tests/fixtures");
    let report = parse_file(&dir.join(path));
    assert!(report.error().is_none(), "{path}: {:?}", report.error());
    let console_path = dir.join(path.replace(".json", ".console.txt"));
    let console = std::fs::read_to_string(&console_path)
        .unwrap_or_else(|e| panic!("{}: {e}", console_path.display()));
    (report, console)
}

/// The number right before `word` in the first console summary line (one that starts with a
/// number) holding `anchor`: `2` for ("passing", "  2 passing (39ms)").
fn count(console: &str, anchor: &str, word: &str) -> u64 {
    let line = console
        .lines()
        .find(|l| l.contains(anchor) && l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no console line with '{anchor}'"));
    let before = &line[..line
        .find(word)
        .unwrap_or_else(|| panic!("no '{word}' in '{line}'"))];
    before
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no number before '{word}' in '{line}'"))
}

#[test]
fn mocha_json_counts_as_mocha_printed() {
    let (report, console) = fixture("mocha/mocha-json.json");
    let t = report.totals();
    assert_eq!(t.passed + t.flaky, count(&console, "passing", "passing"));
    assert_eq!(t.skipped, count(&console, "pending", "pending"));
    assert_eq!(t.failed + t.errored, count(&console, "failing", "failing"));
    // The retried pass is flaky; the timeout, the TypeError and the failed hook are errored.
    assert_eq!((t.flaky, t.errored, t.failed), (1, 3, 2));
    let names: Vec<_> = report.runs()[0].cases().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"is skipped 日本語"), "{names:?}");
}

#[test]
fn ctrf_counts_as_its_summary_says() {
    let (report, console) = fixture("ctrf/mocha-ctrf-json-reporter.json");
    assert!(console.contains("successfully written ctrf json"));
    let dir = crate::support::repo().join("tests/fixtures/ctrf");
    let doc = json(&dir.join("mocha-ctrf-json-reporter.json"));
    let s = &doc["results"]["summary"];
    let t = report.totals();
    assert_eq!(t.tests, n(s, "tests"));
    assert_eq!(t.passed + t.flaky, n(s, "passed"));
    assert_eq!(t.failed + t.errored, n(s, "failed"));
    assert_eq!(t.skipped, n(s, "skipped") + n(s, "pending") + n(s, "other"));
    assert_eq!(t.flaky, 1, "the test that passed on its third try");
}

#[test]
fn cucumber_js_counts_scenarios_as_cucumber_printed() {
    let (report, console) = fixture("cucumber-js/cucumber-json.json");
    let t = report.totals();
    assert_eq!(t.tests, count(&console, "scenarios (", "scenarios"));
    assert_eq!(
        t.failed + t.errored,
        count(&console, "scenarios (", "failed") + count(&console, "scenarios (", "undefined")
    );
    assert_eq!(
        t.errored, 2,
        "the undefined step and the failed Before hook"
    );
    assert_eq!(t.skipped, count(&console, "scenarios (", "pending"));
    assert_eq!(t.passed, count(&console, "scenarios (", "passed"));
    let outline: Vec<_> = report.runs()[0]
        .cases()
        .filter(|c| c.name.starts_with("doubles"))
        .map(|c| c.status.as_str())
        .collect();
    assert_eq!(outline, ["passed", "failed"], "each example row is a test");
}

#[test]
fn behave_counts_scenarios_as_behave_printed() {
    let (report, console) = fixture("behave/behave-json.json");
    let t = report.totals();
    let line = "scenarios passed";
    assert_eq!(t.passed, count(&console, line, "scenarios passed"));
    assert_eq!(t.failed, count(&console, line, "failed"));
    assert_eq!(t.errored, count(&console, line, "error"));
    assert_eq!(t.skipped, count(&console, line, "skipped"));
    let crashed = report.runs()[0]
        .cases()
        .find(|c| c.name == "crashes")
        .expect("scenario 'crashes'");
    assert!(
        crashed.stdout().is_some_and(|s| s.contains("it throws")),
        "steps kept"
    );
}

#[test]
fn go_test_json_counts_as_go_test_printed() {
    // Go 1.19: the broken package's compiler output and `FAIL … [build failed]` are plain text
    // at the top of the stream; TestPanics panics; the parallel tests interleave.
    let (report, console) = fixture("go/go-test-json.json");
    let t = report.totals();
    let lines = |marker: &str| console.matches(marker).count() as u64;
    assert_eq!(t.passed, lines("--- PASS"));
    assert_eq!(t.skipped, lines("--- SKIP"));
    assert_eq!(
        t.failed + t.errored,
        lines("--- FAIL") + lines("[build failed]")
    );
    assert_eq!(t.errored, 2, "the panic and the build failure");
    let cases: Vec<_> = report.runs()[0].cases().collect();
    let sub = cases
        .iter()
        .find(|c| c.name == "TestTable/2+2=5")
        .expect("subtest");
    assert_eq!(sub.headline(), Some("2+2: got 4 want 5"));
    assert!(cases.iter().any(|c| c.name == "TestTable/ünïcode"));
}

#[test]
fn rspec_json_counts_as_rspec_printed() {
    let (report, console) = fixture("rspec/rspec-json.json");
    let t = report.totals();
    assert_eq!(t.tests, count(&console, "examples,", "examples"));
    assert_eq!(
        t.failed + t.errored,
        count(&console, "examples,", "failures")
    );
    assert_eq!(t.skipped, count(&console, "examples,", "pending"));
    assert_eq!(
        t.errored, 1,
        "the NoMethodError is an error, not a failed expectation"
    );

    let (report, console) = fixture("rspec/rspec-load-error.json");
    let t = report.totals();
    assert_eq!(
        t.errored,
        count(&console, "examples,", "error occurred outside")
    );
    assert_eq!(t.tests, t.errored, "no example ran");
}

#[test]
fn googletest_json_counts_as_googletest_printed() {
    let (report, console) = fixture("googletest/gtest-json.json");
    let t = report.totals();
    // "[  PASSED  ] 3 tests." and the like; "YOU HAVE 1 DISABLED TEST".
    let tagged = |tag: &str| {
        console
            .lines()
            .filter_map(|l| l.strip_prefix(tag))
            .find_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no '{tag} n tests' line"))
    };
    let disabled: u64 = console
        .lines()
        .find_map(|l| l.trim().strip_prefix("YOU HAVE "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("'YOU HAVE n DISABLED TEST' line");
    assert_eq!(t.passed, tagged("[  PASSED  ]"));
    assert_eq!(t.failed + t.errored, tagged("[  FAILED  ]"));
    assert_eq!(t.skipped, tagged("[  SKIPPED ]") + disabled);
    assert_eq!(t.errored, 1, "the uncaught C++ exception");
    let names: Vec<_> = report.runs()[0].cases().map(|c| c.name.clone()).collect();
    assert!(names.contains(&"IsEven/1".to_owned()), "{names:?}");
    let compares = report.runs()[0]
        .cases()
        .find(|c| c.name == "Compares")
        .expect("Compares");
    let trace = compares.problems()[0].trace.as_deref().unwrap_or_default();
    assert!(trace.contains("größe"), "UTF-8 repaired: {trace}");
}

#[test]
fn node_test_tap_counts_as_node_printed() {
    // Node's TAP ends with its own counts as comments: "# tests 10", "# pass 3", …
    let path = crate::support::repo().join("tests/fixtures/node-test/node-tap.tap");
    let report = parse_file(&path);
    assert!(report.error().is_none(), "{:?}", report.error());
    let tap = std::fs::read_to_string(&path).expect("fixture");
    let node = |key: &str| -> u64 {
        tap.lines()
            .find_map(|l| l.strip_prefix(&format!("# {key} ")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no '# {key}' line"))
    };
    let t = report.totals();
    assert_eq!(t.tests, node("tests"));
    assert_eq!(t.passed, node("pass"));
    assert_eq!(t.failed + t.errored, node("fail") + node("cancelled"));
    assert_eq!(t.skipped, node("skipped") + node("todo"));
    assert_eq!(
        t.errored, 2,
        "the TypeError and the test cancelled by its failed hook"
    );
    let inner = report.runs()[0]
        .cases()
        .find(|c| c.name == "sub two fails")
        .expect("subtest");
    assert_eq!(inner.headline(), Some("sub two is wrong"));
    assert_eq!(inner.location().and_then(|l| l.line), Some(33));
    let suite = report.runs()[0]
        .suites
        .iter()
        .find(|s| s.cases.iter().any(|c| c.name == "passes deep down"))
        .expect("nested suite");
    assert_eq!(suite.name, "Rechner — Größe › nested");
}

#[test]
fn newman_json_counts_as_newman_printed() {
    let (report, console) = fixture("newman/newman-json.json");
    // "│              assertions │                5 │                2 │"
    let row = |name: &str| -> (u64, u64) {
        let line = console
            .lines()
            .find(|l| l.split('│').nth(1).is_some_and(|c| c.trim() == name))
            .unwrap_or_else(|| panic!("no '{name}' row"));
        let cells: Vec<u64> = line
            .split('│')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        (cells[0], cells[1])
    };
    let t = report.totals();
    let (assertions, failed_assertions) = row("assertions");
    let (_, failed_requests) = row("requests");
    let (_, failed_scripts) = row("test-scripts");
    let (_, failed_prerequests) = row("prerequest-scripts");
    assert_eq!(t.tests - t.errored, assertions);
    assert_eq!(t.failed, failed_assertions);
    assert_eq!(
        t.errored,
        failed_requests + failed_scripts + failed_prerequests
    );
    assert_eq!(t.skipped, 1, "pm.test.skip");
    let suite = &report.runs()[0].suites[0];
    assert_eq!(suite.name, "Folder 日本語 › get status");
}

#[test]
fn every_json_and_tap_report_is_recognized_by_content() {
    let cases = [
        ("fixtures/mocha/mocha-json.json", "mocha-json"),
        ("fixtures/ctrf/mocha-ctrf-json-reporter.json", "ctrf"),
        ("fixtures/cucumber-js/cucumber-json.json", "cucumber-json"),
        ("fixtures/cucumber-ruby/cucumber-json.json", "cucumber-json"),
        ("fixtures/behave/behave-json.json", "behave-json"),
        ("fixtures/go/go-test-json.json", "go-test-json"),
        ("fixtures/rspec/rspec-json.json", "rspec-json"),
        ("fixtures/rspec/rspec-load-error.json", "rspec-json"),
        ("fixtures/googletest/gtest-json.json", "gtest-json"),
        ("fixtures/node-test/node-tap.tap", "tap"),
        ("fixtures/newman/newman-json.json", "newman-json"),
        (
            "conformance/dorny-test-reporter/fixtures/golang-json.json",
            "go-test-json",
        ),
        (
            "conformance/dorny-test-reporter/fixtures/dart-json.json",
            "dart-json",
        ),
        (
            "conformance/dorny-test-reporter/fixtures/empty/dart-json.json",
            "dart-json",
        ),
        (
            "conformance/dorny-test-reporter/fixtures/empty/mocha-json.json",
            "mocha-json",
        ),
        (
            "conformance/dorny-test-reporter/fixtures/empty/rspec-json.json",
            "rspec-json",
        ),
    ];
    for (path, want) in cases {
        let report = parse_file(&crate::support::repo().join("tests").join(path));
        let got = report.result.as_ref().map(|(f, _)| f.as_str());
        assert_eq!(got.ok(), Some(want), "{path}: {:?}", report.error());
        // The tools' own counters agree with the tests we count: no warning.
        let diagnostics = report.result.as_ref().map(|(_, p)| p.diagnostics.clone());
        assert_eq!(diagnostics.ok(), Some(vec![]), "{path}");
    }
}

// Hostile JSON and text input: clear errors, bounded memory, never a panic or an empty success.

fn json_error(text: &str, choice: &str) -> test_report::parse::ParseError {
    let choice: test_report::parse::FormatChoice = choice.parse().expect("format name");
    match test_report::parse::parse_bytes(text.as_bytes(), choice) {
        Ok((f, p)) => panic!("expected an error, parsed {f:?} {:?}", p.runs),
        Err(e) => e,
    }
}

#[test]
fn deep_json_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let deep = format!("{{\"stats\": {{}}, \"tests\": {}", "[".repeat(200_000));
    let e = json_error(&deep, "auto");
    assert_eq!(e.kind, test_report::parse::ParseErrorKind::Syntax, "{e}");
}

#[test]
fn a_cut_json_report_names_its_line() {
    let e = json_error(
        "{\"stats\": {\"tests\": 1},\n\"tests\": [\n{\"title\": \"a\"",
        "auto",
    );
    assert_eq!(e.kind, test_report::parse::ParseErrorKind::Syntax);
    assert_eq!(e.line, Some(3), "{e}");
}

#[test]
fn unknown_json_says_which_formats_were_tried() {
    let e = json_error("{\"name\": \"not a report\"}", "auto");
    assert_eq!(e.kind, test_report::parse::ParseErrorKind::Unsupported);
    for tried in ["Mocha JSON", "Go test -json", "CTRF JSON", "Newman"] {
        assert!(e.message.contains(tried), "{}", e.message);
    }
}

/// `{"Action":"output","Output":"xxxx…` without end, counting the bytes the parser pulled.
struct EndlessLine {
    produced: u64,
}

impl std::io::Read for EndlessLine {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let header = b"{\"Action\":\"output\",\"Output\":\"";
        let start = usize::try_from(self.produced).unwrap_or(usize::MAX);
        let n = if start < header.len() {
            let part = &header[start..];
            let n = part.len().min(buf.len());
            buf[..n].copy_from_slice(&part[..n]);
            n
        } else {
            buf.fill(b'x');
            buf.len()
        };
        self.produced += n as u64;
        Ok(n)
    }
}

#[test]
fn an_endless_go_test_line_stops_at_the_line_bound() {
    let mut source = EndlessLine { produced: 0 };
    let reader = std::io::BufReader::with_capacity(64 * 1024, &mut source);
    let choice = "go-test-json".parse().expect("format name");
    let e = test_report::parse::parse(reader, choice).expect_err("endless line");
    assert_eq!(e.kind, test_report::parse::ParseErrorKind::TooLarge, "{e}");
    assert!(
        source.produced < 20 * 1024 * 1024,
        "read {} bytes",
        source.produced
    );
}

#[test]
fn cucumber_ruby_counts_scenarios_as_cucumber_printed() {
    // Cucumber-Ruby 2.4: backgrounds written before every scenario, a Before hook that fails
    // (on the background element), outline rows named with their <placeholders>.
    let (report, console) = fixture("cucumber-ruby/cucumber-json.json");
    let t = report.totals();
    let line = "scenarios (";
    assert_eq!(t.tests, count(&console, line, "scenarios"));
    assert_eq!(
        t.failed + t.errored,
        count(&console, line, "failed") + count(&console, line, "undefined")
    );
    assert_eq!(t.skipped, count(&console, line, "pending"));
    assert_eq!(t.passed, count(&console, line, "passed"));
    let run = &report.runs()[0];
    let hook = run
        .cases()
        .find(|c| c.name == "has a failing hook")
        .expect("scenario");
    assert_eq!(hook.status.as_str(), "errored");
    assert_eq!(hook.headline(), Some("database unavailable (RuntimeError)"));
    let rows: Vec<_> = run
        .cases()
        .filter(|c| c.name.starts_with("doubles"))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        rows,
        ["doubles <n> (example row 2)", "doubles <n> (example row 3)"]
    );
}

#[test]
fn tap_is_recognized_after_a_comment_banner_and_without_a_version() {
    for text in [
        "# harness v1\nok 1 - a\nnot ok 2 - b\n1..2\n",
        "1..1\nok 1\n",
    ] {
        let (format, parsed) = test_report::parse::parse_bytes(
            text.as_bytes(),
            test_report::parse::FormatChoice::Auto,
        )
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(format.as_str(), "tap");
        assert!(parsed.runs[0].cases().count() >= 1);
    }
}

#[test]
fn every_json_and_tap_fixture_converts_to_junit_with_the_same_counts() {
    let dir = crate::support::repo().join("tests/fixtures");
    let mut checked = 0;
    for producer in std::fs::read_dir(&dir).expect("fixtures") {
        let producer = producer.expect("entry").path();
        if !producer.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&producer).expect("producer dir") {
            let path = file.expect("entry").path();
            let name = path.to_string_lossy().into_owned();
            let report_file = name.ends_with(".json") || name.ends_with(".tap");
            if !report_file {
                continue;
            }
            let report = parse_file(&path);
            assert!(report.error().is_none(), "{name}: {:?}", report.error());
            let xml = test_report::convert::junit::write(std::slice::from_ref(&report));
            let back = crate::support::parse_str("converted.xml", &xml);
            let (a, b) = (report.totals(), back.totals());
            assert_eq!(
                [a.tests, a.passed, a.failed, a.errored, a.skipped, a.flaky],
                [b.tests, b.passed, b.failed, b.errored, b.skipped, b.flaky],
                "{name}: JUnit round trip"
            );
            checked += 1;
        }
    }
    for path in [
        "dorny-test-reporter/fixtures/dart-json.json",
        "dorny-test-reporter/fixtures/golang-json.json",
        "dorny-test-reporter/fixtures/mocha-json.json",
        "dorny-test-reporter/fixtures/rspec-json.json",
        "dorny-test-reporter/fixtures/external/flutter/provider-test-results.json",
        "dorny-test-reporter/fixtures/external/mocha/mocha-test-results.json",
        "enricomi-publish-unit-test-result-action/files/dart/json/tests.json",
        "enricomi-publish-unit-test-result-action/files/mocha/tests.json",
    ] {
        let report = parse_file(&corpus().join(path));
        let xml = test_report::convert::junit::write(std::slice::from_ref(&report));
        let back = crate::support::parse_str("converted.xml", &xml);
        let mut want = report.totals();
        if path.ends_with("mocha-test-results.json") {
            // Two pairs of distinct Mocha tests share describe path, title and file, and Mocha
            // gives no line; in JUnit, same classname, name and file is one test rerun, so each
            // pair reads back as one passing test.
            want.tests -= 2;
            want.passed -= 2;
        }
        assert_eq!(want, back.totals(), "{path}: JUnit round trip");
        checked += 1;
    }
    assert!(checked >= 19, "only {checked} reports");
}

#[test]
fn an_empty_cucumber_report_is_zero_tests_not_an_error() {
    let (format, parsed) =
        test_report::parse::parse_bytes(b"[\n]\n", test_report::parse::FormatChoice::Auto)
            .expect("empty array");
    assert_eq!(format.as_str(), "cucumber-json");
    assert_eq!(parsed.runs[0].totals().tests, 0);
}

//! The NUnit, xUnit.net and TRX reports of the conformance corpus (tests/conformance) counted as
//! the peers' expectations say: EnricoMi's `summary.json` per status, dorny's `dotnet-nunit` and
//! `dotnet-trx` reporters (dorny has no errored state: its failed is our failed + errored).
//! Deliberate deviations are listed in [`DEVIATIONS`] with our counts, so they stay pinned too.

use test_report::parse::FormatChoice;

use crate::support::{corpus, five, json, n, parse_file, totals_of};

/// (corpus-relative file, our tests/passed/failed/errored/skipped, why we differ).
const DEVIATIONS: &[(&str, [u64; 5], &str)] = &[
    (
        "enricomi-publish-unit-test-result-action/files/nunit/mstest/clicketyclackety.xml",
        [23, 13, 1, 9, 0],
        NUNIT3_ERROR_LABEL,
    ),
    (
        "enricomi-publish-unit-test-result-action/files/nunit/mstest/timewarpinc.xml",
        [1, 0, 0, 1, 0],
        NUNIT3_ERROR_LABEL,
    ),
    (
        "enricomi-publish-unit-test-result-action/files/nunit/nunit3/jenkins/NUnit-issue44527.xml",
        [150, 6, 1, 143, 0],
        NUNIT3_ERROR_LABEL,
    ),
    (
        "enricomi-publish-unit-test-result-action/files/trx/yami_YAMILEX_2015-10-24_04_18_59.trx",
        [25, 2, 2, 1, 20],
        "TRX outcome Aborted (EST_SEG_TEMPTest ran 4.6 s, then the run aborted) is errored: the test \
         was cut off, not skipped (EnricoMi: skipped); the 19 NotExecuted and 1 NotRunnable are skipped",
    ),
];

/// NUnit 3 marks a test that threw instead of failing an assertion `result="Failed"
/// label="Error"` and its console counts them apart ("Failed: 10, Errors: 9, Failures: 1");
/// EnricoMi folds them into failures, we keep them errored.
const NUNIT3_ERROR_LABEL: &str =
    "NUnit 3 label=\"Error\" tests are errored, not failed (EnricoMi counts them as failures)";

fn expected_or_deviation(path: &str, expected: [u64; 5]) -> [u64; 5] {
    DEVIATIONS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map_or(expected, |(_, ours, _)| *ours)
}

#[test]
fn enricomi_nunit_xunit_trx_files_count_as_expected() {
    let dir = "enricomi-publish-unit-test-result-action";
    let summary = json(&corpus().join(dir).join("summary.json"));
    let mut bad = Vec::new();
    let mut checked = 0;
    for item in summary["items"].as_array().into_iter().flatten() {
        let format = item["format"].as_str().unwrap_or_default();
        if !matches!(format, "nunit" | "xunit" | "trx") {
            continue;
        }
        let path = format!("{dir}/files/{}", item["input"].as_str().unwrap_or_default());
        let report = parse_file(&corpus().join(&path));
        let (totals, error) = (report.totals(), report.error().map(ToString::to_string));
        checked += 1;
        if let Ok((_, parsed)) = &report.result {
            // TRX files are written by tools, so their counters agree with their cases; the
            // NUnit and xUnit.net files include the Jenkins plugins' hand-edited fixtures, whose
            // counters rightly draw warnings. yami's run crashed, which is worth a warning.
            let crashed = path.contains("yami_YAMILEX");
            if format == "trx" && parsed.diagnostics.len() != usize::from(crashed) {
                bad.push(format!(
                    "{path}: unexpected warnings {:?}",
                    parsed.diagnostics
                ));
            }
        }
        if item["outcome"].as_str() != Some("parsed") {
            if error.is_none() {
                bad.push(format!("{path}: expected an error, parsed {totals:?}"));
            }
            continue;
        }
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
        let expected = expected_or_deviation(&path, expected);
        if expected != five(&totals) {
            bad.push(format!(
                "{path}: expected tests/passed/failed/errored/skipped {expected:?}, got {:?}",
                five(&totals)
            ));
        }
    }
    assert!(checked >= 40, "only {checked} files checked");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn dorny_dotnet_fixtures_count_as_expected() {
    let dir = "dorny-test-reporter";
    let index = json(&corpus().join(dir).join("index.json"));
    let mut bad = Vec::new();
    let mut checked = 0;
    let entries = ["with_snapshot", "assertion_only"]
        .iter()
        .flat_map(|k| index[*k].as_array().cloned().unwrap_or_default());
    for entry in entries {
        let reporter = entry["reporter"].as_str().unwrap_or_default();
        if !matches!(reporter, "dotnet-nunit" | "dotnet-trx") {
            continue;
        }
        let path = format!("{dir}/{}", entry["fixture"].as_str().unwrap_or_default());
        let report = parse_file(&corpus().join(&path));
        let (t, error) = (report.totals(), report.error().map(ToString::to_string));
        checked += 1;
        if let Ok((_, parsed)) = &report.result {
            bad.extend(parsed.diagnostics.iter().map(|d| format!("{path}: {d}")));
        }
        if let Some(e) = error {
            bad.push(format!("{path}: unexpected error {e}"));
            continue;
        }
        let x = &entry["expected"];
        let got = [t.tests, t.passed + t.flaky, t.failed + t.errored, t.skipped];
        let want = [
            n(x, "tests"),
            x["passed"].as_u64().unwrap_or(got[1]),
            x["failed"].as_u64().unwrap_or(got[2]),
            x["skipped"].as_u64().unwrap_or(got[3]),
        ];
        if want != got {
            bad.push(format!(
                "{path}: expected tests/passed/failed/skipped {want:?}, got {got:?}"
            ));
        }
    }
    assert!(checked >= 7, "only {checked} files checked");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn nunit_xxe_probes_never_show_the_referenced_file() {
    let dir = "enricomi-publish-unit-test-result-action/files/nunit/nunit3/jenkins";
    for file in ["NUnit-sec1752-file.xml", "NUnit-sec1752-https.xml"] {
        let report = parse_file(&corpus().join(dir).join(file));
        assert!(report.error().is_none(), "{file}: {:?}", report.error());
        let text = format!("{:?}", report.runs());
        assert!(!text.contains("abc"), "{file}: external entity was read");
        assert_eq!(report.totals().failed, 1, "{file}");
    }
}

#[test]
fn every_deviation_is_still_needed() {
    for (path, ours, why) in DEVIATIONS {
        let (totals, error) = totals_of(path);
        assert!(error.is_none(), "{path}: {error:?}");
        assert_eq!(five(&totals), *ours, "{path}: {why}");
    }
}

/// Robot Framework 7.5 run on tests/fixtures/robot/suite, written once in the RF 7 schema and
/// once with `--legacy-output` (RF 6 schema), and Robot Framework 6.1.1 on the same suite;
/// console.txt and console-rf6.txt are Robot's own consoles (same summary).
#[test]
fn robot_outputs_count_as_robots_console_did() {
    let dir = crate::support::repo().join("tests/fixtures/robot");
    let console = std::fs::read_to_string(dir.join("console.txt")).unwrap();
    // The last summary line is the whole run: "8 tests, 1 passed, 5 failed, 2 skipped".
    let last = console.lines().rfind(|l| l.contains(" tests, ")).unwrap();
    let numbers: Vec<u64> = last
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let rf6 = std::fs::read_to_string(dir.join("console-rf6.txt")).unwrap();
    assert!(rf6.contains(last), "RF 6 counted the same: {last}");
    for file in ["rf7-output.xml", "rf7-legacy-output.xml", "rf6-output.xml"] {
        let report = parse_file(&dir.join(file));
        assert!(report.error().is_none(), "{file}: {:?}", report.error());
        let t = report.totals();
        assert_eq!(
            vec![t.tests, t.passed, t.failed + t.errored, t.skipped],
            numbers,
            "{file}"
        );
        // Two suite-setup failures and one test-setup failure are errors, not assertion failures.
        assert_eq!(t.errored, 3, "{file}");
        let unicode = report
            .runs()
            .iter()
            .flat_map(|r| r.cases())
            .find(|c| c.name == "Ünïcödé test ✓")
            .unwrap();
        assert_eq!(
            unicode.headline(),
            Some("message with ümlauts & <brackets>")
        );
    }
}

/// Our JUnit output of one file per new format, read back by our JUnit reader, counts the same.
#[test]
fn convert_to_junit_round_trips_every_xml_format() {
    let files = [
        "enricomi-publish-unit-test-result-action/files/nunit/nunit3/jenkins/NUnit-correct.xml",
        "enricomi-publish-unit-test-result-action/files/nunit/mstest/clicketyclackety.xml",
        "enricomi-publish-unit-test-result-action/files/xunit/mstest/fixie.xml",
        "enricomi-publish-unit-test-result-action/files/trx/yami_YAMILEX_2015-10-24_04_18_59.trx",
        "dorny-test-reporter/fixtures/dotnet-trx.trx",
        "../fixtures/robot/rf7-output.xml",
        "../fixtures/testng/testng-results.xml",
    ];
    for file in files {
        let report = parse_file(&corpus().join(file));
        assert!(report.error().is_none(), "{file}: {:?}", report.error());
        let junit = test_report::convert::junit::write(std::slice::from_ref(&report));
        let again = crate::support::parse_str("round-trip.xml", &junit);
        assert!(again.error().is_none(), "{file}: {:?}", again.error());
        assert_eq!(five(&again.totals()), five(&report.totals()), "{file}");
        assert_eq!(again.totals().flaky, report.totals().flaky, "{file}");
    }
}

/// TestNG 6.9.12 (Debian) run on tests/fixtures/testng/src; console.txt is TestNG's own console:
/// "Total tests run: 10, Failures: 3, Skips: 3 / Configuration Failures: 1".
#[test]
fn testng_results_count_as_testngs_console_did() {
    let dir = crate::support::repo().join("tests/fixtures/testng");
    let console = std::fs::read_to_string(dir.join("console.txt")).unwrap();
    assert!(console.contains("Total tests run: 10, Failures: 3, Skips: 3"));
    assert!(console.contains("Configuration Failures: 1"));
    let report = parse_file(&dir.join("testng-results.xml"));
    assert!(report.error().is_none(), "{:?}", report.error());
    if let Ok((_, parsed)) = &report.result {
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    }
    let t = report.totals();
    // TestNG counts the retried attempt of `flaky` as a skip and a run: we fold it into one
    // flaky test (10 - 1), and add the failed @BeforeClass as one errored case.
    assert_eq!(
        [t.tests, t.passed, t.flaky, t.failed, t.errored, t.skipped],
        [10, 3, 1, 3, 1, 2]
    );
    let names: Vec<String> = report
        .runs()
        .iter()
        .flat_map(|r| r.cases())
        .map(|c| c.name.clone())
        .collect();
    for name in ["doubles(1, 2)", "doubles(3, 7)", "connect (configuration)"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
}

/// A JavaScript string literal's content without its backslash escapes (`\\`, `\"`, `` \` ``).
fn unescape_js(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            other => out.push(other),
        }
    }
    out
}

/// The (name, result) pairs of one entry of a dorny Jest snapshot: each `"name"` line directly
/// followed by a `"result"` line is one test.
fn snapshot_tests(snap: &str, key: &str) -> Vec<(String, String)> {
    let start = snap
        .find(&format!("exports[`{key}`]"))
        .unwrap_or_else(|| panic!("no snapshot {key}"));
    let entry = &snap[start..];
    let entry = &entry[..entry.find("\n`;").unwrap_or(entry.len())];
    let value = |line: &str, key: &str| {
        let rest = line.trim().strip_prefix(&format!("\"{key}\": \""))?;
        Some(unescape_js(rest.strip_suffix("\",")?))
    };
    let lines: Vec<&str> = entry.lines().collect();
    lines
        .windows(2)
        .filter_map(|w| Some((value(w[0], "name")?, value(w[1], "result")?)))
        .collect()
}

/// Per test: dorny's snapshots of its dotnet-nunit and dotnet-trx reports list the same names
/// with the same results (errored counts as failed there, flaky as success).
#[test]
fn dorny_dotnet_snapshots_match_per_test() {
    let dir = corpus().join("dorny-test-reporter");
    let index = json(&dir.join("index.json"));
    let mut checked = 0;
    for entry in index["with_snapshot"].as_array().into_iter().flatten() {
        let reporter = entry["reporter"].as_str().unwrap_or_default();
        let key = entry["snapshot_key"].as_str().unwrap_or_default();
        if !matches!(reporter, "dotnet-nunit" | "dotnet-trx") || key.contains("only failed") {
            continue;
        }
        let snap =
            std::fs::read_to_string(dir.join(entry["snapshot_file"].as_str().unwrap())).unwrap();
        let mut want = snapshot_tests(&snap, key);
        let report = parse_file(&dir.join(entry["fixture"].as_str().unwrap()));
        let mut got: Vec<(String, String)> = report
            .runs()
            .iter()
            .flat_map(|r| r.cases())
            .map(|c| {
                let result = match c.status.as_str() {
                    "passed" | "flaky" => "success",
                    "failed" | "errored" => "failed",
                    other => other,
                };
                (c.name.clone(), result.to_owned())
            })
            .collect();
        want.sort();
        got.sort();
        assert!(!want.is_empty(), "{key}: no tests read from the snapshot");
        let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
        let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
        assert!(
            missing.is_empty() && extra.is_empty() && got.len() == want.len(),
            "{key}: missing {missing:?}, extra {extra:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// A report of any of these formats cut off anywhere is an error naming a line, never a panic
/// and never a partial success.
#[test]
fn truncated_reports_of_every_xml_format_are_errors_with_a_line() {
    let files = [
        "enricomi-publish-unit-test-result-action/files/nunit/nunit3/jenkins/NUnit-correct.xml",
        "enricomi-publish-unit-test-result-action/files/nunit/mstest/timewarpinc.xml",
        "enricomi-publish-unit-test-result-action/files/xunit/mstest/fixie.xml",
        "dorny-test-reporter/fixtures/dotnet-trx.trx",
        "../fixtures/testng/testng-results.xml",
        "../fixtures/robot/rf7-output.xml",
    ];
    for file in files {
        let bytes = std::fs::read(corpus().join(file)).unwrap();
        // Cut after the root's start tag: before it, detection cannot know the format.
        let text = String::from_utf8_lossy(&bytes);
        let roots = [
            "<test-results",
            "<test-run",
            "<assemblies",
            "<TestRun",
            "<testng-results",
            "<robot",
        ];
        let root = roots.iter().filter_map(|r| text.find(r)).min().unwrap();
        let root_end = root + text[root..].find('>').unwrap() + 1;
        for cut in (root_end..bytes.len() - 16).step_by(bytes.len() / 40) {
            let result = test_report::parse::parse_bytes(&bytes[..cut], FormatChoice::Auto);
            match result {
                Err(e) => assert!(e.line.is_some(), "{file} cut at {cut}: {e}"),
                Ok((_, parsed)) => panic!(
                    "{file} cut at {cut} parsed {} runs instead of failing",
                    parsed.runs.len()
                ),
            }
        }
    }
}

//! The JSON reports of the conformance corpus (Dart/Flutter, Mocha, Go test2json, RSpec), and
//! the invalid JSON inputs, counted as the peers' expectations say.
//!
//! dorny has no errored state: its "failed" is our failed + errored. Deliberate deviations are in
//! [`DEVIATIONS`] with our counts, so they stay pinned too.

use serde_json::Value;
use test_report::model::Totals;

use crate::support::{corpus, json, parse_file};

/// (corpus-relative file, our tests/passed/failed/errored/skipped, why we differ).
const DEVIATIONS: &[(&str, [u64; 5], &str)] = &[(
    "enricomi-publish-unit-test-result-action/files/mocha/tests.json",
    [5, 2, 2, 0, 1],
    "EnricoMi calls a Mocha failure 'error' when its err has unexpected.js's 'errorMode' option; \
     that is an assertion library's setting, not an unexpected exception: both failures are failed",
)];

fn five(t: &Totals) -> [u64; 5] {
    [t.tests, t.passed + t.flaky, t.failed, t.errored, t.skipped]
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("expectation without '{key}': {v}"))
}

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
                bad.push(format!("{path}: expected an error, parsed {:?}", report.totals()));
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

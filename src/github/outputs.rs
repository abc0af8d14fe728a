//! Step outputs (`GITHUB_OUTPUT`): the counts as strings, names as declared in action.yml.

use std::collections::BTreeMap;

use crate::pipeline::{Conclusion, Report};

pub fn of(report: &Report, conclusion: Conclusion) -> BTreeMap<&'static str, String> {
    let t = &report.totals;
    BTreeMap::from([
        ("total", t.tests.to_string()),
        ("passed", t.passed.to_string()),
        ("failed", t.failed.to_string()),
        ("errored", t.errored.to_string()),
        ("skipped", t.skipped.to_string()),
        ("flaky", t.flaky.to_string()),
        ("time", t.duration_ms.to_string()),
        ("conclusion", conclusion.as_str().to_owned()),
    ])
}

//! Helpers shared by the integration tests.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use test_report::model::Totals;
use test_report::parse::{self, FormatChoice};
use test_report::pipeline::FileReport;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file below `dir`, in sorted order.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

pub fn corpus() -> PathBuf {
    repo().join("tests/conformance")
}

/// Parses a file the way the CLI does: streamed through a buffered reader.
pub fn parse_file(path: &Path) -> FileReport {
    let shown = path.display().to_string();
    match File::open(path) {
        Ok(f) => FileReport {
            path: shown,
            result: parse::parse(BufReader::with_capacity(256 * 1024, f), FormatChoice::Auto),
            original: None,
        },
        Err(e) => FileReport::unreadable(shown, &e.to_string()),
    }
}

pub fn parse_str(path: &str, xml: &str) -> FileReport {
    FileReport {
        path: path.to_owned(),
        result: parse::parse_bytes(xml.as_bytes(), FormatChoice::Auto),
        original: Some(xml.as_bytes().to_vec()),
    }
}

pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The corpus file's totals and its parse error, if any.
pub fn totals_of(path: &str) -> (Totals, Option<String>) {
    let report = parse_file(&corpus().join(path));
    (report.totals(), report.error().map(ToString::to_string))
}

/// Totals as the peers count them: tests, passed (flaky passed in the end), failed, errored, skipped.
pub fn five(t: &Totals) -> [u64; 5] {
    [t.tests, t.passed + t.flaky, t.failed, t.errored, t.skipped]
}

/// A count an expectation file must have.
pub fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("expectation without '{key}': {v}"))
}

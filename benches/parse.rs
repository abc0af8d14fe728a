//! Parse throughput on a generated 200,000-testcase JUnit file (the closing-note benchmark).
//! `cargo bench --bench parse` prints MB/s for the in-memory and the streamed (file) path and
//! leaves the file at target/bench/junit-200k.xml for the wasm benchmark (scripts/bench.sh).
#![allow(clippy::disallowed_methods)]

use std::fmt::Write;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use test_report::parse::{parse, parse_bytes, FormatChoice};

const TESTCASES: usize = 200_000;
const ROUNDS: usize = 5;

/// Surefire-like: 1,000 suites of 200 cases; every 50th fails with a 20-line trace, every 100th
/// is skipped, every 10th carries system-out.
fn generate() -> String {
    let trace: String = (0..20)
        .map(|i| format!("\tat com.acme.Service.call{i}(Service.java:{i})\n"))
        .collect();
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bench\">\n");
    for s in 0..TESTCASES / 200 {
        let _ = writeln!(
            xml,
            "  <testsuite name=\"com.acme.Suite{s}\" tests=\"200\" time=\"12.5\">"
        );
        for c in 0..200 {
            let n = s * 200 + c;
            let _ = write!(xml, "    <testcase classname=\"com.acme.Suite{s}\" name=\"test_{n}_does_something\" time=\"0.0{}\"", c % 10);
            if n % 50 == 0 {
                let _ = writeln!(xml, ">\n      <failure message=\"expected &lt;{n}&gt; but was &lt;0&gt;\" type=\"AssertionError\">{trace}</failure>\n    </testcase>");
            } else if n % 100 == 1 {
                xml.push_str("><skipped message=\"disabled\"/></testcase>\n");
            } else if n % 10 == 0 {
                xml.push_str("><system-out>log line one\nlog line two</system-out></testcase>\n");
            } else {
                xml.push_str("/>\n");
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn report(label: &str, bytes: usize, mut run: impl FnMut() -> u64) {
    let mut best = f64::MAX;
    let mut tests = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        tests = run();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{label:<22} {tests} tests, {:.1} MB in {:.1} ms (best of {ROUNDS}): {:.0} MB/s",
        bytes as f64 / 1e6,
        best * 1e3,
        bytes as f64 / 1e6 / best
    );
}

fn tests_in(
    result: Result<
        (test_report::parse::Format, test_report::parse::Parsed),
        test_report::parse::ParseError,
    >,
) -> u64 {
    match result {
        Ok((_, parsed)) => parsed.runs.iter().map(|r| r.totals().tests).sum(),
        Err(e) => panic!("benchmark input failed to parse: {e}"),
    }
}

fn main() {
    let xml = generate();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let path = dir.join("junit-200k.xml");
    std::fs::write(&path, &xml).expect("write the benchmark file");

    report("native, in memory", xml.len(), || {
        tests_in(parse_bytes(xml.as_bytes(), FormatChoice::Auto))
    });
    report("native, streamed file", xml.len(), || {
        let file = File::open(&path).expect("open the benchmark file");
        tests_in(parse(
            BufReader::with_capacity(256 * 1024, file),
            FormatChoice::Auto,
        ))
    });
    println!("benchmark file: {}", path.display());
}

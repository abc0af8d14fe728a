//! Parse throughput and peak memory per format, and peak memory on hostile input (issues 4, 10).
//!
//! `cargo bench --bench parse` writes one deterministic generated report per format (about
//! [`TARGET_BYTES`] each, every 10th test failed with a trace, every 20th skipped, every 7th with
//! output) to target/bench/, then parses each in a child process of this binary, streamed through
//! a buffered reader as the CLI does, and prints a Markdown table: MB/s (best of [`ROUNDS`], by wall
//! clock and by the child's CPU time, which a busy machine does not skew) and peak RSS (`VmHWM` of
//! the child, so each row is measured alone). `cargo bench --bench parse -- junit` runs one format,
//! `-- formats` or `-- hostile` one half. The hostile rows stream
//! their input from a generator into the child's stdin, so nothing that large touches the disk.
//! The files stay in target/bench/ for the wasm benchmark (scripts/bench.sh).
#![allow(clippy::disallowed_methods)]

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use test_report::parse::{parse, Format, FormatChoice};

/// Size of each generated report.
const TARGET_BYTES: usize = 32 * 1024 * 1024;
/// Parses per format; the best counts (the first pays for the page cache).
const ROUNDS: usize = 3;
/// Tests per suite, package, class or feature.
const SUITE: usize = 200;
/// Same buffer as the CLI (src/cli/mod.rs READ_BUFFER_BYTES).
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// The hostile attribute: 2 GB, of which the reader should refuse all but MAX_EVENT_BYTES.
const HUGE_ATTRIBUTE_BYTES: u64 = 2_000_000_000;
/// The hostile nesting depth.
const DEEP_NESTING: usize = 1_000_000;
/// The long `go test -json` stream.
const GO_STREAM_BYTES: u64 = 300_000_000;

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Pass,
    Fail,
    Skip,
}

fn outcome(n: usize) -> Outcome {
    if n % 10 == 3 {
        Outcome::Fail
    } else if n % 20 == 5 {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

const MESSAGE: &str = "expected <42> & \"quotes\" but was 41 — Größe";

fn trace() -> String {
    (0..12)
        .map(|i| format!("    at com.acme.Service.call{i}(Service.java:{i})"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// One format's generator: what comes before, per test (with the suite index), between suites,
/// and after.
struct Gen {
    format: Format,
    ext: &'static str,
    head: fn() -> String,
    open_suite: fn(usize) -> String,
    test: fn(usize, usize) -> String,
    close_suite: fn(usize) -> String,
    tail: fn() -> String,
    /// Separator between tests (and between suites) for JSON arrays.
    comma: bool,
}

fn gens() -> Vec<Gen> {
    vec![
        Gen {
            format: Format::Junit,
            ext: "xml",
            head: || {
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bench\">\n".into()
            },
            open_suite: |s| format!("  <testsuite name=\"com.acme.Suite{s}\" time=\"12.5\">\n"),
            test: |s, n| {
                let head = format!("    <testcase classname=\"com.acme.Suite{s}\" name=\"test_{n}_does_something\" time=\"0.012\"");
                match outcome(n) {
                    Outcome::Fail => format!("{head}>\n      <failure message=\"{}\" type=\"AssertionError\">{}</failure>\n      <system-out>log line one\nlog line two</system-out>\n    </testcase>\n", xml_escape(MESSAGE), xml_escape(&trace())),
                    Outcome::Skip => format!("{head}><skipped message=\"disabled\"/></testcase>\n"),
                    Outcome::Pass if n % 7 == 0 => format!("{head}><system-out>log line one\nlog line two</system-out></testcase>\n"),
                    Outcome::Pass => format!("{head}/>\n"),
                }
            },
            close_suite: |_| "  </testsuite>\n".into(),
            tail: || "</testsuites>\n".into(),
            comma: false,
        },
        Gen {
            format: Format::Nunit,
            ext: "xml",
            head: || {
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<test-run id=\"0\" result=\"Failed\">\n<test-suite type=\"Assembly\" name=\"Acme.Tests.dll\" fullname=\"Acme.Tests.dll\">\n".into()
            },
            open_suite: |s| {
                format!("  <test-suite type=\"TestFixture\" name=\"Fixture{s}\" fullname=\"Acme.Fixture{s}\" classname=\"Acme.Fixture{s}\">\n")
            },
            test: |s, n| {
                let head = format!("    <test-case id=\"{n}\" name=\"Test{n}\" fullname=\"Acme.Fixture{s}.Test{n}\" methodname=\"Test{n}\" classname=\"Acme.Fixture{s}\" duration=\"0.012\"");
                match outcome(n) {
                    Outcome::Fail => format!("{head} result=\"Failed\">\n      <failure><message><![CDATA[{MESSAGE}]]></message><stack-trace><![CDATA[{}]]></stack-trace></failure>\n      <output><![CDATA[log line one\nlog line two]]></output>\n    </test-case>\n", trace()),
                    Outcome::Skip => format!("{head} result=\"Skipped\" label=\"Ignored\"><reason><message><![CDATA[disabled]]></message></reason></test-case>\n"),
                    Outcome::Pass => format!("{head} result=\"Passed\"/>\n"),
                }
            },
            close_suite: |_| "  </test-suite>\n".into(),
            tail: || "</test-suite>\n</test-run>\n".into(),
            comma: false,
        },
        Gen {
            format: Format::Xunit,
            ext: "xml",
            head: || {
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<assemblies>\n<assembly name=\"Acme.Tests.dll\" test-framework=\"xUnit.net 2.4.2\">\n".into()
            },
            open_suite: |s| format!("  <collection name=\"Collection{s}\">\n"),
            test: |s, n| {
                let head = format!("    <test name=\"Acme.C{s}.Test{n}\" type=\"Acme.C{s}\" method=\"Test{n}\" time=\"0.012\"");
                match outcome(n) {
                    Outcome::Fail => format!("{head} result=\"Fail\">\n      <failure exception-type=\"Xunit.Sdk.EqualException\"><message><![CDATA[{MESSAGE}]]></message><stack-trace><![CDATA[{}]]></stack-trace></failure>\n      <output><![CDATA[log line one\nlog line two]]></output>\n    </test>\n", trace()),
                    Outcome::Skip => format!("{head} result=\"Skip\"><reason><![CDATA[disabled]]></reason></test>\n"),
                    Outcome::Pass => format!("{head} result=\"Pass\"/>\n"),
                }
            },
            close_suite: |_| "  </collection>\n".into(),
            tail: || "</assembly>\n</assemblies>\n".into(),
            comma: false,
        },
        Gen {
            format: Format::Trx,
            ext: "trx",
            head: || {
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<TestRun id=\"1\" name=\"bench\" xmlns=\"http://microsoft.com/schemas/VisualStudio/TeamTest/2010\">\n<Results>\n".into()
            },
            open_suite: |_| String::new(),
            test: |s, n| {
                let head = format!("  <UnitTestResult executionId=\"e{n}\" testId=\"t{n}\" testName=\"Acme.C{s}.Test{n}\" duration=\"00:00:00.0120000\" testType=\"13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b\"");
                match outcome(n) {
                    Outcome::Fail => format!("{head} outcome=\"Failed\">\n    <Output><StdOut>log line one\nlog line two</StdOut><ErrorInfo><Message>{}</Message><StackTrace>{}</StackTrace></ErrorInfo></Output>\n  </UnitTestResult>\n", xml_escape(MESSAGE), xml_escape(&trace())),
                    Outcome::Skip => format!("{head} outcome=\"NotExecuted\"/>\n"),
                    Outcome::Pass => format!("{head} outcome=\"Passed\"/>\n"),
                }
            },
            close_suite: |_| String::new(),
            // Definitions follow the results, as dotnet test writes them: the reader keeps
            // every case until the end, which this measures.
            tail: || "</Results>\n</TestRun>\n".into(),
            comma: false,
        },
        Gen {
            format: Format::Testng,
            ext: "xml",
            head: || {
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testng-results>\n<suite name=\"bench\" duration-ms=\"1\">\n<test name=\"bench\" duration-ms=\"1\">\n".into()
            },
            open_suite: |s| format!("  <class name=\"com.acme.C{s}\">\n"),
            test: |_, n| {
                let head = format!("    <test-method signature=\"test{n}()\" name=\"test{n}\" duration-ms=\"12\" started-at=\"2026-01-01T00:00:00Z\"");
                match outcome(n) {
                    Outcome::Fail => format!("{head} status=\"FAIL\">\n      <exception class=\"java.lang.AssertionError\"><message><![CDATA[{MESSAGE}]]></message><full-stacktrace><![CDATA[{}]]></full-stacktrace></exception>\n      <reporter-output><line><![CDATA[log line one]]></line></reporter-output>\n    </test-method>\n", trace()),
                    Outcome::Skip => format!("{head} status=\"SKIP\"/>\n"),
                    Outcome::Pass => format!("{head} status=\"PASS\"/>\n"),
                }
            },
            close_suite: |_| "  </class>\n".into(),
            tail: || "</test>\n</suite>\n</testng-results>\n".into(),
            comma: false,
        },
        Gen {
            format: Format::Robot,
            ext: "xml",
            head: || {
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<robot generator=\"Robot 7.1\" schemaversion=\"5\">\n<suite id=\"s1\" name=\"Bench\" source=\"/bench\">\n".into()
            },
            open_suite: |s| {
                format!(
                    "<suite id=\"s1-s{s}\" name=\"Suite {s}\" source=\"/bench/suite{s}.robot\">\n"
                )
            },
            test: |s, n| {
                let (status, text) = match outcome(n) {
                    Outcome::Fail => ("FAIL", xml_escape(MESSAGE)),
                    Outcome::Skip => ("SKIP", "disabled".into()),
                    Outcome::Pass => ("PASS", String::new()),
                };
                format!("<test id=\"s1-s{s}-t{n}\" name=\"Test {n}\" line=\"{n}\">\n<kw name=\"Log\" owner=\"BuiltIn\">\n<msg time=\"2026-01-01T00:00:00.000000\" level=\"INFO\">log line one</msg>\n<arg>log line one</arg>\n<status status=\"{status}\" start=\"2026-01-01T00:00:00.000000\" elapsed=\"0.001\"/>\n</kw>\n<tag>bench</tag>\n<status status=\"{status}\" start=\"2026-01-01T00:00:00.000000\" elapsed=\"0.012\">{text}</status>\n</test>\n")
            },
            close_suite: |_| {
                "<status status=\"FAIL\" start=\"2026-01-01T00:00:00.000000\" elapsed=\"1.0\"/>\n</suite>\n".into()
            },
            tail: || {
                "<status status=\"FAIL\" start=\"2026-01-01T00:00:00.000000\" elapsed=\"1.0\"/>\n</suite>\n</robot>\n".into()
            },
            comma: false,
        },
        Gen {
            format: Format::GoTest,
            ext: "json",
            head: String::new,
            open_suite: |_| String::new(),
            test: |s, n| go_test_events(s, n, 2),
            close_suite: |s| {
                format!("{{\"Time\":\"2026-01-01T00:00:01Z\",\"Action\":\"fail\",\"Package\":\"example.com/acme/p{s}\",\"Elapsed\":1.5}}\n")
            },
            tail: String::new,
            comma: false,
        },
        Gen {
            format: Format::Mocha,
            ext: "json",
            head: || "{\"stats\":{\"suites\":1,\"tests\":0},\"tests\":[\n".into(),
            open_suite: |_| String::new(),
            test: |s, n| {
                let err = match outcome(n) {
                    Outcome::Fail => format!(
                        "{{\"message\":{},\"stack\":{},\"name\":\"AssertionError\"}}",
                        json_str(MESSAGE),
                        json_str(&trace())
                    ),
                    _ => "{}".into(),
                };
                format!("{{\"title\":\"test {n}\",\"fullTitle\":\"Suite {s} test {n}\",\"file\":\"/acme/test/s{s}.spec.js\",\"duration\":12,\"currentRetry\":0,\"err\":{err}}}")
            },
            close_suite: |_| String::new(),
            // Pending tests are listed again in `pending`; one is enough to exercise the lookup.
            tail: || {
                "\n],\"pending\":[{\"title\":\"test 5\",\"fullTitle\":\"Suite 0 test 5\",\"file\":\"/acme/test/s0.spec.js\",\"err\":{}}],\"failures\":[],\"passes\":[]}\n".into()
            },
            comma: true,
        },
        Gen {
            format: Format::Rspec,
            ext: "json",
            head: || "{\"version\":\"3.12.0\",\"examples\":[\n".into(),
            open_suite: |_| String::new(),
            test: |s, n| {
                let (status, extra) = match outcome(n) {
                    Outcome::Fail => ("failed", format!(",\"exception\":{{\"class\":\"RSpec::Expectations::ExpectationNotMetError\",\"message\":{},\"backtrace\":{}}}", json_str(MESSAGE), serde_json::to_string(&trace().lines().collect::<Vec<_>>()).unwrap_or_default())),
                    Outcome::Skip => ("pending", String::new()),
                    Outcome::Pass => ("passed", String::new()),
                };
                let pending = if status == "pending" {
                    "\"disabled\""
                } else {
                    "null"
                };
                format!("{{\"id\":\"./spec/s{s}_spec.rb[1:{n}]\",\"description\":\"does {n}\",\"full_description\":\"Suite {s} does {n}\",\"status\":\"{status}\",\"file_path\":\"./spec/s{s}_spec.rb\",\"line_number\":{n},\"run_time\":0.012,\"pending_message\":{pending}{extra}}}")
            },
            close_suite: |_| String::new(),
            tail: || "\n],\"summary\":{\"duration\":1.0}}\n".into(),
            comma: true,
        },
        Gen {
            format: Format::Dart,
            ext: "json",
            head: || {
                "{\"protocolVersion\":\"0.1.1\",\"runnerVersion\":\"1.25.0\",\"pid\":1,\"type\":\"start\",\"time\":0}\n".into()
            },
            open_suite: |s| {
                format!("{{\"suite\":{{\"id\":{},\"platform\":\"vm\",\"path\":\"test/s{s}_test.dart\"}},\"type\":\"suite\",\"time\":1}}\n", 1_000_000 + s)
            },
            test: |s, n| {
                let start = format!("{{\"test\":{{\"id\":{n},\"name\":\"test {n}\",\"suiteID\":{},\"groupIDs\":[],\"metadata\":{{\"skip\":{},\"skipReason\":null}},\"line\":{n},\"column\":3,\"url\":\"file:///acme/test/s{s}_test.dart\"}},\"type\":\"testStart\",\"time\":10}}\n", 1_000_000 + s, outcome(n) == Outcome::Skip);
                let (result, middle) = match outcome(n) {
                    Outcome::Fail => ("failure", format!("{{\"testID\":{n},\"messageType\":\"print\",\"message\":\"log line one\",\"type\":\"print\",\"time\":11}}\n{{\"testID\":{n},\"error\":{},\"stackTrace\":{},\"isFailure\":true,\"type\":\"error\",\"time\":12}}\n", json_str(MESSAGE), json_str(&trace()))),
                    _ => ("success", String::new()),
                };
                format!("{start}{middle}{{\"testID\":{n},\"result\":\"{result}\",\"skipped\":{},\"hidden\":false,\"type\":\"testDone\",\"time\":22}}\n", outcome(n) == Outcome::Skip)
            },
            close_suite: |_| String::new(),
            tail: || "{\"success\":false,\"type\":\"done\",\"time\":1000}\n".into(),
            comma: false,
        },
        Gen {
            format: Format::Ctrf,
            ext: "json",
            head: || {
                "{\"reportFormat\":\"CTRF\",\"results\":{\"tool\":{\"name\":\"bench\"},\"summary\":{\"tests\":0,\"passed\":0,\"failed\":0,\"pending\":0,\"skipped\":0,\"other\":0,\"start\":0,\"stop\":1},\"tests\":[\n".into()
            },
            open_suite: |_| String::new(),
            test: |s, n| {
                let (status, extra) = match outcome(n) {
                    Outcome::Fail => ("failed", format!(",\"message\":{},\"trace\":{},\"stdout\":[\"log line one\",\"log line two\"]", json_str(MESSAGE), json_str(&trace()))),
                    Outcome::Skip => ("skipped", String::new()),
                    Outcome::Pass => ("passed", String::new()),
                };
                format!("{{\"name\":\"Suite {s} test {n}\",\"status\":\"{status}\",\"duration\":12,\"suite\":[\"Suite {s}\"],\"filePath\":\"/acme/test/s{s}.spec.js\"{extra}}}")
            },
            close_suite: |_| String::new(),
            tail: || "\n]}}\n".into(),
            comma: true,
        },
        Gen {
            format: Format::Gtest,
            ext: "json",
            head: || "{\"tests\":0,\"failures\":0,\"name\":\"AllTests\",\"testsuites\":[\n".into(),
            open_suite: |s| format!("{{\"name\":\"Suite{s}\",\"testsuite\":[\n"),
            test: |s, n| {
                let extra = match outcome(n) {
                    Outcome::Fail => format!(
                        ",\"result\":\"COMPLETED\",\"failures\":[{{\"failure\":{},\"type\":\"\"}}]",
                        json_str(&format!("acme_test.cc:{n}\n{MESSAGE}"))
                    ),
                    Outcome::Skip => ",\"result\":\"SKIPPED\"".into(),
                    Outcome::Pass => ",\"result\":\"COMPLETED\"".into(),
                };
                format!("{{\"name\":\"Test{n}\",\"file\":\"acme_test.cc\",\"line\":{n},\"status\":\"RUN\",\"time\":\"0.012s\",\"classname\":\"Suite{s}\"{extra}}}")
            },
            close_suite: |_| "\n]}".into(),
            tail: || "\n]}\n".into(),
            comma: true,
        },
        Gen {
            format: Format::Cucumber,
            ext: "json",
            head: || "[\n".into(),
            open_suite: |s| {
                format!("{{\"uri\":\"features/f{s}.feature\",\"id\":\"f{s}\",\"keyword\":\"Feature\",\"name\":\"Feature {s}\",\"line\":1,\"elements\":[\n")
            },
            test: |s, n| {
                let result = match outcome(n) {
                    Outcome::Fail => format!(
                        "{{\"status\":\"failed\",\"duration\":1200000,\"error_message\":{}}}",
                        json_str(&format!("{MESSAGE}\n{}", trace()))
                    ),
                    Outcome::Skip => "{\"status\":\"skipped\"}".into(),
                    Outcome::Pass => "{\"status\":\"passed\",\"duration\":1200000}".into(),
                };
                let first = if outcome(n) == Outcome::Skip {
                    "{\"status\":\"skipped\"}"
                } else {
                    "{\"status\":\"passed\",\"duration\":1000}"
                };
                format!("{{\"id\":\"f{s};scenario-{n}\",\"keyword\":\"Scenario\",\"name\":\"scenario {n}\",\"line\":{n},\"type\":\"scenario\",\"tags\":[{{\"name\":\"@bench\",\"line\":1}}],\"steps\":[{{\"keyword\":\"Given \",\"name\":\"the number {n}\",\"line\":{n},\"match\":{{\"location\":\"steps.js:1\"}},\"result\":{first}}},{{\"keyword\":\"Then \",\"name\":\"it works\",\"line\":{n},\"match\":{{\"location\":\"steps.js:2\"}},\"result\":{result}}}]}}")
            },
            close_suite: |_| "\n]}".into(),
            tail: || "\n]\n".into(),
            comma: true,
        },
        Gen {
            format: Format::Behave,
            ext: "json",
            head: || "[\n".into(),
            open_suite: |s| {
                format!("{{\"keyword\":\"Feature\",\"name\":\"Feature {s}\",\"tags\":[],\"location\":\"features/f{s}.feature:1\",\"status\":\"failed\",\"elements\":[\n")
            },
            test: |s, n| {
                let (status, result) = match outcome(n) {
                    Outcome::Fail => (
                        "failed",
                        format!(
                            "{{\"status\":\"failed\",\"duration\":0.0012,\"error_message\":{}}}",
                            json_str(&format!("{MESSAGE}\n{}", trace()))
                        ),
                    ),
                    Outcome::Skip => ("skipped", "{\"status\":\"skipped\",\"duration\":0}".into()),
                    Outcome::Pass => (
                        "passed",
                        "{\"status\":\"passed\",\"duration\":0.0012}".into(),
                    ),
                };
                format!("{{\"type\":\"scenario\",\"keyword\":\"Scenario\",\"name\":\"scenario {n}\",\"tags\":[\"bench\"],\"location\":\"features/f{s}.feature:{n}\",\"steps\":[{{\"keyword\":\"Given\",\"step_type\":\"given\",\"name\":\"the number {n}\",\"location\":\"features/f{s}.feature:{n}\",\"match\":{{\"location\":\"steps.py:4\"}},\"result\":{result}}}],\"status\":\"{status}\"}}")
            },
            close_suite: |_| "\n]}".into(),
            tail: || "\n]\n".into(),
            comma: true,
        },
        Gen {
            format: Format::Tap,
            ext: "tap",
            head: || "TAP version 13\n".into(),
            open_suite: |s| format!("# Subtest: Suite {s}\n"),
            test: |_, n| {
                match outcome(n) {
                Outcome::Fail => format!("    not ok {n} - test {n}\n      ---\n      duration_ms: 12.5\n      message: {}\n      stack: |-\n{}\n      ...\n", json_str(MESSAGE), trace().lines().map(|l| format!("        {}", l.trim())).collect::<Vec<_>>().join("\n")),
                Outcome::Skip => format!("    ok {n} - test {n} # SKIP disabled\n"),
                Outcome::Pass => format!("    ok {n} - test {n}\n      ---\n      duration_ms: 12.5\n      ...\n"),
            }
            },
            close_suite: |s| {
                format!(
                    "not ok {} - Suite {s}\n  ---\n  type: 'suite'\n  ...\n",
                    s + 1
                )
            },
            tail: String::new,
            comma: false,
        },
        Gen {
            format: Format::Newman,
            ext: "json",
            head: || {
                "{\"collection\":{\"info\":{\"name\":\"bench\"},\"item\":[]},\"run\":{\"stats\":{},\"timings\":{\"started\":0,\"completed\":1000},\"executions\":[\n".into()
            },
            open_suite: |s| {
                format!("{{\"id\":\"x{s}\",\"item\":{{\"id\":\"r{s}\",\"name\":\"request {s}\"}},\"response\":{{\"responseTime\":12}},\"assertions\":[\n")
            },
            test: |_, n| {
                match outcome(n) {
                Outcome::Fail => format!("{{\"assertion\":\"assertion {n}\",\"skipped\":false,\"error\":{{\"name\":\"AssertionError\",\"message\":{},\"stack\":{}}}}}", json_str(MESSAGE), json_str(&trace())),
                Outcome::Skip => format!("{{\"assertion\":\"assertion {n}\",\"skipped\":true}}"),
                Outcome::Pass => format!("{{\"assertion\":\"assertion {n}\",\"skipped\":false}}"),
            }
            },
            close_suite: |_| "\n]}".into(),
            tail: || "\n],\"failures\":[]}}\n".into(),
            comma: true,
        },
    ]
}

/// One Go test's events; `lines` output lines each.
fn go_test_events(s: usize, n: usize, lines: usize) -> String {
    let pkg = format!("example.com/acme/p{s}");
    let ev = |action: &str, extra: &str| {
        format!("{{\"Time\":\"2026-01-01T00:00:00.123456789Z\",\"Action\":\"{action}\",\"Package\":\"{pkg}\",\"Test\":\"TestThing{n}\"{extra}}}\n")
    };
    let mut out = ev("run", "");
    out += &ev(
        "output",
        &format!(",\"Output\":\"=== RUN   TestThing{n}\\n\""),
    );
    for i in 0..lines {
        out += &ev(
            "output",
            &format!(",\"Output\":\"    thing_test.go:{i}: log line {i} of a test that logs\\n\""),
        );
    }
    let (action, word) = match outcome(n) {
        Outcome::Fail => ("fail", "FAIL"),
        Outcome::Skip => ("skip", "SKIP"),
        Outcome::Pass => ("pass", "PASS"),
    };
    out += &ev(
        "output",
        &format!(",\"Output\":\"--- {word}: TestThing{n} (0.01s)\\n\""),
    );
    out += &ev(action, ",\"Elapsed\":0.01");
    out
}

/// Writes `gen` until about `target` bytes; returns the number of tests written.
fn generate(gen: &Gen, out: &mut impl Write, target: usize) -> io::Result<usize> {
    let mut written = 0;
    let emit = |out: &mut dyn Write, text: String| -> io::Result<usize> {
        out.write_all(text.as_bytes())?;
        Ok(text.len())
    };
    let mut n = 0;
    let mut s = 0;
    written += emit(out, (gen.head)())?;
    while written < target {
        if gen.comma && s > 0 {
            written += emit(out, ",\n".into())?;
        }
        written += emit(out, (gen.open_suite)(s))?;
        for i in 0..SUITE {
            if gen.comma && i > 0 {
                written += emit(out, ",\n".into())?;
            }
            written += emit(out, (gen.test)(s, n))?;
            n += 1;
        }
        written += emit(out, (gen.close_suite)(s))?;
        s += 1;
    }
    emit(out, (gen.tail)())?;
    Ok(n)
}

/// Peak resident set of this process, from /proc (Linux), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of this process so far, from /proc (Linux; clock ticks of 10 ms).
/// The machine is shared, so throughput is also given per CPU second, which load does not skew.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesized command name; utime and stime are the 12th and 13th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Counts what the reader pulled from a stream.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Child: parses a file ROUNDS times or stdin once; prints one `RESULT` line.
fn child(args: &[String]) {
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut bytes = 0;
    let mut outcome = String::new();
    let mut rounds = |read: &mut dyn FnMut() -> (u64, String)| {
        let start = Instant::now();
        let cpu = cpu_secs();
        let (b, o) = read();
        best = best.min(start.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_secs() - cpu);
        bytes = b;
        outcome = o;
    };
    let describe =
        |r: Result<(Format, test_report::parse::Parsed), test_report::parse::ParseError>| match r {
            Ok((_, parsed)) => format!(
                "{} tests",
                parsed.runs.iter().map(|r| r.totals().tests).sum::<u64>()
            ),
            Err(e) => format!("error: {e}"),
        };
    match args.first().map(String::as_str) {
        Some("stdin") => rounds(&mut || {
            let mut counted = Counted {
                inner: io::stdin().lock(),
                bytes: 0,
            };
            let r = parse(
                BufReader::with_capacity(READ_BUFFER_BYTES, &mut counted),
                FormatChoice::Auto,
            );
            (counted.bytes, describe(r))
        }),
        Some(path) => {
            for _ in 0..ROUNDS {
                rounds(&mut || {
                    let file = File::open(path).expect("open the benchmark file");
                    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
                    let r = parse(
                        BufReader::with_capacity(READ_BUFFER_BYTES, file),
                        FormatChoice::Auto,
                    );
                    (len, describe(r))
                });
            }
        }
        None => panic!("child: expected a path or stdin"),
    }
    println!(
        "RESULT\t{bytes}\t{best}\t{best_cpu}\t{}\t{outcome}",
        peak_rss_kib()
    );
}

struct Row {
    label: String,
    bytes: u64,
    secs: f64,
    cpu_secs: f64,
    rss_kib: u64,
    outcome: String,
}

/// Writes a generated stream into the child's stdin.
type Feed = dyn FnMut(&mut dyn Write) -> io::Result<()>;

/// Runs this binary as a child on `arg`, feeding `feed` to its stdin when given.
fn measure(label: &str, arg: &str, feed: Option<&mut Feed>) -> Row {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args(["--child", arg])
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the child");
    if let Some(feed) = feed {
        let mut stdin = BufWriter::with_capacity(1 << 20, child.stdin.take().expect("stdin"));
        // The reader may stop early (too large, too deep): a broken pipe is the expected end.
        let _ = feed(&mut stdin).and_then(|()| stdin.flush());
    }
    let out = child.wait_with_output().expect("child output");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT\t"))
        .unwrap_or_else(|| panic!("{label}: child failed: {text}"));
    let f: Vec<&str> = line.splitn(6, '\t').collect();
    Row {
        label: label.into(),
        bytes: f[1].parse().unwrap_or(0),
        secs: f[2].parse().unwrap_or(0.0),
        cpu_secs: f[3].parse().unwrap_or(0.0),
        rss_kib: f[4].parse().unwrap_or(0),
        outcome: f[5].chars().take(90).collect(),
    }
}

fn print(rows: &[Row]) {
    println!("| input | size | MB/s (wall) | MB/s (CPU) | peak RSS | result |");
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    for r in rows {
        let mb = r.bytes as f64 / 1e6;
        println!(
            "| {} | {mb:.1} MB | {:.0} | {:.0} | {:.1} MiB | {} |",
            r.label,
            mb / r.secs,
            mb / r.cpu_secs.max(0.01),
            r.rss_kib as f64 / 1024.0,
            r.outcome.replace('|', "\\|")
        );
    }
}

fn write_file(path: &Path, gen: &Gen) -> usize {
    let file = File::create(path).expect("create the benchmark file");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let tests = generate(gen, &mut out, TARGET_BYTES).expect("write the benchmark file");
    out.flush().expect("flush the benchmark file");
    tests
}

/// A `go test -json` stream of [`GO_STREAM_BYTES`], as a long test run writes it.
fn go_stream(out: &mut dyn Write) -> io::Result<()> {
    let mut sent = 0u64;
    let mut n = 0;
    while sent < GO_STREAM_BYTES {
        let s = n / SUITE;
        let text = go_test_events(s, n, 40);
        out.write_all(text.as_bytes())?;
        sent += text.len() as u64;
        n += 1;
        if n % SUITE == 0 {
            let end = format!(
                "{{\"Action\":\"fail\",\"Package\":\"example.com/acme/p{s}\",\"Elapsed\":1.5}}\n"
            );
            out.write_all(end.as_bytes())?;
            sent += end.len() as u64;
        }
    }
    Ok(())
}

/// The go stream through the product: piped into the CLI's standard input, whose peak RSS and
/// CPU time GNU time reports (`None`, with a note, where /usr/bin/time is missing).
fn measure_cli(label: &str) -> Option<Row> {
    let spawned = Command::new("/usr/bin/time")
        .args([
            "-f",
            "RESOURCES %M %U %S",
            env!("CARGO_BIN_EXE_test-report"),
        ])
        .args(["parse", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            eprintln!("{label}: skipped, /usr/bin/time (GNU time) is needed: {e}");
            return None;
        }
    };
    let start = Instant::now();
    let mut stdin = BufWriter::with_capacity(1 << 20, child.stdin.take().expect("stdin"));
    go_stream(&mut stdin)
        .and_then(|()| stdin.flush())
        .expect("feed the CLI");
    drop(stdin);
    let out = child.wait_with_output().expect("the CLI's output");
    let secs = start.elapsed().as_secs_f64();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let resources: Vec<f64> = stderr
        .lines()
        .find_map(|l| l.strip_prefix("RESOURCES "))
        .unwrap_or_else(|| panic!("{label}: no resources from GNU time: {stderr}"))
        .split(' ')
        .filter_map(|v| v.parse().ok())
        .collect();
    Some(Row {
        label: label.into(),
        bytes: GO_STREAM_BYTES,
        secs,
        cpu_secs: resources.get(1).unwrap_or(&0.0) + resources.get(2).unwrap_or(&0.0),
        rss_kib: resources.first().copied().unwrap_or(0.0) as u64,
        outcome: format!("{} tests", report["totals"]["tests"]),
    })
}

fn hostile_rows(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let laughs = dir.join("hostile-billion-laughs.xml");
    let mut dtd =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        dtd += &format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10));
    }
    dtd += "]>\n<testsuite name=\"&lol9;\"><testcase name=\"&lol9;\"/></testsuite>\n";
    std::fs::write(&laughs, dtd).expect("write billion laughs");
    rows.push(measure(
        "hostile: billion laughs (file)",
        &laughs.display().to_string(),
        None,
    ));

    rows.push(measure(
        "hostile: 10^6-deep nesting (stdin)",
        "stdin",
        Some(&mut |out: &mut dyn Write| {
            out.write_all(b"<testsuites>")?;
            for _ in 0..DEEP_NESTING {
                out.write_all(b"<testsuite>")?;
            }
            Ok(())
        }),
    ));
    rows.push(measure(
        "hostile: 2 GB attribute (stdin)",
        "stdin",
        Some(&mut |out: &mut dyn Write| {
            out.write_all(b"<testsuites><testsuite name=\"")?;
            let chunk = vec![b'a'; 1 << 20];
            let mut sent = 0;
            while sent < HUGE_ATTRIBUTE_BYTES {
                out.write_all(&chunk)?;
                sent += chunk.len() as u64;
            }
            out.write_all(b"\"/></testsuites>")
        }),
    ));
    rows.push(measure(
        "go test -json, 300 MB stream (stdin)",
        "stdin",
        Some(&mut go_stream),
    ));
    if let Some(row) = measure_cli("go test -json, 300 MB piped into `test-report parse -`") {
        rows.push(row);
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1..]);
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let only: Option<&String> = args.iter().find(|a| !a.starts_with('-'));
    let mut rows = Vec::new();
    for gen in gens() {
        let name = gen.format.as_str();
        if only.is_some_and(|o| !name.contains(o.as_str()) && o != "formats") {
            continue;
        }
        let path: PathBuf = dir.join(format!("{name}.{}", gen.ext));
        let tests = write_file(&path, &gen);
        let row = measure(
            &format!("{name} ({tests} tests)"),
            &path.display().to_string(),
            None,
        );
        assert!(
            row.outcome.starts_with(&format!("{tests} tests")),
            "{name}: generated {tests} tests, the reader says {}",
            row.outcome
        );
        rows.push(row);
    }
    if only.is_none_or(|o| o == "hostile") {
        rows.extend(hostile_rows(&dir));
    }
    print(&rows);
    println!("benchmark files: {}", dir.display());
}

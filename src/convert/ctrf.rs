//! CTRF JSON, the Common Test Report Format (ctrf.io, `reportFormat: "CTRF"`).
//!
//! CTRF has no "errored" status: errored tests are `failed` with `rawStatus: "errored"`. Flaky
//! tests are `passed` with `flaky: true` and `retries` = attempts − 1, as the spec defines them.

use crate::model::{millis, Case, Status};
use crate::pipeline::{FileReport, Report};
use crate::word;

/// The tool name written into `results.tool.name`.
pub const TOOL_NAME: &str = "test-report";
/// The CTRF specification version these documents follow.
pub const SPEC_VERSION: &str = "0.0.0";

/// Bytes the document is handed out in: a sink call per mebibyte costs nothing beside the bytes,
/// and the document never sits whole in memory (it is larger than the report it comes from: in
/// wasm it was a second copy of tens of MB, then a third in JavaScript).
pub const CHUNK_BYTES: usize = 1 << 20;

/// One test as CTRF writes it; `None` fields are left out.
struct Test<'a> {
    name: &'a str,
    status: &'static str,
    raw_status: Option<&'static str>,
    duration: u64,
    message: Option<&'a str>,
    trace: Option<&'a str>,
    suite: &'a str,
    classname: Option<&'a str>,
    file_path: Option<&'a str>,
    line: Option<u32>,
    retries: u32,
    flaky: bool,
}

fn test<'a>(suite: &'a str, case: &'a Case) -> Test<'a> {
    let (status, raw_status, retries, flaky) = match case.status {
        Status::Passed => ("passed", None, 0, false),
        Status::Failed => ("failed", None, case.retries().len(), false),
        Status::Errored => ("failed", Some("errored"), case.retries().len(), false),
        Status::Skipped => ("skipped", None, 0, false),
        Status::Flaky { attempts } => ("passed", None, attempts.saturating_sub(1) as usize, true),
    };
    let problem = case.problems().first();
    Test {
        name: &case.name,
        status,
        raw_status,
        duration: case.duration.map(millis).unwrap_or(0),
        message: problem.and_then(|p| p.message.as_deref().or(p.kind.as_deref())),
        trace: problem.and_then(|p| p.trace.as_deref()),
        suite,
        classname: case.classname.as_deref(),
        file_path: case.location().map(|l| l.file.as_str()),
        line: case.location().and_then(|l| l.line),
        retries: u32::try_from(retries).unwrap_or(u32::MAX),
        flaky,
    }
}

/// One CTRF document for all files, whole. See [`write_chunks`].
pub fn write(files: &[FileReport], now_ms: u64) -> String {
    let mut doc = String::new();
    let written: Result<(), std::convert::Infallible> = write_chunks(files, now_ms, |chunk| {
        doc.push_str(chunk);
        Ok(())
    });
    match written {
        Ok(()) => doc,
        Err(never) => match never {},
    }
}

/// One CTRF document for all files, handed to `sink` in pieces of about [`CHUNK_BYTES`] (the
/// last one shorter); stops at the sink's first error. `now_ms` is the end of the run; its start
/// is derived from the total duration, since JUnit rarely records when a run started.
///
/// Written by hand, laid out as `serde_json`'s pretty printer lays it out (the snapshots hold the
/// bytes): the document has every test and the action writes it on every run, and serde's
/// byte-by-byte escaping of every string was a fifth of the action's work. Strings that need no
/// escape, nearly all of them, are copied whole.
pub fn write_chunks<E>(
    files: &[FileReport],
    now_ms: u64,
    mut sink: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let t = Report::new(files).totals;
    let mut out = String::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4);
    out.push_str("{\n  \"reportFormat\": \"CTRF\",\n  \"specVersion\": ");
    push_string(&mut out, SPEC_VERSION);
    out.push_str(",\n  \"results\": {\n    \"tool\": {\n      \"name\": ");
    push_string(&mut out, TOOL_NAME);
    out.push_str(",\n      \"version\": ");
    push_string(&mut out, env!("CARGO_PKG_VERSION"));
    out.push_str("\n    },\n    \"summary\": {");
    let summary = [
        ("tests", t.tests),
        ("passed", t.passed + t.flaky),
        ("failed", t.failed + t.errored),
        ("pending", 0),
        ("skipped", t.skipped),
        ("other", 0),
        ("flaky", t.flaky),
        ("start", now_ms.saturating_sub(t.duration_ms)),
        ("stop", now_ms),
        ("duration", t.duration_ms),
    ];
    let mut first = true;
    for (key, value) in summary {
        push_key(&mut out, &mut first, key);
        push_number(&mut out, value);
    }
    out.push_str("\n    },\n    \"tests\": [");
    let mut empty = true;
    for suite in suites(files) {
        for case in &suite.cases {
            out.push_str(if empty { "\n      {" } else { ",\n      {" });
            empty = false;
            test(&suite.name, case).push_to(&mut out);
            out.push_str("\n      }");
            if out.len() >= CHUNK_BYTES {
                sink(&out)?;
                out.clear();
            }
        }
    }
    out.push_str(if empty { "]" } else { "\n    ]" });
    out.push_str("\n  }\n}");
    sink(&out)
}

fn suites(files: &[FileReport]) -> impl Iterator<Item = &crate::model::Suite> {
    files
        .iter()
        .flat_map(|f| f.runs())
        .flat_map(|run| run.suites.iter())
}

impl Test<'_> {
    fn push_to(&self, out: &mut String) {
        // Each key with the comma, line break and indentation before it as one literal: four
        // pushes per field were most of the document's work besides the strings. `name` is
        // always the first field, so only it has no comma.
        macro_rules! key {
            ($key:literal) => {
                concat!(",\n        \"", $key, "\": ")
            };
        }
        let text = |out: &mut String, key: &str, value: Option<&str>| {
            if let Some(value) = value {
                out.push_str(key);
                push_string(out, value);
            }
        };
        out.push_str("\n        \"name\": ");
        push_string(out, self.name);
        text(out, key!("status"), Some(self.status));
        text(out, key!("rawStatus"), self.raw_status);
        out.push_str(key!("duration"));
        push_number(out, self.duration);
        text(out, key!("message"), self.message);
        text(out, key!("trace"), self.trace);
        text(
            out,
            key!("suite"),
            Some(self.suite).filter(|s| !s.is_empty()),
        );
        text(out, key!("classname"), self.classname);
        text(out, key!("filePath"), self.file_path);
        if let Some(line) = self.line {
            out.push_str(key!("line"));
            push_number(out, u64::from(line));
        }
        out.push_str(key!("retries"));
        push_number(out, u64::from(self.retries));
        out.push_str(key!("flaky"));
        out.push_str(if self.flaky { "true" } else { "false" });
    }
}

/// `"key": ` of the summary object, on its own line, after a comma unless it is the first.
fn push_key(out: &mut String, first: &mut bool, key: &str) {
    out.push_str(if *first { "\n" } else { ",\n" });
    *first = false;
    out.push_str("      ");
    out.push('"');
    out.push_str(key);
    out.push_str("\": ");
}

fn push_number(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Where the first byte at or after `from` that JSON must escape lies (a control character, `"`
/// or `\`): eight bytes a step ([`word`]), since wasm has no vectorized byte search and this
/// reads every byte of the document's strings (a tenth of the action's time in wasm when it went
/// byte by byte; trace and output strings hold a newline every line, so the search restarts
/// often).
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    word::find(
        bytes,
        from,
        |x| word::below(x, 0x20) | word::equal(x, b'"') | word::equal(x, b'\\'),
        |b| b < 0x20 || b == b'"' || b == b'\\',
    )
}

/// A JSON string, escaped as `serde_json` escapes (short forms where JSON has them, else `\u00XX`).
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(i) = next_escape(bytes, start) {
        // `bytes[i]` is ASCII, so `i` and `i + 1` are character boundaries.
        out.push_str(&s[start..i]);
        let b = bytes[i];
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_bytes, FormatChoice};

    fn report(xml: &str) -> FileReport {
        FileReport {
            path: "report.xml".into(),
            result: parse_bytes(xml.as_bytes(), FormatChoice::Auto),
            original: None,
        }
    }

    /// Every status, every optional field, and strings that need escaping.
    const MIXED: &str = r#"<testsuites>
  <testsuite name="Ünïcode &quot;suite&quot;" time="3.5">
    <testcase classname="a.B" name="passes" time="0.25" file="src/b.rs" line="12"/>
    <testcase classname="a.B" name="fails \ with &quot;quotes&quot;" time="1">
      <failure message="expected &lt;1&gt;&#10;got&#9;2" type="AssertionError">trace line 1
	at a.B.fails(B.java:3)
 control: &#27;[31mred&#27;[0m</failure>
    </testcase>
    <testcase classname="a.B" name="errors"><error type="java.lang.NullPointerException"/></testcase>
    <testcase classname="a.B" name="skips"><skipped message="not today"/></testcase>
    <testcase classname="a.B" name="flaky" time="0.5"><flakyFailure message="first try"/></testcase>
  </testsuite>
  <testsuite name="empty"/>
</testsuites>"#;

    #[test]
    fn the_document_names_every_test_with_its_status() {
        let files = [report(MIXED), report("<testsuite name=\"s\"/>")];
        let doc = write(&files, 1_700_000_000_000);
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(value["results"]["tests"].as_array().map(Vec::len), Some(5));
        insta::assert_snapshot!(doc);
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        for s in [every_ascii.as_str(), "plain", "", "é€ \\ \" \u{7f}"] {
            let mut ours = String::new();
            push_string(&mut ours, s);
            assert_eq!(ours, serde_json::to_string(s).unwrap());
        }
    }

    /// What the word-at-a-time search must agree with.
    fn next_escape_bytewise(bytes: &[u8], from: usize) -> Option<usize> {
        (from..bytes.len()).find(|&i| bytes[i] < 0x20 || bytes[i] == b'"' || bytes[i] == b'\\')
    }

    #[test]
    fn the_word_search_finds_the_first_special_byte() {
        let specials = [0u8, 0x1f, b'"', b'\\', b'\n'];
        let plain = [
            b' ', b'a', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']', 0xa2, 0xdc, 0x21, 0x5d,
        ];
        for len in 0..20 {
            for &fill in &plain {
                let mut bytes = vec![fill; len];
                assert_eq!(next_escape(&bytes, 0), None, "{bytes:?}");
                for at in 0..len {
                    for &special in &specials {
                        bytes[at] = special;
                        // A second special after the first must not hide it (borrows run upward).
                        if let Some(last) = bytes.last_mut().filter(|_| at + 1 < len) {
                            *last = 0;
                        }
                        for from in 0..=len {
                            assert_eq!(
                                next_escape(&bytes, from),
                                next_escape_bytewise(&bytes, from),
                                "{bytes:?} from {from}"
                            );
                        }
                        bytes.fill(fill);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_word_search_agrees_with_a_byte_search(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            from in 0usize..44,
        ) {
            proptest::prop_assert_eq!(next_escape(&bytes, from), next_escape_bytewise(&bytes, from));
        }
    }

    /// A report whose document spans several chunks: `tests` cases of ~1 KB of output each.
    fn large_report(tests: usize) -> FileReport {
        let output = "x".repeat(1000);
        let cases: String = (0..tests)
            .map(|i| format!("<testcase name=\"t{i}\"><failure>{output}</failure></testcase>"))
            .collect();
        report(&format!("<testsuite name=\"s\">{cases}</testsuite>"))
    }

    #[test]
    fn the_chunks_make_up_the_document_each_but_the_last_a_full_chunk() {
        let files = [large_report(3000)];
        let mut chunks = Vec::new();
        let written: Result<(), ()> = write_chunks(&files, 7, |chunk| {
            chunks.push(chunk.to_owned());
            Ok(())
        });
        assert_eq!(written, Ok(()));
        assert_eq!(chunks.len(), 4, "about 3.4 MB in 1 MiB chunks");
        let (last, full) = chunks.split_last().unwrap();
        assert!(full
            .iter()
            .all(|c| (CHUNK_BYTES..CHUNK_BYTES + 2048).contains(&c.len())));
        assert!(!last.is_empty() && last.len() < CHUNK_BYTES);
        let doc = chunks.concat();
        assert_eq!(doc, write(&files, 7));
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            value["results"]["tests"].as_array().map(Vec::len),
            Some(3000)
        );
    }

    #[test]
    fn a_failing_sink_stops_the_document_at_its_error() {
        let files = [large_report(3000)];
        let mut calls = 0;
        let written = write_chunks(&files, 7, |_| {
            calls += 1;
            Err("disk full")
        });
        assert_eq!((written, calls), (Err("disk full"), 1));
    }

    #[test]
    fn no_tests_is_an_empty_list() {
        let doc = write(&[report("<testsuite name=\"s\"/>")], 0);
        insta::assert_snapshot!(doc);
    }
}

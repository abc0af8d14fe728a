//! Report readers: bytes in, [`Parsed`] out.
//!
//! Every format has one module with the same entry point, `parse(Source) -> Result<Parsed, ParseError>`.
//! [`detect`] picks the format from the content (never the file name: users point one glob at
//! whatever their jobs wrote). Readers stream events, so memory follows the number of tests kept,
//! not the size of the file.

mod behave;
mod ctrf;
mod cucumber;
mod dart;
mod gotest;
mod gtest;
mod json;
mod junit;
mod mocha;
mod newman;
mod nunit;
mod robot;
mod rspec;
mod scanner;
mod source;
mod tap;
mod testng;
mod trx;
mod xml;
mod xunit;

use std::io::BufRead;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::model::TestRun;

pub use source::{EventTooLarge, Source, MAX_EVENT_BYTES};

/// How many leading bytes [`detect`] looks at to find the root element.
pub const DETECT_PREFIX_BYTES: usize = 64 * 1024;

/// Every format we read. Each has one module below and one arm in [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Junit,
    Nunit,
    Xunit,
    Trx,
    Testng,
    Robot,
    GoTest,
    Mocha,
    Rspec,
    Dart,
    Ctrf,
    Gtest,
    Cucumber,
    Behave,
    Tap,
    Newman,
}

impl Format {
    /// All formats, in the order detection tries them; named in "unknown format" errors.
    pub const ALL: &'static [Format] = &[
        Format::Junit,
        Format::Nunit,
        Format::Xunit,
        Format::Trx,
        Format::Testng,
        Format::Robot,
        Format::GoTest,
        Format::Mocha,
        Format::Rspec,
        Format::Dart,
        Format::Ctrf,
        Format::Gtest,
        Format::Cucumber,
        Format::Behave,
        Format::Tap,
        Format::Newman,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Junit => "junit",
            Format::Nunit => "nunit",
            Format::Xunit => "xunit",
            Format::Trx => "trx",
            Format::Testng => "testng",
            Format::Robot => "robot",
            Format::GoTest => "go-test-json",
            Format::Mocha => "mocha-json",
            Format::Rspec => "rspec-json",
            Format::Dart => "dart-json",
            Format::Ctrf => "ctrf",
            Format::Gtest => "gtest-json",
            Format::Cucumber => "cucumber-json",
            Format::Behave => "behave-json",
            Format::Tap => "tap",
            Format::Newman => "newman-json",
        }
    }

    /// What a person calls it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Junit => "JUnit XML (<testsuites>/<testsuite>)",
            Format::Nunit => "NUnit 2/3 XML (<test-run>/<test-results>)",
            Format::Xunit => "xUnit.net v1/v2 XML (<assemblies>/<assembly>)",
            Format::Trx => "MSTest/VSTest TRX (<TestRun>)",
            Format::Testng => "TestNG XML (<testng-results>)",
            Format::Robot => "Robot Framework output.xml (<robot>)",
            Format::GoTest => "Go test -json (test2json event lines)",
            Format::Mocha => "Mocha JSON reporter",
            Format::Rspec => "RSpec JSON formatter",
            Format::Dart => "Dart/Flutter JSON reporter (event lines)",
            Format::Ctrf => "CTRF JSON",
            Format::Gtest => "GoogleTest JSON",
            Format::Cucumber => "Cucumber JSON (cucumber-js, Ruby, JVM)",
            Format::Behave => "behave JSON",
            Format::Tap => "TAP 13/14",
            Format::Newman => "Newman (Postman) JSON",
        }
    }

    /// The `format:` names that select this format (the first is canonical).
    fn names(self) -> &'static [&'static str] {
        match self {
            Format::Junit => &["junit", "junit-xml", "xunit-xml"],
            Format::Nunit => &["nunit", "nunit3", "nunit2"],
            Format::Xunit => &["xunit", "xunit-net", "xunit2", "xunit1"],
            Format::Trx => &["trx", "mstest", "vstest"],
            Format::Testng => &["testng", "testng-xml"],
            Format::Robot => &["robot", "robotframework", "robot-xml"],
            Format::GoTest => &["go-test-json", "golang-json", "test2json", "go"],
            Format::Mocha => &["mocha-json", "mocha"],
            Format::Rspec => &["rspec-json", "rspec"],
            Format::Dart => &["dart-json", "flutter-json", "dart", "flutter"],
            Format::Ctrf => &["ctrf", "ctrf-json"],
            Format::Gtest => &["gtest-json", "googletest-json"],
            Format::Cucumber => &["cucumber-json", "cucumber"],
            Format::Behave => &["behave-json", "behave"],
            Format::Tap => &["tap", "tap13", "tap14"],
            Format::Newman => &["newman-json", "newman", "postman"],
        }
    }

    /// The format whose XML documents start with this root element (local name).
    fn of_xml_root(root: &str) -> Option<Format> {
        match root {
            "testsuites" | "testsuite" | "testcase" => Some(Format::Junit),
            "test-run" | "test-results" | "test-suite" => Some(Format::Nunit),
            "assemblies" | "assembly" => Some(Format::Xunit),
            "TestRun" => Some(Format::Trx),
            "testng-results" => Some(Format::Testng),
            "robot" => Some(Format::Robot),
            _ => None,
        }
    }

    /// The format of a JSON document or JSON Lines stream, from its first bytes.
    fn of_json(prefix: &[u8]) -> Option<Format> {
        json::format_of(prefix)
    }

    /// The format of a plain-text report (TAP), from its first bytes.
    fn of_text(prefix: &[u8]) -> Option<Format> {
        if gotest::starts_mixed_stream(prefix) {
            Some(Format::GoTest)
        } else {
            tap::starts_tap(prefix).then_some(Format::Tap)
        }
    }
}

fn supported() -> String {
    Format::ALL
        .iter()
        .map(|f| f.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the user asked for with `format:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatChoice {
    #[default]
    Auto,
    Only(Format),
}

impl std::str::FromStr for FormatChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase();
        if wanted.is_empty() || wanted == "auto" {
            return Ok(FormatChoice::Auto);
        }
        Format::ALL
            .iter()
            .find(|f| f.names().contains(&wanted.as_str()))
            .map(|f| FormatChoice::Only(*f))
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.names()[0]).collect();
                format!(
                    "unknown format '{wanted}': expected auto, {}",
                    names.join(", ")
                )
            })
    }
}

/// The result of reading one file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub runs: Vec<TestRun>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParseErrorKind {
    /// The file has no content at all.
    Empty,
    /// Not well-formed XML or JSON: truncated, bad syntax, invalid characters.
    Syntax,
    /// Well-formed, but not a report format we read.
    Unsupported,
    /// One element or text run exceeded [`MAX_EVENT_BYTES`].
    TooLarge,
    /// Not valid UTF-8.
    Encoding,
    /// The underlying reader failed.
    Io,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub line: Option<u64>,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ParseError {}

/// The shape of a file as far as its first bytes tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Empty,
    /// XML whose first element is this local name (namespace prefix dropped).
    Xml {
        root: Option<String>,
    },
    Json,
    Unknown,
}

/// Looks at the start of a file: skips a BOM and whitespace, then reads XML up to the first
/// element. `root` is `None` when the prefix ends before one (a huge DOCTYPE or comment).
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Sniffed::Empty;
    };
    match body[start] {
        b'{' | b'[' => Sniffed::Json,
        b'<' => Sniffed::Xml {
            root: first_element(&body[start..]),
        },
        _ => Sniffed::Unknown,
    }
}

fn first_element(xml: &[u8]) -> Option<String> {
    let mut scanner = scanner::Scanner::in_memory(xml);
    loop {
        match scanner.next_token() {
            Ok(scanner::Token::Start(tag) | scanner::Token::Empty(tag)) => {
                return Some(tag.local_name().to_owned());
            }
            Ok(scanner::Token::Eof(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Picks the format from the first bytes, or explains why none fits.
pub fn detect(prefix: &[u8], choice: FormatChoice) -> Result<Format, ParseError> {
    let unsupported = |what: String| ParseError {
        kind: ParseErrorKind::Unsupported,
        line: None,
        message: format!(
            "{what} is not a test report format this version reads (tried: {})",
            supported()
        ),
    };
    let sniffed = sniff(prefix);
    if sniffed == Sniffed::Empty {
        return Err(ParseError {
            kind: ParseErrorKind::Empty,
            line: None,
            message: "file is empty: the test run wrote no report, check the step that produces it"
                .into(),
        });
    }
    if let FormatChoice::Only(format) = choice {
        return Ok(format);
    }
    match sniffed {
        Sniffed::Xml { root: Some(root) } => {
            Format::of_xml_root(&root).ok_or_else(|| unsupported(format!("XML with root element <{root}>")))
        }
        // Unreadable prefix: let the XML reader report the exact syntax error and line.
        Sniffed::Xml { root: None } => Ok(Format::Junit),
        Sniffed::Json => Format::of_json(prefix).ok_or_else(|| unsupported("this JSON document".into())),
        Sniffed::Empty | Sniffed::Unknown => Format::of_text(prefix).ok_or_else(|| ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(1),
            message: format!(
                "not a test report: the file starts with neither '<' nor '{{' (is this a console log?); formats tried: {}",
                supported()
            ),
        }),
    }
}

/// Reads one report from a buffered source. The caller's reader should buffer at least
/// [`DETECT_PREFIX_BYTES`] so detection sees the root element.
pub fn parse<R: BufRead>(
    mut reader: R,
    choice: FormatChoice,
) -> Result<(Format, Parsed), ParseError> {
    let format = detect_in(&mut reader, choice)?;
    let parsed = match read_xml(format, || scanner::Scanner::streamed(&mut reader)) {
        Some(parsed) => parsed?,
        None => parse_lines(format, reader)?,
    };
    Ok((format, parsed))
}

/// The format of the report `reader` starts, from its first buffer.
fn detect_in<R: BufRead>(reader: &mut R, choice: FormatChoice) -> Result<Format, ParseError> {
    let prefix = reader.fill_buf().map_err(|e| read_failed(&e))?;
    detect(&prefix[..prefix.len().min(DETECT_PREFIX_BYTES)], choice)
}

fn read_failed(e: &std::io::Error) -> ParseError {
    ParseError {
        kind: ParseErrorKind::Io,
        line: None,
        message: format!("could not read the file: {e}"),
    }
}

/// Least bytes a part of a file read in parts has ([`parse_in_parts`]): a thread and a read
/// buffer per part pay for themselves many times over at this size.
pub const PART_MIN_BYTES: u64 = 4 << 20;

/// Bytes searched after a planned cut for where a part may start ([`junit::part_start`]): a
/// few suites' worth of any realistic report.
pub const PART_SEARCH_BYTES: u64 = 256 * 1024;

/// Reads one report file of `len` bytes as [`parse`] does, a large JUnit file in up to `parts`
/// parts at once, each on a thread of its own (issue 12: the native parse then goes about as many
/// times faster as there are cores). `open(offset)` gives a reader of the file from `offset` on.
/// The reports and diagnostics, lines included, are those of one reading of the whole file:
/// where parts do not join up exactly, the part before reads on by itself (see [`junit::Part`]).
/// Other formats, and files with neither a top-level `<testsuite>` nor a `<testcase>` after each
/// cut, are read whole.
/// Native only: wasm has no threads.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse_in_parts<R, F>(
    open: F,
    len: u64,
    parts: usize,
    choice: FormatChoice,
) -> Result<(Format, Parsed), ParseError>
where
    R: BufRead + Send,
    F: Fn(u64) -> std::io::Result<R>,
{
    let mut first = open(0).map_err(|e| read_failed(&e))?;
    let format = detect_in(&mut first, choice)?;
    // Whether the file's suites are inside a <testsuites> root, or its root is the one suite.
    let under_run = first.fill_buf().is_ok_and(
        |prefix| matches!(sniff(prefix), Sniffed::Xml { root: Some(root) } if root == "testsuites"),
    );
    let parts = usize::try_from(len / PART_MIN_BYTES).map_or(parts, |most| parts.min(most));
    if format != Format::Junit || parts < 2 {
        return parse(first, choice);
    }
    // Each later part starts at the first top-level <testsuite> after its planned cut, or failing
    // that its first <testcase>; cuts that find neither, or what the cut before found, are dropped.
    let mut starts: Vec<(u64, junit::PartStart, R)> = Vec::new();
    for k in 1..parts as u64 {
        let planned = len / parts as u64 * k;
        let Some((start, kind)) = part_start_after(&open, planned, under_run) else {
            continue;
        };
        if starts.last().is_some_and(|(last, _, _)| *last >= start) {
            continue;
        }
        if let Ok(reader) = open(start) {
            starts.push((start, kind, reader));
        }
    }
    if starts.is_empty() {
        return parse(first, choice);
    }
    // Each part reads up to the next part's start, counted from its own start.
    let mut stops: Vec<junit::Stop> = Vec::with_capacity(starts.len() + 1);
    let mut from = 0;
    for &(start, next, _) in &starts {
        stops.push(junit::Stop {
            at: start - from,
            next,
        });
        from = start;
    }
    stops.push(junit::NO_STOP);
    let parsed = std::thread::scope(|scope| {
        let later: Vec<_> = starts
            .into_iter()
            .zip(stops.iter().skip(1).copied())
            .map(|((_, kind, reader), stop)| {
                scope.spawn(move || junit::Part::continuing(reader, kind, stop))
            })
            .collect();
        let head = junit::Part::first(first, stops.first().copied().unwrap_or(junit::NO_STOP));
        let later = later
            .into_iter()
            // A part that panicked is a bug: it goes on as the panic it was.
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        junit::join(head, later)
    })?;
    Ok((format, parsed))
}

/// Where the first part after `planned` may start, and how ([`junit::part_start`]).
#[cfg(not(target_arch = "wasm32"))]
fn part_start_after<R: BufRead>(
    open: impl Fn(u64) -> std::io::Result<R>,
    planned: u64,
    under_run: bool,
) -> Option<(u64, junit::PartStart)> {
    use std::io::Read;
    let mut window = Vec::new();
    open(planned)
        .ok()?
        .take(PART_SEARCH_BYTES)
        .read_to_end(&mut window)
        .ok()?;
    junit::part_start(&window, under_run).map(|(at, kind)| (planned + at as u64, kind))
}

/// The XML formats' readers over the tokens of `scanner`; `None` for the other formats.
fn read_xml<'a, R: BufRead>(
    format: Format,
    scanner: impl FnOnce() -> scanner::Scanner<'a, R>,
) -> Option<Result<Parsed, ParseError>> {
    Some(match format {
        Format::Junit => junit::parse(scanner()),
        Format::Nunit => nunit::parse(scanner()),
        Format::Xunit => xunit::parse(scanner()),
        Format::Trx => trx::parse(scanner()),
        Format::Testng => testng::parse(scanner()),
        Format::Robot => robot::parse(scanner()),
        _ => return None,
    })
}

/// The formats other than XML, which read from a stream whether the bytes are in memory or not.
fn parse_lines<R: BufRead>(format: Format, reader: R) -> Result<Parsed, ParseError> {
    let source = Source::new(reader);
    match format {
        Format::GoTest => gotest::parse(source),
        Format::Mocha => mocha::parse(source),
        Format::Rspec => rspec::parse(source),
        Format::Dart => dart::parse(source),
        Format::Ctrf => ctrf::parse(source),
        Format::Gtest => gtest::parse(source),
        Format::Cucumber => cucumber::parse(source),
        Format::Behave => behave::parse(source),
        Format::Tap => tap::parse(source),
        Format::Newman => newman::parse(source),
        // XML went to [`read_xml`]; kept out of here so wasm holds one copy of its readers.
        _ => Err(ParseError {
            kind: ParseErrorKind::Unsupported,
            line: None,
            message: format!("{} is read as XML, not line by line", format.describe()),
        }),
    }
}

/// Reads one report held in memory.
/// XML is read in place, without copying each event out first (a fifth of the JUnit reader's
/// instructions); the other formats stream as from a file.
pub fn parse_bytes(bytes: &[u8], choice: FormatChoice) -> Result<(Format, Parsed), ParseError> {
    let format = detect(&bytes[..bytes.len().min(DETECT_PREFIX_BYTES)], choice)?;
    let parsed = match read_xml(format, || scanner::Scanner::in_memory(bytes)) {
        Some(parsed) => parsed?,
        None => parse_lines(format, bytes)?,
    };
    Ok((format, parsed))
}

/// Checks a reader against the one it replaced, kept as its oracle: each document gives the same
/// tests and as many diagnostics from both, and the reader reads every one.
#[cfg(test)]
fn assert_reads_as_oracle(
    documents: &[&'static str],
    reader: fn(source::Source<&'static [u8]>) -> Result<Parsed, ParseError>,
    oracle: fn(&[u8]) -> Result<Parsed, ParseError>,
) {
    let outcome = |parsed: Result<Parsed, ParseError>| {
        parsed
            .map(|p| (p.runs, p.diagnostics.len()))
            .map_err(|e| format!("{:?}", e.kind))
    };
    for doc in documents {
        let read = outcome(reader(source::Source::new(doc.as_bytes())));
        assert!(read.is_ok(), "{doc}: {read:?}");
        assert_eq!(read, outcome(oracle(doc.as_bytes())), "{doc}");
    }
}

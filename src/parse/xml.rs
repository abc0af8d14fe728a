//! The event loop shared by the XML readers other than JUnit (NUnit, xUnit.net, TRX, TestNG,
//! Robot Framework): each format is a [`Handler`] that sees start tags with their attributes,
//! decoded text and end tags; this loop owns the hostile-input rules. The helpers below it
//! (attribute reading, reference resolution, [`Text`] with its byte budget, seconds) are shared
//! by every XML reader, JUnit's own loop included; the JSON readers use [`Text`] too.
//!
//! - Only XML's predefined entities and character references are expanded; DTD-declared and
//!   external entities (billion laughs, XXE) stay as written and are never read.
//! - Nesting deeper than [`MAX_DEPTH`] and single events larger than
//!   [`super::MAX_EVENT_BYTES`] are errors, as are end tags that do not match and a file that
//!   ends inside an element. Every error carries the line.
//! - Text holding characters XML 1.0 forbids (NUL and other C0 controls) is an error, as libxml2
//!   rejects it: such a file is corrupt, and guessing what it meant would hide that.

use std::borrow::Cow;
use std::io::BufRead;
use std::time::Duration;

use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use quick_xml::XmlVersion;

use super::source::{count_newlines, EventTooLarge, Source};
use super::{Format, ParseError, ParseErrorKind};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, truncate_utf8};

/// Deepest element nesting accepted; real reports nest a handful of levels.
pub(super) const MAX_DEPTH: usize = 1024;

/// One format's reaction to the events of a document.
pub(super) trait Handler {
    /// A start tag (or empty element, followed by [`Handler::close`]); `name` is the local name.
    fn open(&mut self, name: &str, attrs: Attrs, line: u64) -> Result<(), ParseError>;
    /// Character data, CDATA and resolved references, in document order.
    fn text(&mut self, text: &str);
    fn close(&mut self, name: &str, line: u64);
}

/// Attributes of one start tag, local names, values normalized per XML 1.0.
pub(super) struct Attrs<'a>(Vec<Attr<'a>>);

impl Attrs<'_> {
    /// Takes one attribute's value; blank values count as absent.
    pub(super) fn take(&mut self, key: &str) -> Option<String> {
        take(&mut self.0, key).map(Cow::into_owned)
    }
}

/// Where an XML reader's events come from: a stream through [`Source`] (the CLI reads files as it
/// parses them) or bytes already in memory (the action), which quick-xml reads without copying
/// each event into a buffer first.
pub(super) trait Events {
    /// The next event, and the 1-based line the reader stands on after it (or at the error).
    fn next_event(&mut self) -> (Result<Event<'_>, quick_xml::Error>, u64);
}

/// Events of a stream, each bounded by [`super::MAX_EVENT_BYTES`].
pub(super) struct Streamed<R> {
    reader: Reader<Source<R>>,
    buf: Vec<u8>,
}

impl<R: BufRead> Streamed<R> {
    pub(super) fn new(source: Source<R>) -> Streamed<R> {
        Streamed {
            reader: configured(Reader::from_reader(source)),
            buf: Vec::new(),
        }
    }
}

impl<R: BufRead> Events for Streamed<R> {
    fn next_event(&mut self) -> (Result<Event<'_>, quick_xml::Error>, u64) {
        self.buf.clear();
        self.reader.get_mut().mark();
        let event = self.reader.read_event_into(&mut self.buf);
        (event, self.reader.get_ref().line())
    }
}

/// Events borrowed from bytes in memory. No per-event bound: the bytes are held whole already.
pub(super) struct InMemory<'a> {
    reader: Reader<&'a [u8]>,
    bytes: &'a [u8],
    /// How far newlines have been counted, and how many there were.
    counted: usize,
    newlines: u64,
}

impl<'a> InMemory<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> InMemory<'a> {
        InMemory {
            reader: configured(Reader::from_reader(bytes)),
            bytes,
            counted: 0,
            newlines: 0,
        }
    }
}

impl Events for InMemory<'_> {
    fn next_event(&mut self) -> (Result<Event<'_>, quick_xml::Error>, u64) {
        let event = self.reader.read_event();
        let end = usize::try_from(self.reader.buffer_position())
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if let Some(read) = self.bytes.get(self.counted..end) {
            self.newlines += count_newlines(read);
            self.counted = end;
        }
        (event, self.newlines + 1)
    }
}

/// The reader settings every XML format shares.
fn configured<R>(mut reader: Reader<R>) -> Reader<R> {
    let config = reader.config_mut();
    config.check_end_names = true;
    config.allow_dangling_amp = true;
    reader
}

/// Runs `handler` over the whole document. `format` names the format in errors.
pub(super) fn drive<E: Events, H: Handler>(
    mut events: E,
    format: Format,
    handler: &mut H,
) -> Result<(), ParseError> {
    let mut stack: Vec<(String, u64)> = Vec::new();
    let mut last_line;
    loop {
        let (event, line) = events.next_event();
        last_line = line;
        let event = match event {
            Ok(event) => event,
            Err(err) => return Err(error(&err, line, &stack)),
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError {
                        kind: ParseErrorKind::Unsupported,
                        line: Some(line),
                        message: format!("elements nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                let name = e.local_name().as_ref().to_owned();
                let attrs = Attrs(attributes(&e, line)?);
                if stack.is_empty() && Format::of_xml_root(&name) != Some(format) {
                    return Err(ParseError {
                        kind: ParseErrorKind::Unsupported,
                        line: Some(line),
                        message: format!("root element <{name}> is not {}", format.describe()),
                    });
                }
                handler.open(&name, attrs, line)?;
                if empty {
                    handler.close(&name, line);
                } else {
                    stack.push((name, line));
                }
            }
            Event::End(_) => {
                if let Some((name, _)) = stack.pop() {
                    handler.close(&name, line);
                }
            }
            Event::Text(t) => checked_text(handler, &t.xml10_content(), line)?,
            Event::CData(t) => checked_text(handler, &t.xml10_content(), line)?,
            Event::GeneralRef(r) => handler.text(&resolve_reference(&r)),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    }
    if let Some((name, opened)) = stack.last() {
        return Err(ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(last_line),
            message: format!(
                "unexpected end of file inside <{name}> opened at line {opened}: the report was cut off (did the test process crash or the disk fill up?)"
            ),
        });
    }
    Ok(())
}

fn checked_text<H: Handler>(handler: &mut H, text: &str, line: u64) -> Result<(), ParseError> {
    let forbidden = |c: char| c < ' ' && !matches!(c, '\t' | '\n' | '\r');
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| forbidden(c)) {
        // The line counter is at the end of the event; name the line the character is on.
        let after = text[at..].matches('\n').count();
        return Err(ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(line.saturating_sub(after as u64)),
            message: format!(
                "character U+{:04X} is not allowed in XML: the report is corrupt (was binary output written into it unescaped?)",
                c as u32
            ),
        });
    }
    handler.text(text);
    Ok(())
}

fn error(err: &quick_xml::Error, line: u64, stack: &[(String, u64)]) -> ParseError {
    let (kind, message) = match err {
        quick_xml::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<EventTooLarge>()) => (
            ParseErrorKind::TooLarge,
            format!("{EventTooLarge}: the report is not a reasonable test report"),
        ),
        quick_xml::Error::Io(io) => (ParseErrorKind::Io, format!("could not read the file: {io}")),
        quick_xml::Error::Encoding(e) => (
            ParseErrorKind::Encoding,
            format!("not valid UTF-8 ({e}): re-encode the report as UTF-8"),
        ),
        other => {
            let inside = stack
                .last()
                .map(|(name, _)| format!(" inside <{name}>"))
                .unwrap_or_default();
            (
                ParseErrorKind::Syntax,
                format!("malformed XML{inside}: {other}"),
            )
        }
    };
    ParseError {
        kind,
        line: Some(line),
        message,
    }
}

/// A test's name without its class's qualification: .NET runners write `Ns.Class.Method(args)`
/// beside the class `Ns.Class`, and the class is already kept apart. Custom display names, which
/// do not start with the class, stay as they are.
pub(super) fn without_class(name: String, class: Option<&str>) -> String {
    match class.and_then(|c| name.strip_prefix(c)?.strip_prefix('.')) {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => name,
    }
}

/// A whole number from an attribute, as counters are written.
pub(super) fn count(value: Option<String>) -> Option<u64> {
    value.and_then(|v| v.trim().parse().ok())
}

/// Milliseconds as TestNG writes them.
pub(super) fn millis(value: Option<String>) -> Option<Duration> {
    count(value).map(Duration::from_millis)
}

/// Compares the counters a file declares with the cases read from it. The cases win; each
/// disagreement becomes one warning naming the counter, so a truncated or hand-edited report
/// is noticed. `declared` holds (counter name, declared value, value from the cases).
pub(super) fn check_counters(
    what: &str,
    line: u64,
    declared: &[(&str, Option<u64>, u64)],
) -> Option<Diagnostic> {
    let differ: Vec<String> = declared
        .iter()
        .filter_map(|(name, want, got)| match want {
            Some(w) if w != got => Some(format!("{name}={w} but {got} found")),
            _ => None,
        })
        .collect();
    (!differ.is_empty()).then(|| {
        Diagnostic::warning(format!(
            "{what} counters disagree with its test cases ({}); the counts shown come from the test cases",
            differ.join(", ")
        ))
        .at_line(line)
    })
}

/// The hostile-input rules, through the NUnit reader (every XML reader shares this loop).
#[cfg(test)]
mod tests {
    use super::super::{nunit, parse_bytes, FormatChoice};
    use super::*;

    /// The error, the same whether the bytes stream or sit in memory.
    fn error_of(xml: &[u8]) -> ParseError {
        let streamed = nunit::parse(Streamed::new(Source::new(xml))).unwrap_err();
        let in_memory = nunit::parse(InMemory::new(xml)).unwrap_err();
        assert_eq!(streamed, in_memory);
        streamed
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "<test-suite>".repeat(MAX_DEPTH + 1);
        let err = error_of(format!("<test-run>{deep}").as_bytes());
        assert!(err.message.contains("nested deeper"), "{}", err.message);
    }

    #[test]
    fn one_huge_event_is_refused_not_buffered() {
        let xml = format!("<test-run name=\"{}\"/>", "x".repeat(4096));
        let buffered = std::io::BufReader::with_capacity(64, xml.as_bytes());
        let source = Source::with_limit(buffered, 1024);
        let err = nunit::parse(Streamed::new(source)).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::TooLarge);
    }

    #[test]
    fn forbidden_characters_name_their_line() {
        let err = error_of(
            b"<test-run>\n<test-suite name=\"s\">\nbad \0 byte\nmore\n</test-suite></test-run>",
        );
        assert_eq!((err.kind, err.line), (ParseErrorKind::Syntax, Some(3)));
        assert!(err.message.contains("U+0000"), "{}", err.message);
    }

    #[test]
    fn entity_expansion_bombs_stay_unexpanded() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <test-run><test-suite name="s"><test-case name="&b;" result="Passed"/></test-suite></test-run>"#;
        let (_, parsed) = parse_bytes(bomb.as_bytes(), FormatChoice::Auto).unwrap();
        let case = parsed.runs[0].cases().next().unwrap();
        assert_eq!(case.name, "&b;");
    }

    #[test]
    fn a_chosen_format_that_does_not_match_the_root_says_so() {
        let xml = b"<testsuites><testsuite name=\"s\"/></testsuites>";
        let chosen = FormatChoice::Only(Format::Trx);
        let err = parse_bytes(xml, chosen).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Unsupported);
        assert!(
            err.message
                .contains("<testsuites> is not MSTest/VSTest TRX"),
            "{}",
            err.message
        );
    }

    #[test]
    fn mismatched_end_tags_are_syntax_errors_with_the_line() {
        let err = error_of(b"<test-run>\n<test-suite name=\"s\">\n</test-case>\n</test-run>");
        assert_eq!((err.kind, err.line), (ParseErrorKind::Syntax, Some(3)));
    }
}

pub(super) fn resolve_reference(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name = r.xml10_content();
    match quick_xml::escape::resolve_predefined_entity(&name) {
        Some(text) => text.to_owned(),
        None => format!("&{name};"),
    }
}

/// Text collected up to a byte budget; the rest is counted, not kept.
#[derive(Debug, Default)]
pub(super) struct Text {
    kept: String,
    dropped: usize,
    cap: usize,
}

impl Text {
    pub(super) fn with_cap(cap: usize) -> Text {
        Text {
            kept: String::new(),
            dropped: 0,
            cap,
        }
    }

    pub(super) fn push(&mut self, s: &str) {
        let room = self.cap.saturating_sub(self.kept.len());
        let part = truncate_utf8(s, room);
        self.kept.push_str(part);
        self.dropped += s.len() - part.len();
    }

    /// The text kept so far, raw: for appending to across events before [`Text::finish`].
    pub(super) fn into_kept(self) -> String {
        self.kept
    }

    pub(super) fn finish(self) -> Option<String> {
        let mut text = clean_text(self.kept.trim_matches(|c: char| c.is_whitespace()));
        if self.dropped > 0 {
            text.push_str(&format!("\n… [{} more bytes not kept]", self.dropped));
        }
        (!text.is_empty()).then_some(text)
    }
}

/// One attribute: its local name and its value, both borrowed from the tag unless normalizing
/// the value changed it (the readers take a few attributes of many; copying all was most of the
/// cost of reading a start tag).
pub(super) type Attr<'a> = (&'a str, Cow<'a, str>);

/// Attributes of one start tag as (local name, value) pairs, values normalized per XML 1.0.
pub(super) fn attributes<'a>(
    e: &'a BytesStart<'_>,
    line: u64,
) -> Result<Vec<Attr<'a>>, ParseError> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = match attr {
            Ok(a) => a,
            Err(AttrError::Duplicated(..)) => continue,
            Err(err) => {
                return Err(ParseError {
                    kind: ParseErrorKind::Syntax,
                    line: Some(line),
                    message: format!(
                        "malformed attribute in <{}>: {err}",
                        e.local_name().as_ref()
                    ),
                })
            }
        };
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or_else(|_| attr.value.clone());
        out.push((attr.key.local_name().into_inner(), value));
    }
    Ok(out)
}

pub(super) fn take<'a>(attrs: &mut [Attr<'a>], key: &str) -> Option<Cow<'a, str>> {
    attrs
        .iter_mut()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| std::mem::take(v))
        .filter(|v| !v.trim().is_empty())
}

/// Seconds as JUnit writers print them: `1.5`, `1,5` (decimal comma), `1,234.5` (grouping).
pub(super) fn parse_seconds(raw: &str) -> Option<Duration> {
    let s = raw.trim();
    // Most writers print a plain decimal: no normalized copy for those.
    let normalized: Cow<'_, str> = if !s.contains(',') {
        Cow::Borrowed(s)
    } else if s.contains('.') {
        Cow::Owned(s.replace(',', ""))
    } else {
        Cow::Owned(s.replace(',', "."))
    };
    let secs: f64 = normalized.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

pub(super) fn clean_attr(value: Option<impl AsRef<str>>, cap: usize) -> Option<String> {
    value
        .map(|v| clean_text(truncate_utf8(v.as_ref(), cap)))
        .filter(|v| !v.trim().is_empty())
}

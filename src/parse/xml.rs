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

use super::scanner::{Scanner, Token};
use super::{Format, ParseError, ParseErrorKind};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, is_blank, truncate_utf8};

pub(super) use super::scanner::Attr;

/// Deepest element nesting accepted; real reports nest a handful of levels.
pub(super) const MAX_DEPTH: usize = 1024;

/// One format's reaction to the events of a document.
pub(super) trait Handler {
    /// A start tag (or empty element, followed by [`Handler::close`]); `name` is the local name.
    fn open(&mut self, name: &str, attrs: Attrs, line: u64) -> Result<(), ParseError>;
    /// Character data, CDATA and resolved references, in document order.
    fn text(&mut self, text: &str);
    fn close(&mut self, name: &str);
}

/// Attributes of one start tag, local names, values normalized per XML 1.0.
pub(super) struct Attrs<'a>(Vec<Attr<'a>>);

impl Attrs<'_> {
    /// Takes one attribute's value; blank values count as absent.
    pub(super) fn take(&mut self, key: &str) -> Option<String> {
        take(&mut self.0, key).map(Cow::into_owned)
    }
}

/// Runs `handler` over the whole document. `format` names the format in errors.
pub(super) fn drive<R: BufRead, H: Handler>(
    scanner: Scanner<'_, R>,
    format: Format,
    handler: &mut H,
) -> Result<(), ParseError> {
    let mut scanner = scanner.strict();
    let mut stack: Vec<(String, u64)> = Vec::new();
    let last_line = loop {
        let token = scanner.next_token()?;
        match token {
            Token::Start(tag) | Token::Empty(tag) => {
                let empty = matches!(token, Token::Empty(_));
                let line = tag.line();
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError {
                        kind: ParseErrorKind::Unsupported,
                        line: Some(line),
                        message: format!("elements nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                let name = tag.local_name().to_owned();
                let attrs = Attrs(tag.attributes()?);
                if stack.is_empty() && Format::of_xml_root(&name) != Some(format) {
                    return Err(ParseError {
                        kind: ParseErrorKind::Unsupported,
                        line: Some(line),
                        message: format!("root element <{name}> is not {}", format.describe()),
                    });
                }
                handler.open(&name, attrs, line)?;
                if empty {
                    handler.close(&name);
                } else {
                    stack.push((name, line));
                }
            }
            Token::End => {
                if let Some((name, _)) = stack.pop() {
                    handler.close(&name);
                }
            }
            Token::Text(text) => handler.text(&text),
            Token::Eof(line) => break line,
        }
    };
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
        let streamed = nunit::parse(Scanner::streamed(xml)).unwrap_err();
        let in_memory = nunit::parse(Scanner::in_memory(xml)).unwrap_err();
        assert_eq!(streamed, in_memory);
        streamed
    }

    #[test]
    fn plain_seconds_are_what_the_float_reading_gives() {
        let mut samples: Vec<String> = ["0", "1.", "0.3", "999999.999999999", "5.000000001"]
            .map(String::from)
            .to_vec();
        for i in (0..2_000_000u64).step_by(997) {
            samples.push(format!("{}.{:03}", i / 1000, i % 1000));
            samples.push(format!("{}.{:09}", i % 999_999, i * 7919 % 1_000_000_000));
            samples.push(format!("0.{}", i % 100));
        }
        for s in samples {
            let float = Duration::try_from_secs_f64(s.parse::<f64>().unwrap()).ok();
            assert_eq!(plain_seconds(&s), float, "{s}");
        }
        assert_eq!(plain_seconds("1,5"), None);
        assert_eq!(parse_seconds("1,5"), Some(Duration::from_millis(1500)));
    }

    /// Collected text comes out trimmed and cleaned as before, in its own buffer when it was
    /// clean, and not at the size of a longer output the buffer held before.
    #[test]
    fn finished_text_is_trimmed_cleaned_and_sized_to_itself() {
        // A buffer grown by earlier text and cleared, as the JUnit reader's output buffers are
        // between cases.
        let reused = |cap: usize| {
            let mut text = Text::with_cap(cap.max(4000));
            text.push(&"x".repeat(4000));
            text.clear();
            text.cap = cap;
            text
        };
        for (pieces, finished) in [
            (
                &["\n\t at a.b(C.java:1)\n", "\tat d\u{a0} \r\n"][..],
                Some("at a.b(C.java:1)\n\tat d"),
            ),
            (&["  \u{1b}[31mred\u{1b}[0m\u{7} "][..], Some("red")),
            (&[" \n\t "][..], None),
        ] {
            let mut text = reused(1 << 20);
            for piece in pieces {
                text.push(piece);
            }
            let plain = pieces.concat();
            let expected = clean_text(plain.trim_matches(|c: char| c.is_whitespace()));
            let done = text.finish();
            assert_eq!(done.as_deref(), finished);
            assert_eq!(done.clone().unwrap_or_default(), expected);
            if let Some(done) = done {
                assert!(
                    done.capacity() < 2 * done.len().max(8),
                    "{}",
                    done.capacity()
                );
            }
        }
        let mut cut = reused(4);
        cut.push("  abcdef");
        let cut = cut.finish().unwrap_or_default();
        assert_eq!(cut, "ab\n… [4 more bytes not kept]");
        assert!(cut.capacity() < 2 * cut.len(), "{}", cut.capacity());
    }

    /// Attribute values are capped on a character boundary whether borrowed or owned.
    #[test]
    fn attributes_are_cut_and_cleaned_borrowed_or_owned() {
        let value = "é€\u{7}abc";
        for cap in 0..=value.len() {
            let borrowed = clean_attr(Some(value), cap);
            assert_eq!(
                clean_attr(Some(value.to_owned()), cap),
                borrowed,
                "cap {cap}"
            );
            assert!(borrowed.is_none_or(|kept| kept.len() <= cap), "cap {cap}");
        }
        assert_eq!(
            clean_attr(Some("é€\u{7}abc".to_owned()), 6).as_deref(),
            Some("é€")
        );
        assert_eq!(clean_attr(Some("   ".to_owned()), 9), None);
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
        let err = nunit::parse(Scanner::streamed_with_limit(buffered, 1024)).unwrap_err();
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

    /// Forgets the text, keeping the buffer.
    pub(super) fn clear(&mut self) {
        self.kept.clear();
        self.dropped = 0;
    }

    /// Whether no text was pushed since it was made or cleared.
    pub(super) fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.dropped == 0
    }

    /// The text kept so far, raw: for appending to across events before [`Text::finish`].
    pub(super) fn into_kept(self) -> String {
        self.kept
    }

    /// The text, trimmed and cleaned, in the buffer it was collected in when it was clean (most
    /// is): a second allocation and copy of every failure's trace was 1 % of a parse.
    pub(super) fn finish(self) -> Option<String> {
        let mut kept = self.kept;
        let end = kept.trim_end().len();
        kept.truncate(end);
        let start = end - kept.trim_start().len();
        kept.drain(..start);
        let mut text = clean_text(kept);
        if self.dropped > 0 {
            text.push_str(&format!("\n… [{} more bytes not kept]", self.dropped));
        }
        // A buffer reused from a longer output is not kept at that size in the model.
        if text.capacity() / 2 > text.len() {
            text.shrink_to_fit();
        }
        (!text.is_empty()).then_some(text)
    }
}

pub(super) fn take<'a>(attrs: &mut [Attr<'a>], key: &str) -> Option<Cow<'a, str>> {
    attrs
        .iter_mut()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| std::mem::take(v))
        .filter(|v| !is_blank(v))
}

/// Seconds as JUnit writers print them: `1.5`, `1,5` (decimal comma), `1,234.5` (grouping).
pub(super) fn parse_seconds(raw: &str) -> Option<Duration> {
    // Nearly every value is a plain decimal with no spaces around it: read before trimming.
    if let Some(exact) = plain_seconds(raw) {
        return Some(exact);
    }
    let s = raw.trim();
    if let Some(exact) = plain_seconds(s) {
        return Some(exact);
    }
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

/// `12.345` read as whole nanoseconds, the way nearly every writer prints times, without a
/// float parse (a tenth of a JUnit start tag's cost). Up to six integer digits and nine decimals,
/// where this is exactly what rounding the `f64` gives; anything else is `None`.
fn plain_seconds(s: &str) -> Option<Duration> {
    // One pass over the bytes: the digits before the point, then up to nine after it.
    // Decimals are gathered as an integer and scaled once at the end (a division per digit was
    // most of the cost).
    const SCALE: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let (mut secs, mut decimals) = (0u64, 0u32);
    let (mut whole, mut fraction, mut point) = (0, 0, false);
    for b in s.bytes() {
        match b {
            b'0'..=b'9' if !point => {
                whole += 1;
                secs = secs * 10 + u64::from(b - b'0');
            }
            b'0'..=b'9' => {
                fraction += 1;
                decimals = decimals.wrapping_mul(10).wrapping_add(u32::from(b - b'0'));
            }
            b'.' if !point => point = true,
            _ => return None,
        }
        if whole > 6 || fraction > 9 {
            return None;
        }
    }
    let nanos = decimals * SCALE.get(fraction)?;
    (whole > 0).then(|| Duration::new(secs, nanos))
}

pub(super) fn clean_attr<'a>(value: Option<impl Into<Cow<'a, str>>>, cap: usize) -> Option<String> {
    value
        .map(|v| clean_text(truncated(v.into(), cap)))
        .filter(|v| !is_blank(v))
}

/// `text` cut to at most `cap` bytes on a character boundary ([`truncate_utf8`]); owned text
/// stays owned, so cleaning it need not copy it.
fn truncated(text: Cow<'_, str>, cap: usize) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(truncate_utf8(text, cap)),
        Cow::Owned(mut text) => {
            let keep = truncate_utf8(&text, cap).len();
            text.truncate(keep);
            Cow::Owned(text)
        }
    }
}

//! The scanner against quick-xml, the parser the readers used before it, over every XML report in
//! the conformance corpus; and streamed against in-memory scanning on inputs cut at every byte.
// The corpus is read from disk: tests are an edge of their own.
#![allow(clippy::disallowed_methods)]

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use quick_xml::events::Event;

use super::*;

/// What a reader sees of a document: elements with their attributes, text between tags merged.
#[derive(Debug, PartialEq)]
enum Seen {
    Open(String, Vec<(String, String)>),
    Close,
    Text(String),
}

fn push_text(out: &mut Vec<Seen>, text: &str) {
    if let Some(Seen::Text(last)) = out.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        out.push(Seen::Text(text.to_owned()));
    }
}

/// The scanner's view, or its error.
fn ours<R: BufRead>(scanner: Scanner<'_, R>) -> Result<Vec<Seen>, ParseError> {
    reading(scanner, true)
}

/// The scanner's view through [`Scanner::next_markup`], which passes text over.
fn ours_markup<R: BufRead>(scanner: Scanner<'_, R>) -> Result<Vec<Seen>, ParseError> {
    reading(scanner, false)
}

fn reading<R: BufRead>(mut scanner: Scanner<'_, R>, text: bool) -> Result<Vec<Seen>, ParseError> {
    let mut out = Vec::new();
    loop {
        let token = if text {
            scanner.next_token()?
        } else {
            scanner.next_markup()?
        };
        match token {
            Token::Start(tag) => out.push(open(&tag)?),
            Token::Empty(tag) => {
                out.push(open(&tag)?);
                out.push(Seen::Close);
            }
            Token::End => out.push(Seen::Close),
            Token::Text(t) if text => push_text(&mut out, &t),
            Token::Text(t) => panic!("next_markup handed out text: {t:?}"),
            Token::Eof(_) => return Ok(out),
        }
    }
}

fn without_text(seen: &Result<Vec<Seen>, ParseError>) -> Result<Vec<&Seen>, String> {
    match seen {
        Ok(seen) => Ok(seen
            .iter()
            .filter(|s| !matches!(s, Seen::Text(_)))
            .collect()),
        Err(e) => Err(e.to_string()),
    }
}

fn open(tag: &Tag<'_>) -> Result<Seen, ParseError> {
    let attrs = tag.attributes()?;
    Ok(Seen::Open(
        tag.local_name().to_owned(),
        attrs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_owned()))
            .collect(),
    ))
}

/// quick-xml's view, configured as the readers had it; `None` where it found an error.
fn theirs(bytes: &[u8]) -> Option<Vec<Seen>> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    reader.config_mut().allow_dangling_amp = true;
    let mut out = Vec::new();
    let open = |e: &quick_xml::events::BytesStart<'_>| -> Option<Seen> {
        let mut attrs = Vec::new();
        for attr in e.attributes() {
            let attr = match attr {
                Ok(a) => a,
                Err(quick_xml::events::attributes::AttrError::Duplicated(..)) => continue,
                Err(_) => return None,
            };
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap_or_else(|_| attr.value.clone());
            let key = attr.key.local_name().as_ref().to_owned();
            attrs.push((key, value.into_owned()));
        }
        let name = e.local_name().as_ref().to_owned();
        Some(Seen::Open(name, attrs))
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => out.push(open(&e)?),
            Event::Empty(e) => {
                out.push(open(&e)?);
                out.push(Seen::Close);
            }
            Event::End(_) => out.push(Seen::Close),
            Event::Text(t) => push_text(&mut out, &t.xml10_content()),
            Event::CData(t) => push_text(&mut out, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => match quick_xml::escape::resolve_predefined_entity(&r.xml10_content()) {
                        Some(t) => t.to_owned(),
                        None => format!("&{};", r.xml10_content()),
                    },
                };
                push_text(&mut out, &text);
            }
            Event::Eof => return Some(out),
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    }
}

pub(in crate::parse) fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            xml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "xml" || e == "trx" || e == "junit")
        {
            out.push(path);
        }
    }
}

/// A stream that hands out its bytes `step` at a time, so every token is cut by reads.
fn trickle(bytes: &[u8], step: usize) -> Scanner<'static, std::io::BufReader<&[u8]>> {
    let mut scanner = Scanner::streamed(std::io::BufReader::with_capacity(step, bytes));
    scanner.chunk = step;
    scanner
}

#[test]
fn every_corpus_report_scans_as_quick_xml_reads_it() {
    let mut files = Vec::new();
    xml_files(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/conformance")
            .as_path(),
        &mut files,
    );
    assert!(files.len() > 100, "corpus missing: {} files", files.len());
    let mut compared = 0;
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let ours_in_memory = ours(Scanner::in_memory(&bytes));
        let ours_streamed = ours(trickle(&bytes, 7));
        assert_eq!(ours_in_memory, ours_streamed, "{}", path.display());
        // Passing text over changes nothing else, errors included.
        let markup = ours_markup(trickle(&bytes, 7));
        assert_eq!(
            without_text(&markup),
            without_text(&ours_in_memory),
            "{}",
            path.display()
        );
        match theirs(body) {
            Some(expected) => {
                assert_eq!(
                    ours_in_memory.as_ref().ok(),
                    Some(&expected),
                    "{}",
                    path.display()
                );
                compared += 1;
            }
            None => assert!(
                ours_in_memory.is_err(),
                "{}: quick-xml refused it",
                path.display()
            ),
        }
    }
    assert!(compared > 100, "{compared}");
}

#[test]
fn references_line_ends_and_markup_decode_as_quick_xml_does() {
    let doc = concat!(
        "\u{feff}<?xml version=\"1.0\"?>\r\n<!DOCTYPE r [<!ENTITY e \"x\"> <!-- ]> ' -->]>\n",
        "<ns:r a=\"1&amp;2\t3\r\n4\" b='&#x41;&#66;' c=\"&unknown; kept\" d=\"x>y\">",
        "a &lt; b &unknown; &#0; &#xZ; & dangling &amp&amp; \r\nline\rend",
        "<![CDATA[<raw> &amp; \r\n]]><!-- c --><?pi x?><e/><f g = \"h\" /></ns:r>\n"
    );
    let expected = theirs(doc.strip_prefix('\u{feff}').unwrap().as_bytes()).unwrap();
    assert_eq!(ours(Scanner::in_memory(doc.as_bytes())).unwrap(), expected);
    assert_streamed_as(doc, &expected, 12);
}

#[test]
fn broken_documents_are_errors_with_their_line() {
    let cases: &[(&str, u64, &str)] = &[
        ("<a>\n<b>\n</c>\n</a>", 3, "expected </b>, found </c>"),
        ("<a>\n</a>\n</a>", 3, "closes no open element"),
        // The name open is a prefix of the end tag's, and the other way round.
        ("<a>\n</ab>", 2, "expected </a>, found </ab>"),
        ("<ab>\n</a>", 2, "expected </ab>, found </a>"),
        ("<p:a>\n</a>", 2, "expected </p:a>, found </a>"),
        ("<a>\n<b x=\"1\n", 3, "ends inside a tag"),
        ("<a><!-- never closed\n\n", 3, "ends inside a comment"),
        ("<a b=c/>", 1, "not quoted"),
        ("<a b/>", 1, "not followed by '='"),
        ("<a\nb c=\"1\"/>", 2, "'b' is not followed by '='"),
        ("<a b'c'=\"1\"/>", 1, "'b' is not followed by '='"),
        ("<a b=\"1\" ='2'/>", 1, "an attribute has no name"),
        ("<a b=\"1\" / c=\"2\"/>", 1, "'/' is not followed by '>'"),
        ("<a\"b\"/>", 1, "<a is followed by '\"', not a space"),
        ("<a=\"b\"/>", 1, "<a is followed by '=', not a space"),
        ("<a>\n<!FOO></a>", 2, "neither a comment"),
        ("< a/>", 1, "not followed by an element name"),
    ];
    for &(doc, line, says) in cases {
        for err in [
            ours(Scanner::in_memory(doc.as_bytes())).unwrap_err(),
            ours(trickle(doc.as_bytes(), 3)).unwrap_err(),
        ] {
            assert_eq!(err.line, Some(line), "{doc:?}: {err}");
            assert!(err.message.contains(says), "{doc:?}: {err}");
        }
    }
    let bad_utf8 = b"<a>\n\n\xff</a>";
    let err = ours(Scanner::in_memory(bad_utf8)).unwrap_err();
    assert_eq!((err.kind, err.line), (ParseErrorKind::Encoding, Some(3)));
    let err = ours(trickle(bad_utf8, 2)).unwrap_err();
    assert_eq!((err.kind, err.line), (ParseErrorKind::Encoding, Some(3)));
}

/// End tags written other than `</name>` (spaces before `>`, prefixes), which the scanner's
/// in-place comparison of the innermost name leaves to the search it saves the others.
#[test]
fn end_tags_close_what_they_name_however_written() {
    let doc = "<p:r><a><b></b ></a\n><c>x</c\t></p:r >";
    let expected = theirs(doc.as_bytes()).unwrap();
    assert_eq!(ours(Scanner::in_memory(doc.as_bytes())).unwrap(), expected);
    assert_streamed_as(doc, &expected, 8);
}

#[test]
fn a_character_cut_by_a_read_is_joined() {
    let doc = "<a n=\"€→ü\">€ü→</a>";
    let expected = ours(Scanner::in_memory(doc.as_bytes())).unwrap();
    assert_streamed_as(doc, &expected, 6);
}

/// Asserts `doc` streamed in reads of every size below `steps` scans to `expected`.
fn assert_streamed_as(doc: &str, expected: &[Seen], steps: usize) {
    for step in 1..steps {
        assert_eq!(
            ours(trickle(doc.as_bytes(), step)).unwrap(),
            expected,
            "step {step}"
        );
    }
}

proptest! {
    /// Whatever the bytes, a stream cut into reads of any size scans as the bytes in memory do.
    #[test]
    fn streamed_scans_as_in_memory(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<a>"), Just("</a>"), Just("<b x='1' y=\"&amp;\"/>"), Just("text"),
                Just("&lt;"), Just("&"), Just("\r\n"), Just("é€"), Just("<![CDATA[x]]>"),
                Just("<!-- c -->"), Just("<?p?>"), Just("<"), Just(">"), Just("\""),
            ],
            0..40,
        ),
        step in 1usize..9,
    ) {
        let doc: String = parts.concat();
        let in_memory = ours(Scanner::in_memory(doc.as_bytes()));
        let streamed = ours(trickle(doc.as_bytes(), step));
        match (in_memory, streamed) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!((a.kind, a.message), (b.kind, b.message)),
            (a, b) => prop_assert!(false, "in memory {:?}, streamed {:?}", a, b),
        }
    }
}

#[test]
fn text_is_borrowed_unless_decoding_changed_it() {
    let mut scanner = Scanner::in_memory(b"<a>plain</a>");
    let _ = scanner.next_token().unwrap();
    assert!(matches!(
        scanner.next_token().unwrap(),
        Token::Text(Cow::Borrowed("plain"))
    ));
}

#[test]
fn named_attributes_are_what_taking_them_from_the_list_gives() {
    let doc = b"<t a=\"1\" b=\" \" a=\"2\" c=\"x&amp;y\t z\" ns:d='4' b=\"late\" f=\"&bogus;\"/>";
    let mut scanner = Scanner::in_memory(doc);
    let Token::Empty(tag) = scanner.next_token().unwrap() else {
        panic!("an empty element");
    };
    let keys = ["a", "b", "c", "d", "e", "f"];
    let mut named = Default::default();
    tag.named(keys, &mut named).unwrap();
    let mut list = tag.attributes().unwrap();
    let taken: Vec<Option<Cow<'_, str>>> = keys
        .iter()
        .map(|k| super::super::xml::take(&mut list, k))
        .collect();
    assert_eq!(named.to_vec(), taken);
    assert_eq!(named[2].as_deref(), Some("x&y  z"));
    assert_eq!(named[5].as_deref(), Some("&bogus;"));
}

/// A tag with more attributes than the scan records is read whole by the walk it falls back to,
/// in memory and streamed.
#[test]
fn a_tag_beyond_the_recorded_attributes_is_read_whole() {
    let count = MAX_SCANNED_ATTRIBUTES + 8;
    let attrs: String = (0..count).map(|i| format!(" k{i}=\"v{i}\"")).collect();
    let doc = format!("<t{attrs}/>");
    let expected = Seen::Open(
        "t".to_owned(),
        (0..count)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .collect(),
    );
    let seen = ours(Scanner::in_memory(doc.as_bytes())).unwrap();
    assert_eq!(seen, [expected, Seen::Close]);
    assert_eq!(ours(trickle(doc.as_bytes(), 7)).unwrap(), seen);
    let mut scanner = Scanner::in_memory(doc.as_bytes());
    let Token::Empty(tag) = scanner.next_token().unwrap() else {
        panic!("an empty element");
    };
    assert!(tag.spans.is_none(), "the scan declined it");
    // As many as it records: recorded.
    let attrs: String = (0..MAX_SCANNED_ATTRIBUTES)
        .map(|i| format!(" k{i}=\"v{i}\""))
        .collect();
    let doc = format!("<t{attrs}/>");
    let mut scanner = Scanner::in_memory(doc.as_bytes());
    let Token::Empty(full) = scanner.next_token().unwrap() else {
        panic!("an empty element");
    };
    assert_eq!(full.spans.map(<[_]>::len), Some(MAX_SCANNED_ATTRIBUTES));
    let mut found = [None];
    tag.named([format!("k{}", count - 1).as_str()], &mut found)
        .unwrap();
    let [last] = found;
    assert_eq!(last.as_deref(), Some(format!("v{}", count - 1).as_str()));
}

#[test]
fn the_word_check_for_attribute_normalizing_misses_nothing() {
    let wanted = |b: u8| matches!(b, b'\t' | b'\r' | b'\n' | b'&');
    // Whether the value `bytes`, closed by a quote, is sent to be normalized. (A `"` among the
    // bytes closes it early, before any special byte: not sent.)
    let may_need_normalizing =
        |bytes: &[u8]| value_end(&[bytes, b"\""].concat(), b'"').is_some_and(|(_, dirty)| dirty);
    for len in 0..20 {
        for fill in [b'a', b' ', b'~', 0x7f, 0x80, 0xc3, 0xff, b'\'', b'0'] {
            let mut bytes = vec![fill; len];
            assert!(!may_need_normalizing(&bytes), "{bytes:?}");
            for at in 0..len {
                for special in 0..=255u8 {
                    bytes[at] = special;
                    if wanted(special) {
                        assert!(may_need_normalizing(&bytes), "{bytes:?}");
                    }
                    // Other answers only send a value down the careful path, which keeps it.
                    if !wanted(special) && special > b'\r' {
                        assert!(!may_need_normalizing(&bytes), "{bytes:?}");
                    }
                }
                bytes[at] = fill;
            }
        }
    }
}

#[test]
fn blank_is_what_trim_leaves_empty() {
    for value in [
        "",
        " ",
        "\t\n",
        "\u{a0}",
        "\u{2003}x",
        " x",
        "x",
        "é",
        "\u{85}",
    ] {
        assert_eq!(is_blank(value), value.trim().is_empty(), "{value:?}");
    }
}

proptest! {
    /// The SIMD validation reports bad and cut-off characters where the standard library does:
    /// the scanner's encoding errors and its waiting for a character a read cut in two rely on it.
    #[test]
    fn simd_utf8_validation_agrees_with_std(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            &b"a"[..], b"<x>", "é".as_bytes(), "€".as_bytes(), "😀".as_bytes(), b"\xff", b"\xc3",
            b"\xe2\x82", b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80",
        ]), 0..40),
        valid_before in 0usize..200,
    ) {
        // Long valid runs first, so the vector path meets the bad bytes too.
        let mut bytes = "aé€".repeat(valid_before).into_bytes();
        bytes.extend(parts.concat());
        let ours = simdutf8::compat::from_utf8(&bytes).map_err(|e| (e.valid_up_to(), e.error_len()));
        let std = std::str::from_utf8(&bytes).map_err(|e| (e.valid_up_to(), e.error_len()));
        prop_assert_eq!(ours, std);
    }
}

/// The byte-by-byte readings the word-at-a-time searches replace.
fn tag_end_bytewise(tag: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in tag.iter().enumerate() {
        match (quote, b) {
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(open), b) if open == b => quote = None,
            _ => {}
        }
    }
    None
}

fn value_end_bytewise(bytes: &[u8], quote: u8) -> Option<(usize, bool)> {
    let end = bytes.iter().position(|&b| b == quote)?;
    let special = |&b: &u8| b <= b'\r' || b == b'&';
    Some((end, bytes[..end].iter().any(special)))
}

/// Attribute normalizing byte by byte, with a memchr for each reference's `;`: what
/// [`normalize_attribute`]'s word-at-a-time search replaced.
fn normalize_attribute_bytewise(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\t' | b'\n' | b'\r' => {
                out.push_str(&raw[start..i]);
                out.push(' ');
                let pair = b == b'\r' && bytes.get(i + 1) == Some(&b'\n');
                i += if pair { 2 } else { 1 };
                start = i;
            }
            b'&' => {
                out.push_str(&raw[start..i]);
                let Some(j) = memchr::memchr(b';', &bytes[i + 1..]) else {
                    return Cow::Borrowed(raw);
                };
                let name = &raw[i + 1..i + 1 + j];
                match (char_reference(name), predefined_entity(name)) {
                    (Some(c), _) => out.push(c),
                    (None, Some(text)) => out.push_str(text),
                    (None, None) => return Cow::Borrowed(raw),
                }
                i += j + 2;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&raw[start..]);
    Cow::Owned(out)
}

proptest! {
    /// Values of every length with references, known and not, cut ones and the whitespace that
    /// becomes spaces anywhere in a word normalize as the byte-by-byte reading does, and stay
    /// as written exactly when it leaves them so.
    #[test]
    fn attribute_normalizing_agrees_with_a_bytewise_reading(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            "a", "expected", " ", "\t", "\n", "\r", "\r\n", "&", ";", "&lt;", "&gt;", "&amp;",
            "&apos;", "&quot;", "&#65;", "&#x41;", "&#0;", "&#x110000;", "&bogus;", "&l", "t;", "é€",
        ]), 0..30),
    ) {
        let raw = parts.concat();
        let ours = normalize_attribute(&raw);
        let theirs = normalize_attribute_bytewise(&raw);
        prop_assert_eq!(matches!(ours, Cow::Borrowed(_)), matches!(theirs, Cow::Borrowed(_)), "{:?}", raw);
        prop_assert_eq!(ours, theirs);
    }
}

proptest! {
    /// Tags and values of every length and mix, with the bytes the searches look for anywhere
    /// in a word, end where a byte-by-byte reading ends them.
    #[test]
    fn word_searches_agree_with_bytewise_ones(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            &b"a"[..], b"testcase", b" ", b"\t", b"\n", b"\r", b"=", b"\"", b"'", b">", b"/",
            b"&", b"&amp;", "é€".as_bytes(), b"\x01", b"\x7f", b"\xff", b"name=\"x\"",
        ]), 0..40),
    ) {
        let bytes = parts.concat();
        prop_assert_eq!(tag_end(&bytes), tag_end_bytewise(&bytes));
        for quote in [b'"', b'\''] {
            let ours = value_end(&bytes, quote);
            let plain = value_end_bytewise(&bytes, quote);
            // The quote is found exactly; "may need normalizing" may only err towards yes.
            prop_assert_eq!(ours.map(|o| o.0), plain.map(|p| p.0));
            if let (Some((_, dirty)), Some((_, needed))) = (ours, plain) {
                prop_assert!(dirty || !needed, "{:?}", bytes);
            }
        }
    }

    /// A start tag whose attributes the scan records ends where `tag_end` ends it, and reads as
    /// the walk of its attribute text reads it; one the scan waits on has no end for `tag_end`
    /// either. (Tags it declines are ended and read by those two, as before it.)
    #[test]
    fn attributes_recorded_by_the_scan_are_what_the_walk_reads(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            " ", "\t", "\n", "=", "\"", "'", ">", "/", ":", "ns:", "a", "key", "&amp;", "é€",
            "\u{1}", "name=\"x\"", " k='v'", " x = \"1\" ", "/>", "\"a>b\"",
        ]), 0..24),
    ) {
        let soup = parts.concat();
        let mut spans = Vec::new();
        match walk_tag(soup.as_bytes(), &mut spans) {
            Walk::End(gt, _) => prop_assert_eq!(tag_end(soup.as_bytes()), Some(gt)),
            Walk::NeedMore => prop_assert_eq!(tag_end(soup.as_bytes()), None),
            Walk::Declined => {}
        }
        let doc = format!("<t{soup}");
        let mut scanner = Scanner::in_memory(doc.as_bytes());
        if let Ok(Token::Start(tag) | Token::Empty(tag)) = scanner.next_token() {
            prop_assert_eq!(Some(tag.end), tag_end(&doc.as_bytes()[1..]).map(|i| i + 2));
            let read = |tag: &Tag<'_>| {
                let mut out = Vec::new();
                tag.each_attribute(|k, v, dirty| out.push((k.to_owned(), v.to_owned(), dirty)))
                    .map(|()| out)
                    .map_err(|e| e.to_string())
            };
            if tag.spans.is_some() {
                prop_assert_eq!(read(&tag), read(&Tag { spans: None, ..tag }));
            }
        }
    }

    /// Indentation between tags is text like any other: the same tokens, borrowed.
    #[test]
    fn indentation_scans_as_text(
        indent in proptest::collection::vec(proptest::sample::select(vec![" ", "\t", "\n", "\r\n", "x"]), 0..12),
    ) {
        let doc = format!("<a>{0}<b/>{0}</a>", indent.concat());
        let ours = ours(Scanner::in_memory(doc.as_bytes()));
        let theirs = theirs(doc.as_bytes());
        prop_assert_eq!(ours.ok(), theirs);
    }
}

proptest! {
    /// Lines are counted only when asked for, and text is dropped from a stream's window as the
    /// scan goes: whichever tags' lines are asked for, in memory or streamed in reads of any
    /// size, each is the line its tag ends on, and after the end the innermost open element's
    /// line is where its start tag ended.
    #[test]
    fn lines_asked_for_late_or_never_are_exact(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            "<a>", "</a>", "<b x='1\n2'/>", "text\n", "\r\n", "\n", "<!-- \n -->", "é", "<a\n>",
        ]), 0..60),
        step in 1usize..9,
        asked in any::<u64>(),
    ) {
        // The document, the line each tag ends on, and the open elements' lines.
        let (mut doc, mut expected, mut open) = (String::new(), Vec::new(), Vec::new());
        for part in &parts {
            doc.push_str(part);
            let line = doc.matches('\n').count() as u64 + 1;
            match *part {
                "</a>" if open.pop().is_none() => return Ok(()), // not well-formed: skip
                "</a>" => {}
                "<a>" | "<a\n>" => {
                    open.push(line);
                    expected.push(line);
                }
                "<b x='1\n2'/>" => expected.push(line),
                _ => {}
            }
        }
        for (lines, innermost) in [
            lines_asked(Scanner::in_memory(doc.as_bytes()), asked),
            lines_asked(trickle(doc.as_bytes(), step), asked),
        ] {
            prop_assert_eq!(lines.len(), expected.len());
            for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
                if asked >> (i % 64) & 1 == 1 {
                    prop_assert_eq!(*line, Some(*want), "tag {}", i);
                }
            }
            prop_assert_eq!(innermost, open.last().copied());
        }
    }
}

/// Each start tag's line where bit `i % 64` of `asked` says to ask for it (else `None`), and the
/// innermost open element's line after the end.
fn lines_asked<R: BufRead>(
    mut scanner: Scanner<'_, R>,
    asked: u64,
) -> (Vec<Option<u64>>, Option<u64>) {
    let mut lines = Vec::new();
    loop {
        match scanner.next_token() {
            Ok(Token::Start(tag) | Token::Empty(tag)) => {
                let ask = asked >> (lines.len() % 64) & 1 == 1;
                lines.push(ask.then(|| tag.line()));
            }
            Ok(Token::Eof(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    (lines, scanner.innermost_open().map(|(_, line)| line))
}

#[test]
fn strict_scanning_refuses_forbidden_characters_in_text_it_passes_over() {
    let doc = b"<r><a/>bad \x01 text<b/></r>";
    let err = ours_markup(Scanner::in_memory(doc).strict()).unwrap_err();
    assert_eq!(err.line, Some(1), "{err}");
    assert!(err.message.contains("character U+0001"), "{err}");
    // Lenient scanning passes the same text over.
    assert_eq!(ours_markup(Scanner::in_memory(doc)).unwrap().len(), 6);
}

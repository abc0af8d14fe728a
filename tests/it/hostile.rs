//! Input that must fail clearly, in bounded memory and time, never panic or succeed empty.

use std::io::{BufReader, Read};

use test_report::parse::{self, FormatChoice, ParseErrorKind, MAX_EVENT_BYTES};

use crate::support::parse_str;

fn error_of(xml: &str) -> parse::ParseError {
    match parse_str("hostile.xml", xml).result {
        Ok((_, parsed)) => panic!("expected an error, parsed {:?}", parsed.runs),
        Err(e) => e,
    }
}

#[test]
fn empty_and_whitespace_files_say_they_are_empty() {
    for text in ["", "  \n\t", "\u{feff}"] {
        assert_eq!(error_of(text).kind, ParseErrorKind::Empty, "{text:?}");
    }
}

#[test]
fn console_output_is_not_mistaken_for_a_report() {
    let e = error_of("Tests run: 3, Failures: 1\n");
    assert_eq!((e.kind, e.line), (ParseErrorKind::Syntax, Some(1)));
}

#[test]
fn truncated_xml_names_the_open_element_and_line() {
    let e = error_of(
        "<testsuite name=\"s\">\n  <testcase name=\"a\">\n    <failure message=\"boom\">trace",
    );
    assert_eq!(e.kind, ParseErrorKind::Syntax);
    assert_eq!(e.line, Some(3));
    assert!(
        e.message.contains("<failure> opened at line 3"),
        "{}",
        e.message
    );
}

#[test]
fn other_xml_is_unsupported_not_empty_success() {
    let e = error_of("<?xml version=\"1.0\"?><suites><suite/></suites>");
    assert_eq!(e.kind, ParseErrorKind::Unsupported);
    assert!(e.message.contains("<suites>"), "{}", e.message);
}

#[test]
fn invalid_utf8_is_an_encoding_error() {
    let bytes = b"<testsuite><testcase name=\"caf\xe9\"/></testsuite>";
    let e = parse::parse_bytes(bytes, FormatChoice::Auto).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Encoding);
}

/// Streams `<testsuite name="aaaa…` without end, counting what the parser pulled.
struct EndlessAttribute {
    header: &'static [u8],
    produced: u64,
    limit: u64,
}

impl Read for EndlessAttribute {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.produced >= self.limit {
            return Ok(0);
        }
        let n = buf.len().min((self.limit - self.produced) as usize);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.produced as usize + i;
            *b = self.header.get(at).copied().unwrap_or(b'a');
        }
        self.produced += n as u64;
        Ok(n)
    }
}

#[test]
fn a_one_gigabyte_attribute_stops_at_the_event_bound() {
    let mut source = EndlessAttribute {
        header: b"<testsuite name=\"",
        produced: 0,
        limit: 1 << 30,
    };
    let result = parse::parse(
        BufReader::with_capacity(256 * 1024, &mut source),
        FormatChoice::Auto,
    );
    let e = result.unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::TooLarge, "{e}");
    // Memory stays bounded: the parser stopped pulling shortly after the bound, not at 1 GiB.
    assert!(
        source.produced < MAX_EVENT_BYTES + (1 << 20),
        "read {} bytes",
        source.produced
    );
}

#[test]
fn billion_laughs_entities_are_never_expanded() {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        xml.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    xml.push_str("]>\n<testsuite><testcase name=\"t\"><failure message=\"&lol9;\">&lol9;</failure></testcase></testsuite>");
    let report = parse_str("laughs.xml", &xml);
    let (_, parsed) = report.result.expect("parses without expanding");
    let case = &parsed.runs[0].suites[0].cases[0];
    assert_eq!(case.problems()[0].message.as_deref(), Some("&lol9;"));
    assert_eq!(case.problems()[0].trace.as_deref(), Some("&lol9;"));
}

#[test]
fn external_entities_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET").unwrap();
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE t [<!ENTITY xxe SYSTEM \"file://{}\">]>\n<testsuite><testcase name=\"t\"><failure message=\"&xxe;\">&xxe;</failure></testcase></testsuite>",
        secret.display()
    );
    let report = parse_str("xxe.xml", &xml);
    let (_, parsed) = report.result.expect("parses");
    let text = format!("{:?}", parsed.runs);
    assert!(!text.contains("TOP-SECRET"));
    assert!(text.contains("&xxe;"));
}

#[test]
fn absurd_nesting_is_refused_without_overflowing_the_stack() {
    let xml = format!("<testsuites>{}", "<testsuite>".repeat(100_000));
    let e = error_of(&xml);
    assert_eq!(e.kind, ParseErrorKind::Unsupported);
    assert!(e.message.contains("nested deeper"), "{}", e.message);
}

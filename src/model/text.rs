//! Text entering the model: control characters and ANSI escapes removed, size capped.

use std::borrow::Cow;

use crate::word;

/// Removes ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and two-byte
/// escapes) and control characters other than `\n` and `\t`; `\r\n` becomes `\n`. Test output is
/// full of colour codes that render as garbage in Markdown and break workflow commands.
///
/// Clean text given owned (an attribute value that was normalized, a failure's collected trace)
/// is returned as it is: copying it was a second allocation and copy of every failure's text.
pub fn clean_text<'a>(input: impl Into<Cow<'a, str>>) -> String {
    let input = input.into();
    if is_clean(input.as_bytes()) {
        return input.into_owned();
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    // CSI: parameters and intermediates, then one final byte in @..~
                    for n in chars.by_ref() {
                        if ('@'..='~').contains(&n) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC: ends at BEL or ESC \
                    while let Some(n) = chars.next() {
                        if n == '\u{7}' {
                            break;
                        }
                        if n == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether `bytes` has nothing [`clean_text`] removes: no control character but `\n` and `\t`, no
/// DEL, no 0xC2 (which leads the C1 controls, U+0080–U+009F; text with it takes the careful path).
/// Nearly all text is clean, so this decides without copying.
fn is_clean(bytes: &[u8]) -> bool {
    let suspicious = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f || b == 0xc2;
    if bytes.len() >= SHORT_TEXT_BYTES {
        // A fold without early exit: the compiler vectorizes it, and clean text is read whole.
        return !bytes.iter().fold(false, |found, &b| found | suspicious(b));
    }
    // Names and other short strings, most calls: a word at a time, each word with a possibly
    // suspicious byte (line feeds and tabs look so here) checked byte by byte.
    let clean = |chunk: &[u8]| {
        let x = word::load(chunk);
        let marks = word::below(x, 0x20) | word::equal(x, 0x7f) | word::equal(x, 0xc2);
        marks == 0 || !chunk.iter().any(|&b| suspicious(b))
    };
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    // The last few bytes are read as the last eight, some of them read twice: a loop over up to
    // seven bytes, or a load of fewer than eight (a `memcpy` call), each cost more.
    let last = bytes
        .len()
        .checked_sub(8)
        .and_then(|from| bytes.get(from..));
    chunks.into_iter().all(clean)
        && match last {
            _ if tail.is_empty() => true,
            Some(last) => clean(last),
            None => !tail.iter().any(|&b| suspicious(b)),
        }
}

/// Below this length [`is_clean`] reads words; from it on, a vectorized fold is faster.
const SHORT_TEXT_BYTES: usize = 64;

/// Whether `s` is empty or whitespace: most strings start with a visible ASCII character and are
/// decided by it, without a walk through `char::is_whitespace`.
pub fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b) if b.is_ascii_graphic() => false,
        _ => s.trim().is_empty(),
    }
}

/// `s` without whitespace around it, as `str::trim`; most strings have none, as their first and
/// last bytes show.
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// The longest prefix of `s` that fits in `max` bytes without splitting a character.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The shortcuts from the ends agree with `str::trim`.
        #[test]
        fn blank_and_trim_agree_with_str_trim(s in "(?s).{0,12}|[ \t\n\u{a0}\u{3000}ax]{0,8}") {
            proptest::prop_assert_eq!(is_blank(&s), s.trim().is_empty());
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    #[test]
    fn strips_colour_codes_and_controls_but_keeps_lines() {
        let raw = "\u{1b}[31mexpected\u{1b}[0m 1\r\n\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\\u{0}got\t2";
        assert_eq!(clean_text(raw), "expected 1\nlinkgot\t2");
        assert_eq!(clean_text(raw.to_owned()), "expected 1\nlinkgot\t2");
    }

    #[test]
    fn clean_owned_text_is_kept_in_its_buffer() {
        let owned = "at a.b(C.java:1)\n\tat ü".to_owned();
        let buffer = owned.as_ptr();
        let cleaned = clean_text(owned);
        assert_eq!(
            (cleaned.as_str(), cleaned.as_ptr()),
            ("at a.b(C.java:1)\n\tat ü", buffer)
        );
    }

    proptest::proptest! {
        /// Short and long strings, with every byte the check looks for anywhere in a word, are
        /// clean exactly when no byte is suspicious.
        #[test]
        fn the_clean_check_agrees_with_a_byte_scan(
            bytes in proptest::collection::vec(proptest::sample::select(vec![
                b'a', b' ', b'\n', b'\t', b'\r', 0x1b, 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xc2, 0xc3, 0xff,
            ]), 0..150),
        ) {
            let suspicious =
                |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f || b == 0xc2;
            proptest::prop_assert_eq!(is_clean(&bytes), !bytes.iter().any(|&b| suspicious(b)));
        }
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}

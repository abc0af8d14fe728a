//! Text entering the model: control characters and ANSI escapes removed, size capped.

/// Removes ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and two-byte
/// escapes) and control characters other than `\n` and `\t`; `\r\n` becomes `\n`. Test output is
/// full of colour codes that render as garbage in Markdown and break workflow commands.
pub fn clean_text(input: &str) -> String {
    // Nearly all text is clean: one byte scan instead of a char-by-char copy. 0xC2 leads the C1
    // controls (U+0080–U+009F), so text with it takes the careful path.
    // A fold without early exit: the compiler vectorizes it, and clean text is read whole anyway.
    let suspicious = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f || b == 0xc2;
    if !input
        .as_bytes()
        .iter()
        .fold(false, |found, &b| found | suspicious(b))
    {
        return input.to_owned();
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

    #[test]
    fn strips_colour_codes_and_controls_but_keeps_lines() {
        let raw = "\u{1b}[31mexpected\u{1b}[0m 1\r\n\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\\u{0}got\t2";
        assert_eq!(clean_text(raw), "expected 1\nlinkgot\t2");
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}

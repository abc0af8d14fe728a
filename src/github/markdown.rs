//! Writing text from test reports into GitHub-flavoured Markdown without it being read as markup.

use std::fmt::Write;
use std::time::Duration;

/// Text in a Markdown paragraph or table cell: HTML and Markdown punctuation escaped, newlines
/// flattened, so a test named `<T>` or `a|b` neither vanishes nor breaks the table.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_inline(&mut out, text);
    out
}

/// [`inline`], appended to `out`: runs without markup are copied whole (every byte that needs
/// escaping is ASCII, so the runs end on character boundaries).
pub fn push_inline(out: &mut String, text: &str) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escaped = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'|' => "&#124;",
            b'\n' | b'\r' => " ",
            b'\\' => "\\\\",
            b'`' => "\\`",
            b'*' => "\\*",
            b'_' => "\\_",
            b'[' => "\\[",
            b']' => "\\]",
            b'#' => "\\#",
            b'~' => "\\~",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// A fenced code block that no content can close early: the fence is longer than the longest
/// run of backticks inside.
pub fn code_block(out: &mut String, text: &str) {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let _ = write!(out, "{fence}text\n{text}\n{fence}\n");
}

/// Traces rarely hold a backtick: jumping between them (memchr) instead of visiting every
/// character was a third of the summary's work on a report of Java traces.
fn longest_backtick_run(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut longest, mut run, mut last) = (0, 0, usize::MAX);
    for at in memchr::memchr_iter(b'`', bytes) {
        run = if last.wrapping_add(1) == at {
            run + 1
        } else {
            1
        };
        longest = longest.max(run);
        last = at;
    }
    longest
}

/// `1h 02m`, `1m 23s`, `4.2s`, `230ms`: precise where it matters, short where it does not.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{}m {:02}s", ms / 60_000, (ms / 1_000) % 60)
    } else {
        format!("{}h {:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_cannot_inject_markup() {
        assert_eq!(inline("a|b <img> *x*"), "a&#124;b &lt;img&gt; \\*x\\*");
    }

    /// What [`push_inline`]'s runs must agree with: the character-by-character escaping it
    /// replaced.
    fn inline_by_char(text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '|' => out.push_str("&#124;"),
                '\n' | '\r' => out.push(' '),
                '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn inline_escapes_as_character_by_character(text in "(?s).{0,40}|[&<>|\\\\`*_#~\\[\\]\r\na-zé€ ]{0,40}") {
            let mut appended = String::from("kept");
            push_inline(&mut appended, &text);
            proptest::prop_assert_eq!(&appended[4..], inline_by_char(&text));
        }
    }

    #[test]
    fn fence_outgrows_backticks_inside() {
        let mut out = String::new();
        code_block(&mut out, "```\ncode\n```");
        assert!(out.starts_with("````text\n"));
        assert!(out.ends_with("\n````\n"));
    }

    #[test]
    fn longest_backtick_run_counts_adjacent_backticks_only() {
        assert_eq!(longest_backtick_run("no ticks"), 0);
        assert_eq!(longest_backtick_run("`"), 1);
        assert_eq!(longest_backtick_run("a ` b `` c ``` d"), 3);
        assert_eq!(longest_backtick_run("````x`"), 4);
        assert_eq!(longest_backtick_run("x`` ``"), 2);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(230)), "230ms");
        assert_eq!(format_duration(Duration::from_millis(4_250)), "4.2s");
        assert_eq!(format_duration(Duration::from_secs(83)), "1m 23s");
        assert_eq!(format_duration(Duration::from_secs(3_720)), "1h 02m");
    }
}

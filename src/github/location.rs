//! Source locations in failure text: one small reader per language, each turning one line of a
//! stack trace or failure message into a frame `path:line`.
//!
//! Rules:
//! - Frames come out innermost first (the code that failed, then its callers). Python prints its
//!   traceback outermost first ("most recent call last"), so a trace whose first frame is Python's
//!   is reversed.
//! - A reader only takes paths with its language's file extensions, so readers cannot steal each
//!   other's lines; each line gives at most one frame.
//! - Some traces name only the end of a path: a JVM frame names the file, and its class's package
//!   gives the directories (`com/acme/MathTest.java` of `src/test/java/com/acme/MathTest.java`);
//!   Go names the file alone. Those frames are `partial` and only the checkout's file list can
//!   complete them ([`super::repo_path`]).
//! - Line 0 is no line (GitHub numbers lines from 1).

/// One place a trace points at, as written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub path: String,
    pub line: Option<u32>,
    /// Only the end of the path is known.
    pub partial: bool,
}

impl Frame {
    fn new(path: &str, line: Option<u32>) -> Frame {
        Frame {
            path: path.to_owned(),
            line,
            partial: false,
        }
    }
}

/// A reader of one language's frames: the frame on a line, if it holds one.
type Reader = fn(&str) -> Option<Frame>;

/// One bit per reader's language.
struct Language;

impl Language {
    const PYTHON: u16 = 1;
    const JVM: u16 = 1 << 1;
    const DOTNET: u16 = 1 << 2;
    const JAVASCRIPT: u16 = 1 << 3;
    const GO: u16 = 1 << 4;
    const RUST: u16 = 1 << 5;
    const RUBY: u16 = 1 << 6;
    const PHP: u16 = 1 << 7;
    const SWIFT: u16 = 1 << 8;

    /// The language whose reader takes files with this extension; 0 for none.
    fn of_extension(ext: &str) -> u16 {
        LANGUAGES
            .iter()
            .find(|(_, extensions, _)| extensions.contains(&ext))
            .map_or(0, |(language, _, _)| *language)
    }
}

const PYTHON: &[&str] = &["py"];
const JVM: &[&str] = &["java", "kt", "kts", "scala", "groovy"];
const JAVASCRIPT: &[&str] = &[
    "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "vue", "svelte",
];
const DOTNET: &[&str] = &["cs", "fs", "vb"];
const GO: &[&str] = &["go"];
const RUST: &[&str] = &["rs"];
const RUBY: &[&str] = &["rb"];
const PHP: &[&str] = &["php", "phpt"];
const SWIFT: &[&str] = &["swift"];

/// Each language with its file extensions (the ones its reader takes, so [`languages`] sends a
/// line to it) and its reader, tried in this order on each line: Python's first.
const LANGUAGES: &[(u16, &[&str], Reader)] = &[
    (Language::PYTHON, PYTHON, python),
    (Language::JVM, JVM, jvm),
    (Language::DOTNET, DOTNET, dotnet),
    (Language::JAVASCRIPT, JAVASCRIPT, javascript),
    (Language::GO, GO, go),
    (Language::RUST, RUST, rust),
    (Language::RUBY, RUBY, ruby),
    (Language::PHP, PHP, php),
    (Language::SWIFT, SWIFT, swift),
];

/// The lines of `text` as `str::lines` gives them (`\n` or `\r\n` ends a line), each found with
/// memchr rather than a character searcher.
pub fn lines(text: &str) -> Lines<'_> {
    Lines { rest: text }
}

/// The iterator of [`lines`].
pub struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    /// The text after the lines read so far.
    pub fn remainder(&self) -> &'a str {
        self.rest
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.rest.as_bytes()) {
            // `\n` is ASCII: `at` and `at + 1` are character boundaries.
            Some(at) => {
                let line = &self.rest[..at];
                (
                    line.strip_suffix('\r').unwrap_or(line),
                    &self.rest[at + 1..],
                )
            }
            // A last line's lone `\r` is text.
            None => (self.rest, ""),
        };
        self.rest = rest;
        Some(line)
    }
}

/// Every frame in `text`, innermost first. Lazy: callers stop at the first frame that names a file
/// of the checkout, and the output searched after the trace can be long.
pub fn frames(text: &str) -> Frames<'_> {
    Frames {
        lines: lines(text),
        reversed: None,
        started: false,
        readers: u16::MAX,
    }
}

/// As [`frames`], without the frames only a checkout's file list can complete: the JVM's, which
/// name the file alone. Without a list they never resolve, and reading them was most of the
/// annotations' work on a report of Java traces.
pub fn complete_frames(text: &str) -> Frames<'_> {
    let readers = !Language::JVM;
    // A text that names no file of another language (a Java trace, plain output) has no frame
    // to read: one search through it instead of reading it line by line. (An extension is found
    // from a `:`, `"` or `(` back to the `.`, never across a line end, so the text's languages
    // are its lines' together.)
    let text = if languages(text) & readers == 0 {
        ""
    } else {
        text
    };
    Frames {
        readers,
        ..frames(text)
    }
}

/// The iterator of [`frames`].
pub struct Frames<'a> {
    lines: Lines<'a>,
    /// A Python traceback, read whole and handed out innermost first.
    reversed: Option<std::vec::IntoIter<Frame>>,
    started: bool,
    /// The languages whose readers are tried (bits of [`Language`]).
    readers: u16,
}

impl Iterator for Frames<'_> {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        if let Some(reversed) = &mut self.reversed {
            return reversed.next();
        }
        let readers = self.readers;
        let (frame, is_python) = self.lines.by_ref().find_map(|l| read(l, readers))?;
        if !self.started && is_python {
            let mut all = vec![frame];
            all.extend(
                self.lines
                    .by_ref()
                    .filter_map(|l| read(l, readers))
                    .map(|(f, _)| f),
            );
            all.reverse();
            let mut reversed = all.into_iter();
            let first = reversed.next();
            self.reversed = Some(reversed);
            return first;
        }
        self.started = true;
        Some(frame)
    }
}

/// The frame on `line` for one of the `readers` languages, and whether Python's reader found it.
fn read(line: &str, readers: u16) -> Option<(Frame, bool)> {
    let languages = languages(line) & readers;
    LANGUAGES
        .iter()
        .filter(|(language, _, _)| languages & language != 0)
        .find_map(|(language, _, read)| Some((read(line)?, *language == Language::PYTHON)))
}

/// Longest file extension a reader takes (`groovy`, `svelte`).
const MAX_EXTENSION: usize = 6;

/// The languages of the extensions on `line` right before a `:` (`a.py:3`, `a.cs:line 3`), a `"`
/// (Python's `File "a.py"`) or a `(` (PHP's `a.php(3)`), as every frame has its file's: only those
/// readers can take the line. Most lines of test output have none and skip every reader; a JVM
/// trace line skips the other eight (reading each line with all of them was a third of the
/// action's work on a report whose traces name no checkout file).
fn languages(line: &str) -> u16 {
    let bytes = line.as_bytes();
    memchr::memchr3_iter(b':', b'"', b'(', bytes).fold(0, |found, at| {
        let ext = bytes[..at]
            .iter()
            .rev()
            .take(MAX_EXTENSION + 1)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if (1..=MAX_EXTENSION).contains(&ext) && at > ext && bytes[at - ext - 1] == b'.' {
            // ASCII alphanumerics and a `.` before them: `at - ext` is a character boundary.
            found | Language::of_extension(&line[at - ext..at])
        } else {
            found
        }
    })
}

/// `path.ext:LINE` at the start of `s`, for one of `extensions`: the path, the line and what follows
/// the line number. The colon is the first one after a matching extension, so Windows drive letters
/// (`C:\src\a.js:3`) stay in the path.
fn path_and_line<'a>(s: &'a str, extensions: &[&str]) -> Option<(&'a str, Option<u32>, &'a str)> {
    for (colon, _) in s.match_indices(':') {
        let path = &s[..colon];
        if !has_extension(path, extensions) {
            continue;
        }
        let after = &s[colon + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        return Some((path, line_number(&after[..digits]), &after[digits..]));
    }
    None
}

fn has_extension(path: &str, extensions: &[&str]) -> bool {
    path.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && !stem.ends_with(['/', '\\']) && extensions.contains(&ext)
    })
}

fn line_number(digits: &str) -> Option<u32> {
    digits.parse().ok().filter(|&n| n > 0)
}

/// A path that starts a line (after indentation) cannot contain spaces: that is what tells it from
/// prose that happens to end in `.py:3`.
fn leading_path<'a>(line: &'a str, extensions: &[&str]) -> Option<(&'a str, Option<u32>, &'a str)> {
    let found = path_and_line(line.trim_start(), extensions)?;
    (!found.0.contains(char::is_whitespace)).then_some(found)
}

/// `File "tests/test_cart.py", line 25, in test_total` (traceback) and
/// `tests/test_cart.py:25: AssertionError` (pytest's long format).
fn python(line: &str) -> Option<Frame> {
    if let Some(rest) = line.trim_start().strip_prefix("File \"") {
        let (path, rest) = rest.split_once("\", line ")?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return has_extension(path, PYTHON).then(|| Frame::new(path, line_number(&rest[..digits])));
    }
    let (path, line, rest) = leading_path(line, PYTHON)?;
    rest.starts_with(':').then(|| Frame::new(path, line))
}

/// `at com.acme.MathTest.divides(MathTest.java:42)`, also with a module or class-loader prefix
/// (`java.base/java.util.Objects…`, `app//com.acme…`) and Kotlin, Scala and Groovy files.
fn jvm(line: &str) -> Option<Frame> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let (qualified, inside) = rest.split_once('(')?;
    let (inside, _) = inside.split_once(')')?;
    let (file, line, _) = path_and_line(inside, JVM)?;
    if file.contains(['/', '\\']) {
        return None;
    }
    // Byte searches: the reverse `str` splitters cost more than the rest of the line's reading.
    let after_module = qualified
        .bytes()
        .rposition(|b| b == b'/')
        .map_or(0, |i| i + 1);
    let qualified = qualified[after_module..].trim();
    let dots = qualified.as_bytes();
    // The method, then the class: what is left is the package, the file's directory.
    let package = dots
        .iter()
        .rposition(|&b| b == b'.')
        .and_then(|method| dots[..method].iter().rposition(|&b| b == b'.'))
        .map(|class| &qualified[..class]);
    let mut path = String::with_capacity(package.map_or(0, str::len) + 1 + file.len());
    if let Some(package) = package {
        path.push_str(&package.replace('.', "/"));
        path.push('/');
    }
    path.push_str(file);
    Some(Frame {
        path,
        line,
        partial: true,
    })
}

/// `at Acme.Tests.CartTests.Total() in /src/Acme.Tests/CartTests.cs:line 42`.
fn dotnet(line: &str) -> Option<Frame> {
    let rest = line.trim_start().strip_prefix("at ")?;
    let (_, location) = rest.rsplit_once(" in ")?;
    let (path, number) = location.rsplit_once(":line ")?;
    let digits = number.bytes().take_while(u8::is_ascii_digit).count();
    has_extension(path, DOTNET).then(|| Frame::new(path, line_number(&number[..digits])))
}

/// `at fn (path/file.ts:12:5)`, `at path/file.ts:12:5`, `at async fn (file:///path/file.mjs:3:1)`.
fn javascript(line: &str) -> Option<Frame> {
    let rest = line.trim_start().strip_prefix("at ")?.trim_end();
    let location = match rest.strip_suffix(')') {
        Some(inner) => &inner[inner.rfind('(')? + 1..],
        None => rest,
    };
    let location = match location.strip_prefix("file://") {
        // file:///C:/src/a.js names a Windows path: drop the slash before the drive letter.
        Some(url) if url.as_bytes().get(2) == Some(&b':') => &url[1..],
        Some(url) => url,
        None => location,
    };
    let (path, line, _) = path_and_line(location, JAVASCRIPT)?;
    Some(Frame::new(path, line))
}

/// `    cart_test.go:42: got 3, want 2` (`t.Error`) and `\t/src/cart/cart.go:17 +0x1d` (a panic's
/// goroutine trace). `t.Error` names the file alone, relative to its package.
fn go(line: &str) -> Option<Frame> {
    let (path, line, rest) = leading_path(line, GO)?;
    if !(rest.is_empty() || rest.starts_with([':', ' '])) {
        return None;
    }
    Some(Frame {
        partial: !path.contains(['/', '\\']),
        ..Frame::new(path, line)
    })
}

/// `thread 'adds' panicked at src/lib.rs:19:5:` and before Rust 1.73
/// `thread 'adds' panicked at 'assertion failed', src/lib.rs:19:5`.
fn rust(line: &str) -> Option<Frame> {
    let (_, rest) = line.split_once("panicked at ")?;
    let rest = match rest.strip_prefix('\'') {
        Some(quoted) => quoted.rsplit_once("', ")?.1,
        None => rest,
    };
    let (path, line, _) = path_and_line(rest, RUST)?;
    Some(Frame::new(path, line))
}

/// `./spec/cart_spec.rb:7:in 'block (2 levels)'`, also as RSpec prints it (`# ./spec/…`).
fn ruby(line: &str) -> Option<Frame> {
    let trimmed = line.trim_start();
    let trimmed = trimmed.strip_prefix("# ").unwrap_or(trimmed);
    let (path, line, rest) = leading_path(trimmed, RUBY)?;
    (rest.is_empty() || rest.starts_with(":in ")).then(|| Frame::new(path, line))
}

/// `/src/tests/CartTest.php:42` alone on a line (PHPUnit) and `#0 /src/Cart.php(42): Cart->total()`
/// (PHP's own trace).
fn php(line: &str) -> Option<Frame> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix('#') {
        let (_, rest) = rest.split_once(' ')?;
        let (path, rest) = rest.split_once('(')?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return (has_extension(path, PHP) && rest[digits..].starts_with(')'))
            .then(|| Frame::new(path, line_number(&rest[..digits])));
    }
    let (path, line, rest) = leading_path(trimmed, PHP)?;
    rest.is_empty().then(|| Frame::new(path, line))
}

/// `/src/Tests/CartTests.swift:42: error: -[CartTests testTotal] : XCTAssertEqual failed` (XCTest).
fn swift(line: &str) -> Option<Frame> {
    let (path, line, rest) = leading_path(line, SWIFT)?;
    rest.starts_with(':').then(|| Frame::new(path, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> (String, Option<u32>, bool) {
        let frame = frames(text).next().expect("a frame");
        (frame.path, frame.line, frame.partial)
    }

    #[test]
    fn the_line_filter_lets_every_extension_through_to_its_reader() {
        for ext in LANGUAGES.iter().flat_map(|(_, extensions, _)| *extensions) {
            let language = Language::of_extension(ext);
            assert_ne!(language, 0, "{ext}");
            assert_eq!(languages(&format!("x/a.{ext}:3")), language, "{ext}");
            assert_eq!(languages(&format!("File \"a.{ext}\", line 3")), language);
            assert_eq!(languages(&format!("#0 /src/a.{ext}(42): f()")), language);
        }
        // Every reader's own extensions, so the filter never hides a line from its reader.
        let bits: Vec<u16> = LANGUAGES.iter().map(|(bit, _, _)| *bit).collect();
        assert_eq!(bits.iter().fold(0, |all, b| all | b), 0x1ff);
        assert_eq!(languages(r#"[DEBUG] request payload={"amount": 0.00}"#), 0);
        // No prefix, suffix or longer name of an extension is taken for it.
        for other in [
            "j",
            "jav",
            "javas",
            "ava",
            "py3",
            "pyc",
            "javascript",
            "ts2",
            "Java",
        ] {
            assert_eq!(Language::of_extension(other), 0, "{other}");
        }
        assert_eq!(
            languages("at A.B.C() in /src/x.cs:line 4"),
            Language::DOTNET,
            "`B.C(` is no extension of ours"
        );
    }

    proptest::proptest! {
        #[test]
        fn lines_are_what_str_lines_gives(
            parts in proptest::collection::vec(
                proptest::prop_oneof!["a", "é", "\n", "\r\n", "\r", ""], 0..40),
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(lines(&text).collect::<Vec<_>>(), text.lines().collect::<Vec<_>>());
        }

        /// Skipping a text whose languages have no reader finds the frames reading it line by
        /// line finds: Java traces, Python, JavaScript, C# and Go frames, and plain output, mixed.
        #[test]
        fn complete_frames_skip_only_texts_without_frames(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "\tat com.acme.Cart.total(Cart.java:12)\n",
                "  File \"/src/app/cart.py\", line 7, in total\n",
                "    at total (/src/app/cart.ts:9:3)\n",
                "   at Acme.Cart.Total() in /src/Cart.cs:line 4\n",
                "\t/src/cart/cart.go:31 +0x1d\n",
                "expected 3 but was 4 (see: notes.txt)\n",
                "plain output\r\n",
                "a.py",
                ":",
            ]), 0..12),
        ) {
            let text = parts.concat();
            let line_by_line = Frames { readers: !Language::JVM, ..frames(&text) };
            proptest::prop_assert_eq!(
                complete_frames(&text).collect::<Vec<_>>(),
                line_by_line.collect::<Vec<_>>()
            );
        }
    }

    fn full(path: &str, line: u32) -> (String, Option<u32>, bool) {
        (path.to_owned(), Some(line), false)
    }

    #[test]
    fn python_tracebacks_are_read_innermost_first() {
        let trace = r#"Traceback (most recent call last):
  File "/home/runner/work/shop/shop/tests/test_cart.py", line 25, in test_total
    assert cart.total() == 90
  File "/home/runner/work/shop/shop/shop/cart.py", line 7, in total
    return sum(self.items) / 0
ZeroDivisionError: division by zero"#;
        let got: Vec<Frame> = frames(trace).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].path.as_str(), got[0].line),
            ("/home/runner/work/shop/shop/shop/cart.py", Some(7))
        );
        assert_eq!(got[1].line, Some(25));
    }

    #[test]
    fn pytest_long_format_names_the_file_and_line() {
        // From tests/conformance/dorny-test-reporter/fixtures/python-xunit-pytest.xml.
        let trace = "def test_always_fail():\n        > assert False\n        E assert False\n\n        tests/test_lib.py:25: AssertionError\n";
        assert_eq!(first(trace), full("tests/test_lib.py", 25));
        // Prose ending in a path is not a frame.
        assert!(frames("see the notes in my file.py:3: here")
            .next()
            .is_none());
    }

    #[test]
    fn jvm_frames_give_the_package_path_of_the_file() {
        let trace = "org.opentest4j.AssertionFailedError: expected: <2> but was: <3>\n\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)\n\tat app//com.acme.shop.CartTest.total(CartTest.java:42)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)";
        let got: Vec<Frame> = frames(trace).collect();
        assert_eq!(
            got.iter()
                .map(|f| (f.path.as_str(), f.line, f.partial))
                .collect::<Vec<_>>(),
            [
                ("org/junit/jupiter/api/AssertionUtils.java", Some(55), true),
                ("com/acme/shop/CartTest.java", Some(42), true),
                (
                    "jdk/internal/reflect/DirectMethodHandleAccessor.java",
                    Some(103),
                    true
                ),
            ]
        );
        assert_eq!(
            first("\tat com.acme.CartTest$checkout$1.invoke(CartTest.kt:12)"),
            ("com/acme/CartTest.kt".to_owned(), Some(12), true)
        );
        // Native and unknown-source frames carry no location.
        assert!(frames("\tat java.base/java.lang.Thread.run(Native Method)")
            .next()
            .is_none());
    }

    #[test]
    fn javascript_frames_with_and_without_a_function_name() {
        // From tests/conformance/dorny-test-reporter/fixtures/jest-junit.xml (a Windows runner).
        let trace = "Error: expect(received).toBeTruthy()\n\nReceived: false\n    at Object.<anonymous> (C:\\Users\\Michal\\Workspace\\dorny\\test-check\\reports\\jest\\__tests__\\main.test.js:10:21)\n    at new Promise (<anonymous>)";
        assert_eq!(
            first(trace),
            full(
                "C:\\Users\\Michal\\Workspace\\dorny\\test-check\\reports\\jest\\__tests__\\main.test.js",
                10
            )
        );
        assert_eq!(
            first("    at src/cart.test.ts:12:5"),
            full("src/cart.test.ts", 12)
        );
        assert_eq!(
            first("    at async run (file:///home/runner/work/shop/shop/test/cart.test.mjs:3:1)"),
            full("/home/runner/work/shop/shop/test/cart.test.mjs", 3)
        );
        assert_eq!(
            first("    at x (file:///C:/shop/test/cart.test.mjs:3:1)"),
            full("C:/shop/test/cart.test.mjs", 3)
        );
    }

    #[test]
    fn go_test_output_names_the_file_alone() {
        // From tests/conformance/dorny-test-reporter/__snapshots__/golang-json.test.ts.snap.
        assert_eq!(
            first("    calculator_test.go:19: expected 1+1 = 3, got 2"),
            ("calculator_test.go".to_owned(), Some(19), true)
        );
        assert_eq!(
            first("goroutine 7 [running]:\n\t/home/runner/work/calc/calc/calc.go:12 +0x1d"),
            full("/home/runner/work/calc/calc/calc.go", 12)
        );
    }

    #[test]
    fn rust_panics_old_and_new_format() {
        // From tests/conformance/nextest/fixtures/fixture-project-junit.xml.
        assert_eq!(
            first("thread 'test_failure_assert' panicked at tests/basic.rs:19:5:\nassertion `left == right` failed"),
            full("tests/basic.rs", 19)
        );
        assert_eq!(
            first("thread 'adds' panicked at 'assertion failed: x', src/lib.rs:7:9"),
            full("src/lib.rs", 7)
        );
    }

    #[test]
    fn dotnet_frames_name_the_file_after_in() {
        // From tests/conformance/dorny-test-reporter/fixtures/dotnet-nunit.xml.
        assert_eq!(
            first("   at DotnetTests.Unit.Calculator.Div(Int32 a, Int32 b) in C:\\Users\\Michal\\Workspace\\dorny\\test-reporter\\reports\\dotnet\\DotnetTests.Unit\\Calculator.cs:line 9"),
            full("C:\\Users\\Michal\\Workspace\\dorny\\test-reporter\\reports\\dotnet\\DotnetTests.Unit\\Calculator.cs", 9)
        );
    }

    #[test]
    fn ruby_frames_plain_and_as_rspec_prints_them() {
        // From tests/conformance/dorny-test-reporter/__snapshots__/rspec-json.test.ts.snap.
        let trace = "/usr/local/bundle/ruby/3.3.0/gems/net-http-0.4.1/lib/net/http.rb:1603:in `initialize'\n./config/check_env_vars.rb:11:in `call'";
        assert_eq!(
            frames(trace).nth(1).expect("two frames"),
            Frame::new("./config/check_env_vars.rb", Some(11))
        );
        assert_eq!(
            first("     # ./spec/cart_spec.rb:7:in `block (2 levels) in <top (required)>'"),
            full("./spec/cart_spec.rb", 7)
        );
    }

    #[test]
    fn php_frames_from_phpunit_and_php() {
        // From tests/conformance/dorny-test-reporter/fixtures/phpunit/phpunit.xml.
        let trace = "+PHPUnit Finished (Shell Exit Code: 1)\n\n/home/matteo/OSS/phpunit/tests/end-to-end/metadata/targeting-traits-with-coversclass-attribute-is-deprecated.phpt:28\n/home/matteo/OSS/phpunit/src/Framework/TestSuite.php:369";
        assert_eq!(
            first(trace),
            full("/home/matteo/OSS/phpunit/tests/end-to-end/metadata/targeting-traits-with-coversclass-attribute-is-deprecated.phpt", 28)
        );
        assert_eq!(
            first("#0 /src/app/Cart.php(42): Cart->total()"),
            full("/src/app/Cart.php", 42)
        );
    }

    #[test]
    fn swift_xctest_failures() {
        assert_eq!(
            first("/Users/dev/AcmeLib/Tests/AcmeLibTests/AcmeLibTests.swift:12: error: -[AcmeLibTests.AcmeLibTests test_always_fail] : failed"),
            full("/Users/dev/AcmeLib/Tests/AcmeLibTests/AcmeLibTests.swift", 12)
        );
    }

    #[test]
    fn line_zero_and_huge_lines_are_no_line() {
        assert_eq!(first("  File \"a.py\", line 0, in x").1, None);
        assert_eq!(
            first("thread 'a' panicked at src/a.rs:99999999999:1:").1,
            None
        );
    }
}

//! JSON input shared by the JSON readers: whole documents, JSON Lines streams, the keys that
//! identify a format, and JSON values turned into model text and durations.
//!
//! Documents are read with serde_json's own recursion limit (128 levels), so a hostile
//! `[[[[…` fails with a syntax error instead of exhausting the stack. JSON Lines are read one
//! line at a time with each line bounded by [`MAX_LINE_BYTES`], so memory follows the tests kept,
//! not the stream: a 300 MB `go test -json` stream is never held whole.

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::time::Duration;

use serde_json::Value;

use super::source::{count_newlines, EventTooLarge, Source};
use super::xml::Text;
use super::{Format, ParseError, ParseErrorKind, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, is_blank, trim, Case, Problem, Status, Suite, TestRun};
use crate::word;

/// Largest single JSON document we read. The document becomes one in-memory value, so this
/// bounds memory at a few times its size; the largest real single-document reports (Mocha and
/// Cucumber JSON of big suites) are tens of MB.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// Longest line of a JSON Lines stream. One line is one event; Go prints a test's output one
/// line per event, so only a pathological single output line comes near this.
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

fn io_error(err: &std::io::Error, line: Option<u64>, bound: u64, unit: &str) -> ParseError {
    if err.get_ref().is_some_and(|e| e.is::<EventTooLarge>()) {
        return ParseError {
            kind: ParseErrorKind::TooLarge,
            line,
            message: format!(
                "{unit} is larger than {} MiB: the report is not a reasonable test report",
                bound >> 20
            ),
        };
    }
    ParseError {
        kind: ParseErrorKind::Io,
        line,
        message: format!("could not read the file: {err}"),
    }
}

/// The bytes of one whole JSON document, at most [`MAX_DOCUMENT_BYTES`]. Read whole and parsed
/// from the slice: serde_json's reader path takes every byte through a call of its own, 3–4×
/// slower (issue 12), and a slice lets strings without escapes be borrowed, not copied.
pub fn read_bytes<R: BufRead>(source: Source<R>) -> Result<Vec<u8>, ParseError> {
    read_bytes_within(source, MAX_DOCUMENT_BYTES)
}

fn read_bytes_within<R: BufRead>(mut source: Source<R>, limit: u64) -> Result<Vec<u8>, ParseError> {
    source.set_limit(limit);
    let mut bytes = Vec::new();
    match source.read_to_end(&mut bytes) {
        Ok(_) => Ok(bytes),
        Err(e) => Err(io_error(
            &e,
            Some(source.line()),
            limit,
            "the JSON document",
        )),
    }
}

/// One JSON document from its bytes; `what` names it in errors. The bytes are checked as UTF-8
/// once, vectorized, so the parser reads a `str` and does not check each string again (a
/// scalar check per string was a twentieth of a Mocha report's parse).
pub fn from_bytes<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
    what: &str,
) -> Result<T, ParseError> {
    let text = simdutf8::compat::from_utf8(bytes).map_err(|e| ParseError {
        kind: ParseErrorKind::Encoding,
        line: Some(count_newlines(&bytes[..e.valid_up_to()]) + 1),
        message: format!("not valid UTF-8 ({e}): re-encode the report as UTF-8"),
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut de).map_err(|e| document_error(e, what))?;
    de.end().map_err(|e| document_error(e, what))?;
    Ok(value)
}

/// A Gherkin report (Cucumber's, behave's): an array of features, each read into one suite by
/// `suite_of`. A document that is not an array is not `format`.
pub fn read_features<'a, F: serde::Deserialize<'a>>(
    bytes: &'a [u8],
    what: &str,
    format: &str,
    suite_of: impl Fn(&F) -> Suite,
) -> Result<Parsed, ParseError> {
    if !bytes.trim_ascii_start().starts_with(b"[") {
        return Err(not_this_format(
            format,
            "an array of features with \"elements\"",
        ));
    }
    let features: Vec<F> = from_bytes(bytes, what)?;
    Ok(Parsed {
        runs: vec![TestRun {
            name: None,
            suites: features.iter().map(suite_of).collect(),
            declared_duration: None,
        }],
        diagnostics: Vec::new(),
    })
}

/// A field of a typed document read as leniently as the [`Value`] helpers read one: a string,
/// number or boolean is kept (a string borrowed from the document when it has no escapes), and
/// anything else (`null`, an object, an array) is skipped as if absent instead of failing the
/// document. Typed entries instead of [`Value`]s: a `Value` allocates every key and string of
/// every test, several times the document's size (issue 12).
#[derive(Debug, Default, Clone, PartialEq)]
pub enum Field<'a> {
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Num(serde_json::Number),
    Bool(bool),
}

impl<'a> Field<'a> {
    /// A [`Value`] read as a field (its string borrowed), so both share one reading of each kind.
    pub fn of(v: &'a Value) -> Field<'a> {
        match v {
            Value::String(s) => Field::Str(Cow::Borrowed(s)),
            Value::Number(n) => Field::Num(n.clone()),
            Value::Bool(b) => Field::Bool(*b),
            Value::Null | Value::Array(_) | Value::Object(_) => Field::Absent,
        }
    }

    /// A non-blank string as model text, as [`text_of`].
    pub fn text(&self, cap: usize) -> Option<String> {
        self.str().and_then(|s| text(s, cap))
    }

    /// A non-blank string, as [`str_of`].
    pub fn str(&self) -> Option<&str> {
        match self {
            Field::Str(s) if !is_blank(s) => Some(s),
            _ => None,
        }
    }

    /// A non-negative integer, as [`Value::as_u64`].
    pub fn u64(&self) -> Option<u64> {
        match self {
            Field::Num(n) => n.as_u64(),
            _ => None,
        }
    }

    /// A line number, as [`line_of`]: a non-negative integer that fits a `u32`.
    pub fn line(&self) -> Option<u32> {
        self.u64().and_then(|n| u32::try_from(n).ok())
    }

    /// A number, as [`Value::as_f64`].
    pub fn f64(&self) -> Option<f64> {
        match self {
            Field::Num(n) => n.as_f64(),
            _ => None,
        }
    }

    /// Whether it is `true`.
    pub fn is_true(&self) -> bool {
        *self == Field::Bool(true)
    }

    /// A number of seconds, as [`seconds`]: a number or a numeric string.
    pub fn seconds(&self) -> Option<Duration> {
        let secs = match self {
            Field::Num(n) => n.as_f64()?,
            Field::Str(s) => s.trim().trim_end_matches('s').parse().ok()?,
            _ => return None,
        };
        Duration::try_from_secs_f64(secs).ok()
    }

    /// A number of milliseconds, as [`millis`].
    pub fn millis(&self) -> Option<Duration> {
        match self {
            Field::Num(n) => Duration::try_from_secs_f64(n.as_f64()? / 1000.0).ok(),
            _ => None,
        }
    }
}

/// An array field read leniently, as [`Value::as_array`] is: its elements when it is an array,
/// nothing for any other value.
#[derive(Debug)]
pub struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> List<T> {
        List(Vec::new())
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor(std::marker::PhantomData))
    }
}

struct ListVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<List<T>, A::Error> {
        FieldVisitor(std::marker::PhantomData)
            .visit_map(map)
            .map(|_| List::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<List<T>, E> {
        Ok(List::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<List<T>, E> {
        Ok(List::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<List<T>, E> {
        Ok(List::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<List<T>, E> {
        Ok(List::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<List<T>, E> {
        Ok(List::default())
    }

    fn visit_unit<E>(self) -> Result<List<T>, E> {
        Ok(List::default())
    }
}

/// An object read key by key, a repeated key's last value counting as in a [`Value`] object
/// (serde's derive refuses a repeated key; merged reports have them). Any other value reads as
/// an empty object, as the [`Value`] reader's lookups found nothing in it.
pub trait Entries<'de>: Default {
    /// Reads the value of `key` from `map`, skipping it when nothing reads it.
    fn entry<A: serde::de::MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Reads an [`Entries`] type (through [`deserialize_entries`]).
pub struct EntriesVisitor<T>(pub std::marker::PhantomData<T>);

/// An object's key, borrowed from the document unless it holds an escape: serde's own `Cow`
/// always copies, an allocation per key of every test.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Key<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for KeyVisitor<'a> {
    type Value = Key<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'a>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'a>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Key<'a>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

impl<'de, T: Entries<'de>> serde::de::Visitor<'de> for EntriesVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut object = T::default();
        while let Some(Key(key)) = map.next_key()? {
            object.entry(key, &mut map)?;
        }
        Ok(object)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(T::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok(T::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok(T::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok(T::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok(T::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<T, E> {
        Ok(T::default())
    }

    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::default())
    }
}

/// `Deserialize` for a type read with [`Entries`].
macro_rules! deserialize_entries {
    ($($name:ident),*) => {$(
        impl<'de: 'a, 'a> serde::Deserialize<'de> for $name<'a> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any($crate::parse::json::EntriesVisitor(std::marker::PhantomData))
            }
        }
    )*};
}

pub(super) use deserialize_entries;

/// [`Entries`] (and `Deserialize`) for structs whose listed keys are read into fields of their
/// own, any other key skipped unread.
macro_rules! entries {
    ($($name:ident { $($key:literal => $field:ident),* $(,)? })*) => {$(
        $crate::parse::json::deserialize_entries!($name);

        impl<'de: 'a, 'a> $crate::parse::json::Entries<'de> for $name<'a> {
            fn entry<A: serde::de::MapAccess<'de>>(
                &mut self,
                key: std::borrow::Cow<'de, str>,
                map: &mut A,
            ) -> Result<(), A::Error> {
                match key.as_ref() {
                    $($key => self.$field = map.next_value()?,)*
                    _ => $crate::parse::json::skip(map)?,
                }
                Ok(())
            }
        }
    )*};
}

pub(super) use entries;

/// Reads past a value nobody wants.
pub fn skip<'de, A: serde::de::MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<serde::de::IgnoredAny>().map(|_| ())
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Field<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor(std::marker::PhantomData))
    }
}

struct FieldVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for FieldVisitor<'a> {
    type Value = Field<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Field<'a>, E> {
        Ok(Field::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Field<'a>, E> {
        Ok(Field::Num(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Field<'a>, E> {
        Ok(Field::Num(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Field<'a>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Field::Absent, Field::Num))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Field<'a>, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Field<'a>, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Field<'a>, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Field<'a>, E> {
        Ok(Field::Absent)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'a>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Field::Absent)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Field<'a>, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Field::Absent)
    }
}

fn document_error(err: serde_json::Error, what: &str) -> ParseError {
    let line = u64::try_from(err.line()).ok().filter(|l| *l > 0);
    if err.is_data() {
        return ParseError {
            kind: ParseErrorKind::Unsupported,
            line,
            message: format!(
                "{what} does not have the expected shape at column {}: {}",
                err.column(),
                strip_position(&err.to_string())
            ),
        };
    }
    let kind = if err.is_eof() {
        "the report was cut off"
    } else {
        "not valid JSON"
    };
    ParseError {
        kind: ParseErrorKind::Syntax,
        line,
        message: format!(
            "malformed JSON in {what} at column {}: {} ({kind})",
            err.column(),
            strip_position(&err.to_string())
        ),
    }
}

/// serde_json appends " at line L column C"; we state the position ourselves.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

/// A JSON Lines stream read one line at a time, blank lines skipped.
pub struct Lines<R> {
    source: Source<R>,
    /// The line read last.
    text: String,
    line: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(source: Source<R>) -> Lines<R> {
        let mut source = source;
        source.set_limit(MAX_LINE_BYTES);
        Lines {
            source,
            text: String::new(),
            line: 0,
        }
    }

    /// The next non-blank line, trimmed and not yet parsed (`Ok(None)` at the end), borrowed
    /// from the stream's buffer, so a reader can parse it into a typed event borrowing its
    /// strings.
    pub fn next_raw(&mut self) -> Result<Option<RawLine<'_>>, ParseError> {
        loop {
            // The line is read as bytes and becomes the `String` in place, checked once.
            let mut bytes = std::mem::take(&mut self.text).into_bytes();
            bytes.clear();
            self.source.mark();
            let n = self
                .source
                .read_until(b'\n', &mut bytes)
                .map_err(|e| io_error(&e, Some(self.line + 1), MAX_LINE_BYTES, "one line"))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.text = String::from_utf8(bytes).map_err(|e| ParseError {
                kind: ParseErrorKind::Encoding,
                line: Some(self.line),
                message: format!(
                    "not valid UTF-8 ({}): re-encode the report as UTF-8",
                    e.utf8_error()
                ),
            })?;
            if !self.line_text().is_empty() {
                break;
            }
        }
        let text = self.line_text();
        Ok(Some(if text.starts_with('{') {
            RawLine::Json {
                text,
                line: self.line,
            }
        } else {
            RawLine::Text(text)
        }))
    }

    /// The line read last, trimmed, without the byte-order mark a first line may start with.
    fn line_text(&self) -> &str {
        let text = match self.line {
            1 => self.text.strip_prefix('\u{feff}').unwrap_or(&self.text),
            _ => &self.text,
        };
        text.trim()
    }
}

/// A non-blank line of a JSON Lines stream, trimmed, not yet parsed.
pub enum RawLine<'a> {
    /// A line that starts like a JSON object, and its 1-based number.
    Json { text: &'a str, line: u64 },
    /// Any other line (a tool's plain-text output mixed into the stream).
    Text(&'a str),
}

/// A JSON line as a [`Value`]; a line that does not parse is an error (a cut-off stream).
pub fn value_of_line(text: &str, line: u64, what: &str) -> Result<Value, ParseError> {
    serde_json::from_str(text).map_err(|e| ParseError {
        kind: ParseErrorKind::Syntax,
        line: Some(line),
        message: format!(
            "malformed JSON in {what} at column {}: {} (is the stream cut off?)",
            e.column(),
            strip_position(&e.to_string())
        ),
    })
}

/// Object keys of a JSON prefix at the top level (depth 1) and one level down (depth 2), in
/// order, from a prefix that may end mid-document. For a top-level array, the keys of its first
/// element count as depth 1. Used only to recognize formats.
pub fn keys(prefix: &[u8]) -> Vec<(u8, String)> {
    let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let mut out = Vec::new();
    let mut depth: u32 = 0;
    let mut array_root = false;
    // Markup is found eight bytes a step and each string skipped with one search: byte by byte,
    // this scan of a 64 KiB prefix was a fifth of reading a directory of small Mocha reports.
    let markup = |x| {
        word::equal(x, b'"')
            | word::equal(x, b'{')
            | word::equal(x, b'}')
            | word::equal(x, b'[')
            | word::equal(x, b']')
    };
    let is_markup = |b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']');
    let mut i = 0;
    while let Some(at) = word::find(body, i, markup, is_markup) {
        i = at;
        match body[i] {
            b'"' => {
                let start = i + 1;
                let Some(j) = string_end(body, start) else {
                    break;
                };
                let is_key = body[j + 1..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|b| *b == b':');
                let level = if array_root {
                    depth.saturating_sub(1)
                } else {
                    depth
                };
                if is_key && (1..=2).contains(&level) {
                    let key = String::from_utf8_lossy(&body[start..j]).into_owned();
                    out.push((u8::try_from(level).unwrap_or(2), key));
                }
                i = j + 1;
                continue;
            }
            b'{' | b'[' => {
                if depth == 0 && body[i] == b'[' {
                    array_root = true;
                }
                depth += 1;
            }
            _ => {
                depth = depth.saturating_sub(1);
                // Only the first element of a top-level array is looked at.
                if array_root && depth <= 1 {
                    break;
                }
            }
        }
        i += 1;
    }
    out
}

/// Where the JSON string whose content starts at `from` ends: its closing quote, the first one
/// not escaped by a backslash; `None` when the prefix ends first.
fn string_end(body: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let found = at + memchr::memchr2(b'"', b'\\', body.get(at..)?)?;
        if body[found] == b'"' {
            return Some(found);
        }
        // The escaped byte is never the end, whatever it is.
        at = found + 2;
    }
}

/// The JSON format a prefix belongs to, from the keys of its first line or top object.
pub fn format_of(prefix: &[u8]) -> Option<Format> {
    // JSON Lines: the first line is a whole event.
    if let Some(first) = first_line_object(prefix) {
        if first.contains_key("Action") {
            return Some(Format::GoTest);
        }
        let dart_event = ["testStart", "suite", "group", "allSuites", "testDone"]
            .iter()
            .any(|t| first.get("type").and_then(Value::as_str) == Some(t));
        if first.contains_key("protocolVersion") || dart_event {
            return Some(Format::Dart);
        }
    }
    let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .take(3)
        .collect();
    if compact == b"[]" {
        // Cucumber and behave write an empty array when no feature ran.
        return Some(Format::Cucumber);
    }
    let keys = keys(prefix);
    let has = |depth: u8, key: &str| keys.iter().any(|(d, k)| *d == depth && k == key);
    if has(1, "stats")
        && ["tests", "passes", "failures", "pending"]
            .iter()
            .any(|k| has(1, k))
    {
        Some(Format::Mocha)
    } else if has(1, "examples") && (has(1, "version") || has(1, "summary")) {
        Some(Format::Rspec)
    } else if has(1, "results") && has(2, "tool") {
        Some(Format::Ctrf)
    } else if has(1, "testsuites") && has(1, "tests") {
        Some(Format::Gtest)
    } else if has(1, "collection") && (has(1, "run") || has(2, "info")) {
        Some(Format::Newman)
    } else if has(1, "elements") {
        // behave writes `location` before `elements`; Cucumber names the file `uri`.
        Some(if has(1, "location") {
            Format::Behave
        } else {
            Format::Cucumber
        })
    } else {
        None
    }
}

/// The first line of a prefix parsed as a JSON object, for JSON Lines formats.
pub fn first_line_object(prefix: &[u8]) -> Option<serde_json::Map<String, Value>> {
    let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    body.split(|b| *b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| l.starts_with(b"{"))
        .and_then(|l| serde_json::from_slice(l).ok())
}

/// A string field, or `None` when absent, not a string, or blank.
pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !is_blank(s))
}

/// Text for the model: control characters removed, capped at `cap` bytes with the cut marked.
pub fn text(s: &str, cap: usize) -> Option<String> {
    if s.len() <= cap {
        // Nearly every string fits: cleaned in one copy, without first collecting it.
        let text = clean_text(trim(s));
        return (!text.is_empty()).then_some(text);
    }
    let mut t = Text::with_cap(cap);
    t.push(s);
    t.finish()
}

/// A string field as model text.
pub fn text_of(v: &Value, key: &str, cap: usize) -> Option<String> {
    str_of(v, key).and_then(|s| text(s, cap))
}

/// A number of seconds (as number or numeric string); negative and non-finite values are dropped.
pub fn seconds(v: Option<&Value>) -> Option<Duration> {
    Field::of(v?).seconds()
}

/// A number of milliseconds.
pub fn millis(v: Option<&Value>) -> Option<Duration> {
    Field::of(v?).millis()
}

/// A line number field.
pub fn line_of(v: &Value, key: &str) -> Option<u32> {
    Field::of(v.get(key)?).line()
}

/// A JSON scalar as a property value; objects and arrays as compact JSON.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// For a flaky case whose report counts its failed attempts without describing them (Mocha's
/// `currentRetry`, CTRF's `retries`), one placeholder per undescribed attempt, so every earlier
/// attempt is in `retries` and writers (JUnit `flakyFailure`) keep the test flaky.
pub fn describe_attempts(case: &mut Case) {
    if let Status::Flaky { attempts } = case.status {
        let earlier = usize::try_from(attempts.saturating_sub(1)).unwrap_or(0);
        while case.retries().len() < earlier {
            let attempt = case.retries().len() + 1;
            case.details_mut().retries.push(Problem {
                message: Some(format!(
                    "attempt {attempt} failed (the report keeps no message for it)"
                )),
                ..Problem::default()
            });
        }
    }
}

/// Counts of a run's cases by status, for comparing with a report's own counters.
pub fn count(run: &TestRun, wanted: &[Status]) -> u64 {
    run.cases()
        .filter(|c| {
            wanted
                .iter()
                .any(|w| std::mem::discriminant(w) == std::mem::discriminant(&c.status))
        })
        .count() as u64
}

/// A warning when a report's own counters (name, declared, counted from its cases) disagree:
/// the cases are what we count, the counters are only checked.
pub fn check_counters(report: &str, counters: &[(&str, Option<u64>, u64)]) -> Option<Diagnostic> {
    let wrong: Vec<String> = counters
        .iter()
        .filter_map(|(name, declared, counted)| {
            let declared = (*declared)?;
            (declared != *counted).then(|| format!("{name} {declared} (its tests give {counted})"))
        })
        .collect();
    (!wrong.is_empty()).then(|| {
        Diagnostic::warning(format!(
            "{report}'s own counters disagree with its tests: {}; the tests are counted",
            wrong.join(", ")
        ))
    })
}

/// The error for a well-formed document without the structure of the format it was read as.
pub fn not_this_format(what: &str, expected: &str) -> ParseError {
    ParseError {
        kind: ParseErrorKind::Unsupported,
        line: None,
        message: format!("this JSON is not {what}: expected {expected}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_fields_read_what_value_helpers_read_and_bytes_not_utf8_say_where() {
        #[derive(serde::Deserialize)]
        struct Entry<'a> {
            #[serde(borrow)]
            a: Field<'a>,
            #[serde(borrow)]
            b: Field<'a>,
            #[serde(borrow)]
            c: Field<'a>,
            #[serde(borrow, default)]
            d: Field<'a>,
        }
        let doc = br#"[{"a": "x\"y", "b": 12, "c": {"nested": [1, {"k": null}]}, "d": true},
            {"a": "  ", "b": 1.5, "c": null, "d": "true"},
            {"a": "plain", "b": -3, "c": [[], {}]},
            {"a": " 2.5s", "b": 0, "c": {"x": "y"}}]"#;
        let entries: Vec<Entry> = from_bytes(doc, "the report").unwrap();
        let value: Value = from_bytes(doc, "the report").unwrap();
        for (entry, v) in entries.iter().zip(value.as_array().unwrap()) {
            assert_eq!(entry.a.str(), str_of(v, "a"));
            assert_eq!(entry.b.u64(), v.get("b").and_then(Value::as_u64));
            assert_eq!(entry.b.millis(), millis(v.get("b")));
            assert_eq!(entry.b.seconds(), seconds(v.get("b")));
            assert_eq!(entry.a.seconds(), seconds(v.get("a")));
            assert_eq!(entry.c, Field::Absent);
            assert_eq!(entry.d.is_true(), v.get("d") == Some(&Value::Bool(true)));
        }
        assert_eq!(entries[0].b.millis(), Some(Duration::from_millis(12)));
        assert_eq!(entries[1].b.seconds(), Some(Duration::from_millis(1500)));
        assert_eq!(entries[3].a.seconds(), Some(Duration::from_millis(2500)));
        assert_eq!(
            (entries[2].b.millis(), entries[2].b.u64()),
            (None, None),
            "negative"
        );
        assert_eq!(entries[2].a.text(5), Some("plain".into()));
        assert_eq!(entries[1].a.text(5), None, "blank");
        assert!(
            matches!(entries[0].a, Field::Str(Cow::Owned(_))),
            "escaped: copied"
        );
        assert!(
            matches!(entries[2].a, Field::Str(Cow::Borrowed(_))),
            "plain: borrowed"
        );

        let err = from_bytes::<Value>(b"{\"a\":\n\"\xff\"}", "the report").unwrap_err();
        assert_eq!((err.kind, err.line), (ParseErrorKind::Encoding, Some(2)));
    }

    #[test]
    fn lists_read_arrays_and_skip_anything_else() {
        #[derive(serde::Deserialize)]
        struct Entry {
            #[serde(default)]
            l: List<u32>,
        }
        let doc = br#"[{"l": [1, 2]}, {"l": null}, {"l": {"a": [1]}}, {"l": "x"}, {"l": 3.5},
            {"l": true}, {}, {"l": []}]"#;
        let entries: Vec<Entry> = from_bytes(doc, "the report").unwrap();
        let lengths: Vec<usize> = entries.iter().map(|e| e.l.0.len()).collect();
        assert_eq!(lengths, [2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(entries[0].l.0, [1, 2]);
    }

    #[test]
    fn a_document_past_the_bound_is_refused_where_reading_stopped() {
        let line = format!("\"{}\",\n", "x".repeat(1 << 19));
        let doc = format!("[\n{}\"end\"]", line.repeat(6));
        let small = read_bytes_within(Source::new(doc.as_bytes()), 4 << 20).unwrap();
        let value: Value = from_bytes(&small, "the report").unwrap();
        assert_eq!(value.as_array().map(Vec::len), Some(7));
        let err = read_bytes_within(Source::new(doc.as_bytes()), 1 << 20).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::TooLarge);
        assert!(err.message.contains("larger than 1 MiB"), "{}", err.message);
        assert!(
            err.line.is_some_and(|l| (2..=7).contains(&l)),
            "{:?}",
            err.line
        );
    }

    /// [`keys`] as it was, a byte at a time: the oracle of its property test.
    fn keys_byte_by_byte(prefix: &[u8]) -> Vec<(u8, String)> {
        let body = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
        let mut out = Vec::new();
        let mut depth: u32 = 0;
        let mut array_root = false;
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'"' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < body.len() && body[j] != b'"' {
                        j += if body[j] == b'\\' { 2 } else { 1 };
                    }
                    if j >= body.len() {
                        break;
                    }
                    let is_key = body[j + 1..]
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .is_some_and(|b| *b == b':');
                    let level = if array_root {
                        depth.saturating_sub(1)
                    } else {
                        depth
                    };
                    if is_key && (1..=2).contains(&level) {
                        let key = String::from_utf8_lossy(&body[start..j]).into_owned();
                        out.push((u8::try_from(level).unwrap_or(2), key));
                    }
                    i = j + 1;
                    continue;
                }
                b'{' | b'[' => {
                    if depth == 0 && body[i] == b'[' {
                        array_root = true;
                    }
                    depth += 1;
                }
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    // Only the first element of a top-level array is looked at.
                    if array_root && depth <= 1 {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        out
    }

    proptest::proptest! {
        /// Documents cut anywhere, with escapes, nesting, arrays at the root and keys that are
        /// not followed by a colon: the word-at-a-time scan finds the keys the byte scan did.
        #[test]
        fn keys_agree_with_a_byte_scan(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", "[", "]", "\"", "\\", "\\\"", ":", ",", " ", "\n", "a", "stats",
                "\"tests\": ", "\"k\":1", "\"x\\\"y\"", "é", "12345678",
            ]), 0..60),
        ) {
            let doc = pieces.concat();
            proptest::prop_assert_eq!(keys(doc.as_bytes()), keys_byte_by_byte(doc.as_bytes()));
        }
    }

    #[test]
    fn keys_of_objects_and_of_the_first_array_element() {
        let k = keys(br#"{"stats": {"suites": 1}, "tests": [{"title": "x"}]"#);
        assert_eq!(
            k,
            vec![
                (1, "stats".to_owned()),
                (2, "suites".to_owned()),
                (1, "tests".to_owned())
            ],
            "keys inside arrays of the top object are deeper than 2"
        );
        let k = keys(br#"[{"uri": "a\"b", "elements": []}, {"other": 1}]"#);
        assert_eq!(k, vec![(1, "uri".to_owned()), (1, "elements".to_owned())]);
    }

    #[test]
    fn a_cut_document_is_a_syntax_error_with_its_line() {
        let err = from_bytes::<Value>(b"{\n\"a\": [1,\n", "test").unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::Syntax);
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn lines_bound_their_length() {
        let long = format!("{{\"a\":\"{}\"}}\n", "x".repeat(64));
        // A small buffer, as a line longer than the reader's buffer spans several fills.
        let mut source = Source::new(std::io::BufReader::with_capacity(4, long.as_bytes()));
        source.set_limit(16);
        let mut lines = Lines {
            source,
            text: String::new(),
            line: 0,
        };
        let err = lines.next_raw().err().map(|e| e.kind);
        assert_eq!(err, Some(ParseErrorKind::TooLarge));
    }
}

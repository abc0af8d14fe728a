//! The XML scanner under every XML reader: a single pass over the bytes built for test reports
//! (issue 12). quick-xml's general event loop was most of the JUnit reader's instructions; this one
//! finds markup with memchr, validates UTF-8 once per read (not per event), hands out start tags
//! with where each attribute lies, found on the way to the tag's end (values are normalized only
//! when a reader takes them, and readers take a few of many), and returns text already decoded,
//! borrowed from the input unless a reference or a carriage return had to change it.
//!
//! What it accepts is what the readers accepted through quick-xml (`check_end_names`,
//! `allow_dangling_amp`), so reports parse to the same model:
//! - Only XML's predefined entities and character references are expanded; other references
//!   (DTD-declared, external: billion laughs, XXE) stay as written and are never read. A `&`
//!   that starts no reference is text.
//! - Text and CDATA have line ends normalized (`\r\n` and `\r` become `\n`); attribute values are
//!   normalized per XML 1.0 (whitespace characters become spaces, references expanded) unless they
//!   hold an unknown reference, when they stay as written.
//! - End tags must match their start tags; comments, processing instructions, the XML declaration
//!   and the DOCTYPE (internal subset included) are skipped.
//! - A stream's single tag or text run may not exceed a byte bound ([`MAX_EVENT_BYTES`]), so a file
//!   that is one 2 GB attribute is refused after 64 MiB instead of held whole. Bytes already in
//!   memory have no bound.
//!
//! Errors carry the line; the readers own the rules above the tokens (depth, roots, cut-off files).

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, BufRead};

use super::source::{count_newlines, EventTooLarge, MAX_EVENT_BYTES};
use super::{ParseError, ParseErrorKind};
use crate::model::is_blank;
use crate::word;
use window::{StreamBuffer, Window};

/// Bytes read from a stream at a time. A token longer than the window makes the next read as
/// long as the window, so rescanning an unfinished token stays linear in its size.
const READ_CHUNK_BYTES: usize = 256 * 1024;
/// The room a stream's reads land in starts this long and doubles as they fill it, up to
/// [`READ_CHUNK_BYTES`] past what the window holds (or a longer token): a small report zeroes no
/// more than it reads.
const FIRST_READ_BYTES: usize = 4 * 1024;

/// The byte-order mark some Windows tools write before the XML declaration.
const BYTE_ORDER_MARK: char = '\u{feff}';

/// One piece of the document.
#[derive(Debug)]
pub(super) enum Token<'s> {
    /// A start tag; its end tag follows later.
    Start(Tag<'s>),
    /// An empty-element tag (`<a/>`): no end tag follows.
    Empty(Tag<'s>),
    /// An end tag; it matched its start tag. (No line: no reader needs one there, and counting
    /// lines up to every end tag was half the scan's line counting.)
    End,
    /// Character data or a CDATA section's content, decoded.
    Text(Cow<'s, str>),
    /// The end of the input, and the last line.
    Eof(u64),
}

/// A start tag: its qualified name, its attributes not yet parsed, and where it ends, whose line
/// is counted only when asked for (counting lines up to every start tag was a twentieth of the
/// parse, and readers ask for few of them).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tag<'s> {
    name: &'s str,
    /// Where the local name starts in `name`: after the prefix's `:`, found while the name is.
    local: usize,
    attrs: &'s str,
    /// The attributes as the scan found them, offsets into `attrs`; `None` when the scan left
    /// them to [`Tag::each_attribute`]'s walk (too many, or not well formed).
    spans: Option<&'s [AttrSpan]>,
    end: usize,
    window: &'s str,
    lines: &'s Lines,
}

/// Where one attribute of a start tag lies in its attribute text, found while the scan looked
/// for the tag's end ([`walk_tag`]).
#[derive(Debug, Clone, Copy)]
struct AttrSpan {
    /// The local name: after the key's first `:`, up to `key_end`.
    local: usize,
    key_end: usize,
    value: usize,
    value_end: usize,
    /// Whether the value may need normalizing ([`value_end`]).
    dirty: bool,
}

/// Attributes a start tag's scan records at most: test reports write a handful per element, and
/// a hostile tag of millions of them is left to the lazy walk instead of a list as long.
const MAX_SCANNED_ATTRIBUTES: usize = 32;

/// A start tag walked by [`walk_tag`]: where its name ends and its local name starts (offsets
/// after `<`; a `/` before `>` is not part of the name). Its attributes are in the scanner's spans.
#[derive(Debug, Clone, Copy)]
struct Walked {
    name_end: usize,
    local: usize,
}

/// Newlines counted up to an offset of the scanner's window, moved forward when a line is asked
/// for and before text is dropped.
#[derive(Debug, Default)]
struct Lines {
    /// The window offset up to which newlines are counted.
    at: Cell<usize>,
    /// The newlines before `at`, those of text already dropped included.
    newlines: Cell<u64>,
}

impl Lines {
    /// The 1-based line of the byte at `at` of `window`.
    fn line_at(&self, window: &str, at: usize) -> u64 {
        let (counted, newlines) = (self.at.get(), self.newlines.get());
        let bytes = window.as_bytes();
        let newlines = match (bytes.get(counted..at), bytes.get(at..counted)) {
            (Some(ahead), _) => {
                let newlines = newlines + count_newlines(ahead);
                self.at.set(at);
                self.newlines.set(newlines);
                newlines
            }
            (None, Some(behind)) => newlines.saturating_sub(count_newlines(behind)),
            (None, None) => newlines,
        };
        newlines + 1
    }

    /// Counts up to `at` and makes it the window's start: the text before it is dropped.
    fn drop_before(&self, window: &str, at: usize) {
        self.line_at(window, at);
        self.at.set(0);
    }

    /// The 1-based line after everything counted.
    fn last(&self) -> u64 {
        self.newlines.get() + 1
    }
}

/// Where an open element's start tag ends: an offset of the window, or once the window has
/// dropped that text, its line.
#[derive(Debug, Clone, Copy)]
enum Opened {
    At(usize),
    Line(u64),
    /// Open before a part of a file began ([`Scanner::within`]): its line is the part before's.
    /// (Parts are read on threads, which wasm has not.)
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Assumed,
}

/// Where an open element's qualified name is: in the window, while the window holds its start
/// tag, or in the scanner's own copy once a refill has dropped that text. Copied only then (for
/// the few elements open at a refill) instead of at every start tag: the copy was a `memcpy`
/// call per start tag, and in wasm a `memory.copy` costs a call into the engine.
#[derive(Debug, Clone, Copy)]
enum OpenName {
    Window(usize, usize),
    Kept(usize, usize),
}

/// One attribute: its local name and its value, both borrowed from the tag unless normalizing
/// the value changed it.
pub(super) type Attr<'a> = (&'a str, Cow<'a, str>);

impl<'s> Tag<'s> {
    /// The 1-based line the tag ends on.
    pub(super) fn line(&self) -> u64 {
        self.lines.line_at(self.window, self.end)
    }

    /// The name without its namespace prefix.
    pub(super) fn local_name(&self) -> &'s str {
        self.name.get(self.local..).unwrap_or(self.name)
    }

    /// The attributes as (local name, normalized value) pairs, in document order. A repeated
    /// attribute stays in the list; readers take the first.
    pub(super) fn attributes(&self) -> Result<Vec<Attr<'s>>, ParseError> {
        let mut out = Vec::with_capacity(8);
        self.each_attribute(|key, raw, dirty| out.push((key, normalized(raw, dirty))))?;
        Ok(out)
    }

    /// The values of the attributes named `keys`, as [`super::xml::take`] would take each from
    /// [`Tag::attributes`] (the first of a repeated one; blank is absent), in one pass and
    /// without a list, written into `found` (all `None` on entry): for the tag every report
    /// repeats, `<testcase>`, the list and the searches through it were a sixth of the reader's
    /// instructions, and returning the values moved them through a `memcpy` call.
    pub(super) fn named<const N: usize>(
        &self,
        keys: [&str; N],
        found: &mut [Option<Cow<'s, str>>; N],
    ) -> Result<(), ParseError> {
        self.each_attribute(|key, raw, dirty| {
            // Lengths first (most keys differ in length from most wanted ones), then whole words.
            let wanted = keys
                .iter()
                .position(|k| word::same(k.as_bytes(), key.as_bytes()));
            if let Some(slot @ None) = wanted.and_then(|i| found.get_mut(i)) {
                *slot = Some(normalized(raw, dirty));
            }
        })?;
        for slot in found.iter_mut() {
            if slot.as_deref().is_some_and(is_blank) {
                *slot = None;
            }
        }
        Ok(())
    }

    /// Calls `each` with every attribute's local name and raw value, in document order, and
    /// whether the value may need normalizing ([`normalize_attribute`]).
    fn each_attribute(
        &self,
        mut each: impl FnMut(&'s str, &'s str, bool),
    ) -> Result<(), ParseError> {
        let malformed = |what: String| ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(self.line()),
            message: format!("malformed attribute in <{}>: {what}", self.local_name()),
        };
        let text = self.attrs;
        let mut visit = |span: &AttrSpan| {
            each(
                &text[span.local..span.key_end],
                &text[span.value..span.value_end],
                span.dirty,
            );
        };
        if let Some(spans) = self.spans {
            spans.iter().for_each(visit);
            return Ok(());
        }
        // The scan declined the tag (see [`Walk::Declined`]): walked now, without a bound on the
        // attributes' number, to the end of its attribute text or to the first fault.
        let walked = walk_attributes(text.as_bytes(), |span| {
            visit(&span);
            true
        });
        let Err(fault) = walked else {
            return Ok(());
        };
        let key = text.get(fault.key.0..fault.key.1).unwrap_or_default();
        Err(malformed(match fault.step {
            Step::Name => "an attribute has no name".to_owned(),
            Step::Equals => format!("'{key}' is not followed by '='"),
            Step::Quote => format!("the value of '{key}' is not quoted"),
            Step::Close => format!("the value of '{key}' is not closed"),
            Step::Slash => "'/' is not followed by '>'".to_owned(),
        }))
    }
}

/// Where the scanner's bytes come from: all in memory, or a stream read as the scan goes.
pub(super) struct Scanner<'a, R> {
    /// The text not yet dropped: all of it in memory; the unread part of a stream's last reads.
    window: Window<'a>,
    pos: usize,
    /// The bytes a stream's refills dropped from the window's front: the window starts at this
    /// offset of the input.
    dropped: u64,
    /// The stream still to read; `None` in memory and once a stream has ended.
    input: Option<R>,
    /// What stopped the input early (bad UTF-8, a failed read), raised where the text ends.
    broken: Option<ParseError>,
    lines: Lines,
    /// The qualified names of the open elements, innermost last, those a refill dropped from
    /// the window copied into `kept_names` one after the other; and where each one's start tag
    /// ends (for the line of an element a file ends inside).
    open_names: Vec<OpenName>,
    kept_names: String,
    opened: Vec<Opened>,
    /// The start tag [`Scanner::scan`] last found, walked, and its attributes.
    walked: Option<Walked>,
    spans: Vec<AttrSpan>,
    /// Whether text holding characters XML 1.0 forbids is an error (see [`Scanner::strict`]).
    strict: bool,
    /// Largest token a stream may buffer.
    limit: usize,
    /// Bytes read at a time ([`READ_CHUNK_BYTES`]; tests make reads tiny to cut every token).
    chunk: usize,
    started: bool,
}

impl<'a> Scanner<'a, &'a [u8]> {
    /// Scans bytes held in memory, in place.
    pub(super) fn in_memory(bytes: &'a [u8]) -> Scanner<'a, &'a [u8]> {
        let (text, broken) = match simdutf8::compat::from_utf8(bytes) {
            Ok(text) => (text, None),
            Err(e) => {
                let valid =
                    simdutf8::compat::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
                let line = count_newlines(valid.as_bytes()) + 1;
                (valid, Some(encoding_error(&bytes[e.valid_up_to()..], line)))
            }
        };
        Scanner::over(Window::Borrowed(text), None, broken, usize::MAX)
    }
}

impl<R: BufRead> Scanner<'static, R> {
    /// Scans a stream, each token bounded by [`MAX_EVENT_BYTES`].
    pub(super) fn streamed(reader: R) -> Scanner<'static, R> {
        Scanner::streamed_with_limit(reader, MAX_EVENT_BYTES as usize)
    }

    pub(super) fn streamed_with_limit(reader: R, limit: usize) -> Scanner<'static, R> {
        Scanner::over(
            Window::Stream(StreamBuffer::default()),
            Some(reader),
            None,
            limit,
        )
    }
}

impl<'a, R: BufRead> Scanner<'a, R> {
    fn over(
        window: Window<'a>,
        input: Option<R>,
        broken: Option<ParseError>,
        limit: usize,
    ) -> Scanner<'a, R> {
        Scanner {
            window,
            pos: 0,
            dropped: 0,
            input,
            broken,
            lines: Lines::default(),
            open_names: Vec::new(),
            kept_names: String::new(),
            opened: Vec::new(),
            walked: None,
            spans: Vec::new(),
            strict: false,
            limit,
            chunk: READ_CHUNK_BYTES,
            started: false,
        }
    }

    /// Makes text holding characters XML 1.0 forbids (NUL and other C0 controls) an error, as
    /// libxml2 does. The JUnit reader is lenient instead: console output written unescaped into
    /// `<system-out>` is common there, and the model strips control characters anyway.
    pub(super) fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Starts inside the elements `names` (outermost first), their start tags already read: the
    /// scan of a part of a file that begins inside them ([`super::junit::Part`]). Its lines count
    /// from the part's start until [`Scanner::follow`] joins it to the part before.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn within(mut self, names: &[&str]) -> Self {
        self.started = true;
        for name in names {
            let start = self.kept_names.len();
            self.kept_names.push_str(name);
            self.open_names
                .push(OpenName::Kept(start, self.kept_names.len()));
            self.opened.push(Opened::Assumed);
        }
        self
    }

    /// Whether exactly the elements `names` are open (outermost first): where a part scanned
    /// [`Scanner::within`] them can take over.
    pub(super) fn only_open(&self, names: &[&str]) -> bool {
        self.open_names.len() == names.len()
            && self
                .open_names
                .iter()
                .zip(names)
                .all(|(open, name)| self.name_of(*open) == Some(*name))
    }

    /// Takes over from `earlier`, the scan of the part before this one, which stands where this
    /// part starts with exactly the elements open that this part took as open: lines go on from
    /// its line, and those elements are the ones it opened. Answers the lines before this part.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn follow<S: BufRead>(&mut self, earlier: &Scanner<'_, S>) -> u64 {
        let before = earlier.line().saturating_sub(1);
        self.lines.newlines.set(self.lines.newlines.get() + before);
        for (opened, theirs) in self.opened.iter_mut().zip(&earlier.opened) {
            if let Opened::Assumed = *opened {
                *opened = Opened::Line(match *theirs {
                    Opened::At(at) => earlier.line_at(at),
                    Opened::Line(line) => line,
                    Opened::Assumed => 1,
                });
            }
        }
        before
    }

    /// Reads `step` bytes at a time, so that tests cut tokens and refills drop text.
    #[cfg(test)]
    pub(super) fn reading_by(mut self, step: usize) -> Self {
        self.chunk = step;
        self
    }

    /// The offset in the input of the byte the scanner stands on.
    pub(super) fn offset(&self) -> u64 {
        self.dropped + self.pos as u64
    }

    /// The 1-based line the scanner stands on.
    fn line(&self) -> u64 {
        self.line_at(self.pos)
    }

    /// The line of the byte at `at` in the window.
    fn line_at(&self, at: usize) -> u64 {
        self.lines.line_at(self.window.text(), at)
    }

    /// The local name of the innermost element still open and the line its start tag ends on:
    /// after [`Token::Eof`], the element a cut-off file ends inside.
    pub(super) fn innermost_open(&self) -> Option<(&str, u64)> {
        let name = local(self.innermost_name()?);
        let line = match *self.opened.last()? {
            Opened::At(at) => self.line_at(at),
            Opened::Line(line) => line,
            // Only a part's own errors see it, and those are never shown (see `follow`).
            Opened::Assumed => 1,
        };
        Some((name, line))
    }

    /// The qualified name of the innermost open element.
    fn innermost_name(&self) -> Option<&str> {
        self.name_of(*self.open_names.last()?)
    }

    fn name_of(&self, name: OpenName) -> Option<&str> {
        match name {
            OpenName::Window(start, end) => self.window.text().get(start..end),
            OpenName::Kept(start, end) => self.kept_names.get(start..end),
        }
    }

    /// The local name of the innermost open element, for messages.
    fn inside(&self) -> String {
        match self.innermost_name() {
            Some(name) => format!(" inside <{}>", local(name)),
            None => String::new(),
        }
    }

    fn syntax(&self, at: usize, what: &str) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(self.line_at(at)),
            message: format!("malformed XML{}: {what}", self.inside()),
        }
    }

    /// The next token.
    pub(super) fn next_token(&mut self) -> Result<Token<'_>, ParseError> {
        self.next(true)
    }

    /// The next token that is not text: text is passed over undecoded, for a reader standing
    /// where it wants none (the indentation between a report's elements is half of all tokens).
    /// Strict scanning still checks such text for the characters it forbids.
    pub(super) fn next_markup(&mut self) -> Result<Token<'_>, ParseError> {
        self.next(false)
    }

    fn next(&mut self, text: bool) -> Result<Token<'_>, ParseError> {
        loop {
            // The window holds whole characters, so a byte-order mark is there whole or not yet.
            if !self.started && self.pos < self.window.text().len() {
                self.started = true;
                if self.window.text()[self.pos..].starts_with(BYTE_ORDER_MARK) {
                    self.pos += BYTE_ORDER_MARK.len_utf8();
                }
            }
            match self.scan()? {
                Scanned::Token(start, end, kind) => {
                    if self.limit != usize::MAX && end - start > self.limit {
                        return Err(too_large(self.line_at(start)));
                    }
                    self.pos = end;
                    let is_text =
                        matches!(kind, Kind::Space | Kind::Plain | Kind::Text | Kind::CData);
                    if text || !is_text {
                        return self.token(start, end, kind);
                    }
                    if self.strict && !matches!(kind, Kind::Space) {
                        // Decoded only to refuse the characters strict scanning forbids.
                        self.token(start, end, kind)?;
                    }
                }
                Scanned::Skipped(end) => self.pos = end,
                Scanned::NeedMore => {
                    // A stream found ended by this read gets one more scan: its last text is whole.
                    let was_open = !self.ended();
                    if !self.refill()? && !was_open {
                        return Err(self.cut_off());
                    }
                }
                Scanned::End => {
                    if self.refill()? {
                        continue;
                    }
                    return match self.broken.take() {
                        Some(err) => Err(err),
                        None => Ok(Token::Eof(self.line())),
                    };
                }
            }
        }
    }

    /// Where the next token lies, without reading more.
    fn scan(&mut self) -> Result<Scanned, ParseError> {
        let at = self.pos;
        let rest = &self.window.text().as_bytes()[at..];
        if rest.is_empty() {
            return Ok(Scanned::End);
        }
        if rest[0] != b'<' {
            // Most text runs are the indentation between tags: walked byte by byte (memchr's
            // setup costs more than they hold), they need no decoding.
            let indent = rest
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\n' | b'\t'))
                .unwrap_or(rest.len());
            if rest.get(indent) == Some(&b'<') {
                return Ok(Scanned::Token(at, at + indent, Kind::Space));
            }
            // The end of the text, or first a byte that decoding changes: text without one (most)
            // is then used as it is, without a second search through it.
            let text = &rest[indent..];
            let (end, kind) = match memchr::memchr3(b'<', b'&', b'\r', text) {
                Some(i) if text[i] == b'<' => (Some(i), Kind::Plain),
                Some(i) => (
                    memchr::memchr(b'<', &text[i..]).map(|end| i + end),
                    Kind::Text,
                ),
                None => (None, Kind::Plain),
            };
            return Ok(match end {
                Some(i) => Scanned::Token(at, at + indent + i, kind),
                None if self.ended() => Scanned::Token(at, at + rest.len(), Kind::Text),
                None => Scanned::NeedMore,
            });
        }
        let found = |needle: &[u8], from: usize| {
            memchr::memmem::find(&rest[from.min(rest.len())..], needle).map(|i| at + from + i)
        };
        let need = |end: Option<usize>, kind: Kind, after: usize| match end {
            Some(end) => Scanned::Token(at, end + after, kind),
            None => Scanned::NeedMore,
        };
        Ok(match rest.get(1) {
            None => Scanned::NeedMore,
            Some(b'/') => {
                // Nearly every end tag is `</name>` closing the innermost element: compared in
                // place, it needs no search for its `>` and no second look at its name.
                let open = self.innermost_name().unwrap_or_default().as_bytes();
                let close = 2 + open.len();
                if !open.is_empty()
                    && rest.get(close) == Some(&b'>')
                    && rest
                        .get(2..close)
                        .is_some_and(|name| word::same(name, open))
                {
                    return Ok(Scanned::Token(at, at + close + 1, Kind::EndOfInnermost));
                }
                need(memchr::memchr(b'>', rest).map(|i| at + i), Kind::EndTag, 1)
            }
            Some(b'?') => match found(b"?>", 2) {
                Some(end) => Scanned::Skipped(end + 2),
                None => Scanned::NeedMore,
            },
            Some(b'!') => {
                if rest.starts_with(b"<!--") {
                    match found(b"-->", 4) {
                        Some(end) => Scanned::Skipped(end + 3),
                        None => Scanned::NeedMore,
                    }
                } else if rest.starts_with(b"<![CDATA[") {
                    need(found(b"]]>", 9), Kind::CData, 3)
                } else if rest.len() < 9 && !self.ended() {
                    Scanned::NeedMore
                } else if rest.len() >= 9 && rest[2..9].eq_ignore_ascii_case(b"DOCTYPE") {
                    match doctype_end(rest) {
                        Some(end) => Scanned::Skipped(at + end),
                        None => Scanned::NeedMore,
                    }
                } else {
                    return Err(self.syntax(
                        at,
                        "'<!' starts neither a comment, a CDATA section nor a DOCTYPE",
                    ));
                }
            }
            Some(_) => {
                // The attributes are found on the way to the tag's end, so that the reader's
                // lookups do not walk the tag again; a tag the walk does not take (see
                // [`walk_tag`]) is ended by `tag_end`, its attributes walked if asked for.
                let end = match walk_tag(&rest[1..], &mut self.spans) {
                    Walk::End(gt, walked) => {
                        self.walked = Some(walked);
                        Some(gt)
                    }
                    Walk::NeedMore => {
                        self.walked = None;
                        None
                    }
                    Walk::Declined => {
                        self.walked = None;
                        tag_end(&rest[1..])
                    }
                };
                need(end.map(|i| at + 1 + i), Kind::StartTag, 1)
            }
        })
    }

    fn token(&mut self, start: usize, end: usize, kind: Kind) -> Result<Token<'_>, ParseError> {
        match kind {
            Kind::Space => Ok(Token::Text(Cow::Borrowed(&self.window.text()[start..end]))),
            Kind::Plain if !self.strict => {
                Ok(Token::Text(Cow::Borrowed(&self.window.text()[start..end])))
            }
            Kind::Plain | Kind::Text => {
                let raw = &self.window.text()[start..end];
                match decode_text(raw, self.strict) {
                    Ok(text) => Ok(Token::Text(text)),
                    Err(bad) => Err(self.forbidden(start + bad)),
                }
            }
            Kind::CData => {
                let raw = &self.window.text()[start + 9..end - 3];
                if self.strict {
                    if let Some(bad) = raw.bytes().position(is_forbidden) {
                        return Err(self.forbidden(start + 9 + bad));
                    }
                }
                Ok(Token::Text(normalize_line_ends(raw)))
            }
            Kind::EndOfInnermost => {
                self.close_innermost();
                Ok(Token::End)
            }
            Kind::EndTag => {
                let name = self.window.text()[start + 2..end - 1].trim_end_matches(is_xml_space);
                let Some(open) = self.innermost_name() else {
                    return Err(self.syntax(start, &format!("</{name}> closes no open element")));
                };
                if open != name {
                    let message = format!("expected </{open}>, found </{name}>");
                    return Err(self.syntax(start, &message));
                }
                self.close_innermost();
                Ok(Token::End)
            }
            Kind::StartTag => {
                let content = &self.window.text()[start + 1..end - 1];
                let (content, empty) = match content.strip_suffix('/') {
                    Some(content) => (content, true),
                    None => (content, false),
                };
                let (name_end, local, spans) = match self.walked.take() {
                    Some(walked) => (walked.name_end, walked.local, Some(&self.spans[..])),
                    None => {
                        let (name_end, local) = walk_name(content.as_bytes(), 0);
                        match content.as_bytes().get(name_end) {
                            Some(&b) if name_end > 0 && !is_space(b) => {
                                let (name, c) = (&content[..name_end], char::from(b));
                                let what = format!("<{name} is followed by '{c}', not a space");
                                return Err(self.syntax(start, &what));
                            }
                            _ => (name_end, local, None),
                        }
                    }
                };
                let tag = Tag {
                    name: &content[..name_end],
                    local,
                    attrs: &content[name_end..],
                    spans,
                    end,
                    window: self.window.text(),
                    lines: &self.lines,
                };
                if tag.name.is_empty() {
                    return Err(self.syntax(start, "'<' is not followed by an element name"));
                }
                if empty {
                    return Ok(Token::Empty(tag));
                }
                let name_start = start + 1;
                self.open_names
                    .push(OpenName::Window(name_start, name_start + name_end));
                self.opened.push(Opened::At(end));
                Ok(Token::Start(tag))
            }
        }
    }

    /// Forgets the innermost open element: its end tag matched.
    fn close_innermost(&mut self) {
        if let Some(OpenName::Kept(start, _)) = self.open_names.pop() {
            self.kept_names.truncate(start);
        }
        self.opened.pop();
    }

    fn forbidden(&self, at: usize) -> ParseError {
        let c = self.window.text()[at..].chars().next().unwrap_or_default();
        ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(self.line_at(at)),
            message: format!(
                "character U+{:04X} is not allowed in XML: the report is corrupt (was binary output written into it unescaped?)",
                c as u32
            ),
        }
    }

    fn ended(&self) -> bool {
        self.input.is_none()
    }

    /// The error for a file that ends inside markup.
    fn cut_off(&mut self) -> ParseError {
        if let Some(err) = self.broken.take() {
            return err;
        }
        let at = self.pos;
        let what = match self.window.text().as_bytes().get(at..at + 4) {
            Some(b"<!--") => "a comment",
            _ if self.window.text()[at..].starts_with("<![CDATA[") => "a CDATA section",
            _ => "a tag",
        };
        ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(self.line_at(self.window.text().len())),
            message: format!(
                "the file ends inside {what}{} begun at line {}: the report was cut off (did the test process crash or the disk fill up?)",
                self.inside(),
                self.line_at(at)
            ),
        }
    }

    /// Reads more of the stream into the window, dropping what was scanned. False at its end.
    fn refill(&mut self) -> Result<bool, ParseError> {
        if self.ended() {
            return Ok(false);
        }
        // Lines are counted up to what is dropped, which is all before the position, and the
        // open elements whose start tags are dropped get their lines first (in document order,
        // so the count only moves forward).
        let keep_from = self.pos;
        for opened in &mut self.opened {
            if let Opened::At(at) = *opened {
                *opened = Opened::Line(self.lines.line_at(self.window.text(), at));
            }
        }
        for name in &mut self.open_names {
            if let OpenName::Window(start, end) = *name {
                let kept = self.kept_names.len();
                self.kept_names
                    .push_str(self.window.text().get(start..end).unwrap_or_default());
                *name = OpenName::Kept(kept, self.kept_names.len());
            }
        }
        self.lines.drop_before(self.window.text(), keep_from);
        self.dropped += keep_from as u64;
        self.pos = 0;
        let (Window::Stream(buffer), Some(reader)) = (&mut self.window, self.input.as_mut()) else {
            return Ok(false);
        };
        buffer.drop_before(keep_from);
        let held = buffer.text().len();
        if held > self.limit {
            return Err(too_large(self.lines.last()));
        }
        // Past the bound by one byte at most: a refused token is not read further. The start of
        // a character a read cut in two is held but not counted: it is not progress.
        let room = self.limit.saturating_add(1).saturating_sub(held);
        let want = self.chunk.max(held).min(room.max(1));
        // Read straight into the window's room (see [`window`]); it grows from
        // [`FIRST_READ_BYTES`] by doubling as reads fill it, so a small report zeroes no more than
        // it reads, and the doublings add up to the read chunk: a `BufReader` of that size that
        // detection filled is drained exactly, and the reads after it bypass it.
        let read = buffer.read_from(reader, want, FIRST_READ_BYTES);
        let ended = !matches!(read, Ok(false));
        if let Err(e) = &read {
            self.broken = Some(read_error(e, self.lines.last()));
        }
        if ended {
            self.input = None;
        }
        if let Err((text, bad)) = buffer.validate(ended) {
            let line = self.lines.last() + count_newlines(text.as_bytes());
            self.broken = Some(encoding_error(bad, line));
            self.input = None;
        }
        Ok(buffer.text().len() > held || !ended)
    }
}

/// What [`Scanner::scan`] found at the position.
enum Scanned {
    Token(usize, usize, Kind),
    /// Markup nobody reads (comment, processing instruction, DOCTYPE), ending here.
    Skipped(usize),
    /// The token is not complete in the window.
    NeedMore,
    /// Nothing left in the window.
    End,
}

#[derive(Clone, Copy)]
enum Kind {
    /// Text of spaces, tabs and line feeds only: nothing to decode.
    Space,
    /// Text without references or carriage returns: nothing to decode, only to check when strict.
    Plain,
    Text,
    CData,
    StartTag,
    EndTag,
    /// `</name>` closing the innermost element, matched while scanning.
    EndOfInnermost,
}

/// What [`walk_tag`] made of a start tag.
enum Walk {
    /// The index of its `>` and its name; its attributes are in the spans.
    End(usize, Walked),
    /// The tag is not complete in the bytes.
    NeedMore,
    /// Not the shape the walk takes: a name that ends at a quote or `=`, an attribute
    /// [`walk_attributes`] finds a fault in, or more than [`MAX_SCANNED_ATTRIBUTES`]. [`tag_end`]
    /// finds its end, and [`Tag::each_attribute`] reports what is wrong if a reader asks.
    Declined,
}

/// Walks a start tag (`tag` starts after `<`) to its `>`, recording its attributes in `spans`
/// (offsets after the name). A tag it takes ends where [`tag_end`] would end it: names and keys
/// hold no quote and no `>`, so the first quote after the name opens a value, as there.
fn walk_tag(tag: &[u8], spans: &mut Vec<AttrSpan>) -> Walk {
    spans.clear();
    let (name_end, local) = walk_name(tag, 0);
    match tag.get(name_end) {
        None => return Walk::NeedMore,
        Some(b'>') => {
            let gt = name_end;
            // A `/` before `>` ends an empty-element tag, not the name.
            let name_end = match gt > 0 && tag[gt - 1] == b'/' {
                true => gt - 1,
                false => gt,
            };
            let local = local.min(name_end);
            return Walk::End(gt, Walked { name_end, local });
        }
        Some(&b) if is_space(b) => {}
        Some(_) => return Walk::Declined,
    }
    let walked = walk_attributes(&tag[name_end..], |span| {
        if spans.len() == MAX_SCANNED_ATTRIBUTES {
            return false;
        }
        spans.push(span);
        true
    });
    match walked {
        Ok(Attributes::Gt(gt)) => Walk::End(name_end + gt, Walked { name_end, local }),
        Ok(Attributes::Out) | Err(Fault { short: true, .. }) => Walk::NeedMore,
        Ok(Attributes::Stopped) | Err(Fault { short: false, .. }) => Walk::Declined,
    }
}

/// Where [`walk_attributes`] stopped without a fault.
enum Attributes {
    /// At the tag's `>` (its index), after the attributes and perhaps a `/`.
    Gt(usize),
    /// At the end of the bytes, between attributes.
    Out,
    /// Where the caller's `each` asked it to.
    Stopped,
}

/// Where in an attribute [`walk_attributes`] found it malformed.
#[derive(Debug)]
struct Fault {
    step: Step,
    /// The key's offsets (empty before the key is read).
    key: (usize, usize),
    /// The bytes ended there: a stream's tag may not be complete yet.
    short: bool,
}

/// What [`walk_attributes`] was looking for when it found a [`Fault`].
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A key's first byte (not `=` or a quote).
    Name,
    /// The `=` after a key (spaces allowed around it).
    Equals,
    /// The quote opening a value.
    Quote,
    /// The quote closing it.
    Close,
    /// The `>` after a `/` (an empty-element tag).
    Slash,
}

/// Walks attributes (`key="value"`, spaces between) from the start of `bytes`, calling `each`
/// with where each lies until it returns false, up to a `>` (or `/>`) outside the values or the
/// end of the bytes: the attribute grammar once, for the scan (which stops at the tag's end) and
/// for the walk of a tag the scan declined (whose attribute text has no `>` left).
fn walk_attributes(
    bytes: &[u8],
    mut each: impl FnMut(AttrSpan) -> bool,
) -> Result<Attributes, Fault> {
    let fault = |step, key, at: usize| Fault {
        step,
        key,
        short: at >= bytes.len(),
    };
    let mut i = 0;
    loop {
        i = skip_spaces(bytes, i);
        match bytes.get(i) {
            None => return Ok(Attributes::Out),
            Some(b'>') => return Ok(Attributes::Gt(i)),
            Some(b'/') => {
                return match bytes.get(i + 1) {
                    Some(b'>') => Ok(Attributes::Gt(i + 1)),
                    _ => Err(fault(Step::Slash, (i, i), i + 1)),
                }
            }
            Some(_) => {}
        }
        let (key_end, local) = walk_name(bytes, i);
        let key = (i, key_end);
        if key_end == i {
            return Err(fault(Step::Name, key, i));
        }
        // Nearly always `key="`: the spaces XML allows around `=` are looked for only when that
        // is not what follows.
        i = match bytes.get(key_end) {
            Some(b'=') => key_end,
            _ => skip_spaces(bytes, key_end),
        };
        if bytes.get(i) != Some(&b'=') {
            return Err(fault(Step::Equals, key, i));
        }
        i += 1;
        if !bytes.get(i).is_some_and(|&b| b == b'"' || b == b'\'') {
            i = skip_spaces(bytes, i);
        }
        let quote = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(fault(Step::Quote, key, i)),
        };
        let value = i + 1;
        let Some((close, dirty)) = bytes.get(value..).and_then(|v| value_end(v, quote)) else {
            return Err(fault(Step::Close, key, bytes.len()));
        };
        let span = AttrSpan {
            local,
            key_end,
            value,
            value_end: value + close,
            dirty,
        };
        if !each(span) {
            return Ok(Attributes::Stopped);
        }
        i = value + close + 1;
    }
}

/// Walks a name (an element's or a key) from `bytes[i]` to the first space, `=`, `>`, quote or
/// the end: that index, and where its local name starts (after the first `:`, else `i`).
fn walk_name(bytes: &[u8], i: usize) -> (usize, usize) {
    let mut local = i;
    let mut at = skip_name_bytes(bytes, i);
    while bytes.get(at) == Some(&b':') {
        if local == i {
            local = at + 1;
        }
        at = skip_name_bytes(bytes, at + 1);
    }
    (at, local)
}

/// The index of the first byte at or after `i` that is not a space (or the end).
fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|&b| is_space(b)) {
        i += 1;
    }
    i
}

/// The bytes [`walk_name`] stops at: those that end a name or key (a space, `=`, `>`, a quote)
/// and a prefix's `:`.
const NAME_STOPS: [bool; 256] = {
    let mut stops = [false; 256];
    let mut i = 0;
    while i < 256 {
        stops[i] = matches!(
            i as u8,
            b' ' | b'\t' | b'\r' | b'\n' | b'=' | b'>' | b':' | b'"' | b'\''
        );
        i += 1;
    }
    stops
};

/// The index of the first byte at or after `i` that [`NAME_STOPS`] holds (or the end): a name's
/// or key's bytes are looked up, not compared six times each.
fn skip_name_bytes(tag: &[u8], mut i: usize) -> usize {
    while tag.get(i).is_some_and(|&b| !NAME_STOPS[usize::from(b)]) {
        i += 1;
    }
    i
}

/// The index of the `>` ending a start tag in `tag` (which starts after `<`); quoted attribute
/// values may hold `>`.
fn tag_end(tag: &[u8]) -> Option<usize> {
    // Names, keys and `=` are a few bytes each: a word at a time finds the next `>` or quote; the
    // quoted values, the long part, are skipped with memchr (memchr3 restarted at every quote
    // cost twice as much).
    let mut i = 0;
    loop {
        let at = word::find(
            tag,
            i,
            |x| word::equal(x, b'>') | word::equal(x, b'"') | word::equal(x, b'\''),
            |b| matches!(b, b'>' | b'"' | b'\''),
        )?;
        match tag[at] {
            b'>' => return Some(at),
            quote => i = at + 2 + quote_end(tag.get(at + 1..)?, quote)?,
        }
    }
}

/// Bytes of a quoted value searched a word at a time for its closing quote before memchr takes
/// over: most values are names and numbers, shorter than this, where memchr's setup cost more
/// than the search (the tag-end search 9.9 M → 9.0 M instructions on the 20,000-case bench file,
/// issue 12).
const SHORT_VALUE_BYTES: usize = 32;

/// The index of the first `quote` in `value`.
fn quote_end(value: &[u8], quote: u8) -> Option<usize> {
    let head = value.len().min(SHORT_VALUE_BYTES);
    word::find(&value[..head], 0, |x| word::equal(x, quote), |b| b == quote)
        .or_else(|| memchr::memchr(quote, &value[head..]).map(|i| head + i))
}

/// The index just past a DOCTYPE declaration starting at `decl[0]`: its `>` outside quotes, the
/// internal subset's brackets and comments.
fn doctype_end(decl: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut i = 2;
    while let Some(&b) = decl.get(i) {
        match (quote, b) {
            (Some(q), _) if q == b => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[') => depth += 1,
            (None, b']') => depth = depth.saturating_sub(1),
            (None, b'<') if decl[i..].starts_with(b"<!--") => {
                i += memchr::memmem::find(&decl[i + 4..], b"-->")? + 6;
            }
            (None, b'>') if depth == 0 => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The name after its namespace prefix (`ns:testcase` → `testcase`).
fn local(name: &str) -> &str {
    match name.bytes().position(|b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A byte XML 1.0 forbids in text: the C0 controls other than tab, line feed and carriage return.
fn is_forbidden(b: u8) -> bool {
    (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')
}

/// Character data with references resolved and line ends normalized; `Err(index)` of a
/// forbidden character when `strict`.
fn decode_text(raw: &str, strict: bool) -> Result<Cow<'_, str>, usize> {
    // Nearly all text is used as it is: a vectorized search decides, and the per-byte check for
    // forbidden characters (a branch-free fold, which vectorizes too) runs only when asked.
    let changes = memchr::memchr2(b'&', b'\r', raw.as_bytes()).is_some();
    let forbidden = strict && raw.bytes().fold(false, |any, b| any | is_forbidden(b));
    if !changes && !forbidden {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\r' => {
                out.push_str(&raw[start..i]);
                out.push('\n');
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                start = i;
            }
            b'&' => {
                out.push_str(&raw[start..i]);
                // A reference runs to the next `;`; a `&` met first means this one starts none.
                match memchr::memchr2(b';', b'&', &bytes[i + 1..]) {
                    Some(j) if bytes[i + 1 + j] == b';' => {
                        let name = &raw[i + 1..i + 1 + j];
                        push_reference(&mut out, name);
                        i += j + 2;
                    }
                    _ => {
                        out.push('&');
                        i += 1;
                    }
                }
                start = i;
            }
            b if strict && is_forbidden(b) => return Err(i),
            _ => i += 1,
        }
    }
    out.push_str(&raw[start..]);
    Ok(Cow::Owned(out))
}

/// Appends what `&name;` stands for: a character, a predefined entity, or itself.
fn push_reference(out: &mut String, name: &str) {
    if let Some(c) = char_reference(name) {
        out.push(c);
    } else if let Some(text) = predefined_entity(name) {
        out.push_str(text);
    } else {
        out.push('&');
        out.push_str(name);
        out.push(';');
    }
}

/// The character of `#65` or `#x41`; `None` for anything else, NUL and non-characters.
fn char_reference(name: &str) -> Option<char> {
    let number = name.strip_prefix('#')?;
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let code = u32::from_str_radix(digits, radix).ok()?;
    (code != 0).then(|| char::from_u32(code)).flatten()
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    // Byte patterns, compared in place: string patterns are compared by `memcmp`, a call per
    // candidate (and a byte loop in wasm).
    Some(match name.as_bytes() {
        [b'l', b't'] => "<",
        [b'g', b't'] => ">",
        [b'a', b'm', b'p'] => "&",
        [b'a', b'p', b'o', b's'] => "'",
        [b'q', b'u', b'o', b't'] => "\"",
        _ => return None,
    })
}

/// Line ends of text or CDATA normalized to `\n`.
fn normalize_line_ends(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Where a quoted value starting at `bytes[0]` ends (the index of its closing `quote`), and
/// whether it may hold a byte [`normalize_attribute`] rewrites: one pass, a word at a time (most
/// values are a few bytes, where memchr's setup costs more than they hold).
fn value_end(bytes: &[u8], quote: u8) -> Option<(usize, bool)> {
    let at = word::find(
        bytes,
        0,
        |x| word::equal(x, quote) | word::below(x, b'\r' + 1) | word::equal(x, b'&'),
        |b| b == quote || b <= b'\r' || b == b'&',
    )?;
    // The quote, or a byte that sends the value down the careful path, after which only the
    // quote is looked for.
    match bytes[at] == quote {
        true => Some((at, false)),
        false => memchr::memchr(quote, &bytes[at..]).map(|end| (at + end, true)),
    }
}

/// `raw` normalized when `dirty` says it may need it ([`value_end`]), else borrowed as it is.
#[inline]
fn normalized(raw: &str, dirty: bool) -> Cow<'_, str> {
    match dirty {
        true => normalize_attribute(raw),
        false => Cow::Borrowed(raw),
    }
}

/// An attribute value normalized per XML 1.0: tab, carriage return and line feed (a `\r\n` pair
/// once) become spaces, character and predefined references are expanded. A value with a
/// reference that is none of those stays as written. Only values [`value_end`] found such a byte
/// in (or another control character) come here.
fn normalize_attribute(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut start = 0;
    // The runs between bytes that change are found a word at a time and copied whole: a failure's
    // message holds a few references in tens of bytes, and a byte loop with a memchr for every
    // reference's `;` took 1,489 instructions a message of the realistic benchmark file, this 1,109
    // (callgrind, issue 12).
    while let Some(i) = word::find(
        bytes,
        start,
        |x| {
            word::equal(x, b'&')
                | word::equal(x, b'\t')
                | word::equal(x, b'\n')
                | word::equal(x, b'\r')
        },
        |b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'),
    ) {
        out.push_str(&raw[start..i]);
        if bytes[i] != b'&' {
            out.push(' ');
            let pair = bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n');
            start = i + if pair { 2 } else { 1 };
            continue;
        }
        let Some(end) = word::find(bytes, i + 1, |x| word::equal(x, b';'), |b| b == b';') else {
            return Cow::Borrowed(raw);
        };
        let name = &raw[i + 1..end];
        match (predefined_entity(name), char_reference(name)) {
            (Some(text), _) => out.push_str(text),
            (None, Some(c)) => out.push(c),
            (None, None) => return Cow::Borrowed(raw),
        }
        start = end + 1;
    }
    out.push_str(&raw[start..]);
    Cow::Owned(out)
}

fn too_large(line: u64) -> ParseError {
    ParseError {
        kind: ParseErrorKind::TooLarge,
        line: Some(line),
        message: format!("{EventTooLarge}: the report is not a reasonable test report"),
    }
}

fn encoding_error(bad: &[u8], line: u64) -> ParseError {
    let shown: Vec<String> = bad.iter().take(4).map(|b| format!("{b:#04x}")).collect();
    ParseError {
        kind: ParseErrorKind::Encoding,
        line: Some(line),
        message: format!(
            "not valid UTF-8 (bytes {} start no character): re-encode the report as UTF-8",
            shown.join(" ")
        ),
    }
}

fn read_error(err: &io::Error, line: u64) -> ParseError {
    ParseError {
        kind: ParseErrorKind::Io,
        line: Some(line),
        message: format!("could not read the file: {err}"),
    }
}

#[cfg(test)]
pub(super) mod tests;
mod window;

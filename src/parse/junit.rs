//! JUnit XML in the dialects real producers write.
//!
//! One pass over the scanner's tokens with a stack of open elements. Accepted shapes:
//! `<testsuites>` or bare `<testsuite>` roots (or a lone `<testcase>`), suites nested to any depth
//! (flattened, a suite's own cases after its children's, names joined with " › "), several XML
//! documents concatenated in one file (libtest), and namespaced elements.
//!
//! Status of one `<testcase>`, first rule that applies:
//! 1. `status` or `result` attribute `disabled`/`skipped`/`notrun`/`ignored`/`suppressed` → skipped
//!    (a disabled test did not run, whatever children it carries: mikepenz testFailedDisabled).
//! 2. any `<error>` → errored; any `<failure>` → failed (error outranks failure, EnricoMi).
//! 3. `<skipped>` → skipped.
//! 4. only Surefire `<flakyFailure>`/`<flakyError>` → flaky, attempts = their number + 1.
//! 5. otherwise passed. `<rerunFailure>`/`<rerunError>` are kept as earlier attempts.
//!
//! Repeated `<testcase>` elements with the same classname, name and file inside one suite are
//! attempts of one test (pytest-rerunfailures, @web/test-runner, go-junit-report and TestNG
//! retries) when the report names the file or the earlier attempt did not pass (see
//! [`is_attempt_of`]): they fold into one case that is flaky when any attempt passed and any failed.
//!
//! Entities: only XML's predefined entities and character references are expanded. DTD-declared
//! entities (billion laughs) and external entities (XXE) are left as written and never read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use super::scanner::{Scanner, Tag, Token};
use super::xml::{clean_attr, parse_seconds, take, Text, MAX_DEPTH};
use super::{ParseError, ParseErrorKind, Parsed};
use crate::diagnostic::Diagnostic;
use crate::model::{clean_text, Case, Location, Problem, Status, Suite, TestRun};
use crate::word;

/// Bytes kept of one failure message. Messages beyond this are assertion dumps; the trace keeps more.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Bytes kept of one stack trace or failure body.
pub const MAX_TRACE_BYTES: usize = 64 * 1024;
/// Bytes kept of one test's or suite's stdout/stderr. Kept only for tests that did not pass.
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024;
/// Name given to a `<testcase>` with neither `name` nor `classname`: counted, never dropped.
pub const UNNAMED_TEST: &str = "(unnamed test)";
/// Separator between the names of nested suites.
pub const SUITE_PATH_SEPARATOR: &str = " › ";

pub(super) fn parse<R: BufRead>(mut scanner: Scanner<'_, R>) -> Result<Parsed, ParseError> {
    let mut state = State::default();
    match read::<R, false>(&mut scanner, &mut state, NO_STOP)? {
        Reached::End(last_line) => finish(&scanner, state, last_line),
        // Never: nothing stands at the offset that is no offset.
        Reached::Stop => Err(not_junit()),
    }
}

/// Where the next part of a file starts ([`Part`]), as an offset from this part's start, and in
/// what state.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stop {
    pub(super) at: u64,
    pub(super) next: PartStart,
}

/// No part's start: a part read with it reads to the end.
pub(super) const NO_STOP: Stop = Stop {
    at: u64::MAX,
    next: PartStart::Suite,
};

/// Where a later part of a file starts, and so what it takes as already open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Parts are read on threads, which wasm has not: there only `NO_STOP` is built.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(super) enum PartStart {
    /// At a `<testsuite>` directly inside the `<testsuites>` root: the root is open and empty.
    Suite,
    /// At a `<testcase>` directly inside the one suite open: the root `<testsuite>`, or with
    /// `under_run` a `<testsuite>` directly inside the `<testsuites>` root. The suite's name,
    /// attributes and earlier cases are the part before's.
    Case { under_run: bool },
}

/// The root element of a run, the one element of [`PartStart::open_names`] that is not a suite.
const RUN_ELEMENT: &str = "testsuites";

impl PartStart {
    /// The qualified names of the elements open where such a part starts, outermost first: the
    /// scanner's open elements there, and the reader's frames ([`RUN_ELEMENT`] a run, the others
    /// suites).
    fn open_names(self) -> &'static [&'static str] {
        match self {
            PartStart::Suite => &[RUN_ELEMENT],
            PartStart::Case { under_run: true } => &[RUN_ELEMENT, "testsuite"],
            PartStart::Case { under_run: false } => &["testsuite"],
        }
    }
}

/// Where [`read`] stopped.
#[derive(Debug, Clone, Copy)]
enum Reached {
    /// The end of the input, and the last line.
    End(u64),
    /// The offset where the next part starts, in a state the next part can take over from.
    Stop,
}

/// Reads tokens into `state` to the end of the input, or until the scanner stands at `stop` in
/// the state the next part began in ([`Part::continuing`]): exactly the elements it takes as
/// open are open, and nothing inside the innermost. There that part's reading can take the
/// place of this one's. Only with `PARTS`: a file read whole does not pay the check per token
/// (0.5 % of the parse's instructions).
fn read<R: BufRead, const PARTS: bool>(
    scanner: &mut Scanner<'_, R>,
    state: &mut State,
    stop: Stop,
) -> Result<Reached, ParseError> {
    loop {
        if PARTS
            && scanner.offset() == stop.at
            && state.can_be_continued(stop.next)
            && scanner.only_open(stop.next.open_names())
        {
            return Ok(Reached::Stop);
        }
        // Text where nobody wants it (the indentation between elements, mostly) is not even
        // handed out.
        let token = if state.text_target().is_some() {
            scanner.next_token()?
        } else {
            scanner.next_markup()?
        };
        match token {
            Token::Start(tag) => state.open(&tag)?,
            Token::Empty(tag) => {
                state.open(&tag)?;
                state.close();
            }
            Token::End => state.close(),
            Token::Text(text) => state.text(&text),
            Token::Eof(line) => return Ok(Reached::End(line)),
        }
    }
}

/// The reports read, once the input has ended on `last_line`.
fn finish<R: BufRead>(
    scanner: &Scanner<'_, R>,
    state: State,
    last_line: u64,
) -> Result<Parsed, ParseError> {
    // The scanner's open elements are the stack's (the implicit suite of a bare <testcase> is
    // never the innermost), and it knows their lines without counting every start tag's.
    if let Some((name, opened)) = scanner.innermost_open() {
        return Err(ParseError {
            kind: ParseErrorKind::Syntax,
            line: Some(last_line),
            message: format!(
                "unexpected end of file inside <{name}> opened at line {opened}: the report was cut off (did the test process crash or the disk fill up?)"
            ),
        });
    }
    if state.runs.is_empty() {
        return Err(not_junit());
    }
    Ok(Parsed {
        runs: state.runs,
        diagnostics: state.diagnostics,
    })
}

fn not_junit() -> ParseError {
    ParseError {
        kind: ParseErrorKind::Unsupported,
        line: None,
        message: "no JUnit <testsuites>, <testsuite> or <testcase> element found".into(),
    }
}

/// One part of a large JUnit file, read on a thread of its own (native only, [`super::parse_in_parts`];
/// issue 12). A file is cut where a top-level `<testsuite>` starts, or in a file of one suite
/// where a `<testcase>` does ([`part_start`]), and each part is read from its start to the end of
/// the file, the first as a whole file is, the others as if what encloses their start were open
/// ([`PartStart`]). Where the part before reaches the next part's start in exactly that state
/// ([`Reached::Stop`]), the next part's reading continues it: the reports are those of one
/// reading of the file, lines and all. Where it does not (the cut was inside a comment, a CDATA
/// section or a nested suite, or the root is not what the cut took it for), where the next part
/// failed, or where its reading depended on what it could not know (a retry of a test of the part
/// before, a nested suite named after its unknown suite, output of that suite), the part before
/// reads on by itself: a part's work is never trusted unchecked.
#[cfg(not(target_arch = "wasm32"))]
pub(super) struct Part<R> {
    scanner: Scanner<'static, R>,
    state: State,
    /// Where this part started; `None` for the first.
    start: Option<PartStart>,
    reached: Result<Reached, ParseError>,
}

#[cfg(not(target_arch = "wasm32"))]
impl<R: BufRead> Part<R> {
    /// Reads the file's first part, from the file's start up to `stop` ([`NO_STOP`]: to the end).
    pub(super) fn first(reader: R, stop: Stop) -> Part<R> {
        Part::read(Scanner::streamed(reader), None, stop)
    }

    /// Reads a later part, from a start [`part_start`] found, up to `stop`, its offset from this
    /// part's start.
    pub(super) fn continuing(reader: R, start: PartStart, stop: Stop) -> Part<R> {
        Part::read(Scanner::streamed(reader), Some(start), stop)
    }

    fn read(scanner: Scanner<'static, R>, start: Option<PartStart>, stop: Stop) -> Part<R> {
        let (mut scanner, mut state) = match start {
            Some(start) => (scanner.within(start.open_names()), State::continuing(start)),
            None => (scanner, State::default()),
        };
        let reached = read::<R, true>(&mut scanner, &mut state, stop);
        Part {
            scanner,
            state,
            start,
            reached,
        }
    }

    /// Whether `next`'s reading can take the place of this part's reading on: this part stopped
    /// where `next` starts, `next` read without error, and nothing it read depended on what only
    /// this part knew. A test of `next` in the suite it started inside that has the key of one
    /// this part indexed could be its retry, folded into it by one reading: `next` is then not
    /// used (keys collide rarely; a test that could be a retry is what matters).
    fn can_continue_with(&self, next: &Part<R>) -> bool {
        if !matches!(self.reached, Ok(Reached::Stop))
            || next.reached.is_err()
            || next.state.unjoinable
        {
            return false;
        }
        let Some(open) = self.state.suites.first() else {
            return true;
        };
        !next
            .state
            .placeholder_cases()
            .iter()
            .any(|case| open.seen.contains_key(&key_hash(case, case_file(case))))
    }

    /// Takes `next`'s reading in place of reading on: this part stopped where `next` starts
    /// ([`Part::can_continue_with`]).
    fn continue_with(&mut self, mut next: Part<R>) {
        let lines_before = next.scanner.follow(&self.scanner);
        let mut mine = std::mem::take(&mut self.state);
        let mut theirs = next.state;
        for diagnostic in &mut theirs.diagnostics {
            if let Some(line) = diagnostic.line.as_mut() {
                *line += lines_before;
            }
        }
        mine.diagnostics.append(&mut theirs.diagnostics);
        theirs.diagnostics = std::mem::take(&mut mine.diagnostics);
        // The suite this part has open, which `next` began inside: `next`'s cases of it join it,
        // and where `next` closed it, it closes here, with this part's name and time.
        if let Some(mut open) = mine.suites.pop() {
            match theirs.suites.first().is_some_and(|s| s.placeholder) {
                true => {
                    open.absorb(theirs.suites.remove(0));
                    theirs.suites.insert(0, open);
                }
                false => {
                    let (placeholder, time) = theirs.take_closed_placeholder();
                    open.absorb_closed(placeholder, time);
                    mine.suites.push(open);
                    mine.close_suite();
                    if next.start == Some(PartStart::Case { under_run: false }) {
                        // The suite was the root: the run ended with it, in both parts.
                        mine.finish_run();
                        if !theirs.runs.is_empty() {
                            theirs.runs.remove(0);
                        }
                    }
                }
            }
        }
        // `next` began with an empty, unnamed run for the one this part has open (if it still
        // has it open): what `next` read into that run joins this part's. It finished that run
        // first if it finished any.
        if let Some(mut run) = mine.run.take() {
            if theirs.runs.is_empty() {
                if let Some(continued) = theirs.run.take() {
                    run.top_level_time += continued.top_level_time;
                    run.suites.extend(continued.suites);
                }
                theirs.run = Some(run);
            } else {
                let continued = theirs.runs.remove(0);
                // An unnamed run without a `time` declares its top-level suites' time.
                run.top_level_time += continued.declared_duration.unwrap_or_default();
                run.suites.extend(continued.suites);
                mine.runs.push(run.finish());
            }
        }
        mine.runs.append(&mut theirs.runs);
        theirs.runs = mine.runs;
        self.state = theirs;
        self.scanner = next.scanner;
        // The last line was counted before the lines before this part were known.
        self.reached = next.reached.map(|reached| match reached {
            Reached::End(line) => Reached::End(line + lines_before),
            Reached::Stop => Reached::Stop,
        });
    }
}

/// The reports of a file read in parts: `first`, then `rest` in the file's order, each starting
/// where the one before it stops.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn join<R: BufRead>(
    first: Part<R>,
    rest: impl IntoIterator<Item = Part<R>>,
) -> Result<Parsed, ParseError> {
    let mut whole = first;
    for next in rest {
        // A part that read to its end or failed has read all that followed; a next part that
        // cannot be used is read again by this one, so that the result (an error included) is
        // what one reading gives.
        if !whole.can_continue_with(&next) {
            break;
        }
        whole.continue_with(next);
    }
    if matches!(whole.reached, Ok(Reached::Stop)) {
        whole.reached = read::<R, false>(&mut whole.scanner, &mut whole.state, NO_STOP);
    }
    match whole.reached? {
        Reached::End(last_line) => finish(&whole.scanner, whole.state, last_line),
        Reached::Stop => Err(not_junit()),
    }
}

/// Where a later part of a JUnit file may start in `bytes`, read from somewhere in the file, and
/// how: right after a `>` followed only by white space and a `<testsuite` start tag, directly
/// inside a `<testsuites>` root (`under_run`); failing that, or in a file whose root is a
/// `<testsuite>`, the same before a `<testcase` start tag. Where it looks so but is not (inside
/// a comment, say), the part before never stops there.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn part_start(bytes: &[u8], under_run: bool) -> Option<(usize, PartStart)> {
    let suite = under_run
        .then(|| after_markup_before(bytes, b"<testsuite"))
        .flatten()
        .map(|at| (at, PartStart::Suite));
    suite.or_else(|| {
        after_markup_before(bytes, b"<testcase").map(|at| (at, PartStart::Case { under_run }))
    })
}

/// The offset right after the first `>` in `bytes` followed only by white space and the start
/// tag `tag` (the name, then white space, `/` or `>`).
#[cfg(not(target_arch = "wasm32"))]
fn after_markup_before(bytes: &[u8], tag: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&bytes[from..], tag) {
        let at = from + i;
        from = at + tag.len();
        if !matches!(
            bytes.get(from),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
        ) {
            continue;
        }
        let before = bytes[..at]
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        if let Some(gt) = before.filter(|&gt| bytes[gt] == b'>') {
            return Some(gt + 1);
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProblemKind {
    Failure,
    Error,
    Skipped,
    /// Surefire `flakyFailure`/`flakyError`: an earlier attempt of a test that then passed.
    Flaky,
    /// Surefire `rerunFailure`/`rerunError`: an earlier attempt of a test that failed in the end.
    Rerun,
}

#[derive(Debug)]
struct ProblemBuilder {
    kind: ProblemKind,
    message: Option<String>,
    kind_attr: Option<String>,
    body: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

#[derive(Debug)]
enum FrameKind {
    /// `<testsuites>`.
    Run,
    Suite,
    Case,
    Problem,
    Output(Stream),
    Property {
        name: String,
        value: Text,
    },
    /// An element whose text nobody wants (`<system-out>` inside a flaky attempt).
    Ignored,
    Other,
}

#[derive(Debug, Clone, Copy)]
enum TextTarget {
    Problem,
    Output(Stream),
    Property,
}

#[derive(Debug)]
struct Frame {
    /// The suite a bare `<testcase>` root gets, which closes with it (no element of its own).
    implicit: bool,
    kind: FrameKind,
    /// Where text goes while this is the innermost element: its own target, or for an element
    /// nobody reads ([`FrameKind::Other`]) its parent's.
    text: Option<TextTarget>,
}

#[derive(Debug, Default)]
struct RunBuilder {
    name: Option<String>,
    declared: Option<Duration>,
    top_level_time: Duration,
    suites: Vec<Suite>,
}

impl RunBuilder {
    fn finish(self) -> TestRun {
        TestRun {
            name: self.name,
            declared_duration: Some(self.declared.unwrap_or(self.top_level_time)),
            suites: self.suites,
        }
    }
}

#[derive(Debug, Default)]
struct SuiteBuilder {
    suite: Suite,
    /// Time of this suite's cases including nested suites', for suites without a `time`.
    case_time: Duration,
    seen: HashMap<u64, usize, BuildHasherDefault<KeyHasher>>,
    /// The names of the cases in `seen`: a passed case whose name it has not seen cannot be a
    /// later attempt of any of them, and needs neither a key nor a lookup.
    seen_names: NameFilter,
    /// The suite's `tests` attribute, capped: room for its cases is made once, at the first.
    declared_tests: usize,
    /// The suite a later part of a file starts inside ([`PartStart::Case`], [`State::continuing`]),
    /// of which it knows nothing but its cases: they join the part before's suite
    /// ([`SuiteBuilder::absorb`]).
    placeholder: bool,
}

impl SuiteBuilder {
    /// Takes the cases a later part read into its placeholder for this suite, which it had left
    /// open, as if this suite had read them: they follow this suite's, and stay in its index.
    #[cfg(not(target_arch = "wasm32"))]
    fn absorb(&mut self, later: SuiteBuilder) {
        let offset = self.suite.cases.len();
        self.seen
            .extend(later.seen.into_iter().map(|(key, i)| (key, i + offset)));
        for (word, theirs) in self.seen_names.0.iter_mut().zip(later.seen_names.0) {
            *word |= theirs;
        }
        self.absorb_closed(later.suite, later.case_time);
    }

    /// The same for a placeholder the later part closed (no later case can be a retry then),
    /// with its cases' `time`.
    #[cfg(not(target_arch = "wasm32"))]
    fn absorb_closed(&mut self, later: Suite, case_time: Duration) {
        self.case_time += case_time;
        for case in later.cases {
            self.suite.push_case(case);
        }
        self.suite.properties.extend(later.properties);
    }
}

/// Most cases a suite's `tests` attribute makes room for up front (72 bytes each). Larger suites
/// grow from there; a file that lies costs this much per open suite until the suite closes.
const MAX_PRESIZED_CASES: usize = 1024;

/// The open `<testcase>`, built in place: [`State`] holds one, refilled for every case. Moved in
/// and out of an `Option` per case instead, its 150 bytes were two `memcpy` calls a case.
#[derive(Debug)]
struct CaseBuilder {
    case: Case,
    file: Option<String>,
    line: Option<u32>,
    disabled: bool,
    problems: Vec<(ProblemKind, Problem)>,
    /// The line of the `<testcase>` tag, counted only for a case that may end up unnamed.
    tag_line: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    runs: Vec<TestRun>,
    run: Option<RunBuilder>,
    suites: Vec<SuiteBuilder>,
    /// The open case, when `in_case`.
    case: CaseBuilder,
    in_case: bool,
    problem: Option<ProblemBuilder>,
    stack: Vec<Frame>,
    diagnostics: Vec<Diagnostic>,
    /// The open case's `<system-out>` and `<system-err>` text.
    outputs: CaseOutputs,
    /// A later part's reading that depended on the suite it started inside beyond adding cases
    /// to it ([`SuiteBuilder::placeholder`]): the part before reads on instead.
    unjoinable: bool,
    /// The `time` of the placeholder suite's cases, once a later part closed it.
    placeholder_time: Option<Duration>,
}

/// The open case's output, one buffer per stream serving every case. Nearly every case of some
/// reports has output, which is dropped when the case passes: the buffers are then emptied for
/// the next case rather than handed over. (A buffer per case was an allocation, its growth and its
/// release; then a list of spare buffers, whose moves in and out took the parse 1.2 % more
/// instructions.)
#[derive(Debug)]
struct CaseOutputs([Text; 2]);

impl Default for CaseOutputs {
    fn default() -> CaseOutputs {
        CaseOutputs([
            Text::with_cap(MAX_OUTPUT_BYTES),
            Text::with_cap(MAX_OUTPUT_BYTES),
        ])
    }
}

impl CaseOutputs {
    fn push(&mut self, stream: Stream, s: &str) {
        let [out, err] = &mut self.0;
        match stream {
            Stream::Out => out.push(s),
            Stream::Err => err.push(s),
        }
    }

    /// Forgets the text, keeping the buffers.
    fn clear(&mut self) {
        for text in &mut self.0 {
            text.clear();
        }
    }

    /// The text of both streams, finished; the buffers that held any are handed over with it.
    fn take(&mut self) -> [Option<String>; 2] {
        self.0.each_mut().map(|text| {
            if text.is_empty() {
                return None;
            }
            std::mem::replace(text, Text::with_cap(MAX_OUTPUT_BYTES)).finish()
        })
    }
}

/// A fast hasher for the retry keys (eight bytes a step, FxHash's constant): SipHash took a
/// twentieth of the reader's instructions. A collision only makes two tests look alike to the
/// map; [`is_attempt_of`] compares them in full before folding.
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let chunks = bytes.chunks_exact(8);
        let tail = chunks.remainder();
        for chunk in chunks {
            self.mix(word::load(chunk));
        }
        // The last few bytes, zero-padded.
        if !tail.is_empty() {
            self.mix(word::load(tail));
        }
    }

    // A string's end marker and an option's discriminant, mixed as they are rather than as
    // slices of one byte or eight.
    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of names that may answer "maybe" for a name it was not given, never "no" for one it was
/// (a Bloom filter of one hash over 256 bits). Once a suite has a failed test, every later test of
/// the suite looked itself up among the earlier ones: hashing its names alone was 2 % of the
/// action's parse and summary in wasm, and the parse took 1.4 % more instructions (issue 12).
#[derive(Debug, Default)]
struct NameFilter([u64; 4]);

impl NameFilter {
    /// The name's bit: its length and first and last eight bytes, mixed. Names of eight bytes
    /// or more are read as two fixed eight-byte words (a load of a length the compiler cannot
    /// know is a `memcpy` call natively, a `memory.copy` in wasm); a shorter one is one word.
    fn bit(name: &str) -> (usize, u64) {
        let bytes = name.as_bytes();
        let (first, last) = match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            (Some(first), Some(last)) => (u64::from_le_bytes(*first), u64::from_le_bytes(*last)),
            _ => (word::load(bytes), 0),
        };
        let mixed =
            (bytes.len() as u64 ^ first ^ last.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let bit = (mixed >> 56) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    fn insert(&mut self, name: &str) {
        let (word, mask) = Self::bit(name);
        if let Some(w) = self.0.get_mut(word) {
            *w |= mask;
        }
    }

    fn may_contain(&self, name: &str) -> bool {
        let (word, mask) = Self::bit(name);
        self.0.get(word).is_some_and(|w| w & mask != 0)
    }
}

/// The file a case names, a part of its retry key.
fn case_file(case: &Case) -> Option<&str> {
    case.location().map(|l| l.file.as_str())
}

fn key_hash(case: &Case, file: Option<&str>) -> u64 {
    let mut h = KeyHasher::default();
    case.classname.hash(&mut h);
    case.name.hash(&mut h);
    file.hash(&mut h);
    h.finish()
}

impl State {
    fn open(&mut self, e: &Tag<'_>) -> Result<(), ParseError> {
        if self.stack.len() >= super::junit::MAX_DEPTH {
            return Err(ParseError {
                kind: ParseErrorKind::Unsupported,
                line: Some(e.line()),
                message: format!("elements nested deeper than {MAX_DEPTH} levels"),
            });
        }
        let name = e.local_name();
        let in_case = self.in_case;
        let in_problem = self.problem.is_some();
        let kind = match name {
            // The tags every case repeats first: each arm before them is a comparison more.
            "testcase" if !in_case => {
                let mut attrs = Default::default();
                e.named(CaseBuilder::ATTRIBUTES, &mut attrs)?;
                if self.suites.is_empty() {
                    self.open_suite(None, None, None, None);
                    // A bare <testcase> root: its implicit suite closes with it.
                    self.stack.push(Frame {
                        implicit: true,
                        kind: FrameKind::Suite,
                        text: None,
                    });
                }
                let previous = self
                    .suites
                    .last()
                    .and_then(|s| s.suite.cases.last())
                    .and_then(|c| c.classname.as_ref());
                let case = &mut self.case;
                case.start(attrs, previous);
                // The line goes into the warning about a test without a name, and only there.
                if case.case.name.is_empty() || case.case.name == UNNAMED_TEST {
                    case.tag_line = Some(e.line());
                }
                self.in_case = true;
                FrameKind::Case
            }
            "system-out" | "system-err" if in_problem => FrameKind::Ignored,
            "system-out" | "system-err" if self.stack_top_is_case_or_suite() => {
                let stream = if name == "system-out" {
                    Stream::Out
                } else {
                    Stream::Err
                };
                FrameKind::Output(stream)
            }
            "testsuites" if self.stack.is_empty() => {
                let mut attrs = e.attributes()?;
                self.run = Some(RunBuilder {
                    name: take(&mut attrs, "name").map(Cow::into_owned),
                    declared: take(&mut attrs, "time").and_then(|t| parse_seconds(&t)),
                    ..RunBuilder::default()
                });
                FrameKind::Run
            }
            "testsuite" | "testsuites" if !in_case => {
                let mut attrs = e.attributes()?;
                self.open_suite(
                    take(&mut attrs, "name"),
                    take(&mut attrs, "time").and_then(|t| parse_seconds(&t)),
                    take(&mut attrs, "timestamp").map(Cow::into_owned),
                    take(&mut attrs, "tests").and_then(|n| n.trim().parse().ok()),
                );
                FrameKind::Suite
            }
            _ if self.stack.is_empty() => {
                return Err(ParseError {
                    kind: ParseErrorKind::Unsupported,
                    line: Some(e.line()),
                    message: format!(
                    "root element <{name}> is not JUnit XML (expected <testsuites> or <testsuite>)"
                ),
                })
            }
            "failure" | "error" | "skipped" | "flakyFailure" | "flakyError" | "rerunFailure"
            | "rerunError"
                if in_case && !in_problem =>
            {
                let mut attrs = e.attributes()?;
                let kind = match name {
                    "failure" => ProblemKind::Failure,
                    "error" => ProblemKind::Error,
                    "skipped" => ProblemKind::Skipped,
                    "flakyFailure" | "flakyError" => ProblemKind::Flaky,
                    _ => ProblemKind::Rerun,
                };
                if let Some(case) = self.open_case() {
                    // Catch2 and some C harnesses put file/line on the failure element.
                    if case.file.is_none() {
                        case.file = take(&mut attrs, "file").map(Cow::into_owned);
                        case.line = take(&mut attrs, "line").and_then(|l| l.trim().parse().ok());
                    }
                }
                self.problem = Some(ProblemBuilder {
                    kind,
                    message: clean_attr(take(&mut attrs, "message"), MAX_MESSAGE_BYTES),
                    kind_attr: clean_attr(take(&mut attrs, "type"), MAX_MESSAGE_BYTES),
                    body: Text::with_cap(MAX_TRACE_BYTES),
                });
                FrameKind::Problem
            }
            "property" if !in_problem => {
                let mut attrs = e.attributes()?;
                let mut value = Text::with_cap(MAX_MESSAGE_BYTES);
                if let Some(v) = take(&mut attrs, "value") {
                    value.push(&v);
                }
                FrameKind::Property {
                    name: take(&mut attrs, "name")
                        .map(Cow::into_owned)
                        .unwrap_or_default(),
                    value,
                }
            }
            _ => FrameKind::Other,
        };
        let text = match &kind {
            FrameKind::Other => self.text_target(),
            FrameKind::Problem => Some(TextTarget::Problem),
            FrameKind::Output(stream) => Some(TextTarget::Output(*stream)),
            FrameKind::Property { .. } => Some(TextTarget::Property),
            FrameKind::Run | FrameKind::Suite | FrameKind::Case | FrameKind::Ignored => None,
        };
        self.stack.push(Frame {
            implicit: false,
            kind,
            text,
        });
        Ok(())
    }

    /// The state a later part starts in: inside what `start` takes as open, in an unnamed run
    /// and, at a case, a placeholder suite ([`Part::continue_with`] makes them the part before's).
    #[cfg(not(target_arch = "wasm32"))]
    fn continuing(start: PartStart) -> State {
        let names = start.open_names();
        let stack = names
            .iter()
            .map(|&name| Frame {
                implicit: false,
                kind: match name {
                    RUN_ELEMENT => FrameKind::Run,
                    _ => FrameKind::Suite,
                },
                text: None,
            })
            .collect();
        let suites = names
            .iter()
            .filter(|&&name| name != RUN_ELEMENT)
            .map(|_| SuiteBuilder {
                placeholder: true,
                ..SuiteBuilder::default()
            })
            .collect();
        State {
            run: Some(RunBuilder::default()),
            stack,
            suites,
            ..State::default()
        }
    }

    /// Whether a part starting here as `next` does could read on in this one's place
    /// ([`State::continuing`]): exactly what it takes as open is, and nothing inside it.
    fn can_be_continued(&self, next: PartStart) -> bool {
        let names = next.open_names();
        let suites = names.iter().filter(|&&name| name != RUN_ELEMENT).count();
        self.stack.len() == names.len()
            && self.stack.iter().zip(names).all(|(frame, &name)| {
                !frame.implicit
                    && match frame.kind {
                        FrameKind::Run => name == RUN_ELEMENT,
                        FrameKind::Suite => name != RUN_ELEMENT,
                        _ => false,
                    }
            })
            && self.suites.len() == suites
            && !self.in_case
            && self.problem.is_none()
            && self.run.is_some()
    }

    /// The cases of the placeholder suite a later part started inside, open or closed: a closed
    /// one is the first suite of its first run (a nested suite made the part unjoinable).
    #[cfg(not(target_arch = "wasm32"))]
    fn placeholder_cases(&self) -> &[Case] {
        if let Some(open) = self.suites.first().filter(|s| s.placeholder) {
            return &open.suite.cases;
        }
        if self.placeholder_time.is_none() {
            return &[];
        }
        let suites = match (self.runs.first(), self.run.as_ref()) {
            (Some(run), _) => &run.suites,
            (None, Some(run)) => &run.suites,
            (None, None) => return &[],
        };
        suites.first().map_or(&[], |s| &s.cases)
    }

    /// Takes the placeholder suite out of the run it was closed into, with its cases' time,
    /// which its run's time then no longer counts.
    #[cfg(not(target_arch = "wasm32"))]
    fn take_closed_placeholder(&mut self) -> (Suite, Duration) {
        let time = self.placeholder_time.take().unwrap_or_default();
        let first = |suites: &mut Vec<Suite>| match suites.is_empty() {
            true => Suite::default(),
            false => suites.remove(0),
        };
        let suite = if let Some(run) = self.runs.first_mut() {
            run.declared_duration = run.declared_duration.map(|d| d.saturating_sub(time));
            first(&mut run.suites)
        } else if let Some(run) = self.run.as_mut() {
            run.top_level_time = run.top_level_time.saturating_sub(time);
            first(&mut run.suites)
        } else {
            Suite::default()
        };
        (suite, time)
    }

    /// Where text at the current position goes; `None`: nowhere.
    fn text_target(&self) -> Option<TextTarget> {
        self.stack.last().and_then(|frame| frame.text)
    }

    fn stack_top_is_case_or_suite(&self) -> bool {
        matches!(
            self.stack.last().map(|f| &f.kind),
            Some(FrameKind::Case | FrameKind::Suite)
        )
    }

    fn open_suite(
        &mut self,
        name: Option<Cow<'_, str>>,
        time: Option<Duration>,
        timestamp: Option<String>,
        declared_tests: Option<usize>,
    ) {
        if self.run.is_none() {
            self.run = Some(RunBuilder::default());
        }
        // A suite nested in a placeholder is named after a suite this part does not know.
        self.unjoinable |= self.suites.first().is_some_and(|s| s.placeholder);
        let own = name.map(clean_text).unwrap_or_default();
        let full = match self.suites.last() {
            Some(parent) if !parent.suite.name.is_empty() && !own.is_empty() => {
                format!("{}{SUITE_PATH_SEPARATOR}{own}", parent.suite.name)
            }
            Some(parent) if own.is_empty() => parent.suite.name.clone(),
            _ => own,
        };
        self.suites.push(SuiteBuilder {
            suite: Suite {
                name: full,
                duration: time,
                timestamp,
                ..Suite::default()
            },
            case_time: Duration::ZERO,
            seen: HashMap::default(),
            seen_names: NameFilter::default(),
            declared_tests: declared_tests.unwrap_or(0).min(MAX_PRESIZED_CASES),
            placeholder: false,
        });
    }

    fn text(&mut self, s: &str) {
        match self.text_target() {
            Some(TextTarget::Problem) => {
                if let Some(p) = self.problem.as_mut() {
                    p.body.push(s);
                }
            }
            Some(TextTarget::Output(stream)) => {
                if self.in_case {
                    self.outputs.push(stream, s);
                } else {
                    self.suite_text(stream, s);
                }
            }
            Some(TextTarget::Property) => {
                if let Some(Frame {
                    kind: FrameKind::Property { value, .. },
                    ..
                }) = self.stack.last_mut()
                {
                    value.push(s);
                }
            }
            None => {}
        }
    }

    fn suite_text(&mut self, stream: Stream, s: &str) {
        // A placeholder's output would follow output of its suite this part does not know.
        self.unjoinable |= self.suites.last().is_some_and(|s| s.placeholder);
        if let Some(suite) = self.suites.last_mut() {
            let target = match stream {
                Stream::Out => &mut suite.suite.stdout,
                Stream::Err => &mut suite.suite.stderr,
            };
            let mut text = Text::with_cap(MAX_OUTPUT_BYTES);
            text.push(target.as_deref().unwrap_or(""));
            text.push(s);
            *target = Some(text.into_kept());
        }
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        match frame.kind {
            FrameKind::Run => self.finish_run(),
            FrameKind::Suite => self.close_suite(),
            FrameKind::Case => {
                self.close_case();
                // The implicit suite around a bare <testcase> closes with it.
                if self.stack.last().is_some_and(|f| f.implicit) {
                    self.stack.pop();
                    self.close_suite();
                }
            }
            FrameKind::Problem => {
                if let (Some(p), Some(case)) = (self.problem.take(), self.open_case()) {
                    let problem = Problem {
                        message: p.message,
                        kind: p.kind_attr,
                        trace: p.body.finish(),
                    };
                    case.problems.push((p.kind, problem));
                }
            }
            FrameKind::Property { name, value } => {
                let value = value.finish().unwrap_or_default();
                if let Some(case) = self.open_case() {
                    case.case.details_mut().properties.push((name, value));
                } else if let Some(suite) = self.suites.last_mut() {
                    suite.suite.properties.push((name, value));
                }
            }
            FrameKind::Output(_) | FrameKind::Ignored | FrameKind::Other => {}
        }
        if self.stack.is_empty() {
            self.finish_run();
        }
    }

    fn close_suite(&mut self) {
        let Some(mut builder) = self.suites.pop() else {
            return;
        };
        if builder.placeholder {
            self.placeholder_time = Some(builder.case_time);
        }
        if let Some(out) = builder.suite.stdout.take() {
            builder.suite.stdout = Some(clean_text(out));
        }
        if let Some(err) = builder.suite.stderr.take() {
            builder.suite.stderr = Some(clean_text(err));
        }
        let own_time = builder.suite.duration.unwrap_or(builder.case_time);
        match self.suites.last_mut() {
            Some(parent) => parent.case_time += builder.case_time,
            None => {
                if let Some(run) = self.run.as_mut() {
                    run.top_level_time += own_time;
                }
            }
        }
        if let Some(run) = self.run.as_mut() {
            // A closed suite takes no more cases: its doubling room is given back (issue 12).
            builder.suite.cases.shrink_to_fit();
            run.suites.push(builder.suite);
        }
    }

    /// The open case, if any.
    fn open_case(&mut self) -> Option<&mut CaseBuilder> {
        self.in_case.then_some(&mut self.case)
    }

    fn close_case(&mut self) {
        if !std::mem::take(&mut self.in_case) {
            return;
        }
        let line = self.case.tag_line;
        let case = self.case.finish(&mut self.outputs);
        if case.name == UNNAMED_TEST {
            let warning = Diagnostic::warning(format!(
                "a <testcase> has neither name nor classname; it is counted as '{UNNAMED_TEST}'"
            ));
            self.diagnostics.push(match line {
                Some(line) => warning.at_line(line),
                None => warning,
            });
        }
        let Some(suite) = self.suites.last_mut() else {
            return;
        };
        suite.case_time += case.duration.unwrap_or_default();
        // A test that passed and names no file is never an earlier attempt ([`is_attempt_of`]):
        // not indexing it keeps a suite of passing tests small, and while the suite has indexed
        // no test of its name, such a test needs no key at all.
        let can_be_retried = case.location().is_some()
            || !matches!(case.status, Status::Passed | Status::Flaky { .. });
        let key = (can_be_retried || suite.seen_names.may_contain(&case.name))
            .then(|| key_hash(&case, case_file(&case)));
        match key.and_then(|key| suite.seen.get(&key).copied()) {
            Some(i)
                if suite
                    .suite
                    .cases
                    .get(i)
                    .is_some_and(|c| is_attempt_of(c, &case)) =>
            {
                if let Some(existing) = suite.suite.cases.get_mut(i) {
                    fold_attempt(existing, case);
                }
            }
            _ => {
                if let (true, Some(key)) = (can_be_retried, key) {
                    suite.seen.insert(key, suite.suite.cases.len());
                    suite.seen_names.insert(&case.name);
                }
                if suite.suite.cases.capacity() == 0 {
                    // Growing by doubling copied each suite's cases about twice over.
                    suite.suite.cases.reserve_exact(suite.declared_tests);
                }
                suite.suite.push_case(case);
            }
        }
    }

    fn finish_run(&mut self) {
        // Suites left open by a bare <testcase> root are closed by their own frames first.
        if let Some(run) = self.run.take() {
            self.runs.push(run.finish());
        }
    }
}

impl Default for CaseBuilder {
    fn default() -> CaseBuilder {
        CaseBuilder {
            case: Case::new(String::new(), Status::Passed),
            file: None,
            line: None,
            disabled: false,
            problems: Vec::new(),
            tag_line: None,
        }
    }
}

impl CaseBuilder {
    /// The `<testcase>` attributes read, in the order [`CaseBuilder::start`] takes them.
    const ATTRIBUTES: [&'static str; 7] = [
        "name",
        "classname",
        "status",
        "result",
        "time",
        "file",
        "line",
    ];

    /// Starts the next case from its attributes, every field set again. `previous` is the
    /// classname of the suite's last case: the next case nearly always repeats it, and then
    /// shares it instead of cleaning and allocating its own copy.
    fn start(&mut self, attrs: [Option<Cow<'_, str>>; 7], previous: Option<&Arc<str>>) {
        let [name, classname, status, result, time, file, line] = attrs;
        let name = name.map(clean_text);
        // Clean text cleans to itself, so the raw value equal to the previous cleaned one is it.
        let classname = classname.map(|raw| match previous {
            Some(previous) if word::same(previous.as_bytes(), raw.as_bytes()) => {
                Arc::clone(previous)
            }
            _ => Arc::from(clean_text(raw)),
        });
        let disabled = [status, result].iter().flatten().any(|s| {
            ["disabled", "skipped", "notrun", "ignored", "suppressed"]
                .iter()
                .any(|word| s.trim().eq_ignore_ascii_case(word))
        });
        let mut case = Case::new(name.unwrap_or_default(), Status::Passed);
        case.classname = classname;
        case.duration = time.and_then(|t| parse_seconds(&t));
        self.case = case;
        self.file = file.map(Cow::into_owned);
        self.line = line.and_then(|l| l.trim().parse().ok());
        self.disabled = disabled;
        self.problems.clear();
        self.tag_line = None;
    }

    /// The case, with the output in `outputs` when it did not pass; `outputs` is left empty, and
    /// the builder holds an empty case until the next [`CaseBuilder::start`].
    fn finish(&mut self, outputs: &mut CaseOutputs) -> Case {
        let mut case = std::mem::replace(&mut self.case, Case::new(String::new(), Status::Passed));
        if case.name.is_empty() {
            case.name = case
                .classname
                .as_deref()
                .map_or_else(|| UNNAMED_TEST.to_owned(), str::to_owned);
        }
        let has = |k: ProblemKind| self.problems.iter().any(|(kind, _)| *kind == k);
        let flaky_attempts = self
            .problems
            .iter()
            .filter(|(k, _)| *k == ProblemKind::Flaky)
            .count();
        case.status = if self.disabled {
            Status::Skipped
        } else if has(ProblemKind::Error) {
            Status::Errored
        } else if has(ProblemKind::Failure) {
            Status::Failed
        } else if has(ProblemKind::Skipped) {
            Status::Skipped
        } else if flaky_attempts > 0 {
            Status::Flaky {
                attempts: u32::try_from(flaky_attempts + 1).unwrap_or(u32::MAX),
            }
        } else {
            Status::Passed
        };
        let bare = self.problems.is_empty() && self.file.is_none() && !case.has_details();
        if bare && case.status == Status::Passed {
            // Most cases: nothing to attach.
            outputs.clear();
            return case;
        }
        let current: &[ProblemKind] = match case.status {
            Status::Failed | Status::Errored => &[ProblemKind::Failure, ProblemKind::Error],
            Status::Skipped => &[ProblemKind::Skipped],
            _ => &[],
        };
        let mut details = case.take_details();
        for (kind, problem) in self.problems.drain(..) {
            if current.contains(&kind) {
                details.problems.push(problem);
            } else if matches!(kind, ProblemKind::Flaky | ProblemKind::Rerun) {
                details.retries.push(problem);
            }
        }
        if case.status == Status::Passed {
            outputs.clear();
        } else {
            [details.stdout, details.stderr] = outputs.take();
        }
        details.location = self.file.take().map(|file| Location {
            file: clean_text(file),
            line: self.line,
        });
        case.set_details(details);
        case
    }
}

/// Whether `next` is another attempt of `earlier` rather than a distinct test sharing its name.
/// With a file named, classname + name + file identify one test definition. Without it, names
/// repeat legitimately (TestNG data providers, `jest.each`), so only a run after a failed or
/// skipped attempt is a retry: nobody reruns a passing test, and two skips are two tests.
fn is_attempt_of(earlier: &Case, next: &Case) -> bool {
    let file = |c: &Case| c.location().map(|l| l.file.clone());
    // Two tests may share a name in one file (Dart, Flutter); their lines tell them apart.
    let line = |c: &Case| c.location().and_then(|l| l.line);
    let lines_differ = matches!((line(earlier), line(next)), (Some(a), Some(b)) if a != b);
    let same = earlier.name == next.name
        && earlier.classname == next.classname
        && file(earlier) == file(next)
        && !lines_differ;
    // TestNG's retry analyzer reports the failed attempts it retries as skipped.
    let retried = match earlier.status {
        Status::Failed | Status::Errored => true,
        Status::Skipped => next.status != Status::Skipped,
        Status::Passed | Status::Flaky { .. } => false,
    };
    let anonymous = next.name == UNNAMED_TEST && next.classname.is_none();
    same && !anonymous && (file(earlier).is_some() || retried)
}

fn attempts(case: &Case) -> u32 {
    match case.status {
        Status::Flaky { attempts } => attempts,
        _ => 1 + u32::try_from(case.retries().len()).unwrap_or(u32::MAX - 1),
    }
}

/// Folds a later attempt of the same test into the case built so far.
pub(super) fn fold_attempt(existing: &mut Case, next: Case) {
    let ran = |s: Status| s != Status::Skipped;
    if !ran(next.status) {
        return;
    }
    if !ran(existing.status) {
        *existing = next;
        return;
    }
    let passed = |s: Status| matches!(s, Status::Passed | Status::Flaky { .. });
    let failed = |s: Status| matches!(s, Status::Failed | Status::Errored | Status::Flaky { .. });
    let total = attempts(existing).saturating_add(attempts(&next));
    existing.duration = match (existing.duration, next.duration) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    let mut mine = existing.take_details();
    let mut earlier = std::mem::take(&mut mine.retries);
    if failed(existing.status) && !matches!(existing.status, Status::Flaky { .. }) {
        earlier.append(&mut mine.problems);
    }
    let any_pass = passed(existing.status) || passed(next.status);
    let any_fail = failed(existing.status) || failed(next.status);
    let next_status = next.status;
    let mut theirs = { next }.take_details();
    earlier.append(&mut theirs.retries);
    if any_pass && any_fail {
        if failed(next_status) && !matches!(next_status, Status::Flaky { .. }) {
            earlier.append(&mut theirs.problems);
        }
        existing.status = Status::Flaky { attempts: total };
        mine.problems.clear();
        mine.stdout = mine.stdout.take().or(theirs.stdout);
        mine.stderr = mine.stderr.take().or(theirs.stderr);
    } else if any_fail {
        existing.status = next_status;
        mine.problems = theirs.problems;
        mine.stdout = theirs.stdout.or(mine.stdout.take());
        mine.stderr = theirs.stderr.or(mine.stderr.take());
    } else {
        existing.status = Status::Passed;
    }
    mine.retries = earlier;
    existing.set_details(mine);
}

#[cfg(test)]
mod tests;

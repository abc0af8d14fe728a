//! The byte source under every streaming parser: counts lines for error messages and bounds how
//! much a single XML event may buffer.
//!
//! quick-xml's buffered reader collects one whole tag or text run before returning it, so a file
//! that is one 1 GB attribute would otherwise be held in memory whole. The parser calls
//! [`Source::mark`] after each event; reading more than [`MAX_EVENT_BYTES`] past the mark fails
//! with an I/O error of kind [`EventTooLarge`], which the parser turns into a clear message.

use std::io::{self, BufRead, Read};

/// Largest single tag or text run we buffer. Surefire writes a test's whole output as one text
/// run and real reports carry tens of MB there (EnricoMi#399: libxml2's 10 MB cap broke users),
/// so the bound is generous; past it memory would follow the file instead of the tests kept.
pub const MAX_EVENT_BYTES: u64 = 64 * 1024 * 1024;

/// Marker payload of the I/O error raised when one event exceeds [`MAX_EVENT_BYTES`].
#[derive(Debug)]
pub struct EventTooLarge;

impl std::fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a single element or text run is larger than {} MiB",
            MAX_EVENT_BYTES >> 20
        )
    }
}

impl std::error::Error for EventTooLarge {}

pub struct Source<R> {
    inner: R,
    consumed: u64,
    newlines: u64,
    mark: u64,
    limit: u64,
}

impl<R: BufRead> Source<R> {
    pub fn new(inner: R) -> Source<R> {
        Source::with_limit(inner, MAX_EVENT_BYTES)
    }

    pub fn with_limit(inner: R, limit: u64) -> Source<R> {
        Source {
            inner,
            consumed: 0,
            newlines: 0,
            mark: 0,
            limit,
        }
    }

    /// Changes the size bound of one event (JSON readers bound a line or a whole document).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// Starts a new event: the size bound counts from here.
    pub fn mark(&mut self) {
        self.mark = self.consumed;
    }

    /// The 1-based line of the last byte consumed.
    pub fn line(&self) -> u64 {
        self.newlines + 1
    }
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed - self.mark > self.limit {
            return Err(io::Error::other(EventTooLarge));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The inner buffer still holds what fill_buf returned, so this re-borrow reads no input.
        if let Ok(buf) = self.inner.fill_buf() {
            let seen = &buf[..amt.min(buf.len())];
            self.newlines += seen.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_of_consumed_bytes() {
        let mut s = Source::new(&b"a\nb\nc"[..]);
        let mut out = String::new();
        s.read_line(&mut out).unwrap();
        assert_eq!(s.line(), 2);
    }

    #[test]
    fn refuses_to_buffer_past_the_limit_without_a_mark() {
        let data = [b'x'; 100];
        let mut s = Source::with_limit(&data[..], 10);
        let mut sink = Vec::new();
        let err = s.read_to_end(&mut sink).unwrap_err();
        assert!(err.get_ref().is_some_and(|e| e.is::<EventTooLarge>()));
    }
}

//! The byte source under the JSON, TAP and event-stream readers: counts lines for error messages
//! and bounds how much a single event (a JSON document or line) may buffer. The XML scanner
//! (`super::scanner`) reads its stream itself under the same bound.
//!
//! A reader that collects one whole event before parsing it would hold a file that is one 1 GB
//! line in memory whole. The reader calls [`Source::mark`] at each event; reading more than
//! [`MAX_EVENT_BYTES`] past the mark fails with an I/O error of kind [`EventTooLarge`], which the
//! reader turns into a clear message.

use std::io::{self, BufRead, Read};

use crate::word;

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
            self.newlines += count_newlines(seen);
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// The `\n` bytes in `bytes`. Every byte of every report passes through here: long runs are
/// counted by memchr (SIMD natively), short ones eight bytes at a time, where memchr's setup
/// would cost more than the bytes (wasm has no vectorized byte count either).
pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    if bytes.len() >= 256 {
        return memchr::memchr_iter(b'\n', bytes).count() as u64;
    }
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder().iter().filter(|&&b| b == b'\n').count() as u64;
    // One count per byte lane, summed across the lanes once at the end: fewer than 32 words,
    // so no lane passes 255, and no popcount per word (x86-64's baseline has no instruction).
    let lanes = chunks.fold(0u64, |lanes, chunk| {
        // A zero byte of `x` is a newline; the high bit of each zero byte is set in `zeros`, exactly
        // (no carries between bytes: the low seven bits are added apart from the high one).
        let x = word::load(chunk) ^ NEWLINES;
        let zeros = !(((x & LOW7) + LOW7) | x | LOW7);
        lanes + (zeros >> 7)
    });
    tail + (lanes.wrapping_mul(ONES) >> 56)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_newlines_like_a_plain_filter() {
        let text: Vec<u8> = (0..2000u32)
            .map(|i| match i % 7 {
                0 => b'\n',
                1 => 0x8a,
                2 => 0x0b,
                3 => 0x09,
                _ => (i % 251) as u8,
            })
            .collect();
        for start in 0..9 {
            for end in [
                start,
                start + 1,
                start + 15,
                start + 255,
                start + 256,
                1000,
                2000,
            ] {
                let slice = &text[start..end];
                let plain = slice.iter().filter(|&&b| b == b'\n').count() as u64;
                assert_eq!(count_newlines(slice), plain, "{start}..{end}");
            }
        }
    }

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

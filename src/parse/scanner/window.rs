//! The text the scanner walks: bytes already in memory, borrowed whole, or a stream's reads,
//! which land straight in the buffer the scanner walks (issue 12). Reads used to land in a scratch
//! buffer and be copied onto the end of a `String` once validated: a second copy of every byte,
//! 6 % of the JUnit parse's instructions. A `String` cannot be read into, so this buffer is bytes
//! with a validated prefix, and the crate's one `unsafe` block turns that prefix into `&str`
//! without validating it a second time.

#![allow(unsafe_code)]

use std::io::{self, Read};

/// The scanner's text.
pub(super) enum Window<'a> {
    /// A report held in memory, validated once, scanned in place.
    Borrowed(&'a str),
    /// A stream's reads.
    Stream(StreamBuffer),
}

impl Window<'_> {
    /// The text not yet dropped.
    pub(super) fn text(&self) -> &str {
        match self {
            Window::Borrowed(text) => text,
            Window::Stream(buffer) => buffer.text(),
        }
    }
}

/// A stream's bytes: `bytes[..text]` is text (valid UTF-8, checked as it was read), followed by
/// the start of a character a read cut in two (`bytes[text..end]`), waiting for its rest. The
/// bytes after `end` are room for the next read; they were zeroed once, when the buffer grew,
/// not at every read.
#[derive(Default)]
pub(super) struct StreamBuffer {
    bytes: Vec<u8>,
    text: usize,
    end: usize,
}

impl StreamBuffer {
    /// The text not yet dropped.
    pub(super) fn text(&self) -> &str {
        let text = self.bytes.get(..self.text).unwrap_or_default();
        // SAFETY: `bytes[..text]` is valid UTF-8. `text` only grows in `validate`, by bytes
        // simdutf8 has just accepted as UTF-8 that follow valid text at a character boundary
        // (UTF-8 strings concatenated are UTF-8), and only shrinks in `drop_before`, which drops
        // a prefix ending at a character boundary, leaving a suffix of valid UTF-8 that starts
        // at one. Nothing else writes to `bytes[..text]`: reads write after `end >= text`.
        unsafe { std::str::from_utf8_unchecked(text) }
    }

    /// Drops the text before `at` (rounded down to a character's start), moving the rest to the
    /// buffer's front.
    pub(super) fn drop_before(&mut self, at: usize) {
        let text = self.text();
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        self.bytes.copy_within(at..self.end, 0);
        self.text -= at;
        self.end -= at;
        self.debug_check();
    }

    /// Checks the invariant [`StreamBuffer::text`] rests on, in builds with debug assertions (tests,
    /// fuzzing) after every change to the text: once per read, not per look at the text.
    fn debug_check(&self) {
        debug_assert!(self.end <= self.bytes.len() && self.text <= self.end);
        debug_assert!(std::str::from_utf8(&self.bytes[..self.text]).is_ok());
    }

    /// Reads up to `want` bytes more after those held, in as many reads as the stream needs:
    /// whether the stream ended. On a failed read, what was read before it stays held. The
    /// room grows as reads fill it, from `first` bytes by doubling (zeroing 256 KiB for a report
    /// of a few KB was two thirds of reading thousands of them), never shrinking; a read at
    /// least as long as a `BufReader`'s buffer bypasses that buffer (std's `BufReader::read`).
    pub(super) fn read_from(
        &mut self,
        reader: &mut impl Read,
        want: usize,
        first: usize,
    ) -> io::Result<bool> {
        let goal = self.end.saturating_add(want);
        while self.end < goal {
            if self.end == self.bytes.len() {
                let grown = self.bytes.len().saturating_mul(2).max(first).min(goal);
                self.bytes.resize(grown.max(self.end + 1), 0);
            }
            let room = goal.min(self.bytes.len());
            match reader.read(&mut self.bytes[self.end..room]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Makes the bytes read since the last call text, as far as they are UTF-8. A character cut
    /// in two at the end waits for its rest unless the stream `ended`; other bytes that are not
    /// UTF-8 are dropped and returned, with everything after them, and the text before them.
    pub(super) fn validate(&mut self, ended: bool) -> Result<(), (&str, &[u8])> {
        let read = self.bytes.get(self.text..self.end).unwrap_or_default();
        match simdutf8::compat::from_utf8(read) {
            Ok(_) => {
                self.text = self.end;
                self.debug_check();
                Ok(())
            }
            Err(e) => {
                let bad_from = self.text + e.valid_up_to();
                let cut = e.error_len().is_none() && !ended;
                let bad_to = self.end;
                self.text = bad_from;
                self.debug_check();
                if cut {
                    return Ok(());
                }
                self.end = bad_from;
                let this = &*self;
                Err((
                    this.text(),
                    this.bytes.get(bad_from..bad_to).unwrap_or_default(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::StreamBuffer;

    proptest! {
        /// The invariant the `unsafe` in [`StreamBuffer::text`] rests on: whatever the bytes, the
        /// read sizes and where text is dropped, the text is what the standard library validates
        /// of the bytes read, less what was dropped, and the bytes that are not UTF-8 are the
        /// ones it reports.
        #[test]
        fn text_is_always_the_valid_utf8_read(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(0xc3u8), Just(0xa9u8), Just(0xe2u8), Just(0x82u8),
                            Just(0xacu8), Just(0xffu8), Just(b'<')],
                0..64,
            ),
            steps in proptest::collection::vec((1usize..9, 0usize..12), 1..24),
        ) {
            let mut buffer = StreamBuffer::default();
            let mut reader = &bytes[..];
            let mut dropped = 0;
            for (want, drop) in steps {
                let ended = buffer.read_from(&mut reader, want, 4).unwrap_or(true);
                let held = buffer.text().len();
                let result = buffer.validate(ended).map_err(|(text, bad)| (text.len(), bad.len()));
                let read = &bytes[..bytes.len() - reader.len()];
                let text = buffer.text();
                // What std makes of everything read, from the first byte not yet dropped on.
                let expected = match std::str::from_utf8(read) {
                    Ok(all) => all,
                    Err(e) => std::str::from_utf8(&read[..e.valid_up_to()]).unwrap_or_default(),
                };
                prop_assert_eq!(text, &expected[dropped..]);
                if let Err((kept, bad)) = result {
                    prop_assert_eq!(kept + dropped, expected.len());
                    prop_assert_eq!(bad, read.len() - expected.len());
                    break;
                }
                prop_assert!(text.len() >= held);
                let before = text.len();
                buffer.drop_before(drop.min(before));
                dropped += before - buffer.text().len();
                if ended {
                    break;
                }
            }
        }
    }
}

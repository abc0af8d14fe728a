//! Byte tests eight bytes at a time, for scans that read every byte of a report's strings where a
//! vectorized search does not pay (short strings, or wasm builds without a vector loop for them).
//!
//! The tests mark a byte by setting its high bit. They are the classic borrow tests: a borrow can
//! mark bytes above a true match, but never below one, so "any mark" and "the lowest mark" are
//! exact, while other marks are not. Words are read little-endian (byte `i` of a word is its bits
//! `8i..8i+8`), so the lowest mark is the first byte.

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// Marks bytes of `x` below `n` (`n <= 0x80`).
pub(crate) fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
}

/// Marks bytes of `x` equal to `b`.
pub(crate) fn equal(x: u64, b: u8) -> u64 {
    below(x ^ (ONES * u64::from(b)), 1)
}

/// The index of the lowest marked byte of a non-zero mask.
fn first(marks: u64) -> usize {
    (marks.trailing_zeros() / 8) as usize
}

/// The index of the first byte at or after `from` that `hit` accepts, eight bytes a step:
/// `marks` is the same test on a word, built from the tests here (so its lowest mark is exact),
/// and `hit` reads the last bytes, fewer than eight.
pub(crate) fn find(
    bytes: &[u8],
    from: usize,
    marks: impl Fn(u64) -> u64,
    hit: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut at = from;
    while let Some(eight) = bytes.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(eight);
        let found = marks(u64::from_le_bytes(word));
        if found != 0 {
            return Some(at + first(found));
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    tail.iter().position(|&b| hit(b)).map(|i| at + i)
}

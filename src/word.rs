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

/// The first eight bytes of `bytes` as a word, zero past its end: one way to read words for every
/// word-at-a-time loop (a full chunk or a string's last few bytes).
// Always inlined: most callers pass a chunk of eight, and the padding then compiles away.
#[inline(always)]
pub(crate) fn load(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word)
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
        // Not `load`: through it the parse took 0.5 % more instructions (callgrind, the
        // 20,000-case file), for a reason not found; this loop's window is always eight bytes.
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

/// Whether `a` and `b` hold the same bytes, compared a word at a time, the last word overlapping
/// the one before. For names and other short strings: `==` on slices calls `memcmp`, which in
/// wasm's compiler-builtins is a byte loop, and natively costs a call more than the comparison of
/// a few words (`memcmp` was 4.3 % of a native parse on a Zen 1 machine: about seven calls per
/// `<testcase>`, for its keys, its element name and end tags).
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        // Bytes 0, n / 2 and n - 1 are all the bytes of a string of one to three.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        _ => {
            let mut at = 0;
            while at + 8 < n {
                if word8(a, at) != word8(b, at) {
                    return false;
                }
                at += 8;
            }
            word8(a, n - 8) == word8(b, n - 8)
        }
    }
}

/// The four bytes at `at` as a word (zero past the end, which [`same`]'s callers never reach).
fn word4(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    if let Some(four) = bytes.get(at..at + 4) {
        word.copy_from_slice(four);
    }
    u32::from_le_bytes(word)
}

/// The eight bytes at `at` as a word (zero past the end, which [`same`]'s callers never reach).
fn word8(bytes: &[u8], at: usize) -> u64 {
    bytes.get(at..at + 8).map_or(0, load)
}

#[cfg(test)]
mod tests {
    use super::{load, same};

    #[test]
    fn load_reads_the_first_eight_bytes_little_endian_and_pads_with_zeros() {
        assert_eq!(load(b"abcdefgh"), u64::from_le_bytes(*b"abcdefgh"));
        assert_eq!(load(b"abcdefghij"), u64::from_le_bytes(*b"abcdefgh"));
        assert_eq!(load(b"abc"), u64::from_le_bytes(*b"abc\0\0\0\0\0"));
        assert_eq!(load(b""), 0);
    }

    #[test]
    fn same_tells_every_differing_byte_at_every_length() {
        for n in 0..=40 {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(same(&a, &a.clone()), "length {n}");
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same(&a, &b), "length {n}, byte {at} differs");
                b[at] ^= 0xa0; // a high bit: no sign or carry may hide it
                assert!(
                    !same(&a, &b),
                    "length {n}, byte {at} differs in its high bit"
                );
            }
            let mut longer = a.clone();
            longer.push(b'z');
            assert!(
                !same(&a, &longer) && !same(&longer, &a),
                "length {n} against {}",
                n + 1
            );
        }
    }
}

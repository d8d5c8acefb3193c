//! gzip bodies stitched from parts compressed once (issue 13, "compression without
//! compressing").
//!
//! A part that many bodies share (a paper's item, rendered at ingest) is compressed once into a
//! [`Precompressed`]: raw deflate ended by a full flush, so that its bytes end on a byte
//! boundary, hold no final block and refer to nothing before them, with the CRC-32 and length
//! of the bytes it holds. A [`GzipAssembler`] then writes a gzip member from a header, parts
//! written now (a feed's head and tail, which differ per feed: stored as they are when short,
//! compressed otherwise) and precompressed parts
//! copied as they are, an empty final block, and a trailer whose CRC-32 is the parts' CRC-32s
//! combined. Each precompressed part keeps the operator that appends its length to a CRC-32
//! (zlib's `crc32_combine_gen`, from `zlib-rs`, which flate2 compresses with), so combining it
//! is one multiplication (`crc32_combine_op`) instead of one per set bit of its length.
//! Decompressed, the member is exactly the parts' bytes in order; no byte of a precompressed
//! part is compressed again.
//!
//! The price is size: each part starts with an empty dictionary and ends with a 5-byte flush
//! marker, so a stitched body is somewhat larger than the same bytes compressed whole.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::{Compress, Compression, FlushCompress};
use zlib_rs::crc32::{crc32_combine_gen, crc32_combine_op};

/// The gzip header: magic, deflate, no flags, no modification time, no extra flags, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
/// Parts shorter than this are stored, not compressed: separators, and a feed's head and tail
/// (under 1 KiB unless a long query is in its title). Compressing a head saved about 360
/// bytes of a 45 KB stitched body and cost a compressor reset (clearing its tables) and a
/// deflate pass, together about 4 % of the CPU of a miss (BENCHMARKS.md).
const STORED_BELOW: usize = 2048;
/// A final fixed-Huffman block holding only its end-of-block code: what ends the member.
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// Bytes kept as raw deflate ended by a full flush, with the CRC-32 and length of the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precompressed {
    deflate: Vec<u8>,
    crc: u32,
    len: u64,
    /// `crc32_combine_gen(len)`: appends `len` bytes to a CRC-32 in one multiplication.
    append_op: u32,
}

impl Precompressed {
    /// Compresses `bytes` at `level`, on an empty dictionary, ending with a full flush.
    pub fn new(bytes: &[u8], level: Compression) -> io::Result<Precompressed> {
        let mut deflate = Vec::with_capacity(bytes.len() / 3 + 16);
        deflate_flushed(bytes, level, &mut deflate)?;
        deflate.shrink_to_fit();
        let len = bytes.len() as u64;
        Ok(Precompressed {
            deflate,
            crc: crc32fast::hash(bytes),
            len,
            append_op: crc32_combine_gen(len),
        })
    }

    /// The compressed bytes.
    pub fn compressed(&self) -> &[u8] {
        &self.deflate
    }

    /// How many bytes it holds, uncompressed.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The CRC-32 of some bytes (`crc`) followed by the bytes this part holds.
    pub fn crc_after(&self, crc: u32) -> u32 {
        crc32_combine_op(crc, self.crc, self.append_op)
    }
}

/// The CRC-32 of some bytes (`crc`) followed by `bytes`.
pub fn crc_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(crc);
    hasher.update(bytes);
    hasher.finalize()
}

/// A gzip member written from parts, in order.
pub struct GzipAssembler {
    out: Vec<u8>,
    crc: u32,
    len: u64,
    level: Compression,
}

impl GzipAssembler {
    /// A member compressing its raw parts at `level`; `capacity` is a guess at its size.
    pub fn new(capacity: usize, level: Compression) -> GzipAssembler {
        let mut out = Vec::with_capacity(capacity.max(GZIP_HEADER.len() + 16));
        out.extend_from_slice(&GZIP_HEADER);
        GzipAssembler {
            out,
            crc: 0,
            len: 0,
            level,
        }
    }

    /// Appends `bytes`, compressed now; a part under `STORED_BELOW` (a separator, a feed's
    /// head or tail) is stored as it is, which costs 5 bytes and no compressor (resetting one
    /// clears hundreds of kilobytes).
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        if bytes.len() < STORED_BELOW {
            // A stored block: BFINAL 0 and BTYPE 00 in a byte of its own (the stream is
            // byte-aligned here), LEN and its complement, the bytes.
            let len = bytes.len() as u16;
            self.out.push(0x00);
            self.out.extend_from_slice(&len.to_le_bytes());
            self.out.extend_from_slice(&(!len).to_le_bytes());
            self.out.extend_from_slice(bytes);
        } else {
            deflate_flushed(bytes, self.level, &mut self.out)?;
        }
        self.crc = crc_update(self.crc, bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Appends a part compressed before, as it is.
    pub fn precompressed(&mut self, part: &Precompressed) {
        self.out.extend_from_slice(&part.deflate);
        self.crc = part.crc_after(self.crc);
        self.len += part.len;
    }

    /// The member: the parts, the final block, the CRC-32 and the length (mod 2^32).
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&FINAL_EMPTY_BLOCK);
        self.out.extend_from_slice(&self.crc.to_le_bytes());
        // ISIZE is the length modulo 2^32, as RFC 1952 says.
        self.out
            .extend_from_slice(&((self.len & 0xffff_ffff) as u32).to_le_bytes());
        self.out
    }
}

/// Appends `bytes` to `out` as raw deflate at `level`, on an empty dictionary, ended by a full
/// flush (byte-aligned, no final block).
fn deflate_flushed(bytes: &[u8], level: Compression, out: &mut Vec<u8>) -> io::Result<()> {
    with_compressor(level, |compress| deflate_flushed_with(compress, bytes, out))
}

/// Bytes one compressor holds. zlib-rs (0.6) allocates a compressor in one block: its state,
/// a double window (2 × 32 KiB), the hash chains (32 Ki × 2 bytes), the hash table
/// (64 Ki × 2 bytes), and the pending and symbol buffers (16 Ki × 7 bytes at memory level 8),
/// about 370 KiB in all; heaptrack measured 380 KB each (BENCHMARKS.md, issue 21).
pub const COMPRESSOR_BYTES: u64 = 380_000;

/// Compressors held by threads now, all threads together.
static LIVE_COMPRESSORS: AtomicUsize = AtomicUsize::new(0);

/// Bytes held by the threads' compressors now (`paperboy_memory_bytes{kind="compressors"}`).
pub fn compressor_bytes() -> u64 {
    (LIVE_COMPRESSORS.load(Ordering::Relaxed) as u64).saturating_mul(COMPRESSOR_BYTES)
}

/// A thread's compressors, one per level, counted in `live` while the thread holds them.
struct Compressors {
    by_level: Vec<(u32, Compress)>,
    live: &'static AtomicUsize,
}

impl Compressors {
    const fn new(live: &'static AtomicUsize) -> Compressors {
        Compressors {
            by_level: Vec::new(),
            live,
        }
    }

    /// The compressor for `level`, reset to an empty dictionary; made the first time.
    fn for_level(&mut self, level: Compression) -> &mut Compress {
        let at = match self.by_level.iter().position(|(l, _)| *l == level.level()) {
            Some(at) => {
                self.by_level[at].1.reset();
                at
            }
            None => {
                self.by_level
                    .push((level.level(), Compress::new(level, false)));
                self.live.fetch_add(1, Ordering::Relaxed);
                self.by_level.len() - 1
            }
        };
        &mut self.by_level[at].1
    }
}

impl Drop for Compressors {
    fn drop(&mut self) {
        self.live.fetch_sub(self.by_level.len(), Ordering::Relaxed);
    }
}

thread_local! {
    /// A raw deflate compressor per level, reset between parts: setting one up allocates and
    /// clears some hundreds of kilobytes, which was a seventh of the CPU of a miss when done
    /// for every feed's head. Each build thread keeps its own (a few at most), counted in
    /// [`compressor_bytes`] until the thread ends.
    static COMPRESSORS: RefCell<Compressors> =
        const { RefCell::new(Compressors::new(&LIVE_COMPRESSORS)) };
}

/// Runs `f` with this thread's compressor for `level`, reset to an empty dictionary.
fn with_compressor<T>(level: Compression, f: impl FnOnce(&mut Compress) -> T) -> T {
    COMPRESSORS.with(|cell| {
        // Never held across calls to `f`'s caller, but a re-entrant use (none today) gets a
        // compressor of its own instead of a panic.
        let Ok(mut compressors) = cell.try_borrow_mut() else {
            return f(&mut Compress::new(level, false));
        };
        f(compressors.for_level(level))
    })
}

fn deflate_flushed_with(
    compress: &mut Compress,
    bytes: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    loop {
        let consumed = usize::try_from(compress.total_in()).unwrap_or(usize::MAX);
        let input = bytes.get(consumed..).unwrap_or_default();
        // Room for the rest, poorly compressible in the worst case, and the flush marker.
        out.reserve(input.len() + input.len() / 1000 + 64);
        let room = out.capacity() - out.len();
        let before = out.len();
        compress
            .compress_vec(input, out, FlushCompress::Full)
            .map_err(io::Error::other)?;
        let all_in = usize::try_from(compress.total_in()).unwrap_or(usize::MAX) >= bytes.len();
        // The flush is complete once all input is in and the output did not fill the room.
        if all_in && out.len() - before < room {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use proptest::prelude::*;

    use super::*;

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        // GzDecoder checks the CRC-32 and the length of the trailer.
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    #[test]
    fn a_thread_s_compressors_are_counted_once_per_level_until_it_lets_them_go() {
        static LIVE: AtomicUsize = AtomicUsize::new(0);
        let mut compressors = Compressors::new(&LIVE);
        compressors.for_level(Compression::fast());
        compressors.for_level(Compression::default());
        // The same level again is the same compressor, reset.
        compressors.for_level(Compression::fast());
        assert_eq!(LIVE.load(Ordering::Relaxed), 2);
        drop(compressors);
        assert_eq!(LIVE.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_thread_that_compressed_holds_a_counted_compressor() {
        // Other tests' threads come and go, so only a lower bound can be asserted here: while
        // this thread holds its compressor, at least one is counted.
        let _ = Precompressed::new(&[b'x'; 4096], Compression::new(3)).unwrap();
        assert!(compressor_bytes() >= COMPRESSOR_BYTES);
    }

    fn stitched(parts: &[(bool, Vec<u8>)], level: u32) -> Vec<u8> {
        let level = Compression::new(level);
        let mut gzip = GzipAssembler::new(1024, level);
        for (precompressed, bytes) in parts {
            if *precompressed {
                gzip.precompressed(&Precompressed::new(bytes, level).unwrap());
            } else {
                gzip.raw(bytes).unwrap();
            }
        }
        gzip.finish()
    }

    #[test]
    fn a_stitched_member_decompresses_to_its_parts_in_order() {
        let item = "<entry><title>Diffusion &amp; flow</title></entry>\n".repeat(30);
        let parts = vec![
            (false, b"<feed>head".to_vec()),
            (true, item.clone().into_bytes()),
            (true, Vec::new()),
            (true, item.clone().into_bytes()),
            (false, b"</feed>".to_vec()),
        ];
        let body = stitched(&parts, 6);
        assert_eq!(&body[..3], &[0x1f, 0x8b, 0x08]);
        let expected = format!("<feed>head{item}{item}</feed>");
        assert_eq!(gunzip(&body), expected.as_bytes());
        // The system's gzip agrees, when there is one.
        if let Ok(mut child) = std::process::Command::new("gzip")
            .args(["-t", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
        {
            child.stdin.take().unwrap().write_all(&body).unwrap();
            assert!(child.wait().unwrap().success(), "gzip -t accepts it");
        }
    }

    #[test]
    fn an_empty_member_is_valid() {
        assert_eq!(gunzip(&stitched(&[], 6)), b"");
    }

    #[test]
    fn a_part_larger_than_one_output_reservation_is_whole() {
        // Incompressible bytes, several times the first reservation.
        let noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let body = stitched(&[(true, noise.clone()), (false, noise.clone())], 9);
        assert_eq!(gunzip(&body), [noise.clone(), noise].concat());
    }

    proptest! {
        #[test]
        fn a_part_appended_to_a_crc_is_the_crc_of_both(
            first in proptest::collection::vec(any::<u8>(), 0..3000),
            second in proptest::collection::vec(any::<u8>(), 0..3000),
        ) {
            let part = Precompressed::new(&second, Compression::fast()).unwrap();
            let both = [first.clone(), second.clone()].concat();
            prop_assert_eq!(part.crc_after(crc32fast::hash(&first)), crc32fast::hash(&both));
            prop_assert_eq!(crc_update(crc32fast::hash(&first), &second), crc32fast::hash(&both));
        }

        #[test]
        fn any_parts_stitch_to_their_concatenation(
            parts in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..4000)), 0..12),
            level in 0u32..=9,
        ) {
            let body = stitched(&parts, level);
            let expected: Vec<u8> = parts.iter().flat_map(|(_, b)| b.iter().copied()).collect();
            prop_assert_eq!(gunzip(&body), expected);
        }
    }
}

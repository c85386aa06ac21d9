//! `ErasureLayout`: how an object is cut into blocks, shards and framed shard files.
//!
//! An object is cut into blocks of `block_size` bytes (the last may be shorter). Each block
//! is erasure-coded on its own into `data + parity` shards of [`ErasureLayout::shard_size`]
//! bytes, and every drive of the set appends one frame per block to its shard file:
//!
//! ```text
//! shard file = frame(block 0) frame(block 1) ... frame(block n-1)
//! frame      = [HighwayHash-256 of shard: 32 B][shard: shard_size(block_len) B]
//! ```
//!
//! Why 1 MiB blocks: large enough that per-block costs (hash finalisation, coder setup, one
//! frame header) vanish next to the bytes, small enough that a core holds a block for well
//! under a millisecond and a ranged GET reads little more than it returns.
//!
//! Invariants (asserted): `1 <= data`, `parity <= data`, `data + parity <= MAX_SHARDS`,
//! `block_size` even and non-zero; shard sizes are even and non-zero. These formulas are part
//! of the on-disk format: a shard file written with one layout is read back with the same one
//! (recorded in xl.meta), so they must never change.

use crate::bitrot::BITROT_HASH_LEN;
use crate::error::CodecError;

/// Erasure block: bytes of object data per stripe.
pub const BLOCK_SIZE: usize = 1 << 20;

/// Most drives one erasure set (so one layout) may span.
pub const MAX_SHARDS: usize = 32;

// reed-solomon-simd codes 16-bit words, so shard sizes (and the block size they divide)
// must be even; the frame header must fit the hash it holds.
const _: () = assert!(BLOCK_SIZE > 0 && BLOCK_SIZE % 2 == 0);
const _: () = assert!(BLOCK_SIZE <= u32::MAX as usize); // xl.meta stores it as u32
const _: () = assert!(MAX_SHARDS <= u8::MAX as usize); // xl.meta stores counts as u8

/// The shape of one object's erasure coding: data shards, parity shards, block size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErasureLayout {
    /// Data shards per block (k).
    pub data: usize,
    /// Parity shards per block (m). 0 is allowed: a single drive, no Reed-Solomon.
    pub parity: usize,
    /// Object bytes per block; every block but the last is exactly this long.
    pub block_size: usize,
}

impl ErasureLayout {
    /// A checked layout: `data >= 1`, `parity <= data`, `data + parity <= 32`,
    /// `block_size` even and non-zero.
    pub fn new(data: usize, parity: usize, block_size: usize) -> Result<Self, CodecError> {
        if data == 0 {
            return Err(CodecError::InvalidLayout("data shards must be >= 1".into()));
        }
        if parity > data {
            return Err(CodecError::InvalidLayout(format!(
                "parity {parity} exceeds data {data}"
            )));
        }
        if data + parity > MAX_SHARDS {
            return Err(CodecError::InvalidLayout(format!(
                "{data}+{parity} shards exceed {MAX_SHARDS}"
            )));
        }
        if block_size == 0 || block_size % 2 != 0 || block_size > u32::MAX as usize {
            return Err(CodecError::InvalidLayout(format!(
                "block size {block_size} must be even, non-zero and fit in u32"
            )));
        }
        Ok(Self {
            data,
            parity,
            block_size,
        })
    }

    /// Shards per block: data + parity (= drives of the set).
    pub fn total(&self) -> usize {
        self.data + self.parity
    }

    /// Bytes of ONE shard for a block of `block_len` object bytes (1..=block_size):
    /// ceil(block_len / data) rounded up to even (reed-solomon-simd needs a multiple of 2).
    pub fn shard_size(&self, block_len: usize) -> usize {
        assert!(
            block_len >= 1 && block_len <= self.block_size,
            "block_len {block_len} outside 1..={}",
            self.block_size
        );
        let size = block_len.div_ceil(self.data);
        size + size % 2
    }

    /// Blocks in an object of `object_size` bytes: ceil(size / block_size).
    pub fn block_count(&self, object_size: u64) -> u64 {
        object_size.div_ceil(self.block_size as u64)
    }

    /// Bytes of one drive's framed shard file for an object of `object_size` bytes: the sum
    /// over blocks of (BITROT_HASH_LEN + shard_size(block_len)). 0 for an empty object.
    pub fn shard_file_size(&self, object_size: u64) -> u64 {
        let full_blocks = object_size / self.block_size as u64;
        let last_len = (object_size % self.block_size as u64) as usize;
        let last_frame = match last_len {
            0 => 0,
            len => (BITROT_HASH_LEN + self.shard_size(len)) as u64,
        };
        self.frame_offset(full_blocks) + last_frame
    }

    /// Offset in the shard file where the frame of block `block_index` starts (every block
    /// before it is full, so every frame before it has the same size).
    pub fn frame_offset(&self, block_index: u64) -> u64 {
        let frame_size = (BITROT_HASH_LEN + self.shard_size(self.block_size)) as u64;
        block_index * frame_size
    }

    /// Drives that must acknowledge a write: data, plus one when data == parity so two
    /// disjoint halves of the set can never both reach quorum with different versions.
    pub fn write_quorum(&self) -> usize {
        if self.data == self.parity {
            self.data + 1
        } else {
            self.data
        }
    }

    /// Drives that must agree for a read: any `data` shards rebuild the block.
    pub fn read_quorum(&self) -> usize {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn new_accepts_and_rejects() {
        let ok = [
            (1, 0, MIB),
            (1, 1, MIB),
            (2, 2, MIB),
            (12, 4, MIB),
            (16, 16, 2),
            (31, 1, 64),
        ];
        for (data, parity, block) in ok {
            let layout = ErasureLayout::new(data, parity, block);
            assert!(layout.is_ok(), "{data}+{parity} bs {block}: {layout:?}");
        }
        let bad = [
            (0, 0, MIB),   // no data
            (2, 3, MIB),   // parity > data
            (17, 16, MIB), // too many shards
            (4, 2, 0),     // empty block
            (4, 2, 1001),  // odd block
        ];
        for (data, parity, block) in bad {
            assert!(
                matches!(
                    ErasureLayout::new(data, parity, block),
                    Err(CodecError::InvalidLayout(_))
                ),
                "{data}+{parity} bs {block} should be rejected"
            );
        }
    }

    #[test]
    fn shard_size_table() {
        // (data, block_len, shard_size): ceil(block_len / data), then up to even.
        let cases = [
            (1, 1, 2),
            (1, 2, 2),
            (1, 3, 4),
            (2, 1, 2),
            (2, 4, 2),
            (2, 5, 4),
            (3, 7, 4),
            (4, MIB, 262_144),
            (3, MIB, 349_526), // ceil(1048576/3) = 349526 (already even)
            (5, MIB, 209_716), // ceil = 209716 (even)
            (6, MIB, 174_764), // ceil(174762.67) = 174763 -> 174764
            (7, MIB, 149_798), // ceil(149796.57) = 149797 -> 149798
            (12, MIB, 87_382), // ceil(87381.33) = 87382
            (12, 13, 2),
            (12, 25, 4), // ceil(25/12) = 3 -> 4
        ];
        for (data, block_len, want) in cases {
            let layout = ErasureLayout::new(data, 0, MIB).expect("valid");
            assert_eq!(
                layout.shard_size(block_len),
                want,
                "{data} data, {block_len} B"
            );
        }
    }

    #[test]
    fn file_size_and_offsets_table() {
        let bs = MIB as u64;
        // (data, parity, object_size, block_count, shard_file_size)
        let full_4 = 32 + 262_144u64; // frame of a full block, 4 data shards
        let cases = [
            (4, 2, 0, 0, 0),
            (4, 2, 1, 1, 32 + 2),
            (4, 2, 9, 1, 32 + 4), // ceil(9/4) = 3 -> 4
            (4, 2, bs, 1, full_4),
            (4, 2, bs + 1, 2, full_4 + 32 + 2),
            (4, 2, 3 * bs + 1000, 4, 3 * full_4 + 32 + 250),
            (1, 0, 5 * bs, 5, 5 * (32 + bs)),
            (12, 4, 2 * bs + 13, 3, 2 * (32 + 87_382) + 32 + 2),
        ];
        for (data, parity, size, blocks, file) in cases {
            let layout = ErasureLayout::new(data, parity, MIB).expect("valid");
            assert_eq!(layout.block_count(size), blocks, "{data}+{parity} {size}");
            assert_eq!(layout.shard_file_size(size), file, "{data}+{parity} {size}");
        }
    }

    #[test]
    fn frame_offsets_follow_file_sizes() {
        // Frame i starts where a file of i full blocks ends; the last frame ends at the file size.
        for (data, parity, bs) in [(4, 2, MIB), (3, 1, 1000), (1, 0, 2), (7, 7, 4096)] {
            let layout = ErasureLayout::new(data, parity, bs).expect("valid");
            for i in 0..5u64 {
                let full = i * bs as u64;
                assert_eq!(layout.frame_offset(i), layout.shard_file_size(full));
                let size = full + 1;
                let last = (BITROT_HASH_LEN + layout.shard_size(1)) as u64;
                assert_eq!(layout.frame_offset(i) + last, layout.shard_file_size(size));
            }
        }
    }

    #[test]
    fn quorums() {
        // (data, parity, write, read)
        let cases = [
            (1, 0, 1, 1),
            (1, 1, 2, 1),
            (2, 2, 3, 2),
            (4, 2, 4, 4),
            (8, 8, 9, 8),
            (12, 4, 12, 12),
        ];
        for (data, parity, write, read) in cases {
            let layout = ErasureLayout::new(data, parity, MIB).expect("valid");
            assert_eq!(layout.total(), data + parity);
            assert_eq!(layout.write_quorum(), write, "{data}+{parity}");
            assert_eq!(layout.read_quorum(), read, "{data}+{parity}");
        }
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn shard_size_rejects_empty_block() {
        ErasureLayout::new(4, 2, MIB).expect("valid").shard_size(0);
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn shard_size_rejects_oversized_block() {
        ErasureLayout::new(4, 2, MIB)
            .expect("valid")
            .shard_size(MIB + 1);
    }
}

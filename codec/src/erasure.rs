//! Reed-Solomon erasure coding of one block at a time, over reed-solomon-simd.
//!
//! A block is cut into `data` equal shards (the last zero-padded to the shard size) and
//! `parity` recovery shards are computed from them; any `data` of the `data + parity` shards
//! rebuild the block. reed-solomon-simd (Leopard-style, O(n log n) over GF(2^16)) is used
//! rather than a Vandermonde matrix code because it stays fast for every set size minnow
//! allows and needs no per-layout matrix tables.
//!
//! The coders keep reed-solomon-simd's working space between blocks (`reset`, never a new
//! allocation once the first full block is seen): an object is thousands of blocks of one
//! layout, coded back to back on the owner core.
//!
//! Parity 0 (a single-drive set) never touches Reed-Solomon: the shards are the data.
//!
//! Invariants (asserted at entry): one slot per shard (`layout.total()`), shard sizes even
//! and non-zero, output buffers at least one shard long. Shards read from drives with the
//! wrong length are an error value ([`CodecError::ShardSize`]), not a panic.

use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

use crate::error::CodecError;
use crate::layout::ErasureLayout;

/// Encodes blocks into shards for one layout; reusable across blocks (keeps the
/// reed-solomon-simd encoder and its working space).
pub struct Encoder {
    layout: ErasureLayout,
    /// Created at the first block with parity; `None` forever when parity is 0.
    rs: Option<ReedSolomonEncoder>,
}

impl Encoder {
    /// An encoder for `layout`; allocates nothing until the first block.
    pub fn new(layout: ErasureLayout) -> Self {
        Self { layout, rs: None }
    }

    /// Encode one block (1..=block_size bytes). `out.len() == layout.total()`, and every
    /// `out[i].len() >= shard_size`. Data shards are the block cut into `data` pieces (the
    /// last zero-padded), then parity is computed. Writes shard `i` into
    /// `out[i][..shard_size]` and returns `shard_size`.
    pub fn encode(&mut self, block: &[u8], out: &mut [&mut [u8]]) -> Result<usize, CodecError> {
        let layout = self.layout;
        assert_eq!(out.len(), layout.total(), "one output buffer per shard");
        let shard_size = layout.shard_size(block.len());
        assert!(
            out.iter().all(|shard| shard.len() >= shard_size),
            "output buffers shorter than shard size {shard_size}"
        );

        let (data_out, parity_out) = out.split_at_mut(layout.data);
        split_block(block, shard_size, data_out);
        if layout.parity == 0 {
            return Ok(shard_size);
        }
        let rs = ready_encoder(&mut self.rs, layout, shard_size)?;
        encode_parity(rs, shard_size, data_out, parity_out)?;
        Ok(shard_size)
    }
}

/// Rebuilds lost shards of one layout; reusable across blocks.
pub struct Decoder {
    layout: ErasureLayout,
    rs_decoder: Option<ReedSolomonDecoder>,
    /// Parity is rebuilt by encoding the (rebuilt) data again: only healing needs it.
    rs_encoder: Option<ReedSolomonEncoder>,
}

impl Decoder {
    /// A decoder for `layout`; allocates nothing until the first reconstruction.
    pub fn new(layout: ErasureLayout) -> Self {
        Self {
            layout,
            rs_decoder: None,
            rs_encoder: None,
        }
    }

    /// `shards.len() == total`; `Some(v)` (with `v.len() == shard_size`) is present, `None`
    /// lost. Fills in every missing DATA shard (parity is left `None`). Needs at least
    /// `data` shards present, else [`CodecError::TooFewShards`].
    pub fn reconstruct_data(
        &mut self,
        shards: &mut [Option<Vec<u8>>],
        shard_size: usize,
    ) -> Result<(), CodecError> {
        let layout = self.layout;
        check_shards(layout, shards, shard_size)?;
        if shards[..layout.data].iter().all(Option::is_some) {
            return Ok(());
        }
        // Here some data shard is lost yet `data` shards survive, so parity > 0.
        let rs = ready_decoder(&mut self.rs_decoder, layout, shard_size)?;
        // Exactly `data` shards suffice; handing over more only costs copies.
        let mut added = 0;
        for (index, shard) in shards.iter().enumerate() {
            let Some(shard) = shard else { continue };
            if added == layout.data {
                break;
            }
            match index.checked_sub(layout.data) {
                None => rs.add_original_shard(index, shard),
                Some(parity_index) => rs.add_recovery_shard(parity_index, shard),
            }
            .map_err(CodecError::ReedSolomon)?;
            added += 1;
        }
        let result = rs.decode().map_err(CodecError::ReedSolomon)?;
        for (index, restored) in result.restored_original_iter() {
            shards[index] = Some(restored.to_vec());
        }
        assert!(
            shards[..layout.data].iter().all(Option::is_some),
            "reed-solomon-simd restored every lost data shard"
        );
        Ok(())
    }

    /// Fills in every missing shard, data and parity (for healing). Same preconditions as
    /// [`Decoder::reconstruct_data`].
    pub fn reconstruct_all(
        &mut self,
        shards: &mut [Option<Vec<u8>>],
        shard_size: usize,
    ) -> Result<(), CodecError> {
        let layout = self.layout;
        self.reconstruct_data(shards, shard_size)?;
        if shards[layout.data..].iter().all(Option::is_some) {
            return Ok(());
        }
        let rs = ready_encoder(&mut self.rs_encoder, layout, shard_size)?;
        for shard in shards[..layout.data].iter().flatten() {
            rs.add_original_shard(shard)
                .map_err(CodecError::ReedSolomon)?;
        }
        let result = rs.encode().map_err(CodecError::ReedSolomon)?;
        for (slot, recovery) in shards[layout.data..].iter_mut().zip(result.recovery_iter()) {
            if slot.is_none() {
                *slot = Some(recovery.to_vec());
            }
        }
        Ok(())
    }
}

/// Appends the first `block_len` bytes of the concatenated data shards (`shards[..data]`,
/// all `Some`) to `out`: the inverse of the split done by [`Encoder::encode`].
pub fn join_data(shards: &[Option<Vec<u8>>], data: usize, block_len: usize, out: &mut Vec<u8>) {
    assert!(shards.len() >= data, "{} shards, {data} data", shards.len());
    out.reserve(block_len);
    let mut remaining = block_len;
    for (index, shard) in shards[..data].iter().enumerate() {
        let Some(shard) = shard else {
            panic!("join_data: data shard {index} missing; reconstruct_data first");
        };
        let take = remaining.min(shard.len());
        out.extend_from_slice(&shard[..take]);
        remaining -= take;
    }
    assert_eq!(
        remaining, 0,
        "data shards hold fewer than {block_len} bytes"
    );
}

/// Cuts `block` into `data_out.len()` shards of `shard_size`, zero-padding the tail (the
/// padding is part of the parity, so it must be deterministic).
fn split_block(block: &[u8], shard_size: usize, data_out: &mut [&mut [u8]]) {
    debug_assert!(block.len() <= shard_size * data_out.len());
    let mut pieces = block.chunks(shard_size);
    for shard in data_out.iter_mut() {
        let shard = &mut shard[..shard_size];
        let piece = pieces.next().unwrap_or(&[]);
        shard[..piece.len()].copy_from_slice(piece);
        shard[piece.len()..].fill(0);
    }
}

fn encode_parity(
    rs: &mut ReedSolomonEncoder,
    shard_size: usize,
    data: &[&mut [u8]],
    parity_out: &mut [&mut [u8]],
) -> Result<(), CodecError> {
    for shard in data {
        rs.add_original_shard(&shard[..shard_size])
            .map_err(CodecError::ReedSolomon)?;
    }
    let result = rs.encode().map_err(CodecError::ReedSolomon)?;
    for (out, recovery) in parity_out.iter_mut().zip(result.recovery_iter()) {
        out[..shard_size].copy_from_slice(recovery);
    }
    Ok(())
}

/// Validates what a caller read from drives: programmer errors assert, data errors return.
fn check_shards(
    layout: ErasureLayout,
    shards: &[Option<Vec<u8>>],
    shard_size: usize,
) -> Result<(), CodecError> {
    assert_eq!(shards.len(), layout.total(), "one slot per shard");
    assert!(
        shard_size > 0 && shard_size % 2 == 0,
        "shard size {shard_size} must be even and non-zero"
    );
    for (index, shard) in shards.iter().enumerate() {
        if let Some(shard) = shard {
            if shard.len() != shard_size {
                return Err(CodecError::ShardSize {
                    index,
                    expected: shard_size,
                    got: shard.len(),
                });
            }
        }
    }
    let have = shards.iter().filter(|shard| shard.is_some()).count();
    if have < layout.data {
        return Err(CodecError::TooFewShards {
            have,
            need: layout.data,
        });
    }
    Ok(())
}

/// The slot's encoder, reset to this block's shard size (created on first use).
fn ready_encoder(
    slot: &mut Option<ReedSolomonEncoder>,
    layout: ErasureLayout,
    shard_size: usize,
) -> Result<&mut ReedSolomonEncoder, CodecError> {
    let (data, parity) = (layout.data, layout.parity);
    let rs = match slot.take() {
        Some(mut rs) => {
            rs.reset(data, parity, shard_size)
                .map_err(CodecError::ReedSolomon)?;
            rs
        }
        None => {
            ReedSolomonEncoder::new(data, parity, shard_size).map_err(CodecError::ReedSolomon)?
        }
    };
    Ok(slot.insert(rs))
}

/// The slot's decoder, reset to this block's shard size (created on first use).
fn ready_decoder(
    slot: &mut Option<ReedSolomonDecoder>,
    layout: ErasureLayout,
    shard_size: usize,
) -> Result<&mut ReedSolomonDecoder, CodecError> {
    let (data, parity) = (layout.data, layout.parity);
    let rs = match slot.take() {
        Some(mut rs) => {
            rs.reset(data, parity, shard_size)
                .map_err(CodecError::ReedSolomon)?;
            rs
        }
        None => {
            ReedSolomonDecoder::new(data, parity, shard_size).map_err(CodecError::ReedSolomon)?
        }
    };
    Ok(slot.insert(rs))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::layout::BLOCK_SIZE;

    /// Deterministic, cheap pseudo-random bytes (xorshift): proptest picks the seed, so big
    /// blocks cost no shrinking machinery.
    fn block_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    /// Encodes `block` with `encoder` into freshly allocated shards (pre-filled with junk so
    /// a missing padding write would show).
    fn encode_block(encoder: &mut Encoder, layout: ErasureLayout, block: &[u8]) -> Vec<Vec<u8>> {
        let shard_size = layout.shard_size(block.len());
        let mut shards = vec![vec![0xa5u8; shard_size + 3]; layout.total()];
        let mut out: Vec<&mut [u8]> = shards.iter_mut().map(Vec::as_mut_slice).collect();
        let written = encoder.encode(block, &mut out).expect("encode");
        assert_eq!(written, shard_size);
        for shard in &mut shards {
            assert_eq!(&shard[shard_size..], &[0xa5; 3], "wrote past shard_size");
            shard.truncate(shard_size);
        }
        shards
    }

    fn lose(shards: &[Vec<u8>], lost: &[usize]) -> Vec<Option<Vec<u8>>> {
        let mut read: Vec<Option<Vec<u8>>> = shards.iter().cloned().map(Some).collect();
        for &index in lost {
            read[index] = None;
        }
        read
    }

    fn layout(data: usize, parity: usize) -> ErasureLayout {
        ErasureLayout::new(data, parity, BLOCK_SIZE).expect("valid layout")
    }

    #[test]
    fn data_shards_are_the_block_zero_padded() {
        let layout = layout(3, 2);
        let block = block_bytes(10, 1); // shard size 4: 4 + 4 + 2 bytes, 2 of padding
        let shards = encode_block(&mut Encoder::new(layout), layout, &block);
        assert_eq!(shards[0], block[0..4]);
        assert_eq!(shards[1], block[4..8]);
        assert_eq!(shards[2], [block[8], block[9], 0, 0]);
    }

    #[test]
    fn parity_matches_bare_library() {
        for (data, parity) in [(1, 1), (2, 2), (4, 2), (8, 4), (12, 4), (16, 16)] {
            let layout = layout(data, parity);
            let block = block_bytes(100_000, data as u64);
            let shards = encode_block(&mut Encoder::new(layout), layout, &block);
            let bare = reed_solomon_simd::encode(data, parity, &shards[..data]).expect("bare");
            assert_eq!(bare, shards[data..], "{data}+{parity}");
        }
    }

    #[test]
    fn parity_zero_is_plain_data() {
        let layout = layout(1, 0);
        let block = block_bytes(1001, 7);
        let mut decoder = Decoder::new(layout);
        let shards = encode_block(&mut Encoder::new(layout), layout, &block);
        assert_eq!(shards.len(), 1);
        let mut read = lose(&shards, &[]);
        decoder
            .reconstruct_all(&mut read, 1002)
            .expect("nothing lost");
        let mut got = Vec::new();
        join_data(&read, 1, block.len(), &mut got);
        assert_eq!(got, block);
        let err = decoder.reconstruct_data(&mut lose(&shards, &[0]), 1002);
        assert!(matches!(
            err,
            Err(CodecError::TooFewShards { have: 0, need: 1 })
        ));
    }

    #[test]
    fn wrong_shard_size_is_an_error() {
        let layout = layout(2, 1);
        let shards = encode_block(&mut Encoder::new(layout), layout, &block_bytes(8, 3));
        let mut read = lose(&shards, &[0]);
        read[2] = Some(vec![0; 6]);
        let err = Decoder::new(layout).reconstruct_data(&mut read, 4);
        assert!(matches!(
            err,
            Err(CodecError::ShardSize {
                index: 2,
                expected: 4,
                got: 6
            })
        ));
    }

    #[test]
    fn coders_are_reused_across_block_sizes() {
        // Full blocks, then a short last block, then full again: reset must follow the size.
        let layout = layout(4, 2);
        let mut encoder = Encoder::new(layout);
        let mut decoder = Decoder::new(layout);
        for (round, len) in [BLOCK_SIZE, 1000, 2, BLOCK_SIZE, 77_777]
            .into_iter()
            .enumerate()
        {
            let block = block_bytes(len, round as u64);
            let shards = encode_block(&mut encoder, layout, &block);
            let mut read = lose(&shards, &[0, 5]);
            decoder
                .reconstruct_all(&mut read, layout.shard_size(len))
                .expect("reconstruct");
            let read: Vec<Vec<u8>> = read.into_iter().flatten().collect();
            assert_eq!(read, shards, "round {round}, {len} bytes");
        }
    }

    #[test]
    #[should_panic(expected = "one output buffer per shard")]
    fn encode_asserts_output_count() {
        let layout = layout(2, 1);
        let mut buf = vec![0u8; 8];
        Encoder::new(layout).encode(b"abcd", &mut [&mut buf]).ok();
    }

    #[test]
    #[should_panic(expected = "shorter than shard size")]
    fn encode_asserts_output_size() {
        let layout = layout(2, 1);
        let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 2], [0u8; 1]);
        Encoder::new(layout)
            .encode(b"abcd", &mut [&mut a, &mut b, &mut c])
            .ok();
    }

    /// A layout with data 1..=12, parity 0..=min(data, 8), total <= 16; a block length that is
    /// mostly small (debug-mode tests on 2 cores) and sometimes up to a full block; a seed;
    /// and a set of up to `parity` shards to lose.
    fn case() -> impl Strategy<Value = (ErasureLayout, usize, u64, Vec<usize>)> {
        (1usize..=12)
            .prop_flat_map(|data| (Just(data), 0..=data.min(8).min(16 - data)))
            .prop_flat_map(|(data, parity)| {
                let total = data + parity;
                (
                    Just(layout(data, parity)),
                    prop_oneof![6 => 1usize..=4096, 1 => 1usize..=BLOCK_SIZE],
                    any::<u64>(),
                    proptest::sample::subsequence((0..total).collect::<Vec<_>>(), 0..=parity),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn lose_up_to_parity_and_rebuild((layout, len, seed, lost) in case()) {
            let block = block_bytes(len, seed);
            let shard_size = layout.shard_size(len);
            let shards = encode_block(&mut Encoder::new(layout), layout, &block);
            let mut decoder = Decoder::new(layout);

            // GET: any <= parity lost shards still give the exact block back.
            let mut read = lose(&shards, &lost);
            decoder.reconstruct_data(&mut read, shard_size).expect("reconstruct_data");
            for (index, shard) in read.iter().enumerate().skip(layout.data) {
                prop_assert_eq!(shard.is_some(), !lost.contains(&index), "parity left as is");
            }
            let mut got = Vec::new();
            join_data(&read, layout.data, len, &mut got);
            prop_assert!(got == block, "block differs after losing {:?}", lost);

            // Heal: every shard, parity included, comes back byte-exact.
            let mut read = lose(&shards, &lost);
            decoder.reconstruct_all(&mut read, shard_size).expect("reconstruct_all");
            let healed: Vec<Vec<u8>> = read.into_iter().flatten().collect();
            prop_assert!(healed == shards, "shards differ after healing {:?}", lost);

            // One more loss than parity: the block is gone, and we say so.
            let too_many: Vec<usize> = (0..layout.total()).rev().take(layout.parity + 1).collect();
            let mut read = lose(&shards, &too_many);
            let err = decoder.reconstruct_all(&mut read, shard_size);
            let want_have = layout.data - 1;
            prop_assert!(
                matches!(err, Err(CodecError::TooFewShards { have, need })
                    if have == want_have && need == layout.data),
                "{:?}", err
            );
        }
    }
}

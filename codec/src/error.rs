//! `CodecError`: the operating errors of the codec.
//!
//! Only conditions that bytes read from drives or configuration can cause are errors
//! (a bad layout, too few surviving shards, a bitrot mismatch, a shard of the wrong size).
//! Wrong arguments from our own callers (buffer too small, block longer than the block
//! size) are programmer errors and panic with an assert.

/// What can go wrong while encoding, decoding or verifying shards.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The data/parity/block-size combination is not one minnow can store.
    #[error("invalid erasure layout: {0}")]
    InvalidLayout(String),
    /// Fewer shards survived than the data shard count: the block is lost.
    #[error("too few shards to decode: have {have}, need {need}")]
    TooFewShards {
        /// Shards present.
        have: usize,
        /// Shards needed (the data shard count).
        need: usize,
    },
    /// A shard's bytes do not match the bitrot hash stored in front of it.
    #[error("bitrot: shard bytes do not match their hash")]
    Bitrot,
    /// A shard handed to the decoder does not have the block's shard size.
    #[error("shard {index} is {got} bytes, expected {expected}")]
    ShardSize {
        /// Shard index (0-based, data shards first).
        index: usize,
        /// The shard size of the block.
        expected: usize,
        /// The length of the shard given.
        got: usize,
    },
    /// reed-solomon-simd refused the input. Unreachable with a valid layout and shard
    /// size; kept as a value rather than a panic because it comes from a dependency.
    #[error("reed-solomon")]
    ReedSolomon(#[source] reed_solomon_simd::Error),
}

//! minnow-codec: the pure byte functions of minnow's data path.
//!
//! This crate owns everything that turns object bytes into shard bytes and back, and
//! nothing that touches a drive, a socket or a clock:
//!
//! * [`layout`]: [`ErasureLayout`], the arithmetic of blocks, shards and framed shard files
//!   (sizes and offsets that `io` and the object layer rely on, on disk).
//! * [`erasure`]: [`Encoder`] / [`Decoder`], Reed-Solomon over one block at a time
//!   (reed-solomon-simd), and [`join_data`] to glue data shards back into a block.
//! * [`bitrot`]: the HighwayHash-256 written in front of every shard block, under a
//!   [`FrameKey`] that binds the block to its version, shard, part and block index.
//! * [`placement`]: [`hash_order`] (which drive holds which shard) and [`sip_mod`]
//!   (which erasure set holds an object).
//!
//! # Must never
//!
//! Depend on glommio (or any runtime), do I/O, read a clock or spawn threads. The crate is
//! synchronous and deterministic, so the owner core can call it between blocks (one block
//! holds a core for well under a millisecond), and so it can be property-tested.
//!
//! # Invariants
//!
//! * A block is 1..=`block_size` bytes of object data; every block but an object's last is
//!   full. One block becomes `data + parity` shards of equal size
//!   [`ErasureLayout::shard_size`], always even (reed-solomon-simd works on 16-bit words).
//! * Data shards are the block cut in order, the last one zero-padded: concatenating the
//!   data shards and truncating to the block length gives the block back.
//! * A shard file on a drive is a sequence of frames `[bitrot hash (32 B)][shard]`, one per
//!   block, so block `i` starts at [`ErasureLayout::frame_offset`]`(i)`.
//! * These formulas are an on-disk format: changing any of them (or [`bitrot::BITROT_KEY`],
//!   or how a [`FrameKey`] is derived) makes existing shard files unreadable.
//!
//! # Example
//!
//! ```
//! use minnow_codec::{join_data, Decoder, Encoder, ErasureLayout, FrameKey};
//!
//! let layout = ErasureLayout::new(4, 2, minnow_codec::BLOCK_SIZE)?;
//! let block: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
//! let shard_size = layout.shard_size(block.len());
//!
//! // PUT: encode block 0 of part 1 into 6 shards and frame each with its bitrot hash, under
//! // its shard's key (the version is identified by its data directory).
//! let keys: Vec<FrameKey> = (0..layout.total())
//!     .map(|shard| FrameKey::bound("0b1c2d3e-4f50-4617-8899-aabbccddeeff", shard, 1))
//!     .collect();
//! let mut shards = vec![vec![0u8; shard_size]; layout.total()];
//! let mut out: Vec<&mut [u8]> = shards.iter_mut().map(|s| s.as_mut_slice()).collect();
//! Encoder::new(layout).encode(&block, &mut out)?;
//! let hashes: Vec<[u8; 32]> = shards.iter().zip(&keys).map(|(s, k)| k.hash(0, s)).collect();
//!
//! // GET: two drives are gone; verify what is left and rebuild the block.
//! let mut read: Vec<Option<Vec<u8>>> = shards.into_iter().map(Some).collect();
//! read[0] = None;
//! read[3] = None;
//! for ((shard, hash), key) in read.iter().zip(&hashes).zip(&keys) {
//!     if let Some(shard) = shard {
//!         key.verify(0, hash, shard)?;
//!     }
//! }
//! // A shard read in another shard's place does not verify.
//! assert!(keys[2].verify(0, &hashes[1], read[1].as_ref().unwrap()).is_err());
//! Decoder::new(layout).reconstruct_data(&mut read, shard_size)?;
//! let mut got = Vec::new();
//! join_data(&read, layout.data, block.len(), &mut got);
//! assert_eq!(got, block);
//! # Ok::<(), minnow_codec::CodecError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bitrot;
pub mod erasure;
mod error;
pub mod layout;
pub mod placement;

pub use bitrot::{bitrot_hash, bitrot_verify, FrameKey, BITROT_HASH_LEN};
pub use erasure::{join_data, Decoder, Encoder};
pub use error::CodecError;
pub use layout::{ErasureLayout, BLOCK_SIZE};
pub use placement::{hash_order, sip_mod};

//! Bitrot protection: the HighwayHash-256 written in front of every shard block.
//!
//! Drives return wrong bytes without an error (firmware bugs, misdirected writes, decay), so
//! every shard block carries a hash of itself and every read verifies it before the bytes are
//! used or served. A mismatch is handled like a lost shard: rebuild from parity, then heal.
//!
//! Why HighwayHash-256: it runs at several GiB/s per core with SIMD (well above one NVMe
//! drive per core) and 256 bits make an undetected corruption beyond plausible. It is keyed,
//! but the key is a public constant: the hash guards against decay, not against an attacker
//! who can write to the drive.
//!
//! The key is MinIO's bitrot key (`magicHighwayHash256Key`: the HighwayHash-256, under the
//! zero key, of the first 100 decimals of pi, "1415...0679"), so a frame's hash is the same value MinIO's
//! streaming bitrot format stores. It is part of the on-disk format: never change it.
//!
//! **Bound frames.** A hash under one fixed key proves a block is intact, not that it is in the
//! right place: a shard file moved to another drive's slot (or another object's directory), or
//! blocks reordered, would verify and decode to wrong bytes. So new objects hash every block
//! under a [`FrameKey`] derived from the version (its data directory, or an id of its own for an
//! inline object), the shard index and the part number, with the block index mixed in: a block
//! verifies only at the one place it was written for. The key is derived once per shard file;
//! mixing in the block index is one XOR, so binding costs nothing per byte. Objects written
//! before binding keep [`FrameKey::Unbound`] (the fixed key for every block) and stay readable;
//! which key a version uses is recorded in its `xl.meta`.

use highway::{HighwayHash, HighwayHasher, Key};

use crate::error::CodecError;

/// Bytes of the bitrot hash in front of every shard block (HighwayHash-256).
pub const BITROT_HASH_LEN: usize = 32;

/// The fixed 32-byte HighwayHash key of every bitrot hash (see the module header).
pub const BITROT_KEY: [u8; 32] = [
    0x4b, 0xe7, 0x34, 0xfa, 0x8e, 0x23, 0x8a, 0xcd, 0x26, 0x3e, 0x83, 0xe6, 0xbb, 0x96, 0x85, 0x52,
    0x04, 0x0f, 0x93, 0x5d, 0xa3, 0x9f, 0x44, 0x14, 0x97, 0xe0, 0x9d, 0x13, 0x22, 0xde, 0x36, 0xa0,
];

const _: () = assert!(BITROT_HASH_LEN == 4 * size_of::<u64>());

/// HighwayHash reads its key as four little-endian 64-bit words.
const HIGHWAY_KEY: Key = Key([
    le_word(&BITROT_KEY, 0),
    le_word(&BITROT_KEY, 1),
    le_word(&BITROT_KEY, 2),
    le_word(&BITROT_KEY, 3),
]);

const fn le_word(bytes: &[u8; 32], word: usize) -> u64 {
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        out[i] = bytes[word * 8 + i];
        i += 1;
    }
    u64::from_le_bytes(out)
}

/// HighwayHash-256 of `bytes` with [`BITROT_KEY`], as 32 bytes (four little-endian words,
/// the byte order of the reference implementation's `Sum`).
pub fn bitrot_hash(bytes: &[u8]) -> [u8; BITROT_HASH_LEN] {
    keyed_hash(HIGHWAY_KEY, bytes)
}

fn keyed_hash(key: Key, bytes: &[u8]) -> [u8; BITROT_HASH_LEN] {
    let words = HighwayHasher::new(key).hash256(bytes);
    let mut out = [0u8; BITROT_HASH_LEN];
    for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// Domain separation of the key derivation (never change it: part of the on-disk format).
const FRAME_KEY_DOMAIN: &[u8] = b"minnow frame key v1\0";

/// How the blocks of one shard file are hashed; see the module header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKey {
    /// Written before frames were bound: every block under [`BITROT_KEY`].
    Unbound,
    /// The key of one shard file, bound to its version, shard index and part.
    Bound([u64; 4]),
}

impl FrameKey {
    /// The key of shard `shard` (0-based) of part `part` of the version identified by
    /// `version` (a data directory name, or an inline object's binding id).
    pub fn bound(version: &str, shard: usize, part: u32) -> Self {
        let mut message = Vec::with_capacity(FRAME_KEY_DOMAIN.len() + 8 + version.len());
        message.extend_from_slice(FRAME_KEY_DOMAIN);
        message.extend_from_slice(&(shard as u32).to_le_bytes());
        message.extend_from_slice(&part.to_le_bytes());
        message.extend_from_slice(version.as_bytes());
        FrameKey::Bound(HighwayHasher::new(HIGHWAY_KEY).hash256(&message))
    }

    /// The hash of block `block` (0-based within its part) holding `bytes`.
    pub fn hash(&self, block: u64, bytes: &[u8]) -> [u8; BITROT_HASH_LEN] {
        match self {
            FrameKey::Unbound => bitrot_hash(bytes),
            FrameKey::Bound(words) => {
                let mut key = *words;
                key[0] ^= block;
                keyed_hash(Key(key), bytes)
            }
        }
    }

    /// `Ok` if `expected` is the hash of block `block` holding `bytes`, else
    /// [`CodecError::Bitrot`].
    pub fn verify(&self, block: u64, expected: &[u8], bytes: &[u8]) -> Result<(), CodecError> {
        if expected == self.hash(block, bytes).as_slice() {
            Ok(())
        } else {
            Err(CodecError::Bitrot)
        }
    }
}

/// `Ok` if `bitrot_hash(bytes) == expected`, else [`CodecError::Bitrot`] (also when
/// `expected` is not 32 bytes long: a torn frame header is corruption too).
pub fn bitrot_verify(expected: &[u8], bytes: &[u8]) -> Result<(), CodecError> {
    if expected == bitrot_hash(bytes).as_slice() {
        Ok(())
    } else {
        Err(CodecError::Bitrot)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn key_is_the_hash_of_pi_under_the_zero_key() {
        // The key's documented derivation doubles as a known-answer test of the hash and of
        // its byte order: HH-256 with a zero key of the first 100 decimals of pi (the
        // digits after "3.").
        let pi = "1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679";
        assert_eq!(pi.len(), 100);
        assert_eq!(keyed_hash(Key([0; 4]), pi.as_bytes()), BITROT_KEY);
    }

    #[test]
    fn verify_accepts_own_hash() {
        for len in [0usize, 1, 31, 32, 33, 64, 1000, 65_536] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let hash = bitrot_hash(&bytes);
            assert!(bitrot_verify(&hash, &bytes).is_ok(), "len {len}");
        }
    }

    #[test]
    fn verify_catches_every_single_bit_flip() {
        let bytes: Vec<u8> = (0..257u32).map(|i| (i * 31) as u8).collect();
        let hash = bitrot_hash(&bytes);
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(bitrot_verify(&hash, &bad), Err(CodecError::Bitrot)),
                "bit {bit}"
            );
        }
        for bit in 0..BITROT_HASH_LEN * 8 {
            let mut bad_hash = hash;
            bad_hash[bit / 8] ^= 1 << (bit % 8);
            assert!(bitrot_verify(&bad_hash, &bytes).is_err(), "hash bit {bit}");
        }
    }

    #[test]
    fn verify_rejects_wrong_length_hash() {
        let hash = bitrot_hash(b"shard");
        assert!(bitrot_verify(&hash[..31], b"shard").is_err());
        assert!(bitrot_verify(&[], b"shard").is_err());
    }

    const DATA_DIR: &str = "0b1c2d3e-4f50-4617-8899-aabbccddeeff";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Objects written before binding: any block index gives the hash their frames hold.
    #[test]
    fn unbound_frames_are_the_old_frames() {
        let bytes = b"an old shard block";
        // Pinned: the frame hash the first on-disk format wrote for these bytes.
        assert_eq!(hex(&bitrot_hash(bytes)), GOLDEN_UNBOUND);
        let old = bitrot_hash(bytes);
        for block in [0, 1, 7, u64::MAX] {
            assert_eq!(FrameKey::Unbound.hash(block, bytes), old);
            assert!(FrameKey::Unbound.verify(block, &old, bytes).is_ok());
        }
    }

    #[test]
    fn bound_frames_verify_only_in_their_place() {
        let bytes = b"shard block";
        let key = FrameKey::bound(DATA_DIR, 2, 1);
        let hash = key.hash(5, bytes);
        assert!(key.verify(5, &hash, bytes).is_ok());
        let elsewhere = [
            (FrameKey::bound(DATA_DIR, 2, 1), 4, "another block"),
            (FrameKey::bound(DATA_DIR, 3, 1), 5, "another shard"),
            (FrameKey::bound(DATA_DIR, 2, 2), 5, "another part"),
            (
                FrameKey::bound("0b1c2d3e-4f50-4617-8899-aabbccddeef0", 2, 1),
                5,
                "another version",
            ),
            (FrameKey::Unbound, 5, "read as unbound"),
        ];
        for (other, block, what) in elsewhere {
            assert!(
                matches!(other.verify(block, &hash, bytes), Err(CodecError::Bitrot)),
                "{what}"
            );
        }
        // An unbound frame never passes as a bound one either.
        assert!(key.verify(5, &bitrot_hash(bytes), bytes).is_err());
    }

    /// Pins the derivation: if this fails, bound objects already written became unreadable.
    #[test]
    fn bound_key_golden() {
        let hash = FrameKey::bound(DATA_DIR, 1, 3).hash(2, b"minnow");
        assert_eq!(hex(&hash), GOLDEN_BOUND);
    }

    const GOLDEN_UNBOUND: &str = "66dbeffc9cefd2c54adc799e2dffbe933fccfeb4df27d06f6ac97f6d5db5def0";
    const GOLDEN_BOUND: &str = "28dcc75ba18251e0d795ff3adcf3746a98e0071b65a12c68175d8e9324918240";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn verify_catches_a_random_bit_flip(
            bytes in proptest::collection::vec(any::<u8>(), 1..4096),
            bit in any::<usize>(),
        ) {
            let hash = bitrot_hash(&bytes);
            let mut bad = bytes.clone();
            let bit = bit % (bad.len() * 8);
            bad[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(matches!(bitrot_verify(&hash, &bad), Err(CodecError::Bitrot)));
            prop_assert!(bitrot_verify(&hash, &bytes).is_ok());
        }
    }
}

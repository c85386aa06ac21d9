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

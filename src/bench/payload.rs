//! Object bodies, generated once before the run and shared by every core by reference, so the
//! generator never spends per-request CPU on making or hashing data.
//!
//! One random buffer holds all bodies: variant `i` is the slice starting at `i * 4096` (so
//! variants differ in content) with its own length (all equal to `--obj.size`, or log-uniform
//! random sizes with `--obj.randsize`). The SHA-256 of each variant (signed payloads) and of each
//! of its aws-chunked chunks (streaming payloads) is computed here, once; per request only the
//! small HMACs of the signature remain.
//!
//! Object `n` of a run always uses variant `n % variants`, so a GET knows the length to expect.

use rand::{Rng, RngCore, SeedableRng};
use sha2::{Digest, Sha256};

/// Bytes of object data per aws-chunked chunk in `--payload streaming` (the AWS SDKs use 64 KiB).
pub const STREAMING_CHUNK_BYTES: usize = 64 * 1024;

/// Distance between the starts of two variants in the shared buffer.
const VARIANT_STRIDE_BYTES: usize = 4096;

/// Which digests the payload mode needs, computed once per variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digests {
    /// `UNSIGNED-PAYLOAD`: none.
    None,
    /// Signed payload: SHA-256 of the whole body.
    Whole,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: SHA-256 of each chunk.
    Chunks,
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct PayloadSpec {
    /// Largest (and, without `random_sizes`, every) object size.
    pub size_max_bytes: u64,
    /// Log-uniform sizes between [`randsize_min`] and `size_max_bytes`.
    pub random_sizes: bool,
    /// How many distinct bodies.
    pub variant_count: usize,
    /// Digests to precompute.
    pub digests: Digests,
    /// Seed of the random content and sizes (fixed: runs are comparable).
    pub seed: u64,
}

/// One body: a slice of the shared buffer and its digests.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Start in the shared buffer.
    pub offset: usize,
    /// Body length.
    pub len: usize,
    /// Lower-case hex SHA-256 of the body (signed payloads), else empty.
    pub sha256_hex: String,
    /// SHA-256 of each [`STREAMING_CHUNK_BYTES`] chunk (streaming payloads), else empty.
    pub chunk_sha256: Vec<[u8; 32]>,
}

/// All bodies of a run.
#[derive(Debug)]
pub struct Payloads {
    data: Vec<u8>,
    variants: Vec<Variant>,
}

/// Smallest object `--obj.randsize` picks: 1 KiB, or the maximum if that is smaller.
pub fn randsize_min(size_max_bytes: u64) -> u64 {
    size_max_bytes.min(1024)
}

/// How many distinct bodies to keep: enough for variety, few enough that hashing them all at
/// start-up stays under ~1 GiB of work.
pub fn variant_count_for(size_max_bytes: u64) -> usize {
    let budget_bytes: u64 = 1 << 30;
    (budget_bytes / size_max_bytes.max(1)).clamp(8, 64) as usize
}

impl Payloads {
    /// Generate the buffer, the sizes and the digests.
    pub fn generate(spec: &PayloadSpec) -> Result<Payloads, String> {
        assert!(spec.variant_count >= 1);
        let size_max = usize::try_from(spec.size_max_bytes)
            .map_err(|_| "object size does not fit in memory".to_string())?;
        let buffer_len = size_max + spec.variant_count * VARIANT_STRIDE_BYTES;
        let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
        let mut data = vec![0u8; buffer_len];
        rng.fill_bytes(&mut data);
        let min = randsize_min(spec.size_max_bytes).max(1) as f64;
        let max = (spec.size_max_bytes.max(1)) as f64;
        let variants = (0..spec.variant_count)
            .map(|i| {
                let len = if spec.random_sizes {
                    let exponent = rng.gen_range(min.ln()..=max.ln());
                    (exponent.exp().round() as usize).clamp(min as usize, size_max)
                } else {
                    size_max
                };
                let offset = i * VARIANT_STRIDE_BYTES;
                let body = &data[offset..offset + len];
                let sha256_hex = match spec.digests {
                    Digests::Whole => hex::encode(Sha256::digest(body)),
                    Digests::None | Digests::Chunks => String::new(),
                };
                let chunk_sha256 = match spec.digests {
                    Digests::Chunks => body
                        .chunks(STREAMING_CHUNK_BYTES)
                        .map(|chunk| Sha256::digest(chunk).into())
                        .collect(),
                    Digests::None | Digests::Whole => Vec::new(),
                };
                Variant {
                    offset,
                    len,
                    sha256_hex,
                    chunk_sha256,
                }
            })
            .collect();
        Ok(Payloads { data, variants })
    }

    /// Number of distinct bodies.
    pub fn variant_count(&self) -> usize {
        self.variants.len()
    }

    /// The body object number `object_index` uses.
    pub fn for_object(&self, object_index: u64) -> (&Variant, &[u8]) {
        let variant = &self.variants[(object_index % self.variants.len() as u64) as usize];
        (
            variant,
            &self.data[variant.offset..variant.offset + variant.len],
        )
    }

    /// Mean body length, bytes.
    pub fn mean_len(&self) -> f64 {
        self.variants.iter().map(|v| v.len as f64).sum::<f64>() / self.variants.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(size: u64, random_sizes: bool, digests: Digests) -> PayloadSpec {
        PayloadSpec {
            size_max_bytes: size,
            random_sizes,
            variant_count: 8,
            digests,
            seed: 7,
        }
    }

    #[test]
    fn fixed_sizes_and_distinct_contents() {
        let p = Payloads::generate(&spec(10_000, false, Digests::None)).unwrap();
        assert_eq!(p.variant_count(), 8);
        let (v0, b0) = p.for_object(0);
        let (v1, b1) = p.for_object(1);
        let (v8, b8) = p.for_object(8);
        assert_eq!((v0.len, b0.len(), b1.len()), (10_000, 10_000, 10_000));
        assert_ne!(b0, b1);
        assert_eq!(b0, b8);
        assert_eq!(v8.offset, v0.offset);
        assert_eq!(v1.offset, 4096);
        assert!(v0.sha256_hex.is_empty() && v0.chunk_sha256.is_empty());
        assert_eq!(p.mean_len(), 10_000.0);
    }

    #[test]
    fn random_sizes_stay_in_range() {
        let p = Payloads::generate(&PayloadSpec {
            variant_count: 64,
            ..spec(1 << 20, true, Digests::None)
        })
        .unwrap();
        let lens: Vec<usize> = (0..64).map(|i| p.for_object(i).1.len()).collect();
        assert!(
            lens.iter().all(|&l| (1024..=1 << 20).contains(&l)),
            "{lens:?}"
        );
        assert!(
            lens.iter().any(|&l| l != lens[0]),
            "sizes should vary: {lens:?}"
        );
        // Deterministic: same seed, same sizes.
        let q = Payloads::generate(&PayloadSpec {
            variant_count: 64,
            ..spec(1 << 20, true, Digests::None)
        })
        .unwrap();
        assert!((0..64).all(|i| q.for_object(i).1.len() == lens[i as usize]));
    }

    #[test]
    fn tiny_random_sizes() {
        let p = Payloads::generate(&spec(100, true, Digests::None)).unwrap();
        assert!((0..8).all(|i| p.for_object(i).1.len() == 100));
    }

    #[test]
    fn digests_match_the_bytes() {
        let p = Payloads::generate(&spec(150_000, false, Digests::Whole)).unwrap();
        let (v, body) = p.for_object(3);
        assert_eq!(v.sha256_hex, hex::encode(Sha256::digest(body)));
        let p = Payloads::generate(&spec(150_000, false, Digests::Chunks)).unwrap();
        let (v, body) = p.for_object(3);
        assert_eq!(v.chunk_sha256.len(), 3); // 64 KiB + 64 KiB + 18,928 bytes
        let last: [u8; 32] = Sha256::digest(&body[2 * STREAMING_CHUNK_BYTES..]).into();
        assert_eq!(v.chunk_sha256[2], last);
    }

    #[test]
    fn variant_counts() {
        assert_eq!(variant_count_for(4096), 64);
        assert_eq!(variant_count_for(64 << 20), 16);
        assert_eq!(variant_count_for(1 << 30), 8);
    }
}

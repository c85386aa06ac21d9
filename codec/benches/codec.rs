//! Codec micro-benches: one line per operation, MiB/s of object data per 1 MiB block on one
//! core, and the ratio of our wrapper to the bare library call it wraps (1.00 = no overhead;
//! above 1 means reusing coder state beats the library's one-shot helper).
//!
//! Encode is compared with `reed_solomon_simd::encode` given the data shards already cut, so
//! ours also pays the block -> shard-buffer copy the shards need anyway to reach the drives;
//! the bare call pays a fresh coder per call, which ours keeps between blocks.
//!
//! Run with `cargo bench -p minnow-codec` (about 20 s). Plain `Instant` loops, no harness.

use std::hint::black_box;
use std::time::{Duration, Instant};

use highway::{HighwayHash, HighwayHasher, Key};
use md5::{Digest, Md5};
use minnow_codec::bitrot::BITROT_KEY;
use minnow_codec::{bitrot_hash, Decoder, Encoder, ErasureLayout, BLOCK_SIZE};
use sha2::Sha256;

/// Each operation runs ROUNDS times for ROUND_BUDGET, interleaved with the operation it is
/// compared to, and keeps its best round: on a shared 2-core machine a neighbour's compile
/// slows some rounds, never speeds one up.
const ROUNDS: u32 = 5;
const ROUND_BUDGET: Duration = Duration::from_millis(100);
const LAYOUTS: [(usize, usize); 4] = [(2, 2), (4, 2), (8, 4), (12, 4)];
const MIB: f64 = (1 << 20) as f64;

/// Best seconds per call of each op, rounds interleaved across the ops.
fn best_seconds_per_op<const N: usize>(mut ops: [&mut dyn FnMut(); N]) -> [f64; N] {
    for op in ops.iter_mut() {
        for _ in 0..3 {
            op(); // warm-up: page in buffers, size the coders
        }
    }
    let mut best = [f64::INFINITY; N];
    for _ in 0..ROUNDS {
        for (op, best) in ops.iter_mut().zip(&mut best) {
            let start = Instant::now();
            let mut calls = 0u32;
            while start.elapsed() < ROUND_BUDGET {
                op();
                calls += 1;
            }
            *best = best.min(start.elapsed().as_secs_f64() / f64::from(calls));
        }
    }
    best
}

fn seconds_per_op(mut op: impl FnMut()) -> f64 {
    let [seconds] = best_seconds_per_op([&mut op]);
    seconds
}

/// MiB/s of object data when one call handles one block.
fn mib_per_s(seconds_per_block: f64) -> f64 {
    BLOCK_SIZE as f64 / MIB / seconds_per_block
}

fn report(name: &str, ours: f64, base_label: &str, base: f64) {
    println!(
        "{name:<34} ours {:>8.0} MiB/s   {base_label} {:>8.0} MiB/s   ratio {:.2}",
        mib_per_s(ours),
        mib_per_s(base),
        base / ours
    );
}

fn report_bare(name: &str, bare: f64) {
    println!("{name:<34} bare {:>8.0} MiB/s", mib_per_s(bare));
}

fn block_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn main() {
    let block = block_bytes(BLOCK_SIZE);
    println!("per {} KiB block, one core", BLOCK_SIZE / 1024);

    let mut encode_seconds = Vec::new();
    for (data, parity) in LAYOUTS {
        let layout = ErasureLayout::new(data, parity, BLOCK_SIZE).expect("bench layout");
        let shard_size = layout.shard_size(BLOCK_SIZE);
        let mut shards = vec![vec![0u8; shard_size]; layout.total()];
        let mut encoder = Encoder::new(layout);
        let mut out: Vec<&mut [u8]> = shards.iter_mut().map(Vec::as_mut_slice).collect();
        encoder.encode(&block, &mut out).expect("encode");
        let encoded = shards.clone();

        // The bare call gets the data shards already cut; ours also cuts the block.
        let [ours, bare] = best_seconds_per_op([
            &mut || {
                let mut out: Vec<&mut [u8]> = shards.iter_mut().map(Vec::as_mut_slice).collect();
                black_box(encoder.encode(black_box(&block), &mut out).expect("encode"));
            },
            &mut || {
                let recovery = reed_solomon_simd::encode(data, parity, black_box(&encoded[..data]));
                black_box(recovery.expect("bare encode"));
            },
        ]);
        report(&format!("rs encode {data}+{parity}"), ours, "bare", bare);
        encode_seconds.push(ours);

        // Lose `parity` data shards: the worst case a GET repairs on the fly.
        let mut decoder = Decoder::new(layout);
        let mut read: Vec<Option<Vec<u8>>> = encoded.iter().cloned().map(Some).collect();
        let [ours, bare] = best_seconds_per_op([
            &mut || {
                read[..parity].fill(None);
                decoder
                    .reconstruct_data(&mut read, shard_size)
                    .expect("reconstruct");
                black_box(&read);
            },
            &mut || {
                let originals = encoded[parity..data].iter().enumerate();
                let originals = originals.map(|(i, shard)| (i + parity, shard));
                let recovery = encoded[data..].iter().enumerate();
                let restored = reed_solomon_simd::decode(data, parity, originals, recovery);
                black_box(restored.expect("bare decode"));
            },
        ]);
        report(
            &format!("rs reconstruct {data}+{parity} (lose {parity})"),
            ours,
            "bare",
            bare,
        );
    }

    let highway_key = Key(std::array::from_fn(|i| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&BITROT_KEY[i * 8..i * 8 + 8]);
        u64::from_le_bytes(word)
    }));
    let [ours, bare] = best_seconds_per_op([
        &mut || {
            black_box(bitrot_hash(black_box(&block)));
        },
        &mut || {
            black_box(HighwayHasher::new(highway_key).hash256(black_box(&block)));
        },
    ]);
    report("highwayhash-256 (bitrot)", ours, "bare", bare);

    report_bare(
        "md5 (md-5)",
        seconds_per_op(|| {
            black_box(Md5::digest(black_box(&block)));
        }),
    );
    report_bare(
        "sha-256 (sha2)",
        seconds_per_op(|| {
            black_box(Sha256::digest(black_box(&block)));
        }),
    );
    report_bare(
        "crc32c (crc-fast)",
        seconds_per_op(|| {
            let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, black_box(&block));
            black_box(crc);
        }),
    );
    report_bare(
        "crc64nvme (crc-fast)",
        seconds_per_op(|| {
            let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, black_box(&block));
            black_box(crc);
        }),
    );

    // The PUT block pipeline: encode, then hash every shard (data and parity) for its frame.
    // "parts" is the encode measured above plus hashing the same shards on their own.
    for ((data, parity), encode) in LAYOUTS.into_iter().zip(encode_seconds) {
        let layout = ErasureLayout::new(data, parity, BLOCK_SIZE).expect("bench layout");
        let shard_size = layout.shard_size(BLOCK_SIZE);
        let mut shards = vec![vec![0u8; shard_size]; layout.total()];
        let encoded = shards.clone();
        let mut hashes = vec![[0u8; 32]; layout.total()];
        let mut encoder = Encoder::new(layout);
        let [ours, hash_all] = best_seconds_per_op([
            &mut || {
                let mut out: Vec<&mut [u8]> = shards.iter_mut().map(Vec::as_mut_slice).collect();
                encoder.encode(black_box(&block), &mut out).expect("encode");
                for (hash, shard) in hashes.iter_mut().zip(&shards) {
                    *hash = bitrot_hash(shard);
                }
                black_box(&hashes);
            },
            &mut || {
                let hashes: Vec<[u8; 32]> = encoded.iter().map(|s| bitrot_hash(s)).collect();
                black_box(hashes);
            },
        ]);
        report(
            &format!("put block {data}+{parity} (encode+bitrot)"),
            ours,
            "parts",
            encode + hash_all,
        );
    }
}

//! `xl.meta`: the per-object metadata file, one per object directory per drive.
//!
//! It lists the object's versions (newest first): size, ETag, user metadata, checksums, the
//! erasure layout and this drive's shard index, the part list, and either the data directory
//! holding the shard files or the shard bytes themselves (small objects are stored inline).
//!
//! ```text
//! <drive>/<bucket>/<key...>/xl.meta
//!
//! offset  size  field
//!      0     4  magic  b"XLMN"
//!      4     2  major  u16 little-endian (FORMAT_MAJOR)
//!      6     2  minor  u16 little-endian (FORMAT_MINOR)
//!      8     4  crc    u32 little-endian, CRC-32 (IEEE) of the payload
//!     12     4  len    u32 little-endian, payload length; the file is exactly 16 + len bytes
//!     16   len  payload: rkyv 0.8 archive of `XlMeta`
//! ```
//!
//! Why a header in front of rkyv: the archive is read with full validation (`bytecheck`), but
//! validation only proves the bytes are *a* well-formed archive, not *ours* nor *whole*. The magic
//! rejects foreign files, the length rejects torn (short) and padded files, the CRC rejects
//! flipped bytes that still validate. [`decode`] returns [`DriveError::Corrupt`] for all of
//! them and never panics, whatever the input (the object layer then heals from other drives).
//!
//! Invariants: `decode(&encode(m)) == m`; every byte sequence that is not exactly an
//! `encode` output either decodes to a value whose re-encoding is the same bytes or is Corrupt
//! (up to CRC collisions).

use std::path::PathBuf;

use rkyv::rancor;

use crate::DriveError;

/// File name of the metadata file inside an object directory.
pub const FILE_NAME: &str = "xl.meta";
/// First four bytes of every xl.meta.
pub const MAGIC: [u8; 4] = *b"XLMN";
/// On-disk compatibility, major part. Bump it for ANY change of the archived layout: a field
/// added, removed, reordered or retyped in `XlMeta` or the structs it holds, a change of the
/// rkyv major version, or of rkyv's format features (endianness, pointer width, alignment:
/// minnow uses rkyv's defaults, little-endian, 32-bit relative pointers; a crate that enables
/// `big_endian` or `pointer_width_64` anywhere in the workspace changes this format, and the
/// golden test below fails). A reader refuses a major it does not know (Corrupt), so bumping
/// it needs a migration (read old, write new) shipped before or with the bump.
pub const FORMAT_MAJOR: u16 = 1;
/// On-disk compatibility, minor part. Bump it for changes a reader of the same major can
/// still read correctly because the layout is unchanged: new well-known keys in `meta`
/// or `checksums`, new values of string fields. Readers accept any minor of their major.
///
/// Minor 1: a version may carry [`META_FRAME_BINDING`]; its shard frames are then bound to their
/// place (`minnow_codec::FrameKey`). A version without it was written with unbound frames.
pub const FORMAT_MINOR: u16 = 1;
/// `meta` keys starting with this are minnow's own, never a client's (clients can store only
/// content-* headers and `x-amz-meta-*`): never shown to clients, never copied to another object.
pub const INTERNAL_META_PREFIX: &str = "x-minnow-internal-";
/// `meta` key whose value binds the version's shard frames: the id their `FrameKey`s are derived
/// from (the data directory name; a fresh uuid for an inline object).
pub const META_FRAME_BINDING: &str = "x-minnow-internal-frame-binding";
/// Most versions one object may hold: a commit beyond it is refused
/// ([`DriveError::TooManyVersions`]), which bounds the size of `xl.meta`.
pub const MAX_VERSIONS: usize = 10_000;
/// The id of the null version (S3's `null`): the version of unversioned and suspended writes.
pub const NULL_VERSION_ID: &str = "";
/// Bytes before the payload.
pub const HEADER_LEN: usize = 16;

const _: () = assert!(HEADER_LEN == MAGIC.len() + 2 + 2 + 4 + 4);

/// All versions of one object on one drive.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct XlMeta {
    /// Newest first (only one until versioning).
    pub versions: Vec<ObjectVersion>,
}

/// One version of an object (or a delete marker).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct ObjectVersion {
    /// "" = null version.
    pub version_id: String,
    /// Last-Modified, ns since the Unix epoch.
    pub mod_time_ns: i64,
    /// Object size in bytes (not the shard size).
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// uuid of the directory holding the part files; None when inline.
    pub data_dir: Option<String>,
    /// This drive's framed shard bytes when inline.
    pub inline_data: Option<Vec<u8>>,
    /// Erasure layout and this drive's place in it.
    pub erasure: ErasureInfo,
    /// Parts (one for a simple PUT).
    pub parts: Vec<PartInfo>,
    /// Lower-case header name -> value: content-type, x-amz-meta-*, ...
    pub meta: Vec<(String, String)>,
    /// Object-level checksums, e.g. ("CRC32", base64).
    pub checksums: Vec<(String, String)>,
    /// True for a delete marker (no data).
    pub delete_marker: bool,
    /// Object tags (key, value), in the order they were given; at most 10.
    pub tags: Vec<(String, String)>,
}

impl ObjectVersion {
    /// A `meta` value by its (lower-case) name.
    pub fn meta_value(&self, name: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Erasure coding of a version.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct ErasureInfo {
    /// Data shards.
    pub data: u8,
    /// Parity shards.
    pub parity: u8,
    /// Object bytes per erasure block.
    pub block_size: u32,
    /// This drive's shard, 0-based.
    pub index: u8,
    /// distribution[drive] = shard index held by drive (hash order), for every drive of the set.
    pub distribution: Vec<u8>,
}

/// One part of an object.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct PartInfo {
    /// Part number, 1-based.
    pub number: u32,
    /// Part size in bytes (object bytes).
    pub size: u64,
    /// Part ETag without quotes.
    pub etag: String,
    /// Part-level checksums, e.g. ("CRC32", base64).
    pub checksums: Vec<(String, String)>,
}

/// Serialize with the header. Infallible for any xl.meta that fits the format (payload < 4 GiB).
pub fn encode(m: &XlMeta) -> Vec<u8> {
    let payload = match rkyv::to_bytes::<rancor::Error>(m) {
        Ok(payload) => payload,
        // Only possible when the archive outgrows 32-bit offsets: a caller bug (inline data is
        // capped far below that).
        Err(e) => panic!("xl.meta does not fit the archive format: {e}"),
    };
    let Ok(payload_len) = u32::try_from(payload.len()) else {
        panic!(
            "xl.meta payload of {} bytes does not fit the header",
            payload.len()
        );
    };
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
    out.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload_len.to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Parse and verify; Corrupt on bad magic / unknown major / length / CRC / archive.
/// The error's path is just "xl.meta": the caller knows which drive and object it read.
pub fn decode(bytes: &[u8]) -> Result<XlMeta, DriveError> {
    let corrupt = |reason: String| DriveError::Corrupt {
        path: PathBuf::from(FILE_NAME),
        reason,
    };
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(format!(
            "{} bytes, shorter than the header",
            bytes.len()
        )));
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    if header[0..4] != MAGIC {
        return Err(corrupt("bad magic (not an xl.meta)".to_string()));
    }
    let field_u16 = |at: usize| u16::from_le_bytes([header[at], header[at + 1]]);
    let field_u32 = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let major = field_u16(4);
    if major != FORMAT_MAJOR {
        return Err(corrupt(format!(
            "format major {major}, this build reads {FORMAT_MAJOR}"
        )));
    }
    let crc = field_u32(8);
    let payload_len = field_u32(12) as usize;
    if payload_len != payload.len() {
        return Err(corrupt(format!(
            "payload is {} bytes, header says {payload_len} (torn or padded)",
            payload.len()
        )));
    }
    if crc32fast::hash(payload) != crc {
        return Err(corrupt("payload CRC mismatch".to_string()));
    }
    // rkyv wants the archive aligned (16): the payload sits at offset 16 of a Vec<u8> whose own
    // alignment is 1, so copy it into an aligned buffer. xl.meta is small; the copy is cheap.
    let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(payload.len());
    aligned.extend_from_slice(payload);
    rkyv::from_bytes::<XlMeta, rancor::Error>(&aligned)
        .map_err(|e| corrupt(format!("invalid archive: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> XlMeta {
        XlMeta {
            versions: vec![
                ObjectVersion {
                    version_id: String::new(),
                    mod_time_ns: 1_700_000_000_123_456_789,
                    size: 10 << 20,
                    etag: "9e107d9d372bb6826bd81d3542a419d6".to_string(),
                    data_dir: Some("0b1c2d3e-4f50-4617-8899-aabbccddeeff".to_string()),
                    inline_data: None,
                    erasure: ErasureInfo {
                        data: 4,
                        parity: 2,
                        block_size: 1 << 20,
                        index: 3,
                        distribution: vec![3, 4, 5, 0, 1, 2],
                    },
                    parts: vec![PartInfo {
                        number: 1,
                        size: 10 << 20,
                        etag: "9e107d9d372bb6826bd81d3542a419d6".to_string(),
                        checksums: vec![("CRC32".to_string(), "AAAAAA==".to_string())],
                    }],
                    meta: vec![
                        ("content-type".to_string(), "text/plain".to_string()),
                        ("x-amz-meta-a".to_string(), "ü".to_string()),
                    ],
                    checksums: vec![],
                    delete_marker: false,
                },
                ObjectVersion {
                    version_id: "v1".to_string(),
                    inline_data: Some(vec![7; 100]),
                    delete_marker: true,
                    ..ObjectVersion::default()
                },
            ],
        }
    }

    fn small() -> XlMeta {
        XlMeta {
            versions: vec![ObjectVersion {
                etag: "e".to_string(),
                inline_data: Some(vec![1, 2, 3]),
                parts: vec![PartInfo {
                    number: 1,
                    size: 3,
                    ..PartInfo::default()
                }],
                ..ObjectVersion::default()
            }],
        }
    }

    fn assert_corrupt(bytes: &[u8], what: &str) {
        match decode(bytes) {
            Err(DriveError::Corrupt { .. }) => {}
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        for m in [XlMeta::default(), small(), sample()] {
            let bytes = encode(&m);
            assert_eq!(&bytes[..4], b"XLMN");
            assert_eq!(decode(&bytes).expect("decode"), m);
        }
    }

    #[test]
    fn torn_at_every_length() {
        let bytes = encode(&small());
        for len in 0..bytes.len() {
            assert_corrupt(&bytes[..len], &format!("truncated to {len}"));
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_corrupt(&padded, "one trailing byte");
    }

    #[test]
    fn every_flipped_byte_is_corrupt() {
        let bytes = encode(&small());
        for at in 0..bytes.len() {
            let minor = (6..8).contains(&at);
            for bit in [0x01u8, 0x80] {
                let mut bad = bytes.clone();
                bad[at] ^= bit;
                if minor {
                    // The minor version is advisory: any minor of our major is readable.
                    assert_eq!(decode(&bad).expect("minor"), small());
                } else {
                    assert_corrupt(&bad, &format!("bit {bit:#x} of byte {at} flipped"));
                }
            }
        }
    }

    #[test]
    fn foreign_bytes() {
        assert_corrupt(b"", "empty");
        assert_corrupt(b"XL2 1   \x01\x00\x03\x00", "a MinIO xl.meta header");
        assert_corrupt(&[0u8; 4096], "zeros");
        assert_corrupt(b"{\"version\":1,\"format\":\"minnow\"}", "json");
        // Our header over a payload that is not an archive of XlMeta: right CRC, right length.
        let payload = [0xffu8; 64];
        let mut forged = Vec::new();
        forged.extend_from_slice(&MAGIC);
        forged.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
        forged.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
        forged.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        forged.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        forged.extend_from_slice(&payload);
        assert_corrupt(&forged, "valid header, garbage archive");
        // A future major.
        let mut future = encode(&small());
        future[4..6].copy_from_slice(&(FORMAT_MAJOR + 1).to_le_bytes());
        assert_corrupt(&future, "unknown major");
    }

    /// Pins the on-disk bytes: if this fails, the archived layout changed (a struct edit, an
    /// rkyv upgrade, or an rkyv format feature switched on somewhere in the workspace), which
    /// needs a FORMAT_MAJOR bump and a migration, not a new golden value.
    #[test]
    fn golden_bytes() {
        // GOLDEN_SMALL was written by minor 0; this build writes the same bytes but its minor.
        let golden = hex::decode(GOLDEN_SMALL).expect("hex");
        let mut expected = golden.clone();
        expected[6..8].copy_from_slice(&FORMAT_MINOR.to_le_bytes());
        assert_eq!(hex::encode(encode(&small())), hex::encode(expected));
        assert_eq!(decode(&golden).expect("golden decodes"), small());
    }

    const GOLDEN_SMALL: &str = concat!(
        "584c4d4e0100000069b106ac9800000001020300000000000100000000000000",
        "0300000000000000ffffffffffffffffe4ffffff00000000ffffffffffffffff",
        "0000000000000000000000000000000065ffffffffffffff0000000000000000",
        "0000000001000000a8ffffff0300000000000000000000000000000097ffffff",
        "0000000094ffffff01000000acffffff00000000a4ffffff0000000000000000",
        "98ffffff01000000",
    );
}

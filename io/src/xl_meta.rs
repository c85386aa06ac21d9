//! `xl.meta`: the per-object metadata file, one per object directory per drive.
//!
//! It lists the object's versions, newest first: size, ETag, user metadata, tags, checksums,
//! the erasure layout and this drive's shard index, the part list, and either the data
//! directory holding the shard files or the shard bytes themselves (small objects are inline).
//!
//! **Format 2** (this build writes it) keeps every version's metadata apart from its inline
//! bytes, and every version's record apart from the others, so that a change of one version
//! copies the other versions as raw bytes (one memcpy, never a decode), and a listing reads only
//! the metadata section at the front of the file, never the inline data:
//!
//! ```text
//! <drive>/<bucket>/<key...>/xl.meta
//!
//! header (HEADER_LEN = 24 bytes, integers little-endian)
//!      0     4  magic       b"XLMN"
//!      4     2  major       u16 (FORMAT_MAJOR = 2)
//!      6     2  minor       u16 (FORMAT_MINOR)
//!      8     4  meta_len    u32, bytes of the metadata section
//!     12     4  meta_crc    u32, CRC-32 (IEEE) of the metadata section
//!     16     4  inline_len  u32, bytes of the inline section
//!     20     4  inline_crc  u32, CRC-32 (IEEE) of the inline section
//! metadata section (meta_len bytes, at 24)
//!      0     4  count       u32, number of versions
//!      then `count` entries, newest first, back to back:
//!      0     8  mod_time_ns i64
//!      8     4  record_len  u32
//!     12     4  inline_len  u32 (0 unless FLAG_INLINE)
//!     16     2  id_len      u16
//!     18     2  dir_len     u16 (0 unless FLAG_DATA_DIR)
//!     20     1  flags       bit 0 delete marker, bit 1 has inline data, bit 2 has data dir
//!     21     3  reserved    zero
//!     24  id_len    version id (UTF-8)
//!         dir_len   data directory name (UTF-8)
//!         record_len  rkyv 0.8 archive of the `ObjectVersion`, `inline_data` left out
//! inline section (inline_len bytes, at 24 + meta_len)
//!      the inline bytes of the versions that have them, in version order, back to back
//! ```
//!
//! The file is exactly `24 + meta_len + inline_len` bytes. The fields an operation needs to
//! find, order and free versions (id, time, flags, data directory) sit in each entry's fixed
//! header, so no operation decodes a record it does not return.
//!
//! Why a header in front of rkyv: the archive is read with full validation (`bytecheck`), but
//! validation only proves the bytes are *a* well-formed archive, not *ours* nor *whole*. The magic
//! rejects foreign files, the lengths reject torn (short) and padded files, the CRCs reject
//! flipped bytes that still validate. Every function here returns [`DriveError::Corrupt`] for
//! all of them and never panics, whatever the input (the object layer then heals from other
//! drives). A read of the metadata section alone ([`metadata_end`], [`versions`],
//! [`read_version`] without data) checks the metadata CRC only: a flipped inline byte is seen
//! by reads with data and by every change, not by listings.
//!
//! **Format 1** (files written before format 2: a 16-byte header `magic, major 1, minor, crc,
//! len` and one rkyv archive of all versions, inline data included, without tags) is still
//! read everywhere ([`legacy`]); the first change of such a file rewrites it as format 2.
//!
//! Invariants: `decode(&encode(m)) == m`; every byte sequence that is not exactly an
//! `encode` output either decodes to a value whose re-encoding is the same bytes or is Corrupt
//! (up to CRC collisions). Callers serialise changes of one object (the object layer holds the
//! key's lock): every change is read, apply, replace.

use rkyv::rancor;

use crate::DriveError;

/// File name of the metadata file inside an object directory.
pub const FILE_NAME: &str = "xl.meta";
/// First four bytes of every xl.meta.
pub const MAGIC: [u8; 4] = *b"XLMN";
/// On-disk compatibility, major part. Bump it for ANY change of the layout above or of the
/// archived records: a field added, removed, reordered or retyped in `ObjectVersion` or the
/// structs it holds, a change of the rkyv major version, or of rkyv's format features
/// (endianness, pointer width, alignment: minnow uses rkyv's defaults, little-endian, 32-bit
/// relative pointers; a crate that enables `big_endian` or `pointer_width_64` anywhere in the
/// workspace changes this format, and the golden tests below fail). A reader refuses a major it
/// does not know (Corrupt), so bumping it needs a migration (read old, write new) shipped with
/// the bump, as [`legacy`] is for major 1.
///
/// Major 2: metadata and inline sections, one record per version, `ObjectVersion::tags`.
pub const FORMAT_MAJOR: u16 = 2;
/// On-disk compatibility, minor part. Bump it for changes a reader of the same major can
/// still read correctly because the layout is unchanged: new well-known keys in `meta`
/// or `checksums`, new values of string fields. Readers accept any minor of their major.
pub const FORMAT_MINOR: u16 = 0;
/// `meta` keys starting with this are minnow's own, never a client's (clients can store only
/// content-* headers and `x-amz-meta-*`): never shown to clients, never copied to another object.
pub const INTERNAL_META_PREFIX: &str = "x-minnow-internal-";
/// `meta` key whose value binds the version's shard frames: the id their `FrameKey`s are derived
/// from (the data directory name; a fresh uuid for an inline object). A version without it was
/// written with unbound frames (format 1 minor 0).
pub const META_FRAME_BINDING: &str = "x-minnow-internal-frame-binding";
/// Most versions one object may hold: a commit beyond it is refused
/// ([`DriveError::TooManyVersions`]), which bounds the size of `xl.meta`.
pub const MAX_VERSIONS: usize = 10_000;
/// The id of the null version (S3's `null`): the version of unversioned and suspended writes.
pub const NULL_VERSION_ID: &str = "";
/// Bytes of the file header.
pub const HEADER_LEN: usize = 24;
/// Bytes of the fixed part of a version entry in the metadata section.
pub const ENTRY_HEADER_LEN: usize = 24;
/// What a listing reads of an `xl.meta` first: enough for the metadata section of almost any
/// object; a longer one costs a second read of the rest of the section ([`metadata_end`]).
pub const FIRST_READ_BYTES: usize = 8 << 10;

const _: () = assert!(HEADER_LEN == MAGIC.len() + 2 + 2 + 4 * 4);
const _: () = assert!(ENTRY_HEADER_LEN == 8 + 4 + 4 + 2 + 2 + 1 + 3);

const FLAG_DELETE_MARKER: u8 = 1;
const FLAG_INLINE: u8 = 2;
const FLAG_DATA_DIR: u8 = 4;
const KNOWN_FLAGS: u8 = FLAG_DELETE_MARKER | FLAG_INLINE | FLAG_DATA_DIR;

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

impl ObjectVersion {
    /// A `meta` value by its (lower-case) name.
    pub fn meta_value(&self, name: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A copy without the inline data (whose bytes are not copied).
    pub fn without_inline_data(&self) -> ObjectVersion {
        ObjectVersion {
            version_id: self.version_id.clone(),
            mod_time_ns: self.mod_time_ns,
            size: self.size,
            etag: self.etag.clone(),
            data_dir: self.data_dir.clone(),
            inline_data: None,
            erasure: self.erasure.clone(),
            parts: self.parts.clone(),
            meta: self.meta.clone(),
            checksums: self.checksums.clone(),
            delete_marker: self.delete_marker,
            tags: self.tags.clone(),
        }
    }
}

fn corrupt(reason: impl Into<String>) -> DriveError {
    DriveError::Corrupt {
        path: FILE_NAME.to_string(),
        reason: reason.into(),
    }
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_i64(b: &[u8], at: usize) -> i64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(word)
}

/// The format major of a file, from its first 6 bytes; Corrupt for a foreign file.
fn major_of(bytes: &[u8]) -> Result<u16, DriveError> {
    if bytes.len() < 6 {
        return Err(corrupt(format!(
            "{} bytes, shorter than the header",
            bytes.len()
        )));
    }
    if bytes[0..4] != MAGIC {
        return Err(corrupt("bad magic (not an xl.meta)"));
    }
    match le_u16(bytes, 4) {
        major @ (1 | FORMAT_MAJOR) => Ok(major),
        major => Err(corrupt(format!(
            "format major {major}, this build reads 1 and {FORMAT_MAJOR}"
        ))),
    }
}

/// How many leading bytes of a file a metadata read ([`versions`], [`read_version`] without
/// data, [`data_dirs`]) needs, from a first chunk holding at least the header (a shorter chunk
/// is Corrupt: the caller passes the whole file when it is shorter than its first read).
/// Format 1 keeps everything in one archive: the whole file.
pub fn metadata_end(first: &[u8]) -> Result<usize, DriveError> {
    let (header_len, section_len) = match major_of(first)? {
        1 => (legacy::HEADER_LEN, 12),
        _ => (HEADER_LEN, 8),
    };
    if first.len() < header_len {
        return Err(corrupt(format!(
            "{} bytes, shorter than the header",
            first.len()
        )));
    }
    Ok(header_len + le_u32(first, section_len) as usize)
}

/// One version's entry in a file, borrowed from its bytes.
struct Entry<'a> {
    mod_time_ns: i64,
    flags: u8,
    version_id: &'a str,
    data_dir: Option<&'a str>,
    /// The whole entry as stored (fixed header, id, data directory, record).
    raw: &'a [u8],
    record: &'a [u8],
    /// The version's inline bytes, when the inline section was read and it has some.
    inline: Option<&'a [u8]>,
}

impl Entry<'_> {
    fn has_inline(&self) -> bool {
        self.flags & FLAG_INLINE != 0
    }

    /// The full version (record decoded and checked against the entry header), with its
    /// inline data when `with_data` (the inline section must have been parsed).
    fn decode(&self, with_data: bool) -> Result<ObjectVersion, DriveError> {
        let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(self.record.len());
        aligned.extend_from_slice(self.record);
        let mut version = rkyv::from_bytes::<ObjectVersion, rancor::Error>(&aligned)
            .map_err(|e| corrupt(format!("invalid version record: {e}")))?;
        if version.version_id != self.version_id
            || version.mod_time_ns != self.mod_time_ns
            || version.delete_marker != (self.flags & FLAG_DELETE_MARKER != 0)
            || version.data_dir.as_deref() != self.data_dir
            || version.inline_data.is_some()
        {
            return Err(corrupt("version record disagrees with its entry header"));
        }
        if with_data && self.has_inline() {
            let Some(inline) = self.inline else {
                return Err(corrupt("inline section not read"));
            };
            version.inline_data = Some(inline.to_vec());
        }
        Ok(version)
    }
}

/// A format 2 file, parsed into entries (nothing decoded).
struct Parsed<'a> {
    entries: Vec<Entry<'a>>,
}

impl<'a> Parsed<'a> {
    fn position(&self, version_id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.version_id == version_id)
    }

    /// The entry of `version_id`, or the latest for None; VersionNotFound.
    fn find(&self, version_id: Option<&str>) -> Result<&Entry<'a>, DriveError> {
        let found = match version_id {
            Some(id) => self.position(id).map(|at| &self.entries[at]),
            None => self.entries.first(),
        };
        found.ok_or(DriveError::VersionNotFound)
    }
}

/// Parse a format 2 file. With `whole`, `bytes` must be the whole file and both sections are
/// checked; without, `bytes` may end anywhere after the metadata section, and only that
/// section is checked.
fn parse_v2(bytes: &[u8], whole: bool) -> Result<Parsed<'_>, DriveError> {
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(format!(
            "{} bytes, shorter than the header",
            bytes.len()
        )));
    }
    let meta_len = le_u32(bytes, 8) as usize;
    let meta_crc = le_u32(bytes, 12);
    let inline_len = le_u32(bytes, 16) as usize;
    let inline_crc = le_u32(bytes, 20);
    let meta_end = HEADER_LEN + meta_len;
    let file_len = meta_end + inline_len;
    if bytes.len() < meta_end || (whole && bytes.len() != file_len) || bytes.len() > file_len {
        return Err(corrupt(format!(
            "{} bytes, header says {file_len} (torn or padded)",
            bytes.len()
        )));
    }
    let section = &bytes[HEADER_LEN..meta_end];
    if crc32fast::hash(section) != meta_crc {
        return Err(corrupt("metadata section CRC mismatch"));
    }
    let inline_section = if whole {
        let inline = &bytes[meta_end..];
        if crc32fast::hash(inline) != inline_crc {
            return Err(corrupt("inline section CRC mismatch"));
        }
        Some(inline)
    } else {
        None
    };
    if section.len() < 4 {
        return Err(corrupt("metadata section shorter than its count"));
    }
    let count = le_u32(section, 0) as usize;
    let mut entries = Vec::with_capacity(count.min(section.len() / ENTRY_HEADER_LEN));
    let mut pos = 4;
    let mut inline_pos = 0usize;
    for _ in 0..count {
        let rest = &section[pos..];
        if rest.len() < ENTRY_HEADER_LEN {
            return Err(corrupt("version entry cut short"));
        }
        let mod_time_ns = le_i64(rest, 0);
        let record_len = le_u32(rest, 8) as usize;
        let entry_inline_len = le_u32(rest, 12) as usize;
        let id_len = le_u16(rest, 16) as usize;
        let dir_len = le_u16(rest, 18) as usize;
        let flags = rest[20];
        if flags & !KNOWN_FLAGS != 0 || rest[21..24] != [0, 0, 0] {
            return Err(corrupt("unknown version entry flags"));
        }
        if (flags & FLAG_INLINE == 0 && entry_inline_len != 0)
            || (flags & FLAG_DATA_DIR == 0 && dir_len != 0)
        {
            return Err(corrupt("version entry lengths disagree with its flags"));
        }
        let len = ENTRY_HEADER_LEN + id_len + dir_len + record_len;
        if rest.len() < len {
            return Err(corrupt("version entry cut short"));
        }
        let text = |from: usize, len: usize| {
            std::str::from_utf8(&rest[from..from + len])
                .map_err(|_| corrupt("version entry name is not UTF-8"))
        };
        let version_id = text(ENTRY_HEADER_LEN, id_len)?;
        let data_dir = if flags & FLAG_DATA_DIR != 0 {
            Some(text(ENTRY_HEADER_LEN + id_len, dir_len)?)
        } else {
            None
        };
        let inline_end = inline_pos
            .checked_add(entry_inline_len)
            .filter(|&end| end <= inline_len)
            .ok_or_else(|| corrupt("inline bytes beyond the inline section"))?;
        let inline = match inline_section {
            Some(section) if flags & FLAG_INLINE != 0 => Some(&section[inline_pos..inline_end]),
            _ => None,
        };
        inline_pos = inline_end;
        entries.push(Entry {
            mod_time_ns,
            flags,
            version_id,
            data_dir,
            raw: &rest[..len],
            record: &rest[len - record_len..len],
            inline,
        });
        pos += len;
    }
    if pos != section.len() {
        return Err(corrupt("trailing bytes in the metadata section"));
    }
    if inline_pos != inline_len {
        return Err(corrupt("inline section length disagrees with the versions"));
    }
    Ok(Parsed { entries })
}

/// Run `f` on the parsed file, whatever its format (a format 1 file is converted first).
fn with_parsed<R>(
    bytes: &[u8],
    whole: bool,
    f: impl FnOnce(&Parsed<'_>) -> Result<R, DriveError>,
) -> Result<R, DriveError> {
    match major_of(bytes)? {
        1 => {
            let converted = encode(&legacy::decode(bytes)?);
            f(&parse_v2(&converted, true)?)
        }
        _ => f(&parse_v2(bytes, whole)?),
    }
}

/// Builds a format 2 file from entries copied raw and new versions.
struct Builder {
    meta: Vec<u8>,
    inline: Vec<u8>,
    count: u32,
}

impl Builder {
    fn new(meta_capacity: usize, inline_capacity: usize) -> Builder {
        let mut meta = Vec::with_capacity(meta_capacity + ENTRY_HEADER_LEN + 4);
        meta.extend_from_slice(&0u32.to_le_bytes());
        Builder {
            meta,
            inline: Vec::with_capacity(inline_capacity),
            count: 0,
        }
    }

    /// An existing entry, as raw bytes.
    fn push_raw(&mut self, entry: &Entry<'_>) {
        self.meta.extend_from_slice(entry.raw);
        if let Some(inline) = entry.inline {
            self.inline.extend_from_slice(inline);
        }
        self.count += 1;
    }

    /// A new entry for `version` (its `inline_data` ignored) with `inline` as its inline bytes.
    /// Panics on fields that do not fit the format ([`check_fits`] refuses them first).
    fn push_new(&mut self, version: &ObjectVersion, inline: Option<&[u8]>) {
        let record = if version.inline_data.is_some() {
            rkyv::to_bytes::<rancor::Error>(&version.without_inline_data())
        } else {
            rkyv::to_bytes::<rancor::Error>(version)
        };
        let record = match record {
            Ok(record) => record,
            Err(e) => panic!("xl.meta version does not fit the archive format: {e}"),
        };
        let id = version.version_id.as_bytes();
        let dir = version.data_dir.as_deref().unwrap_or("").as_bytes();
        let mut flags = 0;
        if version.delete_marker {
            flags |= FLAG_DELETE_MARKER;
        }
        if inline.is_some() {
            flags |= FLAG_INLINE;
        }
        if version.data_dir.is_some() {
            flags |= FLAG_DATA_DIR;
        }
        let inline = inline.unwrap_or(&[]);
        let as_u16 = |n: usize| u16::try_from(n).expect("checked by check_fits");
        let as_u32 = |n: usize| u32::try_from(n).expect("checked by check_fits");
        self.meta
            .extend_from_slice(&version.mod_time_ns.to_le_bytes());
        self.meta
            .extend_from_slice(&as_u32(record.len()).to_le_bytes());
        self.meta
            .extend_from_slice(&as_u32(inline.len()).to_le_bytes());
        self.meta.extend_from_slice(&as_u16(id.len()).to_le_bytes());
        self.meta
            .extend_from_slice(&as_u16(dir.len()).to_le_bytes());
        self.meta.extend_from_slice(&[flags, 0, 0, 0]);
        self.meta.extend_from_slice(id);
        self.meta.extend_from_slice(dir);
        self.meta.extend_from_slice(&record);
        self.inline.extend_from_slice(inline);
        self.count += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        self.meta[0..4].copy_from_slice(&self.count.to_le_bytes());
        let (Ok(meta_len), Ok(inline_len)) = (
            u32::try_from(self.meta.len()),
            u32::try_from(self.inline.len()),
        ) else {
            panic!("xl.meta sections do not fit the header");
        };
        let mut out = Vec::with_capacity(HEADER_LEN + self.meta.len() + self.inline.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
        out.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
        out.extend_from_slice(&meta_len.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&self.meta).to_le_bytes());
        out.extend_from_slice(&inline_len.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&self.inline).to_le_bytes());
        out.extend_from_slice(&self.meta);
        out.extend_from_slice(&self.inline);
        out
    }
}

/// Refuse a version whose fields do not fit an entry header (a caller bug or hostile input).
fn check_fits(version: &ObjectVersion) -> Result<(), DriveError> {
    let too_long = |what: &str, len: usize, max: usize| {
        (len > max).then(|| {
            DriveError::invalid(
                "xl_meta",
                what,
                &format!("{len} bytes, at most {max} fit xl.meta"),
            )
        })
    };
    let checks = [
        too_long("version_id", version.version_id.len(), u16::MAX as usize),
        too_long(
            "data_dir",
            version.data_dir.as_ref().map_or(0, String::len),
            u16::MAX as usize,
        ),
        too_long(
            "inline_data",
            version.inline_data.as_ref().map_or(0, Vec::len),
            u32::MAX as usize / 2,
        ),
    ];
    match checks.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Serialize a whole `XlMeta` (format 2), versions in the order given. For small users
/// (multipart records); object changes use [`add_version`] and its siblings. Panics on a
/// version whose id or data directory is longer than 65535 bytes (a caller bug).
pub fn encode(m: &XlMeta) -> Vec<u8> {
    let mut builder = Builder::new(0, 0);
    for version in &m.versions {
        if let Err(e) = check_fits(version) {
            panic!("xl.meta version does not fit the format: {e}");
        }
        builder.push_new(version, version.inline_data.as_deref());
    }
    builder.finish()
}

/// Parse and verify a whole file (format 2 or 1), inline data included; Corrupt on bad magic,
/// unknown major, lengths, CRCs, records. The error's path is just "xl.meta": the caller knows
/// which drive and object it read.
pub fn decode(bytes: &[u8]) -> Result<XlMeta, DriveError> {
    match major_of(bytes)? {
        1 => legacy::decode(bytes),
        _ => {
            let parsed = parse_v2(bytes, true)?;
            let versions = parsed
                .entries
                .iter()
                .map(|e| e.decode(true))
                .collect::<Result<_, _>>()?;
            Ok(XlMeta { versions })
        }
    }
}

/// One version: the latest (`None`) or the one with that id; VersionNotFound. With
/// `with_data`, `bytes` is the whole file and the version carries its inline data; without,
/// `bytes` may be just the first [`metadata_end`] bytes.
pub fn read_version(
    bytes: &[u8],
    version_id: Option<&str>,
    with_data: bool,
) -> Result<ObjectVersion, DriveError> {
    with_parsed(bytes, with_data, |parsed| {
        parsed.find(version_id)?.decode(with_data)
    })
}

/// The versions, newest first, without inline data: all of them, or only the latest (none
/// for a file without versions). `bytes` may be just the first [`metadata_end`] bytes.
pub fn versions(bytes: &[u8], all: bool) -> Result<Vec<ObjectVersion>, DriveError> {
    with_parsed(bytes, false, |parsed| {
        let take = if all { parsed.entries.len() } else { 1 };
        parsed
            .entries
            .iter()
            .take(take)
            .map(|e| e.decode(false))
            .collect()
    })
}

/// The data directories the versions name (each once, in version order), from the entry
/// headers only. `bytes` may be just the first [`metadata_end`] bytes.
pub fn data_dirs(bytes: &[u8]) -> Result<Vec<String>, DriveError> {
    with_parsed(bytes, false, |parsed| {
        let mut dirs: Vec<String> = Vec::new();
        for dir in parsed.entries.iter().filter_map(|e| e.data_dir) {
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_string());
            }
        }
        Ok(dirs)
    })
}

/// Add `version` to a file (`None`: the object has none yet), replacing the version with the
/// same id; the result is a format 2 file. The new version takes the place its mod time gives
/// it (newest first; before versions of the same time). Returns the new file and the replaced
/// version with its inline data. TooManyVersions when a new id would exceed [`MAX_VERSIONS`]
/// (a replacement is always accepted). The other versions are copied as raw bytes.
pub fn add_version(
    bytes: Option<&[u8]>,
    version: &ObjectVersion,
) -> Result<(Vec<u8>, Option<ObjectVersion>), DriveError> {
    check_fits(version)?;
    let Some(bytes) = bytes else {
        let mut builder = Builder::new(0, 0);
        builder.push_new(version, version.inline_data.as_deref());
        return Ok((builder.finish(), None));
    };
    with_parsed(bytes, true, |parsed| {
        let replaced_at = parsed.position(&version.version_id);
        if replaced_at.is_none() && parsed.entries.len() >= MAX_VERSIONS {
            return Err(DriveError::TooManyVersions);
        }
        let replaced = replaced_at
            .map(|at| parsed.entries[at].decode(true))
            .transpose()?;
        let mut builder = Builder::new(bytes.len(), bytes.len());
        let mut placed = false;
        for (at, entry) in parsed.entries.iter().enumerate() {
            if Some(at) == replaced_at {
                continue;
            }
            if !placed && entry.mod_time_ns <= version.mod_time_ns {
                builder.push_new(version, version.inline_data.as_deref());
                placed = true;
            }
            builder.push_raw(entry);
        }
        if !placed {
            builder.push_new(version, version.inline_data.as_deref());
        }
        Ok((builder.finish(), replaced))
    })
}

/// Replace the metadata of the version with `version.version_id` and the same data directory
/// (VersionNotFound otherwise). Its inline data, its mod time and so its place are kept,
/// whatever `version` says of them. The other versions are copied as raw bytes.
pub fn update_version(bytes: &[u8], version: &ObjectVersion) -> Result<Vec<u8>, DriveError> {
    check_fits(version)?;
    with_parsed(bytes, true, |parsed| {
        let at = parsed
            .position(&version.version_id)
            .filter(|&at| parsed.entries[at].data_dir == version.data_dir.as_deref())
            .ok_or(DriveError::VersionNotFound)?;
        let old = &parsed.entries[at];
        let mut updated = version.without_inline_data();
        updated.mod_time_ns = old.mod_time_ns;
        let inline = if old.has_inline() {
            Some(old.inline.unwrap_or(&[]))
        } else {
            None
        };
        let mut builder = Builder::new(bytes.len(), bytes.len());
        for (i, entry) in parsed.entries.iter().enumerate() {
            if i == at {
                builder.push_new(&updated, inline);
            } else {
                builder.push_raw(entry);
            }
        }
        Ok(builder.finish())
    })
}

/// What [`delete_version`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Deleted {
    /// The file without the version; None when it was the last one.
    pub file: Option<Vec<u8>>,
    /// The removed version, without inline data.
    pub version: ObjectVersion,
    /// Another version still names the removed version's data directory.
    pub data_dir_in_use: bool,
}

/// Remove the version with this id (VersionNotFound). The other versions are copied as raw
/// bytes.
pub fn delete_version(bytes: &[u8], version_id: &str) -> Result<Deleted, DriveError> {
    with_parsed(bytes, true, |parsed| {
        let at = parsed
            .position(version_id)
            .ok_or(DriveError::VersionNotFound)?;
        let removed = &parsed.entries[at];
        let version = removed.decode(false)?;
        if parsed.entries.len() == 1 {
            return Ok(Deleted {
                file: None,
                version,
                data_dir_in_use: false,
            });
        }
        let mut builder = Builder::new(bytes.len(), bytes.len());
        let mut data_dir_in_use = false;
        for (i, entry) in parsed.entries.iter().enumerate() {
            if i != at {
                data_dir_in_use |= removed.data_dir.is_some() && entry.data_dir == removed.data_dir;
                builder.push_raw(entry);
            }
        }
        Ok(Deleted {
            file: Some(builder.finish()),
            version,
            data_dir_in_use,
        })
    })
}

pub mod legacy {
    //! Format 1: a 16-byte header (`magic`, `major` 1, `minor`, CRC-32 of the payload, payload
    //! length) and one rkyv archive of all versions, inline data included, in the layout below
    //! (the structs as they were, without `tags`). Read only: the first change of such a file
    //! writes format 2. Never edit these structs: they are the archived layout of old files.

    use rkyv::rancor;

    use super::{corrupt, le_u32, ErasureInfo, ObjectVersion, PartInfo, XlMeta, MAGIC};
    use crate::DriveError;

    /// Bytes before the payload.
    pub const HEADER_LEN: usize = 16;

    /// Format 1 `XlMeta`.
    #[derive(
        Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
    )]
    pub struct XlMetaV1 {
        /// Newest first.
        pub versions: Vec<ObjectVersionV1>,
    }

    /// Format 1 `ObjectVersion` (no tags).
    #[derive(
        Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
    )]
    pub struct ObjectVersionV1 {
        /// "" = null version.
        pub version_id: String,
        /// Last-Modified, ns since the Unix epoch.
        pub mod_time_ns: i64,
        /// Object size in bytes.
        pub size: u64,
        /// ETag without quotes.
        pub etag: String,
        /// Data directory; None when inline.
        pub data_dir: Option<String>,
        /// Inline framed shard bytes.
        pub inline_data: Option<Vec<u8>>,
        /// Erasure layout.
        pub erasure: ErasureInfoV1,
        /// Parts.
        pub parts: Vec<PartInfoV1>,
        /// Metadata.
        pub meta: Vec<(String, String)>,
        /// Object checksums.
        pub checksums: Vec<(String, String)>,
        /// Delete marker.
        pub delete_marker: bool,
    }

    /// Format 1 `ErasureInfo`.
    #[derive(
        Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
    )]
    pub struct ErasureInfoV1 {
        /// Data shards.
        pub data: u8,
        /// Parity shards.
        pub parity: u8,
        /// Block size.
        pub block_size: u32,
        /// This drive's shard.
        pub index: u8,
        /// Shard per drive.
        pub distribution: Vec<u8>,
    }

    /// Format 1 `PartInfo`.
    #[derive(
        Clone, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
    )]
    pub struct PartInfoV1 {
        /// Part number.
        pub number: u32,
        /// Part size.
        pub size: u64,
        /// Part ETag.
        pub etag: String,
        /// Part checksums.
        pub checksums: Vec<(String, String)>,
    }

    impl From<ObjectVersionV1> for ObjectVersion {
        fn from(v: ObjectVersionV1) -> ObjectVersion {
            ObjectVersion {
                version_id: v.version_id,
                mod_time_ns: v.mod_time_ns,
                size: v.size,
                etag: v.etag,
                data_dir: v.data_dir,
                inline_data: v.inline_data,
                erasure: ErasureInfo {
                    data: v.erasure.data,
                    parity: v.erasure.parity,
                    block_size: v.erasure.block_size,
                    index: v.erasure.index,
                    distribution: v.erasure.distribution,
                },
                parts: v
                    .parts
                    .into_iter()
                    .map(|p| PartInfo {
                        number: p.number,
                        size: p.size,
                        etag: p.etag,
                        checksums: p.checksums,
                    })
                    .collect(),
                meta: v.meta,
                checksums: v.checksums,
                delete_marker: v.delete_marker,
                tags: Vec::new(),
            }
        }
    }

    /// Parse and verify a format 1 file.
    pub fn decode(bytes: &[u8]) -> Result<XlMeta, DriveError> {
        if bytes.len() < HEADER_LEN {
            return Err(corrupt(format!(
                "{} bytes, shorter than the header",
                bytes.len()
            )));
        }
        let (header, payload) = bytes.split_at(HEADER_LEN);
        if header[0..4] != MAGIC || header[4..6] != 1u16.to_le_bytes() {
            return Err(corrupt("not a format 1 xl.meta"));
        }
        let crc = le_u32(header, 8);
        let payload_len = le_u32(header, 12) as usize;
        if payload_len != payload.len() {
            return Err(corrupt(format!(
                "payload is {} bytes, header says {payload_len} (torn or padded)",
                payload.len()
            )));
        }
        if crc32fast::hash(payload) != crc {
            return Err(corrupt("payload CRC mismatch"));
        }
        // rkyv wants the archive aligned (16): copy it into an aligned buffer.
        let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(payload.len());
        aligned.extend_from_slice(payload);
        let old = rkyv::from_bytes::<XlMetaV1, rancor::Error>(&aligned)
            .map_err(|e| corrupt(format!("invalid archive: {e}")))?;
        Ok(XlMeta {
            versions: old.versions.into_iter().map(ObjectVersion::from).collect(),
        })
    }

    /// Write a format 1 file (minor 1), as the previous build did: for tests of the upgrade
    /// path (minnow itself never writes format 1).
    pub fn encode(m: &XlMetaV1) -> Vec<u8> {
        let payload = rkyv::to_bytes::<rancor::Error>(m).expect("format 1 archive");
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::legacy::{ObjectVersionV1, PartInfoV1, XlMetaV1};
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
                    tags: vec![("k".to_string(), "v".to_string())],
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

    fn small_v1() -> XlMetaV1 {
        XlMetaV1 {
            versions: vec![ObjectVersionV1 {
                etag: "e".to_string(),
                inline_data: Some(vec![1, 2, 3]),
                parts: vec![PartInfoV1 {
                    number: 1,
                    size: 3,
                    ..PartInfoV1::default()
                }],
                ..ObjectVersionV1::default()
            }],
        }
    }

    fn version(id: &str, time: i64, inline: Option<&[u8]>, dir: Option<&str>) -> ObjectVersion {
        ObjectVersion {
            version_id: id.to_string(),
            mod_time_ns: time,
            etag: format!("etag-{id}"),
            inline_data: inline.map(<[u8]>::to_vec),
            data_dir: dir.map(str::to_string),
            ..ObjectVersion::default()
        }
    }

    fn ids(bytes: &[u8]) -> Vec<String> {
        versions(bytes, true)
            .expect("versions")
            .into_iter()
            .map(|v| v.version_id)
            .collect()
    }

    fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, DriveError>, what: &str) {
        match result {
            Err(DriveError::Corrupt { .. }) => {}
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        for m in [XlMeta::default(), small(), sample()] {
            let bytes = encode(&m);
            assert_eq!(&bytes[..4], b"XLMN");
            assert_eq!(le_u16(&bytes, 4), FORMAT_MAJOR);
            assert_eq!(decode(&bytes).expect("decode"), m);
        }
    }

    #[test]
    fn torn_at_every_length() {
        for bytes in [encode(&sample()), legacy::encode(&small_v1())] {
            for len in 0..bytes.len() {
                assert_corrupt(decode(&bytes[..len]), &format!("truncated to {len}"));
                assert_corrupt(
                    read_version(&bytes[..len], None, true),
                    &format!("read with data, truncated to {len}"),
                );
            }
            let mut padded = bytes.clone();
            padded.push(0);
            assert_corrupt(decode(&padded), "one trailing byte");
            assert_corrupt(read_version(&padded, None, false), "padded, no data");
        }
        // A metadata read needs the whole metadata section, nothing more.
        let bytes = encode(&sample());
        let end = metadata_end(&bytes[..HEADER_LEN]).expect("end");
        assert!(end < bytes.len(), "the sample has inline bytes");
        assert_eq!(versions(&bytes[..end], true).expect("prefix"), {
            let mut m = sample();
            m.versions[1].inline_data = None;
            m.versions
        });
        for len in 0..end {
            assert_corrupt(versions(&bytes[..len], false), &format!("prefix {len}"));
        }
    }

    #[test]
    fn every_flipped_byte_is_corrupt() {
        let v2 = encode(&sample());
        let meta_end = metadata_end(&v2).expect("end");
        for (bytes, expected) in [
            (v2.clone(), sample()),
            (legacy::encode(&small_v1()), small()),
        ] {
            for at in 0..bytes.len() {
                let minor = (6..8).contains(&at);
                for bit in [0x01u8, 0x80] {
                    let mut bad = bytes.clone();
                    bad[at] ^= bit;
                    if minor {
                        // The minor version is advisory: any minor of our major is readable.
                        assert_eq!(decode(&bad).expect("minor"), expected);
                    } else {
                        let what = format!("bit {bit:#x} of byte {at} flipped");
                        assert_corrupt(decode(&bad), &what);
                        assert_corrupt(read_version(&bad, None, true), &what);
                        assert_corrupt(
                            add_version(Some(&bad), &version("n", 9, None, None)),
                            &what,
                        );
                    }
                }
            }
        }
        // A flipped inline byte: reads with data and changes see it, metadata reads do not.
        let mut bad = v2.clone();
        bad[meta_end + 5] ^= 1;
        assert_corrupt(read_version(&bad, Some("v1"), true), "inline flipped");
        assert_corrupt(delete_version(&bad, ""), "inline flipped");
        assert_eq!(ids(&bad), ["", "v1"]);
        assert_eq!(
            read_version(&bad, Some("v1"), false).expect("meta").etag,
            ""
        );
    }

    #[test]
    fn foreign_bytes() {
        assert_corrupt(decode(b""), "empty");
        assert_corrupt(
            decode(b"XL2 1   \x01\x00\x03\x00"),
            "a MinIO xl.meta header",
        );
        assert_corrupt(decode(&[0u8; 4096]), "zeros");
        assert_corrupt(decode(b"{\"version\":1,\"format\":\"minnow\"}"), "json");
        assert_corrupt(metadata_end(b"XLMN\x02\x00"), "header cut short");
        // Our header over a metadata section that is not ours: right CRC, right length.
        let section = [0xffu8; 64];
        let mut forged = Vec::new();
        forged.extend_from_slice(&MAGIC);
        forged.extend_from_slice(&FORMAT_MAJOR.to_le_bytes());
        forged.extend_from_slice(&FORMAT_MINOR.to_le_bytes());
        forged.extend_from_slice(&(section.len() as u32).to_le_bytes());
        forged.extend_from_slice(&crc32fast::hash(&section).to_le_bytes());
        forged.extend_from_slice(&0u32.to_le_bytes());
        forged.extend_from_slice(&crc32fast::hash(&[]).to_le_bytes());
        forged.extend_from_slice(&section);
        assert_corrupt(decode(&forged), "valid header, garbage section");
        // A format 1 header over a payload that is not an archive.
        let payload = [0xffu8; 64];
        let mut forged = Vec::new();
        forged.extend_from_slice(&MAGIC);
        forged.extend_from_slice(&1u16.to_le_bytes());
        forged.extend_from_slice(&1u16.to_le_bytes());
        forged.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        forged.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        forged.extend_from_slice(&payload);
        assert_corrupt(decode(&forged), "format 1 header, garbage archive");
        // A future major.
        let mut future = encode(&small());
        future[4..6].copy_from_slice(&(FORMAT_MAJOR + 1).to_le_bytes());
        assert_corrupt(decode(&future), "unknown major");
        // A record whose fields disagree with its entry header.
        let mut m = small();
        m.versions[0].version_id = "a".to_string();
        let bytes = encode(&m);
        let tampered = {
            let parsed = parse_v2(&bytes, true).expect("parse");
            let entry = &parsed.entries[0];
            let mut b = Builder::new(0, 0);
            b.meta.extend_from_slice(&entry.raw[..ENTRY_HEADER_LEN]);
            b.meta.extend_from_slice(b"b");
            b.meta.extend_from_slice(entry.record);
            b.inline.extend_from_slice(entry.inline.expect("inline"));
            b.count = 1;
            b.finish()
        };
        assert_corrupt(decode(&tampered), "id of header and record disagree");
    }

    /// Pins the on-disk bytes of format 1 (written by the previous build): they must decode,
    /// tags empty, forever.
    #[test]
    fn golden_v1_bytes() {
        let golden = hex::decode(GOLDEN_SMALL_V1).expect("hex");
        assert_eq!(decode(&golden).expect("golden decodes"), small());
        assert_eq!(
            hex::encode(legacy::encode(&small_v1()))[16..],
            GOLDEN_SMALL_V1[16..]
        );
        assert_eq!(
            read_version(&golden, None, true).expect("read"),
            small().versions[0]
        );
        assert_eq!(metadata_end(&golden).expect("end"), golden.len());
    }

    /// Pins the on-disk bytes of format 2: if this fails, the layout changed (a struct edit, an
    /// rkyv upgrade, or an rkyv format feature switched on somewhere in the workspace), which
    /// needs a FORMAT_MAJOR bump and a migration, not a new golden value.
    #[test]
    fn golden_v2_bytes() {
        let mut m = small();
        m.versions[0].tags = vec![("t".to_string(), "1".to_string())];
        assert_eq!(hex::encode(encode(&m)), GOLDEN_SMALL_V2);
        let golden = hex::decode(GOLDEN_SMALL_V2).expect("hex");
        assert_eq!(decode(&golden).expect("golden decodes"), m);
    }

    /// `small()` as format 1, minor 0.
    const GOLDEN_SMALL_V1: &str = concat!(
        "584c4d4e0100000069b106ac9800000001020300000000000100000000000000",
        "0300000000000000ffffffffffffffffe4ffffff00000000ffffffffffffffff",
        "0000000000000000000000000000000065ffffffffffffff0000000000000000",
        "0000000001000000a8ffffff0300000000000000000000000000000097ffffff",
        "0000000094ffffff01000000acffffff00000000a4ffffff0000000000000000",
        "98ffffff01000000",
    );

    /// `small()` with one tag, as format 2.
    const GOLDEN_SMALL_V2: &str = concat!(
        "584c4d4e02000000bc000000939644fc030000001d80bc550100000000000000",
        "00000000a0000000030000000000000002000000010000000000000003000000",
        "00000000ffffffffffffffffe8ffffff0000000074ffffffffffffff31ffffff",
        "ffffffffffffffffffffffff0000000000000000000000000000000065ffffff",
        "ffffffff00000000000000000000000000000000000000000000000000000000",
        "00000000000000008cffffff0000000084ffffff010000009cffffff00000000",
        "94ffffff000000000000000088ffffff01000000010203",
    );

    #[test]
    fn versions_stay_newest_first() {
        let (bytes, replaced) = add_version(None, &version("b", 20, None, Some("db"))).expect("b");
        assert_eq!(replaced, None);
        let (bytes, _) =
            add_version(Some(&bytes), &version("a", 10, Some(b"aa"), None)).expect("a");
        let (bytes, _) =
            add_version(Some(&bytes), &version("c", 30, Some(b"ccc"), None)).expect("c");
        // Same time as "b": the newcomer goes first.
        let (bytes, _) = add_version(Some(&bytes), &version("d", 20, None, Some("dd"))).expect("d");
        assert_eq!(ids(&bytes), ["c", "d", "b", "a"]);
        // Replacing "c" with an older time moves it to where its time puts it, and returns
        // the replaced version with its inline data.
        let (bytes, replaced) =
            add_version(Some(&bytes), &version("c", 15, Some(b"new"), None)).expect("c again");
        assert_eq!(replaced, Some(version("c", 30, Some(b"ccc"), None)));
        assert_eq!(ids(&bytes), ["d", "b", "c", "a"]);
        let m = decode(&bytes).expect("decode");
        assert_eq!(m.versions[2].inline_data.as_deref(), Some(&b"new"[..]));
        assert_eq!(m.versions[3].inline_data.as_deref(), Some(&b"aa"[..]));
        assert_eq!(
            read_version(&bytes, None, true).expect("latest").version_id,
            "d"
        );
        assert_eq!(
            read_version(&bytes, Some("a"), true)
                .expect("a")
                .inline_data
                .as_deref(),
            Some(&b"aa"[..])
        );
        assert_eq!(
            read_version(&bytes, Some("a"), false)
                .expect("a")
                .inline_data,
            None
        );
        assert_eq!(
            read_version(&bytes, Some("zz"), false),
            Err(DriveError::VersionNotFound)
        );
        assert_eq!(versions(&bytes, false).expect("latest").len(), 1);
        assert_eq!(data_dirs(&bytes).expect("dirs"), ["dd", "db"]);
        // An empty file has no latest version.
        let empty = encode(&XlMeta::default());
        assert_eq!(
            read_version(&empty, None, false),
            Err(DriveError::VersionNotFound)
        );
        assert_eq!(versions(&empty, false).expect("none"), []);
    }

    #[test]
    fn other_versions_are_copied_raw() {
        let mut bytes = encode(&sample());
        let before = parse_v2(&bytes, true).expect("parse").entries[1]
            .raw
            .to_vec();
        for i in 0..5 {
            bytes = add_version(Some(&bytes), &version(&format!("n{i}"), i, None, None))
                .expect("add")
                .0;
        }
        let parsed = parse_v2(&bytes, true).expect("parse");
        let v1 = &parsed.entries[parsed.position("v1").expect("v1")];
        assert_eq!(v1.raw, before.as_slice());
        assert_eq!(v1.inline, Some(&[7u8; 100][..]));
    }

    #[test]
    fn too_many_versions_refuses_a_new_one_not_a_replacement() {
        let mut m = XlMeta::default();
        for i in 0..MAX_VERSIONS {
            m.versions.push(version(
                &format!("{i:05}"),
                (MAX_VERSIONS - i) as i64,
                None,
                None,
            ));
        }
        let bytes = encode(&m);
        assert_eq!(
            add_version(Some(&bytes), &version("new", 1 << 40, None, None)).map(|_| ()),
            Err(DriveError::TooManyVersions)
        );
        let (replaced, old) =
            add_version(Some(&bytes), &version("00005", 1 << 40, Some(b"x"), None))
                .expect("replace");
        assert_eq!(old.expect("old").mod_time_ns, (MAX_VERSIONS - 5) as i64);
        assert_eq!(ids(&replaced)[0], "00005");
        assert_eq!(ids(&replaced).len(), MAX_VERSIONS);
    }

    #[test]
    fn update_keeps_inline_data_and_place() {
        let (bytes, _) = add_version(None, &version("a", 10, Some(b"inline"), None)).expect("a");
        let (bytes, _) = add_version(Some(&bytes), &version("b", 20, None, Some("db"))).expect("b");
        let mut tagged = version("a", 99, None, None);
        tagged.tags = vec![("k".to_string(), "v".to_string())];
        let bytes = update_version(&bytes, &tagged).expect("update");
        assert_eq!(ids(&bytes), ["b", "a"]);
        let a = read_version(&bytes, Some("a"), true).expect("a");
        assert_eq!(a.tags, tagged.tags);
        assert_eq!(a.mod_time_ns, 10);
        assert_eq!(a.inline_data.as_deref(), Some(&b"inline"[..]));
        // Another data directory is another version: refused.
        let moved = version("b", 20, None, Some("other"));
        assert_eq!(
            update_version(&bytes, &moved),
            Err(DriveError::VersionNotFound)
        );
        assert_eq!(
            update_version(&bytes, &version("zz", 1, None, None)),
            Err(DriveError::VersionNotFound)
        );
        // An update that brings inline data of its own does not change the stored bytes.
        let mut with_data = version("b", 20, Some(b"ignored"), Some("db"));
        with_data.etag = "changed".to_string();
        let bytes = update_version(&bytes, &with_data).expect("update b");
        let b = read_version(&bytes, Some("b"), true).expect("b");
        assert_eq!((b.etag.as_str(), b.inline_data), ("changed", None));
    }

    #[test]
    fn delete_reports_data_dir_use_and_empties() {
        let (bytes, _) =
            add_version(None, &version("a", 10, Some(b"aa"), Some("shared"))).expect("a");
        let (bytes, _) =
            add_version(Some(&bytes), &version("b", 20, None, Some("shared"))).expect("b");
        let (bytes, _) =
            add_version(Some(&bytes), &version("c", 30, None, Some("own"))).expect("c");
        let deleted = delete_version(&bytes, "c").expect("c");
        assert!(!deleted.data_dir_in_use);
        assert_eq!(deleted.version, version("c", 30, None, Some("own")));
        let bytes = deleted.file.expect("file");
        let deleted = delete_version(&bytes, "b").expect("b");
        assert!(deleted.data_dir_in_use, "a still names it");
        let bytes = deleted.file.expect("file");
        assert_eq!(
            decode(&bytes).expect("decode").versions,
            [version("a", 10, Some(b"aa"), Some("shared"))]
        );
        assert_eq!(
            delete_version(&bytes, "b"),
            Err(DriveError::VersionNotFound)
        );
        let last = delete_version(&bytes, "a").expect("a");
        assert_eq!(last.file, None);
        assert_eq!(last.version.inline_data, None);
    }

    #[test]
    fn a_format_1_file_is_read_and_rewritten_as_format_2() {
        let old = legacy::encode(&small_v1());
        assert_eq!(decode(&old).expect("decode"), small());
        assert_eq!(versions(&old, true).expect("versions")[0].etag, "e");
        assert_eq!(data_dirs(&old).expect("dirs"), Vec::<String>::new());
        let (new, replaced) = add_version(Some(&old), &version("n", 5, None, None)).expect("add");
        assert_eq!(replaced, None);
        assert_eq!(le_u16(&new, 4), FORMAT_MAJOR);
        assert_eq!(ids(&new), ["n", ""]);
        assert_eq!(
            read_version(&new, Some(""), true).expect("old version"),
            small().versions[0]
        );
        let updated = update_version(
            &old,
            &ObjectVersion {
                etag: "u".into(),
                ..small().versions[0].clone()
            },
        )
        .expect("update");
        assert_eq!(le_u16(&updated, 4), FORMAT_MAJOR);
        assert_eq!(
            read_version(&updated, None, true).expect("u").inline_data,
            Some(vec![1, 2, 3])
        );
        assert_eq!(delete_version(&old, "").expect("delete").file, None);
    }

    #[test]
    fn oversized_fields_are_refused() {
        let long = version(&"x".repeat(70_000), 1, None, None);
        assert!(add_version(None, &long)
            .expect_err("long id")
            .is_invalid_input());
    }
}

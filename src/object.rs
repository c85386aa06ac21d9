//! The object layer's vocabulary: what an object looks like to the S3 handlers ([`ObjectInfo`]),
//! what a write asks for ([`PutOptions`]), and what can go wrong ([`ObjectError`]). The erasure
//! sets produce these; the S3 layer maps [`ObjectError`] to S3 errors in one place
//! (`api::error`).

use minnow_io::xl_meta::{ObjectVersion, PartInfo};
use minnow_io::DriveError;

/// Errors of the object layer. Operating conditions (missing object, lost quorum, bad input)
/// are values; they carry what the S3 layer needs to answer and the operator log line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ObjectError {
    /// The bucket does not exist.
    #[error("bucket {0} does not exist")]
    NoSuchBucket(String),
    /// The bucket still holds objects.
    #[error("bucket {0} is not empty")]
    BucketNotEmpty(String),
    /// The object does not exist.
    #[error("object {bucket}/{key} does not exist")]
    NoSuchKey {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// The multipart upload does not exist.
    #[error("upload {0} does not exist")]
    NoSuchUpload(String),
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    #[error("part {0} is missing or its ETag differs")]
    InvalidPart(u32),
    /// Parts in CompleteMultipartUpload are not in ascending order.
    #[error("parts are not in ascending order")]
    InvalidPartOrder,
    /// A part other than the last is smaller than 5 MiB.
    #[error("part {part} is {size} bytes, under the 5 MiB minimum for all but the last part")]
    EntityTooSmall {
        /// Part number.
        part: u32,
        /// Its size.
        size: u64,
    },
    /// Too few drives answered to read the object.
    #[error("read quorum lost: {online} of {needed} drives needed answered ({detail})")]
    ReadQuorum {
        /// Drives that answered.
        online: usize,
        /// Drives needed.
        needed: usize,
        /// First drive error seen.
        detail: String,
    },
    /// Too few drives accepted the write; it was rolled back.
    #[error("write quorum lost: {online} of {needed} drives needed accepted the write ({detail})")]
    WriteQuorum {
        /// Drives that succeeded.
        online: usize,
        /// Drives needed.
        needed: usize,
        /// First drive error seen.
        detail: String,
    },
    /// The write failed because the drives are out of space (at least half of the drive errors
    /// were "disk full"); it was rolled back.
    #[error("drives full: {online} of {needed} drives needed accepted the write ({detail})")]
    StorageFull {
        /// Drives that succeeded.
        online: usize,
        /// Drives needed.
        needed: usize,
        /// First drive error seen.
        detail: String,
    },
    /// The request body failed: the client went away, or a signature/checksum check failed.
    /// The S3 error (if any) was recorded by the payload and is answered by the handler.
    #[error("request body: {0}")]
    Body(String),
    /// The request is invalid for this object (e.g. a bad storage class).
    #[error("invalid request: {0}")]
    InvalidArgument(String),
    /// A drive returned something that cannot be right (corrupt metadata on quorum, ...).
    #[error("internal error: {0}")]
    Internal(String),
    /// A lock or a memory budget was not granted within its wait bound: too busy now.
    #[error("busy: {0}")]
    SlowDown(String),
    /// The object exists but not the version asked for.
    #[error("object {bucket}/{key} has no version {version_id}")]
    NoSuchVersion {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The version id asked for ("" = null).
        version_id: String,
    },
    /// What was asked for is a delete marker: its latest version (S3: 404 NoSuchKey) or, named
    /// by its version id, the marker itself (S3: 405 MethodNotAllowed). Both answers carry
    /// `x-amz-delete-marker: true` and the marker's version id.
    #[error("object {bucket}/{key}: version {version_id} is a delete marker")]
    DeleteMarker {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The marker's version id ("" = null).
        version_id: String,
        /// Named by its version id (405), not found as the latest version (404).
        by_id: bool,
    },
    /// The object holds the most versions it may (`minnow_io::xl_meta::MAX_VERSIONS`).
    #[error("object {bucket}/{key} holds too many versions")]
    TooManyVersions {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
}

impl From<crate::lock::LockTimeout> for ObjectError {
    fn from(e: crate::lock::LockTimeout) -> Self {
        ObjectError::SlowDown(e.to_string())
    }
}

impl ObjectError {
    /// A quorum error built from the drive errors seen.
    pub fn read_quorum(online: usize, needed: usize, errors: &[DriveError]) -> Self {
        ObjectError::ReadQuorum {
            online,
            needed,
            detail: first_error(errors),
        }
    }

    /// See [`ObjectError::read_quorum`]. [`ObjectError::StorageFull`] when at least half of the
    /// drive errors are "disk full": retrying will not help, deleting will.
    pub fn write_quorum(online: usize, needed: usize, errors: &[DriveError]) -> Self {
        let full = errors
            .iter()
            .filter(|e| matches!(e, DriveError::DiskFull))
            .count();
        let detail = first_error(errors);
        if full > 0 && 2 * full >= errors.len() {
            ObjectError::StorageFull {
                online,
                needed,
                detail,
            }
        } else {
            ObjectError::WriteQuorum {
                online,
                needed,
                detail,
            }
        }
    }
}

fn first_error(errors: &[DriveError]) -> String {
    errors
        .first()
        .map_or_else(|| "no drive error".to_string(), |e| e.to_string())
}

/// Storage classes minnow understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageClass {
    /// Default parity.
    Standard,
    /// Reduced redundancy (lower parity).
    ReducedRedundancy,
}

impl StorageClass {
    /// Parse an `x-amz-storage-class` value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "STANDARD" => Some(StorageClass::Standard),
            "REDUCED_REDUNDANCY" | "RRS" => Some(StorageClass::ReducedRedundancy),
            _ => None,
        }
    }

    /// The S3 name.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::Standard => "STANDARD",
            StorageClass::ReducedRedundancy => "REDUCED_REDUNDANCY",
        }
    }
}

/// Metadata key under which the storage class is kept (only when not STANDARD).
pub const META_STORAGE_CLASS: &str = "x-amz-storage-class";

/// A bucket's versioning state (S3: unset, `Enabled`, `Suspended`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: every write is the null version, replacing the previous one.
    #[default]
    Unversioned,
    /// Every write gets a new version id; DELETE without a version id adds a delete marker.
    Enabled,
    /// Writes are the null version again (replacing only the null version); other versions
    /// stay. DELETE without a version id makes the null version a delete marker.
    Suspended,
}

/// What a PUT (or a copy, or a multipart create) stores besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Lower-case header name -> value: content-type, content-encoding, content-disposition,
    /// cache-control, content-language, expires, x-amz-meta-*.
    pub meta: Vec<(String, String)>,
    /// Storage class; None = STANDARD.
    pub storage_class: Option<StorageClass>,
    /// Object tags (x-amz-tagging), validated.
    pub tags: Vec<(String, String)>,
    /// The bucket's versioning when the write started: a new version id or the null version.
    pub versioning: Versioning,
}

/// One object as the S3 layer sees it.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// Last-Modified, nanoseconds since the epoch.
    pub mod_time_ns: i64,
    /// Stored metadata (lower-case names).
    pub meta: Vec<(String, String)>,
    /// Object-level flexible checksums: algorithm name ("CRC32", ...) -> base64.
    pub checksums: Vec<(String, String)>,
    /// Parts (one for a plain PUT).
    pub parts: Vec<PartInfo>,
    /// Version id; "" for the null version.
    pub version_id: String,
    /// True for a delete marker (no data; listings and DELETE answers show it).
    pub delete_marker: bool,
    /// Object tags.
    pub tags: Vec<(String, String)>,
}

impl ObjectInfo {
    /// Build from the version a quorum agreed on.
    pub fn from_version(bucket: &str, key: &str, v: &ObjectVersion) -> Self {
        ObjectInfo {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: v.size,
            etag: v.etag.clone(),
            mod_time_ns: v.mod_time_ns,
            meta: v
                .meta
                .iter()
                .filter(|(k, _)| !k.starts_with(minnow_io::xl_meta::INTERNAL_META_PREFIX))
                .cloned()
                .collect(),
            checksums: v.checksums.clone(),
            parts: v.parts.clone(),
            version_id: v.version_id.clone(),
            delete_marker: v.delete_marker,
            tags: v.tags.clone(),
        }
    }

    /// A metadata value by lower-case name.
    pub fn meta_value(&self, name: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The storage class name for listings and HEAD.
    pub fn storage_class(&self) -> &str {
        self.meta_value(META_STORAGE_CLASS).unwrap_or("STANDARD")
    }
}

/// Nanoseconds since the epoch, now.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

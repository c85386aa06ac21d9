//! The drive contract: one trait every drive implements, whatever is behind it.
//!
//! This is the seam between the object layer (`src`) and storage. [`LocalDrive`] (this crate)
//! implements it over a directory; `src` implements it again for a drive on another node (RPC
//! over `net`) and for a fault-injecting wrapper in tests. The object layer only ever sees
//! `dyn Drive`, so every implementation must keep the promises written on the methods below:
//!
//! * **Paths are relative and checked.** `vol` is one path component (a bucket name or
//!   [`SYS_VOL`]); `path` is one or more components joined by `'/'`. A component that is empty,
//!   `"."`, `".."` or holds a NUL byte, and any absolute path, is refused with
//!   [`DriveError::InvalidArgument`] before anything is touched.
//!   [`check_vol`] and [`check_path`] implement the rule for every implementation.
//! * **Errors are values that say what went wrong**, not strings: the object layer counts
//!   [`DriveError::FileNotFound`] towards "object absent" quorum, [`DriveError::Corrupt`] towards
//!   healing, [`DriveError::Offline`] towards "drive gone".
//! * **Commits are atomic per drive.** `write_all` and `rename_data` either leave the old
//!   `xl.meta` or the new one, never a mix, and are durable when they return.
//! * **Single core.** Futures are `!Send`: a drive belongs to one executor (the core that owns
//!   its erasure set) and is only used there.
//!
//! [`LocalDrive`]: crate::LocalDrive

use crate::xl_meta::ObjectVersion;

/// The system volume of every drive: staging, trash, multipart uploads, bucket metadata.
///
/// Its name starts with a '.', so it never collides with a bucket (S3 bucket names start
/// with a letter or digit). [`Drive::list_vols`] never lists it.
pub const SYS_VOL: &str = ".minnow.sys";
/// `SYS_VOL/tmp/`: in-flight writes (shard files, xl.meta temp files). Emptied at open.
pub const SYS_TMP_DIR: &str = "tmp";
/// `SYS_VOL/trash/`: deleted directories on their way out. Emptied at open.
pub const SYS_TRASH_DIR: &str = "trash";
/// `SYS_VOL/multipart/`: multipart uploads in progress.
pub const SYS_MULTIPART_DIR: &str = "multipart";
/// `SYS_VOL/buckets/`: per-bucket metadata (versioning, policies, ...).
pub const SYS_BUCKETS_DIR: &str = "buckets";

/// A volume (a bucket directory) as the drive sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolInfo {
    /// Directory name under the drive root.
    pub name: String,
    /// Creation time, ns since the Unix epoch (birth time, or mtime where the fs lacks it).
    pub created_ns: i64,
}

/// Space on the filesystem that holds the drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskInfo {
    /// Size of the filesystem.
    pub total_bytes: u64,
    /// Bytes available to this (unprivileged) process.
    pub free_bytes: u64,
}

/// Everything a drive operation can report: kinds the object layer decides on, each a plain
/// value that survives a network hop unchanged (no `io::Error` inside), so a remote drive
/// reports exactly what a local one would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum DriveError {
    /// The volume (bucket directory) does not exist.
    #[error("volume not found")]
    VolumeNotFound,
    /// `make_vol` on an existing volume.
    #[error("volume already exists")]
    VolumeExists,
    /// `delete_vol` without `force` on a volume that still holds entries.
    #[error("volume not empty")]
    VolumeNotEmpty,
    /// The file or directory does not exist (also: the path names a directory where a file
    /// was expected, or goes through a file). For version calls: the object has no `xl.meta`.
    #[error("file not found")]
    FileNotFound,
    /// The object's `xl.meta` is there but holds no version with the id asked for.
    #[error("version not found")]
    VersionNotFound,
    /// The object already holds [`crate::xl_meta::MAX_VERSIONS`] versions: a new one is refused.
    #[error("too many versions")]
    TooManyVersions,
    /// The file exists but its content cannot be trusted: torn, foreign, truncated, bad checksum.
    #[error("corrupt file {path:?}: {reason}")]
    Corrupt {
        /// The file, as far as the reporter knows it.
        path: String,
        /// What check failed.
        reason: String,
    },
    /// The drive is missing or unusable (root directory gone, not a directory, fault injected).
    #[error("drive offline")]
    Offline,
    /// ENOSPC / EDQUOT.
    #[error("disk full")]
    DiskFull,
    /// The drive did not answer in time (a remote drive, a hung device).
    #[error("drive timed out")]
    Timeout,
    /// A refused argument: a bad path or volume name, an impossible range. A caller bug or
    /// hostile input; nothing was touched.
    #[error("invalid argument {what:?}: {reason}")]
    InvalidArgument {
        /// The argument.
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// Any other failure of the drive: the operation, the path and the OS error's text.
    #[error("{op} {path:?}: {reason}")]
    Faulty {
        /// What the drive was doing ("read_all", "rename", ...).
        op: String,
        /// The path involved.
        path: String,
        /// The OS error, as text.
        reason: String,
    },
}

impl DriveError {
    /// True for [`DriveError::FileNotFound`] and [`DriveError::VolumeNotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, DriveError::FileNotFound | DriveError::VolumeNotFound)
    }

    /// True when the error is a refused argument (bad path), i.e. a caller bug or hostile input.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, DriveError::InvalidArgument { .. })
    }

    /// An [`DriveError::InvalidArgument`] for a refused argument.
    pub(crate) fn invalid(_op: &'static str, what: &str, reason: &str) -> DriveError {
        DriveError::InvalidArgument {
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Refuse a volume name that is not exactly one safe path component.
pub fn check_vol(vol: &str) -> Result<(), DriveError> {
    if vol.contains('/') {
        return Err(DriveError::invalid(
            "check_vol",
            vol,
            "volume name holds '/'",
        ));
    }
    check_component(vol).map_err(|reason| DriveError::invalid("check_vol", vol, reason))
}

/// Refuse a relative path unless every '/'-separated component is safe: not empty (so no
/// leading, trailing or doubled '/'), not "." or "..", no NUL byte.
pub fn check_path(path: &str) -> Result<(), DriveError> {
    for component in path.split('/') {
        check_component(component)
            .map_err(|reason| DriveError::invalid("check_path", path, reason))?;
    }
    Ok(())
}

fn check_component(component: &str) -> Result<(), &'static str> {
    match component {
        "" => Err("empty path component (absolute path, or '//' or trailing '/')"),
        "." | ".." => Err("'.' or '..' path component"),
        c if c.contains('\0') => Err("NUL byte in path"),
        _ => Ok(()),
    }
}

/// Name of the child directory that holds a "folder" object (a key ending in '/'), so that
/// `dir/` and `dir` never share an `xl.meta`. No key may have it (or `xl.meta`) as a segment:
/// `minnow_net::s3::router::RESERVED_KEY_SEGMENTS`.
pub const DIR_OBJECT_MARKER: &str = "__XLDIR__";

/// The directory holding an object's `xl.meta` and data directories, relative to its volume:
/// the key itself, or for a key ending in '/' its own child directory [`DIR_OBJECT_MARKER`].
pub fn object_dir(key: &str) -> String {
    match key.strip_suffix('/') {
        Some(stem) => format!("{stem}/{DIR_OBJECT_MARKER}"),
        None => key.to_string(),
    }
}

/// The key stored in an object directory, inverse of [`object_dir`].
pub fn key_from_dir(dir: &str) -> String {
    match dir.strip_suffix(DIR_OBJECT_MARKER) {
        Some(stem) if stem.ends_with('/') => stem.to_string(),
        _ => dir.to_string(),
    }
}

/// What a walk asks of a drive ([`Drive::walk_versions`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalkRequest {
    /// Only keys starting with this.
    pub prefix: String,
    /// Only keys greater than this (byte order); "" from the start.
    pub after: String,
    /// `Some("/")`: a key below a '/' after the prefix is not listed; its common prefix (up to and
    /// including that '/') is, once, as [`WalkEntry::Prefix`], and the walk skips the whole
    /// subtree in one step. Any other delimiter is grouped by the caller (the drive lists keys).
    pub delimiter: Option<String>,
    /// At most this many entries (keys and prefixes); 0 gives none.
    pub limit: usize,
    /// Every version of each key (newest first), or only the latest one.
    pub all_versions: bool,
}

/// One step of a walk, in byte order of the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalkEntry {
    /// A key and its versions, newest first (only the latest unless all were asked for; the
    /// latest may be a delete marker). Never with inline data.
    Object {
        /// The key.
        key: String,
        /// Its versions as this drive holds them, inline data left out.
        versions: Vec<ObjectVersion>,
    },
    /// A common prefix (ends with the delimiter): at least one key below it exists here.
    Prefix(String),
}

impl WalkEntry {
    /// The key or prefix: what the entry sorts by.
    pub fn name(&self) -> &str {
        match self {
            WalkEntry::Object { key, .. } => key,
            WalkEntry::Prefix(prefix) => prefix,
        }
    }
}

/// The state of one part file of a version on a drive ([`Drive::check_parts`],
/// [`Drive::verify_parts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartState {
    /// Present with the size the version says (and, when verified, every frame checks).
    Ok,
    /// Not there.
    Missing,
    /// There, but of another size than the version says, or (verified) a frame fails its hash.
    Corrupt,
}

/// One drive: a directory on this node, a drive on another node, or a test double.
///
/// All methods run on the executor that owns the drive; see the module header for the rules
/// on paths, errors and atomicity.
///
/// **Versions.** The object calls (`read_version` .. `walk_versions`) act on the versions in an
/// object's `xl.meta` (`dir` is the object's directory, relative to `vol`; `xl.meta` is
/// inside it) and are carried out on the drive itself, one call per object operation: the
/// object layer never reads a whole `xl.meta` to write it back. A version is named by its
/// `version_id` (`""` is the null version); `None` means the latest (a delete marker counts).
/// Every mutating version call replaces `xl.meta` atomically and is durable when it returns.
#[async_trait::async_trait(?Send)]
pub trait Drive {
    /// For logs: the directory (or `host:/dir` for a remote drive).
    fn endpoint(&self) -> &str;
    /// Size and free space of the filesystem holding the drive.
    async fn disk_info(&self) -> Result<DiskInfo, DriveError>;
    /// Is the drive there now? A cheap check (health endpoints call it about once a second
    /// per load balancer): [`DriveError::Offline`] when it is gone. By default, whether
    /// [`Drive::disk_info`] answers.
    async fn check_online(&self) -> Result<(), DriveError> {
        self.disk_info().await.map(|_| ())
    }
    /// Create a volume; [`DriveError::VolumeExists`] if it is there already. Durable.
    async fn make_vol(&self, vol: &str) -> Result<(), DriveError>;
    /// Every volume, sorted by name; never lists [`SYS_VOL`] (nor other dot-directories or
    /// `lost+found`).
    async fn list_vols(&self) -> Result<Vec<VolInfo>, DriveError>;
    /// [`DriveError::VolumeNotFound`] if absent.
    async fn stat_vol(&self, vol: &str) -> Result<VolInfo, DriveError>;
    /// Remove a volume. Without `force`: [`DriveError::VolumeNotEmpty`] unless it holds no file
    /// (empty directories left in it are removed first), atomically with respect to the drive's
    /// commits: a commit into a removed volume fails with [`DriveError::VolumeNotFound`] and
    /// never recreates it.
    /// With `force`: the volume and everything in it. [`SYS_VOL`] is refused.
    async fn delete_vol(&self, vol: &str, force: bool) -> Result<(), DriveError>;
    /// Whole small file (part metadata, bucket configuration). FileNotFound / VolumeNotFound.
    async fn read_all(&self, vol: &str, path: &str) -> Result<Vec<u8>, DriveError>;
    /// Durable atomic replace: write tmp in SYS_VOL/tmp, make it durable, rename onto path, make
    /// that durable. Creates parent dirs (durably). Never leaves a partial file at `path`.
    /// VolumeNotFound if `vol` does not exist.
    async fn write_all(&self, vol: &str, path: &str, data: &[u8]) -> Result<(), DriveError>;
    /// Streaming O_DIRECT shard file. `file_size_hint` (the size the file is expected to reach)
    /// picks the buffer: 2 MiB, 4 MiB from 32 MiB on;
    /// [`writer_memory_bytes`](crate::writer_memory_bytes) says what a writer holds at most.
    /// The file is created (truncated if present), parents created as needed. It is complete
    /// when [`FileWriter::finish`] returns, and durable once the commit that publishes it
    /// (`rename_data` or `rename`) returns: a commit makes what it moves durable before moving
    /// it.
    async fn create_file(
        &self,
        vol: &str,
        path: &str,
        file_size_hint: u64,
    ) -> Result<Box<dyn FileWriter>, DriveError>;
    /// Open a file for reads ([`FileReader::read_at`]). The open file stays readable, with the
    /// content it had, after its path is removed or renamed away: a reader that opened a
    /// version's shard files reads that version to its end whatever commits meanwhile.
    /// FileNotFound / VolumeNotFound.
    async fn open_file(&self, vol: &str, path: &str) -> Result<Box<dyn FileReader>, DriveError>;
    /// Rename file or directory (creating dst parents), durably: what moves is durable before
    /// it moves, the move is durable when this returns. A file replaces an existing file; a
    /// directory only replaces an empty directory.
    async fn rename(
        &self,
        src_vol: &str,
        src_path: &str,
        dst_vol: &str,
        dst_path: &str,
    ) -> Result<(), DriveError>;
    /// Remove a file or (with `recursive`) a directory tree; then remove now-empty parent
    /// directories up to (not including) the volume. FileNotFound if absent. A directory is
    /// first renamed into SYS_VOL/trash/<uuid> (so it vanishes atomically) and then removed.
    /// A non-empty directory without `recursive` is [`DriveError::Faulty`].
    /// Durable when it returns, except under `SYS_VOL/tmp`, which is emptied at open anyway.
    async fn delete(&self, vol: &str, path: &str, recursive: bool) -> Result<(), DriveError>;
    /// Names in a directory, sorted by byte order; sub-directories end with '/'.
    /// `dir` "" is the volume itself; one trailing '/' on `dir` is accepted.
    async fn list_dir(&self, vol: &str, dir: &str) -> Result<Vec<String>, DriveError>;

    /// One version of the object in `vol/dir`: the latest (`None`) or the one with that id,
    /// with its inline data only when `with_data`. FileNotFound (no `xl.meta`), VersionNotFound,
    /// Corrupt (an `xl.meta` that fails its checks), VolumeNotFound.
    async fn read_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Result<ObjectVersion, DriveError>;
    /// The raw bytes of the object's `xl.meta` (healing, inspection). FileNotFound if absent.
    async fn read_xl(&self, vol: &str, dir: &str) -> Result<Vec<u8>, DriveError>;
    /// Commit a new version: when `version.data_dir` is Some, rename the staged directory
    /// `src_vol/src_path` (holding its part files) to `vol/dir/<data_dir>` (FileNotFound, and
    /// nothing changed, when it is not there); when it is None (inline data, delete marker)
    /// nothing is moved and `src_*` is not looked at. Then add `version` to the object's
    /// `xl.meta` (created if absent) at the place its `mod_time_ns` gives it (newest first),
    /// replacing a version with the same id. Returns
    /// the version it replaced (with its inline data), whose data directory is left in place:
    /// the caller frees it ([`Drive::free_data_dir`]) once the commit reached quorum, or puts
    /// the old version back ([`Drive::write_version`]) when it did not. Never recreates a
    /// deleted volume (VolumeNotFound); TooManyVersions when the object is full.
    async fn rename_data(
        &self,
        src_vol: &str,
        src_path: &str,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<Option<ObjectVersion>, DriveError>;
    /// Add a version that has no staged data to move (a delete marker, or a version being put
    /// back by a rollback), replacing one with the same id; returns the replaced version as
    /// [`Drive::rename_data`] does, its data directory left in place.
    async fn write_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<Option<ObjectVersion>, DriveError>;
    /// Replace the metadata of an existing version (tags, user metadata; later retention): the
    /// version with `version.version_id` and the same data directory. Its inline data, its
    /// `mod_time_ns` and so its place among the versions are kept, whatever `version` says of
    /// them. FileNotFound without `xl.meta`; VersionNotFound
    /// when no such version is there (a drive that missed a write must not get half a version).
    async fn update_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<(), DriveError>;
    /// Remove the version with this id and free its data directory (unless another version
    /// still names it); the `xl.meta` goes when its last version does, and the object's
    /// now-empty directories with it. Returns the removed version (without inline data).
    /// FileNotFound / VersionNotFound when it is not there.
    async fn delete_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: &str,
    ) -> Result<ObjectVersion, DriveError>;
    /// Remove the data directory `vol/dir/<data_dir>` of a version that a commit replaced,
    /// unless a version in `xl.meta` still names it. Absent is Ok.
    async fn free_data_dir(&self, vol: &str, dir: &str, data_dir: &str) -> Result<(), DriveError>;
    /// Are the version's part files (`vol/dir/<data_dir>/part.<N>`) there, with the sizes its
    /// layout gives them (`ErasureLayout::shard_file_size(part.size)`)? One state per part of
    /// `version.parts`, in order (none for a version without parts, e.g. a delete marker). An
    /// inline version has no files: every part is Ok. A layout that cannot be is Corrupt.
    async fn check_parts(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
    ) -> Result<Vec<PartState>, DriveError>;
    /// Like [`Drive::check_parts`], and reads every frame of every part (inline data too: the
    /// version's own, or when it carries none the one this drive's `xl.meta` holds for its id),
    /// checking it against its bitrot hash under the version's frame keys
    /// (`FrameKey::bound(binding, erasure.index, part)` with the version's
    /// [`crate::xl_meta::META_FRAME_BINDING`], `FrameKey::Unbound` without).
    async fn verify_parts(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
    ) -> Result<Vec<PartState>, DriveError>;
    /// Keys of `vol` (not directories: a folder object's [`DIR_OBJECT_MARKER`] directory is
    /// its key, ending in '/') in byte order of the key, with their version summaries, as
    /// [`WalkRequest`] says; never reads inline data, and costs in proportion to what it returns
    /// (and to the directories it passes), not to what lies before `after`. A key whose
    /// `xl.meta` is corrupt is left out (and logged); a prefix whose directory part is not a
    /// valid path matches nothing. With the delimiter "/", a common prefix is returned when it is
    /// greater than `after` (so paging after a prefix skips it whole) and some `xl.meta` lies
    /// below it (a delete marker counts: the drive does not decide visibility).
    /// VolumeNotFound.
    async fn walk_versions(
        &self,
        vol: &str,
        request: &WalkRequest,
    ) -> Result<Vec<WalkEntry>, DriveError>;
}

/// A file opened with [`Drive::open_file`]; closed on drop.
#[async_trait::async_trait(?Send)]
pub trait FileReader {
    /// Exactly `len` bytes at `offset` (any alignment). Short -> Corrupt.
    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, DriveError>;
}

/// A shard file being written. Drop without [`FileWriter::finish`] abandons the file (its
/// content is undefined; the caller deletes the staging directory).
#[async_trait::async_trait(?Send)]
pub trait FileWriter {
    /// Append. Buffers into aligned DMA buffers (reused, per-core pool), writes full buffers with
    /// O_DIRECT, at most 2 writes in flight. After an error the writer refuses further calls.
    async fn write(&mut self, data: &[u8]) -> Result<(), DriveError>;
    /// Final partial block: zero-pad to 4096, write, ftruncate to the real length, close.
    /// Returns the file length in bytes. Not durable yet: see [`Drive::create_file`].
    async fn finish(self: Box<Self>) -> Result<u64, DriveError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_rules() {
        for ok in [
            "a",
            "a/b",
            "a b/c.d",
            "..a",
            "a..",
            ".a/b.",
            "x/y/z/xl.meta",
        ] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a/..", "a\0b",
        ] {
            let err = check_path(bad).expect_err(bad);
            assert!(err.is_invalid_input(), "{bad}: {err}");
        }
        for ok in ["bucket", SYS_VOL, "a.b-c"] {
            assert!(check_vol(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "/a", "a\0", "a/"] {
            assert!(check_vol(bad).is_err(), "{bad}");
        }
    }
}

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
//!   [`DriveError::Io`] of kind [`std::io::ErrorKind::InvalidInput`] before anything is touched.
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

use std::io;
use std::path::PathBuf;

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

/// Everything a drive operation can report.
#[derive(Debug, thiserror::Error)]
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
    /// was expected, or goes through a file).
    #[error("file not found")]
    FileNotFound,
    /// The file exists but its content cannot be trusted: torn, foreign, truncated, bad checksum.
    #[error("corrupt file {path:?}: {reason}")]
    Corrupt {
        /// The file, as far as the reporter knows it.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
    /// The drive is missing or unusable (root directory gone, not a directory, fault injected).
    #[error("drive offline")]
    Offline,
    /// ENOSPC / EDQUOT.
    #[error("disk full")]
    DiskFull,
    /// Any other I/O failure, with the operation and the path. Refused paths use kind
    /// [`io::ErrorKind::InvalidInput`].
    #[error("{op} {path:?}: {source}")]
    Io {
        /// What the drive was doing ("read_all", "rename", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl DriveError {
    /// True for [`DriveError::FileNotFound`] and [`DriveError::VolumeNotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, DriveError::FileNotFound | DriveError::VolumeNotFound)
    }

    /// True when the error is a refused argument (bad path), i.e. a caller bug or hostile input.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, DriveError::Io { source, .. } if source.kind() == io::ErrorKind::InvalidInput)
    }

    /// An `Io` error of kind `InvalidInput` for a refused argument.
    pub(crate) fn invalid(op: &'static str, what: &str, reason: &str) -> DriveError {
        DriveError::Io {
            op,
            path: PathBuf::from(what),
            source: io::Error::new(io::ErrorKind::InvalidInput, reason.to_string()),
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

/// One drive: a directory on this node, a drive on another node, or a test double.
///
/// All methods run on the executor that owns the drive; see the module header for the rules
/// on paths, errors and atomicity.
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
    /// Whole small file (xl.meta, part metadata). FileNotFound / VolumeNotFound.
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
    /// Exactly `len` bytes at `offset` (any alignment; aligned O_DIRECT read underneath).
    /// Short -> Corrupt.
    async fn read_file(
        &self,
        vol: &str,
        path: &str,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, DriveError>;
    /// Commit a new object version: if data_dir is Some, rename `src_vol/src_path` (a directory
    /// holding part.N files) to `dst_vol/dst_path/<data_dir>`; then durably, atomically replace
    /// `dst_vol/dst_path/xl.meta` with xl_meta. Parent dirs created durably.
    async fn rename_data(
        &self,
        src_vol: &str,
        src_path: &str,
        data_dir: Option<&str>,
        dst_vol: &str,
        dst_path: &str,
        xl_meta: &[u8],
    ) -> Result<(), DriveError>;
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
    /// A non-empty directory without `recursive` is an `Io` error of kind `DirectoryNotEmpty`.
    /// Durable when it returns, except under `SYS_VOL/tmp`, which is emptied at open anyway.
    async fn delete(&self, vol: &str, path: &str, recursive: bool) -> Result<(), DriveError>;
    /// Names in a directory, sorted by byte order; sub-directories end with '/'.
    /// `dir` "" is the volume itself; one trailing '/' on `dir` is accepted.
    async fn list_dir(&self, vol: &str, dir: &str) -> Result<Vec<String>, DriveError>;
    /// Object keys (directories holding an "xl.meta" file) under vol, in byte order of the KEY,
    /// that start with `prefix` and are > `start_after`, at most `limit` (0 gives none); each
    /// with its xl.meta bytes. Recursive. Directory sort trick: compare entry names with '/'
    /// appended for dirs. Object dirs may also contain data dirs (uuid-named, no xl.meta
    /// inside): not keys. A prefix whose directory part is not a valid path matches nothing.
    async fn walk(
        &self,
        vol: &str,
        prefix: &str,
        start_after: &str,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, DriveError>;
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

//! [`LocalDrive`]: a [`Drive`] over one directory of this node, on the current glommio executor.
//!
//! ```text
//! <root>/format.json                         (format.rs; read/written before drives open)
//! <root>/.minnow.sys/tmp/<uuid>              xl.meta being written (write_all, rename_data)
//! <root>/.minnow.sys/tmp/<uuid>/part.N      shard files being written (create_file)
//! <root>/.minnow.sys/trash/<uuid>            deleted directories, removed right after
//! <root>/.minnow.sys/multipart/...           uploads in progress
//! <root>/.minnow.sys/buckets/<bucket>/...    bucket metadata
//! <root>/<bucket>/<key...>/xl.meta           object metadata (xl_meta.rs; version calls in
//!                                            versions.rs, listing in walk.rs)
//! <root>/<bucket>/<key...>/__XLDIR__/xl.meta a folder object `key.../`
//! <root>/<bucket>/<key...>/<dd>/part.N       shard files of a version, bitrot-framed
//! ```
//!
//! How each kind of I/O is done, and why (numbers in GLOMMIO.md):
//! * **Shard files** are O_DIRECT (`DmaFile`): written through pooled aligned buffers, two
//!   writes in flight, final block padded/truncated by hand (writer.rs, buffers.rs); read with
//!   aligned `read_at_aligned` and copied out. The page cache is bypassed: object data is large
//!   and read once, and O_DIRECT keeps memory use and write-back latency predictable.
//! * **Small files** (`xl.meta`, part metadata) are buffered (`BufferedFile`) and replaced
//!   atomically: write a temp file in `SYS_VOL/tmp`, make it durable, rename onto the target,
//!   make that durable. A crash leaves the old or the new file, never a torn one.
//! * **Durability** has one mechanism, the group commit of sync_group.rs: nothing here calls
//!   fsync or fdatasync. Every commit is *stage → barrier → publish → barrier*: the first
//!   barrier makes the staged bytes (shard files, the temp xl.meta) durable before any name
//!   points at them, the second makes the renames, mkdirs and removals durable before the call
//!   returns. A barrier is one `syncfs` shared by every mutation of the filesystem that
//!   finished before it started, so under load a batch of commits costs two `syncfs` in all,
//!   instead of two or three journal commits per drive per object.
//! * **Metadata ops** glommio lacks (mkdir -p, readdir, path stat, statvfs, rename/unlink of
//!   trees) run on the executor's blocking pool, one trip per step (blocking.rs).
//!
//! Invariants:
//! * Every path handed in is checked ([`check_vol`], [`check_path`]) before any syscall.
//! * The poll-ring probe (`DmaFile::create` of `SYS_VOL/tmp/.probe`) is the first O_DIRECT open
//!   of the drive on this executor (GLOMMIO.md pitfall #1: otherwise every DMA I/O busy-polls).
//!   It logs one expected `ERROR glommio::reactor: got unexpected error when probing iopoll
//!   support ... Bad file descriptor`; the binary's log filter demotes it.
//! * O_DIRECT opens never overlap an unlink or rename-away on this drive: glommio 0.9's
//!   `DmaFile::open` panics if its path vanishes mid-open (pitfall #3). `namespace` is a
//!   drive-wide lock: opens and "mkdir -p then use" sequences take it shared, unlink /
//!   rename-away / empty-parent removal take it exclusive. Critical sections are one syscall
//!   batch (tens of µs); no fsync and no data write happens under it.
//! * Every mutating call (`make_vol`, `delete_vol`, `write_all`, `rename_data`,
//!   `write_version`, `update_version`, `delete_version`, `free_data_dir`, `rename`, `delete`)
//!   is durable when it returns, but for removals under `SYS_VOL/tmp`: a crash
//!   wipes that directory anyway. Staged shard files from `create_file` are not durable until
//!   the commit that publishes them.

mod blocking;
pub(crate) mod buffers;
mod sync_group;
mod versions;
mod walk;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod version_tests;

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::UNIX_EPOCH;

use glommio::io::{BufferedFile, DmaFile};
use glommio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use glommio::GlommioError;

use crate::drive::{check_path, check_vol};
use crate::drive::{PartState, WalkEntry, WalkRequest};
use crate::format::new_uuid;
use crate::xl_meta::ObjectVersion;
use crate::{
    DiskInfo, Drive, DriveError, FileReader, FileWriter, VolInfo, SYS_BUCKETS_DIR,
    SYS_MULTIPART_DIR, SYS_TMP_DIR, SYS_TRASH_DIR, SYS_VOL,
};
use blocking::{mkdir_all, parent_rel, require_vol};
use buffers::DIRECT_ALIGN;
use sync_group::{GroupKey, Mutation, SyncGroup};
pub use writer::writer_memory_bytes;
use writer::DmaFileWriter;

/// Name of the O_DIRECT probe file in `SYS_VOL/tmp` (see the module invariants).
const PROBE_FILE: &str = ".probe";
/// Largest single O_DIRECT read issued by `FileReader::read_at`.
const READ_CHUNK_BYTES: usize = 4 << 20;

/// A drive that is a directory on this node. Create with [`LocalDrive::open`] on the executor
/// that will own it; use it only there.
pub struct LocalDrive {
    root: PathBuf,
    /// (device, inode) of the root at open: a directory at the same path later is another drive.
    identity: (u64, u64),
    endpoint: String,
    /// Orders O_DIRECT opens against unlink/rename-away (module invariants).
    namespace: RwLock<()>,
    /// The group commit of this drive's filesystem on this executor (sync_group.rs).
    sync: Rc<SyncGroup>,
}

impl LocalDrive {
    /// Open a drive directory on the current executor: creates SYS_VOL/{tmp,trash,multipart,
    /// buckets}, removes stale SYS_VOL/tmp/* and trash/* content (crash leftovers), and runs the
    /// poll-ring probe (DmaFile::create of SYS_VOL/tmp/.probe before any other DMA open, see
    /// GLOMMIO.md pitfall #1). A missing root, or a root that is not a directory, is
    /// [`DriveError::Offline`]; an unwritable one [`DriveError::Faulty`] naming the path.
    ///
    /// Open each directory once per process, on the executor that owns it: opening it again
    /// empties `SYS_VOL/tmp` under the first instance's feet, and the namespace lock that
    /// keeps glommio's open/unlink race away (module invariants) is per instance.
    pub async fn open(root: PathBuf) -> Result<LocalDrive, DriveError> {
        let sys = root.join(SYS_VOL);
        let (root_prep, sys_prep) = (root.clone(), sys.clone());
        let (key, identity) = run_blocking(move || -> Result<_, DriveError> {
            let identity = match fs::metadata(&root_prep) {
                Ok(meta) if meta.is_dir() => (meta.dev(), meta.ino()),
                _ => return Err(DriveError::Offline),
            };
            for sub in [
                SYS_TMP_DIR,
                SYS_TRASH_DIR,
                SYS_MULTIPART_DIR,
                SYS_BUCKETS_DIR,
            ] {
                let dir = sys_prep.join(sub);
                fs::create_dir_all(&dir).map_err(|e| io_error("open", dir, e))?;
            }
            for sub in [SYS_TMP_DIR, SYS_TRASH_DIR] {
                let dir = sys_prep.join(sub);
                blocking::empty_dir(&dir).map_err(|e| io_error("open", dir, e))?;
            }
            let key = GroupKey::probe(&root_prep).map_err(|e| io_error("open", root_prep, e))?;
            Ok((key, identity))
        })
        .await?;
        let sync = SyncGroup::for_key(key);
        sync.barrier()
            .await
            .map_err(|e| io_error("open (sync)", root.clone(), e))?;

        let probe = sys.join(SYS_TMP_DIR).join(PROBE_FILE);
        let file = DmaFile::create(&probe)
            .await
            .map_err(|e| io_error("open (O_DIRECT probe)", probe.clone(), from_glommio(e)))?;
        let alignment = file.alignment();
        file.close()
            .await
            .map_err(|e| io_error("open (O_DIRECT probe)", probe.clone(), from_glommio(e)))?;
        glommio::io::remove(&probe)
            .await
            .map_err(|e| io_error("open (O_DIRECT probe)", probe.clone(), from_glommio(e)))?;
        if alignment > DIRECT_ALIGN as u64 {
            return Err(io_error(
                "open (O_DIRECT probe)",
                probe,
                io::Error::other(format!(
                    "device needs {alignment}-byte O_DIRECT alignment, minnow writes {DIRECT_ALIGN}"
                )),
            ));
        }
        let endpoint = root.display().to_string();
        Ok(LocalDrive {
            root,
            identity,
            endpoint,
            namespace: RwLock::new(()),
            sync,
        })
    }

    /// The drive directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn vol_dir(&self, vol: &str) -> Result<PathBuf, DriveError> {
        check_vol(vol)?;
        Ok(self.root.join(vol))
    }

    /// (volume directory, full path) of a checked `vol`/`path`.
    fn file_path(&self, vol: &str, path: &str) -> Result<(PathBuf, PathBuf), DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        check_path(path)?;
        let full = vol_dir.join(path);
        Ok((vol_dir, full))
    }

    fn sys_path(&self, sub: &str) -> PathBuf {
        self.root.join(SYS_VOL).join(sub).join(new_uuid())
    }

    async fn shared(&self) -> Result<RwLockReadGuard<'_, ()>, DriveError> {
        self.namespace
            .read()
            .await
            .map_err(|e| io_error("lock", self.root.clone(), from_glommio(e)))
    }

    async fn exclusive(&self) -> Result<RwLockWriteGuard<'_, ()>, DriveError> {
        self.namespace
            .write()
            .await
            .map_err(|e| io_error("lock", self.root.clone(), from_glommio(e)))
    }

    /// O_DIRECT open for reading, under the namespace lock (module invariants).
    async fn open_direct(&self, vol: &str, path: &str) -> Result<DirectReader, DriveError> {
        let (vol_dir, full) = self.file_path(vol, path)?;
        let guard = self.shared().await?;
        let opened = DmaFile::open(&full).await.map_err(from_glommio);
        drop(guard);
        match opened {
            Ok(file) => Ok(DirectReader { file, path: full }),
            Err(e) if is_missing(&e) => Err(self.missing(vol_dir).await),
            Err(e) => Err(io_error("open_file", full, e)),
        }
    }

    /// The error for a path that is not there: VolumeNotFound if the volume is gone too.
    async fn missing(&self, vol_dir: PathBuf) -> DriveError {
        match run_blocking(move || require_vol(&vol_dir)).await {
            Ok(()) => DriveError::FileNotFound,
            Err(e) => e,
        }
    }

    /// Make everything this drive (and any drive on its filesystem) did so far durable: the
    /// group commit, the only sync point of the drive (module header, sync_group.rs).
    async fn durable(
        &self,
        mutation: &mut Mutation<'_>,
        op: &'static str,
    ) -> Result<(), DriveError> {
        mutation
            .barrier()
            .await
            .map_err(|e| io_error(op, self.root.clone(), e))
    }

    /// Stage `data` in a new temp file in SYS_VOL/tmp and pass a barrier: the file, and
    /// whatever else the mutation staged before, is durable when this returns. The temp file is
    /// removed on failure.
    async fn stage_tmp(
        &self,
        mutation: &mut Mutation<'_>,
        data: &[u8],
        op: &'static str,
    ) -> Result<PathBuf, DriveError> {
        let tmp = self.sys_path(SYS_TMP_DIR);
        let staged = match write_new(&tmp, data).await {
            Ok(()) => self.durable(mutation, op).await,
            Err(e) => Err(io_error("write tmp", tmp.clone(), e)),
        };
        match staged {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = glommio::io::remove(&tmp).await;
                Err(e)
            }
        }
    }
}

/// Run a blocking closure on the executor's blocking pool.
async fn run_blocking<R, F>(f: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    glommio::executor().spawn_blocking(f).await
}

/// glommio error -> the OS error inside it (keeps `raw_os_error`, unlike glommio's `From`).
pub(crate) fn from_glommio<T>(e: GlommioError<T>) -> io::Error {
    match e {
        GlommioError::EnhancedIoError { source, .. } => source,
        GlommioError::IoError(source) => source,
        other => other.into(),
    }
}

/// An OS error as a plain value: ENOSPC and EDQUOT become [`DriveError::DiskFull`], anything
/// else [`DriveError::Faulty`] with the operation, the path and the error's text.
pub(crate) fn io_error(op: &'static str, path: PathBuf, source: io::Error) -> DriveError {
    let full = matches!(
        source.raw_os_error(),
        Some(code) if code == libc::ENOSPC || code == libc::EDQUOT
    ) || matches!(
        source.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    );
    if full {
        DriveError::DiskFull
    } else {
        DriveError::Faulty {
            op: op.to_string(),
            path: path.display().to_string(),
            reason: source.to_string(),
        }
    }
}

/// Errors that mean "no such file here": absent, a file where a directory was expected on the
/// way, or a directory where a file was expected.
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

/// Create (or truncate) `path`, write `data`, close. Not synced.
async fn write_new(path: &Path, data: &[u8]) -> io::Result<()> {
    let file = BufferedFile::create(path).await.map_err(from_glommio)?;
    let written = async {
        let mut pos = 0;
        while pos < data.len() {
            let n = file
                .write_at(data[pos..].to_vec(), pos as u64)
                .await
                .map_err(from_glommio)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "write returned 0"));
            }
            pos += n;
        }
        Ok(())
    }
    .await;
    let closed = file.close().await.map_err(from_glommio);
    written.and(closed)
}

/// Whole file through the page cache (small files only).
pub(crate) async fn read_small(path: &Path) -> io::Result<Vec<u8>> {
    let file = BufferedFile::open(path).await.map_err(from_glommio)?;
    let read = async {
        let size = file.file_size().await.map_err(from_glommio)?;
        let size = usize::try_from(size).map_err(io::Error::other)?;
        let mut out = Vec::with_capacity(size);
        while out.len() < size {
            let chunk = file
                .read_at(out.len() as u64, size - out.len())
                .await
                .map_err(from_glommio)?;
            if chunk.is_empty() {
                break; // shrank meanwhile: return what is there
            }
            out.extend_from_slice(&chunk);
        }
        Ok::<_, io::Error>(out)
    }
    .await;
    let closed = file.close().await.map_err(from_glommio);
    let out = read?;
    closed?;
    Ok(out)
}

fn vol_info(name: String, meta: &fs::Metadata) -> VolInfo {
    let created_ns = meta
        .created()
        .or_else(|_| meta.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    VolInfo { name, created_ns }
}

#[async_trait::async_trait(?Send)]
impl Drive for LocalDrive {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn disk_info(&self) -> Result<DiskInfo, DriveError> {
        let root = self.root.clone();
        run_blocking(move || match nix::sys::statvfs::statvfs(&root) {
            Ok(st) => {
                let fragment = st.fragment_size();
                Ok(DiskInfo {
                    total_bytes: st.blocks().saturating_mul(fragment),
                    free_bytes: st.blocks_available().saturating_mul(fragment),
                })
            }
            Err(nix::errno::Errno::ENOENT) => Err(DriveError::Offline),
            Err(e) => Err(io_error("disk_info", root, e.into())),
        })
        .await
    }

    /// Online while the root is the directory opened (same device and inode: not removed,
    /// renamed away or replaced) and holds `SYS_VOL/tmp` (not an empty mount point left by an
    /// unmounted filesystem). Two `stat`s on the blocking pool.
    async fn check_online(&self) -> Result<(), DriveError> {
        let (root, identity) = (self.root.clone(), self.identity);
        run_blocking(move || {
            let here = |meta: &fs::Metadata| (meta.dev(), meta.ino());
            match fs::metadata(&root) {
                Ok(meta) if meta.is_dir() && here(&meta) == identity => {}
                Ok(_) => return Err(DriveError::Offline),
                Err(e) if is_missing(&e) => return Err(DriveError::Offline),
                Err(e) => return Err(io_error("check_online", root, e)),
            }
            let tmp = root.join(SYS_VOL).join(SYS_TMP_DIR);
            match fs::metadata(&tmp) {
                Ok(meta) if meta.is_dir() => Ok(()),
                Ok(_) => Err(DriveError::Offline),
                Err(e) if is_missing(&e) => Err(DriveError::Offline),
                Err(e) => Err(io_error("check_online", tmp, e)),
            }
        })
        .await
    }

    async fn make_vol(&self, vol: &str) -> Result<(), DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        let mut mutation = self.sync.begin();
        let root = self.root.clone();
        run_blocking(move || match fs::create_dir(&vol_dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(DriveError::VolumeExists),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !root.is_dir() => {
                Err(DriveError::Offline)
            }
            Err(e) => Err(io_error("make_vol", vol_dir, e)),
        })
        .await?;
        self.durable(&mut mutation, "make_vol").await
    }

    async fn list_vols(&self) -> Result<Vec<VolInfo>, DriveError> {
        let root = self.root.clone();
        run_blocking(move || {
            let entries = match blocking::read_dir(&root) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(DriveError::Offline),
                Err(e) => return Err(io_error("list_vols", root, e)),
            };
            let mut vols = Vec::new();
            for (name, is_dir) in entries {
                // SYS_VOL and any other dot-directory, and the fs's own lost+found, are not
                // buckets (S3 bucket names start with a letter or digit).
                if !is_dir || name.starts_with('.') || name == "lost+found" {
                    continue;
                }
                match fs::metadata(root.join(&name)) {
                    Ok(meta) => vols.push(vol_info(name, &meta)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {} // deleted meanwhile
                    Err(e) => return Err(io_error("list_vols", root.join(&name), e)),
                }
            }
            vols.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(vols)
        })
        .await
    }

    async fn stat_vol(&self, vol: &str) -> Result<VolInfo, DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        let name = vol.to_string();
        run_blocking(move || match fs::metadata(&vol_dir) {
            Ok(meta) if meta.is_dir() => Ok(vol_info(name, &meta)),
            Ok(_) => Err(blocking::vol_missing(&vol_dir)),
            Err(e) if is_missing(&e) => Err(blocking::vol_missing(&vol_dir)),
            Err(e) => Err(io_error("stat_vol", vol_dir, e)),
        })
        .await
    }

    async fn delete_vol(&self, vol: &str, force: bool) -> Result<(), DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        if vol == SYS_VOL {
            return Err(DriveError::invalid(
                "delete_vol",
                vol,
                "the system volume cannot be deleted",
            ));
        }
        let trash = self.sys_path(SYS_TRASH_DIR);
        let mut mutation = self.sync.begin();
        let guard = self.exclusive().await?;
        let trashed = run_blocking(move || {
            require_vol(&vol_dir)?;
            if force {
                fs::rename(&vol_dir, &trash).map_err(|e| io_error("delete_vol", vol_dir, e))?;
                return Ok(Some(trash));
            }
            // rmdir under the exclusive lock: a commit either lands before (not empty) or finds
            // the volume gone; mkdir_all never recreates it.
            let removed = match blocking::prune_empty_dirs(&vol_dir) {
                Ok(_) => fs::remove_dir(&vol_dir),
                Err(e) => Err(e),
            };
            match removed {
                Ok(()) => Ok(None),
                Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => {
                    Err(DriveError::VolumeNotEmpty)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(DriveError::VolumeNotFound),
                Err(e) => Err(io_error("delete_vol", vol_dir, e)),
            }
        })
        .await?;
        drop(guard);
        let durable = self.durable(&mut mutation, "delete_vol").await;
        drop(mutation); // emptying the trash needs no barrier
        if let Some(trash) = trashed {
            remove_trash(trash).await;
        }
        durable
    }

    async fn read_all(&self, vol: &str, path: &str) -> Result<Vec<u8>, DriveError> {
        let (vol_dir, full) = self.file_path(vol, path)?;
        match read_small(&full).await {
            Ok(bytes) => Ok(bytes),
            Err(e) if is_missing(&e) => Err(self.missing(vol_dir).await),
            Err(e) => Err(io_error("read_all", full, e)),
        }
    }

    async fn write_all(&self, vol: &str, path: &str, data: &[u8]) -> Result<(), DriveError> {
        let (vol_dir, full) = self.file_path(vol, path)?;
        let parent = parent_rel(path).to_string();
        let mut mutation = self.sync.begin();
        let tmp = self.stage_tmp(&mut mutation, data, "write_all").await?;
        let guard = self.shared().await?;
        run_blocking(move || {
            let placed = mkdir_all(&vol_dir, &parent)
                .and_then(|()| fs::rename(&tmp, &full).map_err(|e| io_error("write_all", full, e)));
            if placed.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            placed
        })
        .await?;
        drop(guard);
        self.durable(&mut mutation, "write_all").await
    }

    async fn create_file(
        &self,
        vol: &str,
        path: &str,
        file_size_hint: u64,
    ) -> Result<Box<dyn FileWriter>, DriveError> {
        let (vol_dir, full) = self.file_path(vol, path)?;
        let parent = parent_rel(path).to_string();
        let guard = self.shared().await?;
        let mkdir_vol_dir = vol_dir.clone();
        run_blocking(move || mkdir_all(&mkdir_vol_dir, &parent)).await?;
        let created = DmaFile::create(&full).await.map_err(from_glommio);
        drop(guard);
        match created {
            Ok(file) => Ok(Box::new(DmaFileWriter::new(file, full, file_size_hint))),
            Err(e) if is_missing(&e) => Err(self.missing(vol_dir).await),
            Err(e) => Err(io_error("create_file", full, e)),
        }
    }

    async fn open_file(&self, vol: &str, path: &str) -> Result<Box<dyn FileReader>, DriveError> {
        Ok(Box::new(self.open_direct(vol, path).await?))
    }

    async fn rename(
        &self,
        src_vol: &str,
        src_path: &str,
        dst_vol: &str,
        dst_path: &str,
    ) -> Result<(), DriveError> {
        let (src_vol_dir, src) = self.file_path(src_vol, src_path)?;
        let (dst_vol_dir, dst) = self.file_path(dst_vol, dst_path)?;
        let dst_parent_rel = parent_rel(dst_path).to_string();
        // What moves must be durable where it is before it shows up where it goes.
        let mut mutation = self.sync.begin();
        self.durable(&mut mutation, "rename").await?;
        let guard = self.exclusive().await?;
        run_blocking(move || {
            require_vol(&src_vol_dir)?;
            match fs::symlink_metadata(&src) {
                Ok(_) => {}
                Err(e) if is_missing(&e) => return Err(DriveError::FileNotFound),
                Err(e) => return Err(io_error("rename", src, e)),
            }
            mkdir_all(&dst_vol_dir, &dst_parent_rel)?;
            fs::rename(&src, &dst).map_err(|e| io_error("rename", dst, e))
        })
        .await?;
        drop(guard);
        self.durable(&mut mutation, "rename").await
    }

    async fn delete(&self, vol: &str, path: &str, recursive: bool) -> Result<(), DriveError> {
        let (vol_dir, full) = self.file_path(vol, path)?;
        let parent = parent_rel(path).to_string();
        let trash = self.sys_path(SYS_TRASH_DIR);
        // Nothing in SYS_VOL/tmp survives a restart (open empties it): removing from it needs
        // no barrier.
        let needs_barrier = !(vol == SYS_VOL && path.split('/').next() == Some(SYS_TMP_DIR));
        let vol = vol.to_string();
        let mut mutation = needs_barrier.then(|| self.sync.begin());
        let guard = self.exclusive().await?;
        let trashed = run_blocking(move || {
            let meta = match fs::symlink_metadata(&full) {
                Ok(meta) => meta,
                Err(e) if is_missing(&e) => {
                    require_vol(&vol_dir)?;
                    return Err(DriveError::FileNotFound);
                }
                Err(e) => return Err(io_error("delete", full, e)),
            };
            let trashed = if !meta.is_dir() {
                fs::remove_file(&full).map_err(|e| io_error("delete", full, e))?;
                None
            } else if recursive {
                // Vanishes atomically; the tree is removed from the trash after the lock.
                fs::rename(&full, &trash).map_err(|e| io_error("delete", full, e))?;
                Some(trash)
            } else {
                fs::remove_dir(&full).map_err(|e| io_error("delete", full, e))?;
                None
            };
            // In SYS_VOL the top-level directories (tmp, trash, ...) are structure, not
            // leftovers: empty-parent removal stops below them.
            match (vol == SYS_VOL, parent.split_once('/')) {
                (false, _) => blocking::remove_empty_parents(&vol_dir, &parent),
                (true, Some((top, rest))) => {
                    blocking::remove_empty_parents(&vol_dir.join(top), rest)
                }
                (true, None) => {}
            }
            Ok(trashed)
        })
        .await?;
        drop(guard);
        let durable = match mutation.as_mut() {
            Some(mutation) => self.durable(mutation, "delete").await,
            None => Ok(()),
        };
        drop(mutation); // emptying the trash needs no barrier
        if let Some(trash) = trashed {
            remove_trash(trash).await;
        }
        durable
    }

    async fn list_dir(&self, vol: &str, dir: &str) -> Result<Vec<String>, DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        let dir = dir.strip_suffix('/').unwrap_or(dir);
        let full = if dir.is_empty() {
            vol_dir.clone()
        } else {
            check_path(dir)?;
            vol_dir.join(dir)
        };
        run_blocking(move || match blocking::read_dir(&full) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .into_iter()
                    .map(|(name, is_dir)| if is_dir { name + "/" } else { name })
                    .collect();
                names.sort_unstable();
                Ok(names)
            }
            Err(e) if is_missing(&e) => {
                require_vol(&vol_dir)?;
                Err(DriveError::FileNotFound)
            }
            Err(e) => Err(io_error("list_dir", full, e)),
        })
        .await
    }

    async fn read_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Result<ObjectVersion, DriveError> {
        self.read_one_version(vol, dir, version_id, with_data).await
    }

    async fn read_xl(&self, vol: &str, dir: &str) -> Result<Vec<u8>, DriveError> {
        let paths = self.object_paths(vol, dir)?;
        self.load_xl(&paths).await?.ok_or(DriveError::FileNotFound)
    }

    async fn rename_data(
        &self,
        src_vol: &str,
        src_path: &str,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<Option<ObjectVersion>, DriveError> {
        let staged = self.file_path(src_vol, src_path)?;
        self.add_version(vol, dir, version, Some(staged)).await
    }

    async fn write_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<Option<ObjectVersion>, DriveError> {
        self.add_version(vol, dir, version, None).await
    }

    async fn update_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<(), DriveError> {
        self.replace_version_meta(vol, dir, version).await
    }

    async fn delete_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: &str,
    ) -> Result<ObjectVersion, DriveError> {
        self.remove_version(vol, dir, version_id).await
    }

    async fn free_data_dir(&self, vol: &str, dir: &str, data_dir: &str) -> Result<(), DriveError> {
        self.free_unnamed_data_dir(vol, dir, data_dir).await
    }

    async fn check_parts(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
    ) -> Result<Vec<PartState>, DriveError> {
        self.part_states(vol, dir, version, false).await
    }

    async fn verify_parts(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
    ) -> Result<Vec<PartState>, DriveError> {
        self.part_states(vol, dir, version, true).await
    }

    async fn walk_versions(
        &self,
        vol: &str,
        request: &WalkRequest,
    ) -> Result<Vec<WalkEntry>, DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        walk::walk(vol_dir, request).await
    }
}

/// An open shard file: aligned O_DIRECT reads, the requested bytes copied out.
struct DirectReader {
    file: DmaFile,
    path: PathBuf,
}

#[async_trait::async_trait(?Send)]
impl FileReader for DirectReader {
    async fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, DriveError> {
        let overflow = || {
            DriveError::invalid(
                "read_at",
                &self.path.display().to_string(),
                "offset + len overflows",
            )
        };
        let end = offset.checked_add(len as u64).ok_or_else(overflow)?;
        let align = DIRECT_ALIGN as u64;
        let aligned_end = end.checked_next_multiple_of(align).ok_or_else(overflow)?;
        let mut pos = offset - offset % align;
        let mut out = Vec::with_capacity(len);
        while pos < aligned_end {
            let chunk_len = (aligned_end - pos).min(READ_CHUNK_BYTES as u64) as usize;
            let chunk = self
                .file
                .read_at_aligned(pos, chunk_len)
                .await
                .map_err(|e| io_error("read_at", self.path.clone(), from_glommio(e)))?;
            // Keep the part of this chunk that lies inside [offset, end).
            let from = offset.saturating_sub(pos).min(chunk.len() as u64) as usize;
            let to = (end - pos).min(chunk.len() as u64) as usize;
            out.extend_from_slice(&chunk[from..to]);
            if chunk.len() < chunk_len {
                break; // end of file
            }
            pos += chunk_len as u64;
        }
        if out.len() != len {
            return Err(DriveError::Corrupt {
                path: self.path.display().to_string(),
                reason: format!(
                    "short read: {} of {len} bytes at offset {offset}",
                    out.len()
                ),
            });
        }
        Ok(out)
    }
}

/// Remove a tree from SYS_VOL/trash. Failure is logged, not returned: the data is already
/// unreachable, and the next open empties the trash.
async fn remove_trash(trash: PathBuf) {
    let result = run_blocking({
        let trash = trash.clone();
        move || fs::remove_dir_all(trash)
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(path = %trash.display(), error = %e, "could not empty trash entry");
    }
}

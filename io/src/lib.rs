//! minnow-io: one drive = one directory, and the on-disk formats that live in it.
//!
//! This crate owns everything minnow puts on a disk:
//! * the drive contract, [`Drive`] and [`FileWriter`] (drive.rs): the seam the object layer
//!   programs against, so that a remote drive and a fault-injecting drive fit beside
//!   [`LocalDrive`];
//! * [`LocalDrive`] (local/): a directory on this node, on glommio (io_uring): O_DIRECT shard
//!   files through a per-core pool of aligned buffers, atomic small-file replacement, the
//!   commit protocol and the version calls (`rename_data`, `write_version`, ...), ordered key
//!   listing (`walk_versions`);
//! * [`format`]: `format.json`, the identity of a drive (JSON, for operators);
//! * [`drive_lock`]: what a drive directory is (device, inode) and one process per drive
//!   (an exclusive `flock` held for the life of the process);
//! * [`xl_meta`]: `xl.meta`, the per-object version list (format 2: a metadata section of
//!   per-version rkyv records and an inline-data section, each checksummed);
//! * [`testing`]: a fault-injecting drive for the tests of the layers above.
//!
//! It never imports `minnow-net` (no HTTP or S3 types reach storage) nor the object layer;
//! of erasure coding it uses only `minnow-codec`'s layout and bitrot functions, to check and
//! verify a version's part files where they lie (`check_parts`, `verify_parts`).
//!
//! Invariants, enforced here for every implementation's callers:
//! * paths are relative, '/'-separated, and checked before any syscall ([`check_path`]);
//! * `write_all` and `rename_data` are atomic and durable: a crash leaves the old or the new
//!   `xl.meta`, never a torn one; `xl.meta` and `format.json` that fail their checks are
//!   reported as [`DriveError::Corrupt`], never trusted, never a panic;
//! * drive futures are `!Send`: a drive is opened on, and used from, the executor (core) that
//!   owns it. `LocalDrive::open` must be the first O_DIRECT user of its device on that
//!   executor (it runs glommio's poll-ring probe, GLOMMIO.md pitfall #1).
//!
//! ```no_run
//! use minnow_io::{Drive, LocalDrive};
//!
//! let ex = glommio::LocalExecutorBuilder::default().io_memory(1 << 20).make().unwrap();
//! ex.run(async {
//!     let drive = LocalDrive::open("/mnt/disk1".into()).await?;
//!     drive.make_vol("photos").await?;
//!     let mut w = drive.create_file(minnow_io::SYS_VOL, "tmp/u1/dd/part.1", 5).await?;
//!     w.write(b"hello").await?;
//!     assert_eq!(w.finish().await?, 5);
//!     let version = minnow_io::xl_meta::ObjectVersion {
//!         size: 5,
//!         data_dir: Some("dd".to_string()),
//!         ..Default::default()
//!     };
//!     drive
//!         .rename_data(minnow_io::SYS_VOL, "tmp/u1/dd", "photos", "cat.jpg", version)
//!         .await?;
//!     let file = drive.open_file("photos", "cat.jpg/dd/part.1").await?;
//!     assert_eq!(file.read_at(1, 3).await?, b"ell");
//!     let request = minnow_io::WalkRequest { limit: 1000, ..Default::default() };
//!     let keys = drive.walk_versions("photos", &request).await?;
//!     assert_eq!(keys[0].name(), "cat.jpg");
//!     Ok::<(), minnow_io::DriveError>(())
//! })
//! .unwrap();
//! ```

#![warn(missing_docs)]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod drive;
pub mod drive_lock;
pub mod format;
mod local;
pub mod testing;
pub mod xl_meta;

#[cfg(test)]
mod test_util;

pub use drive::{
    check_path, check_vol, key_from_dir, object_dir, DiskInfo, Drive, DriveError, FileReader,
    FileWriter, PartState, VolInfo, WalkEntry, WalkRequest, DIR_OBJECT_MARKER, SYS_BUCKETS_DIR,
    SYS_MULTIPART_DIR, SYS_TMP_DIR, SYS_TRASH_DIR, SYS_VOL,
};
pub use local::{writer_memory_bytes, LocalDrive};

//! Drive identity and ownership at start-up: what a drive directory *is*, and one process per
//! drive.
//!
//! * **Identity.** Two paths can name one directory (a symlink, `d1/.`, a bind mount). Given
//!   twice, one drive would hold two slots of a set: every write of one slot overwrites the
//!   other's shards, and reads return wrong bytes. [`DriveDir::identity`] is the device and
//!   inode of the directory itself (symlinks followed), which two aliases share.
//! * **Ownership.** Two processes on one drive would each empty `SYS_VOL/tmp` at open, under
//!   the other's uploads, and race on every commit. [`DriveDir::lock`] takes an exclusive
//!   `flock` on the directory and [`DriveLock`] holds it until dropped (or the process ends,
//!   even by SIGKILL). The lock is on the directory itself, so nothing is written to a drive
//!   before it is ours, and an unformatted drive is left untouched. `flock` locks belong to the
//!   open file description: other opens and closes of the directory in this process do not
//!   release it, and a second open in this process conflicts like another process would.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// An open drive directory, not locked yet.
pub struct DriveDir {
    file: File,
    identity: (u64, u64),
}

/// Why [`DriveDir::lock`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another open of the directory holds the lock: another process, or this one.
    #[error("in use by another minnow process{}", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Held {
        /// The holder, when `/proc/locks` names it.
        pid: Option<u32>,
    },
    /// `flock` itself failed.
    #[error("cannot lock: {0}")]
    Io(io::Error),
}

/// The exclusive lock on a drive directory; released when dropped.
#[derive(Debug)]
pub struct DriveLock {
    _held: Flock<File>,
}

impl DriveDir {
    /// Open the directory `root` (following symlinks) and read its identity.
    pub fn open(root: &Path) -> io::Result<DriveDir> {
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(root)?;
        let meta = file.metadata()?;
        Ok(DriveDir {
            file,
            identity: (meta.dev(), meta.ino()),
        })
    }

    /// (device, inode) of the directory: equal for two paths that name the same directory.
    pub fn identity(&self) -> (u64, u64) {
        self.identity
    }

    /// Take the exclusive lock without waiting.
    pub fn lock(self) -> Result<DriveLock, LockError> {
        let (dev, ino) = self.identity;
        match Flock::lock(self.file, FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(DriveLock { _held: held }),
            Err((_, Errno::EWOULDBLOCK)) => Err(LockError::Held {
                pid: lock_holder(dev, ino),
            }),
            Err((_, errno)) => Err(LockError::Io(errno.into())),
        }
    }
}

/// The pid holding a `flock` on inode `ino` of device `dev`, from `/proc/locks`, whose lines
/// read `1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF` (major and minor in
/// hex; lines of waiters hold a `->`).
fn lock_holder(dev: u64, ino: u64) -> Option<u32> {
    let want = format!(
        "{:02x}:{:02x}:{ino}",
        nix::sys::stat::major(dev),
        nix::sys::stat::minor(dev)
    );
    let table = fs::read_to_string("/proc/locks").ok()?;
    table.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "FLOCK", _, _, pid, file, ..] if *file == want => pid.parse().ok(),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;

    #[test]
    fn aliases_share_an_identity() {
        let dir = TempDir::new("identity");
        let d1 = dir.path().join("d1");
        let d2 = dir.path().join("d2");
        fs::create_dir(&d1).unwrap();
        fs::create_dir(&d2).unwrap();
        std::os::unix::fs::symlink(&d1, dir.path().join("link")).unwrap();
        let id = |p: &Path| DriveDir::open(p).unwrap().identity();
        assert_eq!(id(&d1), id(&dir.path().join("link")));
        assert_eq!(id(&d1), id(&d1.join(".")));
        assert_ne!(id(&d1), id(&d2));
        assert!(DriveDir::open(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn second_lock_is_refused_and_names_the_holder() {
        let dir = TempDir::new("lock");
        let held = DriveDir::open(dir.path()).unwrap().lock().unwrap();
        match DriveDir::open(dir.path()).unwrap().lock() {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        // Through an alias too: the lock is on the directory, not the path.
        let alias = dir.path().join(".");
        assert!(matches!(
            DriveDir::open(&alias).unwrap().lock(),
            Err(LockError::Held { .. })
        ));
        drop(held);
        DriveDir::open(dir.path()).unwrap().lock().unwrap();
    }
}

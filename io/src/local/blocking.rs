//! Blocking filesystem helpers, run on the executor's blocking thread pool
//! (`executor().spawn_blocking`), for what glommio 0.9 lacks: `mkdir -p`, readdir, path stat,
//! statvfs, recursive removal (GLOMMIO.md §5). Each helper does a whole step in one trip to the
//! pool (one round trip costs more than the syscalls it carries), and none of them syncs: what
//! they change is made durable by the drive's group commit (sync_group.rs).

use std::fs;
use std::io;
use std::path::Path;

use crate::DriveError;

use super::io_error;

/// The volume directory must exist (and be a directory) for anything below it to be created.
pub(crate) fn require_vol(vol_dir: &Path) -> Result<(), DriveError> {
    match fs::metadata(vol_dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(vol_missing(vol_dir)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(vol_missing(vol_dir)),
        Err(e) => Err(io_error("stat_vol", vol_dir.to_path_buf(), e)),
    }
}

/// The error for a volume directory that is not there: `VolumeNotFound` while the drive
/// itself is in place, `Offline` when the drive's own `SYS_VOL` is gone too (the directory
/// was removed, renamed or replaced under the server). The difference matters: a missing
/// bucket is an answer, a missing drive only lowers the quorum.
pub(crate) fn vol_missing(vol_dir: &Path) -> DriveError {
    let drive_present = vol_dir
        .parent()
        .is_some_and(|root| root.join(crate::SYS_VOL).is_dir());
    if drive_present {
        DriveError::VolumeNotFound
    } else {
        DriveError::Offline
    }
}

/// `mkdir -p vol_dir/rel` (rel: checked relative path, or "" for nothing). VolumeNotFound if
/// `vol_dir` is missing.
pub(crate) fn mkdir_all(vol_dir: &Path, rel: &str) -> Result<(), DriveError> {
    require_vol(vol_dir)?;
    if rel.is_empty() {
        return Ok(());
    }
    let full = vol_dir.join(rel);
    if fs::metadata(&full).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let mut dir = vol_dir.to_path_buf();
    for component in rel.split('/') {
        dir.push(component);
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("mkdir", dir, e)),
        }
    }
    Ok(())
}

/// Names in `dir` with a directory flag, unsorted. Entries whose name is not UTF-8 are skipped
/// (every name minnow writes is UTF-8). Symlinks count as files (never followed).
pub(crate) fn read_dir(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_dir = entry.file_type()?.is_dir();
        out.push((name, is_dir));
    }
    Ok(out)
}

/// Remove everything inside `dir` (not `dir` itself). Used on SYS_VOL/tmp and trash at open.
pub(crate) fn empty_dir(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Remove every directory below `dir` that holds no file, deepest first; stops at the first
/// file met. Returns whether `dir` is empty now (it is not removed itself). A crash or a
/// failed removal leaves such empty directories behind in a bucket; they must not keep it from
/// being deleted.
pub(crate) fn prune_empty_dirs(dir: &Path) -> io::Result<bool> {
    for (name, is_dir) in read_dir(dir)? {
        let child = dir.join(name);
        if !is_dir || !prune_empty_dirs(&child)? {
            return Ok(false);
        }
        fs::remove_dir(&child)?;
    }
    Ok(true)
}

/// Remove the empty directories `vol_dir/rel_dir`, then its parents, up to (not including)
/// `vol_dir`; stops at the first one that is not empty (or any error: best effort, racing
/// writers may fill a directory again).
pub(crate) fn remove_empty_parents(vol_dir: &Path, rel_dir: &str) {
    let mut rel = rel_dir;
    while !rel.is_empty() {
        if fs::remove_dir(vol_dir.join(rel)).is_err() {
            return;
        }
        rel = match rel.rfind('/') {
            Some(at) => &rel[..at],
            None => "",
        };
    }
}

/// Directory part of a checked relative path: "a/b/c" -> "a/b", "c" -> "".
pub(crate) fn parent_rel(path: &str) -> &str {
    match path.rfind('/') {
        Some(at) => &path[..at],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::TempDir;

    #[test]
    fn mkdir_and_cleanup() {
        let dir = TempDir::new("blocking");
        let vol = dir.path().join("vol");
        // Not a drive (no SYS_VOL): the drive is gone, not just the volume.
        assert!(matches!(mkdir_all(&vol, "a"), Err(DriveError::Offline)));
        fs::create_dir(dir.path().join(crate::SYS_VOL)).expect("mkdir sys");
        assert!(matches!(
            mkdir_all(&vol, "a"),
            Err(DriveError::VolumeNotFound)
        ));
        fs::create_dir(&vol).expect("mkdir");
        mkdir_all(&vol, "a/b/c").expect("mkdir -p");
        assert!(vol.join("a/b/c").is_dir());
        mkdir_all(&vol, "a/b/c").expect("again");
        mkdir_all(&vol, "a/x").expect("one");
        assert!(vol.join("a/x").is_dir());
        fs::write(vol.join("a/f"), b"x").expect("write");
        assert!(mkdir_all(&vol, "a/f/g").is_err());

        remove_empty_parents(&vol, "a/b/c");
        assert!(!vol.join("a/b").exists());
        assert!(vol.join("a/x").exists());
        fs::remove_file(vol.join("a/f")).expect("rm");
        remove_empty_parents(&vol, "a/x");
        assert!(vol.exists() && !vol.join("a").exists());

        assert_eq!(parent_rel("a/b/c"), "a/b");

        // Empty subtrees go, a file stops the pruning and keeps its ancestors.
        fs::create_dir_all(vol.join("e/f/g")).expect("mkdir");
        fs::create_dir_all(vol.join("e/h")).expect("mkdir");
        assert!(prune_empty_dirs(&vol).expect("prune"));
        assert!(vol.exists() && fs::read_dir(&vol).expect("ls").next().is_none());
        fs::create_dir_all(vol.join("x/y")).expect("mkdir");
        fs::write(vol.join("x/y/f"), b"x").expect("write");
        assert!(!prune_empty_dirs(&vol).expect("prune"));
        assert!(vol.join("x/y/f").is_file());
        assert_eq!(parent_rel("c"), "");
    }
}

//! `walk`: object keys of a volume in byte order of the key, from a depth-first directory walk.
//!
//! An object `k` is the directory `<vol>/k` holding an `xl.meta` file. Keys nest ("a" and
//! "a/b" can both exist), so a directory `D` inside directory `p/` stands for two things that
//! sort apart: the key `p/D` itself, and the subtree of keys starting with `p/D/`. Between
//! them sort the siblings whose names continue with a byte below '/' ("a!", "a-b"):
//!
//! ```text
//! keys: a  a!  a-b  a/b  ab  b/c/d      walk units of the root, sorted:
//!                                       "a" (key)  "a!" (key)  "a!/" (subtree)
//!                                       "a-b" (key) "a-b/" (subtree) "a/" (subtree: a/b) ...
//! ```
//!
//! So each directory listing becomes a sorted list of units, `Key("p/D")` (only when `D` holds
//! xl.meta) and `Subtree("p/D/")`, and the walk pops them in order with an explicit stack
//! (no async recursion).
//!
//! Cost control: one trip to the blocking pool per directory listed. Inside that trip each
//! child `D` is looked at two levels down, so that `Subtree("p/D/")` is only produced when a
//! key can exist below `D` (some child of `D` holds xl.meta or a directory). An ordinary object
//! directory (xl.meta + data directories holding only part files) therefore costs no trip of its
//! own. Subtrees that cannot hold a key matching `prefix` or above `start_after` are never read;
//! the walk starts at the deepest directory named by the prefix. The xl.meta files of
//! consecutive keys are read concurrently through io_uring. Names that are not UTF-8 are
//! skipped (minnow never writes them).

use std::fs;
use std::path::{Path, PathBuf};

use super::{blocking, io_error, is_missing, read_small, run_blocking};
use crate::drive::check_path;
use crate::xl_meta::FILE_NAME;
use crate::DriveError;

/// One step of the walk; the string is the sort key (subtrees end with '/').
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Key(String),
    Subtree(String),
}

impl Unit {
    fn sort_key(&self) -> &str {
        match self {
            Unit::Key(s) | Unit::Subtree(s) => s,
        }
    }
}

/// Can a key starting with `dir` (which ends with '/') start with `prefix` and be > `start_after`?
fn subtree_may_match(dir: &str, prefix: &str, start_after: &str) -> bool {
    let prefix_ok = dir.starts_with(prefix) || prefix.starts_with(dir);
    // Every key under `dir` is <= start_after iff start_after is above `dir` and outside it.
    let above_start = start_after <= dir || start_after.starts_with(dir);
    prefix_ok && above_start
}

fn key_matches(key: &str, prefix: &str, start_after: &str) -> bool {
    key.starts_with(prefix) && key > start_after
}

/// The units of directory `vol_dir/dir` (`dir` is "" or ends with '/'), sorted descending so
/// that `pop` yields them in order. A directory that is gone yields nothing.
async fn units_of(
    vol_dir: &Path,
    dir: &str,
    prefix: &str,
    start_after: &str,
) -> Result<Vec<Unit>, DriveError> {
    let (vol_dir, dir, prefix, start_after) = (
        vol_dir.to_path_buf(),
        dir.to_string(),
        prefix.to_string(),
        start_after.to_string(),
    );
    run_blocking(move || {
        let full = vol_dir.join(&dir);
        let entries = match blocking::read_dir(&full) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok(Vec::new()),
            Err(e) => return Err(io_error("walk", full, e)),
        };
        let mut units = Vec::new();
        for (name, is_dir) in entries {
            if !is_dir {
                continue;
            }
            let child = full.join(&name);
            let key = format!("{dir}{name}");
            if key_matches(&key, &prefix, &start_after)
                && fs::symlink_metadata(child.join(FILE_NAME)).is_ok_and(|m| m.is_file())
            {
                units.push(Unit::Key(key.clone()));
            }
            let subtree = key + "/";
            if subtree_may_match(&subtree, &prefix, &start_after) && may_hold_keys(&child) {
                units.push(Unit::Subtree(subtree));
            }
        }
        units.sort_unstable_by(|a, b| b.sort_key().cmp(a.sort_key()));
        Ok(units)
    })
    .await
}

/// Can a key exist strictly below `dir`? Only if some subdirectory of `dir` holds xl.meta or
/// a directory of its own (a data directory holds part files only). Errors say "maybe": the
/// walk then lists the subtree and reports (or skips) what it finds.
fn may_hold_keys(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return true;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return true;
        };
        if entry.file_type().map_or(true, |t| t.is_dir()) && has_key_content(&entry.path()) {
            return true;
        }
    }
    false
}

/// Does `dir` hold xl.meta or any directory?
fn has_key_content(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return true;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return true;
        };
        if entry.file_name() == FILE_NAME || entry.file_type().map_or(true, |t| t.is_dir()) {
            return true;
        }
    }
    false
}

/// Most xl.meta reads in flight at once.
const META_READS_IN_FLIGHT: usize = 16;

/// Read the xl.meta of `keys` concurrently; keys deleted meanwhile are left out.
async fn read_metas(
    vol_dir: &Path,
    keys: Vec<String>,
) -> Result<Vec<(String, Vec<u8>)>, DriveError> {
    let reads: Vec<_> = keys
        .into_iter()
        .map(|key| {
            let path = vol_dir.join(&key).join(FILE_NAME);
            let task = glommio::spawn_local(async move {
                let read = read_small(&path).await;
                (path, read)
            });
            (key, task)
        })
        .collect();
    let mut out = Vec::with_capacity(reads.len());
    let mut failed = None;
    for (key, task) in reads {
        let (path, read) = task.await;
        match read {
            Ok(bytes) => out.push((key, bytes)),
            Err(e) if is_missing(&e) => {} // deleted meanwhile
            Err(e) => {
                failed.get_or_insert(io_error("walk", path, e));
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

pub(super) async fn walk(
    vol_dir: PathBuf,
    prefix: &str,
    start_after: &str,
    limit: usize,
) -> Result<Vec<(String, Vec<u8>)>, DriveError> {
    let check_dir = vol_dir.clone();
    run_blocking(move || blocking::require_vol(&check_dir)).await?;
    // Start at the deepest directory the prefix names: "a/b/c" -> "a/b/".
    let base = match prefix.rfind('/') {
        Some(at) => &prefix[..=at],
        None => "",
    };
    if limit == 0 || (!base.is_empty() && check_path(&base[..base.len() - 1]).is_err()) {
        return Ok(Vec::new()); // no stored key can match such a prefix
    }
    let mut out = Vec::new();
    let mut stack = vec![units_of(&vol_dir, base, prefix, start_after).await?];
    while let Some(frame) = stack.last_mut() {
        let Some(unit) = frame.pop() else {
            stack.pop();
            continue;
        };
        match unit {
            Unit::Key(key) => {
                // This key and the keys right after it in the same directory, read together.
                let mut keys = vec![key];
                let batch = (limit - out.len()).min(META_READS_IN_FLIGHT);
                while keys.len() < batch {
                    match frame.pop() {
                        Some(Unit::Key(next)) => keys.push(next),
                        Some(subtree) => {
                            frame.push(subtree);
                            break;
                        }
                        None => break,
                    }
                }
                out.extend(read_metas(&vol_dir, keys).await?);
                if out.len() >= limit {
                    out.truncate(limit);
                    break;
                }
            }
            Unit::Subtree(dir) => {
                let units = units_of(&vol_dir, &dir, prefix, start_after).await?;
                stack.push(units);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_pruning() {
        assert!(subtree_may_match("a/", "", ""));
        assert!(subtree_may_match("a/", "a", ""));
        assert!(subtree_may_match("a/", "a/b", ""));
        assert!(!subtree_may_match("a/", "b", ""));
        assert!(!subtree_may_match("a/", "a-", ""));
        assert!(subtree_may_match("a/", "", "a"));
        assert!(subtree_may_match("a/", "", "a/"));
        assert!(subtree_may_match("a/", "", "a/zzz"));
        assert!(!subtree_may_match("a/", "", "a0"));
        assert!(!subtree_may_match("a/", "", "b"));
        assert!(subtree_may_match("b/", "", "a/zzz"));
    }
}

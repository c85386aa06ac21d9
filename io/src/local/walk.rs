//! `walk_versions`: keys of a volume in byte order of the key, from a depth-first directory
//! walk that examines directories lazily, in sorted order, and stops at the limit.
//!
//! An object `k` is the directory `<vol>/k` holding an `xl.meta` file (a folder object `k/`
//! is `<vol>/k/__XLDIR__`). Keys nest ("a" and "a/b" can both exist), so a directory `D`
//! inside directory `p/` stands for two things that sort apart: the key `p/D` itself, and the
//! subtree of keys starting with `p/D/`. Between them sort the siblings whose names continue
//! with a byte below '/' ("a!", "a-b"):
//!
//! ```text
//! keys: a  a!  a-b  a/  a/b  ab         units of the root, sorted:
//!                                       "a" (key)  "a!" (key)  "a!/" (subtree)
//!                                       "a-b" (key) "a-b/" (subtree) "a/" (subtree: a/, a/b) ...
//! ```
//!
//! A folder object `p/D/` (the child `__XLDIR__` of `p/D`) is the first key of the subtree
//! `p/D/`: it is the unit `Key("p/D/")` of that subtree's frame.
//!
//! Cost: listing a directory is one trip to the blocking pool (names and types, no stat).
//! Its units are then *examined* lazily, in sorted order, a batch of children per trip (one
//! `readdir` each: does it hold `xl.meta`, which subdirectories does it have), and only as far
//! as the page needs; the `xl.meta` metadata sections of the batch's keys are read
//! concurrently through io_uring (a first read of [`FIRST_READ_BYTES`], a second only for a
//! longer metadata section; never the inline data). A subtree is descended only when its
//! directory has a subdirectory that is not one of the key's data directories (named in the
//! `xl.meta` just read), so an ordinary object costs no trip of its own. With the delimiter
//! "/", a subtree at the prefix's level is not descended: it is returned as a prefix when a
//! depth-first search of it (in the examining trip) finds an `xl.meta`. Subtrees that cannot
//! hold a key matching the prefix or above `after` are never read; the walk starts at the
//! deepest directory named by the prefix. Names that are not UTF-8 are skipped (minnow never
//! writes them).
//!
//! [`FIRST_READ_BYTES`]: crate::xl_meta::FIRST_READ_BYTES

use std::fs;
use std::path::{Path, PathBuf};

use super::versions::read_metadata_prefix;
use super::{blocking, io_error, is_missing, run_blocking};
use crate::drive::{check_path, WalkEntry, WalkRequest, DIR_OBJECT_MARKER};
use crate::xl_meta::{self, FILE_NAME};
use crate::DriveError;

/// Children examined per trip to the blocking pool, at most.
const EXAMINE_BATCH: usize = 256;
/// Most xl.meta reads in flight at once.
const META_READS_IN_FLIGHT: usize = 64;

/// One step of the walk in a directory: the key of a child, or the subtree below it.
#[derive(Debug)]
struct Unit {
    /// What the unit sorts by: the key, or the subtree's prefix (ending with '/').
    name: String,
    /// Index of the child directory in its frame.
    child: usize,
    subtree: bool,
}

/// What a trip found in a child directory.
#[derive(Debug, Default)]
struct Examined {
    has_meta: bool,
    subdirs: Vec<String>,
    /// Delimiter mode at the prefix level: does the subtree hold a key?
    holds_key: bool,
    /// Data directories named by the child's xl.meta, once read.
    data_dirs: Vec<String>,
    /// The xl.meta read: None until read.
    meta: Option<Result<Vec<u8>, DriveError>>,
}

/// One directory being walked.
struct Frame {
    /// "" or ends with '/'.
    dir: String,
    children: Vec<String>,
    examined: Vec<Option<Examined>>,
    units: Vec<Unit>,
    next: usize,
}

struct Filter<'a> {
    prefix: &'a str,
    after: &'a str,
    /// The directory whose subtrees are prefixes (delimiter "/"), if any.
    rollup_dir: Option<&'a str>,
}

impl Filter<'_> {
    fn key(&self, key: &str) -> bool {
        key.starts_with(self.prefix) && key > self.after
    }

    /// Can a unit for the subtree `dir` (ending with '/') yield anything?
    fn subtree(&self, frame_dir: &str, dir: &str) -> bool {
        if self.rollup_dir == Some(frame_dir) {
            // A prefix is returned once, itself above `after`.
            return dir.starts_with(self.prefix) && dir > self.after;
        }
        subtree_may_match(dir, self.prefix, self.after)
    }
}

/// Can a key starting with `dir` (which ends with '/') start with `prefix` and be > `after`?
fn subtree_may_match(dir: &str, prefix: &str, after: &str) -> bool {
    let prefix_ok = dir.starts_with(prefix) || prefix.starts_with(dir);
    // Every key under `dir` is <= after iff after is above `dir` and outside it.
    let above_start = after < dir || after.starts_with(dir);
    prefix_ok && above_start
}

impl Frame {
    /// The frame of directory `dir` with these child directories (any order).
    fn new(dir: String, mut children: Vec<String>, filter: &Filter<'_>) -> Frame {
        children.sort_unstable();
        let mut units = Vec::new();
        for (child, name) in children.iter().enumerate() {
            if name == DIR_OBJECT_MARKER && !dir.is_empty() {
                // The folder object `dir` itself: the first key of its subtree.
                if filter.key(&dir) {
                    units.push(Unit {
                        name: dir.clone(),
                        child,
                        subtree: false,
                    });
                }
                continue;
            }
            let key = format!("{dir}{name}");
            let subtree = format!("{key}/");
            if filter.subtree(&dir, &subtree) {
                units.push(Unit {
                    name: subtree,
                    child,
                    subtree: true,
                });
            }
            if filter.key(&key) {
                units.push(Unit {
                    name: key,
                    child,
                    subtree: false,
                });
            }
        }
        units.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let examined = children.iter().map(|_| None).collect();
        Frame {
            dir,
            children,
            examined,
            units,
            next: 0,
        }
    }

    fn child_path(&self, vol_dir: &Path, child: usize) -> PathBuf {
        vol_dir.join(&self.dir).join(&self.children[child])
    }
}

/// Does the tree below `dir` hold an xl.meta? Errors say "maybe" (yes): the caller then
/// shows a prefix that may turn out empty rather than hide keys.
fn holds_key(dir: &Path) -> bool {
    let Ok(entries) = blocking::read_dir(dir) else {
        return true;
    };
    entries.into_iter().any(|(name, is_dir)| {
        is_dir && {
            let child = dir.join(name);
            fs::symlink_metadata(child.join(FILE_NAME)).is_ok_and(|m| m.is_file())
                || holds_key(&child)
        }
    })
}

/// Examine children (paths) in one trip: xl.meta present, subdirectories, and with
/// `rollup` whether their subtree holds a key.
async fn examine(paths: Vec<PathBuf>, rollup: Vec<bool>) -> Result<Vec<Examined>, DriveError> {
    run_blocking(move || {
        let mut out = Vec::with_capacity(paths.len());
        for (path, rollup) in paths.iter().zip(rollup) {
            let entries = match blocking::read_dir(path) {
                Ok(entries) => entries,
                Err(e) if is_missing(&e) => Vec::new(), // deleted meanwhile
                Err(e) => return Err(io_error("walk", path.clone(), e)),
            };
            let mut examined = Examined::default();
            for (name, is_dir) in entries {
                if is_dir {
                    examined.subdirs.push(name);
                } else if name == FILE_NAME {
                    examined.has_meta = true;
                }
            }
            if rollup {
                examined.holds_key = examined.subdirs.iter().any(|sub| {
                    let sub = path.join(sub);
                    fs::symlink_metadata(sub.join(FILE_NAME)).is_ok_and(|m| m.is_file())
                        || holds_key(&sub)
                });
            }
            out.push(examined);
        }
        Ok(out)
    })
    .await
}

/// List the directory `vol_dir/dir` (names of its subdirectories); a directory that is gone
/// holds nothing.
async fn list(vol_dir: &Path, dir: &str, require_vol: bool) -> Result<Vec<String>, DriveError> {
    let vol_dir = vol_dir.to_path_buf();
    let dir = dir.to_string();
    run_blocking(move || {
        if require_vol {
            blocking::require_vol(&vol_dir)?;
        }
        let full = vol_dir.join(&dir);
        match blocking::read_dir(&full) {
            Ok(entries) => Ok(entries
                .into_iter()
                .filter_map(|(name, is_dir)| is_dir.then_some(name))
                .collect()),
            Err(e) if is_missing(&e) => Ok(Vec::new()),
            Err(e) => Err(io_error("walk", full, e)),
        }
    })
    .await
}

pub(super) async fn walk(
    vol_dir: PathBuf,
    request: &WalkRequest,
) -> Result<Vec<WalkEntry>, DriveError> {
    let prefix = request.prefix.as_str();
    // Start at the deepest directory the prefix names: "a/b/c" -> "a/b/".
    let base = match prefix.rfind('/') {
        Some(at) => &prefix[..=at],
        None => "",
    };
    if request.limit == 0 || (!base.is_empty() && check_path(&base[..base.len() - 1]).is_err()) {
        // No stored key can match such a prefix; the volume must still be there.
        run_blocking({
            let vol_dir = vol_dir.clone();
            move || blocking::require_vol(&vol_dir)
        })
        .await?;
        return Ok(Vec::new());
    }
    let filter = Filter {
        prefix,
        after: &request.after,
        rollup_dir: (request.delimiter.as_deref() == Some("/")).then_some(base),
    };
    let limit = request.limit;
    let mut out = Vec::new();
    let root_children = list(&vol_dir, base, true).await?;
    let mut stack = vec![Frame::new(base.to_string(), root_children, &filter)];
    while let Some(frame) = stack.last_mut() {
        if frame.next >= frame.units.len() {
            stack.pop();
            continue;
        }
        prepare(&vol_dir, frame, &filter, limit - out.len()).await?;
        // Take the units in order; stop when a subtree is descended into (a new frame).
        let mut descend = None;
        while frame.next < frame.units.len() {
            let unit = &frame.units[frame.next];
            let Some(examined) = frame.examined[unit.child].as_mut() else {
                break; // beyond what was prepared
            };
            if !unit.subtree {
                if examined.has_meta && examined.meta.is_none() {
                    break; // its read was not started: prepare again
                }
                frame.next += 1;
                let key = unit.name.clone();
                if let Some(entry) = object_entry(key, examined, request.all_versions)? {
                    out.push(entry);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
                continue;
            }
            frame.next += 1;
            if filter.rollup_dir == Some(frame.dir.as_str()) {
                if examined.holds_key {
                    out.push(WalkEntry::Prefix(unit.name.clone()));
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
                continue;
            }
            let subdirs: Vec<String> = examined
                .subdirs
                .iter()
                .filter(|s| !examined.data_dirs.contains(s))
                .cloned()
                .collect();
            if !subdirs.is_empty() {
                descend = Some(Frame::new(unit.name.clone(), subdirs, &filter));
                break;
            }
        }
        if let Some(next) = descend {
            stack.push(next);
        }
    }
    Ok(out)
}

/// Make the units from `frame.next` on ready: examine the next children (one trip), and start
/// and finish the xl.meta reads of the next keys (concurrently), at most `wanted` of them.
async fn prepare(
    vol_dir: &Path,
    frame: &mut Frame,
    filter: &Filter<'_>,
    wanted: usize,
) -> Result<(), DriveError> {
    let rollup_here = filter.rollup_dir == Some(frame.dir.as_str());
    // Children to examine: those of the next units, in unit order, not yet examined.
    let mut to_examine: Vec<usize> = Vec::new();
    let mut keys_ahead = 0;
    for unit in &frame.units[frame.next..] {
        if to_examine.len() >= EXAMINE_BATCH || keys_ahead >= wanted {
            break;
        }
        if frame.examined[unit.child].is_none() && !to_examine.contains(&unit.child) {
            to_examine.push(unit.child);
        }
        keys_ahead += 1;
    }
    if !to_examine.is_empty() {
        let paths = to_examine
            .iter()
            .map(|&child| frame.child_path(vol_dir, child))
            .collect();
        let rollup = to_examine
            .iter()
            .map(|&child| rollup_here && frame.children[child] != DIR_OBJECT_MARKER)
            .collect();
        let found = examine(paths, rollup).await?;
        for (child, examined) in to_examine.into_iter().zip(found) {
            frame.examined[child] = Some(examined);
        }
    }
    // Reads: the keys of the next units that hold xl.meta and were not read yet.
    let mut reads: Vec<usize> = Vec::new();
    for unit in &frame.units[frame.next..] {
        if reads.len() >= META_READS_IN_FLIGHT.min(wanted) {
            break;
        }
        let Some(examined) = &frame.examined[unit.child] else {
            break;
        };
        if !unit.subtree && examined.has_meta && examined.meta.is_none() {
            reads.push(unit.child);
        }
    }
    let results = futures::future::join_all(reads.iter().map(|&child| {
        let path = frame.child_path(vol_dir, child).join(FILE_NAME);
        async move {
            match read_metadata_prefix(&path).await {
                Ok(bytes) => Ok(bytes),
                Err(e) if is_missing(&e) => Err(DriveError::FileNotFound),
                Err(e) => Err(io_error("walk", path, e)),
            }
        }
    }))
    .await;
    for (child, result) in reads.into_iter().zip(results) {
        let examined = frame.examined[child]
            .as_mut()
            .expect("read only for examined children");
        if let Ok(bytes) = &result {
            examined.data_dirs = xl_meta::data_dirs(bytes).unwrap_or_default();
        }
        examined.meta = Some(result);
    }
    Ok(())
}

/// The walk entry of a key whose xl.meta was read; None when it is gone, empty or corrupt.
fn object_entry(
    key: String,
    examined: &mut Examined,
    all_versions: bool,
) -> Result<Option<WalkEntry>, DriveError> {
    let bytes = match examined.meta.take() {
        None => return Ok(None), // no xl.meta: not a key
        Some(Ok(bytes)) => bytes,
        Some(Err(DriveError::FileNotFound)) => return Ok(None), // deleted meanwhile
        Some(Err(e)) => return Err(e),
    };
    match xl_meta::versions(&bytes, all_versions) {
        Ok(versions) if versions.is_empty() => Ok(None),
        Ok(versions) => Ok(Some(WalkEntry::Object { key, versions })),
        Err(e) => {
            tracing::warn!(key = %key, error = %e, "walk: skipping a key whose xl.meta is corrupt");
            Ok(None)
        }
    }
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

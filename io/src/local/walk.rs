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
//! as the page needs. The same trip reads each key's `xl.meta` metadata section when the
//! page cache holds it (`preadv2(RWF_NOWAIT)`, which never waits for the device); the others
//! are read concurrently through io_uring right after (a first read of [`FIRST_READ_BYTES`], a
//! second only for a longer metadata section; never the inline data). A directory listing is
//! reused by the next pages while the directory's mtime is unchanged (only for a directory
//! that had settled when listed, so a later change cannot keep the same coarse timestamp). A subtree is descended only when its
//! directory has a subdirectory that is not one of the key's data directories (named in the
//! `xl.meta` just read), so an ordinary object costs no trip of its own. With the delimiter
//! "/", a subtree at the prefix's level is not descended: it is returned as a prefix when a
//! depth-first search of it (in the examining trip) finds an `xl.meta`. Subtrees that cannot
//! hold a key matching the prefix or above `after` are never read; the walk starts at the
//! deepest directory named by the prefix. Names that are not UTF-8 are skipped (minnow never
//! writes them).
//!
//! [`FIRST_READ_BYTES`]: crate::xl_meta::FIRST_READ_BYTES

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use super::versions::read_metadata_prefix;
use super::{blocking, io_error, is_missing, run_blocking};
use crate::drive::{check_path, WalkEntry, WalkRequest, DIR_OBJECT_MARKER};
use crate::xl_meta::{self, FILE_NAME};
use crate::DriveError;

/// Children examined per trip to the blocking pool, at most.
const EXAMINE_BATCH: usize = 256;
/// Most xl.meta reads in flight at once.
const META_READS_IN_FLIGHT: usize = 128;
/// Listings kept for the next pages of a walk ([`cached_list`]).
const CACHED_LISTINGS: usize = 8;
/// A directory whose mtime is at least this old when listed may be cached: any later change
/// of it then gets a different mtime (timestamps are coarse, a few ms).
const SETTLED: Duration = Duration::from_secs(2);

/// A listed directory: its child directories, and its units (the key of a child, or the
/// subtree below it) sorted by their name relative to the directory: the child's name, with
/// a '/' for the subtree; the folder object of the directory itself (child
/// [`DIR_OBJECT_MARKER`]) is the name "" and sorts first.
#[derive(Debug, Default)]
struct Listing {
    children: Vec<String>,
    /// (child index, is the subtree).
    units: Vec<(u32, bool)>,
    /// A [`DIR_OBJECT_MARKER`] child is the directory's folder object (not in the volume root).
    has_folder_key: bool,
}

impl Listing {
    fn new(mut children: Vec<String>, in_root: bool) -> Listing {
        children.sort_unstable();
        let mut units = Vec::with_capacity(children.len() * 2);
        for (child, name) in children.iter().enumerate() {
            units.push((child as u32, false));
            if in_root || name != DIR_OBJECT_MARKER {
                units.push((child as u32, true));
            }
        }
        let mut listing = Listing {
            children,
            units: Vec::new(),
            has_folder_key: !in_root,
        };
        units.sort_unstable_by(|a, b| listing.cmp_units(*a, *b));
        listing.units = units;
        listing
    }

    /// The unit's relative name: (bytes, trailing '/').
    fn rel(&self, (child, subtree): (u32, bool)) -> (&[u8], bool) {
        let name = self.children[child as usize].as_str();
        if !subtree && self.has_folder_key && name == DIR_OBJECT_MARKER {
            return (b"", false);
        }
        (name.as_bytes(), subtree)
    }

    fn cmp_units(&self, a: (u32, bool), b: (u32, bool)) -> Ordering {
        let (a, a_slash) = self.rel(a);
        let (b, b_slash) = self.rel(b);
        a.iter()
            .chain(a_slash.then_some(&b'/'))
            .cmp(b.iter().chain(b_slash.then_some(&b'/')))
    }

    /// Order of the unit's relative name against `target`.
    fn cmp_to(&self, unit: (u32, bool), target: &[u8]) -> Ordering {
        let (name, slash) = self.rel(unit);
        name.iter().chain(slash.then_some(&b'/')).cmp(target.iter())
    }

    fn starts_with(&self, unit: (u32, bool), prefix: &[u8]) -> bool {
        let (name, slash) = self.rel(unit);
        if name.len() >= prefix.len() {
            return name.starts_with(prefix);
        }
        slash
            && prefix.len() == name.len() + 1
            && prefix.starts_with(name)
            && prefix.ends_with(b"/")
    }
}

thread_local! {
    /// Recent listings by directory path and mtime (this executor's walks only).
    static LISTINGS: RefCell<Vec<(PathBuf, SystemTime, Rc<Listing>)>> =
        const { RefCell::new(Vec::new()) };
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

/// One directory being walked: its units from `next` on (all of whose names are > `after`,
/// but the subtree that holds `after`), while they start with the prefix.
struct Frame {
    /// "" or ends with '/'.
    dir: String,
    listing: Rc<Listing>,
    /// By child index; only the children examined so far (a page of a large directory
    /// costs what it examines, not the directory's size).
    examined: HashMap<usize, Examined>,
    next: usize,
    /// The prefix the units' relative names must start with ("" for frames below the
    /// prefix's directory).
    rel_prefix: String,
    /// The delimiter rolls this frame's subtrees up into prefixes.
    rollup: bool,
}

impl Frame {
    fn new(dir: String, listing: Rc<Listing>, prefix: &str, after: &str, rollup: bool) -> Frame {
        let rel_prefix = prefix.strip_prefix(dir.as_str()).unwrap_or("").to_string();
        let next = match after.strip_prefix(dir.as_str()) {
            // `after` is inside this directory: the first unit above it, or the subtree
            // holding it (not for a rolled-up prefix: it was returned already).
            Some(rel) => {
                let rel = rel.as_bytes();
                let mut next = listing
                    .units
                    .partition_point(|&u| listing.cmp_to(u, rel) != Ordering::Greater);
                if next > 0 && !rollup {
                    let before = listing.units[next - 1];
                    let (name, slash) = listing.rel(before);
                    if slash
                        && rel.len() > name.len()
                        && rel.starts_with(name)
                        && rel[name.len()] == b'/'
                    {
                        next -= 1;
                    }
                }
                next
            }
            None if after < dir.as_str() => 0,
            None => listing.units.len(), // every key here is <= after
        };
        // Skip to the prefix.
        let p = rel_prefix.as_bytes();
        let from_prefix = listing
            .units
            .partition_point(|&u| listing.cmp_to(u, p) == Ordering::Less);
        let examined = HashMap::new();
        Frame {
            dir,
            next: next.max(from_prefix),
            listing,
            examined,
            rel_prefix,
            rollup,
        }
    }

    /// The unit at `at`, if it is still in the frame's range (starts with the prefix).
    fn unit(&self, at: usize) -> Option<(u32, bool)> {
        let unit = *self.listing.units.get(at)?;
        self.listing
            .starts_with(unit, self.rel_prefix.as_bytes())
            .then_some(unit)
    }

    /// The full name of a unit: the key, or the subtree's prefix (ending with '/').
    fn name(&self, unit: (u32, bool)) -> String {
        let (rel, slash) = self.listing.rel(unit);
        let mut name = String::with_capacity(self.dir.len() + rel.len() + 1);
        name.push_str(&self.dir);
        name.push_str(std::str::from_utf8(rel).unwrap_or_default());
        if slash {
            name.push('/');
        }
        name
    }

    fn child_path(&self, vol_dir: &Path, child: usize) -> PathBuf {
        vol_dir.join(&self.dir).join(&self.listing.children[child])
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
            if examined.has_meta {
                if let Some(bytes) = read_cached_metadata(&path.join(FILE_NAME)) {
                    examined.data_dirs = xl_meta::data_dirs(&bytes).unwrap_or_default();
                    examined.meta = Some(Ok(bytes));
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

/// The metadata section of an `xl.meta` when the page cache holds it: read with
/// `RWF_NOWAIT`, which never waits for the device. None when any of it is not cached (or
/// anything else goes wrong): the caller then reads it through io_uring, concurrently with
/// the reads of the next keys, and reports what that read finds.
pub(super) fn read_cached_metadata(path: &Path) -> Option<Vec<u8>> {
    let file = fs::File::open(path).ok()?;
    let mut out = vec![0u8; xl_meta::FIRST_READ_BYTES];
    let n = pread_nowait(&file, &mut out, 0).ok()?;
    out.truncate(n);
    let end = xl_meta::metadata_end(&out).ok()?;
    if end > out.len() {
        if n < xl_meta::FIRST_READ_BYTES {
            return None; // partly cached, or shorter than its header says
        }
        let mut rest = vec![0u8; end - n];
        let m = pread_nowait(&file, &mut rest, n as i64).ok()?;
        if m != rest.len() {
            return None;
        }
        out.extend_from_slice(&rest);
    }
    Some(out)
}

/// `preadv2(RWF_NOWAIT)`: EAGAIN instead of waiting for the device.
#[allow(unsafe_code)]
fn pread_nowait(file: &fs::File, buf: &mut [u8], offset: i64) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `iov` describes `buf`, which is valid for writes of its whole length and
    // outlives the call; the descriptor is open for as long as `file` is borrowed.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
    usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
}

/// What a listing trip found.
enum Listed {
    /// The directory's mtime is the cached one.
    Unchanged,
    Fresh {
        children: Vec<String>,
        /// Some when the directory had settled and the listing may be cached.
        mtime: Option<SystemTime>,
    },
}

/// The listing of `vol_dir/dir` (one trip: a stat, and a readdir unless the directory is
/// unchanged since a recent walk listed it); a directory that is gone holds nothing. With
/// `require_vol`, VolumeNotFound when the volume is gone.
async fn cached_list(
    vol_dir: &Path,
    dir: &str,
    require_vol: bool,
) -> Result<Rc<Listing>, DriveError> {
    let full = vol_dir.join(dir);
    let cached = LISTINGS.with_borrow(|cache| {
        cache
            .iter()
            .find(|(path, _, _)| *path == full)
            .map(|(_, mtime, listing)| (*mtime, listing.clone()))
    });
    let known = cached.as_ref().map(|(mtime, _)| *mtime);
    let (vol_dir, path) = (vol_dir.to_path_buf(), full.clone());
    let listed = run_blocking(move || {
        if require_vol {
            blocking::require_vol(&vol_dir)?;
        }
        let mtime = match fs::metadata(&path) {
            Ok(meta) => meta.modified().ok(),
            Err(e) if is_missing(&e) => {
                return Ok(Listed::Fresh {
                    children: Vec::new(),
                    mtime: None,
                })
            }
            Err(e) => return Err(io_error("walk", path, e)),
        };
        if mtime.is_some() && mtime == known {
            return Ok(Listed::Unchanged);
        }
        let children = match blocking::read_dir(&path) {
            Ok(entries) => entries
                .into_iter()
                .filter_map(|(name, is_dir)| is_dir.then_some(name))
                .collect(),
            Err(e) if is_missing(&e) => Vec::new(),
            Err(e) => return Err(io_error("walk", path, e)),
        };
        let settled = mtime.filter(|m| {
            SystemTime::now()
                .duration_since(*m)
                .is_ok_and(|age| age >= SETTLED)
        });
        Ok(Listed::Fresh {
            children,
            mtime: settled,
        })
    })
    .await?;
    match listed {
        Listed::Unchanged => Ok(cached.map(|(_, listing)| listing).unwrap_or_default()),
        Listed::Fresh { children, mtime } => {
            let listing = Rc::new(Listing::new(children, dir.is_empty()));
            LISTINGS.with_borrow_mut(|cache| {
                cache.retain(|(path, _, _)| *path != full);
                if let Some(mtime) = mtime {
                    if cache.len() >= CACHED_LISTINGS {
                        cache.remove(0);
                    }
                    cache.push((full, mtime, listing.clone()));
                }
            });
            Ok(listing)
        }
    }
}

pub(super) async fn walk(
    vol_dir: PathBuf,
    request: &WalkRequest,
) -> Result<Vec<WalkEntry>, DriveError> {
    let prefix = request.prefix.as_str();
    let after = request.after.as_str();
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
    let rollup = request.delimiter.as_deref() == Some("/");
    let limit = request.limit;
    let mut out = Vec::new();
    let listing = cached_list(&vol_dir, base, true).await?;
    let mut stack = vec![Frame::new(base.to_string(), listing, prefix, after, rollup)];
    while let Some(frame) = stack.last_mut() {
        if frame.unit(frame.next).is_none() {
            stack.pop();
            continue;
        }
        prepare(&vol_dir, frame, limit - out.len()).await?;
        // Take the units in order; stop when a subtree is descended into (a new frame).
        let mut descend = None;
        while let Some(unit) = frame.unit(frame.next) {
            let (child, subtree) = (unit.0 as usize, unit.1);
            let name = frame.name(unit);
            let Some(examined) = frame.examined.get_mut(&child) else {
                break; // beyond what was prepared
            };
            if !subtree {
                if examined.has_meta && examined.meta.is_none() {
                    break; // its read was not started: prepare again
                }
                frame.next += 1;
                if let Some(entry) = object_entry(name, examined, request.all_versions)? {
                    out.push(entry);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
                continue;
            }
            frame.next += 1;
            if frame.rollup {
                if examined.holds_key {
                    out.push(WalkEntry::Prefix(name));
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
                let listing = Rc::new(Listing::new(subdirs, false));
                descend = Some(Frame::new(name, listing, prefix, after, false));
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
async fn prepare(vol_dir: &Path, frame: &mut Frame, wanted: usize) -> Result<(), DriveError> {
    // Children to examine: those of the next units, in unit order, not yet examined.
    // Look ahead as many children as the page still wants (a child yields at most two
    // entries, its key and its subtree), examined ones included.
    let ahead = EXAMINE_BATCH.min(wanted);
    let mut to_examine: Vec<usize> = Vec::new();
    let mut seen = 0;
    let mut at = frame.next;
    while let Some((child, subtree)) = frame.unit(at) {
        at += 1;
        if subtree && frame.examined.contains_key(&(child as usize)) {
            continue; // its key unit came first and counted it
        }
        if seen >= ahead {
            break;
        }
        seen += 1;
        let child = child as usize;
        if !frame.examined.contains_key(&child) && to_examine.last() != Some(&child) {
            to_examine.push(child);
        }
    }
    to_examine.sort_unstable();
    to_examine.dedup();
    if !to_examine.is_empty() {
        let paths = to_examine
            .iter()
            .map(|&child| frame.child_path(vol_dir, child))
            .collect();
        let rollup = to_examine
            .iter()
            .map(|&child| frame.rollup && frame.listing.children[child] != DIR_OBJECT_MARKER)
            .collect();
        let found = examine(paths, rollup).await?;
        for (child, examined) in to_examine.into_iter().zip(found) {
            frame.examined.insert(child, examined);
        }
    }
    // Reads: the keys of the next units that hold xl.meta and were not read yet.
    let mut reads: Vec<usize> = Vec::new();
    let mut at = frame.next;
    while let Some((child, subtree)) = frame.unit(at) {
        if reads.len() >= META_READS_IN_FLIGHT.min(wanted) {
            break;
        }
        let Some(examined) = frame.examined.get(&(child as usize)) else {
            break;
        };
        if !subtree && examined.has_meta && examined.meta.is_none() {
            reads.push(child as usize);
        }
        at += 1;
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
        if let Some(examined) = frame.examined.get_mut(&child) {
            if let Ok(bytes) = &result {
                examined.data_dirs = xl_meta::data_dirs(bytes).unwrap_or_default();
            }
            examined.meta = Some(result);
        }
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

    fn order(children: &[&str], in_root: bool) -> Vec<String> {
        let listing = Listing::new(children.iter().map(|s| s.to_string()).collect(), in_root);
        listing
            .units
            .iter()
            .map(|&u| {
                let (name, slash) = listing.rel(u);
                format!(
                    "{}{}",
                    std::str::from_utf8(name).unwrap(),
                    if slash { "/" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn units_sort_by_name_with_subtrees_after_their_siblings() {
        assert_eq!(
            order(&["b", "a-b", "a", "a!", DIR_OBJECT_MARKER], false),
            ["", "a", "a!", "a!/", "a-b", "a-b/", "a/", "b", "b/"]
        );
        // In the volume root the marker is an ordinary name (never written by minnow).
        assert_eq!(
            order(&[DIR_OBJECT_MARKER], true),
            ["__XLDIR__", "__XLDIR__/"]
        );
    }

    #[test]
    fn frames_start_after_after_and_at_the_prefix() {
        let listing = Rc::new(Listing::new(
            ["a", "a!", "a-b", "ab", "b"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            false,
        ));
        let first = |prefix: &str, after: &str, rollup: bool| {
            let frame = Frame::new("d/".into(), listing.clone(), prefix, after, rollup);
            frame.unit(frame.next).map(|u| frame.name(u))
        };
        assert_eq!(first("", "", false).as_deref(), Some("d/a"));
        assert_eq!(first("", "d/a", false).as_deref(), Some("d/a!"));
        // Inside a subtree: that subtree, unless it was rolled up into a prefix.
        assert_eq!(first("", "d/a/x", false).as_deref(), Some("d/a/"));
        assert_eq!(first("", "d/a/x", true).as_deref(), Some("d/ab"));
        assert_eq!(first("", "d/a/", true).as_deref(), Some("d/ab"));
        assert_eq!(first("d/a-", "", false).as_deref(), Some("d/a-b"));
        assert_eq!(first("d/c", "", false), None);
        assert_eq!(first("", "c", false).as_deref(), Some("d/a"));
        assert_eq!(first("", "e", false), None);
        assert_eq!(first("", "d/b/", false).as_deref(), Some("d/b/"));
        assert_eq!(first("", "d/b/", true), None);
    }
}

//! Listing one set: every drive walks its copy of the bucket in key order
//! (`Drive::walk_versions`: version summaries, never inline data); the answers are merged and
//! each key's versions are agreed on by quorum, so one stale or missing drive neither hides a
//! key nor brings back a deleted one.
//!
//! A drive answers at most `limit` entries, so when a drive's answer is full, entries past its
//! last one are unknown for that drive: the merge stops at the smallest such horizon and reports
//! that the listing is not exhausted, and the caller asks again from there. Every round starts
//! where the last one stopped (`after`), and a drive walk costs in proportion to what it
//! returns, so a page costs the same wherever it lies in the bucket.
//!
//! Quorum: a version is listed when as many drives hold it as its reads need (its data shards);
//! a common prefix when a read majority of drives holds a key below it.

use std::collections::BTreeMap;

use minnow_io::xl_meta::ObjectVersion;
use minnow_io::{WalkEntry, WalkRequest};

use super::{same_version, tally, version_quorum, ErasureSet};
use crate::object::{ObjectError, ObjectInfo};

/// One entry of a set's (or the pool's) listing, in key order.
#[derive(Debug, Clone)]
pub enum ListedEntry {
    /// A key and its agreed versions, newest first (only the latest unless every version was
    /// asked for). The latest may be a delete marker: listings of current objects skip it.
    Object {
        /// The key.
        key: String,
        /// The versions a quorum of drives holds.
        versions: Vec<ObjectInfo>,
    },
    /// A common prefix (ends with the delimiter).
    Prefix(String),
}

impl ListedEntry {
    /// The key or prefix.
    pub fn name(&self) -> &str {
        match self {
            ListedEntry::Object { key, .. } => key,
            ListedEntry::Prefix(prefix) => prefix,
        }
    }
}

impl ErasureSet {
    /// Up to `request.limit` entries of `bucket` after `request.after`, in byte order, and
    /// whether the set has nothing beyond them. Never returns an empty page that is not
    /// exhausted (callers would not advance).
    pub async fn walk_page(
        &self,
        bucket: &str,
        request: &WalkRequest,
    ) -> Result<(Vec<ListedEntry>, bool), ObjectError> {
        assert!(request.limit > 0, "walk limit 0");
        let mut request = request.clone();
        loop {
            let (out, horizon) = self.walk_once(bucket, &request).await?;
            match horizon {
                Some(h) if out.is_empty() => request.after = h,
                _ => return Ok((out, horizon.is_none())),
            }
        }
    }

    /// One round of drive walks; returns the agreed entries and, unless every drive is
    /// exhausted, the name up to which the answer is complete.
    async fn walk_once(
        &self,
        bucket: &str,
        request: &WalkRequest,
    ) -> Result<(Vec<ListedEntry>, Option<String>), ObjectError> {
        let answers = self
            .on_all(|_, d| {
                let bucket = bucket.to_string();
                let request = request.clone();
                async move { d.walk_versions(&bucket, &request).await }
            })
            .await;
        let (ok, errors) = tally(&answers);
        if ok < self.read_majority() {
            let missing = errors
                .iter()
                .filter(|e| matches!(e, minnow_io::DriveError::VolumeNotFound))
                .count();
            if missing >= self.read_majority() {
                return Err(ObjectError::NoSuchBucket(bucket.to_string()));
            }
            return Err(ObjectError::read_quorum(ok, self.read_majority(), &errors));
        }
        // The smallest last name among full answers bounds what is known.
        let mut horizon: Option<String> = None;
        let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
        for entries in answers.into_iter().flatten() {
            if entries.len() >= request.limit {
                if let Some(last) = entries.last() {
                    if horizon.as_deref().is_none_or(|h| last.name() < h) {
                        horizon = Some(last.name().to_string());
                    }
                }
            }
            for entry in entries {
                match entry {
                    WalkEntry::Prefix(p) => seen.entry(p).or_insert(Seen::Prefix(0)).add_prefix(),
                    WalkEntry::Object { key, versions } => seen
                        .entry(key)
                        .or_insert_with(|| Seen::Object(Vec::new()))
                        .add_versions(versions),
                }
            }
        }
        let mut out = Vec::new();
        for (name, seen) in seen {
            if horizon.as_deref().is_some_and(|h| name.as_str() > h) {
                break;
            }
            match seen {
                Seen::Prefix(count) => {
                    if count >= self.read_majority() {
                        out.push(ListedEntry::Prefix(name));
                    }
                }
                Seen::Object(copies) => {
                    let versions = agree_on_versions(copies, request.all_versions);
                    if !versions.is_empty() {
                        out.push(ListedEntry::Object {
                            versions: versions
                                .iter()
                                .map(|v| ObjectInfo::from_version(bucket, &name, v))
                                .collect(),
                            key: name,
                        });
                    }
                }
            }
        }
        Ok((out, horizon))
    }
}

/// What the drives said about one name.
enum Seen {
    /// A common prefix, reported by this many drives.
    Prefix(usize),
    /// A key: every version any drive reported, with how many drives reported it.
    Object(Vec<(ObjectVersion, usize)>),
}

impl Seen {
    fn add_prefix(&mut self) {
        if let Seen::Prefix(n) = self {
            *n += 1;
        }
    }

    fn add_versions(&mut self, versions: Vec<ObjectVersion>) {
        let Seen::Object(copies) = self else {
            return;
        };
        for v in versions {
            match copies.iter_mut().find(|(c, _)| same_version(c, &v)) {
                Some((_, n)) => *n += 1,
                None => copies.push((v, 1)),
            }
        }
    }
}

/// The versions of a key that enough drives hold, newest first; with `all_versions` false only
/// the latest of them. A version on too few drives is a write that never reached quorum (or
/// a delete that did), and is not listed.
fn agree_on_versions(
    copies: Vec<(ObjectVersion, usize)>,
    all_versions: bool,
) -> Vec<ObjectVersion> {
    let mut agreed: Vec<ObjectVersion> = copies
        .into_iter()
        .filter(|(v, n)| *n >= version_quorum(v))
        .map(|(v, _)| v)
        .collect();
    // Newest first; equal times keep the drives' order (a stable sort).
    agreed.sort_by_key(|v| std::cmp::Reverse(v.mod_time_ns));
    if !all_versions {
        agreed.truncate(1);
    }
    agreed
}

/// Merge per-set pages (disjoint keys, each sorted; a common prefix may come from several sets)
/// into one sorted page. A page that is not exhausted bounds the merge at its last name.
/// Returns the merged page and whether every set is exhausted within it.
pub fn merge_sorted(pages: Vec<(Vec<ListedEntry>, bool)>) -> (Vec<ListedEntry>, bool) {
    let horizon: Option<String> = pages
        .iter()
        .filter(|(_, exhausted)| !exhausted)
        .filter_map(|(entries, _)| entries.last().map(|e| e.name().to_string()))
        .min();
    let exhausted = pages.iter().all(|(_, exhausted)| *exhausted);
    let mut all: Vec<ListedEntry> = pages
        .into_iter()
        .flat_map(|(entries, _)| entries)
        .filter(|e| horizon.as_deref().is_none_or(|h| e.name() <= h))
        .collect();
    all.sort_by(|a, b| a.name().as_bytes().cmp(b.name().as_bytes()));
    all.dedup_by(
        |a, b| matches!((&*a, &*b), (ListedEntry::Prefix(x), ListedEntry::Prefix(y)) if x == y),
    );
    (all, exhausted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minnow_io::xl_meta::ErasureInfo;

    fn obj(key: &str) -> ListedEntry {
        ListedEntry::Object {
            key: key.to_string(),
            versions: vec![],
        }
    }

    fn names(entries: &[ListedEntry]) -> Vec<&str> {
        entries.iter().map(ListedEntry::name).collect()
    }

    #[test]
    fn merge_stops_at_the_smallest_open_horizon() {
        let a = (vec![obj("a"), obj("c"), obj("e")], false);
        let b = (vec![obj("b"), obj("d")], false);
        let c = (vec![obj("f")], true);
        let (merged, exhausted) = merge_sorted(vec![a, b, c]);
        assert_eq!(names(&merged), vec!["a", "b", "c", "d"]);
        assert!(!exhausted);
        let (merged, exhausted) =
            merge_sorted(vec![(vec![obj("z")], true), (vec![obj("y")], true)]);
        assert_eq!(names(&merged), vec!["y", "z"]);
        assert!(exhausted);
    }

    #[test]
    fn a_prefix_from_several_sets_is_listed_once() {
        let p = |s: &str| ListedEntry::Prefix(s.to_string());
        let (merged, _) = merge_sorted(vec![
            (vec![p("a/"), obj("b")], true),
            (vec![obj("a"), p("a/"), p("c/")], true),
        ]);
        assert_eq!(names(&merged), vec!["a", "a/", "b", "c/"]);
    }

    fn version(id: &str, t: i64, data: u8) -> ObjectVersion {
        ObjectVersion {
            version_id: id.to_string(),
            mod_time_ns: t,
            erasure: ErasureInfo {
                data,
                ..ErasureInfo::default()
            },
            ..ObjectVersion::default()
        }
    }

    #[test]
    fn versions_need_their_quorum_and_come_newest_first() {
        let copies = vec![
            (version("old", 1, 2), 4),
            (version("stale-only", 3, 2), 1),
            (version("new", 2, 2), 2),
        ];
        let all = agree_on_versions(copies.clone(), true);
        let ids: Vec<&str> = all.iter().map(|v| v.version_id.as_str()).collect();
        assert_eq!(ids, vec!["new", "old"]);
        let latest = agree_on_versions(copies, false);
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].version_id, "new");
        assert!(agree_on_versions(vec![(version("x", 1, 3), 2)], true).is_empty());
    }

    #[test]
    fn seen_counts_equal_versions_across_drives() {
        let mut seen = Seen::Object(Vec::new());
        seen.add_versions(vec![version("a", 2, 2), version("b", 1, 2)]);
        seen.add_versions(vec![version("a", 2, 2)]);
        seen.add_versions(vec![version("a", 5, 2)]); // same id, another write: not the same
        let Seen::Object(copies) = seen else {
            unreachable!()
        };
        let counts: Vec<(i64, usize)> = copies.iter().map(|(v, n)| (v.mod_time_ns, *n)).collect();
        assert_eq!(counts, vec![(2, 2), (1, 1), (5, 1)]);
    }
}

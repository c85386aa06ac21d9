//! Listing one set: every drive walks its copy of the bucket in key order; the answers are merged.
//!
//! A drive answers at most `limit` keys, so when a drive's answer is full, keys past its last one
//! are unknown for that drive: the merge stops at the smallest such horizon and reports that the
//! listing is not exhausted, and the caller asks again from there. A key is listed when a read
//! quorum of its drives holds it (a write that never reached quorum stays invisible).

use std::collections::BTreeMap;

use minnow_io::xl_meta;

use super::{key_from_dir, object_dir, tally, ErasureSet};
use crate::object::{ObjectError, ObjectInfo};

/// One listed object.
#[derive(Debug, Clone)]
pub struct ListedObject {
    /// Key.
    pub key: String,
    /// Its metadata.
    pub info: ObjectInfo,
}

impl ErasureSet {
    /// Up to `limit` objects of `bucket` with keys starting with `prefix` and greater than
    /// `start_after`, in byte order, and whether the set has nothing beyond them. Never returns
    /// an empty page that is not exhausted (callers would not advance).
    pub async fn walk_page(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        limit: usize,
    ) -> Result<(Vec<ListedObject>, bool), ObjectError> {
        assert!(limit > 0, "walk limit 0");
        let mut after = if start_after.is_empty() {
            String::new()
        } else {
            object_dir(start_after)
        };
        loop {
            let (out, horizon) = self.walk_once(bucket, prefix, &after, limit).await?;
            match horizon {
                Some(h) if out.is_empty() => after = h,
                _ => return Ok((out, horizon.is_none())),
            }
        }
    }

    /// One round of drive walks after the directory `after`; returns the listed objects and,
    /// unless every drive is exhausted, the directory up to which the answer is complete.
    async fn walk_once(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<(Vec<ListedObject>, Option<String>), ObjectError> {
        let answers = self
            .on_all(|_, d| {
                let (bucket, prefix, after) =
                    (bucket.to_string(), prefix.to_string(), after.to_string());
                async move { d.walk(&bucket, &prefix, &after, limit).await }
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
        // The smallest last key among full answers bounds what is known.
        let mut horizon: Option<String> = None;
        let mut seen: BTreeMap<String, (usize, Vec<u8>)> = BTreeMap::new();
        for entries in answers.into_iter().flatten() {
            if entries.len() >= limit {
                if let Some((last, _)) = entries.last() {
                    if horizon.as_ref().is_none_or(|h| last < h) {
                        horizon = Some(last.clone());
                    }
                }
            }
            for (dir, meta) in entries {
                let e = seen.entry(dir).or_insert((0, Vec::new()));
                e.0 += 1;
                if e.1.is_empty() {
                    e.1 = meta;
                }
            }
        }
        let mut out = Vec::new();
        for (dir, (count, meta)) in seen {
            if horizon.as_ref().is_some_and(|h| &dir > h) {
                break;
            }
            let Ok(meta) = xl_meta::decode(&meta) else {
                continue;
            };
            let Some(v) = meta.versions.first() else {
                continue;
            };
            if v.delete_marker || count < usize::from(v.erasure.data).max(1) {
                continue;
            }
            let key = key_from_dir(&dir);
            out.push(ListedObject {
                info: ObjectInfo::from_version(bucket, &key, v),
                key,
            });
        }
        // Folder keys ("a/") are stored one level down and may sort differently by directory.
        out.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        Ok((out, horizon))
    }
}

/// Merge per-set pages (disjoint keys, each sorted) into one sorted page. A page that is not
/// exhausted bounds the merge at its last key. Returns the merged page and whether every set is
/// exhausted within it.
pub fn merge_sorted(pages: Vec<(Vec<ListedObject>, bool)>) -> (Vec<ListedObject>, bool) {
    let horizon: Option<String> = pages
        .iter()
        .filter(|(_, exhausted)| !exhausted)
        .filter_map(|(entries, _)| entries.last().map(|e| e.key.clone()))
        .min();
    let exhausted = pages.iter().all(|(_, exhausted)| *exhausted);
    let mut all: Vec<ListedObject> = pages
        .into_iter()
        .flat_map(|(entries, _)| entries)
        .filter(|e| horizon.as_ref().is_none_or(|h| &e.key <= h))
        .collect();
    all.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    (all, exhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(key: &str) -> ListedObject {
        ListedObject {
            key: key.to_string(),
            info: ObjectInfo {
                bucket: "b".into(),
                key: key.into(),
                size: 0,
                etag: String::new(),
                mod_time_ns: 0,
                meta: vec![],
                checksums: vec![],
                parts: vec![],
            },
        }
    }

    #[test]
    fn merge_stops_at_the_smallest_open_horizon() {
        let a = (vec![obj("a"), obj("c"), obj("e")], false);
        let b = (vec![obj("b"), obj("d")], false);
        let c = (vec![obj("f")], true);
        let (merged, exhausted) = merge_sorted(vec![a, b, c]);
        let keys: Vec<&str> = merged.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, vec!["a", "b", "c", "d"]);
        assert!(!exhausted);
        let (merged, exhausted) =
            merge_sorted(vec![(vec![obj("z")], true), (vec![obj("y")], true)]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].key, "y");
        assert!(exhausted);
    }
}

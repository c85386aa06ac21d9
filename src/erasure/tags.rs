//! Object tags: part of a version's metadata, changed in place (`Drive::update_version`) on
//! every drive that holds the version, under the object's write lock. The data is untouched.

use minnow_io::xl_meta::ObjectVersion;
use minnow_io::DriveError;

use super::{object_dir, ErasureSet};
use crate::object::{ObjectError, ObjectInfo};

impl ErasureSet {
    /// Replace the tags of a version (`None`: the latest) with `tags` (empty: remove them).
    /// Returns the version as it now is. A delete marker has no tags
    /// ([`ObjectError::DeleteMarker`]).
    pub async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: Vec<(String, String)>,
    ) -> Result<ObjectInfo, ObjectError> {
        let _guard = self.locks.write(&format!("{bucket}/{key}")).await?;
        let versions = self.agreed_version(bucket, key, version_id, false).await?;
        let reference = versions
            .iter()
            .flatten()
            .next()
            .cloned()
            .ok_or_else(|| ObjectError::Internal("agreed version missing".into()))?;
        // Each drive gets its own copy back (its shard index differs), with the new tags.
        let updated: Vec<Option<ObjectVersion>> = versions
            .iter()
            .map(|v| {
                v.clone().map(|mut v| {
                    v.tags = tags.clone();
                    v
                })
            })
            .collect();
        let results = self.update_all(bucket, key, &updated).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let e = &reference.erasure;
        let quorum = usize::from(e.data).max(1) + usize::from(e.data == e.parity);
        if ok < quorum {
            // Put the old tags back where the new ones landed.
            let undo: Vec<Option<ObjectVersion>> = versions
                .iter()
                .zip(&results)
                .map(|(v, r)| v.clone().filter(|_| r.is_ok()))
                .collect();
            for (slot, r) in self.update_all(bucket, key, &undo).await.iter().enumerate() {
                if let (Err(e), Some(_)) = (r, &undo[slot]) {
                    tracing::error!(bucket, key, slot, error = %e, "tag rollback failed on a drive");
                }
            }
            return Err(self.write_failure(bucket, key, &results, ok, quorum));
        }
        let mut info = ObjectInfo::from_version(bucket, key, &reference);
        info.tags = tags;
        Ok(info)
    }

    /// `Drive::update_version` of `versions[slot]` on each drive that has one.
    async fn update_all(
        &self,
        bucket: &str,
        key: &str,
        versions: &[Option<ObjectVersion>],
    ) -> Vec<Result<(), DriveError>> {
        let dir = object_dir(key);
        self.on_all(|slot, d| {
            let (bucket, dir) = (bucket.to_string(), dir.clone());
            let version = versions[slot].clone();
            async move {
                match version {
                    Some(v) => d.update_version(&bucket, &dir, v).await,
                    None => Err(DriveError::VersionNotFound),
                }
            }
        })
        .await
    }
}

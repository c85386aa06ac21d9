//! Deleting objects, and the bucket (volume) operations of one set.
//!
//! Deleting a version is one drive call each (`Drive::delete_version`): the drive removes the
//! version from `xl.meta` and then frees its data directory; a crash in between leaves only an
//! unreferenced data directory, which the sweep reclaims. A delete marker is a version without
//! data (`Drive::write_version`). Deletes and bucket operations need a majority of the set's
//! drives.

use minnow_io::xl_meta::{self, ObjectVersion};
use minnow_io::{DriveError, VolInfo};

use super::put::new_version_id;
use super::{object_dir, tally, ErasureSet};
use crate::object::{now_ns, ObjectError, Versioning};

/// What a DELETE did, for the answer's `x-amz-version-id` and `x-amz-delete-marker`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// The version removed (asked for by id) or the delete marker added; None when an
    /// unversioned object was deleted. `""` is the null version.
    pub version_id: Option<String>,
    /// A delete marker was added, or the version removed was one.
    pub delete_marker: bool,
}

impl ErasureSet {
    /// Delete a version (`version_id` Some: that version, its data freed; a version that is not
    /// there is a no-op success, as in S3), or, without an id, the object as the bucket's
    /// `versioning` says: unversioned removes the null version; enabled adds a delete marker
    /// with a new id; suspended makes the null version a delete marker. A missing bucket is
    /// NoSuchBucket (the drives say so: no bucket check of its own, which a DeleteObjects of
    /// 1,000 keys would pay 1,000 times). Needs a majority of drives.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        versioning: Versioning,
    ) -> Result<DeleteOutcome, ObjectError> {
        let _guard = self.locks.write(&format!("{bucket}/{key}")).await?;
        match (version_id, versioning) {
            (Some(id), _) => self.delete_version(bucket, key, id).await,
            (None, Versioning::Unversioned) => {
                let outcome = self
                    .delete_version(bucket, key, xl_meta::NULL_VERSION_ID)
                    .await?;
                Ok(DeleteOutcome {
                    version_id: None,
                    ..outcome
                })
            }
            (None, Versioning::Enabled | Versioning::Suspended) => {
                self.add_delete_marker(bucket, key, new_version_id(versioning))
                    .await
            }
        }
    }

    /// Remove one version from every drive (under the object's write lock).
    async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<DeleteOutcome, ObjectError> {
        let dir = object_dir(key);
        let results = self
            .on_all(|_, d| {
                let (bucket, dir, version_id) =
                    (bucket.to_string(), dir.clone(), version_id.to_string());
                async move {
                    match d.delete_version(&bucket, &dir, &version_id).await {
                        Ok(removed) => Ok(removed.delete_marker),
                        Err(DriveError::FileNotFound | DriveError::VersionNotFound) => Ok(false),
                        Err(e) => Err(e),
                    }
                }
            })
            .await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        if ok < self.majority() {
            return Err(self.write_failure(bucket, key, &results, ok, self.majority()));
        }
        Ok(DeleteOutcome {
            version_id: Some(version_id.to_string()),
            delete_marker: results.iter().any(|r| matches!(r, Ok(true))),
        })
    }

    /// Add a delete marker with `version_id` on every drive (under the object's write lock),
    /// replacing a version with that id (the null version of a suspended bucket), whose data
    /// is freed once the marker reached quorum. Rolled back when it did not.
    async fn add_delete_marker(
        &self,
        bucket: &str,
        key: &str,
        version_id: String,
    ) -> Result<DeleteOutcome, ObjectError> {
        let dir = object_dir(key);
        let marker = ObjectVersion {
            version_id: version_id.clone(),
            mod_time_ns: now_ns(),
            delete_marker: true,
            erasure: self.marker_erasure(),
            ..ObjectVersion::default()
        };
        let versions: Vec<Option<ObjectVersion>> = self
            .drives
            .iter()
            .map(|d| d.as_ref().map(|_| marker.clone()))
            .collect();
        let results = self
            .on_all(|_, d| {
                let (bucket, dir, marker) = (bucket.to_string(), dir.clone(), marker.clone());
                async move { d.write_version(&bucket, &dir, marker).await }
            })
            .await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let quorum = self.majority();
        if ok < quorum {
            let displaced: Vec<Option<Option<ObjectVersion>>> =
                results.iter().map(|r| r.as_ref().ok().cloned()).collect();
            self.undo_versions(bucket, key, &displaced, &versions).await;
            return Err(self.write_failure(bucket, key, &results, ok, quorum));
        }
        self.free_displaced(bucket, &dir, &results, &versions).await;
        Ok(DeleteOutcome {
            version_id: Some(version_id),
            delete_marker: true,
        })
    }

    /// Create the bucket's volume on every drive. `Ok(false)` when it existed on a majority.
    pub async fn make_bucket(&self, bucket: &str) -> Result<bool, ObjectError> {
        let results = self
            .on_all(|_, d| {
                let bucket = bucket.to_string();
                async move { d.make_vol(&bucket).await }
            })
            .await;
        let existed = results
            .iter()
            .filter(|r| matches!(r, Err(DriveError::VolumeExists)))
            .count();
        let (ok, errors) = tally(&results);
        if existed >= self.majority() {
            return Ok(false);
        }
        if ok + existed < self.majority() {
            return Err(ObjectError::write_quorum(
                ok + existed,
                self.majority(),
                &errors,
            ));
        }
        Ok(true)
    }

    /// Is the bucket empty on this set (no object key on a majority of drives)?
    pub async fn bucket_is_empty(&self, bucket: &str) -> Result<bool, ObjectError> {
        let request = minnow_io::WalkRequest {
            limit: 1,
            ..minnow_io::WalkRequest::default()
        };
        // Any key counts, even one whose latest version is a delete marker: S3 refuses to
        // delete a bucket that holds versions or markers.
        let (walked, _) = self.walk_page(bucket, &request).await?;
        Ok(walked.is_empty())
    }

    /// Remove the bucket's volume on every drive. Without `force` each drive refuses while it
    /// holds a file. A write quorum is always more than half the set, and a drive either
    /// commits into the bucket before it refuses or finds the bucket gone, so:
    /// * when the bucket is gone from a majority, no write into it can have reached quorum and
    ///   what a refusing minority holds is stale (a missed delete, an unreferenced data
    ///   directory, a commit about to roll back): it is removed with the bucket;
    /// * otherwise the drives that removed it get it back and the answer is BucketNotEmpty,
    ///   so an object committed meanwhile keeps its bucket on every drive.
    pub async fn delete_bucket(&self, bucket: &str, force: bool) -> Result<(), ObjectError> {
        let results = self
            .on_all(|_, d| {
                let bucket = bucket.to_string();
                async move { d.delete_vol(&bucket, force).await }
            })
            .await;
        let refused: Vec<bool> = results
            .iter()
            .map(|r| matches!(r, Err(DriveError::VolumeNotEmpty)))
            .collect();
        let gone = results
            .iter()
            .filter(|r| matches!(r, Ok(()) | Err(DriveError::VolumeNotFound)))
            .count();
        if refused.contains(&true) && gone < self.majority() {
            let removed: Vec<bool> = results.iter().map(Result::is_ok).collect();
            self.restore_bucket(bucket, &removed).await;
            return Err(ObjectError::BucketNotEmpty(bucket.to_string()));
        }
        let mut results = results;
        if refused.contains(&true) {
            tracing::warn!(
                set = self.index.0,
                bucket,
                drives = refused.iter().filter(|r| **r).count(),
                "bucket deleted: removing what a minority of drives still held in it"
            );
            let forced = self
                .on_all(|slot, d| {
                    let bucket = bucket.to_string();
                    let wanted = refused[slot];
                    async move {
                        match wanted {
                            true => d.delete_vol(&bucket, true).await,
                            false => Ok(()),
                        }
                    }
                })
                .await;
            for (slot, r) in forced.into_iter().enumerate() {
                if refused[slot] {
                    results[slot] = r;
                }
            }
        }
        let results: Vec<Result<(), DriveError>> = results
            .into_iter()
            .map(|r| match r {
                Err(DriveError::VolumeNotFound) => Ok(()),
                other => other,
            })
            .collect();
        let (ok, errors) = tally(&results);
        if ok < self.majority() {
            // Not deleted: the drives that did remove the bucket get it back, or this set
            // would refuse writes into a bucket that still exists.
            let removed: Vec<bool> = results.iter().map(Result::is_ok).collect();
            self.restore_bucket(bucket, &removed).await;
            return Err(ObjectError::write_quorum(ok, self.majority(), &errors));
        }
        Ok(())
    }

    /// Create the bucket's volume again on the drives in `slots` (undoing a refused delete).
    pub async fn restore_bucket(&self, bucket: &str, slots: &[bool]) {
        let results = self
            .on_all(|slot, d| {
                let bucket = bucket.to_string();
                let wanted = slots.get(slot).copied().unwrap_or(true);
                async move {
                    match wanted {
                        true => d.make_vol(&bucket).await,
                        false => Ok(()),
                    }
                }
            })
            .await;
        for (slot, r) in results.iter().enumerate() {
            match r {
                Ok(()) | Err(DriveError::VolumeExists) => {}
                Err(e) => tracing::error!(
                    set = self.index.0,
                    slot,
                    bucket,
                    error = %e,
                    "cannot restore the bucket after a refused delete"
                ),
            }
        }
    }

    /// The bucket's volume info, if a majority of drives has it.
    pub async fn stat_bucket(&self, bucket: &str) -> Result<VolInfo, ObjectError> {
        self.require_bucket(bucket).await?;
        let answers = self
            .on_all(|_, d| {
                let bucket = bucket.to_string();
                async move { d.stat_vol(&bucket).await }
            })
            .await;
        answers
            .into_iter()
            .find_map(Result::ok)
            .ok_or_else(|| ObjectError::NoSuchBucket(bucket.to_string()))
    }

    /// Buckets present on a majority of drives, sorted by name.
    pub async fn list_buckets(&self) -> Result<Vec<VolInfo>, ObjectError> {
        let answers = self.on_all(|_, d| async move { d.list_vols().await }).await;
        let (ok, errors) = tally(&answers);
        if ok < self.read_majority() {
            return Err(ObjectError::read_quorum(ok, self.read_majority(), &errors));
        }
        let mut counts: Vec<(VolInfo, usize)> = Vec::new();
        for vols in answers.into_iter().flatten() {
            for v in vols {
                match counts.iter_mut().find(|(c, _)| c.name == v.name) {
                    Some((c, n)) => {
                        *n += 1;
                        c.created_ns = c.created_ns.min(v.created_ns);
                    }
                    None => counts.push((v, 1)),
                }
            }
        }
        let mut out: Vec<VolInfo> = counts
            .into_iter()
            .filter(|(_, n)| *n >= self.read_majority())
            .map(|(v, _)| v)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

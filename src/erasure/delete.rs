//! Deleting objects, and the bucket (volume) operations of one set.
//!
//! Deleting removes `xl.meta` first (the object is gone as soon as a majority of drives agree),
//! then its data directory; a crash in between leaves only an unreferenced data directory.
//! Bucket operations need a majority of the set's drives.

use futures::future::join_all;
use minnow_io::xl_meta;
use minnow_io::{DriveError, VolInfo};

use super::{meta_path, object_dir, tally, ErasureSet};
use crate::object::ObjectError;

impl ErasureSet {
    /// Delete an object. Deleting a missing object succeeds (S3 semantics); a missing bucket
    /// does not.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), ObjectError> {
        self.require_bucket(bucket).await?;
        let _guard = self.locks.write(&format!("{bucket}/{key}")).await?;
        let dir = object_dir(key);
        let meta_file = meta_path(key);
        let results = join_all(self.drives.iter().map(|d| {
            let d = d.clone();
            let (bucket, dir, meta_file) = (bucket.to_string(), dir.clone(), meta_file.clone());
            async move {
                let d = d.ok_or(DriveError::Offline)?;
                let data_dir = match d.read_all(&bucket, &meta_file).await {
                    Ok(bytes) => xl_meta::decode(&bytes)
                        .ok()
                        .and_then(|m| m.versions.into_iter().next())
                        .and_then(|v| v.data_dir),
                    Err(DriveError::FileNotFound) => return Ok(()),
                    Err(e) => return Err(e),
                };
                match d.delete(&bucket, &meta_file, false).await {
                    Ok(()) | Err(DriveError::FileNotFound) => {}
                    Err(e) => return Err(e),
                }
                if let Some(dd) = data_dir {
                    match d.delete(&bucket, &format!("{dir}/{dd}"), true).await {
                        Ok(()) | Err(DriveError::FileNotFound) => {}
                        Err(e) => tracing::warn!(error = %e, "data directory left behind"),
                    }
                }
                Ok(())
            }
        }))
        .await;
        let (ok, errors) = tally(&results);
        if ok < self.majority() {
            return Err(ObjectError::write_quorum(ok, self.majority(), &errors));
        }
        Ok(())
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
        let (walked, _) = self.walk_page(bucket, "", "", 1).await?;
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

//! Reclaiming what crashes leave behind, in the background on the owner core.
//!
//! * **Unreferenced data directories.** A PUT that dies between renaming its data directory
//!   into place and replacing `xl.meta`, or after the commit but before the replaced version's
//!   directory was removed, leaves a data directory that no `xl.meta` names. A directory is
//!   taken for a data directory when its name is a uuid and it holds only `part.*` files; it is
//!   removed when the `xl.meta` next to it *on the same drive* does not name it (or there is
//!   none). A corrupt or unreadable `xl.meta` keeps everything: healing may need it. Each
//!   object is checked and cleaned under its write lock, so a commit in flight is never raced.
//! * **Uploads.** An upload directory whose `upload.meta` is on fewer than a quorum of drives
//!   (a creation or removal cut short) is removed; so is one whose data directory already is
//!   the object's (a completion cut short before the upload was removed) and one initiated
//!   longer ago than the configured expiry (abandoned). Each under the upload's write lock.
//!
//! Temporary files need no sweep: drives empty `SYS_VOL/tmp` and the trash when they open.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use minnow_io::format::parse_uuid;
use minnow_io::xl_meta;
use minnow_io::{Drive, DriveError, SYS_MULTIPART_DIR, SYS_VOL};

use super::multipart::{upload_lock, META_BUCKET, META_KEY};
use super::{agree_on_version, key_from_dir, ErasureSet};
use crate::object::{now_ns, ObjectError};

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Data directories no `xl.meta` on their drive names (counted per drive).
    pub data_dirs: usize,
    /// Uploads removed: expired, already completed, or below quorum.
    pub uploads: usize,
}

impl ErasureSet {
    /// One sweep over every drive of the set; see the module header.
    pub async fn sweep_leftovers(&self, stale_upload_expiry: Duration) -> SweepReport {
        let mut report = SweepReport::default();
        let mut buckets = BTreeSet::new();
        for vols in self
            .on_all(|_, d| async move { d.list_vols().await })
            .await
            .into_iter()
            .flatten()
        {
            buckets.extend(vols.into_iter().map(|v| v.name));
        }
        for bucket in &buckets {
            for d in self.drives.iter().flatten() {
                report.data_dirs += self.sweep_data_dirs(d, bucket).await;
            }
        }
        report.uploads = self.sweep_uploads(stale_upload_expiry).await;
        report
    }

    /// Remove the unreferenced data directories of `bucket` on one drive.
    async fn sweep_data_dirs(&self, d: &Rc<dyn Drive>, bucket: &str) -> usize {
        let mut removed = 0;
        let mut stack = vec![String::new()];
        while let Some(dir) = stack.pop() {
            let Ok(names) = d.list_dir(bucket, &dir).await else {
                continue; // gone meanwhile, or unreadable: nothing to decide here
            };
            let mut data_dirs = Vec::new();
            for name in names.iter().filter_map(|n| n.strip_suffix('/')) {
                let child = join(&dir, name);
                if parse_uuid(name).is_some() && is_data_dir(d, bucket, &child).await {
                    data_dirs.push(name.to_string());
                } else {
                    stack.push(child);
                }
            }
            if !dir.is_empty() && !data_dirs.is_empty() {
                removed += self.reclaim(d, bucket, &dir, &data_dirs).await;
            }
            glommio::yield_if_needed().await;
        }
        removed
    }

    /// Under the object's write lock: remove those of `data_dirs` (in object directory `dir`)
    /// that this drive's `xl.meta` does not name.
    async fn reclaim(
        &self,
        d: &Rc<dyn Drive>,
        bucket: &str,
        dir: &str,
        data_dirs: &[String],
    ) -> usize {
        let key = key_from_dir(dir);
        // Busy for the whole lock wait: leave it to the next sweep.
        let Ok(_guard) = self.locks.write(&format!("{bucket}/{key}")).await else {
            return 0;
        };
        let named: BTreeSet<String> = match d.read_xl(bucket, dir).await {
            Ok(bytes) => match xl_meta::decode(&bytes) {
                Ok(meta) => meta
                    .versions
                    .into_iter()
                    .filter_map(|v| v.data_dir)
                    .collect(),
                Err(e) => {
                    tracing::warn!(drive = d.endpoint(), bucket, key, error = %e, "sweep: xl.meta unreadable, data directories kept");
                    return 0;
                }
            },
            Err(DriveError::FileNotFound) => BTreeSet::new(),
            Err(_) => return 0,
        };
        let mut removed = 0;
        for dd in data_dirs.iter().filter(|dd| !named.contains(*dd)) {
            // A uuid-named directory may also be the object directory of the key `dir/dd`,
            // whose commit creates it empty and then fills it. Under that key's lock too, it
            // is a data directory only if it still holds nothing but shard files.
            let path = join(dir, dd);
            let Ok(_nested) = self
                .locks
                .write(&format!("{bucket}/{}", key_from_dir(&path)))
                .await
            else {
                continue;
            };
            if !is_data_dir(d, bucket, &path).await {
                continue;
            }
            match d.delete(bucket, &path, true).await {
                Ok(()) => removed += 1,
                Err(DriveError::FileNotFound) => {}
                Err(e) => {
                    tracing::warn!(drive = d.endpoint(), bucket, key, error = %e, "sweep: cannot remove an unreferenced data directory")
                }
            }
        }
        removed
    }

    /// Remove the uploads that are cut short, already completed or expired.
    async fn sweep_uploads(&self, expiry: Duration) -> usize {
        let mut uploads: BTreeSet<String> = BTreeSet::new();
        for hashes in self
            .on_all(|_, d| async move { d.list_dir(SYS_VOL, SYS_MULTIPART_DIR).await })
            .await
            .into_iter()
            .flatten()
        {
            for h in hashes.iter().filter_map(|h| h.strip_suffix('/')) {
                let dir = format!("{SYS_MULTIPART_DIR}/{h}");
                for ids in self
                    .on_all(|_, d| {
                        let dir = dir.clone();
                        async move { d.list_dir(SYS_VOL, &dir).await }
                    })
                    .await
                    .into_iter()
                    .flatten()
                {
                    uploads.extend(
                        ids.iter()
                            .filter_map(|id| id.strip_suffix('/'))
                            .map(|id| format!("{dir}/{id}")),
                    );
                }
            }
        }
        let expiry_ns = i64::try_from(expiry.as_nanos()).unwrap_or(i64::MAX);
        let mut removed = 0;
        for dir in uploads {
            let Ok(_upload) = self.locks.write(&upload_lock(&dir)).await else {
                continue; // busy: the next sweep looks again
            };
            let answers = self.read_record_all(&format!("{dir}/upload.meta")).await;
            let default_data = self.drives.len() - self.storage.standard_parity;
            let why = match agree_on_version(answers, default_data, "", "", None) {
                Ok(agreed) => {
                    let Some(v) = agreed.into_iter().flatten().next() else {
                        continue;
                    };
                    let get = |name: &str| v.meta_value(name).map(str::to_string);
                    let (Some(bucket), Some(key)) = (get(META_BUCKET), get(META_KEY)) else {
                        continue;
                    };
                    let completed = match &v.data_dir {
                        Some(dd) => self.completed_version(&bucket, &key, dd).await.is_some(),
                        None => false,
                    };
                    if completed {
                        "completed before"
                    } else if now_ns().saturating_sub(v.mod_time_ns) > expiry_ns {
                        "expired"
                    } else {
                        continue;
                    }
                }
                Err(ObjectError::NoSuchKey { .. }) | Err(ObjectError::NoSuchBucket(_)) => {
                    "on too few drives"
                }
                Err(_) => continue, // too many drives away to tell
            };
            tracing::info!(set = self.index.0, upload = %dir, reason = why, "sweep: removing upload");
            self.remove_upload(&dir).await;
            removed += 1;
        }
        removed
    }
}

/// Does `dir` hold shard files (`part.*`) and nothing else? An empty directory is not a data
/// directory: it may be a nested key's object directory about to be filled.
async fn is_data_dir(d: &Rc<dyn Drive>, bucket: &str, dir: &str) -> bool {
    match d.list_dir(bucket, dir).await {
        Ok(names) => {
            !names.is_empty()
                && names
                    .iter()
                    .all(|n| !n.ends_with('/') && n.starts_with("part."))
        }
        Err(_) => false,
    }
}

fn join(dir: &str, name: &str) -> String {
    match dir.is_empty() {
        true => name.to_string(),
        false => format!("{dir}/{name}"),
    }
}

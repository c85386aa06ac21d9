//! An erasure set: 1..=16 drives that hold every object placed on them, as Reed-Solomon shards.
//!
//! A set lives on the core that owns it and is the only thing that touches its drives. It knows
//! drives only through the [`Drive`] trait, so a local drive, a remote drive and a fault-injecting
//! drive are all the same to it. Operations (one file each):
//!
//! * `put.rs`: stage a body into shard files under `.minnow.sys/tmp`, then commit: every drive
//!   renames the staged data directory into place and adds the version to its `xl.meta`
//!   (`Drive::rename_data`); small objects inline in `xl.meta`.
//! * `get.rs`: read one version from all drives, agree on it by read quorum, read data
//!   shards in their order, verify every block's bitrot hash, rebuild from parity on the fly.
//! * `delete.rs`: delete versions, add delete markers; bucket (volume) operations.
//! * `tags.rs`: a version's tags, updated in place on every drive that holds it.
//! * `list.rs`: walk the drives and merge their sorted key lists.
//! * `multipart.rs`: uploads staged under `.minnow.sys/multipart`, completed by one rename.
//! * `health.rs`: drives online now against read and write quorum (the health endpoints).
//! * `sweep.rs`: background reclaim of crash leftovers and abandoned uploads.
//! * `bucket_meta.rs`: a bucket's configuration document (`crate::bucket_config`), whole on
//!   every drive.
//!
//! Quorum (ARCHITECTURE.md section 3): write quorum = data shards (+1 when data == parity), read
//! quorum = data shards, bucket and delete operations n/2+1.

mod bucket_meta;
mod delete;
mod digest;
mod get;
mod health;
mod list;
mod multipart;
mod put;
mod sweep;
mod tags;

use std::rc::Rc;

use futures::future::join_all;
use minnow_codec::FrameKey;
use minnow_io::xl_meta::{self, ErasureInfo, ObjectVersion};
use minnow_io::{Drive, DriveError};

use crate::config::StorageClasses;
use crate::lock::NamespaceLock;
use crate::object::{ObjectError, StorageClass};

pub use delete::DeleteOutcome;
pub use get::ObjectReader;
pub use health::SetHealth;
pub use list::{merge_sorted, ListedEntry};
pub use multipart::{PartListing, UploadListing};
pub use put::StagedObject;
pub use sweep::SweepReport;

/// Objects whose framed shard per drive is at most this many bytes live inside `xl.meta`.
pub const INLINE_SHARD_MAX: u64 = 128 * 1024;
/// The same in a bucket with versioning (enabled or suspended), whose `xl.meta` holds many
/// versions: every version's inline bytes are rewritten with each change of the object.
pub const INLINE_SHARD_MAX_VERSIONED: u64 = 16 * 1024;

/// Index of a set within the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetIndex(pub usize);

/// One erasure set, owned by one core.
pub struct ErasureSet {
    index: SetIndex,
    /// Drives in slot order; `None` for a drive that was offline at start-up.
    drives: Vec<Option<Rc<dyn Drive>>>,
    storage: StorageClasses,
    locks: NamespaceLock,
    /// Write-buffer memory of the uploads streaming into shard files, in MiB (see
    /// [`STREAMING_BUDGET_MIB`]).
    streaming_budget: Rc<glommio::sync::Semaphore>,
    /// Bounds the chunks being read and assembled at once (see [`CHUNK_READS_MAX`]).
    read_slots: Rc<glommio::sync::Semaphore>,
    /// Per slot, whether the last health check found the drive online (health.rs).
    drive_online: std::cell::RefCell<Vec<bool>>,
    /// Memory of the uploads receiving their bodies, in KiB (see [`RECEIVE_BUDGET_MIB`]).
    receive_budget: Rc<glommio::sync::Semaphore>,
}

/// Write-buffer memory, in MiB, that one set's uploads may hold while they stream into shard
/// files. Each upload reserves what its writers can hold at once (drives x
/// `minnow_io::writer_memory_bytes` of its shard file) before it reads its body; later uploads
/// wait (the client on TCP back-pressure or `100 Continue`). Every upload reserves at least a
/// quarter of the budget, so at most four stream at once: more only queue their MD5 blocks and
/// writes behind each other (eight 1 MiB uploads at once measured 30% slower than four). Four
/// 64 MiB uploads on four drives (48 MiB each) fit, two on a 16-drive set (96 MiB each). Small
/// inline objects reserve nothing.
pub const STREAMING_BUDGET_MIB: u64 = 192;

/// Memory, in MiB, that one set's uploads may hold for the bodies they receive: block buffers,
/// encoded frames, inline shards (not the shard-file write buffers, which
/// [`STREAMING_BUDGET_MIB`] bounds). Each upload reserves its share before it reads its body,
/// waiting at most the set's lock wait: 15 uploads of 1 MiB blocks at once on 4 drives. Without
/// it every upload waiting for write-buffer memory would hold a block of its body.
pub const RECEIVE_BUDGET_MIB: u64 = 64;

/// Chunk reads of one set in progress at once. Each holds the shard bytes of up to four blocks
/// and the assembled chunk (about 3 x 4 MiB), so this bounds the memory of many concurrent GETs
/// whatever their number; a GET waiting for a slot still holds only the chunk its client is
/// draining. Eight keep every drive of a set busy.
pub const CHUNK_READS_MAX: u64 = 8;

/// What one drive answered for an object's `xl.meta`.
type MetaAnswer = Result<ObjectVersion, DriveError>;

impl ErasureSet {
    /// A set over `drives` (slot order).
    pub fn new(
        index: SetIndex,
        drives: Vec<Option<Rc<dyn Drive>>>,
        storage: StorageClasses,
    ) -> Self {
        assert!(
            !drives.is_empty() && drives.len() <= 32,
            "set size {}",
            drives.len()
        );
        ErasureSet {
            index,
            drive_online: std::cell::RefCell::new(drives.iter().map(Option::is_some).collect()),
            drives,
            storage,
            locks: NamespaceLock::default(),
            streaming_budget: Rc::new(glommio::sync::Semaphore::new(STREAMING_BUDGET_MIB)),
            read_slots: Rc::new(glommio::sync::Semaphore::new(CHUNK_READS_MAX)),
            receive_budget: Rc::new(glommio::sync::Semaphore::new(RECEIVE_BUDGET_MIB << 10)),
        }
    }

    /// The same set with lock requests, and uploads waiting for write-buffer memory, waiting at
    /// most `wait` (see `crate::lock`).
    pub fn with_lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.locks = NamespaceLock::new(wait);
        self
    }

    /// This set's index.
    pub fn index(&self) -> SetIndex {
        self.index
    }

    /// Quorum for bucket changes and deletes.
    fn majority(&self) -> usize {
        self.drives.len() / 2 + 1
    }

    /// Quorum for reading bucket metadata (existence, listings of buckets).
    fn read_majority(&self) -> usize {
        (self.drives.len() / 2).max(1)
    }

    /// Parity for a new object of `class`, raised by the number of drives offline now (capped
    /// at half the set), so that a write on a degraded set is as safe as on a healthy one.
    fn parity_for(&self, class: Option<StorageClass>, offline: usize) -> usize {
        let base = match class {
            Some(StorageClass::ReducedRedundancy) => self.storage.rrs_parity,
            _ => self.storage.standard_parity,
        };
        (base + offline).min(self.drives.len() / 2)
    }

    /// Run `op` on every drive concurrently; offline drives answer `DriveError::Offline`.
    async fn on_all<T, F, Fut>(&self, op: F) -> Vec<Result<T, DriveError>>
    where
        F: Fn(usize, Rc<dyn Drive>) -> Fut,
        Fut: std::future::Future<Output = Result<T, DriveError>>,
    {
        join_all(self.drives.iter().enumerate().map(|(slot, d)| {
            let fut = d.clone().map(|d| op(slot, d));
            async move {
                match fut {
                    Some(f) => f.await,
                    None => Err(DriveError::Offline),
                }
            }
        }))
        .await
    }

    /// One version of the object `key` in `vol` from every drive: the latest (`None`) or the
    /// one with that id (`""` = null), inline data only `with_data`.
    async fn read_version_all(
        &self,
        vol: &str,
        key: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Vec<MetaAnswer> {
        let dir = object_dir(key);
        self.on_all(|_, d| {
            let (vol, dir) = (vol.to_string(), dir.clone());
            let version_id = version_id.map(str::to_string);
            async move {
                d.read_version(&vol, &dir, version_id.as_deref(), with_data)
                    .await
            }
        })
        .await
    }

    /// A multipart record (`upload.meta`, `part.N.meta`: single-version `xl.meta` files in
    /// SYS_VOL) from every drive.
    async fn read_record_all(&self, path: &str) -> Vec<MetaAnswer> {
        self.on_all(|_, d| {
            let path = path.to_string();
            async move {
                let bytes = d.read_all(minnow_io::SYS_VOL, &path).await?;
                xl_meta::decode(&bytes)?
                    .versions
                    .into_iter()
                    .next()
                    .ok_or(DriveError::FileNotFound)
            }
        })
        .await
    }

    /// The erasure info a delete marker records: the layout a new object would get now, so
    /// that its quorum is counted like an object's.
    fn marker_erasure(&self) -> ErasureInfo {
        let n = self.drives.len();
        let parity = self.storage.standard_parity.min(n / 2);
        ErasureInfo {
            data: (n - parity) as u8,
            parity: parity as u8,
            block_size: minnow_codec::BLOCK_SIZE as u32,
            index: 0,
            distribution: Vec::new(),
        }
    }
}

/// The id a version's shard frames are bound to; None for a version written before frames
/// were bound (ARCHITECTURE.md section 4).
fn frame_binding(v: &ObjectVersion) -> Option<&str> {
    v.meta_value(xl_meta::META_FRAME_BINDING)
}

/// The frame key of every shard of part `part`, by shard index.
fn frame_keys(binding: Option<&str>, part: u32, shards: usize) -> Vec<FrameKey> {
    (0..shards)
        .map(|shard| match binding {
            Some(binding) => FrameKey::bound(binding, shard, part),
            None => FrameKey::Unbound,
        })
        .collect()
}

/// Same version on two drives: same write (id, time, ETag, size, data directory, kind).
pub(crate) fn same_version(a: &ObjectVersion, b: &ObjectVersion) -> bool {
    a.version_id == b.version_id
        && a.mod_time_ns == b.mod_time_ns
        && a.etag == b.etag
        && a.size == b.size
        && a.data_dir == b.data_dir
        && a.delete_marker == b.delete_marker
}

/// The quorum of drives that must hold a version for it to exist: its data shards (a delete
/// marker records the set's layout, see [`ErasureSet::marker_erasure`]).
pub(crate) fn version_quorum(v: &ObjectVersion) -> usize {
    usize::from(v.erasure.data).max(1)
}

/// The version a read quorum of drives agrees on, and for each slot that drive's copy of it.
/// `default_data` is the read quorum assumed when no drive has the object at all; `version_id`
/// is the id asked for (`None`: the latest), which decides between NoSuchKey and NoSuchVersion.
fn agree_on_version(
    answers: Vec<MetaAnswer>,
    default_data: usize,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Vec<Option<ObjectVersion>>, ObjectError> {
    let n = answers.len();
    let mut not_found = 0;
    let mut vol_missing = 0;
    let mut errors = Vec::new();
    let mut versions: Vec<Option<ObjectVersion>> = Vec::with_capacity(n);
    for a in answers {
        match a {
            Ok(v) => versions.push(Some(v)),
            Err(DriveError::FileNotFound | DriveError::VersionNotFound) => {
                not_found += 1;
                versions.push(None);
            }
            Err(DriveError::VolumeNotFound) => {
                vol_missing += 1;
                versions.push(None);
            }
            Err(e) => {
                errors.push(e);
                versions.push(None);
            }
        }
    }
    // Group equal versions; the largest group wins, the newest on a tie.
    let mut best: Option<(usize, usize)> = None; // (slot of a member, count)
    for (i, v) in versions.iter().enumerate() {
        let Some(v) = v else { continue };
        let count = versions
            .iter()
            .flatten()
            .filter(|o| same_version(v, o))
            .count();
        let better = match best {
            None => true,
            Some((j, c)) => {
                count > c
                    || (count == c
                        && versions[j]
                            .as_ref()
                            .is_some_and(|w| v.mod_time_ns > w.mod_time_ns))
            }
        };
        if better {
            best = Some((i, count));
        }
    }
    let absent = not_found + vol_missing;
    let missing = || {
        if vol_missing > not_found {
            ObjectError::NoSuchBucket(bucket.to_string())
        } else if let Some(version_id) = version_id {
            ObjectError::NoSuchVersion {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version_id: version_id.to_string(),
            }
        } else {
            ObjectError::NoSuchKey {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }
        }
    };
    match best {
        Some((slot, count)) => {
            let reference = versions[slot]
                .clone()
                .ok_or_else(|| ObjectError::Internal("quorum reference vanished".into()))?;
            let data = version_quorum(&reference);
            if count >= data {
                return Ok(versions
                    .into_iter()
                    .map(|v| v.filter(|v| same_version(v, &reference)))
                    .collect());
            }
            // Too few copies: either a write that never reached quorum (the object does not
            // exist) or too many drives away to tell.
            if absent > n - data {
                return Err(missing());
            }
            Err(ObjectError::read_quorum(count, data, &errors))
        }
        None => {
            if absent >= default_data.max(1) {
                return Err(missing());
            }
            Err(ObjectError::read_quorum(absent, default_data, &errors))
        }
    }
}

pub use minnow_io::{key_from_dir, object_dir};

/// The `xl.meta` of `key`, relative to its bucket (for logs and error paths).
fn meta_path(key: &str) -> String {
    format!("{}/{}", object_dir(key), xl_meta::FILE_NAME)
}

/// Count the successes; collect the errors.
fn tally<T>(results: &[Result<T, DriveError>]) -> (usize, Vec<DriveError>) {
    let mut ok = 0;
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(_) => ok += 1,
            Err(e) => errors.push(e.clone()),
        }
    }
    (ok, errors)
}

#[cfg(test)]
mod tests;

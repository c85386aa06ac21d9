//! Writing objects: stage, then commit.
//!
//! Staging reads the body one 1 MiB block at a time, Reed-Solomon encodes it, puts the block's
//! HighwayHash-256 in front of every shard, and appends the frames to one O_DIRECT shard file per
//! drive under `.minnow.sys/tmp/<uuid>/part.1` (or keeps them in memory when the object is
//! small enough to live inline in `xl.meta`). Nothing is visible yet.
//!
//! The caller then checks the body's digests (Content-MD5, SHA-256, checksums) and only then
//! commits: under the object's write lock, each drive renames the staging directory into place
//! as the version's data directory and adds the version to its `xl.meta`, in one call
//! (`Drive::rename_data`), which returns the version it replaced (a null version overwritten).
//! If fewer than write-quorum drives commit, the drives that did get the replaced version back
//! (or lose the new one), so a failed write never shows. A replaced version's data directory
//! is freed only after the commit reached quorum.

use std::sync::Arc;

use futures::future::join_all;
use glommio::sync::StaticPermit;
use minnow_codec::{hash_order, Encoder, ErasureLayout, FrameKey, BITROT_HASH_LEN, BLOCK_SIZE};
use minnow_io::format::new_uuid;
use minnow_io::xl_meta::{self, ErasureInfo, ObjectVersion, PartInfo};
use minnow_io::{DriveError, FileWriter, SYS_VOL};
use minnow_net::http::BodyRead;

use super::digest::Md5Pipeline;
use super::{
    frame_keys, object_dir, tally, ErasureSet, INLINE_SHARD_MAX, INLINE_SHARD_MAX_VERSIONED,
    STREAMING_BUDGET_MIB,
};
use crate::lock::acquire_within;
use crate::object::{now_ns, ObjectError, ObjectInfo, PutOptions, Versioning, META_STORAGE_CLASS};

/// What an upload streaming into `drives` shard files of `file_hint` bytes reserves from its
/// set's [`STREAMING_BUDGET_MIB`]: its writers' buffers, at least a quarter of the budget.
fn upload_reservation_mib(drives: usize, file_hint: u64) -> u64 {
    (drives as u64 * minnow_io::writer_memory_bytes(file_hint))
        .div_ceil(1 << 20)
        .clamp(STREAMING_BUDGET_MIB / 4, STREAMING_BUDGET_MIB)
}

/// What an upload reserves from its set's receive budget
/// ([`RECEIVE_BUDGET_MIB`](super::RECEIVE_BUDGET_MIB)), in KiB: its two block buffers of
/// `block_cap`, its `shards` encoded frames of `frame_len`, and, inline, `drives` copies of
/// `inline_len` bytes.
fn receive_reservation_kib(
    block_cap: usize,
    shards: usize,
    frame_len: usize,
    drives: usize,
    inline_len: usize,
) -> u64 {
    (2 * block_cap + shards * frame_len + drives * inline_len).div_ceil(1024) as u64
}

/// The largest object a single PUT may carry (S3's limit).
pub const PUT_SIZE_MAX: u64 = 5 << 30;

/// Shards written but not yet visible. Commit with [`ErasureSet::commit_object`] or drop with
/// [`ErasureSet::abort_staged`]; stale staging is also swept at start-up.
pub struct StagedObject {
    pub(super) tmp_dir: String,
    pub(super) data_dir: Option<String>,
    /// The id the version gets: fresh in a bucket with versioning enabled, else null ("").
    pub(super) version_id: String,
    /// What the frames are bound to (recorded in the version's meta on commit); None for a
    /// multipart part, whose upload records it.
    pub(super) binding: Option<String>,
    pub(super) layout: ErasureLayout,
    pub(super) distribution: Vec<usize>,
    pub(super) size: u64,
    /// Per slot: the framed shards when the object is inline.
    pub(super) inline: Vec<Vec<u8>>,
    /// Per slot: whether that drive holds the complete shards.
    pub(super) written: Vec<bool>,
    pub(super) options: PutOptions,
    pub(super) md5: [u8; 16],
}

impl StagedObject {
    /// MD5 of the staged bytes.
    pub fn md5(&self) -> [u8; 16] {
        self.md5
    }
}

/// Where staged shards go and how they are laid out.
pub(super) struct StagePlan<'a> {
    pub layout: ErasureLayout,
    pub distribution: Vec<usize>,
    /// Path of the shard file inside SYS_VOL; None = inline.
    pub file: Option<&'a str>,
    pub size_hint: Option<u64>,
    /// Frame key of every shard, by shard index.
    pub keys: Vec<FrameKey>,
}

pub(super) struct StageResult {
    pub size: u64,
    pub inline: Vec<Vec<u8>>,
    pub written: Vec<bool>,
    pub md5: [u8; 16],
}

impl ErasureSet {
    /// Offline drives now, and the layout a new object of this class gets.
    pub(super) fn plan_layout(
        &self,
        class: Option<crate::object::StorageClass>,
    ) -> Result<ErasureLayout, ObjectError> {
        let n = self.drives.len();
        let offline = self.drives.iter().filter(|d| d.is_none()).count();
        let parity = self.parity_for(class, offline);
        let layout = ErasureLayout::new(n - parity, parity, BLOCK_SIZE)
            .map_err(|e| ObjectError::Internal(format!("layout {}+{parity}: {e}", n - parity)))?;
        if n - offline < layout.write_quorum() {
            return Err(ObjectError::write_quorum(
                n - offline,
                layout.write_quorum(),
                &[DriveError::Offline],
            ));
        }
        Ok(layout)
    }

    /// Fail with NoSuchBucket unless a read majority of drives has the bucket.
    pub(super) async fn require_bucket(&self, bucket: &str) -> Result<(), ObjectError> {
        let answers = self
            .on_all(|_, d| {
                let bucket = bucket.to_string();
                async move { d.stat_vol(&bucket).await }
            })
            .await;
        let (ok, errors) = tally(&answers);
        if ok >= self.read_majority() {
            return Ok(());
        }
        let missing = errors
            .iter()
            .filter(|e| matches!(e, DriveError::VolumeNotFound))
            .count();
        if missing > 0 && missing + ok >= self.read_majority() {
            return Err(ObjectError::NoSuchBucket(bucket.to_string()));
        }
        Err(ObjectError::read_quorum(ok, self.read_majority(), &errors))
    }

    /// Stage an object body; see the module header.
    pub async fn stage_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn BodyRead,
        size_hint: Option<u64>,
        options: PutOptions,
    ) -> Result<StagedObject, ObjectError> {
        if size_hint.is_some_and(|s| s > PUT_SIZE_MAX) {
            return Err(ObjectError::InvalidArgument(format!(
                "object larger than {PUT_SIZE_MAX} bytes: use multipart upload"
            )));
        }
        self.require_bucket(bucket).await?;
        let layout = self.plan_layout(options.storage_class)?;
        let distribution = hash_order(&format!("{bucket}/{key}"), self.drives.len());
        let inline_max = match options.versioning {
            Versioning::Unversioned => INLINE_SHARD_MAX,
            Versioning::Enabled | Versioning::Suspended => INLINE_SHARD_MAX_VERSIONED,
        };
        let inline = size_hint.is_some_and(|s| layout.shard_file_size(s) <= inline_max);
        let version_id = new_version_id(options.versioning);
        let tmp_dir = format!("tmp/{}", new_uuid());
        let data_dir = (!inline).then(new_uuid);
        // An inline object has no data directory to bind its frames to: it gets an id of its own.
        let binding = data_dir.clone().unwrap_or_else(new_uuid);
        // The staging directory becomes the data directory: the commit renames it whole, so
        // nothing is left behind in tmp.
        let file = data_dir.as_ref().map(|_| format!("{tmp_dir}/part.1"));
        let plan = StagePlan {
            layout,
            distribution: distribution.clone(),
            file: file.as_deref(),
            size_hint,
            keys: frame_keys(Some(&binding), 1, layout.total()),
        };
        let staged = match self.stage_shards(&plan, body).await {
            Ok(s) => s,
            Err(e) => {
                self.remove_tmp(&tmp_dir).await;
                return Err(e);
            }
        };
        Ok(StagedObject {
            tmp_dir,
            data_dir,
            version_id,
            binding: Some(binding),
            layout,
            distribution,
            size: staged.size,
            inline: staged.inline,
            written: staged.written,
            options,
            md5: staged.md5,
        })
    }

    /// Throw staged shards away.
    pub async fn abort_staged(&self, staged: StagedObject) {
        self.remove_staging(&staged, &staged.written).await;
    }

    /// Remove what staging left in SYS_VOL/tmp on the drives in `slots`; inline objects never
    /// wrote there.
    async fn remove_staging(&self, staged: &StagedObject, slots: &[bool]) {
        if staged.data_dir.is_some() {
            self.remove_tmp_on(&staged.tmp_dir, slots).await;
        }
    }

    pub(super) async fn remove_tmp(&self, tmp_dir: &str) {
        self.remove_tmp_on(tmp_dir, &vec![true; self.drives.len()])
            .await;
    }

    async fn remove_tmp_on(&self, tmp_dir: &str, slots: &[bool]) {
        self.on_all(|slot, d| {
            let tmp_dir = tmp_dir.to_string();
            let wanted = slots[slot];
            async move {
                match wanted {
                    true => d.delete(SYS_VOL, &tmp_dir, true).await,
                    false => Ok(()),
                }
            }
        })
        .await;
    }

    /// Encode `body` into framed shards: inline in memory, or streamed into `plan.file` on every
    /// drive. Fails as soon as fewer than write-quorum drives are still writing.
    pub(super) async fn stage_shards(
        &self,
        plan: &StagePlan<'_>,
        body: &mut dyn BodyRead,
    ) -> Result<StageResult, ObjectError> {
        let n = self.drives.len();
        let layout = plan.layout;
        let quorum = layout.write_quorum();
        let mut errors: Vec<DriveError> = Vec::new();
        let mut writers: Vec<Option<Box<dyn FileWriter>>> = Vec::with_capacity(n);
        // The size the shard files will reach: it picks their buffers and what they may hold.
        let file_hint = plan
            .size_hint
            .map_or(u64::MAX >> 1, |size| layout.shard_file_size(size));
        // Write-buffer memory and shard files are taken once the first block of the body has
        // arrived (or the body ended empty): a client that stalls before that holds neither.
        let mut reserved = None;

        let mut encoder = Encoder::new(layout);
        // Buffers sized for the body when it is smaller than a block (most small PUTs).
        let block_cap = plan.size_hint.map_or(layout.block_size, |h| {
            h.clamp(1, layout.block_size as u64) as usize
        });
        let frame_len = BITROT_HASH_LEN + layout.shard_size(block_cap);
        let inline_len = match plan.file {
            Some(_) => 0,
            None => plan.size_hint.map_or(0, |h| layout.shard_file_size(h)) as usize,
        };
        let kib = receive_reservation_kib(block_cap, layout.total(), frame_len, n, inline_len);
        let wait = self.locks.wait();
        let Some(_receiving) = acquire_within(&self.receive_budget, kib, wait).await else {
            return Err(ObjectError::SlowDown(format!(
                "set {}: {kib} KiB of receive memory not granted within {wait:?} ({} KiB free)",
                self.index.0,
                self.receive_budget.available()
            )));
        };
        let mut frames: Vec<Vec<u8>> = Vec::new();
        // Two block buffers: one being hashed on the blocking pool while the next is read.
        let mut blocks = [
            Arc::new(Vec::with_capacity(block_cap)),
            Arc::new(Vec::with_capacity(block_cap)),
        ];
        let mut which = 0usize;
        let mut md5 = Md5Pipeline::default();
        let mut inline: Vec<Vec<u8>> = vec![Vec::new(); n];
        let mut size: u64 = 0;
        let mut block_index: u64 = 0;
        loop {
            if Arc::get_mut(&mut blocks[which]).is_none() {
                md5.drain().await;
            }
            let buf = match Arc::get_mut(&mut blocks[which]) {
                Some(buf) => buf,
                None => {
                    blocks[which] = Arc::new(Vec::with_capacity(block_cap));
                    Arc::get_mut(&mut blocks[which])
                        .ok_or_else(|| ObjectError::Internal("block buffer shared".into()))?
                }
            };
            let len = read_block(body, buf, block_cap).await?;
            if let (Some(file), None) = (plan.file, &reserved) {
                let (permit, opened) = self.start_streaming(file, file_hint).await?;
                reserved = Some(permit);
                for r in opened {
                    match r {
                        Ok(w) => writers.push(Some(w)),
                        Err(e) => {
                            errors.push(e);
                            writers.push(None);
                        }
                    }
                }
                let open = writers.iter().filter(|w| w.is_some()).count();
                if open < quorum {
                    return Err(ObjectError::write_quorum(open, quorum, &errors));
                }
            }
            if len == 0 {
                break;
            }
            buf.truncate(len);
            size += len as u64;
            if plan.file.is_none() && plan.size_hint.is_some_and(|h| size > h) {
                return Err(ObjectError::Body(
                    "body longer than its declared length".into(),
                ));
            }
            if frames.is_empty() {
                frames = vec![vec![0u8; frame_len]; layout.total()];
            }
            let block = blocks[which].clone();
            md5.submit(block.clone()).await;
            let shard_size =
                encode_frames(&mut encoder, &block, block_index, &plan.keys, &mut frames)?;
            block_index += 1;
            drop(block);
            which ^= 1;
            let framed = BITROT_HASH_LEN + shard_size;
            if plan.file.is_none() {
                for (slot, out) in inline.iter_mut().enumerate() {
                    out.extend_from_slice(&frames[plan.distribution[slot]][..framed]);
                }
            } else {
                let results = join_all(writers.iter_mut().enumerate().map(|(slot, w)| {
                    let frame = &frames[plan.distribution[slot]][..framed];
                    async move {
                        match w {
                            Some(w) => w.write(frame).await.map(|_| true),
                            None => Ok(false),
                        }
                    }
                }))
                .await;
                for (slot, r) in results.into_iter().enumerate() {
                    if let Err(e) = r {
                        tracing::warn!(set = self.index.0, slot, error = %e, "shard write failed");
                        errors.push(e);
                        writers[slot] = None;
                    }
                }
                let alive = writers.iter().filter(|w| w.is_some()).count();
                if alive < quorum {
                    return Err(ObjectError::write_quorum(alive, quorum, &errors));
                }
            }
            if len < block_cap {
                break;
            }
            glommio::yield_if_needed().await;
        }

        let mut written = vec![plan.file.is_none(); n];
        if plan.file.is_none() {
            for (slot, d) in self.drives.iter().enumerate() {
                written[slot] = d.is_some();
            }
        } else {
            let finished = join_all(writers.into_iter().map(|w| async move {
                match w {
                    Some(w) => w.finish().await.map(|_| true),
                    None => Ok(false),
                }
            }))
            .await;
            for (slot, r) in finished.into_iter().enumerate() {
                match r {
                    Ok(ok) => written[slot] = ok,
                    Err(e) => errors.push(e),
                }
            }
            let ok = written.iter().filter(|w| **w).count();
            if ok < quorum {
                return Err(ObjectError::write_quorum(ok, quorum, &errors));
            }
        }
        Ok(StageResult {
            size,
            inline,
            written,
            md5: md5.finish().await,
        })
    }

    /// Reserve an upload's write-buffer memory (see [`STREAMING_BUDGET_MIB`]), waiting at most
    /// the set's lock wait, and create its shard file `file` on every drive.
    async fn start_streaming(
        &self,
        file: &str,
        file_hint: u64,
    ) -> Result<(StaticPermit, Vec<Result<Box<dyn FileWriter>, DriveError>>), ObjectError> {
        let mib = upload_reservation_mib(self.drives.len(), file_hint);
        let wait = self.locks.wait();
        let Some(permit) = acquire_within(&self.streaming_budget, mib, wait).await else {
            return Err(ObjectError::SlowDown(format!(
                "set {}: {mib} MiB of upload memory not granted within {wait:?} ({} MiB free)",
                self.index.0,
                self.streaming_budget.available()
            )));
        };
        let opened = self
            .on_all(|_, d| {
                let file = file.to_string();
                async move { d.create_file(SYS_VOL, &file, file_hint).await }
            })
            .await;
        Ok((permit, opened))
    }

    /// Make a staged object visible; see the module header.
    pub async fn commit_object(
        &self,
        bucket: &str,
        key: &str,
        staged: StagedObject,
        etag: String,
        checksums: Vec<(String, String)>,
    ) -> Result<ObjectInfo, ObjectError> {
        let mut meta = staged.options.meta.clone();
        if let Some(class) = staged.options.storage_class {
            if class != crate::object::StorageClass::Standard {
                meta.push((META_STORAGE_CLASS.to_string(), class.as_str().to_string()));
            }
        }
        if let Some(binding) = &staged.binding {
            meta.push((xl_meta::META_FRAME_BINDING.to_string(), binding.clone()));
        }
        let part = PartInfo {
            number: 1,
            size: staged.size,
            etag: etag.clone(),
            checksums: checksums.clone(),
        };
        let template = ObjectVersion {
            version_id: staged.version_id.clone(),
            mod_time_ns: now_ns(),
            size: staged.size,
            etag,
            data_dir: staged.data_dir.clone(),
            inline_data: None,
            erasure: erasure_info(&staged.layout, &staged.distribution, 0),
            parts: vec![part],
            meta,
            checksums,
            delete_marker: false,
            tags: staged.options.tags.clone(),
        };
        let versions =
            per_slot_versions(&template, &staged.distribution, &staged.written, |slot| {
                staged
                    .data_dir
                    .is_none()
                    .then(|| staged.inline[slot].clone())
            });
        // The staging directory is the data directory (inline objects have none; rename_data
        // ignores the source then).
        let result = self
            .commit_version(
                bucket,
                key,
                &staged.tmp_dir,
                &versions,
                staged.layout.write_quorum(),
            )
            .await;
        // A drive that committed moved its staging directory away; any other still holds one.
        let leftover: Vec<bool> = match &result {
            Ok(committed) => staged
                .written
                .iter()
                .zip(committed)
                .map(|(written, committed)| *written && !committed)
                .collect(),
            Err(_) => staged.written.clone(),
        };
        if leftover.contains(&true) {
            self.remove_staging(&staged, &leftover).await;
        }
        result?;
        Ok(ObjectInfo::from_version(bucket, key, &template))
    }

    /// The commit protocol shared by PUT and CompleteMultipartUpload. `src` is the staged data
    /// directory inside SYS_VOL (ignored for inline objects); `versions[slot]` is what that drive
    /// records (None: the drive holds no shard and is skipped). Returns which drives committed.
    pub(super) async fn commit_version(
        &self,
        bucket: &str,
        key: &str,
        src: &str,
        versions: &[Option<ObjectVersion>],
        quorum: usize,
    ) -> Result<Vec<bool>, ObjectError> {
        let _guard = self.locks.write(&format!("{bucket}/{key}")).await?;
        let dir = object_dir(key);
        let results = join_all(self.drives.iter().enumerate().map(|(slot, d)| {
            let d = d.clone();
            let version = versions[slot].clone();
            let (bucket, dir) = (bucket.to_string(), dir.clone());
            async move {
                let (Some(d), Some(version)) = (d, version) else {
                    return Err(DriveError::Offline);
                };
                d.rename_data(SYS_VOL, src, &bucket, &dir, version).await
            }
        }))
        .await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        if ok < quorum {
            let displaced: Vec<Option<Option<ObjectVersion>>> =
                results.iter().map(|r| r.as_ref().ok().cloned()).collect();
            self.undo_versions(bucket, key, &displaced, versions).await;
            return Err(self.write_failure(bucket, key, &results, ok, quorum));
        }
        // Free the data directories of the versions just replaced (a null version overwritten).
        self.free_displaced(bucket, &dir, &results, versions).await;
        Ok(results.iter().map(Result::is_ok).collect())
    }

    /// Why a version write that reached only `ok` of `quorum` drives failed.
    pub(super) fn write_failure<T>(
        &self,
        bucket: &str,
        key: &str,
        results: &[Result<T, DriveError>],
        ok: usize,
        quorum: usize,
    ) -> ObjectError {
        let count = |kind: &DriveError| {
            results
                .iter()
                .filter(|r| r.as_ref().err() == Some(kind))
                .count()
        };
        let errors: Vec<DriveError> = results
            .iter()
            .filter_map(|r| r.as_ref().err().cloned())
            .collect();
        if self.drives.len() - count(&DriveError::VolumeNotFound) < quorum {
            // The bucket is gone (deleted while a body streamed, say); drives never recreate it.
            tracing::info!(bucket, key, "bucket deleted before the write");
            return ObjectError::NoSuchBucket(bucket.to_string());
        }
        if self.drives.len() - count(&DriveError::TooManyVersions) < quorum {
            return ObjectError::TooManyVersions {
                bucket: bucket.to_string(),
                key: key.to_string(),
            };
        }
        tracing::error!(bucket, key, ok, quorum, "version write missed its quorum");
        ObjectError::write_quorum(ok, quorum, &errors)
    }

    /// After a commit reached quorum: on each drive that committed and replaced a version with
    /// a data directory of its own, free that directory.
    pub(super) async fn free_displaced(
        &self,
        bucket: &str,
        dir: &str,
        results: &[Result<Option<ObjectVersion>, DriveError>],
        versions: &[Option<ObjectVersion>],
    ) {
        join_all(self.drives.iter().enumerate().map(|(slot, d)| {
            let old_dd = results[slot]
                .as_ref()
                .ok()
                .and_then(|old| old.as_ref())
                .and_then(|old| old.data_dir.clone());
            let new_dd = versions[slot].as_ref().and_then(|v| v.data_dir.clone());
            let d = d.clone();
            async move {
                let (Some(d), Some(old_dd)) = (d, old_dd) else {
                    return;
                };
                if Some(&old_dd) == new_dd.as_ref() {
                    return;
                }
                if let Err(e) = d.free_data_dir(bucket, dir, &old_dd).await {
                    tracing::warn!(bucket, dir, error = %e, "replaced data directory left behind");
                }
            }
        }))
        .await;
    }

    /// Undo a version write that missed quorum, on the drives where it landed
    /// (`displaced[slot]` is Some there, holding what it replaced): the replaced version goes
    /// back (and the new version's data directory is freed), or the new version is deleted.
    pub(super) async fn undo_versions(
        &self,
        bucket: &str,
        key: &str,
        displaced: &[Option<Option<ObjectVersion>>],
        versions: &[Option<ObjectVersion>],
    ) {
        let dir = object_dir(key);
        join_all(self.drives.iter().enumerate().map(|(slot, d)| {
            let d = d.clone();
            let landed = displaced[slot].clone();
            let new = versions[slot].clone();
            let dir = dir.clone();
            async move {
                let (Some(d), Some(previous), Some(new)) = (d, landed, new) else {
                    return;
                };
                let undone = match previous {
                    Some(old) => {
                        let old_dd = old.data_dir.clone();
                        let restored = d.write_version(bucket, &dir, old).await;
                        match (&new.data_dir, restored) {
                            (Some(new_dd), Ok(_)) if Some(new_dd) != old_dd.as_ref() => {
                                d.free_data_dir(bucket, &dir, new_dd).await
                            }
                            (_, restored) => restored.map(|_| ()),
                        }
                    }
                    None => d
                        .delete_version(bucket, &dir, &new.version_id)
                        .await
                        .map(|_| ()),
                };
                if let Err(e) = undone {
                    tracing::error!(bucket, key, slot, error = %e, "rollback failed on a drive");
                }
            }
        }))
        .await;
    }
}

/// The id of a new version: a fresh uuid when versioning is enabled, else the null version.
pub(super) fn new_version_id(versioning: Versioning) -> String {
    match versioning {
        Versioning::Enabled => new_uuid(),
        Versioning::Unversioned | Versioning::Suspended => xl_meta::NULL_VERSION_ID.to_string(),
    }
}

/// Smallest step by which [`read_block`] grows a block buffer.
const BLOCK_GROWTH_MIN: usize = 64 << 10;

/// Fill `buf` with up to `cap` body bytes (until full or the body ends); returns the bytes read.
/// An empty buffer grows as the bytes arrive, doubling from [`BLOCK_GROWTH_MIN`], so a body that
/// stalls holds memory for about what it sent, not a whole block.
async fn read_block(
    body: &mut dyn BodyRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> Result<usize, ObjectError> {
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if filled >= cap {
                break;
            }
            buf.resize(cap.min(filled + filled.max(BLOCK_GROWTH_MIN)), 0);
        }
        let end = buf.len().min(cap);
        let n = body
            .read(&mut buf[filled..end])
            .await
            .map_err(|e| ObjectError::Body(e.to_string()))?;
        if n == 0 {
            break;
        }
        filled += n;
        if filled >= cap {
            break;
        }
    }
    Ok(filled)
}

/// Encode block `index` into `frames` (indexed by shard): `[hash | shard]` each, hashed with
/// that shard's key. Returns the shard size.
pub(super) fn encode_frames(
    encoder: &mut Encoder,
    block: &[u8],
    index: u64,
    keys: &[FrameKey],
    frames: &mut [Vec<u8>],
) -> Result<usize, ObjectError> {
    let shard_size = {
        let mut shards: Vec<&mut [u8]> = frames
            .iter_mut()
            .map(|f| &mut f[BITROT_HASH_LEN..])
            .collect();
        encoder
            .encode(block, &mut shards)
            .map_err(|e| ObjectError::Internal(format!("encode: {e}")))?
    };
    for (f, key) in frames.iter_mut().zip(keys) {
        let hash = key.hash(index, &f[BITROT_HASH_LEN..BITROT_HASH_LEN + shard_size]);
        f[..BITROT_HASH_LEN].copy_from_slice(&hash);
    }
    Ok(shard_size)
}

pub(super) fn erasure_info(
    layout: &ErasureLayout,
    distribution: &[usize],
    slot: usize,
) -> ErasureInfo {
    ErasureInfo {
        data: layout.data as u8,
        parity: layout.parity as u8,
        block_size: layout.block_size as u32,
        index: distribution[slot] as u8,
        distribution: distribution.iter().map(|&d| d as u8).collect(),
    }
}

/// Each drive's copy of a version: its own shard index and inline bytes; None where not written.
pub(super) fn per_slot_versions(
    template: &ObjectVersion,
    distribution: &[usize],
    written: &[bool],
    inline_for: impl Fn(usize) -> Option<Vec<u8>>,
) -> Vec<Option<ObjectVersion>> {
    (0..distribution.len())
        .map(|slot| {
            written[slot].then(|| {
                let mut v = template.clone();
                v.erasure.index = distribution[slot] as u8;
                v.inline_data = inline_for(slot);
                v
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_reservations_cover_blocks_frames_and_inline_shards() {
        use crate::erasure::RECEIVE_BUDGET_MIB;
        let layout = ErasureLayout::new(2, 2, BLOCK_SIZE).unwrap();
        let frame = BITROT_HASH_LEN + layout.shard_size(BLOCK_SIZE);
        // A streamed upload on 4 drives: 2 MiB of blocks, 4 frames of half a block.
        let kib = receive_reservation_kib(BLOCK_SIZE, 4, frame, 4, 0);
        assert_eq!(kib, 2048 + (4 * frame as u64).div_ceil(1024));
        assert_eq!((RECEIVE_BUDGET_MIB << 10) / kib, 15);
        // A 100 KiB inline object also holds its shards for every drive.
        let small = 100 << 10;
        let frame = BITROT_HASH_LEN + layout.shard_size(small);
        let inline = layout.shard_file_size(small as u64) as usize;
        let kib = receive_reservation_kib(small, 4, frame, 4, inline);
        assert_eq!(
            kib,
            ((2 * small + 4 * frame + 4 * inline) as u64).div_ceil(1024)
        );
        assert!(kib < 700, "{kib}");
    }

    #[test]
    fn upload_reservations_bound_memory_and_count() {
        let layout = |data, parity| ErasureLayout::new(data, parity, BLOCK_SIZE).unwrap();
        let reserve = |drives: usize, data, parity, object: u64| {
            upload_reservation_mib(drives, layout(data, parity).shard_file_size(object))
        };
        // 4 drives, 64 MiB: 32 MiB shard files, 3 x 4 MiB buffers each: four at once.
        assert_eq!(reserve(4, 2, 2, 64 << 20), 48);
        // 16 drives, 64 MiB: 5.4 MiB shard files, 3 x 2 MiB each: two at once.
        assert_eq!(reserve(16, 12, 4, 64 << 20), 96);
        // Small uploads still count as a quarter: never more than four at once.
        assert_eq!(reserve(4, 2, 2, 1 << 20), STREAMING_BUDGET_MIB / 4);
        // Unknown size on the widest set: the whole budget, never more (it could not start).
        assert_eq!(
            upload_reservation_mib(16, u64::MAX >> 1),
            STREAMING_BUDGET_MIB
        );
        assert_eq!(
            upload_reservation_mib(32, u64::MAX >> 1),
            STREAMING_BUDGET_MIB
        );
    }
}

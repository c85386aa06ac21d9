//! Multipart uploads of one set.
//!
//! An upload lives in `.minnow.sys/multipart/<sha256(bucket/key)>/<upload-id>/` on every drive:
//! `upload.meta` (an `xl.meta`-format record of the object-to-be: metadata, erasure layout and
//! shard distribution, fixed at creation, and its data directory name), `part.N.meta` per
//! uploaded part, and `<data-dir>/part.N.<stage>` shard files.
//!
//! A part is staged like a PUT into its own `tmp/<stage>` directory, then committed under the
//! upload's part lock: its shard file is renamed into the data directory under a name no other
//! upload of that number uses (`part.N.<stage>`), and `part.N.meta`, which names the stage, is
//! replaced atomically. The meta is the commit point on each drive, so two concurrent uploads
//! of one part number leave each drive with one whole upload (file and meta together), and a
//! crash between the two steps only leaves an unnamed file. Completion runs under the upload's
//! write lock (no part commits meanwhile): on each drive whose `part.N.meta` agrees with the
//! quorum it renames the named file to `part.N`, drops everything else, then commits the data
//! directory as the object's with the same protocol as a PUT, so a completed upload appears at
//! once or not at all. An upload whose data directory already is the object's (a completion
//! interrupted before the upload was removed) completes again without touching the object.

use std::collections::BTreeSet;

use futures::future::join_all;
use futures::StreamExt;
use md5::{Digest, Md5};
use minnow_codec::ErasureLayout;
use minnow_io::format::{new_uuid, parse_uuid};
use minnow_io::xl_meta::{self, ObjectVersion, PartInfo, XlMeta};
use minnow_io::{DriveError, SYS_VOL};
use minnow_net::http::BodyRead;

use super::put::{erasure_info, new_version_id, per_slot_versions, StagePlan};
use super::{agree_on_version, frame_binding, frame_keys, tally, ErasureSet, StagedObject};
use crate::object::{now_ns, ObjectError, ObjectInfo, PutOptions, Versioning, META_STORAGE_CLASS};

/// Smallest part, except the last (S3's rule).
pub const PART_SIZE_MIN: u64 = 5 << 20;
/// Largest part.
pub const PART_SIZE_MAX: u64 = 5 << 30;

/// Part records (`part.N.meta`, one small read per drive each) that ListParts and
/// CompleteMultipartUpload read at once: an upload of 10,000 parts is not read one record after
/// another, nor does it open 10,000 reads on every drive at once.
const PART_RECORD_READS_MAX: usize = 16;

pub(super) const META_BUCKET: &str = "x-minnow-internal-bucket";
pub(super) const META_KEY: &str = "x-minnow-internal-key";

/// One part as ListParts shows it.
#[derive(Debug, Clone)]
pub struct PartListing {
    /// Part number.
    pub number: u32,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// Upload time.
    pub mod_time_ns: i64,
    /// Flexible checksums of the part.
    pub checksums: Vec<(String, String)>,
}

/// One upload as ListMultipartUploads shows it.
#[derive(Debug, Clone)]
pub struct UploadListing {
    /// Key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Creation time.
    pub initiated_ns: i64,
    /// Storage class name.
    pub storage_class: String,
}

fn upload_dir(bucket: &str, key: &str, upload_id: &str) -> String {
    let hash = hex::encode(sha2::Sha256::digest(format!("{bucket}/{key}").as_bytes()));
    format!("multipart/{hash}/{upload_id}")
}

/// Lock name of an upload (`dir` from [`upload_dir`]). SYS_VOL starts with '.', which no
/// bucket name does, so it never meets an object's lock.
pub(super) fn upload_lock(dir: &str) -> String {
    format!("{SYS_VOL}/{dir}")
}

/// Lock name of one part number of an upload.
fn part_lock(dir: &str, number: u32) -> String {
    format!("{SYS_VOL}/{dir}/part.{number}")
}

/// Name of a committed part's shard file in the data directory: `part.N.<stage>`, or `part.N`
/// once a completion renamed it (and for parts recorded without a stage).
fn part_file_name(number: u32, stage: Option<&str>) -> String {
    match stage {
        Some(stage) => format!("part.{number}.{stage}"),
        None => format!("part.{number}"),
    }
}

/// A part as recorded on a read quorum of drives.
struct RecordedPart {
    listing: PartListing,
    /// The staging id naming its shard file.
    stage: Option<String>,
    /// Per slot: this drive's `part.N.meta` is the agreed one.
    agreed: Vec<bool>,
}

impl ErasureSet {
    /// Start an upload; returns its id.
    pub async fn new_multipart(
        &self,
        bucket: &str,
        key: &str,
        options: PutOptions,
    ) -> Result<String, ObjectError> {
        self.require_bucket(bucket).await?;
        let layout = self.plan_layout(options.storage_class)?;
        let distribution = minnow_codec::hash_order(&format!("{bucket}/{key}"), self.drives.len());
        let upload_id = new_uuid();
        let mut meta = options.meta.clone();
        if let Some(class) = options.storage_class {
            if class != crate::object::StorageClass::Standard {
                meta.push((META_STORAGE_CLASS.into(), class.as_str().into()));
            }
        }
        meta.push((META_BUCKET.into(), bucket.into()));
        meta.push((META_KEY.into(), key.into()));
        // Parts bind their frames to the data directory; the completed object keeps the record.
        // Uploads created before binding lack it: their parts stay unbound to the end.
        let data_dir = new_uuid();
        meta.push((xl_meta::META_FRAME_BINDING.into(), data_dir.clone()));
        let template = ObjectVersion {
            version_id: String::new(),
            mod_time_ns: now_ns(),
            size: 0,
            etag: String::new(),
            data_dir: Some(data_dir),
            inline_data: None,
            erasure: erasure_info(&layout, &distribution, 0),
            parts: Vec::new(),
            meta,
            checksums: Vec::new(),
            delete_marker: false,
            tags: options.tags.clone(),
        };
        let written: Vec<bool> = self.drives.iter().map(Option::is_some).collect();
        let versions = per_slot_versions(&template, &distribution, &written, |_| None);
        let dir = upload_dir(bucket, key, &upload_id);
        // Held while the record is half written, so the stale-upload sweep never takes it.
        let _upload = self.locks.write(&upload_lock(&dir)).await?;
        let path = format!("{dir}/upload.meta");
        let results = join_all(self.drives.iter().zip(versions).map(|(d, v)| {
            let d = d.clone();
            let path = path.clone();
            async move {
                let (Some(d), Some(v)) = (d, v) else {
                    return Err(DriveError::Offline);
                };
                let bytes = xl_meta::encode(&XlMeta { versions: vec![v] });
                d.write_all(SYS_VOL, &path, &bytes).await
            }
        }))
        .await;
        let (ok, errors) = tally(&results);
        if ok < layout.write_quorum() {
            return Err(ObjectError::write_quorum(
                ok,
                layout.write_quorum(),
                &errors,
            ));
        }
        Ok(upload_id)
    }

    /// The upload's record, as each drive holds it.
    async fn upload_versions(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<Option<ObjectVersion>>, ObjectError> {
        if parse_uuid(upload_id).is_none() {
            return Err(ObjectError::NoSuchUpload(upload_id.to_string()));
        }
        let path = format!("{}/upload.meta", upload_dir(bucket, key, upload_id));
        let answers = self.read_record_all(&path).await;
        let default_data = self.drives.len() - self.storage.standard_parity;
        match agree_on_version(answers, default_data, bucket, key, None) {
            Ok(v) => Ok(v),
            Err(ObjectError::NoSuchKey { .. }) | Err(ObjectError::NoSuchBucket(_)) => {
                Err(ObjectError::NoSuchUpload(upload_id.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// Stage one part's body.
    pub async fn stage_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: &mut dyn BodyRead,
        size_hint: Option<u64>,
    ) -> Result<StagedObject, ObjectError> {
        if size_hint.is_some_and(|s| s > PART_SIZE_MAX) {
            return Err(ObjectError::InvalidArgument(format!(
                "part larger than {PART_SIZE_MAX} bytes"
            )));
        }
        let versions = self.upload_versions(bucket, key, upload_id).await?;
        let (layout, distribution, data_dir) = upload_layout(&versions)?;
        let binding = versions.iter().flatten().next().and_then(frame_binding);
        let tmp_dir = format!("tmp/{}", new_uuid());
        let file = format!("{tmp_dir}/part.{part_number}");
        let plan = StagePlan {
            layout,
            distribution: distribution.clone(),
            file: Some(&file),
            size_hint: size_hint.or(Some(PART_SIZE_MAX)),
            keys: frame_keys(binding, part_number, layout.total()),
        };
        let staged = match self.stage_shards(&plan, body).await {
            Ok(s) => s,
            Err(e) => {
                self.remove_tmp(&tmp_dir).await;
                return Err(e);
            }
        };
        let written = staged
            .written
            .iter()
            .zip(&versions)
            .map(|(w, v)| *w && v.is_some())
            .collect();
        Ok(StagedObject {
            tmp_dir,
            data_dir: Some(data_dir),
            version_id: String::new(),
            binding: None,
            layout,
            distribution,
            size: staged.size,
            inline: Vec::new(),
            written,
            options: PutOptions::default(),
            md5: staged.md5,
        })
    }

    /// Move a staged part into its upload and record it (see the module header).
    #[allow(clippy::too_many_arguments)]
    pub async fn commit_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        staged: StagedObject,
        etag: String,
        checksums: Vec<(String, String)>,
    ) -> Result<PartListing, ObjectError> {
        let dir = upload_dir(bucket, key, upload_id);
        let result = async {
            let _upload = self.locks.read(&upload_lock(&dir)).await?;
            let _part = self.locks.write(&part_lock(&dir, part_number)).await?;
            // Completed or aborted while the body streamed: nothing may recreate its directory.
            self.upload_versions(bucket, key, upload_id).await?;
            self.publish_part(&dir, part_number, &staged, etag, checksums)
                .await
        }
        .await;
        self.remove_tmp(&staged.tmp_dir).await;
        result
    }

    /// Under the part lock: rename the staged shard file to `part.N.<stage>`, replace
    /// `part.N.meta` (the commit point), then drop the file the previous meta named.
    async fn publish_part(
        &self,
        dir: &str,
        part_number: u32,
        staged: &StagedObject,
        etag: String,
        checksums: Vec<(String, String)>,
    ) -> Result<PartListing, ObjectError> {
        let data_dir = staged.data_dir.clone().unwrap_or_default();
        let stage = staged
            .tmp_dir
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let part = PartListing {
            number: part_number,
            size: staged.size,
            etag: etag.clone(),
            mod_time_ns: now_ns(),
            checksums: checksums.clone(),
        };
        let record = ObjectVersion {
            version_id: String::new(),
            mod_time_ns: part.mod_time_ns,
            size: staged.size,
            etag: etag.clone(),
            data_dir: Some(stage.clone()),
            inline_data: None,
            erasure: erasure_info(&staged.layout, &staged.distribution, 0),
            parts: vec![PartInfo {
                number: part_number,
                size: staged.size,
                etag,
                checksums,
            }],
            meta: Vec::new(),
            checksums: Vec::new(),
            delete_marker: false,
            tags: Vec::new(),
        };
        let bytes = xl_meta::encode(&XlMeta {
            versions: vec![record],
        });
        let src = format!("{}/part.{part_number}", staged.tmp_dir);
        let shard_dir = format!("{dir}/{data_dir}");
        let dst = format!("{shard_dir}/{}", part_file_name(part_number, Some(&stage)));
        let meta_file = format!("{dir}/part.{part_number}.meta");
        let results = join_all(self.drives.iter().enumerate().map(|(slot, d)| {
            let d = d.clone();
            let written = staged.written[slot];
            let (src, dst, meta_file, bytes) = (&src, &dst, &meta_file, &bytes);
            let shard_dir = &shard_dir;
            async move {
                let Some(d) = d.filter(|_| written) else {
                    return Err(DriveError::Offline);
                };
                let previous = d
                    .read_all(SYS_VOL, meta_file)
                    .await
                    .ok()
                    .and_then(|b| xl_meta::decode(&b).ok())
                    .and_then(|m| m.versions.into_iter().next());
                d.rename(SYS_VOL, src, SYS_VOL, dst).await?;
                d.write_all(SYS_VOL, meta_file, bytes).await?;
                if let Some(old) = previous {
                    let old_file = part_file_name(part_number, old.data_dir.as_deref());
                    match d
                        .delete(SYS_VOL, &format!("{shard_dir}/{old_file}"), false)
                        .await
                    {
                        Ok(()) | Err(DriveError::FileNotFound) => {}
                        Err(e) => tracing::warn!(error = %e, "replaced part file left behind"),
                    }
                }
                Ok(())
            }
        }))
        .await;
        let (ok, errors) = tally(&results);
        let quorum = staged.layout.write_quorum();
        if ok < quorum {
            return Err(ObjectError::write_quorum(ok, quorum, &errors));
        }
        Ok(part)
    }

    /// The parts recorded on a read quorum of drives, by number.
    async fn recorded_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        versions: &[Option<ObjectVersion>],
    ) -> Result<Vec<RecordedPart>, ObjectError> {
        let dir = upload_dir(bucket, key, upload_id);
        let (layout, _, _) = upload_layout(versions)?;
        let listings = self
            .on_all(|_, d| {
                let dir = dir.clone();
                async move { d.list_dir(SYS_VOL, &dir).await }
            })
            .await;
        let mut numbers: BTreeSet<u32> = BTreeSet::new();
        for names in listings.iter().flatten() {
            for name in names {
                if let Some(n) = name
                    .strip_prefix("part.")
                    .and_then(|s| s.strip_suffix(".meta"))
                    .and_then(|s| s.parse().ok())
                {
                    numbers.insert(n);
                }
            }
        }
        // Part records are read concurrently (bounded: each read touches every drive), in part
        // number order.
        let reads = futures::stream::iter(numbers)
            .map(|n| {
                let path = format!("{dir}/part.{n}.meta");
                async move { (n, self.read_record_all(&path).await) }
            })
            .buffered(PART_RECORD_READS_MAX)
            .collect::<Vec<_>>()
            .await;
        let mut parts = Vec::new();
        for (n, answers) in reads {
            if let Ok(agreed) = agree_on_version(answers, layout.data, bucket, key, None) {
                if let Some(v) = agreed.iter().flatten().next() {
                    let p = v.parts.first().cloned().unwrap_or(PartInfo {
                        number: n,
                        size: v.size,
                        etag: v.etag.clone(),
                        checksums: Vec::new(),
                    });
                    parts.push(RecordedPart {
                        listing: PartListing {
                            number: n,
                            size: p.size,
                            etag: p.etag,
                            mod_time_ns: v.mod_time_ns,
                            checksums: p.checksums,
                        },
                        stage: v.data_dir.clone(),
                        agreed: agreed.iter().map(Option::is_some).collect(),
                    });
                }
            }
        }
        Ok(parts)
    }

    /// ListParts: parts after `marker`, at most `max`; and whether more follow.
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        marker: u32,
        max: usize,
    ) -> Result<(Vec<PartListing>, bool, String), ObjectError> {
        let versions = self.upload_versions(bucket, key, upload_id).await?;
        let parts = self
            .recorded_parts(bucket, key, upload_id, &versions)
            .await?;
        let class = versions
            .iter()
            .flatten()
            .next()
            .and_then(|v| v.meta_value(META_STORAGE_CLASS))
            .unwrap_or("STANDARD")
            .to_string();
        let mut after: Vec<PartListing> = parts
            .into_iter()
            .map(|p| p.listing)
            .filter(|p| p.number > marker)
            .collect();
        let truncated = after.len() > max;
        after.truncate(max);
        Ok((after, truncated, class))
    }

    /// CompleteMultipartUpload with the (number, ETag) list the client sent. The object gets
    /// a version id as the bucket's `versioning` says now (S3 decides at completion).
    pub async fn complete_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        requested: &[(u32, String)],
        versioning: Versioning,
    ) -> Result<ObjectInfo, ObjectError> {
        if requested.is_empty() {
            return Err(ObjectError::InvalidArgument(
                "CompleteMultipartUpload needs at least one part".into(),
            ));
        }
        if requested.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(ObjectError::InvalidPartOrder);
        }
        let dir = upload_dir(bucket, key, upload_id);
        let _upload = self.locks.write(&upload_lock(&dir)).await?;
        let versions = self.upload_versions(bucket, key, upload_id).await?;
        let (layout, distribution, data_dir) = upload_layout(&versions)?;
        if let Some(done) = self.completed_version(bucket, key, &data_dir).await {
            tracing::info!(
                bucket,
                key,
                upload_id,
                "upload was completed before; removing it"
            );
            self.remove_upload(&dir).await;
            return Ok(ObjectInfo::from_version(bucket, key, &done));
        }
        let recorded = self
            .recorded_parts(bucket, key, upload_id, &versions)
            .await?;
        let mut chosen = Vec::with_capacity(requested.len());
        let mut md5s = Md5::new();
        for (i, (number, etag)) in requested.iter().enumerate() {
            let want = etag.trim().trim_matches('"');
            let Some(p) = recorded
                .iter()
                .find(|p| p.listing.number == *number && p.listing.etag == want)
            else {
                return Err(ObjectError::InvalidPart(*number));
            };
            if i + 1 < requested.len() && p.listing.size < PART_SIZE_MIN {
                return Err(ObjectError::EntityTooSmall {
                    part: *number,
                    size: p.listing.size,
                });
            }
            let raw =
                hex::decode(&p.listing.etag).map_err(|_| ObjectError::InvalidPart(*number))?;
            md5s.update(&raw);
            chosen.push(p);
        }
        let parts: Vec<PartInfo> = chosen
            .iter()
            .map(|p| PartInfo {
                number: p.listing.number,
                size: p.listing.size,
                etag: p.listing.etag.clone(),
                checksums: p.listing.checksums.clone(),
            })
            .collect();
        let etag = format!("{}-{}", hex::encode(md5s.finalize()), parts.len());
        self.assemble_parts(&dir, &data_dir, &chosen).await;

        let reference = versions
            .iter()
            .flatten()
            .next()
            .ok_or_else(|| ObjectError::NoSuchUpload(upload_id.to_string()))?;
        let meta: Vec<(String, String)> = reference
            .meta
            .iter()
            .filter(|(k, _)| k != META_BUCKET && k != META_KEY)
            .cloned()
            .collect();
        let template = ObjectVersion {
            version_id: new_version_id(versioning),
            mod_time_ns: now_ns(),
            size: parts.iter().map(|p| p.size).sum(),
            etag,
            data_dir: Some(data_dir.clone()),
            inline_data: None,
            erasure: erasure_info(&layout, &distribution, 0),
            parts,
            meta,
            checksums: Vec::new(),
            delete_marker: false,
            tags: reference.tags.clone(),
        };
        let written: Vec<bool> = versions.iter().map(Option::is_some).collect();
        let slot_versions = per_slot_versions(&template, &distribution, &written, |_| None);
        let src = format!("{dir}/{data_dir}");
        self.commit_version(bucket, key, &src, &slot_versions, layout.write_quorum())
            .await?;
        self.remove_upload(&dir).await;
        Ok(ObjectInfo::from_version(bucket, key, &template))
    }

    /// The object's current version if its data directory is `data_dir`: the upload owning
    /// that directory was committed already.
    pub(super) async fn completed_version(
        &self,
        bucket: &str,
        key: &str,
        data_dir: &str,
    ) -> Option<ObjectVersion> {
        let answers = self.read_version_all(bucket, key, None, false).await;
        let default_data = self.drives.len() - self.storage.standard_parity;
        let agreed = agree_on_version(answers, default_data, bucket, key, None).ok()?;
        agreed
            .into_iter()
            .flatten()
            .next()
            .filter(|v| v.data_dir.as_deref() == Some(data_dir))
    }

    /// Leave exactly the chosen parts, as `part.N`, in the data directory of every drive: a
    /// drive whose `part.N.meta` is not the agreed one keeps no shard of that part (a stale
    /// file there would pass its own bitrot check and mix two uploads).
    async fn assemble_parts(&self, dir: &str, data_dir: &str, chosen: &[&RecordedPart]) {
        let shard_dir = format!("{dir}/{data_dir}");
        let results = self
            .on_all(|slot, d| {
                let shard_dir = shard_dir.clone();
                async move {
                    let names = match d.list_dir(SYS_VOL, &shard_dir).await {
                        Ok(names) => names,
                        Err(DriveError::FileNotFound) => Vec::new(),
                        Err(e) => return Err(e),
                    };
                    let mut keep = BTreeSet::new();
                    for p in chosen.iter().filter(|p| p.agreed[slot]) {
                        let n = p.listing.number;
                        let named = part_file_name(n, p.stage.as_deref());
                        let done = part_file_name(n, None);
                        if named != done && names.contains(&named) {
                            d.rename(
                                SYS_VOL,
                                &format!("{shard_dir}/{named}"),
                                SYS_VOL,
                                &format!("{shard_dir}/{done}"),
                            )
                            .await?;
                            keep.insert(done);
                        } else if names.contains(&done) {
                            // Renamed by a completion that was interrupted: with this drive's
                            // meta agreeing, it is the named upload's file.
                            keep.insert(done);
                        }
                    }
                    for name in names.iter().filter(|n| !keep.contains(*n)) {
                        let path = format!("{shard_dir}/{}", name.trim_end_matches('/'));
                        d.delete(SYS_VOL, &path, true).await?;
                    }
                    Ok(())
                }
            })
            .await;
        for (slot, r) in results.iter().enumerate() {
            if let Err(e) = r {
                tracing::warn!(set = self.index.0, slot, error = %e, "assembling parts failed on a drive");
            }
        }
    }

    pub(super) async fn remove_upload(&self, dir: &str) {
        self.on_all(|_, d| {
            let dir = dir.to_string();
            async move { d.delete(SYS_VOL, &dir, true).await }
        })
        .await;
    }

    /// AbortMultipartUpload.
    pub async fn abort_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), ObjectError> {
        let dir = upload_dir(bucket, key, upload_id);
        let _upload = self.locks.write(&upload_lock(&dir)).await?;
        self.upload_versions(bucket, key, upload_id).await?;
        self.remove_upload(&dir).await;
        Ok(())
    }

    /// Uploads in progress in `bucket` whose key starts with `prefix`, sorted by key then time.
    pub async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<UploadListing>, ObjectError> {
        self.require_bucket(bucket).await?;
        let hashes = self
            .on_all(|_, d| async move { d.list_dir(SYS_VOL, "multipart").await })
            .await;
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for names in hashes.into_iter().flatten() {
            for h in names {
                dirs.insert(h.trim_end_matches('/').to_string());
            }
        }
        let mut out = Vec::new();
        for h in dirs {
            let ids = self
                .on_all(|_, d| {
                    let h = h.clone();
                    async move { d.list_dir(SYS_VOL, &format!("multipart/{h}")).await }
                })
                .await;
            let mut uploads: BTreeSet<String> = BTreeSet::new();
            for names in ids.into_iter().flatten() {
                uploads.extend(
                    names
                        .into_iter()
                        .map(|n| n.trim_end_matches('/').to_string()),
                );
            }
            for id in uploads {
                let answers = self
                    .read_record_all(&format!("multipart/{h}/{id}/upload.meta"))
                    .await;
                // The same agreement AbortMultipartUpload asks for: listed iff abortable.
                let default_data = self.drives.len() - self.storage.standard_parity;
                let Some(v) = agree_on_version(answers, default_data, bucket, "", None)
                    .ok()
                    .and_then(|agreed| agreed.into_iter().flatten().next())
                else {
                    continue;
                };
                if v.meta_value(META_BUCKET) != Some(bucket) {
                    continue;
                }
                let Some(key) = v.meta_value(META_KEY).map(str::to_string) else {
                    continue;
                };
                if !key.starts_with(prefix) {
                    continue;
                }
                out.push(UploadListing {
                    key,
                    upload_id: id,
                    initiated_ns: v.mod_time_ns,
                    storage_class: v
                        .meta_value(META_STORAGE_CLASS)
                        .unwrap_or("STANDARD")
                        .into(),
                });
            }
        }
        out.sort_by(|a, b| {
            a.key
                .as_bytes()
                .cmp(b.key.as_bytes())
                .then(a.initiated_ns.cmp(&b.initiated_ns))
        });
        Ok(out)
    }
}

/// Layout, distribution and data directory fixed when the upload was created.
fn upload_layout(
    versions: &[Option<ObjectVersion>],
) -> Result<(ErasureLayout, Vec<usize>, String), ObjectError> {
    let v = versions
        .iter()
        .flatten()
        .next()
        .ok_or_else(|| ObjectError::Internal("upload record missing".into()))?;
    let e = &v.erasure;
    let layout = ErasureLayout::new(e.data.into(), e.parity.into(), e.block_size as usize)
        .map_err(|err| ObjectError::Internal(format!("upload layout: {err}")))?;
    let distribution = e.distribution.iter().map(|&d| usize::from(d)).collect();
    let data_dir = v
        .data_dir
        .clone()
        .ok_or_else(|| ObjectError::Internal("upload without data directory".into()))?;
    Ok((layout, distribution, data_dir))
}

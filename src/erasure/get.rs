//! Reading objects.
//!
//! `open_object` takes the object's read lock and reads `xl.meta` from every drive, keeping the
//! version a read quorum agrees on. The first `read_chunk` opens the shard files of its part on
//! every drive (parity too, so a shard that fails later is replaced without reopening) and only
//! then releases the lock: from there on the reader holds open files, which Linux keeps readable
//! after a commit or delete moves the version's data directory away. So a slow or stalled
//! client never delays a writer, and still reads the version it opened to its end. A read of a
//! later part of a multipart object takes the read lock again to open that part; if the version
//! is gone by then, the read fails (a cut connection, never bytes of another version).
//!
//! `read_chunk` serves a byte range a batch of blocks at a time: it reads the data shards
//! first, verifies every block's HighwayHash-256, and on a missing, short or corrupt shard reads
//! parity shards instead and rebuilds the block. Bytes that fail their checksum are never
//! returned: if fewer than `data` good shards remain, the read fails.

use futures::future::join_all;
use minnow_codec::{join_data, Decoder, ErasureLayout, FrameKey, BITROT_HASH_LEN};
use minnow_io::xl_meta::{ObjectVersion, PartInfo};
use minnow_io::{DriveError, FileReader};

use super::{agree_on_version, frame_binding, frame_keys, object_dir, ErasureSet};
use crate::lock::LockGuard;
use crate::object::{ObjectError, ObjectInfo};

/// Blocks read per batch: 4 MiB of object data with 1 MiB blocks.
const BATCH_BLOCKS: u64 = 4;

/// An open object: its agreed version and, once a part is read, that part's open shard files.
/// Serves byte ranges.
pub struct ObjectReader<'a> {
    set: &'a ErasureSet,
    bucket: String,
    /// What the object is.
    pub info: ObjectInfo,
    versions: Vec<Option<ObjectVersion>>,
    /// What the shard frames are bound to; None for a version written before binding.
    binding: Option<String>,
    layout: ErasureLayout,
    decoder: Decoder,
    /// The read lock, held from `open_object` until the first part's shard files are open.
    guard: Option<LockGuard>,
    /// The part whose shard files are open, and per slot its file (or why it is not there).
    open_part: Option<(u32, Vec<ShardFile>)>,
}

/// One drive's shard file of a part, opened, or why it could not be.
type ShardFile = Result<Box<dyn FileReader>, DriveError>;

impl ErasureSet {
    /// Open a version of an object for reading (`None`: the latest; `Some("")`: the null
    /// version); see the module header.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectReader<'_>, ObjectError> {
        let guard = self.locks.read(&format!("{bucket}/{key}")).await?;
        let (info, versions, layout) = self.agreed(bucket, key, version_id, true).await?;
        let binding = versions
            .iter()
            .flatten()
            .next()
            .and_then(frame_binding)
            .map(str::to_string);
        Ok(ObjectReader {
            set: self,
            bucket: bucket.to_string(),
            info,
            versions,
            binding,
            layout,
            decoder: Decoder::new(layout),
            guard: Some(guard),
            open_part: None,
        })
    }

    /// Metadata of a version (`None`: the latest).
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectInfo, ObjectError> {
        let _guard = self.locks.read(&format!("{bucket}/{key}")).await?;
        Ok(self.agreed(bucket, key, version_id, false).await?.0)
    }

    /// The version a read quorum agrees on, with each drive's copy. Call under the object's
    /// lock. A delete marker is [`ObjectError::DeleteMarker`].
    pub(super) async fn agreed_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Result<Vec<Option<ObjectVersion>>, ObjectError> {
        let answers = self
            .read_version_all(bucket, key, version_id, with_data)
            .await;
        let default_data = self.drives.len() - self.storage.standard_parity;
        let versions = agree_on_version(answers, default_data, bucket, key, version_id)?;
        let reference = versions
            .iter()
            .flatten()
            .next()
            .ok_or_else(|| ObjectError::Internal("agreed version missing".into()))?;
        if reference.delete_marker {
            return Err(ObjectError::DeleteMarker {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version_id: reference.version_id.clone(),
                by_id: version_id.is_some(),
            });
        }
        Ok(versions)
    }

    async fn agreed(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Result<(ObjectInfo, Vec<Option<ObjectVersion>>, ErasureLayout), ObjectError> {
        let versions = self
            .agreed_version(bucket, key, version_id, with_data)
            .await?;
        let reference = versions
            .iter()
            .flatten()
            .next()
            .ok_or_else(|| ObjectError::Internal("agreed version missing".into()))?;
        let e = &reference.erasure;
        let layout = ErasureLayout::new(e.data.into(), e.parity.into(), e.block_size as usize)
            .map_err(|err| ObjectError::Internal(format!("xl.meta layout: {err}")))?;
        if layout.total() != self.drives.len() {
            return Err(ObjectError::Internal(format!(
                "xl.meta has {} shards for a set of {} drives",
                layout.total(),
                self.drives.len()
            )));
        }
        let info = ObjectInfo::from_version(bucket, key, reference);
        Ok((info, versions, layout))
    }
}

impl ObjectReader<'_> {
    /// Up to `max_len` bytes starting at `offset` (< size); at most one batch of blocks of one
    /// part, so callers loop. Never returns an empty chunk for a valid offset.
    pub async fn read_chunk(&mut self, offset: u64, max_len: u64) -> Result<Vec<u8>, ObjectError> {
        assert!(
            offset < self.info.size && max_len > 0,
            "read_chunk past the end"
        );
        let (part, part_offset) = locate_part(&self.info.parts, offset)
            .ok_or_else(|| ObjectError::Internal("offset beyond the parts".into()))?;
        // Inline objects are already in memory (their xl.meta): only drive reads take a slot.
        let set = self.set;
        let inline = self
            .versions
            .iter()
            .flatten()
            .all(|v| v.inline_data.is_some());
        match inline {
            true => self.guard = None,
            false => self.open_part_files(&part).await?,
        }
        // Inline objects have no files: every slot answers from its xl.meta copy.
        let files = self.open_part.as_ref().map_or(&[][..], |(_, files)| files);
        let _slot = match inline {
            true => None,
            false => Some(
                crate::lock::acquire_cancel_safe(&set.read_slots, 1)
                    .await
                    .map_err(|e| ObjectError::Internal(format!("read slots: {e}")))?,
            ),
        };
        let layout = self.layout;
        let bs = layout.block_size as u64;
        let block_count = layout.block_count(part.size);
        let first = part_offset / bs;
        let wanted_end = (part_offset + max_len).min(part.size);
        let last_excl = wanted_end
            .div_ceil(bs)
            .min(first + BATCH_BLOCKS)
            .min(block_count);
        let start = layout.frame_offset(first);
        let end = if last_excl == block_count {
            layout.shard_file_size(part.size)
        } else {
            layout.frame_offset(last_excl)
        };
        let block_len = |b: u64| -> usize { (part.size - b * bs).min(bs) as usize };

        let shards = self
            .read_good_shards(
                files,
                part.number,
                start,
                end,
                &Frames {
                    layout: &layout,
                    first,
                    last_excl,
                    block_len: &block_len,
                },
            )
            .await?;

        let data = layout.data;
        let all_data = shards[..data].iter().all(Option::is_some);
        if !all_data {
            tracing::warn!(
                bucket = %self.bucket, key = %self.info.key,
                "shards missing or corrupt, rebuilt from parity; object needs healing"
            );
        }
        let mut out = Vec::with_capacity(((last_excl - first) * bs) as usize);
        let mut rel = 0usize;
        for b in first..last_excl {
            let len = block_len(b);
            let shard_size = layout.shard_size(len);
            if all_data {
                // Healthy path: the block is the data shards back to back, no decode, one copy.
                let mut remaining = len;
                for shard in shards[..data].iter().flatten() {
                    let take = remaining.min(shard_size);
                    let at = rel + BITROT_HASH_LEN;
                    out.extend_from_slice(&shard[at..at + take]);
                    remaining -= take;
                }
            } else {
                let mut block: Vec<Option<Vec<u8>>> = shards
                    .iter()
                    .map(|s| {
                        s.as_ref().map(|bytes| {
                            let at = rel + BITROT_HASH_LEN;
                            bytes[at..at + shard_size].to_vec()
                        })
                    })
                    .collect();
                self.decoder
                    .reconstruct_data(&mut block, shard_size)
                    .map_err(|e| ObjectError::Internal(format!("reconstruct: {e}")))?;
                join_data(&block, data, len, &mut out);
            }
            rel += BITROT_HASH_LEN + shard_size;
            glommio::yield_if_needed().await;
        }
        let skip = (part_offset - first * bs) as usize;
        let take = (wanted_end - part_offset) as usize;
        out.truncate((skip + take).min(out.len()));
        out.drain(..skip.min(out.len())); // empty for aligned reads: no copy then
        Ok(out)
    }

    /// Per shard index, the verified bytes `[start, end)` of its shard file (from `files`, the
    /// part's open files), for at least `data` shards (data shards preferred). Missing or corrupt
    /// shards are None.
    async fn read_good_shards(
        &self,
        files: &[ShardFile],
        part_number: u32,
        start: u64,
        end: u64,
        frames: &Frames<'_>,
    ) -> Result<Vec<Option<Vec<u8>>>, ObjectError> {
        let layout = self.layout;
        let total = layout.total();
        // shard index -> slot holding it
        let mut slot_of = vec![None; total];
        for (slot, v) in self.versions.iter().enumerate() {
            if let Some(v) = v {
                let idx = usize::from(v.erasure.index);
                if idx < total {
                    slot_of[idx] = Some(slot);
                }
            }
        }
        let keys = frame_keys(self.binding.as_deref(), part_number, total);
        let mut shards: Vec<Option<Vec<u8>>> = vec![None; total];
        let mut errors: Vec<DriveError> = Vec::new();
        let mut next_candidate = 0usize;
        let mut good = 0usize;
        while good < layout.data && next_candidate < total {
            let need = layout.data - good;
            let mut batch = Vec::new();
            while batch.len() < need && next_candidate < total {
                if let Some(slot) = slot_of[next_candidate] {
                    batch.push((next_candidate, slot));
                }
                next_candidate += 1;
            }
            let reads = join_all(
                batch
                    .iter()
                    .map(|&(_, slot)| self.read_shard_range(files, slot, start, end)),
            )
            .await;
            for ((shard, slot), r) in batch.into_iter().zip(reads) {
                match r.and_then(|bytes| {
                    frames
                        .verify(&bytes, &keys, shard)
                        .map(|()| bytes)
                        .map_err(|reason| DriveError::Corrupt {
                            path: self.shard_path(slot, part_number),
                            reason,
                        })
                }) {
                    Ok(bytes) => {
                        shards[shard] = Some(bytes);
                        good += 1;
                    }
                    Err(e) => {
                        tracing::warn!(
                            bucket = %self.bucket, key = %self.info.key, slot,
                            drive = self.set.drives[slot].as_ref().map_or("offline", |d| d.endpoint()),
                            error = %e, "shard unreadable"
                        );
                        errors.push(e);
                    }
                }
            }
        }
        if good < layout.data {
            return Err(ObjectError::read_quorum(good, layout.data, &errors));
        }
        Ok(shards)
    }

    /// Open the shard files of `part` on every drive, under the read lock (taken again for a
    /// later part), then release the lock; see the module header.
    async fn open_part_files(&mut self, part: &PartInfo) -> Result<(), ObjectError> {
        if self
            .open_part
            .as_ref()
            .is_some_and(|(n, _)| *n == part.number)
        {
            return Ok(());
        }
        self.open_part = None; // the previous part's files close here
        let guard = match self.guard.take() {
            Some(guard) => guard,
            None => {
                let name = format!("{}/{}", self.bucket, self.info.key);
                self.set.locks.read(&name).await?
            }
        };
        let dir = object_dir(&self.info.key);
        let files = join_all(self.versions.iter().enumerate().map(|(slot, version)| {
            let path = version.as_ref().map(|v| {
                v.data_dir
                    .as_ref()
                    .map(|dd| format!("{dir}/{dd}/part.{}", part.number))
            });
            let drive = self.set.drives[slot].clone();
            let bucket = self.bucket.as_str();
            let meta = super::meta_path(&self.info.key);
            async move {
                let path = match path {
                    None => return Err(DriveError::FileNotFound),
                    Some(None) => {
                        return Err(DriveError::Corrupt {
                            path: meta,
                            reason: "no data directory and no inline data".into(),
                        })
                    }
                    Some(Some(path)) => path,
                };
                drive
                    .ok_or(DriveError::Offline)?
                    .open_file(bucket, &path)
                    .await
            }
        }))
        .await;
        drop(guard);
        self.open_part = Some((part.number, files));
        Ok(())
    }

    async fn read_shard_range(
        &self,
        files: &[ShardFile],
        slot: usize,
        start: u64,
        end: u64,
    ) -> Result<Vec<u8>, DriveError> {
        let version = self.versions[slot]
            .as_ref()
            .ok_or(DriveError::FileNotFound)?;
        let len = (end - start) as usize;
        if let Some(inline) = &version.inline_data {
            return inline
                .get(start as usize..end as usize)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| DriveError::Corrupt {
                    path: super::meta_path(&self.info.key),
                    reason: format!("inline shard has {} bytes, need {end}", inline.len()),
                });
        }
        match files.get(slot) {
            Some(Ok(file)) => file.read_at(start, len).await,
            Some(Err(e)) => Err(e.clone()),
            None => Err(DriveError::FileNotFound),
        }
    }

    /// Where the drive in `slot` keeps its shard of `part`, inside the bucket: the part file, or
    /// the `xl.meta` of an inline object.
    fn shard_path(&self, slot: usize, part: u32) -> String {
        let data_dir = self.versions[slot]
            .as_ref()
            .and_then(|v| v.data_dir.as_deref());
        match data_dir {
            Some(data_dir) => format!("{}/{data_dir}/part.{part}", object_dir(&self.info.key)),
            None => super::meta_path(&self.info.key),
        }
    }
}

/// The block frames of one read: blocks `first..last_excl` of a part.
struct Frames<'a> {
    layout: &'a ErasureLayout,
    first: u64,
    last_excl: u64,
    block_len: &'a dyn Fn(u64) -> usize,
}

impl Frames<'_> {
    /// Check every frame in `bytes` against the key of shard `shard` (`keys` holds every shard's
    /// key). A frame that verifies under another shard's key is named as misplaced: a shard file
    /// moved to the wrong drive or slot, not decay. The error is the reason.
    fn verify(&self, bytes: &[u8], keys: &[FrameKey], shard: usize) -> Result<(), String> {
        let mut rel = 0usize;
        for b in self.first..self.last_excl {
            let shard_size = self.layout.shard_size((self.block_len)(b));
            let frame = bytes
                .get(rel..rel + BITROT_HASH_LEN + shard_size)
                .ok_or_else(|| format!("shard short at block {b}"))?;
            let (hash, data) = frame.split_at(BITROT_HASH_LEN);
            if keys[shard].verify(b, hash, data).is_err() {
                return Err(
                    match keys.iter().position(|k| k.verify(b, hash, data).is_ok()) {
                        Some(actual) => format!(
                            "misplaced shard: block {b} belongs to shard {actual}, this drive's \
                             xl.meta says shard {shard}"
                        ),
                        None => format!("bitrot hash mismatch in block {b}"),
                    },
                );
            }
            rel += BITROT_HASH_LEN + shard_size;
        }
        Ok(())
    }
}

/// The part holding object byte `offset`, and the offset inside it.
fn locate_part(parts: &[PartInfo], offset: u64) -> Option<(PartInfo, u64)> {
    let mut start = 0u64;
    for p in parts {
        if offset < start + p.size {
            return Some((p.clone(), offset - start));
        }
        start += p.size;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u32, size: u64) -> PartInfo {
        PartInfo {
            number,
            size,
            etag: String::new(),
            checksums: Vec::new(),
        }
    }

    /// Two blocks of shard `shard`'s file (2+2, 1 KiB blocks), framed with `keys`.
    fn shard_file(keys: &[FrameKey], shard: usize, layout: &ErasureLayout) -> Vec<u8> {
        let mut file = Vec::new();
        for block in 0..2u64 {
            let bytes = vec![block as u8 + 10 * shard as u8; layout.shard_size(1024)];
            file.extend_from_slice(&keys[shard].hash(block, &bytes));
            file.extend_from_slice(&bytes);
        }
        file
    }

    fn verify(bytes: &[u8], keys: &[FrameKey], shard: usize) -> Result<(), String> {
        let layout = ErasureLayout::new(2, 2, 1024).unwrap();
        let frames = Frames {
            layout: &layout,
            first: 0,
            last_excl: 2,
            block_len: &|_| 1024,
        };
        frames.verify(bytes, keys, shard)
    }

    #[test]
    fn frames_verify_in_place_and_name_a_misplaced_shard() {
        let layout = ErasureLayout::new(2, 2, 1024).unwrap();
        let keys = frame_keys(Some("0b1c2d3e-4f50-4617-8899-aabbccddeeff"), 1, 4);
        let shard1 = shard_file(&keys, 1, &layout);
        assert_eq!(verify(&shard1, &keys, 1), Ok(()));
        let err = verify(&shard1, &keys, 0).unwrap_err();
        assert!(
            err.contains("misplaced shard") && err.contains("belongs to shard 1"),
            "{err}"
        );
        // Blocks swapped: each is in the right file but the wrong place; not another shard's.
        let frame = shard1.len() / 2;
        let swapped = [&shard1[frame..], &shard1[..frame]].concat();
        let err = verify(&swapped, &keys, 1).unwrap_err();
        assert!(err.contains("bitrot hash mismatch in block 0"), "{err}");
        // Another version's shard 1 is not this version's.
        let other = frame_keys(Some("0b1c2d3e-4f50-4617-8899-aabbccddeef0"), 1, 4);
        let err = verify(&shard_file(&other, 1, &layout), &keys, 1).unwrap_err();
        assert!(err.contains("bitrot hash mismatch"), "{err}");
    }

    #[test]
    fn unbound_frames_verify_as_before() {
        let layout = ErasureLayout::new(2, 2, 1024).unwrap();
        let keys = frame_keys(None, 1, 4);
        // Frames hashed the old way: minnow_codec::bitrot_hash of each block.
        let mut file = Vec::new();
        for block in 0..2u8 {
            let bytes = vec![block; layout.shard_size(1024)];
            file.extend_from_slice(&minnow_codec::bitrot_hash(&bytes));
            file.extend_from_slice(&bytes);
        }
        assert_eq!(verify(&file, &keys, 3), Ok(()));
        file[40] ^= 1;
        assert!(verify(&file, &keys, 3)
            .unwrap_err()
            .contains("bitrot hash mismatch"));
    }

    #[test]
    fn locate_part_walks_sizes() {
        let parts = [part(1, 10), part(3, 5), part(4, 1)];
        assert_eq!(
            locate_part(&parts, 0).map(|(p, o)| (p.number, o)),
            Some((1, 0))
        );
        assert_eq!(
            locate_part(&parts, 9).map(|(p, o)| (p.number, o)),
            Some((1, 9))
        );
        assert_eq!(
            locate_part(&parts, 10).map(|(p, o)| (p.number, o)),
            Some((3, 0))
        );
        assert_eq!(
            locate_part(&parts, 15).map(|(p, o)| (p.number, o)),
            Some((4, 0))
        );
        assert!(locate_part(&parts, 16).is_none());
    }
}

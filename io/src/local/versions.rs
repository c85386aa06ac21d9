//! The version calls of [`LocalDrive`]: each reads the object's own `xl.meta`, applies one
//! change with the raw-copy operations of `xl_meta.rs`, and commits the new file with the
//! drive's commit protocol (stage → barrier → publish → barrier, module header). The object
//! layer holds the key's lock around every call, so read-apply-replace needs no lock here.

use std::fs;
use std::path::{Path, PathBuf};

use minnow_codec::{ErasureLayout, FrameKey, BITROT_HASH_LEN};

use super::{
    blocking, io_error, is_missing, read_small, remove_trash, run_blocking, LocalDrive,
    READ_CHUNK_BYTES,
};
use crate::drive::{check_path, check_vol, PartState};
use crate::xl_meta::{self, ObjectVersion, FILE_NAME, FIRST_READ_BYTES, META_FRAME_BINDING};
use crate::{DriveError, FileReader, SYS_TRASH_DIR};

/// Where one object lives on the drive.
pub(super) struct ObjectPaths {
    pub(super) vol_dir: PathBuf,
    /// The object directory, relative to the volume.
    pub(super) rel: String,
    pub(super) dir: PathBuf,
    pub(super) meta: PathBuf,
}

/// Put the file's real path into a Corrupt error from `xl_meta` (which only knows "xl.meta").
fn located(meta: &Path) -> impl Fn(DriveError) -> DriveError + '_ {
    move |e| match e {
        DriveError::Corrupt { reason, .. } => DriveError::Corrupt {
            path: meta.display().to_string(),
            reason,
        },
        other => other,
    }
}

/// The first bytes of an `xl.meta` that hold its whole metadata section: one read of
/// [`FIRST_READ_BYTES`], and a second one for the rest of a longer section. A file that is not
/// an `xl.meta` is returned as read (its parse reports it).
pub(super) async fn read_metadata_prefix(path: &Path) -> std::io::Result<Vec<u8>> {
    use super::from_glommio;
    let file = glommio::io::BufferedFile::open(path)
        .await
        .map_err(from_glommio)?;
    let read = async {
        let first = file
            .read_at(0, FIRST_READ_BYTES)
            .await
            .map_err(from_glommio)?;
        let mut out = first.to_vec();
        if out.len() < FIRST_READ_BYTES {
            return Ok(out); // the whole file
        }
        if let Ok(end) = xl_meta::metadata_end(&out) {
            while out.len() < end {
                let chunk = file
                    .read_at(out.len() as u64, end - out.len())
                    .await
                    .map_err(from_glommio)?;
                if chunk.is_empty() {
                    break; // shorter than its header says: the parse reports it
                }
                out.extend_from_slice(&chunk);
            }
        }
        Ok::<_, std::io::Error>(out)
    }
    .await;
    let closed = file.close().await.map_err(from_glommio);
    let out = read?;
    closed?;
    Ok(out)
}

impl LocalDrive {
    pub(super) fn object_paths(&self, vol: &str, dir: &str) -> Result<ObjectPaths, DriveError> {
        let vol_dir = self.vol_dir(vol)?;
        check_path(dir)?;
        let full = vol_dir.join(dir);
        Ok(ObjectPaths {
            meta: full.join(FILE_NAME),
            dir: full,
            rel: dir.to_string(),
            vol_dir,
        })
    }

    /// The whole `xl.meta`, or None when the object has none (VolumeNotFound when the volume
    /// is gone too).
    pub(super) async fn load_xl(&self, paths: &ObjectPaths) -> Result<Option<Vec<u8>>, DriveError> {
        match read_small(&paths.meta).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if is_missing(&e) => match self.missing(paths.vol_dir.clone()).await {
                DriveError::FileNotFound => Ok(None),
                other => Err(other),
            },
            Err(e) => Err(io_error("read xl.meta", paths.meta.clone(), e)),
        }
    }

    pub(super) async fn read_one_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: Option<&str>,
        with_data: bool,
    ) -> Result<ObjectVersion, DriveError> {
        let paths = self.object_paths(vol, dir)?;
        let bytes = if with_data {
            read_small(&paths.meta).await
        } else {
            read_metadata_prefix(&paths.meta).await
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(e) if is_missing(&e) => return Err(self.missing(paths.vol_dir).await),
            Err(e) => return Err(io_error("read xl.meta", paths.meta, e)),
        };
        xl_meta::read_version(&bytes, version_id, with_data).map_err(located(&paths.meta))
    }

    /// Replace `xl.meta` with `bytes`, after moving the staged data directory `data` (source
    /// volume dir, source, destination) into the object directory: stage the file, barrier,
    /// publish (creating the object directory, never the volume), barrier.
    async fn commit_xl(
        &self,
        paths: &ObjectPaths,
        bytes: &[u8],
        data: Option<(PathBuf, PathBuf, PathBuf)>,
        op: &'static str,
    ) -> Result<(), DriveError> {
        // Stage the new xl.meta first (if that fails, disk full, nothing changed); its barrier
        // makes it and the staged part files durable before either is published.
        let mut mutation = self.sync.begin();
        let tmp = self.stage_tmp(&mut mutation, bytes, op).await?;
        let (vol_dir, rel, meta) = (paths.vol_dir.clone(), paths.rel.clone(), paths.meta.clone());
        // Shared: nothing an O_DIRECT open could be looking for vanishes here (the staged
        // directory and the temp file are this commit's own; xl.meta is replaced, not removed).
        let guard = self.shared().await?;
        run_blocking(move || {
            let committed = (|| {
                if let Some((src_vol_dir, src, _)) = &data {
                    // A missing source fails before anything is created at the destination.
                    match fs::symlink_metadata(src) {
                        Ok(_) => {}
                        Err(e) if is_missing(&e) => {
                            blocking::require_vol(src_vol_dir)?;
                            return Err(DriveError::FileNotFound);
                        }
                        Err(e) => return Err(io_error(op, src.clone(), e)),
                    }
                }
                blocking::mkdir_all(&vol_dir, &rel)?;
                if let Some((_, src, dst)) = &data {
                    fs::rename(src, dst).map_err(|e| io_error(op, dst.clone(), e))?;
                }
                fs::rename(&tmp, &meta).map_err(|e| io_error(op, meta, e))
            })();
            if committed.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            committed
        })
        .await?;
        drop(guard);
        self.durable(&mut mutation, op).await
    }

    /// rename_data (with `staged`: source volume dir and path) and write_version.
    pub(super) async fn add_version(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
        staged: Option<(PathBuf, PathBuf)>,
    ) -> Result<Option<ObjectVersion>, DriveError> {
        let paths = self.object_paths(vol, dir)?;
        let op = if staged.is_some() {
            "rename_data"
        } else {
            "write_version"
        };
        let data = match (staged, &version.data_dir) {
            (Some((src_vol_dir, src)), Some(name)) => {
                check_vol(name)?;
                Some((src_vol_dir, src, paths.dir.join(name)))
            }
            // An inline version (or a delete marker) has nothing staged to move.
            (_, None) | (None, _) => None,
        };
        let existing = self.load_xl(&paths).await?;
        let (bytes, replaced) =
            xl_meta::add_version(existing.as_deref(), &version).map_err(located(&paths.meta))?;
        self.commit_xl(&paths, &bytes, data, op).await?;
        Ok(replaced)
    }

    pub(super) async fn replace_version_meta(
        &self,
        vol: &str,
        dir: &str,
        version: ObjectVersion,
    ) -> Result<(), DriveError> {
        let paths = self.object_paths(vol, dir)?;
        let existing = self
            .load_xl(&paths)
            .await?
            .ok_or(DriveError::FileNotFound)?;
        let bytes = xl_meta::update_version(&existing, &version).map_err(located(&paths.meta))?;
        self.commit_xl(&paths, &bytes, None, "update_version").await
    }

    pub(super) async fn remove_version(
        &self,
        vol: &str,
        dir: &str,
        version_id: &str,
    ) -> Result<ObjectVersion, DriveError> {
        let paths = self.object_paths(vol, dir)?;
        let existing = self
            .load_xl(&paths)
            .await?
            .ok_or(DriveError::FileNotFound)?;
        let deleted =
            xl_meta::delete_version(&existing, version_id).map_err(located(&paths.meta))?;
        let freed = match &deleted.version.data_dir {
            Some(name) if !deleted.data_dir_in_use && check_vol(name).is_ok() => {
                Some(paths.dir.join(name))
            }
            _ => None,
        };
        let mut mutation = self.sync.begin();
        let tmp = match &deleted.file {
            Some(bytes) => Some(
                self.stage_tmp(&mut mutation, bytes, "delete_version")
                    .await?,
            ),
            None => None,
        };
        let trash = self.sys_path(SYS_TRASH_DIR);
        let (vol_dir, rel, meta) = (paths.vol_dir.clone(), paths.rel.clone(), paths.meta.clone());
        // Exclusive: the data directory (and maybe xl.meta) vanish (module invariants).
        let guard = self.exclusive().await?;
        let trashed = run_blocking(move || {
            blocking::require_vol(&vol_dir)?;
            match tmp {
                Some(tmp) => {
                    if let Err(e) = fs::rename(&tmp, &meta) {
                        let _ = fs::remove_file(&tmp);
                        return Err(io_error("delete_version", meta, e));
                    }
                }
                None => match fs::remove_file(&meta) {
                    Ok(()) => {}
                    Err(e) if is_missing(&e) => {}
                    Err(e) => return Err(io_error("delete_version", meta, e)),
                },
            }
            let trashed = match freed {
                Some(data_dir) => match fs::rename(&data_dir, &trash) {
                    Ok(()) => Some(trash),
                    Err(e) if is_missing(&e) => None,
                    Err(e) => return Err(io_error("delete_version", data_dir, e)),
                },
                None => None,
            };
            if !meta_exists(&meta) {
                blocking::remove_empty_parents(&vol_dir, &rel);
            }
            Ok(trashed)
        })
        .await?;
        drop(guard);
        let durable = self.durable(&mut mutation, "delete_version").await;
        drop(mutation); // emptying the trash needs no barrier
        if let Some(trash) = trashed {
            remove_trash(trash).await;
        }
        durable.map(|()| deleted.version)
    }

    pub(super) async fn free_unnamed_data_dir(
        &self,
        vol: &str,
        dir: &str,
        data_dir: &str,
    ) -> Result<(), DriveError> {
        let paths = self.object_paths(vol, dir)?;
        check_vol(data_dir)?;
        if let Some(bytes) = self.load_xl(&paths).await? {
            let named = xl_meta::data_dirs(&bytes).map_err(located(&paths.meta))?;
            if named.iter().any(|d| d == data_dir) {
                return Ok(());
            }
        }
        let target = paths.dir.join(data_dir);
        let trash = self.sys_path(SYS_TRASH_DIR);
        let (vol_dir, rel, meta) = (paths.vol_dir.clone(), paths.rel.clone(), paths.meta.clone());
        let mut mutation = self.sync.begin();
        let guard = self.exclusive().await?;
        let trashed = run_blocking(move || {
            blocking::require_vol(&vol_dir)?;
            let trashed = match fs::rename(&target, &trash) {
                Ok(()) => Some(trash),
                Err(e) if is_missing(&e) => None,
                Err(e) => return Err(io_error("free_data_dir", target, e)),
            };
            if !meta_exists(&meta) {
                blocking::remove_empty_parents(&vol_dir, &rel);
            }
            Ok(trashed)
        })
        .await?;
        drop(guard);
        let Some(trash) = trashed else {
            return Ok(()); // nothing changed
        };
        let durable = self.durable(&mut mutation, "free_data_dir").await;
        drop(mutation);
        remove_trash(trash).await;
        durable
    }

    /// check_parts and (with `verify`) verify_parts.
    pub(super) async fn part_states(
        &self,
        vol: &str,
        dir: &str,
        version: &ObjectVersion,
        verify: bool,
    ) -> Result<Vec<PartState>, DriveError> {
        let paths = self.object_paths(vol, dir)?;
        if version.parts.is_empty() {
            return Ok(Vec::new());
        }
        let layout = ErasureLayout::new(
            usize::from(version.erasure.data),
            usize::from(version.erasure.parity),
            version.erasure.block_size as usize,
        )
        .map_err(|e| DriveError::Corrupt {
            path: paths.meta.display().to_string(),
            reason: format!("version {:?}: {e}", version.version_id),
        })?;
        let binding = version.meta_value(META_FRAME_BINDING).map(str::to_string);
        let key_of = |part: u32| match &binding {
            Some(binding) => FrameKey::bound(binding, usize::from(version.erasure.index), part),
            None => FrameKey::Unbound,
        };
        let Some(data_dir) = &version.data_dir else {
            if !verify {
                return Ok(vec![PartState::Ok; version.parts.len()]);
            }
            return self.verify_inline(&paths, version, &layout, key_of).await;
        };
        check_vol(data_dir)?;
        let files: Vec<(PathBuf, u64)> = version
            .parts
            .iter()
            .map(|part| {
                (
                    paths
                        .dir
                        .join(data_dir)
                        .join(format!("part.{}", part.number)),
                    layout.shard_file_size(part.size),
                )
            })
            .collect();
        let stat_files = files.clone();
        let vol_dir = paths.vol_dir.clone();
        let mut states = run_blocking(move || {
            let mut states = Vec::with_capacity(stat_files.len());
            for (path, expected) in &stat_files {
                states.push(match fs::metadata(path) {
                    Ok(meta) if meta.is_file() && meta.len() == *expected => PartState::Ok,
                    Ok(_) => PartState::Corrupt,
                    Err(e) if is_missing(&e) => PartState::Missing,
                    Err(e) => return Err(io_error("check_parts", path.clone(), e)),
                });
            }
            if states.iter().all(|s| *s == PartState::Missing) {
                blocking::require_vol(&vol_dir)?;
            }
            Ok(states)
        })
        .await?;
        if !verify {
            return Ok(states);
        }
        for ((state, part), (path, _)) in states.iter_mut().zip(&version.parts).zip(&files) {
            if *state != PartState::Ok {
                continue;
            }
            let rel = path
                .strip_prefix(&paths.vol_dir)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let reader = match self.open_direct(vol, &rel).await {
                Ok(reader) => reader,
                Err(DriveError::FileNotFound) => {
                    *state = PartState::Missing;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let verified = verify_file(&reader, &layout, part.size, key_of(part.number)).await;
            let _ = reader.file.close().await;
            *state = match verified {
                Ok(true) => PartState::Ok,
                Ok(false) => PartState::Corrupt,
                Err(DriveError::Corrupt { .. }) => PartState::Corrupt,
                Err(e) => return Err(e),
            };
        }
        Ok(states)
    }

    /// verify_parts of an inline version: its parts' shard files back to back in the inline
    /// data (the version's own, or else the one in this drive's xl.meta).
    async fn verify_inline(
        &self,
        paths: &ObjectPaths,
        version: &ObjectVersion,
        layout: &ErasureLayout,
        key_of: impl Fn(u32) -> FrameKey,
    ) -> Result<Vec<PartState>, DriveError> {
        let stored;
        let inline = match &version.inline_data {
            Some(inline) => inline,
            None => {
                let bytes = match self.load_xl(paths).await? {
                    Some(bytes) => bytes,
                    None => return Ok(vec![PartState::Missing; version.parts.len()]),
                };
                stored = match xl_meta::read_version(&bytes, Some(&version.version_id), true) {
                    Ok(v) => v.inline_data,
                    Err(DriveError::VersionNotFound) => None,
                    Err(DriveError::Corrupt { .. }) => {
                        return Ok(vec![PartState::Corrupt; version.parts.len()])
                    }
                    Err(e) => return Err(e),
                };
                match &stored {
                    Some(inline) => inline,
                    None => return Ok(vec![PartState::Missing; version.parts.len()]),
                }
            }
        };
        let mut states = Vec::with_capacity(version.parts.len());
        let mut pos = 0usize;
        for part in &version.parts {
            let len = layout.shard_file_size(part.size) as usize;
            let state = match inline.get(pos..pos.saturating_add(len)) {
                Some(bytes) if verify_frames(bytes, layout, part.size, 0, key_of(part.number)) => {
                    PartState::Ok
                }
                _ => PartState::Corrupt,
            };
            pos = pos.saturating_add(len);
            states.push(state);
        }
        if pos != inline.len() {
            // Bytes beyond the parts: the inline data is not what the version says.
            states.fill(PartState::Corrupt);
        }
        Ok(states)
    }
}

fn meta_exists(meta: &Path) -> bool {
    fs::symlink_metadata(meta).is_ok()
}

/// Check the frames of the blocks `first_block..` of a part of `part_size` object bytes held
/// back to back in `bytes` (which must end at a frame boundary).
fn verify_frames(
    bytes: &[u8],
    layout: &ErasureLayout,
    part_size: u64,
    first_block: u64,
    key: FrameKey,
) -> bool {
    let block_size = layout.block_size as u64;
    let mut pos = 0usize;
    let mut block = first_block;
    while pos < bytes.len() {
        let block_start = block * block_size;
        if block_start >= part_size {
            return false;
        }
        let block_len = (part_size - block_start).min(block_size) as usize;
        let frame = BITROT_HASH_LEN + layout.shard_size(block_len);
        let Some(frame_bytes) = bytes.get(pos..pos + frame) else {
            return false;
        };
        let (hash, shard) = frame_bytes.split_at(BITROT_HASH_LEN);
        if key.verify(block, hash, shard).is_err() {
            return false;
        }
        pos += frame;
        block += 1;
    }
    true
}

/// Read a part file frame by frame (a few MiB per read) and check every frame.
async fn verify_file(
    reader: &super::DirectReader,
    layout: &ErasureLayout,
    part_size: u64,
    key: FrameKey,
) -> Result<bool, DriveError> {
    let blocks = layout.block_count(part_size);
    let full_frame = layout.frame_offset(1).max(1);
    let blocks_per_read = (READ_CHUNK_BYTES as u64 / full_frame).max(1);
    let mut block = 0;
    while block < blocks {
        let last = (block + blocks_per_read).min(blocks);
        let from = layout.frame_offset(block);
        let to = if last == blocks {
            layout.shard_file_size(part_size)
        } else {
            layout.frame_offset(last)
        };
        let bytes = reader.read_at(from, (to - from) as usize).await?;
        if !verify_frames(&bytes, layout, part_size, block, key) {
            return Ok(false);
        }
        block = last;
    }
    Ok(true)
}

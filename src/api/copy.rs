//! CopyObject and UploadPartCopy.
//!
//! The source may live in a set owned by another core; its bytes are pulled in 4 MiB chunks
//! through the cluster (locally or over the core mesh), each chunk checked against the source's
//! ETag so a copy never mixes two versions, and streamed into the destination like a PUT body.
//! The source's read lock is not held across the copy, so copying an object onto itself (to
//! change its metadata) cannot deadlock with the destination's commit. No byte moves on the
//! client's connection while a copy runs, so every chunk read marks the connection's progress
//! clock: a large copy that keeps moving data is not taken for a stalled request.

use minnow_net::http::{BodyRead, HttpError, Progress, RequestHead};
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::{CopySource, CopySourceRange};
use minnow_net::s3::tagging::{tagging_directive, TaggingDirective};
use minnow_net::s3::xml::CopyResult;

use super::headers::{check_conditions, put_options, quoted, Precondition, COPY_CONDITIONS};
use super::{local_set, Reply, Response, ServerCtx};
use crate::cluster::Cluster;
use crate::object::{ObjectError, ObjectInfo, PutOptions, StorageClass, META_STORAGE_CLASS};

const COPY_CHUNK_BYTES: u64 = 4 << 20;

/// The bytes of a source object range, as a request body.
struct CopySourceBody<'a> {
    cluster: &'a Cluster,
    bucket: String,
    key: String,
    /// The source version the copy reads, whatever is written to the key meanwhile.
    version_id: String,
    etag: String,
    offset: u64,
    end: u64,
    chunk: Vec<u8>,
    pos: usize,
    error: Option<ObjectError>,
    progress: Progress,
}

#[async_trait::async_trait(?Send)]
impl BodyRead for CopySourceBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        if self.pos == self.chunk.len() {
            if self.offset >= self.end {
                return Ok(0);
            }
            let len = (self.end - self.offset).min(COPY_CHUNK_BYTES);
            match self
                .cluster
                .read_object(
                    &self.bucket,
                    &self.key,
                    Some(&self.version_id),
                    (self.offset, len),
                    &self.etag,
                )
                .await
            {
                Ok(chunk) if !chunk.is_empty() => {
                    self.progress.mark();
                    self.offset += chunk.len() as u64;
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(_) => {
                    self.error = Some(ObjectError::Internal("copy source ended early".into()));
                    return Err(HttpError::BodyTooShort);
                }
                Err(e) => {
                    let text = e.to_string();
                    self.error = Some(e);
                    return Err(HttpError::Malformed(text));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<'a> CopySourceBody<'a> {
    fn new(
        cluster: &'a Cluster,
        source: &CopySource,
        info: &ObjectInfo,
        (first, end): (u64, u64),
        progress: Progress,
    ) -> Self {
        CopySourceBody {
            cluster,
            bucket: source.bucket.clone(),
            key: source.key.clone(),
            version_id: info.version_id.clone(),
            etag: info.etag.clone(),
            offset: first,
            end,
            chunk: Vec::new(),
            pos: 0,
            error: None,
            progress,
        }
    }

    /// The error behind a failed read, as the client should see it.
    fn failure(&mut self, e: ObjectError) -> S3Error {
        match (e, self.error.take()) {
            (ObjectError::Body(_), Some(cause)) => cause.into(),
            (e, _) => e.into(),
        }
    }
}

/// The source version (the latest unless the source names one), with condition checks, and
/// the `x-amz-copy-source-version-id` the answer carries. A delete marker cannot be copied:
/// S3 answers 404 for the latest, 400 InvalidRequest for one named by id.
async fn open_source(
    ctx: &ServerCtx,
    head: &RequestHead,
    source: &CopySource,
) -> Result<(ObjectInfo, Option<String>), S3Error> {
    let versioning = ctx.bucket_config(&source.bucket).await?.versioning;
    let version_id = super::version_arg(source.version_id.as_deref());
    let info = match ctx
        .cluster
        .head_object(&source.bucket, &source.key, version_id)
        .await
    {
        Ok(info) => info,
        Err(ObjectError::DeleteMarker { by_id: true, .. }) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if check_conditions(head, &info, &COPY_CONDITIONS) != Precondition::Proceed {
        return Err(S3Error::new(S3ErrorCode::PreconditionFailed));
    }
    let source_version = super::version_header(&info.version_id, versioning);
    Ok((info, source_version))
}

/// CopyObject.
pub async fn copy_object(
    ctx: &ServerCtx,
    head: &RequestHead,
    progress: Progress,
    bucket: &str,
    key: &str,
    source: CopySource,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let (info, source_version) = open_source(ctx, head, &source).await?;
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let replace = match head.header("x-amz-metadata-directive") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("COPY") => false,
        Some(v) if v.eq_ignore_ascii_case("REPLACE") => true,
        Some(v) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                format!("unknown metadata directive {v}"),
            ))
        }
    };
    let requested = put_options(head)?;
    let tags = match tagging_directive(head)? {
        TaggingDirective::Replace => requested.tags.clone(),
        TaggingDirective::Copy => info.tags.clone(),
    };
    let same_object = source.bucket == bucket && source.key == key;
    if same_object && !replace && requested.storage_class.is_none() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let options = if replace {
        PutOptions {
            tags,
            versioning,
            ..requested
        }
    } else {
        PutOptions {
            meta: info
                .meta
                .iter()
                .filter(|(k, _)| k != META_STORAGE_CLASS)
                .cloned()
                .collect(),
            storage_class: requested
                .storage_class
                .or_else(|| StorageClass::parse(info.storage_class())),
            tags,
            versioning,
        }
    };
    let mut body = CopySourceBody::new(&ctx.cluster, &source, &info, (0, info.size), progress);
    let staged = match set
        .stage_object(bucket, key, &mut body, Some(info.size), options)
        .await
    {
        Ok(s) => s,
        Err(e) => return Err(body.failure(e)),
    };
    let etag = hex::encode(staged.md5());
    // A single-part source keeps its whole-object checksums: the bytes are the same.
    let checksums = if info.parts.len() <= 1 {
        info.checksums.clone()
    } else {
        Vec::new()
    };
    let copied = set
        .commit_object(bucket, key, staged, etag, checksums)
        .await?;
    let xml = CopyResult {
        last_modified_ns: copied.mod_time_ns,
        etag: copied.etag.clone(),
        checksums: Vec::new(),
    }
    .to_copy_object_xml();
    let mut resp = Response::xml(xml);
    if let Some(id) = source_version {
        resp = resp.header("x-amz-copy-source-version-id", id);
    }
    if let Some(id) = super::version_header(&copied.version_id, versioning) {
        resp = resp.header("x-amz-version-id", id);
    }
    Ok(Reply::Full(resp))
}

/// UploadPartCopy.
#[allow(clippy::too_many_arguments)]
pub async fn upload_part_copy(
    ctx: &ServerCtx,
    head: &RequestHead,
    progress: Progress,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    source: CopySource,
    range: Option<CopySourceRange>,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let (info, source_version) = open_source(ctx, head, &source).await?;
    let (first, end) = match range {
        None => (0, info.size),
        Some(r) => {
            if r.first > r.last || r.last >= info.size {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRange,
                    format!("size={}", info.size),
                ));
            }
            (r.first, r.last + 1)
        }
    };
    let mut body = CopySourceBody::new(&ctx.cluster, &source, &info, (first, end), progress);
    let staged = match set
        .stage_part(
            bucket,
            key,
            upload_id,
            part_number,
            &mut body,
            Some(end - first),
        )
        .await
    {
        Ok(s) => s,
        Err(e) => return Err(body.failure(e)),
    };
    let etag = hex::encode(staged.md5());
    let part = set
        .commit_part(
            bucket,
            key,
            upload_id,
            part_number,
            staged,
            etag,
            Vec::new(),
        )
        .await?;
    let xml = CopyResult {
        last_modified_ns: part.mod_time_ns,
        etag: part.etag.clone(),
        checksums: Vec::new(),
    }
    .to_copy_part_xml();
    let mut resp = Response::xml(xml).header("etag", quoted(&part.etag));
    if let Some(id) = source_version {
        resp = resp.header("x-amz-copy-source-version-id", id);
    }
    Ok(Reply::Full(resp))
}

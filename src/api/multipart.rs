//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts. The erasure set keeps the upload; these handlers translate.

use minnow_net::http::{HttpConn, RequestHead};
use minnow_net::s3::error::S3Error;
use minnow_net::s3::sigv4::AuthOk;
use minnow_net::s3::xml::{
    self, CompleteMultipartUploadResult, InitiateMultipartUploadResult, ListPartsResult, PartEntry,
};

use super::bucket::owner;
use super::headers::{put_options, quoted};
use super::put::{
    checksum_headers, staged_or_error, stored_checksums, upload_framing, upload_payload,
    verify_or_abort,
};
use super::{local_set, read_small_body, Reply, Response, ServerCtx};

/// CreateMultipartUpload.
pub async fn create(
    ctx: &ServerCtx,
    head: &RequestHead,
    bucket: &str,
    key: &str,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let options = put_options(head)?;
    let upload_id = set.new_multipart(bucket, key, options).await?;
    let xml = InitiateMultipartUploadResult {
        bucket: bucket.to_string(),
        key: key.to_string(),
        upload_id,
    }
    .to_xml();
    let mut resp = Response::xml(xml);
    if let Some(alg) = head.header("x-amz-checksum-algorithm") {
        resp = resp.header("x-amz-checksum-algorithm", alg.to_ascii_uppercase());
    }
    Ok(Reply::Full(resp))
}

/// UploadPart.
#[allow(clippy::too_many_arguments)]
pub async fn upload_part(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let framing = upload_framing(head)?;
    let mut payload = upload_payload(conn, head, framing, auth)?;
    let hint = payload.content_length();
    let result = set
        .stage_part(bucket, key, upload_id, part_number, &mut payload, hint)
        .await;
    let staged = staged_or_error(result, &payload)?;
    let (staged, summary) = verify_or_abort(set, payload, staged).await?;
    let checksums = stored_checksums(&summary);
    let etag = hex::encode(staged.md5());
    let part = set
        .commit_part(
            bucket,
            key,
            upload_id,
            part_number,
            staged,
            etag,
            checksums.clone(),
        )
        .await?;
    let resp = Response::new(200).header("etag", quoted(&part.etag));
    Ok(Reply::Full(checksum_headers(resp, &checksums)))
}

/// CompleteMultipartUpload.
pub async fn complete(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let body = read_small_body(ctx, conn, head, auth).await?;
    let parts = xml::parse_complete_multipart_upload(&body)?;
    drop(body); // its memory goes back before the commit
    let requested: Vec<(u32, String)> = parts
        .iter()
        .map(|p| (p.part_number, p.etag.clone()))
        .collect();
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let info = set
        .complete_multipart(bucket, key, upload_id, &requested, versioning)
        .await?;
    let host = head.header("host").unwrap_or("localhost");
    let xml = CompleteMultipartUploadResult {
        location: format!("http://{host}/{bucket}/{key}"),
        bucket: bucket.to_string(),
        key: key.to_string(),
        etag: info.etag.clone(),
        checksums: Vec::new(),
    }
    .to_xml();
    let mut resp = Response::xml(xml).header("etag", quoted(&info.etag));
    if let Some(id) = super::version_header(&info.version_id, versioning) {
        resp = resp.header("x-amz-version-id", id);
    }
    Ok(Reply::Full(resp))
}

/// AbortMultipartUpload.
pub async fn abort(
    ctx: &ServerCtx,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Reply, S3Error> {
    local_set(ctx, key)?
        .abort_multipart(bucket, key, upload_id)
        .await?;
    Ok(Reply::Full(Response::new(204)))
}

/// ListParts.
pub async fn list_parts(
    ctx: &ServerCtx,
    bucket: &str,
    key: &str,
    upload_id: &str,
    max_parts: usize,
    marker: u32,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let (parts, truncated, storage_class) = set
        .list_parts(bucket, key, upload_id, marker, max_parts)
        .await?;
    let next = parts.last().map_or(0, |p| p.number);
    let xml = ListPartsResult {
        bucket: bucket.to_string(),
        key: key.to_string(),
        upload_id: upload_id.to_string(),
        owner: owner(ctx),
        storage_class,
        part_number_marker: marker,
        next_part_number_marker: next,
        max_parts,
        is_truncated: truncated,
        checksum_algorithm: None,
        parts: parts
            .into_iter()
            .map(|p| PartEntry {
                part_number: p.number,
                last_modified_ns: p.mod_time_ns,
                etag: p.etag,
                size: p.size,
                checksums: p.checksums,
            })
            .collect(),
    }
    .to_xml();
    Ok(Reply::Full(Response::xml(xml)))
}

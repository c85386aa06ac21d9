//! Get/Put/DeleteObjectTagging. The tags are part of a version's metadata; the request names
//! an object, so it runs on the core that owns the object's set.

use minnow_net::http::{HttpConn, RequestHead};
use minnow_net::s3::error::S3Error;
use minnow_net::s3::sigv4::AuthOk;
use minnow_net::s3::tagging::{parse_tagging, tagging_xml, TagTarget};

use super::{local_set, read_small_body, version_header, Reply, Response, ServerCtx};

/// GetObjectTagging: the version's tags (none is an empty TagSet).
pub async fn get(
    ctx: &ServerCtx,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Reply, S3Error> {
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let info = local_set(ctx, key)?
        .head_object(bucket, key, version_id)
        .await?;
    let mut resp = Response::xml(tagging_xml(&info.tags));
    if let Some(id) = version_header(&info.version_id, versioning) {
        resp = resp.header("x-amz-version-id", id);
    }
    Ok(Reply::Full(resp))
}

/// PutObjectTagging (a body) or DeleteObjectTagging (`body` false: no tags).
#[allow(clippy::too_many_arguments)]
pub async fn put(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    body: bool,
) -> Result<Reply, S3Error> {
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let tags = match body {
        true => {
            let body = read_small_body(ctx, conn, head, auth).await?;
            parse_tagging(&body, TagTarget::Object)?
        }
        false => Vec::new(),
    };
    let info = local_set(ctx, key)?
        .put_object_tags(bucket, key, version_id, tags)
        .await?;
    let mut resp = Response::new(if body { 200 } else { 204 });
    if let Some(id) = version_header(&info.version_id, versioning) {
        resp = resp.header("x-amz-version-id", id);
    }
    Ok(Reply::Full(resp))
}

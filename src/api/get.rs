//! GetObject and HeadObject.
//!
//! The object is opened (read quorum, read lock) and its first chunk read before the response
//! head goes out, so that a lost quorum or an unreadable object is still an S3 error. After the
//! head, a failure can only cut the connection: the response is then short of its Content-Length
//! and the client sees the error instead of wrong bytes.

use minnow_net::http::{HttpConn, RequestHead, ResponseHead};
use minnow_net::s3::error::{S3Error, S3ErrorCode};

use super::headers::{
    apply_overrides, check_conditions, object_headers, parse_range, ByteRange, Precondition,
    GET_CONDITIONS,
};
use super::{local_set, version_header, Reply, ServerCtx};

/// Bytes read from the set per step while streaming.
const CHUNK_BYTES: u64 = 4 << 20;

/// What a GET or HEAD reads.
pub struct Target<'a> {
    /// Bucket.
    pub bucket: &'a str,
    /// Key.
    pub key: &'a str,
    /// The version (`None`: the latest; `""`: null).
    pub version_id: Option<&'a str>,
    /// `?partNumber=`.
    pub part_number: Option<u32>,
}

/// GET or HEAD of an object, with versionId, Range, partNumber, conditions and response-*
/// overrides.
pub async fn get_object(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    target: Target<'_>,
    head_only: bool,
) -> Result<Reply, S3Error> {
    let Target {
        bucket,
        key,
        version_id,
        part_number,
    } = target;
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let set = local_set(ctx, key)?;
    let mut reader = set.open_object(bucket, key, version_id).await?;
    let info = reader.info.clone();
    let version = version_header(&info.version_id, versioning);
    let mut headers = object_headers(&info, false);
    match check_conditions(head, &info, &GET_CONDITIONS) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            headers.retain(|(k, _)| k == "etag" || k == "last-modified");
            let mut resp = ResponseHead::new(304).with_content_length(Some(0));
            for (k, v) in headers {
                resp = resp.with_header(k, v);
            }
            conn.write_head(&resp).await.map_err(io_error)?;
            conn.end_response().await.map_err(io_error)?;
            return Ok(Reply::Streamed);
        }
        Precondition::Failed => return Err(S3Error::new(S3ErrorCode::PreconditionFailed)),
    }
    let range = match part_number {
        Some(n) => Some(part_range(&info.parts, n, info.size)?),
        None => parse_range(head.header("range"), info.size)?,
    };
    let checksum_mode = head
        .header("x-amz-checksum-mode")
        .is_some_and(|v| v.eq_ignore_ascii_case("enabled"));
    if checksum_mode && range.is_none() {
        headers = object_headers(&info, true);
    }
    if let Some(id) = version {
        headers.push(("x-amz-version-id".into(), id));
    }
    apply_overrides(head, &mut headers);
    let (status, first, len) = match range {
        Some(r) => {
            headers.push((
                "content-range".into(),
                format!("bytes {}-{}/{}", r.first, r.last, info.size),
            ));
            (206, r.first, r.last - r.first + 1)
        }
        None => (200, 0, info.size),
    };
    let mut resp = ResponseHead::new(status).with_content_length(Some(len));
    for (k, v) in headers {
        resp = resp.with_header(k, v);
    }
    if head_only || len == 0 {
        conn.write_head(&resp).await.map_err(io_error)?;
        conn.end_response().await.map_err(io_error)?;
        return Ok(Reply::Streamed);
    }

    let mut offset = first;
    let end = first + len;
    let mut chunk = reader
        .read_chunk(offset, (end - offset).min(CHUNK_BYTES))
        .await?;
    conn.write_head(&resp).await.map_err(io_error)?;
    if chunk.len() as u64 == len {
        // One chunk (every small object): nothing to read ahead.
        let _ = conn.write_all(&chunk).await;
        let _ = conn.end_response().await;
        return Ok(Reply::Streamed);
    }
    loop {
        offset += chunk.len() as u64;
        // The next chunk is read from the drives while this one drains to the client.
        let next = async {
            match offset < end {
                true => Some(
                    reader
                        .read_chunk(offset, (end - offset).min(CHUNK_BYTES))
                        .await,
                ),
                false => None,
            }
        };
        let (sent, next) = futures::future::join(conn.write_all(&chunk), next).await;
        if sent.is_err() {
            return Ok(Reply::Streamed); // the client went away; the connection is done
        }
        chunk = match next {
            None => break,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                let e: S3Error = e.into();
                tracing::error!(bucket, key, offset, error = %e, "read failed mid-response; closing");
                break;
            }
        };
    }
    // Short of Content-Length (a mid-response failure) closes the connection here.
    let _ = conn.end_response().await;
    Ok(Reply::Streamed)
}

/// The byte range of part `n` (GET ?partNumber=n).
fn part_range(
    parts: &[minnow_io::xl_meta::PartInfo],
    n: u32,
    size: u64,
) -> Result<ByteRange, S3Error> {
    if parts.is_empty() || size == 0 {
        return Err(S3Error::new(S3ErrorCode::InvalidPartNumber));
    }
    let index = n as usize;
    if index == 0 || index > parts.len() {
        return Err(S3Error::new(S3ErrorCode::InvalidPartNumber));
    }
    let first: u64 = parts[..index - 1].iter().map(|p| p.size).sum();
    let len = parts[index - 1].size;
    if len == 0 {
        return Err(S3Error::new(S3ErrorCode::InvalidPartNumber));
    }
    Ok(ByteRange {
        first,
        last: first + len - 1,
    })
}

fn io_error(e: minnow_net::http::HttpError) -> S3Error {
    S3Error::with_message(S3ErrorCode::InternalError, e.to_string())
}

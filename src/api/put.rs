//! PutObject and DeleteObject, and the request-body plumbing every upload shares: the body goes
//! through `minnow_net::s3::payload` (aws-chunked decoding, signature and digest checks), is
//! staged by the erasure set, and is committed only once the payload has verified.

use minnow_net::http::{BodyFraming, BodyRead, HttpConn, RawBody, RequestHead};
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::payload::{Payload, PayloadSummary};
use minnow_net::s3::sigv4::AuthOk;

use super::headers::{put_options, quoted};
use super::{local_set, version_header, Reply, Response, ServerCtx};
use crate::erasure::{ErasureSet, StagedObject};
use crate::object::{ObjectError, PutOptions};

/// The verified body of one request.
pub type RequestPayload<'a> = Payload<RawBody<'a>>;

/// Wrap the request body in the S3 payload pipeline.
pub fn payload<'a>(
    conn: &'a mut HttpConn,
    head: &RequestHead,
    framing: BodyFraming,
    auth: &AuthOk,
) -> Result<RequestPayload<'a>, S3Error> {
    Payload::new(conn.body(framing), head, auth)
}

/// The payload of an upload: the erasure set computes the MD5 itself, off the owner core
/// (`erasure::digest`), so the payload does not hash it a second time.
pub fn upload_payload<'a>(
    conn: &'a mut HttpConn,
    head: &RequestHead,
    framing: BodyFraming,
    auth: &AuthOk,
) -> Result<RequestPayload<'a>, S3Error> {
    Ok(payload(conn, head, framing, auth)?.without_md5())
}

/// Read from the payload, turning a failure into its S3 error (the one the payload recorded,
/// e.g. RequestTimeout for a body that stalled, else IncompleteBody).
pub async fn read_payload(
    payload: &mut RequestPayload<'_>,
    buf: &mut [u8],
) -> Result<usize, S3Error> {
    match payload.read(buf).await {
        Ok(n) => Ok(n),
        Err(e) => Err(payload
            .error()
            .cloned()
            .unwrap_or_else(|| S3Error::with_message(S3ErrorCode::IncompleteBody, e.to_string()))),
    }
}

/// Body framing of an upload: S3 wants a length (or aws-chunked/chunked framing).
pub fn upload_framing(head: &RequestHead) -> Result<BodyFraming, S3Error> {
    let framing = head
        .body_framing()
        .map_err(|e| S3Error::with_message(S3ErrorCode::InvalidRequest, e.to_string()))?;
    if framing == BodyFraming::None && head.header("content-length").is_none() {
        return Err(S3Error::new(S3ErrorCode::MissingContentLength));
    }
    Ok(framing)
}

/// The outcome of staging a request body: when the body failed, the payload's S3 error (a bad
/// chunk signature, say) wins over the I/O symptom the set saw.
pub fn staged_or_error(
    result: Result<StagedObject, ObjectError>,
    payload: &RequestPayload<'_>,
) -> Result<StagedObject, S3Error> {
    match result {
        Ok(s) => Ok(s),
        Err(ObjectError::Body(detail)) => Err(payload
            .error()
            .cloned()
            .unwrap_or_else(|| S3Error::with_message(S3ErrorCode::IncompleteBody, detail))),
        Err(e) => Err(e.into()),
    }
}

/// Check the payload's digests (Content-MD5 against the MD5 the set computed, SHA-256,
/// checksums); throw the staged shards away if they fail.
pub async fn verify_or_abort(
    set: &ErasureSet,
    payload: RequestPayload<'_>,
    staged: StagedObject,
) -> Result<(StagedObject, PayloadSummary), S3Error> {
    let content_md5 = payload.content_md5();
    let verified = payload.finish().and_then(|summary| {
        if content_md5.is_some_and(|want| want != staged.md5()) {
            return Err(S3Error::new(S3ErrorCode::BadDigest));
        }
        Ok(summary)
    });
    match verified {
        Ok(summary) => Ok((staged, summary)),
        Err(e) => {
            set.abort_staged(staged).await;
            Err(e)
        }
    }
}

/// The flexible checksum of a verified body as stored metadata.
pub fn stored_checksums(summary: &PayloadSummary) -> Vec<(String, String)> {
    summary
        .checksum
        .as_ref()
        .map(|(alg, value)| vec![(alg.name().to_string(), value.clone())])
        .unwrap_or_default()
}

/// Response headers for a stored checksum.
pub fn checksum_headers(mut resp: Response, checksums: &[(String, String)]) -> Response {
    for (alg, value) in checksums {
        resp = resp.header(
            &format!("x-amz-checksum-{}", alg.to_ascii_lowercase()),
            value.clone(),
        );
    }
    resp
}

/// PutObject.
pub async fn put_object(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
    key: &str,
) -> Result<Reply, S3Error> {
    let set = local_set(ctx, key)?;
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let options = PutOptions {
        versioning,
        ..put_options(head)?
    };
    let framing = upload_framing(head)?;
    let mut payload = upload_payload(conn, head, framing, auth)?;
    let hint = payload.content_length();
    let result = set
        .stage_object(bucket, key, &mut payload, hint, options)
        .await;
    let staged = staged_or_error(result, &payload)?;
    let (staged, summary) = verify_or_abort(set, payload, staged).await?;
    let checksums = stored_checksums(&summary);
    let etag = hex::encode(staged.md5());
    let info = set
        .commit_object(bucket, key, staged, etag, checksums.clone())
        .await?;
    let mut resp = Response::new(200).header("etag", quoted(&info.etag));
    if let Some(id) = version_header(&info.version_id, versioning) {
        resp = resp.header("x-amz-version-id", id);
    }
    Ok(Reply::Full(checksum_headers(resp, &checksums)))
}

/// DeleteObject: 204 whether or not the object (or the version) existed; with the version id
/// removed or the delete marker added, as S3 answers.
pub async fn delete_object(
    ctx: &ServerCtx,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Reply, S3Error> {
    let versioning = ctx.bucket_config(bucket).await?.versioning;
    let outcome = local_set(ctx, key)?
        .delete_object(bucket, key, version_id, versioning)
        .await?;
    let mut resp = Response::new(204);
    if outcome.delete_marker {
        resp = resp.header("x-amz-delete-marker", "true");
    }
    if let Some(id) = outcome
        .version_id
        .and_then(|id| version_header(&id, versioning))
    {
        resp = resp.header("x-amz-version-id", id);
    }
    Ok(Reply::Full(resp))
}

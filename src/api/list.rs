//! ListObjects (v1, v2), ListObjectVersions and ListMultipartUploads, over the one walk they
//! share (`Cluster::list_objects`, `Cluster::list_versions`).
//!
//! A v2 continuation token is the last key or common prefix of the page, base64url-encoded: opaque
//! to clients, and enough to resume since keys are listed in byte order.

use base64::Engine;
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::{ListParams, ListUploadsParams, ListVersionsParams};
use minnow_net::s3::xml::{
    ListBucketResult, ListMultipartUploadsResult, ListVersion, ListVersionsResult, ObjectEntry,
    UploadEntry, VersionEntry,
};

use super::bucket::owner;
use super::{Reply, Response, ServerCtx};
use crate::cluster::{ListedObject, Listing};

fn entry(o: &ListedObject) -> ObjectEntry {
    ObjectEntry {
        key: o.key.clone(),
        last_modified_ns: o.info.mod_time_ns,
        etag: o.info.etag.clone(),
        size: o.info.size,
        storage_class: o.info.storage_class().to_string(),
        checksum_algorithm: o.info.checksums.first().map(|(alg, _)| alg.clone()),
    }
}

fn encode_token(marker: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(marker.as_bytes())
}

fn decode_token(token: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
}

/// ListObjects v1 (`v2 == false`) or ListObjectsV2.
pub async fn list_objects(
    ctx: &ServerCtx,
    bucket: &str,
    params: ListParams,
    v2: bool,
) -> Result<Reply, S3Error> {
    let start_after = if v2 {
        match &params.continuation_token {
            Some(t) => decode_token(t)?,
            None => params.start_after.clone().unwrap_or_default(),
        }
    } else {
        params.marker.clone().unwrap_or_default()
    };
    let listing: Listing = ctx
        .cluster
        .list_objects(
            bucket,
            &params.prefix,
            params.delimiter.as_deref(),
            &start_after,
            params.max_keys,
        )
        .await?;
    let next = listing.next_marker.clone().filter(|_| listing.truncated);
    let version = if v2 {
        ListVersion::V2 {
            continuation_token: params.continuation_token.clone(),
            next_continuation_token: next.as_deref().map(encode_token),
            start_after: params.start_after.clone(),
        }
    } else {
        ListVersion::V1 {
            marker: params.marker.clone().unwrap_or_default(),
            next_marker: next.filter(|_| params.delimiter.is_some()),
        }
    };
    let xml = ListBucketResult {
        bucket: bucket.to_string(),
        prefix: params.prefix.clone(),
        delimiter: params.delimiter.clone(),
        max_keys: params.max_keys,
        is_truncated: listing.truncated,
        encoding_type_url: params.encoding_type_url,
        owner: (!v2 || params.fetch_owner).then(|| owner(ctx)),
        objects: listing.objects.iter().map(entry).collect(),
        common_prefixes: listing.prefixes,
        version,
    }
    .to_xml();
    Ok(Reply::Full(Response::xml(xml)))
}

/// ListObjectVersions: every version and delete marker, newest first per key.
pub async fn list_versions(
    ctx: &ServerCtx,
    bucket: &str,
    params: ListVersionsParams,
) -> Result<Reply, S3Error> {
    let key_marker = params.key_marker.clone().unwrap_or_default();
    // S3's `null` marker names the null version; an empty one counts as absent.
    let version_marker = params
        .version_id_marker
        .as_deref()
        .filter(|m| !m.is_empty());
    let listing = ctx
        .cluster
        .list_versions(
            bucket,
            &params.prefix,
            params.delimiter.as_deref(),
            &key_marker,
            super::version_arg(version_marker),
            params.max_keys,
        )
        .await?;
    let truncated = listing.truncated;
    let shown = |id: &str| super::shown_version_id(id).to_string();
    let xml = ListVersionsResult {
        bucket: bucket.to_string(),
        prefix: params.prefix.clone(),
        key_marker,
        version_id_marker: params.version_id_marker.clone().unwrap_or_default(),
        next_key_marker: listing.next_marker.clone().filter(|_| truncated),
        next_version_id_marker: listing
            .next_version_marker
            .as_deref()
            .filter(|_| truncated)
            .map(shown),
        max_keys: params.max_keys,
        delimiter: params.delimiter.clone(),
        is_truncated: truncated,
        encoding_type_url: params.encoding_type_url,
        owner: owner(ctx),
        entries: listing
            .objects
            .iter()
            .map(|o| VersionEntry {
                key: o.key.clone(),
                version_id: shown(&o.info.version_id),
                is_latest: o.is_latest,
                last_modified_ns: o.info.mod_time_ns,
                etag: o.info.etag.clone(),
                size: o.info.size,
                storage_class: o.info.storage_class().to_string(),
                delete_marker: o.info.delete_marker,
            })
            .collect(),
        common_prefixes: listing.prefixes,
    }
    .to_xml();
    Ok(Reply::Full(Response::xml(xml)))
}

/// ListMultipartUploads.
pub async fn list_uploads(
    ctx: &ServerCtx,
    bucket: &str,
    params: ListUploadsParams,
) -> Result<Reply, S3Error> {
    let all = ctx.cluster.list_uploads(bucket, &params.prefix).await?;
    let key_marker = params.key_marker.clone().unwrap_or_default();
    let id_marker = params.upload_id_marker.clone().unwrap_or_default();
    let mut uploads = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut truncated = false;
    let mut next: Option<(String, String)> = None;
    for u in all {
        let after_marker = key_marker.is_empty()
            || u.key > key_marker
            || (u.key == key_marker && !id_marker.is_empty() && u.upload_id > id_marker);
        if !after_marker {
            continue;
        }
        if let Some(d) = params.delimiter.as_deref().filter(|d| !d.is_empty()) {
            if let Some(i) = u.key[params.prefix.len()..].find(d) {
                let cp = u.key[..params.prefix.len() + i + d.len()].to_string();
                if prefixes.last() != Some(&cp) {
                    if uploads.len() + prefixes.len() == params.max_uploads {
                        truncated = true;
                        break;
                    }
                    prefixes.push(cp);
                }
                continue;
            }
        }
        if uploads.len() + prefixes.len() == params.max_uploads {
            truncated = true;
            break;
        }
        next = Some((u.key.clone(), u.upload_id.clone()));
        uploads.push(UploadEntry {
            key: u.key,
            upload_id: u.upload_id,
            initiated_ns: u.initiated_ns,
            storage_class: u.storage_class,
        });
    }
    let next = next.filter(|_| truncated);
    let xml = ListMultipartUploadsResult {
        bucket: bucket.to_string(),
        key_marker,
        upload_id_marker: id_marker,
        next_key_marker: next.as_ref().map(|n| n.0.clone()),
        next_upload_id_marker: next.map(|n| n.1),
        delimiter: params.delimiter.clone(),
        prefix: params.prefix.clone(),
        max_uploads: params.max_uploads,
        is_truncated: truncated,
        encoding_type_url: params.encoding_type_url,
        owner: owner(ctx),
        uploads,
        common_prefixes: prefixes,
    }
    .to_xml();
    Ok(Reply::Full(Response::xml(xml)))
}

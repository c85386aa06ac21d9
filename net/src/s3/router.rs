//! Routing: one request head in, one typed [`Endpoint`] out, so the server dispatches with a
//! single `match` and no handler re-parses the path or query.
//!
//! The model is S3's REST API (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>):
//! the operation is picked by method, by whether the path names a bucket and a key, by the
//! sub-resource keyword in the query (`?uploads`, `?delete`, `?location`, ...) and, for PUT, by
//! the `x-amz-copy-source` header. Unknown query parameters are ignored as S3 does (SDKs add
//! `x-id=GetObject`, presigned URLs carry `X-Amz-*`, GET carries `response-*` overrides).
//!
//! Addressing:
//! - path style always: `/bucket/key`;
//! - virtual-host style when the server has a domain and `Host` is `<bucket>.<domain>[:port]`;
//! - `/minio/health/{live,ready,cluster}` (GET/HEAD) are the health checks.
//!
//! Invariants of every [`Endpoint`] returned:
//! - a bucket name passes [`check_bucket_name`] (CreateBucket: [`S3ErrorCode::InvalidBucketName`];
//!   any other operation: [`S3ErrorCode::NoSuchBucket`], since no bucket can have that name);
//! - a key is percent-decoded (RFC 3986: `+` is a literal plus in the path) and passes
//!   [`check_object_key`]: minnow maps keys onto directories, so keys that would not make a
//!   clean relative path are refused;
//! - part numbers are in `1..=MAX_PART_NUMBER`, list limits in `0..=1000`;
//! - a version id (`?versionId=`, the copy source's `?versionId=`, `version-id-marker`) passes
//!   [`check_version_id`] and is kept as S3 spells it: the literal `"null"` ([`NULL_VERSION_ID`])
//!   names the null version, anything else is a canonical UUID. The object layer's own
//!   spelling of the null version (`""`) is the handlers' mapping, not the router's;
//! - an upload id is non-empty and cannot step out of a directory (no '/', '\', NUL, `.`, `..`).

use ::http::Method;

use super::error::{S3Error, S3ErrorCode};
use crate::http::RequestHead;

/// Largest object key, in bytes (S3's limit).
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest key segment (between '/'), in bytes: a segment is a file or directory name on the
/// drive, and Linux file systems cap names at 255 bytes.
pub const MAX_KEY_SEGMENT_BYTES: usize = 255;
/// Names the drive layout gives a meaning inside object directories (`xl.meta`, the folder
/// object's `__XLDIR__`): a key with such a segment would share a path with another key's
/// metadata, so it is refused (InvalidObjectName, as MinIO refuses reserved names) rather than
/// stored. minnow's object layer checks that its names are in this list.
pub const RESERVED_KEY_SEGMENTS: [&str; 2] = ["xl.meta", "__XLDIR__"];
/// Highest multipart part number (S3's limit).
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Default and highest `max-keys` / `max-uploads` / `max-parts`.
pub const MAX_LIST_KEYS: usize = 1000;
/// Highest `max-buckets` of ListBuckets.
pub const MAX_LIST_BUCKETS: usize = 10_000;
/// Longest upload id accepted (ids are minnow's own; this only bounds hostile input).
const MAX_UPLOAD_ID_BYTES: usize = 256;

/// One S3 operation with its parameters from the path and query. Bucket and key are decoded
/// and validated; headers other than `x-amz-copy-source(-range)` stay in the request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /`
    ListBuckets {
        /// Query parameters.
        params: ListBucketsParams,
    },
    /// `PUT /bucket` (body: optional CreateBucketConfiguration).
    CreateBucket {
        /// Bucket name (passes the CreateBucket naming rules).
        bucket: String,
    },
    /// `HEAD /bucket`
    HeadBucket {
        /// Bucket name.
        bucket: String,
    },
    /// `DELETE /bucket`
    DeleteBucket {
        /// Bucket name.
        bucket: String,
    },
    /// `GET /bucket?location`
    GetBucketLocation {
        /// Bucket name.
        bucket: String,
    },
    /// `GET /bucket?versioning`: answer [`super::xml::versioning_configuration_xml`].
    GetBucketVersioning {
        /// Bucket name.
        bucket: String,
    },
    /// `PUT /bucket?versioning` (body: VersioningConfiguration, see
    /// [`super::xml::parse_versioning_configuration`]).
    PutBucketVersioning {
        /// Bucket name.
        bucket: String,
    },
    /// `GET /bucket?tagging`: the bucket's tags, NoSuchTagSet when it has none.
    GetBucketTagging {
        /// Bucket name.
        bucket: String,
    },
    /// `PUT /bucket?tagging` (body: Tagging, see [`super::tagging::parse_tagging`] with
    /// [`super::tagging::TagTarget::Bucket`]).
    PutBucketTagging {
        /// Bucket name.
        bucket: String,
    },
    /// `DELETE /bucket?tagging`
    DeleteBucketTagging {
        /// Bucket name.
        bucket: String,
    },
    /// `GET /bucket?acl`: minnow answers owner FULL_CONTROL.
    GetBucketAcl {
        /// Bucket name.
        bucket: String,
    },
    /// `GET /bucket` (ListObjects, version 1).
    ListObjectsV1 {
        /// Bucket name.
        bucket: String,
        /// prefix, delimiter, max-keys, marker, encoding-type.
        params: ListParams,
    },
    /// `GET /bucket?list-type=2`
    ListObjectsV2 {
        /// Bucket name.
        bucket: String,
        /// prefix, delimiter, max-keys, continuation-token, start-after, fetch-owner, encoding-type.
        params: ListParams,
    },
    /// `GET /bucket?versions`
    ListObjectVersions {
        /// Bucket name.
        bucket: String,
        /// Query parameters.
        params: ListVersionsParams,
    },
    /// `GET /bucket?uploads`
    ListMultipartUploads {
        /// Bucket name.
        bucket: String,
        /// Query parameters.
        params: ListUploadsParams,
    },
    /// `POST /bucket?delete` (body: Delete, see [`super::xml::parse_delete`]).
    DeleteObjects {
        /// Bucket name.
        bucket: String,
    },
    /// `PUT /bucket/key`
    PutObject {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// `PUT /bucket/key` with `x-amz-copy-source`.
    CopyObject {
        /// Destination bucket.
        bucket: String,
        /// Destination key.
        key: String,
        /// Source object.
        source: CopySource,
    },
    /// `GET /bucket/key`
    GetObject {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`; "null" names the null version.
        version_id: Option<String>,
        /// `?partNumber=`: read one part of a multipart object.
        part_number: Option<u32>,
    },
    /// `HEAD /bucket/key`
    HeadObject {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`.
        version_id: Option<String>,
        /// `?partNumber=`.
        part_number: Option<u32>,
    },
    /// `DELETE /bucket/key`
    DeleteObject {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`.
        version_id: Option<String>,
    },
    /// `GET /bucket/key?acl`: minnow answers owner FULL_CONTROL.
    GetObjectAcl {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`.
        version_id: Option<String>,
    },
    /// `GET /bucket/key?tagging`
    GetObjectTagging {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`; `None` = the latest version.
        version_id: Option<String>,
    },
    /// `PUT /bucket/key?tagging` (body: Tagging, see [`super::tagging::parse_tagging`] with
    /// [`super::tagging::TagTarget::Object`]).
    PutObjectTagging {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`; `None` = the latest version.
        version_id: Option<String>,
    },
    /// `DELETE /bucket/key?tagging`
    DeleteObjectTagging {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// `?versionId=`; `None` = the latest version.
        version_id: Option<String>,
    },
    /// `POST /bucket/key?uploads`
    CreateMultipartUpload {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// `PUT /bucket/key?partNumber=N&uploadId=U`
    UploadPart {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// 1..=10000.
        part_number: u32,
    },
    /// `PUT /bucket/key?partNumber=N&uploadId=U` with `x-amz-copy-source`.
    UploadPartCopy {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// 1..=10000.
        part_number: u32,
        /// Source object.
        source: CopySource,
        /// `x-amz-copy-source-range`; `None` copies the whole source.
        range: Option<CopySourceRange>,
    },
    /// `POST /bucket/key?uploadId=U` (body: CompleteMultipartUpload).
    CompleteMultipartUpload {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
    },
    /// `DELETE /bucket/key?uploadId=U`
    AbortMultipartUpload {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
    },
    /// `GET /bucket/key?uploadId=U`
    ListParts {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// `max-parts`, 0..=1000, default 1000.
        max_parts: usize,
        /// `part-number-marker`: list parts after this number; 0 = from the start.
        part_number_marker: u32,
    },
    /// An S3 operation minnow does not implement (bucket policy, tagging, lifecycle, ...).
    /// After authentication and the bucket-exists check, the server answers
    /// `S3Error::new(op.answer)`: a "not configured" 404 for the reads clients probe, else
    /// NotImplemented.
    Unsupported {
        /// Bucket name.
        bucket: String,
        /// Object key for object sub-resources.
        key: Option<String>,
        /// Which operation, and the answer.
        op: UnsupportedOp,
    },
    /// `GET|HEAD /minio/health/live`: the process is up.
    HealthLive,
    /// `GET|HEAD /minio/health/ready`: the process can serve requests.
    HealthReady,
    /// `GET|HEAD /minio/health/cluster`: write quorum is available.
    HealthCluster,
}

/// An operation minnow answers with an error: its S3 name (for logs) and the error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedOp {
    /// The S3 operation name, e.g. "GetBucketPolicy".
    pub operation: &'static str,
    /// What the server answers once the bucket is known to exist.
    pub answer: S3ErrorCode,
}

/// Query parameters of ListBuckets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListBucketsParams {
    /// `prefix`: only buckets whose name starts with it.
    pub prefix: Option<String>,
    /// `max-buckets` (1..=10000); `None` = all.
    pub max_buckets: Option<usize>,
    /// `continuation-token` from a previous truncated answer.
    pub continuation_token: Option<String>,
}

/// Query parameters of ListObjects (v1) and ListObjectsV2; the fields of the other version
/// stay at their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListParams {
    /// `prefix`, "" when absent.
    pub prefix: String,
    /// `delimiter`; an empty value counts as absent.
    pub delimiter: Option<String>,
    /// `max-keys`: default 1000, values above 1000 clamp to 1000.
    pub max_keys: usize,
    /// v1 `marker`: list keys after it.
    pub marker: Option<String>,
    /// v2 `continuation-token` (opaque, minnow's own).
    pub continuation_token: Option<String>,
    /// v2 `start-after`.
    pub start_after: Option<String>,
    /// v2 `fetch-owner=true`: include Owner in each entry (v1 always does).
    pub fetch_owner: bool,
    /// `encoding-type=url`: keys, prefixes, delimiter and markers are URL-encoded in the answer.
    pub encoding_type_url: bool,
}

/// Query parameters of ListMultipartUploads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListUploadsParams {
    /// `prefix`, "" when absent.
    pub prefix: String,
    /// `delimiter`; an empty value counts as absent.
    pub delimiter: Option<String>,
    /// `max-uploads`: default 1000, clamped to 1000.
    pub max_uploads: usize,
    /// `key-marker`.
    pub key_marker: Option<String>,
    /// `upload-id-marker` (meaningful only with a key marker).
    pub upload_id_marker: Option<String>,
    /// `encoding-type=url`.
    pub encoding_type_url: bool,
}

/// Query parameters of ListObjectVersions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListVersionsParams {
    /// `prefix`, "" when absent.
    pub prefix: String,
    /// `delimiter`; an empty value counts as absent.
    pub delimiter: Option<String>,
    /// `max-keys`: default 1000, clamped to 1000.
    pub max_keys: usize,
    /// `key-marker`: list keys after it (or, with a version-id-marker, versions of this key
    /// after that version, then the keys after it).
    pub key_marker: Option<String>,
    /// `version-id-marker`: only with a key marker (InvalidArgument otherwise); `"null"` or a
    /// canonical UUID, as every version id.
    pub version_id_marker: Option<String>,
    /// `encoding-type=url`.
    pub encoding_type_url: bool,
}

/// The source of CopyObject / UploadPartCopy, from `x-amz-copy-source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopySource {
    /// Source bucket.
    pub bucket: String,
    /// Source key (decoded, validated).
    pub key: String,
    /// `?versionId=` of the source.
    pub version_id: Option<String>,
}

/// `x-amz-copy-source-range: bytes=first-last`, both inclusive, `first <= last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopySourceRange {
    /// Offset of the first byte.
    pub first: u64,
    /// Offset of the last byte (inclusive).
    pub last: u64,
}

impl Endpoint {
    /// The bucket the operation addresses; `None` for ListBuckets and health checks.
    pub fn bucket(&self) -> Option<&str> {
        use Endpoint::*;
        match self {
            ListBuckets { .. } | HealthLive | HealthReady | HealthCluster => None,
            CreateBucket { bucket }
            | HeadBucket { bucket }
            | DeleteBucket { bucket }
            | GetBucketLocation { bucket }
            | GetBucketVersioning { bucket }
            | PutBucketVersioning { bucket }
            | GetBucketTagging { bucket }
            | PutBucketTagging { bucket }
            | DeleteBucketTagging { bucket }
            | GetBucketAcl { bucket }
            | ListObjectsV1 { bucket, .. }
            | ListObjectsV2 { bucket, .. }
            | ListObjectVersions { bucket, .. }
            | ListMultipartUploads { bucket, .. }
            | DeleteObjects { bucket }
            | PutObject { bucket, .. }
            | CopyObject { bucket, .. }
            | GetObject { bucket, .. }
            | HeadObject { bucket, .. }
            | DeleteObject { bucket, .. }
            | GetObjectAcl { bucket, .. }
            | GetObjectTagging { bucket, .. }
            | PutObjectTagging { bucket, .. }
            | DeleteObjectTagging { bucket, .. }
            | CreateMultipartUpload { bucket, .. }
            | UploadPart { bucket, .. }
            | UploadPartCopy { bucket, .. }
            | CompleteMultipartUpload { bucket, .. }
            | AbortMultipartUpload { bucket, .. }
            | ListParts { bucket, .. }
            | Unsupported { bucket, .. } => Some(bucket),
        }
    }

    /// The object key the operation addresses, if any.
    pub fn key(&self) -> Option<&str> {
        use Endpoint::*;
        match self {
            PutObject { key, .. }
            | CopyObject { key, .. }
            | GetObject { key, .. }
            | HeadObject { key, .. }
            | DeleteObject { key, .. }
            | GetObjectAcl { key, .. }
            | GetObjectTagging { key, .. }
            | PutObjectTagging { key, .. }
            | DeleteObjectTagging { key, .. }
            | CreateMultipartUpload { key, .. }
            | UploadPart { key, .. }
            | UploadPartCopy { key, .. }
            | CompleteMultipartUpload { key, .. }
            | AbortMultipartUpload { key, .. }
            | ListParts { key, .. } => Some(key),
            Unsupported { key, .. } => key.as_deref(),
            _ => None,
        }
    }

    /// The `?versionId=` the operation addresses (as S3 spells it: `"null"` or a UUID), if any.
    /// The copy source's version id is in its [`CopySource`].
    pub fn version_id(&self) -> Option<&str> {
        use Endpoint::*;
        match self {
            GetObject { version_id, .. }
            | HeadObject { version_id, .. }
            | DeleteObject { version_id, .. }
            | GetObjectAcl { version_id, .. }
            | GetObjectTagging { version_id, .. }
            | PutObjectTagging { version_id, .. }
            | DeleteObjectTagging { version_id, .. } => version_id.as_deref(),
            _ => None,
        }
    }

    /// The S3 operation name, for logs and metrics.
    pub fn operation(&self) -> &'static str {
        use Endpoint::*;
        match self {
            ListBuckets { .. } => "ListBuckets",
            CreateBucket { .. } => "CreateBucket",
            HeadBucket { .. } => "HeadBucket",
            DeleteBucket { .. } => "DeleteBucket",
            GetBucketLocation { .. } => "GetBucketLocation",
            GetBucketVersioning { .. } => "GetBucketVersioning",
            PutBucketVersioning { .. } => "PutBucketVersioning",
            GetBucketTagging { .. } => "GetBucketTagging",
            PutBucketTagging { .. } => "PutBucketTagging",
            DeleteBucketTagging { .. } => "DeleteBucketTagging",
            GetBucketAcl { .. } => "GetBucketAcl",
            ListObjectsV1 { .. } => "ListObjects",
            ListObjectsV2 { .. } => "ListObjectsV2",
            ListObjectVersions { .. } => "ListObjectVersions",
            ListMultipartUploads { .. } => "ListMultipartUploads",
            DeleteObjects { .. } => "DeleteObjects",
            PutObject { .. } => "PutObject",
            CopyObject { .. } => "CopyObject",
            GetObject { .. } => "GetObject",
            HeadObject { .. } => "HeadObject",
            DeleteObject { .. } => "DeleteObject",
            GetObjectAcl { .. } => "GetObjectAcl",
            GetObjectTagging { .. } => "GetObjectTagging",
            PutObjectTagging { .. } => "PutObjectTagging",
            DeleteObjectTagging { .. } => "DeleteObjectTagging",
            CreateMultipartUpload { .. } => "CreateMultipartUpload",
            UploadPart { .. } => "UploadPart",
            UploadPartCopy { .. } => "UploadPartCopy",
            CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            AbortMultipartUpload { .. } => "AbortMultipartUpload",
            ListParts { .. } => "ListParts",
            Unsupported { op, .. } => op.operation,
            HealthLive => "HealthLive",
            HealthReady => "HealthReady",
            HealthCluster => "HealthCluster",
        }
    }
}

/// Turns a request head into an [`Endpoint`]. `domain` is the server's virtual-host domain
/// (e.g. `s3.example.com`), `None` for path-style only. Errors carry the request path as
/// their resource.
pub fn route(head: &RequestHead, domain: Option<&str>) -> Result<Endpoint, S3Error> {
    route_inner(head, domain).map_err(|err| {
        if err.resource.is_empty() {
            err.with_resource(head.path.clone())
        } else {
            err
        }
    })
}

fn route_inner(head: &RequestHead, domain: Option<&str>) -> Result<Endpoint, S3Error> {
    let Some(path) = head.path.strip_prefix('/') else {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidURI,
            "The request path must start with '/'.",
        ));
    };
    let host_bucket = match (domain, header_str(head, "host")) {
        (Some(domain), Some(host)) => bucket_from_host(host, domain),
        _ => None,
    };
    if host_bucket.is_none() {
        if let Some(endpoint) = route_health(&head.method, path)? {
            return Ok(endpoint);
        }
    }
    let query = Query::parse(&head.query)?;

    // Split bucket from key on the raw path: a %2F in the key is part of the key.
    let (bucket, raw_key) = match host_bucket {
        Some(bucket) => (bucket, path),
        None if path.is_empty() => return route_service(&head.method, &query),
        None => match path.split_once('/') {
            Some((bucket, key)) => (percent_decode(bucket)?, key),
            None => (percent_decode(path)?, ""),
        },
    };
    let endpoint = if raw_key.is_empty() {
        route_bucket(head, bucket, &query)?
    } else {
        let key = percent_decode(raw_key)?;
        check_object_key(&key)?;
        route_object(head, bucket, key, &query)?
    };

    if let Some(bucket) = endpoint.bucket() {
        if let Err(reason) = check_bucket_name(bucket) {
            return Err(match endpoint {
                Endpoint::CreateBucket { .. } => {
                    S3Error::with_message(S3ErrorCode::InvalidBucketName, reason)
                }
                _ => S3Error::new(S3ErrorCode::NoSuchBucket),
            });
        }
    }
    Ok(endpoint)
}

/// `/minio/health/*` checks (HAProxy, Kubernetes probes). `path` has no leading '/'.
fn route_health(method: &Method, path: &str) -> Result<Option<Endpoint>, S3Error> {
    let endpoint = match path {
        "minio/health/live" => Endpoint::HealthLive,
        "minio/health/ready" => Endpoint::HealthReady,
        "minio/health/cluster" => Endpoint::HealthCluster,
        _ => return Ok(None),
    };
    if *method == Method::GET || *method == Method::HEAD {
        Ok(Some(endpoint))
    } else {
        Err(S3Error::new(S3ErrorCode::MethodNotAllowed))
    }
}

/// `/` with no bucket: only ListBuckets.
fn route_service(method: &Method, query: &Query) -> Result<Endpoint, S3Error> {
    if *method != Method::GET {
        return Err(S3Error::new(S3ErrorCode::MethodNotAllowed));
    }
    let max_buckets = match query.get("max-buckets") {
        None => None,
        Some(value) => match value.parse::<usize>() {
            Ok(n) if (1..=MAX_LIST_BUCKETS).contains(&n) => Some(n),
            _ => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "max-buckets must be an integer between 1 and 10000.",
                ))
            }
        },
    };
    Ok(Endpoint::ListBuckets {
        params: ListBucketsParams {
            prefix: query.get_nonempty("prefix"),
            max_buckets,
            continuation_token: query.get_nonempty("continuation-token"),
        },
    })
}

/// Bucket sub-resources minnow does not implement, by (method, query keyword).
/// Reads that clients use to probe for a configuration answer the "not configured" code
/// AWS gives a bucket without one; everything else is NotImplemented.
#[rustfmt::skip]
const BUCKET_UNSUPPORTED: &[(&str, &str, &str, S3ErrorCode)] = {
    use S3ErrorCode::*;
    &[
        ("GET", "policy", "GetBucketPolicy", NoSuchBucketPolicy),
        ("GET", "policyStatus", "GetBucketPolicyStatus", NoSuchBucketPolicy),
        ("GET", "lifecycle", "GetBucketLifecycleConfiguration", NoSuchLifecycleConfiguration),
        ("GET", "encryption", "GetBucketEncryption", ServerSideEncryptionConfigurationNotFound),
        ("GET", "object-lock", "GetObjectLockConfiguration", ObjectLockConfigurationNotFound),
        ("GET", "cors", "GetBucketCors", NoSuchCORSConfiguration),
        ("GET", "website", "GetBucketWebsite", NoSuchWebsiteConfiguration),
        ("GET", "replication", "GetBucketReplication", ReplicationConfigurationNotFound),
        ("GET", "ownershipControls", "GetBucketOwnershipControls", OwnershipControlsNotFound),
        ("GET", "publicAccessBlock", "GetPublicAccessBlock", NoSuchPublicAccessBlockConfiguration),
        ("GET", "logging", "GetBucketLogging", NotImplemented),
        ("GET", "notification", "GetBucketNotificationConfiguration", NotImplemented),
        ("GET", "accelerate", "GetBucketAccelerateConfiguration", NotImplemented),
        ("GET", "requestPayment", "GetBucketRequestPayment", NotImplemented),
        ("GET", "analytics", "ListBucketAnalyticsConfigurations", NotImplemented),
        ("GET", "inventory", "ListBucketInventoryConfigurations", NotImplemented),
        ("GET", "metrics", "ListBucketMetricsConfigurations", NotImplemented),
        ("GET", "intelligent-tiering", "ListBucketIntelligentTieringConfigurations", NotImplemented),
        ("GET", "session", "CreateSession", NotImplemented),
        ("PUT", "acl", "PutBucketAcl", NotImplemented),
        ("PUT", "policy", "PutBucketPolicy", NotImplemented),
        ("PUT", "lifecycle", "PutBucketLifecycleConfiguration", NotImplemented),
        ("PUT", "encryption", "PutBucketEncryption", NotImplemented),
        ("PUT", "object-lock", "PutObjectLockConfiguration", NotImplemented),
        ("PUT", "cors", "PutBucketCors", NotImplemented),
        ("PUT", "website", "PutBucketWebsite", NotImplemented),
        ("PUT", "logging", "PutBucketLogging", NotImplemented),
        ("PUT", "notification", "PutBucketNotificationConfiguration", NotImplemented),
        ("PUT", "replication", "PutBucketReplication", NotImplemented),
        ("PUT", "ownershipControls", "PutBucketOwnershipControls", NotImplemented),
        ("PUT", "publicAccessBlock", "PutPublicAccessBlock", NotImplemented),
        ("PUT", "accelerate", "PutBucketAccelerateConfiguration", NotImplemented),
        ("PUT", "requestPayment", "PutBucketRequestPayment", NotImplemented),
        ("PUT", "analytics", "PutBucketAnalyticsConfiguration", NotImplemented),
        ("PUT", "inventory", "PutBucketInventoryConfiguration", NotImplemented),
        ("PUT", "metrics", "PutBucketMetricsConfiguration", NotImplemented),
        ("PUT", "intelligent-tiering", "PutBucketIntelligentTieringConfiguration", NotImplemented),
        ("DELETE", "policy", "DeleteBucketPolicy", NotImplemented),
        ("DELETE", "lifecycle", "DeleteBucketLifecycle", NotImplemented),
        ("DELETE", "encryption", "DeleteBucketEncryption", NotImplemented),
        ("DELETE", "cors", "DeleteBucketCors", NotImplemented),
        ("DELETE", "website", "DeleteBucketWebsite", NotImplemented),
        ("DELETE", "replication", "DeleteBucketReplication", NotImplemented),
        ("DELETE", "ownershipControls", "DeleteBucketOwnershipControls", NotImplemented),
        ("DELETE", "publicAccessBlock", "DeletePublicAccessBlock", NotImplemented),
        ("DELETE", "analytics", "DeleteBucketAnalyticsConfiguration", NotImplemented),
        ("DELETE", "inventory", "DeleteBucketInventoryConfiguration", NotImplemented),
        ("DELETE", "metrics", "DeleteBucketMetricsConfiguration", NotImplemented),
        ("DELETE", "intelligent-tiering", "DeleteBucketIntelligentTieringConfiguration", NotImplemented),
    ]
};

/// Object sub-resources minnow does not implement, by (method, query keyword).
#[rustfmt::skip]
const OBJECT_UNSUPPORTED: &[(&str, &str, &str, S3ErrorCode)] = {
    use S3ErrorCode::*;
    &[
        ("GET", "retention", "GetObjectRetention", NotImplemented),
        ("GET", "legal-hold", "GetObjectLegalHold", NotImplemented),
        ("GET", "attributes", "GetObjectAttributes", NotImplemented),
        ("GET", "torrent", "GetObjectTorrent", NotImplemented),
        ("PUT", "acl", "PutObjectAcl", NotImplemented),
        ("PUT", "retention", "PutObjectRetention", NotImplemented),
        ("PUT", "legal-hold", "PutObjectLegalHold", NotImplemented),
        ("POST", "restore", "RestoreObject", NotImplemented),
        ("POST", "select", "SelectObjectContent", NotImplemented),
    ]
};

fn find_unsupported(
    table: &[(&str, &str, &'static str, S3ErrorCode)],
    method: &Method,
    query: &Query,
) -> Option<UnsupportedOp> {
    table
        .iter()
        .find(|(m, keyword, _, _)| method.as_str() == *m && query.has(keyword))
        .map(|&(_, _, operation, answer)| UnsupportedOp { operation, answer })
}

/// `/bucket` (key empty).
fn route_bucket(head: &RequestHead, bucket: String, query: &Query) -> Result<Endpoint, S3Error> {
    let method = &head.method;
    if let Some(op) = find_unsupported(BUCKET_UNSUPPORTED, method, query) {
        return Ok(Endpoint::Unsupported {
            bucket,
            key: None,
            op,
        });
    }
    let endpoint = match *method {
        Method::GET if query.has("location") => Endpoint::GetBucketLocation { bucket },
        Method::GET if query.has("versioning") => Endpoint::GetBucketVersioning { bucket },
        Method::PUT if query.has("versioning") => Endpoint::PutBucketVersioning { bucket },
        Method::GET if query.has("tagging") => Endpoint::GetBucketTagging { bucket },
        Method::PUT if query.has("tagging") => Endpoint::PutBucketTagging { bucket },
        Method::DELETE if query.has("tagging") => Endpoint::DeleteBucketTagging { bucket },
        Method::GET if query.has("acl") => Endpoint::GetBucketAcl { bucket },
        Method::GET if query.has("uploads") => Endpoint::ListMultipartUploads {
            bucket,
            params: ListUploadsParams {
                prefix: query.get("prefix").unwrap_or_default().to_owned(),
                delimiter: query.get_nonempty("delimiter"),
                max_uploads: parse_max(query, "max-uploads")?,
                key_marker: query.get_nonempty("key-marker"),
                upload_id_marker: query.get_nonempty("upload-id-marker"),
                encoding_type_url: parse_encoding_type(query)?,
            },
        },
        Method::GET if query.has("versions") => Endpoint::ListObjectVersions {
            bucket,
            params: parse_list_versions_params(query)?,
        },
        Method::GET => match query.get("list-type") {
            None => Endpoint::ListObjectsV1 {
                bucket,
                params: parse_list_params(query, false)?,
            },
            Some("2") => Endpoint::ListObjectsV2 {
                bucket,
                params: parse_list_params(query, true)?,
            },
            Some(_) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "Invalid list-type: must be 2.",
                ))
            }
        },
        Method::HEAD => Endpoint::HeadBucket { bucket },
        Method::PUT => Endpoint::CreateBucket { bucket },
        Method::DELETE => Endpoint::DeleteBucket { bucket },
        Method::POST if query.has("delete") => Endpoint::DeleteObjects { bucket },
        // Browser-form uploads (multipart/form-data POST to the bucket).
        Method::POST => Endpoint::Unsupported {
            bucket,
            key: None,
            op: UnsupportedOp {
                operation: "PostObject",
                answer: S3ErrorCode::NotImplemented,
            },
        },
        _ => return Err(S3Error::new(S3ErrorCode::MethodNotAllowed)),
    };
    Ok(endpoint)
}

/// `/bucket/key` (key decoded and validated).
fn route_object(
    head: &RequestHead,
    bucket: String,
    key: String,
    query: &Query,
) -> Result<Endpoint, S3Error> {
    let method = &head.method;
    if let Some(op) = find_unsupported(OBJECT_UNSUPPORTED, method, query) {
        return Ok(Endpoint::Unsupported {
            bucket,
            key: Some(key),
            op,
        });
    }
    let endpoint = match *method {
        // The sub-resource decides before the method's default operation does.
        Method::GET if query.has("tagging") => Endpoint::GetObjectTagging {
            bucket,
            key,
            version_id: parse_version_id(query)?,
        },
        Method::PUT if query.has("tagging") => Endpoint::PutObjectTagging {
            bucket,
            key,
            version_id: parse_version_id(query)?,
        },
        Method::DELETE if query.has("tagging") => Endpoint::DeleteObjectTagging {
            bucket,
            key,
            version_id: parse_version_id(query)?,
        },
        Method::PUT if query.has("uploadId") || query.has("partNumber") => {
            let upload_id = parse_upload_id(query)?;
            let part_number = match query.get("partNumber") {
                Some(value) => parse_part_number(value)?,
                None => return Err(part_number_error()),
            };
            match copy_source_header(head)? {
                Some(source) => {
                    let range = match header_str(head, "x-amz-copy-source-range") {
                        Some(value) => Some(parse_copy_source_range(value)?),
                        None => None,
                    };
                    Endpoint::UploadPartCopy {
                        bucket,
                        key,
                        upload_id,
                        part_number,
                        source,
                        range,
                    }
                }
                None => Endpoint::UploadPart {
                    bucket,
                    key,
                    upload_id,
                    part_number,
                },
            }
        }
        Method::PUT => match copy_source_header(head)? {
            Some(source) => Endpoint::CopyObject {
                bucket,
                key,
                source,
            },
            None => Endpoint::PutObject { bucket, key },
        },
        Method::GET if query.has("uploadId") => Endpoint::ListParts {
            bucket,
            key,
            upload_id: parse_upload_id(query)?,
            max_parts: parse_max(query, "max-parts")?,
            part_number_marker: match query.get("part-number-marker") {
                None | Some("") => 0,
                Some(value) => value.parse::<u32>().map_err(|_| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidArgument,
                        "part-number-marker must be an integer.",
                    )
                })?,
            },
        },
        Method::GET if query.has("acl") => Endpoint::GetObjectAcl {
            bucket,
            key,
            version_id: parse_version_id(query)?,
        },
        Method::GET => Endpoint::GetObject {
            bucket,
            key,
            version_id: parse_version_id(query)?,
            part_number: parse_optional_part_number(query)?,
        },
        Method::HEAD => Endpoint::HeadObject {
            bucket,
            key,
            version_id: parse_version_id(query)?,
            part_number: parse_optional_part_number(query)?,
        },
        Method::DELETE if query.has("uploadId") => Endpoint::AbortMultipartUpload {
            bucket,
            key,
            upload_id: parse_upload_id(query)?,
        },
        Method::DELETE => Endpoint::DeleteObject {
            bucket,
            key,
            version_id: parse_version_id(query)?,
        },
        Method::POST if query.has("uploads") => Endpoint::CreateMultipartUpload { bucket, key },
        Method::POST if query.has("uploadId") => Endpoint::CompleteMultipartUpload {
            bucket,
            key,
            upload_id: parse_upload_id(query)?,
        },
        _ => return Err(S3Error::new(S3ErrorCode::MethodNotAllowed)),
    };
    Ok(endpoint)
}

/// ListObjectVersions: AWS refuses a version-id-marker without a key-marker, and checks the
/// marker like any version id (InvalidArgument both). An empty marker counts as absent, as the
/// other list markers do.
fn parse_list_versions_params(query: &Query) -> Result<ListVersionsParams, S3Error> {
    let key_marker = query.get_nonempty("key-marker");
    let version_id_marker = query.get_nonempty("version-id-marker");
    if let Some(marker) = &version_id_marker {
        if key_marker.is_none() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "A version-id marker cannot be specified without a key marker.",
            ));
        }
        check_version_id(marker)?;
    }
    Ok(ListVersionsParams {
        prefix: query.get("prefix").unwrap_or_default().to_owned(),
        delimiter: query.get_nonempty("delimiter"),
        max_keys: parse_max(query, "max-keys")?,
        key_marker,
        version_id_marker,
        encoding_type_url: parse_encoding_type(query)?,
    })
}

fn parse_list_params(query: &Query, v2: bool) -> Result<ListParams, S3Error> {
    let fetch_owner = match query.get("fetch-owner") {
        Some(value) if v2 => {
            if value.eq_ignore_ascii_case("true") {
                true
            } else if value.eq_ignore_ascii_case("false") || value.is_empty() {
                false
            } else {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "fetch-owner must be true or false.",
                ));
            }
        }
        _ => false,
    };
    Ok(ListParams {
        prefix: query.get("prefix").unwrap_or_default().to_owned(),
        delimiter: query.get_nonempty("delimiter"),
        max_keys: parse_max(query, "max-keys")?,
        marker: if v2 {
            None
        } else {
            query.get_nonempty("marker")
        },
        continuation_token: if v2 {
            query.get_nonempty("continuation-token")
        } else {
            None
        },
        start_after: if v2 {
            query.get_nonempty("start-after")
        } else {
            None
        },
        fetch_owner,
        encoding_type_url: parse_encoding_type(query)?,
    })
}

/// `max-keys` / `max-uploads` / `max-parts`: default 1000; any larger number clamps to 1000;
/// anything but digits is InvalidArgument (S3 also refuses negative values).
fn parse_max(query: &Query, name: &str) -> Result<usize, S3Error> {
    match query.get(name) {
        None => Ok(MAX_LIST_KEYS),
        Some(value) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
            // All digits: a parse failure can only be overflow, which clamps too.
            Ok(value
                .parse::<usize>()
                .map_or(MAX_LIST_KEYS, |n| n.min(MAX_LIST_KEYS)))
        }
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("Provided {name} not an integer or within integer range."),
        )),
    }
}

fn parse_encoding_type(query: &Query) -> Result<bool, S3Error> {
    match query.get("encoding-type") {
        None => Ok(false),
        Some(value) if value.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid Encoding Method specified in Request.",
        )),
    }
}

fn part_number_error() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        "Part number must be an integer between 1 and 10000, inclusive.",
    )
}

fn parse_part_number(value: &str) -> Result<u32, S3Error> {
    match value.parse::<u32>() {
        Ok(n) if (1..=MAX_PART_NUMBER).contains(&n) => Ok(n),
        _ => Err(part_number_error()),
    }
}

fn parse_optional_part_number(query: &Query) -> Result<Option<u32>, S3Error> {
    query.get("partNumber").map(parse_part_number).transpose()
}

fn parse_version_id(query: &Query) -> Result<Option<String>, S3Error> {
    query
        .get("versionId")
        .map(|id| check_version_id(id).map(|()| id.to_owned()))
        .transpose()
}

/// The version id that names the null version (the object layer's `""`).
pub const NULL_VERSION_ID: &str = "null";

/// A version id from a request (query, copy source, DeleteObjects entry) is `null` or one
/// minnow could have issued: a UUID in canonical form, as MinIO's are. Anything else is 400
/// InvalidArgument "Invalid version id specified" (AWS and MinIO), so an id never has to be
/// looked up, let alone become part of a path.
pub fn check_version_id(id: &str) -> Result<(), S3Error> {
    if id.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Version id cannot be the empty string.",
        ));
    }
    if id == NULL_VERSION_ID || is_canonical_uuid(id) {
        return Ok(());
    }
    Err(S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        "Invalid version id specified",
    ))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits of either case.
fn is_canonical_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The upload id becomes part of a path under the multipart area: refuse anything that could
/// name another directory. An id minnow never issued cannot exist, hence NoSuchUpload.
fn parse_upload_id(query: &Query) -> Result<String, S3Error> {
    let id = query.get("uploadId").unwrap_or_default();
    let bad = id.is_empty()
        || id.len() > MAX_UPLOAD_ID_BYTES
        || id == "."
        || id == ".."
        || id.contains(['/', '\\', '\0']);
    if bad {
        return Err(S3Error::new(S3ErrorCode::NoSuchUpload));
    }
    Ok(id.to_owned())
}

fn copy_source_header(head: &RequestHead) -> Result<Option<CopySource>, S3Error> {
    match header_str(head, "x-amz-copy-source") {
        None => {
            if head.headers.contains_key("x-amz-copy-source") {
                // Present but not UTF-8.
                return Err(copy_source_error());
            }
            Ok(None)
        }
        Some(value) => parse_copy_source(value).map(Some),
    }
}

fn copy_source_error() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.",
    )
}

/// Parses `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, URL-encoded. The `?` is
/// looked for before decoding, so an encoded `%3F` stays in the key.
pub fn parse_copy_source(value: &str) -> Result<CopySource, S3Error> {
    let value = value.trim();
    let (path, query) = match value.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (value, None),
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = percent_decode(path).map_err(|_| copy_source_error())?;
    let Some((bucket, key)) = path.split_once('/') else {
        return Err(copy_source_error());
    };
    if bucket.is_empty() || key.is_empty() {
        return Err(copy_source_error());
    }
    if check_bucket_name(bucket).is_err() {
        return Err(S3Error::new(S3ErrorCode::NoSuchBucket).with_resource(format!("/{bucket}")));
    }
    check_object_key(key)?;
    let version_id = match query {
        None => None,
        Some(query) => {
            let query = Query::parse(query)?;
            parse_version_id(&query)?
        }
    };
    Ok(CopySource {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id,
    })
}

/// Parses `x-amz-copy-source-range: bytes=first-last` (both required, inclusive).
/// Whether the range fits the source is the server's check, once it knows the size.
pub fn parse_copy_source_range(value: &str) -> Result<CopySourceRange, S3Error> {
    let error = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy.",
        )
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(error)?;
    let (first, last) = spec.split_once('-').ok_or_else(error)?;
    if !digits(first) || !digits(last) {
        return Err(error());
    }
    let first = first.parse::<u64>().map_err(|_| error())?;
    let last = last.parse::<u64>().map_err(|_| error())?;
    if first > last {
        return Err(error());
    }
    Ok(CopySourceRange { first, last })
}

/// Checks an object key (already decoded). Used by the router, and by the server for keys
/// that arrive in bodies (DeleteObjects) or headers (copy source).
///
/// Rules: non-empty; at most [`MAX_KEY_BYTES`] (KeyTooLongError); no NUL; does not start with
/// '/'; no `.` or `..` segment; no empty segment except one trailing '/' (`dir/` is a valid
/// folder marker, `a//b` is not); each segment at most [`MAX_KEY_SEGMENT_BYTES`]; no segment in
/// [`RESERVED_KEY_SEGMENTS`].
pub fn check_object_key(key: &str) -> Result<(), S3Error> {
    let invalid = |why: &str| {
        S3Error::with_message(
            S3ErrorCode::InvalidObjectName,
            format!("Object name {why}."),
        )
    };
    if key.is_empty() {
        return Err(invalid("cannot be empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(S3ErrorCode::KeyTooLongError));
    }
    if key.contains('\0') {
        return Err(invalid("contains a NUL character"));
    }
    if key.starts_with('/') {
        return Err(invalid("cannot start with '/'"));
    }
    let body = key.strip_suffix('/').unwrap_or(key);
    for segment in body.split('/') {
        match segment {
            "" => return Err(invalid("contains an empty path segment ('//')")),
            "." | ".." => return Err(invalid("contains a '.' or '..' path segment")),
            s if RESERVED_KEY_SEGMENTS.contains(&s) => {
                return Err(invalid(&format!(
                    "contains the reserved path segment '{s}'"
                )))
            }
            s if s.len() > MAX_KEY_SEGMENT_BYTES => {
                return Err(S3Error::with_message(
                    S3ErrorCode::KeyTooLongError,
                    "Your key has a path segment longer than 255 bytes.",
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a bucket name against S3's rules for new buckets
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>):
/// 3..=63 bytes of lowercase letters, digits, '.' and '-'; starts and ends with a letter or
/// digit; no ".."; not an IPv4 address; no `xn--`/`sthree-` prefix; no `-s3alias`/`--ol-s3`
/// suffix. Returns the reason on failure.
pub fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    if !(3..=63).contains(&name.len()) {
        return Err("Bucket name must be between 3 and 63 characters long.");
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
    if !name.bytes().all(allowed) {
        return Err("Bucket name can contain only lowercase letters, numbers, dots and hyphens.");
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !alnum(name.bytes().next()) || !alnum(name.bytes().last()) {
        return Err("Bucket name must begin and end with a letter or number.");
    }
    if name.contains("..") {
        return Err("Bucket name must not contain two adjacent periods.");
    }
    if name.contains(".-") || name.contains("-.") {
        return Err("Bucket name must not contain a period next to a hyphen.");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("Bucket name must not be formatted as an IP address.");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") {
        return Err("Bucket name must not start with the reserved prefixes xn-- or sthree-.");
    }
    if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        return Err("Bucket name must not end with the reserved suffixes -s3alias or --ol-s3.");
    }
    Ok(())
}

/// The bucket of a virtual-host request: `Host` is `<bucket>.<domain>[:port]`
/// (case-insensitive). `None` when Host is the domain itself, an IP, or another name.
fn bucket_from_host(host: &str, domain: &str) -> Option<String> {
    let host = host.trim();
    if host.starts_with('[') {
        return None; // IPv6 literal: never a bucket
    }
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return None;
    }
    let bucket = host.strip_suffix(&domain)?.strip_suffix('.')?;
    if bucket.is_empty() {
        None
    } else {
        Some(bucket.to_owned())
    }
}

/// First value of a header as UTF-8 (raw UTF-8 bytes allowed, unlike `HeaderValue::to_str`).
fn header_str<'a>(head: &'a RequestHead, name: &str) -> Option<&'a str> {
    head.headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// Strict RFC 3986 percent-decoding: `%XX` must be two hex digits and the result UTF-8;
/// `+` is a literal plus. Anything else is InvalidURI.
fn percent_decode(raw: &str) -> Result<String, S3Error> {
    if !raw.contains('%') {
        return Ok(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) else {
                return Err(S3Error::new(S3ErrorCode::InvalidURI));
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

/// The decoded query: `(name, value)` pairs in order; a bare `name` has value "".
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: &str) -> Result<Query, S3Error> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((percent_decode(name)?, percent_decode(value)?));
        }
        Ok(Query { pairs })
    }

    /// Is the parameter present (with or without a value)?
    fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// First value of the parameter.
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// First value, `None` when absent or empty.
    fn get_nonempty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a head from a request line and extra headers.
    fn head(line: &str, headers: &[(&str, &str)]) -> RequestHead {
        let (method, rest) = line.split_once(' ').expect("method");
        let target = rest.strip_suffix(" HTTP/1.1").unwrap_or(rest);
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut map = ::http::HeaderMap::new();
        map.insert("host", ::http::HeaderValue::from_static("localhost:9000"));
        for (name, value) in headers {
            let name = ::http::header::HeaderName::from_bytes(name.as_bytes()).expect("name");
            map.insert(
                name,
                ::http::HeaderValue::from_bytes(value.as_bytes()).expect("value"),
            );
        }
        RequestHead {
            method: Method::from_bytes(method.as_bytes()).expect("method"),
            target: target.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            version_minor: 1,
            headers: map,
        }
    }

    fn ok(line: &str) -> Endpoint {
        ok_with(line, &[])
    }

    fn ok_with(line: &str, headers: &[(&str, &str)]) -> Endpoint {
        match route(&head(line, headers), None) {
            Ok(endpoint) => endpoint,
            Err(err) => panic!("{line}: {err}"),
        }
    }

    fn err(line: &str) -> S3ErrorCode {
        err_with(line, &[])
    }

    fn err_with(line: &str, headers: &[(&str, &str)]) -> S3ErrorCode {
        match route(&head(line, headers), None) {
            Ok(endpoint) => panic!("{line}: expected an error, got {endpoint:?}"),
            Err(err) => err.code,
        }
    }

    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn list_defaults() -> ListParams {
        ListParams {
            prefix: String::new(),
            delimiter: None,
            max_keys: 1000,
            marker: None,
            continuation_token: None,
            start_after: None,
            fetch_owner: false,
            encoding_type_url: false,
        }
    }

    #[test]
    fn operation_table() {
        // (request line, operation name, bucket, key): requests as aws cli / boto3 / rclone /
        // the Go and JS SDKs send them.
        #[rustfmt::skip]
        let table: &[(&str, &str, Option<&str>, Option<&str>)] = &[
            ("GET / HTTP/1.1", "ListBuckets", None, None),
            ("GET /?x-id=ListBuckets HTTP/1.1", "ListBuckets", None, None),
            ("PUT /bucket HTTP/1.1", "CreateBucket", Some("bucket"), None),
            ("PUT /bucket/ HTTP/1.1", "CreateBucket", Some("bucket"), None),
            ("HEAD /bucket HTTP/1.1", "HeadBucket", Some("bucket"), None),
            ("DELETE /bucket HTTP/1.1", "DeleteBucket", Some("bucket"), None),
            ("GET /bucket?location HTTP/1.1", "GetBucketLocation", Some("bucket"), None),
            ("GET /bucket?location= HTTP/1.1", "GetBucketLocation", Some("bucket"), None),
            ("GET /bucket?versioning HTTP/1.1", "GetBucketVersioning", Some("bucket"), None),
            ("GET /bucket?acl HTTP/1.1", "GetBucketAcl", Some("bucket"), None),
            ("GET /bucket HTTP/1.1", "ListObjects", Some("bucket"), None),
            ("GET /bucket/?prefix=a%2F&delimiter=%2F&encoding-type=url HTTP/1.1", "ListObjects", Some("bucket"), None),
            ("GET /bucket?list-type=2&prefix=&delimiter=%2F&encoding-type=url HTTP/1.1", "ListObjectsV2", Some("bucket"), None),
            ("GET /bucket/?list-type=2&max-keys=1 HTTP/1.1", "ListObjectsV2", Some("bucket"), None),
            ("GET /bucket?versions&prefix=a HTTP/1.1", "ListObjectVersions", Some("bucket"), None),
            ("GET /bucket?uploads HTTP/1.1", "ListMultipartUploads", Some("bucket"), None),
            ("GET /bucket?uploads=&prefix=x HTTP/1.1", "ListMultipartUploads", Some("bucket"), None),
            ("POST /bucket?delete HTTP/1.1", "DeleteObjects", Some("bucket"), None),
            ("POST /bucket?delete=&x-id=DeleteObjects HTTP/1.1", "DeleteObjects", Some("bucket"), None),
            ("PUT /bucket/key HTTP/1.1", "PutObject", Some("bucket"), Some("key")),
            ("PUT /bucket/key?x-id=PutObject HTTP/1.1", "PutObject", Some("bucket"), Some("key")),
            ("PUT /bucket/dir/ HTTP/1.1", "PutObject", Some("bucket"), Some("dir/")),
            ("GET /bucket/a/b/c.txt HTTP/1.1", "GetObject", Some("bucket"), Some("a/b/c.txt")),
            ("GET /bucket/k?response-content-type=text%2Fplain HTTP/1.1", "GetObject", Some("bucket"), Some("k")),
            ("GET /bucket/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00 HTTP/1.1", "GetObject", Some("bucket"), Some("k")),
            ("HEAD /bucket/k HTTP/1.1", "HeadObject", Some("bucket"), Some("k")),
            ("DELETE /bucket/k HTTP/1.1", "DeleteObject", Some("bucket"), Some("k")),
            ("GET /bucket/k?acl HTTP/1.1", "GetObjectAcl", Some("bucket"), Some("k")),
            ("POST /bucket/k?uploads HTTP/1.1", "CreateMultipartUpload", Some("bucket"), Some("k")),
            ("POST /bucket/k?uploads= HTTP/1.1", "CreateMultipartUpload", Some("bucket"), Some("k")),
            ("PUT /bucket/k?partNumber=1&uploadId=abc HTTP/1.1", "UploadPart", Some("bucket"), Some("k")),
            ("PUT /bucket/k?uploadId=abc&partNumber=10000 HTTP/1.1", "UploadPart", Some("bucket"), Some("k")),
            ("POST /bucket/k?uploadId=abc HTTP/1.1", "CompleteMultipartUpload", Some("bucket"), Some("k")),
            ("DELETE /bucket/k?uploadId=abc HTTP/1.1", "AbortMultipartUpload", Some("bucket"), Some("k")),
            ("GET /bucket/k?uploadId=abc HTTP/1.1", "ListParts", Some("bucket"), Some("k")),
            ("GET /bucket/k?uploadId=abc&max-parts=5&part-number-marker=3 HTTP/1.1", "ListParts", Some("bucket"), Some("k")),
            // Unsupported bucket and object sub-resources.
            ("GET /bucket?policy HTTP/1.1", "GetBucketPolicy", Some("bucket"), None),
            ("GET /bucket?object-lock HTTP/1.1", "GetObjectLockConfiguration", Some("bucket"), None),
            ("GET /bucket?tagging HTTP/1.1", "GetBucketTagging", Some("bucket"), None),
            ("GET /bucket?lifecycle HTTP/1.1", "GetBucketLifecycleConfiguration", Some("bucket"), None),
            ("GET /bucket?encryption HTTP/1.1", "GetBucketEncryption", Some("bucket"), None),
            ("GET /bucket?cors HTTP/1.1", "GetBucketCors", Some("bucket"), None),
            ("GET /bucket?website HTTP/1.1", "GetBucketWebsite", Some("bucket"), None),
            ("GET /bucket?logging HTTP/1.1", "GetBucketLogging", Some("bucket"), None),
            ("GET /bucket?notification HTTP/1.1", "GetBucketNotificationConfiguration", Some("bucket"), None),
            ("GET /bucket?replication HTTP/1.1", "GetBucketReplication", Some("bucket"), None),
            ("GET /bucket?ownershipControls HTTP/1.1", "GetBucketOwnershipControls", Some("bucket"), None),
            ("GET /bucket?publicAccessBlock HTTP/1.1", "GetPublicAccessBlock", Some("bucket"), None),
            ("GET /bucket?accelerate HTTP/1.1", "GetBucketAccelerateConfiguration", Some("bucket"), None),
            ("GET /bucket?requestPayment HTTP/1.1", "GetBucketRequestPayment", Some("bucket"), None),
            ("PUT /bucket?versioning HTTP/1.1", "PutBucketVersioning", Some("bucket"), None),
            ("PUT /bucket/?versioning= HTTP/1.1", "PutBucketVersioning", Some("bucket"), None),
            ("PUT /bucket?tagging HTTP/1.1", "PutBucketTagging", Some("bucket"), None),
            ("DELETE /bucket?tagging HTTP/1.1", "DeleteBucketTagging", Some("bucket"), None),
            ("PUT /bucket?acl HTTP/1.1", "PutBucketAcl", Some("bucket"), None),
            ("PUT /bucket?policy HTTP/1.1", "PutBucketPolicy", Some("bucket"), None),
            ("DELETE /bucket?policy HTTP/1.1", "DeleteBucketPolicy", Some("bucket"), None),
            ("DELETE /bucket?cors HTTP/1.1", "DeleteBucketCors", Some("bucket"), None),
            ("POST /bucket HTTP/1.1", "PostObject", Some("bucket"), None),
            ("GET /bucket/k?tagging HTTP/1.1", "GetObjectTagging", Some("bucket"), Some("k")),
            ("PUT /bucket/k?tagging HTTP/1.1", "PutObjectTagging", Some("bucket"), Some("k")),
            ("DELETE /bucket/k?tagging HTTP/1.1", "DeleteObjectTagging", Some("bucket"), Some("k")),
            ("PUT /bucket/k?acl HTTP/1.1", "PutObjectAcl", Some("bucket"), Some("k")),
            ("GET /bucket/k?retention HTTP/1.1", "GetObjectRetention", Some("bucket"), Some("k")),
            ("GET /bucket/k?legal-hold HTTP/1.1", "GetObjectLegalHold", Some("bucket"), Some("k")),
            ("GET /bucket/k?attributes HTTP/1.1", "GetObjectAttributes", Some("bucket"), Some("k")),
            ("POST /bucket/k?restore HTTP/1.1", "RestoreObject", Some("bucket"), Some("k")),
            ("POST /bucket/k?select&select-type=2 HTTP/1.1", "SelectObjectContent", Some("bucket"), Some("k")),
            // Health.
            ("GET /minio/health/live HTTP/1.1", "HealthLive", None, None),
            ("HEAD /minio/health/live HTTP/1.1", "HealthLive", None, None),
            ("GET /minio/health/ready HTTP/1.1", "HealthReady", None, None),
            ("GET /minio/health/cluster HTTP/1.1", "HealthCluster", None, None),
            ("HEAD /minio/health/cluster?maintenance=true HTTP/1.1", "HealthCluster", None, None),
        ];
        for (line, operation, bucket, key) in table {
            let endpoint = ok(line);
            assert_eq!(endpoint.operation(), *operation, "{line}: {endpoint:?}");
            assert_eq!(endpoint.bucket(), *bucket, "{line}");
            assert_eq!(endpoint.key(), *key, "{line}");
        }
    }

    #[test]
    fn error_table() {
        use S3ErrorCode::*;
        #[rustfmt::skip]
        let table: &[(&str, S3ErrorCode)] = &[
            ("PUT / HTTP/1.1", MethodNotAllowed),
            ("DELETE / HTTP/1.1", MethodNotAllowed),
            ("GET /?max-buckets=0 HTTP/1.1", InvalidArgument),
            ("PUT /minio/health/live HTTP/1.1", MethodNotAllowed),
            ("OPTIONS /bucket HTTP/1.1", MethodNotAllowed),
            ("PATCH /bucket/k HTTP/1.1", MethodNotAllowed),
            ("POST /bucket/k HTTP/1.1", MethodNotAllowed),
            // Bucket names: CreateBucket is strict; others say the bucket does not exist.
            ("PUT /ab HTTP/1.1", InvalidBucketName),
            ("PUT /Bucket HTTP/1.1", InvalidBucketName),
            ("PUT /my_bucket HTTP/1.1", InvalidBucketName),
            ("PUT /-bucket HTTP/1.1", InvalidBucketName),
            ("PUT /bucket- HTTP/1.1", InvalidBucketName),
            ("PUT /my..bucket HTTP/1.1", InvalidBucketName),
            ("PUT /192.168.5.4 HTTP/1.1", InvalidBucketName),
            ("PUT /xn--bucket HTTP/1.1", InvalidBucketName),
            ("PUT /bucket-s3alias HTTP/1.1", InvalidBucketName),
            ("PUT /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1", InvalidBucketName),
            ("GET /Bucket HTTP/1.1", NoSuchBucket),
            ("GET /ab/key HTTP/1.1", NoSuchBucket),
            ("HEAD /a%2Fb HTTP/1.1", NoSuchBucket),
            ("GET //key HTTP/1.1", NoSuchBucket),
            // Keys.
            ("PUT /bucket/a//b HTTP/1.1", InvalidObjectName),
            ("PUT /bucket//a HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/a/./b HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/a/../b HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/.. HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/%2E%2E/x HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/a%2F%2Fb HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/a%00b HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/dir// HTTP/1.1", InvalidObjectName),
            ("PUT /bucket/x/__XLDIR__ HTTP/1.1", InvalidObjectName),
            ("GET /bucket/__XLDIR__/ HTTP/1.1", InvalidObjectName),
            ("DELETE /bucket/a/xl.meta HTTP/1.1", InvalidObjectName),
            ("HEAD /bucket/xl.meta/b HTTP/1.1", InvalidObjectName),
            ("GET /bucket/a%zz HTTP/1.1", InvalidURI),
            ("GET /bucket/a%2 HTTP/1.1", InvalidURI),
            ("GET /bucket/%C3%28 HTTP/1.1", InvalidURI),
            ("GET /bucket?prefix=%ff HTTP/1.1", InvalidURI),
            // Query parameters.
            ("GET /bucket?max-keys=abc HTTP/1.1", InvalidArgument),
            ("GET /bucket?max-keys=-1 HTTP/1.1", InvalidArgument),
            ("GET /bucket?list-type=2&max-keys= HTTP/1.1", InvalidArgument),
            ("GET /bucket?list-type=3 HTTP/1.1", InvalidArgument),
            ("GET /bucket?list-type=2&fetch-owner=maybe HTTP/1.1", InvalidArgument),
            ("GET /bucket?encoding-type=base64 HTTP/1.1", InvalidArgument),
            ("GET /bucket?uploads&max-uploads=x HTTP/1.1", InvalidArgument),
            ("GET /bucket?versions&version-id-marker=null HTTP/1.1", InvalidArgument),
            ("GET /bucket?versions&key-marker=&version-id-marker=null HTTP/1.1", InvalidArgument),
            ("GET /bucket?versions&key-marker=a&version-id-marker=v1 HTTP/1.1", InvalidArgument),
            ("GET /bucket?versions&key-marker=a&version-id-marker=..%2Fx HTTP/1.1", InvalidArgument),
            ("GET /bucket?versions&max-keys=x HTTP/1.1", InvalidArgument),
            ("GET /bucket?versions&encoding-type=xml HTTP/1.1", InvalidArgument),
            ("GET /bucket/k?tagging&versionId=v1 HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?tagging&versionId= HTTP/1.1", InvalidArgument),
            ("DELETE /bucket/k?tagging&versionId=NULL HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?partNumber=0&uploadId=abc HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?partNumber=10001&uploadId=abc HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?partNumber=x&uploadId=abc HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?partNumber=-1&uploadId=abc HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?uploadId=abc HTTP/1.1", InvalidArgument),
            ("PUT /bucket/k?partNumber=1 HTTP/1.1", NoSuchUpload),
            ("PUT /bucket/k?partNumber=1&uploadId= HTTP/1.1", NoSuchUpload),
            ("PUT /bucket/k?partNumber=1&uploadId=.. HTTP/1.1", NoSuchUpload),
            ("POST /bucket/k?uploadId=a%2F..%2Fb HTTP/1.1", NoSuchUpload),
            ("GET /bucket/k?uploadId=abc&part-number-marker=x HTTP/1.1", InvalidArgument),
            ("GET /bucket/k?partNumber=0 HTTP/1.1", InvalidArgument),
            ("HEAD /bucket/k?partNumber=abc HTTP/1.1", InvalidArgument),
            ("GET /bucket/k?versionId= HTTP/1.1", InvalidArgument),
            ("GET /bucket/k?versionId=v1 HTTP/1.1", InvalidArgument),
            ("HEAD /bucket/k?versionId=..%2F..%2Fformat.json HTTP/1.1", InvalidArgument),
            ("DELETE /bucket/k?versionId=NULL HTTP/1.1", InvalidArgument),
            ("GET /bucket/k?acl&versionId=%2F HTTP/1.1", InvalidArgument),
            // One character short of a UUID, and one with a non-hex digit.
            ("GET /bucket/k?versionId=0b1c2d3e-4f50-4617-8899-aabbccddeef HTTP/1.1", InvalidArgument),
            ("GET /bucket/k?versionId=0b1c2d3e-4f50-4617-8899-aabbccddeefg HTTP/1.1", InvalidArgument),
        ];
        for (line, code) in table {
            assert_eq!(err(line), *code, "{line}");
        }
        assert_eq!(
            route(&head("GET /bucket/a%zz HTTP/1.1", &[]), None)
                .unwrap_err()
                .resource,
            "/bucket/a%zz"
        );
    }

    #[test]
    fn keys_are_decoded_rfc3986() {
        #[rustfmt::skip]
        let table = [
            ("/bucket/a+b", "a+b"),
            ("/bucket/a%20b", "a b"),
            ("/bucket/a%2Bb", "a+b"),
            ("/bucket/dir%2Fsub%2Ffile", "dir/sub/file"),
            ("/bucket/%E2%82%AC%20euro", "\u{20ac} euro"),
            ("/bucket/caf%C3%A9/", "caf\u{e9}/"),
            ("/bucket/100%25", "100%"),
            ("/bucket/a%3Fb%23c", "a?b#c"),
            ("/bucket/..a/b..", "..a/b.."),
            ("/bucket/.hidden", ".hidden"),
            ("/bucket/%7Etilde", "~tilde"),
        ];
        for (path, key) in table {
            let line = format!("GET {path} HTTP/1.1");
            assert_eq!(ok(&line).key(), Some(key), "{path}");
        }
    }

    #[test]
    fn key_limits() {
        let long = "k".repeat(200);
        let key_1024 = format!("{long}/{long}/{long}/{long}/{long}/{}", "x".repeat(19));
        assert_eq!(key_1024.len(), 1024);
        assert_eq!(
            ok(&format!("PUT /bucket/{key_1024} HTTP/1.1")).key(),
            Some(key_1024.as_str())
        );
        assert_eq!(
            err(&format!("PUT /bucket/{key_1024}x HTTP/1.1")),
            S3ErrorCode::KeyTooLongError
        );
        // A 255-byte segment is fine, 256 is not (a file name on the drive).
        let segment = "s".repeat(255);
        ok(&format!("PUT /bucket/a/{segment} HTTP/1.1"));
        assert_eq!(
            err(&format!("PUT /bucket/a/{segment}s HTTP/1.1")),
            S3ErrorCode::KeyTooLongError
        );
        // The decoded length counts: 5 segments of 200 "%41" are 3000 bytes on the wire but
        // a 1004-byte key.
        let encoded = ["%41".repeat(200).as_str(); 5].join("/");
        assert_eq!(
            ok(&format!("PUT /bucket/{encoded} HTTP/1.1"))
                .key()
                .map(str::len),
            Some(1004)
        );
        assert!(check_object_key("").is_err());
        assert!(check_object_key("/").is_err());
        assert!(check_object_key("a/").is_ok());
        // Reserved segments only as whole segments.
        assert!(check_object_key("a/xl.meta2").is_ok());
        assert!(check_object_key("x__XLDIR__").is_ok());
        assert!(check_object_key("a/XL.META").is_ok());
        assert!(check_object_key("a b/c d").is_ok());
        assert!(check_object_key("tab\tand\nnewline").is_ok());
    }

    #[test]
    fn bucket_names() {
        for good in [
            "abc",
            "my-bucket",
            "my.bucket.name",
            "a1b2c3",
            "123",
            "1.2.3",
            "minnow-test-0001",
            &"a".repeat(63),
        ] {
            assert_eq!(check_bucket_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "ab",
            "ABC",
            "my_bucket",
            "-abc",
            "abc-",
            ".abc",
            "abc.",
            "a..b",
            "10.0.0.1",
            "xn--abc",
            "sthree-abc",
            "abc-s3alias",
            "abc--ol-s3",
            "ab c",
            "caf\u{e9}",
            &"a".repeat(64),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_params() {
        let expect_v1 = ListParams {
            prefix: s("photos/2024/"),
            delimiter: Some(s("/")),
            max_keys: 50,
            marker: Some(s("photos/2024/a b+c")),
            encoding_type_url: true,
            ..list_defaults()
        };
        assert_eq!(
            ok("GET /bucket?delimiter=%2F&encoding-type=url&marker=photos%2F2024%2Fa%20b%2Bc&max-keys=50&prefix=photos%2F2024%2F HTTP/1.1"),
            Endpoint::ListObjectsV1 { bucket: s("bucket"), params: expect_v1 }
        );
        // aws cli v2 `aws s3 ls s3://bucket/dir/`
        let expect_v2 = ListParams {
            prefix: s("dir/"),
            delimiter: Some(s("/")),
            encoding_type_url: true,
            ..list_defaults()
        };
        assert_eq!(
            ok("GET /bucket?list-type=2&prefix=dir%2F&delimiter=%2F&encoding-type=url HTTP/1.1"),
            Endpoint::ListObjectsV2 {
                bucket: s("bucket"),
                params: expect_v2
            }
        );
        let expect_v2 = ListParams {
            max_keys: 1000,
            continuation_token: Some(s("tok+/=")),
            start_after: Some(s("k1")),
            fetch_owner: true,
            ..list_defaults()
        };
        assert_eq!(
            ok("GET /bucket/?list-type=2&continuation-token=tok%2B%2F%3D&start-after=k1&fetch-owner=true&max-keys=5000 HTTP/1.1"),
            Endpoint::ListObjectsV2 { bucket: s("bucket"), params: expect_v2 }
        );
        // Defaults; empty delimiter counts as absent; v1 ignores v2 parameters and vice versa.
        assert_eq!(
            ok("GET /bucket?delimiter=&start-after=x&continuation-token=y HTTP/1.1"),
            Endpoint::ListObjectsV1 {
                bucket: s("bucket"),
                params: list_defaults()
            }
        );
        assert_eq!(
            ok("GET /bucket?list-type=2&marker=m&max-keys=0 HTTP/1.1"),
            Endpoint::ListObjectsV2 {
                bucket: s("bucket"),
                params: ListParams {
                    max_keys: 0,
                    ..list_defaults()
                }
            }
        );
        assert_eq!(
            ok("GET /bucket?max-keys=99999999999999999999999 HTTP/1.1"),
            Endpoint::ListObjectsV1 {
                bucket: s("bucket"),
                params: list_defaults()
            }
        );
        assert_eq!(
            ok("GET /bucket?uploads&prefix=p&delimiter=%2F&max-uploads=2&key-marker=k&upload-id-marker=u&encoding-type=url HTTP/1.1"),
            Endpoint::ListMultipartUploads {
                bucket: s("bucket"),
                params: ListUploadsParams {
                    prefix: s("p"),
                    delimiter: Some(s("/")),
                    max_uploads: 2,
                    key_marker: Some(s("k")),
                    upload_id_marker: Some(s("u")),
                    encoding_type_url: true,
                },
            }
        );
        assert_eq!(
            ok("GET /bucket?versions&prefix=photos%2F&delimiter=%2F&encoding-type=url&key-marker=photos%2Fa%20b&version-id-marker=0b1c2d3e-4f50-4617-8899-aabbccddeeff&max-keys=2 HTTP/1.1"),
            Endpoint::ListObjectVersions {
                bucket: s("bucket"),
                params: ListVersionsParams {
                    prefix: s("photos/"),
                    delimiter: Some(s("/")),
                    max_keys: 2,
                    key_marker: Some(s("photos/a b")),
                    version_id_marker: Some(s("0b1c2d3e-4f50-4617-8899-aabbccddeeff")),
                    encoding_type_url: true,
                },
            }
        );
        // boto3 list_object_versions(Prefix="p/", KeyMarker="k", VersionIdMarker="null",
        // MaxKeys=5, Delimiter="/"), exactly as botocore sends it.
        assert_eq!(
            ok("GET /bucket?versions&prefix=p%2F&key-marker=k&version-id-marker=null&max-keys=5&delimiter=%2F&encoding-type=url HTTP/1.1"),
            Endpoint::ListObjectVersions {
                bucket: s("bucket"),
                params: ListVersionsParams {
                    prefix: s("p/"),
                    delimiter: Some(s("/")),
                    max_keys: 5,
                    key_marker: Some(s("k")),
                    version_id_marker: Some(s("null")),
                    encoding_type_url: true,
                },
            }
        );
        // boto3 list_object_versions(Bucket=..): just ?versions; an empty marker is absent.
        assert_eq!(
            ok("GET /bucket?versions&encoding-type=url&version-id-marker= HTTP/1.1"),
            Endpoint::ListObjectVersions {
                bucket: s("bucket"),
                params: ListVersionsParams {
                    prefix: String::new(),
                    delimiter: None,
                    max_keys: 1000,
                    key_marker: None,
                    version_id_marker: None,
                    encoding_type_url: true,
                },
            }
        );
        assert_eq!(
            ok("GET /bucket?versions&key-marker=a HTTP/1.1"),
            Endpoint::ListObjectVersions {
                bucket: s("bucket"),
                params: ListVersionsParams {
                    prefix: String::new(),
                    delimiter: None,
                    max_keys: 1000,
                    key_marker: Some(s("a")),
                    version_id_marker: None,
                    encoding_type_url: false,
                },
            }
        );
        assert_eq!(
            ok("GET /bucket?versions&max-keys=3&key-marker=a&version-id-marker=null HTTP/1.1"),
            Endpoint::ListObjectVersions {
                bucket: s("bucket"),
                params: ListVersionsParams {
                    prefix: String::new(),
                    delimiter: None,
                    max_keys: 3,
                    key_marker: Some(s("a")),
                    version_id_marker: Some(s("null")),
                    encoding_type_url: false,
                },
            }
        );
        assert_eq!(
            ok("GET /?prefix=my&max-buckets=10&continuation-token=t HTTP/1.1"),
            Endpoint::ListBuckets {
                params: ListBucketsParams {
                    prefix: Some(s("my")),
                    max_buckets: Some(10),
                    continuation_token: Some(s("t")),
                },
            }
        );
    }

    #[test]
    fn multipart_fields() {
        assert_eq!(
            ok("PUT /bucket/big%20file.bin?partNumber=7&uploadId=ZGVwLmlk-xyz_1 HTTP/1.1"),
            Endpoint::UploadPart {
                bucket: s("bucket"),
                key: s("big file.bin"),
                upload_id: s("ZGVwLmlk-xyz_1"),
                part_number: 7,
            }
        );
        assert_eq!(
            ok("GET /bucket/k?uploadId=u1&max-parts=2000&part-number-marker=9 HTTP/1.1"),
            Endpoint::ListParts {
                bucket: s("bucket"),
                key: s("k"),
                upload_id: s("u1"),
                max_parts: 1000,
                part_number_marker: 9,
            }
        );
        assert_eq!(
            ok("GET /bucket/k?uploadId=u1 HTTP/1.1"),
            Endpoint::ListParts {
                bucket: s("bucket"),
                key: s("k"),
                upload_id: s("u1"),
                max_parts: 1000,
                part_number_marker: 0
            }
        );
        assert_eq!(
            ok("GET /bucket/k?versionId=null&partNumber=2 HTTP/1.1"),
            Endpoint::GetObject {
                bucket: s("bucket"),
                key: s("k"),
                version_id: Some(s("null")),
                part_number: Some(2)
            }
        );
        assert_eq!(
            ok("DELETE /bucket/k?versionId=0B1C2D3E-4F50-4617-8899-AABBCCDDEEFF HTTP/1.1"),
            Endpoint::DeleteObject {
                bucket: s("bucket"),
                key: s("k"),
                version_id: Some(s("0B1C2D3E-4F50-4617-8899-AABBCCDDEEFF"))
            }
        );
    }

    #[test]
    fn versioning_and_tagging_endpoints() {
        assert_eq!(
            ok("PUT /bucket?versioning HTTP/1.1"),
            Endpoint::PutBucketVersioning {
                bucket: s("bucket")
            }
        );
        assert_eq!(
            ok("GET /bucket?versioning HTTP/1.1"),
            Endpoint::GetBucketVersioning {
                bucket: s("bucket")
            }
        );
        assert_eq!(
            ok("GET /bucket?tagging HTTP/1.1"),
            Endpoint::GetBucketTagging {
                bucket: s("bucket")
            }
        );
        assert_eq!(
            ok("PUT /bucket?tagging HTTP/1.1"),
            Endpoint::PutBucketTagging {
                bucket: s("bucket")
            }
        );
        assert_eq!(
            ok("DELETE /bucket?tagging HTTP/1.1"),
            Endpoint::DeleteBucketTagging {
                bucket: s("bucket")
            }
        );
        const V: &str = "0b1c2d3e-4f50-4617-8899-aabbccddeeff";
        let object = |method: &str, version: Option<&str>| {
            let query = match version {
                Some(v) => format!("tagging&versionId={v}"),
                None => "tagging".to_owned(),
            };
            ok(&format!("{method} /bucket/dir/k%20x?{query} HTTP/1.1"))
        };
        for version in [None, Some("null"), Some(V)] {
            let version_id = version.map(s);
            let (bucket, key) = (s("bucket"), s("dir/k x"));
            assert_eq!(
                object("GET", version),
                Endpoint::GetObjectTagging {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    version_id: version_id.clone()
                }
            );
            assert_eq!(
                object("PUT", version),
                Endpoint::PutObjectTagging {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    version_id: version_id.clone()
                }
            );
            assert_eq!(
                object("DELETE", version),
                Endpoint::DeleteObjectTagging {
                    bucket,
                    key,
                    version_id: version_id.clone()
                }
            );
            assert_eq!(object("GET", version).version_id(), version);
        }
        // boto3 sends ?tagging= (empty value) and x-id.
        assert_eq!(
            ok("PUT /bucket/k?tagging=&x-id=PutObjectTagging HTTP/1.1").operation(),
            "PutObjectTagging"
        );
        // Tagging is not a PutObject, an UploadPart or a DeleteObject even with their params.
        assert_eq!(
            ok_with(
                "PUT /bucket/k?tagging HTTP/1.1",
                &[("x-amz-copy-source", "src/k")]
            )
            .operation(),
            "PutObjectTagging"
        );
        assert_eq!(
            ok("DELETE /bucket/k?tagging&uploadId=u HTTP/1.1").operation(),
            "DeleteObjectTagging"
        );
    }

    #[test]
    fn version_ids_on_every_object_endpoint() {
        const V: &str = "0B1C2D3E-4F50-4617-8899-AABBCCDDEEFF";
        #[rustfmt::skip]
        let table = [
            "GET /bucket/k?versionId={v} HTTP/1.1",
            "HEAD /bucket/k?versionId={v} HTTP/1.1",
            "DELETE /bucket/k?versionId={v} HTTP/1.1",
            "GET /bucket/k?acl&versionId={v} HTTP/1.1",
            "GET /bucket/k?tagging&versionId={v} HTTP/1.1",
            "PUT /bucket/k?tagging&versionId={v} HTTP/1.1",
            "DELETE /bucket/k?tagging&versionId={v} HTTP/1.1",
        ];
        for line in table {
            for v in ["null", V] {
                let line = line.replace("{v}", v);
                assert_eq!(ok(&line).version_id(), Some(v), "{line}");
                assert_eq!(
                    err(&line.replace(v, "nope")),
                    S3ErrorCode::InvalidArgument,
                    "{line}"
                );
            }
            let line = line
                .replace("&versionId={v}", "")
                .replace("?versionId={v}", "");
            assert_eq!(ok(&line).version_id(), None, "{line}");
        }
        // Operations that take no version id ignore the parameter...
        assert_eq!(
            ok("PUT /bucket/k?versionId=null HTTP/1.1").version_id(),
            None
        );
        // ...and the copy source carries its own.
        match ok_with(
            "PUT /bucket/k?partNumber=1&uploadId=u HTTP/1.1",
            &[("x-amz-copy-source", "/src/k?versionId=null")],
        ) {
            Endpoint::UploadPartCopy { source, .. } => {
                assert_eq!(source.version_id.as_deref(), Some("null"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn copy_source() {
        let copy =
            |value: &str| ok_with("PUT /dst/d%20k HTTP/1.1", &[("x-amz-copy-source", value)]);
        let expect = |bucket: &str, key: &str, version_id: Option<&str>| Endpoint::CopyObject {
            bucket: s("dst"),
            key: s("d k"),
            source: CopySource {
                bucket: s(bucket),
                key: s(key),
                version_id: version_id.map(s),
            },
        };
        assert_eq!(copy("src/a/b.txt"), expect("src", "a/b.txt", None));
        assert_eq!(copy("/src/a/b.txt"), expect("src", "a/b.txt", None));
        assert_eq!(copy("src/a%20b%2Bc%3Fd"), expect("src", "a b+c?d", None));
        assert_eq!(
            copy("/src/caf%C3%A9?versionId=0b1c2d3e-4f50-4617-8899-aabbccddeeff"),
            expect(
                "src",
                "caf\u{e9}",
                Some("0b1c2d3e-4f50-4617-8899-aabbccddeeff")
            )
        );
        assert_eq!(
            copy("src/k?versionId=null"),
            expect("src", "k", Some("null"))
        );
        // botocore: CopySource={"Bucket": "src", "Key": "k k", "VersionId": "null"}.
        assert_eq!(
            copy("src/k%20k?versionId=null"),
            expect("src", "k k", Some("null"))
        );
        // Raw UTF-8 in the header (some clients do not encode).
        assert_eq!(copy("src/caf\u{e9}"), expect("src", "caf\u{e9}", None));

        use S3ErrorCode::*;
        #[rustfmt::skip]
        let cases = [
            ("src", InvalidArgument),
            ("src/", InvalidArgument),
            ("/src", InvalidArgument),
            ("/", InvalidArgument),
            ("", InvalidArgument),
            ("src/a%zz", InvalidArgument),
            ("src/a?versionId=", InvalidArgument),
            ("src/a?versionId=3%2F4", InvalidArgument),
            ("src/a?versionId=..%2F..%2Fformat.json", InvalidArgument),
            ("Bad_Bucket/k", NoSuchBucket),
            ("src/a/../b", InvalidObjectName),
        ];
        for (value, code) in cases {
            assert_eq!(
                err_with("PUT /dst/k HTTP/1.1", &[("x-amz-copy-source", value)]),
                code,
                "{value:?}"
            );
        }

        // UploadPartCopy keeps the range.
        assert_eq!(
            ok_with(
                "PUT /dst/k?partNumber=2&uploadId=u HTTP/1.1",
                &[
                    ("x-amz-copy-source", "src/big"),
                    ("x-amz-copy-source-range", "bytes=5242880-10485759")
                ]
            ),
            Endpoint::UploadPartCopy {
                bucket: s("dst"),
                key: s("k"),
                upload_id: s("u"),
                part_number: 2,
                source: CopySource {
                    bucket: s("src"),
                    key: s("big"),
                    version_id: None
                },
                range: Some(CopySourceRange {
                    first: 5_242_880,
                    last: 10_485_759
                }),
            }
        );
        assert_eq!(
            ok_with(
                "PUT /dst/k?partNumber=2&uploadId=u HTTP/1.1",
                &[("x-amz-copy-source", "src/big")]
            )
            .operation(),
            "UploadPartCopy"
        );
        for range in [
            "bytes=5-",
            "bytes=-5",
            "bytes=9-5",
            "5-9",
            "bytes=a-b",
            "bytes=1-2,4-5",
            "bytes=+1-2",
        ] {
            assert_eq!(
                err_with(
                    "PUT /dst/k?partNumber=1&uploadId=u HTTP/1.1",
                    &[
                        ("x-amz-copy-source", "src/k"),
                        ("x-amz-copy-source-range", range)
                    ]
                ),
                InvalidArgument,
                "{range}"
            );
        }
    }

    #[test]
    fn virtual_host_style() {
        let route_host = |line: &str, host: &str, domain: Option<&str>| {
            let mut h = head(line, &[]);
            h.headers
                .insert("host", ::http::HeaderValue::from_str(host).expect("host"));
            route(&h, domain)
        };
        let domain = Some("s3.example.com");
        type Row<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);
        #[rustfmt::skip]
        let table: &[Row] = &[
            ("GET / HTTP/1.1", "bucket.s3.example.com", "ListObjects", Some("bucket"), None),
            ("GET /?list-type=2 HTTP/1.1", "bucket.s3.example.com:9000", "ListObjectsV2", Some("bucket"), None),
            ("GET /key/with%20space HTTP/1.1", "Bucket.S3.Example.Com", "GetObject", Some("bucket"), Some("key/with space")),
            ("PUT / HTTP/1.1", "my.dotted.bucket.s3.example.com", "CreateBucket", Some("my.dotted.bucket"), None),
            ("PUT /k?uploadId=u&partNumber=1 HTTP/1.1", "b12.s3.example.com.", "UploadPart", Some("b12"), Some("k")),
            // The domain itself, another host, or an IP: path style.
            ("GET / HTTP/1.1", "s3.example.com", "ListBuckets", None, None),
            ("GET /bucket/k HTTP/1.1", "s3.example.com:9000", "GetObject", Some("bucket"), Some("k")),
            ("GET /bucket/k HTTP/1.1", "10.0.0.1:9000", "GetObject", Some("bucket"), Some("k")),
            ("GET /bucket/k HTTP/1.1", "[::1]:9000", "GetObject", Some("bucket"), Some("k")),
            ("GET /bucket/k HTTP/1.1", "evil-s3.example.com", "GetObject", Some("bucket"), Some("k")),
            ("GET /minio/health/live HTTP/1.1", "s3.example.com", "HealthLive", None, None),
        ];
        for (line, host, operation, bucket, key) in table {
            let endpoint =
                route_host(line, host, domain).unwrap_or_else(|e| panic!("{line} {host}: {e}"));
            assert_eq!(endpoint.operation(), *operation, "{line} {host}");
            assert_eq!(endpoint.bucket(), *bucket, "{line} {host}");
            assert_eq!(endpoint.key(), *key, "{line} {host}");
        }
        // Without a domain, Host is ignored.
        let endpoint = route_host("GET / HTTP/1.1", "bucket.s3.example.com", None).expect("route");
        assert_eq!(endpoint.operation(), "ListBuckets");
        // On a bucket host, /minio/health/live is an object key.
        let endpoint = route_host(
            "GET /minio/health/live HTTP/1.1",
            "bucket.s3.example.com",
            domain,
        )
        .expect("route");
        assert_eq!(endpoint.key(), Some("minio/health/live"));
        // Invalid bucket from the host name.
        let err = route_host("PUT / HTTP/1.1", "bad_bucket.s3.example.com", domain).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::InvalidBucketName);
        let err = route_host("GET //k HTTP/1.1", "bucket.s3.example.com", domain).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::InvalidObjectName);
    }

    #[test]
    fn unsupported_answers() {
        let answer = |line: &str| match ok(line) {
            Endpoint::Unsupported { op, .. } => op.answer,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(
            answer("GET /bucket?policy HTTP/1.1"),
            S3ErrorCode::NoSuchBucketPolicy
        );
        assert_eq!(
            answer("GET /bucket?object-lock HTTP/1.1"),
            S3ErrorCode::ObjectLockConfigurationNotFound
        );
        assert_eq!(
            answer("GET /bucket?encryption HTTP/1.1"),
            S3ErrorCode::ServerSideEncryptionConfigurationNotFound
        );
        assert_eq!(
            answer("PUT /bucket?lifecycle HTTP/1.1"),
            S3ErrorCode::NotImplemented
        );
        assert_eq!(answer("POST /bucket HTTP/1.1"), S3ErrorCode::NotImplemented);
        assert_eq!(
            ok("PUT /bucket/k?acl HTTP/1.1"),
            Endpoint::Unsupported {
                bucket: s("bucket"),
                key: Some(s("k")),
                op: UnsupportedOp {
                    operation: "PutObjectAcl",
                    answer: S3ErrorCode::NotImplemented
                },
            }
        );
        // An invalid bucket name on an unsupported operation is still NoSuchBucket.
        assert_eq!(err("GET /Bad?policy HTTP/1.1"), S3ErrorCode::NoSuchBucket);
    }

    #[test]
    fn query_parsing() {
        let q = Query::parse("a&b=&c=1&c=2&d=x%20y+z&&").expect("query");
        assert!(q.has("a") && q.has("b") && !q.has("e"));
        assert_eq!(q.get("a"), Some(""));
        assert_eq!(q.get("c"), Some("1"));
        assert_eq!(q.get("d"), Some("x y+z"));
        assert_eq!(q.get_nonempty("b"), None);
        assert!(Query::parse("a=%").is_err());
        assert_eq!(percent_decode("plain").expect("decode"), "plain");
        assert_eq!(percent_decode("%41%62").expect("decode"), "Ab");
    }
}

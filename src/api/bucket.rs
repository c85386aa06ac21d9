//! Bucket operations, and DeleteObjects (a bucket-level request that fans out per key).

use minnow_net::http::{HttpConn, RequestHead};
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::{check_object_key, check_version_id};
use minnow_net::s3::sigv4::AuthOk;
use minnow_net::s3::tagging::{parse_tagging, tagging_xml, TagTarget};
use minnow_net::s3::xml::{
    self, BucketEntry, DeleteErrorEntry, DeleteResult, DeletedEntry, ListAllMyBucketsResult, Owner,
    VersioningStatus,
};

use super::{read_small_body, Reply, Response, ServerCtx};
use crate::bucket_config::BucketConfigChange;
use crate::cross_core::DeleteTarget;
use crate::erasure::DeleteOutcome;
use crate::object::{ObjectError, Versioning};

/// The owner of every bucket: the root user.
pub fn owner(ctx: &ServerCtx) -> Owner {
    Owner {
        id: "02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4".into(),
        display_name: ctx.config.access_key.clone(),
    }
}

/// ListBuckets.
pub async fn list_buckets(ctx: &ServerCtx) -> Result<Reply, S3Error> {
    let buckets = ctx.cluster.list_buckets().await?;
    let xml = ListAllMyBucketsResult {
        owner: owner(ctx),
        buckets: buckets
            .into_iter()
            .map(|v| BucketEntry {
                name: v.name,
                created_ns: v.created_ns,
            })
            .collect(),
        continuation_token: None,
        prefix: None,
    }
    .to_xml();
    Ok(Reply::Full(Response::xml(xml)))
}

/// CreateBucket. An optional CreateBucketConfiguration body may name the server's region and
/// no other: the bucket could not be where the client asked.
pub async fn create_bucket(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    let body = read_small_body(ctx, conn, head, auth).await?;
    if let Some(location) = xml::parse_create_bucket_configuration(&body)? {
        if location != ctx.config.region {
            return Err(S3Error::with_message(
                S3ErrorCode::IllegalLocationConstraint,
                format!(
                    "The {location} location constraint is incompatible for the region \
                     specific endpoint this request was sent to ({}).",
                    ctx.config.region
                ),
            ));
        }
    }
    if !ctx.cluster.make_bucket(bucket).await? {
        return Err(S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou));
    }
    Ok(Reply::Full(
        Response::new(200).header("location", format!("/{bucket}")),
    ))
}

/// HeadBucket.
pub async fn head_bucket(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(
        Response::new(200).header("x-amz-bucket-region", ctx.config.region.clone()),
    ))
}

/// DeleteBucket.
pub async fn delete_bucket(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.delete_bucket(bucket).await?;
    Ok(Reply::Full(Response::new(204)))
}

/// GetBucketLocation: the server's region (us-east-1 is the empty constraint).
pub async fn location(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(Response::xml(xml::location_constraint_xml(
        &ctx.config.region,
    ))))
}

/// GetBucketVersioning: no Status until versioning was first enabled or suspended.
pub async fn versioning(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    let config = ctx.bucket_config(bucket).await?;
    let status = match config.versioning {
        Versioning::Unversioned => None,
        Versioning::Enabled => Some(VersioningStatus::Enabled),
        Versioning::Suspended => Some(VersioningStatus::Suspended),
    };
    Ok(Reply::Full(Response::xml(
        xml::versioning_configuration_xml(status),
    )))
}

/// PutBucketVersioning. A bucket once versioned can be suspended but never unversioned again.
pub async fn put_versioning(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    let body = read_small_body(ctx, conn, head, auth).await?;
    let versioning = match xml::parse_versioning_configuration(&body)? {
        VersioningStatus::Enabled => Versioning::Enabled,
        VersioningStatus::Suspended => Versioning::Suspended,
    };
    drop(body);
    ctx.cluster
        .change_bucket_config(bucket, BucketConfigChange::Versioning(versioning))
        .await
        .map_err(|e| match e {
            // AWS answers a VersioningConfiguration it cannot apply with MalformedXML.
            ObjectError::InvalidArgument(why) => {
                S3Error::with_message(S3ErrorCode::MalformedXML, why)
            }
            other => S3Error::from(other),
        })?;
    Ok(Reply::Full(Response::new(200)))
}

/// GetBucketTagging: NoSuchTagSet (404) for a bucket without tags, as AWS answers.
pub async fn tagging(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    let config = ctx.bucket_config(bucket).await?;
    if config.tags.is_empty() {
        return Err(S3Error::new(S3ErrorCode::NoSuchTagSet));
    }
    Ok(Reply::Full(Response::xml(tagging_xml(&config.tags))))
}

/// PutBucketTagging: replaces the whole tag set (204, as AWS answers).
pub async fn put_tagging(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    let body = read_small_body(ctx, conn, head, auth).await?;
    let tags = parse_tagging(&body, TagTarget::Bucket)?;
    drop(body);
    ctx.cluster
        .change_bucket_config(bucket, BucketConfigChange::Tags(tags))
        .await?;
    Ok(Reply::Full(Response::new(204)))
}

/// DeleteBucketTagging: 204, also when there were no tags.
pub async fn delete_tagging(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster
        .change_bucket_config(bucket, BucketConfigChange::Tags(Vec::new()))
        .await?;
    Ok(Reply::Full(Response::new(204)))
}

/// GetBucketAcl: the owner has FULL_CONTROL.
pub async fn acl(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(Response::xml(xml::access_control_policy_xml(
        &owner(ctx),
    ))))
}

/// GetObjectAcl: as the bucket's, for a version that exists.
pub async fn object_acl(
    ctx: &ServerCtx,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Reply, S3Error> {
    ctx.cluster.head_object(bucket, key, version_id).await?;
    Ok(Reply::Full(Response::xml(xml::access_control_policy_xml(
        &owner(ctx),
    ))))
}

/// DeleteObjects: the keys are grouped by set, each set deletes its group concurrently on the
/// core that owns it, and the answer lists the keys in the request's order (deleted ones, then
/// failed ones, as S3 renders them). Per-key failures are reported in the result, not as a
/// request failure; Quiet mode lists only the failures.
pub async fn delete_objects(
    ctx: &ServerCtx,
    conn: &mut HttpConn,
    head: &RequestHead,
    auth: &AuthOk,
    bucket: &str,
) -> Result<Reply, S3Error> {
    if head.header("content-md5").is_none()
        && !head
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-checksum-"))
        && head.header("x-amz-sdk-checksum-algorithm").is_none()
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: Content-MD5",
        ));
    }
    let body = read_small_body(ctx, conn, head, auth).await?;
    let request = xml::parse_delete(&body)?;
    drop(body); // its memory goes back before the deletes
    let versioning = ctx.bucket_config(bucket).await?.versioning;

    // Per object, in request order: answered here (a bad key or version id) or sent to its
    // set (the index into `targets`).
    enum Plan {
        Answered(S3Error),
        Sent(usize),
    }
    let mut targets = Vec::new();
    let plans: Vec<Plan> = request
        .objects
        .iter()
        .map(|object| {
            let checked = check_object_key(&object.key).and_then(|()| {
                object
                    .version_id
                    .as_deref()
                    .map_or(Ok(()), check_version_id)
            });
            match checked {
                Err(e) => Plan::Answered(e),
                Ok(()) => {
                    targets.push(DeleteTarget {
                        key: object.key.clone(),
                        version_id: super::version_arg(object.version_id.as_deref())
                            .map(str::to_string),
                    });
                    Plan::Sent(targets.len() - 1)
                }
            }
        })
        .collect();
    let mut outcomes: Vec<Option<Result<DeleteOutcome, ObjectError>>> = ctx
        .cluster
        .delete_objects(bucket, targets, versioning)
        .await
        .into_iter()
        .map(Some)
        .collect();
    let mut result = DeleteResult {
        quiet: request.quiet,
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for (object, plan) in request.objects.into_iter().zip(plans) {
        let outcome = match plan {
            Plan::Answered(e) => Err(e),
            Plan::Sent(i) => outcomes[i]
                .take()
                .expect("the cluster answers every target once")
                .map_err(S3Error::from),
        };
        match outcome {
            Ok(done) => {
                let shown = done
                    .version_id
                    .and_then(|id| super::version_header(&id, versioning));
                // A marker added (or a marker deleted by its id) is reported with its id.
                let marker_version = shown.filter(|_| done.delete_marker);
                result.deleted.push(DeletedEntry {
                    key: object.key,
                    version_id: object.version_id,
                    delete_marker: done.delete_marker,
                    delete_marker_version_id: marker_version,
                })
            }
            Err(error) => result.errors.push(DeleteErrorEntry {
                key: object.key,
                version_id: object.version_id,
                error,
            }),
        }
    }
    Ok(Reply::Full(Response::xml(result.to_xml())))
}

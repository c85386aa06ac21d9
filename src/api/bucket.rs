//! Bucket operations, and DeleteObjects (a bucket-level request that fans out per key).

use minnow_net::http::{HttpConn, RequestHead};
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::{check_object_key, check_version_id};
use minnow_net::s3::sigv4::AuthOk;
use minnow_net::s3::xml::{
    self, BucketEntry, DeleteErrorEntry, DeleteResult, DeletedEntry, ListAllMyBucketsResult, Owner,
};

use super::{read_small_body, Reply, Response, ServerCtx};
use crate::cross_core::{DeleteOutcome, DeleteTarget};

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

/// GetBucketVersioning: minnow does not version yet, so never enabled.
pub async fn versioning(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(Response::xml(
        xml::versioning_configuration_xml(None),
    )))
}

/// GetBucketAcl: the owner has FULL_CONTROL.
pub async fn acl(ctx: &ServerCtx, bucket: &str) -> Result<Reply, S3Error> {
    ctx.cluster.stat_bucket(bucket).await?;
    Ok(Reply::Full(Response::xml(xml::access_control_policy_xml(
        &owner(ctx),
    ))))
}

/// GetObjectAcl: as the bucket's.
pub async fn object_acl(ctx: &ServerCtx, bucket: &str, key: &str) -> Result<Reply, S3Error> {
    ctx.cluster.head_object(bucket, key).await?;
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
    ctx.cluster.stat_bucket(bucket).await?;

    // Per object, in request order: answered here (bad key or version id, or a version that
    // does not exist) or sent to its set (the index into `targets`).
    enum Plan {
        Answered(Result<DeleteOutcome, S3Error>),
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
                Err(e) => Plan::Answered(Err(e)),
                // A version that does not exist is deleted already (S3 reports it as deleted).
                Ok(()) if super::require_null_version(object.version_id.as_deref()).is_err() => {
                    Plan::Answered(Ok(DeleteOutcome {
                        delete_marker: false,
                        version_id: object.version_id.clone(),
                    }))
                }
                Ok(()) => {
                    targets.push(DeleteTarget {
                        key: object.key.clone(),
                        version_id: object.version_id.clone(),
                    });
                    Plan::Sent(targets.len() - 1)
                }
            }
        })
        .collect();
    let mut outcomes: Vec<Option<Result<DeleteOutcome, S3Error>>> = ctx
        .cluster
        .delete_objects(bucket, targets)
        .await
        .into_iter()
        .map(|r| Some(r.map_err(S3Error::from)))
        .collect();

    let mut result = DeleteResult {
        quiet: request.quiet,
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for (object, plan) in request.objects.into_iter().zip(plans) {
        let outcome = match plan {
            Plan::Answered(outcome) => outcome,
            Plan::Sent(i) => outcomes[i]
                .take()
                .expect("the cluster answers every target once"),
        };
        match outcome {
            Ok(done) => result.deleted.push(DeletedEntry {
                key: object.key,
                version_id: object.version_id,
                delete_marker: done.delete_marker,
                delete_marker_version_id: done.delete_marker.then_some(done.version_id).flatten(),
            }),
            Err(error) => result.errors.push(DeleteErrorEntry {
                key: object.key,
                version_id: object.version_id,
                error,
            }),
        }
    }
    Ok(Reply::Full(Response::xml(result.to_xml())))
}

//! Request headers that ask for something minnow does not do: encryption, object lock, ACLs
//! that grant access, conditional writes. Ignoring one would be a silent lie (data stored in
//! clear when the client asked for it encrypted, a "locked" object that deletes fine, an
//! overwrite the client asked to prevent), so such a request is refused, before its body is
//! read, with the answer S3 itself gives in minnow's situation.
//!
//! Settings minnow would otherwise drop are refused the same way:
//! `x-amz-website-redirect-location` (no website hosting), so a client never believes it stored
//! it. Object tags (`x-amz-tagging`) are stored, and checked by the handlers with
//! `minnow_net::s3::tagging::request_tags`.
//!
//! MFA delete: minnow has no MFA devices, so no bucket ever has MFA delete on. An `x-amz-mfa`
//! header (PutBucketVersioning, DeleteObject, DeleteObjects) asks for an MFA-checked change
//! minnow cannot check, and is refused as NotImplemented rather than ignored; the matching
//! `<MfaDelete>Enabled</MfaDelete>` in a versioning body is refused by
//! `minnow_net::s3::xml::parse_versioning_configuration`.
//!
//! Left alone on purpose (they ask for no protection or condition, or minnow gives it anyway):
//! `x-amz-acl: private` / `bucket-owner-full-control` (what every minnow object has),
//! `x-amz-request-payer`, `x-amz-expected-bucket-owner`, `x-amz-object-ownership`.

use minnow_net::http::RequestHead;
use minnow_net::s3::error::{S3Error, S3ErrorCode};
use minnow_net::s3::router::Endpoint;

/// Which headers a request may carry depends on what it does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operation {
    /// PutObject, CopyObject, CreateMultipartUpload: a new object (version) with its settings.
    NewObject,
    /// UploadPart, UploadPartCopy, CompleteMultipartUpload.
    Part,
    /// GetObject, HeadObject.
    Read,
    /// CreateBucket.
    NewBucket,
    /// DeleteObject.
    Delete,
    /// DeleteObjects, PutBucketVersioning: only MFA applies.
    MfaProtected,
}

/// Refuses a request whose headers ask for a feature minnow lacks; runs after authentication
/// and before the handler, so nothing is read or stored.
pub fn check(head: &RequestHead, endpoint: &Endpoint) -> Result<(), S3Error> {
    use Endpoint::*;
    let operation = match endpoint {
        PutObject { .. } | CopyObject { .. } | CreateMultipartUpload { .. } => Operation::NewObject,
        UploadPart { .. } | UploadPartCopy { .. } | CompleteMultipartUpload { .. } => {
            Operation::Part
        }
        GetObject { .. } | HeadObject { .. } => Operation::Read,
        CreateBucket { .. } => Operation::NewBucket,
        DeleteObject { .. } => Operation::Delete,
        DeleteObjects { .. } | PutBucketVersioning { .. } => Operation::MfaProtected,
        _ => return Ok(()),
    };
    for (name, value) in head.headers.iter() {
        let value = String::from_utf8_lossy(value.as_bytes());
        if let Some(error) = refusal(operation, endpoint, name.as_str(), value.trim()) {
            tracing::warn!(
                method = %head.method,
                path = %head.path,
                header = name.as_str(),
                error = %error,
                "request refused: it asks for a feature minnow does not implement"
            );
            return Err(error);
        }
    }
    Ok(())
}

/// The answer to one header of a request, if it is refused.
fn refusal(operation: Operation, endpoint: &Endpoint, name: &str, value: &str) -> Option<S3Error> {
    use Operation::*;
    if matches!(operation, Delete | MfaProtected) && name == "x-amz-mfa" {
        return Some(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "MFA Delete (x-amz-mfa) is not implemented by minnow",
        ));
    }
    if operation == MfaProtected {
        return None;
    }
    let object_op = !matches!(operation, NewBucket | Delete);
    // SSE-C: AWS and MinIO answer a customer key sent over plain HTTP with this error, and
    // minnow serves plain HTTP only, so it is the answer S3 gives here (and it stays true:
    // minnow has no TLS and no SSE-C).
    if object_op
        && (name.starts_with("x-amz-server-side-encryption-customer-")
            || name.starts_with("x-amz-copy-source-server-side-encryption-customer-"))
    {
        return Some(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Requests specifying Server Side Encryption with Customer provided keys must be \
             made over a secure connection.",
        ));
    }
    // SSE-S3 / SSE-KMS: MinIO without a KMS answers NotImplemented; minnow has no encryption
    // at rest at all, so the object would be stored in clear.
    if operation == NewObject && name.starts_with("x-amz-server-side-encryption") {
        return Some(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!("Server-side encryption ({name}) is not implemented by minnow"),
        ));
    }
    // Object lock: a minnow bucket never has an object lock configuration (CreateBucket refuses
    // one), and this is S3's answer for lock headers on such a bucket.
    if operation == NewObject && name.starts_with("x-amz-object-lock-") {
        return Some(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        ));
    }
    if operation == NewBucket
        && name == "x-amz-bucket-object-lock-enabled"
        && value.eq_ignore_ascii_case("true")
    {
        return Some(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Object Lock is not implemented by minnow",
        ));
    }
    // ACLs: only the owner ever has access, as in an S3 bucket with ACLs disabled ("bucket
    // owner enforced"), which accepts the ACLs that say so and refuses the rest this way.
    if matches!(operation, NewObject | NewBucket)
        && ((name == "x-amz-acl"
            && !value.eq_ignore_ascii_case("private")
            && !value.eq_ignore_ascii_case("bucket-owner-full-control"))
            || name.starts_with("x-amz-grant-"))
    {
        return Some(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
    }
    // Conditional writes (S3 refuses to overwrite, or to write at an offset, when told): minnow
    // would overwrite unconditionally.
    let conditional_write = matches!(
        endpoint,
        Endpoint::PutObject { .. } | Endpoint::CompleteMultipartUpload { .. }
    ) && matches!(name, "if-match" | "if-none-match");
    let conditional_delete = operation == Delete
        && matches!(
            name,
            "if-match" | "x-amz-if-match-last-modified-time" | "x-amz-if-match-size"
        );
    if conditional_write
        || conditional_delete
        || (operation == NewObject && name == "x-amz-write-offset-bytes")
    {
        return Some(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!("Conditional writes ({name}) are not implemented by minnow"),
        ));
    }
    // A setting that would be silently dropped: a website redirect.
    if operation == NewObject && name == "x-amz-website-redirect-location" {
        return Some(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!("{name} is not implemented by minnow: the object would be stored without it"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use minnow_net::http::parse_head;
    use minnow_net::s3::router::CopySource;

    fn put() -> Endpoint {
        Endpoint::PutObject {
            bucket: "b".into(),
            key: "k".into(),
        }
    }

    fn answer(endpoint: &Endpoint, name: &str, value: &str) -> Option<S3ErrorCode> {
        let raw = format!("PUT /b/k HTTP/1.1\r\nhost: h\r\n{name}: {value}\r\n\r\n");
        let (head, _) = parse_head(raw.as_bytes())
            .expect("valid head")
            .expect("complete head");
        check(&head, endpoint).err().map(|e| e.code)
    }

    #[test]
    fn protection_headers_are_refused_where_they_apply() {
        use S3ErrorCode::*;
        let copy = Endpoint::CopyObject {
            bucket: "b".into(),
            key: "k".into(),
            source: CopySource {
                bucket: "s".into(),
                key: "k".into(),
                version_id: None,
            },
        };
        let create = Endpoint::CreateMultipartUpload {
            bucket: "b".into(),
            key: "k".into(),
        };
        let get = Endpoint::GetObject {
            bucket: "b".into(),
            key: "k".into(),
            part_number: None,
            version_id: None,
        };
        let bucket = Endpoint::CreateBucket { bucket: "b".into() };
        let delete = Endpoint::DeleteObject {
            bucket: "b".into(),
            key: "k".into(),
            version_id: None,
        };
        for new_object in [&put(), &copy, &create] {
            for (name, value, code) in [
                ("x-amz-server-side-encryption", "AES256", NotImplemented),
                ("x-amz-server-side-encryption", "aws:kms", NotImplemented),
                (
                    "x-amz-server-side-encryption-aws-kms-key-id",
                    "k",
                    NotImplemented,
                ),
                (
                    "x-amz-server-side-encryption-customer-algorithm",
                    "AES256",
                    InvalidRequest,
                ),
                ("x-amz-object-lock-mode", "GOVERNANCE", InvalidRequest),
                (
                    "x-amz-object-lock-retain-until-date",
                    "2030-01-01T00:00:00Z",
                    InvalidRequest,
                ),
                ("x-amz-object-lock-legal-hold", "ON", InvalidRequest),
                ("x-amz-acl", "public-read", AccessControlListNotSupported),
                ("x-amz-grant-read", "id=x", AccessControlListNotSupported),
                ("x-amz-write-offset-bytes", "0", NotImplemented),
                ("x-amz-website-redirect-location", "/x", NotImplemented),
            ] {
                assert_eq!(answer(new_object, name, value), Some(code), "{name}");
            }
            for (name, value) in [
                ("x-amz-acl", "private"),
                ("x-amz-acl", "bucket-owner-full-control"),
                ("x-amz-storage-class", "STANDARD"),
                ("x-amz-meta-a", "1"),
                ("content-type", "text/plain"),
                // Tags are stored now; their rules are the handlers' check.
                ("x-amz-tagging", "a=1"),
                ("x-amz-tagging-directive", "REPLACE"),
            ] {
                assert_eq!(answer(new_object, name, value), None, "{name}");
            }
        }
        assert_eq!(
            answer(
                &copy,
                "x-amz-copy-source-server-side-encryption-customer-key",
                "k"
            ),
            Some(InvalidRequest)
        );
        // Conditional writes on PUT; on a GET the same headers are ordinary conditions.
        assert_eq!(answer(&put(), "if-none-match", "*"), Some(NotImplemented));
        assert_eq!(answer(&put(), "if-match", "\"e\""), Some(NotImplemented));
        let complete = Endpoint::CompleteMultipartUpload {
            bucket: "b".into(),
            key: "k".into(),
            upload_id: "u".into(),
        };
        assert_eq!(
            answer(&complete, "if-none-match", "*"),
            Some(NotImplemented)
        );
        assert_eq!(answer(&get, "if-none-match", "*"), None);
        assert_eq!(answer(&copy, "if-match", "\"e\""), None);
        // SSE-C on reads; the other families do not apply to them.
        assert_eq!(
            answer(&get, "x-amz-server-side-encryption-customer-key-md5", "x"),
            Some(InvalidRequest)
        );
        assert_eq!(answer(&get, "x-amz-acl", "public-read"), None);
        // CreateBucket: object lock and ACLs.
        assert_eq!(
            answer(&bucket, "x-amz-bucket-object-lock-enabled", "True"),
            Some(NotImplemented)
        );
        assert_eq!(
            answer(&bucket, "x-amz-bucket-object-lock-enabled", "false"),
            None
        );
        assert_eq!(
            answer(&bucket, "x-amz-acl", "public-read-write"),
            Some(AccessControlListNotSupported)
        );
        assert_eq!(answer(&bucket, "x-amz-acl", "private"), None);
        // Conditional deletes; the write settings mean nothing to a DELETE.
        assert_eq!(answer(&delete, "if-match", "\"e\""), Some(NotImplemented));
        assert_eq!(
            answer(&delete, "x-amz-if-match-size", "3"),
            Some(NotImplemented)
        );
        assert_eq!(
            answer(&delete, "x-amz-server-side-encryption", "AES256"),
            None
        );
        assert_eq!(answer(&delete, "x-amz-tagging", "a=1"), None);
        assert_eq!(answer(&put(), "x-amz-tagging", ""), None);
    }

    #[test]
    fn mfa_is_refused_where_s3_takes_it() {
        use S3ErrorCode::*;
        let mfa = "arn:aws:iam::123456789012:mfa/user 123456";
        let delete = Endpoint::DeleteObject {
            bucket: "b".into(),
            key: "k".into(),
            version_id: Some("null".into()),
        };
        let delete_many = Endpoint::DeleteObjects { bucket: "b".into() };
        let versioning = Endpoint::PutBucketVersioning { bucket: "b".into() };
        for endpoint in [&delete, &delete_many, &versioning] {
            assert_eq!(
                answer(endpoint, "x-amz-mfa", mfa),
                Some(NotImplemented),
                "{endpoint:?}"
            );
            // Nothing else is refused on them here.
            assert_eq!(
                answer(endpoint, "x-amz-bypass-governance-retention", "true"),
                None
            );
            assert_eq!(answer(endpoint, "content-md5", "x"), None);
        }
        // The object-write refusals do not leak onto the MFA-only operations.
        assert_eq!(
            answer(&delete_many, "x-amz-server-side-encryption", "AES256"),
            None
        );
        assert_eq!(answer(&versioning, "x-amz-acl", "public-read"), None);
        assert_eq!(answer(&put(), "x-amz-mfa", mfa), None);
        let tagging = Endpoint::PutObjectTagging {
            bucket: "b".into(),
            key: "k".into(),
            version_id: None,
        };
        assert_eq!(answer(&tagging, "x-amz-mfa", mfa), None);
    }
}

//! The one place where object-layer errors become S3 errors. Server-side failures (quorum lost,
//! internal errors) are logged here, once, with their cause; client errors are not logged.

use minnow_net::s3::error::{S3Error, S3ErrorCode};

use crate::object::ObjectError;

impl From<ObjectError> for S3Error {
    #[track_caller]
    fn from(e: ObjectError) -> Self {
        use ObjectError::*;
        let code = match &e {
            NoSuchBucket(_) => S3ErrorCode::NoSuchBucket,
            BucketNotEmpty(_) => S3ErrorCode::BucketNotEmpty,
            NoSuchKey { .. } => S3ErrorCode::NoSuchKey,
            NoSuchUpload(_) => S3ErrorCode::NoSuchUpload,
            InvalidPart(_) => S3ErrorCode::InvalidPart,
            InvalidPartOrder => S3ErrorCode::InvalidPartOrder,
            EntityTooSmall { .. } => S3ErrorCode::EntityTooSmall,
            ReadQuorum { .. } => S3ErrorCode::SlowDownRead,
            WriteQuorum { .. } => S3ErrorCode::SlowDownWrite,
            StorageFull { .. } => S3ErrorCode::StorageFull,
            Body(_) => S3ErrorCode::IncompleteBody,
            InvalidArgument(_) => S3ErrorCode::InvalidArgument,
            Internal(_) => S3ErrorCode::InternalError,
            SlowDown(_) => S3ErrorCode::SlowDown,
            NoSuchVersion { .. } => S3ErrorCode::NoSuchVersion,
            DeleteMarker { by_id: true, .. } => S3ErrorCode::MethodNotAllowed,
            DeleteMarker { by_id: false, .. } => S3ErrorCode::NoSuchKey,
            TooManyVersions { .. } => S3ErrorCode::MaxVersionsExceeded,
        };
        if code.status() >= 500 {
            let at = std::panic::Location::caller();
            tracing::error!(code = code.code(), error = %e, at = %at, "request failed");
        }
        match &e {
            // Delete markers exist only in buckets that have (or had) versioning, where the
            // null version is shown as `null`.
            DeleteMarker { version_id, .. } => {
                S3Error::delete_marker(code, super::shown_version_id(version_id))
            }
            // Client-facing text for these comes from the table; the cause stays in the log.
            ReadQuorum { .. }
            | WriteQuorum { .. }
            | StorageFull { .. }
            | Internal(_)
            | SlowDown(_) => S3Error::new(code),
            _ => S3Error::with_message(code, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minnow_io::DriveError;

    #[test]
    fn quorum_losses_are_503_and_hide_their_cause() {
        let e: S3Error = ObjectError::ReadQuorum {
            online: 1,
            needed: 2,
            detail: "/secret/path".into(),
        }
        .into();
        assert_eq!(e.code, S3ErrorCode::SlowDownRead);
        assert_eq!(e.status(), 503);
        assert!(!e.message().contains("/secret/path"));
        let e: S3Error = ObjectError::WriteQuorum {
            online: 2,
            needed: 3,
            detail: String::new(),
        }
        .into();
        assert_eq!(e.code, S3ErrorCode::SlowDownWrite);
    }

    #[test]
    fn waits_that_time_out_are_slow_down() {
        let e: S3Error = ObjectError::from(crate::lock::LockTimeout {
            name: "b/k".into(),
            mode: "write",
            waited: std::time::Duration::from_secs(30),
        })
        .into();
        assert_eq!((e.code.code(), e.status()), ("SlowDown", 503));
        assert!(!e.message().contains("b/k"), "the cause stays in the log");
        let e: S3Error = ObjectError::SlowDown("upload memory".into()).into();
        assert_eq!(e.code, S3ErrorCode::SlowDown);
    }

    #[test]
    fn full_drives_are_507_not_a_retry() {
        let full = [
            DriveError::DiskFull,
            DriveError::DiskFull,
            DriveError::Offline,
        ];
        let e = ObjectError::write_quorum(1, 3, &full);
        assert!(matches!(e, ObjectError::StorageFull { .. }), "{e}");
        let e: S3Error = e.into();
        assert_eq!(e.code, S3ErrorCode::StorageFull);
        assert_eq!((e.code.code(), e.status()), ("XMinioStorageFull", 507));
        // One full drive among drives that are gone is a quorum problem, not a full store.
        let mostly_gone = [
            DriveError::DiskFull,
            DriveError::Offline,
            DriveError::Offline,
        ];
        assert!(matches!(
            ObjectError::write_quorum(1, 3, &mostly_gone),
            ObjectError::WriteQuorum { .. }
        ));
    }

    #[test]
    fn client_errors_keep_their_code() {
        let cases = [
            (
                ObjectError::NoSuchBucket("b".into()),
                S3ErrorCode::NoSuchBucket,
            ),
            (
                ObjectError::BucketNotEmpty("b".into()),
                S3ErrorCode::BucketNotEmpty,
            ),
            (
                ObjectError::NoSuchUpload("u".into()),
                S3ErrorCode::NoSuchUpload,
            ),
            (ObjectError::InvalidPart(3), S3ErrorCode::InvalidPart),
            (ObjectError::InvalidPartOrder, S3ErrorCode::InvalidPartOrder),
            (
                ObjectError::EntityTooSmall { part: 1, size: 5 },
                S3ErrorCode::EntityTooSmall,
            ),
        ];
        for (obj, code) in cases {
            let e: S3Error = obj.into();
            assert_eq!(e.code, code);
        }
    }
}

//! Every version-level drive call through the shared fault-injecting drive, with every error
//! kind: one faulty drive is outvoted by quorum; enough of them give the S3 error the client
//! must see, and a write that fails leaves what was there before.

use minnow_net::s3::error::{S3Error, S3ErrorCode};

use super::*;
use crate::object::Versioning;

/// The error kinds a drive reports about an object (not the volume-level ones).
fn kinds() -> Vec<DriveError> {
    vec![
        DriveError::FileNotFound,
        DriveError::VersionNotFound,
        DriveError::Corrupt {
            path: "b/k/xl.meta".into(),
            reason: "payload CRC mismatch".into(),
        },
        DriveError::Offline,
        DriveError::DiskFull,
        DriveError::Timeout,
        DriveError::InvalidArgument {
            what: "k".into(),
            reason: "refused".into(),
        },
        DriveError::Faulty {
            op: "rename".into(),
            path: "b/k".into(),
            reason: "Input/output error (os error 5)".into(),
        },
    ]
}

/// The S3 code of a write that missed its quorum because drives failed with `kind`.
fn write_code(kind: &DriveError) -> S3ErrorCode {
    match kind {
        DriveError::DiskFull => S3ErrorCode::StorageFull,
        _ => S3ErrorCode::SlowDownWrite,
    }
}

/// The S3 code a client gets for `e`.
fn code(e: ObjectError) -> S3ErrorCode {
    S3Error::from(e).code
}

impl TestSet {
    /// Fail `op` with `error` on the drives in `slots` (everything else clear).
    fn fail(&self, slots: &[usize], op: Op, error: &DriveError) {
        for d in &self.drives {
            d.clear();
        }
        for &s in slots {
            self.drives[s].fail(op, error.clone());
        }
    }

    async fn put_versioned(&self, key: &str, data: &[u8]) -> Result<ObjectInfo, ObjectError> {
        let mut body = SliceBody { data, pos: 0 };
        let options = PutOptions {
            versioning: Versioning::Enabled,
            ..PutOptions::default()
        };
        let staged = self
            .set
            .stage_object("b", key, &mut body, Some(data.len() as u64), options)
            .await?;
        let etag = format!("{:x}", md5::Md5::digest(data));
        self.set
            .commit_object("b", key, staged, etag, Vec::new())
            .await
    }
}

#[test]
fn reads_outvote_one_drive_and_fail_right_beyond_parity() {
    run(|| async {
        let t = TestSet::new(4).await; // 2 data + 2 parity
        let body = data(300 << 10, 3);
        t.put("k", &body).await.unwrap();
        for kind in kinds() {
            t.fail(&[1], Op::ReadVersion, &kind);
            assert_eq!(t.get("k").await.unwrap(), body, "{kind:?} on one drive");
            t.fail(&[0, 1, 2], Op::ReadVersion, &kind);
            let e = t.get("k").await.unwrap_err();
            let expected = match kind {
                DriveError::FileNotFound | DriveError::VersionNotFound => S3ErrorCode::NoSuchKey,
                _ => S3ErrorCode::SlowDownRead,
            };
            assert_eq!(code(e), expected, "{kind:?} on three drives");
        }
        // Asked by version id, a version most drives do not have is NoSuchVersion.
        t.fail(&[0, 1, 2], Op::ReadVersion, &DriveError::VersionNotFound);
        let e = t.set.head_object("b", "k", Some("")).await.unwrap_err();
        assert_eq!(code(e), S3ErrorCode::NoSuchVersion);
        t.fail(&[], Op::ReadVersion, &DriveError::Offline);
        assert_eq!(t.get("k").await.unwrap(), body);
    });
}

#[test]
fn commits_survive_one_faulty_drive_and_roll_back_beyond() {
    run(|| async {
        let t = TestSet::new(4).await; // write quorum 3
        let old = data(200 << 10, 1);
        t.put("k", &old).await.unwrap();
        for kind in kinds().into_iter().chain([DriveError::TooManyVersions]) {
            let new = data(200 << 10, 9);
            t.fail(&[2], Op::RenameData, &kind);
            t.put("k", &new).await.unwrap();
            assert_eq!(t.get("k").await.unwrap(), new, "{kind:?} on one drive");
            t.fail(&[], Op::RenameData, &kind);
            t.put("k", &old).await.unwrap();

            t.fail(&[0, 3], Op::RenameData, &kind);
            let e = t.put("k", &new).await.unwrap_err();
            let expected = match kind {
                DriveError::DiskFull => S3ErrorCode::StorageFull,
                DriveError::TooManyVersions => S3ErrorCode::MaxVersionsExceeded,
                _ => S3ErrorCode::SlowDownWrite,
            };
            assert_eq!(code(e), expected, "{kind:?} on two drives");
            t.fail(&[], Op::RenameData, &kind);
            // Rolled back on the drives that took it: the old bytes on every drive.
            for lost in [[0, 1], [2, 3]] {
                t.fault(&lost, Fault::Offline);
                assert_eq!(
                    t.get("k").await.unwrap(),
                    old,
                    "{kind:?}: drives {lost:?} away"
                );
            }
            t.fault(&[], Fault::None);
        }
    });
}

#[test]
fn deletes_and_markers_need_a_majority() {
    run(|| async {
        let t = TestSet::new(4).await; // majority 3
        for kind in kinds() {
            let absent = matches!(kind, DriveError::FileNotFound | DriveError::VersionNotFound);
            t.put("k", b"bytes").await.unwrap();
            t.fail(&[0], Op::DeleteVersion, &kind);
            t.set
                .delete_object("b", "k", None, Versioning::Unversioned)
                .await
                .unwrap();
            t.fail(&[], Op::DeleteVersion, &kind);
            assert!(matches!(
                t.get("k").await,
                Err(ObjectError::NoSuchKey { .. })
            ));

            t.put("k", b"bytes").await.unwrap();
            t.fail(&[0, 1], Op::DeleteVersion, &kind);
            let deleted = t
                .set
                .delete_object("b", "k", None, Versioning::Unversioned)
                .await;
            t.fail(&[], Op::DeleteVersion, &kind);
            let expected = match kind {
                DriveError::DiskFull => S3ErrorCode::StorageFull,
                _ => S3ErrorCode::SlowDownWrite,
            };
            match absent {
                // Drives that do not have it count as deleted.
                true => assert!(deleted.is_ok(), "{kind:?}"),
                false => assert_eq!(code(deleted.unwrap_err()), expected, "{kind:?}"),
            }
            t.set
                .delete_object("b", "k", None, Versioning::Unversioned)
                .await
                .unwrap();

            // A delete marker is a version write: one faulty drive is outvoted, two roll back.
            let v = t.put_versioned("m", b"kept").await.unwrap();
            t.fail(&[3], Op::WriteVersion, &kind);
            let marker = t
                .set
                .delete_object("b", "m", None, Versioning::Enabled)
                .await
                .unwrap();
            assert!(marker.delete_marker);
            t.fail(&[2, 3], Op::WriteVersion, &kind);
            let e = t
                .set
                .delete_object("b", "m", None, Versioning::Enabled)
                .await
                .unwrap_err();
            assert_eq!(code(e), write_code(&kind), "{kind:?}");
            t.fail(&[], Op::WriteVersion, &kind);
            // Only the first marker exists: deleting it by id brings the version back.
            let id = marker.version_id.unwrap();
            t.set
                .delete_object("b", "m", Some(&id), Versioning::Enabled)
                .await
                .unwrap();
            let info = t.set.head_object("b", "m", None).await.unwrap();
            assert_eq!(info.version_id, v.version_id, "{kind:?}");
            t.set
                .delete_object("b", "m", Some(&v.version_id), Versioning::Enabled)
                .await
                .unwrap();
        }
    });
}

#[test]
fn tag_updates_outvote_one_drive_and_roll_back_beyond() {
    run(|| async {
        let t = TestSet::new(4).await;
        t.put("k", b"tagged").await.unwrap();
        let tags = vec![("a".to_string(), "1".to_string())];
        for kind in kinds() {
            t.fail(&[1], Op::UpdateVersion, &kind);
            let info = t
                .set
                .put_object_tags("b", "k", None, tags.clone())
                .await
                .unwrap();
            assert_eq!(info.tags, tags);
            t.fail(&[], Op::UpdateVersion, &kind);
            t.set
                .put_object_tags("b", "k", None, Vec::new())
                .await
                .unwrap();

            t.fail(&[0, 1], Op::UpdateVersion, &kind);
            let e = t
                .set
                .put_object_tags("b", "k", None, tags.clone())
                .await
                .unwrap_err();
            assert_eq!(code(e), write_code(&kind), "{kind:?}");
            t.fail(&[], Op::UpdateVersion, &kind);
            // Rolled back: no drive keeps the tags of the failed update.
            for slot in 0..4 {
                let lost: Vec<usize> = (0..4).filter(|s| *s != slot).take(2).collect();
                t.fault(&lost, Fault::Offline);
                let info = t.set.head_object("b", "k", None).await.unwrap();
                assert!(info.tags.is_empty(), "{kind:?}: drives {lost:?} away");
            }
            t.fault(&[], Fault::None);
        }
    });
}

#[test]
fn listings_outvote_one_drive_and_fail_right_beyond() {
    run(|| async {
        let t = TestSet::new(4).await; // listing read majority 2
        for key in ["a", "b/c", "d"] {
            t.put(key, key.as_bytes()).await.unwrap();
        }
        for kind in kinds() {
            t.fail(&[2], Op::WalkVersions, &kind);
            let (names, exhausted) = t.walk("", "", 10).await;
            assert_eq!(names, vec!["a", "b/c", "d"], "{kind:?} on one drive");
            assert!(exhausted);
            t.fail(&[0, 1, 2], Op::WalkVersions, &kind);
            let request = minnow_io::WalkRequest {
                limit: 10,
                ..minnow_io::WalkRequest::default()
            };
            let e = t.set.walk_page("b", &request).await.unwrap_err();
            assert_eq!(code(e), S3ErrorCode::SlowDownRead, "{kind:?}");
        }
        t.fail(&[0, 1, 2], Op::WalkVersions, &DriveError::VolumeNotFound);
        let request = minnow_io::WalkRequest {
            limit: 10,
            ..minnow_io::WalkRequest::default()
        };
        let e = t.set.walk_page("b", &request).await.unwrap_err();
        assert_eq!(code(e), S3ErrorCode::NoSuchBucket);
    });
}

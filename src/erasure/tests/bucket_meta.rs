//! A bucket's configuration document on a set whose drives disagree, are corrupt or offline.

use super::*;
use crate::bucket_config::{BucketConfig, BucketConfigChange};
use crate::object::Versioning;

fn versioned(v: Versioning, at: i64) -> BucketConfig {
    BucketConfig::default()
        .apply(&BucketConfigChange::Versioning(v), at)
        .unwrap()
        .unwrap()
}

fn tagged(base: &BucketConfig, tag: &str, at: i64) -> BucketConfig {
    base.apply(
        &BucketConfigChange::Tags(vec![(tag.into(), "v".into())]),
        at,
    )
    .unwrap()
    .unwrap()
}

impl TestSet {
    fn config_file(&self, slot: usize) -> PathBuf {
        self.drive_dir(slot)
            .join(minnow_io::SYS_VOL)
            .join(crate::bucket_config::config_path("b"))
    }
}

#[test]
fn written_configs_read_back_and_a_missing_one_is_none() {
    run(|| async {
        let t = TestSet::new(4).await;
        assert_eq!(t.set.read_bucket_config("b").await.unwrap(), None);
        let c = versioned(Versioning::Enabled, 100);
        t.set.write_bucket_config("b", &c).await.unwrap();
        assert_eq!(
            t.set.read_bucket_config("b").await.unwrap(),
            Some(c.clone())
        );
        for slot in 0..4 {
            let bytes = std::fs::read(t.config_file(slot)).unwrap();
            assert_eq!(BucketConfig::decode(&bytes).unwrap(), c);
        }
        t.set.remove_bucket_config("b").await.unwrap();
        assert_eq!(t.set.read_bucket_config("b").await.unwrap(), None);
        for slot in 0..4 {
            assert!(!t.config_file(slot).parent().unwrap().exists());
        }
        // Removing what is not there is done already.
        t.set.remove_bucket_config("b").await.unwrap();
    });
}

#[test]
fn writes_and_removals_need_a_majority() {
    run(|| async {
        let t = TestSet::new(4).await;
        let c = versioned(Versioning::Enabled, 100);
        t.fault(&[3], Fault::Offline);
        t.set.write_bucket_config("b", &c).await.unwrap();
        t.fault(&[2, 3], Fault::Offline);
        let later = tagged(&c, "k", 200);
        assert!(matches!(
            t.set.write_bucket_config("b", &later).await,
            Err(ObjectError::WriteQuorum {
                online: 2,
                needed: 3,
                ..
            })
        ));
        t.fault(&[], Fault::None);
        // Two drives took the failed write, one holds the older copy, one none: the failed
        // write is the largest group, so it is what the set reads from now on. A write below
        // quorum can surface this way; its caller was told it failed, no cache holds either
        // copy, and the next read decides the same way on every core.
        assert_eq!(t.set.read_bucket_config("b").await.unwrap(), Some(later));
        t.fault(&[2, 3], Fault::Offline);
        assert!(matches!(
            t.set.remove_bucket_config("b").await,
            Err(ObjectError::WriteQuorum {
                online: 2,
                needed: 3,
                ..
            })
        ));
        t.fault(&[], Fault::None);
        // Likewise the failed removal: three drives now hold no copy.
        assert_eq!(t.set.read_bucket_config("b").await.unwrap(), None);
    });
}

#[test]
fn a_drive_that_missed_a_write_is_outvoted() {
    run(|| async {
        let t = TestSet::new(4).await;
        let old = versioned(Versioning::Enabled, 100);
        t.set.write_bucket_config("b", &old).await.unwrap();
        t.fault(&[0], Fault::Offline);
        let new = tagged(&old, "k", 200);
        t.set.write_bucket_config("b", &new).await.unwrap();
        t.fault(&[], Fault::None);
        assert_eq!(
            BucketConfig::decode(&std::fs::read(t.config_file(0)).unwrap()).unwrap(),
            old,
            "slot 0 kept its copy"
        );
        assert_eq!(
            t.set.read_bucket_config("b").await.unwrap(),
            Some(new.clone())
        );
        // The newer copy wins even with one of its drives gone (2 against 1).
        t.fault(&[1], Fault::Offline);
        assert_eq!(t.set.read_bucket_config("b").await.unwrap(), Some(new));
    });
}

#[test]
fn torn_and_corrupt_copies_are_outvoted_and_too_many_fail_the_read() {
    run(|| async {
        let t = TestSet::new(4).await;
        let c = versioned(Versioning::Suspended, 100);
        t.set.write_bucket_config("b", &c).await.unwrap();
        let path = t.config_file(0);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        flip_byte(&t.config_file(1), 25);
        assert_eq!(
            t.set.read_bucket_config("b").await.unwrap(),
            Some(c.clone())
        );
        // Two bad copies and one drive offline leave one vote: below the read quorum of 2.
        t.fault(&[2], Fault::Offline);
        assert!(matches!(
            t.set.read_bucket_config("b").await,
            Err(ObjectError::ReadQuorum {
                online: 1,
                needed: 2,
                ..
            })
        ));
        t.fault(&[], Fault::None);
        // Rewriting repairs every copy.
        let next = tagged(&c, "k", 200);
        t.set.write_bucket_config("b", &next).await.unwrap();
        for slot in 0..4 {
            let bytes = std::fs::read(t.config_file(slot)).unwrap();
            assert_eq!(BucketConfig::decode(&bytes).unwrap(), next);
        }
    });
}

#[test]
fn reads_need_half_the_drives() {
    run(|| async {
        let t = TestSet::new(4).await;
        let c = versioned(Versioning::Enabled, 100);
        t.set.write_bucket_config("b", &c).await.unwrap();
        t.fault(&[0, 1], Fault::Offline);
        assert_eq!(t.set.read_bucket_config("b").await.unwrap(), Some(c));
        t.fault(&[0, 1, 2], Fault::Offline);
        assert!(matches!(
            t.set.read_bucket_config("b").await,
            Err(ObjectError::ReadQuorum {
                online: 1,
                needed: 2,
                ..
            })
        ));
        // With no copy anywhere, offline drives still make the answer unknowable.
        t.fault(&[], Fault::None);
        t.set.remove_bucket_config("b").await.unwrap();
        t.fault(&[0, 1, 2], Fault::Offline);
        assert!(t.set.read_bucket_config("b").await.is_err());
    });
}

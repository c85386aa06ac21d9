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

/// A one-core pool over the test set's drives: the config owner itself.
async fn one_core_cluster(t: &TestSet) -> crate::cluster::Cluster {
    let ends = crate::cross_core::build_mesh(1).pop().unwrap();
    let (mesh, _receivers) = crate::cross_core::Mesh::connect(ends).await;
    let drives = t
        .drives
        .iter()
        .map(|d| Some(Rc::new(d.clone()) as Rc<dyn Drive>))
        .collect();
    let storage = crate::config::storage_classes(t.drives.len(), None, None).unwrap();
    let set = ErasureSet::new(SetIndex(0), drives, storage);
    crate::cluster::Cluster {
        core: crate::cross_core::CoreId(0),
        cores: 1,
        deployment_id: [7; 16],
        set_count: 1,
        sets: [(SetIndex(0), Rc::new(set))].into_iter().collect(),
        mesh,
        bucket_configs: crate::bucket_config::BucketConfigCache::new(
            std::time::Duration::from_secs(5),
        ),
    }
}

#[test]
fn the_pool_caches_changes_and_refuses_unversioning() {
    run(|| async {
        let t = TestSet::new(4).await;
        let pool = one_core_cluster(&t).await;
        let fresh = pool.bucket_config("b").await.unwrap();
        assert_eq!(*fresh, BucketConfig::default());
        let enabled = pool
            .change_bucket_config("b", BucketConfigChange::Versioning(Versioning::Enabled))
            .await
            .unwrap();
        assert_eq!(pool.bucket_configs.get("b"), Some(enabled.clone()));
        // A hit reads no drive: with every drive gone the cached copy still answers.
        t.fault(&[0, 1, 2, 3], Fault::Offline);
        assert_eq!(pool.bucket_config("b").await.unwrap(), enabled);
        t.fault(&[], Fault::None);
        assert!(matches!(
            pool.change_bucket_config("b", BucketConfigChange::Versioning(Versioning::Unversioned))
                .await,
            Err(ObjectError::InvalidArgument(_))
        ));
        assert_eq!(
            t.set.read_bucket_config("b").await.unwrap(),
            Some((*enabled).clone())
        );
        assert!(matches!(
            pool.bucket_config("nope").await,
            Err(ObjectError::NoSuchBucket(_))
        ));
        assert!(
            pool.bucket_configs.get("nope").is_none(),
            "a missing bucket is not cached"
        );
        assert!(matches!(
            pool.change_bucket_config("nope", BucketConfigChange::Tags(Vec::new()))
                .await,
            Err(ObjectError::NoSuchBucket(_))
        ));
    });
}

#[test]
fn a_change_that_misses_quorum_leaves_no_core_with_a_stale_copy() {
    run(|| async {
        let t = TestSet::new(4).await;
        let pool = one_core_cluster(&t).await;
        pool.change_bucket_config("b", BucketConfigChange::Versioning(Versioning::Enabled))
            .await
            .unwrap();
        t.fault(&[2, 3], Fault::Offline);
        let suspend = BucketConfigChange::Versioning(Versioning::Suspended);
        assert!(matches!(
            pool.change_bucket_config("b", suspend).await,
            Err(ObjectError::WriteQuorum { .. })
        ));
        assert!(
            pool.bucket_configs.get("b").is_none(),
            "the cached copy is dropped"
        );
        // Drives 0 and 1 took the change, 2 and 3 did not: the next read decides (the newest
        // of two equal groups), and that is what every core caches from then on.
        t.fault(&[], Fault::None);
        let now = pool.bucket_config("b").await.unwrap();
        assert_eq!(now.versioning, Versioning::Suspended);
        assert_eq!(pool.bucket_configs.get("b"), Some(now));
    });
}

#[test]
fn a_new_bucket_never_inherits_a_stale_configuration() {
    run(|| async {
        let t = TestSet::new(4).await;
        let pool = one_core_cluster(&t).await;
        // What a crash between DeleteBucket's volume removal and its config removal leaves.
        t.set
            .write_bucket_config("c", &versioned(Versioning::Enabled, 100))
            .await
            .unwrap();
        assert!(matches!(
            pool.bucket_config("c").await,
            Err(ObjectError::NoSuchBucket(_))
        ));
        assert!(pool.make_bucket("c").await.unwrap());
        assert_eq!(t.set.read_bucket_config("c").await.unwrap(), None);
        assert_eq!(
            *pool.bucket_config("c").await.unwrap(),
            BucketConfig::default()
        );
        // CreateBucket of an existing bucket keeps its configuration.
        let tagged = pool
            .change_bucket_config(
                "c",
                BucketConfigChange::Tags(vec![("k".into(), "v".into())]),
            )
            .await
            .unwrap();
        assert!(!pool.make_bucket("c").await.unwrap());
        assert_eq!(pool.bucket_config("c").await.unwrap(), tagged);
        // DeleteBucket removes it from the drives and the cache.
        pool.delete_bucket("c").await.unwrap();
        assert!(pool.bucket_configs.get("c").is_none());
        assert_eq!(t.set.read_bucket_config("c").await.unwrap(), None);
        assert!(matches!(
            pool.bucket_config("c").await,
            Err(ObjectError::NoSuchBucket(_))
        ));
    });
}

#[test]
fn create_fails_when_a_stale_configuration_cannot_be_checked_or_removed() {
    run(|| async {
        let t = TestSet::new(4).await;
        let pool = one_core_cluster(&t).await;
        t.set
            .write_bucket_config("c", &versioned(Versioning::Enabled, 100))
            .await
            .unwrap();
        // Too few drives to tell whether the bucket exists.
        t.fault(&[0, 1, 2], Fault::Offline);
        assert!(pool.make_bucket("c").await.is_err());
        // Enough to tell it does not, too few to remove the stale document.
        t.fault(&[2, 3], Fault::Offline);
        assert!(matches!(
            pool.make_bucket("c").await,
            Err(ObjectError::WriteQuorum { .. })
        ));
        t.fault(&[], Fault::None);
        assert!(
            matches!(
                pool.bucket_config("c").await,
                Err(ObjectError::NoSuchBucket(_))
            ),
            "no volume was made"
        );
        assert!(pool.make_bucket("c").await.unwrap());
        assert_eq!(
            *pool.bucket_config("c").await.unwrap(),
            BucketConfig::default()
        );
    });
}

#[test]
fn configuration_requests_are_served_by_the_config_owner_core_only() {
    run(|| async {
        let t = TestSet::new(4).await;
        let read = || crate::cross_core::SetRequest::ReadBucketConfig { bucket: "b".into() };
        assert!(matches!(
            crate::cluster::handle_set_request(&t.set, read()).await,
            Err(ObjectError::Internal(_))
        ));
        let mut not_owner = one_core_cluster(&t).await;
        not_owner.sets.clear();
        assert!(matches!(
            not_owner.serve_request(SetIndex(0), read()).await,
            Err(ObjectError::Internal(_))
        ));
        // Any core takes a cache update, owner of set 0 or not.
        let update = crate::cross_core::SetRequest::CacheBucketConfig {
            bucket: "b".into(),
            config: Some(versioned(Versioning::Enabled, 5)),
        };
        not_owner.serve_request(SetIndex(0), update).await.unwrap();
        assert_eq!(
            not_owner.bucket_config("b").await.unwrap().versioning,
            Versioning::Enabled
        );
    });
}

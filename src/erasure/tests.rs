//! Erasure-set tests on real drive directories, through a fault-injecting drive: lost drives,
//! corrupt shards, failed writes and commits, multipart, listing.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use async_trait::async_trait;
use glommio::LocalExecutorBuilder;
use minnow_io::testing::{FaultDrive, Op};
use minnow_io::{Drive, DriveError, LocalDrive};
use minnow_net::http::{BodyRead, HttpError};

use super::*;
use crate::object::{ObjectInfo, PutOptions, Versioning};

/// What a test does to a drive ([`TestSet::fault`]), through the shared [`FaultDrive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Pass through.
    None,
    /// Every call fails as if the drive were gone.
    Offline,
    /// Shard files cannot be created (staging fails).
    FailCreate,
    /// Commits fail (rename_data), everything else works.
    FailCommit,
}

/// A request body from memory, read in uneven pieces.
struct SliceBody<'a> {
    data: &'a [u8],
    pos: usize,
}

#[async_trait(?Send)]
impl BodyRead for SliceBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let n = buf.len().min(self.data.len() - self.pos).min(100_003);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct TestSet {
    root: PathBuf,
    set: ErasureSet,
    drives: Vec<FaultDrive>,
}

impl Drop for TestSet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl TestSet {
    async fn new(n: usize) -> TestSet {
        TestSet::with_lock_wait(n, crate::lock::LOCK_WAIT_DEFAULT).await
    }

    async fn with_lock_wait(n: usize, wait: std::time::Duration) -> TestSet {
        let root = std::env::temp_dir().join(format!("minnow-set-{}", rand::random::<u64>()));
        let mut drives = Vec::new();
        for i in 0..n {
            let dir = root.join(format!("d{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let inner = LocalDrive::open(dir).await.unwrap();
            drives.push(FaultDrive::new(Rc::new(inner)));
        }
        let storage = crate::config::storage_classes(n, None, None).unwrap();
        let set = ErasureSet::new(
            SetIndex(0),
            drives
                .iter()
                .map(|d| Some(Rc::new(d.clone()) as Rc<dyn Drive>))
                .collect(),
            storage,
        )
        .with_lock_wait(wait);
        set.make_bucket("b").await.unwrap();
        TestSet { root, set, drives }
    }

    fn fault(&self, slots: &[usize], fault: Fault) {
        for d in &self.drives {
            d.clear();
        }
        for &s in slots {
            let d = &self.drives[s];
            match fault {
                Fault::None => {}
                Fault::Offline => d.set_offline(true),
                Fault::FailCreate => d.fail(Op::CreateFile, DriveError::DiskFull),
                Fault::FailCommit => d.fail(Op::RenameData, DriveError::DiskFull),
            }
        }
    }

    fn drive_dir(&self, slot: usize) -> PathBuf {
        self.root.join(format!("d{slot}"))
    }

    async fn put(&self, key: &str, data: &[u8]) -> Result<ObjectInfo, ObjectError> {
        let mut body = SliceBody { data, pos: 0 };
        let staged = self
            .set
            .stage_object(
                "b",
                key,
                &mut body,
                Some(data.len() as u64),
                PutOptions::default(),
            )
            .await?;
        let etag = format!("{:x}", md5::Md5::digest(data));
        self.set
            .commit_object("b", key, staged, etag, Vec::new())
            .await
    }

    /// Upload part `n` of upload `id` of key "mp" whole; its ETag.
    async fn upload_part(&self, id: &str, n: u32, bytes: &[u8]) -> String {
        let mut body = SliceBody {
            data: bytes,
            pos: 0,
        };
        let staged = self
            .set
            .stage_part("b", "mp", id, n, &mut body, Some(bytes.len() as u64))
            .await
            .unwrap();
        let etag = format!("{:x}", md5::Md5::digest(bytes));
        self.set
            .commit_part("b", "mp", id, n, staged, etag.clone(), Vec::new())
            .await
            .unwrap();
        etag
    }

    /// Names of one walk page (keys and prefixes) after `after`, and whether it is the last.
    async fn walk(&self, prefix: &str, after: &str, limit: usize) -> (Vec<String>, bool) {
        let request = minnow_io::WalkRequest {
            prefix: prefix.to_string(),
            after: after.to_string(),
            limit,
            ..minnow_io::WalkRequest::default()
        };
        let (entries, exhausted) = self.set.walk_page("b", &request).await.unwrap();
        let names = entries.iter().map(|e| e.name().to_string()).collect();
        (names, exhausted)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        let mut reader = self.set.open_object("b", key, None).await?;
        let size = reader.info.size;
        let mut out = Vec::new();
        while (out.len() as u64) < size {
            let chunk = reader.read_chunk(out.len() as u64, 3 << 20).await?;
            assert!(!chunk.is_empty());
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

use md5::Digest;

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

fn run<F, Fut>(test: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    LocalExecutorBuilder::default()
        .io_memory(256 << 10)
        .ring_depth(128)
        .spawn(test)
        .unwrap()
        .join()
        .unwrap();
}

/// Every file named `name` under `dir`.
fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                find_files(&p, name, out);
            } else if p.file_name().is_some_and(|n| n == name) {
                out.push(p);
            }
        }
    }
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = (offset as usize).min(bytes.len() - 1);
    bytes[at] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

const SIZES: [usize; 8] = [
    0,
    1,
    100 << 10,
    300 << 10,
    (1 << 20) - 1,
    1 << 20,
    (1 << 20) + 1,
    (5 << 20) + 333,
];

#[test]
fn round_trips_across_set_sizes() {
    run(|| async {
        for n in [1, 2, 4, 6] {
            let t = TestSet::new(n).await;
            for (i, size) in SIZES.iter().enumerate() {
                let bytes = data(*size, i as u8);
                let key = format!("dir/obj-{size}");
                let info = t.put(&key, &bytes).await.unwrap();
                assert_eq!(info.size, *size as u64);
                assert_eq!(
                    t.get(&key).await.unwrap(),
                    bytes,
                    "{n} drives, {size} bytes"
                );
            }
            // Overwrite shrinks and replaces; the old data directory goes away.
            t.put("dir/obj-5243213", b"small now").await.unwrap();
            assert_eq!(t.get("dir/obj-5243213").await.unwrap(), b"small now");
            let mut parts = Vec::new();
            find_files(&t.root, "part.1", &mut parts);
            let streamed = SIZES
                .iter()
                .filter(|&&s| {
                    s > 0
                        && t.set.plan_layout(None).unwrap().shard_file_size(s as u64)
                            > INLINE_SHARD_MAX
                })
                .count()
                - 1;
            assert_eq!(
                parts.len(),
                streamed * n,
                "{n} drives: stale data directories left"
            );
        }
    });
}

#[test]
fn reads_survive_parity_lost_drives_and_fail_beyond() {
    run(|| async {
        let t = TestSet::new(4).await;
        let small = data(1000, 1);
        let big = data((3 << 20) + 5, 2);
        t.put("small", &small).await.unwrap();
        t.put("big", &big).await.unwrap();
        for lost in [vec![0], vec![3], vec![0, 1], vec![1, 3], vec![2, 3]] {
            t.fault(&lost, Fault::Offline);
            assert_eq!(t.get("small").await.unwrap(), small, "lost {lost:?}");
            assert_eq!(t.get("big").await.unwrap(), big, "lost {lost:?}");
        }
        t.fault(&[0, 1, 2], Fault::Offline);
        assert!(matches!(
            t.get("big").await,
            Err(ObjectError::ReadQuorum { .. })
        ));
        assert!(matches!(
            t.get("small").await,
            Err(ObjectError::ReadQuorum { .. })
        ));
    });
}

#[test]
fn corrupt_shards_are_rebuilt_never_returned() {
    run(|| async {
        let t = TestSet::new(4).await;
        let big = data((2 << 20) + 77, 3);
        t.put("big", &big).await.unwrap();
        let mut parts = Vec::new();
        find_files(&t.root, "part.1", &mut parts);
        parts.sort();
        assert_eq!(parts.len(), 4);
        // Two corrupt shards (any two): still exact.
        flip_byte(&parts[0], 100);
        flip_byte(&parts[1], 600_000);
        assert_eq!(t.get("big").await.unwrap(), big);
        // A third: the read fails rather than return bad bytes.
        flip_byte(&parts[2], 40);
        assert!(t.get("big").await.is_err());
    });
}

#[test]
fn corrupt_inline_metadata_counts_as_a_lost_drive() {
    run(|| async {
        let t = TestSet::new(4).await;
        let small = data(5000, 4);
        t.put("inline", &small).await.unwrap();
        for slot in [0, 2] {
            let meta = t.drive_dir(slot).join("b/inline/xl.meta");
            flip_byte(&meta, 200);
        }
        assert_eq!(t.get("inline").await.unwrap(), small);
    });
}

#[test]
fn failed_writes_leave_the_old_object() {
    run(|| async {
        let t = TestSet::new(4).await;
        let old = data((1 << 20) + 10, 5);
        t.put("k", &old).await.unwrap();
        // Staging on only 2 of 4 drives misses write quorum (3); the others are full.
        t.fault(&[0, 1], Fault::FailCreate);
        assert!(matches!(
            t.put("k", &data(2 << 20, 6)).await,
            Err(ObjectError::StorageFull { .. })
        ));
        // Commit reaching only 2 drives is rolled back on those 2.
        t.fault(&[2, 3], Fault::FailCommit);
        assert!(matches!(
            t.put("k", &data(2 << 20, 7)).await,
            Err(ObjectError::StorageFull { .. })
        ));
        t.fault(&[], Fault::None);
        assert_eq!(t.get("k").await.unwrap(), old);
        // Offline drives: a write fails fast before touching anything.
        t.fault(&[0, 3], Fault::Offline);
        assert!(matches!(
            t.put("new", b"x").await,
            Err(ObjectError::WriteQuorum { .. })
        ));
        t.fault(&[], Fault::None);
        assert!(matches!(
            t.get("new").await,
            Err(ObjectError::NoSuchKey { .. })
        ));
        // Nothing staged is left behind.
        let mut leftovers = Vec::new();
        for slot in 0..4 {
            find_files(
                &t.drive_dir(slot).join(".minnow.sys/tmp"),
                "part.1",
                &mut leftovers,
            );
        }
        assert!(leftovers.is_empty(), "{leftovers:?}");
    });
}

#[test]
fn concurrent_gets_are_bounded_by_the_read_slots() {
    run(|| async {
        let t = Rc::new(TestSet::new(4).await);
        let body = data((6 << 20) + 5, 9);
        t.put("big", &body).await.unwrap();
        let readers: Vec<_> = (0..3 * CHUNK_READS_MAX)
            .map(|_| {
                let t = t.clone();
                glommio::spawn_local(async move { t.get("big").await })
            })
            .collect();
        for reader in readers {
            assert!(reader.await.unwrap() == body);
        }
        for d in &t.drives {
            let most = d.reads_most();
            assert!(most as u64 <= CHUNK_READS_MAX, "{most} shard reads at once");
        }
        // The bound was reached, not merely respected by a serial schedule.
        let most = t.drives.iter().map(|d| d.reads_most()).max();
        assert_eq!(most, Some(CHUNK_READS_MAX as usize));
    });
}

#[test]
fn one_drive_down_still_writes_and_reads() {
    run(|| async {
        let t = TestSet::new(4).await;
        t.fault(&[1], Fault::Offline);
        let bytes = data((1 << 20) + 3, 8);
        t.put("degraded", &bytes).await.unwrap();
        assert_eq!(t.get("degraded").await.unwrap(), bytes);
        t.fault(&[], Fault::None);
        assert_eq!(t.get("degraded").await.unwrap(), bytes);
    });
}

#[test]
fn multipart_completes_and_validates() {
    run(|| async {
        let t = TestSet::new(4).await;
        let id = t
            .set
            .new_multipart("b", "mp", PutOptions::default())
            .await
            .unwrap();
        let p1 = data(5 << 20, 9);
        let p2 = data(1234, 10);
        let mut etags = Vec::new();
        for (n, bytes) in [(1u32, &p1), (2, &p2), (3, &p2)] {
            let etag = t.upload_part(&id, n, bytes).await;
            etags.push((n, etag));
        }
        let (parts, truncated, _) = t.set.list_parts("b", "mp", &id, 0, 1000).await.unwrap();
        assert_eq!(parts.len(), 3);
        assert!(!truncated);
        // Out of order, unknown ETag, small middle part.
        let rev = vec![etags[1].clone(), etags[0].clone()];
        assert!(matches!(
            t.set
                .complete_multipart("b", "mp", &id, &rev, Versioning::Unversioned)
                .await,
            Err(ObjectError::InvalidPartOrder)
        ));
        let wrong = vec![(1, "0".repeat(32))];
        assert!(matches!(
            t.set
                .complete_multipart("b", "mp", &id, &wrong, Versioning::Unversioned)
                .await,
            Err(ObjectError::InvalidPart(1))
        ));
        let small_middle = vec![etags[1].clone(), etags[2].clone()];
        assert!(matches!(
            t.set
                .complete_multipart("b", "mp", &id, &small_middle, Versioning::Unversioned)
                .await,
            Err(ObjectError::EntityTooSmall { part: 2, .. })
        ));
        // Complete with parts 1 and 3 (part 2 dropped).
        let chosen = vec![etags[0].clone(), etags[2].clone()];
        let info = t
            .set
            .complete_multipart("b", "mp", &id, &chosen, Versioning::Unversioned)
            .await
            .unwrap();
        assert!(info.etag.ends_with("-2"), "{}", info.etag);
        let mut want = p1.clone();
        want.extend_from_slice(&p2);
        assert_eq!(t.get("mp").await.unwrap(), want);
        assert!(matches!(
            t.set.list_parts("b", "mp", &id, 0, 10).await,
            Err(ObjectError::NoSuchUpload(_))
        ));
        // Abort.
        let id2 = t
            .set
            .new_multipart("b", "mp2", PutOptions::default())
            .await
            .unwrap();
        assert_eq!(t.set.list_uploads("b", "").await.unwrap().len(), 1);
        t.set.abort_multipart("b", "mp2", &id2).await.unwrap();
        assert!(t.set.list_uploads("b", "").await.unwrap().is_empty());
        assert!(matches!(
            t.set.abort_multipart("b", "mp2", &id2).await,
            Err(ObjectError::NoSuchUpload(_))
        ));
    });
}

#[test]
fn listing_and_deletes() {
    run(|| async {
        let t = TestSet::new(4).await;
        for key in ["a", "a/b", "a-b", "ab", "dir/", "dir/x", "z"] {
            t.put(key, key.as_bytes()).await.unwrap();
        }
        let (all, exhausted) = t.walk("", "", 1000).await;
        assert_eq!(all, vec!["a", "a-b", "a/b", "ab", "dir/", "dir/x", "z"]);
        assert!(exhausted);
        let (page, exhausted) = t.walk("", "a-b", 2).await;
        assert_eq!(page, vec!["a/b", "ab"]);
        assert!(!exhausted);
        assert_eq!(t.get("dir/").await.unwrap(), b"dir/");
        assert!(!t.set.bucket_is_empty("b").await.unwrap());
        for key in [
            "a",
            "a/b",
            "a-b",
            "ab",
            "dir/",
            "dir/x",
            "z",
            "never-existed",
        ] {
            t.set
                .delete_object("b", key, None, Versioning::Unversioned)
                .await
                .unwrap();
        }
        assert!(t.set.bucket_is_empty("b").await.unwrap());
        assert!(matches!(
            t.get("a").await,
            Err(ObjectError::NoSuchKey { .. })
        ));
        t.set.delete_bucket("b", false).await.unwrap();
        assert!(matches!(
            t.get("a").await,
            Err(ObjectError::NoSuchBucket(_))
        ));
    });
}

#[test]
fn layout_names_are_reserved_key_segments() {
    // A key with one of these as a segment would share a path with another key's xl.meta: the
    // router refuses such keys, so every name the layout gives meaning to must be on its list.
    use minnow_net::s3::router::RESERVED_KEY_SEGMENTS;
    for name in [minnow_io::DIR_OBJECT_MARKER, xl_meta::FILE_NAME] {
        assert!(RESERVED_KEY_SEGMENTS.contains(&name), "{name} not reserved");
    }
    assert_eq!(object_dir("x/"), "x/__XLDIR__");
    assert_eq!(key_from_dir(&object_dir("x/")), "x/");
}

#[test]
fn health_follows_drives_online_against_quorum() {
    run(|| async {
        let t = TestSet::new(4).await;
        let h = |online, read_quorum, write_quorum| SetHealth {
            online,
            read_quorum,
            write_quorum,
        };
        // EC 2+2: reads need 2, writes 3 (data == parity).
        assert_eq!(t.set.health().await, h(4, 2, 3));
        t.fault(&[3], Fault::Offline);
        assert_eq!(t.set.health().await, h(3, 2, 3));
        t.fault(&[1, 3], Fault::Offline);
        let two = t.set.health().await;
        assert!(two.can_read() && !two.can_write(), "{two:?}");
        t.fault(&[0, 1, 3], Fault::Offline);
        let one = t.set.health().await;
        assert!(!one.can_read() && !one.can_write(), "{one:?}");
        t.fault(&[], Fault::None);
        assert!(t.set.health().await.can_write());

        // A local drive is offline once its directory is gone, replaced or unmounted-empty,
        // and online again when the same directory returns.
        let dir = t.drive_dir(2);
        let away = dir.with_file_name("away");
        std::fs::rename(&dir, &away).unwrap();
        assert_eq!(t.set.health().await.online, 3, "renamed away");
        std::fs::create_dir(&dir).unwrap();
        assert_eq!(
            t.set.health().await.online,
            3,
            "an empty directory in its place"
        );
        std::fs::remove_dir(&dir).unwrap();
        std::fs::rename(&away, &dir).unwrap();
        assert_eq!(t.set.health().await.online, 4, "back");
        std::fs::remove_dir_all(dir.join(minnow_io::SYS_VOL)).unwrap();
        assert_eq!(t.set.health().await.online, 3, "system volume gone");
    });
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn sweep_reclaims_only_unreferenced_data_dirs() {
    run(|| async {
        let t = TestSet::new(4).await;
        let body = data(300 << 10, 3);
        t.put("k", &body).await.unwrap();
        t.put("x/6f1c2a4e-0000-4000-8000-000000000000/y", &body)
            .await
            .unwrap();
        let mut planted = Vec::new();
        for slot in 0..4 {
            let object = t.drive_dir(slot).join("b/k");
            let live = subdirs(&object).pop().unwrap();
            for at in [
                object.join(minnow_io::format::new_uuid()),
                t.drive_dir(slot)
                    .join("b/ghost")
                    .join(minnow_io::format::new_uuid()),
            ] {
                copy_dir(&live, &at);
                planted.push(at);
            }
        }
        // An empty uuid-named directory is what a commit of the nested key `k/<uuid>` creates
        // before it fills it: never taken for a data directory.
        let nested = t
            .drive_dir(0)
            .join("b/k")
            .join(minnow_io::format::new_uuid());
        std::fs::create_dir(&nested).unwrap();
        let report = t
            .set
            .sweep_leftovers(std::time::Duration::from_secs(3600))
            .await;
        assert_eq!(report.data_dirs, planted.len());
        assert!(planted.iter().all(|p| !p.exists()));
        assert!(
            nested.is_dir(),
            "an empty nested object directory was reclaimed"
        );
        assert!(!t.drive_dir(0).join("b/ghost").exists());
        assert_eq!(t.get("k").await.unwrap(), body);
        assert_eq!(
            t.get("x/6f1c2a4e-0000-4000-8000-000000000000/y")
                .await
                .unwrap(),
            body
        );
        let again = t
            .set
            .sweep_leftovers(std::time::Duration::from_secs(3600))
            .await;
        assert_eq!(again, SweepReport::default());
    });
}

#[test]
fn sweep_removes_expired_and_partial_uploads() {
    run(|| async {
        let t = TestSet::new(4).await;
        let fresh = t
            .set
            .new_multipart("b", "fresh", PutOptions::default())
            .await
            .unwrap();
        let cut = t
            .set
            .new_multipart("b", "cut", PutOptions::default())
            .await
            .unwrap();
        // A removal cut short: the record is left on one drive of four.
        for slot in 1..4 {
            let hash = std::fs::read_dir(t.drive_dir(slot).join(".minnow.sys/multipart"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.join(&cut).exists())
                .unwrap();
            std::fs::remove_dir_all(hash.join(&cut)).unwrap();
        }
        let hour = std::time::Duration::from_secs(3600);
        let report = t.set.sweep_leftovers(hour).await;
        assert_eq!(report.uploads, 1);
        let listed: Vec<String> = t
            .set
            .list_uploads("b", "")
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.upload_id)
            .collect();
        assert_eq!(listed, std::slice::from_ref(&fresh));
        glommio::timer::sleep(std::time::Duration::from_millis(5)).await;
        let report = t
            .set
            .sweep_leftovers(std::time::Duration::from_millis(1))
            .await;
        assert_eq!(report.uploads, 1);
        assert!(t.set.list_uploads("b", "").await.unwrap().is_empty());
        assert!(matches!(
            t.set.abort_multipart("b", "fresh", &fresh).await,
            Err(ObjectError::NoSuchUpload(_))
        ));
    });
}

#[test]
fn refused_bucket_delete_puts_the_bucket_back() {
    run(|| async {
        let t = TestSet::new(4).await;
        // Files on two drives of four: the bucket stays a majority's, it is not empty.
        for slot in [1, 2] {
            std::fs::create_dir_all(t.drive_dir(slot).join("b/k")).unwrap();
            std::fs::write(t.drive_dir(slot).join("b/k/xl.meta"), b"x").unwrap();
        }
        assert!(matches!(
            t.set.delete_bucket("b", false).await,
            Err(ObjectError::BucketNotEmpty(_))
        ));
        for slot in 0..4 {
            assert!(t.drive_dir(slot).join("b").is_dir(), "slot {slot}");
        }
        // On one drive only: no write can have reached quorum there, the leftover goes too.
        std::fs::remove_dir_all(t.drive_dir(1).join("b/k")).unwrap();
        t.set.delete_bucket("b", false).await.unwrap();
        assert!((0..4).all(|slot| !t.drive_dir(slot).join("b").exists()));
    });
}

#[test]
fn concurrent_uploads_of_one_part_leave_one_whole() {
    run(|| async {
        let t = TestSet::new(4).await;
        let id = t
            .set
            .new_multipart("b", "mp", PutOptions::default())
            .await
            .unwrap();
        let bodies = [data(300 << 10, 1), data(300 << 10, 2)];
        let mut staged = Vec::new();
        for b in &bodies {
            let mut body = SliceBody { data: b, pos: 0 };
            staged.push(
                t.set
                    .stage_part("b", "mp", &id, 1, &mut body, Some(b.len() as u64))
                    .await
                    .unwrap(),
            );
        }
        let etags: Vec<String> = bodies
            .iter()
            .map(|b| format!("{:x}", md5::Md5::digest(b)))
            .collect();
        let (second, first) = (staged.pop().unwrap(), staged.pop().unwrap());
        let (a, b) = futures::join!(
            t.set
                .commit_part("b", "mp", &id, 1, first, etags[0].clone(), Vec::new()),
            t.set
                .commit_part("b", "mp", &id, 1, second, etags[1].clone(), Vec::new())
        );
        a.unwrap();
        b.unwrap();
        // One shard file per drive: the replaced upload's file is gone.
        for slot in 0..4 {
            let upload = subdirs(&t.drive_dir(slot).join(".minnow.sys/multipart"))
                .pop()
                .unwrap();
            let data_dir = subdirs(&upload.join(&id)).pop().unwrap();
            assert_eq!(
                std::fs::read_dir(data_dir).unwrap().count(),
                1,
                "slot {slot}"
            );
        }
        let (parts, _, _) = t.set.list_parts("b", "mp", &id, 0, 10).await.unwrap();
        let winner = etags.iter().position(|e| *e == parts[0].etag).unwrap();
        t.set
            .complete_multipart(
                "b",
                "mp",
                &id,
                &[(1, parts[0].etag.clone())],
                Versioning::Unversioned,
            )
            .await
            .unwrap();
        assert_eq!(t.get("mp").await.unwrap(), bodies[winner]);
    });
}

#[test]
fn complete_ignores_shards_of_a_drive_that_missed_the_last_upload() {
    run(|| async {
        let t = TestSet::new(4).await;
        let id = t
            .set
            .new_multipart("b", "mp", PutOptions::default())
            .await
            .unwrap();
        let upload = |body: Vec<u8>| {
            let (t, id) = (&t, id.clone());
            async move { t.upload_part(&id, 1, &body).await }
        };
        let old = data(300 << 10, 7);
        upload(old.clone()).await;
        // Slot 0 as an interrupted completion left it: the part already renamed to part.1.
        let upload_dir = subdirs(&t.drive_dir(0).join(".minnow.sys/multipart"))
            .pop()
            .unwrap()
            .join(&id);
        let data_dir = subdirs(&upload_dir).pop().unwrap();
        let staged_name = std::fs::read_dir(&data_dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::rename(staged_name, data_dir.join("part.1")).unwrap();
        // The part is uploaded again while slot 0 is away: its meta and file stay the old ones.
        t.fault(&[0], Fault::Offline);
        let new = data(300 << 10, 8);
        let etag = upload(new.clone()).await;
        t.fault(&[], Fault::None);
        t.set
            .complete_multipart("b", "mp", &id, &[(1, etag)], Versioning::Unversioned)
            .await
            .unwrap();
        // Slot 0 had no shard of the named upload: it keeps none (and so misses the commit).
        let object = t.drive_dir(0).join("b/mp");
        let shards = match object.is_dir() {
            true => subdirs(&object)
                .iter()
                .map(|d| std::fs::read_dir(d).unwrap().count())
                .sum(),
            false => 0,
        };
        assert_eq!(shards, 0, "slot 0 kept a shard of the replaced upload");
        t.fault(&[1], Fault::Offline);
        assert_eq!(t.get("mp").await.unwrap(), new);
    });
}

/// A directory and the files in it, with their bytes.
type SavedDir = (PathBuf, Vec<(PathBuf, Vec<u8>)>);

#[test]
fn complete_cut_short_after_the_commit_completes_again() {
    run(|| async {
        let t = TestSet::new(4).await;
        let id = t
            .set
            .new_multipart("b", "mp", PutOptions::default())
            .await
            .unwrap();
        let body = data(200 << 10, 4);
        let etag = t.upload_part(&id, 1, &body).await;
        // The records as they are on every drive when the commit is done but the upload not yet
        // removed.
        let saved: Vec<SavedDir> = (0..4)
            .map(|slot| {
                let dir = subdirs(&t.drive_dir(slot).join(".minnow.sys/multipart"))
                    .pop()
                    .unwrap()
                    .join(&id);
                let files = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.is_file())
                    .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
                    .collect();
                (dir, files)
            })
            .collect();
        let requested = [(1, etag)];
        let info = t
            .set
            .complete_multipart("b", "mp", &id, &requested, Versioning::Unversioned)
            .await
            .unwrap();
        for (dir, files) in &saved {
            std::fs::create_dir_all(dir).unwrap();
            for (path, bytes) in files {
                std::fs::write(path, bytes).unwrap();
            }
        }
        assert_eq!(t.set.list_uploads("b", "").await.unwrap().len(), 1);
        let again = t
            .set
            .complete_multipart("b", "mp", &id, &requested, Versioning::Unversioned)
            .await
            .unwrap();
        assert_eq!(again.etag, info.etag);
        assert!(t.set.list_uploads("b", "").await.unwrap().is_empty());
        assert!(saved.iter().all(|(dir, _)| !dir.exists()));
        assert_eq!(t.get("mp").await.unwrap(), body);
    });
}

#[test]
fn a_paused_reader_never_delays_a_writer_and_keeps_its_version() {
    run(|| async {
        let t = TestSet::new(4).await;
        let old = data((6 << 20) + 11, 3);
        t.put("k", &old).await.unwrap();
        let mut reader = t.set.open_object("b", "k", None).await.unwrap();
        let first = reader.read_chunk(0, 1 << 20).await.unwrap();
        // The reader now pauses. A writer and a delete of the same key go ahead at once (with
        // the old read lock they would wait for the reader to be dropped).
        let bounded = std::time::Duration::from_secs(20);
        let new = data((5 << 20) + 7, 4);
        glommio::timer::timeout(bounded, async { Ok(t.put("k", &new).await) })
            .await
            .expect("PUT waited for a paused reader")
            .unwrap();
        assert!(t.get("k").await.unwrap() == new);
        glommio::timer::timeout(bounded, async {
            Ok(t.set
                .delete_object("b", "k", None, Versioning::Unversioned)
                .await)
        })
        .await
        .expect("DELETE waited for a paused reader")
        .unwrap();
        assert!(matches!(
            t.get("k").await,
            Err(ObjectError::NoSuchKey { .. })
        ));
        // The old data directories are gone from every drive, yet the reader reads on from its
        // open files: the complete old bytes, nothing of the new version.
        let mut leftovers = Vec::new();
        for slot in 0..4 {
            find_files(&t.drive_dir(slot).join("b"), "part.1", &mut leftovers);
        }
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let mut got = first;
        while (got.len() as u64) < reader.info.size {
            got.extend(reader.read_chunk(got.len() as u64, 3 << 20).await.unwrap());
        }
        assert!(got == old, "the reader saw bytes of another version");
    });
}

/// A body that delivers `sent` bytes, then never another.
struct StalledBody {
    sent: Vec<u8>,
    pos: usize,
}

#[async_trait(?Send)]
impl BodyRead for StalledBody {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        if self.pos == self.sent.len() {
            futures::future::pending::<()>().await;
        }
        let n = buf.len().min(self.sent.len() - self.pos);
        buf[..n].copy_from_slice(&self.sent[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn stalled_uploads_hold_upload_memory_only_once_a_block_arrived_and_waits_are_bounded() {
    run(|| async {
        let wait = std::time::Duration::from_millis(300);
        let t = Rc::new(TestSet::with_lock_wait(4, wait).await);
        // Each 64 MiB upload reserves a quarter of the set's budget.
        let stall = |key: &'static str, sent: usize| {
            let t = t.clone();
            glommio::spawn_local(async move {
                let mut body = StalledBody {
                    sent: data(sent, 1),
                    pos: 0,
                };
                let size = Some(64 << 20);
                let _ = t
                    .set
                    .stage_object("b", key, &mut body, size, PutOptions::default())
                    .await;
            })
        };
        // Four bodies that stalled inside their first block hold nothing: a PUT goes through.
        let early: Vec<_> = ["e1", "e2", "e3", "e4"]
            .iter()
            .map(|k| stall(k, 1000))
            .collect();
        glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
        let bytes = data(3 << 20, 2);
        t.put("beside-early", &bytes).await.unwrap();
        // Four that sent a whole block hold the budget: the next upload waits, boundedly.
        let late: Vec<_> = ["l1", "l2", "l3", "l4"]
            .iter()
            .map(|k| stall(k, minnow_codec::BLOCK_SIZE))
            .collect();
        glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
        let err = t.put("beside-late", &bytes).await.err();
        assert!(matches!(err, Some(ObjectError::SlowDown(_))), "{err:?}");
        // Once they are gone (cut, in the server), uploads stream again.
        drop(late);
        t.put("after", &bytes).await.unwrap();
        assert_eq!(t.get("after").await.unwrap(), bytes);
        drop(early);
    });
}

#[test]
fn a_later_part_of_a_replaced_multipart_object_fails_rather_than_mixing() {
    run(|| async {
        let t = TestSet::new(4).await;
        let id = t
            .set
            .new_multipart("b", "mp", PutOptions::default())
            .await
            .unwrap();
        let parts = [data(5 << 20, 11), data(300_000, 12)];
        let mut chosen = Vec::new();
        for (n, bytes) in (1u32..).zip(&parts) {
            let etag = t.upload_part(&id, n, bytes).await;
            chosen.push((n, etag));
        }
        t.set
            .complete_multipart("b", "mp", &id, &chosen, Versioning::Unversioned)
            .await
            .unwrap();
        let mut reader = t.set.open_object("b", "mp", None).await.unwrap();
        let first = reader.read_chunk(0, 1 << 20).await.unwrap();
        assert!(first == parts[0][..1 << 20]);
        t.put("mp", &data(6 << 20, 13)).await.unwrap();
        // Part 1 is open: it reads on. Part 2 was never opened and its version is gone.
        let rest = reader.read_chunk(1 << 20, 4 << 20).await.unwrap();
        assert!(rest == parts[0][1 << 20..]);
        let second = reader.read_chunk(5 << 20, 1 << 20).await;
        assert!(
            matches!(second, Err(ObjectError::ReadQuorum { .. })),
            "{:?}",
            second.map(|b| b.len())
        );
    });
}

#[test]
fn uploads_receiving_their_bodies_share_a_bounded_budget() {
    run(|| async {
        let wait = std::time::Duration::from_millis(300);
        let t = Rc::new(TestSet::with_lock_wait(4, wait).await);
        // Uploads whose bodies stall inside their first block: each holds its block buffers.
        let stalled: Vec<_> = (0..15)
            .map(|i| {
                let t = t.clone();
                glommio::spawn_local(async move {
                    let mut body = StalledBody {
                        sent: data(1000, 1),
                        pos: 0,
                    };
                    let key = format!("s{i}");
                    let _ = t
                        .set
                        .stage_object("b", &key, &mut body, Some(64 << 20), PutOptions::default())
                        .await;
                })
            })
            .collect();
        glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
        let bytes = data(3 << 20, 2);
        let err = t.put("one-too-many", &bytes).await.err();
        assert!(matches!(err, Some(ObjectError::SlowDown(_))), "{err:?}");
        // A small inline object needs little and still fits.
        t.put("small", &data(10_000, 3)).await.unwrap();
        drop(stalled);
        t.put("after", &bytes).await.unwrap();
        assert_eq!(t.get("after").await.unwrap(), bytes);
    });
}

/// Bucket configuration documents on a set (bucket_meta.rs).
mod bucket_meta;

/// Every version-level drive call failing with every error kind (faults.rs).
mod faults;

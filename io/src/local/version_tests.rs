//! The version calls and walk_versions of LocalDrive against a real directory.

use std::fs;
use std::path::Path;
use std::time::Instant;

use minnow_codec::{ErasureLayout, FrameKey, BITROT_HASH_LEN};

use super::*;
use crate::drive::{object_dir, PartState, WalkEntry, WalkRequest};
use crate::test_util::{run, TempDir};
use crate::xl_meta::{self, ErasureInfo, ObjectVersion, PartInfo, XlMeta, MAX_VERSIONS};

fn version(id: &str, time: i64, data_dir: Option<&str>) -> ObjectVersion {
    ObjectVersion {
        version_id: id.to_string(),
        mod_time_ns: time,
        etag: format!("etag-{id}-{time}"),
        data_dir: data_dir.map(str::to_string),
        ..ObjectVersion::default()
    }
}

async fn open(dir: &TempDir) -> LocalDrive {
    LocalDrive::open(dir.path().to_path_buf())
        .await
        .expect("open drive")
}

/// Stage a data directory holding one part file in SYS_VOL/tmp/<name>.
fn stage(root: &Path, name: &str) {
    let staged = root.join(SYS_VOL).join(SYS_TMP_DIR).join(name);
    fs::create_dir_all(&staged).expect("mkdir");
    fs::write(staged.join("part.1"), name).expect("write");
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn ids(drive: &LocalDrive, vol: &str, dir: &str) -> Vec<String> {
    let raw = drive.read_xl(vol, dir).await.expect("read_xl");
    xl_meta::versions(&raw, true)
        .expect("versions")
        .into_iter()
        .map(|v| v.version_id)
        .collect()
}

#[test]
fn versions_are_added_replaced_updated_and_deleted() {
    let dir = TempDir::new("versions");
    let root = dir.path().to_path_buf();
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        let obj = root.join("b/x/y/k");
        stage(&root, "dd-a");
        let replaced = drive
            .rename_data(
                SYS_VOL,
                "tmp/dd-a",
                "b",
                "x/y/k",
                version("a", 10, Some("dd-a")),
            )
            .await
            .expect("a");
        assert_eq!(replaced, None);
        let marker = ObjectVersion {
            delete_marker: true,
            ..version("dm", 20, None)
        };
        assert_eq!(
            drive.write_version("b", "x/y/k", marker.clone()).await,
            Ok(None)
        );
        stage(&root, "dd-b");
        drive
            .rename_data(
                SYS_VOL,
                "tmp/dd-b",
                "b",
                "x/y/k",
                version("b", 30, Some("dd-b")),
            )
            .await
            .expect("b");
        assert_eq!(ids(&drive, "b", "x/y/k").await, ["b", "dm", "a"]);
        assert_eq!(
            drive
                .read_version("b", "x/y/k", None, false)
                .await
                .expect("latest")
                .version_id,
            "b"
        );
        assert_eq!(
            drive.read_version("b", "x/y/k", Some("dm"), true).await,
            Ok(marker)
        );
        assert_eq!(names(&obj), ["dd-a", "dd-b", "xl.meta"]);

        // Replacing "a" with a newer write: the old version comes back, its data directory
        // stays until freed; the new one takes its place by time.
        stage(&root, "dd-a2");
        let old = drive
            .rename_data(
                SYS_VOL,
                "tmp/dd-a2",
                "b",
                "x/y/k",
                version("a", 40, Some("dd-a2")),
            )
            .await
            .expect("a again");
        assert_eq!(old, Some(version("a", 10, Some("dd-a"))));
        assert_eq!(ids(&drive, "b", "x/y/k").await, ["a", "b", "dm"]);
        assert_eq!(names(&obj), ["dd-a", "dd-a2", "dd-b", "xl.meta"]);
        drive
            .free_data_dir("b", "x/y/k", "dd-a")
            .await
            .expect("free");
        drive
            .free_data_dir("b", "x/y/k", "dd-a2")
            .await
            .expect("named: kept");
        drive
            .free_data_dir("b", "x/y/k", "dd-none")
            .await
            .expect("absent is Ok");
        assert_eq!(names(&obj), ["dd-a2", "dd-b", "xl.meta"]);

        // A displaced inline version comes back with its data.
        let mut inline = version("c", 5, None);
        inline.inline_data = Some(b"old bytes".to_vec());
        drive
            .write_version("b", "x/y/k", inline.clone())
            .await
            .expect("c");
        let old = drive
            .write_version("b", "x/y/k", version("c", 6, None))
            .await
            .expect("c again");
        assert_eq!(old, Some(inline));

        // Update: tags change, inline data and place stay.
        let mut tagged = version("b", 30, Some("dd-b"));
        tagged.tags = vec![("k".into(), "v".into())];
        drive
            .update_version("b", "x/y/k", tagged.clone())
            .await
            .expect("update");
        assert_eq!(
            drive.read_version("b", "x/y/k", Some("b"), true).await,
            Ok(tagged)
        );
        assert_eq!(ids(&drive, "b", "x/y/k").await, ["a", "b", "dm", "c"]);
        assert_eq!(
            drive
                .update_version("b", "x/y/k", version("zz", 1, None))
                .await,
            Err(DriveError::VersionNotFound)
        );
        assert_eq!(
            drive
                .update_version("b", "x/y/k", version("b", 30, Some("dd-other")))
                .await,
            Err(DriveError::VersionNotFound)
        );
        assert_eq!(
            drive
                .update_version("b", "nothing", version("b", 30, None))
                .await,
            Err(DriveError::FileNotFound)
        );

        // A data directory two versions name goes with the last of them.
        drive
            .write_version("b", "x/y/k", version("e", 50, Some("dd-b")))
            .await
            .expect("e shares dd-b");
        let removed = drive
            .delete_version("b", "x/y/k", "b")
            .await
            .expect("delete b");
        assert_eq!(removed.version_id, "b");
        assert_eq!(names(&obj), ["dd-a2", "dd-b", "xl.meta"]);
        drive
            .delete_version("b", "x/y/k", "e")
            .await
            .expect("delete e");
        assert_eq!(names(&obj), ["dd-a2", "xl.meta"]);
        assert_eq!(
            drive.delete_version("b", "x/y/k", "e").await,
            Err(DriveError::VersionNotFound)
        );
        assert_eq!(
            drive.delete_version("b", "other", "e").await,
            Err(DriveError::FileNotFound)
        );
        let removed = drive.delete_version("b", "x/y/k", "c").await.expect("c");
        assert_eq!(removed.inline_data, None, "returned without inline data");
        drive.delete_version("b", "x/y/k", "dm").await.expect("dm");
        // Another key below keeps its parents.
        drive
            .write_version("b", "x/z", version("", 1, None))
            .await
            .expect("x/z");
        drive.delete_version("b", "x/y/k", "a").await.expect("last");
        assert!(
            !root.join("b/x/y").exists(),
            "xl.meta and empty parents are gone"
        );
        assert_eq!(names(&root.join("b/x")), ["z"]);
        drive.delete_version("b", "x/z", "").await.expect("x/z");
        assert_eq!(names(&root.join("b")), Vec::<String>::new());
    });
    assert_eq!(
        names(&root.join(SYS_VOL).join(SYS_TRASH_DIR)),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&root.join(SYS_VOL).join(SYS_TMP_DIR)),
        Vec::<String>::new()
    );
}

#[test]
fn a_removed_volume_is_never_recreated() {
    let dir = TempDir::new("no-vol");
    let root = dir.path().to_path_buf();
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        drive
            .write_version("b", "k", version("", 1, None))
            .await
            .expect("k");
        drive.delete_vol("b", true).await.expect("delete_vol");
        stage(&root, "dd");
        let v = version("", 2, Some("dd"));
        assert_eq!(
            drive
                .rename_data(SYS_VOL, "tmp/dd", "b", "k", v.clone())
                .await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.write_version("b", "k", v.clone()).await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.update_version("b", "k", v.clone()).await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.delete_version("b", "k", "").await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.free_data_dir("b", "k", "dd").await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.read_xl("b", "k").await,
            Err(DriveError::VolumeNotFound)
        );
        let with_part = ObjectVersion {
            erasure: ErasureInfo {
                data: 1,
                block_size: 4096,
                ..ErasureInfo::default()
            },
            parts: vec![PartInfo {
                number: 1,
                size: 10,
                ..PartInfo::default()
            }],
            ..v.clone()
        };
        assert_eq!(
            drive.check_parts("b", "k", &with_part).await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive
                .walk_versions(
                    "b",
                    &WalkRequest {
                        limit: 5,
                        ..WalkRequest::default()
                    }
                )
                .await,
            Err(DriveError::VolumeNotFound)
        );
    });
    assert!(!root.join("b").exists());
    assert_eq!(names(&root.join(SYS_VOL).join(SYS_TMP_DIR)), ["dd"]);
}

#[test]
fn too_many_versions_is_refused_on_the_drive() {
    let dir = TempDir::new("too-many");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        let full = XlMeta {
            versions: (0..MAX_VERSIONS)
                .map(|i| version(&format!("{i:05}"), (MAX_VERSIONS - i) as i64, None))
                .collect(),
        };
        drive
            .write_all("b", "k/xl.meta", &xl_meta::encode(&full))
            .await
            .expect("write");
        assert_eq!(
            drive
                .write_version("b", "k", version("new", 1 << 40, None))
                .await,
            Err(DriveError::TooManyVersions)
        );
        let replaced = drive
            .write_version("b", "k", version("00007", 1 << 40, None))
            .await
            .expect("a replacement is accepted");
        assert_eq!(
            replaced.map(|v| v.mod_time_ns),
            Some((MAX_VERSIONS - 7) as i64)
        );
        let latest = drive
            .read_version("b", "k", None, false)
            .await
            .expect("latest");
        assert_eq!(latest.version_id, "00007");
    });
}

#[test]
fn a_format_1_file_is_read_walked_and_rewritten_on_change() {
    use crate::xl_meta::legacy::{ObjectVersionV1, XlMetaV1};
    let dir = TempDir::new("v1");
    let root = dir.path().to_path_buf();
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        let old = XlMetaV1 {
            versions: vec![ObjectVersionV1 {
                etag: "old".into(),
                mod_time_ns: 5,
                inline_data: Some(b"abc".to_vec()),
                ..ObjectVersionV1::default()
            }],
        };
        fs::create_dir_all(root.join("b/k")).expect("mkdir");
        fs::write(root.join("b/k/xl.meta"), xl_meta::legacy::encode(&old)).expect("write");
        let v = drive
            .read_version("b", "k", None, true)
            .await
            .expect("read");
        assert_eq!(
            (v.etag.as_str(), v.inline_data.as_deref()),
            ("old", Some(&b"abc"[..]))
        );
        let walked = drive
            .walk_versions(
                "b",
                &WalkRequest {
                    limit: 10,
                    ..WalkRequest::default()
                },
            )
            .await
            .expect("walk");
        assert_eq!(walked.len(), 1);
        drive
            .write_version("b", "k", version("n", 9, None))
            .await
            .expect("change");
        let raw = fs::read(root.join("b/k/xl.meta")).expect("read");
        assert_eq!(raw[4..6], xl_meta::FORMAT_MAJOR.to_le_bytes());
        assert_eq!(ids(&drive, "b", "k").await, ["n", ""]);
        let v = drive
            .read_version("b", "k", Some(""), true)
            .await
            .expect("old version");
        assert_eq!(v.inline_data.as_deref(), Some(&b"abc"[..]));
    });
}

/// A framed shard file of a part of `size` object bytes, its frames hashed under `key`.
fn shard_file(layout: &ErasureLayout, size: u64, key: FrameKey, seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut block = 0u64;
    let mut left = size;
    while left > 0 {
        let len = left.min(layout.block_size as u64) as usize;
        let shard: Vec<u8> = (0..layout.shard_size(len))
            .map(|i| (i as u8).wrapping_mul(seed).wrapping_add(block as u8))
            .collect();
        out.extend_from_slice(&key.hash(block, &shard));
        out.extend_from_slice(&shard);
        left -= len as u64;
        block += 1;
    }
    out
}

#[test]
fn parts_are_checked_and_verified() {
    let dir = TempDir::new("parts");
    let root = dir.path().to_path_buf();
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        let layout = ErasureLayout::new(2, 1, 4096).expect("layout");
        let mut v = version("", 1, Some("dd"));
        v.erasure = ErasureInfo {
            data: 2,
            parity: 1,
            block_size: 4096,
            index: 1,
            distribution: vec![0, 1, 2],
        };
        v.parts = [(1, 10_000u64), (2, 4096), (3, 1)]
            .iter()
            .map(|&(number, size)| PartInfo {
                number,
                size,
                ..PartInfo::default()
            })
            .collect();
        v.meta = vec![(xl_meta::META_FRAME_BINDING.to_string(), "dd".to_string())];
        let key = |part| FrameKey::bound("dd", 1, part);
        let part_path = |n: u32| root.join(format!("b/k/dd/part.{n}"));
        fs::create_dir_all(root.join("b/k/dd")).expect("mkdir");
        for part in &v.parts {
            let file = shard_file(&layout, part.size, key(part.number), part.number as u8);
            fs::write(part_path(part.number), file).expect("write part");
        }
        drive
            .write_version("b", "k", v.clone())
            .await
            .expect("commit");
        let ok = vec![PartState::Ok; 3];
        assert_eq!(drive.check_parts("b", "k", &v).await, Ok(ok.clone()));
        assert_eq!(drive.verify_parts("b", "k", &v).await, Ok(ok.clone()));

        // A flipped byte: the size still checks, the frame does not.
        let mut bytes = fs::read(part_path(1)).expect("read");
        bytes[BITROT_HASH_LEN + 4096 + 40] ^= 1;
        fs::write(part_path(1), &bytes).expect("write");
        // Truncated, and missing.
        let bytes = fs::read(part_path(2)).expect("read");
        fs::write(part_path(2), &bytes[..bytes.len() - 1]).expect("write");
        fs::remove_file(part_path(3)).expect("rm");
        assert_eq!(
            drive.check_parts("b", "k", &v).await,
            Ok(vec![PartState::Ok, PartState::Corrupt, PartState::Missing])
        );
        assert_eq!(
            drive.verify_parts("b", "k", &v).await,
            Ok(vec![
                PartState::Corrupt,
                PartState::Corrupt,
                PartState::Missing
            ])
        );

        // Frames written for another shard index do not verify here.
        let other = shard_file(&layout, 10_000, FrameKey::bound("dd", 0, 1), 1);
        fs::write(part_path(1), other).expect("write");
        assert_eq!(
            drive.verify_parts("b", "k", &v).await.expect("verify")[0],
            PartState::Corrupt
        );

        // An unbound version (no binding meta) verifies under the fixed key.
        let mut unbound = v.clone();
        unbound.meta.clear();
        unbound.parts.truncate(1);
        fs::write(
            part_path(1),
            shard_file(&layout, 10_000, FrameKey::Unbound, 1),
        )
        .expect("write");
        assert_eq!(
            drive.verify_parts("b", "k", &unbound).await,
            Ok(vec![PartState::Ok])
        );
        assert_eq!(
            drive.verify_parts("b", "k", &v).await.expect("verify")[0],
            PartState::Corrupt
        );

        // Inline: the frames in xl.meta.
        let mut inline = v.clone();
        inline.version_id = "i".into();
        inline.data_dir = None;
        inline.parts.truncate(1);
        inline.inline_data = Some(shard_file(&layout, 10_000, key(1), 3));
        drive
            .write_version("b", "k", inline.clone())
            .await
            .expect("inline");
        assert_eq!(
            drive.check_parts("b", "k", &inline).await,
            Ok(vec![PartState::Ok])
        );
        assert_eq!(
            drive.verify_parts("b", "k", &inline).await,
            Ok(vec![PartState::Ok])
        );
        let summary = inline.without_inline_data();
        assert_eq!(
            drive.verify_parts("b", "k", &summary).await,
            Ok(vec![PartState::Ok])
        );
        let mut bad = inline.clone();
        if let Some(data) = bad.inline_data.as_mut() {
            data[100] ^= 1;
        }
        assert_eq!(
            drive.verify_parts("b", "k", &bad).await,
            Ok(vec![PartState::Corrupt])
        );
        let mut short = inline.clone();
        if let Some(data) = short.inline_data.as_mut() {
            data.pop();
        }
        assert_eq!(
            drive.verify_parts("b", "k", &short).await,
            Ok(vec![PartState::Corrupt])
        );
        let mut gone = summary.clone();
        gone.version_id = "not-here".into();
        assert_eq!(
            drive.verify_parts("b", "k", &gone).await,
            Ok(vec![PartState::Missing])
        );
        // A delete marker has no parts.
        assert_eq!(
            drive.check_parts("b", "k", &version("dm", 1, None)).await,
            Ok(vec![])
        );
        // A layout that cannot be is the version's corruption.
        let mut broken = v.clone();
        broken.erasure.data = 0;
        assert!(matches!(
            drive.check_parts("b", "k", &broken).await,
            Err(DriveError::Corrupt { .. })
        ));
    });
}

/// Write `keys` as objects directly on the filesystem (fast setup for walks): each gets an
/// xl.meta with one version (etag = key) and, for every other key, a data directory.
fn make_keys(vol: &Path, keys: &[&str]) {
    for (i, key) in keys.iter().enumerate() {
        let dir = vol.join(object_dir(key));
        let data_dir = (i % 2 == 0).then(|| format!("{:08}-aaaa-4bbb-8ccc-dddddddddddd", i));
        let mut v = version("", i as i64, data_dir.as_deref());
        v.etag = key.to_string();
        v.inline_data = data_dir.is_none().then(|| vec![9; 10]);
        fs::create_dir_all(&dir).expect("mkdir");
        if let Some(dd) = &data_dir {
            fs::create_dir_all(dir.join(dd)).expect("mkdir dd");
            fs::write(dir.join(dd).join("part.1"), b"p").expect("part");
        }
        let (bytes, _) = xl_meta::add_version(None, &v).expect("encode");
        fs::write(dir.join(xl_meta::FILE_NAME), bytes).expect("xl.meta");
    }
}

async fn walk_names(drive: &LocalDrive, request: WalkRequest) -> Vec<String> {
    drive
        .walk_versions("v", &request)
        .await
        .expect("walk")
        .into_iter()
        .map(|e| match e {
            WalkEntry::Object { key, .. } => key,
            WalkEntry::Prefix(p) => format!("[{p}]"),
        })
        .collect()
}

fn req(prefix: &str, after: &str, limit: usize) -> WalkRequest {
    WalkRequest {
        prefix: prefix.into(),
        after: after.into(),
        delimiter: None,
        limit,
        all_versions: false,
    }
}

fn delim(prefix: &str, after: &str, limit: usize) -> WalkRequest {
    WalkRequest {
        delimiter: Some("/".into()),
        ..req(prefix, after, limit)
    }
}

#[test]
fn walk_in_key_byte_order_with_folders_and_prefixes() {
    let dir = TempDir::new("walk");
    let keys = [
        "a", "a!", "a-b", "a/", "a/b", "a/b/", "a/b/c", "ab", "b/c/d", "b/c/d/e", "b0", "z",
    ];
    let vol = dir.path().join("v");
    fs::create_dir_all(&vol).expect("mkdir");
    let mut shuffled = keys.to_vec();
    shuffled.reverse();
    make_keys(&vol, &shuffled);
    // Directories without xl.meta are not keys ("b", "b/c"), nor empty leftovers.
    fs::create_dir_all(vol.join("e/f/g")).expect("mkdir");
    run(|| async {
        let drive = open(&dir).await;
        assert_eq!(walk_names(&drive, req("", "", 1000)).await, keys);
        let all = drive
            .walk_versions("v", &req("", "", 1000))
            .await
            .expect("walk");
        for entry in &all {
            let WalkEntry::Object { key, versions } = entry else {
                panic!("{entry:?}");
            };
            assert_eq!(&versions[0].etag, key);
            assert_eq!(versions[0].inline_data, None, "never inline data");
        }
        assert_eq!(
            walk_names(&drive, req("a", "", 1000)).await,
            ["a", "a!", "a-b", "a/", "a/b", "a/b/", "a/b/c", "ab"]
        );
        assert_eq!(
            walk_names(&drive, req("a/", "", 1000)).await,
            ["a/", "a/b", "a/b/", "a/b/c"]
        );
        assert_eq!(
            walk_names(&drive, req("a/b/", "", 1000)).await,
            ["a/b/", "a/b/c"]
        );
        assert_eq!(
            walk_names(&drive, req("b/", "", 1000)).await,
            ["b/c/d", "b/c/d/e"]
        );
        assert!(walk_names(&drive, req("c", "", 1000)).await.is_empty());
        assert!(walk_names(&drive, req("x/y/", "", 1000)).await.is_empty());
        assert!(walk_names(&drive, req("../", "", 1000)).await.is_empty());
        assert_eq!(
            walk_names(&drive, req("", "a-b", 1000)).await,
            ["a/", "a/b", "a/b/", "a/b/c", "ab", "b/c/d", "b/c/d/e", "b0", "z"]
        );
        assert_eq!(
            walk_names(&drive, req("", "a/", 3)).await,
            ["a/b", "a/b/", "a/b/c"]
        );
        assert_eq!(
            walk_names(&drive, req("", "b/c/d", 1000)).await,
            ["b/c/d/e", "b0", "z"]
        );
        assert_eq!(walk_names(&drive, req("b", "b/c/d/e", 1000)).await, ["b0"]);
        assert!(walk_names(&drive, req("", "z", 1000)).await.is_empty());
        assert!(walk_names(&drive, req("", "", 0)).await.is_empty());

        // Delimiter "/": subtrees at the prefix's level are prefixes, once; a folder object
        // "a/" belongs to prefix "a/"; the empty tree "e/" is no prefix.
        assert_eq!(
            walk_names(&drive, delim("", "", 1000)).await,
            ["a", "a!", "a-b", "[a/]", "ab", "[b/]", "b0", "z"]
        );
        assert_eq!(
            walk_names(&drive, delim("a/", "", 1000)).await,
            ["a/", "a/b", "[a/b/]"]
        );
        assert_eq!(
            walk_names(&drive, delim("a/b", "", 1000)).await,
            ["a/b", "[a/b/]"]
        );
        assert_eq!(walk_names(&drive, delim("b/", "", 1000)).await, ["[b/c/]"]);
        // Paging after a prefix skips it whole.
        assert_eq!(walk_names(&drive, delim("", "a/", 2)).await, ["ab", "[b/]"]);
        assert_eq!(
            walk_names(&drive, delim("", "a/b/c", 2)).await,
            ["ab", "[b/]"]
        );
        // Another delimiter: the drive lists keys.
        let other = WalkRequest {
            delimiter: Some("-".into()),
            ..req("a", "", 3)
        };
        assert_eq!(walk_names(&drive, other).await, ["a", "a!", "a-b"]);

        // Paging with limit 1 visits every key once, in order.
        let mut paged = Vec::new();
        let mut after = String::new();
        while let Some(key) = walk_names(&drive, req("", &after, 1)).await.pop() {
            after = key.clone();
            paged.push(key);
        }
        assert_eq!(paged, keys);
        assert_eq!(
            drive.walk_versions("nope", &req("", "", 10)).await,
            Err(DriveError::VolumeNotFound)
        );
    });
}

#[test]
fn walk_lists_all_versions_and_skips_corrupt_files() {
    let dir = TempDir::new("walk-versions");
    let root = dir.path().to_path_buf();
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("v").await.expect("make_vol");
        for (i, id) in ["1", "2", "3"].iter().enumerate() {
            let mut v = version(id, i as i64, None);
            v.inline_data = Some(vec![i as u8; 50]);
            drive.write_version("v", "k", v).await.expect("write");
        }
        drive
            .write_version("v", "m", version("", 1, None))
            .await
            .expect("m");
        drive
            .write_version("v", "n", version("", 1, None))
            .await
            .expect("n");
        let all = WalkRequest {
            all_versions: true,
            ..req("", "", 10)
        };
        let walked = drive.walk_versions("v", &all).await.expect("walk");
        let WalkEntry::Object { key, versions } = &walked[0] else {
            panic!("{walked:?}");
        };
        assert_eq!(key, "k");
        let got: Vec<&str> = versions.iter().map(|v| v.version_id.as_str()).collect();
        assert_eq!(got, ["3", "2", "1"]);
        assert!(versions.iter().all(|v| v.inline_data.is_none()));

        // A flipped byte in the inline section: a walk (which never reads it) still lists the
        // key; a read with data is Corrupt.
        let path = root.join("v/k/xl.meta");
        let mut raw = fs::read(&path).expect("read");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        fs::write(&path, &raw).expect("write");
        assert_eq!(walk_names(&drive, req("", "", 10)).await, ["k", "m", "n"]);
        assert!(matches!(
            drive.read_version("v", "k", None, true).await,
            Err(DriveError::Corrupt { .. })
        ));
        assert_eq!(
            drive
                .read_version("v", "k", None, false)
                .await
                .expect("meta")
                .version_id,
            "3"
        );
        // A corrupt metadata section: left out of the walk.
        fs::write(root.join("v/m/xl.meta"), b"XLMN\x02\x00\x00\x00garbage").expect("write");
        assert_eq!(walk_names(&drive, req("", "", 10)).await, ["k", "n"]);
    });
}

#[test]
fn walk_reads_long_metadata_sections_whole() {
    let dir = TempDir::new("walk-long");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("v").await.expect("make_vol");
        // More than FIRST_READ_BYTES of metadata.
        let mut v = version("", 1, None);
        v.meta = vec![(
            "x-amz-meta-big".into(),
            "y".repeat(3 * xl_meta::FIRST_READ_BYTES),
        )];
        v.inline_data = Some(vec![1; 100]);
        drive
            .write_version("v", "k", v.clone())
            .await
            .expect("write");
        let walked = drive
            .walk_versions("v", &req("", "", 10))
            .await
            .expect("walk");
        assert_eq!(
            walked,
            [WalkEntry::Object {
                key: "k".into(),
                versions: vec![v.without_inline_data()],
            }]
        );
        assert_eq!(
            drive.read_version("v", "k", None, false).await,
            Ok(v.without_inline_data())
        );
    });
}

#[test]
fn walk_pages_over_a_large_folder_see_every_key_once() {
    let dir = TempDir::new("walk-large");
    let vol = dir.path().join("v");
    let keys: Vec<String> = (0..3000).map(|i| format!("f/{i:05}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    make_keys(&vol, &refs);
    make_keys(&vol, &["f/", "g"]);
    run(|| async {
        let drive = open(&dir).await;
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = walk_names(&drive, req("f/", &after, 250)).await;
            let Some(last) = page.last() else { break };
            after = last.clone();
            seen.extend(page);
        }
        let mut expected = vec!["f/".to_string()];
        expected.extend(keys.iter().cloned());
        assert_eq!(seen, expected);
        assert_eq!(walk_names(&drive, delim("", "", 10)).await, ["[f/]", "g"]);
    });
}

/// Walk speed: a flat folder of 10,000 keys, pages of 1,000, warm; then the first and the last
/// page of a folder of `WALK_BIG` (default 100,000) keys. Optimised:
/// `cargo test -p minnow-io --config 'profile.dev.package.minnow-io.opt-level=3' -- --ignored
/// walk_speed --nocapture` (or `--release`).
#[test]
#[ignore = "measurement, not a test"]
fn walk_speed() {
    let dir = TempDir::new("walk-speed");
    let vol = dir.path().join("v");
    let big: usize = std::env::var("WALK_BIG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let keys: Vec<String> = (0..big).map(|i| format!("big/{i:06}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    make_keys(&vol, &refs[..]);
    let flat: Vec<String> = (0..10_000).map(|i| format!("flat/{i:05}")).collect();
    let refs: Vec<&str> = flat.iter().map(String::as_str).collect();
    make_keys(&vol, &refs);
    run(|| async {
        let drive = open(&dir).await;
        for round in 0..3 {
            let start = Instant::now();
            let mut after = String::new();
            let mut n = 0;
            loop {
                let page = walk_names(&drive, req("flat/", &after, 1000)).await;
                let Some(last) = page.last() else { break };
                after = last.clone();
                n += page.len();
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "round {round}: {n} keys in {secs:.3}s = {:.0} keys/s",
                n as f64 / secs
            );
        }
        for (what, after) in [("first", String::new()), ("last", keys[big - 1000].clone())] {
            let start = Instant::now();
            let page = walk_names(&drive, req("big/", &after, 1000)).await;
            println!(
                "{what} page of the 100,000-key folder: {} keys in {:.3}s",
                page.len(),
                start.elapsed().as_secs_f64()
            );
        }
    });
}

#[test]
fn a_corrupt_xl_meta_is_reported_with_its_path_and_left_alone() {
    let dir = TempDir::new("corrupt-commit");
    let root = dir.path().to_path_buf();
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        fs::create_dir_all(root.join("b/k/dd")).expect("mkdir");
        fs::write(root.join("b/k/xl.meta"), b"XLMN\x02\x00\x00\x00torn").expect("write");
        let corrupt = |r: Result<(), DriveError>| match r {
            Err(DriveError::Corrupt { path, .. }) => {
                assert!(path.ends_with("b/k/xl.meta"), "{path}")
            }
            other => panic!("expected Corrupt, got {other:?}"),
        };
        corrupt(
            drive
                .write_version("b", "k", version("", 1, None))
                .await
                .map(drop),
        );
        corrupt(drive.update_version("b", "k", version("", 1, None)).await);
        corrupt(drive.delete_version("b", "k", "").await.map(drop));
        corrupt(drive.free_data_dir("b", "k", "dd").await);
        corrupt(drive.read_version("b", "k", None, false).await.map(drop));
        assert_eq!(
            fs::read(root.join("b/k/xl.meta")).expect("read"),
            b"XLMN\x02\x00\x00\x00torn"
        );
        assert!(
            root.join("b/k/dd").is_dir(),
            "a data dir is never freed on a corrupt xl.meta"
        );

        // Without xl.meta, freeing the last data directory prunes the object's directories.
        fs::remove_file(root.join("b/k/xl.meta")).expect("rm");
        drive.free_data_dir("b", "k", "dd").await.expect("free");
        assert!(!root.join("b/k").exists());
        assert!(root.join("b").is_dir());
    });
}

#[test]
fn walk_reads_xl_meta_not_in_the_page_cache_through_io_uring() {
    use std::os::fd::AsRawFd;
    let dir = TempDir::new("walk-cold");
    let vol = dir.path().join("v");
    let keys: Vec<String> = (0..50).map(|i| format!("k{i:02}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    make_keys(&vol, &refs);
    // Written back and dropped from the page cache: RWF_NOWAIT reads find nothing cached.
    for key in &keys {
        let file = fs::File::open(vol.join(key).join(xl_meta::FILE_NAME)).expect("open");
        file.sync_all().expect("sync");
        nix::fcntl::posix_fadvise(
            file.as_raw_fd(),
            0,
            0,
            nix::fcntl::PosixFadviseAdvice::POSIX_FADV_DONTNEED,
        )
        .expect("fadvise");
    }
    let cold = vol.join("k07").join(xl_meta::FILE_NAME);
    assert_eq!(super::walk::read_cached_metadata(&cold), None, "evicted");
    run(|| async {
        let drive = open(&dir).await;
        assert_eq!(walk_names(&drive, req("", "", 100)).await, keys);
    });
    // Cached now: served by the examining trip.
    assert!(super::walk::read_cached_metadata(&cold).is_some());
}

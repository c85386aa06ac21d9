//! LocalDrive against a real ext4 directory, one glommio executor per test.

use std::fs;
use std::path::Path;

use super::buffers::{BUFFER_LARGE, BUFFER_SMALL, LARGE_FILE_BYTES};
use super::*;
use crate::drive::WalkRequest;
use crate::test_util::{run, TempDir};
use crate::xl_meta::{self, ObjectVersion, XlMeta};

/// Deterministic pseudo-random bytes (xorshift64*), different per seed.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn meta_bytes(etag: &str) -> Vec<u8> {
    xl_meta::encode(&XlMeta {
        versions: vec![ObjectVersion {
            etag: etag.to_string(),
            ..ObjectVersion::default()
        }],
    })
}

/// A version of `etag` whose part files (if any) are in `data_dir`.
fn version(id: &str, time: i64, etag: &str, data_dir: Option<&str>) -> ObjectVersion {
    ObjectVersion {
        version_id: id.to_string(),
        mod_time_ns: time,
        etag: etag.to_string(),
        data_dir: data_dir.map(str::to_string),
        ..ObjectVersion::default()
    }
}

/// `len` bytes at `offset` of a file, through open_file.
async fn read_file(
    drive: &LocalDrive,
    vol: &str,
    path: &str,
    offset: u64,
    len: usize,
) -> Result<Vec<u8>, DriveError> {
    let file = drive.open_file(vol, path).await?;
    file.read_at(offset, len).await
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    names
}

async fn open(dir: &TempDir) -> LocalDrive {
    LocalDrive::open(dir.path().to_path_buf())
        .await
        .expect("open drive")
}

async fn write_file(drive: &LocalDrive, vol: &str, path: &str, data: &[u8], hint: u64) -> u64 {
    let mut w = drive
        .create_file(vol, path, hint)
        .await
        .expect("create_file");
    // Uneven pieces so that buffer boundaries fall inside writes.
    let mut rest = data;
    let mut piece = 1;
    while !rest.is_empty() {
        let n = piece.min(rest.len());
        w.write(&rest[..n]).await.expect("write");
        rest = &rest[n..];
        piece = piece * 7 + 4093;
    }
    w.finish().await.expect("finish")
}

#[test]
fn open_prepares_sys_vol_and_clears_leftovers() {
    let dir = TempDir::new("open");
    let sys = dir.path().join(SYS_VOL);
    fs::create_dir_all(sys.join("tmp/stale/dd")).expect("mkdir");
    fs::write(sys.join("tmp/stale/dd/part.1"), b"x").expect("write");
    fs::write(sys.join("tmp/loose"), b"x").expect("write");
    fs::create_dir_all(sys.join("trash/old")).expect("mkdir");
    fs::create_dir_all(sys.join("multipart/upload")).expect("mkdir");
    run(|| async {
        let drive = open(&dir).await;
        assert_eq!(drive.endpoint(), dir.path().display().to_string());
        assert_eq!(drive.root(), dir.path());
    });
    assert_eq!(entries(&sys), ["buckets", "multipart", "tmp", "trash"]);
    assert!(
        entries(&sys.join("tmp")).is_empty(),
        "tmp emptied, probe removed"
    );
    assert!(entries(&sys.join("trash")).is_empty());
    assert_eq!(
        entries(&sys.join("multipart")),
        ["upload"],
        "uploads survive"
    );

    let gone = dir.path().join("missing");
    let file = dir.path().join("file");
    fs::write(&file, b"x").expect("write");
    run(|| async {
        assert!(matches!(
            LocalDrive::open(gone).await,
            Err(DriveError::Offline)
        ));
        assert!(matches!(
            LocalDrive::open(file).await,
            Err(DriveError::Offline)
        ));
    });
}

fn file_writer_round_trip(hint: u64, buffer: usize) {
    assert_eq!(buffers::buffer_size_for(hint), buffer);
    let dir = TempDir::new("writer");
    let sizes = [
        0,
        1,
        4095,
        4096,
        4097,
        BUFFER_SMALL - 1,
        BUFFER_SMALL,
        BUFFER_SMALL + 1,
        BUFFER_LARGE + 4096,
        9 * (1 << 20) + 12345,
    ];
    run(|| async {
        let drive = open(&dir).await;
        for (i, &size) in sizes.iter().enumerate() {
            let data = pattern(size, i as u64 + 1);
            let path = format!("tmp/obj{i}/dd/part.1");
            assert_eq!(
                write_file(&drive, SYS_VOL, &path, &data, hint).await,
                size as u64
            );
            let on_disk = fs::read(dir.path().join(SYS_VOL).join(&path)).expect("read");
            assert!(on_disk == data, "size {size}: file content differs");

            let mut windows = vec![(0, size), (size, 0)];
            if size > 0 {
                windows.extend([(1, size - 1), (size - 1, 1), (size / 2, size - size / 2)]);
            }
            if size > 8192 {
                windows.extend([(4095, 2), (4096, 4096), (4000, 5000), (size - 4097, 4097)]);
            }
            if size > buffer + 100 {
                windows.extend([(buffer - 50, 100), (buffer, 1)]);
            }
            for (offset, len) in windows {
                let got = read_file(&drive, SYS_VOL, &path, offset as u64, len)
                    .await
                    .expect("read_file");
                assert!(
                    got == data[offset..offset + len],
                    "size {size}: window {offset}+{len} differs"
                );
            }
            // Past the end: short, reported as Corrupt.
            for (offset, len) in [(size, 1), (size.saturating_sub(1), 2), (size + 5000, 10)] {
                match read_file(&drive, SYS_VOL, &path, offset as u64, len).await {
                    Err(DriveError::Corrupt { .. }) => {}
                    other => panic!("size {size}: read {offset}+{len}: {other:?}"),
                }
            }
        }
    });
}

#[test]
fn file_writer_small_buffers() {
    file_writer_round_trip(0, BUFFER_SMALL);
}

#[test]
fn file_writer_large_buffers() {
    file_writer_round_trip(LARGE_FILE_BYTES, BUFFER_LARGE);
}

#[test]
fn buffers_are_reused_with_two_writes_in_flight() {
    let dir = TempDir::new("reuse");
    run(|| async {
        let drive = open(&dir).await;
        let before = buffers::fresh_allocations();
        let data = pattern(20 << 20, 3);
        write_file(&drive, SYS_VOL, "tmp/big", &data, 0).await;
        // One buffer filling + MAX_IN_FLIGHT being written, whatever the file size.
        let fresh = buffers::fresh_allocations() - before;
        assert!(fresh <= 1 + writer::MAX_IN_FLIGHT, "{fresh} fresh buffers");
        write_file(&drive, SYS_VOL, "tmp/big2", &data, 0).await;
        assert_eq!(
            buffers::fresh_allocations() - before,
            fresh,
            "second file: all reused"
        );
        let back = read_file(&drive, SYS_VOL, "tmp/big2", 0, data.len())
            .await
            .expect("read");
        assert!(back == data);

        // A long unaligned tail goes back to the pool too.
        let odd = pattern((2 << 20) + (700 << 10) + 5, 4);
        write_file(&drive, SYS_VOL, "tmp/odd1", &odd, 0).await;
        let after_first = buffers::fresh_allocations();
        for name in ["tmp/odd2", "tmp/odd3"] {
            write_file(&drive, SYS_VOL, name, &odd, 0).await;
            let back = read_file(&drive, SYS_VOL, name, 0, odd.len())
                .await
                .expect("read");
            assert!(back == odd, "{name}");
        }
        assert_eq!(
            buffers::fresh_allocations(),
            after_first,
            "tails reuse buffers"
        );
    });
}

#[test]
fn concurrent_writers_and_abandoned_writer() {
    let dir = TempDir::new("concurrent");
    run(|| async {
        let drive = open(&dir).await;
        let drive = &drive;
        let write = |i: usize| async move {
            let data = pattern(5 * (1 << 20) + i * 1000, 100 + i as u64);
            let path = format!("tmp/c{i}");
            write_file(drive, SYS_VOL, &path, &data, 0).await;
            let back = read_file(drive, SYS_VOL, &path, 0, data.len())
                .await
                .expect("read back");
            assert!(back == data, "writer {i}");
        };
        let pairs = futures_lite::future::zip(
            futures_lite::future::zip(write(0), write(1)),
            futures_lite::future::zip(write(2), write(3)),
        );
        pairs.await;

        // A writer dropped with writes in flight must not break the drive.
        let mut w = drive
            .create_file(SYS_VOL, "tmp/abandoned", 0)
            .await
            .expect("create");
        w.write(&pattern(5 << 20, 9)).await.expect("write");
        drop(w);
        glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
        drive
            .delete(SYS_VOL, "tmp/abandoned", false)
            .await
            .expect("delete");
        assert!(buffers::idle_bytes() > 0, "buffers went back to the pool");
    });
}

#[test]
fn write_all_replaces_atomically() {
    let dir = TempDir::new("write-all");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        assert!(matches!(
            drive.read_all("b", "k/xl.meta").await,
            Err(DriveError::FileNotFound)
        ));
        assert!(matches!(
            drive.read_all("nope", "k/xl.meta").await,
            Err(DriveError::VolumeNotFound)
        ));
        assert!(matches!(
            drive.write_all("nope", "k/xl.meta", b"x").await,
            Err(DriveError::VolumeNotFound)
        ));
        for (i, len) in [0usize, 1, 5000, 300_000, 17].into_iter().enumerate() {
            let data = pattern(len, i as u64);
            drive
                .write_all("b", "deep/er/k/xl.meta", &data)
                .await
                .expect("write_all");
            assert_eq!(
                drive
                    .read_all("b", "deep/er/k/xl.meta")
                    .await
                    .expect("read_all"),
                data
            );
        }
        // A directory is not a file; a file is not a directory on the way.
        assert!(matches!(
            drive.read_all("b", "deep/er").await,
            Err(DriveError::FileNotFound)
        ));
        assert!(matches!(
            drive.read_all("b", "deep/er/k/xl.meta/x").await,
            Err(DriveError::FileNotFound)
        ));
    });
    let tmp = dir.path().join(SYS_VOL).join(SYS_TMP_DIR);
    assert!(entries(&tmp).is_empty(), "no temp file left behind");
    assert_eq!(entries(&dir.path().join("b/deep/er/k")), ["xl.meta"]);
}

#[test]
fn rename_data_commits_and_reads_back() {
    let dir = TempDir::new("rename-data");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("bucket").await.expect("make_vol");
        let data = pattern(3 * (1 << 20) + 77, 5);
        write_file(&drive, SYS_VOL, "tmp/u1/dd1/part.1", &data, 0).await;
        write_file(&drive, SYS_VOL, "tmp/u1/dd1/part.2", b"two", 0).await;
        let replaced = drive
            .rename_data(
                SYS_VOL,
                "tmp/u1/dd1",
                "bucket",
                "photos/2024/cat.jpg",
                version("", 1, "v1", Some("dd1")),
            )
            .await
            .expect("rename_data");
        assert_eq!(replaced, None);
        let got = read_file(
            &drive,
            "bucket",
            "photos/2024/cat.jpg/dd1/part.1",
            1000,
            2 << 20,
        )
        .await
        .expect("read_file");
        assert!(got == data[1000..1000 + (2 << 20)]);
        let latest = drive
            .read_version("bucket", "photos/2024/cat.jpg", None, false)
            .await
            .expect("read_version");
        assert_eq!(latest.etag, "v1");

        // Inline version replacing the null version: only xl.meta changes; the old data dir
        // is the caller's to free, and the replaced version comes back.
        let mut inline = version("", 2, "v2", None);
        inline.inline_data = Some(b"inline".to_vec());
        let replaced = drive
            .rename_data(
                SYS_VOL,
                "tmp/u2",
                "bucket",
                "photos/2024/cat.jpg",
                inline.clone(),
            )
            .await
            .expect("rename_data inline");
        assert_eq!(replaced, Some(version("", 1, "v1", Some("dd1"))));
        assert_eq!(
            drive
                .read_version("bucket", "photos/2024/cat.jpg", Some(""), true)
                .await
                .expect("read"),
            inline
        );
        assert_eq!(
            drive
                .read_version("bucket", "photos/2024/cat.jpg", None, false)
                .await
                .expect("read")
                .inline_data,
            None
        );
        let raw = drive
            .read_xl("bucket", "photos/2024/cat.jpg")
            .await
            .expect("read_xl");
        assert_eq!(xl_meta::decode(&raw).expect("decode").versions, [inline]);

        // Missing source: nothing changes.
        assert_eq!(
            drive
                .rename_data(
                    SYS_VOL,
                    "tmp/gone",
                    "bucket",
                    "x",
                    version("", 3, "v3", Some("dd9"))
                )
                .await,
            Err(DriveError::FileNotFound)
        );
        assert_eq!(
            drive
                .rename_data(SYS_VOL, "tmp/gone", "nope", "x", version("", 3, "v3", None))
                .await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.read_version("bucket", "x", None, false).await,
            Err(DriveError::FileNotFound)
        );
        assert_eq!(
            drive.read_version("nope", "x", None, true).await,
            Err(DriveError::VolumeNotFound)
        );
        assert_eq!(
            drive.read_xl("bucket", "x").await,
            Err(DriveError::FileNotFound)
        );
        assert_eq!(
            drive
                .read_version("bucket", "photos/2024/cat.jpg", Some("zz"), false)
                .await,
            Err(DriveError::VersionNotFound)
        );
    });
    assert_eq!(
        entries(&dir.path().join("bucket/photos/2024/cat.jpg")),
        ["dd1", "xl.meta"]
    );
    assert_eq!(
        entries(&dir.path().join("bucket/photos/2024/cat.jpg/dd1")),
        ["part.1", "part.2"]
    );
    assert_eq!(entries(&dir.path().join(SYS_VOL).join("tmp")), ["u1"]);
    assert!(entries(&dir.path().join(SYS_VOL).join("tmp/u1")).is_empty());
    assert!(!dir.path().join("bucket/x").exists());
}

#[test]
fn an_open_file_reads_on_after_its_directory_is_deleted() {
    let dir = TempDir::new("open-file");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("bucket").await.expect("make_vol");
        let data = pattern((5 << 20) + 123, 9);
        write_file(&drive, "bucket", "obj/dd/part.1", &data, 0).await;
        let file = drive
            .open_file("bucket", "obj/dd/part.1")
            .await
            .expect("open_file");
        assert!(file.read_at(7, 4096).await.expect("read_at") == data[7..7 + 4096]);
        // Deleted (trashed, then removed from the trash) while open: still readable.
        drive
            .delete("bucket", "obj/dd", true)
            .await
            .expect("delete");
        assert!(entries(&dir.path().join(SYS_VOL).join(SYS_TRASH_DIR)).is_empty());
        assert!(matches!(
            drive.open_file("bucket", "obj/dd/part.1").await.err(),
            Some(DriveError::FileNotFound)
        ));
        let rest = file
            .read_at(4096, data.len() - 4096)
            .await
            .expect("read_at");
        assert!(rest == data[4096..]);
        // Past the end is a short read: Corrupt, never padding.
        assert!(matches!(
            file.read_at(data.len() as u64 - 10, 11).await,
            Err(DriveError::Corrupt { .. })
        ));
        assert!(matches!(
            drive.open_file("nobucket", "x").await.err(),
            Some(DriveError::VolumeNotFound)
        ));
    });
}

#[test]
fn rename_moves_files_and_dirs() {
    let dir = TempDir::new("rename");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        write_file(&drive, SYS_VOL, "tmp/p/part.1", b"part one", 0).await;
        drive
            .rename(SYS_VOL, "tmp/p/part.1", SYS_VOL, "multipart/up/dd/part.1")
            .await
            .expect("rename file");
        assert_eq!(
            read_file(&drive, SYS_VOL, "multipart/up/dd/part.1", 5, 3)
                .await
                .expect("read"),
            b"one"
        );
        drive
            .rename(SYS_VOL, "multipart/up", "b", "moved/up")
            .await
            .expect("rename dir");
        assert_eq!(
            drive.list_dir("b", "moved/up").await.expect("list"),
            ["dd/"]
        );
        assert!(matches!(
            drive.rename(SYS_VOL, "tmp/none", "b", "x").await,
            Err(DriveError::FileNotFound)
        ));
        assert!(matches!(
            drive.rename("nope", "a", "b", "x").await,
            Err(DriveError::VolumeNotFound)
        ));
    });
}

#[test]
fn delete_removes_empty_parents() {
    let dir = TempDir::new("delete");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        drive
            .write_all("b", "a/b/c/xl.meta", b"1")
            .await
            .expect("w");
        drive
            .write_all("b", "a/keep/xl.meta", b"2")
            .await
            .expect("w");
        drive
            .delete("b", "a/b/c/xl.meta", false)
            .await
            .expect("delete file");
        assert_eq!(drive.list_dir("b", "a").await.expect("list"), ["keep/"]);

        write_file(&drive, "b", "a/keep/dd/part.1", b"data", 0).await;
        assert!(
            drive.delete("b", "a/keep", false).await.is_err(),
            "non-empty dir without recursive"
        );
        drive.delete("b", "a/keep", true).await.expect("recursive");
        assert!(drive.list_dir("b", "").await.expect("list").is_empty());
        assert!(matches!(
            drive.delete("b", "a", true).await,
            Err(DriveError::FileNotFound)
        ));
        assert!(matches!(
            drive.delete("nope", "a", true).await,
            Err(DriveError::VolumeNotFound)
        ));
        drive.write_all("b", "e/xl.meta", b"3").await.expect("w");
        drive.delete("b", "e/xl.meta", false).await.expect("delete");
        drive.stat_vol("b").await.expect("the volume itself stays");

        // SYS_VOL's own directories survive deleting their last entry.
        write_file(&drive, SYS_VOL, "tmp/u1/dd/part.1", b"x", 0).await;
        drive
            .delete(SYS_VOL, "tmp/u1", true)
            .await
            .expect("abort upload");
        drive
            .write_all(SYS_VOL, "buckets/b/policy.json", b"{}")
            .await
            .expect("w");
        drive
            .delete(SYS_VOL, "buckets/b/policy.json", false)
            .await
            .expect("rm");
        let top = drive.list_dir(SYS_VOL, "").await.expect("list");
        assert_eq!(top, ["buckets/", "multipart/", "tmp/", "trash/"]);
        assert!(drive
            .list_dir(SYS_VOL, "buckets")
            .await
            .expect("list")
            .is_empty());
        drive
            .write_all("b", "after/xl.meta", b"4")
            .await
            .expect("tmp still works");
        drive.delete("b", "after/xl.meta", false).await.expect("rm");
    });
    assert!(entries(&dir.path().join(SYS_VOL).join("trash")).is_empty());
    assert!(entries(&dir.path().join("b")).is_empty());
}

#[test]
fn list_dir_sorted_with_dir_slash() {
    let dir = TempDir::new("list-dir");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        for path in [
            "d/a/xl.meta",
            "d/a-b/xl.meta",
            "d/ab",
            "d/a!",
            "d/B/x",
            "d/ä",
        ] {
            drive.write_all("b", path, b"x").await.expect("write");
        }
        let expected = ["B/", "a!", "a-b/", "a/", "ab", "ä"];
        assert_eq!(drive.list_dir("b", "d").await.expect("list"), expected);
        assert_eq!(drive.list_dir("b", "d/").await.expect("list"), expected);
        assert_eq!(drive.list_dir("b", "").await.expect("list"), ["d/"]);
        assert!(matches!(
            drive.list_dir("b", "zz").await,
            Err(DriveError::FileNotFound)
        ));
        assert!(matches!(
            drive.list_dir("nope", "").await,
            Err(DriveError::VolumeNotFound)
        ));
    });
}

#[test]
fn volumes() {
    let dir = TempDir::new("vols");
    fs::create_dir(dir.path().join("lost+found")).expect("mkdir");
    run(|| async {
        let drive = open(&dir).await;
        assert!(drive.list_vols().await.expect("list").is_empty());
        drive.make_vol("beta").await.expect("make");
        drive.make_vol("alpha").await.expect("make");
        assert!(matches!(
            drive.make_vol("beta").await,
            Err(DriveError::VolumeExists)
        ));
        let vols = drive.list_vols().await.expect("list");
        let names: Vec<&str> = vols.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta"]);
        assert!(vols
            .iter()
            .all(|v| v.created_ns > 1_600_000_000_000_000_000));
        assert_eq!(drive.stat_vol("alpha").await.expect("stat").name, "alpha");
        assert!(matches!(
            drive.stat_vol("gamma").await,
            Err(DriveError::VolumeNotFound)
        ));
        drive
            .stat_vol(SYS_VOL)
            .await
            .expect("the system volume exists");

        drive.write_all("beta", "k/xl.meta", b"x").await.expect("w");
        assert!(matches!(
            drive.delete_vol("beta", false).await,
            Err(DriveError::VolumeNotEmpty)
        ));
        drive.delete_vol("beta", true).await.expect("force");
        // Empty directories left in a volume do not keep it; once it is gone, a commit into it
        // fails and never recreates it.
        std::fs::create_dir_all(drive.root().join("alpha/k/dd")).expect("mkdir");
        drive.delete_vol("alpha", false).await.expect("empty");
        assert!(matches!(
            drive.write_all("alpha", "k/xl.meta", b"x").await,
            Err(DriveError::VolumeNotFound)
        ));
        assert!(matches!(
            drive
                .rename_data(SYS_VOL, "tmp/none", "alpha", "k", version("", 1, "x", None))
                .await,
            Err(DriveError::VolumeNotFound)
        ));
        assert!(!drive.root().join("alpha").exists());
        drive.make_vol("alpha").await.expect("again");
        drive.delete_vol("alpha", false).await.expect("empty");
        assert!(matches!(
            drive.delete_vol("alpha", false).await,
            Err(DriveError::VolumeNotFound)
        ));
        assert!(matches!(
            drive.delete_vol("alpha", true).await,
            Err(DriveError::VolumeNotFound)
        ));
        assert!(drive.delete_vol(SYS_VOL, true).await.is_err());
        assert!(drive.list_vols().await.expect("list").is_empty());

        let info = drive.disk_info().await.expect("disk_info");
        assert!(info.total_bytes > 0 && info.free_bytes <= info.total_bytes);
    });
    assert!(entries(&dir.path().join(SYS_VOL).join("trash")).is_empty());
}

#[test]
fn path_traversal_refused() {
    let dir = TempDir::new("traversal");
    let bad_paths = [
        "../x",
        "..",
        "/etc/passwd",
        "a//b",
        "a/./b",
        "a/",
        "",
        "a\0b",
    ];
    let bad_vols = ["..", ".", "", "a/b", "/tmp", "x\0"];
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        let refused = |r: Result<(), DriveError>, what: &str| match r {
            Err(e) if e.is_invalid_input() => {}
            other => panic!("{what}: {other:?}"),
        };
        for p in bad_paths {
            refused(drive.read_all("b", p).await.map(drop), p);
            refused(drive.write_all("b", p, b"x").await, p);
            refused(drive.create_file("b", p, 0).await.map(drop), p);
            refused(read_file(&drive, "b", p, 0, 1).await.map(drop), p);
            refused(drive.delete("b", p, true).await, p);
            refused(drive.rename("b", p, "b", "ok").await, p);
            refused(drive.rename(SYS_VOL, "tmp", "b", p).await, p);
            let v = version("", 1, "x", Some("dd"));
            refused(
                drive
                    .rename_data(SYS_VOL, "tmp", "b", p, v.clone())
                    .await
                    .map(drop),
                p,
            );
            refused(
                drive
                    .rename_data(SYS_VOL, p, "b", "k", v.clone())
                    .await
                    .map(drop),
                p,
            );
            refused(drive.read_version("b", p, None, true).await.map(drop), p);
            refused(drive.read_xl("b", p).await.map(drop), p);
            refused(drive.write_version("b", p, v.clone()).await.map(drop), p);
            refused(drive.update_version("b", p, v.clone()).await, p);
            refused(drive.delete_version("b", p, "").await.map(drop), p);
            refused(drive.free_data_dir("b", p, "dd").await, p);
            refused(drive.check_parts("b", p, &v).await.map(drop), p);
            refused(drive.verify_parts("b", p, &v).await.map(drop), p);
            if !p.is_empty() && p != "a/" {
                refused(drive.list_dir("b", p).await.map(drop), p);
            }
        }
        refused(
            drive
                .rename_data(SYS_VOL, "tmp", "b", "k", version("", 1, "x", Some("../dd")))
                .await
                .map(drop),
            "data dir",
        );
        refused(drive.free_data_dir("b", "k", "a/b").await, "data dir");
        for v in bad_vols {
            refused(drive.make_vol(v).await, v);
            refused(drive.stat_vol(v).await.map(drop), v);
            refused(drive.delete_vol(v, true).await, v);
            refused(drive.read_all(v, "k").await.map(drop), v);
            refused(drive.write_all(v, "k", b"x").await, v);
            refused(drive.list_dir(v, "").await.map(drop), v);
            let walk = WalkRequest {
                limit: 10,
                ..WalkRequest::default()
            };
            refused(drive.walk_versions(v, &walk).await.map(drop), v);
            refused(drive.read_version(v, "k", None, false).await.map(drop), v);
        }
    });
    // Nothing was created or removed anywhere.
    assert_eq!(entries(dir.path()), [SYS_VOL, "b"]);
    assert!(entries(&dir.path().join("b")).is_empty());
}

#[test]
fn opens_racing_deletes_do_not_panic() {
    // glommio 0.9 panics if a DmaFile path vanishes mid-open (GLOMMIO.md pitfall #3): the
    // drive's namespace lock must order them.
    let dir = TempDir::new("race");
    run(|| async {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        let drive = &drive;
        for round in 0..50 {
            let path = format!("k{round}/dd/part.1");
            write_file(drive, "b", &path, b"0123456789", 0).await;
            let read = async {
                match read_file(drive, "b", &path, 0, 10).await {
                    Ok(bytes) => assert_eq!(bytes, b"0123456789"),
                    Err(e) => assert!(e.is_not_found(), "{e:?}"),
                }
            };
            let delete = async {
                drive
                    .delete("b", &format!("k{round}"), true)
                    .await
                    .expect("delete");
            };
            futures_lite::future::zip(read, delete).await;
        }
    });
}

#[test]
fn a_drive_removed_under_the_server_is_offline_not_empty() {
    let dir = TempDir::new("removed");
    let moved = dir.path().with_extension("moved");
    run(|| async move {
        let drive = open(&dir).await;
        drive.make_vol("b").await.expect("make_vol");
        drive
            .write_all("b", "k/xl.meta", b"meta")
            .await
            .expect("write_all");
        assert!(matches!(
            drive.stat_vol("nope").await,
            Err(DriveError::VolumeNotFound)
        ));
        // The whole drive directory goes away (unmounted, renamed, deleted).
        fs::rename(dir.path(), &moved).expect("rename drive away");
        assert!(matches!(
            drive.stat_vol("b").await,
            Err(DriveError::Offline)
        ));
        assert!(matches!(
            drive.read_all("b", "k/xl.meta").await,
            Err(DriveError::Offline)
        ));
        fs::rename(&moved, dir.path()).expect("rename back");
        assert_eq!(
            drive.read_all("b", "k/xl.meta").await.expect("back"),
            b"meta"
        );
    });
}

#[test]
fn a_failed_barrier_fails_the_commit_and_publishes_nothing() {
    let dir = TempDir::new("failed-barrier");
    run(|| async {
        let mut drive = open(&dir).await;
        drive.make_vol("bucket").await.expect("make_vol");
        drive
            .write_all("bucket", "k/xl.meta", &meta_bytes("v1"))
            .await
            .expect("write v1");
        write_file(&drive, SYS_VOL, "tmp/u1/dd1/part.1", b"staged", 0).await;

        // From here on every syncfs fails, as on a writeback error.
        drive.sync = Rc::new(SyncGroup::failing(dir.path()));
        let err = drive
            .rename_data(
                SYS_VOL,
                "tmp/u1/dd1",
                "bucket",
                "k",
                version("", 2, "v2", Some("dd1")),
            )
            .await
            .expect_err("rename_data over a failing barrier");
        assert!(
            matches!(&err, DriveError::Faulty { op, .. } if op == "rename_data"),
            "{err}"
        );
        let err = drive
            .write_all("bucket", "k/xl.meta", &meta_bytes("v3"))
            .await
            .expect_err("write_all over a failing barrier");
        assert!(
            matches!(&err, DriveError::Faulty { op, .. } if op == "write_all"),
            "{err}"
        );
        assert!(drive.make_vol("other").await.is_err());

        // Neither new version was published, and their temp files are gone.
        let meta = drive.read_all("bucket", "k/xl.meta").await.expect("read");
        assert_eq!(
            xl_meta::decode(&meta).expect("decode").versions[0].etag,
            "v1"
        );
        assert!(!dir.path().join("bucket/k/dd1").exists());
        assert_eq!(entries(&dir.path().join(SYS_VOL).join("tmp")), ["u1"]);
    });
}

#[test]
fn writer_memory_follows_the_file_size() {
    const MIB: u64 = 1 << 20;
    assert_eq!(writer_memory_bytes(0), 2 * MIB);
    assert_eq!(
        writer_memory_bytes(516 << 10),
        2 * MIB,
        "one buffer is enough"
    );
    assert_eq!(writer_memory_bytes(3 * MIB), 4 * MIB);
    assert_eq!(
        writer_memory_bytes(31 * MIB),
        6 * MIB,
        "filling + two in flight"
    );
    assert_eq!(
        writer_memory_bytes(32 * MIB),
        12 * MIB,
        "large files: 4 MiB buffers"
    );
    assert_eq!(writer_memory_bytes(u64::MAX >> 1), 12 * MIB);
}

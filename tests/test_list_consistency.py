"""Listings stay right when the bucket changes under them and when drives
disagree (4 drives, EC 2+2):

- keys added and removed while a client pages through ListObjectsV2: every
  key present for the whole listing appears exactly once, in order, and no
  key appears twice or out of order (small and large pages, a prefix, a
  delimiter);
- a drive that lost the bucket's content (emptied, gone, wiped to its
  format.json) does not make keys disappear from a listing;
- a drive holding stale xl.meta files (an old copy of its bucket directory put
  back) does not bring back deleted keys or old sizes and ETags."""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import etag_of, unique_bucket
from versions import enable_versioning, list_all_versions

# ---- changes during a listing -----------------------------------------------

STABLE = [f"s/{i:04d}" for i in range(0, 400, 2)] + [f"d/{g:02d}/stable" for g in range(0, 40, 2)]
STABLE.sort()


def volatile_keys() -> list[str]:
    """Keys between the stable ones (so a change lands inside every page), and
    whole new common prefixes between the stable ones."""
    keys = [f"s/{i:04d}" for i in range(1, 400, 2)] + [f"s/{i:04d}-x" for i in range(0, 400, 5)]
    keys += [f"d/{g:02d}/volatile" for g in range(0, 40, 2)] + [f"d/{g:02d}/only" for g in range(1, 40, 2)]
    return keys


@pytest.fixture(scope="module")
def busy_bucket(server, s3):
    name = unique_bucket("busy")
    s3.create_bucket(Bucket=name)
    for k in STABLE:
        s3.put_object(Bucket=name, Key=k, Body=k.encode())
    return name


class Churn:
    """A writer thread that puts and deletes the volatile keys until stopped."""

    def __init__(self, server, bucket: str):
        self.client = server.client()
        self.bucket = bucket
        self.stop = threading.Event()
        self.changes = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        rng = random.Random(7)
        keys = volatile_keys()
        while not self.stop.is_set():
            key = rng.choice(keys)
            try:
                if rng.random() < 0.55:
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=b"v")
                else:
                    self.client.delete_object(Bucket=self.bucket, Key=key)
                self.changes += 1
            except ClientError as e:
                self.errors.append(str(e))
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def page_v2(s3, **kw):
    """All pages of ListObjectsV2: (keys, prefixes, pages)."""
    keys, prefixes, token, pages = [], [], None, 0
    while True:
        args = dict(kw)
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages += 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [c["Prefix"] for c in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            return keys, prefixes, pages
        token = page["NextContinuationToken"]
        assert pages < 10_000


def check_listing(names: list[str], must: list[str], may: set[str], what: str) -> None:
    assert names == sorted(names), f"{what}: out of order"
    assert len(names) == len(set(names)), f"{what}: {sorted({n for n in names if names.count(n) > 1})[:5]} listed twice"
    missing = [k for k in must if k not in set(names)]
    assert not missing, f"{what}: keys present throughout are missing: {missing[:5]}"
    unknown = [k for k in names if k not in may and k not in must]
    assert not unknown, f"{what}: never written: {unknown[:5]}"


@pytest.mark.parametrize("max_keys", [7, 100])
def test_listing_while_keys_change(server, s3, busy_bucket, max_keys):
    volatile = set(volatile_keys())
    with Churn(server, busy_bucket) as churn:
        deadline = time.monotonic() + 2
        passes = 0
        while time.monotonic() < deadline or passes < 2:
            keys, prefixes, pages = page_v2(s3, Bucket=busy_bucket, MaxKeys=max_keys)
            check_listing(keys, STABLE, volatile, f"pass {passes}, MaxKeys={max_keys}")
            assert prefixes == []
            passes += 1
            keys, _, _ = page_v2(s3, Bucket=busy_bucket, MaxKeys=max_keys, Prefix="s/01")
            check_listing(keys, [k for k in STABLE if k.startswith("s/01")], volatile, "prefix s/01")
            assert all(k.startswith("s/01") for k in keys)
    assert not churn.errors, churn.errors[:3]
    assert churn.changes > 20, f"only {churn.changes} changes happened during the listings"


def test_delimiter_listing_while_keys_change(server, s3, busy_bucket):
    volatile = set(volatile_keys())
    must_prefixes = sorted({k.rsplit("/", 1)[0] + "/" for k in STABLE if k.startswith("d/")})
    may_prefixes = {k.rsplit("/", 1)[0] + "/" for k in volatile if k.startswith("d/")}
    with Churn(server, busy_bucket) as churn:
        deadline = time.monotonic() + 2
        passes = 0
        while time.monotonic() < deadline or passes < 2:
            for max_keys in (3, 7, 1000):
                keys, prefixes, _ = page_v2(s3, Bucket=busy_bucket, MaxKeys=max_keys, Prefix="d/", Delimiter="/")
                assert keys == []
                check_listing(prefixes, must_prefixes, may_prefixes, f"d/ by '/', MaxKeys={max_keys}")
                # At the top: "d/" and "s/" once each, whatever the churn.
                keys, prefixes, _ = page_v2(s3, Bucket=busy_bucket, MaxKeys=max_keys, Delimiter="/")
                assert (keys, prefixes) == ([], ["d/", "s/"])
            passes += 1
    assert not churn.errors, churn.errors[:3]


def test_listing_v1_while_keys_change(server, s3, busy_bucket):
    volatile = set(volatile_keys())
    with Churn(server, busy_bucket) as churn:
        for _ in range(3):
            keys, marker = [], None
            while True:
                kw = {"Marker": marker} if marker else {}
                page = s3.list_objects(Bucket=busy_bucket, MaxKeys=9, **kw)
                keys += [o["Key"] for o in page.get("Contents", [])]
                if not page["IsTruncated"]:
                    break
                marker = page["Contents"][-1]["Key"]
            check_listing(keys, STABLE, volatile, "ListObjects v1, MaxKeys=9")
    assert not churn.errors, churn.errors[:3]


# ---- drives that disagree ---------------------------------------------------

KEYS = {f"k/{i:03d}": 100 + i * 37 for i in range(60)} | {"big/one": 3 * 1024 * 1024 + 1, "dir/": 0, "dir/a": 5, "top": 1}


def fill(s3, srv, bucket: str) -> dict[str, bytes]:
    s3.create_bucket(Bucket=bucket)
    objects = {k: os.urandom(n) for k, n in KEYS.items()}
    for k, body in objects.items():
        s3.put_object(Bucket=bucket, Key=k, Body=body)
    return objects


def check_listings(srv, s3, bucket: str, objects: dict[str, bytes], what: str) -> None:
    want = sorted(objects)
    for max_keys in (7, 1000):
        keys, _, _ = page_v2(s3, Bucket=bucket, MaxKeys=max_keys)
        assert keys == want, f"{what}: ListObjectsV2 MaxKeys={max_keys}: missing {sorted(set(want) - set(keys))[:5]}, extra {sorted(set(keys) - set(want))[:5]}"
    page = s3.list_objects_v2(Bucket=bucket)
    for o in page.get("Contents", []):
        assert (o["Size"], o["ETag"]) == (len(objects[o["Key"]]), etag_of(objects[o["Key"]])), f"{what}: {o['Key']}"
    v1 = s3.list_objects(Bucket=bucket)
    assert [o["Key"] for o in v1.get("Contents", [])] == want, f"{what}: ListObjects v1"
    for o in v1.get("Contents", []):
        assert (o["Size"], o["ETag"]) == (len(objects[o["Key"]]), etag_of(objects[o["Key"]])), f"{what}: v1 {o['Key']}"
    keys, prefixes, _ = page_v2(s3, Bucket=bucket, MaxKeys=5, Delimiter="/")
    assert keys == [k for k in want if "/" not in k], what
    assert prefixes == sorted({k.split("/", 1)[0] + "/" for k in want if "/" in k}), what
    entries, _, _ = list_all_versions(srv, bucket, max_keys=7)
    assert [(e.key, e.version_id, e.is_latest, e.marker) for e in entries] == [(k, "null", True, False) for k in want], f"{what}: versions"
    for e in entries:
        assert (e.size, e.etag) == (len(objects[e.key]), etag_of(objects[e.key])), f"{what}: version of {e.key}"
    for k, body in objects.items():
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == body, f"{what}: GET {k}"


def lose_bucket_content(drive: Path, bucket: str, how: str) -> None:
    if how == "bucket-emptied":
        shutil.rmtree(drive / bucket)
        (drive / bucket).mkdir()
    elif how == "bucket-gone":
        shutil.rmtree(drive / bucket)
    elif how == "wiped-but-format":
        for entry in drive.iterdir():
            if entry.name == "format.json":
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    elif how == "drive-gone":
        shutil.rmtree(drive)
    else:
        raise ValueError(how)


@pytest.mark.parametrize("how", ["bucket-emptied", "bucket-gone", "wiped-but-format", "drive-gone"])
def test_listing_with_a_drive_that_lost_the_bucket(start_server, how):
    srv = start_server(4)
    s3 = srv.client()
    bucket = unique_bucket("lost")
    objects = fill(s3, srv, bucket)
    check_listings(srv, s3, bucket, objects, "before")
    srv.stop()
    lose_bucket_content(srv.drive(1), bucket, how)
    srv.start()
    check_listings(srv, s3, bucket, objects, f"drive 1 {how}")
    # And it still takes changes that the listings then show.
    s3.delete_object(Bucket=bucket, Key="k/010")
    del objects["k/010"]
    objects["k/new"] = os.urandom(999)
    s3.put_object(Bucket=bucket, Key="k/new", Body=objects["k/new"])
    check_listings(srv, s3, bucket, objects, f"drive 1 {how}, after changes")


def stale_changes(s3, bucket: str, objects: dict[str, bytes]) -> None:
    """Overwrite, delete and add keys through S3 (mutating `objects` to match)."""
    for k in ("k/000", "k/013", "k/059", "big/one", "top"):
        objects[k] = os.urandom(len(objects[k]) + 11)
        s3.put_object(Bucket=bucket, Key=k, Body=objects[k])
    for k in ("k/001", "k/020", "k/021", "k/058", "dir/", "dir/a"):
        s3.delete_object(Bucket=bucket, Key=k)
        del objects[k]
    for k in ("k/020-new", "new/key"):
        objects[k] = os.urandom(300)
        s3.put_object(Bucket=bucket, Key=k, Body=objects[k])


@pytest.mark.parametrize("stale_drive", [0, 3])
def test_listing_with_a_stale_drive(start_server, stale_drive):
    srv = start_server(4)
    s3 = srv.client()
    bucket = unique_bucket("stale")
    objects = fill(s3, srv, bucket)
    srv.stop()
    saved = srv.workdir / "stale-copy"
    shutil.copytree(srv.drive(stale_drive) / bucket, saved)
    srv.start()
    stale_changes(s3, bucket, objects)
    check_listings(srv, s3, bucket, objects, "before the stale copy went back")
    srv.stop()
    shutil.rmtree(srv.drive(stale_drive) / bucket)
    shutil.copytree(saved, srv.drive(stale_drive) / bucket)
    srv.start()
    check_listings(srv, s3, bucket, objects, f"drive {stale_drive} stale")
    for k in ("k/001", "k/020", "dir/"):
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=bucket, Key=k)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404, f"deleted {k} came back"


def test_versions_listing_with_a_stale_drive(start_server):
    """The same with versions: the stale drive lacks versions added since and
    still holds versions deleted since."""
    srv = start_server(4)
    s3 = srv.client()
    bucket = unique_bucket("stalev")
    s3.create_bucket(Bucket=bucket)
    enable_versioning(s3, bucket)
    ids: dict[str, list[str]] = {}
    for k in ("a", "b", "c", "d"):
        ids[k] = [s3.put_object(Bucket=bucket, Key=k, Body=f"{k}{n}".encode())["VersionId"] for n in range(3)]
    srv.stop()
    saved = srv.workdir / "stale-copy"
    shutil.copytree(srv.drive(2) / bucket, saved)
    srv.start()
    s3.delete_object(Bucket=bucket, Key="a", VersionId=ids["a"][2])  # the latest
    s3.delete_object(Bucket=bucket, Key="b", VersionId=ids["b"][0])  # an old one
    marker = s3.delete_object(Bucket=bucket, Key="c")["VersionId"]
    new_d = s3.put_object(Bucket=bucket, Key="d", Body=b"d3")["VersionId"]
    for v in ids["a"][:2]:
        s3.delete_object(Bucket=bucket, Key="a", VersionId=v)  # "a" gone entirely
    expected = [
        ("Version", "b", ids["b"][2], True),
        ("Version", "b", ids["b"][1], False),
        ("DeleteMarker", "c", marker, True),
        ("Version", "c", ids["c"][2], False),
        ("Version", "c", ids["c"][1], False),
        ("Version", "c", ids["c"][0], False),
        ("Version", "d", new_d, True),
        ("Version", "d", ids["d"][2], False),
        ("Version", "d", ids["d"][1], False),
        ("Version", "d", ids["d"][0], False),
    ]
    entries, _, _ = list_all_versions(srv, bucket)
    assert [e.short() for e in entries] == expected
    srv.stop()
    shutil.rmtree(srv.drive(2) / bucket)
    shutil.copytree(saved, srv.drive(2) / bucket)
    srv.start()
    for max_keys in (None, 1, 3):
        entries, _, _ = list_all_versions(srv, bucket, max_keys=max_keys)
        assert [e.short() for e in entries] == expected, f"MaxKeys={max_keys}"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b", "d"]
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == ["b", "d"]
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"d3"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="a")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

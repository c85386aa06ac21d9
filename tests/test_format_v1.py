"""Drives written in the on-disk format of xl.meta major 1 (before object
versions; fixture made by fixtures/make_v1_drives.py) under the current build:
every object reads back byte-exact with its metadata and ETag, HEAD works,
ListObjects v1/v2 and ListObjectVersions show each object once as the null
version, the bucket list is right, the upload left open completes, and the old
objects can be overwritten, versioned over and deleted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import MIB, Server, etag_of, multipart_etag
from versions import list_versions_page

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
from make_v1_drives import (  # noqa: E402
    BUCKET,
    CONTENT_TYPE,
    MULTIPART,
    OTHER_BUCKET,
    OTHER_KEY,
    OTHER_SIZE,
    PENDING,
    USER_META,
    WITH_META,
    all_objects,
    v1_body,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "v1-drives.tar.gz"
# The fixture holds an upload begun when it was made: the sweep must not expire it.
KEEP_OLD_UPLOADS = {"MINNOW_API_STALE_UPLOADS_EXPIRY": "87600h"}


def expected_etag(key: str) -> str:
    mkey, sizes = MULTIPART
    if key == mkey:
        whole = v1_body(key, sum(sizes))
        cut = sizes[0]
        return multipart_etag([whole[:cut], whole[cut:]])
    return etag_of(all_objects()[key])


def extract(workdir: Path) -> list[Path]:
    subprocess.run(["tar", "-xzf", str(FIXTURE), "-C", str(workdir)], check=True)
    return [workdir / f"d{i}" for i in range(1, 5)]


@pytest.fixture(scope="module")
def v1_server(tmp_root):
    """One server on the extracted fixture for the read-only tests of this file."""
    workdir = tmp_root / "format-v1-readonly"
    workdir.mkdir()
    drives = extract(workdir)
    srv = Server(workdir, [str(d) for d in drives], drive_paths=drives, name="minnow-v1", env=KEEP_OLD_UPLOADS)
    srv.start()
    yield srv
    alive = srv.is_running()
    srv.stop()
    panics = srv.panic_lines()
    if not os.environ.get("MINNOW_KEEP_TMP"):
        shutil.rmtree(workdir, ignore_errors=True)
    assert alive and not panics, f"server on the v1 drives died or panicked: {panics[:3]}\n{srv.log_tail()}"


@pytest.fixture
def fresh_v1_server(start_server):
    """A server on its own copy of the fixture, for tests that change it."""
    workdir = start_server.workdir("v1")
    drives = extract(workdir)
    # The fixture's pending upload is older than the stale-upload expiry by now.
    return start_server([str(d) for d in drives], drive_paths=drives, env=KEEP_OLD_UPLOADS)


def versions_in_order(srv, bucket: str, prefix: str = "") -> list[tuple[str, str, str, bool]]:
    """ListObjectVersions in document order: (kind, key, version id, is latest)."""
    return [e.short() for e in list_versions_page(srv, bucket, prefix=prefix).entries]


# ---- reads ------------------------------------------------------------------


def test_every_object_reads_back_exactly(v1_server):
    s3 = v1_server.client()
    for key, body in all_objects().items():
        got = s3.get_object(Bucket=BUCKET, Key=key)
        data = got["Body"].read()
        assert len(data) == len(body) and data == body, f"{key}: body differs"
        assert got["ContentLength"] == len(body), key
        assert got["ETag"] == expected_etag(key), key
        if len(body) > 2000:
            lo, hi = len(body) // 3, len(body) // 3 + 1500
            part = s3.get_object(Bucket=BUCKET, Key=key, Range=f"bytes={lo}-{hi - 1}")["Body"].read()
            assert part == body[lo:hi], f"{key}: range differs"
    other = s3.get_object(Bucket=OTHER_BUCKET, Key=OTHER_KEY)["Body"].read()
    assert other == v1_body(OTHER_KEY, OTHER_SIZE)


def test_head_and_metadata(v1_server):
    s3 = v1_server.client()
    for key, body in all_objects().items():
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(body), key
        assert head["ETag"] == expected_etag(key), key
        # An object of an unversioned bucket has no version id to show.
        assert "VersionId" not in head, f"{key}: {head.get('VersionId')}"
    key, _ = WITH_META
    for resp in (s3.head_object(Bucket=BUCKET, Key=key), s3.get_object(Bucket=BUCKET, Key=key)):
        assert resp["ContentType"] == CONTENT_TYPE
        assert resp["Metadata"] == USER_META
    plain = s3.head_object(Bucket=BUCKET, Key="inline")
    assert plain["Metadata"] == {}


def test_old_objects_are_the_null_version(v1_server):
    s3 = v1_server.client()
    for key, body in all_objects().items():
        got = s3.get_object(Bucket=BUCKET, Key=key, VersionId="null")
        assert got["Body"].read() == body, key
        head = s3.head_object(Bucket=BUCKET, Key=key, VersionId="null")
        assert head["ETag"] == expected_etag(key), key


def test_list_v1_v2(v1_server):
    s3 = v1_server.client()
    objects = all_objects()
    want = sorted(objects)
    for page in (s3.list_objects_v2(Bucket=BUCKET), s3.list_objects(Bucket=BUCKET)):
        assert [o["Key"] for o in page["Contents"]] == want
        for o in page["Contents"]:
            assert o["Size"] == len(objects[o["Key"]]), o["Key"]
            assert o["ETag"] == expected_etag(o["Key"]), o["Key"]
        assert page["IsTruncated"] is False
    page = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == [k for k in want if "/" not in k]
    assert [c["Prefix"] for c in page["CommonPrefixes"]] == ["dir/"]
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["dir/"]
    assert [c["Prefix"] for c in page["CommonPrefixes"]] == ["dir/sub/"]
    # Paging one key at a time.
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1, **kw)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == want
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=OTHER_BUCKET)["Contents"]] == [OTHER_KEY]


def test_list_object_versions(v1_server):
    s3 = v1_server.client()
    objects = all_objects()
    page = s3.list_object_versions(Bucket=BUCKET)
    assert "DeleteMarkers" not in page
    versions = page["Versions"]
    assert [v["Key"] for v in versions] == sorted(objects)
    for v in versions:
        assert v["VersionId"] == "null", v
        assert v["IsLatest"] is True, v
        assert v["Size"] == len(objects[v["Key"]]), v
        assert v["ETag"] == expected_etag(v["Key"]), v
    assert page["IsTruncated"] is False
    raw = versions_in_order(v1_server, BUCKET)
    assert raw == [("Version", k, "null", True) for k in sorted(objects)]
    page = s3.list_object_versions(Bucket=BUCKET, Delimiter="/")
    assert [v["Key"] for v in page["Versions"]] == [k for k in sorted(objects) if "/" not in k]
    assert [c["Prefix"] for c in page["CommonPrefixes"]] == ["dir/"]


def test_bucket_list(v1_server):
    names = [b["Name"] for b in v1_server.client().list_buckets()["Buckets"]]
    assert names == sorted([BUCKET, OTHER_BUCKET])
    versioning = v1_server.client().get_bucket_versioning(Bucket=BUCKET)
    assert "Status" not in versioning


def test_pending_upload_is_listed(v1_server):
    s3 = v1_server.client()
    key, size = PENDING
    uploads = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u["Key"] for u in uploads] == [key]
    parts = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uploads[0]["UploadId"])["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, size, etag_of(v1_body(key, size)))]


# ---- changes (each on its own copy of the fixture) --------------------------


def test_pending_upload_completes(fresh_v1_server):
    s3 = fresh_v1_server.client()
    key, size = PENDING
    upload = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"][0]["UploadId"]
    part1 = v1_body(key, size)
    part2 = os.urandom(MIB + 3)
    etag2 = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=2, Body=part2)["ETag"]
    parts = [{"PartNumber": 1, "ETag": etag_of(part1)}, {"PartNumber": 2, "ETag": etag2}]
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    assert done["ETag"] == multipart_etag([part1, part2])
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == part1 + part2
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=BUCKET)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == sorted(list(all_objects()) + [key])
    fresh_v1_server.restart()
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == part1 + part2


def test_overwrite_and_delete_old_objects(fresh_v1_server):
    srv = fresh_v1_server
    s3 = srv.client()
    objects = all_objects()
    # A copy of an old object keeps its body, content type and user metadata.
    mkey, _ = WITH_META
    s3.copy_object(Bucket=BUCKET, Key="meta-copy", CopySource={"Bucket": BUCKET, "Key": mkey})
    copy = s3.get_object(Bucket=BUCKET, Key="meta-copy")
    assert (copy["Body"].read(), copy["ContentType"], copy["Metadata"]) == (objects[mkey], CONTENT_TYPE, USER_META)
    s3.delete_object(Bucket=BUCKET, Key="meta-copy")
    new = {"inline": os.urandom(10), "single": os.urandom(3 * MIB + 1), "multi": os.urandom(2000), "meta": b""}
    for key, body in new.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    for key in ("dir/", "dir/sub/key"):
        assert s3.delete_object(Bucket=BUCKET, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    for key, body in new.items():
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert got["Body"].read() == body, key
        assert got["Metadata"] == {}, key
    for key in ("dir/", "dir/sub/key"):
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=BUCKET, Key=key)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == sorted((k, len(v)) for k, v in new.items())
    assert versions_in_order(srv, BUCKET) == [("Version", k, "null", True) for k in sorted(new)]
    # Overwritten in an unversioned bucket: the old data is gone from every drive.
    for key in ("single", "multi"):
        for d in srv.object_dirs(BUCKET, key):
            data_dirs = [p for p in d.iterdir() if p.is_dir()]
            assert len(data_dirs) <= 1, f"the v1 data directory of {key} was left in {d}: {data_dirs}"
    srv.restart()
    for key, body in new.items():
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key
    # Deleting everything empties the bucket, which can then go.
    for key in new:
        s3.delete_object(Bucket=BUCKET, Key=key)
    upload = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"][0]
    s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_bucket(Bucket=BUCKET)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [OTHER_BUCKET]


def test_versioning_over_old_objects(fresh_v1_server):
    """Enabling versioning on a v1 bucket: a new PUT makes the old object a
    non-current null version, still readable by its id; deleting it by id
    leaves the new version; a plain DELETE adds a marker over both."""
    srv = fresh_v1_server
    s3 = srv.client()
    objects = all_objects()
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    new = os.urandom(5000)
    vid = s3.put_object(Bucket=BUCKET, Key="single", Body=new)["VersionId"]
    assert vid and vid != "null"
    assert s3.get_object(Bucket=BUCKET, Key="single")["Body"].read() == new
    assert s3.get_object(Bucket=BUCKET, Key="single", VersionId="null")["Body"].read() == objects["single"]
    assert versions_in_order(srv, BUCKET, "single") == [
        ("Version", "single", vid, True),
        ("Version", "single", "null", False),
    ]
    marker = s3.delete_object(Bucket=BUCKET, Key="multi")
    assert marker["DeleteMarker"] is True
    assert s3.get_object(Bucket=BUCKET, Key="multi", VersionId="null")["Body"].read() == objects["multi"]
    assert versions_in_order(srv, BUCKET, "multi") == [
        ("DeleteMarker", "multi", marker["VersionId"], True),
        ("Version", "multi", "null", False),
    ]
    s3.delete_object(Bucket=BUCKET, Key="single", VersionId="null")
    assert versions_in_order(srv, BUCKET, "single") == [("Version", "single", vid, True)]
    srv.restart()
    assert s3.get_object(Bucket=BUCKET, Key="single")["Body"].read() == new
    assert s3.get_object(Bucket=BUCKET, Key="multi", VersionId="null")["Body"].read() == objects["multi"]

"""Bucket versioning as S3 does it: Get/PutBucketVersioning; version ids on
PUT, GET and HEAD by id; delete markers (404 on the latest, 405 by id);
DELETE of one version; ListObjectVersions order, prefix, delimiter and
paging; the null version of suspended and unversioned buckets; copies and
multipart uploads of versions; DeleteObjects with and without ids; a version's
data lives until that version is deleted; a bucket with versions is not
empty."""

from __future__ import annotations

import os
import uuid

import pytest
from botocore.exceptions import ClientError

from harness import KIB, MIB, etag_of, md5_b64, signed_request, s3_error, unique_bucket
from versions import (
    versioned_bucket,
    delete_every_version,
    enable_versioning,
    err,
    headers_of,
    list_all_versions,
    list_versions_page,
)


@pytest.fixture
def vbucket(server, s3):
    """A fresh bucket with versioning enabled; every version deleted afterwards."""
    yield from versioned_bucket(server, s3, "ver")


def put(s3, bucket: str, key: str, body: bytes) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def other_id(version_id: str) -> str:
    """A version id of the same form as `version_id` that names no version: its last
    character changed to another of the same class."""
    last = version_id[-1]
    if last.isdigit():
        repl = "0" if last != "0" else "1"
    elif last.islower():
        repl = "a" if last != "a" else "b"
    else:
        repl = "A" if last != "A" else "B"
    return version_id[:-1] + repl


def short(entries):
    return [e.short() for e in entries]


# ---- configuration ----------------------------------------------------------


def test_bucket_versioning_configuration(server, s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    enable_versioning(s3, bucket, "Enabled")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable_versioning(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    enable_versioning(s3, bucket, "Enabled")
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert got["Status"] == "Enabled"
    assert "MFADelete" not in got


def test_versioning_configuration_refusals(server, s3, bucket):
    enable_versioning(s3, bucket, "Suspended")
    # MFA delete needs an MFA device: not something minnow has; refused, nothing changed.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    status, code = err(e)
    assert (status, code) in ((400, "InvalidArgument"), (400, "InvalidRequest"), (501, "NotImplemented")), (status, code)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    # A status that is neither Enabled nor Suspended.
    body = b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Sometimes</Status></VersioningConfiguration>'
    for bad in (body, b"<VersioningConfiguration><Status>Enabled", b"not xml"):
        resp = signed_request(server, "PUT", f"/{bucket}?versioning", {"Content-MD5": md5_b64(bad)}, bad)
        assert (resp.status, resp.error_code) == (400, "MalformedXML"), s3_error(resp)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_versioning(Bucket=unique_bucket("missing"))
    assert err(e) == (404, "NoSuchBucket")


# ---- versions of one key ----------------------------------------------------


def test_put_gives_new_version_ids(s3, vbucket):
    bodies = [os.urandom(100 + i) for i in range(4)]
    ids = [put(s3, vbucket, "k", b) for b in bodies]
    assert len(set(ids)) == 4 and all(v and v != "null" for v in ids), ids
    latest = s3.get_object(Bucket=vbucket, Key="k")
    assert latest["Body"].read() == bodies[-1]
    assert latest["VersionId"] == ids[-1]
    assert s3.head_object(Bucket=vbucket, Key="k")["VersionId"] == ids[-1]
    for vid, body in zip(ids, bodies):
        got = s3.get_object(Bucket=vbucket, Key="k", VersionId=vid)
        assert got["Body"].read() == body
        assert got["VersionId"] == vid
        assert got["ETag"] == etag_of(body)
        head = s3.head_object(Bucket=vbucket, Key="k", VersionId=vid)
        assert (head["VersionId"], head["ContentLength"], head["ETag"]) == (vid, len(body), etag_of(body))
        rng = s3.get_object(Bucket=vbucket, Key="k", VersionId=vid, Range="bytes=10-19")
        assert rng["Body"].read() == body[10:20]


def test_unknown_and_malformed_version_id(server, s3, vbucket):
    vid = put(s3, vbucket, "k", b"data")
    missing = other_id(vid)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=missing)
    assert err(e) == (404, "NoSuchVersion")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=missing)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # A version id of another key does not name a version of this one.
    other = put(s3, vbucket, "other", b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=other)
    assert err(e) == (404, "NoSuchVersion")
    # The key itself missing, with a version id: still the version that is missing.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="never-written", VersionId=vid)
    assert err(e)[0] == 404 and err(e)[1] in ("NoSuchVersion", "NoSuchKey")
    for bad in ("not-a-version-id", "x" * 300):
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=vbucket, Key="k", VersionId=bad)
        assert err(e) == (400, "InvalidArgument"), bad
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=vbucket, Key="k", VersionId=bad)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        # DELETE is idempotent: AWS answers 204 for an id that names nothing, MinIO refuses a
        # malformed one; either way nothing is deleted.
        resp = signed_request(server, "DELETE", f"/{vbucket}/k?versionId={bad}")
        assert resp.status in (204, 400), s3_error(resp)
        assert resp.status == 204 or resp.error_code == "InvalidArgument", s3_error(resp)
    resp = signed_request(server, "GET", f"/{vbucket}/k?versionId=")
    assert (resp.status, resp.error_code) == (400, "InvalidArgument"), s3_error(resp)
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"data"


def test_delete_marker(server, s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")
    v2 = put(s3, vbucket, "k", b"two")
    resp = s3.delete_object(Bucket=vbucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp["DeleteMarker"] is True
    marker = resp["VersionId"]
    assert marker and marker not in ("null", v1, v2)
    # The latest version is the marker: 404, saying so.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k")
    assert err(e) == (404, "NoSuchKey")
    assert headers_of(e).get("x-amz-delete-marker") == "true"
    assert headers_of(e).get("x-amz-version-id") == marker
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert headers_of(e).get("x-amz-delete-marker") == "true"
    # Named by its id, a marker is not an object to read: 405.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert err(e) == (405, "MethodNotAllowed")
    assert headers_of(e).get("x-amz-delete-marker") == "true"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert headers_of(e).get("x-amz-delete-marker") == "true"
    # The versions under it are all there.
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v2)["Body"].read() == b"two"
    # Listings: gone from ListObjects, there in ListObjectVersions.
    assert "Contents" not in s3.list_objects_v2(Bucket=vbucket)
    assert "Contents" not in s3.list_objects(Bucket=vbucket)
    assert short(list_versions_page(server, vbucket).entries) == [
        ("DeleteMarker", "k", marker, True),
        ("Version", "k", v2, False),
        ("Version", "k", v1, False),
    ]
    # A second DELETE adds a second marker.
    marker2 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    assert marker2 not in (marker, v1, v2)
    # Deleting the markers by id makes v2 current again.
    for m in (marker2, marker):
        resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=m)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert resp["DeleteMarker"] is True
        assert resp["VersionId"] == m
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", v2)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["k"]


def test_delete_marker_for_a_missing_key(server, s3, vbucket):
    resp = s3.delete_object(Bucket=vbucket, Key="never-written")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp["DeleteMarker"] is True
    assert short(list_versions_page(server, vbucket).entries) == [("DeleteMarker", "never-written", resp["VersionId"], True)]


def test_delete_one_version(server, s3, vbucket):
    bodies = {}
    ids = []
    for i in range(3):
        body = os.urandom(500 + i)
        vid = put(s3, vbucket, "k", body)
        bodies[vid] = body
        ids.append(vid)
    v1, v2, v3 = ids
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp["VersionId"] == v1
    assert not resp.get("DeleteMarker")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert err(e) == (404, "NoSuchVersion")
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == bodies[v3]
    # Deleting the latest makes the one before it current: no marker is added.
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v3)
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (bodies[v2], v2)
    assert short(list_versions_page(server, vbucket).entries) == [("Version", "k", v2, True)]
    # Deleting a version that is already gone: S3 answers 204 all the same, naming it.
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp["VersionId"] == v1
    assert not resp.get("DeleteMarker")
    assert short(list_versions_page(server, vbucket).entries) == [("Version", "k", v2, True)]
    # The last version deleted: the key is gone altogether.
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert list_versions_page(server, vbucket).entries == []
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k")
    assert err(e) == (404, "NoSuchKey")
    assert "x-amz-delete-marker" not in headers_of(e)


# ---- ListObjectVersions -----------------------------------------------------


@pytest.fixture
def history(server, s3, vbucket):
    """Several keys with several versions and markers: (bucket, the listing
    expected: (kind, key, version id, latest), newest first per key)."""
    plan = {
        "a": ["v", "v", "v"],
        "b/x": ["v", "d", "v"],
        "b/y": ["v", "v", "d"],
        "b/z/deep": ["v"],
        "c": ["d"],
        "d": ["v", "v", "v", "v", "v"],
        "e/": ["v", "v"],
    }
    expected = []
    for key, steps in plan.items():
        done = []
        for n, step in enumerate(steps):
            if step == "v":
                done.append(("Version", key, put(s3, vbucket, key, f"{key}#{n}".encode())))
            else:
                done.append(("DeleteMarker", key, s3.delete_object(Bucket=vbucket, Key=key)["VersionId"]))
        done.reverse()
        expected += [(kind, key, vid, i == 0) for i, (kind, key, vid) in enumerate(done)]
    expected.sort(key=lambda e: e[1])  # stable: newest first within a key
    return vbucket, expected


def test_list_versions_order(server, s3, history):
    bucket, expected = history
    page = list_versions_page(server, bucket)
    assert short(page.entries) == expected
    assert page.truncated is False
    by_id = {e.version_id: e for e in page.entries}
    for kind, key, vid, _ in expected:
        if kind == "Version":
            head = s3.head_object(Bucket=bucket, Key=key, VersionId=vid)
            assert by_id[vid].etag == head["ETag"] and by_id[vid].size == head["ContentLength"]
    # boto3's view: the same versions and markers.
    got = s3.list_object_versions(Bucket=bucket)
    assert sorted(v["VersionId"] for v in got["Versions"]) == sorted(v for k, _, v, _ in expected if k == "Version")
    assert sorted(m["VersionId"] for m in got["DeleteMarkers"]) == sorted(v for k, _, v, _ in expected if k == "DeleteMarker")
    # ListObjects shows the keys whose latest version is not a marker.
    current = [key for kind, key, _, latest in expected if latest and kind == "Version"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == current
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == current


def test_list_versions_prefix_delimiter(server, history):
    bucket, expected = history
    page = list_versions_page(server, bucket, prefix="b/")
    assert short(page.entries) == [e for e in expected if e[1].startswith("b/")]
    page = list_versions_page(server, bucket, delimiter="/")
    assert short(page.entries) == [e for e in expected if "/" not in e[1]]
    assert page.prefixes == ["b/", "e/"]
    page = list_versions_page(server, bucket, prefix="b/", delimiter="/")
    assert short(page.entries) == [e for e in expected if e[1] in ("b/x", "b/y")]
    assert page.prefixes == ["b/z/"]
    page = list_versions_page(server, bucket, prefix="nothing")
    assert page.entries == [] and page.prefixes == []


@pytest.mark.parametrize("max_keys", [1, 2, 3])
def test_list_versions_paging(server, history, max_keys):
    bucket, expected = history
    entries, _, pages = list_all_versions(server, bucket, max_keys=max_keys)
    assert short(entries) == expected
    assert pages >= -(-len(expected) // max_keys)
    entries, prefixes, _ = list_all_versions(server, bucket, max_keys=max_keys, delimiter="/")
    assert short(entries) == [e for e in expected if "/" not in e[1]]
    assert prefixes == ["b/", "e/"]


def test_list_versions_markers(server, history):
    bucket, expected = history
    # key-marker alone: everything after that key.
    page = list_versions_page(server, bucket, key_marker="b/x")
    assert short(page.entries) == [e for e in expected if e[1] > "b/x"]
    # key-marker and version-id-marker: after that version of that key.
    d_versions = [e for e in expected if e[1] == "d"]
    page = list_versions_page(server, bucket, key_marker="d", version_id_marker=d_versions[1][2])
    assert short(page.entries) == d_versions[2:] + [e for e in expected if e[1] > "d"]
    # A truncated page names where the next one starts.
    page = list_versions_page(server, bucket, max_keys=2, prefix="d")
    assert page.truncated is True
    assert page.next_key_marker == "d" and page.next_version_id_marker == d_versions[1][2]
    # version-id-marker without key-marker is refused.
    resp = signed_request(server, "GET", f"/{bucket}?versions&version-id-marker={d_versions[0][2]}")
    assert (resp.status, resp.error_code) == (400, "InvalidArgument"), s3_error(resp)


# ---- suspended and unversioned buckets --------------------------------------


def test_suspended_bucket_writes_the_null_version(server, s3, vbucket):
    a = put(s3, vbucket, "k", b"enabled-1")
    b = put(s3, vbucket, "k", b"enabled-2")
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=vbucket, Key="k", Body=b"null-1")
    assert short(list_versions_page(server, vbucket).entries) == [
        ("Version", "k", "null", True),
        ("Version", "k", b, False),
        ("Version", "k", a, False),
    ]
    # A second PUT replaces the null version only.
    s3.put_object(Bucket=vbucket, Key="k", Body=b"null-2")
    assert short(list_versions_page(server, vbucket).entries) == [
        ("Version", "k", "null", True),
        ("Version", "k", b, False),
        ("Version", "k", a, False),
    ]
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"null-2"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=a)["Body"].read() == b"enabled-1"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=b)["Body"].read() == b"enabled-2"
    # DELETE without an id: the null version becomes a delete marker, id "null".
    resp = s3.delete_object(Bucket=vbucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert resp["DeleteMarker"] is True
    assert resp.get("VersionId", "null") == "null"
    assert short(list_versions_page(server, vbucket).entries) == [
        ("DeleteMarker", "k", "null", True),
        ("Version", "k", b, False),
        ("Version", "k", a, False),
    ]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="null")
    assert err(e) == (405, "MethodNotAllowed")
    # A key with only enabled-era versions: the null marker goes on top of them.
    c = put_enabled_then_suspend(s3, vbucket, "j")
    s3.delete_object(Bucket=vbucket, Key="j")
    assert short(list_versions_page(server, vbucket, prefix="j").entries) == [
        ("DeleteMarker", "j", "null", True),
        ("Version", "j", c, False),
    ]
    # Enabled again: new ids on top, the null marker stays below them.
    enable_versioning(s3, vbucket)
    d = put(s3, vbucket, "k", b"enabled-3")
    assert short(list_versions_page(server, vbucket, prefix="k").entries) == [
        ("Version", "k", d, True),
        ("DeleteMarker", "k", "null", False),
        ("Version", "k", b, False),
        ("Version", "k", a, False),
    ]


def put_enabled_then_suspend(s3, bucket: str, key: str) -> str:
    enable_versioning(s3, bucket)
    vid = put(s3, bucket, key, b"enabled-era")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    return vid


def test_null_version_written_before_enabling_stays(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    enable_versioning(s3, bucket)
    v = put(s3, bucket, "k", b"after")
    assert short(list_versions_page(server, bucket).entries) == [("Version", "k", v, True), ("Version", "k", "null", False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert short(list_versions_page(server, bucket).entries) == [("Version", "k", v, True)]
    delete_every_version(server, bucket)


def test_unversioned_bucket_has_the_null_version(server, s3, bucket):
    resp = s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    assert "VersionId" not in resp
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    assert short(list_versions_page(server, bucket).entries) == [("Version", "k", "null", True)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"two"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId="null")["ContentLength"] == 3
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    # A real-looking id names nothing in an unversioned bucket.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=str(uuid.uuid4()))
    assert err(e)[0] in (400, 404)
    # DELETE without an id removes the object; no marker is left.
    resp = s3.delete_object(Bucket=bucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not resp.get("DeleteMarker")
    assert list_versions_page(server, bucket).entries == []
    s3.put_object(Bucket=bucket, Key="k", Body=b"three")
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert list_versions_page(server, bucket).entries == []


# ---- copies and multipart uploads -------------------------------------------


def test_copy_object_of_a_version(server, s3, vbucket):
    v1 = put(s3, vbucket, "src", b"first body")
    v2 = put(s3, vbucket, "src", b"second body")
    resp = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert resp["CopySourceVersionId"] == v1
    new = resp["VersionId"]
    assert new and new not in ("null", v1, v2)
    got = s3.get_object(Bucket=vbucket, Key="dst")
    assert (got["Body"].read(), got["VersionId"]) == (b"first body", new)
    # Without an id: the latest version, and the answer says which.
    resp = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src"})
    assert resp["CopySourceVersionId"] == v2
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == b"second body"
    assert len(list_versions_page(server, vbucket, prefix="dst").entries) == 2
    # Into an unversioned bucket: no version id for the copy.
    plain = unique_bucket()
    s3.create_bucket(Bucket=plain)
    resp = s3.copy_object(Bucket=plain, Key="c", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert resp["CopySourceVersionId"] == v1
    assert "VersionId" not in resp
    assert s3.get_object(Bucket=plain, Key="c")["Body"].read() == b"first body"
    s3.delete_object(Bucket=plain, Key="c")
    s3.delete_bucket(Bucket=plain)
    # Copying from a missing version, or from a delete marker.
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst2", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": other_id(v1)})
    assert err(e) == (404, "NoSuchVersion")
    marker = s3.delete_object(Bucket=vbucket, Key="src")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst2", CopySource={"Bucket": vbucket, "Key": "src"})
    assert err(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst2", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": marker})
    assert err(e) == (400, "InvalidRequest")
    # The versions under the marker still copy.
    resp = s3.copy_object(Bucket=vbucket, Key="dst2", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v2})
    assert s3.get_object(Bucket=vbucket, Key="dst2")["Body"].read() == b"second body"


def test_multipart_in_a_versioned_bucket(server, s3, vbucket):
    old = os.urandom(5 * MIB)
    v_old = put(s3, vbucket, "src", old)
    put(s3, vbucket, "src", b"newer and small")
    tail = os.urandom(MIB + 11)
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    copied = s3.upload_part_copy(
        Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1, CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v_old}
    )
    assert copied["CopySourceVersionId"] == v_old
    assert copied["CopyPartResult"]["ETag"] == etag_of(old)
    etag2 = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=2, Body=tail)["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=vbucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": etag2}]},
    )
    vid = done["VersionId"]
    assert vid and vid != "null"
    got = s3.get_object(Bucket=vbucket, Key="mp")
    assert got["VersionId"] == vid
    assert got["Body"].read() == old + tail
    # A second upload of the same key is a second version; the first stays readable.
    upload = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"small")["ETag"]
    vid2 = s3.complete_multipart_upload(
        Bucket=vbucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )["VersionId"]
    assert vid2 not in (vid, "null")
    assert s3.get_object(Bucket=vbucket, Key="mp")["Body"].read() == b"small"
    assert s3.get_object(Bucket=vbucket, Key="mp", VersionId=vid)["Body"].read() == old + tail
    assert short(list_versions_page(server, vbucket, prefix="mp").entries) == [
        ("Version", "mp", vid2, True),
        ("Version", "mp", vid, False),
    ]


def test_multipart_in_an_unversioned_bucket_has_no_version_id(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"x")["ETag"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert "VersionId" not in done


# ---- DeleteObjects ----------------------------------------------------------


def test_delete_objects_with_and_without_ids(server, s3, vbucket):
    k1a = put(s3, vbucket, "k1", b"k1-a")
    k1b = put(s3, vbucket, "k1", b"k1-b")
    k2 = put(s3, vbucket, "k2", b"k2")
    resp = s3.delete_objects(
        Bucket=vbucket,
        Delete={"Objects": [{"Key": "k1", "VersionId": k1a}, {"Key": "k2"}, {"Key": "missing"}]},
    )
    assert "Errors" not in resp, resp.get("Errors")
    deleted = {d["Key"]: d for d in resp["Deleted"]}
    assert set(deleted) == {"k1", "k2", "missing"}
    assert deleted["k1"]["VersionId"] == k1a
    assert not deleted["k1"].get("DeleteMarker")
    for key in ("k2", "missing"):
        assert deleted[key]["DeleteMarker"] is True, deleted[key]
        assert deleted[key]["DeleteMarkerVersionId"] not in (None, "null", k2)
    marker = deleted["k2"]["DeleteMarkerVersionId"]
    assert short(list_versions_page(server, vbucket).entries) == [
        ("Version", "k1", k1b, True),
        ("DeleteMarker", "k2", marker, True),
        ("Version", "k2", k2, False),
        ("DeleteMarker", "missing", deleted["missing"]["DeleteMarkerVersionId"], True),
    ]
    # Deleting the marker by id: the answer says it was a marker.
    # A version that is not there is deleted all the same (as DeleteObject answers 204).
    resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "k2", "VersionId": marker}, {"Key": "k1", "VersionId": k1a}]})
    assert "Errors" not in resp, resp.get("Errors")
    deleted = {d["Key"]: d for d in resp["Deleted"]}
    d = deleted["k2"]
    assert (d["VersionId"], d["DeleteMarker"], d["DeleteMarkerVersionId"]) == (marker, True, marker)
    assert deleted["k1"]["VersionId"] == k1a and not deleted["k1"].get("DeleteMarker")
    assert s3.get_object(Bucket=vbucket, Key="k2")["Body"].read() == b"k2"
    # Quiet: errors only.
    resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "k1", "VersionId": k1b}], "Quiet": True})
    assert "Deleted" not in resp and "Errors" not in resp
    assert "k1" not in [e.key for e in list_versions_page(server, vbucket).entries]


# ---- data lifetime ----------------------------------------------------------


@pytest.mark.parametrize("size", [KIB, 200 * KIB, 3 * MIB], ids=["1KiB", "200KiB", "3MiB"])
def test_data_lives_until_its_version_is_deleted(server, s3, vbucket, size):
    key = f"life-{size}"
    bodies = {}
    for _ in range(4):
        body = os.urandom(size)
        bodies[put(s3, vbucket, key, body)] = body
    ids = list(bodies)

    def check(alive):
        for vid in ids:
            if vid in alive:
                got = s3.get_object(Bucket=vbucket, Key=key, VersionId=vid)["Body"].read()
                assert got == bodies[vid], f"version {ids.index(vid)} of {size} bytes differs"
            else:
                with pytest.raises(ClientError) as e:
                    s3.get_object(Bucket=vbucket, Key=key, VersionId=vid)
                assert err(e) == (404, "NoSuchVersion")
        if size > MIB:
            # One data directory per live version on every drive, no more.
            for d in server.object_dirs(vbucket, key):
                dirs = [p for p in d.iterdir() if p.is_dir()] if d.is_dir() else []
                assert len(dirs) == len(alive), f"{d}: {len(dirs)} data dirs for {len(alive)} versions"

    check(ids)
    marker = s3.delete_object(Bucket=vbucket, Key=key)["VersionId"]
    check(ids)  # a marker frees nothing
    s3.delete_object(Bucket=vbucket, Key=key, VersionId=ids[1])
    check([ids[0], ids[2], ids[3]])
    s3.delete_object(Bucket=vbucket, Key=key, VersionId=marker)
    s3.delete_object(Bucket=vbucket, Key=key, VersionId=ids[3])
    check([ids[0], ids[2]])
    assert s3.get_object(Bucket=vbucket, Key=key)["Body"].read() == bodies[ids[2]]
    server.restart()
    check([ids[0], ids[2]])
    for vid in (ids[0], ids[2]):
        s3.delete_object(Bucket=vbucket, Key=key, VersionId=vid)
    for d in server.object_dirs(vbucket, key):
        assert not d.exists(), f"{d} left behind after the last version went"


# ---- bucket deletion --------------------------------------------------------


def test_bucket_with_versions_is_not_empty(server, s3):
    name = unique_bucket("ver")
    s3.create_bucket(Bucket=name)
    enable_versioning(s3, name)
    v1 = put(s3, name, "k", b"one")
    v2 = put(s3, name, "k", b"two")
    marker = s3.delete_object(Bucket=name, Key="k")["VersionId"]
    assert "Contents" not in s3.list_objects_v2(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert err(e) == (409, "BucketNotEmpty")
    s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "k", "VersionId": v} for v in (v1, v2)]})
    # Only a delete marker left: still not empty.
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert err(e) == (409, "BucketNotEmpty")
    s3.delete_object(Bucket=name, Key="k", VersionId=marker)
    s3.delete_bucket(Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

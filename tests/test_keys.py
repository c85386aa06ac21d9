"""No two keys on one path, and version ids.

Keys map to directories on the drives (`<bucket>/<key>/xl.meta`, a folder
object `dir/` to `dir/__XLDIR__/xl.meta`). Keys that nest (`a` and `a/b`)
coexist; a key with a segment the layout reserves (`xl.meta`, `__XLDIR__`)
would share a path with another key's metadata and is refused with 400
InvalidObjectName (never a retryable 503), whatever the operation, and
nothing stored changes.

Until versioning exists, `null` is the only version id that names an
object. A malformed id is 400 InvalidArgument "Invalid version id
specified"; a well-formed (UUID) but unknown one is 404 NoSuchVersion for
GET/HEAD/CopyObject, and a successful no-op for DELETE and DeleteObjects
(as S3 deletes are idempotent)."""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from harness import MIB, quote_key, s3_error, signed_request


def code_of(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def body(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def listed(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


# ---- keys that nest ------------------------------------------------------------

SIZES = {"inline": 100, "data-dir": MIB + 1}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("first,second", [("a", "a/b"), ("a/b", "a"), ("a", "a/b/c"), ("d/", "d/e")])
def test_nested_keys_coexist(s3, bucket, size, first, second):
    data = {first: os.urandom(size), second: os.urandom(size + 1)}
    for key in (first, second):
        s3.put_object(Bucket=bucket, Key=key, Body=data[key])
    for key in (first, second):
        assert body(s3, bucket, key) == data[key], key
    assert sorted(listed(s3, bucket)) == sorted(data)
    # Deleting either leaves the other whole.
    s3.delete_object(Bucket=bucket, Key=first)
    assert body(s3, bucket, second) == data[second]
    assert listed(s3, bucket) == [second]
    s3.put_object(Bucket=bucket, Key=first, Body=data[first])
    s3.delete_object(Bucket=bucket, Key=second)
    assert body(s3, bucket, first) == data[first]
    assert listed(s3, bucket) == [first]


# ---- reserved segments --------------------------------------------------------

# (existing key, key that would land on its path)
RESERVED_PAIRS = [
    ("x/", "x/__XLDIR__"),  # the folder object's own xl.meta
    ("x/", "x/__XLDIR__/"),
    ("a", "a/xl.meta"),  # a/xl.meta/xl.meta through a's xl.meta file
    ("a", "a/xl.meta/b"),
    ("q", "__XLDIR__"),
    ("q", "xl.meta"),
]


def refused(e: pytest.ExceptionInfo) -> None:
    assert code_of(e) == (400, "InvalidObjectName"), e.value.response


@pytest.mark.parametrize("existing,reserved", RESERVED_PAIRS)
def test_reserved_segments_refused(server, s3, bucket, existing, reserved):
    data = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key=existing, Body=data)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=reserved, Body=b"other")
    refused(e)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key=reserved)
    refused(e)
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key=reserved)
    refused(e)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key=reserved, CopySource={"Bucket": bucket, "Key": existing})
    refused(e)
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key=reserved)
    refused(e)
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": reserved}]})
    assert [(x["Key"], x["Code"]) for x in resp.get("Errors", [])] == [(reserved, "InvalidObjectName")]
    # HEAD has no body: the status says it.
    resp = signed_request(server, "HEAD", f"/{bucket}/{quote_key(reserved)}")
    assert resp.status == 400, s3_error(resp)
    assert body(s3, bucket, existing) == data
    assert listed(s3, bucket) == [existing]


@pytest.mark.parametrize("reserved,existing", [("a/xl.meta", "a"), ("x/__XLDIR__", "x/")])
def test_reserved_first_then_plain(s3, bucket, reserved, existing):
    # The order that used to store the reserved key and then answer 503
    # SlowDownWrite (retried forever by SDKs) for the plain one.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=reserved, Body=b"r")
    refused(e)
    data = os.urandom(300)
    s3.put_object(Bucket=bucket, Key=existing, Body=data)
    assert body(s3, bucket, existing) == data


def test_similar_names_are_plain_keys(s3, bucket):
    keys = ["a/xl.meta2", "a/xl.meta.bak", "x__XLDIR__", "x/__XLDIR__x", "a/XL.META"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert body(s3, bucket, key) == key.encode()
    assert sorted(listed(s3, bucket)) == sorted(keys)


# ---- version ids -----------------------------------------------------------------

MALFORMED_IDS = ["../../format.json", "v1", "NULL", "3/4", "0" * 32]
UNKNOWN_ID = str(uuid.UUID("6f1a2b3c-4d5e-4f60-8718-293a4b5c6d7e"))


@pytest.fixture
def stored(s3, bucket):
    data = os.urandom(2000)
    s3.put_object(Bucket=bucket, Key="obj", Body=data)
    return data


def expect_unchanged(s3, bucket, data):
    assert body(s3, bucket, "obj") == data
    assert listed(s3, bucket) == ["obj"]


def part_copy(s3, bucket, version):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    try:
        s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, CopySource={"Bucket": bucket, "Key": "obj", "VersionId": version})
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)


@pytest.mark.parametrize("version", MALFORMED_IDS)
def test_malformed_version_id(server, s3, bucket, stored, version):
    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="obj", VersionId=version),
        lambda: s3.delete_object(Bucket=bucket, Key="obj", VersionId=version),
        lambda: s3.get_object_acl(Bucket=bucket, Key="obj", VersionId=version),
        lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "obj", "VersionId": version}),
        lambda: part_copy(s3, bucket, version),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == (400, "InvalidArgument"), e.value.response
        assert e.value.response["Error"]["Message"] == "Invalid version id specified"
    resp = signed_request(server, "HEAD", f"/{bucket}/obj?versionId={quote(version, safe='')}")
    assert resp.status == 400, s3_error(resp)
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "obj", "VersionId": version}]})
    assert [(x["Key"], x["Code"]) for x in resp.get("Errors", [])] == [("obj", "InvalidArgument")]
    assert not resp.get("Deleted")
    expect_unchanged(s3, bucket, stored)


def test_unknown_version_id(s3, bucket, stored):
    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="obj", VersionId=UNKNOWN_ID),
        lambda: s3.get_object_acl(Bucket=bucket, Key="obj", VersionId=UNKNOWN_ID),
        lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "obj", "VersionId": UNKNOWN_ID}),
        lambda: part_copy(s3, bucket, UNKNOWN_ID),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == (404, "NoSuchVersion"), e.value.response
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="obj", VersionId=UNKNOWN_ID)
    assert code_of(e)[0] == 404
    # Deleting a version that does not exist succeeds and deletes nothing.
    resp = s3.delete_object(Bucket=bucket, Key="obj", VersionId=UNKNOWN_ID)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "obj", "VersionId": UNKNOWN_ID.upper()}]})
    assert [(x["Key"], x.get("VersionId")) for x in resp["Deleted"]] == [("obj", UNKNOWN_ID.upper())]
    assert not resp.get("Errors")
    expect_unchanged(s3, bucket, stored)


def test_unknown_version_in_missing_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="no-such-bucket-keys", Key="obj", VersionId=UNKNOWN_ID)
    assert code_of(e) == (404, "NoSuchBucket")


def test_null_version_names_the_object(s3, bucket, stored):
    assert s3.get_object(Bucket=bucket, Key="obj", VersionId="null")["Body"].read() == stored
    assert s3.head_object(Bucket=bucket, Key="obj", VersionId="null")["ContentLength"] == len(stored)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "obj", "VersionId": "null"})
    assert body(s3, bucket, "copy") == stored
    s3.delete_object(Bucket=bucket, Key="obj", VersionId="null")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copy", "VersionId": "null"}]})
    assert [x["Key"] for x in resp["Deleted"]] == ["copy"]
    assert listed(s3, bucket) == []

"""Objects: put/get/head/delete across the inline, block and multi-block
sizes, awkward keys, metadata and content headers, ETags, ranges,
conditional requests, response-* overrides, copy, storage class, on-disk
layout, multi-delete, and the aws CLI."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import os
import time

import pytest
from botocore.exceptions import ClientError

from harness import (
    KIB,
    MIB,
    etag_of,
    quote_key,
    sha256_hex,
    shard_file_size,
    shard_size,
    signed_request,
    s3_error,
)


def err(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


SIZES = [
    0,
    1,
    4 * KIB,
    128 * KIB - 1,
    128 * KIB,
    128 * KIB + 1,
    256 * KIB - 1,
    256 * KIB,
    256 * KIB + 1,
    MIB - 1,
    MIB,
    MIB + 1,
    2 * MIB + 3,
    5 * MIB,
    pytest.param(64 * MIB, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("size", SIZES)
def test_put_get_head_sizes(s3, bucket, size):
    data = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key=f"obj-{size}", Body=data)
    assert put["ETag"] == etag_of(data)
    head = s3.head_object(Bucket=bucket, Key=f"obj-{size}")
    assert head["ContentLength"] == size
    assert head["ETag"] == etag_of(data)
    got = s3.get_object(Bucket=bucket, Key=f"obj-{size}")
    body = got["Body"].read()
    assert len(body) == size and sha256_hex(body) == sha256_hex(data)
    assert got["ContentLength"] == size
    assert got["ETag"] == etag_of(data)


def test_empty_put_keeps_connection_usable(server, bucket):
    """boto3 sends `Expect: 100-continue` with Content-Length: 0 for an empty
    object; the request after it on the same pooled connection must not stall.
    The client does not retry, so a stalled request fails on its read timeout."""
    client = server.client(read_timeout=10, max_pool_connections=1)
    client.put_object(Bucket=bucket, Key="empty", Body=b"")
    client.put_object(Bucket=bucket, Key="after-empty", Body=b"x" * 4096)
    assert client.get_object(Bucket=bucket, Key="after-empty")["Body"].read() == b"x" * 4096


def test_last_modified(s3, bucket):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=2)
    s3.put_object(Bucket=bucket, Key="lm", Body=b"x")
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    head = s3.head_object(Bucket=bucket, Key="lm")
    assert before <= head["LastModified"] <= after
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"]
    assert abs((listed - head["LastModified"]).total_seconds()) < 1


def test_overwrite_across_inline_threshold(server, s3, bucket):
    key = "flip"
    sequence = [os.urandom(1000), os.urandom(3 * MIB + 1), os.urandom(10), b"", os.urandom(2 * MIB)]
    for data in sequence:
        s3.put_object(Bucket=bucket, Key=key, Body=data)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    # Only the live version's data dir is left on each drive.
    for d in server.object_dirs(bucket, key):
        data_dirs = [p for p in d.iterdir() if p.is_dir()]
        assert len(data_dirs) <= 1, f"stale data dirs left behind in {d}: {data_dirs}"


def test_get_missing_key(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="nope")
    assert err(e) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="nope")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_error_xml_shape(server, bucket):
    resp = signed_request(server, "GET", f"/{bucket}/no/such/key")
    assert resp.status == 404
    root = resp.xml()
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Message")
    assert root.findtext("Key") in (None, "no/such/key")
    assert resp.headers.get("content-type", "").startswith(("application/xml", "text/xml"))


# ---- keys ---------------------------------------------------------------------------

AWKWARD_KEYS = [
    "with space",
    "  leading and trailing spaces  ",
    "plus+sign+key",
    "percent%sign%20not-escaped",
    "unicode-ключ-日本語-😀",
    "combining-e\u0301-vs-\u00e9",
    "query?x=1&y=2#frag",
    "semi;colon,comma:colon@at$dollar",
    "tilde~bang!star*quote'paren()",
    "brackets[]{}<>|^`",
    "equals=sign",
    "deep/nested/path/to/an/object.txt",
    "trailing-dot.",
    ".leading-dot",
    "a...b",
    "tab\tin-key",
    "back\\slash",
]


@pytest.mark.parametrize("key", AWKWARD_KEYS, ids=range(len(AWKWARD_KEYS)))
def test_awkward_keys(s3, bucket, key):
    data = os.urandom(777)
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 777
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=key)


def test_awkward_keys_with_aws_cli(aws, s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = os.urandom(5000)
    src.write_bytes(data)
    for key in ["with space", "plus+sign", "unicode-日本語", "percent%41"]:
        aws("s3", "cp", str(src), f"s3://{bucket}/{key}")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
        out = tmp_path / "out.bin"
        aws("s3", "cp", f"s3://{bucket}/{key}", str(out))
        assert out.read_bytes() == data


def long_key(length: int) -> str:
    # Path segments stay under 255 bytes (one directory per segment on disk).
    seg = "s" * 199 + "/"
    key = (seg * (length // len(seg) + 1))[:length]
    assert not key.endswith("/")
    return key


def test_key_1024_bytes_ok(s3, bucket):
    key = long_key(1024)
    assert len(key.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=key, Body=b"long")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"long"


def test_key_1024_bytes_multibyte_ok(s3, bucket):
    # 2-, 3- and 4-byte characters; every segment under 255 bytes.
    key = "é" * 100 + "/" + "日" * 80 + "/" + "😀" * 60 + "/" + "x" * 200 + "/"
    key += "y" * (1024 - len(key.encode()))
    assert len(key.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=key, Body=b"mb")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"mb"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def test_key_1025_bytes_refused(s3, bucket):
    key = long_key(1025)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert err(e) == (400, "KeyTooLongError")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


# Raw paths after the bucket; {t} is replaced by a per-test tag. The last two
# are percent-encoded forms, whose canonical (decoded, re-encoded) path differs
# from the wire path: a server may refuse them at the signature check.
ESCAPING = [
    ("a/../{t}", False),
    ("../{t}", False),
    ("../../{t}", False),
    ("{t}/..", False),
    ("..", False),
    ("/{t}-absolute", False),
    ("a//b/../../{t}", False),
    ("{t}%00nul", False),
    ("a/%2e%2e/%2e%2e/{t}", True),
    ("..%2F..%2F{t}", True),
]


@pytest.mark.parametrize("raw_key,encoded", ESCAPING, ids=[e[0] for e in ESCAPING])
def test_escaping_keys_refused(server, s3, bucket, raw_key, encoded):
    tag = "escape" + os.urandom(4).hex()
    target = f"/{bucket}/{raw_key.format(t=tag)}"
    for method, body in (("PUT", b"evil"), ("GET", b""), ("DELETE", b"")):
        resp = signed_request(server, method, target, body=body)
        allowed = (400, 403) if encoded else (400,)
        assert resp.status in allowed, f"{method} {target}: {s3_error(resp)}"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    for root, dirs, files in os.walk(server.workdir):
        assert not any(tag in n for n in dirs + files), f"{target} left {root}/{[n for n in dirs + files if tag in n]}"


def test_get_format_json_through_traversal(server, bucket):
    for target in (f"/{bucket}/../format.json", f"/{bucket}/..%2Fformat.json", "/../format.json", f"/{bucket}/../../d1/format.json"):
        resp = signed_request(server, "GET", target)
        assert resp.status in (400, 403, 404), f"{target}: {s3_error(resp)}"
        assert b"deployment_id" not in resp.body


# ---- metadata and content headers ----------------------------------------------------


def test_user_metadata_and_content_headers(s3, bucket):
    data = b"hello metadata"
    s3.put_object(
        Bucket=bucket,
        Key="meta",
        Body=data,
        Metadata={"color": "blue", "Mixed-Case": "Value With Spaces"},
        ContentType="text/x-minnow; charset=utf-8",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="x.txt"',
        CacheControl="max-age=3600, public",
        ContentLanguage="en-GB",
    )
    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        assert resp["Metadata"].get("color") == "blue"
        assert resp["Metadata"].get("mixed-case") == "Value With Spaces"
        assert resp["ContentType"] == "text/x-minnow; charset=utf-8"
        assert resp["ContentEncoding"] == "identity"
        assert resp["ContentDisposition"] == 'attachment; filename="x.txt"'
        assert resp["CacheControl"] == "max-age=3600, public"
        assert resp["ContentLanguage"] == "en-GB"


def test_default_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="noct", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="noct")["ContentType"] in (
        "binary/octet-stream",
        "application/octet-stream",
    )


# ---- ranges ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ranged(s3):
    from harness import unique_bucket

    name = unique_bucket("range")
    s3.create_bucket(Bucket=name)
    big = os.urandom(3 * MIB + 12345)
    small = os.urandom(1000)
    s3.put_object(Bucket=name, Key="big", Body=big)
    s3.put_object(Bucket=name, Key="small", Body=small)
    s3.put_object(Bucket=name, Key="empty", Body=b"")
    return name, {"big": big, "small": small}


@pytest.mark.parametrize(
    "key,spec,start,end",
    [
        ("small", "bytes=0-0", 0, 0),
        ("small", "bytes=10-99", 10, 99),
        ("small", "bytes=-100", 900, 999),
        ("small", "bytes=900-", 900, 999),
        ("small", "bytes=0-5000", 0, 999),
        ("small", "bytes=-5000", 0, 999),
        ("big", "bytes=0-1048575", 0, MIB - 1),
        ("big", f"bytes={MIB - 10}-{MIB + 10}", MIB - 10, MIB + 10),
        ("big", f"bytes={2 * MIB - 1}-{3 * MIB}", 2 * MIB - 1, 3 * MIB),
        ("big", "bytes=-1", 3 * MIB + 12344, 3 * MIB + 12344),
        ("big", f"bytes={3 * MIB}-", 3 * MIB, 3 * MIB + 12344),
        ("big", "bytes=123456-2345678", 123456, 2345678),
    ],
)
def test_range(s3, ranged, key, spec, start, end):
    name, objects = ranged
    data = objects[key]
    got = s3.get_object(Bucket=name, Key=key, Range=spec)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    body = got["Body"].read()
    assert body == data[start : end + 1]
    assert got["ContentLength"] == end - start + 1
    assert got["ContentRange"] == f"bytes {start}-{end}/{len(data)}"


@pytest.mark.parametrize("key,spec", [("small", "bytes=1000-"), ("small", "bytes=5000-6000"), ("empty", "bytes=0-0")])
def test_range_not_satisfiable(s3, ranged, key, spec):
    name, _ = ranged
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=name, Key=key, Range=spec)
    assert err(e) == (416, "InvalidRange")


def test_range_syntax_error_ignored(s3, ranged):
    name, objects = ranged
    got = s3.get_object(Bucket=name, Key="small", Range="bytes=abc")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == objects["small"]


def test_range_with_aws_cli(aws, ranged, tmp_path):
    name, objects = ranged
    out = tmp_path / "part"
    aws("s3api", "get-object", "--bucket", name, "--key", "big", "--range", "bytes=1000-1048999", str(out))
    assert out.read_bytes() == objects["big"][1000:1049000]


# ---- conditional requests ------------------------------------------------------------


def http_date(t: dt.datetime) -> str:
    return email.utils.format_datetime(t.astimezone(dt.timezone.utc), usegmt=True)


def test_conditional_get(server, s3, bucket):
    data = os.urandom(2000)
    etag = s3.put_object(Bucket=bucket, Key="c", Body=data)["ETag"]
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    past = http_date(lm - dt.timedelta(days=1))
    future = http_date(lm + dt.timedelta(days=1))
    target = f"/{bucket}/c"
    cases = [
        ({"If-Match": etag}, 200),
        ({"If-Match": "*"}, 200),
        ({"If-Match": '"0123456789abcdef0123456789abcdef"'}, 412),
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"0123456789abcdef0123456789abcdef"'}, 200),
        ({"If-Modified-Since": past}, 200),
        ({"If-Modified-Since": future}, 304),
        ({"If-Unmodified-Since": future}, 200),
        ({"If-Unmodified-Since": past}, 412),
        # RFC 7232 / S3: If-Match wins over a failing If-Unmodified-Since ...
        ({"If-Match": etag, "If-Unmodified-Since": past}, 200),
        # ... and a failing If-None-Match wins over If-Modified-Since.
        ({"If-None-Match": etag, "If-Modified-Since": past}, 304),
    ]
    for method in ("GET", "HEAD"):
        for headers, want in cases:
            resp = signed_request(server, method, target, headers)
            assert resp.status == want, f"{method} {headers}: {s3_error(resp)}"
            if want == 200 and method == "GET":
                assert resp.body == data
            if want == 304:
                assert resp.body == b""
            if want == 412 and method == "GET":
                assert resp.error_code == "PreconditionFailed"


def test_conditional_with_boto3(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c2", Body=b"abc")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c2", IfMatch='"ffffffffffffffffffffffffffffffff"')
    assert err(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c2", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket=bucket, Key="c2", IfMatch=etag)["Body"].read() == b"abc"


# ---- response-* overrides -------------------------------------------------------------


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"override me", ContentType="application/x-original")
    got = s3.get_object(
        Bucket=bucket,
        Key="o",
        ResponseContentType="text/plain",
        ResponseContentDisposition='attachment; filename="o.txt"',
        ResponseCacheControl="no-cache",
        ResponseContentEncoding="identity",
        ResponseContentLanguage="fr",
        ResponseExpires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    )
    assert got["Body"].read() == b"override me"
    h = got["ResponseMetadata"]["HTTPHeaders"]
    assert h["content-type"] == "text/plain"
    assert h["content-disposition"] == 'attachment; filename="o.txt"'
    assert h["cache-control"] == "no-cache"
    assert h["content-encoding"] == "identity"
    assert h["content-language"] == "fr"
    assert "2030" in h["expires"]
    # The stored object is unchanged.
    assert s3.head_object(Bucket=bucket, Key="o")["ContentType"] == "application/x-original"


# ---- copy ------------------------------------------------------------------------------


def test_copy_metadata_directive_copy(s3, bucket):
    data = os.urandom(6 * MIB + 1)
    s3.put_object(Bucket=bucket, Key="src key", Body=data, Metadata={"a": "1"}, ContentType="image/png")
    res = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src key"})
    assert res["CopyObjectResult"]["ETag"] == etag_of(data)
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"a": "1"}
    assert head["ContentType"] == "image/png"
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="dst")["Body"].read()) == sha256_hex(data)


def test_copy_metadata_directive_replace(s3, bucket):
    data = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="src", Body=data, Metadata={"a": "1"}, ContentType="image/png")
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/plain",
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"b": "2"}
    assert head["ContentType"] == "text/plain"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == data
    # The source keeps its own.
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"a": "1"}


def test_copy_across_buckets_awkward_key(s3, bucket):
    from harness import unique_bucket

    other = unique_bucket()
    s3.create_bucket(Bucket=other)
    key = "dir/ключ with+plus%.bin"
    data = os.urandom(300 * KIB)
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    s3.copy_object(Bucket=other, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=other, Key=key)["Body"].read() == data
    s3.delete_object(Bucket=other, Key=key)
    s3.delete_bucket(Bucket=other)


def test_copy_onto_itself(s3, bucket):
    data = os.urandom(2 * MIB)
    etag = s3.put_object(Bucket=bucket, Key="self", Body=data, Metadata={"v": "1"})["ETag"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"})
    assert err(e) == (400, "InvalidRequest")
    s3.copy_object(
        Bucket=bucket,
        Key="self",
        CopySource={"Bucket": bucket, "Key": "self"},
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
        ContentType="text/csv",
    )
    head = s3.head_object(Bucket=bucket, Key="self")
    assert head["Metadata"] == {"v": "2"}
    assert head["ContentType"] == "text/csv"
    assert head["ETag"] == etag
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="self")["Body"].read()) == sha256_hex(data)


def test_copy_missing_source(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "absent"})
    assert err(e) == (404, "NoSuchKey")


def test_copy_conditions(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"conditional")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(
            Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfNoneMatch=etag
        )
    assert err(e) == (412, "PreconditionFailed")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"conditional"


# ---- storage class and on-disk layout -------------------------------------------------


def test_storage_class_rrs(server, s3, bucket):
    data = os.urandom(MIB)
    s3.put_object(Bucket=bucket, Key="rrs", Body=data, StorageClass="REDUCED_REDUNDANCY")
    s3.put_object(Bucket=bucket, Key="std", Body=data, StorageClass="STANDARD")
    assert s3.head_object(Bucket=bucket, Key="rrs").get("StorageClass") == "REDUCED_REDUNDANCY"
    assert s3.head_object(Bucket=bucket, Key="std").get("StorageClass") in (None, "STANDARD")
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed["rrs"] == "REDUCED_REDUNDANCY"
    assert listed["std"] == "STANDARD"
    # 4 drives: STANDARD is EC 2+2, RRS is EC 3+1.
    for key, data_shards in (("rrs", 3), ("std", 2)):
        files = server.data_files(bucket, key)
        sizes = [f[0].stat().st_size for f in files.values() if f]
        assert sizes == [shard_file_size(MIB, data_shards)] * 4, f"{key}: shard files {sizes}"
    assert s3.get_object(Bucket=bucket, Key="rrs")["Body"].read() == data


def test_invalid_storage_class(server, bucket):
    resp = signed_request(server, "PUT", f"/{bucket}/sc", {"x-amz-storage-class": "NO_SUCH_CLASS"}, b"x")
    assert resp.status == 400, s3_error(resp)


def test_inline_small_object_layout(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/small", Body=os.urandom(4 * KIB))
    for d in server.object_dirs(bucket, "dir/small"):
        assert (d / "xl.meta").is_file(), f"{d}/xl.meta missing"
        assert [p.name for p in d.iterdir()] == ["xl.meta"], f"a 4 KiB object is inline: {list(d.iterdir())}"


@pytest.mark.parametrize("size", [MIB, MIB + 1, 5 * MIB + 77])
def test_large_object_shard_files(server, s3, bucket, size):
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    for i, d in enumerate(server.object_dirs(bucket, "big")):
        subdirs = [p for p in d.iterdir() if p.is_dir()]
        assert len(subdirs) == 1, f"drive {i}: one data dir expected, got {subdirs}"
        parts = sorted(p.name for p in subdirs[0].iterdir())
        assert parts == ["part.1"], f"drive {i}: {parts}"
        got = (subdirs[0] / "part.1").stat().st_size
        assert got == shard_file_size(size, 2), f"drive {i}: part.1 is {got} bytes"
    # Frames are [32-byte hash][shard]: the data shards are the block cut in
    # halves, so exactly one drive holds the block's first half right after the
    # hash, and exactly one its second half.
    half = shard_size(min(size, MIB), 2)
    raws = [f[0].read_bytes()[: 32 + half] for f in server.data_files(bucket, "big").values()]
    first = [i for i, r in enumerate(raws) if r[32 : 32 + 4096] == data[:4096]]
    second = [i for i, r in enumerate(raws) if r[32 : 32 + 4096] == data[half : half + 4096]]
    assert len(first) == 1 and len(second) == 1 and first != second, (first, second)


# ---- delete -----------------------------------------------------------------------------


def test_delete(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="d/e/l", Body=os.urandom(2 * MIB))
    resp = s3.delete_object(Bucket=bucket, Key="d/e/l")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="d/e/l")
    assert err(e) == (404, "NoSuchKey")
    # Deleting again (or something never there) is not an error.
    assert s3.delete_object(Bucket=bucket, Key="d/e/l")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="never")["ResponseMetadata"]["HTTPStatusCode"] == 204
    # Nothing of it left under the bucket on any drive.
    for d in server.object_dirs(bucket, "d/e/l"):
        assert not (d / "xl.meta").exists()
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_delete_objects(s3, bucket):
    keys = [f"multi/{i}" for i in range(10)]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    res = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:6]] + [{"Key": "multi/absent"}]}
    )
    assert sorted(d["Key"] for d in res.get("Deleted", [])) == sorted(keys[:6] + ["multi/absent"])
    assert not res.get("Errors")
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == sorted(keys[6:])
    res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[6:]], "Quiet": True})
    assert not res.get("Deleted") and not res.get("Errors")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_delete_objects_malformed(server, bucket):
    body = b"<Delete><Object><Key>x</Key></Object"
    from harness import md5_b64

    resp = signed_request(server, "POST", f"/{bucket}?delete", {"Content-MD5": md5_b64(body)}, body)
    assert resp.status == 400 and resp.error_code == "MalformedXML", s3_error(resp)


# ---- aws CLI ----------------------------------------------------------------------------


def test_aws_cli_cp_ls_rm(aws, s3, bucket, tmp_path):
    src = tmp_path / "file.bin"
    data = os.urandom(3 * MIB + 3)
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{bucket}/cli/file.bin")
    head = aws("s3api", "head-object", "--bucket", bucket, "--key", "cli/file.bin").stdout
    assert str(len(data)) in head
    assert "cli/file.bin" in aws("s3", "ls", f"s3://{bucket}/cli/").stdout or "file.bin" in aws(
        "s3", "ls", f"s3://{bucket}/cli/"
    ).stdout
    out = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/cli/file.bin", str(out))
    assert out.read_bytes() == data
    aws("s3", "rm", f"s3://{bucket}/cli/file.bin")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_aws_cli_sync(aws, s3, bucket, tmp_path):
    src = tmp_path / "tree"
    files = {"a.txt": b"a" * 10, "sub/b.bin": os.urandom(200 * KIB), "sub/deeper/c": os.urandom(1500 * KIB)}
    for rel, data in files.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    aws("s3", "sync", str(src), f"s3://{bucket}/tree")
    dst = tmp_path / "back"
    aws("s3", "sync", f"s3://{bucket}/tree", str(dst))
    for rel, data in files.items():
        assert (dst / rel).read_bytes() == data


def test_aws_cli_put_object_metadata(aws, s3, bucket, tmp_path):
    src = tmp_path / "m.txt"
    src.write_bytes(b"meta via cli")
    aws(
        "s3api", "put-object", "--bucket", bucket, "--key", "m.txt", "--body", str(src),
        "--content-type", "text/plain", "--metadata", "owner=cli,kind=test",
    )
    head = s3.head_object(Bucket=bucket, Key="m.txt")
    assert head["Metadata"] == {"owner": "cli", "kind": "test"}
    assert head["ContentType"] == "text/plain"


def test_quote_key_roundtrip_raw(server, s3, bucket):
    """A key sent percent-encoded by hand is stored decoded."""
    key = "raw key/ü+%"
    resp = signed_request(server, "PUT", f"/{bucket}/{quote_key(key)}", body=b"raw")
    assert resp.status == 200, s3_error(resp)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"raw"

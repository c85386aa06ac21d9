"""Listing: ListObjects v1 and v2 with prefix, delimiter and CommonPrefixes,
pagination with small max-keys (markers, continuation tokens, start-after),
encoding-type=url, and UTF-8 binary key order."""

from __future__ import annotations

import hashlib
import urllib.parse

import pytest

from harness import empty_and_delete, signed_request, s3_error, strip_ns, unique_bucket

# No key is a "directory" of another (a/b next to a would be a parent-is-object clash).
KEYS = sorted(
    [
        "alpha",
        "beta/1",
        "beta/2",
        "beta/sub/x",
        "beta/sub/y",
        "beta/sub2/z",
        "betamax",
        "gamma/deep/er/still/file",
        "photos/2023/jan/a.jpg",
        "photos/2023/jan/b.jpg",
        "photos/2023/feb/c.jpg",
        "photos/2024/d.jpg",
        "space key",
        "zeta",
    ]
    + [f"many/{i:04d}" for i in range(120)]
)

# Code-point order of Python strs is UTF-8 byte order.
UTF8_KEYS = ["A", "Z", "a", "z", "~", "é", "ÿ", "Ā", "日本", "😀", "a-b", "a0", "a_b", "b c", "é/x", "+", "%"]


@pytest.fixture(scope="module")
def listed(s3):
    name = unique_bucket("list")
    s3.create_bucket(Bucket=name)
    for k in KEYS:
        s3.put_object(Bucket=name, Key=k, Body=k.encode())
    yield name
    empty_and_delete(s3, name)


def all_pages_v2(s3, **kw):
    pages = []
    token = None
    while True:
        args = dict(kw)
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages.append(page)
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            return pages
        token = page["NextContinuationToken"]
        assert token, "a truncated v2 page must carry NextContinuationToken"
        assert len(pages) < 500, "pagination does not end"


def all_pages_v1(s3, **kw):
    pages = []
    marker = None
    while True:
        args = dict(kw)
        if marker:
            args["Marker"] = marker
        page = s3.list_objects(**args)
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        if "NextMarker" in page:
            marker = page["NextMarker"]
        else:
            assert "Delimiter" not in kw, "v1 with a delimiter must return NextMarker when truncated"
            marker = page["Contents"][-1]["Key"]
        assert len(pages) < 500


def keys_of(pages):
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def prefixes_of(pages):
    return [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]


def expected(prefix="", delimiter=None, start_after=""):
    keys, prefixes = [], []
    for k in KEYS:
        if not k.startswith(prefix) or k <= start_after:
            continue
        rest = k[len(prefix) :]
        if delimiter and delimiter in rest:
            cp = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if cp not in prefixes and cp > start_after:
                prefixes.append(cp)
            continue
        keys.append(k)
    return keys, prefixes


def test_list_v2_all(s3, listed):
    page = s3.list_objects_v2(Bucket=listed)
    assert [o["Key"] for o in page["Contents"]] == KEYS
    assert page["KeyCount"] == len(KEYS)
    assert page["IsTruncated"] is False
    by_key = {o["Key"]: o for o in page["Contents"]}
    assert by_key["alpha"]["Size"] == len("alpha")
    assert by_key["alpha"]["ETag"].strip('"') == hashlib.md5(b"alpha").hexdigest()
    assert by_key["alpha"]["StorageClass"] == "STANDARD"


def test_list_v1_all(s3, listed):
    page = s3.list_objects(Bucket=listed)
    assert [o["Key"] for o in page["Contents"]] == KEYS
    assert page["IsTruncated"] is False


@pytest.mark.parametrize(
    "prefix,delimiter",
    [
        ("", "/"),
        ("beta/", "/"),
        ("beta", "/"),
        ("beta/s", "/"),
        ("photos/", "/"),
        ("photos/2023/", "/"),
        ("photos/2023/jan/", "/"),
        ("gamma/", "/"),
        ("many/00", None),
        ("nothing-here", "/"),
        ("beta/sub/x", "/"),
        ("", None),
    ],
)
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_prefix_delimiter(s3, listed, prefix, delimiter, version):
    kw = dict(Bucket=listed, Prefix=prefix)
    if delimiter:
        kw["Delimiter"] = delimiter
    page = (s3.list_objects_v2 if version == "v2" else s3.list_objects)(**kw)
    want_keys, want_prefixes = expected(prefix, delimiter)
    assert [o["Key"] for o in page.get("Contents", [])] == want_keys
    assert [c["Prefix"] for c in page.get("CommonPrefixes", [])] == want_prefixes
    assert page.get("Prefix", "") == prefix


@pytest.mark.parametrize("max_keys", [1, 2, 3, 7, 50])
@pytest.mark.parametrize("delimiter", [None, "/"])
def test_pagination_v2(s3, listed, max_keys, delimiter):
    kw = dict(Bucket=listed, MaxKeys=max_keys)
    if delimiter:
        kw["Delimiter"] = delimiter
    pages = all_pages_v2(s3, **kw)
    want_keys, want_prefixes = expected("", delimiter)
    assert keys_of(pages) == want_keys
    assert prefixes_of(pages) == want_prefixes
    for p in pages:
        n = len(p.get("Contents", [])) + len(p.get("CommonPrefixes", []))
        assert n <= max_keys
        assert p["KeyCount"] == n
        if p["IsTruncated"]:
            assert n == max_keys, "a truncated page is a full page"
    assert len(pages) == -(-(len(want_keys) + len(want_prefixes)) // max_keys)


@pytest.mark.parametrize("max_keys", [1, 4, 33])
@pytest.mark.parametrize("delimiter", [None, "/"])
def test_pagination_v1(s3, listed, max_keys, delimiter):
    kw = dict(Bucket=listed, MaxKeys=max_keys)
    if delimiter:
        kw["Delimiter"] = delimiter
    pages = all_pages_v1(s3, **kw)
    want_keys, want_prefixes = expected("", delimiter)
    assert keys_of(pages) == want_keys
    assert prefixes_of(pages) == want_prefixes


def test_pagination_with_prefix(s3, listed):
    pages = all_pages_v2(s3, Bucket=listed, Prefix="many/", MaxKeys=25)
    assert keys_of(pages) == [k for k in KEYS if k.startswith("many/")]
    assert len(pages) == 5


def test_paginator_default_page(s3, listed):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=listed, PaginationConfig={"PageSize": 10}):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == KEYS


@pytest.mark.parametrize("start_after", ["", "a", "alpha", "beta/2", "beta/sub/", "many/0100", "zeta", "zzz"])
def test_start_after(s3, listed, start_after):
    page = s3.list_objects_v2(Bucket=listed, StartAfter=start_after)
    assert [o["Key"] for o in page.get("Contents", [])] == [k for k in KEYS if k > start_after]


def test_start_after_with_delimiter(s3, listed):
    page = s3.list_objects_v2(Bucket=listed, StartAfter="beta/2", Delimiter="/", Prefix="beta/")
    assert page.get("Contents", []) == []
    assert [c["Prefix"] for c in page.get("CommonPrefixes", [])] == ["beta/sub/", "beta/sub2/"]
    # A common prefix given as the start point is skipped whole.
    page = s3.list_objects_v2(Bucket=listed, StartAfter="beta/sub/", Delimiter="/", Prefix="beta/")
    assert [c["Prefix"] for c in page.get("CommonPrefixes", [])] == ["beta/sub2/"]


def test_continuation_token_overrides_start_after(s3, listed):
    first = s3.list_objects_v2(Bucket=listed, MaxKeys=5, StartAfter="beta/1")
    assert [o["Key"] for o in first["Contents"]] == [k for k in KEYS if k > "beta/1"][:5]
    second = s3.list_objects_v2(
        Bucket=listed, MaxKeys=5, StartAfter="beta/1", ContinuationToken=first["NextContinuationToken"]
    )
    assert [o["Key"] for o in second["Contents"]] == [k for k in KEYS if k > "beta/1"][5:10]
    assert second.get("StartAfter") == "beta/1"


def test_marker_v1(s3, listed):
    page = s3.list_objects(Bucket=listed, Marker="photos/2023/feb/c.jpg")
    assert [o["Key"] for o in page["Contents"]] == [k for k in KEYS if k > "photos/2023/feb/c.jpg"]
    assert page["Marker"] == "photos/2023/feb/c.jpg"


def test_max_keys_zero(s3, listed):
    page = s3.list_objects_v2(Bucket=listed, MaxKeys=0)
    assert page.get("Contents", []) == []
    assert page["KeyCount"] == 0


def test_empty_bucket(s3, bucket):
    page = s3.list_objects_v2(Bucket=bucket)
    assert page["KeyCount"] == 0 and "Contents" not in page and page["IsTruncated"] is False
    page = s3.list_objects(Bucket=bucket)
    assert "Contents" not in page and page["IsTruncated"] is False


def test_deleted_keys_disappear(s3, bucket):
    for k in ("a/1", "a/2", "b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.delete_object(Bucket=bucket, Key="a/1")
    s3.delete_object(Bucket=bucket, Key="a/2")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in page.get("Contents", [])] == ["b"]
    assert page.get("CommonPrefixes", []) == [], "an emptied prefix must not be listed"


# ---- UTF-8 order and encoding-type ------------------------------------------------------


@pytest.fixture(scope="module")
def utf8_bucket(s3):
    name = unique_bucket("utf8")
    s3.create_bucket(Bucket=name)
    for k in UTF8_KEYS:
        s3.put_object(Bucket=name, Key=k, Body=b"u")
    yield name
    empty_and_delete(s3, name)


def test_utf8_binary_order(s3, utf8_bucket):
    want = sorted(UTF8_KEYS, key=lambda k: k.encode())
    assert want == sorted(UTF8_KEYS)
    page = s3.list_objects_v2(Bucket=utf8_bucket)
    assert [o["Key"] for o in page["Contents"]] == want
    pages = all_pages_v2(s3, Bucket=utf8_bucket, MaxKeys=2)
    assert keys_of(pages) == want
    pages = all_pages_v1(s3, Bucket=utf8_bucket, MaxKeys=3)
    assert keys_of(pages) == want


def test_encoding_type_url_raw(server, utf8_bucket):
    resp = signed_request(server, "GET", f"/{utf8_bucket}?encoding-type=url&list-type=2")
    assert resp.status == 200, s3_error(resp)
    root = strip_ns(resp.xml())
    assert root.findtext("EncodingType") == "url"
    raw_keys = [c.findtext("Key") for c in root.findall("Contents")]
    assert "b%20c" in raw_keys or "b+c" in raw_keys, raw_keys
    assert "%2B" in raw_keys and "%25" in raw_keys, f"+ and % must be escaped: {raw_keys}"
    assert all(ch.isascii() for k in raw_keys for ch in k), f"keys not url-encoded: {raw_keys}"
    decoded = [urllib.parse.unquote_plus(k) for k in raw_keys]
    assert decoded == sorted(UTF8_KEYS)


def test_no_encoding_type_raw(server, utf8_bucket):
    resp = signed_request(server, "GET", f"/{utf8_bucket}?list-type=2")
    assert resp.status == 200, s3_error(resp)
    root = strip_ns(resp.xml())
    assert root.findtext("EncodingType") is None
    assert [c.findtext("Key") for c in root.findall("Contents")] == sorted(UTF8_KEYS)


def test_encoding_type_url_boto3(s3, utf8_bucket):
    # Asked for explicitly, boto3 leaves the decoding to the caller ...
    page = s3.list_objects_v2(Bucket=utf8_bucket, EncodingType="url", Delimiter="/")
    assert page["EncodingType"] == "url"
    keys = [urllib.parse.unquote_plus(o["Key"]) for o in page["Contents"]]
    assert keys == sorted(k for k in UTF8_KEYS if "/" not in k)
    assert [urllib.parse.unquote_plus(c["Prefix"]) for c in page["CommonPrefixes"]] == ["é/"]
    # ... and by default it asks for it itself and decodes.
    page = s3.list_objects(Bucket=utf8_bucket, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == sorted(k for k in UTF8_KEYS if "/" not in k)
    assert [c["Prefix"] for c in page["CommonPrefixes"]] == ["é/"]


def test_xml_special_characters_in_keys(server, s3, bucket):
    keys = ["a&b", "c<d>e", "quote\"s", "apos'trophe"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = signed_request(server, "GET", f"/{bucket}?list-type=2")
    assert resp.status == 200, s3_error(resp)
    assert b"a&amp;b" in resp.body and b"c&lt;d&gt;e" in resp.body
    page = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in page["Contents"]] == sorted(keys)


def test_aws_cli_ls_recursive(aws, listed):
    out = aws("s3", "ls", "--recursive", f"s3://{listed}").stdout
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == len(KEYS)
    assert lines[0].endswith("alpha")
    out = aws("s3", "ls", f"s3://{listed}/photos/").stdout
    assert "PRE 2023/" in out and "PRE 2024/" in out

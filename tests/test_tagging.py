"""Object and bucket tags as S3 keeps them: Put/Get/DeleteObjectTagging (of the
latest version or one named by id), x-amz-tagging on PutObject, on
CreateMultipartUpload and on CopyObject (TaggingDirective COPY and REPLACE),
x-amz-tagging-count on GET and HEAD, the limits (10 tags of an object, 50 of a
bucket, keys of 128 and values of 256 characters, no duplicate keys, no
`aws:` prefix), malformed XML, and the errors for what is not there."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError

from harness import MIB, md5_b64, signed_request, s3_error, unique_bucket
from versions import versioned_bucket, delete_every_version, enable_versioning, err, list_versions_page


def tagset(tags: dict[str, str]) -> dict:
    return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}


def tagging_xml(tags: dict[str, str]) -> bytes:
    from xml.sax.saxutils import escape

    inner = "".join(f"<Tag><Key>{escape(k)}</Key><Value>{escape(v)}</Value></Tag>" for k, v in tags.items())
    return f'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>{inner}</TagSet></Tagging>'.encode()


def tags_of(s3, bucket: str, key: str, **kw) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]}


def tag_count(resp) -> int:
    return resp.get("TagCount", 0)


@pytest.fixture
def vbucket(server, s3):
    """A fresh bucket with versioning enabled; every version deleted afterwards."""
    yield from versioned_bucket(server, s3, "tag")


# ---- object tags ------------------------------------------------------------


def test_put_get_delete_object_tagging(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert tag_count(s3.head_object(Bucket=bucket, Key="k")) == 0
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    before = s3.head_object(Bucket=bucket, Key="k")
    tags = {"project": "minnow", "empty": "", "with space": "a/b:c=d+e-f_g.h@i", "ünï": "cödé"}
    resp = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset(tags))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(s3, bucket, "k") == tags
    # minnow keeps them in the order given (xl_meta: ObjectVersion.tags).
    assert [t["Key"] for t in s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]] == list(tags)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert tag_count(head) == 4
    assert tag_count(s3.get_object(Bucket=bucket, Key="k")) == 4
    # Tagging changes neither the data nor the object's ETag and date.
    assert (head["ETag"], head["LastModified"], head["ContentLength"]) == (before["ETag"], before["LastModified"], 4)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    # A second PUT replaces the whole set.
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset({"only": "one"}))
    assert tags_of(s3, bucket, "k") == {"only": "one"}
    server.restart()
    assert tags_of(s3, bucket, "k") == {"only": "one"}
    resp = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    assert tag_count(s3.head_object(Bucket=bucket, Key="k")) == 0
    # Deleting the tags of an untagged object is fine too.
    assert s3.delete_object_tagging(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    # An empty set is allowed: no tags.
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


def test_tags_are_not_user_metadata(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="colour=crimson-tag-value&size=big", Metadata={"owner": "me"})
    for resp in (s3.head_object(Bucket=bucket, Key="k"), s3.get_object(Bucket=bucket, Key="k")):
        assert resp["Metadata"] == {"owner": "me"}
        assert tag_count(resp) == 2
        headers = resp["ResponseMetadata"]["HTTPHeaders"]
        leaked = [h for h, v in headers.items() if "crimson" in v or "colour" in h or "colour" in v]
        assert not leaked, f"tags leaked into the headers: {leaked}"
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x", Tagging="a=1")
    assert s3.head_object(Bucket=bucket, Key="plain")["Metadata"] == {}
    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listing) == ["k", "plain"]


def test_tagging_header_on_put(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="k=v&a=b")
    assert tags_of(s3, bucket, "k") == {"k": "v", "a": "b"}
    # URL-encoded keys and values; a key without '=' has an empty value.
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", Tagging="my%20key=a%2Fb%3Dc&flag")
    assert tags_of(s3, bucket, "enc") == {"my key": "a/b=c", "flag": ""}
    # A PUT over a tagged object without a header: the new object has no tags.
    s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    # Large objects too.
    s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(3 * MIB), Tagging="size=large")
    assert tags_of(s3, bucket, "big") == {"size": "large"}
    assert tag_count(s3.get_object(Bucket=bucket, Key="big", Range="bytes=0-9")) == 1


def test_tagging_header_refusals(server, s3, bucket):
    eleven = "&".join(f"t{i}=v" for i in range(11))
    # Too many tags is S3's BadRequest ("Object tags cannot be greater than 10"); a bad tag is InvalidTag.
    for header, code in (
        (eleven, "BadRequest"),
        ("dup=1&dup=2", "InvalidTag"),
        ("aws:reserved=x", "InvalidTag"),
        ("k" * 129 + "=v", "InvalidTag"),
        ("k=" + "v" * 257, "InvalidTag"),
    ):
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="refused", Body=b"x", Tagging=header)
        assert err(e) == (400, code), header[:40]
        with pytest.raises(ClientError) as e:
            s3.head_object(Bucket=bucket, Key="refused")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "a refused PUT stored its object"
    # Ten is the most, and fits.
    ten = "&".join(f"t{i}=v" for i in range(10))
    s3.put_object(Bucket=bucket, Key="ten", Body=b"x", Tagging=ten)
    assert len(tags_of(s3, bucket, "ten")) == 10


def test_tagging_on_multipart_upload(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="stage=done&n=2")["UploadId"]
    parts = [os.urandom(5 * MIB), os.urandom(100)]
    done = []
    for n, body in enumerate(parts, 1):
        done.append({"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n, Body=body)["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": done})
    assert tags_of(s3, bucket, "mp") == {"stage": "done", "n": "2"}
    assert tag_count(s3.head_object(Bucket=bucket, Key="mp")) == 2
    assert s3.head_object(Bucket=bucket, Key="mp")["Metadata"] == {}
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="mp2", Tagging="aws:x=1")
    assert err(e) == (400, "InvalidTag")


def test_tagging_on_copy(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source", Tagging="origin=src&keep=yes")
    # COPY is the default: the source's tags.
    s3.copy_object(Bucket=bucket, Key="c1", CopySource={"Bucket": bucket, "Key": "src"})
    assert tags_of(s3, bucket, "c1") == {"origin": "src", "keep": "yes"}
    s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="COPY")
    assert tags_of(s3, bucket, "c2") == {"origin": "src", "keep": "yes"}
    # REPLACE: the request's tags, or none.
    s3.copy_object(Bucket=bucket, Key="c3", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE", Tagging="new=1")
    assert tags_of(s3, bucket, "c3") == {"new": "1"}
    s3.copy_object(Bucket=bucket, Key="c4", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE")
    assert s3.get_object_tagging(Bucket=bucket, Key="c4")["TagSet"] == []
    # Copying an object onto itself to change its metadata keeps its tags.
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE", Metadata={"m": "1"})
    assert tags_of(s3, bucket, "src") == {"origin": "src", "keep": "yes"}
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"m": "1"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c5", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE", Tagging="dup=1&dup=2")
    assert err(e) == (400, "InvalidTag")


def test_unknown_tagging_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="SOMETIMES")
    assert err(e) == (400, "InvalidArgument")


@pytest.mark.parametrize(
    "tags,code",
    [
        # S3 answers BadRequest ("Object tags cannot be greater than 10") for too many tags.
        ({f"t{i}": "v" for i in range(11)}, "BadRequest"),
        ({"k" * 129: "v"}, "InvalidTag"),
        ({"k": "v" * 257}, "InvalidTag"),
        ({"aws:created-by": "me"}, "InvalidTag"),
        ({"": "v"}, "InvalidTag"),
    ],
    ids=["11-tags", "key-129", "value-257", "aws-prefix", "empty-key"],
)
def test_object_tag_limits(server, s3, bucket, tags, code):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="before=1")
    # By hand: boto3 itself refuses an empty key before sending it.
    body = tagging_xml(tags)
    resp = signed_request(server, "PUT", f"/{bucket}/k?tagging", {"Content-MD5": md5_b64(body)}, body)
    assert (resp.status, resp.error_code) == (400, code), s3_error(resp)
    assert tags_of(s3, bucket, "k") == {"before": "1"}, "the refused set changed the tags"


def test_object_tag_limits_at_the_edge(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # Limits count characters, not bytes; ten tags fit.
    edge = {"é" * 128: "ü" * 256, **{f"t{i}": "v" for i in range(9)}}
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset(edge))
    assert tags_of(s3, bucket, "k") == edge
    # "aws" without the colon, or not at the start, is an ordinary key.
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagset({"awsome": "1", "x-aws:y": "2"}))
    assert tags_of(s3, bucket, "k") == {"awsome": "1", "x-aws:y": "2"}


def test_duplicate_tag_keys(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = (
        b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
        b"<Tag><Key>dup</Key><Value>1</Value></Tag><Tag><Key>dup</Key><Value>2</Value></Tag>"
        b"</TagSet></Tagging>"
    )
    resp = signed_request(server, "PUT", f"/{bucket}/k?tagging", {"Content-MD5": md5_b64(body)}, body)
    assert (resp.status, resp.error_code) == (400, "InvalidTag"), s3_error(resp)
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []


@pytest.mark.parametrize(
    "body",
    [
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>",
        b"not xml at all",
        b"<Other><TagSet></TagSet></Other>",
        b"",
    ],
    ids=["unclosed", "not-xml", "wrong-root", "empty"],
)
def test_malformed_tagging_xml(server, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="before=1")
    resp = signed_request(server, "PUT", f"/{bucket}/k?tagging", {"Content-MD5": md5_b64(body)}, body)
    assert (resp.status, resp.error_code) == (400, "MalformedXML"), s3_error(resp)
    resp = signed_request(server, "PUT", f"/{bucket}?tagging", {"Content-MD5": md5_b64(body)}, body)
    assert (resp.status, resp.error_code) == (400, "MalformedXML"), s3_error(resp)
    assert tags_of(s3, bucket, "k") == {"before": "1"}


def test_tagging_what_is_not_there(s3, bucket, vbucket):
    for call in (
        lambda **kw: s3.get_object_tagging(**kw),
        lambda **kw: s3.put_object_tagging(Tagging=tagset({"a": "1"}), **kw),
        lambda **kw: s3.delete_object_tagging(**kw),
    ):
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket, Key="missing")
        assert err(e) == (404, "NoSuchKey")
        with pytest.raises(ClientError) as e:
            call(Bucket=unique_bucket("missing"), Key="k")
        assert err(e) == (404, "NoSuchBucket")
    vid = s3.put_object(Bucket=vbucket, Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=vid)
    s3.put_object(Bucket=vbucket, Key="k", Body=b"y")
    for call in (
        lambda **kw: s3.get_object_tagging(**kw),
        lambda **kw: s3.put_object_tagging(Tagging=tagset({"a": "1"}), **kw),
        lambda **kw: s3.delete_object_tagging(**kw),
    ):
        with pytest.raises(ClientError) as e:
            call(Bucket=vbucket, Key="k", VersionId=vid)
        assert err(e) == (404, "NoSuchVersion")


def test_tags_of_versions(server, s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one", Tagging="v=1")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    assert tags_of(s3, vbucket, "k", VersionId=v1) == {"v": "1"}
    assert tags_of(s3, vbucket, "k", VersionId=v2) == {}
    resp = s3.get_object_tagging(Bucket=vbucket, Key="k")
    assert resp["VersionId"] == v2
    # Tagging one version by id leaves the others alone.
    resp = s3.put_object_tagging(Bucket=vbucket, Key="k", VersionId=v1, Tagging=tagset({"old": "yes"}))
    assert resp["VersionId"] == v1
    assert tags_of(s3, vbucket, "k", VersionId=v1) == {"old": "yes"}
    assert tags_of(s3, vbucket, "k") == {}
    # Without an id: the latest version.
    resp = s3.put_object_tagging(Bucket=vbucket, Key="k", Tagging=tagset({"new": "yes"}))
    assert resp["VersionId"] == v2
    assert tags_of(s3, vbucket, "k", VersionId=v2) == {"new": "yes"}
    assert tag_count(s3.head_object(Bucket=vbucket, Key="k", VersionId=v1)) == 1
    assert tag_count(s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)) == 1
    # Tagging adds no version.
    entries = list_versions_page(server, vbucket).entries
    assert [e.version_id for e in entries] == [v2, v1]
    resp = s3.delete_object_tagging(Bucket=vbucket, Key="k", VersionId=v1)
    assert resp["VersionId"] == v1
    assert tags_of(s3, vbucket, "k", VersionId=v1) == {}
    assert tags_of(s3, vbucket, "k", VersionId=v2) == {"new": "yes"}
    # A copy of an old version takes that version's tags.
    s3.put_object_tagging(Bucket=vbucket, Key="k", VersionId=v1, Tagging=tagset({"old": "again"}))
    s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": v1})
    assert tags_of(s3, vbucket, "copy") == {"old": "again"}
    assert len(list_versions_page(server, vbucket, prefix="k").entries) == 2


# ---- bucket tags ------------------------------------------------------------


def test_bucket_tagging(server, s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(e) == (404, "NoSuchTagSet")
    tags = {f"key-{i:02d}": f"value {i}" for i in range(50)}
    resp = s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset(tags))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] in (200, 204)
    got = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert got == tags
    server.restart()
    got = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert got == tags
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset({"one": "1"}))
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "one", "Value": "1"}]
    # Bucket tags are not object tags.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    resp = s3.delete_bucket_tagging(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert err(e) == (404, "NoSuchTagSet")


@pytest.mark.parametrize(
    "tags,codes",
    [
        # Too many: BadRequest as for objects (MinIO: "Tags cannot be more than 50"); InvalidTag also seen.
        ({f"key-{i}": "v" for i in range(51)}, ("BadRequest", "InvalidTag")),
        ({"k" * 129: "v"}, ("InvalidTag",)),
        ({"k": "v" * 257}, ("InvalidTag",)),
        ({"aws:cloudformation": "x"}, ("InvalidTag",)),
    ],
    ids=["51-tags", "key-129", "value-257", "aws-prefix"],
)
def test_bucket_tag_limits(s3, bucket, tags, codes):
    why = next(iter(tags))[:20]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset({"before": "1"}))
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset(tags))
    assert err(e)[0] == 400 and err(e)[1] in codes, (why, err(e))
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "before", "Value": "1"}], why


def test_bucket_tagging_duplicates_and_missing_bucket(server, s3, bucket):
    body = (
        b"<Tagging><TagSet><Tag><Key>dup</Key><Value>1</Value></Tag>"
        b"<Tag><Key>dup</Key><Value>2</Value></Tag></TagSet></Tagging>"
    )
    resp = signed_request(server, "PUT", f"/{bucket}?tagging", {"Content-MD5": md5_b64(body)}, body)
    assert (resp.status, resp.error_code) == (400, "InvalidTag"), s3_error(resp)
    missing = unique_bucket("missing")
    for call in (
        lambda: s3.get_bucket_tagging(Bucket=missing),
        lambda: s3.put_bucket_tagging(Bucket=missing, Tagging=tagset({"a": "1"})),
        lambda: s3.delete_bucket_tagging(Bucket=missing),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == (404, "NoSuchBucket")
    # The tags of a deleted bucket do not come back with a new bucket of that name.
    other = unique_bucket("tagged")
    s3.create_bucket(Bucket=other)
    s3.put_bucket_tagging(Bucket=other, Tagging=tagset({"a": "1"}))
    s3.delete_bucket(Bucket=other)
    s3.create_bucket(Bucket=other)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=other)
    assert err(e) == (404, "NoSuchTagSet")
    s3.delete_bucket(Bucket=other)

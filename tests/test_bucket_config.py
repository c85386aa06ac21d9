"""Bucket configuration (versioning, bucket tags): kept on set 0's drives and
cached on every core. The server runs on two cores, and every check is made
over many fresh connections, which the kernel spreads over both cores; each
answer's request id names the core that served it, so the tests check that
both cores answered (a change must be visible on every core once the call
that made it returned)."""

from __future__ import annotations

import shutil

import pytest
from botocore.exceptions import ClientError

from harness import signed_request, unique_bucket

ROUNDS = 24
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


@pytest.fixture
def srv(start_server):
    return start_server(4, cores=2)


def core_of(request_id: str) -> int:
    """The core that served a request (`api::ServerCtx::next_request_id`)."""
    return int(request_id[-12:-10], 16)


def fresh_get(srv, target: str):
    """One signed GET on a fresh connection; the response and its serving core."""
    r = signed_request(srv, "GET", target)
    return r, core_of(r.headers["x-amz-request-id"])


def versioning_status(srv, bucket: str) -> tuple[str | None, int]:
    r, core = fresh_get(srv, f"/{bucket}?versioning")
    assert r.status == 200, r
    status = r.xml().find("Status")
    return (status.text if status is not None else None), core


def tags_of(srv, bucket: str) -> tuple[dict | None, int]:
    """The bucket's tags, None for NoSuchTagSet."""
    r, core = fresh_get(srv, f"/{bucket}?tagging")
    if r.status == 404:
        assert r.error_code == "NoSuchTagSet", r
        return None, core
    assert r.status == 200, r
    return {t.find("Key").text or "": t.find("Value").text or "" for t in r.xml().iter("Tag")}, core


def assert_everywhere(srv, read, expected):
    """`read` answers `expected` on every one of ROUNDS fresh connections, served by both cores."""
    cores = set()
    for _ in range(ROUNDS):
        got, core = read()
        assert got == expected, f"core {core} answered {got!r}, expected {expected!r}"
        cores.add(core)
    assert cores == {0, 1}, f"only cores {cores} answered; the cross-core cache was not exercised"


def put_versioning(srv, bucket: str, status: str) -> int:
    """PutBucketVersioning on a fresh connection; the core that served it."""
    s3 = srv.client()
    r = s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    return core_of(r["ResponseMetadata"]["RequestId"])


def error_of(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def test_versioning_is_seen_on_every_core_right_after_each_change(srv):
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), None)

    put_versioning(srv, bucket, "Enabled")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), "Enabled")

    # Each change, made on whichever core took it, is read back at once on a fresh
    # connection, whichever core that lands on.
    writers, readers = set(), set()
    for i in range(ROUNDS):
        status = "Suspended" if i % 2 == 0 else "Enabled"
        writers.add(put_versioning(srv, bucket, status))
        got, core = versioning_status(srv, bucket)
        assert got == status, f"round {i}: core {core} answered {got}, expected {status}"
        readers.add(core)
    assert writers == {0, 1} and readers == {0, 1}, (writers, readers)

    put_versioning(srv, bucket, "Suspended")
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), "Suspended")


def test_a_versioned_bucket_never_returns_to_unversioned(srv):
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    empty = f'<VersioningConfiguration xmlns="{S3_NS}"/>'.encode()
    # No Status is no versioning state S3 knows, versioned before or not: refused, nothing
    # changes.
    r = signed_request(srv, "PUT", f"/{bucket}?versioning", body=empty)
    assert (r.status, r.error_code) == (400, "MalformedXML"), r
    assert versioning_status(srv, bucket)[0] is None
    put_versioning(srv, bucket, "Suspended")
    r = signed_request(srv, "PUT", f"/{bucket}?versioning", body=empty)
    assert (r.status, r.error_code) == (400, "MalformedXML"), r
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Disabled"})
    assert error_of(e) == (400, "MalformedXML")
    r = signed_request(srv, "PUT", f"/{bucket}?versioning", body=b"<VersioningConfiguration><Status>")
    assert (r.status, r.error_code) == (400, "MalformedXML"), r
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), "Suspended")


def test_bucket_tags_put_get_delete_on_every_core(srv):
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(e) == (404, "NoSuchTagSet")

    tags = {"team": "storage: io/a+b=c @x", "cost-centre": "42", "empty": ""}
    r = s3.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert [(t["Key"], t["Value"]) for t in got] == list(tags.items()), "order and every allowed character kept"
    assert_everywhere(srv, lambda: tags_of(srv, bucket), tags)

    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert_everywhere(srv, lambda: tags_of(srv, bucket), {"only": "one"})

    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_everywhere(srv, lambda: tags_of(srv, bucket), None)
    # Deleting tags that are not there succeeds too.
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204

    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]},
        )
    assert error_of(e)[0] == 400
    r = signed_request(srv, "PUT", f"/{bucket}?tagging", body=b"<Tagging><Tag/></Tagging>")
    assert (r.status, r.error_code) == (400, "MalformedXML"), r
    assert tags_of(srv, bucket)[0] is None


def test_configuration_of_a_missing_bucket_is_no_such_bucket(srv):
    s3 = srv.client()
    missing = unique_bucket()
    calls = [
        lambda: s3.get_bucket_versioning(Bucket=missing),
        lambda: s3.put_bucket_versioning(Bucket=missing, VersioningConfiguration={"Status": "Enabled"}),
        lambda: s3.get_bucket_tagging(Bucket=missing),
        lambda: s3.put_bucket_tagging(Bucket=missing, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
        lambda: s3.delete_bucket_tagging(Bucket=missing),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == (404, "NoSuchBucket")
    # Every core answers so (no core caches a configuration for it).
    cores = set()
    for _ in range(ROUNDS):
        r, core = fresh_get(srv, f"/{missing}?versioning")
        assert (r.status, r.error_code) == (404, "NoSuchBucket"), r
        cores.add(core)
    assert cores == {0, 1}


def configure(s3, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})


def test_a_re_created_bucket_starts_with_the_defaults(srv):
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    configure(s3, bucket)
    # Both cores cache the configuration before the bucket goes.
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), "Enabled")
    assert_everywhere(srv, lambda: tags_of(srv, bucket), {"k": "v"})
    s3.delete_bucket(Bucket=bucket)
    for d in srv.drive_paths:
        assert not (d / ".minnow.sys" / "buckets" / bucket).exists(), d
    r, _ = fresh_get(srv, f"/{bucket}?versioning")
    assert (r.status, r.error_code) == (404, "NoSuchBucket"), r
    s3.create_bucket(Bucket=bucket)
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), None)
    assert_everywhere(srv, lambda: tags_of(srv, bucket), None)


def test_configuration_survives_a_restart_and_a_torn_copy(srv):
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    configure(s3, bucket)
    for d in srv.drive_paths:
        data = (d / ".minnow.sys" / "buckets" / bucket / "config").read_bytes()
        assert data[:4] == b"MNBC", d
        assert b'"versioning":"Enabled"' in data
    srv.stop()
    # One torn copy is outvoted by the three others.
    torn = srv.drive(0) / ".minnow.sys" / "buckets" / bucket / "config"
    torn.write_bytes(torn.read_bytes()[:-5])
    srv.start()
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), "Enabled")
    assert_everywhere(srv, lambda: tags_of(srv, bucket), {"k": "v"})


def test_a_configuration_left_by_a_crash_is_not_read_back_for_a_new_bucket(srv):
    """DeleteBucket removes the volumes, then the configuration; a crash between the two
    leaves the file behind. A new bucket of the same name must not inherit it."""
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    configure(s3, bucket)
    saved = srv.workdir / "saved-config"
    saved.mkdir()
    for i, d in enumerate(srv.drive_paths):
        shutil.copytree(d / ".minnow.sys" / "buckets" / bucket, saved / str(i))
    s3.delete_bucket(Bucket=bucket)
    srv.stop()
    for i, d in enumerate(srv.drive_paths):
        shutil.copytree(saved / str(i), d / ".minnow.sys" / "buckets" / bucket)
    srv.start()
    s3 = srv.client()
    with pytest.raises(ClientError) as e:
        s3.get_bucket_versioning(Bucket=bucket)
    assert error_of(e) == (404, "NoSuchBucket")
    s3.create_bucket(Bucket=bucket)
    assert_everywhere(srv, lambda: versioning_status(srv, bucket), None)
    assert_everywhere(srv, lambda: tags_of(srv, bucket), None)
    for d in srv.drive_paths:
        assert not (d / ".minnow.sys" / "buckets" / bucket / "config").exists(), d

"""Buckets: create (name rules), head, list, location, delete (BucketNotEmpty),
the errors for missing buckets, the aws CLI, virtual-host style, and
DeleteBucket racing PUTs."""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError

import http.client

from harness import held_back_request, quote_key, sign_v4, signed_request, s3_error, unique_bucket


def error_of(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def test_create_head_list_delete(s3):
    name = unique_bucket()
    before = dt.datetime.now(dt.timezone.utc)
    s3.create_bucket(Bucket=name)
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert name in listed
    created = listed[name]["CreationDate"]
    assert abs((created - before).total_seconds()) < 300, f"CreationDate {created} is not now"
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets_sorted(s3):
    names = [f"{unique_bucket('ls')}-{c}" for c in "cab"]
    for n in names:
        s3.create_bucket(Bucket=n)
    try:
        got = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert got == sorted(got), "ListBuckets is in name order"
        assert set(names) <= set(got)
    finally:
        for n in names:
            s3.delete_bucket(Bucket=n)


def test_bucket_already_owned(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=bucket)
    assert error_of(e) == (409, "BucketAlreadyOwnedByYou")


def test_get_bucket_location(s3, bucket):
    loc = s3.get_bucket_location(Bucket=bucket)
    assert loc["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert loc.get("LocationConstraint") in (None, "", "us-east-1")


def test_delete_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(e) == (409, "BucketNotEmpty")
    assert s3.get_object(Bucket=bucket, Key="x")["Body"].read() == b"1"
    s3.delete_object(Bucket=bucket, Key="x")
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_no_such_bucket(s3):
    name = unique_bucket("missing")
    for call in (
        lambda: s3.delete_bucket(Bucket=name),
        lambda: s3.list_objects_v2(Bucket=name),
        lambda: s3.list_objects(Bucket=name),
        lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"),
        lambda: s3.get_object(Bucket=name, Key="k"),
        lambda: s3.get_bucket_location(Bucket=name),
        lambda: s3.create_multipart_upload(Bucket=name, Key="k"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == (404, "NoSuchBucket")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "UpperCase",
        "under_score",
        "-leading-dash",
        "trailing-dash-",
        ".leading-dot",
        "trailing-dot.",
        "double..dot",
        "dash.-dot",
        "192.168.5.4",  # an IP address
        "space name",
        "bad%name",
    ],
)
def test_invalid_bucket_names(server, s3, name):
    resp = signed_request(server, "PUT", "/" + quote_key(name))
    assert resp.status == 400 and resp.error_code == "InvalidBucketName", s3_error(resp)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my.bucket.name", "0-numeric-1", "x-y-z"])
def test_valid_bucket_names(s3, name):
    s3.create_bucket(Bucket=name)
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.delete_bucket(Bucket=name)


def test_aws_cli_mb_ls_rb(aws, s3):
    name = unique_bucket("cli")
    aws("s3", "mb", f"s3://{name}")
    assert name in aws("s3", "ls").stdout
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    res = aws("s3api", "head-bucket", "--bucket", name)
    assert res.returncode == 0
    aws("s3", "rb", f"s3://{name}")
    assert name not in aws("s3", "ls").stdout
    res = aws("s3api", "head-bucket", "--bucket", name, check=False)
    assert res.returncode != 0 and "404" in res.stderr


def test_aws_cli_rb_not_empty(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"data")
    res = aws("s3", "rb", f"s3://{bucket}", check=False)
    assert res.returncode != 0 and "BucketNotEmpty" in res.stderr
    aws("s3", "rb", f"s3://{bucket}", "--force")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_virtual_host_style(start_server):
    """With MINNOW_DOMAIN set, Host: <bucket>.<domain> addresses the bucket."""
    domain = "s3.minnow.test"
    srv = start_server(4, env={"MINNOW_DOMAIN": domain})
    name = unique_bucket("vh")
    host = f"{name}.{domain}:{srv.port}"
    resp = signed_request(srv, "PUT", "/", host=host)
    assert resp.status == 200, s3_error(resp)
    data = os.urandom(1000)
    resp = signed_request(srv, "PUT", "/some%20key", body=data, host=host)
    assert resp.status == 200, s3_error(resp)
    # The same object through path style.
    s3 = srv.client()
    assert s3.get_object(Bucket=name, Key="some key")["Body"].read() == data
    resp = signed_request(srv, "GET", "/some%20key", host=host)
    assert resp.status == 200 and resp.body == data, s3_error(resp)
    resp = signed_request(srv, "GET", "/?list-type=2", host=host)
    assert resp.status == 200, s3_error(resp)
    assert b"<Key>some key</Key>" in resp.body
    # Path style keeps working on the bare domain and on the IP address.
    resp = signed_request(srv, "GET", f"/{name}/some%20key", host=f"{domain}:{srv.port}")
    assert resp.status == 200 and resp.body == data, s3_error(resp)


def test_head_error_keeps_the_connection(server):
    """A HEAD answered with an error (no body on the wire) must leave the keep-alive
    connection usable: the next request on the same socket gets its answer."""
    host = f"127.0.0.1:{server.port}"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for _ in range(3):
            conn.request("HEAD", "/no-such-bucket-here", headers=sign_v4("HEAD", host, "/no-such-bucket-here"))
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 404
            assert resp.getheader("connection", "").lower() != "close"
            conn.request("GET", "/", headers=sign_v4("GET", host, "/"))
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200 and b"ListAllMyBucketsResult" in body
    finally:
        conn.close()


def held_back_put(server, bucket: str, key: str, body: bytes) -> socket.socket:
    return held_back_request(server, f"/{bucket}/{key}", body)


def answer_status(sock: socket.socket) -> int:
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    sock.close()
    return int(got.split(b" ", 2)[1])


def test_delete_bucket_racing_puts(start_server):
    """DeleteBucket sent while PUTs commit, on two sets: a PUT that got 200
    is never lost. Either DeleteBucket answered 409 BucketNotEmpty and the
    bucket is still there on every drive with the object, or it answered 204
    and no PUT succeeded."""
    srv = start_server(8, env={"MINNOW_ERASURE_SET_DRIVE_COUNT": "4"})
    s3 = srv.client()
    rounds, keys = 40, 4
    for r in range(rounds):
        name = f"race-{r}"
        s3.create_bucket(Bucket=name)
        bodies = {f"k{i}": os.urandom(3000 + i) for i in range(keys)}
        held = {k: held_back_put(srv, name, k, v) for k, v in bodies.items()}
        put_status: dict[str, int] = {}
        deleted: list = []
        start = threading.Barrier(len(held) + 1)

        def put(key: str) -> None:
            start.wait()
            held[key].sendall(bodies[key][-1:])
            put_status[key] = answer_status(held[key])

        def delete() -> None:
            start.wait()
            time.sleep(random.uniform(0, 0.008))
            try:
                s3.delete_bucket(Bucket=name)
                deleted.append(204)
            except ClientError as e:
                deleted.append((e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]))

        threads = [threading.Thread(target=put, args=(k,)) for k in held] + [threading.Thread(target=delete)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert deleted in ([204], [(409, "BucketNotEmpty")]), f"round {r}: {deleted}"
        assert set(put_status.values()) <= {200, 404}, f"round {r}: {put_status}"
        stored = [k for k, status in put_status.items() if status == 200]
        if deleted == [204]:
            assert not stored, f"round {r}: DeleteBucket succeeded after PUTs of {stored} were acknowledged"
            continue
        for k in stored:
            got = s3.get_object(Bucket=name, Key=k)["Body"].read()
            assert got == bodies[k], f"round {r}: {k} changed"
        missing = [d for d in srv.drive_paths if not (d / name).is_dir()]
        assert not missing, f"round {r}: the bucket is gone from {missing}"
        for k in stored:
            s3.delete_object(Bucket=name, Key=k)
        s3.delete_bucket(Bucket=name)


def test_delete_bucket_with_empty_leftover_dirs(server, s3):
    """Empty directories a crash left in a bucket do not keep it from being
    deleted; files on half the drives do (BucketNotEmpty, the bucket kept
    everywhere); files on a minority cannot be an acknowledged object and go
    with the bucket."""
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    for d in server.drive_paths:
        (d / name / "a" / "b" / "c").mkdir(parents=True)
        (d / name / "z").mkdir()
    s3.delete_bucket(Bucket=name)
    assert not any((d / name).exists() for d in server.drive_paths)

    s3.create_bucket(Bucket=name)
    for d in server.drive_paths[:2]:
        (d / name / "stray").mkdir()
        (d / name / "stray" / "file").write_bytes(b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error_of(e) == (409, "BucketNotEmpty")
    assert all((d / name).is_dir() for d in server.drive_paths), "the refused delete must restore the bucket"
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    (server.drive(0) / name / "stray" / "file").unlink()
    s3.delete_bucket(Bucket=name)
    assert not any((d / name).exists() for d in server.drive_paths)

"""Durability on a 4-drive set (EC 2+2): lost drives, corrupt shards and
xl.meta, quorum errors (SlowDownRead / SlowDownWrite) with nothing half
written, and kill -9 in the middle of PUTs followed by a restart: every GET
returns the old bytes or the new bytes exactly, never a mix, and the temp
area is empty again."""

from __future__ import annotations

import hashlib
import http.client
import itertools
import os
import random
import shutil
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import (
    MIB,
    KIB,
    etag_of,
    flip,
    s3_error,
    sha256_hex,
    sign_v4,
    signed_request,
    unique_bucket,
)

OBJECT_SIZES = {
    "empty": 0,
    "one": 1,
    "inline4k": 4 * KIB,
    "inline200k": 200 * KIB,
    "block+1": MIB + 1,
    "dir/five": 5 * MIB + 3,
    "dir/sub/twenty": 20 * MIB + 7,
    "k-a": 300 * KIB,
    "k-b": 2 * MIB,
    "k-c": 2 * MIB + 1,
}


def put_objects(srv, s3, bucket) -> dict[str, bytes]:
    objects = {k: os.urandom(n) for k, n in OBJECT_SIZES.items()}
    for k, v in objects.items():
        if v:
            s3.put_object(Bucket=bucket, Key=k, Body=v)
        else:
            # Not through boto3: its Expect: 100-continue on an empty body is
            # covered by test_object.py::test_empty_put_keeps_connection_usable.
            resp = signed_request(srv, "PUT", f"/{bucket}/{k}")
            assert resp.status == 200, s3_error(resp)
    # And one multipart object.
    parts = [os.urandom(5 * MIB), os.urandom(MIB + 9)]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    done = []
    for n, p in enumerate(parts, 1):
        done.append({"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=p)["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": done})
    objects["mp"] = b"".join(parts)
    return objects


def check_all(s3, bucket, objects: dict[str, bytes], note: str) -> None:
    for k, v in objects.items():
        got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
        assert len(got) == len(v) and got == v, f"{note}: {k} ({len(v)} bytes) differs"
        if len(v) > 10:
            lo, hi = len(v) // 3, len(v) // 3 + min(len(v) // 2, MIB + 100)
            got = s3.get_object(Bucket=bucket, Key=k, Range=f"bytes={lo}-{hi - 1}")["Body"].read()
            assert got == v[lo:hi], f"{note}: range of {k} differs"
    listed = sorted(o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", []))
    assert set(objects) <= set(listed), f"{note}: listing lost {set(objects) - set(listed)}"


def take_drive_away(path: Path, how: str) -> None:
    if how == "rmtree":
        shutil.rmtree(path)
    elif how == "file":
        shutil.rmtree(path)
        path.write_bytes(b"this drive was replaced by a file\n")
    elif how == "rename":
        path.rename(path.with_name(path.name + ".gone"))
    else:
        raise ValueError(how)


def err(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.mark.parametrize(
    "how,order",
    [("rmtree", (0, 1, 2)), ("file", (3, 2, 1)), ("rename", (1, 3, 0))],
    ids=["rmtree", "file", "rename"],
)
def test_lost_drives(start_server, how, order):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    objects = put_objects(srv, s3, b)

    # One drive gone: reads exact, writes still reach quorum (3 of 4).
    take_drive_away(srv.drive(order[0]), how)
    check_all(s3, b, objects, "1 drive lost")
    objects["written-degraded"] = os.urandom(3 * MIB + 1)
    s3.put_object(Bucket=b, Key="written-degraded", Body=objects["written-degraded"])
    objects["small-degraded"] = os.urandom(1000)
    s3.put_object(Bucket=b, Key="small-degraded", Body=objects["small-degraded"])

    # Two drives gone: reads exact (read quorum 2), writes refused with nothing visible.
    take_drive_away(srv.drive(order[1]), how)
    check_all(s3, b, objects, "2 drives lost")
    for key, size in (("refused-big", 3 * MIB), ("refused-small", 100)):
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=b, Key=key, Body=os.urandom(size))
        assert err(e) == (503, "SlowDownWrite")
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=b, Key=key)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (404, 503)
        listed = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix=key).get("Contents", [])]
        assert listed == [], f"refused {key} is listed"
        for i in set(range(4)) - set(order[:2]):
            assert not (srv.drive(i) / b / key / "xl.meta").exists(), f"refused {key} left xl.meta on drive {i}"

    # Three drives gone: below read quorum.
    take_drive_away(srv.drive(order[2]), how)
    for k in ("dir/five", "inline4k"):
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=b, Key=k)
        assert err(e) == (503, "SlowDownRead")
    assert srv.is_running()


def test_corrupt_shards_any_two_drives(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(3 * MIB + 5)
    s3.put_object(Bucket=b, Key="obj", Body=data)
    files = {i: f[0] for i, f in srv.data_files(b, "obj").items()}
    assert len(files) == 4
    frame = 32 + 512 * KIB
    # Hash of block 0, data of block 0, data of block 2, the short last block.
    offsets = [5, 32 + 1000, 2 * frame + 32 + 77777, 3 * frame + 40]
    for pair in itertools.combinations(range(4), 2):
        saved = {i: files[i].read_bytes() for i in pair}
        for i in pair:
            flip(files[i], offsets)
        try:
            got = s3.get_object(Bucket=b, Key="obj")["Body"].read()
            assert got == data, f"corrupt shards on drives {pair}: GET differs"
            got = s3.get_object(Bucket=b, Key="obj", Range=f"bytes={2 * MIB + 10}-{3 * MIB + 2}")["Body"].read()
            assert got == data[2 * MIB + 10 : 3 * MIB + 3], f"corrupt shards on drives {pair}: range differs"
        finally:
            for i, raw in saved.items():
                if files[i].exists():
                    files[i].write_bytes(raw)


def test_truncated_and_missing_shard_files(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(4 * MIB + 100)
    s3.put_object(Bucket=b, Key="obj", Body=data)
    files = {i: f[0] for i, f in srv.data_files(b, "obj").items()}
    with open(files[0], "r+b") as f:
        f.truncate(600 * KIB)
    files[2].unlink()
    assert s3.get_object(Bucket=b, Key="obj")["Body"].read() == data


def test_corrupt_inline_xl_meta(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    objects = {"inline": os.urandom(4 * KIB), "inline100k": os.urandom(100 * KIB), "tiny": b"x", "empty": b""}
    for k, v in objects.items():
        s3.put_object(Bucket=b, Key=k, Body=v)
    for k, v in objects.items():
        metas = [d / "xl.meta" for d in srv.object_dirs(b, k)]
        for pair in itertools.combinations(range(4), 2):
            saved = {i: metas[i].read_bytes() for i in pair}
            for i in pair:
                size = len(saved[i])
                flip(metas[i], [size // 2, size - 3])
            try:
                got = s3.get_object(Bucket=b, Key=k)["Body"].read()
                assert got == v, f"{k}: corrupt xl.meta on drives {pair}: GET differs"
                assert s3.head_object(Bucket=b, Key=k)["ETag"] == etag_of(v)
            finally:
                for i, raw in saved.items():
                    metas[i].write_bytes(raw)
    # Torn (truncated) and emptied xl.meta on two drives.
    metas = [d / "xl.meta" for d in srv.object_dirs(b, "inline")]
    metas[1].write_bytes(metas[1].read_bytes()[:50])
    metas[3].write_bytes(b"")
    assert s3.get_object(Bucket=b, Key="inline")["Body"].read() == objects["inline"]


def test_stale_xl_meta_on_one_drive(start_server):
    """One drive holds an older version's xl.meta: the quorum's version wins."""
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    old, new = os.urandom(2000), os.urandom(3000)
    s3.put_object(Bucket=b, Key="k", Body=old)
    stale = (srv.object_dirs(b, "k")[2] / "xl.meta").read_bytes()
    s3.put_object(Bucket=b, Key="k", Body=new)
    (srv.object_dirs(b, "k")[2] / "xl.meta").write_bytes(stale)
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == new
    assert s3.head_object(Bucket=b, Key="k")["ContentLength"] == 3000


def raw_get(srv, bucket, key) -> tuple[int | None, bytes, bool]:
    """(status, body bytes received, whole body received?), tolerating a
    connection the server aborts half way (its way to fail after 200)."""
    headers = sign_v4("GET", srv.address, f"/{bucket}/{key}", access_key=srv.access_key, secret_key=srv.secret_key)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.putrequest("GET", f"/{bucket}/{key}", skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        try:
            return resp.status, resp.read(), True
        except http.client.IncompleteRead as e:
            return resp.status, e.partial, False
        except (ConnectionError, OSError):
            return resp.status, b"", False
    except (ConnectionError, http.client.HTTPException, OSError):
        return None, b"", False
    finally:
        conn.close()


@pytest.mark.parametrize("block", [0, 2])
def test_three_corrupt_shards_never_wrong_bytes(start_server, block):
    """Beyond parity: the GET fails (an error status, or a connection cut after
    a correct prefix), it never hands out bytes that failed their checksum."""
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(3 * MIB + 5)
    s3.put_object(Bucket=b, Key="obj", Body=data)
    files = {i: f[0] for i, f in srv.data_files(b, "obj").items()}
    frame = 32 + 512 * KIB
    for i in (0, 1, 3):
        flip(files[i], [block * frame + 32 + 4321])
    status, body, complete = raw_get(srv, b, "obj")
    assert not (status == 200 and complete), "a GET beyond parity returned a whole body"
    if status == 200:
        assert data.startswith(body), "bytes sent before the failure must be good ones"
    # The server survives it.
    assert srv.health() == 200
    assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 1


# ---- kill -9 during PUT -------------------------------------------------------------------


class StreamingPut(threading.Thread):
    """Streams `data` as one PUT (UNSIGNED-PAYLOAD), 1 MiB at a time, counting bytes sent."""

    def __init__(self, srv, bucket, key, data: bytes):
        super().__init__(daemon=True)
        self.srv, self.bucket, self.key, self.data = srv, bucket, key, data
        self.sent = 0
        self.all_sent = threading.Event()
        self.status = None
        self.error = None

    def run(self):
        target = f"/{self.bucket}/{self.key}"
        headers = sign_v4(
            "PUT", self.srv.address, target, payload_hash="UNSIGNED-PAYLOAD",
            access_key=self.srv.access_key, secret_key=self.srv.secret_key,
        )
        headers["Content-Length"] = str(len(self.data))
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=60)
        try:
            conn.putrequest("PUT", target, skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            view = memoryview(self.data)
            for off in range(0, len(self.data), MIB):
                conn.send(view[off : off + MIB])
                self.sent = off + len(view[off : off + MIB])
            self.all_sent.set()
            self.status = conn.getresponse().status
        except Exception as e:  # the server is killed under us: expected
            self.error = e
        finally:
            self.all_sent.set()
            conn.close()


def wait_sent(put: StreamingPut, at: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while put.sent < at and not put.all_sent.is_set():
        assert time.monotonic() < deadline, f"upload stuck at {put.sent} bytes"
        time.sleep(0.001)


@pytest.mark.slow
def test_kill9_during_large_put(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    old = os.urandom(3 * MIB + 1)
    s3.put_object(Bucket=b, Key="victim", Body=old)
    new = os.urandom(200 * MIB)
    old_sha, new_sha = sha256_hex(old), sha256_hex(new)
    current = old_sha
    for fraction in (0.03, 0.5, 0.98, 1.0):
        put = StreamingPut(srv, b, "victim", new)
        put.start()
        if fraction < 1.0:
            wait_sent(put, int(len(new) * fraction))
        else:
            put.all_sent.wait(120)
        srv.kill9()
        put.join(60)
        srv.start()
        s3 = srv.client()
        got = s3.get_object(Bucket=b, Key="victim")
        body = got["Body"].read()
        got_sha = sha256_hex(body)
        assert got_sha in (old_sha, new_sha), (
            f"killed at {fraction:.0%}: GET returned {len(body)} bytes that are neither the old nor the new object"
        )
        if fraction < 1.0 and current == old_sha:
            assert got_sha == old_sha, f"killed at {fraction:.0%} of the body: the new object cannot be complete"
        assert got["ETag"] == etag_of(body), "ETag and bytes disagree after the crash"
        assert got["ContentLength"] == len(body)
        current = got_sha
        assert not srv.tmp_leftovers(), f"tmp not emptied at start-up: {srv.tmp_leftovers()[:5]}"
    # A new key killed half way is simply absent.
    put = StreamingPut(srv, b, "fresh", new)
    put.start()
    wait_sent(put, len(new) // 2)
    srv.kill9()
    put.join(60)
    srv.start()
    s3 = srv.client()
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="fresh")
    assert err(e) == (404, "NoSuchKey")
    assert "fresh" not in [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
    assert not srv.tmp_leftovers()


def test_kill9_during_many_puts(start_server):
    """Kill at a random moment of a stream of PUTs: every key is absent or exact,
    and every PUT that was acknowledged survives."""
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    rng = random.Random(1234)
    contents = {}
    acked = set()
    for round_ in range(3):
        stop = threading.Event()

        def writer():
            client = srv.client()
            i = 0
            while not stop.is_set():
                key = f"r{round_}/k{i:04d}"
                size = rng.choice([10, 4 * KIB, 130 * KIB, MIB + 1, 3 * MIB])
                data = os.urandom(size)
                contents[key] = data
                try:
                    client.put_object(Bucket=b, Key=key, Body=data)
                    acked.add(key)
                except Exception:
                    return
                i += 1

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        time.sleep(0.5 + rng.random())
        srv.kill9()
        stop.set()
        t.join(60)
        srv.start()
        s3 = srv.client()
        for key, data in contents.items():
            try:
                body = s3.get_object(Bucket=b, Key=key)["Body"].read()
            except ClientError as e:
                assert key not in acked, f"acknowledged {key} lost after kill -9"
                assert e.response["Error"]["Code"] == "NoSuchKey"
                continue
            assert body == data, f"{key}: torn object after kill -9"
        assert not srv.tmp_leftovers()
    assert len(acked) > 3, "the writer made no progress"

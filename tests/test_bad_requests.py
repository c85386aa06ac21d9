"""Hostile and broken HTTP on raw sockets: oversized heads, garbage request
lines, bad framing, smuggling attempts, clients that vanish mid-body, missing
Content-Length, path traversal. The answer is an error or a closed
connection, never a panic, never a stored fragment; the server keeps serving."""

from __future__ import annotations

import os
import socket
import time

import pytest
from botocore.exceptions import ClientError

from harness import (
    MIB,
    first_status,
    raw_exchange,
    sign_v4,
    signed_request,
    statuses,
    s3_error,
)


@pytest.fixture(autouse=True)
def still_serving(server):
    yield
    assert server.is_running(), "the server died\n" + server.log_tail()
    assert server.health() == 200, "the server stopped answering"


def head_bytes(method: str, target: str, headers: list[tuple[str, str]], version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {target} {version}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed_head(server, method, target, extra=None, payload_hash="UNSIGNED-PAYLOAD") -> list[tuple[str, str]]:
    h = sign_v4(
        method, server.address, target, extra or {}, payload_hash=payload_hash,
        access_key=server.access_key, secret_key=server.secret_key,
    )
    return list(h.items())


def assert_error_or_closed(raw: bytes, allowed=range(400, 600)) -> int | None:
    st = first_status(raw)
    assert st is None or st in allowed, f"expected an error or a closed connection, got {st}: {raw[:300]!r}"
    return st


def test_oversized_header(server):
    raw = raw_exchange(server.port, head_bytes("GET", "/", [("Host", server.address), ("X-Big", "a" * 20000)]))
    assert_error_or_closed(raw, (400, 431))


def test_oversized_request_line(server):
    raw = raw_exchange(server.port, head_bytes("GET", "/" + "a" * 20000, [("Host", server.address)]))
    assert_error_or_closed(raw, (400, 414, 431))


def test_too_many_headers(server):
    headers = [("Host", server.address)] + [(f"X-H{i}", "v") for i in range(300)]
    raw = raw_exchange(server.port, head_bytes("GET", "/", headers))
    assert_error_or_closed(raw, (400, 431))


def test_endless_head_is_cut(server):
    """A client that keeps sending header bytes without ever ending the head."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        sent = 0
        closed = False
        try:
            while sent < 4 * MIB:
                s.sendall(b"X-Filler: " + b"f" * 1000 + b"\r\n")
                sent += 1012
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            s.settimeout(10)
            try:
                data = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                data = b""
            assert first_status(data) in (None, 400, 431), data[:200]
    assert server.health() == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET / FTP/1.0\r\n\r\n",
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nNo-Colon-Here\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n folded: continuation\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header Name: v\r\n\r\n",
        b"\r\n\r\n\r\n",
    ],
)
def test_garbage(server, request_bytes):
    raw = raw_exchange(server.port, request_bytes, timeout=5)
    st = assert_error_or_closed(raw, (400, 401, 403, 405, 501, 505))
    if request_bytes.startswith(b"GARBAGE"):
        assert st in (None, 400)


def test_tls_client_hello_on_plain_port(server):
    hello = bytes.fromhex("16030100c8010000c40303") + os.urandom(32) + b"\x00" * 150
    raw = raw_exchange(server.port, hello, timeout=5)
    assert_error_or_closed(raw, (400,))


def test_unknown_method(server, bucket):
    raw = raw_exchange(server.port, head_bytes("BREW", f"/{bucket}/pot", signed_head(server, "BREW", f"/{bucket}/pot")))
    assert_error_or_closed(raw, (400, 403, 405, 501))


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "18446744073709551616", "12, 13", " "])
def test_bad_content_length(server, s3, bucket, value):
    target = f"/{bucket}/badcl"
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Content-Length", value)])
    raw = raw_exchange(server.port, head + b"x" * 20, timeout=5)
    assert_error_or_closed(raw, (400, 411, 413))
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="badcl")


def test_conflicting_content_lengths(server, s3, bucket):
    target = f"/{bucket}/twocl"
    head = head_bytes(
        "PUT", target, signed_head(server, "PUT", target) + [("Content-Length", "5"), ("Content-Length", "10")]
    )
    raw = raw_exchange(server.port, head + b"0123456789", timeout=5)
    assert_error_or_closed(raw, (400,))
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="twocl")


def test_smuggling_cl_and_te(server, s3, bucket):
    """Content-Length and Transfer-Encoding together: refused (or the chunked
    framing wins and the smuggled request is never run as a request)."""
    target = f"/{bucket}/smuggle"
    smuggled = head_bytes("DELETE", f"/{bucket}/victim", signed_head(server, "DELETE", f"/{bucket}/victim"))
    s3.put_object(Bucket=bucket, Key="victim", Body=b"must survive")
    body = b"0\r\n\r\n" + smuggled
    head = head_bytes(
        "PUT",
        target,
        signed_head(server, "PUT", target) + [("Content-Length", str(len(body))), ("Transfer-Encoding", "chunked")],
    )
    raw = raw_exchange(server.port, head + body, timeout=5)
    st = statuses(raw)
    assert not st or st[0] in (400, 501), f"CL+TE must be refused: {raw[:300]!r}"
    time.sleep(0.2)
    assert s3.get_object(Bucket=bucket, Key="victim")["Body"].read() == b"must survive"


@pytest.mark.parametrize("te", ["gzip, chunked", "chunked, identity", "xchunked", "chunked\x0b"])
def test_odd_transfer_encoding(server, s3, bucket, te):
    target = f"/{bucket}/te"
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Transfer-Encoding", te)])
    raw = raw_exchange(server.port, head + b"5\r\nhello\r\n0\r\n\r\n", timeout=5)
    assert_error_or_closed(raw, (400, 411, 501))
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="te")


@pytest.mark.parametrize(
    "chunks",
    [b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloEXTRA\r\n0\r\n\r\n", b"ffffffffffffffffff\r\n", b"5;" + b"e" * 70000 + b"\r\nhello\r\n0\r\n\r\n"],
)
def test_bad_chunked_body(server, s3, bucket, chunks):
    target = f"/{bucket}/badchunk"
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Transfer-Encoding", "chunked")])
    raw = raw_exchange(server.port, head + chunks, timeout=5)
    assert_error_or_closed(raw)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="badchunk")


def test_put_without_content_length(server, s3, bucket):
    target = f"/{bucket}/nocl"
    raw = raw_exchange(server.port, head_bytes("PUT", target, signed_head(server, "PUT", target)) , timeout=5)
    st = first_status(raw)
    assert st == 411, f"PUT without Content-Length: {raw[:400]!r}"
    assert b"MissingContentLength" in raw
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="nocl")


def test_chunked_put_without_aws_chunked(server, s3, bucket):
    """Plain HTTP chunked transfer (no decoded length): either accepted whole or refused whole."""
    target = f"/{bucket}/httpchunked"
    body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (b"hello ", b"chunked ", b"world")) + b"0\r\n\r\n"
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Transfer-Encoding", "chunked")])
    raw = raw_exchange(server.port, head + body, timeout=5)
    st = first_status(raw)
    if st == 200:
        assert s3.get_object(Bucket=bucket, Key="httpchunked")["Body"].read() == b"hello chunked world"
    else:
        assert st in (None, 400, 411, 501), raw[:300]
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key="httpchunked")


@pytest.mark.parametrize("sent_mib", [0, 1, 3, 9])
def test_client_vanishes_mid_body(server, s3, bucket, sent_mib):
    key = f"vanish{sent_mib}"
    target = f"/{bucket}/{key}"
    total = 10 * MIB
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Content-Length", str(total))])
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head)
        s.sendall(os.urandom(sent_mib * MIB + 12345))
        time.sleep(0.1)
    # Nothing stored, and the half-written data is cleaned away.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not server.tmp_leftovers():
            break
        time.sleep(0.2)
    assert not server.tmp_leftovers(), f"abandoned upload left {server.tmp_leftovers()[:5]}"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    for d in server.object_dirs(bucket, key):
        assert not d.exists(), f"{d} exists after an abandoned upload"


def test_client_vanishes_mid_aws_chunked(server, s3, bucket):
    key = "vanish-chunked"
    target = f"/{bucket}/{key}"
    headers = signed_head(
        server, "PUT", target,
        {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(4 * MIB), "x-amz-trailer": "x-amz-checksum-crc32"},
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    head = head_bytes("PUT", target, headers + [("Content-Length", str(4 * MIB + 1000))])
    chunk = os.urandom(MIB)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" + b"100000\r\n" + chunk[:1000])
    time.sleep(0.5)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=key)


def test_body_shorter_than_decoded_length(server, s3, bucket):
    """aws-chunked body that ends early (x-amz-decoded-content-length larger) is refused whole."""
    key = "short-decoded"
    target = f"/{bucket}/{key}"
    data = os.urandom(1000)
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    headers = signed_head(
        server, "PUT", target,
        {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": "5000", "x-amz-trailer": "x-amz-checksum-crc32"},
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    raw = raw_exchange(server.port, head_bytes("PUT", target, headers + [("Content-Length", str(len(body)))]) + body, timeout=5)
    assert_error_or_closed(raw, (400,))
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=key)


def test_slow_body_then_complete(server, s3, bucket):
    """A client that pauses within the body is still served (no premature timeout)."""
    target = f"/{bucket}/slow"
    data = os.urandom(200_000)
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Content-Length", str(len(data)))])
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head + data[:100_000])
        time.sleep(2)
        s.sendall(data[100_000:])
        resp = s.recv(65536)
    assert first_status(resp) == 200, resp[:300]
    assert s3.get_object(Bucket=bucket, Key="slow")["Body"].read() == data


def test_pipelined_requests(server):
    req = f"GET /minio/health/live HTTP/1.1\r\nHost: {server.address}\r\n\r\n".encode()
    raw = raw_exchange(server.port, req * 5, timeout=3)
    assert statuses(raw) == [200] * 5, raw[:500]


def test_keep_alive_after_error(server, bucket):
    """An S3 error response keeps the connection usable for the next request."""
    target = f"/{bucket}/missing"
    first = head_bytes("GET", target, signed_head(server, "GET", target))
    second = f"GET /minio/health/live HTTP/1.1\r\nHost: {server.address}\r\n\r\n".encode()
    raw = raw_exchange(server.port, first + second, timeout=3)
    assert statuses(raw) == [404, 200], raw[:600]


def test_http10_request(server):
    raw = raw_exchange(server.port, b"GET /minio/health/live HTTP/1.0\r\n\r\n", timeout=5)
    assert first_status(raw) == 200, raw[:300]


def test_expect_100_continue(server, s3, bucket):
    target = f"/{bucket}/expect"
    data = os.urandom(300_000)
    head = head_bytes(
        "PUT", target,
        signed_head(server, "PUT", target) + [("Content-Length", str(len(data))), ("Expect", "100-continue")],
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head)
        s.settimeout(2)
        try:
            interim = s.recv(4096)
        except socket.timeout:
            interim = b""
        if interim:
            assert interim.startswith(b"HTTP/1.1 100"), interim[:200]
        s.settimeout(30)
        s.sendall(data)
        resp = s.recv(65536)
    assert first_status(resp) == 200, resp[:300]
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == data


def test_idle_connection_does_not_block_others(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
        idle.sendall(b"GET /minio/health/live HTTP/1.1\r\n")  # and never finish
        for _ in range(5):
            assert server.health() == 200


@pytest.mark.parametrize(
    "target",
    [
        "/../../etc/passwd",
        "/{bucket}/../../../../etc/passwd",
        "/{bucket}/..%2F..%2F..%2Fformat.json",
        "/{bucket}/%2e%2e/%2e%2e/format.json",
        "/{bucket}/x/../../../.minnow.sys/format.json",
        "/.minnow.sys/tmp",
        "/{bucket}/..\\..\\format.json",
    ],
)
def test_path_traversal_reads(server, bucket, target):
    target = target.format(bucket=bucket)
    resp = signed_request(server, "GET", target)
    assert resp.status in (400, 403, 404), f"{target}: {s3_error(resp)}"
    assert b"root:" not in resp.body and b"deployment_id" not in resp.body


def test_sys_volume_not_a_bucket(server, s3):
    resp = signed_request(server, "PUT", "/.minnow.sys/evil", body=b"x")
    assert resp.status in (400, 404), s3_error(resp)
    resp = signed_request(server, "PUT", "/.minnow.sys")
    assert resp.status == 400 and resp.error_code == "InvalidBucketName", s3_error(resp)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert ".minnow.sys" not in names
    for d in server.drive_paths:
        assert not (d / ".minnow.sys" / "evil").exists()


def test_put_body_longer_than_content_length(server, s3, bucket):
    """Bytes past Content-Length are the next request, not part of the object."""
    target = f"/{bucket}/exact"
    data = b"exactly-this"
    head = head_bytes("PUT", target, signed_head(server, "PUT", target) + [("Content-Length", str(len(data)))])
    raw = raw_exchange(server.port, head + data + b"TRAILING GARBAGE\r\n\r\n", timeout=3)
    st = statuses(raw)
    assert st and st[0] == 200, raw[:300]
    assert all(code >= 400 for code in st[1:])
    assert s3.get_object(Bucket=bucket, Key="exact")["Body"].read() == data


def test_many_connections(server):
    socks = []
    try:
        for _ in range(200):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        assert server.health() == 200
    finally:
        for s in socks:
            s.close()
    assert server.health() == 200

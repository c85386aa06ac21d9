"""Slow and stuck clients never hold what others need.

Each test starts its own server with short limits (environment, see
ARCHITECTURE.md "Slow clients"): the minimum request-body rate and its grace
period, the wait for request-body memory and its cap. The bounds asserted
here are bounded waits and memory ceilings derived from the configured
caps, never speeds."""

from __future__ import annotations

import hashlib
import os
import re
import select
import socket
import threading
import time

from harness import MIB, sign_v4

# A request body must bring MIN_RATE bytes/s over every GRACE seconds spent
# waiting for it.
MIN_RATE = 1024
GRACE = 10.0


def head_bytes(method: str, target: str, headers: dict) -> bytes:
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed_head(server, method: str, target: str, extra: dict) -> bytes:
    headers = sign_v4(
        method, server.address, target, {k: v for k, v in extra.items() if k != "Content-Length"},
        payload_hash="UNSIGNED-PAYLOAD", access_key=server.access_key, secret_key=server.secret_key,
    )
    if "Content-Length" in extra:
        headers["Content-Length"] = extra["Content-Length"]
    return head_bytes(method, target, headers)


_HEAD_END = b"\r\n\r\n"


def read_response(sock: socket.socket, *, skip_continue: bool = True) -> tuple[int, dict, bytes]:
    """One response from `sock`: status, headers (lower-case), body (by
    Content-Length). Raises ConnectionError if the connection ends first."""
    buf = b""
    while True:
        while _HEAD_END not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed before a response: {buf[:200]!r}")
            buf += chunk
        head, _, buf = buf.partition(_HEAD_END)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        if status == 100 and skip_continue:
            continue
        length = int(headers.get("content-length", "0"))
        while len(buf) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a response body")
            buf += chunk
        return status, headers, buf[:length]


def error_code(body: bytes) -> str | None:
    m = re.search(rb"<Code>([^<]+)</Code>", body)
    return m.group(1).decode() if m else None


def vm_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


# --------------------------------------------------------------------------
# 1. Slow uploads beside a normal one
# --------------------------------------------------------------------------


def test_slow_uploads_neither_stall_others_nor_last(start_server):
    server = start_server(env={"MINNOW_BODY_MIN_RATE": MIN_RATE, "MINNOW_BODY_RATE_GRACE": GRACE})
    s3 = server.client()
    s3.create_bucket(Bucket="slow")
    # Four uploads of 8 MiB (streamed into shard files: each would reserve a quarter of the
    # set's write budget) that send a few bytes a second.
    slow = []
    for i in range(4):
        target = f"/slow/trickle-{i}"
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        sock.sendall(signed_head(server, "PUT", target, {"Content-Length": str(8 * MIB)}))
        slow.append(sock)
    started = time.monotonic()
    answers: dict[int, tuple[float, int, bytes]] = {}

    def trickle():
        """A byte per socket every 0.2 s until each is answered."""
        while len(answers) < len(slow) and time.monotonic() - started < GRACE * 6:
            for i, sock in enumerate(slow):
                if i in answers:
                    continue
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    try:
                        status, _, body = read_response(sock)
                    except (ConnectionError, OSError) as e:
                        status, body = -1, repr(e).encode()
                    answers[i] = (time.monotonic(), status, body)
                    continue
                try:
                    sock.send(b"x")
                except OSError as e:
                    answers[i] = (time.monotonic(), -1, repr(e).encode())
            time.sleep(0.2)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    time.sleep(1.0)  # the slow uploads are being read now
    normal = os.urandom(8 * MIB)
    s3.put_object(Bucket="slow", Key="normal", Body=normal)
    assert s3.get_object(Bucket="slow", Key="normal")["Body"].read() == normal
    # It finished while the slow ones were still going (they can only be cut after GRACE).
    assert not answers, f"slow uploads ended before the normal PUT did: {answers}"

    trickler.join(GRACE * 6)
    assert len(answers) == 4, f"slow uploads still open after {GRACE * 6} s: {answers}"
    for i, (when, status, body) in sorted(answers.items()):
        assert status == 400 and error_code(body) == "RequestTimeout", (i, status, body[:300])
        assert b"not read from or written to within the timeout period" in body
        assert when - started >= GRACE * 0.9, f"cut after {when - started:.1f} s, grace {GRACE}"
    for sock in slow:
        sock.close()
    for i in range(4):
        assert s3.list_objects_v2(Bucket="slow", Prefix=f"trickle-{i}")["KeyCount"] == 0
    assert server.tmp_leftovers() == []
    assert "request body slower than the minimum rate" in server.stderr_text()


# --------------------------------------------------------------------------
# 2. A paused reader beside a PUT and a DELETE of the same key
# --------------------------------------------------------------------------


def test_paused_reader_delays_no_writer_and_sees_one_version(start_server):
    server = start_server()
    s3 = server.client()
    s3.create_bucket(Bucket="paused")
    old = os.urandom(32 * MIB)
    s3.put_object(Bucket="paused", Key="k", Body=old)

    reader = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window: the server cannot push the object into socket buffers.
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    reader.settimeout(60)
    reader.connect(("127.0.0.1", server.port))
    reader.sendall(signed_head(server, "GET", "/paused/k", {}))
    got = reader.recv(64 * 1024)
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    time.sleep(1.0)  # the reader stops reading; the server blocks writing to it

    def bounded(fn, limit=20.0):
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", fn()), daemon=True)
        t.start()
        t.join(limit)
        assert not t.is_alive(), f"{fn.__name__} still waiting after {limit} s behind a paused reader"
        return result["r"]

    new = os.urandom(5 * MIB)

    def put_new():
        return s3.put_object(Bucket="paused", Key="k", Body=new)

    def delete_key():
        return s3.delete_object(Bucket="paused", Key="k")

    bounded(put_new)
    assert s3.get_object(Bucket="paused", Key="k")["Body"].read() == new
    bounded(delete_key)
    assert s3.list_objects_v2(Bucket="paused")["KeyCount"] == 0

    # Resume: the old bytes, complete, or a connection cut short; never new bytes.
    data = bytearray(got)
    closed_early = False
    while True:
        try:
            chunk = reader.recv(1 << 20)
        except OSError:
            closed_early = True
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head_len = data.index(b"\r\n\r\n") + 4
            if len(data) - head_len >= len(old):
                break
    reader.close()
    head_len = data.index(b"\r\n\r\n") + 4
    body = bytes(data[head_len:])
    assert body == old[: len(body)], "the paused reader received bytes of another version"
    # minnow keeps the opened version's files open, so the reader gets all of it.
    assert len(body) == len(old), f"only {len(body)} of {len(old)} old bytes (cut: {closed_early})"


# --------------------------------------------------------------------------
# 3. Many connections holding XML bodies
# --------------------------------------------------------------------------

BODY_MEMORY_MIB = 16
DEADLINE = 4.0
XML_BODY = 2 * MIB


def test_xml_bodies_stay_within_the_memory_cap(start_server):
    server = start_server(
        env={"MINNOW_API_BODY_MEMORY_MIB": BODY_MEMORY_MIB, "MINNOW_API_REQUESTS_DEADLINE": DEADLINE}
    )
    s3 = server.client()
    s3.create_bucket(Bucket="xml")
    pid = server.proc.pid
    rss_before = vm_kib(pid, "VmRSS")

    garbage = b"<" + b"x" * (XML_BODY - 1)
    md5 = __import__("base64").b64encode(hashlib.md5(garbage).digest()).decode()
    release = threading.Event()
    lock = threading.Lock()
    outcome: dict[str, int] = {}
    holding = []
    finals: list[tuple[int, str | None]] = []

    def client(i: int):
        if i % 2:
            target, extra = "/xml?delete", {"Content-MD5": md5}
        else:
            target, extra = f"/xml/k{i}?uploadId=nosuchupload", {}
        extra.update({"Content-Length": str(XML_BODY), "Expect": "100-continue"})
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
                sock.sendall(signed_head(server, "POST", target, extra))
                status, _, body = read_response(sock, skip_continue=False)
                if status == 100:
                    sock.sendall(garbage[:-1])
                    with lock:
                        holding.append(i)
                    release.wait(120)
                    sock.sendall(garbage[-1:])
                    status, _, body = read_response(sock)
                with lock:
                    finals.append((status, error_code(body)))
        except OSError as e:
            with lock:
                outcome[repr(e)] = outcome.get(repr(e), 0) + 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(400)]
    for t in threads:
        t.start()
    # Every request either holds its body in the server or was turned away.
    until = time.monotonic() + 120
    while time.monotonic() < until:
        with lock:
            if len(holding) + len(finals) + sum(outcome.values()) >= 400:
                break
        time.sleep(0.2)
    time.sleep(0.5)
    peak_kib = vm_kib(pid, "VmHWM")
    with lock:
        held, turned_away, failed = list(holding), list(finals), dict(outcome)
    release.set()
    for t in threads:
        t.join(60)

    assert not failed, failed
    print(f"RSS {rss_before} KiB before, peak {peak_kib} KiB; {len(held)} held, {len(turned_away)} turned away")
    cap_kib = BODY_MEMORY_MIB * 1024
    # The cap, plus per-connection state (buffers, tasks) for 400 connections, plus slack.
    bound_kib = cap_kib + 400 * 64 + 32 * 1024
    assert peak_kib - rss_before < bound_kib, (
        f"RSS went from {rss_before} KiB to a peak of {peak_kib} KiB with {len(held)} bodies held "
        f"(cap {cap_kib} KiB, bound {bound_kib} KiB)"
    )
    assert 0 < len(held) <= cap_kib // (XML_BODY // 1024), held
    assert len(held) + len(turned_away) == 400
    assert turned_away and all(f == (503, "SlowDown") for f in turned_away), turned_away[:5]
    # The held requests were served once their bodies were complete.
    with lock:
        served = finals[len(turned_away):]
    assert len(served) == len(held)
    assert all(f in ((404, "NoSuchUpload"), (400, "MalformedXML")) for f in served), served
    assert "request body memory not granted in time" in server.stderr_text()

    # Everything is served afterwards: a real multipart upload, a real DeleteObjects.
    up = s3.create_multipart_upload(Bucket="xml", Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket="xml", Key="mp", UploadId=up, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(
        Bucket="xml", Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert s3.get_object(Bucket="xml", Key="mp")["Body"].read() == b"part"
    deleted = s3.delete_objects(Bucket="xml", Delete={"Objects": [{"Key": "mp"}]})
    assert [d["Key"] for d in deleted["Deleted"]] == ["mp"]


def test_waiting_xml_bodies_are_served_when_memory_frees(start_server):
    """Past the cap a request waits (within the deadline) instead of failing."""
    server = start_server(
        env={"MINNOW_API_BODY_MEMORY_MIB": BODY_MEMORY_MIB, "MINNOW_API_REQUESTS_DEADLINE": 30}
    )
    s3 = server.client()
    s3.create_bucket(Bucket="wait")
    garbage = b"<" + b"x" * (XML_BODY - 1)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def client(i: int):
        target = f"/wait/k{i}?uploadId=nosuchupload"
        extra = {"Content-Length": str(XML_BODY), "Expect": "100-continue"}
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(signed_head(server, "POST", target, extra))
            status, _, body = read_response(sock, skip_continue=False)
            if status == 100:
                sock.sendall(garbage)
                status, _, body = read_response(sock)
            with lock:
                results.append((status, error_code(body)))

    # Four times what the cap holds at once.
    count = 4 * (BODY_MEMORY_MIB * MIB // XML_BODY)
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert len(results) == count
    assert all(r == (400, "MalformedXML") for r in results), results


def test_put_bodies_waiting_for_write_memory_stay_bounded(start_server):
    """Uploads past the write budget wait with at most their first block in hand, and only so
    many of them: the rest wait before their body (503 SlowDown past the wait bound)."""
    server = start_server(env={"MINNOW_LOCK_TIMEOUT": DEADLINE})
    s3 = server.client()
    s3.create_bucket(Bucket="puts")
    pid = server.proc.pid
    rss_before = vm_kib(pid, "VmRSS")
    body = os.urandom(MIB)
    release = threading.Event()
    lock = threading.Lock()
    holding: list[int] = []
    finals: list[tuple[int, str | None]] = []
    errors: list[str] = []

    def client(i: int):
        target = f"/puts/k{i}"
        extra = {"Content-Length": str(len(body)), "Expect": "100-continue"}
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
                sock.sendall(signed_head(server, "PUT", target, extra))
                status, _, answer = read_response(sock, skip_continue=False)
                if status == 100:
                    sock.sendall(body[:-1])
                    with lock:
                        holding.append(i)
                    release.wait(120)
                    sock.sendall(body[-1:])
                    status, _, answer = read_response(sock)
                with lock:
                    finals.append((status, error_code(answer)))
        except OSError as e:
            with lock:
                errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(200)]
    for t in threads:
        t.start()
    until = time.monotonic() + 120
    while time.monotonic() < until:
        with lock:
            if len(holding) + len(finals) + len(errors) >= 200:
                break
        time.sleep(0.2)
    time.sleep(0.5)
    peak_kib = vm_kib(pid, "VmHWM")
    with lock:
        held, turned_away = list(holding), list(finals)
    release.set()
    for t in threads:
        t.join(60)
    print(f"RSS {rss_before} KiB before, peak {peak_kib} KiB; {len(held)} held, {len(turned_away)} turned away")
    assert not errors, errors[:5]
    # 64 MiB of receive memory per set (one set here), plus 200 connections, plus slack.
    bound_kib = 64 * 1024 + 200 * 64 + 32 * 1024
    assert peak_kib - rss_before < bound_kib, (peak_kib, rss_before, len(held))
    assert 0 < len(held) <= 16, held
    assert turned_away and all(f == (503, "SlowDown") for f in turned_away), turned_away[:5]
    with lock:
        served = finals[len(turned_away):]
    assert len(served) == len(held) and all(f == (200, None) for f in served), served[:5]
    s3.put_object(Bucket="puts", Key="after", Body=body)
    assert s3.get_object(Bucket="puts", Key="after")["Body"].read() == body

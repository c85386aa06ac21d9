"""Crash and fault run: kill -9 at random moments under a mixed workload, then
faults injected into shard files and xl.meta, on 4 drives (EC 2+2) and 8
drives (EC 4+4).

Each round: several client threads run PUTs (inline, multi-block), overwrites,
~11 MiB multipart uploads, copies, DELETEs and GETs, each thread on keys of its
own so the order of operations per key is known. At a random moment the server
is killed with SIGKILL and restarted on the same drives, and every key is read
back. A key must hold the value of its last acknowledged operation (bytes, or
absent after a DELETE), or the value of an operation issued after it that was
never acknowledged (in flight at the kill, or failed): nothing else, and never
bytes that were never written. Then faults are put into at most `parity`
drives of each object (bytes of shard files or xl.meta flipped, files
truncated or deleted), and every GET must still return exact bytes; the files
are restored afterwards.

Every request has a client timeout, and the server runs with a short stall
timeout: a request that hangs fails the test naming the key, the round and the
seed.

Environment:
  MINNOW_CRASH_SEED     seed (default: random; printed, and named in every
                        failure, so a failing run can be replayed)
  MINNOW_CRASH_ROUNDS   rounds per drive count (default 15)
  MINNOW_CRASH_SECONDS  instead of a round count: keep going for this many
                        seconds per drive count (at least one round)
The op sequence of each thread follows from the seed; the kill moment follows
from it too, but what was in flight then depends on timing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError

from harness import KIB, MIB, flip, sign_v4, unique_bucket

SEED = int(os.environ.get("MINNOW_CRASH_SEED") or random.SystemRandom().randrange(1 << 32))
ROUNDS = int(os.environ.get("MINNOW_CRASH_ROUNDS") or 15)
SECONDS = float(os.environ.get("MINNOW_CRASH_SECONDS") or 0)

THREADS = 4
KEYS_PER_THREAD = 5
# Client side: longer than the server's stall timeout, so a stuck request is
# first cut (and logged) by the server, then seen here.
CLIENT_READ_TIMEOUT = 50
SERVER_STALL_TIMEOUT = "30"
PARITY = {4: 2, 8: 4}
MULTIPART_PARTS = (5 * MIB, 5 * MIB, MIB + 123)  # ~11 MiB


@dataclasses.dataclass(frozen=True)
class Value:
    """Bytes some operation wrote, regenerated from `op` when needed: one
    piece, or the parts of a multipart upload."""

    op: str
    parts: tuple[int, ...]
    sha: str

    @property
    def size(self) -> int:
        return sum(self.parts)

    def data(self) -> bytes:
        return b"".join(make_bytes(f"{self.op}p{i}", n) for i, n in enumerate(self.parts))

    def describe(self) -> str:
        return f"{self.size} bytes from {self.op}"


def make_bytes(piece: str, size: int) -> bytes:
    return random.Random(f"{SEED}:{piece}").randbytes(size)


def value_of(op: str, parts: tuple[int, ...]) -> tuple[Value, bytes]:
    v = Value(op, parts, "")
    data = v.data()
    return dataclasses.replace(v, sha=hashlib.sha256(data).hexdigest()), data


def describe(v: Value | None) -> str:
    return "absent" if v is None else v.describe()


class KeyState:
    """What a key may hold: the value of its last acknowledged operation
    (None = absent), or one of the operations issued after it and never
    acknowledged."""

    def __init__(self) -> None:
        self.acked: Value | None = None
        self.unacked: list[Value | None] = []

    def legal(self) -> list[Value | None]:
        return [self.acked, *self.unacked]

    def exact(self) -> bool:
        return not self.unacked

    def ack(self, v: Value | None) -> None:
        self.acked, self.unacked = v, []

    def maybe(self, v: Value | None) -> None:
        self.unacked.append(v)


class Failure(AssertionError):
    pass


class Run:
    """One server shape, its keys and their states, across rounds."""

    def __init__(self, srv, drives: int):
        self.srv = srv
        self.drives = drives
        self.parity = PARITY[drives]
        self.bucket = unique_bucket("crash")
        self.keys = [[f"t{t}/k{k}" for k in range(KEYS_PER_THREAD)] for t in range(THREADS)]
        self.state = {k: KeyState() for ks in self.keys for k in ks}
        self.round = 0
        self.killing = threading.Event()
        self.failures: list[str] = []
        self.stats: dict[str, int] = {}
        self.lock = threading.Lock()

    def where(self, key: str) -> str:
        return f"seed={SEED} drives={self.drives} round={self.round} key={key}"

    def fail(self, key: str, what: str) -> None:
        msg = f"{self.where(key)}: {what} (replay: MINNOW_CRASH_SEED={SEED})"
        with self.lock:
            self.failures.append(msg)

    def count(self, what: str) -> None:
        with self.lock:
            self.stats[what] = self.stats.get(what, 0) + 1

    def client(self):
        return self.srv.client(connect_timeout=5, read_timeout=CLIENT_READ_TIMEOUT, max_pool_connections=4)

    def check_failures(self) -> None:
        if self.failures:
            raise Failure("\n".join(self.failures[:20]) + "\n" + self.server_stall_lines())

    def server_stall_lines(self) -> str:
        lines = [l for l in self.srv.stderr_text().splitlines() if "made no progress" in l or "hand-off:" in l]
        return "server stall log lines:\n" + "\n".join(lines[-10:]) if lines else "no stall line in the server log"

    # ---- the workload -------------------------------------------------------

    def worker(self, t: int, rng: random.Random) -> None:
        s3 = self.client()
        n = 0
        while not self.killing.is_set():
            key = rng.choice(self.keys[t])
            op = f"r{self.round}t{t}n{n}"
            n += 1
            kind = rng.choices(
                ["put_small", "put_large", "multipart", "copy", "delete", "get"],
                weights=[26, 14, 12, 10, 12, 26],
            )[0]
            try:
                self.run_op(s3, rng, t, kind, key, op)
            except Exception as e:  # noqa: BLE001 - every error is judged here
                if self.killing.is_set():
                    return  # the kill cut it: its effect is in `maybe`
                self.fail(key, f"{kind} failed while the server was up: {e!r}")
                return

    def run_op(self, s3, rng: random.Random, t: int, kind: str, key: str, op: str) -> None:
        st = self.state[key]
        b = self.bucket
        if kind == "get":
            if not st.exact():
                return
            self.count("get")
            self.check_get(s3, key, st.legal(), during="workload GET")
            return
        if kind == "delete":
            st.maybe(None)
            s3.delete_object(Bucket=b, Key=key)
            st.ack(None)
            self.count("delete")
            return
        if kind == "copy":
            # Never the value the key holds already: a second version with the same bytes (same
            # ETag) would be indistinguishable from the first in `holders`.
            sources = [
                k
                for k in self.keys[t]
                if k != key and self.state[k].exact() and self.state[k].acked not in (None, st.acked)
            ]
            if not sources:
                return
            src = rng.choice(sources)
            v = self.state[src].acked
            st.maybe(v)
            s3.copy_object(Bucket=b, Key=key, CopySource={"Bucket": b, "Key": src})
            st.ack(v)
            self.count("copy")
            return
        if kind == "multipart":
            v, whole = value_of(op, MULTIPART_PARTS)
            parts, at = [], 0
            for n in MULTIPART_PARTS:
                parts.append(whole[at : at + n])
                at += n
            uid = s3.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
            done = []
            for i, p in enumerate(parts, 1):
                etag = s3.upload_part(Bucket=b, Key=key, UploadId=uid, PartNumber=i, Body=p)["ETag"]
                done.append({"PartNumber": i, "ETag": etag})
            st.maybe(v)
            s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": done})
            st.ack(v)
            self.count("multipart")
            return
        size = rng.choice([0, 1, 3000, 40 * KIB, 200 * KIB]) if kind == "put_small" else rng.randint(MIB + 1, 4 * MIB + 7)
        v, data = value_of(op, (size,))
        st.maybe(v)
        s3.put_object(Bucket=b, Key=key, Body=data)
        st.ack(v)
        self.count(kind)

    # ---- checks -------------------------------------------------------------

    def get_value(self, s3, key: str, rng_range: tuple[int, int] | None = None) -> bytes | None:
        """The key's bytes (or a range of them); None if it does not exist."""
        kw = {}
        if rng_range is not None:
            kw["Range"] = f"bytes={rng_range[0]}-{rng_range[1]}"
        try:
            return s3.get_object(Bucket=self.bucket, Key=key, **kw)["Body"].read()
        except ClientError as e:
            if e.response["Error"]["Code"] == "NoSuchKey":
                return None
            raise

    def check_get(self, s3, key: str, legal: list[Value | None], during: str) -> Value | None:
        """GET the key; its answer must be one of `legal`. Returns which."""
        try:
            got = self.get_value(s3, key)
        except Exception as e:  # noqa: BLE001
            raise Failure(f"{self.where(key)}: {during}: {e!r}\n{self.server_stall_lines()}") from e
        if got is None:
            if None in legal:
                return None
            raise Failure(f"{self.where(key)}: {during}: absent, expected {[describe(v) for v in legal]}")
        sha = hashlib.sha256(got).hexdigest()
        for v in legal:
            if v is not None and v.sha == sha and v.size == len(got):
                return v
        raise Failure(
            f"{self.where(key)}: {during}: {len(got)} bytes (sha256 {sha[:16]}) that are none of "
            f"{[describe(v) for v in legal]}{self.first_difference(got, legal)}"
        )

    def first_difference(self, got: bytes, legal: list[Value | None]) -> str:
        notes = []
        for v in legal:
            if v is None:
                continue
            want = v.data()
            at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            notes.append(f"; vs {v.op}: first difference at byte {at}")
        return "".join(notes)

    def verify_all(self, note: str) -> None:
        """Every key holds a legal value; afterwards that value is the key's state
        (nothing writes now, and what a restarted server shows is on its drives)."""
        s3 = self.client()
        present = set()
        for keys in self.keys:
            for key in keys:
                st = self.state[key]
                seen = self.check_get(s3, key, st.legal(), during=note)
                st.ack(seen)
                self.count("verified")
                if seen is not None:
                    present.add(key)
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            listed |= {o["Key"] for o in page.get("Contents", [])}
        if listed != present:
            raise Failure(
                f"seed={SEED} drives={self.drives} round={self.round}: {note}: listing differs from GETs: "
                f"listed only {sorted(listed - present)}, readable only {sorted(present - listed)}"
            )

    # ---- faults -------------------------------------------------------------

    def holders(self, s3, key: str) -> list[int]:
        """Drives whose xl.meta records the object's current version (its ETag and,
        for data on shard files, the data directory most drives name). A crash in
        the middle of a commit can leave a version on only write-quorum drives;
        nothing heals it yet, so it tolerates fewer faults than parity."""
        etag = s3.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"').encode()
        named: dict[int, set[str]] = {}
        for d in range(self.drives):
            obj_dir = self.srv.drive(d) / self.bucket / key
            try:
                raw = (obj_dir / "xl.meta").read_bytes()
            except FileNotFoundError:
                continue
            if etag in raw:
                dirs = {p.name for p in obj_dir.iterdir() if p.is_dir()} if obj_dir.is_dir() else set()
                named[d] = {u for u in dirs if u.encode() in raw}
        counts: dict[frozenset, int] = {}
        for dirs in named.values():
            counts[frozenset(dirs)] = counts.get(frozenset(dirs), 0) + 1
        if not counts:
            return []
        current = max(counts, key=counts.get)
        return [d for d, dirs in named.items() if frozenset(dirs) == current]

    def inject_faults_and_check(self, rng: random.Random) -> None:
        """Per object: faults on at most `parity` drives, and on no more of the drives
        holding its version than it can lose; GETs exact; files restored."""
        s3 = self.client()
        data_shards = self.drives - self.parity
        for key, st in sorted(self.state.items()):
            v = st.acked
            if v is None:
                continue
            data = v.data()
            holders = self.holders(s3, key)
            spare = len(holders) - data_shards
            drives, hit = [], 0
            for d in rng.sample(range(self.drives), rng.randint(1, self.parity)):
                if d in holders:
                    if hit == spare:
                        continue
                    hit += 1
                drives.append(d)
            if len(holders) < self.drives:
                self.count("objects on fewer drives than the set")
            if not drives:
                continue
            saved: dict = {}
            applied = []
            try:
                for d in drives:
                    applied.append(self.fault_one(rng, key, d, saved))
                got = self.get_value(s3, key)
                if got != data:
                    raise Failure(
                        f"{self.where(key)}: GET after faults {applied} returned "
                        f"{'nothing' if got is None else f'{len(got)} wrong bytes'}, expected {describe(v)}"
                    )
                if len(data) > 1:
                    lo = rng.randrange(len(data) - 1)
                    hi = min(len(data) - 1, lo + rng.randint(1, 3 * MIB))
                    part = self.get_value(s3, key, (lo, hi))
                    if part != data[lo : hi + 1]:
                        raise Failure(f"{self.where(key)}: range {lo}-{hi} after faults {applied} differs")
                self.count("faulted objects")
            except Failure:
                raise
            except Exception as e:  # noqa: BLE001
                raise Failure(f"{self.where(key)}: GET after faults {applied}: {e!r}\n{self.server_stall_lines()}") from e
            finally:
                for path, raw in saved.items():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(raw)

    def fault_one(self, rng: random.Random, key: str, drive: int, saved: dict) -> str:
        obj_dir = self.srv.drive(drive) / self.bucket / key
        meta = obj_dir / "xl.meta"
        shards = sorted(p for p in obj_dir.glob("*/part.*") if p.is_file())
        kinds = ["flip xl.meta", "truncate xl.meta", "delete xl.meta"]
        if shards:
            kinds += ["flip shard", "flip shard", "truncate shard", "delete shard"]
        kind = rng.choice(kinds)
        target = rng.choice(shards) if kind.endswith("shard") else meta
        if not target.exists():
            return f"drive {drive}: nothing to {kind}"
        raw = target.read_bytes()
        saved.setdefault(target, raw)
        if kind.startswith("flip") and raw:
            flip(target, [rng.randrange(len(raw)) for _ in range(rng.randint(1, 4))])
        elif kind.startswith("truncate"):
            with open(target, "r+b") as f:
                f.truncate(rng.randrange(max(1, len(raw))))
        else:
            target.unlink()
        return f"drive {drive}: {kind} {target.name}"


def run_rounds(srv, drives: int) -> Run:
    run = Run(srv, drives)
    print(f"crash/fault run: MINNOW_CRASH_SEED={SEED} drives={drives}")
    srv.client().create_bucket(Bucket=run.bucket)
    rng = random.Random(f"{SEED}:{drives}")
    started = time.monotonic()
    while True:
        run.round += 1
        run.killing.clear()
        threads = [
            threading.Thread(target=run.worker, args=(t, random.Random(f"{SEED}:{drives}:{run.round}:{t}")), daemon=True)
            for t in range(THREADS)
        ]
        for th in threads:
            th.start()
        time.sleep(rng.uniform(0.3, 3.0))
        run.check_failures()
        run.killing.set()
        srv.kill9()
        for th in threads:
            th.join(CLIENT_READ_TIMEOUT + 20)
            if th.is_alive():
                raise Failure(f"seed={SEED} drives={drives} round={run.round}: a client thread did not stop after the kill")
        run.check_failures()
        srv.start()
        leftovers = srv.tmp_leftovers()
        assert not leftovers, f"seed={SEED} round={run.round}: tmp not emptied at start-up: {leftovers[:5]}"
        run.verify_all("after kill -9 and restart")
        run.inject_faults_and_check(rng)
        run.verify_all("after faults were repaired")
        print(f"  round {run.round}: {run.stats.get('verified', 0)} keys verified so far", flush=True)
        done = run.round >= ROUNDS if not SECONDS else time.monotonic() - started >= SECONDS
        if done:
            break
    print(f"crash/fault run: {run.round} rounds, {dict(sorted(run.stats.items()))}")
    stalls = run.server_stall_lines()
    assert stalls.startswith("no stall"), f"seed={SEED} drives={drives}: {stalls}"
    return run


# Long runs outlast pytest.ini's 600 s per test: a round takes seconds, allow a minute.
@pytest.mark.timeout(max(600, SECONDS * 1.5 + 300 if SECONDS else ROUNDS * 60))
@pytest.mark.parametrize("drives", [4, 8])
def test_kill9_and_faults_keep_every_acknowledged_write(start_server, drives):
    srv = start_server(drives, env={"MINNOW_API_STALL_TIMEOUT": SERVER_STALL_TIMEOUT})
    run = run_rounds(srv, drives)
    assert run.stats.get("verified", 0) > 0
    writes = sum(run.stats.get(k, 0) for k in ("put_small", "put_large", "multipart", "copy", "delete"))
    assert writes > 0, f"seed={SEED}: the workload acknowledged no write"


def test_a_request_that_stops_moving_is_cut_and_logged(start_server):
    """A GET whose client stops reading makes no progress: the server cuts it
    after its stall timeout with one warning naming the request, closes the
    connection, and serves others meanwhile."""
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(24 * MIB)  # well past what socket buffers absorb
    s3.put_object(Bucket=b, Key="big", Body=data)
    # A short limit only now: a PUT's commit waits for syncfs, which a busy disk can make slow.
    srv.stop()
    srv.env["MINNOW_API_STALL_TIMEOUT"] = "1"
    srv.start()

    target = f"/{b}/big"
    headers = sign_v4("GET", srv.address, target, access_key=srv.access_key, secret_key=srv.secret_key)
    request = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", srv.port))
        sock.sendall(request.encode())
        assert sock.recv(12).startswith(b"HTTP/1.1 200")
        # Stop reading. The server's writes fill the socket buffers and wait.
        deadline = time.monotonic() + 30
        while not [l for l in srv.stderr_text().splitlines() if "made no progress" in l]:
            assert time.monotonic() < deadline, "no stall warning 30 s after the client stopped reading\n" + srv.log_tail()
            # Other requests are served meanwhile.
            assert s3.head_object(Bucket=b, Key="big")["ContentLength"] == len(data)
            time.sleep(0.2)
        line = [l for l in srv.stderr_text().splitlines() if "made no progress" in l][-1]
        assert "WARN" in line and "method=GET" in line and f'bucket="{b}"' in line and 'key="big"' in line, line
        assert "elapsed_ms=" in line, line
        # The connection was closed: reading on ends (after what was buffered) instead of waiting.
        total = 0
        while True:
            got = sock.recv(1 << 20)
            if not got:
                break
            total += len(got)
        assert total < len(data), "the whole body arrived: the request was not cut"
    assert s3.get_object(Bucket=b, Key="big")["Body"].read() == data


def test_a_request_stuck_inside_the_server_gets_a_503(start_server):
    """An upload waiting for upload memory that never frees makes no progress:
    it is cut with 503 ServiceUnavailable and one warning, and the uploads
    that keep moving are not."""
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    srv.stop()
    srv.env["MINNOW_API_STALL_TIMEOUT"] = "1"
    srv.start()
    size = 64 * MIB  # four of these take the whole upload memory of a 4-drive set

    def open_put(key: str, expect: bool, length: int = size) -> socket.socket:
        target = f"/{b}/{key}"
        headers = sign_v4("PUT", srv.address, target, payload_hash="UNSIGNED-PAYLOAD",
                          access_key=srv.access_key, secret_key=srv.secret_key)
        headers["Content-Length"] = str(length)
        if expect:
            headers["Expect"] = "100-continue"
        head = f"PUT {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
        sock.sendall(head.encode())
        return sock

    stop = threading.Event()
    movers = [open_put(f"moving{i}", expect=False) for i in range(4)]

    def trickle(sock):
        chunk = os.urandom(64 * KIB)
        while not stop.is_set():
            try:
                sock.sendall(chunk)
            except OSError:
                return
            time.sleep(0.1)

    threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in movers]
    for t in threads:
        t.start()
    try:
        # An upload reserves its write memory once its first 1 MiB block has arrived: at
        # 640 KiB/s the four hold it after about 1.6 s.
        time.sleep(3)
        # Its whole body is sent, so the only thing it can wait for is that memory.
        stuck_size = 2 * MIB
        stuck = open_put("stuck", expect=True, length=stuck_size)
        with stuck:
            answer = b""
            continued = b"HTTP/1.1 100 Continue\r\n\r\n"
            while len(answer) < len(continued) and continued.startswith(answer):
                got = stuck.recv(len(continued) - len(answer))
                if not got:
                    break
                answer += got
            if answer == continued:
                # Its first block arrives; then it waits for memory the four keep holding.
                stuck.sendall(os.urandom(stuck_size))
                answer = b""
            while True:  # the server closes after its answer; the 20 s timeout bounds the wait
                got = stuck.recv(65536)
                if not got:
                    break
                answer += got
        assert answer.startswith(b"HTTP/1.1 503"), answer[:300]
        assert b"<Code>ServiceUnavailable</Code>" in answer, answer[:600]
        assert b"connection: close" in answer.lower(), answer[:600]
        lines = [l for l in srv.stderr_text().splitlines() if "made no progress" in l]
        assert any('key="stuck"' in l and "method=PUT" in l for l in lines), lines
        assert not any("moving" in l for l in lines), f"an upload that kept moving was cut: {lines}"
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        for s in movers:
            s.close()

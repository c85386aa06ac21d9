"""The integration test harness: the real `minnow` binary on temp drive dirs.

One `Server` object is one minnow process on its own drive directories and a
free 127.0.0.1 port, with stdout/stderr in log files next to the drives. It
can be started, waited on (GET /minio/health/ready), stopped, killed with
SIGKILL and restarted on the same drives and port.

Besides the server, this module holds the client-side helpers every test
file shares: a boto3 client factory, the `aws` CLI runner, a SigV4 signer for
hand-made requests (built on botocore's own signer, so canonicalisation is
AWS's, not ours), raw-socket helpers, and checksum helpers.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Iterable
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
MINNOW_BIN = Path(os.environ.get("MINNOW_BIN", REPO / "target" / "release" / "minnow"))

DEFAULT_ACCESS_KEY = "minnowadmin"
DEFAULT_SECRET_KEY = "minnowadmin"
REGION = "us-east-1"

KIB = 1024
MIB = 1024 * 1024

SYS_VOL = ".minnow.sys"
BITROT_HASH_LEN = 32
BLOCK_SIZE = MIB

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# Server processes started in this test session, newest last (for log tails).
ALL_SERVERS: list["Server"] = []


class ServerExited(Exception):
    """The server process ended while we waited for it to become ready."""


# --------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(extra: dict | None = None) -> dict:
    """The environment of a server process: ours, minus anything that could
    configure minnow or an S3 client behind the test's back, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MINNOW_", "MINIO_", "AWS_"))
    }
    env.setdefault("RUST_BACKTRACE", "1")
    env["NO_COLOR"] = "1"
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


class Server:
    """One minnow process.

    `drives` is either a number (that many drive dirs `d1..dN` are created
    under `workdir/drives`) or an explicit list of argument strings (paths or
    ellipses patterns) that are passed through verbatim; in that case
    `drive_paths` must list the directories they expand to.
    """

    def __init__(
        self,
        workdir: Path,
        drives: int | list[str] = 4,
        *,
        drive_paths: list[Path] | None = None,
        env: dict | None = None,
        args: list[str] | None = None,
        cores: int | None = None,
        wrap: list[str] | None = None,
        name: str = "minnow",
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        port: int | None = None,
    ):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.env = dict(env or {})
        self.extra_args = list(args or [])
        self.cores = cores
        self.wrap = list(wrap or [])
        self.access_key = access_key
        self.secret_key = secret_key
        self.port = port or free_port()
        if isinstance(drives, int):
            root = self.workdir / "drives"
            self.drive_paths = [root / f"d{i}" for i in range(1, drives + 1)]
            for p in self.drive_paths:
                p.mkdir(parents=True, exist_ok=True)
            self.drive_args = [str(p) for p in self.drive_paths]
        else:
            self.drive_args = list(drives)
            self.drive_paths = [Path(p) for p in (drive_paths or [])]
        self.stdout_path = self.workdir / f"{name}.stdout.log"
        self.stderr_path = self.workdir / f"{name}.stderr.log"
        self.proc: subprocess.Popen | None = None
        self.stopped_on_purpose = False
        self.starts = 0
        self.started_at = 0.0
        ALL_SERVERS.append(self)

    # ---- process control ------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.address}"

    def command(self) -> list[str]:
        cmd = [str(MINNOW_BIN), "server", "--address", self.address]
        if self.cores is not None:
            cmd += ["--cores", str(self.cores)]
        return self.wrap + cmd + self.extra_args + self.drive_args

    def spawn(self) -> None:
        """Start the process without waiting for readiness."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if not MINNOW_BIN.exists():
            raise FileNotFoundError(f"minnow binary not found at {MINNOW_BIN} (set MINNOW_BIN)")
        self.starts += 1
        self.stopped_on_purpose = False
        marker = f"\n===== start #{self.starts}: {' '.join(self.command())}\n"
        with open(self.stdout_path, "a") as f:
            f.write(marker)
        with open(self.stderr_path, "a") as f:
            f.write(marker)
        out = open(self.stdout_path, "ab")
        err = open(self.stderr_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=server_env(self.env),
                start_new_session=True,
            )
        finally:
            out.close()
            err.close()
        self.started_at = time.monotonic()

    def start(self, timeout: float = 60.0) -> "Server":
        self.spawn()
        self.wait_ready(timeout)
        return self

    def died_unexpectedly(self) -> bool:
        """Exited by itself with an error (not stopped or killed by the test)."""
        return (
            self.proc is not None
            and self.proc.poll() is not None
            and self.proc.returncode != 0
            and not self.stopped_on_purpose
            and not getattr(self, "expect_exit", False)
        )

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def health(self, which: str = "ready", timeout: float = 2.0) -> int | None:
        """Status of GET /minio/health/<which>, None if no HTTP answer."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            conn.request("GET", f"/minio/health/{which}")
            status = conn.getresponse().status
            conn.close()
            return status
        except (OSError, http.client.HTTPException):
            return None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerExited(
                    f"{self.name} exited with code {self.proc.returncode} before it was ready\n"
                    + self.log_tail()
                )
            if self.health("ready", timeout=1.0) == 200:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} not ready after {timeout:.0f}s on {self.address}\n" + self.log_tail()
                )
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for a process that is expected to exit by itself; its return code."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(
                f"{self.name} did not exit within {timeout:.0f}s\n" + self.log_tail()
            ) from None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not go away. Its return code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.stopped_on_purpose = True
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def kill9(self) -> None:
        """SIGKILL the server process (and anything in its session)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.stopped_on_purpose = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def restart(self, timeout: float = 60.0) -> "Server":
        self.stop()
        return self.start(timeout)

    # ---- logs -------------------------------------------------------------

    def stdout_text(self) -> str:
        return _read_text(self.stdout_path)

    def stderr_text(self) -> str:
        return _read_text(self.stderr_path)

    def last_run_output(self) -> str:
        """stdout + stderr of the latest start only."""
        marker = f"===== start #{self.starts}:"
        parts = []
        for text in (self.stdout_text(), self.stderr_text()):
            i = text.rfind(marker)
            parts.append(text[i:] if i >= 0 else text)
        return "\n".join(parts)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for label, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            text = _read_text(path).splitlines()
            out.append(f"--- {self.name} {label} ({path}), last {min(lines, len(text))} lines:")
            out.extend(text[-lines:])
        return "\n".join(out)

    def panic_lines(self) -> list[str]:
        return [l for l in self.stderr_text().splitlines() if "panicked" in l]

    # ---- drives -----------------------------------------------------------

    def drive(self, i: int) -> Path:
        return self.drive_paths[i]

    def object_dirs(self, bucket: str, key: str) -> list[Path]:
        return [p / bucket / key for p in self.drive_paths]

    def data_files(self, bucket: str, key: str) -> dict[int, list[Path]]:
        """part.N files per drive index for an object."""
        out = {}
        for i, d in enumerate(self.object_dirs(bucket, key)):
            out[i] = sorted(d.glob("*/part.*")) if d.is_dir() else []
        return out

    def tmp_leftovers(self) -> list[Path]:
        """Entries in <drive>/.minnow.sys/tmp on every drive (start-up probe files aside)."""
        left = []
        for p in self.drive_paths:
            tmp = p / SYS_VOL / "tmp"
            if tmp.is_dir():
                left += [e for e in tmp.iterdir() if not e.name.startswith(".probe")]
        return left

    # ---- clients ----------------------------------------------------------

    def client(self, access_key: str | None = None, secret_key: str | None = None, **config):
        return make_client(
            self.endpoint,
            access_key or self.access_key,
            secret_key or self.secret_key,
            **config,
        )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _read_text(path: Path) -> str:
    try:
        return _ANSI.sub("", Path(path).read_text(errors="replace"))
    except FileNotFoundError:
        return ""


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------


def make_client(endpoint: str, access_key: str, secret_key: str, **config):
    """A boto3 S3 client: path-style, SigV4 (unless told), us-east-1, no retries."""
    import boto3
    from botocore.config import Config

    cfg = dict(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        region_name=REGION,
        retries={"total_max_attempts": 1},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=16,
    )
    cfg.update(config)
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(**cfg),
    )


def aws_executable() -> str:
    """The `aws` next to our python (the venv ci/test.sh made), else PATH's."""
    here = Path(sys.executable).parent / "aws"
    if here.exists():
        return str(here)
    import shutil

    found = shutil.which("aws")
    if not found:
        raise FileNotFoundError("aws CLI not found (ci/test.sh installs it)")
    return found


class AwsCli:
    """Runs `aws --endpoint-url ... ARGS` against one server with its credentials,
    a private config file (path-style, us-east-1) and no other AWS setting."""

    def __init__(self, server: Server, workdir: Path, access_key=None, secret_key=None):
        self.server = server
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "aws-config"
        self.config.write_text(
            "[default]\nregion = us-east-1\noutput = json\n"
            "s3 =\n    addressing_style = path\n"
        )
        self.credentials = workdir / "aws-credentials"
        self.credentials.write_text("")
        self.access_key = access_key or server.access_key
        self.secret_key = secret_key or server.secret_key

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MINNOW_", "MINIO_"))}
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(self.config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(k, None)
        return env

    def __call__(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        cmd = [aws_executable(), "--endpoint-url", self.server.endpoint, *args]
        res = subprocess.run(
            cmd, env=self.env(), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
        if check and res.returncode != 0:
            raise AssertionError(
                f"aws {' '.join(args)} exited {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
            )
        return res


# --------------------------------------------------------------------------
# Hand-made signed requests (botocore's SigV4 signer, our own socket)
# --------------------------------------------------------------------------


def quote_key(key: str) -> str:
    """URI-encode an object key the way AWS SDKs put it in a path."""
    return urllib.parse.quote(key, safe="/~")


def sign_v4(
    method: str,
    host: str,
    target: str,
    headers: dict | None = None,
    body: bytes = b"",
    *,
    access_key: str = DEFAULT_ACCESS_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    payload_hash: str | None = None,
    when: dt.datetime | None = None,
    region: str = REGION,
) -> dict:
    """SigV4 header signing of a request as it will go on the wire.

    `target` is the raw request target (already percent-encoded path, and
    query). `payload_hash` overrides x-amz-content-sha256 (UNSIGNED-PAYLOAD,
    STREAMING-...); `when` overrides the signing time. Returns the headers to
    send (Host included, Content-Length not)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    class Signer(S3SigV4Auth):
        def payload(self, request):
            if payload_hash is not None:
                return payload_hash
            return super().payload(request)

    hdrs = {"Host": host}
    hdrs.update(headers or {})
    req = AWSRequest(method=method, url=f"http://{host}{target}", headers=hdrs, data=body)
    signer = Signer(Credentials(access_key, secret_key), "s3", region)
    if when is not None:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    else:
        signer.add_auth(req)
    return dict(req.headers.items())


def signing_key(secret_key: str, date: str, region: str = REGION, service: str = "s3") -> bytes:
    k = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


class RawResponse:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def xml(self) -> ET.Element:
        """The body parsed, namespaces stripped."""
        return strip_ns(ET.fromstring(self.body))

    @property
    def error_code(self) -> str | None:
        if not self.body:
            return None
        try:
            root = self.xml()
        except ET.ParseError:
            return None
        code = root.find("Code")
        return code.text if code is not None else None

    def __repr__(self) -> str:
        return f"<RawResponse {self.status} {self.reason} {self.body[:600]!r}>"


def http_request(
    server_or_port,
    method: str,
    target: str,
    headers: dict | list | None = None,
    body: bytes | Iterable[bytes] = b"",
    *,
    timeout: float = 120,
) -> RawResponse:
    """One request on a fresh connection, headers sent exactly as given."""
    port = server_or_port.port if isinstance(server_or_port, Server) else int(server_or_port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        for k, v in items:
            conn.putheader(k, v)
        conn.endheaders()
        if isinstance(body, (bytes, bytearray, memoryview)):
            if body:
                conn.send(body)
        else:
            for chunk in body:
                conn.send(chunk)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, resp.reason, resp.getheaders(), data)
    finally:
        conn.close()


def signed_request(
    server: Server,
    method: str,
    target: str,
    headers: dict | None = None,
    body: bytes = b"",
    *,
    content_length: bool = True,
    host: str | None = None,
    **sign_kw,
) -> RawResponse:
    """Sign (SigV4, botocore) and send one request to `server`."""
    sign_kw.setdefault("access_key", server.access_key)
    sign_kw.setdefault("secret_key", server.secret_key)
    signed = sign_v4(method, host or server.address, target, headers, body, **sign_kw)
    if content_length and (body or method in ("PUT", "POST")):
        signed.setdefault("Content-Length", str(len(body)))
    return http_request(server, method, target, signed, body)


def strip_ns(root: ET.Element) -> ET.Element:
    """Drop XML namespaces from every tag, in place, so paths are plain names."""
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return root


def s3_error(resp: RawResponse) -> str:
    return f"HTTP {resp.status} code={resp.error_code} body={resp.body[:400]!r}"


# --------------------------------------------------------------------------
# aws-chunked bodies
# --------------------------------------------------------------------------


def aws_chunked_signed(
    data: bytes,
    chunk_size: int,
    seed_signature: str,
    key: bytes,
    amz_date: str,
    scope: str,
    tamper_chunk: int | None = None,
) -> bytes:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: every chunk signed, chained
    from the seed signature, closed by a signed empty chunk."""
    out = bytearray()
    prev = seed_signature
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for n, chunk in enumerate(chunks):
        sts = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                prev,
                EMPTY_SHA256,
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        sent = chunk
        if tamper_chunk == n and chunk:
            sent = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
        out += f"{len(chunk):x};chunk-signature={sig}\r\n".encode() + sent + b"\r\n"
        prev = sig
    return bytes(out)


def aws_chunked_unsigned_trailer(data: bytes, chunk_size: int, trailer_name: str, trailer_value: str) -> bytes:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER body: plain chunks, then the checksum trailer."""
    out = bytearray()
    for i in range(0, len(data), chunk_size):
        chunk = data[i : i + chunk_size]
        out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    out += b"0\r\n" + f"{trailer_name}:{trailer_value}\r\n".encode() + b"\r\n"
    return bytes(out)


# --------------------------------------------------------------------------
# Checksums (values as S3 carries them: base64 of the big-endian digest)
# --------------------------------------------------------------------------


def checksum_b64(algorithm: str, data: bytes) -> str:
    alg = algorithm.upper()
    if alg == "CRC32":
        raw = zlib.crc32(data).to_bytes(4, "big")
    elif alg == "CRC32C":
        from awscrt import checksums

        raw = checksums.crc32c(data).to_bytes(4, "big")
    elif alg == "CRC64NVME":
        from awscrt import checksums

        raw = checksums.crc64nvme(data).to_bytes(8, "big")
    elif alg == "SHA1":
        raw = hashlib.sha1(data).digest()
    elif alg == "SHA256":
        raw = hashlib.sha256(data).digest()
    else:
        raise ValueError(algorithm)
    return base64.b64encode(raw).decode()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def etag_of(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def multipart_etag(parts: list[bytes]) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Erasure layout arithmetic (the on-disk contract, checked from outside)
# --------------------------------------------------------------------------


def shard_size(block_len: int, data_shards: int) -> int:
    s = -(-block_len // data_shards)
    return s + (s % 2)


def shard_file_size(object_size: int, data_shards: int) -> int:
    """Bytes of one drive's framed shard file: per 1 MiB block, 32-byte hash + shard."""
    total = 0
    left = object_size
    while left > 0:
        block = min(left, BLOCK_SIZE)
        total += BITROT_HASH_LEN + shard_size(block, data_shards)
        left -= block
    return total


# --------------------------------------------------------------------------
# Raw sockets
# --------------------------------------------------------------------------


def raw_exchange(port: int, data: bytes, *, timeout: float = 10.0, shut_write: bool = False) -> bytes:
    """Send bytes on a fresh connection and read until the server closes or
    goes quiet for `timeout` seconds. Returns everything read."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got = bytearray()
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            got += b
        return bytes(got)


_STATUS_RE = re.compile(rb"^HTTP/1\.[01] (\d{3})")


def statuses(raw: bytes) -> list[int]:
    """Status codes of the (final) responses found in a raw byte stream."""
    out = []
    for m in re.finditer(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n", raw):
        code = int(m.group(1))
        if code != 100:
            out.append(code)
    return out


def first_status(raw: bytes) -> int | None:
    st = statuses(raw)
    return st[0] if st else None


def flip(path: Path, offsets: list[int]) -> None:
    """XOR one byte at each offset (modulo the file size) of a file, durably:
    bit rot as a drive would show it."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        for off in offsets:
            off = off % size
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0x5A]))
        f.flush()
        os.fsync(f.fileno())


def read_format(drive: Path) -> dict:
    import json

    return json.loads((Path(drive) / "format.json").read_text())


def unique_bucket(prefix: str = "b") -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def empty_and_delete(s3, name: str) -> None:
    """Best-effort clean-up of a bucket and everything in it."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=name, Key=obj["Key"])
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


def fs_type(path: Path) -> str:
    """File system type name of the mount holding `path` (stat -f)."""
    res = subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True)
    return res.stdout.strip()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def url_get(url: str, timeout: float = 60) -> tuple[int, bytes, dict]:
    """Plain GET of a (presigned) URL with urllib; (status, body, headers)."""
    req = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    except urllib.error.HTTPError as e:
        return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}


def held_back_request(server: "Server", target: str, body: bytes) -> socket.socket:
    """A signed PUT with `body` on its own connection, sent but for its last byte: the server
    has all but one byte and waits, so a test can release several such requests at once."""
    headers = sign_v4("PUT", server.address, target, {}, body, payload_hash="UNSIGNED-PAYLOAD")
    headers["Content-Length"] = str(len(body))
    head = f"PUT {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sock.sendall(head.encode() + body[:-1])
    return sock


def assert_absent(s3, bucket: str, key: str) -> None:
    """HEAD answers 404: nothing was stored under `key`."""
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status == 404, f"HEAD {key}: {status}"
        return
    raise AssertionError(f"{key} was stored")


def assert_nothing_on_disk(server: "Server", bucket: str, key: str) -> None:
    """No drive holds an xl.meta for `key`."""
    for d in server.object_dirs(bucket, key):
        assert not (d / "xl.meta").exists(), f"{d}/xl.meta exists after a refused request"

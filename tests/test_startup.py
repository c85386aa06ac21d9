"""Start-up safety and truthful health: a drive given twice under two paths,
a second process on the same drives or the same port, lost or damaged
format.json, too few formats to trust, and health endpoints that follow the
drives online under a running server."""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import (
    MIB,
    Server,
    read_format,
    sign_v4,
    unique_bucket,
)


def refused(srv: Server, timeout: float = 60) -> str:
    """Start `srv`, expecting it to exit with an error before serving; its output."""
    srv.expect_exit = True
    srv.spawn()
    rc = srv.wait_exit(timeout)
    out = srv.last_run_output()
    assert rc != 0, f"{srv.name} started:\n{out}"
    return out


def health(srv: Server) -> tuple[int | None, int | None, int | None]:
    return srv.health("live"), srv.health("ready"), srv.health("cluster")


# ---- aliased drives -----------------------------------------------------------------------


@pytest.mark.parametrize("alias", ["symlink", "dot"])
def test_aliased_drive_refused(start_server, alias):
    """One directory given twice (a symlink to it, or `d/.`) would hold two slots of a set."""
    workdir = start_server.workdir("drives")
    drives = [workdir / f"d{i}" for i in range(1, 4)]
    for d in drives:
        d.mkdir()
    if alias == "symlink":
        link = workdir / "d4"
        link.symlink_to(drives[1])
        args = [str(d) for d in drives] + [str(link)]
        must_name = [str(drives[1]), str(link)]
    else:
        args = [str(d) for d in drives] + [f"{drives[1]}/."]
        must_name = [str(drives[1])]
    srv = start_server(args, drive_paths=drives, name="aliased", spawn=False)
    out = refused(srv)
    assert "same directory" in out or "more than once" in out, out
    for name in must_name:
        assert name in out, f"the refusal should name {name}:\n{out}"
    for d in drives:
        assert not (d / "format.json").exists(), f"{d} was formatted by a refused start"


# ---- one process per drive, one deployment per port -----------------------------------------


def test_second_process_on_same_drives_refused(start_server):
    """While the first serves a slow upload, a second process on its drives is refused
    and does not touch them: the upload's staged shards survive and it completes."""
    first = start_server(4, name="first")
    s3 = first.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(6 * MIB + 17)
    target = f"/{b}/slow"
    headers = sign_v4(
        "PUT", first.address, target, payload_hash="UNSIGNED-PAYLOAD",
        access_key=first.access_key, secret_key=first.secret_key,
    )
    headers["Content-Length"] = str(len(data))
    conn = http.client.HTTPConnection("127.0.0.1", first.port, timeout=60)
    try:
        conn.putrequest("PUT", target, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        half = 3 * MIB
        conn.send(data[:half])
        deadline = time.monotonic() + 30
        while not first.tmp_leftovers():
            assert time.monotonic() < deadline, "the upload never staged anything in tmp"
            time.sleep(0.02)
        staged = first.tmp_leftovers()

        second = start_server(first.drive_args, drive_paths=first.drive_paths, name="second", spawn=False)
        out = refused(second)
        assert "in use by another minnow process" in out, out
        assert str(first.drive(0)) in out, f"the refusal should name the drive:\n{out}"
        assert f"pid {first.proc.pid}" in out, f"the refusal should name the holder:\n{out}"
        assert all(p.exists() for p in staged), "the second process emptied the first one's tmp"

        conn.send(data[half:])
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()[:500]
    finally:
        conn.close()
    assert s3.get_object(Bucket=b, Key="slow")["Body"].read() == data
    assert first.health("ready") == 200


def test_second_process_on_same_port_refused(start_server):
    """Another deployment on the port would take a share of the connections."""
    first = start_server(4, name="first")
    s3 = first.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=b"first's object")

    second = start_server(4, name="second", port=first.port, spawn=False)
    out = refused(second)
    assert str(first.port) in out and "in use" in out.lower(), out
    assert not (second.drive(0) / "format.json").exists(), "a start refused for its port formatted its drives"
    # Every new connection still reaches the first deployment.
    for _ in range(40):
        assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"first's object"
        first.client().head_bucket(Bucket=b)


# ---- health follows quorum -------------------------------------------------------------------


def test_health_follows_drives_online(start_server):
    """EC 2+2: read quorum 2, write quorum 3. Drives vanish and return under the server."""
    srv = start_server(4, cores=2)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=os.urandom(300 * 1024))
    assert health(srv) == (200, 200, 200)

    away = []

    def take(i: int) -> None:
        p = srv.drive(i)
        p.rename(p.with_name(p.name + ".away"))
        away.append(p)

    take(3)
    assert health(srv) == (200, 200, 200), "3 of 4 still have write quorum"
    take(2)
    assert health(srv) == (200, 200, 503), "2 of 4: reads yes, writes no"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=b, Key="refused", Body=b"x" * 1000)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    take(1)
    assert health(srv) == (200, 503, 503), "1 of 4: neither"
    assert srv.health("ready") == 503  # and it stays so when asked again

    for p in away:
        p.with_name(p.name + ".away").rename(p)
    assert health(srv) == (200, 200, 200), "the drives came back"
    s3.put_object(Bucket=b, Key="after", Body=b"y" * 1000)
    log = srv.stderr_text()
    assert "drive offline" in log and "drive back online" in log, log[-3000:]


# ---- format.json restore and quorum --------------------------------------------------------


def test_lost_and_corrupt_format_restored(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    objects = {"big": os.urandom(3 * MIB + 5), "small": os.urandom(5000)}
    for k, v in objects.items():
        s3.put_object(Bucket=b, Key=k, Body=v)
    srv.stop()
    want = [read_format(p) for p in srv.drive_paths]
    (srv.drive(0) / "format.json").unlink()
    (srv.drive(1) / "format.json").write_bytes(b'{"version":1,"format":"min')

    srv.start()
    log = srv.last_run_output()
    assert log.count("format.json restored") == 2, log
    assert str(srv.drive(0)) in log and str(srv.drive(1)) in log, log
    assert [read_format(p) for p in srv.drive_paths] == want, "restored formats differ"
    assert "OFFLINE" not in srv.stdout_text().split("===== start #2")[-1]
    srv.stop()

    # Only the two restored drives left: the objects read back from them alone.
    for i in (2, 3):
        p = srv.drive(i)
        p.rename(p.with_name(p.name + ".away"))
        p.write_bytes(b"not a drive\n")
    srv.start()
    s3 = srv.client()
    for k, v in objects.items():
        assert s3.get_object(Bucket=b, Key=k)["Body"].read() == v, k


def test_three_of_four_formats_missing_refused(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="k", Body=os.urandom(MIB))
    srv.stop()
    for i in (0, 1, 2):
        (srv.drive(i) / "format.json").unlink()
    out = refused(srv)
    assert "usable format.json" in out and "refusing to start" in out, out
    for i in (0, 1, 2):
        assert str(srv.drive(i)) in out, f"the refusal should name {srv.drive(i)}:\n{out}"
        assert not (srv.drive(i) / "format.json").exists(), "a refused start wrote a format.json"
    assert srv.health() is None

"""`minnow bench`: the bundled load generator, run for a couple of seconds
against a real server, and the drive benchmark on real temp dirs.

These check that the tools work and that their JSON (the interface scripts
such as ci/bench.sh read) is complete and self-consistent: every documented
field present, counts and rates that agree with each other, ordered latency
percentiles, no errors, the bucket cleaned up afterwards. They never check
that anything is fast.
"""

from __future__ import annotations

import json
import math
import subprocess

import pytest
from botocore.exceptions import ClientError

import harness
from harness import MIB, MINNOW_BIN, unique_bucket

OP_KEYS = ("op", "count", "errors", "mib_per_s", "obj_per_s", "latency_ms")
LATENCY_KEYS = ("p50", "p90", "p99", "p999", "max")


def run_bench(server, workdir, op: str, bucket: str, *args: str, duration: str = "2s"):
    """Run `minnow bench <op>` against `server`; (parsed JSON, stderr)."""
    out = workdir / f"{op}-{bucket}.json"
    cmd = [
        str(MINNOW_BIN), "bench", op,
        "--host", server.address,
        "--access-key", server.access_key,
        "--secret-key", server.secret_key,
        "--bucket", bucket,
        "--duration", duration,
        "--json", str(out),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=harness.server_env())
    assert proc.returncode == 0, f"{' '.join(cmd)}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    return json.loads(out.read_text()), proc.stderr


def check_op(report: dict, op: str, *, size: int | None, duration_s: float) -> dict:
    """The one entry of `op` is complete and sane; returns it."""
    entries = [o for o in report["ops"] if o["op"] == op]
    assert len(entries) == 1, report["ops"]
    e = entries[0]
    for key in OP_KEYS:
        assert key in e, f"{op}: missing {key}"
    for key in LATENCY_KEYS:
        assert isinstance(e["latency_ms"][key], (int, float)), f"{op}: latency_ms.{key}"

    assert e["errors"] == 0, e.get("errors_by_code")
    assert e["count"] > 0
    window = report["duration_s"]
    assert duration_s * 0.9 <= window <= duration_s + 60, window
    assert math.isclose(e["obj_per_s"], e["count"] / window, rel_tol=1e-3)
    if size is not None:
        assert e["bytes"] == e["count"] * size
        assert math.isclose(e["mib_per_s"], e["count"] * size / MIB / window, rel_tol=1e-3)

    lat = e["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
    assert lat["max"] < 120_000, lat  # under the request timeout
    # Each stream does one request at a time: it cannot finish more than the window allows.
    concurrent = report["config"]["concurrent"]
    assert e["count"] <= concurrent * (window * 1000 / lat["p50"]) * 2 + concurrent

    gen = report["generator"]
    assert gen["cpu_s"] >= 0 and gen["process_cpu_s"] >= gen["cpu_s"] * 0.5
    assert 0 <= gen["cores_busy"] <= report["config"]["cores"] + 0.5
    return e


def assert_bucket_gone(s3, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=bucket)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_put(server, s3, tmp_path):
    bucket = unique_bucket("bench")
    report, stderr = run_bench(server, tmp_path, "put", bucket, "--obj.size", "1MiB", "--concurrent", "4")
    e = check_op(report, "PUT", size=MIB, duration_s=2)
    assert e["mib_per_s"] > 0
    assert report["generator"]["ns_per_byte"] > 0
    assert report["workload"] == "put" and report["config"]["obj_size_bytes"] == MIB
    # The live progress line (stderr is not a terminal: one line per second).
    assert any(line.startswith("[") and "PUT" in line and "obj/s" in line for line in stderr.splitlines()), stderr
    assert_bucket_gone(s3, bucket)


def test_get(server, s3, tmp_path):
    bucket = unique_bucket("bench")
    report, _ = run_bench(
        server, tmp_path, "get", bucket, "--obj.size", "256KiB", "--objects", "12", "--concurrent", "4"
    )
    check_op(report, "GET", size=256 * 1024, duration_s=2)
    assert report["config"]["objects"] == 12
    assert_bucket_gone(s3, bucket)


@pytest.mark.parametrize("payload", ["signed", "streaming"])
def test_put_signed_payloads(server, s3, tmp_path, payload):
    """Both signed payload modes pass the server's signature checks."""
    bucket = unique_bucket("bench")
    report, _ = run_bench(
        server, tmp_path, "put", bucket,
        "--obj.size", "200KiB", "--concurrent", "2", "--payload", payload,
        duration="1s",
    )
    check_op(report, "PUT", size=200 * 1024, duration_s=1)
    assert report["config"]["payload"] == payload
    assert_bucket_gone(s3, bucket)


def test_noclear_keeps_the_objects(server, s3, tmp_path):
    bucket = unique_bucket("bench")
    report, _ = run_bench(
        server, tmp_path, "put", bucket, "--obj.size", "4KiB", "--concurrent", "2", "--noclear", duration="1s"
    )
    e = check_op(report, "PUT", size=4096, duration_s=1)
    listed = s3.list_objects_v2(Bucket=bucket, MaxKeys=1000)
    assert listed["KeyCount"] == min(e["count"], 1000)
    harness.empty_and_delete(s3, bucket)


def test_drives(start_server, tmp_path):
    """`bench drives` on two directories on a real disk (the server's temp root)."""
    root = start_server.workdir("drives")
    dirs = [root / "a", root / "b"]
    for d in dirs:
        d.mkdir()
    out = tmp_path / "drives.json"
    cmd = [
        str(MINNOW_BIN), "bench", "drives", *map(str, dirs),
        "--size", "16MiB", "--block", "1MiB", "--concurrent", "4", "--duration", "500ms", "--json", str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=harness.server_env())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    for key in ("write_mib_per_s", "read_mib_per_s", "small_commits_per_s"):
        assert report[key] > 0, key
    assert report["errors"] == []
    assert [p["path"] for p in report["per_drive"]] == [str(d) for d in dirs]
    for per_drive in report["per_drive"]:
        for key in ("write_mib_per_s", "read_mib_per_s", "small_commits_per_s"):
            assert per_drive[key] > 0, (per_drive["path"], key)
    # Its scratch space is gone.
    assert all(list(d.iterdir()) == [] for d in dirs)

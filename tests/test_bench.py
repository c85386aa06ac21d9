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


LISTING_KEYS = (
    "kind", "expected_entries", "entries_per_pass", "keys_per_pass", "prefixes_per_pass",
    "pages_per_pass", "pass_s", "entries_per_s", "keys_per_s", "first_page_ms",
    "last_page_ms", "last_to_first_ratio", "warm_pass_s",
)


def run_list(server, workdir, bucket: str, *args: str):
    """`minnow bench list` (it has no --duration: --keys and --passes bound it)."""
    out = workdir / f"list-{bucket}-{len(list(workdir.iterdir()))}.json"
    cmd = [
        str(MINNOW_BIN), "bench", "list",
        "--host", server.address,
        "--access-key", server.access_key,
        "--secret-key", server.secret_key,
        "--bucket", bucket,
        "--json", str(out),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=harness.server_env())
    return proc, (json.loads(out.read_text()) if proc.returncode == 0 else None)


def check_listing(listing: dict, *, kind: str, entries: int, keys: int, prefixes: int, pages: int, passes: int):
    for key in LISTING_KEYS:
        assert key in listing, f"listing: missing {key}"
    assert listing["kind"] == kind
    assert listing["expected_entries"] == entries
    # Every pass listed every entry exactly once (the bench checks names; counts here).
    assert listing["entries_per_pass"] == [entries] * passes
    assert listing["keys_per_pass"] == [keys] * passes
    assert listing["prefixes_per_pass"] == [prefixes] * passes
    assert listing["pages_per_pass"] == [pages] * passes
    assert len(listing["pass_s"]) == passes
    assert listing["entries_per_s"] > 0 and listing["first_page_ms"] > 0 and listing["last_page_ms"] > 0
    assert math.isclose(
        listing["last_to_first_ratio"], listing["last_page_ms"] / listing["first_page_ms"], rel_tol=1e-6
    )


def test_list_flat(server, s3, tmp_path):
    bucket = unique_bucket("benchlist")
    proc, report = run_list(server, tmp_path, bucket, "--keys", "250", "--page", "100", "--passes", "2")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert report["workload"] == "list"
    assert report["config"]["keys"] == 250 and report["config"]["page"] == 100
    assert report["fill"]["uploaded"] == 250 and report["fill"]["reused"] == 0
    put = [o for o in report["ops"] if o["op"] == "PUT"]
    assert len(put) == 1 and put[0]["count"] == 250 and put[0]["errors"] == 0 and put[0]["bytes"] == 0
    [listing] = report["listings"]
    check_listing(listing, kind="flat", entries=250, keys=250, prefixes=0, pages=3, passes=2)
    [pages] = [o for o in report["ops"] if o["op"] == "LIST"]
    for key in OP_KEYS:
        assert key in pages
    # The latency histogram holds exactly the timed pages, and their keys.
    assert pages["count"] == 3 * 2 and pages["errors"] == 0 and pages["items"] == 250 * 2
    lat = pages["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat
    assert math.isclose(report["duration_s"], sum(listing["pass_s"]), rel_tol=1e-3)
    assert_bucket_gone(s3, bucket)


def test_list_folders_and_reuse(server, s3, tmp_path):
    bucket = unique_bucket("benchlist")
    args = ("--keys", "120", "--folders", "40", "--page", "25", "--passes", "2", "--obj.size", "3")
    proc, report = run_list(server, tmp_path, bucket, *args, "--noclear")
    assert proc.returncode == 0, proc.stderr[-4000:]
    flat, folders = report["listings"]
    check_listing(flat, kind="flat", entries=120, keys=120, prefixes=0, pages=5, passes=2)
    check_listing(folders, kind="delimiter", entries=40, keys=0, prefixes=40, pages=2, passes=2)
    assert {o["op"] for o in report["ops"]} == {"PUT", "LIST", "LISTDIR"}
    listed = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == [f"f{i:04d}/" for i in range(40)]
    assert s3.head_object(Bucket=bucket, Key="f0039/k0002")["ContentLength"] == 3

    # Reuse: what is there stays, the missing keys are uploaded again.
    s3.delete_object(Bucket=bucket, Key="f0007/k0001")
    proc, report = run_list(server, tmp_path, bucket, *args, "--reuse")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert report["fill"] == {**report["fill"], "reused": 119, "uploaded": 1}
    check_listing(report["listings"][0], kind="flat", entries=120, keys=120, prefixes=0, pages=5, passes=2)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 120, "--reuse keeps the keys"

    # A key the run does not expect: --reuse refuses (the counts could not be exact).
    s3.put_object(Bucket=bucket, Key="stray", Body=b"")
    proc, report = run_list(server, tmp_path, bucket, *args, "--reuse")
    assert proc.returncode != 0 and "stray" in proc.stderr, proc.stderr
    harness.empty_and_delete(s3, bucket)


def test_list_refuses_bad_options(server, tmp_path):
    for args, why in [
        (("--keys", "0"), "--keys"),
        (("--page", "1001"), "--page"),
        (("--folders", "0"), "--folders"),
        (("--passes", "0"), "--passes"),
    ]:
        proc, _ = run_list(server, tmp_path, unique_bucket("benchlist"), *args)
        assert proc.returncode != 0 and why in proc.stderr, (args, proc.stderr)

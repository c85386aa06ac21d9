"""Start-up and topology: drive counts and erasure sets, formatting, restart,
foreign and swapped drives, credentials, banner, parity defaults and storage
class overrides, the health endpoints, and running inside an 8 MiB memlock."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import (
    MIB,
    DEFAULT_ACCESS_KEY,
    Server,
    read_format,
    sha256_hex,
    shard_file_size,
    unique_bucket,
)

# (drive count, expected sets, expected set size); None = start-up error.
GOLDEN = [
    (18, 2, 9),
    (19, None, None),
    (20, 2, 10),
    (24, 2, 12),
    (27, 3, 9),
    (31, None, None),
    (32, 2, 16),
    (33, 3, 11),
    (35, 5, 7),
    (36, 3, 12),
    (64, 4, 16),
]


def ellipses_drives(workdir: Path, count: int, create: bool = True) -> tuple[list[str], list[Path]]:
    root = workdir / "drives"
    paths = [root / f"d{i}" for i in range(1, count + 1)]
    if create:
        for p in paths:
            p.mkdir(parents=True, exist_ok=True)
    return [f"{root}/d{{1...{count}}}"], paths


BANNER_SETS = re.compile(r"(\d+)\s*sets?(?:\(s\))?\s*(?:of|x|×)\s*(\d+)", re.I)


def banner_sets(srv: Server) -> tuple[int, int]:
    """(sets, set size) as the start-up banner states them."""
    out = srv.stdout_text()
    m = BANNER_SETS.search(out)
    assert m, f"the banner should state the erasure sets ('N sets of M'):\n{out}"
    return int(m.group(1)), int(m.group(2))


def check_formatted(paths: list[Path], sets: int, set_size: int) -> dict:
    """Every drive has a format.json of one deployment whose layout is sets x set_size,
    and every drive's uuid sits in exactly one slot. Returns drive uuid -> set index."""
    formats = [read_format(p) for p in paths]
    deployment = {f["deployment_id"] for f in formats}
    assert len(deployment) == 1, f"drives disagree on the deployment id: {deployment}"
    layout = formats[0]["sets"]
    assert all(f["sets"] == layout for f in formats), "drives disagree on the set layout"
    assert len(layout) == sets, f"expected {sets} sets, format.json has {len(layout)}"
    assert all(len(s) == set_size for s in layout), f"expected sets of {set_size}: {[len(s) for s in layout]}"
    drive_ids = [f["drive_id"] for f in formats]
    assert len(set(drive_ids)) == len(paths), "drive uuids are not unique"
    slots = [u for s in layout for u in s]
    assert sorted(slots) == sorted(drive_ids), "the layout does not hold exactly the drives given"
    return {u: i for i, s in enumerate(layout) for u in s}


@pytest.mark.parametrize("count,sets,set_size", GOLDEN, ids=[f"{g[0]}drives" for g in GOLDEN])
def test_golden_set_sizes(start_server, count, sets, set_size):
    workdir = start_server.workdir(f"golden{count}")
    args, paths = ellipses_drives(workdir, count)
    if sets is None:
        srv = start_server(args, drive_paths=paths, wait=False)
        srv.expect_exit = True
        rc = srv.wait_exit(60)
        out = srv.last_run_output()
        assert rc != 0, f"{count} drives must be refused\n{out}"
        assert str(count) in out, f"the error should name the drive count {count}:\n{out}"
        # ... and say which counts would work (the neighbours are the obvious candidates).
        assert re.search(rf"\b({count - 1}|{count + 1})\b", out), (
            f"the error for {count} drives should say which counts would work:\n{out}"
        )
        assert srv.health() is None, "a refused configuration must not serve"
        assert not any((p / "format.json").exists() for p in paths), "nothing may be formatted"
        return
    srv = start_server(args, drive_paths=paths, timeout=120)
    check_formatted(paths, sets, set_size)
    assert banner_sets(srv) == (sets, set_size)
    # It serves: one object round trip.
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(MIB + 7)
    s3.put_object(Bucket=b, Key="k", Body=data)
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == data


def test_seventeen_drives_refused(start_server):
    workdir = start_server.workdir("seventeen")
    args, paths = ellipses_drives(workdir, 17)
    srv = start_server(args, drive_paths=paths, wait=False)
    srv.expect_exit = True
    assert srv.wait_exit(60) != 0, srv.last_run_output()


def test_ellipses_and_list_forms_agree(start_server):
    """`d{1...6}` and the six paths spelled out give the same layout."""
    workdir = start_server.workdir("ellipses6")
    args, paths = ellipses_drives(workdir, 6)
    srv = start_server(args, drive_paths=paths)
    check_formatted(paths, 1, 6)
    srv.stop()
    listed = start_server([str(p) for p in paths], drive_paths=paths)
    check_formatted(paths, 1, 6)
    assert listed.health() == 200


def test_creates_missing_drive_dirs(start_server):
    """README's first command hands minnow four directories that do not exist yet."""
    workdir = start_server.workdir("missing")
    args, paths = ellipses_drives(workdir, 4, create=False)
    start_server(args, drive_paths=paths)
    check_formatted(paths, 1, 4)


def test_set_drive_count_override(start_server):
    srv = start_server(8, env={"MINNOW_ERASURE_SET_DRIVE_COUNT": "4"})
    owner = check_formatted(srv.drive_paths, 2, 4)
    drive_set = [owner[read_format(p)["drive_id"]] for p in srv.drive_paths]
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    objects = {f"obj-{i:02d}": os.urandom(300 * 1024 + i) for i in range(24)}
    for k, v in objects.items():
        s3.put_object(Bucket=b, Key=k, Body=v)
    used_sets = set()
    for k in objects:
        holders = {drive_set[i] for i, d in enumerate(srv.object_dirs(b, k)) if (d / "xl.meta").exists()}
        assert len(holders) == 1, f"{k} is spread over sets {holders}: an object lives in one set"
        on = [i for i, d in enumerate(srv.object_dirs(b, k)) if (d / "xl.meta").exists()]
        assert len(on) == 4, f"{k} should have xl.meta on the 4 drives of its set, has {on}"
        used_sets |= holders
    assert used_sets == {0, 1}, "24 keys all landed in one set: SipHash placement is not spreading"
    for k, v in objects.items():
        assert s3.get_object(Bucket=b, Key=k)["Body"].read() == v
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
    assert listed == sorted(objects), "a listing must merge both sets in key order"


def test_set_drive_count_override_must_divide(start_server):
    srv = start_server(8, env={"MINNOW_ERASURE_SET_DRIVE_COUNT": "3"}, wait=False)
    srv.expect_exit = True
    assert srv.wait_exit(60) != 0, "a set size that does not divide the drive count must be refused"
    assert not (srv.drive(0) / "format.json").exists()


# ---- parity defaults and storage classes -----------------------------------

# set size -> default STANDARD parity (ARCHITECTURE.md section 3)
DEFAULT_PARITY = {1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 4, 16: 4}


def shard_layout(srv: Server, bucket: str, key: str, size: int) -> tuple[int, int]:
    """(drives holding a shard file, data shards implied by the shard file size)."""
    files = srv.data_files(bucket, key)
    holders = [i for i, f in files.items() if f]
    sizes = {f[0].stat().st_size for f in files.values() if f}
    assert len(sizes) == 1, f"shard files differ in size across drives: {sizes}"
    got = sizes.pop()
    for data in range(1, 17):
        if shard_file_size(size, data) == got:
            return len(holders), data
    raise AssertionError(f"shard file of {got} bytes matches no data-shard count for a {size}-byte object")


@pytest.mark.parametrize("count", sorted(DEFAULT_PARITY))
def test_default_parity(start_server, count):
    srv = start_server(count)
    check_formatted(srv.drive_paths, 1, count)
    for p in srv.drive_paths:
        for sub in ("tmp", "trash", "multipart", "buckets"):
            assert (p / ".minnow.sys" / sub).is_dir(), f"{p}/.minnow.sys/{sub} missing"
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    size = 3 * MIB + 5
    data = os.urandom(size)
    s3.put_object(Bucket=b, Key="obj", Body=data)
    holders, data_shards = shard_layout(srv, b, "obj", size)
    assert holders == count, f"every drive of the set holds a shard: {holders} of {count}"
    assert data_shards == count - DEFAULT_PARITY[count], (
        f"{count} drives: expected EC:{DEFAULT_PARITY[count]}, shard size says {count - data_shards}"
    )
    assert s3.get_object(Bucket=b, Key="obj")["Body"].read() == data


def test_storage_class_standard_env(start_server):
    srv = start_server(4, env={"MINNOW_STORAGE_CLASS_STANDARD": "EC:1"})
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(2 * MIB)
    s3.put_object(Bucket=b, Key="std", Body=data)
    assert shard_layout(srv, b, "std", len(data)) == (4, 3)
    assert s3.get_object(Bucket=b, Key="std")["Body"].read() == data


def test_storage_class_rrs_env(start_server):
    srv = start_server(6, env={"MINNOW_STORAGE_CLASS_RRS": "EC:2"})
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(2 * MIB + 1)
    s3.put_object(Bucket=b, Key="std", Body=data)
    s3.put_object(Bucket=b, Key="rrs", Body=data, StorageClass="REDUCED_REDUNDANCY")
    assert shard_layout(srv, b, "std", len(data)) == (6, 3)
    assert shard_layout(srv, b, "rrs", len(data)) == (6, 4)
    assert s3.head_object(Bucket=b, Key="rrs").get("StorageClass") == "REDUCED_REDUNDANCY"
    assert s3.get_object(Bucket=b, Key="rrs")["Body"].read() == data


# ---- formatting, restart, foreign and swapped drives -----------------------


def test_restart_keeps_format_and_data(start_server):
    srv = start_server(4)
    formats = {p: (p / "format.json").read_bytes() for p in srv.drive_paths}
    first = read_format(srv.drive(0))
    assert first["format"] == "minnow" and first["version"] == 1
    assert first["distribution_algo"] == "SIPMOD+PARITY"
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    objects = {"small": os.urandom(4096), "large": os.urandom(5 * MIB + 3), "empty": b""}
    for k, v in objects.items():
        s3.put_object(Bucket=b, Key=k, Body=v)
    srv.restart()
    for p in srv.drive_paths:
        assert (p / "format.json").read_bytes() == formats[p], f"restart rewrote {p}/format.json"
    s3 = srv.client()
    assert b in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    for k, v in objects.items():
        assert s3.get_object(Bucket=b, Key=k)["Body"].read() == v


def _refusal(srv: Server, culprits: list[Path]) -> str:
    srv.expect_exit = True
    srv.spawn()
    rc = srv.wait_exit(60)
    out = srv.last_run_output()
    assert rc != 0, f"minnow started with a foreign/swapped drive:\n{out}"
    assert any(str(c) in out or c.name in out for c in culprits), (
        f"the error should name the offending drive ({', '.join(map(str, culprits))}):\n{out}"
    )
    return out


def test_foreign_drive_refused(start_server):
    a = start_server(4, name="deploymentA")
    b = start_server(4, name="deploymentB")
    a.stop()
    b.stop()
    assert read_format(a.drive(1))["deployment_id"] != read_format(b.drive(1))["deployment_id"]
    shutil.rmtree(a.drive(1))
    shutil.copytree(b.drive(1), a.drive(1))
    _refusal(a, [a.drive(1)])
    # The refusal did not touch the three drives that belong.
    assert read_format(a.drive(0))["deployment_id"] == read_format(a.drive(2))["deployment_id"]


def test_foreign_format_json_refused(start_server):
    """Only format.json replaced (deployment id of another deployment)."""
    a = start_server(4, name="deploymentA")
    b = start_server(4, name="deploymentB")
    a.stop()
    b.stop()
    shutil.copy(b.drive(3) / "format.json", a.drive(3) / "format.json")
    _refusal(a, [a.drive(3)])


def test_swapped_drives_refused(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(MIB)
    s3.put_object(Bucket=b, Key="k", Body=data)
    srv.stop()
    d0, d1 = srv.drive(0), srv.drive(1)
    tmp = d0.with_name("swap-tmp")
    d0.rename(tmp)
    d1.rename(d0)
    tmp.rename(d1)
    _refusal(srv, [d0, d1])
    # Swap back: it starts again and the data is intact.
    d0.rename(tmp)
    d1.rename(d0)
    tmp.rename(d1)
    srv.start()
    assert srv.client().get_object(Bucket=b, Key="k")["Body"].read() == data


# ---- credentials, banner, health -------------------------------------------


def test_credentials_from_env(start_server):
    srv = start_server(
        4,
        env={"MINNOW_ROOT_USER": "alice-admin", "MINNOW_ROOT_PASSWORD": "alice-secret-123"},
        access_key="alice-admin",
        secret_key="alice-secret-123",
    )
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    with pytest.raises(ClientError) as e:
        srv.client(DEFAULT_ACCESS_KEY, "minnowadmin").list_buckets()
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_minio_credential_aliases(start_server):
    srv = start_server(
        4,
        env={"MINIO_ROOT_USER": "bob-admin", "MINIO_ROOT_PASSWORD": "bob-secret-4567"},
        access_key="bob-admin",
        secret_key="bob-secret-4567",
    )
    s3 = srv.client()
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as e:
        srv.client("bob-admin", "wrong-secret-000").list_buckets()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_default_credentials_warn_and_banner(start_server):
    srv = start_server(4)
    assert srv.client().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    out = srv.stdout_text()
    both = out + srv.stderr_text()
    assert srv.address in out, f"banner should print the endpoint {srv.address}:\n{out}"
    assert "--endpoint-url" in out and "aws " in out, f"banner should print an aws command line:\n{out}"
    assert re.search(r"parity", out, re.I), f"banner should print the parity:\n{out}"
    assert banner_sets(srv) == (1, 4)
    assert str(srv.drive(0)) in out or "4" in out, f"banner should print the drives:\n{out}"
    assert "minnowadmin" in both, "the default credentials should be shown"
    assert re.search(r"warn|default", both, re.I), "using the default credentials should warn"


def test_health_endpoints_unauthenticated(start_server):
    srv = start_server(4)
    for which in ("live", "ready", "cluster"):
        assert srv.health(which) == 200, f"/minio/health/{which}"


def test_one_core(start_server):
    srv = start_server(4, cores=1)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(3 * MIB)
    s3.put_object(Bucket=b, Key="k", Body=data)
    assert sha256_hex(s3.get_object(Bucket=b, Key="k")["Body"].read()) == sha256_hex(data)


@pytest.mark.slow
def test_runs_within_8mib_memlock(start_server):
    """Without CAP_IPC_LOCK (root would ignore the limit) and with RLIMIT_MEMLOCK
    at 8 MiB, the server still starts and moves a 64 MiB object (4 MiB buffers)."""
    if not shutil.which("setpriv") or not shutil.which("prlimit"):
        pytest.skip("setpriv/prlimit (util-linux) not installed")
    limit = str(8 * MIB)
    wrap = ["prlimit", f"--memlock={limit}:{limit}", "--"]
    if os.geteuid() == 0:
        wrap += ["setpriv", "--bounding-set", "-ipc_lock", "--inh-caps", "-ipc_lock", "--"]
    srv = start_server(4, wrap=wrap)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    data = os.urandom(64 * MIB)
    s3.put_object(Bucket=b, Key="big", Body=data)
    assert sha256_hex(s3.get_object(Bucket=b, Key="big")["Body"].read()) == sha256_hex(data)
    status = Path(f"/proc/{srv.proc.pid}/status").read_text() if srv.proc else ""
    m = re.search(r"CapEff:\s*([0-9a-f]+)", status)
    if os.geteuid() == 0 and m:
        assert not int(m.group(1), 16) & (1 << 14), "CAP_IPC_LOCK should be dropped for this test"

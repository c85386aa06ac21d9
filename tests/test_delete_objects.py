"""DeleteObjects at its limit: 1,000 keys spread over two erasure sets owned by two
cores, so each set's share crosses cores in one request and is deleted there
concurrently. Every key must be gone, and the answer must name each key exactly
once, in the request's order, with per-key errors and Quiet mode honoured."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import unique_bucket

KEYS = 1000


@pytest.fixture
def two_set_server(start_server):
    """8 drives as 2 sets of 4, on 2 cores: set s is owned by core s."""
    return start_server(8, cores=2, env={"MINNOW_ERASURE_SET_DRIVE_COUNT": "4"})


def holding_sets(srv, bucket: str, key: str) -> set[int]:
    """Sets (0 = drives 0..3, 1 = drives 4..7) with the key's xl.meta."""
    return {i // 4 for i, d in enumerate(srv.object_dirs(bucket, key)) if (d / "xl.meta").exists()}


def put_empty(s3, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))


def test_thousand_keys_across_sets(two_set_server):
    srv = two_set_server
    s3 = srv.client()
    bucket = unique_bucket("multidel")
    s3.create_bucket(Bucket=bucket)
    # Nested and flat names, in an order that is not sorted: the answer follows the request.
    keys = [f"d{i % 7}/k{(i * 7919) % KEYS:04d}" for i in range(KEYS)]
    assert len(set(keys)) == KEYS
    put_empty(s3, bucket, keys)
    sets = [holding_sets(srv, bucket, k) for k in keys]
    assert all(len(s) == 1 for s in sets)
    assert {next(iter(s)) for s in sets} == {0, 1}, "keys must span both sets (and cores)"

    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})

    assert "Errors" not in resp, resp.get("Errors")
    assert [d["Key"] for d in resp["Deleted"]] == keys, "each key once, in request order"
    assert all("DeleteMarker" not in d for d in resp["Deleted"])
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    left = [k for k in keys if holding_sets(srv, bucket, k)]
    assert left == [], f"{len(left)} keys still on a drive, first {left[:3]}"
    s3.delete_bucket(Bucket=bucket)


def test_per_key_errors_in_order_and_quiet(two_set_server):
    srv = two_set_server
    s3 = srv.client()
    bucket = unique_bucket("multidel")
    s3.create_bucket(Bucket=bucket)
    keys = [f"q{i:03d}" for i in range(200)]
    put_empty(s3, bucket, keys)
    bad = "a/../b"  # a key S3 refuses per object, not for the whole request
    asked = keys[:100] + [bad] + keys[100:] + ["never-written"]

    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in asked]})

    assert [d["Key"] for d in resp["Deleted"]] == keys + ["never-written"]
    assert [(e["Key"], e["Code"]) for e in resp["Errors"]] == [(bad, "InvalidObjectName")]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    # Quiet: only the failures are listed.
    put_empty(s3, bucket, keys)
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in [bad] + keys], "Quiet": True}
    )
    assert "Deleted" not in resp
    assert [(e["Key"], e["Code"]) for e in resp["Errors"]] == [(bad, "InvalidObjectName")]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.delete_bucket(Bucket=bucket)

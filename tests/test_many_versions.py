"""One key with 10,000 versions, the most minnow keeps (`MAX_VERSIONS`; S3 has
no limit, MinIO has this one and its error): every version readable by id,
ListObjectVersions pages through all of them newest first exactly once,
single versions can be deleted anywhere in the history, and a PUT beyond the
limit is refused with 400 MaxVersionsExceeded until a version is deleted."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from harness import unique_bucket
from versions import delete_every_version, enable_versioning, err, list_all_versions

# Filling the key rewrites an xl.meta that grows to 10,000 versions (~4.6 MB per
# drive; each commit rewrites it on every drive): the fill took 12.5 min on the
# 2-core reference machine, so the test whose setup does it gets 30 min, bounded.
pytestmark = pytest.mark.timeout(1800)

MAX_VERSIONS = 10_000
THREADS = 16
KEY = "many"


def body_of(n: int) -> bytes:
    return f"version {n:05d}".encode()


@pytest.fixture(scope="module")
def full_key(server, s3):
    """A versioned bucket whose KEY holds MAX_VERSIONS versions: (bucket, writes),
    writes[t] = [(version id, body), ...] in the order thread t wrote them, and
    the last write (made alone, after every thread finished) in writes[-1]."""
    name = unique_bucket("many")
    s3.create_bucket(Bucket=name)
    enable_versioning(s3, name)
    started = time.monotonic()
    writes: list[list[tuple[str, bytes]]] = [[] for _ in range(THREADS)]
    clients = [server.client() for _ in range(THREADS)]
    failures = []
    lock = threading.Lock()

    def writer(t: int) -> None:
        client = clients[t]
        for n in range(t, MAX_VERSIONS - 1, THREADS):
            body = body_of(n)
            try:
                vid = client.put_object(Bucket=name, Key=KEY, Body=body)["VersionId"]
            except ClientError as e:
                with lock:
                    failures.append((n, err_of(e)))
                return
            writes[t].append((vid, body))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(writer, range(THREADS)))
    assert not failures, f"PUTs refused while filling: {failures[:5]}"
    last = body_of(MAX_VERSIONS - 1)
    writes.append([(s3.put_object(Bucket=name, Key=KEY, Body=last)["VersionId"], last)])
    print(f"\n{MAX_VERSIONS} versions written in {time.monotonic() - started:.1f}s")
    yield name, writes
    if server.is_running() and server.health(timeout=5) == 200:
        try:
            delete_every_version(server, name)
            s3.delete_bucket(Bucket=name)
        except (AssertionError, ClientError):
            pass


def err_of(e: ClientError) -> tuple[int, str]:
    r = e.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def check_listing_order(entries, writes, gone=frozenset()) -> None:
    """Every version written (but those in `gone`) exactly once, newest first: the
    last write on top, and each thread's writes in the reverse of its order."""
    ids = [e.version_id for e in entries]
    written = [vid for thread in writes for vid, _ in thread if vid not in gone]
    assert len(ids) == len(set(ids)), "a version is listed twice"
    assert set(ids) == set(written), f"{len(set(written) - set(ids))} missing, {len(set(ids) - set(written))} unknown"
    assert all(e.key == KEY and e.kind == "Version" for e in entries)
    assert [e.is_latest for e in entries] == [True] + [False] * (len(entries) - 1)
    position = {vid: i for i, vid in enumerate(ids)}
    for thread in writes:
        order = [position[vid] for vid, _ in thread if vid not in gone]
        assert order == sorted(order, reverse=True), "a thread's later version is listed after its earlier one"


def test_all_versions_readable(s3, full_key):
    bucket, writes = full_key
    all_ids = [vid for thread in writes for vid, _ in thread]
    assert len(all_ids) == MAX_VERSIONS and len(set(all_ids)) == MAX_VERSIONS
    got = s3.get_object(Bucket=bucket, Key=KEY)
    assert (got["Body"].read(), got["VersionId"]) == (writes[-1][0][1], writes[-1][0][0])
    samples = writes[0][:3] + writes[THREADS // 2][len(writes[THREADS // 2]) // 2 : len(writes[THREADS // 2]) // 2 + 3] + writes[THREADS - 1][-3:]
    for vid, body in samples:
        got = s3.get_object(Bucket=bucket, Key=KEY, VersionId=vid)
        assert (got["Body"].read(), got["VersionId"]) == (body, vid)
        assert s3.head_object(Bucket=bucket, Key=KEY, VersionId=vid)["ContentLength"] == len(body)


def test_list_all_versions_in_pages(server, s3, full_key):
    bucket, writes = full_key
    started = time.monotonic()
    entries, _, pages = list_all_versions(server, bucket, max_keys=1000)
    print(f"\nlisted {len(entries)} versions in {pages} pages, {time.monotonic() - started:.1f}s")
    assert pages == MAX_VERSIONS // 1000
    check_listing_order(entries, writes)
    # boto3's paginator agrees.
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1000}):
        seen += [v["VersionId"] for v in page.get("Versions", [])]
        stamps = [v["LastModified"] for v in page.get("Versions", [])]
        assert stamps == sorted(stamps, reverse=True)
    assert seen == [e.version_id for e in entries]
    # ListObjects shows the key once.
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [KEY]


def test_delete_versions_and_the_limit(server, s3, full_key):
    bucket, writes = full_key
    entries, _, _ = list_all_versions(server, bucket, max_keys=1000)
    newest, middle, oldest = entries[0].version_id, entries[len(entries) // 2].version_id, entries[-1].version_id
    bodies = {vid: body for thread in writes for vid, body in thread}

    # Full: one more version is refused, and nothing changes.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=KEY, Body=b"one too many")
    assert err(e) == (400, "MaxVersionsExceeded")
    # A delete marker is a version too.
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=bucket, Key=KEY)
    assert err(e) == (400, "MaxVersionsExceeded")
    assert s3.get_object(Bucket=bucket, Key=KEY)["VersionId"] == newest

    gone = set()
    for vid in (oldest, middle, newest):
        resp = s3.delete_object(Bucket=bucket, Key=KEY, VersionId=vid)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
        gone.add(vid)
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket=bucket, Key=KEY, VersionId=vid)
        assert err(e) == (404, "NoSuchVersion")
    left, _, _ = list_all_versions(server, bucket, max_keys=1000)
    assert len(left) == MAX_VERSIONS - 3
    check_listing_order(left, writes, frozenset(gone))
    # The newest deleted: the one before it is the latest now.
    assert left[0].version_id == entries[1].version_id
    got = s3.get_object(Bucket=bucket, Key=KEY)
    assert (got["VersionId"], got["Body"].read()) == (entries[1].version_id, bodies[entries[1].version_id])

    # Three deleted, three fit again; the fourth does not.
    added = [s3.put_object(Bucket=bucket, Key=KEY, Body=f"refill {i}".encode())["VersionId"] for i in range(3)]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=KEY, Body=b"one too many")
    assert err(e) == (400, "MaxVersionsExceeded")
    # Deleting one version makes room for exactly one more.
    s3.delete_object(Bucket=bucket, Key=KEY, VersionId=entries[2].version_id)
    extra = s3.put_object(Bucket=bucket, Key=KEY, Body=b"fits again")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=KEY, Body=b"one too many")
    assert err(e) == (400, "MaxVersionsExceeded")
    final, _, _ = list_all_versions(server, bucket, max_keys=1000)
    assert len(final) == MAX_VERSIONS
    assert [e.version_id for e in final[:4]] == [extra] + added[::-1]
    assert s3.get_object(Bucket=bucket, Key=KEY)["Body"].read() == b"fits again"
    # Other keys are not affected by this one being full.
    assert s3.put_object(Bucket=bucket, Key=KEY + "-other", Body=b"x")["VersionId"]

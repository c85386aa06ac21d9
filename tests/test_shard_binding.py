"""Shard frames are bound to their place (4 drives, EC 2+2).

A shard block's bitrot hash covers its bytes *and* where it belongs: the
object version, the shard index, the part and the block index. A shard file
moved or swapped to another drive's slot, copied in from another object, or
with its blocks reordered fails verification there and is rebuilt from
parity: GET returns the right bytes (or an error), never wrong bytes, and
the log names the misplaced shard. Objects written before binding (a
fixture from the old build) stay readable."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import KIB, MIB, unique_bucket

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
from make_legacy_drives import BUCKET as LEGACY_BUCKET  # noqa: E402
from make_legacy_drives import MULTIPART, PENDING, SIZES, legacy_body  # noqa: E402

# The fixture holds an upload begun when it was made: the sweep must not expire it.
KEEP_OLD_UPLOADS = {"MINNOW_API_STALE_UPLOADS_EXPIRY": "87600h"}

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "legacy-drives.tar.gz"
FRAME = 32 + 512 * KIB  # one full block's frame in a 2+2 shard file


def put(srv, size: int, key: str = "obj"):
    s3 = srv.client()
    bucket = unique_bucket()
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    return s3, bucket, data


def part_files(srv, bucket: str, key: str) -> list[Path]:
    files = [f[0] for f in srv.data_files(bucket, key).values()]
    assert len(files) == 4, files
    return files


def get(s3, bucket: str, key: str = "obj") -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_swapped_shard_files_are_rebuilt_and_named(start_server):
    srv = start_server(4)
    s3, b, data = put(srv, 3 * MIB + 5)
    files = part_files(srv, b, "obj")
    saved = [f.read_bytes() for f in files]
    # Every pair: with two data shards among four, some swaps put a data shard
    # where the other data shard (or a parity shard) belongs.
    for i, j in itertools.combinations(range(4), 2):
        files[i].write_bytes(saved[j])
        files[j].write_bytes(saved[i])
        try:
            assert get(s3, b) == data, f"shard files of drives {i} and {j} swapped: wrong bytes"
        finally:
            files[i].write_bytes(saved[i])
            files[j].write_bytes(saved[j])
    # One line per misplaced shard file: which file, where it belongs.
    named = re.findall(r'corrupt file "obj/[0-9a-f-]{36}/part\.1": misplaced shard: block 0 belongs to shard (\d), this drive\'s xl.meta says shard (\d)', srv.stderr_text())
    assert named and all(a != b for a, b in named), srv.log_tail()


def test_shard_copied_over_another_slot(start_server):
    srv = start_server(4)
    s3, b, data = put(srv, 2 * MIB)
    files = part_files(srv, b, "obj")
    saved = [f.read_bytes() for f in files]
    for src, dst in itertools.permutations(range(4), 2):
        files[dst].write_bytes(saved[src])
        try:
            assert get(s3, b) == data, f"drive {src}'s shard copied over drive {dst}'s: wrong bytes"
        finally:
            files[dst].write_bytes(saved[dst])


def test_shard_from_another_object(start_server):
    # Same size, same shard index (same key on the same drive, rewritten): only
    # the data directory tells the versions apart.
    srv = start_server(4)
    s3, b, old = put(srv, 2 * MIB)
    old_files = [f.read_bytes() for f in part_files(srv, b, "obj")]
    new = os.urandom(2 * MIB)
    s3.put_object(Bucket=b, Key="obj", Body=new)
    files = part_files(srv, b, "obj")
    for i in range(4):
        saved = files[i].read_bytes()
        files[i].write_bytes(old_files[i])
        try:
            assert get(s3, b) == new, f"drive {i} holds the previous version's shard: wrong bytes"
        finally:
            files[i].write_bytes(saved)


def test_reordered_blocks(start_server):
    srv = start_server(4)
    s3, b, data = put(srv, 3 * MIB)
    files = part_files(srv, b, "obj")
    for f in files:
        saved = f.read_bytes()
        assert len(saved) == 3 * FRAME
        f.write_bytes(saved[FRAME : 2 * FRAME] + saved[:FRAME] + saved[2 * FRAME :])
        try:
            assert get(s3, b) == data, f"blocks 0 and 1 of {f} swapped: wrong bytes"
            got = s3.get_object(Bucket=b, Key="obj", Range=f"bytes={MIB}-{MIB + 99}")["Body"].read()
            assert got == data[MIB : MIB + 100]
        finally:
            f.write_bytes(saved)


def test_swapped_inline_xl_meta_reads_right(start_server):
    # An inline object's xl.meta holds the shard and its index together: swapping
    # whole files between drives moves both, so the reader still puts every shard
    # in its place (the old build did too; this pins it).
    srv = start_server(4)
    s3, b, data = put(srv, 40 * KIB)
    metas = [d / "xl.meta" for d in srv.object_dirs(b, "obj")]
    raw = [m.read_bytes() for m in metas]
    for i, j in itertools.combinations(range(4), 2):
        metas[i].write_bytes(raw[j])
        metas[j].write_bytes(raw[i])
        try:
            assert get(s3, b) == data, f"xl.meta of drives {i} and {j} swapped"
        finally:
            metas[i].write_bytes(raw[i])
            metas[j].write_bytes(raw[j])


def test_internal_binding_never_reaches_clients(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    for key, size in [("inline", 10), ("big", MIB + 1)]:
        s3.put_object(Bucket=b, Key=key, Body=os.urandom(size), Metadata={"a": "1"})
        for head in (s3.head_object(Bucket=b, Key=key), s3.get_object(Bucket=b, Key=key)):
            headers = head["ResponseMetadata"]["HTTPHeaders"]
            assert not [h for h in headers if "minnow" in h], headers
            assert head["Metadata"] == {"a": "1"}
        # A copy gets a binding of its own, not the source's.
        s3.copy_object(Bucket=b, Key=key + "-copy", CopySource={"Bucket": b, "Key": key})
        assert get(s3, b, key + "-copy") == get(s3, b, key)


@pytest.fixture
def legacy_server(start_server):
    """A server on drives written by the build before binding."""
    workdir = start_server.workdir("legacy")
    subprocess.run(["tar", "-xzf", str(FIXTURE), "-C", str(workdir)], check=True)
    drives = [workdir / f"d{i}" for i in range(1, 5)]
    # The fixture's pending upload is older than the stale-upload expiry by now.
    return start_server([str(d) for d in drives], drive_paths=drives, env=KEEP_OLD_UPLOADS)


def test_objects_written_before_binding_stay_readable(legacy_server):
    srv = legacy_server
    s3 = srv.client()
    expected = {key: legacy_body(key, size) for key, size in SIZES.items()}
    key, sizes = MULTIPART
    expected[key] = legacy_body(key, sum(sizes))
    for key, data in expected.items():
        assert get(s3, LEGACY_BUCKET, key) == data, key
        got = s3.get_object(Bucket=LEGACY_BUCKET, Key=key, Range="bytes=1000-2999")["Body"].read()
        assert got == data[1000:3000], key
    # Unbound frames are still verified: a corrupt one is rebuilt from parity.
    files = part_files(srv, LEGACY_BUCKET, "single")
    for f in files[:2]:
        raw = bytearray(f.read_bytes())
        raw[32 + 100] ^= 0xFF
        f.write_bytes(bytes(raw))
    assert get(s3, LEGACY_BUCKET, "single") == expected["single"]


def test_upload_begun_before_binding_completes_readable(legacy_server):
    # Part 1 was written by the old build (unbound frames): part 2, written
    # now, must be hashed the same way, and the whole object read back.
    srv = legacy_server
    s3 = srv.client()
    key, size = PENDING
    uploads = s3.list_multipart_uploads(Bucket=LEGACY_BUCKET)["Uploads"]
    upload = next(u["UploadId"] for u in uploads if u["Key"] == key)
    part1 = legacy_body(key, size)
    part2 = os.urandom(MIB + 3)
    listed = s3.list_parts(Bucket=LEGACY_BUCKET, Key=key, UploadId=upload)["Parts"]
    etag2 = s3.upload_part(Bucket=LEGACY_BUCKET, Key=key, UploadId=upload, PartNumber=2, Body=part2)["ETag"]
    parts = [{"PartNumber": 1, "ETag": listed[0]["ETag"]}, {"PartNumber": 2, "ETag": etag2}]
    s3.complete_multipart_upload(Bucket=LEGACY_BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    assert get(s3, LEGACY_BUCKET, key) == part1 + part2


def test_new_multipart_objects_are_bound(start_server):
    srv = start_server(4)
    s3 = srv.client()
    b = unique_bucket()
    s3.create_bucket(Bucket=b)
    parts = [os.urandom(5 * MIB), os.urandom(MIB + 1)]
    upload = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    done = []
    for n, body in enumerate(parts, 1):
        etag = s3.upload_part(Bucket=b, Key="mp", UploadId=upload, PartNumber=n, Body=body)["ETag"]
        done.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=upload, MultipartUpload={"Parts": done})
    data = b"".join(parts)
    assert get(s3, b, "mp") == data
    # part.1 of one drive over another drive's part.1: rebuilt, not decoded wrong.
    per_drive = [sorted(f) for f in srv.data_files(b, "mp").values()]
    p1 = [files[0] for files in per_drive]
    saved = [f.read_bytes() for f in p1]
    for src, dst in itertools.permutations(range(4), 2):
        p1[dst].write_bytes(saved[src])
        try:
            assert get(s3, b, "mp") == data, f"part.1 of drive {src} over drive {dst}'s"
        finally:
            p1[dst].write_bytes(saved[dst])

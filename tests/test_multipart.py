"""Multipart uploads: create/upload/complete and the md5-of-md5s-N ETag,
EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload, abort, ListParts,
ListMultipartUploads, part checksums, concurrent uploads of one part number,
and `aws s3 cp` of 100 MiB both ways."""

from __future__ import annotations

import hashlib
import os
import socket
import threading

import pytest
from botocore.exceptions import ClientError

from harness import KIB, MIB, etag_of, held_back_request, multipart_etag, sha256_hex


def err(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def upload_parts(s3, bucket, key, parts: list[bytes], **create_kw):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create_kw)
    uid = up["UploadId"]
    assert up["Bucket"] == bucket and up["Key"] == key and uid
    done = []
    for n, data in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n, Body=data)
        assert r["ETag"] == etag_of(data)
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    return uid, done


def test_complete_and_etag(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB + 123), os.urandom(1)]
    uid, done = upload_parts(s3, bucket, "mp/obj", parts, ContentType="video/mp4", Metadata={"m": "v"})
    res = s3.complete_multipart_upload(Bucket=bucket, Key="mp/obj", UploadId=uid, MultipartUpload={"Parts": done})
    assert res["ETag"] == multipart_etag(parts)
    assert res["Key"] == "mp/obj" and res["Bucket"] == bucket
    whole = b"".join(parts)
    head = s3.head_object(Bucket=bucket, Key="mp/obj")
    assert head["ContentLength"] == len(whole)
    assert head["ETag"] == multipart_etag(parts)
    assert head["ContentType"] == "video/mp4"
    assert head["Metadata"] == {"m": "v"}
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="mp/obj")["Body"].read()) == sha256_hex(whole)
    # Ranges across the part boundaries.
    b = 5 * MIB
    got = s3.get_object(Bucket=bucket, Key="mp/obj", Range=f"bytes={b - 100}-{b + 100}")["Body"].read()
    assert got == whole[b - 100 : b + 101]
    got = s3.get_object(Bucket=bucket, Key="mp/obj", Range="bytes=-2")["Body"].read()
    assert got == whole[-2:]
    # Listed with its multipart ETag; no upload left behind.
    obj = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert obj["ETag"] == multipart_etag(parts) and obj["Size"] == len(whole)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_part_files_on_disk(server, s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(2 * MIB)]
    uid, done = upload_parts(s3, bucket, "ondisk", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="ondisk", UploadId=uid, MultipartUpload={"Parts": done})
    for i, files in server.data_files(bucket, "ondisk").items():
        assert [f.name for f in files] == ["part.1", "part.2"], f"drive {i}: {files}"


def test_single_small_part(s3, bucket):
    parts = [os.urandom(100)]
    uid, done = upload_parts(s3, bucket, "one", parts)
    res = s3.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=uid, MultipartUpload={"Parts": done})
    assert res["ETag"] == multipart_etag(parts)
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == parts[0]


def test_entity_too_small(s3, bucket):
    parts = [os.urandom(MIB), os.urandom(MIB)]
    uid, done = upload_parts(s3, bucket, "small", parts)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid, MultipartUpload={"Parts": done})
    assert err(e) == (400, "EntityTooSmall")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="small")
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=uid)


def test_invalid_part_etag(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(10)]
    uid, done = upload_parts(s3, bucket, "badetag", parts)
    done[1]["ETag"] = '"00000000000000000000000000000000"'
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="badetag", UploadId=uid, MultipartUpload={"Parts": done})
    assert err(e) == (400, "InvalidPart")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="badetag")


def test_invalid_part_missing_number(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB)]
    uid, done = upload_parts(s3, bucket, "missingpart", parts)
    done.append({"PartNumber": 7, "ETag": done[1]["ETag"]})
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="missingpart", UploadId=uid, MultipartUpload={"Parts": done})
    assert err(e) == (400, "InvalidPart")


def test_invalid_part_order(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB)]
    uid, done = upload_parts(s3, bucket, "order", parts)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="order", UploadId=uid, MultipartUpload={"Parts": list(reversed(done))}
        )
    assert err(e) == (400, "InvalidPartOrder")
    # The upload is still there and can be completed properly.
    res = s3.complete_multipart_upload(Bucket=bucket, Key="order", UploadId=uid, MultipartUpload={"Parts": done})
    assert res["ETag"] == multipart_etag(parts)


def test_complete_subset_of_parts(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(3)]
    uid, done = upload_parts(s3, bucket, "subset", parts)
    chosen = [done[0], done[2]]
    res = s3.complete_multipart_upload(Bucket=bucket, Key="subset", UploadId=uid, MultipartUpload={"Parts": chosen})
    assert res["ETag"] == multipart_etag([parts[0], parts[2]])
    assert s3.get_object(Bucket=bucket, Key="subset")["Body"].read() == parts[0] + parts[2]


def test_reupload_part_last_wins(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="again")
    uid = up["UploadId"]
    s3.upload_part(Bucket=bucket, Key="again", UploadId=uid, PartNumber=1, Body=os.urandom(5 * MIB))
    final = os.urandom(5 * MIB + 1)
    e1 = s3.upload_part(Bucket=bucket, Key="again", UploadId=uid, PartNumber=1, Body=final)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="again", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, e1, len(final))]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="again", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]}
    )
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="again")["Body"].read()) == sha256_hex(final)


def test_part_number_range(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="range")["UploadId"]
    for n in (0, 10001):
        with pytest.raises(ClientError) as e:
            s3.upload_part(Bucket=bucket, Key="range", UploadId=uid, PartNumber=n, Body=b"x")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    s3.abort_multipart_upload(Bucket=bucket, Key="range", UploadId=uid)


def test_abort(server, s3, bucket):
    uid, done = upload_parts(s3, bucket, "aborted", [os.urandom(5 * MIB)])
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="aborted", UploadId=uid, PartNumber=2, Body=b"x")
    assert err(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="aborted", UploadId=uid, MultipartUpload={"Parts": done})
    assert err(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="aborted", UploadId=uid)
    assert err(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="aborted")
    # Nothing of the upload is left in the multipart area.
    leftovers = []
    for d in server.drive_paths:
        for root, dirs, files in os.walk(d / ".minnow.sys" / "multipart"):
            leftovers += [os.path.join(root, f) for f in files]
    assert not leftovers, f"aborted upload left {leftovers[:5]}"


def test_no_such_upload(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId="nonexistent-upload-id", PartNumber=1, Body=b"x")
    assert err(e) == (404, "NoSuchUpload")
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="nonexistent-upload-id")
    assert err(e) == (404, "NoSuchUpload")


def test_upload_id_bound_to_key(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="key-a")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="key-b", UploadId=uid, PartNumber=1, Body=b"x")
    assert err(e) == (404, "NoSuchUpload")
    s3.abort_multipart_upload(Bucket=bucket, Key="key-a", UploadId=uid)


def test_list_parts_paginated(s3, bucket):
    parts = [os.urandom(5 * MIB) for _ in range(4)] + [os.urandom(7)]
    uid, done = upload_parts(s3, bucket, "lp", parts)
    listed = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (d["PartNumber"], d["ETag"], len(parts[i])) for i, d in enumerate(done)
    ]
    assert listed["IsTruncated"] is False
    seen = []
    marker = 0
    while True:
        page = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=2, PartNumberMarker=marker)
        seen += [p["PartNumber"] for p in page["Parts"]]
        assert len(page["Parts"]) <= 2
        if not page["IsTruncated"]:
            break
        marker = page["NextPartNumberMarker"]
        assert len(seen) < 10
    assert seen == [1, 2, 3, 4, 5]
    s3.abort_multipart_upload(Bucket=bucket, Key="lp", UploadId=uid)


def test_list_multipart_uploads(s3, bucket):
    ids = {}
    for key in ("docs/a", "docs/b", "img/c", "top"):
        ids[key] = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    second_a = s3.create_multipart_upload(Bucket=bucket, Key="docs/a")["UploadId"]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    got = sorted((u["Key"], u["UploadId"]) for u in ups)
    assert got == sorted(list(ids.items()) + [("docs/a", second_a)])
    assert [u["Key"] for u in ups] == sorted(u["Key"] for u in ups), "uploads are listed in key order"
    docs = s3.list_multipart_uploads(Bucket=bucket, Prefix="docs/")["Uploads"]
    assert sorted(u["Key"] for u in docs) == ["docs/a", "docs/a", "docs/b"]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [c["Prefix"] for c in grouped.get("CommonPrefixes", [])] == ["docs/", "img/"]
    assert [u["Key"] for u in grouped.get("Uploads", [])] == ["top"]
    for key, uid in list(ids.items()) + [("docs/a", second_a)]:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_multipart_overwrites_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="over", Body=b"old small object")
    parts = [os.urandom(5 * MIB), os.urandom(100)]
    uid, done = upload_parts(s3, bucket, "over", parts)
    assert s3.get_object(Bucket=bucket, Key="over")["Body"].read() == b"old small object"
    s3.complete_multipart_upload(Bucket=bucket, Key="over", UploadId=uid, MultipartUpload={"Parts": done})
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="over")["Body"].read()) == sha256_hex(b"".join(parts))


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_multipart_with_part_checksums(s3, bucket, algorithm):
    parts = [os.urandom(5 * MIB), os.urandom(1000)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm=algorithm)
    uid = up["UploadId"]
    done = []
    for n, data in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=uid, PartNumber=n, Body=data, ChecksumAlgorithm=algorithm)
        field = f"Checksum{algorithm}"
        assert r.get(field), f"UploadPart must echo {field}"
        done.append({"PartNumber": n, "ETag": r["ETag"], field: r[field]})
    s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=uid, MultipartUpload={"Parts": done})
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="ck")["Body"].read()) == sha256_hex(b"".join(parts))


def held_back_part(server, bucket, key, uid, number, body) -> socket.socket:
    return held_back_request(server, f"/{bucket}/{key}?partNumber={number}&uploadId={uid}", body)


def release_part(sock: socket.socket, last: bytes) -> tuple[int, str]:
    """Send the held-back byte; (status, ETag) of the answer."""
    sock.sendall(last)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    sock.close()
    head = got.split(b"\r\n\r\n", 1)[0].decode()
    status = int(head.split(" ", 2)[1])
    etag = next((l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("etag:")), "")
    return status, etag


def test_same_part_number_raced(start_server):
    """Rounds of uploads that each get two UploadParts of part 1, equal sizes,
    different bytes, finishing at once (three such pairs at a time, on one set
    of 8 drives): every completed object is exactly one of its two bodies, the
    one whose ETag ListParts shows, never shards of both."""
    srv = start_server(8)
    s3 = srv.client()
    bucket = "same-part-race"
    s3.create_bucket(Bucket=bucket)
    rounds, pairs, size = 25, 3, 300 * KIB + 7
    for r in range(rounds):
        uploads = []
        for p in range(pairs):
            key = f"race/{r}/{p}"
            uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            uploads.append((key, uid, [os.urandom(size), os.urandom(size)]))
        held = [(held_back_part(srv, bucket, key, uid, 1, body), body) for key, uid, bodies in uploads for body in bodies]
        answers: list = [None] * len(held)
        start = threading.Barrier(len(held))

        def finish(i: int) -> None:
            start.wait()
            answers[i] = release_part(held[i][0], held[i][1][-1:])

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(len(held))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert answers == [(200, etag_of(body)) for _, body in held], f"round {r}: {answers}"
        for key, uid, bodies in uploads:
            parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)["Parts"]
            etags = [etag_of(b) for b in bodies]
            assert len(parts) == 1 and parts[0]["ETag"] in etags, f"{key}: {parts}"
            winner = bodies[etags.index(parts[0]["ETag"])]
            s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts[0]["ETag"]}]}
            )
            got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert len(got) == size
            assert hashlib.md5(got).hexdigest() == hashlib.md5(winner).hexdigest(), (
                f"{key}: the object is not the body ListParts named "
                f"(equals that one: {got == winner}, the other: {got in bodies and got != winner})"
            )


def test_part_upload_after_complete_recreates_nothing(server, s3, bucket):
    """An UploadPart that arrives after its upload was completed answers
    NoSuchUpload and leaves nothing in the multipart area."""
    parts = [os.urandom(MIB)]
    uid, done = upload_parts(s3, bucket, "late", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="late", UploadId=uid, MultipartUpload={"Parts": done})
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="late", UploadId=uid, PartNumber=1, Body=os.urandom(MIB))
    assert err(e) == (404, "NoSuchUpload")
    left = [p for d in server.drive_paths for p in (d / ".minnow.sys" / "multipart").rglob("*") if uid in str(p)]
    assert not left, left
    assert s3.get_object(Bucket=bucket, Key="late")["Body"].read() == parts[0]


@pytest.mark.slow
def test_aws_s3_cp_100mib(aws, s3, bucket, tmp_path):
    src = tmp_path / "big.bin"
    data = os.urandom(100 * MIB)
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{bucket}/big/file.bin")
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == len(data)
    # The CLI uploads in 8 MiB parts: 13 of them.
    assert head["ETag"].endswith('-13"'), head["ETag"]
    dst = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/big/file.bin", str(dst))
    assert dst.stat().st_size == len(data)
    assert sha256_hex(dst.read_bytes()) == sha256_hex(data)
    src.unlink()
    dst.unlink()

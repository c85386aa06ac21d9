"""Authentication and payload integrity: wrong key, bad signature, anonymous
requests, presigned URLs (SigV4 and legacy SigV2, expiry, tampering), clock
skew, unsigned and signed payloads, aws-chunked streaming (signed chunks and
unsigned with checksum trailers), Content-MD5, and flexible checksums stored
and returned. After every refused upload, nothing is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from harness import (
    EMPTY_SHA256,
    MIB,
    REGION,
    assert_absent,
    assert_nothing_on_disk,
    aws_chunked_signed,
    aws_chunked_unsigned_trailer,
    checksum_b64,
    etag_of,
    http_request,
    md5_b64,
    s3_error,
    sha256_hex,
    sign_v4,
    signed_request,
    signing_key,
    url_get,
    utcnow,
)


def err(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


# ---- keys and signatures ---------------------------------------------------------------


def test_wrong_access_key(server, s3, bucket):
    bad = server.client("NOSUCHACCESSKEY", server.secret_key)
    for call in (
        lambda: bad.list_buckets(),
        lambda: bad.put_object(Bucket=bucket, Key="wk", Body=b"x"),
        lambda: bad.get_object(Bucket=bucket, Key="wk"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == (403, "InvalidAccessKeyId")
    assert_absent(s3, bucket, "wk")


def test_bad_signature(server, s3, bucket):
    bad = server.client(server.access_key, "not-the-secret-key")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=bucket, Key="bs", Body=os.urandom(5000))
    assert err(e) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as e:
        bad.list_objects_v2(Bucket=bucket)
    assert err(e) == (403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, "bs")
    assert_nothing_on_disk(server, bucket, "bs")


def test_signature_covers_headers(server, s3, bucket):
    """A signed header changed after signing is caught."""
    body = b"payload"
    headers = sign_v4("PUT", server.address, f"/{bucket}/tamper", {"x-amz-meta-a": "1"}, body)
    headers["x-amz-meta-a"] = "2"
    headers["Content-Length"] = str(len(body))
    resp = http_request(server, "PUT", f"/{bucket}/tamper", headers, body)
    assert resp.status == 403 and resp.error_code == "SignatureDoesNotMatch", s3_error(resp)
    assert_absent(s3, bucket, "tamper")


def test_anonymous_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    for method, target, body in (
        ("GET", "/", b""),
        ("GET", f"/{bucket}/private", b""),
        ("GET", f"/{bucket}?list-type=2", b""),
        ("PUT", f"/{bucket}/anon", b"x"),
    ):
        headers = {"Host": server.address}
        if body:
            headers["Content-Length"] = str(len(body))
        resp = http_request(server, method, target, headers, body)
        assert resp.status == 403 and resp.error_code == "AccessDenied", f"{method} {target}: {s3_error(resp)}"
        assert b"secret" not in resp.body
    assert_absent(s3, bucket, "anon")


def test_malformed_authorization(server, s3, bucket):
    for value in (
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential=minnowadmin/2020/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
        "Bearer abc",
    ):
        headers = {
            "Host": server.address,
            "Authorization": value,
            "x-amz-date": utcnow().strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            "Content-Length": "1",
        }
        resp = http_request(server, "PUT", f"/{bucket}/malformed", headers, b"x")
        assert 400 <= resp.status < 500, f"{value}: {s3_error(resp)}"
        assert resp.error_code, "errors come as S3 XML"
    assert_absent(s3, bucket, "malformed")


# ---- presigned URLs ----------------------------------------------------------------------


def test_presigned_get_v4(s3, bucket):
    data = os.urandom(100_000)
    s3.put_object(Bucket=bucket, Key="pre sign/ü", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre sign/ü"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    status, body, _ = url_get(url)
    assert status == 200 and body == data


def test_presigned_put_v4(server, s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded"}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(url)
    data = os.urandom(3 * MIB + 1)
    resp = http_request(
        server,
        "PUT",
        f"{parts.path}?{parts.query}",
        {"Host": server.address, "Content-Length": str(len(data))},
        data,
    )
    assert resp.status == 200, s3_error(resp)
    assert resp.headers.get("etag") == etag_of(data)
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="uploaded")["Body"].read()) == sha256_hex(data)


def test_presigned_expired_v4(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="exp", Body=b"soon gone")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "exp"}, ExpiresIn=1)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "exp-put"}, ExpiresIn=1)
    time.sleep(2.5)
    status, body, _ = url_get(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body, body[:300]
    assert b"soon gone" not in body
    parts = urllib.parse.urlsplit(put_url)
    resp = http_request(
        server, "PUT", f"{parts.path}?{parts.query}", {"Host": server.address, "Content-Length": "3"}, b"abc"
    )
    assert resp.status == 403 and resp.error_code == "AccessDenied", s3_error(resp)
    assert_absent(s3, bucket, "exp-put")


def test_presigned_tampered_v4(s3, bucket):
    s3.put_object(Bucket=bucket, Key="one", Body=b"one")
    s3.put_object(Bucket=bucket, Key="two", Body=b"two")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "one"}, ExpiresIn=300)
    status, body, _ = url_get(url.replace("/one?", "/two?"))
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_presigned_expiry_too_long_v4(s3, bucket):
    s3.put_object(Bucket=bucket, Key="long", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "long"}, ExpiresIn=300)
    url = url.replace("X-Amz-Expires=300", f"X-Amz-Expires={8 * 24 * 3600}")
    status, _, _ = url_get(url)
    assert status in (400, 403)


def test_presigned_v2(server, s3, bucket):
    data = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="v2 key+plus", Body=data)
    v2 = server.client(signature_version="s3")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2 key+plus"}, ExpiresIn=300)
    assert "Signature=" in url and "AWSAccessKeyId=" in url and "X-Amz-" not in url
    status, body, _ = url_get(url)
    assert status == 200 and body == data


def test_presigned_v2_expired_and_tampered(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="v2", Body=b"legacy")
    v2 = server.client(signature_version="s3")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=1)
    bad = server.client(server.access_key, "wrong-secret-key", signature_version="s3")
    bad_url = bad.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"}, ExpiresIn=300)
    status, body, _ = url_get(bad_url)
    assert status == 403 and b"SignatureDoesNotMatch" in body
    time.sleep(2.5)
    status, body, _ = url_get(url)
    assert status == 403 and b"AccessDenied" in body and b"legacy" not in body


def test_aws_cli_presign(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli-presign", Body=b"from the cli")
    url = aws("s3", "presign", f"s3://{bucket}/cli-presign", "--expires-in", "120").stdout.strip()
    status, body, _ = url_get(url)
    assert status == 200 and body == b"from the cli"


# ---- clock skew ------------------------------------------------------------------------


@pytest.mark.parametrize("minutes,ok", [(-20, False), (20, False), (-5, True), (5, True)])
def test_clock_skew(server, s3, bucket, minutes, ok):
    key = f"skew{minutes}"
    when = utcnow() + dt.timedelta(minutes=minutes)
    resp = signed_request(server, "PUT", f"/{bucket}/{key}", body=b"skewed", when=when)
    if ok:
        assert resp.status == 200, s3_error(resp)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"skewed"
    else:
        assert resp.status == 403 and resp.error_code == "RequestTimeTooSkewed", s3_error(resp)
        assert_absent(s3, bucket, key)


# ---- payload hashes ------------------------------------------------------------------


def test_unsigned_payload(server, s3, bucket):
    data = os.urandom(2 * MIB + 5)
    resp = signed_request(server, "PUT", f"/{bucket}/unsigned", body=data, payload_hash="UNSIGNED-PAYLOAD")
    assert resp.status == 200, s3_error(resp)
    assert resp.headers["etag"] == etag_of(data)
    assert sha256_hex(s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read()) == sha256_hex(data)


def test_signed_payload_mismatch(server, s3, bucket):
    data = os.urandom(1000)
    resp = signed_request(
        server, "PUT", f"/{bucket}/sha-mismatch", body=data, payload_hash=hashlib.sha256(b"other").hexdigest()
    )
    assert resp.status == 400 and resp.error_code == "XAmzContentSHA256Mismatch", s3_error(resp)
    assert_absent(s3, bucket, "sha-mismatch")


def test_signed_payload_mismatch_large(server, s3, bucket):
    """Detected only at the end of a multi-block body: still nothing stored."""
    data = os.urandom(3 * MIB)
    resp = signed_request(
        server, "PUT", f"/{bucket}/sha-mismatch-big", body=data, payload_hash=hashlib.sha256(data[:-1]).hexdigest()
    )
    assert resp.status == 400 and resp.error_code == "XAmzContentSHA256Mismatch", s3_error(resp)
    assert_absent(s3, bucket, "sha-mismatch-big")
    assert_nothing_on_disk(server, bucket, "sha-mismatch-big")


# ---- aws-chunked streaming -----------------------------------------------------------


def streaming_put(server, target, data, chunk_size=64 * 1024, tamper_chunk=None, extra_headers=None):
    now = utcnow()
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    chunks = -(-len(data) // chunk_size)
    # Length of the encoded body: every chunk's header, data and CRLFs, plus the final chunk.
    encoded_len = 0
    for i in range(chunks):
        n = min(chunk_size, len(data) - i * chunk_size)
        encoded_len += len(f"{n:x};chunk-signature=") + 64 + 2 + n + 2
    encoded_len += len("0;chunk-signature=") + 64 + 4
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Length": str(encoded_len),
    }
    headers.update(extra_headers or {})
    signed = sign_v4(
        "PUT",
        server.address,
        target,
        headers,
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        when=now,
        access_key=server.access_key,
        secret_key=server.secret_key,
    )
    seed = signed["Authorization"].rsplit("Signature=", 1)[1]
    key = signing_key(server.secret_key, date)
    body = aws_chunked_signed(
        data, chunk_size, seed, key, amz_date, f"{date}/{REGION}/s3/aws4_request", tamper_chunk=tamper_chunk
    )
    assert len(body) == encoded_len
    return http_request(server, "PUT", target, signed, body)


@pytest.mark.parametrize("size", [0, 1, 100 * 1024, 3 * MIB + 17])
def test_streaming_signed_upload(server, s3, bucket, size):
    data = os.urandom(size)
    resp = streaming_put(server, f"/{bucket}/stream{size}", data)
    assert resp.status == 200, s3_error(resp)
    assert resp.headers["etag"] == etag_of(data)
    got = s3.get_object(Bucket=bucket, Key=f"stream{size}")
    assert got["ContentLength"] == size
    assert got["Body"].read() == data
    assert got.get("ContentEncoding") in (None, ""), "aws-chunked is a transfer detail, not stored"


@pytest.mark.parametrize("tamper", [0, 5, 48])
def test_streaming_bad_chunk_signature(server, s3, bucket, tamper):
    data = os.urandom(3 * MIB + 17)
    resp = streaming_put(server, f"/{bucket}/badchunk", data, tamper_chunk=tamper)
    assert resp.status == 403 and resp.error_code == "SignatureDoesNotMatch", s3_error(resp)
    assert_absent(s3, bucket, "badchunk")
    assert_nothing_on_disk(server, bucket, "badchunk")


def trailer_put(server, target, data, algorithm, value=None, chunk_size=64 * 1024):
    name = f"x-amz-checksum-{algorithm.lower()}"
    value = value or checksum_b64(algorithm, data)
    body = aws_chunked_unsigned_trailer(data, chunk_size, name, value)
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": name,
        "x-amz-sdk-checksum-algorithm": algorithm.upper(),
        "Content-Length": str(len(body)),
    }
    signed = sign_v4(
        "PUT",
        server.address,
        target,
        headers,
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        access_key=server.access_key,
        secret_key=server.secret_key,
    )
    return http_request(server, "PUT", target, signed, body)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA256", "SHA1", "CRC64NVME"])
@pytest.mark.parametrize("size", [10, 2 * MIB + 3])
def test_unsigned_trailer_checksum(server, s3, bucket, algorithm, size):
    data = os.urandom(size)
    key = f"trailer-{algorithm}-{size}"
    resp = trailer_put(server, f"/{bucket}/{key}", data, algorithm)
    assert resp.status == 200, s3_error(resp)
    assert resp.headers["etag"] == etag_of(data)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get(f"Checksum{algorithm}") == checksum_b64(algorithm, data)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA256"])
def test_unsigned_trailer_checksum_mismatch(server, s3, bucket, algorithm):
    data = os.urandom(2 * MIB + 3)
    key = f"trailer-bad-{algorithm}"
    wrong = checksum_b64(algorithm, data + b"!")
    resp = trailer_put(server, f"/{bucket}/{key}", data, algorithm, value=wrong)
    assert resp.status == 400 and resp.error_code in ("BadDigest", "XAmzContentChecksumMismatch"), s3_error(resp)
    assert_absent(s3, bucket, key)
    assert_nothing_on_disk(server, bucket, key)


# ---- Content-MD5 and flexible checksums in headers ---------------------------------


def test_content_md5_ok(s3, bucket):
    data = os.urandom(4096)
    s3.put_object(Bucket=bucket, Key="md5ok", Body=data, ContentMD5=md5_b64(data))
    assert s3.get_object(Bucket=bucket, Key="md5ok")["Body"].read() == data


@pytest.mark.parametrize("size", [100, 3 * MIB])
def test_content_md5_mismatch(server, s3, bucket, size):
    data = os.urandom(size)
    resp = signed_request(server, "PUT", f"/{bucket}/md5bad", {"Content-MD5": md5_b64(data + b"x")}, data)
    assert resp.status == 400 and resp.error_code == "BadDigest", s3_error(resp)
    assert_absent(s3, bucket, "md5bad")
    assert_nothing_on_disk(server, bucket, "md5bad")


def test_content_md5_invalid(server, s3, bucket):
    resp = signed_request(server, "PUT", f"/{bucket}/md5inv", {"Content-MD5": "not base64 md5"}, b"data")
    assert resp.status == 400 and resp.error_code == "InvalidDigest", s3_error(resp)
    assert_absent(s3, bucket, "md5inv")


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_flexible_checksum_boto3(s3, bucket, algorithm):
    data = os.urandom(1 * MIB + 11)
    key = f"flex-{algorithm}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    field = f"Checksum{algorithm}"
    want = checksum_b64(algorithm, data)
    assert put.get(field) == want
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get(field) == want
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got.get(field) == want
    assert got["Body"].read() == data
    # Not asked for: not returned.
    plain = s3.head_object(Bucket=bucket, Key=key)
    assert "x-amz-checksum-" + algorithm.lower() not in plain["ResponseMetadata"]["HTTPHeaders"]


def test_default_checksum_of_current_sdk(s3, bucket):
    """Current botocore sends a CRC32 with every PutObject unless told not to."""
    data = os.urandom(12345)
    put = s3.put_object(Bucket=bucket, Key="default-ck", Body=data)
    assert put.get("ChecksumCRC32") == checksum_b64("CRC32", data)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_flexible_checksum_header_mismatch(server, s3, bucket, algorithm):
    data = os.urandom(5000)
    key = f"flexbad-{algorithm}"
    headers = {
        f"x-amz-checksum-{algorithm.lower()}": checksum_b64(algorithm, b"something else"),
        "x-amz-sdk-checksum-algorithm": algorithm,
    }
    resp = signed_request(server, "PUT", f"/{bucket}/{key}", headers, data)
    assert resp.status == 400 and resp.error_code in ("BadDigest", "XAmzContentChecksumMismatch"), s3_error(resp)
    assert_absent(s3, bucket, key)


def test_checksum_header_malformed(server, s3, bucket):
    resp = signed_request(server, "PUT", f"/{bucket}/ckmal", {"x-amz-checksum-crc32": "%%%notbase64"}, b"data")
    assert resp.status == 400, s3_error(resp)
    assert_absent(s3, bucket, "ckmal")


def test_empty_body_hash(server, s3, bucket):
    resp = signed_request(server, "PUT", f"/{bucket}/empty", body=b"", payload_hash=EMPTY_SHA256)
    assert resp.status == 200, s3_error(resp)
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


# ---- every x-amz-* header signed, host signed, the server's region -------------------


def hand_sign(server, method, target, headers, *, signed_names, region=REGION, presign=False, expires=300):
    """SigV4 built by hand so a test can choose what is signed (botocore always signs host
    and every x-amz-* header). `headers` are sent; only `signed_names` (lower-case) enter the
    signature. Plain ASCII paths without escapes only. Returns (target, headers) to send."""
    import hmac as _hmac

    now = utcnow()
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    scope = f"{date}/{region}/s3/aws4_request"
    path, _, query = target.partition("?")
    sent = {"Host": server.address, **headers}
    lower = {k.lower(): v.strip() for k, v in sent.items()}
    if not presign:
        lower["x-amz-date"] = sent["x-amz-date"] = amz_date
        lower["x-amz-content-sha256"] = sent["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    names = sorted(set(signed_names) | ({"x-amz-date", "x-amz-content-sha256"} if not presign else set()))
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    if presign:
        params += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", f"{server.access_key}/{scope}"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Expires", str(expires)),
            ("X-Amz-SignedHeaders", ";".join(names)),
        ]
    enc = lambda s: urllib.parse.quote(s, safe="-_.~")
    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params))
    canonical = "\n".join(
        [
            method,
            path,
            canonical_query,
            "".join(f"{n}:{lower[n]}\n" for n in names),
            ";".join(names),
            "UNSIGNED-PAYLOAD",
        ]
    )
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    sig = _hmac.new(signing_key(server.secret_key, date, region), sts.encode(), hashlib.sha256).hexdigest()
    if presign:
        return f"{path}?{canonical_query}&X-Amz-Signature={sig}", sent
    sent["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={server.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    return target, sent


def assert_unsigned_refused(resp, *names):
    assert resp.status == 403 and resp.error_code == "AccessDenied", s3_error(resp)
    root = resp.xml()
    assert root.findtext("Message") == "There were headers present in the request which were not signed"
    listed = {n.strip() for n in (root.findtext("HeadersNotSigned") or "").split(",")}
    assert set(names) <= listed, root.findtext("HeadersNotSigned")


def presigned_put_target(s3, bucket, key):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(url)
    assert "X-Amz-SignedHeaders=host&" in parts.query or parts.query.endswith("X-Amz-SignedHeaders=host")
    return f"{parts.path}?{parts.query}"


def test_presigned_put_with_unsigned_copy_source_refused(server, s3, bucket):
    """A URL signed for host only cannot be turned into a copy of a private object."""
    s3.create_bucket(Bucket=f"{bucket}-private")
    try:
        s3.put_object(Bucket=f"{bucket}-private", Key="secret.txt", Body=b"top secret")
        target = presigned_put_target(s3, bucket, "upload")
        headers = {
            "Host": server.address,
            "x-amz-copy-source": f"{bucket}-private/secret.txt",
            "Content-Length": "0",
        }
        resp = http_request(server, "PUT", target, headers)
        assert_unsigned_refused(resp, "x-amz-copy-source")
        assert b"top secret" not in resp.body
        assert_absent(s3, bucket, "upload")
        assert_nothing_on_disk(server, bucket, "upload")
        got = s3.get_object(Bucket=f"{bucket}-private", Key="secret.txt")
        assert got["Body"].read() == b"top secret"
    finally:
        s3.delete_object(Bucket=f"{bucket}-private", Key="secret.txt")
        s3.delete_bucket(Bucket=f"{bucket}-private")


@pytest.mark.parametrize(
    "extra",
    [{"x-amz-meta-owner": "mallory"}, {"x-amz-storage-class": "REDUCED_REDUNDANCY"}],
    ids=["meta", "storage-class"],
)
def test_presigned_put_with_unsigned_amz_header_refused(server, s3, bucket, extra):
    target = presigned_put_target(s3, bucket, "pre-extra")
    data = os.urandom(1000)
    headers = {"Host": server.address, "Content-Length": str(len(data)), **extra}
    resp = http_request(server, "PUT", target, headers, data)
    assert_unsigned_refused(resp, *extra)
    assert_absent(s3, bucket, "pre-extra")
    # The same URL without the extra header still works: only the added header was refused.
    resp = http_request(server, "PUT", target, {"Host": server.address, "Content-Length": str(len(data))}, data)
    assert resp.status == 200, s3_error(resp)
    head = s3.head_object(Bucket=bucket, Key="pre-extra")
    assert head["Metadata"] == {} and "StorageClass" not in head


@pytest.mark.parametrize(
    "extra",
    [{"x-amz-meta-owner": "mallory"}, {"x-amz-storage-class": "REDUCED_REDUNDANCY"}],
    ids=["meta", "storage-class"],
)
def test_header_signed_put_with_unsigned_amz_header_refused(server, s3, bucket, extra):
    body = os.urandom(1000)
    headers = sign_v4("PUT", server.address, f"/{bucket}/hdr-extra", {}, body)
    headers.update(extra)
    headers["Content-Length"] = str(len(body))
    resp = http_request(server, "PUT", f"/{bucket}/hdr-extra", headers, body)
    assert_unsigned_refused(resp, *extra)
    assert_absent(s3, bucket, "hdr-extra")
    assert_nothing_on_disk(server, bucket, "hdr-extra")


@pytest.mark.parametrize("presign", [False, True], ids=["header", "presigned"])
def test_host_not_signed_refused(server, s3, bucket, presign):
    s3.put_object(Bucket=bucket, Key="hostless", Body=b"x")
    # Control: the hand signer works when host is signed.
    target, headers = hand_sign(server, "GET", f"/{bucket}/hostless", {}, signed_names=["host"], presign=presign)
    resp = http_request(server, "GET", target, headers)
    assert resp.status == 200 and resp.body == b"x", s3_error(resp)
    names = [] if presign else ["x-amz-date"]
    extra = {"x-amz-meta-a": "1"} if presign else {}
    target, headers = hand_sign(
        server, "GET", f"/{bucket}/hostless", extra, signed_names=names + list(extra), presign=presign
    )
    resp = http_request(server, "GET", target, headers)
    assert_unsigned_refused(resp, "host")


@pytest.mark.parametrize("presign", [False, True], ids=["header", "presigned"])
def test_wrong_region_refused(server, s3, bucket, presign):
    s3.put_object(Bucket=bucket, Key="regional", Body=b"r")
    target, headers = hand_sign(
        server, "GET", f"/{bucket}/regional", {}, signed_names=["host"], presign=presign, region="eu-west-1"
    )
    resp = http_request(server, "GET", target, headers)
    code = "AuthorizationQueryParametersError" if presign else "AuthorizationHeaderMalformed"
    assert resp.status == 400 and resp.error_code == code, s3_error(resp)
    root = resp.xml()
    assert "'eu-west-1' is wrong; expecting 'us-east-1'" in root.findtext("Message"), root.findtext("Message")
    assert root.findtext("Region") == "us-east-1"
    # A write signed for another region stores nothing.
    target, headers = hand_sign(
        server, "PUT", f"/{bucket}/regional-put", {"Content-Length": "3"}, signed_names=["host"],
        presign=presign, region="eu-west-1",
    )
    resp = http_request(server, "PUT", target, headers, b"abc")
    assert resp.status == 400 and resp.error_code == code, s3_error(resp)
    assert_absent(s3, bucket, "regional-put")


def test_server_region_setting(start_server):
    """MINNOW_REGION (or MINIO_REGION) sets the region signatures must name and buckets report."""
    srv = start_server(env={"MINIO_REGION": "eu-west-1"})
    assert "Region: eu-west-1" in srv.last_run_output()
    import boto3
    from botocore.config import Config

    regional = boto3.session.Session().client(
        "s3",
        endpoint_url=srv.endpoint,
        aws_access_key_id=srv.access_key,
        aws_secret_access_key=srv.secret_key,
        region_name="eu-west-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    regional.create_bucket(Bucket="euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    regional.put_object(Bucket="euro", Key="k", Body=b"v")
    assert regional.get_object(Bucket="euro", Key="k")["Body"].read() == b"v"
    assert regional.get_bucket_location(Bucket="euro")["LocationConstraint"] == "eu-west-1"
    head = regional.head_bucket(Bucket="euro")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"
    with pytest.raises(ClientError) as e:
        regional.create_bucket(Bucket="elsewhere", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert err(e) == (400, "IllegalLocationConstraintException")
    with pytest.raises(ClientError) as e:
        regional.head_bucket(Bucket="elsewhere")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # A request signed for us-east-1 (the harness default) is refused and told the region.
    resp = signed_request(srv, "GET", "/euro/k")
    assert resp.status == 400 and resp.error_code == "AuthorizationHeaderMalformed", s3_error(resp)
    assert resp.xml().findtext("Region") == "eu-west-1"


def test_bad_region_setting_refused(start_server):
    srv = start_server(env={"MINNOW_REGION": "eu west/1"}, wait=False)
    srv.expect_exit = True
    assert srv.wait_exit() != 0
    assert "MINNOW_REGION" in srv.last_run_output()


def test_sigv2_covers_every_amz_header(server, s3, bucket):
    """SigV2 puts every x-amz-* header in its string to sign: boto3's SigV2 client stores
    metadata and storage class, and a header added after signing breaks the signature."""
    from botocore.auth import HmacV1Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    v2 = server.client(signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2-meta", Body=b"v2", Metadata={"a": "1"}, StorageClass="REDUCED_REDUNDANCY")
    head = s3.head_object(Bucket=bucket, Key="v2-meta")
    assert head["Metadata"] == {"a": "1"} and head["StorageClass"] == "REDUCED_REDUNDANCY"

    target = f"/{bucket}/v2-added"
    req = AWSRequest(method="PUT", url=f"http://{server.address}{target}", headers={"Content-Length": "2"}, data=b"v2")
    HmacV1Auth(Credentials(server.access_key, server.secret_key)).add_auth(req)
    headers = {**dict(req.headers.items()), "Host": server.address}
    resp = http_request(server, "PUT", target, {**headers, "x-amz-meta-added": "mallory"}, b"v2")
    assert resp.status == 403 and resp.error_code == "SignatureDoesNotMatch", s3_error(resp)
    assert_absent(s3, bucket, "v2-added")
    resp = http_request(server, "PUT", target, headers, b"v2")
    assert resp.status == 200, s3_error(resp)
    assert s3.head_object(Bucket=bucket, Key="v2-added")["Metadata"] == {}

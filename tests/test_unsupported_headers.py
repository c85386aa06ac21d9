"""Protection that minnow does not give is refused, never faked: server-side
encryption (SSE-C, SSE-S3, SSE-KMS), object lock and legal hold, buckets with
object lock, ACLs that grant access, conditional writes. Each request fails
with S3's answer for the case and stores nothing; the configuration APIs of
these features answer NotImplemented (or S3's "not configured")."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from harness import (
    assert_absent,
    assert_nothing_on_disk,
    s3_error,
    signed_request,
    unique_bucket,
)

SSE_C_KEY = os.urandom(32)
SSE_C = {
    "x-amz-server-side-encryption-customer-algorithm": "AES256",
    "x-amz-server-side-encryption-customer-key": base64.b64encode(SSE_C_KEY).decode(),
    "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
SSE_S3 = {"x-amz-server-side-encryption": "AES256"}
SSE_KMS = {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "key-1"}
LOCK = {
    "x-amz-object-lock-mode": "COMPLIANCE",
    "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z",
}
LEGAL_HOLD = {"x-amz-object-lock-legal-hold": "ON"}

SSE_C_ERROR = (400, "InvalidRequest")
NOT_IMPLEMENTED = (501, "NotImplemented")
NO_LOCK_CONFIG = (400, "InvalidRequest")

# (headers, expected status and code) for every object write.
WRITE_CASES = [
    (SSE_C, SSE_C_ERROR),
    (SSE_S3, NOT_IMPLEMENTED),
    (SSE_KMS, NOT_IMPLEMENTED),
    (LOCK, NO_LOCK_CONFIG),
    (LEGAL_HOLD, NO_LOCK_CONFIG),
    ({"x-amz-website-redirect-location": "/elsewhere"}, NOT_IMPLEMENTED),
]
WRITE_IDS = ["sse-c", "sse-s3", "sse-kms", "lock", "legal-hold", "website-redirect"]


def err(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def assert_refused(resp, expected):
    assert (resp.status, resp.error_code) == expected, s3_error(resp)


@pytest.mark.parametrize("headers,expected", WRITE_CASES, ids=WRITE_IDS)
def test_put_refused(server, s3, bucket, headers, expected):
    data = os.urandom(300_000)
    resp = signed_request(server, "PUT", f"/{bucket}/put", headers, data)
    assert_refused(resp, expected)
    assert_absent(s3, bucket, "put")
    assert_nothing_on_disk(server, bucket, "put")
    assert not server.tmp_leftovers()


@pytest.mark.parametrize("headers,expected", WRITE_CASES, ids=WRITE_IDS)
def test_copy_refused(server, s3, bucket, headers, expected):
    s3.put_object(Bucket=bucket, Key="source", Body=b"plain source")
    resp = signed_request(server, "PUT", f"/{bucket}/copy", {"x-amz-copy-source": f"{bucket}/source", **headers})
    assert_refused(resp, expected)
    assert_absent(s3, bucket, "copy")


def test_copy_with_source_customer_key_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="source", Body=b"plain source")
    headers = {k.replace("x-amz-", "x-amz-copy-source-", 1): v for k, v in SSE_C.items()}
    resp = signed_request(server, "PUT", f"/{bucket}/copy-c", {"x-amz-copy-source": f"{bucket}/source", **headers})
    assert_refused(resp, SSE_C_ERROR)
    assert_absent(s3, bucket, "copy-c")


@pytest.mark.parametrize("headers,expected", WRITE_CASES, ids=WRITE_IDS)
def test_create_multipart_refused(server, s3, bucket, headers, expected):
    resp = signed_request(server, "POST", f"/{bucket}/mpu?uploads=", headers)
    assert_refused(resp, expected)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_upload_part_with_customer_key_refused(server, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu-c")["UploadId"]
    resp = signed_request(server, "PUT", f"/{bucket}/mpu-c?partNumber=1&uploadId={upload}", SSE_C, b"part")
    assert_refused(resp, SSE_C_ERROR)
    assert s3.list_parts(Bucket=bucket, Key="mpu-c", UploadId=upload).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mpu-c", UploadId=upload)


def test_boto3_sse_refused(s3, bucket):
    """What real clients send: boto3's ServerSideEncryption and ObjectLock parameters."""
    for kwargs, expected in (
        (dict(ServerSideEncryption="AES256"), NOT_IMPLEMENTED),
        (dict(ServerSideEncryption="aws:kms", SSEKMSKeyId="key-1"), NOT_IMPLEMENTED),
        (dict(ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate="2099-01-01T00:00:00Z"), NO_LOCK_CONFIG),
        (dict(ObjectLockLegalHoldStatus="ON"), NO_LOCK_CONFIG),
    ):
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="boto", Body=b"data", **kwargs)
        assert err(e) == expected, kwargs
    assert_absent(s3, bucket, "boto")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_read_with_customer_key_refused(server, s3, bucket, method):
    """An SSE-C GET of a clear object must not hand the object out as if it were decrypted."""
    s3.put_object(Bucket=bucket, Key="clear", Body=b"stored in clear")
    resp = signed_request(server, method, f"/{bucket}/clear", SSE_C)
    assert resp.status == 400, s3_error(resp)
    assert b"stored in clear" not in resp.body
    if method == "GET":
        assert resp.error_code == "InvalidRequest", s3_error(resp)
        assert b"secure connection" in resp.body
    assert s3.get_object(Bucket=bucket, Key="clear")["Body"].read() == b"stored in clear"


def test_create_bucket_with_object_lock_refused(s3):
    name = unique_bucket("lock")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert err(e) == NOT_IMPLEMENTED
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Explicitly not enabled is an ordinary bucket.
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=False)
    s3.delete_bucket(Bucket=name)


def test_acls_other_than_private_refused(server, s3, bucket):
    for acl in ("public-read", "public-read-write", "authenticated-read"):
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=bucket, Key="acl", Body=b"x", ACL=acl)
        assert err(e) == (400, "AccessControlListNotSupported"), acl
    everyone = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
    resp = signed_request(server, "PUT", f"/{bucket}/acl", {"x-amz-grant-read": everyone}, b"x")
    assert_refused(resp, (400, "AccessControlListNotSupported"))
    assert_absent(s3, bucket, "acl")
    name = unique_bucket("acl")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, ACL="public-read")
    assert err(e) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The ACLs that describe what minnow does are accepted.
    for acl in ("private", "bucket-owner-full-control"):
        s3.put_object(Bucket=bucket, Key="acl", Body=b"x", ACL=acl)
    s3.create_bucket(Bucket=name, ACL="private")
    s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("header", [{"If-None-Match": "*"}, {"If-Match": '"0123456789abcdef0123456789abcdef"'}])
def test_conditional_put_refused(server, s3, bucket, header):
    """minnow would overwrite unconditionally: refusing keeps the object the client protected."""
    s3.put_object(Bucket=bucket, Key="cond", Body=b"original")
    resp = signed_request(server, "PUT", f"/{bucket}/cond", header, b"overwrite")
    assert_refused(resp, NOT_IMPLEMENTED)
    assert s3.get_object(Bucket=bucket, Key="cond")["Body"].read() == b"original"


@pytest.mark.parametrize("header", [{"If-Match": '"0123456789abcdef0123456789abcdef"'}, {"x-amz-if-match-size": "8"}])
def test_conditional_delete_refused(server, s3, bucket, header):
    """minnow would delete unconditionally: refusing keeps the object the condition protected."""
    s3.put_object(Bucket=bucket, Key="cond-del", Body=b"original")
    resp = signed_request(server, "DELETE", f"/{bucket}/cond-del", header)
    assert_refused(resp, NOT_IMPLEMENTED)
    assert s3.get_object(Bucket=bucket, Key="cond-del")["Body"].read() == b"original"


def test_conditional_complete_multipart_refused(server, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="cond-mpu")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="cond-mpu", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    body = (
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
        f"<ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    ).encode()
    resp = signed_request(server, "POST", f"/{bucket}/cond-mpu?uploadId={upload}", {"If-None-Match": "*"}, body)
    assert_refused(resp, NOT_IMPLEMENTED)
    assert_absent(s3, bucket, "cond-mpu")
    # The upload is untouched and completes without the condition.
    s3.complete_multipart_upload(
        Bucket=bucket, Key="cond-mpu", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.get_object(Bucket=bucket, Key="cond-mpu")["Body"].read() == b"part"


def test_feature_configuration_apis(s3, bucket):
    """The configuration APIs of the refused features: writes NotImplemented, reads S3's
    answer for a bucket without the configuration."""
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    writes = [
        lambda: s3.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        ),
        lambda: s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        ),
        lambda: s3.put_object_retention(
            Bucket=bucket, Key="obj", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": "2099-01-01T00:00:00Z"}
        ),
        lambda: s3.put_object_legal_hold(Bucket=bucket, Key="obj", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_retention(Bucket=bucket, Key="obj"),
        lambda: s3.get_object_legal_hold(Bucket=bucket, Key="obj"),
        lambda: s3.delete_bucket_encryption(Bucket=bucket),
    ]
    for call in writes:
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == NOT_IMPLEMENTED
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert err(e) == (404, "ObjectLockConfigurationNotFoundError")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert err(e) == (404, "ServerSideEncryptionConfigurationNotFoundError")
    # Nothing changed: the object deletes as any object does.
    s3.delete_object(Bucket=bucket, Key="obj")
    assert_absent(s3, bucket, "obj")

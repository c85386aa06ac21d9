"""Client-side helpers for the tests of object versions: ListObjectVersions
read raw (boto3 splits versions and delete markers into two lists and loses
their order), paging through it, and emptying a versioned bucket."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

import pytest

from harness import Server, signed_request, s3_error


@dataclass
class Entry:
    """One <Version> or <DeleteMarker> of a ListObjectVersions answer."""

    kind: str  # "Version" or "DeleteMarker"
    key: str
    version_id: str
    is_latest: bool
    etag: str | None = None
    size: int | None = None

    @property
    def marker(self) -> bool:
        return self.kind == "DeleteMarker"

    def short(self) -> tuple[str, str, str, bool]:
        return (self.kind, self.key, self.version_id, self.is_latest)


@dataclass
class VersionsPage:
    entries: list[Entry]
    prefixes: list[str]
    truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None
    raw: object = field(repr=False, default=None)


def list_versions_page(srv: Server, bucket: str, **params: str | int) -> VersionsPage:
    """One ListObjectVersions page, entries in document order. `params` are the
    query parameters with '_' for '-' (key_marker=, version_id_marker=, max_keys=,
    prefix=, delimiter=)."""
    query = "versions"
    for name, value in sorted(params.items()):
        query += "&" + name.replace("_", "-") + "=" + urllib.parse.quote(str(value), safe="")
    resp = signed_request(srv, "GET", f"/{bucket}?{query}")
    assert resp.status == 200, s3_error(resp)
    root = resp.xml()
    entries = []
    for el in root:
        if el.tag in ("Version", "DeleteMarker"):
            size = el.findtext("Size")
            entries.append(
                Entry(
                    kind=el.tag,
                    key=el.findtext("Key"),
                    version_id=el.findtext("VersionId"),
                    is_latest=el.findtext("IsLatest") == "true",
                    etag=el.findtext("ETag"),
                    size=int(size) if size is not None else None,
                )
            )
    prefixes = [cp.findtext("Prefix") for cp in root.findall("CommonPrefixes")]
    return VersionsPage(
        entries=entries,
        prefixes=prefixes,
        truncated=root.findtext("IsTruncated") == "true",
        next_key_marker=root.findtext("NextKeyMarker"),
        next_version_id_marker=root.findtext("NextVersionIdMarker"),
        raw=resp,
    )


def list_all_versions(srv: Server, bucket: str, max_keys: int | None = None, **params) -> tuple[list[Entry], list[str], int]:
    """Every page of ListObjectVersions, following NextKeyMarker / NextVersionIdMarker:
    (entries, common prefixes, number of pages). Each page holds at most max_keys entries."""
    entries: list[Entry] = []
    prefixes: list[str] = []
    pages = 0
    markers: dict[str, str] = {}
    while True:
        kw = dict(params)
        if max_keys is not None:
            kw["max_keys"] = max_keys
        kw.update(markers)
        page = list_versions_page(srv, bucket, **kw)
        pages += 1
        if max_keys is not None:
            assert len(page.entries) + len(page.prefixes) <= max_keys, f"page of {len(page.entries)}+{len(page.prefixes)} > {max_keys}"
        entries += page.entries
        prefixes += page.prefixes
        if not page.truncated:
            return entries, prefixes, pages
        assert page.next_key_marker, "a truncated ListObjectVersions page must carry NextKeyMarker"
        markers = {"key_marker": page.next_key_marker}
        if page.next_version_id_marker:
            markers["version_id_marker"] = page.next_version_id_marker
        assert pages < 100_000, "paging does not end"


def enable_versioning(s3, bucket: str, status: str = "Enabled") -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def delete_every_version(srv: Server, bucket: str) -> None:
    """Delete every version and delete marker of a bucket (through S3)."""
    s3 = srv.client()
    while True:
        entries, _, _ = list_all_versions(srv, bucket, max_keys=1000)
        if not entries:
            return
        for i in range(0, len(entries), 1000):
            chunk = entries[i : i + 1000]
            s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": e.key, "VersionId": e.version_id} for e in chunk], "Quiet": True},
            )


def versioned_bucket(srv: Server, s3, prefix: str):
    """Generator for fixtures: a fresh bucket with versioning enabled, every version and the
    bucket deleted afterwards (while the server still answers)."""
    from botocore.exceptions import ClientError

    from harness import unique_bucket

    name = unique_bucket(prefix)
    s3.create_bucket(Bucket=name)
    enable_versioning(s3, name)
    yield name
    if srv.is_running() and srv.health(timeout=5) == 200:
        try:
            delete_every_version(srv, name)
            s3.delete_bucket(Bucket=name)
        except (AssertionError, ClientError):
            pass


def err(e: pytest.ExceptionInfo) -> tuple[int, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def headers_of(e: pytest.ExceptionInfo) -> dict:
    return e.value.response["ResponseMetadata"]["HTTPHeaders"]

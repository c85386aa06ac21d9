//! Object headers in both directions: which request headers become stored metadata, which
//! response headers an object gets, Range parsing, and the conditional-request rules
//! (RFC 9110 section 13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match,
//! If-Modified-Since).

use std::time::{Duration, UNIX_EPOCH};

use minnow_net::http::RequestHead;
use minnow_net::s3::error::{S3Error, S3ErrorCode};

use crate::object::{ObjectInfo, PutOptions, StorageClass, Versioning, META_STORAGE_CLASS};

/// Standard headers stored with an object and returned on GET/HEAD.
const STORED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "cache-control",
    "content-language",
    "expires",
];

/// User metadata (x-amz-meta-*) limit, as S3: 2 KiB of names and values.
const USER_META_MAX_BYTES: usize = 2048;

/// Metadata, storage class and tags (`x-amz-tagging`) from a PUT / CreateMultipartUpload /
/// CopyObject(REPLACE) request. The bucket's versioning is the caller's to fill in.
pub fn put_options(head: &RequestHead) -> Result<PutOptions, S3Error> {
    let mut meta = Vec::new();
    let mut user_bytes = 0usize;
    for (name, value) in head.headers.iter() {
        let name = name.as_str();
        let stored = STORED_HEADERS.contains(&name) || name.starts_with("x-amz-meta-");
        if !stored {
            continue;
        }
        let mut value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "content-encoding" {
            // `aws-chunked` describes the upload's framing, not the object: S3 drops it.
            value = without_aws_chunked(&value);
            if value.is_empty() {
                continue;
            }
        }
        if name.starts_with("x-amz-meta-") {
            user_bytes += name.len() - "x-amz-meta-".len() + value.len();
        }
        meta.push((name.to_string(), value));
    }
    if user_bytes > USER_META_MAX_BYTES {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge));
    }
    let storage_class = match head.header("x-amz-storage-class") {
        None => None,
        Some(v) => Some(StorageClass::parse(v).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidStorageClass,
                format!("storage class {v} is not supported: use STANDARD or REDUCED_REDUNDANCY"),
            )
        })?),
    };
    let tags = minnow_net::s3::tagging::request_tags(head)?;
    Ok(PutOptions {
        meta,
        storage_class,
        tags,
        versioning: Versioning::Unversioned,
    })
}

/// A Content-Encoding list without its `aws-chunked` entry.
fn without_aws_chunked(value: &str) -> String {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("aws-chunked"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Response headers describing an object (GET, HEAD).
pub fn object_headers(info: &ObjectInfo, with_checksums: bool) -> Vec<(String, String)> {
    let mut h = vec![
        ("etag".to_string(), quoted(&info.etag)),
        ("last-modified".to_string(), http_date(info.mod_time_ns)),
        ("accept-ranges".to_string(), "bytes".to_string()),
    ];
    if info.meta_value("content-type").is_none() {
        h.push(("content-type".into(), "binary/octet-stream".into()));
    }
    for (k, v) in &info.meta {
        if k == META_STORAGE_CLASS {
            h.push(("x-amz-storage-class".into(), v.clone()));
        } else if STORED_HEADERS.contains(&k.as_str()) || k.starts_with("x-amz-meta-") {
            h.push((k.clone(), v.clone()));
        }
    }
    if info.parts.len() > 1 {
        h.push(("x-amz-mp-parts-count".into(), info.parts.len().to_string()));
    }
    if !info.tags.is_empty() {
        h.push(("x-amz-tagging-count".into(), info.tags.len().to_string()));
    }
    if with_checksums {
        for (alg, value) in &info.checksums {
            h.push((
                format!("x-amz-checksum-{}", alg.to_ascii_lowercase()),
                value.clone(),
            ));
        }
    }
    h
}

/// `response-*` query overrides (GET only, signed requests).
pub fn apply_overrides(head: &RequestHead, headers: &mut Vec<(String, String)>) {
    const OVERRIDES: [(&str, &str); 6] = [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ];
    for (param, header) in OVERRIDES {
        if let Some(v) = head.query_value(param) {
            headers.retain(|(k, _)| k != header);
            headers.push((header.to_string(), v));
        }
    }
}

/// `"etag"`.
pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// RFC 7231 IMF-fixdate.
pub fn http_date(ns: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_nanos(ns.max(0) as u64))
}

/// A byte range of an object: `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub first: u64,
    /// Last byte (inclusive).
    pub last: u64,
}

/// Parse a Range header for an object of `size`. `Ok(None)`: no range, or one S3 ignores
/// (syntax it does not understand, several ranges); `Err`: unsatisfiable (416).
pub fn parse_range(value: Option<&str>, size: u64) -> Result<Option<ByteRange>, S3Error> {
    let Some(value) = value else { return Ok(None) };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = || S3Error::with_message(S3ErrorCode::InvalidRange, format!("size={size}"));
    let range = match (a.trim(), b.trim()) {
        ("", "") => return Ok(None),
        ("", suffix) => {
            let Ok(n) = suffix.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 || size == 0 {
                return Err(unsatisfiable());
            }
            ByteRange {
                first: size.saturating_sub(n),
                last: size - 1,
            }
        }
        (first, last) => {
            let Ok(first) = first.parse::<u64>() else {
                return Ok(None);
            };
            let last = if last.is_empty() {
                u64::MAX
            } else {
                let Ok(l) = last.parse::<u64>() else {
                    return Ok(None);
                };
                if l < first {
                    return Ok(None);
                }
                l
            };
            if first >= size {
                return Err(unsatisfiable());
            }
            ByteRange {
                first,
                last: last.min(size - 1),
            }
        }
    };
    Ok(Some(range))
}

/// Outcome of the conditional headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the request.
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// Evaluate If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since (in that order)
/// with the given header names (plain, or `x-amz-copy-source-if-*` for copies).
pub fn check_conditions(
    head: &RequestHead,
    info: &ObjectInfo,
    names: &ConditionNames,
) -> Precondition {
    let etag_matches = |list: &str| {
        list.split(',')
            .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
            .any(|t| t == "*" || t == info.etag)
    };
    let modified_secs = info.mod_time_ns.div_euclid(1_000_000_000);
    let since = |name: &str| -> Option<i64> {
        head.header(name)
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
    };
    if let Some(list) = head.header(names.if_match) {
        if !etag_matches(list) {
            return Precondition::Failed;
        }
    } else if let Some(t) = since(names.if_unmodified_since) {
        if modified_secs > t {
            return Precondition::Failed;
        }
    }
    if let Some(list) = head.header(names.if_none_match) {
        if etag_matches(list) {
            return names.on_none_match;
        }
    } else if let Some(t) = since(names.if_modified_since) {
        if modified_secs <= t {
            return names.on_none_match;
        }
    }
    Precondition::Proceed
}

/// Header names of one family of conditions.
pub struct ConditionNames {
    if_match: &'static str,
    if_none_match: &'static str,
    if_modified_since: &'static str,
    if_unmodified_since: &'static str,
    /// What a failed If-None-Match / If-Modified-Since means (304 on GET, 412 on copy).
    on_none_match: Precondition,
}

/// GET/HEAD conditions.
pub const GET_CONDITIONS: ConditionNames = ConditionNames {
    if_match: "if-match",
    if_none_match: "if-none-match",
    if_modified_since: "if-modified-since",
    if_unmodified_since: "if-unmodified-since",
    on_none_match: Precondition::NotModified,
};

/// CopyObject / UploadPartCopy source conditions.
pub const COPY_CONDITIONS: ConditionNames = ConditionNames {
    if_match: "x-amz-copy-source-if-match",
    if_none_match: "x-amz-copy-source-if-none-match",
    if_modified_since: "x-amz-copy-source-if-modified-since",
    if_unmodified_since: "x-amz-copy-source-if-unmodified-since",
    on_none_match: Precondition::Failed,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u64, last: u64) -> Option<ByteRange> {
        Some(ByteRange { first, last })
    }

    /// (Range header, object size, expected: Ok(range or ignored) / Err = 416).
    type RangeCase = (&'static str, u64, Result<Option<ByteRange>, ()>);

    #[test]
    fn ranges() {
        let cases: &[RangeCase] = &[
            ("bytes=0-9", 100, Ok(r(0, 9))),
            ("bytes=10-", 100, Ok(r(10, 99))),
            ("bytes=-10", 100, Ok(r(90, 99))),
            ("bytes=-200", 100, Ok(r(0, 99))),
            ("bytes=50-500", 100, Ok(r(50, 99))),
            ("bytes=99-99", 100, Ok(r(99, 99))),
            ("bytes=100-", 100, Err(())),
            ("bytes=100-200", 100, Err(())),
            ("bytes=-0", 100, Err(())),
            ("bytes=0-0", 0, Err(())),
            ("bytes=9-3", 100, Ok(None)),
            ("bytes=0-1,5-6", 100, Ok(None)),
            ("items=0-1", 100, Ok(None)),
            ("bytes=x-1", 100, Ok(None)),
        ];
        for (value, size, want) in cases {
            let got = parse_range(Some(value), *size).map_err(|e| {
                assert_eq!(e.code, S3ErrorCode::InvalidRange);
            });
            assert_eq!(got, *want, "{value} of {size}");
        }
        assert_eq!(parse_range(None, 5).unwrap(), None);
    }

    #[test]
    fn aws_chunked_is_not_stored() {
        assert_eq!(without_aws_chunked("aws-chunked"), "");
        assert_eq!(without_aws_chunked("aws-chunked,gzip"), "gzip");
        assert_eq!(without_aws_chunked("gzip, aws-chunked"), "gzip");
        assert_eq!(without_aws_chunked("br"), "br");
    }
}

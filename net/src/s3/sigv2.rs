//! Legacy AWS Signature Version 2 (AWS "Signing and Authenticating REST Requests"), still sent
//! by older tools and by boto3 with `signature_version='s3'` (its presigned URLs). Reached
//! through [`super::sigv4::authenticate`], which dispatches here for `Authorization: AWS
//! <key>:<sig>` and for the `AWSAccessKeyId`/`Signature`/`Expires` query form.
//!
//! ```text
//! Signature    = Base64(HMAC-SHA1(secret, UTF-8(StringToSign)))
//! StringToSign = HTTP-Verb\n Content-MD5\n Content-Type\n Date\n
//!                CanonicalizedAmzHeaders CanonicalizedResource
//! CanonicalizedAmzHeaders = for each x-amz-* header, sorted: "name:v1,v2\n"
//! CanonicalizedResource   = ["/" bucket, when virtual-hosted] raw path
//!                           ["?" sub-resources sorted by name, "&"-joined]
//! ```
//!
//! `Date` is the Date header; empty when `x-amz-date` is sent (it is then among the amz
//! headers); the `Expires` value (seconds since the epoch) for the query form.
//!
//! Two spots where clients disagree, both accepted (each candidate is an exact string the
//! request itself determines, so accepting either does not widen what a signature covers):
//! a sub-resource sent as `uploads=` is signed as `uploads=` by botocore and as `uploads` by
//! minio-go; and when both Date and x-amz-date are sent, some clients still sign the Date.
//! SigV2 does not sign the body: the payload mode is always unsigned (Content-MD5, which is
//! signed, is still checked by the payload pipeline).

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::http::RequestHead;
use crate::s3::error::{S3Error, S3ErrorCode};
use crate::s3::sigv4::{
    parse_http_date, query_get, AuthOk, Credentials, PayloadMode, MAX_CLOCK_SKEW,
};

type HmacSha1 = Hmac<Sha1>;

/// The query parameters that are part of the CanonicalizedResource (sorted): the union of the
/// lists botocore and MinIO use.
pub const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "encryption",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// `Authorization: AWS <access key>:<signature>`; `rest` is the part after `AWS `.
pub(crate) fn authenticate_header(
    head: &RequestHead,
    rest: &str,
    creds: &Credentials,
    now: SystemTime,
    virtual_host_bucket: Option<&str>,
) -> Result<AuthOk, S3Error> {
    let (access_key, signature) = rest
        .trim()
        .rsplit_once(':')
        .filter(|(key, sig)| !key.is_empty() && !sig.is_empty())
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::AuthorizationHeaderMalformed,
                "AWS authorization header is invalid. Expected AwsAccessKeyId:signature",
            )
        })?;
    if access_key != creds.access_key {
        return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId));
    }
    let header = |name: &str| -> Option<&str> {
        head.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let amz_date = header("x-amz-date");
    let date = header("date");
    let missing = || {
        S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    };
    let timestamp = amz_date
        .or(date)
        .ok_or_else(missing)
        .map(|text| parse_http_date(text).or_else(|| super::sigv4::parse_amz_date(text)))?
        .ok_or_else(missing)?;
    let skew = now
        .duration_since(timestamp)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_CLOCK_SKEW {
        return Err(S3Error::new(S3ErrorCode::RequestTimeTooSkewed));
    }
    // The spec: with x-amz-date, the Date line is empty. Some clients sign the Date anyway.
    let mut date_lines = vec![if amz_date.is_some() {
        ""
    } else {
        date.unwrap_or("")
    }];
    if let (Some(_), Some(date)) = (amz_date, date) {
        date_lines.push(date);
    }
    verify_any(head, creds, signature, &date_lines, virtual_host_bucket)
}

/// `?AWSAccessKeyId=<key>&Expires=<unix seconds>&Signature=<base64>`.
pub(crate) fn authenticate_query(
    head: &RequestHead,
    params: &[(Vec<u8>, Vec<u8>)],
    creds: &Credentials,
    now: SystemTime,
    virtual_host_bucket: Option<&str>,
) -> Result<AuthOk, S3Error> {
    let get = |name: &str| -> Result<String, S3Error> {
        query_get(params, name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                S3Error::with_message(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    format!("Query-string authentication requires the {name} parameter"),
                )
            })
    };
    let access_key = get("AWSAccessKeyId")?;
    // A '+' of the base64 signature sent unescaped decodes to a space: base64 has no spaces.
    let signature = get("Signature")?.replace(' ', "+");
    let expires = get("Expires")?;
    if access_key != creds.access_key {
        return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId));
    }
    let expires_secs: u64 = expires.parse().map_err(|_| {
        S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "Expires must be a number of seconds since the epoch",
        )
    })?;
    if now > SystemTime::UNIX_EPOCH + Duration::from_secs(expires_secs) {
        return Err(S3Error::new(S3ErrorCode::ExpiredPresignedRequest));
    }
    verify_any(head, creds, &signature, &[&expires], virtual_host_bucket)
}

/// Tries each acceptable string to sign; `SignatureDoesNotMatch` if none matches.
fn verify_any(
    head: &RequestHead,
    creds: &Credentials,
    signature: &str,
    date_lines: &[&str],
    virtual_host_bucket: Option<&str>,
) -> Result<AuthOk, S3Error> {
    let Some(provided) = BASE64.decode(signature.trim().as_bytes()).ok() else {
        return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch));
    };
    let header = |name: &str| -> &[u8] {
        head.headers
            .get(name)
            .map(|v| v.as_bytes().trim_ascii())
            .unwrap_or_default()
    };
    let amz_headers = canonical_amz_headers(head);
    let resources = canonical_resources(&head.path, &head.query, virtual_host_bucket);
    for date in date_lines {
        for resource in &resources {
            let sts = string_to_sign(
                head.method.as_str(),
                header("content-md5"),
                header("content-type"),
                date.as_bytes(),
                &amz_headers,
                resource,
            );
            let mut mac =
                HmacSha1::new_from_slice(creds.secret_key.as_bytes()).expect("any key length");
            mac.update(&sts);
            if mac.verify_slice(&provided).is_ok() {
                return Ok(AuthOk {
                    access_key: creds.access_key.clone(),
                    payload: PayloadMode::Unsigned,
                });
            }
        }
    }
    Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch))
}

/// The SigV2 string to sign, as bytes (header values may be any octets).
pub fn string_to_sign(
    method: &str,
    content_md5: &[u8],
    content_type: &[u8],
    date: &[u8],
    canonical_amz_headers: &[u8],
    canonical_resource: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    for part in [method.as_bytes(), content_md5, content_type, date] {
        out.extend_from_slice(part);
        out.push(b'\n');
    }
    out.extend_from_slice(canonical_amz_headers);
    out.extend_from_slice(canonical_resource.as_bytes());
    out
}

/// `name:value[,value]\n` for every `x-amz-*` header, sorted by lower-case name; values
/// trimmed.
fn canonical_amz_headers(head: &RequestHead) -> Vec<u8> {
    let mut names: Vec<&str> = head
        .headers
        .keys()
        .map(|n| n.as_str())
        .filter(|n| n.starts_with("x-amz-"))
        .collect();
    names.sort_unstable();
    let mut out = Vec::new();
    for name in names {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (index, value) in head.headers.get_all(name).iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(value.as_bytes().trim_ascii());
        }
        out.push(b'\n');
    }
    out
}

/// The acceptable CanonicalizedResource strings (one or two, see the module header).
fn canonical_resources(raw_path: &str, raw_query: &str, bucket: Option<&str>) -> Vec<String> {
    let mut base = String::new();
    if let Some(bucket) = bucket {
        base.push('/');
        base.push_str(bucket);
    }
    base.push_str(if raw_path.is_empty() { "/" } else { raw_path });

    // (name, value, had '=') for each sub-resource, sorted by name (stable).
    let mut subs: Vec<(String, String, bool)> = raw_query
        .split('&')
        .filter_map(|piece| {
            let (key, value, has_eq) = match piece.split_once('=') {
                Some((k, v)) => (k, v, true),
                None => (piece, "", false),
            };
            let key = percent_encoding::percent_decode_str(key)
                .decode_utf8()
                .ok()?
                .into_owned();
            if !SUB_RESOURCES.contains(&key.as_str()) {
                return None;
            }
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned();
            Some((key, value, has_eq))
        })
        .collect();
    subs.sort_by(|a, b| a.0.cmp(&b.0));

    let render = |keep_empty_eq: bool| -> String {
        let mut out = base.clone();
        for (index, (key, value, has_eq)) in subs.iter().enumerate() {
            out.push(if index == 0 { '?' } else { '&' });
            out.push_str(key);
            if !value.is_empty() || (keep_empty_eq && *has_eq) {
                out.push('=');
                out.push_str(value);
            }
        }
        out
    };
    let mut candidates = vec![render(true)];
    let bare = render(false);
    if bare != candidates[0] {
        candidates.push(bare);
    }
    candidates
}

/// Base64(HMAC-SHA1(secret, string_to_sign)).
pub fn sign(secret: &str, string_to_sign: &[u8]) -> String {
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(string_to_sign);
    BASE64.encode(mac.finalize().into_bytes())
}

/// Signs a path-style request with SigV2 in the Authorization header (client side, for tests
/// and old-client emulation): returns `headers` followed by `date` (now, as an HTTP date) and
/// `authorization`. `path` and `query` are the raw strings that will be sent.
pub fn sign_request_v2(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    creds: &Credentials,
    now: SystemTime,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| {
            !n.eq_ignore_ascii_case("date") && !n.eq_ignore_ascii_case("authorization")
        })
        .cloned()
        .collect();
    let date = httpdate::fmt_http_date(now);
    out.push(("date".into(), date.clone()));
    let head = client_head(method, path, query, &out);
    let value = |name: &str| -> Vec<u8> {
        head.headers
            .get(name)
            .map(|v| v.as_bytes().trim_ascii().to_vec())
            .unwrap_or_default()
    };
    let date_line = if head.headers.contains_key("x-amz-date") {
        ""
    } else {
        &date
    };
    let sts = string_to_sign(
        method,
        &value("content-md5"),
        &value("content-type"),
        date_line.as_bytes(),
        &canonical_amz_headers(&head),
        &canonical_resources(path, query, None)[0],
    );
    out.push((
        "authorization".into(),
        format!("AWS {}:{}", creds.access_key, sign(&creds.secret_key, &sts)),
    ));
    out
}

/// Presigns a path-style request with SigV2 (client side): returns the query string to send:
/// `query` followed by `AWSAccessKeyId`, `Expires` and `Signature`.
pub fn presign_v2(
    method: &str,
    path: &str,
    query: &str,
    creds: &Credentials,
    expires_at: SystemTime,
) -> String {
    let expires = expires_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        .to_string();
    let head = client_head(method, path, query, &[]);
    let sts = string_to_sign(
        method,
        b"",
        b"",
        expires.as_bytes(),
        &canonical_amz_headers(&head),
        &canonical_resources(path, query, None)[0],
    );
    let signature: String = percent_encoding::utf8_percent_encode(
        &sign(&creds.secret_key, &sts),
        percent_encoding::NON_ALPHANUMERIC,
    )
    .collect();
    let mut out = String::from(query);
    if !out.is_empty() {
        out.push('&');
    }
    out.push_str(&format!(
        "AWSAccessKeyId={}&Expires={expires}&Signature={signature}",
        creds.access_key
    ));
    out
}

/// A request head built from client-side parts, so the signer canonicalises exactly as the
/// verifier does. Headers that are not valid HTTP are skipped (they could not be sent).
fn client_head(method: &str, path: &str, query: &str, headers: &[(String, String)]) -> RequestHead {
    let mut map = ::http::HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            ::http::header::HeaderName::from_bytes(name.as_bytes()),
            ::http::HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    RequestHead {
        method: ::http::Method::from_bytes(method.as_bytes()).unwrap_or(::http::Method::GET),
        target: if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        },
        path: path.to_owned(),
        query: query.to_owned(),
        version_minor: 1,
        headers: map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::sigv4::tests::{aws_creds, make_head};
    use crate::s3::sigv4::{authenticate, authenticate_with_bucket};

    fn at(date: &str) -> SystemTime {
        parse_http_date(date).expect("date")
    }

    /// AWS "Signing and Authenticating REST Requests": the published SigV2 examples
    /// (virtual-hosted bucket `johnsmith`).
    #[test]
    fn aws_examples() {
        let creds = aws_creds();
        // (method, target, Date, other headers, documented signature)
        type Case<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: [Case; 4] = [
            (
                "GET",
                "/photos/puppy.jpg",
                "Tue, 27 Mar 2007 19:36:42 +0000",
                &[],
                "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
            ),
            (
                "PUT",
                "/photos/puppy.jpg",
                "Tue, 27 Mar 2007 21:15:45 +0000",
                &[("content-type", "image/jpeg"), ("content-length", "94328")],
                "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
            ),
            (
                "GET",
                "/?prefix=photos&max-keys=50&marker=puppy",
                "Tue, 27 Mar 2007 19:42:41 +0000",
                &[("user-agent", "Mozilla/5.0")],
                "htDYFYduRNen8P9ZfE/s9SuKy0U=",
            ),
            (
                "GET",
                "/?acl",
                "Tue, 27 Mar 2007 19:44:46 +0000",
                &[],
                "c2WLPFtWHVgbEmeEG93a4cG37dM=",
            ),
        ];
        for (method, target, date, extra, signature) in cases {
            let authorization = format!("AWS AKIAIOSFODNN7EXAMPLE:{signature}");
            let mut headers = vec![
                ("host", "johnsmith.s3.amazonaws.com"),
                ("date", date),
                ("authorization", authorization.as_str()),
            ];
            headers.extend_from_slice(extra);
            let head = make_head(method, target, &headers);
            let ok =
                authenticate_with_bucket(&head, &creds, "us-east-1", at(date), Some("johnsmith"))
                    .expect(target);
            assert_eq!(ok.payload, PayloadMode::Unsigned);
            // Path-style reading of the same request names another resource.
            assert_eq!(
                authenticate(&head, &creds, at(date))
                    .expect_err(target)
                    .code,
                S3ErrorCode::SignatureDoesNotMatch
            );
        }
    }

    /// Same page: query-string authentication example.
    #[test]
    fn aws_example_query_string() {
        let creds = aws_creds();
        let head = make_head(
            "GET",
            "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
            &[("host", "johnsmith.s3.amazonaws.com")],
        );
        let before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_175_139_000);
        authenticate_with_bucket(&head, &creds, "us-east-1", before, Some("johnsmith"))
            .expect("valid");
        let after = SystemTime::UNIX_EPOCH + Duration::from_secs(1_175_139_621);
        assert_eq!(
            authenticate_with_bucket(&head, &creds, "us-east-1", after, Some("johnsmith"))
                .expect_err("expired")
                .code,
            S3ErrorCode::ExpiredPresignedRequest
        );
        // An unescaped '+' in the signature still verifies.
        let head = make_head(
            "GET",
            "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8%3D",
            &[("host", "johnsmith.s3.amazonaws.com")],
        );
        authenticate_with_bucket(&head, &creds, "us-east-1", before, Some("johnsmith"))
            .expect("unescaped +");
    }

    #[test]
    fn string_to_sign_with_amz_headers_and_sub_resources() {
        let head = make_head(
            "PUT",
            "/b/k?uploadId=abc%2B1&partNumber=2&prefix=ignored&response-content-type=text%2Fplain",
            &[
                ("x-amz-meta-b", " two "),
                ("x-amz-acl", "public-read"),
                ("x-amz-meta-b", "three"),
                ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
                ("content-type", "application/x-download"),
            ],
        );
        let resources = canonical_resources(&head.path, &head.query, None);
        assert_eq!(
            resources,
            ["/b/k?partNumber=2&response-content-type=text/plain&uploadId=abc+1"]
        );
        let sts = string_to_sign(
            "PUT",
            b"4gJE4saaMU4BqNR0kLY+lw==",
            b"application/x-download",
            b"Tue, 27 Mar 2007 21:06:08 +0000",
            &canonical_amz_headers(&head),
            &resources[0],
        );
        assert_eq!(
            String::from_utf8(sts).expect("utf8"),
            "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
             x-amz-acl:public-read\nx-amz-meta-b:two,three\n\
             /b/k?partNumber=2&response-content-type=text/plain&uploadId=abc+1"
        );
        // `uploads` vs `uploads=`: both forms are candidates.
        assert_eq!(
            canonical_resources("/b/k", "uploads=", None),
            ["/b/k?uploads=", "/b/k?uploads"]
        );
        assert_eq!(
            canonical_resources("/b/k", "uploads", None),
            ["/b/k?uploads"]
        );
    }

    #[test]
    fn round_trips_and_failures() {
        let creds = aws_creds();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (path, query) in [
            ("/b/k", ""),
            ("/b/a%20b%2Bc", "uploadId=x%2By&partNumber=3"),
            ("/b", "acl"),
            ("/b/k", "uploads="),
        ] {
            let headers = vec![
                ("host".to_owned(), "h".to_owned()),
                ("content-type".to_owned(), "text/plain".to_owned()),
                ("x-amz-meta-x".to_owned(), "1".to_owned()),
            ];
            let signed = sign_request_v2("PUT", path, query, &headers, &creds, now);
            let refs: Vec<(&str, &str)> = signed
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let target = if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            };
            let head = make_head("PUT", &target, &refs);
            authenticate(&head, &creds, now).unwrap_or_else(|e| panic!("{target}: {e:?}"));
            // Skew.
            assert_eq!(
                authenticate(&head, &creds, now + MAX_CLOCK_SKEW + Duration::from_secs(1))
                    .expect_err("skew")
                    .code,
                S3ErrorCode::RequestTimeTooSkewed
            );
            // A changed signed header.
            let mut tampered = refs.clone();
            tampered.retain(|(n, _)| *n != "x-amz-meta-x");
            tampered.push(("x-amz-meta-x", "2"));
            assert_eq!(
                authenticate(&make_head("PUT", &target, &tampered), &creds, now)
                    .expect_err("tampered")
                    .code,
                S3ErrorCode::SignatureDoesNotMatch
            );
            // An x-amz-* header added after signing: every one is in the string to sign, so
            // SigV2 needs no separate "all signed" rule (SigV4 does).
            let mut added = refs.clone();
            added.push(("x-amz-copy-source", "b/secret"));
            assert_eq!(
                authenticate(&make_head("PUT", &target, &added), &creds, now)
                    .expect_err("added")
                    .code,
                S3ErrorCode::SignatureDoesNotMatch
            );

            let presigned = presign_v2("GET", path, query, &creds, now + Duration::from_secs(60));
            let head = make_head("GET", &format!("{path}?{presigned}"), &[("host", "h")]);
            authenticate(&head, &creds, now)
                .unwrap_or_else(|e| panic!("presigned {target}: {e:?}"));
            let head = make_head(
                "GET",
                &format!("{path}?{presigned}"),
                &[("host", "h"), ("x-amz-meta-x", "1")],
            );
            assert_eq!(
                authenticate(&head, &creds, now).expect_err("added").code,
                S3ErrorCode::SignatureDoesNotMatch
            );
            assert_eq!(
                authenticate(&head, &creds, now + Duration::from_secs(61))
                    .expect_err("expired")
                    .code,
                S3ErrorCode::ExpiredPresignedRequest
            );
        }
        // Wrong key, wrong secret, malformed header, no date.
        let headers = vec![("host".to_owned(), "h".to_owned())];
        let stranger = Credentials {
            access_key: "NOBODY".into(),
            secret_key: "x".into(),
        };
        let signed = sign_request_v2("GET", "/b/k", "", &headers, &stranger, now);
        let refs: Vec<(&str, &str)> = signed
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            authenticate(&make_head("GET", "/b/k", &refs), &creds, now)
                .expect_err("key")
                .code,
            S3ErrorCode::InvalidAccessKeyId
        );
        let wrong = Credentials {
            access_key: creds.access_key.clone(),
            secret_key: "x".into(),
        };
        let signed = sign_request_v2("GET", "/b/k", "", &headers, &wrong, now);
        let refs: Vec<(&str, &str)> = signed
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            authenticate(&make_head("GET", "/b/k", &refs), &creds, now)
                .expect_err("secret")
                .code,
            S3ErrorCode::SignatureDoesNotMatch
        );
        for value in ["AWS nocolon", "AWS :sig", "AWS key:"] {
            let head = make_head(
                "GET",
                "/b/k",
                &[
                    ("authorization", value),
                    ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
                ],
            );
            assert_eq!(
                authenticate(&head, &creds, now).expect_err(value).code,
                S3ErrorCode::AuthorizationHeaderMalformed
            );
        }
        let head = make_head(
            "GET",
            "/b/k",
            &[("authorization", "AWS AKIAIOSFODNN7EXAMPLE:c2ln")],
        );
        assert_eq!(
            authenticate(&head, &creds, now).expect_err("no date").code,
            S3ErrorCode::AccessDenied
        );
        let head = make_head(
            "GET",
            "/b/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=c2ln",
            &[],
        );
        assert_eq!(
            authenticate(&head, &creds, now)
                .expect_err("no expires")
                .code,
            S3ErrorCode::AuthorizationQueryParametersError
        );
    }
}

//! Request heads: [`parse_head`] turns the bytes of one HTTP/1.x request head into a
//! [`RequestHead`], and the methods on [`RequestHead`] answer the questions the rest of the
//! server asks of it (headers, query parameters, keep-alive, body framing, `Expect`).
//!
//! The parser is push-style and bounded: it is called again with more bytes until the head is
//! complete (`Ok(None)` means "need more", never an error), and it refuses heads over
//! [`MAX_HEAD_BYTES`] or with more than [`MAX_HEADERS`] fields. httparse does the tokenising.
//!
//! Framing is checked here, once, so that no head with ambiguous framing ever reaches a body
//! reader (RFC 9112 §6.3, request smuggling): `Content-Length` together with
//! `Transfer-Encoding`, differing `Content-Length` values, or a transfer coding other than a
//! single `chunked` are all [`HttpError::Malformed`].

use super::{BodyFraming, HttpError, RequestHead, MAX_HEADERS, MAX_HEAD_BYTES};
use ::http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, EXPECT, HOST};
use ::http::{HeaderMap, Method};

/// Parse a complete request head from the start of `buf`.
///
/// `Ok(None)`: the head is not complete yet, read more bytes and call again.
/// `Ok(Some((head, head_len)))`: the head took `buf[..head_len]`; the body (or the next
/// request) starts at `head_len`.
/// `Err(HeadTooLarge)`: over [`MAX_HEAD_BYTES`] or [`MAX_HEADERS`].
/// `Err(Malformed)`: not an HTTP/1.x request, or its framing is ambiguous.
pub fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let window = &buf[..buf.len().min(MAX_HEAD_BYTES)];
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let head_len = match req.parse(window) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD_BYTES => {
            return Err(HttpError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeadTooLarge),
        Err(e) => return Err(HttpError::Malformed(format!("request head: {e}"))),
    };
    debug_assert!(head_len <= MAX_HEAD_BYTES);

    let (Some(method), Some(target), Some(version_minor)) = (req.method, req.path, req.version)
    else {
        // httparse fills all three before it reports Complete.
        return Err(HttpError::Malformed("incomplete request line".into()));
    };
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| HttpError::Malformed(format!("method {method:?}")))?;
    let (path, query) = split_target(target)?;

    let mut headers = HeaderMap::with_capacity(req.headers.len());
    for field in req.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| HttpError::Malformed(format!("header name {:?}", field.name)))?;
        let value = HeaderValue::from_bytes(field.value)
            .map_err(|_| HttpError::Malformed(format!("value of header {name}")))?;
        headers.append(name, value);
    }

    let head = RequestHead {
        method,
        target: target.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        version_minor,
        headers,
    };
    head.validate()?;
    Ok(Some((head, head_len)))
}

/// Split a request-target into raw path and raw query (RFC 9112 §3.2).
/// origin-form `/path?query`, or absolute-form `http://host/path?query` (path taken, "/" if
/// empty). asterisk-form and authority-form are not S3 requests.
fn split_target(target: &str) -> Result<(&str, &str), HttpError> {
    let origin = if target.starts_with('/') {
        target
    } else if let Some(rest) = strip_scheme(target) {
        // "//host:port/path?query" without the scheme: skip the authority.
        match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
            Some(i) => return Ok(("/", &rest[i + 1..])),
            None => "/",
        }
    } else {
        return Err(HttpError::Malformed(format!(
            "request target must start with '/': {target:?}"
        )));
    };
    Ok(match origin.split_once('?') {
        Some((path, query)) => (path, query),
        None => (origin, ""),
    })
}

/// `http://` or `https://` (any case) stripped, or None.
fn strip_scheme(target: &str) -> Option<&str> {
    for scheme in ["http://", "https://"] {
        if target.len() > scheme.len()
            && target.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        {
            return Some(&target[scheme.len()..]);
        }
    }
    None
}

/// The comma-separated list elements of header field values (RFC 9110 §5.6.1), trimmed,
/// empty elements skipped.
pub(crate) fn list_items<'a>(
    values: impl Iterator<Item = &'a str> + 'a,
) -> impl Iterator<Item = &'a str> + 'a {
    values.flat_map(|v| {
        v.split(',')
            .map(|e| e.trim_matches([' ', '\t']))
            .filter(|e| !e.is_empty())
    })
}

/// List elements of every field named `name`. A value that is not visible ASCII yields one
/// `\0` element so that it never compares equal to a token.
fn list_elements<'a>(
    headers: &'a HeaderMap,
    name: &'a HeaderName,
) -> impl Iterator<Item = &'a str> + 'a {
    list_items(
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("\0")),
    )
}

/// The one length given by all `Content-Length` list elements; None when there are none.
/// Differing values, or anything but plain decimal digits, is Malformed (RFC 9112 §6.3).
pub(crate) fn content_length_of<'a>(
    elements: impl Iterator<Item = &'a str>,
) -> Result<Option<u64>, HttpError> {
    let mut length: Option<u64> = None;
    for element in elements {
        let n = parse_decimal(element)
            .ok_or_else(|| HttpError::Malformed(format!("Content-Length {element:?}")))?;
        if length.is_some_and(|l| l != n) {
            return Err(HttpError::Malformed(
                "differing Content-Length values".into(),
            ));
        }
        length = Some(n);
    }
    Ok(length)
}

impl RequestHead {
    /// First value of header `name` (any case), None if absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Query parameters in order, percent-decoded. `+` stays `+` (S3 semantics, not form
    /// encoding); a parameter without `=` has value "". Invalid UTF-8 after decoding is replaced
    /// with U+FFFD.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }

    /// Decoded value of the first query parameter named `name` (compared decoded).
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .find_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k) == name).then(|| percent_decode(v))
            })
    }

    /// Whether the client wants the connection kept open after this request (RFC 9112 §9.3):
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let mut close = false;
        let mut keep = false;
        for token in list_elements(&self.headers, &CONNECTION) {
            close |= token.eq_ignore_ascii_case("close");
            keep |= token.eq_ignore_ascii_case("keep-alive");
        }
        if self.version_minor >= 1 {
            !close
        } else {
            keep && !close
        }
    }

    /// Whether the client sent `Expect: 100-continue` and waits for a `100 Continue` before it
    /// sends the body (HTTP/1.1 only, RFC 9110 §10.1.1).
    pub fn expects_continue(&self) -> bool {
        self.version_minor >= 1
            && list_elements(&self.headers, &EXPECT).any(|e| e.eq_ignore_ascii_case("100-continue"))
    }

    /// How the request body is delimited (RFC 9112 §6.3). Ambiguous framing is an error, never
    /// a guess:
    /// * `Transfer-Encoding` with `Content-Length`: Malformed (smuggling);
    /// * `Transfer-Encoding` other than exactly one `chunked`, or on HTTP/1.0: Malformed;
    /// * `Content-Length` values (repeated fields, comma lists) that differ or are not plain
    ///   decimal digits: Malformed;
    /// * neither: no body.
    pub fn body_framing(&self) -> Result<BodyFraming, HttpError> {
        let has_length = self.headers.contains_key(CONTENT_LENGTH);
        if self.headers.contains_key(::http::header::TRANSFER_ENCODING) {
            if has_length {
                return Err(HttpError::Malformed(
                    "both Content-Length and Transfer-Encoding".into(),
                ));
            }
            if self.version_minor == 0 {
                return Err(HttpError::Malformed("Transfer-Encoding in HTTP/1.0".into()));
            }
            let mut codings = list_elements(&self.headers, &::http::header::TRANSFER_ENCODING);
            return match (codings.next(), codings.next()) {
                (Some(c), None) if c.eq_ignore_ascii_case("chunked") => Ok(BodyFraming::Chunked),
                _ => Err(HttpError::Malformed(
                    "unsupported Transfer-Encoding (only a single 'chunked')".into(),
                )),
            };
        }
        if !has_length {
            return Ok(BodyFraming::None);
        }
        match content_length_of(list_elements(&self.headers, &CONTENT_LENGTH))? {
            Some(n) => Ok(BodyFraming::Length(n)),
            None => Err(HttpError::Malformed("empty Content-Length".into())),
        }
    }

    /// Checks every head gets before it is handed out: framing is unambiguous and an HTTP/1.1
    /// request carries exactly one Host (RFC 9112 §3.2: "MUST respond with 400").
    fn validate(&self) -> Result<(), HttpError> {
        self.body_framing()?;
        let hosts = self.headers.get_all(HOST).iter().count();
        if hosts > 1 || (hosts == 0 && self.version_minor >= 1) {
            return Err(HttpError::Malformed(format!("{hosts} Host fields")));
        }
        Ok(())
    }
}

/// 1*DIGIT as u64; None on anything else or overflow.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// aws-cli 2 `s3 cp` of a 16 MiB file part: signed headers, Expect, unsigned payload.
    const AWS_CLI_PUT: &[u8] = b"PUT /photos/2024/IMG_0001.jpg?partNumber=3&uploadId=OGEwNTk2YzUtY2Q1Mi00ZDk0LWE2ZjgtNjQ4NjE4 HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\
Accept-Encoding: identity\r\n\
Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\n\
User-Agent: aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off command/s3.cp\r\n\
Expect: 100-continue\r\n\
X-Amz-Date: 20240315T101502Z\r\n\
X-Amz-Content-SHA256: UNSIGNED-PAYLOAD\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=minioadmin/20240315/us-east-1/s3/aws4_request, SignedHeaders=content-md5;host;x-amz-content-sha256;x-amz-date, Signature=2f1d7ad7a4e0d2c1d0a6c5a8f5b2a9cbd4f3c0a1b7e6d5c4b3a2f1e0d9c8b7a6\r\n\
Content-Length: 16777216\r\n\
\r\n";

    /// boto3 1.36 put_object with the default CRC32 checksum: aws-chunked body with trailer.
    const BOTO3_PUT: &[u8] = b"PUT /bucket/dir%20a/key%2Bplus.txt HTTP/1.1\r\n\
Host: localhost:9000\r\n\
Accept-Encoding: identity\r\n\
x-amz-sdk-checksum-algorithm: CRC32\r\n\
User-Agent: Boto3/1.36.2 md/Botocore#1.36.2 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.36.2\r\n\
Content-Encoding: aws-chunked\r\n\
X-Amz-Trailer: x-amz-checksum-crc32\r\n\
X-Amz-Decoded-Content-Length: 11\r\n\
X-Amz-Date: 20250120T080910Z\r\n\
X-Amz-Content-SHA256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=minioadmin/20250120/us-east-1/s3/aws4_request, SignedHeaders=accept-encoding;content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer, Signature=8c3e9f0a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e\r\n\
Content-Length: 61\r\n\
\r\n";

    /// aws-cli `s3 ls s3://bucket/a/b/`: ListObjectsV2 with an encoded prefix.
    const AWS_CLI_LIST: &[u8] = b"GET /bucket?list-type=2&prefix=a%2Fb%2F&delimiter=%2F&encoding-type=url HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\
Accept-Encoding: identity\r\n\
User-Agent: aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off command/s3.ls\r\n\
X-Amz-Date: 20240315T101502Z\r\n\
X-Amz-Content-SHA256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=minioadmin/20240315/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e\r\n\
\r\n";

    /// boto3 get_object with a Range, on a virtual-host-style bucket.
    const BOTO3_GET: &[u8] = b"GET /photos/IMG_0001.jpg HTTP/1.1\r\n\
Host: my-bucket.s3.local:9000\r\n\
Range: bytes=0-1023\r\n\
User-Agent: Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.2\r\n\
X-Amz-Date: 20240315T101502Z\r\n\
X-Amz-Content-SHA256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=minioadmin/20240315/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=aa1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e\r\n\
Connection: close\r\n\
\r\n";

    /// curl-like chunked upload in absolute form over HTTP/1.1.
    const CHUNKED_ABSOLUTE: &[u8] = b"PUT http://127.0.0.1:9000/bucket/key HTTP/1.1\r\n\
Host: 127.0.0.1:9000\r\n\
Transfer-Encoding: chunked\r\n\
\r\n";

    /// HTTP/1.0 keep-alive probe (load balancers).
    const HTTP10_HEALTH: &[u8] =
        b"HEAD /minio/health/live HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";

    struct Case {
        name: &'static str,
        bytes: &'static [u8],
        method: Method,
        path: &'static str,
        query: &'static str,
        framing: BodyFraming,
        keep_alive: bool,
        expects_continue: bool,
        headers: &'static [(&'static str, &'static str)],
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "aws-cli upload part",
                bytes: AWS_CLI_PUT,
                method: Method::PUT,
                path: "/photos/2024/IMG_0001.jpg",
                query: "partNumber=3&uploadId=OGEwNTk2YzUtY2Q1Mi00ZDk0LWE2ZjgtNjQ4NjE4",
                framing: BodyFraming::Length(16 << 20),
                keep_alive: true,
                expects_continue: true,
                headers: &[
                    ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                    ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
                    ("host", "127.0.0.1:9000"),
                ],
            },
            Case {
                name: "boto3 put aws-chunked",
                bytes: BOTO3_PUT,
                method: Method::PUT,
                path: "/bucket/dir%20a/key%2Bplus.txt",
                query: "",
                framing: BodyFraming::Length(61),
                keep_alive: true,
                expects_continue: false,
                headers: &[
                    ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                    ("x-amz-decoded-content-length", "11"),
                    ("content-encoding", "aws-chunked"),
                    ("X-Amz-Trailer", "x-amz-checksum-crc32"),
                ],
            },
            Case {
                name: "aws-cli list v2",
                bytes: AWS_CLI_LIST,
                method: Method::GET,
                path: "/bucket",
                query: "list-type=2&prefix=a%2Fb%2F&delimiter=%2F&encoding-type=url",
                framing: BodyFraming::None,
                keep_alive: true,
                expects_continue: false,
                headers: &[("x-amz-date", "20240315T101502Z")],
            },
            Case {
                name: "boto3 ranged get, closing",
                bytes: BOTO3_GET,
                method: Method::GET,
                path: "/photos/IMG_0001.jpg",
                query: "",
                framing: BodyFraming::None,
                keep_alive: false,
                expects_continue: false,
                headers: &[
                    ("range", "bytes=0-1023"),
                    ("host", "my-bucket.s3.local:9000"),
                ],
            },
            Case {
                name: "chunked absolute-form",
                bytes: CHUNKED_ABSOLUTE,
                method: Method::PUT,
                path: "/bucket/key",
                query: "",
                framing: BodyFraming::Chunked,
                keep_alive: true,
                expects_continue: false,
                headers: &[("transfer-encoding", "chunked")],
            },
            Case {
                name: "HTTP/1.0 keep-alive, no Host",
                bytes: HTTP10_HEALTH,
                method: Method::HEAD,
                path: "/minio/health/live",
                query: "",
                framing: BodyFraming::None,
                keep_alive: true,
                expects_continue: false,
                headers: &[],
            },
        ]
    }

    fn parse_ok(bytes: &[u8]) -> (RequestHead, usize) {
        match parse_head(bytes) {
            Ok(Some(parsed)) => parsed,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn real_client_heads() {
        for case in cases() {
            let mut bytes = case.bytes.to_vec();
            bytes.extend_from_slice(b"BODY");
            let (head, len) = parse_ok(&bytes);
            assert_eq!(len, case.bytes.len(), "{}", case.name);
            assert_eq!(head.method, case.method, "{}", case.name);
            assert_eq!(head.path, case.path, "{}", case.name);
            assert_eq!(head.query, case.query, "{}", case.name);
            assert_eq!(
                head.body_framing().ok(),
                Some(case.framing),
                "{}",
                case.name
            );
            assert_eq!(head.keep_alive(), case.keep_alive, "{}", case.name);
            assert_eq!(
                head.expects_continue(),
                case.expects_continue,
                "{}",
                case.name
            );
            for (name, value) in case.headers {
                assert_eq!(head.header(name), Some(*value), "{}: {name}", case.name);
            }
        }
    }

    #[test]
    fn partial_heads_at_every_split() {
        for case in cases() {
            for split in 0..case.bytes.len() {
                assert!(
                    matches!(parse_head(&case.bytes[..split]), Ok(None)),
                    "{} split at {split}",
                    case.name
                );
            }
        }
    }

    #[test]
    fn query_decoding() {
        let (head, _) = parse_ok(AWS_CLI_LIST);
        assert_eq!(head.query_value("prefix").as_deref(), Some("a/b/"));
        assert_eq!(head.query_value("list-type").as_deref(), Some("2"));
        assert_eq!(head.query_value("missing"), None);

        let (head, _) = parse_ok(
            b"GET /b?a=1&b=x%2By+z&uploads&&d=&%70refix=p%20q&a=2 HTTP/1.1\r\nHost: h\r\n\r\n",
        );
        let expected: Vec<(String, String)> = [
            ("a", "1"),
            ("b", "x+y+z"),
            ("uploads", ""),
            ("d", ""),
            ("prefix", "p q"),
            ("a", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(head.query_pairs(), expected);
        assert_eq!(head.query_value("a").as_deref(), Some("1"));
        assert_eq!(head.query_value("uploads").as_deref(), Some(""));
        assert_eq!(head.query_value("prefix").as_deref(), Some("p q"));
    }

    #[test]
    fn targets() {
        let table: &[(&str, &str, &str)] = &[
            ("/", "/", ""),
            ("/b/k?", "/b/k", ""),
            ("/b/k?x=1?y", "/b/k", "x=1?y"),
            ("http://h:9000/b/k?x=1", "/b/k", "x=1"),
            ("HTTPS://h/b", "/b", ""),
            ("http://h:9000", "/", ""),
            ("http://h?x=1", "/", "x=1"),
            ("//b/k", "//b/k", ""),
        ];
        for (target, path, query) in table {
            let bytes = format!("GET {target} HTTP/1.1\r\nHost: h\r\n\r\n");
            let (head, _) = parse_ok(bytes.as_bytes());
            assert_eq!(head.target, *target);
            assert_eq!(
                (head.path.as_str(), head.query.as_str()),
                (*path, *query),
                "{target}"
            );
        }
    }

    #[test]
    fn keep_alive_and_expect_tokens() {
        let table: &[(&str, bool, bool)] = &[
            ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true, false),
            (
                "GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n",
                false,
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n",
                false,
                false,
            ),
            ("GET / HTTP/1.0\r\n\r\n", false, false),
            (
                "GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n",
                true,
                false,
            ),
            (
                "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
                true,
                true,
            ),
        ];
        for (bytes, keep_alive, expects_continue) in table {
            let (head, _) = parse_ok(bytes.as_bytes());
            assert_eq!(head.keep_alive(), *keep_alive, "{bytes:?}");
            assert_eq!(head.expects_continue(), *expects_continue, "{bytes:?}");
        }
    }

    #[test]
    fn framing_table() {
        let ok: &[(&str, BodyFraming)] = &[
            ("Content-Length: 0\r\n", BodyFraming::Length(0)),
            (
                "Content-Length: 5\r\nContent-Length: 5\r\n",
                BodyFraming::Length(5),
            ),
            ("Content-Length: 5, 5\r\n", BodyFraming::Length(5)),
            ("Content-Length:   7  \r\n", BodyFraming::Length(7)),
            (
                "Content-Length: 18446744073709551615\r\n",
                BodyFraming::Length(u64::MAX),
            ),
            ("Transfer-Encoding: chunked\r\n", BodyFraming::Chunked),
            ("Transfer-Encoding: Chunked \r\n", BodyFraming::Chunked),
            ("", BodyFraming::None),
        ];
        for (fields, framing) in ok {
            let bytes = format!("PUT /b/k HTTP/1.1\r\nHost: h\r\n{fields}\r\n");
            let (head, _) = parse_ok(bytes.as_bytes());
            assert_eq!(head.body_framing().ok(), Some(*framing), "{fields:?}");
        }
    }

    #[test]
    fn smuggling_is_malformed() {
        let table: &[&str] = &[
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            "Content-Length: 5, 6\r\n",
            "Content-Length: 5,\r\nContent-Length: 7\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: -1\r\n",
            "Content-Length: 0x10\r\n",
            "Content-Length: 1 0\r\n",
            "Content-Length: \r\n",
            "Content-Length: 18446744073709551616\r\n",
            "Transfer-Encoding: gzip, chunked\r\n",
            "Transfer-Encoding: chunked, gzip\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: identity\r\n",
            "Transfer-Encoding: \r\n",
            "Transfer-Encoding: xchunked\r\n",
        ];
        for fields in table {
            let bytes = format!("PUT /b/k HTTP/1.1\r\nHost: h\r\n{fields}\r\n");
            assert!(
                matches!(parse_head(bytes.as_bytes()), Err(HttpError::Malformed(_))),
                "{fields:?}"
            );
        }
        let http10 = b"PUT /b/k HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(parse_head(http10), Err(HttpError::Malformed(_))));
    }

    #[test]
    fn garbage_is_malformed() {
        let table: &[&[u8]] = &[
            b"GARBAGE\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
            b"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
            b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET bucket/key HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header: x\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length : 5\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\n folded: value\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ];
        for bytes in table {
            assert!(
                matches!(parse_head(bytes), Err(HttpError::Malformed(_))),
                "{:?}: {:?}",
                String::from_utf8_lossy(bytes),
                parse_head(bytes)
            );
        }
    }

    #[test]
    fn oversized_heads() {
        // One header value pushing the head past the limit: refused complete or not.
        let big = format!(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES)
        );
        assert!(matches!(
            parse_head(big.as_bytes()),
            Err(HttpError::HeadTooLarge)
        ));
        assert!(matches!(
            parse_head(&big.as_bytes()[..MAX_HEAD_BYTES]),
            Err(HttpError::HeadTooLarge)
        ));
        assert!(matches!(
            parse_head(&big.as_bytes()[..MAX_HEAD_BYTES - 1]),
            Ok(None)
        ));
        // Endless empty lines are not an idle connection.
        assert!(matches!(
            parse_head("\r\n".repeat(MAX_HEAD_BYTES).as_bytes()),
            Err(HttpError::HeadTooLarge)
        ));

        let with_fields = |count: usize| {
            let mut s = String::from("GET / HTTP/1.1\r\nHost: h\r\n");
            for i in 1..count {
                s.push_str(&format!("x-f{i}: {i}\r\n"));
            }
            s.push_str("\r\n");
            s
        };
        assert!(
            parse_ok(with_fields(MAX_HEADERS).as_bytes())
                .0
                .headers
                .len()
                == MAX_HEADERS
        );
        assert!(matches!(
            parse_head(with_fields(MAX_HEADERS + 1).as_bytes()),
            Err(HttpError::HeadTooLarge)
        ));

        // Exactly MAX_HEAD_BYTES is accepted.
        let prefix = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
        let pad = MAX_HEAD_BYTES - prefix.len() - 4;
        let exact = format!("{prefix}{}\r\n\r\n", "p".repeat(pad));
        assert_eq!(exact.len(), MAX_HEAD_BYTES);
        assert_eq!(parse_ok(exact.as_bytes()).1, MAX_HEAD_BYTES);
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let (head, len) = parse_ok(b"\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(head.path, "/x");
        assert_eq!(len, 32);
    }
}

//! The load generator's S3 client: one keep-alive connection (`minnow_net::http::HttpClient`)
//! to one endpoint, requests signed with SigV4 by `minnow_net::s3::sigv4` (the same
//! canonicalisation code the server verifies with), path-style addressing.
//!
//! Payload modes (`--payload`):
//! * `unsigned`: `x-amz-content-sha256: UNSIGNED-PAYLOAD`, body sent as is;
//! * `signed`: the body's SHA-256 in the signature, precomputed once per body (see
//!   [`super::payload`]), so signing costs a few HMACs per request;
//! * `streaming`: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, the body framed here as aws-chunked
//!   (`<hex size>;chunk-signature=<sig>\r\n<data>\r\n` per chunk, then a signed 0-length
//!   chunk), written piece by piece from the shared buffer: never copied into a framed body.
//!
//! Every request is bounded by the request timeout. A transport failure (connect, I/O, timeout,
//! malformed response) drops the connection; the next request reconnects. Failed requests
//! become an [`OpError`] whose `code` is the S3 error code from the XML body (`NoSuchKey`,
//! `SlowDownWrite`, ...), `HTTP<status>` when the body has none, or a transport error name
//! (`connect`, `timeout`, `closed`, `io`, `protocol`).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use minnow_net::http::HttpError;
use minnow_net::http::{ClientResponse, HttpClient};
use minnow_net::s3::sigv4;

pub use minnow_net::s3::sigv4::Credentials;

use super::payload::{Variant, STREAMING_CHUNK_BYTES};
use super::PayloadMode;

/// Most bytes of an error or listing body kept in memory.
const RESPONSE_BODY_LIMIT_BYTES: usize = 4 << 20;

/// One S3 endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Where to connect.
    pub addr: SocketAddr,
    /// `Host` header value (`host:port` as given).
    pub host_header: String,
}

/// How requests are signed.
#[derive(Clone, Debug)]
pub struct SignConfig {
    /// Key pair.
    pub credentials: Credentials,
    /// Region of the credential scope.
    pub region: String,
    /// Body signing.
    pub mode: PayloadMode,
}

/// A failed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    /// S3 error code, `HTTP<status>`, or a transport error name.
    pub code: String,
    /// More context for humans.
    pub detail: String,
    transport: bool,
}

impl OpError {
    /// A failure found by the generator itself (e.g. a wrong size).
    pub fn local(code: &str, detail: String) -> Self {
        OpError {
            code: code.to_string(),
            detail,
            transport: false,
        }
    }

    fn transport(code: &str, detail: String) -> Self {
        OpError {
            code: code.to_string(),
            detail,
            transport: true,
        }
    }

    fn from_http(error: HttpError) -> Self {
        let code = match &error {
            HttpError::Closed => "closed",
            HttpError::Timeout => "timeout",
            HttpError::Io(_) => "io",
            _ => "protocol",
        };
        OpError::transport(code, error.to_string())
    }

    /// True when the connection failed (not the server answering with an error).
    pub fn is_transport(&self) -> bool {
        self.transport
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.detail.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.detail)
        }
    }
}

/// One page of ListObjectsV2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListPage {
    /// Keys on this page.
    pub keys: u64,
    /// Token for the next page; `None` at the end of the listing.
    pub next_token: Option<String>,
    /// Response body size.
    pub body_bytes: u64,
}

/// One page of ListObjectsV2 with its entries (`bench list` checks every key it lists).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ListedPage {
    /// Keys, in the order listed.
    pub keys: Vec<String>,
    /// Common prefixes (with a delimiter), in the order listed.
    pub prefixes: Vec<String>,
    /// Token for the next page; `None` at the end of the listing.
    pub next_token: Option<String>,
    /// Response body size.
    pub body_bytes: u64,
}

/// What to do with a response body.
enum Sink {
    /// Count and drop (object data).
    Discard,
    /// Keep (XML).
    Keep,
}

/// A response: status, headers, and the body as the sink left it.
struct Response {
    status: u16,
    head: ClientResponse,
    body_len: u64,
    body: Vec<u8>,
}

/// The request body.
enum Body<'a> {
    Empty,
    /// Object data with its precomputed digests.
    Object(&'a [u8], &'a Variant),
}

/// A keep-alive connection to one endpoint that speaks S3.
pub struct S3Client {
    endpoint: Endpoint,
    sign: SignConfig,
    timeout: Duration,
    conn: Option<HttpClient>,
}

impl S3Client {
    /// Not connected yet; [`S3Client::connect`] or the first request connects.
    pub fn new(endpoint: Endpoint, sign: SignConfig, timeout: Duration) -> Self {
        S3Client {
            endpoint,
            sign,
            timeout,
            conn: None,
        }
    }

    /// Open the connection now (to fail early on a wrong address).
    pub async fn connect(&mut self) -> Result<(), OpError> {
        if self.conn.is_none() {
            let mut client = HttpClient::connect(self.endpoint.addr)
                .await
                .map_err(|e| OpError::transport("connect", e.to_string()))?;
            client.set_timeout(self.timeout);
            self.conn = Some(client);
        }
        Ok(())
    }

    /// CreateBucket.
    pub async fn create_bucket(&mut self, bucket: &str) -> Result<(), OpError> {
        let path = format!("/{bucket}");
        self.expect_ok("PUT", &path, "", Body::Empty, Sink::Keep)
            .await
            .map(drop)
    }

    /// DeleteBucket.
    pub async fn delete_bucket(&mut self, bucket: &str) -> Result<(), OpError> {
        let path = format!("/{bucket}");
        self.expect_ok("DELETE", &path, "", Body::Empty, Sink::Keep)
            .await
            .map(drop)
    }

    /// PutObject.
    pub async fn put_object(
        &mut self,
        bucket: &str,
        key: &str,
        body: &[u8],
        variant: &Variant,
    ) -> Result<(), OpError> {
        let path = object_path(bucket, key);
        self.expect_ok("PUT", &path, "", Body::Object(body, variant), Sink::Keep)
            .await
            .map(drop)
    }

    /// GetObject, body read and dropped; returns its length.
    pub async fn get_object(&mut self, bucket: &str, key: &str) -> Result<u64, OpError> {
        let path = object_path(bucket, key);
        let response = self
            .expect_ok("GET", &path, "", Body::Empty, Sink::Discard)
            .await?;
        Ok(response.body_len)
    }

    /// HeadObject; returns the object size (Content-Length).
    pub async fn head_object(&mut self, bucket: &str, key: &str) -> Result<u64, OpError> {
        let path = object_path(bucket, key);
        let response = self
            .expect_ok("HEAD", &path, "", Body::Empty, Sink::Discard)
            .await?;
        response.head.content_length.ok_or_else(|| {
            OpError::local(
                "protocol",
                "HEAD response without Content-Length".to_string(),
            )
        })
    }

    /// DeleteObject.
    pub async fn delete_object(&mut self, bucket: &str, key: &str) -> Result<(), OpError> {
        let path = object_path(bucket, key);
        self.expect_ok("DELETE", &path, "", Body::Empty, Sink::Keep)
            .await
            .map(drop)
    }

    /// One ListObjectsV2 page.
    pub async fn list_objects_v2(
        &mut self,
        bucket: &str,
        prefix: &str,
        continuation_token: Option<&str>,
        max_keys: u32,
    ) -> Result<ListPage, OpError> {
        let path = format!("/{bucket}");
        let mut query = format!(
            "list-type=2&max-keys={max_keys}&prefix={}",
            uri_encode(prefix)
        );
        if let Some(token) = continuation_token {
            query.push_str("&continuation-token=");
            query.push_str(&uri_encode(token));
        }
        let response = self
            .expect_ok("GET", &path, &query, Body::Empty, Sink::Keep)
            .await?;
        let text = String::from_utf8_lossy(&response.body);
        Ok(parse_list_page(&text, response.body_len))
    }

    /// One ListObjectsV2 page with its keys and common prefixes, rolled up at `delimiter`
    /// when given.
    pub async fn list_page(
        &mut self,
        bucket: &str,
        delimiter: Option<&str>,
        continuation_token: Option<&str>,
        max_keys: u32,
    ) -> Result<ListedPage, OpError> {
        let path = format!("/{bucket}");
        // Query parameters in canonical (sorted) order.
        let mut query = String::new();
        if let Some(token) = continuation_token {
            query.push_str("continuation-token=");
            query.push_str(&uri_encode(token));
            query.push('&');
        }
        if let Some(delimiter) = delimiter {
            query.push_str("delimiter=");
            query.push_str(&uri_encode(delimiter));
            query.push('&');
        }
        query.push_str(&format!("list-type=2&max-keys={max_keys}"));
        let response = self
            .expect_ok("GET", &path, &query, Body::Empty, Sink::Keep)
            .await?;
        let text = String::from_utf8_lossy(&response.body);
        Ok(parse_listed_page(&text, response.body_len))
    }

    /// A request that must answer 2xx; anything else becomes an [`OpError`].
    async fn expect_ok(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: Body<'_>,
        sink: Sink,
    ) -> Result<Response, OpError> {
        let timeout = self.timeout;
        let attempt = self.request(method, path, query, body, sink);
        let response = match glommio::timer::timeout(timeout, async { Ok(attempt.await) }).await {
            Ok(result) => result,
            Err(_) => Err(OpError::transport(
                "timeout",
                format!("no complete response in {timeout:?}"),
            )),
        };
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                if e.is_transport() {
                    self.conn = None;
                }
                return Err(e);
            }
        };
        if (200..300).contains(&response.status) {
            return Ok(response);
        }
        let text = String::from_utf8_lossy(&response.body);
        let code = xml_element(&text, "Code")
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP{}", response.status));
        let message = xml_element(&text, "Message").unwrap_or("").to_string();
        Err(OpError {
            code,
            detail: format!("{method} {path}: HTTP {} {message}", response.status),
            transport: false,
        })
    }

    /// Send one request and read the whole response (into the sink).
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: Body<'_>,
        sink: Sink,
    ) -> Result<Response, OpError> {
        self.connect().await?;
        let target = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        let mut headers = vec![("host".to_string(), self.endpoint.host_header.clone())];
        let now = SystemTime::now();
        let sign = &self.sign;
        let Some(conn) = self.conn.as_mut() else {
            return Err(OpError::transport("connect", "no connection".to_string()));
        };
        let head = match body {
            Body::Empty => {
                let signed = sigv4::sign_request(
                    method,
                    path,
                    query,
                    &headers,
                    sigv4::EMPTY_SHA256_HEX,
                    &sign.credentials,
                    &sign.region,
                    now,
                );
                conn.send(method, &target, &signed, &[])
                    .await
                    .map_err(OpError::from_http)?
            }
            Body::Object(data, variant) => match sign.mode {
                PayloadMode::Unsigned | PayloadMode::Signed => {
                    let payload_hash = if sign.mode == PayloadMode::Signed {
                        variant.sha256_hex.as_str()
                    } else {
                        sigv4::UNSIGNED_PAYLOAD
                    };
                    assert!(!payload_hash.is_empty(), "signed payloads are prehashed");
                    let signed = sigv4::sign_request(
                        method,
                        path,
                        query,
                        &headers,
                        payload_hash,
                        &sign.credentials,
                        &sign.region,
                        now,
                    );
                    conn.send(method, &target, &signed, data)
                        .await
                        .map_err(OpError::from_http)?
                }
                PayloadMode::Streaming => {
                    let framed = aws_chunked_len(data.len() as u64, STREAMING_CHUNK_BYTES as u64);
                    headers.push(("content-encoding".to_string(), "aws-chunked".to_string()));
                    headers.push((
                        "x-amz-decoded-content-length".to_string(),
                        data.len().to_string(),
                    ));
                    let (signed, mut signer) = sigv4::sign_request_streaming(
                        method,
                        path,
                        query,
                        &headers,
                        sigv4::STREAMING_PAYLOAD,
                        &sign.credentials,
                        &sign.region,
                        now,
                    );
                    conn.send_head(method, &target, &signed, Some(framed))
                        .await
                        .map_err(OpError::from_http)?;
                    // Per chunk: one small write (the previous chunk's CRLF and this chunk's
                    // header) and one write straight from the shared buffer.
                    let mut header = String::with_capacity(96);
                    for chunk in data.chunks(STREAMING_CHUNK_BYTES) {
                        let signature = signer.sign_chunk(chunk);
                        header.push_str(&chunk_header(chunk.len(), &signature));
                        conn.write_body(header.as_bytes())
                            .await
                            .map_err(OpError::from_http)?;
                        conn.write_body(chunk).await.map_err(OpError::from_http)?;
                        header.clear();
                        header.push_str("\r\n");
                    }
                    let signature = signer.sign_chunk(&[]);
                    header.push_str(&chunk_header(0, &signature));
                    header.push_str("\r\n");
                    conn.write_body(header.as_bytes())
                        .await
                        .map_err(OpError::from_http)?;
                    conn.read_response().await.map_err(OpError::from_http)?
                }
            },
        };
        let status = head.status;
        let mut kept = Vec::new();
        let keep = matches!(sink, Sink::Keep) || !(200..300).contains(&status);
        let body_len = conn
            .read_body(&head, &mut |bytes: &[u8]| {
                if keep && kept.len() < RESPONSE_BODY_LIMIT_BYTES {
                    kept.extend_from_slice(bytes);
                }
            })
            .await
            .map_err(OpError::from_http)?;
        if !conn.is_reusable() {
            self.conn = None;
        }
        Ok(Response {
            status,
            head,
            body_len,
            body: kept,
        })
    }
}

/// `/<bucket>/<key>`; keys made by the generator use only unreserved characters and `/`.
fn object_path(bucket: &str, key: &str) -> String {
    debug_assert!(key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b)));
    format!("/{bucket}/{key}")
}

/// Percent-encode everything but RFC 3986 unreserved characters (for query values).
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `<hex len>;chunk-signature=<sig>\r\n`.
fn chunk_header(len: usize, signature: &str) -> String {
    format!("{len:x};chunk-signature={signature}\r\n")
}

/// Length on the wire of an aws-chunked body of `data_len` bytes in `chunk_len` chunks:
/// every chunk (and the final empty one) costs its hex length, `;chunk-signature=`, 64 hex
/// digits and two CRLFs.
fn aws_chunked_len(data_len: u64, chunk_len: u64) -> u64 {
    const SIGNATURE_OVERHEAD: u64 = ";chunk-signature=".len() as u64 + 64 + 4;
    let hex_digits = |n: u64| u64::from(n.max(1).ilog(16)) + 1;
    let full = data_len / chunk_len;
    let rest = data_len % chunk_len;
    let mut total = full * (hex_digits(chunk_len) + SIGNATURE_OVERHEAD + chunk_len);
    if rest > 0 {
        total += hex_digits(rest) + SIGNATURE_OVERHEAD + rest;
    }
    total + 1 + SIGNATURE_OVERHEAD
}

/// Text of the first `<name>...</name>` element (no nesting, no attributes: enough for S3's
/// flat error and listing documents).
fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(&xml[start..start + len])
}

/// Key count and continuation of a ListBucketResult (v2).
fn parse_list_page(xml: &str, body_bytes: u64) -> ListPage {
    let keys = xml.matches("<Key>").count() as u64;
    let truncated = xml_element(xml, "IsTruncated") == Some("true");
    let next_token = if truncated {
        xml_element(xml, "NextContinuationToken").map(xml_unescape)
    } else {
        None
    };
    ListPage {
        keys,
        next_token,
        body_bytes,
    }
}

/// Every `<name>` element's text, in document order.
fn xml_elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(text) = xml_element(rest, name) {
        out.push(text);
        // Continue after this element's text (and its closing tag).
        let end = text.as_ptr() as usize - rest.as_ptr() as usize + text.len();
        rest = &rest[end..];
    }
    out
}

/// Keys, common prefixes and continuation of a ListBucketResult (v2).
fn parse_listed_page(xml: &str, body_bytes: u64) -> ListedPage {
    let summary = parse_list_page(xml, body_bytes);
    ListedPage {
        keys: xml_elements(xml, "Key")
            .into_iter()
            .map(xml_unescape)
            .collect(),
        prefixes: xml_elements(xml, "CommonPrefixes")
            .into_iter()
            .filter_map(|block| xml_element(block, "Prefix"))
            .map(xml_unescape)
            .collect(),
        next_token: summary.next_token,
        body_bytes,
    }
}

/// Undo the five predefined XML entities.
fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_from_xml() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Resource>/b/k</Resource></Error>"#;
        assert_eq!(xml_element(xml, "Code"), Some("NoSuchKey"));
        assert_eq!(
            xml_element(xml, "Message"),
            Some("The specified key does not exist.")
        );
        assert_eq!(xml_element(xml, "RequestId"), None);
        assert_eq!(xml_element("", "Code"), None);
    }

    #[test]
    fn list_pages() {
        let xml =
            "<ListBucketResult><Name>b</Name><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>\
            <Contents><Key>p/1</Key></Contents><Contents><Key>p/2</Key></Contents>\
            <NextContinuationToken>a&amp;b+c=</NextContinuationToken></ListBucketResult>";
        let page = parse_list_page(xml, 99);
        assert_eq!(page.keys, 2);
        assert_eq!(page.next_token.as_deref(), Some("a&b+c="));
        assert_eq!(page.body_bytes, 99);
        let last = parse_list_page(
            "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>x</Key></Contents></ListBucketResult>",
            10,
        );
        assert_eq!((last.keys, last.next_token), (1, None));
    }

    #[test]
    fn listed_pages_carry_keys_and_prefixes() {
        let xml = "<ListBucketResult><Prefix></Prefix><KeyCount>3</KeyCount>\
                   <IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>\
                   <Contents><Key>a&amp;b</Key><Size>0</Size></Contents><Contents><Key>c</Key></Contents>\
                   <CommonPrefixes><Prefix>f0/</Prefix></CommonPrefixes>\
                   <CommonPrefixes><Prefix>f1/</Prefix></CommonPrefixes></ListBucketResult>";
        let page = parse_listed_page(xml, 7);
        assert_eq!(page.keys, ["a&b", "c"]);
        assert_eq!(page.prefixes, ["f0/", "f1/"]);
        assert_eq!(page.next_token.as_deref(), Some("t&1"));
        assert_eq!(page.body_bytes, 7);
        let empty = parse_listed_page(
            "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
            1,
        );
        assert_eq!(
            empty,
            ListedPage {
                body_bytes: 1,
                ..ListedPage::default()
            }
        );
    }

    #[test]
    fn query_encoding() {
        assert_eq!(uri_encode("abc/"), "abc%2F");
        assert_eq!(uri_encode("a+b=c d"), "a%2Bb%3Dc%20d");
        assert_eq!(uri_encode("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn aws_chunked_length_matches_framing() {
        let signature = "0".repeat(64);
        for (data_len, chunk_len) in [
            (0u64, 64u64),
            (1, 64),
            (64, 64),
            (65, 64),
            (150_000, 65_536),
        ] {
            let mut framed = 0u64;
            let mut left = data_len;
            while left > 0 {
                let n = left.min(chunk_len);
                framed += chunk_header(n as usize, &signature).len() as u64 + n + 2;
                left -= n;
            }
            framed += chunk_header(0, &signature).len() as u64 + 2;
            assert_eq!(
                aws_chunked_len(data_len, chunk_len),
                framed,
                "{data_len}/{chunk_len}"
            );
        }
    }

    #[test]
    fn errors_display_and_kind() {
        let e = OpError::local("SizeMismatch", "1 of 2 bytes".into());
        assert_eq!(e.to_string(), "SizeMismatch: 1 of 2 bytes");
        assert!(!e.is_transport());
        assert!(OpError::from_http(HttpError::Timeout).is_transport());
        assert_eq!(OpError::from_http(HttpError::Closed).code, "closed");
        assert_eq!(object_path("b", "p/0001"), "/b/p/0001");
    }
}

//! Response heads: what a handler says ([`ResponseHead`]) and how it goes on the wire.
//!
//! ```text
//! HTTP/1.1 <status> <reason>\r\n
//! Date: <IMF-fixdate>\r\n          (unless the caller sent one)
//! Server: minnow\r\n               (unless the caller sent one)
//! <caller headers>\r\n ...
//! Content-Length: <n>\r\n | Transfer-Encoding: chunked\r\n | (none, see below)
//! \r\n
//! ```
//! The framing header is the connection's business, never the caller's: a caller header named
//! `Content-Length` or `Transfer-Encoding` is refused, as is any name that is not a token or a
//! value holding CR, LF or NUL (response splitting).

use super::HttpError;
use std::fmt::Write as _;
use std::time::SystemTime;

/// Value of the `Server` header.
pub const SERVER_NAME: &str = "minnow";

/// A response head as a handler describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code, 100..=999.
    pub status: u16,
    /// Header fields, in order, without `Content-Length`/`Transfer-Encoding` (the connection
    /// writes those). `Date` and `Server` are added unless present.
    pub headers: Vec<(String, String)>,
    /// Body length; `None` means a chunked body (HTTP/1.1) or one that ends at close (1.0).
    /// For a HEAD request or a 304 this is the length a GET would have had, and no body follows.
    pub content_length: Option<u64>,
}

impl ResponseHead {
    /// A response with no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content_length: Some(0),
        }
    }

    /// Add a header field.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set the body length (`None`: chunked).
    pub fn with_content_length(mut self, content_length: Option<u64>) -> Self {
        self.content_length = content_length;
        self
    }

    /// Whether a header named `name` (any case) is present.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// Which framing header the connection puts on a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FramingHeader {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No framing header and `Connection: close` (HTTP/1.0 peer, body ends at close).
    Close,
    /// No framing header (1xx, 204, or a HEAD/304 without a known length).
    None,
}

/// `HTTP/1.1 <status> <reason>` with the canonical reason phrase.
pub(crate) fn status_line(status: u16) -> Result<String, HttpError> {
    let code = ::http::StatusCode::from_u16(status)
        .map_err(|_| invalid_input(format!("response status {status}")))?;
    let reason = code.canonical_reason().unwrap_or("Unknown");
    Ok(format!("HTTP/1.1 {status} {reason}\r\n"))
}

/// Append the encoded head to `out`.
pub(crate) fn encode_head(
    resp: &ResponseHead,
    framing: FramingHeader,
    out: &mut Vec<u8>,
) -> Result<(), HttpError> {
    let mut head = status_line(resp.status)?;
    if !resp.has_header("date") {
        head.push_str("Date: ");
        head.push_str(&httpdate::fmt_http_date(SystemTime::now()));
        head.push_str("\r\n");
    }
    if !resp.has_header("server") {
        head.push_str("Server: ");
        head.push_str(SERVER_NAME);
        head.push_str("\r\n");
    }
    for (name, value) in &resp.headers {
        check_field(name, value)?;
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    match framing {
        FramingHeader::Length(n) => {
            let _ = write!(head, "Content-Length: {n}\r\n");
        }
        FramingHeader::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        FramingHeader::Close if !resp.has_header("connection") => {
            head.push_str("Connection: close\r\n")
        }
        FramingHeader::Close | FramingHeader::None => {}
    }
    head.push_str("\r\n");
    out.extend_from_slice(head.as_bytes());
    Ok(())
}

/// A caller-supplied header field must be a token name and a value without CR, LF or NUL, and
/// must not be one of the framing fields.
pub(crate) fn check_field(name: &str, value: &str) -> Result<(), HttpError> {
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(invalid_input(format!("header name {name:?}")));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(invalid_input(format!("value of header {name}")));
    }
    if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
    {
        return Err(invalid_input(format!(
            "{name} is written by the connection, not the caller"
        )));
    }
    Ok(())
}

/// tchar (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(crate) fn invalid_input(msg: String) -> HttpError {
    HttpError::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(resp: &ResponseHead, framing: FramingHeader) -> Result<String, HttpError> {
        let mut out = Vec::new();
        encode_head(resp, framing, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn head_layout() {
        let resp = ResponseHead::new(200)
            .with_header("ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"")
            .with_header("x-amz-request-id", "17C5A4B2F0E1D3C4");
        let text = encode(&resp, FramingHeader::Length(0))
            .ok()
            .unwrap_or_default();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nDate: "), "{text}");
        assert!(text.contains(" GMT\r\nServer: minnow\r\nETag: \"d41d8cd98f00b204e9800998ecf8427e\"\r\nx-amz-request-id: 17C5A4B2F0E1D3C4\r\nContent-Length: 0\r\n\r\n"), "{text}");

        let resp = ResponseHead::new(404)
            .with_header("Date", "Wed, 21 Oct 2015 07:28:00 GMT")
            .with_header("Server", "other")
            .with_content_length(None);
        let text = encode(&resp, FramingHeader::Chunked)
            .ok()
            .unwrap_or_default();
        assert_eq!(
            text,
            "HTTP/1.1 404 Not Found\r\nDate: Wed, 21 Oct 2015 07:28:00 GMT\r\nServer: other\r\n\
Transfer-Encoding: chunked\r\n\r\n"
        );

        let resp = ResponseHead::new(599)
            .with_header("Date", "x")
            .with_header("Server", "y");
        let text = encode(&resp, FramingHeader::Close).ok().unwrap_or_default();
        assert_eq!(
            text,
            "HTTP/1.1 599 Unknown\r\nDate: x\r\nServer: y\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn refused_fields() {
        let table: &[(&str, &str)] = &[
            ("Content-Length", "5"),
            ("transfer-encoding", "chunked"),
            ("X-Split", "a\r\nSet-Cookie: x"),
            ("X-Nul", "a\0b"),
            ("Bad Name", "v"),
            ("", "v"),
            ("X:Y", "v"),
        ];
        for (name, value) in table {
            let resp = ResponseHead::new(200).with_header(*name, *value);
            assert!(encode(&resp, FramingHeader::Length(0)).is_err(), "{name:?}");
        }
        assert!(encode(&ResponseHead::new(99), FramingHeader::None).is_err());
        assert!(encode(&ResponseHead::new(1000), FramingHeader::None).is_err());
    }
}

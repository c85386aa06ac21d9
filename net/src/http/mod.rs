//! HTTP/1.1 for minnow: request heads parsed with httparse (bounded: [`MAX_HEAD_BYTES`],
//! [`MAX_HEADERS`]), body framing (Content-Length, chunked), response writing, connection
//! hand-off between cores, and a small keep-alive client.
//!
//! Files, one concern each:
//! * `head.rs`: [`parse_head`] and the questions asked of a [`RequestHead`] (framing, query,
//!   keep-alive, `Expect`); smuggling checks live here;
//! * `body.rs`: Content-Length / chunked decoding, shared by server and client; [`RawBody`];
//! * `response.rs`: [`ResponseHead`] and its encoding;
//! * `conn.rs`: [`HttpConn`], one server connection: timeouts, keep-alive, 100-continue,
//!   response writing, hand-off;
//! * `handoff.rs`: the fd conversions of a hand-off (the crate's only `unsafe`);
//! * `stall.rs`: [`Progress`] and [`unless_stalled`], which cut an exchange that stopped moving;
//! * `client.rs`: [`HttpClient`];
//! * `buffer.rs`, `socket.rs`: the read buffer and timed socket I/O under both.
//!
//! Everything here is framing: no S3 knowledge (aws-chunked, SigV4, checksums are in `s3`).
//! Every input is bounded: head bytes and fields, chunk-size lines, trailers, and the time each
//! read or write may wait.
//!
//! ```
//! use minnow_net::http::{parse_head, BodyFraming};
//! let bytes = b"PUT /bucket/key?partNumber=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
//! let (head, head_len) = parse_head(bytes).expect("valid").expect("complete");
//! assert_eq!((head.path.as_str(), head.query_value("partNumber")), ("/bucket/key", Some("1".into())));
//! assert_eq!(head.body_framing().ok(), Some(BodyFraming::Length(5)));
//! assert_eq!(&bytes[head_len..], b"hello");
//! assert!(parse_head(&bytes[..10]).expect("valid").is_none()); // partial: read more
//! ```

mod body;
mod buffer;
mod client;
mod conn;
mod handoff;
mod head;
mod response;
mod socket;
mod stall;

pub use body::{RawBody, MAX_CHUNK_LINE_BYTES};
pub use client::{
    ClientBody, ClientResponse, HttpClient, CLIENT_DRAIN_LIMIT_BYTES, CLIENT_IO_TIMEOUT,
    CONNECT_TIMEOUT,
};
pub use conn::{
    ConnTimeouts, HttpConn, BODY_MIN_RATE, BODY_RATE_GRACE, BODY_READ_TIMEOUT, DRAIN_LIMIT_BYTES,
    HEAD_TIMEOUT, IDLE_TIMEOUT, WRITE_TIMEOUT,
};
pub use head::parse_head;
pub use response::{ResponseHead, SERVER_NAME};
pub use stall::{unless_stalled, Progress, Stalled};

/// Errors of the HTTP layer. Each one ends the connection; the server maps the ones that still
/// allow an answer (malformed head, too large) to a 400 response first.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The peer closed the connection.
    #[error("connection closed by peer")]
    Closed,
    /// The peer was too slow.
    #[error("timed out")]
    Timeout,
    /// The request head is over [`MAX_HEAD_BYTES`] or [`MAX_HEADERS`].
    #[error("request head too large")]
    HeadTooLarge,
    /// The request head or framing is not valid HTTP/1.1.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The body ended before its declared length.
    #[error("body ended before its declared length")]
    BodyTooShort,
    /// A chunked or aws-chunked frame is malformed.
    #[error("bad chunk: {0}")]
    BadChunk(String),
    /// Socket error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Largest request head accepted.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Most header fields accepted in one head.
pub const MAX_HEADERS: usize = 128;

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// Request method.
    pub method: ::http::Method,
    /// The request-target as sent.
    pub target: String,
    /// Path part of the target, not percent-decoded.
    pub path: String,
    /// Query string without '?', "" if none; not decoded.
    pub query: String,
    /// HTTP/1.x minor version.
    pub version_minor: u8,
    /// Header fields.
    pub headers: ::http::HeaderMap,
}

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Anything that yields body bytes; `Ok(0)` means the body ended.
#[async_trait::async_trait(?Send)]
pub trait BodyRead {
    /// Read up to `buf.len()` bytes.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError>;
}

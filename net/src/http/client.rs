//! A minimal HTTP/1.1 client: one keep-alive connection to one host, one exchange at a time.
//! Used by the load generator (and later internode calls), so it is built to move large bodies
//! without copies: request bodies are written from the caller's slices
//! ([`HttpClient::send_head`] + [`HttpClient::write_body`]), response bodies are read straight
//! into one reused buffer ([`HttpClient::read_body`]) or the caller's ([`HttpClient::body_reader`]).
//!
//! Responses may be `Content-Length`, chunked, or delimited by close; 1xx interim responses are
//! skipped once the request is complete. Same bounds as the server: heads up to
//! [`MAX_HEAD_BYTES`] / [`MAX_HEADERS`], chunked decoding from `body.rs`, every read and write
//! under a timeout, `TCP_NODELAY` on.

use super::body::{read_body, BodyState};
use super::buffer::ReadBuffer;
use super::head::{content_length_of, list_items};
use super::response::{check_field, invalid_input};
use super::socket::{from_glommio, write_timed, TimedRead};
use super::{BodyRead, HttpError, MAX_HEADERS, MAX_HEAD_BYTES};
use glommio::net::TcpStream;
use std::net::SocketAddr;
use std::time::Duration;

/// Longest wait for a connection to be established.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest wait for any single read or write.
pub const CLIENT_IO_TIMEOUT: Duration = Duration::from_secs(120);
/// At most this much of an unread response body is discarded before the next request.
pub const CLIENT_DRAIN_LIMIT_BYTES: u64 = 256 * 1024;
/// Size of the buffer [`HttpClient::read_body`] reads into.
const READ_BODY_BUFFER_BYTES: usize = 256 * 1024;
/// Body writes up to this size go out in one send with the buffered head.
const COALESCE_BYTES: usize = 16 * 1024;

/// How the request body being sent is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestState {
    /// Nothing (more) to send.
    Idle,
    /// This many bytes to go.
    Length { remaining_bytes: u64 },
    /// Chunked until the request is finished.
    Chunked,
}

/// Keep-alive connection to one host.
pub struct HttpClient {
    stream: TcpStream,
    host: String,
    rbuf: ReadBuffer,
    wbuf: Vec<u8>,
    body_buf: Vec<u8>,
    timeout: Duration,
    request: RequestState,
    request_is_head: bool,
    awaiting_response: bool,
    body: BodyState,
    response_keep_alive: bool,
    reusable: bool,
    exchange: u64,
}

/// A response head. Its body is read through the client that received it.
#[derive(Debug, Clone)]
pub struct ClientResponse {
    /// Status code.
    pub status: u16,
    /// Header fields in order; names lower-cased, values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The `Content-Length` value if one was sent (also for HEAD and 304: the length a GET would
    /// have had); None for chunked or close-delimited bodies.
    pub content_length: Option<u64>,
    keep_alive: bool,
    exchange: u64,
}

impl ClientResponse {
    /// First value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the server keeps the connection open after this response.
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }
}

impl HttpClient {
    /// Connect (within [`CONNECT_TIMEOUT`]) with `TCP_NODELAY`.
    pub async fn connect(addr: SocketAddr) -> Result<Self, HttpError> {
        let stream = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT)
            .await
            .map_err(from_glommio)?;
        stream.set_nodelay(true).map_err(from_glommio)?;
        Ok(Self {
            stream,
            host: addr.to_string(),
            rbuf: ReadBuffer::new(),
            wbuf: Vec::with_capacity(1024),
            body_buf: Vec::new(),
            timeout: CLIENT_IO_TIMEOUT,
            request: RequestState::Idle,
            request_is_head: false,
            awaiting_response: false,
            body: BodyState::Done,
            response_keep_alive: true,
            reusable: true,
            exchange: 0,
        })
    }

    /// The `Host` value sent unless the caller gives one (`ip:port`); sign requests with it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Longest wait for any single read or write from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Whether another request can be sent on this connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable && self.body != BodyState::Failed
    }

    /// Send a request with `body` (may be empty) and read the response head. The body of the
    /// response is read with [`read_body`](Self::read_body) or [`body_reader`](Self::body_reader).
    /// `headers` must not hold `Content-Length`/`Transfer-Encoding`; `Host` is added unless given.
    pub async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<ClientResponse, HttpError> {
        self.send_head(method, target, headers, Some(body.len() as u64))
            .await?;
        if !body.is_empty() {
            self.write_body(body).await?;
        }
        self.read_response().await
    }

    /// Start a request whose body follows in pieces through [`write_body`](Self::write_body):
    /// `Some(n)` announces `Content-Length: n`, `None` sends a chunked body. The head is buffered
    /// and leaves with the first body bytes (or at [`flush`](Self::flush) /
    /// [`read_response`](Self::read_response)). Drains an unread previous response body (up to
    /// [`CLIENT_DRAIN_LIMIT_BYTES`]) first.
    pub async fn send_head(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        content_length: Option<u64>,
    ) -> Result<(), HttpError> {
        self.finish_previous().await?;
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
            return Err(invalid_input(format!("method {method:?}")));
        }
        if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid_input(format!("request target {target:?}")));
        }
        let mut head = format!("{method} {target} HTTP/1.1\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            head.push_str("Host: ");
            head.push_str(&self.host);
            head.push_str("\r\n");
        }
        for (name, value) in headers {
            check_field(name, value)?;
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        // RFC 9110 §8.6: no Content-Length on an empty request whose method gives a body no
        // meaning.
        let body_method = ["PUT", "POST", "PATCH"]
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method));
        self.request = match content_length {
            Some(0) if !body_method => RequestState::Idle,
            Some(n) => {
                head.push_str(&format!("Content-Length: {n}\r\n"));
                if n == 0 {
                    RequestState::Idle
                } else {
                    RequestState::Length { remaining_bytes: n }
                }
            }
            None => {
                head.push_str("Transfer-Encoding: chunked\r\n");
                RequestState::Chunked
            }
        };
        head.push_str("\r\n");
        self.wbuf.extend_from_slice(head.as_bytes());
        self.request_is_head = method.eq_ignore_ascii_case("HEAD");
        self.awaiting_response = true;
        self.exchange += 1;
        Ok(())
    }

    /// The previous exchange must be over: response read, its body drained.
    async fn finish_previous(&mut self) -> Result<(), HttpError> {
        if self.awaiting_response {
            return Err(invalid_input("the previous response was not read".into()));
        }
        if !self.body.is_done() && self.body != BodyState::Failed {
            let mut drained: u64 = 0;
            let mut scratch = vec![0u8; 16 * 1024];
            while drained < CLIENT_DRAIN_LIMIT_BYTES {
                let n = self.read_body_chunk(&mut scratch).await?;
                if n == 0 {
                    break;
                }
                drained += n as u64;
            }
            if !self.body.is_done() {
                self.reusable = false;
            }
        }
        if !self.is_reusable() {
            return Err(HttpError::Closed);
        }
        Ok(())
    }

    /// Send request body bytes, straight from `bytes` when large (a chunk of a chunked body).
    pub async fn write_body(&mut self, bytes: &[u8]) -> Result<(), HttpError> {
        match self.request {
            RequestState::Idle => Err(invalid_input(
                "request body bytes without an open request body".into(),
            )),
            RequestState::Length { remaining_bytes } => {
                if bytes.len() as u64 > remaining_bytes {
                    return Err(invalid_input(format!(
                        "{} request body bytes, {remaining_bytes} left of Content-Length",
                        bytes.len()
                    )));
                }
                self.send_after_buffered(bytes).await?;
                let left = remaining_bytes - bytes.len() as u64;
                self.request = if left == 0 {
                    RequestState::Idle
                } else {
                    RequestState::Length {
                        remaining_bytes: left,
                    }
                };
                Ok(())
            }
            RequestState::Chunked => {
                if bytes.is_empty() {
                    return Ok(());
                }
                self.wbuf
                    .extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
                self.send_after_buffered(bytes).await?;
                self.wbuf.extend_from_slice(b"\r\n");
                Ok(())
            }
        }
    }

    /// Send whatever is buffered (the head of a request whose body is not written yet, e.g. to
    /// wait for `100 Continue`).
    pub async fn flush(&mut self) -> Result<(), HttpError> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let result = write_timed(&mut self.stream, &self.wbuf, self.timeout, None).await;
        self.wbuf.clear();
        result
    }

    async fn send_after_buffered(&mut self, bytes: &[u8]) -> Result<(), HttpError> {
        if self.wbuf.len() + bytes.len() <= COALESCE_BYTES {
            self.wbuf.extend_from_slice(bytes);
            return self.flush().await;
        }
        self.flush().await?;
        write_timed(&mut self.stream, bytes, self.timeout, None).await
    }

    /// Finish sending the request (the last chunk of a chunked body) and read the response head.
    ///
    /// A 1xx interim response is skipped when the request body is complete, and returned when
    /// it is not (a `100 Continue` to an `Expect`: write the body, then call this again). A final
    /// response before the whole body was sent makes the connection unusable afterwards.
    pub async fn read_response(&mut self) -> Result<ClientResponse, HttpError> {
        if !self.awaiting_response {
            return Err(invalid_input("read_response without a request".into()));
        }
        if self.request == RequestState::Chunked {
            self.wbuf.extend_from_slice(b"0\r\n\r\n");
            self.request = RequestState::Idle;
        }
        self.flush().await?;
        let (parsed, len) = loop {
            let (parsed, len) = self.read_response_head().await?;
            let interim = (100..200).contains(&parsed.status) && parsed.status != 101;
            if !interim {
                break (parsed, len);
            }
            self.rbuf.consume(len);
            if self.request != RequestState::Idle {
                return Ok(self.response_from(parsed, None, false));
            }
        };
        self.rbuf.consume(len);
        self.awaiting_response = false;
        if self.request != RequestState::Idle {
            // The server answered before the whole body was sent.
            self.request = RequestState::Idle;
            self.reusable = false;
        }
        let (body, content_length, keep_alive) = response_framing(&parsed, self.request_is_head)?;
        self.body = body;
        self.response_keep_alive = keep_alive;
        if body.is_done() && !keep_alive {
            self.reusable = false;
        }
        Ok(self.response_from(parsed, content_length, keep_alive))
    }

    fn response_from(
        &self,
        parsed: ParsedResponse,
        content_length: Option<u64>,
        keep_alive: bool,
    ) -> ClientResponse {
        ClientResponse {
            status: parsed.status,
            headers: parsed.headers,
            content_length,
            keep_alive,
            exchange: self.exchange,
        }
    }

    async fn read_response_head(&mut self) -> Result<(ParsedResponse, usize), HttpError> {
        loop {
            if !self.rbuf.is_empty() {
                if let Some(parsed) = parse_response_head(self.rbuf.data())? {
                    return Ok(parsed);
                }
            }
            let mut src = TimedRead {
                stream: &mut self.stream,
                timeout: self.timeout,
                progress: None,
                deadline: None,
            };
            if self.rbuf.fill_from(&mut src).await? == 0 {
                self.reusable = false;
                return Err(HttpError::Closed);
            }
        }
    }

    /// Read the whole body of `resp`, handing it to `sink` in pieces of up to 256 KiB from one
    /// reused buffer. Returns the body length.
    pub async fn read_body(
        &mut self,
        resp: &ClientResponse,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<u64, HttpError> {
        debug_assert_eq!(resp.exchange, self.exchange, "body of an older response");
        let mut buf = std::mem::take(&mut self.body_buf);
        buf.resize(READ_BODY_BUFFER_BYTES, 0);
        let mut total: u64 = 0;
        let result = loop {
            match self.read_body_chunk(&mut buf).await {
                Ok(0) => break Ok(total),
                Ok(n) => {
                    sink(&buf[..n]);
                    total += n as u64;
                }
                Err(e) => break Err(e),
            }
        };
        self.body_buf = buf;
        result
    }

    /// The current response body as a [`BodyRead`] (reads go into the caller's buffers).
    pub fn body_reader(&mut self) -> ClientBody<'_> {
        ClientBody { client: self }
    }

    async fn read_body_chunk(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let mut src = TimedRead {
            stream: &mut self.stream,
            timeout: self.timeout,
            progress: None,
            deadline: None,
        };
        let result = read_body(&mut self.body, &mut self.rbuf, &mut src, buf).await;
        match result {
            Ok(0) if !self.response_keep_alive => self.reusable = false,
            Err(_) => self.reusable = false,
            _ => {}
        }
        result
    }
}

/// The body of the client's current response.
pub struct ClientBody<'a> {
    client: &'a mut HttpClient,
}

#[async_trait::async_trait(?Send)]
impl BodyRead for ClientBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        self.client.read_body_chunk(buf).await
    }
}

/// A response head as parsed.
#[derive(Debug)]
struct ParsedResponse {
    status: u16,
    version_minor: u8,
    headers: Vec<(String, String)>,
}

impl ParsedResponse {
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parse a response head from the start of `buf`; `Ok(None)`: need more bytes.
fn parse_response_head(buf: &[u8]) -> Result<Option<(ParsedResponse, usize)>, HttpError> {
    let window = &buf[..buf.len().min(MAX_HEAD_BYTES)];
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut fields);
    let len = match resp.parse(window) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD_BYTES => {
            return Err(HttpError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::HeadTooLarge),
        Err(e) => return Err(HttpError::Malformed(format!("response head: {e}"))),
    };
    let (Some(status), Some(version_minor)) = (resp.code, resp.version) else {
        return Err(HttpError::Malformed("incomplete status line".into()));
    };
    let headers = resp
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Ok(Some((
        ParsedResponse {
            status,
            version_minor,
            headers,
        },
        len,
    )))
}

/// Body framing of a response (RFC 9112 §6.3): (body state, Content-Length value, keep-alive).
fn response_framing(
    parsed: &ParsedResponse,
    request_is_head: bool,
) -> Result<(BodyState, Option<u64>, bool), HttpError> {
    let connection: Vec<&str> = list_items(parsed.values("connection")).collect();
    let mut keep_alive = if parsed.version_minor >= 1 {
        !connection.iter().any(|t| t.eq_ignore_ascii_case("close"))
    } else {
        connection
            .iter()
            .any(|t| t.eq_ignore_ascii_case("keep-alive"))
    };
    let content_length = content_length_of(list_items(parsed.values("content-length")))?;
    let has_te = parsed.values("transfer-encoding").next().is_some();
    if has_te && content_length.is_some() {
        return Err(HttpError::Malformed(
            "both Content-Length and Transfer-Encoding in a response".into(),
        ));
    }
    let status = parsed.status;
    let body = if request_is_head || (100..200).contains(&status) || status == 204 || status == 304
    {
        BodyState::Done
    } else if has_te {
        let codings: Vec<&str> = list_items(parsed.values("transfer-encoding")).collect();
        match codings.as_slice() {
            [c] if c.eq_ignore_ascii_case("chunked") => {
                BodyState::Chunked(super::body::ChunkState::SizeLine)
            }
            _ => {
                return Err(HttpError::Malformed(format!(
                    "unsupported response Transfer-Encoding {codings:?}"
                )))
            }
        }
    } else if let Some(n) = content_length {
        BodyState::from_framing(super::BodyFraming::Length(n))
    } else {
        keep_alive = false;
        BodyState::UntilClose
    };
    Ok((body, content_length, keep_alive))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use glommio::net::TcpListener;
    use glommio::{LocalExecutorBuilder, Placement};

    fn framing_of(bytes: &[u8], head: bool) -> Result<(BodyState, Option<u64>, bool), HttpError> {
        match parse_response_head(bytes)? {
            Some((parsed, len)) => {
                assert_eq!(len, bytes.len());
                response_framing(&parsed, head)
            }
            None => panic!("partial: {:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn response_framing_table() {
        use super::super::body::ChunkState::SizeLine;
        let table: &[(&str, bool, BodyState, Option<u64>, bool)] = &[
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                false,
                BodyState::Length { remaining_bytes: 5 },
                Some(5),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                false,
                BodyState::Done,
                Some(0),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                false,
                BodyState::Chunked(SizeLine),
                None,
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                true,
                BodyState::Done,
                Some(100),
                true,
            ),
            (
                "HTTP/1.1 204 No Content\r\n\r\n",
                false,
                BodyState::Done,
                None,
                true,
            ),
            (
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
                false,
                BodyState::Done,
                Some(9),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\n\r\n",
                false,
                BodyState::UntilClose,
                None,
                false,
            ),
            (
                "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
                false,
                BodyState::Length { remaining_bytes: 1 },
                Some(1),
                false,
            ),
            (
                "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n",
                false,
                BodyState::Length { remaining_bytes: 1 },
                Some(1),
                true,
            ),
            (
                "HTTP/1.1 503 Slow Down\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
                false,
                BodyState::Length { remaining_bytes: 1 },
                Some(1),
                false,
            ),
        ];
        for (bytes, head, body, length, keep_alive) in table {
            let got = framing_of(bytes.as_bytes(), *head).ok();
            assert_eq!(got, Some((*body, *length, *keep_alive)), "{bytes:?}");
        }
        let bad: &[&str] = &[
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        ];
        for bytes in bad {
            assert!(
                matches!(
                    framing_of(bytes.as_bytes(), false),
                    Err(HttpError::Malformed(_))
                ),
                "{bytes:?}"
            );
        }
        assert!(matches!(
            parse_response_head(b"HTTP/9 OK\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
        let whole = b"HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 5\r\n\r\n";
        for split in 0..whole.len() {
            assert!(
                matches!(parse_response_head(&whole[..split]), Ok(None)),
                "split {split}"
            );
        }
    }

    /// Read from a raw stream until a blank line (the end of one request head without body).
    async fn read_request(stream: &mut glommio::net::TcpStream) -> Vec<u8> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.expect("read") == 0 {
                break;
            }
            head.push(byte[0]);
        }
        head
    }

    #[test]
    fn interim_responses_and_close_delimited_bodies() {
        LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(256 << 10)
            .spawn(|| async {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
                let addr = listener.local_addr().expect("addr");
                let server = glommio::spawn_local(async move {
                    let mut stream = listener.accept().await.expect("accept");
                    let first = read_request(&mut stream).await;
                    // Interim response, then a chunked body written in awkward pieces.
                    for piece in [
                        &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Enc"[..],
                        b"oding: chunked\r\n\r\n5\r\nhel",
                        b"lo\r\n6\r\n world\r\n0\r\n\r\n",
                    ] {
                        stream.write_all(piece).await.expect("write");
                        glommio::timer::sleep(Duration::from_millis(5)).await;
                    }
                    let second = read_request(&mut stream).await;
                    stream
                        .write_all(
                            b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
                        )
                        .await
                        .expect("write");
                    drop(stream);
                    (first, second)
                });

                let mut client = HttpClient::connect(addr).await.expect("connect");
                let host = client.host().to_string();
                let resp = client.send("GET", "/a?x=1", &[], &[]).await.expect("first");
                assert_eq!(resp.status, 200);
                let mut body = Vec::new();
                client
                    .read_body(&resp, &mut |b| body.extend_from_slice(b))
                    .await
                    .expect("body");
                assert_eq!(body, b"hello world");
                assert!(client.is_reusable());

                let headers = vec![("Host".to_string(), "bucket.local".to_string())];
                let resp = client
                    .send("GET", "/b", &headers, &[])
                    .await
                    .expect("second");
                assert!(!resp.keep_alive());
                let mut reader = client.body_reader();
                let mut buf = [0u8; 4];
                let mut body = Vec::new();
                loop {
                    let n = reader.read(&mut buf).await.expect("read");
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&buf[..n]);
                }
                assert_eq!(body, b"until close");
                assert!(!client.is_reusable());
                assert!(matches!(
                    client.send("GET", "/c", &[], &[]).await,
                    Err(HttpError::Closed)
                ));

                let (first, second) = server.await;
                assert_eq!(
                    first,
                    format!("GET /a?x=1 HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
                );
                assert_eq!(
                    second,
                    b"GET /b HTTP/1.1\r\nHost: bucket.local\r\n\r\n".to_vec()
                );
            })
            .expect("executor")
            .join()
            .expect("join");
    }
}

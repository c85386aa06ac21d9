//! The server side of one HTTP/1.1 connection: read a request head, hand out its body, write the
//! response, repeat (keep-alive), or give the connection to another core.
//!
//! One exchange at a time, in order:
//! 1. [`HttpConn::read_head`] (or [`HttpConn::peek_head`] to route first, then hand off);
//! 2. [`HttpConn::body`] → [`RawBody`], read to its end;
//! 3. [`HttpConn::write_head`], then [`HttpConn::write_all`] for the body bytes, then
//!    [`HttpConn::end_response`] (required for a chunked body: it writes the last chunk).
//!
//! The next `read_head` closes the previous exchange itself: it ends an open response, flushes,
//! and drains an unread request body up to [`DRAIN_LIMIT_BYTES`]. It returns `Ok(None)` once
//! the connection should close (clean EOF, `Connection: close`, a body delimited by close).
//!
//! Timeouts (all per connection, see [`ConnTimeouts`]): waiting for the first byte of a request
//! ([`IDLE_TIMEOUT`]), receiving a whole head once it started ([`HEAD_TIMEOUT`], so a client
//! dribbling bytes cannot hold a connection), and each body read or response write making no
//! progress ([`BODY_READ_TIMEOUT`], [`WRITE_TIMEOUT`]). A body must also keep a minimum rate
//! ([`BODY_MIN_RATE`] over [`BODY_RATE_GRACE`]): a client sending a byte now and then would
//! never trip a per-read timeout, yet holds the memory and slots of its request for as long as
//! it likes. Only time spent waiting for the client counts, not time the server spends before
//! it reads (waiting for a budget, writing to drives).
//!
//! `Expect: 100-continue` (aws cli and boto3 send it for large uploads and wait about a second
//! before sending anyway): the first body read sends `100 Continue` if the body has not started
//! arriving, or call [`HttpConn::send_continue`] directly. A final response written while the
//! client still waits means it will not send the body: the connection is not reused
//! ([`HttpConn::reusable`]).
//!
//! Writes: the response head is buffered and goes out with the first body bytes (one segment
//! for small responses); a body-less response goes out at once. Large body writes are not
//! copied.
//!
//! Invariants: at most one response is open; body bytes never exceed the announced
//! `Content-Length` (an error, not a write); only `read_head` moves to the next request, and a
//! hand-off happens only between exchanges (nothing buffered to write, no body half read), so
//! the bytes handed over are exactly the unread input.

use super::body::{read_body, BodyState, RawBody};
use super::buffer::{RawSource, ReadBuffer};
use super::handoff::{dup_stream_fd, stream_from_fd};
use super::response::{encode_head, invalid_input, status_line, FramingHeader, ResponseHead};
use super::socket::{write_timed, TimedRead};
use super::stall::Progress;
use super::{parse_head, BodyFraming, HttpError, RequestHead};
use glommio::net::TcpStream;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

/// Longest wait for the first byte of the next request on a kept-alive connection.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest time from the first byte of a request head to its end.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for more request body bytes.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for socket space while writing a response.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Slowest request body accepted, in bytes per second, measured over [`BODY_RATE_GRACE`].
pub const BODY_MIN_RATE: u64 = 4096;
/// Every this much time spent waiting for a request body must bring
/// `BODY_MIN_RATE x BODY_RATE_GRACE` bytes.
pub const BODY_RATE_GRACE: Duration = Duration::from_secs(20);
/// Longest a closing connection keeps discarding a request body it will not read
/// ([`HttpConn::close_lingering`]).
pub const LINGER_MAX: Duration = Duration::from_secs(2);
/// At most this much of an unread request body is discarded to keep a connection alive.
pub const DRAIN_LIMIT_BYTES: u64 = 256 * 1024;
/// Body writes up to this size are copied behind the buffered head or chunk line so that both
/// leave in one send; larger ones are written from the caller's buffer.
const COALESCE_BYTES: usize = 16 * 1024;

/// The timeouts of one connection; [`Default`] gives the constants above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnTimeouts {
    /// See [`IDLE_TIMEOUT`].
    pub idle: Duration,
    /// See [`HEAD_TIMEOUT`].
    pub head: Duration,
    /// See [`BODY_READ_TIMEOUT`].
    pub body_read: Duration,
    /// See [`WRITE_TIMEOUT`].
    pub write: Duration,
    /// See [`BODY_MIN_RATE`]; 0 turns the check off.
    pub body_min_rate: u64,
    /// See [`BODY_RATE_GRACE`].
    pub body_rate_grace: Duration,
}

impl Default for ConnTimeouts {
    fn default() -> Self {
        Self {
            idle: IDLE_TIMEOUT,
            head: HEAD_TIMEOUT,
            body_read: BODY_READ_TIMEOUT,
            write: WRITE_TIMEOUT,
            body_min_rate: BODY_MIN_RATE,
            body_rate_grace: BODY_RATE_GRACE,
        }
    }
}

/// A request body's progress in the current rate window: time spent waiting for it, bytes it
/// brought.
#[derive(Debug, Clone, Copy, Default)]
struct RateWindow {
    waited: Duration,
    bytes: u64,
}

/// Where the response of the current exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseState {
    /// No response in progress.
    Idle,
    /// Head written (maybe still buffered); this many body bytes to go.
    Length { remaining_bytes: u64 },
    /// Head written; chunked body until `end_response`.
    Chunked,
    /// Head written; body until the connection closes (HTTP/1.0 peer).
    UntilClose,
}

/// `Expect: 100-continue` state of the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Continue {
    /// Not asked for, or already answered with 100.
    NotPending,
    /// The client waits for 100 before sending the body.
    Pending,
    /// A final response went out while the client waited: it will not send the body.
    Refused,
}

/// A server-side connection: owns the stream and a read buffer holding bytes read past the head.
pub struct HttpConn {
    stream: TcpStream,
    rbuf: ReadBuffer,
    wbuf: Vec<u8>,
    timeouts: ConnTimeouts,
    /// Framing of the current request's body, as read_head found it.
    request_framing: BodyFraming,
    body: BodyState,
    expect: Continue,
    request_is_head: bool,
    request_version_minor: u8,
    response: ResponseState,
    /// False once the connection must close after the current exchange.
    keep_open: bool,
    /// A final response head was written (maybe still buffered) in the current exchange.
    responded: bool,
    /// Moved by every socket read and write that transfers bytes (stall.rs).
    progress: Progress,
    /// The current request body against the minimum rate.
    body_window: RateWindow,
}

impl HttpConn {
    /// Wrap an accepted stream. `prefix`: bytes already read from it (a hand-off). Sets
    /// `TCP_NODELAY` (GLOMMIO.md §3: without it small responses wait ~40 ms).
    pub fn new(stream: TcpStream, prefix: Vec<u8>) -> Self {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY on an accepted connection: {e}");
        }
        Self {
            stream,
            rbuf: ReadBuffer::with_prefix(prefix),
            wbuf: Vec::with_capacity(1024),
            timeouts: ConnTimeouts::default(),
            request_framing: BodyFraming::None,
            body: BodyState::Done,
            expect: Continue::NotPending,
            request_is_head: false,
            request_version_minor: 1,
            response: ResponseState::Idle,
            keep_open: true,
            responded: false,
            progress: Progress::default(),
            body_window: RateWindow::default(),
        }
    }

    /// Replace the timeouts (tests, configuration).
    pub fn set_timeouts(&mut self, timeouts: ConnTimeouts) {
        self.timeouts = timeouts;
    }

    /// The connection's progress clock (a shared handle), for [`unless_stalled`](super::unless_stalled).
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Whether the current exchange has started its final response: after that only closing
    /// the connection can signal a failure.
    pub fn response_started(&self) -> bool {
        self.responded
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        Ok(self.stream.peer_addr()?)
    }

    /// Next request head; `Ok(None)` on clean EOF before any byte of it, or when the previous
    /// exchange ended the connection. Finishes the previous exchange first (module docs).
    /// `Err(Malformed | HeadTooLarge)` may still be answered with a 400, then close.
    pub async fn read_head(&mut self) -> Result<Option<RequestHead>, HttpError> {
        let Some((head, head_len)) = self.next_head().await? else {
            return Ok(None);
        };
        self.rbuf.consume(head_len);
        self.request_framing = head.body_framing()?;
        self.body = BodyState::from_framing(self.request_framing);
        self.body_window = RateWindow::default();
        // Pending even for an empty body: a client that asked must get its 100 (or the
        // connection closes after the answer), see `reusable`.
        self.expect = if head.expects_continue() {
            Continue::Pending
        } else {
            Continue::NotPending
        };
        self.request_is_head = head.method == ::http::Method::HEAD;
        self.request_version_minor = head.version_minor;
        self.keep_open = head.keep_alive();
        self.responded = false;
        Ok(Some(head))
    }

    /// Like [`read_head`](Self::read_head), but leaves the head in the buffer: the next
    /// `read_head` (here, or after [`into_handoff`](Self::into_handoff) on another core)
    /// returns it again. For routing a request before deciding who serves it.
    pub async fn peek_head(&mut self) -> Result<Option<RequestHead>, HttpError> {
        Ok(self.next_head().await?.map(|(head, _)| head))
    }

    async fn next_head(&mut self) -> Result<Option<(RequestHead, usize)>, HttpError> {
        let result = self.wait_for_head().await;
        if result.is_err() {
            // Whatever answer is still possible (a 400) is the last one on this connection.
            self.keep_open = false;
            self.request_is_head = false;
            self.request_version_minor = 1;
        }
        result
    }

    async fn wait_for_head(&mut self) -> Result<Option<(RequestHead, usize)>, HttpError> {
        self.finish_exchange().await?;
        if !self.keep_open {
            return Ok(None);
        }
        let mut started = (!self.rbuf.is_empty()).then(Instant::now);
        loop {
            if !self.rbuf.is_empty() {
                if let Some(parsed) = parse_head(self.rbuf.data())? {
                    return Ok(Some(parsed));
                }
            }
            let timeout = match started {
                None => self.timeouts.idle,
                Some(t) => self.timeouts.head.saturating_sub(t.elapsed()),
            };
            let mut src = TimedRead {
                stream: &mut self.stream,
                timeout,
                progress: Some(&self.progress),
                deadline: None,
            };
            if self.rbuf.fill_from(&mut src).await? == 0 {
                return if self.rbuf.is_empty() {
                    Ok(None)
                } else {
                    Err(HttpError::Closed)
                };
            }
            started.get_or_insert_with(Instant::now);
        }
    }

    /// End whatever the previous exchange left open.
    async fn finish_exchange(&mut self) -> Result<(), HttpError> {
        if self.response != ResponseState::Idle {
            self.end_response().await?;
        }
        self.flush().await?;
        if self.body.is_done() || !self.keep_open {
            return Ok(());
        }
        if self.expect != Continue::NotPending || self.body == BodyState::Failed {
            // The client never got its 100 and will not send the body, or the body's framing
            // is broken: nothing more can be read here.
            self.keep_open = false;
        } else if !self.drain_request_body(DRAIN_LIMIT_BYTES).await? {
            self.keep_open = false;
        }
        Ok(())
    }

    /// Body of the request just read. `framing` must be the head's
    /// [`body_framing`](RequestHead::body_framing).
    pub fn body(&mut self, framing: BodyFraming) -> RawBody<'_> {
        debug_assert_eq!(framing, self.request_framing, "framing of another request");
        RawBody::new(self)
    }

    pub(crate) fn request_body_done(&self) -> bool {
        self.body.is_done()
    }

    pub(crate) async fn read_request_body(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        if self.expect == Continue::Pending && !buf.is_empty() {
            if self.rbuf.is_empty() {
                self.send_continue().await?;
            } else {
                // The client did not wait: the body is already arriving.
                self.expect = Continue::NotPending;
            }
        }
        let (rate, grace) = (self.timeouts.body_min_rate, self.timeouts.body_rate_grace);
        let started = Instant::now();
        let mut src = TimedRead {
            stream: &mut self.stream,
            timeout: self.timeouts.body_read,
            progress: Some(&self.progress),
            deadline: (rate > 0).then(|| started + grace.saturating_sub(self.body_window.waited)),
        };
        let result = read_body(&mut self.body, &mut self.rbuf, &mut src, buf).await;
        if rate == 0 {
            return result;
        }
        let mut window = self.body_window;
        window.waited += started.elapsed();
        if let Ok(n) = result {
            window.bytes += n as u64;
            if window.bytes as f64 >= rate as f64 * grace.as_secs_f64() {
                window = RateWindow::default();
            }
        }
        self.body_window = window;
        if matches!(result, Err(HttpError::Timeout)) && window.waited >= grace {
            tracing::info!(
                peer = %self.peer_addr().map_or_else(|e| e.to_string(), |a| a.to_string()),
                bytes = window.bytes,
                waited = ?window.waited,
                min_rate = rate,
                "request body slower than the minimum rate; request cut"
            );
        }
        result
    }

    /// Read and discard the rest of the request body, at most `limit_bytes`; `Ok(true)` if it
    /// ended within the limit.
    pub(crate) async fn drain_request_body(&mut self, limit_bytes: u64) -> Result<bool, HttpError> {
        let mut scratch = vec![0u8; 16 * 1024];
        let mut drained: u64 = 0;
        while !self.body.is_done() {
            if drained >= limit_bytes {
                return Ok(false);
            }
            let room = usize::try_from(limit_bytes - drained)
                .map_or(scratch.len(), |r| r.min(scratch.len()));
            let n = self.read_request_body(&mut scratch[..room]).await?;
            drained += n as u64;
        }
        Ok(true)
    }

    /// Send `100 Continue` now if the client asked for it and has not had it (idempotent).
    pub async fn send_continue(&mut self) -> Result<(), HttpError> {
        if self.expect != Continue::Pending {
            return Ok(());
        }
        debug_assert!(self.response == ResponseState::Idle && self.wbuf.is_empty());
        self.expect = Continue::NotPending;
        let line = status_line(100)?;
        self.wbuf.extend_from_slice(line.as_bytes());
        self.wbuf.extend_from_slice(b"\r\n");
        self.flush().await
    }

    /// Whether this connection can serve another request after the current exchange: false
    /// when the request asked to close, after a body or framing error, and when the client
    /// asked for `100 Continue` and has not had it: a final response now means the body never
    /// comes, and even with an empty body some clients (botocore) carry the early response's
    /// status over to their next request on the connection. Decide `Connection: close` on the
    /// response with it.
    pub fn reusable(&self) -> bool {
        self.keep_open && self.body != BodyState::Failed && self.expect == Continue::NotPending
    }

    /// Start the response. Informational heads (1xx) are written at once. Final heads: the
    /// connection adds the framing header (`Content-Length`, or `Transfer-Encoding: chunked`
    /// when `content_length` is `None`), `Date` and `Server`. No body follows for a HEAD
    /// request, 204 or 304; a head with nothing to follow is written at once, otherwise it
    /// waits for the first body bytes.
    pub async fn write_head(&mut self, resp: &ResponseHead) -> Result<(), HttpError> {
        if self.response != ResponseState::Idle {
            return Err(invalid_input("write_head while a response is open".into()));
        }
        let status = resp.status;
        if (100..200).contains(&status) {
            encode_head(resp, FramingHeader::None, &mut self.wbuf)?;
            if status == 100 && self.expect == Continue::Pending {
                self.expect = Continue::NotPending;
            }
            return self.flush().await;
        }
        if self.expect == Continue::Pending {
            self.expect = Continue::Refused;
        }
        self.responded = true;
        let body_allowed = !(self.request_is_head || status == 204 || status == 304);
        let (framing, state) = match (resp.content_length, body_allowed) {
            _ if status == 204 => (FramingHeader::None, ResponseState::Idle),
            (Some(n), true) => (
                FramingHeader::Length(n),
                ResponseState::Length { remaining_bytes: n },
            ),
            (Some(n), false) => (FramingHeader::Length(n), ResponseState::Idle),
            (None, false) => (FramingHeader::None, ResponseState::Idle),
            (None, true) if self.request_version_minor >= 1 => {
                (FramingHeader::Chunked, ResponseState::Chunked)
            }
            (None, true) => (FramingHeader::Close, ResponseState::UntilClose),
        };
        encode_head(resp, framing, &mut self.wbuf)?;
        self.response = match state {
            ResponseState::Length { remaining_bytes: 0 } => ResponseState::Idle,
            other => other,
        };
        if resp
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"))
        {
            self.keep_open = false;
        }
        if self.response == ResponseState::Idle {
            self.flush().await?;
        }
        Ok(())
    }

    /// Write response body bytes (framed as one chunk for a chunked response). Writing more
    /// than the announced `Content-Length`, or without an open response, is an error.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), HttpError> {
        match self.response {
            ResponseState::Idle => Err(invalid_input(
                "response body bytes without an open response".into(),
            )),
            ResponseState::Length { remaining_bytes } => {
                if bytes.len() as u64 > remaining_bytes {
                    return Err(invalid_input(format!(
                        "{} response body bytes, {remaining_bytes} left of Content-Length",
                        bytes.len()
                    )));
                }
                self.send_after_buffered(bytes).await?;
                let left = remaining_bytes - bytes.len() as u64;
                self.response = if left == 0 {
                    ResponseState::Idle
                } else {
                    ResponseState::Length {
                        remaining_bytes: left,
                    }
                };
                Ok(())
            }
            ResponseState::Chunked => {
                if bytes.is_empty() {
                    // A zero-size chunk would end the body.
                    return Ok(());
                }
                self.wbuf
                    .extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
                if self.wbuf.len() + bytes.len() + 2 <= COALESCE_BYTES {
                    self.wbuf.extend_from_slice(bytes);
                    self.wbuf.extend_from_slice(b"\r\n");
                    self.flush().await
                } else {
                    self.send_after_buffered(bytes).await?;
                    self.wbuf.extend_from_slice(b"\r\n");
                    Ok(())
                }
            }
            ResponseState::UntilClose => self.send_after_buffered(bytes).await,
        }
    }

    /// End the response: the last chunk of a chunked body, a check that a `Content-Length` body
    /// is complete (if not, the connection is closed: the client cannot tell where the body
    /// ends), then flush. No-op without an open response.
    pub async fn end_response(&mut self) -> Result<(), HttpError> {
        let state = std::mem::replace(&mut self.response, ResponseState::Idle);
        match state {
            ResponseState::Idle => {}
            ResponseState::Chunked => self.wbuf.extend_from_slice(b"0\r\n\r\n"),
            ResponseState::UntilClose => self.keep_open = false,
            ResponseState::Length { remaining_bytes } => {
                self.keep_open = false;
                self.flush().await?;
                return Err(HttpError::Io(std::io::Error::other(format!(
                    "response ended {remaining_bytes} bytes short of its Content-Length"
                ))));
            }
        }
        self.flush().await
    }

    /// Send whatever is buffered (a response head waiting for its body, a chunk's CRLF).
    /// Does not end a chunked response: see [`end_response`](Self::end_response).
    pub async fn flush(&mut self) -> Result<(), HttpError> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let result = write_timed(
            &mut self.stream,
            &self.wbuf,
            self.timeouts.write,
            Some(&self.progress),
        )
        .await;
        self.wbuf.clear();
        result
    }

    /// Buffered bytes, then `bytes`: copied behind them when small (one send), else two sends.
    async fn send_after_buffered(&mut self, bytes: &[u8]) -> Result<(), HttpError> {
        if self.wbuf.len() + bytes.len() <= COALESCE_BYTES {
            self.wbuf.extend_from_slice(bytes);
            return self.flush().await;
        }
        self.flush().await?;
        write_timed(
            &mut self.stream,
            bytes,
            self.timeouts.write,
            Some(&self.progress),
        )
        .await
    }

    /// Close a connection whose client may still be sending a request body: half-close (so
    /// the client reads the response and then end-of-stream), then read and discard what
    /// arrives for at most [`LINGER_MAX`] or until the client closes. Closing with unread
    /// bytes queued would make the kernel answer with a reset, which can destroy the response
    /// before the client has read it (an error answered early, a request cut mid-body).
    pub async fn close_lingering(mut self) {
        if self.flush().await.is_err() || self.body.is_done() {
            return;
        }
        if self
            .stream
            .shutdown(std::net::Shutdown::Write)
            .await
            .is_err()
        {
            return;
        }
        let until = Instant::now() + LINGER_MAX;
        let mut sink = vec![0u8; 64 * 1024];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let mut src = TimedRead {
                stream: &mut self.stream,
                timeout: left,
                deadline: None,
                progress: None,
            };
            match src.read_raw(&mut sink).await {
                Ok(n) if n > 0 => continue,
                _ => return,
            }
        }
    }

    /// Give up the connection for a hand-off: a dup'd fd of the socket and the unconsumed
    /// buffered bytes (after [`peek_head`](Self::peek_head): the whole next head). Only between
    /// exchanges: with a response or request body open this is an `InvalidInput` error and the
    /// connection is dropped.
    pub fn into_handoff(self) -> std::io::Result<(OwnedFd, Vec<u8>)> {
        if self.response != ResponseState::Idle || !self.wbuf.is_empty() || !self.body.is_done() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "hand-off in the middle of an exchange",
            ));
        }
        let fd = dup_stream_fd(&self.stream)?;
        // Dropping the stream closes its own fd; the socket lives on in `fd`.
        drop(self.stream);
        Ok((fd, self.rbuf.into_remaining()))
    }

    /// Rebuild a connection from [`into_handoff`](Self::into_handoff)'s parts, on the core
    /// that serves it. The fd must be a connected TCP socket.
    pub fn from_handoff(fd: OwnedFd, prefix: Vec<u8>) -> std::io::Result<Self> {
        let stream = stream_from_fd(fd)?;
        Ok(Self::new(stream, prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::super::client::HttpClient;
    use super::super::BodyRead;
    use super::*;
    use futures_lite::AsyncWriteExt;
    use glommio::net::TcpListener;
    use glommio::{LocalExecutorBuilder, Placement};
    use std::future::Future;

    /// Run `f` on a fresh executor with a small io_memory (GLOMMIO.md §1).
    fn run<F, Fut>(f: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(256 << 10)
            .spawn(f)
            .expect("executor")
            .join()
            .expect("join");
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    async fn read_to_end(body: &mut RawBody<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = body.read(&mut buf).await.expect("body read");
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    /// A small object server: PUT stores the body and answers with its length; GET answers with
    /// the stored bytes in a chunked body written in three pieces; HEAD gives the length.
    async fn serve(conn: &mut HttpConn, store: &mut Vec<u8>, max_requests: usize) -> usize {
        let mut served = 0;
        while served < max_requests {
            let Some(head) = conn.read_head().await.expect("read_head") else {
                break;
            };
            served += 1;
            let framing = head.body_framing().expect("framing");
            match head.method {
                ::http::Method::PUT => {
                    let mut body = conn.body(framing);
                    *store = read_to_end(&mut body).await;
                    let resp = ResponseHead::new(200)
                        .with_header("ETag", format!("\"{}\"", store.len()))
                        .with_header("x-amz-request-id", "TEST");
                    conn.write_head(&resp).await.expect("write_head");
                }
                ::http::Method::GET => {
                    let resp = ResponseHead::new(200).with_content_length(None);
                    conn.write_head(&resp).await.expect("write_head");
                    let third = store.len() / 3;
                    for piece in [&store[..10], &store[10..third], &store[third..]] {
                        conn.write_all(piece).await.expect("write_all");
                    }
                    conn.end_response().await.expect("end_response");
                }
                _ => {
                    let resp = ResponseHead::new(200).with_content_length(Some(store.len() as u64));
                    conn.write_head(&resp).await.expect("write_head");
                }
            }
        }
        served
    }

    #[test]
    fn keep_alive_put_get_over_loopback() {
        run(|| async {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let server = glommio::spawn_local(async move {
                let stream = listener.accept().await.expect("accept");
                let mut conn = HttpConn::new(stream, Vec::new());
                let mut store = Vec::new();
                serve(&mut conn, &mut store, usize::MAX).await
            });

            let mut client = HttpClient::connect(addr).await.expect("connect");
            let object = pattern(300_000, 7);

            // PUT with Expect: the server sends 100 Continue, the client skips it.
            let headers = vec![
                ("Expect".to_string(), "100-continue".to_string()),
                (
                    "x-amz-content-sha256".to_string(),
                    "UNSIGNED-PAYLOAD".to_string(),
                ),
            ];
            let resp = client
                .send("PUT", "/bucket/key", &headers, &object)
                .await
                .expect("put");
            assert_eq!(resp.status, 200);
            assert_eq!(resp.header("etag"), Some("\"300000\""));
            assert_eq!(resp.header("server"), Some("minnow"));
            assert!(resp.header("date").is_some());
            assert_eq!(resp.content_length, Some(0));
            let mut sink = Vec::new();
            assert_eq!(
                client
                    .read_body(&resp, &mut |b| sink.extend_from_slice(b))
                    .await
                    .ok(),
                Some(0)
            );

            // GET: chunked response.
            let resp = client
                .send("GET", "/bucket/key", &[], &[])
                .await
                .expect("get");
            assert_eq!(resp.status, 200);
            assert_eq!(resp.content_length, None);
            assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
            let mut got = Vec::new();
            let n = client
                .read_body(&resp, &mut |b| got.extend_from_slice(b))
                .await
                .expect("get body");
            assert_eq!(n, object.len() as u64);
            assert!(got == object);

            // Streamed PUT, chunked request body from pieces of one buffer.
            let object = pattern(200_000, 3);
            client
                .send_head("PUT", "/bucket/key2", &[], None)
                .await
                .expect("send_head");
            for piece in object.chunks(70_001) {
                client.write_body(piece).await.expect("write_body");
            }
            let resp = client.read_response().await.expect("put response");
            assert_eq!(resp.header("etag"), Some("\"200000\""));
            client
                .read_body(&resp, &mut |_| {})
                .await
                .expect("empty body");

            // Streamed PUT with a length, then HEAD: a length but no body.
            client
                .send_head("PUT", "/bucket/key3", &[], Some(object.len() as u64))
                .await
                .expect("send_head");
            client.write_body(&object[..5]).await.expect("write_body");
            client.write_body(&object[5..]).await.expect("write_body");
            let resp = client.read_response().await.expect("put response");
            assert_eq!(resp.status, 200);
            let resp = client
                .send("HEAD", "/bucket/key3", &[], &[])
                .await
                .expect("head");
            assert_eq!(resp.content_length, Some(object.len() as u64));
            assert_eq!(client.read_body(&resp, &mut |_| {}).await.ok(), Some(0));

            // Expect: 100-continue the way aws cli does it: head, wait for 100, then the body.
            let headers = vec![("Expect".to_string(), "100-continue".to_string())];
            client
                .send_head("PUT", "/bucket/key4", &headers, Some(object.len() as u64))
                .await
                .expect("send_head");
            let resp = client.read_response().await.expect("interim");
            assert_eq!(resp.status, 100);
            client.write_body(&object).await.expect("write_body");
            let resp = client.read_response().await.expect("put response");
            assert_eq!(resp.status, 200);
            assert_eq!(resp.header("etag"), Some("\"200000\""));
            client
                .read_body(&resp, &mut |_| {})
                .await
                .expect("empty body");

            // Still the same connection: GET the streamed object back.
            let resp = client
                .send("GET", "/bucket/key3", &[], &[])
                .await
                .expect("get");
            let mut got = Vec::new();
            client
                .read_body(&resp, &mut |b| got.extend_from_slice(b))
                .await
                .expect("get body");
            assert!(got == object);
            assert!(client.is_reusable());
            drop(client);
            assert_eq!(server.await, 7);
        });
    }

    #[test]
    fn handoff_serves_the_next_request() {
        run(|| async {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let server = glommio::spawn_local(async move {
                let stream = listener.accept().await.expect("accept");
                let mut conn = HttpConn::new(stream, Vec::new());
                let mut store = Vec::new();
                assert_eq!(serve(&mut conn, &mut store, 1).await, 1);

                // Route the next request first, then move the connection with its head.
                let head = conn.peek_head().await.expect("peek").expect("a request");
                assert_eq!(head.method, ::http::Method::GET);
                let (fd, prefix) = conn.into_handoff().expect("into_handoff");
                assert!(prefix.starts_with(b"GET /bucket/key HTTP/1.1\r\n"));
                let mut conn = HttpConn::from_handoff(fd, prefix).expect("from_handoff");
                assert_eq!(serve(&mut conn, &mut store, 1).await, 1);

                // Between requests, with nothing buffered.
                let (fd, prefix) = conn.into_handoff().expect("into_handoff");
                assert!(prefix.is_empty());
                let mut conn = HttpConn::from_handoff(fd, prefix).expect("from_handoff");
                serve(&mut conn, &mut store, usize::MAX).await
            });

            let mut client = HttpClient::connect(addr).await.expect("connect");
            let object = pattern(50_000, 1);
            let resp = client
                .send("PUT", "/bucket/key", &[], &object)
                .await
                .expect("put");
            client.read_body(&resp, &mut |_| {}).await.expect("body");
            for _ in 0..2 {
                let resp = client
                    .send("GET", "/bucket/key", &[], &[])
                    .await
                    .expect("get");
                let mut got = Vec::new();
                client
                    .read_body(&resp, &mut |b| got.extend_from_slice(b))
                    .await
                    .expect("get body");
                assert!(got == object);
            }
            drop(client);
            assert_eq!(server.await, 1);
        });
    }

    #[test]
    fn timeouts_close_slow_peers() {
        run(|| async {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let short = ConnTimeouts {
                idle: Duration::from_millis(100),
                head: Duration::from_millis(150),
                body_read: Duration::from_millis(100),
                write: Duration::from_millis(100),
                body_min_rate: 0,
                body_rate_grace: BODY_RATE_GRACE,
            };
            let server = glommio::spawn_local(async move {
                let mut results = Vec::new();
                for _ in 0..3 {
                    let stream = listener.accept().await.expect("accept");
                    let mut conn = HttpConn::new(stream, Vec::new());
                    conn.set_timeouts(short);
                    let result = match conn.read_head().await {
                        Ok(Some(head)) => {
                            let framing = head.body_framing().expect("framing");
                            let mut body = conn.body(framing);
                            let mut buf = [0u8; 64];
                            loop {
                                match body.read(&mut buf).await {
                                    Ok(0) => break Ok(()),
                                    Ok(_) => {}
                                    Err(e) => break Err(e),
                                }
                            }
                        }
                        Ok(None) => Ok(()),
                        Err(e) => Err(e),
                    };
                    results.push(result);
                }
                results
            });

            // Idle: connects, sends nothing.
            let idle = glommio::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            // Slow head: one byte every 60 ms never completes within 150 ms.
            let mut slow = glommio::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            for b in b"GET / HT" {
                if slow.write_all(&[*b]).await.is_err() {
                    break;
                }
                glommio::timer::sleep(Duration::from_millis(60)).await;
            }
            // Stalled body.
            let mut stalled = glommio::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            stalled
                .write_all(b"PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
                .await
                .expect("write");
            let results = server.await;
            assert!(
                results.iter().all(|r| matches!(r, Err(HttpError::Timeout))),
                "{results:?}"
            );
            drop((idle, slow, stalled));
        });
    }

    #[test]
    fn bodies_below_the_minimum_rate_are_cut() {
        run(|| async {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            // 1000 B/s over 300 ms windows: each window must bring 300 bytes.
            let timeouts = ConnTimeouts {
                body_min_rate: 1000,
                body_rate_grace: Duration::from_millis(300),
                ..ConnTimeouts::default()
            };
            let server = glommio::spawn_local(async move {
                let mut results = Vec::new();
                for pause_before_reading in [Duration::ZERO, Duration::from_millis(700)] {
                    let stream = listener.accept().await.expect("accept");
                    let mut conn = HttpConn::new(stream, Vec::new());
                    conn.set_timeouts(timeouts);
                    let head = conn.read_head().await.expect("head").expect("a request");
                    // Time the server spends before reading is not the client's.
                    glommio::timer::sleep(pause_before_reading).await;
                    let mut body = conn.body(head.body_framing().expect("framing"));
                    let mut buf = [0u8; 64];
                    let mut got = 0;
                    results.push(loop {
                        match body.read(&mut buf).await {
                            Ok(0) => break Ok(got),
                            Ok(n) => got += n,
                            Err(e) => break Err(e),
                        }
                    });
                }
                results
            });

            // A byte every 50 ms: 6 bytes a window, far below the rate, long before any
            // per-read timeout.
            let mut slow = glommio::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            slow.write_all(b"PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n")
                .await
                .expect("write");
            let mut cut = false;
            for _ in 0..100 {
                if slow.write_all(b"x").await.is_err() {
                    cut = true;
                    break;
                }
                glommio::timer::sleep(Duration::from_millis(50)).await;
            }
            assert!(cut, "a body far below the minimum rate was read for 5 s");
            // A body that keeps the rate, with a pause shorter than a window in the middle.
            let mut ok = glommio::net::TcpStream::connect(addr)
                .await
                .expect("connect");
            ok.write_all(b"PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n")
                .await
                .expect("write");
            ok.write_all(&[b'y'; 400]).await.expect("write");
            glommio::timer::sleep(Duration::from_millis(900)).await;
            ok.write_all(&[b'y'; 600]).await.expect("write");
            let results = server.await;
            assert!(matches!(results[0], Err(HttpError::Timeout)), "{results:?}");
            assert_eq!(results[1].as_ref().ok(), Some(&1000), "{results:?}");
            drop((slow, ok));
        });
    }

    #[test]
    fn unread_body_is_drained_or_connection_closed() {
        run(|| async {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("addr");
            let server = glommio::spawn_local(async move {
                let stream = listener.accept().await.expect("accept");
                let mut conn = HttpConn::new(stream, Vec::new());
                let mut paths = Vec::new();
                // Answer every request without reading its body.
                while let Some(head) = conn.read_head().await.expect("read_head") {
                    paths.push(head.path.clone());
                    let close = !conn.reusable();
                    let mut resp = ResponseHead::new(403);
                    if close {
                        resp = resp.with_header("Connection", "close");
                    }
                    conn.write_head(&resp).await.expect("write_head");
                }
                paths
            });

            let mut client = HttpClient::connect(addr).await.expect("connect");
            // Small body: drained, the connection stays.
            let resp = client
                .send("PUT", "/small", &[], &[1u8; 1000])
                .await
                .expect("put");
            assert_eq!(resp.status, 403);
            client.read_body(&resp, &mut |_| {}).await.expect("body");
            assert!(client.is_reusable());
            // Expect without the body: the final response refuses it and closes.
            client
                .send_head(
                    "PUT",
                    "/expect",
                    &[("Expect".into(), "100-continue".into())],
                    Some(1 << 20),
                )
                .await
                .expect("send_head");
            client.flush().await.expect("flush");
            let resp = client.read_response().await.expect("response");
            assert_eq!(resp.status, 403);
            assert_eq!(resp.header("connection"), Some("close"));
            assert!(!client.is_reusable());
            drop(client);
            assert_eq!(
                server.await,
                vec!["/small".to_string(), "/expect".to_string()]
            );
        });
    }
}

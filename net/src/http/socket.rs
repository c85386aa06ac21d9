//! Timed reads and writes on a glommio [`TcpStream`], shared by the server connection and the
//! client.
//!
//! Every socket read and write is bounded in time with `glommio::timer::timeout` around the
//! single operation, never with `TcpStream::set_read_timeout`: glommio 0.9 leaves that timer
//! armed when a read future is dropped early, and the next read then fails at once
//! (glommio/glommio#67). A dropped read or write leaves nothing behind: glommio tries the
//! syscall with `MSG_DONTWAIT` and only then polls, so an abandoned operation moved no bytes.

use super::buffer::RawSource;
use super::stall::Progress;
use super::HttpError;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::GlommioError;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

/// A read source over a stream where each read may wait at most `timeout`, and none past
/// `deadline`.
pub(crate) struct TimedRead<'a> {
    pub(crate) stream: &'a mut TcpStream,
    pub(crate) timeout: Duration,
    pub(crate) deadline: Option<Instant>,
    /// Marked whenever bytes arrive (the server's connections; the client has none).
    pub(crate) progress: Option<&'a Progress>,
}

impl RawSource for TimedRead<'_> {
    async fn read_raw(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let timeout = match self.deadline {
            Some(deadline) => self
                .timeout
                .min(deadline.saturating_duration_since(Instant::now())),
            None => self.timeout,
        };
        if timeout.is_zero() {
            return Err(HttpError::Timeout);
        }
        let stream = &mut *self.stream;
        let read = async { stream.read(buf).await.map_err(GlommioError::from) };
        let n = glommio::timer::timeout(timeout, read)
            .await
            .map_err(from_glommio)?;
        if let (Some(progress), true) = (self.progress, n > 0) {
            progress.mark();
        }
        Ok(n)
    }
}

/// Write all of `bytes`, each write syscall waiting at most `timeout` for socket space and
/// marking `progress` when it moved bytes.
pub(crate) async fn write_timed(
    stream: &mut TcpStream,
    bytes: &[u8],
    timeout: Duration,
    progress: Option<&Progress>,
) -> Result<(), HttpError> {
    let mut written = 0;
    while written < bytes.len() {
        let rest = &bytes[written..];
        let write = async { stream.write(rest).await.map_err(GlommioError::from) };
        let n = glommio::timer::timeout(timeout, write)
            .await
            .map_err(from_glommio)?;
        if n == 0 {
            return Err(HttpError::Closed);
        }
        if let Some(progress) = progress {
            progress.mark();
        }
        written += n;
    }
    Ok(())
}

/// Timeouts become [`HttpError::Timeout`]; a peer that reset or hung up becomes
/// [`HttpError::Closed`]; everything else stays an I/O error.
pub(crate) fn from_glommio(e: GlommioError<()>) -> HttpError {
    match e {
        GlommioError::TimedOut(_) => HttpError::Timeout,
        other => from_io(other.into()),
    }
}

pub(crate) fn from_io(e: std::io::Error) -> HttpError {
    match e.kind() {
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::UnexpectedEof => HttpError::Closed,
        ErrorKind::TimedOut => HttpError::Timeout,
        _ => HttpError::Io(e),
    }
}

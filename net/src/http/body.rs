//! Message body framing: `Content-Length` and `chunked` decoding (RFC 9112 §6, §7.1), as one
//! state machine shared by the server connection (request bodies, [`RawBody`]) and the client
//! (response bodies, which may also end at connection close).
//!
//! Framing only: the bytes handed out are the body as the peer sent it (for S3 that may still be
//! aws-chunked; `s3::payload` decodes that on top of a [`BodyRead`]).
//!
//! Bounded and strict, because framing disagreements between hops are how requests are
//! smuggled:
//! * a chunk-size line (size and extensions) is at most [`MAX_CHUNK_LINE_BYTES`]; the size is at
//!   most 16 significant hex digits (no u64 overflow);
//! * every framing line ends in CRLF; a bare LF is a [`HttpError::BadChunk`];
//! * the trailer section is read and discarded, at most [`MAX_HEAD_BYTES`] and [`MAX_HEADERS`]
//!   lines (S3's own trailers live inside the aws-chunked payload, not here);
//! * end of stream inside a body is [`HttpError::BodyTooShort`].
//!
//! Large reads bypass the connection buffer: when it is empty and the caller's buffer is at
//! least [`DIRECT_READ_MIN_BYTES`], body bytes are read straight from the socket into the
//! caller's buffer (no copy).

use super::buffer::{RawSource, ReadBuffer};
use super::conn::HttpConn;
use super::{BodyFraming, BodyRead, HttpError, MAX_HEADERS, MAX_HEAD_BYTES};

/// Longest chunk-size line accepted, CRLF included.
pub const MAX_CHUNK_LINE_BYTES: usize = 4096;
const _: () = assert!(MAX_CHUNK_LINE_BYTES < super::buffer::READ_BUFFER_BYTES / 2);

/// Caller buffers at least this large are filled straight from the socket.
const DIRECT_READ_MIN_BYTES: usize = 16 * 1024;

/// Where the decoder is in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyState {
    /// The body ended (or there was none); the next message starts in the buffer.
    Done,
    /// `Content-Length` body with this much left.
    Length { remaining_bytes: u64 },
    /// `chunked` body.
    Chunked(ChunkState),
    /// Response body delimited by connection close (client side only).
    UntilClose,
    /// Decoding failed; the connection cannot be reused.
    Failed,
}

/// Position inside a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkState {
    /// Expecting `chunk-size [ chunk-ext ] CRLF`.
    SizeLine,
    /// Inside chunk data.
    Data { remaining_bytes: u64 },
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer fields until an empty line.
    Trailers {
        seen_bytes: usize,
        seen_count: usize,
    },
}

impl BodyState {
    pub(crate) fn from_framing(framing: BodyFraming) -> Self {
        match framing {
            BodyFraming::None | BodyFraming::Length(0) => BodyState::Done,
            BodyFraming::Length(n) => BodyState::Length { remaining_bytes: n },
            BodyFraming::Chunked => BodyState::Chunked(ChunkState::SizeLine),
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        *self == BodyState::Done
    }
}

/// Decode up to `out.len()` body bytes into `out`, refilling `rbuf` from `src` as needed.
/// `Ok(0)` means the body ended (or `out` is empty). On error the state becomes `Failed`.
pub(crate) async fn read_body<S: RawSource>(
    state: &mut BodyState,
    rbuf: &mut ReadBuffer,
    src: &mut S,
    out: &mut [u8],
) -> Result<usize, HttpError> {
    if out.is_empty() {
        return Ok(0);
    }
    let result = decode(state, rbuf, src, out).await;
    if result.is_err() {
        *state = BodyState::Failed;
    }
    result
}

async fn decode<S: RawSource>(
    state: &mut BodyState,
    rbuf: &mut ReadBuffer,
    src: &mut S,
    out: &mut [u8],
) -> Result<usize, HttpError> {
    loop {
        match *state {
            BodyState::Done => return Ok(0),
            BodyState::Failed => {
                return Err(HttpError::Io(std::io::Error::other(
                    "body framing already failed on this connection",
                )))
            }
            BodyState::Length { remaining_bytes } => {
                let n = read_data(rbuf, src, out, remaining_bytes).await?;
                if n == 0 {
                    return Err(HttpError::BodyTooShort);
                }
                let left = remaining_bytes - n as u64;
                *state = if left == 0 {
                    BodyState::Done
                } else {
                    BodyState::Length {
                        remaining_bytes: left,
                    }
                };
                return Ok(n);
            }
            BodyState::UntilClose => {
                let n = read_data(rbuf, src, out, u64::MAX).await?;
                if n == 0 {
                    *state = BodyState::Done;
                }
                return Ok(n);
            }
            BodyState::Chunked(ChunkState::SizeLine) => {
                let len = fill_line(rbuf, src, MAX_CHUNK_LINE_BYTES, "chunk-size").await?;
                let size = parse_chunk_size(&rbuf.data()[..len - 2])?;
                rbuf.consume(len);
                *state = BodyState::Chunked(if size == 0 {
                    ChunkState::Trailers {
                        seen_bytes: 0,
                        seen_count: 0,
                    }
                } else {
                    ChunkState::Data {
                        remaining_bytes: size,
                    }
                });
            }
            BodyState::Chunked(ChunkState::Data { remaining_bytes }) => {
                let n = read_data(rbuf, src, out, remaining_bytes).await?;
                if n == 0 {
                    return Err(HttpError::BodyTooShort);
                }
                let left = remaining_bytes - n as u64;
                *state = BodyState::Chunked(if left == 0 {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data {
                        remaining_bytes: left,
                    }
                });
                return Ok(n);
            }
            BodyState::Chunked(ChunkState::DataEnd) => {
                while rbuf.len() < 2 {
                    if rbuf.fill_from(src).await? == 0 {
                        return Err(HttpError::BodyTooShort);
                    }
                }
                if &rbuf.data()[..2] != b"\r\n" {
                    return Err(HttpError::BadChunk(
                        "chunk data not followed by CRLF".into(),
                    ));
                }
                rbuf.consume(2);
                *state = BodyState::Chunked(ChunkState::SizeLine);
            }
            BodyState::Chunked(ChunkState::Trailers {
                seen_bytes,
                seen_count,
            }) => {
                let len = fill_line(rbuf, src, MAX_HEAD_BYTES, "trailer").await?;
                rbuf.consume(len);
                if len == 2 {
                    *state = BodyState::Done;
                    return Ok(0);
                }
                let seen_bytes = seen_bytes + len;
                let seen_count = seen_count + 1;
                if seen_bytes > MAX_HEAD_BYTES || seen_count > MAX_HEADERS {
                    return Err(HttpError::BadChunk("trailer section too large".into()));
                }
                *state = BodyState::Chunked(ChunkState::Trailers {
                    seen_bytes,
                    seen_count,
                });
            }
        }
    }
}

/// Up to `min(out.len(), limit)` data bytes: buffered ones first, then straight from the source
/// for large reads, else through the buffer. `Ok(0)` only at end of stream.
async fn read_data<S: RawSource>(
    rbuf: &mut ReadBuffer,
    src: &mut S,
    out: &mut [u8],
    limit: u64,
) -> Result<usize, HttpError> {
    let want = usize::try_from(limit).map_or(out.len(), |l| l.min(out.len()));
    debug_assert!(want > 0);
    let out = &mut out[..want];
    if rbuf.is_empty() {
        if want >= DIRECT_READ_MIN_BYTES {
            return src.read_raw(out).await;
        }
        if rbuf.fill_from(src).await? == 0 {
            return Ok(0);
        }
    }
    Ok(rbuf.copy_to(out))
}

/// Make sure a whole CRLF-terminated line is at the start of the buffer; returns its length
/// including CRLF.
async fn fill_line<S: RawSource>(
    rbuf: &mut ReadBuffer,
    src: &mut S,
    max_bytes: usize,
    what: &str,
) -> Result<usize, HttpError> {
    assert!(max_bytes < rbuf.capacity());
    let mut scanned = 0;
    loop {
        let data = rbuf.data();
        if let Some(i) = data[scanned..].iter().position(|&b| b == b'\n') {
            let lf = scanned + i;
            if lf + 1 > max_bytes {
                break;
            }
            if lf == 0 || data[lf - 1] != b'\r' {
                return Err(HttpError::BadChunk(format!(
                    "{what} line ends in a bare LF"
                )));
            }
            return Ok(lf + 1);
        }
        scanned = data.len();
        if scanned >= max_bytes {
            break;
        }
        if rbuf.fill_from(src).await? == 0 {
            return Err(HttpError::BodyTooShort);
        }
    }
    Err(HttpError::BadChunk(format!(
        "{what} line longer than {max_bytes} bytes"
    )))
}

/// `chunk-size [ chunk-ext ]` without the CRLF (RFC 9112 §7.1):
/// ```text
/// chunk-size = 1*HEXDIG
/// chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
/// ```
/// Extensions are ignored, but may not hold control characters (a stray CR).
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits = line.iter().take_while(|b| hex_value(**b).is_some()).count();
    if digits == 0 {
        return Err(HttpError::BadChunk("chunk size is not hexadecimal".into()));
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let digit = hex_value(b).unwrap_or_default();
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(digit))
            .ok_or_else(|| HttpError::BadChunk("chunk size overflows".into()))?;
    }
    let rest = &line[digits..];
    let ext_start = rest.iter().position(|b| *b != b' ' && *b != b'\t');
    if let Some(i) = ext_start {
        if rest[i] != b';' {
            return Err(HttpError::BadChunk(
                "unexpected bytes after chunk size".into(),
            ));
        }
        if rest.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(HttpError::BadChunk(
                "control character in chunk extension".into(),
            ));
        }
    }
    Ok(size)
}

fn hex_value(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

/// The body of the request whose head [`HttpConn::read_head`] returned last: framing decoded,
/// content untouched. The first read sends `100 Continue` when the client asked for it.
///
/// Read it to the end (`Ok(0)`) before the next `read_head`; a body left unread is drained
/// there up to [`super::conn::DRAIN_LIMIT_BYTES`], beyond that the connection is given up.
pub struct RawBody<'a> {
    conn: &'a mut HttpConn,
}

impl<'a> RawBody<'a> {
    pub(crate) fn new(conn: &'a mut HttpConn) -> Self {
        Self { conn }
    }

    /// Whether the body has been read to its end.
    pub fn is_done(&self) -> bool {
        self.conn.request_body_done()
    }

    /// Read and discard the rest of the body, at most `limit_bytes` of it. `Ok(true)` when the
    /// body ended within the limit (the connection can serve another request).
    pub async fn drain(&mut self, limit_bytes: u64) -> Result<bool, HttpError> {
        self.conn.drain_request_body(limit_bytes).await
    }
}

#[async_trait::async_trait(?Send)]
impl BodyRead for RawBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        self.conn.read_request_body(buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::buffer::tests::Pieces;
    use super::*;
    use futures_lite::future::block_on;

    /// Decode everything with reads of `out_len`; returns the body (or the error) and the bytes
    /// left after it (still buffered or not yet read).
    fn decode_all(
        framing: BodyState,
        mut src: Pieces,
        out_len: usize,
    ) -> (Result<Vec<u8>, HttpError>, Vec<u8>) {
        block_on(async {
            let mut state = framing;
            let mut rbuf = ReadBuffer::new();
            let mut body = Vec::new();
            let mut out = vec![0u8; out_len];
            let result = loop {
                match read_body(&mut state, &mut rbuf, &mut src, &mut out).await {
                    Ok(0) => break Ok(body),
                    Ok(n) => body.extend_from_slice(&out[..n]),
                    Err(e) => break Err(e),
                }
                assert!(body.len() < 1 << 24, "runaway decode");
            };
            let mut rest = rbuf.data().to_vec();
            rest.extend(src.rest());
            (result, rest)
        })
    }

    const CHUNKED: &[u8] = b"5\r\nhello\r\n6;name=value; x = \"q\"\r\n world\r\n\
00000010 \r\n, and more bytes\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\nOther: 1\r\n\r\nNEXT";
    const CHUNKED_BODY: &[u8] = b"hello world, and more bytes";

    #[test]
    fn chunked_split_at_every_byte_boundary() {
        for out_len in [1, 3, 7, 64, DIRECT_READ_MIN_BYTES] {
            for split in 0..=CHUNKED.len() {
                let (body, rest) = decode_all(
                    BodyState::Chunked(ChunkState::SizeLine),
                    Pieces::split(CHUNKED, split),
                    out_len,
                );
                assert_eq!(
                    body.ok().as_deref(),
                    Some(CHUNKED_BODY),
                    "split {split} out {out_len}"
                );
                assert_eq!(rest, b"NEXT", "split {split} out {out_len}");
            }
            let (body, rest) = decode_all(
                BodyState::Chunked(ChunkState::SizeLine),
                Pieces::bytewise(CHUNKED),
                out_len,
            );
            assert_eq!(
                body.ok().as_deref(),
                Some(CHUNKED_BODY),
                "bytewise out {out_len}"
            );
            assert_eq!(rest, b"NEXT");
        }
    }

    #[test]
    fn large_chunk_reads_directly() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut bytes = format!("{:x}\r\n", data.len()).into_bytes();
        bytes.extend_from_slice(&data);
        bytes.extend_from_slice(b"\r\n0\r\n\r\n");
        for split in [0, 3, 7, 100, 40_000, bytes.len() - 3] {
            let (body, rest) = decode_all(
                BodyState::Chunked(ChunkState::SizeLine),
                Pieces::split(&bytes, split),
                64 * 1024,
            );
            assert!(body.ok() == Some(data.clone()), "split {split}");
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn content_length_split_everywhere() {
        let bytes = b"0123456789abcdefGET / HTTP/1.1\r\n";
        for out_len in [1, 5, 16, 100] {
            for split in 0..=bytes.len() {
                let (body, rest) = decode_all(
                    BodyState::Length {
                        remaining_bytes: 16,
                    },
                    Pieces::split(bytes, split),
                    out_len,
                );
                assert_eq!(body.ok().as_deref(), Some(&bytes[..16]), "split {split}");
                assert_eq!(rest, &bytes[16..], "split {split}");
            }
        }
    }

    #[test]
    fn until_close_and_empty() {
        let (body, _) = decode_all(BodyState::UntilClose, Pieces::split(b"abcdef", 2), 4);
        assert_eq!(body.ok().as_deref(), Some(&b"abcdef"[..]));
        let (body, rest) = decode_all(BodyState::Done, Pieces::split(b"abc", 1), 4);
        assert_eq!(body.ok().as_deref(), Some(&b""[..]));
        assert_eq!(rest, b"abc");
        assert_eq!(
            BodyState::from_framing(BodyFraming::Length(0)),
            BodyState::Done
        );
    }

    #[test]
    fn truncated_bodies_are_too_short() {
        let table: &[(BodyState, &[u8])] = &[
            (
                BodyState::Length {
                    remaining_bytes: 10,
                },
                b"012345678",
            ),
            (BodyState::Chunked(ChunkState::SizeLine), b""),
            (BodyState::Chunked(ChunkState::SizeLine), b"5\r\nhel"),
            (BodyState::Chunked(ChunkState::SizeLine), b"5\r\nhello"),
            (BodyState::Chunked(ChunkState::SizeLine), b"5\r\nhello\r"),
            (BodyState::Chunked(ChunkState::SizeLine), b"5\r\nhello\r\n"),
            (
                BodyState::Chunked(ChunkState::SizeLine),
                b"5\r\nhello\r\n0\r\n",
            ),
            (
                BodyState::Chunked(ChunkState::SizeLine),
                b"5\r\nhello\r\n0\r\nTrailer: x\r\n",
            ),
            (BodyState::Chunked(ChunkState::SizeLine), b"5"),
        ];
        for (state, bytes) in table {
            for split in 0..=bytes.len() {
                let (body, _) = decode_all(*state, Pieces::split(bytes, split), 3);
                assert!(
                    matches!(body, Err(HttpError::BodyTooShort)),
                    "{:?} split {split}: {body:?}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }

    #[test]
    fn bad_chunks() {
        let long_ext = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE_BYTES));
        let long_zeros = format!("{}1\r\nx\r\n0\r\n\r\n", "0".repeat(MAX_CHUNK_LINE_BYTES));
        let big_trailer = format!(
            "0\r\n{}\r\n",
            "t: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n".repeat(400)
        );
        let many_trailers = format!("0\r\n{}\r\n", "t: v\r\n".repeat(MAX_HEADERS + 1));
        let table: Vec<&[u8]> = vec![
            b"zz\r\n",
            b"\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"5 5\r\nhello\r\n0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"5\r\nhello\r\n0\n\r\n",
            b"5;a\rb\r\nhello\r\n0\r\n\r\n",
            b"5;a\x00\r\nhello\r\n0\r\n\r\n",
            b"10000000000000000\r\n",
            b"fffffffffffffffff\r\n",
            b"5\r\nhello\r\n0\r\nTrailer: x\n\r\n",
            long_ext.as_bytes(),
            long_zeros.as_bytes(),
            big_trailer.as_bytes(),
            many_trailers.as_bytes(),
        ];
        for bytes in table {
            for pieces in [
                Pieces::split(bytes, bytes.len() / 2),
                Pieces::bytewise(bytes),
            ] {
                let (body, _) = decode_all(BodyState::Chunked(ChunkState::SizeLine), pieces, 4);
                assert!(
                    matches!(body, Err(HttpError::BadChunk(_))),
                    "{:?}: {body:?}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
                );
            }
        }
    }

    #[test]
    fn chunk_size_parsing() {
        let table: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"a", Some(10)),
            (b"FF", Some(255)),
            (b"ffffffffffffffff", Some(u64::MAX)),
            (b"000000000000000000001", Some(1)),
            (b"1;", Some(1)),
            (b"1 ; ext=\"v\"", Some(1)),
            (b"1\t;e", Some(1)),
            (b"1 ", Some(1)),
            (b"", None),
            (b";", None),
            (b"g", None),
            (b"1g", None),
            (b"1 2", None),
            (b"10000000000000000", None),
        ];
        for (line, expected) in table {
            assert_eq!(
                parse_chunk_size(line).ok(),
                *expected,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn failed_state_sticks() {
        block_on(async {
            let mut state = BodyState::Chunked(ChunkState::SizeLine);
            let mut rbuf = ReadBuffer::new();
            let mut src = Pieces::split(b"zz\r\n5\r\nhello\r\n0\r\n\r\n", 4);
            let mut out = [0u8; 16];
            assert!(read_body(&mut state, &mut rbuf, &mut src, &mut out)
                .await
                .is_err());
            assert_eq!(state, BodyState::Failed);
            assert!(read_body(&mut state, &mut rbuf, &mut src, &mut out)
                .await
                .is_err());
        });
    }
}

//! The S3 request-body pipeline: [`Payload`] wraps the raw HTTP body (framing already removed
//! by `net::http`) and yields the object bytes, enforcing everything the request promised
//! about them:
//!
//! * **aws-chunked** decoding for streaming uploads (AWS "Transferring Payload in Multiple
//!   Chunks", "Signature calculations for trailing headers"):
//!
//!   ```text
//!   signed:    <hex size>;chunk-signature=<64 hex>\r\n <data> \r\n ... 0;chunk-signature=<sig>\r\n
//!   unsigned:  <hex size>\r\n <data> \r\n ... 0\r\n
//!   then:      [<trailer name>:<value>\r\n ...] [x-amz-trailer-signature:<sig>\r\n] \r\n
//!   ```
//!
//!   decoded incrementally (no chunk is buffered: data goes straight to the caller's buffer),
//!   with every line bounded by [`MAX_LINE_BYTES`] and at most [`MAX_TRAILERS`] trailers. Each
//!   chunk signature is checked when its chunk ends, chained from the request's seed
//!   signature ([`ChunkSigner`]); the trailer signature chains from the final chunk's. The
//!   decoded length must equal `x-amz-decoded-content-length`.
//! * **MD5** of every body (the ETag), checked against `Content-MD5` when sent.
//! * **SHA-256** when the request signed the payload hash (`PayloadMode::Signed`).
//! * the **flexible checksum** (`x-amz-checksum-<alg>` header or the trailer named by
//!   `x-amz-trailer`), computed whenever a checksum is named.
//!
//! Errors. [`BodyRead::read`] can only return an [`HttpError`], so the S3 meaning of a failure
//! is kept by the payload: when `read` fails, [`Payload::error`] tells the S3 error to answer
//! with (`SignatureDoesNotMatch` for a bad chunk signature, `IncompleteBody` for a short body,
//! `BadDigest`, ...) and [`Payload::finish`] returns it. The returned `HttpError` is the raw
//! body's own error when the connection failed, else `HttpError::Malformed` carrying the S3
//! code and message.
//!
//! Invariant: `read` returns `Ok(0)` (end of body) only after every check has passed, so a
//! consumer that commits on end-of-body never commits bytes that fail a signature, a digest
//! or a length. Bytes of a chunk are handed out before that chunk's signature is checked (the
//! chunk is not buffered); the failure then surfaces on a later `read`, before `Ok(0)`.

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::http::{BodyRead, HttpError, RequestHead};
use crate::s3::checksum::{
    checksum_mismatch, decode_base64, decode_checksum, encode_base64, ChecksumAlgorithm,
    ChecksumExpected, ChecksumRequest, Checksummer,
};
use crate::s3::error::{S3Error, S3ErrorCode};
use crate::s3::sigv4::{AuthOk, ChunkSigner, PayloadMode};

/// Longest aws-chunked chunk-header or trailer line accepted, CRLF included.
pub const MAX_LINE_BYTES: usize = 4096;
/// Most trailer lines accepted after the final chunk.
pub const MAX_TRAILERS: usize = 16;
/// Size of the look-ahead buffer the aws-chunked decoder reads lines into.
const LOOKAHEAD_BYTES: usize = 2 * MAX_LINE_BYTES;
const _: () = assert!(LOOKAHEAD_BYTES > MAX_LINE_BYTES + 2);

/// What a fully read and verified body was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadSummary {
    /// MD5 of the object bytes (the ETag of a single-part object); None when the caller hashes
    /// the bytes itself ([`Payload::without_md5`]).
    pub md5: Option<[u8; 16]>,
    /// Object bytes (decoded length for aws-chunked bodies).
    pub len: u64,
    /// The flexible checksum the request named, as computed (base64); verified when the
    /// request carried a value.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

enum Outcome {
    Reading,
    Done(PayloadSummary),
    Failed(S3Error),
}

/// The S3 body of one request, on top of the raw HTTP body `R`. See the module header.
pub struct Payload<R: BodyRead> {
    raw: R,
    chunked: Option<AwsChunked>,
    md5: Option<Md5>,
    sha256: Option<(Sha256, [u8; 32])>,
    content_md5: Option<[u8; 16]>,
    checksum: Option<(ChecksumRequest, Checksummer)>,
    declared_len: Option<u64>,
    len: u64,
    outcome: Outcome,
}

impl<R: BodyRead> Payload<R> {
    /// Sets up the pipeline for a request authenticated as `auth`. Fails (before any byte is
    /// read) on an invalid `Content-MD5` (`InvalidDigest`), invalid checksum headers
    /// (`InvalidRequest`), or a streaming upload without `x-amz-decoded-content-length`
    /// (`MissingContentLength`).
    pub fn new(raw: R, head: &RequestHead, auth: &AuthOk) -> Result<Self, S3Error> {
        let content_md5 = match head.headers.get("content-md5") {
            None => None,
            Some(value) => {
                let digest = value
                    .to_str()
                    .ok()
                    .and_then(decode_base64)
                    .and_then(|raw| <[u8; 16]>::try_from(raw).ok())
                    .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidDigest))?;
                Some(digest)
            }
        };
        let checksum = ChecksumRequest::from_head(head)?;
        let content_length = head
            .headers
            .get(::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());

        let (chunked, sha256, declared_len) = match &auth.payload {
            PayloadMode::Unsigned => (None, None, content_length),
            PayloadMode::Signed { sha256 } => {
                (None, Some((Sha256::default(), *sha256)), content_length)
            }
            PayloadMode::StreamingSigned { trailer, .. } => (
                Some(AwsChunked::new(
                    ChunkSigner::from_mode(&auth.payload),
                    *trailer,
                )),
                None,
                Some(decoded_content_length(head)?),
            ),
            PayloadMode::StreamingUnsignedTrailer => (
                Some(AwsChunked::new(None, true)),
                None,
                Some(decoded_content_length(head)?),
            ),
        };
        let trailer_allowed = chunked.as_ref().is_some_and(|c| c.trailer_allowed);
        if let Some(ChecksumRequest {
            expected: ChecksumExpected::Trailer,
            ..
        }) = &checksum
        {
            if !trailer_allowed {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "x-amz-trailer needs an x-amz-content-sha256 of \
                     STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                ));
            }
        }
        Ok(Payload {
            raw,
            chunked,
            md5: Some(Md5::default()),
            sha256,
            content_md5,
            checksum: checksum.map(|request| {
                let summer = Checksummer::new(request.algorithm);
                (request, summer)
            }),
            declared_len,
            len: 0,
            outcome: Outcome::Reading,
        })
    }

    /// Leave the MD5 to the caller: a server that hashes the bytes on another thread, in
    /// parallel with its own work on them, checks [`Payload::content_md5`] itself. The
    /// summary's `md5` is then None.
    pub fn without_md5(mut self) -> Self {
        self.md5 = None;
        self
    }

    /// The digest the `Content-MD5` header asked for, if any.
    pub fn content_md5(&self) -> Option<[u8; 16]> {
        self.content_md5
    }

    /// The object length the request declared (`x-amz-decoded-content-length` for
    /// aws-chunked bodies, else `Content-Length`), if any.
    pub fn content_length(&self) -> Option<u64> {
        self.declared_len
    }

    /// Object bytes handed out so far.
    pub fn bytes_read(&self) -> u64 {
        self.len
    }

    /// The S3 error behind a failed `read`, if one failed.
    pub fn error(&self) -> Option<&S3Error> {
        match &self.outcome {
            Outcome::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The trailers received after an aws-chunked body (lower-case names), without the
    /// trailer signature. Empty until the body has been read to its end.
    pub fn trailers(&self) -> &[(String, String)] {
        self.chunked
            .as_ref()
            .map(|c| c.trailers.as_slice())
            .unwrap_or_default()
    }

    /// The outcome, once `read` returned `Ok(0)` or failed. Called before the body's end, it
    /// returns `IncompleteBody`.
    pub fn finish(self) -> Result<PayloadSummary, S3Error> {
        match self.outcome {
            Outcome::Done(summary) => Ok(summary),
            Outcome::Failed(e) => Err(e),
            Outcome::Reading => Err(S3Error::with_message(
                S3ErrorCode::IncompleteBody,
                "The request body was not read to its end",
            )),
        }
    }

    /// Records an S3-level failure; the `HttpError` to return for it.
    fn fail(&mut self, error: S3Error) -> HttpError {
        let http = failure_to_http(&error);
        self.outcome = Outcome::Failed(error);
        http
    }

    fn absorb(&mut self, bytes: &[u8]) {
        if let Some(md5) = &mut self.md5 {
            md5.update(bytes);
        }
        if let Some((hasher, _)) = &mut self.sha256 {
            hasher.update(bytes);
        }
        if let Some((_, summer)) = &mut self.checksum {
            summer.update(bytes);
        }
        self.len += bytes.len() as u64;
    }

    /// The end-of-body checks, in the order S3 applies them.
    fn conclude(&mut self) -> Result<PayloadSummary, S3Error> {
        if let Some(declared) = self.declared_len {
            if self.len < declared {
                return Err(S3Error::new(S3ErrorCode::IncompleteBody));
            }
        }
        let md5: Option<[u8; 16]> = self.md5.take().map(|m| m.finalize().into());
        if let (Some(expected), Some(actual)) = (self.content_md5, md5) {
            if expected != actual {
                return Err(S3Error::new(S3ErrorCode::BadDigest));
            }
        }
        if let Some((hasher, expected)) = self.sha256.take() {
            let actual: [u8; 32] = hasher.finalize().into();
            if actual != expected {
                return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
            }
        }
        let checksum = match self.checksum.take() {
            None => None,
            Some((request, summer)) => {
                let algorithm = request.algorithm;
                let computed = summer.finish();
                let expected = match request.expected {
                    ChecksumExpected::Header(value) => Some(value),
                    ChecksumExpected::ComputeOnly => None,
                    ChecksumExpected::Trailer => Some(self.trailer_value(algorithm)?),
                };
                if let Some(expected) = expected {
                    let raw = decode_checksum(algorithm, &expected).ok_or_else(|| {
                        S3Error::with_message(
                            S3ErrorCode::InvalidRequest,
                            format!(
                                "Value for {} trailing header is invalid.",
                                algorithm.header_name()
                            ),
                        )
                    })?;
                    if raw != computed {
                        return Err(checksum_mismatch(algorithm));
                    }
                }
                Some((algorithm, encode_base64(&computed)))
            }
        };
        Ok(PayloadSummary {
            md5,
            len: self.len,
            checksum,
        })
    }

    fn trailer_value(&self, algorithm: ChecksumAlgorithm) -> Result<String, S3Error> {
        self.trailers()
            .iter()
            .find(|(name, _)| name == algorithm.header_name())
            .map(|(_, value)| value.clone())
            .ok_or_else(|| {
                S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!(
                        "The trailer {} announced by x-amz-trailer was not sent",
                        algorithm.header_name()
                    ),
                )
            })
    }
}

#[async_trait::async_trait(?Send)]
impl<R: BodyRead> BodyRead for Payload<R> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        match &self.outcome {
            Outcome::Reading => {}
            Outcome::Done(_) => return Ok(0),
            Outcome::Failed(error) => return Err(failure_to_http(error)),
        }
        if buf.is_empty() {
            // Nothing can be read into nothing; the state is left untouched.
            debug_assert!(false, "read into an empty buffer");
            return Ok(0);
        }
        let result = match &mut self.chunked {
            None => self.raw.read(buf).await.map_err(Fail::Http),
            Some(decoder) => decoder.read(&mut self.raw, buf).await,
        };
        match result {
            Ok(0) => match self.conclude() {
                Ok(summary) => {
                    self.outcome = Outcome::Done(summary);
                    Ok(0)
                }
                Err(error) => Err(self.fail(error)),
            },
            Ok(n) => {
                self.absorb(&buf[..n]);
                if self.chunked.is_some() && self.declared_len.is_some_and(|d| self.len > d) {
                    return Err(self.fail(S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        "The aws-chunked body is longer than x-amz-decoded-content-length",
                    )));
                }
                Ok(n)
            }
            Err(Fail::S3(error)) => Err(self.fail(error)),
            Err(Fail::Http(error)) => {
                self.outcome = Outcome::Failed(http_to_s3(&error));
                Err(error)
            }
        }
    }
}

fn decoded_content_length(head: &RequestHead) -> Result<u64, S3Error> {
    let value = head
        .headers
        .get("x-amz-decoded-content-length")
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::MissingContentLength,
                "An aws-chunked upload must send x-amz-decoded-content-length",
            )
        })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "x-amz-decoded-content-length is not a number",
            )
        })
}

/// The `HttpError` `read` returns for an S3-level failure.
fn failure_to_http(error: &S3Error) -> HttpError {
    HttpError::Malformed(format!("{}: {}", error.code.code(), error.message()))
}

/// The S3 error to answer with when the raw body itself failed.
fn http_to_s3(error: &HttpError) -> S3Error {
    match error {
        HttpError::Timeout => S3Error::new(S3ErrorCode::RequestTimeout),
        HttpError::Malformed(m) | HttpError::BadChunk(m) => {
            S3Error::with_message(S3ErrorCode::InvalidRequest, m.clone())
        }
        HttpError::HeadTooLarge => {
            S3Error::with_message(S3ErrorCode::InvalidRequest, error.to_string())
        }
        HttpError::Closed | HttpError::BodyTooShort | HttpError::Io(_) => {
            S3Error::new(S3ErrorCode::IncompleteBody)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// aws-chunked decoding

/// A failure inside the decoder: the raw body's, or an S3 one.
enum Fail {
    Http(HttpError),
    S3(S3Error),
}

fn incomplete() -> Fail {
    Fail::S3(S3Error::with_message(
        S3ErrorCode::IncompleteBody,
        "The aws-chunked body ended before its final chunk",
    ))
}

fn malformed(detail: &str) -> Fail {
    Fail::S3(S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!("Malformed aws-chunked body: {detail}"),
    ))
}

fn bad_signature(what: &str) -> Fail {
    Fail::S3(S3Error::with_message(
        S3ErrorCode::SignatureDoesNotMatch,
        format!("The {what} signature we calculated does not match the signature you provided."),
    ))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    /// Expecting `<hex size>[;chunk-signature=<sig>]\r\n`.
    Header,
    /// Inside a chunk's data.
    Data { remaining: u64 },
    /// Expecting the `\r\n` after a chunk's data.
    DataEnd,
    /// After the final chunk: trailer lines up to an empty line.
    Trailer,
    /// The empty line after the final chunk was read.
    Done,
}

struct AwsChunked {
    /// `Some` when chunks are signed.
    signer: Option<ChunkSigner>,
    /// Trailer lines may follow the final chunk.
    trailer_allowed: bool,
    look: Box<[u8]>,
    start: usize,
    end: usize,
    state: ChunkState,
    chunk_sha256: Sha256,
    chunk_signature: String,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

impl AwsChunked {
    fn new(signer: Option<ChunkSigner>, trailer_allowed: bool) -> Self {
        AwsChunked {
            signer,
            trailer_allowed,
            look: vec![0u8; LOOKAHEAD_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
            state: ChunkState::Header,
            chunk_sha256: Sha256::default(),
            chunk_signature: String::new(),
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Decoded bytes into `out`; `Ok(0)` once the whole body (trailers included) is read
    /// and its signatures checked.
    async fn read<R: BodyRead>(&mut self, raw: &mut R, out: &mut [u8]) -> Result<usize, Fail> {
        loop {
            match self.state {
                ChunkState::Header => {
                    let line = self.next_line(raw, false).await?.ok_or_else(incomplete)?;
                    self.start_chunk(&line)?;
                }
                ChunkState::Data { remaining } => {
                    let want = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(out.len());
                    let n = if self.start < self.end {
                        let n = want.min(self.end - self.start);
                        out[..n].copy_from_slice(&self.look[self.start..self.start + n]);
                        self.start += n;
                        n
                    } else {
                        let n = raw.read(&mut out[..want]).await.map_err(Fail::Http)?;
                        if n == 0 {
                            return Err(incomplete());
                        }
                        n
                    };
                    debug_assert!(n > 0 && n <= want);
                    if self.signer.is_some() {
                        self.chunk_sha256.update(&out[..n]);
                    }
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data { remaining }
                    };
                    return Ok(n);
                }
                ChunkState::DataEnd => {
                    while self.end - self.start < 2 {
                        if !self.fill(raw).await? {
                            return Err(incomplete());
                        }
                    }
                    if self.look[self.start..self.start + 2] != *b"\r\n" {
                        return Err(malformed("chunk data is not followed by CRLF"));
                    }
                    self.start += 2;
                    let sha256: [u8; 32] = std::mem::take(&mut self.chunk_sha256).finalize().into();
                    self.verify_chunk(&sha256)?;
                    self.state = ChunkState::Header;
                }
                ChunkState::Trailer => {
                    // A missing final empty line is tolerated once the trailers are complete
                    // (at least one trailer, and its signature when chunks are signed).
                    let eof_ok = self.trailer_allowed
                        && !self.trailers.is_empty()
                        && (self.signer.is_none() || self.trailer_signature.is_some());
                    match self.next_line(raw, eof_ok).await? {
                        None => self.end_trailers()?,
                        Some(line) if line.is_empty() => self.end_trailers()?,
                        Some(line) => self.add_trailer(&line)?,
                    }
                }
                ChunkState::Done => {
                    if self.start < self.end || self.fill(raw).await? {
                        return Err(malformed("bytes after the final chunk"));
                    }
                    return Ok(0);
                }
            }
        }
    }

    /// Reads more raw bytes into the look-ahead buffer; false at the raw body's end.
    async fn fill<R: BodyRead>(&mut self, raw: &mut R) -> Result<bool, Fail> {
        if self.start > 0 {
            self.look.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        debug_assert!(self.end < self.look.len());
        let n = raw
            .read(&mut self.look[self.end..])
            .await
            .map_err(Fail::Http)?;
        self.end += n;
        Ok(n > 0)
    }

    /// The next line without its line end (`\r\n`; a bare `\n` is accepted in trailers).
    /// `Ok(None)`: the raw body ended exactly at a line start and `eof_ok`.
    async fn next_line<R: BodyRead>(
        &mut self,
        raw: &mut R,
        eof_ok: bool,
    ) -> Result<Option<Vec<u8>>, Fail> {
        loop {
            let pending = &self.look[self.start..self.end];
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let mut line = &pending[..pos];
                match line.strip_suffix(b"\r") {
                    Some(stripped) => line = stripped,
                    None if self.state != ChunkState::Trailer => {
                        return Err(malformed("line does not end with CRLF"))
                    }
                    None => {}
                }
                if pos + 1 > MAX_LINE_BYTES {
                    return Err(malformed("line too long"));
                }
                let line = line.to_vec();
                self.start += pos + 1;
                return Ok(Some(line));
            }
            if pending.len() >= MAX_LINE_BYTES {
                return Err(malformed("line too long"));
            }
            if !self.fill(raw).await? {
                return if eof_ok && self.start == self.end {
                    Ok(None)
                } else {
                    Err(incomplete())
                };
            }
        }
    }

    /// Parses a chunk header and enters the chunk (or, for the final chunk, the trailers).
    fn start_chunk(&mut self, line: &[u8]) -> Result<(), Fail> {
        let text = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not text"))?;
        let (size_hex, extension) = match text.split_once(';') {
            Some((size, ext)) => (size, Some(ext)),
            None => (text, None),
        };
        if size_hex.is_empty()
            || size_hex.len() > 16
            || !size_hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(malformed("invalid chunk size"));
        }
        let size =
            u64::from_str_radix(size_hex, 16).map_err(|_| malformed("invalid chunk size"))?;
        if self.signer.is_some() {
            let signature = extension
                .and_then(|ext| ext.strip_prefix("chunk-signature="))
                .ok_or_else(|| malformed("chunk-signature missing"))?;
            self.chunk_signature.clear();
            self.chunk_signature.push_str(signature);
        }
        if size == 0 {
            let empty: [u8; 32] = Sha256::default().finalize().into();
            self.verify_chunk(&empty)?;
            self.state = ChunkState::Trailer;
        } else {
            self.chunk_sha256 = Sha256::default();
            self.state = ChunkState::Data { remaining: size };
        }
        Ok(())
    }

    fn verify_chunk(&mut self, sha256: &[u8; 32]) -> Result<(), Fail> {
        match &mut self.signer {
            Some(signer) => {
                if signer.verify_chunk(sha256, &self.chunk_signature) {
                    Ok(())
                } else {
                    Err(bad_signature("chunk"))
                }
            }
            None => Ok(()),
        }
    }

    fn add_trailer(&mut self, line: &[u8]) -> Result<(), Fail> {
        if !self.trailer_allowed {
            return Err(malformed(
                "trailer after the final chunk of a payload without trailers",
            ));
        }
        let text = std::str::from_utf8(line).map_err(|_| malformed("trailer is not text"))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| malformed("trailer is not name:value"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name.is_empty() {
            return Err(malformed("trailer without a name"));
        }
        if name == "x-amz-trailer-signature" {
            if self.trailer_signature.replace(value).is_some() {
                return Err(malformed("two trailer signatures"));
            }
            return Ok(());
        }
        if self.trailer_signature.is_some() {
            return Err(malformed("trailer after the trailer signature"));
        }
        if self.trailers.len() == MAX_TRAILERS {
            return Err(malformed("too many trailers"));
        }
        self.trailers.push((name, value));
        Ok(())
    }

    fn end_trailers(&mut self) -> Result<(), Fail> {
        if self.trailer_allowed {
            if let Some(signer) = &mut self.signer {
                let signature = self
                    .trailer_signature
                    .as_deref()
                    .ok_or_else(|| bad_signature("trailer (missing)"))?;
                let pairs: Vec<(&str, &str)> = self
                    .trailers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                if !signer.verify_trailer(&pairs, signature) {
                    return Err(bad_signature("trailer"));
                }
            }
        }
        self.state = ChunkState::Done;
        Ok(())
    }
}

/// Encodes `data` as an aws-chunked body (client side: the load generator and tests).
///
/// Chunks hold `chunk_size` bytes (the last one fewer), then the final empty chunk. With a
/// `signer` (from [`crate::s3::sigv4::sign_request_streaming`]) each chunk carries its
/// signature; without one, chunk headers are bare sizes (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
/// `trailers: Some(..)` writes the trailer section (signed with `x-amz-trailer-signature`
/// when a signer is given) for the `...-TRAILER` payloads; `None` ends the body right after
/// the final chunk.
pub fn encode_aws_chunked(
    data: &[u8],
    chunk_size: usize,
    mut signer: Option<&mut ChunkSigner>,
    trailers: Option<&[(&str, &str)]>,
) -> Vec<u8> {
    assert!(chunk_size > 0, "chunk_size must be positive");
    let mut out = Vec::with_capacity(data.len() + (data.len() / chunk_size + 2) * 96);
    let mut write_chunk = |chunk: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(format!("{:x}", chunk.len()).as_bytes());
        if let Some(signer) = signer.as_deref_mut() {
            out.extend_from_slice(b";chunk-signature=");
            out.extend_from_slice(signer.sign_chunk(chunk).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(chunk);
        if !chunk.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
    };
    for chunk in data.chunks(chunk_size) {
        write_chunk(chunk, &mut out);
    }
    write_chunk(b"", &mut out);
    if let Some(trailers) = trailers {
        for (name, value) in trailers {
            out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        }
        if let Some(signer) = signer {
            let signature = signer.sign_trailer(trailers);
            out.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use futures_lite::future::block_on;

    use super::*;
    use crate::s3::checksum::checksum;
    use crate::s3::sigv4::tests::{aws_creds, aws_example_time, make_head};
    use crate::s3::sigv4::{
        authenticate, sha256_hex, sign_request, sign_request_streaming, Credentials,
        DEFAULT_REGION, STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER,
        STREAMING_UNSIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD,
    };

    /// A raw body serving `data` at most `step` bytes per read; at its end `Ok(0)`, or
    /// `BodyTooShort` when `short` (what a Content-Length body does when the peer stops).
    struct TestBody {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        short: bool,
    }

    impl TestBody {
        fn new(data: &[u8], step: usize) -> Self {
            TestBody {
                data: data.to_vec(),
                pos: 0,
                step,
                short: false,
            }
        }
    }

    #[async_trait::async_trait(?Send)]
    impl BodyRead for TestBody {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
            if self.pos == self.data.len() {
                return if self.short {
                    Err(HttpError::BodyTooShort)
                } else {
                    Ok(0)
                };
            }
            let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// Reads to the end with `out_step`-byte buffers; the bytes, or the S3 error.
    fn drain(
        mut payload: Payload<TestBody>,
        out_step: usize,
    ) -> (Vec<u8>, Result<PayloadSummary, S3Error>) {
        let mut data = Vec::new();
        let mut buf = vec![0u8; out_step];
        loop {
            match block_on(payload.read(&mut buf)) {
                Ok(0) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
                Err(_) => {
                    assert!(
                        payload.error().is_some(),
                        "a failed read leaves an S3 error"
                    );
                    // Reads after a failure keep failing.
                    assert!(block_on(payload.read(&mut buf)).is_err());
                    break;
                }
            }
        }
        (data, payload.finish())
    }

    fn refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
        headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    fn md5_of(data: &[u8]) -> [u8; 16] {
        Md5::digest(data).into()
    }

    /// The headers of the AWS streaming examples.
    fn aws_streaming_head(trailer: bool) -> RequestHead {
        let (hash, signed, seed) = if trailer {
            (
                STREAMING_PAYLOAD_TRAILER,
                "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
                "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            )
        } else {
            (
                STREAMING_PAYLOAD,
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            )
        };
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders={signed},Signature={seed}"
        );
        let mut headers = vec![
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", hash),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("authorization", authorization.as_str()),
        ];
        if trailer {
            headers.push(("x-amz-trailer", "x-amz-checksum-crc32c"));
        } else {
            headers.push(("content-length", "66824"));
        }
        make_head("PUT", "/examplebucket/chunkObject.txt", &headers)
    }

    /// The AWS example body, chunk by chunk with the documented signatures.
    fn aws_streaming_body(signatures: [&str; 3], trailer: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(format!("10000;chunk-signature={}\r\n", signatures[0]).as_bytes());
        body.extend_from_slice(&[b'a'; 65_536]);
        body.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", signatures[1]).as_bytes());
        body.extend_from_slice(&[b'a'; 1024]);
        body.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n", signatures[2]).as_bytes());
        body.extend_from_slice(trailer.as_bytes());
        body.extend_from_slice(b"\r\n");
        body
    }

    const DOC_SIGNATURES: [&str; 3] = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];
    const DOC_TRAILER_SIGNATURES: [&str; 3] = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ];
    const DOC_TRAILER: &str = "x-amz-checksum-crc32c:sOO8/Q==\r\n\
        x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n";

    /// S3 API reference, "Transferring Payload in Multiple Chunks": the PUT of 66,560 bytes as
    /// 64 KiB + 1 KiB + the final chunk, every chunk signature as documented.
    #[test]
    fn aws_example_multiple_chunks() {
        let head = aws_streaming_head(false);
        let auth = authenticate(&head, &aws_creds(), aws_example_time()).expect("seed signature");
        let body = aws_streaming_body(DOC_SIGNATURES, "");
        assert_eq!(body.len(), 66_824, "the documented Content-Length");
        // Our encoder produces the documented body byte for byte.
        let mut signer = ChunkSigner::from_mode(&auth.payload).expect("signed");
        assert_eq!(
            encode_aws_chunked(&[b'a'; 66_560], 65_536, Some(&mut signer), None),
            body
        );

        for (raw_step, out_step) in [(usize::MAX, 1 << 20), (1, 7), (4099, 65_536), (65_600, 100)] {
            let payload = Payload::new(TestBody::new(&body, raw_step), &head, &auth).expect("new");
            assert_eq!(payload.content_length(), Some(66_560));
            let (data, summary) = drain(payload, out_step);
            assert_eq!(data, vec![b'a'; 66_560]);
            let summary = summary.expect("verified");
            assert_eq!(summary.len, 66_560);
            assert_eq!(summary.md5, Some(md5_of(&data)));
            assert_eq!(summary.checksum, None);
        }
    }

    /// S3 API reference, "Signature calculations for trailing headers": the same upload with a
    /// CRC32C trailer and its documented chunk and trailer signatures.
    #[test]
    fn aws_example_trailing_headers() {
        let head = aws_streaming_head(true);
        let auth = authenticate(&head, &aws_creds(), aws_example_time()).expect("seed signature");
        assert!(matches!(
            auth.payload,
            PayloadMode::StreamingSigned { trailer: true, .. }
        ));
        let body = aws_streaming_body(DOC_TRAILER_SIGNATURES, DOC_TRAILER);
        let mut signer = ChunkSigner::from_mode(&auth.payload).expect("signed");
        assert_eq!(
            encode_aws_chunked(
                &[b'a'; 66_560],
                65_536,
                Some(&mut signer),
                Some(&[("x-amz-checksum-crc32c", "sOO8/Q==")])
            ),
            body
        );
        let payload = Payload::new(TestBody::new(&body, 5000), &head, &auth).expect("new");
        let (data, summary) = drain(payload, 10_000);
        assert_eq!(data.len(), 66_560);
        let summary = summary.expect("verified");
        assert_eq!(
            summary.checksum,
            Some((ChecksumAlgorithm::Crc32c, "sOO8/Q==".to_owned()))
        );

        // A different checksum in the (correctly re-signed) trailer: BadDigest naming CRC32C.
        let mut signer = ChunkSigner::from_mode(&auth.payload).expect("signed");
        let bad = encode_aws_chunked(
            &[b'a'; 66_560],
            65_536,
            Some(&mut signer),
            Some(&[("x-amz-checksum-crc32c", "AAAAAA==")]),
        );
        let (_, result) = drain(
            Payload::new(TestBody::new(&bad, 5000), &head, &auth).expect("new"),
            10_000,
        );
        let error = result.expect_err("bad checksum");
        assert_eq!(error.code.code(), "BadDigest");
        assert!(error.message().contains("CRC32C"), "{}", error.message());

        // The documented trailer signature over another value: SignatureDoesNotMatch.
        let forged = aws_streaming_body(
            DOC_TRAILER_SIGNATURES,
            &DOC_TRAILER.replace("sOO8/Q==", "AAAAAA=="),
        );
        let (_, result) = drain(
            Payload::new(TestBody::new(&forged, 5000), &head, &auth).expect("new"),
            10_000,
        );
        assert_eq!(
            result.expect_err("forged").code,
            S3ErrorCode::SignatureDoesNotMatch
        );

        // No trailer signature at all.
        let unsigned =
            aws_streaming_body(DOC_TRAILER_SIGNATURES, "x-amz-checksum-crc32c:sOO8/Q==\r\n");
        let (_, result) = drain(
            Payload::new(TestBody::new(&unsigned, 5000), &head, &auth).expect("new"),
            10_000,
        );
        assert_eq!(
            result.expect_err("unsigned trailer").code,
            S3ErrorCode::SignatureDoesNotMatch
        );
    }

    /// A small signed (or unsigned-trailer) upload for the exhaustive tests.
    struct Upload {
        head: RequestHead,
        auth: AuthOk,
        body: Vec<u8>,
        data: Vec<u8>,
        trailer: bool,
    }

    fn upload(mode: &str, data: &[u8], chunk_size: usize) -> Upload {
        let creds = aws_creds();
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let crc = encode_base64(&checksum(ChecksumAlgorithm::Crc32, data));
        let trailer = mode != STREAMING_PAYLOAD;
        let mut headers = vec![
            ("host".to_owned(), "h".to_owned()),
            ("content-encoding".to_owned(), "aws-chunked".to_owned()),
            (
                "x-amz-decoded-content-length".to_owned(),
                data.len().to_string(),
            ),
        ];
        if trailer {
            headers.push((
                "x-amz-trailer".to_owned(),
                "x-amz-checksum-crc32".to_owned(),
            ));
        }
        let (signed, mut signer) = sign_request_streaming(
            "PUT",
            "/b/k",
            "",
            &headers,
            mode,
            &creds,
            DEFAULT_REGION,
            now,
        );
        let head = make_head("PUT", "/b/k", &refs(&signed));
        let auth = authenticate(&head, &creds, now).expect("auth");
        let trailers = [("x-amz-checksum-crc32", crc.as_str())];
        let body = encode_aws_chunked(
            data,
            chunk_size,
            (mode != STREAMING_UNSIGNED_PAYLOAD_TRAILER).then_some(&mut signer),
            trailer.then_some(&trailers[..]),
        );
        Upload {
            head,
            auth,
            body,
            data: data.to_vec(),
            trailer,
        }
    }

    const MODES: [&str; 3] = [
        STREAMING_PAYLOAD,
        STREAMING_PAYLOAD_TRAILER,
        STREAMING_UNSIGNED_PAYLOAD_TRAILER,
    ];

    #[test]
    fn round_trip_all_modes_and_read_sizes() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 256) as u8).collect();
        for mode in MODES {
            for chunk_size in [1, 7, 64, 999, 1000, 5000] {
                let up = upload(mode, &data, chunk_size);
                for (raw_step, out_step) in [(1, 1), (3, 5), (usize::MAX, 4096), (100, 1)] {
                    let payload =
                        Payload::new(TestBody::new(&up.body, raw_step), &up.head, &up.auth)
                            .expect("new");
                    let (got, summary) = drain(payload, out_step);
                    assert_eq!(got, up.data, "{mode} {chunk_size} {raw_step} {out_step}");
                    let summary = summary.unwrap_or_else(|e| panic!("{mode} {chunk_size}: {e:?}"));
                    assert_eq!(summary.md5, Some(md5_of(&data)));
                    let expected = up.trailer.then(|| {
                        (
                            ChecksumAlgorithm::Crc32,
                            encode_base64(&checksum(ChecksumAlgorithm::Crc32, &data)),
                        )
                    });
                    assert_eq!(summary.checksum, expected);
                }
            }
        }
        // An empty object.
        for mode in MODES {
            let up = upload(mode, b"", 64);
            let (got, summary) = drain(
                Payload::new(TestBody::new(&up.body, 3), &up.head, &up.auth).expect("new"),
                10,
            );
            assert!(got.is_empty());
            assert_eq!(summary.expect("empty").len, 0);
        }
    }

    /// A body cut at any byte fails with IncompleteBody: never a success, a panic or a hang.
    /// The one tolerated cut is the final empty line after the trailers.
    #[test]
    fn truncated_at_every_byte() {
        let data: Vec<u8> = (0..100u8).collect();
        for mode in MODES {
            let up = upload(mode, &data, 30);
            for cut in 0..up.body.len() {
                for short in [false, true] {
                    let mut raw = TestBody::new(&up.body[..cut], 7);
                    raw.short = short;
                    let (_, result) =
                        drain(Payload::new(raw, &up.head, &up.auth).expect("new"), 64);
                    // (With `short`, the raw body itself reports the cut: never tolerated.)
                    if up.trailer && cut == up.body.len() - 2 && !short {
                        result.unwrap_or_else(|e| panic!("{mode}: missing final CRLF: {e:?}"));
                        continue;
                    }
                    let error = result.expect_err("truncated");
                    assert_eq!(
                        error.code,
                        S3ErrorCode::IncompleteBody,
                        "{mode} cut {cut}: {error:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn bad_chunk_signatures() {
        let data = vec![b'x'; 100];
        let up = upload(STREAMING_PAYLOAD, &data, 30);
        let text = String::from_utf8_lossy(&up.body).into_owned();
        let sigs: Vec<usize> = text
            .match_indices("chunk-signature=")
            .map(|(i, _)| i + 16)
            .collect();
        assert_eq!(sigs.len(), 5);
        for &at in &sigs {
            let mut body = up.body.clone();
            body[at] = if body[at] == b'0' { b'1' } else { b'0' };
            let (_, result) = drain(
                Payload::new(TestBody::new(&body, 11), &up.head, &up.auth).expect("new"),
                64,
            );
            assert_eq!(
                result.expect_err("bad sig").code,
                S3ErrorCode::SignatureDoesNotMatch
            );
        }
        // A flipped data byte breaks its chunk's signature.
        let mut body = up.body.clone();
        let first_data = text.find("\r\n").expect("crlf") + 2;
        body[first_data] ^= 1;
        let (_, result) = drain(
            Payload::new(TestBody::new(&body, 11), &up.head, &up.auth).expect("new"),
            64,
        );
        assert_eq!(
            result.expect_err("bad data").code,
            S3ErrorCode::SignatureDoesNotMatch
        );
        // A chunk without a signature in a signed upload.
        let stripped = text.replacen(&text[text.find(';').expect(";")..sigs[0] + 64], "", 1);
        let (_, result) = drain(
            Payload::new(TestBody::new(stripped.as_bytes(), 11), &up.head, &up.auth).expect("new"),
            64,
        );
        assert_eq!(
            result.expect_err("no sig").code,
            S3ErrorCode::InvalidRequest
        );
        // A body signed with another key.
        let other = upload(STREAMING_PAYLOAD, &data, 30);
        let stranger = Credentials {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "other".into(),
        };
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let (_, mut signer) = sign_request_streaming(
            "PUT",
            "/b/k",
            "",
            &[],
            STREAMING_PAYLOAD,
            &stranger,
            DEFAULT_REGION,
            now,
        );
        let forged = encode_aws_chunked(&data, 30, Some(&mut signer), None);
        let (_, result) = drain(
            Payload::new(TestBody::new(&forged, 11), &other.head, &other.auth).expect("new"),
            64,
        );
        assert_eq!(
            result.expect_err("forged").code,
            S3ErrorCode::SignatureDoesNotMatch
        );
    }

    #[test]
    fn bad_trailer_checksums() {
        let data = vec![b'q'; 100];
        for mode in [
            STREAMING_PAYLOAD_TRAILER,
            STREAMING_UNSIGNED_PAYLOAD_TRAILER,
        ] {
            let up = upload(mode, &data, 30);
            // Re-encode with a wrong (well-formed) CRC32, signed when the mode signs.
            let mut signer = ChunkSigner::from_mode(&up.auth.payload);
            let body = encode_aws_chunked(
                &data,
                30,
                signer.as_mut(),
                Some(&[("x-amz-checksum-crc32", "AAAAAA==")]),
            );
            let (_, result) = drain(
                Payload::new(TestBody::new(&body, 13), &up.head, &up.auth).expect("new"),
                64,
            );
            let error = result.expect_err("bad checksum");
            assert_eq!(error.code, S3ErrorCode::InvalidChecksum, "{mode}");
            assert_eq!(error.code.code(), "BadDigest");
            assert!(error.message().contains("CRC32"));
            // The announced trailer missing.
            let mut signer = ChunkSigner::from_mode(&up.auth.payload);
            let body = encode_aws_chunked(
                &data,
                30,
                signer.as_mut(),
                Some(&[("x-amz-meta-other", "1")]),
            );
            let (_, result) = drain(
                Payload::new(TestBody::new(&body, 13), &up.head, &up.auth).expect("new"),
                64,
            );
            assert_eq!(
                result.expect_err("missing trailer").code,
                S3ErrorCode::InvalidRequest,
                "{mode}"
            );
        }
    }

    #[test]
    fn framing_errors() {
        let data = vec![b'z'; 50];
        for mode in MODES {
            let up = upload(mode, &data, 20);
            // Bytes after the end.
            let mut body = up.body.clone();
            body.extend_from_slice(b"junk");
            let (_, result) = drain(
                Payload::new(TestBody::new(&body, 9), &up.head, &up.auth).expect("new"),
                64,
            );
            assert_eq!(
                result.expect_err("junk").code,
                S3ErrorCode::InvalidRequest,
                "{mode}"
            );
            // A line over the limit.
            let mut body = vec![b'1'; MAX_LINE_BYTES + 10];
            body.extend_from_slice(b"\r\n");
            let (_, result) = drain(
                Payload::new(TestBody::new(&body, 1000), &up.head, &up.auth).expect("new"),
                64,
            );
            assert_eq!(
                result.expect_err("long line").code,
                S3ErrorCode::InvalidRequest,
                "{mode}"
            );
            // Not hex.
            let (_, result) = drain(
                Payload::new(TestBody::new(b"zz\r\n", 9), &up.head, &up.auth).expect("new"),
                64,
            );
            assert_eq!(
                result.expect_err("not hex").code,
                S3ErrorCode::InvalidRequest,
                "{mode}"
            );
            // Data not followed by CRLF.
            let text = String::from_utf8_lossy(&up.body).replacen("zz\r\n", "zzXX", 1);
            let (_, result) = drain(
                Payload::new(TestBody::new(text.as_bytes(), 9), &up.head, &up.auth).expect("new"),
                64,
            );
            assert!(result.is_err(), "{mode}");
        }
        // Trailers in a payload that announced none.
        let up = upload(STREAMING_PAYLOAD, &data, 20);
        let text = String::from_utf8_lossy(&up.body).into_owned();
        let with_trailer = format!(
            "{}x-amz-checksum-crc32:AAAAAA==\r\n\r\n",
            &text[..text.len() - 2]
        );
        let (_, result) = drain(
            Payload::new(
                TestBody::new(with_trailer.as_bytes(), 9),
                &up.head,
                &up.auth,
            )
            .expect("new"),
            64,
        );
        assert_eq!(
            result.expect_err("trailer").code,
            S3ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn decoded_length_is_enforced() {
        let data = vec![b'd'; 60];
        let up = upload(STREAMING_PAYLOAD, &data, 25);
        for (declared, code) in [
            ("61", S3ErrorCode::IncompleteBody),
            ("59", S3ErrorCode::InvalidRequest),
        ] {
            let mut head = up.head.clone();
            head.headers.insert(
                "x-amz-decoded-content-length",
                declared.parse().expect("value"),
            );
            let (_, result) = drain(
                Payload::new(TestBody::new(&up.body, 9), &head, &up.auth).expect("new"),
                64,
            );
            assert_eq!(result.expect_err(declared).code, code);
        }
        let mut head = up.head.clone();
        head.headers.remove("x-amz-decoded-content-length");
        assert_eq!(
            Payload::new(TestBody::new(&up.body, 9), &head, &up.auth)
                .err()
                .map(|e| e.code),
            Some(S3ErrorCode::MissingContentLength)
        );
    }

    fn plain(body: &[u8], payload_hash: &str, extra: &[(&str, &str)]) -> (RequestHead, AuthOk) {
        let creds = aws_creds();
        let now = aws_example_time();
        let mut headers = vec![
            ("host".to_owned(), "h".to_owned()),
            ("content-length".to_owned(), body.len().to_string()),
        ];
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let signed = sign_request(
            "PUT",
            "/b/k",
            "",
            &headers,
            payload_hash,
            &creds,
            DEFAULT_REGION,
            now,
        );
        let head = make_head("PUT", "/b/k", &refs(&signed));
        let auth = authenticate(&head, &creds, now).expect("auth");
        (head, auth)
    }

    #[test]
    fn plain_bodies_digests() {
        let body = b"Welcome to Amazon S3.";
        let md5 = encode_base64(&md5_of(body));
        let sha = sha256_hex(body);
        let crc = encode_base64(&checksum(ChecksumAlgorithm::Sha256, body));

        // Everything right: MD5, SHA-256, SHA256 checksum.
        let (head, auth) = plain(
            body,
            &sha,
            &[("content-md5", &md5), ("x-amz-checksum-sha256", &crc)],
        );
        let payload = Payload::new(TestBody::new(body, 4), &head, &auth).expect("new");
        assert_eq!(payload.content_length(), Some(body.len() as u64));
        let (data, summary) = drain(payload, 5);
        assert_eq!(data, body);
        let summary = summary.expect("ok");
        assert_eq!(summary.md5, Some(md5_of(body)));
        assert_eq!(
            summary.checksum,
            Some((ChecksumAlgorithm::Sha256, crc.clone()))
        );

        let other = b"Welcome to Amazon S4.";
        // Content-MD5 mismatch.
        let (head, auth) = plain(other, UNSIGNED_PAYLOAD, &[("content-md5", &md5)]);
        let (_, result) = drain(
            Payload::new(TestBody::new(other, 4), &head, &auth).expect("new"),
            5,
        );
        assert_eq!(result.expect_err("md5").code, S3ErrorCode::BadDigest);
        // Content-MD5 not valid base64 of 16 bytes.
        for bad in ["not base64!", "AAAA"] {
            let (head, auth) = plain(other, UNSIGNED_PAYLOAD, &[("content-md5", bad)]);
            assert_eq!(
                Payload::new(TestBody::new(other, 4), &head, &auth)
                    .err()
                    .map(|e| e.code),
                Some(S3ErrorCode::InvalidDigest)
            );
        }
        // x-amz-content-sha256 mismatch.
        let (head, auth) = plain(other, &sha, &[]);
        let (_, result) = drain(
            Payload::new(TestBody::new(other, 4), &head, &auth).expect("new"),
            5,
        );
        assert_eq!(
            result.expect_err("sha").code,
            S3ErrorCode::XAmzContentSHA256Mismatch
        );
        // Flexible checksum header mismatch.
        let (head, auth) = plain(other, UNSIGNED_PAYLOAD, &[("x-amz-checksum-sha256", &crc)]);
        let (_, result) = drain(
            Payload::new(TestBody::new(other, 4), &head, &auth).expect("new"),
            5,
        );
        let error = result.expect_err("checksum");
        assert_eq!(error.code.code(), "BadDigest");
        assert!(error.message().contains("SHA256"));
        // Only the algorithm named: computed, not checked.
        let (head, auth) = plain(
            other,
            UNSIGNED_PAYLOAD,
            &[("x-amz-sdk-checksum-algorithm", "CRC64NVME")],
        );
        let (_, summary) = drain(
            Payload::new(TestBody::new(other, 4), &head, &auth).expect("new"),
            5,
        );
        assert_eq!(
            summary.expect("ok").checksum,
            Some((
                ChecksumAlgorithm::Crc64Nvme,
                encode_base64(&checksum(ChecksumAlgorithm::Crc64Nvme, other))
            ))
        );
        // A trailer announced on a plain body.
        let (head, auth) = plain(
            other,
            UNSIGNED_PAYLOAD,
            &[("x-amz-trailer", "x-amz-checksum-crc32")],
        );
        assert_eq!(
            Payload::new(TestBody::new(other, 4), &head, &auth)
                .err()
                .map(|e| e.code),
            Some(S3ErrorCode::InvalidRequest)
        );
        // The raw body stops early: IncompleteBody, and the raw error is passed through.
        let (head, auth) = plain(body, UNSIGNED_PAYLOAD, &[]);
        let mut raw = TestBody::new(&body[..10], 4);
        raw.short = true;
        let mut payload = Payload::new(raw, &head, &auth).expect("new");
        let mut buf = [0u8; 64];
        let error = loop {
            match block_on(payload.read(&mut buf)) {
                Ok(n) => assert!(n > 0, "no end-of-body before the error"),
                Err(e) => break e,
            }
        };
        assert!(matches!(error, HttpError::BodyTooShort));
        assert_eq!(
            payload.finish().expect_err("short").code,
            S3ErrorCode::IncompleteBody
        );
        // finish() before the end.
        let payload = Payload::new(TestBody::new(body, 4), &head, &auth).expect("new");
        assert_eq!(
            payload.finish().expect_err("early").code,
            S3ErrorCode::IncompleteBody
        );
    }
}

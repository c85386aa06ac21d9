//! The read buffer under a connection, and the byte source it refills from.
//!
//! One fixed-size buffer per connection holds bytes read from the socket but not yet consumed:
//! a request head being assembled, the framing lines of a chunked body, small body pieces, and
//! whatever a pipelining client already sent of the next request. Large body reads bypass it
//! and go straight into the caller's buffer (see `body.rs`), so it stays small.
//!
//! Invariants: `start <= end <= bytes.len()`; `bytes[start..end]` are the unconsumed bytes in
//! arrival order; the buffer never grows after construction (everything read through it is
//! bounded by [`super::MAX_HEAD_BYTES`] or the chunk-line limit, both well under its size).

use super::HttpError;

/// Size of a connection's read buffer. Twice the largest head, so a complete head always fits
/// next to leftover bytes of the previous request after compaction.
pub(crate) const READ_BUFFER_BYTES: usize = 32 * 1024;
const _: () = assert!(READ_BUFFER_BYTES >= 2 * super::MAX_HEAD_BYTES);

/// Where raw bytes come from: the socket (with a timeout) in production, memory in tests.
/// `Ok(0)` means end of stream.
pub(crate) trait RawSource {
    /// Read up to `buf.len()` bytes (`buf` is never empty).
    async fn read_raw(&mut self, buf: &mut [u8]) -> Result<usize, HttpError>;
}

/// Fixed-size buffer with a window of unconsumed bytes.
pub(crate) struct ReadBuffer {
    bytes: Box<[u8]>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// An empty buffer of [`READ_BUFFER_BYTES`].
    pub(crate) fn new() -> Self {
        Self::with_prefix(Vec::new())
    }

    /// A buffer that starts out holding `prefix` (bytes already read from the stream, e.g. by
    /// the core that handed the connection over). Grows to hold a larger prefix.
    pub(crate) fn with_prefix(prefix: Vec<u8>) -> Self {
        let capacity = prefix.len().max(READ_BUFFER_BYTES);
        let mut bytes = prefix;
        let end = bytes.len();
        bytes.resize(capacity, 0);
        Self {
            bytes: bytes.into_boxed_slice(),
            start: 0,
            end,
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn data(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub(crate) fn capacity(&self) -> usize {
        self.bytes.len()
    }

    /// Drop the first `n` unconsumed bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        assert!(
            n <= self.len(),
            "consume {n} of {} buffered bytes",
            self.len()
        );
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Move up to `out.len()` unconsumed bytes into `out`; returns how many.
    pub(crate) fn copy_to(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        out[..n].copy_from_slice(&self.bytes[self.start..self.start + n]);
        self.consume(n);
        n
    }

    /// Read once from `src` into the free space at the end, compacting first when the free
    /// space is short. Returns the bytes read; `Ok(0)` is end of stream.
    ///
    /// Callers only fill while the unconsumed window is smaller than their line or head limit,
    /// which is below the capacity, so there is always room.
    pub(crate) async fn fill_from<S: RawSource>(
        &mut self,
        src: &mut S,
    ) -> Result<usize, HttpError> {
        if self.end == self.bytes.len() || (self.start > 0 && self.end > self.bytes.len() / 2) {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        assert!(self.end < self.bytes.len(), "read buffer full");
        let n = src.read_raw(&mut self.bytes[self.end..]).await?;
        debug_assert!(self.end + n <= self.bytes.len());
        self.end += n;
        Ok(n)
    }

    /// The unconsumed bytes, for a hand-off.
    pub(crate) fn into_remaining(self) -> Vec<u8> {
        self.bytes[self.start..self.end].to_vec()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// In-memory source: yields its pieces one read at a time (a piece longer than the read
    /// buffer is split), then end of stream.
    pub(crate) struct Pieces {
        pieces: VecDeque<Vec<u8>>,
    }

    impl Pieces {
        pub(crate) fn new<I: IntoIterator<Item = Vec<u8>>>(pieces: I) -> Self {
            Self {
                pieces: pieces.into_iter().filter(|p| !p.is_empty()).collect(),
            }
        }

        /// `bytes` cut at `split` into two reads.
        pub(crate) fn split(bytes: &[u8], split: usize) -> Self {
            Self::new([bytes[..split].to_vec(), bytes[split..].to_vec()])
        }

        /// One byte per read.
        pub(crate) fn bytewise(bytes: &[u8]) -> Self {
            Self::new(bytes.iter().map(|b| vec![*b]))
        }

        /// Everything not yet read.
        pub(crate) fn rest(&self) -> Vec<u8> {
            self.pieces.iter().flatten().copied().collect()
        }
    }

    impl RawSource for Pieces {
        async fn read_raw(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
            assert!(!buf.is_empty());
            let Some(piece) = self.pieces.front_mut() else {
                return Ok(0);
            };
            let n = piece.len().min(buf.len());
            buf[..n].copy_from_slice(&piece[..n]);
            piece.drain(..n);
            if piece.is_empty() {
                self.pieces.pop_front();
            }
            Ok(n)
        }
    }

    #[test]
    fn fill_compacts_and_consumes() {
        futures_lite::future::block_on(async {
            let mut src = Pieces::new([vec![1u8; READ_BUFFER_BYTES - 10], vec![2u8; 100]]);
            let mut rb = ReadBuffer::new();
            assert_eq!(
                rb.fill_from(&mut src).await.ok(),
                Some(READ_BUFFER_BYTES - 10)
            );
            rb.consume(READ_BUFFER_BYTES - 20);
            assert_eq!(rb.len(), 10);
            // 10 bytes free at the end and start past half: compacts, then reads all 100.
            assert_eq!(rb.fill_from(&mut src).await.ok(), Some(100));
            assert_eq!(rb.len(), 110);
            assert_eq!(&rb.data()[..10], &[1u8; 10]);
            assert_eq!(&rb.data()[10..], &[2u8; 100][..]);
            let mut out = [0u8; 200];
            assert_eq!(rb.copy_to(&mut out), 110);
            assert!(rb.is_empty());
            assert_eq!(rb.fill_from(&mut src).await.ok(), Some(0));
        });
    }

    #[test]
    fn prefix_is_kept() {
        let rb = ReadBuffer::with_prefix(b"GET / HTTP/1.1\r\n".to_vec());
        assert_eq!(rb.data(), b"GET / HTTP/1.1\r\n");
        assert_eq!(rb.capacity(), READ_BUFFER_BYTES);
        assert_eq!(rb.into_remaining(), b"GET / HTTP/1.1\r\n".to_vec());
    }
}

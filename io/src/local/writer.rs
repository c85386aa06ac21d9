//! The streaming O_DIRECT shard-file writer of [`LocalDrive`](crate::LocalDrive).
//!
//! Model: bytes are copied into a pooled, 4096-aligned buffer; a full buffer is written at its
//! (aligned) file offset by a spawned task with `write_rc_at`, and the next buffer fills while
//! the kernel works. At most [`MAX_IN_FLIGHT`] writes are outstanding per file (two saturate
//! the disks measured; more only lengthen the final fdatasync, GLOMMIO.md §2); when the limit is
//! hit, the oldest write is awaited and its buffer reclaimed (`Rc::try_unwrap`) for reuse.
//!
//! The final block is written by hand (GLOMMIO.md §2, "Final partial block"), never through
//! `DmaStreamWriter::close` (which pads a whole buffer and syncs *before* truncating):
//! zero-pad the tail to 4096, write the aligned prefix, `ftruncate` to the real length, then
//! close. No fdatasync: the file is staged, and the commit that publishes it (`rename_data`,
//! `rename`) makes it durable first with the drive's group commit (sync_group.rs), data and
//! size together.
//!
//! Invariants (asserted): every write offset and length is a multiple of [`DIRECT_ALIGN`];
//! `file_offset_bytes + filled == total_bytes`; in-flight writes cover exactly
//! `[file_offset_bytes - in_flight * buffer_size, file_offset_bytes)`.

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;

use glommio::io::{DmaBuffer, DmaFile};
use glommio::Task;

use super::buffers::{self, DIRECT_ALIGN};
use super::{from_glommio, io_error};
use crate::{DriveError, FileWriter};

/// Outstanding O_DIRECT writes per file.
pub(crate) const MAX_IN_FLIGHT: usize = 2;

/// The most buffer memory a shard-file writer for a file of `file_size_hint` bytes holds at
/// once: the buffer being filled plus [`MAX_IN_FLIGHT`] being written, fewer for a file that
/// needs fewer. For callers that bound the memory of many concurrent writers.
pub fn writer_memory_bytes(file_size_hint: u64) -> u64 {
    let buffer = buffers::buffer_size_for(file_size_hint) as u64;
    let buffers = file_size_hint
        .div_ceil(buffer)
        .clamp(1, MAX_IN_FLIGHT as u64 + 1);
    buffers * buffer
}

struct InFlight {
    task: Task<io::Result<usize>>,
    buf: Rc<DmaBuffer>,
    len: usize,
    pos: u64,
}

pub(crate) struct DmaFileWriter {
    file: Rc<DmaFile>,
    path: PathBuf,
    buffer_size: usize,
    /// Buffer being filled; None until the first byte (and after a submit).
    current: Option<DmaBuffer>,
    filled: usize,
    /// File offset where `current` will land.
    file_offset_bytes: u64,
    in_flight: InFlightWrites,
    /// Set after any error: the file content is unknown, refuse to go on.
    failed: bool,
}

impl DmaFileWriter {
    pub(crate) fn new(file: DmaFile, path: PathBuf, file_size_hint: u64) -> DmaFileWriter {
        DmaFileWriter {
            file: Rc::new(file),
            path,
            buffer_size: buffers::buffer_size_for(file_size_hint),
            current: None,
            filled: 0,
            file_offset_bytes: 0,
            in_flight: InFlightWrites(VecDeque::with_capacity(MAX_IN_FLIGHT)),
            failed: false,
        }
    }

    fn err(&mut self, op: &'static str, source: io::Error) -> DriveError {
        self.failed = true;
        io_error(op, self.path.clone(), source)
    }

    /// Await the oldest in-flight write, check it, and return its buffer if it can be reused.
    async fn complete_oldest(&mut self) -> Result<Option<DmaBuffer>, DriveError> {
        let Some(flight) = self.in_flight.0.pop_front() else {
            return Ok(None);
        };
        // If this future is dropped while waiting (caller cancelled), the write's outcome is
        // unknown: stay poisoned until it is known good.
        self.failed = true;
        let written = flight.task.await;
        self.failed = false;
        match written {
            Ok(n) if n == flight.len => {}
            Ok(n) => {
                let short = io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!(
                        "short O_DIRECT write: {n} of {} at {}",
                        flight.len, flight.pos
                    ),
                );
                return Err(self.err("write", short));
            }
            Err(e) => return Err(self.err("write", e)),
        }
        // The task (and glommio's I/O source) dropped their clones when the write completed;
        // if anything still holds one, let it go and take a fresh buffer instead.
        Ok(Rc::try_unwrap(flight.buf).ok())
    }

    /// A buffer to fill: reclaimed from the oldest write when the window is full, else pooled.
    async fn next_buffer(&mut self) -> Result<DmaBuffer, DriveError> {
        if self.in_flight.0.len() >= MAX_IN_FLIGHT {
            if let Some(buf) = self.complete_oldest().await? {
                if buf.len() == self.buffer_size {
                    return Ok(buf);
                }
                buffers::give(buf);
            }
        }
        Ok(buffers::take(self.buffer_size))
    }

    /// Start writing the full current buffer.
    fn submit_full(&mut self) {
        assert_eq!(self.filled, self.buffer_size);
        let Some(buf) = self.current.take() else {
            unreachable!("submit without a buffer");
        };
        let pos = self.file_offset_bytes;
        assert_eq!(pos % DIRECT_ALIGN as u64, 0);
        let buf = Rc::new(buf);
        let file = Rc::clone(&self.file);
        let task_buf = Rc::clone(&buf);
        let task = glommio::spawn_local(async move {
            file.write_rc_at(task_buf, pos).await.map_err(from_glommio)
        });
        self.in_flight.0.push_back(InFlight {
            task,
            buf,
            len: self.buffer_size,
            pos,
        });
        self.file_offset_bytes += self.buffer_size as u64;
        self.filled = 0;
    }

    /// Write the partial last buffer: pad to 4096 and write the aligned prefix.
    /// Returns true if padding was written (the file then needs a truncate).
    async fn write_tail(&mut self) -> Result<bool, DriveError> {
        let tail = self.filled;
        let Some(mut buf) = self.current.take() else {
            assert_eq!(tail, 0);
            return Ok(false);
        };
        if tail == 0 {
            buffers::give(buf);
            return Ok(false);
        }
        let aligned = tail.next_multiple_of(DIRECT_ALIGN);
        assert!(aligned <= buf.len());
        buf.as_bytes_mut()[tail..aligned].fill(0);
        // Copied into an exact-length tail buffer: the pooled buffer goes back whole.
        let mut out = buffers::take_tail(aligned);
        out.as_bytes_mut()
            .copy_from_slice(&buf.as_bytes()[..aligned]);
        buffers::give(buf);
        let out = Rc::new(out);
        let pos = self.file_offset_bytes;
        assert_eq!(pos % DIRECT_ALIGN as u64, 0);
        let written = self
            .file
            .write_rc_at(out.clone(), pos)
            .await
            .map_err(from_glommio);
        if let Ok(out) = Rc::try_unwrap(out) {
            buffers::give_tail(out);
        }
        match written {
            Ok(n) if n == aligned => Ok(aligned != tail),
            Ok(n) => {
                let short = io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("short O_DIRECT write: {n} of {aligned} at {pos}"),
                );
                Err(self.err("write", short))
            }
            Err(e) => Err(self.err("write", e)),
        }
    }

    fn total_bytes(&self) -> u64 {
        self.file_offset_bytes + self.filled as u64
    }
}

#[async_trait::async_trait(?Send)]
impl FileWriter for DmaFileWriter {
    async fn write(&mut self, mut data: &[u8]) -> Result<(), DriveError> {
        if self.failed {
            return Err(self.err("write", io::Error::other("writer failed earlier")));
        }
        while !data.is_empty() {
            let mut buf = match self.current.take() {
                Some(buf) => buf,
                None => self.next_buffer().await?,
            };
            debug_assert_eq!(buf.len(), self.buffer_size);
            let n = data.len().min(self.buffer_size - self.filled);
            buf.as_bytes_mut()[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.current = Some(buf);
            self.filled += n;
            data = &data[n..];
            if self.filled == self.buffer_size {
                self.submit_full();
            }
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<u64, DriveError> {
        if self.failed {
            return Err(self.err("finish", io::Error::other("writer failed earlier")));
        }
        let total = self.total_bytes();
        while !self.in_flight.0.is_empty() {
            if let Some(buf) = self.complete_oldest().await? {
                buffers::give(buf);
            }
        }
        let padded = self.write_tail().await?;
        if padded {
            // Drop the zero padding (made durable with the data by the commit).
            if let Err(e) = self.file.truncate(total).await.map_err(from_glommio) {
                return Err(self.err("truncate", e));
            }
        }
        // Every write task has completed and released its clone of the file.
        let DmaFileWriter { file, path, .. } = *self;
        match Rc::try_unwrap(file) {
            Ok(file) => file
                .close()
                .await
                .map_err(|e| io_error("close", path, from_glommio(e)))?,
            // Cannot happen (all tasks done); the fd is closed when the last clone drops.
            Err(_still_shared) => {}
        }
        Ok(total)
    }
}

/// Writes not yet awaited. Dropping the writer (no finish, or finish failed) lets them run to
/// completion rather than cancelling I/O the kernel may still be doing on our buffers.
struct InFlightWrites(VecDeque<InFlight>);

impl Drop for InFlightWrites {
    fn drop(&mut self) {
        for flight in self.0.drain(..) {
            drop(flight.task.detach());
        }
    }
}

//! Per-thread pool of long-lived, 4096-aligned DMA buffers for shard writes.
//!
//! Why a pool: a fresh multi-MiB buffer per write costs mmap/munmap and a page fault per 4 KiB
//! page, several times the cost of the memcpy that fills it (GLOMMIO.md §2, pitfall #2), and
//! glommio's own arena is kept tiny on purpose (memlock budget, §1). So buffers come from
//! `glommio::allocate_dma_buffer_global` once and are handed back here when a write completes.
//!
//! Two sizes: [`BUFFER_SMALL`] (2 MiB) for ordinary files, [`BUFFER_LARGE`] (4 MiB) when the
//! file will be at least [`LARGE_FILE_BYTES`] (fewer, larger I/Os; measured best on this class of
//! disk). The pool is thread-local: the executor (core) that writes owns its buffers, `DmaBuffer`
//! is `!Send` anyway. It keeps at most [`POOL_RETAIN_BYTES`] of idle buffers per thread; more are
//! allocated under load and freed when returned to a full pool.
//!
//! Tail buffers: the last, partial block of a file is written from a buffer of exactly its
//! padded length (glommio 0.9 writes whole buffers and can only shorten one destructively).
//! Those are pooled by exact length too ([`take_tail`], [`give_tail`], at most
//! [`TAIL_RETAIN_BYTES`], oldest dropped first): objects of one size, or multipart parts of one
//! size, have tails of one size, and then no file costs a fresh allocation.

use std::cell::RefCell;

use glommio::io::DmaBuffer;

/// Buffer for files under [`LARGE_FILE_BYTES`].
pub(crate) const BUFFER_SMALL: usize = 2 << 20;
/// Buffer for files of [`LARGE_FILE_BYTES`] and more.
pub(crate) const BUFFER_LARGE: usize = 4 << 20;
/// Object size from which a shard writer uses [`BUFFER_LARGE`].
pub(crate) const LARGE_FILE_BYTES: u64 = 32 << 20;
/// Idle buffers kept per thread, in bytes (16 large + 32 small, or any mix).
pub(crate) const POOL_RETAIN_BYTES: usize = 128 << 20;
/// Idle tail buffers kept per thread, in bytes.
pub(crate) const TAIL_RETAIN_BYTES: usize = 32 << 20;
/// O_DIRECT alignment used for offsets and lengths, whatever the device reports (4Kn drives).
pub(crate) const DIRECT_ALIGN: usize = 4096;

const _: () = assert!(BUFFER_SMALL % DIRECT_ALIGN == 0 && BUFFER_LARGE % DIRECT_ALIGN == 0);

/// Buffer size for a file expected to hold `file_size_hint` bytes.
pub(crate) fn buffer_size_for(file_size_hint: u64) -> usize {
    if file_size_hint >= LARGE_FILE_BYTES {
        BUFFER_LARGE
    } else {
        BUFFER_SMALL
    }
}

#[derive(Default)]
struct Pool {
    idle: Vec<DmaBuffer>,
    idle_bytes: usize,
    /// Exact-length tail buffers, oldest first.
    tails: std::collections::VecDeque<DmaBuffer>,
    tail_bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
}

/// A buffer of exactly `size` bytes (contents undefined), reused if one is idle.
pub(crate) fn take(size: usize) -> DmaBuffer {
    assert!(
        size == BUFFER_SMALL || size == BUFFER_LARGE,
        "pool size {size}"
    );
    let reused = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.idle.iter().position(|b| b.len() == size)?;
        pool.idle_bytes -= size;
        Some(pool.idle.swap_remove(at))
    });
    reused.unwrap_or_else(|| {
        #[cfg(test)]
        FRESH.with(|n| n.set(n.get() + 1));
        glommio::allocate_dma_buffer_global(size)
    })
}

/// A tail buffer of exactly `len` bytes (a multiple of [`DIRECT_ALIGN`]; contents undefined).
pub(crate) fn take_tail(len: usize) -> DmaBuffer {
    assert!(len > 0 && len % DIRECT_ALIGN == 0, "tail length {len}");
    let reused = POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let at = pool.tails.iter().position(|b| b.len() == len)?;
        pool.tail_bytes -= len;
        pool.tails.remove(at)
    });
    reused.unwrap_or_else(|| {
        #[cfg(test)]
        FRESH.with(|n| n.set(n.get() + 1));
        glommio::allocate_dma_buffer_global(len)
    })
}

/// Hand a tail buffer back (untrimmed, as [`take_tail`] gave it). Older tails make room.
pub(crate) fn give_tail(buf: DmaBuffer) {
    let len = buf.len();
    if len > TAIL_RETAIN_BYTES {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        while pool.tail_bytes + len > TAIL_RETAIN_BYTES {
            let Some(old) = pool.tails.pop_front() else {
                break;
            };
            pool.tail_bytes -= old.len();
        }
        pool.tail_bytes += len;
        pool.tails.push_back(buf);
    });
}

/// Hand a buffer back. Buffers that were trimmed (final block) or exceed the retention cap are
/// freed.
pub(crate) fn give(buf: DmaBuffer) {
    let size = buf.len();
    if size != BUFFER_SMALL && size != BUFFER_LARGE {
        return;
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.idle_bytes + size <= POOL_RETAIN_BYTES {
            pool.idle_bytes += size;
            pool.idle.push(buf);
        }
    });
}

#[cfg(test)]
thread_local! {
    static FRESH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Buffers this thread allocated because none was idle (tests).
#[cfg(test)]
pub(crate) fn fresh_allocations() -> usize {
    FRESH.with(|n| n.get())
}

/// Idle bytes held by this thread's pool (tests).
#[cfg(test)]
pub(crate) fn idle_bytes() -> usize {
    POOL.with(|pool| pool.borrow().idle_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_and_cap() {
        assert_eq!(buffer_size_for(0), BUFFER_SMALL);
        assert_eq!(buffer_size_for(LARGE_FILE_BYTES - 1), BUFFER_SMALL);
        assert_eq!(buffer_size_for(LARGE_FILE_BYTES), BUFFER_LARGE);

        let a = take(BUFFER_SMALL);
        assert_eq!(a.len(), BUFFER_SMALL);
        assert_eq!(a.as_ptr() as usize % DIRECT_ALIGN, 0);
        let ptr = a.as_ptr();
        give(a);
        assert_eq!(idle_bytes(), BUFFER_SMALL);
        let b = take(BUFFER_SMALL);
        assert_eq!(b.as_ptr(), ptr, "the idle buffer is reused");
        assert_eq!(idle_bytes(), 0);
        let mut trimmed = b;
        trimmed.trim_to_size(DIRECT_ALIGN);
        give(trimmed);
        assert_eq!(idle_bytes(), 0, "trimmed buffers are not pooled");

        let many: Vec<_> = (0..40).map(|_| take(BUFFER_LARGE)).collect();
        many.into_iter().for_each(give);
        assert_eq!(idle_bytes(), POOL_RETAIN_BYTES);
    }

    #[test]
    fn tails_are_reused_by_length_oldest_dropped_first() {
        let tail = take_tail(3 * DIRECT_ALIGN);
        assert_eq!(tail.len(), 3 * DIRECT_ALIGN);
        let ptr = tail.as_ptr();
        give_tail(tail);
        let fresh = fresh_allocations();
        let other = take_tail(DIRECT_ALIGN);
        assert_eq!(
            fresh_allocations(),
            fresh + 1,
            "no idle tail of that length"
        );
        let again = take_tail(3 * DIRECT_ALIGN);
        assert_eq!(again.as_ptr(), ptr, "same length: reused");
        give_tail(again);
        give_tail(other);

        // Fill the cap with 1 MiB tails: the two small ones, the oldest, make room.
        let big: Vec<_> = (0..TAIL_RETAIN_BYTES / (1 << 20))
            .map(|_| take_tail(1 << 20))
            .collect();
        big.into_iter().for_each(give_tail);
        let fresh = fresh_allocations();
        drop(take_tail(3 * DIRECT_ALIGN));
        assert_eq!(fresh_allocations(), fresh + 1, "evicted");
        drop(take_tail(1 << 20));
        assert_eq!(fresh_allocations(), fresh + 1, "kept");
    }
}

//! Per-object read/write locks on the owner core.
//!
//! Every operation on an object runs on the core that owns its erasure set, so a core-local lock
//! table is enough on one node. Readers (GET, HEAD, copy source) share; writers (the commit of a
//! PUT, DELETE, CompleteMultipartUpload) exclude. Besides ordering commits, this is what keeps
//! glommio 0.9's `DmaFile::open` from racing an unlink of the same path (GLOMMIO.md pitfall #3):
//! a GET opens shard files only under the read lock, and old data directories are removed only
//! under the write lock.
//!
//! A lock is a semaphore of [`WRITER_UNITS`] units: a reader takes one, a writer takes all of
//! them. glommio queues a new request behind any waiter, but when units come back it wakes
//! every queued request that fits, so readers queued behind a waiting writer may go first while
//! other readers still hold the lock. Read holds are short (see below), so a writer waits for
//! little. Entries leave the table when the last guard drops.
//!
//! Every wait is bounded ([`LOCK_WAIT_DEFAULT`], `MINNOW_LOCK_TIMEOUT`): a lock not granted in
//! time is a [`LockTimeout`], which the S3 layer answers with 503 SlowDown, never a hang. Holders
//! keep locks for metadata work only (a GET releases its read lock once its shard files are
//! open), so a wait that long means something is stuck.
//!
//! Waits may be cancelled (the stall guard drops a stuck request), and glommio 0.9's semaphore
//! does not survive that on its own: a release wakes the waiters the freed units cover and takes
//! them off the queue, so one that is dropped after its wake but before it runs leaves the units
//! free and the waiters behind it asleep until some later release. [`acquire_cancel_safe`]
//! passes such a wake on; every semaphore wait in the server goes through it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::Duration;

use glommio::sync::{Semaphore, StaticPermit};
use glommio::GlommioError;

/// Units a writer takes: more than readers can ever hold at once on one core.
const WRITER_UNITS: u64 = 1 << 32;

/// How long a lock request waits by default before it gives up.
pub const LOCK_WAIT_DEFAULT: Duration = Duration::from_secs(30);

/// The lock table of one core.
pub struct NamespaceLock {
    locks: Rc<RefCell<HashMap<String, Rc<Semaphore>>>>,
    wait: Duration,
}

impl Default for NamespaceLock {
    fn default() -> Self {
        NamespaceLock::new(LOCK_WAIT_DEFAULT)
    }
}

/// A lock that was not granted within the table's wait bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{mode} lock on {name} not granted within {waited:?}")]
pub struct LockTimeout {
    /// The locked name (`bucket/key`).
    pub name: String,
    /// "read" or "write".
    pub mode: &'static str,
    /// How long the request waited.
    pub waited: Duration,
}

/// A held lock; released on drop.
pub struct LockGuard {
    table: Weak<RefCell<HashMap<String, Rc<Semaphore>>>>,
    name: String,
    permit: Option<StaticPermit>,
    semaphore: Rc<Semaphore>,
}

impl NamespaceLock {
    /// A table whose lock requests wait at most `wait`.
    pub fn new(wait: Duration) -> Self {
        NamespaceLock {
            locks: Rc::default(),
            wait,
        }
    }

    fn entry(&self, name: &str) -> Rc<Semaphore> {
        self.locks
            .borrow_mut()
            .entry(name.to_string())
            .or_insert_with(|| Rc::new(Semaphore::new(WRITER_UNITS)))
            .clone()
    }

    async fn acquire(&self, name: &str, units: u64) -> Result<LockGuard, LockTimeout> {
        let semaphore = self.entry(name);
        match acquire_within(&semaphore, units, self.wait).await {
            Some(permit) => Ok(LockGuard {
                table: Rc::downgrade(&self.locks),
                name: name.to_string(),
                permit: Some(permit),
                semaphore,
            }),
            None => {
                remove_if_unused(&self.locks, name, &semaphore, 1);
                // Logged once, where the request fails (api/error.rs).
                Err(LockTimeout {
                    name: name.to_string(),
                    mode: if units == 1 { "read" } else { "write" },
                    waited: self.wait,
                })
            }
        }
    }

    /// Shared lock on `name`.
    pub async fn read(&self, name: &str) -> Result<LockGuard, LockTimeout> {
        self.acquire(name, 1).await
    }

    /// Exclusive lock on `name`.
    pub async fn write(&self, name: &str) -> Result<LockGuard, LockTimeout> {
        self.acquire(name, WRITER_UNITS).await
    }

    /// How long a lock request waits at most.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Entries currently in the table.
    pub fn len(&self) -> usize {
        self.locks.borrow().len()
    }

    /// True when no lock is held or awaited.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `semaphore.acquire_static_permit(units)`, except that a wait dropped before it completes
/// wakes the waiters the free units now cover (module header: glommio would leave them asleep).
pub async fn acquire_cancel_safe(
    semaphore: &Rc<Semaphore>,
    units: u64,
) -> Result<StaticPermit, GlommioError<()>> {
    struct PassOnIfDropped<'a>(Option<&'a Semaphore>);
    impl Drop for PassOnIfDropped<'_> {
        fn drop(&mut self) {
            if let Some(semaphore) = self.0 {
                // Adds nothing; wakes whoever fits in what is free now.
                semaphore.signal(0);
            }
        }
    }
    let mut waiting = PassOnIfDropped(Some(semaphore));
    let permit = semaphore.acquire_static_permit(units).await;
    waiting.0 = None;
    permit
}

/// `units` of `semaphore`, waiting at most `wait`; None when not granted in time (or the
/// semaphore was closed, which minnow's never are).
pub async fn acquire_within(
    semaphore: &Rc<Semaphore>,
    units: u64,
    wait: Duration,
) -> Option<StaticPermit> {
    // A wait that times out is dropped, and `acquire_cancel_safe` wakes whoever its free units
    // (or its place in the queue) now let through.
    glommio::timer::timeout(wait, async {
        Ok(acquire_cancel_safe(semaphore, units).await.ok())
    })
    .await
    .ok()
    .flatten()
}

/// Drop the table entry of `name` when nothing but the table and `mine` (the caller's
/// `references` to it) holds or awaits it.
fn remove_if_unused(
    table: &RefCell<HashMap<String, Rc<Semaphore>>>,
    name: &str,
    mine: &Rc<Semaphore>,
    references: usize,
) {
    if Rc::strong_count(mine) == 1 + references {
        table.borrow_mut().remove(name);
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        drop(self.permit.take());
        if let Some(table) = self.table.upgrade() {
            remove_if_unused(&table, &self.name, &self.semaphore, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glommio::LocalExecutorBuilder;

    #[test]
    fn readers_share_writers_exclude_and_table_empties() {
        LocalExecutorBuilder::default()
            .io_memory(256 << 10)
            .spawn(|| async {
                let table = Rc::new(NamespaceLock::default());
                let r1 = table.read("b/k").await.unwrap();
                let r2 = table.read("b/k").await.unwrap();
                assert_eq!(table.len(), 1);
                let order = Rc::new(RefCell::new(Vec::new()));
                let (t, o) = (table.clone(), order.clone());
                let writer = glommio::spawn_local(async move {
                    let _w = t.write("b/k").await.unwrap();
                    o.borrow_mut().push("write");
                });
                glommio::timer::sleep(std::time::Duration::from_millis(5)).await;
                order.borrow_mut().push("readers done");
                drop(r1);
                drop(r2);
                writer.await;
                assert_eq!(*order.borrow(), vec!["readers done", "write"]);
                assert!(table.is_empty());
                let _other = table.write("b/other").await.unwrap();
                assert_eq!(table.len(), 1);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_writer_dropped_after_its_wake_passes_the_lock_on() {
        LocalExecutorBuilder::default()
            .io_memory(256 << 10)
            .spawn(|| async {
                let table = Rc::new(NamespaceLock::default());
                let reader = table.read("b/k").await;
                let mut first = Box::pin(table.write("b/k"));
                assert!(futures::poll!(&mut first).is_pending());
                let t = table.clone();
                let second = glommio::spawn_local(async move {
                    let _w = t.write("b/k").await;
                });
                glommio::timer::sleep(std::time::Duration::from_millis(5)).await; // queued
                drop(reader); // wakes `first` ...
                drop(first); // ... which is cancelled before it runs
                let got = glommio::timer::timeout(std::time::Duration::from_secs(5), async {
                    second.await;
                    Ok(())
                })
                .await;
                assert!(got.is_ok(), "the second writer was never woken");
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_wait_that_cannot_be_granted_in_time_times_out() {
        LocalExecutorBuilder::default()
            .io_memory(256 << 10)
            .spawn(|| async {
                let wait = Duration::from_millis(200);
                let table = Rc::new(NamespaceLock::new(wait));
                let reader = table.read("b/k").await.unwrap();
                let err = table
                    .write("b/k")
                    .await
                    .err()
                    .expect("writer must time out");
                assert_eq!(err.name, "b/k");
                assert_eq!(err.mode, "write");
                assert_eq!(err.waited, wait);
                let writer = table.write("b/k").await.err().expect("still held");
                assert_eq!(writer.mode, "write");
                // A writer waiting blocks later readers, and they wait behind it; when it gives
                // up, the reader queued behind it goes ahead at once (the first reader still
                // holds its lock).
                let t = table.clone();
                let queued_writer =
                    glommio::spawn_local(async move { t.write("b/k").await.is_err() });
                glommio::timer::sleep(wait / 2).await;
                let t = table.clone();
                let queued_reader =
                    glommio::spawn_local(async move { t.read("b/k").await.map(drop).is_ok() });
                assert!(
                    queued_writer.await,
                    "the writer cannot get past the held reader"
                );
                assert!(queued_reader.await, "the reader behind it was not woken");
                drop(reader);
                assert!(table.is_empty(), "timed-out waiters leave no entry behind");
                let _w = table.write("b/k").await.unwrap();
                let err = table.read("b/k").await.err().expect("reader must time out");
                assert_eq!(err.mode, "read");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}

//! Per-object read/write locks on the owner core.
//!
//! Every operation on an object runs on the core that owns its erasure set, so a core-local lock
//! table is enough on one node. Readers (GET, HEAD, copy source) share; writers (the commit of a
//! PUT, DELETE, CompleteMultipartUpload) exclude. Besides ordering commits, this is what keeps
//! glommio 0.9's `DmaFile::open` from racing an unlink of the same path (GLOMMIO.md pitfall #3):
//! a GET opens shard files only under the read lock, and old data directories are removed only
//! under the write lock.
//!
//! A lock is a FIFO semaphore of [`WRITER_UNITS`] units: a reader takes one, a writer takes all of
//! them. glommio serves waiters in order, so a waiting writer is not starved by later readers.
//! Entries leave the table when the last guard drops.
//!
//! Waits may be cancelled (the stall guard drops a stuck request), and glommio 0.9's semaphore
//! does not survive that on its own: a release wakes the waiters the freed units cover and takes
//! them off the queue, so one that is dropped after its wake but before it runs leaves the units
//! free and the waiters behind it asleep until some later release. [`acquire_cancel_safe`]
//! passes such a wake on; every semaphore wait in the server goes through it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use glommio::sync::{Semaphore, StaticPermit};
use glommio::GlommioError;

/// Units a writer takes: more than readers can ever hold at once on one core.
const WRITER_UNITS: u64 = 1 << 32;

/// The lock table of one core.
#[derive(Default)]
pub struct NamespaceLock {
    locks: Rc<RefCell<HashMap<String, Rc<Semaphore>>>>,
}

/// A held lock; released on drop.
pub struct LockGuard {
    table: Weak<RefCell<HashMap<String, Rc<Semaphore>>>>,
    name: String,
    permit: Option<StaticPermit>,
    semaphore: Rc<Semaphore>,
}

impl NamespaceLock {
    fn entry(&self, name: &str) -> Rc<Semaphore> {
        self.locks
            .borrow_mut()
            .entry(name.to_string())
            .or_insert_with(|| Rc::new(Semaphore::new(WRITER_UNITS)))
            .clone()
    }

    async fn acquire(&self, name: &str, units: u64) -> LockGuard {
        let semaphore = self.entry(name);
        // A semaphore is only closed explicitly, which this table never does.
        let permit = acquire_cancel_safe(&semaphore, units).await.ok();
        LockGuard {
            table: Rc::downgrade(&self.locks),
            name: name.to_string(),
            permit,
            semaphore,
        }
    }

    /// Shared lock on `name`.
    pub async fn read(&self, name: &str) -> LockGuard {
        self.acquire(name, 1).await
    }

    /// Exclusive lock on `name`.
    pub async fn write(&self, name: &str) -> LockGuard {
        self.acquire(name, WRITER_UNITS).await
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

impl Drop for LockGuard {
    fn drop(&mut self) {
        drop(self.permit.take());
        if let Some(table) = self.table.upgrade() {
            let mut locks = table.borrow_mut();
            // Table entry + this guard = 2 strong counts: nobody else holds or waits.
            if Rc::strong_count(&self.semaphore) == 2 {
                locks.remove(&self.name);
            }
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
                let r1 = table.read("b/k").await;
                let r2 = table.read("b/k").await;
                assert_eq!(table.len(), 1);
                let order = Rc::new(RefCell::new(Vec::new()));
                let (t, o) = (table.clone(), order.clone());
                let writer = glommio::spawn_local(async move {
                    let _w = t.write("b/k").await;
                    o.borrow_mut().push("write");
                });
                glommio::timer::sleep(std::time::Duration::from_millis(5)).await;
                order.borrow_mut().push("readers done");
                drop(r1);
                drop(r2);
                writer.await;
                assert_eq!(*order.borrow(), vec!["readers done", "write"]);
                assert!(table.is_empty());
                let _other = table.write("b/other").await;
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
}
